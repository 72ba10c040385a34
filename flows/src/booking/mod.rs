//! Appointment booking: what the shop offers (services, staff, hours), the bookings a
//! conversation keeps, and the requests the shell carries out against the store, which alone
//! decides atomically whether a slot is still free. The flow is `flow/booking.rs`.

mod calendar;
mod request;
mod settings;
mod slots;

pub use calendar::{Busy, Calendar, CalendarView};
pub use request::{Decided, decide};
// `Deposit` is defined below.
pub use settings::{BookingSettings, LocalRange, Service, ServiceId, Staff, StaffId};
pub use slots::{Slot, days_with_slots, free_slots, local_date};

use serde::{Deserialize, Serialize};

use crate::customer::CustomerId;
use crate::time::Timestamp;
pub use crate::vocabulary::BookingId;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BookingStatus {
    Booked,
    Cancelled,
    /// Moved to another time: the booking that replaced it carries on.
    Rescheduled,
    /// An operator marked that the customer did not come.
    NoShow,
}

/// One appointment as the conversation (and the store) keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Booking {
    pub id: BookingId,
    pub customer: CustomerId,
    pub service: ServiceId,
    pub staff: StaffId,
    pub start: Timestamp,
    pub end: Timestamp,
    pub status: BookingStatus,
    pub name: String,
    /// A phone number or an e-mail address, as the customer gave it.
    pub contact: String,
    /// Reminders before `start` already sent (or skipped because they were due when the
    /// booking was made): an index into the shop's reminder list.
    #[serde(default)]
    pub reminders_done: usize,
    /// The customer answered a reminder with "I'll be there".
    #[serde(default)]
    pub confirmed: bool,
    /// The `.ics` link souk serves for it, once the store confirmed the booking.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calendar_url: Option<String>,
    /// The deposit the service asks for: the order that collects it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deposit: Option<Deposit>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deposit {
    pub order: crate::vocabulary::OrderId,
    pub amount: crate::money::Money,
    #[serde(default)]
    pub paid: bool,
}

/// What the shell does in the store for the booking flow. The store checks and writes each
/// one atomically, so two customers (on any worker or replica) never get the same time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "request")]
pub enum BookingRequest {
    /// Keep this time for the customer until `until` while they give their details;
    /// answered with `BookingOutcome::Held` or `Taken`.
    Hold { busy: Busy, staff: StaffId },
    /// Book it (taking over the customer's hold, if it is still theirs and the time is
    /// still free); with `replaces`, the old booking's time is freed in the same
    /// transaction. Answered with `Booked` or `Taken`.
    Book {
        booking: Box<Booking>,
        busy: Busy,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replaces: Option<BookingId>,
    },
    /// Free the time and mark the booking cancelled. Not answered: it cannot fail.
    Cancel { booking: BookingId },
    /// Record a status change that frees nothing (a no-show).
    SetStatus {
        booking: BookingId,
        status: BookingStatus,
    },
}

/// The store's answer to a `Hold` or `Book`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum BookingOutcome {
    Held {
        booking: BookingId,
    },
    /// The booking as stored, with its calendar link.
    Booked {
        booking: Box<Booking>,
    },
    /// Somebody else has that time now.
    Taken {
        booking: BookingId,
    },
}

/// Where a booking conversation is. Each variant carries what its step needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "step")]
pub enum BookingStep {
    Service {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replaces: Option<BookingId>,
    },
    Day {
        service: ServiceId,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replaces: Option<BookingId>,
        /// The part of the day the customer asked for ("afternoon": 12 to 17), kept when
        /// that day had nothing: the days offered have times then, and only those are shown.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hours: Option<(u32, u32)>,
    },
    /// `day` is `YYYYMMDD` in the shop's calendar.
    Time {
        service: ServiceId,
        day: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        replaces: Option<BookingId>,
        /// The part of the day asked for, kept while paging through its times.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        hours: Option<(u32, u32)>,
    },
    AskName {
        draft: Draft,
    },
    AskContact {
        draft: Draft,
        name: String,
    },
    Confirm {
        draft: Draft,
        name: String,
        contact: crate::vocabulary::ContactPoint,
    },
    /// Asked the store to book; its answer comes as an event.
    Waiting {
        draft: Draft,
    },
}

/// The time a customer picked, held for them while they confirm.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Draft {
    pub booking: BookingId,
    pub service: ServiceId,
    pub staff: StaffId,
    pub start: Timestamp,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<BookingId>,
}

/// A conversation's appointments: every upcoming one and the latest few finished, how many
/// were ever started here (numbering the next id), the no-shows, and the reminder timer.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Appointments {
    pub list: Vec<Booking>,
    pub made: u32,
    pub no_shows: u32,
    /// When the pending appointment-reminder timer fires.
    pub reminder_due: Option<crate::time::Timestamp>,
}
