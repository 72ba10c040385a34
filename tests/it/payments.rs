//! Selling end to end over HTTP: a signed WhatsApp conversation from "red dress under 300" to
//! a Stripe Checkout Session at the fake Stripe, the signed `checkout.session.completed`, and
//! the confirmation at the fake Graph API; duplicates, bad signatures and provider failures.

use std::path::Path;
use std::time::Duration;

use axum::http::StatusCode;
use serde_json::{Value, json};

use adapters::meta::signature::sign as meta_sign;
use adapters::payments::stripe_signature::sign as stripe_sign;
use flows::{Channel, Identity, OrderId, OrderStatus, Sku};
use souk::AppOptions;
use souk::payments::ProviderKind;
use souk::settings::{MetaChannelSettings, Secret, Settings};

use crate::fake_graph::FakeGraph;
use crate::fake_stripe::{FakeStripe, SECRET_KEY};
use crate::support::{
    TestApp, demo_catalog_digest, eventually, repo_path, spawn_app_with, test_settings,
};

const APP_SECRET: &str = "test-app-secret";
const WEBHOOK_SECRET: &str = "whsec_souk_test";
const WAIT: Duration = crate::support::PATIENCE;
const CUSTOMER: &str = "40722000111";

fn settings(store: &Path, graph: &FakeGraph, stripe: &FakeStripe) -> Settings {
    let mut settings = test_settings(store);
    settings.server.public_url = "https://shop.example".into();
    settings.channels.whatsapp = MetaChannelSettings {
        enabled: true,
        app_secret: Some(Secret::new(APP_SECRET)),
        verify_token: Some(Secret::new("verify-me")),
        access_token: Some(Secret::new("EAAB-token")),
        api_base: graph.base.clone(),
        phone_number_id: Some("1122334455667".into()),
        messages_per_second: 1000,
        recipient_gap_ms: 0,
        ..MetaChannelSettings::default()
    };
    settings.payments.provider = ProviderKind::Stripe;
    settings.payments.stripe.api_base = stripe.base.clone();
    settings.payments.stripe.secret_key = Some(Secret::new(SECRET_KEY));
    settings.payments.stripe.webhook_secret = Some(Secret::new(WEBHOOK_SECRET));
    settings
}

fn whatsapp(message: Value) -> Vec<u8> {
    json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550001111", "phone_number_id": "1122334455667"},
        "contacts": [{"profile": {"name": "Dana"}, "wa_id": CUSTOMER}],
        "messages": [message]
    }}]}]})
    .to_string()
    .into_bytes()
}

fn now_seconds() -> String {
    (souk::clock::now().millis() / 1000).to_string()
}

/// The customer's messages: text, or a press on a reply button or list row.
struct Customer<'a> {
    app: &'a TestApp,
    graph: &'a FakeGraph,
    sent: usize,
}

