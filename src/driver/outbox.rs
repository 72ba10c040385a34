//! The outbox runner: sends what commits queued, per conversation in order, with retries.
//! One conversation's sends never overtake each other: a failing send holds back the later
//! ones of that conversation (only), until it succeeds or is dead-lettered.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use flows::{CustomerId, Timestamp};

use crate::clock;
use crate::render::dates::format_datetime;
use crate::send::{Outgoing, SendError, SendResult, Senders};
use crate::store::{OutboxEntry, SentRecord};

use super::Shared;
use super::backoff::retry_delay;

/// How many pending sends one pass looks at.
const SCAN_LIMIT: usize = 10_000;
/// Longest idle sleep; commits wake the runner sooner.
const IDLE_SLEEP: Duration = Duration::from_secs(5);

type InFlight = Arc<Mutex<HashSet<CustomerId>>>;

fn lock(in_flight: &InFlight) -> std::sync::MutexGuard<'_, HashSet<CustomerId>> {
    in_flight
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Runs until `stop`; then keeps sending what is due for up to `grace` before returning.
pub async fn run_outbox(
    shared: Arc<Shared>,
    senders: Senders,
    stop: CancellationToken,
    grace: Duration,
) {
    let in_flight: InFlight = Arc::default();
    let permits = Arc::new(Semaphore::new(shared.settings.outbox.concurrency));
    let mut tasks = JoinSet::new();
    loop {
        let wake_at = pass(&shared, &senders, &in_flight, &permits, &mut tasks).await;
        let sleep = wake_at.map_or(IDLE_SLEEP, |at| {
            let wait = at.since(clock::now()).as_millis().clamp(0, 5_000);
            Duration::from_millis(u64::try_from(wait).unwrap_or(0))
        });
        tokio::select! {
            () = stop.cancelled() => break,
            () = shared.outbox_wakeup.notified() => {}
            Some(_) = tasks.join_next() => {}
            () = tokio::time::sleep(sleep) => {}
        }
    }
    // Drain: send what is due now, bounded by the grace period; the rest waits in the store.
    let drain = async {
        loop {
            while tasks.join_next().await.is_some() {}
            pass(&shared, &senders, &in_flight, &permits, &mut tasks).await;
            if tasks.is_empty() {
                break;
            }
        }
    };
    if tokio::time::timeout(grace, drain).await.is_err() {
        tracing::warn!("shutdown grace period over; unsent replies stay queued for the next start");
    }
}

/// Starts sending for every conversation with a due send and returns when the earliest
/// held-back send becomes due.
async fn pass(
    shared: &Arc<Shared>,
    senders: &Senders,
    in_flight: &InFlight,
    permits: &Arc<Semaphore>,
    tasks: &mut JoinSet<()>,
) -> Option<Timestamp> {
    let store = shared.store.clone();
    let scanned = tokio::task::spawn_blocking(move || store.outbox(SCAN_LIMIT)).await;
    let entries = match scanned {
        Ok(Ok(entries)) => entries,
        Ok(Err(error)) => {
            tracing::error!(%error, "outbox scan failed");
            return None;
        }
        Err(error) => {
            tracing::error!(%error, "outbox scan task failed");
            return None;
        }
    };
    metrics::gauge!("souk_outbox_depth").set(entries.len() as f64);
    let mut order: Vec<CustomerId> = Vec::new();
    let mut groups: HashMap<CustomerId, Vec<OutboxEntry>> = HashMap::new();
    for entry in entries {
        let group = groups.entry(entry.customer.clone()).or_insert_with(|| {
            order.push(entry.customer.clone());
            Vec::new()
        });
        group.push(entry);
    }
    let now = clock::now();
    let mut wake_at: Option<Timestamp> = None;
    let mut due = Vec::new();
    for customer in order {
        let Some(group) = groups.remove(&customer) else {
            continue;
        };
        let first_due = group.first().map_or(now, |e| e.next_attempt_at);
        if first_due > now {
            wake_at = Some(wake_at.map_or(first_due, |w| w.min(first_due)));
        } else if !lock(in_flight).contains(&customer) {
            due.push((customer, group));
        }
    }
    if due.is_empty() {
        return wake_at;
    }
    // Commit, then act: make the steps that produced these sends durable before anything
    // leaves, so a crash cannot re-run a step whose replies were already seen. One flush
    // covers every commit so far (group commit).
    let store = shared.store.clone();
    match tokio::task::spawn_blocking(move || store.flush()).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => {
            tracing::error!(%error, "flush before sending failed; holding sends");
            return Some(now.plus(flows::Span::seconds(1)));
        }
        Err(error) => {
            tracing::error!(%error, "flush task failed; holding sends");
            return Some(now.plus(flows::Span::seconds(1)));
        }
    }
    for (customer, group) in due {
        if !lock(in_flight).insert(customer.clone()) {
            continue;
        }
        let Ok(permit) = permits.clone().acquire_owned().await else {
            break;
        };
        let (shared, senders, in_flight) = (shared.clone(), senders.clone(), in_flight.clone());
        tasks.spawn(async move {
            send_in_order(&shared, &senders, group).await;
            lock(&in_flight).remove(&customer);
            drop(permit);
            // Sends queued for this customer meanwhile were skipped by the scan: look again.
            shared.outbox_wakeup.notify_one();
        });
    }
    wake_at
}

async fn send_in_order(shared: &Arc<Shared>, senders: &Senders, group: Vec<OutboxEntry>) {
    for scanned in group {
        // The scan may predate a previous task's results for this conversation; only the
        // store's current record counts, so a send already settled is never repeated.
        let store = shared.store.clone();
        let current = tokio::task::spawn_blocking(move || store.outbox_entry(scanned.id)).await;
        let entry = match current {
            Ok(Ok(Some(entry))) => entry,
            Ok(Ok(None)) => continue,
            Ok(Err(error)) => {
                tracing::error!(%error, "outbox read failed");
                return;
            }
            Err(error) => {
                tracing::error!(%error, "outbox read task failed");
                return;
            }
        };
        if entry.next_attempt_at > clock::now() {
            return;
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
        let outcome = settle(shared, entry, result).await;
        metrics::counter!("souk_sends_total", "channel" => channel.name(), "outcome" => outcome.label()).increment(1);
        if outcome == Outcome::Retry {
            // Later replies of this conversation wait for this one.
            return;
        }
    }
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

/// Records the result of one attempt in the store.
async fn settle(shared: &Arc<Shared>, mut entry: OutboxEntry, result: SendResult) -> Outcome {
    let settings = &shared.settings.outbox;
    let now = clock::now();
    let store = shared.store.clone();
    let (outcome, write): (
        Outcome,
        Box<dyn FnOnce() -> Result<(), crate::store::StoreError> + Send>,
    ) = match result {
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
            let id = entry.id;
            (
                Outcome::Sent,
                Box::new(move || {
                    store.record_sent(&records)?;
                    store.outbox_delivered(id)
                }),
            )
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
            (
                Outcome::Retry,
                Box::new(move || store.outbox_reschedule(&entry)),
            )
        }
        Err(error) => {
            entry.attempts += 1;
            let reason = error.to_string();
            tracing::error!(id = entry.id, %reason, "send failed for good; moved to dead letters");
            (
                Outcome::Dead,
                Box::new(move || store.outbox_dead(entry, reason, now)),
            )
        }
    };
    match tokio::task::spawn_blocking(write).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => tracing::error!(%error, "could not record a send result"),
        Err(error) => tracing::error!(%error, "could not record a send result"),
    }
    outcome
}
