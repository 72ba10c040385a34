//! Live views across replicas. A customer's web chat tab and an operator's console may be
//! connected to any replica, while the conversation is stepped (and its replies sent) by
//! the replica holding its shard. What the live views need (a conversation changed, an
//! operator's action applied, a web chat reply) is announced to every replica through the
//! store (PostgreSQL NOTIFY), batched every few milliseconds, and each replica hands what
//! others announced to its own views. Best effort, as the views themselves: a tab or a
//! console that misses something reloads from the store when it reconnects.

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use flows::CustomerId;

use super::applied::Settled;
use crate::store::Store;

/// One thing a live view elsewhere may need.
#[derive(Debug, Clone)]
pub enum LiveNews {
    Console(CustomerId),
    Applied(u64, Settled),
    WebChat { to: String, id: u64, json: Arc<str> },
}

/// Where live news goes beyond this process; does nothing on the embedded store.
#[derive(Clone, Default)]
pub struct Relay(Option<mpsc::Sender<LiveNews>>);

/// News waiting to be announced; past this (the database is slow or away) news is dropped
/// and counted: views catch up when they reconnect.
const BACKLOG: usize = 8192;

/// How long news waits to share an announcement with more.
const GATHER: Duration = Duration::from_millis(20);

/// PostgreSQL takes payloads up to 8000 bytes.
const MAX_PAYLOAD: usize = 7_800;

impl Relay {
    pub fn send(&self, news: LiveNews) {
        if let Some(sender) = &self.0
            && sender.try_send(news).is_err()
        {
            metrics::counter!("souk_live_news_dropped_total").increment(1);
        }
    }

    pub fn is_on(&self) -> bool {
        self.0.is_some()
    }
}

/// One announcement. Short keys: the payload's limit is small.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Batch {
    pub from: String,
    #[serde(default, rename = "c", skip_serializing_if = "Vec::is_empty")]
    pub console: Vec<String>,
    /// Sequence numbers applied, and set aside.
    #[serde(default, rename = "a", skip_serializing_if = "Vec::is_empty")]
    pub applied: Vec<u64>,
    #[serde(default, rename = "s", skip_serializing_if = "Vec::is_empty")]
    pub set_aside: Vec<u64>,
    #[serde(default, rename = "w", skip_serializing_if = "Vec::is_empty")]
    pub webchat: Vec<Push>,
    /// Web chat sessions whose reply was too big to announce: their tabs reconnect and
    /// reload the history.
    #[serde(default, rename = "l", skip_serializing_if = "Vec::is_empty")]
    pub lagged: Vec<String>,
}

#[derive(Debug, Serialize, Deserialize)]
pub struct Push {
    pub to: String,
    pub id: u64,
    pub json: String,
}

impl Batch {
    fn is_empty(&self) -> bool {
        self.console.is_empty()
            && self.applied.is_empty()
            && self.set_aside.is_empty()
            && self.webchat.is_empty()
            && self.lagged.is_empty()
    }
}

/// Starts the announcing task of replica `from`; `Relay::default()` and no task when the
/// store is not shared.
pub fn start(
    store: Arc<dyn Store>,
    from: Option<&str>,
    stop: CancellationToken,
) -> (Relay, Option<tokio::task::JoinHandle<()>>) {
    let Some(from) = from.map(str::to_owned) else {
        return (Relay::default(), None);
    };
    let (sender, mut queue) = mpsc::channel::<LiveNews>(BACKLOG);
    let task = tokio::spawn(async move {
        loop {
            let first = tokio::select! {
                () = stop.cancelled() => return,
                news = queue.recv() => match news {
                    Some(news) => news,
                    None => return,
                },
            };
            tokio::time::sleep(GATHER).await;
            let mut news = vec![first];
            while let Ok(more) = queue.try_recv() {
                news.push(more);
            }
            for payload in payloads(&from, news) {
                if let Err(error) = store.announce(&payload).await {
                    metrics::counter!("souk_live_news_dropped_total").increment(1);
                    tracing::warn!(%error, "could not tell the other replicas; their live views catch up on reconnect");
                }
            }
        }
    });
    (Relay(Some(sender)), Some(task))
}

/// Packs news into announcements under the payload limit.
fn payloads(from: &str, news: Vec<LiveNews>) -> Vec<String> {
    let mut out = Vec::new();
    let mut batch = Batch {
        from: from.to_owned(),
        ..Batch::default()
    };
    // A generous estimate of the batch's encoded size so far.
    let mut size = from.len() + 64;
    for item in news {
        let cost = match &item {
            LiveNews::Console(customer) => customer.0.len() + 8,
            LiveNews::Applied(..) => 24,
            LiveNews::WebChat { to, json, .. } => {
                // JSON inside JSON: quotes and backslashes double at worst.
                let cost = to.len() + 2 * json.len() + 48;
                if cost > MAX_PAYLOAD - from.len() - 64 {
                    batch.lagged.push(to.clone());
                    size += to.len() + 8;
                    continue;
                }
                cost
            }
        };
        if size + cost > MAX_PAYLOAD && !batch.is_empty() {
            out.extend(serde_json::to_string(&batch).ok());
            batch = Batch {
                from: from.to_owned(),
                ..Batch::default()
            };
            size = from.len() + 64;
        }
        size += cost;
        match item {
            LiveNews::Console(customer) => batch.console.push(customer.0),
            LiveNews::Applied(seq, Settled::Applied) => batch.applied.push(seq),
            LiveNews::Applied(seq, Settled::SetAside) => batch.set_aside.push(seq),
            LiveNews::WebChat { to, id, json } => batch.webchat.push(Push {
                to,
                id,
                json: json.to_string(),
            }),
        }
    }
    if !batch.is_empty() {
        out.extend(serde_json::to_string(&batch).ok());
    }
    out
}

/// An announcement from another replica (`None` for one of this replica's own, or junk).
pub fn parse(payload: &str, me: &str) -> Option<Batch> {
    let batch: Batch = serde_json::from_str(payload).ok()?;
    (batch.from != me).then_some(batch)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn news_is_packed_under_the_limit_and_read_back() {
        let mut news = Vec::new();
        for n in 0..400 {
            news.push(LiveNews::Console(CustomerId(format!("{n:032x}"))));
            news.push(LiveNews::Applied(n, Settled::Applied));
        }
        news.push(LiveNews::WebChat {
            to: "big".into(),
            id: 1,
            json: "\"".repeat(5000).into(),
        });
        news.push(LiveNews::WebChat {
            to: "small".into(),
            id: 2,
            json: "{\"text\":\"hi\"}".into(),
        });
        let payloads = payloads("r1", news);
        assert!(payloads.len() > 1);
        assert!(
            payloads.iter().all(|p| p.len() <= 8000),
            "under PostgreSQL's limit"
        );
        let batches: Vec<Batch> = payloads.iter().filter_map(|p| parse(p, "r2")).collect();
        assert_eq!(batches.len(), payloads.len());
        assert_eq!(batches.iter().map(|b| b.console.len()).sum::<usize>(), 400);
        assert_eq!(batches.iter().map(|b| b.applied.len()).sum::<usize>(), 400);
        assert!(batches.iter().any(|b| b.lagged == vec!["big".to_owned()]));
        assert!(
            batches
                .iter()
                .any(|b| b.webchat.iter().any(|p| p.to == "small"))
        );
        assert!(
            parse(&payloads[0], "r1").is_none(),
            "its own news is ignored"
        );
        assert!(parse("not json", "r2").is_none());
    }
}
