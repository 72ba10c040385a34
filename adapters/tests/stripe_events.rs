//! Stripe webhook events → what they mean for an order, on the recorded payloads in
//! `tests/fixtures/stripe` (SOURCES.md): the Checkout Session `data.object` wrapped in the
//! v1 envelope, the full envelope of an event souk does not use, and a v2 thin event.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use adapters::payments::stripe_event::{StripeEventError, StripeEventKind, parse};
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/stripe")
        .join(name);
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}

/// The recorded session as souk would have created it: our order id on it.
fn session(order: Option<&str>, payment_status: &str) -> Value {
    let mut data = fixture("checkout_session_completed_data_object.json");
    let object = &mut data["object"];
    object["client_reference_id"] = order.map_or(Value::Null, |o| json!(o));
    object["payment_status"] = json!(payment_status);
    data
}

fn event(event_type: &str, data: Value) -> Vec<u8> {
    serde_json::to_vec(&json!({
        "id": "evt_1", "object": "event", "api_version": "2024-06-20", "created": 1_700_000_000,
        "livemode": false, "pending_webhooks": 1, "type": event_type, "data": data,
    }))
    .unwrap()
}

fn kind(event_type: &str, data: Value) -> StripeEventKind {
    parse(&event(event_type, data)).unwrap().kind
}

#[test]
fn a_paid_completed_session_pays_its_order() {
    let parsed = parse(&event(
        "checkout.session.completed",
        session(Some("AB12-3"), "paid"),
    ))
    .unwrap();
    assert_eq!(parsed.id, "evt_1");
    assert_eq!(
        parsed.kind,
        StripeEventKind::Paid {
            order: "AB12-3".into()
        }
    );
}

#[test]
fn a_session_completed_unpaid_waits_for_the_async_result() {
    assert!(matches!(
        kind(
            "checkout.session.completed",
            session(Some("AB12-3"), "unpaid")
        ),
        StripeEventKind::Ignored { .. }
    ));
    assert_eq!(
        kind(
            "checkout.session.async_payment_succeeded",
            session(Some("AB12-3"), "paid")
        ),
        StripeEventKind::Paid {
            order: "AB12-3".into()
        }
    );
    assert_eq!(
        kind(
            "checkout.session.async_payment_failed",
            session(Some("AB12-3"), "unpaid")
        ),
        StripeEventKind::Failed {
            order: "AB12-3".into()
        }
    );
}

#[test]
fn expired_sessions_and_failed_payment_intents_name_the_order() {
    assert_eq!(
        kind(
            "checkout.session.expired",
            session(Some("AB12-3"), "unpaid")
        ),
        StripeEventKind::Expired {
            order: "AB12-3".into()
        }
    );
    let intent = json!({"object": {"id": "pi_1", "object": "payment_intent",
        "metadata": {"order": "AB12-4"}, "last_payment_error": {"code": "card_declined"}}});
    assert_eq!(
        kind("payment_intent.payment_failed", intent),
        StripeEventKind::Failed {
            order: "AB12-4".into()
        }
    );
}

#[test]
fn sessions_without_a_souk_order_and_other_events_are_ignored() {
    // The recorded session as it was: a subscription of another app on the same account.
    assert!(matches!(
        kind("checkout.session.completed", session(None, "paid")),
        StripeEventKind::Ignored { .. }
    ));
    let envelope =
        serde_json::to_vec(&fixture("event_account_updated_full_envelope.json")).unwrap();
    assert!(matches!(
        parse(&envelope).unwrap().kind,
        StripeEventKind::Ignored { ref event_type, .. } if event_type == "account.updated"
    ));
}

#[test]
fn thin_events_and_garbage_are_errors_not_panics() {
    let thin = serde_json::to_vec(&fixture("thin_event_v2_core_event.json")).unwrap();
    assert!(matches!(parse(&thin), Err(StripeEventError::ThinEvent(_))));
    // stripe-python's dummy event has no `type`: not an event we can act on.
    let dummy = serde_json::to_vec(&fixture("signature_test_dummy_event_v1.json")).unwrap();
    assert!(matches!(parse(&dummy), Err(StripeEventError::Shape(_))));
    for body in [&b""[..], b"{", b"[]", b"{\"id\":1}", b"null"] {
        assert!(
            matches!(parse(body), Err(StripeEventError::Shape(_))),
            "{body:?}"
        );
    }
}
