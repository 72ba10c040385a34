//! What keeps the model from costing more than the shop allows or slowing every reply when
//! it is down: a limit on calls in flight, daily token budgets (the shop's and each
//! conversation's), and a circuit breaker that stops calling after failures in a row and
//! tries one call again after a pause. Per process: replicas each keep their own.

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

/// A call allowed to go ahead; hold it until the call ends.
pub struct Admitted<'g> {
    _slot: SemaphorePermit<'g>,
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
        {
            let mut breaker = self.breaker.lock().unwrap_or_else(|p| p.into_inner());
            if let Some(until) = breaker.open_until {
                if Instant::now() < until || breaker.trying {
                    return Err(Skip::BreakerOpen);
                }
                breaker.trying = true;
            }
        }
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
                self.untry();
                return Err(Skip::ShopBudget);
            }
            if budget.conversations.get(customer).copied().unwrap_or(0) >= self.daily_conversation {
                self.untry();
                return Err(Skip::ConversationBudget);
            }
        }
        match tokio::time::timeout(self.wait, self.slots.acquire()).await {
            Ok(Ok(slot)) => Ok(Admitted { _slot: slot }),
            _ => {
                self.untry();
                Err(Skip::Busy)
            }
        }
    }

    fn untry(&self) {
        self.breaker
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .trying = false;
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

    /// A call's end: a success closes the breaker, a failure counts towards opening it.
    pub fn outcome(&self, ok: bool) {
        let mut breaker = self.breaker.lock().unwrap_or_else(|p| p.into_inner());
        breaker.trying = false;
        if ok {
            breaker.failures = 0;
            breaker.open_until = None;
            return;
        }
        breaker.failures = breaker.failures.saturating_add(1);
        if breaker.failures >= self.failures_to_open {
            breaker.open_until = Some(Instant::now() + self.open_for);
            metrics::counter!("souk_nlu_breaker_opened_total").increment(1);
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
        assert!(guard.admit(&a, 0).await.is_ok());
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
        drop(held);
        guard.outcome(false);
        guard.outcome(false);
        assert_eq!(guard.admit(&a, 0).await.err(), Some(Skip::BreakerOpen));
    }
}
