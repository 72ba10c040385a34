//! Group commit. Requests that need inbound events persisted, workers that need steps
//! committed, and anyone who needs their writes on disk ask here. Whatever arrived while the
//! previous round ran goes into the store in one transaction, then one flush (one fsync)
//! makes it durable, and everyone is answered. Under load that is one transaction and one
//! fsync per batch instead of per request, with the same guarantee for each caller.
//!
//! Rounds write one after another (their order is the order of the writes), but a round's
//! flush runs beside the next round's transaction: the disk waits for the fsync while the
//! CPU writes the next batch. A flush makes durable everything written before it, so a
//! later round answered before an earlier one still promises only what is on disk. A
//! database backend takes several rounds at once (`Maintenance::concurrent_writes`): each
//! is a transaction of its own, durable at its commit, and its round trips overlap.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::store::{
    Delivered, Fence, GroupWritten, InboxEntry, Ingested, OutboxEntry, StepCommit, Store,
    StoreError, WriteGroup,
};

/// One caller's part of a round (empty for a plain "make my writes durable").
struct Waiter {
    part: WriteGroup,
    done: oneshot::Sender<Result<GroupWritten, String>>,
}

/// Under load a round first waits this long, so more requests share its transaction and
/// fsync (measured with examples/whatsapp_bench: about a fifth more throughput at 32 to 64
/// concurrent webhooks). A lone request at low load is not made to wait: tokio's timer
/// rounds this up to a millisecond, which was most of a web chat reply's latency.
const GATHER: std::time::Duration = std::time::Duration::from_micros(500);

/// A round with at least this many callers means load: the next round gathers. (Four was
/// worse: the workers' commits often come in twos and threes and lost their gathering.)
const BUSY_ROUND: usize = 2;

/// Flushes waiting on the disk at once; a further round waits for one to finish, so a slow
/// disk slows the writers down instead of piling up rounds.
const FLUSHES_IN_FLIGHT: usize = 2;

#[derive(Clone)]
pub struct GroupCommit {
    requests: mpsc::UnboundedSender<Waiter>,
    store: Arc<dyn Store>,
}

#[derive(Debug, thiserror::Error)]
#[error("store write failed: {0}")]
pub struct CommitError(pub String);

impl From<StoreError> for CommitError {
    fn from(error: StoreError) -> Self {
        CommitError(error.to_string())
    }
}

impl GroupCommit {
    /// Starts the committer task on `runtime` (its rounds' tasks run there too); it ends
    /// when every `GroupCommit` clone is dropped.
    pub fn start(store: Arc<dyn Store>, runtime: &tokio::runtime::Handle) -> GroupCommit {
        let (requests, mut queue) = mpsc::unbounded_channel::<Waiter>();
        let handle = store.clone();
        runtime.spawn(async move {
            let mut busy = false;
            let writers = store.concurrent_writes().max(1);
            let flushes = Arc::new(tokio::sync::Semaphore::new(FLUSHES_IN_FLIGHT.max(writers)));
            let rounds = Arc::new(tokio::sync::Semaphore::new(writers));
            while let Some(first) = queue.recv().await {
                if busy {
                    tokio::time::sleep(GATHER).await;
                }
                let mut waiters = vec![first];
                while let Ok(next) = queue.try_recv() {
                    waiters.push(next);
                }
                let started = std::time::Instant::now();
                let size = waiters.len();
                busy = size >= BUSY_ROUND;
                let Ok(permit) = flushes.clone().acquire_owned().await else {
                    break;
                };
                // Its own task: a panic in one round (the engine, the codec) fails that round's
                // callers, not every later commit. The store does its disk work off the async
                // threads (sled: in place).
                let writing = store.clone();
                if writers > 1 {
                    // A database orders concurrent transactions itself (row locks, unique
                    // keys); every caller awaits its own write before the next that depends
                    // on it, so rounds need not wait for one another.
                    let Ok(slot) = rounds.clone().acquire_owned().await else {
                        break;
                    };
                    tokio::spawn(async move {
                        let (dones, results) = write(writing.as_ref(), waiters).await;
                        flush_and_answer(writing.as_ref(), dones, results).await;
                        drop((slot, permit));
                        metrics::histogram!("souk_flush_seconds")
                            .record(started.elapsed().as_secs_f64());
                        metrics::histogram!("souk_flush_batch_size").record(size as f64);
                    });
                    continue;
                }
                let written = tokio::spawn(async move { write(writing.as_ref(), waiters).await });
                let (dones, results) = match written.await {
                    Ok(written) => written,
                    Err(error) => {
                        tracing::error!(%error, "a group commit round failed; its callers are told");
                        continue;
                    }
                };
                let flushing = store.clone();
                tokio::spawn(async move {
                    flush_and_answer(flushing.as_ref(), dones, results).await;
                    drop(permit);
                    metrics::histogram!("souk_flush_seconds")
                        .record(started.elapsed().as_secs_f64());
                    metrics::histogram!("souk_flush_batch_size").record(size as f64);
                });
            }
        });
        GroupCommit {
            requests,
            store: handle,
        }
    }

