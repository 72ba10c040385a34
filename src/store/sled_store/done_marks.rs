//! The dedup marks of the events that came through the inbox log ("this event is done"),
//! kept in sled as one record per group-commit round instead of one key per event.
//!
//! Why: an insert that adds a key to a growing sled tree costs sled about 11 µs of CPU
//! (`examples/sled_write_costs.rs`), and the per-event mark in `processed` was one such
//! insert per message. A round's marks in one value cost one insert per round (up to ~80
//! events under load).
//!
//! The duplicate check still answers exactly, by key: an index in memory maps a keyed hash
//! of each mark to its round, and a hit reads that round's record and compares the keys. A
//! hash two keys share costs a read, never a wrong answer: a key whose hash another round's
//! mark holds is kept whole in a side table (with a random 64-bit key, about never).
//!
//! The rules that keep it exact:
//! - A round's record is written in the round's sled transaction, so "this event is done"
//!   commits atomically with its step, as the per-key mark did, and a round that failed
//!   leaves none.
//! - The index learns a round's marks after its transaction and before its events leave the
//!   inbox log's pending keys (`inbox_log::stepped`), so a duplicate check never falls in a
//!   gap between the two.
//! - Records are keyed by an id from sled's counter (which grows across restarts) and hold
//!   the newest time one of their events was received: the retention prune removes whole
//!   records older than its cut (one pass over every record, a record only if unchanged
//!   since read).
//! - An erasure reads and rewrites the records holding its keys inside its own transaction
//!   (two erasures, or an erasure and the prune, never write back a stale copy), then takes
//!   the keys out of the index.
//!
//! Memory: about 20 bytes per mark in the dedup window (`store.dedup_retention_hours`),
//! rebuilt from the records at start-up.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::hash::{BuildHasher, RandomState};
use std::sync::{Mutex, MutexGuard};

use flows::Timestamp;
use serde::{Deserialize, Serialize};
use sled::transaction::ConflictableTransactionError;

use super::engine;
use crate::store::StoreResult;
use crate::store::codec::{decode, encode};

/// One round's marks: each event's dedup key and when it was received.
#[derive(Serialize, Deserialize)]
struct RoundMarks {
    /// The latest of their times: the prune's test.
    newest: Timestamp,
    marks: Vec<(String, Timestamp)>,
}

/// A round's marks, to write in its transaction and then to `learn`.
pub(super) struct NewRound {
    pub id: u64,
    pub value: Vec<u8>,
    keys: Vec<String>,
}

impl NewRound {
    pub(super) fn key(&self) -> [u8; 8] {
        self.id.to_be_bytes()
    }
}

pub(super) struct DoneMarks {
    tree: sled::Tree,
    hasher: RandomState,
    index: Mutex<Index>,
    /// Tests: every key hashes the same, to take the side table's path.
    #[cfg(test)]
    colliding: bool,
}

#[derive(Default)]
struct Index {
    /// A mark's hash → its round.
    by_hash: HashMap<u64, u64>,
    /// Marks whose hash an entry of another round holds, by key.
    whole: HashMap<Box<str>, u64>,
}

impl Index {
    fn learn(&mut self, hash: u64, key: &str, round: u64) {
        match self.by_hash.entry(hash) {
            Entry::Vacant(vacant) => {
                vacant.insert(round);
            }
            // Same round: the record's keys are compared on a hit anyway.
            Entry::Occupied(held) if *held.get() == round => {}
            Entry::Occupied(_) => {
                self.whole.insert(key.into(), round);
            }
        }
    }

    fn forget(&mut self, hash: u64, key: &str, round: u64) {
        if self.by_hash.get(&hash) == Some(&round) {
            self.by_hash.remove(&hash);
        }
        if self.whole.get(key) == Some(&round) {
            self.whole.remove(key);
        }
    }
}

impl DoneMarks {
    /// Opens the records in `db` and indexes every mark they hold.
    pub(super) fn open(db: &sled::Db) -> StoreResult<DoneMarks> {
        let marks = DoneMarks {
            tree: db.open_tree("done_rounds").map_err(engine)?,
            hasher: RandomState::new(),
            index: Mutex::default(),
            #[cfg(test)]
            colliding: false,
        };
        marks.index_all()?;
        Ok(marks)
    }

