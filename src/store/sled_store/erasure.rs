//! Erasure and retention in sled. An erasure is worked out by reading (the keys of every
//! record of the customers), then written in one transaction over every tree it touches,
//! so a crash leaves either all of it or none. Tombstones live in `console`:
//! `erased\0CUSTOMER` (the record), `erased-at\0TIME CUSTOMER` (in time order) and
//! `erased-id\0DIGEST` (when that platform id was erased); the digest key is `privacy-key`.

use std::collections::HashSet;

use sled::Transactional;
use sled::transaction::ConflictableTransactionError;

use flows::{CustomerId, Timestamp};

use super::bookings::{booking_key, token_key};
use super::done_marks::DoneMarks;
use super::outbox_rounds::OutboxRounds;
use super::set_aside::{attempts_key, set_aside_key};
use super::{
    SledTrees, console_key, engine, platform_key, read_count_u64, sent_by_outbox_prefix,
    timer_slots, tx_error,
};
use crate::store::codec::{decode, encode};
use crate::store::erasure_records::{ErasurePlan, ErasureRecord};
use crate::store::keys::{identity_key, u64_key};
use crate::store::linking::LinkCode;
use crate::store::records::{DeadLetter, InboxEntry, OutboxEntry, SetAside};
use crate::store::{StoreError, StoreResult};

// Positions of the trees in the erasure's transaction.
const CUSTOMERS: usize = 0;
const IDENTITIES: usize = 1;
const CONVERSATIONS: usize = 2;
const SUMMARIES: usize = 3;
const INBOX: usize = 4;
const SET_ASIDE: usize = 5;
const OUTBOX: usize = 6;
const DEAD: usize = 7;
const SENT: usize = 8;
const DELIVERIES: usize = 9;
const CHANNEL_STATE: usize = 10;
const COMMERCE: usize = 11;
const ORDERS: usize = 12;
const BOOKINGS: usize = 13;
const TIMERS: usize = 14;
const TIMER_SLOTS: usize = 15;
const PROCESSED: usize = 16;
const CONSOLE: usize = 17;
const DONE_ROUNDS: usize = 18;
const OUTBOX_ROUNDS: usize = 19;

const PRIVACY_KEY: &[u8] = b"privacy-key";

fn erased_key(customer: &CustomerId) -> Vec<u8> {
    console_key("erased", customer.0.as_bytes())
}

fn erased_at_key(at: Timestamp, customer: &CustomerId) -> Vec<u8> {
    let mut key = console_key(
        "erased-at",
        &u64_key(u64::try_from(at.millis()).unwrap_or(0)),
    );
    key.extend_from_slice(customer.0.as_bytes());
    key
}

fn erased_identity_key(digest: &str) -> Vec<u8> {
    console_key("erased-id", digest.as_bytes())
}

/// What one erasure writes: keys to remove and records to write, per tree.
#[derive(Default)]
struct Writes {
    remove: Vec<(usize, Vec<u8>)>,
    insert: Vec<(usize, Vec<u8>, Vec<u8>)>,
    /// Rounds whose records of dedup marks may hold the plan's keys: read and rewritten
    /// inside the transaction (`DoneMarks::take_out`).
    done_rounds: Vec<u64>,
    /// Rounds whose records of sends hold the customers' (`OutboxRounds::take_out`).
    outbox_rounds: Vec<u64>,
}

impl Writes {
    fn remove(&mut self, tree: usize, key: impl Into<Vec<u8>>) {
        self.remove.push((tree, key.into()));
    }

    fn insert(&mut self, tree: usize, key: impl Into<Vec<u8>>, value: Vec<u8>) {
        self.insert.push((tree, key.into(), value));
    }
}

