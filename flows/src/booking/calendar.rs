//! Who is busy when. The store keeps the authoritative copy and changes it only through
//! `Calendar::reserve` inside one transaction; the shell keeps a copy in memory for the core
//! to compute free slots from (a slightly stale copy only means a "taken" answer later).

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use serde::{Deserialize, Serialize};

use super::BookingId;
use super::settings::StaffId;
use crate::customer::CustomerId;
use crate::time::{Span, Timestamp};

/// Time taken on one staff member's calendar: an appointment with its buffers, or a hold.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Busy {
    pub booking: BookingId,
    pub customer: CustomerId,
    pub from: Timestamp,
    pub to: Timestamp,
    /// A hold lapses at this time; a booking has none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_until: Option<Timestamp>,
}

impl Busy {
    fn in_force(&self, now: Timestamp) -> bool {
        self.hold_until.is_none_or(|until| until > now)
    }

    fn overlaps(&self, from: Timestamp, to: Timestamp) -> bool {
        self.from < to && from < self.to
    }
}

/// How long finished appointments stay on the calendar (for the console; they block nothing).
const KEEP_PAST: Span = Span::hours(24);

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Calendar {
    pub by_staff: BTreeMap<StaffId, Vec<Busy>>,
}

impl Calendar {
    /// Whether `from..to` is free for `staff` at `now`, not counting `ignore` (the booking
    /// being moved) or the customer's own hold of the same booking.
    pub fn is_free(
        &self,
        staff: &StaffId,
        from: Timestamp,
        to: Timestamp,
        now: Timestamp,
        ignore: &[&BookingId],
    ) -> bool {
        self.by_staff.get(staff).is_none_or(|entries| {
            !entries.iter().any(|entry| {
                entry.in_force(now) && !ignore.contains(&&entry.booking) && entry.overlaps(from, to)
            })
        })
    }

    /// Takes `busy` on `staff`'s calendar if nothing else in force overlaps it. A hold
    /// replaces the customer's other holds (one pending choice at a time); a booking
    /// replaces its own hold and, with `replaces`, the booking it moves. All or nothing.
    pub fn reserve(
        &mut self,
        staff: &StaffId,
        busy: Busy,
        now: Timestamp,
        replaces: Option<&BookingId>,
    ) -> bool {
        let mut ignore = vec![&busy.booking];
        ignore.extend(replaces);
        if !self.is_free(staff, busy.from, busy.to, now, &ignore) {
            return false;
        }
        let booking = busy.booking.clone();
        let customer = busy.customer.clone();
        let is_hold = busy.hold_until.is_some();
        for entries in self.by_staff.values_mut() {
            entries.retain(|entry| {
                let same = entry.booking == booking;
                let moved = replaces == Some(&entry.booking);
                let other_hold =
                    is_hold && entry.customer == customer && entry.hold_until.is_some();
                let stale = !entry.in_force(now) || entry.to.plus(KEEP_PAST) < now;
                !(same || moved || other_hold || stale)
            });
        }
        self.by_staff.entry(staff.clone()).or_default().push(busy);
        true
    }

    /// Frees whatever `booking` holds or booked.
    pub fn release(&mut self, booking: &BookingId) -> bool {
        let mut found = false;
        for entries in self.by_staff.values_mut() {
            let before = entries.len();
            entries.retain(|entry| &entry.booking != booking);
            found |= entries.len() != before;
        }
        found
    }

    pub fn entries(&self) -> impl Iterator<Item = (&StaffId, &Busy)> {
        self.by_staff
            .iter()
            .flat_map(|(staff, entries)| entries.iter().map(move |entry| (staff, entry)))
    }
}

/// The shell's in-memory copy, shared with every step.
#[derive(Debug, Clone, Default)]
pub struct CalendarView(Arc<RwLock<Calendar>>);

impl CalendarView {
    pub fn new(calendar: Calendar) -> CalendarView {
        CalendarView(Arc::new(RwLock::new(calendar)))
    }

    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, Calendar> {
        self.0
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn write(&self) -> std::sync::RwLockWriteGuard<'_, Calendar> {
        self.0
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