impl Customer<'_> {
    /// Sends one message of `kind` with its `body` (the field named like the kind).
    async fn post(&mut self, kind: &str, body: Value) {
        let message = json!({"from": CUSTOMER, "id": format!("wamid.in{}", self.sent),
            "timestamp": now_seconds(), "type": kind, kind: body});
        self.sent += 1;
        let body = whatsapp(message);
        let status = self
            .app
            .client
            .post(format!("{}/webhooks/whatsapp", self.app.base))
            .header("content-type", "application/json")
            .header(
                "x-hub-signature-256",
                meta_sign(APP_SECRET.as_bytes(), &body),
            )
            .body(body)
            .send()
            .await
            .expect("webhook")
            .status();
        assert_eq!(status, 200);
    }

    async fn says(&mut self, text: &str) {
        self.post("text", json!({"body": text})).await;
    }

    /// A reply button (`button_reply`) or a list row (`list_reply`).
    async fn chooses(&mut self, reply: &str, action: &str) {
        self.post(
            "interactive",
            json!({"type": reply, reply: {"id": action, "title": "x"}}),
        )
        .await;
    }

    async fn presses(&mut self, action: &str) {
        self.chooses("button_reply", action).await;
    }

    async fn picks(&mut self, action: &str) {
        self.chooses("list_reply", action).await;
    }

    /// Waits for a message to the customer that contains `needle`, sent after `from`
    /// earlier messages; returns its index and body.
    async fn expect(&self, from: usize, needle: &str) -> (usize, Value) {
        let found = eventually(WAIT, || {
            self.graph
                .recorded()
                .iter()
                .skip(from)
                .any(|r| r.body.to_string().contains(needle))
        })
        .await;
        let recorded = self.graph.recorded();
        assert!(
            found,
            "no message containing {needle:?}; sent since {from}:\n{}",
            recorded
                .iter()
                .skip(from)
                .map(|r| r.body.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
        recorded
            .iter()
            .enumerate()
            .skip(from)
            .find(|(_, r)| r.body.to_string().contains(needle))
            .map(|(i, r)| (i + 1, r.body.clone()))
            .expect("found above")
    }
}

/// An event about `session` (as the fake made it), with its payment status.
fn stripe_event(id: &str, event_type: &str, session: &Value, payment_status: &str) -> Vec<u8> {
    let order = session["client_reference_id"].clone();
    json!({
        "id": id, "object": "event", "api_version": "2024-06-20", "created": 1_700_000_000,
        "livemode": false, "pending_webhooks": 1, "type": event_type,
        "data": {"object": {"id": session["id"], "object": "checkout.session",
            "client_reference_id": order, "metadata": {"order": order},
            "amount_total": session["amount_total"], "currency": session["currency"],
            "payment_status": payment_status, "status": "complete"}}
    })
    .to_string()
    .into_bytes()
}

/// A session souk never made, for `order`.
fn foreign_session(order: &str, amount_total: i64) -> Value {
    json!({"id": "cs_test_not_ours", "client_reference_id": order,
        "amount_total": amount_total, "currency": "eur"})
}

async fn post_stripe(app: &TestApp, body: &[u8], signature: Option<String>) -> StatusCode {
    let mut request = app
        .client
        .post(format!("{}/webhooks/payments/stripe", app.base))
        .header("content-type", "application/json")
        .body(body.to_vec());
    if let Some(signature) = signature {
        request = request.header("stripe-signature", signature);
    }
    let status = request.send().await.expect("stripe webhook").status();
    StatusCode::from_u16(status.as_u16()).expect("status")
}

fn signed_now(body: &[u8]) -> String {
    stripe_sign(
        WEBHOOK_SECRET.as_bytes(),
        body,
        souk::clock::now().millis() / 1000,
    )
}

/// The customer finds the red dress in words and orders one, up to the confirm button.
async fn order_red_dress(customer: &mut Customer<'_>) -> usize {
    customer.says("red dress under 300").await;
    let (seen, _) = customer.expect(0, "add:evening-dress").await;
    customer.presses("add:evening-dress").await;
    let (seen, _) = customer.expect(seen, "var:ED-M-RED").await;
    customer.picks("var:ED-M-RED").await;
    let (seen, _) = customer.expect(seen, "qty:ED-M-RED:1").await;
    customer.presses("qty:ED-M-RED:1").await;
    let (seen, _) = customer.expect(seen, "checkout").await;
    customer.presses("checkout").await;
    let (seen, _) = customer.expect(seen, "\"back\"").await;
    customer.says("Dana Pop").await;
    let (seen, _) = customer.expect(seen, "Dana Pop").await;
    customer.says("dana@example.ro").await;
    let (seen, _) = customer.expect(seen, "Where should we deliver").await;
    customer.says("Str. Lipscani 12, București 030031").await;
    let (seen, confirm) = customer.expect(seen, "\"confirm\"").await;
    assert!(
        confirm
            .to_string()
            .contains("Delivery to: Str. Lipscani 12"),
        "{confirm}"
    );
    assert!(
        confirm.to_string().contains("189"),
        "total shown: {confirm}"
    );
    customer.presses("confirm").await;

    seen
}

#[tokio::test]
async fn whatsapp_search_to_stripe_payment_to_confirmation() {
    let dir = tempfile::tempdir().expect("tempdir");
    let graph = FakeGraph::start().await;
    let stripe = FakeStripe::start().await;
    // The first session request fails: the job retries it with the same idempotency key.
    stripe.fail_next([StatusCode::INTERNAL_SERVER_ERROR]);
    let app = spawn_app_with(settings(dir.path(), &graph, &stripe), AppOptions::default()).await;
    let mut customer = Customer {
        app: &app,
        graph: &graph,
        sent: 0,
    };

    let seen = order_red_dress(&mut customer).await;

    // The session at the fake Stripe: our order, its price, the key per order and link.
    let (seen, link) = customer
        .expect(seen, "https://checkout.stripe.test/c/pay/cs_test_1")
        .await;
    // The session URL is a button (WhatsApp's call-to-action URL message).
    assert_eq!(link["interactive"]["type"], "cta_url", "{link}");
    assert_eq!(
        link["interactive"]["action"]["parameters"]["url"],
        "https://checkout.stripe.test/c/pay/cs_test_1"
    );
    let requests = stripe.recorded();
    assert_eq!(requests.len(), 2, "one failure, one retry");
    let order = requests[1]
        .field("client_reference_id")
        .expect("order id on the session")
        .to_owned();
    for request in &requests {
        assert_eq!(
            request.idempotency_key.as_deref(),
            Some(format!("souk-{order}-1").as_str())
        );
        assert_eq!(
            request.form, requests[0].form,
            "a retry sends the same body"
        );
    }
    assert_eq!(requests[1].field("mode"), Some("payment"));
    assert_eq!(
        requests[1].field("line_items[0][price_data][unit_amount]"),
        Some("18900")
    );
    assert_eq!(
        requests[1].field("line_items[0][price_data][currency]"),
        Some("eur")
    );
    assert_eq!(requests[1].field("customer_email"), Some("dana@example.ro"));
    assert_eq!(stripe.sessions(), 1);
    let stored = app
        .store()
        .order(&OrderId(order.clone()))
        .await
        .expect("read")
        .expect("order stored");
    assert_eq!(stored.status, OrderStatus::PendingPayment);

    // Signed events that must not confirm the order: a session souk never made, and souk's
    // own session with another amount or currency. Acknowledged, counted, noted for the
    // operators, and the order stays unpaid.
    let refused = r#"souk_payments_refused_total{provider="stripe""#;
    let refused_before = app.metric(refused).await;
    let ours = stripe.session_for(&order);
    let mut cheap = ours.clone();
    cheap["amount_total"] = json!(1);
    let mut dollars = ours.clone();
    dollars["currency"] = json!("usd");
    for (id, session) in [
        ("evt_forged_1", foreign_session(&order, 18_900)),
        ("evt_forged_2", cheap),
        ("evt_forged_3", dollars),
    ] {
        let forged = stripe_event(id, "checkout.session.completed", &session, "paid");
        assert_eq!(
            post_stripe(&app, &forged, Some(signed_now(&forged))).await,
            StatusCode::OK
        );
    }
    let inbox_empty = crate::support::eventually_async(WAIT, || async {
        app.store()
            .pending_inbox()
            .await
            .map(|p| p.is_empty())
            .unwrap_or(false)
    })
    .await;
    assert!(inbox_empty);
    let unpaid = app
        .store()
        .order(&OrderId(order.clone()))
        .await
        .expect("read")
        .expect("order");
    assert_eq!(unpaid.status, OrderStatus::PendingPayment);
    assert_eq!(app.metric(refused).await - refused_before, 3.0);
    let notes = app
        .store()
        .history(&unpaid.customer, 100).await
        .expect("history")
        .into_iter()
        .filter(|entry| {
            matches!(entry, souk::store::HistoryEntry::Note { text, .. } if text.contains("NOT confirmed"))
        })
        .count();
    assert_eq!(notes, 3, "each refusal is noted for the operators");

    // Stripe calls back, twice (at-least-once): one confirmation, stock taken once.
    let paid = stripe_event(
        "evt_paid_1",
        "checkout.session.completed",
        &stripe.session_for(&order),
        "paid",
    );
    assert_eq!(
        post_stripe(&app, &paid, Some(signed_now(&paid))).await,
        StatusCode::OK
    );
    assert_eq!(
        post_stripe(&app, &paid, Some(signed_now(&paid))).await,
        StatusCode::OK
    );
    let (seen, confirmation) = customer.expect(seen, &order).await;
    let text = confirmation.to_string();
    assert!(text.contains("Payment received"), "{text}");
    let store = app.store().clone();
    let id = OrderId(order.clone());
    assert!(crate::support::order_becomes(&store, &id, OrderStatus::Paid).await);
    assert_eq!(
        store
            .stock_sold(&demo_catalog_digest(), &[])
            .await
            .expect("sold"),
        vec![(Sku("ED-M-RED".into()), 1)]
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    let confirmations = graph
        .recorded()
        .iter()
        .skip(seen - 1)
        .filter(|r| r.body.to_string().contains("Payment received"))
        .count();
    assert_eq!(confirmations, 1, "the duplicate event said nothing");

    // "Where is my order?" is answered from what was paid.
    customer.says("where is my order?").await;
    customer.expect(seen, "paid, being prepared").await;
    let customer_id = store
        .find_identity(&Identity::new(Channel::WhatsApp, CUSTOMER))
        .await
        .expect("lookup")
        .expect("customer");
    assert_eq!(stored.customer, customer_id);
    app.stop().await;
}

#[tokio::test]
async fn an_expired_session_is_told_and_a_new_link_has_its_own_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let graph = FakeGraph::start().await;
    let stripe = FakeStripe::start().await;
    let app = spawn_app_with(settings(dir.path(), &graph, &stripe), AppOptions::default()).await;
    let mut customer = Customer {
        app: &app,
        graph: &graph,
        sent: 0,
    };
    let seen = order_red_dress(&mut customer).await;
    let (seen, _) = customer.expect(seen, "cs_test_1").await;
    let order = stripe.recorded()[0]
        .field("client_reference_id")
        .expect("order")
        .to_owned();
    let expired = stripe_event(
        "evt_exp_1",
        "checkout.session.expired",
        &stripe.session_for(&order),
        "unpaid",
    );
    assert_eq!(
        post_stripe(&app, &expired, Some(signed_now(&expired))).await,
        StatusCode::OK
    );
    let (seen, told) = customer.expect(seen, "expired").await;
    assert!(
        told.to_string().contains(&format!("payagain:{order}")),
        "{told}"
    );
    customer.presses(&format!("payagain:{order}")).await;
    customer.expect(seen, "cs_test_2").await;
    // Both sessions are found from the order (the console's order view lists them).
    let sessions: Vec<String> = app
        .store()
        .payment_sessions_of(&flows::OrderId(order.clone()))
        .await
        .expect("sessions")
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    assert_eq!(sessions, ["cs_test_1", "cs_test_2"]);
    let keys: Vec<Option<String>> = stripe
        .recorded()
        .into_iter()
        .map(|r| r.idempotency_key)
        .collect();
    assert_eq!(
        keys,
        [
            Some(format!("souk-{order}-1")),
            Some(format!("souk-{order}-2"))
        ]
    );
    // The late payment of the first session still counts, once.
    let paid = stripe_event(
        "evt_paid_9",
        "checkout.session.completed",
        &stripe.session_named("cs_test_1"),
        "paid",
    );
    assert_eq!(
        post_stripe(&app, &paid, Some(signed_now(&paid))).await,
        StatusCode::OK
    );
    customer.expect(seen, "Payment received").await;
    app.stop().await;
}

#[tokio::test]
async fn stripe_webhooks_are_verified_and_odd_events_acknowledged() {
    let dir = tempfile::tempdir().expect("tempdir");
    let graph = FakeGraph::start().await;
    let stripe = FakeStripe::start().await;
    let app = spawn_app_with(settings(dir.path(), &graph, &stripe), AppOptions::default()).await;
    let body = stripe_event(
        "evt_1",
        "checkout.session.completed",
        &foreign_session("NOPE-1", 100),
        "paid",
    );
    // No header, a wrong secret, an old timestamp, a tampered body: 400, nothing ingested.
    assert_eq!(
        post_stripe(&app, &body, None).await,
        StatusCode::BAD_REQUEST
    );
    let wrong = stripe_sign(b"whsec_other", &body, souk::clock::now().millis() / 1000);
    assert_eq!(
        post_stripe(&app, &body, Some(wrong)).await,
        StatusCode::BAD_REQUEST
    );
    let old = stripe_sign(
        WEBHOOK_SECRET.as_bytes(),
        &body,
        souk::clock::now().millis() / 1000 - 301,
    );
    assert_eq!(
        post_stripe(&app, &body, Some(old)).await,
        StatusCode::BAD_REQUEST
    );
    let mut tampered = body.clone();
    tampered.extend_from_slice(b" ");
    assert_eq!(
        post_stripe(&app, &tampered, Some(signed_now(&body))).await,
        StatusCode::BAD_REQUEST
    );
    // Signed but not ours: an unknown order, an event type we do not use, a v2 thin event.
    assert_eq!(
        post_stripe(&app, &body, Some(signed_now(&body))).await,
        StatusCode::OK
    );
    let other = json!({"id": "evt_2", "object": "event", "type": "charge.succeeded", "data": {"object": {}}})
        .to_string()
        .into_bytes();
    assert_eq!(
        post_stripe(&app, &other, Some(signed_now(&other))).await,
        StatusCode::OK
    );
    let thin = std::fs::read(repo_path(
        "tests/fixtures/stripe/thin_event_v2_core_event.json",
    ))
    .expect("fixture");
    assert_eq!(
        post_stripe(&app, &thin, Some(signed_now(&thin))).await,
        StatusCode::OK
    );
    assert!(app.store().pending_inbox().await.expect("inbox").is_empty());
    assert!(graph.recorded().is_empty());
    app.stop().await;
}

#[tokio::test]
async fn the_stripe_route_is_closed_unless_stripe_is_the_provider() {
    let dir = tempfile::tempdir().expect("tempdir");
    let app = spawn_app_with(test_settings(dir.path()), AppOptions::default()).await;
    let body = stripe_event(
        "evt_1",
        "checkout.session.completed",
        &foreign_session("A-1", 100),
        "paid",
    );
    assert_eq!(
        post_stripe(&app, &body, Some(signed_now(&body))).await,
        StatusCode::NOT_FOUND
    );
    let page = app
        .client
        .get(format!("{}/pay/{}", app.base, "0".repeat(32)))
        .send()
        .await
        .expect("pay page");
    assert_eq!(page.status(), 404);
    app.stop().await;
}

#[tokio::test]
async fn a_refused_session_request_tells_the_customer_and_keeps_the_order_payable() {
    let dir = tempfile::tempdir().expect("tempdir");
    let graph = FakeGraph::start().await;
    let stripe = FakeStripe::start().await;
    // Stripe refuses the request (a 400 is ours to fix, not worth retrying).
    stripe.fail_next([StatusCode::BAD_REQUEST]);
    let app = spawn_app_with(settings(dir.path(), &graph, &stripe), AppOptions::default()).await;
    let mut customer = Customer {
        app: &app,
        graph: &graph,
        sent: 0,
    };
    let seen = order_red_dress(&mut customer).await;
    let (seen, told) = customer
        .expect(seen, "couldn't prepare the payment link")
        .await;
    assert_eq!(stripe.recorded().len(), 1, "not retried");
    let order = stripe.recorded()[0]
        .field("client_reference_id")
        .expect("order")
        .to_owned();
    assert!(
        told.to_string().contains(&format!("payagain:{order}")),
        "{told}"
    );
    // Trying again gets a session under the next link number.
    customer.presses(&format!("payagain:{order}")).await;
    customer.expect(seen, "cs_test_1").await;
    assert_eq!(
        stripe.recorded()[1].idempotency_key.as_deref(),
        Some(format!("souk-{order}-2").as_str())
    );
    app.stop().await;
}
