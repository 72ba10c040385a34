//! The embedded store on sled 0.34. Each logical collection is a tree. A step's effects, and
//! an ingest's dedup mark with its inbox entry, are one sled transaction: they land together or
//! not at all. A sled transaction costs a log write of its own, so hot paths batch them (many
//! steps and events per transaction); accepted sends and the per-status writes are plain
//! writes in an order that a crash between them cannot turn into a loss. Platform events
//! (with a dedup key) are accepted into the inbox log instead (`inbox_log.rs`); their step
//! writes their dedup mark where an inbox-tree event's step removes its entry.

mod bookings;
mod done_marks;
mod erasure;
#[cfg(feature = "postgres")]
mod export;
mod history_log;
mod inbox_log;
mod outbox_rounds;
mod recent;
mod recovering;
mod seen_keys;
mod segment_files;
mod set_aside;
mod timer_slots;

pub use recovering::SledStore;

use std::collections::HashSet;
use std::path::Path;

use sled::transaction::{ConflictableTransactionError, TransactionError, TransactionalTree};
use sled::{Db, Transactional, Tree};

use flows::{Conversation, Customer, CustomerId, Event, Identity, Order, OrderId, Sku, Timestamp};

use super::codec::{decode, encode};
use super::console_records::{ConsoleSession, ConversationSummary, Invite, KnownDevice, Operator};
use super::history_chunk;
use super::keys::{identity_key, processed_age_key, time_key, timer_due_of, u64_key};
use super::linking::{LinkCode, MergeRecord, Redeemed};
use super::records::{
    DeadLetter, Delivered, DeliveryRecord, GroupWritten, HistoryEntry, InboxEntry, Ingested,
    OrderUpdate, OutboxEntry, PaymentJob, PaymentSession, SentRecord, SetAside, StepCommit,
    TimerChange, TimerEntry, WriteGroup,
};
use super::{ListPage, ListQuery, StoreError, StoreResult};

/// The sled database and its trees; `SledStore` (recovering.rs) is the handle the shell uses.
pub struct SledTrees {
    db: Db,
    customers: Tree,
    identities: Tree,
    inbox: Tree,
    processed: Tree,
    processed_age: Tree,
    /// The dedup marks of logged events, a record per group-commit round (`done_marks.rs`).
    done: std::sync::Arc<done_marks::DoneMarks>,
    conversations: Tree,
    history: Tree,
    outbox: Tree,
    /// The sends of each group-commit round, one record per round (`outbox_rounds.rs`);
    /// `outbox` holds sends moved out of them (rescheduled, sent again) and older ones.
    outbox_rounds: outbox_rounds::OutboxRounds,
    dead: Tree,
    timers: Tree,
    timer_slots: Tree,
    orders: Tree,
    /// Payment jobs (`job\0…`), units sold (`sold\0SKU`) and their base (`stock-base`),
    /// demo pay tokens (`pay\0…`): small records the commerce flows keep.
    commerce: Tree,
    sent: Tree,
    deliveries: Tree,
    /// The conversation list's rows, one per customer, written with each step.
    summaries: Tree,
    /// Operators (`op\0NAME`), login sessions (`session\0DIGEST`), the set-up token
    /// (`setup\0DIGEST`).
    console: Tree,
    /// Per-channel facts: Telegram callback tokens (`cb\0TOKEN`), blocked identities
    /// (`blocked\0CHANNEL\0ID`).
    channel_state: Tree,
    /// Appointment calendars, bookings and their calendar-link tokens (`sled_store/bookings.rs`).
    bookings: Tree,
    /// Attempt counts and events set aside by the poison guard (`sled_store/set_aside.rs`).
    set_aside: Tree,
    /// Identity → customer, the hottest lookup (every inbound message). Entries never go
    /// stale: an identity only changes customer through `move_identity`, which updates it.
    identity_cache: std::sync::RwLock<std::collections::HashMap<Vec<u8>, CustomerId>>,
    /// The conversations and customer records workers read before a step (`recent.rs`).
    recent: recent::Recent,
    /// Platform events accepted outside the group commit's transactions (`inbox_log.rs`).
    log: inbox_log::InboxLog,
    /// The steps' history records, appended beside sled (`history_log.rs`).
    history_log: history_log::HistoryLog,
}

fn platform_key(channel: flows::Channel, platform_id: &str) -> Vec<u8> {
    format!("{channel}\u{0}{platform_id}").into_bytes()
}

fn engine(error: sled::Error) -> StoreError {
    match error {
        // A full or failing disk: sled refuses everything after it until reopened.
        sled::Error::Io(_) => StoreError::Unavailable(error.to_string()),
        other => StoreError::Engine(other.to_string()),
    }
}

/// A previous holder of the store (a process still exiting, or a just-dropped handle whose
/// background writes are finishing) keeps sled's file lock for a moment: wait for it rather
/// than fail a restart.
fn open_waiting_for_lock(config: &sled::Config) -> StoreResult<Db> {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match config.open() {
            Err(sled::Error::Io(error))
                if error.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            result => return result.map_err(engine),
        }
    }
}

fn tx_error(error: TransactionError<StoreError>) -> StoreError {
    match error {
        TransactionError::Abort(error) => error,
        TransactionError::Storage(error) => engine(error),
    }
}

type TxResult<T> = Result<T, ConflictableTransactionError<StoreError>>;

impl SledTrees {
    pub fn open(path: &Path) -> StoreResult<SledTrees> {
        let config = sled::Config::new()
            .path(path)
            // sled's default; named here because the durability argument in ARCHITECTURE.md
            // relies on it: un-flushed commits are at most this old when the process dies.
            .flush_every_ms(Some(500));
        let db = open_waiting_for_lock(&config)?;
        let tree = |name: &str| db.open_tree(name).map_err(engine);
        let processed = tree("processed")?;
        let done = std::sync::Arc::new(done_marks::DoneMarks::open(&db)?);
        let log = inbox_log::InboxLog::open(&path.join("inbox-log"), &db, &processed, &done)?;
        let history = tree("history")?;
        let history_log = history_log::HistoryLog::open(&path.join("history-log"), &db, &history)?;
        history_log.move_in_from_sled()?;
        let (outbox, dead) = (tree("outbox")?, tree("dead_letters")?);
        let outbox_rounds = outbox_rounds::OutboxRounds::open(&db, |id| {
            let key = u64_key(id);
            Ok(history_log.has_sent(id)
                || dead.contains_key(key).map_err(engine)?
                || outbox.contains_key(key).map_err(engine)?)
        })?;
        Ok(SledTrees {
            customers: tree("customers")?,
            identities: tree("identities")?,
            inbox: tree("inbox")?,
            processed,
            processed_age: tree("processed_age")?,
            done,
            conversations: tree("conversations")?,
            history,
            outbox,
            outbox_rounds,
            dead,
            timers: tree("timers")?,
            timer_slots: tree("timer_slots")?,
            orders: tree("orders")?,
            commerce: tree("commerce")?,
            sent: tree("sent")?,
            deliveries: tree("deliveries")?,
            summaries: tree("summaries")?,
            console: tree("console")?,
            channel_state: tree("channel_state")?,
            bookings: tree("bookings")?,
            set_aside: tree("set_aside")?,
            identity_cache: std::sync::RwLock::default(),
            recent: recent::Recent::default(),
            log,
            history_log,
            db,
        })
    }

    /// Opens and closes the store at `path`, once nothing else holds it. sled 0.34 writes
    /// its page-table snapshot only when it opens, after replaying the log written since
    /// the last one, so every open pays for everything written since the previous open.
    /// Done after a graceful stop, that cost is paid while nobody waits, and the next start
    /// opens from a fresh snapshot (see `examples/timers_bench.rs` for the numbers).
    pub fn settle(path: &Path) -> StoreResult<std::time::Duration> {
        let started = std::time::Instant::now();
        let config = sled::Config::new().path(path);
        drop(open_waiting_for_lock(&config)?);
        Ok(started.elapsed())
    }

    fn end_sessions_of(&self, operator: &str) -> StoreResult<()> {
        for item in self.console.scan_prefix(console_key("session", b"")) {
            let (key, value) = item.map_err(engine)?;
            let theirs = decode::<ConsoleSession>("console session", &value)
                .map(|session| session.operator == operator)
                .unwrap_or(true);
            if theirs {
                self.console.remove(key).map_err(engine)?;
            }
        }
        Ok(())
    }

