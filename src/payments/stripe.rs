//! Stripe Checkout Sessions over Stripe's REST API (form-encoded, bearer secret key). One
//! session per payment link, created with an `Idempotency-Key` of the order and its link
//! number, so a retried request gets the same session back instead of a second one.

use std::time::Duration;

use serde::Deserialize;

use flows::{ContactPoint, Order, Timestamp};

use super::PaymentError;
use super::settings::StripeSettings;
use crate::store::PaymentJob;

/// The shortest life Stripe accepts for a Checkout Session.
const STRIPE_MIN_LIFETIME_SECS: i64 = 30 * 60;

pub struct StripeClient {
    client: reqwest::Client,
    api_base: String,
    secret_key: String,
    success_url: String,
    cancel_url: String,
    link_expiry_minutes: u32,
}

#[derive(Deserialize)]
struct Session {
    id: Option<String>,
    url: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Deserialize)]
struct ErrorDetail {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    message: String,
}

impl StripeClient {
    pub fn new(
        settings: &StripeSettings,
        public_url: &str,
        link_expiry_minutes: u32,
    ) -> anyhow::Result<StripeClient> {
        let public_url = public_url.trim_end_matches('/');
        let client = reqwest::Client::builder()
            .timeout(Duration::from_millis(settings.request_timeout_ms.max(1)))
            .build()?;
        Ok(StripeClient {
            client,
            api_base: settings.api_base.trim_end_matches('/').to_owned(),
            secret_key: settings
                .secret_key
                .as_ref()
                .map(|s| s.expose().to_owned())
                .unwrap_or_default(),
            success_url: settings
                .success_url
                .clone()
                .unwrap_or_else(|| format!("{public_url}/pay/done")),
            cancel_url: settings
                .cancel_url
                .clone()
                .unwrap_or_else(|| format!("{public_url}/pay/cancelled")),
            link_expiry_minutes,
        })
    }

    /// The session's form fields. Prices are the order's snapshot, in minor units.
    /// The session's `expires_at` (seconds), from the job, not the clock: a retry must send
    /// the very same body under its key. Stripe refuses a session that expires sooner than
    /// 30 minutes after it is created, so a job retried too long is given up instead.
    fn expires_at(&self, job: &PaymentJob, now: Timestamp) -> Result<i64, PaymentError> {
        let expires_at = job.created_at.millis() / 1000 + i64::from(self.link_expiry_minutes) * 60;
        let earliest = now.millis() / 1000 + STRIPE_MIN_LIFETIME_SECS;
        if expires_at < earliest {
            return Err(PaymentError::TooLate(format!(
                "the link would expire {} s from now; Stripe needs {STRIPE_MIN_LIFETIME_SECS} s",
                expires_at - now.millis() / 1000
            )));
        }
        Ok(expires_at)
    }

    fn form(&self, order: &Order, expires_at: i64) -> Vec<(String, String)> {
        let mut form = vec![
            ("mode".to_owned(), "payment".to_owned()),
            ("client_reference_id".to_owned(), order.id.0.clone()),
            ("metadata[order]".to_owned(), order.id.0.clone()),
            // The PaymentIntent carries the order too, so `payment_intent.payment_failed`
            // names it.
            (
                "payment_intent_data[metadata][order]".to_owned(),
                order.id.0.clone(),
            ),
            ("success_url".to_owned(), self.success_url.clone()),
            ("cancel_url".to_owned(), self.cancel_url.clone()),
            ("expires_at".to_owned(), expires_at.to_string()),
        ];
        if let ContactPoint::Email(email) = &order.contact {
            form.push(("customer_email".to_owned(), email.clone()));
        }
        // A discounted order is charged as one line at its total: the lines' prices would
        // add up to more than was agreed.
        if let Some(discount) = &order.discount {
            let field = |name: &str| format!("line_items[0][{name}]");
            form.push((field("quantity"), "1".to_owned()));
            form.push((
                field("price_data][currency"),
                order.total.currency.code().to_ascii_lowercase(),
            ));
            form.push((
                field("price_data][unit_amount"),
                order.total.minor.to_string(),
            ));
            form.push((
                field("price_data][product_data][name"),
                crate::payments::discounted_title(order, discount),
            ));
            return form;
        }
        for (i, line) in order.lines.iter().enumerate() {
            let field = |name: &str| format!("line_items[{i}][{name}]");
            form.push((field("quantity"), line.quantity.to_string()));
            form.push((
                field("price_data][currency"),
                line.unit_price.currency.code().to_ascii_lowercase(),
            ));
            form.push((
                field("price_data][unit_amount"),
                line.unit_price.minor.to_string(),
            ));
            form.push((field("price_data][product_data][name"), line.title.clone()));
        }
        form
    }

