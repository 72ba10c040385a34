//! WhatsApp, Messenger and Instagram end to end: signed webhooks in, the shop's replies at a
//! fake Graph API, with duplicates, failures, dead letters and messaging windows.

use std::path::Path;
use std::time::Duration;

use serde_json::json;

use adapters::meta::signature::sign;
use flows::{Channel, Conversation, CustomerId, Event, Identity, OrderId, Span, Timestamp};
use souk::AppOptions;
use souk::settings::{MetaChannelSettings, Secret, Settings, TemplateSettings};
use souk::store::InboxEntry;

use crate::fake_graph::{Failure, FakeGraph};
use crate::support::{TestApp, repo_path, spawn_app_with, test_settings};

const SECRET: &str = "test-app-secret";
const WAIT: Duration = crate::support::PATIENCE;

fn meta(fake: &FakeGraph, id_key: &str) -> MetaChannelSettings {
    let mut settings = MetaChannelSettings {
        enabled: true,
        app_secret: Some(Secret::new(SECRET)),
        verify_token: Some(Secret::new("verify-me")),
        access_token: Some(Secret::new("EAAB-token")),
        api_base: fake.base.clone(),
        messages_per_second: 1000,
        ..MetaChannelSettings::default()
    };
    if id_key == "phone" {
        settings.phone_number_id = Some("1122334455667".into());
    } else {
        settings.page_id = Some("1895382890692545".into());
    }
    settings
}

pub fn settings(store: &Path, fake: &FakeGraph) -> Settings {
    let mut settings = test_settings(store);
    settings.server.public_url = "https://shop.example".into();
    settings.channels.whatsapp = meta(fake, "phone");
    settings.channels.messenger = meta(fake, "page");
    settings.channels.instagram = meta(fake, "page");
    settings.outbox.backoff_base_ms = 20;
    settings
}

async fn post(
    app: &TestApp,
    product: &str,
    body: &[u8],
    signature: Option<String>,
) -> reqwest::StatusCode {
    let mut request = app
        .client
        .post(format!("{}/webhooks/{product}", app.base))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("x-hub-signature-256", signature);
    }
    request.send().await.expect("webhook").status()
}

pub async fn signed(app: &TestApp, product: &str, body: &[u8]) -> reqwest::StatusCode {
    post(app, product, body, Some(sign(SECRET.as_bytes(), body))).await
}

fn whatsapp_text(wamid: &str, from: &str, text: &str) -> Vec<u8> {
    whatsapp_text_at(wamid, from, text, &now_seconds())
}

pub fn whatsapp_text_at(wamid: &str, from: &str, text: &str, seconds: &str) -> Vec<u8> {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": "1122334455667"},
        "contacts": [{"profile": {"name": "Dana"}, "wa_id": from}],
        "messages": [{"from": from, "id": wamid, "timestamp": seconds, "type": "text", "text": {"body": text}}]
    }}]}]})
    .to_string()
    .into_bytes()
}

/// Webhooks carry the platform's send time, and messaging windows count from it.
fn now_seconds() -> String {
    (souk::clock::now().millis() / 1000).to_string()
}

fn messenger_text(object: &str, mid: &str, from: &str, text: &str) -> Vec<u8> {
    messenger_text_at(object, mid, from, text, souk::clock::now().millis())
}

/// Sent at `now` (milliseconds), as Meta stamps it.
pub fn messenger_text_at(object: &str, mid: &str, from: &str, text: &str, now: i64) -> Vec<u8> {
    json!({"object": object, "entry": [{"id": "1895382890692545", "time": now, "messaging": [{
        "sender": {"id": from}, "recipient": {"id": "1895382890692545"}, "timestamp": now,
        "message": {"mid": mid, "text": text}
    }]}]})
    .to_string()
    .into_bytes()
}

#[tokio::test]
async fn every_recorded_fixture_is_acknowledged() {
    let fake = FakeGraph::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with(settings(dir.path(), &fake), AppOptions::default()).await;
    for product in ["whatsapp", "messenger", "instagram"] {
        let folder = repo_path(&format!("tests/fixtures/{product}"));
        for entry in std::fs::read_dir(folder).expect("fixtures") {
            let path = entry.expect("entry").path();
            let body = std::fs::read(&path).expect("fixture");
            let status = signed(&app, product, &body).await;
            assert_eq!(status, 200, "{}", path.display());
        }
    }
    app.stop().await;
}

