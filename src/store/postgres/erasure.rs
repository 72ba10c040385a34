//! Erasure and retention in the database (`migrations/0005_erasure.sql`): one transaction
//! takes out every row of the customers the plan names. Tables without a customer column
//! (set-aside events, dead letters, link codes) are read and filtered by their records;
//! they are small.

use flows::{CustomerId, Timestamp};
use sqlx::{Postgres, Transaction};

use super::{PgStore, big, db, decode_opt, decode_rows, identity_text};
use crate::store::codec::{decode, encode};
use crate::store::erasure_records::{ErasurePlan, ErasureRecord};
use crate::store::linking::LinkCode;
use crate::store::records::{DeadLetter, OutboxEntry, SetAside};
use crate::store::{Erasure, StoreResult};

#[async_trait::async_trait]
impl Erasure for PgStore {
    async fn erase(&self, plan: &ErasurePlan) -> StoreResult<Option<OutboxEntry>> {
        let _timed = super::Timed::start("erase");
        let mut tx = self.pool().begin().await.map_err(db)?;
        let created = erase_in(&mut tx, plan).await?;
        tx.commit().await.map_err(db)?;
        Ok(created)
    }

    async fn erasure(&self, customer: &CustomerId) -> StoreResult<Option<ErasureRecord>> {
        let raw: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT record FROM erasures WHERE customer = $1")
                .bind(&customer.0)
                .fetch_optional(self.pool())
                .await
                .map_err(db)?;
        decode_opt("erasure", raw.map(|(raw,)| raw))
    }

    async fn identity_erased(&self, digest: &str) -> StoreResult<Option<Timestamp>> {
        let at: Option<(i64,)> =
            sqlx::query_as("SELECT erased_at FROM erased_identities WHERE digest = $1")
                .bind(digest)
                .fetch_optional(self.pool())
                .await
                .map_err(db)?;
        Ok(at.map(|(at,)| Timestamp(at)))
    }

    async fn erasures_since(&self, since: Timestamp) -> StoreResult<Vec<ErasureRecord>> {
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
            "SELECT record FROM erasures WHERE erased_at >= $1 AND customer = asked_for \
             ORDER BY erased_at, customer",
        )
        .bind(since.millis())
        .fetch_all(self.pool())
        .await
        .map_err(db)?;
        Ok(decode_rows("erasure", rows.into_iter().map(|(raw,)| raw)))
    }

    async fn digest_key(&self) -> StoreResult<Vec<u8>> {
        let fresh = crate::clock::random_hex_128().into_bytes();
        // The first replica to ask makes it; the rest read the same.
        sqlx::query("INSERT INTO privacy_key (key) VALUES ($1) ON CONFLICT DO NOTHING")
            .bind(fresh)
            .execute(self.pool())
            .await
            .map_err(db)?;
        let (key,): (Vec<u8>,) = sqlx::query_as("SELECT key FROM privacy_key")
            .fetch_one(self.pool())
            .await
            .map_err(db)?;
        Ok(key)
    }

    async fn prune_history(&self, before: Timestamp) -> StoreResult<usize> {
        let pruned = self.prune_history_records(before).await?;
        // What became of the messages goes with them: platform ids and delivery statuses.
        self.prune_sent(before).await?;
        Ok(pruned)
    }

    async fn prune_orders(&self, before: Timestamp) -> StoreResult<usize> {
        self.prune_order_records(before).await
    }
}

