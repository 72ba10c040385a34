//! What the shop offers for booking, as the shell loaded it from `config/`.

use std::collections::BTreeMap;

use chrono::{NaiveDate, NaiveTime, Weekday};
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

use crate::money::Money;
use crate::text::LocalizedText;
use crate::time::Span;

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ServiceId(pub String);

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct StaffId(pub String);

impl std::fmt::Display for ServiceId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::fmt::Display for StaffId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Wall-clock hours within one day, in the shop's time zone: `from` < `to`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalRange {
    pub from: NaiveTime,
    pub to: NaiveTime,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Service {
    pub id: ServiceId,
    pub name: LocalizedText,
    pub duration: Span,
    pub price: Option<Money>,
    /// Paid through the payment link to keep the time; unpaid when the link expires, the
    /// booking is cancelled.
    pub deposit: Option<Money>,
    /// Kept free before and after an appointment (setting up, cleaning).
    pub buffer_before: Span,
    pub buffer_after: Span,
    /// Who can do it, in the shop's order of preference.
    pub staff: Vec<StaffId>,
}

/// A person or a resource (a chair, a room) with working hours.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Staff {
    pub id: StaffId,
    pub name: String,
    /// Hours per weekday, Monday first; an empty day is a day off.
    pub week: [Vec<LocalRange>; 7],
    /// Every working day, these hours are not worked (lunch).
    pub breaks: Vec<LocalRange>,
    /// Days with other hours than usual; an empty list is a day off (holidays, time off).
    pub exceptions: BTreeMap<NaiveDate, Vec<LocalRange>>,
}

impl Staff {
    /// The working hours of one date: the week's (or the exception's) minus breaks.
    pub fn hours_on(&self, date: NaiveDate) -> Vec<LocalRange> {
        let base = match self.exceptions.get(&date) {
            Some(hours) => hours.clone(),
            None => self.week[weekday_index(chrono::Datelike::weekday(&date))].clone(),
        };
        let mut ranges = base;
        for pause in &self.breaks {
            ranges = ranges
                .into_iter()
                .flat_map(|range| {
                    let mut parts = Vec::new();
                    if pause.from > range.from {
                        parts.push(LocalRange {
                            from: range.from,
                            to: range.to.min(pause.from),
                        });
                    }
                    if pause.to < range.to {
                        parts.push(LocalRange {
                            from: range.from.max(pause.to),
                            to: range.to,
                        });
                    }
                    parts.into_iter().filter(|r| r.from < r.to)
                })
                .collect();
        }
        ranges
    }
}

pub(crate) fn weekday_index(day: Weekday) -> usize {
    day.num_days_from_monday() as usize
}

/// Booking as the shop configured it. No services: booking is off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BookingSettings {
    pub services: Vec<Service>,
    pub staff: Vec<Staff>,
    /// The shop's time zone: hours are wall-clock times there.
    pub zone: Tz,
    /// No appointment sooner than this from now.
    pub min_notice: Span,
    /// No appointment further ahead than this many days.
    pub horizon_days: u32,
    /// Start times are this far apart, counted from the start of each working range.
    pub slot_step: Span,
    /// How long a time the customer picked is kept for them while they give their details.
    pub hold: Span,
    /// Cancelling or moving in chat is possible until this long before the start.
    pub cutoff: Span,
    /// Reminders this long before the start, longest first.
    pub reminders: Vec<Span>,
    /// Days offered at once, and times per day.
    pub days_offered: usize,
    pub times_offered: usize,
}

impl Default for BookingSettings {
    fn default() -> Self {
        BookingSettings {
            services: Vec::new(),
            staff: Vec::new(),
            zone: chrono_tz::UTC,
            min_notice: Span::hours(2),
            horizon_days: 30,
            slot_step: Span::minutes(30),
            hold: Span::minutes(10),
            cutoff: Span::hours(12),
            reminders: vec![Span::hours(24), Span::hours(2)],
            days_offered: 5,
            times_offered: 8,
        }
    }
}

impl BookingSettings {
    pub fn enabled(&self) -> bool {
        !self.services.is_empty()
    }

    pub fn service(&self, id: &ServiceId) -> Option<&Service> {
        self.services.iter().find(|service| &service.id == id)
    }

    pub fn staff_member(&self, id: &StaffId) -> Option<&Staff> {
        self.staff.iter().find(|staff| &staff.id == id)
    }
}
