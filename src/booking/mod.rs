//! The shell's side of appointment booking: the `[booking]` configuration, carrying out the
//! booking flow's store requests after its step committed, and the `.ics` calendar links.
//!
//! A request (hold, book, cancel, no-show) runs as one store transaction that alone decides
//! whether a time is free; its answer comes back to the conversation as an event of its own
//! (`Event::Booking`), and the in-memory calendar the core computes free times from is
//! refreshed from the store after each one (and every few seconds, for other replicas).

pub mod config;
pub mod ics;

use std::sync::Arc;
use std::time::Duration;

use flows::booking::{BookingRequest, CalendarView, StaffId};
use flows::{CustomerId, Event};
use tokio_util::sync::CancellationToken;

use crate::clock;
use crate::driver::Shared;
use crate::store::Store;

/// The path of a booking's calendar link, under the public URL.
pub const ICS_PREFIX: &str = "/bookings/";

/// Every staff member's id: a request locks all their calendars.
pub fn staff_ids(ctx: &flows::Context) -> Vec<StaffId> {
    ctx.settings
        .booking
        .staff
        .iter()
        .map(|s| s.id.clone())
        .collect()
}

/// Carries out a booking request of `customer`'s step, after that step committed.
pub fn spawn(shared: &Shared, customer: CustomerId, request: BookingRequest) {
    let ingest = shared.ingest.clone();
    let ctx = shared.context();
    let staff = staff_ids(&ctx);
    let calendar = ctx.calendar.clone();
    let base = shared.settings.link_base();
    tokio::spawn(async move {
        let kind = match &request {
            BookingRequest::Hold { .. } => "hold",
            BookingRequest::Book { .. } => "book",
            BookingRequest::Cancel { .. } => "cancel",
            BookingRequest::SetStatus { .. } => "status",
        };
        let store = ingest.store().clone();
        let token = clock::random_hex_128();
        let url = format!("{base}{ICS_PREFIX}{token}.ics");
        let done = async {
            let outcome = store
                .booking_request(&request, &staff, clock::now(), Some((&url, &token)))
                .await?;
            Ok::<_, crate::store::StoreError>((outcome, store.calendar().await?))
        }
        .await;
        let outcome = match done {
            Ok((outcome, fresh)) => {
                *calendar.write() = fresh;
                outcome
            }
            Err(error) => {
                tracing::error!(%error, kind, "a booking request failed in the store");
                return;
            }
        };
        let result = match &outcome {
            Some(flows::booking::BookingOutcome::Held { .. }) => "held",
            Some(flows::booking::BookingOutcome::Booked { .. }) => "booked",
            Some(flows::booking::BookingOutcome::Taken { .. }) => "taken",
            None => "done",
        };
        metrics::counter!("souk_booking_requests_total", "request" => kind, "result" => result)
            .increment(1);
        if let Some(outcome) = outcome {
            let key = format!("booking:{}", clock::random_hex_128());
            if let Err(error) = ingest
                .accept_keyed(key, customer, Event::Booking(outcome))
                .await
            {
                tracing::error!(%error, "could not answer a booking request");
            }
        }
    });
}

/// Loads the calendar at start-up.
pub async fn load(store: &dyn Store) -> anyhow::Result<CalendarView> {
    Ok(CalendarView::new(store.calendar().await?))
}

/// Keeps the in-memory calendar in step with the store, for what other replicas book.
pub async fn refresh(store: Arc<dyn Store>, calendar: CalendarView, stop: CancellationToken) {
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(Duration::from_secs(5)) => {}
        }
        match store.calendar().await {
            Ok(fresh) => *calendar.write() = fresh,
            Err(error) => tracing::warn!(%error, "could not reload the booking calendar"),
        }
    }
}
