//! The store's contract, which every backend passes: atomic identity resolution, dedup, one
//! timer slot per kind, due-order firing, history order, stock counting, link codes, merges,
//! and everything surviving a reopen. Each test takes the backend under test (`Open`);
//! `every_backend!` runs the list against sled and PostgreSQL (when `.ci/run` started one).

use std::future::Future;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;

use flows::{
    Channel, Conversation, Customer, CustomerId, Event, Identity, Inbound, InboundMessage, Locale,
    Reply, TextKey, TimerKind, Timestamp,
};
use souk::store::{
    Delivered, DeliveryRecord, InboxEntry, Ingested, NewOutbox, OutboxEntry, SentRecord,
    StepCommit, Store, TimerChange, TimerEntry, WriteGroup,
};

/// The backend under test: `store(dir)` opens it (the same `dir` opens the same store
/// again); `env(dir)` is what a `souk` process needs to open that store too.
#[derive(Clone, Copy)]
struct Open {
    opener: fn(&Path) -> StoreFuture,
    env: fn(&Path) -> Vec<(String, String)>,
}

type StoreFuture = Pin<Box<dyn Future<Output = Arc<dyn Store>> + Send>>;

impl Open {
    async fn store(&self, dir: &Path) -> Arc<dyn Store> {
        (self.opener)(dir).await
    }
}

const SLED: Open = Open {
    opener: |dir| {
        let dir = dir.to_owned();
        Box::pin(async move { crate::support::open_store(&dir).await })
    },
    env: |dir| vec![("SOUK__STORE__PATH".into(), dir.display().to_string())],
};

const POSTGRES: Open = Open {
    opener: |dir| {
        let dir = dir.to_owned();
        Box::pin(async move { crate::support::open_postgres(&dir).await })
    },
    env: |dir| {
        let settings = crate::support::postgres_settings(dir);
        vec![
            ("SOUK__STORE__BACKEND".into(), "postgres".into()),
            (
                "SOUK__STORE__POSTGRES__URL".into(),
                crate::support::postgres_url().unwrap_or_default(),
            ),
            (
                "SOUK__STORE__POSTGRES__SCHEMA".into(),
                settings.postgres.schema,
            ),
        ]
    },
};

/// One `#[test]` per contract test, against one backend; `when` says whether that backend
/// is reachable here (the test says it skipped otherwise).
macro_rules! contract {
    ($backend:ident, $open:expr, when $available:expr, [$($test:ident),* $(,)?]) => {
        mod $backend {
            $(
                // Several workers: a database client needs the runtime's I/O driver running
                // while the contention test blocks threads on it.
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $test() {
                    if !$available {
                        eprintln!("skipped: no {} here", stringify!($backend));
                        return;
                    }
                    super::$test($open).await
                }
            )*
        }
    };
}

/// The whole contract, once per backend.
macro_rules! every_backend {
    ($([$backend:ident, $open:expr, $available:expr]),* $(,)?) => {
        $(
            contract!(
                $backend,
                $open,
                when $available,
                [
                    identity_resolution_is_atomic_under_contention,
                    duplicates_are_dropped_until_pruned,
                    a_stepped_events_copy_is_a_duplicate_after_a_restart_until_pruned,
                    a_commit_consumes_its_event_and_keeps_one_timer_per_kind,
                    timers_fire_in_due_order_and_cancel,
                    accepted_sends_leave_the_outbox_with_their_platform_ids,
                    every_way_a_send_settles_holds_after_a_reopen,
                    an_erased_customers_sends_stay_gone_after_a_reopen,
                    everything_survives_a_reopen,
                    a_batch_ingest_drops_a_key_repeated_inside_it_and_keeps_order,
                    a_batch_commit_applies_every_step_in_order_and_one_timer_slot_survives,
                    one_transaction_writes_every_part_and_answers_each_in_order,
                    payments_count_stock_once_and_mark_the_ones_past_the_last_unit,
                    a_link_code_works_once_and_not_after_it_expires,
                    the_recovery_report_counts_reminders_recovered_orders_and_opt_outs,
                    a_merge_keeps_the_merged_chats_bookings_and_their_reminder,
                    the_console_list_filters_sorts_limits_and_searches_text,
                    a_batch_of_steps_reads_its_conversations_and_customers_in_order,
                    the_audit_log_lists_newest_first_per_customer_and_prunes_by_age,
                    retention_prunes_by_age_and_erasure_keeps_only_its_record,
                    a_send_settled_after_its_erasure_leaves_nothing,
                    an_erasure_takes_the_platform_ids_and_statuses_of_sends,
                ]
            );
        )*
    };
}

every_backend!(
    [sled, super::SLED, true],
    [
        postgres,
        super::POSTGRES,
        crate::support::postgres_url().is_some()
    ],
);

fn customer(id: &str, identity: &Identity) -> Customer {
    Customer {
        id: CustomerId(id.into()),
        identities: vec![identity.clone()],
        display_name: None,
        locale: Some(Locale::En),
        created_at: Timestamp(0),
    }
}

fn inbox(customer: &str, dedup: Option<&str>, at: i64) -> InboxEntry {
    InboxEntry {
        claim: None,
        seq: 0,
        public_id: format!("p-{at}"),
        dedup_key: dedup.map(str::to_owned),
        customer: CustomerId(customer.into()),
        event: Event::Inbound(Inbound::new(
            Channel::WebChat,
            InboundMessage::Text("hi".into()),
        )),
        received_at: Timestamp(at),
    }
}

fn timer(customer: &str, due: i64) -> TimerChange {
    TimerChange::Set(TimerEntry {
        customer: CustomerId(customer.into()),
        kind: TimerKind::SessionExpiry,
        due: Timestamp(due),
    })
}

/// `customer` writes `text` on `channel` at `at`.
fn says(customer: &str, at: i64, channel: Channel, text: &str) -> InboxEntry {
    InboxEntry {
        claim: None,
        seq: 0,
        public_id: format!("p-{customer}-{at}"),
        dedup_key: None,
        customer: CustomerId(customer.into()),
        event: Event::Inbound(Inbound::new(channel, InboundMessage::Text(text.into()))),
        received_at: Timestamp(at),
    }
}

fn commit(seq: u64, customer: &str, timers: Vec<TimerChange>, replies: usize) -> StepCommit {
    StepCommit {
        inbox_seq: seq,
        conversation: Conversation::new(CustomerId(customer.into()), Locale::En),
        history: Vec::new(),
        outbox: (0..replies)
            .map(|_| NewOutbox {
                last_inbound_at: None,
                channel: Channel::WebChat,
                recipient: "r".into(),
                locale: Locale::En,
                reply: Reply::key(TextKey::Menu),
                reply_to: None,
            })
            .collect(),
        timers,
        orders: vec![],
        order_updates: vec![],
        payment_jobs: vec![],
        now: Timestamp(1_000),
    }
}

/// The event, accepted as new.
async fn ingested(store: &dyn Store, entry: InboxEntry) -> InboxEntry {
    match store.ingest(entry).await.expect("ingest") {
        Ingested::New(entry) => entry,
        Ingested::Duplicate => panic!("a new event was taken for a duplicate"),
    }
}

/// `customer`'s event at `at`, stepped with `replies` sends: the sends, numbered.
async fn stepped_with_sends(
    store: &dyn Store,
    customer: &str,
    at: i64,
    replies: usize,
) -> Vec<OutboxEntry> {
    let entry = ingested(store, inbox(customer, None, at)).await;
    store
        .commit(commit(entry.seq, customer, vec![], replies))
        .await
        .expect("commit")
}

