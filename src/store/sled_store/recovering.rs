//! The embedded store as the shell uses it: `SledTrees` behind a handle that can reopen it.
//! sled 0.34 remembers the first I/O error it meets (a full disk) and refuses every later
//! operation, even once space is free: souk then answered 503 until restarted. Here such an
//! error marks the store unhealthy (`/readyz` says so), and `recover` reopens the database
//! in place once the disk takes writes again, with nothing acknowledged lost (every
//! acknowledged write was flushed before the error).

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use flows::{Conversation, Customer, CustomerId, Identity, Order, OrderId, Sku, Timestamp};

use super::SledTrees;
use crate::store::prelude::*;
use crate::store::{
    ConsoleSession, ConversationSummary, DeadLetter, DeliveryRecord, GroupWritten, HistoryEntry,
    InboxEntry, Ingested, Invite, KnownDevice, LinkCode, ListPage, ListQuery, MergeRecord,
    Operator, OutboxEntry, PaymentJob, PaymentSession, Redeemed, SentRecord, SetAside, StoreError,
    StoreResult, WriteGroup,
};

pub struct SledStore {
    path: PathBuf,
    /// `None` only while the database is being reopened.
    current: RwLock<Option<Arc<SledTrees>>>,
    /// An operation met an I/O error: sled refuses everything until reopened.
    broken: AtomicBool,
}

impl SledStore {
    pub fn open(path: &Path) -> StoreResult<SledStore> {
        Ok(SledStore {
            path: path.to_path_buf(),
            current: RwLock::new(Some(Arc::new(SledTrees::open(path)?))),
            broken: AtomicBool::new(false),
        })
    }

    /// See `SledTrees::settle`.
    pub fn settle(path: &Path) -> StoreResult<std::time::Duration> {
        SledTrees::settle(path)
    }

    fn engine(&self) -> StoreResult<Arc<SledTrees>> {
        self.current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
            .ok_or_else(|| StoreError::Unavailable("the store is being reopened".into()))
    }

    fn call<T>(&self, operation: impl FnOnce(&SledTrees) -> StoreResult<T>) -> StoreResult<T> {
        let result = operation(&*self.engine()?);
        self.noted(result)
    }

    /// Marks the store broken on an error that says the disk refuses writes.
    fn noted<T>(&self, result: StoreResult<T>) -> StoreResult<T> {
        if let Err(StoreError::Unavailable(reason)) = &result
            && !self.broken.swap(true, Ordering::AcqRel)
        {
            tracing::error!(%reason, "the store refuses writes; not ready until the disk takes them again");
        }
        result
    }

    /// Like `call`, for work that waits on the disk (a transaction's log write, an fsync)
    /// with borrowed arguments: on a multi-threaded runtime the thread is handed over to
    /// blocking first, so the runtime's other tasks move on meanwhile (tests' single-threaded
    /// runtimes just run it).
    fn in_place<T>(&self, operation: impl FnOnce(&SledTrees) -> StoreResult<T>) -> StoreResult<T> {
        let multi_threaded = tokio::runtime::Handle::try_current().is_ok_and(|handle| {
            handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
        });
        if multi_threaded {
            tokio::task::block_in_place(|| self.call(operation))
        } else {
            self.call(operation)
        }
    }

