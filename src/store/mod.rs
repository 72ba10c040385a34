//! Persistence. `Store` is what the shell needs; `open` picks the backend from the settings
//! and is the only way the rest of the code base gets a store (nothing outside this folder
//! names a backend). `SledStore` is the embedded implementation and the only place that
//! imports sled. Every backend passes the contract suite in `tests/it/store.rs`.

pub mod codec;
pub mod console_records;
mod copy;
pub mod erasure_records;
pub mod history_chunk;
mod keys;
pub mod linking;
#[cfg(feature = "postgres")]
mod postgres;
pub mod records;
pub mod settings;
pub mod shards;
mod sled_store;

pub use console_records::{
    ConsoleSession, ConversationSummary, Invite, KnownDevice, Operator, Role,
};
pub use copy::{CopyReport, copy_sled_to_postgres};
pub use erasure_records::{ErasurePlan, ErasureRecord};
pub use linking::{LinkCode, MergeRecord, Redeemed};
pub use records::Delivered;
pub use records::{
    AuditEntry, DeadLetter, DeliveryRecord, GroupWritten, HistoryEntry, InboxEntry, Ingested,
    NewOutbox, OrderUpdate, OutboxEntry, PaymentJob, PaymentSession, SentRecord, SetAside,
    StepCommit, TimerChange, TimerEntry, WriteGroup,
};
pub use records::{Fence, Lease};
use settings::{Backend, StoreSettings};
use sled_store::SledStore;

use flows::{Conversation, Customer, CustomerId, Identity, Order, OrderId, Sku, Timestamp};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("storage engine: {0}")]
    Engine(String),
    /// The disk refused a read or write (full, read-only, failing). Retryable: the store
    /// reopens itself once the disk takes writes again.
    #[error("storage unavailable: {0}")]
    Unavailable(String),
    #[error(transparent)]
    Codec(#[from] codec::CodecError),
    /// This replica no longer holds the lease of a shard it wrote for: another replica
    /// steps those conversations now. Nothing was written; trying again here cannot help.
    #[error("fenced: the lease of shard {shard} moved to another replica")]
    Fenced { shard: u32 },
    /// Concurrent transactions got in each other's way (a deadlock, a lock or serialization
    /// conflict): the database is fine and the same call again is expected to succeed.
    #[error("conflict: {0}")]
    Conflict(String),
}