#[tokio::test]
async fn handshake_signatures_and_bad_bodies() {
    let fake = FakeGraph::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with(settings(dir.path(), &fake), AppOptions::default()).await;
    let get = |query: &str| {
        app.client
            .get(format!("{}/webhooks/whatsapp?{query}", app.base))
            .send()
    };
    let ok = get("hub.mode=subscribe&hub.verify_token=verify-me&hub.challenge=1158201444")
        .await
        .expect("get");
    assert_eq!(ok.status(), 200);
    assert_eq!(ok.text().await.expect("body"), "1158201444");
    let wrong = get("hub.mode=subscribe&hub.verify_token=guess&hub.challenge=1")
        .await
        .expect("get");
    assert_eq!(wrong.status(), 403);

    let body = whatsapp_text("wamid.sig", "40700000001", "hi");
    assert_eq!(
        post(&app, "whatsapp", &body, None).await,
        401,
        "missing signature"
    );
    let forged = sign(b"not-the-secret", &body);
    assert_eq!(
        post(&app, "whatsapp", &body, Some(forged)).await,
        401,
        "wrong secret"
    );
    let mut tampered = body.clone();
    let at = tampered.len() - 10;
    tampered[at] ^= 1;
    assert_eq!(
        post(
            &app,
            "whatsapp",
            &tampered,
            Some(sign(SECRET.as_bytes(), &body))
        )
        .await,
        401,
        "tampered"
    );
    assert_eq!(signed(&app, "whatsapp", b"this is not json").await, 400);
    let huge = vec![b'x'; 200_000];
    assert_eq!(signed(&app, "whatsapp", &huge).await, 413);
    // Nothing above reached a conversation.
    assert!(fake.recorded().is_empty());
    app.stop().await;

    let mut disabled = settings(dir.path(), &fake);
    disabled.channels.instagram.enabled = false;
    let app = spawn_app_with(disabled, AppOptions::default()).await;
    assert_eq!(
        signed(
            &app,
            "instagram",
            &messenger_text("instagram", "m.1", "IG1", "hi")
        )
        .await,
        404
    );
    app.stop().await;
}

#[tokio::test]
async fn whatsapp_message_in_reply_out_once_even_when_delivered_three_times() {
    let fake = FakeGraph::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with(settings(dir.path(), &fake), AppOptions::default()).await;
    let body = whatsapp_text("wamid.HBgM1", "40700000001", "hello");
    for _ in 0..3 {
        assert_eq!(signed(&app, "whatsapp", &body).await, 200);
    }
    let sent = fake.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent = if sent.len() == 1 {
        fake.recorded()
    } else {
        sent
    };
    assert_eq!(
        sent.len(),
        1,
        "one greeting for three deliveries: {sent:#?}"
    );
    let reply = &sent[0];
    assert_eq!(reply.path, "/1122334455667/messages");
    assert_eq!(reply.authorization, "Bearer EAAB-token");
    assert_eq!(reply.body["messaging_product"], "whatsapp");
    assert_eq!(reply.body["to"], "40700000001");
    // Four menu choices do not fit three reply buttons: a list.
    assert_eq!(reply.body["type"], "interactive");
    assert_eq!(reply.body["interactive"]["type"], "list");
    assert!(
        reply.body["interactive"]["body"]["text"]
            .as_str()
            .expect("body")
            .contains("Welcome")
    );
    let store = app.store().clone();
    let customer = store
        .find_identity(&Identity::new(Channel::WhatsApp, "40700000001"))
        .await
        .expect("lookup")
        .expect("customer created");
    let record = store
        .customer(&customer)
        .await
        .expect("read")
        .expect("customer");
    assert_eq!(record.display_name.as_deref(), Some("Dana"));
    // The platform id of our reply is kept under the send, for the console's ticks.
    let history = store.history(&customer, 10).await.expect("history");
    let outbox_id = history
        .iter()
        .find_map(|entry| match entry {
            souk::store::HistoryEntry::Out { outbox_id, .. } => Some(*outbox_id),
            _ => None,
        })
        .expect("the reply is in the history");
    assert!(
        crate::support::eventually_async(WAIT, || async {
            store
                .sent_for(outbox_id)
                .await
                .expect("read")
                .iter()
                .any(|sent| sent.platform_id == "wamid.fake.1")
        })
        .await
    );
    app.stop().await;
}

