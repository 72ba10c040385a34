//! Payment outcomes coming back: Stripe's webhook (`POST /webhooks/payments/stripe`) and the
//! demo provider's pay page (`/pay/{token}`). Either way the outcome becomes an event in the
//! order's conversation, deduplicated (Stripe by event id), and is answered only once durable.

use axum::Form;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;

use adapters::payments::stripe_event::{self, StripeEventKind};
use adapters::payments::stripe_signature;
use flows::{
    Event, Fulfilment, Locale, Order, OrderId, OrderStatus, PaymentFailure, Text, TextKey,
};

use super::PageState;
use super::escape_html;
use crate::api_error::ApiError;
use crate::clock;
use crate::payments::demo::token_digest;
use crate::payments::{ProviderKind, Refusal};
use crate::render::format_money;
use crate::store::InboxEntry;

fn provider_off() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "this payment provider is not enabled",
    )
}

/// Hands an order's payment event to its conversation; `Ok(false)` for a duplicate.
async fn feed(
    state: &PageState,
    order: &Order,
    public_id: String,
    dedup_key: String,
    event: Event,
) -> Result<bool, ApiError> {
    let entry = InboxEntry {
        claim: None,
        seq: 0,
        public_id,
        dedup_key: Some(dedup_key),
        customer: order.customer.clone(),
        event,
        received_at: clock::now(),
    };
    Ok(state.ingest.accept(entry).await?)
}

pub async fn stripe_webhook(
    State(state): State<PageState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let payments = &state.settings.payments;
    let secret = match (&payments.provider, &payments.stripe.webhook_secret) {
        (ProviderKind::Stripe, Some(secret)) => secret,
        _ => return Err(provider_off()),
    };
    let header = headers
        .get("stripe-signature")
        .and_then(|value| value.to_str().ok());
    let now = clock::now().millis() / 1000;
    if let Err(error) = stripe_signature::verify(
        secret.expose().as_bytes(),
        &body,
        header,
        now,
        payments.stripe.tolerance_seconds,
    ) {
        metrics::counter!("souk_webhook_rejected_total", "channel" => "stripe", "reason" => "signature").increment(1);
        tracing::warn!(%error, "Stripe webhook refused");
        return Err(ApiError::new(StatusCode::BAD_REQUEST, error.to_string()));
    }
    let event = match stripe_event::parse(&body) {
        Ok(event) => event,
        Err(error) => {
            // Signed by Stripe, so not an attack: a v2 destination pointed here, or a new
            // shape. Acknowledged so Stripe does not retry it for days; counted and logged.
            metrics::counter!("souk_webhook_ignored_total", "channel" => "stripe").increment(1);
            tracing::warn!(%error, "Stripe event not understood; acknowledged");
            return Ok(StatusCode::OK);
        }
    };
    let failed = |order: String, reason| {
        let id = OrderId(order);
        (id.clone(), Event::PaymentFailed { order: id, reason })
    };
    let (id, payment) = match event.kind {
        StripeEventKind::Paid { order } => {
            let id = OrderId(order);
            (id.clone(), Event::PaymentConfirmed { order: id })
        }
        StripeEventKind::Failed { order } => failed(order, PaymentFailure::Declined),
        StripeEventKind::Expired { order } => failed(order, PaymentFailure::Expired),
        StripeEventKind::Ignored { event_type, why } => {
            tracing::debug!(%event_type, why, "Stripe event ignored");
            return Ok(StatusCode::OK);
        }
    };
    let store = state.store.clone();
    let Some(order) = store.order(&id).await? else {
        // Another integration's session on the same account, or an order from another
        // souk store: nothing of ours to update, and retrying will not change that.
        tracing::warn!(order = %id, event = %event.id, "Stripe event for an unknown order");
        return Ok(StatusCode::OK);
    };
    // Only a session souk created for this order, charging the order's total, moves it.
    // Acknowledged either way: Stripe retrying the same event cannot make it right.
    let paid = matches!(payment, Event::PaymentConfirmed { .. });
    if let Err((refusal, detail)) =
        session_check(&state, &order, event.session.as_ref(), paid).await?
    {
        crate::payments::refuse_payment(
            store.as_ref(),
            &state.console_feed,
            &order,
            "stripe",
            refusal,
            &detail,
        )
        .await;
        return Ok(StatusCode::OK);
    }
    let fresh = feed(
        &state,
        &order,
        event.id.clone(),
        format!("stripe:{}", event.id),
        payment,
    )
    .await?;
    if !fresh {
        metrics::counter!("souk_events_duplicate_total", "channel" => "stripe").increment(1);
    }
    Ok(StatusCode::OK)
}

