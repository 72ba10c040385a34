//! `spawn_app()`: a real souk on 127.0.0.1 port 0 with a temporary sled store, and small
//! clients for its web chat API and event stream.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::StreamExt;
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use souk::send::{ChannelSender, Outgoing, SendError};
use souk::settings::{
    ConversationSettings, OutboxSettings, ServerSettings, Settings, ShopSettings, StoreSettings,
    WorkerSettings,
};
use souk::store::Store;
use souk::{App, AppOptions};

pub fn repo_path(relative: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(relative)
}

/// The SHA-256 of the demo catalog file: the base its sold units are counted against.
pub fn demo_catalog_digest() -> String {
    use sha2::Digest as _;
    let raw = std::fs::read(repo_path("config/demo/catalog.json")).expect("catalog");
    hex::encode(sha2::Sha256::digest(&raw))
}

/// The store the shipped configuration's backend (sled) would open at `dir`, as the app
/// opens it.
pub async fn open_store(dir: &Path) -> std::sync::Arc<dyn souk::store::Store> {
    souk::store::open(&StoreSettings::sled(dir))
        .await
        .expect("open the store")
}

/// The test database (`.ci/run` starts a throwaway PostgreSQL and sets it); `None` when
/// there is none here, unless `SOUK_REQUIRE_POSTGRES=1` says there must be one.
pub fn postgres_url() -> Option<String> {
    match std::env::var("SOUK_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(
                std::env::var("SOUK_REQUIRE_POSTGRES").as_deref() != Ok("1"),
                "SOUK_REQUIRE_POSTGRES=1 but SOUK_TEST_POSTGRES_URL is not set"
            );
            None
        }
    }
}

/// A PostgreSQL store of its own for `dir`: a schema named after the folder, so the same
/// folder opens the same store again and tests running at once do not meet.
pub fn postgres_settings(dir: &Path) -> StoreSettings {
    let name: String = dir
        .to_string_lossy()
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect();
    let tail = &name[name.len().saturating_sub(40)..];
    let mut settings = StoreSettings::sled(dir);
    settings.backend = souk::settings::StoreBackend::Postgres;
    settings.postgres.url = postgres_url().map(souk::settings::Secret::new);
    settings.postgres.schema = format!("t_{tail}");
    settings.postgres.pool_size = 8;
    settings
}

pub async fn open_postgres(dir: &Path) -> std::sync::Arc<dyn souk::store::Store> {
    souk::store::open(&postgres_settings(dir))
        .await
        .expect("open the PostgreSQL store")
}

pub fn test_settings(store: &Path) -> Settings {
    Settings {
        server: ServerSettings {
            listen: "127.0.0.1:0".parse().expect("address"),
            public_url: String::new(),
            webhook_body_limit_bytes: 100_000,
            body_limit_bytes: 65_536,
            shutdown_grace_seconds: 5,
            header_timeout_seconds: 10,
            body_timeout_seconds: 30,
            max_connections: 4_096,
            webhook_inflight_bytes: 64 * 1024 * 1024,
            // Tests start hundreds of chats from 127.0.0.1; the limit has a test of its own.
            webchat_sessions_per_address: 100_000,
        },
        store: StoreSettings {
            dedup_retention_hours: 24,
            ..StoreSettings::sled(store)
        },
        shop: ShopSettings {
            name: "Test <Shop>".into(),
            default_locale: flows::Locale::En,
            timezone: "Europe/Bucharest".into(),
            catalog: repo_path("config/demo/catalog.json"),
            images: repo_path("config/demo/images"),
            knowledge: Some(repo_path("config/demo/knowledge")),
        },
        conversation: ConversationSettings {
            session_timeout_minutes: 120,
            page_size: 5,
            max_quantity: 10,
        },
        workers: WorkerSettings {
            shards: 4,
            queue_depth: 256,
            step_budget_seconds: 10,
        },
        outbox: OutboxSettings {
            max_attempts: 50,
            backoff_base_ms: 20,
            backoff_max_ms: 200,
            concurrency: 16,
        },
        channels: Default::default(),
        payments: Default::default(),
        admin: Default::default(),
        checkout: Default::default(),
        handoff: Default::default(),
        console: Default::default(),
        recovery: Default::default(),
        booking: Default::default(),
        nlu: Default::default(),
        privacy: Default::default(),
    }
}

