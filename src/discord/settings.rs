//! `[channels.discord]`. The bot token comes from the environment:
//! `SOUK__CHANNELS__DISCORD__BOT_TOKEN`.

use serde::Deserialize;

use crate::settings::{Secret, SettingsError};

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiscordSettings {
    #[serde(default)]
    pub enabled: bool,
    #[serde(default)]
    pub bot_token: Option<Secret>,
    /// Besides direct messages, the one guild channel customers may write in (its id).
    #[serde(default)]
    pub shop_channel_id: Option<u64>,
    /// Sends Discord API calls to this origin instead of discord.com: an HTTP proxy that
    /// keeps the rate limits for several processes (souk's own limiter is then off), or a
    /// fake in tests.
    #[serde(default)]
    pub api_proxy: Option<String>,
}

impl DiscordSettings {
    pub const SECRETS: [&'static str; 1] = ["bot_token"];

    pub fn take_raw_secrets_from_env(&mut self) {
        if let Ok(raw) = std::env::var("SOUK__CHANNELS__DISCORD__BOT_TOKEN") {
            self.bot_token = Some(Secret::new(raw));
        }
    }

    pub fn validate(&self) -> Result<(), SettingsError> {
        if !self.enabled {
            return Ok(());
        }
        if !cfg!(feature = "discord") {
            return Err(SettingsError::MissingChannelKey {
                channel: "discord",
                key: "enabled",
                variable: "(this build has no Discord support: build with the `discord` feature)"
                    .into(),
            });
        }
        if self
            .bot_token
            .as_ref()
            .is_none_or(|t| t.expose().is_empty())
        {
            return Err(SettingsError::MissingChannelKey {
                channel: "discord",
                key: "bot_token",
                variable: "SOUK__CHANNELS__DISCORD__BOT_TOKEN".into(),
            });
        }
        if self
            .api_proxy
            .as_deref()
            .is_some_and(|p| !p.starts_with("http://") && !p.starts_with("https://"))
        {
            return Err(SettingsError::MissingChannelKey {
                channel: "discord",
                key: "api_proxy",
                variable: "(an http(s) URL)".into(),
            });
        }
        Ok(())
    }
}
