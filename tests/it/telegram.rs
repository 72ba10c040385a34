//! Telegram end to end against a fake Bot API: webhook and long-polling modes, buttons
//! (answered, keyboard retired, cart updated), duplicates, 429 with `retry_after`, and a
//! customer who blocked the bot.

use std::time::Duration;

use serde_json::{Value, json};

use flows::{Channel, Identity};
use souk::AppOptions;
use souk::settings::{Secret, Settings};
use souk::telegram::settings::{TelegramMode, TelegramSettings};

use crate::fake_telegram::{Call, Failure, FakeTelegram, TOKEN};
use crate::support::{TestApp, spawn_app_with, test_settings};

pub const SECRET: &str = "hook-secret_123";
const WAIT: Duration = crate::support::PATIENCE;
const CHAT: i64 = 424_242;

pub fn settings(store: &std::path::Path, fake: &FakeTelegram, mode: TelegramMode) -> Settings {
    let mut settings = test_settings(store);
    if mode == TelegramMode::Webhook {
        settings.server.public_url = "https://shop.example".into();
    }
    settings.channels.telegram = TelegramSettings {
        enabled: true,
        bot_token: Some(Secret::new(TOKEN)),
        webhook_secret: Some(Secret::new(SECRET)),
        payment_provider_token: None,
        api_url: fake.base.clone(),
        mode,
        messages_per_second: 1000,
        chat_gap_ms: 0,
        poll_timeout_seconds: 1,
        request_timeout_ms: 5000,
    };
    settings
}

fn now_seconds() -> i64 {
    souk::clock::now().millis() / 1000
}

fn text_update(update_id: i64, text: &str) -> Value {
    text_update_from(CHAT, update_id, text)
}

fn text_update_from(chat_id: i64, update_id: i64, text: &str) -> Value {
    json!({"update_id": update_id, "message": {
        "message_id": update_id, "date": now_seconds(),
        "chat": {"id": chat_id, "type": "private", "first_name": "Ana"},
        "from": {"id": chat_id, "is_bot": false, "first_name": "Ana", "language_code": "en"},
        "text": text
    }})
}

fn button_update(update_id: i64, message_id: i64, data: &str) -> Value {
    button_update_from(CHAT, update_id, message_id, data)
}

fn button_update_from(chat_id: i64, update_id: i64, message_id: i64, data: &str) -> Value {
    let chat = json!({"id": chat_id, "type": "private", "first_name": "Ana"});
    json!({"update_id": update_id, "callback_query": {
        "id": format!("cq{update_id}"),
        "from": {"id": chat_id, "is_bot": false, "first_name": "Ana"},
        "chat_instance": "ci-1", "data": data,
        "message": {"message_id": message_id, "date": now_seconds(), "chat": chat, "text": "…"}
    }})
}

async fn post(app: &TestApp, secret: Option<&str>, body: &str) -> reqwest::StatusCode {
    let mut request = app
        .client
        .post(format!("{}/webhooks/telegram", app.base))
        .header("content-type", "application/json")
        .body(body.to_owned());
    if let Some(secret) = secret {
        request = request.header("x-telegram-bot-api-secret-token", secret);
    }
    request.send().await.expect("webhook").status()
}

/// Every callback button of a sent message, as (label, data).
fn buttons(call: &Call) -> Vec<(String, String)> {
    let markup = match &call.body["reply_markup"] {
        Value::String(text) => serde_json::from_str(text).unwrap_or(Value::Null),
        other => other.clone(),
    };
    markup["inline_keyboard"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row.as_array().cloned().unwrap_or_default())
        .filter_map(|b| {
            Some((
                b["text"].as_str()?.to_owned(),
                b["callback_data"].as_str()?.to_owned(),
            ))
        })
        .collect()
}

