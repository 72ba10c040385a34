//! The driver: routes accepted events to single-writer workers by conversation, runs the
//! outbox and the durable timers. Order of work for one event: load, step, commit (state,
//! history, timers, outbox in one transaction), then act (the outbox runner sends).

pub mod applied;
pub mod backoff;
pub mod group_commit;
pub mod holding;
mod ingest;
pub mod live;
mod outbox;
pub mod payment_links;
pub mod poison;
pub mod replica;
pub mod submit;
mod timers;
mod worker;

pub use ingest::{Ingest, IngestError};
pub use outbox::run_outbox;
pub use payment_links::run_payment_links;
pub use timers::{run_read_ahead, run_timers};
pub use worker::{Worker, run_worker};

use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use tokio::sync::{Notify, mpsc};

use flows::{Context, CustomerId};

use crate::render::Renderer;
use crate::settings::Settings;
use crate::store::{InboxEntry, Store};

/// What every background task shares.
pub struct Shared {
    pub store: Arc<dyn Store>,
    /// The catalog and flow settings; replaced whole when the catalog is reloaded, so a
    /// step sees one catalog from start to end.
    pub ctx: std::sync::RwLock<Arc<Context>>,
    /// Held while a new context is built from the current one (a payment's stock, a
    /// reloaded catalog), so two changes cannot both start from the same old context.
    pub ctx_writer: std::sync::Mutex<()>,
    pub settings: Arc<Settings>,
    pub renderer: Renderer,
    /// Poked after a commit that queued sends.
    pub outbox_wakeup: Notify,
    /// Sends committed since the outbox runner last looked (it also loads the store's
    /// outbox at start, so nothing depends on this hand-over surviving a crash).
    pub outbox_feed: std::sync::Mutex<Vec<crate::store::OutboxEntry>>,
    /// Poked after a commit that changed timers.
    pub timer_wakeup: Notify,
    /// Poked after a commit that asked for payment links.
    pub payment_wakeup: Notify,
    /// Accepts events: workers feed back what they learn at commit (an oversold payment, a
    /// link's or a booking's answer) through it.
    pub ingest: Ingest,
    /// The one place that makes inbound events and steps durable, shared so concurrent
    /// needs share a transaction and an fsync.
    pub group_commit: group_commit::GroupCommit,
    /// Conversations that changed, for open consoles.
    pub console_feed: crate::console::ConsoleFeed,
    /// Sets aside events whose step keeps failing.
    pub poison: poison::PoisonGuard,
    /// Set once the store was reopened after refusing writes: the pending inbox was handed
    /// to the workers again, so an event may now be queued twice, and each is checked to be
    /// still in the inbox before its step (the first copy's commit took it out).
    pub verify_inbox: std::sync::atomic::AtomicBool,
    /// Tells callers waiting for one event that its step was committed (or set aside).
    pub applied: applied::Applied,
    /// Which conversations this process steps (all of them on the embedded store).
    pub holding: Arc<holding::Holding>,
    /// Live news for the other replicas' views (nothing on the embedded store).
    pub relay: live::Relay,
    /// The language model, when `[nlu]` names one.
    pub nlu: Option<Arc<crate::nlu::Nlu>>,
}

