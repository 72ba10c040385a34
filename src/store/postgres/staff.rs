//! Operators, their console sessions, known devices, invitations, the set-up token and the
//! channels' callback tokens on PostgreSQL. Secrets are kept by digest (`bytea` keys), as in
//! sled. What must happen once (a name taken, an invite or set-up link used) is one
//! statement the database serializes: a unique key or a `DELETE ... RETURNING`.

use flows::Timestamp;

use super::{PgStore, db, decode_opt, decode_rows};
use crate::store::codec::encode;
use crate::store::{
    ChannelState, ConsoleSession, Invite, KnownDevice, Operator, Staff, StoreResult,
};

/// A row count as the roles report it.
fn count(n: u64) -> usize {
    usize::try_from(n).unwrap_or(usize::MAX)
}

#[async_trait::async_trait]
impl Staff for PgStore {
    async fn put_operator(&self, operator: &Operator, replace: bool) -> StoreResult<bool> {
        if !replace {
            // The name's key decides between two admins creating it at once.
            let inserted = sqlx::query(
                "INSERT INTO operators (name, record) VALUES ($1, $2) \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(&operator.name)
            .bind(encode(operator))
            .execute(self.pool())
            .await
            .map_err(db)?
            .rows_affected();
            return Ok(inserted == 1);
        }
        // A new password logs everyone out: the record and the end of the sessions land
        // together, so no session outlives the password it was opened with.
        let mut tx = self.pool().begin().await.map_err(db)?;
        sqlx::query(
            "INSERT INTO operators (name, record) VALUES ($1, $2) \
             ON CONFLICT (name) DO UPDATE SET record = EXCLUDED.record",
        )
        .bind(&operator.name)
        .bind(encode(operator))
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        sqlx::query("DELETE FROM console_sessions WHERE operator = $1")
            .bind(&operator.name)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn remove_operator(&self, name: &str) -> StoreResult<bool> {
        let mut tx = self.pool().begin().await.map_err(db)?;
        let removed = sqlx::query("DELETE FROM operators WHERE name = $1")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        // Sessions go even when the operator was already gone, as in sled: none may remain
        // for a name that no longer logs in.
        sqlx::query("DELETE FROM console_sessions WHERE operator = $1")
            .bind(name)
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(removed > 0)
    }

    async fn operator(&self, name: &str) -> StoreResult<Option<Operator>> {
        let raw: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT record FROM operators WHERE name = $1")
                .bind(name)
                .fetch_optional(self.pool())
                .await
                .map_err(db)?;
        decode_opt("operator", raw.map(|(raw,)| raw))
    }

    async fn operators(&self) -> StoreResult<Vec<Operator>> {
        // Name order in bytes (the "C" collation), as sled's keys sort.
        let rows: Vec<(Vec<u8>,)> =
            sqlx::query_as("SELECT record FROM operators ORDER BY name COLLATE \"C\"")
                .fetch_all(self.pool())
                .await
                .map_err(db)?;
        Ok(decode_rows("operator", rows.into_iter().map(|(raw,)| raw)))
    }

    async fn put_console_session(
        &self,
        digest: &[u8],
        session: &ConsoleSession,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO console_sessions (digest, operator, expires_at, record) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (digest) DO UPDATE SET operator = EXCLUDED.operator, \
             expires_at = EXCLUDED.expires_at, record = EXCLUDED.record",
        )
        .bind(digest)
        .bind(&session.operator)
        .bind(session.expires_at.millis())
        .bind(encode(session))
        .execute(self.pool())
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn console_session(&self, digest: &[u8]) -> StoreResult<Option<ConsoleSession>> {
        let raw: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT record FROM console_sessions WHERE digest = $1")
                .bind(digest)
                .fetch_optional(self.pool())
                .await
                .map_err(db)?;
        decode_opt("console session", raw.map(|(raw,)| raw))
    }

    async fn delete_console_session(&self, digest: &[u8]) -> StoreResult<()> {
        sqlx::query("DELETE FROM console_sessions WHERE digest = $1")
            .bind(digest)
            .execute(self.pool())
            .await
            .map_err(db)?;
        Ok(())
    }

    async fn prune_console_sessions(&self, now: Timestamp) -> StoreResult<usize> {
        // The expiry columns say it without decoding a record; one transaction, so a
        // failure part-way leaves nothing half pruned (the next run would redo it anyway).
        let mut tx = self.pool().begin().await.map_err(db)?;
        let mut pruned = 0;
        for statement in [
            "DELETE FROM console_sessions WHERE expires_at < $1",
            "DELETE FROM known_devices WHERE expires_at < $1",
            "DELETE FROM invites WHERE expires_at < $1",
            // A day old (`http/webchat_sessions.rs`'s PENDING_TTL).
            "DELETE FROM pending_sessions WHERE created_at < $1 - 86400000",
        ] {
            pruned += sqlx::query(statement)
                .bind(now.millis())
                .execute(&mut *tx)
                .await
                .map_err(db)?
                .rows_affected();
        }
        tx.commit().await.map_err(db)?;
        Ok(count(pruned))
    }

    async fn put_known_device(&self, digest: &[u8], device: &KnownDevice) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO known_devices (digest, expires_at, record) VALUES ($1, $2, $3) \
             ON CONFLICT (digest) DO UPDATE SET expires_at = EXCLUDED.expires_at, \
             record = EXCLUDED.record",
        )
        .bind(digest)
        .bind(device.expires_at.millis())
        .bind(encode(device))
        .execute(self.pool())
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn known_device(&self, digest: &[u8]) -> StoreResult<Option<KnownDevice>> {
        let raw: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT record FROM known_devices WHERE digest = $1")
                .bind(digest)
                .fetch_optional(self.pool())
                .await
                .map_err(db)?;
        decode_opt("known device", raw.map(|(raw,)| raw))
    }

    async fn put_invite(&self, digest: &[u8], invite: &Invite) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO invites (digest, operator, expires_at, record) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (digest) DO UPDATE SET operator = EXCLUDED.operator, \
             expires_at = EXCLUDED.expires_at, record = EXCLUDED.record",
        )
        .bind(digest)
        .bind(&invite.operator)
        .bind(invite.expires_at.millis())
        .bind(encode(invite))
        .execute(self.pool())
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn take_invite(&self, digest: &[u8]) -> StoreResult<Option<Invite>> {
        // One statement: of two browsers opening the link at once, one gets the invite.
        let raw: Option<(Vec<u8>,)> =
            sqlx::query_as("DELETE FROM invites WHERE digest = $1 RETURNING record")
                .bind(digest)
                .fetch_optional(self.pool())
                .await
                .map_err(db)?;
        decode_opt("invite", raw.map(|(raw,)| raw))
    }

