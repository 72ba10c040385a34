//! The history's log: every step's history record (what came in and the replies it made)
//! is appended to segment files of its own beside sled, with an index in memory, instead of
//! being inserted into sled's `history` tree.
//!
//! Why: history only ever grows at its end, but in sled it was keyed by customer, so each
//! step inserted at a scattered place in a tree that keeps growing. That one insert cost
//! about 11% of souk's CPU and 5 KB of disk writes per message (examples/store_cost.sh,
//! leaving it out): node splits and whole-node rewrites for a 0.5 KB record. An append to
//! a file costs the bytes.
//!
//! The rules that keep it exact:
//! - A round's records are appended and fsynced *before* its sled transaction (outside it:
//!   sled runs a transaction's closure holding its global lock), and the transaction writes
//!   the log's new end (`END_KEY` in the `history` tree) with the steps. So whatever sled
//!   holds, the log holds too; at start-up everything past the end sled committed (a round
//!   that never committed) is cut off. A round that fails undoes its append at once, so
//!   nothing uncommitted stays between committed records.
//! - Only committed records are in the index, so readers never see a round that failed.
//! - Rewrites (an erasure, the retention prune) replace a closed segment whole: written
//!   beside it, fsynced, renamed over it. The segment appends go to is closed first if it
//!   is one of them, and sled is flushed with the log's end before any rewrite, so a start
//!   never cuts a rewritten segment at an end recorded before the rewrite.
//! - Nothing is appended behind damage: a start that cannot read the end segment to its
//!   committed end appends to a new one.
//! - The index is rebuilt from the segments at start-up (each record names its customer).
//!
//! A record is one of two kinds: a step's history, or the platform's ids for one send (its
//! sent records, written when the platform accepted it). Sent records were inserts into
//! sled's `sent` tree at its growing end, which cost sled about 5% of souk's CPU per message
//! (examples/store_cost.sh, leaving them out); here they share the round's append and fsync.
//! They go with their customer's history: an erasure takes them, the prune ages them out.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::Write as _;
use std::os::unix::fs::FileExt as _;
use std::path::Path;
use std::sync::{Arc, Mutex, MutexGuard};

use flows::{CustomerId, Timestamp};

use super::segment_files::{HEADER_BYTES, MAX_RECORD_BYTES, Segments, put_record, record_at};
use crate::store::history_chunk::decode_chunk;
use crate::store::records::HistoryEntry;
use crate::store::{StoreError, StoreResult};

/// Where the committed end of the log is kept, in sled's `history` tree (history records
/// were keyed by customer id there, which is UTF-8 and never starts with 0xFF).
pub(super) const END_KEY: &[u8] = b"\xffend";

/// Appends move to a new segment past this size.
const SEGMENT_BYTES: u64 = 4 * 1024 * 1024;

/// Segments kept open for reading at most.
const MAX_READERS: usize = 64;

/// The committed end: the segment appends go to and its committed length.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct End {
    segment: u64,
    offset: u64,
}

impl End {
    pub(super) fn encode(&self) -> [u8; 16] {
        let mut raw = [0u8; 16];
        raw[..8].copy_from_slice(&self.segment.to_be_bytes());
        raw[8..].copy_from_slice(&self.offset.to_be_bytes());
        raw
    }

    fn decode(raw: &[u8]) -> Option<End> {
        let segment = u64::from_be_bytes(raw.get(..8)?.try_into().ok()?);
        let offset = u64::from_be_bytes(raw.get(8..16)?.try_into().ok()?);
        Some(End { segment, offset })
    }
}

/// Where one record is.
#[derive(Clone, Copy, Debug)]
struct Loc {
    segment: u64,
    offset: u64,
    /// With the header.
    len: u32,
    /// A send's sent records (its outbox id), not history.
    sent: Option<u64>,
}

#[derive(Clone, Copy)]
struct SegmentInfo {
    oldest: Timestamp,
    newest: Timestamp,
}

/// A record to append: whose it is, its newest entry's time, the encoded chunk; with
/// `sent`, a send's sent records under its outbox id instead of history.
pub(super) struct NewRecord {
    pub customer: CustomerId,
    pub newest: Timestamp,
    pub chunk: Vec<u8>,
    pub sent: Option<u64>,
}

/// One record read back.
pub(super) struct Read<'a> {
    pub customer: CustomerId,
    pub newest: Timestamp,
    pub chunk: &'a [u8],
    pub sent: Option<u64>,
}

/// Set in the id's length of a record holding sent records; the outbox id follows the time.
const SENT_FLAG: u16 = 0x8000;
/// The longest customer id a record can name (the length's other 15 bits).
const MAX_ID_BYTES: usize = (SENT_FLAG - 1) as usize;

/// The payload: the customer id's length (u16 LE, `SENT_FLAG` set for sent records) and
/// bytes, the newest entry's time (i64 LE), for sent records the outbox id (u64 LE), then
/// the chunk as the other backends store it.
fn payload(record: &NewRecord) -> Vec<u8> {
    let id = record.customer.0.as_bytes();
    let mut payload = Vec::with_capacity(2 + id.len() + 16 + record.chunk.len());
    let len = u16::try_from(id.len().min(MAX_ID_BYTES)).unwrap_or(0);
    let flag = if record.sent.is_some() { SENT_FLAG } else { 0 };
    payload.extend_from_slice(&(len | flag).to_le_bytes());
    payload.extend_from_slice(id);
    payload.extend_from_slice(&record.newest.0.to_le_bytes());
    if let Some(outbox_id) = record.sent {
        payload.extend_from_slice(&outbox_id.to_le_bytes());
    }
    payload.extend_from_slice(&record.chunk);
    payload
}

