//! `souk report recovery`: what abandoned-cart reminders did, from the store (run it while
//! souk is stopped, or on a copy of the store).

use std::collections::BTreeMap;
use std::path::Path;

use anyhow::Context as _;

use flows::TextKey;

use crate::render::format_money;
use crate::settings::Settings;

const STEPS: [TextKey; 3] = [
    TextKey::RecoveryGentle,
    TextKey::RecoveryNextDay,
    TextKey::RecoveryLastCall,
];

/// `souk report kpis`: the shop's numbers per day and channel (`flows::kpis`).
pub fn kpis(
    config: &Path,
    from: &str,
    to: &str,
    format: crate::cli::KpiFormat,
) -> anyhow::Result<()> {
    let day = |text: &str| {
        chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .with_context(|| format!("{text:?} is not a date like 2026-03-31"))
    };
    let (from, to) = (day(from)?, day(to)?);
    anyhow::ensure!(from <= to, "--from is after --to");
    crate::cli::block_on(report_kpis(config, from, to, format))?
}

async fn report_kpis(
    config: &Path,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    format: crate::cli::KpiFormat,
) -> anyhow::Result<()> {
    let (settings, store) = open_store(config).await?;
    let rows = kpi_rows(
        store.as_ref(),
        from,
        to,
        settings.timezone(),
        &reminder_steps(&settings),
    )
    .await?;
    match format {
        crate::cli::KpiFormat::Csv => print!("{}", flows::kpis::csv(&rows)),
        crate::cli::KpiFormat::Json => {
            println!("{}", serde_json::to_string_pretty(&rows)?);
        }
    }
    Ok(())
}

/// History entries read per chat for the numbers: far more than a shop's conversation has.
const KPI_HISTORY: usize = 5_000;

/// The message of each cart reminder step, in order (a step's number is its place here).
pub fn reminder_steps(settings: &Settings) -> Vec<TextKey> {
    settings
        .recovery
        .flow_settings(settings.timezone())
        .map(|recovery| recovery.steps.iter().map(|step| step.key).collect())
        .unwrap_or_default()
}

/// The shop's numbers from the store's records (`flows::kpis::daily`), for the command line,
/// the console's dashboard and the metrics. Reads the history of every conversation active
/// since `from` (and of the chats linked into them).
pub async fn kpi_rows(
    store: &dyn crate::store::Store,
    from: chrono::NaiveDate,
    to: chrono::NaiveDate,
    zone: chrono_tz::Tz,
    reminder_steps: &[TextKey],
) -> crate::store::StoreResult<Vec<flows::kpis::KpiRow>> {
    use chrono::TimeZone as _;
    let since = from
        .and_hms_opt(0, 0, 0)
        .and_then(|start| zone.from_local_datetime(&start).earliest())
        .map_or(0, |start| start.timestamp_millis());
    let mut conversations = Vec::new();
    for summary in store.summaries().await? {
        let conversation = store.conversation(&summary.customer).await?;
        let mut activity = Vec::new();
        if summary.last_at.millis() >= since {
            let mut chats = vec![summary.customer.clone()];
            chats.extend(
                store
                    .merged_into(&summary.customer)
                    .await?
                    .into_iter()
                    .map(|merge| merge.from.id),
            );
            for chat in &chats {
                for entry in store.history(chat, KPI_HISTORY).await? {
                    if let Some(what) = activity_of(&entry, reminder_steps) {
                        activity.push((entry.at(), what));
                    }
                }
            }
            activity.sort_by_key(|(at, _)| *at);
        }
        conversations.push(flows::kpis::ConversationFacts {
            channel: conversation.as_ref().and_then(|c| c.reach.last_channel),
            last_at: summary.last_at,
            handed_off: summary.handoff != flows::Handoff::Bot,
            customer: summary.customer,
            activity,
        });
    }
    Ok(flows::kpis::daily(
        from,
        to,
        zone,
        &conversations,
        &store.orders().await?,
        &store.bookings().await?,
    ))
}

