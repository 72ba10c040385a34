//! What happens to a conversation: the only input of `Conversation::step`.

use serde::{Deserialize, Serialize};

use crate::customer::Channel;
use crate::order::OrderId;
use crate::understanding::Intent;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Event {
    /// The customer wrote or pressed something.
    Inbound(Inbound),
    /// The answer to an `Action::RequestNlu`. `None` when the model failed or was unsure: the
    /// core then treats the text as not understood, exactly as without a model.
    NluResult {
        intent: Option<Intent>,
    },
    TimerFired(TimerKind),
    PaymentLinkReady {
        order: OrderId,
        url: String,
    },
    PaymentConfirmed {
        order: OrderId,
    },
    PaymentFailed {
        order: OrderId,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Inbound {
    pub channel: Channel,
    pub message: InboundMessage,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MediaKind {
    Image,
    Audio,
    Video,
    Document,
    Sticker,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InboundMessage {
    Text(String),
    /// A button, postback or list pick: the raw action id we put on it. Raw because it comes
    /// from outside and may be stale or forged; the core parses it.
    Action(String),
    Location {
        latitude: f64,
        longitude: f64,
    },
    Contact {
        phone: Option<String>,
        name: Option<String>,
    },
    Media {
        kind: MediaKind,
        caption: Option<String>,
    },
}

/// One timer slot per kind per conversation: setting a kind again replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    /// Resets a half-finished flow after a long silence so the next message starts fresh.
    SessionExpiry,
}

impl TimerKind {
    pub const ALL: [TimerKind; 1] = [TimerKind::SessionExpiry];

    pub const fn name(self) -> &'static str {
        match self {
            TimerKind::SessionExpiry => "session-expiry",
        }
    }
}