#[tokio::test]
async fn messenger_and_instagram_replies_have_their_shapes() {
    let fake = FakeGraph::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with(settings(dir.path(), &fake), AppOptions::default()).await;
    assert_eq!(
        signed(
            &app,
            "messenger",
            &messenger_text("page", "m.fb.1", "PSID1", "hi")
        )
        .await,
        200
    );
    let sent = fake.wait_for(1, WAIT).await;
    let reply = &sent[0].body;
    assert_eq!(reply["recipient"]["id"], "PSID1");
    assert_eq!(reply["messaging_type"], "RESPONSE");
    assert_eq!(
        reply["message"]["quick_replies"]
            .as_array()
            .expect("quick replies")
            .len(),
        4
    );

    assert_eq!(
        signed(
            &app,
            "instagram",
            &messenger_text("instagram", "m.ig.1", "IGSID1", "show me the categories")
        )
        .await,
        200
    );
    let sent = fake.wait_for(2, WAIT).await;
    let reply = &sent[1].body;
    assert_eq!(reply["recipient"]["id"], "IGSID1");
    assert!(
        reply["message"]["text"]
            .as_str()
            .is_some_and(|t| t.chars().count() <= 1000)
    );
    app.stop().await;
}

#[tokio::test]
async fn batches_statuses_before_messages_rtl_and_long_text() {
    let fake = FakeGraph::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with(settings(dir.path(), &fake), AppOptions::default()).await;
    // Synthetic, built from the fixtures' shapes: a status for a message we never saw, then
    // three customer messages in one POST (Hebrew, emoji, and 5000 characters).
    let long = "א".repeat(5000);
    let body = json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [
        {"field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1122334455667"},
            "statuses": [{"id": "wamid.unknown", "status": "read", "timestamp": "1767225600", "recipient_id": "40700000002"}]}},
        {"field": "messages", "value": {"messaging_product": "whatsapp", "metadata": {"phone_number_id": "1122334455667"},
            "contacts": [{"profile": {"name": "נועה"}, "wa_id": "972500000001"}],
            "messages": [
                {"from": "972500000001", "id": "wamid.B1", "timestamp": now_seconds(), "type": "text", "text": {"body": "עברית"}},
                {"from": "972500000001", "id": "wamid.B2", "timestamp": now_seconds(), "type": "text", "text": {"body": "🛒🛒🛒"}},
                {"from": "972500000001", "id": "wamid.B3", "timestamp": now_seconds(), "type": "text", "text": {"body": long}}
            ]}}
    ]}]})
    .to_string();
    assert_eq!(signed(&app, "whatsapp", body.as_bytes()).await, 200);
    let sent = fake.wait_for(3, WAIT).await;
    assert!(sent.len() >= 3, "{sent:#?}");
    // The language switch took effect for the replies that followed.
    let texts: Vec<String> = sent.iter().map(|r| r.body.to_string()).collect();
    assert!(texts.iter().all(|t| t.contains("972500000001")));
    assert!(
        texts[0]
            .chars()
            .any(|c| ('\u{5d0}'..='\u{5ea}').contains(&c)),
        "Hebrew reply: {}",
        texts[0]
    );
    let deliveries = app
        .store()
        .deliveries(Channel::WhatsApp, "wamid.unknown")
        .await
        .expect("deliveries");
    assert_eq!(deliveries.len(), 1, "a status before its message is kept");
    assert_eq!(deliveries[0].state, "read");
    app.stop().await;
}

#[tokio::test]
async fn a_failing_then_recovering_graph_api_gets_each_reply_once() {
    let fake = FakeGraph::start().await;
    fake.fail_next([
        Failure::Throttled {
            retry_after_seconds: 1,
        },
        Failure::ServerError,
        Failure::Error {
            code: 131056,
            message: "pair rate limit hit",
        },
    ]);
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with(settings(dir.path(), &fake), AppOptions::default()).await;
    assert_eq!(
        signed(
            &app,
            "whatsapp",
            &whatsapp_text("wamid.R1", "40700000003", "hi")
        )
        .await,
        200
    );
    let sent = fake.wait_for(1, WAIT).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        fake.recorded().len(),
        1,
        "delivered exactly once: {sent:#?}"
    );
    assert_eq!(fake.attempts(), 4, "three failures, then success");
    assert_eq!(app.store().outbox_depth().await.expect("depth"), 0);
    app.stop().await;
}