impl SledTrees {
    pub(super) fn erase(&self, plan: &ErasurePlan) -> StoreResult<Option<OutboxEntry>> {
        // The scans of whole trees run before the write lock, so group commits go on
        // meanwhile; the sends' records are looked up under it, where no delivery can be
        // half recorded (`deliver_apart` runs under the same lock).
        // The log's copies of the customers' pending events go first: once the erasure is
        // committed nothing may bring them back (a restart would step them again).
        let customers: HashSet<CustomerId> = plan.customers.iter().cloned().collect();
        self.log.drop_customers(customers.clone())?;
        let (mut writes, mut sends) = self.erasure_writes(plan)?;
        // The statuses of sends whose platform ids the history log holds go before those
        // records (a rewrite flushes sled first): once the records are gone nothing could
        // find the statuses again.
        let mut platforms = self.logged_platforms(&customers, &sends)?;
        self.drop_statuses(&platforms)?;
        // Their sends leave the rounds' records before their sent records leave the
        // history log (its rewrite flushes sled first): a crash in between must not find
        // an accepted send of theirs unsettled at start, and send it again.
        self.take_round_sends(&customers)?;
        // Their history goes from the files before the rest: a restart after a crash in
        // between finds the erasure not done and runs it again.
        self.history_log.drop_customers(&customers)?;
        self.rewriting(|| {
            // A send the platform accepted meanwhile had its records appended after that
            // pass; under this lock no round can append more, and the transaction below
            // takes the sends' outbox entries, so none is recorded after it. Statuses that
            // arrived meanwhile for any of them go too.
            self.queued_writes(&customers.iter().collect(), &mut writes, &mut sends)?;
            platforms.extend(self.logged_platforms(&customers, &sends)?);
            self.drop_statuses(&platforms)?;
            self.history_log.drop_customers(&customers)?;
            self.sent_writes(&sends, &mut writes)?;
            // Under the lock: a round that marked one of their events done has committed.
            writes.done_rounds = self.done.rounds_of(&plan.dedup_keys);
            // Every copy of their sends in rounds' records (accepted ones too: their sent
            // records are gone, and a record must not bring one back at start).
            let (rounds, round_sends) = self.outbox_rounds.of_customers(&customers)?;
            writes.outbox_rounds = rounds;
            let created = self.erase_in_transaction(plan, &writes)?;
            self.done.forget_keys(&plan.dedup_keys);
            self.outbox_rounds.erased(&round_sends)?;
            Ok(created)
        })
    }

    /// Takes every send of these customers out of the rounds' records (the erasure's
    /// transaction does it again under the round lock, for rounds committed meanwhile).
    fn take_round_sends(&self, customers: &HashSet<CustomerId>) -> StoreResult<()> {
        let (rounds, pending) = self.outbox_rounds.of_customers(customers)?;
        if rounds.is_empty() {
            return Ok(());
        }
        self.outbox_rounds
            .tree()
            .transaction(|tree| {
                for &round in &rounds {
                    OutboxRounds::take_out::<StoreError>(tree, round, |send| {
                        customers.contains(&send.customer)
                            && send.reply.text.key != flows::TextKey::ErasureDone
                    })?;
                }
                Ok(())
            })
            .map_err(tx_error)?;
        self.outbox_rounds.erased(&pending)
    }

    /// The customers' sends in the `outbox` tree and the dead letters: removed, and their
    /// ids added to `sends`. Run before the write lock and again under it, where no send of
    /// a round's record can move into either tree meanwhile (a reschedule or a dead letter
    /// takes the lock).
    fn queued_writes(
        &self,
        ids: &HashSet<&CustomerId>,
        writes: &mut Writes,
        sends: &mut HashSet<u64>,
    ) -> StoreResult<()> {
        for item in self.outbox.iter() {
            let (key, value) = item.map_err(engine)?;
            if let Ok(entry) = decode::<OutboxEntry>("outbox entry", &value)
                && ids.contains(&entry.customer)
                && entry.reply.text.key != flows::TextKey::ErasureDone
            {
                sends.insert(entry.id);
                writes.remove(OUTBOX, key.to_vec());
            }
        }
        for item in self.dead.iter() {
            let (key, value) = item.map_err(engine)?;
            if let Ok(letter) = decode::<DeadLetter>("dead letter", &value)
                && ids.contains(&letter.entry.customer)
            {
                sends.insert(letter.entry.id);
                writes.remove(DEAD, key.to_vec());
            }
        }
        Ok(())
    }

