//! What the console lists and searches, on PostgreSQL: the list is a query (filter, channel,
//! newest first, a limit) on indexed columns of `summaries`; text search reads the lower-case
//! customer texts kept beside each history record.

use std::collections::HashMap;
use std::time::Instant;

use flows::{CustomerId, TextKey};
use sqlx::PgConnection;

use super::{PgStore, db, decode_opt, decode_rows};
use crate::store::codec::encode;
use crate::store::{
    ConsoleQueries, ConversationSummary, ListFilter, ListPage, ListQuery, StoreResult,
};

/// Writes a conversation list row with the columns the list filters and sorts on.
pub(super) async fn write_summary(
    connection: &mut PgConnection,
    summary: &ConversationSummary,
) -> StoreResult<()> {
    let channels: Vec<&str> = summary.channels.iter().map(|c| c.name()).collect();
    sqlx::query(
        "INSERT INTO summaries (customer, last_at, waiting, owner, channels, record) \
         VALUES ($1, $2, $3, $4, $5, $6) \
         ON CONFLICT (customer) DO UPDATE SET last_at = EXCLUDED.last_at, \
         waiting = EXCLUDED.waiting, owner = EXCLUDED.owner, channels = EXCLUDED.channels, \
         record = EXCLUDED.record",
    )
    .bind(&summary.customer.0)
    .bind(summary.last_at.millis())
    .bind(summary.handoff.is_waiting())
    .bind(summary.handoff.owner().map(|operator| operator.0.as_str()))
    .bind(&channels)
    .bind(encode(summary))
    .execute(connection)
    .await
    .map_err(db)?;
    Ok(())
}

/// A customer's row, locked until the transaction ends (a step and an operator's "read" may
/// rewrite it at the same moment).
pub(super) async fn summary_for_update(
    connection: &mut PgConnection,
    customer: &CustomerId,
) -> StoreResult<Option<ConversationSummary>> {
    let raw: Option<(Vec<u8>,)> =
        sqlx::query_as("SELECT record FROM summaries WHERE customer = $1 FOR UPDATE")
            .bind(&customer.0)
            .fetch_optional(connection)
            .await
            .map_err(db)?;
    decode_opt("summary", raw.map(|(raw,)| raw))
}

/// The rows of `customers`, locked in customer order (so two rounds never wait on each
/// other in a circle) until the transaction ends.
pub(super) async fn summary_rows_for_update(
    connection: &mut PgConnection,
    customers: &[CustomerId],
) -> StoreResult<HashMap<CustomerId, ConversationSummary>> {
    let ids: Vec<&str> = customers
        .iter()
        .map(|customer| customer.0.as_str())
        .collect();
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT customer, record FROM summaries WHERE customer = ANY($1) \
         ORDER BY customer FOR UPDATE",
    )
    .bind(&ids)
    .fetch_all(connection)
    .await
    .map_err(db)?;
    let mut found = HashMap::with_capacity(rows.len());
    for (customer, raw) in rows {
        match crate::store::codec::decode::<ConversationSummary>("summary", &raw) {
            Ok(summary) => {
                found.insert(CustomerId(customer), summary);
            }
            Err(error) => tracing::error!(%error, "rebuilding an undecodable summary"),
        }
    }
    Ok(found)
}

/// Writes list rows, all in one statement.
pub(super) async fn write_summaries<'a>(
    connection: &mut PgConnection,
    summaries: impl Iterator<Item = &'a ConversationSummary>,
) -> StoreResult<()> {
    let (mut customers, mut last_at, mut waiting, mut owners, mut channels, mut records) = (
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
        Vec::new(),
    );
    for summary in summaries {
        customers.push(summary.customer.0.as_str());
        last_at.push(summary.last_at.millis());
        waiting.push(summary.handoff.is_waiting());
        owners.push(summary.handoff.owner().map(|operator| operator.0.as_str()));
        // Channel names are lower-case words: a space separates them through the array.
        channels.push(
            summary
                .channels
                .iter()
                .map(|channel| channel.name())
                .collect::<Vec<_>>()
                .join(" "),
        );
        records.push(encode(summary));
    }
    if customers.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO summaries (customer, last_at, waiting, owner, channels, record) \
         SELECT customer, last_at, waiting, owner, \
                CASE WHEN channels = '' THEN '{}'::text[] ELSE string_to_array(channels, ' ') END, \
                record \
         FROM UNNEST($1::text[], $2::bigint[], $3::bool[], $4::text[], $5::text[], $6::bytea[]) \
              AS r(customer, last_at, waiting, owner, channels, record) \
         ON CONFLICT (customer) DO UPDATE SET last_at = EXCLUDED.last_at, \
         waiting = EXCLUDED.waiting, owner = EXCLUDED.owner, channels = EXCLUDED.channels, \
         record = EXCLUDED.record",
    )
    .bind(&customers)
    .bind(&last_at)
    .bind(&waiting)
    .bind(&owners)
    .bind(&channels)
    .bind(&records)
    .execute(connection)
    .await
    .map_err(db)?;
    Ok(())
}

