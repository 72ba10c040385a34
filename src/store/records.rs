//! What the store keeps besides the core's own types: the durable inbox, the outbox, timers,
//! history and dead letters. All of them are serialized inside a versioned envelope.

use serde::{Deserialize, Serialize};

use flows::{
    Channel, CustomerId, Event, Locale, Money, Order, OrderId, OrderStatus, Reply, TimerKind,
    Timestamp,
};

/// An event accepted from outside and persisted before we answered the platform. Removed in
/// the same transaction that commits its step, so a crash in between re-drives it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InboxEntry {
    /// Assigned by the store; orders the inbox.
    #[serde(default)]
    pub seq: u64,
    /// The id we gave the sender (web chat `{"id"}`), carried to replies as `reply_to`.
    pub public_id: String,
    /// Provider message id (or our own), used to drop duplicates.
    pub dedup_key: Option<String>,
    pub customer: CustomerId,
    pub event: Event,
    pub received_at: Timestamp,
    /// With several replicas: the lease epoch of its shard under which this replica took the
    /// event to step it (the step's commit is fenced on it). Not stored in the record.
    #[serde(skip)]
    pub claim: Option<u64>,
}

/// The outcome of persisting an inbound event. Not boxed: it lives for one call.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Ingested {
    New(InboxEntry),
    Duplicate,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxEntry {
    pub id: u64,
    pub customer: CustomerId,
    pub channel: Channel,
    /// The channel-specific address (web chat: the session digest).
    pub recipient: String,
    pub locale: Locale,
    pub reply: Reply,
    pub reply_to: Option<String>,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub created_at: Timestamp,
    pub last_error: Option<String>,
    /// Parts of a multi-message reply already accepted by the platform; a retry resumes
    /// after them instead of sending them again.
    #[serde(default)]
    pub parts_sent: u32,
    /// The customer's last message on this channel when the reply was committed: usually
    /// enough to know the messaging window is open without reading the conversation.
    #[serde(default)]
    pub last_inbound_at: Option<Timestamp>,
}

impl OutboxEntry {
    /// Stable across retries and restarts, so a platform that dedups on it sees one send.
    pub fn idempotency_key(&self) -> String {
        format!("souk-{}-{}", self.customer, self.id)
    }
}

/// A payment session souk created at a provider (a Stripe Checkout Session): what it must
/// charge. A provider's word that a session was paid counts only for such a session, at this
/// amount and currency.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentSession {
    pub order: flows::OrderId,
    pub amount: flows::Money,
    pub created_at: Timestamp,
}

/// Who looked at or did what to a customer's data, and when: operators' views, exports,
/// erasures, takeovers, order changes. Kept for the shop's accountability.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: Timestamp,
    /// The operator's login, or `admin-api` for the shop's own API and command line.
    pub actor: String,
    /// What was done: `view`, `export`, `takeover`, `hand_back`, `order_status`, `unlink`...
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer: Option<CustomerId>,
    /// Anything that says more (an order id and its new status), short.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// An inbound event taken out of the inbox because its step kept failing (it panicked, or
/// the process went down while it ran): kept for an admin to look at and retry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetAside {
    pub entry: InboxEntry,
    pub reason: String,
    pub attempts: u32,
    pub set_aside_at: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeadLetter {
    pub entry: OutboxEntry,
    pub reason: String,
    pub failed_at: Timestamp,
}

/// A send to be created by a commit; the store assigns its id.
#[derive(Debug, Clone, PartialEq)]
pub struct NewOutbox {
    pub channel: Channel,
    pub last_inbound_at: Option<Timestamp>,
    pub recipient: String,
    pub locale: Locale,
    pub reply: Reply,
    pub reply_to: Option<String>,
}

impl OutboxEntry {
    /// How a step's history shows this send, made at `at`.
    pub fn as_history(&self, at: Timestamp) -> HistoryEntry {
        HistoryEntry::Out {
            at,
            outbox_id: self.id,
            channel: self.channel,
            locale: self.locale,
            reply: self.reply.clone(),
        }
    }
}