/// A round recording that the platform accepted a send without giving an id (a web chat
/// reply).
fn accepted_without_id(outbox_id: u64) -> WriteGroup {
    WriteGroup {
        delivered: vec![Delivered {
            outbox_id,
            sent: Vec::new(),
        }],
        ..WriteGroup::default()
    }
}

async fn identity_resolution_is_atomic_under_contention(open: Open) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open.store(dir.path()).await;
    let identity = Identity::new(Channel::WebChat, "digest");
    // Eight threads at once, each waiting for its own answer: real contention, whatever
    // the runtime the test runs on.
    let runtime = tokio::runtime::Handle::current();
    let barrier = Arc::new(std::sync::Barrier::new(8));
    let handles: Vec<_> = (0..8)
        .map(|i| {
            let (store, identity) = (store.clone(), identity.clone());
            let (runtime, barrier) = (runtime.clone(), barrier.clone());
            std::thread::spawn(move || {
                barrier.wait();
                runtime
                    .block_on(
                        store.resolve_identity(&identity, customer(&format!("c{i}"), &identity)),
                    )
                    .expect("resolve")
            })
        })
        .collect();
    let winners: Vec<CustomerId> = handles
        .into_iter()
        .map(|h| h.join().expect("thread"))
        .collect();
    assert!(winners.windows(2).all(|w| w[0] == w[1]), "{winners:?}");
    assert!(store.customer(&winners[0]).await.expect("read").is_some());
    assert_eq!(
        store.find_identity(&identity).await.expect("find"),
        Some(winners[0].clone())
    );
}

async fn duplicates_are_dropped_until_pruned(open: Open) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open.store(dir.path()).await;
    assert!(matches!(
        store
            .ingest(inbox("c", Some("wamid.1"), 10))
            .await
            .expect("ingest"),
        Ingested::New(_)
    ));
    assert_eq!(
        store
            .ingest(inbox("c", Some("wamid.1"), 20))
            .await
            .expect("ingest"),
        Ingested::Duplicate
    );
    assert!(matches!(
        store.ingest(inbox("c", None, 30)).await.expect("ingest"),
        Ingested::New(_)
    ));
    assert_eq!(store.pending_inbox().await.expect("inbox").len(), 2);
    assert_eq!(store.prune_processed(Timestamp(5)).await.expect("prune"), 0);
    assert_eq!(
        store.prune_processed(Timestamp(11)).await.expect("prune"),
        1
    );
    assert!(matches!(
        store
            .ingest(inbox("c", Some("wamid.1"), 40))
            .await
            .expect("ingest"),
        Ingested::New(_)
    ));
}

/// The "done" mark a step commits (on sled, in its round's record of marks) answers the
/// duplicate check of a later copy, is found again after a restart, and ages out.
async fn a_stepped_events_copy_is_a_duplicate_after_a_restart_until_pruned(open: Open) {
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = |at| inbox("c", Some("wamid.stepped"), at);
    // Platform events take the store's path for them (on sled, its inbox log).
    let append = |store: &Arc<dyn Store>, entry: InboxEntry| {
        let store = store.clone();
        async move {
            let mut answer = store.append_inbox(vec![entry]).await.expect("append");
            assert_eq!(answer.len(), 1);
            answer.remove(0)
        }
    };
    {
        let store = open.store(dir.path()).await;
        let Ingested::New(entry) = append(&store, copy(10)).await else {
            panic!("new")
        };
        // Another event, stepped in the same round, whose mark must not answer for ours.
        let Ingested::New(other) = append(&store, inbox("d", Some("wamid.other"), 12)).await else {
            panic!("new")
        };
        store
            .commit_batch(vec![
                commit(entry.seq, "c", vec![], 0),
                commit(other.seq, "d", vec![], 0),
            ])
            .await
            .expect("commit");
        assert!(store.pending_inbox().await.expect("inbox").is_empty());
        assert_eq!(append(&store, copy(20)).await, Ingested::Duplicate);
        // A copy through the group commit's own path finds the mark too.
        assert_eq!(
            store.ingest(copy(20)).await.expect("ingest"),
            Ingested::Duplicate
        );
        assert!(matches!(
            append(&store, inbox("c", Some("wamid.stepped2"), 21)).await,
            Ingested::New(_)
        ));
        store.flush().await.expect("flush");
    }
    let store = open.store(dir.path()).await;
    let pending = store.pending_inbox().await.expect("inbox");
    assert_eq!(
        pending
            .iter()
            .map(|entry| entry.dedup_key.clone())
            .collect::<Vec<_>>(),
        [Some("wamid.stepped2".to_string())],
        "a stepped event is not driven again after a restart"
    );
    assert_eq!(append(&store, copy(30)).await, Ingested::Duplicate);
    // Both marks were received before 13; the later event's is not stepped, so pending.
    assert!(store.prune_processed(Timestamp(13)).await.expect("prune") >= 2);
    assert!(matches!(append(&store, copy(40)).await, Ingested::New(_)));

    // An erasure takes the marks that carry a platform id of the customer's (the plan's
    // keys: the public ids of their history), and only those: the other event in the same
    // round stays a duplicate.
    let mut entry = inbox("erased", Some("wamid.erased"), 50);
    entry.public_id = "wamid.erased".into();
    let Ingested::New(erased) = append(&store, entry.clone()).await else {
        panic!("new")
    };
    let Ingested::New(kept) = append(&store, inbox("kept", Some("wamid.kept"), 51)).await else {
        panic!("new")
    };
    let mut step = commit(erased.seq, "erased", vec![], 0);
    step.history = vec![souk::store::HistoryEntry::In {
        at: Timestamp(50),
        channel: Channel::WhatsApp,
        public_id: entry.public_id.clone(),
        event: entry.event.clone(),
    }];
    store
        .commit_batch(vec![step, commit(kept.seq, "kept", vec![], 0)])
        .await
        .expect("commit");
    assert_eq!(append(&store, entry.clone()).await, Ingested::Duplicate);
    erase(store.as_ref(), "erased", Timestamp(60)).await;
    assert!(
        matches!(append(&store, entry).await, Ingested::New(_)),
        "the erased customer's mark is gone"
    );
    assert_eq!(
        append(&store, inbox("kept", Some("wamid.kept"), 52)).await,
        Ingested::Duplicate
    );
}