impl Shared {
    pub fn context(&self) -> Arc<Context> {
        self.ctx
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    /// Steps that start after this see the new catalog; carts keep their SKUs, and a SKU
    /// that is gone is reported by the cart and checkout flows as unavailable.
    pub fn replace_catalog(&self, catalog: flows::Catalog) {
        let _writer = self
            .ctx_writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let current = self.context();
        self.install(Context {
            catalog,
            settings: current.settings.clone(),
            together: current.together.clone(),
            calendar: current.calendar.clone(),
            knowledge: current.knowledge.clone(),
        });
    }

    fn install(&self, next: Context) {
        *self
            .ctx
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Arc::new(next);
    }
}

impl Shared {
    /// Takes the units of newly paid orders out of the catalog's stock and counts their
    /// products as bought together, so the next steps see both. The store counted the units
    /// in the same transaction as the payment; this is the running copy.
    /// The new context is built beside the current one (steps keep reading it meanwhile)
    /// and swapped in; changes are serialized so none is lost.
    pub fn record_paid(&self, paid: &[flows::Order]) {
        let _writer = self
            .ctx_writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let ctx = self.context();
        let mut units_by_sku: std::collections::BTreeMap<&flows::Sku, u32> = Default::default();
        let mut together = ctx.together.clone();
        for order in paid {
            for (sku, units) in order.quantities() {
                let total = units_by_sku.entry(sku).or_default();
                *total = total.saturating_add(units);
            }
            together.record(order.lines.iter().map(|line| &line.product));
        }
        let levels: Vec<(flows::Sku, u32)> = units_by_sku
            .into_iter()
            .filter_map(|(sku, units)| {
                let (_, variant) = ctx.catalog.variant(sku)?;
                Some((sku.clone(), variant.stock.saturating_sub(units)))
            })
            .collect();
        self.install(Context {
            catalog: ctx.catalog.with_stock(&levels),
            settings: ctx.settings.clone(),
            together,
            calendar: ctx.calendar.clone(),
            knowledge: ctx.knowledge.clone(),
        });
    }
}

#[derive(Debug, thiserror::Error)]
#[error("souk is shutting down")]
pub struct DriverClosed;

/// Routes events to shards. Cloning is cheap; all clones feed the same workers.
#[derive(Clone)]
pub struct Driver {
    shards: Arc<[mpsc::Sender<InboxEntry>]>,
    hasher: std::hash::RandomState,
    holding: Arc<holding::Holding>,
    sweeping: Arc<Sweeping>,
}

/// Shards whose events a sweep has taken and is handing to the workers. An event accepted
/// here meanwhile waits for the hand-over to finish before it is queued: the sweep may hold
/// an earlier event of the same conversation (taken a moment before this one's ingest
/// looked for such events).
#[derive(Default)]
pub struct Sweeping {
    shards: std::sync::Mutex<std::collections::HashMap<u32, usize>>,
    done: Notify,
}

/// Ends a sweep's hand-over when dropped.
pub struct SweepGuard {
    sweeping: Arc<Sweeping>,
    shards: Vec<u32>,
}

impl Sweeping {
    fn lock(&self) -> std::sync::MutexGuard<'_, std::collections::HashMap<u32, usize>> {
        self.shards.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn busy(&self, shard: u32) -> bool {
        self.lock().contains_key(&shard)
    }
}

impl Drop for SweepGuard {
    fn drop(&mut self) {
        let mut busy = self.sweeping.lock();
        for shard in &self.shards {
            if let Some(count) = busy.get_mut(shard) {
                *count -= 1;
                if *count == 0 {
                    busy.remove(shard);
                }
            }
        }
        drop(busy);
        self.sweeping.done.notify_waiters();
    }
}

impl Driver {
    pub fn new(shards: Vec<mpsc::Sender<InboxEntry>>, holding: Arc<holding::Holding>) -> Driver {
        Driver {
            shards: shards.into(),
            hasher: std::hash::RandomState::new(),
            holding,
            sweeping: Arc::default(),
        }
    }

    /// Marks `shards` as being swept until the guard is dropped (`Sweeping`).
    pub fn sweeping(&self, shards: &[u32]) -> SweepGuard {
        let mut busy = self.sweeping.lock();
        for shard in shards {
            *busy.entry(*shard).or_default() += 1;
        }
        SweepGuard {
            sweeping: self.sweeping.clone(),
            shards: shards.to_vec(),
        }
    }

    pub fn holding(&self) -> &Arc<holding::Holding> {
        &self.holding
    }

    /// The same customer always maps to the same shard, so its events apply in order.
    fn shard_of(&self, customer: &CustomerId) -> usize {
        let mut hasher = self.hasher.build_hasher();
        hasher.write(customer.0.as_bytes());
        (hasher.finish() % self.shards.len().max(1) as u64) as usize
    }

    /// Waits when the shard's queue is full: back-pressure reaches the HTTP client. An
    /// event another replica steps is not queued here (that replica was told).
    pub async fn dispatch(&self, entry: InboxEntry) -> Result<(), DriverClosed> {
        if !self.holding.steps(&entry) {
            return Ok(());
        }
        if self.holding.replica_id().is_some() {
            let shard = crate::store::shards::shard_of(&entry.customer);
            loop {
                let done = self.sweeping.done.notified();
                tokio::pin!(done);
                // Registered before the check, so a hand-over ending in between wakes it.
                done.as_mut().enable();
                if !self.sweeping.busy(shard) {
                    break;
                }
                done.await;
            }
        }
        self.queue(entry).await
    }

    /// Queues an event a sweep took (it does not wait for sweeps, its own included).
    pub async fn dispatch_swept(&self, entry: InboxEntry) -> Result<(), DriverClosed> {
        if !self.holding.steps(&entry) {
            return Ok(());
        }
        self.queue(entry).await
    }

    async fn queue(&self, entry: InboxEntry) -> Result<(), DriverClosed> {
        let shard = self
            .shards
            .get(self.shard_of(&entry.customer))
            .ok_or(DriverClosed)?;
        shard.send(entry).await.map_err(|_| DriverClosed)
    }
}
