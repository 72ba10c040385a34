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

/// Three blue mugs in the cart, then checkout: the name is asked for next.
async fn start_checkout(
    app: &crate::support::TestApp,
    session: &str,
    events: &mut crate::support::EventStream,
) {
    for said in [
        "[start]",
        "[add:ceramic-mug]",
        "[var:CM-BLUE]",
        "3",
        "[checkout]",
    ] {
        app.say(session, said).await;
        events.next_reply(WAIT).await.expect("reply");
    }
}

/// After a restart or a move of the store: still in checkout, where the name is asked for,
/// and the cart is still there at the end.
async fn finish_checkout(
    app: &crate::support::TestApp,
    session: &str,
    events: &mut crate::support::EventStream,
) {
    for said in ["Maria Pop", "0721 234 567"] {
        app.say(session, said).await;
        events
            .next_reply(WAIT)
            .await
            .expect("the next checkout question");
    }
    app.say(session, "Str. Lipscani 12, Bucharest 030031").await;
    let confirm = events.next_reply(WAIT).await.expect("confirmation");
    assert_eq!(confirm["cart"]["lines"][0]["sku"], "CM-BLUE", "{confirm}");
    assert_eq!(confirm["cart"]["lines"][0]["quantity"], 3, "{confirm}");
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
    start_checkout(&app, &session, &mut events).await;
    drop(events);
    app.stop().await;
    // Every reply was sent and recorded before the stop finished: none waits in the outbox.
    let store = crate::support::open_postgres(dir.path()).await;
    assert!(store.outbox(100).await.expect("outbox").is_empty());
    drop(store);

    let app = spawn_app_with(settings_on_postgres(dir.path()), AppOptions::default()).await;
    let mut events = app.events(&session).await;
    finish_checkout(&app, &session, &mut events).await;
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
        claim: None,
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

/// `souk store copy --from sled --to postgres` with the sled store at `sled` into `schema`.
async fn souk_store_copy(sled: &std::path::Path, schema: &str) -> std::process::Output {
    let (sled, schema) = (sled.to_path_buf(), schema.to_owned());
    let url = postgres_url().expect("a test database");
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_souk"))
            .args([
                "store", "copy", "--from", "sled", "--to", "postgres", "--config",
            ])
            .arg(crate::support::repo_path("config/souk.toml"))
            .env("SOUK__STORE__PATH", &sled)
            .env("SOUK__STORE__BACKEND", "postgres")
            .env("SOUK__STORE__POSTGRES__URL", &url)
            .env("SOUK__STORE__POSTGRES__SCHEMA", &schema)
            .output()
            .expect("souk runs")
    })
    .await
    .expect("the copy's thread")
}

