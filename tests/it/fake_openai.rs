//! A fake OpenAI-compatible server on 127.0.0.1: `POST /v1/chat/completions` as OpenAI
//! documents it (bearer key, JSON body with `model`, `messages`, `tools`; a response with
//! `choices[0].message.tool_calls[]`, each `function.arguments` a JSON string, and `usage`).
//! It answers from a script, one step per request, and records every request. Script steps:
//! a tool call, a plain text answer (no tool), a refusal, an HTTP error with OpenAI's error
//! body, a delay longer than the client's timeout, or arguments that are not JSON.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub const KEY: &str = "sk-souk-fake";

#[derive(Debug, Clone)]
pub enum Step {
    Call { name: String, arguments: String },
    Text(String),
    Refusal,
    Status(u16),
    Sleep(Duration),
}

impl Step {
    pub fn call(name: &str, arguments: Value) -> Step {
        Step::Call {
            name: name.into(),
            arguments: arguments.to_string(),
        }
    }

    pub fn raw_call(name: &str, arguments: &str) -> Step {
        Step::Call {
            name: name.into(),
            arguments: arguments.into(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Recorded {
    pub authorization: Option<String>,
    pub body: Value,
}

impl Recorded {
    /// The text of every message of the request, in order.
    pub fn texts(&self) -> Vec<String> {
        self.body["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|m| m["content"].as_str().map(str::to_owned))
            .collect()
    }

    pub fn last_user(&self) -> String {
        self.body["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|m| m["role"] == "user")
            .filter_map(|m| m["content"].as_str())
            .next_back()
            .unwrap_or_default()
            .to_owned()
    }
}

#[derive(Default)]
struct Inner {
    script: Mutex<VecDeque<Step>>,
    recorded: Mutex<Vec<Recorded>>,
}

#[derive(Clone)]
pub struct FakeOpenAi {
    /// Up to and including `/v1`, as `nlu.api_base` takes it.
    pub base: String,
    inner: Arc<Inner>,
}

impl FakeOpenAi {
    pub async fn start() -> FakeOpenAi {
        let inner = Arc::new(Inner::default());
        let app = axum::Router::new()
            .route("/v1/chat/completions", axum::routing::post(complete))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}/v1", listener.local_addr().expect("address"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeOpenAi { base, inner }
    }

    pub fn script(&self, steps: impl IntoIterator<Item = Step>) {
        self.inner.script.lock().expect("script").extend(steps);
    }

    pub fn recorded(&self) -> Vec<Recorded> {
        self.inner.recorded.lock().expect("recorded").clone()
    }
}

fn completion(message: Value, finish: &str) -> Value {
    json!({
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 1_767_225_600,
        "model": "fake-model",
        "choices": [{ "index": 0, "message": message, "finish_reason": finish }],
        "usage": { "prompt_tokens": 120, "completion_tokens": 12, "total_tokens": 132 },
    })
}

async fn complete(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Response {
    let authorization = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let recorded = Recorded {
        authorization,
        body,
    };
    inner.recorded.lock().expect("recorded").push(recorded);
    let step = inner.script.lock().expect("script").pop_front();
    match step {
        None => (
            StatusCode::INTERNAL_SERVER_ERROR,
            Json(json!({"error": {"message": "the test scripted nothing more"}})),
        )
            .into_response(),
        Some(Step::Call { name, arguments }) => Json(completion(
            json!({
                "role": "assistant",
                "content": null,
                "tool_calls": [{
                    "id": "call_1",
                    "type": "function",
                    "function": { "name": name, "arguments": arguments },
                }],
            }),
            "tool_calls",
        ))
        .into_response(),
        Some(Step::Text(text)) => Json(completion(
            json!({ "role": "assistant", "content": text }),
            "stop",
        ))
        .into_response(),
        Some(Step::Refusal) => Json(completion(
            json!({ "role": "assistant", "content": null, "refusal": "I can't help with that." }),
            "stop",
        ))
        .into_response(),
        Some(Step::Status(code)) => {
            let status = StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let kind = if code == 429 {
                "rate_limit_error"
            } else {
                "server_error"
            };
            (
                status,
                Json(json!({"error": {"message": "scripted failure", "type": kind, "param": null, "code": null}})),
            )
                .into_response()
        }
        Some(Step::Sleep(duration)) => {
            tokio::time::sleep(duration).await;
            (StatusCode::GATEWAY_TIMEOUT, "too late").into_response()
        }
    }
}