async fn a_commit_consumes_its_event_and_keeps_one_timer_per_kind(open: Open) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open.store(dir.path()).await;
    let first = ingested(&*store, inbox("a", None, 1)).await;
    let sent = store
        .commit(commit(first.seq, "a", vec![timer("a", 5_000)], 2))
        .await
        .expect("commit");
    assert_eq!(sent.len(), 2);
    assert!(sent[0].id < sent[1].id);
    assert!(store.pending_inbox().await.expect("inbox").is_empty());
    let second = ingested(&*store, inbox("a", None, 2)).await;
    // Re-arming moves the one timer; it does not add a second. The wake-up hint may be
    // earlier than the timer (a backend may move a pushed-back timer lazily), never later.
    store
        .commit(commit(second.seq, "a", vec![timer("a", 9_000)], 0))
        .await
        .expect("commit");
    let hint = store.next_timer_due().await.expect("next");
    assert!(hint.is_some_and(|due| due <= Timestamp(9_000)), "{hint:?}");
    for early in [5_000, 8_999] {
        let fired = store.fire_due_timers(Timestamp(early)).await.expect("fire");
        assert!(fired.is_empty(), "pushed back to 9,000, fired at {early}");
    }
    assert_eq!(
        store.next_timer_due().await.expect("next"),
        Some(Timestamp(9_000))
    );
    let fired = store.fire_due_timers(Timestamp(9_000)).await.expect("fire");
    assert_eq!(fired.len(), 1);
    assert_eq!(fired[0].event, Event::TimerFired(TimerKind::SessionExpiry));
    assert_eq!(store.next_timer_due().await.expect("next"), None);
    assert!(
        store
            .fire_due_timers(Timestamp(99_000))
            .await
            .expect("fire")
            .is_empty()
    );
    // Brought forward, a timer fires at its new, earlier time, and only once.
    for (at, due) in [(3, 20_000), (4, 12_000)] {
        let entry = ingested(&*store, inbox("a", None, at)).await;
        store
            .commit(commit(entry.seq, "a", vec![timer("a", due)], 0))
            .await
            .expect("commit");
    }
    assert_eq!(
        store.next_timer_due().await.expect("next"),
        Some(Timestamp(12_000))
    );
    assert_eq!(
        store
            .fire_due_timers(Timestamp(12_000))
            .await
            .expect("fire")
            .len(),
        1
    );
    assert!(
        store
            .fire_due_timers(Timestamp(30_000))
            .await
            .expect("fire")
            .is_empty()
    );
    // Each firing became an inbox entry, so it survives a crash like any event.
    assert_eq!(store.pending_inbox().await.expect("inbox").len(), 2);
    assert_eq!(store.outbox(10).await.expect("outbox").len(), 2);
}

async fn timers_fire_in_due_order_and_cancel(open: Open) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open.store(dir.path()).await;
    for (customer, due) in [("late", 300), ("early", 100), ("cancelled", 200)] {
        let entry = ingested(&*store, inbox(customer, None, 1)).await;
        store
            .commit(commit(entry.seq, customer, vec![timer(customer, due)], 0))
            .await
            .expect("commit");
    }
    let entry = ingested(&*store, inbox("cancelled", None, 2)).await;
    let cancel = TimerChange::Cancel {
        customer: CustomerId("cancelled".into()),
        kind: TimerKind::SessionExpiry,
    };
    store
        .commit(commit(entry.seq, "cancelled", vec![cancel], 0))
        .await
        .expect("commit");
    // The read-ahead covers the timers due in its window, and no more than its limit.
    assert_eq!(
        store
            .warm_timers(Timestamp(0), Timestamp(250), 10)
            .await
            .expect("warm"),
        1,
        "only `early` is pending before 250"
    );
    assert_eq!(
        store
            .warm_timers(Timestamp(0), Timestamp(1_000), 1)
            .await
            .expect("warm"),
        1
    );
    let fired = store.fire_due_timers(Timestamp(1_000)).await.expect("fire");
    let order: Vec<&str> = fired.iter().map(|e| e.customer.0.as_str()).collect();
    assert_eq!(order, ["early", "late"]);
}

async fn accepted_sends_leave_the_outbox_with_their_platform_ids(open: Open) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open.store(dir.path()).await;
    let sends = stepped_with_sends(store.as_ref(), "a", 1, 2).await;
    let record = |outbox_id: u64, platform_id: &str| SentRecord {
        customer: CustomerId("a".into()),
        outbox_id,
        channel: Channel::WhatsApp,
        platform_id: platform_id.into(),
        at: Timestamp(2),
    };
    // The first reply went out in two parts, each with the platform's id.
    let first = Delivered {
        outbox_id: sends[0].id,
        sent: vec![
            record(sends[0].id, "wamid.1a"),
            record(sends[0].id, "wamid.1b"),
        ],
    };
    let part = WriteGroup {
        delivered: vec![first.clone()],
        ..WriteGroup::default()
    };
    store.write_groups(&[part]).await.expect("delivered");
    let left: Vec<u64> = store
        .outbox(10)
        .await
        .expect("outbox")
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(left, [sends[1].id], "only the unsent reply is left");
    let mut parts = store.sent_for(sends[0].id).await.expect("read");
    parts.sort_by(|a, b| a.platform_id.cmp(&b.platform_id));
    assert_eq!(
        parts,
        [
            record(sends[0].id, "wamid.1a"),
            record(sends[0].id, "wamid.1b")
        ],
        "each part's whole record, under its send"
    );
    assert!(store.sent_for(sends[1].id).await.expect("read").is_empty());
    // Recorded twice (a retried round): the same records, nothing else removed.
    let again = WriteGroup {
        delivered: vec![first],
        ..WriteGroup::default()
    };
    store.write_groups(&[again]).await.expect("delivered again");
    assert_eq!(store.outbox(10).await.expect("outbox").len(), 1);
    assert_eq!(store.sent_for(sends[0].id).await.expect("read").len(), 2);
}

/// A send leaves the outbox when the platform accepts it (here with no platform id, as a
/// web chat reply), when it becomes a dead letter, or is held again after a retry is
/// rescheduled (and sent again when revived); each of these holds after a restart, and a
/// send nothing happened to is still there.
async fn every_way_a_send_settles_holds_after_a_reopen(open: Open) {
    let dir = tempfile::tempdir().expect("temp dir");
    let pending = |store: Arc<dyn Store>| async move {
        let sends = store.outbox(10).await.expect("outbox");
        assert_eq!(store.outbox_depth().await.expect("depth"), sends.len());
        sends
            .into_iter()
            .map(|send| (send.id, send.attempts))
            .collect::<Vec<_>>()
    };
    let sends = {
        let store = open.store(dir.path()).await;
        let sends = stepped_with_sends(store.as_ref(), "a", 1, 4).await;
        store
            .write_groups(&[accepted_without_id(sends[0].id)])
            .await
            .expect("accepted");
        let mut retried = sends[1].clone();
        retried.attempts = 1;
        retried.next_attempt_at = Timestamp(5_000);
        store
            .outbox_reschedule(&retried)
            .await
            .expect("rescheduled");
        store
            .outbox_dead(sends[2].clone(), "permanent".into(), Timestamp(3))
            .await
            .expect("dead");
        assert_eq!(
            pending(store.clone()).await,
            [(sends[1].id, 1), (sends[3].id, 0)]
        );
        assert!(
            store
                .outbox_entry(sends[0].id)
                .await
                .expect("read")
                .is_none()
        );
        let kept = store.outbox_entry(sends[3].id).await.expect("read");
        assert_eq!(kept.map(|send| send.customer), Some(CustomerId("a".into())));
        store.flush().await.expect("flush");
        sends
    };
    let store = open.store(dir.path()).await;
    assert_eq!(
        pending(store.clone()).await,
        [(sends[1].id, 1), (sends[3].id, 0)],
        "after a restart: the accepted and the dead one stay settled"
    );
    let dead = store.dead_letters().await.expect("dead letters");
    assert_eq!(
        dead.iter()
            .map(|letter| letter.entry.id)
            .collect::<Vec<_>>(),
        [sends[2].id]
    );
    // The rescheduled send is accepted (no platform id) while another of its round waits:
    // after a restart only that other one is pending.
    store
        .write_groups(&[accepted_without_id(sends[1].id)])
        .await
        .expect("accepted");
    store.flush().await.expect("flush");
    drop(store);
    let store = open.store(dir.path()).await;
    assert_eq!(pending(store.clone()).await, [(sends[3].id, 0)]);
    store
        .write_groups(&[accepted_without_id(sends[3].id)])
        .await
        .expect("accepted");
    // Sent again from the dead letters: held again, then accepted.
    let revived = store
        .revive_dead_letter(sends[2].id, Timestamp(6))
        .await
        .expect("revive")
        .expect("a dead letter");
    assert_eq!(pending(store.clone()).await, [(revived.id, 0)]);
    store
        .write_groups(&[accepted_without_id(revived.id)])
        .await
        .expect("accepted");
    assert!(pending(store.clone()).await.is_empty());
    store.flush().await.expect("flush");
    drop(store);
    let store = open.store(dir.path()).await;
    assert!(
        pending(store).await.is_empty(),
        "nothing is sent again after a restart"
    );
}