impl StoreError {
    /// Whether trying the same call again later can succeed: the disk or the database may
    /// come back; a record that does not decode, or an engine's refusal, will not change.
    pub fn retryable(&self) -> bool {
        match self {
            StoreError::Unavailable(_) | StoreError::Conflict(_) => true,
            StoreError::Engine(_) | StoreError::Codec(_) | StoreError::Fenced { .. } => false,
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

/// The store the settings name, opened (recovered, if souk stopped uncleanly; migrated, for
/// a database).
pub async fn open(settings: &StoreSettings) -> StoreResult<std::sync::Arc<dyn Store>> {
    match settings.backend {
        Backend::Sled => {
            let path = settings.path.clone();
            let opened = tokio::task::spawn_blocking(move || SledStore::open(&path))
                .await
                .map_err(|error| StoreError::Engine(format!("opening the store: {error}")))??;
            Ok(std::sync::Arc::new(opened))
        }
        #[cfg(feature = "postgres")]
        Backend::Postgres => Ok(std::sync::Arc::new(
            postgres::PgStore::open(settings).await?,
        )),
        #[cfg(not(feature = "postgres"))]
        Backend::Postgres => Err(StoreError::Engine(
            "this souk was built without PostgreSQL (the `postgres` feature)".into(),
        )),
    }
}

/// Migrations the database has not had yet (`souk migrate --check`); none for sled.
pub async fn pending_migrations(settings: &StoreSettings) -> StoreResult<Vec<String>> {
    match settings.backend {
        Backend::Sled => Ok(Vec::new()),
        #[cfg(feature = "postgres")]
        Backend::Postgres => postgres::PgStore::pending_migrations(settings).await,
        #[cfg(not(feature = "postgres"))]
        Backend::Postgres => Err(StoreError::Engine(
            "this souk was built without PostgreSQL (the `postgres` feature)".into(),
        )),
    }
}

/// After the last handle is dropped: whatever makes the next start quick (sled: a fresh
/// snapshot, so the next open does not replay the log; a database needs nothing). How long
/// it took.
pub fn settle(settings: &StoreSettings) -> StoreResult<std::time::Duration> {
    match settings.backend {
        Backend::Sled => SledStore::settle(&settings.path),
        Backend::Postgres => Ok(std::time::Duration::ZERO),
    }
}

// The store is split by role: each trait below is one job, and `Store` is their sum (what
// `open` returns). Through `dyn Store` every role's methods are at hand; code generic over a
// backend brings the roles into scope with `use crate::store::prelude::*`.
//
// Synchronous for now: nearly every call is a short in-memory or page-cache operation that
// async callers make inline; `flush` (which waits on the disk) and long scans (history, the
// outbox at start) go to the blocking pool. A database backend needs these async: that is the
// next step, one role at a time.

/// Customers and their chat identities: who writes, merged customers, link codes, blocked chats.
#[async_trait::async_trait]
pub trait Directory: Send + Sync + 'static {
    /// The customer of an identity, creating both atomically when the identity is new.
    async fn resolve_identity(
        &self,
        identity: &Identity,
        new_customer: Customer,
    ) -> StoreResult<CustomerId>;

    async fn find_identity(&self, identity: &Identity) -> StoreResult<Option<CustomerId>>;

    async fn customer(&self, id: &CustomerId) -> StoreResult<Option<Customer>>;

    /// Points an identity's new external id at the same customer (a changed phone number).
    async fn move_identity(&self, from: &Identity, to: &Identity) -> StoreResult<bool>;

    /// A customer blocked the bot on that identity's channel (or unblocked it): nothing is
    /// sent there while blocked.
    async fn set_blocked(&self, identity: &Identity, blocked: bool) -> StoreResult<()>;

    async fn is_blocked(&self, identity: &Identity) -> StoreResult<bool>;

    async fn put_link_code(&self, code: &str, record: &LinkCode) -> StoreResult<()>;

    /// Checks a code at `now` and marks a valid one used, atomically.
    async fn redeem_link_code(&self, code: &str, now: Timestamp) -> StoreResult<Redeemed>;

    /// Makes `from` part of `into`, in one transaction: `from`'s identities point at `into`,
    /// its conversation joins `into`'s (`flows::merge::merge_conversations`: channels,
    /// windows, orders, appointments with their reminder, profile; `into` then answers on
    /// `from`'s channel), its summary and timers go, and a `MergeRecord` keeps what `from`
    /// was. Returns `from`'s cart, for the customer to add or not.
    async fn merge_customers(
        &self,
        from: &CustomerId,
        into: &CustomerId,
        now: Timestamp,
    ) -> StoreResult<Vec<flows::CartLine>>;

    /// Undoes the merge of `from` into `into` (an operator's call): `from` gets back its
    /// customer record, identities, conversation as it was and the orders and appointments
    /// it brought.
    /// `Ok(false)` when there is no such merge.
    async fn unmerge_customers(&self, from: &CustomerId, into: &CustomerId) -> StoreResult<bool>;

    /// The customers merged into `into`, oldest first (their history stays theirs).
    async fn merged_into(&self, into: &CustomerId) -> StoreResult<Vec<MergeRecord>>;
}

/// The durable inbox and the steps' commits: events accepted before their 200, conversations, history, and what the poison guard sets aside.
#[async_trait::async_trait]
pub trait CommitLog: Send + Sync + 'static {
    /// Persists inbound events, each unless its dedup key was seen (within the retention
    /// window, or earlier in the same transaction), and commits steps: every part in one
    /// transaction. A transaction costs the engine a log write of its own, so concurrent
    /// requests and workers share one (see `driver::group_commit`). Sends the platform
    /// accepted leave the outbox in the same round (`WriteGroup::delivered`; PostgreSQL: in
    /// its transaction; sled: as plain writes right after it, see `deliver_apart`).
    /// Results come one per part, in order.
    async fn write_groups(&self, parts: &[WriteGroup]) -> StoreResult<Vec<GroupWritten>>;

    /// One part; see `write_groups`.
    async fn write_group(&self, part: &WriteGroup) -> StoreResult<GroupWritten> {
        self.write_groups(std::slice::from_ref(part))
            .await?
            .pop()
            .ok_or_else(|| StoreError::Engine("the store returned no result".into()))
    }

    /// Events only; see `write_groups`.
    async fn ingest_batch(&self, entries: Vec<InboxEntry>) -> StoreResult<Vec<Ingested>> {
        let part = WriteGroup {
            ingest: entries,
            ..WriteGroup::default()
        };
        self.write_group(&part)
            .await
            .map(|written| written.ingested)
    }

    /// One event; see `write_groups`.
    async fn ingest(&self, entry: InboxEntry) -> StoreResult<Ingested> {
        self.ingest_batch(vec![entry])
            .await?
            .pop()
            .ok_or_else(|| StoreError::Engine("ingest returned nothing".into()))
    }

    /// Whether events with a dedup key are accepted through `append_inbox`, outside the
    /// group commit's rounds (sled: its inbox log, so a webhook's 200 does not wait for a
    /// round's transaction).
    fn appends_apart(&self) -> bool {
        false
    }

    /// Persists events that all have a dedup key, each unless a duplicate, and returns once
    /// they are on disk; see `appends_apart`. By default: `ingest_batch`.
    async fn append_inbox(&self, entries: Vec<InboxEntry>) -> StoreResult<Vec<Ingested>> {
        self.ingest_batch(entries).await
    }

    /// Whether an accepted event still waits for its step.
    async fn in_inbox(&self, seq: u64) -> StoreResult<bool>;

    /// Events accepted but not yet stepped, oldest first (re-driven at start-up).
    async fn pending_inbox(&self) -> StoreResult<Vec<InboxEntry>>;

    /// Counts one more attempt at an event's step, durably before the step runs (only for
    /// events re-driven after a stop, whose step may have been what stopped the process);
    /// returns the attempts so far, this one included.
    async fn note_step_attempt(&self, seq: u64) -> StoreResult<u32>;

    /// The attempts counted for an event still in the inbox.
    async fn step_attempts(&self, seq: u64) -> StoreResult<u32>;

    /// Forgets the attempt counts of events whose step has since committed.
    async fn forget_settled_attempts(&self) -> StoreResult<usize>;

    /// Takes an event out of the inbox and keeps it aside with the reason, atomically;
    /// `Ok(false)` when it was no longer in the inbox.
    async fn set_aside(
        &self,
        seq: u64,
        reason: &str,
        attempts: u32,
        now: Timestamp,
    ) -> StoreResult<bool>;

    /// Events set aside, oldest first.
    async fn set_aside_events(&self) -> StoreResult<Vec<SetAside>>;

    /// Puts a set-aside event back in the inbox (an admin's retry) and returns it, to be
    /// handed to its worker; `None` when there is no such event.
    async fn retry_set_aside(&self, seq: u64) -> StoreResult<Option<InboxEntry>>;

    async fn conversation(&self, id: &CustomerId) -> StoreResult<Option<Conversation>>;

    /// A conversation and its customer's record (what a step reads), in one read where
    /// the backend can: a step then costs a database one round trip, not two.
    async fn conversation_with_customer(
        &self,
        id: &CustomerId,
    ) -> StoreResult<(Option<Conversation>, Option<Customer>)>;

    /// The same for several conversations, in their order (a batch of steps reads them in
    /// one query where the backend can).
    async fn conversations_with_customers(
        &self,
        ids: &[CustomerId],
    ) -> StoreResult<Vec<(Option<Conversation>, Option<Customer>)>> {
        let mut read = Vec::with_capacity(ids.len());
        for id in ids {
            read.push(self.conversation_with_customer(id).await?);
        }
        Ok(read)
    }

    /// Steps only, all or none; returns the created sends of each, in order.
    async fn commit_batch(&self, commits: Vec<StepCommit>) -> StoreResult<Vec<Vec<OutboxEntry>>> {
        let part = WriteGroup {
            steps: commits,
            ..WriteGroup::default()
        };
        self.write_group(&part).await.map(|written| written.created)
    }

    /// One step; see `write_groups`.
    async fn commit(&self, commit: StepCommit) -> StoreResult<Vec<OutboxEntry>> {
        self.commit_batch(vec![commit])
            .await?
            .pop()
            .ok_or_else(|| StoreError::Engine("commit returned nothing".into()))
    }

    async fn history(&self, customer: &CustomerId, limit: usize) -> StoreResult<Vec<HistoryEntry>>;

    /// Adds a record to a customer's history outside a step (an operator's private note).
    async fn append_history(&self, customer: &CustomerId, entry: &HistoryEntry) -> StoreResult<()>;
}

/// Replies waiting to be sent, what became of them (platform ids, delivery news) and those given up on.
#[async_trait::async_trait]
pub trait Outbox: Send + Sync + 'static {
    /// Pending sends in creation order (per customer, that is reply order).
    async fn outbox(&self, limit: usize) -> StoreResult<Vec<OutboxEntry>>;

