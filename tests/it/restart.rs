//! Cart and conversation state survive a restart; the session token keeps working.

use std::time::Duration;

use souk::AppOptions;

use crate::support::spawn_app;

const WAIT: Duration = crate::support::PATIENCE;

#[tokio::test]
async fn cart_and_conversation_survive_a_restart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = spawn_app(dir.path(), AppOptions::default()).await;
    let session = app.session().await;
    let mut events = app.events(&session).await;
    for said in [
        "[start]",
        "[add:ceramic-mug]",
        "[var:CM-BLUE]",
        "3",
        "[lang:ro]",
        "[checkout]",
        "Maria Pop",
    ] {
        app.say(&session, said).await;
        events.next_reply(WAIT).await.expect("reply");
    }
    drop(events);
    app.stop().await;
    // A graceful stop waits for the sends' records: nothing is sent again at the next start.
    let pending: Vec<u64> = crate::support::open_store(dir.path())
        .await
        .outbox(100)
        .await
        .expect("outbox")
        .iter()
        .map(|entry| entry.id)
        .collect();
    assert!(pending.is_empty(), "sent replies still queued: {pending:?}");

    let app = spawn_app(dir.path(), AppOptions::default()).await;
    let mut events = app.events(&session).await;
    // Still in checkout, waiting for the contact, in Romanian.
    app.say(&session, "0721 234 567").await;
    let address = events.next_reply(WAIT).await.expect("address question");
    assert_eq!(address["lang"], "ro");
    app.say(&session, "Str. Lipscani 12, București 030031")
        .await;
    let confirm = events.next_reply(WAIT).await.expect("confirmation");
    assert_eq!(confirm["lang"], "ro");
    assert!(
        confirm["text"]
            .as_str()
            .expect("text")
            .contains("Maria Pop"),
        "{confirm}"
    );
    assert_eq!(confirm["cart"]["lines"][0]["sku"], "CM-BLUE");
    assert_eq!(confirm["cart"]["lines"][0]["quantity"], 3);
    let history = app.history(&session).await;
    assert!(
        history.len() >= 15,
        "history kept across the restart: {}",
        history.len()
    );
    app.stop().await;
}

/// The session's history once `ready` holds (or after `WAIT`), with its texts for messages.
async fn history_once(
    app: &crate::support::TestApp,
    session: &str,
    ready: impl Fn(&[serde_json::Value]) -> bool,
) -> (Vec<serde_json::Value>, Vec<String>) {
    let deadline = tokio::time::Instant::now() + WAIT;
    let mut history = app.history(session).await;
    while !ready(&history) && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
        history = app.history(session).await;
    }
    let texts = history
        .iter()
        .filter_map(|m| m["text"].as_str().map(str::to_owned))
        .collect();
    (history, texts)
}

/// Puts the customer's cart reminders `days` days in the past, as if souk had been down
/// since: consent given, the sequence counting from then, its first timer long due.
async fn reminders_overdue_since(dir: &std::path::Path, customer: &flows::CustomerId, days: i64) {
    use souk::store::{StepCommit, TimerChange, TimerEntry};
    let store = crate::support::open_store(dir).await;
    let mut conversation = store
        .conversation(customer)
        .await
        .expect("read")
        .expect("conversation");
    let then = flows::Timestamp(souk::clock::now().millis() - days * 24 * 3_600_000);
    conversation.recovery.since = Some(then);
    conversation.recovery.next_step = 0;
    conversation.recovery.timer_due = Some(then.plus(flows::Span::minutes(30)));
    conversation.recovery.consent = Some(flows::recovery::Consent {
        granted: true,
        at: then,
    });
    let step = StepCommit {
        inbox_seq: u64::MAX,
        conversation,
        history: Vec::new(),
        outbox: vec![],
        timers: vec![TimerChange::Set(TimerEntry {
            customer: customer.clone(),
            kind: flows::TimerKind::CartRecovery,
            due: then.plus(flows::Span::minutes(30)),
        })],
        orders: vec![],
        order_updates: vec![],
        payment_jobs: vec![],
        now: then,
    };
    store.commit(step).await.expect("commit");
    store.flush().await.expect("flush");
}