/// A shop moves from sled to PostgreSQL: the copy refuses while souk holds the store, then
/// moves it whole (customer and identity, conversation, history, summary, timers; nothing
/// pending), refuses a second copy into the same schema (two shops never mix), and souk on
/// the database carries on the same web chat where it stopped, cart and all.
#[tokio::test]
async fn souk_store_copy_moves_a_sled_shop_to_postgres() {
    use sha2::Digest as _;
    if postgres_url().is_none() {
        eprintln!("skipped: no PostgreSQL here");
        return;
    }
    let sled_dir = tempfile::tempdir().expect("temp dir");
    let pg_dir = tempfile::tempdir().expect("temp dir");
    let schema = postgres_settings(pg_dir.path()).postgres.schema;

    let app = crate::support::spawn_app(sled_dir.path(), AppOptions::default()).await;
    let session = app.session().await;
    let mut events = app.events(&session).await;
    start_checkout(&app, &session, &mut events).await;
    drop(events);
    let refused = souk_store_copy(sled_dir.path(), &schema).await;
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success(), "copied from a running souk");
    assert!(said.contains("in use: stop souk"), "{said}");
    app.stop().await;

    let copied = souk_store_copy(sled_dir.path(), &schema).await;
    let said = String::from_utf8_lossy(&copied.stdout);
    assert!(
        copied.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&copied.stderr)
    );
    for line in [
        "customers: 1",
        "identities: 1",
        "conversations: 1",
        "summaries: 1",
    ] {
        assert!(said.contains(line), "{line:?} in {said}");
    }

    let sled = crate::support::open_store(sled_dir.path()).await;
    let pg = crate::support::open_postgres(pg_dir.path()).await;
    let digest = hex::encode(sha2::Sha256::digest(session.as_bytes()));
    let identity = flows::Identity::new(flows::Channel::WebChat, digest);
    let customer = sled
        .find_identity(&identity)
        .await
        .expect("lookup")
        .expect("the web chat's customer");
    assert_eq!(
        pg.find_identity(&identity).await.expect("lookup"),
        Some(customer.clone())
    );
    assert_eq!(
        pg.customer(&customer).await.expect("customer"),
        sled.customer(&customer).await.expect("customer")
    );
    let conversation = sled.conversation(&customer).await.expect("conversation");
    assert!(conversation.is_some());
    assert_eq!(
        pg.conversation(&customer).await.expect("conversation"),
        conversation
    );
    let history = sled.history(&customer, 1_000).await.expect("history");
    assert!(history.len() >= 10, "history: {}", history.len());
    assert_eq!(
        pg.history(&customer, 1_000).await.expect("history"),
        history
    );
    let summary = sled.summary(&customer).await.expect("summary");
    assert!(summary.is_some());
    assert_eq!(pg.summary(&customer).await.expect("summary"), summary);
    assert!(sled.outbox(100).await.expect("outbox").is_empty());
    assert!(pg.outbox(100).await.expect("outbox").is_empty());
    assert!(pg.pending_inbox().await.expect("inbox").is_empty());
    // sled may look earlier than a timer is really due (it moves pushed-back timers late);
    // the copy has the true time.
    let due = pg.next_timer_due().await.expect("timers").expect("a timer");
    assert!(Some(due) >= sled.next_timer_due().await.expect("timers"));
    // The sled store is free again for the second copy to reach the database's check.
    drop((sled, pg));

    let again = souk_store_copy(sled_dir.path(), &schema).await;
    let said = String::from_utf8_lossy(&again.stderr);
    assert!(
        !again.status.success(),
        "a second copy into the same schema"
    );
    assert!(said.contains("already holds souk data"), "{said}");

    let app = spawn_app_with(settings_on_postgres(pg_dir.path()), AppOptions::default()).await;
    let mut events = app.events(&session).await;
    finish_checkout(&app, &session, &mut events).await;
    let kept = app.history(&session).await;
    assert!(kept.len() >= 12, "history kept: {}", kept.len());
    app.stop().await;
}

