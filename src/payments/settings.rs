//! `[payments]`: which provider makes payment links, and its keys. Secrets come from the
//! environment only (`SOUK__PAYMENTS__STRIPE__SECRET_KEY`, `…__WEBHOOK_SECRET`).

use serde::Deserialize;

use crate::settings::Secret;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProviderKind {
    /// Orders wait for payment; the shop takes it some other way.
    #[default]
    None,
    /// A local page at `/pay/{token}` with a "Pay" button: the whole loop without an account.
    Demo,
    Stripe,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PaymentSettings {
    #[serde(default)]
    pub provider: ProviderKind,
    /// How long a payment link can be used (Stripe accepts 30 minutes to 24 hours; 35 at least
    /// here, so a retried request still gives the session 30).
    #[serde(default = "default_link_expiry_minutes")]
    pub link_expiry_minutes: u32,
    /// Calls to the provider before a link is given up and the customer told.
    #[serde(default = "default_max_tries")]
    pub max_tries: u32,
    #[serde(default)]
    pub stripe: StripeSettings,
}

impl Default for PaymentSettings {
    fn default() -> Self {
        PaymentSettings {
            provider: ProviderKind::None,
            link_expiry_minutes: default_link_expiry_minutes(),
            max_tries: default_max_tries(),
            stripe: StripeSettings::default(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StripeSettings {
    #[serde(default = "default_stripe_base")]
    pub api_base: String,
    #[serde(default)]
    pub secret_key: Option<Secret>,
    #[serde(default)]
    pub webhook_secret: Option<Secret>,
    /// Where Stripe sends the customer after paying; default `{server.public_url}/pay/done`.
    #[serde(default)]
    pub success_url: Option<String>,
    #[serde(default)]
    pub cancel_url: Option<String>,
    /// Accepted age of a `Stripe-Signature` timestamp.
    #[serde(default = "default_tolerance")]
    pub tolerance_seconds: i64,
    #[serde(default = "default_timeout_ms")]
    pub request_timeout_ms: u64,
}

impl Default for StripeSettings {
    fn default() -> Self {
        StripeSettings {
            api_base: default_stripe_base(),
            secret_key: None,
            webhook_secret: None,
            success_url: None,
            cancel_url: None,
            tolerance_seconds: default_tolerance(),
            request_timeout_ms: default_timeout_ms(),
        }
    }
}

fn default_link_expiry_minutes() -> u32 {
    60
}

fn default_max_tries() -> u32 {
    6
}

fn default_stripe_base() -> String {
    "https://api.stripe.com".into()
}

fn default_tolerance() -> i64 {
    adapters::payments::stripe_signature::DEFAULT_TOLERANCE_SECONDS
}

fn default_timeout_ms() -> u64 {
    10_000
}

impl PaymentSettings {
    /// Secrets made of digits arrive from figment as numbers; read them raw instead.
    pub(crate) fn take_raw_secrets_from_env(&mut self) {
        for (variable, slot) in [
            (
                "SOUK__PAYMENTS__STRIPE__SECRET_KEY",
                &mut self.stripe.secret_key,
            ),
            (
                "SOUK__PAYMENTS__STRIPE__WEBHOOK_SECRET",
                &mut self.stripe.webhook_secret,
            ),
        ] {
            if let Ok(raw) = std::env::var(variable) {
                *slot = Some(Secret::new(raw));
            }
        }
    }

    /// Problems as (key, what is wrong); `public_url` is `server.public_url`.
    pub fn problems(&self, public_url: &str) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        // Stripe wants a session to live 30 minutes at least when it is created; five more
        // leave room for a retried request.
        if !(35..=24 * 60).contains(&self.link_expiry_minutes) {
            problems.push((
                "payments.link_expiry_minutes",
                "must be between 35 and 1440 (Stripe's limits, with room for retries)".to_owned(),
            ));
        }
        if !(1..=50).contains(&self.max_tries) {
            problems.push(("payments.max_tries", "must be between 1 and 50".to_owned()));
        }
        if self.provider == ProviderKind::Stripe {
            let stripe = &self.stripe;
            if stripe.secret_key.is_none() {
                problems.push((
                    "payments.stripe.secret_key",
                    "is required with provider \"stripe\" (SOUK__PAYMENTS__STRIPE__SECRET_KEY)"
                        .to_owned(),
                ));
            }
            if stripe.webhook_secret.is_none() {
                problems.push((
                    "payments.stripe.webhook_secret",
                    "is required with provider \"stripe\" (SOUK__PAYMENTS__STRIPE__WEBHOOK_SECRET)"
                        .to_owned(),
                ));
            }
            if stripe.success_url.is_none() && public_url.is_empty() {
                problems.push((
                    "payments.stripe.success_url",
                    "is required when server.public_url is not set".to_owned(),
                ));
            }
            if !(stripe.api_base.starts_with("https://") || stripe.api_base.starts_with("http://"))
            {
                problems.push((
                    "payments.stripe.api_base",
                    "must be an http(s) URL".to_owned(),
                ));
            }
            if !(1..=3_600).contains(&stripe.tolerance_seconds) {
                problems.push((
                    "payments.stripe.tolerance_seconds",
                    "must be between 1 and 3600".to_owned(),
                ));
            }
        }
        problems
    }
}