    fn index_all(&self) -> StoreResult<()> {
        let mut index = self.index();
        for item in self.tree.iter() {
            let (key, value) = item.map_err(engine)?;
            let Some(round) = round_of(&key) else {
                tracing::error!(key = ?key, "a dedup-mark record with a key that is no round id");
                continue;
            };
            match decode::<RoundMarks>("round's dedup marks", &value) {
                Ok(record) => {
                    for (key, _) in &record.marks {
                        index.learn(self.hash(key), key, round);
                    }
                }
                // Kept: a later version may read it. Its events stay unmarked here: one still
                // in the inbox log is driven again at start, and a copy of one is taken as
                // new (a damaged store; the per-key marks had no value to damage).
                Err(error) => {
                    tracing::error!(%error, round, "a round's dedup marks cannot be read")
                }
            }
        }
        Ok(())
    }

    fn index(&self) -> MutexGuard<'_, Index> {
        self.index
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn hash(&self, key: &str) -> u64 {
        #[cfg(test)]
        if self.colliding {
            return 0;
        }
        self.hasher.hash_one(key)
    }

    pub(super) fn tree(&self) -> &sled::Tree {
        &self.tree
    }

    /// The record for a round's marks (none without marks), under a new id.
    pub(super) fn new_round(
        &self,
        db: &sled::Db,
        marks: Vec<(String, Timestamp)>,
    ) -> StoreResult<Option<NewRound>> {
        let Some(newest) = marks.iter().map(|(_, at)| *at).max() else {
            return Ok(None);
        };
        let id = db.generate_id().map_err(engine)?;
        let keys = marks.iter().map(|(key, _)| key.clone()).collect();
        let value = encode(&RoundMarks { newest, marks });
        Ok(Some(NewRound { id, value, keys }))
    }

    /// After the round's transaction committed its record.
    pub(super) fn learn(&self, round: &NewRound) {
        let mut index = self.index();
        for key in &round.keys {
            index.learn(self.hash(key), key, round.id);
        }
    }

    /// The rounds the index names for this key: the side table's and the hash's (a record
    /// says whether it holds the key: an erasure may have taken it out since).
    fn rounds_for(&self, key: &str) -> [Option<u64>; 2] {
        let index = self.index();
        [
            index.whole.get(key).copied(),
            index.by_hash.get(&self.hash(key)).copied(),
        ]
    }

    fn read(&self, round: u64) -> StoreResult<Option<RoundMarks>> {
        match self.tree.get(round.to_be_bytes()).map_err(engine)? {
            Some(raw) => Ok(Some(decode("round's dedup marks", &raw)?)),
            // Pruned meanwhile: forgotten, as the prune means.
            None => Ok(None),
        }
    }

    /// Whether an event with this dedup key is done.
    pub(super) fn holds(&self, key: &str) -> StoreResult<bool> {
        for round in self.rounds_for(key).into_iter().flatten() {
            if self
                .read(round)?
                .is_some_and(|record| record.marks.iter().any(|(marked, _)| marked == key))
            {
                return Ok(true);
            }
        }
        Ok(false)
    }

    /// The rounds whose records may hold these keys (an erasure's: a web chat key names
    /// the session), for `take_out` inside its transaction.
    pub(super) fn rounds_of(&self, keys: &[String]) -> Vec<u64> {
        let mut rounds: Vec<u64> = keys
            .iter()
            .flat_map(|key| self.rounds_for(key))
            .flatten()
            .collect();
        rounds.sort_unstable();
        rounds.dedup();
        rounds
    }

    /// Takes `doomed` out of a round's record, read and written in the caller's transaction
    /// (so two erasures, or the prune, never write back a copy read before another's).
    pub(super) fn take_out<E>(
        tree: &sled::transaction::TransactionalTree,
        round: u64,
        doomed: &HashSet<&str>,
    ) -> Result<(), ConflictableTransactionError<E>> {
        let key = round.to_be_bytes();
        let Some(raw) = tree.get(key)? else {
            return Ok(());
        };
        // Unreadable: kept whole (a later version may read it), as everywhere else.
        let Ok(mut record) = decode::<RoundMarks>("round's dedup marks", &raw) else {
            return Ok(());
        };
        let before = record.marks.len();
        record
            .marks
            .retain(|(key, _)| !doomed.contains(key.as_str()));
        if record.marks.len() == before {
            return Ok(());
        }
        match record.marks.iter().map(|(_, at)| *at).max() {
            Some(newest) => {
                record.newest = newest;
                tree.insert(&key, encode(&record))?;
            }
            None => {
                tree.remove(&key)?;
            }
        }
        Ok(())
    }

