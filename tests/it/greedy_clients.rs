//! Clients that hold what they take: bodies declared and never finished, connections opened
//! and left idle. Raw TCP, because an HTTP client would not misbehave on purpose.

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use souk::AppOptions;

use crate::fake_graph::FakeGraph;
use crate::support::{TestApp, spawn_app_with};

/// Generous: the machine may be loaded; each wait ends as soon as its event happens.
const WAIT: Duration = crate::support::PATIENCE;

fn address(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_owned()
}

/// Reads until the server answers or closes; returns what it said.
async fn response_of(stream: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let mut buffer = [0_u8; 4096];
    let read = tokio::time::timeout(WAIT, async {
        loop {
            match stream.read(&mut buffer).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    out.extend_from_slice(&buffer[..n]);
                    if out.windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
            }
        }
    })
    .await;
    assert!(read.is_ok(), "the server neither answered nor closed");
    String::from_utf8_lossy(&out).into_owned()
}

fn head(length: usize, signature: Option<&str>) -> String {
    let mut head = format!(
        "POST /webhooks/whatsapp HTTP/1.1\r\nhost: souk\r\ncontent-type: application/json\r\ncontent-length: {length}\r\n"
    );
    if let Some(signature) = signature {
        head.push_str(&format!("x-hub-signature-256: {signature}\r\n"));
    }
    head.push_str("\r\n");
    head
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_bodies_are_refused_bounded_and_timed_before_they_are_read() {
    let dir = tempfile::tempdir().expect("temp dir");
    let graph = FakeGraph::start().await;
    let mut settings = crate::meta::settings(dir.path(), &graph);
    settings.server.webhook_body_limit_bytes = 4 * 1024 * 1024;
    // Room for two of the largest bodies at once.
    settings.server.webhook_inflight_bytes = 8 * 1024 * 1024 + 16;
    settings.server.body_timeout_seconds = 2;
    let app = spawn_app_with(settings, AppOptions::default()).await;
    let addr = address(&app);

    // No signature header: 401 at once, while the declared 4 MB never comes.
    let mut unsigned = TcpStream::connect(&addr).await.expect("connect");
    unsigned
        .write_all(head(4_000_001, None).as_bytes())
        .await
        .expect("write");
    let answer = response_of(&mut unsigned).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    // A malformed one likewise.
    let mut malformed = TcpStream::connect(&addr).await.expect("connect");
    malformed
        .write_all(head(4_000_001, Some("sha256=nothex")).as_bytes())
        .await
        .expect("write");
    assert!(
        response_of(&mut malformed)
            .await
            .starts_with("HTTP/1.1 401")
    );
    // Declaring more than the limit: 413 before the body.
    let forged = format!("sha256={}", "ab".repeat(32));
    let mut huge = TcpStream::connect(&addr).await.expect("connect");
    huge.write_all(head(5_000_000, Some(&forged)).as_bytes())
        .await
        .expect("write");
    assert!(response_of(&mut huge).await.starts_with("HTTP/1.1 413"));

    // Well-formed (forged) signatures with bodies held open: two take the whole budget, the
    // third waits a moment and gets 503 with Retry-After; nobody buffers beyond the budget.
    let mut holders = Vec::new();
    for _ in 0..2 {
        let mut holder = TcpStream::connect(&addr).await.expect("connect");
        holder
            .write_all(head(4_000_000, Some(&forged)).as_bytes())
            .await
            .expect("write");
        holder.write_all(&[b' '; 1000]).await.expect("write");
        holders.push(holder);
    }
    // Both holders are in: the budget is taken.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut third = TcpStream::connect(&addr).await.expect("connect");
    third
        .write_all(head(4_000_000, Some(&forged)).as_bytes())
        .await
        .expect("write");
    let answer = response_of(&mut third).await;
    assert!(
        answer.starts_with("HTTP/1.1 503") || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    // The held bodies never finish: cut off after the body deadline (408), freeing the
    // budget for the platform's retries.
    let started = Instant::now();
    for holder in &mut holders {
        let answer = response_of(holder).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    }
    assert!(started.elapsed() < WAIT);
    assert!(app.metric("souk_webhook_rejected_total").await >= 6.0);
    // Signed traffic still gets through afterwards.
    let body = br#"{"object":"whatsapp_business_account","entry":[]}"#;
    assert_eq!(crate::meta::signed(&app, "whatsapp", body).await, 200);
    app.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_and_slow_connections_are_closed_and_capped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = crate::support::test_settings(dir.path());
    settings.server.header_timeout_seconds = 1;
    settings.server.max_connections = 16;
    let app = spawn_app_with(settings, AppOptions::default()).await;
    let addr = address(&app);

    // A connection that never sends a request is closed after the header timeout.
    let mut silent = TcpStream::connect(&addr).await.expect("connect");
    let closed = response_of(&mut silent).await;
    assert!(
        closed.is_empty() || closed.starts_with("HTTP/1.1 408"),
        "{closed}"
    );
    // So is one that sends half its headers and stops.
    let mut slow = TcpStream::connect(&addr).await.expect("connect");
    slow.write_all(b"GET /healthz HTTP/1.1\r\nhost: souk\r\n")
        .await
        .expect("write");
    let closed = response_of(&mut slow).await;
    assert!(
        closed.is_empty() || closed.starts_with("HTTP/1.1 408"),
        "{closed}"
    );
    // A keep-alive connection left idle after its response is closed too.
    let mut idle = TcpStream::connect(&addr).await.expect("connect");
    idle.write_all(b"GET /healthz HTTP/1.1\r\nhost: souk\r\n\r\n")
        .await
        .expect("write");
    assert!(response_of(&mut idle).await.starts_with("HTTP/1.1 200"));
    let mut rest = [0_u8; 256];
    let after = tokio::time::timeout(WAIT, async {
        loop {
            match idle.read(&mut rest).await {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(after.is_ok(), "an idle keep-alive connection stayed open");

    app.stop().await;

    // More silent connections than the cap, and a header timeout far longer than this test
    // waits: /healthz is still answered, because the idlest connection makes room.
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = crate::support::test_settings(dir.path());
    settings.server.header_timeout_seconds = 600;
    settings.server.max_connections = 16;
    let app = spawn_app_with(settings, AppOptions::default()).await;
    let addr = address(&app);
    let mut crowd = Vec::new();
    for _ in 0..40 {
        crowd.push(TcpStream::connect(&addr).await.expect("connect"));
    }
    let health = tokio::time::timeout(WAIT, app.client.get(format!("{}/healthz", app.base)).send())
        .await
        .expect("healthz answered despite the silent crowd")
        .expect("healthz");
    assert_eq!(health.status(), 200);
    assert!(app.metric("souk_http_connections_evicted_total").await >= 1.0);
    drop(crowd);
    app.stop().await;
}
