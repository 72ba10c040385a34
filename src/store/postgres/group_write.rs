//! One group commit round on PostgreSQL: every part's ingests, steps and accepted sends in
//! one transaction, written a statement per kind of row for the whole round (arrays through
//! `UNNEST`), not a statement per row. A round trip to the server costs more than the
//! server's work on one row, so a round of thirty steps costs about what one step costs.
//! Ids are drawn from the tables' sequences first and sorted, so the rows of a round keep
//! the round's order (inbox order, reply order, history order).

use std::collections::HashMap;

use flows::{CustomerId, TimerKind};
use sqlx::PgConnection;

use super::commit_log::{history_columns, update_order};
use super::console::summary_rows_for_update;
use super::{PgStore, big, db, shard_column, unbig};
use crate::store::codec::encode;
use crate::store::records::{
    Delivered, GroupWritten, HistoryEntry, InboxEntry, Ingested, OutboxEntry, StepCommit,
    TimerChange, WriteGroup,
};
use crate::store::{ConversationSummary, StoreResult};

/// See `CommitLog::write_groups`.
pub(super) async fn write_groups(
    store: &PgStore,
    parts: &[WriteGroup],
) -> StoreResult<Vec<GroupWritten>> {
    let mut tx = store.pool().begin().await.map_err(db)?;
    // Every lease the round depends on, locked at once: the steps' fences and the claims
    // taken at ingest.
    let entries: Vec<&InboxEntry> = parts.iter().flat_map(|part| &part.ingest).collect();
    let mut shards: Vec<u32> = parts
        .iter()
        .filter_map(|part| part.fence.as_ref())
        .flat_map(|fence| fence.leases.iter().map(|lease| lease.shard))
        .chain(
            entries
                .iter()
                .filter(|entry| entry.claim.is_some())
                .map(|entry| crate::store::shards::shard_of(&entry.customer)),
        )
        .collect();
    shards.sort_unstable();
    shards.dedup();
    let locked = super::leases::lock_leases(&mut tx, &shards).await?;
    for fence in parts.iter().filter_map(|part| part.fence.as_ref()) {
        super::leases::check_fence(&locked, fence)?;
    }
    let fresh = ingest(&mut tx, &entries, &locked).await?;
    let mut taken = take_earlier(&mut tx, &fresh).await?;
    let mut ingested = fresh.into_iter();
    let steps: Vec<&StepCommit> = parts.iter().flat_map(|part| &part.steps).collect();
    let mut created = apply_steps(&mut tx, &steps).await?.into_iter();
    let delivered: Vec<&Delivered> = parts.iter().flat_map(|part| &part.delivered).collect();
    deliver(&mut tx, &delivered).await?;
    tx.commit().await.map_err(db)?;
    Ok(parts
        .iter()
        .map(|part| {
            let customers: std::collections::HashSet<&CustomerId> =
                part.ingest.iter().map(|entry| &entry.customer).collect();
            let (mine, rest) = std::mem::take(&mut taken)
                .into_iter()
                .partition(|entry| customers.contains(&entry.customer));
            taken = rest;
            GroupWritten {
                ingested: ingested.by_ref().take(part.ingest.len()).collect(),
                created: created.by_ref().take(part.steps.len()).collect(),
                taken: mine,
            }
        })
        .collect())
}

/// Events of the conversations this round took (accepted here for a shard this replica
/// holds) that are still waiting untaken, accepted earlier by another replica: taken now,
/// under the same epoch, oldest first. Only never-taken rows can be there: a former
/// holder's rows were taken by this replica's sweep before the shard became ready, and a
/// former holder could take rows only while its lease lived (`lock_leases`).
async fn take_earlier(
    connection: &mut PgConnection,
    fresh: &[Ingested],
) -> StoreResult<Vec<InboxEntry>> {
    let mut seen = std::collections::HashSet::new();
    let (mut customers, mut epochs, mut news) = (Vec::new(), Vec::new(), Vec::new());
    for ingested in fresh {
        let Ingested::New(entry) = ingested else {
            continue;
        };
        news.push(big(entry.seq));
        let Some(epoch) = entry.claim else { continue };
        if seen.insert(&entry.customer) {
            customers.push(entry.customer.0.as_str());
            epochs.push(big(epoch));
        }
    }
    if customers.is_empty() {
        return Ok(Vec::new());
    }
    // The partial index of untaken rows is nearly always empty: a probe per customer.
    let rows: Vec<(i64, Vec<u8>, i64, Option<i64>)> = sqlx::query_as(
        "UPDATE inbox SET claimed = c.epoch \
         FROM unnest($1::text[], $2::bigint[]) AS c(customer, epoch) \
         WHERE inbox.customer = ANY($1) AND inbox.claimed IS NULL \
           AND inbox.customer = c.customer AND NOT (inbox.seq = ANY($3)) \
         RETURNING inbox.seq, inbox.record, c.epoch, NULL::bigint",
    )
    .bind(&customers)
    .bind(&epochs)
    .bind(&news)
    .fetch_all(&mut *connection)
    .await
    .map_err(db)?;
    Ok(super::leases::claimed_entries(rows)
        .into_iter()
        .map(|claimed| claimed.entry)
        .collect())
}

