//! What a booking request does, decided on the calendar the store has locked: which time is
//! taken or freed, what is answered, and which bookings to store or mark. Every backend
//! runs this inside its transaction and writes what it says, so they cannot disagree.

use super::{Booking, BookingId, BookingOutcome, BookingRequest, BookingStatus, Calendar};
use crate::Timestamp;

/// The writes a request asks of the store, besides the calendar it changed in place.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Decided {
    /// The answer to a `Hold` or `Book`; nothing for the others.
    pub outcome: Option<BookingOutcome>,
    /// A new booking to store (with its calendar link, when it has one).
    pub store: Option<Booking>,
    /// Status changes of stored bookings.
    pub statuses: Vec<(BookingId, BookingStatus)>,
}

/// Carries out `request` on `calendar` at `now`; a new booking gets `calendar_url`. A `Book`
/// asked again (a retry) is the store's to answer first, from what it stored.
pub fn decide(
    request: &BookingRequest,
    calendar: &mut Calendar,
    now: Timestamp,
    calendar_url: Option<&str>,
) -> Decided {
    match request {
        BookingRequest::Hold { busy, staff } => {
            let booking = busy.booking.clone();
            let outcome = if calendar.reserve(staff, busy.clone(), now, None) {
                BookingOutcome::Held { booking }
            } else {
                BookingOutcome::Taken { booking }
            };
            Decided {
                outcome: Some(outcome),
                ..Decided::default()
            }
        }
        BookingRequest::Book {
            booking,
            busy,
            replaces,
        } => {
            if !calendar.reserve(&booking.staff, busy.clone(), now, replaces.as_ref()) {
                return Decided {
                    outcome: Some(BookingOutcome::Taken {
                        booking: booking.id.clone(),
                    }),
                    ..Decided::default()
                };
            }
            let mut stored = (**booking).clone();
            if let Some(url) = calendar_url {
                stored.calendar_url = Some(url.to_owned());
            }
            Decided {
                outcome: Some(BookingOutcome::Booked {
                    booking: Box::new(stored.clone()),
                }),
                store: Some(stored),
                statuses: replaces
                    .iter()
                    .map(|old| (old.clone(), BookingStatus::Rescheduled))
                    .collect(),
            }
        }
        BookingRequest::Cancel { booking } => {
            calendar.release(booking);
            Decided {
                statuses: vec![(booking.clone(), BookingStatus::Cancelled)],
                ..Decided::default()
            }
        }
        BookingRequest::SetStatus { booking, status } => Decided {
            statuses: vec![(booking.clone(), *status)],
            ..Decided::default()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CustomerId;
    use crate::booking::{Busy, ServiceId, StaffId};

    fn busy(id: &str, who: &str, from: i64, hold: bool) -> Busy {
        Busy {
            booking: BookingId(id.into()),
            customer: CustomerId(who.into()),
            from: Timestamp(from),
            to: Timestamp(from + 60),
            hold_until: hold.then_some(Timestamp(1_000)),
        }
    }

    fn booking(id: &str, who: &str, from: i64) -> Booking {
        Booking {
            id: BookingId(id.into()),
            customer: CustomerId(who.into()),
            service: ServiceId("cut".into()),
            staff: StaffId("ana".into()),
            start: Timestamp(from),
            end: Timestamp(from + 60),
            status: BookingStatus::Booked,
            name: "Maria".into(),
            contact: "0721".into(),
            reminders_done: 0,
            confirmed: false,
            calendar_url: None,
            deposit: None,
        }
    }

    #[test]
    fn a_hold_takes_a_free_time_and_is_refused_a_taken_one() {
        let ana = StaffId("ana".into());
        let mut calendar = Calendar::default();
        let first = BookingRequest::Hold {
            busy: busy("h1", "a", 100, true),
            staff: ana.clone(),
        };
        let decided = decide(&first, &mut calendar, Timestamp(0), None);
        assert!(matches!(decided.outcome, Some(BookingOutcome::Held { .. })));
        assert!(decided.store.is_none() && decided.statuses.is_empty());
        let second = BookingRequest::Hold {
            busy: busy("h2", "b", 120, true),
            staff: ana,
        };
        let decided = decide(&second, &mut calendar, Timestamp(0), None);
        assert!(matches!(
            decided.outcome,
            Some(BookingOutcome::Taken { .. })
        ));
    }

    #[test]
    fn a_booking_is_stored_with_its_link_and_marks_the_one_it_replaces() {
        let mut calendar = Calendar::default();
        let old = BookingRequest::Book {
            booking: Box::new(booking("b1", "a", 100)),
            busy: busy("b1", "a", 100, false),
            replaces: None,
        };
        decide(&old, &mut calendar, Timestamp(0), None);
        let moved = BookingRequest::Book {
            booking: Box::new(booking("b2", "a", 300)),
            busy: busy("b2", "a", 300, false),
            replaces: Some(BookingId("b1".into())),
        };
        let decided = decide(&moved, &mut calendar, Timestamp(0), Some("https://x/ics/t"));
        let stored = decided.store.expect("stored");
        assert_eq!(stored.calendar_url.as_deref(), Some("https://x/ics/t"));
        assert_eq!(
            decided.outcome,
            Some(BookingOutcome::Booked {
                booking: Box::new(stored)
            })
        );
        assert_eq!(
            decided.statuses,
            vec![(BookingId("b1".into()), BookingStatus::Rescheduled)]
        );
        // The old time is free again: someone else can hold it.
        let other = BookingRequest::Hold {
            busy: busy("h", "b", 100, true),
            staff: StaffId("ana".into()),
        };
        let decided = decide(&other, &mut calendar, Timestamp(0), None);
        assert!(matches!(decided.outcome, Some(BookingOutcome::Held { .. })));
    }

    #[test]
    fn a_cancel_frees_the_time_and_marks_the_booking() {
        let mut calendar = Calendar::default();
        let book = BookingRequest::Book {
            booking: Box::new(booking("b1", "a", 100)),
            busy: busy("b1", "a", 100, false),
            replaces: None,
        };
        decide(&book, &mut calendar, Timestamp(0), None);
        let cancel = BookingRequest::Cancel {
            booking: BookingId("b1".into()),
        };
        let decided = decide(&cancel, &mut calendar, Timestamp(0), None);
        assert_eq!(decided.outcome, None);
        assert_eq!(
            decided.statuses,
            vec![(BookingId("b1".into()), BookingStatus::Cancelled)]
        );
        assert!(calendar.by_staff.values().all(Vec::is_empty));
    }
}