impl PgStore {
    async fn prune_sent(&self, before: Timestamp) -> StoreResult<()> {
        let sent: Vec<(String, String, Vec<u8>)> =
            sqlx::query_as("SELECT channel, platform_id, record FROM sent")
                .fetch_all(self.pool())
                .await
                .map_err(db)?;
        let (mut channels, mut ids) = (Vec::new(), Vec::new());
        for (channel, platform_id, raw) in sent {
            if decode::<crate::store::SentRecord>("sent record", &raw).is_ok_and(|r| r.at < before)
            {
                channels.push(channel);
                ids.push(platform_id);
            }
        }
        if !ids.is_empty() {
            sqlx::query(
                "DELETE FROM sent WHERE (channel, platform_id) IN \
                 (SELECT * FROM UNNEST($1::text[], $2::text[]))",
            )
            .bind(&channels)
            .bind(&ids)
            .execute(self.pool())
            .await
            .map_err(db)?;
        }
        let deliveries: Vec<(i64, Vec<u8>)> = sqlx::query_as("SELECT id, record FROM deliveries")
            .fetch_all(self.pool())
            .await
            .map_err(db)?;
        let old: Vec<i64> = deliveries
            .into_iter()
            .filter(|(_, raw)| {
                decode::<crate::store::DeliveryRecord>("delivery", raw).is_ok_and(|r| r.at < before)
            })
            .map(|(id, _)| id)
            .collect();
        if !old.is_empty() {
            sqlx::query("DELETE FROM deliveries WHERE id = ANY($1)")
                .bind(&old)
                .execute(self.pool())
                .await
                .map_err(db)?;
        }
        Ok(())
    }

    async fn prune_history_records(&self, before: Timestamp) -> StoreResult<usize> {
        // Records carry their times inside: read them a page at a time, in id order.
        let mut pruned = 0;
        let mut after = 0_i64;
        loop {
            let rows: Vec<(i64, Vec<u8>)> = sqlx::query_as(
                "SELECT id, record FROM history WHERE id > $1 ORDER BY id LIMIT 1000",
            )
            .bind(after)
            .fetch_all(self.pool())
            .await
            .map_err(db)?;
            let Some((last, _)) = rows.last() else {
                return Ok(pruned);
            };
            after = *last;
            let old: Vec<i64> = rows
                .iter()
                .filter(|(_, raw)| {
                    crate::store::history_chunk::decode_chunk(raw).is_ok_and(|entries| {
                        entries
                            .iter()
                            .map(crate::store::HistoryEntry::at)
                            .max()
                            .is_some_and(|at| at < before)
                    })
                })
                .map(|(id, _)| *id)
                .collect();
            if !old.is_empty() {
                let done = sqlx::query("DELETE FROM history WHERE id = ANY($1)")
                    .bind(&old)
                    .execute(self.pool())
                    .await
                    .map_err(db)?;
                pruned += usize::try_from(done.rows_affected()).unwrap_or(0);
            }
        }
    }

    async fn prune_order_records(&self, before: Timestamp) -> StoreResult<usize> {
        let rows: Vec<(String, Vec<u8>)> = sqlx::query_as("SELECT id, record FROM orders")
            .fetch_all(self.pool())
            .await
            .map_err(db)?;
        let old: Vec<String> = rows
            .into_iter()
            .filter(|(_, raw)| {
                decode::<flows::Order>("order", raw).is_ok_and(|order| order.placed_at < before)
            })
            .map(|(id, _)| id)
            .collect();
        if old.is_empty() {
            return Ok(0);
        }
        let mut tx = self.pool().begin().await.map_err(db)?;
        sqlx::query("DELETE FROM payment_jobs WHERE order_id = ANY($1)")
            .bind(&old)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let done = sqlx::query("DELETE FROM orders WHERE id = ANY($1)")
            .bind(&old)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(usize::try_from(done.rows_affected()).unwrap_or(0))
    }
}

async fn run(
    tx: &mut Transaction<'_, Postgres>,
    sql: &'static str,
    ids: &[String],
) -> StoreResult<()> {
    sqlx::query(sql)
        .bind(ids)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    Ok(())
}