/// `n` fresh ids of `table`'s identity column, ascending.
async fn next_ids(
    connection: &mut PgConnection,
    table: &'static str,
    column: &'static str,
    n: usize,
) -> StoreResult<Vec<i64>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    // The sequence named the way PostgreSQL names an identity column's (`table_column_seq`),
    // resolved once per statement: asking `pg_get_serial_sequence` per row cost a catalog
    // lookup for every id.
    let rows: Vec<(i64,)> =
        sqlx::query_as("SELECT nextval($1::regclass) FROM generate_series(1, $2)")
            .bind(format!("{table}_{column}_seq"))
            .bind(i64::try_from(n).unwrap_or(i64::MAX))
            .fetch_all(connection)
            .await
            .map_err(db)?;
    let mut ids: Vec<i64> = rows.into_iter().map(|(id,)| id).collect();
    ids.sort_unstable();
    Ok(ids)
}

/// Accepts each event unless its dedup key was seen, before or earlier in this round.
async fn ingest(
    connection: &mut PgConnection,
    entries: &[&InboxEntry],
    locked: &HashMap<u32, (u64, String)>,
) -> StoreResult<Vec<Ingested>> {
    if entries.is_empty() {
        return Ok(Vec::new());
    }
    let (keys, seen): (Vec<&str>, Vec<i64>) = entries
        .iter()
        .filter_map(|entry| {
            let key = entry.dedup_key.as_deref()?;
            Some((key, entry.received_at.millis()))
        })
        .unzip();
    let marked: Vec<(String,)> = if keys.is_empty() {
        Vec::new()
    } else {
        sqlx::query_as(
            "INSERT INTO processed (dedup_key, seen_at) \
             SELECT * FROM UNNEST($1::text[], $2::bigint[]) ON CONFLICT DO NOTHING \
             RETURNING dedup_key",
        )
        .bind(&keys)
        .bind(&seen)
        .fetch_all(&mut *connection)
        .await
        .map_err(db)?
    };
    // A key marked now belongs to its first event in the round; any other is a duplicate.
    let mut fresh: std::collections::HashSet<String> =
        marked.into_iter().map(|(key,)| key).collect();
    let accepted: Vec<bool> = entries
        .iter()
        .map(|entry| match &entry.dedup_key {
            None => true,
            Some(key) => fresh.remove(key),
        })
        .collect();
    let count = accepted.iter().filter(|new| **new).count();
    let mut seqs = next_ids(connection, "inbox", "seq", count)
        .await?
        .into_iter();
    let (mut numbers, mut customers, mut records) = (Vec::new(), Vec::new(), Vec::new());
    let (mut shards, mut claims) = (Vec::new(), Vec::new());
    let mut results = Vec::with_capacity(entries.len());
    for (entry, new) in entries.iter().zip(accepted) {
        if !new {
            results.push(Ingested::Duplicate);
            continue;
        }
        let Some(seq) = seqs.next() else {
            return Err(crate::store::StoreError::Engine(
                "the inbox sequence gave too few numbers".into(),
            ));
        };
        let mut entry = (*entry).clone();
        entry.seq = unbig(seq);
        // Taken here only under a lease still held (share-locked until the commit, so no
        // takeover slips in between); else its holder is told and takes it.
        // (An epoch names one holding of one shard: a live lease with it is the claimer's.)
        let shard = crate::store::shards::shard_of(&entry.customer);
        entry.claim = entry
            .claim
            .filter(|epoch| locked.get(&shard).is_some_and(|(held, _)| held == epoch));
        numbers.push(seq);
        customers.push(entry.customer.0.clone());
        records.push(encode(&entry));
        shards.push(shard_column(&entry.customer));
        claims.push(entry.claim.map(big));
        results.push(Ingested::New(entry));
    }
    if !numbers.is_empty() {
        sqlx::query(
            "INSERT INTO inbox (seq, customer, record, shard, claimed) \
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bytea[], $4::int[], $5::bigint[])",
        )
        .bind(&numbers)
        .bind(&customers)
        .bind(&records)
        .bind(&shards)
        .bind(&claims)
        .execute(&mut *connection)
        .await
        .map_err(db)?;
    }
    // Events this replica does not step: their shard's holder is told at commit (a
    // notification is sent only if the transaction commits).
    let mut foreign: Vec<i32> = shards
        .iter()
        .zip(&claims)
        .filter(|(_, claim)| claim.is_none())
        .map(|(shard, _)| *shard)
        .collect();
    foreign.sort_unstable();
    foreign.dedup();
    if !foreign.is_empty() {
        super::live::notify_inbox(connection, &foreign).await?;
    }
    Ok(results)
}