    /// Like `call`, on the blocking pool: for scans and transactions that may take long
    /// enough to hold up other tasks on an async thread.
    async fn blocking<T: Send + 'static>(
        &self,
        operation: impl FnOnce(&SledTrees) -> StoreResult<T> + Send + 'static,
    ) -> StoreResult<T> {
        let engine = self.engine()?;
        let result = tokio::task::spawn_blocking(move || operation(&engine))
            .await
            .map_err(|error| StoreError::Engine(format!("store task failed: {error}")))?;
        if let Err(StoreError::Unavailable(reason)) = &result
            && !self.broken.swap(true, Ordering::AcqRel)
        {
            tracing::error!(%reason, "the store refuses writes; not ready until the disk takes them again");
        }
        result
    }

    /// Whether the disk takes a small write and its fsync in the store's folder.
    fn disk_writable(&self) -> bool {
        use std::io::Write as _;
        let probe = self.path.join("souk-disk-probe");
        let written = std::fs::File::create(&probe).and_then(|mut file| {
            file.write_all(&[0_u8; 64 * 1024])?;
            file.sync_all()
        });
        let _ = std::fs::remove_file(&probe);
        written.is_ok()
    }

    fn reopen(&self) -> StoreResult<bool> {
        if !self.broken.load(Ordering::Acquire) || !self.disk_writable() {
            return Ok(false);
        }
        let mut slot = self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // sled keeps its file lock until the old database is dropped (callers holding it
        // finish their operation first; opening waits for the lock).
        drop(slot.take());
        match SledTrees::open(&self.path) {
            Ok(trees) => {
                *slot = Some(Arc::new(trees));
                self.broken.store(false, Ordering::Release);
                tracing::info!("the store was reopened and takes writes again");
                Ok(true)
            }
            Err(error) => {
                // Keep trying on the next round; meanwhile every call is refused.
                tracing::error!(%error, "reopening the store failed");
                Err(error)
            }
        }
    }
}

#[async_trait::async_trait]
impl Directory for SledStore {
    async fn resolve_identity(
        &self,
        identity: &Identity,
        new_customer: Customer,
    ) -> StoreResult<CustomerId> {
        self.call(|store| store.resolve_identity(identity, new_customer))
    }

    async fn find_identity(&self, identity: &Identity) -> StoreResult<Option<CustomerId>> {
        self.call(|store| store.find_identity(identity))
    }

    async fn customer(&self, id: &CustomerId) -> StoreResult<Option<Customer>> {
        self.call(|store| store.customer(id))
    }

    // These three wait for the group commit's round lock (`rewriting`): the thread is
    // handed over meanwhile.
    async fn move_identity(&self, from: &Identity, to: &Identity) -> StoreResult<bool> {
        self.in_place(|store| store.move_identity(from, to))
    }

    async fn set_blocked(&self, identity: &Identity, blocked: bool) -> StoreResult<()> {
        self.call(|store| store.set_blocked(identity, blocked))
    }

    async fn is_blocked(&self, identity: &Identity) -> StoreResult<bool> {
        self.call(|store| store.is_blocked(identity))
    }

    async fn put_link_code(&self, code: &str, record: &LinkCode) -> StoreResult<()> {
        self.call(|store| store.put_link_code(code, record))
    }

    async fn redeem_link_code(&self, code: &str, now: Timestamp) -> StoreResult<Redeemed> {
        self.call(|store| store.redeem_link_code(code, now))
    }

    async fn merge_customers(
        &self,
        from: &CustomerId,
        into: &CustomerId,
        now: Timestamp,
    ) -> StoreResult<Vec<flows::CartLine>> {
        self.in_place(|store| store.merge_customers(from, into, now))
    }

    async fn unmerge_customers(&self, from: &CustomerId, into: &CustomerId) -> StoreResult<bool> {
        self.in_place(|store| store.unmerge_customers(from, into))
    }

    async fn merged_into(&self, into: &CustomerId) -> StoreResult<Vec<MergeRecord>> {
        self.call(|store| store.merged_into(into))
    }
}

#[async_trait::async_trait]
impl CommitLog for SledStore {
    async fn write_groups(&self, parts: &[WriteGroup]) -> StoreResult<Vec<GroupWritten>> {
        self.in_place(|store| store.write_groups(parts))
    }

    fn appends_apart(&self) -> bool {
        true
    }

    async fn append_inbox(&self, entries: Vec<InboxEntry>) -> StoreResult<Vec<Ingested>> {
        let answer = self.engine()?.append_inbox(entries);
        let result = answer
            .await
            .unwrap_or_else(|_| Err(StoreError::Engine("the inbox log's writer stopped".into())));
        self.noted(result)
    }

    async fn in_inbox(&self, seq: u64) -> StoreResult<bool> {
        self.call(|store| store.in_inbox(seq))
    }