impl NewOutbox {
    /// The send as the outbox keeps it, under the id the store gave it.
    pub fn entry(&self, id: u64, customer: &CustomerId, now: Timestamp) -> OutboxEntry {
        OutboxEntry {
            id,
            customer: customer.clone(),
            channel: self.channel,
            recipient: self.recipient.clone(),
            locale: self.locale,
            reply: self.reply.clone(),
            reply_to: self.reply_to.clone(),
            attempts: 0,
            next_attempt_at: now,
            created_at: now,
            last_error: None,
            parts_sent: 0,
            last_inbound_at: self.last_inbound_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimerEntry {
    pub customer: CustomerId,
    pub kind: TimerKind,
    pub due: Timestamp,
}

impl TimerEntry {
    /// The inbox event a timer becomes when it fires at `now`.
    pub fn fired(&self, now: Timestamp) -> InboxEntry {
        InboxEntry {
            claim: None,
            seq: 0,
            public_id: format!("timer-{}-{}", self.kind.name(), self.due.millis()),
            dedup_key: None,
            customer: self.customer.clone(),
            event: Event::TimerFired(self.kind),
            received_at: now,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum TimerChange {
    Set(TimerEntry),
    Cancel {
        customer: CustomerId,
        kind: TimerKind,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "direction")]
pub enum HistoryEntry {
    In {
        at: Timestamp,
        channel: Channel,
        public_id: String,
        event: Event,
    },
    Out {
        at: Timestamp,
        outbox_id: u64,
        channel: Channel,
        locale: Locale,
        reply: Reply,
    },
    /// What the bot would have said while an operator owned the conversation: not sent,
    /// shown to the operator.
    Held {
        at: Timestamp,
        locale: Locale,
        reply: Reply,
    },
    /// An operator took over, reassigned or handed back (their words are `Out` entries).
    Operator { at: Timestamp, event: Event },
    /// A private note for the team; never sent.
    Note {
        at: Timestamp,
        operator: flows::OperatorId,
        text: String,
    },
    /// The conversation asked for a person (the customer did, or the bot after misses):
    /// with the operators' first reply and the hand back, what the shop's response and
    /// resolution times are measured from.
    Handoff {
        at: Timestamp,
        reason: flows::HandoffReason,
    },
    /// A message the rules could not place was settled: by the language model's reading,
    /// or (it failed, was unsure or late) by the rules after all. The model's fallback rate.
    Reading { at: Timestamp, by_model: bool },
}

impl HistoryEntry {
    pub fn at(&self) -> Timestamp {
        match self {
            HistoryEntry::In { at, .. }
            | HistoryEntry::Out { at, .. }
            | HistoryEntry::Held { at, .. }
            | HistoryEntry::Operator { at, .. }
            | HistoryEntry::Note { at, .. }
            | HistoryEntry::Handoff { at, .. }
            | HistoryEntry::Reading { at, .. } => *at,
        }
    }
}

/// Everything one step writes, committed in one transaction.
#[derive(Debug, Clone)]
pub struct StepCommit {
    /// The inbox entry this step consumed.
    pub inbox_seq: u64,
    pub conversation: flows::Conversation,
    /// The customer's message, an operator's action, replies held for the operator.
    pub history: Vec<HistoryEntry>,
    pub outbox: Vec<NewOutbox>,
    pub timers: Vec<TimerChange>,
    pub orders: Vec<Order>,
    /// Status changes of stored orders; the change to paid also takes the units out of stock.
    pub order_updates: Vec<OrderUpdate>,
    /// Payment links to create once the step is durable.
    pub payment_jobs: Vec<PaymentJob>,
    pub now: Timestamp,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderUpdate {
    pub order: OrderId,
    pub status: OrderStatus,
    pub tracking: Option<String>,
    /// The operator's display name, for a change made by hand; kept in the order's history.
    pub by: Option<String>,
}

/// A payment link to create with the provider, kept until the link reached the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PaymentJob {
    pub order: OrderId,
    pub customer: CustomerId,
    pub total: Money,
    /// The order's link number: with the order id, the provider's idempotency key.
    pub attempt: u32,
    /// When the step asked for the link. Whatever the request derives from time (Stripe's
    /// `expires_at`) counts from here, so a retry sends the same body under the same key.
    pub created_at: Timestamp,
    /// Calls to the provider so far.
    pub tries: u32,
    pub next_try_at: Timestamp,
    pub last_error: Option<String>,
}

impl PaymentJob {
    pub fn idempotency_key(&self) -> String {
        format!("souk-{}-{}", self.order, self.attempt)
    }
}

/// What one group commit writes in one transaction: inbound events to accept and steps
/// to commit, from every request and worker that asked at about the same time.
#[derive(Debug, Clone, Default)]
pub struct WriteGroup {
    pub ingest: Vec<InboxEntry>,
    pub steps: Vec<StepCommit>,
    /// Sends the platform accepted: out of the outbox, with what the platform called them.
    pub delivered: Vec<Delivered>,
    /// The leases these writes need (the shards of their conversations): the transaction
    /// fails with `StoreError::Fenced`, writing nothing, if any moved to another replica.
    pub fence: Option<Fence>,
}

/// One shard leased to a replica; `epoch` grows at every change of holder (a fencing
/// token: an old holder's writes carry an old epoch).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Lease {
    pub shard: u32,
    pub epoch: u64,
}

/// What a replica must still hold for a write to land.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fence {
    pub replica: String,
    pub leases: Vec<Lease>,
}

/// One send the platform accepted (in one or more parts, each with the platform's id).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub outbox_id: u64,
    pub sent: Vec<SentRecord>,
}

/// A group's results, in the order of its parts.
#[derive(Debug, Clone, Default)]
pub struct GroupWritten {
    /// One per event to ingest.
    pub ingested: Vec<Ingested>,
    /// One per step: the sends it created.
    pub created: Vec<Vec<OutboxEntry>>,
    /// With several replicas: earlier events of this part's conversations that another
    /// replica accepted and this one had not taken yet, taken now (oldest first). They are
    /// stepped before the part's new events, so a conversation's order holds whichever
    /// replica each of its messages reached.
    pub taken: Vec<InboxEntry>,
}

/// One of our messages as the platform knows it: the console finds its delivery statuses
/// by the platform id.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SentRecord {
    pub customer: CustomerId,
    pub outbox_id: u64,
    pub channel: Channel,
    pub platform_id: String,
    pub at: Timestamp,
}

/// A delivery status from the platform (sent, delivered, read, failed), possibly arriving
/// before we stored the send it belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryRecord {
    pub channel: Channel,
    pub platform_id: String,
    pub state: String,
    pub at: Timestamp,
    pub error: Option<String>,
}