/// Every step of the round, in order; returns the sends each created.
async fn apply_steps(
    connection: &mut PgConnection,
    steps: &[&StepCommit],
) -> StoreResult<Vec<Vec<OutboxEntry>>> {
    if steps.is_empty() {
        return Ok(Vec::new());
    }
    let consumed: Vec<i64> = steps.iter().map(|step| big(step.inbox_seq)).collect();
    sqlx::query("DELETE FROM inbox WHERE seq = ANY($1)")
        .bind(&consumed)
        .execute(&mut *connection)
        .await
        .map_err(db)?;
    write_conversations(connection, steps).await?;
    write_summaries(connection, steps).await?;
    let created = write_sends(connection, steps).await?;
    write_history(connection, steps, &created).await?;
    write_timers(connection, steps).await?;
    // Orders and payments are rare next to messages: row by row, in step order.
    for step in steps {
        super::commit_log::place_orders(connection, step).await?;
        for update in &step.order_updates {
            update_order(connection, update, step.now).await?;
        }
        super::commit_log::put_payment_jobs(connection, step).await?;
    }
    Ok(created)
}

/// The last state of each conversation the round stepped.
async fn write_conversations(
    connection: &mut PgConnection,
    steps: &[&StepCommit],
) -> StoreResult<()> {
    let mut last: HashMap<&str, &StepCommit> = HashMap::new();
    for step in steps {
        last.insert(step.conversation.customer.0.as_str(), step);
    }
    let (customers, records): (Vec<&str>, Vec<Vec<u8>>) = last
        .into_iter()
        .map(|(customer, step)| (customer, encode(&step.conversation)))
        .unzip();
    sqlx::query(
        "INSERT INTO conversations (customer, record) \
         SELECT * FROM UNNEST($1::text[], $2::bytea[]) \
         ON CONFLICT (customer) DO UPDATE SET record = EXCLUDED.record",
    )
    .bind(&customers)
    .bind(&records)
    .execute(connection)
    .await
    .map_err(db)?;
    Ok(())
}

/// The conversation list's rows, each step's row built on the one before it.
async fn write_summaries(connection: &mut PgConnection, steps: &[&StepCommit]) -> StoreResult<()> {
    let customers: Vec<CustomerId> = steps
        .iter()
        .map(|step| step.conversation.customer.clone())
        .collect();
    let mut rows: HashMap<CustomerId, ConversationSummary> =
        summary_rows_for_update(connection, &customers).await?;
    let mut changed: HashMap<CustomerId, ConversationSummary> = HashMap::new();
    for step in steps {
        let customer = &step.conversation.customer;
        let old = rows.get(customer).cloned();
        let inbound = step.history.iter().filter_map(|record| match record {
            HistoryEntry::In { at, channel, .. } => Some((*at, *channel)),
            _ => None,
        });
        let summary = ConversationSummary::after_step(
            old.clone(),
            &step.conversation,
            inbound,
            !step.outbox.is_empty(),
            step.now,
        );
        if old.as_ref() != Some(&summary) {
            changed.insert(customer.clone(), summary.clone());
        }
        rows.insert(customer.clone(), summary);
    }
    super::console::write_summaries(connection, changed.values()).await
}

