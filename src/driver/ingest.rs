//! Accepting an event from outside: drop duplicates, persist durably, then hand it to its
//! worker. Only after `accept` returns may the caller answer the platform.

use std::sync::Arc;

use flows::{Customer, CustomerId, Event, Identity, Locale};

use crate::store::{InboxEntry, Ingested, Store, StoreError};

use super::group_commit::{CommitError, GroupCommit};
use super::{Driver, DriverClosed};

#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Closed(#[from] DriverClosed),
    #[error("storage task failed: {0}")]
    Join(String),
    #[error(transparent)]
    Commit(#[from] CommitError),
}

#[derive(Clone)]
pub struct Ingest {
    store: Arc<dyn Store>,
    driver: Driver,
    group_commit: GroupCommit,
}

impl Ingest {
    pub fn new(store: Arc<dyn Store>, driver: Driver, group_commit: GroupCommit) -> Ingest {
        Ingest {
            store,
            driver,
            group_commit,
        }
    }

    /// The customer behind a chat identity, created on its first message; writing again
    /// lifts a block recorded when sends to it were refused.
    pub async fn customer_of(
        &self,
        identity: &Identity,
        name: Option<String>,
        locale: Locale,
    ) -> Result<CustomerId, StoreError> {
        if self.store.is_blocked(identity).await? {
            self.store.set_blocked(identity, false).await?;
        }
        let customer = Customer {
            id: CustomerId(crate::clock::random_hex_128()),
            identities: vec![identity.clone()],
            display_name: name,
            locale: Some(locale),
            created_at: crate::clock::now(),
        };
        self.store.resolve_identity(identity, customer).await
    }

    /// Accepts an event under the platform's dedup key (its public id too).
    pub async fn accept_keyed(
        &self,
        key: String,
        customer: CustomerId,
        event: Event,
    ) -> Result<bool, IngestError> {
        self.accept(InboxEntry {
            claim: None,
            seq: 0,
            public_id: key.clone(),
            dedup_key: Some(key),
            customer,
            event,
            received_at: crate::clock::now(),
        })
        .await
    }

    /// Waits until everything written so far is on disk (shared with concurrent callers).
    pub async fn durable(&self) -> Result<(), IngestError> {
        self.group_commit.durable().await.map_err(IngestError::from)
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// Persists the events (duplicates dropped) in the next group commit and waits until they
    /// are on disk; one result per event, in order. The caller then dispatches the new ones.
    pub async fn persist(
        &self,
        mut entries: Vec<InboxEntry>,
    ) -> Result<Vec<Ingested>, IngestError> {
        // While the store refuses writes, say so at once (503: the platform retries later)
        // instead of queueing behind a disk that is full.
        if !self.store.healthy() {
            return Err(IngestError::Store(StoreError::Unavailable(
                "the store refuses writes (is the disk full?)".into(),
            )));
        }
        entries.iter_mut().for_each(cut_to_channel_limit);
        // Taken here when this process steps the conversation; otherwise the store tells
        // the replica that does.
        let holding = self.driver.holding();
        for entry in &mut entries {
            if entry.claim.is_none() {
                entry.claim = holding.claim(&entry.customer);
            }
        }
        let (ingested, taken) = self
            .group_commit
            .ingest(entries)
            .await
            .map_err(IngestError::from)?;
        // Before the caller dispatches the new events: the conversation's earlier ones,
        // accepted by another replica, go to the worker first.
        for entry in taken {
            self.driver.dispatch(entry).await?;
        }
        Ok(ingested)
    }

    /// Hands an entry that is already durably in the inbox to its worker.
    pub async fn dispatch(&self, entry: InboxEntry) -> Result<(), IngestError> {
        self.driver.dispatch(entry).await.map_err(IngestError::from)
    }

    /// `Ok(true)` when the event is new and queued, `Ok(false)` for a duplicate. Runs detached
    /// from the caller: once persisted, an event reaches its worker even if the HTTP client
    /// hangs up meanwhile (its retry would be dropped as a duplicate).
    pub async fn accept(&self, entry: InboxEntry) -> Result<bool, IngestError> {
        let this = self.clone();
        tokio::spawn(async move { this.accept_here(entry).await })
            .await
            .map_err(|error| IngestError::Join(error.to_string()))?
    }

    async fn accept_here(&self, entry: InboxEntry) -> Result<bool, IngestError> {
        let channel = match &entry.event {
            flows::Event::Inbound(inbound) => inbound.channel.name(),
            _ => "internal",
        };
        metrics::counter!("souk_events_received_total", "channel" => channel).increment(1);
        // Persist and fsync before acknowledging: an acknowledged event survives a crash.
        // A duplicate waits for the flush too: its first copy may still be in flight.
        let ingested = self.persist(vec![entry]).await?.pop();
        match ingested {
            None => Err(IngestError::Commit(CommitError(
                "the store returned no result for the event".into(),
            ))),
            Some(Ingested::New(entry)) => {
                self.driver.dispatch(entry).await?;
                Ok(true)
            }
            Some(Ingested::Duplicate) => {
                metrics::counter!("souk_events_duplicate_total", "channel" => channel).increment(1);
                Ok(false)
            }
        }
    }
}

/// Every channel's text is cut to what its platform allows before it is stored: nothing a
/// platform's own app could send is lost, and no later step reads more.
fn cut_to_channel_limit(entry: &mut InboxEntry) {
    if let Event::Inbound(inbound) = &mut entry.event
        && let Some(had) = adapters::text_limits::cut_inbound(inbound)
    {
        metrics::counter!("souk_inbound_text_cut_total", "channel" => inbound.channel.name())
            .increment(1);
        tracing::warn!(
            channel = inbound.channel.name(),
            chars = had,
            limit = adapters::text_limits::inbound_text_max(inbound.channel),
            "customer text longer than the channel allows; cut"
        );
    }
}
