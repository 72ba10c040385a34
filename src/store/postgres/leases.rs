//! Shard leases on PostgreSQL. A replica's round (`hold_leases`, every few seconds) is one
//! transaction: heartbeat, renew, give back what is over its fair share, take free or
//! expired shards up to it. Taking a shard raises its epoch, and a commit checks its leases
//! under `FOR SHARE` (`check_fence`), so a takeover waits for a commit in flight and a
//! commit after a takeover fails: one writer per shard at any moment.

use std::collections::HashMap;
use std::time::Duration;

use sqlx::PgConnection;

use super::{PgStore, db, unbig};
use crate::store::{
    Claimed, Fence, InboxEntry, Lease, Leases, Notice, OutboxEntry, StoreError, StoreResult, Take,
};

/// Replicas silent this many lease times are forgotten (their row only counts the living).
const FORGET_AFTER_TTLS: f64 = 10.0;

/// The live leases of `shards` as they are now, `(epoch, owner)` by shard, share-locked
/// until the transaction ends: no takeover slips in before its commit. One statement per
/// transaction, rows locked in shard order, as the lease rounds lock them, so the two
/// cannot deadlock.
pub(super) async fn lock_leases(
    connection: &mut PgConnection,
    shards: &[u32],
) -> StoreResult<HashMap<u32, (u64, String)>> {
    if shards.is_empty() {
        return Ok(HashMap::new());
    }
    let shards: Vec<i32> = shards
        .iter()
        .map(|shard| i32::try_from(*shard).unwrap_or(i32::MAX))
        .collect();
    let rows: Vec<(i32, i64, String)> = sqlx::query_as(
        "SELECT shard, epoch, owner FROM leases \
         WHERE shard = ANY($1) AND owner IS NOT NULL AND expires_at > now() \
         ORDER BY shard FOR SHARE",
    )
    .bind(&shards)
    .fetch_all(connection)
    .await
    .map_err(db)?;
    Ok(rows
        .into_iter()
        .map(|(shard, epoch, owner)| {
            (
                u32::try_from(shard).unwrap_or(u32::MAX),
                (unbig(epoch), owner),
            )
        })
        .collect())
}

/// Fails with `Fenced` unless `locked` (from `lock_leases`) shows the replica still holding
/// every lease of `fence`.
pub(super) fn check_fence(locked: &HashMap<u32, (u64, String)>, fence: &Fence) -> StoreResult<()> {
    match fence.leases.iter().find(|lease| {
        locked
            .get(&lease.shard)
            .is_none_or(|(epoch, owner)| *epoch != lease.epoch || *owner != fence.replica)
    }) {
        Some(lost) => Err(StoreError::Fenced { shard: lost.shard }),
        None => Ok(()),
    }
}

fn leases(rows: Vec<(i32, i64)>) -> Vec<Lease> {
    let mut held: Vec<Lease> = rows
        .into_iter()
        .map(|(shard, epoch)| Lease {
            shard: u32::try_from(shard).unwrap_or(0),
            epoch: unbig(epoch),
        })
        .collect();
    held.sort_by_key(|lease| lease.shard);
    held
}

