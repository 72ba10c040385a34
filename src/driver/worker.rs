//! A single-writer worker: it owns every conversation that hashes to its shard, so one
//! conversation's events apply strictly in order and need no locks.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use flows::{Action, Channel, Conversation, Customer, CustomerId, Event, Identity, Step};

use crate::clock;
use crate::store::{
    HistoryEntry, InboxEntry, NewOutbox, OrderUpdate, PaymentJob, StepCommit, TimerChange,
    TimerEntry,
};

use super::Shared;
use super::poison::{STEP_ATTEMPTS, StepFailure, admit_redriven, set_aside};
use crate::linking::LinkRequest;

pub struct Worker {
    pub shard: usize,
    pub shared: Arc<Shared>,
}

/// Runs until `drain` is cancelled, then finishes what is already queued and returns.
pub async fn run_worker(
    worker: Worker,
    mut queue: mpsc::Receiver<InboxEntry>,
    drain: CancellationToken,
) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    loop {
        tokio::select! {
            biased;
            received = queue.recv_many(&mut batch, MAX_BATCH) => {
                if received == 0 {
                    return;
                }
                worker.handle(std::mem::take(&mut batch)).await;
            }
            () = drain.cancelled() => {
                let rest: Vec<InboxEntry> = std::iter::from_fn(|| queue.try_recv().ok()).collect();
                for chunk in rest.chunks(MAX_BATCH) {
                    worker.handle(chunk.to_vec()).await;
                }
                return;
            }
        }
    }
}

/// Events stepped and committed together when they queue up: one store transaction for the
/// lot instead of one each (a transaction costs the engine a log write of its own). Under
/// light load the queue holds one event and nothing waits for a batch to fill.
const MAX_BATCH: usize = 64;

fn channel_of(event: &Event) -> Option<Channel> {
    match event {
        Event::Inbound(inbound) => Some(inbound.channel),
        _ => None,
    }
}

fn is_reminder(reply: &flows::Reply) -> bool {
    matches!(
        reply.text.key,
        flows::TextKey::RecoveryGentle
            | flows::TextKey::RecoveryNextDay
            | flows::TextKey::RecoveryLastCall
    )
}

/// Where replies go: the channel of this message; for anything else (payments, shipping,
/// reminders) the channel the customer chose, else the one they used last.
fn reply_route(
    customer: Option<&Customer>,
    conversation: &Conversation,
    event: &Event,
) -> Option<(Channel, String)> {
    let channel = channel_of(event)
        .or(conversation.reach.preferred_channel)
        .or(conversation.reach.last_channel)?;
    let identity: &Identity = customer?
        .identities
        .iter()
        .find(|identity| identity.channel == channel)?;
    Some((channel, identity.external_id.clone()))
}

impl Worker {
    async fn handle(&self, mut entries: Vec<InboxEntry>) {
        // Taken under a lease this replica no longer holds: the shard's new holder took the
        // events again and steps them.
        // The same event twice in one batch (re-driven after the store came back while
        // its first copy was still queued) is stepped once.
        let mut seen = std::collections::HashSet::with_capacity(entries.len());
        entries.retain(|entry| seen.insert(entry.seq));
        let before = entries.len();
        entries.retain(|entry| self.shared.holding.steps(entry));
        if entries.len() < before {
            metrics::counter!("souk_events_left_to_other_replicas_total")
                .increment((before - entries.len()) as u64);
            if entries.is_empty() {
                return;
            }
        }
        if self
            .shared
            .verify_inbox
            .load(std::sync::atomic::Ordering::Acquire)
        {
            let store = &self.shared.store;
            let mut still = Vec::with_capacity(entries.len());
            for entry in entries {
                if store.in_inbox(entry.seq).await.unwrap_or(true) {
                    still.push(entry);
                }
            }
            entries = still;
            if entries.is_empty() {
                return;
            }
        }
        // A merge rewrites its conversation from the store: it runs alone, never beside a
        // step of the same batch the store has not seen yet.
        // So does an erasure: it takes the conversation out of the store under the batch.
        let has_merge = entries.iter().any(|entry| {
            crate::linking::merge_source(entry).is_some()
                || crate::data_rights::erase::request_of(entry).is_some()
        });
        // Events re-driven after a stop may be what stopped it: one at a time, each attempt
        // counted on disk first (see `poison.rs`).
        let redriven = entries
            .iter()
            .any(|entry| self.shared.poison.is_redriven(entry.seq));
        if entries.len() > 1 && !has_merge && !redriven {
            // Steps run inline, not on the blocking pool: they take microseconds, and the hop
            // to another thread cost more than the work on two cores.
            match process_batch(&self.shared, self.shard, &entries).await {
                Ok(effects) => return self.done(&entries, &effects),
                // One bad event must not hold back the others: retry them one at a time.
                Err(error) => {
                    tracing::warn!(%error, shard = self.shard, events = entries.len(), "batch commit failed; committing one by one")
                }
            }
        }
        for entry in entries {
            self.handle_one(entry).await;
        }
    }

