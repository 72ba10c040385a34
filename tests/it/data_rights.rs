//! A customer's data on request: one customer who wrote on WhatsApp, Telegram and the web
//! chat (all linked), ordered, booked, and was taken over by an operator who replied and left
//! a note; the export holds every kind of record, found by any of their references, through
//! the admin API, the command line and the console (admins only).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use flows::{Channel, CustomerId, Identity};
use serde_json::{Value, json};
use souk::AppOptions;
use souk::settings::Secret;
use souk::store::Role;

use crate::fake_graph::FakeGraph;
use crate::fake_telegram::FakeTelegram;
use crate::support::{PATIENCE, TestApp, repo_path, spawn_app_with};

pub const PHONE: &str = "40712345678";
pub const TELEGRAM_CHAT: i64 = 918_273_645;
pub const ADMIN_TOKEN: &str = "admin-token-for-the-export-test";

fn now_seconds() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0))
}

async fn whatsapp(app: &TestApp, id: &str, text: &str) {
    let body = crate::meta::whatsapp_text_at(id, PHONE, text, &now_seconds().to_string());
    assert_eq!(crate::meta::signed(app, "whatsapp", &body).await, 200);
}

/// The newest button of the web chat's last bot message whose id starts with `prefix`.
async fn last_choice(app: &TestApp, session: &str, prefix: &str) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let history = app.history(session).await;
        let last_bot = history.iter().rev().find(|m| m["from"] == "bot");
        let found = last_bot
            .and_then(|m| m["choices"].as_array())
            .into_iter()
            .flatten()
            .filter_map(|c| c["id"].as_str())
            .find(|id| id.starts_with(prefix))
            .map(str::to_owned);
        if let Some(id) = found {
            return id;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {prefix} button: {history:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Says `said` on the web chat and waits for the bot's answer to it.
async fn web(app: &TestApp, session: &str, said: &str) {
    let before = app
        .history(session)
        .await
        .iter()
        .filter(|m| m["from"] == "bot")
        .count();
    app.say(session, said).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while app
        .history(session)
        .await
        .iter()
        .filter(|m| m["from"] == "bot")
        .count()
        <= before
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no answer to {said:?}"
        );
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
}

async fn find(app: &TestApp, identity: Identity) -> Option<CustomerId> {
    app.store().find_identity(&identity).await.expect("lookup")
}

async fn admin_export(app: &TestApp, reference: &str, text: bool) -> (u16, String) {
    let mut url = reqwest::Url::parse(&app.base).expect("base");
    url.path_segments_mut().expect("path").extend([
        "api",
        "admin",
        "customers",
        reference,
        "export",
    ]);
    if text {
        url.set_query(Some("format=text"));
    }
    let response = app
        .client
        .get(url)
        .bearer_auth(ADMIN_TOKEN)
        .send()
        .await
        .expect("export");
    let status = response.status().as_u16();
    (status, response.text().await.expect("body"))
}

/// The app of these tests: WhatsApp, Telegram, the web chat, appointments, demo payments
/// and the admin API.
/// `store`: another store than sled in `dir`.
pub async fn three_channel_app(
    dir: &std::path::Path,
    graph: &FakeGraph,
    telegram: &FakeTelegram,
    store: Option<souk::store::settings::StoreSettings>,
) -> TestApp {
    let mut settings = crate::meta::settings(dir, graph);
    if let Some(store) = store {
        settings.store = store;
    }
    settings.channels.telegram = crate::telegram::settings(
        dir,
        telegram,
        souk::telegram::settings::TelegramMode::Webhook,
    )
    .channels
    .telegram;
    settings.booking.file = repo_path("config/demo/booking.toml");
    settings.admin.token = Some(Secret::new(ADMIN_TOKEN));
    settings.payments.provider = souk::payments::ProviderKind::Demo;
    spawn_app_with(settings, AppOptions::default()).await
}

/// What `dana` leaves: her customer id, her web chat session, her order's pay page and
/// the console of `boss`, the admin who took her over.
pub struct Dana {
    pub id: CustomerId,
    pub session: String,
    pub pay_path: String,
    pub boss: crate::console::Console,
    pub conversation: String,
}

/// Dana writes on WhatsApp, orders and books on the web chat, links both and her Telegram;
/// an operator (`boss`) takes her over, replies and writes a note.
pub async fn dana(app: &TestApp, graph: &FakeGraph) -> Dana {
    // 1. WhatsApp first.
    whatsapp(app, "wamid.EXPORT1", "hello").await;
    graph.wait_for(1, PATIENCE).await;
    let dana = find(app, Identity::new(Channel::WhatsApp, PHONE))
        .await
        .expect("the WhatsApp customer");

    // 2. On the web chat: an order and an appointment.
    let session = app.session().await;
    for said in [
        "[add:table-lamp]",
        "1",
        "[checkout]",
        "Dana Pop",
        "dana@example.ro",
    ] {
        web(app, &session, said).await;
    }
    web(app, &session, "Str. Lipscani 12, București 030031").await;
    web(app, &session, "[confirm]").await;
    let pay_path = pay_link(app, &session).await;
    web(app, &session, "[book]").await;
    for prefix in ["svc:", "day:", "slot:"] {
        let choice = last_choice(app, &session, prefix).await;
        web(app, &session, &format!("[{choice}]")).await;
    }
    // The name and contact from the order are not asked again.
    let confirm = last_choice(app, &session, "bconfirm").await;
    web(app, &session, &format!("[{confirm}]")).await;

    // 3. The web chat joins the WhatsApp chat with a code sent there.
    let sent = graph.recorded().len();
    whatsapp(app, "wamid.EXPORT2", "link my account").await;
    let recorded = graph.wait_for(sent + 1, PATIENCE).await;
    let code = recorded
        .iter()
        .rev()
        .filter_map(|r| r.body["text"]["body"].as_str())
        .find_map(|text| {
            text.split_whitespace()
                .find(|w| w.starts_with("LK-"))
                .map(|w| w.trim_end_matches(['.', ',']).to_owned())
        })
        .expect("a link code at WhatsApp");
    app.say(&session, &code).await;
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while crate::console::customer_of(app, &session).await != dana {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the web chat not linked"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // 4. Telegram joins by sharing the same phone number.
    let contact = json!({"update_id": 1, "message": {
        "message_id": 1, "date": now_seconds(),
        "chat": {"id": TELEGRAM_CHAT, "type": "private", "first_name": "Dana"},
        "from": {"id": TELEGRAM_CHAT, "is_bot": false, "first_name": "Dana"},
        "contact": {"phone_number": "+40 712 345 678", "first_name": "Dana", "user_id": TELEGRAM_CHAT}
    }});
    let response = app
        .client
        .post(format!("{}/webhooks/telegram", app.base))
        .header("x-telegram-bot-api-secret-token", crate::telegram::SECRET)
        .json(&contact)
        .send()
        .await
        .expect("telegram update");
    assert_eq!(response.status(), 200);
    let deadline = tokio::time::Instant::now() + PATIENCE;
    while find(
        app,
        Identity::new(Channel::Telegram, TELEGRAM_CHAT.to_string()),
    )
    .await
        != Some(dana.clone())
    {
        assert!(
            tokio::time::Instant::now() < deadline,
            "Telegram not linked"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // 5. An operator takes over, replies and writes a note.
    crate::console::add_operator(app.store(), "boss", Role::Admin).await;
    crate::console::add_operator(app.store(), "ana", Role::Agent).await;
    let boss = crate::console::login(app, "boss").await;
    let conversation = format!("/console/api/conversations/{dana}");
    let (status, _) = boss
        .post(&format!("{conversation}/takeover"), json!({}))
        .await;
    assert_eq!(status, 200);
    let (status, _) = boss
        .post(
            &format!("{conversation}/reply"),
            json!({"text": "Hello Dana, Boss here."}),
        )
        .await;
    assert_eq!(status, 202);
    let (status, _) = boss
        .post(
            &format!("{conversation}/notes"),
            json!({"text": "Prefers WhatsApp"}),
        )
        .await;
    assert!(status.is_success(), "{status}");
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let view = boss.get(&conversation).await;
        let told = view["timeline"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|item| {
                item["text"] == "Hello Dana, Boss here."
                    && item["status"].as_str() != Some("pending")
            });
        if told {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the reply was not sent"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    Dana {
        id: dana,
        session,
        pay_path,
        boss,
        conversation,
    }
}

/// The path (`/pay/…`) of the last payment link the web chat got.
async fn pay_link(app: &TestApp, session: &str) -> String {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let found = app.history(session).await.iter().rev().find_map(|m| {
            let url = m["link"]["url"].as_str()?;
            url.find("/pay/").map(|at| url[at..].to_owned())
        });
        if let Some(path) = found {
            return path;
        }
        assert!(tokio::time::Instant::now() < deadline, "no payment link");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn an_export_holds_every_kind_of_record_of_a_customer_on_three_channels() {
    let dir = tempfile::tempdir().expect("temp dir");
    let graph = FakeGraph::start().await;
    let telegram = FakeTelegram::start().await;
    let app = three_channel_app(dir.path(), &graph, &telegram, None).await;
    let Dana {
        id: dana,
        boss,
        conversation,
        ..
    } = dana(&app, &graph).await;

    // The export, by each kind of reference.
    let reference = souk::console::reference(&dana);
    let (status, body) = admin_export(&app, &reference, false).await;
    assert_eq!(status, 200, "{body}");
    let document: Value = serde_json::from_str(&body).expect("JSON");
    assert_eq!(document["format"], souk::data_rights::export::FORMAT);
    assert_eq!(document["customer"], dana.0);
    let channels: Vec<String> = document["record"]["identities"]
        .as_array()
        .into_iter()
        .flatten()
        .chain(
            document["linked_chats"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|chat| chat["identities"].as_array().into_iter().flatten()),
        )
        .filter_map(|i| i["channel"].as_str().map(str::to_owned))
        .collect();
    for channel in ["whatsapp", "telegram", "webchat"] {
        assert!(
            channels.iter().any(|c| c == channel),
            "{channel} in {channels:?}"
        );
    }
    assert_eq!(
        document["profile"]["name"], "Dana Pop",
        "{}",
        document["profile"]
    );
    assert!(
        document["profile"]["contact"]
            .to_string()
            .contains("dana@example.ro")
    );
    assert!(
        document["profile"]["address"]
            .to_string()
            .contains("Lipscani")
    );
    assert!(document["consent"]["cart_reminders"].is_object());
    assert!(document["cart"].is_object());
    assert!(document["discount_codes"].is_array());
    let orders = document["orders"].as_array().expect("orders");
    assert!(
        orders
            .iter()
            .any(|o| o["lines"].to_string().contains("table-lamp")),
        "{orders:?}"
    );
    let bookings = document["bookings"].as_array().expect("bookings");
    assert_eq!(bookings.len(), 1, "{bookings:?}");
    let history = document["history"].as_array().expect("history");
    let said = |text: &str| history.iter().any(|h| h["text"].as_str() == Some(text));
    assert!(said("hello"), "the WhatsApp message");
    assert!(said("Dana Pop"), "a web chat message");
    assert!(said("Hello Dana, Boss here."), "the operator's reply");
    assert!(
        history
            .iter()
            .any(|h| h["from"] == "operator" && h["event"].is_object()),
        "the takeover"
    );
    let notes = document["notes"].as_array().expect("notes");
    assert_eq!(notes[0]["text"], "Prefers WhatsApp");
    let deliveries = document["deliveries"].as_array().expect("deliveries");
    assert!(
        deliveries.iter().any(|d| d["channel"] == "whatsapp"),
        "what became of the WhatsApp replies: {deliveries:?}"
    );
    assert!(document["conversation"].is_object());

    for other in ["+40 712 345 678", &format!("telegram:{TELEGRAM_CHAT}")] {
        let (status, body) = admin_export(&app, other, false).await;
        assert_eq!(status, 200, "{other}: {body}");
        let again: Value = serde_json::from_str(&body).expect("JSON");
        assert_eq!(again["customer"], dana.0, "{other}");
    }
    let (status, text) = admin_export(&app, &reference.to_lowercase(), true).await;
    assert_eq!(status, 200);
    for line in [
        "Dana Pop",
        "Orders",
        "Appointments",
        "Hello Dana, Boss here.",
    ] {
        assert!(text.contains(line), "{line} in the summary:\n{text}");
    }
    assert_eq!(admin_export(&app, "C-000000", false).await.0, 404);
    assert_eq!(admin_export(&app, "not a reference", false).await.0, 404);

    // In the console: admins only.
    let export = format!("{conversation}/export");
    let agent = crate::console::login(&app, "ana").await;
    assert_eq!(agent.get_status(&export).await, 403);
    assert_eq!(boss.get(&export).await["customer"], dana.0);

    // Who looked and what they did is in the audit log, for admins.
    assert_eq!(agent.get_status("/console/api/audit").await, 403);
    let log = boss
        .get(&format!("/console/api/audit?customer={dana}"))
        .await;
    let seen: Vec<(String, String)> = log["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .map(|e| {
            (
                e["actor"].as_str().unwrap_or_default().to_owned(),
                e["action"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for (actor, action) in [
        ("boss", "takeover"),
        ("boss", "view"),
        ("boss", "export"),
        ("admin-api", "export"),
    ] {
        assert!(
            seen.iter().any(|(a, b)| a == actor && b == action),
            "{actor} {action} in {seen:?}"
        );
    }

    // The shop's numbers, for admins: this customer's order and appointment are in them.
    assert_eq!(agent.get_status("/console/api/kpis").await, 403);
    let numbers = boss.get("/console/api/kpis").await;
    let all: Vec<&Value> = numbers["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .filter(|r| r["channel"] == "all")
        .collect();
    let orders: u64 = all.iter().filter_map(|r| r["orders"].as_u64()).sum();
    assert!(orders >= 1, "{numbers}");
    assert_eq!(
        boss.get_status("/console/api/kpis?from=2026-13-01").await,
        400
    );

    // From the command line, through the running souk's admin API.
    // (Off the test's own thread: the app answering it runs there.)
    let out = dir.path().join("dana.json");
    let (base, file) = (app.base.clone(), out.clone());
    let run = tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_souk"))
            .args(["customer", "export", &reference, "--url", &base, "--output"])
            .arg(&file)
            .arg("--config")
            .arg(repo_path("config/souk.toml"))
            .env("SOUK__ADMIN__TOKEN", ADMIN_TOKEN)
            .output()
            .expect("souk runs")
    })
    .await
    .expect("the command ran");
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("written")).expect("JSON");
    assert_eq!(written["customer"], dana.0);
    app.stop().await;
}
