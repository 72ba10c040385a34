//! Logs (tracing) and metrics (Prometheus text at /metrics).

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Step latencies are sub-millisecond when healthy; the buckets resolve that range.
const STEP_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder once (several apps in one test process share it).
pub fn metrics_handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let builder = match PrometheusBuilder::new().set_buckets_for_metric(
                Matcher::Full("souk_step_duration_seconds".into()),
                STEP_BUCKETS,
            ) {
                Ok(with_buckets) => with_buckets,
                Err(error) => {
                    tracing::warn!(%error, "step latency buckets rejected; using a summary");
                    PrometheusBuilder::new()
                }
            };
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was already installed");
            }
            describe();
            handle
        })
        .clone()
}

fn describe() {
    metrics::describe_counter!(
        "souk_events_received_total",
        "Events accepted from channels, by channel."
    );
    metrics::describe_counter!(
        "souk_events_duplicate_total",
        "Events dropped as duplicates, by channel."
    );
    metrics::describe_counter!(
        "souk_events_processed_total",
        "Events stepped and committed."
    );
    metrics::describe_counter!(
        "souk_events_failed_total",
        "Events whose step could not be committed."
    );
    metrics::describe_histogram!(
        "souk_step_duration_seconds",
        "Time spent in Conversation::step."
    );
    metrics::describe_gauge!("souk_outbox_depth", "Replies waiting to be sent.");
    metrics::describe_histogram!(
        "souk_flush_seconds",
        "Time one group flush (fsync) of the store took."
    );
    metrics::describe_histogram!(
        "souk_flush_batch_size",
        "Requests made durable by one flush."
    );
    metrics::describe_counter!(
        "souk_webhook_events_total",
        "Webhook events by channel and kind."
    );
    metrics::describe_counter!(
        "souk_webhook_rejected_total",
        "Webhook requests rejected, by reason."
    );
    metrics::describe_counter!("souk_sends_total", "Send attempts by channel and outcome.");
    metrics::describe_counter!("souk_orders_placed_total", "Orders placed.");
    metrics::describe_counter!(
        "souk_handoff_requests_total",
        "Customers asking for a person."
    );
    metrics::describe_counter!("souk_webchat_sessions_total", "Web chat sessions created.");
}

/// `RUST_LOG` filters (default `info`); `SOUK_LOG_FORMAT=json` for machine-readable logs.
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let json = std::env::var("SOUK_LOG_FORMAT").is_ok_and(|f| f == "json");
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let result = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
    if let Err(error) = result {
        eprintln!("logging already initialised: {error}");
    }
}
