//! Several souk replicas on one PostgreSQL database, in one test process: webhooks and web
//! chat messages land on any replica, and each conversation is stepped by the one replica
//! holding its shard. Skipped where no test database is set (`.ci/run` requires them).

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;

use adapters::meta::signature::sign;
use flows::{Channel, CustomerId, Identity};
use souk::AppOptions;
use souk::settings::Settings;
use souk::store::{HistoryEntry, Store};
use souk::telegram::settings::TelegramMode;

use crate::fake_graph::FakeGraph;
use crate::fake_telegram::FakeTelegram;
use crate::support::{TestApp, postgres_settings, postgres_url, spawn_app_with};

const WAIT: Duration = crate::support::PATIENCE;
const APP_SECRET: &str = "test-app-secret";

/// Conversations per channel and messages per conversation.
const PER_CHANNEL: usize = 34;
const MESSAGES: usize = 10;

/// What each conversation says, in order: two asks with replies told apart by their text,
/// so the order of the replies at the platform can be checked.
fn said(n: usize) -> &'static str {
    if n % 2 == 0 { "help" } else { "cart" }
}

fn replica_settings(dir: &std::path::Path, graph: &FakeGraph, telegram: &FakeTelegram) -> Settings {
    let mut settings = crate::meta::settings(dir, graph);
    settings.store = postgres_settings(dir);
    settings.store.postgres.lease_seconds = 3;
    settings.channels.telegram = crate::telegram::settings(dir, telegram, TelegramMode::Webhook)
        .channels
        .telegram;
    settings
}

/// A small deterministic generator: which replica each message goes to.
struct Dice(u64);

impl Dice {
    fn pick(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) % n as u64) as usize
    }
}

fn whatsapp_body(wamid: &str, from: &str, text: &str) -> Vec<u8> {
    let seconds = (souk::clock::now().millis() / 1000).to_string();
    crate::meta::whatsapp_text_at(wamid, from, text, &seconds)
}

fn telegram_body(chat: i64, update_id: i64, text: &str) -> String {
    json!({"update_id": update_id, "message": {
        "message_id": update_id, "date": souk::clock::now().millis() / 1000,
        "chat": {"id": chat, "type": "private", "first_name": "Ana"},
        "from": {"id": chat, "is_bot": false, "first_name": "Ana", "language_code": "en"},
        "text": text
    }})
    .to_string()
}

