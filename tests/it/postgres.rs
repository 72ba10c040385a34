//! souk on PostgreSQL as a whole (the store's own contract runs in `store.rs`): the app
//! holds a conversation on the database and keeps it across a restart, and `souk migrate
//! --check` tells an operator whether the schema is behind. Skipped where no test database
//! is set (`.ci/run` starts one and requires these to run).

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use souk::AppOptions;

use crate::support::{postgres_settings, postgres_url, spawn_app_with, test_settings};

const WAIT: Duration = crate::support::PATIENCE;

fn settings_on_postgres(dir: &std::path::Path) -> souk::Settings {
    let mut settings = test_settings(dir);
    settings.store = postgres_settings(dir);
    settings
}

#[tokio::test]
async fn a_conversation_on_postgres_survives_a_restart() {
    if postgres_url().is_none() {
        eprintln!("skipped: no PostgreSQL here");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with(settings_on_postgres(dir.path()), AppOptions::default()).await;
    let session = app.session().await;
    let mut events = app.events(&session).await;
    for said in [
        "[start]",
        "[add:ceramic-mug]",
        "[var:CM-BLUE]",
        "3",
        "[checkout]",
    ] {
        app.say(&session, said).await;
        events.next_reply(WAIT).await.expect("reply");
    }
    drop(events);
    app.stop().await;
    // Every reply was sent and recorded before the stop finished: none waits in the outbox.
    let store = crate::support::open_postgres(dir.path()).await;
    assert!(store.outbox(100).await.expect("outbox").is_empty());
    drop(store);

    let app = spawn_app_with(settings_on_postgres(dir.path()), AppOptions::default()).await;
    let mut events = app.events(&session).await;
    // Still in checkout, where the name is asked for; the cart is still there at the end.
    for said in ["Maria Pop", "0721 234 567"] {
        app.say(&session, said).await;
        events
            .next_reply(WAIT)
            .await
            .expect("the next checkout question");
    }
    app.say(&session, "Str. Lipscani 12, Bucharest 030031")
        .await;
    let confirm = events.next_reply(WAIT).await.expect("confirmation");
    assert_eq!(confirm["cart"]["lines"][0]["sku"], "CM-BLUE", "{confirm}");
    assert_eq!(confirm["cart"]["lines"][0]["quantity"], 3, "{confirm}");
    let history = app.history(&session).await;
    assert!(history.len() >= 12, "history kept: {}", history.len());
    app.stop().await;
}

#[tokio::test]
async fn souk_migrate_check_says_whether_the_schema_is_behind() {
    let Some(url) = postgres_url() else {
        eprintln!("skipped: no PostgreSQL here");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let schema = postgres_settings(dir.path()).postgres.schema;
    let souk = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_souk"))
            .args(args)
            .arg("--config")
            .arg(crate::support::repo_path("config/souk.toml"))
            .env("SOUK__STORE__BACKEND", "postgres")
            .env("SOUK__STORE__POSTGRES__URL", &url)
            .env("SOUK__STORE__POSTGRES__SCHEMA", &schema)
            .output()
            .expect("souk runs")
    };
    let behind = souk(&["migrate", "--check"]);
    let said = String::from_utf8_lossy(&behind.stdout);
    assert!(!behind.status.success(), "a new schema is behind: {said}");
    assert!(said.contains("pending: 1 store"), "{said}");

    let applied = souk(&["migrate"]);
    assert!(
        applied.status.success(),
        "{}",
        String::from_utf8_lossy(&applied.stderr)
    );
    let current = souk(&["migrate", "--check"]);
    let said = String::from_utf8_lossy(&current.stdout);
    assert!(current.status.success(), "{said}");
    assert!(said.contains("schema up to date"), "{said}");
    // The URL holds the password: never printed.
    assert!(!said.contains(&url));
}

/// A TCP relay in front of the test database that can be cut (every connection dropped, new
/// ones refused) and mended: the database "goes away" without stopping the shared server.
struct Relay {
    address: std::net::SocketAddr,
    open: Arc<std::sync::atomic::AtomicBool>,
    cut: tokio::sync::watch::Sender<u64>,
}

impl Relay {
    async fn start(upstream: std::net::SocketAddr) -> Relay {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind relay");
        let address = listener.local_addr().expect("relay address");
        let open = Arc::new(std::sync::atomic::AtomicBool::new(true));
        let (cut, _) = tokio::sync::watch::channel(0u64);
        let (flag, cuts) = (open.clone(), cut.clone());
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                if !flag.load(Ordering::Acquire) {
                    continue; // dropped at once: refused
                }
                let mut cut = cuts.subscribe();
                tokio::spawn(async move {
                    let Ok(mut server) = tokio::net::TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
                        _ = cut.changed() => {}
                    }
                });
            }
        });
        Relay { address, open, cut }
    }

    fn cut(&self) {
        self.open.store(false, Ordering::Release);
        self.cut.send_modify(|n| *n += 1);
    }

    fn mend(&self) {
        self.open.store(true, Ordering::Release);
    }
}

