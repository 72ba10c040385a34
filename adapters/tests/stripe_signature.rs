//! `Stripe-Signature` against the known-answer vector recorded in `tests/fixtures/stripe`
//! (see SOURCES.md: stripe-python's dummy event, secret `whsec_test_secret`, t=12345), then
//! the ways a header can be wrong.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;

use adapters::payments::stripe_signature::{
    DEFAULT_TOLERANCE_SECONDS, StripeSignatureError, sign, verify,
};

const SECRET: &[u8] = b"whsec_test_secret";
const KNOWN_V1: &str = "07b1ede164afb7b5de91267ffa656f568c65d6e0783ce0ac55ee094643578eda";

/// The fixture's bytes without the trailing newline, as SOURCES.md specifies.
fn body() -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/fixtures/stripe/signature_test_dummy_event_v1.json");
    let mut bytes = std::fs::read(path).unwrap();
    while bytes.last() == Some(&b'\n') {
        bytes.pop();
    }
    bytes
}

fn check(header: &str, now: i64) -> Result<(), StripeSignatureError> {
    verify(
        SECRET,
        &body(),
        Some(header),
        now,
        DEFAULT_TOLERANCE_SECONDS,
    )
}

#[test]
fn the_known_answer_vector_matches() {
    assert_eq!(
        sign(SECRET, &body(), 12345),
        format!("t=12345,v1={KNOWN_V1}")
    );
    assert_eq!(check(&format!("t=12345,v1={KNOWN_V1}"), 12345), Ok(()));
}

#[test]
fn a_tampered_body_or_another_secret_fails() {
    let header = format!("t=12345,v1={KNOWN_V1}");
    let mut tampered = body();
    tampered[10] ^= 1;
    assert_eq!(
        verify(SECRET, &tampered, Some(&header), 12345, 300),
        Err(StripeSignatureError::Mismatch)
    );
    assert_eq!(
        verify(b"whsec_other", &body(), Some(&header), 12345, 300),
        Err(StripeSignatureError::Mismatch)
    );
    // The signature covers the timestamp too: the same v1 with another t fails.
    assert_eq!(
        check(&format!("t=12346,v1={KNOWN_V1}"), 12346),
        Err(StripeSignatureError::Mismatch)
    );
}

#[test]
fn timestamps_outside_five_minutes_are_refused_either_way() {
    let header = format!("t=12345,v1={KNOWN_V1}");
    assert_eq!(check(&header, 12345 + 300), Ok(()));
    assert_eq!(
        check(&header, 12345 + 301),
        Err(StripeSignatureError::OutsideTolerance(301))
    );
    assert_eq!(check(&header, 12345 - 300), Ok(()));
    assert_eq!(
        check(&header, 12345 - 301),
        Err(StripeSignatureError::OutsideTolerance(-301))
    );
}

#[test]
fn any_of_several_v1_values_may_match_and_v0_is_ignored() {
    let wrong = "0".repeat(64);
    assert_eq!(
        check(&format!("t=12345,v1={wrong},v1={KNOWN_V1}"), 12345),
        Ok(())
    );
    assert_eq!(
        check(
            &format!("t=12345,v1=nothex,v1={KNOWN_V1},v0={wrong}"),
            12345
        ),
        Ok(())
    );
    // A v0 alone, even "correct", is not accepted.
    assert_eq!(
        check(&format!("t=12345,v0={KNOWN_V1}"), 12345),
        Err(StripeSignatureError::Malformed("no v1 signature"))
    );
    assert_eq!(
        check(&format!("t=12345,v1={wrong}"), 12345),
        Err(StripeSignatureError::Mismatch)
    );
}

#[test]
fn malformed_or_missing_headers_are_told_apart() {
    assert_eq!(
        verify(SECRET, &body(), None, 12345, 300),
        Err(StripeSignatureError::Missing)
    );
    for header in ["", "garbage", "v1=abc", "t=abc,v1=00", "t=12345"] {
        assert!(
            matches!(
                check(header, 12345),
                Err(StripeSignatureError::Malformed(_))
            ),
            "{header:?}"
        );
    }
}

/// Found by `tests/fuzz_parsers.rs`: a timestamp so far from our clock that the skew
/// saturated at `i64::MIN` overflowed `abs()` (a panic in debug builds; in release a
/// negative distance that passed the tolerance check and went on to the MAC).
#[test]
fn a_skew_beyond_i64_is_outside_the_tolerance_not_an_overflow() {
    assert_eq!(
        verify(
            SECRET,
            &body(),
            Some("v1=,t=8362494277244387544"),
            -860_877_759_610_388_264,
            DEFAULT_TOLERANCE_SECONDS,
        ),
        Err(StripeSignatureError::OutsideTolerance(i64::MIN))
    );
    let header = format!("t={},v1={KNOWN_V1}", i64::MAX);
    assert_eq!(
        check(&header, -1),
        Err(StripeSignatureError::OutsideTolerance(i64::MIN))
    );
}
