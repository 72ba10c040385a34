//! Every record of the sled store, tree by tree, handed to a sink one at a time as a typed
//! `copy::Record` (what `souk store copy` moves to another backend). Index entries that only
//! point at records found elsewhere (sent by outbox id in stores written before, payment
//! sessions by order, the old dedup age index, timer slots) are not handed on: slots are read to give each timer its
//! true due time. A record that does not decode is logged and handed on as `Unreadable`, so
//! the copy can say how many it left behind.

use std::path::Path;

use serde::de::DeserializeOwned;
use sled::{IVec, Tree};

use flows::booking::{BookingId, StaffId};
use flows::{Channel, CustomerId, Identity, OrderId, Sku, Timestamp};

use super::timer_slots::Slot;
use super::{SledTrees, engine};
use crate::store::codec::decode;
use crate::store::copy::Record;
use crate::store::history_chunk::decode_chunk;
use crate::store::keys::{read_u64, timer_slot_key};
use crate::store::records::TimerEntry;
use crate::store::{StoreError, StoreResult};

/// Where the records go; an error stops the walk.
pub(in crate::store) type Sink<'a> = dyn FnMut(Record) -> StoreResult<()> + 'a;

/// What a key and value say, or why they say nothing readable.
type Read = Result<Record, String>;

impl SledTrees {
    /// Opens the store at `path` to copy it. It must exist (sled would create an empty one),
    /// and nothing may hold it: a running souk keeps sled's file lock for as long as it runs,
    /// and a copy taken under it would miss what souk writes meanwhile.
    pub(in crate::store) fn open_for_export(path: &Path) -> StoreResult<SledTrees> {
        if !path.join("db").is_file() {
            return Err(StoreError::Engine(format!(
                "no sled store at {} (store.path)",
                path.display()
            )));
        }
        SledTrees::open(path).map_err(|error| {
            if error.to_string().contains("could not acquire lock") {
                StoreError::Engine(format!(
                    "the sled store at {} is in use: stop souk before copying it ({error})",
                    path.display()
                ))
            } else {
                error
            }
        })
    }

    /// Hands every record to `sink`, directory first, bookings last.
    pub(in crate::store) fn export(&self, sink: &mut Sink) -> StoreResult<()> {
        walk(&self.customers, sink, |_, value| {
            decoded("customer", value).map(Record::Customer)
        })?;
        walk(&self.identities, sink, |key, value| {
            Ok(Record::Identity {
                identity: identity(key)?,
                customer: CustomerId(text(value)?),
            })
        })?;
        walk(&self.channel_state, sink, channel_state)?;
        // `processed_age` is not walked: the marks it indexes are all in `processed`. A key
        // is handed on once: the target keeps one mark per key (a crash between a round's
        // record and its events leaving the log can mark one twice).
        let mut marked = std::collections::HashSet::new();
        walk(&self.processed, sink, |key, value| {
            Ok(Record::Processed {
                dedup_key: text(key)?,
                seen_at: read_u64(value)
                    .and_then(|at| i64::try_from(at).ok())
                    .map(Timestamp),
            })
        })?;
        self.done.visit(|round, mark| match mark {
            Ok((dedup_key, seen_at)) => {
                if self
                    .processed
                    .contains_key(dedup_key.as_bytes())
                    .map_err(engine)?
                    || !marked.insert(dedup_key.clone())
                {
                    return Ok(());
                }
                sink(Record::Processed {
                    dedup_key,
                    seen_at: Some(seen_at),
                })
            }
            Err(error) => unreadable("done_rounds", &round.to_be_bytes(), &error, sink),
        })?;
        walk(&self.inbox, sink, |key, value| {
            let mut entry: crate::store::InboxEntry = decoded("inbox entry", value)?;
            entry.seq = number(key)?;
            Ok(Record::Inbox(entry))
        })?;
        for entry in self.log.pending_entries()? {
            sink(Record::Inbox(entry))?;
        }
        walk(&self.set_aside, sink, set_aside)?;
        walk(&self.conversations, sink, |_, value| {
            decoded("conversation", value).map(Record::Conversation)
        })?;
        // Numbered in log order, which is each customer's order (the target reads a
        // customer's history by this id).
        let mut id = 0u64;
        self.history_log.visit(&mut |record| {
            id += 1;
            let Some(record) = record else {
                unreadable(
                    "history log",
                    &id.to_be_bytes(),
                    "no customer in the record",
                    sink,
                )?;
                return Ok(true);
            };
            if record.sent.is_some() {
                match decoded::<Vec<crate::store::SentRecord>>("sent records", record.chunk) {
                    Ok(sent) => {
                        for record in sent {
                            sink(Record::Sent(record))?;
                        }
                    }
                    Err(error) => unreadable("history log", &id.to_be_bytes(), &error, sink)?,
                }
                return Ok(true);
            }
            match decode_chunk(record.chunk) {
                Ok(entries) => sink(Record::History {
                    id,
                    customer: record.customer,
                    entries,
                })?,
                Err(error) => {
                    unreadable("history log", &id.to_be_bytes(), &error.to_string(), sink)?
                }
            }
            Ok(true)
        })?;
        walk(&self.outbox, sink, |key, value| {
            let mut entry: crate::store::OutboxEntry = decoded("outbox entry", value)?;
            entry.id = number(key)?;
            Ok(Record::Outbox(entry))
        })?;
        self.outbox_rounds.visit(|round, sends| match sends {
            Ok(sends) => sends
                .into_iter()
                .try_for_each(|send| sink(Record::Outbox(send))),
            Err(error) => unreadable("outbox_rounds", &round.to_be_bytes(), &error, sink),
        })?;
        // Each record is copied once, wherever it is. Now it is under its `#` key alone.
        // Stores written before keep it under the platform key, with under `#` an empty
        // value or (older still) the same record again.
        let records = self.sent.iter().filter(|item| {
            let Ok((key, value)) = item else { return true };
            let Some(platform) = key.strip_prefix(b"#").and_then(|rest| rest.get(8..)) else {
                return true;
            };
            !value.is_empty() && !self.sent.contains_key(platform).unwrap_or(false)
        });
        each("sent", records, sink, |_, value| {
            decoded("sent record", value).map(Record::Sent)
        })?;
        walk(&self.deliveries, sink, |key, value| {
            let id = key.get(key.len().saturating_sub(8)..).ok_or("short key")?;
            Ok(Record::Delivery {
                id: number(id)?,
                record: decoded("delivery", value)?,
            })
        })?;
        walk(&self.dead, sink, |key, value| {
            Ok(Record::DeadLetter {
                id: number(key)?,
                letter: decoded("dead letter", value)?,
            })
        })?;
        self.export_timers(sink)?;
        walk(&self.orders, sink, |_, value| {
            decoded("order", value).map(Record::Order)
        })?;
        // `psord` keys index payment sessions by order; the sessions say it themselves.
        let commerce_records = self
            .commerce
            .iter()
            .filter(|item| not_under(item, b"psord\0"));
        each("commerce", commerce_records, sink, commerce)?;
        walk(&self.summaries, sink, |_, value| {
            decoded("summary", value).map(Record::Summary)
        })?;
        walk(&self.console, sink, console)?;
        // In key order bookings (`b`) come before their calendar-link tokens (`ics`).
        walk(&self.bookings, sink, bookings)
    }