/// An erasure takes every send of the customer's, accepted ones too, from wherever the
/// store keeps them, so a restart sends none of them again; another customer's send made
/// in the same round stays.
async fn an_erased_customers_sends_stay_gone_after_a_reopen(open: Open) {
    let dir = tempfile::tempdir().expect("temp dir");
    let kept = {
        let store = open.store(dir.path()).await;
        let mut seqs = Vec::new();
        for customer in ["gone", "kept"] {
            let entry = ingested(&*store, inbox(customer, None, 1)).await;
            seqs.push(entry.seq);
        }
        let sends = store
            .commit_batch(vec![
                commit(seqs[0], "gone", vec![], 1),
                commit(seqs[1], "kept", vec![], 1),
            ])
            .await
            .expect("commit");
        store
            .write_groups(&[accepted_without_id(sends[0][0].id)])
            .await
            .expect("accepted");
        erase(store.as_ref(), "gone", Timestamp(10)).await;
        store.flush().await.expect("flush");
        sends[1][0].id
    };
    let store = open.store(dir.path()).await;
    let left: Vec<(u64, String)> = store
        .outbox(10)
        .await
        .expect("outbox")
        .into_iter()
        .map(|send| (send.id, send.customer.0))
        .collect();
    assert_eq!(left, [(kept, "kept".to_string())]);
}

async fn everything_survives_a_reopen(open: Open) {
    let dir = tempfile::tempdir().expect("temp dir");
    {
        let store = open.store(dir.path()).await;
        let entry = ingested(&*store, inbox("a", None, 1)).await;
        let mut step = commit(entry.seq, "a", vec![timer("a", 7)], 1);
        step.conversation
            .cart
            .set_quantity(&flows::Sku("CM-BLUE".into()), 3);
        store.commit(step).await.expect("commit");
        store.ingest(inbox("a", None, 2)).await.expect("ingest");
        store.flush().await.expect("flush");
    }
    let store = open.store(dir.path()).await;
    let conversation = store
        .conversation(&CustomerId("a".into()))
        .await
        .expect("read")
        .expect("exists");
    assert_eq!(conversation.cart.item_count(), 3);
    assert_eq!(store.pending_inbox().await.expect("inbox").len(), 1);
    assert_eq!(store.outbox_depth().await.expect("depth"), 1);
    assert_eq!(
        store.next_timer_due().await.expect("timer"),
        Some(Timestamp(7))
    );
    assert!(store.size_on_disk().await.expect("size") > 0);
}

async fn the_audit_log_lists_newest_first_per_customer_and_prunes_by_age(open: Open) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open.store(dir.path()).await;
    let entry = |at: i64, customer: &str, action: &str| souk::store::AuditEntry {
        at: Timestamp(at),
        actor: "ana".into(),
        action: action.into(),
        customer: Some(CustomerId(customer.into())),
        detail: String::new(),
    };
    // Two at one millisecond are both kept.
    for (at, customer, action) in [
        (10, "a", "view"),
        (20, "b", "view"),
        (30, "a", "export"),
        (30, "a", "takeover"),
        (40, "b", "order_status"),
    ] {
        store
            .record_audit(&entry(at, customer, action))
            .await
            .expect("record");
    }
    let all = store.audit_entries(None, 10).await.expect("list");
    let times: Vec<i64> = all.iter().map(|e| e.at.millis()).collect();
    assert_eq!(times, [40, 30, 30, 20, 10], "newest first");
    let a = store
        .audit_entries(Some(&CustomerId("a".into())), 2)
        .await
        .expect("list");
    assert_eq!(a.len(), 2);
    assert!(
        a.iter()
            .all(|e| e.customer == Some(CustomerId("a".into())) && e.at == Timestamp(30))
    );
    assert_eq!(store.prune_audit(Timestamp(30)).await.expect("prune"), 2);
    let left: Vec<i64> = store
        .audit_entries(None, 10)
        .await
        .expect("list")
        .iter()
        .map(|e| e.at.millis())
        .collect();
    assert_eq!(left, [40, 30, 30]);
}

async fn a_batch_ingest_drops_a_key_repeated_inside_it_and_keeps_order(open: Open) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open.store(dir.path()).await;
    store
        .ingest(inbox("c", Some("wamid.old"), 1))
        .await
        .expect("ingest");
    let results = store
        .ingest_batch(vec![
            inbox("a", Some("wamid.1"), 10),
            inbox("b", Some("wamid.1"), 11),
            inbox("c", Some("wamid.old"), 12),
            inbox("d", None, 13),
            inbox("e", Some("wamid.2"), 14),
        ])
        .await
        .expect("ingest batch");
    let kinds: Vec<&str> = results
        .iter()
        .map(|r| match r {
            Ingested::New(entry) => entry.customer.0.as_str(),
            Ingested::Duplicate => "dup",
        })
        .collect();
    assert_eq!(kinds, ["a", "dup", "dup", "d", "e"]);
    let seqs: Vec<u64> = results
        .iter()
        .filter_map(|r| match r {
            Ingested::New(entry) => Some(entry.seq),
            Ingested::Duplicate => None,
        })
        .collect();
    assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
    assert_eq!(store.pending_inbox().await.expect("inbox").len(), 4);
}

async fn a_batch_commit_applies_every_step_in_order_and_one_timer_slot_survives(open: Open) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open.store(dir.path()).await;
    let mut seqs: Vec<u64> = Vec::new();
    for i in 0..3 {
        match store.ingest(inbox("a", None, i)).await.expect("ingest") {
            Ingested::New(entry) => seqs.push(entry.seq),
            Ingested::Duplicate => panic!("no dedup key, no duplicate"),
        }
    }
    let mut last = commit(seqs[2], "a", vec![timer("a", 9_000)], 2);
    last.conversation.misses = 7;
    let created = store
        .commit_batch(vec![
            commit(seqs[0], "a", vec![timer("a", 5_000)], 1),
            commit(seqs[1], "a", vec![timer("a", 7_000)], 0),
            last,
        ])
        .await
        .expect("commit batch");
    assert_eq!(created.iter().map(Vec::len).collect::<Vec<_>>(), [1, 0, 2]);
    let ids: Vec<u64> = created.iter().flatten().map(|e| e.id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert!(store.pending_inbox().await.expect("inbox").is_empty());
    let conversation = store
        .conversation(&CustomerId("a".into()))
        .await
        .expect("read")
        .expect("stored");
    assert_eq!(conversation.misses, 7, "the last step of the batch wins");
    assert_eq!(store.outbox(10).await.expect("outbox").len(), 3);
    // The three Sets share one slot: only the last is left (the wake-up hint may still be
    // the first's time; nothing fires then).
    let hint = store.next_timer_due().await.expect("timers");
    assert!(hint.is_some_and(|due| due <= Timestamp(9_000)), "{hint:?}");
    assert!(
        store
            .fire_due_timers(Timestamp(8_000))
            .await
            .expect("fire")
            .is_empty()
    );
    assert_eq!(
        store
            .fire_due_timers(Timestamp(10_000))
            .await
            .expect("fire")
            .len(),
        1
    );
}

