//! The demo provider and order statuses over HTTP: a web chat customer checks out, pays on
//! `/pay/{token}` (twice: one confirmation), the stock drops once; the shop moves the order
//! on through the admin API and `souk order set-status`, and the customer hears each step.

use std::time::Duration;

use serde_json::{Value, json};

use flows::{OrderId, OrderStatus, Sku};
use souk::AppOptions;
use souk::payments::ProviderKind;
use souk::settings::Secret;

use crate::support::{EventStream, TestApp, repo_path, spawn_app_with, test_settings};

const TOKEN: &str = "admin-token-for-tests-0123";
const WAIT: Duration = crate::support::PATIENCE;

/// Collects replies until one's text contains `needle`; returns it.
pub async fn reply_with(events: &mut EventStream, needle: &str) -> Value {
    let replies = events
        .collect_until(WAIT, |seen| {
            seen.iter()
                .any(|r| r["text"].as_str().is_some_and(|t| t.contains(needle)))
        })
        .await;
    replies
        .iter()
        .find(|r| r["text"].as_str().is_some_and(|t| t.contains(needle)))
        .cloned()
        .unwrap_or_else(|| panic!("no reply containing {needle:?} in {replies:#?}"))
}

async fn set_status(app: &TestApp, order: &str, body: Value, token: &str) -> (u16, Value) {
    let response = app
        .client
        .post(format!("{}/api/admin/orders/{order}/status", app.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("admin request");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or_default())
}

/// Presses a button of the demo pay page; the page's status.
pub async fn submit(app: &TestApp, path: &str, outcome: &str) -> u16 {
    app.client
        .post(format!("{}{path}", app.base))
        .form(&[("outcome", outcome)])
        .send()
        .await
        .expect("pay page")
        .status()
        .as_u16()
}

/// The order number a payment-link reply names ("Here is the payment link for ABC-1:").
fn order_id_of(link: &Value) -> String {
    link["text"]
        .as_str()
        .and_then(|t| t.split_whitespace().last())
        .map(|w| w.trim_end_matches(':').to_owned())
        .expect("order id in the text")
}

/// Adds, checks out with `contact` and a delivery address, and waits for the payment link:
/// its reply and the link's path (`/pay/…`).
pub async fn place_order(
    app: &TestApp,
    session: &str,
    events: &mut EventStream,
    adds: &[&str],
    contact: &str,
) -> (Value, String) {
    let checkout = [
        "[checkout]",
        "Ana Pop",
        contact,
        "Str. Lipscani 12, București 030031",
        "[confirm]",
    ];
    for said in adds.iter().chain(checkout.iter()) {
        app.say(session, said).await;
    }
    let link = reply_with(events, "Here is the payment link").await;
    let url = link["link"]["url"].as_str().expect("link url").to_owned();
    let path = url[url.find("/pay/").expect("a /pay/ link")..].to_owned();
    (link, path)
}

#[tokio::test]
async fn demo_payment_then_the_shop_ships_and_the_customer_is_told() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = test_settings(dir.path());
    settings.payments.provider = ProviderKind::Demo;
    settings.admin.token = Some(Secret::new(TOKEN));
    let app = spawn_app_with(settings, AppOptions::default()).await;
    let (mut events, order_id, path) = a_lamp_order(&app).await;

    // The page shows the order, escaped; paying twice confirms once.
    let page = app
        .client
        .get(format!("{}{path}", app.base))
        .send()
        .await
        .expect("pay page");
    assert_eq!(page.status(), 200);
    let html = page.text().await.expect("html");
    assert!(html.contains("Table Lamp"), "{html}");
    assert!(
        html.contains("Delivery to:") && html.contains("Str. Lipscani 12"),
        "the page says where the order goes: {html}"
    );
    assert!(
        html.contains("Test &lt;Shop&gt;"),
        "shop name escaped: {html}"
    );
    for _ in 0..2 {
        assert_eq!(submit(&app, &path, "pay").await, 200);
    }
    let confirmation = reply_with(&mut events, "Payment received").await;
    assert!(
        confirmation["text"]
            .as_str()
            .unwrap_or_default()
            .contains(&order_id)
    );
    let extra = events
        .collect_until(Duration::from_millis(500), |seen| !seen.is_empty())
        .await;
    assert!(
        extra.is_empty(),
        "a second payment said nothing: {extra:#?}"
    );
    let store = app.store().clone();
    let id = OrderId(order_id.clone());
    assert!(crate::support::order_becomes(&store, &id, OrderStatus::Paid).await);
    assert_eq!(
        store
            .stock_sold(&crate::support::demo_catalog_digest(), &[])
            .await
            .expect("sold"),
        vec![(Sku("TL-STD".into()), 1)]
    );

    // The admin API: token, status names, the order's state all checked.
    let shipped = json!({"status": "shipped", "tracking": "https://track.example/T1"});
    assert_eq!(
        set_status(&app, &order_id, shipped.clone(), "wrong-token")
            .await
            .0,
        401
    );
    assert_eq!(
        set_status(&app, &order_id, json!({"status": "teleported"}), TOKEN)
            .await
            .0,
        422
    );
    assert_eq!(
        set_status(
            &app,
            &order_id,
            json!({"status": "shipped", "tracking": "javascript:x"}),
            TOKEN
        )
        .await
        .0,
        422
    );
    assert_eq!(
        set_status(&app, "NOPE-1", shipped.clone(), TOKEN).await.0,
        404
    );
    assert_eq!(
        set_status(&app, &order_id, json!({"status": "pending_payment"}), TOKEN)
            .await
            .0,
        409,
        "payment is never set by hand"
    );
    let (code, body) = set_status(&app, &order_id, shipped, TOKEN).await;
    assert_eq!(code, 202, "{body}");
    let told = reply_with(&mut events, "on its way").await;
    assert_eq!(told["link"]["url"], "https://track.example/T1");

    // The command line does the same against the running souk (run off the runtime's
    // thread: this test's server shares it).
    let port = app.base.rsplit(':').next().expect("port").to_owned();
    let cli = |status: &'static str| {
        let (order_id, port) = (order_id.clone(), port.clone());
        tokio::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_souk"))
                .args(["order", "set-status", &order_id, status, "--config"])
                .arg(repo_path("config/souk.toml"))
                .args(["--url", &format!("http://127.0.0.1:{port}")])
                .env("SOUK__ADMIN__TOKEN", TOKEN)
                .env("RUST_LOG", "error")
                .output()
                .expect("souk runs")
        })
    };
    let output = cli("delivered").await.expect("cli task");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(String::from_utf8_lossy(&output.stdout).contains("shipped → delivered"));
    reply_with(&mut events, "has been delivered").await;
    let refused = cli("shipped").await.expect("cli task");
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("cannot become shipped"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );

    // Without a token the admin API does not exist.
    app.stop().await;
    let dir = tempfile::tempdir().expect("tempdir");
    let app = spawn_app_with(test_settings(dir.path()), AppOptions::default()).await;
    assert_eq!(
        set_status(&app, &order_id, json!({"status": "shipped"}), TOKEN)
            .await
            .0,
        404
    );
    app.stop().await;
}

