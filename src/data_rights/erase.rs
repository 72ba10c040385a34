//! Erasing a customer: everything souk holds on them and every chat linked into them goes,
//! but for paid orders and paid appointments, kept for accounting without the person
//! (`flows::erasure`). Platform ids stay only as salted digests.
//!
//! An erasure is an inbox event of the customer (`TimerFired(Erasure)` when they confirmed
//! in chat, `EraseRequested` from the shop), carried out by the customer's worker instead
//! of a step: nothing else writes their conversation meanwhile, and the event leaves the
//! inbox in the erasure's own transaction. A crash before that commit leaves the event in
//! the inbox; the next start carries it out again, from the top (it is idempotent). The
//! last message goes into the outbox in the same transaction.
//!
//! Later events for an erased customer (a late payment callback, a timer already due) find
//! no conversation and no customer record: the worker then sweeps them (`sweep`) instead of
//! starting a new, empty conversation.

use std::collections::BTreeSet;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use flows::booking::BookingRequest;
use flows::{Channel, CustomerId, Event, Identity, Reply, TextKey, TimerKind, Timestamp};

use crate::driver::Shared;
use crate::store::{
    ErasurePlan, ErasureRecord, HistoryEntry, InboxEntry, NewOutbox, Store, StoreResult,
};

/// Who asked, when the customer did in chat.
pub const BY_CUSTOMER: &str = "customer";
/// Who asked, when the retention job erased a long-silent customer.
pub const BY_RETENTION: &str = "retention";

/// History entries read per chat to find what else of theirs to take (message ids).
const MAX_HISTORY: usize = 100_000;
/// Chats followed through links, at most: far more than one person has.
const MAX_LINKED: usize = 1_000;

/// Whether an inbox entry asks for an erasure, and who asked.
pub fn request_of(entry: &InboxEntry) -> Option<&str> {
    match &entry.event {
        Event::TimerFired(TimerKind::Erasure) => Some(BY_CUSTOMER),
        Event::EraseRequested { by } => Some(by.as_str()),
        _ => None,
    }
}

/// A platform id as the erasure keeps it: HMAC-SHA256 under the privacy key, hex.
pub fn digest(key: &[u8], identity: &Identity) -> String {
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        // HMAC takes a key of any length; this branch cannot be taken.
        return String::new();
    };
    mac.update(identity.channel.name().as_bytes());
    mac.update(b":");
    mac.update(identity.external_id.as_bytes());
    hex::encode(mac.finalize().into_bytes())
}

/// The key that salts digests: the shop's own from the environment, else the store's.
pub async fn digest_key(shared: &Shared) -> StoreResult<Vec<u8>> {
    match &shared.settings.privacy.digest_key {
        Some(key) => Ok(key.expose().as_bytes().to_vec()),
        None => shared.store.digest_key().await,
    }
}

/// What erasing `customer` takes out, read from the store. `last_message`: whether they
/// are told (not when the retention job erases a customer who has long gone quiet).
pub async fn plan(
    store: &dyn Store,
    customer: &CustomerId,
    by: &str,
    now: Timestamp,
    key: &[u8],
    last_message: bool,
) -> StoreResult<(ErasurePlan, Vec<flows::booking::BookingId>)> {
    let record = store.customer(customer).await?;
    let conversation = store.conversation(customer).await?;
    // Every chat linked in, also through chats that were themselves linked into one.
    let mut merges = Vec::new();
    let mut customers = vec![customer.clone()];
    let mut next = 0;
    while next < customers.len() && customers.len() <= MAX_LINKED {
        let into = customers[next].clone();
        next += 1;
        for merge in store.merged_into(&into).await? {
            if !customers.contains(&merge.from.id) {
                customers.push(merge.from.id.clone());
                merges.push(merge);
            }
        }
    }
    let identities: BTreeSet<Identity> = record
        .iter()
        .flat_map(|r| r.identities.iter().cloned())
        .chain(
            merges
                .iter()
                .flat_map(|m| m.from.identities.iter().cloned()),
        )
        .collect();
    let web_sessions: Vec<&str> = identities
        .iter()
        .filter(|identity| identity.channel == Channel::WebChat)
        .map(|identity| identity.external_id.as_str())
        .collect();

    let mut outbox_ids = Vec::new();
    let mut dedup_keys = BTreeSet::new();
    for id in &customers {
        for entry in store.history(id, MAX_HISTORY).await? {
            match entry {
                HistoryEntry::Out { outbox_id, .. } => outbox_ids.push(outbox_id),
                HistoryEntry::In {
                    channel, public_id, ..
                } => {
                    if channel == Channel::WebChat {
                        for session in &web_sessions {
                            dedup_keys.insert(format!("webchat:{session}:{public_id}"));
                        }
                    }
                    dedup_keys.insert(public_id);
                }
                _ => {}
            }
        }
    }

    let orders = store
        .orders()
        .await?
        .into_iter()
        .filter(|order| customers.contains(&order.customer))
        .collect();
    let bookings = store
        .bookings()
        .await?
        .into_iter()
        .filter(|booking| customers.contains(&booking.customer))
        .collect();
    let decision = flows::erasure::decide(orders, bookings, now);

    let last_message = if last_message {
        conversation.as_ref().and_then(|conversation| {
            let channel = conversation
                .reach
                .last_channel
                .or(conversation.reach.preferred_channel)?;
            let identity = identities.iter().find(|i| i.channel == channel)?;
            Some(NewOutbox {
                channel,
                last_inbound_at: conversation
                    .reach
                    .last_inbound_by_channel
                    .get(&channel)
                    .copied(),
                recipient: identity.external_id.clone(),
                locale: conversation.locale,
                reply: Reply::key(TextKey::ErasureDone),
                reply_to: None,
            })
        })
    } else {
        None
    };
    let record = ErasureRecord {
        customer: customer.clone(),
        customers: customers.clone(),
        at: now,
        by: flows::words::head(by, 64).to_owned(),
        identity_digests: identities.iter().map(|i| digest(key, i)).collect(),
        orders_kept: u32::try_from(decision.keep_orders.len()).unwrap_or(u32::MAX),
        bookings_kept: u32::try_from(decision.keep_bookings.len()).unwrap_or(u32::MAX),
    };
    let plan = ErasurePlan {
        customers,
        identities: identities.into_iter().collect(),
        outbox_ids,
        dedup_keys: dedup_keys.into_iter().collect(),
        keep_orders: decision.keep_orders,
        drop_orders: decision.drop_orders,
        keep_bookings: decision.keep_bookings,
        drop_bookings: decision.drop_bookings,
        last_message,
        record,
    };
    Ok((plan, decision.cancel_bookings))
}