async fn one_transaction_writes_every_part_and_answers_each_in_order(open: Open) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open.store(dir.path()).await;
    let Ingested::New(pending) = store.ingest(inbox("a", None, 1)).await.expect("ingest") else {
        panic!("no dedup key, no duplicate")
    };
    let parts = [
        WriteGroup {
            ingest: vec![inbox("b", Some("wamid.x"), 2)],
            steps: vec![],
            ..WriteGroup::default()
        },
        WriteGroup {
            ingest: vec![],
            steps: vec![commit(pending.seq, "a", vec![], 2)],
            ..WriteGroup::default()
        },
        // The same message id as the first part's: a duplicate across callers too.
        WriteGroup {
            ingest: vec![inbox("b", Some("wamid.x"), 3)],
            steps: vec![],
            ..WriteGroup::default()
        },
    ];
    let written = store.write_groups(&parts).await.expect("write");
    assert_eq!(written.len(), 3);
    assert!(matches!(written[0].ingested.as_slice(), [Ingested::New(_)]));
    assert!(written[0].created.is_empty());
    assert_eq!(
        written[1].created.iter().map(Vec::len).collect::<Vec<_>>(),
        [2]
    );
    assert_eq!(written[2].ingested, [Ingested::Duplicate]);
    let pending: Vec<String> = store
        .pending_inbox()
        .await
        .expect("inbox")
        .into_iter()
        .map(|e| e.customer.0)
        .collect();
    assert_eq!(pending, ["b"], "a's event was consumed by its step");
}

fn order(id: &str, customer: &str, sku: &str) -> flows::Order {
    let euro = flows::Currency::new("EUR").expect("EUR");
    flows::Order {
        id: flows::OrderId(id.into()),
        customer: CustomerId(customer.into()),
        name: "Ana".into(),
        contact: flows::ContactPoint::Email("ana@example.ro".into()),
        lines: vec![flows::OrderLine {
            sku: flows::Sku(sku.into()),
            product: flows::ProductId("lamp".into()),
            title: "Lamp".into(),
            quantity: 1,
            unit_price: flows::Money::new(5_900, euro),
        }],
        total: flows::Money::new(5_900, euro),
        status: flows::OrderStatus::PendingPayment,
        placed_at: Timestamp(0),
        fulfilment: None,
        tracking: None,
        payment_attempts: 1,
        payment_failures: 0,
        oversold: vec![],
        recovered_step: None,
        discount: None,
        booking: None,
        history: Vec::new(),
    }
}

fn paid(seq: u64, customer: &str, order: &str) -> StepCommit {
    let mut step = commit(seq, customer, vec![], 0);
    step.order_updates = vec![souk::store::OrderUpdate {
        order: flows::OrderId(order.into()),
        status: flows::OrderStatus::Paid,
        tracking: None,
        by: None,
    }];
    step
}

/// Two customers pay for the last lamp in the same group commit, then a third in another:
/// units are counted once per paid order, and exactly the payments past the catalog's
/// number are marked oversold, in their own transaction.
async fn payments_count_stock_once_and_mark_the_ones_past_the_last_unit(open: Open) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open.store(dir.path()).await;
    let lamp = flows::Sku("TL-STD".into());
    assert!(
        store
            .stock_sold("catalog-v1", &[(lamp.clone(), 1)])
            .await
            .expect("base")
            .is_empty()
    );
    let mut placing = commit(u64::MAX, "a", vec![], 0);
    placing.orders = vec![
        order("A-1", "a", "TL-STD"),
        order("B-1", "b", "TL-STD"),
        order("C-1", "c", "TL-STD"),
    ];
    store.commit(placing).await.expect("orders placed");
    let both = WriteGroup {
        ingest: vec![],
        steps: vec![paid(u64::MAX, "a", "A-1"), paid(u64::MAX, "b", "B-1")],
        ..WriteGroup::default()
    };
    store.write_groups(&[both]).await.expect("two payments");
    // The same payment reported again changes nothing.
    store
        .commit(paid(u64::MAX, "a", "A-1"))
        .await
        .expect("again");
    store
        .commit(paid(u64::MAX, "c", "C-1"))
        .await
        .expect("third");
    let oversold = async |id: &str| {
        store
            .order(&flows::OrderId(id.into()))
            .await
            .expect("read")
            .expect("order")
            .oversold
    };
    assert!(
        oversold("A-1").await.is_empty(),
        "the first payment got the lamp"
    );
    assert_eq!(oversold("B-1").await, std::slice::from_ref(&lamp));
    assert_eq!(oversold("C-1").await, std::slice::from_ref(&lamp));
    // Each oversold payment left its conversation an event in the inbox, committed with it
    // (a crash after the commit still reaches the customer at the next start).
    let mut reported: Vec<(String, String)> = store
        .pending_inbox()
        .await
        .expect("inbox")
        .into_iter()
        .filter_map(|entry| match entry.event {
            flows::Event::OrderOversold { order, skus } => {
                assert_eq!(skus, std::slice::from_ref(&lamp));
                Some((entry.customer.0, order.0))
            }
            _ => None,
        })
        .collect();
    reported.sort();
    assert_eq!(
        reported,
        [("b".into(), "B-1".into()), ("c".into(), "C-1".into())]
    );
    assert_eq!(
        store.stock_sold("catalog-v1", &[]).await.expect("sold"),
        [(lamp.clone(), 3)]
    );
    // A new catalog file brings its own numbers: the count starts again.
    assert!(
        store
            .stock_sold("catalog-v2", &[(lamp, 5)])
            .await
            .expect("reset")
            .is_empty()
    );
}

async fn a_link_code_works_once_and_not_after_it_expires(open: Open) {
    use souk::store::{LinkCode, Redeemed};
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open.store(dir.path()).await;
    let owner = CustomerId("owner".into());
    let expires_at = Timestamp(1_000_000);
    let record = LinkCode {
        customer: owner.clone(),
        expires_at,
        used: false,
    };
    store
        .put_link_code("LK-AAAAAA", &record)
        .await
        .expect("put");
    store
        .put_link_code("LK-BBBBBB", &record)
        .await
        .expect("put");
    assert_eq!(
        store
            .redeem_link_code("LK-AAAAAA", expires_at)
            .await
            .expect("redeem"),
        Redeemed::Expired
    );
    assert_eq!(
        store
            .redeem_link_code("LK-BBBBBB", Timestamp(999_999))
            .await
            .expect("redeem"),
        Redeemed::Valid(owner)
    );
    assert_eq!(
        store
            .redeem_link_code("LK-BBBBBB", Timestamp(999_999))
            .await
            .expect("redeem"),
        Redeemed::Used
    );
    assert_eq!(
        store
            .redeem_link_code("LK-CCCCCC", Timestamp(0))
            .await
            .expect("redeem"),
        Redeemed::Unknown
    );
}