/// Waits until `/readyz` answers `status`, or fails after the patience.
async fn ready_becomes(app: &crate::support::TestApp, status: u16) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let got = app
            .client
            .get(format!("{}/readyz", app.base))
            .send()
            .await
            .expect("readyz")
            .status()
            .as_u16();
        if got == status {
            return;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/readyz stayed {got}, expected {status}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// While the database does not answer, souk is not ready and refuses new messages with 503
/// (a platform retries them; nothing is accepted that could not be kept); once it answers
/// again, souk is ready and the conversation goes on.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn while_the_database_is_away_souk_is_not_ready_and_refuses_ingest() {
    let Some(url) = postgres_url() else {
        eprintln!("skipped: no PostgreSQL here");
        return;
    };
    let mut parsed = reqwest::Url::parse(&url).expect("test database URL");
    let upstream = (
        parsed.host_str().expect("host").to_owned(),
        parsed.port().unwrap_or(5432),
    );
    let upstream = tokio::net::lookup_host(upstream)
        .await
        .expect("resolve")
        .next()
        .expect("an address");
    let relay = Relay::start(upstream).await;
    parsed.set_port(Some(relay.address.port())).expect("port");
    parsed
        .set_host(Some(&relay.address.ip().to_string()))
        .expect("host");

    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = settings_on_postgres(dir.path());
    settings.store.postgres.url = Some(souk::settings::Secret::new(parsed.to_string()));
    settings.store.postgres.connect_timeout_ms = 500;
    settings.store.postgres.statement_timeout_ms = 1_000;
    let app = spawn_app_with(settings, AppOptions::default()).await;
    let session = app.session().await;
    let mut events = app.events(&session).await;
    app.say(&session, "[start]").await;
    events.next_reply(WAIT).await.expect("greeting");
    ready_becomes(&app, 200).await;

    relay.cut();
    ready_becomes(&app, 503).await;
    let refused = app
        .post_raw(serde_json::json!({"session": session, "text": "cart"}).to_string())
        .await;
    assert_eq!(
        refused.status(),
        503,
        "no message accepted that cannot be kept"
    );

    relay.mend();
    ready_becomes(&app, 200).await;
    app.say(&session, "cart").await;
    let reply = events
        .next_reply(WAIT)
        .await
        .expect("the conversation goes on");
    assert!(reply["text"].is_string(), "{reply}");
    app.stop().await;
}