/// Waits for a sent button whose data starts with `prefix`.
async fn wait_for_button(fake: &FakeTelegram, prefix: &str) -> String {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(data) = fake
            .sent()
            .iter()
            .flat_map(buttons)
            .map(|(_, d)| d)
            .find(|d| d.starts_with(prefix))
        {
            return data;
        }
        let sent: Vec<Value> = fake.sent().iter().map(|c| c.body.clone()).collect();
        assert!(
            tokio::time::Instant::now() < deadline,
            "no {prefix} button in {sent:#?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The first button, among everything sent, whose data starts with `prefix`.
fn button(fake: &FakeTelegram, prefix: &str) -> String {
    fake.sent()
        .iter()
        .flat_map(buttons)
        .map(|(_, data)| data)
        .find(|data| data.starts_with(prefix))
        .unwrap_or_else(|| panic!("no button {prefix}…"))
}

async fn cart_lines(app: &TestApp) -> usize {
    let customer = app
        .store()
        .find_identity(&Identity::new(Channel::Telegram, CHAT.to_string()))
        .await
        .expect("lookup")
        .expect("customer");
    app.store()
        .conversation(&customer)
        .await
        .expect("read")
        .expect("conversation")
        .cart
        .lines
        .len()
}

#[tokio::test]
async fn webhook_mode_end_to_end() {
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with(
        settings(dir.path(), &fake, TelegramMode::Webhook),
        AppOptions::default(),
    )
    .await;
    // At start, souk points Telegram at its webhook, with the secret.
    let registered = fake.wait_for("setWebhook", 1, WAIT).await;
    assert_eq!(
        registered[0].body["url"],
        "https://shop.example/webhooks/telegram"
    );
    assert_eq!(registered[0].body["secret_token"], SECRET);

    let hello = text_update(1, "hello").to_string();
    assert_eq!(post(&app, None, &hello).await, 401, "no secret");
    assert_eq!(post(&app, Some("wrong"), &hello).await, 401, "wrong secret");
    assert_eq!(post(&app, Some(SECRET), "{not json").await, 400);
    assert_eq!(
        post(
            &app,
            Some(SECRET),
            r#"{"update_id": 7, "new_kind": {"x": 1}}"#
        )
        .await,
        200,
        "unknown kinds are acknowledged"
    );
    assert_eq!(post(&app, Some(SECRET), &hello).await, 200);
    let sent = fake.wait_for("sent", 1, WAIT).await;
    assert_eq!(sent[0].body["chat_id"], CHAT);
    assert!(!buttons(&sent[0]).is_empty(), "the greeting offers buttons");
    // Telegram redelivers: applied once.
    assert_eq!(post(&app, Some(SECRET), &hello).await, 200);

    // Search, then buttons all the way to the cart.
    assert_eq!(
        post(&app, Some(SECRET), &text_update(2, "mug").to_string()).await,
        200
    );
    fake.wait_for("sent", 2, WAIT).await;
    let add = button(&fake, "add:");
    assert_eq!(
        post(&app, Some(SECRET), &button_update(3, 2, &add).to_string()).await,
        200
    );
    let answered = fake.wait_for("answerCallbackQuery", 1, WAIT).await;
    assert_eq!(answered[0].body["callback_query_id"], "cq3");
    let retired = fake.wait_for("editMessageReplyMarkup", 1, WAIT).await;
    assert_eq!(
        retired[0].body["message_id"], 2,
        "the old keyboard is removed"
    );
    let variant = wait_for_button(&fake, "var:").await;
    assert_eq!(
        post(
            &app,
            Some(SECRET),
            &button_update(4, 3, &variant).to_string()
        )
        .await,
        200
    );
    let quantity = wait_for_button(&fake, "qty:").await;
    assert_eq!(
        post(
            &app,
            Some(SECRET),
            &button_update(5, 4, &quantity).to_string()
        )
        .await,
        200
    );
    let deadline = tokio::time::Instant::now() + WAIT;
    while cart_lines(&app).await == 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        cart_lines(&app).await,
        1,
        "the button press put the mug in the cart"
    );
    // The duplicate "hello" produced nothing: one greeting in all.
    let greetings = fake
        .sent()
        .iter()
        .filter(|c| {
            c.body["text"]
                .as_str()
                .is_some_and(|t| t.contains("Welcome"))
        })
        .count();
    assert_eq!(greetings, 1);
    app.stop().await;
}

#[tokio::test]
async fn polling_mode_without_a_public_url() {
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with(
        settings(dir.path(), &fake, TelegramMode::Auto),
        AppOptions::default(),
    )
    .await;
    fake.wait_for("deleteWebhook", 1, WAIT).await;
    // The webhook route is not in use in polling mode.
    assert_eq!(
        post(&app, Some(SECRET), &text_update(1, "x").to_string()).await,
        404
    );
    fake.push_update(text_update(10, "hello"));
    let sent = fake.wait_for("sent", 1, WAIT).await;
    assert_eq!(sent.len(), 1);
    let browse = button(&fake, "browse");
    fake.push_update(button_update(11, 1, &browse));
    fake.wait_for("answerCallbackQuery", 1, WAIT).await;
    let sent = fake.wait_for("sent", 2, WAIT).await;
    assert!(sent.len() >= 2, "the categories came after the press");
    // Each update was confirmed by the next offset and applied once.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = fake.sent().len();
    assert_eq!(fake.calls("answerCallbackQuery").len(), 1);
    assert!(after <= 3, "nothing applied twice: {after}");
    app.stop().await;
}

#[tokio::test]
async fn throttled_sends_wait_retry_after_and_deliver_once() {
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with(
        settings(dir.path(), &fake, TelegramMode::Webhook),
        AppOptions::default(),
    )
    .await;
    fake.fail_next(Failure::Throttled(1));
    assert_eq!(
        post(&app, Some(SECRET), &text_update(1, "hello").to_string()).await,
        200
    );
    let failed = fake.wait_for("sendMessage:failed", 1, WAIT).await;
    let sent = fake.wait_for("sent", 1, WAIT).await;
    assert_eq!(sent.len(), 1, "delivered once");
    let waited = sent[0].at.duration_since(failed[0].at);
    assert!(waited >= Duration::from_millis(950), "waited {waited:?}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(fake.sent().len(), 1, "and only once");
    app.stop().await;
}

#[tokio::test]
async fn a_customer_who_blocked_the_bot_gets_nothing_until_they_write_again() {
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with(
        settings(dir.path(), &fake, TelegramMode::Webhook),
        AppOptions::default(),
    )
    .await;
    fake.fail_next(Failure::Blocked);
    assert_eq!(
        post(&app, Some(SECRET), &text_update(1, "hello").to_string()).await,
        200
    );
    fake.wait_for("sendMessage:failed", 1, WAIT).await;
    let identity = Identity::new(Channel::Telegram, CHAT.to_string());
    let deadline = tokio::time::Instant::now() + WAIT;
    while !app.store().is_blocked(&identity).await.expect("read")
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(app.store().is_blocked(&identity).await.expect("read"));
    let letters = app.store().dead_letters().await.expect("dead letters");
    assert!(
        letters.iter().any(|l| l.reason.contains("blocked")),
        "{letters:?}"
    );
    assert!(fake.sent().is_empty());
    // Writing again lifts the block.
    assert_eq!(
        post(
            &app,
            Some(SECRET),
            &text_update(2, "hello again").to_string()
        )
        .await,
        200
    );
    let sent = fake.wait_for("sent", 1, WAIT).await;
    assert_eq!(sent.len(), 1);
    assert!(!app.store().is_blocked(&identity).await.expect("read"));
    app.stop().await;
}

/// Messages to one chat (JSON calls carry the id as a number, multipart ones as text).
fn sent_to(fake: &FakeTelegram, chat: i64) -> usize {
    let text = chat.to_string();
    fake.sent()
        .iter()
        .filter(|c| c.body["chat_id"] == chat || c.body["chat_id"].as_str() == Some(text.as_str()))
        .count()
}

/// Posts an update to the webhook and waits until the bot has answered that chat.
async fn send_and_wait(app: &TestApp, fake: &FakeTelegram, chat: i64, update: &Value) {
    let before = sent_to(fake, chat);
    assert_eq!(post(app, Some(SECRET), &update.to_string()).await, 200);
    let deadline = tokio::time::Instant::now() + WAIT;
    while sent_to(fake, chat) == before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "no answer to {update}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Drives one Telegram customer through checkout with `quantity` evening dresses (red, L),
/// one update at a time, each after the bot answered the previous one; returns the update
/// id to go on from.
async fn order_dresses(
    app: &TestApp,
    fake: &FakeTelegram,
    chat: i64,
    mut update: i64,
    quantity: u32,
) -> i64 {
    let steps: Vec<Value> = vec![
        button_update_from(chat, update, 1, "add:evening-dress"),
        button_update_from(chat, update + 1, 1, "var:ED-L-RED"),
        button_update_from(chat, update + 2, 1, &format!("qty:ED-L-RED:{quantity}")),
        button_update_from(chat, update + 3, 1, "checkout"),
        text_update_from(chat, update + 4, "Ana Popescu"),
        text_update_from(chat, update + 5, "+40 721 234 567"),
        text_update_from(chat, update + 6, "Strada Lipscani 12, Bucuresti 030031"),
        button_update_from(chat, update + 7, 1, "confirm"),
    ];
    for step in steps {
        send_and_wait(app, fake, chat, &step).await;
        update += 1;
    }
    update
}

fn pre_checkout_update(update_id: i64, chat_id: i64, invoice: &Value) -> Value {
    let amount: i64 = invoice["prices"]
        .as_array()
        .expect("prices")
        .iter()
        .map(|p| p["amount"].as_i64().expect("amount"))
        .sum();
    json!({"update_id": update_id, "pre_checkout_query": {
        "id": format!("pcq{update_id}"),
        "from": {"id": chat_id, "is_bot": false, "first_name": "Ana"},
        "currency": invoice["currency"], "total_amount": amount,
        "invoice_payload": invoice["payload"]
    }})
}

fn payment_update(update_id: i64, chat_id: i64, invoice: &Value, charge: &str) -> Value {
    let amount: i64 = invoice["prices"]
        .as_array()
        .expect("prices")
        .iter()
        .map(|p| p["amount"].as_i64().expect("amount"))
        .sum();
    json!({"update_id": update_id, "message": {
        "message_id": update_id, "date": now_seconds(),
        "chat": {"id": chat_id, "type": "private", "first_name": "Ana"},
        "from": {"id": chat_id, "is_bot": false, "first_name": "Ana"},
        "successful_payment": {
            "currency": invoice["currency"], "total_amount": amount,
            "invoice_payload": invoice["payload"],
            "telegram_payment_charge_id": charge, "provider_payment_charge_id": format!("prov-{charge}")
        }
    }})
}

#[tokio::test]
async fn telegram_payments_check_stock_and_pay_once() {
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = settings(dir.path(), &fake, TelegramMode::Webhook);
    config.channels.telegram.payment_provider_token = Some(Secret::new("284685063:TEST:provider"));
    let app = spawn_app_with(config, AppOptions::default()).await;
    const ANA: i64 = 5001;
    const BOB: i64 = 5002;
    // Ana orders all three red dresses in L; Bob orders one.
    let next = order_dresses(&app, &fake, ANA, 100, 3).await;
    let next = order_dresses(&app, &fake, BOB, next, 1).await;
    let invoices = fake.wait_for("createInvoiceLink", 2, WAIT).await;
    assert_eq!(invoices.len(), 2, "one invoice per order");
    let invoice_of = |amount_units: usize| {
        invoices
            .iter()
            .find(|c| {
                c.body["prices"].as_array().is_some_and(|p| {
                    p.len() == 1
                        && p[0]["label"]
                            .as_str()
                            .is_some_and(|l| l.starts_with(&format!("{amount_units} ×")))
                })
            })
            .expect("invoice")
            .body
            .clone()
    };
    let (ana_invoice, bob_invoice) = (invoice_of(3), invoice_of(1));
    assert_eq!(ana_invoice["provider_token"], "284685063:TEST:provider");
    // The link reaches the customer as a button to the invoice.
    let linked = fake.sent().iter().any(|c| {
        c.body["chat_id"] == ANA
            && c.body["reply_markup"]
                .to_string()
                .contains("https://t.me/$invoice")
    });
    assert!(linked, "the invoice link was sent");

    // Bob pays first: asked, answered yes, paid (the update comes twice), paid once.
    assert_eq!(
        post(
            &app,
            Some(SECRET),
            &pre_checkout_update(next, BOB, &bob_invoice).to_string()
        )
        .await,
        200
    );
    let answers = fake.wait_for("answerPreCheckoutQuery", 1, WAIT).await;
    assert_eq!(answers[0].body["ok"], true, "{}", answers[0].body);
    let paid = payment_update(next + 1, BOB, &bob_invoice, "charge-bob").to_string();
    let paid_again = payment_update(next + 2, BOB, &bob_invoice, "charge-bob").to_string();
    assert_eq!(post(&app, Some(SECRET), &paid).await, 200);
    assert_eq!(post(&app, Some(SECRET), &paid_again).await, 200);
    let bob_order =
        souk::payments::telegram::order_of(bob_invoice["payload"].as_str().expect("payload"))
            .expect("order");
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let order = app
            .store()
            .order(&bob_order)
            .await
            .expect("read")
            .expect("order");
        if order.status == flows::OrderStatus::Paid {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "Bob's order is not paid: {:?}",
            order.status
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let confirmations = fake
        .sent()
        .iter()
        .filter(|c| {
            c.body["chat_id"] == BOB
                && c.body["text"]
                    .as_str()
                    .is_some_and(|t| t.contains(&bob_order.0) && t.to_lowercase().contains("paid"))
        })
        .count();
    assert_eq!(confirmations, 1, "confirmed once");

    // Now only two red dresses are left: Ana's payment for three is refused before any money moves.
    assert_eq!(
        post(
            &app,
            Some(SECRET),
            &pre_checkout_update(next + 3, ANA, &ana_invoice).to_string()
        )
        .await,
        200
    );
    let answers = fake.wait_for("answerPreCheckoutQuery", 2, WAIT).await;
    assert_eq!(answers[1].body["ok"], false);
    assert!(
        answers[1].body["error_message"]
            .as_str()
            .expect("reason")
            .contains("sold out"),
        "{}",
        answers[1].body
    );
    // A tampered amount is refused too.
    let mut tampered = pre_checkout_update(next + 4, BOB, &bob_invoice);
    tampered["pre_checkout_query"]["total_amount"] = json!(1);
    assert_eq!(post(&app, Some(SECRET), &tampered.to_string()).await, 200);
    let answers = fake.wait_for("answerPreCheckoutQuery", 3, WAIT).await;
    assert_eq!(answers[2].body["ok"], false);
    // A successful payment of another amount or currency than Ana's order (an invoice made
    // before the order changed) is noted for the operators and never confirms it.
    let ana_order =
        souk::payments::telegram::order_of(ana_invoice["payload"].as_str().expect("payload"))
            .expect("order");
    let mut cheap = payment_update(next + 5, ANA, &ana_invoice, "charge-cheap");
    cheap["message"]["successful_payment"]["total_amount"] = json!(1);
    let mut dollars = payment_update(next + 6, ANA, &ana_invoice, "charge-usd");
    dollars["message"]["successful_payment"]["currency"] = json!("USD");
    // The recorder is shared by every test in this process: only this test refuses Telegram
    // payments, so its series moves by exactly two.
    let refused = r#"souk_payments_refused_total{provider="telegram""#;
    let before = app.metric(refused).await;
    for update in [cheap, dollars] {
        assert_eq!(post(&app, Some(SECRET), &update.to_string()).await, 200);
    }
    assert_eq!(app.metric(refused).await - before, 2.0);
    let store = app.store().clone();
    let settled = crate::support::eventually_async(WAIT, || async {
        store
            .pending_inbox()
            .await
            .map(|p| p.is_empty())
            .unwrap_or(false)
    })
    .await;
    assert!(settled);
    let order = store.order(&ana_order).await.expect("read").expect("order");
    assert_eq!(order.status, flows::OrderStatus::PendingPayment);
    app.stop().await;
}

/// The last text the bot sent to a chat.
fn last_text_to(fake: &FakeTelegram, chat: i64) -> String {
    let text = chat.to_string();
    fake.sent()
        .iter()
        .rev()
        .find(|c| c.body["chat_id"] == chat || c.body["chat_id"].as_str() == Some(text.as_str()))
        .and_then(|c| c.body["text"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Posts a message and waits for the bot's answer to that chat.
async fn say_on_telegram(
    app: &TestApp,
    fake: &FakeTelegram,
    chat: i64,
    update: i64,
    text: &str,
) -> String {
    send_and_wait(app, fake, chat, &text_update_from(chat, update, text)).await;
    // Replies of several parts: let them all arrive.
    tokio::time::sleep(Duration::from_millis(200)).await;
    last_text_to(fake, chat)
}

#[tokio::test]
async fn a_link_code_from_the_web_chat_brings_the_cart_to_telegram() {
    let fake = FakeTelegram::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with(
        settings(dir.path(), &fake, TelegramMode::Webhook),
        AppOptions::default(),
    )
    .await;
    // On the web chat: a mug in the cart, then a link code.
    let session = app.session().await;
    let mut events = app.events(&session).await;
    for said in ["[add:ceramic-mug]", "[var:CM-BLUE]", "2"] {
        app.say(&session, said).await;
        events.next_reply(WAIT).await.expect("answer");
    }
    // Related products may follow the "added" reply.
    while events
        .next_reply(Duration::from_millis(300))
        .await
        .is_some()
    {}
    app.say(&session, "link my account").await;
    let issued = events.next_reply(WAIT).await.expect("the code");
    let text = issued["text"].as_str().expect("text").to_owned();
    let code = text
        .split_whitespace()
        .find(|w| w.starts_with("LK-"))
        .map(|w| w.trim_end_matches(['.', ',']).to_owned())
        .unwrap_or_else(|| panic!("no code in {text}"));

    // On Telegram: a wrong code, then the right one.
    let wrong = say_on_telegram(&app, &fake, CHAT, 1, "LK-222222").await;
    assert!(wrong.contains("doesn't match"), "{wrong}");
    let linked = say_on_telegram(&app, &fake, CHAT, 2, &code.to_lowercase()).await;
    assert!(
        linked.contains("linked") && linked.contains("2 items"),
        "{linked}"
    );
    let cart = say_on_telegram(&app, &fake, CHAT, 3, "cart").await;
    assert!(
        cart.contains("Ceramic Mug"),
        "the same cart on Telegram: {cart}"
    );
    let web = app
        .store()
        .find_identity(&Identity::new(Channel::Telegram, CHAT.to_string()))
        .await
        .expect("lookup")
        .expect("customer");
    let conversation = app
        .store()
        .conversation(&web)
        .await
        .expect("read")
        .expect("conversation");
    assert_eq!(conversation.reach.last_channel, Some(Channel::Telegram));
    assert_eq!(
        app.store().merged_into(&web).await.expect("records").len(),
        1,
        "the merge is recorded"
    );
    // The console shows the link; an agent may not undo it, an admin may.
    crate::console::add_operator(app.store(), "ana", souk::store::Role::Agent).await;
    crate::console::add_operator(app.store(), "boss", souk::store::Role::Admin).await;
    let boss = crate::console::login(&app, "boss").await;
    let view = boss.get(&format!("/console/api/conversations/{web}")).await;
    let linked = view["links"][0]["customer"]
        .as_str()
        .expect("a link")
        .to_owned();
    assert_eq!(view["links"][0]["identities"][0]["channel"], "telegram");
    let unlink = format!("/console/api/conversations/{web}/unlink");
    let agent = crate::console::login(&app, "ana").await;
    let (status, _) = agent.post(&unlink, json!({"customer": linked})).await;
    assert_eq!(status, reqwest::StatusCode::FORBIDDEN);
    let (status, _) = boss.post(&unlink, json!({"customer": linked})).await;
    assert_eq!(status, reqwest::StatusCode::OK);
    let telegram = Identity::new(Channel::Telegram, CHAT.to_string());
    assert_eq!(
        app.store()
            .find_identity(&telegram)
            .await
            .expect("lookup")
            .map(|c| c.0),
        Some(linked),
        "the Telegram chat is its own customer again"
    );
    assert!(
        app.store()
            .merged_into(&web)
            .await
            .expect("records")
            .is_empty()
    );
    let web_conversation = app
        .store()
        .conversation(&web)
        .await
        .expect("read")
        .expect("conversation");
    assert_eq!(web_conversation.reach.last_channel, Some(Channel::WebChat));
    assert_eq!(
        web_conversation.cart.item_count(),
        2,
        "the web chat keeps its cart"
    );

    // The code worked once; another chat cannot use it again, also not by deep link.
    let reused = say_on_telegram(&app, &fake, 777, 10, &format!("/start {code}")).await;
    assert!(reused.contains("already used"), "{reused}");
    // Guessing is limited: five wrong codes, then a wait.
    for n in 0..5 {
        let answer = say_on_telegram(&app, &fake, 888, 20 + n, &format!("LK-33333{}", n + 2)).await;
        assert!(answer.contains("doesn't match"), "{answer}");
    }
    let limited = say_on_telegram(&app, &fake, 888, 30, &code).await;
    assert!(limited.contains("Too many"), "{limited}");
    app.stop().await;
}

#[tokio::test]
async fn sharing_ones_own_phone_on_telegram_joins_the_whatsapp_chat_of_that_number() {
    let fake = FakeTelegram::start().await;
    let graph = crate::fake_graph::FakeGraph::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = crate::meta::settings(dir.path(), &graph);
    config.channels.telegram = settings(dir.path(), &fake, TelegramMode::Webhook)
        .channels
        .telegram;
    let app = spawn_app_with(config, AppOptions::default()).await;
    // The customer first wrote on WhatsApp.
    let wa = json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": "1122334455667"},
        "contacts": [{"profile": {"name": "Dana"}, "wa_id": "40712345678"}],
        "messages": [{"from": "40712345678", "id": "wamid.P1", "timestamp": now_seconds().to_string(), "type": "text", "text": {"body": "hello"}}]
    }}]}]}).to_string();
    assert_eq!(
        crate::meta::signed(&app, "whatsapp", wa.as_bytes()).await,
        200
    );
    graph.wait_for(1, WAIT).await;
    let whatsapp = app
        .store()
        .find_identity(&Identity::new(Channel::WhatsApp, "40712345678"))
        .await
        .expect("lookup")
        .expect("customer");
    // On Telegram, someone else's contact links nothing; their own does.
    let contact = |update: i64, user_id: i64, phone: &str| {
        json!({"update_id": update, "message": {
            "message_id": update, "date": now_seconds(),
            "chat": {"id": CHAT, "type": "private", "first_name": "Dana"},
            "from": {"id": CHAT, "is_bot": false, "first_name": "Dana"},
            "contact": {"phone_number": phone, "first_name": "Dana", "user_id": user_id}
        }})
        .to_string()
    };
    assert_eq!(
        post(&app, Some(SECRET), &contact(1, 999, "+40 712 345 678")).await,
        200
    );
    fake.wait_for("sent", 1, WAIT).await;
    let telegram = Identity::new(Channel::Telegram, CHAT.to_string());
    assert_ne!(
        app.store().find_identity(&telegram).await.expect("lookup"),
        Some(whatsapp.clone())
    );
    let own = serde_json::from_str(&contact(2, CHAT, "+40 712 345 678")).expect("json");
    send_and_wait(&app, &fake, CHAT, &own).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        last_text_to(&fake, CHAT).contains("linked"),
        "{}",
        last_text_to(&fake, CHAT)
    );
    assert_eq!(
        app.store().find_identity(&telegram).await.expect("lookup"),
        Some(whatsapp)
    );
    app.stop().await;
}

