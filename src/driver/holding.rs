//! Which conversations this process may step. On the embedded store it is the only process
//! and holds every shard for good. On a shared database it holds the shards its last lease
//! round returned, each under an epoch: an event taken under an epoch is stepped and
//! committed under it (the commit is fenced on it), so after a shard moves, the old
//! holder's late work fails instead of racing the new holder's.
//!
//! A shard just gained is not ready: its pending events (a former holder's, or accepted
//! elsewhere) are taken first, and until then new events for it are left for that sweep
//! rather than taken at ingest, so none overtakes an older one. New events are also not
//! taken at ingest once the lease may have run out (rounds failing): the database would
//! refuse the claim anyway.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use flows::CustomerId;

use crate::store::shards::shard_of;
use crate::store::{Fence, InboxEntry, Lease};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Held {
    epoch: u64,
    ready: bool,
}

#[derive(Default)]
struct State {
    held: HashMap<u32, Held>,
    /// New events are taken at ingest until then (a lease round's time plus what is left
    /// of the lease, with a margin).
    claim_until: Option<Instant>,
}

pub struct Holding {
    /// `None`: the only process (embedded store).
    replica: Option<String>,
    lease: Duration,
    state: RwLock<State>,
    /// Bumped at every change of the held set; the outbox runner compares it.
    generation: std::sync::atomic::AtomicU64,
}

/// What a lease round changed.
#[derive(Debug, Default)]
pub struct Moved {
    pub gained: Vec<Lease>,
    pub lost: Vec<u32>,
}

impl Holding {
    /// The only process on its store: every shard, for good.
    pub fn alone() -> Holding {
        Holding {
            replica: None,
            lease: Duration::ZERO,
            state: RwLock::default(),
            generation: Default::default(),
        }
    }

    /// One replica among several, with leases lasting `lease`; it holds nothing until its
    /// first lease round.
    pub fn replica(id: String, lease: Duration) -> Holding {
        Holding {
            replica: Some(id),
            lease,
            state: RwLock::default(),
            generation: Default::default(),
        }
    }