    /// Runs a write of conversations or customer records other than a step's commit: the
    /// workers' cache of them is emptied after it, in its turn (`recent.rs`).
    fn rewriting<T>(&self, write: impl FnOnce() -> StoreResult<T>) -> StoreResult<T> {
        let writing = self.recent.writing();
        let written = write();
        self.recent.forget_all();
        drop(writing);
        // A moved identity or a merge may be what the next logged event refers to.
        self.log.directory_written();
        written
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

    /// Accepts one event unless its dedup key was seen; reads see this transaction's own
    /// writes, so a key twice in one group is a duplicate the second time.
    /// The dedup key's value is when it was seen: pruning reads that (one write per event
    /// instead of two; an age index cost a write on every webhook to save a daily scan).
    /// `done`: the keys among the round's that a logged event's step marked done.
    fn ingest_one(
        log: &inbox_log::InboxLog,
        processed: &TransactionalTree,
        inbox: &TransactionalTree,
        entry: &InboxEntry,
        done: &HashSet<&str>,
    ) -> TxResult<Ingested> {
        let Some(dedup_key) = &entry.dedup_key else {
            return Self::put_inbox(inbox, entry.clone()).map(Ingested::New);
        };
        if log.holds_key(dedup_key)
            || done.contains(dedup_key.as_str())
            || processed.get(dedup_key.as_bytes())?.is_some()
        {
            return Ok(Ingested::Duplicate);
        }
        // Before the mark can be seen: the log's check of a later copy must not miss it.
        log.mark_seen(dedup_key.as_bytes());
        let at = entry.received_at;
        processed.insert(
            dedup_key.as_bytes(),
            &u64_key(u64::try_from(at.millis()).unwrap_or(0)),
        )?;
        Self::put_inbox(inbox, entry.clone()).map(Ingested::New)
    }

    fn put_inbox(inbox: &TransactionalTree, mut entry: InboxEntry) -> TxResult<InboxEntry> {
        entry.seq = inbox.generate_id()?;
        inbox.insert(&u64_key(entry.seq), encode(&entry))?;
        Ok(entry)
    }

    /// Removes the invitations `doomed` picks (and any that cannot be read).
    fn drop_invites(&self, doomed: impl Fn(&Invite) -> bool) -> StoreResult<usize> {
        let mut dropped = 0;
        for item in self.console.scan_prefix(console_key("invite", b"")) {
            let (key, value) = item.map_err(engine)?;
            if decode::<Invite>("invite", &value).map_or(true, |invite| doomed(&invite)) {
                self.console.remove(key).map_err(engine)?;
                dropped += 1;
            }
        }
        Ok(dropped)
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

/// The trees one step writes, inside a transaction.
struct StepTrees<'a> {
    /// The round's steps whose events are in the inbox log: the round's record of dedup
    /// marks says they are done.
    logged: &'a HashSet<u64>,
    inbox: &'a TransactionalTree,
    conversations: &'a TransactionalTree,
    timers: &'a TransactionalTree,
    timer_slots: &'a TransactionalTree,
    orders: &'a TransactionalTree,
    commerce: &'a TransactionalTree,
    summaries: &'a TransactionalTree,
}

fn console_key(kind: &str, id: &[u8]) -> Vec<u8> {
    let mut key = kind.as_bytes().to_vec();
    key.push(0);
    key.extend_from_slice(id);
    key
}

/// `sent` holds each platform message a send became under `#`, the outbox id, then the
/// platform key, the record as its value: one write per platform message, always at the
/// tree's growing end (outbox ids grow), where a second copy under the platform key alone
/// (stores written before keep it, with an empty value under `#`) was an insert at a
/// random place in a growing tree, the dearest kind of sled write (examples/store_cost.sh:
/// about 7% of souk's CPU per message for the two). Stores written before hold the record
/// under the platform key too, with under `#` an empty value or the same record again;
/// every reader takes each record once. Platform keys start with a channel name, never `#`.
fn sent_by_outbox_prefix(outbox_id: u64) -> Vec<u8> {
    let mut key = b"#".to_vec();
    key.extend_from_slice(&u64_key(outbox_id));
    key
}

fn job_key(job: &PaymentJob) -> Vec<u8> {
    let mut key = format!("job\u{0}{}\u{0}", job.order).into_bytes();
    key.extend_from_slice(&job.attempt.to_be_bytes());
    key
}

fn sold_key(sku: &Sku) -> Vec<u8> {
    format!("sold\u{0}{sku}").into_bytes()
}

fn level_key(sku: &Sku) -> Vec<u8> {
    format!("level\u{0}{sku}").into_bytes()
}

fn payment_session_key(id: &str) -> Vec<u8> {
    let mut key = b"psess\0".to_vec();
    key.extend_from_slice(id.as_bytes());
    key
}

/// Indexes an order's payment sessions: `psord\0{order}\0{session}`.
fn order_session_key(order: &OrderId, session: &str) -> Vec<u8> {
    format!("psord\u{0}{order}\u{0}{session}").into_bytes()
}

fn pay_key(digest: &[u8]) -> Vec<u8> {
    let mut key = b"pay\0".to_vec();
    key.extend_from_slice(digest);
    key
}

const STOCK_BASE_KEY: &[u8] = b"stock-base";

/// A big-endian u64 value (a dedup key's time seen); `None` for anything else.
fn read_count_u64(bytes: &[u8]) -> Option<u64> {
    bytes.try_into().ok().map(u64::from_be_bytes)
}

fn read_count(bytes: Option<sled::IVec>) -> u32 {
    bytes
        .and_then(|b| b.as_ref().try_into().ok().map(u32::from_be_bytes))
        .unwrap_or(0)
}

impl StepTrees<'_> {
    /// Moves a stored order on. Becoming paid counts its units as sold, once: a second
    /// paid update finds the money already taken and changes nothing. A payment that went
    /// past the last unit puts `OrderOversold` in the inbox in the same transaction, so the
    /// conversation hears of it even if the process stops right after the commit.
    fn update_order(&self, update: &OrderUpdate, now: Timestamp) -> TxResult<()> {
        let key = update.order.0.as_bytes();
        let Some(raw) = self.orders.get(key)? else {
            tracing::error!(order = %update.order, "status change for an unknown order");
            return Ok(());
        };
        let order: Order =
            decode("order", &raw).map_err(|e| ConflictableTransactionError::Abort(e.into()))?;
        // The counts are read inside this transaction; concurrent payments write the same
        // keys, so sled serializes them: only the one past the catalog's number sees it.
        let mut read_error = None;
        let change = flows::stock::Update {
            status: update.status,
            tracking: update.tracking.clone(),
            by: update.by.clone(),
        };
        let applied = flows::stock::apply_update(order, &change, now, |sku| {
            let read = || -> TxResult<flows::stock::Count> {
                Ok(flows::stock::Count {
                    sold: read_count(self.commerce.get(sold_key(sku))?),
                    level: self
                        .commerce
                        .get(level_key(sku))?
                        .map(|raw| read_count(Some(raw))),
                })
            };
            read().unwrap_or_else(|error| {
                read_error.get_or_insert(error);
                flows::stock::Count {
                    sold: 0,
                    level: None,
                }
            })
        });
        if let Some(error) = read_error {
            return Err(error);
        }
        for (sku, sold) in &applied.sold {
            self.commerce.insert(sold_key(sku), &sold.to_be_bytes())?;
        }
        if !applied.order.oversold.is_empty() && !applied.sold.is_empty() {
            Self::put_oversold(self.inbox, &applied.order, &applied.order.oversold, now)?;
        }
        self.orders.insert(key, encode(&applied.order))?;
        Ok(())
    }

    /// The conversation list's row: last activity, unread customer messages, who owns it.
    fn update_summary(&self, commit: &StepCommit) -> TxResult<()> {
        let customer = &commit.conversation.customer;
        let key = customer.0.as_bytes();
        let old: Option<ConversationSummary> = match self.summaries.get(key)? {
            Some(raw) => Some(
                decode("summary", &raw)
                    .map_err(|e| ConflictableTransactionError::Abort(e.into()))?,
            ),
            None => None,
        };
        let inbound = commit.history.iter().filter_map(|record| match record {
            HistoryEntry::In { at, channel, .. } => Some((*at, *channel)),
            _ => None,
        });
        let summary = ConversationSummary::after_step(
            old.clone(),
            &commit.conversation,
            inbound,
            !commit.outbox.is_empty(),
            commit.now,
        );
        if old.as_ref() != Some(&summary) {
            self.summaries.insert(key, encode(&summary))?;
        }
        Ok(())
    }

    fn put_oversold(
        inbox: &TransactionalTree,
        order: &Order,
        skus: &[Sku],
        now: Timestamp,
    ) -> TxResult<()> {
        SledTrees::put_inbox(
            inbox,
            InboxEntry {
                claim: None,
                seq: 0,
                public_id: format!("oversold-{}", order.id),
                dedup_key: None,
                customer: order.customer.clone(),
                event: flows::Event::OrderOversold {
                    order: order.id.clone(),
                    skus: skus.to_vec(),
                },
                received_at: now,
            },
        )
        .map(drop)
    }

    /// Everything one step produced, its sends (`created`, numbered before) with it.
    fn apply(&self, commit: &StepCommit) -> TxResult<()> {
        let customer = &commit.conversation.customer;
        // The event is done: a logged one by its dedup mark in the round's record (the
        // log's record of it goes once this is flushed), one of the inbox tree by leaving it.
        if !self.logged.contains(&commit.inbox_seq) {
            self.inbox.remove(&u64_key(commit.inbox_seq))?;
        }
        self.conversations
            .insert(customer.0.as_bytes(), encode(&commit.conversation))?;
        self.update_summary(commit)?;
        for change in &commit.timers {
            match change {
                TimerChange::Set(timer) => timer_slots::set(self.timers, self.timer_slots, timer)?,
                TimerChange::Cancel { customer, kind } => {
                    timer_slots::cancel(self.timers, self.timer_slots, customer, *kind)?;
                }
            }
        }
        for order in &commit.orders {
            // Order ids are unique by construction; never let a collision replace an order a
            // customer may already have paid.
            if self.orders.get(order.id.0.as_bytes())?.is_some() {
                tracing::error!(order = %order.id, "order id exists; keeping the first");
                continue;
            }
            let placed = order.as_placed();
            self.orders.insert(order.id.0.as_bytes(), encode(&placed))?;
        }
        for update in &commit.order_updates {
            self.update_order(update, commit.now)?;
        }
        for job in &commit.payment_jobs {
            self.commerce.insert(job_key(job), encode(job))?;
        }
        Ok(())
    }
}

/// A step's history record: what came in and the replies it made.
fn history_record(commit: &StepCommit, created: &[OutboxEntry]) -> Option<history_log::NewRecord> {
    let replies: Vec<HistoryEntry> = created
        .iter()
        .map(|entry| entry.as_history(commit.now))
        .collect();
    let history: Vec<&HistoryEntry> = commit.history.iter().chain(&replies).collect();
    let newest = history.iter().map(|entry| entry.at()).max()?;
    Some(history_log::NewRecord {
        customer: commit.conversation.customer.clone(),
        newest,
        chunk: history_chunk::encode_chunk(&history),
        sent: None,
    })
}

/// A send's sent records as a history log record (none when the platform gave no ids).
fn sent_log_record(delivered: &Delivered) -> Option<history_log::NewRecord> {
    let first = delivered.sent.first()?;
    Some(history_log::NewRecord {
        customer: first.customer.clone(),
        newest: delivered.sent.iter().map(|record| record.at).max()?,
        chunk: encode(&delivered.sent),
        sent: Some(delivered.outbox_id),
    })
}

/// The `Directory` role, synchronous; `SledStore` offers it async.
impl SledTrees {
    pub(super) fn resolve_identity(
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
        // The event that follows may be logged: the customer must be on disk with it.
        self.log.directory_written();
        self.cache_identity(key, customer.clone());
        Ok(customer)
    }