/// The round's sends, numbered in step order.
async fn write_sends(
    connection: &mut PgConnection,
    steps: &[&StepCommit],
) -> StoreResult<Vec<Vec<OutboxEntry>>> {
    let count = steps.iter().map(|step| step.outbox.len()).sum();
    let mut ids = next_ids(connection, "outbox", "id", count)
        .await?
        .into_iter();
    let (mut numbers, mut customers, mut records) = (Vec::new(), Vec::new(), Vec::new());
    let mut shards = Vec::new();
    let mut created = Vec::with_capacity(steps.len());
    for step in steps {
        let customer = &step.conversation.customer;
        let mut sends = Vec::with_capacity(step.outbox.len());
        for send in &step.outbox {
            let Some(id) = ids.next() else {
                return Err(crate::store::StoreError::Engine(
                    "the outbox sequence gave too few numbers".into(),
                ));
            };
            let entry = send.entry(unbig(id), customer, step.now);
            numbers.push(id);
            customers.push(customer.0.clone());
            records.push(encode(&entry));
            shards.push(shard_column(customer));
            sends.push(entry);
        }
        created.push(sends);
    }
    if !numbers.is_empty() {
        sqlx::query(
            "INSERT INTO outbox (id, customer, record, shard) \
             SELECT * FROM UNNEST($1::bigint[], $2::text[], $3::bytea[], $4::int[])",
        )
        .bind(&numbers)
        .bind(&customers)
        .bind(&records)
        .bind(&shards)
        .execute(connection)
        .await
        .map_err(db)?;
    }
    Ok(created)
}

/// One history record per step: what came in and the replies it made.
async fn write_history(
    connection: &mut PgConnection,
    steps: &[&StepCommit],
    created: &[Vec<OutboxEntry>],
) -> StoreResult<()> {
    let mut rows = Vec::new();
    for (step, sends) in steps.iter().zip(created) {
        let replies: Vec<HistoryEntry> = sends
            .iter()
            .map(|entry| entry.as_history(step.now))
            .collect();
        let entries: Vec<&HistoryEntry> = step.history.iter().chain(&replies).collect();
        if entries.is_empty() {
            continue;
        }
        let (text, keys) = history_columns(&entries);
        rows.push((
            step.conversation.customer.0.clone(),
            text,
            // Message ids are [a-z0-9-]: a space separates them through the array.
            keys.join(" "),
            crate::store::history_chunk::encode_chunk(&entries),
        ));
    }
    let mut ids = next_ids(connection, "history", "id", rows.len())
        .await?
        .into_iter();
    let mut numbers = Vec::with_capacity(rows.len());
    for _ in &rows {
        numbers.push(ids.next().ok_or_else(|| {
            crate::store::StoreError::Engine("the history sequence gave too few numbers".into())
        })?);
    }
    if rows.is_empty() {
        return Ok(());
    }
    let rows: Vec<HistoryRow> = numbers
        .into_iter()
        .zip(rows)
        .map(|(id, (customer, text, keys, record))| HistoryRow {
            id,
            customer,
            text,
            keys,
            record,
        })
        .collect();
    insert_history(connection, rows).await
}

/// A history record with the columns the console searches and reports count; `keys` are
/// the replies' message ids separated by spaces (ids are [a-z0-9-]).
pub(super) struct HistoryRow {
    pub id: i64,
    pub customer: String,
    pub text: String,
    pub keys: String,
    pub record: Vec<u8>,
}

/// Inserts history records under their ids, in one statement.
pub(super) async fn insert_history(
    connection: &mut PgConnection,
    rows: Vec<HistoryRow>,
) -> StoreResult<()> {
    if rows.is_empty() {
        return Ok(());
    }
    let (mut ids, mut customers, mut texts, mut keys, mut records) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for row in rows {
        ids.push(row.id);
        customers.push(row.customer);
        texts.push(row.text);
        keys.push(row.keys);
        records.push(row.record);
    }
    sqlx::query(
        "INSERT INTO history (id, customer, inbound_text, reply_keys, record) \
         SELECT id, customer, text, \
                CASE WHEN keys = '' THEN '{}'::text[] ELSE string_to_array(keys, ' ') END, \
                record \
         FROM UNNEST($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bytea[]) \
              AS r(id, customer, text, keys, record)",
    )
    .bind(&ids)
    .bind(&customers)
    .bind(&texts)
    .bind(&keys)
    .bind(&records)
    .execute(connection)
    .await
    .map_err(db)?;
    Ok(())
}