#[tokio::test]
async fn a_declined_demo_payment_keeps_the_items_and_offers_a_new_link() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = test_settings(dir.path());
    settings.payments.provider = ProviderKind::Demo;
    let app = spawn_app_with(settings, AppOptions::default()).await;
    let session = app.session().await;
    let mut events = app.events(&session).await;
    let (link, path) = place_order(
        &app,
        &session,
        &mut events,
        &["[add:scented-candle]", "2"],
        "+40 721 234 567",
    )
    .await;
    assert_eq!(submit(&app, &path, "decline").await, 200);
    let told = reply_with(&mut events, "did not go through").await;
    let again = told["choices"]
        .as_array()
        .and_then(|c| {
            c.iter()
                .find_map(|c| c["id"].as_str().filter(|id| id.starts_with("payagain:")))
        })
        .expect("a pay-again button")
        .to_owned();
    app.say(&session, &format!("[{again}]")).await;
    let second = reply_with(&mut events, "Here is the payment link").await;
    assert_ne!(second["link"]["url"], link["link"]["url"], "a new link");
    // Junk outcomes and tokens are refused without a trace.
    assert_eq!(submit(&app, &path, "steal").await, 400);
    let unknown = app
        .client
        .get(format!("{}/pay/{}", app.base, "f".repeat(32)))
        .send()
        .await
        .expect("unknown token");
    assert_eq!(unknown.status(), 404);
    app.stop().await;
}

/// Checks out what is in the cart and pays on the demo page.
async fn buy(app: &TestApp, session: &str, events: &mut EventStream, adds: &[&str]) {
    let (_, path) = place_order(app, session, events, adds, "ana@example.ro").await;
    assert_eq!(submit(app, &path, "pay").await, 200);
    reply_with(events, "Payment received").await;
}

