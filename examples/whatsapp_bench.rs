//! Load benchmark of the WhatsApp path against the real `souk` binary: N signed webhooks with
//! unique message ids from K senders, replies counted at a fake Graph API in this process.
//! Prints acknowledged messages/s, end-to-end messages/s and ack latency percentiles.
//!
//!     cargo build --release && cargo run --release --example whatsapp_bench -- 20000 1000 64
//!     (messages, senders, concurrent connections)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde_json::json;

#[path = "support/lean_http.rs"]
mod lean_http;

const SECRET: &str = "bench-secret";

/// The Graph API's answer to a send; ids are unique because souk keys statuses by them.
fn graph_answer(count: &AtomicUsize) -> String {
    let n = count.fetch_add(1, Ordering::Relaxed);
    format!(
        r#"{{"messaging_product":"whatsapp","contacts":[{{"wa_id":"0"}}],"messages":[{{"id":"wamid.bench.{n}"}}]}}"#
    )
}

fn webhook(sender: usize, n: usize, now_seconds: u64) -> Vec<u8> {
    let from = format!("4070{sender:07}");
    json!({"object": "whatsapp_business_account", "entry": [{"id": "WABA", "changes": [{"field": "messages", "value": {
        "messaging_product": "whatsapp", "metadata": {"phone_number_id": "1122334455667"},
        "contacts": [{"profile": {"name": "Bench"}, "wa_id": from}],
        "messages": [{"from": from, "id": format!("wamid.bench.in.{n}"), "timestamp": now_seconds.to_string(), "type": "text", "text": {"body": "menu"}}]
    }}]}]})
    .to_string()
    .into_bytes()
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index].as_secs_f64() * 1e3
}