async fn the_recovery_report_counts_reminders_recovered_orders_and_opt_outs(open: Open) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store_path = dir.path().join("data");
    {
        let store = open.store(&store_path).await;
        // Two customers were reminded (the first one twice); one asked to stop.
        let mut a = commit(1, "a", vec![], 0);
        a.conversation.recovery.last_sequence_at = Some(Timestamp(1));
        for key in [TextKey::RecoveryGentle, TextKey::RecoveryNextDay] {
            a.outbox.push(NewOutbox {
                last_inbound_at: None,
                channel: Channel::WebChat,
                recipient: "r".into(),
                locale: Locale::En,
                reply: Reply::key(key),
                reply_to: None,
            });
        }
        let mut recovered = order("ORDER-A", "a", "SKU-1");
        recovered.recovered_step = Some(1);
        recovered.status = flows::OrderStatus::Paid;
        a.orders = vec![recovered, order("ORDER-B", "a", "SKU-1")];
        let mut b = commit(2, "b", vec![], 0);
        b.conversation.recovery.last_sequence_at = Some(Timestamp(1));
        b.conversation.recovery.opted_out = true;
        b.outbox.push(NewOutbox {
            last_inbound_at: None,
            channel: Channel::WebChat,
            recipient: "r".into(),
            locale: Locale::En,
            reply: Reply::key(TextKey::RecoveryGentle),
            reply_to: None,
        });
        store.commit_batch(vec![a, b]).await.expect("commit");
        store.flush().await.expect("flush");
    }
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_souk"))
        .args(["report", "recovery", "--config"])
        .arg(crate::support::repo_path("config/souk.toml"))
        .envs((open.env)(&store_path))
        .output()
        .expect("souk runs");
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        text.contains("carts chased (customers reminded at least once): 2"),
        "{text}"
    );
    assert!(text.contains("customers who asked to stop: 1"), "{text}");
    assert!(
        text.contains("step 1 (recovery-gentle): 2 sent, 0 orders recovered"),
        "{text}"
    );
    assert!(
        text.contains("step 2 (recovery-next-day): 1 sent, 1 orders recovered, €59.00"),
        "{text}"
    );
    // The shop's numbers for that day, from the same records.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_souk"))
        .args([
            "report",
            "kpis",
            "--from",
            "1970-01-01",
            "--to",
            "1970-01-01",
            "--config",
        ])
        .arg(crate::support::repo_path("config/souk.toml"))
        .envs((open.env)(&store_path))
        .output()
        .expect("souk runs");
    let csv = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let all = csv
        .lines()
        .find(|line| line.starts_with("1970-01-01,all,"))
        .unwrap_or_else(|| panic!("no row for the day: {csv}"));
    let columns: Vec<&str> = all.split(',').collect();
    // conversations, buyers, conversion, orders, paid, revenue, average; (carts chased,
    // reminders sent;) recovered, revenue
    assert_eq!(
        &columns[2..9],
        ["2", "1", "0.5000", "2", "1", "5900", "5900"],
        "{csv}"
    );
    assert_eq!(&columns[11..13], ["1", "5900"], "{csv}");
}

/// A booking made in a chat that then joins another customer (a link code redeemed there)
/// stays the customer's: listed in the surviving conversation with its reminder timer, its
/// stored record and calendar entry naming the survivor, and no-shows and the preferred
/// channel carried over.
async fn a_merge_keeps_the_merged_chats_bookings_and_their_reminder(open: Open) {
    use flows::booking::{Booking, BookingId, BookingRequest, BookingStatus, Busy, StaffId};
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open.store(dir.path()).await;
    let telegram = Identity::new(Channel::Telegram, "4242");
    let web = Identity::new(Channel::WebChat, "w-1");
    let from = store
        .resolve_identity(&telegram, customer("tg-customer", &telegram))
        .await
        .expect("resolve");
    let into = store
        .resolve_identity(&web, customer("web-customer", &web))
        .await
        .expect("resolve");
    let start = Timestamp(86_400_000 * 30);
    let booking = Booking {
        id: BookingId("tgcustomer-B1".into()),
        customer: from.clone(),
        service: flows::booking::ServiceId("cut".into()),
        staff: StaffId("ana".into()),
        start,
        end: Timestamp(start.0 + 1_800_000),
        status: BookingStatus::Booked,
        name: "Ana Pop".into(),
        contact: "+40700000000".into(),
        reminders_done: 0,
        confirmed: false,
        calendar_url: None,
        deposit: None,
    };
    let request = BookingRequest::Book {
        booking: Box::new(booking.clone()),
        busy: Busy {
            booking: booking.id.clone(),
            customer: from.clone(),
            from: booking.start,
            to: booking.end,
            hold_until: None,
        },
        replaces: None,
    };
    store
        .booking_request(&request, &[StaffId("ana".into())], Timestamp(1_000), None)
        .await
        .expect("book");
    let reminder_due = Timestamp(start.0 - 86_400_000);
    let entry = ingested(&*store, inbox("tg-customer", None, 1)).await;
    let mut step = commit(
        entry.seq,
        "tg-customer",
        vec![TimerChange::Set(TimerEntry {
            customer: from.clone(),
            kind: TimerKind::BookingReminder,
            due: reminder_due,
        })],
        0,
    );
    step.conversation.appointments.list = vec![booking.clone()];
    step.conversation.appointments.made = 1;
    step.conversation.appointments.no_shows = 1;
    step.conversation.reach.preferred_channel = Some(Channel::Telegram);
    step.conversation.appointments.reminder_due = Some(reminder_due);
    store.commit(step).await.expect("commit");
    let entry = ingested(&*store, inbox("web-customer", None, 2)).await;
    store
        .commit(commit(entry.seq, "web-customer", vec![], 0))
        .await
        .expect("commit");

    store
        .merge_customers(&from, &into, Timestamp(5_000))
        .await
        .expect("merge");

    let merged = store
        .conversation(&into)
        .await
        .expect("read")
        .expect("conversation");
    assert_eq!(
        merged
            .appointments
            .list
            .iter()
            .map(|b| b.id.0.as_str())
            .collect::<Vec<_>>(),
        ["tgcustomer-B1"],
        "the appointment is still listed"
    );
    assert_eq!(merged.appointments.no_shows, 1);
    assert_eq!(merged.reach.preferred_channel, Some(Channel::Telegram));
    assert_eq!(merged.appointments.reminder_due, Some(reminder_due));
    let stored = store
        .booking(&booking.id)
        .await
        .expect("read")
        .expect("booking");
    assert_eq!(
        stored.customer, into,
        "the stored booking names the survivor"
    );
    let fired = store.fire_due_timers(reminder_due).await.expect("fire");
    let reminders: Vec<(&str, bool)> = fired
        .iter()
        .map(|e| {
            (
                e.customer.0.as_str(),
                matches!(e.event, Event::TimerFired(TimerKind::BookingReminder)),
            )
        })
        .collect();
    assert_eq!(
        reminders,
        [("web-customer", true)],
        "the reminder still fires"
    );
    // An operator's unlink gives the chat its appointment back.
    assert!(
        store
            .unmerge_customers(&from, &into)
            .await
            .expect("unmerge")
    );
    let restored = store
        .conversation(&from)
        .await
        .expect("read")
        .expect("conversation");
    assert_eq!(restored.appointments.list.len(), 1);
    let survivor = store
        .conversation(&into)
        .await
        .expect("read")
        .expect("conversation");
    assert!(survivor.appointments.list.is_empty());
    let stored = store
        .booking(&booking.id)
        .await
        .expect("read")
        .expect("booking");
    assert_eq!(stored.customer, from);
    // Its reminder comes back with it.
    let fired = store.fire_due_timers(reminder_due).await.expect("fire");
    let owners: Vec<&str> = fired.iter().map(|e| e.customer.0.as_str()).collect();
    assert_eq!(
        owners,
        ["tg-customer"],
        "the unlinked chat's reminder fires"
    );
}