#[async_trait::async_trait]
impl ConsoleQueries for PgStore {
    async fn summaries(&self) -> StoreResult<Vec<ConversationSummary>> {
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as("SELECT record FROM summaries")
            .fetch_all(self.pool())
            .await
            .map_err(db)?;
        Ok(decode_rows("summary", rows.into_iter().map(|(raw,)| raw)))
    }

    async fn conversations(&self, query: &ListQuery) -> StoreResult<ListPage> {
        let (waiting_only, owner) = match &query.filter {
            ListFilter::All => (false, None),
            ListFilter::Waiting => (true, None),
            ListFilter::OwnedBy(operator) => (false, Some(operator.as_str())),
        };
        let limit = query
            .limit
            .map_or(i64::MAX, |limit| i64::try_from(limit).unwrap_or(i64::MAX));
        let rows: Vec<(Vec<u8>,)> = sqlx::query_as(
            "SELECT record FROM summaries \
             WHERE ($1 = false OR waiting) AND ($2::text IS NULL OR owner = $2) \
             AND ($3::text IS NULL OR $3 = ANY(channels)) \
             ORDER BY last_at DESC, customer LIMIT $4",
        )
        .bind(waiting_only)
        .bind(owner)
        .bind(query.channel.map(|channel| channel.name()))
        .bind(limit)
        .fetch_all(self.pool())
        .await
        .map_err(db)?;
        let (waiting,): (i64,) = sqlx::query_as("SELECT count(*) FROM summaries WHERE waiting")
            .fetch_one(self.pool())
            .await
            .map_err(db)?;
        Ok(ListPage {
            rows: decode_rows("summary", rows.into_iter().map(|(raw,)| raw)),
            waiting: usize::try_from(waiting).unwrap_or(0),
        })
    }

    async fn summary(&self, customer: &CustomerId) -> StoreResult<Option<ConversationSummary>> {
        let raw: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT record FROM summaries WHERE customer = $1")
                .bind(&customer.0)
                .fetch_optional(self.pool())
                .await
                .map_err(db)?;
        decode_opt("summary", raw.map(|(raw,)| raw))
    }

    async fn mark_read(&self, customer: &CustomerId) -> StoreResult<()> {
        let mut tx = self.pool().begin().await.map_err(db)?;
        if let Some(mut summary) = summary_for_update(&mut tx, customer).await?
            && summary.unread != 0
        {
            summary.unread = 0;
            write_summary(&mut tx, &summary).await?;
        }
        tx.commit().await.map_err(db)
    }

    async fn customers_who_wrote(
        &self,
        needle: &str,
        deadline: Instant,
    ) -> StoreResult<(Vec<CustomerId>, bool)> {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok((Vec::new(), false));
        }
        // The search may not outlast the caller's deadline: the server cancels it then.
        let mut tx = self.pool().begin().await.map_err(db)?;
        sqlx::query("SELECT set_config('statement_timeout', $1, true)")
            .bind(left.as_millis().max(1).to_string())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let found: Result<Vec<(String,)>, sqlx::Error> = sqlx::query_as(
            "SELECT DISTINCT customer FROM history \
             WHERE strpos(inbound_text, $1) > 0 ORDER BY customer",
        )
        .bind(needle)
        .fetch_all(&mut *tx)
        .await;
        match found {
            Ok(rows) => {
                tx.commit().await.map_err(db)?;
                Ok((rows.into_iter().map(|(id,)| CustomerId(id)).collect(), true))
            }
            // Cancelled at the deadline: nothing read to completion.
            Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("57014") => {
                Ok((Vec::new(), false))
            }
            Err(error) => Err(db(error)),
        }
    }

    async fn count_replies(&self, keys: &[TextKey]) -> StoreResult<Vec<u64>> {
        let ids: Vec<&str> = keys.iter().map(|key| key.id()).collect();
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT key, count(*) FROM history, unnest(reply_keys) AS key \
             WHERE key = ANY($1) GROUP BY key",
        )
        .bind(&ids)
        .fetch_all(self.pool())
        .await
        .map_err(db)?;
        Ok(ids
            .iter()
            .map(|id| {
                rows.iter()
                    .find(|(key, _)| key == id)
                    .map_or(0, |(_, count)| u64::try_from(*count).unwrap_or(0))
            })
            .collect())
    }
}
