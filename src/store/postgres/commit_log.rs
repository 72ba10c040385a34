//! The commit log and timers on PostgreSQL: a group of ingests, steps and accepted sends is
//! one transaction, as in sled (written in `group_write.rs`). Dedup is the primary key of `processed`; a timer slot is the
//! primary key `(customer, kind)`; due timers are claimed with `FOR UPDATE SKIP LOCKED`, so
//! replicas firing at once never fire one twice.

use std::collections::HashMap;

use flows::{CustomerId, Event, Order, Sku, Timestamp};
use sqlx::PgConnection;

use super::{PgStore, big, db, decode_opt, decode_rows, shard_column, unbig};
use crate::store::codec::{decode, encode};
use crate::store::records::{
    GroupWritten, HistoryEntry, InboxEntry, OrderUpdate, SetAside, StepCommit, TimerEntry,
    WriteGroup,
};
use crate::store::{CommitLog, StoreResult, Timers};

/// Inserts an event in the inbox; the inbox's `seq` column numbers it (the record keeps 0:
/// readers take the column), or `seq` when it comes back under its old number. An event
/// not claimed by this replica is announced to its shard's holder.
pub(super) async fn put_inbox(
    connection: &mut PgConnection,
    mut entry: InboxEntry,
    seq: Option<u64>,
) -> StoreResult<InboxEntry> {
    let shard = shard_column(&entry.customer);
    let (seq,): (i64,) = sqlx::query_as(
        "INSERT INTO inbox (seq, customer, record, shard, claimed) \
         VALUES (coalesce($1, nextval(pg_get_serial_sequence('inbox', 'seq'))), $2, $3, $4, $5) \
         RETURNING seq",
    )
    .bind(seq.map(big))
    .bind(&entry.customer.0)
    .bind(encode(&entry))
    .bind(shard)
    .bind(entry.claim.map(big))
    .fetch_one(&mut *connection)
    .await
    .map_err(db)?;
    if entry.claim.is_none() {
        super::live::notify_inbox(connection, &[shard]).await?;
    }
    entry.seq = unbig(seq);
    Ok(entry)
}

/// Decodes inbox rows `(seq, record)`, numbering each from its column.
fn inbox_entries(rows: Vec<(i64, Vec<u8>)>) -> Vec<InboxEntry> {
    rows.into_iter()
        .filter_map(
            |(seq, raw)| match decode::<InboxEntry>("inbox entry", &raw) {
                Ok(mut entry) => {
                    entry.seq = unbig(seq);
                    Some(entry)
                }
                Err(error) => {
                    tracing::error!(%error, seq, "skipping an undecodable inbox entry");
                    None
                }
            },
        )
        .collect()
}

pub(super) async fn set_timer(
    connection: &mut PgConnection,
    timer: &TimerEntry,
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO timers (customer, kind, due, record, shard) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (customer, kind) DO UPDATE SET due = EXCLUDED.due, record = EXCLUDED.record",
    )
    .bind(&timer.customer.0)
    .bind(timer.kind.name())
    .bind(timer.due.millis())
    .bind(encode(timer))
    .bind(shard_column(&timer.customer))
    .execute(connection)
    .await
    .map_err(db)?;
    Ok(())
}

pub(super) async fn cancel_timer(
    connection: &mut PgConnection,
    customer: &CustomerId,
    kind: flows::TimerKind,
) -> StoreResult<()> {
    sqlx::query("DELETE FROM timers WHERE customer = $1 AND kind = $2")
        .bind(&customer.0)
        .bind(kind.name())
        .execute(connection)
        .await
        .map_err(db)?;
    Ok(())
}

/// What the console searches and reports count, read off one history record.
pub(super) fn history_columns(entries: &[&HistoryEntry]) -> (String, Vec<&'static str>) {
    let mut text = String::new();
    let mut keys = Vec::new();
    for entry in entries {
        match entry {
            HistoryEntry::In {
                event:
                    Event::Inbound(flows::Inbound {
                        message: flows::InboundMessage::Text(said),
                        ..
                    }),
                ..
            } => {
                if !text.is_empty() {
                    text.push('\n');
                }
                text.push_str(&said.to_lowercase());
            }
            HistoryEntry::Out { reply, .. } => keys.push(reply.text.key.id()),
            _ => {}
        }
    }
    (text, keys)
}