fn parse(payload: &[u8]) -> Option<Read<'_>> {
    let (len, rest) = payload.split_at_checked(2)?;
    let len = u16::from_le_bytes(len.try_into().ok()?);
    let (id, rest) = rest.split_at_checked(usize::from(len & !SENT_FLAG))?;
    let (at, rest) = rest.split_at_checked(8)?;
    let (sent, chunk) = if len & SENT_FLAG == 0 {
        (None, rest)
    } else {
        let (outbox_id, chunk) = rest.split_at_checked(8)?;
        (Some(u64::from_le_bytes(outbox_id.try_into().ok()?)), chunk)
    };
    Some(Read {
        customer: CustomerId(std::str::from_utf8(id).ok()?.to_owned()),
        newest: Timestamp(i64::from_le_bytes(at.try_into().ok()?)),
        chunk,
        sent,
    })
}

pub(super) struct HistoryLog {
    files: Segments,
    /// Held by one append or rewrite at a time, across a round's whole transaction.
    writer: Mutex<Writer>,
    /// Held briefly: readers never wait for a round.
    index: Mutex<Index>,
    /// One rewrite (an erasure, the prune) at a time; appends go on meanwhile.
    rewriting: Mutex<()>,
    db: sled::Db,
    /// Holds `END_KEY` (and, in stores written before this log, the history itself).
    tree: sled::Tree,
}

/// Where every committed record is.
#[derive(Default)]
struct Index {
    /// Each customer's records, in log order.
    by_customer: HashMap<CustomerId, Vec<Loc>>,
    /// Where each send's sent records are, by outbox id (a send that went again after a
    /// crash, before its acceptance was recorded, has a record per time).
    sent: HashMap<u64, Vec<Loc>>,
    segments: BTreeMap<u64, SegmentInfo>,
    /// The committed end: readers of the segment appends go to stop there.
    end: Option<End>,
    /// Open handles for reading, by segment.
    readers: HashMap<u64, Arc<File>>,
}

impl Index {
    /// Adds a record; within its segment it goes after those of the customer already there.
    fn add(&mut self, customer: CustomerId, loc: Loc, newest: Timestamp) {
        if let Some(outbox_id) = loc.sent {
            self.sent.entry(outbox_id).or_default().push(loc);
        }
        let own = self.by_customer.entry(customer).or_default();
        if own.last().is_none_or(|last| last.segment <= loc.segment) {
            own.push(loc);
        } else {
            // A rewritten segment's records go back among the later segments' ones.
            let at = own.partition_point(|other| other.segment <= loc.segment);
            own.insert(at, loc);
        }
        let info = self.segments.entry(loc.segment).or_insert(SegmentInfo {
            oldest: newest,
            newest,
        });
        info.oldest = info.oldest.min(newest);
        info.newest = info.newest.max(newest);
    }

    /// Every record of `customers`, of both kinds.
    fn locs_of<'a>(&'a self, customers: &'a HashSet<CustomerId>) -> impl Iterator<Item = &'a Loc> {
        customers
            .iter()
            .filter_map(|customer| self.by_customer.get(customer))
            .flatten()
    }

    /// Forgets every record of `segments` (rewritten or deleted): one pass over the index
    /// however many there are.
    fn forget(&mut self, segments: &HashSet<u64>) {
        if segments.is_empty() {
            return;
        }
        self.by_customer.retain(|_, locs| {
            locs.retain(|loc| !segments.contains(&loc.segment));
            !locs.is_empty()
        });
        self.sent.retain(|_, locs| {
            locs.retain(|loc| !segments.contains(&loc.segment));
            !locs.is_empty()
        });
        for segment in segments {
            self.segments.remove(segment);
            self.readers.remove(segment);
        }
    }

    /// A handle to read `segment`; `None` when it is gone (deleted by a rewrite whose
    /// index update has not happened yet).
    fn reader(&mut self, files: &Segments, segment: u64) -> StoreResult<Option<Arc<File>>> {
        if let Some(file) = self.readers.get(&segment) {
            return Ok(Some(file.clone()));
        }
        // A bound on open files; the handles are reopened as they are needed.
        if self.readers.len() >= MAX_READERS {
            self.readers.clear();
        }
        let file = match File::open(files.path(segment)) {
            Ok(file) => Arc::new(file),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(files.io_error("opening a segment", error)),
        };
        self.readers.insert(segment, file.clone());
        Ok(Some(file))
    }
}

struct Writer {
    /// The segment appends go to, open for appending.
    file: File,
    current: u64,
    /// Its committed length.
    size: u64,
    /// A failed append could not be undone: appending again could leave uncommitted records
    /// between committed ones, so every append is refused until a restart cuts them off.
    broken: bool,
}

impl Writer {
    fn end(&self) -> End {
        End {
            segment: self.current,
            offset: self.size,
        }
    }
}

fn broken() -> StoreError {
    StoreError::Engine(
        "history log: an append that failed could not be undone; restart souk".into(),
    )
}

/// Writes the log's end to sled and flushes it (outside a round: at start-up and before a
/// rewrite).
fn record_end(tree: &sled::Tree, db: &sled::Db, end: End) -> StoreResult<()> {
    tree.insert(END_KEY, &end.encode()).map_err(super::engine)?;
    db.flush().map_err(super::engine)?;
    Ok(())
}

