//! One customer across channels: what joining two customers (a link code redeemed, a phone
//! shared) does to their records, and how an operator's "unlink" undoes it. Pure: the store
//! loads both sides, calls these and writes the result in one transaction.
//!
//! `merge_conversations` destructures every field of the conversation it folds in, so a new
//! field does not compile until someone decides what a merge does with it. (Forgetting to was
//! how appointments used to vanish when their chat was linked.)

use crate::conversation::Conversation;
use crate::customer::Customer;
use crate::time::Timestamp;

/// Folds `from`'s conversation into `into`'s. `into` keeps its own flow, cart, handoff and
/// session; it gains `from`'s channels and their windows, orders, appointments (with the
/// earlier of the two reminder times), missing profile details, the newer answer about
/// reminders, and answers on `from`'s channel from now on (the customer wrote there last).
/// `from`'s cart is not touched: the shell offers it to the customer.
pub fn merge_conversations(into: &mut Conversation, from: Conversation) {
    let Conversation {
        // `into` is the survivor: its identity, flow and what it last offered stay.
        customer: _,
        state: _,
        offered: _,
        misses: _,
        // Offered to the customer by the shell's `Linked` event, not merged silently.
        cart: _,
        pending_cart: _,
        // The live parts of the conversation stay with the chat that goes on.
        handoff: _,
        session_timer_due: _,
        wanted: _,
        language: _,
        // A reading in flight belongs to the chat it was asked in; its answer is dropped.
        pending_nlu: _,
        nlu_requests: _,
        legacy_needs_human: _,
        consents,
        locale,
        profile,
        reach:
            crate::reach::Reach {
                last_inbound_at,
                last_channel,
                last_inbound_by_channel,
                preferred_channel,
                ad_referral,
            },
        orders:
            crate::order::OrderBook {
                placed: orders_placed,
                recent: orders,
            },
        recovery,
        appointments:
            crate::booking::Appointments {
                list: bookings,
                // Booking ids carry their conversation's customer, so `into`'s numbering
                // cannot collide with `from`'s ids: `into` keeps counting its own.
                made: _,
                no_shows,
                reminder_due: booking_timer_due,
            },
    } = from;
    for (channel, at) in last_inbound_by_channel {
        let entry = into
            .reach
            .last_inbound_by_channel
            .entry(channel)
            .or_insert(at);
        *entry = (*entry).max(at);
    }
    into.reach.last_inbound_at = into.reach.last_inbound_at.max(last_inbound_at);
    if last_channel.is_some() {
        into.reach.last_channel = last_channel;
    }
    into.locale = locale;
    if into.reach.ad_referral.is_none() {
        into.reach.ad_referral = ad_referral;
    }
    into.orders.placed = into.orders.placed.saturating_add(orders_placed);
    for order in orders {
        if !into.orders.recent.iter().any(|o| o.id == order.id) {
            into.orders.recent.push(order);
        }
    }
    into.orders.recent.sort_by_key(|order| order.placed_at);
    let crate::conversation::Profile {
        name,
        contact,
        address,
        time_zone,
    } = profile;
    into.profile.name = into.profile.name.take().or(name);
    into.profile.contact = into.profile.contact.take().or(contact);
    into.profile.address = into.profile.address.take().or(address);
    into.profile.time_zone = into.profile.time_zone.take().or(time_zone);
    // Consent to reminders: the customer's latest word, wherever they said it. The running
    // reminder sequence belongs to `into`'s cart.
    let newer = match (recovery.consent, into.recovery.consent) {
        (Some(theirs), Some(ours)) => theirs.at > ours.at,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if newer {
        into.recovery.consent = recovery.consent;
        into.recovery.opted_out = recovery.opted_out;
    }
    // The consent ledgers as one: the latest answer per purpose, wherever given, is in force.
    into.consents.merge(consents);
    if into.reach.preferred_channel.is_none() {
        into.reach.preferred_channel = preferred_channel;
    }
    for mut booking in bookings {
        if !into.appointments.list.iter().any(|b| b.id == booking.id) {
            booking.customer.clone_from(&into.customer);
            into.appointments.list.push(booking);
        }
    }
    into.appointments.list.sort_by_key(|booking| booking.start);
    into.appointments.no_shows = into.appointments.no_shows.saturating_add(no_shows);
    into.appointments.reminder_due = earliest(into.appointments.reminder_due, booking_timer_due);
}

fn earliest(a: Option<Timestamp>, b: Option<Timestamp>) -> Option<Timestamp> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Undoes `merge_conversations` as far as it can: `from`'s orders and appointments and the
/// channels only `from`'s identities use leave `into`, which answers again on its own latest
/// channel. What the customer did after the link (a combined cart, new orders, new bookings)
/// stays with `into`. `into_customer` is `into`'s customer after `from`'s identities left.
pub fn unmerge_conversation(
    into: &mut Conversation,
    from: &Conversation,
    into_customer: &Customer,
) {
    into.orders
        .recent
        .retain(|order| !from.orders.recent.iter().any(|o| o.id == order.id));
    into.appointments
        .list
        .retain(|booking| !from.appointments.list.iter().any(|b| b.id == booking.id));
    into.appointments.no_shows = into
        .appointments
        .no_shows
        .saturating_sub(from.appointments.no_shows);
    let kept = |channel: &crate::customer::Channel| {
        into_customer
            .identities
            .iter()
            .any(|identity| identity.channel == *channel)
    };
    into.reach
        .last_inbound_by_channel
        .retain(|channel, _| kept(channel));
    if into
        .reach
        .last_channel
        .is_some_and(|channel| !kept(&channel))
    {
        into.reach.last_channel = into
            .reach
            .last_inbound_by_channel
            .iter()
            .max_by_key(|(_, at)| **at)
            .map(|(channel, _)| *channel);
    }
    if into
        .reach
        .preferred_channel
        .is_some_and(|channel| !kept(&channel))
    {
        into.reach.preferred_channel = None;
    }
}

/// `from`'s identities join `into`'s; `into` keeps its name unless it has none.
pub fn merge_customers(into: &mut Customer, from: &Customer) {
    for identity in &from.identities {
        if !into.identities.contains(identity) {
            into.identities.push(identity.clone());
        }
    }
    if into.display_name.is_none() {
        into.display_name.clone_from(&from.display_name);
    }
}

/// Undoes `merge_customers`: `from`'s identities leave `into`.
pub fn unmerge_customer(into: &mut Customer, from: &Customer) {
    into.identities
        .retain(|identity| !from.identities.contains(identity));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::booking::{Booking, BookingId, BookingStatus, ServiceId, StaffId};
    use crate::customer::{Channel, CustomerId, Identity};
    use crate::locale::Locale;
    use crate::recovery::Consent;

    fn conversation(id: &str) -> Conversation {
        Conversation::new(CustomerId(id.into()), Locale::En)
    }

    fn booking(customer: &str, n: u32, start: i64) -> Booking {
        Booking {
            id: BookingId(format!("{customer}-B{n}")),
            customer: CustomerId(customer.into()),
            service: ServiceId("cut".into()),
            staff: StaffId("ana".into()),
            start: Timestamp(start),
            end: Timestamp(start + 1_800_000),
            status: BookingStatus::Booked,
            name: "Ana".into(),
            contact: "+40700000000".into(),
            reminders_done: 0,
            confirmed: false,
            calendar_url: None,
            deposit: None,
        }
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
        from.reach.last_channel = Some(Channel::Telegram);
        from.reach
            .last_inbound_by_channel
            .insert(Channel::Telegram, Timestamp(5));
        merge_conversations(&mut into, from);
        assert!(into.recovery.opted_out);
        assert_eq!(into.reach.last_channel, Some(Channel::Telegram));
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
        merge_conversations(&mut fresh, older);
        assert!(!fresh.recovery.opted_out);
    }

    #[test]
    fn appointments_join_with_the_earliest_reminder_and_name_the_survivor() {
        let mut into = conversation("web");
        into.appointments.list = vec![booking("web", 1, 50_000_000)];
        into.appointments.made = 1;
        into.appointments.reminder_due = Some(Timestamp(40_000_000));
        let mut from = conversation("tg");
        from.appointments.list = vec![booking("tg", 1, 20_000_000), booking("web", 1, 50_000_000)];
        from.appointments.made = 1;
        from.appointments.no_shows = 2;
        from.appointments.reminder_due = Some(Timestamp(10_000_000));
        from.reach.preferred_channel = Some(Channel::Telegram);
        from.profile.time_zone = Some("Europe/Riga".into());
        merge_conversations(&mut into, from.clone());
        let ids: Vec<&str> = into
            .appointments
            .list
            .iter()
            .map(|b| b.id.0.as_str())
            .collect();
        assert_eq!(ids, ["tg-B1", "web-B1"], "by start, none twice");
        assert!(into.appointments.list.iter().all(|b| b.customer.0 == "web"));
        assert_eq!(into.appointments.reminder_due, Some(Timestamp(10_000_000)));
        assert_eq!(into.appointments.made, 1, "its own numbering goes on");
        assert_eq!(into.appointments.no_shows, 2);
        assert_eq!(into.reach.preferred_channel, Some(Channel::Telegram));
        assert_eq!(into.profile.time_zone.as_deref(), Some("Europe/Riga"));

        // Unlinking takes them back out.
        let web_customer = Customer {
            id: CustomerId("web".into()),
            identities: vec![Identity::new(Channel::WebChat, "w")],
            display_name: None,
            locale: None,
            created_at: Timestamp(0),
        };
        from.appointments.list.truncate(1);
        unmerge_conversation(&mut into, &from, &web_customer);
        let ids: Vec<&str> = into
            .appointments
            .list
            .iter()
            .map(|b| b.id.0.as_str())
            .collect();
        assert_eq!(ids, ["web-B1"]);
        assert_eq!(into.appointments.no_shows, 0);
        assert_eq!(
            into.reach.preferred_channel, None,
            "Telegram is not this customer's"
        );
    }

    #[test]
    fn a_chat_without_bookings_keeps_the_survivors_reminder() {
        let mut into = conversation("web");
        into.appointments.reminder_due = Some(Timestamp(7));
        merge_conversations(&mut into, conversation("tg"));
        assert_eq!(into.appointments.reminder_due, Some(Timestamp(7)));
        let mut empty = conversation("web2");
        let mut from = conversation("tg2");
        from.appointments.reminder_due = Some(Timestamp(9));
        merge_conversations(&mut empty, from);
        assert_eq!(empty.appointments.reminder_due, Some(Timestamp(9)));
    }
}
