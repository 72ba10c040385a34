//! The operator console over HTTP: sessions, CSRF, login rate limit, the set-up link,
//! untrusted text, the takeover protocol end to end through the web chat, and two operators
//! racing for one conversation.

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use reqwest::redirect::Policy;
use serde_json::{Value, json};

use flows::{Channel, CustomerId, Identity, Timestamp};
use souk::AppOptions;
use souk::console::password;
use souk::store::{ConsoleSession, Operator, Role, Store};

use crate::support::{TestApp, spawn_app};

const PASSWORD: &str = "correct horse battery staple";
const WAIT: Duration = crate::support::PATIENCE;

pub async fn add_operator(store: &Arc<dyn Store>, name: &str, role: Role) {
    let operator = Operator {
        name: name.into(),
        display_name: String::new(),
        role,
        password_hash: password::hash(PASSWORD).expect("hash"),
        created_at: souk::clock::now(),
    };
    assert!(
        store
            .put_operator(&operator, false)
            .await
            .expect("put operator")
    );
}

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .build()
        .expect("client")
}

/// A logged-in browser: its cookie and CSRF token.
pub struct Console {
    base: String,
    client: reqwest::Client,
    cookie: String,
    csrf: String,
}

async fn try_login(base: &str, name: &str, password: &str) -> reqwest::Response {
    client()
        .post(format!("{base}/console/login"))
        .form(&[("name", name), ("password", password)])
        .send()
        .await
        .expect("login request")
}

pub async fn login(app: &TestApp, name: &str) -> Console {
    let response = try_login(&app.base, name, PASSWORD).await;
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    assert_eq!(response.headers()["location"], "/console");
    let set_cookie = response.headers()["set-cookie"]
        .to_str()
        .expect("cookie")
        .to_owned();
    for attribute in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    let cookie = set_cookie.split(';').next().expect("pair").to_owned();
    let mut console = Console {
        base: app.base.clone(),
        client: client(),
        cookie,
        csrf: String::new(),
    };
    let me = console.get("/console/api/me").await;
    assert_eq!(me["name"], name);
    console.csrf = me["csrf"].as_str().expect("csrf").to_owned();
    console
}

impl Console {
    pub async fn get(&self, path: &str) -> Value {
        let response = self
            .client
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), StatusCode::OK, "GET {path}");
        response.json().await.expect("JSON")
    }

    /// The status of a GET, whatever it is.
    pub async fn get_status(&self, path: &str) -> u16 {
        self.client
            .get(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .send()
            .await
            .expect("GET")
            .status()
            .as_u16()
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(format!("{}{path}", self.base))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
            .json(&body)
            .send()
            .await
            .expect("POST");
        let status = response.status();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn conversation(&self, customer: &CustomerId) -> Value {
        self.get(&format!("/console/api/conversations/{customer}"))
            .await
    }

    /// Polls until the conversation's timeline satisfies `done`.
    async fn wait_for(&self, customer: &CustomerId, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            // Until its first step commits, the conversation is not there yet (404).
            let response = self
                .client
                .get(format!(
                    "{}/console/api/conversations/{customer}",
                    self.base
                ))
                .header("cookie", &self.cookie)
                .send()
                .await
                .expect("GET");
            let view: Value = if response.status() == StatusCode::OK {
                response.json().await.expect("JSON")
            } else {
                Value::Null
            };
            let timeline = view["timeline"].as_array().cloned().unwrap_or_default();
            if done(&timeline) {
                return timeline;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "timeline: {timeline:#?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// The web chat customer behind a session token.
pub async fn customer_of(app: &TestApp, session: &str) -> CustomerId {
    use sha2::Digest as _;
    let digest = hex::encode(sha2::Sha256::digest(session.as_bytes()));
    app.store()
        .find_identity(&Identity::new(Channel::WebChat, digest))
        .await
        .expect("lookup")
        .expect("the session's customer")
}

pub async fn customer_with_a_conversation(app: &TestApp) -> (String, CustomerId) {
    let session = app.session().await;
    let mut events = app.events(&session).await;
    app.say(&session, "hello").await;
    events.next_reply(WAIT).await.expect("greeting");
    let customer = customer_of(app, &session).await;
    (session, customer)
}

#[tokio::test]
async fn every_console_route_needs_a_session() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(dir.path(), AppOptions::default()).await;
    let client = client();
    for path in ["/console", "/console/", "/console/assets/console.js"] {
        let response = client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "{path}");
        assert_eq!(response.headers()["location"], "/console/login", "{path}");
    }
    let c = "/console/api/conversations/c-1";
    let gets = [
        "/console/api/me",
        "/console/api/operators",
        "/console/api/products?q=mug",
        "/console/api/conversations",
        c,
        &format!("{c}/canned"),
        "/console/api/media/whatsapp/123",
        "/console/api/events",
    ];
    for path in gets {
        let response = client
            .get(format!("{}{path}", app.base))
            .send()
            .await
            .expect("GET");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "GET {path}");
    }
    let posts = [
        "takeover",
        "reply",
        "handback",
        "assign",
        "notes",
        "read",
        "product",
        "payment-link",
    ]
    .map(|action| format!("{c}/{action}"));
    for path in posts
        .iter()
        .map(String::as_str)
        .chain(["/console/logout", "/console/api/operators"])
    {
        let response = client
            .post(format!("{}{path}", app.base))
            .header("x-csrf-token", "anything")
            .json(&json!({"text": "hi"}))
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "POST {path}");
    }
    // A forged or expired cookie is no session either.
    let response = client
        .get(format!("{}/console/api/me", app.base))
        .header("cookie", "souk_console=0123456789abcdef")
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let token = "f".repeat(64);
    let expired = ConsoleSession {
        operator: "ana".into(),
        csrf: "x".into(),
        created_at: Timestamp(0),
        expires_at: Timestamp(1),
    };
    add_operator(app.store(), "ana", Role::Agent).await;
    app.store()
        .put_console_session(&souk::console::session_digest(&token), &expired)
        .await
        .expect("put session");
    let response = client
        .get(format!("{}/console/api/me", app.base))
        .header("cookie", format!("souk_console={token}"))
        .send()
        .await
        .expect("GET");
    assert_eq!(
        response.status(),
        StatusCode::UNAUTHORIZED,
        "expired session"
    );
    // The login page and its style are public; the page has no script.
    let login = client
        .get(format!("{}/console/login", app.base))
        .send()
        .await
        .expect("GET");
    assert_eq!(login.status(), StatusCode::OK);
    assert!(
        login.headers()["content-security-policy"]
            .to_str()
            .expect("csp")
            .contains("script-src 'self'")
    );
    app.stop().await;
}

