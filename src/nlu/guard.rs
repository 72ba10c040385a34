//! What keeps the model from costing more than the shop allows or slowing every reply when
//! it is down: a limit on calls in flight, daily token budgets (the shop's and each
//! conversation's), and a circuit breaker that stops calling after failures in a row and
//! lets one call try again after a pause. Per process: replicas each keep their own.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use flows::CustomerId;
use tokio::sync::{Semaphore, SemaphorePermit};

use super::settings::NluSettings;

/// Conversations tracked per day at most; past it, only the shop's budget bounds new ones.
const MAX_TRACKED: usize = 100_000;
const DAY_MILLIS: i64 = 86_400_000;

/// Why a call was not made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Skip {
    BreakerOpen,
    ShopBudget,
    ConversationBudget,
    Busy,
}

impl Skip {
    pub fn label(self) -> &'static str {
        match self {
            Skip::BreakerOpen => "breaker_open",
            Skip::ShopBudget => "shop_budget",
            Skip::ConversationBudget => "conversation_budget",
            Skip::Busy => "busy",
        }
    }
}

#[derive(Default)]
struct Budget {
    day: i64,
    shop: u64,
    conversations: HashMap<CustomerId, u64>,
}

#[derive(Default)]
struct Breaker {
    failures: u32,
    open_until: Option<Instant>,
    /// While half-open, one call is trying; the others are skipped.
    trying: bool,
}

pub struct Guard {
    slots: Semaphore,
    budget: Mutex<Budget>,
    breaker: Mutex<Breaker>,
    daily_shop: u64,
    daily_conversation: u64,
    failures_to_open: u32,
    open_for: Duration,
    wait: Duration,
}

/// A call allowed to go ahead; hold it until the call ends, then say how it went. Dropped
/// without an outcome (its caller went away), it counts as nothing, and the half-open trial
/// it may have been frees the way for the next one.
pub struct Admitted<'g> {
    _slot: SemaphorePermit<'g>,
    guard: &'g Guard,
    /// The one call let through while the breaker was half-open.
    trial: bool,
    settled: bool,
}

impl Admitted<'_> {
    /// `Some(true)`: the call worked (closes the breaker); `Some(false)`: a failure of the
    /// endpoint (counts towards opening it); `None`: neither (a refused request).
    pub fn outcome(mut self, ok: Option<bool>) {
        self.settled = true;
        self.guard.settle(ok, self.trial);
    }
}

impl Drop for Admitted<'_> {
    fn drop(&mut self) {
        if self.trial && !self.settled {
            self.guard.settle(None, true);
        }
    }
}

impl Guard {
    pub fn new(settings: &NluSettings) -> Guard {
        Guard {
            slots: Semaphore::new(settings.max_concurrency),
            budget: Mutex::new(Budget::default()),
            breaker: Mutex::new(Breaker::default()),
            daily_shop: settings.daily_tokens,
            daily_conversation: settings.daily_tokens_per_conversation,
            failures_to_open: settings.breaker_failures,
            open_for: Duration::from_secs(settings.breaker_open_seconds),
            wait: Duration::from_millis(settings.timeout_ms),
        }
    }

