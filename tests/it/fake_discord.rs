//! A fake Discord HTTP API (v10) on 127.0.0.1, from Discord's documentation: opening a DM
//! channel (`POST /users/@me/channels`), creating messages (`POST /channels/{id}/messages`)
//! and interaction callbacks (`POST /interactions/{id}/{token}/callback`). It records each
//! call and fails on command (403 with code 50007, "Cannot send messages to this user").

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

#[derive(Debug, Clone)]
pub struct Call {
    pub path: String,
    pub authorization: String,
    pub body: Value,
}

#[derive(Default)]
struct Inner {
    calls: Mutex<Vec<Call>>,
    refuse_dms: Mutex<VecDeque<()>>,
}

#[derive(Clone)]
pub struct FakeDiscord {
    pub base: String,
    inner: Arc<Inner>,
}

impl FakeDiscord {
    pub async fn start() -> FakeDiscord {
        let inner = Arc::new(Inner::default());
        let app = axum::Router::new()
            .route("/api/v10/users/@me/channels", axum::routing::post(open_dm))
            .route(
                "/api/v10/channels/{channel}/messages",
                axum::routing::post(create_message),
            )
            .route(
                "/api/v10/interactions/{id}/{token}/callback",
                axum::routing::post(callback),
            )
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeDiscord { base, inner }
    }

    pub fn calls(&self) -> Vec<Call> {
        self.inner.calls.lock().expect("lock").clone()
    }

    /// The next message is refused: the user does not accept DMs from the bot.
    pub fn refuse_next_dm(&self) {
        self.inner.refuse_dms.lock().expect("lock").push_back(());
    }
}

fn record(inner: &Inner, path: String, headers: &axum::http::HeaderMap, body: Value) {
    inner.calls.lock().expect("lock").push(Call {
        path,
        authorization: headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned(),
        body,
    });
}

async fn open_dm(
    State(inner): State<Arc<Inner>>,
    headers: axum::http::HeaderMap,
    Json(body): Json<Value>,
) -> Json<Value> {
    let recipient = body["recipient_id"].as_str().unwrap_or("0").to_owned();
    record(&inner, "/users/@me/channels".into(), &headers, body);
    Json(json!({
        "id": format!("9{recipient}"), "type": 1, "last_message_id": null,
        "recipients": [{"id": recipient, "username": "customer", "discriminator": "0", "avatar": null}]
    }))
}

async fn create_message(
    State(inner): State<Arc<Inner>>,
    Path(channel): Path<String>,
    headers: axum::http::HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    record(
        &inner,
        format!("/channels/{channel}/messages"),
        &headers,
        body.clone(),
    );
    if inner.refuse_dms.lock().expect("lock").pop_front().is_some() {
        return (
            StatusCode::FORBIDDEN,
            Json(json!({"code": 50007, "message": "Cannot send messages to this user"})),
        )
            .into_response();
    }
    let n = inner.calls.lock().expect("lock").len();
    Json(json!({
        "id": format!("{}", 1_000_000 + n), "channel_id": channel,
        "author": {"id": "1", "username": "shop", "discriminator": "0", "avatar": null, "bot": true},
        "content": body["content"].as_str().unwrap_or(""),
        "timestamp": "2026-01-01T00:00:00+00:00", "edited_timestamp": null, "tts": false,
        "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [],
        "embeds": [], "pinned": false, "type": 0
    }))
    .into_response()
}

async fn callback(
    State(inner): State<Arc<Inner>>,
    Path((id, token)): Path<(String, String)>,
    headers: axum::http::HeaderMap,
    Json(body): Json<Value>,
) -> StatusCode {
    record(
        &inner,
        format!("/interactions/{id}/{token}/callback"),
        &headers,
        body,
    );
    StatusCode::NO_CONTENT
}
