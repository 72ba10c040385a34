//! What every platform webhook passes before its body is read: a signature header of the
//! right shape (the secret itself for Telegram, whose check needs no body), a declared length
//! within the limit, a share of the bytes all webhook bodies may hold at once, and a deadline
//! for the whole body. An unauthenticated client can then neither make souk buffer megabytes
//! (472 connections each declaring 4 MB once took the process down) nor hold a body open.

use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use super::{ApiError, WebhookState};

/// How long a webhook waits for its share of the byte budget before it gets 503.
const BUDGET_WAIT: Duration = Duration::from_secs(1);

/// JSON values one webhook body may hold. Parsed into a tree, a value costs 30 to 80 bytes
/// whatever its size in the body, so 4 MB of `0,0,0,…` became ~45 MB; the byte budget
/// alone does not bound that. Real batches are far below (a thousand WhatsApp messages are
/// about 20,000 values).
const MAX_JSON_VALUES: usize = 200_000;

/// An upper bound on the number of JSON values in `body`, in one pass: every value but the
/// first follows a `[`, `,` or `:` outside a string.
fn json_values_at_most(body: &[u8]) -> usize {
    let mut count = 1;
    let mut in_string = false;
    let mut escaped = false;
    for &byte in body {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
        } else {
            match byte {
                b'"' => in_string = true,
                b'[' | b',' | b':' => count += 1,
                _ => {}
            }
        }
    }
    count
}

/// Bytes of webhook bodies held at once, shared by every webhook route.
#[derive(Clone)]
pub struct WebhookBudget {
    bytes: Arc<Semaphore>,
    total: usize,
}

impl WebhookBudget {
    pub fn new(total: usize) -> WebhookBudget {
        WebhookBudget {
            bytes: Arc::new(Semaphore::new(total.min(Semaphore::MAX_PERMITS))),
            total,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Meta,
    Telegram,
    Stripe,
}

fn kind(path: &str) -> Option<Kind> {
    match path {
        "/webhooks/whatsapp" | "/webhooks/messenger" | "/webhooks/instagram" => Some(Kind::Meta),
        "/webhooks/telegram" => Some(Kind::Telegram),
        "/webhooks/payments/stripe" => Some(Kind::Stripe),
        _ => None,
    }
}

fn channel_label(path: &str) -> &'static str {
    match path {
        "/webhooks/whatsapp" => "whatsapp",
        "/webhooks/messenger" => "messenger",
        "/webhooks/instagram" => "instagram",
        "/webhooks/telegram" => "telegram",
        _ => "stripe",
    }
}

/// `sha256=` and 64 hex digits.
fn meta_header_ok(value: &str) -> bool {
    value
        .strip_prefix("sha256=")
        .is_some_and(|hex| hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// `t=<digits>` and at least one `v1=`, at most a few hundred bytes.
fn stripe_header_ok(value: &str) -> bool {
    let mut has_t = false;
    let mut has_v1 = false;
    for part in value.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => has_t = !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()),
            Some(("v1", v1)) => has_v1 |= !v1.is_empty(),
            _ => {}
        }
    }
    value.len() <= 1_024 && has_t && has_v1
}

/// Telegram's secret header carries the secret itself: compared here, as digests (equal
/// lengths, time independent of the secret), so a wrong one never gets its body read.
fn telegram_secret_ok(state: &WebhookState, headers: &HeaderMap) -> bool {
    let expected = state
        .settings
        .channels
        .telegram
        .webhook_secret
        .as_ref()
        .map(|s| s.expose())
        .unwrap_or_default();
    let given = headers
        .get(super::telegram::SECRET_HEADER)
        .map(HeaderValue::as_bytes)
        .unwrap_or_default();
    !expected.is_empty() && Sha256::digest(given) == Sha256::digest(expected.as_bytes())
}

fn header_ok(state: &WebhookState, kind: Kind, headers: &HeaderMap) -> bool {
    let value = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match kind {
        Kind::Meta => value("x-hub-signature-256").is_some_and(meta_header_ok),
        Kind::Stripe => value("stripe-signature").is_some_and(stripe_header_ok),
        Kind::Telegram => telegram_secret_ok(state, headers),
    }
}

fn reject(path: &str, reason: &'static str, status: StatusCode, message: &str) -> Response {
    metrics::counter!("souk_webhook_rejected_total", "channel" => channel_label(path), "reason" => reason)
        .increment(1);
    ApiError::new(status, message).into_response()
}

