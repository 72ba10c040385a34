//! The small vocabulary every part of the core speaks: ids, the reasons a person is asked
//! for, the kinds of timer, how a customer can be reached, and how a typed code is compared.
//! A leaf: it imports nothing from the crate, so the modules that use these types (actions,
//! events, handoff, orders, bookings, discounts, understanding) do not import each other
//! for them.

use serde::{Deserialize, Serialize};

/// An operator account's id (the console's login name).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OperatorId(pub String);

impl std::fmt::Display for OperatorId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HandoffReason {
    HumanRequested,
    /// A payment arrived for units that sold out meanwhile: someone must refund or restock.
    Oversold,
    /// A payment arrived for an order the customer had cancelled.
    PaidAfterCancel,
    /// The bot did not understand two messages in a row.
    MissedTwice,
    /// The second payment of one order failed.
    PaymentFailedTwice,
    /// A question neither the shop's knowledge nor the catalog answers.
    UnansweredQuestion,
}

/// One timer slot per kind per conversation: setting a kind again replaces it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimerKind {
    /// Resets a half-finished flow after a long silence so the next message starts fresh.
    SessionExpiry,
    /// Nobody took a conversation waiting for a person within the configured time.
    HandoffWait,
    /// The next abandoned-cart reminder falls due.
    CartRecovery,
    /// The next appointment reminder falls due.
    BookingReminder,
    /// The language model has not answered in time: the rules answer instead.
    NluWait,
    /// The customer confirmed "delete my data": due at once, so the request is durable in
    /// the same commit as the confirmation. The shell carries it out (`data_rights::erase`);
    /// the core never steps it.
    Erasure,
}

impl TimerKind {
    pub const ALL: [TimerKind; 6] = [
        TimerKind::SessionExpiry,
        TimerKind::HandoffWait,
        TimerKind::CartRecovery,
        TimerKind::BookingReminder,
        TimerKind::NluWait,
        TimerKind::Erasure,
    ];

    pub const fn name(self) -> &'static str {
        match self {
            TimerKind::SessionExpiry => "session-expiry",
            TimerKind::HandoffWait => "handoff-wait",
            TimerKind::CartRecovery => "cart-recovery",
            TimerKind::BookingReminder => "booking-reminder",
            TimerKind::NluWait => "nlu-wait",
            TimerKind::Erasure => "erasure",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BookingId(pub String);

impl std::fmt::Display for BookingId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct OrderId(pub String);

impl std::fmt::Display for OrderId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum ContactPoint {
    Phone(String),
    Email(String),
}

/// A code as typed, compared without spaces, dashes or case (link codes, discount codes).
pub fn compact_code(text: &str) -> String {
    text.chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect::<String>()
        .to_uppercase()
}
