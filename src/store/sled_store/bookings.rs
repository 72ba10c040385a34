//! Appointment bookings in sled. The calendar is one key per staff member (`cal\0STAFF`, the
//! list of times taken), bookings are `b\0ID`, calendar-link tokens `ics\0TOKEN`. Every
//! request is one transaction that reads every staff member's calendar, so two requests for
//! overlapping times (from any worker) are serialized: only one of them finds the time free.

use sled::transaction::{ConflictableTransactionError, TransactionalTree};

use flows::Timestamp;
use flows::booking::{
    Booking, BookingId, BookingOutcome, BookingRequest, BookingStatus, Busy, Calendar, StaffId,
};

use super::{SledTrees, TxResult, console_key, engine, tx_error};
use crate::store::StoreResult;
use crate::store::codec::{decode, encode};

fn calendar_key(staff: &StaffId) -> Vec<u8> {
    console_key("cal", staff.0.as_bytes())
}

pub(super) fn booking_key(id: &BookingId) -> Vec<u8> {
    console_key("b", id.0.as_bytes())
}

pub(super) fn token_key(token: &str) -> Vec<u8> {
    console_key("ics", token.as_bytes())
}

fn abort(
    error: crate::store::codec::CodecError,
) -> ConflictableTransactionError<crate::store::StoreError> {
    ConflictableTransactionError::Abort(error.into())
}

/// The calendars of `staff` as the transaction sees them.
fn read_calendar(tree: &TransactionalTree, staff: &[StaffId]) -> TxResult<Calendar> {
    let mut calendar = Calendar::default();
    for id in staff {
        if let Some(raw) = tree.get(calendar_key(id))? {
            let entries: Vec<Busy> = decode("calendar", &raw).map_err(abort)?;
            calendar.by_staff.insert(id.clone(), entries);
        }
    }
    Ok(calendar)
}

/// Writes back the staff members whose calendar changed.
fn write_calendar(tree: &TransactionalTree, before: &Calendar, after: &Calendar) -> TxResult<()> {
    for (id, entries) in &after.by_staff {
        if before.by_staff.get(id) != Some(entries) {
            tree.insert(calendar_key(id), encode(entries))?;
        }
    }
    Ok(())
}

fn set_status(tree: &TransactionalTree, id: &BookingId, status: BookingStatus) -> TxResult<()> {
    if let Some(raw) = tree.get(booking_key(id))? {
        let mut booking: Booking = decode("booking", &raw).map_err(abort)?;
        booking.status = status;
        tree.insert(booking_key(id), encode(&booking))?;
    }
    Ok(())
}

/// Makes `bookings` (and their times in the calendar) name `customer`: after a merge the
/// survivor owns them, after an unlink their own chat again. Inside the merge's transaction.
pub(super) fn reassign(
    tree: &TransactionalTree,
    bookings: &[Booking],
    customer: &flows::CustomerId,
) -> TxResult<()> {
    for booking in bookings {
        if let Some(raw) = tree.get(booking_key(&booking.id))? {
            let mut stored: Booking = decode("booking", &raw).map_err(abort)?;
            stored.customer.clone_from(customer);
            tree.insert(booking_key(&booking.id), encode(&stored))?;
        }
        if let Some(raw) = tree.get(calendar_key(&booking.staff))? {
            let mut entries: Vec<Busy> = decode("calendar", &raw).map_err(abort)?;
            let mut changed = false;
            for entry in entries.iter_mut().filter(|e| e.booking == booking.id) {
                entry.customer.clone_from(customer);
                changed = true;
            }
            if changed {
                tree.insert(calendar_key(&booking.staff), encode(&entries))?;
            }
        }
    }
    Ok(())
}

impl SledTrees {
    pub(super) fn booking_calendar(&self) -> StoreResult<Calendar> {
        let mut calendar = Calendar::default();
        for item in self.bookings.scan_prefix(console_key("cal", b"")) {
            let (key, raw) = item.map_err(engine)?;
            let staff = String::from_utf8_lossy(key.get(4..).unwrap_or_default()).into_owned();
            let entries: Vec<Busy> = decode("calendar", &raw)?;
            calendar.by_staff.insert(StaffId(staff), entries);
        }
        Ok(calendar)
    }

    /// Carries out `request` atomically; `calendar_url` is the link a new booking gets and
    /// `token` the secret in it.
    pub(super) fn booking_request_tx(
        &self,
        request: &BookingRequest,
        staff: &[StaffId],
        now: Timestamp,
        link: Option<(&str, &str)>,
    ) -> StoreResult<Option<BookingOutcome>> {
        // Every staff member the request could touch: the shop's, and the request's own
        // (a booking kept from an earlier configuration).
        let mut all: Vec<StaffId> = staff.to_vec();
        if let BookingRequest::Hold { staff, .. } = request {
            all.push(staff.clone());
        }
        if let BookingRequest::Book { booking, .. } = request {
            all.push(booking.staff.clone());
        }
        all.sort();
        all.dedup();
        self.bookings
            .transaction(|tree| {
                let before = read_calendar(tree, &all)?;
                let mut calendar = before.clone();
                // Asked again (a retry after a crash): the stored answer stands.
                if let BookingRequest::Book { booking, .. } = request
                    && let Some(raw) = tree.get(booking_key(&booking.id))?
                {
                    let stored: Booking = decode("booking", &raw).map_err(abort)?;
                    return Ok(Some(BookingOutcome::Booked {
                        booking: Box::new(stored),
                    }));
                }
                let decided =
                    flows::booking::decide(request, &mut calendar, now, link.map(|(url, _)| url));
                if let Some(stored) = &decided.store {
                    if let Some((_, token)) = link {
                        tree.insert(token_key(token), stored.id.0.as_bytes())?;
                    }
                    tree.insert(booking_key(&stored.id), encode(stored))?;
                }
                for (id, status) in &decided.statuses {
                    set_status(tree, id, *status)?;
                }
                let outcome = decided.outcome;
                write_calendar(tree, &before, &calendar)?;
                Ok(outcome)
            })
            .map_err(tx_error)
    }

    pub(super) fn booking_by_id(&self, id: &BookingId) -> StoreResult<Option<Booking>> {
        match self.bookings.get(booking_key(id)).map_err(engine)? {
            Some(raw) => Ok(Some(decode("booking", &raw)?)),
            None => Ok(None),
        }
    }

    pub(super) fn booking_by_token_id(&self, token: &str) -> StoreResult<Option<Booking>> {
        match self.bookings.get(token_key(token)).map_err(engine)? {
            Some(id) => self.booking_by_id(&BookingId(String::from_utf8_lossy(&id).into_owned())),
            None => Ok(None),
        }
    }

    pub(super) fn all_bookings(&self) -> StoreResult<Vec<Booking>> {
        let mut out = Vec::new();
        for item in self.bookings.scan_prefix(console_key("b", b"")) {
            let (_, raw) = item.map_err(engine)?;
            out.push(decode("booking", &raw)?);
        }
        Ok(out)
    }
}