    async fn pending_inbox(&self) -> StoreResult<Vec<InboxEntry>> {
        self.blocking(|store| store.pending_inbox()).await
    }

    async fn note_step_attempt(&self, seq: u64) -> StoreResult<u32> {
        self.in_place(|store| store.note_step_attempt(seq))
    }

    async fn step_attempts(&self, seq: u64) -> StoreResult<u32> {
        self.call(|store| store.step_attempts(seq))
    }

    async fn forget_settled_attempts(&self) -> StoreResult<usize> {
        self.call(|store| store.forget_settled_attempts())
    }

    async fn set_aside(
        &self,
        seq: u64,
        reason: &str,
        attempts: u32,
        now: Timestamp,
    ) -> StoreResult<bool> {
        self.in_place(|store| store.set_aside(seq, reason, attempts, now))
    }

    async fn set_aside_events(&self) -> StoreResult<Vec<SetAside>> {
        self.blocking(|store| store.set_aside_events()).await
    }

    async fn retry_set_aside(&self, seq: u64) -> StoreResult<Option<InboxEntry>> {
        self.call(|store| store.retry_set_aside(seq))
    }

    async fn conversation(&self, id: &CustomerId) -> StoreResult<Option<Conversation>> {
        self.call(|store| store.conversation(id))
    }

    async fn conversation_with_customer(
        &self,
        id: &CustomerId,
    ) -> StoreResult<(Option<Conversation>, Option<flows::Customer>)> {
        self.call(|store| store.conversation_with_customer(id))
    }

    async fn history(&self, customer: &CustomerId, limit: usize) -> StoreResult<Vec<HistoryEntry>> {
        self.call(|store| store.history(customer, limit))
    }

    async fn append_history(&self, customer: &CustomerId, entry: &HistoryEntry) -> StoreResult<()> {
        self.call(|store| store.append_history(customer, entry))
    }
}

#[async_trait::async_trait]
impl Outbox for SledStore {
    async fn outbox(&self, limit: usize) -> StoreResult<Vec<OutboxEntry>> {
        self.blocking(move |store| store.outbox(limit)).await
    }

    async fn outbox_entry(&self, id: u64) -> StoreResult<Option<OutboxEntry>> {
        self.call(|store| store.outbox_entry(id))
    }

    async fn outbox_depth(&self) -> StoreResult<usize> {
        self.call(|store| store.outbox_depth())
    }

    async fn outbox_reschedule(&self, entry: &OutboxEntry) -> StoreResult<()> {
        self.in_place(|store| store.outbox_reschedule(entry))
    }

    async fn outbox_dead(
        &self,
        entry: OutboxEntry,
        reason: String,
        now: Timestamp,
    ) -> StoreResult<()> {
        self.in_place(|store| store.outbox_dead(entry, reason, now))
    }

    async fn dead_letters(&self) -> StoreResult<Vec<DeadLetter>> {
        self.blocking(move |store| store.dead_letters()).await
    }

    async fn recent_dead_letters(&self, limit: usize) -> StoreResult<(usize, Vec<DeadLetter>)> {
        self.blocking(move |store| store.recent_dead_letters(limit))
            .await
    }

    async fn revive_dead_letter(
        &self,
        outbox_id: u64,
        now: Timestamp,
    ) -> StoreResult<Option<OutboxEntry>> {
        self.call(|store| store.revive_dead_letter(outbox_id, now))
    }

    async fn record_delivery(
        &self,
        dedup_key: &str,
        record: &DeliveryRecord,
        received_at: Timestamp,
    ) -> StoreResult<bool> {
        self.call(|store| store.record_delivery(dedup_key, record, received_at))
    }

    async fn deliveries(
        &self,
        channel: flows::Channel,
        platform_id: &str,
    ) -> StoreResult<Vec<DeliveryRecord>> {
        self.call(|store| store.deliveries(channel, platform_id))
    }

    async fn sent_for(&self, outbox_id: u64) -> StoreResult<Vec<SentRecord>> {
        self.call(|store| store.sent_for(outbox_id))
    }

