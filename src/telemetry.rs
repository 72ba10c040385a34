//! Logs (tracing) and metrics (Prometheus text at /metrics).

use std::sync::OnceLock;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Step latencies are sub-millisecond when healthy; the buckets resolve that range.
const STEP_BUCKETS: &[f64] = &[
    0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

/// Batch sizes: one event alone up to a worker's or flush's largest batch.
const BATCH_BUCKETS: &[f64] = &[1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0];

/// An fsync takes from tens of microseconds (page cache, NVMe) to a second (a busy disk).
const FLUSH_BUCKETS: &[f64] = &[
    0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0,
];

/// A language-model call: tens of milliseconds (a local model, a cached prompt) to the
/// configured timeout.
const NLU_BUCKETS: &[f64] = &[0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0];

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the process-wide recorder once (several apps in one test process share it).
pub fn metrics_handle() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let mut builder = PrometheusBuilder::new();
            for family in FAMILIES.iter().filter(|f| f.kind == Kind::Histogram) {
                builder = match builder
                    .set_buckets_for_metric(Matcher::Full(family.name.into()), family.buckets)
                {
                    Ok(with_buckets) => with_buckets,
                    Err(error) => {
                        tracing::warn!(%error, family = family.name, "histogram buckets rejected");
                        PrometheusBuilder::new()
                    }
                };
            }
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    Histogram,
}

/// One metric family: its name, type, help, and each label with the values it takes
/// (every combination is registered at zero at start, so dashboards and alerts see the
/// family, with its labels, from the first scrape after every restart).
pub struct Family {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
    pub labels: &'static [(&'static str, &'static [&'static str])],
    /// Histograms' buckets (the exporter renders an empty histogram only when it has them).
    pub buckets: &'static [f64],
}

const CHANNELS: &[&str] = &[
    "webchat",
    "whatsapp",
    "messenger",
    "instagram",
    "telegram",
    "discord",
];
const WEBHOOKS: &[&str] = &["whatsapp", "messenger", "instagram", "telegram", "stripe"];

