//! The outbox on PostgreSQL: pending sends, what the platforms accepted (`sent`), delivery
//! statuses and dead letters. The `id` columns are the truth for a send's id: a commit
//! encodes its record before the database numbers the row, so every read takes the id from
//! the column, never from the record.

use flows::{Channel, Timestamp};

use super::{PgStore, big, db, decode_rows, unbig};
use crate::store::codec::{decode, encode};
use crate::store::records::{DeadLetter, DeliveryRecord, OutboxEntry, SentRecord};
use crate::store::{Outbox, StoreResult};

/// Decodes an outbox row, numbered from its `id` column.
fn outbox_entry(id: i64, raw: &[u8]) -> StoreResult<OutboxEntry> {
    let mut entry: OutboxEntry = decode("outbox entry", raw)?;
    entry.id = unbig(id);
    Ok(entry)
}

/// Decodes outbox rows `(id, record)`, skipping (and logging) any that no longer decode.
pub(super) fn outbox_entries(rows: Vec<(i64, Vec<u8>)>) -> Vec<OutboxEntry> {
    decode_listed("outbox entry", rows, outbox_entry)
}

/// Decodes a dead letter row; its send is numbered from the `id` column (the record may
/// hold a send encoded before its id was known).
fn dead_letter(id: i64, raw: &[u8]) -> StoreResult<DeadLetter> {
    let mut letter: DeadLetter = decode("dead letter", raw)?;
    letter.entry.id = unbig(id);
    Ok(letter)
}

/// Decodes rows of a list, skipping (and logging) one that no longer decodes rather than
/// wedging the list it sits in, as the embedded store does.
fn decode_listed<T>(
    what: &'static str,
    rows: Vec<(i64, Vec<u8>)>,
    decode_one: impl Fn(i64, &[u8]) -> StoreResult<T>,
) -> Vec<T> {
    rows.into_iter()
        .filter_map(|(id, raw)| match decode_one(id, &raw) {
            Ok(value) => Some(value),
            Err(error) => {
                tracing::error!(%error, id, "skipping an undecodable {what}");
                None
            }
        })
        .collect()
}

/// A count or limit as PostgreSQL's bigint, and back.
fn limit(n: usize) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn count(n: i64) -> usize {
    usize::try_from(n).unwrap_or(0)
}

