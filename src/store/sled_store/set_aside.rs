//! Inbound events set aside (the poison guard): `a\0SEQ` counts the attempts made at an
//! event's step that may have taken the process down with them, `d\0SEQ` holds an event
//! taken out of the inbox because its step kept failing, until an admin retries it.

use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use flows::Timestamp;

use super::{SledTrees, console_key, engine, tx_error};
use crate::store::codec::{decode, encode};
use crate::store::keys::u64_key;
use crate::store::records::{InboxEntry, SetAside};
use crate::store::{StoreError, StoreResult};

pub(super) fn attempts_key(seq: u64) -> Vec<u8> {
    console_key("a", &u64_key(seq))
}

pub(super) fn set_aside_key(seq: u64) -> Vec<u8> {
    console_key("d", &u64_key(seq))
}

fn read_count(raw: Option<sled::IVec>) -> u32 {
    raw.and_then(|raw| <[u8; 4]>::try_from(raw.as_ref()).ok())
        .map_or(0, u32::from_be_bytes)
}

impl SledTrees {
    pub(super) fn count_step_attempt(&self, seq: u64) -> StoreResult<u32> {
        let key = attempts_key(seq);
        let mut count = 0;
        self.set_aside
            .fetch_and_update(&key, |old| {
                count = read_count(old.map(sled::IVec::from)).saturating_add(1);
                Some(count.to_be_bytes().to_vec())
            })
            .map_err(engine)?;
        // On disk before the step runs: if the step takes the process down, the next start
        // knows it was tried.
        self.set_aside.flush().map_err(engine)?;
        Ok(count)
    }

    pub(super) fn move_to_set_aside(
        &self,
        seq: u64,
        reason: &str,
        attempts: u32,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let key = u64_key(seq);
        // A logged event is done by its dedup mark, written with the set-aside record.
        let logged = match self.log.mark_of(seq) {
            Some(mark) => self.log.entry(seq)?.map(|entry| (mark, entry)),
            None => None,
        };
        // The log's duplicate check reads `processed` only on its filters' "maybe" (rebuilt
        // from the tree after a prune, without the keys still pending then).
        if let Some(((dedup_key, _), _)) = &logged {
            self.log.mark_seen(dedup_key.as_bytes());
        }
        let moved = (&self.inbox, &self.set_aside, &self.processed)
            .transaction(|(inbox, set_aside, processed)| {
                let entry: InboxEntry = match &logged {
                    Some(((dedup_key, received_at), entry)) => {
                        let at = u64::try_from(received_at.millis()).unwrap_or(0);
                        processed.insert(dedup_key.as_bytes(), &u64_key(at))?;
                        entry.clone()
                    }
                    None => {
                        let Some(raw) = inbox.remove(&key)? else {
                            return Ok(false);
                        };
                        decode("inbox entry", &raw)
                            .map_err(|e| ConflictableTransactionError::Abort(StoreError::from(e)))?
                    }
                };
                let record = SetAside {
                    entry,
                    reason: reason.to_owned(),
                    attempts,
                    set_aside_at: now,
                };
                set_aside.insert(set_aside_key(seq), encode(&record))?;
                set_aside.remove(attempts_key(seq))?;
                Ok(true)
            })
            .map_err(tx_error)?;
        if moved && logged.is_some() {
            self.log.stepped([seq]);
        }
        Ok(moved)
    }

    pub(super) fn set_aside_records(&self) -> StoreResult<Vec<SetAside>> {
        Self::decode_all(
            "set-aside event",
            self.set_aside.scan_prefix(console_key("d", &[])),
            usize::MAX,
        )
    }

    pub(super) fn take_set_aside(&self, seq: u64) -> StoreResult<Option<InboxEntry>> {
        let key = u64_key(seq);
        (&self.inbox, &self.set_aside)
            .transaction(|(inbox, set_aside)| {
                let Some(raw) = set_aside.remove(set_aside_key(seq))? else {
                    return Ok(None);
                };
                let record: SetAside = decode("set-aside event", &raw)
                    .map_err(|e| ConflictableTransactionError::Abort(StoreError::from(e)))?;
                inbox.insert(&key, encode(&record.entry))?;
                Ok(Some(record.entry))
            })
            .map_err(tx_error)
    }

    /// Attempt counts of events no longer in the inbox (their step committed).
    pub(super) fn drop_settled_attempts(&self) -> StoreResult<usize> {
        let mut dropped = 0;
        for item in self.set_aside.scan_prefix(console_key("a", &[])) {
            let (key, _) = item.map_err(engine)?;
            let Some(seq) = key
                .get(2..)
                .and_then(|raw| <[u8; 8]>::try_from(raw).ok())
                .map(u64::from_be_bytes)
            else {
                continue;
            };
            if !self.log.contains(seq) && !self.inbox.contains_key(u64_key(seq)).map_err(engine)? {
                self.set_aside.remove(&key).map_err(engine)?;
                dropped += 1;
            }
        }
        Ok(dropped)
    }

    pub(super) fn step_attempts_of(&self, seq: u64) -> StoreResult<u32> {
        Ok(read_count(
            self.set_aside.get(attempts_key(seq)).map_err(engine)?,
        ))
    }
}