pub(super) async fn append_history(
    connection: &mut PgConnection,
    customer: &CustomerId,
    entries: &[&HistoryEntry],
) -> StoreResult<()> {
    let (text, keys) = history_columns(entries);
    sqlx::query(
        "INSERT INTO history (customer, inbound_text, reply_keys, record) VALUES ($1, $2, $3, $4)",
    )
    .bind(&customer.0)
    .bind(text)
    .bind(&keys)
    .bind(crate::store::history_chunk::encode_chunk(entries))
    .execute(connection)
    .await
    .map_err(db)?;
    Ok(())
}

/// The orders a step placed.
pub(super) async fn place_orders(
    connection: &mut PgConnection,
    commit: &StepCommit,
) -> StoreResult<()> {
    for order in &commit.orders {
        let placed = order.as_placed();
        // Order ids are unique by construction; never let a collision replace an order a
        // customer may already have paid.
        let inserted = sqlx::query(
            "INSERT INTO orders (id, customer, record) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
        )
        .bind(&order.id.0)
        .bind(&order.customer.0)
        .bind(encode(&placed))
        .execute(&mut *connection)
        .await
        .map_err(db)?;
        if inserted.rows_affected() == 0 {
            tracing::error!(order = %order.id, "order id exists; keeping the first");
        }
    }
    Ok(())
}

/// The payment links a step asked for, to be made once it is durable.
pub(super) async fn put_payment_jobs(
    connection: &mut PgConnection,
    commit: &StepCommit,
) -> StoreResult<()> {
    for job in &commit.payment_jobs {
        super::commerce::put_payment_job(&mut *connection, job).await?;
    }
    Ok(())
}

/// Moves a stored order on (`flows::stock::apply_update`). The order row and the stock rows
/// of its SKUs are locked first, so concurrent payments for the same SKUs, from any replica,
/// count one after the other: only the one past the catalog's number sees it.
pub(super) async fn update_order(
    connection: &mut PgConnection,
    update: &OrderUpdate,
    now: Timestamp,
) -> StoreResult<()> {
    let raw: Option<(Vec<u8>,)> =
        sqlx::query_as("SELECT record FROM orders WHERE id = $1 FOR UPDATE")
            .bind(&update.order.0)
            .fetch_optional(&mut *connection)
            .await
            .map_err(db)?;
    let Some(order) = decode_opt::<Order>("order", raw.map(|(raw,)| raw))? else {
        tracing::error!(order = %update.order, "status change for an unknown order");
        return Ok(());
    };
    let mut skus: Vec<String> = order
        .quantities()
        .map(|(sku, _)| sku.0.clone())
        .collect::<Vec<_>>();
    skus.sort();
    skus.dedup();
    let rows: Vec<(String, i64, Option<i64>)> = sqlx::query_as(
        "SELECT sku, sold, level FROM stock WHERE sku = ANY($1) ORDER BY sku FOR UPDATE",
    )
    .bind(&skus)
    .fetch_all(&mut *connection)
    .await
    .map_err(db)?;
    let counts: HashMap<String, flows::stock::Count> = rows
        .into_iter()
        .map(|(sku, sold, level)| {
            let count = flows::stock::Count {
                sold: u32::try_from(sold).unwrap_or(u32::MAX),
                level: level.map(|level| u32::try_from(level).unwrap_or(u32::MAX)),
            };
            (sku, count)
        })
        .collect();
    let change = flows::stock::Update {
        status: update.status,
        tracking: update.tracking.clone(),
        by: update.by.clone(),
    };
    let applied = flows::stock::apply_update(order, &change, now, |sku: &Sku| {
        counts.get(&sku.0).cloned().unwrap_or(flows::stock::Count {
            sold: 0,
            level: None,
        })
    });
    for (sku, sold) in &applied.sold {
        sqlx::query(
            "INSERT INTO stock (sku, sold) VALUES ($1, $2) \
             ON CONFLICT (sku) DO UPDATE SET sold = EXCLUDED.sold",
        )
        .bind(&sku.0)
        .bind(i64::from(*sold))
        .execute(&mut *connection)
        .await
        .map_err(db)?;
    }
    if !applied.order.oversold.is_empty() && !applied.sold.is_empty() {
        // In the same transaction: the conversation hears of it even if the process stops
        // right after the commit.
        let entry = InboxEntry {
            claim: None,
            seq: 0,
            public_id: format!("oversold-{}", applied.order.id),
            dedup_key: None,
            customer: applied.order.customer.clone(),
            event: Event::OrderOversold {
                order: applied.order.id.clone(),
                skus: applied.order.oversold.clone(),
            },
            received_at: now,
        };
        put_inbox(connection, entry, None).await?;
    }
    sqlx::query("UPDATE orders SET record = $2 WHERE id = $1")
        .bind(&applied.order.id.0)
        .bind(encode(&applied.order))
        .execute(&mut *connection)
        .await
        .map_err(db)?;
    Ok(())
}

