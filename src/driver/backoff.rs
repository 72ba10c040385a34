//! Retry spacing for sends: exponential, capped, with jitter so that many messages failing
//! together (a platform outage) do not retry together.

use std::time::Duration;

/// The delay before retry number `attempt` (1 = first retry). "Equal jitter": half of the
/// exponential delay is fixed, the other half random (`jitter` in 0..1), so a retry never
/// comes sooner than half its step and never later than the cap.
pub fn backoff_delay(attempt: u32, base_ms: u64, max_ms: u64, jitter: f64) -> Duration {
    let exponent = attempt.saturating_sub(1).min(32);
    let step = base_ms.saturating_mul(1_u64 << exponent).min(max_ms);
    let half = step / 2;
    // Float rounding near 2^64 could exceed `half`; clamp so the sum cannot overflow.
    let random = ((jitter.clamp(0.0, 1.0) * half as f64) as u64).min(half);
    Duration::from_millis((step - half).saturating_add(random))
}

/// The platform's Retry-After wins when it asks for longer than our own schedule.
pub fn retry_delay(
    attempt: u32,
    base_ms: u64,
    max_ms: u64,
    jitter: f64,
    retry_after: Option<Duration>,
) -> Duration {
    let ours = backoff_delay(attempt, base_ms, max_ms, jitter);
    retry_after.map_or(ours, |theirs| theirs.max(ours))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_exponentially_within_jitter_bounds_and_caps() {
        assert_eq!(
            backoff_delay(1, 500, 60_000, 0.0),
            Duration::from_millis(250)
        );
        assert_eq!(
            backoff_delay(1, 500, 60_000, 1.0),
            Duration::from_millis(500)
        );
        assert_eq!(
            backoff_delay(3, 500, 60_000, 0.0),
            Duration::from_millis(1_000)
        );
        assert_eq!(
            backoff_delay(3, 500, 60_000, 1.0),
            Duration::from_millis(2_000)
        );
        assert_eq!(
            backoff_delay(40, 500, 60_000, 1.0),
            Duration::from_millis(60_000)
        );
        assert_eq!(
            backoff_delay(u32::MAX, u64::MAX, u64::MAX, 1.0),
            Duration::from_millis(u64::MAX)
        );
    }

    #[test]
    fn honours_a_longer_retry_after() {
        let asked = Some(Duration::from_secs(30));
        assert_eq!(
            retry_delay(1, 500, 60_000, 0.5, asked),
            Duration::from_secs(30)
        );
        let short = Some(Duration::from_millis(1));
        assert_eq!(
            retry_delay(1, 500, 60_000, 0.0, short),
            Duration::from_millis(250)
        );
    }
}
