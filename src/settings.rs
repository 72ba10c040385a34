//! Typed settings, loaded once: `config/souk.toml` (or `--config`), then `SOUK__SECTION__KEY`
//! environment variables on top. Validated at start-up with errors that name the key.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;

use flows::Locale;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub server: ServerSettings,
    pub store: StoreSettings,
    pub shop: ShopSettings,
    pub conversation: ConversationSettings,
    pub workers: WorkerSettings,
    pub outbox: OutboxSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    /// Largest request body accepted, in bytes; larger ones get 413.
    pub body_limit_bytes: usize,
    /// How long a graceful shutdown waits for in-flight work before giving up.
    pub shutdown_grace_seconds: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreSettings {
    pub path: PathBuf,
    /// How long provider message ids are remembered to drop duplicates.
    pub dedup_retention_hours: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShopSettings {
    pub name: String,
    pub default_locale: Locale,
    /// IANA zone name, for dates shown to customers and operators.
    pub timezone: String,
    /// Relative paths are resolved against the configuration file's folder.
    pub catalog: PathBuf,
    pub images: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConversationSettings {
    pub session_timeout_minutes: i64,
    pub page_size: usize,
    pub max_quantity: u32,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSettings {
    /// Single-writer shards; a conversation always lands on the same one.
    pub shards: usize,
    /// Events waiting per shard before ingest pushes back.
    pub queue_depth: usize,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboxSettings {
    pub max_attempts: u32,
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
    /// Conversations sent to at the same time.
    pub concurrency: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error("configuration: {0}")]
    Load(#[from] Box<figment::Error>),
    #[error("configuration key `{key}`: {problem}")]
    Invalid { key: &'static str, problem: String },
}

fn invalid(key: &'static str, problem: impl Into<String>) -> SettingsError {
    SettingsError::Invalid {
        key,
        problem: problem.into(),
    }
}

impl Settings {
    /// Reads the file (which must exist) and the environment.
    pub fn load(path: &Path) -> Result<Settings, SettingsError> {
        if !path.is_file() {
            return Err(invalid(
                "--config",
                format!("{} is not a readable file", path.display()),
            ));
        }
        let figment = Figment::new()
            .merge(Toml::file_exact(path))
            .merge(Env::prefixed("SOUK__").split("__"));
        let mut settings: Settings = figment.extract().map_err(Box::new)?;
        let base = path.parent().unwrap_or(Path::new("."));
        settings.shop.catalog = base.join(&settings.shop.catalog);
        settings.shop.images = base.join(&settings.shop.images);
        settings.validate()?;
        Ok(settings)
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        if !(1024..=16 * 1024 * 1024).contains(&self.server.body_limit_bytes) {
            return Err(invalid(
                "server.body_limit_bytes",
                "must be between 1024 and 16777216",
            ));
        }
        if !(1..=24 * 365).contains(&self.store.dedup_retention_hours) {
            return Err(invalid(
                "store.dedup_retention_hours",
                "must be between 1 and 8760 (a year)",
            ));
        }
        if self.outbox.backoff_max_ms > 24 * 3_600_000 {
            return Err(invalid(
                "outbox.backoff_max_ms",
                "must be at most 86400000 (a day)",
            ));
        }
        if self.shop.name.trim().is_empty() {
            return Err(invalid("shop.name", "must not be empty"));
        }
        if self.shop.timezone.parse::<chrono_tz::Tz>().is_err() {
            return Err(invalid(
                "shop.timezone",
                format!(
                    "{:?} is not an IANA time zone such as \"Europe/Bucharest\"",
                    self.shop.timezone
                ),
            ));
        }
        if !self.shop.catalog.is_file() {
            return Err(invalid(
                "shop.catalog",
                format!("{} does not exist", self.shop.catalog.display()),
            ));
        }
        if !self.shop.images.is_dir() {
            return Err(invalid(
                "shop.images",
                format!("{} is not a folder", self.shop.images.display()),
            ));
        }
        if !(1..=24 * 60).contains(&self.conversation.session_timeout_minutes) {
            return Err(invalid(
                "conversation.session_timeout_minutes",
                "must be between 1 and 1440",
            ));
        }
        if !(1..=10).contains(&self.conversation.page_size) {
            return Err(invalid(
                "conversation.page_size",
                "must be between 1 and 10 (carousel limits)",
            ));
        }
        if !(1..=999).contains(&self.conversation.max_quantity) {
            return Err(invalid(
                "conversation.max_quantity",
                "must be between 1 and 999",
            ));
        }
        if !(1..=256).contains(&self.workers.shards) {
            return Err(invalid("workers.shards", "must be between 1 and 256"));
        }
        if self.workers.queue_depth == 0 {
            return Err(invalid("workers.queue_depth", "must be at least 1"));
        }
        if self.outbox.max_attempts == 0 {
            return Err(invalid("outbox.max_attempts", "must be at least 1"));
        }
        if self.outbox.backoff_base_ms == 0
            || self.outbox.backoff_base_ms > self.outbox.backoff_max_ms
        {
            return Err(invalid(
                "outbox.backoff_base_ms",
                "must be at least 1 and not above outbox.backoff_max_ms",
            ));
        }
        if self.outbox.concurrency == 0 {
            return Err(invalid("outbox.concurrency", "must be at least 1"));
        }
        Ok(())
    }

    pub fn timezone(&self) -> chrono_tz::Tz {
        self.shop.timezone.parse().unwrap_or(chrono_tz::UTC)
    }
}