    /// Each timer at its true due time: an index entry may sit earlier than its slot says
    /// (a timer pushed back is moved only when its old time comes, `timer_slots.rs`).
    fn export_timers(&self, sink: &mut Sink) -> StoreResult<()> {
        for item in self.timers.iter() {
            let (key, value) = item.map_err(engine)?;
            let timer: TimerEntry = match decoded("timer", &value) {
                Ok(timer) => timer,
                Err(error) => {
                    unreadable("timers", &key, &error, sink)?;
                    continue;
                }
            };
            let slot = self
                .timer_slots
                .get(timer_slot_key(&timer.customer, timer.kind))
                .map_err(engine)?
                .and_then(|raw| Slot::read(&raw));
            let due = match slot {
                Some(slot) if slot.indexed == key.as_ref() => slot.due,
                // The slot moved on to an entry of its own (older stores): that one is the
                // timer, as the database keeps one per conversation and kind.
                Some(_) => continue,
                // An entry from before slots: due when it says.
                None => timer.due,
            };
            sink(Record::Timer(TimerEntry { due, ..timer }))?;
        }
        Ok(())
    }
}

/// Hands on what `read` makes of every entry of `tree`.
fn walk(tree: &Tree, sink: &mut Sink, read: impl Fn(&[u8], &[u8]) -> Read) -> StoreResult<()> {
    let name = String::from_utf8_lossy(&tree.name()).into_owned();
    each(&name, tree.iter(), sink, read)
}

fn each(
    tree: &str,
    items: impl Iterator<Item = sled::Result<(IVec, IVec)>>,
    sink: &mut Sink,
    read: impl Fn(&[u8], &[u8]) -> Read,
) -> StoreResult<()> {
    for item in items {
        let (key, value) = item.map_err(engine)?;
        match read(&key, &value) {
            Ok(record) => sink(record)?,
            Err(error) => unreadable(tree, &key, &error, sink)?,
        }
    }
    Ok(())
}

/// Whether a scanned entry's key is outside `prefix` (an error is kept, to be reported).
fn not_under(item: &sled::Result<(IVec, IVec)>, prefix: &[u8]) -> bool {
    item.as_ref()
        .map_or(true, |(key, _)| !key.starts_with(prefix))
}

fn unreadable(tree: &str, key: &[u8], error: &str, sink: &mut Sink) -> StoreResult<()> {
    tracing::warn!(tree, key = ?String::from_utf8_lossy(key), %error, "not copied: unreadable");
    sink(Record::Unreadable)
}

/// `channel_state`: blocked identities, link codes, merges, callback tokens.
fn channel_state(key: &[u8], value: &[u8]) -> Read {
    match kind_of(key) {
        (b"blocked", rest) => identity(rest).map(Record::Blocked),
        (b"link", code) => Ok(Record::LinkCode {
            code: text(code)?,
            record: decoded("link code", value)?,
        }),
        (b"merge", _) => decoded("merge record", value).map(Record::Merge),
        (b"cb", token) => Ok(Record::CallbackToken {
            token: text(token)?,
            action: text(value)?,
        }),
        _ => Err("unknown key".into()),
    }
}