    /// One pending send as it is now (gone once delivered or dead-lettered).
    async fn outbox_entry(&self, id: u64) -> StoreResult<Option<OutboxEntry>>;

    async fn outbox_depth(&self) -> StoreResult<usize>;

    async fn outbox_reschedule(&self, entry: &OutboxEntry) -> StoreResult<()>;

    async fn outbox_dead(
        &self,
        entry: OutboxEntry,
        reason: String,
        now: Timestamp,
    ) -> StoreResult<()>;

    async fn dead_letters(&self) -> StoreResult<Vec<DeadLetter>>;

    /// How many sends are dead-lettered, and the newest `limit` of them, newest first.
    async fn recent_dead_letters(&self, limit: usize) -> StoreResult<(usize, Vec<DeadLetter>)>;

    /// Puts a dead-lettered send back in the outbox for a fresh round of tries; `None` when
    /// there is no such dead letter (already revived).
    async fn revive_dead_letter(
        &self,
        outbox_id: u64,
        now: Timestamp,
    ) -> StoreResult<Option<OutboxEntry>>;

    /// Records a delivery status unless its dedup key was seen; `Ok(false)` for a duplicate.
    /// The dedup key ages from `received_at` (our clock), not the platform's timestamp.
    async fn record_delivery(
        &self,
        dedup_key: &str,
        record: &DeliveryRecord,
        received_at: Timestamp,
    ) -> StoreResult<bool>;

