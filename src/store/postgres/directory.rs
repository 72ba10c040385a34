//! Customers and their chat identities on PostgreSQL. A new identity is claimed by the
//! primary key of `identities` (`INSERT … ON CONFLICT DO NOTHING`), so concurrent first
//! messages from one chat, on any replica, make one customer. Merges and unmerges are one
//! transaction that locks what it rewrites, in one order: customers (by id), conversations
//! (by customer), then calendars and bookings (`bookings::reassign`), orders, summaries.
//!
//! There is no identity cache, unlike sled's: with several replicas a merge on one would
//! leave the others' caches pointing at the customer that is gone.

use std::collections::HashMap;

use flows::{CartLine, Conversation, Customer, CustomerId, Identity, Order, Timestamp};
use sqlx::{PgConnection, PgExecutor};

use super::commit_log::{cancel_timer, set_timer};
use super::console::{summary_for_update, write_summary};
use super::{PgStore, bookings, db, decode_opt, decode_rows, identity_text};
use crate::store::codec::{decode, encode};
use crate::store::{
    ConversationSummary, Directory, LinkCode, MergeRecord, Redeemed, StoreError, StoreResult,
    TimerEntry,
};

// A merge's two customers and their two conversations, locked until the transaction ends,
// in key order: two merges over the same customers lock in one order and cannot deadlock.
const LOCK_CUSTOMERS: &str =
    "SELECT id, record FROM customers WHERE id = ANY($1) ORDER BY id FOR UPDATE";
const LOCK_CONVERSATIONS: &str = "SELECT customer, record FROM conversations \
     WHERE customer = ANY($1) ORDER BY customer FOR UPDATE";

/// The records `query` (`LOCK_…`) locks for `ids`, decoded, by key.
async fn lock_records<T: serde::de::DeserializeOwned>(
    connection: &mut PgConnection,
    query: &'static str,
    what: &'static str,
    ids: [&CustomerId; 2],
) -> StoreResult<HashMap<String, T>> {
    let mut keys: Vec<&str> = ids.iter().map(|id| id.0.as_str()).collect();
    keys.sort_unstable();
    keys.dedup();
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(query)
        .bind(&keys)
        .fetch_all(connection)
        .await
        .map_err(db)?;
    rows.into_iter()
        .map(|(key, raw)| Ok((key, decode(what, &raw)?)))
        .collect()
}

/// The record `sql` selects by one text key.
async fn record_by<'c>(
    executor: impl PgExecutor<'c>,
    sql: &'static str,
    key: &str,
) -> StoreResult<Option<Vec<u8>>> {
    let row: Option<(Vec<u8>,)> = sqlx::query_as(sql)
        .bind(key)
        .fetch_optional(executor)
        .await
        .map_err(db)?;
    Ok(row.map(|(raw,)| raw))
}

/// Runs `sql` with a text key and, if any, a record: a write or a delete by key.
async fn write_by(
    connection: &mut PgConnection,
    sql: &'static str,
    key: &str,
    record: Option<Vec<u8>>,
) -> StoreResult<()> {
    let query = sqlx::query(sql).bind(key);
    let query = match record {
        Some(record) => query.bind(record),
        None => query,
    };
    query.execute(connection).await.map_err(db)?;
    Ok(())
}

async fn put_customer(connection: &mut PgConnection, customer: &Customer) -> StoreResult<()> {
    let sql = "INSERT INTO customers (id, record) VALUES ($1, $2) \
               ON CONFLICT (id) DO UPDATE SET record = EXCLUDED.record";
    write_by(connection, sql, &customer.id.0, Some(encode(customer))).await
}

async fn put_conversation(
    connection: &mut PgConnection,
    conversation: &Conversation,
) -> StoreResult<()> {
    let sql = "INSERT INTO conversations (customer, record) VALUES ($1, $2) \
               ON CONFLICT (customer) DO UPDATE SET record = EXCLUDED.record";
    write_by(
        connection,
        sql,
        &conversation.customer.0,
        Some(encode(conversation)),
    )
    .await
}

/// The customer an identity (its `identity_text`) points at, its row locked if `lock`.
async fn customer_of<'c>(
    executor: impl PgExecutor<'c>,
    identity: &str,
    lock: bool,
) -> StoreResult<Option<CustomerId>> {
    let sql = if lock {
        "SELECT customer FROM identities WHERE identity = $1 FOR UPDATE"
    } else {
        "SELECT customer FROM identities WHERE identity = $1"
    };
    let row: Option<(String,)> = sqlx::query_as(sql)
        .bind(identity)
        .fetch_optional(executor)
        .await
        .map_err(db)?;
    Ok(row.map(|(customer,)| CustomerId(customer)))
}

