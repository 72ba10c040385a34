//! Stripe webhook events (v1 `Event` envelopes) → what they mean for an order. Only the
//! events of a Checkout payment matter; everything else is acknowledged and ignored. The
//! order is found through what souk put on the session: `client_reference_id`, else
//! `metadata.order` (which souk also copies onto the PaymentIntent).

use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StripeEvent {
    /// `evt_…`: Stripe's dedup key.
    pub id: String,
    pub kind: StripeEventKind,
    /// The Checkout Session the event is about, when its object is one: souk acts only on
    /// sessions it created, for the amount and currency of their order.
    pub session: Option<SessionFacts>,
}

/// What a Checkout Session says it charged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionFacts {
    pub id: String,
    /// In the currency's minor units.
    pub amount_total: Option<i64>,
    /// Lower-case ISO code, as Stripe writes it.
    pub currency: Option<String>,
}

fn session_facts(object: &Value) -> Option<SessionFacts> {
    if object.get("object").and_then(Value::as_str) != Some("checkout.session") {
        return None;
    }
    Some(SessionFacts {
        id: text(object, "id")?.to_owned(),
        amount_total: object.get("amount_total").and_then(Value::as_i64),
        currency: text(object, "currency").map(str::to_ascii_lowercase),
    })
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StripeEventKind {
    Paid {
        order: String,
    },
    Failed {
        order: String,
    },
    Expired {
        order: String,
    },
    /// Well-formed, but nothing souk acts on: another event type, a session that is not
    /// ours, a completed session still waiting for a delayed payment method.
    Ignored {
        event_type: String,
        why: &'static str,
    },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StripeEventError {
    #[error("the body is not a Stripe event: {0}")]
    Shape(String),
    #[error("a v2 thin event (`{0}`); this endpoint takes v1 snapshot events")]
    ThinEvent(String),
}

#[derive(Deserialize)]
struct Envelope {
    id: String,
    object: String,
    #[serde(rename = "type")]
    event_type: String,
    #[serde(default)]
    data: Option<Data>,
}

#[derive(Deserialize)]
struct Data {
    object: Value,
}

fn text<'a>(object: &'a Value, field: &str) -> Option<&'a str> {
    object
        .get(field)
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
}

/// souk's order id on a session or PaymentIntent.
fn order_of(object: &Value) -> Option<String> {
    text(object, "client_reference_id")
        .or_else(|| object.get("metadata").and_then(|m| text(m, "order")))
        .map(str::to_owned)
}

pub fn parse(body: &[u8]) -> Result<StripeEvent, StripeEventError> {
    let envelope: Envelope =
        serde_json::from_slice(body).map_err(|e| StripeEventError::Shape(e.to_string()))?;
    if envelope.object != "event" {
        return Err(StripeEventError::ThinEvent(envelope.object));
    }
    let ignored = |why| StripeEventKind::Ignored {
        event_type: envelope.event_type.clone(),
        why,
    };
    let Some(object) = envelope.data.as_ref().map(|data| &data.object) else {
        return Err(StripeEventError::Shape("no data.object".into()));
    };
    let kind = match (envelope.event_type.as_str(), order_of(object)) {
        (
            "checkout.session.completed"
            | "checkout.session.async_payment_succeeded"
            | "checkout.session.expired"
            | "checkout.session.async_payment_failed"
            | "payment_intent.payment_failed",
            None,
        ) => ignored("no souk order on the object"),
        ("checkout.session.completed", Some(order)) => {
            // Delayed methods (bank debits) complete the session unpaid; the money is
            // confirmed later by `async_payment_succeeded`.
            match text(object, "payment_status") {
                Some("paid" | "no_payment_required") => StripeEventKind::Paid { order },
                _ => ignored("session completed but not paid yet"),
            }
        }
        ("checkout.session.async_payment_succeeded", Some(order)) => {
            StripeEventKind::Paid { order }
        }
        ("checkout.session.expired", Some(order)) => StripeEventKind::Expired { order },
        (
            "checkout.session.async_payment_failed" | "payment_intent.payment_failed",
            Some(order),
        ) => StripeEventKind::Failed { order },
        _ => ignored("event type not used"),
    };
    Ok(StripeEvent {
        id: envelope.id,
        kind,
        session: session_facts(object),
    })
}