    async fn deliveries(
        &self,
        channel: flows::Channel,
        platform_id: &str,
    ) -> StoreResult<Vec<DeliveryRecord>>;

    /// Where a send went: the platform ids it got (one per part).
    async fn sent_for(&self, outbox_id: u64) -> StoreResult<Vec<SentRecord>>;

    async fn dead_letter(&self, outbox_id: u64) -> StoreResult<Option<DeadLetter>>;
}

/// Durable timers: when the next falls due, and turning the due ones into inbox events.
#[async_trait::async_trait]
pub trait Timers: Send + Sync + 'static {
    /// When to look again: no later than the earliest timer, and possibly earlier (a backend
    /// may move a pushed-back timer only when its old time comes, in `fire_due_timers`).
    async fn next_timer_due(&self) -> StoreResult<Option<Timestamp>>;

    /// Atomically turns every timer due at `now` into an inbox entry and returns them.
    async fn fire_due_timers(&self, now: Timestamp) -> StoreResult<Vec<InboxEntry>>;
}

/// Orders, payment-link jobs, payment sessions and stock counts.
#[async_trait::async_trait]
pub trait Commerce: Send + Sync + 'static {
    async fn order(&self, id: &OrderId) -> StoreResult<Option<Order>>;

    /// Every order, in id order (start-up builds "bought together" from the paid ones).
    async fn orders(&self) -> StoreResult<Vec<Order>>;

    /// Payment links still to create, oldest first.
    async fn payment_jobs(&self) -> StoreResult<Vec<PaymentJob>>;

    /// Saves a job's retry state (tries, next try, last error).
    async fn payment_job_reschedule(&self, job: &PaymentJob) -> StoreResult<()>;

    async fn payment_job_done(&self, job: &PaymentJob) -> StoreResult<()>;

    /// The demo provider's pay pages: a token's digest names the order it pays.
    async fn put_pay_token(&self, digest: &[u8], order: &OrderId) -> StoreResult<()>;

    async fn pay_token(&self, digest: &[u8]) -> StoreResult<Option<OrderId>>;

    /// Remembers a payment session souk created (its provider id) and what it charges.
    async fn put_payment_session(&self, id: &str, session: &PaymentSession) -> StoreResult<()>;

    async fn payment_session(&self, id: &str) -> StoreResult<Option<PaymentSession>>;

    /// The sessions made for one order, oldest first (sessions recorded before the index
    /// existed are not found).
    async fn payment_sessions_of(
        &self,
        order: &OrderId,
    ) -> StoreResult<Vec<(String, PaymentSession)>>;

    /// Units sold per SKU since the catalog file with digest `base` was loaded. When the
    /// catalog changes, its stock numbers (`levels`) are the new truth: they are kept, so a
    /// payment can tell in its transaction whether units were left, and the count starts
    /// again.
    async fn stock_sold(&self, base: &str, levels: &[(Sku, u32)]) -> StoreResult<Vec<(Sku, u32)>>;
}