#[async_trait::async_trait]
impl CommitLog for PgStore {
    async fn write_groups(&self, parts: &[WriteGroup]) -> StoreResult<Vec<GroupWritten>> {
        let _timed = super::Timed::start("group_write");
        let written = super::group_write::write_groups(self, parts).await;
        self.watch(written)
    }

    async fn in_inbox(&self, seq: u64) -> StoreResult<bool> {
        let found: Option<(i64,)> = sqlx::query_as("SELECT seq FROM inbox WHERE seq = $1")
            .bind(big(seq))
            .fetch_optional(self.pool())
            .await
            .map_err(db)?;
        Ok(found.is_some())
    }

    async fn pending_inbox(&self) -> StoreResult<Vec<InboxEntry>> {
        // A replica re-reads only what it took under the epochs it holds now (with those
        // claims); the rest of its shards' events come through `claim_inbox`, once.
        let rows: Vec<(i64, Vec<u8>, Option<i64>)> = sqlx::query_as(
            "SELECT seq, record, claimed FROM inbox \
             WHERE ($1::int[] IS NULL OR shard = ANY($1)) ORDER BY seq",
        )
        .bind(self.scope.shards())
        .fetch_all(self.pool())
        .await
        .map_err(db)?;
        let claims: HashMap<u64, Option<u64>> = rows
            .iter()
            .map(|(seq, _, claimed)| (unbig(*seq), claimed.map(unbig)))
            .collect();
        let mut entries = inbox_entries(
            rows.into_iter()
                .map(|(seq, record, _)| (seq, record))
                .collect(),
        );
        if self.scope.shards().is_some() {
            entries.retain_mut(|entry| {
                let held = self
                    .scope
                    .epoch(crate::store::shards::shard_of(&entry.customer));
                let claimed = claims.get(&entry.seq).copied().flatten();
                entry.claim = held.filter(|epoch| claimed == Some(*epoch));
                entry.claim.is_some()
            });
        }
        Ok(entries)
    }

    async fn note_step_attempt(&self, seq: u64) -> StoreResult<u32> {
        // Durable when the statement returns (the commit waits for the WAL flush).
        let (attempts,): (i32,) = sqlx::query_as(
            "INSERT INTO step_attempts (seq, attempts) VALUES ($1, 1) \
             ON CONFLICT (seq) DO UPDATE SET attempts = step_attempts.attempts + 1 \
             RETURNING attempts",
        )
        .bind(big(seq))
        .fetch_one(self.pool())
        .await
        .map_err(db)?;
        Ok(u32::try_from(attempts).unwrap_or(0))
    }

    async fn step_attempts(&self, seq: u64) -> StoreResult<u32> {
        let found: Option<(i32,)> =
            sqlx::query_as("SELECT attempts FROM step_attempts WHERE seq = $1")
                .bind(big(seq))
                .fetch_optional(self.pool())
                .await
                .map_err(db)?;
        Ok(found.map_or(0, |(attempts,)| u32::try_from(attempts).unwrap_or(0)))
    }

