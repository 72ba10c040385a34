//! One customer across channels: one-time link codes and the merge they start.
//!
//! "Link my account" asks for a code (`LK-` and six letters or digits, no look-alikes),
//! valid for ten minutes and once. Sent from another chat, it merges that chat's customer
//! into the code's (`Store::merge_customers`, one transaction) and the merged conversation
//! hears `Event::Linked`. Wrong codes are limited per customer (5 in 15 minutes), so codes
//! cannot be guessed: there are 32⁶ ≈ 10⁹ of them.
//!
//! The code is checked (and used up) in the redeeming conversation's worker after its step
//! committed; the merge itself is an inbox event of the surviving conversation
//! (`MERGE_PREFIX` in its public id), which that conversation's worker carries out alone,
//! before stepping it: so no step of the survivor can be overwritten by the merge. The
//! merged chat's own worker has just committed the step that sent the code.

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

/// What a link request comes to: an event for a conversation (its public id carries the
/// merge for `MergeInto`). Short-lived, so not boxed.
#[allow(clippy::large_enum_variant)]
enum Answer {
    Tell(CustomerId, Event),
    /// `from` joins `into`, carried out by `into`'s worker before it steps the entry.
    MergeInto {
        from: CustomerId,
        into: CustomerId,
    },
}

/// Carries out a link request of `customer`'s step, after that step committed.
pub fn spawn(shared: &Shared, customer: CustomerId, request: LinkRequest) {
    let ingest = shared.ingest.clone();
    tokio::spawn(async move {
        let answers: Vec<Answer> = match request {
            LinkRequest::Issue => issue(&ingest, &customer).await.into_iter().collect(),
            LinkRequest::Redeem(code) => redeem(&ingest, &customer, &code)
                .await
                .into_iter()
                .collect(),
            LinkRequest::Phone(phone) => by_phone(&ingest, &customer, &phone)
                .await
                .into_iter()
                .collect(),
            LinkRequest::CodeToPhone(phone) => code_to_phone(&ingest, &customer, &phone).await,
        };
        for answer in answers {
            let (key, to, event) = match answer {
                Answer::Tell(to, event) => (format!("link:{}", clock::random_hex_128()), to, event),
                Answer::MergeInto { from, into } => (
                    format!("{MERGE_PREFIX}{from}:{}", clock::random_hex_128()),
                    into,
                    Event::Linked(LinkOutcome::Done {
                        other_cart: Vec::new(),
                    }),
                ),
            };
            if let Err(error) = ingest.accept_keyed(key, to, event).await {
                tracing::error!(%error, "could not answer a link request");
            }
        }
    });
}

/// Inbox entries whose public id starts with this merge the customer named after it into
/// their conversation's customer before they are stepped.
pub const MERGE_PREFIX: &str = "merge:";

/// The customer an inbox entry asks to merge in, if it is a merge.
pub fn merge_source(entry: &crate::store::InboxEntry) -> Option<CustomerId> {
    let rest = entry.public_id.strip_prefix(MERGE_PREFIX)?;
    let (from, _) = rest.split_once(':')?;
    matches!(entry.event, Event::Linked(LinkOutcome::Done { .. }))
        .then(|| CustomerId(from.to_owned()))
}

/// Carries out a merge entry's merge (in the surviving conversation's worker, alone in its
/// batch) and returns the event to step: the link, with the merged chat's cart. Re-driven
/// after a crash, a merge already done finds no `from` and is told with no cart.
pub async fn carry_out_merge(
    store: &dyn crate::store::Store,
    from: &CustomerId,
    into: &CustomerId,
) -> Result<Event, crate::store::StoreError> {
    if store.customer(from).await?.is_none() || from == into {
        return Ok(Event::Linked(LinkOutcome::Done {
            other_cart: Vec::new(),
        }));
    }
    let other_cart = store.merge_customers(from, into, clock::now()).await?;
    metrics::counter!("souk_link_codes_total", "event" => "linked").increment(1);
    tracing::info!(%from, %into, "customers linked");
    Ok(Event::Linked(LinkOutcome::Done { other_cart }))
}

/// A typed number is not proof: the code goes to the WhatsApp chat of that number, made
/// for that chat's customer, and only its owner can bring it back. The asking chat hears
/// that a code was sent (or that no chat has that number).
async fn code_to_phone(ingest: &Ingest, customer: &CustomerId, phone: &str) -> Vec<Answer> {
    let told = |outcome: LinkOutcome| Answer::Tell(customer.clone(), Event::Linked(outcome));
    let owner = match e164_digits(phone) {
        Some(digits) => {
            let identity = flows::Identity::new(flows::Channel::WhatsApp, digits);
            ingest.store().find_identity(&identity).await.ok().flatten()
        }
        None => None,
    };
    match owner {
        Some(owner) if owner == *customer => vec![told(LinkOutcome::SameCustomer)],
        Some(owner) => {
            if limited(customer, Instant::now()) {
                return vec![told(LinkOutcome::TooManyTries)];
            }
            // Each request counts: a stranger cannot flood someone's WhatsApp with codes.
            failed(customer, Instant::now());
            issue(ingest, &owner)
                .await
                .into_iter()
                .chain([told(LinkOutcome::CodeSent)])
                .collect()
        }
        None => vec![told(LinkOutcome::NoMatch)],
    }
}

async fn issue(ingest: &Ingest, customer: &CustomerId) -> Option<Answer> {
    let code = new_code()?;
    let record = LinkCode {
        customer: customer.clone(),
        expires_at: clock::now().plus(Span::minutes(i64::from(CODE_MINUTES))),
        used: false,
    };
    if let Err(error) = ingest.store().put_link_code(&code, &record).await {
        tracing::error!(%error, "could not store a link code");
        return None;
    }
    metrics::counter!("souk_link_codes_total", "event" => "issued").increment(1);
    Some(Answer::Tell(
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
async fn by_phone(ingest: &Ingest, customer: &CustomerId, phone: &str) -> Option<Answer> {
    let told = |outcome: LinkOutcome| Some(Answer::Tell(customer.clone(), Event::Linked(outcome)));
    let Some(digits) = e164_digits(phone) else {
        return told(LinkOutcome::NoMatch);
    };
    let identity = flows::Identity::new(flows::Channel::WhatsApp, digits);
    match ingest.store().find_identity(&identity).await {
        Ok(Some(owner)) if owner == *customer => told(LinkOutcome::SameCustomer),
        Ok(Some(owner)) => Some(Answer::MergeInto {
            from: customer.clone(),
            into: owner,
        }),
        Ok(None) => told(LinkOutcome::NoMatch),
        Err(error) => {
            tracing::error!(%error, "could not look a phone number up");
            None
        }
    }
}

/// Checks the code and merges; returns who is told what.
async fn redeem(ingest: &Ingest, customer: &CustomerId, code: &str) -> Option<Answer> {
    let now = Instant::now();
    let told = |outcome: LinkOutcome| Some(Answer::Tell(customer.clone(), Event::Linked(outcome)));
    if limited(customer, now) {
        return told(LinkOutcome::TooManyTries);
    }
    let store = ingest.store();
    let found = match store.redeem_link_code(code, clock::now()).await {
        Ok(found) => found,
        Err(error) => {
            tracing::error!(%error, "could not check a link code");
            return None;
        }
    };
    let outcome = match found {
        Redeemed::Valid(owner) if owner == *customer => LinkOutcome::SameCustomer,
        Redeemed::Valid(owner) => {
            return Some(Answer::MergeInto {
                from: customer.clone(),
                into: owner,
            });
        }
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
