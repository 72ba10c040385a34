//! `[nlu]`: the language model the rules hand what they cannot place to. Off unless a
//! provider is named; the key only from `SOUK__NLU__API_KEY`.

use serde::Deserialize;

use crate::settings::Secret;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Provider {
    /// The rules alone.
    #[default]
    None,
    /// Any endpoint speaking OpenAI's chat completions with tools: OpenAI, Azure OpenAI,
    /// Ollama, vLLM, llama.cpp's server.
    OpenAi,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NluSettings {
    #[serde(default)]
    pub provider: Provider,
    /// Up to and including `/v1` (no trailing slash): requests go to
    /// `{api_base}/chat/completions`.
    #[serde(default = "default_api_base")]
    pub api_base: String,
    #[serde(default = "default_model")]
    pub model: String,
    /// From `SOUK__NLU__API_KEY` only (refused in the file). Local servers (Ollama,
    /// llama.cpp) need none.
    #[serde(default)]
    pub api_key: Option<Secret>,
    /// One call's limit; past it the rules answer.
    #[serde(default = "default_timeout_ms")]
    pub timeout_ms: u64,
    /// Calls in flight at once for the shop; more wait their turn within `timeout_ms`.
    #[serde(default = "default_max_concurrency")]
    pub max_concurrency: usize,
    /// Tokens (prompt and completion) the shop spends per UTC day; past it, the rules alone.
    #[serde(default = "default_daily_tokens")]
    pub daily_tokens: u64,
    /// Tokens one conversation may spend per UTC day.
    #[serde(default = "default_daily_tokens_per_conversation")]
    pub daily_tokens_per_conversation: u64,
    /// Failures in a row that open the circuit (calls skipped)...
    #[serde(default = "default_breaker_failures")]
    pub breaker_failures: u32,
    /// ...for this long, then one call tries again.
    #[serde(default = "default_breaker_open_seconds")]
    pub breaker_open_seconds: u64,
    /// Earlier messages of the conversation the model sees.
    #[serde(default = "default_history_turns")]
    pub history_turns: usize,
    /// Catalog products named in the prompt (those the message's words find first).
    #[serde(default = "default_catalog_products")]
    pub catalog_products: usize,
    /// The operator console shows customer messages in the operator's language and can
    /// send an operator's reply in the customer's.
    #[serde(default = "default_translate")]
    pub translate: bool,
}

impl NluSettings {
    /// Names of the secret keys, refused in the file.
    pub const SECRETS: [&'static str; 1] = ["nlu.api_key"];

    pub fn enabled(&self) -> bool {
        self.provider != Provider::None
    }

    pub fn take_key_from_env(&mut self) {
        if let Ok(raw) = std::env::var("SOUK__NLU__API_KEY")
            && !raw.is_empty()
        {
            self.api_key = Some(Secret::new(raw));
        }
    }

    pub fn validate(&self) -> Result<(), String> {
        if !self.enabled() {
            return Ok(());
        }
        let base = reqwest::Url::parse(&self.api_base)
            .map_err(|_| "api_base is not a URL (e.g. https://api.openai.com/v1)".to_owned())?;
        if !matches!(base.scheme(), "http" | "https") {
            return Err("api_base must be an http or https URL".into());
        }
        if self.api_base.ends_with('/') {
            return Err("api_base must not end with '/'".into());
        }
        if self.model.trim().is_empty() {
            return Err("model is empty".into());
        }
        if !(100..=120_000).contains(&self.timeout_ms) {
            return Err("timeout_ms must be between 100 and 120000".into());
        }
        if !(1..=1_000).contains(&self.max_concurrency) {
            return Err("max_concurrency must be between 1 and 1000".into());
        }
        if self.breaker_failures == 0 || self.breaker_open_seconds > 86_400 {
            return Err(
                "breaker_failures must be at least 1 and breaker_open_seconds at most 86400".into(),
            );
        }
        if self.history_turns > 50 || self.catalog_products > 500 {
            return Err("history_turns is at most 50 and catalog_products at most 500".into());
        }
        Ok(())
    }
}

impl Default for NluSettings {
    fn default() -> Self {
        NluSettings {
            provider: Provider::None,
            api_base: default_api_base(),
            model: default_model(),
            api_key: None,
            timeout_ms: default_timeout_ms(),
            max_concurrency: default_max_concurrency(),
            daily_tokens: default_daily_tokens(),
            daily_tokens_per_conversation: default_daily_tokens_per_conversation(),
            breaker_failures: default_breaker_failures(),
            breaker_open_seconds: default_breaker_open_seconds(),
            history_turns: default_history_turns(),
            catalog_products: default_catalog_products(),
            translate: default_translate(),
        }
    }
}

fn default_api_base() -> String {
    "https://api.openai.com/v1".into()
}
fn default_model() -> String {
    "gpt-4o-mini".into()
}
fn default_timeout_ms() -> u64 {
    8_000
}
fn default_max_concurrency() -> usize {
    8
}
fn default_daily_tokens() -> u64 {
    2_000_000
}
fn default_daily_tokens_per_conversation() -> u64 {
    40_000
}
fn default_breaker_failures() -> u32 {
    5
}
fn default_breaker_open_seconds() -> u64 {
    60
}
fn default_history_turns() -> usize {
    6
}
fn default_catalog_products() -> usize {
    40
}
fn default_translate() -> bool {
    true
}