#[tokio::test]
async fn a_timed_out_call_is_retried_and_parts_are_spaced_per_recipient() {
    let fake = FakeGraph::start().await;
    fake.fail_next([Failure::Slow(Duration::from_secs(3))]);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = settings(dir.path(), &fake);
    config.channels.whatsapp.request_timeout_ms = 300;
    config.channels.whatsapp.recipient_gap_ms = 200;
    let app = spawn_app_with(config, AppOptions::default()).await;
    assert_eq!(
        signed(
            &app,
            "whatsapp",
            &whatsapp_text("wamid.T1", "40700000007", "hi")
        )
        .await,
        200
    );
    let sent = fake.wait_for(1, WAIT).await;
    assert_eq!(sent.len(), 1);
    assert_eq!(fake.attempts(), 2, "the timed-out call was retried once");
    // A category page is several messages (one per card, then the text): spaced, in order.
    let started = std::time::Instant::now();
    assert_eq!(
        signed(
            &app,
            "whatsapp",
            &whatsapp_text("wamid.T2", "40700000007", "shoes")
        )
        .await,
        200
    );
    let sent = fake.wait_for(4, WAIT).await;
    assert!(sent.len() >= 4, "{sent:#?}");
    assert!(
        started.elapsed() >= Duration::from_millis(400),
        "parts were not spaced: {:?}",
        started.elapsed()
    );
    app.stop().await;
}