#[tokio::test]
async fn state_changing_requests_need_the_csrf_token() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(dir.path(), AppOptions::default()).await;
    add_operator(app.store(), "ana", Role::Agent).await;
    let console = login(&app, "ana").await;
    let (_, customer) = customer_with_a_conversation(&app).await;
    let path = format!("{}/console/api/conversations/{customer}/takeover", app.base);
    let without = console
        .client
        .post(&path)
        .header("cookie", &console.cookie)
        .send()
        .await
        .expect("POST");
    assert_eq!(without.status(), StatusCode::FORBIDDEN);
    let wrong = console
        .client
        .post(&path)
        .header("cookie", &console.cookie)
        .header("x-csrf-token", "0".repeat(64))
        .send()
        .await
        .expect("POST");
    assert_eq!(wrong.status(), StatusCode::FORBIDDEN);
    let cross_site = console
        .client
        .post(&path)
        .header("cookie", &console.cookie)
        .header("x-csrf-token", &console.csrf)
        .header("origin", "https://evil.example")
        .send()
        .await
        .expect("POST");
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    let logout = console
        .client
        .post(format!("{}/console/logout", app.base))
        .header("cookie", &console.cookie)
        .send()
        .await
        .expect("POST");
    assert_eq!(
        logout.status(),
        StatusCode::FORBIDDEN,
        "logout needs it too"
    );
    // Nothing changed hands.
    let view = console.conversation(&customer).await;
    assert_eq!(view["summary"]["state"], "bot");
    let (status, body) = console
        .post(
            &format!("/console/api/conversations/{customer}/takeover"),
            Value::Null,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Only admins add operators.
    let (status, _) = console
        .post(
            "/console/api/operators",
            json!({"name": "eve", "role": "admin", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // A new password (or removing the operator) ends every session of theirs.
    let other = login(&app, "ana").await;
    let operator = app
        .store()
        .operator("ana")
        .await
        .expect("read")
        .expect("ana");
    assert!(
        app.store()
            .put_operator(&operator, true)
            .await
            .expect("replace")
    );
    for session in [&console, &other] {
        let me = session
            .client
            .get(format!("{}/console/api/me", app.base))
            .header("cookie", &session.cookie)
            .send()
            .await
            .expect("GET");
        assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    }
    let console = login(&app, "ana").await;
    // Logout ends the session.
    let (status, _) = console.post("/console/logout", Value::Null).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let me = console
        .client
        .get(format!("{}/console/api/me", app.base))
        .header("cookie", &console.cookie)
        .send()
        .await
        .expect("GET");
    assert_eq!(me.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn login_brute_force_is_rate_limited() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(dir.path(), AppOptions::default()).await;
    add_operator(app.store(), "ana", Role::Admin).await;
    for attempt in 0..5 {
        let response = try_login(&app.base, "ana", &format!("guess number {attempt}")).await;
        assert_eq!(
            response.status(),
            StatusCode::UNAUTHORIZED,
            "attempt {attempt}"
        );
        let page = response.text().await.expect("page");
        assert!(page.contains("Wrong name or password"), "{page}");
    }
    // Locked: even the right password is refused for now, and says when to come back.
    let response = try_login(&app.base, "ana", PASSWORD).await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .expect("header")
        .parse()
        .expect("seconds");
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    // Another name from the same address is not locked: one attacker who knows Ana's name
    // cannot lock out the whole team...
    let response = try_login(&app.base, "bob", "another guess here").await;
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // ...but an address spraying names is stopped (20 attempts in all).
    for n in 0..14 {
        let response = try_login(&app.base, &format!("name{n}"), "spray spray spray").await;
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED, "name{n}");
    }
    let response = try_login(&app.base, "carol", "spray spray spray").await;
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    app.stop().await;
}

/// Fifty wrong passwords for one name from twelve addresses (each within its own limits)
/// once locked the real operator out everywhere for fifteen minutes. They still hold back
/// browsers that never logged in as that operator, but not the operator's own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strangers_cannot_lock_an_operator_out_of_a_browser_they_used_before() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(dir.path(), AppOptions::default()).await;
    add_operator(app.store(), "ana", Role::Admin).await;
    // Ana logged in from her browser before: it keeps a known-device cookie.
    let first = try_login(&app.base, "ana", PASSWORD).await;
    assert_eq!(first.status(), StatusCode::SEE_OTHER);
    let device = first
        .headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find(|v| v.starts_with("souk_device="))
        .and_then(|v| v.split(';').next())
        .expect("a known-device cookie")
        .to_owned();
    // The attack: loopback addresses 127.0.0.10-21 stand for twelve machines.
    let mut guesses = 0;
    'attack: for round in 0..5 {
        for machine in 10..22_u8 {
            let client = reqwest::Client::builder()
                .redirect(Policy::none())
                .local_address(std::net::IpAddr::from([127, 0, 0, machine]))
                .build()
                .expect("client");
            let response = client
                .post(format!("{}/console/login", app.base))
                .form(&[
                    ("name", "ana"),
                    ("password", &format!("guess {round} {machine}")),
                ])
                .send()
                .await
                .expect("login");
            if response.status() == StatusCode::TOO_MANY_REQUESTS {
                break 'attack;
            }
            assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
            guesses += 1;
        }
    }
    assert!(
        guesses >= 50,
        "the per-name limit came only after {guesses}"
    );
    // A browser that never logged in as Ana is held back, even with her password...
    let stranger = try_login(&app.base, "ana", PASSWORD).await;
    assert_eq!(stranger.status(), StatusCode::TOO_MANY_REQUESTS);
    // ...but her own browser gets in.
    let own = client()
        .post(format!("{}/console/login", app.base))
        .header("cookie", &device)
        .form(&[("name", "ana"), ("password", PASSWORD)])
        .send()
        .await
        .expect("login");
    assert_eq!(own.status(), StatusCode::SEE_OTHER);
    app.stop().await;
}

#[tokio::test]
async fn the_setup_link_creates_the_first_admin_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(dir.path(), AppOptions::default()).await;
    let link = souk::console::offer_setup_link(app.store().as_ref(), &app.base)
        .await
        .expect("offer")
        .expect("no operator yet, so a link");
    let token = link.split("token=").nth(1).expect("token").to_owned();
    let page = client().get(&link).send().await.expect("GET");
    assert_eq!(page.status(), StatusCode::OK);
    let form = [
        ("token", token.as_str()),
        ("name", "owner"),
        ("password", PASSWORD),
    ];
    let short = client()
        .post(format!("{}/console/setup", app.base))
        .form(&[
            ("token", token.as_str()),
            ("name", "owner"),
            ("password", "short"),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(short.status(), StatusCode::UNPROCESSABLE_ENTITY);
    // `Origin: null` (what a browser sends from a no-referrer page) with nothing to vouch
    // for it is refused; the same from our own page, as the browser marks it, is not.
    let opaque = client()
        .post(format!("{}/console/setup", app.base))
        .header("origin", "null")
        .form(&form)
        .send()
        .await
        .expect("POST");
    assert_eq!(opaque.status(), StatusCode::FORBIDDEN);
    let cross_site = client()
        .post(format!("{}/console/setup", app.base))
        .header("origin", "null")
        .header("sec-fetch-site", "cross-site")
        .form(&form)
        .send()
        .await
        .expect("POST");
    assert_eq!(cross_site.status(), StatusCode::FORBIDDEN);
    let created = client()
        .post(format!("{}/console/setup", app.base))
        .header("origin", "null")
        .header("sec-fetch-site", "same-origin")
        .form(&form)
        .send()
        .await
        .expect("POST");
    assert_eq!(created.status(), StatusCode::SEE_OTHER);
    assert!(created.headers().contains_key("set-cookie"));
    let owner = app
        .store()
        .operator("owner")
        .await
        .expect("read")
        .expect("created");
    assert_eq!(owner.role, Role::Admin);
    assert!(owner.password_hash.starts_with("$argon2id$"));
    // The new admin adds an agent from the console, who can then log in.
    let admin = login(&app, "owner").await;
    let (status, body) = admin
        .post(
            "/console/api/operators",
            json!({"name": "Bob", "role": "agent", "password": PASSWORD, "display_name": "Bob M."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, _) = admin
        .post(
            "/console/api/operators",
            json!({"name": "bob", "role": "agent", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    login(&app, "bob").await;
    let again = client()
        .post(format!("{}/console/setup", app.base))
        .form(&[
            ("token", token.as_str()),
            ("name", "intruder"),
            ("password", PASSWORD),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(again.status(), StatusCode::FORBIDDEN);
    assert!(
        app.store()
            .operator("intruder")
            .await
            .expect("read")
            .is_none()
    );
    assert!(
        souk::console::offer_setup_link(app.store().as_ref(), &app.base)
            .await
            .expect("offer")
            .is_none(),
        "no link once an operator exists"
    );
    app.stop().await;
}

#[tokio::test]
async fn customer_markup_reaches_the_console_as_plain_text() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(dir.path(), AppOptions::default()).await;
    add_operator(app.store(), "ana", Role::Agent).await;
    let console = login(&app, "ana").await;
    let session = app.session().await;
    let payloads = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>"];
    for payload in payloads {
        app.say(&session, payload).await;
    }
    let customer = customer_of(&app, &session).await;
    let timeline = console
        .wait_for(&customer, |t| {
            t.iter().filter(|i| i["kind"] == "in").count() >= 2
        })
        .await;
    let texts: Vec<&str> = timeline
        .iter()
        .filter(|i| i["kind"] == "in")
        .filter_map(|i| i["text"].as_str())
        .collect();
    assert_eq!(texts, payloads, "kept exactly, as data");
    // The page builds the DOM from text only; no HTML sink exists in its script.
    let script = include_str!("../../src/console/assets/console.js");
    for sink in [
        "innerHTML",
        "outerHTML",
        "insertAdjacentHTML",
        "document.write",
        "eval(",
    ] {
        assert!(!script.contains(sink), "console.js uses {sink}");
    }
    // Search finds the conversation by what was written.
    let found = console.get("/console/api/conversations?q=onerror").await;
    assert_eq!(found["conversations"][0]["customer"], json!(customer));
    app.stop().await;
}

#[tokio::test]
async fn takeover_reply_and_hand_back_through_the_web_chat() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(dir.path(), AppOptions::default()).await;
    add_operator(app.store(), "ana", Role::Agent).await;
    // One display name, used everywhere the console names her (and told to customers).
    let mut ana = app
        .store()
        .operator("ana")
        .await
        .expect("read")
        .expect("ana");
    ana.display_name = "Ana Ionescu".into();
    assert!(app.store().put_operator(&ana, true).await.expect("rename"));
    let console = login(&app, "ana").await;
    let mut feed = console_events(&console).await;
    let session = app.session().await;
    let mut events = app.events(&session).await;
    app.say(&session, "I want to talk to a human").await;
    let told = events.next_reply(WAIT).await.expect("told to wait");
    assert!(
        told["text"].as_str().expect("text").contains("5 minutes"),
        "{told}"
    );
    let customer = customer_of(&app, &session).await;
    assert!(
        feed_names(&mut feed, &customer).await,
        "the console heard of it live"
    );
    let waiting = console
        .get("/console/api/conversations?filter=waiting")
        .await;
    assert_eq!(waiting["conversations"][0]["customer"], json!(customer));
    assert_eq!(waiting["conversations"][0]["state"], "waiting");

    let takeover = format!("/console/api/conversations/{customer}/takeover");
    let (status, body) = console.post(&takeover, Value::Null).await;
    assert_eq!((status, &body["owner"]), (StatusCode::OK, &json!("ana")));
    let joined = events.next_reply(WAIT).await.expect("operator joined");
    assert!(
        joined["text"].as_str().expect("text").contains("Ana"),
        "{joined}"
    );

    // The bot keeps quiet: the customer's message is only recorded.
    app.say(&session, "my parcel is late").await;
    assert!(
        events
            .next_reply(Duration::from_millis(600))
            .await
            .is_none()
    );
    let reply = format!("/console/api/conversations/{customer}/reply");
    let (status, _) = console
        .post(
            &reply,
            json!({"text": "Sorry! It left the warehouse today <b>promise</b>."}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let answer = events.next_reply(WAIT).await.expect("operator reply");
    assert_eq!(
        answer["text"], "Sorry! It left the warehouse today <b>promise</b>.",
        "sent as written"
    );
    let (status, _) = console.post(&reply, json!({"text": "   "})).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    // Bodies that are not what the API takes get a clear error, never a 500.
    for (content_type, body, expected) in [
        ("application/json", "{not json", StatusCode::BAD_REQUEST),
        (
            "application/json",
            r#"{"txt": "hi"}"#,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        (
            "text/plain",
            r#"{"text": "hi"}"#,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
        ),
    ] {
        let response = console
            .client
            .post(format!("{}{reply}", app.base))
            .header("cookie", &console.cookie)
            .header("x-csrf-token", &console.csrf)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .expect("POST");
        assert_eq!(response.status(), expected, "{content_type} {body}");
        let error: Value = response.json().await.expect("a JSON error");
        assert!(error["error"].as_str().is_some_and(|e| !e.is_empty()));
    }

    // A private note never reaches the customer.
    let (status, _) = console
        .post(
            &format!("/console/api/conversations/{customer}/notes"),
            json!({"text": "VIP, offer free shipping"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert!(
        events
            .next_reply(Duration::from_millis(300))
            .await
            .is_none()
    );

    let view = console.conversation(&customer).await;
    let kinds: Vec<&str> = view["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter_map(|i| i["kind"].as_str())
        .collect();
    assert!(
        kinds.contains(&"note") && kinds.contains(&"operator"),
        "{kinds:?}"
    );
    let operator_reply = view["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .find(|i| i["by"] == "Ana Ionescu" && i["kind"] == "out")
        .expect("the operator's reply is in the timeline, by her display name");
    for item in view["timeline"].as_array().expect("timeline") {
        if item["kind"] == "operator" {
            assert!(
                item["text"]
                    .as_str()
                    .unwrap_or_default()
                    .starts_with("Ana Ionescu "),
                "{item}"
            );
        }
        if item["kind"] == "note" {
            assert_eq!(item["by"], "Ana Ionescu");
        }
    }
    assert_eq!(operator_reply["channel"], "webchat");
    assert!(
        view["timeline"]
            .as_array()
            .expect("t")
            .iter()
            .any(|i| { i["kind"] == "in" && i["understood"] == "asks for a person" })
    );

    let (status, _) = console
        .post(
            &format!("/console/api/conversations/{customer}/handback"),
            json!({"resolved": false}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let resumed = events.next_reply(WAIT).await.expect("bot is back");
    assert!(
        resumed["text"]
            .as_str()
            .expect("text")
            .contains("here again"),
        "{resumed}"
    );
    events
        .next_reply(WAIT)
        .await
        .expect("and asks what it was waiting for");
    app.say(&session, "cart").await;
    let cart = events
        .next_reply(WAIT)
        .await
        .expect("the bot answers again");
    assert!(
        cart["text"].as_str().expect("text").contains("empty"),
        "{cart}"
    );
    app.stop().await;
}

#[tokio::test]
async fn two_operators_taking_over_at_once_leave_exactly_one_owner() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(dir.path(), AppOptions::default()).await;
    add_operator(app.store(), "ana", Role::Agent).await;
    add_operator(app.store(), "bob", Role::Agent).await;
    let ana = login(&app, "ana").await;
    let bob = login(&app, "bob").await;
    for round in 0..10 {
        let (_, customer) = customer_with_a_conversation(&app).await;
        let owner = race_takeover(&ana, &bob, app.store(), &customer, round).await;
        // The loser cannot write to the customer.
        let other = if owner.0 == "ana" { &bob } else { &ana };
        let (status, _) = other
            .post(
                &format!("/console/api/conversations/{customer}/reply"),
                json!({"text": "me too"}),
            )
            .await;
        assert_eq!(status, StatusCode::CONFLICT, "round {round}");
    }
    app.stop().await;
}

/// Two operators take `customer` over at once: exactly one gets it (200), the other hears
/// who did (409). Returns the owner.
pub async fn race_takeover(
    ana: &Console,
    bob: &Console,
    store: &Arc<dyn Store>,
    customer: &CustomerId,
    round: usize,
) -> flows::OperatorId {
    let path = format!("/console/api/conversations/{customer}/takeover");
    let ((a_status, a_body), (b_status, b_body)) =
        tokio::join!(ana.post(&path, Value::Null), bob.post(&path, Value::Null));
    let owner = store
        .conversation(customer)
        .await
        .expect("read")
        .expect("conversation")
        .handoff
        .owner()
        .cloned()
        .expect("owned");
    let (winner, loser) = match (a_status, b_status) {
        (StatusCode::OK, StatusCode::CONFLICT) => (a_body, b_body),
        (StatusCode::CONFLICT, StatusCode::OK) => (b_body, a_body),
        other => panic!("round {round}: {other:?} {a_body} {b_body}"),
    };
    assert_eq!(winner["owner"], json!(owner.0), "round {round}");
    assert_eq!(loser["owner"], json!(owner.0), "the loser sees who owns it");
    owner
}

/// The console's live stream.
pub async fn console_events(console: &Console) -> crate::support::EventStream {
    let response = console
        .client
        .get(format!("{}/console/api/events", console.base))
        .header("cookie", &console.cookie)
        .send()
        .await
        .expect("events");
    assert_eq!(response.status(), StatusCode::OK);
    crate::support::EventStream::new(response)
}

async fn feed_names(feed: &mut crate::support::EventStream, customer: &CustomerId) -> bool {
    while let Some(event) = feed.next_reply(WAIT).await {
        if event["customer"] == json!(customer) {
            return true;
        }
    }
    false
}

/// The app on Meta's channels (replies at a fake Graph API), with Ana logged in.
async fn meta_app_with_ana() -> (
    crate::fake_graph::FakeGraph,
    tempfile::TempDir,
    TestApp,
    Console,
) {
    let fake = crate::fake_graph::FakeGraph::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = crate::support::spawn_app_with(
        crate::meta::settings(dir.path(), &fake),
        AppOptions::default(),
    )
    .await;
    add_operator(app.store(), "ana", Role::Agent).await;
    let console = login(&app, "ana").await;
    (fake, dir, app, console)
}

#[tokio::test]
async fn on_messenger_an_operator_may_answer_for_seven_days_with_the_human_agent_tag() {
    let (fake, _dir, app, console) = meta_app_with_ana().await;
    // Meta delivers, late, a message the customer wrote three days ago.
    let three_days_ago = souk::clock::now().millis() - 3 * 24 * 3_600_000;
    let body =
        crate::meta::messenger_text_at("page", "m.old.1", "PSID9", "anyone?", three_days_ago);
    assert_eq!(crate::meta::signed(&app, "messenger", &body).await, 200);
    let customer = wait_for_customer(&app, Identity::new(Channel::Messenger, "PSID9")).await;
    // The bot may not answer after 24 hours: its greeting is refused, with the reason.
    let timeline = console
        .wait_for(&customer, |t| t.iter().any(|i| i["status"] == "failed"))
        .await;
    let failed = timeline
        .iter()
        .find(|i| i["status"] == "failed")
        .expect("failed");
    assert!(
        failed["error"]
            .as_str()
            .expect("error")
            .contains("window closed")
    );
    let view = console.conversation(&customer).await;
    assert!(
        view["window"]["note"]
            .as_str()
            .expect("note")
            .contains("HUMAN_AGENT")
    );

    let path = |action: &str| format!("/console/api/conversations/{customer}/{action}");
    let (status, _) = console.post(&path("takeover"), Value::Null).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = console
        .post(
            &path("reply"),
            json!({"text": "Sorry for the wait, how can I help?"}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let sent = fake.wait_for(2, WAIT).await;
    for request in &sent {
        assert_eq!(request.body["recipient"]["id"], "PSID9");
        assert_eq!(
            request.body["messaging_type"], "MESSAGE_TAG",
            "{}",
            request.body
        );
        assert_eq!(request.body["tag"], "HUMAN_AGENT");
    }
    assert_eq!(
        sent[1].body["message"]["text"],
        "Sorry for the wait, how can I help?"
    );
    app.stop().await;
}

#[tokio::test]
async fn whatsapp_media_comes_through_souk_and_only_images_show_inline() {
    let (_fake, _dir, app, console) = meta_app_with_ana().await;
    let media_message = |wamid: &str, kind: &str, id: &str| {
        json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
            "messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": "1122334455667"},
            "contacts": [{"profile": {"name": "Dana"}, "wa_id": "40711111111"}],
            "messages": [{"from": "40711111111", "id": wamid, "timestamp": (souk::clock::now().millis() / 1000).to_string(),
                "type": kind, kind: {"id": id, "mime_type": "application/octet-stream", "caption": "look"}}]
        }}]}]})
        .to_string()
        .into_bytes()
    };
    for (wamid, kind, id) in [
        ("wamid.M1", "image", "img1"),
        ("wamid.M2", "document", "doc1"),
    ] {
        assert_eq!(
            crate::meta::signed(&app, "whatsapp", &media_message(wamid, kind, id)).await,
            200
        );
    }
    let customer = wait_for_customer(&app, Identity::new(Channel::WhatsApp, "40711111111")).await;
    let timeline = console
        .wait_for(&customer, |t| {
            t.iter().filter(|i| !i["media"].is_null()).count() >= 2
        })
        .await;
    let urls: Vec<String> = timeline
        .iter()
        .filter_map(|i| i["media"]["url"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(
        urls,
        [
            "/console/api/media/whatsapp/img1",
            "/console/api/media/whatsapp/doc1"
        ]
    );
    let fetch = |url: String| {
        console
            .client
            .get(format!("{}{url}", app.base))
            .header("cookie", &console.cookie)
            .send()
    };
    let image = fetch(urls[0].clone()).await.expect("image");
    assert_eq!(image.status(), StatusCode::OK);
    assert_eq!(image.headers()["content-type"], "image/jpeg");
    assert_eq!(
        image.bytes().await.expect("bytes").as_ref(),
        b"\xff\xd8\xff\xe0 fake jpeg"
    );
    // A file that claims to be HTML downloads as opaque bytes; it never renders as a page.
    let file = fetch(urls[1].clone()).await.expect("file");
    assert_eq!(file.status(), StatusCode::OK);
    assert_eq!(file.headers()["content-type"], "application/octet-stream");
    assert!(
        file.headers()["content-disposition"]
            .to_str()
            .expect("header")
            .starts_with("attachment")
    );
    let missing = fetch("/console/api/media/whatsapp/nope".into())
        .await
        .expect("missing");
    assert_eq!(missing.status(), StatusCode::BAD_GATEWAY);
    let unauthenticated = client()
        .get(format!("{}{}", app.base, urls[0]))
        .send()
        .await
        .expect("GET");
    assert_eq!(unauthenticated.status(), StatusCode::UNAUTHORIZED);
    app.stop().await;
}

#[tokio::test]
async fn a_messenger_attachment_is_fetched_only_if_a_webhook_gave_it() {
    use crate::fake_graph::FakeGraph;
    let fake = FakeGraph::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = crate::meta::settings(dir.path(), &fake);
    settings.console.attachment_hosts.push("127.0.0.1".into());
    let app = crate::support::spawn_app_with(settings, AppOptions::default()).await;
    add_operator(app.store(), "ana", Role::Agent).await;
    let console = login(&app, "ana").await;
    // Port 9 (discard) refuses: the fetch fails, which shows souk tried that URL and no other.
    let given = "https://127.0.0.1:9/attachment/photo.jpg";
    let now = souk::clock::now().millis();
    let body = json!({"object": "page", "entry": [{"id": "1895382890692545", "time": now, "messaging": [{
        "sender": {"id": "PSID7"}, "recipient": {"id": "1895382890692545"}, "timestamp": now,
        "message": {"mid": "m.att.1", "attachments": [{"type": "image", "payload": {"url": given}}]}
    }]}]})
    .to_string();
    assert_eq!(
        crate::meta::signed(&app, "messenger", body.as_bytes()).await,
        200
    );
    let customer = wait_for_customer(&app, Identity::new(Channel::Messenger, "PSID7")).await;
    let timeline = console
        .wait_for(&customer, |t| t.iter().any(|i| !i["media"].is_null()))
        .await;
    let url = timeline
        .iter()
        .find_map(|i| i["media"]["url"].as_str())
        .expect("a console URL")
        .to_owned();
    assert_eq!(
        url,
        format!("/console/api/media/{customer}/{}", hex::encode(given))
    );
    let get = |path: String| {
        console
            .client
            .get(format!("{}{path}", app.base))
            .header("cookie", &console.cookie)
            .send()
    };
    assert_eq!(
        get(url).await.expect("GET").status(),
        StatusCode::BAD_GATEWAY
    );
    // Any other address is refused before a request leaves souk.
    for other in [
        "https://169.254.169.254/latest/meta-data",
        "http://127.0.0.1:9/x",
    ] {
        let path = format!("/console/api/media/{customer}/{}", hex::encode(other));
        assert_eq!(
            get(path).await.expect("GET").status(),
            StatusCode::NOT_FOUND,
            "{other}"
        );
    }
    app.stop().await;
}

/// The customer a webhook created, once its identity is stored.
async fn wait_for_customer(app: &TestApp, identity: Identity) -> CustomerId {
    for _ in 0..250 {
        if let Some(customer) = app.store().find_identity(&identity).await.expect("lookup") {
            return customer;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("no customer for {identity:?}");
}

/// A canned reply whose placeholder has no value (a web chat customer gave no name) is
/// offered with the gap marked, and a reply that still has a gap is refused, never sent.
#[tokio::test]
async fn canned_replies_mark_gaps_and_a_reply_with_a_gap_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = crate::support::test_settings(dir.path());
    settings.console.canned_replies = crate::support::repo_path("config/canned");
    let app = crate::support::spawn_app_with(settings, AppOptions::default()).await;
    add_operator(app.store(), "ana", Role::Admin).await;
    let console = login(&app, "ana").await;
    let (_, customer) = customer_with_a_conversation(&app).await;
    let canned = console
        .get(&format!("/console/api/conversations/{customer}/canned"))
        .await;
    let greeting = canned["replies"]
        .as_array()
        .expect("replies")
        .iter()
        .find(|r| r["id"] == "greeting")
        .expect("the greeting")
        .clone();
    assert!(
        greeting["text"]
            .as_str()
            .unwrap_or_default()
            .contains("⟨name⟩"),
        "{greeting}"
    );
    assert_eq!(greeting["gaps"], json!(["name"]));
    let (status, _) = console
        .post(
            &format!("/console/api/conversations/{customer}/takeover"),
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = console
        .post(
            &format!("/console/api/conversations/{customer}/reply"),
            json!({"text": greeting["text"]}),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert!(
        body["error"]
            .as_str()
            .unwrap_or_default()
            .contains("⟨name⟩")
    );
    app.stop().await;
}

/// Customers are named by what they told us (at checkout or booking), else the platform's
/// name, else a short reference; their contact and address are on the row, and search
/// finds them by any of these.
#[tokio::test]
async fn customers_are_named_by_what_they_gave_and_found_by_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(dir.path(), AppOptions::default()).await;
    add_operator(app.store(), "ana", Role::Admin).await;
    let console = login(&app, "ana").await;
    let (_, customer) = customer_with_a_conversation(&app).await;
    let rows = console.get("/console/api/conversations").await;
    let row = rows["conversations"][0].clone();
    assert!(
        row["name"].is_null(),
        "a web chat visitor has no name: {row}"
    );
    let reference = row["reference"].as_str().expect("reference").to_owned();
    assert!(
        reference.starts_with("C-") && reference.len() == 8,
        "{reference}"
    );
    // The customer checks out: name, phone and address are theirs now.
    let store = app.store().clone();
    let mut conversation = store
        .conversation(&customer)
        .await
        .expect("read")
        .expect("conversation");
    conversation.profile.name = Some("Ana Popescu".into());
    conversation.profile.contact = Some(flows::ContactPoint::Phone("+40721234567".into()));
    conversation.profile.address = Some("Str. Lipscani 12, București 030031".into());
    store
        .commit(crate::support::state_commit(
            conversation,
            souk::clock::now(),
        ))
        .await
        .expect("commit");
    let rows = console.get("/console/api/conversations").await;
    let row = &rows["conversations"][0];
    assert_eq!(row["name"], "Ana Popescu");
    assert_eq!(row["contact"], "+40721234567");
    assert_eq!(row["address"], "Str. Lipscani 12, București 030031");
    for needle in [
        "popescu",
        "0721 234 567",
        "lipscani",
        &reference.to_lowercase(),
    ] {
        let found = console
            .get(&format!(
                "/console/api/conversations?q={}",
                needle.replace(' ', "%20")
            ))
            .await;
        assert_eq!(
            found["conversations"].as_array().map(Vec::len),
            Some(1),
            "search for {needle:?}"
        );
    }
    app.stop().await;
}

/// Admins manage the team in the page: invite with a one-time link (the colleague sets their
/// password through it, once), reset (a new link; sessions end), change role, remove; the
/// team always keeps an admin, and agents can do none of it.
#[tokio::test]
async fn admins_invite_reset_change_and_remove_colleagues() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(dir.path(), AppOptions::default()).await;
    add_operator(app.store(), "ana", Role::Admin).await;
    let admin = login(&app, "ana").await;
    let (status, body) = admin
        .post(
            "/console/api/operators",
            json!({"name": "ion", "display_name": "Ion Popa", "role": "agent"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let link = body["setup_link"]
        .as_str()
        .expect("a set-up link")
        .to_owned();
    let invite = link.split("invite=").nth(1).expect("token").to_owned();
    // Invited, not yet able to log in.
    assert_eq!(
        try_login(&app.base, "ion", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    // (The link names the configured address; the test server listens elsewhere.)
    let page = client()
        .get(format!("{}/console/setup?invite={invite}", app.base))
        .send()
        .await
        .expect("GET");
    assert!(
        page.text()
            .await
            .expect("page")
            .contains("Set your password")
    );
    let set = client()
        .post(format!("{}/console/setup", app.base))
        .form(&[("invite", invite.as_str()), ("password", PASSWORD)])
        .send()
        .await
        .expect("POST");
    assert_eq!(set.status(), StatusCode::SEE_OTHER);
    let again = client()
        .post(format!("{}/console/setup", app.base))
        .form(&[
            ("invite", invite.as_str()),
            ("password", "another password 42"),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(again.status(), StatusCode::FORBIDDEN, "a link works once");
    let ion = login(&app, "ion").await;
    // An agent manages nobody.
    let (status, _) = ion
        .post("/console/api/operators/ana/remove", json!({}))
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    // Role changes; the last admin cannot be demoted or removed.
    let (status, _) = admin
        .post("/console/api/operators/ion/role", json!({"role": "admin"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let admin = login(&app, "ana").await;
    let (status, _) = admin
        .post("/console/api/operators/ion/role", json!({"role": "agent"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = admin
        .post("/console/api/operators/ana/role", json!({"role": "agent"}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    // Reset: a new link, and the old password no longer works.
    let (status, body) = admin
        .post("/console/api/operators/ion/reset", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(
        body["setup_link"]
            .as_str()
            .is_some_and(|l| l.contains("invite="))
    );
    assert_eq!(
        try_login(&app.base, "ion", PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    let team = admin.get("/console/api/operators").await;
    let ion_row = team["operators"]
        .as_array()
        .expect("operators")
        .iter()
        .find(|o| o["name"] == "ion")
        .expect("ion")
        .clone();
    assert_eq!(ion_row["display_name"], "Ion Popa");
    assert_eq!(ion_row["awaiting_set_up"], true);
    let (status, _) = admin
        .post("/console/api/operators/ion/remove", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(app.store().operator("ion").await.expect("read").is_none());
    let (status, _) = admin
        .post("/console/api/operators/ana/remove", json!({}))
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "not yourself");
    app.stop().await;
}

/// Only the newest set-up link of an operator works: a reset makes the earlier one stale,
/// a removal ends the operator's unused links (a colleague re-added under the same name is
/// not reachable through an old one), and expired links are pruned from the store.
#[tokio::test]
async fn stale_and_expired_invitation_links_stop_working() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(dir.path(), AppOptions::default()).await;
    add_operator(app.store(), "ana", Role::Admin).await;
    let admin = login(&app, "ana").await;
    let token_of = |body: &Value| {
        body["setup_link"]
            .as_str()
            .and_then(|link| link.split("invite=").nth(1))
            .expect("a set-up link")
            .to_owned()
    };
    let set_password = |invite: String| {
        let base = app.base.clone();
        async move {
            client()
                .post(format!("{base}/console/setup"))
                .form(&[("invite", invite.as_str()), ("password", PASSWORD)])
                .send()
                .await
                .expect("POST")
                .status()
        }
    };
    let (status, body) = admin
        .post(
            "/console/api/operators",
            json!({"name": "ion", "role": "agent"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let first = token_of(&body);
    let (_, body) = admin
        .post("/console/api/operators/ion/reset", json!({}))
        .await;
    let second = token_of(&body);
    assert_eq!(
        set_password(first).await,
        StatusCode::FORBIDDEN,
        "superseded"
    );
    assert_eq!(set_password(second).await, StatusCode::SEE_OTHER);

    let (_, body) = admin
        .post("/console/api/operators/ion/reset", json!({}))
        .await;
    let unused = token_of(&body);
    let (status, _) = admin
        .post("/console/api/operators/ion/remove", json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = admin
        .post(
            "/console/api/operators",
            json!({"name": "ion", "role": "agent"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(set_password(unused).await, StatusCode::FORBIDDEN, "removed");

    let store = app.store();
    let long_ago = souk::store::Invite {
        operator: "ion".into(),
        expires_at: Timestamp(1_000),
    };
    store
        .put_invite(b"expired-digest", &long_ago)
        .await
        .expect("put");
    let pruned = store
        .prune_console_sessions(souk::clock::now())
        .await
        .expect("prune");
    assert!(pruned >= 1, "pruned {pruned}");
    assert!(
        store
            .take_invite(b"expired-digest")
            .await
            .expect("take")
            .is_none()
    );
    app.stop().await;
}

#[tokio::test]
async fn a_whatsapp_status_turns_the_reply_read_in_the_console_live() {
    let (fake, _dir, app, console) = meta_app_with_ana().await;
    let body = crate::meta::whatsapp_text_at(
        "wamid.in.1",
        "40700000009",
        "cart",
        &(souk::clock::now().millis() / 1000).to_string(),
    );
    assert_eq!(crate::meta::signed(&app, "whatsapp", &body).await, 200);
    assert_eq!(fake.wait_for(1, WAIT).await.len(), 1, "one reply");
    let customer = wait_for_customer(&app, Identity::new(Channel::WhatsApp, "40700000009")).await;
    // The platform accepted the reply under its own id; the console shows it as sent once
    // the send is recorded.
    console
        .wait_for(&customer, |t| t.iter().any(|i| i["status"] == "sent"))
        .await;
    // fakegraph numbers the messages it accepts from 1.
    let wamid = "wamid.fake.1";
    let mut feed = console_events(&console).await;
    // Meta tells, for the message it delivered to this customer, that they read it.
    let status =
        json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [
        {"field": "messages", "value": {"messaging_product": "whatsapp",
            "metadata": {"display_phone_number": "15550001111", "phone_number_id": "1122334455667"},
            "statuses": [{"id": wamid, "status": "read",
                "timestamp": (souk::clock::now().millis() / 1000).to_string(),
                "recipient_id": "40700000009"}]}}]}]})
        .to_string();
    assert_eq!(
        crate::meta::signed(&app, "whatsapp", status.as_bytes()).await,
        200
    );
    assert!(
        feed_names(&mut feed, &customer).await,
        "the console heard of the status live, in that customer's chat"
    );
    let timeline = console
        .wait_for(&customer, |t| t.iter().any(|i| i["status"] == "read"))
        .await;
    let outs: Vec<&Value> = timeline.iter().filter(|i| i["kind"] == "out").collect();
    assert_eq!(outs.len(), 1, "{timeline:#?}");
    app.stop().await;
}
