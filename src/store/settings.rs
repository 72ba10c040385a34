//! `[store]`: which backend keeps souk's records, and how to reach it.

use std::path::PathBuf;

use serde::Deserialize;

use crate::settings::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// Embedded, in `store.path`: one process, the two-command demo.
    #[default]
    Sled,
    /// A PostgreSQL database shared by every replica.
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sled => "sled",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    #[serde(default)]
    pub backend: Backend,
    /// The sled store's folder (unused with PostgreSQL).
    pub path: PathBuf,
    /// How long provider message ids are remembered to drop duplicates.
    pub dedup_retention_hours: u64,
    #[serde(default)]
    pub postgres: PostgresSettings,
}

/// `[store.postgres]`. The URL carries a password: only from `SOUK__STORE__POSTGRES__URL`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresSettings {
    #[serde(default)]
    pub url: Option<Secret>,
    /// Connections each replica keeps open at most.
    #[serde(default = "default_pool_size")]
    pub pool_size: u32,
    /// Any statement running longer is cancelled by the server (and the call fails, retryably).
    #[serde(default = "default_statement_timeout_ms")]
    pub statement_timeout_ms: u64,
    /// How long to wait for a connection from the pool or to the server.
    #[serde(default = "default_connect_timeout_ms")]
    pub connect_timeout_ms: u64,
    /// The schema souk's tables live in (several shops can share one database).
    #[serde(default = "default_schema")]
    pub schema: String,
    /// Group-commit rounds written at once. More overlap their round trips; fewer make
    /// bigger rounds (fewer commits, less CPU) when the database shares the machine.
    #[serde(default = "default_concurrent_writes")]
    pub concurrent_writes: usize,
    /// How long a replica's hold on its shards lasts unless renewed (renewed every third of
    /// it): a replica that dies loses its conversations to the others within this time.
    #[serde(default = "default_lease_seconds")]
    pub lease_seconds: u64,
    /// This replica's name among the replicas; empty for a random one per start. A stable
    /// name (one per machine, never two processes at once) lets a restarted replica take
    /// its shards back at once instead of after `lease_seconds`.
    #[serde(default)]
    pub replica_id: String,
}

impl Default for PostgresSettings {
    fn default() -> Self {
        PostgresSettings {
            url: None,
            pool_size: default_pool_size(),
            statement_timeout_ms: default_statement_timeout_ms(),
            connect_timeout_ms: default_connect_timeout_ms(),
            schema: default_schema(),
            concurrent_writes: default_concurrent_writes(),
            lease_seconds: default_lease_seconds(),
            replica_id: String::new(),
        }
    }
}

fn default_pool_size() -> u32 {
    16
}

fn default_statement_timeout_ms() -> u64 {
    5_000
}

fn default_connect_timeout_ms() -> u64 {
    5_000
}

/// One: since a round writes a statement per kind of row, bigger rounds beat overlapping
/// ones when the database shares the machine (compare.sh: 2,491 msgs/s, p99 49 ms with one;
/// 2,137 and 114 ms with four; 2,099 and 127 ms with eight).
fn default_concurrent_writes() -> usize {
    1
}

fn default_lease_seconds() -> u64 {
    9
}

fn default_schema() -> String {
    "public".into()
}

impl StoreSettings {
    /// A sled store in `path` (tests, tools).
    pub fn sled(path: impl Into<PathBuf>) -> StoreSettings {
        StoreSettings {
            backend: Backend::Sled,
            path: path.into(),
            dedup_retention_hours: 168,
            postgres: PostgresSettings::default(),
        }
    }

    /// Where the records live, for messages (never the URL: it may hold a password).
    pub fn describe(&self) -> String {
        match self.backend {
            Backend::Sled => format!("sled at {}", self.path.display()),
            Backend::Postgres => format!(
                "postgres (schema {}, pool {}, statement timeout {} ms)",
                self.postgres.schema, self.postgres.pool_size, self.postgres.statement_timeout_ms
            ),
        }
    }

    /// The checks of `Settings::validate` that concern the store: `Err((key, why))`.
    pub fn check(&self) -> Result<(), (&'static str, String)> {
        if !(1..=24 * 365).contains(&self.dedup_retention_hours) {
            return Err((
                "store.dedup_retention_hours",
                "must be between 1 and 8760 (a year)".into(),
            ));
        }
        // `[store.postgres]` is checked whatever the backend, so a mistake shows before the
        // day the shop switches; only the URL is required with postgres alone.
        let postgres = &self.postgres;
        if self.backend == Backend::Postgres
            && postgres
                .url
                .as_ref()
                .is_none_or(|url| url.expose().is_empty())
        {
            return Err((
                "store.postgres.url",
                "is required with store.backend = \"postgres\": set SOUK__STORE__POSTGRES__URL"
                    .into(),
            ));
        }
        if !(1..=1_000).contains(&postgres.pool_size) {
            return Err((
                "store.postgres.pool_size",
                "must be between 1 and 1000".into(),
            ));
        }
        if !(100..=600_000).contains(&postgres.statement_timeout_ms) {
            return Err((
                "store.postgres.statement_timeout_ms",
                "must be between 100 and 600000 (ten minutes)".into(),
            ));
        }
        if !(100..=600_000).contains(&postgres.connect_timeout_ms) {
            return Err((
                "store.postgres.connect_timeout_ms",
                "must be between 100 and 600000 (ten minutes)".into(),
            ));
        }
        if !(1..=64).contains(&postgres.concurrent_writes)
            || postgres.concurrent_writes > postgres.pool_size as usize
        {
            return Err((
                "store.postgres.concurrent_writes",
                "must be between 1 and 64, and at most store.postgres.pool_size".into(),
            ));
        }
        if !(3..=300).contains(&postgres.lease_seconds) {
            return Err((
                "store.postgres.lease_seconds",
                "must be between 3 and 300".into(),
            ));
        }
        if postgres.replica_id.len() > 100
            || !postgres
                .replica_id
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
        {
            return Err((
                "store.postgres.replica_id",
                "must be at most 100 letters, digits, '-', '_' or '.'".into(),
            ));
        }
        let schema_ok = !postgres.schema.is_empty()
            && postgres.schema.len() <= 63
            && postgres
                .schema
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
            && !postgres.schema.as_bytes()[0].is_ascii_digit();
        if !schema_ok {
            return Err((
                "store.postgres.schema",
                "must be a lower-case identifier (a-z, 0-9, _; not starting with a digit)".into(),
            ));
        }
        Ok(())
    }
}
