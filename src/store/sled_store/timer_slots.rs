//! Timers in sled: a due-time index (`timers`, key = due, customer, kind) and one slot per
//! conversation and kind (`timer_slots`) saying where its timer sits in the index and when it
//! is really due.
//!
//! Most timers only move later (the session-expiry timer is pushed back by every message),
//! and moving an index entry costs two writes. So a later due time is written to the slot
//! alone and the index entry stays where it is; when it comes due, `take_due` finds the slot
//! due later and moves the entry then, once, instead of on every message. An earlier due time
//! moves the entry at once, so the index never says a timer is due later than it is.
//!
//! Invariant: a slot's index entry exists and is due no later than the slot.

use sled::transaction::TransactionalTree;

use flows::{CustomerId, TimerKind, Timestamp};

use super::TxResult;
use crate::store::codec::encode;
use crate::store::keys::{timer_due_of, timer_key, timer_slot_key};
use crate::store::records::TimerEntry;

/// Marks a slot written with its own due time; a bare index key (older stores) starts with
/// the due time's first byte, which is zero for any time before the year 10 million.
const WITH_DUE: u8 = 0xFF;

/// Where a conversation's timer of one kind sits in the index, and when it is really due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Slot {
    pub indexed: Vec<u8>,
    pub due: Timestamp,
}

impl Slot {
    pub fn read(raw: &[u8]) -> Option<Slot> {
        match raw.split_first() {
            Some((&WITH_DUE, rest)) => {
                let (due, indexed) = rest.split_at_checked(8)?;
                let due = i64::from_be_bytes(due.try_into().ok()?);
                Some(Slot {
                    indexed: indexed.to_vec(),
                    due: Timestamp(due),
                })
            }
            Some(_) => Some(Slot {
                indexed: raw.to_vec(),
                due: timer_due_of(raw)?,
            }),
            None => None,
        }
    }

    fn bytes(&self) -> Vec<u8> {
        let mut raw = Vec::with_capacity(9 + self.indexed.len());
        raw.push(WITH_DUE);
        raw.extend_from_slice(&self.due.0.to_be_bytes());
        raw.extend_from_slice(&self.indexed);
        raw
    }
}

/// Puts `timer` in its conversation's slot for its kind, replacing what was there.
pub(super) fn set(
    timers: &TransactionalTree,
    slots: &TransactionalTree,
    timer: &TimerEntry,
) -> TxResult<()> {
    let slot_key = timer_slot_key(&timer.customer, timer.kind);
    let current = slots.get(&slot_key)?.and_then(|raw| Slot::read(&raw));
    if let Some(slot) = current {
        if timer_due_of(&slot.indexed).is_some_and(|indexed| indexed <= timer.due) {
            let later = Slot {
                indexed: slot.indexed,
                due: timer.due,
            };
            slots.insert(slot_key, later.bytes())?;
            return Ok(());
        }
        timers.remove(slot.indexed)?;
    }
    let indexed = timer_key(timer.due, &timer.customer, timer.kind);
    timers.insert(indexed.as_slice(), encode(timer))?;
    let slot = Slot {
        indexed,
        due: timer.due,
    };
    slots.insert(slot_key, slot.bytes())?;
    Ok(())
}

/// Removes the conversation's timer of `kind`, if it has one.
pub(super) fn cancel(
    timers: &TransactionalTree,
    slots: &TransactionalTree,
    customer: &CustomerId,
    kind: TimerKind,
) -> TxResult<()> {
    if let Some(raw) = slots.remove(timer_slot_key(customer, kind))? {
        if let Some(slot) = Slot::read(&raw) {
            timers.remove(slot.indexed)?;
        }
    }
    Ok(())
}

/// The index entry at `key` has come due at `now`: the timer it stands for fires (returned,
/// with its real due time), or was pushed back and moves to its new place (None).
pub(super) fn take_due(
    timers: &TransactionalTree,
    slots: &TransactionalTree,
    key: &[u8],
    timer: TimerEntry,
    now: Timestamp,
) -> TxResult<Option<TimerEntry>> {
    let slot_key = timer_slot_key(&timer.customer, timer.kind);
    let Some(slot) = slots.get(&slot_key)?.and_then(|raw| Slot::read(&raw)) else {
        // No slot: an index entry from before slots existed; it fires as it is.
        return Ok(Some(timer));
    };
    if slot.indexed != key {
        // The slot moved on without this entry (older stores); the entry fires as before.
        return Ok(Some(timer));
    }
    let real = TimerEntry {
        due: slot.due,
        ..timer
    };
    if real.due > now {
        let indexed = timer_key(real.due, &real.customer, real.kind);
        timers.insert(indexed.as_slice(), encode(&real))?;
        let moved = Slot {
            indexed,
            due: real.due,
        };
        slots.insert(slot_key, moved.bytes())?;
        return Ok(None);
    }
    slots.remove(slot_key)?;
    Ok(Some(real))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_slot_reads_back_and_an_older_bare_key_still_reads() {
        let customer = CustomerId("c1".into());
        let indexed = timer_key(Timestamp(1_000), &customer, TimerKind::SessionExpiry);
        let slot = Slot {
            indexed: indexed.clone(),
            due: Timestamp(5_000),
        };
        assert_eq!(Slot::read(&slot.bytes()), Some(slot));
        let bare = Slot::read(&indexed).map(|slot| slot.due);
        assert_eq!(bare, Some(Timestamp(1_000)));
        assert_eq!(Slot::read(&[]), None);
        assert_eq!(Slot::read(&[WITH_DUE, 1, 2]), None);
    }
}