#[async_trait::async_trait]
impl Leases for PgStore {
    async fn hold_leases(
        &self,
        replica: &str,
        shards: u32,
        ttl: Duration,
    ) -> StoreResult<Vec<Lease>> {
        let _timed = super::Timed::start("lease_round");
        let ttl_s = ttl.as_secs_f64();
        let total = i32::try_from(shards).unwrap_or(i32::MAX);
        let mut tx = self.pool().begin().await.map_err(db)?;
        sqlx::query(
            "INSERT INTO replicas (id, seen_at) VALUES ($1, now()) \
             ON CONFLICT (id) DO UPDATE SET seen_at = now()",
        )
        .bind(replica)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query(
            "INSERT INTO leases (shard) SELECT generate_series(0, $1 - 1) \
             ON CONFLICT DO NOTHING",
        )
        .bind(total)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let (live,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM replicas WHERE seen_at > now() - make_interval(secs => $1)",
        )
        .bind(ttl_s)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        // Every replica aims at the same share, rounded up, so all shards find a holder.
        let share = i64::from(total).div_euclid(live.max(1))
            + i64::from(i64::from(total).rem_euclid(live.max(1)) != 0);
        // Locked in shard order, as commits lock them (`lock_leases`): no deadlock.
        let mut held: Vec<(i32, i64)> = sqlx::query_as(
            "UPDATE leases SET expires_at = now() + make_interval(secs => $2) \
             WHERE shard IN ( \
               SELECT shard FROM leases WHERE owner = $1 AND expires_at > now() AND shard < $3 \
               ORDER BY shard FOR UPDATE) \
             RETURNING shard, epoch",
        )
        .bind(replica)
        .bind(ttl_s)
        .bind(total)
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        held.sort_by_key(|(shard, _)| *shard);
        let over =
            usize::try_from(i64::try_from(held.len()).unwrap_or(i64::MAX) - share).unwrap_or(0);
        if over > 0 {
            // A replica joined: the highest shards go back, for it to take.
            let given: Vec<i32> = held
                .split_off(held.len() - over)
                .into_iter()
                .map(|(s, _)| s)
                .collect();
            sqlx::query(
                "UPDATE leases SET owner = NULL, expires_at = now() \
                 WHERE owner = $1 AND shard = ANY($2)",
            )
            .bind(replica)
            .bind(&given)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        }
        let need = share - i64::try_from(held.len()).unwrap_or(i64::MAX);
        if need > 0 {
            // Shards nobody holds, or whose holder stopped renewing; one being taken by
            // another replica right now is skipped, not waited for.
            let taken: Vec<(i32, i64)> = sqlx::query_as(
                "UPDATE leases SET owner = $1, epoch = epoch + 1, \
                   expires_at = now() + make_interval(secs => $2) \
                 WHERE shard IN ( \
                   SELECT shard FROM leases \
                   WHERE (owner IS NULL OR expires_at <= now()) AND shard < $4 \
                   ORDER BY shard LIMIT $3 FOR UPDATE SKIP LOCKED) \
                 RETURNING shard, epoch",
            )
            .bind(replica)
            .bind(ttl_s)
            .bind(need)
            .bind(total)
            .fetch_all(&mut *tx)
            .await
            .map_err(db)?;
            if !taken.is_empty() {
                metrics::counter!("souk_lease_moves_total").increment(taken.len() as u64);
            }
            held.extend(taken);
        }
        sqlx::query("DELETE FROM replicas WHERE seen_at < now() - make_interval(secs => $1)")
            .bind(ttl_s * FORGET_AFTER_TTLS)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        let held = leases(held);
        self.scope.hold(&held);
        Ok(held)
    }

    async fn release_leases(&self, replica: &str) -> StoreResult<()> {
        let mut tx = self.pool().begin().await.map_err(db)?;
        sqlx::query(
            "UPDATE leases SET owner = NULL, expires_at = now() WHERE shard IN ( \
               SELECT shard FROM leases WHERE owner = $1 ORDER BY shard FOR UPDATE)",
        )
        .bind(replica)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query("DELETE FROM replicas WHERE id = $1")
            .bind(replica)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        self.scope.hold(&[]);
        Ok(())
    }

    fn shared_by_replicas(&self) -> bool {
        true
    }

