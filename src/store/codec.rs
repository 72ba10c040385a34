//! Persisted state is a compatibility boundary: every value is stored as
//! `{"v": <schema version>, "data": ...}` and old versions keep loading (golden files in
//! `tests/golden/` guard this). Bump `CURRENT` and add a migration arm when a shape changes.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub const CURRENT: u32 = 1;

#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error("stored {what} is not valid JSON of the expected shape: {source}")]
    Shape {
        what: &'static str,
        source: serde_json::Error,
    },
    #[error(
        "stored {what} has schema version {found}, newer than this binary ({CURRENT}); upgrade souk"
    )]
    TooNew { what: &'static str, found: u32 },
}

#[derive(Serialize)]
struct EnvelopeOut<'a, T> {
    v: u32,
    data: &'a T,
}

/// The data stays raw until the version says how to read it: parsed once, straight into
/// its type (through a `Value` tree it cost twice the time on every conversation load).
#[derive(Deserialize)]
struct EnvelopeIn<'a> {
    v: u32,
    #[serde(borrow)]
    data: &'a serde_json::value::RawValue,
}

pub fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    // Serializing our own plain data types to JSON cannot fail (no maps with non-string
    // keys, no failing Serialize impls); an empty vector would fail loudly on decode.
    serde_json::to_vec(&EnvelopeOut {
        v: CURRENT,
        data: value,
    })
    .unwrap_or_default()
}

pub fn decode<T: DeserializeOwned>(what: &'static str, bytes: &[u8]) -> Result<T, CodecError> {
    let envelope: EnvelopeIn =
        serde_json::from_slice(bytes).map_err(|source| CodecError::Shape { what, source })?;
    match envelope.v {
        1 => serde_json::from_str(envelope.data.get())
            .map_err(|source| CodecError::Shape { what, source }),
        found => Err(CodecError::TooNew { what, found }),
    }
}
