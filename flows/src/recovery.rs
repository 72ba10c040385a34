//! Abandoned-cart recovery: what the shop configures and what a conversation remembers.
//! The flow is `flow/recovery.rs`.

use serde::{Deserialize, Serialize};

use crate::text::TextKey;
use crate::time::{Span, Timestamp};

/// One reminder of the sequence: how long after the customer's last activity, and what it
/// says. The first is a service message; the later ones are marketing and need consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryStep {
    pub after: Span,
    pub key: TextKey,
}

/// No steps: recovery is off.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecoverySettings {
    pub steps: Vec<RecoveryStep>,
}

impl RecoverySettings {
    /// 30 minutes, a day, three days: the shipped sequence.
    pub fn standard() -> RecoverySettings {
        RecoverySettings {
            steps: vec![
                RecoveryStep {
                    after: Span::minutes(30),
                    key: TextKey::RecoveryGentle,
                },
                RecoveryStep {
                    after: Span::hours(24),
                    key: TextKey::RecoveryNextDay,
                },
                RecoveryStep {
                    after: Span::hours(72),
                    key: TextKey::RecoveryLastCall,
                },
            ],
        }
    }
}

/// The customer's answer to "may we remind you?", with when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Consent {
    pub granted: bool,
    pub at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct RecoveryState {
    /// The activity the running sequence counts from; `None`: no sequence runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub since: Option<Timestamp>,
    /// The reminder due next.
    #[serde(default)]
    pub next_step: u32,
    /// When the pending reminder timer fires. It is armed once per step and, if the customer
    /// was active since, re-armed when it fires, instead of being moved on every message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timer_due: Option<Timestamp>,
    /// Asked to stop: no reminders until they opt in again.
    #[serde(default)]
    pub opted_out: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consent: Option<Consent>,
}