    async fn dead_letter(&self, outbox_id: u64) -> StoreResult<Option<DeadLetter>> {
        self.call(|store| store.dead_letter(outbox_id))
    }
}

#[async_trait::async_trait]
impl Timers for SledStore {
    async fn next_timer_due(&self) -> StoreResult<Option<Timestamp>> {
        self.call(|store| store.next_timer_due())
    }

    async fn fire_due_timers(&self, now: Timestamp) -> StoreResult<Vec<InboxEntry>> {
        self.blocking(move |store| store.fire_due_timers(now)).await
    }
}

#[async_trait::async_trait]
impl Commerce for SledStore {
    async fn order(&self, id: &OrderId) -> StoreResult<Option<Order>> {
        self.call(|store| store.order(id))
    }

    async fn orders(&self) -> StoreResult<Vec<Order>> {
        self.call(|store| store.orders())
    }

    async fn payment_jobs(&self) -> StoreResult<Vec<PaymentJob>> {
        self.blocking(|store| store.payment_jobs()).await
    }

    async fn payment_job_reschedule(&self, job: &PaymentJob) -> StoreResult<()> {
        self.call(|store| store.payment_job_reschedule(job))
    }

    async fn payment_job_done(&self, job: &PaymentJob) -> StoreResult<()> {
        self.call(|store| store.payment_job_done(job))
    }

    async fn put_pay_token(&self, digest: &[u8], order: &OrderId) -> StoreResult<()> {
        self.call(|store| store.put_pay_token(digest, order))
    }

    async fn pay_token(&self, digest: &[u8]) -> StoreResult<Option<OrderId>> {
        self.call(|store| store.pay_token(digest))
    }

    async fn put_payment_session(&self, id: &str, session: &PaymentSession) -> StoreResult<()> {
        self.call(|store| store.put_payment_session(id, session))
    }

    async fn payment_session(&self, id: &str) -> StoreResult<Option<PaymentSession>> {
        self.call(|store| store.payment_session(id))
    }

    async fn payment_sessions_of(
        &self,
        order: &OrderId,
    ) -> StoreResult<Vec<(String, PaymentSession)>> {
        self.call(|store| store.payment_sessions_of(order))
    }

    async fn stock_sold(&self, base: &str, levels: &[(Sku, u32)]) -> StoreResult<Vec<(Sku, u32)>> {
        self.call(|store| store.stock_sold(base, levels))
    }
}

#[async_trait::async_trait]
impl ConsoleQueries for SledStore {
    async fn summaries(&self) -> StoreResult<Vec<ConversationSummary>> {
        self.blocking(|store| store.summaries()).await
    }

    async fn summary(&self, customer: &CustomerId) -> StoreResult<Option<ConversationSummary>> {
        self.call(|store| store.summary(customer))
    }

    async fn mark_read(&self, customer: &CustomerId) -> StoreResult<()> {
        self.call(|store| store.mark_read(customer))
    }

    async fn conversations(&self, query: &ListQuery) -> StoreResult<ListPage> {
        let query = query.clone();
        self.blocking(move |store| store.conversations(&query))
            .await
    }

    async fn customers_who_wrote(
        &self,
        needle: &str,
        deadline: std::time::Instant,
    ) -> StoreResult<(Vec<CustomerId>, bool)> {
        let needle = needle.to_owned();
        self.blocking(move |store| store.customers_who_wrote(&needle, deadline))
            .await
    }

    async fn count_replies(&self, keys: &[flows::TextKey]) -> StoreResult<Vec<u64>> {
        let keys = keys.to_vec();
        self.blocking(move |store| store.count_replies(&keys)).await
    }
}

#[async_trait::async_trait]
impl Staff for SledStore {
    async fn put_operator(&self, operator: &Operator, replace: bool) -> StoreResult<bool> {
        self.call(|store| store.put_operator(operator, replace))
    }

    async fn remove_operator(&self, name: &str) -> StoreResult<bool> {
        self.call(|store| store.remove_operator(name))
    }

    async fn operator(&self, name: &str) -> StoreResult<Option<Operator>> {
        self.call(|store| store.operator(name))
    }

