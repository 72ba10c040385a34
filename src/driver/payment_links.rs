//! The payment-link runner: for each `PaymentJob` a commit stored, asks the provider for a
//! link and feeds it back to the conversation as an event. The job leaves the store only
//! after that event is durably in the inbox, so a crash in between asks again: the provider
//! call is idempotent per job and the event's dedup key drops the second copy.

use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt as _;
use tokio_util::sync::CancellationToken;

use flows::{Event, OrderStatus, PaymentFailure, Timestamp};

use crate::clock;
use crate::payments::telegram::TelegramInvoices;
use crate::payments::{PaymentError, PaymentLink, PaymentProvider};
use crate::store::{InboxEntry, PaymentJob, PaymentSession};

use super::backoff::retry_delay;
use super::{Ingest, Shared};

/// Longest sleep between scans; commits that queue a job wake the runner sooner.
const IDLE_SLEEP: Duration = Duration::from_secs(30);
const BACKOFF_BASE_MS: u64 = 1_000;
const BACKOFF_MAX_MS: u64 = 300_000;

/// The ways links are made: the shop's provider, and Telegram's own invoices for customers
/// who write on Telegram (when configured).
pub struct LinkMakers {
    pub provider: Option<Arc<PaymentProvider>>,
    pub telegram: Option<Arc<TelegramInvoices>>,
}

pub async fn run_payment_links(
    shared: Arc<Shared>,
    makers: LinkMakers,
    ingest: Ingest,
    stop: CancellationToken,
) {
    loop {
        let next = pass(&shared, &makers, &ingest).await;
        let sleep = next.map_or(IDLE_SLEEP, |at| {
            let wait = at.since(clock::now()).as_millis().max(0);
            Duration::from_millis(u64::try_from(wait).unwrap_or(0)).min(IDLE_SLEEP)
        });
        tokio::select! {
            () = stop.cancelled() => return,
            () = shared.payment_wakeup.notified() => {}
            () = tokio::time::sleep(sleep) => {}
        }
    }
}

/// Runs every due job once; returns when the next one is due.
async fn pass(shared: &Shared, makers: &LinkMakers, ingest: &Ingest) -> Option<Timestamp> {
    let jobs = match shared.store.payment_jobs().await {
        Ok(jobs) => jobs,
        Err(error) => {
            tracing::error!(%error, "cannot read payment jobs");
            return Some(clock::now().plus(flows::Span::seconds(5)));
        }
    };
    let now = clock::now();
    let (due, later): (Vec<PaymentJob>, Vec<PaymentJob>) =
        jobs.into_iter().partition(|job| job.next_try_at <= now);
    // Several at once, so one slow provider call does not hold back the other customers'
    // links; a pass ends when all of them have, so no job runs twice at the same time.
    let retries: Vec<Option<Timestamp>> = futures_util::stream::iter(due)
        .map(|job| run_job(shared, makers, ingest, job))
        .buffer_unordered(CONCURRENT_JOBS)
        .collect()
        .await;
    later
        .iter()
        .map(|job| job.next_try_at)
        .chain(retries.into_iter().flatten())
        .min()
}

/// Provider calls in flight at once.
const CONCURRENT_JOBS: usize = 8;