    async fn revoke_invites(&self, operator: &str) -> StoreResult<usize> {
        let revoked = sqlx::query("DELETE FROM invites WHERE operator = $1")
            .bind(operator)
            .execute(self.pool())
            .await
            .map_err(db)?
            .rows_affected();
        Ok(count(revoked))
    }

    async fn put_setup_token(&self, digest: &[u8], expires_at: Timestamp) -> StoreResult<()> {
        // The table holds one row: writing it is what makes any earlier token stop working.
        sqlx::query(
            "INSERT INTO setup_token (only_row, digest, expires_at) VALUES (true, $1, $2) \
             ON CONFLICT (only_row) DO UPDATE SET digest = EXCLUDED.digest, \
             expires_at = EXCLUDED.expires_at",
        )
        .bind(digest)
        .bind(expires_at.millis())
        .execute(self.pool())
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn setup_token(&self, digest: &[u8]) -> StoreResult<Option<Timestamp>> {
        let expires: Option<(i64,)> =
            sqlx::query_as("SELECT expires_at FROM setup_token WHERE digest = $1")
                .bind(digest)
                .fetch_optional(self.pool())
                .await
                .map_err(db)?;
        Ok(expires.map(|(at,)| Timestamp(at)))
    }

    async fn take_setup_token(&self, digest: &[u8]) -> StoreResult<Option<Timestamp>> {
        // One statement: the set-up link creates one first admin, however often it is
        // submitted at once.
        let expires: Option<(i64,)> =
            sqlx::query_as("DELETE FROM setup_token WHERE digest = $1 RETURNING expires_at")
                .bind(digest)
                .fetch_optional(self.pool())
                .await
                .map_err(db)?;
        Ok(expires.map(|(at,)| Timestamp(at)))
    }
}

#[async_trait::async_trait]
impl ChannelState for PgStore {
    async fn put_callback_token(&self, token: &str, action: &str) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO callback_tokens (token, action) VALUES ($1, $2) \
             ON CONFLICT (token) DO UPDATE SET action = EXCLUDED.action",
        )
        .bind(token)
        .bind(action)
        .execute(self.pool())
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn callback_token(&self, token: &str) -> StoreResult<Option<String>> {
        let action: Option<(String,)> =
            sqlx::query_as("SELECT action FROM callback_tokens WHERE token = $1")
                .bind(token)
                .fetch_optional(self.pool())
                .await
                .map_err(db)?;
        Ok(action.map(|(action,)| action))
    }

    async fn put_pending_session(
        &self,
        digest: &str,
        locale: flows::Locale,
        at: Timestamp,
    ) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO pending_sessions (digest, locale, created_at) VALUES ($1, $2, $3) \
             ON CONFLICT (digest) DO NOTHING",
        )
        .bind(digest)
        .bind(locale.code())
        .bind(at.millis())
        .execute(self.pool())
        .await
        .map_err(db)?;
        Ok(())
    }

    async fn pending_session(
        &self,
        digest: &str,
        since: Timestamp,
    ) -> StoreResult<Option<flows::Locale>> {
        let found: Option<(String,)> = sqlx::query_as(
            "SELECT locale FROM pending_sessions WHERE digest = $1 AND created_at >= $2",
        )
        .bind(digest)
        .bind(since.millis())
        .fetch_optional(self.pool())
        .await
        .map_err(db)?;
        Ok(found.and_then(|(tag,)| flows::Locale::from_tag(&tag)))
    }
}
