//! `souk store copy --from sled --to postgres`: a shop moves from the embedded store to a
//! database. The sled side walks its trees and hands typed records on
//! (`sled_store/export.rs`); the database side writes them in one transaction
//! (`postgres/import.rs`), so a copy lands whole or not at all. Records flow through a small
//! bounded channel: a store of a million history records never sits in memory at once.

#[cfg(feature = "postgres")]
use flows::booking::{Booking, BookingId, Busy, StaffId};
#[cfg(feature = "postgres")]
use flows::{Conversation, Customer, CustomerId, Identity, Order, OrderId, Sku, Timestamp};

use super::settings::StoreSettings;
#[cfg(feature = "postgres")]
use super::{
    ConsoleSession, ConversationSummary, DeadLetter, DeliveryRecord, HistoryEntry, InboxEntry,
    Invite, KnownDevice, LinkCode, MergeRecord, Operator, OutboxEntry, PaymentJob, PaymentSession,
    SentRecord, SetAside, TimerEntry,
};
use super::{StoreError, StoreResult};

/// How many records of each kind a copy moved, in the order they were copied.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyReport {
    pub counts: Vec<(&'static str, u64)>,
    /// Records that did not decode (each logged): left behind, as the store's own lists
    /// skip them.
    pub skipped: u64,
}

impl CopyReport {
    pub fn total(&self) -> u64 {
        self.counts.iter().map(|(_, n)| n).sum()
    }

    #[cfg(feature = "postgres")]
    fn count(&mut self, kind: &'static str) {
        match self.counts.iter_mut().find(|(known, _)| *known == kind) {
            Some((_, n)) => *n += 1,
            None => self.counts.push((kind, 1)),
        }
    }
}

/// One record of a store, as every backend understands it: the typed value and whatever
/// its key said that the value does not (sequence numbers, digests, tokens).
// Large variants are fine: a few hundred wait in the channel at most.
#[cfg(feature = "postgres")]
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone)]
pub(super) enum Record {
    Customer(Customer),
    Audit(crate::store::AuditEntry),
    Identity {
        identity: Identity,
        customer: CustomerId,
    },
    Blocked(Identity),
    LinkCode {
        code: String,
        record: LinkCode,
    },
    Merge(MergeRecord),
    /// A dedup key and when it was seen (`None`: the store did not say; kept as seen now).
    Processed {
        dedup_key: String,
        seen_at: Option<Timestamp>,
    },
    /// An event waiting for its step; `seq` is its number.
    Inbox(InboxEntry),
    StepAttempts {
        seq: u64,
        attempts: u32,
    },
    SetAside {
        seq: u64,
        record: SetAside,
    },
    Conversation(Conversation),
    /// One stored history record (a step's entries), under its number.
    History {
        id: u64,
        customer: CustomerId,
        entries: Vec<HistoryEntry>,
    },
    /// A pending send; `id` is its number.
    Outbox(OutboxEntry),
    Sent(SentRecord),
    Delivery {
        id: u64,
        record: DeliveryRecord,
    },
    DeadLetter {
        id: u64,
        letter: DeadLetter,
    },
    /// A timer at its true due time.
    Timer(TimerEntry),
    Order(Order),
    PaymentJob(PaymentJob),
    PayToken {
        digest: Vec<u8>,
        order: OrderId,
    },
    PaymentSession {
        id: String,
        session: PaymentSession,
    },
    /// Units sold of a SKU since the stock base, or its level then (a store keeps them
    /// apart; either may come first).
    Stock {
        sku: Sku,
        sold: Option<u32>,
        level: Option<u32>,
    },
    StockBase(String),
    Summary(ConversationSummary),
    Operator(Operator),
    ConsoleSession {
        digest: Vec<u8>,
        session: ConsoleSession,
    },
    KnownDevice {
        digest: Vec<u8>,
        device: KnownDevice,
    },
    Invite {
        digest: Vec<u8>,
        invite: Invite,
    },
    SetupToken {
        digest: Vec<u8>,
        expires_at: Timestamp,
    },
    CallbackToken {
        token: String,
        action: String,
    },
    Calendar {
        staff: StaffId,
        entries: Vec<Busy>,
    },
    Booking(Booking),
    /// A calendar link's token; comes after its booking.
    BookingToken {
        token: String,
        booking: BookingId,
    },
    /// A record that did not decode (logged where it was found).
    Unreadable,
}

