//! History records as the console shows them: plain text (the page inserts it as text,
//! never as HTML), who said it, and for the bot's replies the labels the customer saw.

use adapters::rendered::RenderedReply;
use flows::{Event, InboundMessage, MediaKind};
use serde_json::{Value, json};

use crate::http::AppState;
use crate::store::HistoryEntry;

/// Who wrote a record and its text, for list previews.
pub fn preview(state: &AppState, entry: &HistoryEntry) -> Value {
    let (at, from, text) = match entry {
        HistoryEntry::In { at, event, .. } => (*at, "customer".to_owned(), inbound_text(event)),
        HistoryEntry::Out {
            at, locale, reply, ..
        } => {
            let from = if reply.by_operator { "operator" } else { "bot" };
            (
                *at,
                from.to_owned(),
                state.renderer.reply(*locale, reply).text,
            )
        }
        HistoryEntry::Held { at, locale, reply } => (
            *at,
            "bot".to_owned(),
            format!("(held) {}", state.renderer.reply(*locale, reply).text),
        ),
        HistoryEntry::Operator { at, event } => {
            (*at, "operator".to_owned(), operator_action(event))
        }
        HistoryEntry::Note { at, operator, text } => {
            (*at, operator.0.clone(), format!("(note) {text}"))
        }
    };
    json!({ "at": at.millis(), "from": from, "text": text })
}

/// What a customer's message says, in words: text as written, other kinds named.
pub fn inbound_text(event: &Event) -> String {
    let Event::Inbound(inbound) = event else {
        return String::new();
    };
    let described = describe_message(&inbound.message);
    match inbound.context.cut_from_chars {
        Some(had) => format!("{described} [cut: the message had {had} characters]"),
        None => described,
    }
}

fn describe_message(message: &InboundMessage) -> String {
    match message {
        InboundMessage::Text(text) => text.clone(),
        InboundMessage::Action(id) => format!("[pressed {id}]"),
        InboundMessage::Location {
            latitude,
            longitude,
        } => format!("[location {latitude:.5}, {longitude:.5}]"),
        InboundMessage::Contact { phone, name } => format!(
            "[contact {} {}]",
            name.as_deref().unwrap_or(""),
            phone.as_deref().unwrap_or("")
        ),
        InboundMessage::Media { kind, caption, .. } => match caption {
            Some(caption) => format!("[{}] {caption}", media_name(*kind)),
            None => format!("[{}]", media_name(*kind)),
        },
        InboundMessage::CatalogOrder { items } => {
            let lines: Vec<String> = items
                .iter()
                .map(|item| format!("{} × {}", item.quantity, item.retailer_id))
                .collect();
            format!("[order from the catalog: {}]", lines.join(", "))
        }
        InboundMessage::Reaction { emoji, .. } => {
            format!("[reaction {}]", emoji.as_deref().unwrap_or("removed"))
        }
        InboundMessage::Unsend { .. } => "[deleted a message]".to_owned(),
    }
}

pub fn media_name(kind: MediaKind) -> &'static str {
    match kind {
        MediaKind::Image => "image",
        MediaKind::Audio => "audio",
        MediaKind::Video => "video",
        MediaKind::Document => "document",
        MediaKind::Sticker => "sticker",
        MediaKind::StoryMention => "story mention",
        MediaKind::Share => "shared post",
    }
}

pub fn operator_action(event: &Event) -> String {
    match event {
        Event::OperatorTookOver { operator, .. } => format!("{operator} took over"),
        Event::OperatorReassigned { from, to, .. } => format!("{from} assigned it to {to}"),
        Event::OperatorHandedBack {
            operator,
            resolved: true,
        } => format!("{operator} marked it resolved"),
        Event::OperatorHandedBack { operator, .. } => format!("{operator} handed back to the bot"),
        _ => String::new(),
    }
}

/// A bot or operator reply: its text, the buttons' labels and the cards.
pub fn reply_parts(rendered: &RenderedReply) -> (Vec<String>, Vec<Value>) {
    let choices = rendered.choices.iter().map(|c| c.label.clone()).collect();
    let cards = rendered
        .cards
        .iter()
        .map(|card| {
            json!({
                "title": card.title,
                "subtitle": if card.subtitle.is_empty() { card.price.clone() } else { format!("{} · {}", card.subtitle, card.price) },
                "image": card.image,
            })
        })
        .collect();
    (choices, cards)
}
