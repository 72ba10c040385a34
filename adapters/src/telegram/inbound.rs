//! One Telegram update → one event for the shell. Private chats only: a shop talks to one
//! customer at a time; groups, channels, edits and update kinds we do not use are
//! acknowledged and ignored, by name, so they are counted and never retried.

use flows::{Event, Inbound, InboundMessage, MediaKind};
use teloxide::types::{Message, Update, UpdateKind};

#[derive(Debug, Clone, PartialEq)]
pub enum TelegramEvent {
    /// A customer's message in a private chat.
    Message(CustomerMessage),
    /// A button under one of our messages was pressed: answer it, retire the keyboard.
    Callback(Callback),
    /// Telegram asks whether to take a payment (answer within 10 s).
    PreCheckout(PreCheckout),
    /// A payment went through.
    Payment(Payment),
    /// The customer blocked the bot (or unblocked it): sending stops (or may resume).
    Blocked { chat_id: i64, blocked: bool },
    /// Acknowledged, not acted on.
    Ignored { kind: &'static str },
}

#[derive(Debug, Clone, PartialEq)]
pub struct CustomerMessage {
    pub update_id: u32,
    pub chat_id: i64,
    pub message_id: i32,
    /// Seconds since the epoch, as Telegram stamped it.
    pub date: i64,
    pub name: Option<String>,
    /// The customer's app language (BCP 47), a hint for the first greeting.
    pub language: Option<String>,
    pub message: InboundMessage,
    /// The parameter of `/start PARAM` (a deep link).
    pub start_parameter: Option<String>,
    /// The sender shared their own contact (not someone else's): their phone number.
    pub own_phone: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Callback {
    pub update_id: u32,
    pub query_id: String,
    /// The customer's chat (a private chat's id is the user's id).
    pub chat_id: i64,
    /// The message that carried the keyboard, when Telegram still has it.
    pub message_id: Option<i32>,
    /// Our callback data: an action id or an opaque token for a long one.
    pub data: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct PreCheckout {
    pub update_id: u32,
    pub query_id: String,
    pub chat_id: i64,
    pub currency: String,
    pub total_amount: u32,
    pub payload: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    pub update_id: u32,
    pub chat_id: i64,
    pub currency: String,
    pub total_amount: u32,
    pub payload: String,
    pub telegram_charge_id: String,
    pub provider_charge_id: String,
}

impl TelegramEvent {
    /// `update_id` is the dedup key Telegram gives (it increases per bot).
    pub fn update_id(&self) -> Option<u32> {
        match self {
            TelegramEvent::Message(m) => Some(m.update_id),
            TelegramEvent::Callback(c) => Some(c.update_id),
            TelegramEvent::PreCheckout(p) => Some(p.update_id),
            TelegramEvent::Payment(p) => Some(p.update_id),
            TelegramEvent::Blocked { .. } | TelegramEvent::Ignored { .. } => None,
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("not a Telegram update: {0}")]
pub struct ParseError(String);

/// Parses a webhook body. Malformed JSON is an error (400); a well-formed update of a kind or
/// shape we do not use is `Ignored`.
pub fn parse(body: &[u8]) -> Result<TelegramEvent, ParseError> {
    let mut value: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| ParseError(e.to_string()))?;
    fill_documented_omissions(&mut value);
    // Through bytes again: teloxide's update type borrows while it decodes, which a `Value`
    // cannot lend.
    let bytes = serde_json::to_vec(&value).map_err(|e| ParseError(e.to_string()))?;
    let update: Update = serde_json::from_slice(&bytes).map_err(|e| ParseError(e.to_string()))?;
    Ok(from_update(update))
}

/// Telegram's own documentation examples, and updates from before Bot API 4.5, leave out
/// fields teloxide requires (`is_bot` of a user, `chat_instance` of a callback query,
/// `file_unique_id` of a file, a sticker's type); without them a whole update would be unreadable. They carry
/// nothing we use, so neutral values stand in.
fn fill_documented_omissions(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(from)) = map.get_mut("from")
                && !from.contains_key("is_bot")
            {
                from.insert("is_bot".into(), Value::Bool(false));
            }
            if let Some(Value::Object(query)) = map.get_mut("callback_query")
                && !query.contains_key("chat_instance")
            {
                query.insert("chat_instance".into(), Value::String(String::new()));
            }
            if let Some(Value::Object(sticker)) = map.get_mut("sticker") {
                for (key, neutral) in [
                    ("type", Value::String("regular".into())),
                    ("is_animated", Value::Bool(false)),
                    ("is_video", Value::Bool(false)),
                ] {
                    sticker.entry(key).or_insert(neutral);
                }
            }
            if let Some(id) = map.get("file_id").cloned()
                && !map.contains_key("file_unique_id")
            {
                map.insert("file_unique_id".into(), id);
            }
            for child in map.values_mut() {
                fill_documented_omissions(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(fill_documented_omissions),
        _ => {}
    }
}

pub fn from_update(update: Update) -> TelegramEvent {
    let update_id = update.id.0;
    match update.kind {
        UpdateKind::Message(message) => from_message(update_id, &message),
        UpdateKind::CallbackQuery(query) => TelegramEvent::Callback(Callback {
            update_id,
            query_id: query.id.0,
            chat_id: query
                .message
                .as_ref()
                .map(|m| m.chat().id.0)
                // A private chat's id is its user's id.
                .unwrap_or(query.from.id.0 as i64),
            message_id: query.message.as_ref().map(|m| m.id().0),
            data: query.data,
        }),
        UpdateKind::PreCheckoutQuery(query) => TelegramEvent::PreCheckout(PreCheckout {
            update_id,
            query_id: query.id.0,
            chat_id: query.from.id.0 as i64,
            currency: query.currency,
            total_amount: query.total_amount,
            payload: query.invoice_payload,
        }),
        UpdateKind::MyChatMember(change) if change.chat.is_private() => TelegramEvent::Blocked {
            chat_id: change.chat.id.0,
            blocked: change.new_chat_member.is_banned() || change.new_chat_member.is_left(),
        },
        UpdateKind::MyChatMember(_) => TelegramEvent::Ignored {
            kind: "my_chat_member_group",
        },
        UpdateKind::EditedMessage(_) => TelegramEvent::Ignored {
            kind: "edited_message",
        },
        UpdateKind::ChannelPost(_) | UpdateKind::EditedChannelPost(_) => TelegramEvent::Ignored {
            kind: "channel_post",
        },
        UpdateKind::Error(_) => TelegramEvent::Ignored { kind: "unknown" },
        _ => TelegramEvent::Ignored { kind: "other" },
    }
}

/// A message, if it is one a customer sent us in a private chat.
pub fn from_message(update_id: u32, message: &Message) -> TelegramEvent {
    if !message.chat.is_private() {
        return TelegramEvent::Ignored {
            kind: "group_message",
        };
    }
    if let Some(paid) = message.successful_payment() {
        return TelegramEvent::Payment(Payment {
            update_id,
            chat_id: message.chat.id.0,
            currency: paid.currency.clone(),
            total_amount: paid.total_amount,
            payload: paid.invoice_payload.clone(),
            telegram_charge_id: paid.telegram_payment_charge_id.0.clone(),
            provider_charge_id: paid.provider_payment_charge_id.clone(),
        });
    }
    let Some((inbound, start_parameter)) = content(message) else {
        return TelegramEvent::Ignored {
            kind: "service_message",
        };
    };
    let from = message.from.as_ref();
    let name = from.map(|user| match &user.last_name {
        Some(last) => format!("{} {last}", user.first_name),
        None => user.first_name.clone(),
    });
    TelegramEvent::Message(CustomerMessage {
        update_id,
        chat_id: message.chat.id.0,
        message_id: message.id.0,
        date: message.date.timestamp(),
        name,
        language: from.and_then(|user| user.language_code.clone()),
        message: inbound,
        start_parameter,
        own_phone: message
            .contact()
            .filter(|contact| {
                contact.user_id.is_some() && contact.user_id == from.map(|user| user.id)
            })
            .map(|contact| contact.phone_number.clone()),
    })
}

/// What the customer sent, and the deep-link parameter of `/start`.
fn content(message: &Message) -> Option<(InboundMessage, Option<String>)> {
    if let Some(text) = message.text() {
        return Some(command_or_text(text));
    }
    let caption = message.caption().map(str::to_owned);
    let media = |kind: MediaKind, id: String, mime: Option<String>| InboundMessage::Media {
        kind,
        caption: caption.clone(),
        media_id: Some(id),
        mime,
    };
    let inbound = if let Some(sizes) = message.photo() {
        // The largest size is the last.
        let largest = sizes.last()?;
        media(
            MediaKind::Image,
            largest.file.id.0.clone(),
            Some("image/jpeg".into()),
        )
    } else if let Some(document) = message.document() {
        let mime = document.mime_type.as_ref().map(|m| m.to_string());
        media(MediaKind::Document, document.file.id.0.clone(), mime)
    } else if let Some(audio) = message.audio() {
        let mime = audio.mime_type.as_ref().map(|m| m.to_string());
        media(MediaKind::Audio, audio.file.id.0.clone(), mime)
    } else if let Some(voice) = message.voice() {
        let mime = voice.mime_type.as_ref().map(|m| m.to_string());
        media(MediaKind::Audio, voice.file.id.0.clone(), mime)
    } else if let Some(video) = message.video() {
        let mime = video.mime_type.as_ref().map(|m| m.to_string());
        media(MediaKind::Video, video.file.id.0.clone(), mime)
    } else if let Some(sticker) = message.sticker() {
        media(MediaKind::Sticker, sticker.file.id.0.clone(), None)
    } else if let Some(place) = message
        .location()
        .and_then(|l| InboundMessage::location(l.latitude, l.longitude))
    {
        place
    } else if let Some(contact) = message.contact() {
        InboundMessage::Contact {
            phone: Some(contact.phone_number.clone()),
            name: Some(match &contact.last_name {
                Some(last) => format!("{} {last}", contact.first_name),
                None => contact.first_name.clone(),
            }),
        }
    } else {
        return None;
    };
    Some((inbound, None))
}

/// `/start` (with an optional deep-link parameter) greets; other commands are read as the
/// words they are (`/help` → "help"), so every language's keywords keep working.
fn command_or_text(text: &str) -> (InboundMessage, Option<String>) {
    let trimmed = text.trim();
    let Some(command_line) = trimmed.strip_prefix('/') else {
        return (InboundMessage::Text(text.to_owned()), None);
    };
    let (command, rest) = command_line
        .split_once(char::is_whitespace)
        .unwrap_or((command_line, ""));
    // `/start@ShopBot` in groups; private chats may carry it too.
    let command = command.split('@').next().unwrap_or(command);
    match command {
        "start" => {
            let parameter = Some(rest.trim().to_owned()).filter(|p| !p.is_empty());
            (InboundMessage::Action("start".into()), parameter)
        }
        _ if rest.trim().is_empty() => (InboundMessage::Text(command.to_owned()), None),
        _ => (
            InboundMessage::Text(format!("{command} {}", rest.trim())),
            None,
        ),
    }
}

/// The core's event for a customer message.
pub fn event(message: &CustomerMessage) -> Event {
    Event::Inbound(Inbound::new(
        flows::Channel::Telegram,
        message.message.clone(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands() {
        assert_eq!(
            command_or_text("/start link-ab12"),
            (
                InboundMessage::Action("start".into()),
                Some("link-ab12".into())
            )
        );
        assert_eq!(
            command_or_text("/start"),
            (InboundMessage::Action("start".into()), None)
        );
        assert_eq!(
            command_or_text("/help@ShopBot"),
            (InboundMessage::Text("help".into()), None)
        );
        assert_eq!(
            command_or_text("red dress / cotton"),
            (InboundMessage::Text("red dress / cotton".into()), None)
        );
    }
}
