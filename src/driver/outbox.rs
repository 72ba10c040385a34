//! The outbox runner: sends what commits queued, per conversation in order, with retries.
//! One conversation's sends never overtake each other: a failing send holds back the later
//! ones of that conversation (only), until it succeeds or is dead-lettered.
//!
//! The store is the record; the runner keeps the pending sends in memory as well (loaded at
//! start, fed by every commit), so a pass costs no store scan however long the backlog is.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use flows::{CustomerId, Timestamp};

use crate::clock;
use crate::render::dates::format_datetime;
use crate::send::{Outgoing, SendError, SendResult, Senders};
use crate::store::{Delivered, OutboxEntry, SentRecord};

use super::Shared;
use super::backoff::retry_delay;

/// Longest idle sleep; commits wake the runner sooner.
const IDLE_SLEEP: Duration = Duration::from_secs(5);

/// What a finished send task tells the runner about each entry it handled.
enum Update {
    Settled(u64),
    Rescheduled(Box<OutboxEntry>),
}

type Tasks = JoinSet<(CustomerId, Vec<Update>)>;

/// Pending sends by conversation, with the conversations ready to send kept apart from
/// those waiting for a retry, so each pass costs only what it starts, whatever the backlog.
struct Runner {
    shared: Arc<Shared>,
    senders: Senders,
    /// Each conversation's pending sends, oldest first.
    queues: HashMap<CustomerId, BTreeMap<u64, OutboxEntry>>,
    depth: usize,
    /// Conversations whose oldest send is due and that are not being sent to.
    ready: VecDeque<CustomerId>,
    is_ready: HashSet<CustomerId>,
    /// Conversations whose oldest send waits for its retry time.
    waiting: BinaryHeap<Reverse<(Timestamp, CustomerId)>>,
    is_waiting: HashSet<CustomerId>,
    in_flight: HashSet<CustomerId>,
    /// Ids found by the start-up load. A commit may land both there and in the feed; its
    /// feed copy must not bring back a send that was meanwhile settled.
    loaded: HashSet<u64>,
    task_owner: HashMap<tokio::task::Id, CustomerId>,
    permits: Arc<Semaphore>,
    tasks: Tasks,
    /// The held shards' generation the queues were last checked against.
    generation: u64,
    /// The feed's buffer between takes, swapped in empty: the workers then append to a
    /// buffer that already has room, where a fresh one grew (moving every send in it) on
    /// most appends (its growth showed as about 2% of a profile's samples).
    spare: Vec<OutboxEntry>,
}

/// Runs until `stop`; then keeps sending what is due for up to `grace` before returning.
pub async fn run_outbox(
    shared: Arc<Shared>,
    senders: Senders,
    stop: CancellationToken,
    grace: Duration,
) {
    let loaded = match shared.store.outbox(usize::MAX).await {
        Ok(entries) => entries,
        Err(error) => {
            tracing::error!(%error, "could not load the outbox; pending sends wait for the next start");
            Vec::new()
        }
    };
    let mut runner = Runner {
        permits: Arc::new(Semaphore::new(shared.settings.outbox.concurrency)),
        shared,
        senders,
        queues: HashMap::new(),
        depth: 0,
        ready: VecDeque::new(),
        is_ready: HashSet::new(),
        waiting: BinaryHeap::new(),
        is_waiting: HashSet::new(),
        in_flight: HashSet::new(),
        loaded: loaded.iter().map(|entry| entry.id).collect(),
        task_owner: HashMap::new(),
        tasks: JoinSet::new(),
        generation: 0,
        spare: Vec::new(),
    };
    for entry in loaded {
        runner.add(entry);
    }
    loop {
        runner.follow_holding();
        runner.take_feed();
        let wake_at = runner.pass().await;
        let sleep = wake_at.map_or(IDLE_SLEEP, |at| {
            let wait = at.since(clock::now()).as_millis().clamp(0, 5_000);
            Duration::from_millis(u64::try_from(wait).unwrap_or(0))
        });
        tokio::select! {
            () = stop.cancelled() => break,
            () = runner.shared.outbox_wakeup.notified() => {}
            Some(done) = runner.tasks.join_next_with_id() => runner.apply(done).await,
            () = tokio::time::sleep(sleep) => {}
        }
    }
    // Drain: send what is due now, bounded by the grace period; the rest waits in the store.
    let drain = async {
        loop {
            while let Some(done) = runner.tasks.join_next_with_id().await {
                runner.apply(done).await;
            }
            runner.take_feed();
            runner.pass().await;
            if runner.tasks.is_empty() {
                break;
            }
        }
    };
    if tokio::time::timeout(grace, drain).await.is_err() {
        tracing::warn!("shutdown grace period over; unsent replies stay queued for the next start");
    }
}

