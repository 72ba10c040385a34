//! One row of the operators' conversation list: who the customer is, when they last wrote,
//! how many messages wait unread, who owns the conversation. The store keeps it up to date
//! in each step's transaction (so the list does not decode every conversation) by calling
//! these rules; they are pure so every backend summarizes alike.

use serde::{Deserialize, Serialize};

use crate::conversation::Conversation;
use crate::customer::{Channel, CustomerId};
use crate::handoff::Handoff;
use crate::time::Timestamp;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConversationSummary {
    pub customer: CustomerId,
    /// Last message either way.
    pub last_at: Timestamp,
    /// Customer messages since an operator last opened the conversation.
    pub unread: u32,
    pub handoff: Handoff,
    /// Every channel the customer wrote from.
    #[serde(default)]
    pub channels: Vec<Channel>,
    /// What the customer told us about themselves (at checkout or booking).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address: Option<String>,
}

impl ConversationSummary {
    /// The row of a conversation nobody has opened yet, as it stands.
    pub fn of(conversation: &Conversation, last_at: Timestamp) -> ConversationSummary {
        let mut summary = ConversationSummary {
            customer: conversation.customer.clone(),
            last_at,
            unread: 0,
            handoff: conversation.handoff.clone(),
            channels: conversation
                .reach
                .last_inbound_by_channel
                .keys()
                .copied()
                .collect(),
            name: None,
            contact: None,
            address: None,
        };
        summary.take_profile(conversation);
        summary
    }

    /// The row after a step: `inbound` are the customer's messages it handled (when and
    /// where), `replied` whether it queued replies at `now`.
    pub fn after_step(
        old: Option<ConversationSummary>,
        conversation: &Conversation,
        inbound: impl IntoIterator<Item = (Timestamp, Channel)>,
        replied: bool,
        now: Timestamp,
    ) -> ConversationSummary {
        let mut summary = old.unwrap_or_else(|| ConversationSummary {
            channels: Vec::new(),
            ..ConversationSummary::of(conversation, now)
        });
        for (at, channel) in inbound {
            summary.unread = summary.unread.saturating_add(1);
            summary.last_at = summary.last_at.max(at);
            if !summary.channels.contains(&channel) {
                summary.channels.push(channel);
            }
        }
        if replied {
            summary.last_at = summary.last_at.max(now);
        }
        summary.handoff.clone_from(&conversation.handoff);
        summary.take_profile(conversation);
        summary
    }

    /// `from`'s row joins `into`'s (`into` has none yet: `from`'s becomes it).
    pub fn merged(
        into_customer: &CustomerId,
        into: Option<ConversationSummary>,
        from: ConversationSummary,
    ) -> ConversationSummary {
        // (Counting `from`'s unread twice here was a bug of the store's own version.)
        let Some(mut summary) = into else {
            return ConversationSummary {
                customer: into_customer.clone(),
                ..from
            };
        };
        for channel in &from.channels {
            if !summary.channels.contains(channel) {
                summary.channels.push(*channel);
            }
        }
        summary.unread = summary.unread.saturating_add(from.unread);
        summary.last_at = summary.last_at.max(from.last_at);
        summary
    }

    fn take_profile(&mut self, conversation: &Conversation) {
        let profile = &conversation.profile;
        self.name.clone_from(&profile.name);
        self.contact = profile.contact.as_ref().map(|c| c.as_str().to_owned());
        self.address.clone_from(&profile.address);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::locale::Locale;
    use crate::order::ContactPoint;

    fn conversation(id: &str) -> Conversation {
        Conversation::new(CustomerId(id.into()), Locale::En)
    }

    #[test]
    fn a_step_counts_unread_messages_channels_and_the_latest_time() {
        let mut c = conversation("a");
        c.profile.name = Some("Ana".into());
        c.profile.contact = Some(ContactPoint::Email("ana@example.ro".into()));
        let first = ConversationSummary::after_step(
            None,
            &c,
            [(Timestamp(5), Channel::WhatsApp)],
            true,
            Timestamp(7),
        );
        assert_eq!(first.unread, 1);
        assert_eq!(first.last_at, Timestamp(7));
        assert_eq!(first.channels, [Channel::WhatsApp]);
        assert_eq!(first.name.as_deref(), Some("Ana"));
        assert_eq!(first.contact.as_deref(), Some("ana@example.ro"));
        let second = ConversationSummary::after_step(
            Some(first),
            &c,
            [
                (Timestamp(9), Channel::Telegram),
                (Timestamp(8), Channel::WhatsApp),
            ],
            false,
            Timestamp(10),
        );
        assert_eq!(second.unread, 3);
        assert_eq!(
            second.last_at,
            Timestamp(9),
            "no reply: the customer's time"
        );
        assert_eq!(second.channels, [Channel::WhatsApp, Channel::Telegram]);
    }

    #[test]
    fn merged_rows_add_unread_and_channels() {
        let a = ConversationSummary::after_step(
            None,
            &conversation("a"),
            [(Timestamp(1), Channel::WebChat)],
            false,
            Timestamp(1),
        );
        let b = ConversationSummary::after_step(
            None,
            &conversation("b"),
            [
                (Timestamp(4), Channel::Telegram),
                (Timestamp(5), Channel::Telegram),
            ],
            false,
            Timestamp(5),
        );
        let merged = ConversationSummary::merged(&a.customer.clone(), Some(a), b.clone());
        assert_eq!(merged.customer.0, "a");
        assert_eq!(merged.unread, 3);
        assert_eq!(merged.last_at, Timestamp(5));
        assert_eq!(merged.channels, [Channel::WebChat, Channel::Telegram]);
        let alone = ConversationSummary::merged(&CustomerId("c".into()), None, b);
        assert_eq!(alone.customer.0, "c");
        assert_eq!(alone.unread, 2);
    }
}