    /// After an erasure committed: its keys leave the index (memory holds no key of theirs).
    pub(super) fn forget_keys(&self, keys: &[String]) {
        let mut index = self.index();
        for key in keys {
            index.whole.remove(key.as_str());
            // The hash's entry may be another key's: kept then (its record is checked).
            let hash = self.hash(key);
            if let Some(&round) = index.by_hash.get(&hash)
                && !self
                    .tree
                    .get(round.to_be_bytes())
                    .ok()
                    .flatten()
                    .and_then(|raw| decode::<RoundMarks>("round's dedup marks", &raw).ok())
                    .is_some_and(|record| {
                        record
                            .marks
                            .iter()
                            .any(|(marked, _)| self.hash(marked) == hash)
                    })
            {
                index.by_hash.remove(&hash);
            }
        }
    }

    /// Removes the rounds whose events were all received before `before`, in one pass over
    /// every record (a record per round, so far fewer than the marks). Returns the marks
    /// dropped.
    pub(super) fn prune(&self, before: Timestamp) -> StoreResult<usize> {
        let mut pruned = 0;
        for item in self.tree.iter() {
            let (key, value) = item.map_err(engine)?;
            // An unreadable record is kept (a later version may read it).
            let (Some(round), Ok(record)) = (
                round_of(&key),
                decode::<RoundMarks>("round's dedup marks", &value),
            ) else {
                continue;
            };
            if record.newest >= before {
                continue;
            }
            // Removed only if unchanged since read: an erasure may have rewritten it.
            let removed = self
                .tree
                .compare_and_swap(&key, Some(&value), None as Option<&[u8]>)
                .map_err(engine)?;
            if removed.is_err() {
                continue;
            }
            let mut index = self.index();
            for (key, _) in &record.marks {
                index.forget(self.hash(key), key, round);
            }
            pruned += record.marks.len();
        }
        Ok(pruned)
    }

    /// Every mark with its round: its key and when its event was received (the store's
    /// copy), or why a record cannot be read.
    pub(super) fn visit(
        &self,
        mut each: impl FnMut(u64, Result<(String, Timestamp), String>) -> StoreResult<()>,
    ) -> StoreResult<()> {
        for item in self.tree.iter() {
            let (key, value) = item.map_err(engine)?;
            let round = round_of(&key).unwrap_or(0);
            match decode::<RoundMarks>("round's dedup marks", &value) {
                Ok(record) => {
                    for mark in record.marks {
                        each(round, Ok(mark))?;
                    }
                }
                Err(error) => each(round, Err(error.to_string()))?,
            }
        }
        Ok(())
    }

    /// Marks indexed in memory.
    #[cfg(test)]
    fn len(&self) -> usize {
        let index = self.index();
        index.by_hash.len() + index.whole.len()
    }
}