/// How long a test waits for something it expects before failing. Waits end as soon as the
/// event happens; the ceiling is generous because CI runs on two shared, often busy, cores
/// (a fixed 10 s once failed there).
pub const PATIENCE: Duration = Duration::from_secs(60);

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    pub store: Option<Arc<dyn Store>>,
    shutdown: Option<oneshot::Sender<()>>,
    server: Option<JoinHandle<anyhow::Result<()>>>,
}

pub async fn spawn_app(store_dir: &Path, options: AppOptions) -> TestApp {
    spawn_app_with(test_settings(store_dir), options).await
}

pub async fn spawn_app_with(settings: Settings, options: AppOptions) -> TestApp {
    // A crashed predecessor may still be releasing the store's file lock.
    let mut app = None;
    for _ in 0..100 {
        match App::build(
            settings.clone(),
            AppOptions {
                senders: options.senders.clone(),
                step_hook: options.step_hook.clone(),
                work: options.work.clone(),
            },
        )
        .await
        {
            Ok(built) => {
                app = Some(built);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let app = app.expect("the app builds");
    let store = app.store();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("address"));
    let (shutdown, signal) = oneshot::channel::<()>();
    let server = tokio::spawn(app.run(listener, async move {
        let _ = signal.await;
    }));
    TestApp {
        base,
        client: reqwest::Client::new(),
        store: Some(store),
        shutdown: Some(shutdown),
        server: Some(server),
    }
}

impl TestApp {
    pub fn store(&self) -> &Arc<dyn Store> {
        self.store.as_ref().expect("store is open")
    }

    /// SIGTERM-equivalent: the graceful path.
    pub async fn stop(mut self) {
        self.store = None;
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
        if let Some(server) = self.server.take() {
            server.await.expect("server task").expect("clean stop");
        }
    }

    /// Waits until souk stops by itself, with what `App::run` returned.
    pub async fn finished(&mut self) -> anyhow::Result<()> {
        match self.server.take() {
            Some(server) => server
                .await
                .unwrap_or_else(|error| Err(anyhow::anyhow!("server task: {error}"))),
            None => Ok(()),
        }
    }

    /// An abrupt stop: every task is dropped where it stands, nothing drains or flushes.
    pub async fn crash(mut self) {
        self.store = None;
        if let Some(server) = self.server.take() {
            server.abort();
            let _ = server.await;
        }
    }

    pub async fn session(&self) -> String {
        let response = self
            .client
            .post(format!("{}/chat/api/sessions", self.base))
            .body(r#"{"locale":"en"}"#)
            .send()
            .await
            .expect("session request");
        assert_eq!(response.status(), 200);
        let body: Value = response.json().await.expect("session JSON");
        body["session"].as_str().expect("session token").to_owned()
    }

    pub async fn post_raw(&self, body: impl Into<reqwest::Body>) -> reqwest::Response {
        self.client
            .post(format!("{}/chat/api/messages", self.base))
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .expect("message request")
    }

    /// Sends text (or `[action]`) and returns the id the server gave the message.
    pub async fn say(&self, session: &str, said: &str) -> String {
        let body = match said.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            Some(action) => serde_json::json!({"session": session, "action": action}),
            None => serde_json::json!({"session": session, "text": said}),
        };
        let response = self.post_raw(body.to_string()).await;
        assert_eq!(response.status(), 202, "posting {said:?}");
        let body: Value = response.json().await.expect("202 JSON");
        body["id"].as_str().expect("message id").to_owned()
    }

    pub async fn events(&self, session: &str) -> EventStream {
        let response = self
            .client
            .get(format!("{}/chat/api/events?session={session}", self.base))
            .send()
            .await
            .expect("events request");
        assert_eq!(response.status(), 200);
        EventStream {
            stream: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }

    pub async fn history(&self, session: &str) -> Vec<Value> {
        let body: Value = self
            .client
            .get(format!("{}/chat/api/history?session={session}", self.base))
            .send()
            .await
            .expect("history request")
            .json()
            .await
            .expect("history JSON");
        body["messages"].as_array().cloned().unwrap_or_default()
    }

    pub async fn metric(&self, name: &str) -> f64 {
        let text = self
            .client
            .get(format!("{}/metrics", self.base))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("metrics text");
        text.lines()
            .filter(|line| line.starts_with(name))
            .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }
}

type ByteStream =
    std::pin::Pin<Box<dyn futures_util::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>;

/// A minimal server-sent-events reader: yields the JSON of each `data:` line.
pub struct EventStream {
    stream: ByteStream,
    buffer: String,
}

impl EventStream {
    pub fn new(response: reqwest::Response) -> EventStream {
        EventStream {
            stream: Box::pin(response.bytes_stream()),
            buffer: String::new(),
        }
    }

    pub async fn next_reply(&mut self, within: Duration) -> Option<Value> {
        tokio::time::timeout(within, async {
            loop {
                if let Some(end) = self.buffer.find("\n\n") {
                    let event: String = self.buffer.drain(..end + 2).collect();
                    if let Some(data) = event.lines().find_map(|l| l.strip_prefix("data: ")) {
                        return serde_json::from_str(data).ok();
                    }
                    continue;
                }
                match self.stream.next().await {
                    Some(Ok(chunk)) => self.buffer.push_str(&String::from_utf8_lossy(&chunk)),
                    _ => return None,
                }
            }
        })
        .await
        .ok()
        .flatten()
    }

    /// Collects replies until `done` says so or nothing arrives for `quiet`.
    pub async fn collect_until(
        &mut self,
        quiet: Duration,
        mut done: impl FnMut(&[Value]) -> bool,
    ) -> Vec<Value> {
        let mut replies = Vec::new();
        while !done(&replies) {
            match self.next_reply(quiet).await {
                Some(reply) => replies.push(reply),
                None => break,
            }
        }
        replies
    }
}

/// A channel that fails (retryably) while `failing` is set and records what it delivers.
#[derive(Default)]
pub struct FakeChannel {
    pub failing: std::sync::atomic::AtomicBool,
    pub attempts: std::sync::atomic::AtomicUsize,
    pub delivered: Mutex<Vec<(String, String)>>,
}

impl FakeChannel {
    pub fn failing() -> Arc<FakeChannel> {
        let fake = FakeChannel::default();
        fake.failing
            .store(true, std::sync::atomic::Ordering::SeqCst);
        Arc::new(fake)
    }

    pub fn delivered_keys(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for (key, _) in self.delivered.lock().expect("lock").iter() {
            *counts.entry(key.clone()).or_insert(0) += 1;
        }
        counts
    }
}

impl ChannelSender for FakeChannel {
    fn send(
        &self,
        outgoing: Outgoing,
    ) -> futures_util::future::BoxFuture<'_, souk::send::SendResult> {
        Box::pin(async move {
            self.attempts
                .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
                return Err(SendError::Retryable {
                    reason: "503 from the fake platform".into(),
                    retry_after: Some(Duration::from_millis(30)),
                    parts_sent: 0,
                });
            }
            self.delivered
                .lock()
                .expect("lock")
                .push((outgoing.entry.idempotency_key(), outgoing.rendered.text));
            Ok(Vec::new())
        })
    }
}

/// Polls `check` until it holds or `limit` passes.
pub async fn eventually(limit: Duration, mut check: impl FnMut() -> bool) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if check() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    check()
}