    async fn operators(&self) -> StoreResult<Vec<Operator>> {
        self.call(|store| store.operators())
    }

    async fn put_console_session(
        &self,
        digest: &[u8],
        session: &ConsoleSession,
    ) -> StoreResult<()> {
        self.call(|store| store.put_console_session(digest, session))
    }

    async fn console_session(&self, digest: &[u8]) -> StoreResult<Option<ConsoleSession>> {
        self.call(|store| store.console_session(digest))
    }

    async fn delete_console_session(&self, digest: &[u8]) -> StoreResult<()> {
        self.call(|store| store.delete_console_session(digest))
    }

    async fn prune_console_sessions(&self, now: Timestamp) -> StoreResult<usize> {
        self.blocking(move |store| store.prune_console_sessions(now))
            .await
    }

    async fn put_setup_token(&self, digest: &[u8], expires_at: Timestamp) -> StoreResult<()> {
        self.call(|store| store.put_setup_token(digest, expires_at))
    }

    async fn setup_token(&self, digest: &[u8]) -> StoreResult<Option<Timestamp>> {
        self.call(|store| store.setup_token(digest))
    }

    async fn take_setup_token(&self, digest: &[u8]) -> StoreResult<Option<Timestamp>> {
        self.call(|store| store.take_setup_token(digest))
    }

    async fn put_known_device(&self, digest: &[u8], device: &KnownDevice) -> StoreResult<()> {
        self.call(|store| store.put_known_device(digest, device))
    }

    async fn known_device(&self, digest: &[u8]) -> StoreResult<Option<KnownDevice>> {
        self.call(|store| store.known_device(digest))
    }

    async fn put_invite(&self, digest: &[u8], invite: &Invite) -> StoreResult<()> {
        self.call(|store| store.put_invite(digest, invite))
    }

    async fn take_invite(&self, digest: &[u8]) -> StoreResult<Option<Invite>> {
        self.call(|store| store.take_invite(digest))
    }

    async fn revoke_invites(&self, operator: &str) -> StoreResult<usize> {
        self.call(|store| store.revoke_invites(operator))
    }
}

#[async_trait::async_trait]
impl crate::store::Erasure for SledStore {
    async fn erase(
        &self,
        plan: &crate::store::ErasurePlan,
    ) -> StoreResult<Option<crate::store::OutboxEntry>> {
        let plan = plan.clone();
        // Durable before anything else happens: the last message says it is done.
        self.blocking(move |store| {
            let created = store.erase(&plan)?;
            store.flush()?;
            Ok(created)
        })
        .await
    }

    async fn erasure(
        &self,
        customer: &flows::CustomerId,
    ) -> StoreResult<Option<crate::store::ErasureRecord>> {
        self.call(|store| store.erasure(customer))
    }

    async fn identity_erased(&self, digest: &str) -> StoreResult<Option<Timestamp>> {
        self.call(|store| store.identity_erased(digest))
    }

    async fn erasures_since(
        &self,
        since: Timestamp,
    ) -> StoreResult<Vec<crate::store::ErasureRecord>> {
        self.blocking(move |store| store.erasures_since(since))
            .await
    }

    async fn digest_key(&self) -> StoreResult<Vec<u8>> {
        self.call(|store| store.digest_key())
    }

    async fn prune_history(&self, before: Timestamp) -> StoreResult<usize> {
        self.blocking(move |store| store.prune_history(before))
            .await
    }

    async fn prune_orders(&self, before: Timestamp) -> StoreResult<usize> {
        self.blocking(move |store| store.prune_orders(before)).await
    }
}

#[async_trait::async_trait]
impl crate::store::Audit for SledStore {
    async fn record_audit(&self, entry: &crate::store::AuditEntry) -> StoreResult<()> {
        self.call(|store| store.record_audit(entry))
    }

    async fn audit_entries(
        &self,
        customer: Option<&flows::CustomerId>,
        limit: usize,
    ) -> StoreResult<Vec<crate::store::AuditEntry>> {
        let customer = customer.cloned();
        self.blocking(move |store| store.audit_entries(customer.as_ref(), limit))
            .await
    }