/// Carries out the erasure `entry` asks for (in the customer's worker).
pub async fn carry_out(shared: &Shared, entry: &InboxEntry, by: &str) -> StoreResult<()> {
    let store = shared.store.as_ref();
    let customer = &entry.customer;
    // Asked again (a double click, a retried request, two replicas' retention runs): the
    // first erasure's record stands; whatever came in since is swept.
    if let Some(record) = store.erasure(customer).await? {
        return sweep(shared, record, entry).await;
    }
    let now = crate::clock::now();
    let key = digest_key(shared).await?;
    let tell = by != BY_RETENTION;
    let (plan, cancel) = plan(store, customer, by, now, &key, tell).await?;
    // Appointments still to come give their time back first.
    cancel_bookings(shared, &cancel, now).await?;
    crash_here_in_tests();
    let created = store.erase(&plan).await?;
    let detail = format!(
        "{} chat(s), {} order(s) and {} appointment(s) kept for accounting",
        plan.customers.len(),
        plan.record.orders_kept,
        plan.record.bookings_kept
    );
    super::audit::record(store, by, "erase", Some(customer), detail).await?;
    metrics::counter!("souk_customers_erased_total", "by" => by_kind(by)).increment(1);
    tracing::info!(chats = plan.customers.len(), "customer erased");
    if let Some(created) = created {
        shared
            .outbox_feed
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push(created);
        shared.outbox_wakeup.notify_one();
    }
    for id in &plan.customers {
        shared.console_feed.publish(id);
    }
    Ok(())
}

/// An event of a customer erased before: taken out with whatever else of theirs came in
/// since (a booking or an order written in the instant of the erasure included), under the
/// erasure's own record (no last message again). A payment or order change for an order
/// kept for accounting cannot be applied without the conversation: it goes to the audit
/// log for the shop to record by hand.
pub async fn sweep(shared: &Shared, record: ErasureRecord, entry: &InboxEntry) -> StoreResult<()> {
    let store = shared.store.as_ref();
    let customer = &entry.customer;
    let key = digest_key(shared).await?;
    let (mut plan, cancel) = plan(store, customer, &record.by, record.at, &key, false).await?;
    cancel_bookings(shared, &cancel, crate::clock::now()).await?;
    plan.record = record;
    store.erase(&plan).await?;
    metrics::counter!("souk_erased_events_swept_total").increment(1);
    let money = match &entry.event {
        Event::PaymentConfirmed { order } => Some((order, "paid")),
        Event::PaymentFailed { order, .. } => Some((order, "payment failed")),
        Event::OrderStatusChanged { order, status, .. } => Some((order, status.name())),
        _ => None,
    };
    if let Some((order, what)) = money {
        tracing::warn!(%order, what, "an order event came after its customer was erased; recorded in the audit log");
        super::audit::record(
            store,
            "souk",
            "after_erasure",
            Some(customer),
            format!(
                "order {order}: {what} after its customer was erased; update the order by hand"
            ),
        )
        .await?;
    }
    Ok(())
}

/// Appointments still to come give their time back, through the calendar's own
/// transaction (idempotent: a cancelled booking cancels again to nothing).
async fn cancel_bookings(
    shared: &Shared,
    cancel: &[flows::booking::BookingId],
    now: Timestamp,
) -> StoreResult<()> {
    if cancel.is_empty() {
        return Ok(());
    }
    let store = shared.store.as_ref();
    let ctx = shared.context();
    let staff = crate::booking::staff_ids(&ctx);
    for booking in cancel {
        store
            .booking_request(
                &BookingRequest::Cancel {
                    booking: booking.clone(),
                },
                &staff,
                now,
                None,
            )
            .await?;
    }
    *ctx.calendar.write() = store.calendar().await?;
    Ok(())
}

fn by_kind(by: &str) -> &'static str {
    match by {
        BY_CUSTOMER => "customer",
        BY_RETENTION => "retention",
        super::audit::ADMIN_API => "admin-api",
        _ => "operator",
    }
}

/// The crash test's hook: with `SOUK_TEST_CRASH_IN_ERASURE=1` the process dies the way a
/// power cut would, after the erasure was worked out and before its transaction.
fn crash_here_in_tests() {
    if std::env::var_os("SOUK_TEST_CRASH_IN_ERASURE").is_some_and(|v| v == "1") {
        tracing::error!("SOUK_TEST_CRASH_IN_ERASURE is set: aborting in the middle of an erasure");
        std::process::abort();
    }
}
