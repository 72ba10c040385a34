//! The sends a group-commit round creates, kept in sled as one record per round instead of
//! one outbox key per send.
//!
//! Why: a send's outbox key was an insert into a growing sled tree in the round's
//! transaction, then a removal when the platform accepted it: about 11 µs of sled's CPU per
//! message together (`examples/sled_write_costs.rs`). One record per round costs one insert
//! and one removal per round (up to ~80 steps under load).
//!
//! A send of a round's record is pending until one of these durable facts settles it:
//! - the platform accepted it: its sent record is in the history log (appended with the
//!   round that recorded the acceptance; one with no platform ids, such as a web chat reply,
//!   gets a record without any);
//! - it became a dead letter (`dead_letters` holds its id);
//! - it moved to the `outbox` tree, which then holds the send (a retry rescheduled it, or a
//!   dead letter was sent again): that copy is the send from then on;
//! - an erasure took it out of the record.
//!
//! The rules that keep it exact:
//! - A round's record is written in its transaction, so its sends exist exactly when its
//!   steps committed; the index of pending sends learns them after the transaction, before
//!   any can be handed to the outbox runner.
//! - A record is removed only once all its sends are settled and a flush made those facts
//!   durable (`before_flush`, then `flushed`): a crash before that finds them settled at
//!   start, from the facts, and removes the record then.
//! - At start, each record's sends are checked against the facts; the rest are pending.
//!
//! Memory: the pending sends only (outbox id, round, customer, time), a few in flight.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard};

use flows::{CustomerId, Timestamp};
use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use super::engine;
use crate::store::StoreResult;
use crate::store::codec::{decode, encode};
use crate::store::records::OutboxEntry;

pub(super) struct OutboxRounds {
    tree: sled::Tree,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Sends not settled, by outbox id.
    pending: BTreeMap<u64, Pending>,
    /// Per round with a record: its sends not yet settled.
    open: HashMap<u64, usize>,
    /// Rounds whose sends are all settled, waiting for a flush before their records go.
    settled: Vec<u64>,
}

#[derive(Clone)]
struct Pending {
    round: u64,
    customer: CustomerId,
    created_at: Timestamp,
}

/// A round's sends, to write in its transaction and then to `learn`.
pub(super) struct NewRound {
    id: u64,
    value: Vec<u8>,
    sends: Vec<(u64, CustomerId, Timestamp)>,
}

impl NewRound {
    pub(super) fn key(&self) -> [u8; 8] {
        self.id.to_be_bytes()
    }

    pub(super) fn value(&self) -> &[u8] {
        &self.value
    }
}

impl State {
    /// Takes a send off the pending list; its round goes once none of its sends is left.
    fn settle(&mut self, id: u64) -> Option<Pending> {
        let pending = self.pending.remove(&id)?;
        if let Some(open) = self.open.get_mut(&pending.round) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                self.open.remove(&pending.round);
                self.settled.push(pending.round);
            }
        }
        Some(pending)
    }
}