/// A signed WhatsApp webhook with one message `body` (a `messages[]` item without `from`,
/// `id` and `timestamp`) from Dana.
async fn whatsapp_says(app: &TestApp, id: &str, message: Value) -> reqwest::StatusCode {
    let mut message = message;
    message["from"] = json!("40799999999");
    message["id"] = json!(id);
    message["timestamp"] = json!(now_seconds().to_string());
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": "1122334455667"},
        "contacts": [{"profile": {"name": "Dana"}, "wa_id": "40799999999"}],
        "messages": [message]
    }}]}]})
    .to_string();
    crate::meta::signed(app, "whatsapp", body.as_bytes()).await
}

#[tokio::test]
async fn a_cart_started_on_whatsapp_is_paid_on_telegram() {
    let fake = FakeTelegram::start().await;
    let graph = crate::fake_graph::FakeGraph::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = crate::meta::settings(dir.path(), &graph);
    config.channels.telegram = settings(dir.path(), &fake, TelegramMode::Webhook)
        .channels
        .telegram;
    config.payments.provider = souk::payments::ProviderKind::Demo;
    let app = spawn_app_with(config, AppOptions::default()).await;
    // WhatsApp: two blue mugs from the shop's catalog, then a link code.
    let order = json!({"type": "order", "order": {"catalog_id": "1", "text": "", "product_items": [
        {"product_retailer_id": "CM-BLUE", "quantity": 2, "item_price": 14, "currency": "EUR"}
    ]}});
    assert_eq!(whatsapp_says(&app, "wamid.L1", order).await, 200);
    graph.wait_for(1, WAIT).await;
    let before = graph.recorded().len();
    let ask = json!({"type": "text", "text": {"body": "link my account"}});
    assert_eq!(whatsapp_says(&app, "wamid.L2", ask).await, 200);
    let sent = graph.wait_for(before + 1, WAIT).await;
    let text = sent.last().expect("the code").body.to_string();
    let code = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .find(|w| w.starts_with("LK-"))
        .unwrap_or_else(|| panic!("no code in {text}"))
        .to_owned();
    // Telegram: the code, then the same cart, checked out and paid.
    let linked = say_on_telegram(&app, &fake, CHAT, 1, &code).await;
    assert!(linked.contains("2 items"), "{linked}");
    // News should come to Telegram from now on.
    send_and_wait(&app, &fake, CHAT, &button_update(100, 1, "preferhere")).await;
    let steps = [
        button_update(2, 1, "checkout"),
        text_update(3, "Dana Pop"),
        text_update(4, "+40 799 999 999"),
        text_update(5, "Strada Lipscani 12, Bucuresti 030031"),
        button_update(6, 1, "confirm"),
    ];
    for step in steps {
        send_and_wait(&app, &fake, CHAT, &step).await;
    }
    // The payment link arrives on Telegram, where the customer is now.
    let deadline = tokio::time::Instant::now() + WAIT;
    let url = loop {
        let found = fake.sent().iter().find_map(|c| {
            let markup = c.body["reply_markup"].to_string();
            markup.find("/pay/").map(|at| {
                markup[at..]
                    .split('"')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            })
        });
        if let Some(url) = found {
            break url;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no payment link on Telegram"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // The customer writes on WhatsApp meanwhile; the payment news still goes to Telegram.
    let before = graph.recorded().len();
    let thanks = json!({"type": "text", "text": {"body": "thanks"}});
    assert_eq!(whatsapp_says(&app, "wamid.L3", thanks).await, 200);
    graph.wait_for(before + 1, WAIT).await;
    assert_eq!(crate::orders::submit(&app, &url, "pay").await, 200);
    let deadline = tokio::time::Instant::now() + WAIT;
    while !last_text_to(&fake, CHAT).contains("Payment received") {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{}",
            last_text_to(&fake, CHAT)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let whatsapp = app
        .store()
        .find_identity(&Identity::new(Channel::WhatsApp, "40799999999"))
        .await
        .expect("lookup")
        .expect("customer");
    let conversation = app
        .store()
        .conversation(&whatsapp)
        .await
        .expect("read")
        .expect("conversation");
    assert_eq!(
        conversation.reach.preferred_channel,
        Some(Channel::Telegram)
    );
    assert_eq!(conversation.reach.last_channel, Some(Channel::WhatsApp));
    assert!(
        !graph
            .recorded()
            .iter()
            .any(|r| r.body.to_string().contains("Payment received")),
        "no payment news on WhatsApp"
    );
    assert_eq!(conversation.orders.recent.len(), 1);
    assert_eq!(
        conversation.orders.recent[0].status,
        flows::OrderStatus::Paid
    );
    app.stop().await;
}

#[tokio::test]
async fn a_typed_number_gets_a_code_sent_to_that_whatsapp_chat() {
    let fake = FakeTelegram::start().await;
    let graph = crate::fake_graph::FakeGraph::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = crate::meta::settings(dir.path(), &graph);
    config.channels.telegram = settings(dir.path(), &fake, TelegramMode::Webhook)
        .channels
        .telegram;
    let app = spawn_app_with(config, AppOptions::default()).await;
    let hello = json!({"type": "text", "text": {"body": "hello"}});
    assert_eq!(whatsapp_says(&app, "wamid.T1", hello).await, 200);
    graph.wait_for(1, WAIT).await;
    let before = graph.recorded().len();
    let asked = say_on_telegram(&app, &fake, CHAT, 1, "link my account +40 799 999 999").await;
    assert!(asked.contains("sent a link code"), "{asked}");
    // The code went to WhatsApp, not to the chat that typed the number.
    let sent = graph.wait_for(before + 1, WAIT).await;
    let text = sent.last().expect("the code").body.to_string();
    assert_eq!(sent.last().expect("sent").body["to"], "40799999999");
    let code = text
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .find(|w| w.starts_with("LK-"))
        .unwrap_or_else(|| panic!("no code in {text}"))
        .to_owned();
    assert!(!last_text_to(&fake, CHAT).contains(&code));
    let linked = say_on_telegram(&app, &fake, CHAT, 2, &code).await;
    assert!(linked.contains("linked"), "{linked}");
    let whatsapp = app
        .store()
        .find_identity(&Identity::new(Channel::WhatsApp, "40799999999"))
        .await
        .expect("lookup");
    let telegram = app
        .store()
        .find_identity(&Identity::new(Channel::Telegram, CHAT.to_string()))
        .await
        .expect("lookup");
    assert_eq!(whatsapp, telegram);
    // A number no chat has: said so.
    let unknown = say_on_telegram(&app, &fake, 4242, 3, "link my account +40 711 111 111").await;
    assert!(unknown.contains("No other chat"), "{unknown}");
    app.stop().await;
}