/// The console's list query: a filter, a channel, newest activity first, a limit, the count
/// of those waiting whatever the filter; the text search finds who wrote a word, in any case.
async fn the_console_list_filters_sorts_limits_and_searches_text(open: Open) {
    use flows::{Handoff, HandoffReason, OperatorId, WaitMode};
    use souk::store::{ListFilter, ListQuery};
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open.store(dir.path()).await;
    let rows = [
        (
            "bot",
            100,
            Channel::WebChat,
            "Do you have RED dresses?",
            Handoff::Bot,
        ),
        (
            "waiting",
            300,
            Channel::WhatsApp,
            "a person please",
            Handoff::Waiting {
                since: Timestamp(300),
                reason: HandoffReason::HumanRequested,
                mode: WaitMode::Live,
                told_at: None,
            },
        ),
        (
            "owned",
            200,
            Channel::WhatsApp,
            "thanks",
            Handoff::Human {
                operator: OperatorId("ana".into()),
                since: Timestamp(200),
                held: Vec::new(),
            },
        ),
    ];
    for (customer, at, channel, text, handoff) in rows {
        let entry = ingested(&*store, says(customer, at, channel, text)).await;
        let mut step = commit(entry.seq, customer, vec![], 0);
        step.conversation.handoff = handoff;
        step.now = Timestamp(at);
        step.history = vec![souk::store::HistoryEntry::In {
            at: Timestamp(at),
            channel,
            public_id: entry.public_id.clone(),
            event: entry.event.clone(),
        }];
        store.commit(step).await.expect("commit");
    }
    let ids = |page: &souk::store::ListPage| -> Vec<String> {
        page.rows.iter().map(|row| row.customer.0.clone()).collect()
    };
    let all = store
        .conversations(&ListQuery::default())
        .await
        .expect("list");
    assert_eq!(ids(&all), ["waiting", "owned", "bot"], "newest first");
    assert_eq!(all.waiting, 1);
    let query = |filter, channel, limit| ListQuery {
        filter,
        channel,
        limit,
    };
    let waiting = store
        .conversations(&query(ListFilter::Waiting, None, None))
        .await
        .expect("list");
    assert_eq!(ids(&waiting), ["waiting"]);
    let mine = store
        .conversations(&query(ListFilter::OwnedBy("ana".into()), None, None))
        .await
        .expect("list");
    assert_eq!(ids(&mine), ["owned"]);
    let whatsapp_first = store
        .conversations(&query(ListFilter::All, Some(Channel::WhatsApp), Some(1)))
        .await
        .expect("list");
    assert_eq!(ids(&whatsapp_first), ["waiting"]);
    assert_eq!(whatsapp_first.waiting, 1, "counted whatever the page shows");
    let far = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let (found, complete) = store
        .customers_who_wrote("red dress", far)
        .await
        .expect("search");
    assert!(complete);
    assert_eq!(found, [CustomerId("bot".into())]);
}

async fn a_batch_of_steps_reads_its_conversations_and_customers_in_order(open: Open) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open.store(dir.path()).await;
    let ana = Identity::new(Channel::WhatsApp, "40700000001");
    let ana_id = store
        .resolve_identity(&ana, customer("ana", &ana))
        .await
        .expect("resolve");
    let first = ingested(&*store, inbox("ana", None, 1)).await;
    store
        .commit(commit(first.seq, "ana", vec![], 0))
        .await
        .expect("commit");
    // A customer without a conversation yet, and an id nobody has.
    let bo = Identity::new(Channel::Telegram, "77");
    store
        .resolve_identity(&bo, customer("bo", &bo))
        .await
        .expect("resolve");
    let ids = [
        CustomerId("bo".into()),
        CustomerId("nobody".into()),
        ana_id.clone(),
    ];
    let read = store
        .conversations_with_customers(&ids)
        .await
        .expect("read");
    assert_eq!(read.len(), 3);
    assert!(read[0].0.is_none(), "bo has no conversation yet");
    assert_eq!(read[0].1.as_ref().map(|c| c.id.0.as_str()), Some("bo"));
    assert_eq!(read[1], (None, None));
    assert_eq!(read[2].0.as_ref().map(|c| &c.customer), Some(&ana_id));
    assert_eq!(read[2].1.as_ref().map(|c| &c.identities), Some(&vec![ana]));
    // One at a time reads the same.
    let one = store
        .conversation_with_customer(&ana_id)
        .await
        .expect("read");
    assert_eq!(one, read[2]);
}

