//! The poison guard: an inbound event whose step keeps failing is set aside instead of being
//! retried forever. A step fails by panicking (caught, counted in memory, set aside after
//! `STEP_ATTEMPTS`), or by taking the process down (out of memory, a hang ended by the
//! watchdog). For the second kind the count must outlive the process: events re-driven at
//! start-up are stepped one at a time, each attempt written to disk before the step runs, and
//! an event that reaches `STEP_ATTEMPTS` that way is set aside at the next start. Events of
//! a process that never crashed pay nothing for this.

use std::collections::HashSet;
use std::panic::AssertUnwindSafe;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use crate::store::{InboxEntry, StoreError};

use super::Shared;
use super::group_commit::CommitError;

/// Tries at one event's step before it is set aside.
pub const STEP_ATTEMPTS: u32 = 3;

/// Called just before each step (tests make steps panic or hang with it).
pub type StepHook = Arc<dyn Fn(&InboxEntry) + Send + Sync>;

#[derive(Debug, thiserror::Error)]
pub enum StepFailure {
    #[error(transparent)]
    Commit(#[from] CommitError),
    #[error("the step panicked: {0}")]
    Panicked(String),
}

impl From<StoreError> for StepFailure {
    fn from(error: StoreError) -> Self {
        StepFailure::Commit(CommitError::from(error))
    }
}

pub struct PoisonGuard {
    /// Events re-driven at start-up whose step has not run yet in this process.
    redriven: Mutex<HashSet<u64>>,
    /// Events whose attempt in this process is already counted on disk.
    noted: Mutex<HashSet<u64>>,
    hook: Option<StepHook>,
    /// Per shard: the event whose step runs now, and since when.
    running: Vec<Mutex<Option<(u64, Instant)>>>,
    budget: Duration,
}

impl PoisonGuard {
    pub fn new(shards: usize, budget: Duration, hook: Option<StepHook>) -> PoisonGuard {
        PoisonGuard {
            redriven: Mutex::default(),
            noted: Mutex::default(),
            hook,
            running: (0..shards).map(|_| Mutex::new(None)).collect(),
            budget,
        }
    }

    pub fn mark_redriven(&self, seqs: impl IntoIterator<Item = u64>) {
        lock(&self.redriven).extend(seqs);
    }

    pub fn is_redriven(&self, seq: u64) -> bool {
        lock(&self.redriven).contains(&seq)
    }

    fn take_redriven(&self, seq: u64) -> bool {
        lock(&self.redriven).remove(&seq)
    }

    /// Runs one step, catching a panic as a failure of this event.
    pub fn step<T>(
        &self,
        shard: usize,
        entry: &InboxEntry,
        step: impl FnOnce() -> T,
    ) -> Result<T, StepFailure> {
        let slot = self.running.get(shard);
        if let Some(slot) = slot {
            *lock(slot) = Some((entry.seq, Instant::now()));
        }
        let result = std::panic::catch_unwind(AssertUnwindSafe(|| {
            if let Some(hook) = &self.hook {
                hook(entry);
            }
            step()
        }));
        if let Some(slot) = slot {
            *lock(slot) = None;
        }
        result.map_err(|payload| {
            let message = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".to_owned());
            StepFailure::Panicked(message)
        })
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Before the step of an event re-driven at start-up: counts the attempt on disk. `false`
/// when the event has had its tries and was set aside instead.
pub async fn admit_redriven(shared: &Arc<Shared>, entry: &InboxEntry) -> bool {
    if !shared.poison.take_redriven(entry.seq) {
        return true;
    }
    let seq = entry.seq;
    lock(&shared.poison.noted).insert(seq);
    let attempts = match shared.store.note_step_attempt(seq).await {
        Ok(attempts) => attempts,
        Err(error) => {
            tracing::error!(%error, event = %entry.public_id, "cannot count a step attempt");
            return true;
        }
    };
    if attempts <= STEP_ATTEMPTS {
        return true;
    }
    let reason = format!(
        "souk stopped {} times while handling it (out of memory, a crash or a hang)",
        attempts - 1
    );
    set_aside(shared, entry, &reason, attempts - 1).await;
    false
}

/// Takes the event out of the inbox, keeps it for an admin, and says so everywhere.
pub async fn set_aside(shared: &Arc<Shared>, entry: &InboxEntry, reason: &str, attempts: u32) {
    // Its shard moved to another replica, which takes the event again and judges it itself.
    // (Not a fence in the database: a move in the next instant is not seen here.)
    if !shared.holding.steps(entry) {
        return;
    }
    let seq = entry.seq;
    let result = shared
        .store
        .set_aside(seq, reason, attempts, crate::clock::now())
        .await;
    match result {
        Ok(_) => {
            metrics::counter!("souk_inbound_set_aside_total").increment(1);
            tracing::error!(
                event = %entry.public_id,
                customer = %entry.customer,
                attempts,
                reason,
                "inbound event set aside after repeated failures; an admin can retry it in the console"
            );
            shared.console_feed.publish(&entry.customer);
            shared
                .applied
                .settled([seq], super::applied::Settled::SetAside);
            if entry.event.is_operator() {
                shared.relay.send(super::live::LiveNews::Applied(
                    seq,
                    super::applied::Settled::SetAside,
                ));
            }
        }
        Err(error) => {
            tracing::error!(%error, event = %entry.public_id, "cannot set the event aside")
        }
    }
}

/// Watches the steps that run: one past the budget is counted as an attempt on disk (so the
/// next start knows), and one past three budgets has wedged its shard; `wedged` is then
/// cancelled and souk stops, for a supervisor to restart it.
pub async fn run_step_watch(
    shared: Arc<Shared>,
    stop: CancellationToken,
    wedged: CancellationToken,
) {
    let guard = &shared.poison;
    let tick = (guard.budget / 4).clamp(Duration::from_millis(50), Duration::from_secs(1));
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(tick) => {}
        }
        let running: Vec<(u64, Duration)> = guard
            .running
            .iter()
            .filter_map(|slot| lock(slot).map(|(seq, since)| (seq, since.elapsed())))
            .collect();
        for (seq, elapsed) in running {
            if elapsed > guard.budget && lock(&guard.noted).insert(seq) {
                metrics::counter!("souk_steps_over_budget_total").increment(1);
                tracing::error!(
                    seq,
                    seconds = elapsed.as_secs_f64(),
                    "a step is running past its time budget"
                );
                let noted = shared.store.note_step_attempt(seq).await;
                if noted.is_err() {
                    tracing::error!(seq, "cannot count the slow step's attempt");
                }
            }
            if elapsed > guard.budget * 3 {
                tracing::error!(
                    seq,
                    seconds = elapsed.as_secs_f64(),
                    "a step has wedged its worker; stopping souk so that a restart sets the event aside after its tries"
                );
                wedged.cancel();
                return;
            }
        }
    }
}