/// Every family souk records. A test checks that each name the code records is here.
pub const FAMILIES: &[Family] = &[
    Family {
        name: "souk_events_received_total",
        kind: Kind::Counter,
        help: "Events accepted from channels, by channel.",
        labels: &[("channel", CHANNELS)],
        buckets: &[],
    },
    Family {
        name: "souk_events_duplicate_total",
        kind: Kind::Counter,
        help: "Events dropped as duplicates, by channel.",
        labels: &[("channel", CHANNELS)],
        buckets: &[],
    },
    Family {
        name: "souk_events_processed_total",
        kind: Kind::Counter,
        help: "Events stepped and committed.",
        labels: &[],
        buckets: &[],
    },
    Family {
        name: "souk_events_failed_total",
        kind: Kind::Counter,
        help: "Events whose step could not be committed (left in the inbox for the next start).",
        labels: &[],
        buckets: &[],
    },
    Family {
        name: "souk_inbound_set_aside_total",
        kind: Kind::Counter,
        help: "Inbound events set aside after their step kept failing (listed in the console).",
        labels: &[],
        buckets: &[],
    },
    Family {
        name: "souk_steps_over_budget_total",
        kind: Kind::Counter,
        help: "Steps that ran past workers.step_budget_seconds.",
        labels: &[],
        buckets: &[],
    },
    Family {
        name: "souk_inbound_text_cut_total",
        kind: Kind::Counter,
        help: "Customer texts longer than their channel allows, cut to it, by channel.",
        labels: &[("channel", CHANNELS)],
        buckets: &[],
    },
    Family {
        name: "souk_step_duration_seconds",
        kind: Kind::Histogram,
        help: "Time spent in Conversation::step.",
        labels: &[],
        buckets: STEP_BUCKETS,
    },
    Family {
        name: "souk_commit_batch_size",
        kind: Kind::Histogram,
        help: "Steps committed in one worker transaction.",
        labels: &[],
        buckets: BATCH_BUCKETS,
    },
    Family {
        name: "souk_outbox_depth",
        kind: Kind::Gauge,
        help: "Replies waiting to be sent.",
        labels: &[],
        buckets: &[],
    },
    Family {
        name: "souk_flush_seconds",
        kind: Kind::Histogram,
        help: "Time one group commit round took, from its transaction to its flush (fsync).",
        labels: &[],
        buckets: FLUSH_BUCKETS,
    },
    Family {
        name: "souk_lease_moves_total",
        kind: Kind::Counter,
        help: "Shard leases this replica took (at start, from a replica that stopped, or rebalanced).",
        labels: &[],
        buckets: &[],
    },
    Family {
        name: "souk_shards_held",
        kind: Kind::Gauge,
        help: "Conversation shards this replica holds (all of them on the embedded store).",
        labels: &[],
        buckets: &[],
    },
    Family {
        name: "souk_inbox_depth",
        kind: Kind::Gauge,
        help: "Events waiting in the inbox of this replica's shards (PostgreSQL; sampled every 2 s).",
        labels: &[],
        buckets: &[],
    },
    Family {
        name: "souk_events_taken_total",
        kind: Kind::Counter,
        help: "Inbox events this replica took for its shards (accepted by another replica, or a former holder's).",
        labels: &[],
        buckets: &[],
    },
    Family {
        name: "souk_events_left_to_other_replicas_total",
        kind: Kind::Counter,
        help: "Events dropped before their step because their shard moved to another replica, which steps them.",
        labels: &[],
        buckets: &[],
    },
    Family {
        name: "souk_live_news_dropped_total",
        kind: Kind::Counter,
        help: "Live-view news for other replicas dropped (the database slow or away); views catch up on reconnect.",
        labels: &[],
        buckets: &[],
    },
    Family {
        name: "souk_timers_fired_total",
        kind: Kind::Counter,
        help: "Durable timers that fell due and were applied, by kind.",
        labels: &[(
            "kind",
            &[
                "session-expiry",
                "handoff-wait",
                "cart-recovery",
                "booking-reminder",
                "nlu-wait",
                "erasure",
            ],
        )],
        buckets: &[],
    },
    Family {
        name: "souk_store_query_seconds",
        kind: Kind::Histogram,
        help: "Time of one call to the database (PostgreSQL: a statement or a transaction), by operation.",
        labels: &[(
            "op",
            &[
                "group_write",
                "load_step",
                "resolve_identity",
                "fire_timers",
                "lease_round",
                "claim_inbox",
                "outbox_of",
                "announce",
            ],
        )],
        buckets: FLUSH_BUCKETS,
    },
    Family {
        name: "souk_store_pool_connections",
        kind: Kind::Gauge,
        help: "Database connections of this replica's pool (PostgreSQL), idle or in use.",
        labels: &[("state", &["idle", "busy"])],
        buckets: &[],
    },
    Family {
        name: "souk_store_sync_seconds",
        kind: Kind::Histogram,
        help: "Time the store's flush alone (the fsync) took in one group commit round.",
        labels: &[],
        buckets: FLUSH_BUCKETS,
    },
    Family {
        name: "souk_flush_batch_size",
        kind: Kind::Histogram,
        help: "Requests made durable by one flush.",
        labels: &[],
        buckets: BATCH_BUCKETS,
    },
    Family {
        name: "souk_inbox_log_write_seconds",
        kind: Kind::Histogram,
        help: "Time one append to sled's inbox log took, its fsync included (webhooks' 200s wait for it).",
        labels: &[],
        buckets: FLUSH_BUCKETS,
    },
    Family {
        name: "souk_inbox_log_batch_size",
        kind: Kind::Histogram,
        help: "Requests one append to sled's inbox log answered (one fsync).",
        labels: &[],
        buckets: BATCH_BUCKETS,
    },
    Family {
        name: "souk_webhook_events_total",
        kind: Kind::Counter,
        help: "Webhook events by channel and kind.",
        labels: &[("channel", CHANNELS), ("kind", &["message"])],
        buckets: &[],
    },
    Family {
        name: "souk_webhook_rejected_total",
        kind: Kind::Counter,
        help: "Webhook requests rejected, by channel and reason (signature, too_large, busy, slow_body).",
        labels: &[
            ("channel", WEBHOOKS),
            ("reason", &["signature", "too_large", "busy", "slow_body"]),
        ],
        buckets: &[],
    },
    Family {
        name: "souk_webhook_ignored_total",
        kind: Kind::Counter,
        help: "Signed webhook events acknowledged but not understood, by channel.",
        labels: &[("channel", &["stripe"])],
        buckets: &[],
    },
    Family {
        name: "souk_sends_total",
        kind: Kind::Counter,
        help: "Send attempts by channel and outcome (sent, retry, dead_letter).",
        labels: &[
            ("channel", CHANNELS),
            ("outcome", &["sent", "retry", "dead_letter"]),
        ],
        buckets: &[],
    },
    Family {
        name: "souk_orders_placed_total",
        kind: Kind::Counter,
        help: "Orders placed.",
        labels: &[],
        buckets: &[],
    },
    Family {
        name: "souk_orders_after_reminder_total",
        kind: Kind::Counter,
        help: "Orders placed within a week of a cart reminder.",
        labels: &[],
        buckets: &[],
    },
    Family {
        name: "souk_orders_oversold_total",
        kind: Kind::Counter,
        help: "Paid orders whose units were no longer in stock.",
        labels: &[],
        buckets: &[],
    },
    Family {
        name: "souk_order_status_changes_total",
        kind: Kind::Counter,
        help: "Order status changes, by new status.",
        labels: &[("status", &["paid", "shipped", "delivered", "cancelled"])],
        buckets: &[],
    },
    Family {
        name: "souk_payment_links_total",
        kind: Kind::Counter,
        help: "Payment link attempts by provider and outcome (created, retry, failed, too_late).",
        labels: &[
            ("provider", &["demo", "stripe", "telegram"]),
            ("outcome", &["created", "retry", "failed", "too_late"]),
        ],
        buckets: &[],
    },
    Family {
        name: "souk_payments_refused_total",
        kind: Kind::Counter,
        help: "Provider payments not confirmed (a session souk did not make, another amount or currency), by provider and reason.",
        labels: &[
            ("provider", &["stripe", "telegram"]),
            ("reason", &["unknown_session", "wrong_amount"]),
        ],
        buckets: &[],
    },
    Family {
        name: "souk_telegram_pre_checkouts_total",
        kind: Kind::Counter,
        help: "Telegram pre-checkout queries answered, by answer.",
        labels: &[("ok", &["true", "false"])],
        buckets: &[],
    },
    Family {
        name: "souk_telegram_throttled_total",
        kind: Kind::Counter,
        help: "Telegram sends delayed by its rate limits.",
        labels: &[],
        buckets: &[],
    },
    Family {
        name: "souk_handoff_requests_total",
        kind: Kind::Counter,
        help: "Customers asking for a person.",
        labels: &[],
        buckets: &[],
    },
    Family {
        name: "souk_recovery_reminders_total",
        kind: Kind::Counter,
        help: "Cart reminders sent, by message.",
        labels: &[(
            "message",
            &["recovery-gentle", "recovery-next-day", "recovery-last-call"],
        )],
        buckets: &[],
    },
    Family {
        name: "souk_kpi",
        kind: Kind::Gauge,
        help: "The shop's numbers (as the console's dashboard), by window (today, the last 30 days), figure and channel; money in the currency's units, times in seconds. Recomputed every 15 minutes.",
        labels: &[
            ("window", crate::kpi_gauges::WINDOWS),
            ("figure", crate::kpi_gauges::FIGURES),
            ("channel", crate::kpi_gauges::CHANNELS),
        ],
        buckets: &[],
    },
    Family {
        name: "souk_customers_erased_total",
        kind: Kind::Counter,
        help: "Customers erased (with their linked chats), by who asked.",
        labels: &[("by", &["customer", "operator", "admin-api", "retention"])],
        buckets: &[],
    },
    Family {
        name: "souk_erased_events_swept_total",
        kind: Kind::Counter,
        help: "Events that came for a customer already erased, taken out without a step.",
        labels: &[],
        buckets: &[],
    },
    Family {
        name: "souk_link_codes_total",
        kind: Kind::Counter,
        help: "Cross-channel link codes, by event (issued, linked, refused).",
        labels: &[("event", &["issued", "linked", "refused"])],
        buckets: &[],
    },
    Family {
        name: "souk_booking_requests_total",
        kind: Kind::Counter,
        help: "Booking requests decided by the store, by request and result.",
        labels: &[
            ("request", &["hold", "book"]),
            ("result", &["done", "taken"]),
        ],
        buckets: &[],
    },
    Family {
        name: "souk_console_logins_total",
        kind: Kind::Counter,
        help: "Console logins by result (ok, failed, limited).",
        labels: &[("result", &["ok", "failed", "limited"])],
        buckets: &[],
    },
    Family {
        name: "souk_console_actions_total",
        kind: Kind::Counter,
        help: "Operator actions in the console, by action.",
        labels: &[("action", &["takeover", "reply", "handback"])],
        buckets: &[],
    },
    Family {
        name: "souk_webchat_sessions_total",
        kind: Kind::Counter,
        help: "Web chat sessions created.",
        labels: &[],
        buckets: &[],
    },
    Family {
        name: "souk_http_connections",
        kind: Kind::Gauge,
        help: "Open HTTP connections.",
        labels: &[],
        buckets: &[],
    },
    Family {
        name: "souk_http_connection_timeouts_total",
        kind: Kind::Counter,
        help: "HTTP connections closed for not sending their request headers in time (idle or slow).",
        labels: &[],
        buckets: &[],
    },
    Family {
        name: "souk_http_connections_evicted_total",
        kind: Kind::Counter,
        help: "Idle HTTP connections closed to make room when every connection slot was taken.",
        labels: &[],
        buckets: &[],
    },
    Family {
        name: "souk_accept_errors_total",
        kind: Kind::Counter,
        help: "Failed accepts of new connections (out of file descriptors, aborted).",
        labels: &[],
        buckets: &[],
    },
    Family {
        name: "souk_nlu_calls_total",
        kind: Kind::Counter,
        help: "Language-model readings, by outcome (ok, or why the rules answered instead).",
        labels: &[(
            "outcome",
            &[
                "ok",
                "invalid_call",
                "no_call",
                "refusal",
                "rate_limited",
                "server_error",
                "refused",
                "timeout",
                "connect",
                "bad_body",
                "breaker_open",
                "shop_budget",
                "conversation_budget",
                "busy",
            ],
        )],
        buckets: &[],
    },
    Family {
        name: "souk_nlu_call_seconds",
        kind: Kind::Histogram,
        help: "Time of one language-model call, answered or not.",
        labels: &[],
        buckets: NLU_BUCKETS,
    },
    Family {
        name: "souk_nlu_tokens_total",
        kind: Kind::Counter,
        help: "Tokens the language model counted, by kind.",
        labels: &[("kind", &["prompt", "completion"])],
        buckets: &[],
    },
    Family {
        name: "souk_nlu_breaker_opened_total",
        kind: Kind::Counter,
        help: "Times the language model's circuit breaker opened after failures in a row.",
        labels: &[],
        buckets: &[],
    },
    Family {
        name: "souk_translations_total",
        kind: Kind::Counter,
        help: "Console translations by the language model, by direction and outcome.",
        labels: &[
            ("direction", &["to_operator", "to_customer"]),
            ("ok", &["true", "false"]),
        ],
        buckets: &[],
    },
];

