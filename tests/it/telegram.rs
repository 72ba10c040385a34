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

const SECRET: &str = "hook-secret_123";
const WAIT: Duration = Duration::from_secs(10);
const CHAT: i64 = 424_242;

fn settings(store: &std::path::Path, fake: &FakeTelegram, mode: TelegramMode) -> Settings {
    let mut settings = test_settings(store);
    if mode == TelegramMode::Webhook {
        settings.server.public_url = "https://shop.example".into();
    }
    settings.channels.telegram = TelegramSettings {
        enabled: true,
        bot_token: Some(Secret::new(TOKEN)),
        webhook_secret: Some(Secret::new(SECRET)),
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

fn customer() -> Value {
    json!({"id": CHAT, "is_bot": false, "first_name": "Ana", "last_name": "Pop", "language_code": "en"})
}

fn chat() -> Value {
    json!({"id": CHAT, "type": "private", "first_name": "Ana"})
}

fn text_update(update_id: i64, text: &str) -> Value {
    json!({"update_id": update_id, "message": {
        "message_id": update_id, "date": now_seconds(), "chat": chat(), "from": customer(), "text": text
    }})
}

fn button_update(update_id: i64, message_id: i64, data: &str) -> Value {
    json!({"update_id": update_id, "callback_query": {
        "id": format!("cq{update_id}"), "from": customer(), "chat_instance": "ci-1", "data": data,
        "message": {"message_id": message_id, "date": now_seconds(), "chat": chat(), "text": "…"}
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

fn cart_lines(app: &TestApp) -> usize {
    let customer = app
        .store()
        .find_identity(&Identity::new(Channel::Telegram, CHAT.to_string()))
        .expect("lookup")
        .expect("customer");
    app.store()
        .conversation(&customer)
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
    while cart_lines(&app) == 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(
        cart_lines(&app),
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
    while !app.store().is_blocked(&identity).expect("read")
        && tokio::time::Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(app.store().is_blocked(&identity).expect("read"));
    let letters = app.store().dead_letters().expect("dead letters");
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
    assert!(!app.store().is_blocked(&identity).expect("read"));
    app.stop().await;
}