/// Retention on a virtual clock: at "now" (day 1,000), messages older than 30 days, orders
/// older than 1 year and audit entries older than 30 days go, and the customer silent for
/// more than 90 days is named for erasure. Then the erasure role: the record, the digests,
/// idempotence, and the key that salts digests made once.
async fn retention_prunes_by_age_and_erasure_keeps_only_its_record(open: Open) {
    const DAY: i64 = 86_400_000;
    let now = Timestamp(1_000 * DAY);
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open.store(dir.path()).await;
    // "old" wrote on day 800 (and on day 980); "new" on day 990.
    for (customer, days) in [("old", vec![800, 980]), ("new", vec![990])] {
        for day in days {
            let at = day * DAY;
            let entry = ingested(
                &*store,
                says(customer, at, Channel::WebChat, &format!("day {day}")),
            )
            .await;
            let mut step = commit(entry.seq, customer, vec![], 1);
            step.now = Timestamp(at);
            step.history = vec![souk::store::HistoryEntry::In {
                at: Timestamp(at),
                channel: Channel::WebChat,
                public_id: entry.public_id.clone(),
                event: entry.event.clone(),
            }];
            store.commit(step).await.expect("commit");
        }
    }
    // Silent since day 800; and one silent as long who still waits for a paid order.
    let mut silent = commit(u64::MAX, "silent", vec![], 0);
    silent.now = Timestamp(800 * DAY);
    store.commit(silent).await.expect("commit");
    let mut owed = commit(u64::MAX, "owed", vec![], 0);
    owed.now = Timestamp(800 * DAY);
    let mut on_its_way = order("on-its-way", "owed", "TL-STD");
    on_its_way.status = flows::OrderStatus::Paid;
    owed.conversation.orders.recent.push(on_its_way);
    store.commit(owed).await.expect("commit");
    let mut ancient = order("ancient", "old", "TL-STD");
    ancient.placed_at = Timestamp(300 * DAY);
    let mut recent = order("recent", "new", "TL-STD");
    recent.placed_at = Timestamp(900 * DAY);
    let mut step = commit(u64::MAX, "new", vec![], 0);
    step.now = Timestamp(990 * DAY);
    step.orders = vec![ancient, recent];
    store.commit(step).await.expect("commit");
    for (day, action) in [(900, "view"), (995, "export")] {
        store
            .record_audit(&souk::store::AuditEntry {
                at: Timestamp(day * DAY),
                actor: "ana".into(),
                action: action.into(),
                customer: None,
                detail: String::new(),
            })
            .await
            .expect("audit");
    }

    let settings = souk::data_rights::settings::PrivacySettings {
        history_days: 30,
        inactive_customer_days: 90,
        order_years: 1,
        audit_days: 30,
        ask_marketing_consent: false,
        digest_key: None,
    };
    let mut named = Vec::new();
    let done =
        souk::data_rights::retention::enforce(store.as_ref(), &settings, now, |c| named.push(c.0))
            .await
            .expect("enforce");
    assert_eq!(done.history_records, 1, "day 800's message: {done:?}");
    let texts = |history: Vec<souk::store::HistoryEntry>| -> Vec<i64> {
        history.iter().map(|h| h.at().millis() / DAY).collect()
    };
    assert_eq!(
        texts(
            store
                .history(&CustomerId("old".into()), 10)
                .await
                .expect("h")
        ),
        [980, 980],
        "the message and its reply"
    );
    assert_eq!(
        texts(
            store
                .history(&CustomerId("new".into()), 10)
                .await
                .expect("h")
        ),
        [990, 990]
    );
    assert_eq!(done.orders, 1);
    assert!(
        store
            .order(&flows::OrderId("ancient".into()))
            .await
            .expect("o")
            .is_none()
    );
    assert!(
        store
            .order(&flows::OrderId("recent".into()))
            .await
            .expect("o")
            .is_some()
    );
    assert_eq!(done.audit_entries, 1);
    let audit = store.audit_entries(None, 10).await.expect("audit");
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "export");
    assert_eq!(
        named,
        ["silent"],
        "only the customer silent for 90 days who is owed nothing"
    );
    // Keep-for-ever settings take nothing.
    let forever = souk::data_rights::settings::PrivacySettings {
        history_days: 0,
        inactive_customer_days: 0,
        order_years: 0,
        audit_days: 0,
        ask_marketing_consent: false,
        digest_key: None,
    };
    let none = souk::data_rights::retention::enforce(store.as_ref(), &forever, now, |_| {
        panic!("nobody is erased")
    })
    .await
    .expect("enforce");
    assert_eq!(none, souk::data_rights::retention::Enforced::default());

    // Erasure: "new" and everything of theirs but the stripped order.
    let key = store.digest_key().await.expect("key");
    assert_eq!(store.digest_key().await.expect("key"), key, "made once");
    let identity = Identity::new(Channel::WebChat, "new-session");
    let (plan, _) = souk::data_rights::erase::plan(
        store.as_ref(),
        &CustomerId("new".into()),
        "ana",
        now,
        &key,
        false,
    )
    .await
    .expect("plan");
    assert!(plan.last_message.is_none());
    let mut plan = plan;
    plan.identities.push(identity.clone());
    plan.record
        .identity_digests
        .push(souk::data_rights::erase::digest(&key, &identity));
    for _ in 0..2 {
        assert_eq!(store.erase(&plan).await.expect("erase"), None);
    }
    assert!(
        store
            .conversation(&CustomerId("new".into()))
            .await
            .expect("c")
            .is_none()
    );
    assert!(
        store
            .history(&CustomerId("new".into()), 10)
            .await
            .expect("h")
            .is_empty()
    );
    assert!(
        store
            .summary(&CustomerId("new".into()))
            .await
            .expect("s")
            .is_none()
    );
    let record = store
        .erasure(&CustomerId("new".into()))
        .await
        .expect("read")
        .expect("the record");
    assert_eq!(record.by, "ana");
    let digest = souk::data_rights::erase::digest(&key, &identity);
    assert_eq!(
        store.identity_erased(&digest).await.expect("read"),
        Some(now)
    );
    assert_eq!(store.identity_erased("0000").await.expect("read"), None);
    let since = store
        .erasures_since(Timestamp(now.millis() - DAY))
        .await
        .expect("since");
    assert_eq!(since.len(), 1);
    assert!(
        store
            .erasures_since(Timestamp(now.millis() + 1))
            .await
            .expect("s")
            .is_empty()
    );
    // "old" is untouched.
    assert!(
        store
            .conversation(&CustomerId("old".into()))
            .await
            .expect("c")
            .is_some()
    );
}

/// Erases `customer` as an operator's request does.
async fn erase(store: &dyn Store, customer: &str, at: Timestamp) {
    let key = store.digest_key().await.expect("key");
    let (plan, _) =
        souk::data_rights::erase::plan(store, &CustomerId(customer.into()), "ana", at, &key, false)
            .await
            .expect("plan");
    store.erase(&plan).await.expect("erase");
}

/// A send the outbox runner completes after its customer was erased (it was in flight)
/// leaves no platform id behind, nor a dead letter if it failed.
async fn a_send_settled_after_its_erasure_leaves_nothing(open: Open) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open.store(dir.path()).await;
    let sends = stepped_with_sends(store.as_ref(), "gone", 1, 2).await;
    erase(store.as_ref(), "gone", Timestamp(10)).await;
    let delivered = Delivered {
        outbox_id: sends[0].id,
        sent: vec![SentRecord {
            customer: CustomerId("gone".into()),
            outbox_id: sends[0].id,
            channel: Channel::WhatsApp,
            platform_id: "wamid.after".into(),
            at: Timestamp(11),
        }],
    };
    let part = WriteGroup {
        delivered: vec![delivered],
        ..WriteGroup::default()
    };
    store.write_groups(&[part]).await.expect("delivered");
    assert!(store.sent_for(sends[0].id).await.expect("sent").is_empty());
    store
        .outbox_dead(sends[1].clone(), "refused".into(), Timestamp(12))
        .await
        .expect("dead");
    assert!(store.dead_letters().await.expect("dead").is_empty());
}

/// An erasure takes what became of the customer's replies: the platform ids recorded when
/// the platform accepted them and the delivery statuses it sent for them; another
/// customer's stay.
async fn an_erasure_takes_the_platform_ids_and_statuses_of_sends(open: Open) {
    let dir = tempfile::tempdir().expect("temp dir");
    let store = open.store(dir.path()).await;
    let mut sent = Vec::new();
    for (customer, at) in [("gone", 1), ("kept", 3)] {
        let sends = stepped_with_sends(store.as_ref(), customer, at, 1).await;
        let record = SentRecord {
            customer: CustomerId(customer.into()),
            outbox_id: sends[0].id,
            channel: Channel::WhatsApp,
            platform_id: format!("wamid.{customer}"),
            at: Timestamp(at + 1),
        };
        let part = WriteGroup {
            delivered: vec![Delivered {
                outbox_id: sends[0].id,
                sent: vec![record.clone()],
            }],
            ..WriteGroup::default()
        };
        store.write_groups(&[part]).await.expect("delivered");
        let status = DeliveryRecord {
            channel: Channel::WhatsApp,
            platform_id: record.platform_id.clone(),
            state: "read".into(),
            at: Timestamp(at + 2),
            error: None,
        };
        let dedup = format!("status-{customer}");
        assert!(
            store
                .record_delivery(&dedup, &status, Timestamp(at + 2))
                .await
                .expect("status")
        );
        assert_eq!(store.sent_for(sends[0].id).await.expect("sent"), [record]);
        sent.push((customer, sends[0].id));
    }
    erase(store.as_ref(), "gone", Timestamp(10)).await;
    for (customer, outbox_id) in sent {
        let ids = store.sent_for(outbox_id).await.expect("sent");
        let statuses = store
            .deliveries(Channel::WhatsApp, &format!("wamid.{customer}"))
            .await
            .expect("statuses");
        if customer == "gone" {
            assert!(ids.is_empty(), "{ids:?}");
            assert!(statuses.is_empty(), "{statuses:?}");
        } else {
            assert_eq!(ids.len(), 1);
            assert_eq!(statuses.len(), 1);
        }
    }
}
