//! The shop's numbers as Prometheus gauges (`souk_kpi{window, figure, channel}`), so a
//! Grafana dashboard (`docs/grafana-dashboard.json`) can show them beside the counters:
//! recomputed from the store every 15 minutes (and a minute after the start), over today and
//! the last 30 days in the shop's time zone, by `flows::kpis` like the console's dashboard.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use crate::driver::Shared;

/// The figures exported, each from the rows' sums.
pub const FIGURES: &[&str] = &[
    "conversations",
    "buyers",
    "conversion",
    "orders",
    "paid_orders",
    "revenue",
    "average_order",
    "carts_chased",
    "reminders_sent",
    "recovered_orders",
    "recovered_revenue",
    "bookings",
    "no_shows",
    "no_show_rate",
    "handoffs",
    "handoff_rate",
    "first_response_seconds",
    "resolution_seconds",
    "model_fallback_rate",
];

/// The channel label's values: every channel, `unknown` and `all`.
pub const CHANNELS: &[&str] = &[
    "all",
    "webchat",
    "whatsapp",
    "messenger",
    "instagram",
    "telegram",
    "discord",
    "unknown",
];

pub const WINDOWS: &[&str] = &["today", "30d"];

const EVERY: Duration = Duration::from_secs(15 * 60);

pub async fn run(shared: Arc<Shared>, stop: CancellationToken) {
    let mut wait = Duration::from_secs(60);
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            () = tokio::time::sleep(wait) => {}
        }
        wait = EVERY;
        let currency = shared.context().catalog.currency();
        if let Err(error) = publish(shared.store.as_ref(), &shared.settings, currency).await {
            tracing::warn!(%error, "could not compute the shop's numbers for the metrics");
        }
    }
}

/// Computes the numbers from `store` and sets the gauges.
pub async fn publish(
    store: &dyn crate::store::Store,
    settings: &crate::settings::Settings,
    currency: flows::Currency,
) -> crate::store::StoreResult<()> {
    let zone = settings.timezone();
    let today = chrono::TimeZone::timestamp_millis_opt(&zone, crate::clock::now().millis())
        .single()
        .map(|t| t.date_naive())
        .unwrap_or_default();
    let steps = crate::report::reminder_steps(settings);
    let from = today - chrono::Duration::days(29);
    let rows = crate::report::kpi_rows(store, from, today, zone, &steps).await?;
    let scale = 10_f64.powi(i32::try_from(currency.minor_digits()).unwrap_or(2));
    let today_text = today.to_string();
    for window in WINDOWS {
        for channel in CHANNELS {
            let chosen: Vec<&flows::kpis::KpiRow> = rows
                .iter()
                .filter(|r| r.channel == *channel && (*window == "30d" || r.day == today_text))
                .collect();
            for (figure, value) in figures(&chosen, scale) {
                metrics::gauge!("souk_kpi", "window" => *window, "figure" => figure, "channel" => *channel)
                    .set(value);
            }
        }
    }
    Ok(())
}

/// Each figure of a set of rows: counts summed, rates and averages from the sums, money in
/// the currency's units.
fn figures(rows: &[&flows::kpis::KpiRow], scale: f64) -> Vec<(&'static str, f64)> {
    let sum = |f: fn(&flows::kpis::KpiRow) -> f64| rows.iter().map(|r| f(r)).sum::<f64>();
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { 0.0 };
    let conversations = sum(|r| r.conversations as f64);
    let buyers = sum(|r| r.buyers as f64);
    let paid = sum(|r| r.paid_orders as f64);
    let revenue = sum(|r| r.revenue_minor as f64) / scale;
    let bookings = sum(|r| r.bookings as f64);
    let no_shows = sum(|r| r.no_shows as f64);
    let handoffs = sum(|r| r.handoffs as f64);
    let first = sum(|r| r.first_responses as f64);
    let resolved = sum(|r| r.resolutions as f64);
    vec![
        ("conversations", conversations),
        ("buyers", buyers),
        ("conversion", ratio(buyers, conversations)),
        ("orders", sum(|r| r.orders as f64)),
        ("paid_orders", paid),
        ("revenue", revenue),
        ("average_order", ratio(revenue, paid)),
        ("carts_chased", sum(|r| r.carts_chased as f64)),
        ("reminders_sent", sum(|r| r.reminders_sent as f64)),
        ("recovered_orders", sum(|r| r.recovered_orders as f64)),
        (
            "recovered_revenue",
            sum(|r| r.recovered_revenue_minor as f64) / scale,
        ),
        ("bookings", bookings),
        ("no_shows", no_shows),
        ("no_show_rate", ratio(no_shows, bookings)),
        ("handoffs", handoffs),
        ("handoff_rate", ratio(handoffs, conversations)),
        (
            "first_response_seconds",
            ratio(sum(|r| r.first_response_ms_total as f64), first) / 1000.0,
        ),
        (
            "resolution_seconds",
            ratio(sum(|r| r.resolution_ms_total as f64), resolved) / 1000.0,
        ),
        (
            "model_fallback_rate",
            ratio(
                sum(|r| r.model_fallbacks as f64),
                sum(|r| r.model_readings as f64),
            ),
        ),
    ]
}

#[cfg(test)]
mod tests {
    /// A channel added to flows must get its gauges too: the label list is spelled out
    /// because the metric families' table needs it as a constant.
    #[test]
    fn the_channel_labels_name_every_channel() {
        for channel in flows::Channel::ALL {
            assert!(super::CHANNELS.contains(&channel.name()), "{channel:?}");
        }
        assert_eq!(super::CHANNELS.len(), flows::Channel::ALL.len() + 2);
    }
}
