//! A customer's data, all of it, as one JSON document and a readable summary: what a shop
//! owes a customer who asks "what do you hold on me?". Built from the store's roles only, so
//! every backend exports the same. The customer and every chat linked into them are covered.

use std::fmt::Write as _;

use serde_json::{Value, json};

use flows::{CustomerId, Event, Inbound, InboundMessage, Timestamp};

use crate::render::Renderer;
use crate::store::{HistoryEntry, Store, StoreResult};

/// The most history entries read per linked chat; a customer's whole record fits far below.
const MAX_HISTORY: usize = 100_000;
/// The format's name and version, first in the document.
pub const FORMAT: &str = "souk-customer-export/1";

/// One customer's export.
pub struct Export {
    pub document: Value,
    pub summary: String,
}

/// Everything held on `customer` and the chats linked into them.
pub async fn export(
    store: &dyn Store,
    renderer: &Renderer,
    customer: &CustomerId,
    now: Timestamp,
) -> StoreResult<Export> {
    let record = store.customer(customer).await?;
    let conversation = store.conversation(customer).await?;
    let summary_row = store.summary(customer).await?;
    let merges = store.merged_into(customer).await?;
    let mut ids: Vec<CustomerId> = vec![customer.clone()];
    ids.extend(merges.iter().map(|m| m.from.id.clone()));

    let mut history: Vec<(CustomerId, HistoryEntry)> = Vec::new();
    for id in &ids {
        for entry in store.history(id, MAX_HISTORY).await? {
            history.push((id.clone(), entry));
        }
    }
    history.sort_by_key(|(_, entry)| entry.at());

    let orders: Vec<flows::Order> = store
        .orders()
        .await?
        .into_iter()
        .filter(|o| ids.contains(&o.customer))
        .collect();
    let bookings: Vec<flows::booking::Booking> = store
        .bookings()
        .await?
        .into_iter()
        .filter(|b| ids.contains(&b.customer))
        .collect();

    // What became of each reply: the platform ids it got and their delivery statuses.
    let mut deliveries = Vec::new();
    for (_, entry) in &history {
        let HistoryEntry::Out { outbox_id, .. } = entry else {
            continue;
        };
        for sent in store.sent_for(*outbox_id).await? {
            let statuses = store.deliveries(sent.channel, &sent.platform_id).await?;
            deliveries.push(json!({
                "outbox_id": outbox_id,
                "channel": sent.channel.name(),
                "platform_id": sent.platform_id,
                "sent_at": sent.at.millis(),
                "statuses": statuses,
            }));
        }
    }

    let timeline: Vec<Value> = history
        .iter()
        .map(|(id, entry)| timeline_item(renderer, id, entry))
        .collect();
    let notes: Vec<Value> = history
        .iter()
        .filter_map(|(_, entry)| match entry {
            HistoryEntry::Note { at, operator, text } => {
                Some(json!({ "at": at.millis(), "operator": operator, "text": text }))
            }
            _ => None,
        })
        .collect();
    let consent = conversation.as_ref().map(|c| {
        json!({
            "cart_reminders": {
                "answer": c.recovery.consent,
                "stopped": c.recovery.opted_out,
            },
            "marketing": c.consents.current(flows::consent::Purpose::Marketing),
            // Every question asked (message, language, wording version, channel) and answer.
            "records": c.consents,
        })
    });
    let discount_codes = conversation
        .as_ref()
        .map(|c| json!(c.recovery.codes))
        .unwrap_or(Value::Null);
    let linked: Vec<Value> = merges
        .iter()
        .map(|m| {
            json!({
                "customer": m.from.id,
                "display_name": m.from.display_name,
                "identities": m.from.identities,
                "linked_at": m.at.millis(),
            })
        })
        .collect();
    let document = json!({
        "format": FORMAT,
        "exported_at": now.millis(),
        "customer": customer,
        "reference": crate::console::reference(customer),
        "record": record,
        "linked_chats": linked,
        "profile": conversation.as_ref().map(|c| json!({
            "name": c.profile.name,
            "contact": c.profile.contact,
            "address": c.profile.address,
            "time_zone": c.profile.time_zone,
            "language": c.locale.code(),
            "last_written_at": c.reach.last_inbound_at.map(Timestamp::millis),
            "last_channel": c.reach.last_channel.map(flows::Channel::name),
            "preferred_channel": c.reach.preferred_channel.map(flows::Channel::name),
            "came_from_ad": c.reach.ad_referral,
        })),
        "consent": consent,
        "cart": conversation.as_ref().map(|c| json!({
            "lines": c.cart.lines,
            "from_a_linked_chat": c.pending_cart,
        })),
        "orders": orders,
        "bookings": bookings,
        "discount_codes": discount_codes,
        "notes": notes,
        "history": timeline,
        "deliveries": deliveries,
        "console_summary": summary_row,
        // Everything the conversation keeps, as stored: nothing above leaves a field out.
        "conversation": conversation,
    });
    let summary = readable(&document);
    Ok(Export { document, summary })
}

