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
    #[serde(default)]
    pub channels: ChannelSettings,
    #[serde(default)]
    pub payments: crate::payments::PaymentSettings,
    #[serde(default)]
    pub admin: AdminSettings,
    #[serde(default)]
    pub checkout: CheckoutSettings,
    #[serde(default)]
    pub handoff: HandoffSettings,
    #[serde(default)]
    pub console: ConsoleSettings,
    #[serde(default)]
    pub recovery: RecoveryConfig,
    #[serde(default)]
    pub booking: crate::booking::config::BookingConfig,
    #[serde(default)]
    pub nlu: crate::nlu::settings::NluSettings,
    #[serde(default)]
    pub privacy: crate::data_rights::settings::PrivacySettings,
}

/// `[recovery]`: abandoned-cart reminders.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryConfig {
    #[serde(default)]
    pub enabled: bool,
    /// Reminders after the customer's last activity: minutes and the message id in
    /// `locales/` (one of recovery-gentle, recovery-next-day, recovery-last-call).
    #[serde(default = "default_recovery_steps")]
    pub steps: Vec<RecoveryStepConfig>,
    /// No reminders at night (in `shop.timezone`): one due then waits for the morning.
    /// Empty: any time.
    #[serde(default = "default_quiet_hours")]
    pub quiet_hours: String,
    /// At most one sequence per customer in this many days.
    #[serde(default = "default_once_per_days")]
    pub once_per_days: i64,
}

fn default_quiet_hours() -> String {
    "21:00-09:00".into()
}

fn default_once_per_days() -> i64 {
    7
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoveryStepConfig {
    pub after_minutes: i64,
    pub text: String,
    /// A code for this percentage off comes with the reminder (1–90).
    #[serde(default)]
    pub discount_percent: Option<u32>,
    /// How long that code works.
    #[serde(default = "default_discount_hours")]
    pub discount_valid_hours: i64,
}

fn default_discount_hours() -> i64 {
    48
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        RecoveryConfig {
            enabled: false,
            steps: default_recovery_steps(),
            quiet_hours: default_quiet_hours(),
            once_per_days: default_once_per_days(),
        }
    }
}

fn default_recovery_steps() -> Vec<RecoveryStepConfig> {
    [
        (30, "recovery-gentle"),
        (24 * 60, "recovery-next-day"),
        (72 * 60, "recovery-last-call"),
    ]
    .map(|(after_minutes, text)| RecoveryStepConfig {
        discount_percent: None,
        discount_valid_hours: default_discount_hours(),
        after_minutes,
        text: text.to_owned(),
    })
    .to_vec()
}

/// Message ids a reminder may use.
const RECOVERY_TEXTS: [flows::TextKey; 3] = [
    flows::TextKey::RecoveryGentle,
    flows::TextKey::RecoveryNextDay,
    flows::TextKey::RecoveryLastCall,
];

