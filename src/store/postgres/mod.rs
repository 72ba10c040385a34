//! The store on PostgreSQL, for several souk replicas sharing one database. Records are the
//! same versioned envelopes as in sled (`codec`), in a `record bytea` column; the columns
//! beside them are what queries filter, order and lock on (`migrations/`). What sled does in
//! one transaction is one database transaction here, and what sled serializes by touching
//! the same keys is serialized by row locks (`FOR UPDATE`) or unique keys, so the rules hold
//! whichever replica asks. Each role lives in its own file.

mod audit;
mod bookings;
mod commerce;
mod commit_log;
mod console;
mod directory;
mod erasure;
mod group_write;
mod identity_reads;
mod import;
mod leases;
mod live;
mod maintenance;
mod outbox;
mod scope;
mod staff;

use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Connection, Executor};
use tokio_util::sync::{CancellationToken, DropGuard};

use super::settings::StoreSettings;
use super::{StoreError, StoreResult};

pub(super) use import::Import;

/// The migrations in `migrations/`, embedded in the binary.
static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

pub struct PgStore {
    pool: PgPool,
    /// The database stopped answering (the probe or a commit found out); `recover` clears
    /// it once it answers again.
    broken: Arc<AtomicBool>,
    /// Group-commit rounds written at once (`store.postgres.concurrent_writes`).
    writers: usize,
    /// The shards this replica holds (set by its lease rounds).
    scope: scope::Scope,
    /// Identity lookups batched across concurrent callers.
    identities: identity_reads::IdentityReads,
    /// Ends the probe when the store is dropped (and with it the probe's pool handle).
    _probe: DropGuard,
}

/// Records how long a database call took (`souk_store_query_seconds{op}`) when dropped,
/// whichever way the call ends.
struct Timed {
    op: &'static str,
    started: std::time::Instant,
}

impl Timed {
    fn start(op: &'static str) -> Timed {
        Timed {
            op,
            started: std::time::Instant::now(),
        }
    }
}

impl Drop for Timed {
    fn drop(&mut self) {
        metrics::histogram!("souk_store_query_seconds", "op" => self.op)
            .record(self.started.elapsed().as_secs_f64());
    }
}

/// How often the probe asks the database whether it is there.
const PROBE_EVERY: Duration = Duration::from_secs(1);

impl PgStore {
    /// Connects, creates the schema if needed and applies pending migrations (under
    /// PostgreSQL's advisory lock, so replicas starting together apply them once).
    pub async fn open(settings: &StoreSettings) -> StoreResult<PgStore> {
        let options = connect_options(settings)?;
        let postgres = &settings.postgres;
        {
            // The schema must exist before the pool's `search_path` can point into it.
            let mut connection = sqlx::PgConnection::connect_with(
                &options.clone().options([("search_path", "public")]),
            )
            .await
            .map_err(db)?;
            // An identifier cannot be a bind parameter; the settings admit only [a-z0-9_].
            let create = format!("CREATE SCHEMA IF NOT EXISTS {}", postgres.schema);
            connection
                .execute(sqlx::AssertSqlSafe(create))
                .await
                .map_err(db)?;
            connection.close().await.map_err(db)?;
        }
        let pool = PgPoolOptions::new()
            .max_connections(postgres.pool_size)
            .acquire_timeout(Duration::from_millis(postgres.connect_timeout_ms))
            .connect_with(options)
            .await
            .map_err(db)?;
        MIGRATOR.run(&pool).await.map_err(|error| {
            StoreError::Engine(format!("applying the database migrations: {error}"))
        })?;
        let broken = Arc::new(AtomicBool::new(false));
        let stop = CancellationToken::new();
        let patience = Duration::from_millis(postgres.connect_timeout_ms);
        tokio::spawn(probe(pool.clone(), broken.clone(), patience, stop.clone()));
        let identities = identity_reads::IdentityReads::start(pool.clone());
        Ok(PgStore {
            pool,
            broken,
            writers: postgres.concurrent_writes.max(1),
            scope: scope::Scope::default(),
            identities,
            _probe: stop.drop_guard(),
        })
    }

    /// Notes a call's failure that says the database is away: not ready until it is back.
    fn watch<T>(&self, result: StoreResult<T>) -> StoreResult<T> {
        if let Err(StoreError::Unavailable(reason)) = &result {
            mark_broken(&self.broken, reason);
        }
        result
    }

    /// Whether the database answers now, within `patience`.
    async fn answers(pool: &PgPool, patience: Duration) -> Result<(), String> {
        match tokio::time::timeout(patience, sqlx::query("SELECT 1").execute(pool)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(error)) => Err(error.to_string()),
            Err(_) => Err(format!("no answer within {} ms", patience.as_millis())),
        }
    }

    /// Migrations this binary has that the database does not (`souk migrate --check`).
    pub async fn pending_migrations(settings: &StoreSettings) -> StoreResult<Vec<String>> {
        let options = connect_options(settings)?;
        let mut connection = sqlx::PgConnection::connect_with(&options)
            .await
            .map_err(db)?;
        let applied: Vec<(i64,)> = match sqlx::query_as(
            "SELECT version FROM _sqlx_migrations WHERE success ORDER BY version",
        )
        .fetch_all(&mut connection)
        .await
        {
            Ok(rows) => rows,
            // No table yet: nothing was ever applied.
            Err(sqlx::Error::Database(error)) if error.code().as_deref() == Some("42P01") => {
                Vec::new()
            }
            Err(error) => return Err(db(error)),
        };
        let _ = connection.close().await;
        Ok(MIGRATOR
            .iter()
            .filter(|migration| !applied.iter().any(|(v,)| *v == migration.version))
            .map(|migration| format!("{} {}", migration.version, migration.description))
            .collect())
    }

    fn pool(&self) -> &PgPool {
        &self.pool
    }
}

