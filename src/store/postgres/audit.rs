//! The audit log in the database (`migrations/0004_audit.sql`): one row per entry, the
//! record encoded as every other; time and customer in columns for listing and pruning.

use flows::{CustomerId, Timestamp};

use super::{PgStore, db, decode_rows};
use crate::store::codec::encode;
use crate::store::{Audit, AuditEntry, StoreResult};

#[async_trait::async_trait]
impl Audit for PgStore {
    async fn record_audit(&self, entry: &AuditEntry) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO audit (at, actor, action, customer, record) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(entry.at.millis())
        .bind(&entry.actor)
        .bind(&entry.action)
        .bind(entry.customer.as_ref().map(|c| c.0.as_str()))
        .bind(encode(entry))
        .execute(self.pool())
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn audit_entries(
        &self,
        customer: Option<&CustomerId>,
        limit: usize,
    ) -> StoreResult<Vec<AuditEntry>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<(Vec<u8>,)> = match customer {
            Some(customer) => sqlx::query_as(
                "SELECT record FROM audit WHERE customer = $1 ORDER BY at DESC, id DESC LIMIT $2",
            )
            .bind(&customer.0)
            .bind(limit)
            .fetch_all(self.pool())
            .await
            .map_err(db)?,
            None => sqlx::query_as("SELECT record FROM audit ORDER BY at DESC, id DESC LIMIT $1")
                .bind(limit)
                .fetch_all(self.pool())
                .await
                .map_err(db)?,
        };
        Ok(decode_rows(
            "audit entry",
            rows.into_iter().map(|(record,)| record),
        ))
    }

    async fn prune_audit(&self, before: Timestamp) -> StoreResult<usize> {
        let done = sqlx::query("DELETE FROM audit WHERE at < $1")
            .bind(before.millis())
            .execute(self.pool())
            .await
            .map_err(db)?;
        Ok(usize::try_from(done.rows_affected()).unwrap_or(usize::MAX))
    }
}