impl OutboxRounds {
    /// Opens the records in `db`: a send is pending unless `settled` says one of the facts
    /// holds for it; a record with no pending send is removed.
    pub(super) fn open(
        db: &sled::Db,
        settled: impl Fn(u64) -> StoreResult<bool>,
    ) -> StoreResult<OutboxRounds> {
        let tree = db.open_tree("outbox_rounds").map_err(engine)?;
        let mut state = State::default();
        for item in tree.iter() {
            let (key, value) = item.map_err(engine)?;
            let Some(round) = round_of(&key) else {
                tracing::error!(key = ?key, "an outbox round record whose key is no round id");
                continue;
            };
            let sends: Vec<OutboxEntry> = match decode("outbox round", &value) {
                Ok(sends) => sends,
                Err(error) => {
                    // Kept: a later version may read it.
                    tracing::error!(%error, round, "an outbox round record cannot be read");
                    continue;
                }
            };
            let mut open = 0;
            for send in sends {
                if settled(send.id)? {
                    continue;
                }
                open += 1;
                state.pending.insert(
                    send.id,
                    Pending {
                        round,
                        customer: send.customer,
                        created_at: send.created_at,
                    },
                );
            }
            if open == 0 {
                tree.remove(&key).map_err(engine)?;
            } else {
                state.open.insert(round, open);
            }
        }
        Ok(OutboxRounds {
            tree,
            state: Mutex::new(state),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    /// The record for a round's sends (none without sends), under a new id.
    pub(super) fn new_round(
        &self,
        db: &sled::Db,
        sends: &[&OutboxEntry],
    ) -> StoreResult<Option<NewRound>> {
        if sends.is_empty() {
            return Ok(None);
        }
        let id = db.generate_id().map_err(engine)?;
        Ok(Some(NewRound {
            id,
            value: encode(&sends),
            sends: sends
                .iter()
                .map(|send| (send.id, send.customer.clone(), send.created_at))
                .collect(),
        }))
    }

    /// After the round's transaction committed its record.
    pub(super) fn learn(&self, round: &NewRound) {
        let mut state = self.state();
        for (id, customer, created_at) in &round.sends {
            state.pending.insert(
                *id,
                Pending {
                    round: round.id,
                    customer: customer.clone(),
                    created_at: *created_at,
                },
            );
        }
        state.open.insert(round.id, round.sends.len());
    }

    /// Whether a send of a round's record is pending.
    pub(super) fn contains(&self, id: u64) -> bool {
        self.state().pending.contains_key(&id)
    }

    /// Settles a pending send (one of the facts now holds for it); its customer and when
    /// it was made, if it was one.
    pub(super) fn settle(&self, id: u64) -> Option<(CustomerId, Timestamp)> {
        self.state()
            .settle(id)
            .map(|pending| (pending.customer, pending.created_at))
    }

    pub(super) fn len(&self) -> usize {
        self.state().pending.len()
    }

    /// A pending send, read from its round's record.
    pub(super) fn entry(&self, id: u64) -> StoreResult<Option<OutboxEntry>> {
        let Some(round) = self.round_of_send(id) else {
            return Ok(None);
        };
        Ok(self.read(round)?.into_iter().find(|send| send.id == id))
    }

    /// The round whose record holds a pending send.
    pub(super) fn round_of_send(&self, id: u64) -> Option<u64> {
        self.state().pending.get(&id).map(|pending| pending.round)
    }

    /// A round's sends; none for a record that is gone or cannot be read (logged: its
    /// sends are not pending here, and `visit` reports it to the copy).
    fn read(&self, round: u64) -> StoreResult<Vec<OutboxEntry>> {
        let Some(raw) = self.tree.get(round.to_be_bytes()).map_err(engine)? else {
            return Ok(Vec::new());
        };
        Ok(decode("outbox round", &raw).unwrap_or_else(|error| {
            tracing::error!(%error, round, "an outbox round record cannot be read");
            Vec::new()
        }))
    }

    /// The pending sends, oldest first, at most `limit`.
    pub(super) fn entries(&self, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
        let wanted: Vec<(u64, u64)> = self
            .state()
            .pending
            .iter()
            .take(limit)
            .map(|(id, pending)| (*id, pending.round))
            .collect();
        let mut rounds: Vec<u64> = wanted.iter().map(|(_, round)| *round).collect();
        rounds.sort_unstable();
        rounds.dedup();
        let ids: HashSet<u64> = wanted.iter().map(|(id, _)| *id).collect();
        let mut sends = Vec::with_capacity(ids.len());
        for round in rounds {
            sends.extend(
                self.read(round)?
                    .into_iter()
                    .filter(|send| ids.contains(&send.id)),
            );
        }
        sends.sort_by_key(|send| send.id);
        Ok(sends)
    }

    /// The rounds whose records hold sends of these customers, settled or not (an
    /// erasure's: every copy of their sends goes), and their pending sends.
    pub(super) fn of_customers(
        &self,
        customers: &HashSet<CustomerId>,
    ) -> StoreResult<(Vec<u64>, Vec<u64>)> {
        let mut rounds = Vec::new();
        for item in self.tree.iter() {
            let (key, value) = item.map_err(engine)?;
            let Some(round) = round_of(&key) else {
                continue;
            };
            match decode::<Vec<OutboxEntry>>("outbox round", &value) {
                Ok(sends) if sends.iter().any(|send| customers.contains(&send.customer)) => {
                    rounds.push(round);
                }
                Ok(_) => {}
                Err(error) => {
                    tracing::error!(%error, round, "an outbox round record cannot be read; an erasure leaves it whole");
                }
            }
        }
        let ids = self
            .state()
            .pending
            .iter()
            .filter(|(_, pending)| customers.contains(&pending.customer))
            .map(|(id, _)| *id)
            .collect();
        Ok((rounds, ids))
    }

    /// Takes the sends `remove` picks out of a round's record, read and written in the
    /// caller's transaction (an erasure; a send that moves to another tree); whether it
    /// took any.
    pub(super) fn take_out<E>(
        tree: &TransactionalTree,
        round: u64,
        remove: impl Fn(&OutboxEntry) -> bool,
    ) -> Result<bool, ConflictableTransactionError<E>> {
        let key = round.to_be_bytes();
        let Some(raw) = tree.get(key)? else {
            return Ok(false);
        };
        // Unreadable: kept whole (a later version may read it), as at start.
        let Ok(mut sends) = decode::<Vec<OutboxEntry>>("outbox round", &raw) else {
            return Ok(false);
        };
        let before = sends.len();
        sends.retain(|send| !remove(send));
        if sends.len() == before {
            return Ok(false);
        }
        if sends.is_empty() {
            tree.remove(&key)?;
        } else {
            tree.insert(&key, encode(&sends))?;
        }
        Ok(true)
    }

    /// After an erasure's transaction: its sends that are no longer in their records are
    /// settled.
    pub(super) fn erased(&self, ids: &[u64]) -> StoreResult<()> {
        for &id in ids {
            if self.entry(id)?.is_none() {
                self.settle(id);
            }
        }
        Ok(())
    }

    /// Every record: its pending sends, or why it cannot be read (the store's copy).
    pub(super) fn visit(
        &self,
        mut each: impl FnMut(u64, Result<Vec<OutboxEntry>, String>) -> StoreResult<()>,
    ) -> StoreResult<()> {
        for item in self.tree.iter() {
            let (key, value) = item.map_err(engine)?;
            let round = round_of(&key).unwrap_or(0);
            match decode::<Vec<OutboxEntry>>("outbox round", &value) {
                Ok(mut sends) => {
                    sends.retain(|send| self.contains(send.id));
                    each(round, Ok(sends))?;
                }
                Err(error) => each(round, Err(error.to_string()))?,
            }
        }
        Ok(())
    }

    /// Before a flush: the rounds whose sends' facts that flush makes durable.
    pub(super) fn before_flush(&self) -> Vec<u64> {
        std::mem::take(&mut self.state().settled)
    }

    /// A flush failed: the rounds wait for the next.
    pub(super) fn not_flushed(&self, rounds: Vec<u64>) {
        self.state().settled.extend(rounds);
    }

    /// After the flush: their records go (made durable by the next flush; a crash before
    /// it finds every send of theirs settled at start, and so does a removal that failed).
    pub(super) fn flushed(&self, rounds: Vec<u64>) {
        for round in rounds {
            if let Err(error) = self.tree.remove(round.to_be_bytes()) {
                tracing::error!(%error, round, "an outbox round record could not be removed; the next start does");
            }
        }
    }

    /// A pending send's customer and when it was made.
    pub(super) fn customer_of(&self, id: u64) -> Option<(CustomerId, Timestamp)> {
        self.state()
            .pending
            .get(&id)
            .map(|pending| (pending.customer.clone(), pending.created_at))
    }
}

fn round_of(key: &[u8]) -> Option<u64> {
    key.try_into().ok().map(u64::from_be_bytes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use flows::{Channel, Locale, Reply, TextKey};

    fn send(id: u64, customer: &str) -> OutboxEntry {
        OutboxEntry {
            id,
            customer: CustomerId(customer.into()),
            channel: Channel::WebChat,
            recipient: "r".into(),
            locale: Locale::En,
            reply: Reply::key(TextKey::Menu),
            reply_to: None,
            attempts: 0,
            next_attempt_at: Timestamp(id as i64),
            created_at: Timestamp(id as i64),
            last_error: None,
            parts_sent: 0,
            last_inbound_at: None,
        }
    }

    /// Writes a round's record as the group commit does, then learns it.
    fn commit(rounds: &OutboxRounds, db: &sled::Db, sends: &[OutboxEntry]) {
        let sends: Vec<&OutboxEntry> = sends.iter().collect();
        let round = rounds.new_round(db, &sends).expect("id").expect("sends");
        rounds
            .tree()
            .insert(round.key(), round.value())
            .expect("written");
        rounds.learn(&round);
    }

    fn ids(rounds: &OutboxRounds) -> Vec<u64> {
        rounds
            .entries(usize::MAX)
            .expect("reads")
            .iter()
            .map(|send| send.id)
            .collect()
    }

    #[test]
    fn a_round_record_goes_after_the_flush_that_follows_its_last_settled_send() {
        let (dir, db) = {
            let dir = tempfile::tempdir().expect("temp dir");
            let db = sled::open(dir.path()).expect("sled opens");
            (dir, db)
        };
        let rounds = OutboxRounds::open(&db, |_| Ok(false)).expect("opens");
        assert!(rounds.new_round(&db, &[]).expect("no id").is_none());
        commit(&rounds, &db, &[send(1, "a"), send(2, "b")]);
        commit(&rounds, &db, &[send(3, "a")]);
        assert_eq!(ids(&rounds), [1, 2, 3]);
        assert_eq!(rounds.entry(2).expect("reads").map(|s| s.id), Some(2));
        assert_eq!(
            rounds.settle(1).map(|(customer, _)| customer),
            Some(CustomerId("a".into()))
        );
        assert!(rounds.settle(1).is_none(), "settled once");
        assert!(
            rounds.before_flush().is_empty(),
            "the round still has a send"
        );
        rounds.settle(2);
        let settled = rounds.before_flush();
        assert_eq!(settled.len(), 1);
        assert_eq!(rounds.tree().len(), 2, "kept until the flush");
        rounds.flushed(settled);
        assert_eq!(rounds.tree().len(), 1);
        assert_eq!(ids(&rounds), [3]);
        assert!(rounds.entry(1).expect("reads").is_none());
        drop(rounds);
        // At start the facts decide: send 3 is settled by one of them here.
        let reopened = OutboxRounds::open(&db, |id| Ok(id == 3)).expect("reopens");
        assert_eq!(reopened.len(), 0);
        assert_eq!(
            reopened.tree().len(),
            0,
            "a record with nothing pending goes"
        );
        drop(dir);
    }

    #[test]
    fn an_erasure_takes_its_customers_sends_out_of_the_records() {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = sled::open(dir.path()).expect("sled opens");
        let rounds = OutboxRounds::open(&db, |_| Ok(false)).expect("opens");
        let mut farewell = send(3, "gone");
        farewell.reply = Reply::key(TextKey::ErasureDone);
        commit(&rounds, &db, &[send(1, "gone"), send(2, "kept"), farewell]);
        commit(&rounds, &db, &[send(4, "gone")]);
        // Send 1 was accepted: settled, but still in its round's record.
        rounds.settle(1);
        let customers: HashSet<CustomerId> = [CustomerId("gone".into())].into();
        let (doomed_rounds, sends) = rounds.of_customers(&customers).expect("reads");
        assert_eq!(doomed_rounds.len(), 2);
        assert_eq!(sends, [3, 4]);
        rounds
            .tree()
            .transaction(|tree| {
                for &round in &doomed_rounds {
                    OutboxRounds::take_out::<()>(tree, round, |send| {
                        customers.contains(&send.customer)
                            && send.reply.text.key != TextKey::ErasureDone
                    })?;
                }
                Ok(())
            })
            .expect("written");
        rounds.erased(&sends).expect("settled");
        assert_eq!(ids(&rounds), [2, 3], "the erasure's own message stays");
        let mut bytes = Vec::new();
        for item in rounds.tree().iter() {
            bytes.extend_from_slice(&item.expect("reads").1);
        }
        let kept: Vec<OutboxEntry> = decode("outbox round", &bytes).expect("one record");
        assert_eq!(
            kept.iter().map(|send| send.id).collect::<Vec<_>>(),
            [2, 3],
            "the settled send of theirs is gone from the record too"
        );
        let settled = rounds.before_flush();
        rounds.flushed(settled);
        assert_eq!(rounds.tree().len(), 1);
    }
}