    pub(super) fn find_identity(&self, identity: &Identity) -> StoreResult<Option<CustomerId>> {
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

    pub(super) fn customer(&self, id: &CustomerId) -> StoreResult<Option<Customer>> {
        Self::get_decoded(&self.customers, "customer", id.0.as_bytes())
    }

    pub(super) fn move_identity(&self, from: &Identity, to: &Identity) -> StoreResult<bool> {
        if from == to {
            return Ok(false);
        }
        let (old, new) = (identity_key(from), identity_key(to));
        let moved = self.rewriting(|| {
            (&self.identities, &self.customers)
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
                        let mut customer: Customer = decode("customer", &bytes).map_err(|e| {
                            ConflictableTransactionError::Abort(StoreError::from(e))
                        })?;
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
                .map_err(tx_error)
        })?;
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

    pub(super) fn set_blocked(&self, identity: &Identity, blocked: bool) -> StoreResult<()> {
        let key = console_key("blocked", &identity_key(identity));
        if blocked {
            self.channel_state.insert(key, &[1u8]).map_err(engine)?;
        } else if self.channel_state.remove(key).map_err(engine)?.is_some() {
            // Lifted by the customer's new message, which may go to the inbox log next: the
            // lift must be on disk before that message is (as a new customer is). A second
            // message racing this one may be logged just before the flag; a crash then keeps
            // the block until the next message lifts it again.
            self.log.directory_written();
        }
        Ok(())
    }

    pub(super) fn is_blocked(&self, identity: &Identity) -> StoreResult<bool> {
        self.channel_state
            .contains_key(console_key("blocked", &identity_key(identity)))
            .map_err(engine)
    }

    pub(super) fn put_link_code(&self, code: &str, record: &LinkCode) -> StoreResult<()> {
        self.channel_state
            .insert(console_key("link", code.as_bytes()), encode(record))
            .map_err(engine)?;
        Ok(())
    }

    pub(super) fn redeem_link_code(&self, code: &str, now: Timestamp) -> StoreResult<Redeemed> {
        let key = console_key("link", code.as_bytes());
        self.channel_state
            .transaction(|state| {
                let Some(raw) = state.get(&key)? else {
                    return Ok(Redeemed::Unknown);
                };
                let mut record: LinkCode = decode("link code", &raw)
                    .map_err(|e| ConflictableTransactionError::Abort(e.into()))?;
                if record.used {
                    return Ok(Redeemed::Used);
                }
                if record.expires_at <= now {
                    return Ok(Redeemed::Expired);
                }
                record.used = true;
                state.insert(key.as_slice(), encode(&record))?;
                Ok(Redeemed::Valid(record.customer))
            })
            .map_err(tx_error)
    }

    pub(super) fn merge_customers(
        &self,
        from: &CustomerId,
        into: &CustomerId,
        now: Timestamp,
    ) -> StoreResult<Vec<flows::CartLine>> {
        let (cart, moved) = self.rewriting(|| self.merge_in_transaction(from, into, now))?;
        // Identities are looked up through the cache first: it must follow the merge.
        for identity in moved {
            self.cache_identity(identity_key(&identity), into.clone());
        }
        Ok(cart)
    }

    pub(super) fn unmerge_customers(
        &self,
        from: &CustomerId,
        into: &CustomerId,
    ) -> StoreResult<bool> {
        let mut prefix = console_key("merge", into.0.as_bytes());
        prefix.push(0);
        let mut found = None;
        for item in self.channel_state.scan_prefix(&prefix) {
            let (key, value) = item.map_err(engine)?;
            let record: MergeRecord = decode("merge record", &value)?;
            if record.from.id == *from {
                found = Some((key, record));
            }
        }
        let Some((key, record)) = found else {
            return Ok(false);
        };
        self.rewriting(|| self.unmerge_in_transaction(&key, &record))?;
        for identity in &record.from.identities {
            self.cache_identity(identity_key(identity), from.clone());
        }
        Ok(true)
    }

    pub(super) fn merged_into(&self, into: &CustomerId) -> StoreResult<Vec<MergeRecord>> {
        let mut prefix = console_key("merge", into.0.as_bytes());
        prefix.push(0);
        Self::decode_all(
            "merge record",
            self.channel_state.scan_prefix(prefix),
            usize::MAX,
        )
    }
}

/// The `CommitLog` role, synchronous; `SledStore` offers it async.
impl SledTrees {
    pub(super) fn in_inbox(&self, seq: u64) -> StoreResult<bool> {
        Ok(self.log.contains(seq) || self.inbox.contains_key(u64_key(seq)).map_err(engine)?)
    }

    /// The inbox tree's events and the log's, by seq (one counter numbers both).
    pub(super) fn pending_inbox(&self) -> StoreResult<Vec<InboxEntry>> {
        let mut pending: Vec<InboxEntry> =
            Self::decode_all("inbox entry", self.inbox.iter(), usize::MAX)?;
        pending.extend(self.log.pending_entries()?);
        pending.sort_by_key(|entry| entry.seq);
        Ok(pending)
    }

    /// Accepts platform events (each with a dedup key) into the inbox log, outside the
    /// group commit's rounds; answers once they are on disk.
    pub(super) fn append_inbox(&self, entries: Vec<InboxEntry>) -> inbox_log::Appended {
        self.log.append(entries)
    }

    pub(super) fn note_step_attempt(&self, seq: u64) -> StoreResult<u32> {
        self.count_step_attempt(seq)
    }

    pub(super) fn step_attempts(&self, seq: u64) -> StoreResult<u32> {
        self.step_attempts_of(seq)
    }

    pub(super) fn forget_settled_attempts(&self) -> StoreResult<usize> {
        self.drop_settled_attempts()
    }

    pub(super) fn set_aside(
        &self,
        seq: u64,
        reason: &str,
        attempts: u32,
        now: Timestamp,
    ) -> StoreResult<bool> {
        self.move_to_set_aside(seq, reason, attempts, now)
    }

    pub(super) fn set_aside_events(&self) -> StoreResult<Vec<SetAside>> {
        self.set_aside_records()
    }

    pub(super) fn retry_set_aside(&self, seq: u64) -> StoreResult<Option<InboxEntry>> {
        self.take_set_aside(seq)
    }

    pub(super) fn conversation(&self, id: &CustomerId) -> StoreResult<Option<Conversation>> {
        Self::get_decoded(&self.conversations, "conversation", id.0.as_bytes())
    }

    /// What a worker reads before a step: from memory when a step or an earlier read left
    /// it there (`recent.rs`).
    pub(super) fn conversation_with_customer(
        &self,
        id: &CustomerId,
    ) -> StoreResult<(Option<Conversation>, Option<Customer>)> {
        let asked = self.recent.lookup(id);
        let conversation = match &asked.conversation {
            Some(kept) => Some(kept.clone()),
            None => self.conversation(id)?,
        };
        let customer = match &asked.customer {
            Some(kept) => Some(kept.clone()),
            None => self.customer(id)?,
        };
        if asked.conversation.is_none() || asked.customer.is_none() {
            self.recent
                .fill(&asked, id, conversation.as_ref(), customer.as_ref());
        }
        Ok((conversation, customer))
    }

    /// A round's events and steps, in one transaction; their history records are appended
    /// to the history log first, and the log's new end committed with them.
    fn transact_groups(
        &self,
        parts: &[WriteGroup],
        sent: Vec<history_log::NewRecord>,
    ) -> StoreResult<Vec<GroupWritten>> {
        // The sends are numbered and the history records written (and fsynced) before the
        // transaction: sled runs its closure holding its global lock, which every other
        // sled write waits on.
        let mut created: Vec<Vec<Vec<OutboxEntry>>> = Vec::with_capacity(parts.len());
        let mut records = Vec::new();
        for part in parts {
            let mut steps = Vec::with_capacity(part.steps.len());
            for commit in &part.steps {
                let mut entries = Vec::with_capacity(commit.outbox.len());
                for send in &commit.outbox {
                    let id = self.db.generate_id().map_err(engine)?;
                    entries.push(send.entry(id, &commit.conversation.customer, commit.now));
                }
                records.extend(history_record(commit, &entries));
                steps.push(entries);
            }
            created.push(steps);
        }
        records.extend(sent);
        // The logged events' dedup marks, one record for the round (`done_marks.rs`); and
        // which of the keys arriving through the round the log's events already marked.
        let mut logged = HashSet::new();
        let mut marks = Vec::new();
        for commit in parts.iter().flat_map(|part| &part.steps) {
            if let Some(mark) = self.log.mark_of(commit.inbox_seq) {
                logged.insert(commit.inbox_seq);
                marks.push(mark);
            }
        }
        let round = self.done.new_round(&self.db, marks)?;
        let sends: Vec<&OutboxEntry> = created.iter().flatten().flatten().collect();
        let sends = self.outbox_rounds.new_round(&self.db, &sends)?;
        let mut done_keys = HashSet::new();
        for entry in parts.iter().flat_map(|part| &part.ingest) {
            if let Some(key) = &entry.dedup_key
                && self.done.holds(key)?
            {
                done_keys.insert(key.as_str());
            }
        }
        let mut appender = self.history_log.appender();
        let end = if records.is_empty() {
            None
        } else {
            Some(appender.write(&records)?)
        };
        let written = (
            &self.processed,
            &self.inbox,
            &self.conversations,
            &self.history,
            &self.timers,
            &self.timer_slots,
            &self.orders,
            &self.commerce,
            &self.summaries,
            self.done.tree(),
            self.outbox_rounds.tree(),
        )
            .transaction(
                |(
                    processed,
                    inbox,
                    conversations,
                    history,
                    timers,
                    timer_slots,
                    orders,
                    commerce,
                    summaries,
                    done,
                    outbox_rounds,
                )| {
                    let trees = StepTrees {
                        logged: &logged,
                        inbox,
                        conversations,
                        timers,
                        timer_slots,
                        orders,
                        commerce,
                        summaries,
                    };
                    let mut written = Vec::with_capacity(parts.len());
                    for (part, created) in parts.iter().zip(&created) {
                        let ingested = part
                            .ingest
                            .iter()
                            .map(|entry| {
                                Self::ingest_one(&self.log, processed, inbox, entry, &done_keys)
                            })
                            .collect::<TxResult<Vec<_>>>()?;
                        for commit in &part.steps {
                            trees.apply(commit)?;
                        }
                        written.push(GroupWritten {
                            ingested,
                            created: created.clone(),
                            taken: Vec::new(),
                        });
                    }
                    // The history log's new end commits with the steps.
                    if let Some(end) = end {
                        history.insert(history_log::END_KEY, &end.encode())?;
                    }
                    if let Some(round) = &round {
                        done.insert(&round.key(), round.value.as_slice())?;
                    }
                    if let Some(sends) = &sends {
                        outbox_rounds.insert(&sends.key(), sends.value())?;
                    }
                    Ok(written)
                },
            )
            .map_err(tx_error)?;
        // Before `write_groups` takes the events out of the log's pending keys.
        if let Some(round) = &round {
            self.done.learn(round);
        }
        // Before the sends are handed to the outbox runner.
        if let Some(sends) = &sends {
            self.outbox_rounds.learn(sends);
        }
        appender.commit();
        Ok(written)
    }

    pub(super) fn write_groups(&self, parts: &[WriteGroup]) -> StoreResult<Vec<GroupWritten>> {
        let writing = self.recent.writing();
        let delivered = self.still_pending(parts.iter().flat_map(|part| &part.delivered))?;
        let sent: Vec<history_log::NewRecord> = delivered
            .iter()
            .filter_map(|delivered| {
                sent_log_record(delivered).or_else(|| {
                    // A send of a round's record settles by its sent record, which one
                    // with no platform ids (a web chat reply) gets without any.
                    let (customer, made) = self.outbox_rounds.customer_of(delivered.outbox_id)?;
                    Some(history_log::NewRecord {
                        customer,
                        // When it was accepted, as the others' (the prune ages them by it).
                        newest: crate::clock::now().max(made),
                        chunk: encode(&delivered.sent),
                        sent: Some(delivered.outbox_id),
                    })
                })
            })
            .collect();
        let written = if parts
            .iter()
            .all(|part| part.ingest.is_empty() && part.steps.is_empty())
        {
            // Accepted sends only: their records go into the history log, no transaction.
            if !sent.is_empty() {
                self.history_log.append(&sent)?;
            }
            vec![GroupWritten::default(); parts.len()]
        } else {
            self.transact_groups(parts, sent)?
        };
        self.log.stepped(
            parts
                .iter()
                .flat_map(|part| &part.steps)
                .map(|step| step.inbox_seq),
        );
        self.recent.stepped(
            parts
                .iter()
                .flat_map(|part| &part.steps)
                .map(|step| &step.conversation),
        );
        if let Err(error) = self.deliver_apart(&delivered) {
            // The steps above are committed: failing the round now would have each part
            // written again alone. The sends stay in the store's outbox and go again at the
            // next start (at-least-once); a disk error fails the round's flush, and so every
            // caller, anyway.
            tracing::error!(%error, "could not record sends the platform accepted");
        }
        drop(writing);
        Ok(written)
    }

    pub(super) fn history(
        &self,
        customer: &CustomerId,
        limit: usize,
    ) -> StoreResult<Vec<HistoryEntry>> {
        self.history_log.history(customer, limit)
    }

    pub(super) fn append_history(
        &self,
        customer: &CustomerId,
        entry: &HistoryEntry,
    ) -> StoreResult<()> {
        self.history_log.append(&[history_log::NewRecord {
            customer: customer.clone(),
            newest: entry.at(),
            chunk: history_chunk::encode_chunk(&[entry]),
            sent: None,
        }])
    }
}

/// The `Outbox` role, synchronous; `SledStore` offers it async.
impl SledTrees {
    /// The pending sends, oldest first: the `outbox` tree's and the rounds' records'.
    pub(super) fn outbox(&self, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
        // The rounds first: a send moving to the tree meanwhile is then read in one place
        // or both, never in neither; read in both, the tree's copy is the one kept (first
        // of equal ids in a stable sort).
        let in_rounds = self.outbox_rounds.entries(limit)?;
        let mut sends = Self::decode_all("outbox entry", self.outbox.iter(), limit)?;
        sends.extend(in_rounds);
        sends.sort_by_key(|send| send.id);
        sends.dedup_by_key(|send| send.id);
        sends.truncate(limit);
        Ok(sends)
    }

    pub(super) fn outbox_entry(&self, id: u64) -> StoreResult<Option<OutboxEntry>> {
        // The round first, as in `outbox`: a send moving to the tree is never missed.
        let in_round = self.outbox_rounds.entry(id)?;
        match Self::get_decoded(&self.outbox, "outbox entry", &u64_key(id))? {
            Some(entry) => Ok(Some(entry)),
            None => Ok(in_round),
        }
    }

    pub(super) fn outbox_depth(&self) -> StoreResult<usize> {
        Ok(self.outbox.len() + self.outbox_rounds.len())
    }

    /// The accepted sends still in the outbox; one gone already (erased meanwhile, or
    /// recorded twice) has nothing written for it. Asked under `recent.writing()`, which an
    /// erasure holds too, so none can go between this and the round's writes.
    fn still_pending<'p>(
        &self,
        delivered: impl Iterator<Item = &'p Delivered>,
    ) -> StoreResult<Vec<&'p Delivered>> {
        let mut pending = Vec::new();
        let mut seen = std::collections::HashSet::new();
        for delivered in delivered {
            // Recorded twice in one round: once (the outbox entry is still there for both).
            if seen.insert(delivered.outbox_id)
                && (self.outbox_rounds.contains(delivered.outbox_id)
                    || self
                        .outbox
                        .contains_key(u64_key(delivered.outbox_id))
                        .map_err(engine)?)
            {
                pending.push(delivered);
            }
        }
        Ok(pending)
    }