/// Points every one of `identities` at `customer`.
async fn point_identities(
    connection: &mut PgConnection,
    identities: &[Identity],
    customer: &CustomerId,
) -> StoreResult<()> {
    let keys: Vec<String> = identities.iter().map(identity_text).collect();
    sqlx::query(
        "INSERT INTO identities (identity, customer) SELECT identity, $2 \
         FROM unnest($1::text[]) AS identity \
         ON CONFLICT (identity) DO UPDATE SET customer = EXCLUDED.customer",
    )
    .bind(&keys)
    .bind(&customer.0)
    .execute(connection)
    .await
    .map_err(db)?;
    Ok(())
}

/// Makes the stored orders among `orders` belong to `customer` (column and record).
async fn reassign_orders(
    connection: &mut PgConnection,
    orders: &[Order],
    customer: &CustomerId,
) -> StoreResult<()> {
    for order in orders {
        let sql = "SELECT record FROM orders WHERE id = $1 FOR UPDATE";
        let raw = record_by(&mut *connection, sql, &order.id.0).await?;
        if let Some(mut stored) = decode_opt::<Order>("order", raw)? {
            stored.customer = customer.clone();
            sqlx::query("UPDATE orders SET customer = $2, record = $3 WHERE id = $1")
                .bind(&order.id.0)
                .bind(&customer.0)
                .bind(encode(&stored))
                .execute(&mut *connection)
                .await
                .map_err(db)?;
        }
    }
    Ok(())
}

/// See `Directory::merge_customers`, inside `connection`'s transaction.
async fn merge_in_transaction(
    connection: &mut PgConnection,
    from: &CustomerId,
    into: &CustomerId,
    now: Timestamp,
) -> StoreResult<Vec<CartLine>> {
    let missing = || StoreError::Engine("merge: no customer".into());
    let customers =
        lock_records::<Customer>(connection, LOCK_CUSTOMERS, "customer", [from, into]).await?;
    let mut target = customers.get(&into.0).cloned().ok_or_else(missing)?;
    let source = customers.get(&from.0).cloned().ok_or_else(missing)?;
    point_identities(connection, &source.identities, into).await?;
    flows::merge::merge_customers(&mut target, &source);
    put_customer(connection, &target).await?;
    write_by(
        connection,
        "DELETE FROM customers WHERE id = $1",
        &from.0,
        None,
    )
    .await?;
    let mut conversations =
        lock_records::<Conversation>(connection, LOCK_CONVERSATIONS, "conversation", [from, into])
            .await?;
    let source_conversation = conversations.remove(&from.0);
    // `from` has no conversation any more: its timers would only start a new, empty one.
    // What they were for moves with the conversation (the appointments' reminder is
    // re-armed for `into` below).
    for kind in flows::TimerKind::ALL {
        cancel_timer(connection, from, kind).await?;
    }
    let mut cart = Vec::new();
    if let Some(source_conversation) = &source_conversation {
        let mut target_conversation = conversations
            .remove(&into.0)
            .unwrap_or_else(|| Conversation::new(into.clone(), source_conversation.locale));
        let reminder_before = target_conversation.appointments.reminder_due;
        flows::merge::merge_conversations(&mut target_conversation, source_conversation.clone());
        if let Some(due) = target_conversation.appointments.reminder_due
            && reminder_before != Some(due)
        {
            let timer = TimerEntry {
                customer: into.clone(),
                kind: flows::TimerKind::BookingReminder,
                due,
            };
            set_timer(connection, &timer).await?;
        }
        bookings::reassign(connection, &source_conversation.appointments.list, into).await?;
        cart.clone_from(&source_conversation.cart.lines);
        put_conversation(connection, &target_conversation).await?;
        let sql = "DELETE FROM conversations WHERE customer = $1";
        write_by(connection, sql, &from.0, None).await?;
        reassign_orders(connection, &source_conversation.orders.recent, into).await?;
    }
    let sql = "DELETE FROM summaries WHERE customer = $1 RETURNING record";
    if let Some(raw) = record_by(&mut *connection, sql, &from.0).await? {
        let source_summary: ConversationSummary = decode("summary", &raw)?;
        let target_summary = summary_for_update(connection, into).await?;
        let merged = ConversationSummary::merged(into, target_summary, source_summary);
        write_summary(connection, &merged).await?;
    }
    let record = MergeRecord {
        into: into.clone(),
        from: source,
        from_conversation: source_conversation,
        at: now,
    };
    sqlx::query(
        "INSERT INTO merges (into_customer, from_customer, merged_at, record) \
         VALUES ($1, $2, $3, $4) ON CONFLICT (into_customer, merged_at, from_customer) \
         DO UPDATE SET record = EXCLUDED.record",
    )
    .bind(&into.0)
    .bind(&from.0)
    .bind(now.millis())
    .bind(encode(&record))
    .execute(&mut *connection)
    .await
    .map_err(db)?;
    Ok(cart)
}

