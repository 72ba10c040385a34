//! What an erasure costs on sled: a customer with `MESSAGES` messages (each step a message
//! and a reply) among `OTHERS` other customers with ten each; the time to work out the plan
//! and to carry it out (one transaction, then a flush), and the numbers' time over all of
//! them; then the time to open the store again (on sled the history log's index is rebuilt
//! from its segments) and to read one customer's history.
//! `cargo run --release --example erase_bench [MESSAGES] [OTHERS]`.

use std::time::Instant;

#[path = "support/resident.rs"]
mod resident;

use flows::{Channel, Conversation, CustomerId, Event, Inbound, InboundMessage, Locale, Timestamp};
use souk::store::{HistoryEntry, NewOutbox, StepCommit};

fn step(customer: &CustomerId, at: i64) -> StepCommit {
    StepCommit {
        inbox_seq: u64::MAX,
        conversation: Conversation::new(customer.clone(), Locale::En),
        history: vec![HistoryEntry::In {
            at: Timestamp(at),
            channel: Channel::WebChat,
            public_id: format!("{customer}-{at}"),
            event: Event::Inbound(Inbound::new(
                Channel::WebChat,
                InboundMessage::Text("do you have lamps?".into()),
            )),
        }],
        outbox: vec![NewOutbox {
            channel: Channel::WebChat,
            last_inbound_at: None,
            recipient: format!("session-of-{customer}"),
            locale: Locale::En,
            reply: flows::Reply::key(flows::TextKey::Menu),
            reply_to: None,
        }],
        timers: Vec::new(),
        orders: Vec::new(),
        order_updates: Vec::new(),
        payment_jobs: Vec::new(),
        now: Timestamp(at),
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let messages: i64 = args.next().map_or(Ok(2_000), |a| a.parse())?;
    let others: i64 = args.next().map_or(Ok(1_000), |a| a.parse())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let dir = tempfile::tempdir()?;
        let store = souk::store::open(&souk::settings::StoreSettings::sled(dir.path())).await?;
        let now = souk::clock::now().millis();
        let target = CustomerId("target".into());
        let mut batch = Vec::new();
        for n in 0..messages {
            batch.push(step(&target, now - (messages - n) * 1_000));
            if batch.len() == 200 {
                store.commit_batch(std::mem::take(&mut batch)).await?;
            }
        }
        for other in 0..others {
            let id = CustomerId(format!("other-{other}"));
            for n in 0..10 {
                batch.push(step(&id, now - (10 - n) * 1_000));
            }
            if batch.len() >= 200 {
                store.commit_batch(std::mem::take(&mut batch)).await?;
            }
        }
        store.commit_batch(batch).await?;
        // The outbox holds every reply (nothing sends here): the erasure scans it all.
        let outbox = store.outbox_depth().await?;
        let key = store.digest_key().await?;
        let started = Instant::now();
        let (plan, _) = souk::data_rights::erase::plan(
            store.as_ref(),
            &target,
            "bench",
            Timestamp(now),
            &key,
            false,
        )
        .await?;
        let planned = started.elapsed();
        let started = Instant::now();
        store.erase(&plan).await?;
        let erased = started.elapsed();
        anyhow::ensure!(store.history(&target, 10).await?.is_empty(), "history left");
        let started = Instant::now();
        let today = chrono::Utc::now().date_naive();
        let rows = souk::report::kpi_rows(
            store.as_ref(),
            today - chrono::Duration::days(29),
            today,
            chrono_tz::UTC,
            &[],
        )
        .await?;
        let numbers = started.elapsed();
        println!(
            "erasure of a customer with {messages} messages among {others} others (outbox {outbox}): \
             plan {:.1} ms, transaction + flush {:.1} ms; the numbers over {} conversations: {:.1} ms ({} rows)",
            planned.as_secs_f64() * 1e3,
            erased.as_secs_f64() * 1e3,
            others + 1,
            numbers.as_secs_f64() * 1e3,
            rows.len()
        );
        drop(store);
        let rss_before = resident::resident_kib() as f64 / 1024.0;
        let started = Instant::now();
        let store = souk::store::open(&souk::settings::StoreSettings::sled(dir.path())).await?;
        let opened = started.elapsed();
        let rss_opened = resident::resident_kib() as f64 / 1024.0 - rss_before;
        let started = Instant::now();
        let read = store.history(&CustomerId("other-7".into()), 50).await?.len();
        println!(
            "opened again in {:.1} ms, +{rss_opened:.0} MB resident ({} steps' history); one customer's history ({read} entries) read in {:.2} ms",
            opened.as_secs_f64() * 1e3,
            others * 10,
            started.elapsed().as_secs_f64() * 1e3
        );
        Ok(())
    })
}