/// What a history entry counts as in the numbers.
fn activity_of(
    entry: &crate::store::HistoryEntry,
    reminder_steps: &[TextKey],
) -> Option<flows::kpis::Activity> {
    use crate::store::HistoryEntry;
    use flows::kpis::Activity;
    match entry {
        HistoryEntry::In { channel, .. } => Some(Activity::Wrote(*channel)),
        HistoryEntry::Handoff { .. } => Some(Activity::HandoffAsked),
        HistoryEntry::Reading { by_model, .. } => Some(Activity::ModelRead(*by_model)),
        HistoryEntry::Out { reply, .. } if reply.by_operator => Some(Activity::OperatorReplied),
        HistoryEntry::Out { reply, .. } => reminder_steps
            .iter()
            .position(|key| *key == reply.text.key)
            .map(|step| Activity::Reminder(u32::try_from(step).unwrap_or(u32::MAX))),
        HistoryEntry::Operator {
            event: flows::Event::OperatorHandedBack { .. },
            ..
        } => Some(Activity::HandedBack),
        HistoryEntry::Held { .. } | HistoryEntry::Operator { .. } | HistoryEntry::Note { .. } => {
            None
        }
    }
}

pub fn recovery(config: &Path) -> anyhow::Result<()> {
    crate::cli::block_on(report_recovery(config))?
}

/// The settings and the store a report reads (sled's lock says whether souk still runs).
async fn open_store(
    config: &Path,
) -> anyhow::Result<(Settings, std::sync::Arc<dyn crate::store::Store>)> {
    let settings = Settings::load(config)?;
    let store = crate::store::open(&settings.store).await.with_context(|| {
        format!(
            "opening the store ({}; sled: is souk running? stop it first)",
            settings.store.describe()
        )
    })?;
    Ok((settings, store))
}

async fn report_recovery(config: &Path) -> anyhow::Result<()> {
    let (settings, store) = open_store(config).await?;
    let counted = store.count_replies(&STEPS).await?;
    let mut sent = [0u64; STEPS.len()];
    for (slot, count) in sent.iter_mut().zip(counted) {
        *slot = count;
    }
    let (mut abandoned, mut opted_out) = (0u64, 0u64);
    let (mut codes_given, mut codes_used) = (0u64, 0u64);
    for summary in store.summaries().await? {
        if let Some(conversation) = store.conversation(&summary.customer).await? {
            abandoned += u64::from(conversation.recovery.last_sequence_at.is_some());
            opted_out += u64::from(conversation.recovery.opted_out);
            codes_given += conversation.recovery.codes.len() as u64;
            codes_used += conversation
                .recovery
                .codes
                .iter()
                .filter(|code| code.used_by.is_some())
                .count() as u64;
        }
    }
    // Recovered: paid orders placed within a week of a reminder, by step.
    let mut recovered: BTreeMap<u32, (u64, i64)> = BTreeMap::new();
    let mut currency = None;
    for order in store.orders().await? {
        if let Some(step) = order.recovered_step
            && order.status.money_taken()
        {
            let entry = recovered.entry(step).or_default();
            entry.0 += 1;
            entry.1 += order.total.minor;
            currency = Some(order.total.currency);
        }
    }
    let locale = settings.shop.default_locale;
    println!("carts chased (customers reminded at least once): {abandoned}");
    println!("customers who asked to stop: {opted_out}");
    println!("discount codes given: {codes_given}, used on an order: {codes_used}");
    for (index, key) in STEPS.iter().enumerate() {
        let step = u32::try_from(index).unwrap_or(u32::MAX);
        let (orders, minor) = recovered.get(&step).copied().unwrap_or_default();
        let revenue = currency
            .map(|currency| format_money(flows::Money::new(minor, currency), locale))
            .unwrap_or_else(|| "0".into());
        println!(
            "step {} ({}): {} sent, {} orders recovered, {} revenue",
            index + 1,
            key.id(),
            sent[index],
            orders,
            revenue
        );
    }
    Ok(())
}
