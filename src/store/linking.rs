//! Records for one customer across channels: one-time link codes, and what a merge moved
//! (kept, so an operator can see it and the console can show the merged chats' history).

use serde::{Deserialize, Serialize};

use flows::{Conversation, Customer, CustomerId, Timestamp};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LinkCode {
    pub customer: CustomerId,
    pub expires_at: Timestamp,
    pub used: bool,
}

/// What checking a code found. Checking marks a valid code used, atomically: a code links
/// once however many chats send it at the same time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redeemed {
    Valid(CustomerId),
    Unknown,
    Expired,
    Used,
}

/// A merge of `from` into `into`, with what `from` was, for the record and for undoing.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MergeRecord {
    pub into: CustomerId,
    pub from: Customer,
    pub from_conversation: Option<Conversation>,
    pub at: Timestamp,
}

/// What `from`'s conversation brings to `into`'s: channels and their windows, orders, the
/// profile where `into` has none, its language (the customer wrote there last), and the
/// newer of the two answers about reminders. `into`
/// answers on `from`'s channel from now on. The cart is not touched: the customer chooses.
pub fn fold_conversation(into: &mut Conversation, from: &Conversation) {
    for (channel, at) in &from.last_inbound_by_channel {
        let entry = into.last_inbound_by_channel.entry(*channel).or_insert(*at);
        *entry = (*entry).max(*at);
    }
    into.last_inbound_at = into.last_inbound_at.max(from.last_inbound_at);
    if from.last_channel.is_some() {
        into.last_channel = from.last_channel;
    }
    into.locale = from.locale;
    for order in &from.orders {
        if !into.orders.iter().any(|o| o.id == order.id) {
            into.orders.push(order.clone());
        }
    }
    into.orders.sort_by_key(|order| order.placed_at);
    if into.profile.name.is_none() {
        into.profile.name.clone_from(&from.profile.name);
    }
    if into.profile.contact.is_none() {
        into.profile.contact.clone_from(&from.profile.contact);
    }
    if into.profile.address.is_none() {
        into.profile.address.clone_from(&from.profile.address);
    }
    // Consent to reminders: the customer's latest word, wherever they said it.
    let newer = match (from.recovery.consent, into.recovery.consent) {
        (Some(theirs), Some(ours)) => theirs.at > ours.at,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if newer {
        into.recovery.consent = from.recovery.consent;
        into.recovery.opted_out = from.recovery.opted_out;
    }
}

/// `from`'s identities join `into`'s.
pub fn fold_customer(into: &mut Customer, from: &Customer) {
    for identity in &from.identities {
        if !into.identities.contains(identity) {
            into.identities.push(identity.clone());
        }
    }
    if into.display_name.is_none() {
        into.display_name.clone_from(&from.display_name);
    }
}

/// Undoes `fold_customer`: `from`'s identities leave `into`.
pub fn unfold_customer(into: &mut Customer, from: &Customer) {
    into.identities
        .retain(|identity| !from.identities.contains(identity));
}

/// Undoes `fold_conversation` as far as it can: `from`'s orders and the channels only its
/// identities use leave `into`, which answers again on its own latest channel. What the
/// customer did after the link (a combined cart, new orders) stays with `into`.
pub fn unfold_conversation(into: &mut Conversation, from: &Conversation, into_customer: &Customer) {
    into.orders
        .retain(|order| !from.orders.iter().any(|o| o.id == order.id));
    let kept = |channel: &flows::Channel| {
        into_customer
            .identities
            .iter()
            .any(|identity| identity.channel == *channel)
    };
    into.last_inbound_by_channel
        .retain(|channel, _| kept(channel));
    if into.last_channel.is_some_and(|channel| !kept(&channel)) {
        into.last_channel = into
            .last_inbound_by_channel
            .iter()
            .max_by_key(|(_, at)| **at)
            .map(|(channel, _)| *channel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flows::recovery::Consent;
    use flows::{Channel, CustomerId, Locale};

    fn conversation(id: &str) -> Conversation {
        Conversation::new(CustomerId(id.into()), Locale::En)
    }

    #[test]
    fn the_latest_answer_about_reminders_wins() {
        let mut into = conversation("a");
        let mut from = conversation("b");
        into.recovery.consent = Some(Consent {
            granted: true,
            at: Timestamp(1),
        });
        from.recovery.consent = Some(Consent {
            granted: false,
            at: Timestamp(2),
        });
        from.recovery.opted_out = true;
        from.last_channel = Some(Channel::Telegram);
        from.last_inbound_by_channel
            .insert(Channel::Telegram, Timestamp(5));
        fold_conversation(&mut into, &from);
        assert!(into.recovery.opted_out);
        assert_eq!(into.last_channel, Some(Channel::Telegram));
        let mut older = conversation("c");
        older.recovery.consent = Some(Consent {
            granted: false,
            at: Timestamp(0),
        });
        older.recovery.opted_out = true;
        let mut fresh = conversation("d");
        fresh.recovery.consent = Some(Consent {
            granted: true,
            at: Timestamp(9),
        });
        fold_conversation(&mut fresh, &older);
        assert!(!fresh.recovery.opted_out);
    }
}
