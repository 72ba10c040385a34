//! `[privacy]`: how long souk keeps what it holds on customers. Zero keeps for ever.

use serde::Deserialize;

use crate::settings::Secret;

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PrivacySettings {
    /// Messages (the history of every conversation) older than this go.
    #[serde(default = "two_years")]
    pub history_days: u32,
    /// A customer silent for this long is erased as if they had asked (no last message).
    #[serde(default = "three_years")]
    pub inactive_customer_days: u32,
    /// Orders (kept stripped after an erasure, for accounting) go this many years after
    /// they were placed; the law of the shop's country says how long.
    #[serde(default = "ten")]
    pub order_years: u32,
    /// The audit log's entries go after this long.
    #[serde(default = "two_years")]
    pub audit_days: u32,
    /// Ask customers once, after their first paid order, whether they want news and
    /// offers; campaign messages (`POST /api/admin/marketing`) go only to a recorded yes.
    #[serde(default)]
    pub ask_marketing_consent: bool,
    /// Salts the digests of erased platform ids. From the environment only
    /// (`SOUK__PRIVACY__DIGEST_KEY`); unset, a random key kept in the store is used, and a
    /// copy of the store alone can then test a phone number against the digests.
    #[serde(default)]
    pub digest_key: Option<Secret>,
}

fn two_years() -> u32 {
    730
}

fn three_years() -> u32 {
    1095
}

fn ten() -> u32 {
    10
}

impl Default for PrivacySettings {
    fn default() -> Self {
        PrivacySettings {
            history_days: two_years(),
            inactive_customer_days: three_years(),
            order_years: ten(),
            audit_days: two_years(),
            ask_marketing_consent: false,
            digest_key: None,
        }
    }
}

impl PrivacySettings {
    pub const SECRETS: [&'static str; 1] = ["privacy.digest_key"];

    /// The lines `souk check-config` prints.
    pub fn describe(&self) -> Vec<String> {
        let days = |n: u32, unit: &str| {
            if n == 0 {
                "kept for ever".to_owned()
            } else {
                format!("{n} {unit}")
            }
        };
        vec![
            format!(
                "retention: messages {}, inactive customers erased after {}, orders {}, audit log {}",
                days(self.history_days, "days"),
                days(self.inactive_customer_days, "days"),
                days(self.order_years, "years"),
                days(self.audit_days, "days"),
            ),
            format!(
                "erased platform ids: salted digests, key {}",
                if self.digest_key.is_some() {
                    "from the environment"
                } else {
                    "kept in the store (set SOUK__PRIVACY__DIGEST_KEY to keep it apart)"
                }
            ),
        ]
    }
}
