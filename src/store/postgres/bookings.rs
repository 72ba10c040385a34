//! Appointment bookings on PostgreSQL. A staff member's calendar is one row (`calendars`, the
//! list of times taken); a request locks the rows of every staff member it could touch, in
//! staff order, before reading them, so two requests for overlapping times (from any worker
//! or replica) run one after the other and only one finds the time free. Bookings are rows
//! of `bookings`, with their calendar-link token in a unique column.
//!
//! Lock order, shared with the merges (`directory.rs`): calendars (sorted by staff), then
//! bookings. Keeping one order keeps concurrent requests and merges from deadlocking.

use flows::booking::{
    Booking, BookingId, BookingOutcome, BookingRequest, BookingStatus, Busy, Calendar, StaffId,
};
use flows::{CustomerId, Timestamp};
use sqlx::PgConnection;

use super::{PgStore, db, decode_opt};
use crate::store::codec::{decode, encode};
use crate::store::{Bookings, StoreResult};

/// Makes sure every calendar of `staff` has a row, then locks them all, in staff order, and
/// returns them as the transaction sees them. `staff` must be sorted and deduplicated.
async fn lock_calendars(connection: &mut PgConnection, staff: &[String]) -> StoreResult<Calendar> {
    // A staff member nobody booked yet has no row, and a missing row cannot be locked: two
    // first requests would both find the calendar empty. An empty row to lock fixes that;
    // its empty list means the same to `Calendar` as no entry at all.
    sqlx::query(
        "INSERT INTO calendars (staff, record) SELECT staff, $2 FROM unnest($1::text[]) AS staff \
         ON CONFLICT (staff) DO NOTHING",
    )
    .bind(staff)
    .bind(encode(&Vec::<Busy>::new()))
    .execute(&mut *connection)
    .await
    .map_err(db)?;
    locked_calendars(connection, staff).await
}

/// The existing calendars of `staff` (sorted, deduplicated), locked in staff order.
async fn locked_calendars(
    connection: &mut PgConnection,
    staff: &[String],
) -> StoreResult<Calendar> {
    let rows: Vec<(String, Vec<u8>)> = sqlx::query_as(
        "SELECT staff, record FROM calendars WHERE staff = ANY($1) ORDER BY staff FOR UPDATE",
    )
    .bind(staff)
    .fetch_all(&mut *connection)
    .await
    .map_err(db)?;
    let mut calendar = Calendar::default();
    for (staff, raw) in rows {
        // A calendar that does not decode fails the request, as in sled: deciding on a
        // calendar read as empty could give its times away twice.
        let entries: Vec<Busy> = decode("calendar", &raw)?;
        calendar.by_staff.insert(StaffId(staff), entries);
    }
    Ok(calendar)
}

/// Writes back the staff members whose calendar changed.
async fn write_calendar(
    connection: &mut PgConnection,
    before: &Calendar,
    after: &Calendar,
) -> StoreResult<()> {
    for (id, entries) in &after.by_staff {
        if before.by_staff.get(id) != Some(entries) {
            put_calendar(connection, id, entries).await?;
        }
    }
    Ok(())
}

async fn put_calendar(
    connection: &mut PgConnection,
    staff: &StaffId,
    entries: &[Busy],
) -> StoreResult<()> {
    sqlx::query(
        "INSERT INTO calendars (staff, record) VALUES ($1, $2) \
         ON CONFLICT (staff) DO UPDATE SET record = EXCLUDED.record",
    )
    .bind(&staff.0)
    .bind(encode(&entries))
    .execute(connection)
    .await
    .map_err(db)?;
    Ok(())
}

/// A booking's row, locked until the transaction ends.
async fn booking_for_update(
    connection: &mut PgConnection,
    id: &BookingId,
) -> StoreResult<Option<Booking>> {
    let raw: Option<(Vec<u8>,)> =
        sqlx::query_as("SELECT record FROM bookings WHERE id = $1 FOR UPDATE")
            .bind(&id.0)
            .fetch_optional(connection)
            .await
            .map_err(db)?;
    decode_opt("booking", raw.map(|(raw,)| raw))
}

/// Rewrites a stored booking (its customer column follows the record).
async fn update_booking(connection: &mut PgConnection, booking: &Booking) -> StoreResult<()> {
    sqlx::query("UPDATE bookings SET customer = $2, record = $3 WHERE id = $1")
        .bind(&booking.id.0)
        .bind(&booking.customer.0)
        .bind(encode(booking))
        .execute(connection)
        .await
        .map_err(db)?;
    Ok(())
}

async fn set_status(
    connection: &mut PgConnection,
    id: &BookingId,
    status: BookingStatus,
) -> StoreResult<()> {
    if let Some(mut booking) = booking_for_update(connection, id).await? {
        booking.status = status;
        update_booking(connection, &booking).await?;
    }
    Ok(())
}

/// Makes `bookings` (and their times in the calendar) name `customer`: after a merge the
/// survivor owns them, after an unlink their own chat again. Inside the merge's transaction;
/// the calendars are locked first, as a booking request locks them.
pub(super) async fn reassign(
    connection: &mut PgConnection,
    bookings: &[Booking],
    customer: &CustomerId,
) -> StoreResult<()> {
    if bookings.is_empty() {
        return Ok(());
    }
    let mut staff: Vec<String> = bookings.iter().map(|b| b.staff.0.clone()).collect();
    staff.sort();
    staff.dedup();
    // Only existing calendars are changed (as in sled): no row is created here.
    let mut calendar = locked_calendars(connection, &staff).await?;
    let before = calendar.clone();
    for booking in bookings {
        if let Some(mut stored) = booking_for_update(connection, &booking.id).await? {
            stored.customer.clone_from(customer);
            update_booking(connection, &stored).await?;
        }
        if let Some(entries) = calendar.by_staff.get_mut(&booking.staff) {
            for entry in entries.iter_mut().filter(|e| e.booking == booking.id) {
                entry.customer.clone_from(customer);
            }
        }
    }
    write_calendar(connection, &before, &calendar).await
}