/// The cards of the "added to cart" reply after adding one table lamp.
async fn ideas_after_adding_a_lamp(app: &TestApp) -> Vec<String> {
    let session = app.session().await;
    let mut events = app.events(&session).await;
    app.say(&session, "[add:table-lamp]").await;
    app.say(&session, "1").await;
    let added = reply_with(&mut events, "Added").await;
    added["cards"]
        .as_array()
        .map(|cards| {
            cards
                .iter()
                .filter_map(|c| c["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

#[tokio::test]
async fn bought_together_comes_from_paid_orders_and_survives_a_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut settings = test_settings(dir.path());
    settings.payments.provider = ProviderKind::Demo;
    let app = spawn_app_with(settings.clone(), AppOptions::default()).await;
    let before = ideas_after_adding_a_lamp(&app).await;
    assert_eq!(before.len(), 3, "{before:?}");
    assert_ne!(
        before[0], "scented-candle",
        "by price, the candle is not first"
    );

    let session = app.session().await;
    let mut events = app.events(&session).await;
    buy(
        &app,
        &session,
        &mut events,
        &["[add:table-lamp]", "1", "[add:scented-candle]", "1"],
    )
    .await;
    // The confirmation left after the running catalog learnt the order: no wait needed.
    let after = ideas_after_adding_a_lamp(&app).await;
    assert_eq!(
        after.first().map(String::as_str),
        Some("scented-candle"),
        "{after:?}"
    );
    app.stop().await;

    let app = spawn_app_with(settings, AppOptions::default()).await;
    let restarted = ideas_after_adding_a_lamp(&app).await;
    assert_eq!(restarted, after, "rebuilt from the stored paid orders");
    app.stop().await;
}

#[tokio::test]
async fn the_second_payment_for_the_last_unit_is_told_it_sold_out() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The demo catalog with one table lamp left.
    let raw = std::fs::read_to_string(repo_path("config/demo/catalog.json")).expect("catalog");
    let mut catalog: Value = serde_json::from_str(&raw).expect("json");
    for product in catalog["products"].as_array_mut().expect("products") {
        for variant in product["variants"].as_array_mut().expect("variants") {
            if variant["sku"] == "TL-STD" {
                variant["stock"] = json!(1);
            }
        }
    }
    let path = dir.path().join("catalog.json");
    std::fs::write(&path, catalog.to_string()).expect("write");
    let mut settings = test_settings(&dir.path().join("store"));
    settings.shop.catalog = path;
    settings.payments.provider = ProviderKind::Demo;
    let app = spawn_app_with(settings, AppOptions::default()).await;

    let (first, second) = (app.session().await, app.session().await);
    let mut first_events = app.events(&first).await;
    let mut second_events = app.events(&second).await;
    // Both get the last lamp into an order before either pays.
    let adds = ["[add:table-lamp]", "1"];
    let (_, first_page) = place_order(&app, &first, &mut first_events, &adds, "a@example.ro").await;
    let (_, second_page) =
        place_order(&app, &second, &mut second_events, &adds, "b@example.ro").await;
    assert_eq!(submit(&app, &first_page, "pay").await, 200);
    reply_with(&mut first_events, "Payment received").await;
    assert_eq!(submit(&app, &second_page, "pay").await, 200);
    reply_with(&mut second_events, "Payment received").await;
    let told = reply_with(&mut second_events, "sold out just before your payment").await;
    assert!(
        told["text"]
            .as_str()
            .unwrap_or_default()
            .contains("Table Lamp")
    );
    let quiet = first_events
        .collect_until(Duration::from_millis(500), |seen| !seen.is_empty())
        .await;
    assert!(quiet.is_empty(), "the first buyer got the lamp: {quiet:#?}");
    app.stop().await;
}

/// A new web chat customer orders a table lamp to be delivered: their events, the order
/// id and its pay page path.
pub async fn a_lamp_order(app: &TestApp) -> (EventStream, String, String) {
    let session = app.session().await;
    let mut events = app.events(&session).await;
    let (link, path) = place_order(
        app,
        &session,
        &mut events,
        &["[add:table-lamp]", "1"],
        "ana@example.ro",
    )
    .await;
    (events, order_id_of(&link), path)
}

/// souk with the demo provider, agent "ana" logged in to the console, and a web chat
/// customer's unpaid order: the app, the console, the customer's events, the order id and
/// the order's pay page path.
async fn console_and_an_order(
    dir: &std::path::Path,
) -> (
    TestApp,
    crate::console::Console,
    EventStream,
    String,
    String,
) {
    let mut settings = test_settings(dir);
    settings.payments.provider = ProviderKind::Demo;
    let app = spawn_app_with(settings, AppOptions::default()).await;
    crate::console::add_operator(app.store(), "ana", souk::store::Role::Agent).await;
    let console = crate::console::login(&app, "ana").await;
    let (events, order_id, path) = a_lamp_order(&app).await;
    (app, console, events, order_id, path)
}

/// An order opened in the console: its lines, total, delivery and contact, and the moves it
/// can make next; an operator ships it with a tracking link, the customer is told, and an
/// impossible move is refused.
#[tokio::test]
async fn an_operator_opens_an_order_and_ships_it_from_the_console() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (app, console, mut events, order_id, path) = console_and_an_order(dir.path()).await;
    // Unpaid: it cannot be shipped yet.
    let (status, _) = console
        .post(
            &format!("/console/api/orders/{order_id}/status"),
            serde_json::json!({"status": "shipped"}),
        )
        .await;
    assert_eq!(status.as_u16(), 409);
    assert_eq!(submit(&app, &path, "pay").await, 200);
    reply_with(&mut events, "Payment received").await;
    let order = console
        .get(&format!("/console/api/orders/{order_id}"))
        .await;
    assert_eq!(order["status"], "paid");
    assert_eq!(order["contact"], "ana@example.ro");
    assert_eq!(order["fulfilment"]["kind"], "delivery");
    assert!(
        order["lines"][0]["title"]
            .as_str()
            .unwrap_or_default()
            .contains("Table Lamp")
    );
    assert!(
        order["next"]
            .as_array()
            .expect("next")
            .iter()
            .any(|s| s == "shipped")
    );
    let (status, _) = console
        .post(
            &format!("/console/api/orders/{order_id}/status"),
            serde_json::json!({"status": "shipped", "tracking": "https://carrier.example/t/42"}),
        )
        .await;
    assert_eq!(status.as_u16(), 202);
    let told = reply_with(&mut events, "on its way").await;
    assert_eq!(told["link"]["url"], "https://carrier.example/t/42");
    // A return: the shop owes the money back (the customer is told), then pays it.
    let (status, _) = console
        .post(
            &format!("/console/api/orders/{order_id}/status"),
            serde_json::json!({"status": "refund_needed"}),
        )
        .await;
    assert_eq!(status.as_u16(), 202);
    reply_with(&mut events, "arranging a refund").await;
    let order = console
        .get(&format!("/console/api/orders/{order_id}"))
        .await;
    assert_eq!(order["status"], "refund_needed");
    assert_eq!(order["next"], serde_json::json!(["refunded"]));
    // Its history: placed by the customer's checkout, paid by the provider, then each
    // move by hand with who made it.
    let history: Vec<(String, String)> = order["history"]
        .as_array()
        .expect("history")
        .iter()
        .map(|c| {
            (
                c["status"].as_str().unwrap_or_default().to_owned(),
                c["by"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("pending_payment", "customer"),
        ("paid", "payment provider"),
        ("shipped", "Ana"),
        ("refund_needed", "Ana"),
    ]
    .iter()
    .map(|(s, b)| ((*s).to_owned(), (*b).to_owned()))
    .collect();
    assert_eq!(history, expected, "{order:#}");
    assert_eq!(
        order["history"][2]["tracking"],
        "https://carrier.example/t/42"
    );
    // The timeline names a pressed button by the label the customer saw, not its id.
    let customer = order["customer"].as_str().expect("customer");
    let view = console
        .get(&format!("/console/api/conversations/{customer}"))
        .await;
    let said: Vec<&str> = view["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|item| item["kind"] == "in")
        .filter_map(|item| item["text"].as_str())
        .collect();
    assert!(said.contains(&"[pressed “Place order”]"), "{said:#?}");
    app.stop().await;
}

/// A cancelled order that was never paid has nothing to refund: the console offers no
/// refund move and the change is refused, so the customer is never told of a refund.
#[tokio::test]
async fn an_unpaid_cancelled_order_cannot_be_marked_for_a_refund() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (app, console, mut events, order_id, _) = console_and_an_order(dir.path()).await;
    let url = format!("/console/api/orders/{order_id}/status");
    let (status, _) = console
        .post(&url, serde_json::json!({"status": "cancelled"}))
        .await;
    assert_eq!(status.as_u16(), 202);
    reply_with(&mut events, "has been cancelled").await;
    let order = console
        .get(&format!("/console/api/orders/{order_id}"))
        .await;
    assert_eq!(order["status"], "cancelled");
    assert_eq!(order["next"], serde_json::json!([]), "{order:#}");
    for refund in ["refund_needed", "refunded"] {
        let (status, body) = console
            .post(&url, serde_json::json!({"status": refund}))
            .await;
        assert_eq!(status.as_u16(), 409, "{refund}: {body}");
        assert!(body.to_string().contains("never paid"), "{body}");
    }
    app.stop().await;
}
