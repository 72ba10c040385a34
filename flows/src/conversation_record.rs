//! How a conversation is stored: one flat record, the shape every store has written since
//! the first release (golden files in the shell's `tests/golden/` hold it). In memory the
//! conversation is in parts (`Reach`, `OrderBook`, `Appointments` beside `Handoff` and
//! `RecoveryState`); this module is the one place that maps between the two, so the parts
//! can change without a stored-data migration. (serde's `flatten` would do it without the
//! mapping, at several times the decoding cost on every step.)

use std::collections::BTreeMap;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::action::ChoiceAction;
use crate::booking::{Appointments, Booking};
use crate::cart::{Cart, CartLine};
use crate::consent::Consents;
use crate::conversation::{Conversation, FlowState, Profile, Wanted};
use crate::customer::{Channel, CustomerId};
use crate::event::AdReferral;
use crate::handoff::Handoff;
use crate::language::LanguageSense;
use crate::locale::Locale;
use crate::order::{Order, OrderBook};
use crate::reach::Reach;
use crate::recovery::RecoveryState;
use crate::time::Timestamp;
use crate::understanding::PendingNlu;

/// Fields left out of the record when empty, read the same through a reference (the
/// borrowed record holds `&T`, so serde hands its test a `&&T`).
trait Empty {
    fn empty(&self) -> bool;
}

impl<T> Empty for Option<T> {
    fn empty(&self) -> bool {
        self.is_none()
    }
}

impl<T> Empty for Vec<T> {
    fn empty(&self) -> bool {
        self.is_empty()
    }
}

impl Empty for LanguageSense {
    fn empty(&self) -> bool {
        *self == LanguageSense::default()
    }
}

impl Empty for Consents {
    fn empty(&self) -> bool {
        self.is_empty()
    }
}

impl Empty for Wanted {
    fn empty(&self) -> bool {
        self.is_empty()
    }
}

impl<T: Empty + ?Sized> Empty for &T {
    fn empty(&self) -> bool {
        (**self).empty()
    }
}

fn is_empty<T: Empty>(value: &T) -> bool {
    value.empty()
}

