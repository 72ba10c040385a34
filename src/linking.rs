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
    /// The customer's own phone number (Telegram's contact button).
    Phone(String),
    /// A number the customer typed: a code goes to the WhatsApp chat of that number.
    CodeToPhone(String),
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
        LinkRequest::Phone(phone) => by_phone(&ingest, &customer, &phone),
        LinkRequest::CodeToPhone(phone) => {
            return code_to_phone(&ingest, &customer, &phone);
        }
    };
    tell(ingest, event);
}

fn tell(ingest: Ingest, event: Option<(CustomerId, Event)>) {
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

/// A typed number is not proof: the code goes to the WhatsApp chat of that number, made
/// for that chat's customer, and only its owner can bring it back. The asking chat hears
/// that a code was sent (or that no chat has that number).
fn code_to_phone(ingest: &Ingest, customer: &CustomerId, phone: &str) {
    let told = |outcome: LinkOutcome| Some((customer.clone(), Event::Linked(outcome)));
    let owner = e164_digits(phone).and_then(|digits| {
        let identity = flows::Identity::new(flows::Channel::WhatsApp, digits);
        ingest.store().find_identity(&identity).ok().flatten()
    });
    match owner {
        Some(owner) if owner == *customer => tell(ingest.clone(), told(LinkOutcome::SameCustomer)),
        Some(owner) => {
            if limited(customer, Instant::now()) {
                tell(ingest.clone(), told(LinkOutcome::TooManyTries));
                return;
            }
            // Each request counts: a stranger cannot flood someone's WhatsApp with codes.
            failed(customer, Instant::now());
            tell(ingest.clone(), issue(ingest, &owner));
            tell(ingest.clone(), told(LinkOutcome::CodeSent));
        }
        None => tell(ingest.clone(), told(LinkOutcome::NoMatch)),
    }
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

/// A number in E.164 without the plus, as WhatsApp ids are: digits only, a leading
/// international "00" dropped, 8 to 15 digits.
pub fn e164_digits(phone: &str) -> Option<String> {
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    let digits = match digits.strip_prefix("00") {
        Some(rest) if !phone.trim_start().starts_with('+') => rest.to_owned(),
        _ => digits,
    };
    (8..=15).contains(&digits.len()).then_some(digits)
}

/// The WhatsApp chat of the customer's own number takes this chat in.
fn by_phone(ingest: &Ingest, customer: &CustomerId, phone: &str) -> Option<(CustomerId, Event)> {
    let told = |outcome: LinkOutcome| Some((customer.clone(), Event::Linked(outcome)));
    let Some(digits) = e164_digits(phone) else {
        return told(LinkOutcome::NoMatch);
    };
    let identity = flows::Identity::new(flows::Channel::WhatsApp, digits);
    match ingest.store().find_identity(&identity) {
        Ok(Some(owner)) if owner == *customer => told(LinkOutcome::SameCustomer),
        Ok(Some(owner)) => merge(ingest, customer, &owner),
        Ok(None) => told(LinkOutcome::NoMatch),
        Err(error) => {
            tracing::error!(%error, "could not look a phone number up");
            None
        }
    }
}

/// Merges `from` into `into` and tells `into`'s conversation, with `from`'s cart.
fn merge(ingest: &Ingest, from: &CustomerId, into: &CustomerId) -> Option<(CustomerId, Event)> {
    match ingest.store().merge_customers(from, into, clock::now()) {
        Ok(other_cart) => {
            metrics::counter!("souk_link_codes_total", "event" => "linked").increment(1);
            tracing::info!(%from, %into, "customers linked");
            Some((
                into.clone(),
                Event::Linked(LinkOutcome::Done { other_cart }),
            ))
        }
        Err(error) => {
            tracing::error!(%error, "could not merge linked customers");
            None
        }
    }
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
        Redeemed::Valid(owner) => return merge(ingest, customer, &owner),
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

#[cfg(test)]
mod tests {
    use super::e164_digits;

    #[test]
    fn phone_numbers_as_whatsapp_writes_them() {
        assert_eq!(
            e164_digits("+40 712 345 678").as_deref(),
            Some("40712345678")
        );
        assert_eq!(e164_digits("0040712345678").as_deref(), Some("40712345678"));
        assert_eq!(e164_digits("40712345678").as_deref(), Some("40712345678"));
        assert_eq!(
            e164_digits("+1 (555) 010-9999").as_deref(),
            Some("15550109999")
        );
        assert_eq!(e164_digits("112"), None);
        assert_eq!(e164_digits("not a number"), None);
    }
}
