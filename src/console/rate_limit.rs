//! Login attempts: at most `MAX_FAILURES` failed logins per name and per address within
//! `WINDOW`; further attempts are refused (429) until the oldest failure ages out. Kept in
//! memory: a restart forgets, which costs an attacker a restart they cannot cause.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub const MAX_FAILURES: usize = 5;
pub const WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Default)]
pub struct LoginLimiter {
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl LoginLimiter {
    /// `Some(wait)` when any of `keys` is locked out now.
    pub fn locked(&self, keys: &[String], now: Instant) -> Option<Duration> {
        let mut failures = self.lock();
        keys.iter()
            .filter_map(|key| {
                let times = failures.get_mut(key)?;
                Self::forget_old(times, now);
                if times.len() < MAX_FAILURES {
                    return None;
                }
                times
                    .front()
                    .map(|oldest| WINDOW.saturating_sub(now - *oldest))
            })
            .max()
    }

    pub fn failed(&self, keys: &[String], now: Instant) {
        let mut failures = self.lock();
        // Bound the memory an address spraying names can take.
        if failures.len() > 100_000 {
            failures.retain(|_, times| {
                Self::forget_old(times, now);
                !times.is_empty()
            });
        }
        for key in keys {
            let times = failures.entry(key.clone()).or_default();
            Self::forget_old(times, now);
            times.push_back(now);
        }
    }

    /// A good login clears its name; the address keeps its record.
    pub fn succeeded(&self, name_key: &str) {
        self.lock().remove(name_key);
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
        self.failures
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_failures_lock_for_the_window() {
        let limiter = LoginLimiter::default();
        let keys = vec!["name:ana".to_owned(), "ip:127.0.0.1".to_owned()];
        let start = Instant::now();
        for _ in 0..MAX_FAILURES {
            assert_eq!(limiter.locked(&keys, start), None);
            limiter.failed(&keys, start);
        }
        let wait = limiter.locked(&keys, start).expect("locked");
        assert_eq!(wait, WINDOW);
        // Another name from the same address is locked too.
        let other = vec!["name:bob".to_owned(), "ip:127.0.0.1".to_owned()];
        assert!(limiter.locked(&other, start).is_some());
        assert_eq!(limiter.locked(&keys, start + WINDOW), None);
    }
}