/// What the operators' console lists and searches.
#[async_trait::async_trait]
pub trait ConsoleQueries: Send + Sync + 'static {
    /// Every conversation list row, in no particular order (reports).
    async fn summaries(&self) -> StoreResult<Vec<ConversationSummary>>;

    /// The rows `query` asks for, newest activity first, with how many customers wait for a
    /// person whatever the filter (the console's title counts them).
    async fn conversations(&self, query: &ListQuery) -> StoreResult<ListPage>;

    async fn summary(&self, customer: &CustomerId) -> StoreResult<Option<ConversationSummary>>;

    /// An operator opened the conversation: nothing unread.
    async fn mark_read(&self, customer: &CustomerId) -> StoreResult<()>;

    /// Customers who wrote a text containing `needle` (lower case; matched without regard
    /// to case), read until `deadline`; the flag says whether every message was read.
    async fn customers_who_wrote(
        &self,
        needle: &str,
        deadline: std::time::Instant,
    ) -> StoreResult<(Vec<CustomerId>, bool)>;

    /// How many replies with each of `keys` were sent or queued, in the order of `keys`.
    async fn count_replies(&self, keys: &[flows::TextKey]) -> StoreResult<Vec<u64>>;
}

/// Which conversation list rows: a filter, a channel, at most `limit` of them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListQuery {
    pub filter: ListFilter,
    pub channel: Option<flows::Channel>,
    /// `None`: every matching row (the caller filters further, e.g. by text).
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum ListFilter {
    #[default]
    All,
    /// Waiting for a person.
    Waiting,
    /// Owned by this operator.
    OwnedBy(String),
}

