//! What the store is asked to do when a customer is erased, and what stays of them.

use serde::{Deserialize, Serialize};

use flows::booking::{Booking, BookingId};
use flows::{CustomerId, Identity, Order, OrderId, Timestamp};

use super::records::NewOutbox;

/// Everything to take out of the store for one erasure, worked out beforehand from the
/// store's own records (`data_rights::erase::plan`); carried out in one transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct ErasurePlan {
    /// The customer asked about and every chat linked into them: their records, identities'
    /// rows, conversations, history, summaries, timers, pending and set-aside events,
    /// pending and dead sends (but the last message), merge records and link codes go.
    pub customers: Vec<CustomerId>,
    /// Their chat identities: the rows that point at them and the blocks on them.
    pub identities: Vec<Identity>,
    /// Sends of theirs whose platform message ids and delivery news go.
    pub outbox_ids: Vec<u64>,
    /// Dedup keys that carry a platform id of theirs (web chat sessions, senders).
    pub dedup_keys: Vec<String>,
    /// Written over the stored ones: kept for accounting, stripped of the person.
    pub keep_orders: Vec<Order>,
    pub drop_orders: Vec<OrderId>,
    pub keep_bookings: Vec<Booking>,
    pub drop_bookings: Vec<BookingId>,
    /// "Your data has been deleted", to the channel they wrote on last; queued in the same
    /// transaction, it is the one send of theirs that stays until it is sent.
    pub last_message: Option<NewOutbox>,
    pub record: ErasureRecord,
}

/// What stays of an erased customer: when, who asked, and their platform ids only as
/// salted digests, so a chat from one of them is known as erased, never linked back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErasureRecord {
    /// The customer the erasure was asked for.
    pub customer: CustomerId,
    /// Every customer id it covered (linked chats).
    pub customers: Vec<CustomerId>,
    pub at: Timestamp,
    /// `customer` (they asked in chat), an operator's login, `admin-api` or `retention`.
    pub by: String,
    pub identity_digests: Vec<String>,
    pub orders_kept: u32,
    pub bookings_kept: u32,
}