async fn erase_in(
    tx: &mut Transaction<'_, Postgres>,
    plan: &ErasurePlan,
) -> StoreResult<Option<OutboxEntry>> {
    let ids: Vec<String> = plan.customers.iter().map(|c| c.0.clone()).collect();
    let identities: Vec<String> = plan.identities.iter().map(identity_text).collect();
    let web_sessions: Vec<String> = plan
        .identities
        .iter()
        .filter(|identity| identity.channel == flows::Channel::WebChat)
        .map(|identity| identity.external_id.clone())
        .collect();
    for sql in [
        "DELETE FROM customers WHERE id = ANY($1)",
        "DELETE FROM identities WHERE customer = ANY($1)",
        "DELETE FROM conversations WHERE customer = ANY($1)",
        "DELETE FROM history WHERE customer = ANY($1)",
        "DELETE FROM summaries WHERE customer = ANY($1)",
        "DELETE FROM timers WHERE customer = ANY($1)",
        "DELETE FROM merges WHERE into_customer = ANY($1) OR from_customer = ANY($1)",
        "DELETE FROM step_attempts WHERE seq IN (SELECT seq FROM inbox WHERE customer = ANY($1))",
        "DELETE FROM inbox WHERE customer = ANY($1)",
    ] {
        run(tx, sql, &ids).await?;
    }
    run(
        tx,
        "DELETE FROM identities WHERE identity = ANY($1)",
        &identities,
    )
    .await?;
    run(
        tx,
        "DELETE FROM blocked WHERE identity = ANY($1)",
        &identities,
    )
    .await?;
    run(
        tx,
        "DELETE FROM pending_sessions WHERE digest = ANY($1)",
        &web_sessions,
    )
    .await?;
    run(
        tx,
        "DELETE FROM processed WHERE dedup_key = ANY($1)",
        &plan.dedup_keys,
    )
    .await?;

    let theirs = |customer: &CustomerId| plan.customers.contains(customer);
    // Link codes, set-aside events and dead letters keep their customer inside the record.
    let codes: Vec<(String, Vec<u8>)> = sqlx::query_as("SELECT code, record FROM link_codes")
        .fetch_all(&mut **tx)
        .await
        .map_err(db)?;
    let codes: Vec<String> = codes
        .into_iter()
        .filter(|(_, raw)| decode::<LinkCode>("link code", raw).is_ok_and(|c| theirs(&c.customer)))
        .map(|(code, _)| code)
        .collect();
    run(tx, "DELETE FROM link_codes WHERE code = ANY($1)", &codes).await?;
    let aside: Vec<(i64, Vec<u8>)> = sqlx::query_as("SELECT seq, record FROM set_aside")
        .fetch_all(&mut **tx)
        .await
        .map_err(db)?;
    let aside: Vec<i64> = aside
        .into_iter()
        .filter(|(_, raw)| {
            decode::<SetAside>("set-aside event", raw).is_ok_and(|a| theirs(&a.entry.customer))
        })
        .map(|(seq, _)| seq)
        .collect();
    for sql in [
        "DELETE FROM set_aside WHERE seq = ANY($1)",
        "DELETE FROM step_attempts WHERE seq = ANY($1)",
    ] {
        sqlx::query(sql)
            .bind(&aside)
            .execute(&mut **tx)
            .await
            .map_err(db)?;
    }
    let mut sends: Vec<i64> = plan.outbox_ids.iter().map(|id| super::big(*id)).collect();
    let pending: Vec<(i64, Vec<u8>)> =
        sqlx::query_as("SELECT id, record FROM outbox WHERE customer = ANY($1)")
            .bind(&ids)
            .fetch_all(&mut **tx)
            .await
            .map_err(db)?;
    let pending: Vec<i64> = pending
        .into_iter()
        .filter(|(_, raw)| {
            // The last message stays until it is sent (a sweep must not take it).
            decode::<OutboxEntry>("outbox entry", raw).map_or(true, |entry| {
                entry.reply.text.key != flows::TextKey::ErasureDone
            })
        })
        .map(|(id, _)| id)
        .collect();
    sends.extend(&pending);
    let dead: Vec<(i64, Vec<u8>)> = sqlx::query_as("SELECT id, record FROM dead_letters")
        .fetch_all(&mut **tx)
        .await
        .map_err(db)?;
    let dead: Vec<i64> = dead
        .into_iter()
        .filter(|(_, raw)| {
            decode::<DeadLetter>("dead letter", raw).is_ok_and(|d| theirs(&d.entry.customer))
        })
        .map(|(id, _)| id)
        .collect();
    sends.extend(&dead);
    for (sql, rows) in [
        ("DELETE FROM outbox WHERE id = ANY($1)", &pending),
        ("DELETE FROM dead_letters WHERE id = ANY($1)", &dead),
        (
            "DELETE FROM deliveries d USING sent s WHERE s.outbox_id = ANY($1) \
             AND d.channel = s.channel AND d.platform_id = s.platform_id",
            &sends,
        ),
        ("DELETE FROM sent WHERE outbox_id = ANY($1)", &sends),
    ] {
        sqlx::query(sql)
            .bind(rows)
            .execute(&mut **tx)
            .await
            .map_err(db)?;
    }

    let drop_orders: Vec<String> = plan.drop_orders.iter().map(|o| o.0.clone()).collect();
    run(
        tx,
        "DELETE FROM payment_jobs WHERE order_id = ANY($1)",
        &drop_orders,
    )
    .await?;
    run(tx, "DELETE FROM orders WHERE id = ANY($1)", &drop_orders).await?;
    for order in &plan.keep_orders {
        sqlx::query("UPDATE orders SET record = $2 WHERE id = $1")
            .bind(&order.id.0)
            .bind(encode(order))
            .execute(&mut **tx)
            .await
            .map_err(db)?;
    }
    let drop_bookings: Vec<String> = plan.drop_bookings.iter().map(|b| b.0.clone()).collect();
    run(
        tx,
        "DELETE FROM bookings WHERE id = ANY($1)",
        &drop_bookings,
    )
    .await?;
    for booking in &plan.keep_bookings {
        sqlx::query("UPDATE bookings SET record = $2, token = NULL WHERE id = $1")
            .bind(&booking.id.0)
            .bind(encode(booking))
            .execute(&mut **tx)
            .await
            .map_err(db)?;
    }

    let record = encode(&plan.record);
    for customer in &plan.customers {
        sqlx::query(
            "INSERT INTO erasures (customer, erased_at, asked_for, record) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (customer) DO UPDATE SET erased_at = EXCLUDED.erased_at, \
             asked_for = EXCLUDED.asked_for, record = EXCLUDED.record",
        )
        .bind(&customer.0)
        .bind(plan.record.at.millis())
        .bind(&plan.record.customer.0)
        .bind(&record)
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    }
    for digest in &plan.record.identity_digests {
        sqlx::query(
            "INSERT INTO erased_identities (digest, erased_at) VALUES ($1, $2) \
             ON CONFLICT (digest) DO UPDATE SET erased_at = EXCLUDED.erased_at",
        )
        .bind(digest)
        .bind(plan.record.at.millis())
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    }

    let Some(send) = &plan.last_message else {
        return Ok(None);
    };
    let (id,): (i64,) = sqlx::query_as("SELECT nextval(pg_get_serial_sequence('outbox', 'id'))")
        .fetch_one(&mut **tx)
        .await
        .map_err(db)?;
    let entry = send.entry(super::unbig(id), &plan.record.customer, plan.record.at);
    sqlx::query("INSERT INTO outbox (id, customer, record, shard) VALUES ($1, $2, $3, $4)")
        .bind(id)
        .bind(&entry.customer.0)
        .bind(encode(&entry))
        .bind(super::shard_column(&entry.customer))
        .execute(&mut **tx)
        .await
        .map_err(db)?;
    let _ = big;
    Ok(Some(entry))
}