pub async fn guard(State(state): State<WebhookState>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    let Some(kind) = kind(&path) else {
        return next.run(request).await;
    };
    // The GET handshake of Meta's webhooks carries no body and no signature.
    if request.method() != axum::http::Method::POST {
        return next.run(request).await;
    }
    if !header_ok(&state, kind, request.headers()) {
        // Stripe's convention for a failed signature is 400 (its handler answers so too).
        let status = match kind {
            Kind::Stripe => StatusCode::BAD_REQUEST,
            Kind::Meta | Kind::Telegram => StatusCode::UNAUTHORIZED,
        };
        return reject(
            &path,
            "signature",
            status,
            "missing, malformed or wrong signature header",
        );
    }
    let limit = state.settings.server.webhook_body_limit_bytes;
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        return reject(
            &path,
            "too_large",
            StatusCode::PAYLOAD_TOO_LARGE,
            "the body is over the webhook limit",
        );
    }
    // A body of unknown length may be as large as the limit: it takes that share.
    let share = declared
        .unwrap_or(limit)
        .clamp(1, state.webhook_budget.total);
    let permits = u32::try_from(share).unwrap_or(u32::MAX);
    let held = match tokio::time::timeout(
        BUDGET_WAIT,
        state
            .webhook_budget
            .bytes
            .clone()
            .acquire_many_owned(permits),
    )
    .await
    {
        Ok(Ok(held)) => held,
        _ => {
            let mut response = reject(
                &path,
                "busy",
                StatusCode::SERVICE_UNAVAILABLE,
                "too many webhook bodies in flight; retry later",
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return response;
        }
    };
    let timeout = Duration::from_secs(state.settings.server.body_timeout_seconds);
    let (parts, body) = request.into_parts();
    let bytes = match tokio::time::timeout(timeout, read_body(body, declared, limit)).await {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(BodyError::TimedOut)) | Err(_) => {
            return reject(
                &path,
                "slow_body",
                StatusCode::REQUEST_TIMEOUT,
                "the body did not arrive in time",
            );
        }
        Ok(Err(BodyError::Broken)) => {
            return reject(
                &path,
                "too_large",
                StatusCode::PAYLOAD_TOO_LARGE,
                "the body is over the webhook limit or was cut off",
            );
        }
    };
    if json_values_at_most(&bytes) > MAX_JSON_VALUES {
        return reject(
            &path,
            "too_large",
            StatusCode::PAYLOAD_TOO_LARGE,
            "the body holds more JSON values than any platform batch",
        );
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    drop(held);
    response
}

enum BodyError {
    TimedOut,
    /// Over the limit, or the client went away mid-body.
    Broken,
}

/// Reads the whole body into one buffer of the declared length: growing a buffer by
/// doubling held up to twice the bytes (and the budget counts them once).
async fn read_body(body: Body, declared: Option<usize>, limit: usize) -> Result<Bytes, BodyError> {
    use futures_util::StreamExt as _;
    let mut buffer: Vec<u8> = Vec::with_capacity(declared.unwrap_or(0).min(limit));
    let mut chunks = body.into_data_stream();
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|error| {
            if timed_out(&error) {
                BodyError::TimedOut
            } else {
                BodyError::Broken
            }
        })?;
        if buffer.len() + chunk.len() > limit {
            return Err(BodyError::Broken);
        }
        buffer.extend_from_slice(&chunk);
    }
    Ok(Bytes::from(buffer))
}

/// Whether a body failed because a frame did not come in time (the router-wide body
/// timeout may fire before this guard's own deadline).
fn timed_out(error: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if current.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        source = current.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_shapes() {
        assert!(meta_header_ok(&format!("sha256={}", "ab".repeat(32))));
        assert!(!meta_header_ok("sha256=abc"));
        assert!(!meta_header_ok(&format!("sha1={}", "ab".repeat(32))));
        assert!(!meta_header_ok(&format!("sha256={}", "zz".repeat(32))));
        assert!(stripe_header_ok("t=1700000000,v1=abc,v0=def"));
        assert!(!stripe_header_ok("t=soon,v1=abc"));
        assert!(!stripe_header_ok("t=1700000000"));
        assert!(!stripe_header_ok(&format!("t=1,v1={}", "a".repeat(2_000))));
    }

    #[test]
    fn json_values_are_counted_outside_strings() {
        assert_eq!(json_values_at_most(br#"{"a":[1,2,{"b":"x,y:[z"}]}"#), 6);
        assert_eq!(json_values_at_most(br#""a\",b""#), 1);
        assert_eq!(json_values_at_most(&b"0,".repeat(1000)), 1001);
    }
}
