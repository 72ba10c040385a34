//! A single-writer worker: it owns every conversation that hashes to its shard, so one
//! conversation's events apply strictly in order and need no locks.

use std::sync::Arc;
use std::time::Instant;

use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use flows::{Action, Channel, Conversation, Customer, Event, Identity, Step};

use crate::clock;
use crate::store::{
    HistoryEntry, InboxEntry, NewOutbox, StepCommit, StoreError, TimerChange, TimerEntry,
};

use super::Shared;

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
    loop {
        tokio::select! {
            biased;
            entry = queue.recv() => match entry {
                Some(entry) => worker.handle(entry).await,
                None => return,
            },
            () = drain.cancelled() => {
                while let Ok(entry) = queue.try_recv() {
                    worker.handle(entry).await;
                }
                return;
            }
        }
    }
}

fn channel_of(event: &Event) -> Option<Channel> {
    match event {
        Event::Inbound(inbound) => Some(inbound.channel),
        _ => None,
    }
}

/// Where replies go: the channel of this message, else the one the customer used last.
fn reply_route(
    customer: Option<&Customer>,
    conversation: &Conversation,
    event: &Event,
) -> Option<(Channel, String)> {
    let channel = channel_of(event).or(conversation.last_channel)?;
    let identity: &Identity = customer?
        .identities
        .iter()
        .find(|identity| identity.channel == channel)?;
    Some((channel, identity.external_id.clone()))
}

impl Worker {
    async fn handle(&self, entry: InboxEntry) {
        let span = tracing::info_span!("conversation", id = %entry.customer, shard = self.shard, event = %entry.public_id);
        // A failed commit (a full disk, say) is retried here, before this shard's next event,
        // so the conversation's order holds. If it keeps failing, the event stays in the inbox
        // and is re-driven at the next start.
        for attempt in 1..=COMMIT_ATTEMPTS {
            // Inline, not on the blocking pool: a step and its commit take microseconds, and
            // the hop to another thread cost more than the work on two cores.
            match span.in_scope(|| process(&self.shared, entry.clone())) {
                Ok(effects) => {
                    metrics::counter!("souk_events_processed_total").increment(1);
                    if effects.queued_sends {
                        self.shared.outbox_wakeup.notify_one();
                    }
                    if effects.changed_timers {
                        self.shared.timer_wakeup.notify_one();
                    }
                    return;
                }
                Err(error) => span
                    .in_scope(|| tracing::error!(%error, attempt, "step could not be committed")),
            }
            tokio::time::sleep(std::time::Duration::from_millis(100 * u64::from(attempt))).await;
        }
        metrics::counter!("souk_events_failed_total").increment(1);
    }
}

/// Attempts at committing one step before the worker moves on.
const COMMIT_ATTEMPTS: u32 = 3;

struct Effects {
    queued_sends: bool,
    changed_timers: bool,
}

/// Load, step, commit. Runs on the blocking pool: the store calls are synchronous.
fn process(shared: &Shared, entry: InboxEntry) -> Result<Effects, StoreError> {
    let store = &shared.store;
    let customer = store.customer(&entry.customer)?;
    let locale = customer
        .as_ref()
        .and_then(|c| c.locale)
        .unwrap_or(shared.settings.shop.default_locale);
    let conversation = store
        .conversation(&entry.customer)?
        .unwrap_or_else(|| Conversation::new(entry.customer.clone(), locale));
    let now = clock::now();
    let started = Instant::now();
    let Step {
        conversation,
        actions,
    } = conversation.step(&shared.ctx, entry.event.clone(), now);
    metrics::histogram!("souk_step_duration_seconds").record(started.elapsed().as_secs_f64());

    let inbound = channel_of(&entry.event).map(|channel| HistoryEntry::In {
        at: entry.received_at,
        channel,
        public_id: entry.public_id.clone(),
        event: entry.event.clone(),
    });
    let route = reply_route(customer.as_ref(), &conversation, &entry.event);
    let reply_to = channel_of(&entry.event).map(|_| entry.public_id.clone());
    let mut outbox = Vec::new();
    let mut timers = Vec::new();
    let mut orders = Vec::new();
    for action in actions {
        match action {
            Action::Send(reply) => match &route {
                Some((channel, recipient)) => outbox.push(NewOutbox {
                    channel: *channel,
                    last_inbound_at: conversation.last_inbound_by_channel.get(channel).copied(),
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
                tracing::info!(order = %order.id, total_minor = order.total.minor, "order placed");
                orders.push(order);
            }
            Action::CreatePaymentLink { order, .. } => {
                // Payment providers arrive with the commerce issue; until then the order
                // stays pending and is visible in the store.
                tracing::warn!(%order, "no payment provider configured; the order waits for payment");
            }
            Action::NotifyOperators(reason) => {
                metrics::counter!("souk_handoff_requests_total").increment(1);
                tracing::info!(?reason, "customer asked for a person");
            }
            Action::RequestNlu { .. } => {
                tracing::warn!("NLU requested but no language model is configured");
            }
        }
    }
    let effects = Effects {
        queued_sends: !outbox.is_empty(),
        changed_timers: !timers.is_empty(),
    };
    let created = store.commit(StepCommit {
        inbox_seq: entry.seq,
        conversation,
        inbound,
        outbox,
        timers,
        orders,
        now,
    })?;
    if !created.is_empty() {
        shared
            .outbox_feed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend(created);
    }
    Ok(effects)
}
