//! The shell's clock. The core never reads time; everything it knows of "now" comes from here.

use flows::Timestamp;

pub fn now() -> Timestamp {
    let millis = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0);
    Timestamp(millis)
}

/// 128 random bits as 32 hex digits, from the operating system's generator.
pub fn random_hex_128() -> String {
    let mut bytes = [0_u8; 16];
    // The OS generator failing is not recoverable in any meaningful way; a zeroed token
    // would be guessable, so refuse to continue rather than hand one out.
    if let Err(error) = getrandom::fill(&mut bytes) {
        panic_free_abort(&error.to_string());
    }
    hex::encode(bytes)
}

#[allow(clippy::panic)]
fn panic_free_abort(reason: &str) -> ! {
    tracing::error!(
        reason,
        "the operating system's random generator failed; stopping"
    );
    std::process::abort()
}