    /// The platform keys (channel and id) of the sends whose sent records the history log
    /// holds: `sends`, and any other of `customers`' (a send whose history aged out first).
    fn logged_platforms(
        &self,
        customers: &HashSet<CustomerId>,
        sends: &HashSet<u64>,
    ) -> StoreResult<Vec<Vec<u8>>> {
        let mut ids: HashSet<u64> = sends.clone();
        ids.extend(self.history_log.sent_ids_of(customers));
        let mut platforms = Vec::new();
        for outbox_id in ids {
            for chunk in self.history_log.sent(outbox_id)? {
                let Ok(records) = decode::<Vec<crate::store::SentRecord>>("sent records", &chunk)
                else {
                    continue;
                };
                platforms.extend(
                    records
                        .iter()
                        .map(|record| platform_key(record.channel, &record.platform_id)),
                );
            }
        }
        Ok(platforms)
    }

    /// Removes the delivery statuses recorded for `platforms`.
    fn drop_statuses(&self, platforms: &[Vec<u8>]) -> StoreResult<()> {
        for platform in platforms {
            let mut statuses = platform.clone();
            statuses.push(0);
            for status in self.deliveries.scan_prefix(statuses).keys() {
                self.deliveries
                    .remove(status.map_err(engine)?)
                    .map_err(engine)?;
            }
        }
        Ok(())
    }

    fn erase_in_transaction(
        &self,
        plan: &ErasurePlan,
        writes: &Writes,
    ) -> StoreResult<Option<OutboxEntry>> {
        let trees: Vec<&sled::Tree> = vec![
            &self.customers,
            &self.identities,
            &self.conversations,
            &self.summaries,
            &self.inbox,
            &self.set_aside,
            &self.outbox,
            &self.dead,
            &self.sent,
            &self.deliveries,
            &self.channel_state,
            &self.commerce,
            &self.orders,
            &self.bookings,
            &self.timers,
            &self.timer_slots,
            &self.processed,
            &self.console,
            self.done.tree(),
            self.outbox_rounds.tree(),
        ];
        let doomed: HashSet<&str> = plan.dedup_keys.iter().map(String::as_str).collect();
        let customers: HashSet<CustomerId> = plan.customers.iter().cloned().collect();
        let created = trees
            .as_slice()
            .transaction(|t| {
                for customer in &plan.customers {
                    for kind in flows::TimerKind::ALL {
                        timer_slots::cancel(&t[TIMERS], &t[TIMER_SLOTS], customer, kind)?;
                    }
                }
                for (tree, key) in &writes.remove {
                    t[*tree].remove(key.as_slice())?;
                }
                for (tree, key, value) in &writes.insert {
                    t[*tree].insert(key.as_slice(), value.as_slice())?;
                }
                for &round in &writes.done_rounds {
                    DoneMarks::take_out(&t[DONE_ROUNDS], round, &doomed)?;
                }
                for &round in &writes.outbox_rounds {
                    OutboxRounds::take_out(&t[OUTBOX_ROUNDS], round, |send| {
                        customers.contains(&send.customer)
                            && send.reply.text.key != flows::TextKey::ErasureDone
                    })?;
                }
                let created = match &plan.last_message {
                    Some(send) => {
                        let entry = send.entry(
                            t[OUTBOX].generate_id()?,
                            &plan.record.customer,
                            plan.record.at,
                        );
                        t[OUTBOX].insert(&u64_key(entry.id), encode(&entry))?;
                        Some(entry)
                    }
                    None => None,
                };
                Ok::<_, ConflictableTransactionError<StoreError>>(created)
            })
            .map_err(tx_error)?;
        self.forget_identities(plan);
        Ok(created)
    }

    fn forget_identities(&self, plan: &ErasurePlan) {
        let mut cache = self
            .identity_cache
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for identity in &plan.identities {
            cache.remove(&identity_key(identity));
        }
        let erased: HashSet<&str> = plan.customers.iter().map(|c| c.0.as_str()).collect();
        cache.retain(|_, customer| !erased.contains(customer.0.as_str()));
    }

