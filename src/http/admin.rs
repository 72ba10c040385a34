//! The shop's own API, for `souk order set-status` now and the console later. Bearer token
//! from `SOUK__ADMIN__TOKEN`; without one the routes do not exist (404).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use flows::{Event, OrderId, OrderStatus};

use super::AppState;
use super::error::ApiError;
use crate::clock;
use crate::store::InboxEntry;

/// Compared as SHA-256 digests: equal-length inputs, and nothing about the token itself
/// leaks through how long the comparison takes.
fn authorized(state: &AppState, headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(expected) = &state.settings.admin.token else {
        return Err(ApiError::new(StatusCode::NOT_FOUND, "the admin API is off"));
    };
    let given = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if Sha256::digest(given.as_bytes()) == Sha256::digest(expected.expose().as_bytes()) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "a valid admin token is required",
        ))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusChange {
    status: String,
    #[serde(default)]
    tracking: Option<String>,
}

/// `POST /api/admin/orders/{id}/status` `{"status": "shipped", "tracking": "https://…"}`:
/// checked against the stored order, then handed to the order's conversation, which updates
/// the order and tells the customer in their channel and language.
pub async fn set_order_status(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(change): Json<StatusChange>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    authorized(&state, &headers)?;
    let answer =
        change_order_status(&state, OrderId(id), &change.status, change.tracking, None).await?;
    Ok((StatusCode::ACCEPTED, Json(answer)))
}

/// Moves an order on (`souk order set-status`, the admin API and the console share this):
/// checked against the stored order, then handed to the order's conversation, which updates
/// the order and tells the customer in their channel and language.
pub async fn change_order_status(
    state: &AppState,
    id: OrderId,
    status: &str,
    tracking: Option<String>,
    by: Option<String>,
) -> Result<Value, ApiError> {
    let status = OrderStatus::parse(status).ok_or_else(|| {
        let known: Vec<&str> = OrderStatus::ALL.iter().map(|s| s.name()).collect();
        ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("unknown status {status:?}; one of {}", known.join(", ")),
        )
    })?;
    let tracking = tracking.filter(|url| !url.trim().is_empty());
    if let Some(url) = &tracking
        && !(url.starts_with("https://") && url.len() <= 2_000)
    {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "tracking must be an https URL",
        ));
    }
    let order = state
        .store
        .order(&id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no order {id}")))?;
    if !order.status.can_become(status) {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("order {id} is {} and cannot become {status}", order.status),
        ));
    }
    if matches!(status, OrderStatus::RefundNeeded | OrderStatus::Refunded) && !order.ever_paid() {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("order {id} was never paid: there is nothing to refund"),
        ));
    }
    let now = clock::now();
    let entry = InboxEntry {
        seq: 0,
        public_id: format!("admin-{id}-{status}-{}", now.millis()),
        dedup_key: None,
        customer: order.customer.clone(),
        event: Event::OrderStatusChanged {
            order: id.clone(),
            status,
            tracking,
            by,
        },
        received_at: now,
    };
    state.ingest.accept(entry).await?;
    Ok(json!({"order": id.0, "from": order.status.name(), "status": status.name()}))
}
