//! `GET /bookings/{token}.ics`: a booking as a calendar file. The token is the secret part
//! of the link the customer was sent (128 random bits); anything else is a plain 404, so
//! the route tells nothing about which bookings exist.

use axum::extract::{Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::PageState;
use crate::booking::ics::{IcsEvent, render};
use crate::clock;

fn not_found() -> Response {
    (StatusCode::NOT_FOUND, "no such booking").into_response()
}

pub async fn calendar_file(State(state): State<PageState>, Path(file): Path<String>) -> Response {
    let Some(token) = file.strip_suffix(".ics") else {
        return not_found();
    };
    if token.len() != 32 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return not_found();
    }
    let mut booking = match state.store.booking_by_token(token).await {
        Ok(Some(booking)) => booking,
        Ok(None) => return not_found(),
        Err(error) => {
            tracing::error!(%error, "could not read a booking");
            return StatusCode::SERVICE_UNAVAILABLE.into_response();
        }
    };
    // The booking record keeps the deposit as it was when booked; whether it is paid now is
    // the order's to say.
    if let Some(deposit) = booking.deposit.as_mut().filter(|d| !d.paid) {
        deposit.paid = matches!(
            state.store.order(&deposit.order).await,
            Ok(Some(order)) if order.status.money_taken()
        );
    }
    let ctx = state.shared.context();
    let locale = state.settings.shop.default_locale;
    let service = ctx.settings.booking.service(&booking.service).map_or_else(
        || booking.service.0.clone(),
        |s| s.name.get(locale).to_owned(),
    );
    let staff = ctx
        .settings
        .booking
        .staff_member(&booking.staff)
        .map_or_else(|| booking.staff.0.clone(), |s| s.name.clone());
    let base = state.settings.link_base();
    // The UID's host: the one the links point at (the port dropped).
    let host = base
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split(['/', ':']).next())
        .filter(|h| !h.is_empty())
        .unwrap_or("souk.local");
    let body = render(&IcsEvent {
        booking: &booking,
        shop: &state.settings.shop.name,
        service: &service,
        staff: &staff,
        host,
        now: clock::now(),
    });
    (
        [
            (header::CONTENT_TYPE, "text/calendar; charset=utf-8"),
            (header::CACHE_CONTROL, "private, no-cache"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"appointment.ics\"",
            ),
        ],
        body,
    )
        .into_response()
}