    /// Reads every key the erasure takes out (outside the transaction: sled cannot scan in
    /// one), and the sends whose records go too (`sent_writes`, under the write lock). The
    /// customer's worker is the only writer of their conversation meanwhile.
    fn erasure_writes(&self, plan: &ErasurePlan) -> StoreResult<(Writes, HashSet<u64>)> {
        let ids: HashSet<&CustomerId> = plan.customers.iter().collect();
        let mut writes = Writes::default();
        for customer in &plan.customers {
            let id = customer.0.as_bytes();
            writes.remove(CUSTOMERS, id);
            writes.remove(CONVERSATIONS, id);
            writes.remove(SUMMARIES, id);
            let mut merges = console_key("merge", id);
            merges.push(0);
            for key in self.channel_state.scan_prefix(merges).keys() {
                writes.remove(CHANNEL_STATE, key.map_err(engine)?.to_vec());
            }
        }
        for identity in &plan.identities {
            let key = identity_key(identity);
            writes.remove(CHANNEL_STATE, console_key("blocked", &key));
            writes.remove(IDENTITIES, key);
        }
        for item in self.channel_state.scan_prefix(console_key("link", b"")) {
            let (key, value) = item.map_err(engine)?;
            if decode::<LinkCode>("link code", &value)
                .is_ok_and(|code| ids.contains(&code.customer))
            {
                writes.remove(CHANNEL_STATE, key.to_vec());
            }
        }
        for item in self.inbox.iter() {
            let (key, value) = item.map_err(engine)?;
            if let Ok(entry) = decode::<InboxEntry>("inbox entry", &value)
                && ids.contains(&entry.customer)
            {
                writes.remove(SET_ASIDE, attempts_key(entry.seq));
                writes.remove(INBOX, key.to_vec());
            }
        }
        for item in self.set_aside.scan_prefix(console_key("d", b"")) {
            let (_, value) = item.map_err(engine)?;
            if let Ok(aside) = decode::<SetAside>("set-aside event", &value)
                && ids.contains(&aside.entry.customer)
            {
                writes.remove(SET_ASIDE, set_aside_key(aside.entry.seq));
                writes.remove(SET_ASIDE, attempts_key(aside.entry.seq));
            }
        }
        let mut sends: HashSet<u64> = plan.outbox_ids.iter().copied().collect();
        self.queued_writes(&ids, &mut writes, &mut sends)?;
        for dedup_key in &plan.dedup_keys {
            writes.remove(PROCESSED, dedup_key.as_bytes());
        }

        for order in &plan.drop_orders {
            writes.remove(ORDERS, order.0.as_bytes());
            let jobs = format!("job\u{0}{order}\u{0}");
            for key in self.commerce.scan_prefix(jobs.as_bytes()).keys() {
                writes.remove(COMMERCE, key.map_err(engine)?.to_vec());
            }
        }
        for order in &plan.keep_orders {
            if self
                .orders
                .contains_key(order.id.0.as_bytes())
                .map_err(engine)?
            {
                writes.insert(ORDERS, order.id.0.as_bytes(), encode(order));
            }
        }
        let mut bookings: HashSet<&str> = plan.drop_bookings.iter().map(|b| b.0.as_str()).collect();
        for booking in &plan.drop_bookings {
            writes.remove(BOOKINGS, booking_key(booking));
        }
        for booking in &plan.keep_bookings {
            bookings.insert(booking.id.0.as_str());
            if self
                .bookings
                .contains_key(booking_key(&booking.id))
                .map_err(engine)?
            {
                writes.insert(BOOKINGS, booking_key(&booking.id), encode(booking));
            }
        }
        for item in self.bookings.scan_prefix(token_key("")) {
            let (key, value) = item.map_err(engine)?;
            if bookings.contains(String::from_utf8_lossy(&value).as_ref()) {
                writes.remove(BOOKINGS, key.to_vec());
            }
        }
        let record = encode(&plan.record);
        for customer in &plan.customers {
            writes.insert(CONSOLE, erased_key(customer), record.clone());
        }
        writes.insert(
            CONSOLE,
            erased_at_key(plan.record.at, &plan.record.customer),
            record,
        );
        let at = u64::try_from(plan.record.at.millis()).unwrap_or(0);
        for digest in &plan.record.identity_digests {
            writes.insert(
                CONSOLE,
                erased_identity_key(digest),
                at.to_be_bytes().to_vec(),
            );
        }
        Ok((writes, sends))
    }