#[derive(Clone, Copy)]
enum Maker<'a> {
    Provider(&'a PaymentProvider),
    Telegram(&'a TelegramInvoices),
}

/// One job; returns its next try when it must be retried.
async fn run_job(
    shared: &Shared,
    makers: &LinkMakers,
    ingest: &Ingest,
    mut job: PaymentJob,
) -> Option<Timestamp> {
    let store = &shared.store;
    let on_telegram = makers.telegram.is_some()
        && matches!(store.conversation(&job.customer).await, Ok(Some(c)) if c.reach.last_channel == Some(flows::Channel::Telegram));
    let maker = match (&makers.telegram, &makers.provider) {
        (Some(telegram), _) if on_telegram => Maker::Telegram(telegram),
        (_, Some(provider)) => Maker::Provider(provider),
        (_, None) => {
            tracing::warn!(order = %job.order, "no payment provider configured; the order waits for payment");
            forget(shared, &job).await;
            return None;
        }
    };
    let order = match store.order(&job.order).await {
        Ok(Some(order)) => order,
        Ok(None) => {
            tracing::error!(order = %job.order, "payment link for an unknown order dropped");
            forget(shared, &job).await;
            return None;
        }
        Err(error) => {
            tracing::error!(%error, order = %job.order, "cannot read the order; retrying");
            return Some(clock::now().plus(flows::Span::seconds(5)));
        }
    };
    // Paid or cancelled meanwhile (another link, the customer changed the order): no link.
    if order.status != OrderStatus::PendingPayment {
        forget(shared, &job).await;
        return None;
    }
    job.tries = job.tries.saturating_add(1);
    let outcome = match maker {
        Maker::Provider(provider) => provider.create_link(&order, &job).await,
        Maker::Telegram(telegram) => telegram
            .create_link(&order, &job)
            .await
            .map(|url| PaymentLink { url, session: None }),
    };
    let provider_name = match maker {
        Maker::Provider(provider) => provider.name(),
        Maker::Telegram(_) => "telegram",
    };
    metrics::counter!("souk_payment_links_total", "provider" => provider_name, "outcome" => match &outcome {
        Ok(_) => "created",
        Err(PaymentError::Retry { .. }) => "retry",
        Err(PaymentError::Permanent(_)) => "failed",
        Err(PaymentError::TooLate(_)) => "too_late",
    })
    .increment(1);
    let event = match outcome {
        Ok(link) => {
            // Before the customer can pay: a payment for a session not recorded here, or
            // of another amount, is never taken as this order's.
            if let Some(session) = &link.session {
                let record = PaymentSession {
                    order: order.id.clone(),
                    amount: order.total,
                    created_at: clock::now(),
                };
                if let Err(error) = store.put_payment_session(session, &record).await {
                    tracing::error!(%error, order = %job.order, "cannot record the payment session; retrying");
                    return Some(clock::now().plus(flows::Span::seconds(5)));
                }
            }
            Event::PaymentLinkReady {
                order: job.order.clone(),
                url: link.url,
            }
        }
        Err(PaymentError::Retry { reason, after })
            if job.tries < shared.settings.payments.max_tries =>
        {
            let delay = retry_delay(
                job.tries,
                BACKOFF_BASE_MS,
                BACKOFF_MAX_MS,
                fastrand::f64(),
                after,
            );
            let at = clock::now().plus(flows::Span(
                i64::try_from(delay.as_millis()).unwrap_or(i64::MAX),
            ));
            tracing::warn!(order = %job.order, tries = job.tries, %reason, "payment link not created; retrying");
            job.next_try_at = at;
            job.last_error = Some(reason);
            if let Err(error) = store.payment_job_reschedule(&job).await {
                tracing::error!(%error, "cannot save the payment job's retry");
            }
            return Some(at);
        }
        Err(PaymentError::TooLate(reason)) => {
            tracing::warn!(order = %job.order, tries = job.tries, %reason, "payment link given up");
            Event::PaymentFailed {
                order: job.order.clone(),
                reason: PaymentFailure::Expired,
            }
        }
        Err(error) => {
            // The customer is told and offered another try or a person; the shop sees why.
            tracing::error!(order = %job.order, tries = job.tries, %error, "payment link given up");
            Event::PaymentFailed {
                order: job.order.clone(),
                reason: PaymentFailure::Unavailable,
            }
        }
    };
    let entry = InboxEntry {
        claim: None,
        seq: 0,
        public_id: format!("link-{}-{}", job.order, job.attempt),
        dedup_key: Some(format!("payment-link:{}:{}", job.order, job.attempt)),
        customer: job.customer.clone(),
        event,
        received_at: clock::now(),
    };
    match ingest.accept(entry).await {
        Ok(_) => forget(shared, &job).await,
        Err(error) => {
            tracing::error!(%error, order = %job.order, "payment link could not be handed to the conversation; retrying");
            return Some(clock::now().plus(flows::Span::seconds(5)));
        }
    }
    None
}

async fn forget(shared: &Shared, job: &PaymentJob) {
    if let Err(error) = shared.store.payment_job_done(job).await {
        tracing::error!(%error, order = %job.order, "cannot remove a finished payment job");
    }
}
