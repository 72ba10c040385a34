//! One replica among several on a shared database. This task keeps the replica's leases
//! (a round every third of the lease time), takes the events of the shards it gains (and,
//! when told through a notice or every few seconds, those other replicas accepted for its
//! shards), hands the outbox of gained shards to the outbox runner, and passes what other
//! replicas announce to this replica's live views.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::applied::Settled;
use super::{Driver, Shared};
use crate::send::webchat::WebChatHub;
use crate::store::shards::SHARDS;
use crate::store::{CLAIM_PAGE, Lease, Notice, Take};

/// Every this often a replica also takes whatever its shards' inboxes hold that it has not
/// taken: a notice lost on a reconnect, or an event a former holder accepted as its own
/// just as the shard moved.
const SWEEP_EVERY: Duration = Duration::from_secs(2);

#[derive(Clone)]
pub struct ReplicaTask {
    pub shared: Arc<Shared>,
    pub driver: Driver,
    pub hub: Arc<WebChatHub>,
    pub lease: Duration,
}

/// Takes the first leases before anything runs, so the first work this replica does is for
/// shards it holds. Fails when the database refuses the round.
pub async fn first_round(task: &ReplicaTask) -> anyhow::Result<()> {
    let Some(id) = task.shared.holding.replica_id() else {
        return Ok(());
    };
    // A stable name restarted after a crash: give back what it held, so the round below
    // takes it again under new epochs (the old process's late work is fenced).
    task.shared.store.release_leases(id).await?;
    round(task, id).await?;
    adopt(task).await;
    Ok(())
}

/// Runs until `stop`, then gives the leases back so others take them at once. Lease rounds
/// run in a task of their own, so a long hand-over (a big backlog into full worker queues)
/// cannot delay a renewal.
pub async fn run_replica(
    task: ReplicaTask,
    mut notices: tokio::sync::mpsc::Receiver<Notice>,
    stop: CancellationToken,
) {
    let Some(id) = task.shared.holding.replica_id().map(str::to_owned) else {
        return;
    };
    let gained = Arc::new(tokio::sync::Notify::new());
    let rounds = tokio::spawn(run_rounds(
        task.clone(),
        id.clone(),
        gained.clone(),
        stop.clone(),
    ));
    let mut next_sweep = tokio::time::Instant::now() + SWEEP_EVERY;
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            () = gained.notified() => adopt(&task).await,
            () = tokio::time::sleep_until(next_sweep) => {
                next_sweep = tokio::time::Instant::now() + SWEEP_EVERY;
                adopt(&task).await;
                let held = task.shared.holding.leases();
                let shards: Vec<u32> = held.iter().map(|lease| lease.shard).collect();
                if let Ok(depth) = task.shared.store.inbox_depth(&shards).await {
                    metrics::gauge!("souk_inbox_depth").set(depth as f64);
                }
                sweep(&task, held, Take::All).await;
            }
            notice = notices.recv() => match notice {
                Some(Notice::Inbox(mut shards)) => {
                    // Inbox notices that queued meanwhile share one sweep; the others are
                    // handled after it, in order.
                    let mut others = Vec::new();
                    while let Ok(next) = notices.try_recv() {
                        match next {
                            Notice::Inbox(more) => shards.extend(more),
                            other => others.push(other),
                        }
                    }
                    for other in others {
                        match other {
                            Notice::Live(payload) => deliver(&task, &id, &payload),
                            Notice::Missed => shards.extend(0..SHARDS),
                            Notice::Inbox(_) => {}
                        }
                    }
                    let leases: Vec<Lease> = task
                        .shared
                        .holding
                        .leases()
                        .into_iter()
                        .filter(|lease| shards.contains(&lease.shard))
                        .collect();
                    sweep(&task, leases, Take::Untaken).await;
                }
                Some(Notice::Live(payload)) => deliver(&task, &id, &payload),
                Some(Notice::Missed) => {
                    tracing::info!("reconnected to the database; looking for missed events");
                    sweep(&task, task.shared.holding.leases(), Take::All).await;
                }
                None => break,
            },
        }
    }
    let _ = rounds.await;
}

