//! Writing another store's records into an empty database (`souk store copy`), all in one
//! transaction: the copy lands whole or not at all. Rows keep the numbers their records had
//! (inbox sequence, outbox, history and delivery ids), and the sequences then continue
//! after the highest, so what souk numbers next never meets an old number.

use sqlx::{Postgres, Transaction};

use super::commit_log::{history_columns, set_timer};
use super::console::write_summary;
use super::group_write::{HistoryRow, insert_history};
use super::{PgStore, big, db, identity_text};
use crate::store::codec::encode;
use crate::store::copy::Record;
use crate::store::history_chunk::encode_chunk;
use crate::store::{HistoryEntry, StoreError, StoreResult};

/// The tables whose rows mean a shop lives here already (another copy, or souk itself).
const LOCK_SHOP: &str = "LOCK TABLE customers, conversations, inbox, outbox, orders, operators \
                         IN SHARE ROW EXCLUSIVE MODE";
const HELD_TABLES: &str = "SELECT array_remove(ARRAY[ \
     CASE WHEN EXISTS (SELECT 1 FROM customers) THEN 'customers' END, \
     CASE WHEN EXISTS (SELECT 1 FROM conversations) THEN 'conversations' END, \
     CASE WHEN EXISTS (SELECT 1 FROM inbox) THEN 'inbox' END, \
     CASE WHEN EXISTS (SELECT 1 FROM outbox) THEN 'outbox' END, \
     CASE WHEN EXISTS (SELECT 1 FROM orders) THEN 'orders' END, \
     CASE WHEN EXISTS (SELECT 1 FROM operators) THEN 'operators' END], NULL)";

/// The numbered tables and their identity columns.
const NUMBERED: [(&str, &str); 4] = [
    ("inbox", "seq"),
    ("outbox", "id"),
    ("history", "id"),
    ("deliveries", "id"),
];

/// A copy under way: its transaction, and the highest number its records used.
pub(in crate::store) struct Import {
    tx: Transaction<'static, Postgres>,
    highest: Option<u64>,
    /// History records waiting to go in together (a store holds many of them; one
    /// statement per record made a million-record copy take minutes).
    history: Vec<HistoryRow>,
}

/// History records written per statement.
const HISTORY_BATCH: usize = 512;

impl Import {
    /// Starts the copy's transaction once the database (`described`, for the message) holds
    /// no souk data: a copy never mixes two shops. The shop's tables stay locked against
    /// writers until the end, so two copies at once cannot both find them empty.
    pub(in crate::store) async fn begin(store: &PgStore, described: &str) -> StoreResult<Import> {
        let mut tx = store.pool().begin().await.map_err(db)?;
        sqlx::query(LOCK_SHOP).execute(&mut *tx).await.map_err(db)?;
        let (held,): (Vec<String>,) = sqlx::query_as(HELD_TABLES)
            .fetch_one(&mut *tx)
            .await
            .map_err(db)?;
        if !held.is_empty() {
            return Err(StoreError::Engine(format!(
                "the database ({described}) already holds souk data (rows in {}): copy only into \
                 an empty schema, so two shops never mix; pick another store.postgres.schema",
                held.join(", ")
            )));
        }
        Ok(Import {
            tx,
            highest: None,
            history: Vec::with_capacity(HISTORY_BATCH),
        })
    }