    async fn handle_one(&self, entry: InboxEntry) {
        // A failed commit (a full disk, say) is retried here, before this shard's next event,
        // so the conversation's order holds. If it keeps failing, the event stays in the inbox
        // and is re-driven at the next start.
        if !admit_redriven(&self.shared, &entry).await {
            return;
        }
        let batch = std::slice::from_ref(&entry);
        let mut panics = 0;
        for attempt in 1..=COMMIT_ATTEMPTS {
            if !self.shared.holding.steps(&entry) {
                metrics::counter!("souk_events_left_to_other_replicas_total").increment(1);
                return;
            }
            match process_batch(&self.shared, self.shard, batch).await {
                Ok(effects) => return self.done(batch, &effects),
                // A bug the event's content triggers: the same step would panic forever.
                Err(StepFailure::Panicked(message)) => {
                    panics += 1;
                    tracing::error!(%message, attempt, shard = self.shard, customer = %entry.customer, event = %entry.public_id, "step panicked");
                    if panics >= STEP_ATTEMPTS {
                        let reason = format!("its step panicked: {message}");
                        return set_aside(&self.shared, &entry, &reason, panics).await;
                    }
                    continue;
                }
                Err(error) => {
                    tracing::error!(%error, attempt, shard = self.shard, customer = %entry.customer, event = %entry.public_id, "step could not be committed")
                }
            }
            tokio::time::sleep(std::time::Duration::from_millis(100 * u64::from(attempt))).await;
        }
        metrics::counter!("souk_events_failed_total").increment(1);
    }

    fn done(&self, entries: &[InboxEntry], effects: &Effects) {
        metrics::counter!("souk_events_processed_total").increment(entries.len() as u64);
        self.shared.applied.settled(
            entries.iter().map(|entry| entry.seq),
            super::applied::Settled::Applied,
        );
        // An operator's console may wait for it on another replica.
        if self.shared.relay.is_on() {
            for entry in entries.iter().filter(|entry| entry.event.is_operator()) {
                self.shared.relay.send(super::live::LiveNews::Applied(
                    entry.seq,
                    super::applied::Settled::Applied,
                ));
            }
        }
        if effects.queued_sends {
            self.shared.outbox_wakeup.notify_one();
        }
        if effects.changed_timers {
            self.shared.timer_wakeup.notify_one();
        }
        if effects.payment_jobs {
            self.shared.payment_wakeup.notify_one();
        }
    }
}

/// Attempts at committing one step before the worker moves on.
const COMMIT_ATTEMPTS: u32 = 3;

/// Store work a step asked for that must wait until the step is durable; its answer comes
/// back as an event of its own.
enum AfterCommit {
    Link(LinkRequest),
    Booking(Box<flows::booking::BookingRequest>),
    Nlu(crate::nlu::Job),
}

struct Effects {
    queued_sends: bool,
    changed_timers: bool,
    payment_jobs: bool,
    /// Orders that became paid: the catalog's stock drops by their units.
    paid: Vec<flows::Order>,
}