impl ListQuery {
    /// Whether a row belongs on the page (before the limit).
    pub fn admits(&self, row: &ConversationSummary) -> bool {
        let by_filter = match &self.filter {
            ListFilter::All => true,
            ListFilter::Waiting => row.handoff.is_waiting(),
            ListFilter::OwnedBy(operator) => row
                .handoff
                .owner()
                .is_some_and(|owner| owner.0 == *operator),
        };
        by_filter
            && self
                .channel
                .is_none_or(|channel| row.channels.contains(&channel))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ListPage {
    pub rows: Vec<ConversationSummary>,
    pub waiting: usize,
}

/// Operators, their sessions, known devices, invitations and the first admin's set-up token.
#[async_trait::async_trait]
pub trait Staff: Send + Sync + 'static {
    /// Creates the operator; `Ok(false)` when the name is taken (unless `replace`, which
    /// also ends that operator's sessions: a new password logs everyone out).
    async fn put_operator(&self, operator: &Operator, replace: bool) -> StoreResult<bool>;

    /// Removes an operator and ends their sessions; `Ok(false)` if there was none.
    async fn remove_operator(&self, name: &str) -> StoreResult<bool>;

    async fn operator(&self, name: &str) -> StoreResult<Option<Operator>>;

    async fn operators(&self) -> StoreResult<Vec<Operator>>;

    async fn put_console_session(&self, digest: &[u8], session: &ConsoleSession)
    -> StoreResult<()>;

    async fn console_session(&self, digest: &[u8]) -> StoreResult<Option<ConsoleSession>>;

    async fn delete_console_session(&self, digest: &[u8]) -> StoreResult<()>;

    /// Drops sessions, known devices and invitations that expired before `now`; returns how many.
    async fn prune_console_sessions(&self, now: Timestamp) -> StoreResult<usize>;

    async fn put_known_device(&self, digest: &[u8], device: &KnownDevice) -> StoreResult<()>;

    async fn known_device(&self, digest: &[u8]) -> StoreResult<Option<KnownDevice>>;

    async fn put_invite(&self, digest: &[u8], invite: &Invite) -> StoreResult<()>;

    /// Removes and returns an invite: a link works once.
    async fn take_invite(&self, digest: &[u8]) -> StoreResult<Option<Invite>>;

    /// Ends every unused invitation of `operator` (a reset or a removal makes them stale).
    async fn revoke_invites(&self, operator: &str) -> StoreResult<usize>;

    /// The first-start set-up link's token (its digest), valid until `expires_at`; any
    /// earlier token stops working.
    async fn put_setup_token(&self, digest: &[u8], expires_at: Timestamp) -> StoreResult<()>;

    async fn setup_token(&self, digest: &[u8]) -> StoreResult<Option<Timestamp>>;

    /// Removes and returns the token's expiry: a set-up link works once.
    async fn take_setup_token(&self, digest: &[u8]) -> StoreResult<Option<Timestamp>>;
}

/// The audit log: who looked at or changed a customer's data.
#[async_trait::async_trait]
pub trait Audit: Send + Sync + 'static {
    async fn record_audit(&self, entry: &AuditEntry) -> StoreResult<()>;

    /// The newest `limit` entries, newest first; only `customer`'s when given.
    async fn audit_entries(
        &self,
        customer: Option<&CustomerId>,
        limit: usize,
    ) -> StoreResult<Vec<AuditEntry>>;

    /// Forgets entries older than `before` (retention); returns how many.
    async fn prune_audit(&self, before: Timestamp) -> StoreResult<usize>;
}

/// Erasing customers, and keeping records no longer than the shop's retention says.
#[async_trait::async_trait]
pub trait Erasure: Send + Sync + 'static {
    /// Carries out `plan` in one transaction (see `ErasurePlan`) and records the erasure
    /// under every customer id it covered. Idempotent: carried out again (a restart in the
    /// middle, a sweep for stragglers) it finds nothing more to take. Returns the last
    /// message's send, once queued.
    async fn erase(&self, plan: &ErasurePlan) -> StoreResult<Option<OutboxEntry>>;

    /// How a customer id was erased, if it was.
    async fn erasure(&self, customer: &CustomerId) -> StoreResult<Option<ErasureRecord>>;

    /// When a platform id (its salted digest) was erased.
    async fn identity_erased(&self, digest: &str) -> StoreResult<Option<Timestamp>>;

    /// Erasures done at or after `since`, oldest first.
    async fn erasures_since(&self, since: Timestamp) -> StoreResult<Vec<ErasureRecord>>;

    /// The key that salts the digests of erased platform ids: made at random on first use
    /// and kept (a shop may set its own in the environment instead, `privacy.digest_key`).
    async fn digest_key(&self) -> StoreResult<Vec<u8>>;

    /// Every customer's history records whose newest entry is older than `before` go;
    /// returns how many records. A full pass: run daily.
    async fn prune_history(&self, before: Timestamp) -> StoreResult<usize>;

    /// Orders placed before `before` go, with their payment jobs; returns how many.
    async fn prune_orders(&self, before: Timestamp) -> StoreResult<usize>;
}