    /// Writes one record.
    pub(in crate::store) async fn put(&mut self, record: Record) -> StoreResult<()> {
        self.note_numbers(&record);
        let query = match record {
            Record::Timer(timer) => return set_timer(&mut self.tx, &timer).await,
            Record::Summary(summary) => return write_summary(&mut self.tx, &summary).await,
            Record::Unreadable => return Ok(()),
            Record::Customer(customer) => {
                sqlx::query("INSERT INTO customers (id, record) VALUES ($1, $2)")
                    .bind(customer.id.0.clone())
                    .bind(encode(&customer))
            }
            Record::Identity { identity, customer } => {
                sqlx::query("INSERT INTO identities (identity, customer) VALUES ($1, $2)")
                    .bind(identity_text(&identity))
                    .bind(customer.0)
            }
            Record::Blocked(identity) => sqlx::query("INSERT INTO blocked (identity) VALUES ($1)")
                .bind(identity_text(&identity)),
            Record::LinkCode { code, record } => {
                sqlx::query("INSERT INTO link_codes (code, record) VALUES ($1, $2)")
                    .bind(code)
                    .bind(encode(&record))
            }
            Record::Merge(merge) => sqlx::query(
                "INSERT INTO merges (into_customer, from_customer, merged_at, record) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(merge.into.0.clone())
            .bind(merge.from.id.0.clone())
            .bind(merge.at.millis())
            .bind(encode(&merge)),
            // A mark the store kept without a time ages from now: kept a whole retention
            // window rather than dropped, so a late duplicate is still recognised.
            Record::Processed { dedup_key, seen_at } => sqlx::query(
                "INSERT INTO processed (dedup_key, seen_at) \
                 VALUES ($1, coalesce($2, (extract(epoch FROM now()) * 1000)::bigint))",
            )
            .bind(dedup_key)
            .bind(seen_at.map(|at| at.millis())),
            Record::Inbox(entry) => {
                sqlx::query(
                    "INSERT INTO inbox (seq, customer, record, shard) VALUES ($1, $2, $3, $4)",
                )
                .bind(big(entry.seq))
                .bind(entry.customer.0.clone())
                .bind(encode(&entry))
                .bind(super::shard_column(&entry.customer))
            }
            Record::StepAttempts { seq, attempts } => {
                sqlx::query("INSERT INTO step_attempts (seq, attempts) VALUES ($1, $2)")
                    .bind(big(seq))
                    .bind(i32::try_from(attempts).unwrap_or(i32::MAX))
            }
            Record::SetAside { seq, record } => {
                sqlx::query("INSERT INTO set_aside (seq, record) VALUES ($1, $2)")
                    .bind(big(seq))
                    .bind(encode(&record))
            }
            Record::Conversation(conversation) => {
                sqlx::query("INSERT INTO conversations (customer, record) VALUES ($1, $2)")
                    .bind(conversation.customer.0.clone())
                    .bind(encode(&conversation))
            }
            Record::History {
                id,
                customer,
                entries,
            } => {
                // The same columns and record a step's commit writes.
                let entries: Vec<&HistoryEntry> = entries.iter().collect();
                let (text, keys) = history_columns(&entries);
                self.history.push(HistoryRow {
                    id: big(id),
                    customer: customer.0,
                    text,
                    keys: keys.join(" "),
                    record: encode_chunk(&entries),
                });
                if self.history.len() >= HISTORY_BATCH {
                    let rows = std::mem::take(&mut self.history);
                    insert_history(&mut self.tx, rows).await?;
                }
                return Ok(());
            }
            Record::Outbox(entry) => {
                sqlx::query(
                    "INSERT INTO outbox (id, customer, record, shard) VALUES ($1, $2, $3, $4)",
                )
                .bind(big(entry.id))
                .bind(entry.customer.0.clone())
                .bind(encode(&entry))
                .bind(super::shard_column(&entry.customer))
            }
            Record::Sent(sent) => sqlx::query(
                "INSERT INTO sent (channel, platform_id, outbox_id, record) VALUES ($1, $2, $3, $4)",
            )
            .bind(sent.channel.name())
            .bind(sent.platform_id.clone())
            .bind(big(sent.outbox_id))
            .bind(encode(&sent)),
            Record::Delivery { id, record } => sqlx::query(
                "INSERT INTO deliveries (id, channel, platform_id, record) VALUES ($1, $2, $3, $4)",
            )
            .bind(big(id))
            .bind(record.channel.name())
            .bind(record.platform_id.clone())
            .bind(encode(&record)),
            Record::DeadLetter { id, letter } => {
                sqlx::query("INSERT INTO dead_letters (id, record) VALUES ($1, $2)")
                    .bind(big(id))
                    .bind(encode(&letter))
            }
            Record::Order(order) => {
                sqlx::query("INSERT INTO orders (id, customer, record) VALUES ($1, $2, $3)")
                    .bind(order.id.0.clone())
                    .bind(order.customer.0.clone())
                    .bind(encode(&order))
            }
            // In the order the store read them: the queue's order (`created`) follows.
            Record::PaymentJob(job) => sqlx::query(
                "INSERT INTO payment_jobs (order_id, attempt, record, shard) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(job.order.0.clone())
            .bind(i64::from(job.attempt))
            .bind(encode(&job))
            .bind(super::shard_column(&job.customer)),
            Record::PayToken { digest, order } => {
                sqlx::query("INSERT INTO pay_tokens (digest, order_id) VALUES ($1, $2)")
                    .bind(digest)
                    .bind(order.0)
            }
            Record::PaymentSession { id, session } => sqlx::query(
                "INSERT INTO payment_sessions (id, order_id, created_at, record) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(id)
            .bind(session.order.0.clone())
            .bind(session.created_at.millis())
            .bind(encode(&session)),
            // A SKU's sold count and level come as two records: each fills its column.
            Record::Stock { sku, sold, level } => sqlx::query(
                "INSERT INTO stock (sku, sold, level) VALUES ($1, coalesce($2, 0), $3) \
                 ON CONFLICT (sku) DO UPDATE SET sold = coalesce($2, stock.sold), \
                 level = coalesce($3, stock.level)",
            )
            .bind(sku.0)
            .bind(sold.map(i64::from))
            .bind(level.map(i64::from)),
            Record::StockBase(base) => {
                sqlx::query("INSERT INTO stock_base (only_row, base) VALUES (true, $1)").bind(base)
            }
            Record::Audit(entry) => sqlx::query(
                "INSERT INTO audit (at, actor, action, customer, record) \
                 VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(entry.at.millis())
            .bind(entry.actor.clone())
            .bind(entry.action.clone())
            .bind(entry.customer.as_ref().map(|c| c.0.clone()))
            .bind(encode(&entry)),
            Record::Operator(operator) => {
                sqlx::query("INSERT INTO operators (name, record) VALUES ($1, $2)")
                    .bind(operator.name.clone())
                    .bind(encode(&operator))
            }
            Record::ConsoleSession { digest, session } => sqlx::query(
                "INSERT INTO console_sessions (digest, operator, expires_at, record) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind(digest)
            .bind(session.operator.clone())
            .bind(session.expires_at.millis())
            .bind(encode(&session)),
            Record::KnownDevice { digest, device } => sqlx::query(
                "INSERT INTO known_devices (digest, expires_at, record) VALUES ($1, $2, $3)",
            )
            .bind(digest)
            .bind(device.expires_at.millis())
            .bind(encode(&device)),
            Record::Invite { digest, invite } => sqlx::query(
                "INSERT INTO invites (digest, operator, expires_at, record) VALUES ($1, $2, $3, $4)",
            )
            .bind(digest)
            .bind(invite.operator.clone())
            .bind(invite.expires_at.millis())
            .bind(encode(&invite)),
            // One row: a later token replaces an earlier one, as setting one does.
            Record::SetupToken { digest, expires_at } => sqlx::query(
                "INSERT INTO setup_token (only_row, digest, expires_at) VALUES (true, $1, $2) \
                 ON CONFLICT (only_row) DO UPDATE SET digest = EXCLUDED.digest, \
                 expires_at = EXCLUDED.expires_at",
            )
            .bind(digest)
            .bind(expires_at.millis()),
            Record::CallbackToken { token, action } => {
                sqlx::query("INSERT INTO callback_tokens (token, action) VALUES ($1, $2)")
                    .bind(token)
                    .bind(action)
            }
            Record::Calendar { staff, entries } => {
                sqlx::query("INSERT INTO calendars (staff, record) VALUES ($1, $2)")
                    .bind(staff.0)
                    .bind(encode(&entries))
            }
            Record::Booking(booking) => sqlx::query(
                "INSERT INTO bookings (id, customer, token, record) VALUES ($1, $2, NULL, $3)",
            )
            .bind(booking.id.0.clone())
            .bind(booking.customer.0.clone())
            .bind(encode(&booking)),
            // The token is a column of its booking's row (written before it).
            Record::BookingToken { token, booking } => {
                sqlx::query("UPDATE bookings SET token = $2 WHERE id = $1")
                    .bind(booking.0)
                    .bind(token)
            }
        };
        query.execute(&mut *self.tx).await.map_err(db)?;
        Ok(())
    }

    /// Moves the sequences past every number copied, then commits.
    pub(in crate::store) async fn finish(mut self) -> StoreResult<()> {
        let rows = std::mem::take(&mut self.history);
        insert_history(&mut self.tx, rows).await?;
        // The embedded store numbers inbox events, sends, history records and delivery
        // statuses from one counter, and numbers cross tables: a set-aside event goes back
        // into the inbox under its number, a revived dead letter into the outbox under its
        // id, history names the sends' ids. So every sequence continues after the highest
        // number of any of them (a sequence starts at 1).
        if let Some(highest) = self.highest {
            for (table, column) in NUMBERED {
                sqlx::query("SELECT setval(pg_get_serial_sequence($1, $2), $3)")
                    .bind(table)
                    .bind(column)
                    .bind(big(highest).max(1))
                    .execute(&mut *self.tx)
                    .await
                    .map_err(db)?;
            }
        }
        self.tx.commit().await.map_err(db)
    }

    fn note_numbers(&mut self, record: &Record) {
        let highest = match record {
            Record::Inbox(entry) => entry.seq,
            Record::StepAttempts { seq, .. } | Record::SetAside { seq, .. } => *seq,
            Record::Outbox(entry) => entry.id,
            Record::Sent(sent) => sent.outbox_id,
            Record::Delivery { id, .. } | Record::DeadLetter { id, .. } => *id,
            Record::History { id, entries, .. } => entries
                .iter()
                .filter_map(|entry| match entry {
                    HistoryEntry::Out { outbox_id, .. } => Some(*outbox_id),
                    _ => None,
                })
                .fold(*id, u64::max),
            _ => return,
        };
        self.highest = Some(self.highest.map_or(highest, |known| known.max(highest)));
    }
}
