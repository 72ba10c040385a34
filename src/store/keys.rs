//! Key layouts. Big-endian integers so byte order is numeric order in sled's sorted trees.

use flows::{CustomerId, Identity, TimerKind, Timestamp};

pub fn u64_key(n: u64) -> [u8; 8] {
    n.to_be_bytes()
}

pub fn read_u64(bytes: &[u8]) -> Option<u64> {
    bytes.get(..8)?.try_into().ok().map(u64::from_be_bytes)
}

/// Timestamps before 1970 do not occur; clamping keeps the order total anyway.
fn time_bytes(at: Timestamp) -> [u8; 8] {
    u64::try_from(at.millis()).unwrap_or(0).to_be_bytes()
}

/// The first possible timer key at `at`: a bound for ranges of due times.
pub fn time_key(at: Timestamp) -> [u8; 8] {
    time_bytes(at)
}

pub fn identity_key(identity: &Identity) -> Vec<u8> {
    format!("{}\u{0}{}", identity.channel, identity.external_id).into_bytes()
}

/// Customer id, a zero byte, then the sequence: one customer's history is one key range.
/// Due time first so a range scan from the start yields the earliest timers.
pub fn timer_key(due: Timestamp, customer: &CustomerId, kind: TimerKind) -> Vec<u8> {
    let mut key = time_bytes(due).to_vec();
    key.extend_from_slice(customer.0.as_bytes());
    key.push(0);
    key.extend_from_slice(kind.name().as_bytes());
    key
}

pub fn timer_due_of(key: &[u8]) -> Option<Timestamp> {
    read_u64(key)
        .and_then(|n| i64::try_from(n).ok())
        .map(Timestamp)
}

/// Per conversation and kind: where its one timer currently sits in the due-time tree.
pub fn timer_slot_key(customer: &CustomerId, kind: TimerKind) -> Vec<u8> {
    let mut key = customer.0.as_bytes().to_vec();
    key.push(0);
    key.extend_from_slice(kind.name().as_bytes());
    key
}

pub fn processed_age_key(at: Timestamp, dedup_key: &str) -> Vec<u8> {
    let mut key = time_bytes(at).to_vec();
    key.extend_from_slice(dedup_key.as_bytes());
    key
}