/// Small per-channel records: button callbacks too long for a platform's limit.
#[async_trait::async_trait]
pub trait ChannelState: Send + Sync + 'static {
    /// Telegram callback data longer than 64 bytes travels as a short token: its action.
    async fn put_callback_token(&self, token: &str, action: &str) -> StoreResult<()>;

    async fn callback_token(&self, token: &str) -> StoreResult<Option<String>>;

    /// A web chat session before its first message, for the other replicas (a store no
    /// other process shares keeps none: the session lives in the process's memory).
    async fn put_pending_session(
        &self,
        digest: &str,
        locale: flows::Locale,
        at: Timestamp,
    ) -> StoreResult<()> {
        let _ = (digest, locale, at);
        Ok(())
    }

    /// A session another replica made since `since`, and the language it asked for.
    async fn pending_session(
        &self,
        digest: &str,
        since: Timestamp,
    ) -> StoreResult<Option<flows::Locale>> {
        let _ = (digest, since);
        Ok(None)
    }
}

/// Appointments and the staff calendar.
#[async_trait::async_trait]
pub trait Bookings: Send + Sync + 'static {
    /// Who is busy when, for every staff member (the shell's in-memory copy starts here).
    async fn calendar(&self) -> StoreResult<flows::booking::Calendar>;

    /// Carries out a booking flow's request in one transaction over every calendar of
    /// `staff`: a hold or a booking succeeds only if nothing in force overlaps it, so no
    /// time is ever given twice, whichever worker or replica asks. A new booking gets the
    /// calendar link `link` (its URL and the token in it). `Hold` and `Book` are answered;
    /// a `Book` asked again answers what was stored.
    async fn booking_request(
        &self,
        request: &flows::booking::BookingRequest,
        staff: &[flows::booking::StaffId],
        now: Timestamp,
        link: Option<(&str, &str)>,
    ) -> StoreResult<Option<flows::booking::BookingOutcome>>;

    async fn booking(
        &self,
        id: &flows::booking::BookingId,
    ) -> StoreResult<Option<flows::booking::Booking>>;

    /// The booking a calendar link's token names.
    async fn booking_by_token(&self, token: &str) -> StoreResult<Option<flows::booking::Booking>>;

    async fn bookings(&self) -> StoreResult<Vec<flows::booking::Booking>>;
}

/// Which replica steps which conversations. Conversations fall into shards; with several
/// replicas on one database each shard is leased to one live replica at a time, and a
/// commit for a shard carries its lease (`WriteGroup::fence`), so a replica that lost it can
/// no longer commit there. An embedded store has one process: it holds every shard.
#[async_trait::async_trait]
pub trait Leases: Send + Sync + 'static {
    /// Says `replica` is alive, renews its leases, takes its fair share of the `shards`
    /// that are free or whose holder stopped renewing, and gives back any over its share
    /// (another replica joined). Returns what it holds now; a lease lasts `ttl` unless
    /// renewed.
    async fn hold_leases(
        &self,
        replica: &str,
        shards: u32,
        ttl: std::time::Duration,
    ) -> StoreResult<Vec<Lease>>;

    /// Gives back every lease of `replica` (a graceful stop): others take them at once.
    async fn release_leases(&self, replica: &str) -> StoreResult<()>;

    /// Whether other processes share this store (each serving replica then leases shards,
    /// and its work queues are scoped to what it holds).
    fn shared_by_replicas(&self) -> bool {
        false
    }

    /// Takes the inbox events of the leased shards not yet taken under the lease's epoch
    /// (`Take` says which), oldest first, at most `CLAIM_PAGE` of them (call again while a
    /// full page comes back), each with its `claim` set; `taken_over` says a former holder
    /// had taken it (its step may be what stopped that holder).
    async fn claim_inbox(&self, leases: &[Lease], take: Take) -> StoreResult<Vec<Claimed>> {
        let _ = (leases, take);
        Ok(Vec::new())
    }

    /// The pending sends of the conversations in `shards`, oldest first.
    async fn outbox_of(&self, shards: &[u32]) -> StoreResult<Vec<OutboxEntry>>;

    /// Events waiting in the inbox of the conversations in `shards` (taken or not).
    async fn inbox_depth(&self, shards: &[u32]) -> StoreResult<usize>;

    /// Tells every replica (this one too) something for its live views.
    async fn announce(&self, payload: &str) -> StoreResult<()> {
        let _ = payload;
        Ok(())
    }

    /// What the replicas announce, and the inbox notices of the shards (`Notice`); `None`
    /// when nothing else shares the store.
    async fn listen(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<Notice>>> {
        Ok(None)
    }
}