/// `set_aside`: attempt counts (`a`) and events set aside (`d`), by inbox number.
fn set_aside(key: &[u8], value: &[u8]) -> Read {
    match kind_of(key) {
        (b"a", seq) => Ok(Record::StepAttempts {
            seq: number(seq)?,
            attempts: count(value)?,
        }),
        (b"d", seq) => Ok(Record::SetAside {
            seq: number(seq)?,
            record: decoded("set-aside event", value)?,
        }),
        _ => Err("unknown key".into()),
    }
}

/// `commerce`: payment jobs, pay tokens, payment sessions, stock.
fn commerce(key: &[u8], value: &[u8]) -> Read {
    match kind_of(key) {
        (b"job", _) => decoded("payment job", value).map(Record::PaymentJob),
        (b"pay", digest) => Ok(Record::PayToken {
            digest: digest.to_vec(),
            order: OrderId(text(value)?),
        }),
        (b"psess", id) => Ok(Record::PaymentSession {
            id: text(id)?,
            session: decoded("payment session", value)?,
        }),
        (b"sold", sku) => Ok(Record::Stock {
            sku: Sku(text(sku)?),
            sold: Some(count(value)?),
            level: None,
        }),
        (b"level", sku) => Ok(Record::Stock {
            sku: Sku(text(sku)?),
            sold: None,
            level: Some(count(value)?),
        }),
        (b"stock-base", []) => text(value).map(Record::StockBase),
        _ => Err("unknown key".into()),
    }
}

/// `console`: operators, their sessions and devices, invites, the set-up token.
fn console(key: &[u8], value: &[u8]) -> Read {
    match kind_of(key) {
        (b"op", _) => decoded("operator", value).map(Record::Operator),
        (b"session", digest) => Ok(Record::ConsoleSession {
            digest: digest.to_vec(),
            session: decoded("console session", value)?,
        }),
        (b"device", digest) => Ok(Record::KnownDevice {
            digest: digest.to_vec(),
            device: decoded("known device", value)?,
        }),
        (b"invite", digest) => Ok(Record::Invite {
            digest: digest.to_vec(),
            invite: decoded("invite", value)?,
        }),
        (b"audit", _) => decoded("audit entry", value).map(Record::Audit),
        (b"setup", digest) => {
            let expires: [u8; 8] = value.try_into().map_err(|_| "not a time")?;
            Ok(Record::SetupToken {
                digest: digest.to_vec(),
                expires_at: Timestamp(i64::from_be_bytes(expires)),
            })
        }
        _ => Err("unknown key".into()),
    }
}

/// `bookings`: bookings, calendars, calendar-link tokens (`sled_store/bookings.rs`).
fn bookings(key: &[u8], value: &[u8]) -> Read {
    match kind_of(key) {
        (b"b", _) => decoded("booking", value).map(Record::Booking),
        (b"cal", staff) => Ok(Record::Calendar {
            staff: StaffId(text(staff)?),
            entries: decoded("calendar", value)?,
        }),
        (b"ics", token) => Ok(Record::BookingToken {
            token: text(token)?,
            booking: BookingId(text(value)?),
        }),
        _ => Err("unknown key".into()),
    }
}

/// A key's kind (up to its first zero byte) and the rest; a key without one is all kind.
fn kind_of(key: &[u8]) -> (&[u8], &[u8]) {
    match key.iter().position(|b| *b == 0) {
        Some(at) => {
            let (kind, rest) = key.split_at(at);
            (kind, rest.get(1..).unwrap_or_default())
        }
        None => (key, &[]),
    }
}

/// An identity key: the channel's name, a zero byte, the platform's id (`keys.rs`).
fn identity(key: &[u8]) -> Result<Identity, String> {
    let (channel, external_id) = kind_of(key);
    let channel = Channel::ALL
        .into_iter()
        .find(|known| known.name().as_bytes() == channel)
        .ok_or("unknown channel")?;
    Ok(Identity::new(channel, text(external_id)?))
}

fn decoded<T: DeserializeOwned>(what: &'static str, raw: &[u8]) -> Result<T, String> {
    decode(what, raw).map_err(|error| error.to_string())
}

fn text(raw: &[u8]) -> Result<String, String> {
    String::from_utf8(raw.to_vec()).map_err(|_| "not UTF-8".into())
}

/// A big-endian number of exactly eight bytes (sequences, ids).
fn number(raw: &[u8]) -> Result<u64, String> {
    <[u8; 8]>::try_from(raw)
        .map(u64::from_be_bytes)
        .map_err(|_| "not a number".into())
}

/// A big-endian count of exactly four bytes (attempts, units).
fn count(raw: &[u8]) -> Result<u32, String> {
    <[u8; 4]>::try_from(raw)
        .map(u32::from_be_bytes)
        .map_err(|_| "not a count".into())
}
