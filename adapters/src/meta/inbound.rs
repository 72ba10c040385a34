//! What a Meta webhook POST contains, normalized: customer messages (become core events),
//! delivery statuses (recorded against our sends), identity changes, echoes and unknowns.

use flows::{InboundContext, InboundMessage};

/// Everything one webhook body carried, in order.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct WebhookBatch {
    pub events: Vec<MetaEvent>,
}

// Messages are the common case; see `flows::Event` for why the variant is not boxed.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum MetaEvent {
    Message(CustomerMessage),
    Status(StatusUpdate),
    /// WhatsApp: the customer changed phone number; their identity moves.
    IdentityChange {
        old_id: String,
        new_id: String,
    },
    /// Our own sends coming back (Messenger/Instagram echoes, WhatsApp SMB echoes): ignored.
    Echo {
        mid: String,
    },
    /// A shape we do not handle: logged and counted, still acknowledged.
    Unknown {
        kind: String,
    },
}

#[derive(Debug, Clone, PartialEq)]
pub struct CustomerMessage {
    /// The platform's id for dedup: wamid or mid (or a composite for postbacks).
    pub dedup_key: String,
    /// wa_id, PSID or IGSID.
    pub sender: String,
    /// The profile name, when the platform sends one.
    pub name: Option<String>,
    pub timestamp_ms: i64,
    pub message: InboundMessage,
    pub context: InboundContext,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryState {
    Sent,
    Delivered,
    Read,
    Played,
    Failed,
}

impl DeliveryState {
    pub fn name(self) -> &'static str {
        match self {
            DeliveryState::Sent => "sent",
            DeliveryState::Delivered => "delivered",
            DeliveryState::Read => "read",
            DeliveryState::Played => "played",
            DeliveryState::Failed => "failed",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct StatusUpdate {
    pub dedup_key: String,
    /// Our outbound message's platform id (wamid / mid); for Messenger watermarks, the
    /// watermark as `watermark:<recipient>:<ms>`.
    pub message_id: String,
    pub recipient: String,
    pub state: DeliveryState,
    pub timestamp_ms: i64,
    /// `(code, title)` of a failed delivery.
    pub error: Option<(i64, String)>,
}

/// Meta sends timestamps as strings of seconds (WhatsApp) or integers of milliseconds
/// (Messenger); both become milliseconds, and garbage becomes 0 rather than an error.
pub fn seconds_string_to_ms(value: &serde_json::Value) -> i64 {
    match value {
        serde_json::Value::String(s) => s
            .parse::<i64>()
            .map(|s| s.saturating_mul(1000))
            .unwrap_or(0),
        serde_json::Value::Number(n) => n.as_i64().map(|s| s.saturating_mul(1000)).unwrap_or(0),
        _ => 0,
    }
}

pub fn str_of<'a>(value: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    value.get(key).and_then(serde_json::Value::as_str)
}

pub fn owned(value: &serde_json::Value, key: &str) -> Option<String> {
    str_of(value, key).map(str::to_owned)
}

/// The array under `key`, or nothing: payloads are read leniently, never rejected.
pub fn array<'a>(value: &'a serde_json::Value, key: &str) -> &'a [serde_json::Value] {
    value
        .get(key)
        .and_then(serde_json::Value::as_array)
        .map_or(&[], Vec::as_slice)
}