    /// Sends the platform accepted leave the outbox. Their sent records (by outbox id: the
    /// console's ticks find the statuses through their platform ids) went into the history
    /// log with the round, before this: a crash in between leaves the send to be sent
    /// again, as any send whose acceptance was not recorded yet.
    ///
    /// Plain removals after the round's transaction, not in it: a transactional write reads
    /// the key first (a second tree walk) and the transaction holds sled's global lock, the
    /// path every webhook's 200 waits on (examples/store_cost.sh: about 4% more messages a
    /// second). Runs inside `write_groups`, under `recent.writing()`, so an erasure (which
    /// holds it too) never sees half of it.
    fn deliver_apart(&self, delivered: &[&Delivered]) -> StoreResult<()> {
        for &delivered in delivered {
            // A round's send is settled by its sent record, appended with this round; its
            // round's record goes after a flush once all its sends are (`outbox_rounds.rs`).
            if self.outbox_rounds.settle(delivered.outbox_id).is_none() {
                self.outbox
                    .remove(u64_key(delivered.outbox_id))
                    .map_err(engine)?;
            }
        }
        Ok(())
    }

    /// Moves a pending send of a round's record into `to` (the outbox tree, the dead
    /// letters) as `value`, taking it out of the record in one transaction; false if it is
    /// no round's. Under the round lock, which an erasure holds while it collects the
    /// customers' sends from both places.
    fn move_out_of_round(&self, id: u64, to: &Tree, value: &[u8]) -> StoreResult<bool> {
        if !self.outbox_rounds.contains(id) {
            return Ok(false);
        }
        let _writing = self.recent.writing();
        let Some(round) = self.outbox_rounds.round_of_send(id) else {
            return Ok(false);
        };
        let key = u64_key(id);
        let moved = (to, self.outbox_rounds.tree())
            .transaction(|(to, rounds)| {
                // Only a send its record still holds (an erasure may have taken it).
                let taken =
                    outbox_rounds::OutboxRounds::take_out::<StoreError>(rounds, round, |send| {
                        send.id == id
                    })?;
                if taken {
                    to.insert(&key, value)?;
                }
                Ok(taken)
            })
            .map_err(tx_error)?;
        self.outbox_rounds.settle(id);
        Ok(moved)
    }

