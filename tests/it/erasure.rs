//! Erasure: Dana (WhatsApp, Telegram and the web chat, linked; a paid order, an appointment,
//! an operator's reply and note) is erased by an admin. Afterwards no key or value of the
//! store, read raw, holds her name, e-mail, address, phone, Telegram chat or web chat
//! session; her paid order stays with its total, stripped; she was told on her last
//! channel. On sled and on PostgreSQL. Then the same through a kill in the middle of an
//! erasure the customer asked for in chat, and the chat flow end to end in five languages.

use std::time::Duration;

use flows::{Channel, CustomerId, Identity, OrderStatus};
use serde_json::{Value, json};
use sha2::Digest as _;
use souk::store::settings::StoreSettings;

use crate::data_rights::{ADMIN_TOKEN, PHONE, TELEGRAM_CHAT, dana, three_channel_app};
use crate::fake_graph::FakeGraph;
use crate::fake_telegram::FakeTelegram;
use crate::support::{PATIENCE, eventually_async, order_becomes, postgres_settings, postgres_url};

/// Every piece of Dana a store must not keep, as written.
fn needles(session: &str) -> Vec<String> {
    let digest = hex::encode(sha2::Sha256::digest(session.as_bytes()));
    vec![
        "Dana".into(),
        "dana@example.ro".into(),
        "Lipscani".into(),
        PHONE.into(),
        TELEGRAM_CHAT.to_string(),
        session.into(),
        digest,
        "Prefers WhatsApp".into(),
        "Boss here".into(),
    ]
}

/// Every key and value of every tree of the sled store at `path`, and its inbox log's files.
fn raw_sled(path: &std::path::Path) -> Vec<Vec<u8>> {
    let db = sled::open(path).expect("open the store raw");
    let mut all = Vec::new();
    for name in db.tree_names() {
        let tree = db.open_tree(&name).expect("tree");
        // Each key and value is prefixed with its tree's name and the key, so a failure says
        // where the needle is.
        let label = String::from_utf8_lossy(&name).into_owned();
        for item in tree.iter() {
            let (key, value) = item.expect("entry");
            let mut tagged = format!("[{label}] ").into_bytes();
            tagged.extend_from_slice(&key);
            tagged.extend_from_slice(b" => ");
            tagged.extend_from_slice(&value);
            all.push(tagged);
        }
    }
    // The logs' files are part of the store: the inbox log (events accepted but not yet
    // stepped) and the history log (every step's history record).
    for log in ["inbox-log", "history-log"] {
        let Ok(files) = std::fs::read_dir(path.join(log)) else {
            continue;
        };
        for file in files {
            let file = file.expect("log file").path();
            let mut tagged = format!("[{log} {}] ", file.display()).into_bytes();
            tagged.extend_from_slice(&std::fs::read(&file).expect("read a log file"));
            all.push(tagged);
        }
    }
    all
}

/// Every row of every table of the store's schema, as PostgreSQL writes it as text (bytea
/// comes out as hex, so the needles are looked for in hex too).
async fn raw_postgres(settings: &StoreSettings) -> Vec<Vec<u8>> {
    let url = postgres_url().expect("a database");
    let pool = sqlx::PgPool::connect(&url).await.expect("connect");
    let tables: Vec<(String,)> = sqlx::query_as(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = $1",
    )
    .bind(&settings.postgres.schema)
    .fetch_all(&pool)
    .await
    .expect("tables");
    let mut all = Vec::new();
    for (table,) in tables {
        let sql = format!("SELECT t::text FROM {}.{table} t", settings.postgres.schema);
        let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .fetch_all(&pool)
            .await
            .expect("rows");
        all.extend(rows.into_iter().map(|(row,)| row.into_bytes()));
    }
    pool.close().await;
    all
}

