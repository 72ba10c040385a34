//! Which conversations this process may step. On the embedded store it is the only process
//! and holds every shard for good. On a shared database it holds the shards its last lease
//! round returned, each under an epoch: an event taken under an epoch is stepped and
//! committed under it (the commit is fenced on it), so after a shard moves, the old
//! holder's late work fails instead of racing the new holder's.

use std::collections::HashMap;
use std::sync::RwLock;

use flows::CustomerId;

use crate::store::shards::shard_of;
use crate::store::{Fence, InboxEntry, Lease};

pub struct Holding {
    /// `None`: the only process (embedded store).
    replica: Option<String>,
    held: RwLock<HashMap<u32, u64>>,
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
            held: RwLock::default(),
            generation: Default::default(),
        }
    }

    /// One replica among several; it holds nothing until its first lease round.
    pub fn replica(id: String) -> Holding {
        Holding {
            replica: Some(id),
            held: RwLock::default(),
            generation: Default::default(),
        }
    }

    pub fn replica_id(&self) -> Option<&str> {
        self.replica.as_deref()
    }

    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, HashMap<u32, u64>> {
        self.held.read().unwrap_or_else(|p| p.into_inner())
    }

    /// The epoch to take a new event of `customer` under here, if this process steps it.
    pub fn claim(&self, customer: &CustomerId) -> Option<u64> {
        if self.replica.is_none() {
            return Some(0);
        }
        self.read().get(&shard_of(customer)).copied()
    }

    /// Whether this process steps `entry`: always when alone; else when it holds the
    /// shard under the epoch the entry was taken with.
    pub fn steps(&self, entry: &InboxEntry) -> bool {
        if self.replica.is_none() {
            return true;
        }
        entry.claim.is_some() && self.read().get(&shard_of(&entry.customer)) == entry.claim.as_ref()
    }

    pub fn holds_customer(&self, customer: &CustomerId) -> bool {
        self.replica.is_none() || self.read().contains_key(&shard_of(customer))
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

    pub fn leases(&self) -> Vec<Lease> {
        let mut leases: Vec<Lease> = self
            .read()
            .iter()
            .map(|(&shard, &epoch)| Lease { shard, epoch })
            .collect();
        leases.sort_by_key(|lease| lease.shard);
        leases
    }

    /// Stops holding `shards` here (their take-over failed half way): the next round
    /// finds them gained again.
    pub fn forget(&self, shards: &[u32]) {
        let mut held = self.held.write().unwrap_or_else(|p| p.into_inner());
        let before = held.len();
        held.retain(|shard, _| !shards.contains(shard));
        if held.len() != before {
            self.generation
                .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
        }
    }

    /// Installs a lease round's result and says what moved (a shard held under a new epoch
    /// counts as lost and gained: what was taken under the old one is taken again).
    pub fn replace(&self, leases: &[Lease]) -> Moved {
        let next: HashMap<u32, u64> = leases.iter().map(|l| (l.shard, l.epoch)).collect();
        let mut held = self.held.write().unwrap_or_else(|p| p.into_inner());
        let mut moved = Moved::default();
        for (&shard, &epoch) in held.iter() {
            if next.get(&shard) != Some(&epoch) {
                moved.lost.push(shard);
            }
        }
        for (&shard, &epoch) in &next {
            if held.get(&shard) != Some(&epoch) {
                moved.gained.push(Lease { shard, epoch });
            }
        }
        moved.lost.sort_unstable();
        moved.gained.sort_by_key(|lease| lease.shard);
        if !moved.lost.is_empty() || !moved.gained.is_empty() {
            *held = next;
            self.generation
                .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
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
        let holding = Holding::replica("r1".into());
        let customer = CustomerId("c".into());
        let shard = shard_of(&customer);
        assert_eq!(
            holding.claim(&customer),
            None,
            "nothing held before a round"
        );
        let moved = holding.replace(&[Lease { shard, epoch: 4 }]);
        assert_eq!(moved.gained, vec![Lease { shard, epoch: 4 }]);
        assert_eq!(holding.claim(&customer), Some(4));
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
        // Re-taken under a new epoch: lost and gained in one round.
        let moved = holding.replace(&[Lease { shard, epoch: 6 }]);
        assert_eq!((moved.lost, moved.gained.len()), (vec![shard], 1));
        assert!(
            holding
                .replace(&[Lease { shard, epoch: 6 }])
                .gained
                .is_empty()
        );
        assert_eq!(holding.replace(&[]).lost, vec![shard]);
        assert_eq!(holding.claim(&customer), None);
    }
}