    pub(super) fn outbox_reschedule(&self, entry: &OutboxEntry) -> StoreResult<()> {
        let key = u64_key(entry.id);
        // A round's send moves to the tree, which holds it from then on: out of its round's
        // record in the same transaction, so no copy of it is left to come back at start.
        if self.move_out_of_round(entry.id, &self.outbox, &encode(entry))? {
            return Ok(());
        }
        // Only if still pending: a concurrent dead-lettering must not be undone.
        self.outbox
            .transaction(|outbox| {
                if outbox.get(key)?.is_some() {
                    outbox.insert(&key, encode(entry))?;
                }
                Ok(())
            })
            .map_err(tx_error)
    }

    pub(super) fn outbox_dead(
        &self,
        entry: OutboxEntry,
        reason: String,
        now: Timestamp,
    ) -> StoreResult<()> {
        let key = u64_key(entry.id);
        let letter = DeadLetter {
            entry,
            reason,
            failed_at: now,
        };
        // A round's send becomes a dead letter the same way it moves on a reschedule.
        if self.move_out_of_round(letter.entry.id, &self.dead, &encode(&letter))? {
            return Ok(());
        }
        (&self.outbox, &self.dead)
            .transaction(|(outbox, dead)| {
                // Only a send still pending becomes a dead letter (an erased customer's
                // sends are gone, and stay gone).
                if outbox.remove(&key)?.is_some() {
                    dead.insert(&key, encode(&letter))?;
                }
                Ok(())
            })
            .map_err(tx_error)
    }

    pub(super) fn dead_letters(&self) -> StoreResult<Vec<DeadLetter>> {
        Self::decode_all("dead letter", self.dead.iter(), usize::MAX)
    }

    pub(super) fn recent_dead_letters(
        &self,
        limit: usize,
    ) -> StoreResult<(usize, Vec<DeadLetter>)> {
        // Keys are outbox ids, which grow: the newest are last.
        let recent = Self::decode_all("dead letter", self.dead.iter().rev(), limit)?;
        Ok((self.dead.len(), recent))
    }

    pub(super) fn revive_dead_letter(
        &self,
        outbox_id: u64,
        now: Timestamp,
    ) -> StoreResult<Option<OutboxEntry>> {
        let key = u64_key(outbox_id);
        (&self.outbox, &self.dead)
            .transaction(|(outbox, dead)| {
                let Some(raw) = dead.remove(&key)? else {
                    return Ok(None);
                };
                let letter: DeadLetter = decode("dead letter", &raw)
                    .map_err(|e| ConflictableTransactionError::Abort(e.into()))?;
                // A fresh round of tries; parts already accepted by the platform stay sent.
                let mut entry = letter.entry;
                entry.attempts = 0;
                entry.next_attempt_at = now;
                entry.last_error = None;
                outbox.insert(&key, encode(&entry))?;
                Ok(Some(entry))
            })
            .map_err(tx_error)
    }

    pub(super) fn record_delivery(
        &self,
        dedup_key: &str,
        record: &DeliveryRecord,
        received_at: Timestamp,
    ) -> StoreResult<bool> {
        // Statuses come two or three per message sent: plain writes, no transaction (a sled
        // transaction costs a log write of its own). The record goes first and the dedup mark
        // last, so a crash in between keeps the status; its redelivery may add a second row,
        // which is harmless where a lost one is not.
        if self.processed.get(dedup_key).map_err(engine)?.is_some() {
            return Ok(false);
        }
        let mut key = platform_key(record.channel, &record.platform_id);
        key.push(0);
        key.extend_from_slice(&u64_key(self.db.generate_id().map_err(engine)?));
        self.deliveries
            .insert(key.as_slice(), encode(record))
            .map_err(engine)?;
        let age_key = processed_age_key(received_at, dedup_key);
        self.processed_age
            .insert(age_key.as_slice(), dedup_key.as_bytes())
            .map_err(engine)?;
        let mark = u64_key(u64::try_from(received_at.millis()).unwrap_or(0));
        self.log.mark_seen(dedup_key.as_bytes());
        let marked = self
            .processed
            .compare_and_swap(dedup_key, None as Option<&[u8]>, Some(&mark[..]))
            .map_err(engine)?;
        if marked.is_err() {
            // A concurrent copy of this status got there first: it keeps its row.
            self.deliveries.remove(key).map_err(engine)?;
            self.processed_age.remove(age_key).map_err(engine)?;
            return Ok(false);
        }
        Ok(true)
    }

    pub(super) fn deliveries(
        &self,
        channel: flows::Channel,
        platform_id: &str,
    ) -> StoreResult<Vec<DeliveryRecord>> {
        let mut prefix = platform_key(channel, platform_id);
        prefix.push(0);
        Self::decode_all("delivery", self.deliveries.scan_prefix(prefix), usize::MAX)
    }

    pub(super) fn sent_for(&self, outbox_id: u64) -> StoreResult<Vec<SentRecord>> {
        let mut records = Vec::new();
        for chunk in self.history_log.sent(outbox_id)? {
            match decode::<Vec<SentRecord>>("sent records", &chunk) {
                Ok(logged) => records.extend(logged),
                Err(error) => tracing::warn!(%error, "skipping unreadable sent records"),
            }
        }
        // Stores written before this release kept sent records in the `sent` tree.
        let prefix = sent_by_outbox_prefix(outbox_id);
        for item in self.sent.scan_prefix(&prefix) {
            let (key, value) = item.map_err(engine)?;
            // Stores written before kept the record under the platform key and left this
            // value empty.
            let raw = if value.is_empty() {
                match key
                    .get(prefix.len()..)
                    .map(|platform| self.sent.get(platform))
                {
                    Some(found) => found.map_err(engine)?,
                    None => None,
                }
            } else {
                Some(value)
            };
            let Some(raw) = raw else { continue };
            match decode::<SentRecord>("sent record", &raw) {
                Ok(record) => records.push(record),
                Err(error) => tracing::warn!(%error, "skipping an unreadable sent record"),
            }
        }
        Ok(records)
    }

    pub(super) fn dead_letter(&self, outbox_id: u64) -> StoreResult<Option<DeadLetter>> {
        Self::get_decoded(&self.dead, "dead letter", &u64_key(outbox_id))
    }
}

/// The `Timers` role, synchronous; `SledStore` offers it async.
impl SledTrees {
    pub(super) fn next_timer_due(&self) -> StoreResult<Option<Timestamp>> {
        Ok(self
            .timers
            .first()
            .map_err(engine)?
            .and_then(|(key, _)| timer_due_of(&key)))
    }

