//! Messenger and Instagram webhooks: `entry[].messaging[]` (and `standby[]` when another app
//! owns the thread). The two products share the shape; Instagram adds story replies and
//! mentions, shares, and `read{mid}` instead of watermarks.

use serde_json::Value;

use flows::{AdReferral, InboundContext, InboundMessage, MediaKind};

use super::inbound::{
    CustomerMessage, DeliveryState, MetaEvent, StatusUpdate, WebhookBatch, array, owned, str_of,
};

/// Which product's ids to use in dedup keys (mids are unique per product).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Product {
    Messenger,
    Instagram,
}

impl Product {
    fn prefix(self) -> &'static str {
        match self {
            Product::Messenger => "fb",
            Product::Instagram => "ig",
        }
    }
}

pub fn parse(product: Product, body: &[u8]) -> Result<WebhookBatch, serde_json::Error> {
    let root: Value = serde_json::from_slice(body)?;
    let mut batch = WebhookBatch::default();
    let entries = array(&root, "entry");
    for entry in entries {
        let events = array(entry, "messaging");
        for event in events {
            batch.events.extend(parse_events(product, event));
        }
        // Another app (a human agent's inbox) owns these threads under the handover protocol:
        // the bot must not answer them, so they are acknowledged and counted only.
        let standby = entry
            .get("standby")
            .and_then(Value::as_array)
            .map_or(0, Vec::len);
        for _ in 0..standby {
            batch.events.push(MetaEvent::Unknown {
                kind: "standby".into(),
            });
        }
        if entry.get("changes").is_some() {
            batch.events.push(MetaEvent::Unknown {
                kind: "changes".into(),
            });
        }
    }
    Ok(batch)
}

/// Milliseconds as an integer, or an RFC 3339 string (seen in Instagram test payloads):
/// the latter is not worth a date parser here, so it counts as unknown (0).
fn timestamp_ms(event: &Value) -> i64 {
    event.get("timestamp").and_then(Value::as_i64).unwrap_or(0)
}

fn attachment(attachment: &Value) -> Option<InboundMessage> {
    let payload = attachment.get("payload").cloned().unwrap_or(Value::Null);
    let kind = match str_of(attachment, "type")? {
        "image" => MediaKind::Image,
        "video" | "reel" | "ig_reel" => MediaKind::Video,
        "audio" => MediaKind::Audio,
        "file" => MediaKind::Document,
        "story_mention" => MediaKind::StoryMention,
        "share" | "ig_post" => MediaKind::Share,
        "location" => {
            let coordinates = payload.get("coordinates")?;
            return InboundMessage::location(
                coordinates.get("lat").and_then(Value::as_f64)?,
                coordinates.get("long").and_then(Value::as_f64)?,
            );
        }
        _ => return None,
    };
    Some(InboundMessage::Media {
        kind,
        caption: owned(&payload, "title"),
        // Messenger gives a URL rather than a media id; the console downloads from it.
        media_id: owned(&payload, "url"),
        mime: None,
    })
}

fn referral(referral: &Value) -> AdReferral {
    AdReferral {
        source_type: owned(referral, "source").unwrap_or_else(|| "unknown".into()),
        source_id: owned(referral, "ad_id"),
        source_url: None,
        headline: None,
        click_id: owned(referral, "ref"),
    }
}

