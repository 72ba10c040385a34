//! One customer across channels: one-time link codes and the merge they start.
//!
//! "Link my account" asks for a code (`LK-` and six letters or digits, no look-alikes),
//! valid for ten minutes and once. Sent from another chat, it merges that chat's customer
//! into the code's (`Store::merge_customers`, one transaction) and the merged conversation
//! hears `Event::Linked`. Wrong codes are limited per customer (5 in 15 minutes), so codes
//! cannot be guessed: there are 32⁶ ≈ 10⁹ of them.
//!
//! The merge runs in the redeeming conversation's worker, after its step committed, so that
//! conversation is not being written meanwhile; the code owner's conversation is on another
//! worker, and an event of it applied in the same instant could be overwritten (it is the
//! chat the customer just left, so this is rare; a later issue moves merges into both
//! conversations' workers).

use std::collections::{HashMap, VecDeque};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use flows::{CustomerId, Event, LinkOutcome, Span};

use crate::clock;
use crate::driver::{Ingest, Shared};
use crate::store::{LinkCode, Redeemed};

pub const CODE_MINUTES: u32 = 10;
const MAX_FAILURES: usize = 5;
const FAILURE_WINDOW: Duration = Duration::from_secs(15 * 60);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkRequest {
    Issue,
    Redeem(String),
}

static FAILURES: LazyLock<Mutex<HashMap<CustomerId, VecDeque<Instant>>>> =
    LazyLock::new(Mutex::default);

fn failures() -> std::sync::MutexGuard<'static, HashMap<CustomerId, VecDeque<Instant>>> {
    FAILURES
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn limited(customer: &CustomerId, now: Instant) -> bool {
    let mut failures = failures();
    let Some(times) = failures.get_mut(customer) else {
        return false;
    };
    while times
        .front()
        .is_some_and(|t| now.duration_since(*t) >= FAILURE_WINDOW)
    {
        times.pop_front();
    }
    times.len() >= MAX_FAILURES
}

fn failed(customer: &CustomerId, now: Instant) {
    failures()
        .entry(customer.clone())
        .or_default()
        .push_back(now);
}

/// A fresh code from the unambiguous alphabet.
fn new_code() -> Option<String> {
    let alphabet = flows::understanding::LINK_CODE_ALPHABET.as_bytes();
    let mut bytes = [0u8; flows::understanding::LINK_CODE_LENGTH];
    getrandom::fill(&mut bytes).ok()?;
    let body: String = bytes
        .iter()
        .map(|b| char::from(alphabet[usize::from(*b) % alphabet.len()]))
        .collect();
    Some(format!("{}-{body}", flows::understanding::LINK_CODE_PREFIX))
}

/// Carries out a link request of `customer`'s step, after that step committed.
pub fn spawn(shared: &Shared, customer: CustomerId, request: LinkRequest) {
    let Some(ingest) = shared.ingest.get().cloned() else {
        return;
    };
    let event = match request {
        LinkRequest::Issue => issue(&ingest, &customer),
        LinkRequest::Redeem(code) => redeem(&ingest, &customer, &code),
    };
    let Some((to, event)) = event else {
        return;
    };
    tokio::spawn(async move {
        let key = format!("link:{}", clock::random_hex_128());
        if let Err(error) = ingest.accept_keyed(key, to, event).await {
            tracing::error!(%error, "could not answer a link request");
        }
    });
}

fn issue(ingest: &Ingest, customer: &CustomerId) -> Option<(CustomerId, Event)> {
    let code = new_code()?;
    let record = LinkCode {
        customer: customer.clone(),
        expires_at: clock::now().plus(Span::minutes(i64::from(CODE_MINUTES))),
        used: false,
    };
    if let Err(error) = ingest.store().put_link_code(&code, &record) {
        tracing::error!(%error, "could not store a link code");
        return None;
    }
    metrics::counter!("souk_link_codes_total", "event" => "issued").increment(1);
    Some((
        customer.clone(),
        Event::LinkCodeIssued {
            code,
            minutes: CODE_MINUTES,
        },
    ))
}

/// Checks the code and merges; returns who is told what.
fn redeem(ingest: &Ingest, customer: &CustomerId, code: &str) -> Option<(CustomerId, Event)> {
    let now = Instant::now();
    let told = |outcome: LinkOutcome| Some((customer.clone(), Event::Linked(outcome)));
    if limited(customer, now) {
        return told(LinkOutcome::TooManyTries);
    }
    let store = ingest.store();
    let found = match store.redeem_link_code(code, clock::now()) {
        Ok(found) => found,
        Err(error) => {
            tracing::error!(%error, "could not check a link code");
            return None;
        }
    };
    let outcome = match found {
        Redeemed::Valid(owner) if owner == *customer => LinkOutcome::SameCustomer,
        Redeemed::Valid(owner) => match store.merge_customers(customer, &owner, clock::now()) {
            Ok(other_cart) => {
                metrics::counter!("souk_link_codes_total", "event" => "linked").increment(1);
                tracing::info!(from = %customer, into = %owner, "customers linked");
                return Some((owner, Event::Linked(LinkOutcome::Done { other_cart })));
            }
            Err(error) => {
                tracing::error!(%error, "could not merge linked customers");
                return None;
            }
        },
        Redeemed::Unknown => {
            failed(customer, now);
            LinkOutcome::Unknown
        }
        Redeemed::Expired => LinkOutcome::Expired,
        Redeemed::Used => LinkOutcome::Used,
    };
    metrics::counter!("souk_link_codes_total", "event" => "refused").increment(1);
    told(outcome)
}
