//! The shop's numbers for the console's dashboard (admins): `flows::kpis` over a range of
//! days, the last 30 by default.

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::json;

use super::ConsoleState;
use super::session::Authed;
use crate::api_error::ApiError;

/// The longest range the dashboard reads at once.
const MAX_DAYS: i64 = 366;

#[derive(Deserialize, Default)]
pub struct Range {
    #[serde(default)]
    from: Option<String>,
    #[serde(default)]
    to: Option<String>,
}

fn day(text: &str) -> Result<chrono::NaiveDate, ApiError> {
    chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").map_err(|_| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("{text:?} is not a date like 2026-03-31"),
        )
    })
}

/// `GET /console/api/kpis?from=YYYY-MM-DD&to=YYYY-MM-DD`.
pub async fn kpis(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
    Query(range): Query<Range>,
) -> Result<Response, ApiError> {
    authed.require_admin("only an admin can see the shop's numbers")?;
    let zone = state.settings.timezone();
    let today = chrono::TimeZone::timestamp_millis_opt(&zone, crate::clock::now().millis())
        .single()
        .map(|t| t.date_naive())
        .unwrap_or_default();
    let to = match range.to.as_deref() {
        Some(text) => day(text)?,
        None => today,
    };
    let from = match range.from.as_deref() {
        Some(text) => day(text)?,
        None => to - chrono::Duration::days(29),
    };
    if from > to || (to - from).num_days() >= MAX_DAYS {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            format!("from must be before to, and at most {MAX_DAYS} days apart"),
        ));
    }
    let steps = crate::report::reminder_steps(&state.settings);
    let rows = crate::report::kpi_rows(state.store.as_ref(), from, to, zone, &steps).await?;
    let currency = state.shared.context().catalog.currency();
    Ok(Json(json!({
        "from": from.to_string(),
        "to": to.to_string(),
        "currency": currency.code(),
        "minor_digits": currency.minor_digits(),
        "rows": rows,
    }))
    .into_response())
}