/// Inbox events one `claim_inbox` call takes at most: a big backlog (a replica that died
/// under load, a long outage) is taken and handed over a page at a time, in order.
pub const CLAIM_PAGE: usize = 1000;

/// Which inbox events a replica takes for its shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Take {
    /// Only those nobody took: accepted by a replica that does not hold the shard (cheap:
    /// a partial index holds just these).
    Untaken,
    /// Also those a former holder took (a shard just gained; a periodic sweep).
    All,
}

/// A message between replicas.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// Events were accepted for these shards by a replica that does not hold them.
    Inbox(Vec<u32>),
    /// A live-view message (`announce`).
    Live(String),
    /// The listening connection was lost and is back: notices may have been missed.
    Missed,
}

/// An inbox event a replica took to step.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    pub entry: InboxEntry,
    pub taken_over: bool,
}

/// Keeping the engine healthy: read-ahead, pruning, flushing, size; mostly the embedded
/// engine's concern (a database backend answers most of these trivially).
#[async_trait::async_trait]
pub trait Maintenance: Send + Sync + 'static {
    /// Reads ahead what the steps of the timers due in `from..until` will read (at most
    /// `limit` of them), so that a burst of them finds it in memory; returns how many.
    async fn warm_timers(
        &self,
        from: Timestamp,
        until: Timestamp,
        limit: usize,
    ) -> StoreResult<usize>;

    /// Forgets dedup keys older than `before`; returns how many.
    async fn prune_processed(&self, before: Timestamp) -> StoreResult<usize>;

    /// Makes everything written so far durable.
    async fn flush(&self) -> StoreResult<()>;

    /// False while the store refuses writes (a full disk): not ready.
    /// A flag, read on every ingest: not async.
    fn healthy(&self) -> bool {
        true
    }

    /// Group-commit rounds this store takes at once: one for sled (one writer, its rounds
    /// in order); for a database as configured (its transactions wait on round trips,
    /// which several rounds can overlap).
    fn concurrent_writes(&self) -> usize {
        1
    }

    /// Tries to make an unhealthy store take writes again; `Ok(true)` when it did.
    async fn recover(&self) -> StoreResult<bool> {
        Ok(false)
    }

    /// Bytes on disk, for benchmarks and metrics.
    async fn size_on_disk(&self) -> StoreResult<u64>;
}

/// Every role, for `use crate::store::prelude::*`.
pub mod prelude {
    pub use super::{
        Audit, Bookings, ChannelState, Commerce, CommitLog, ConsoleQueries, Directory, Erasure,
        Leases, Maintenance, Outbox, Staff, Store, Timers,
    };
}

/// The whole store: every role. Implemented for anything that has them all.
pub trait Store:
    Audit
    + Erasure
    + Directory
    + CommitLog
    + Outbox
    + Timers
    + Commerce
    + ConsoleQueries
    + Staff
    + ChannelState
    + Bookings
    + Leases
    + Maintenance
{
}

impl<
    T: Audit
        + Erasure
        + Directory
        + CommitLog
        + Outbox
        + Timers
        + Commerce
        + ConsoleQueries
        + Staff
        + ChannelState
        + Bookings
        + Leases
        + Maintenance,
> Store for T
{
}
