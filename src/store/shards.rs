//! Conversations fall into a fixed number of shards by their customer id. A shard is the
//! unit a replica leases on a shared database; on the embedded store one process holds all.
//! The function is part of the stored data (rows carry their shard), so it never changes:
//! the first two bytes of the id's SHA-256, modulo `SHARDS`. Migration 0003 computes the
//! same in SQL for rows written before the column existed, and a test holds the two equal.

use flows::CustomerId;
use sha2::{Digest, Sha256};

/// Enough that three or four replicas split the work evenly, few enough that a lease round
/// touches a handful of rows.
pub const SHARDS: u32 = 64;

/// The shard of a customer's conversation, stable across processes and versions.
pub fn shard_of(customer: &CustomerId) -> u32 {
    let digest = Sha256::digest(customer.0.as_bytes());
    (u32::from(digest[0]) * 256 + u32::from(digest[1])) % SHARDS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_are_stable_and_spread() {
        let id = |s: &str| CustomerId(s.to_owned());
        // Pinned: a change would strand every stored row in the wrong shard.
        assert_eq!(shard_of(&id("")), (0xe3 * 256 + 0xb0) % SHARDS);
        let mut counts = [0u32; SHARDS as usize];
        for n in 0..6400 {
            counts[shard_of(&id(&format!("{n:032x}"))) as usize] += 1;
        }
        assert!(counts.iter().all(|&c| c > 50 && c < 150), "{counts:?}");
    }
}