impl HistoryLog {
    /// Opens the log in `dir`, cut to the end `tree` committed, and rebuilds its index.
    pub(super) fn open(dir: &Path, db: &sled::Db, tree: &sled::Tree) -> StoreResult<HistoryLog> {
        let files = Segments::create(dir, "history log")?;
        files.remove_leftover_rewrites()?;
        let end = tree
            .get(END_KEY)
            .map_err(super::engine)?
            .and_then(|raw| End::decode(&raw));
        let mut index = Index::default();
        // The committed length of the end segment; `None` if it cannot take more appends.
        let mut size = Some(0);
        for segment in files.list()? {
            let Some(end) = end.filter(|end| segment <= end.segment) else {
                // Appended by a round that never committed.
                files.remove(segment)?;
                continue;
            };
            let Some(mut bytes) = files.read(segment)? else {
                continue;
            };
            if segment == end.segment {
                let committed = usize::try_from(end.offset).unwrap_or(usize::MAX);
                if bytes.len() > committed {
                    bytes.truncate(committed);
                    File::options()
                        .write(true)
                        .open(files.path(segment))
                        .and_then(|file| file.set_len(end.offset).and_then(|()| file.sync_data()))
                        .map_err(|e| files.io_error("cutting off an uncommitted append", e))?;
                } else if bytes.len() < committed {
                    tracing::error!(
                        segment,
                        missing = committed - bytes.len(),
                        "the history log is shorter than sled's record of it: bytes were lost on the disk"
                    );
                }
                size = Some(bytes.len() as u64);
            }
            let records = files.records(&bytes, segment);
            let read_all = records.last().map_or(bytes.is_empty(), |(at, payload)| {
                at + payload.len() + HEADER_BYTES == bytes.len()
            });
            for (offset, payload) in records {
                let Some(read) = parse(payload) else {
                    tracing::error!(
                        segment,
                        offset,
                        "a history log record cannot be read; skipped"
                    );
                    continue;
                };
                let loc = Loc {
                    segment,
                    offset: offset as u64,
                    len: (payload.len() + HEADER_BYTES) as u32,
                    sent: read.sent,
                };
                index.add(read.customer, loc, read.newest);
            }
            if !read_all && segment == end.segment {
                // Damage inside the committed part: nothing may be appended behind it.
                size = None;
            }
        }
        let (current, file, size) = match (end, size) {
            (Some(end), Some(size)) if files.path(end.segment).exists() => {
                let file = File::options()
                    .append(true)
                    .open(files.path(end.segment))
                    .map_err(|e| files.io_error("opening for appending", e))?;
                (end.segment, file, size)
            }
            // Nothing committed yet, or the end segment cannot take more: a fresh one.
            _ => {
                let next = files.list()?.last().map_or(1, |last| last + 1);
                (next, files.create_segment(next)?, 0)
            }
        };
        let writer = Writer {
            file,
            current,
            size,
            broken: false,
        };
        index.end = Some(writer.end());
        if end != index.end {
            record_end(tree, db, writer.end())?;
        }
        Ok(HistoryLog {
            files,
            writer: Mutex::new(writer),
            index: Mutex::new(index),
            rewriting: Mutex::new(()),
            db: db.clone(),
            tree: tree.clone(),
        })
    }

