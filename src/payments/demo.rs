//! The demo provider: a page of souk's own at `/pay/{token}` shows the order and pays it with
//! one button. The token is 128 random bits; the store keeps only its SHA-256 digest, so the
//! store's contents cannot be turned into a working link.

use std::sync::Arc;

use sha2::{Digest, Sha256};

use flows::Order;

use super::PaymentError;
use crate::store::{PaymentJob, Store};

pub struct DemoProvider {
    store: Arc<dyn Store>,
    /// Where souk is reachable, without a trailing slash.
    base_url: String,
}

pub fn token_digest(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

impl DemoProvider {
    pub fn new(store: Arc<dyn Store>, base_url: &str) -> DemoProvider {
        DemoProvider {
            store,
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    /// A fresh token per call: a retried job gets a new link to the same order, which is
    /// harmless because paying is idempotent per order.
    pub async fn create_link(
        &self,
        order: &Order,
        _job: &PaymentJob,
    ) -> Result<String, PaymentError> {
        let token = crate::clock::random_hex_128();
        self.store
            .put_pay_token(&token_digest(&token), &order.id)
            .await
            .map_err(|error| PaymentError::Retry {
                reason: error.to_string(),
                after: None,
            })?;
        Ok(format!("{}/pay/{token}", self.base_url))
    }
}
