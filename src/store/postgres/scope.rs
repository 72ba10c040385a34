//! The shards this replica holds, as its last lease round left them. Once a serving replica
//! has held leases, its work queues (due timers, pending sends, payment-link jobs, the
//! inbox it re-reads) are read for those shards only; before that (the command line, a
//! test) they cover every shard.

use std::collections::HashMap;
use std::sync::RwLock;

use crate::store::Lease;

#[derive(Default)]
pub(super) struct Scope(RwLock<Option<HashMap<u32, u64>>>);

impl Scope {
    pub(super) fn hold(&self, leases: &[Lease]) {
        *self.0.write().unwrap_or_else(|p| p.into_inner()) = Some(
            leases
                .iter()
                .map(|lease| (lease.shard, lease.epoch))
                .collect(),
        );
    }

    /// The held shards as a query parameter: `None` for every shard.
    pub(super) fn shards(&self) -> Option<Vec<i32>> {
        self.0
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .map(|held| {
                let mut shards: Vec<i32> = held
                    .keys()
                    .map(|shard| i32::try_from(*shard).unwrap_or(i32::MAX))
                    .collect();
                shards.sort_unstable();
                shards
            })
    }

    /// The epoch this replica holds `shard` under, if it holds it; `None` also when unscoped.
    pub(super) fn epoch(&self, shard: u32) -> Option<u64> {
        self.0
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .as_ref()
            .and_then(|held| held.get(&shard).copied())
    }
}
