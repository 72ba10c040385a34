//! `POST /webhooks/telegram`: the secret header compared in constant time (as digests),
//! then the update parsed and applied; 200 only once its event is durable, so Telegram
//! redelivers anything we lost, and a redelivery is dropped by its `update_id`.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use adapters::telegram::inbound::parse;

use super::{ApiError, WebhookState};

pub const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

pub async fn receive(
    State(state): State<WebhookState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    let settings = &state.settings.channels.telegram;
    let ingress = state
        .telegram
        .clone()
        .filter(|_| settings.uses_webhook(&state.settings.server.public_url))
        .ok_or_else(|| {
            ApiError::new(StatusCode::NOT_FOUND, "the Telegram webhook is not in use")
        })?;
    let expected = settings
        .webhook_secret
        .as_ref()
        .map(|s| s.expose())
        .unwrap_or_default();
    let given = headers
        .get(SECRET_HEADER)
        .map(|v| v.as_bytes())
        .unwrap_or_default();
    // Digests of equal length compare in time that says nothing about the secret.
    if expected.is_empty() || Sha256::digest(given) != Sha256::digest(expected.as_bytes()) {
        metrics::counter!("souk_webhook_rejected_total", "channel" => "telegram", "reason" => "signature").increment(1);
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "wrong or missing secret token",
        ));
    }
    let event =
        parse(&body).map_err(|error| ApiError::new(StatusCode::BAD_REQUEST, error.to_string()))?;
    // Detached: once persisted, the event reaches its worker even if Telegram hangs up.
    let kind = tokio::spawn(async move { ingress.handle(event).await })
        .await
        .map_err(ApiError::internal)?
        .map_err(ApiError::internal)?;
    metrics::counter!("souk_webhook_events_total", "channel" => "telegram", "kind" => kind)
        .increment(1);
    Ok((StatusCode::OK, "").into_response())
}