impl Runner {
    fn add(&mut self, entry: OutboxEntry) {
        let customer = entry.customer.clone();
        let queue = self.queues.entry(customer.clone()).or_default();
        if queue.insert(entry.id, entry).is_none() {
            self.depth += 1;
        }
        self.classify(customer);
    }

    /// Files a conversation under ready or waiting by its oldest pending send.
    fn classify(&mut self, customer: CustomerId) {
        if self.in_flight.contains(&customer)
            || self.is_ready.contains(&customer)
            || self.is_waiting.contains(&customer)
        {
            return;
        }
        let Some(head) = self.queues.get(&customer).and_then(|q| q.values().next()) else {
            self.queues.remove(&customer);
            return;
        };
        if head.next_attempt_at > clock::now() {
            self.waiting
                .push(Reverse((head.next_attempt_at, customer.clone())));
            self.is_waiting.insert(customer);
        } else {
            self.ready.push_back(customer.clone());
            self.is_ready.insert(customer);
        }
    }

    async fn recover(&mut self, customer: CustomerId) {
        let Some(ids) = self
            .queues
            .get(&customer)
            .map(|queue| queue.keys().copied().collect::<Vec<u64>>())
        else {
            return;
        };
        let mut settled = Vec::new();
        for id in ids {
            if matches!(self.shared.store.outbox_entry(id).await, Ok(None)) {
                settled.push(id);
            }
        }
        let Some(queue) = self.queues.get_mut(&customer) else {
            return;
        };
        let before = queue.len();
        queue.retain(|id, _| !settled.contains(id));
        self.depth = self.depth.saturating_sub(before - queue.len());
        let pause = clock::now().plus(flows::Span::seconds(5));
        self.waiting.push(Reverse((pause, customer.clone())));
        self.is_waiting.insert(customer);
    }

    /// After shards moved to other replicas: their conversations' sends are theirs now
    /// (sends already under way finish; the new holder may repeat them, with the same
    /// idempotency key). The pending sends of gained shards come through the feed.
    fn follow_holding(&mut self) {
        let holding = &self.shared.holding;
        let generation = holding.generation();
        if generation == self.generation {
            return;
        }
        self.generation = generation;
        // The start-up load is long past what it guarded against; a regained shard's
        // sends must not be taken for copies of it.
        self.loaded.clear();
        let before = self.depth;
        self.queues.retain(|customer, queue| {
            let keep = holding.holds_customer(customer);
            if !keep {
                self.depth = self.depth.saturating_sub(queue.len());
            }
            keep
        });
        if before != self.depth {
            tracing::info!(
                sends = before - self.depth,
                "pending sends left to the replicas that took their shards"
            );
        }
    }

    /// Sends committed since the last look.
    fn take_feed(&mut self) {
        let mut fed = std::mem::take(&mut self.spare);
        std::mem::swap(
            &mut fed,
            &mut *self
                .shared
                .outbox_feed
                .lock()
                .unwrap_or_else(|p| p.into_inner()),
        );
        for entry in fed.drain(..) {
            // A commit that landed just before its shard moved: the new holder sends it.
            if !self.shared.holding.holds_customer(&entry.customer) {
                continue;
            }
            if !self.loaded.remove(&entry.id) {
                self.add(entry);
            }
        }
        self.spare = fed;
        metrics::gauge!("souk_outbox_depth").set(self.depth as f64);
    }