    /// Whether `customer` may call now (`now_millis`: the wall clock, for the budget's day).
    pub async fn admit(
        &self,
        customer: &CustomerId,
        now_millis: i64,
    ) -> Result<Admitted<'_>, Skip> {
        let trial = {
            let mut breaker = self.breaker.lock().unwrap_or_else(|p| p.into_inner());
            match breaker.open_until {
                Some(until) if Instant::now() < until || breaker.trying => {
                    return Err(Skip::BreakerOpen);
                }
                Some(_) => {
                    breaker.trying = true;
                    true
                }
                None => false,
            }
        };
        let refuse = |skip: Skip| {
            if trial {
                self.settle(None, true);
            }
            Err(skip)
        };
        {
            let mut budget = self.budget.lock().unwrap_or_else(|p| p.into_inner());
            let day = now_millis.div_euclid(DAY_MILLIS);
            if budget.day != day {
                *budget = Budget {
                    day,
                    ..Budget::default()
                };
            }
            if budget.shop >= self.daily_shop {
                drop(budget);
                return refuse(Skip::ShopBudget);
            }
            if budget.conversations.get(customer).copied().unwrap_or(0) >= self.daily_conversation {
                drop(budget);
                return refuse(Skip::ConversationBudget);
            }
        }
        match tokio::time::timeout(self.wait, self.slots.acquire()).await {
            Ok(Ok(slot)) => Ok(Admitted {
                _slot: slot,
                guard: self,
                trial,
                settled: false,
            }),
            _ => refuse(Skip::Busy),
        }
    }

    /// Tokens a call spent, counted against both budgets.
    pub fn spent(&self, customer: &CustomerId, tokens: u64) {
        let mut budget = self.budget.lock().unwrap_or_else(|p| p.into_inner());
        budget.shop = budget.shop.saturating_add(tokens);
        let tracked =
            budget.conversations.len() < MAX_TRACKED || budget.conversations.contains_key(customer);
        if tracked {
            let used = budget.conversations.entry(customer.clone()).or_default();
            *used = used.saturating_add(tokens);
        }
    }

    /// A call's end. Only the trial's ends the half-open state: a call already in flight
    /// when the breaker opened still counts, but does not free the trial's place.
    fn settle(&self, ok: Option<bool>, trial: bool) {
        let mut breaker = self.breaker.lock().unwrap_or_else(|p| p.into_inner());
        if trial {
            breaker.trying = false;
        }
        match ok {
            Some(true) => {
                breaker.failures = 0;
                breaker.open_until = None;
            }
            Some(false) => {
                breaker.failures = breaker.failures.saturating_add(1);
                if breaker.failures >= self.failures_to_open {
                    breaker.open_until = Instant::now().checked_add(self.open_for);
                    metrics::counter!("souk_nlu_breaker_opened_total").increment(1);
                }
            }
            None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> NluSettings {
        NluSettings {
            daily_tokens: 1_000,
            daily_tokens_per_conversation: 300,
            breaker_failures: 2,
            breaker_open_seconds: 3_600,
            max_concurrency: 1,
            timeout_ms: 200,
            ..NluSettings::default()
        }
    }

    #[tokio::test]
    async fn budgets_per_conversation_and_shop_reset_each_day() {
        let guard = Guard::new(&settings());
        let (a, b) = (CustomerId("a".into()), CustomerId("b".into()));
        guard
            .admit(&a, 0)
            .await
            .expect("admitted")
            .outcome(Some(true));
        guard.spent(&a, 300);
        assert_eq!(
            guard.admit(&a, 1).await.err(),
            Some(Skip::ConversationBudget)
        );
        guard.spent(&b, 700);
        assert_eq!(guard.admit(&b, 2).await.err(), Some(Skip::ShopBudget));
        assert!(guard.admit(&a, DAY_MILLIS).await.is_ok(), "a new day");
    }

    #[tokio::test]
    async fn failures_open_the_breaker_and_calls_wait_for_a_slot() {
        let guard = Guard::new(&settings());
        let a = CustomerId("a".into());
        let held = guard.admit(&a, 0).await.expect("a slot");
        assert_eq!(guard.admit(&a, 0).await.err(), Some(Skip::Busy));
        held.outcome(Some(false));
        // A refused request is no failure of the endpoint.
        guard.admit(&a, 0).await.expect("a slot").outcome(None);
        guard
            .admit(&a, 0)
            .await
            .expect("a slot")
            .outcome(Some(false));
        assert_eq!(guard.admit(&a, 0).await.err(), Some(Skip::BreakerOpen));
    }

    #[tokio::test]
    async fn a_trial_dropped_without_an_outcome_lets_the_next_one_try() {
        let guard = Guard::new(&NluSettings {
            breaker_open_seconds: 0,
            ..settings()
        });
        let a = CustomerId("a".into());
        guard
            .admit(&a, 0)
            .await
            .expect("a slot")
            .outcome(Some(false));
        guard
            .admit(&a, 0)
            .await
            .expect("a slot")
            .outcome(Some(false));
        // Open for no time: the next call is the half-open trial. A caller that goes away
        // mid-call must not leave the breaker stuck half-open.
        let trial = guard.admit(&a, 0).await.expect("the trial");
        drop(trial);
        let again = guard.admit(&a, 0).await.expect("a new trial");
        again.outcome(Some(true));
        guard
            .admit(&a, 0)
            .await
            .expect("closed again")
            .outcome(Some(true));
    }
}
