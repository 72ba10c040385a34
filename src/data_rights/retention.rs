//! Keeping nothing longer than `[privacy]` says: once a day, messages past
//! `history_days`, orders past `order_years`, audit entries past `audit_days` go, and
//! customers silent for `inactive_customer_days` are erased (through their worker, as if
//! they had asked, without a last message). Every step is idempotent, so several replicas
//! running it on one database, or a restart in the middle, do no harm.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use flows::{CustomerId, Span, Timestamp};

use super::settings::PrivacySettings;
use crate::driver::Shared;
use crate::store::{Store, StoreResult};

/// Inactive customers handed to erasure per run at most: a first run on an old store must
/// not flood the inbox; the rest follow the next day.
pub const MAX_ERASURES_PER_RUN: usize = 1_000;

/// What one run took out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Enforced {
    pub history_records: usize,
    pub orders: usize,
    pub audit_entries: usize,
    /// Customers handed to erasure.
    pub inactive_customers: Vec<CustomerId>,
}

fn days_before(now: Timestamp, days: u32) -> Timestamp {
    Timestamp(
        now.millis()
            .saturating_sub(Span::hours(24 * i64::from(days)).as_millis()),
    )
}

/// The cut-off of each rule at `now` (`None`: the rule keeps for ever).
pub struct Cutoffs {
    pub history: Option<Timestamp>,
    pub inactive: Option<Timestamp>,
    pub orders: Option<Timestamp>,
    pub audit: Option<Timestamp>,
}

impl Cutoffs {
    pub fn at(settings: &PrivacySettings, now: Timestamp) -> Cutoffs {
        let rule = |days: u32| (days > 0).then(|| days_before(now, days));
        Cutoffs {
            history: rule(settings.history_days),
            inactive: rule(settings.inactive_customer_days),
            // A year is 365.25 days in the long run (36,525 hundredths of 86,400,000 ms).
            orders: (settings.order_years > 0).then(|| {
                Timestamp(
                    now.millis()
                        .saturating_sub(i64::from(settings.order_years) * 36_525 * 864_000),
                )
            }),
            audit: rule(settings.audit_days),
        }
    }
}

/// Whether the shop still owes the customer something: an order paid but not yet
/// delivered (or a refund), or an appointment to come.
fn still_owed(conversation: &flows::Conversation, now: Timestamp) -> bool {
    use flows::OrderStatus::{Fulfilled, Paid, RefundNeeded, Shipped};
    conversation
        .orders
        .recent
        .iter()
        .any(|o| matches!(o.status, Paid | Fulfilled | Shipped | RefundNeeded))
        || conversation
            .appointments
            .list
            .iter()
            .any(|b| b.status == flows::booking::BookingStatus::Booked && b.start > now)
}

/// One run at `now`: prunes, and hands each long-silent customer to `erase`.
pub async fn enforce(
    store: &dyn Store,
    settings: &PrivacySettings,
    now: Timestamp,
    mut erase: impl FnMut(CustomerId),
) -> StoreResult<Enforced> {
    let cutoffs = Cutoffs::at(settings, now);
    let mut done = Enforced::default();
    if let Some(before) = cutoffs.history {
        done.history_records = store.prune_history(before).await?;
    }
    if let Some(before) = cutoffs.orders {
        done.orders = store.prune_orders(before).await?;
    }
    if let Some(before) = cutoffs.audit {
        done.audit_entries = store.prune_audit(before).await?;
    }
    if let Some(before) = cutoffs.inactive {
        let mut silent: Vec<_> = store
            .summaries()
            .await?
            .into_iter()
            .filter(|row| row.last_at < before)
            .collect();
        // The longest silent first, should the run stop at its limit.
        silent.sort_by_key(|row| row.last_at);
        for row in silent {
            if done.inactive_customers.len() >= MAX_ERASURES_PER_RUN {
                break;
            }
            // Not while the shop still owes them something: an order on its way, an
            // appointment to come. They wait for a later run.
            let conversation = store.conversation(&row.customer).await?;
            if conversation.is_some_and(|c| still_owed(&c, now)) {
                continue;
            }
            done.inactive_customers.push(row.customer.clone());
            erase(row.customer);
        }
    }
    Ok(done)
}

/// Daily, from a minute after the start: `enforce`, erasures through the customers' inbox.
pub async fn run_daily(shared: Arc<Shared>, stop: CancellationToken) {
    let mut wait = Duration::from_secs(60);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        wait = Duration::from_secs(24 * 3_600);
        let mut inactive = Vec::new();
        let ran = enforce(
            shared.store.as_ref(),
            &shared.settings.privacy,
            crate::clock::now(),
            |customer| inactive.push(customer),
        )
        .await;
        match ran {
            Ok(done) => tracing::info!(
                history_records = done.history_records,
                orders = done.orders,
                audit_entries = done.audit_entries,
                inactive_customers = done.inactive_customers.len(),
                "retention enforced"
            ),
            Err(error) => {
                tracing::error!(%error, "enforcing retention failed; trying again in an hour");
                wait = Duration::from_secs(3_600);
            }
        }
        for customer in inactive {
            let event = flows::Event::EraseRequested {
                by: super::erase::BY_RETENTION.to_owned(),
            };
            let key = format!(
                "retention:{customer}:{}",
                crate::clock::now().millis() / 86_400_000
            );
            if let Err(error) = shared.ingest.accept_keyed(key, customer, event).await {
                tracing::error!(%error, "could not hand an inactive customer to erasure");
            }
        }
    }
}
