//! An event from staff (an operator's action, an erasure) put in a conversation's inbox
//! and waited for: durable first, handed to its worker, then the caller hears when the
//! worker applied it, on a channel of its own (`driver::applied`).

use std::time::Duration;

use super::applied::{Applied, Settled};
use super::{Ingest, IngestError};
use crate::store::{InboxEntry, Ingested, StoreError};

/// What became of a submitted event within the caller's patience.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waited {
    Applied,
    /// Its step kept failing; it is out of the queue for an admin to look at.
    SetAside,
    /// Not yet (a busy conversation, a stopping worker): it is durably queued.
    Queued,
}

pub async fn submit_and_wait(
    ingest: &Ingest,
    applied: &Applied,
    entry: InboxEntry,
    patience: Duration,
) -> Result<Waited, IngestError> {
    let (seq, settled) = match ingest.persist(vec![entry]).await?.pop() {
        Some(Ingested::New(entry)) => {
            let seq = entry.seq;
            // Watched before its worker has it, so the news cannot come first.
            let settled = applied.watch(seq);
            if let Err(error) = ingest.dispatch(entry).await {
                applied.forget(seq);
                return Err(error);
            }
            (seq, settled)
        }
        Some(Ingested::Duplicate) | None => {
            return Err(StoreError::Engine("the event was not stored".into()).into());
        }
    };
    // Forgotten however this ends (a browser that hangs up included), so the registry
    // never keeps a waiter nobody reads.
    let _watching = Watching { applied, seq };
    // A store recovering from a full disk re-drives its inbox and may have applied it already.
    if !ingest.store().in_inbox(seq).await? {
        return Ok(Waited::Applied);
    }
    Ok(match tokio::time::timeout(patience, settled).await {
        Ok(Ok(Settled::Applied)) => Waited::Applied,
        Ok(Ok(Settled::SetAside)) => Waited::SetAside,
        Ok(Err(_)) | Err(_) => Waited::Queued,
    })
}

struct Watching<'a> {
    applied: &'a Applied,
    seq: u64,
}

impl Drop for Watching<'_> {
    fn drop(&mut self) {
        self.applied.forget(self.seq);
    }
}
