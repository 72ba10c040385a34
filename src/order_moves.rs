//! Moving an order on by hand: checked against the stored order, then handed to the order's
//! conversation as an event, which updates the order and tells the customer. The admin API
//! (`souk order set-status`) and the console share it.

use axum::http::StatusCode;
use serde_json::{Value, json};

use flows::{Event, OrderId, OrderStatus};

use crate::api_error::ApiError;
use crate::clock;
use crate::driver::Ingest;
use crate::store::{InboxEntry, Store};

/// Moves an order on (`souk order set-status`, the admin API and the console share this):
/// checked against the stored order, then handed to the order's conversation, which updates
/// the order and tells the customer in their channel and language.
pub async fn change_order_status(
    store: &dyn Store,
    ingest: &Ingest,
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
    let order = store
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
        claim: None,
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
    ingest.accept(entry).await?;
    Ok(json!({
        "order": id.0, "from": order.status.name(), "status": status.name(),
        "customer": order.customer,
    }))
}