    async fn prune_audit(&self, before: Timestamp) -> StoreResult<usize> {
        self.blocking(move |store| store.prune_audit(before)).await
    }
}

#[async_trait::async_trait]
impl ChannelState for SledStore {
    async fn put_callback_token(&self, token: &str, action: &str) -> StoreResult<()> {
        self.call(|store| store.put_callback_token(token, action))
    }

    async fn callback_token(&self, token: &str) -> StoreResult<Option<String>> {
        self.call(|store| store.callback_token(token))
    }
}

#[async_trait::async_trait]
impl Bookings for SledStore {
    async fn calendar(&self) -> StoreResult<flows::booking::Calendar> {
        self.blocking(|store| store.calendar()).await
    }

    async fn booking_request(
        &self,
        request: &flows::booking::BookingRequest,
        staff: &[flows::booking::StaffId],
        now: Timestamp,
        link: Option<(&str, &str)>,
    ) -> StoreResult<Option<flows::booking::BookingOutcome>> {
        let (request, staff) = (request.clone(), staff.to_vec());
        let link = link.map(|(url, token)| (url.to_owned(), token.to_owned()));
        self.blocking(move |store| {
            let link = link
                .as_ref()
                .map(|(url, token)| (url.as_str(), token.as_str()));
            store.booking_request(&request, &staff, now, link)
        })
        .await
    }

    async fn booking(
        &self,
        id: &flows::booking::BookingId,
    ) -> StoreResult<Option<flows::booking::Booking>> {
        self.call(|store| store.booking(id))
    }

    async fn booking_by_token(&self, token: &str) -> StoreResult<Option<flows::booking::Booking>> {
        self.call(|store| store.booking_by_token(token))
    }

    async fn bookings(&self) -> StoreResult<Vec<flows::booking::Booking>> {
        self.blocking(|store| store.bookings()).await
    }
}

#[async_trait::async_trait]
impl Maintenance for SledStore {
    fn healthy(&self) -> bool {
        !self.broken.load(Ordering::Acquire)
    }

    async fn recover(&self) -> StoreResult<bool> {
        // Reopening replays the log: disk work.
        let multi_threaded = tokio::runtime::Handle::try_current().is_ok_and(|handle| {
            handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread
        });
        if multi_threaded {
            tokio::task::block_in_place(|| self.reopen())
        } else {
            self.reopen()
        }
    }

    async fn warm_timers(
        &self,
        from: Timestamp,
        until: Timestamp,
        limit: usize,
    ) -> StoreResult<usize> {
        self.blocking(move |store| store.warm_timers(from, until, limit))
            .await
    }

    async fn prune_processed(&self, before: Timestamp) -> StoreResult<usize> {
        self.blocking(move |store| store.prune_processed(before))
            .await
    }

    async fn flush(&self) -> StoreResult<()> {
        self.in_place(|store| store.flush())
    }

    async fn size_on_disk(&self) -> StoreResult<u64> {
        self.call(|store| store.size_on_disk())
    }
}

/// One process holds a sled store (its file lock says so): every shard is its own, for good.
#[async_trait::async_trait]
impl Leases for SledStore {
    async fn hold_leases(
        &self,
        _replica: &str,
        shards: u32,
        _ttl: std::time::Duration,
    ) -> StoreResult<Vec<crate::store::Lease>> {
        Ok((0..shards)
            .map(|shard| crate::store::Lease { shard, epoch: 0 })
            .collect())
    }

    async fn release_leases(&self, _replica: &str) -> StoreResult<()> {
        Ok(())
    }

    async fn outbox_of(&self, _shards: &[u32]) -> StoreResult<Vec<crate::store::OutboxEntry>> {
        crate::store::Outbox::outbox(self, usize::MAX).await
    }

    async fn inbox_depth(&self, _shards: &[u32]) -> StoreResult<usize> {
        Ok(crate::store::CommitLog::pending_inbox(self).await?.len())
    }
}
