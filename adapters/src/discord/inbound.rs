//! What a customer did on Discord. Direct messages, and messages in the one shop channel
//! when configured; everything else (other channels, bots, system messages, slash commands)
//! is acknowledged and ignored by name.

use serde::Deserialize;
use serenity::model::application::{ComponentInteractionDataKind, Interaction};
use serenity::model::channel::{Message, MessageType};

use flows::{InboundMessage, MediaKind};

#[derive(Debug, Clone, PartialEq)]
pub enum DiscordEvent {
    Message(DiscordMessage),
    /// A button or select under one of our messages: respond within 3 s.
    Component(ComponentPress),
    Ignored {
        kind: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct DiscordMessage {
    pub message_id: u64,
    pub channel_id: u64,
    /// The customer's identity: replies go to their direct-message channel.
    pub user_id: u64,
    pub name: String,
    pub message: InboundMessage,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ComponentPress {
    /// The dedup key Discord gives.
    pub interaction_id: u64,
    /// Answers the interaction (valid 15 minutes).
    pub token: String,
    pub user_id: u64,
    pub channel_id: u64,
    /// Our action id (a button's custom id, or the picked option of a select).
    pub action: String,
}

/// A customer's message, if it is one for the shop. `bot_user` is our own id (our messages
/// come back through the gateway); `shop_channel` the guild channel souk also serves.
pub fn from_message(
    message: &Message,
    bot_user: Option<u64>,
    shop_channel: Option<u64>,
) -> DiscordEvent {
    if !matches!(
        message.kind,
        MessageType::Regular | MessageType::InlineReply
    ) {
        return DiscordEvent::Ignored {
            kind: "system_message",
        };
    }
    if message.author.bot || Some(message.author.id.get()) == bot_user {
        return DiscordEvent::Ignored {
            kind: "bot_message",
        };
    }
    if message.guild_id.is_some() && Some(message.channel_id.get()) != shop_channel {
        return DiscordEvent::Ignored {
            kind: "other_channel",
        };
    }
    let text = message.content.trim();
    let inbound = match message.attachments.first() {
        Some(attachment) => InboundMessage::Media {
            kind: match attachment.content_type.as_deref() {
                Some(mime) if mime.starts_with("image/") => MediaKind::Image,
                Some(mime) if mime.starts_with("video/") => MediaKind::Video,
                Some(mime) if mime.starts_with("audio/") => MediaKind::Audio,
                _ => MediaKind::Document,
            },
            caption: (!text.is_empty()).then(|| text.to_owned()),
            media_id: Some(attachment.url.clone()),
            mime: attachment.content_type.clone(),
        },
        None if !text.is_empty() => InboundMessage::Text(text.to_owned()),
        None => {
            return DiscordEvent::Ignored {
                kind: "empty_message",
            };
        }
    };
    DiscordEvent::Message(DiscordMessage {
        message_id: message.id.get(),
        channel_id: message.channel_id.get(),
        user_id: message.author.id.get(),
        name: message
            .author
            .global_name
            .clone()
            .unwrap_or_else(|| message.author.name.clone()),
        message: inbound,
    })
}

pub fn from_interaction(interaction: &Interaction) -> DiscordEvent {
    match interaction {
        Interaction::Component(component) => {
            let action = match &component.data.kind {
                ComponentInteractionDataKind::Button => component.data.custom_id.clone(),
                ComponentInteractionDataKind::StringSelect { values } => match values.first() {
                    Some(value) => value.clone(),
                    None => {
                        return DiscordEvent::Ignored {
                            kind: "empty_select",
                        };
                    }
                },
                _ => {
                    return DiscordEvent::Ignored {
                        kind: "other_select",
                    };
                }
            };
            DiscordEvent::Component(ComponentPress {
                interaction_id: component.id.get(),
                token: component.token.clone(),
                user_id: component.user.id.get(),
                channel_id: component.channel_id.get(),
                action,
            })
        }
        Interaction::Ping(_) => DiscordEvent::Ignored { kind: "ping" },
        Interaction::Command(_) => DiscordEvent::Ignored { kind: "command" },
        Interaction::Autocomplete(_) => DiscordEvent::Ignored {
            kind: "autocomplete",
        },
        Interaction::Modal(_) => DiscordEvent::Ignored { kind: "modal" },
        _ => DiscordEvent::Ignored {
            kind: "interaction",
        },
    }
}

#[derive(Debug, thiserror::Error)]
#[error("not a Discord payload: {0}")]
pub struct ParseError(String);

#[derive(Deserialize)]
struct Envelope {
    op: u8,
    #[serde(default)]
    t: Option<String>,
    #[serde(default)]
    d: serde_json::Value,
}

/// A message object (a dispatch's `d`).
pub fn parse_message(
    raw: &[u8],
    bot_user: Option<u64>,
    shop_channel: Option<u64>,
) -> Result<DiscordEvent, ParseError> {
    let mut value: serde_json::Value =
        serde_json::from_slice(raw).map_err(|e| ParseError(e.to_string()))?;
    fill_documented_omissions(&mut value);
    let message: Message = serde_json::from_value(value).map_err(|e| ParseError(e.to_string()))?;
    Ok(from_message(&message, bot_user, shop_channel))
}

/// An interaction (`INTERACTION_CREATE`'s `d`, or an interactions-endpoint body).
pub fn parse_interaction(raw: &[u8]) -> Result<DiscordEvent, ParseError> {
    let mut value: serde_json::Value =
        serde_json::from_slice(raw).map_err(|e| ParseError(e.to_string()))?;
    fill_documented_omissions(&mut value);
    let interaction: Interaction =
        serde_json::from_value(value).map_err(|e| ParseError(e.to_string()))?;
    Ok(from_interaction(&interaction))
}

/// Discord's documentation examples and older payloads leave out fields serenity requires
/// (a member's `flags`; an interaction's `id`, `locale`, `entitlements`…) or carry
/// placeholder avatar hashes; those
/// carry nothing we use, so neutral values stand in rather than losing the whole payload.
fn fill_documented_omissions(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::Object(map) => {
            if let Some(Value::Object(member)) = map.get_mut("member") {
                member.entry("flags").or_insert(Value::from(0));
            }
            // An interaction: it has a type and a token or data.
            if map.contains_key("type") && (map.contains_key("token") || map.contains_key("data")) {
                for (key, neutral) in [
                    ("id", Value::String("1".into())),
                    ("application_id", Value::String("1".into())),
                    ("attachment_size_limit", Value::from(8_388_608)),
                    ("channel_id", Value::String("1".into())),
                    ("token", Value::String(String::new())),
                    ("locale", Value::String("en-US".into())),
                    ("entitlements", Value::Array(Vec::new())),
                    ("version", Value::from(1)),
                ] {
                    map.entry(key).or_insert(neutral);
                }
            }
            if let Some(Value::String(hash)) = map.get("avatar")
                && !matches!(hash.len(), 32 | 34)
            {
                map.insert("avatar".into(), Value::Null);
            }
            for child in map.values_mut() {
                fill_documented_omissions(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(fill_documented_omissions),
        _ => {}
    }
}

/// A raw gateway frame (`{op, t, s, d}`), as serenity receives it: dispatches of messages and
/// interactions become events; hello, heartbeats, resumes and other dispatches are the
/// client's business and are ignored here.
pub fn parse_gateway(
    raw: &[u8],
    bot_user: Option<u64>,
    shop_channel: Option<u64>,
) -> Result<DiscordEvent, ParseError> {
    let envelope: Envelope = serde_json::from_slice(raw).map_err(|e| ParseError(e.to_string()))?;
    if envelope.op != 0 {
        return Ok(DiscordEvent::Ignored {
            kind: "gateway_control",
        });
    }
    match envelope.t.as_deref() {
        Some("MESSAGE_CREATE") => {
            parse_message(envelope.d.to_string().as_bytes(), bot_user, shop_channel)
        }
        Some("INTERACTION_CREATE") => parse_interaction(envelope.d.to_string().as_bytes()),
        _ => Ok(DiscordEvent::Ignored {
            kind: "other_dispatch",
        }),
    }
}
