//! The poison guard: an event whose step keeps failing is set aside, counted and listed for
//! admins with a retry, and the rest of its shard and conversation go on.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use flows::{Channel, Event, Inbound, InboundMessage};
use souk::AppOptions;
use souk::store::{InboxEntry, Role};

use crate::console::{add_operator, login};
use crate::support::{spawn_app, spawn_app_with, test_settings, web_customer};

const WAIT: Duration = crate::support::PATIENCE;

fn said(entry: &InboxEntry) -> Option<&str> {
    match &entry.event {
        Event::Inbound(Inbound {
            message: InboundMessage::Text(text),
            ..
        }) => Some(text.as_str()),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_that_panics_is_set_aside_and_an_admin_can_retry_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let poisoned = Arc::new(AtomicBool::new(true));
    let tries = Arc::new(AtomicUsize::new(0));
    let hook = {
        let poisoned = poisoned.clone();
        let tries = tries.clone();
        Arc::new(move |entry: &InboxEntry| {
            if said(entry) == Some("boom") {
                tries.fetch_add(1, Ordering::SeqCst);
                if poisoned.load(Ordering::SeqCst) {
                    panic!("a bug this message triggers");
                }
            }
        })
    };
    let app = spawn_app(
        dir.path(),
        AppOptions {
            step_hook: Some(hook),
            ..AppOptions::default()
        },
    )
    .await;
    let session = app.session().await;
    let mut events = app.events(&session).await;
    app.say(&session, "boom").await;
    app.say(&session, "help").await;
    // The conversation goes on: the next message is answered.
    events
        .next_reply(WAIT)
        .await
        .expect("a reply after the panic");
    let store = app.store().clone();
    let set_aside = crate::support::eventually_async(WAIT, || async {
        store
            .set_aside_events()
            .await
            .map(|e| e.len() == 1)
            .unwrap_or(false)
    })
    .await;
    assert!(set_aside, "the panicking event was not set aside");
    let events_aside = store.set_aside_events().await.expect("set aside");
    assert_eq!(tries.load(Ordering::SeqCst), 3, "three tries, then aside");
    assert!(
        events_aside[0]
            .reason
            .contains("a bug this message triggers")
    );
    assert!(
        store.pending_inbox().await.expect("inbox").is_empty(),
        "nothing left to re-drive at the next start"
    );
    // Shared by the tests of this process (another one sets an event aside too).
    assert!(app.metric("souk_inbound_set_aside_total").await >= 1.0);

    // Admins see it with its reason and the customer's text; agents do not.
    add_operator(&store, "ana", Role::Admin).await;
    add_operator(&store, "bob", Role::Agent).await;
    let admin = login(&app, "ana").await;
    let listed = admin.get("/console/api/set-aside").await;
    let row = &listed["events"][0];
    assert_eq!(row["text"], "boom");
    assert_eq!(row["channel"], "webchat");
    assert_eq!(row["attempts"], 3);
    assert!(
        row["reason"]
            .as_str()
            .unwrap_or_default()
            .contains("panicked")
    );
    let agent = login(&app, "bob").await;
    let seq = row["seq"].as_u64().expect("seq");
    let (status, _) = agent
        .post(
            &format!("/console/api/set-aside/{seq}/retry"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 403);

    // Fixed (here: the hook stops panicking), a retry applies it to its conversation.
    poisoned.store(false, Ordering::SeqCst);
    let (status, _) = admin
        .post(
            &format!("/console/api/set-aside/{seq}/retry"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 202);
    let customer = web_customer(&app, &session).await;
    let applied = crate::support::eventually_async(WAIT, || async {
        store
            .history(&customer, 50).await
            .map(|history| {
                history.iter().any(|entry| match entry {
                    souk::store::HistoryEntry::In { event, .. } => {
                        matches!(event, Event::Inbound(Inbound { message: InboundMessage::Text(t), .. }) if t == "boom")
                    }
                    _ => false,
                })
            })
            .unwrap_or(false)
    })
    .await;
    assert!(applied, "the retried event was not applied");
    assert!(store.set_aside_events().await.expect("list").is_empty());
    let (status, _) = admin
        .post(
            &format!("/console/api/set-aside/{seq}/retry"),
            serde_json::json!({}),
        )
        .await;
    assert_eq!(status, 404, "a retried event is no longer aside");
    app.stop().await;
}

/// An event whose step took the process down three times (out of memory: each start re-drove
/// it and died again) is set aside at the next start instead of being stepped a fourth time.
/// The attempts are counted on disk before each re-driven step, as `note_step_attempt` does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_that_keeps_taking_souk_down_is_set_aside_at_start() {
    set_aside_at_start(false).await;
}

/// The same for an event in sled's inbox log (platform events with a dedup key): it is set
/// aside with its dedup mark, and the log does not bring it back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_logged_event_that_keeps_taking_souk_down_is_set_aside_at_start() {
    set_aside_at_start(true).await;
}

async fn set_aside_at_start(logged: bool) {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(dir.path(), AppOptions::default()).await;
    let session = app.session().await;
    app.say(&session, "hello").await;
    let store = app.store().clone();
    let customer = web_customer(&app, &session).await;
    let committed = crate::support::eventually_async(WAIT, || async {
        store
            .pending_inbox()
            .await
            .map(|p| p.is_empty())
            .unwrap_or(false)
    })
    .await;
    assert!(committed);
    // The killer message, accepted (durable) but not yet stepped when the process died.
    let killer = InboxEntry {
        claim: None,
        seq: 0,
        public_id: "killer".into(),
        dedup_key: Some("killer".into()),
        customer: customer.clone(),
        event: Event::Inbound(Inbound::new(
            Channel::WebChat,
            InboundMessage::Text("killer".into()),
        )),
        received_at: souk::clock::now(),
    };
    let ingested = if logged {
        assert!(store.appends_apart());
        store
            .append_inbox(vec![killer])
            .await
            .expect("append")
            .pop()
    } else {
        Some(store.ingest(killer).await.expect("ingest"))
    };
    let seq = match ingested {
        Some(souk::store::Ingested::New(entry)) => entry.seq,
        other => panic!("not new: {other:?}"),
    };
    drop(store);
    app.crash().await;

    // Three starts that each died in its step (the count a real crash loop leaves).
    let stepped = Arc::new(AtomicUsize::new(0));
    for start in 1..=4 {
        let stepped_here = stepped.clone();
        let hook = Arc::new(move |entry: &InboxEntry| {
            if said(entry) == Some("killer") {
                stepped_here.fetch_add(1, Ordering::SeqCst);
            }
        });
        if start <= 3 {
            // Open the store as a start would and count the attempt, then "die".
            let store = crate::support::open_store(dir.path()).await;
            assert_eq!(store.note_step_attempt(seq).await.expect("count"), start);
            drop(store);
            continue;
        }
        let app = spawn_app(
            dir.path(),
            AppOptions {
                step_hook: Some(hook),
                ..AppOptions::default()
            },
        )
        .await;
        let store = app.store().clone();
        let aside = crate::support::eventually_async(WAIT, || async {
            store
                .set_aside_events()
                .await
                .map(|e| e.len() == 1)
                .unwrap_or(false)
        })
        .await;
        assert!(aside, "the crash-looping event was not set aside");
        let events = store.set_aside_events().await.expect("list");
        assert_eq!(events[0].entry.seq, seq);
        assert!(
            events[0].reason.contains("stopped 3 times"),
            "{}",
            events[0].reason
        );
        assert_eq!(stepped.load(Ordering::SeqCst), 0, "never stepped again");
        assert!(
            store.pending_inbox().await.expect("inbox").is_empty(),
            "nothing to re-drive at the next start"
        );
        // The customer's conversation still works.
        let mut stream = app.events(&session).await;
        app.say(&session, "help").await;
        assert!(stream.next_reply(WAIT).await.is_some());
        app.stop().await;
    }
}

/// A step that hangs: the watchdog counts the attempt on disk past the budget, and past
/// three budgets stops souk (with an error) so that a supervisor restarts it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_step_that_hangs_is_counted_and_stops_souk() {
    let dir = tempfile::tempdir().expect("temp dir");
    let release = Arc::new(AtomicBool::new(false));
    let hook = {
        let release = release.clone();
        Arc::new(move |entry: &InboxEntry| {
            if said(entry) == Some("hang") {
                // Blocks this worker's thread as a runaway step would (bounded, so the test
                // process can end).
                let until = std::time::Instant::now() + Duration::from_secs(30);
                while !release.load(Ordering::SeqCst) && std::time::Instant::now() < until {
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        })
    };
    let mut settings = test_settings(dir.path());
    settings.workers.step_budget_seconds = 1;
    let mut app = spawn_app_with(
        settings,
        AppOptions {
            step_hook: Some(hook),
            ..AppOptions::default()
        },
    )
    .await;
    let session = app.session().await;
    app.say(&session, "hang").await;
    let result = tokio::time::timeout(WAIT, app.finished())
        .await
        .expect("souk stopped itself");
    release.store(true, Ordering::SeqCst);
    let error = result.expect_err("a wedged worker stops souk with an error");
    assert!(error.to_string().contains("wedged"), "{error}");
    let store = app.store().clone();
    let pending = store.pending_inbox().await.expect("inbox");
    let hung = pending
        .iter()
        .find(|entry| said(entry) == Some("hang"))
        .expect("the hung event stays in the inbox for the next start");
    assert_eq!(store.step_attempts(hung.seq).await.expect("attempts"), 1);
}
