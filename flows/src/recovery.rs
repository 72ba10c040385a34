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
    /// A code for a percentage off, minted for the customer with this reminder.
    pub discount: Option<crate::discount::StepDiscount>,
}

/// When reminders may not go out: every night between two wall-clock times, in the
/// customer's time zone when their channel told it (the web chat's browser), else the
/// shop's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct QuietHours(Option<Nightly>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Nightly {
    /// Minutes after midnight; `from > to` spans midnight.
    from: u32,
    to: u32,
    zone: chrono_tz::Tz,
}

impl QuietHours {
    pub fn never() -> QuietHours {
        QuietHours(None)
    }

    /// From `from` to `to` (minutes after midnight) every day; `zone` is the shop's.
    pub fn daily(from: u32, to: u32, zone: chrono_tz::Tz) -> QuietHours {
        QuietHours((from != to).then_some(Nightly { from, to, zone }))
    }

    /// `Some(end)` when `at` falls in quiet hours where the customer is.
    pub fn until(&self, at: Timestamp, customer_zone: Option<&str>) -> Option<Timestamp> {
        use chrono::{TimeZone, Timelike};
        let nightly = self.0?;
        let zone = customer_zone
            .and_then(|name| name.parse::<chrono_tz::Tz>().ok())
            .unwrap_or(nightly.zone);
        let utc = chrono::DateTime::from_timestamp_millis(at.millis())?;
        let local = zone.from_utc_datetime(&utc.naive_utc());
        let minute = local.hour() * 60 + local.minute();
        let quiet = if nightly.from > nightly.to {
            minute >= nightly.from || minute < nightly.to
        } else {
            (nightly.from..nightly.to).contains(&minute)
        };
        if !quiet {
            return None;
        }
        // Minutes until `to`, on this day or the next; a daylight-saving shift moves the
        // wake-up by at most an hour, which a reminder can bear.
        let wait = (i64::from(nightly.to) - i64::from(minute)).rem_euclid(24 * 60);
        let end = at.millis()
            - i64::from(local.second()) * 1000
            - i64::from(local.nanosecond() / 1_000_000)
            + wait * 60_000;
        Some(Timestamp(end)).filter(|end| *end > at)
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