#[tokio::test]
async fn after_a_long_downtime_only_the_latest_due_reminder_is_sent_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = crate::support::test_settings(dir.path());
    settings.recovery.enabled = true;
    // Whatever the hour the test runs at.
    settings.recovery.quiet_hours = String::new();
    let app = crate::support::spawn_app_with(settings.clone(), AppOptions::default()).await;
    let session = app.session().await;
    let mut events = app.events(&session).await;
    for said in ["[add:ceramic-mug]", "[var:CM-BLUE]", "2"] {
        app.say(&session, said).await;
        events.next_reply(WAIT).await.expect("reply");
    }
    let customer = crate::support::web_customer(&app, &session).await;
    drop(events);
    app.stop().await;
    // Down for four days: the 30-minute, 1-day and 3-day reminders all fell due meanwhile.
    reminders_overdue_since(&dir.path().join(""), &customer, 4).await;
    let app = crate::support::spawn_app_with(settings.clone(), AppOptions::default()).await;
    let reminders = |history: &[serde_json::Value]| {
        history
            .iter()
            .filter(|m| {
                m["text"].as_str().is_some_and(|t| t.contains("cart")) && m["from"] != "customer"
            })
            .filter(|m| {
                m["text"].as_str().is_some_and(|t| {
                    t.contains("Last reminder") || t.contains("still waiting") || t.contains("left")
                })
            })
            .count()
    };
    let (history, texts) = history_once(&app, &session, |h| reminders(h) > 0).await;
    assert_eq!(
        reminders(&history),
        1,
        "one reminder, not a burst: {texts:#?}"
    );
    assert!(
        texts.iter().any(|t| t.contains("Last reminder")),
        "the latest due step: {texts:#?}"
    );
    app.stop().await;
    // Restarted again: the reminder is not sent a second time.
    let app = crate::support::spawn_app_with(settings, AppOptions::default()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(reminders(&app.history(&session).await), 1, "sent once");
    app.stop().await;
}

/// Gives the customer a booking that starts in `starts_in_minutes`, as if made days ago
/// (no reminder sent yet) with its reminder timer due at `timer_due` (it fell due while souk
/// was down, or falls due just after the restart).
async fn booking_reminder_pending(
    dir: &std::path::Path,
    customer: &flows::CustomerId,
    starts_in_minutes: i64,
    timer_due: flows::Timestamp,
) {
    use flows::booking::{Booking, BookingId, BookingStatus, ServiceId, StaffId};
    use souk::store::{StepCommit, TimerChange, TimerEntry};
    let store = crate::support::open_store(dir).await;
    let mut conversation = store
        .conversation(customer)
        .await
        .expect("read")
        .expect("conversation");
    let now = souk::clock::now();
    let start = now.plus(flows::Span::minutes(starts_in_minutes));
    conversation.appointments.list.push(Booking {
        id: BookingId("restart-B1".into()),
        customer: customer.clone(),
        service: ServiceId("fitting".into()),
        staff: StaffId("ana".into()),
        start,
        end: start.plus(flows::Span::minutes(30)),
        status: BookingStatus::Booked,
        name: "Maria".into(),
        contact: "+40721234567".into(),
        reminders_done: 0,
        confirmed: false,
        calendar_url: None,
        deposit: None,
    });
    conversation.appointments.reminder_due = Some(timer_due);
    let step = StepCommit {
        inbox_seq: u64::MAX,
        conversation,
        history: Vec::new(),
        outbox: vec![],
        timers: vec![TimerChange::Set(TimerEntry {
            customer: customer.clone(),
            kind: flows::TimerKind::BookingReminder,
            due: timer_due,
        })],
        orders: vec![],
        order_updates: vec![],
        payment_jobs: vec![],
        now,
    };
    store.commit(step).await.expect("commit");
    store.flush().await.expect("flush");
}

#[tokio::test]
async fn a_booking_reminder_due_around_a_restart_is_sent_once_and_only_the_latest() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut settings = crate::support::test_settings(dir.path());
    settings.booking.file = crate::support::repo_path("config/demo/booking.toml");
    let app = crate::support::spawn_app_with(settings.clone(), AppOptions::default()).await;
    let session = app.session().await;
    let mut events = app.events(&session).await;
    app.say(&session, "hello").await;
    events.next_reply(WAIT).await.expect("reply");
    let customer = crate::support::web_customer(&app, &session).await;
    drop(events);
    app.stop().await;
    // While souk was down, the appointment came within 2 hours: both the 24-hour and the
    // 2-hour reminder are due. The timer falls due a second after the restart.
    let due = souk::clock::now().plus(flows::Span::seconds(1));
    booking_reminder_pending(&dir.path().join(""), &customer, 100, due).await;
    let app = crate::support::spawn_app_with(settings.clone(), AppOptions::default()).await;
    let reminders = |history: &[serde_json::Value]| {
        history
            .iter()
            .filter(|m| {
                m["text"]
                    .as_str()
                    .is_some_and(|t| t.starts_with("Reminder:"))
            })
            .count()
    };
    let (history, texts) = history_once(&app, &session, |h| reminders(h) > 0).await;
    assert_eq!(reminders(&history), 1, "one reminder, not two: {texts:#?}");
    let conversation = app
        .store()
        .conversation(&customer)
        .await
        .expect("read")
        .expect("conversation");
    assert_eq!(
        conversation.appointments.list[0].reminders_done, 2,
        "the 2-hour one"
    );
    app.stop().await;
    // Restarted again: nothing more is due, nothing is sent again.
    let app = crate::support::spawn_app_with(settings, AppOptions::default()).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(reminders(&app.history(&session).await), 1, "sent once");
    app.stop().await;
}
