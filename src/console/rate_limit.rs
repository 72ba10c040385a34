//! Login attempts. Each attempt is counted before its password is checked (so parallel
//! guesses cannot slip past the count while hashing runs) and taken back when it succeeds.
//! Three keys, three limits within `WINDOW`:
//! - a name from one address: 5 (the brute force a legitimate user never reaches);
//! - one address over any names: 20 (spraying names);
//! - one name from any address: 50 (guessing spread over many addresses). It does not apply
//!   to a browser the operator logged in from before (a known-device cookie): strangers
//!   spraying guesses from many addresses then lock out only unknown browsers, never the
//!   operator's own (OWASP's guidance on account lockout).
//!
//! Kept in memory: a restart forgets, which costs an attacker a restart they cannot cause.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const WINDOW: Duration = Duration::from_secs(15 * 60);
pub const PER_NAME_AND_ADDRESS: usize = 5;
pub const PER_ADDRESS: usize = 20;
pub const PER_NAME: usize = 50;

#[derive(Default)]
pub struct LoginLimiter {
    attempts: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// The keys of one login attempt and their limits.
pub struct AttemptKeys(Vec<(String, usize)>);

impl AttemptKeys {
    pub fn new(name: &str, address: Option<std::net::IpAddr>, known_device: bool) -> AttemptKeys {
        let mut keys = Vec::new();
        if !known_device {
            keys.push((format!("name:{name}"), PER_NAME));
        }
        if let Some(address) = address {
            keys.push((format!("pair:{name}@{address}"), PER_NAME_AND_ADDRESS));
            keys.push((format!("address:{address}"), PER_ADDRESS));
        } else {
            // Without a peer address (a router under test), the name alone is the pair.
            keys.push((format!("pair:{name}"), PER_NAME_AND_ADDRESS));
        }
        AttemptKeys(keys)
    }
}

impl LoginLimiter {
    /// Counts an attempt, or refuses it with how long to wait when a limit is reached.
    pub fn begin(&self, keys: &AttemptKeys, now: Instant) -> Result<(), Duration> {
        let mut attempts = self.lock();
        if attempts.len() > 100_000 {
            // Bound the memory an address spraying names can take.
            attempts.retain(|_, times| {
                Self::forget_old(times, now);
                !times.is_empty()
            });
        }
        let wait = keys
            .0
            .iter()
            .filter_map(|(key, limit)| {
                let times = attempts.get_mut(key)?;
                Self::forget_old(times, now);
                (times.len() >= *limit)
                    .then(|| {
                        times
                            .front()
                            .map(|oldest| WINDOW.saturating_sub(now - *oldest))
                    })
                    .flatten()
            })
            .max();
        if let Some(wait) = wait {
            return Err(wait.max(Duration::from_secs(1)));
        }
        for (key, _) in &keys.0 {
            attempts.entry(key.clone()).or_default().push_back(now);
        }
        Ok(())
    }

    /// The attempt was right: it does not count.
    pub fn succeeded(&self, keys: &AttemptKeys) {
        let mut attempts = self.lock();
        for (key, _) in &keys.0 {
            if let Some(times) = attempts.get_mut(key) {
                times.pop_back();
            }
        }
    }

    fn forget_old(times: &mut VecDeque<Instant>, now: Instant) {
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= WINDOW)
        {
            times.pop_front();
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        self.attempts
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn address(last: u8) -> Option<std::net::IpAddr> {
        Some(std::net::IpAddr::from([10, 0, 0, last]))
    }

    #[test]
    fn five_tries_per_name_and_address_then_a_wait() {
        let limiter = LoginLimiter::default();
        let ana = AttemptKeys::new("ana", address(1), false);
        let start = Instant::now();
        for _ in 0..PER_NAME_AND_ADDRESS {
            assert!(limiter.begin(&ana, start).is_ok());
        }
        assert_eq!(limiter.begin(&ana, start), Err(WINDOW));
        // Someone else's address still may: one attacker cannot lock Ana out.
        assert!(
            limiter
                .begin(&AttemptKeys::new("ana", address(2), false), start)
                .is_ok()
        );
        assert!(limiter.begin(&ana, start + WINDOW).is_ok());
    }

    #[test]
    fn one_address_spraying_names_is_stopped() {
        let limiter = LoginLimiter::default();
        let start = Instant::now();
        for n in 0..PER_ADDRESS {
            let keys = AttemptKeys::new(&format!("name{n}"), address(9), false);
            assert!(limiter.begin(&keys, start).is_ok(), "{n}");
        }
        assert!(
            limiter
                .begin(&AttemptKeys::new("other", address(9), false), start)
                .is_err()
        );
    }

    #[test]
    fn strangers_on_many_addresses_lock_out_only_unknown_browsers() {
        let limiter = LoginLimiter::default();
        let start = Instant::now();
        // 50 wrong passwords for "ana" from 12 addresses (within each pair's and address's
        // own limits) reach the per-name limit...
        for n in 0..PER_NAME {
            let keys = AttemptKeys::new("ana", address(10 + (n % 12) as u8), false);
            assert!(limiter.begin(&keys, start).is_ok(), "{n}");
        }
        // ...which holds back a browser that never logged in as ana,
        assert!(
            limiter
                .begin(&AttemptKeys::new("ana", address(1), false), start)
                .is_err()
        );
        // but not ana's own browser, known from an earlier login.
        assert!(
            limiter
                .begin(&AttemptKeys::new("ana", address(1), true), start)
                .is_ok()
        );
    }

    #[test]
    fn a_success_gives_its_attempt_back() {
        let limiter = LoginLimiter::default();
        let ana = AttemptKeys::new("ana", address(1), false);
        let start = Instant::now();
        for _ in 0..20 {
            assert!(limiter.begin(&ana, start).is_ok());
            limiter.succeeded(&ana);
        }
    }
}