    pub(super) fn fire_due_timers(&self, now: Timestamp) -> StoreResult<Vec<InboxEntry>> {
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
                    let Some(timer) = timer_slots::take_due(timers, slots, key, timer, now)? else {
                        continue;
                    };
                    let entry = timer.fired(now);
                    fired.push(Self::put_inbox(inbox, entry)?);
                }
                Ok(fired)
            })
            .map_err(tx_error)
    }
}

/// The `Commerce` role, synchronous; `SledStore` offers it async.
impl SledTrees {
    pub(super) fn order(&self, id: &OrderId) -> StoreResult<Option<Order>> {
        Self::get_decoded(&self.orders, "order", id.0.as_bytes())
    }

    pub(super) fn orders(&self) -> StoreResult<Vec<Order>> {
        Self::decode_all("order", self.orders.iter(), usize::MAX)
    }

    pub(super) fn payment_jobs(&self) -> StoreResult<Vec<PaymentJob>> {
        Self::decode_all(
            "payment job",
            self.commerce.scan_prefix(b"job\0"),
            usize::MAX,
        )
    }

    pub(super) fn payment_job_reschedule(&self, job: &PaymentJob) -> StoreResult<()> {
        self.commerce
            .insert(job_key(job), encode(job))
            .map(|_| ())
            .map_err(engine)
    }

    pub(super) fn payment_job_done(&self, job: &PaymentJob) -> StoreResult<()> {
        self.commerce
            .remove(job_key(job))
            .map(|_| ())
            .map_err(engine)
    }

    pub(super) fn put_pay_token(&self, digest: &[u8], order: &OrderId) -> StoreResult<()> {
        self.commerce
            .insert(pay_key(digest), order.0.as_bytes())
            .map(|_| ())
            .map_err(engine)
    }

    pub(super) fn pay_token(&self, digest: &[u8]) -> StoreResult<Option<OrderId>> {
        Ok(self
            .commerce
            .get(pay_key(digest))
            .map_err(engine)?
            .map(|id| OrderId(String::from_utf8_lossy(&id).into_owned())))
    }

    pub(super) fn put_payment_session(
        &self,
        id: &str,
        session: &PaymentSession,
    ) -> StoreResult<()> {
        // One batch: the order's index never names a session that is not there.
        let mut batch = sled::Batch::default();
        batch.insert(payment_session_key(id), encode(session));
        batch.insert(order_session_key(&session.order, id), &[]);
        self.commerce.apply_batch(batch).map_err(engine)
    }

    pub(super) fn payment_session(&self, id: &str) -> StoreResult<Option<PaymentSession>> {
        Self::get_decoded(&self.commerce, "payment session", &payment_session_key(id))
    }

    pub(super) fn payment_sessions_of(
        &self,
        order: &OrderId,
    ) -> StoreResult<Vec<(String, PaymentSession)>> {
        let prefix = order_session_key(order, "");
        let mut found = Vec::new();
        for item in self.commerce.scan_prefix(&prefix) {
            let (key, _) = item.map_err(engine)?;
            let id = String::from_utf8_lossy(&key[prefix.len()..]).into_owned();
            if let Some(session) = self.payment_session(&id)? {
                found.push((id, session));
            }
        }
        found.sort_by_key(|(_, session)| session.created_at);
        Ok(found)
    }

    pub(super) fn stock_sold(
        &self,
        base: &str,
        levels: &[(Sku, u32)],
    ) -> StoreResult<Vec<(Sku, u32)>> {
        let known = self.commerce.get(STOCK_BASE_KEY).map_err(engine)?;
        if known.as_deref() != Some(base.as_bytes()) {
            for prefix in [&b"sold\0"[..], b"level\0"] {
                for entry in self.commerce.scan_prefix(prefix).keys() {
                    self.commerce
                        .remove(entry.map_err(engine)?)
                        .map_err(engine)?;
                }
            }
            let mut batch = sled::Batch::default();
            for (sku, level) in levels {
                batch.insert(level_key(sku), &level.to_be_bytes());
            }
            self.commerce.apply_batch(batch).map_err(engine)?;
            self.commerce
                .insert(STOCK_BASE_KEY, base.as_bytes())
                .map_err(engine)?;
            return Ok(Vec::new());
        }
        let mut sold = Vec::new();
        for entry in self.commerce.scan_prefix(b"sold\0") {
            let (key, value) = entry.map_err(engine)?;
            let sku = String::from_utf8_lossy(key.get(5..).unwrap_or_default()).into_owned();
            sold.push((Sku(sku), read_count(Some(value))));
        }
        Ok(sold)
    }
}

/// The `ConsoleQueries` role, synchronous; `SledStore` offers it async.
impl SledTrees {
    pub(super) fn summaries(&self) -> StoreResult<Vec<ConversationSummary>> {
        Self::decode_all("summary", self.summaries.iter(), usize::MAX)
    }

    pub(super) fn summary(
        &self,
        customer: &CustomerId,
    ) -> StoreResult<Option<ConversationSummary>> {
        Self::get_decoded(&self.summaries, "summary", customer.0.as_bytes())
    }

    pub(super) fn mark_read(&self, customer: &CustomerId) -> StoreResult<()> {
        // Compare-and-swap on the row a step may be rewriting at the same moment.
        let key = customer.0.as_bytes();
        self.summaries
            .transaction(|summaries| {
                let Some(raw) = summaries.get(key)? else {
                    return Ok(());
                };
                let mut summary: ConversationSummary = decode("summary", &raw)
                    .map_err(|e| ConflictableTransactionError::Abort(e.into()))?;
                if summary.unread != 0 {
                    summary.unread = 0;
                    summaries.insert(key, encode(&summary))?;
                }
                Ok(())
            })
            .map_err(tx_error)
    }

    /// The embedded engine has no index to ask: every row is read and sorted here.
    pub(super) fn conversations(&self, query: &ListQuery) -> StoreResult<ListPage> {
        let all = self.summaries()?;
        let waiting = all.iter().filter(|row| row.handoff.is_waiting()).count();
        let mut rows: Vec<ConversationSummary> =
            all.into_iter().filter(|row| query.admits(row)).collect();
        rows.sort_by_key(|row| std::cmp::Reverse(row.last_at));
        if let Some(limit) = query.limit {
            rows.truncate(limit);
        }
        Ok(ListPage { rows, waiting })
    }

    pub(super) fn customers_who_wrote(
        &self,
        needle: &str,
        deadline: std::time::Instant,
    ) -> StoreResult<(Vec<CustomerId>, bool)> {
        let mut matches = |entry: &HistoryEntry| match entry {
            HistoryEntry::In {
                event:
                    Event::Inbound(flows::Inbound {
                        message: flows::InboundMessage::Text(text),
                        ..
                    }),
                ..
            } => text.to_lowercase().contains(needle),
            _ => false,
        };
        self.customers_with_history(&mut matches, deadline)
    }

    pub(super) fn count_replies(&self, keys: &[flows::TextKey]) -> StoreResult<Vec<u64>> {
        let mut counts = vec![0u64; keys.len()];
        let mut count = |entry: &HistoryEntry| {
            if let HistoryEntry::Out { reply, .. } = entry
                && let Some(index) = keys.iter().position(|key| *key == reply.text.key)
            {
                counts[index] += 1;
            }
            false
        };
        let far = std::time::Instant::now() + std::time::Duration::from_secs(24 * 3_600);
        self.customers_with_history(&mut count, far)?;
        Ok(counts)
    }

    fn customers_with_history(
        &self,
        matches: &mut dyn FnMut(&HistoryEntry) -> bool,
        deadline: std::time::Instant,
    ) -> StoreResult<(Vec<CustomerId>, bool)> {
        let mut found: std::collections::HashSet<CustomerId> = Default::default();
        let mut read = 0usize;
        let complete = self.history_log.visit(&mut |record| {
            read += 1;
            let Some(record) = record else {
                return Ok(true);
            };
            if read % 1024 == 0 && std::time::Instant::now() > deadline {
                return Ok(false);
            }
            if record.sent.is_none()
                && !found.contains(&record.customer)
                && let Ok(entries) = history_chunk::decode_chunk(record.chunk)
                && entries.iter().any(&mut *matches)
            {
                found.insert(record.customer);
            }
            Ok(true)
        })?;
        let mut found: Vec<CustomerId> = found.into_iter().collect();
        found.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        Ok((found, complete))
    }
}

/// The `Staff` role, synchronous; `SledStore` offers it async.
impl SledTrees {
    pub(super) fn put_operator(&self, operator: &Operator, replace: bool) -> StoreResult<bool> {
        let key = console_key("op", operator.name.as_bytes());
        if replace {
            self.console.insert(key, encode(operator)).map_err(engine)?;
            self.end_sessions_of(&operator.name)?;
            return Ok(true);
        }
        let created = self
            .console
            .compare_and_swap(key, None as Option<&[u8]>, Some(encode(operator)))
            .map_err(engine)?;
        Ok(created.is_ok())
    }