    async fn apply(
        &mut self,
        done: Result<(tokio::task::Id, (CustomerId, Vec<Update>)), tokio::task::JoinError>,
    ) {
        let (task, customer, updates) = match done {
            Ok((task, (customer, updates))) => (task, customer, updates),
            Err(error) => {
                // The task's results are lost with it: the store says which of its sends
                // settled. The rest are tried again after a pause, not in a tight loop.
                tracing::error!(%error, "a send task failed");
                if let Some(customer) = self.task_owner.remove(&error.id()) {
                    self.in_flight.remove(&customer);
                    self.recover(customer).await;
                }
                return;
            }
        };
        self.task_owner.remove(&task);
        self.in_flight.remove(&customer);
        if let Some(queue) = self.queues.get_mut(&customer) {
            for update in updates {
                match update {
                    Update::Settled(id) => {
                        if queue.remove(&id).is_some() {
                            self.depth = self.depth.saturating_sub(1);
                        }
                    }
                    Update::Rescheduled(entry) => {
                        queue.insert(entry.id, *entry);
                    }
                }
            }
        }
        self.classify(customer);
        metrics::gauge!("souk_outbox_depth").set(self.depth as f64);
    }

    /// Starts sending for every ready conversation and returns when the earliest waiting
    /// one becomes due.
    async fn pass(&mut self) -> Option<Timestamp> {
        let now = clock::now();
        while let Some(Reverse((due, _))) = self.waiting.peek() {
            if *due > now {
                break;
            }
            if let Some(Reverse((_, customer))) = self.waiting.pop() {
                self.is_waiting.remove(&customer);
                self.classify(customer);
            }
        }
        let wake_at = self.waiting.peek().map(|Reverse((due, _))| *due);
        if self.ready.is_empty() {
            return wake_at;
        }
        // Commit, then act: every send here comes from a step the group commit already made
        // durable (or from the store at start), so no reply leaves for a step a crash could
        // still undo.
        while let Some(customer) = self.ready.front().cloned() {
            // All senders busy: the rest stay ready until a task finishes and wakes us.
            let Ok(permit) = self.permits.clone().try_acquire_owned() else {
                break;
            };
            self.ready.pop_front();
            self.is_ready.remove(&customer);
            let group: Vec<OutboxEntry> = match self.queues.get(&customer) {
                Some(queue) => queue.values().cloned().collect(),
                None => continue,
            };
            self.in_flight.insert(customer.clone());
            let (shared, senders) = (self.shared.clone(), self.senders.clone());
            let owner = customer.clone();
            let handle = self.tasks.spawn(async move {
                let (updates, delivered) = send_in_order(&shared, &senders, group).await;
                drop(permit);
                shared.outbox_wakeup.notify_one();
                record_delivered(&shared, &owner, delivered).await;
                (owner, updates)
            });
            self.task_owner.insert(handle.id(), customer);
        }
        wake_at
    }
}

/// Records the accepted sends of one conversation in the next group commit, off the
/// sending path (the sender's permit is already free) but before the conversation's task
/// ends, so a graceful stop waits for it. A crash before it lands sends them again at start.
async fn record_delivered(shared: &Arc<Shared>, customer: &CustomerId, delivered: Vec<Delivered>) {
    if delivered.is_empty() {
        return;
    }
    if let Err(error) = shared.group_commit.delivered(delivered).await {
        tracing::error!(%error, "could not record accepted sends; they go again at the next start");
    }
    shared.console_feed.publish(customer);
}