// One thread for the generator and the fake: it can take at most one core from souk.
#[tokio::main(flavor = "current_thread")]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let total: usize = args.next().map_or(Ok(20_000), |a| a.parse())?;
    let senders: usize = args.next().map_or(Ok(1_000), |a| a.parse())?;
    let connections: usize = args.next().map_or(Ok(64), |a| a.parse())?;

    let replies = Arc::new(AtomicUsize::new(0));
    let graph_listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let graph_base = format!("http://{}", graph_listener.local_addr()?);
    let counter = replies.clone();
    tokio::spawn(lean_http::serve(
        graph_listener,
        Arc::new(move |_body: &[u8]| graph_answer(&counter)),
    ));

    let store = tempfile::tempdir()?;
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let binary = root.join("target/release/souk");
    let mut souk = Command::new(&binary)
        .args(["serve", "--config"])
        .arg(root.join("config/souk.toml"))
        .env(
            "RUST_LOG",
            std::env::var("RUST_LOG").unwrap_or_else(|_| "error".into()),
        )
        .env("SOUK__SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("SOUK__STORE__PATH", store.path().join("data"))
        .env("SOUK__CHANNELS__WHATSAPP__ENABLED", "true")
        .env("SOUK__CHANNELS__WHATSAPP__APP_SECRET", SECRET)
        .env("SOUK__CHANNELS__WHATSAPP__VERIFY_TOKEN", "bench")
        .env("SOUK__CHANNELS__WHATSAPP__ACCESS_TOKEN", "bench")
        .env("SOUK__CHANNELS__WHATSAPP__PHONE_NUMBER_ID", "1122334455667")
        .env("SOUK__CHANNELS__WHATSAPP__API_BASE", &graph_base)
        .env("SOUK__CHANNELS__WHATSAPP__MESSAGES_PER_SECOND", "100000")
        // Each sender here writes 20 times in a few seconds; the default 250 ms spacing per
        // recipient would measure the pacing, not souk.
        .env("SOUK__CHANNELS__WHATSAPP__RECIPIENT_GAP_MS", "0")
        // souk logs to stdout; shown only when RUST_LOG asks for it.
        .stdout(if std::env::var_os("RUST_LOG").is_some() {
            Stdio::inherit()
        } else {
            Stdio::null()
        })
        .spawn()
        .map_err(|e| {
            anyhow::anyhow!(
                "start {} (cargo build --release first): {e}",
                binary.display()
            )
        })?;
    let base = format!("http://127.0.0.1:{port}");
    let address: std::net::SocketAddr = format!("127.0.0.1:{port}").parse()?;
    let client = reqwest::Client::new();
    for _ in 0..200 {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Requests and signatures are prepared up front so the clock measures souk, not us.
    // The platform's send time: messaging windows count from it.
    let now_seconds = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs();
    let host = address.to_string();
    let requests: Vec<Vec<u8>> = (0..total)
        .map(|n| {
            let body = webhook(n % senders, n, now_seconds);
            let signature = adapters::meta::signature::sign(SECRET.as_bytes(), &body);
            lean_http::post(
                &host,
                "/webhooks/whatsapp",
                &[
                    ("x-hub-signature-256", &signature),
                    ("content-type", "application/json"),
                ],
                &body,
            )
        })
        .collect();
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..connections {
        let (requests, next) = (requests.clone(), next.clone());
        let mut connection = lean_http::Client::connect(address).await?;
        tasks.spawn(async move {
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(request) = requests.get(n) else {
                    break;
                };
                let sent = Instant::now();
                let status = connection.exchange(request).await.expect("webhook");
                assert_eq!(status, 200);
                latencies.push(sent.elapsed());
            }
            latencies
        });
    }
    let mut latencies = Vec::with_capacity(total);
    while let Some(result) = tasks.join_next().await {
        latencies.extend(result?);
    }
    let acked = started.elapsed();
    let replied_by_ack = replies.load(Ordering::Relaxed);
    let deadline = Instant::now() + Duration::from_secs(120);
    while replies.load(Ordering::Relaxed) < total && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let end_to_end = started.elapsed();
    let delivered = replies.load(Ordering::Relaxed);
    let metrics = client
        .get(format!("{base}/metrics"))
        .send()
        .await?
        .text()
        .await?;
    let metric = |name: &str| -> f64 {
        metrics
            .lines()
            .find(|l| l.starts_with(name) && !l.contains('{'))
            .and_then(|l| l.rsplit(' ').next()?.parse().ok())
            .unwrap_or(0.0)
    };
    let flushes = metric("souk_flush_seconds_count");
    if std::env::var_os("SHOW_METRICS").is_some() {
        println!(
            "{}",
            metrics
                .lines()
                .filter(|l| l.contains("flush") || l.contains("commit_batch"))
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
    let _ = souk.kill();
    let _ = souk.wait();
    latencies.sort();
    println!(
        "WhatsApp webhooks → souk (release binary) → fake Graph API, {connections} connections"
    );
    println!("messages: {total} from {senders} senders; replies received: {delivered}");
    println!(
        "acknowledged: {:.0} msgs/s ({:.2} s)",
        total as f64 / acked.as_secs_f64(),
        acked.as_secs_f64()
    );
    println!(
        "end to end:   {:.0} msgs/s ({:.2} s); replies by the last acknowledgement: {replied_by_ack}",
        delivered as f64 / end_to_end.as_secs_f64(),
        end_to_end.as_secs_f64()
    );
    if flushes > 0.0 {
        println!(
            "store flushes: {flushes:.0}, mean {:.2} ms each, mean {:.1} requests made durable per flush",
            metric("souk_flush_seconds_sum") / flushes * 1e3,
            metric("souk_flush_batch_size_sum") / flushes
        );
    }
    let commits = metric("souk_commit_batch_size_count");
    if commits > 0.0 {
        println!(
            "step commits: {commits:.0}, mean {:.1} events per transaction",
            metric("souk_commit_batch_size_sum") / commits
        );
    }
    println!(
        "ack latency p50: {:.2} ms, p90: {:.2} ms, p99: {:.2} ms, max: {:.2} ms",
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.9),
        percentile(&latencies, 0.99),
        percentile(&latencies, 1.0)
    );
    Ok(())
}