fn timeline_item(renderer: &Renderer, chat: &CustomerId, entry: &HistoryEntry) -> Value {
    match entry {
        HistoryEntry::In {
            at,
            channel,
            public_id,
            event,
        } => json!({
            "at": at.millis(), "chat": chat, "from": "customer", "channel": channel.name(),
            "platform_id": public_id, "text": said(event), "event": event,
        }),
        HistoryEntry::Out {
            at,
            outbox_id,
            channel,
            locale,
            reply,
        } => json!({
            "at": at.millis(), "chat": chat,
            "from": if reply.by_operator { "operator" } else { "shop" },
            "operator": reply.operator, "channel": channel.name(), "outbox_id": outbox_id,
            "text": renderer.text(*locale, &reply.text),
        }),
        HistoryEntry::Held { at, locale, reply } => json!({
            "at": at.millis(), "chat": chat, "from": "shop (not sent: an operator had the chat)",
            "text": renderer.text(*locale, &reply.text),
        }),
        HistoryEntry::Operator { at, event } => json!({
            "at": at.millis(), "chat": chat, "from": "operator", "event": event,
        }),
        HistoryEntry::Note { at, operator, text } => json!({
            "at": at.millis(), "chat": chat, "from": "note", "operator": operator, "text": text,
        }),
        HistoryEntry::Handoff { at, reason } => json!({
            "at": at.millis(), "chat": chat, "from": "shop", "handoff": reason,
        }),
        HistoryEntry::Reading { at, by_model } => json!({
            "at": at.millis(), "chat": chat, "from": "shop", "read_by_language_model": by_model,
        }),
    }
}

/// What a customer's event said, in words.
fn said(event: &Event) -> String {
    match event {
        Event::Inbound(Inbound { message, .. }) => match message {
            InboundMessage::Text(text) => text.clone(),
            InboundMessage::Action(id) => format!("[pressed {id}]"),
            other => format!("[{}]", serde_json::to_string(other).unwrap_or_default()),
        },
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}

/// The document as a person reads it: plain text, section by section.
fn readable(document: &Value) -> String {
    let mut out = String::new();
    let text = |v: &Value| match v {
        Value::String(s) => s.clone(),
        Value::Null => "—".to_owned(),
        other => other.to_string(),
    };
    let _ = writeln!(
        out,
        "Your data at this shop (reference {})",
        text(&document["reference"])
    );
    let _ = writeln!(out, "\nProfile");
    for key in ["name", "contact", "address", "time_zone", "language"] {
        let _ = writeln!(out, "  {key}: {}", text(&document["profile"][key]));
    }
    let _ = writeln!(out, "\nHow you write to us");
    for identity in document["record"]["identities"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let _ = writeln!(
            out,
            "  {}: {}",
            text(&identity["channel"]),
            text(&identity["external_id"])
        );
    }
    for chat in document["linked_chats"].as_array().into_iter().flatten() {
        for identity in chat["identities"].as_array().into_iter().flatten() {
            let _ = writeln!(
                out,
                "  {}: {} (linked)",
                text(&identity["channel"]),
                text(&identity["external_id"])
            );
        }
    }
    let _ = writeln!(out, "\nConsent");
    let _ = writeln!(
        out,
        "  cart reminders: {}",
        text(&document["consent"]["cart_reminders"])
    );
    let _ = writeln!(out, "\nOrders");
    for order in document["orders"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "  {}: {} ({} lines), {}",
            text(&order["id"]),
            text(&order["status"]),
            order["lines"].as_array().map_or(0, Vec::len),
            text(&order["total"])
        );
    }
    let _ = writeln!(out, "\nAppointments");
    for booking in document["bookings"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "  {}: {} with {}, {}",
            text(&booking["id"]),
            text(&booking["service"]),
            text(&booking["staff"]),
            text(&booking["status"])
        );
    }
    let _ = writeln!(out, "\nMessages");
    for item in document["history"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "  [{}] {}: {}",
            text(&item["at"]),
            text(&item["from"]),
            text(&item["text"])
        );
    }
    out
}
