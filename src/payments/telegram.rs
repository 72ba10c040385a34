//! Native Telegram payments: for a customer on Telegram, when a payment provider token is
//! configured, the "payment link" is a Telegram invoice link (`createInvoiceLink`), paid
//! inside the app. Telegram asks before taking the money (`pre_checkout_query`, answered by
//! `telegram::ingress` after re-checking the order, its amount and the stock) and reports
//! the payment in the chat (`successful_payment`), which confirms the order.

use teloxide::payloads::setters::*;
use teloxide::prelude::Requester;
use teloxide::types::LabeledPrice;
use teloxide::{Bot, RequestError};

use flows::{Order, OrderId};

use super::PaymentError;
use crate::settings::Secret;
use crate::store::PaymentJob;

/// Telegram's limits for an invoice.
const TITLE_LIMIT: usize = 32;
const DESCRIPTION_LIMIT: usize = 255;

pub struct TelegramInvoices {
    pub bot: Bot,
    pub provider_token: Secret,
}

/// What an invoice carries back: our order and the link's attempt ("souk:ORDER:ATTEMPT").
pub fn payload(order: &OrderId, attempt: u32) -> String {
    format!("souk:{order}:{attempt}")
}

pub fn order_of(payload: &str) -> Option<OrderId> {
    let rest = payload.strip_prefix("souk:")?;
    let (order, attempt) = rest.rsplit_once(':')?;
    attempt.parse::<u32>().ok()?;
    (!order.is_empty()).then(|| OrderId(order.to_owned()))
}

fn cut(text: &str, limit: usize) -> String {
    if text.chars().count() <= limit {
        return text.to_owned();
    }
    let mut cut: String = text.chars().take(limit - 1).collect();
    cut.push('…');
    cut
}

/// The order's lines as Telegram prices (amounts in minor units, as ours are).
pub fn prices(order: &Order) -> Result<Vec<LabeledPrice>, PaymentError> {
    // Telegram's prices cannot be negative: a discounted order is one price, its total.
    if let Some(discount) = &order.discount {
        let amount = u32::try_from(order.total.minor)
            .map_err(|_| PaymentError::Permanent("the order total does not fit Telegram".into()))?;
        return Ok(vec![LabeledPrice::new(
            cut(&crate::payments::discounted_title(order, discount), 64),
            amount,
        )]);
    }
    order
        .lines
        .iter()
        .map(|line| {
            let amount = line
                .unit_price
                .minor
                .checked_mul(i64::from(line.quantity))
                .and_then(|a| u32::try_from(a).ok())
                .ok_or_else(|| {
                    PaymentError::Permanent("an order line is too large for Telegram".into())
                })?;
            Ok(LabeledPrice::new(
                cut(&format!("{} × {}", line.quantity, line.title), 64),
                amount,
            ))
        })
        .collect()
}

impl TelegramInvoices {
    pub async fn create_link(
        &self,
        order: &Order,
        job: &PaymentJob,
    ) -> Result<String, PaymentError> {
        let description: Vec<String> = order
            .lines
            .iter()
            .map(|line| format!("{} × {}", line.quantity, line.title))
            .collect();
        let request = self
            .bot
            .create_invoice_link(
                cut(&format!("Order {}", order.id), TITLE_LIMIT),
                cut(&description.join(", "), DESCRIPTION_LIMIT),
                payload(&order.id, job.attempt),
                order.total.currency.code().to_owned(),
                prices(order)?,
            )
            .provider_token(self.provider_token.expose().to_owned());
        request.await.map_err(|error| match error {
            RequestError::RetryAfter(seconds) => PaymentError::Retry {
                reason: "Telegram asked to wait".into(),
                after: Some(seconds.duration()),
            },
            RequestError::Network(_) | RequestError::Io(_) | RequestError::InvalidJson { .. } => {
                PaymentError::Retry {
                    reason: "Telegram could not be reached".into(),
                    after: None,
                }
            }
            RequestError::Api(error) => {
                PaymentError::Permanent(format!("Telegram refused the invoice: {error}"))
            }
            RequestError::MigrateToChatId(_) => {
                PaymentError::Permanent("unexpected chat migration".into())
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_name_the_order() {
        let order = OrderId("C0FFEE-1".into());
        assert_eq!(order_of(&payload(&order, 2)), Some(order));
        assert_eq!(order_of("HAPPY FRIDAYS COUPON"), None);
        assert_eq!(order_of("souk::1"), None);
        assert_eq!(order_of("souk:X:notanumber"), None);
    }
}
