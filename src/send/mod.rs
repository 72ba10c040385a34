//! Sending replies out through a channel. The outbox runner calls a `ChannelSender` per
//! channel; each reports success, a retryable failure (with the platform's Retry-After when
//! it gave one) or a permanent failure that goes to the dead-letter list.

pub mod action_tokens;
pub mod meta;
pub mod pacer;
pub mod webchat;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::BoxFuture;

use adapters::rendered::RenderedReply;
use flows::Channel;

use crate::store::OutboxEntry;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    #[error("retryable: {reason}")]
    Retryable {
        reason: String,
        retry_after: Option<Duration>,
        /// Parts of this reply the platform accepted before the failure (from the start of
        /// the reply, including parts sent on earlier attempts).
        parts_sent: u32,
    },
    #[error("permanent: {0}")]
    Permanent(String),
}

/// One send: the stored entry (ids, recipient, idempotency key) and its localized rendering.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub entry: OutboxEntry,
    pub rendered: RenderedReply,
    /// When the reply was created, already formatted for the customer.
    pub time: String,
}

/// On success, the platform's ids of the messages the reply became (may be empty).
pub type SendResult = Result<Vec<String>, SendError>;

pub trait ChannelSender: Send + Sync + 'static {
    fn send(&self, outgoing: Outgoing) -> BoxFuture<'_, SendResult>;
}

/// The sender of each configured channel.
#[derive(Clone, Default)]
pub struct Senders(HashMap<Channel, Arc<dyn ChannelSender>>);

impl Senders {
    pub fn insert(&mut self, channel: Channel, sender: Arc<dyn ChannelSender>) {
        self.0.insert(channel, sender);
    }

    pub fn get(&self, channel: Channel) -> Option<Arc<dyn ChannelSender>> {
        self.0.get(&channel).cloned()
    }
}
