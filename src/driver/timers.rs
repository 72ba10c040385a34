//! The durable timer task: sleeps until the earliest due timer or until a commit changes the
//! timers, then turns due timers into inbox entries (atomically) and dispatches them.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::clock;

use super::{Driver, Shared};

/// Upper bound on one sleep, so a clock jump cannot postpone timers for long.
const MAX_SLEEP: Duration = Duration::from_secs(30);

pub async fn run_timers(shared: Arc<Shared>, driver: Driver, stop: CancellationToken) {
    loop {
        let store = &shared.store;
        let now = clock::now();
        let fired = async {
            let fired = store.fire_due_timers(now).await?;
            let next = store.next_timer_due().await?;
            Ok::<_, crate::store::StoreError>((fired, next))
        }
        .await;
        let next = match fired {
            Ok((fired, next)) => {
                for entry in &fired {
                    let kind = match &entry.event {
                        flows::Event::TimerFired(kind) => kind.name(),
                        _ => "other",
                    };
                    metrics::counter!("souk_timers_fired_total", "kind" => kind).increment(1);
                }
                for entry in fired {
                    if driver.dispatch(entry).await.is_err() {
                        return;
                    }
                }
                next
            }
            Err(error) => {
                tracing::error!(%error, "timer scan failed; retrying");
                None
            }
        };
        let sleep = next.map_or(MAX_SLEEP, |due| {
            let wait = due.since(clock::now()).as_millis().max(0);
            Duration::from_millis(u64::try_from(wait).unwrap_or(0)).min(MAX_SLEEP)
        });
        tokio::select! {
            () = stop.cancelled() => return,
            () = shared.timer_wakeup.notified() => {}
            () = tokio::time::sleep(sleep) => {}
        }
    }
}

/// How far ahead the read-ahead looks, and how often.
const READ_AHEAD: Duration = Duration::from_secs(60);
const READ_AHEAD_EVERY: Duration = Duration::from_secs(10);
/// At most this many timers' conversations per pass (a pass is one blocking task).
const READ_AHEAD_LIMIT: usize = 50_000;

/// Reads ahead the conversations of timers due within the next minute, so that many timers
/// falling due together (a campaign's reminders, a restart after downtime) are stepped
/// from memory rather than each waiting on a read from disk.
pub async fn run_read_ahead(shared: Arc<Shared>, stop: CancellationToken) {
    let mut warmed_until = clock::now();
    loop {
        let now = clock::now();
        let until = now.plus(flows::Span(
            i64::try_from(READ_AHEAD.as_millis()).unwrap_or(60_000),
        ));
        let from = warmed_until.max(now);
        if until > from {
            match shared
                .store
                .warm_timers(from, until, READ_AHEAD_LIMIT)
                .await
            {
                Ok(count) => {
                    if count > 0 {
                        tracing::debug!(count, "read ahead the conversations of due timers");
                    }
                    warmed_until = until;
                }
                Err(error) => tracing::warn!(%error, "timer read-ahead failed"),
            }
        }
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(READ_AHEAD_EVERY) => {}
        }
    }
}
