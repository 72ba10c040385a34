//! Payment providers: turn a placed order into a link the customer pays at. The link is made
//! after the order is durable (a `PaymentJob` in the store, run by `driver::payment_links`);
//! the payment's outcome comes back as a webhook (`http::payments`).

pub mod demo;
pub mod settings;
pub mod stripe;
pub mod telegram;

use std::time::Duration;

use flows::Order;

pub use settings::{PaymentSettings, ProviderKind};

use crate::store::PaymentJob;

#[derive(Debug, thiserror::Error)]
pub enum PaymentError {
    /// Worth trying again later (network, 429, 5xx); `after` is the provider's hint.
    #[error("{reason}")]
    Retry {
        reason: String,
        after: Option<Duration>,
    },
    /// Trying again cannot help (rejected request, bad key): the customer must be told.
    #[error("{0}")]
    Permanent(String),
    /// The job waited so long that a link made now would not be usable for long enough
    /// (Stripe wants a session to live 30 minutes at least): the customer is offered a new
    /// one, which is a new attempt with its own expiry.
    #[error("too late for this link: {0}")]
    TooLate(String),
}

/// A link made by a provider: where the customer pays, and the provider's id of the session
/// behind it when it has one (Stripe), which souk records with what it must charge.
pub struct PaymentLink {
    pub url: String,
    pub session: Option<String>,
}

pub enum PaymentProvider {
    Demo(demo::DemoProvider),
    Stripe(stripe::StripeClient),
}

impl PaymentProvider {
    pub fn name(&self) -> &'static str {
        match self {
            PaymentProvider::Demo(_) => "demo",
            PaymentProvider::Stripe(_) => "stripe",
        }
    }

    /// The URL the customer pays at. Idempotent per job (order and attempt): a retried call
    /// returns the same link.
    pub async fn create_link(
        &self,
        order: &Order,
        job: &PaymentJob,
    ) -> Result<PaymentLink, PaymentError> {
        match self {
            PaymentProvider::Demo(demo) => demo
                .create_link(order, job)
                .await
                .map(|url| PaymentLink { url, session: None }),
            PaymentProvider::Stripe(stripe) => stripe.create_link(order, job).await,
        }
    }
}

/// The one line a discounted order is charged as, e.g. "Order ABC-1: 3 items, code
/// SAVE-7QX4MF2K −15%".
pub fn discounted_title(order: &flows::Order, discount: &flows::discount::OrderDiscount) -> String {
    let items: u32 = order.lines.iter().map(|line| line.quantity).sum();
    format!(
        "Order {}: {items} items, code {} −{}%",
        order.id, discount.code, discount.percent
    )
}

/// Why a provider's word that an order was paid is not taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not a session souk created for that order.
    UnknownSession,
    /// The amount or currency charged is not the order's.
    WrongAmount,
}

impl Refusal {
    pub fn name(self) -> &'static str {
        match self {
            Refusal::UnknownSession => "unknown_session",
            Refusal::WrongAmount => "wrong_amount",
        }
    }
}

/// A payment souk will not confirm: logged, counted, and written into the order's
/// conversation as a note the shop's operators see. The customer is told nothing: the money
/// question is the shop's to settle (a refund or a new link).
pub async fn refuse_payment(
    store: &dyn crate::store::Store,
    console: &crate::console::ConsoleFeed,
    order: &Order,
    provider: &'static str,
    refusal: Refusal,
    detail: &str,
) {
    metrics::counter!("souk_payments_refused_total", "provider" => provider, "reason" => refusal.name())
        .increment(1);
    tracing::error!(order = %order.id, provider, reason = refusal.name(), detail, "payment not confirmed");
    let note = crate::store::HistoryEntry::Note {
        at: crate::clock::now(),
        operator: flows::OperatorId("souk".into()),
        text: format!(
            "A {provider} payment for order {} was NOT confirmed ({}): {detail}. Check it at {provider} and refund or settle it by hand.",
            order.id,
            refusal.name().replace('_', " ")
        ),
    };
    match store.append_history(&order.customer, &note).await {
        Ok(()) => console.publish(&order.customer),
        Err(error) => tracing::error!(%error, order = %order.id, "cannot note the refused payment"),
    }
}