/// Whether a Stripe event's session is one souk made for `order` and, for a payment, charged
/// the order's total in its currency.
async fn session_check(
    state: &PageState,
    order: &Order,
    session: Option<&stripe_event::SessionFacts>,
    paid: bool,
) -> Result<Result<(), (Refusal, String)>, ApiError> {
    let Some(session) = session else {
        return Ok(Err((
            Refusal::UnknownSession,
            "the event is not about a Checkout Session".into(),
        )));
    };
    let recorded = state.store.payment_session(&session.id).await?;
    let Some(recorded) = recorded.filter(|r| r.order == order.id) else {
        return Ok(Err((
            Refusal::UnknownSession,
            format!(
                "session {} was not created by souk for this order",
                session.id
            ),
        )));
    };
    if !paid {
        return Ok(Ok(()));
    }
    let expected_currency = order.total.currency.code().to_ascii_lowercase();
    let charged = (session.amount_total, session.currency.as_deref());
    if charged != (Some(order.total.minor), Some(expected_currency.as_str()))
        || recorded.amount != order.total
    {
        return Ok(Err((
            Refusal::WrongAmount,
            format!(
                "session {} charged {} {}, the order is {} {}",
                session.id,
                session
                    .amount_total
                    .map_or_else(|| "nothing".to_owned(), |a| a.to_string()),
                session.currency.as_deref().unwrap_or("?"),
                order.total.minor,
                expected_currency
            ),
        )));
    }
    Ok(Ok(()))
}

/// The order a demo token pays, with the locale of its customer's conversation.
async fn demo_order(state: &PageState, token: &str) -> Result<Option<(Order, Locale)>, ApiError> {
    if state.settings.payments.provider != ProviderKind::Demo {
        return Err(provider_off());
    }
    let well_formed = token.len() == 32 && token.bytes().all(|b| b.is_ascii_hexdigit());
    if !well_formed {
        return Ok(None);
    }
    let Some(id) = state.store.pay_token(&token_digest(token)).await? else {
        return Ok(None);
    };
    let Some(order) = state.store.order(&id).await? else {
        return Ok(None);
    };
    let locale = state
        .store
        .conversation(&order.customer)
        .await?
        .map_or(state.settings.shop.default_locale, |c| c.locale);
    Ok(Some((order, locale)))
}

fn page(state: &PageState, locale: Locale, title: &str, body: &str) -> Html<String> {
    let dir = if locale == Locale::He { "rtl" } else { "ltr" };
    Html(format!(
        "<!doctype html><html lang=\"{lang}\" dir=\"{dir}\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><title>{title}</title>\
<style>body{{font-family:system-ui,sans-serif;max-width:32rem;margin:2rem auto;padding:0 1rem;color:#222}}\
table{{width:100%;border-collapse:collapse}}td{{padding:.4rem 0;border-bottom:1px solid #eee}}\
td.n{{text-align:end}}button{{font-size:1rem;padding:.7rem 1.2rem;margin:.4rem .4rem 0 0;border-radius:.4rem;border:1px solid #888;background:#fff;cursor:pointer}}\
button.pay{{background:#1a7f37;border-color:#1a7f37;color:#fff}}.note{{color:#666;font-size:.9rem}}</style>\
</head><body><p class=\"note\">{shop}</p><h1>{title}</h1>{body}</body></html>",
        lang = locale.code(),
        shop = escape_html(&state.settings.shop.name),
    ))
}

fn text(state: &PageState, locale: Locale, text: Text) -> String {
    escape_html(&state.renderer.text(locale, &text))
}

fn closed_page(state: &PageState) -> Response {
    let locale = state.settings.shop.default_locale;
    let title = text(state, locale, Text::new(TextKey::PayPageClosed));
    (StatusCode::NOT_FOUND, page(state, locale, &title, "")).into_response()
}

fn paid_page(state: &PageState, order: &Order, locale: Locale) -> Response {
    let title = text(
        state,
        locale,
        Text::new(TextKey::PayPagePaid).str("order", order.id.0.clone()),
    );
    page(state, locale, &title, "").into_response()
}

