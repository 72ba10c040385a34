//! Whether an operator's reply may go out now on the customer's current channel, and if not,
//! why: the reason is shown to the operator instead of a send that would be refused.

use adapters::meta::window::{WindowDecision, WindowProduct, decide};
use flows::{Channel, Conversation, TextKey, Timestamp};

use crate::settings::Settings;

/// The channel a reply would take and what the platform allows there now.
pub struct ReplyWindow {
    pub channel: Option<Channel>,
    /// `None`: a free-form reply may go out.
    pub refusal: Option<String>,
    /// Said to the operator even when the reply may go out (a tag or template is used).
    pub note: Option<String>,
}

pub fn reply_window(
    settings: &Settings,
    conversation: &Conversation,
    now: Timestamp,
) -> ReplyWindow {
    let Some(channel) = conversation.last_channel else {
        return ReplyWindow {
            channel: None,
            refusal: Some("the customer has not written on any channel yet".into()),
            note: None,
        };
    };
    let product = match channel {
        Channel::WhatsApp => WindowProduct::WhatsApp,
        Channel::Messenger => WindowProduct::Messenger,
        Channel::Instagram => WindowProduct::Instagram,
        // No messaging windows: the web chat keeps the history for the customer's return;
        // Telegram and Discord bots may write whenever the customer has not blocked them.
        Channel::WebChat | Channel::Telegram | Channel::Discord => {
            return ReplyWindow {
                channel: Some(channel),
                refusal: None,
                note: None,
            };
        }
    };
    let last = conversation.last_inbound_by_channel.get(&channel).copied();
    let (refusal, note) = match decide(product, last, now) {
        WindowDecision::Open => (None, None),
        WindowDecision::HumanAgentTagOnly => (
            None,
            Some(format!(
                "more than 24 hours since the customer's last {channel} message: your reply goes out \
                 with the HUMAN_AGENT tag (allowed up to 7 days)"
            )),
        ),
        WindowDecision::TemplateOnly => {
            let key = TextKey::OperatorMessage.id();
            if settings.channels.whatsapp.templates.contains_key(key) {
                (
                    None,
                    Some(format!(
                        "more than 24 hours since the customer's last WhatsApp message: your reply goes \
                         out as the approved template configured for `{key}`"
                    )),
                )
            } else {
                (
                    Some(format!(
                        "WhatsApp's 24-hour window is closed (the customer last wrote more than 24 hours \
                         ago): only an approved template may go out, and none is configured for \
                         operator replies (channels.whatsapp.templates.{key})"
                    )),
                    None,
                )
            }
        }
        WindowDecision::Closed => (
            Some(format!(
                "the customer last wrote on {channel} more than 7 days ago: {channel} allows no \
                 message until they write again"
            )),
            None,
        ),
    };
    ReplyWindow {
        channel: Some(channel),
        refusal,
        note,
    }
}