impl RecoveryConfig {
    /// The core's sequence; empty when off.
    pub fn flow_settings(
        &self,
        zone: chrono_tz::Tz,
    ) -> Result<flows::recovery::RecoverySettings, String> {
        if !self.enabled {
            return Ok(flows::recovery::RecoverySettings::default());
        }
        let mut last = 0;
        let steps = self
            .steps
            .iter()
            .map(|step| {
                let key = RECOVERY_TEXTS
                    .into_iter()
                    .find(|key| key.id() == step.text)
                    .ok_or_else(|| format!("{:?} is not a reminder message id", step.text))?;
                if step.after_minutes <= last {
                    return Err("steps must come later and later (after_minutes rising)".to_owned());
                }
                last = step.after_minutes;
                let discount = match step.discount_percent {
                    None => None,
                    Some(percent) if (1..=90).contains(&percent) => {
                        if !(1..=24 * 90).contains(&step.discount_valid_hours) {
                            return Err("discount_valid_hours must be between 1 and 2160".into());
                        }
                        Some(flows::discount::StepDiscount {
                            percent,
                            valid_for: flows::Span::hours(step.discount_valid_hours),
                        })
                    }
                    Some(_) => return Err("discount_percent must be between 1 and 90".into()),
                };
                Ok(flows::recovery::RecoveryStep {
                    after: flows::Span::minutes(step.after_minutes),
                    key,
                    discount,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let quiet = if self.quiet_hours.trim().is_empty() {
            flows::recovery::QuietHours::never()
        } else {
            crate::business_hours::quiet_hours(&self.quiet_hours, zone)
                .map_err(|why| format!("quiet_hours: {why}"))?
        };
        if self.once_per_days < 0 {
            return Err("once_per_days must be 0 (no limit) or more".into());
        }
        Ok(flows::recovery::RecoverySettings {
            steps,
            quiet,
            once_per: (self.once_per_days > 0).then(|| flows::Span::hours(24 * self.once_per_days)),
        })
    }
}

/// `[console]`: the operators' web console at `/console`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsoleSettings {
    /// A login lasts this long.
    #[serde(default = "default_session_hours")]
    pub session_hours: i64,
    /// A folder of Fluent files, `<locale>.ftl`, with the operators' canned replies
    /// (relative to the config file's folder). Missing: none.
    #[serde(default = "default_canned_replies")]
    pub canned_replies: PathBuf,
    /// Hosts (and their subdomains) souk fetches Messenger and Instagram attachments from
    /// for the console; nothing else is fetched.
    #[serde(default = "default_attachment_hosts")]
    pub attachment_hosts: Vec<String>,
    /// The language operators read: with a language model, customer messages in another
    /// are shown translated into it.
    #[serde(default = "default_operator_language")]
    pub operator_language: Locale,
}

fn default_operator_language() -> Locale {
    Locale::En
}

fn default_attachment_hosts() -> Vec<String> {
    ["fbcdn.net", "fbsbx.com", "cdninstagram.com"]
        .map(String::from)
        .to_vec()
}

impl Default for ConsoleSettings {
    fn default() -> Self {
        ConsoleSettings {
            session_hours: default_session_hours(),
            canned_replies: default_canned_replies(),
            attachment_hosts: default_attachment_hosts(),
            operator_language: default_operator_language(),
        }
    }
}

fn default_canned_replies() -> PathBuf {
    PathBuf::from("canned")
}

fn default_session_hours() -> i64 {
    12
}

/// `[handoff]`: how a conversation reaches a person.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HandoffSettings {
    /// How long a customer waits for an operator before being offered the bot or a message.
    #[serde(default = "default_wait_timeout_minutes")]
    pub wait_timeout_minutes: i64,
    /// The wait customers are told to expect.
    #[serde(default = "default_expected_wait_minutes")]
    pub expected_wait_minutes: u32,
    /// Say so when the bot takes a conversation back.
    #[serde(default = "yes")]
    pub resume_message: bool,
    /// When operators are on duty, in `shop.timezone`: lines such as "mon-fri 09:00-18:00".
    /// Empty: always.
    #[serde(default)]
    pub hours: Vec<String>,
}

impl Default for HandoffSettings {
    fn default() -> Self {
        HandoffSettings {
            wait_timeout_minutes: default_wait_timeout_minutes(),
            expected_wait_minutes: default_expected_wait_minutes(),
            resume_message: true,
            hours: Vec::new(),
        }
    }
}

fn default_wait_timeout_minutes() -> i64 {
    10
}

fn default_expected_wait_minutes() -> u32 {
    5
}

/// `[checkout]`: how orders reach customers.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckoutSettings {
    /// Ask for a delivery address.
    #[serde(default = "yes")]
    pub delivery: bool,
    /// Places customers may collect orders from, as customers should read them.
    #[serde(default)]
    pub pickup_points: Vec<String>,
}

impl Default for CheckoutSettings {
    fn default() -> Self {
        CheckoutSettings {
            delivery: true,
            pickup_points: Vec::new(),
        }
    }
}

fn yes() -> bool {
    true
}

/// The shop's own API (`/api/admin/…`), used by `souk order set-status`. Off unless a token
/// is set, from the environment only: `SOUK__ADMIN__TOKEN`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSettings {
    #[serde(default)]
    pub token: Option<Secret>,
}