    pub(super) fn remove_operator(&self, name: &str) -> StoreResult<bool> {
        let removed = self
            .console
            .remove(console_key("op", name.as_bytes()))
            .map_err(engine)?
            .is_some();
        self.end_sessions_of(name)?;
        Ok(removed)
    }

    pub(super) fn operator(&self, name: &str) -> StoreResult<Option<Operator>> {
        Self::get_decoded(
            &self.console,
            "operator",
            &console_key("op", name.as_bytes()),
        )
    }

    pub(super) fn operators(&self) -> StoreResult<Vec<Operator>> {
        Self::decode_all(
            "operator",
            self.console.scan_prefix(console_key("op", b"")),
            usize::MAX,
        )
    }

    pub(super) fn put_console_session(
        &self,
        digest: &[u8],
        session: &ConsoleSession,
    ) -> StoreResult<()> {
        self.console
            .insert(console_key("session", digest), encode(session))
            .map_err(engine)?;
        Ok(())
    }

    pub(super) fn console_session(&self, digest: &[u8]) -> StoreResult<Option<ConsoleSession>> {
        Self::get_decoded(
            &self.console,
            "console session",
            &console_key("session", digest),
        )
    }

    pub(super) fn delete_console_session(&self, digest: &[u8]) -> StoreResult<()> {
        self.console
            .remove(console_key("session", digest))
            .map_err(engine)?;
        Ok(())
    }

    pub(super) fn prune_console_sessions(&self, now: Timestamp) -> StoreResult<usize> {
        let mut pruned = 0;
        for item in self.console.scan_prefix(console_key("session", b"")) {
            let (key, value) = item.map_err(engine)?;
            let expired = decode::<ConsoleSession>("console session", &value)
                .map(|session| session.expires_at < now)
                .unwrap_or(true);
            if expired {
                self.console.remove(key).map_err(engine)?;
                pruned += 1;
            }
        }
        for item in self.console.scan_prefix(console_key("device", b"")) {
            let (key, value) = item.map_err(engine)?;
            let expired = decode::<KnownDevice>("known device", &value)
                .map(|device| device.expires_at < now)
                .unwrap_or(true);
            if expired {
                self.console.remove(key).map_err(engine)?;
                pruned += 1;
            }
        }
        pruned += self.drop_invites(|invite| invite.expires_at < now)?;
        Ok(pruned)
    }

    pub(super) fn revoke_invites(&self, operator: &str) -> StoreResult<usize> {
        self.drop_invites(|invite| invite.operator == operator)
    }

    pub(super) fn put_known_device(&self, digest: &[u8], device: &KnownDevice) -> StoreResult<()> {
        self.console
            .insert(console_key("device", digest), encode(device))
            .map(drop)
            .map_err(engine)
    }

    pub(super) fn put_invite(&self, digest: &[u8], invite: &Invite) -> StoreResult<()> {
        self.console
            .insert(console_key("invite", digest), encode(invite))
            .map(drop)
            .map_err(engine)
    }

    pub(super) fn take_invite(&self, digest: &[u8]) -> StoreResult<Option<Invite>> {
        match self
            .console
            .remove(console_key("invite", digest))
            .map_err(engine)?
        {
            Some(raw) => Ok(Some(decode("invite", &raw)?)),
            None => Ok(None),
        }
    }

    pub(super) fn known_device(&self, digest: &[u8]) -> StoreResult<Option<KnownDevice>> {
        Self::get_decoded(
            &self.console,
            "known device",
            &console_key("device", digest),
        )
    }

    pub(super) fn put_setup_token(&self, digest: &[u8], expires_at: Timestamp) -> StoreResult<()> {
        for item in self.console.scan_prefix(console_key("setup", b"")) {
            let (key, _) = item.map_err(engine)?;
            self.console.remove(key).map_err(engine)?;
        }
        self.console
            .insert(
                console_key("setup", digest),
                &expires_at.millis().to_be_bytes(),
            )
            .map_err(engine)?;
        Ok(())
    }

    pub(super) fn setup_token(&self, digest: &[u8]) -> StoreResult<Option<Timestamp>> {
        Ok(self
            .console
            .get(console_key("setup", digest))
            .map_err(engine)?
            .and_then(|raw| raw.as_ref().try_into().ok())
            .map(|bytes: [u8; 8]| Timestamp(i64::from_be_bytes(bytes))))
    }

    pub(super) fn take_setup_token(&self, digest: &[u8]) -> StoreResult<Option<Timestamp>> {
        let removed = self
            .console
            .remove(console_key("setup", digest))
            .map_err(engine)?;
        Ok(removed
            .and_then(|raw| raw.as_ref().try_into().ok())
            .map(|bytes: [u8; 8]| Timestamp(i64::from_be_bytes(bytes))))
    }
}

/// The `ChannelState` role, synchronous; `SledStore` offers it async.
impl SledTrees {
    pub(super) fn put_callback_token(&self, token: &str, action: &str) -> StoreResult<()> {
        self.channel_state
            .insert(console_key("cb", token.as_bytes()), action.as_bytes())
            .map_err(engine)?;
        Ok(())
    }

    /// Audit entries live in `console` under `audit\0`, the time (big-endian, so in order)
    /// and a random tail (two at one millisecond are both kept).
    pub(super) fn record_audit(&self, entry: &super::records::AuditEntry) -> StoreResult<()> {
        let mut id = entry.at.millis().max(0).to_be_bytes().to_vec();
        id.extend_from_slice(&fastrand::u64(..).to_be_bytes());
        self.console
            .insert(console_key("audit", &id), encode(entry))
            .map_err(engine)?;
        Ok(())
    }

    pub(super) fn audit_entries(
        &self,
        customer: Option<&CustomerId>,
        limit: usize,
    ) -> StoreResult<Vec<super::records::AuditEntry>> {
        let mut found = Vec::new();
        for item in self.console.scan_prefix(console_key("audit", &[])).rev() {
            if found.len() >= limit {
                break;
            }
            let (_, value) = item.map_err(engine)?;
            let entry: super::records::AuditEntry = decode("audit entry", &value)?;
            if customer.is_none_or(|c| entry.customer.as_ref() == Some(c)) {
                found.push(entry);
            }
        }
        Ok(found)
    }

    pub(super) fn prune_audit(&self, before: Timestamp) -> StoreResult<usize> {
        let start = console_key("audit", &[]);
        let end = console_key("audit", &before.millis().max(0).to_be_bytes());
        let mut pruned = 0;
        for item in self.console.range(start..end) {
            let (key, _) = item.map_err(engine)?;
            self.console.remove(key).map_err(engine)?;
            pruned += 1;
        }
        Ok(pruned)
    }

    pub(super) fn callback_token(&self, token: &str) -> StoreResult<Option<String>> {
        Ok(self
            .channel_state
            .get(console_key("cb", token.as_bytes()))
            .map_err(engine)?
            .and_then(|raw| String::from_utf8(raw.to_vec()).ok()))
    }
}

/// The `Bookings` role, synchronous; `SledStore` offers it async.
impl SledTrees {
    pub(super) fn calendar(&self) -> StoreResult<flows::booking::Calendar> {
        self.booking_calendar()
    }

    pub(super) fn booking_request(
        &self,
        request: &flows::booking::BookingRequest,
        staff: &[flows::booking::StaffId],
        now: Timestamp,
        link: Option<(&str, &str)>,
    ) -> StoreResult<Option<flows::booking::BookingOutcome>> {
        self.booking_request_tx(request, staff, now, link)
    }

    pub(super) fn booking(
        &self,
        id: &flows::booking::BookingId,
    ) -> StoreResult<Option<flows::booking::Booking>> {
        self.booking_by_id(id)
    }

    pub(super) fn booking_by_token(
        &self,
        token: &str,
    ) -> StoreResult<Option<flows::booking::Booking>> {
        self.booking_by_token_id(token)
    }

    pub(super) fn bookings(&self) -> StoreResult<Vec<flows::booking::Booking>> {
        self.all_bookings()
    }
}

/// The `Maintenance` role, synchronous; `SledStore` offers it async.
impl SledTrees {
    pub(super) fn warm_timers(
        &self,
        from: Timestamp,
        until: Timestamp,
        limit: usize,
    ) -> StoreResult<usize> {
        let mut warmed = 0;
        for item in self
            .timers
            .range(time_key(from)..time_key(until))
            .take(limit)
        {
            let (key, _) = item.map_err(engine)?;
            // Due time, customer id, a zero byte, the kind (`keys::timer_key`).
            let Some(customer) = key.get(8..).and_then(|rest| rest.split(|b| *b == 0).next())
            else {
                continue;
            };
            // Reading a key brings its node into sled's cache; the value is not needed.
            self.conversations.get(customer).map_err(engine)?;
            self.summaries.get(customer).map_err(engine)?;
            warmed += 1;
        }
        Ok(warmed)
    }

