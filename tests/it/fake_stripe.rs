//! A fake Stripe API on 127.0.0.1: `POST /v1/checkout/sessions` as Stripe documents it
//! (form-encoded, bearer secret key, `Idempotency-Key`: the same key and body return the same
//! session, the same key with another body is a 400 `idempotency_error`), recording every
//! request and failing on command.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

pub const SECRET_KEY: &str = "sk_test_souk_fake";

#[derive(Debug, Clone)]
pub struct Recorded {
    pub idempotency_key: Option<String>,
    pub form: Vec<(String, String)>,
}

impl Recorded {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.form
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

type FormBody = Vec<(String, String)>;

#[derive(Default)]
struct Inner {
    recorded: Mutex<Vec<Recorded>>,
    /// Idempotency key → (request body, the session answered).
    sessions: Mutex<HashMap<String, (FormBody, Value)>>,
    failures: Mutex<VecDeque<StatusCode>>,
}

#[derive(Clone)]
pub struct FakeStripe {
    pub base: String,
    inner: Arc<Inner>,
}

impl FakeStripe {
    pub async fn start() -> FakeStripe {
        let inner = Arc::new(Inner::default());
        let app = axum::Router::new()
            .route("/v1/checkout/sessions", axum::routing::post(create_session))
            .with_state(inner.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeStripe { base, inner }
    }

    /// The next requests get these statuses (500, 429…) instead of a session.
    pub fn fail_next(&self, statuses: impl IntoIterator<Item = StatusCode>) {
        self.inner.failures.lock().expect("lock").extend(statuses);
    }

    pub fn recorded(&self) -> Vec<Recorded> {
        self.inner.recorded.lock().expect("lock").clone()
    }

    /// Distinct sessions created (a retried request with its key creates none).
    pub fn sessions(&self) -> usize {
        self.inner.sessions.lock().expect("lock").len()
    }

    /// A session by its id.
    pub fn session_named(&self, id: &str) -> Value {
        let sessions = self.inner.sessions.lock().expect("lock");
        sessions
            .values()
            .map(|(_, session)| session)
            .find(|session| session["id"] == id)
            .cloned()
            .expect("a session of that id")
    }

    /// The session created for an order (the last, if several).
    pub fn session_for(&self, order: &str) -> Value {
        let sessions = self.inner.sessions.lock().expect("lock");
        let mut found: Vec<&Value> = sessions
            .values()
            .map(|(_, session)| session)
            .filter(|session| session["client_reference_id"] == order)
            .collect();
        found.sort_by_key(|session| session["id"].as_str().unwrap_or_default().to_owned());
        found
            .last()
            .map(|s| (*s).clone())
            .expect("a session for the order")
    }
}

fn stripe_error(status: StatusCode, kind: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"type": kind, "message": message}})),
    )
        .into_response()
}

async fn create_session(
    State(inner): State<Arc<Inner>>,
    headers: HeaderMap,
    Form(form): Form<FormBody>,
) -> Response {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let idempotency_key = header("idempotency-key");
    inner.recorded.lock().expect("lock").push(Recorded {
        idempotency_key: idempotency_key.clone(),
        form: form.clone(),
    });
    if header("authorization").as_deref() != Some(&format!("Bearer {SECRET_KEY}")) {
        return stripe_error(
            StatusCode::UNAUTHORIZED,
            "invalid_request_error",
            "Invalid API Key provided",
        );
    }
    if let Some(status) = inner.failures.lock().expect("lock").pop_front() {
        return stripe_error(status, "api_error", "fake failure");
    }
    let field = |name: &str| {
        form.iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())
    };
    for required in ["mode", "success_url", "line_items[0][quantity]"] {
        if field(required).is_none() {
            return stripe_error(
                StatusCode::BAD_REQUEST,
                "invalid_request_error",
                &format!("Missing required param: {required}."),
            );
        }
    }
    let mut sessions = inner.sessions.lock().expect("lock");
    if let Some(key) = &idempotency_key
        && let Some((body, session)) = sessions.get(key)
    {
        if *body != form {
            return stripe_error(
                StatusCode::BAD_REQUEST,
                "idempotency_error",
                "Keys for idempotent requests can only be used with the same parameters they were first used with.",
            );
        }
        return (StatusCode::OK, axum::Json(session.clone())).into_response();
    }
    let id = format!("cs_test_{}", sessions.len() + 1);
    // What Stripe charges: the sum of the line items, in their currency.
    let mut amount_total: i64 = 0;
    for line in 0.. {
        let Some(quantity) = field(&format!("line_items[{line}][quantity]")) else {
            break;
        };
        let unit = field(&format!("line_items[{line}][price_data][unit_amount]"))
            .and_then(|v| v.parse::<i64>().ok())
            .unwrap_or(0);
        amount_total += unit * quantity.parse::<i64>().unwrap_or(0);
    }
    let session = json!({
        "id": id,
        "object": "checkout.session",
        "amount_total": amount_total,
        "currency": field("line_items[0][price_data][currency]"),
        "mode": "payment",
        "status": "open",
        "payment_status": "unpaid",
        "client_reference_id": field("client_reference_id"),
        "url": format!("https://checkout.stripe.test/c/pay/{id}"),
    });
    if let Some(key) = idempotency_key {
        sessions.insert(key, (form, session.clone()));
    }
    (StatusCode::OK, axum::Json(session)).into_response()
}
