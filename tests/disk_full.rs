//! A full disk: souk refuses new work with 503 (nothing acknowledged is lost), says it is not
//! ready, and once space is freed takes writes again by itself, without a restart. The store
//! sits on a small tmpfs of its own, so the disk really fills (needs root to mount; `.ci/run`
//! runs as root and sets SOUK_REQUIRE_DISK_FULL_TEST=1 so that a skip there is a failure).
//! A test binary of its own: the commits it makes fail count in process-wide metrics that
//! other tests expect to stay at zero.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(dead_code)]
#[path = "it/support.rs"]
mod support;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use souk::AppOptions;

use support::{eventually_async, spawn_app_with, test_settings, web_customer};

const WAIT: Duration = support::PATIENCE;

/// A tmpfs of `megabytes` mounted at a fresh folder, unmounted on drop.
struct SmallDisk {
    mount: PathBuf,
    _dir: tempfile::TempDir,
}

impl SmallDisk {
    fn mount(megabytes: u32) -> Option<SmallDisk> {
        let dir = tempfile::tempdir().expect("temp dir");
        let mount = dir.path().join("disk");
        std::fs::create_dir(&mount).expect("mount point");
        let status = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(&mount)
            .status()
            .ok()?;
        status.success().then_some(SmallDisk { mount, _dir: dir })
    }

    /// Writes a file until the disk is full.
    fn fill(&self) -> PathBuf {
        let path = self.mount.join("filler");
        let mut file = std::fs::File::create(&path).expect("filler");
        let chunk = vec![0_u8; 64 * 1024];
        while file.write_all(&chunk).is_ok() {}
        let _ = file.sync_all();
        path
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.mount).status();
    }
}

async fn ready(app: &support::TestApp) -> u16 {
    app.client
        .get(format!("{}/readyz", app.base))
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

/// Polls `/readyz` until it answers `status` (true) or the patience runs out.
async fn readyz_becomes(app: &support::TestApp, status: u16) -> bool {
    let deadline = tokio::time::Instant::now() + support::PATIENCE;
    while tokio::time::Instant::now() < deadline {
        if ready(app).await == status {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

async fn post_text(app: &support::TestApp, session: &str, text: &str) -> u16 {
    let body = serde_json::json!({"session": session, "text": text});
    app.post_raw(body.to_string()).await.status().as_u16()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_is_refused_reported_and_recovered_from_without_a_restart() {
    let Some(disk) = SmallDisk::mount(24) else {
        assert!(
            std::env::var_os("SOUK_REQUIRE_DISK_FULL_TEST").is_none(),
            "cannot mount a tmpfs for the disk-full test (needs root)"
        );
        eprintln!("skipped: cannot mount a tmpfs (needs root)");
        return;
    };
    let store_dir: &Path = &disk.mount.join("store");
    let app = spawn_app_with(test_settings(store_dir), AppOptions::default()).await;
    let session = app.session().await;
    let mut accepted: Vec<String> = Vec::new();
    assert_eq!(post_text(&app, &session, "hi").await, 202);
    accepted.push("hi".into());
    assert_eq!(ready(&app).await, 200);

    let filler = disk.fill();
    // Writes now fail: each message is either refused (503) or, if acknowledged, kept.
    let mut refused = false;
    for n in 0..200 {
        let text = format!("message {n} on a full disk {}", "x".repeat(2_000));
        match post_text(&app, &session, &text).await {
            202 => accepted.push(text),
            503 => {
                refused = true;
                break;
            }
            other => panic!("unexpected status {other}"),
        }
    }
    assert!(refused, "a full disk never refused a message");
    assert!(
        readyz_becomes(&app, 503).await,
        "/readyz kept saying ready while writes were refused"
    );
    assert_eq!(post_text(&app, &session, "still full?").await, 503);

    // Space comes back: souk takes writes again by itself.
    std::fs::remove_file(&filler).expect("free space");
    assert!(
        readyz_becomes(&app, 200).await,
        "souk did not recover after space was freed"
    );
    let mut stream = app.events(&session).await;
    assert_eq!(post_text(&app, &session, "help").await, 202);
    accepted.push("help".into());
    assert!(
        stream.next_reply(WAIT).await.is_some(),
        "no reply after recovery"
    );
    // Every acknowledged message is in the conversation's history.
    let store = app.store().clone();
    let customer = web_customer(&app, &session).await;
    let all_in = eventually_async(WAIT, || async {
        let Ok(history) = store.history(&customer, 1_000).await else {
            return false;
        };
        let said: Vec<String> = history
            .iter()
            .filter_map(|entry| match entry {
                souk::store::HistoryEntry::In {
                    event:
                        flows::Event::Inbound(flows::Inbound {
                            message: flows::InboundMessage::Text(text),
                            ..
                        }),
                    ..
                } => Some(text.clone()),
                _ => None,
            })
            .collect();
        accepted.iter().all(|text| said.contains(text))
    })
    .await;
    assert!(all_in, "an acknowledged message was lost");
    app.stop().await;
}
