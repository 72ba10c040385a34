//! 100 conversations × 10 messages at once: every conversation gets its replies, in order,
//! none lost, none duplicated.

use std::collections::HashSet;
use std::time::Duration;

use serde_json::Value;
use souk::AppOptions;

use crate::support::spawn_app;

const CONVERSATIONS: usize = 100;
const SCRIPT: [&str; 10] = [
    "[start]",
    "[browse]",
    "[cat:coffee]",
    "[add:ceramic-mug]",
    "[var:CM-WHITE]",
    "1",
    "cart",
    "[inc:CM-WHITE]",
    "nonsense that nobody understands",
    "menu",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_conversations_of_ten_messages_each() {
    let dir = tempfile::tempdir().expect("temp dir");
    let app = std::sync::Arc::new(spawn_app(dir.path(), AppOptions::default()).await);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..CONVERSATIONS {
        let app = app.clone();
        tasks.spawn(async move {
            let session = app.session().await;
            let mut events = app.events(&session).await;
            let mut sent = Vec::new();
            // Each conversation sends its ten messages back to back, without waiting for
            // replies, while the other 99 do the same.
            for said in SCRIPT {
                sent.push(app.say(&session, said).await);
            }
            let last = sent.last().cloned().expect("sent");
            let replies = events
                .collect_until(Duration::from_secs(30), |seen| {
                    seen.iter().any(|r| r["reply_to"] == last.as_str())
                })
                .await;
            (sent, replies)
        });
    }
    let mut total_replies = 0;
    while let Some(result) = tasks.join_next().await {
        let (sent, replies) = result.expect("conversation task");
        let ids: Vec<&str> = replies
            .iter()
            .map(|r| r["id"].as_str().expect("id"))
            .collect();
        let unique: HashSet<&str> = ids.iter().copied().collect();
        assert_eq!(unique.len(), ids.len(), "duplicate replies: {ids:?}");
        // The replies' `reply_to`, with repeats collapsed, is exactly the sent order.
        let mut answered: Vec<&str> = replies
            .iter()
            .map(|r| r["reply_to"].as_str().expect("reply_to"))
            .collect();
        answered.dedup();
        let sent: Vec<&str> = sent.iter().map(String::as_str).collect();
        assert_eq!(answered, sent, "replies out of order or missing");
        let numeric: Vec<u64> = ids
            .iter()
            .map(|id| id.parse().expect("numeric id"))
            .collect();
        assert!(
            numeric.windows(2).all(|w| w[0] < w[1]),
            "reply ids not increasing: {numeric:?}"
        );
        total_replies += replies.len();
        let mug_total = replies
            .iter()
            .rev()
            .find(|r| r["cart"].is_object())
            .map(|r: &Value| r["cart"]["lines"][0]["quantity"].clone());
        assert_eq!(
            mug_total,
            Some(Value::from(2)),
            "cart state is per conversation"
        );
    }
    assert!(total_replies >= CONVERSATIONS * SCRIPT.len());
    assert_eq!(app.metric("souk_events_failed_total").await, 0.0);
    let app = std::sync::Arc::try_unwrap(app).ok().expect("sole owner");
    app.stop().await;
}