/// A lease round every third of the lease time until `stop`; then the leases go back.
async fn run_rounds(
    task: ReplicaTask,
    id: String,
    gained: Arc<tokio::sync::Notify>,
    stop: CancellationToken,
) {
    let every = task.lease / 3;
    loop {
        tokio::select! {
            () = stop.cancelled() => break,
            () = tokio::time::sleep(every) => {
                // A failed round changes nothing here: what was taken stays this replica's
                // to step (its commits are fenced if the lease is gone), and new events stop
                // being taken at ingest once the lease may have run out (`Holding::claim`).
                match round(&task, &id).await {
                    Ok(()) => {
                        if !task.shared.holding.unready().is_empty() {
                            gained.notify_one();
                        }
                    }
                    Err(error) => tracing::warn!(%error, "lease round failed"),
                }
            }
        }
    }
    if let Err(error) = task.shared.store.release_leases(&id).await {
        tracing::warn!(%error, "could not give the leases back; others take them when they expire");
    }
    if !task.shared.holding.replace(&[]).lost.is_empty() {
        task.shared.outbox_wakeup.notify_one();
    }
}

async fn round(task: &ReplicaTask, id: &str) -> anyhow::Result<()> {
    let leases = task
        .shared
        .store
        .hold_leases(id, SHARDS, task.lease)
        .await?;
    let moved = task.shared.holding.replace(&leases);
    metrics::gauge!("souk_shards_held").set(leases.len() as f64);
    if !moved.lost.is_empty() {
        tracing::info!(shards = ?moved.lost, "shards moved to other replicas");
        task.shared.outbox_wakeup.notify_one();
    }
    if !moved.gained.is_empty() {
        tracing::info!(shards = ?moved.gained.iter().map(|l| l.shard).collect::<Vec<_>>(), "took shards");
    }
    Ok(())
}

/// Takes over the pending work of shards gained and not yet ready: their sends, then their
/// events (a conversation's earlier replies go before the ones its next steps make), then
/// marks them ready. Tried again at the next sweep if the database refuses.
async fn adopt(task: &ReplicaTask) {
    let unready = task.shared.holding.unready();
    if unready.is_empty() {
        return;
    }
    let shards: Vec<u32> = unready.iter().map(|lease| lease.shard).collect();
    match task.shared.store.outbox_of(&shards).await {
        Ok(entries) => task
            .shared
            .outbox_feed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .extend(entries),
        Err(error) => {
            tracing::warn!(%error, "could not read the outbox of new shards; trying again shortly");
            return;
        }
    }
    if !sweep(task, unready.clone(), Take::All).await {
        return;
    }
    task.shared.holding.mark_ready(&unready);
    task.shared.outbox_wakeup.notify_one();
    task.shared.timer_wakeup.notify_one();
    task.shared.payment_wakeup.notify_one();
}

/// Takes the events of `leases` not yet taken and hands them to the workers. Those a former
/// holder had taken may be what stopped it: they are stepped one at a time with their
/// attempts counted (`poison.rs`).
async fn sweep(task: &ReplicaTask, leases: Vec<Lease>, take: Take) -> bool {
    if leases.is_empty() {
        return true;
    }
    let shards: Vec<u32> = leases.iter().map(|lease| lease.shard).collect();
    // From before the claim until every taken event is queued: events accepted here for
    // these shards meanwhile queue after them (`Sweeping`).
    let _handing_over = task.driver.sweeping(&shards);
    loop {
        let claimed = match task.shared.store.claim_inbox(&leases, take).await {
            Ok(claimed) => claimed,
            Err(error) => {
                tracing::warn!(%error, "could not take new events; trying again shortly");
                return false;
            }
        };
        let full = claimed.len() >= CLAIM_PAGE;
        metrics::counter!("souk_events_taken_total").increment(claimed.len() as u64);
        task.shared.poison.mark_redriven(
            claimed
                .iter()
                .filter(|claimed| claimed.taken_over)
                .map(|claimed| claimed.entry.seq),
        );
        for claimed in claimed {
            if task.driver.dispatch_swept(claimed.entry).await.is_err() {
                return false;
            }
        }
        // A full page: more may wait, newer than these (taken in order, page by page).
        if !full {
            return true;
        }
    }
}

/// What another replica announced, to this replica's live views.
fn deliver(task: &ReplicaTask, me: &str, payload: &str) {
    let Some(batch) = super::live::parse(payload, me) else {
        return;
    };
    for customer in batch.console {
        task.shared
            .console_feed
            .publish_here(&flows::CustomerId(customer));
    }
    task.shared.applied.settled(batch.applied, Settled::Applied);
    task.shared
        .applied
        .settled(batch.set_aside, Settled::SetAside);
    for push in batch.webchat {
        task.hub.publish_here(
            &push.to,
            crate::send::webchat::WebChatPush {
                id: push.id,
                json: push.json.into(),
            },
        );
    }
    for session in batch.lagged {
        task.hub.cut(&session);
    }
}
