//! Crash safety: replies still in the outbox when the process dies go out exactly once after
//! it comes back on the same store.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use flows::Channel;
use souk::AppOptions;

use crate::support::{FakeChannel, eventually, eventually_async, spawn_app};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pending_sends_survive_an_abrupt_stop_and_go_out_exactly_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let down = FakeChannel::failing();
    let app = spawn_app(
        dir.path(),
        AppOptions {
            senders: vec![(Channel::WebChat, down.clone())],
            ..AppOptions::default()
        },
    )
    .await;
    let session = app.session().await;
    for said in ["[start]", "[browse]", "[cat:home]", "cart", "help"] {
        app.say(&session, said).await;
    }
    let store = app.store().clone();
    // Every step committed (inbox empty), five replies queued, and the platform refused them.
    let queued = eventually_async(crate::support::PATIENCE, || async {
        store
            .pending_inbox()
            .await
            .map(|p| p.is_empty())
            .unwrap_or(false)
            && store.outbox_depth().await.unwrap_or(0) == 5
            && down.attempts.load(Ordering::SeqCst) >= 2
    })
    .await;
    assert!(
        queued,
        "replies did not queue up behind the failing channel"
    );
    assert!(down.delivered.lock().expect("lock").is_empty());
    drop(store);
    app.crash().await;

    let up = Arc::new(FakeChannel::default());
    let app = spawn_app(
        dir.path(),
        AppOptions {
            senders: vec![(Channel::WebChat, up.clone())],
            ..AppOptions::default()
        },
    )
    .await;
    let delivered = eventually(crate::support::PATIENCE, || {
        up.delivered.lock().map(|d| d.len() >= 5).unwrap_or(false)
    })
    .await;
    assert!(delivered, "pending replies were not sent after the restart");
    // Give a duplicate every chance to show up before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let keys = up.delivered_keys();
    assert_eq!(keys.len(), 5, "{keys:?}");
    assert!(
        keys.values().all(|count| *count == 1),
        "a reply went out twice: {keys:?}"
    );
    let texts: Vec<String> = up
        .delivered
        .lock()
        .expect("lock")
        .iter()
        .map(|(_, t)| t.clone())
        .collect();
    assert!(
        texts[0].contains("Welcome"),
        "replies out of order: {texts:?}"
    );
    assert_eq!(app.store().outbox_depth().await.expect("depth"), 0);
    app.stop().await;
}

#[tokio::test]
async fn a_permanent_failure_goes_to_the_dead_letters_and_does_not_block_the_rest() {
    struct Refusing;
    impl souk::send::ChannelSender for Refusing {
        fn send(
            &self,
            outgoing: souk::send::Outgoing,
        ) -> futures_util::future::BoxFuture<'_, souk::send::SendResult> {
            Box::pin(async move {
                if outgoing.rendered.text.contains("Welcome") {
                    Err(souk::send::SendError::Permanent(
                        "recipient blocked the bot".into(),
                    ))
                } else {
                    Ok(Vec::new())
                }
            })
        }
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(
        dir.path(),
        AppOptions {
            senders: vec![(Channel::WebChat, Arc::new(Refusing))],
            ..AppOptions::default()
        },
    )
    .await;
    let session = app.session().await;
    app.say(&session, "[start]").await;
    app.say(&session, "help").await;
    let store = app.store().clone();
    let settled = eventually_async(crate::support::PATIENCE, || async {
        store
            .dead_letters()
            .await
            .map(|d| d.len() == 1)
            .unwrap_or(false)
            && store.outbox_depth().await.unwrap_or(1) == 0
    })
    .await;
    assert!(settled);
    let dead = store.dead_letters().await.expect("dead letters");
    assert!(dead[0].reason.contains("recipient blocked the bot"));
    drop(store);
    app.stop().await;
}