async fn send_in_order(
    shared: &Arc<Shared>,
    senders: &Senders,
    group: Vec<OutboxEntry>,
) -> (Vec<Update>, Vec<Delivered>) {
    let mut updates = Vec::new();
    let mut delivered = Vec::new();
    for entry in group {
        if entry.next_attempt_at > clock::now() {
            break;
        }
        let channel = entry.channel;
        let result = match senders.get(channel) {
            Some(sender) => {
                let outgoing = Outgoing {
                    rendered: shared.renderer.reply(entry.locale, &entry.reply),
                    time: format_datetime(
                        entry.created_at,
                        shared.settings.timezone(),
                        entry.locale,
                    ),
                    entry: entry.clone(),
                };
                sender.send(outgoing).await
            }
            None => Err(SendError::Permanent(format!(
                "channel {channel} is not configured"
            ))),
        };
        let (outcome, update) = settle(shared, entry, result, &mut delivered).await;
        metrics::counter!("souk_sends_total", "channel" => channel.name(), "outcome" => outcome.label()).increment(1);
        updates.push(update);
        if outcome == Outcome::Retry {
            // Later replies of this conversation wait for this one.
            break;
        }
    }
    (updates, delivered)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Sent,
    Retry,
    Dead,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Sent => "sent",
            Outcome::Retry => "retry",
            Outcome::Dead => "dead_letter",
        }
    }
}

/// Records the result of one attempt in the store; an accepted send is added to `delivered`
/// for `record_delivered`.
async fn settle(
    shared: &Arc<Shared>,
    mut entry: OutboxEntry,
    result: SendResult,
    delivered: &mut Vec<Delivered>,
) -> (Outcome, Update) {
    let settings = &shared.settings.outbox;
    let now = clock::now();
    let store = &shared.store;
    let id = entry.id;
    let entry_customer = entry.customer.clone();
    let mut rescheduled = None;
    // An erased customer's last message leaves nothing behind that names their chat: no
    // platform ids once sent, no dead letter if it cannot be.
    let erased = entry.reply.text.key == flows::TextKey::ErasureDone;
    let (outcome, written) = match result {
        Ok(_) if erased => {
            delivered.push(Delivered {
                outbox_id: id,
                sent: Vec::new(),
            });
            (Outcome::Sent, Ok(()))
        }
        Ok(platform_ids) => {
            let records: Vec<SentRecord> = platform_ids
                .into_iter()
                .map(|platform_id| SentRecord {
                    customer: entry.customer.clone(),
                    outbox_id: entry.id,
                    channel: entry.channel,
                    platform_id,
                    at: now,
                })
                .collect();
            delivered.push(Delivered {
                outbox_id: id,
                sent: records,
            });
            (Outcome::Sent, Ok(()))
        }
        Err(SendError::Retryable {
            reason,
            retry_after,
            parts_sent,
        }) if entry.attempts + 1 < settings.max_attempts => {
            entry.attempts += 1;
            entry.parts_sent = parts_sent;
            let delay = retry_delay(
                entry.attempts,
                settings.backoff_base_ms,
                settings.backoff_max_ms,
                fastrand::f64(),
                retry_after,
            );
            entry.next_attempt_at = now.plus(flows::Span(
                i64::try_from(delay.as_millis()).unwrap_or(i64::MAX),
            ));
            tracing::warn!(id = entry.id, attempts = entry.attempts, ?delay, %reason, "send failed; will retry");
            entry.last_error = Some(reason);
            let written = store.outbox_reschedule(&entry).await;
            rescheduled = Some(entry);
            (Outcome::Retry, written)
        }
        Err(error) if erased => {
            tracing::warn!(id = entry.id, %error, "an erased customer's last message could not be sent; dropped");
            delivered.push(Delivered {
                outbox_id: id,
                sent: Vec::new(),
            });
            (Outcome::Dead, Ok(()))
        }
        Err(error) => {
            entry.attempts += 1;
            let reason = error.to_string();
            tracing::error!(id = entry.id, %reason, "send failed for good; moved to dead letters");
            (Outcome::Dead, store.outbox_dead(entry, reason, now).await)
        }
    };
    if let Err(error) = written {
        tracing::error!(%error, "could not record a send result");
    }
    if outcome == Outcome::Dead {
        shared.console_feed.publish(&entry_customer);
    }
    let update = match rescheduled {
        Some(entry) => Update::Rescheduled(Box::new(entry)),
        None => Update::Settled(id),
    };
    (outcome, update)
}