/// Two replicas on one database split the shards; a replica that stops renewing loses its
/// leases to the other within the lease time; and a commit carrying a lease its replica no
/// longer holds writes nothing (fencing), so one conversation never has two writers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replicas_split_the_shards_take_over_a_silent_one_and_fence_its_commits() {
    use souk::store::{Fence, Ingested, Lease, StoreError, WriteGroup};
    if postgres_url().is_none() {
        eprintln!("skipped: no PostgreSQL here");
        return;
    }
    const SHARDS: u32 = 8;
    let ttl = Duration::from_secs(1);
    let dir = tempfile::tempdir().expect("temp dir");
    // Two handles with pools of their own, as two processes would have.
    let a = crate::support::open_postgres(dir.path()).await;
    let b = crate::support::open_postgres(dir.path()).await;

    let first = a.hold_leases("a", SHARDS, ttl).await.expect("a holds");
    assert_eq!(first.len(), 8, "alone, a holds every shard");
    assert!(
        b.hold_leases("b", SHARDS, ttl)
            .await
            .expect("b holds")
            .is_empty(),
        "b finds every shard held"
    );
    let a_now = a.hold_leases("a", SHARDS, ttl).await.expect("a again");
    assert_eq!(a_now.len(), 4, "a gives back what is over its share");
    let b_now = b.hold_leases("b", SHARDS, ttl).await.expect("b again");
    assert_eq!(b_now.len(), 4, "b takes the rest");
    let mut all: Vec<u32> = a_now.iter().chain(&b_now).map(|l| l.shard).collect();
    all.sort_unstable();
    assert_eq!(
        all,
        (0..SHARDS).collect::<Vec<_>>(),
        "each shard has one holder"
    );

    // A commit with a lease a holds lands; one with a lease it gave away writes nothing.
    let step = |seq: u64, customer: &str, lease: Lease| WriteGroup {
        steps: vec![souk::store::StepCommit {
            inbox_seq: seq,
            conversation: flows::Conversation::new(
                flows::CustomerId(customer.into()),
                flows::Locale::En,
            ),
            history: vec![],
            outbox: vec![],
            timers: vec![],
            orders: vec![],
            order_updates: vec![],
            payment_jobs: vec![],
            now: flows::Timestamp(1),
        }],
        fence: Some(Fence {
            replica: "a".into(),
            leases: vec![lease],
        }),
        ..WriteGroup::default()
    };
    let event = |customer: &str| souk::store::InboxEntry {
        seq: 0,
        public_id: format!("p-{customer}"),
        dedup_key: None,
        customer: flows::CustomerId(customer.into()),
        event: flows::Event::Inbound(flows::Inbound::new(
            flows::Channel::WebChat,
            flows::InboundMessage::Text("hi".into()),
        )),
        received_at: flows::Timestamp(1),
    };
    let Ingested::New(kept) = a.ingest(event("kept")).await.expect("ingest") else {
        panic!("new")
    };
    a.write_group(&step(kept.seq, "kept", a_now[0]))
        .await
        .expect("a commits on its own shard");
    let given_away = first
        .iter()
        .find(|lease| b_now.iter().any(|l| l.shard == lease.shard))
        .copied()
        .expect("a shard that moved");
    let Ingested::New(fenced) = a.ingest(event("fenced")).await.expect("ingest") else {
        panic!("new")
    };
    let refused = a.write_group(&step(fenced.seq, "fenced", given_away)).await;
    assert!(
        matches!(refused, Err(StoreError::Fenced { shard }) if shard == given_away.shard),
        "{refused:?}"
    );
    assert!(
        a.in_inbox(fenced.seq).await.expect("inbox"),
        "the event waits for its owner"
    );
    assert!(
        a.conversation(&flows::CustomerId("fenced".into()))
            .await
            .expect("read")
            .is_none(),
        "nothing of the fenced step was written"
    );

    // a goes silent: within the lease time (and b's next rounds) b holds every shard, each
    // taken one with a new epoch, and a's old lease no longer commits.
    let deadline = tokio::time::Instant::now() + WAIT;
    let taken = loop {
        let held = b.hold_leases("b", SHARDS, ttl).await.expect("b holds");
        if held.len() == SHARDS as usize {
            break held;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "b holds {} shards after a went silent",
            held.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    for old in &a_now {
        let new = taken.iter().find(|l| l.shard == old.shard).expect("taken");
        assert!(
            new.epoch > old.epoch,
            "a new holder, a new epoch: {old:?} -> {new:?}"
        );
    }
    let Ingested::New(late) = a.ingest(event("late")).await.expect("ingest") else {
        panic!("new")
    };
    let late_commit = a.write_group(&step(late.seq, "late", a_now[0])).await;
    assert!(
        matches!(late_commit, Err(StoreError::Fenced { .. })),
        "{late_commit:?}"
    );
    // A graceful stop gives its leases back at once.
    b.release_leases("b").await.expect("release");
    assert_eq!(
        a.hold_leases("a", SHARDS, ttl).await.expect("a back").len(),
        8
    );
}
