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
    let Some(channel) = conversation.reach.last_channel else {
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
    let last = conversation
        .reach
        .last_inbound_by_channel
        .get(&channel)
        .copied();
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

#[cfg(test)]
mod tests {
    use super::*;
    use flows::{CustomerId, Locale, Span};

    fn wrote(channel: Channel, ago: Span, now: Timestamp) -> Conversation {
        let mut conversation = Conversation::new(CustomerId("c".into()), Locale::En);
        conversation.reach.last_channel = Some(channel);
        conversation
            .reach
            .last_inbound_by_channel
            .insert(channel, Timestamp(now.millis() - ago.as_millis()));
        conversation
    }

    fn settings() -> Settings {
        let toml = concat!(env!("CARGO_MANIFEST_DIR"), "/config/souk.toml");
        Settings::load(std::path::Path::new(toml)).expect("shipped config loads")
    }

    #[test]
    fn whatsapp_after_a_day_needs_a_template_for_operator_replies() {
        let now = Timestamp(1_800_000_000_000);
        let mut settings = settings();
        let open = reply_window(
            &settings,
            &wrote(Channel::WhatsApp, Span::hours(23), now),
            now,
        );
        assert!(open.refusal.is_none() && open.note.is_none());
        let late = wrote(Channel::WhatsApp, Span::hours(25), now);
        let refused = reply_window(&settings, &late, now)
            .refusal
            .expect("refused");
        assert!(refused.contains("templates.operator-message"), "{refused}");
        settings.channels.whatsapp.templates.insert(
            "operator-message".into(),
            crate::settings::TemplateSettings {
                name: "team_reply".into(),
                language: "en".into(),
                params: vec!["text".into()],
            },
        );
        let templated = reply_window(&settings, &late, now);
        assert!(templated.refusal.is_none());
        assert!(templated.note.expect("note").contains("template"));
    }

    #[test]
    fn messenger_allows_a_person_seven_days_with_the_tag() {
        let now = Timestamp(1_800_000_000_000);
        let settings = settings();
        let tagged = reply_window(
            &settings,
            &wrote(Channel::Messenger, Span::hours(72), now),
            now,
        );
        assert!(tagged.refusal.is_none());
        assert!(tagged.note.expect("note").contains("HUMAN_AGENT"));
        let closed = reply_window(
            &settings,
            &wrote(Channel::Instagram, Span::hours(24 * 8), now),
            now,
        );
        assert!(closed.refusal.expect("refused").contains("7 days"));
        let web = reply_window(
            &settings,
            &wrote(Channel::WebChat, Span::hours(24 * 30), now),
            now,
        );
        assert!(web.refusal.is_none());
    }
}