/// A secret from the environment. Never printed: `Debug` shows a placeholder.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl<'de> Deserialize<'de> for Secret {
    /// An all-digit token set in the environment arrives as a number; it is still text.
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Text(String),
            Number(u64),
        }
        Ok(Secret(match Raw::deserialize(deserializer)? {
            Raw::Text(text) => text,
            Raw::Number(number) => number.to_string(),
        }))
    }
}

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChannelSettings {
    #[serde(default)]
    pub whatsapp: MetaChannelSettings,
    #[serde(default)]
    pub messenger: MetaChannelSettings,
    #[serde(default)]
    pub instagram: MetaChannelSettings,
    #[serde(default)]
    pub telegram: crate::telegram::settings::TelegramSettings,
    #[serde(default)]
    pub discord: crate::discord::settings::DiscordSettings,
}

/// One of Meta's products. The secrets must come from the environment, e.g.
/// `SOUK__CHANNELS__WHATSAPP__APP_SECRET`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaChannelSettings {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub app_secret: Option<Secret>,
    #[serde(default)]
    pub verify_token: Option<Secret>,
    #[serde(default)]
    pub access_token: Option<Secret>,
    /// WhatsApp: the business phone number's id.
    #[serde(default, deserialize_with = "id_text")]
    pub phone_number_id: Option<String>,
    /// Messenger: the page id; Instagram: the professional account id.
    #[serde(default, deserialize_with = "id_text")]
    pub page_id: Option<String>,
    #[serde(default = "default_graph_base")]
    pub api_base: String,
    #[serde(default = "default_graph_version")]
    pub api_version: String,
    /// WhatsApp: a Meta commerce catalog whose retailer ids are our SKUs.
    #[serde(default, deserialize_with = "id_text")]
    pub catalog_id: Option<String>,
    /// Messages the core sends outside the 24-hour window, by text key (e.g. "order-paid"),
    /// mapped to approved WhatsApp templates.
    #[serde(default)]
    pub templates: std::collections::BTreeMap<String, TemplateSettings>,
    /// Sends per second from this number or page (WhatsApp's default throughput is 80).
    #[serde(default = "default_messages_per_second")]
    pub messages_per_second: u32,
    /// Least time between two messages to the same customer, so a reply of several parts
    /// arrives as a sequence rather than a burst (WhatsApp limits bursts per pair: 131056).
    #[serde(default = "default_recipient_gap_ms")]
    pub recipient_gap_ms: u64,
    /// How long one Graph API call may take before it is retried.
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
}

