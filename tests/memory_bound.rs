//! A memory bound per request: the largest body each route accepts, in the worst shapes we
//! could think of (a thousand customers' longest texts in one webhook, one 4 MB word, a JSON
//! nesting bomb, two million tiny JSON values, the web chat's largest message), sent several
//! at once, must keep this process (souk and the test together) under `RSS_LIMIT_MB`.
//! A test binary of its own, so other tests' memory does not count.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code)]
#[path = "it/fake_graph.rs"]
mod fake_graph;
#[allow(dead_code)]
#[path = "it/support.rs"]
mod support;

#[path = "../examples/support/resident.rs"]
mod resident;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use adapters::meta::signature::sign;
use souk::AppOptions;
use souk::settings::{MetaChannelSettings, Secret};

use fake_graph::FakeGraph;
use support::{PATIENCE, TestApp, eventually_async, spawn_app_with, test_settings};

/// The stated bound for the whole test process while the worst bodies are in flight. Most
/// of the peak is sled's page cache filling with the ~3,900 conversations the batches start
/// (measured 230-300 MB on a 2-core machine); without the JSON value cap it was 360 MB and
/// grew with every tiny-value body in flight.
const RSS_LIMIT_MB: u64 = 400;
const SECRET: &str = "memory-app-secret";
const LIMIT: usize = 4 * 1024 * 1024;

/// Samples this process's RSS every 10 ms until stopped; the peak in kB.
fn sample_peak(stop: Arc<AtomicBool>) -> (Arc<AtomicU64>, std::thread::JoinHandle<()>) {
    let peak = Arc::new(AtomicU64::new(0));
    let seen = peak.clone();
    let thread = std::thread::spawn(move || {
        while !stop.load(Ordering::Relaxed) {
            seen.fetch_max(resident::resident_kib(), Ordering::Relaxed);
            std::thread::sleep(Duration::from_millis(10));
        }
    });
    (peak, thread)
}

/// Pads a JSON body with trailing spaces up to `size` bytes (still valid JSON).
fn padded(mut body: String, size: usize) -> Vec<u8> {
    if body.len() < size {
        body.push_str(&" ".repeat(size - body.len()));
    }
    body.into_bytes()
}

fn whatsapp_batch(size: usize) -> Vec<u8> {
    // As many customers' longest texts (4,096 chars) as fit.
    let text = "w".repeat(4096);
    let mut messages = Vec::new();
    let mut contacts = Vec::new();
    let mut length = 0;
    let mut n = 0;
    while length + 4300 < size {
        let from = format!("40{:09}", n);
        messages.push(
            serde_json::json!({"from": from, "id": format!("wamid.M{n}"),
            "timestamp": "1767225600", "type": "text", "text": {"body": text}}),
        );
        contacts.push(serde_json::json!({"profile": {"name": "x"}, "wa_id": from}));
        length += 4300;
        n += 1;
    }
    let body = serde_json::json!({"object": "whatsapp_business_account", "entry": [{"id": "W",
        "changes": [{"field": "messages", "value": {"messaging_product": "whatsapp",
        "metadata": {"phone_number_id": "1122334455667"}, "contacts": contacts, "messages": messages}}]}]});
    padded(body.to_string(), size)
}

fn one_huge_word(size: usize) -> Vec<u8> {
    let word = "h".repeat(size - 600);
    let body = serde_json::json!({"object": "whatsapp_business_account", "entry": [{"id": "W",
        "changes": [{"field": "messages", "value": {"messaging_product": "whatsapp",
        "metadata": {"phone_number_id": "1122334455667"},
        "messages": [{"from": "40799999999", "id": "wamid.HUGE", "timestamp": "1767225600",
            "type": "text", "text": {"body": word}}]}}]}]});
    padded(body.to_string(), size)
}

fn nesting_bomb(size: usize) -> Vec<u8> {
    let depth = size / 2;
    format!("{}{}", "[".repeat(depth), "]".repeat(depth)).into_bytes()
}

fn tiny_values(size: usize) -> Vec<u8> {
    // Two million one-byte array elements: each is a whole JSON value once parsed.
    let count = (size - 64) / 2;
    let mut body = String::from(r#"{"object":"whatsapp_business_account","entry":["#);
    body.push_str(&"0,".repeat(count));
    body.push_str("0]}");
    body.into_bytes()
}

async fn post_signed(app: &TestApp, body: Vec<u8>) -> u16 {
    let signature = sign(SECRET.as_bytes(), &body);
    app.client
        .post(format!("{}/webhooks/whatsapp", app.base))
        .header("content-type", "application/json")
        .header("x-hub-signature-256", signature)
        .body(body)
        .timeout(PATIENCE)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_largest_worst_bodies_keep_the_process_under_its_bound() {
    let dir = tempfile::tempdir().expect("temp dir");
    let graph = FakeGraph::start().await;
    let mut settings = test_settings(dir.path());
    settings.server.public_url = "https://shop.example".into();
    settings.channels.whatsapp = MetaChannelSettings {
        enabled: true,
        app_secret: Some(Secret::new(SECRET)),
        verify_token: Some(Secret::new("verify")),
        access_token: Some(Secret::new("token")),
        api_base: graph.base.clone(),
        messages_per_second: 1000,
        phone_number_id: Some("1122334455667".into()),
        ..MetaChannelSettings::default()
    };
    settings.server.webhook_body_limit_bytes = LIMIT;
    let app = spawn_app_with(settings, AppOptions::default()).await;
    let before_kb = resident::resident_kib();
    let stop = Arc::new(AtomicBool::new(false));
    let (peak, sampler) = sample_peak(stop.clone());

    // Several of each at once, as a busy platform (or an attacker with the secret) would.
    let app = Arc::new(app);
    let mut sends = tokio::task::JoinSet::new();
    for round in 0..4 {
        for body in [
            whatsapp_batch(LIMIT),
            one_huge_word(LIMIT),
            nesting_bomb(LIMIT),
            tiny_values(LIMIT),
        ] {
            let app = app.clone();
            sends.spawn(async move { (round, post_signed(&app, body).await) });
        }
    }
    let mut statuses = Vec::new();
    while let Some(done) = sends.join_next().await {
        statuses.push(done.expect("send").1);
    }
    // The web chat's largest body: 64 KiB of text (refused as longer than the chat allows).
    let session = app.session().await;
    let text = "c".repeat(65_000);
    let chat = app
        .post_raw(serde_json::json!({"session": session, "text": text}).to_string())
        .await;
    assert!(chat.status().is_client_error(), "{}", chat.status());
    // Every accepted event is stepped (the batches hold ~970 customers each).
    let store = app.store().clone();
    let settled = eventually_async(PATIENCE * 3, || async {
        store
            .pending_inbox()
            .await
            .map(|p| p.is_empty())
            .unwrap_or(false)
    })
    .await;
    stop.store(true, Ordering::Relaxed);
    sampler.join().expect("sampler");
    let peak_mb = peak.load(Ordering::Relaxed) / 1024;
    println!(
        "RSS before {} MB, peak {peak_mb} MB; statuses {statuses:?}",
        before_kb / 1024
    );
    assert!(settled, "the accepted events were not all stepped");
    assert!(
        statuses.iter().all(|s| [200, 400, 413, 503].contains(s)),
        "{statuses:?}"
    );
    assert!(
        peak_mb < RSS_LIMIT_MB,
        "peak RSS {peak_mb} MB over the stated {RSS_LIMIT_MB} MB"
    );
    match Arc::try_unwrap(app) {
        Ok(app) => app.stop().await,
        Err(_) => panic!("the app is still shared"),
    }
}