/// The order behind a demo token if it can still be paid; else the page to answer with
/// (closed, already paid, or an error).
async fn payable(state: &PageState, token: &str) -> Result<(Order, Locale), Box<Response>> {
    let (order, locale) = match demo_order(state, token).await {
        Ok(Some(found)) => found,
        Ok(None) => return Err(Box::new(closed_page(state))),
        Err(error) => return Err(Box::new(error.into_response())),
    };
    if order.status.money_taken() {
        return Err(Box::new(paid_page(state, &order, locale)));
    }
    if !matches!(
        order.status,
        OrderStatus::PendingPayment | OrderStatus::PaymentFailed
    ) {
        return Err(Box::new(closed_page(state)));
    }
    Ok((order, locale))
}

pub async fn pay_page(State(state): State<PageState>, Path(token): Path<String>) -> Response {
    let (order, locale) = match payable(&state, &token).await {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let title = text(
        &state,
        locale,
        Text::new(TextKey::PayPageTitle).str("order", order.id.0.clone()),
    );
    let rows: String = order
        .lines
        .iter()
        .map(|line| {
            format!(
                "<tr><td>{}</td><td class=\"n\">× {}</td><td class=\"n\">{}</td></tr>",
                escape_html(&line.title),
                line.quantity,
                escape_html(&format_money(line.unit_price.times(line.quantity), locale)),
            )
        })
        .collect();
    // The customer checks where the order goes before paying for it.
    let fulfilment = match &order.fulfilment {
        Some(Fulfilment::Delivery { address }) => {
            Some(Text::new(TextKey::PayPageDelivery).str("address", address.clone()))
        }
        Some(Fulfilment::Pickup { point }) => {
            Some(Text::new(TextKey::PayPagePickup).str("point", point.clone()))
        }
        None => None,
    }
    .map(|line| format!("<p>{}</p>", text(&state, locale, line)))
    .unwrap_or_default();
    let body = format!(
        "<table>{rows}<tr><td></td><td></td><td class=\"n\"><b>{total}</b></td></tr></table>{fulfilment}\
<form method=\"post\"><button class=\"pay\" name=\"outcome\" value=\"pay\">{pay}</button>\
<button name=\"outcome\" value=\"decline\">{decline}</button></form><p class=\"note\">{note}</p>",
        total = escape_html(&format_money(order.total, locale)),
        pay = text(
            &state,
            locale,
            Text::new(TextKey::PayPageButton).money("total", order.total)
        ),
        decline = text(&state, locale, Text::new(TextKey::PayPageDecline)),
        note = text(&state, locale, Text::new(TextKey::PayPageNote)),
    );
    page(&state, locale, &title, &body).into_response()
}

#[derive(Deserialize)]
pub struct PayForm {
    outcome: String,
}

pub async fn pay_submit(
    State(state): State<PageState>,
    Path(token): Path<String>,
    Form(form): Form<PayForm>,
) -> Response {
    let (order, locale) = match payable(&state, &token).await {
        Ok(found) => found,
        Err(page) => return *page,
    };
    let (event, dedup_key) = match form.outcome.as_str() {
        "pay" => (
            Event::PaymentConfirmed {
                order: order.id.clone(),
            },
            format!("demo:{}:paid", order.id),
        ),
        "decline" => (
            Event::PaymentFailed {
                order: order.id.clone(),
                reason: PaymentFailure::Declined,
            },
            format!("demo:{}:{}:declined", order.id, order.payment_attempts),
        ),
        _ => {
            return ApiError::new(StatusCode::BAD_REQUEST, "outcome must be pay or decline")
                .into_response();
        }
    };
    let paying = matches!(event, Event::PaymentConfirmed { .. });
    let public_id = dedup_key.clone();
    if let Err(error) = feed(&state, &order, public_id, dedup_key, event).await {
        return error.into_response();
    }
    if paying {
        paid_page(&state, &order, locale)
    } else {
        let title = text(&state, locale, Text::new(TextKey::PayPageReturn));
        page(&state, locale, &title, "").into_response()
    }
}

/// Where Stripe sends the customer back to (unless the shop set its own URLs).
pub async fn returned(State(state): State<PageState>) -> Html<String> {
    let locale = state.settings.shop.default_locale;
    let title = text(&state, locale, Text::new(TextKey::PayPageReturn));
    page(&state, locale, &title, "")
}