fn mark_broken(broken: &AtomicBool, reason: &str) {
    if !broken.swap(true, Ordering::AcqRel) {
        tracing::error!(%reason, "the database does not answer; not ready until it does");
    }
}

/// Every second: does the database answer? While it does not, `healthy` is false, so
/// `/readyz` says so and ingest answers 503 (the platforms retry) instead of queueing behind
/// it; the shell's recovery loop then calls `recover`. Also publishes the pool's use.
async fn probe(pool: PgPool, broken: Arc<AtomicBool>, patience: Duration, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(PROBE_EVERY) => {}
        }
        let idle = pool.num_idle();
        let open = usize::try_from(pool.size()).unwrap_or(usize::MAX);
        metrics::gauge!("souk_store_pool_connections", "state" => "idle").set(idle as f64);
        metrics::gauge!("souk_store_pool_connections", "state" => "busy")
            .set(open.saturating_sub(idle) as f64);
        if broken.load(Ordering::Acquire) {
            continue;
        }
        if let Err(reason) = PgStore::answers(&pool, patience).await {
            mark_broken(&broken, &reason);
        }
    }
}

fn connect_options(settings: &StoreSettings) -> StoreResult<PgConnectOptions> {
    let postgres = &settings.postgres;
    let url = postgres
        .url
        .as_ref()
        .map(|url| url.expose())
        .filter(|url| !url.is_empty())
        .ok_or_else(|| StoreError::Engine("store.postgres.url is not set".into()))?;
    // The URL may carry a password: its parse error is not echoed.
    let options = PgConnectOptions::from_str(url).map_err(|_| {
        StoreError::Engine("store.postgres.url is not a valid PostgreSQL URL".into())
    })?;
    let timeout = postgres.statement_timeout_ms.to_string();
    Ok(options.application_name("souk").options([
        ("search_path", postgres.schema.as_str()),
        ("statement_timeout", timeout.as_str()),
    ]))
}

/// Maps a database error: what a retry can cure (the server away, a timeout, a conflict
/// between transactions) is `Unavailable`; the rest is `Engine`.
fn db(error: sqlx::Error) -> StoreError {
    // 40001 serialization failure; 40P01 deadlock; 55P03 lock timeout: transactions in
    // each other's way, not the database away.
    if let sqlx::Error::Database(database) = &error
        && database
            .code()
            .is_some_and(|code| matches!(code.as_ref(), "40001" | "40P01" | "55P03"))
    {
        return StoreError::Conflict(format!("database: {error}"));
    }
    let retryable = match &error {
        sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(database) => database.code().is_some_and(|code| {
            // 08: connection exception; 53: insufficient resources; 57014 statement
            // timeout; 57P0x shutting down.
            code.starts_with("08")
                || code.starts_with("53")
                || code.starts_with("57P")
                || code.as_ref() == "57014"
        }),
        _ => false,
    };
    if retryable {
        StoreError::Unavailable(format!("database: {error}"))
    } else {
        StoreError::Engine(format!("database: {error}"))
    }
}

/// Timestamps and ids as PostgreSQL's bigint.
fn big(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn unbig(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

/// A customer's shard as the `shard` column holds it.
fn shard_column(customer: &flows::CustomerId) -> i32 {
    i32::try_from(super::shards::shard_of(customer)).unwrap_or(0)
}

/// An identity as a text key: the channel's name, a colon, the platform's id (channel names
/// have no colon; PostgreSQL text cannot hold the zero byte sled's keys use).
fn identity_text(identity: &flows::Identity) -> String {
    format!("{}:{}", identity.channel, identity.external_id)
}

/// Decodes every record of a query, skipping (and logging) one that no longer decodes, as
/// the embedded store does, rather than wedging the list it sits in.
fn decode_rows<T: serde::de::DeserializeOwned>(
    what: &'static str,
    rows: impl IntoIterator<Item = Vec<u8>>,
) -> Vec<T> {
    rows.into_iter()
        .filter_map(|raw| match super::codec::decode(what, &raw) {
            Ok(value) => Some(value),
            Err(error) => {
                tracing::error!(%error, "skipping an undecodable {what}");
                None
            }
        })
        .collect()
}

fn decode_opt<T: serde::de::DeserializeOwned>(
    what: &'static str,
    raw: Option<Vec<u8>>,
) -> StoreResult<Option<T>> {
    raw.map(|raw| super::codec::decode(what, &raw))
        .transpose()
        .map_err(StoreError::from)
}
