//! Web chat sessions before their first message. Creating one cost a customer record in the
//! store, so a script made 10,000 in 2.7 s (about 0.9 KB of disk each) and nothing ever
//! removed them. Now a new session lives only in memory, with its language, until it sends
//! something (then the customer is created), is forgotten after `PENDING_TTL`, and each
//! address may create only so many per window.

use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use flows::Locale;

/// How long a session that never sent anything is kept.
pub const PENDING_TTL: Duration = Duration::from_secs(24 * 3600);
/// Sessions waiting for their first message, at most (a bound on memory under a flood from
/// many addresses; about 100 bytes each).
pub const MAX_PENDING: usize = 200_000;
pub const WINDOW: Duration = Duration::from_secs(10 * 60);

pub struct PendingSessions {
    /// Sessions one address may create per window (`server.webchat_sessions_per_address`):
    /// generous for a household or an office behind one address, far below a script.
    per_address: usize,
    /// Token digest → the language the page asked for, and when.
    pending: Mutex<HashMap<String, (Locale, Instant)>>,
    /// Per address: when it created its recent sessions.
    created: Mutex<HashMap<IpAddr, VecDeque<Instant>>>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Refused {
    /// This address made too many; retry after the duration.
    TooMany(Duration),
    /// Too many sessions wait for a first message across all addresses.
    Full,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl PendingSessions {
    pub fn new(per_address: usize) -> PendingSessions {
        PendingSessions {
            per_address,
            pending: Mutex::default(),
            created: Mutex::default(),
        }
    }

    /// Counts a new session for `address` (none for a router under test) and keeps it.
    pub fn create(
        &self,
        digest: String,
        locale: Locale,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<(), Refused> {
        if let Some(address) = address.map(network_of) {
            let mut created = lock(&self.created);
            if created.len() > 100_000 {
                created.retain(|_, times| times.back().is_some_and(|t| now - *t < WINDOW));
            }
            let times = created.entry(address).or_default();
            while times.front().is_some_and(|t| now - *t >= WINDOW) {
                times.pop_front();
            }
            if times.len() >= self.per_address {
                let oldest = times.front().copied().unwrap_or(now);
                return Err(Refused::TooMany(WINDOW.saturating_sub(now - oldest)));
            }
            times.push_back(now);
        }
        let mut pending = lock(&self.pending);
        if pending.len() >= MAX_PENDING {
            pending.retain(|_, (_, at)| now - *at < PENDING_TTL);
            if pending.len() >= MAX_PENDING {
                return Err(Refused::Full);
            }
        }
        pending.insert(digest, (locale, now));
        Ok(())
    }

    /// The language of a session still waiting for its first message.
    pub fn locale(&self, digest: &str, now: Instant) -> Option<Locale> {
        lock(&self.pending)
            .get(digest)
            .filter(|(_, at)| now - *at < PENDING_TTL)
            .map(|(locale, _)| *locale)
    }

    /// The session sent its first message and is in the store now.
    pub fn persisted(&self, digest: &str) {
        lock(&self.pending).remove(digest);
    }

    pub fn len(&self) -> usize {
        lock(&self.pending).len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// What one subscriber holds: an IPv4 address, or an IPv6 /64 (a home or phone gets a
/// whole /64, and could otherwise start sessions from as many addresses as it likes).
fn network_of(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !u128::from(u64::MAX);
                IpAddr::V6(std::net::Ipv6Addr::from(prefix))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_ipv6_64_counts_as_one_address() {
        let sessions = PendingSessions::new(2);
        let now = Instant::now();
        let a: IpAddr = "2001:db8:1:2::1".parse().expect("address");
        let b: IpAddr = "2001:db8:1:2:ffff::9".parse().expect("address");
        let elsewhere: IpAddr = "2001:db8:1:3::1".parse().expect("address");
        assert!(
            sessions
                .create("1".into(), Locale::En, Some(a), now)
                .is_ok()
        );
        assert!(
            sessions
                .create("2".into(), Locale::En, Some(b), now)
                .is_ok()
        );
        assert!(matches!(
            sessions.create("3".into(), Locale::En, Some(b), now),
            Err(Refused::TooMany(_))
        ));
        assert!(
            sessions
                .create("4".into(), Locale::En, Some(elsewhere), now)
                .is_ok()
        );
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().expect("address");
        assert_eq!(network_of(mapped), IpAddr::from([10, 0, 0, 1]));
    }

    #[test]
    fn an_address_gets_its_share_and_others_theirs() {
        let sessions = PendingSessions::new(30);
        let now = Instant::now();
        let one: IpAddr = [10, 0, 0, 1].into();
        let two: IpAddr = [10, 0, 0, 2].into();
        for n in 0..30 {
            assert!(
                sessions
                    .create(format!("a{n}"), Locale::En, Some(one), now)
                    .is_ok()
            );
        }
        assert!(matches!(
            sessions.create("late".into(), Locale::En, Some(one), now),
            Err(Refused::TooMany(_))
        ));
        assert!(
            sessions
                .create("b".into(), Locale::Ro, Some(two), now)
                .is_ok()
        );
        assert!(
            sessions
                .create("later".into(), Locale::En, Some(one), now + WINDOW)
                .is_ok(),
            "the window moves on"
        );
        assert_eq!(sessions.locale("b", now), Some(Locale::Ro));
        assert_eq!(sessions.locale("b", now + PENDING_TTL), None, "expired");
        sessions.persisted("b");
        assert_eq!(sessions.locale("b", now), None);
    }
}