fn assert_nothing_of(raw: &[Vec<u8>], needles: &[String]) {
    for needle in needles {
        let forms = [
            needle.as_bytes().to_vec(),
            hex::encode(needle.as_bytes()).into_bytes(),
        ];
        for form in &forms {
            let found = raw
                .iter()
                .find(|bytes| bytes.windows(form.len()).any(|w| w == form.as_slice()));
            assert!(
                found.is_none(),
                "{needle:?} is still in the store: {}",
                String::from_utf8_lossy(found.map(Vec::as_slice).unwrap_or_default())
            );
        }
    }
}

async fn erasure_leaves_nothing_personal(store_settings: Option<StoreSettings>) {
    let dir = tempfile::tempdir().expect("temp dir");
    let graph = FakeGraph::start().await;
    let telegram = FakeTelegram::start().await;
    let app = three_channel_app(dir.path(), &graph, &telegram, store_settings.clone()).await;
    let dana = dana(&app, &graph).await;
    let id = dana.id.clone();

    // She pays her order.
    assert_eq!(
        crate::orders::submit(&app, &dana.pay_path, "pay").await,
        200
    );
    let order = app
        .store()
        .orders()
        .await
        .expect("orders")
        .into_iter()
        .find(|o| o.customer == id)
        .expect("her order");
    assert!(order_becomes(app.store(), &order.id, OrderStatus::Paid).await);
    let sent_before = telegram.sent().len();
    if let Some(settings) = &store_settings {
        // The scan below finds what is there: before the erasure, all of it (but the web
        // chat's session token, which is never stored: only its digest is).
        let raw = raw_postgres(settings).await;
        for needle in needles(&dana.session)
            .into_iter()
            .filter(|n| *n != dana.session)
        {
            let hex = hex::encode(needle.as_bytes()).into_bytes();
            assert!(
                raw.iter().any(
                    |bytes| bytes.windows(hex.len()).any(|w| w == hex.as_slice())
                        || bytes.windows(needle.len()).any(|w| w == needle.as_bytes())
                ),
                "{needle} is in the store before the erasure"
            );
        }
    }

    // Agents cannot erase; an admin can.
    let agent = crate::console::login(&app, "ana").await;
    let erase = format!("{}/erase", dana.conversation);
    let (status, _) = agent.post(&erase, json!({})).await;
    assert_eq!(status, 403);
    let (status, answer) = dana.boss.post(&erase, json!({})).await;
    assert_eq!(status, 200, "{answer}");
    assert_eq!(answer["erased"], true);

    // Told on the channel she wrote on last, in her language.
    let calls = telegram.wait_for("sent", sent_before + 1, PATIENCE).await;
    let told = calls[sent_before..].iter().any(|c| {
        c.body["text"]
            .as_str()
            .is_some_and(|t| t.contains("Your data has been deleted"))
    });
    assert!(told, "the last message: {:?}", &calls[sent_before..]);

    // Nothing finds her any more; what stays says when and who.
    let store = app.store();
    assert_eq!(store.customer(&id).await.expect("read"), None);
    assert_eq!(store.conversation(&id).await.expect("read"), None);
    for identity in [
        Identity::new(Channel::WhatsApp, PHONE),
        Identity::new(Channel::Telegram, TELEGRAM_CHAT.to_string()),
    ] {
        assert_eq!(store.find_identity(&identity).await.expect("read"), None);
    }
    let record = store.erasure(&id).await.expect("read").expect("a record");
    assert_eq!(record.by, "boss");
    assert_eq!(record.identity_digests.len(), 3, "{record:?}");
    assert_eq!(record.orders_kept, 1);
    let kept = store.order(&order.id).await.expect("read").expect("kept");
    assert_eq!(kept.total, order.total, "the books keep the money");
    assert_eq!(kept.status, OrderStatus::Paid);
    assert_eq!(kept.name, flows::erasure::ERASED);
    let bookings = store.bookings().await.expect("bookings");
    assert!(
        bookings.iter().all(|b| b.customer != id),
        "her unpaid appointment is gone: {bookings:?}"
    );
    let log = dana
        .boss
        .get(&format!("/console/api/audit?customer={id}"))
        .await;
    assert!(
        log["entries"]
            .as_array()
            .expect("entries")
            .iter()
            .any(|e| e["actor"] == "boss" && e["action"] == "erase"),
        "{log}"
    );
    let phone_export = app
        .client
        .get(format!("{}/api/admin/customers/{PHONE}/export", app.base))
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("export");
    assert_eq!(phone_export.status(), 404);
    // A late event of hers (a timer, a payment callback) starts nothing new: at the next
    // start it is swept with whatever else of hers came in.
    let late = souk::store::InboxEntry {
        claim: None,
        seq: 0,
        public_id: "late".into(),
        dedup_key: None,
        customer: id.clone(),
        event: flows::Event::TimerFired(flows::TimerKind::CartRecovery),
        received_at: souk::clock::now(),
    };
    let souk::store::Ingested::New(late) = store.ingest(late).await.expect("in the inbox") else {
        panic!("not a duplicate");
    };
    app.stop().await;
    let app = three_channel_app(dir.path(), &graph, &telegram, store_settings.clone()).await;
    let store = app.store();
    assert!(
        eventually_async(PATIENCE, || async {
            !store.in_inbox(late.seq).await.unwrap_or(true)
        })
        .await,
        "the late event was taken out"
    );
    assert_eq!(store.conversation(&id).await.expect("read"), None);
    assert_eq!(store.summary(&id).await.expect("read"), None);
    app.stop().await;

    let raw = match &store_settings {
        Some(settings) => raw_postgres(settings).await,
        None => raw_sled(dir.path()),
    };
    assert_nothing_of(&raw, &needles(&dana.session));
}

