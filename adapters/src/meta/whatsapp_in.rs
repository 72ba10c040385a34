//! WhatsApp Cloud API webhooks: `entry[].changes[].value` with `contacts`, `messages`,
//! `statuses` and `errors`. Parsing is lenient: a field we do not know is ignored, a message
//! type we do not handle becomes `Unknown`, never an error.

use serde_json::Value;

use flows::{AdReferral, CatalogItem, InboundContext, InboundMessage, MediaKind};

use super::inbound::{
    CustomerMessage, DeliveryState, MetaEvent, StatusUpdate, WebhookBatch, array, owned,
    seconds_string_to_ms, str_of,
};

/// A missing object reads as null, borrowed: cloning a subtree only to read it cost an
/// allocation per field on every webhook.
static NULL: Value = Value::Null;

/// Parses a body whose signature was already checked. `Err` only when it is not JSON.
pub fn parse(body: &[u8]) -> Result<WebhookBatch, serde_json::Error> {
    let root: Value = serde_json::from_slice(body)?;
    let mut batch = WebhookBatch::default();
    let entries = array(&root, "entry");
    for entry in entries {
        let changes = array(entry, "changes");
        for change in changes {
            let field = str_of(change, "field").unwrap_or_default();
            let value = change.get("value").unwrap_or(&NULL);
            match field {
                "messages" => parse_value(value, &mut batch),
                "smb_message_echoes" => {
                    for echo in array(value, "message_echoes") {
                        batch.events.push(MetaEvent::Echo {
                            mid: owned(echo, "id").unwrap_or_default(),
                        });
                    }
                }
                other => batch.events.push(MetaEvent::Unknown {
                    kind: format!("field:{other}"),
                }),
            }
        }
    }
    Ok(batch)
}

fn parse_value(value: &Value, batch: &mut WebhookBatch) {
    let names: Vec<(String, String)> = array(value, "contacts")
        .iter()
        .filter_map(|c| {
            let id = owned(c, "wa_id")?;
            let name = c.get("profile").and_then(|p| owned(p, "name"))?;
            Some((id, name))
        })
        .collect();
    for message in array(value, "messages") {
        batch.events.push(parse_message(message, &names));
    }
    for status in array(value, "statuses") {
        if let Some(event) = parse_status(status) {
            batch.events.push(event);
        }
    }
    if !array(value, "errors").is_empty() {
        batch.events.push(MetaEvent::Unknown {
            kind: "errors".into(),
        });
    }
}

fn media(message: &Value, kind: MediaKind, key: &str) -> InboundMessage {
    let body = message.get(key).unwrap_or(&NULL);
    InboundMessage::Media {
        kind,
        caption: owned(body, "caption"),
        media_id: owned(body, "id"),
        mime: owned(body, "mime_type"),
    }
}

fn referral(message: &Value) -> Option<AdReferral> {
    let referral = message.get("referral")?;
    Some(AdReferral {
        source_type: owned(referral, "source_type").unwrap_or_else(|| "ad".into()),
        source_id: owned(referral, "source_id"),
        source_url: owned(referral, "source_url"),
        headline: owned(referral, "headline"),
        click_id: owned(referral, "ctwa_clid"),
    })
}

