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
    ) -> Result<String, PaymentError> {
        match self {
            PaymentProvider::Demo(demo) => demo.create_link(order, job),
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