#[async_trait::async_trait]
impl Outbox for PgStore {
    async fn outbox(&self, limit_to: usize) -> StoreResult<Vec<OutboxEntry>> {
        // Ids come from one sequence in commit order of their `nextval`: id order is
        // creation order, which per customer is reply order. An undecodable row counts
        // against the limit here (sled skips it first); it is logged either way.
        let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT id, record FROM outbox WHERE ($2::int[] IS NULL OR shard = ANY($2)) \
             ORDER BY id LIMIT $1",
        )
        .bind(limit(limit_to))
        .bind(self.scope.shards())
        .fetch_all(self.pool())
        .await
        .map_err(db)?;
        Ok(outbox_entries(rows))
    }

    async fn outbox_entry(&self, id: u64) -> StoreResult<Option<OutboxEntry>> {
        let row: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT id, record FROM outbox WHERE id = $1")
                .bind(big(id))
                .fetch_optional(self.pool())
                .await
                .map_err(db)?;
        row.map(|(id, raw)| outbox_entry(id, &raw)).transpose()
    }

    async fn outbox_depth(&self) -> StoreResult<usize> {
        let (depth,): (i64,) = sqlx::query_as("SELECT count(*) FROM outbox")
            .fetch_one(self.pool())
            .await
            .map_err(db)?;
        Ok(count(depth))
    }

    async fn outbox_reschedule(&self, entry: &OutboxEntry) -> StoreResult<()> {
        // An UPDATE, not an upsert: a send delivered or dead-lettered meanwhile (by this
        // replica or another) must not come back.
        sqlx::query("UPDATE outbox SET record = $2 WHERE id = $1")
            .bind(big(entry.id))
            .bind(encode(entry))
            .execute(self.pool())
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn outbox_dead(
        &self,
        entry: OutboxEntry,
        reason: String,
        now: Timestamp,
    ) -> StoreResult<()> {
        let id = big(entry.id);
        let letter = DeadLetter {
            entry,
            reason,
            failed_at: now,
        };
        // One transaction: the send is either pending or dead, never both nor neither.
        let mut tx = self.pool().begin().await.map_err(db)?;
        let pending = sqlx::query("DELETE FROM outbox WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        // Only a send still pending becomes a dead letter (an erased customer's are gone).
        if pending.rows_affected() == 0 {
            return Ok(());
        }
        // sled overwrites a dead letter of the same id; so does this.
        sqlx::query(
            "INSERT INTO dead_letters (id, record) VALUES ($1, $2) \
             ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record",
        )
        .bind(id)
        .bind(encode(&letter))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)
    }

    async fn dead_letters(&self) -> StoreResult<Vec<DeadLetter>> {
        let rows: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT id, record FROM dead_letters ORDER BY id")
                .fetch_all(self.pool())
                .await
                .map_err(db)?;
        Ok(decode_listed("dead letter", rows, dead_letter))
    }

    async fn recent_dead_letters(&self, limit_to: usize) -> StoreResult<(usize, Vec<DeadLetter>)> {
        // Ids are outbox ids, which grow: the newest are the highest.
        let rows: Vec<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT id, record FROM dead_letters ORDER BY id DESC LIMIT $1")
                .bind(limit(limit_to))
                .fetch_all(self.pool())
                .await
                .map_err(db)?;
        let (total,): (i64,) = sqlx::query_as("SELECT count(*) FROM dead_letters")
            .fetch_one(self.pool())
            .await
            .map_err(db)?;
        Ok((
            count(total),
            decode_listed("dead letter", rows, dead_letter),
        ))
    }

    async fn revive_dead_letter(
        &self,
        outbox_id: u64,
        now: Timestamp,
    ) -> StoreResult<Option<OutboxEntry>> {
        let mut tx = self.pool().begin().await.map_err(db)?;
        // Deleting first locks the row: two admins reviving at once revive it once (the
        // second waits, then deletes nothing).
        let row: Option<(i64, Vec<u8>)> =
            sqlx::query_as("DELETE FROM dead_letters WHERE id = $1 RETURNING id, record")
                .bind(big(outbox_id))
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
        let Some((id, raw)) = row else {
            return Ok(None);
        };
        // An undecodable letter returns the error; dropping `tx` rolls the delete back.
        let letter = dead_letter(id, &raw)?;
        // A fresh round of tries; parts already accepted by the platform stay sent.
        let mut entry = letter.entry;
        entry.attempts = 0;
        entry.next_attempt_at = now;
        entry.last_error = None;
        // Back under its old id (an explicit value for the identity column): its sent
        // records and history point at that id. The sequence is past it already, so no
        // new send can collide with it.
        sqlx::query(
            "INSERT INTO outbox (id, customer, record, shard) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (id) DO UPDATE SET customer = EXCLUDED.customer, \
             record = EXCLUDED.record, shard = EXCLUDED.shard",
        )
        .bind(id)
        .bind(&entry.customer.0)
        .bind(encode(&entry))
        .bind(super::shard_column(&entry.customer))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(Some(entry))
    }

    async fn record_delivery(
        &self,
        dedup_key: &str,
        record: &DeliveryRecord,
        received_at: Timestamp,
    ) -> StoreResult<bool> {
        // The dedup mark and the status land together or not at all. A concurrent copy of
        // the same status waits on the first one's uncommitted key, then inserts nothing.
        let mut tx = self.pool().begin().await.map_err(db)?;
        let marked = sqlx::query(
            "INSERT INTO processed (dedup_key, seen_at) VALUES ($1, $2) \
             ON CONFLICT (dedup_key) DO NOTHING",
        )
        .bind(dedup_key)
        .bind(received_at.millis())
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
        if marked == 0 {
            // A duplicate: nothing was written; dropping `tx` ends it.
            return Ok(false);
        }
        sqlx::query("INSERT INTO deliveries (channel, platform_id, record) VALUES ($1, $2, $3)")
            .bind(record.channel.name())
            .bind(&record.platform_id)
            .bind(encode(record))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn deliveries(
        &self,
        channel: Channel,
        platform_id: &str,
    ) -> StoreResult<Vec<DeliveryRecord>> {
        // In arrival order, as sled's generated ids keep them.
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
            "SELECT record FROM deliveries WHERE channel = $1 AND platform_id = $2 ORDER BY id",
        )
        .bind(channel.name())
        .bind(platform_id)
        .fetch_all(self.pool())
        .await
        .map_err(db)?;
        Ok(decode_rows("delivery", rows.into_iter().map(|(raw,)| raw)))
    }

    async fn sent_for(&self, outbox_id: u64) -> StoreResult<Vec<SentRecord>> {
        // Byte order of channel then platform id (the "C" collation), as sled's platform
        // keys sort, whatever the database's default collation.
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
            "SELECT record FROM sent WHERE outbox_id = $1 \
             ORDER BY channel COLLATE \"C\", platform_id COLLATE \"C\"",
        )
        .bind(big(outbox_id))
        .fetch_all(self.pool())
        .await
        .map_err(db)?;
        Ok(decode_rows(
            "sent record",
            rows.into_iter().map(|(raw,)| raw),
        ))
    }

    async fn dead_letter(&self, outbox_id: u64) -> StoreResult<Option<DeadLetter>> {
        let row: Option<(i64, Vec<u8>)> =
            sqlx::query_as("SELECT id, record FROM dead_letters WHERE id = $1")
                .bind(big(outbox_id))
                .fetch_optional(self.pool())
                .await
                .map_err(db)?;
        row.map(|(id, raw)| dead_letter(id, &raw)).transpose()
    }
}