#[cfg(feature = "postgres")]
impl Record {
    /// What the report calls this kind of record.
    fn kind(&self) -> &'static str {
        match self {
            Record::Customer(_) => "customers",
            Record::Audit(_) => "audit entries",
            Record::Identity { .. } => "identities",
            Record::Blocked(_) => "blocked identities",
            Record::LinkCode { .. } => "link codes",
            Record::Merge(_) => "merges",
            Record::Processed { .. } => "dedup keys",
            Record::Inbox(_) => "inbox events",
            Record::StepAttempts { .. } => "step attempt counts",
            Record::SetAside { .. } => "set-aside events",
            Record::Conversation(_) => "conversations",
            Record::History { .. } => "history records",
            Record::Outbox(_) => "pending sends",
            Record::Sent(_) => "sent records",
            Record::Delivery { .. } => "delivery statuses",
            Record::DeadLetter { .. } => "dead letters",
            Record::Timer(_) => "timers",
            Record::Order(_) => "orders",
            Record::PaymentJob(_) => "payment jobs",
            Record::PayToken { .. } => "pay tokens",
            Record::PaymentSession { .. } => "payment sessions",
            Record::Stock { .. } => "stock counts",
            Record::StockBase(_) => "stock base",
            Record::Summary(_) => "summaries",
            Record::Operator(_) => "operators",
            Record::ConsoleSession { .. } => "console sessions",
            Record::KnownDevice { .. } => "known devices",
            Record::Invite { .. } => "invites",
            Record::SetupToken { .. } => "set-up tokens",
            Record::CallbackToken { .. } => "callback tokens",
            Record::Calendar { .. } => "calendars",
            Record::Booking(_) => "bookings",
            Record::BookingToken { .. } => "booking links",
            Record::Unreadable => "unreadable",
        }
    }
}

/// Copies the sled store at `settings.path` into the PostgreSQL database of
/// `settings.postgres` (migrated first), in one transaction. souk must be stopped (sled's
/// file lock says whether it is), and the database must hold no souk data yet.
pub async fn copy_sled_to_postgres(settings: &StoreSettings) -> StoreResult<CopyReport> {
    #[cfg(feature = "postgres")]
    {
        copy(settings).await
    }
    #[cfg(not(feature = "postgres"))]
    {
        let _ = settings;
        Err(StoreError::Engine(
            "this souk was built without PostgreSQL (the `postgres` feature)".into(),
        ))
    }
}

#[cfg(feature = "postgres")]
async fn copy(settings: &StoreSettings) -> StoreResult<CopyReport> {
    use super::postgres::{Import, PgStore};
    use super::sled_store::SledTrees;

    // The target's settings are checked as `souk serve` on PostgreSQL would (the schema's
    // name goes into SQL), whatever backend the file names today.
    let mut target_settings = settings.clone();
    target_settings.backend = super::settings::Backend::Postgres;
    target_settings
        .check()
        .map_err(|(key, why)| StoreError::Engine(format!("{key} {why}")))?;
    let path = settings.path.clone();
    // First the source: a running souk holds it, and then nothing is touched.
    let source = tokio::task::spawn_blocking(move || SledTrees::open_for_export(&path))
        .await
        .map_err(|error| StoreError::Engine(format!("opening the sled store: {error}")))??;
    let target = PgStore::open(&target_settings).await?;
    let mut import = Import::begin(&target, &target_settings.describe()).await?;
    let (sender, mut records) = tokio::sync::mpsc::channel::<Record>(256);
    let walk = tokio::task::spawn_blocking(move || {
        source.export(&mut |record| {
            sender
                .blocking_send(record)
                .map_err(|_| StoreError::Engine("the copy stopped".into()))
        })
    });
    let mut report = CopyReport::default();
    let mut failed = None;
    while let Some(record) = records.recv().await {
        if matches!(record, Record::Unreadable) {
            report.skipped += 1;
            continue;
        }
        let kind = record.kind();
        if let Err(error) = import.put(record).await {
            failed = Some(error);
            break;
        }
        report.count(kind);
    }
    // The walk ends (its next send fails) and lets go of the sled store before we return.
    drop(records);
    let walked = walk
        .await
        .map_err(|error| StoreError::Engine(format!("reading the sled store: {error}")))?;
    if let Some(error) = failed {
        return Err(error);
    }
    walked?;
    import.finish().await?;
    Ok(report)
}