fn round_of(key: &[u8]) -> Option<u64> {
    key.try_into().ok().map(u64::from_be_bytes)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn db() -> (tempfile::TempDir, sled::Db) {
        let dir = tempfile::tempdir().expect("temp dir");
        let db = sled::Config::new()
            .path(dir.path())
            .open()
            .expect("sled opens");
        (dir, db)
    }

    /// Writes a round's record as the group commit does, then learns it.
    fn commit(marks: &DoneMarks, db: &sled::Db, keys: &[(&str, i64)]) -> u64 {
        let round = marks
            .new_round(
                db,
                keys.iter()
                    .map(|(key, at)| (key.to_string(), Timestamp(*at)))
                    .collect(),
            )
            .expect("id")
            .expect("a round with marks");
        marks
            .tree()
            .insert(round.key(), round.value.as_slice())
            .expect("written");
        marks.learn(&round);
        round.id
    }

    #[test]
    fn marks_are_found_exactly_and_survive_a_reopen() {
        let (_dir, db) = db();
        let marks = DoneMarks::open(&db).expect("opens");
        assert!(marks.new_round(&db, Vec::new()).expect("no id").is_none());
        commit(&marks, &db, &[("wa:one", 10), ("wa:two", 20)]);
        commit(&marks, &db, &[("tg:three", 30)]);
        for key in ["wa:one", "wa:two", "tg:three"] {
            assert!(marks.holds(key).expect("reads"), "{key} is done");
        }
        assert!(!marks.holds("wa:four").expect("reads"));
        assert!(
            !marks.holds("wa:on").expect("reads"),
            "a prefix is another key"
        );
        drop(marks);
        let reopened = DoneMarks::open(&db).expect("reopens");
        assert_eq!(reopened.len(), 3);
        assert!(reopened.holds("wa:two").expect("reads"));
        assert!(!reopened.holds("wa:four").expect("reads"));
    }

    #[test]
    fn keys_sharing_a_hash_are_told_apart() {
        let (_dir, db) = db();
        let mut marks = DoneMarks::open(&db).expect("opens");
        marks.colliding = true;
        commit(&marks, &db, &[("wa:a", 1), ("wa:b", 2)]);
        commit(&marks, &db, &[("wa:c", 3)]);
        for key in ["wa:a", "wa:b", "wa:c"] {
            assert!(marks.holds(key).expect("reads"), "{key} is done");
        }
        assert!(
            !marks.holds("wa:d").expect("reads"),
            "same hash, never marked"
        );
        // The prune of the first round keeps the second's mark, held whole.
        assert_eq!(marks.prune(Timestamp(3)).expect("prunes"), 2);
        assert!(!marks.holds("wa:a").expect("reads"));
        assert!(marks.holds("wa:c").expect("reads"));
    }

    #[test]
    fn an_erasure_takes_keys_out_of_their_rounds_and_the_index() {
        let (_dir, db) = db();
        let marks = DoneMarks::open(&db).expect("opens");
        commit(&marks, &db, &[("webchat:s1:a", 1), ("wa:other", 2)]);
        commit(&marks, &db, &[("webchat:s1:b", 3)]);
        let doomed_keys = ["webchat:s1:a".to_string(), "webchat:s1:b".to_string()];
        let rounds = marks.rounds_of(&doomed_keys);
        assert_eq!(rounds.len(), 2);
        let doomed: HashSet<&str> = doomed_keys.iter().map(String::as_str).collect();
        marks
            .tree()
            .transaction(|tree| {
                for &round in &rounds {
                    DoneMarks::take_out::<()>(tree, round, &doomed)?;
                }
                Ok(())
            })
            .expect("written");
        marks.forget_keys(&doomed_keys);
        assert!(!marks.holds("webchat:s1:a").expect("reads"));
        assert!(!marks.holds("webchat:s1:b").expect("reads"));
        assert!(marks.holds("wa:other").expect("reads"));
        assert_eq!(marks.len(), 1, "the index keeps only the other mark");
        assert_eq!(marks.tree().len(), 1, "the emptied round is gone");
        let mut bytes = Vec::new();
        for item in marks.tree().iter() {
            bytes.extend_from_slice(&item.expect("reads").1);
        }
        assert!(!String::from_utf8_lossy(&bytes).contains("s1:"));
    }

    #[test]
    fn the_prune_drops_rounds_wholly_before_the_cut() {
        let (_dir, db) = db();
        let marks = DoneMarks::open(&db).expect("opens");
        commit(&marks, &db, &[("old:1", 100), ("old:2", 150)]);
        commit(&marks, &db, &[("mixed:1", 150), ("mixed:2", 250)]);
        commit(&marks, &db, &[("new:1", 300)]);
        assert_eq!(marks.prune(Timestamp(200)).expect("prunes"), 2);
        assert!(!marks.holds("old:1").expect("reads"));
        assert!(!marks.holds("old:2").expect("reads"));
        // A round with one mark after the cut keeps all of its marks.
        assert!(marks.holds("mixed:1").expect("reads"));
        assert!(marks.holds("new:1").expect("reads"));
        assert_eq!(marks.tree().len(), 2);
        let mut copied = Vec::new();
        marks
            .visit(|_, mark| {
                copied.push(mark.expect("readable").0);
                Ok(())
            })
            .expect("walks");
        assert_eq!(copied, ["mixed:1", "mixed:2", "new:1"]);
        drop(marks);
        assert_eq!(DoneMarks::open(&db).expect("reopens").len(), 3);
    }
}