/// Undoes `record` (the merge row at `merged_at`), inside `connection`'s transaction.
async fn unmerge_in_transaction(
    connection: &mut PgConnection,
    merged_at: i64,
    record: &MergeRecord,
) -> StoreResult<()> {
    let (from, into) = (&record.from.id, &record.into);
    let mut customers =
        lock_records::<Customer>(connection, LOCK_CUSTOMERS, "customer", [from, into]).await?;
    point_identities(connection, &record.from.identities, from).await?;
    put_customer(connection, &record.from).await?;
    let mut target = customers.remove(&into.0);
    if let Some(target) = &mut target {
        flows::merge::unmerge_customer(target, &record.from);
        put_customer(connection, target).await?;
    }
    if let Some(source) = &record.from_conversation {
        let mut conversations = lock_records::<Conversation>(
            connection,
            LOCK_CONVERSATIONS,
            "conversation",
            [from, into],
        )
        .await?;
        put_conversation(connection, source).await?;
        if let (Some(mut conversation), Some(target)) = (conversations.remove(&into.0), &target) {
            flows::merge::unmerge_conversation(&mut conversation, source, target);
            put_conversation(connection, &conversation).await?;
        }
        bookings::reassign(connection, &source.appointments.list, from).await?;
        reassign_orders(connection, &source.orders.recent, from).await?;
        // The merge took this chat's timers; its appointments' reminder comes back with it
        // (the survivor's fires too, and finds nothing of these).
        if let Some(due) = source.appointments.reminder_due {
            let timer = TimerEntry {
                customer: from.clone(),
                kind: flows::TimerKind::BookingReminder,
                due,
            };
            set_timer(connection, &timer).await?;
        }
        let summary =
            ConversationSummary::of(source, source.reach.last_inbound_at.unwrap_or(record.at));
        write_summary(connection, &summary).await?;
    }
    sqlx::query(
        "DELETE FROM merges WHERE into_customer = $1 AND from_customer = $2 AND merged_at = $3",
    )
    .bind(&into.0)
    .bind(&from.0)
    .bind(merged_at)
    .execute(&mut *connection)
    .await
    .map_err(db)?;
    Ok(())
}

#[async_trait::async_trait]
impl Directory for PgStore {
    async fn resolve_identity(
        &self,
        identity: &Identity,
        new_customer: Customer,
    ) -> StoreResult<CustomerId> {
        let _timed = super::Timed::start("resolve_identity");
        let key = identity_text(identity);
        // Nearly every call is for a known chat: one read (shared with concurrent callers),
        // no transaction, no insert.
        if let Some(known) = self.identities.customer_of(key.clone()).await? {
            return Ok(known);
        }
        let mut tx = self.pool().begin().await.map_err(db)?;
        // A concurrent claim of the same identity makes this insert wait for that
        // transaction; once it commits, the insert does nothing and the read below (a new
        // statement, so a new snapshot) finds its customer.
        let claimed = sqlx::query(
            "INSERT INTO identities (identity, customer) VALUES ($1, $2) \
             ON CONFLICT (identity) DO NOTHING",
        )
        .bind(&key)
        .bind(&new_customer.id.0)
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected()
            == 1;
        if claimed {
            put_customer(&mut tx, &new_customer).await?;
            tx.commit().await.map_err(db)?;
            return Ok(new_customer.id);
        }
        let existing = customer_of(&mut *tx, &key, false).await?;
        tx.commit().await.map_err(db)?;
        // Gone again only if a number change moved it away in between: a retry resolves it.
        existing.ok_or_else(|| {
            StoreError::Unavailable("the identity moved while being resolved".into())
        })
    }

    async fn find_identity(&self, identity: &Identity) -> StoreResult<Option<CustomerId>> {
        customer_of(self.pool(), &identity_text(identity), false).await
    }

    async fn customer(&self, id: &CustomerId) -> StoreResult<Option<Customer>> {
        let sql = "SELECT record FROM customers WHERE id = $1";
        decode_opt("customer", record_by(self.pool(), sql, &id.0).await?)
    }

