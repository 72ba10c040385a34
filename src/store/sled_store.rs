//! The embedded store on sled 0.34. Each logical collection is a tree; every multi-tree write
//! is one sled transaction, so a step's effects land together or not at all.

use std::path::Path;

use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use sled::{Db, Transactional, Tree};

use flows::{Conversation, Customer, CustomerId, Event, Identity, Order, OrderId, Timestamp};

use super::codec::{decode, encode};
use super::keys::{
    history_key, history_prefix, identity_key, processed_age_key, timer_due_of, timer_key,
    timer_slot_key, u64_key,
};
use super::records::{
    DeadLetter, DeliveryRecord, HistoryEntry, InboxEntry, Ingested, OutboxEntry, SentRecord,
    StepCommit, TimerChange, TimerEntry,
};
use super::{Store, StoreError, StoreResult};

pub struct SledStore {
    db: Db,
    customers: Tree,
    identities: Tree,
    inbox: Tree,
    processed: Tree,
    processed_age: Tree,
    conversations: Tree,
    history: Tree,
    outbox: Tree,
    dead: Tree,
    timers: Tree,
    timer_slots: Tree,
    orders: Tree,
    sent: Tree,
    deliveries: Tree,
    /// Identity → customer, the hottest lookup (every inbound message). Entries never go
    /// stale: an identity only changes customer through `move_identity`, which updates it.
    identity_cache: std::sync::RwLock<std::collections::HashMap<Vec<u8>, CustomerId>>,
}

fn platform_key(channel: flows::Channel, platform_id: &str) -> Vec<u8> {
    format!("{channel}\u{0}{platform_id}").into_bytes()
}

fn engine(error: sled::Error) -> StoreError {
    StoreError::Engine(error.to_string())
}