impl Default for MetaChannelSettings {
    fn default() -> Self {
        MetaChannelSettings {
            enabled: false,
            app_secret: None,
            verify_token: None,
            access_token: None,
            phone_number_id: None,
            page_id: None,
            api_base: default_graph_base(),
            api_version: default_graph_version(),
            catalog_id: None,
            templates: std::collections::BTreeMap::new(),
            messages_per_second: default_messages_per_second(),
            recipient_gap_ms: default_recipient_gap_ms(),
            request_timeout_ms: default_request_timeout_ms(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateSettings {
    pub name: String,
    /// The template's language code, e.g. "en_US" or "ro".
    pub language: String,
    /// Which arguments of the core's message fill the body's {{1}}, {{2}}…, in order.
    #[serde(default)]
    pub params: Vec<String>,
}

/// Meta's ids are digits; from an environment variable they arrive as numbers. Both mean
/// the same id, so accept either and keep the text.
fn id_text<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Option<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Id {
        Text(String),
        Number(u64),
    }
    Ok(Option::<Id>::deserialize(deserializer)?.map(|id| match id {
        Id::Text(text) => text,
        Id::Number(number) => number.to_string(),
    }))
}

fn default_webhook_body_limit() -> usize {
    4 * 1024 * 1024
}

fn default_graph_base() -> String {
    "https://graph.facebook.com".into()
}

fn default_graph_version() -> String {
    "v21.0".into()
}

fn default_messages_per_second() -> u32 {
    80
}

fn default_recipient_gap_ms() -> u64 {
    250
}

fn default_request_timeout_ms() -> u64 {
    10_000
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub listen: SocketAddr,
    /// The public https origin of this server (e.g. "https://shop.example"), used for links
    /// and images sent to platforms that fetch them. Empty: images are not sent to them.
    #[serde(default)]
    pub public_url: String,
    /// Largest request body accepted, in bytes; larger ones get 413.
    pub body_limit_bytes: usize,
    /// The same for platform webhooks, which batch many events into one body: answering
    /// those 413 would make the platform retry the same body forever.
    #[serde(default = "default_webhook_body_limit")]
    pub webhook_body_limit_bytes: usize,
    /// How long a graceful shutdown waits for in-flight work before giving up.
    pub shutdown_grace_seconds: u64,
    /// A client must send a request's headers within this long (also after a keep-alive
    /// response), else its connection is closed: idle or slow connections cannot pile up.
    #[serde(default = "default_header_timeout_seconds")]
    pub header_timeout_seconds: u64,
    /// A request's whole body must arrive within this long (408 otherwise).
    #[serde(default = "default_body_timeout_seconds")]
    pub body_timeout_seconds: u64,
    /// Open connections at most; more wait in the kernel's queue. Kept below the process's
    /// open-file limit, which souk raises to its hard limit at start.
    #[serde(default = "default_max_connections")]
    pub max_connections: usize,
    /// Bytes of webhook bodies being read at once, across all connections; a webhook that
    /// would go over waits a moment, then gets 503 (the platform retries it later).
    #[serde(default = "default_webhook_inflight_bytes")]
    pub webhook_inflight_bytes: usize,
    /// New web chat sessions one address may start per 10 minutes (429 past it).
    #[serde(default = "default_webchat_sessions_per_address")]
    pub webchat_sessions_per_address: usize,
}

fn default_webchat_sessions_per_address() -> usize {
    30
}

fn default_header_timeout_seconds() -> u64 {
    10
}

fn default_body_timeout_seconds() -> u64 {
    30
}

fn default_max_connections() -> usize {
    4_096
}

fn default_webhook_inflight_bytes() -> usize {
    64 * 1024 * 1024
}

pub use crate::store::settings::{Backend as StoreBackend, PostgresSettings, StoreSettings};

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
    /// A folder of Markdown files the bot answers shop questions from (delivery, returns,
    /// opening hours): `<topic>.<language>.md`. None: no such answers.
    #[serde(default)]
    pub knowledge: Option<PathBuf>,
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
    /// A step running longer than this is counted as a failed attempt (a restart then
    /// knows it was tried); one running three times as long stops souk, so that a supervisor
    /// restarts it and the event is set aside after three such attempts.
    #[serde(default = "default_step_budget_seconds")]
    pub step_budget_seconds: u64,
}

fn default_step_budget_seconds() -> u64 {
    10
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
    /// Every problem figment found, one line each, said once.
    #[error("{0}")]
    Load(String),
    #[error("configuration key `{key}`: {problem}")]
    Invalid { key: &'static str, problem: String },
    #[error(
        "configuration key `{key}` is a secret: remove it from the file and set the environment variable {variable}"
    )]
    Secret { key: String, variable: String },
    #[error(
        "channel `{channel}` is enabled but `{key}` is not set (environment variable {variable})"
    )]
    MissingChannelKey {
        channel: &'static str,
        key: &'static str,
        variable: String,
    },
}