/// Carries out `request` on the locked calendar (`flows::booking::decide`) and writes what
/// it decided; see `Bookings::booking_request`.
async fn carry_out(
    connection: &mut PgConnection,
    request: &BookingRequest,
    calendar: &mut Calendar,
    now: Timestamp,
    link: Option<(&str, &str)>,
) -> StoreResult<Option<BookingOutcome>> {
    let decided = flows::booking::decide(request, calendar, now, link.map(|(url, _)| url));
    if let Some(stored) = &decided.store {
        sqlx::query("INSERT INTO bookings (id, customer, token, record) VALUES ($1, $2, $3, $4)")
            .bind(&stored.id.0)
            .bind(&stored.customer.0)
            .bind(link.map(|(_, token)| token))
            .bind(encode(stored))
            .execute(&mut *connection)
            .await
            .map_err(db)?;
    }
    for (id, status) in &decided.statuses {
        set_status(connection, id, *status).await?;
    }
    Ok(decided.outcome)
}

#[async_trait::async_trait]
impl Bookings for PgStore {
    async fn calendar(&self) -> StoreResult<Calendar> {
        let rows: Vec<(String, Vec<u8>)> = sqlx::query_as("SELECT staff, record FROM calendars")
            .fetch_all(self.pool())
            .await
            .map_err(db)?;
        let mut calendar = Calendar::default();
        for (staff, raw) in rows {
            let entries: Vec<Busy> = decode("calendar", &raw)?;
            // Rows made only to be locked hold nothing: leave them out, as sled has none.
            if !entries.is_empty() {
                calendar.by_staff.insert(StaffId(staff), entries);
            }
        }
        Ok(calendar)
    }

    async fn booking_request(
        &self,
        request: &BookingRequest,
        staff: &[StaffId],
        now: Timestamp,
        link: Option<(&str, &str)>,
    ) -> StoreResult<Option<BookingOutcome>> {
        // Every staff member the request could touch: the shop's, and the request's own
        // (a booking kept from an earlier configuration). Sorted: the lock order.
        let mut all: Vec<String> = staff.iter().map(|id| id.0.clone()).collect();
        match request {
            BookingRequest::Hold { staff, .. } => all.push(staff.0.clone()),
            BookingRequest::Book { booking, .. } => all.push(booking.staff.0.clone()),
            BookingRequest::Cancel { .. } | BookingRequest::SetStatus { .. } => {}
        }
        all.sort();
        all.dedup();
        let mut tx = self.pool().begin().await.map_err(db)?;
        let before = lock_calendars(&mut tx, &all).await?;
        if let BookingRequest::Book { booking, .. } = request {
            // Asked again (a retry after a crash): the stored answer stands. Read after the
            // calendar locks, so a concurrent first ask has committed by now.
            let stored: Option<(Vec<u8>,)> =
                sqlx::query_as("SELECT record FROM bookings WHERE id = $1")
                    .bind(&booking.id.0)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(db)?;
            if let Some(stored) = decode_opt::<Booking>("booking", stored.map(|(raw,)| raw))? {
                // Nothing changed: the empty calendar rows made above need not stay.
                tx.rollback().await.map_err(db)?;
                return Ok(Some(BookingOutcome::Booked {
                    booking: Box::new(stored),
                }));
            }
        }
        let mut calendar = before.clone();
        let outcome = carry_out(&mut tx, request, &mut calendar, now, link).await?;
        write_calendar(&mut tx, &before, &calendar).await?;
        tx.commit().await.map_err(db)?;
        Ok(outcome)
    }

    async fn booking(&self, id: &BookingId) -> StoreResult<Option<Booking>> {
        let raw: Option<(Vec<u8>,)> = sqlx::query_as("SELECT record FROM bookings WHERE id = $1")
            .bind(&id.0)
            .fetch_optional(self.pool())
            .await
            .map_err(db)?;
        decode_opt("booking", raw.map(|(raw,)| raw))
    }

    async fn booking_by_token(&self, token: &str) -> StoreResult<Option<Booking>> {
        let raw: Option<(Vec<u8>,)> =
            sqlx::query_as("SELECT record FROM bookings WHERE token = $1")
                .bind(token)
                .fetch_optional(self.pool())
                .await
                .map_err(db)?;
        decode_opt("booking", raw.map(|(raw,)| raw))
    }

    async fn bookings(&self) -> StoreResult<Vec<Booking>> {
        // In byte order of the ids, as sled's key scan gives them; a booking that does not
        // decode fails the list, as there.
        let rows: Vec<(Vec<u8>,)> =
            sqlx::query_as(r#"SELECT record FROM bookings ORDER BY id COLLATE "C""#)
                .fetch_all(self.pool())
                .await
                .map_err(db)?;
        rows.iter()
            .map(|(raw,)| decode("booking", raw).map_err(Into::into))
            .collect()
    }
}