    /// The platform ids of `sends` and the statuses recorded for them.
    fn sent_writes(&self, sends: &HashSet<u64>, writes: &mut Writes) -> StoreResult<()> {
        for &outbox_id in sends {
            // Wherever the send is by now: a dead letter made, or one sent again, since
            // the scan of both trees takes no lock.
            writes.remove(OUTBOX, u64_key(outbox_id));
            writes.remove(DEAD, u64_key(outbox_id));
            let prefix = sent_by_outbox_prefix(outbox_id);
            for key in self.sent.scan_prefix(&prefix).keys() {
                let key = key.map_err(engine)?;
                if let Some(platform) = key.get(prefix.len()..) {
                    writes.remove(SENT, platform.to_vec());
                    let mut statuses = platform.to_vec();
                    statuses.push(0);
                    for status in self.deliveries.scan_prefix(statuses).keys() {
                        writes.remove(DELIVERIES, status.map_err(engine)?.to_vec());
                    }
                }
                writes.remove(SENT, key.to_vec());
            }
        }
        Ok(())
    }

    pub(super) fn erasure(&self, customer: &CustomerId) -> StoreResult<Option<ErasureRecord>> {
        Self::get_decoded(&self.console, "erasure", &erased_key(customer))
    }

    pub(super) fn identity_erased(&self, digest: &str) -> StoreResult<Option<Timestamp>> {
        let found = self
            .console
            .get(erased_identity_key(digest))
            .map_err(engine)?;
        Ok(found
            .and_then(|raw| read_count_u64(&raw))
            .and_then(|at| i64::try_from(at).ok())
            .map(Timestamp))
    }

    pub(super) fn erasures_since(&self, since: Timestamp) -> StoreResult<Vec<ErasureRecord>> {
        let start = console_key(
            "erased-at",
            &u64_key(u64::try_from(since.millis()).unwrap_or(0)),
        );
        let end = console_key("erased-at", &u64_key(u64::MAX));
        Self::decode_all("erasure", self.console.range(start..end), usize::MAX)
    }

    pub(super) fn digest_key(&self) -> StoreResult<Vec<u8>> {
        let fresh = crate::clock::random_hex_128().into_bytes();
        // Whoever writes first wins; every later call reads that key.
        let _ = self
            .console
            .compare_and_swap(PRIVACY_KEY, None as Option<&[u8]>, Some(fresh))
            .map_err(engine)?;
        self.console
            .get(PRIVACY_KEY)
            .map_err(engine)?
            .map(|key| key.to_vec())
            .ok_or_else(|| StoreError::Engine("the privacy key vanished".into()))
    }

    pub(super) fn prune_history(&self, before: Timestamp) -> StoreResult<usize> {
        let pruned = self.history_log.prune(before)?;
        // What became of the messages goes with them: platform ids and delivery statuses.
        for item in self.sent.iter() {
            let (key, value) = item.map_err(engine)?;
            // An empty value under `#`: a store written before, whose record is under the
            // platform key and takes this entry with it below.
            if value.is_empty() {
                continue;
            }
            let Ok(record) = decode::<crate::store::SentRecord>("sent record", &value) else {
                continue;
            };
            if record.at < before {
                if key.first() != Some(&b'#') {
                    let mut index = sent_by_outbox_prefix(record.outbox_id);
                    index.extend_from_slice(&key);
                    self.sent.remove(index).map_err(engine)?;
                }
                self.sent.remove(key).map_err(engine)?;
            }
        }
        for item in self.deliveries.iter() {
            let (key, value) = item.map_err(engine)?;
            if decode::<crate::store::DeliveryRecord>("delivery", &value)
                .is_ok_and(|record| record.at < before)
            {
                self.deliveries.remove(key).map_err(engine)?;
            }
        }
        Ok(pruned)
    }

    pub(super) fn prune_orders(&self, before: Timestamp) -> StoreResult<usize> {
        let mut pruned = 0;
        for item in self.orders.iter() {
            let (key, value) = item.map_err(engine)?;
            let Ok(order) = decode::<flows::Order>("order", &value) else {
                continue;
            };
            if order.placed_at < before {
                let jobs = format!("job\u{0}{}\u{0}", order.id);
                let job_keys: Vec<sled::IVec> = self
                    .commerce
                    .scan_prefix(jobs.as_bytes())
                    .keys()
                    .collect::<Result<_, _>>()
                    .map_err(engine)?;
                (&self.orders, &self.commerce)
                    .transaction(|(orders, commerce)| {
                        orders.remove(&key)?;
                        for job in &job_keys {
                            commerce.remove(job)?;
                        }
                        Ok(())
                    })
                    .map_err(tx_error)?;
                pruned += 1;
            }
        }
        Ok(pruned)
    }
}
