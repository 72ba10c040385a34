//! `[channels.telegram]`. The bot token, the webhook secret and the payment provider token
//! come from the environment: `SOUK__CHANNELS__TELEGRAM__BOT_TOKEN`, `…__WEBHOOK_SECRET`,
//! `…__PAYMENT_PROVIDER_TOKEN`.

use serde::Deserialize;

use crate::settings::{Secret, SettingsError};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TelegramSettings {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub bot_token: Option<Secret>,
    /// Sent by Telegram in `X-Telegram-Bot-Api-Secret-Token` on every webhook call.
    #[serde(default)]
    pub webhook_secret: Option<Secret>,
    /// A payment provider token from @BotFather: Telegram customers then pay inside
    /// Telegram (an invoice) instead of through the payment link.
    #[serde(default)]
    pub payment_provider_token: Option<Secret>,
    /// The Bot API's address (tests point it at a fake).
    #[serde(default = "default_api_url")]
    pub api_url: String,
    /// `webhook` (needs `server.public_url`), `polling`, or `auto`: the webhook when a public
    /// URL is configured, else long polling, so a shop without a domain still works.
    #[serde(default)]
    pub mode: TelegramMode,
    /// Sends per second over all chats (Telegram allows about 30).
    #[serde(default = "default_messages_per_second")]
    pub messages_per_second: u32,
    /// Least time between two messages to one chat (Telegram allows about one a second).
    #[serde(default = "default_chat_gap_ms")]
    pub chat_gap_ms: u64,
    /// How long one `getUpdates` call waits for news.
    #[serde(default = "default_poll_timeout_seconds")]
    pub poll_timeout_seconds: u32,
    #[serde(default = "default_request_timeout_ms")]
    pub request_timeout_ms: u64,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TelegramMode {
    #[default]
    Auto,
    Webhook,
    Polling,
}

impl Default for TelegramSettings {
    fn default() -> Self {
        TelegramSettings {
            enabled: false,
            bot_token: None,
            webhook_secret: None,
            payment_provider_token: None,
            api_url: default_api_url(),
            mode: TelegramMode::Auto,
            messages_per_second: default_messages_per_second(),
            chat_gap_ms: default_chat_gap_ms(),
            poll_timeout_seconds: default_poll_timeout_seconds(),
            request_timeout_ms: default_request_timeout_ms(),
        }
    }
}

fn default_api_url() -> String {
    "https://api.telegram.org".into()
}

fn default_messages_per_second() -> u32 {
    30
}

fn default_chat_gap_ms() -> u64 {
    1000
}

fn default_poll_timeout_seconds() -> u32 {
    30
}

fn default_request_timeout_ms() -> u64 {
    10_000
}

impl TelegramSettings {
    pub const SECRETS: [&'static str; 3] =
        ["bot_token", "webhook_secret", "payment_provider_token"];

    pub fn take_raw_secrets_from_env(&mut self) {
        for (key, slot) in [
            ("BOT_TOKEN", &mut self.bot_token),
            ("WEBHOOK_SECRET", &mut self.webhook_secret),
            ("PAYMENT_PROVIDER_TOKEN", &mut self.payment_provider_token),
        ] {
            if let Ok(raw) = std::env::var(format!("SOUK__CHANNELS__TELEGRAM__{key}")) {
                *slot = Some(Secret::new(raw));
            }
        }
    }

    /// Webhook or polling, as configured or decided by whether souk has a public URL.
    pub fn uses_webhook(&self, public_url: &str) -> bool {
        match self.mode {
            TelegramMode::Webhook => true,
            TelegramMode::Polling => false,
            TelegramMode::Auto => public_url.starts_with("https://"),
        }
    }

    /// Whether Telegram customers pay with native invoices.
    pub fn invoices(&self) -> Option<&Secret> {
        self.payment_provider_token
            .as_ref()
            .filter(|token| self.enabled && !token.expose().is_empty())
    }

    pub fn validate(&self, public_url: &str) -> Result<(), SettingsError> {
        if !self.enabled {
            return Ok(());
        }
        let missing = |key: &'static str| SettingsError::MissingChannelKey {
            channel: "telegram",
            key,
            variable: format!("SOUK__CHANNELS__TELEGRAM__{}", key.to_uppercase()),
        };
        if self
            .bot_token
            .as_ref()
            .is_none_or(|t| t.expose().is_empty())
        {
            return Err(missing("bot_token"));
        }
        if self.uses_webhook(public_url) {
            // Telegram's rule for the secret: 1–256 of A-Z a-z 0-9 _ -.
            let valid = self.webhook_secret.as_ref().is_some_and(|s| {
                (1..=256).contains(&s.expose().len())
                    && s.expose()
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
            });
            if !valid {
                return Err(missing("webhook_secret"));
            }
            if !public_url.starts_with("https://") {
                return Err(SettingsError::MissingChannelKey {
                    channel: "telegram",
                    key: "mode",
                    variable: "webhook mode needs server.public_url (https)".into(),
                });
            }
        }
        if !self.api_url.starts_with("http://") && !self.api_url.starts_with("https://") {
            return Err(SettingsError::MissingChannelKey {
                channel: "telegram",
                key: "api_url",
                variable: "(an http(s) URL)".into(),
            });
        }
        if self.messages_per_second == 0 || self.poll_timeout_seconds > 50 {
            return Err(SettingsError::MissingChannelKey {
                channel: "telegram",
                key: "messages_per_second / poll_timeout_seconds",
                variable: "(at least 1 / at most 50)".into(),
            });
        }
        Ok(())
    }
}