    /// Returns once everything this caller wrote before calling is on disk.
    pub async fn durable(&self) -> Result<(), CommitError> {
        self.request(WriteGroup::default()).await.map(|_| ())
    }

    /// Persists the events (dropping duplicates) and returns once they, and everything this
    /// caller wrote before, are on disk; one result per event, in order.
    /// With several replicas, also the earlier events of these conversations this replica
    /// took on the way (`GroupWritten::taken`), to be stepped first.
    pub async fn ingest(
        &self,
        entries: Vec<InboxEntry>,
    ) -> Result<(Vec<Ingested>, Vec<InboxEntry>), CommitError> {
        // Platform events (they all carry the platform's id) skip the rounds where the
        // store has a log of its own for them.
        if self.store.appends_apart() && entries.iter().all(|entry| entry.dedup_key.is_some()) {
            let ingested = self.store.append_inbox(entries).await?;
            return Ok((ingested, Vec::new()));
        }
        let part = WriteGroup {
            ingest: entries,
            ..WriteGroup::default()
        };
        self.request(part)
            .await
            .map(|written| (written.ingested, written.taken))
    }

    /// Commits the steps (all or none) and returns once they are on disk, so nothing they
    /// queued can be sent for a step a crash could still undo; the sends each step created.
    /// With several replicas, `fence` names the leases the steps were taken under: if this
    /// replica no longer holds one, nothing is written.
    pub async fn commit(
        &self,
        steps: Vec<StepCommit>,
        fence: Option<Fence>,
    ) -> Result<Vec<Vec<OutboxEntry>>, CommitError> {
        let part = WriteGroup {
            steps,
            fence,
            ..WriteGroup::default()
        };
        self.request(part).await.map(|written| written.created)
    }

    /// Takes sends the platform accepted out of the outbox; returns once that is on disk.
    pub async fn delivered(&self, delivered: Vec<Delivered>) -> Result<(), CommitError> {
        let part = WriteGroup {
            delivered,
            ..WriteGroup::default()
        };
        self.request(part).await.map(|_| ())
    }

    async fn request(&self, part: WriteGroup) -> Result<GroupWritten, CommitError> {
        let (done, wait) = oneshot::channel();
        self.requests
            .send(Waiter { part, done })
            .map_err(|_| CommitError("the committer stopped".into()))?;
        wait.await
            .map_err(|_| CommitError("the committer stopped".into()))?
            .map_err(CommitError)
    }
}

type Answer = oneshot::Sender<Result<GroupWritten, String>>;

/// A round's writes: every part in one transaction. If the shared transaction fails, each
/// part is tried alone, so one bad part fails only its caller.
async fn write(
    store: &dyn Store,
    waiters: Vec<Waiter>,
) -> (Vec<Answer>, Vec<Result<GroupWritten, String>>) {
    let (parts, dones): (Vec<WriteGroup>, Vec<_>) =
        waiters.into_iter().map(|w| (w.part, w.done)).unzip();
    let results: Vec<Result<GroupWritten, String>> = match store.write_groups(&parts).await {
        Ok(written) => written.into_iter().map(Ok).collect(),
        Err(error) if parts.len() > 1 => {
            tracing::warn!(%error, parts = parts.len(), "group write failed; writing each part alone");
            let mut alone = Vec::with_capacity(parts.len());
            for part in &parts {
                alone.push(store.write_group(part).await.map_err(|e| e.to_string()));
            }
            alone
        }
        Err(error) => vec![Err(error.to_string())],
    };
    (dones, results)
}

/// Nothing is answered before the flush: an answer means "on disk".
async fn flush_and_answer(
    store: &dyn Store,
    dones: Vec<Answer>,
    results: Vec<Result<GroupWritten, String>>,
) {
    let synced = std::time::Instant::now();
    let flushed = store.flush().await.map_err(|e| e.to_string());
    metrics::histogram!("souk_store_sync_seconds").record(synced.elapsed().as_secs_f64());
    for (done, result) in dones.into_iter().zip(results) {
        let _ = done.send(match &flushed {
            Ok(()) => result,
            Err(error) => Err(error.clone()),
        });
    }
}