    fn index(&self) -> MutexGuard<'_, Index> {
        self.index
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The appender: one at a time (rounds, notes and rewrites take turns).
    pub(super) fn appender(&self) -> Appender<'_> {
        Appender {
            files: &self.files,
            writer: self
                .writer
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
            index: &self.index,
            written: None,
        }
    }

    /// Appends records outside a round's transaction (an operator's note; a round that
    /// only records sends the platform accepted).
    pub(super) fn append(&self, records: &[NewRecord]) -> StoreResult<()> {
        let mut appender = self.appender();
        let end = appender.write(records)?;
        self.tree
            .insert(END_KEY, &end.encode())
            .map_err(super::engine)?;
        appender.commit();
        Ok(())
    }

    /// The outbox ids of `customers`' sent records.
    pub(super) fn sent_ids_of(&self, customers: &HashSet<CustomerId>) -> Vec<u64> {
        self.index()
            .locs_of(customers)
            .filter_map(|loc| loc.sent)
            .collect()
    }

    /// Whether the log holds a sent record of this send (it was accepted).
    pub(super) fn has_sent(&self, outbox_id: u64) -> bool {
        self.index().sent.contains_key(&outbox_id)
    }

    /// The chunks of a send's sent records the log holds (one per time it was accepted).
    pub(super) fn sent(&self, outbox_id: u64) -> StoreResult<Vec<Vec<u8>>> {
        let wanted: Vec<(Loc, Arc<File>)> = {
            let mut index = self.index();
            let locs = index.sent.get(&outbox_id).cloned().unwrap_or_default();
            let mut wanted = Vec::with_capacity(locs.len());
            for loc in locs {
                if let Some(file) = index.reader(&self.files, loc.segment)? {
                    wanted.push((loc, file));
                }
            }
            wanted
        };
        let mut chunks = Vec::with_capacity(wanted.len());
        for (loc, file) in wanted {
            let mut buffer = vec![0; loc.len as usize];
            match file.read_exact_at(&mut buffer, loc.offset) {
                Ok(()) => {}
                // Rewritten since the index was read: gone, as a mismatch below.
                Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => continue,
                Err(error) => return Err(self.files.io_error("reading a record", error)),
            }
            if let Some(read) = record_at(&buffer)
                .ok()
                .and_then(|(payload, _)| parse(payload))
                .filter(|read| read.sent == Some(outbox_id))
            {
                chunks.push(read.chunk.to_vec());
            }
        }
        Ok(chunks)
    }

    /// The customer's newest `limit` entries, oldest first.
    pub(super) fn history(
        &self,
        customer: &CustomerId,
        limit: usize,
    ) -> StoreResult<Vec<HistoryEntry>> {
        let wanted: Vec<(Loc, Arc<File>)> = {
            let mut index = self.index();
            // Every history record holds at least one entry.
            let locs: Vec<Loc> = index
                .by_customer
                .get(customer)
                .map_or_else(Vec::new, |locs| {
                    let mut newest: Vec<Loc> = locs
                        .iter()
                        .rev()
                        .filter(|loc| loc.sent.is_none())
                        .take(limit)
                        .copied()
                        .collect();
                    newest.reverse();
                    newest
                });
            let mut wanted = Vec::with_capacity(locs.len());
            for loc in locs {
                if let Some(file) = index.reader(&self.files, loc.segment)? {
                    wanted.push((loc, file));
                }
            }
            wanted
        };
        let mut newest: Vec<HistoryEntry> = Vec::new();
        let mut buffer = Vec::new();
        for (loc, file) in wanted.iter().rev() {
            if newest.len() >= limit {
                break;
            }
            buffer.resize(loc.len as usize, 0);
            match file.read_exact_at(&mut buffer, loc.offset) {
                Ok(()) => {}
                // Rewritten since the index was read (shorter now): skipped like a mismatch.
                Err(error) if error.kind() == std::io::ErrorKind::UnexpectedEof => continue,
                Err(error) => return Err(self.files.io_error("reading a record", error)),
            }
            let entries = record_at(&buffer)
                .ok()
                .and_then(|(payload, _)| parse(payload))
                .filter(|read| read.customer == *customer && read.sent.is_none())
                .map(|read| decode_chunk(read.chunk));
            match entries {
                Some(Ok(entries)) => newest.extend(entries.into_iter().rev()),
                Some(Err(error)) => {
                    tracing::error!(%error, segment = loc.segment, offset = loc.offset, "skipping an undecodable history record");
                }
                // Rewritten since the index was read: it will not be there next time.
                None => {}
            }
        }
        newest.truncate(limit);
        newest.reverse();
        Ok(newest)
    }

    /// Every committed record in log order (oldest first), `None` for one that cannot be
    /// read, until `visit` says stop (false).
    pub(super) fn visit(
        &self,
        visit: &mut dyn FnMut(Option<Read<'_>>) -> StoreResult<bool>,
    ) -> StoreResult<bool> {
        let (segments, end) = {
            let index = self.index();
            let segments: Vec<u64> = index.segments.keys().copied().collect();
            (segments, index.end)
        };
        for segment in segments {
            let Some(mut bytes) = self.files.read(segment)? else {
                continue;
            };
            if let Some(end) = end.filter(|end| end.segment == segment) {
                bytes.truncate(usize::try_from(end.offset).unwrap_or(usize::MAX));
            }
            for (_, payload) in self.files.records(&bytes, segment) {
                if !visit(parse(payload))? {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// Takes every record of `customers` out of the log's files. The count of history records
    /// taken.
    pub(super) fn drop_customers(&self, customers: &HashSet<CustomerId>) -> StoreResult<usize> {
        let mut segments: Vec<u64> = self
            .index()
            .locs_of(customers)
            .map(|loc| loc.segment)
            .collect();
        segments.sort_unstable();
        segments.dedup();
        if segments.is_empty() {
            // Nothing to rewrite (a second pass finds nothing new, mostly): no flush either.
            return Ok(0);
        }
        self.rewrite(&segments, &|read| !customers.contains(&read.customer))
    }

    /// Takes out every record whose newest entry is older than `before`. The count of history
    /// records taken.
    pub(super) fn prune(&self, before: Timestamp) -> StoreResult<usize> {
        let segments: Vec<u64> = self
            .index()
            .segments
            .iter()
            .filter(|(_, info)| info.oldest < before)
            .map(|(segment, _)| *segment)
            .collect();
        self.rewrite(&segments, &|read| read.newest >= before)
    }

    /// Rewrites `segments` with only the records `keep` keeps (a segment left empty is
    /// deleted). Appends go on meanwhile, into a segment not among them: the one they go to
    /// is closed first if it is. And sled is flushed with the log's end first: every round
    /// committed so far is then durable, and a start never cuts a rewritten segment at an
    /// end recorded before it was rewritten.
    fn rewrite(&self, segments: &[u64], keep: &dyn Fn(&Read<'_>) -> bool) -> StoreResult<usize> {
        let _one_at_a_time = self
            .rewriting
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        {
            let mut appender = self.appender();
            let writer = &mut *appender.writer;
            if writer.broken {
                return Err(broken());
            }
            if segments.contains(&writer.current) {
                let next = writer.current + 1;
                writer.file = self.files.create_segment(next)?;
                writer.current = next;
                writer.size = 0;
            }
            record_end(&self.tree, &self.db, writer.end())?;
            self.index().end = Some(writer.end());
        }
        let mut done = Vec::new();
        let taken = self.rewrite_files(segments, keep, &mut done);
        // The index follows the files, also when a rewrite failed part way. Until it does,
        // a reader of a rewritten segment finds records that do not match and skips them.
        let mut index = self.index();
        index.forget(&done.iter().map(|(segment, _)| *segment).collect());
        for (_, locs) in done {
            for (customer, loc, newest) in locs {
                index.add(customer, loc, newest);
            }
        }
        taken
    }

    /// Rewrites the files; `done` gets each segment rewritten or deleted with its records'
    /// new places.
    fn rewrite_files(
        &self,
        segments: &[u64],
        keep: &dyn Fn(&Read<'_>) -> bool,
        done: &mut Vec<(u64, Vec<Placed>)>,
    ) -> StoreResult<usize> {
        let mut taken = 0;
        for &segment in segments {
            let Some(bytes) = self.files.read(segment)? else {
                continue;
            };
            let mut kept = Vec::with_capacity(bytes.len());
            let mut locs = Vec::new();
            for (_, payload) in self.files.records(&bytes, segment) {
                match parse(payload) {
                    // Sent records go with their customer's history, counted apart: none.
                    Some(read) if !keep(&read) => taken += usize::from(read.sent.is_none()),
                    read => {
                        if let Some(read) = read {
                            let loc = Loc {
                                segment,
                                offset: kept.len() as u64,
                                len: (payload.len() + HEADER_BYTES) as u32,
                                sent: read.sent,
                            };
                            locs.push((read.customer, loc, read.newest));
                        }
                        // An unreadable record cannot be told apart by customer: kept.
                        put_record(&mut kept, payload);
                    }
                }
            }
            if kept.is_empty() {
                self.files.remove(segment)?;
                self.files.sync_dir()?;
            } else {
                self.files.replace(segment, &kept)?;
            }
            done.push((segment, locs));
        }
        Ok(taken)
    }

    /// The bytes the log's segments hold.
    pub(super) fn bytes(&self) -> u64 {
        let index = self.index();
        let current = index.end.map(|end| end.segment);
        let closed: u64 = index
            .segments
            .keys()
            .filter(|segment| Some(**segment) != current)
            .filter_map(|segment| std::fs::metadata(self.files.path(*segment)).ok())
            .map(|meta| meta.len())
            .sum();
        closed + index.end.map_or(0, |end| end.offset)
    }

    /// Moves the history a store written before this log kept in sled (one record per
    /// step, keyed by customer then a sled id) into the log, oldest first, then takes it
    /// out of sled with the log's end in one batch: a crash before that batch leaves the
    /// sled records, the log's copies past the committed end, and the move starts again.
    pub(super) fn move_in_from_sled(&self) -> StoreResult<usize> {
        let mut keys: Vec<(u64, sled::IVec)> = Vec::new();
        for key in self.tree.iter().keys() {
            let key = key.map_err(super::engine)?;
            if key.first() == Some(&0xff) {
                continue;
            }
            let Some(id) = key
                .len()
                .checked_sub(8)
                .and_then(|at| key.get(at..))
                .and_then(|raw| <[u8; 8]>::try_from(raw).ok())
            else {
                continue;
            };
            keys.push((u64::from_be_bytes(id), key));
        }
        if keys.is_empty() {
            return Ok(0);
        }
        // sled's ids grow with time: this is the order the steps wrote them.
        keys.sort_unstable_by_key(|(id, _)| *id);
        let mut appender = self.appender();
        let mut end = None;
        let mut batch = Vec::new();
        let mut removal = sled::Batch::default();
        let mut bytes = 0;
        for (_, key) in &keys {
            removal.remove(key.clone());
            let Some(value) = self.tree.get(key).map_err(super::engine)? else {
                continue;
            };
            let customer = key
                .len()
                .checked_sub(9)
                .and_then(|at| key.get(..at))
                .and_then(|raw| std::str::from_utf8(raw).ok())
                .map(|id| CustomerId(id.to_owned()));
            let Some(customer) = customer else {
                continue;
            };
            let newest = decode_chunk(&value)
                .ok()
                .and_then(|entries| entries.iter().map(HistoryEntry::at).max())
                .unwrap_or(Timestamp(i64::MAX));
            let record = NewRecord {
                customer,
                newest,
                chunk: value.to_vec(),
                sent: None,
            };
            if payload(&record).len() > MAX_RECORD_BYTES {
                // Cannot be framed; no release wrote one (texts are cut far below this).
                tracing::error!(key = ?String::from_utf8_lossy(key), "a history record too large to move; dropped");
                continue;
            }
            bytes += value.len();
            batch.push(record);
            if bytes >= 1024 * 1024 {
                end = Some(appender.write(&batch)?);
                appender.commit_keeping();
                batch.clear();
                bytes = 0;
            }
        }
        if !batch.is_empty() {
            end = Some(appender.write(&batch)?);
            appender.commit_keeping();
        }
        if let Some(end) = end {
            removal.insert(END_KEY, &end.encode());
        }
        self.tree.apply_batch(removal).map_err(super::engine)?;
        self.db.flush().map_err(super::engine)?;
        tracing::info!(
            records = keys.len(),
            "history moved from sled into the history log"
        );
        Ok(keys.len())
    }
}

/// Holds the log for one append: write, then commit once the end it returned is committed
/// in sled; dropped without a commit, the append is undone.
pub(super) struct Appender<'a> {
    files: &'a Segments,
    writer: MutexGuard<'a, Writer>,
    index: &'a Mutex<Index>,
    /// The records written and not committed, and the length they end at.
    written: Option<(Vec<Placed>, u64)>,
}

/// A record written: whose, where, its newest entry's time.
type Placed = (CustomerId, Loc, Timestamp);

impl Appender<'_> {
    /// Appends `records` after the committed end (undoing an earlier uncommitted write)
    /// and fsyncs them; returns the end to commit with them.
    pub(super) fn write(&mut self, records: &[NewRecord]) -> StoreResult<End> {
        self.undo()?;
        if self.writer.broken {
            return Err(broken());
        }
        let mut payloads = Vec::with_capacity(records.len());
        for record in records {
            if record.customer.0.len() > MAX_ID_BYTES {
                // The record names its customer in 15 bits of length: never cut it short.
                return Err(StoreError::Engine(
                    "a history record's customer id is over 32,767 bytes".into(),
                ));
            }
            let payload = payload(record);
            if payload.len() > MAX_RECORD_BYTES {
                return Err(StoreError::Engine(format!(
                    "a history record of {} bytes is over the log's record limit",
                    payload.len()
                )));
            }
            payloads.push(payload);
        }
        let bytes: u64 = payloads
            .iter()
            .map(|p| (p.len() + HEADER_BYTES) as u64)
            .sum();
        if self.writer.size > 0 && self.writer.size + bytes > SEGMENT_BYTES {
            // The committed end stays in the closed segment until this append commits.
            let next = self.writer.current + 1;
            self.writer.file = self.files.create_segment(next)?;
            self.writer.current = next;
            self.writer.size = 0;
        }
        let mut buffer = Vec::with_capacity(usize::try_from(bytes).unwrap_or(0));
        let mut placed = Vec::with_capacity(records.len());
        for (record, payload) in records.iter().zip(&payloads) {
            let loc = Loc {
                segment: self.writer.current,
                offset: self.writer.size + buffer.len() as u64,
                len: (payload.len() + HEADER_BYTES) as u32,
                sent: record.sent,
            };
            put_record(&mut buffer, payload);
            placed.push((record.customer.clone(), loc, record.newest));
        }
        let end = self.writer.size + buffer.len() as u64;
        // Marked written before the write: a half-done write is undone too.
        self.written = Some((placed, end));
        let writer = &mut *self.writer;
        writer
            .file
            .write_all(&buffer)
            .and_then(|()| writer.file.sync_data())
            .map_err(|e| self.files.io_error("appending", e))?;
        Ok(End {
            segment: self.writer.current,
            offset: end,
        })
    }

    /// Cuts the file back to the committed end if a write is not committed.
    pub(super) fn undo(&mut self) -> StoreResult<()> {
        if self.written.take().is_none() {
            return Ok(());
        }
        let size = self.writer.size;
        if let Err(error) = self.writer.file.set_len(size) {
            self.writer.broken = true;
            return Err(self.files.io_error("undoing an append", error));
        }
        Ok(())
    }

    /// The end `write` returned is committed: its records become readable.
    pub(super) fn commit(mut self) {
        self.commit_keeping();
    }

    fn commit_keeping(&mut self) {
        if let Some((placed, end)) = self.written.take() {
            self.writer.size = end;
            let mut index = self
                .index
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            for (customer, loc, newest) in placed {
                index.add(customer, loc, newest);
            }
            index.end = Some(self.writer.end());
        }
    }
}

impl Drop for Appender<'_> {
    fn drop(&mut self) {
        if let Err(error) = self.undo() {
            tracing::error!(%error, "the history log could not undo an uncommitted append");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::codec::encode;
    use crate::store::history_chunk::encode_chunk;

    struct Fixture {
        dir: tempfile::TempDir,
        db: sled::Db,
        tree: sled::Tree,
    }

    fn fixture() -> Fixture {
        let (dir, db, tree) = super::super::segment_files::temp_sled("history");
        Fixture { dir, db, tree }
    }

    impl Fixture {
        fn open(&self) -> HistoryLog {
            let log = HistoryLog::open(&self.log_dir(), &self.db, &self.tree).expect("log opens");
            log.move_in_from_sled().expect("moved in");
            log
        }

        fn log_dir(&self) -> std::path::PathBuf {
            self.dir.path().join("history-log")
        }

        /// Every byte of the log's files.
        fn all_bytes(&self) -> Vec<u8> {
            let mut files: Vec<_> = std::fs::read_dir(self.log_dir())
                .expect("folder")
                .map(|file| file.expect("file").path())
                .collect();
            files.sort();
            files
                .iter()
                .flat_map(|file| std::fs::read(file).expect("read"))
                .collect()
        }

        /// What a round does: append, commit the end in sled's transaction, then commit.
        fn round(&self, log: &HistoryLog, records: Vec<NewRecord>) {
            let mut appender = log.appender();
            let end = appender.write(&records).expect("write");
            self.tree.insert(END_KEY, &end.encode()).expect("end");
            appender.commit();
        }
    }

    fn note(customer: &str, at: i64, text: &str) -> NewRecord {
        let entry = HistoryEntry::Note {
            at: Timestamp(at),
            operator: flows::OperatorId("ana".into()),
            text: text.into(),
        };
        NewRecord {
            customer: CustomerId(customer.into()),
            newest: Timestamp(at),
            chunk: encode_chunk(&[&entry]),
            sent: None,
        }
    }

    /// A send's sent records, as a round writes them once the platform accepted it.
    fn sent(customer: &str, at: i64, outbox_id: u64, platform_id: &str) -> NewRecord {
        let record = crate::store::SentRecord {
            customer: CustomerId(customer.into()),
            outbox_id,
            channel: flows::Channel::WhatsApp,
            platform_id: platform_id.into(),
            at: Timestamp(at),
        };
        NewRecord {
            customer: CustomerId(customer.into()),
            newest: Timestamp(at),
            chunk: encode(&vec![record]),
            sent: Some(outbox_id),
        }
    }

    fn platform_ids(log: &HistoryLog, outbox_id: u64) -> Vec<String> {
        log.sent(outbox_id)
            .expect("read")
            .iter()
            .flat_map(|chunk| {
                crate::store::codec::decode::<Vec<crate::store::SentRecord>>("sent", chunk)
                    .expect("decodes")
            })
            .map(|record| record.platform_id)
            .collect()
    }

    fn texts(log: &HistoryLog, customer: &str, limit: usize) -> Vec<String> {
        log.history(&CustomerId(customer.into()), limit)
            .expect("history")
            .into_iter()
            .map(|entry| match entry {
                HistoryEntry::Note { text, .. } => text,
                other => format!("{other:?}"),
            })
            .collect()
    }

    #[test]
    fn records_read_back_newest_last_and_survive_a_restart() {
        let fixture = fixture();
        let log = fixture.open();
        fixture.round(&log, vec![note("ana", 1, "a1"), note("bo", 2, "b1")]);
        fixture.round(&log, vec![note("ana", 3, "a2")]);
        fixture.round(&log, vec![note("ana", 4, "a3")]);
        assert_eq!(texts(&log, "ana", 10), ["a1", "a2", "a3"]);
        assert_eq!(texts(&log, "ana", 2), ["a2", "a3"]);
        assert_eq!(texts(&log, "bo", 10), ["b1"]);
        assert!(texts(&log, "cy", 10).is_empty());
        drop(log);
        let log = fixture.open();
        assert_eq!(texts(&log, "ana", 10), ["a1", "a2", "a3"]);
        fixture.round(&log, vec![note("bo", 5, "b2")]);
        assert_eq!(texts(&log, "bo", 10), ["b1", "b2"]);
    }

    #[test]
    fn an_append_whose_end_sled_never_committed_is_cut_off_at_start() {
        let fixture = fixture();
        let log = fixture.open();
        fixture.round(&log, vec![note("ana", 1, "kept")]);
        let committed = fixture.all_bytes().len();
        // The round's transaction never committed (a crash before it did): the records are
        // on disk but sled's end is the one before.
        let mut appender = log.appender();
        appender
            .write(&[note("ana", 2, "lost round")])
            .expect("write");
        appender.commit();
        assert!(fixture.all_bytes().len() > committed);
        drop(log);
        let log = fixture.open();
        assert_eq!(texts(&log, "ana", 10), ["kept"]);
        assert_eq!(fixture.all_bytes().len(), committed);
        // Appends go on where the committed ones end.
        fixture.round(&log, vec![note("ana", 3, "next")]);
        drop(log);
        assert_eq!(texts(&fixture.open(), "ana", 10), ["kept", "next"]);
    }

    #[test]
    fn an_append_not_committed_is_undone_at_once() {
        let fixture = fixture();
        let log = fixture.open();
        fixture.round(&log, vec![note("ana", 1, "kept")]);
        let committed = fixture.all_bytes();
        {
            let mut appender = log.appender();
            appender.write(&[note("ana", 2, "failed")]).expect("write");
            // sled ran the transaction again: the first write is undone before the second.
            appender.write(&[note("ana", 2, "again")]).expect("write");
            // ... and then it failed: dropped without a commit.
        }
        assert_eq!(fixture.all_bytes(), committed);
        assert_eq!(texts(&log, "ana", 10), ["kept"]);
        fixture.round(&log, vec![note("ana", 3, "next")]);
        assert_eq!(texts(&log, "ana", 10), ["kept", "next"]);
    }

    #[test]
    fn nothing_is_appended_behind_damage_in_the_committed_part() {
        let fixture = fixture();
        let log = fixture.open();
        fixture.round(&log, vec![note("ana", 1, "damaged")]);
        drop(log);
        // The only record's checksum no longer matches (a bad disk).
        let segment = fixture.open().files.list().expect("list")[0];
        drop(fixture.open());
        let path = fixture.log_dir().join(format!("{segment:020}.log"));
        let mut bytes = std::fs::read(&path).expect("read");
        bytes[4] ^= 0xff;
        std::fs::write(&path, bytes).expect("write");
        let log = fixture.open();
        assert!(texts(&log, "ana", 10).is_empty());
        fixture.round(&log, vec![note("ana", 2, "after")]);
        drop(log);
        // Had it gone behind the damage, a start would stop reading before it.
        assert_eq!(texts(&fixture.open(), "ana", 10), ["after"]);
    }

    #[test]
    fn a_record_that_cannot_be_framed_is_refused_and_nothing_is_written() {
        let fixture = fixture();
        let log = fixture.open();
        let before = fixture.all_bytes();
        let mut appender = log.appender();
        let long_id = note(&"c".repeat(70_000), 1, "x");
        assert!(appender.write(&[long_id]).is_err());
        // Over the 15 bits a length has beside the sent records' flag.
        let long_id = note(&"c".repeat(40_000), 1, "x");
        assert!(appender.write(&[long_id]).is_err());
        let huge = note("ana", 1, &"x".repeat(MAX_RECORD_BYTES));
        assert!(appender.write(&[huge]).is_err());
        drop(appender);
        assert_eq!(fixture.all_bytes(), before);
        fixture.round(&log, vec![note("ana", 2, "fine")]);
        assert_eq!(texts(&log, "ana", 10), ["fine"]);
    }

    #[test]
    fn sent_records_are_found_by_outbox_id_and_never_read_as_history() {
        let fixture = fixture();
        let log = fixture.open();
        fixture.round(&log, vec![note("ana", 1, "a1"), note("bo", 1, "b1")]);
        fixture.round(
            &log,
            vec![
                sent("ana", 2, 7, "wamid.7"),
                note("ana", 3, "a2"),
                sent("bo", 3, 8, "wamid.8"),
            ],
        );
        // Only sends arrive for a while: the history still reads its newest records.
        for id in 9..14 {
            fixture.round(&log, vec![sent("ana", 4, id, &format!("wamid.{id}"))]);
        }
        assert_eq!(texts(&log, "ana", 10), ["a1", "a2"]);
        assert_eq!(texts(&log, "ana", 1), ["a2"]);
        assert_eq!(texts(&log, "bo", 10), ["b1"]);
        assert_eq!(platform_ids(&log, 7), ["wamid.7"]);
        assert_eq!(platform_ids(&log, 13), ["wamid.13"]);
        // Sent again after a crash before its acceptance was recorded: both are kept.
        fixture.round(&log, vec![sent("ana", 4, 13, "wamid.13b")]);
        assert_eq!(platform_ids(&log, 13), ["wamid.13", "wamid.13b"]);
        assert!(platform_ids(&log, 99).is_empty());
        let mut kinds = (0, 0);
        log.visit(&mut |record| {
            match record.expect("readable").sent {
                Some(_) => kinds.1 += 1,
                None => kinds.0 += 1,
            }
            Ok(true)
        })
        .expect("visit");
        assert_eq!(kinds, (3, 8));
        // The index is rebuilt with both kinds apart.
        drop(log);
        let log = fixture.open();
        assert_eq!(texts(&log, "ana", 10), ["a1", "a2"]);
        assert_eq!(platform_ids(&log, 8), ["wamid.8"]);
        // An erasure takes a customer's sent records with their history.
        log.drop_customers(&HashSet::from([CustomerId("ana".into())]))
            .expect("drop");
        assert!(platform_ids(&log, 7).is_empty());
        assert!(platform_ids(&log, 13).is_empty());
        assert_eq!(platform_ids(&log, 8), ["wamid.8"]);
        assert!(!fixture.all_bytes().windows(7).any(|w| w == b"wamid.7"));
        // The prune ages them out by their time, like history.
        log.prune(Timestamp(4)).expect("prune");
        assert!(platform_ids(&log, 8).is_empty());
        drop(log);
        assert!(platform_ids(&fixture.open(), 8).is_empty());
    }

    #[test]
    fn appends_move_to_new_segments_and_reads_cross_them() {
        let fixture = fixture();
        let log = fixture.open();
        let big = "x".repeat(300 * 1024);
        for round in 0..40 {
            fixture.round(&log, vec![note("ana", round, &format!("{round}{big}"))]);
        }
        let segments = log.files.list().expect("list");
        assert!(segments.len() >= 3, "{segments:?}");
        let read = texts(&log, "ana", 100);
        assert_eq!(read.len(), 40);
        assert!(read[39].starts_with("39x"));
        drop(log);
        assert_eq!(texts(&fixture.open(), "ana", 100), read);
    }

    #[test]
    fn the_prune_deletes_segments_wholly_past_the_cut_and_keeps_the_rest_readable() {
        let fixture = fixture();
        let log = fixture.open();
        let big = "x".repeat(300 * 1024);
        for round in 0..40 {
            let customer = if round % 2 == 0 { "ana" } else { "bo" };
            fixture.round(&log, vec![note(customer, round, &format!("{round}{big}"))]);
        }
        let before = log.files.list().expect("list").len();
        assert_eq!(log.prune(Timestamp(30)).expect("prune"), 30);
        assert!(log.files.list().expect("list").len() < before);
        let first = |texts: Vec<String>| -> Vec<String> {
            texts
                .iter()
                .map(|t| t.trim_end_matches('x').to_owned())
                .collect()
        };
        assert_eq!(
            first(texts(&log, "ana", 100)),
            ["30", "32", "34", "36", "38"]
        );
        assert_eq!(
            first(texts(&log, "bo", 100)),
            ["31", "33", "35", "37", "39"]
        );
        drop(log);
        assert_eq!(
            first(texts(&fixture.open(), "bo", 100)),
            ["31", "33", "35", "37", "39"]
        );
    }

    #[test]
    fn dropping_customers_leaves_no_byte_of_their_history_on_disk() {
        let fixture = fixture();
        let log = fixture.open();
        for round in 0..5 {
            fixture.round(
                &log,
                vec![
                    note("erased", round, "secret-address-17"),
                    note("kept", round, &format!("k{round}")),
                ],
            );
        }
        let contains = |bytes: &[u8]| bytes.windows(17).any(|w| w == b"secret-address-17");
        assert!(contains(&fixture.all_bytes()));
        let gone = log
            .drop_customers(&HashSet::from([CustomerId("erased".into())]))
            .expect("drop");
        assert_eq!(gone, 5);
        assert!(!contains(&fixture.all_bytes()));
        assert!(texts(&log, "erased", 10).is_empty());
        assert_eq!(texts(&log, "kept", 10), ["k0", "k1", "k2", "k3", "k4"]);
        fixture.round(&log, vec![note("kept", 9, "k9")]);
        drop(log);
        let log = fixture.open();
        assert!(texts(&log, "erased", 10).is_empty());
        assert_eq!(
            texts(&log, "kept", 10),
            ["k0", "k1", "k2", "k3", "k4", "k9"]
        );
    }

    #[test]
    fn the_prune_takes_records_older_than_the_cut_and_no_others() {
        let fixture = fixture();
        let log = fixture.open();
        fixture.round(&log, vec![note("ana", 10, "old"), note("bo", 30, "new")]);
        fixture.round(&log, vec![note("ana", 20, "older than the cut")]);
        fixture.round(&log, vec![note("ana", 40, "newer")]);
        assert_eq!(log.prune(Timestamp(25)).expect("prune"), 2);
        assert_eq!(texts(&log, "ana", 10), ["newer"]);
        assert_eq!(texts(&log, "bo", 10), ["new"]);
        assert_eq!(log.prune(Timestamp(25)).expect("prune"), 0);
        drop(log);
        let log = fixture.open();
        assert_eq!(texts(&log, "ana", 10), ["newer"]);
        let mut seen = Vec::new();
        log.visit(&mut |read| {
            seen.push(read.expect("readable").customer.0);
            Ok(true)
        })
        .expect("visit");
        assert_eq!(seen, ["bo", "ana"]);
    }

    #[test]
    fn history_kept_in_sled_by_an_earlier_release_moves_into_the_log_in_order() {
        let fixture = fixture();
        // The layout before: customer id, a zero byte, a growing sled id; one record per
        // step (or one entry alone).
        let legacy = |customer: &str, id: u64, text: &str| {
            let mut key = customer.as_bytes().to_vec();
            key.push(0);
            key.extend_from_slice(&id.to_be_bytes());
            let entry = HistoryEntry::Note {
                at: Timestamp(id as i64),
                operator: flows::OperatorId("ana".into()),
                text: text.into(),
            };
            fixture.tree.insert(key, encode(&entry)).expect("insert");
        };
        legacy("bo", 2, "b-first");
        legacy("ana", 1, "a-first");
        legacy("ana", 3, "a-second");
        let log = fixture.open();
        assert_eq!(texts(&log, "ana", 10), ["a-first", "a-second"]);
        assert_eq!(texts(&log, "bo", 10), ["b-first"]);
        let keys: Vec<_> = fixture
            .tree
            .iter()
            .keys()
            .map(|k| k.expect("key"))
            .collect();
        assert_eq!(
            keys,
            [sled::IVec::from(END_KEY)],
            "only the log's end is left"
        );
        let mut order = Vec::new();
        log.visit(&mut |read| {
            order.push(read.expect("readable").newest.0);
            Ok(true)
        })
        .expect("visit");
        assert_eq!(order, [1, 2, 3], "oldest first, as the steps wrote them");
        drop(log);
        assert_eq!(texts(&fixture.open(), "ana", 10), ["a-first", "a-second"]);
    }
}