    async fn claim_inbox(&self, leases: &[Lease], take: Take) -> StoreResult<Vec<Claimed>> {
        let _timed = super::Timed::start("claim_inbox");
        if leases.is_empty() {
            return Ok(Vec::new());
        }
        let (shards, epochs) = lease_columns(leases);
        if take == Take::Untaken {
            // Never-taken rows are locked only by short transactions (another claim, an
            // ingest taking a conversation's earlier events): one statement, no lock timeout.
            let rows: Vec<(i64, Vec<u8>, i64, Option<i64>)> = sqlx::query_as(
                "WITH taken AS ( \
                   SELECT i.seq, h.epoch FROM inbox i \
                   JOIN unnest($1::int[], $2::bigint[]) AS h(shard, epoch) ON i.shard = h.shard \
                   JOIN leases l ON l.shard = h.shard AND l.epoch = h.epoch \
                     AND l.owner IS NOT NULL AND l.expires_at > now() \
                   WHERE i.claimed IS NULL \
                   ORDER BY i.seq LIMIT $3 \
                   FOR UPDATE OF i) \
                 UPDATE inbox SET claimed = taken.epoch FROM taken \
                 WHERE inbox.seq = taken.seq AND inbox.claimed IS NULL \
                 RETURNING inbox.seq, inbox.record, taken.epoch, NULL::bigint",
            )
            .bind(&shards)
            .bind(&epochs)
            .bind(i64::try_from(crate::store::CLAIM_PAGE).unwrap_or(i64::MAX))
            .fetch_all(self.pool())
            .await
            .map_err(db)?;
            return Ok(claimed_entries(rows));
        }
        let mut tx = self.pool().begin().await.map_err(db)?;
        // A row locked by someone else is waited for, never skipped: skipping a former
        // holder's event its dying transaction still locks would step the next one first.
        // Waiting is bounded; a claim that times out takes nothing and is tried again.
        sqlx::query("SET LOCAL lock_timeout = 1000")
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        // The old claim comes from the locked rows, before the update sets the new one.
        let rows: Vec<(i64, Vec<u8>, i64, Option<i64>)> = sqlx::query_as(
            "WITH taken AS ( \
               SELECT i.seq, i.claimed AS before, h.epoch FROM inbox i \
               JOIN unnest($1::int[], $2::bigint[]) AS h(shard, epoch) ON i.shard = h.shard \
               JOIN leases l ON l.shard = h.shard AND l.epoch = h.epoch \
                 AND l.owner IS NOT NULL AND l.expires_at > now() \
               WHERE i.claimed IS DISTINCT FROM h.epoch \
               ORDER BY i.seq LIMIT $3 \
               FOR UPDATE OF i) \
             UPDATE inbox SET claimed = taken.epoch FROM taken WHERE inbox.seq = taken.seq \
             RETURNING inbox.seq, inbox.record, taken.epoch, taken.before",
        )
        .bind(&shards)
        .bind(&epochs)
        .bind(i64::try_from(crate::store::CLAIM_PAGE).unwrap_or(i64::MAX))
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(claimed_entries(rows))
    }

    async fn outbox_of(&self, shards: &[u32]) -> StoreResult<Vec<OutboxEntry>> {
        let _timed = super::Timed::start("outbox_of");
        let shards: Vec<i32> = shards
            .iter()
            .map(|shard| i32::try_from(*shard).unwrap_or(i32::MAX))
            .collect();
        let rows: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT id, record FROM outbox WHERE shard = ANY($1) ORDER BY id")
                .bind(&shards)
                .fetch_all(self.pool())
                .await
                .map_err(db)?;
        Ok(super::outbox::outbox_entries(rows))
    }

    async fn inbox_depth(&self, shards: &[u32]) -> StoreResult<usize> {
        let shards: Vec<i32> = shards
            .iter()
            .map(|shard| i32::try_from(*shard).unwrap_or(i32::MAX))
            .collect();
        let (depth,): (i64,) = sqlx::query_as("SELECT count(*) FROM inbox WHERE shard = ANY($1)")
            .bind(&shards)
            .fetch_one(self.pool())
            .await
            .map_err(db)?;
        Ok(usize::try_from(depth).unwrap_or(0))
    }

    async fn announce(&self, payload: &str) -> StoreResult<()> {
        let _timed = super::Timed::start("announce");
        super::live::announce(self, payload).await
    }

    async fn listen(&self) -> StoreResult<Option<tokio::sync::mpsc::Receiver<Notice>>> {
        super::live::listen(self).await.map(Some)
    }
}

/// Claimed inbox rows `(seq, record, epoch, claim before)`, decoded, oldest first.
pub(super) fn claimed_entries(rows: Vec<(i64, Vec<u8>, i64, Option<i64>)>) -> Vec<Claimed> {
    let mut claimed: Vec<Claimed> = rows
        .into_iter()
        .filter_map(|(seq, raw, epoch, before)| {
            match crate::store::codec::decode::<InboxEntry>("inbox entry", &raw) {
                Ok(mut entry) => {
                    entry.seq = unbig(seq);
                    entry.claim = Some(unbig(epoch));
                    Some(Claimed {
                        entry,
                        taken_over: before.is_some(),
                    })
                }
                Err(error) => {
                    tracing::error!(%error, seq, "skipping an undecodable inbox entry");
                    None
                }
            }
        })
        .collect();
    claimed.sort_by_key(|claimed| claimed.entry.seq);
    claimed
}

/// Leases as two query parameters: shards and their epochs.
fn lease_columns(leases: &[Lease]) -> (Vec<i32>, Vec<i64>) {
    leases
        .iter()
        .map(|lease| {
            (
                i32::try_from(lease.shard).unwrap_or(i32::MAX),
                i64::try_from(lease.epoch).unwrap_or(i64::MAX),
            )
        })
        .unzip()
}