/// Every combination of a family's label values.
fn label_sets(family: &Family) -> Vec<Vec<metrics::Label>> {
    let mut sets: Vec<Vec<metrics::Label>> = vec![Vec::new()];
    for (name, values) in family.labels {
        sets = sets
            .into_iter()
            .flat_map(|set| {
                values.iter().map(move |value| {
                    let mut next = set.clone();
                    next.push(metrics::Label::new(*name, *value));
                    next
                })
            })
            .collect();
    }
    sets
}

fn describe() {
    for family in FAMILIES {
        let (name, help) = (family.name, family.help);
        for labels in label_sets(family) {
            match family.kind {
                Kind::Counter => {
                    metrics::describe_counter!(name, help);
                    metrics::counter!(name, labels).absolute(0);
                }
                Kind::Gauge => {
                    metrics::describe_gauge!(name, help);
                    metrics::gauge!(name, labels).increment(0.0);
                }
                Kind::Histogram => {
                    metrics::describe_histogram!(name, help);
                    // Registered without an observation: the exporter renders it with zero
                    // counts.
                    let _ = metrics::histogram!(name, labels);
                }
            }
        }
    }
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

#[cfg(test)]
mod tests {
    /// The channel label's values are spelled out for the families' table; a channel added
    /// to flows must be added there too.
    #[test]
    fn the_channel_label_names_every_channel() {
        let names: Vec<&str> = flows::Channel::ALL.iter().map(|c| c.name()).collect();
        assert_eq!(super::CHANNELS, names.as_slice());
    }
}