#[tokio::test]
async fn an_erased_customer_leaves_nothing_personal_in_sled() {
    erasure_leaves_nothing_personal(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_erased_customer_leaves_nothing_personal_in_postgres() {
    if postgres_url().is_none() {
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    erasure_leaves_nothing_personal(Some(postgres_settings(dir.path()))).await;
}

async fn say(client: &reqwest::Client, base: &str, body: Value) {
    let response = client
        .post(format!("{base}/chat/api/messages"))
        .body(body.to_string())
        .send()
        .await
        .expect("message");
    let status = response.status();
    let answer = response.text().await.unwrap_or_default();
    assert_eq!(status, 202, "{body}: {answer}");
}

/// The web chat customer `session` asks in their words; returns the chat once the
/// question came.
async fn ask_to_erase(
    client: &reqwest::Client,
    base: &str,
    session: &str,
    text: &str,
) -> Vec<Value> {
    say(client, base, json!({"session": session, "text": text})).await;
    history_until(client, base, session, |messages| {
        messages
            .iter()
            .any(|m| m["choices"].to_string().contains("eraseok"))
    })
    .await
}

async fn confirm_erasure(client: &reqwest::Client, base: &str, session: &str) {
    say(
        client,
        base,
        json!({"session": session, "action": "eraseok"}),
    )
    .await;
}

async fn history_until(
    client: &reqwest::Client,
    base: &str,
    session: &str,
    done: impl Fn(&[Value]) -> bool,
) -> Vec<Value> {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let messages = crate::kill::chat_history(client, base, session).await;
        if done(&messages) {
            return messages;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "not yet: {messages:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The real binary dies (abort: no drop code, no flush) after working out an erasure the
/// customer confirmed in chat and before its transaction; the next start finishes it.
#[tokio::test]
async fn a_kill_in_the_middle_of_an_erasure_is_finished_by_the_next_start() {
    use crate::kill::free_port;
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("data");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let start = |crash: bool| {
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_souk"));
        command
            .args(["serve", "--config"])
            .arg(crate::support::repo_path("config/souk.toml"))
            .env("SOUK__SERVER__LISTEN", format!("127.0.0.1:{port}"))
            .env("SOUK__STORE__PATH", &path)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        if crash {
            command.env("SOUK_TEST_CRASH_IN_ERASURE", "1");
        }
        command.spawn().expect("souk starts")
    };
    let mut souk = start(true);
    crate::kill::wait_ready(&client, &base).await;
    let session = crate::kill::chat_session(&client, &base, "en").await;
    for text in ["hello", "my name is Zenobia Quartz"] {
        let response = client
            .post(format!("{base}/chat/api/messages"))
            .body(json!({"session": session, "text": text}).to_string())
            .send()
            .await
            .expect("message");
        assert_eq!(response.status(), 202);
    }
    ask_to_erase(&client, &base, &session, "please delete my data").await;
    // The erasure timer fires at once and the process dies in the erasure: the 202 for the
    // confirmation itself may be cut off by it (the confirmation is durable before its 202,
    // so either way the next start finds it).
    let confirmed = client
        .post(format!("{base}/chat/api/messages"))
        .body(json!({"session": session, "action": "eraseok"}).to_string())
        .send()
        .await;
    if let Ok(response) = confirmed {
        assert_eq!(response.status(), 202, "the confirmation is accepted");
    }
    let status = tokio::task::spawn_blocking(move || souk.wait().expect("reaped"))
        .await
        .expect("waited");
    assert!(!status.success(), "souk died in the erasure: {status:?}");
    // Nothing was erased yet: the transaction never ran.
    assert!(
        raw_sled(&path)
            .iter()
            .any(|bytes| bytes.windows(7).any(|w| w == b"Zenobia")),
        "the customer's messages are still there before the restart"
    );

    let mut souk = start(false);
    crate::kill::wait_ready(&client, &base).await;
    let erased = eventually_async(PATIENCE, || async {
        let metrics = client
            .get(format!("{base}/metrics"))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        metrics
            .lines()
            .any(|l| l.starts_with("souk_customers_erased_total") && !l.ends_with(" 0"))
    })
    .await;
    let _ = souk.kill();
    let _ = souk.wait();
    assert!(erased, "the next start carried the erasure out");
    // The last message keeps its address until it is sent; killed before that, it waits in
    // the outbox (and nothing else does).
    let raw: Vec<Vec<u8>> = raw_sled(&path)
        .into_iter()
        .filter(|tagged| {
            !(tagged.starts_with(b"[outbox]") && tagged.windows(11).any(|w| w == b"ErasureDone"))
        })
        .collect();
    assert_nothing_of(
        &raw,
        &[
            "Zenobia".into(),
            session.clone(),
            hex::encode(sha2::Sha256::digest(session.as_bytes())),
        ],
    );
}

/// The chat flow in each shipped language, end to end: asked in the customer's words,
/// confirmed, erased, and the last message in their language on the live stream.
#[tokio::test]
async fn customers_erase_their_data_in_chat_in_five_languages() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = crate::support::spawn_app(dir.path(), souk::AppOptions::default()).await;
    for (locale, asked, ask_says, done_says) in [
        (
            "en",
            "please delete my data",
            "delete your data",
            "Your data has been deleted",
        ),
        (
            "ro",
            "ștergeți-mi datele vă rog",
            "ștergem datele",
            "Datele tale au fost șterse",
        ),
        (
            "pl",
            "usuńcie moje dane",
            "usunęli Twoje dane",
            "Twoje dane zostały usunięte",
        ),
        (
            "lv",
            "lūdzu, izdzēsiet manus datus",
            "dzēšam jūsu datus",
            "Jūsu dati ir dzēsti",
        ),
        (
            "he",
            "תמחקו את הנתונים שלי",
            "למחוק את הנתונים",
            "הנתונים שלך נמחקו",
        ),
    ] {
        let session = crate::kill::chat_session(&app.client, &app.base, locale).await;
        let mut events = app.events(&session).await;
        let history = ask_to_erase(&app.client, &app.base, &session, asked).await;
        let customer: CustomerId = crate::support::web_customer(&app, &session).await;
        confirm_erasure(&app.client, &app.base, &session).await;
        let question = history
            .iter()
            .rev()
            .find(|m| m["choices"].to_string().contains("eraseok"))
            .expect("the question");
        assert!(
            question["text"]
                .as_str()
                .is_some_and(|t| t.contains(ask_says)),
            "{asked}: {question}"
        );
        let last = events
            .collect_until(PATIENCE, |replies| {
                replies
                    .iter()
                    .any(|r| r["text"].as_str().is_some_and(|t| t.contains(done_says)))
            })
            .await;
        assert!(
            last.iter()
                .any(|r| r["text"].as_str().is_some_and(|t| t.contains(done_says))),
            "{asked}: {last:?}"
        );
        assert!(
            app.store()
                .erasure(&customer)
                .await
                .expect("read")
                .is_some_and(|record| record.by == "customer"),
            "{asked}"
        );
    }
    app.stop().await;
}

/// `souk customer erase` asks for `--yes`, then erases through the running souk's admin
/// API; the admin API needs its token.
#[tokio::test]
async fn the_command_line_erases_through_the_admin_api() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = crate::support::test_settings(dir.path());
    settings.admin.token = Some(souk::settings::Secret::new(ADMIN_TOKEN));
    let app = crate::support::spawn_app_with(settings, souk::AppOptions::default()).await;
    let session = app.session().await;
    app.say(&session, "my name is Olek Wrzos").await;
    let customer = crate::support::web_customer(&app, &session).await;
    let digest = hex::encode(sha2::Sha256::digest(session.as_bytes()));
    let reference = format!("webchat:{digest}");

    let unauthorized = app
        .client
        .post(format!(
            "{}/api/admin/customers/{reference}/erase",
            app.base
        ))
        .send()
        .await
        .expect("erase");
    assert_eq!(unauthorized.status(), 401);

    let run = |yes: bool| {
        let (base, reference) = (app.base.clone(), reference.clone());
        tokio::task::spawn_blocking(move || {
            let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_souk"));
            command
                .args(["customer", "erase", &reference, "--url", &base, "--config"])
                .arg(crate::support::repo_path("config/souk.toml"))
                .env("SOUK__ADMIN__TOKEN", ADMIN_TOKEN);
            if yes {
                command.arg("--yes");
            }
            command.output().expect("souk runs")
        })
    };
    let refused = run(false).await.expect("ran");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("--yes"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    assert!(
        app.store()
            .customer(&customer)
            .await
            .expect("read")
            .is_some()
    );
    let done = run(true).await.expect("ran");
    assert!(
        done.status.success(),
        "{}",
        String::from_utf8_lossy(&done.stderr)
    );
    assert!(String::from_utf8_lossy(&done.stdout).contains("erased"));
    assert_eq!(app.store().customer(&customer).await.expect("read"), None);
    let record = app
        .store()
        .erasure(&customer)
        .await
        .expect("read")
        .expect("erased");
    assert_eq!(record.by, "admin-api");
    // Again: nobody by that reference any more.
    let again = run(true).await.expect("ran");
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("404"));
    app.stop().await;
}

/// A short reference two customers share is refused, not resolved to either of them.
#[tokio::test]
async fn a_reference_two_customers_share_is_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = crate::support::open_store(dir.path()).await;
    for id in ["abcdef0011", "abcdef0022"] {
        store
            .commit(crate::support::state_commit(
                flows::Conversation::new(CustomerId(id.into()), flows::Locale::En),
                flows::Timestamp(1),
            ))
            .await
            .expect("commit");
    }
    let found = souk::data_rights::lookup::find(store.as_ref(), "C-ABCDEF")
        .await
        .expect("lookup");
    assert!(
        matches!(
            found,
            Err(souk::data_rights::lookup::LookupError::Ambiguous(_))
        ),
        "{found:?}"
    );
}
