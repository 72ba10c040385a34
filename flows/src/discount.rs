//! Discount codes that abandoned-cart reminders offer: minted per reminder step, tied to
//! the customer's conversation (a code works nowhere else), single use, expiring. Applied
//! at checkout, where the total is recomputed, and kept on the order.

use serde::{Deserialize, Serialize};

use crate::customer::CustomerId;
use crate::money::Money;
use crate::time::{Span, Timestamp};
use crate::vocabulary::OrderId;

/// Codes look like `SAVE-7QX4MF2K`: a prefix nothing else a customer writes has, then
/// letters without the look-alikes 0/O and 1/I.
pub const CODE_PREFIX: &str = "SAVE";
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
pub const CODE_LENGTH: usize = 8;

/// What a reminder step gives: a percentage off the cart, for a while.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepDiscount {
    /// 1–90.
    pub percent: u32,
    pub valid_for: Span,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DiscountCode {
    pub code: String,
    pub percent: u32,
    /// The reminder step that offered it (0 = the first).
    pub step: u32,
    pub expires_at: Timestamp,
    /// The order it was spent on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_by: Option<OrderId>,
}

/// A discount as the order keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OrderDiscount {
    pub code: String,
    pub percent: u32,
    /// Taken off the lines' total.
    pub amount: Money,
}

/// Why a code cannot be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Not one of this customer's codes.
    Unknown,
    Used,
    Expired,
}

/// The code a message is, if it is only one (spaces, dashes and case forgiven).
pub fn code_in(text: &str) -> Option<String> {
    let compact = crate::vocabulary::compact_code(text);
    let body = compact.strip_prefix(CODE_PREFIX)?;
    (body.len() == CODE_LENGTH && body.bytes().all(|b| CODE_ALPHABET.contains(&b)))
        .then(|| format!("{CODE_PREFIX}-{body}"))
}

/// The customer's `n`th code. The core has no randomness, so it is derived (FNV-1a over the
/// customer id and the number): distinct per customer and number, and worthless to anyone
/// else, because a code is only ever looked up in its own customer's conversation.
pub fn mint(customer: &CustomerId, n: u32) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in customer.0.bytes().chain(n.to_be_bytes()) {
        hash ^= u64::from(byte);
        hash = hash.wrapping_mul(0x0100_0000_01b3);
    }
    // FNV's last multiply spreads the number's bytes over the low bits only; a finalizer
    // (MurmurHash3's) mixes every input bit into every output bit.
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xff51_afd7_ed55_8ccd);
    hash ^= hash >> 33;
    hash = hash.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    hash ^= hash >> 33;
    let body: String = (0..CODE_LENGTH)
        .map(|i| {
            let index = (hash >> (i * 5)) & 31;
            char::from(CODE_ALPHABET[usize::try_from(index).unwrap_or(0)])
        })
        .collect();
    format!("{CODE_PREFIX}-{body}")
}

/// `percent` of `total`, rounded down to the minor unit (the shop never gives more).
pub fn amount_off(total: Money, percent: u32) -> Money {
    let off = total.minor.saturating_mul(i64::from(percent.min(100))) / 100;
    Money::new(off, total.currency)
}

/// Checks `code` among the customer's codes at `now`.
pub fn check<'a>(
    codes: &'a [DiscountCode],
    code: &str,
    now: Timestamp,
) -> Result<&'a DiscountCode, Refusal> {
    let found = codes
        .iter()
        .find(|c| c.code == code)
        .ok_or(Refusal::Unknown)?;
    if found.used_by.is_some() {
        return Err(Refusal::Used);
    }
    if found.expires_at <= now {
        return Err(Refusal::Expired);
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_and_read_back_however_written() {
        let a = mint(&CustomerId("c0ffee".into()), 1);
        let b = mint(&CustomerId("c0ffee".into()), 2);
        let c = mint(&CustomerId("decaf".into()), 1);
        assert!(a != b && a != c && b != c);
        assert_eq!(code_in(&a), Some(a.clone()));
        let sloppy = a.to_lowercase().replace('-', " ");
        assert_eq!(code_in(&sloppy), Some(a.clone()));
        assert_eq!(code_in("save the date"), None);
        assert_eq!(code_in("LK-7QX4MF"), None);
    }

    #[test]
    fn the_amount_rounds_down() {
        let eur = crate::money::Currency::new("EUR").expect("EUR");
        assert_eq!(amount_off(Money::new(1999, eur), 10).minor, 199);
        assert_eq!(amount_off(Money::new(1999, eur), 100).minor, 1999);
    }
}
