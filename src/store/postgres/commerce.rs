//! Orders, payment-link jobs, pay tokens, payment sessions and stock counts on PostgreSQL.
//! Orders and jobs are written by steps (`commit_log.rs`); this role reads them, keeps the
//! jobs' retry state and resets the stock counts when the catalog changes.

use std::collections::BTreeMap;

use flows::{Order, OrderId, Sku};

use super::{PgStore, db, decode_opt, decode_rows};
use crate::store::codec::{decode, encode};
use crate::store::records::{PaymentJob, PaymentSession};
use crate::store::{Commerce, StoreResult};

/// A stored count (never negative, never past `u32` as the core counts) as the core's.
fn units(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(if n < 0 { 0 } else { u32::MAX })
}

/// Saves a payment-link job; an upsert, as sled's insert: a rescheduled job keeps its place
/// in the queue.
pub(super) async fn put_payment_job(
    connection: &mut sqlx::PgConnection,
    job: &PaymentJob,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO payment_jobs (order_id, attempt, record, shard) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (order_id, attempt) DO UPDATE SET record = EXCLUDED.record",
    )
    .bind(&job.order.0)
    .bind(i64::from(job.attempt))
    .bind(encode(job))
    .bind(super::shard_column(&job.customer))
    .execute(connection)
    .await
    .map_err(db)?;
    Ok(())
}

#[async_trait::async_trait]
impl Commerce for PgStore {
    async fn order(&self, id: &OrderId) -> StoreResult<Option<Order>> {
        let raw: Option<(Vec<u8>,)> = sqlx::query_as("SELECT record FROM orders WHERE id = $1")
            .bind(&id.0)
            .fetch_optional(self.pool())
            .await
            .map_err(db)?;
        decode_opt("order", raw.map(|(raw,)| raw))
    }

    async fn orders(&self) -> StoreResult<Vec<Order>> {
        // Id order in bytes (the "C" collation), as sled's keys sort.
        let rows: Vec<(Vec<u8>,)> =
            sqlx::query_as("SELECT record FROM orders ORDER BY id COLLATE \"C\"")
                .fetch_all(self.pool())
                .await
                .map_err(db)?;
        Ok(decode_rows("order", rows.into_iter().map(|(raw,)| raw)))
    }

