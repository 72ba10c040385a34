//! An order in the console: everything about it, and the moves it can make next (the same
//! transitions `souk order set-status` makes; the customer is told through their channel).

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use flows::{Fulfilment, OrderId, OrderStatus};

use super::ConsoleState;
use super::session::Authed;
use crate::api_error::ApiError;
use crate::render::format_money;

pub async fn order(
    State(state): State<ConsoleState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = OrderId(id);
    let order = state
        .store
        .order(&id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no order {id}")))?;
    let locale = state
        .store
        .conversation(&order.customer)
        .await?
        .map_or(state.settings.shop.default_locale, |c| c.locale);
    let money = |m| format_money(m, locale);
    let lines: Vec<Value> = order
        .lines
        .iter()
        .map(|line| {
            json!({
                "title": line.title, "sku": line.sku, "quantity": line.quantity,
                "unit_price": money(line.unit_price),
                "line_total": money(line.unit_price.times(line.quantity)),
            })
        })
        .collect();
    let fulfilment = match &order.fulfilment {
        Some(Fulfilment::Delivery { address }) => json!({"kind": "delivery", "to": address}),
        Some(Fulfilment::Pickup { point }) => json!({"kind": "pickup", "at": point}),
        None => Value::Null,
    };
    let refundable = order.ever_paid();
    let next: Vec<&str> = OrderStatus::ALL
        .iter()
        .filter(|s| order.status.can_become(**s))
        .filter(|s| refundable || !matches!(s, OrderStatus::RefundNeeded | OrderStatus::Refunded))
        .map(|s| s.name())
        .collect();
    let history: Vec<Value> = order
        .history
        .iter()
        .map(|change| {
            json!({
                "at": change.at.millis(), "status": change.status.name(),
                "by": change.by.as_deref().unwrap_or(match change.status {
                    OrderStatus::Paid | OrderStatus::PaymentFailed => "payment provider",
                    OrderStatus::PendingPayment => "customer",
                    _ => "shop (command line or API)",
                }),
                "tracking": change.tracking,
            })
        })
        .collect();
    let sessions: Vec<Value> = state
        .store
        .payment_sessions_of(&order.id).await?
        .into_iter()
        .map(|(id, session)| {
            json!({"id": id, "amount": money(session.amount), "created_at": session.created_at.millis()})
        })
        .collect();
    Ok(Json(json!({
        "id": order.id, "customer": order.customer, "status": order.status.name(),
        "next": next, "name": order.name, "contact": order.contact.as_str(),
        "lines": lines, "total": money(order.total), "placed_at": order.placed_at.millis(),
        "discount": order.discount.as_ref().map(|d| json!({
            "code": d.code, "percent": d.percent, "amount": money(d.amount),
        })),
        "fulfilment": fulfilment, "tracking": order.tracking,
        "payment_links": order.payment_attempts, "payment_failures": order.payment_failures,
        "oversold": order.oversold, "booking": order.booking,
        "history": history, "payment_sessions": sessions,
    })))
}

#[derive(Deserialize)]
pub struct Move {
    status: String,
    #[serde(default)]
    tracking: Option<String>,
}

pub async fn set_status(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
    Path(id): Path<String>,
    body: Result<Json<Move>, axum::extract::rejection::JsonRejection>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let Json(change) = body?;
    let answer = crate::order_moves::change_order_status(
        state.store.as_ref(),
        &state.ingest,
        OrderId(id.clone()),
        &change.status,
        change.tracking,
        Some(super::actions::shown_name(&authed.operator)),
    )
    .await?;
    tracing::info!(order = %id, status = %change.status, operator = %authed.operator.name, "order moved from the console");
    let customer = answer["customer"]
        .as_str()
        .map(|c| flows::CustomerId(c.to_owned()));
    crate::data_rights::audit::record(
        state.store.as_ref(),
        &authed.operator.name,
        "order_status",
        customer.as_ref(),
        format!("{id} → {}", change.status),
    )
    .await?;
    Ok((StatusCode::ACCEPTED, Json(answer)))
}