/// figment's own text says each problem twice when printed with its source, nests
/// backticks ("expected `one of `none`, `demo``") and prefixes keys with the profile
/// ("default."): each problem here is one line naming the key, where its value came from,
/// and what is wrong, in the same form as the other configuration errors.
pub fn describe_load_error(error: figment::Error) -> String {
    use figment::error::Kind;
    let lines: Vec<String> = error
        .into_iter()
        .map(|e| {
            let mut path: Vec<String> = e.path.iter().map(|k| k.to_lowercase()).collect();
            let problem = match &e.kind {
                Kind::UnknownVariant(found, expected) => {
                    format!("{found:?} is not one of: {}", expected.join(", "))
                }
                Kind::UnknownField(field, _) => {
                    if path.last() != Some(&field.to_lowercase()) {
                        path.push(field.to_lowercase());
                    }
                    "is not a configuration key (misspelt, or in the wrong section?)".into()
                }
                Kind::MissingField(field) => {
                    if path.last() != Some(&field.to_lowercase()) {
                        path.push(field.to_lowercase());
                    }
                    "is required and missing".into()
                }
                Kind::InvalidType(actual, expected) | Kind::InvalidValue(actual, expected) => {
                    format!("expected {expected}, found {actual}").replace('`', "")
                }
                other => other.to_string().replace('`', ""),
            };
            let source = e
                .metadata
                .as_ref()
                .map(|metadata| match &metadata.source {
                    Some(figment::Source::File(file)) => format!(" (in {})", file.display()),
                    _ if metadata.name.contains("environment") => {
                        let variable = format!("SOUK__{}", path.join("__").to_uppercase());
                        format!(" (from the environment variable {variable})")
                    }
                    _ => String::new(),
                })
                .unwrap_or_default();
            let key = if path.is_empty() {
                "(top level)".to_owned()
            } else {
                path.join(".")
            };
            format!("configuration key `{key}`{source}: {problem}")
        })
        .collect();
    lines.join("\n")
}