    async fn payment_jobs(&self) -> StoreResult<Vec<PaymentJob>> {
        // `created` numbers jobs as they are first written (an update keeps it): oldest
        // first.
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
            "SELECT record FROM payment_jobs WHERE ($1::int[] IS NULL OR shard = ANY($1)) \
             ORDER BY created",
        )
        .bind(self.scope.shards())
        .fetch_all(self.pool())
        .await
        .map_err(db)?;
        Ok(decode_rows(
            "payment job",
            rows.into_iter().map(|(raw,)| raw),
        ))
    }

    async fn payment_job_reschedule(&self, job: &PaymentJob) -> StoreResult<()> {
        let mut connection = self.pool().acquire().await.map_err(db)?;
        put_payment_job(&mut connection, job).await
    }

    async fn payment_job_done(&self, job: &PaymentJob) -> StoreResult<()> {
        sqlx::query("DELETE FROM payment_jobs WHERE order_id = $1 AND attempt = $2")
            .bind(&job.order.0)
            .bind(i64::from(job.attempt))
            .execute(self.pool())
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn put_pay_token(&self, digest: &[u8], order: &OrderId) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO pay_tokens (digest, order_id) VALUES ($1, $2) \
             ON CONFLICT (digest) DO UPDATE SET order_id = EXCLUDED.order_id",
        )
        .bind(digest)
        .bind(&order.0)
        .execute(self.pool())
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn pay_token(&self, digest: &[u8]) -> StoreResult<Option<OrderId>> {
        let order: Option<(String,)> =
            sqlx::query_as("SELECT order_id FROM pay_tokens WHERE digest = $1")
                .bind(digest)
                .fetch_optional(self.pool())
                .await
                .map_err(db)?;
        Ok(order.map(|(id,)| OrderId(id)))
    }

    async fn put_payment_session(&self, id: &str, session: &PaymentSession) -> StoreResult<()> {
        // One row carries the session and its order's index: the index never names a
        // session that is not there.
        sqlx::query(
            "INSERT INTO payment_sessions (id, order_id, created_at, record) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET order_id = EXCLUDED.order_id, \
             created_at = EXCLUDED.created_at, record = EXCLUDED.record",
        )
        .bind(id)
        .bind(&session.order.0)
        .bind(session.created_at.millis())
        .bind(encode(session))
        .execute(self.pool())
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn payment_session(&self, id: &str) -> StoreResult<Option<PaymentSession>> {
        let raw: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT record FROM payment_sessions WHERE id = $1")
                .bind(id)
                .fetch_optional(self.pool())
                .await
                .map_err(db)?;
        decode_opt("payment session", raw.map(|(raw,)| raw))
    }

    async fn payment_sessions_of(
        &self,
        order: &OrderId,
    ) -> StoreResult<Vec<(String, PaymentSession)>> {
        // Oldest first; sessions made in the same millisecond in id order, as sled's stable
        // sort of its id-ordered index leaves them.
        let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
            "SELECT id, record FROM payment_sessions WHERE order_id = $1 \
             ORDER BY created_at, id COLLATE \"C\"",
        )
        .bind(&order.0)
        .fetch_all(self.pool())
        .await
        .map_err(db)?;
        // An unreadable session fails the call, as sled's lookup of it does: the caller
        // decides about payments with this list and must not miss one silently.
        rows.into_iter()
            .map(|(id, raw)| -> StoreResult<(String, PaymentSession)> {
                Ok((id, decode("payment session", &raw)?))
            })
            .collect()
    }

    async fn stock_sold(&self, base: &str, levels: &[(Sku, u32)]) -> StoreResult<Vec<(Sku, u32)>> {
        // The common case, every start with the same catalog: one read, no lock.
        let known: Option<(String,)> = sqlx::query_as("SELECT base FROM stock_base")
            .fetch_optional(self.pool())
            .await
            .map_err(db)?;
        if known.is_some_and(|(known,)| known == base) {
            return sold_counts(self.pool()).await;
        }
        // A new catalog. Replicas starting together may all get here: the base row's lock
        // lets one reset the counts; the others then find the new base and read them.
        let mut tx = self.pool().begin().await.map_err(db)?;
        let mut locked: Option<(String,)> =
            sqlx::query_as("SELECT base FROM stock_base FOR UPDATE")
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
        if locked.is_none() {
            // No row to lock yet: create it. Two replicas inserting at once conflict on the
            // single-row key; the second waits for the first to commit and then inserts
            // nothing, so it locks the first one's row instead.
            let inserted = sqlx::query(
                "INSERT INTO stock_base (only_row, base) VALUES (true, $1) \
                 ON CONFLICT (only_row) DO NOTHING",
            )
            .bind(base)
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
            if inserted == 0 {
                locked = sqlx::query_as("SELECT base FROM stock_base FOR UPDATE")
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db)?;
            }
        }
        if locked.as_ref().is_some_and(|(known,)| known == base) {
            // Another replica reset the counts for this catalog while we waited.
            let sold = sold_counts(&mut *tx).await?;
            tx.commit().await.map_err(db)?;
            return Ok(sold);
        }
        // The catalog's numbers are the new truth and the count starts again. The delete
        // waits for payments counting units right now (they lock their SKUs' rows).
        sqlx::query("DELETE FROM stock")
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        // A SKU listed twice keeps its last level, as sled's batch of inserts does; one
        // statement for the whole catalog.
        let levels: BTreeMap<&str, i64> = levels
            .iter()
            .map(|(sku, level)| (sku.0.as_str(), i64::from(*level)))
            .collect();
        let (skus, counts): (Vec<&str>, Vec<i64>) = levels.into_iter().unzip();
        sqlx::query(
            "INSERT INTO stock (sku, sold, level) \
             SELECT sku, 0, level FROM unnest($1::text[], $2::bigint[]) AS l(sku, level)",
        )
        .bind(&skus)
        .bind(&counts)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query("UPDATE stock_base SET base = $1")
            .bind(base)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(Vec::new())
    }
}

/// Units sold per SKU since the current base. A row exists for every SKU of the catalog
/// (its level) or that a payment counted; sled keeps a sold count only once a payment
/// counted units, so only rows with some are returned. In SKU byte order, as sled's keys.
async fn sold_counts<'c>(executor: impl sqlx::PgExecutor<'c>) -> StoreResult<Vec<(Sku, u32)>> {
    let rows: Vec<(String, i64)> =
        sqlx::query_as("SELECT sku, sold FROM stock WHERE sold > 0 ORDER BY sku COLLATE \"C\"")
            .fetch_all(executor)
            .await
            .map_err(db)?;
    Ok(rows
        .into_iter()
        .map(|(sku, sold)| (Sku(sku), units(sold)))
        .collect())
}
