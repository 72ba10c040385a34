//! History records as the console shows them: plain text (the page inserts it as text,
//! never as HTML), who said it, and for the bot's replies the labels the customer saw.

use adapters::rendered::RenderedReply;
use flows::{Event, InboundMessage, MediaKind};
use serde_json::{Value, json};

use super::ConsoleState;
use crate::store::HistoryEntry;

/// Operators' display names by login name: every place the console names staff ("took
/// over", replies, notes) uses the one name the operator is known by, as customers hear it.
pub struct StaffNames(std::collections::HashMap<String, String>);

impl StaffNames {
    pub async fn load(
        store: &dyn crate::store::Store,
    ) -> Result<StaffNames, crate::store::StoreError> {
        Ok(StaffNames(
            store
                .operators()
                .await?
                .iter()
                .map(|op| (op.name.clone(), super::shown_name(op)))
                .collect(),
        ))
    }

    /// The display name of an operator (their login name if they were removed since).
    pub fn of(&self, operator: &flows::OperatorId) -> String {
        self.0
            .get(&operator.0)
            .cloned()
            .unwrap_or_else(|| operator.0.clone())
    }
}

/// Who wrote a record and its text, for list previews.
pub fn preview(state: &ConsoleState, entry: &HistoryEntry, names: &StaffNames) -> Value {
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
            (*at, "operator".to_owned(), operator_action(event, names))
        }
        HistoryEntry::Note { at, operator, text } => {
            (*at, names.of(operator), format!("(note) {text}"))
        }
        HistoryEntry::Handoff { at, reason } => (*at, "bot".to_owned(), handoff_reason(*reason)),
        HistoryEntry::Reading { at, by_model } => (*at, "bot".to_owned(), reading(*by_model)),
    };
    json!({ "at": at.millis(), "from": from, "text": text })
}

/// Why a person was asked for, in the team's words.
pub fn handoff_reason(reason: flows::HandoffReason) -> String {
    use flows::HandoffReason::*;
    let why = match reason {
        HumanRequested => "the customer asked for a person",
        Oversold => "a payment came for units already sold",
        PaidAfterCancel => "a payment came for a cancelled order",
        MissedTwice => "the bot did not understand twice",
        PaymentFailedTwice => "a payment failed twice",
        UnansweredQuestion => "a question the bot could not answer",
    };
    format!("A person was asked for: {why}")
}

