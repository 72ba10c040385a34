//! Keeping the store healthy on PostgreSQL: most of it is the server's own job (caching,
//! durability, vacuum); what is left is pruning dedup keys and reporting the size.

use flows::Timestamp;

use super::{PgStore, db, unbig};
use crate::store::{Maintenance, StoreResult};

#[async_trait::async_trait]
impl Maintenance for PgStore {
    async fn warm_timers(
        &self,
        from: Timestamp,
        until: Timestamp,
        limit: usize,
    ) -> StoreResult<usize> {
        // One query reads the conversations and rows the burst's steps will read, so their
        // pages are in the server's buffers when it comes.
        let (warmed,): (i64,) = sqlx::query_as(
            "SELECT count(*) FROM ( \
               SELECT customer FROM timers WHERE due >= $1 AND due < $2 \
               ORDER BY due LIMIT $3) due \
             LEFT JOIN conversations c USING (customer) \
             LEFT JOIN summaries s USING (customer)",
        )
        .bind(from.millis())
        .bind(until.millis())
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_one(self.pool())
        .await
        .map_err(db)?;
        Ok(usize::try_from(warmed).unwrap_or(0))
    }

    async fn prune_processed(&self, before: Timestamp) -> StoreResult<usize> {
        // `seen_at` is indexed: one range delete, whatever the number of keys kept.
        let pruned = sqlx::query("DELETE FROM processed WHERE seen_at < $1")
            .bind(before.millis())
            .execute(self.pool())
            .await
            .map_err(db)?
            .rows_affected();
        Ok(usize::try_from(pruned).unwrap_or(usize::MAX))
    }

    async fn flush(&self) -> StoreResult<()> {
        // Every commit is durable when it returns (the server's WAL is flushed at commit):
        // nothing is left to flush.
        Ok(())
    }

    /// As configured: rounds overlap their round trips; the rest of the pool stays free
    /// for the reads of the console, the workers and the lease loop.
    fn concurrent_writes(&self) -> usize {
        self.writers
    }

    /// False while the database does not answer (see `probe` in mod.rs).
    fn healthy(&self) -> bool {
        !self.broken.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The database answers again: ready. The pool reconnects by itself; the shell then
    /// re-drives the events whose commits failed meanwhile.
    async fn recover(&self) -> StoreResult<bool> {
        if Self::answers(self.pool(), std::time::Duration::from_secs(2))
            .await
            .is_err()
        {
            return Ok(false);
        }
        self.broken
            .store(false, std::sync::atomic::Ordering::Release);
        tracing::info!("the database answers again");
        Ok(true)
    }

    async fn size_on_disk(&self) -> StoreResult<u64> {
        // The tables of souk's schema with their indexes and TOAST data (`relkind = 'r'`:
        // `pg_total_relation_size` already counts what belongs to each table).
        let (bytes,): (i64,) = sqlx::query_as(
            "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0)::bigint \
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace \
             WHERE n.nspname = current_schema() AND c.relkind = 'r'",
        )
        .fetch_one(self.pool())
        .await
        .map_err(db)?;
        Ok(unbig(bytes))
    }
}