/// A path from the configuration that is not there, said with the folder a relative path
/// was taken from (the configuration file's).
fn missing_path(path: &Path, what: &str) -> String {
    let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
    format!(
        "{} {what} (relative paths are taken from the configuration file's folder)",
        shown.display()
    )
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
        let mut settings: Settings = figment
            .extract()
            .map_err(|error| SettingsError::Load(describe_load_error(error)))?;
        for channel in ["whatsapp", "messenger", "instagram"] {
            for secret in ["app_secret", "verify_token", "access_token"] {
                let key = format!("channels.{channel}.{secret}");
                let from_file = figment
                    .find_metadata(&key)
                    .is_some_and(|metadata| !metadata.name.contains("environment"));
                if from_file {
                    return Err(SettingsError::Secret {
                        key,
                        variable: format!(
                            "SOUK__CHANNELS__{}__{}",
                            channel.to_uppercase(),
                            secret.to_uppercase()
                        ),
                    });
                }
            }
        }
        let channel_secrets = crate::telegram::settings::TelegramSettings::SECRETS
            .iter()
            .map(|secret| ("telegram", *secret))
            .chain(
                crate::discord::settings::DiscordSettings::SECRETS
                    .iter()
                    .map(|secret| ("discord", *secret)),
            );
        for (channel, secret) in channel_secrets {
            let key = format!("channels.{channel}.{secret}");
            let from_file = figment
                .find_metadata(&key)
                .is_some_and(|metadata| !metadata.name.contains("environment"));
            if from_file {
                return Err(SettingsError::Secret {
                    variable: format!(
                        "SOUK__CHANNELS__{}__{}",
                        channel.to_uppercase(),
                        secret.to_uppercase()
                    ),
                    key,
                });
            }
        }
        for key in [
            "payments.stripe.secret_key",
            "payments.stripe.webhook_secret",
            "admin.token",
            "store.postgres.url",
            crate::nlu::settings::NluSettings::SECRETS[0],
            crate::data_rights::settings::PrivacySettings::SECRETS[0],
        ] {
            let from_file = figment
                .find_metadata(key)
                .is_some_and(|metadata| !metadata.name.contains("environment"));
            if from_file {
                return Err(SettingsError::Secret {
                    key: key.to_owned(),
                    variable: format!("SOUK__{}", key.replace('.', "__").to_uppercase()),
                });
            }
        }
        settings.channels.take_raw_secrets_from_env();
        settings.payments.take_raw_secrets_from_env();
        if let Ok(raw) = std::env::var("SOUK__PRIVACY__DIGEST_KEY") {
            settings.privacy.digest_key = Some(Secret::new(raw));
        }
        if let Ok(raw) = std::env::var("SOUK__ADMIN__TOKEN") {
            settings.admin.token = Some(Secret::new(raw));
        }
        if let Ok(raw) = std::env::var("SOUK__STORE__POSTGRES__URL") {
            settings.store.postgres.url = Some(Secret::new(raw));
        }
        settings.nlu.take_key_from_env();
        let base = path.parent().unwrap_or(Path::new("."));
        settings.shop.catalog = base.join(&settings.shop.catalog);
        settings.shop.images = base.join(&settings.shop.images);
        settings.shop.knowledge = settings.shop.knowledge.as_ref().map(|k| base.join(k));
        settings.console.canned_replies = base.join(&settings.console.canned_replies);
        settings.booking.resolve(base);
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
        self.store
            .check()
            .map_err(|(key, problem)| invalid(key, problem))?;
        if self.outbox.backoff_max_ms > 24 * 3_600_000 {
            return Err(invalid(
                "outbox.backoff_max_ms",
                "must be at most 86400000 (a day)",
            ));
        }
        if !(1024..=64 * 1024 * 1024).contains(&self.server.webhook_body_limit_bytes) {
            return Err(invalid(
                "server.webhook_body_limit_bytes",
                "must be between 1024 and 67108864",
            ));
        }
        if !(1..=600).contains(&self.server.header_timeout_seconds) {
            return Err(invalid(
                "server.header_timeout_seconds",
                "must be between 1 and 600",
            ));
        }
        if !(1..=3_600).contains(&self.server.body_timeout_seconds) {
            return Err(invalid(
                "server.body_timeout_seconds",
                "must be between 1 and 3600",
            ));
        }
        if !(16..=1_000_000).contains(&self.server.max_connections) {
            return Err(invalid(
                "server.max_connections",
                "must be between 16 and 1000000",
            ));
        }
        if self.server.webhook_inflight_bytes < self.server.webhook_body_limit_bytes {
            return Err(invalid(
                "server.webhook_inflight_bytes",
                "must be at least server.webhook_body_limit_bytes (one largest webhook)",
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
        if !(1..=24 * 60).contains(&self.handoff.wait_timeout_minutes) {
            return Err(invalid(
                "handoff.wait_timeout_minutes",
                "must be between 1 and 1440 (a day)",
            ));
        }
        if !(1..=24 * 30).contains(&self.console.session_hours) {
            return Err(invalid(
                "console.session_hours",
                "must be between 1 and 720 (30 days)",
            ));
        }
        if let Err(why) = self.recovery.flow_settings(self.timezone()) {
            return Err(invalid("recovery.steps", why));
        }
        if let Err(why) = self.booking.flow_settings(self.timezone()) {
            return Err(invalid("booking", why));
        }
        if let Err(why) = self.business_hours() {
            return Err(invalid("handoff.hours", why));
        }
        if let Err(why) = self.nlu.validate() {
            return Err(invalid("nlu", why));
        }
        if !self.shop.catalog.is_file() {
            return Err(invalid(
                "shop.catalog",
                missing_path(&self.shop.catalog, "does not exist"),
            ));
        }
        if let Some(folder) = &self.shop.knowledge
            && !folder.is_dir()
        {
            return Err(invalid(
                "shop.knowledge",
                missing_path(folder, "is not a folder"),
            ));
        }
        if !self.shop.images.is_dir() {
            return Err(invalid(
                "shop.images",
                missing_path(&self.shop.images, "is not a folder"),
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
        if !(1..=3_600).contains(&self.workers.step_budget_seconds) {
            return Err(invalid(
                "workers.step_budget_seconds",
                "must be between 1 and 3600",
            ));
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
        if self.checkout.pickup_points.len() > 9
            || self
                .checkout
                .pickup_points
                .iter()
                .any(|p| p.trim().is_empty() || p.chars().count() > 60)
        {
            return Err(invalid(
                "checkout.pickup_points",
                "at most 9 points, each 1-60 characters (they become buttons)",
            ));
        }
        if self
            .admin
            .token
            .as_ref()
            .is_some_and(|token| token.expose().len() < 16)
        {
            return Err(invalid(
                "admin.token",
                "must be at least 16 characters (it guards order changes)",
            ));
        }
        if let Some((key, problem)) = self
            .payments
            .problems(&self.server.public_url)
            .into_iter()
            .next()
        {
            return Err(invalid(key, problem));
        }
        self.validate_channels()
    }

    fn validate_channels(&self) -> Result<(), SettingsError> {
        self.channels.telegram.validate(&self.server.public_url)?;
        self.channels.discord.validate()?;
        for (name, channel) in self.channels.meta() {
            if !channel.enabled {
                continue;
            }
            let missing = |key: &'static str| SettingsError::MissingChannelKey {
                channel: name,
                key,
                variable: format!(
                    "SOUK__CHANNELS__{}__{}",
                    name.to_uppercase(),
                    key.to_uppercase()
                ),
            };
            let blank =
                |secret: &Option<Secret>| secret.as_ref().is_none_or(|s| s.expose().is_empty());
            if blank(&channel.app_secret) {
                return Err(missing("app_secret"));
            }
            if blank(&channel.verify_token) {
                return Err(missing("verify_token"));
            }
            if blank(&channel.access_token) {
                return Err(missing("access_token"));
            }
            let id_key = if name == "whatsapp" {
                "phone_number_id"
            } else {
                "page_id"
            };
            let id = if name == "whatsapp" {
                &channel.phone_number_id
            } else {
                &channel.page_id
            };
            if id.as_deref().is_none_or(str::is_empty) {
                return Err(missing(id_key));
            }
            if !channel.api_base.starts_with("http://") && !channel.api_base.starts_with("https://")
            {
                return Err(SettingsError::MissingChannelKey {
                    channel: name,
                    key: "api_base",
                    variable: "(an http(s) URL)".into(),
                });
            }
            if channel.messages_per_second == 0 {
                return Err(invalid(
                    "channels.*.messages_per_second",
                    "must be at least 1",
                ));
            }
        }
        Ok(())
    }

    /// Each Meta product's settings with its name.
    pub fn meta_channels(&self) -> [(&'static str, &MetaChannelSettings); 3] {
        self.channels.meta()
    }

    /// Where links souk sends (pay pages, calendar files, the set-up link) point: the public
    /// URL, else where it listens. No trailing slash.
    pub fn link_base(&self) -> String {
        if self.server.public_url.is_empty() {
            format!("http://{}", self.server.listen)
        } else {
            self.server.public_url.trim_end_matches('/').to_owned()
        }
    }

    pub fn timezone(&self) -> chrono_tz::Tz {
        self.shop.timezone.parse().unwrap_or(chrono_tz::UTC)
    }

    pub fn business_hours(&self) -> Result<crate::business_hours::BusinessHours, String> {
        crate::business_hours::BusinessHours::parse(&self.handoff.hours, self.timezone())
    }
}

impl ChannelSettings {
    pub fn meta(&self) -> [(&'static str, &MetaChannelSettings); 3] {
        [
            ("whatsapp", &self.whatsapp),
            ("messenger", &self.messenger),
            ("instagram", &self.instagram),
        ]
    }
}

impl ChannelSettings {
    /// Secrets are read as the exact text of their variables: figment would parse "0042"
    /// into the number 42, and a token is text.
    fn take_raw_secrets_from_env(&mut self) {
        for (name, channel) in [
            ("WHATSAPP", &mut self.whatsapp),
            ("MESSENGER", &mut self.messenger),
            ("INSTAGRAM", &mut self.instagram),
        ] {
            for (key, slot) in [
                ("APP_SECRET", &mut channel.app_secret),
                ("VERIFY_TOKEN", &mut channel.verify_token),
                ("ACCESS_TOKEN", &mut channel.access_token),
            ] {
                if let Ok(raw) = std::env::var(format!("SOUK__CHANNELS__{name}__{key}")) {
                    *slot = Some(Secret::new(raw));
                }
            }
        }
        self.telegram.take_raw_secrets_from_env();
        self.discord.take_raw_secrets_from_env();
    }
}
