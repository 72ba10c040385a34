//! Live updates for the console: every committed step, delivery status and note names the
//! conversation it changed; open consoles get it over server-sent events and refetch.

use std::convert::Infallible;
use std::time::Duration;

use axum::extract::State;
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use futures_util::{Stream, StreamExt};
use tokio::sync::broadcast;
use tokio_stream::wrappers::BroadcastStream;

use flows::CustomerId;

use super::ConsoleState;
use crate::driver::live::{LiveNews, Relay};

/// Cheap to clone; publishing with no console open costs a failed send.
#[derive(Clone)]
pub struct ConsoleFeed {
    here: broadcast::Sender<CustomerId>,
    /// Consoles open on other replicas (see `driver/live.rs`).
    relay: Relay,
}

impl Default for ConsoleFeed {
    fn default() -> Self {
        ConsoleFeed::new(Relay::default())
    }
}

impl ConsoleFeed {
    pub fn new(relay: Relay) -> ConsoleFeed {
        // A console that falls this far behind gets its stream ended and reconnects,
        // reloading everything: nothing is silently skipped.
        ConsoleFeed {
            here: broadcast::channel(1024).0,
            relay,
        }
    }

    /// A conversation changed: consoles on every replica hear of it.
    pub fn publish(&self, customer: &CustomerId) {
        self.publish_here(customer);
        self.relay.send(LiveNews::Console(customer.clone()));
    }

    /// Only this replica's consoles (news another replica announced).
    pub fn publish_here(&self, customer: &CustomerId) {
        let _ = self.here.send(customer.clone());
    }

    pub fn subscribe(&self) -> broadcast::Receiver<CustomerId> {
        self.here.subscribe()
    }
}

/// `GET /console/api/events` (behind the session check).
pub async fn events(
    State(state): State<ConsoleState>,
) -> Sse<impl Stream<Item = Result<SseEvent, Infallible>>> {
    let shutdown = state.shutdown.clone();
    let stream = BroadcastStream::new(state.console_feed.subscribe())
        .take_while(|changed| std::future::ready(changed.is_ok()))
        .filter_map(|changed| async move { changed.ok() })
        .map(|customer| {
            let data = serde_json::json!({ "customer": customer }).to_string();
            Ok(SseEvent::default().data(data))
        })
        .take_until(async move { shutdown.cancelled().await });
    Sse::new(stream).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
