//! `Stripe-Signature: t=<unix>,v1=<hex>[,v1=<hex>…]`: HMAC-SHA256 of `"{t}.{raw body}"` with
//! the endpoint secret. Any `v1` may match (several appear while a secret is rolled); `v0` and
//! unknown schemes are ignored; the timestamp must be within the tolerance of our clock, so
//! a captured request cannot be replayed later. Checked on the raw bytes, in constant time.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// The official libraries' default.
pub const DEFAULT_TOLERANCE_SECONDS: i64 = 300;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StripeSignatureError {
    #[error("missing Stripe-Signature header")]
    Missing,
    #[error("malformed Stripe-Signature header: {0}")]
    Malformed(&'static str),
    #[error("Stripe-Signature timestamp is {0} s away from our clock (tolerance exceeded)")]
    OutsideTolerance(i64),
    #[error("no v1 signature matches the body")]
    Mismatch,
}

/// Verifies the header against the raw body at `now_seconds` (Unix time).
pub fn verify(
    secret: &[u8],
    raw_body: &[u8],
    header: Option<&str>,
    now_seconds: i64,
    tolerance_seconds: i64,
) -> Result<(), StripeSignatureError> {
    let header = header.ok_or(StripeSignatureError::Missing)?;
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        let Some((key, value)) = part.trim().split_once('=') else {
            return Err(StripeSignatureError::Malformed("an element without '='"));
        };
        match key {
            "t" => {
                let t = value
                    .parse::<i64>()
                    .map_err(|_| StripeSignatureError::Malformed("t is not a number"))?;
                timestamp = Some(t);
            }
            // A v1 that is not hex cannot match; skipping it lets a valid sibling still match.
            "v1" => candidates.extend(hex::decode(value).ok()),
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(StripeSignatureError::Malformed("no t="))?;
    if candidates.is_empty() {
        return Err(StripeSignatureError::Malformed("no v1 signature"));
    }
    let skew = now_seconds.saturating_sub(timestamp);
    // A skew that saturated at i64::MIN has no absolute value in i64: outside any tolerance
    // (`abs` would overflow: a panic in debug builds, a negative "distance" in release).
    if skew
        .checked_abs()
        .is_none_or(|distance| distance > tolerance_seconds)
    {
        return Err(StripeSignatureError::OutsideTolerance(skew));
    }
    let mac = signed_payload_mac(secret, timestamp, raw_body);
    // Every candidate is checked (no early exit on the first match) in constant time each.
    let matched = candidates.iter().fold(false, |found, candidate| {
        mac.clone().verify_slice(candidate).is_ok() | found
    });
    if matched {
        Ok(())
    } else {
        Err(StripeSignatureError::Mismatch)
    }
}

fn signed_payload_mac(secret: &[u8], timestamp: i64, raw_body: &[u8]) -> Hmac<Sha256> {
    // HMAC accepts keys of any length, so `new_from_slice` cannot fail; an empty-key MAC
    // would only make every check fail, never pass.
    let mut mac = Hmac::<Sha256>::new_from_slice(secret)
        .unwrap_or_else(|_| <Hmac<Sha256> as Mac>::new(&Default::default()));
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(raw_body);
    mac
}

/// The header Stripe would send for `raw_body` at `timestamp`; for tests and fake servers.
pub fn sign(secret: &[u8], raw_body: &[u8], timestamp: i64) -> String {
    let mac = signed_payload_mac(secret, timestamp, raw_body);
    format!(
        "t={timestamp},v1={}",
        hex::encode(mac.finalize().into_bytes())
    )
}
