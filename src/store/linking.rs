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
