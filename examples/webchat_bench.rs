//! Benchmark of the web chat path: HTTP ingest → durable inbox (fsync) → step → commit →
//! outbox → server-sent event. Closed loop: each simulated customer sends a message, waits
//! for its reply, sends the next. Prints throughput, latency percentiles and store size.
//!
//!     cargo run --release --example webchat_bench -- [customers] [messages-per-customer]

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};

use souk::settings::Settings;
use souk::{App, AppOptions};

const SCRIPT: [&str; 8] = [
    "[start]",
    "[browse]",
    "[cat:coffee]",
    "[add:ceramic-mug]",
    "[var:CM-BLUE]",
    "1",
    "cart",
    "menu",
];

async fn customer(client: reqwest::Client, base: String, messages: usize) -> Vec<Duration> {
    let session: Value = client
        .post(format!("{base}/chat/api/sessions"))
        .body("{}")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let session = session["session"].as_str().unwrap().to_owned();
    let response = client
        .get(format!("{base}/chat/api/events?session={session}"))
        .send()
        .await
        .unwrap();
    let mut stream = response.bytes_stream();
    let mut buffer = String::new();
    let mut latencies = Vec::with_capacity(messages);
    for i in 0..messages {
        let said = SCRIPT[i % SCRIPT.len()];
        let body = match said.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
            Some(action) => json!({"session": session, "action": action}),
            None => json!({"session": session, "text": said}),
        };
        let started = Instant::now();
        let accepted: Value = client
            .post(format!("{base}/chat/api/messages"))
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let id = accepted["id"].as_str().unwrap().to_owned();
        // Wait for the first reply to this message.
        'wait: loop {
            while let Some(end) = buffer.find("\n\n") {
                let event: String = buffer.drain(..end + 2).collect();
                if event.contains(&format!("\"reply_to\":\"{id}\"")) {
                    break 'wait;
                }
            }
            let chunk = stream.next().await.expect("stream open").unwrap();
            buffer.push_str(&String::from_utf8_lossy(&chunk));
        }
        latencies.push(started.elapsed());
    }
    latencies
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let customers: usize = args.next().map_or(Ok(50), |a| a.parse())?;
    let messages: usize = args.next().map_or(Ok(40), |a| a.parse())?;
    let store = tempfile::tempdir()?;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut settings = Settings::load(&root.join("config/souk.toml"))?;
    settings.store.path = store.path().join("data");
    let app = App::build(settings, AppOptions::default()).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run(listener, async move {
        let _ = stopped.await;
    }));

    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(customers * 2)
        .build()?;
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..customers {
        tasks.spawn(customer(client.clone(), base.clone(), messages));
    }
    let mut latencies = Vec::new();
    while let Some(result) = tasks.join_next().await {
        latencies.extend(result?);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let total = latencies.len();
    println!("webchat ingest → step → commit → outbox → SSE, closed loop");
    println!("customers: {customers}, messages each: {messages}, total messages: {total}");
    println!(
        "elapsed: {:.2} s, throughput: {:.0} messages/s",
        elapsed.as_secs_f64(),
        total as f64 / elapsed.as_secs_f64()
    );
    println!(
        "latency p50: {:.2} ms, p90: {:.2} ms, p99: {:.2} ms, max: {:.2} ms",
        percentile(&latencies, 0.50).as_secs_f64() * 1e3,
        percentile(&latencies, 0.90).as_secs_f64() * 1e3,
        percentile(&latencies, 0.99).as_secs_f64() * 1e3,
        latencies.last().copied().unwrap_or_default().as_secs_f64() * 1e3,
    );
    let _ = stop.send(());
    server.await??;
    let size: u64 = walk_size(store.path());
    println!(
        "store size on disk after the run: {:.1} MiB",
        size as f64 / (1024.0 * 1024.0)
    );
    Ok(())
}

fn walk_size(path: &std::path::Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .map(|e| {
                    let p = e.path();
                    if p.is_dir() {
                        walk_size(&p)
                    } else {
                        e.metadata().map(|m| m.len()).unwrap_or(0)
                    }
                })
                .sum()
        })
        .unwrap_or(0)
}
