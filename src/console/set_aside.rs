//! Inbound events the poison guard set aside (`driver/poison.rs`), for admins: what each was,
//! why it was set aside, and a retry that puts it back in its conversation's queue.

use axum::Json;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::ConsoleState;
use super::describe::inbound_text;
use super::session::Authed;
use crate::api_error::ApiError;

/// Characters of the customer's text shown in the list (the event itself may be huge).
const PREVIEW_CHARS: usize = 200;

pub async fn list(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
) -> Result<Json<Value>, ApiError> {
    authed.require_admin("only admins see and retry set-aside events")?;
    let events = state.store.set_aside_events().await?;
    let mut rows: Vec<Value> = Vec::with_capacity(events.len());
    for set_aside in &events {
        let entry = &set_aside.entry;
        let channel = match &entry.event {
            flows::Event::Inbound(inbound) => inbound.channel.name(),
            _ => "internal",
        };
        let who = super::list::customer_label(state.store.as_ref(), &entry.customer).await?;
        rows.push(json!({
                "seq": entry.seq,
                "customer": entry.customer.0,
                "who": who,
                "channel": channel,
                "received_at": entry.received_at.millis(),
                "set_aside_at": set_aside.set_aside_at.millis(),
                "attempts": set_aside.attempts,
                "reason": set_aside.reason,
                "text": adapters::text_limits::cut(&inbound_text(&entry.event), PREVIEW_CHARS),
        }));
    }
    Ok(Json(json!({ "events": rows })))
}

pub async fn retry(
    State(state): State<ConsoleState>,
    Extension(authed): Extension<Authed>,
    Path(seq): Path<u64>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    authed.require_admin("only admins see and retry set-aside events")?;
    let entry = state
        .store
        .retry_set_aside(seq)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, "no such set-aside event"))?;
    tracing::info!(seq, operator = %authed.operator.name, "set-aside event retried");
    state
        .ingest
        .dispatch(entry)
        .await
        .map_err(|error| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, error.to_string()))?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "retried": seq }))))
}
