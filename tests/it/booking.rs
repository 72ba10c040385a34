//! Appointment booking against the real store and app: the store gives a time to exactly
//! one of many concurrent askers, 100 web chat customers pressing the same time at once get
//! one hold and 99 offers of other times, and the booking's calendar link serves a valid
//! `.ics` file.

use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

use flows::booking::{BookingId, BookingOutcome, BookingRequest, Busy, StaffId};
use flows::{CustomerId, Span, Timestamp};
use souk::AppOptions;

use crate::support::{TestApp, repo_path, spawn_app_with, test_settings};

fn hold(customer: usize, from: Timestamp, now: Timestamp) -> BookingRequest {
    BookingRequest::Hold {
        busy: Busy {
            booking: BookingId(format!("c{customer}-B1")),
            customer: CustomerId(format!("c{customer}")),
            from,
            to: from.plus(Span::minutes(40)),
            hold_until: Some(now.plus(Span::minutes(10))),
        },
        staff: StaffId("ana".into()),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_store_gives_one_time_to_one_of_a_hundred_threads() {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = crate::support::open_store(dir.path()).await;
    let staff = [StaffId("ana".into()), StaffId("ion".into())];
    let now = Timestamp(1_800_000_000_000);
    let from = now.plus(Span::hours(24));
    let barrier = Arc::new(tokio::sync::Barrier::new(100));
    let tasks: Vec<_> = (0..100)
        .map(|customer| {
            let store = store.clone();
            let barrier = barrier.clone();
            let staff = staff.clone();
            // Each asks for an overlapping time: the same start, or 20 minutes later.
            let start = from.plus(Span::minutes(20 * (customer as i64 % 2)));
            // Each request's transaction runs on the blocking pool: truly concurrent.
            tokio::spawn(async move {
                barrier.wait().await;
                store
                    .booking_request(&hold(customer, start, now), &staff, now, None)
                    .await
                    .expect("the store answers")
            })
        })
        .collect();
    let mut outcomes = Vec::new();
    for task in tasks {
        outcomes.push(task.await.expect("task"));
    }
    let held = outcomes
        .iter()
        .filter(|o| matches!(o, Some(BookingOutcome::Held { .. })))
        .count();
    let taken = outcomes
        .iter()
        .filter(|o| matches!(o, Some(BookingOutcome::Taken { .. })))
        .count();
    assert_eq!((held, taken), (1, 99), "{outcomes:?}");
    let calendar = store.calendar().await.expect("calendar");
    assert_eq!(calendar.entries().count(), 1);

    // The hold lapses: somebody else may now book the time, and the store keeps the booking.
    let later = now.plus(Span::minutes(11));
    let winner = hold(500, from, later);
    let BookingRequest::Hold { busy, .. } = winner else {
        unreachable!()
    };
    let booking = flows::booking::Booking {
        id: busy.booking.clone(),
        customer: busy.customer.clone(),
        service: flows::booking::ServiceId("cut".into()),
        staff: StaffId("ana".into()),
        start: from,
        end: from.plus(Span::minutes(30)),
        status: flows::booking::BookingStatus::Booked,
        name: "Ana".into(),
        contact: "+40721234567".into(),
        reminders_done: 0,
        confirmed: false,
        calendar_url: None,
        deposit: None,
    };
    let book = BookingRequest::Book {
        booking: Box::new(booking.clone()),
        busy: Busy {
            hold_until: None,
            ..busy
        },
        replaces: None,
    };
    let link = (
        "https://shop.test/bookings/0123456789abcdef0123456789abcdef.ics",
        "0123456789abcdef0123456789abcdef",
    );
    let answer = store
        .booking_request(&book, &staff, later, Some(link))
        .await
        .expect("booked");
    assert!(
        matches!(answer, Some(BookingOutcome::Booked { .. })),
        "{answer:?}"
    );
    // Asked again (a retry), the same answer; the time is not taken twice.
    let again = store
        .booking_request(&book, &staff, later, Some(link))
        .await
        .expect("again");
    assert_eq!(answer, again);
    assert_eq!(
        store.calendar().await.expect("calendar").entries().count(),
        1
    );
    let stored = store
        .booking_by_token("0123456789abcdef0123456789abcdef")
        .await
        .expect("read")
        .expect("found by token");
    assert_eq!(stored.id, booking.id);
    // Cancelled: the time is free again, the record says so.
    store
        .booking_request(
            &BookingRequest::Cancel {
                booking: booking.id.clone(),
            },
            &staff,
            later,
            None,
        )
        .await
        .expect("cancel");
    assert_eq!(
        store.calendar().await.expect("calendar").entries().count(),
        0
    );
    assert_eq!(
        store
            .booking(&booking.id)
            .await
            .expect("read")
            .expect("kept")
            .status,
        flows::booking::BookingStatus::Cancelled
    );
}

async fn booking_app(dir: &std::path::Path) -> TestApp {
    let mut settings = test_settings(dir);
    settings.booking.file = repo_path("config/demo/booking.toml");
    spawn_app_with(settings, AppOptions::default()).await
}

pub fn choice_ids(reply: &Value) -> Vec<String> {
    reply["choices"]
        .as_array()
        .map(|choices| {
            choices
                .iter()
                .filter_map(|c| c["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Says `said` and waits for the reply offering a choice that starts with `prefix`.
pub async fn offered(
    app: &TestApp,
    session: &str,
    events: &mut crate::support::EventStream,
    said: &str,
    prefix: &str,
) -> Vec<String> {
    app.say(session, said).await;
    let replies = events
        .collect_until(Duration::from_secs(20), |seen| {
            seen.iter()
                .any(|r| choice_ids(r).iter().any(|id| id.starts_with(prefix)))
        })
        .await;
    let last = replies.last().cloned().unwrap_or_default();
    let ids: Vec<String> = choice_ids(&last)
        .into_iter()
        .filter(|id| id.starts_with(prefix))
        .collect();
    assert!(!ids.is_empty(), "{said:?} offered no {prefix}: {replies:?}");
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_hundred_customers_press_the_same_time_and_one_gets_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = Arc::new(booking_app(dir.path()).await);
    let mut sessions = Vec::new();
    for _ in 0..100 {
        let session = app.session().await;
        let events = app.events(&session).await;
        sessions.push((session, events));
    }
    // Everybody walks to the same day's times; the first free time is the one they want.
    let mut wanted = None;
    let mut ready = Vec::new();
    for (session, mut events) in sessions {
        offered(&app, &session, &mut events, "[book]", "svc:").await;
        let days = offered(&app, &session, &mut events, "[svc:fitting]", "day:").await;
        let slots = offered(
            &app,
            &session,
            &mut events,
            &format!("[{}]", days[0]),
            "slot:",
        )
        .await;
        let slot = wanted.get_or_insert_with(|| slots[0].clone()).clone();
        ready.push((session, events, slot));
    }
    let slot = wanted.expect("a time");
    let barrier = Arc::new(tokio::sync::Barrier::new(ready.len()));
    let mut tasks = tokio::task::JoinSet::new();
    for (session, mut events, _) in ready {
        let app = app.clone();
        let barrier = barrier.clone();
        let slot = slot.clone();
        tasks.spawn(async move {
            barrier.wait().await;
            app.say(&session, &format!("[{slot}]")).await;
            // The answer settles: a question for the name (held), or, at once or after the
            // store's answer, "taken" with other times (or other days).
            let replies = events
                .collect_until(Duration::from_secs(20), |seen| {
                    seen.iter().any(|r| {
                        choice_ids(r)
                            .iter()
                            .any(|id| id.starts_with("slot:") || id.starts_with("day:"))
                    })
                })
                .await;
            (session, events, replies)
        });
    }
    let mut holders = Vec::new();
    let mut offered_others = 0;
    while let Some(done) = tasks.join_next().await {
        let (session, events, replies) = done.expect("task");
        let last = replies.last().cloned().unwrap_or_default();
        let ids = choice_ids(&last);
        // Other times that day, or (the day's last time gone) other days.
        if ids
            .iter()
            .any(|id| id.starts_with("slot:") || id.starts_with("day:"))
        {
            assert!(
                !ids.contains(&slot),
                "offered the taken time again: {ids:?}"
            );
            offered_others += 1;
        } else {
            assert_eq!(ids, ["cancel"], "asked for a name: {replies:?}");
            holders.push((session, events));
        }
    }
    assert_eq!((holders.len(), offered_others), (1, 99));
    let calendar = app.store().calendar().await.expect("calendar");
    assert_eq!(calendar.entries().count(), 1, "{calendar:?}");

    // The one who holds it books it and gets a calendar link that serves the appointment.
    let (session, mut events) = holders.pop().expect("a holder");
    app.say(&session, "Maria Popescu").await;
    app.say(&session, "+40721234567").await;
    app.say(&session, "[bconfirm]").await;
    let replies = events
        .collect_until(Duration::from_secs(20), |seen| {
            seen.iter().any(|r| r["link"]["url"].is_string())
        })
        .await;
    let url = replies
        .iter()
        .find_map(|m| m["link"]["url"].as_str().map(str::to_owned))
        .expect("a calendar link");
    // An absolute link (the public URL, else where souk listens), so it works from a phone.
    let path = url
        .find("/bookings/")
        .filter(|_| url.starts_with("http") && url.ends_with(".ics"))
        .map(|at| &url[at..])
        .unwrap_or_else(|| panic!("not a calendar link: {url}"));
    let response = reqwest::get(format!("{}{path}", app.base))
        .await
        .expect("ics");
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/calendar; charset=utf-8"
    );
    let ics = response.text().await.expect("body");
    assert!(ics.starts_with("BEGIN:VCALENDAR\r\n"), "{ics}");
    assert!(ics.contains("STATUS:CONFIRMED"), "{ics}");
    assert!(ics.contains("Tailor's fitting"), "{ics}");
    // Guessing gets nothing.
    for wrong in [
        "/bookings/00000000000000000000000000000000.ics",
        "/bookings/nothex.ics",
        "/bookings/abc",
    ] {
        let response = reqwest::get(format!("{}{wrong}", app.base))
            .await
            .expect("ics");
        assert_eq!(response.status(), 404, "{wrong}");
    }
}

#[tokio::test]
async fn an_operator_marks_a_no_show_once_the_time_has_come() {
    use souk::store::Role;
    let dir = tempfile::tempdir().expect("temp dir");
    let app = booking_app(dir.path()).await;
    crate::console::add_operator(app.store(), "ana", Role::Agent).await;
    let console = crate::console::login(&app, "ana").await;
    let session = app.session().await;
    let mut events = app.events(&session).await;
    app.say(&session, "hello").await;
    events
        .next_reply(crate::support::PATIENCE)
        .await
        .expect("greeting");
    let customer = crate::support::web_customer(&app, &session).await;
    // One appointment an hour ago, one tomorrow.
    let now = souk::clock::now();
    let mut conversation = app
        .store()
        .conversation(&customer)
        .await
        .expect("read")
        .expect("conversation");
    for (id, start) in [
        ("past-B1", Timestamp(now.millis() - 3_600_000)),
        ("future-B2", now.plus(Span::hours(24))),
    ] {
        conversation
            .appointments
            .list
            .push(flows::booking::Booking {
                id: BookingId(id.into()),
                customer: customer.clone(),
                service: flows::booking::ServiceId("fitting".into()),
                staff: StaffId("ana".into()),
                start,
                end: start.plus(Span::minutes(30)),
                status: flows::booking::BookingStatus::Booked,
                name: "Maria".into(),
                contact: "+40721234567".into(),
                reminders_done: 2,
                confirmed: false,
                calendar_url: None,
                deposit: None,
            });
    }
    app.store()
        .commit(crate::support::state_commit(conversation, now))
        .await
        .expect("commit");
    let path =
        |booking: &str| format!("/console/api/conversations/{customer}/bookings/{booking}/no-show");
    let (status, _) = console.post(&path("future-B2"), Value::Null).await;
    assert_eq!(status, 409, "not started yet");
    let (status, _) = console.post(&path("nope"), Value::Null).await;
    assert_eq!(status, 404);
    let (status, body) = console.post(&path("past-B1"), Value::Null).await;
    assert_eq!(status, 202, "{body}");
    assert_eq!(body["no_shows"], 1);
    let (status, _) = console.post(&path("past-B1"), Value::Null).await;
    assert_eq!(status, 409, "marked once");
    let view = console
        .get(&format!("/console/api/conversations/{customer}"))
        .await;
    assert_eq!(view["no_shows"], 1, "{view}");
    let statuses: Vec<&str> = view["bookings"]
        .as_array()
        .expect("bookings")
        .iter()
        .filter_map(|b| b["status"].as_str())
        .collect();
    assert_eq!(statuses, ["booked", "no_show"], "newest first");
    app.stop().await;
}