fn tx_error(error: TransactionError<StoreError>) -> StoreError {
    match error {
        TransactionError::Abort(error) => error,
        TransactionError::Storage(error) => engine(error),
    }
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

impl SledStore {
    pub fn open(path: &Path) -> StoreResult<SledStore> {
        let db = sled::Config::new()
            .path(path)
            // sled's default; named here because the durability argument in ARCHITECTURE.md
            // relies on it: un-flushed commits are at most this old when the process dies.
            .flush_every_ms(Some(500))
            .open()
            .map_err(engine)?;
        let tree = |name: &str| db.open_tree(name).map_err(engine);
        Ok(SledStore {
            customers: tree("customers")?,
            identities: tree("identities")?,
            inbox: tree("inbox")?,
            processed: tree("processed")?,
            processed_age: tree("processed_age")?,
            conversations: tree("conversations")?,
            history: tree("history")?,
            outbox: tree("outbox")?,
            dead: tree("dead_letters")?,
            timers: tree("timers")?,
            timer_slots: tree("timer_slots")?,
            orders: tree("orders")?,
            sent: tree("sent")?,
            deliveries: tree("deliveries")?,
            identity_cache: std::sync::RwLock::default(),
            db,
        })
    }

    fn cached_identity(&self, key: &[u8]) -> Option<CustomerId> {
        let cache = self
            .identity_cache
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.get(key).cloned()
    }

    fn cache_identity(&self, key: Vec<u8>, customer: CustomerId) {
        let mut cache = self
            .identity_cache
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.insert(key, customer);
    }

    fn put_inbox(inbox: &TransactionalTree, mut entry: InboxEntry) -> TxResult<InboxEntry> {
        entry.seq = inbox.generate_id()?;
        inbox.insert(&u64_key(entry.seq), encode(&entry))?;
        Ok(entry)
    }

    fn get_decoded<T: serde::de::DeserializeOwned>(
        tree: &Tree,
        what: &'static str,
        key: &[u8],
    ) -> StoreResult<Option<T>> {
        match tree.get(key).map_err(engine)? {
            Some(bytes) => Ok(Some(decode(what, &bytes)?)),
            None => Ok(None),
        }
    }

    /// Decodes every value of a scan; a value that no longer decodes is logged and skipped
    /// rather than wedging the queue it sits in.
    fn decode_all<T: serde::de::DeserializeOwned>(
        what: &'static str,
        items: impl Iterator<Item = sled::Result<(sled::IVec, sled::IVec)>>,
        limit: usize,
    ) -> StoreResult<Vec<T>> {
        let mut out = Vec::new();
        for item in items {
            if out.len() >= limit {
                break;
            }
            let (key, value) = item.map_err(engine)?;
            match decode(what, &value) {
                Ok(decoded) => out.push(decoded),
                Err(error) => tracing::error!(%error, key = ?key, "skipping undecodable {what}"),
            }
        }
        Ok(out)
    }
}

impl Store for SledStore {
    fn resolve_identity(
        &self,
        identity: &Identity,
        new_customer: Customer,
    ) -> StoreResult<CustomerId> {
        let key = identity_key(identity);
        if let Some(known) = self.cached_identity(&key) {
            return Ok(known);
        }
        let customer = (&self.identities, &self.customers)
            .transaction(|(identities, customers)| {
                if let Some(existing) = identities.get(&key)? {
                    return Ok(CustomerId(String::from_utf8_lossy(&existing).into_owned()));
                }
                identities.insert(key.as_slice(), new_customer.id.0.as_bytes())?;
                customers.insert(new_customer.id.0.as_bytes(), encode(&new_customer))?;
                Ok(new_customer.id.clone())
            })
            .map_err(tx_error)?;
        self.cache_identity(key, customer.clone());
        Ok(customer)
    }

    fn find_identity(&self, identity: &Identity) -> StoreResult<Option<CustomerId>> {
        let key = identity_key(identity);
        if let Some(known) = self.cached_identity(&key) {
            return Ok(Some(known));
        }
        let found = self
            .identities
            .get(&key)
            .map_err(engine)?
            .map(|id| CustomerId(String::from_utf8_lossy(&id).into_owned()));
        if let Some(customer) = &found {
            self.cache_identity(key, customer.clone());
        }
        Ok(found)
    }

    fn customer(&self, id: &CustomerId) -> StoreResult<Option<Customer>> {
        Self::get_decoded(&self.customers, "customer", id.0.as_bytes())
    }

    fn ingest(&self, entry: InboxEntry) -> StoreResult<Ingested> {
        let Some(dedup_key) = entry.dedup_key.clone() else {
            return self
                .inbox
                .transaction(|inbox| Self::put_inbox(inbox, entry.clone()))
                .map(Ingested::New)
                .map_err(tx_error);
        };
        (&self.processed, &self.processed_age, &self.inbox)
            .transaction(|(processed, processed_age, inbox)| {
                if processed.get(dedup_key.as_bytes())?.is_some() {
                    return Ok(Ingested::Duplicate);
                }
                let at = entry.received_at;
                processed.insert(
                    dedup_key.as_bytes(),
                    &u64_key(u64::try_from(at.millis()).unwrap_or(0)),
                )?;
                processed_age.insert(processed_age_key(at, &dedup_key), dedup_key.as_bytes())?;
                Self::put_inbox(inbox, entry.clone()).map(Ingested::New)
            })
            .map_err(tx_error)
    }

    fn pending_inbox(&self) -> StoreResult<Vec<InboxEntry>> {
        Self::decode_all("inbox entry", self.inbox.iter(), usize::MAX)
    }

    fn conversation(&self, id: &CustomerId) -> StoreResult<Option<Conversation>> {
        Self::get_decoded(&self.conversations, "conversation", id.0.as_bytes())
    }

    fn commit(&self, commit: StepCommit) -> StoreResult<Vec<OutboxEntry>> {
        let customer = commit.conversation.customer.clone();
        (
            &self.inbox,
            &self.conversations,
            &self.history,
            &self.outbox,
            &self.timers,
            &self.timer_slots,
            &self.orders,
        )
            .transaction(
                |(inbox, conversations, history, outbox, timers, slots, orders)| {
                    inbox.remove(&u64_key(commit.inbox_seq))?;
                    conversations.insert(customer.0.as_bytes(), encode(&commit.conversation))?;
                    if let Some(inbound) = &commit.inbound {
                        history.insert(
                            history_key(&customer, history.generate_id()?),
                            encode(inbound),
                        )?;
                    }
                    let mut created = Vec::with_capacity(commit.outbox.len());
                    for send in &commit.outbox {
                        let entry = OutboxEntry {
                            id: outbox.generate_id()?,
                            customer: customer.clone(),
                            channel: send.channel,
                            recipient: send.recipient.clone(),
                            locale: send.locale,
                            reply: send.reply.clone(),
                            reply_to: send.reply_to.clone(),
                            attempts: 0,
                            next_attempt_at: commit.now,
                            created_at: commit.now,
                            last_error: None,
                            parts_sent: 0,
                            last_inbound_at: send.last_inbound_at,
                        };
                        outbox.insert(&u64_key(entry.id), encode(&entry))?;
                        let record = HistoryEntry::Out {
                            at: commit.now,
                            outbox_id: entry.id,
                            channel: entry.channel,
                            locale: entry.locale,
                            reply: entry.reply.clone(),
                        };
                        history.insert(
                            history_key(&customer, history.generate_id()?),
                            encode(&record),
                        )?;
                        created.push(entry);
                    }
                    for change in &commit.timers {
                        match change {
                            TimerChange::Set(timer) => {
                                let slot = timer_slot_key(&timer.customer, timer.kind);
                                if let Some(old) = slots.get(&slot)? {
                                    timers.remove(old)?;
                                }
                                let key = timer_key(timer.due, &timer.customer, timer.kind);
                                timers.insert(key.as_slice(), encode(timer))?;
                                slots.insert(slot, key)?;
                            }
                            TimerChange::Cancel { customer, kind } => {
                                if let Some(old) = slots.remove(timer_slot_key(customer, *kind))? {
                                    timers.remove(old)?;
                                }
                            }
                        }
                    }
                    for order in &commit.orders {
                        // Order ids are unique by construction; never let a collision replace
                        // an order a customer may already have paid.
                        if orders.get(order.id.0.as_bytes())?.is_some() {
                            tracing::error!(order = %order.id, "order id exists; keeping the first");
                            continue;
                        }
                        orders.insert(order.id.0.as_bytes(), encode(order))?;
                    }
                    Ok(created)
                },
            )
            .map_err(tx_error)
    }

    fn outbox(&self, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
        Self::decode_all("outbox entry", self.outbox.iter(), limit)
    }

    fn outbox_entry(&self, id: u64) -> StoreResult<Option<OutboxEntry>> {
        Self::get_decoded(&self.outbox, "outbox entry", &u64_key(id))
    }

    fn outbox_depth(&self) -> StoreResult<usize> {
        Ok(self.outbox.len())
    }

    fn outbox_delivered(&self, id: u64, sent: &[SentRecord]) -> StoreResult<()> {
        (&self.outbox, &self.sent)
            .transaction(|(outbox, sent_tree)| {
                outbox.remove(&u64_key(id))?;
                for record in sent {
                    sent_tree.insert(
                        platform_key(record.channel, &record.platform_id),
                        encode(record),
                    )?;
                }
                Ok(())
            })
            .map_err(tx_error)
    }

    fn outbox_reschedule(&self, entry: &OutboxEntry) -> StoreResult<()> {
        // Only if still pending: a concurrent dead-lettering must not be undone.
        let key = u64_key(entry.id);
        self.outbox
            .transaction(|outbox| {
                if outbox.get(key)?.is_some() {
                    outbox.insert(&key, encode(entry))?;
                }
                Ok(())
            })
            .map_err(tx_error)
    }

    fn outbox_dead(&self, entry: OutboxEntry, reason: String, now: Timestamp) -> StoreResult<()> {
        let key = u64_key(entry.id);
        let letter = DeadLetter {
            entry,
            reason,
            failed_at: now,
        };
        (&self.outbox, &self.dead)
            .transaction(|(outbox, dead)| {
                outbox.remove(&key)?;
                dead.insert(&key, encode(&letter))?;
                Ok(())
            })
            .map_err(tx_error)
    }

    fn dead_letters(&self) -> StoreResult<Vec<DeadLetter>> {
        Self::decode_all("dead letter", self.dead.iter(), usize::MAX)
    }

    fn next_timer_due(&self) -> StoreResult<Option<Timestamp>> {
        Ok(self
            .timers
            .first()
            .map_err(engine)?
            .and_then(|(key, _)| timer_due_of(&key)))
    }

    fn fire_due_timers(&self, now: Timestamp) -> StoreResult<Vec<InboxEntry>> {
        let mut due = Vec::new();
        for item in self.timers.iter() {
            let (key, value) = item.map_err(engine)?;
            if timer_due_of(&key).is_none_or(|at| at > now) {
                break;
            }
            due.push((key, value));
        }
        if due.is_empty() {
            return Ok(Vec::new());
        }
        (&self.timers, &self.timer_slots, &self.inbox)
            .transaction(|(timers, slots, inbox)| {
                let mut fired = Vec::new();
                for (key, _) in &due {
                    // Re-read inside the transaction: a commit may have moved the timer.
                    let Some(value) = timers.remove(key)? else {
                        continue;
                    };
                    let timer: TimerEntry = match decode("timer", &value) {
                        Ok(timer) => timer,
                        Err(error) => {
                            tracing::error!(%error, "dropping undecodable timer");
                            continue;
                        }
                    };
                    let slot = timer_slot_key(&timer.customer, timer.kind);
                    if slots.get(&slot)?.is_some_and(|current| current == *key) {
                        slots.remove(slot)?;
                    }
                    let entry = InboxEntry {
                        seq: 0,
                        public_id: format!("timer-{}-{}", timer.kind.name(), timer.due.millis()),
                        dedup_key: None,
                        customer: timer.customer.clone(),
                        event: Event::TimerFired(timer.kind),
                        received_at: now,
                    };
                    fired.push(Self::put_inbox(inbox, entry)?);
                }
                Ok(fired)
            })
            .map_err(tx_error)
    }

    fn history(&self, customer: &CustomerId, limit: usize) -> StoreResult<Vec<HistoryEntry>> {
        // The newest `limit` entries, returned oldest first.
        let mut newest: Vec<HistoryEntry> = Self::decode_all(
            "history entry",
            self.history.scan_prefix(history_prefix(customer)).rev(),
            limit,
        )?;
        newest.reverse();
        Ok(newest)
    }

    fn sent_record(
        &self,
        channel: flows::Channel,
        platform_id: &str,
    ) -> StoreResult<Option<SentRecord>> {
        Self::get_decoded(
            &self.sent,
            "sent record",
            &platform_key(channel, platform_id),
        )
    }

    fn record_delivery(
        &self,
        dedup_key: &str,
        record: &DeliveryRecord,
        received_at: Timestamp,
    ) -> StoreResult<bool> {
        let prefix = platform_key(record.channel, &record.platform_id);
        (&self.processed, &self.processed_age, &self.deliveries)
            .transaction(|(processed, processed_age, deliveries)| {
                if processed.get(dedup_key.as_bytes())?.is_some() {
                    return Ok(false);
                }
                processed.insert(
                    dedup_key.as_bytes(),
                    &u64_key(u64::try_from(received_at.millis()).unwrap_or(0)),
                )?;
                processed_age.insert(
                    processed_age_key(received_at, dedup_key),
                    dedup_key.as_bytes(),
                )?;
                let mut key = prefix.clone();
                key.push(0);
                key.extend_from_slice(&u64_key(deliveries.generate_id()?));
                deliveries.insert(key, encode(record))?;
                Ok(true)
            })
            .map_err(tx_error)
    }

    fn deliveries(
        &self,
        channel: flows::Channel,
        platform_id: &str,
    ) -> StoreResult<Vec<DeliveryRecord>> {
        let mut prefix = platform_key(channel, platform_id);
        prefix.push(0);
        Self::decode_all("delivery", self.deliveries.scan_prefix(prefix), usize::MAX)
    }

    fn move_identity(&self, from: &Identity, to: &Identity) -> StoreResult<bool> {
        if from == to {
            return Ok(false);
        }
        let (old, new) = (identity_key(from), identity_key(to));
        let moved = (&self.identities, &self.customers)
            .transaction(|(identities, customers)| {
                let Some(customer_id) = identities.get(&old)? else {
                    return Ok(None);
                };
                if identities.get(&new)?.is_some() {
                    // The new number already writes as another customer (its first message
                    // may have come before this notice). Joining two customers is a verified
                    // link, not something to do silently here.
                    return Ok(None);
                }
                identities.insert(new.as_slice(), customer_id.clone())?;
                identities.remove(old.as_slice())?;
                if let Some(bytes) = customers.get(&customer_id)? {
                    let mut customer: Customer = decode("customer", &bytes)
                        .map_err(|e| ConflictableTransactionError::Abort(StoreError::from(e)))?;
                    for identity in &mut customer.identities {
                        if identity == from {
                            *identity = to.clone();
                        }
                    }
                    customers.insert(customer_id.clone(), encode(&customer))?;
                }
                Ok(Some(CustomerId(
                    String::from_utf8_lossy(&customer_id).into_owned(),
                )))
            })
            .map_err(tx_error)?;
        let mut cache = self
            .identity_cache
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        cache.remove(&old);
        match moved {
            Some(customer) => {
                cache.insert(new, customer);
                Ok(true)
            }
            None => Ok(false),
        }
    }

    fn order(&self, id: &OrderId) -> StoreResult<Option<Order>> {
        Self::get_decoded(&self.orders, "order", id.0.as_bytes())
    }

    fn prune_processed(&self, before: Timestamp) -> StoreResult<usize> {
        let end = processed_age_key(before, "");
        let mut pruned = 0;
        for item in self.processed_age.range(..end) {
            let (age_key, dedup_key) = item.map_err(engine)?;
            (&self.processed, &self.processed_age)
                .transaction(|(processed, processed_age)| {
                    processed.remove(&dedup_key)?;
                    processed_age.remove(&age_key)?;
                    Ok(())
                })
                .map_err(tx_error)?;
            pruned += 1;
        }
        Ok(pruned)
    }

    fn flush(&self) -> StoreResult<()> {
        self.db.flush().map(|_| ()).map_err(engine)
    }

    fn size_on_disk(&self) -> StoreResult<u64> {
        self.db.size_on_disk().map_err(engine)
    }
}
