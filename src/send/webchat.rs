//! Web chat delivery: replies are pushed to the browser tabs listening on the session's
//! server-sent-event stream. A tab that is closed misses nothing: the page loads the
//! history (kept in the store) when it opens, and dedups by reply id.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::future::BoxFuture;
use tokio::sync::broadcast;

use super::{ChannelSender, Outgoing, SendResult};
use crate::driver::live::{LiveNews, Relay};

/// One serialized reply on its way to the browser.
#[derive(Debug, Clone)]
pub struct WebChatPush {
    pub id: u64,
    pub json: Arc<str>,
}

/// Replies a slow tab may fall behind by before it must reload history.
const TAB_BACKLOG: usize = 64;

#[derive(Default)]
pub struct WebChatHub {
    sessions: Mutex<Sessions>,
    /// Tabs open on other replicas (see `driver/live.rs`).
    relay: Relay,
}

#[derive(Default)]
struct Sessions {
    channels: HashMap<String, broadcast::Sender<WebChatPush>>,
    /// Size after the last sweep of channels nobody listens to any more.
    swept_at: usize,
}

impl WebChatHub {
    /// Listens for replies to one session (keyed by the session's digest, never the token).
    pub fn subscribe(&self, digest: &str) -> broadcast::Receiver<WebChatPush> {
        let mut sessions = self
            .sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        // Closed tabs leave channels behind; sweeping whenever the map doubles keeps it
        // bounded by the live tabs at amortized constant cost.
        if sessions.channels.len() > 2 * sessions.swept_at.max(64) {
            sessions
                .channels
                .retain(|_, sender| sender.receiver_count() > 0);
            sessions.swept_at = sessions.channels.len();
        }
        sessions
            .channels
            .entry(digest.to_owned())
            .or_insert_with(|| broadcast::channel(TAB_BACKLOG).0)
            .subscribe()
    }

    pub fn new(relay: Relay) -> WebChatHub {
        WebChatHub {
            sessions: Mutex::default(),
            relay,
        }
    }

    /// A reply for the session's tabs, on whichever replica they are connected to.
    fn publish(&self, digest: &str, push: WebChatPush) {
        self.relay.send(LiveNews::WebChat {
            to: digest.to_owned(),
            id: push.id,
            json: push.json.clone(),
        });
        self.publish_here(digest, push);
    }

    /// Ends the session's streams on this replica: its tabs reconnect and reload the
    /// history (a reply too big to pass between replicas).
    pub fn cut(&self, digest: &str) {
        self.sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .channels
            .remove(digest);
    }

    /// Only this replica's tabs (a reply another replica announced).
    pub fn publish_here(&self, digest: &str, push: WebChatPush) {
        let mut sessions = self
            .sessions
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(sender) = sessions.channels.get(digest)
            && sender.send(push).is_err()
        {
            // Nobody listens any more: forget the session's channel.
            sessions.channels.remove(digest);
        }
    }
}

pub struct WebChatSender {
    hub: Arc<WebChatHub>,
}

impl WebChatSender {
    pub fn new(hub: Arc<WebChatHub>) -> WebChatSender {
        WebChatSender { hub }
    }
}

impl ChannelSender for WebChatSender {
    fn send(&self, outgoing: Outgoing) -> BoxFuture<'_, SendResult> {
        Box::pin(async move {
            let json = adapters::webchat::reply_json(
                &outgoing.rendered,
                outgoing.entry.id,
                outgoing.entry.reply_to.as_deref(),
                &outgoing.time,
            );
            self.hub.publish(
                &outgoing.entry.recipient,
                WebChatPush {
                    id: outgoing.entry.id,
                    json: json.to_string().into(),
                },
            );
            Ok(Vec::new())
        })
    }
}
