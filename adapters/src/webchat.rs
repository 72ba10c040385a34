//! The shop's own web chat: its JSON API bodies in, its reply JSON out.

use serde::Deserialize;
use serde_json::{Value, json};

use flows::InboundMessage;

use crate::rendered::{RenderedChoice, RenderedReply};

/// Longest text accepted from the web chat, in characters (WhatsApp's limit, for parity).
pub const MAX_TEXT_CHARS: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebChatError {
    /// Not JSON at all: the client is broken. HTTP 400.
    #[error("malformed JSON: {0}")]
    Malformed(String),
    /// JSON of the wrong shape or with invalid values. HTTP 422.
    #[error("{0}")]
    Invalid(String),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct MessageBody {
    session: String,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    action: Option<String>,
    /// Chosen by the page per message and kept across its retries: the dedup key.
    #[serde(default)]
    client_id: Option<String>,
    /// The browser's IANA time zone: appointment times are shown in it too.
    #[serde(default)]
    time_zone: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SessionBody {
    #[serde(default)]
    pub locale: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct WebChatMessage {
    pub session: String,
    pub client_id: Option<String>,
    pub message: InboundMessage,
    /// Shaped like an IANA name; the shell checks that it is one.
    pub time_zone: Option<String>,
}

fn from_json<'a, T: Deserialize<'a>>(body: &'a [u8]) -> Result<T, WebChatError> {
    serde_json::from_slice(body).map_err(|error| match error.classify() {
        serde_json::error::Category::Data => WebChatError::Invalid(error.to_string()),
        _ => WebChatError::Malformed(error.to_string()),
    })
}

/// A session token is 32 lowercase hex digits (128 random bits).
pub fn valid_session_token(token: &str) -> bool {
    token.len() == 32
        && token
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

pub fn parse_message(body: &[u8]) -> Result<WebChatMessage, WebChatError> {
    let body: MessageBody = from_json(body)?;
    if !valid_session_token(&body.session) {
        return Err(WebChatError::Invalid(
            "session must be the token from POST /chat/api/sessions".into(),
        ));
    }
    let message = match (body.text, body.action) {
        (Some(text), None) => {
            let text = text.trim();
            if text.is_empty() {
                return Err(WebChatError::Invalid("text is empty".into()));
            }
            if text.chars().count() > MAX_TEXT_CHARS {
                return Err(WebChatError::Invalid(format!(
                    "text is longer than {MAX_TEXT_CHARS} characters"
                )));
            }
            InboundMessage::Text(text.to_owned())
        }
        (None, Some(action)) => {
            if action.is_empty() || action.len() > 200 || action.chars().any(char::is_control) {
                return Err(WebChatError::Invalid(
                    "action is not a valid action id".into(),
                ));
            }
            InboundMessage::Action(action)
        }
        _ => {
            return Err(WebChatError::Invalid(
                "send exactly one of \"text\" or \"action\"".into(),
            ));
        }
    };
    if let Some(id) = &body.client_id {
        let ok = (8..=64).contains(&id.len())
            && id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !ok {
            return Err(WebChatError::Invalid(
                "client_id must be 8-64 characters of a-z, A-Z, 0-9, '-' or '_'".into(),
            ));
        }
    }
    if let Some(zone) = &body.time_zone {
        let ok = (1..=64).contains(&zone.len())
            && zone
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b'_' | b'-' | b'+'));
        if !ok {
            return Err(WebChatError::Invalid(
                "time_zone must be an IANA time zone name such as \"Europe/Bucharest\"".into(),
            ));
        }
    }
    Ok(WebChatMessage {
        session: body.session,
        client_id: body.client_id,
        message,
        time_zone: body.time_zone,
    })
}

pub fn parse_session(body: &[u8]) -> Result<SessionBody, WebChatError> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(SessionBody::default());
    }
    from_json(body)
}

fn choices(choices: &[RenderedChoice]) -> Value {
    Value::Array(
        choices
            .iter()
            .map(|c| json!({"id": c.id, "label": c.label}))
            .collect(),
    )
}

/// The JSON one reply takes on the web chat (SSE data and history): see `chat.js`.
pub fn reply_json(reply: &RenderedReply, id: u64, reply_to: Option<&str>, time: &str) -> Value {
    let cards: Vec<Value> = reply
        .cards
        .iter()
        .map(|card| {
            json!({
                "id": card.id, "title": card.title, "subtitle": card.subtitle, "price": card.price,
                "image": card.image, "badge": card.badge, "actions": choices(&card.actions),
            })
        })
        .collect();
    let cart = reply.cart.as_ref().map(|cart| {
        let lines: Vec<Value> = cart
            .lines
            .iter()
            .map(|line| {
                json!({
                    "sku": line.sku, "title": line.title, "variant": line.variant,
                    "quantity": line.quantity, "unit_price": line.unit_price,
                    "line_total": line.line_total, "actions": choices(&line.actions),
                })
            })
            .collect();
        json!({
            "title": cart.title, "lines": lines, "total_label": cart.total_label,
            "total": cart.total, "empty": cart.lines.is_empty(),
        })
    });
    json!({
        "id": id.to_string(),
        "from": "bot",
        "reply_to": reply_to,
        "time": time,
        "lang": reply.lang.code(),
        "dir": if reply.right_to_left { "rtl" } else { "ltr" },
        "text": reply.text,
        "choices": choices(&reply.choices),
        "cards": cards,
        "cart": cart,
        "link": reply.link.as_ref().map(|link| json!({"url": link.url, "label": link.label})),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "0123456789abcdef0123456789abcdef";

    #[test]
    fn parses_text_and_actions() {
        let text = parse_message(format!(r#"{{"session":"{TOKEN}","text":"  hi  "}}"#).as_bytes());
        assert_eq!(
            text.map(|m| m.message),
            Ok(InboundMessage::Text("hi".into()))
        );
        let action =
            parse_message(format!(r#"{{"session":"{TOKEN}","action":"cart"}}"#).as_bytes());
        assert_eq!(
            action.map(|m| m.message),
            Ok(InboundMessage::Action("cart".into()))
        );
    }

    #[test]
    fn rejects_bad_bodies_with_reasons() {
        assert!(matches!(
            parse_message(b"{not json"),
            Err(WebChatError::Malformed(_))
        ));
        let unknown =
            parse_message(format!(r#"{{"session":"{TOKEN}","text":"x","admin":true}}"#).as_bytes());
        assert!(matches!(unknown, Err(WebChatError::Invalid(m)) if m.contains("unknown field")));
        let empty = parse_message(format!(r#"{{"session":"{TOKEN}","text":"   "}}"#).as_bytes());
        assert_eq!(empty, Err(WebChatError::Invalid("text is empty".into())));
        let both =
            parse_message(format!(r#"{{"session":"{TOKEN}","text":"a","action":"b"}}"#).as_bytes());
        assert!(matches!(both, Err(WebChatError::Invalid(_))));
        let bad_session = parse_message(br#"{"session":"../../etc","text":"a"}"#);
        assert!(matches!(bad_session, Err(WebChatError::Invalid(_))));
        let long = "é".repeat(MAX_TEXT_CHARS + 1);
        let too_long =
            parse_message(format!(r#"{{"session":"{TOKEN}","text":"{long}"}}"#).as_bytes());
        assert!(matches!(too_long, Err(WebChatError::Invalid(m)) if m.contains("longer")));
    }
}