    async fn forget_settled_attempts(&self) -> StoreResult<usize> {
        let done = sqlx::query(
            "DELETE FROM step_attempts a WHERE NOT EXISTS (SELECT 1 FROM inbox i WHERE i.seq = a.seq)",
        )
        .execute(self.pool())
        .await
        .map_err(db)?;
        Ok(usize::try_from(done.rows_affected()).unwrap_or(usize::MAX))
    }

    async fn set_aside(
        &self,
        seq: u64,
        reason: &str,
        attempts: u32,
        now: Timestamp,
    ) -> StoreResult<bool> {
        let mut tx = self.pool().begin().await.map_err(db)?;
        let removed: Option<(i64, Vec<u8>)> =
            sqlx::query_as("DELETE FROM inbox WHERE seq = $1 RETURNING seq, record")
                .bind(big(seq))
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
        let Some(entry) = removed.and_then(|row| inbox_entries(vec![row]).pop()) else {
            return Ok(false);
        };
        let record = SetAside {
            entry,
            reason: reason.to_owned(),
            attempts,
            set_aside_at: now,
        };
        sqlx::query(
            "INSERT INTO set_aside (seq, record) VALUES ($1, $2) \
             ON CONFLICT (seq) DO UPDATE SET record = EXCLUDED.record",
        )
        .bind(big(seq))
        .bind(encode(&record))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query("DELETE FROM step_attempts WHERE seq = $1")
            .bind(big(seq))
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn set_aside_events(&self) -> StoreResult<Vec<SetAside>> {
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT record FROM set_aside ORDER BY seq")
            .fetch_all(self.pool())
            .await
            .map_err(db)?;
        Ok(decode_rows(
            "set-aside event",
            rows.into_iter().map(|(raw,)| raw),
        ))
    }

    async fn retry_set_aside(&self, seq: u64) -> StoreResult<Option<InboxEntry>> {
        let mut tx = self.pool().begin().await.map_err(db)?;
        let removed: Option<(Vec<u8>,)> =
            sqlx::query_as("DELETE FROM set_aside WHERE seq = $1 RETURNING record")
                .bind(big(seq))
                .fetch_optional(&mut *tx)
                .await
                .map_err(db)?;
        let Some(record) = decode_opt::<SetAside>("set-aside event", removed.map(|(raw,)| raw))?
        else {
            return Ok(None);
        };
        // Back under its own number, so whatever refers to it (the console) still finds it.
        put_inbox(&mut tx, record.entry.clone(), Some(seq)).await?;
        tx.commit().await.map_err(db)?;
        Ok(Some(record.entry))
    }

    async fn conversation_with_customer(
        &self,
        id: &CustomerId,
    ) -> StoreResult<(Option<flows::Conversation>, Option<flows::Customer>)> {
        let _timed = super::Timed::start("load_step");
        let (conversation, customer): (Option<Vec<u8>>, Option<Vec<u8>>) = sqlx::query_as(
            "SELECT (SELECT record FROM conversations WHERE customer = $1), \
                    (SELECT record FROM customers WHERE id = $1)",
        )
        .bind(&id.0)
        .fetch_one(self.pool())
        .await
        .map_err(db)?;
        Ok((
            decode_opt("conversation", conversation)?,
            decode_opt("customer", customer)?,
        ))
    }

    async fn conversations_with_customers(
        &self,
        ids: &[CustomerId],
    ) -> StoreResult<Vec<(Option<flows::Conversation>, Option<flows::Customer>)>> {
        let _timed = super::Timed::start("load_step");
        let keys: Vec<&str> = ids.iter().map(|id| id.0.as_str()).collect();
        let rows: Vec<(i64, Option<Vec<u8>>, Option<Vec<u8>>)> = sqlx::query_as(
            "SELECT c.n, v.record, u.record \
             FROM unnest($1::text[]) WITH ORDINALITY AS c(id, n) \
             LEFT JOIN conversations v ON v.customer = c.id \
             LEFT JOIN customers u ON u.id = c.id \
             ORDER BY c.n",
        )
        .bind(&keys)
        .fetch_all(self.pool())
        .await
        .map_err(db)?;
        if rows.len() != ids.len() {
            return Err(crate::store::StoreError::Engine(
                "a batch read returned another number of rows".into(),
            ));
        }
        rows.into_iter()
            .map(|(_, conversation, customer)| {
                Ok((
                    decode_opt("conversation", conversation)?,
                    decode_opt("customer", customer)?,
                ))
            })
            .collect()
    }

    async fn conversation(&self, id: &CustomerId) -> StoreResult<Option<flows::Conversation>> {
        let raw: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT record FROM conversations WHERE customer = $1")
                .bind(&id.0)
                .fetch_optional(self.pool())
                .await
                .map_err(db)?;
        decode_opt("conversation", raw.map(|(raw,)| raw))
    }

    async fn history(&self, customer: &CustomerId, limit: usize) -> StoreResult<Vec<HistoryEntry>> {
        // The newest records first, until `limit` entries; returned oldest first. A record
        // holds one step's entries, so `limit` records always hold enough.
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
            "SELECT record FROM history WHERE customer = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(&customer.0)
        .bind(i64::try_from(limit).unwrap_or(i64::MAX))
        .fetch_all(self.pool())
        .await
        .map_err(db)?;
        let mut newest: Vec<HistoryEntry> = Vec::new();
        for (raw,) in rows {
            if newest.len() >= limit {
                break;
            }
            match crate::store::history_chunk::decode_chunk(&raw) {
                Ok(entries) => newest.extend(entries.into_iter().rev()),
                Err(error) => tracing::error!(%error, "skipping an undecodable history record"),
            }
        }
        newest.truncate(limit);
        newest.reverse();
        Ok(newest)
    }

    async fn append_history(&self, customer: &CustomerId, entry: &HistoryEntry) -> StoreResult<()> {
        let mut connection = self.pool().acquire().await.map_err(db)?;
        append_history(&mut connection, customer, &[entry]).await
    }
}

#[async_trait::async_trait]
impl Timers for PgStore {
    async fn next_timer_due(&self) -> StoreResult<Option<Timestamp>> {
        let (due,): (Option<i64>,) = sqlx::query_as(
            "SELECT min(due) FROM timers WHERE ($1::int[] IS NULL OR shard = ANY($1))",
        )
        .bind(self.scope.shards())
        .fetch_one(self.pool())
        .await
        .map_err(db)?;
        Ok(due.map(Timestamp))
    }

