//! Group commit: callers that need their writes on disk ask here; one flush (one fsync)
//! serves everyone who asked before it started. Under load that is one fsync per batch of
//! requests instead of one per request, with the same guarantee for each caller. Inbound
//! events to persist ride along: the batch's events go into the store in one transaction
//! just before the flush.

use std::sync::Arc;

use tokio::sync::{mpsc, oneshot};

use crate::store::{InboxEntry, Ingested, Store, StoreError};

/// Events to persist (none for a plain "make my writes durable") and who waits for them.
struct Waiter {
    entries: Vec<InboxEntry>,
    done: oneshot::Sender<Result<Vec<Ingested>, String>>,
}

const GATHER: std::time::Duration = std::time::Duration::from_micros(500);

#[derive(Clone)]
pub struct GroupFlush {
    requests: mpsc::UnboundedSender<Waiter>,
}

#[derive(Debug, thiserror::Error)]
#[error("flush failed: {0}")]
pub struct FlushError(pub String);

impl From<StoreError> for FlushError {
    fn from(error: StoreError) -> Self {
        FlushError(error.to_string())
    }
}

impl GroupFlush {
    /// Starts the flusher task; it ends when every `GroupFlush` clone is dropped.
    pub fn start(store: Arc<dyn Store>) -> GroupFlush {
        let (requests, mut queue) = mpsc::unbounded_channel::<Waiter>();
        tokio::spawn(async move {
            while let Some(first) = queue.recv().await {
                // A short gather window turns a stream of requests into batches: far fewer
                // flushes (each costs sled's IO threads a round) for at most this much latency.
                tokio::time::sleep(GATHER).await;
                // Everyone already waiting wrote before this flush starts: one flush covers all.
                let mut waiters = vec![first];
                while let Ok(next) = queue.try_recv() {
                    waiters.push(next);
                }
                let counts: Vec<usize> = waiters.iter().map(|w| w.entries.len()).collect();
                let entries: Vec<InboxEntry> = waiters
                    .iter_mut()
                    .flat_map(|w| std::mem::take(&mut w.entries))
                    .collect();
                let store = store.clone();
                let started = std::time::Instant::now();
                let result = match tokio::task::spawn_blocking(move || {
                    let ingested = if entries.is_empty() {
                        Vec::new()
                    } else {
                        store.ingest_batch(entries)?
                    };
                    store.flush()?;
                    Ok::<_, StoreError>(ingested)
                })
                .await
                {
                    Ok(Ok(ingested)) => Ok(ingested),
                    Ok(Err(error)) => Err(error.to_string()),
                    Err(error) => Err(error.to_string()),
                };
                metrics::histogram!("souk_flush_seconds").record(started.elapsed().as_secs_f64());
                metrics::histogram!("souk_flush_batch_size").record(waiters.len() as f64);
                match result {
                    Ok(ingested) => {
                        let mut ingested = ingested.into_iter();
                        for (waiter, count) in waiters.into_iter().zip(counts) {
                            let _ = waiter
                                .done
                                .send(Ok(ingested.by_ref().take(count).collect()));
                        }
                    }
                    Err(error) => {
                        for waiter in waiters {
                            let _ = waiter.done.send(Err(error.clone()));
                        }
                    }
                }
            }
        });
        GroupFlush { requests }
    }

    /// Returns once everything this caller wrote before calling is on disk.
    pub async fn durable(&self) -> Result<(), FlushError> {
        self.request(Vec::new()).await.map(|_| ())
    }

    /// Persists the events (dropping duplicates) and returns once they, and everything this
    /// caller wrote before, are on disk; one result per event, in order.
    pub async fn ingest(&self, entries: Vec<InboxEntry>) -> Result<Vec<Ingested>, FlushError> {
        self.request(entries).await
    }

    async fn request(&self, entries: Vec<InboxEntry>) -> Result<Vec<Ingested>, FlushError> {
        let (done, wait) = oneshot::channel();
        self.requests
            .send(Waiter { entries, done })
            .map_err(|_| FlushError("the flusher stopped".into()))?;
        wait.await
            .map_err(|_| FlushError("the flusher stopped".into()))?
            .map_err(FlushError)
    }
}
