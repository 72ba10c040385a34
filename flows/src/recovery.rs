//! Abandoned-cart recovery: what the shop configures and what a conversation remembers.
//! The flow is `flow/recovery.rs`.

use serde::{Deserialize, Serialize};

use std::sync::Arc;

use crate::text::TextKey;
use crate::time::{Span, Timestamp};

/// One reminder of the sequence: how long after the customer's last activity, and what it
/// says. The first is a service message; the later ones are marketing and need consent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryStep {
    pub after: Span,
    pub key: TextKey,
    /// A code for a percentage off, minted for the customer with this reminder.
    pub discount: Option<crate::discount::StepDiscount>,
}

/// When reminders may not go out (the customer's night), as the shell computes it: for an
/// instant in quiet hours, when they end.
#[derive(Clone)]
pub struct QuietHours(Arc<dyn Fn(Timestamp) -> Option<Timestamp> + Send + Sync>);

impl QuietHours {
    pub fn never() -> QuietHours {
        QuietHours(Arc::new(|_| None))
    }

    pub fn new(f: impl Fn(Timestamp) -> Option<Timestamp> + Send + Sync + 'static) -> QuietHours {
        QuietHours(Arc::new(f))
    }

    /// `Some(end)` when `at` falls in quiet hours.
    pub fn until(&self, at: Timestamp) -> Option<Timestamp> {
        (self.0)(at).filter(|end| *end > at)
    }
}

impl std::fmt::Debug for QuietHours {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("QuietHours(..)")
    }
}

impl PartialEq for QuietHours {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for QuietHours {}

impl Default for QuietHours {
    fn default() -> Self {
        QuietHours::never()
    }
}

/// No steps: recovery is off.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RecoverySettings {
    pub steps: Vec<RecoveryStep>,
    /// A reminder that falls due at night waits for the morning.
    pub quiet: QuietHours,
    /// At most one sequence per customer in this long (`None`: no limit).
    pub once_per: Option<Span>,
}

impl RecoverySettings {
    /// 30 minutes, a day, three days: the shipped sequence.
    pub fn standard() -> RecoverySettings {
        RecoverySettings {
            quiet: QuietHours::never(),
            once_per: Some(Span::hours(24 * 7)),
            steps: vec![
                RecoveryStep {
                    after: Span::minutes(30),
                    key: TextKey::RecoveryGentle,
                    discount: None,
                },
                RecoveryStep {
                    after: Span::hours(24),
                    key: TextKey::RecoveryNextDay,
                    discount: None,
                },
                RecoveryStep {
                    after: Span::hours(72),
                    key: TextKey::RecoveryLastCall,
                    discount: None,
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
    /// The last reminder sent (its step and when): an order placed within a week of it
    /// counts as recovered by it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_reminder: Option<(u32, Timestamp)>,
    /// When the last sequence's first reminder went out (for `once_per`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_sequence_at: Option<Timestamp>,
    /// Discount codes the reminders gave this customer (kept after use, so a second use is
    /// recognised and refused).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub codes: Vec<crate::discount::DiscountCode>,
    /// How many codes were minted: the next one's number.
    #[serde(default)]
    pub codes_minted: u32,
    /// The code the customer applied to the cart, spent when an order is placed with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub applied: Option<String>,
}