/// Declares the stored record twice, owned (read) and borrowed (written), from one list of
/// fields, so the two cannot drift apart.
macro_rules! stored_record {
    ($( $(#[$attr:meta])* $field:ident : $ty:ty ),* $(,)?) => {
        #[derive(Deserialize)]
        struct Stored {
            $( $(#[$attr])* $field: $ty, )*
        }

        // `needs_human` is only ever read (`skip_serializing`).
        #[allow(dead_code)]
        #[derive(Serialize)]
        struct StoredRef<'a> {
            $( $(#[$attr])* $field: &'a $ty, )*
        }
    };
}

stored_record! {
    customer: CustomerId,
    locale: Locale,
    state: FlowState,
    cart: Cart,
    profile: Profile,
    offered: Vec<ChoiceAction>,
    misses: u32,
    last_inbound_at: Option<Timestamp>,
    last_channel: Option<Channel>,
    #[serde(default)]
    last_inbound_by_channel: BTreeMap<Channel, Timestamp>,
    #[serde(default)]
    ad_referral: Option<AdReferral>,
    orders_placed: u32,
    #[serde(default)]
    orders: Vec<Order>,
    #[serde(default)]
    handoff: Handoff,
    #[serde(default)]
    recovery: RecoveryState,
    #[serde(default, skip_serializing_if = "is_empty")]
    preferred_channel: Option<Channel>,
    #[serde(default, skip_serializing_if = "is_empty")]
    pending_cart: Vec<CartLine>,
    /// Records from before the handoff protocol said only this; read once, then `handoff`.
    #[serde(default, rename = "needs_human", skip_serializing)]
    legacy_needs_human: bool,
    #[serde(default)]
    session_timer_due: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "is_empty")]
    bookings: Vec<Booking>,
    #[serde(default)]
    bookings_made: u32,
    #[serde(default)]
    no_shows: u32,
    #[serde(default, skip_serializing_if = "is_empty")]
    booking_timer_due: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "is_empty")]
    wanted: Wanted,
    #[serde(default, skip_serializing_if = "is_empty")]
    language: LanguageSense,
    #[serde(default, skip_serializing_if = "is_empty")]
    pending_nlu: Option<PendingNlu>,
    #[serde(default)]
    nlu_requests: u32,
    #[serde(default, skip_serializing_if = "is_empty")]
    consents: Consents,
}

impl From<Stored> for Conversation {
    fn from(stored: Stored) -> Conversation {
        let Stored {
            customer,
            locale,
            state,
            cart,
            profile,
            offered,
            misses,
            last_inbound_at,
            last_channel,
            last_inbound_by_channel,
            ad_referral,
            orders_placed,
            orders,
            handoff,
            recovery,
            preferred_channel,
            pending_cart,
            legacy_needs_human,
            session_timer_due,
            bookings,
            bookings_made,
            no_shows,
            booking_timer_due,
            wanted,
            language,
            pending_nlu,
            nlu_requests,
            consents,
        } = stored;
        Conversation {
            customer,
            locale,
            state,
            cart,
            profile,
            offered,
            misses,
            reach: Reach {
                last_inbound_at,
                last_channel,
                last_inbound_by_channel,
                preferred_channel,
                ad_referral,
            },
            orders: OrderBook {
                placed: orders_placed,
                recent: orders,
            },
            handoff,
            recovery,
            pending_cart,
            legacy_needs_human,
            session_timer_due,
            appointments: Appointments {
                list: bookings,
                made: bookings_made,
                no_shows,
                reminder_due: booking_timer_due,
            },
            wanted,
            language,
            pending_nlu,
            nlu_requests,
            consents,
        }
    }
}

impl<'de> Deserialize<'de> for Conversation {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Conversation, D::Error> {
        Stored::deserialize(deserializer).map(Conversation::from)
    }
}

impl Serialize for Conversation {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let Conversation {
            customer,
            locale,
            state,
            cart,
            profile,
            offered,
            misses,
            reach:
                Reach {
                    last_inbound_at,
                    last_channel,
                    last_inbound_by_channel,
                    preferred_channel,
                    ad_referral,
                },
            orders:
                OrderBook {
                    placed: orders_placed,
                    recent: orders,
                },
            handoff,
            recovery,
            pending_cart,
            legacy_needs_human,
            session_timer_due,
            appointments:
                Appointments {
                    list: bookings,
                    made: bookings_made,
                    no_shows,
                    reminder_due: booking_timer_due,
                },
            wanted,
            language,
            pending_nlu,
            nlu_requests,
            consents,
        } = self;
        StoredRef {
            customer,
            locale,
            state,
            cart,
            profile,
            offered,
            misses,
            last_inbound_at,
            last_channel,
            last_inbound_by_channel,
            ad_referral,
            orders_placed,
            orders,
            handoff,
            recovery,
            preferred_channel,
            pending_cart,
            legacy_needs_human,
            session_timer_due,
            bookings,
            bookings_made,
            no_shows,
            booking_timer_due,
            wanted,
            language,
            pending_nlu,
            nlu_requests,
            consents,
        }
        .serialize(serializer)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_parts_are_stored_flat_and_read_back_whole() {
        let mut conversation = Conversation::new(CustomerId("c1".into()), Locale::Ro);
        conversation.reach.last_channel = Some(Channel::Telegram);
        conversation.reach.preferred_channel = Some(Channel::WhatsApp);
        conversation
            .reach
            .last_inbound_by_channel
            .insert(Channel::Telegram, Timestamp(5));
        conversation.orders.placed = 3;
        conversation.appointments.made = 2;
        conversation.appointments.no_shows = 1;
        conversation.appointments.reminder_due = Some(Timestamp(9));
        let json = serde_json::to_value(&conversation).expect("serializes");
        for (key, value) in [
            ("last_channel", serde_json::json!("telegram")),
            ("preferred_channel", serde_json::json!("whatsapp")),
            ("orders_placed", serde_json::json!(3)),
            ("bookings_made", serde_json::json!(2)),
            ("no_shows", serde_json::json!(1)),
            ("booking_timer_due", serde_json::json!(9)),
        ] {
            assert_eq!(json.get(key), Some(&value), "{key} in {json}");
        }
        assert!(json.get("needs_human").is_none(), "never written");
        let back: Conversation = serde_json::from_value(json).expect("deserializes");
        assert_eq!(back, conversation);
    }
}