/// Every kind of record the copy knows, filled through the store's roles on sled, reads the
/// same through them on PostgreSQL after the copy: timers at their true due time (not
/// where sled's index left them), numbers kept, and new numbers after the old ones.
#[tokio::test]
async fn souk_store_copy_moves_every_kind_of_record() {
    use flows::booking::{Booking, BookingId, BookingRequest, BookingStatus, Busy, StaffId};
    use flows::{Channel, Customer, CustomerId, Identity, Locale, OrderId, Sku, Timestamp};
    use souk::store::{
        ConsoleSession, Delivered, DeliveryRecord, HistoryEntry, InboxEntry, Ingested, Invite,
        KnownDevice, LinkCode, NewOutbox, Operator, OrderUpdate, PaymentJob, PaymentSession, Role,
        SentRecord, StepCommit, TimerChange, TimerEntry, WriteGroup,
    };
    if postgres_url().is_none() {
        eprintln!("skipped: no PostgreSQL here");
        return;
    }
    let sled_dir = tempfile::tempdir().expect("temp dir");
    let pg_dir = tempfile::tempdir().expect("temp dir");
    let euro = flows::Currency::new("EUR").expect("EUR");
    let customer = |id: &str, identity: &Identity| Customer {
        id: CustomerId(id.into()),
        identities: vec![identity.clone()],
        display_name: None,
        locale: Some(Locale::En),
        created_at: Timestamp(0),
    };
    let event = |customer: &str, dedup: &str, at: i64| InboxEntry {
        claim: None,
        seq: 0,
        public_id: format!("p-{at}"),
        dedup_key: Some(dedup.into()),
        customer: CustomerId(customer.into()),
        event: flows::Event::Inbound(flows::Inbound::new(
            Channel::WebChat,
            flows::InboundMessage::Text(format!("hello {at}")),
        )),
        received_at: Timestamp(at),
    };
    let step = |seq: u64, replies: usize, due: i64| StepCommit {
        inbox_seq: seq,
        conversation: flows::Conversation::new(CustomerId("a".into()), Locale::En),
        history: Vec::new(),
        outbox: (0..replies)
            .map(|_| NewOutbox {
                last_inbound_at: None,
                channel: Channel::WhatsApp,
                recipient: "r".into(),
                locale: Locale::En,
                reply: flows::Reply::key(flows::TextKey::Menu),
                reply_to: None,
            })
            .collect(),
        timers: vec![TimerChange::Set(TimerEntry {
            customer: CustomerId("a".into()),
            kind: flows::TimerKind::SessionExpiry,
            due: Timestamp(due),
        })],
        orders: vec![],
        order_updates: vec![],
        payment_jobs: vec![],
        now: Timestamp(1_000),
    };
    let order = flows::Order {
        id: OrderId("o-1".into()),
        customer: CustomerId("a".into()),
        name: "Ana".into(),
        contact: flows::ContactPoint::Email("ana@example.ro".into()),
        lines: vec![flows::OrderLine {
            sku: Sku("CM-BLUE".into()),
            product: flows::ProductId("mug".into()),
            title: "Mug".into(),
            quantity: 1,
            unit_price: flows::Money::new(5_900, euro),
        }],
        total: flows::Money::new(5_900, euro),
        status: flows::OrderStatus::PendingPayment,
        placed_at: Timestamp(0),
        fulfilment: None,
        tracking: None,
        payment_attempts: 1,
        payment_failures: 0,
        oversold: vec![],
        recovered_step: None,
        discount: None,
        booking: None,
        history: Vec::new(),
    };
    let levels = [(Sku("CM-BLUE".into()), 5), (Sku("TL-STD".into()), 2)];
    let (web, telegram, messenger) = (
        Identity::new(Channel::WebChat, "w-1"),
        Identity::new(Channel::Telegram, "42"),
        Identity::new(Channel::Messenger, "m-1"),
    );
    let a = CustomerId("a".into());
    let session_digest = b"s\x00digest".to_vec(); // digests may hold a zero byte

    let store = crate::support::open_store(sled_dir.path()).await;
    for (id, identity) in [("a", &web), ("b", &telegram), ("c", &messenger)] {
        store
            .resolve_identity(identity, customer(id, identity))
            .await
            .expect("resolve");
    }
    store.set_blocked(&telegram, true).await.expect("block");
    let code = LinkCode {
        customer: a.clone(),
        expires_at: Timestamp(i64::MAX),
        used: false,
    };
    store.put_link_code("LINK-1", &code).await.expect("code");
    store
        .stock_sold("base-1", &levels)
        .await
        .expect("stock base");
    let Ingested::New(first) = store.ingest(event("a", "d-1", 1)).await.expect("ingest") else {
        panic!("new")
    };
    let mut placed = step(first.seq, 3, 50_000);
    placed.orders = vec![order.clone()];
    placed.payment_jobs = vec![PaymentJob {
        order: order.id.clone(),
        customer: a.clone(),
        total: order.total,
        attempt: 1,
        created_at: Timestamp(1_000),
        tries: 0,
        next_try_at: Timestamp(1_000),
        last_error: None,
    }];
    let sends = store.commit(placed).await.expect("commit");
    // Pushed later: sled's index keeps the old time and moves it only when it comes.
    let Ingested::New(second) = store.ingest(event("a", "d-2", 2)).await.expect("ingest") else {
        panic!("new")
    };
    let mut paid = step(second.seq, 0, 90_000);
    paid.order_updates = vec![OrderUpdate {
        order: order.id.clone(),
        status: flows::OrderStatus::Paid,
        tracking: None,
        by: None,
    }];
    store.commit(paid).await.expect("commit");
    let sent = SentRecord {
        customer: a.clone(),
        outbox_id: sends[0].id,
        channel: Channel::WhatsApp,
        platform_id: "wamid.1".into(),
        at: Timestamp(2_000),
    };
    let delivered = WriteGroup {
        delivered: vec![Delivered {
            outbox_id: sends[0].id,
            sent: vec![sent],
        }],
        ..WriteGroup::default()
    };
    store.write_group(&delivered).await.expect("delivered");
    store
        .outbox_dead(sends[1].clone(), "gone".into(), Timestamp(3_000))
        .await
        .expect("dead letter");
    let status = DeliveryRecord {
        channel: Channel::WhatsApp,
        platform_id: "wamid.1".into(),
        state: "read".into(),
        at: Timestamp(3_500),
        error: None,
    };
    assert!(
        store
            .record_delivery("status-1", &status, Timestamp(3_500))
            .await
            .expect("status")
    );
    let Ingested::New(waiting) = store.ingest(event("b", "d-3", 3)).await.expect("ingest") else {
        panic!("new")
    };
    store.note_step_attempt(waiting.seq).await.expect("attempt");
    let Ingested::New(poison) = store.ingest(event("b", "d-4", 4)).await.expect("ingest") else {
        panic!("new")
    };
    assert!(
        store
            .set_aside(poison.seq, "panicked", 3, Timestamp(5_000))
            .await
            .expect("set aside")
    );
    store
        .merge_customers(&CustomerId("c".into()), &a, Timestamp(6_000))
        .await
        .expect("merge");
    let note = HistoryEntry::Note {
        at: Timestamp(6_500),
        operator: flows::OperatorId("ana".into()),
        text: "called back".into(),
    };
    store.append_history(&a, &note).await.expect("note");
    // More history records than the copy writes in one statement, so a full batch goes in
    // before the last, partial one.
    for at in 0..600 {
        let more = HistoryEntry::Note {
            at: Timestamp(7_000 + at),
            operator: flows::OperatorId("ana".into()),
            text: format!("note {at}"),
        };
        store
            .append_history(&CustomerId("b".into()), &more)
            .await
            .expect("note");
    }
    store
        .put_pay_token(b"\x00pay", &order.id)
        .await
        .expect("pay token");
    let payment = PaymentSession {
        order: order.id.clone(),
        amount: order.total,
        created_at: Timestamp(7_000),
    };
    store
        .put_payment_session("cs_1", &payment)
        .await
        .expect("payment session");
    let operator = Operator {
        name: "ana".into(),
        display_name: "Ana".into(),
        role: Role::Admin,
        password_hash: "$argon2id$stub".into(),
        created_at: Timestamp(0),
    };
    assert!(
        store
            .put_operator(&operator, false)
            .await
            .expect("operator")
    );
    let session = ConsoleSession {
        operator: "ana".into(),
        csrf: "csrf".into(),
        created_at: Timestamp(0),
        expires_at: Timestamp(i64::MAX),
    };
    store
        .put_console_session(&session_digest, &session)
        .await
        .expect("session");
    let device = KnownDevice {
        operator: "ana".into(),
        expires_at: Timestamp(i64::MAX),
    };
    store
        .put_known_device(b"device", &device)
        .await
        .expect("device");
    let invite = Invite {
        operator: "ana".into(),
        expires_at: Timestamp(i64::MAX),
    };
    store.put_invite(b"invite", &invite).await.expect("invite");
    store
        .put_setup_token(b"setup", Timestamp(8_000))
        .await
        .expect("setup token");
    store
        .put_callback_token("cb-1", "add:mug")
        .await
        .expect("callback token");
    let start = Timestamp(86_400_000 * 30);
    let booking = Booking {
        id: BookingId("a-B1".into()),
        customer: a.clone(),
        service: flows::booking::ServiceId("cut".into()),
        staff: StaffId("ana".into()),
        start,
        end: Timestamp(start.0 + 1_800_000),
        status: BookingStatus::Booked,
        name: "Ana Pop".into(),
        contact: "+40700000000".into(),
        reminders_done: 0,
        confirmed: false,
        calendar_url: None,
        deposit: None,
    };
    let request = BookingRequest::Book {
        busy: Busy {
            booking: booking.id.clone(),
            customer: a.clone(),
            from: booking.start,
            to: booking.end,
            hold_until: None,
        },
        booking: Box::new(booking.clone()),
        replaces: None,
    };
    let link = Some(("https://shop.example/cal/tok-1.ics", "tok-1"));
    store
        .booking_request(&request, &[StaffId("ana".into())], Timestamp(1_000), link)
        .await
        .expect("book");
    assert_eq!(
        store.next_timer_due().await.expect("timers"),
        Some(Timestamp(50_000)),
        "sled's index still says the old time"
    );
    drop(store);
    // Sends recorded by earlier releases, written the way they wrote them: the record
    // under the platform key with an empty `#` entry, and (older) the same record under
    // both keys. Each must be copied once.
    let old_sends = [(901_u64, "wamid.old.b", false), (902, "wamid.old.a", true)];
    {
        let db = sled::Config::new()
            .path(sled_dir.path())
            .open()
            .expect("sled");
        let tree = db.open_tree("sent").expect("sent tree");
        for (outbox_id, platform_id, full_under_both) in old_sends {
            let record = souk::store::codec::encode(&SentRecord {
                customer: a.clone(),
                outbox_id,
                channel: Channel::WhatsApp,
                platform_id: platform_id.into(),
                at: Timestamp(2_500),
            });
            let platform = format!("whatsapp\u{0}{platform_id}").into_bytes();
            let mut by_send = b"#".to_vec();
            by_send.extend_from_slice(&outbox_id.to_be_bytes());
            by_send.extend_from_slice(&platform);
            let index: &[u8] = if full_under_both { &record } else { &[] };
            tree.insert(by_send, index).expect("index");
            tree.insert(platform, record.as_slice()).expect("record");
        }
        db.flush().expect("flush");
    }

    let copied = souk_store_copy(
        sled_dir.path(),
        &postgres_settings(pg_dir.path()).postgres.schema,
    )
    .await;
    let said = String::from_utf8_lossy(&copied.stdout);
    assert!(
        copied.status.success(),
        "{said}{}",
        String::from_utf8_lossy(&copied.stderr)
    );
    assert!(!said.contains("not copied"), "{said}");
    // Each sent record once (whatever its layout), only the true place of each timer, a SKU's sold
    // count and its level as two records.
    for line in [
        "sent records: 3",
        "timers: 1",
        "stock counts: 3",
        "booking links: 1",
    ] {
        assert!(said.contains(line), "{line:?} in {said}");
    }

    let sled = crate::support::open_store(sled_dir.path()).await;
    let pg = crate::support::open_postgres(pg_dir.path()).await;
    macro_rules! same {
        ($($read:tt)+) => {
            assert_eq!(
                pg.$($read)+.await.expect("read PostgreSQL"),
                sled.$($read)+.await.expect("read sled"),
                "{}",
                stringify!($($read)+)
            )
        };
    }
    for identity in [&web, &telegram, &messenger] {
        same!(find_identity(identity));
        same!(is_blocked(identity));
    }
    assert!(pg.is_blocked(&telegram).await.expect("blocked"));
    for id in ["a", "b", "c"] {
        let id = CustomerId(id.into());
        same!(customer(&id));
        same!(conversation(&id));
        same!(history(&id, 1_000));
        same!(summary(&id));
    }
    assert!(pg.history(&a, 100).await.expect("history").contains(&note));
    same!(merged_into(&a));
    same!(pending_inbox());
    same!(step_attempts(waiting.seq));
    same!(set_aside_events());
    same!(outbox(10));
    same!(sent_for(sends[0].id));
    for (outbox_id, platform_id, _) in old_sends {
        let copied = pg.sent_for(outbox_id).await.expect("read PostgreSQL");
        assert_eq!(copied.len(), 1, "{platform_id}: {copied:?}");
        assert_eq!(copied[0].platform_id, platform_id);
        same!(sent_for(outbox_id));
    }
    same!(deliveries(Channel::WhatsApp, "wamid.1"));
    same!(dead_letters());
    same!(orders());
    same!(payment_jobs());
    same!(pay_token(b"\x00pay"));
    same!(payment_session("cs_1"));
    same!(payment_sessions_of(&order.id));
    same!(stock_sold("base-1", &levels));
    assert_eq!(
        pg.stock_sold("base-1", &levels).await.expect("stock"),
        [(Sku("CM-BLUE".into()), 1)]
    );
    same!(operators());
    same!(console_session(&session_digest));
    same!(known_device(b"device"));
    same!(setup_token(b"setup"));
    same!(callback_token("cb-1"));
    same!(calendar());
    same!(bookings());
    same!(booking_by_token("tok-1"));
    same!(take_invite(b"invite"));
    same!(redeem_link_code("LINK-1", Timestamp(10_000)));
    assert_eq!(
        pg.outbox(10).await.expect("outbox").len(),
        1,
        "one send still pending"
    );
    // Only the true due time was copied.
    assert_eq!(
        pg.next_timer_due().await.expect("timers"),
        Some(Timestamp(90_000))
    );
    // Dedup marks came along: the events already taken are duplicates.
    assert_eq!(
        pg.ingest(event("a", "d-1", 1)).await.expect("ingest"),
        Ingested::Duplicate
    );
    assert!(
        !pg.record_delivery("status-1", &status, Timestamp(9_000))
            .await
            .expect("status")
    );
    // New numbers come after every old one (sled numbers them all from one counter).
    let Ingested::New(next) = pg.ingest(event("b", "d-9", 9)).await.expect("ingest") else {
        panic!("new")
    };
    assert!(next.seq > poison.seq, "{} after {}", next.seq, poison.seq);
    let created = pg.commit(step(next.seq, 1, 95_000)).await.expect("commit");
    assert!(created[0].id > sends[2].id, "{created:?} after {sends:?}");
}
