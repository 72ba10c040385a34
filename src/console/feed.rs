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

/// Cheap to clone; publishing with no console open costs a failed send.
#[derive(Clone)]
pub struct ConsoleFeed(broadcast::Sender<CustomerId>);

impl Default for ConsoleFeed {
    fn default() -> Self {
        // A console that falls this far behind gets its stream ended and reconnects,
        // reloading everything: nothing is silently skipped.
        ConsoleFeed(broadcast::channel(1024).0)
    }
}

impl ConsoleFeed {
    pub fn publish(&self, customer: &CustomerId) {
        let _ = self.0.send(customer.clone());
    }

    pub fn subscribe(&self) -> broadcast::Receiver<CustomerId> {
        self.0.subscribe()
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