/// Each conversation's timers of each kind as the round's last step left them.
async fn write_timers(connection: &mut PgConnection, steps: &[&StepCommit]) -> StoreResult<()> {
    let mut last: HashMap<(&str, TimerKind), &TimerChange> = HashMap::new();
    for step in steps {
        for change in &step.timers {
            let key = match change {
                TimerChange::Set(timer) => (timer.customer.0.as_str(), timer.kind),
                TimerChange::Cancel { customer, kind } => (customer.0.as_str(), *kind),
            };
            last.insert(key, change);
        }
    }
    let (mut set_customers, mut set_kinds, mut set_dues, mut set_records) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    let (mut gone_customers, mut gone_kinds) = (Vec::new(), Vec::new());
    let mut set_shards = Vec::new();
    for ((customer, kind), change) in last {
        match change {
            TimerChange::Set(timer) => {
                set_customers.push(customer);
                set_shards.push(shard_column(&timer.customer));
                set_kinds.push(kind.name());
                set_dues.push(timer.due.millis());
                set_records.push(encode(timer));
            }
            TimerChange::Cancel { .. } => {
                gone_customers.push(customer);
                gone_kinds.push(kind.name());
            }
        }
    }
    if !set_customers.is_empty() {
        sqlx::query(
            "INSERT INTO timers (customer, kind, due, record, shard) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bytea[], $5::int[]) \
             ON CONFLICT (customer, kind) DO UPDATE SET due = EXCLUDED.due, \
             record = EXCLUDED.record",
        )
        .bind(&set_customers)
        .bind(&set_kinds)
        .bind(&set_dues)
        .bind(&set_records)
        .bind(&set_shards)
        .execute(&mut *connection)
        .await
        .map_err(db)?;
    }
    if !gone_customers.is_empty() {
        sqlx::query(
            "DELETE FROM timers WHERE (customer, kind) IN \
             (SELECT * FROM UNNEST($1::text[], $2::text[]))",
        )
        .bind(&gone_customers)
        .bind(&gone_kinds)
        .execute(connection)
        .await
        .map_err(db)?;
    }
    Ok(())
}

/// Sends the platforms accepted leave the outbox; their platform ids map back to them.
async fn deliver(connection: &mut PgConnection, delivered: &[&Delivered]) -> StoreResult<()> {
    if delivered.is_empty() {
        return Ok(());
    }
    // Only sends still pending leave records behind (an erased customer's are gone).
    let all: Vec<i64> = delivered.iter().map(|send| big(send.outbox_id)).collect();
    let gone: Vec<(i64,)> = sqlx::query_as("DELETE FROM outbox WHERE id = ANY($1) RETURNING id")
        .bind(&all)
        .fetch_all(&mut *connection)
        .await
        .map_err(db)?;
    let gone: std::collections::HashSet<i64> = gone.into_iter().map(|(id,)| id).collect();
    let mut last: HashMap<(&str, &str), (i64, Vec<u8>)> = HashMap::new();
    for send in delivered
        .iter()
        .filter(|send| gone.contains(&big(send.outbox_id)))
    {
        for record in &send.sent {
            last.insert(
                (record.channel.name(), record.platform_id.as_str()),
                (big(send.outbox_id), encode(record)),
            );
        }
    }
    if !last.is_empty() {
        let (mut channels, mut ids, mut outbox_ids, mut records) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for ((channel, platform_id), (outbox_id, record)) in last {
            channels.push(channel);
            ids.push(platform_id);
            outbox_ids.push(outbox_id);
            records.push(record);
        }
        sqlx::query(
            "INSERT INTO sent (channel, platform_id, outbox_id, record) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::bigint[], $4::bytea[]) \
             ON CONFLICT (channel, platform_id) DO UPDATE SET outbox_id = EXCLUDED.outbox_id, \
             record = EXCLUDED.record",
        )
        .bind(&channels)
        .bind(&ids)
        .bind(&outbox_ids)
        .bind(&records)
        .execute(&mut *connection)
        .await
        .map_err(db)?;
    }
    Ok(())
}