    pub async fn create_link(
        &self,
        order: &Order,
        job: &PaymentJob,
    ) -> Result<super::PaymentLink, PaymentError> {
        let expires_at = self.expires_at(job, crate::clock::now())?;
        let response = self
            .client
            .post(format!("{}/v1/checkout/sessions", self.api_base))
            .bearer_auth(&self.secret_key)
            .header("Idempotency-Key", job.idempotency_key())
            .form(&self.form(order, expires_at))
            .send()
            .await
            .map_err(|error| PaymentError::Retry {
                reason: format!("Stripe unreachable: {error}"),
                after: None,
            })?;
        let status = response.status();
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok())
            .map(Duration::from_secs);
        let body = response
            .bytes()
            .await
            .map_err(|error| PaymentError::Retry {
                reason: format!("reading Stripe's answer: {error}"),
                after: None,
            })?;
        if status.is_success() {
            let session: Session =
                serde_json::from_slice(&body).map_err(|error| PaymentError::Retry {
                    reason: format!("Stripe's session is not the expected JSON: {error}"),
                    after: None,
                })?;
            let (Some(url), Some(id)) = (session.url, session.id) else {
                return Err(PaymentError::Permanent(
                    "Stripe returned a session without a URL or id".into(),
                ));
            };
            return Ok(super::PaymentLink {
                url,
                session: Some(id),
            });
        }
        let detail = serde_json::from_slice::<ErrorBody>(&body)
            .map(|e| format!("{}: {}", e.error.kind, e.error.message))
            .unwrap_or_else(|_| String::from_utf8_lossy(&body).chars().take(200).collect());
        let reason = format!("Stripe answered {status}: {detail}");
        // Stripe: 429 and 5xx are safe to retry with the same idempotency key; 409 means a
        // concurrent request with the key is still running. Anything else is our request.
        if status.as_u16() == 429 || status.as_u16() == 409 || status.is_server_error() {
            Err(PaymentError::Retry {
                reason,
                after: retry_after,
            })
        } else {
            Err(PaymentError::Permanent(reason))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::payments::settings::StripeSettings;
    use flows::{CustomerId, Money, OrderId};

    fn job(created_at: Timestamp) -> PaymentJob {
        PaymentJob {
            order: OrderId("o-1".to_owned()),
            customer: CustomerId("c-1".to_owned()),
            total: Money::new(1000, flows::Currency::new("EUR").unwrap()),
            attempt: 1,
            created_at,
            tries: 0,
            next_try_at: created_at,
            last_error: None,
        }
    }

    #[test]
    fn expiry_counts_from_the_job_and_a_job_too_old_for_stripe_is_given_up() {
        let settings = StripeSettings::default();
        let client = StripeClient::new(&settings, "https://shop.example", 60).unwrap();
        let created = Timestamp(1_800_000_000_000);

        let expected = 1_800_000_000 + 3600;
        // A retry sends the same expiry as the first try, whenever it runs.
        for later in [0, 10, 30] {
            let now = created.plus(flows::Span::minutes(later));
            assert!(matches!(client.expires_at(&job(created), now), Ok(at) if at == expected));
        }
        // 31 minutes after the order, 29 would be left: Stripe would refuse the session.
        let now = created.plus(flows::Span::minutes(31));
        assert!(matches!(
            client.expires_at(&job(created), now),
            Err(PaymentError::TooLate(_))
        ));
    }

    #[test]
    fn a_discounted_order_is_charged_as_one_line_at_its_total() {
        let settings = StripeSettings::default();
        let client = StripeClient::new(&settings, "https://shop.example", 60).unwrap();
        let eur = flows::Currency::new("EUR").unwrap();
        let order = flows::Order {
            id: OrderId("o-1".into()),
            customer: CustomerId("c-1".into()),
            name: "Ana".into(),
            contact: flows::ContactPoint::Phone("+40721234567".into()),
            lines: vec![flows::OrderLine {
                sku: flows::Sku("MUG".into()),
                product: flows::ProductId("mug".into()),
                title: "Mug".into(),
                quantity: 2,
                unit_price: Money::new(1500, eur),
            }],
            total: Money::new(2550, eur),
            status: flows::OrderStatus::PendingPayment,
            placed_at: Timestamp(1_800_000_000_000),
            fulfilment: None,
            tracking: None,
            payment_attempts: 1,
            payment_failures: 0,
            oversold: Vec::new(),
            recovered_step: Some(1),
            discount: Some(flows::discount::OrderDiscount {
                code: "SAVE-7QX4MF2K".into(),
                percent: 15,
                amount: Money::new(450, eur),
            }),
            booking: None,
            history: Vec::new(),
        };
        let form = client.form(&order, 1_800_003_600);
        let get = |key: &str| form.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        assert_eq!(get("line_items[0][price_data][unit_amount]"), Some("2550"));
        assert_eq!(get("line_items[0][quantity]"), Some("1"));
        assert_eq!(get("line_items[1][quantity]"), None);
        assert!(
            get("line_items[0][price_data][product_data][name]")
                .is_some_and(|name| name.contains("SAVE-7QX4MF2K"))
        );
    }
}