/// One webhook item is one event, except a delivery receipt naming several of our messages.
fn parse_events(product: Product, event: &Value) -> Vec<MetaEvent> {
    let mids: Vec<String> = event
        .get("delivery")
        .and_then(|d| d.get("mids"))
        .and_then(Value::as_array)
        .map(|mids| {
            mids.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    if mids.len() < 2 {
        return vec![parse_event(product, event)];
    }
    let sender = event
        .get("sender")
        .and_then(|s| owned(s, "id"))
        .unwrap_or_default();
    let watermark = event
        .get("delivery")
        .and_then(|d| d.get("watermark"))
        .and_then(Value::as_i64)
        .unwrap_or_else(|| timestamp_ms(event));
    mids.into_iter()
        .map(|mid| {
            let key = format!("{mid}:{watermark}");
            status(
                product.prefix(),
                mid,
                &key,
                &sender,
                DeliveryState::Delivered,
                watermark,
            )
        })
        .collect()
}

fn parse_event(product: Product, event: &Value) -> MetaEvent {
    let sender = event
        .get("sender")
        .and_then(|s| owned(s, "id"))
        .unwrap_or_default();
    let at = timestamp_ms(event);
    let prefix = product.prefix();
    let customer = |dedup_key: String, message: InboundMessage, context: InboundContext| {
        MetaEvent::Message(CustomerMessage {
            dedup_key,
            sender: sender.clone(),
            name: None,
            timestamp_ms: at,
            message,
            context,
        })
    };
    if let Some(message) = event.get("message") {
        let mid = owned(message, "mid").unwrap_or_default();
        if message.get("is_echo").and_then(Value::as_bool) == Some(true) {
            return MetaEvent::Echo { mid };
        }
        if mid.is_empty() {
            // Without an id it cannot be deduplicated; better counted than answered twice.
            return MetaEvent::Unknown {
                kind: "message:no-mid".into(),
            };
        }
        let reply_to = message.get("reply_to");
        let story = reply_to.and_then(|r| r.get("story"));
        let context = InboundContext {
            reply_to: reply_to.and_then(|r| owned(r, "mid")),
            story: story.and_then(|s| owned(s, "url").or_else(|| owned(s, "id"))),
            ..InboundContext::default()
        };
        let dedup = format!("{prefix}:{mid}");
        if message.get("is_deleted").and_then(Value::as_bool) == Some(true) {
            return customer(dedup, InboundMessage::Unsend { message_id: mid }, context);
        }
        if let Some(payload) = message.get("quick_reply").and_then(|q| owned(q, "payload")) {
            return customer(dedup, InboundMessage::Action(payload), context);
        }
        if let Some(text) = owned(message, "text") {
            return customer(dedup, InboundMessage::Text(text), context);
        }
        let attachments = message.get("attachments").and_then(Value::as_array);
        if let Some(inbound) = attachments.and_then(|a| a.first()).and_then(attachment) {
            return customer(dedup, inbound, context);
        }
        return MetaEvent::Unknown {
            kind: if message.get("is_unsupported").is_some() {
                "message:unsupported".into()
            } else {
                "message:other".into()
            },
        };
    }
    if let Some(postback) = event.get("postback") {
        let payload = owned(postback, "payload").unwrap_or_default();
        // Postbacks carry a mid only on newer API versions; otherwise sender, time and payload
        // identify a retry of the same tap. An empty mid is no id: as the key `fb:` it would
        // make every such tap, of every customer, a duplicate of the first.
        let dedup = match owned(postback, "mid").filter(|mid| !mid.is_empty()) {
            Some(mid) => format!("{prefix}:{mid}"),
            None => format!("{prefix}-postback:{sender}:{at}:{payload}"),
        };
        let context = InboundContext {
            referral: postback.get("referral").map(referral),
            ..InboundContext::default()
        };
        return customer(dedup, InboundMessage::Action(payload), context);
    }
    if let Some(found) = event.get("referral") {
        // An ad or m.me link opened the thread: greet, and remember where they came from.
        let context = InboundContext {
            referral: Some(referral(found)),
            ..InboundContext::default()
        };
        let dedup = format!("{prefix}-referral:{sender}:{at}");
        return customer(dedup, InboundMessage::Action("start".into()), context);
    }
    if let Some(reaction) = event.get("reaction") {
        let mid = owned(reaction, "mid").unwrap_or_default();
        let emoji = match str_of(reaction, "action") {
            Some("unreact") => None,
            _ => owned(reaction, "emoji").or_else(|| owned(reaction, "reaction")),
        };
        let dedup = format!("{prefix}-reaction:{sender}:{mid}:{at}");
        return customer(
            dedup,
            InboundMessage::Reaction {
                message_id: mid,
                emoji,
            },
            InboundContext::default(),
        );
    }
    if let Some(read) = event.get("read") {
        let (message_id, key) = match (
            owned(read, "mid"),
            read.get("watermark").and_then(Value::as_i64),
        ) {
            (Some(mid), _) => (mid.clone(), mid),
            (None, Some(watermark)) => {
                // The sender is part of the key: two customers can read at the same millisecond.
                let id = format!("watermark:{sender}:{watermark}");
                (id.clone(), id)
            }
            (None, None) => {
                return MetaEvent::Unknown {
                    kind: "read".into(),
                };
            }
        };
        return status(prefix, message_id, &key, &sender, DeliveryState::Read, at);
    }
    if let Some(delivery) = event.get("delivery") {
        let watermark = delivery
            .get("watermark")
            .and_then(Value::as_i64)
            .unwrap_or(at);
        let first_mid = delivery
            .get("mids")
            .and_then(Value::as_array)
            .and_then(|mids| mids.first())
            .and_then(Value::as_str)
            .map(str::to_owned);
        let message_id = first_mid.unwrap_or_else(|| format!("watermark:{sender}:{watermark}"));
        let key = format!("{message_id}:{watermark}");
        return status(
            prefix,
            message_id,
            &key,
            &sender,
            DeliveryState::Delivered,
            watermark,
        );
    }
    if event.get("optin").is_some() {
        return MetaEvent::Unknown {
            kind: "optin".into(),
        };
    }
    MetaEvent::Unknown {
        kind: "messaging:other".into(),
    }
}

fn status(
    prefix: &str,
    message_id: String,
    key: &str,
    recipient: &str,
    state: DeliveryState,
    at: i64,
) -> MetaEvent {
    MetaEvent::Status(StatusUpdate {
        dedup_key: format!("{prefix}-status:{key}:{}", state.name()),
        message_id,
        recipient: recipient.to_owned(),
        state,
        timestamp_ms: at,
        error: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by `tests/fuzz_parsers.rs`: a postback with `"mid": ""` was keyed `fb:`.
    #[test]
    fn a_postback_with_an_empty_mid_is_keyed_by_sender_time_and_payload() {
        let body = br#"{"object":"page","entry":[{"messaging":[
            {"sender":{"id":"U1"},"timestamp":7,"postback":{"mid":"","payload":"cart"}},
            {"sender":{"id":"U2"},"timestamp":7,"postback":{"mid":"","payload":"cart"}}
        ]}]}"#;
        let batch = parse(Product::Messenger, body).expect("json");
        let keys: Vec<&str> = batch
            .events
            .iter()
            .map(|e| match e {
                MetaEvent::Message(m) => m.dedup_key.as_str(),
                _ => "not a message",
            })
            .collect();
        assert_eq!(keys, ["fb-postback:U1:7:cart", "fb-postback:U2:7:cart"]);
    }

    #[test]
    fn a_delivery_of_several_messages_records_each_and_watermarks_name_the_sender() {
        let body = br#"{"object":"page","entry":[{"id":"P","time":1,"messaging":[
            {"sender":{"id":"U1"},"recipient":{"id":"P"},"delivery":{"mids":["m.1","m.2"],"watermark":5}},
            {"sender":{"id":"U1"},"recipient":{"id":"P"},"timestamp":7,"read":{"watermark":9}},
            {"sender":{"id":"U2"},"recipient":{"id":"P"},"timestamp":7,"read":{"watermark":9}},
            {"sender":{"id":"U3"},"recipient":{"id":"P"},"timestamp":7,"message":{"text":"no mid"}}
        ]}]}"#;
        let batch = parse(Product::Messenger, body).expect("json");
        let keys: Vec<String> = batch
            .events
            .iter()
            .map(|e| match e {
                MetaEvent::Status(s) => format!("{} {}", s.message_id, s.dedup_key),
                MetaEvent::Unknown { kind } => kind.clone(),
                other => format!("{other:?}"),
            })
            .collect();
        assert_eq!(
            keys,
            [
                "m.1 fb-status:m.1:5:delivered",
                "m.2 fb-status:m.2:5:delivered",
                "watermark:U1:9 fb-status:watermark:U1:9:read",
                "watermark:U2:9 fb-status:watermark:U2:9:read",
                "message:no-mid",
            ]
        );
    }
}