/// How a message the rules could not place was settled.
pub fn reading(by_model: bool) -> String {
    if by_model {
        "The language model read the message".to_owned()
    } else {
        "The language model gave no reading; the rules answered".to_owned()
    }
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

pub fn operator_action(event: &Event, names: &StaffNames) -> String {
    match event {
        Event::OperatorTookOver { operator, .. } => format!("{} took over", names.of(operator)),
        Event::OperatorReassigned { from, to, .. } => {
            format!("{} assigned it to {}", names.of(from), names.of(to))
        }
        Event::OperatorHandedBack {
            operator,
            resolved: true,
        } => format!("{} marked it resolved", names.of(operator)),
        Event::OperatorHandedBack { operator, .. } => {
            format!("{} handed back to the bot", names.of(operator))
        }
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

/// What the rules understood, in words for the operator ("search: red dress, colour red,
/// under 300,00 lei"), not the intent's JSON.
pub fn intent_in_words(
    intent: &flows::Intent,
    catalog: &flows::Catalog,
    locale: flows::Locale,
) -> String {
    use flows::Intent;
    let product = |id: &flows::ProductId| {
        catalog
            .product(id)
            .map_or_else(|| id.0.clone(), |p| p.name.get(locale).to_owned())
    };
    let category = |id: &flows::CategoryId| {
        catalog
            .category(id)
            .map_or_else(|| id.0.clone(), |c| c.name.get(locale).to_owned())
    };
    let money = |minor: i64| crate::render::format_money(catalog.money(minor), locale);
    match intent {
        Intent::Menu => "menu".into(),
        Intent::Help => "help".into(),
        Intent::Human => "asks for a person".into(),
        Intent::Cart => "show the cart".into(),
        Intent::ClearCart => "empty the cart".into(),
        Intent::Checkout => "check out".into(),
        Intent::Orders => "where is my order".into(),
        Intent::Cancel => "cancel".into(),
        Intent::Back => "back".into(),
        Intent::Browse => "browse the catalog".into(),
        Intent::Language => "choose a language".into(),
        Intent::SetLanguage(to) => format!("switch to {}", to.native_name()),
        Intent::Greeting => "greeting".into(),
        Intent::Thanks => "thanks".into(),
        Intent::Yes => "yes".into(),
        Intent::No => "no".into(),
        Intent::Number(n) => format!("the number {n}"),
        Intent::Products(ids) => {
            let names: Vec<String> = ids.iter().take(5).map(product).collect();
            format!("products: {}", names.join(", "))
        }
        Intent::Search(query) => {
            let mut parts: Vec<String> = Vec::new();
            if !query.words.is_empty() {
                parts.push(query.words.join(" "));
            }
            if let Some(id) = &query.category {
                parts.push(format!("in {}", category(id)));
            }
            if !query.colours.is_empty() {
                parts.push(format!("colour {}", query.colours.join(" or ")));
            }
            if !query.sizes.is_empty() {
                parts.push(format!("size {}", query.sizes.join(" or ")));
            }
            match (query.price.min_minor, query.price.max_minor) {
                (Some(min), Some(max)) => parts.push(format!("{} to {}", money(min), money(max))),
                (Some(min), None) => parts.push(format!("over {}", money(min))),
                (None, Some(max)) => parts.push(format!("under {}", money(max))),
                (None, None) => {}
            }
            if let Some(currency) = &query.currency
                && *currency != catalog.currency().code()
            {
                parts.push(format!("priced in {currency} (not applied)"));
            }
            format!("search: {}", parts.join(", "))
        }
        Intent::Category(id) => format!("category: {}", category(id)),
        Intent::Link => "link my account".into(),
        Intent::StopReminders => "stop reminders".into(),
        Intent::LinkCode(code) => format!("link code {code}"),
        Intent::LinkPhone(phone) => format!("link to the chat of {phone}"),
        Intent::DiscountCode(code) => format!("discount code {code}"),
        Intent::Book => "book an appointment".into(),
        Intent::Bookings => "my appointments".into(),
        Intent::EraseData => "delete my data".into(),
        Intent::NotCarried(absent) => {
            format!("asks for {:?}, which the shop does not carry", absent.what)
        }
        Intent::Add {
            product: id,
            sku,
            quantity,
        } => {
            let mut said = format!("add {} to the cart", product(id));
            if let Some(sku) = sku {
                said.push_str(&format!(" ({sku})"));
            }
            if let Some(quantity) = quantity {
                said.push_str(&format!(" × {quantity}"));
            }
            said
        }
        Intent::BookAt { service, when } => {
            let mut said = "book an appointment".to_owned();
            if let Some(service) = service {
                said.push_str(&format!(" for {service}"));
            }
            if let Some(when) = when {
                said.push_str(&format!(" {when:?}"));
            }
            said
        }
        Intent::AskShop { question } => format!("asks the shop: {question:?}"),
        Intent::Unknown => "not understood".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn demo() -> flows::Catalog {
        let raw = std::fs::read_to_string(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/demo/catalog.json"),
        )
        .unwrap_or_default();
        let data: flows::catalog::CatalogData =
            serde_json::from_str(&raw).unwrap_or_else(|e| panic!("demo catalog: {e}"));
        flows::Catalog::new(data).unwrap_or_else(|e| panic!("demo catalog: {e}"))
    }

    #[test]
    fn a_search_reads_as_words() {
        let catalog = demo();
        let said = |text: &str| {
            intent_in_words(
                &flows::understand(text, &catalog),
                &catalog,
                flows::Locale::En,
            )
        };
        let search = said("red dress under 300");
        assert!(search.starts_with("search: "), "{search}");
        assert!(search.contains("colour red"), "{search}");
        assert!(search.contains("under "), "{search}");
        assert!(!search.contains('{'), "no JSON: {search}");
        assert_eq!(said("cart"), "show the cart");
        assert_eq!(said("asdfghjkl qwertz"), "not understood");
    }
}
