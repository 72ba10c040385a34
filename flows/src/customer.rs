//! Who we talk to: a customer with one or more channel identities.

use serde::{Deserialize, Serialize};

use crate::locale::Locale;
use crate::time::Timestamp;

/// Opaque, assigned by the shell when an identity is first seen. One customer has one
/// conversation, so the same id keys both.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct CustomerId(pub String);

impl std::fmt::Display for CustomerId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    WebChat,
    WhatsApp,
    Messenger,
    Instagram,
    Telegram,
    Discord,
}

impl Channel {
    pub const ALL: [Channel; 6] = [
        Channel::WebChat,
        Channel::WhatsApp,
        Channel::Messenger,
        Channel::Instagram,
        Channel::Telegram,
        Channel::Discord,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            Channel::WebChat => "webchat",
            Channel::WhatsApp => "whatsapp",
            Channel::Messenger => "messenger",
            Channel::Instagram => "instagram",
            Channel::Telegram => "telegram",
            Channel::Discord => "discord",
        }
    }
}

impl std::fmt::Display for Channel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One address of a customer on one channel (a WhatsApp number, a Telegram chat id, a
/// web chat session digest).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Identity {
    pub channel: Channel,
    pub external_id: String,
}

impl Identity {
    pub fn new(channel: Channel, external_id: impl Into<String>) -> Identity {
        Identity {
            channel,
            external_id: external_id.into(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Customer {
    pub id: CustomerId,
    pub identities: Vec<Identity>,
    pub display_name: Option<String>,
    pub locale: Option<Locale>,
    pub created_at: Timestamp,
}