    pub(super) fn prune_processed(&self, before: Timestamp) -> StoreResult<usize> {
        // Keys record when they were seen (their value): one pass over them, daily.
        let cutoff = u64::try_from(before.millis()).unwrap_or(0);
        let mut pruned = 0;
        for item in self.processed.iter() {
            let (key, seen) = item.map_err(engine)?;
            if read_count_u64(&seen).is_some_and(|at| at < cutoff) {
                self.processed.remove(key).map_err(engine)?;
                pruned += 1;
            }
        }
        // Stores written before that kept an age index (and delivery statuses still do).
        let end = processed_age_key(before, "");
        for item in self.processed_age.range(..end) {
            let (age_key, dedup_key) = item.map_err(engine)?;
            (&self.processed, &self.processed_age)
                .transaction(|(processed, processed_age)| {
                    processed.remove(&dedup_key)?;
                    processed_age.remove(&age_key)?;
                    Ok(())
                })
                .map_err(tx_error)?;
        }
        self.log.rebuild_seen(&self.processed)?;
        pruned += self.done.prune(before)?;
        Ok(pruned)
    }

    pub(super) fn flush(&self) -> StoreResult<()> {
        let done = self.log.before_flush();
        let settled = self.outbox_rounds.before_flush();
        if let Err(error) = self.db.flush() {
            self.log.not_flushed(done);
            self.outbox_rounds.not_flushed(settled);
            return Err(engine(error));
        }
        self.log.flushed(done);
        self.outbox_rounds.flushed(settled);
        Ok(())
    }

    pub(super) fn size_on_disk(&self) -> StoreResult<u64> {
        Ok(self.db.size_on_disk().map_err(engine)? + self.history_log.bytes())
    }
}

impl SledTrees {
    fn unmerge_in_transaction(&self, record_key: &[u8], record: &MergeRecord) -> StoreResult<()> {
        let abort = |e: super::codec::CodecError| ConflictableTransactionError::Abort(e.into());
        let (from, into) = (&record.from.id, &record.into);
        (
            &self.identities,
            &self.customers,
            &self.conversations,
            &self.summaries,
            &self.orders,
            &self.channel_state,
            &self.bookings,
            &self.timers,
            &self.timer_slots,
        )
            .transaction(
                |(
                    identities,
                    customers,
                    conversations,
                    summaries,
                    orders,
                    state,
                    bookings,
                    timers,
                    slots,
                )| {
                    for identity in &record.from.identities {
                        identities.insert(identity_key(identity), from.0.as_bytes())?;
                    }
                    customers.insert(from.0.as_bytes(), encode(&record.from))?;
                    let mut target: Option<Customer> = match customers.get(into.0.as_bytes())? {
                        Some(raw) => Some(decode("customer", &raw).map_err(abort)?),
                        None => None,
                    };
                    if let Some(target) = &mut target {
                        flows::merge::unmerge_customer(target, &record.from);
                        customers.insert(into.0.as_bytes(), encode(&*target))?;
                    }
                    if let Some(source) = &record.from_conversation {
                        conversations.insert(from.0.as_bytes(), encode(source))?;
                        if let (Some(raw), Some(target)) =
                            (conversations.get(into.0.as_bytes())?, &target)
                        {
                            let mut conversation: Conversation =
                                decode("conversation", &raw).map_err(abort)?;
                            flows::merge::unmerge_conversation(&mut conversation, source, target);
                            conversations.insert(into.0.as_bytes(), encode(&conversation))?;
                        }
                        for order in &source.orders.recent {
                            if let Some(raw) = orders.get(order.id.0.as_bytes())? {
                                let mut stored: Order = decode("order", &raw).map_err(abort)?;
                                stored.customer = from.clone();
                                orders.insert(order.id.0.as_bytes(), encode(&stored))?;
                            }
                        }
                        bookings::reassign(bookings, &source.appointments.list, from)?;
                        // The merge took this chat's timers; its appointments' reminder comes
                        // back with it (the survivor's fires too, and finds nothing of these).
                        if let Some(due) = source.appointments.reminder_due {
                            let timer = TimerEntry {
                                customer: from.clone(),
                                kind: flows::TimerKind::BookingReminder,
                                due,
                            };
                            timer_slots::set(timers, slots, &timer)?;
                        }
                        let summary = ConversationSummary::of(
                            source,
                            source.reach.last_inbound_at.unwrap_or(record.at),
                        );
                        summaries.insert(from.0.as_bytes(), encode(&summary))?;
                    }
                    state.remove(record_key)?;
                    Ok(())
                },
            )
            .map_err(tx_error)
    }

    /// See `Store::merge_customers`; also returns the identities that moved.
    fn merge_in_transaction(
        &self,
        from: &CustomerId,
        into: &CustomerId,
        now: Timestamp,
    ) -> StoreResult<(Vec<flows::CartLine>, Vec<Identity>)> {
        let abort = |e: super::codec::CodecError| ConflictableTransactionError::Abort(e.into());
        let missing = |what: &str| {
            ConflictableTransactionError::Abort(StoreError::Engine(format!("merge: no {what}")))
        };
        (
            &self.identities,
            &self.customers,
            &self.conversations,
            &self.summaries,
            &self.orders,
            &self.timers,
            &self.timer_slots,
            &self.channel_state,
            &self.bookings,
        )
            .transaction(
                |(
                    identities,
                    customers,
                    conversations,
                    summaries,
                    orders,
                    timers,
                    slots,
                    state,
                    booking_tree,
                )| {
                    let customer_of = |id: &CustomerId| -> TxResult<Customer> {
                        let raw = customers
                            .get(id.0.as_bytes())?
                            .ok_or_else(|| missing("customer"))?;
                        decode("customer", &raw).map_err(abort)
                    };
                    let (mut target, source) = (customer_of(into)?, customer_of(from)?);
                    for identity in &source.identities {
                        identities.insert(identity_key(identity), into.0.as_bytes())?;
                    }
                    flows::merge::merge_customers(&mut target, &source);
                    customers.insert(into.0.as_bytes(), encode(&target))?;
                    customers.remove(from.0.as_bytes())?;
                    let conversation_of = |id: &CustomerId| -> TxResult<Option<Conversation>> {
                        match conversations.get(id.0.as_bytes())? {
                            Some(raw) => Ok(Some(decode("conversation", &raw).map_err(abort)?)),
                            None => Ok(None),
                        }
                    };
                    let source_conversation = conversation_of(from)?;
                    let mut cart = Vec::new();
                    // `from` has no conversation any more: its timers would only start a
                    // new, empty one. What they were for moves with the conversation (the
                    // appointments' reminder is re-armed for `into` below).
                    for kind in flows::TimerKind::ALL {
                        timer_slots::cancel(timers, slots, from, kind)?;
                    }
                    if let Some(source_conversation) = &source_conversation {
                        let mut target_conversation = conversation_of(into)?.unwrap_or_else(|| {
                            Conversation::new(into.clone(), source_conversation.locale)
                        });
                        let reminder_before = target_conversation.appointments.reminder_due;
                        flows::merge::merge_conversations(
                            &mut target_conversation,
                            source_conversation.clone(),
                        );
                        if let Some(due) = target_conversation.appointments.reminder_due
                            && reminder_before != Some(due)
                        {
                            let timer = TimerEntry {
                                customer: into.clone(),
                                kind: flows::TimerKind::BookingReminder,
                                due,
                            };
                            timer_slots::set(timers, slots, &timer)?;
                        }
                        bookings::reassign(
                            booking_tree,
                            &source_conversation.appointments.list,
                            into,
                        )?;
                        cart.clone_from(&source_conversation.cart.lines);
                        conversations.insert(into.0.as_bytes(), encode(&target_conversation))?;
                        conversations.remove(from.0.as_bytes())?;
                        for order in &source_conversation.orders.recent {
                            if let Some(raw) = orders.get(order.id.0.as_bytes())? {
                                let mut stored: Order = decode("order", &raw).map_err(abort)?;
                                stored.customer = into.clone();
                                orders.insert(order.id.0.as_bytes(), encode(&stored))?;
                            }
                        }
                    }
                    if let Some(raw) = summaries.remove(from.0.as_bytes())? {
                        let source_summary: ConversationSummary =
                            decode("summary", &raw).map_err(abort)?;
                        let target_summary = match summaries.get(into.0.as_bytes())? {
                            Some(raw) => Some(
                                decode::<ConversationSummary>("summary", &raw).map_err(abort)?,
                            ),
                            None => None,
                        };
                        let target_summary =
                            ConversationSummary::merged(into, target_summary, source_summary);
                        summaries.insert(into.0.as_bytes(), encode(&target_summary))?;
                    }
                    let record = MergeRecord {
                        into: into.clone(),
                        from: source.clone(),
                        from_conversation: source_conversation.clone(),
                        at: now,
                    };
                    let mut key = console_key("merge", into.0.as_bytes());
                    key.push(0);
                    key.extend_from_slice(&u64_key(u64::try_from(now.millis()).unwrap_or(0)));
                    key.extend_from_slice(from.0.as_bytes());
                    state.insert(key, encode(&record))?;
                    Ok((cart, source.identities.clone()))
                },
            )
            .map_err(tx_error)
    }
}
