//! A month of a shop's activity, written into a (new) sled store for the dashboard's browser
//! test: `cargo run --example seed_month -- DIR`. 90 customers over the 30 days before today
//! (shop time, Europe/Bucharest), three a day on WhatsApp, the web chat and Telegram, in
//! that order: every third pays an order of 1 to 3 table lamps, every sixth of those after a
//! cart reminder, every fifth asks for a person, is answered after 5 to 20 minutes and handed
//! back after an hour. Prints the totals it wrote, tallied here by hand (not by
//! `flows::kpis`), as JSON: what the dashboard must show for that range.

use chrono::{Duration, TimeZone};
use flows::{
    Channel, Conversation, Customer, CustomerId, Event, HandoffReason, Identity, Inbound,
    InboundMessage, Locale, Money, OperatorId, Order, OrderId, OrderLine, OrderStatus, ProductId,
    Reply, Sku, TextKey, Timestamp,
};
use serde_json::json;
use souk::store::{HistoryEntry, OrderUpdate, StepCommit};

const CUSTOMERS: i64 = 90;
const LAMP_MINOR: i64 = 5_900;
const MINUTE: i64 = 60_000;

fn main() -> anyhow::Result<()> {
    let dir = std::env::args()
        .nth(1)
        .ok_or_else(|| anyhow::anyhow!("usage: seed_month DIR"))?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(seed(std::path::Path::new(&dir)))
}

async fn seed(dir: &std::path::Path) -> anyhow::Result<()> {
    let zone = chrono_tz::Europe::Bucharest;
    let today = zone
        .timestamp_millis_opt(souk::clock::now().millis())
        .single()
        .ok_or_else(|| anyhow::anyhow!("no local time"))?
        .date_naive();
    let first = today - Duration::days(30);
    let last = today - Duration::days(1);
    let store = souk::store::open(&souk::settings::StoreSettings::sled(dir)).await?;
    let euro = flows::Currency::new("EUR")?;
    let channels = [Channel::WhatsApp, Channel::WebChat, Channel::Telegram];

    let (mut paid, mut revenue, mut recovered, mut recovered_revenue) = (0, 0, 0, 0);
    let (mut handoffs, mut first_reply_ms) = (0, 0);
    let mut by_channel = std::collections::BTreeMap::new();
    for i in 0..CUSTOMERS {
        let day = first + Duration::days(i / 3);
        let start = zone
            .from_local_datetime(&day.and_hms_opt(10, 0, 0).unwrap_or_default())
            .earliest()
            .ok_or_else(|| anyhow::anyhow!("no 10:00 on {day}"))?
            .timestamp_millis();
        let at = |minutes: i64| Timestamp(start + minutes * MINUTE);
        let channel = channels[usize::try_from(i % 3).unwrap_or(0)];
        *by_channel.entry(channel.name()).or_insert(0) += 1;
        let id = CustomerId(format!("seed-{i:03}"));
        let identity = Identity::new(channel, format!("4070{i:07}"));
        store
            .resolve_identity(
                &identity,
                Customer {
                    id: id.clone(),
                    identities: vec![identity.clone()],
                    display_name: Some(format!("Seeded Customer {i}")),
                    locale: Some(Locale::En),
                    created_at: at(0),
                },
            )
            .await?;
        let mut history = vec![HistoryEntry::In {
            at: at(0),
            channel,
            public_id: format!("seed-{i}-1"),
            event: Event::Inbound(Inbound::new(
                channel,
                InboundMessage::Text("do you have table lamps?".into()),
            )),
        }];
        let mut conversation = Conversation::new(id.clone(), Locale::En);
        conversation.reach.last_channel = Some(channel);
        conversation.reach.last_inbound_at = Some(at(0));
        conversation
            .reach
            .last_inbound_by_channel
            .insert(channel, at(0));
        let mut orders = Vec::new();
        let mut updates = Vec::new();
        let buys = i % 3 == 0;
        let reminded = buys && i % 6 == 0;
        if reminded {
            history.push(out(at(-60), channel, TextKey::RecoveryGentle, false));
        }
        if buys {
            let quantity = u32::try_from(1 + i % 3 + (i / 3) % 3).unwrap_or(1);
            let total = LAMP_MINOR * i64::from(quantity);
            let order = Order {
                id: OrderId(format!("SEED-{i:03}")),
                customer: id.clone(),
                name: format!("Seeded Customer {i}"),
                contact: flows::ContactPoint::Email(format!("seed{i}@example.com")),
                lines: vec![OrderLine {
                    sku: Sku("TL-STD".into()),
                    product: ProductId("table-lamp".into()),
                    title: "Table Lamp".into(),
                    quantity,
                    unit_price: Money::new(LAMP_MINOR, euro),
                }],
                total: Money::new(total, euro),
                status: OrderStatus::PendingPayment,
                placed_at: at(5),
                fulfilment: None,
                tracking: None,
                payment_attempts: 1,
                payment_failures: 0,
                oversold: Vec::new(),
                recovered_step: reminded.then_some(0),
                discount: None,
                booking: None,
                history: Vec::new(),
            };
            updates.push(OrderUpdate {
                order: order.id.clone(),
                status: OrderStatus::Paid,
                tracking: None,
                by: None,
            });
            orders.push(order);
            paid += 1;
            revenue += total;
            if reminded {
                recovered += 1;
                recovered_revenue += total;
            }
        }
        if i % 5 == 0 {
            let wait = 5 * (1 + i % 4);
            handoffs += 1;
            first_reply_ms += wait * MINUTE;
            history.push(HistoryEntry::Handoff {
                at: at(10),
                reason: HandoffReason::HumanRequested,
            });
            history.push(out(at(10 + wait), channel, TextKey::Menu, true));
            history.push(HistoryEntry::Operator {
                at: at(70),
                event: Event::OperatorHandedBack {
                    operator: OperatorId("ana".into()),
                    resolved: true,
                },
            });
        }
        for entry in &history {
            store.append_history(&id, entry).await?;
        }
        let mut commit = StepCommit {
            inbox_seq: u64::MAX,
            conversation,
            history: vec![history[0].clone()],
            outbox: Vec::new(),
            timers: Vec::new(),
            orders,
            order_updates: Vec::new(),
            payment_jobs: Vec::new(),
            now: at(0),
        };
        // The first message twice in the history would count once a day anyway; the step
        // writes the summary from it, so the list shows the customer.
        commit.history.clear();
        commit.now = at(70);
        store.commit(commit.clone()).await?;
        if !updates.is_empty() {
            commit.orders.clear();
            commit.order_updates = updates;
            store.commit(commit).await?;
        }
    }
    store.flush().await?;
    println!(
        "{}",
        json!({
            "from": first.to_string(),
            "to": last.to_string(),
            "conversations": CUSTOMERS,
            "by_channel": by_channel,
            "paid_orders": paid,
            "revenue_minor": revenue,
            "recovered_orders": recovered,
            "recovered_revenue_minor": recovered_revenue,
            "handoffs": handoffs,
            "first_response_avg_minutes": (first_reply_ms as f64 / handoffs as f64 / MINUTE as f64).round(),
            "resolutions": handoffs,
        })
    );
    Ok(())
}

fn out(at: Timestamp, channel: Channel, key: TextKey, by_operator: bool) -> HistoryEntry {
    let mut reply = Reply::key(key);
    reply.by_operator = by_operator;
    HistoryEntry::Out {
        at,
        outbox_id: u64::MAX,
        channel,
        locale: Locale::En,
        reply,
    }
}