    async fn fire_due_timers(&self, now: Timestamp) -> StoreResult<Vec<InboxEntry>> {
        let _timed = super::Timed::start("fire_timers");
        let mut tx = self.pool().begin().await.map_err(db)?;
        // Rows another replica is firing right now are skipped, not waited for.
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
            "DELETE FROM timers WHERE (customer, kind) IN ( \
               SELECT customer, kind FROM timers \
               WHERE due <= $1 AND ($2::int[] IS NULL OR shard = ANY($2)) \
               ORDER BY due LIMIT 10000 FOR UPDATE SKIP LOCKED) \
             RETURNING record",
        )
        .bind(now.millis())
        .bind(self.scope.shards())
        .fetch_all(&mut *tx)
        .await
        .map_err(db)?;
        let mut timers: Vec<TimerEntry> = decode_rows("timer", rows.into_iter().map(|(raw,)| raw));
        timers.sort_by(|a, b| {
            (a.due, &a.customer, a.kind.name()).cmp(&(b.due, &b.customer, b.kind.name()))
        });
        let mut fired = Vec::with_capacity(timers.len());
        for timer in timers {
            // Left untaken: the shard's holder (this replica, when serving) is told and
            // takes it in inbox order, after the conversation's earlier events, under a
            // lease it checks.
            fired.push(put_inbox(&mut tx, timer.fired(now), None).await?);
        }
        tx.commit().await.map_err(db)?;
        Ok(fired)
    }
}