/// Posts until accepted: a replica answers 503 while it cannot take the event, and the
/// platform would retry.
async fn deliver(request: impl Fn() -> reqwest::RequestBuilder) {
    for _ in 0..200 {
        match request().send().await {
            Ok(response) if response.status().is_success() => return,
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    panic!("no replica accepted the message");
}

async fn say_whatsapp(app: &TestApp, phone: &str, n: usize) {
    let body = whatsapp_body(&format!("wamid.{phone}.{n}"), phone, said(n));
    let signature = sign(APP_SECRET.as_bytes(), &body);
    deliver(|| {
        app.client
            .post(format!("{}/webhooks/whatsapp", app.base))
            .header("content-type", "application/json")
            .header("x-hub-signature-256", &signature)
            .body(body.clone())
    })
    .await;
}

async fn say_telegram(app: &TestApp, chat: i64, n: usize) {
    let body = telegram_body(chat, chat * 100 + n as i64, said(n));
    deliver(|| {
        app.client
            .post(format!("{}/webhooks/telegram", app.base))
            .header("content-type", "application/json")
            .header("x-telegram-bot-api-secret-token", crate::telegram::SECRET)
            .body(body.clone())
    })
    .await;
}

async fn say_web(app: &TestApp, session: &str, n: usize) {
    let body = json!({"session": session, "text": said(n)}).to_string();
    deliver(|| {
        app.client
            .post(format!("{}/chat/api/messages", app.base))
            .header("content-type", "application/json")
            .body(body.clone())
    })
    .await;
}

/// What the customer said, in the order the store's history has the steps.
async fn inbound_texts(store: &dyn Store, customer: &CustomerId) -> Vec<String> {
    store
        .history(customer, 1000)
        .await
        .expect("history")
        .into_iter()
        .filter_map(|entry| match entry {
            HistoryEntry::In {
                event:
                    flows::Event::Inbound(flows::Inbound {
                        message: flows::InboundMessage::Text(text),
                        ..
                    }),
                ..
            } => Some(text),
            _ => None,
        })
        .collect()
}

fn replies_out(history: &[HistoryEntry]) -> usize {
    history
        .iter()
        .filter(|entry| matches!(entry, HistoryEntry::Out { .. }))
        .count()
}

/// "help" and "cart" answers told apart by their text (the cart stays empty).
fn kind_of(text: &str) -> &'static str {
    if text.contains("cart is empty") {
        "cart"
    } else {
        "help"
    }
}

async fn customer(store: &dyn Store, channel: Channel, id: &str) -> CustomerId {
    let identity = Identity {
        channel,
        external_id: id.to_owned(),
    };
    for _ in 0..200 {
        if let Some(customer) = store.find_identity(&identity).await.expect("identity") {
            return customer;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no customer for {channel}:{id}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_replicas_answer_every_conversation_once_and_in_order() {
    if postgres_url().is_none() {
        eprintln!("skipped: no PostgreSQL here");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let graph = FakeGraph::start().await;
    let telegram = FakeTelegram::start().await;
    let settings = replica_settings(dir.path(), &graph, &telegram);
    let mut replicas = Vec::new();
    for _ in 0..3 {
        replicas.push(spawn_app_with(settings.clone(), AppOptions::default()).await);
    }
    let store = crate::support::open_postgres(dir.path()).await;
    // Every replica holds a share once they have all done a lease round.
    assert!(
        crate::support::eventually_async(WAIT, || async {
            let owners = lease_owners(&dir).await;
            owners.len() == 3 && owners.values().all(|&n| n >= 20)
        })
        .await,
        "the shards are split: {:?}",
        lease_owners(&dir).await
    );

    // The console's live list, open on every replica.
    crate::console::add_operator(&store, "ana", souk::store::Role::Agent).await;
    let mut feeds = Vec::new();
    for replica in &replicas {
        let console = crate::console::login(replica, "ana").await;
        feeds.push(crate::console::console_events(&console).await);
    }

    // Web chat sessions, each listening on a replica picked at random.
    let mut dice = Dice(7);
    let mut sessions = Vec::new();
    let mut streams = Vec::new();
    for _ in 0..PER_CHANNEL {
        let session = replicas[dice.pick(3)].session().await;
        streams.push(replicas[dice.pick(3)].events(&session).await);
        sessions.push(session);
    }

    // Every conversation at once; within one, each message after the last was accepted,
    // each to a replica picked at random.
    let mut talks = Vec::new();
    for (c, session) in sessions.iter().enumerate() {
        let phone = format!("4070000{c:04}");
        let chat = 900_000 + c as i64;
        let session = session.clone();
        let picks: Vec<[usize; 3]> = (0..MESSAGES)
            .map(|_| [dice.pick(3), dice.pick(3), dice.pick(3)])
            .collect();
        let replicas = &replicas;
        talks.push(async move {
            for (n, pick) in picks.iter().enumerate() {
                say_whatsapp(&replicas[pick[0]], &phone, n).await;
                say_telegram(&replicas[pick[1]], chat, n).await;
                say_web(&replicas[pick[2]], &session, n).await;
            }
        });
    }
    futures_util::future::join_all(talks).await;

    // Each conversation's steps in the order it spoke, each message once.
    let expected: Vec<String> = (0..MESSAGES).map(|n| said(n).to_owned()).collect();
    let mut customers = Vec::new();
    for (c, session) in sessions.iter().enumerate() {
        customers.push((
            Channel::WhatsApp,
            format!("4070000{c:04}"),
            customer(store.as_ref(), Channel::WhatsApp, &format!("4070000{c:04}")).await,
        ));
        customers.push((
            Channel::Telegram,
            (900_000 + c).to_string(),
            customer(
                store.as_ref(),
                Channel::Telegram,
                &(900_000 + c).to_string(),
            )
            .await,
        ));
        customers.push((
            Channel::WebChat,
            session.clone(),
            crate::support::web_customer(&replicas[0], session).await,
        ));
    }
    for (channel, id, customer) in &customers {
        let limit = tokio::time::Instant::now() + WAIT;
        let mut texts = inbound_texts(store.as_ref(), customer).await;
        while texts.len() < MESSAGES && tokio::time::Instant::now() < limit {
            tokio::time::sleep(Duration::from_millis(50)).await;
            texts = inbound_texts(store.as_ref(), customer).await;
        }
        assert_eq!(texts, expected, "{channel} {id}: in order, each once");
    }

    // Every reply reached the platform once, in step order.
    let graph_sends = |phone: &str| -> Vec<String> {
        graph
            .recorded()
            .into_iter()
            .filter(|r| r.body["to"] == json!(phone))
            .map(|r| r.body.to_string())
            .collect()
    };
    let telegram_sends = |chat: &str| -> Vec<String> {
        telegram
            .sent()
            .into_iter()
            .filter(|call| call.body["chat_id"].to_string().trim_matches('"') == chat)
            .map(|call| call.body["text"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    let mut web_replies = 0;
    for (index, (channel, id, customer)) in customers.iter().enumerate() {
        let history = store.history(customer, 1000).await.expect("history");
        let out = replies_out(&history);
        assert!(out >= MESSAGES, "{channel} {id}: {out} replies");
        match channel {
            Channel::WhatsApp => {
                let limit = tokio::time::Instant::now() + WAIT;
                while graph_sends(id).len() < out && tokio::time::Instant::now() < limit {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                let sent = graph_sends(id);
                assert_eq!(sent.len(), out, "{id}: each reply sent once: {sent:#?}");
                let kinds: Vec<&str> = sent.iter().map(|s| kind_of(s)).collect();
                assert_eq!(kinds.len(), MESSAGES, "one reply per message: {sent:#?}");
                assert_eq!(kinds, expected, "{id}: replies in order: {sent:#?}");
            }
            Channel::Telegram => {
                let limit = tokio::time::Instant::now() + WAIT;
                while telegram_sends(id).len() < out && tokio::time::Instant::now() < limit {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
                let sent = telegram_sends(id);
                assert_eq!(sent.len(), out, "{id}: each reply sent once: {sent:#?}");
                let kinds: Vec<&str> = sent.iter().map(|s| kind_of(s)).collect();
                assert_eq!(kinds, expected, "{id}: replies in order: {sent:#?}");
            }
            _ => {
                // The tab listening on some replica hears every reply, in order, once.
                let stream = &mut streams[index / 3];
                let replies = stream
                    .collect_until(WAIT, |replies| replies.len() >= out)
                    .await;
                let ids: Vec<u64> = replies
                    .iter()
                    .filter_map(|r| r["id"].as_str()?.parse().ok())
                    .collect();
                let mut sorted = ids.clone();
                sorted.sort_unstable();
                sorted.dedup();
                assert_eq!(ids, sorted, "{id}: in order, none twice: {replies:#?}");
                assert_eq!(ids.len(), out, "{id}: every reply live");
                web_replies += ids.len();
            }
        }
    }
    assert!(web_replies >= PER_CHANNEL * MESSAGES);

    // The live list on every replica heard of conversations stepped on the others.
    for (n, feed) in feeds.iter_mut().enumerate() {
        let mut named: std::collections::HashSet<String> = Default::default();
        while let Some(event) = feed.next_reply(Duration::from_millis(500)).await {
            if let Some(customer) = event["customer"].as_str() {
                named.insert(customer.to_owned());
            }
            if named.len() == customers.len() {
                break;
            }
        }
        assert_eq!(named.len(), customers.len(), "console on replica {n}");
    }

    // Timers: one due now for every conversation fires once, on whichever replica holds it.
    // Of a kind no other test lets fire (the counter is shared by every app in this process).
    const FIRED: &str = "souk_timers_fired_total{kind=\"nlu-wait\"}";
    let fired_before = replicas[0].metric(FIRED).await;
    for (_, _, customer) in &customers {
        let mut commit = crate::support::state_commit(
            store
                .conversation(customer)
                .await
                .expect("read")
                .expect("conversation"),
            souk::clock::now(),
        );
        commit.timers = vec![souk::store::TimerChange::Set(souk::store::TimerEntry {
            customer: customer.clone(),
            kind: flows::TimerKind::NluWait,
            due: souk::clock::now(),
        })];
        store.commit(commit).await.expect("set a timer");
    }
    // A commit from outside the replicas wakes none of them: their next scan (at most 30
    // s apart) finds the timers.
    let all_fired = crate::support::eventually_async(WAIT * 2, || async {
        replicas[0].metric(FIRED).await - fired_before >= customers.len() as f64
    })
    .await;
    assert!(all_fired, "every timer fired");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        replicas[0].metric(FIRED).await - fired_before,
        customers.len() as f64,
        "each timer fired once"
    );

    // What an operator watches: database call times by operation, shards held, leases.
    for op in [
        "group_write",
        "load_step",
        "resolve_identity",
        "lease_round",
        "claim_inbox",
    ] {
        let count = replicas[0]
            .metric(&format!("souk_store_query_seconds_count{{op=\"{op}\"}}"))
            .await;
        assert!(count > 0.0, "{op} timed");
    }
    assert!(replicas[0].metric("souk_lease_moves_total").await >= 64.0);

    for replica in replicas {
        replica.stop().await;
    }
}

/// How many shards each replica holds now.
async fn lease_owners(dir: &tempfile::TempDir) -> HashMap<String, usize> {
    let settings = postgres_settings(dir.path());
    let url = settings.postgres.url.expect("url").expose().to_owned();
    let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .expect("connect");
    let query = format!(
        "SELECT owner, count(*) FROM {}.leases WHERE owner IS NOT NULL AND expires_at > now() GROUP BY owner",
        settings.postgres.schema
    );
    let rows: Vec<(String, i64)> = sqlx::query_as(sqlx::AssertSqlSafe(query))
        .fetch_all(&mut connection)
        .await
        .expect("leases");
    rows.into_iter()
        .map(|(owner, n)| (owner, usize::try_from(n).unwrap_or(0)))
        .collect()
}

#[tokio::test]
async fn the_migration_computes_shards_as_souk_does() {
    let Some(url) = postgres_url() else {
        eprintln!("skipped: no PostgreSQL here");
        return;
    };
    let mut connection = <sqlx::PgConnection as sqlx::Connection>::connect(&url)
        .await
        .expect("connect");
    for n in 0..200u32 {
        let id = format!("{:032x}", u128::from(n).wrapping_mul(0x9e37_79b9_7f4a_7c15));
        let (in_sql,): (i32,) = sqlx::query_as(
            "SELECT (get_byte(sha256(convert_to($1, 'UTF8')), 0) * 256 \
             + get_byte(sha256(convert_to($1, 'UTF8')), 1)) % 64",
        )
        .bind(&id)
        .fetch_one(&mut connection)
        .await
        .expect("query");
        let in_rust = souk::store::shards::shard_of(&CustomerId(id.clone()));
        assert_eq!(in_sql, i32::try_from(in_rust).expect("small"), "{id}");
    }
}

/// Souk processes, killed when the test ends however it ends.
struct Processes(Vec<Option<std::process::Child>>);

impl Drop for Processes {
    fn drop(&mut self) {
        for child in self.0.iter_mut().flatten() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn start_replica(dir: &std::path::Path, graph: &FakeGraph, port: u16) -> std::process::Child {
    let store = postgres_settings(dir);
    std::process::Command::new(env!("CARGO_BIN_EXE_souk"))
        .args(["serve", "--config"])
        .arg(crate::support::repo_path("config/souk.toml"))
        .env("SOUK__SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("SOUK__SERVER__PUBLIC_URL", "https://shop.example")
        .env("SOUK__STORE__BACKEND", "postgres")
        .env(
            "SOUK__STORE__POSTGRES__URL",
            store.postgres.url.expect("url").expose(),
        )
        .env("SOUK__STORE__POSTGRES__SCHEMA", &store.postgres.schema)
        .env("SOUK__STORE__POSTGRES__POOL_SIZE", "6")
        .env("SOUK__STORE__POSTGRES__LEASE_SECONDS", "3")
        .env("SOUK__CHANNELS__WHATSAPP__ENABLED", "true")
        .env("SOUK__CHANNELS__WHATSAPP__APP_SECRET", APP_SECRET)
        .env("SOUK__CHANNELS__WHATSAPP__VERIFY_TOKEN", "verify-me")
        .env("SOUK__CHANNELS__WHATSAPP__ACCESS_TOKEN", "EAAB-token")
        .env("SOUK__CHANNELS__WHATSAPP__PHONE_NUMBER_ID", "1122334455667")
        .env("SOUK__CHANNELS__WHATSAPP__API_BASE", &graph.base)
        .env("SOUK__CHANNELS__WHATSAPP__MESSAGES_PER_SECOND", "100000")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("souk starts")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_replica_killed_under_load_loses_no_acknowledged_message() {
    if postgres_url().is_none() {
        eprintln!("skipped: no PostgreSQL here");
        return;
    }
    const CONVERSATIONS: usize = 60;
    const EACH: usize = 8;
    let dir = tempfile::tempdir().expect("temp dir");
    let graph = FakeGraph::start().await;
    let ports: Vec<u16> = (0..3).map(|_| crate::kill::free_port()).collect();
    let mut processes = Processes(
        ports
            .iter()
            .map(|&port| Some(start_replica(dir.path(), &graph, port)))
            .collect(),
    );
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let bases: Vec<String> = ports
        .iter()
        .map(|port| format!("http://127.0.0.1:{port}"))
        .collect();
    for base in &bases {
        // Three processes migrating and taking leases while other tests run: patience.
        let ready = crate::support::eventually_async(WAIT, || async {
            client
                .get(format!("{base}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status() == 200)
        })
        .await;
        assert!(ready, "replica at {base} did not become ready");
    }
    assert!(
        crate::support::eventually_async(WAIT, || async { lease_owners(&dir).await.len() == 3 })
            .await,
        "three holders: {:?}",
        lease_owners(&dir).await
    );

    // Each conversation speaks in turn to replicas picked at random; a replica that does
    // not answer (killed) has the message sent again to another, as a load balancer would
    // (the same message id: a duplicate is dropped). Halfway through, replica 0 is killed.
    let killed = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let acked = std::sync::Arc::new(std::sync::Mutex::new(HashMap::<String, usize>::new()));
    let mut talks = Vec::new();
    let mut dice = Dice(11);
    for c in 0..CONVERSATIONS {
        let picks: Vec<usize> = (0..EACH * 4).map(|_| dice.pick(3)).collect();
        let (client, bases, acked, killed) =
            (client.clone(), bases.clone(), acked.clone(), killed.clone());
        talks.push(tokio::spawn(async move {
            let phone = format!("4071000{c:04}");
            let mut picks = picks.into_iter().cycle();
            for n in 0..EACH {
                let body = whatsapp_body(&format!("wamid.k.{phone}.{n}"), &phone, said(n));
                let signature = sign(APP_SECRET.as_bytes(), &body);
                loop {
                    let mut pick = picks.next().unwrap_or(1);
                    if pick == 0 && killed.load(std::sync::atomic::Ordering::Acquire) {
                        pick = 1;
                    }
                    let sent = client
                        .post(format!("{}/webhooks/whatsapp", bases[pick]))
                        .header("content-type", "application/json")
                        .header("x-hub-signature-256", &signature)
                        .body(body.clone())
                        .send()
                        .await;
                    if sent.is_ok_and(|r| r.status().is_success()) {
                        *acked
                            .lock()
                            .expect("lock")
                            .entry(phone.clone())
                            .or_default() += 1;
                        break;
                    }
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }));
    }
    // Kill once about half the messages are in.
    let half = CONVERSATIONS * EACH / 2;
    assert!(
        crate::support::eventually(WAIT, || acked.lock().expect("lock").values().sum::<usize>()
            >= half)
        .await
    );
    let sends_before_kill = graph.recorded().len();
    if let Some(mut child) = processes.0[0].take() {
        // SIGKILL: no drain, no lease given back.
        child.kill().expect("kill");
        let _ = child.wait();
    }
    killed.store(true, std::sync::atomic::Ordering::Release);
    let killed_at = std::time::Instant::now();
    for talk in talks {
        talk.await.expect("conversation");
    }

    // Every acknowledged message is answered, each once in the history; the platform got
    // every reply, a few of them twice (sends in flight at the kill, repeated by the new
    // holder with the same idempotency key).
    let store = crate::support::open_postgres(dir.path()).await;
    let acked = acked.lock().expect("lock").clone();
    let mut duplicates = 0;
    for (phone, count) in &acked {
        assert_eq!(*count, EACH, "{phone}: every message acknowledged once");
        let customer = customer(store.as_ref(), Channel::WhatsApp, phone).await;
        let limit = tokio::time::Instant::now() + WAIT * 2;
        let sends = |phone: &str| {
            graph
                .recorded()
                .into_iter()
                .filter(|r| r.body["to"] == json!(phone))
                .count()
        };
        loop {
            let texts = inbound_texts(store.as_ref(), &customer).await;
            if (texts.len() >= EACH && sends(phone) >= EACH) || tokio::time::Instant::now() > limit
            {
                let expected: Vec<String> = (0..EACH).map(|n| said(n).to_owned()).collect();
                assert_eq!(
                    texts, expected,
                    "{phone}: every message stepped once, in order"
                );
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let sent = sends(phone);
        assert!(sent >= EACH, "{phone}: {sent} replies at the platform");
        duplicates += sent - EACH;
    }
    eprintln!(
        "kill test: {} conversations x {EACH} messages; {sends_before_kill} sends before the kill; \
         all answered {:.1} s after it; {duplicates} replies sent twice",
        acked.len(),
        killed_at.elapsed().as_secs_f64()
    );
    assert_eq!(acked.len(), CONVERSATIONS);
    // At most one send group per conversation was in flight at the kill.
    assert!(duplicates <= CONVERSATIONS, "{duplicates} duplicate sends");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn operators_and_customers_on_different_replicas_get_one_winner() {
    use crate::booking::{choice_ids, offered};

    if postgres_url().is_none() {
        eprintln!("skipped: no PostgreSQL here");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = crate::support::test_settings(dir.path());
    settings.store = postgres_settings(dir.path());
    settings.store.postgres.lease_seconds = 3;
    settings.booking.file = crate::support::repo_path("config/demo/booking.toml");
    let one = spawn_app_with(settings.clone(), AppOptions::default()).await;
    let two = spawn_app_with(settings, AppOptions::default()).await;
    assert!(
        crate::support::eventually_async(WAIT, || async { lease_owners(&dir).await.len() == 2 })
            .await
    );

    // Two operators, one on each replica, take the same conversation at once.
    crate::console::add_operator(one.store(), "ana", souk::store::Role::Agent).await;
    crate::console::add_operator(one.store(), "bob", souk::store::Role::Agent).await;
    let ana = crate::console::login(&one, "ana").await;
    let bob = crate::console::login(&two, "bob").await;
    for round in 0..6 {
        let host = if round % 2 == 0 { &one } else { &two };
        let (_, customer) = crate::console::customer_with_a_conversation(host).await;
        crate::console::race_takeover(&ana, &bob, one.store(), &customer, round).await;
    }

    // Two customers, one on each replica, press the same free time at once.
    let mut customers = Vec::new();
    for app in [&one, &two] {
        let session = app.session().await;
        let mut events = app.events(&session).await;
        offered(app, &session, &mut events, "[book]", "svc:").await;
        let days = offered(app, &session, &mut events, "[svc:fitting]", "day:").await;
        let slots = offered(
            app,
            &session,
            &mut events,
            &format!("[{}]", days[0]),
            "slot:",
        )
        .await;
        customers.push((app, session, events, slots[0].clone()));
    }
    let slot = customers[0].3.clone();
    assert_eq!(customers[1].3, slot, "both see the same first free time");
    let mut outcomes = Vec::new();
    let presses = customers.iter_mut().map(|(app, session, events, _)| {
        let slot = slot.clone();
        async move {
            app.say(session, &format!("[{slot}]")).await;
            // Held at once by the replica's own view of the calendar, then confirmed or
            // taken back by the database's answer ("taken", with other times or days).
            let taken = |r: &serde_json::Value| {
                choice_ids(r)
                    .iter()
                    .any(|id| id.starts_with("slot:") || id.starts_with("day:"))
            };
            let replies = events
                .collect_until(Duration::from_secs(5), |seen| seen.iter().any(taken))
                .await;
            replies.iter().any(taken)
        }
    });
    for taken in futures_util::future::join_all(presses).await {
        outcomes.push(!taken);
    }
    assert_eq!(
        outcomes.iter().filter(|held| **held).count(),
        1,
        "exactly one keeps the time: {outcomes:?}"
    );
    assert_eq!(
        one.store()
            .calendar()
            .await
            .expect("calendar")
            .entries()
            .count(),
        1
    );
    one.stop().await;
    two.stop().await;
}

#[tokio::test]
async fn a_big_backlog_is_taken_page_by_page_in_order_once() {
    if postgres_url().is_none() {
        eprintln!("skipped: no PostgreSQL here");
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let store = crate::support::open_postgres(dir.path()).await;
    let event = |n: usize| souk::store::InboxEntry {
        claim: None,
        seq: 0,
        public_id: format!("p-{n}"),
        dedup_key: None,
        customer: CustomerId(format!("c{}", n % 50)),
        event: flows::Event::Inbound(flows::Inbound::new(
            Channel::WebChat,
            flows::InboundMessage::Text(format!("m{n}")),
        )),
        received_at: flows::Timestamp(1),
    };
    let backlog = souk::store::CLAIM_PAGE * 2 + 500;
    for chunk in (0..backlog).collect::<Vec<_>>().chunks(500) {
        store
            .ingest_batch(chunk.iter().map(|&n| event(n)).collect())
            .await
            .expect("ingest");
    }
    let leases = store
        .hold_leases("r1", souk::store::shards::SHARDS, Duration::from_secs(30))
        .await
        .expect("leases");
    assert_eq!(leases.len(), 64, "alone, it holds every shard");
    let mut pages = Vec::new();
    let mut seqs = Vec::new();
    loop {
        let page = store
            .claim_inbox(&leases, souk::store::Take::All)
            .await
            .expect("claim");
        pages.push(page.len());
        seqs.extend(page.iter().map(|claimed| claimed.entry.seq));
        assert!(page.iter().all(|claimed| claimed.entry.claim.is_some()));
        if page.len() < souk::store::CLAIM_PAGE {
            break;
        }
    }
    let page = souk::store::CLAIM_PAGE;
    assert_eq!(pages, vec![page, page, 500]);
    assert_eq!(seqs.len(), backlog, "every event once");
    assert!(
        seqs.windows(2).all(|w| w[0] < w[1]),
        "oldest first, page after page"
    );
    // Taken: a new sweep under the same leases finds nothing.
    assert!(
        store
            .claim_inbox(&leases, souk::store::Take::All)
            .await
            .expect("claim")
            .is_empty()
    );
}
