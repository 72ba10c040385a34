//! The real binary killed with SIGKILL right after acknowledging messages: on restart every
//! acknowledged message is applied and answered. (No flush on the way down, no drop code.)

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::repo_path;

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

fn start(store: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_souk"))
        .args(["serve", "--config"])
        .arg(repo_path("config/souk.toml"))
        .env("SOUK__SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("SOUK__STORE__PATH", store)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("souk starts")
}

/// The web chat's history of `session`, as the page reads it.
pub async fn chat_history(client: &reqwest::Client, base: &str, session: &str) -> Vec<Value> {
    let history: Value = client
        .get(format!("{base}/chat/api/history?session={session}"))
        .send()
        .await
        .expect("history")
        .json()
        .await
        .expect("json");
    history["messages"].as_array().cloned().unwrap_or_default()
}

/// A new web chat session in `locale`: its token.
pub async fn chat_session(client: &reqwest::Client, base: &str, locale: &str) -> String {
    let session: Value = client
        .post(format!("{base}/chat/api/sessions"))
        .body(json!({ "locale": locale }).to_string())
        .send()
        .await
        .expect("session")
        .json()
        .await
        .expect("json");
    session["session"].as_str().expect("token").to_owned()
}

pub async fn wait_ready(client: &reqwest::Client, base: &str) {
    for _ in 0..200 {
        if client
            .get(format!("{base}/readyz"))
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("souk did not become ready");
}

#[tokio::test]
async fn acknowledged_messages_survive_sigkill() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("data");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut souk = start(&store, port);
    wait_ready(&client, &base).await;

    let session = chat_session(&client, &base, "en").await;
    let mut acknowledged = Vec::new();
    for (n, action) in [
        "language",
        "browse",
        "cat:home",
        "cart",
        "help",
        "menu",
        "browse",
        "cat:shoes",
    ]
    .into_iter()
    .enumerate()
    {
        // Messages with a client id carry a dedup key and go to sled's inbox log; those
        // without go into the inbox tree with a group commit: both kinds, interleaved.
        let mut body = json!({"session": session, "action": action});
        if n % 2 == 1 {
            body["client_id"] = json!(format!("kill-test-{n}"));
        }
        let response = client
            .post(format!("{base}/chat/api/messages"))
            .body(body.to_string())
            .send()
            .await
            .expect("message");
        assert_eq!(response.status(), 202);
        let body: Value = response.json().await.expect("json");
        acknowledged.push(body["id"].as_str().expect("id").to_owned());
    }
    // Killed the moment the last 202 arrived: whatever was not yet stepped or flushed is
    // only in the fsynced inbox.
    souk.kill().expect("SIGKILL");
    souk.wait().expect("reaped");

    let mut souk = start(&store, port);
    wait_ready(&client, &base).await;
    let mut answered = Vec::new();
    for _ in 0..100 {
        let messages = chat_history(&client, &base, &session).await;
        answered = messages
            .iter()
            .filter(|m| m["from"] == "customer")
            .map(|m| m["id"].as_str().unwrap_or_default().to_owned())
            .collect();
        if answered.len() >= acknowledged.len() && messages.len() >= 2 * acknowledged.len() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = souk.kill();
    let _ = souk.wait();
    assert_eq!(
        answered, acknowledged,
        "acknowledged messages lost or reordered by SIGKILL"
    );
}

/// SIGTERM: souk stops in order and, once every handle on the store is gone, opens and
/// closes it once more so that the next start opens from a fresh sled snapshot.
#[tokio::test]
async fn a_graceful_stop_settles_the_store_for_a_quick_next_start() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = dir.path().join("data");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    let mut souk = Command::new(env!("CARGO_BIN_EXE_souk"))
        .args(["serve", "--config"])
        .arg(repo_path("config/souk.toml"))
        .env("SOUK__SERVER__LISTEN", format!("127.0.0.1:{port}"))
        .env("SOUK__STORE__PATH", &store)
        .env("RUST_LOG", "info")
        // tracing's formatter writes to standard output.
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("souk starts");
    wait_ready(&client, &base).await;
    let response = client
        .post(format!("{base}/chat/api/sessions"))
        .body("{}")
        .send()
        .await
        .expect("session");
    assert_eq!(response.status(), 200);
    let terminated = Command::new("kill")
        .args(["-TERM", &souk.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(terminated.success());
    let output = tokio::task::spawn_blocking(move || {
        let _ = souk.wait();
        let mut log = String::new();
        if let Some(mut stdout) = souk.stdout.take() {
            use std::io::Read as _;
            let _ = stdout.read_to_string(&mut log);
        }
        log
    })
    .await
    .expect("reaped");
    assert!(output.contains("stopped cleanly"), "{output}");
    assert!(output.contains("store settled"), "{output}");
    // And it starts again on that store.
    let mut again = start(&store, port);
    wait_ready(&client, &base).await;
    let _ = again.kill();
    let _ = again.wait();
}