/// Steps every event in order, then commits them all at once through the group commit (one
/// transaction, durable when it returns, so the outbox may send what they queued).
async fn process_batch(
    shared: &Shared,
    shard: usize,
    entries: &[InboxEntry],
) -> Result<Effects, StepFailure> {
    // A customer's latest state within this batch: the store has not seen it yet.
    let mut stepped: HashMap<&CustomerId, usize> = HashMap::new();
    let mut commits: Vec<StepCommit> = Vec::with_capacity(entries.len());
    let mut links: Vec<(CustomerId, AfterCommit)> = Vec::new();
    let mut read = read_ahead(shared, entries).await?;
    for entry in entries {
        let start = match stepped
            .get(&entry.customer)
            .and_then(|&index| commits.get(index))
        {
            Some(commit) => Start::Earlier(commit.conversation.clone()),
            None => match read.remove(&entry.customer) {
                Some((conversation, customer)) => Start::Read(conversation, customer),
                None => Start::Load,
            },
        };
        let span =
            tracing::info_span!("conversation", id = %entry.customer, event = %entry.public_id);
        // `None`: an erasure, carried out instead of a step (it committed on its own).
        let Some((commit, requests)) = step_one(shared, shard, entry, start)
            .instrument(span)
            .await?
        else {
            continue;
        };
        links.extend(requests.into_iter().map(|r| (entry.customer.clone(), r)));
        stepped.insert(&entry.customer, commits.len());
        commits.push(commit);
    }
    let effects = Effects {
        queued_sends: commits.iter().any(|commit| !commit.outbox.is_empty()),
        changed_timers: commits.iter().any(|commit| !commit.timers.is_empty()),
        payment_jobs: commits.iter().any(|commit| !commit.payment_jobs.is_empty()),
        paid: commits.iter().flat_map(newly_paid).collect(),
    };
    metrics::histogram!("souk_commit_batch_size").record(commits.len() as f64);
    let changed: Vec<CustomerId> = stepped.keys().map(|c| (*c).clone()).collect();
    let fence = shared.holding.fence(entries);
    let created = if commits.is_empty() {
        Vec::new()
    } else {
        shared.group_commit.commit(commits, fence).await?
    };
    for customer in &changed {
        shared.console_feed.publish(customer);
    }
    // After the commit: the code the customer asked for, or a link made with one, is
    // answered as an event of its own.
    for (customer, request) in links {
        match request {
            AfterCommit::Link(request) => crate::linking::spawn(shared, customer, request),
            AfterCommit::Booking(request) => crate::booking::spawn(shared, customer, *request),
            AfterCommit::Nlu(job) => crate::nlu::spawn(shared, customer, job),
        }
    }
    // Before any reply of these steps can leave: whoever reads "paid" then sees the stock.
    if !effects.paid.is_empty() {
        shared.record_paid(&effects.paid);
        report_oversold(shared, &effects.paid).await;
    }
    if created.iter().any(|sends| !sends.is_empty()) {
        shared
            .outbox_feed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend(created.into_iter().flatten());
    }
    Ok(effects)
}

/// The store marks a paid order whose units were already gone and puts `OrderOversold` in
/// the inbox, both in the payment's own transaction; here the entry is handed to its worker
/// (after a crash, the start-up replay of the inbox does it). From a task of its own: this
/// worker may be the one that has to take it.
async fn report_oversold(shared: &Shared, paid: &[flows::Order]) {
    let ingest = &shared.ingest;
    let mut oversold: Vec<&flows::OrderId> = Vec::new();
    for order in paid {
        match shared.store.order(&order.id).await {
            Ok(Some(stored)) if !stored.oversold.is_empty() => {
                metrics::counter!("souk_orders_oversold_total").increment(1);
                tracing::warn!(order = %stored.id, skus = ?stored.oversold, "paid for units no longer in stock");
                oversold.push(&order.id);
            }
            Ok(_) => {}
            Err(error) => {
                tracing::error!(%error, order = %order.id, "cannot read a paid order back");
            }
        }
    }
    if oversold.is_empty() {
        return;
    }
    // Rare (a payment for the last unit raced another): scanning the pending inbox is fine.
    let pending = match shared.store.pending_inbox().await {
        Ok(pending) => pending,
        Err(error) => {
            tracing::error!(%error, "cannot read the inbox; the oversold report waits for a restart");
            return;
        }
    };
    for entry in pending {
        let flows::Event::OrderOversold { order, .. } = &entry.event else {
            continue;
        };
        if !oversold.contains(&order) {
            continue;
        }
        let ingest = ingest.clone();
        tokio::spawn(async move {
            if let Err(error) = ingest.dispatch(entry).await {
                tracing::error!(%error, "could not hand an oversold order to its conversation");
            }
        });
    }
}

/// The orders a step marked paid. The core marks an order paid once (it keeps the order's
/// status), so their units are taken out of stock once.
fn newly_paid(commit: &StepCommit) -> Vec<flows::Order> {
    commit
        .order_updates
        .iter()
        .filter(|update| update.status == flows::OrderStatus::Paid)
        .filter_map(|update| {
            commit
                .conversation
                .orders
                .recent
                .iter()
                .find(|order| order.id == update.order)
        })
        .cloned()
        .collect()
}