    pub fn replica_id(&self) -> Option<&str> {
        self.replica.as_deref()
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|p| p.into_inner())
    }

    fn bump(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// The epoch to take a new event of `customer` under at ingest, if this process steps
    /// it and may take it now (the store still checks the lease in the same transaction).
    pub fn claim(&self, customer: &CustomerId) -> Option<u64> {
        if self.replica.is_none() {
            return Some(0);
        }
        let state = self.read();
        if state
            .claim_until
            .is_none_or(|until| Instant::now() >= until)
        {
            return None;
        }
        state
            .held
            .get(&shard_of(customer))
            .filter(|held| held.ready)
            .map(|held| held.epoch)
    }

    /// Whether this process steps `entry`: always when alone; else when it holds the
    /// shard under the epoch the entry was taken with.
    pub fn steps(&self, entry: &InboxEntry) -> bool {
        if self.replica.is_none() {
            return true;
        }
        entry.claim.is_some()
            && self
                .read()
                .held
                .get(&shard_of(&entry.customer))
                .map(|held| held.epoch)
                == entry.claim
    }

    pub fn holds_customer(&self, customer: &CustomerId) -> bool {
        self.replica.is_none() || self.read().held.contains_key(&shard_of(customer))
    }

    /// What the commit of these entries' steps must still hold (`None` when alone).
    pub fn fence<'a>(&self, entries: impl IntoIterator<Item = &'a InboxEntry>) -> Option<Fence> {
        let replica = self.replica.clone()?;
        let mut leases: Vec<Lease> = entries
            .into_iter()
            .map(|entry| Lease {
                shard: shard_of(&entry.customer),
                epoch: entry.claim.unwrap_or(u64::MAX),
            })
            .collect();
        leases.sort_by_key(|lease| (lease.shard, lease.epoch));
        leases.dedup();
        Some(Fence { replica, leases })
    }

    /// Every held shard, ready or not.
    pub fn leases(&self) -> Vec<Lease> {
        self.select(|_| true)
    }

    /// Held shards whose pending work is not taken yet.
    pub fn unready(&self) -> Vec<Lease> {
        self.select(|held| !held.ready)
    }

    fn select(&self, keep: impl Fn(&Held) -> bool) -> Vec<Lease> {
        let mut leases: Vec<Lease> = self
            .read()
            .held
            .iter()
            .filter(|(_, held)| keep(held))
            .map(|(&shard, held)| Lease {
                shard,
                epoch: held.epoch,
            })
            .collect();
        leases.sort_by_key(|lease| lease.shard);
        leases
    }

    /// The pending work of these shards is taken: new events may be taken at ingest.
    pub fn mark_ready(&self, leases: &[Lease]) {
        let mut state = self.write();
        for lease in leases {
            if let Some(held) = state.held.get_mut(&lease.shard)
                && held.epoch == lease.epoch
            {
                held.ready = true;
            }
        }
    }

    /// Installs a successful lease round's result and says what moved (a shard held under
    /// a new epoch counts as lost and gained: what was taken under the old one is taken
    /// again). Gained shards start not ready.
    pub fn replace(&self, leases: &[Lease]) -> Moved {
        let mut state = self.write();
        // The round renewed every lease it returned: they last `lease` from about now; stop
        // taking new events a round's time before that.
        state.claim_until = Some(Instant::now() + self.lease.saturating_sub(self.lease / 3));
        let mut moved = Moved::default();
        for (&shard, held) in &state.held {
            if !leases
                .iter()
                .any(|lease| lease.shard == shard && lease.epoch == held.epoch)
            {
                moved.lost.push(shard);
            }
        }
        let mut next = HashMap::with_capacity(leases.len());
        for lease in leases {
            match state.held.get(&lease.shard) {
                Some(held) if held.epoch == lease.epoch => {
                    next.insert(lease.shard, *held);
                }
                _ => {
                    moved.gained.push(*lease);
                    next.insert(
                        lease.shard,
                        Held {
                            epoch: lease.epoch,
                            ready: false,
                        },
                    );
                }
            }
        }
        moved.lost.sort_unstable();
        moved.gained.sort_by_key(|lease| lease.shard);
        if !moved.lost.is_empty() || !moved.gained.is_empty() {
            state.held = next;
            drop(state);
            self.bump();
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(customer: &str, claim: Option<u64>) -> InboxEntry {
        InboxEntry {
            claim,
            seq: 1,
            public_id: "p".into(),
            dedup_key: None,
            customer: CustomerId(customer.into()),
            event: flows::Event::TimerFired(flows::TimerKind::SessionExpiry),
            received_at: flows::Timestamp(0),
        }
    }

    #[test]
    fn alone_steps_everything_without_fences() {
        let holding = Holding::alone();
        assert_eq!(holding.claim(&CustomerId("c".into())), Some(0));
        assert!(holding.steps(&entry("c", None)));
        assert!(holding.fence([&entry("c", None)]).is_none());
    }

    #[test]
    fn a_replica_steps_only_what_it_took_under_the_epoch_it_holds() {
        let holding = Holding::replica("r1".into(), Duration::from_secs(9));
        let customer = CustomerId("c".into());
        let shard = shard_of(&customer);
        assert_eq!(
            holding.claim(&customer),
            None,
            "nothing held before a round"
        );
        let moved = holding.replace(&[Lease { shard, epoch: 4 }]);
        assert_eq!(moved.gained, vec![Lease { shard, epoch: 4 }]);
        assert_eq!(
            holding.claim(&customer),
            None,
            "not ready: its backlog first"
        );
        assert!(
            holding.steps(&entry("c", Some(4))),
            "the backlog is stepped"
        );
        assert_eq!(holding.unready(), vec![Lease { shard, epoch: 4 }]);
        holding.mark_ready(&holding.unready());
        assert_eq!(holding.claim(&customer), Some(4));
        assert!(holding.unready().is_empty());
        assert!(holding.steps(&entry("c", Some(4))));
        assert!(
            !holding.steps(&entry("c", Some(3))),
            "taken under an older epoch"
        );
        assert!(!holding.steps(&entry("c", None)));
        let fence = holding.fence([&entry("c", Some(4)), &entry("c", Some(4))]);
        assert_eq!(
            fence.map(|f| f.leases),
            Some(vec![Lease { shard, epoch: 4 }])
        );
        // Renewed: still ready. Re-taken under a new epoch: lost and gained, not ready.
        assert!(
            holding
                .replace(&[Lease { shard, epoch: 4 }])
                .gained
                .is_empty()
        );
        assert_eq!(holding.claim(&customer), Some(4));
        let moved = holding.replace(&[Lease { shard, epoch: 6 }]);
        assert_eq!((moved.lost, moved.gained.len()), (vec![shard], 1));
        assert_eq!(holding.claim(&customer), None);
        assert_eq!(holding.replace(&[]).lost, vec![shard]);
        assert!(!holding.steps(&entry("c", Some(6))));
    }

    #[test]
    fn nothing_is_taken_at_ingest_once_the_lease_may_have_run_out() {
        let holding = Holding::replica("r1".into(), Duration::from_millis(30));
        let customer = CustomerId("c".into());
        let lease = Lease {
            shard: shard_of(&customer),
            epoch: 1,
        };
        holding.replace(&[lease]);
        holding.mark_ready(&[lease]);
        assert_eq!(holding.claim(&customer), Some(1));
        std::thread::sleep(Duration::from_millis(40));
        assert_eq!(holding.claim(&customer), None, "no round renewed it");
        assert!(
            holding.steps(&entry("c", Some(1))),
            "what it took is still its own"
        );
    }
}
