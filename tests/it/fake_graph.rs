//! A fake Meta Graph API on 127.0.0.1: answers `POST /{version}/{id}/messages` like the real
//! one (WhatsApp and Send API shapes), records every request, and fails on command. It also
//! serves WhatsApp media as documented: `GET /{version}/{media-id}` gives a short-lived URL
//! and the MIME type, and that URL gives the bytes; both need the access token.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// What the next request gets instead of success.
#[derive(Debug, Clone)]
pub enum Failure {
    /// HTTP 429 with the Graph throttling code and a Retry-After header.
    Throttled { retry_after_seconds: u64 },
    /// HTTP 500 without a body.
    ServerError,
    /// Answers 500 only after this long, recording nothing: a request that timed out.
    Slow(Duration),
    /// HTTP 400 with a Graph error code, e.g. 131026 or 131047.
    Error { code: i64, message: &'static str },
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub path: String,
    pub authorization: String,
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    recorded: Mutex<Vec<Recorded>>,
    failures: Mutex<VecDeque<Failure>>,
    attempts: Mutex<usize>,
}

#[derive(Clone)]
pub struct FakeGraph {
    pub base: String,
    inner: Arc<Inner>,
}

impl FakeGraph {
    pub async fn start() -> FakeGraph {
        let inner = Arc::new(Inner::default());
        let app = axum::Router::new()
            .route("/{version}/{id}/messages", axum::routing::post(messages))
            .route("/{version}/{id}", axum::routing::get(media_info))
            .route("/download/{id}", axum::routing::get(media_bytes))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeGraph { base, inner }
    }

    pub fn fail_next(&self, failures: impl IntoIterator<Item = Failure>) {
        self.inner.failures.lock().expect("lock").extend(failures);
    }

    pub fn recorded(&self) -> Vec<Recorded> {
        self.inner.recorded.lock().expect("lock").clone()
    }

    pub fn attempts(&self) -> usize {
        *self.inner.attempts.lock().expect("lock")
    }

    /// Waits until at least `count` messages were accepted.
    pub async fn wait_for(&self, count: usize, limit: Duration) -> Vec<Recorded> {
        let deadline = tokio::time::Instant::now() + limit;
        while tokio::time::Instant::now() < deadline {
            if self.recorded().len() >= count {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        self.recorded()
    }
}

async fn messages(
    State(inner): State<Arc<Inner>>,
    Path((_version, id)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    *inner.attempts.lock().expect("lock") += 1;
    let failure = inner.failures.lock().expect("lock").pop_front();
    match failure {
        Some(Failure::Throttled {
            retry_after_seconds,
        }) => {
            let error = json!({"error": {"message": "(#130429) Rate limit hit", "type": "OAuthException", "code": 130429, "fbtrace_id": "F1"}});
            return (
                StatusCode::TOO_MANY_REQUESTS,
                [("retry-after", retry_after_seconds.to_string())],
                Json(error),
            )
                .into_response();
        }
        Some(Failure::ServerError) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
        Some(Failure::Slow(delay)) => {
            tokio::time::sleep(delay).await;
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
        Some(Failure::Error { code, message }) => {
            let error = json!({"error": {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "F2"}});
            return (StatusCode::BAD_REQUEST, Json(error)).into_response();
        }
        None => {}
    }
    let mut recorded = inner.recorded.lock().expect("lock");
    let n = recorded.len() + 1;
    recorded.push(Recorded {
        path: format!("/{id}/messages"),
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        body: body.clone(),
    });
    if body.get("messaging_product").is_some() {
        let to = body["to"].clone();
        Json(json!({"messaging_product": "whatsapp", "contacts": [{"input": to, "wa_id": to}], "messages": [{"id": format!("wamid.fake.{n}")}]})).into_response()
    } else {
        Json(json!({"recipient_id": body["recipient"]["id"], "message_id": format!("m_fake_{n}")}))
            .into_response()
    }
}

/// Media ids the fake knows: `img1` (a JPEG) and `doc1` (a PDF, or HTML pretending to be one).
fn media(id: &str) -> Option<(&'static str, &'static [u8])> {
    match id {
        "img1" => Some(("image/jpeg", b"\xff\xd8\xff\xe0 fake jpeg")),
        "doc1" => Some(("text/html", b"<script>alert(1)</script>")),
        _ => None,
    }
}

fn authorized(headers: &HeaderMap) -> bool {
    headers
        .get("authorization")
        .is_some_and(|v| v.as_bytes().starts_with(b"Bearer EAAB"))
}

async fn media_info(Path((_version, id)): Path<(String, String)>, headers: HeaderMap) -> Response {
    let host = headers
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    if !authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    match media(&id) {
        Some((mime, bytes)) => Json(json!({
            "messaging_product": "whatsapp",
            "url": format!("http://{host}/download/{id}"),
            "mime_type": mime,
            "file_size": bytes.len(),
            "id": id,
        }))
        .into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}

async fn media_bytes(Path(id): Path<String>, headers: HeaderMap) -> Response {
    if !authorized(&headers) {
        return StatusCode::UNAUTHORIZED.into_response();
    }
    match media(&id) {
        Some((mime, bytes)) => ([("content-type", mime)], bytes).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