#[tokio::test]
async fn a_permanent_error_goes_to_the_dead_letters_with_its_code() {
    let fake = FakeGraph::start().await;
    fake.fail_next([Failure::Error {
        code: 131026,
        message: "Message undeliverable",
    }]);
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with(settings(dir.path(), &fake), AppOptions::default()).await;
    assert_eq!(
        signed(
            &app,
            "whatsapp",
            &whatsapp_text("wamid.P1", "40700000004", "hi")
        )
        .await,
        200
    );
    let reason = first_dead_letter(&app).await;
    assert!(reason.contains("131026"), "{}", reason);
    assert_eq!(fake.attempts(), 1, "not retried");
    // Admins see it in the console with its reason and send it again; agents cannot.
    crate::console::add_operator(app.store(), "ana", souk::store::Role::Admin).await;
    crate::console::add_operator(app.store(), "ion", souk::store::Role::Agent).await;
    let admin = crate::console::login(&app, "ana").await;
    let agent = crate::console::login(&app, "ion").await;
    let listed = admin.get("/console/api/dead-letters").await;
    assert_eq!(listed["total"], 1, "{listed:#}");
    let letter = &listed["letters"][0];
    assert_eq!(letter["channel"], "whatsapp");
    assert!(
        letter["who"].as_str().is_some_and(|who| !who.is_empty()),
        "{letter:#}"
    );
    assert!(
        letter["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("131026")
    );
    assert!(
        !letter["text"].as_str().unwrap_or_default().is_empty(),
        "{letter:#}"
    );
    let id = letter["id"].as_u64().expect("id");
    let resend = format!("/console/api/dead-letters/{id}/resend");
    let (status, _) = agent.post(&resend, serde_json::json!({})).await;
    assert_eq!(status.as_u16(), 403);
    let (status, _) = admin.post(&resend, serde_json::json!({})).await;
    assert_eq!(status.as_u16(), 202);
    let sent = fake.wait_for(1, WAIT).await;
    assert_eq!(sent.len(), 1, "sent on the second round: {sent:#?}");
    assert!(app.store().dead_letters().await.expect("read").is_empty());
    let (status, _) = admin.post(&resend, serde_json::json!({})).await;
    assert_eq!(status.as_u16(), 404, "already resent");
    app.stop().await;
}

/// Puts a customer whose last WhatsApp message is 25 hours old and a payment confirmation in
/// the store of a stopped app; the next start re-drives it.
async fn payment_confirmed_25_hours_after_last_message(app: TestApp, wa_id: &str) -> CustomerId {
    assert_eq!(
        signed(
            &app,
            "whatsapp",
            &whatsapp_text(&format!("wamid.{wa_id}"), wa_id, "hi")
        )
        .await,
        200
    );
    let store = app.store().clone();
    let identity = Identity::new(Channel::WhatsApp, wa_id);
    let customer =
        crate::support::eventually_async(WAIT, || conversation_exists(&store, &identity)).await;
    assert!(customer);
    let customer = store
        .find_identity(&identity)
        .await
        .expect("lookup")
        .expect("customer");
    app.stop().await;
    customer
}

async fn conversation_exists(
    store: &std::sync::Arc<dyn souk::store::Store>,
    identity: &Identity,
) -> bool {
    match store.find_identity(identity).await {
        Ok(Some(customer)) => store.conversation(&customer).await.ok().flatten().is_some(),
        _ => false,
    }
}

async fn age_and_confirm(store_dir: &Path, customer: &CustomerId) {
    age_and_ingest(
        store_dir,
        customer,
        Event::PaymentConfirmed {
            order: OrderId("ORDER-7".into()),
        },
    )
    .await;
}

/// Ages the customer's last message by 25 hours and puts `event` in the inbox.
async fn age_and_ingest(store_dir: &Path, customer: &CustomerId, event: Event) {
    age_prepare_and_ingest(store_dir, customer, event, |_, _| {}).await;
}

/// The same, with the conversation changed by `prepare` (given the aged time) first.
async fn age_prepare_and_ingest(
    store_dir: &Path,
    customer: &CustomerId,
    event: Event,
    prepare: impl FnOnce(&mut Conversation, Timestamp),
) {
    let store = crate::support::open_store(store_dir).await;
    let mut conversation: Conversation = store
        .conversation(customer)
        .await
        .expect("read")
        .expect("conversation");
    let long_ago = Timestamp(souk::clock::now().millis() - Span::hours(25).as_millis());
    conversation
        .reach
        .last_inbound_by_channel
        .insert(Channel::WhatsApp, long_ago);
    conversation.reach.last_inbound_at = Some(long_ago);
    prepare(&mut conversation, long_ago);
    store
        .commit(crate::support::state_commit(conversation, long_ago))
        .await
        .expect("commit");
    store
        .ingest(InboxEntry {
            claim: None,
            seq: 0,
            public_id: "stripe-evt-1".into(),
            dedup_key: Some("evt_1".into()),
            customer: customer.clone(),
            event,
            received_at: souk::clock::now(),
        })
        .await
        .expect("ingest");
    store.flush().await.expect("flush");
}

#[tokio::test]
async fn outside_the_window_a_configured_template_goes_out() {
    let fake = FakeGraph::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = settings(dir.path(), &fake);
    config.channels.whatsapp.templates.insert(
        "order-paid".into(),
        TemplateSettings {
            name: "order_confirmed".into(),
            language: "en_US".into(),
            params: vec!["order".into()],
        },
    );
    let app = spawn_app_with(config.clone(), AppOptions::default()).await;
    let customer = payment_confirmed_25_hours_after_last_message(app, "40700000005").await;
    age_and_confirm(dir.path(), &customer).await;
    let app = spawn_app_with(config, AppOptions::default()).await;
    let sent = fake.wait_for(2, WAIT).await;
    let template = &sent.last().expect("template").body;
    assert_eq!(template["type"], "template", "{template}");
    assert_eq!(template["template"]["name"], "order_confirmed");
    assert_eq!(template["template"]["language"]["code"], "en_US");
    assert_eq!(
        template["template"]["components"][0]["parameters"][0]["text"],
        "ORDER-7"
    );
    app.stop().await;
}

/// A shipping notice outside the window: the utility template carries the order number and
/// the tracking link (the reply's link, as the `link_url` parameter).
#[tokio::test]
async fn outside_the_window_the_shipping_template_carries_the_tracking_link() {
    let fake = FakeGraph::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = settings(dir.path(), &fake);
    config.channels.whatsapp.templates.insert(
        "order-shipped".into(),
        TemplateSettings {
            name: "order_shipped".into(),
            language: "ro".into(),
            params: vec!["order".into(), "link_url".into()],
        },
    );
    let app = spawn_app_with(config.clone(), AppOptions::default()).await;
    let customer = payment_confirmed_25_hours_after_last_message(app, "40700000015").await;
    age_and_ingest(
        dir.path(),
        &customer,
        Event::OrderStatusChanged {
            order: OrderId("ORDER-9".into()),
            status: flows::OrderStatus::Shipped,
            tracking: Some("https://track.example/AB<1>".into()),
            by: None,
        },
    )
    .await;
    let app = spawn_app_with(config, AppOptions::default()).await;
    let sent = fake.wait_for(2, WAIT).await;
    let template = &sent.last().expect("template").body;
    assert_eq!(template["template"]["name"], "order_shipped", "{template}");
    let parameters = &template["template"]["components"][0]["parameters"];
    assert_eq!(parameters[0]["text"], "ORDER-9");
    assert_eq!(parameters[1]["text"], "https://track.example/AB<1>");
    app.stop().await;
}

#[tokio::test]
async fn outside_the_window_without_a_template_the_send_is_refused_with_a_reason() {
    let fake = FakeGraph::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = settings(dir.path(), &fake);
    let app = spawn_app_with(config.clone(), AppOptions::default()).await;
    let customer = payment_confirmed_25_hours_after_last_message(app, "40700000006").await;
    let before = fake.recorded().len();
    age_and_confirm(dir.path(), &customer).await;
    let app = spawn_app_with(config, AppOptions::default()).await;
    let reason = first_dead_letter(&app).await;
    assert!(reason.contains("window closed"), "{}", reason);
    assert!(reason.contains("order-paid"), "{}", reason);
    assert_eq!(
        fake.recorded().len(),
        before,
        "nothing left for the closed window"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_late_delivery_counts_the_window_from_when_the_customer_wrote() {
    let fake = FakeGraph::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app_with(settings(dir.path(), &fake), AppOptions::default()).await;
    // Meta redelivers, after an outage, a message written 25 hours ago.
    let written = (souk::clock::now().millis() / 1000 - 25 * 3600).to_string();
    let body = whatsapp_text_at("wamid.LATE", "40700000008", "hi", &written);
    assert_eq!(signed(&app, "whatsapp", &body).await, 200);
    let reason = first_dead_letter(&app).await;
    assert!(reason.contains("window closed"), "{}", reason);
    assert!(
        fake.recorded().is_empty(),
        "no free-form message outside the window"
    );
    app.stop().await;
}

#[tokio::test]
async fn when_whatsapp_says_the_window_closed_the_template_goes_instead() {
    let fake = FakeGraph::start().await;
    // Our clock says the window is open; Meta disagrees (131047).
    fake.fail_next([Failure::Error {
        code: 131047,
        message: "Re-engagement message",
    }]);
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = settings(dir.path(), &fake);
    config.channels.whatsapp.templates.insert(
        "welcome".into(),
        TemplateSettings {
            name: "hello_again".into(),
            language: "en".into(),
            params: vec!["shop".into()],
        },
    );
    let app = spawn_app_with(config, AppOptions::default()).await;
    assert_eq!(
        signed(
            &app,
            "whatsapp",
            &whatsapp_text("wamid.W1", "40700000009", "hi")
        )
        .await,
        200
    );
    let sent = fake.wait_for(1, WAIT).await;
    assert_eq!(sent.len(), 1, "{sent:#?}");
    assert_eq!(sent[0].body["type"], "template");
    assert_eq!(sent[0].body["template"]["name"], "hello_again");
    assert_eq!(fake.attempts(), 2);
    app.stop().await;
}

/// Waits for the first dead letter and returns why the send was refused.
async fn first_dead_letter(app: &TestApp) -> String {
    let store = app.store().clone();
    let settled = crate::support::eventually_async(WAIT, || async {
        store
            .dead_letters()
            .await
            .map(|d| !d.is_empty())
            .unwrap_or(false)
    })
    .await;
    assert!(settled, "no dead letter");
    store.dead_letters().await.expect("dead letters")[0]
        .reason
        .clone()
}

/// The customer has a navy jacket in the cart, said yes to reminders, and their next-day
/// reminder fell due; their last message was 25 hours ago (the WhatsApp window is closed).
async fn cart_reminder_due_after_the_window(store_dir: &Path, customer: &CustomerId) {
    let event = Event::TimerFired(flows::TimerKind::CartRecovery);
    age_prepare_and_ingest(store_dir, customer, event, |conversation, long_ago| {
        conversation.cart.lines = vec![flows::CartLine {
            sku: flows::Sku("RJ-M-NAVY".into()),
            quantity: 1,
        }];
        conversation.recovery.since = Some(long_ago);
        conversation.recovery.next_step = 1;
        conversation.recovery.consent = Some(flows::recovery::Consent {
            granted: true,
            at: long_ago,
        });
    })
    .await;
}

fn with_reminders(mut config: Settings) -> Settings {
    config.recovery.enabled = true;
    config.recovery.quiet_hours = String::new();
    config
}

#[tokio::test]
async fn a_cart_reminder_outside_the_window_goes_as_its_template() {
    let fake = FakeGraph::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = with_reminders(settings(dir.path(), &fake));
    config.channels.whatsapp.templates.insert(
        "recovery-next-day".into(),
        TemplateSettings {
            name: "cart_reminder".into(),
            language: "en_US".into(),
            params: vec!["items".into(), "total".into()],
        },
    );
    let app = spawn_app_with(config.clone(), AppOptions::default()).await;
    let customer = payment_confirmed_25_hours_after_last_message(app, "40700000025").await;
    let before = fake.recorded().len();
    cart_reminder_due_after_the_window(dir.path(), &customer).await;
    let app = spawn_app_with(config, AppOptions::default()).await;
    let sent = fake.wait_for(before + 1, WAIT).await;
    let template = &sent.last().expect("template").body;
    assert_eq!(template["template"]["name"], "cart_reminder", "{template}");
    let parameters = &template["template"]["components"][0]["parameters"];
    assert_eq!(parameters[0]["text"], "1", "{template}");
    assert!(
        parameters[1]["text"]
            .as_str()
            .is_some_and(|t| !t.is_empty()),
        "{template}"
    );
    app.stop().await;
}

#[tokio::test]
async fn a_cart_reminder_outside_the_window_without_a_template_is_refused_with_a_reason() {
    let fake = FakeGraph::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = with_reminders(settings(dir.path(), &fake));
    let app = spawn_app_with(config.clone(), AppOptions::default()).await;
    let customer = payment_confirmed_25_hours_after_last_message(app, "40700000026").await;
    let before = fake.recorded().len();
    cart_reminder_due_after_the_window(dir.path(), &customer).await;
    let app = spawn_app_with(config, AppOptions::default()).await;
    let reason = first_dead_letter(&app).await;
    assert!(reason.contains("window closed"), "{reason}");
    assert!(reason.contains("recovery-next-day"), "{reason}");
    assert_eq!(fake.recorded().len(), before, "nothing went out");
    app.stop().await;
}

/// `souk serve` runs the conversation work on a runtime of its own (ARCHITECTURE.md, "Two
/// runtimes"): while a step holds the work runtime's only thread, webhooks are still
/// acknowledged. This test's own runtime has one thread too, so with the work on it (`work:
/// None`) the second webhook could not be answered until the step let go, and the test fails.
#[tokio::test]
async fn a_step_holding_the_work_runtime_does_not_hold_up_webhook_acks() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex, mpsc};

    let fake = FakeGraph::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let work = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("work runtime");
    let holding = Arc::new(AtomicBool::new(false));
    let (release, released) = mpsc::channel::<()>();
    let released = Arc::new(Mutex::new(released));
    let hook = {
        let holding = holding.clone();
        Arc::new(move |entry: &InboxEntry| {
            let stalls = matches!(&entry.event, Event::Inbound(flows::Inbound {
                message: flows::InboundMessage::Text(text), ..
            }) if text == "stall");
            if stalls {
                holding.store(true, Ordering::SeqCst);
                // Blocks the thread, as a step stuck in a slow call would.
                let _ = released.lock().expect("release channel").recv_timeout(WAIT);
                holding.store(false, Ordering::SeqCst);
            }
        })
    };
    let app = spawn_app_with(
        settings(dir.path(), &fake),
        AppOptions {
            step_hook: Some(hook),
            work: Some(work.handle().clone()),
            ..AppOptions::default()
        },
    )
    .await;
    let stall = whatsapp_text("wamid.stall", "40700000071", "stall");
    assert_eq!(signed(&app, "whatsapp", &stall).await, 200);
    assert!(
        crate::support::eventually(WAIT, || holding.load(Ordering::SeqCst)).await,
        "the step never started"
    );
    let hello = whatsapp_text("wamid.hello", "40700000072", "hello");
    assert_eq!(signed(&app, "whatsapp", &hello).await, 200);
    assert!(
        holding.load(Ordering::SeqCst),
        "the second webhook was answered only after the step let go of the work runtime"
    );
    release.send(()).expect("release the step");
    // Both conversations go on once the step returns.
    let sent = fake.wait_for(2, WAIT).await;
    let recipients: std::collections::BTreeSet<String> = sent
        .iter()
        .filter_map(|sent| sent.body["to"].as_str().map(str::to_owned))
        .collect();
    assert!(
        recipients.contains("40700000071") && recipients.contains("40700000072"),
        "{recipients:?}"
    );
    app.stop().await;
    work.shutdown_background();
}
