//! Money in minor units with an ISO 4217 currency. Never floating point.

use serde::{Deserialize, Serialize};

/// An ISO 4217 alphabetic code, validated to three ASCII capitals.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidCurrency(pub String);

impl std::error::Error for InvalidCurrency {}

impl std::fmt::Display for InvalidCurrency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{:?} is not a three-letter ISO 4217 currency code",
            self.0
        )
    }
}

impl Currency {
    pub fn new(code: &str) -> Result<Currency, InvalidCurrency> {
        match code.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|byte| byte.is_ascii_uppercase()) => {
                Ok(Currency([*a, *b, *c]))
            }
            _ => Err(InvalidCurrency(code.to_owned())),
        }
    }

    pub fn code(&self) -> &str {
        // The bytes are validated ASCII capitals, so this never fails.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Digits after the decimal point. The few zero- and three-digit currencies are listed;
    /// everything else uses two, which is what ISO 4217 assigns to nearly all codes.
    pub fn minor_digits(&self) -> u32 {
        match self.code() {
            "JPY" | "KRW" | "HUF" | "ISK" | "CLP" | "VND" | "XAF" | "XOF" => 0,
            "BHD" | "KWD" | "OMR" | "JOD" | "TND" | "LYD" | "IQD" => 3,
            _ => 2,
        }
    }
}

impl TryFrom<String> for Currency {
    type Error = InvalidCurrency;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Currency::new(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.code().to_owned()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// Amount in the currency's minor unit (cents for EUR).
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub const fn new(minor: i64, currency: Currency) -> Money {
        Money { minor, currency }
    }

    /// Saturating: a catalog cannot make the total wrap around.
    pub fn times(self, quantity: u32) -> Money {
        Money::new(
            self.minor.saturating_mul(i64::from(quantity)),
            self.currency,
        )
    }

    pub fn plus(self, other: Money) -> Money {
        Money::new(self.minor.saturating_add(other.minor), self.currency)
    }
}