/// Where a step's conversation comes from.
enum Start {
    /// This batch already stepped it: the store has not seen that state yet.
    Earlier(Conversation),
    /// Read with the rest of the batch: the conversation and the customer's record.
    Read(Option<Conversation>, Option<Customer>),
    /// Read it now.
    Load,
}

type Read = HashMap<CustomerId, (Option<Conversation>, Option<Customer>)>;

/// A batch of several events reads its conversations in one go (one query on a database
/// instead of one per event). Never with a merge in the batch: a merge rewrites its
/// conversation in the store just before its step (such batches run one event at a time).
async fn read_ahead(shared: &Shared, entries: &[InboxEntry]) -> Result<Read, StepFailure> {
    if entries.len() < 2
        || entries.iter().any(|entry| {
            crate::linking::merge_source(entry).is_some()
                || crate::data_rights::erase::request_of(entry).is_some()
        })
    {
        return Ok(Read::new());
    }
    let mut ids: Vec<CustomerId> = entries.iter().map(|entry| entry.customer.clone()).collect();
    ids.sort_unstable();
    ids.dedup();
    let read = shared.store.conversations_with_customers(&ids).await?;
    Ok(ids.into_iter().zip(read).collect())
}

/// Load (unless this batch already stepped or read the conversation) and step one event.
/// `None` when the event was an erasure (or came for an erased customer): carried out, and
/// committed, instead of a step.
async fn step_one(
    shared: &Shared,
    shard: usize,
    entry: &InboxEntry,
    start: Start,
) -> Result<Option<(StepCommit, Vec<AfterCommit>)>, StepFailure> {
    let store = &shared.store;
    if let Some(by) = crate::data_rights::erase::request_of(entry) {
        crate::data_rights::erase::carry_out(shared, entry, by).await?;
        return Ok(None);
    }
    let event = match crate::linking::merge_source(entry) {
        Some(from) => {
            crate::linking::carry_out_merge(store.as_ref(), &from, &entry.customer).await?
        }
        None => entry.event.clone(),
    };
    // The customer record (identities, first locale) is for a new conversation's
    // language and for where replies go.
    // `customer`: `None` when not read yet (read below if the step sends).
    let (stored, customer): (Option<Conversation>, Option<Option<Customer>>) = match start {
        Start::Earlier(conversation) => (Some(conversation), None),
        Start::Read(stored, found) => (stored, Some(found)),
        // Read together: most steps send, and replies need the customer's identities.
        Start::Load => {
            let (stored, found) = store.conversation_with_customer(&entry.customer).await?;
            (stored, Some(found))
        }
    };
    // Neither a conversation nor a customer record: a new conversation, or one erased since
    // this event came in (rare either way; only then is the erasure record read).
    if stored.is_none()
        && matches!(customer, Some(None))
        && let Some(record) = store.erasure(&entry.customer).await?
    {
        crate::data_rights::erase::sweep(shared, record, entry).await?;
        return Ok(None);
    }
    let conversation = stored.unwrap_or_else(|| {
        let locale = customer
            .as_ref()
            .and_then(|found| found.as_ref()?.locale)
            .unwrap_or(shared.settings.shop.default_locale);
        Conversation::new(entry.customer.clone(), locale)
    });
    let now = clock::now();
    let handoff_before = conversation.handoff.clone();
    let reading_before = conversation.pending_nlu.is_some();
    let started = Instant::now();
    let Step {
        conversation,
        actions,
    } = shared.poison.step(shard, entry, || {
        conversation.step(&shared.context(), event, now)
    })?;
    metrics::histogram!("souk_step_duration_seconds").record(started.elapsed().as_secs_f64());

    let mut history: Vec<HistoryEntry> = match channel_of(&entry.event) {
        Some(channel) => vec![HistoryEntry::In {
            at: entry.received_at,
            channel,
            public_id: entry.public_id.clone(),
            event: entry.event.clone(),
        }],
        // Takeovers, reassignments and hand backs that changed who owns the conversation
        // (a second takeover the core ignored is not history); the operator's messages
        // are recorded as sends.
        None if entry.event.is_operator() && conversation.handoff != handoff_before => {
            vec![HistoryEntry::Operator {
                at: now,
                event: entry.event.clone(),
            }]
        }
        None => Vec::new(),
    };
    // A reading settled by this step: the model's answer, or the rules' after all.
    if reading_before && conversation.pending_nlu.is_none() {
        let by_model = match &entry.event {
            Event::NluResult { intent, .. } => Some(intent.is_some()),
            Event::TimerFired(flows::TimerKind::NluWait) => Some(false),
            // A new message took its place: neither.
            _ => None,
        };
        if let Some(by_model) = by_model {
            history.push(HistoryEntry::Reading { at: now, by_model });
        }
    }
    let sends = actions
        .iter()
        .any(|action| matches!(action, Action::Send(_)));
    let customer = match customer {
        Some(found) => found,
        None if sends => store.customer(&entry.customer).await?,
        None => None,
    };
    let route = reply_route(customer.as_ref(), &conversation, &entry.event);
    let reply_to = channel_of(&entry.event).map(|_| entry.public_id.clone());
    let mut outbox = Vec::new();
    let mut timers = Vec::new();
    let mut orders = Vec::new();
    let mut order_updates = Vec::new();
    let mut payment_jobs = Vec::new();
    let mut links = Vec::new();
    for action in actions {
        if let Action::Send(reply) = &action
            && is_reminder(reply)
        {
            metrics::counter!("souk_recovery_reminders_total", "message" => reply.text.key.id())
                .increment(1);
        }
        match action {
            Action::Send(reply) => match &route {
                Some((channel, recipient)) => outbox.push(NewOutbox {
                    channel: *channel,
                    last_inbound_at: conversation
                        .reach
                        .last_inbound_by_channel
                        .get(channel)
                        .copied(),
                    recipient: recipient.clone(),
                    locale: conversation.locale,
                    reply,
                    reply_to: reply_to.clone(),
                }),
                None => tracing::error!("no channel identity to reply through; reply dropped"),
            },
            Action::SetTimer { kind, at } => timers.push(TimerChange::Set(TimerEntry {
                customer: entry.customer.clone(),
                kind,
                due: at,
            })),
            Action::CancelTimer(kind) => timers.push(TimerChange::Cancel {
                customer: entry.customer.clone(),
                kind,
            }),
            Action::PlaceOrder(order) => {
                metrics::counter!("souk_orders_placed_total").increment(1);
                if order.recovered_step.is_some() {
                    metrics::counter!("souk_orders_after_reminder_total").increment(1);
                }
                tracing::info!(order = %order.id, total_minor = order.total.minor, "order placed");
                orders.push(order);
            }
            Action::CreatePaymentLink {
                order,
                total,
                attempt,
            } => payment_jobs.push(PaymentJob {
                order,
                customer: entry.customer.clone(),
                total,
                attempt,
                created_at: now,
                tries: 0,
                next_try_at: now,
                last_error: None,
            }),
            Action::UpdateOrder {
                order,
                status,
                tracking,
                by,
            } => {
                metrics::counter!("souk_order_status_changes_total", "status" => status.name())
                    .increment(1);
                tracing::info!(%order, %status, "order status");
                order_updates.push(OrderUpdate {
                    order,
                    status,
                    tracking,
                    by,
                });
            }
            Action::HeldForOperator(reply) => history.push(HistoryEntry::Held {
                at: now,
                locale: conversation.locale,
                reply,
            }),
            Action::IssueLinkCode => links.push(AfterCommit::Link(LinkRequest::Issue)),
            Action::RedeemLinkCode(code) => {
                links.push(AfterCommit::Link(LinkRequest::Redeem(code)));
            }
            Action::LinkByPhone(phone) => links.push(AfterCommit::Link(LinkRequest::Phone(phone))),
            Action::SendLinkCodeToPhone(phone) => {
                links.push(AfterCommit::Link(LinkRequest::CodeToPhone(phone)));
            }
            Action::NotifyOperators(reason) => {
                metrics::counter!("souk_handoff_requests_total").increment(1);
                tracing::info!(?reason, "customer asked for a person");
                history.push(HistoryEntry::Handoff { at: now, reason });
            }
            Action::Booking(request) => links.push(AfterCommit::Booking(Box::new(request))),
            Action::RequestNlu {
                text,
                locale,
                request,
            } => links.push(AfterCommit::Nlu(crate::nlu::Job {
                text,
                locale,
                request,
                step: conversation.state.name().to_owned(),
                cart_items: conversation.cart.item_count(),
            })),
        }
    }
    let commit = StepCommit {
        inbox_seq: entry.seq,
        conversation,
        history,
        outbox,
        timers,
        orders,
        order_updates,
        payment_jobs,
        now,
    };
    Ok(Some((commit, links)))
}