/// `eventually` for a check that awaits (the store's async roles).
pub async fn eventually_async<F: std::future::Future<Output = bool>>(
    limit: Duration,
    mut check: impl FnMut() -> F,
) -> bool {
    let deadline = tokio::time::Instant::now() + limit;
    while tokio::time::Instant::now() < deadline {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    check().await
}

/// Waits until the stored order has `status`.
pub async fn order_becomes(
    store: &std::sync::Arc<dyn souk::store::Store>,
    id: &flows::OrderId,
    status: flows::OrderStatus,
) -> bool {
    eventually_async(PATIENCE, || async {
        store
            .order(id)
            .await
            .ok()
            .flatten()
            .is_some_and(|o| o.status == status)
    })
    .await
}

/// The web chat customer behind a session token.
pub async fn web_customer(app: &TestApp, session: &str) -> flows::CustomerId {
    use sha2::Digest as _;
    let digest = hex::encode(sha2::Sha256::digest(session.as_bytes()));
    app.store()
        .find_identity(&flows::Identity::new(flows::Channel::WebChat, digest))
        .await
        .expect("lookup")
        .expect("the session's customer")
}

/// A commit that only writes `conversation` as it is (tests set up state with it).
pub fn state_commit(
    conversation: flows::Conversation,
    now: flows::Timestamp,
) -> souk::store::StepCommit {
    souk::store::StepCommit {
        inbox_seq: u64::MAX,
        conversation,
        history: Vec::new(),
        outbox: vec![],
        timers: vec![],
        orders: vec![],
        order_updates: vec![],
        payment_jobs: vec![],
        now,
    }
}
