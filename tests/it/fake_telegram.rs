//! A fake Telegram Bot API on 127.0.0.1, written from the Bot API documentation: every
//! method is `POST /bot<token>/<method>` (JSON, or multipart for uploads such as
//! `sendPhoto`) answered with `{"ok": true, "result": …}` or `{"ok": false, "error_code",
//! "description", "parameters"?}`. It records each call, serves `getUpdates` from a queue
//! (long polling: it waits up to the call's `timeout` for news) and fails on command.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};
use tokio::sync::Notify;

pub const TOKEN: &str = "123456:TEST-token_abc";

#[derive(Debug, Clone)]
pub struct Call {
    pub method: String,
    /// The JSON body, or for multipart the fields as a JSON object of strings.
    pub body: Value,
    pub at: tokio::time::Instant,
}

#[derive(Debug, Clone)]
pub enum Failure {
    /// 429 with `parameters.retry_after`.
    Throttled(u64),
    /// 403 "bot was blocked by the user".
    Blocked,
}

#[derive(Default)]
struct Inner {
    calls: Mutex<Vec<Call>>,
    failures: Mutex<VecDeque<Failure>>,
    updates: Mutex<VecDeque<Value>>,
    news: Notify,
    next_message_id: Mutex<i64>,
}

#[derive(Clone)]
pub struct FakeTelegram {
    pub base: String,
    inner: Arc<Inner>,
}

impl FakeTelegram {
    pub async fn start() -> FakeTelegram {
        let inner = Arc::new(Inner::default());
        let app = axum::Router::new()
            .route("/{bot}/{method}", axum::routing::post(method))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeTelegram { base, inner }
    }

    pub fn calls(&self, method: &str) -> Vec<Call> {
        self.inner
            .calls
            .lock()
            .expect("lock")
            .iter()
            .filter(|c| c.method == method)
            .cloned()
            .collect()
    }

    /// The messages the bot sent (text and photos), in order.
    pub fn sent(&self) -> Vec<Call> {
        self.inner
            .calls
            .lock()
            .expect("lock")
            .iter()
            .filter(|c| c.method == "sendMessage" || c.method == "sendPhoto")
            .cloned()
            .collect()
    }

    pub fn fail_next(&self, failure: Failure) {
        self.inner.failures.lock().expect("lock").push_back(failure);
    }

    /// Queues an update for `getUpdates`.
    pub fn push_update(&self, update: Value) {
        self.inner.updates.lock().expect("lock").push_back(update);
        self.inner.news.notify_waiters();
    }

    /// Waits until `method` was called at least `count` times.
    pub async fn wait_for(&self, method: &str, count: usize, limit: Duration) -> Vec<Call> {
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let calls = if method == "sent" {
                self.sent()
            } else {
                self.calls(method)
            };
            if calls.len() >= count || tokio::time::Instant::now() > deadline {
                return calls;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Multipart fields as strings (enough for chat ids, captions and photo URLs).
fn multipart_fields(headers: &HeaderMap, body: &[u8]) -> Value {
    let boundary = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split("boundary=").nth(1))
        .unwrap_or_default()
        .trim_matches('"')
        .to_owned();
    let text = String::from_utf8_lossy(body);
    let mut fields = serde_json::Map::new();
    for part in text.split(&format!("--{boundary}")) {
        let Some((head, value)) = part.split_once("\r\n\r\n") else {
            continue;
        };
        let Some(name) = head
            .split("name=\"")
            .nth(1)
            .and_then(|n| n.split('"').next())
        else {
            continue;
        };
        fields.insert(
            name.to_owned(),
            Value::String(value.trim_end_matches("\r\n").to_owned()),
        );
    }
    Value::Object(fields)
}

fn message_result(inner: &Inner, body: &Value) -> Value {
    let mut id = inner.next_message_id.lock().expect("lock");
    *id += 1;
    let chat: i64 = body["chat_id"]
        .as_i64()
        .or_else(|| body["chat_id"].as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0);
    json!({
        "message_id": *id,
        "date": 1_767_225_600,
        "chat": {"id": chat, "type": "private", "first_name": "Customer"},
        "from": {"id": 1, "is_bot": true, "first_name": "Shop"},
        "text": body["text"].as_str().unwrap_or("photo"),
    })
}

async fn method(
    State(inner): State<Arc<Inner>>,
    Path((bot, method)): Path<(String, String)>,
    headers: HeaderMap,
    body: Bytes,
) -> Json<Value> {
    // Method names are case-insensitive (teloxide sends `SendMessage`); recorded camelCase.
    let method = {
        let mut chars = method.chars();
        chars
            .next()
            .map(|first| first.to_lowercase().chain(chars).collect::<String>())
            .unwrap_or_default()
    };
    if bot != format!("bot{TOKEN}") {
        return Json(json!({"ok": false, "error_code": 401, "description": "Unauthorized"}));
    }
    let multipart = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/"));
    let body: Value = if multipart {
        multipart_fields(&headers, &body)
    } else {
        serde_json::from_slice(&body).unwrap_or(Value::Null)
    };
    if method == "getUpdates" {
        return Json(get_updates(&inner, &body).await);
    }
    let sends = method == "sendMessage" || method == "sendPhoto";
    if sends && let Some(failure) = inner.failures.lock().expect("lock").pop_front() {
        inner.calls.lock().expect("lock").push(Call {
            method: format!("{method}:failed"),
            body,
            at: tokio::time::Instant::now(),
        });
        return Json(match failure {
            Failure::Throttled(seconds) => json!({"ok": false, "error_code": 429,
                "description": format!("Too Many Requests: retry after {seconds}"),
                "parameters": {"retry_after": seconds}}),
            Failure::Blocked => json!({"ok": false, "error_code": 403,
                "description": "Forbidden: bot was blocked by the user"}),
        });
    }
    let result = match method.as_str() {
        "sendMessage" | "sendPhoto" | "editMessageReplyMarkup" => message_result(&inner, &body),
        "createInvoiceLink" => {
            let n = inner.calls.lock().expect("lock").len();
            Value::String(format!("https://t.me/$invoice{n}"))
        }
        _ => Value::Bool(true),
    };
    inner.calls.lock().expect("lock").push(Call {
        method,
        body,
        at: tokio::time::Instant::now(),
    });
    Json(json!({"ok": true, "result": result}))
}

async fn get_updates(inner: &Inner, body: &Value) -> Value {
    let offset = body["offset"].as_i64().unwrap_or(0);
    let timeout = Duration::from_secs(body["timeout"].as_u64().unwrap_or(0).min(5));
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let notified = inner.news.notified();
        {
            let mut updates = inner.updates.lock().expect("lock");
            // Asking from `offset` confirms everything before it.
            updates.retain(|u| u["update_id"].as_i64().unwrap_or(0) >= offset);
            if !updates.is_empty() || tokio::time::Instant::now() >= deadline {
                return json!({"ok": true, "result": updates.iter().cloned().collect::<Vec<_>>()});
            }
        }
        let _ = tokio::time::timeout_at(deadline, notified).await;
    }
}