fn parse_message(message: &Value, names: &[(String, String)]) -> MetaEvent {
    let sender = owned(message, "from").unwrap_or_default();
    let id = owned(message, "id").unwrap_or_default();
    if id.is_empty() {
        // Without a wamid it cannot be deduplicated; better counted than answered twice.
        return MetaEvent::Unknown {
            kind: "message:no-id".into(),
        };
    }
    let kind = str_of(message, "type").unwrap_or_default();
    let context = message.get("context");
    let inbound = match kind {
        "text" => message
            .get("text")
            .and_then(|t| owned(t, "body"))
            .map(InboundMessage::Text),
        "interactive" => {
            let interactive = message.get("interactive").unwrap_or(&NULL);
            match str_of(interactive, "type") {
                Some("button_reply") => {
                    interactive.get("button_reply").and_then(|b| owned(b, "id"))
                }
                Some("list_reply") => interactive.get("list_reply").and_then(|l| owned(l, "id")),
                _ => None,
            }
            .map(InboundMessage::Action)
        }
        "button" => message
            .get("button")
            .and_then(|b| owned(b, "payload").or_else(|| owned(b, "text")))
            .map(InboundMessage::Action),
        "order" => Some(InboundMessage::CatalogOrder {
            items: message
                .get("order")
                .map(|o| array(o, "product_items"))
                .unwrap_or_default()
                .iter()
                .filter_map(|item| {
                    Some(CatalogItem {
                        retailer_id: owned(item, "product_retailer_id")?,
                        quantity: item
                            .get("quantity")
                            .and_then(|q| q.as_u64().or_else(|| q.as_str()?.parse().ok()))
                            .and_then(|q| u32::try_from(q).ok())
                            .unwrap_or(1),
                    })
                })
                .collect(),
        }),
        "location" => message.get("location").and_then(|l| {
            InboundMessage::location(
                l.get("latitude").and_then(Value::as_f64)?,
                l.get("longitude").and_then(Value::as_f64)?,
            )
        }),
        "contacts" => array(message, "contacts")
            .first()
            .map(|c| InboundMessage::Contact {
                phone: array(c, "phones").first().and_then(|p| owned(p, "phone")),
                name: c.get("name").and_then(|n| owned(n, "formatted_name")),
            }),
        "image" => Some(media(message, MediaKind::Image, "image")),
        "audio" => Some(media(message, MediaKind::Audio, "audio")),
        "video" => Some(media(message, MediaKind::Video, "video")),
        "document" => Some(media(message, MediaKind::Document, "document")),
        "sticker" => Some(media(message, MediaKind::Sticker, "sticker")),
        "reaction" => message.get("reaction").map(|r| InboundMessage::Reaction {
            message_id: owned(r, "message_id").unwrap_or_default(),
            emoji: owned(r, "emoji").filter(|e| !e.is_empty()),
        }),
        "revoke" | "revoked" => Some(InboundMessage::Unsend {
            message_id: message
                .get(kind)
                .and_then(|r| owned(r, "original_message_id"))
                .unwrap_or_else(|| id.clone()),
        }),
        "system" => {
            let system = message.get("system").unwrap_or(&NULL);
            // `wa_id` is the new number; `customer` names the old one, so it is not a fallback.
            let new_id = owned(system, "wa_id").filter(|new| *new != sender);
            return match new_id {
                Some(new_id) if !sender.is_empty() => MetaEvent::IdentityChange {
                    old_id: sender,
                    new_id,
                },
                // A security-code change (`customer_identity_changed`) keeps the number.
                _ => MetaEvent::Unknown {
                    kind: format!("system:{}", str_of(system, "type").unwrap_or_default()),
                },
            };
        }
        _ => None,
    };
    let Some(inbound) = inbound else {
        return MetaEvent::Unknown {
            kind: format!("message:{kind}"),
        };
    };
    MetaEvent::Message(CustomerMessage {
        dedup_key: format!("wa:{id}"),
        name: names
            .iter()
            .find(|(wa_id, _)| *wa_id == sender)
            .map(|(_, n)| n.clone()),
        sender,
        timestamp_ms: message.get("timestamp").map_or(0, seconds_string_to_ms),
        message: inbound,
        context: InboundContext {
            reply_to: context.and_then(|c| owned(c, "id")),
            referred_product: context
                .and_then(|c| c.get("referred_product"))
                .and_then(|p| owned(p, "product_retailer_id")),
            referral: referral(message),
            story: None,
            // Filled in by the shell from `timestamp_ms`, which it also checks against its clock.
            sent_at: None,
            own_phone: None,
            time_zone: None,
            cut_from_chars: None,
        },
    })
}

fn parse_status(status: &Value) -> Option<MetaEvent> {
    let id = owned(status, "id")?;
    let state = match str_of(status, "status")? {
        "sent" => DeliveryState::Sent,
        "delivered" => DeliveryState::Delivered,
        "read" => DeliveryState::Read,
        "played" => DeliveryState::Played,
        "failed" => DeliveryState::Failed,
        other => {
            return Some(MetaEvent::Unknown {
                kind: format!("status:{other}"),
            });
        }
    };
    let error = array(status, "errors").first().map(|e| {
        (
            e.get("code").and_then(Value::as_i64).unwrap_or_default(),
            owned(e, "title")
                .or_else(|| owned(e, "message"))
                .unwrap_or_default(),
        )
    });
    Some(MetaEvent::Status(StatusUpdate {
        dedup_key: format!("wa-status:{id}:{}", state.name()),
        message_id: id,
        recipient: owned(status, "recipient_id").unwrap_or_default(),
        state,
        timestamp_ms: status.get("timestamp").map_or(0, seconds_string_to_ms),
        error,
    }))
}