    async fn move_identity(&self, from: &Identity, to: &Identity) -> StoreResult<bool> {
        if from == to {
            return Ok(false);
        }
        let (old, new) = (identity_text(from), identity_text(to));
        let mut tx = self.pool().begin().await.map_err(db)?;
        let Some(CustomerId(customer_id)) = customer_of(&mut *tx, &old, true).await? else {
            return Ok(false);
        };
        // The new number may already write as another customer (its first message may have
        // come before this notice). Joining two customers is a verified link, not something
        // to do silently here. Claiming the key is the check, atomic with `resolve_identity`.
        let claimed = sqlx::query(
            "INSERT INTO identities (identity, customer) VALUES ($1, $2) \
             ON CONFLICT (identity) DO NOTHING",
        )
        .bind(&new)
        .bind(&customer_id)
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected()
            == 1;
        if !claimed {
            return Ok(false);
        }
        sqlx::query("DELETE FROM identities WHERE identity = $1")
            .bind(&old)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let sql = "SELECT record FROM customers WHERE id = $1 FOR UPDATE";
        let raw = record_by(&mut *tx, sql, &customer_id).await?;
        if let Some(mut customer) = decode_opt::<Customer>("customer", raw)? {
            for identity in &mut customer.identities {
                if identity == from {
                    *identity = to.clone();
                }
            }
            put_customer(&mut tx, &customer).await?;
        }
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn set_blocked(&self, identity: &Identity, blocked: bool) -> StoreResult<()> {
        let query = if blocked {
            "INSERT INTO blocked (identity) VALUES ($1) ON CONFLICT (identity) DO NOTHING"
        } else {
            "DELETE FROM blocked WHERE identity = $1"
        };
        sqlx::query(query)
            .bind(identity_text(identity))
            .execute(self.pool())
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn is_blocked(&self, identity: &Identity) -> StoreResult<bool> {
        let (blocked,): (bool,) =
            sqlx::query_as("SELECT EXISTS (SELECT 1 FROM blocked WHERE identity = $1)")
                .bind(identity_text(identity))
                .fetch_one(self.pool())
                .await
                .map_err(db)?;
        Ok(blocked)
    }

    async fn put_link_code(&self, code: &str, record: &LinkCode) -> StoreResult<()> {
        let sql = "INSERT INTO link_codes (code, record) VALUES ($1, $2) \
                   ON CONFLICT (code) DO UPDATE SET record = EXCLUDED.record";
        let mut connection = self.pool().acquire().await.map_err(db)?;
        write_by(&mut connection, sql, code, Some(encode(record))).await
    }

    async fn redeem_link_code(&self, code: &str, now: Timestamp) -> StoreResult<Redeemed> {
        let mut tx = self.pool().begin().await.map_err(db)?;
        // Locked: of two chats sending the code at once, the second waits and finds it used.
        let sql = "SELECT record FROM link_codes WHERE code = $1 FOR UPDATE";
        let raw = record_by(&mut *tx, sql, code).await?;
        let Some(mut record) = decode_opt::<LinkCode>("link code", raw)? else {
            return Ok(Redeemed::Unknown);
        };
        if record.used {
            return Ok(Redeemed::Used);
        }
        if record.expires_at <= now {
            return Ok(Redeemed::Expired);
        }
        record.used = true;
        let sql = "UPDATE link_codes SET record = $2 WHERE code = $1";
        write_by(&mut tx, sql, code, Some(encode(&record))).await?;
        tx.commit().await.map_err(db)?;
        Ok(Redeemed::Valid(record.customer))
    }

    async fn merge_customers(
        &self,
        from: &CustomerId,
        into: &CustomerId,
        now: Timestamp,
    ) -> StoreResult<Vec<CartLine>> {
        let mut tx = self.pool().begin().await.map_err(db)?;
        let cart = merge_in_transaction(&mut tx, from, into, now).await?;
        tx.commit().await.map_err(db)?;
        Ok(cart)
    }

    async fn unmerge_customers(&self, from: &CustomerId, into: &CustomerId) -> StoreResult<bool> {
        let mut tx = self.pool().begin().await.map_err(db)?;
        // The latest merge of `from` into `into`, locked: of two operators undoing it at
        // once, the second finds it gone.
        let found: Option<(i64, Vec<u8>)> = sqlx::query_as(
            "SELECT merged_at, record FROM merges WHERE into_customer = $1 AND from_customer = $2 \
             ORDER BY merged_at DESC LIMIT 1 FOR UPDATE",
        )
        .bind(&into.0)
        .bind(&from.0)
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        let Some((merged_at, raw)) = found else {
            return Ok(false);
        };
        let record: MergeRecord = decode("merge record", &raw)?;
        unmerge_in_transaction(&mut tx, merged_at, &record).await?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn merged_into(&self, into: &CustomerId) -> StoreResult<Vec<MergeRecord>> {
        // Oldest first; ids in byte order, as sled's keys sort.
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
            r#"SELECT record FROM merges WHERE into_customer = $1
               ORDER BY merged_at, from_customer COLLATE "C""#,
        )
        .bind(&into.0)
        .fetch_all(self.pool())
        .await
        .map_err(db)?;
        Ok(decode_rows(
            "merge record",
            rows.into_iter().map(|(raw,)| raw),
        ))
    }
}
