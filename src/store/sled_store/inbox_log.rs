//! The inbox's log: platform events (those with a dedup key) are accepted into append-only
//! files of their own, fsynced in groups by one thread, instead of into the `inbox` tree
//! inside the group commit's sled transaction.
//!
//! Why: a webhook's 200 waited for a group-commit round, and a round is a sled transaction
//! over ten trees (every step of the round with it) under sled's global lock, then an fsync:
//! about 4 ms under load, twice for most events (the round in progress, then theirs). An
//! append and an fsync of a file nobody else writes answer in about a millisecond, and the
//! two tree writes per event (the entry, then its removal) leave sled altogether.
//!
//! The rules that keep it exact:
//! - An event is durable in the log before `append` answers; its dedup key is checked
//!   against the log's pending events and sled's dedup marks first.
//! - An event's step commits the event's dedup mark in the step's own transaction, in its
//!   round's record of marks (`done_marks.rs`; a step that sets the event aside writes it
//!   into `processed`), in place of removing an inbox entry. So "this event is done" is one
//!   fact in sled, written atomically with the step: at start-up an event of the log is
//!   pending exactly when its mark is missing.
//! - A segment file is deleted only when every event in it is done and that is flushed:
//!   `stepped` (after the transaction) then `flushed` (after sled's fsync).
//! - Records carry a CRC; a torn tail (a crash mid-append, never acknowledged) ends a
//!   segment's reading. After a failed write the log moves on to a new segment, so nothing
//!   is ever appended behind a torn record.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs::File;
use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use flows::{CustomerId, Timestamp};
use tokio::sync::oneshot;

use super::done_marks::DoneMarks;
use super::seen_keys::SeenKeys;
use super::segment_files::{MAX_RECORD_BYTES, Segments, put_record};
use crate::store::codec::{decode, encode};
use crate::store::{InboxEntry, Ingested, StoreError, StoreResult};

/// A segment is closed and a new one started past this size; a closed segment is deleted
/// once all its events are done.
const SEGMENT_BYTES: u64 = 4 * 1024 * 1024;

/// Under load the writer first waits this long, so more webhooks share its fsync: each
/// fsync costs the CPU a write to the virtual disk's queue (about 5% of souk's CPU at
/// 8,000 events a second without it). A lone event at low load does not wait.
const GATHER: std::time::Duration = std::time::Duration::from_micros(300);

pub(super) type Appended = oneshot::Receiver<StoreResult<Vec<Ingested>>>;

/// Where an append's answer goes.
type Answer = oneshot::Sender<StoreResult<Vec<Ingested>>>;

pub(super) struct InboxLog {
    shared: Arc<Shared>,
    /// `None` once dropped: the writer then ends.
    commands: Mutex<Option<mpsc::Sender<Command>>>,
    /// Joined on drop: the writer holds the database open (sled's file lock) until it ends,
    /// and a reopen of the store in this process must not find it still held.
    writer: Option<std::thread::JoinHandle<()>>,
}

impl Drop for InboxLog {
    fn drop(&mut self) {
        drop(
            self.commands
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .take(),
        );
        if let Some(writer) = self.writer.take()
            && writer.join().is_err()
        {
            tracing::error!("the inbox log's writer panicked");
        }
    }
}

struct Shared {
    segments: Segments,
    state: Mutex<State>,
    /// The keys of `processed`, in memory (`seen_keys.rs`).
    seen: Mutex<SeenKeys>,
    /// Set after a write to sled's directory (a new customer, a moved identity, a lifted block) that an
    /// event about to be logged may refer to: the next append flushes sled first, as the
    /// group commit's fsync did when events went into sled.
    directory_dirty: AtomicBool,
    /// Runs inside an erasure's rewrite, between its snapshot and its copy (tests make
    /// steps and flushes happen there).
    #[cfg(test)]
    rewrite_hook: Mutex<RewriteHook>,
}

#[derive(Default)]
struct State {
    /// Logged events whose step has not committed: seq → what the step's commit writes.
    pending: HashMap<u64, Pending>,
    /// Their dedup keys, for the duplicate check.
    keys: HashMap<String, u64>,
    /// Events whose step committed but is not yet flushed by sled, and their segments.
    unflushed: Vec<(u64, u64)>,
    /// Events a flush under way makes durable (`before_flush` to `flushed`), by seq, and
    /// their segments: an erasure's rewrite that copies one points its entry at the fresh
    /// segment, so the flush counts it off the segment that holds it now.
    flushing: HashMap<u64, u64>,
    /// Per segment: its events not yet durably done (undecodable ones never are).
    live: BTreeMap<u64, usize>,
    /// The segment appends go to.
    current: u64,
}

struct Pending {
    key: String,
    received_at: Timestamp,
    customer: CustomerId,
    segment: u64,
}

enum Command {
    Append {
        entries: Vec<InboxEntry>,
        done: Answer,
    },
    /// Rewrites the log without these customers' events (an erasure).
    Drop {
        customers: HashSet<CustomerId>,
        done: mpsc::Sender<StoreResult<usize>>,
    },
}

fn stopped() -> StoreError {
    StoreError::Engine("the inbox log's writer stopped".into())
}

fn lock(state: &Mutex<State>) -> std::sync::MutexGuard<'_, State> {
    state
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
type RewriteHook = Option<Box<dyn FnOnce() + Send>>;

#[cfg(test)]
fn lock_hook(shared: &Shared) -> std::sync::MutexGuard<'_, RewriteHook> {
    shared
        .rewrite_hook
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl InboxLog {
    /// Opens the log in `dir`: events whose dedup mark is missing (from `processed` and
    /// `done`) are pending again; segments with none are deleted; appends go to a new
    /// segment.
    pub(super) fn open(
        dir: &Path,
        db: &sled::Db,
        processed: &sled::Tree,
        done: &Arc<DoneMarks>,
    ) -> StoreResult<InboxLog> {
        let files = Segments::create(dir, "inbox log")?;
        let mut seen = SeenKeys::new();
        for key in processed.iter().keys() {
            seen.insert(&key.map_err(super::engine)?);
        }
        let mut state = State::default();
        let segments = files.list()?;
        for &segment in &segments {
            let bytes = files.read(segment)?.unwrap_or_default();
            let mut live = 0;
            for (_, payload) in files.records(&bytes, segment) {
                let entry: InboxEntry = match decode("inbox log entry", payload) {
                    Ok(entry) => entry,
                    Err(error) => {
                        // Kept, never deleted: a later version may read it.
                        tracing::error!(%error, segment, "an inbox log entry cannot be read; its segment is kept");
                        live += 1;
                        continue;
                    }
                };
                let Some(key) = entry.dedup_key.clone() else {
                    continue;
                };
                let marked = processed
                    .contains_key(key.as_bytes())
                    .map_err(super::engine)?
                    || done.holds(&key)?;
                if marked || state.keys.contains_key(&key) {
                    continue;
                }
                live += 1;
                state.keys.insert(key.clone(), entry.seq);
                state.pending.insert(
                    entry.seq,
                    Pending {
                        key,
                        received_at: entry.received_at,
                        customer: entry.customer,
                        segment,
                    },
                );
            }
            if live == 0 {
                files.remove(segment)?;
            } else {
                state.live.insert(segment, live);
            }
        }
        state.current = segments.last().map_or(1, |last| last + 1);
        let file = files.create_segment(state.current)?;
        if !state.pending.is_empty() {
            tracing::info!(
                pending = state.pending.len(),
                "inbox log: events accepted before the stop are pending again"
            );
        }
        let shared = Arc::new(Shared {
            segments: files.clone(),
            state: Mutex::new(state),
            seen: Mutex::new(seen),
            directory_dirty: AtomicBool::new(false),
            #[cfg(test)]
            rewrite_hook: Mutex::new(None),
        });
        let (commands, queue) = mpsc::channel();
        let writer = Writer {
            shared: shared.clone(),
            db: db.clone(),
            processed: processed.clone(),
            done: done.clone(),
            file,
            size: 0,
        };
        let writer = std::thread::Builder::new()
            .name("souk-inbox-log".into())
            .spawn(move || writer.run(&queue))
            .map_err(|e| files.io_error("starting its writer", e))?;
        Ok(InboxLog {
            shared,
            commands: Mutex::new(Some(commands)),
            writer: Some(writer),
        })
    }

    /// Accepts the events (each must have a dedup key) unless duplicates; the answer comes
    /// once the new ones are on disk.
    pub(super) fn append(&self, entries: Vec<InboxEntry>) -> Appended {
        let (done, answer) = oneshot::channel();
        // A refused command drops its `done`: the caller hears that the writer stopped.
        let _ = self.command(Command::Append { entries, done });
        answer
    }

    fn command(&self, command: Command) -> StoreResult<()> {
        self.commands
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .as_ref()
            .ok_or_else(stopped)?
            .send(command)
            .map_err(|_| stopped())
    }

    /// A write the next logged event may refer to was made in sled (see `directory_dirty`).
    pub(super) fn directory_written(&self) {
        self.shared.directory_dirty.store(true, Ordering::Release);
    }

    /// A dedup mark was written to `processed` outside the log (an event through the group
    /// commit, a delivery status): the log's duplicate check must see it.
    pub(super) fn mark_seen(&self, key: &[u8]) {
        self.shared
            .seen
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .insert(key);
    }

    /// Rebuilds the in-memory filters from `processed` (after its retention prune), so they
    /// hold no more keys than the tree does. Appends go on meanwhile.
    pub(super) fn rebuild_seen(&self, processed: &sled::Tree) -> StoreResult<()> {
        let seen = || {
            self.shared
                .seen
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
        };
        seen().rebuild();
        let mut keys = processed.iter().keys();
        loop {
            // A chunk per lock: the writer's checks wait at most one chunk.
            let chunk: Vec<sled::IVec> = match keys.by_ref().take(4096).collect() {
                Ok(chunk) => chunk,
                Err(error) => {
                    seen().abandon_rebuild();
                    return Err(super::engine(error));
                }
            };
            if chunk.is_empty() {
                break;
            }
            let mut filters = seen();
            for key in &chunk {
                filters.rebuilding(key);
            }
        }
        seen().rebuilt();
        Ok(())
    }

    /// Whether an event with this dedup key waits in the log.
    pub(super) fn holds_key(&self, key: &str) -> bool {
        lock(&self.shared.state).keys.contains_key(key)
    }

    /// The dedup mark a step of this logged event commits, if it is one.
    pub(super) fn mark_of(&self, seq: u64) -> Option<(String, Timestamp)> {
        lock(&self.shared.state)
            .pending
            .get(&seq)
            .map(|pending| (pending.key.clone(), pending.received_at))
    }

    pub(super) fn contains(&self, seq: u64) -> bool {
        lock(&self.shared.state).pending.contains_key(&seq)
    }

    /// After a transaction that wrote these events' dedup marks: they are done, and their
    /// segments may go once sled has flushed.
    pub(super) fn stepped(&self, seqs: impl IntoIterator<Item = u64>) {
        self.shared.stepped(seqs);
    }

    /// Before sled's flush: the done events that flush makes durable.
    pub(super) fn before_flush(&self) -> Vec<(u64, u64)> {
        self.shared.before_flush()
    }

    /// After sled's flush failed: its events wait for the next one.
    pub(super) fn not_flushed(&self, done: Vec<(u64, u64)>) {
        let mut state = lock(&self.shared.state);
        for (seq, _) in done {
            if let Some(segment) = state.flushing.remove(&seq) {
                state.unflushed.push((seq, segment));
            }
        }
    }

    /// After sled's flush succeeded: deletes the closed segments nothing is pending in.
    pub(super) fn flushed(&self, done: Vec<(u64, u64)>) {
        self.shared.flushed(done);
    }

    /// The pending events, read back from their segments, by seq.
    pub(super) fn pending_entries(&self) -> StoreResult<Vec<InboxEntry>> {
        let (seqs, segments): (HashSet<u64>, Vec<u64>) = {
            let state = lock(&self.shared.state);
            (
                state.pending.keys().copied().collect(),
                state.live.keys().copied().collect(),
            )
        };
        let mut entries = Vec::new();
        for segment in segments {
            // Gone meanwhile: all its events were done.
            let Some(bytes) = self.shared.segments.read(segment)? else {
                continue;
            };
            entries.extend(
                self.shared
                    .segments
                    .records(&bytes, segment)
                    .into_iter()
                    .filter_map(|(_, payload)| {
                        decode::<InboxEntry>("inbox log entry", payload).ok()
                    })
                    .filter(|entry| seqs.contains(&entry.seq)),
            );
        }
        entries.sort_by_key(|entry| entry.seq);
        Ok(entries)
    }

    /// One pending event, read back from its segment.
    pub(super) fn entry(&self, seq: u64) -> StoreResult<Option<InboxEntry>> {
        let Some(segment) = lock(&self.shared.state)
            .pending
            .get(&seq)
            .map(|p| p.segment)
        else {
            return Ok(None);
        };
        let Some(bytes) = self.shared.segments.read(segment)? else {
            return Err(StoreError::Engine(format!(
                "inbox log: segment {segment} of a pending event is missing"
            )));
        };
        Ok(self
            .shared
            .segments
            .records(&bytes, segment)
            .into_iter()
            .filter_map(|(_, payload)| decode::<InboxEntry>("inbox log entry", payload).ok())
            .find(|entry| entry.seq == seq))
    }

    /// Takes these customers' pending events out of the log: every segment holding any is
    /// rewritten without them (an erasure must leave no copy on disk). The count dropped.
    pub(super) fn drop_customers(&self, customers: HashSet<CustomerId>) -> StoreResult<usize> {
        let (done, answer) = mpsc::channel();
        self.command(Command::Drop { customers, done })?;
        answer.recv().map_err(|_| stopped())?
    }
}

impl Shared {
    fn stepped(&self, seqs: impl IntoIterator<Item = u64>) {
        let mut state = lock(&self.state);
        for seq in seqs {
            if let Some(pending) = state.pending.remove(&seq) {
                state.keys.remove(&pending.key);
                state.unflushed.push((seq, pending.segment));
            }
        }
    }

    fn before_flush(&self) -> Vec<(u64, u64)> {
        let mut state = lock(&self.state);
        let done = std::mem::take(&mut state.unflushed);
        state.flushing.extend(done.iter().copied());
        done
    }

    fn flushed(&self, done: Vec<(u64, u64)>) {
        if done.is_empty() {
            return;
        }
        let mut doomed = Vec::new();
        {
            let mut state = lock(&self.state);
            for (seq, segment) in done {
                // Where an erasure's rewrite moved it meanwhile, if it did.
                let segment = state.flushing.remove(&seq).unwrap_or(segment);
                let Some(live) = state.live.get_mut(&segment) else {
                    continue;
                };
                *live = live.saturating_sub(1);
                if *live == 0 && segment != state.current {
                    state.live.remove(&segment);
                    doomed.push(segment);
                }
            }
        }
        for segment in doomed {
            if let Err(error) = self.segments.remove(segment) {
                tracing::warn!(%error, segment, "could not delete a done inbox log segment");
            }
        }
    }
}

/// What one batch of appends writes.
#[derive(Default)]
struct Batch {
    buffer: Vec<u8>,
    /// The batch's new keys: a second copy in the same batch is a duplicate.
    keys: HashSet<String>,
    logged: Vec<(u64, Pending)>,
}

/// The one thread that appends: it gathers what arrived while it wrote, so one fsync
/// answers a whole batch.
struct Writer {
    shared: Arc<Shared>,
    db: sled::Db,
    processed: sled::Tree,
    done: Arc<DoneMarks>,
    file: File,
    size: u64,
}

impl Writer {
    fn run(mut self, queue: &mpsc::Receiver<Command>) {
        let mut busy = false;
        while let Ok(first) = queue.recv() {
            if busy {
                std::thread::sleep(GATHER);
            }
            let mut appends = Vec::new();
            let mut next = Some(first);
            while let Some(command) = next.take().or_else(|| queue.try_recv().ok()) {
                match command {
                    Command::Append { entries, done } => appends.push((entries, done)),
                    Command::Drop { customers, done } => {
                        self.write_batch(std::mem::take(&mut appends));
                        let _ = done.send(self.drop_customers(&customers));
                    }
                }
            }
            busy = appends.len() >= 2;
            self.write_batch(appends);
        }
    }

    fn write_batch(&mut self, appends: Vec<(Vec<InboxEntry>, Answer)>) {
        if appends.is_empty() {
            return;
        }
        let (batches, dones): (Vec<_>, Vec<_>) = appends.into_iter().unzip();
        let started = std::time::Instant::now();
        metrics::histogram!("souk_inbox_log_batch_size").record(batches.len() as f64);
        let written = self.write(batches);
        metrics::histogram!("souk_inbox_log_write_seconds").record(started.elapsed().as_secs_f64());
        match written {
            Ok(results) => {
                for (done, result) in dones.into_iter().zip(results) {
                    if let Err(error) = &result {
                        tracing::error!(%error, "an append to the inbox log was refused");
                    }
                    let _ = done.send(result);
                }
            }
            Err(error) => {
                tracing::error!(%error, "inbox log write failed; its events are refused");
                let unavailable = matches!(error, StoreError::Unavailable(_));
                for done in dones {
                    let message = error.to_string();
                    let _ = done.send(Err(if unavailable {
                        StoreError::Unavailable(message)
                    } else {
                        StoreError::Engine(message)
                    }));
                }
                // Nothing is appended behind what may be a torn record.
                if let Err(error) = self.rotate() {
                    tracing::error!(%error, "inbox log could not start a new segment");
                }
            }
        }
    }

    /// One append's events into the batch; on an error, none of them (the others of the
    /// batch go on).
    fn accept(&self, entries: Vec<InboxEntry>, batch: &mut Batch) -> StoreResult<Vec<Ingested>> {
        let (bytes, logged) = (batch.buffer.len(), batch.logged.len());
        let result = self.accept_all(entries, batch);
        if result.is_err() {
            batch.buffer.truncate(bytes);
            for (_, pending) in batch.logged.drain(logged..) {
                batch.keys.remove(&pending.key);
            }
        }
        result
    }

    fn accept_all(
        &self,
        entries: Vec<InboxEntry>,
        batch: &mut Batch,
    ) -> StoreResult<Vec<Ingested>> {
        let mut result = Vec::with_capacity(entries.len());
        for mut entry in entries {
            let Some(key) = entry.dedup_key.clone() else {
                return Err(StoreError::Engine(
                    "an event without a dedup key reached the inbox log".into(),
                ));
            };
            let maybe_marked = self
                .shared
                .seen
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .may_contain(key.as_bytes());
            // The rounds' marks are looked up whatever the filters say: they hold only
            // `processed`'s keys once rebuilt after a prune.
            let duplicate = batch.keys.contains(&key)
                || lock(&self.shared.state).keys.contains_key(&key)
                || self.done.holds(&key)?
                || (maybe_marked
                    && self
                        .processed
                        .contains_key(key.as_bytes())
                        .map_err(super::engine)?);
            if duplicate {
                result.push(Ingested::Duplicate);
                continue;
            }
            entry.seq = self.db.generate_id().map_err(super::engine)?;
            let payload = encode(&entry);
            if payload.len() > MAX_RECORD_BYTES {
                // Never written: its length would read as a torn record and end the segment
                // for every event after it. (Texts are cut far below this at ingest.)
                return Err(StoreError::Engine(format!(
                    "an event of {} bytes is over the inbox log's record limit",
                    payload.len()
                )));
            }
            put_record(&mut batch.buffer, &payload);
            batch.keys.insert(key.clone());
            batch.logged.push((
                entry.seq,
                Pending {
                    key,
                    received_at: entry.received_at,
                    customer: entry.customer.clone(),
                    segment: 0,
                },
            ));
            result.push(Ingested::New(entry));
        }
        Ok(result)
    }

    fn write(
        &mut self,
        batches: Vec<Vec<InboxEntry>>,
    ) -> StoreResult<Vec<StoreResult<Vec<Ingested>>>> {
        if self.shared.directory_dirty.swap(false, Ordering::AcqRel) {
            if let Err(error) = self.db.flush() {
                self.shared.directory_dirty.store(true, Ordering::Release);
                return Err(super::engine(error));
            }
        }
        let mut batch = Batch::default();
        let results: Vec<StoreResult<Vec<Ingested>>> = batches
            .into_iter()
            .map(|entries| self.accept(entries, &mut batch))
            .collect();
        let Batch { buffer, logged, .. } = batch;
        if !buffer.is_empty() {
            self.file
                .write_all(&buffer)
                .and_then(|()| self.file.sync_data())
                .map_err(|e| self.shared.segments.io_error("appending", e))?;
            self.size += buffer.len() as u64;
            // A step that sets its event aside writes the mark into `processed`: the
            // filters must know it before the key leaves `pending` (the set-aside says so
            // again, for a rebuild of the filters in between). A step's own mark goes in its
            // round's record, which `done` knows by then.
            {
                let mut marks = self
                    .shared
                    .seen
                    .lock()
                    .unwrap_or_else(|poisoned| poisoned.into_inner());
                for (_, pending) in &logged {
                    marks.insert(pending.key.as_bytes());
                }
            }
            let mut state = lock(&self.shared.state);
            let segment = state.current;
            *state.live.entry(segment).or_default() += logged.len();
            for (seq, mut pending) in logged {
                pending.segment = segment;
                state.keys.insert(pending.key.clone(), seq);
                state.pending.insert(seq, pending);
            }
        }
        // The batch is on disk whatever happens here: a segment that could not be started is
        // tried again after the next append.
        if self.size >= SEGMENT_BYTES
            && let Err(error) = self.rotate()
        {
            tracing::error!(%error, "inbox log could not start a new segment");
        }
        Ok(results)
    }

    /// Closes the current segment (deleted at once if nothing in it is pending) and
    /// starts the next.
    fn rotate(&mut self) -> StoreResult<()> {
        let old = lock(&self.shared.state).current;
        self.file = self.shared.segments.create_segment(old + 1)?;
        self.size = 0;
        let empty = {
            let mut state = lock(&self.shared.state);
            state.current = old + 1;
            let empty = state.live.get(&old).is_none_or(|live| *live == 0);
            if empty {
                state.live.remove(&old);
            }
            empty
        };
        if empty {
            let _ = self.shared.segments.remove(old);
        }
        Ok(())
    }

    /// Copies every pending event not of `customers` into a fresh segment, then deletes all
    /// older segments: no byte of the dropped events is left in the log's files.
    fn drop_customers(&mut self, customers: &HashSet<CustomerId>) -> StoreResult<usize> {
        let (dropped, kept_seqs, old_segments): (Vec<u64>, HashSet<u64>, Vec<u64>) = {
            let state = lock(&self.shared.state);
            let mut dropped = Vec::new();
            let mut kept = HashSet::new();
            for (seq, pending) in &state.pending {
                if customers.contains(&pending.customer) {
                    dropped.push(*seq);
                } else {
                    kept.insert(*seq);
                }
            }
            // The current segment usually has live events too: each file once.
            let mut segments: Vec<u64> = state.live.keys().copied().collect();
            if !state.live.contains_key(&state.current) {
                segments.push(state.current);
            }
            (dropped, kept, segments)
        };
        // Every event stepped before the snapshot above is made durable in sled here, so
        // only the events pending in it need copying; one stepped since is copied too.
        self.db.flush().map_err(super::engine)?;
        #[cfg(test)]
        if let Some(hook) = lock_hook(&self.shared).take() {
            hook();
        }
        let mut buffer = Vec::new();
        let mut copied = HashSet::new();
        let mut unreadable = 0;
        for &segment in &old_segments {
            let Some(bytes) = self.shared.segments.read(segment)? else {
                continue;
            };
            for (_, payload) in self.shared.segments.records(&bytes, segment) {
                match decode::<InboxEntry>("inbox log entry", payload) {
                    Ok(entry) if kept_seqs.contains(&entry.seq) => {
                        put_record(&mut buffer, payload);
                        copied.insert(entry.seq);
                    }
                    Ok(_) => {}
                    // Unreadable records cannot be told apart by customer: kept.
                    Err(_) => {
                        put_record(&mut buffer, payload);
                        unreadable += 1;
                    }
                }
            }
        }
        let fresh = old_segments.iter().max().map_or(1, |last| last + 1);
        let mut file = self.shared.segments.create_segment(fresh)?;
        file.write_all(&buffer)
            .and_then(|()| file.sync_data())
            .map_err(|e| self.shared.segments.io_error("rewriting", e))?;
        {
            let mut state = lock(&self.shared.state);
            for seq in &dropped {
                if let Some(pending) = state.pending.remove(seq) {
                    state.keys.remove(&pending.key);
                }
            }
            // The fresh segment counts the copies not yet durably done: still pending, or
            // stepped since the snapshot and waiting for a flush or in one under way. A
            // copy whose flush already ended is done and not counted (it would keep the
            // segment until the next start).
            let mut to_do = unreadable;
            for seq in &copied {
                if let Some(pending) = state.pending.get_mut(seq) {
                    pending.segment = fresh;
                    to_do += 1;
                } else if let Some(segment) = state.flushing.get_mut(seq) {
                    *segment = fresh;
                    to_do += 1;
                }
            }
            state.unflushed.retain(|(seq, _)| copied.contains(seq));
            for (_, segment) in &mut state.unflushed {
                *segment = fresh;
            }
            to_do += state.unflushed.len();
            state.live.clear();
            if !buffer.is_empty() {
                state.live.insert(fresh, to_do);
            }
            state.current = fresh;
        }
        self.file = file;
        self.size = buffer.len() as u64;
        for segment in old_segments {
            self.shared.segments.remove(segment)?;
        }
        self.shared.segments.sync_dir()?;
        Ok(dropped.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flows::{Channel, Event, Inbound, InboundMessage};
    use std::path::PathBuf;

    struct Fixture {
        _dir: tempfile::TempDir,
        db: sled::Db,
        processed: sled::Tree,
        /// The rounds' marks the last `open` read, as the store holds them.
        done: std::cell::RefCell<Arc<DoneMarks>>,
        log_dir: PathBuf,
    }

    fn fixture() -> Fixture {
        let (dir, db, processed) = super::super::segment_files::temp_sled("processed");
        let log_dir = dir.path().join("inbox-log");
        let done = DoneMarks::open(&db).expect("marks open");
        Fixture {
            _dir: dir,
            db,
            processed,
            done: std::cell::RefCell::new(Arc::new(done)),
            log_dir,
        }
    }

    impl Fixture {
        fn open(&self) -> InboxLog {
            let done = Arc::new(DoneMarks::open(&self.db).expect("marks open"));
            *self.done.borrow_mut() = done.clone();
            InboxLog::open(&self.log_dir, &self.db, &self.processed, &done).expect("log opens")
        }

        fn files(&self) -> Vec<PathBuf> {
            let mut files: Vec<PathBuf> = std::fs::read_dir(&self.log_dir)
                .expect("log folder")
                .map(|file| file.expect("file").path())
                .collect();
            files.sort();
            files
        }

        /// What a crash or a bad disk leaves: the newest segment's bytes, changed.
        fn damage_newest(&self, damage: impl FnOnce(&mut Vec<u8>)) {
            let segment = self.files().pop().expect("a segment");
            let mut bytes = std::fs::read(&segment).expect("read");
            damage(&mut bytes);
            std::fs::write(&segment, bytes).expect("write");
        }

        /// What a step's commit does for a logged event (its mark in its round's record),
        /// then sled's flush.
        fn step(&self, log: &InboxLog, seq: u64) {
            self.mark(log, seq);
            log.stepped([seq]);
            let done = log.before_flush();
            self.db.flush().expect("flush");
            log.flushed(done);
        }

        /// What a step's transaction writes for a logged event: its mark in its round's
        /// record.
        fn mark(&self, log: &InboxLog, seq: u64) {
            let mark = log.mark_of(seq).expect("a logged event");
            let done = self.done.borrow().clone();
            let round = done
                .new_round(&self.db, vec![mark])
                .expect("an id")
                .expect("a round");
            done.tree()
                .insert(round.key(), round.value.as_slice())
                .expect("mark");
            done.learn(&round);
        }
    }

    fn event(key: &str, customer: &str, text: &str) -> InboxEntry {
        InboxEntry {
            claim: None,
            seq: 0,
            public_id: key.to_owned(),
            dedup_key: Some(key.to_owned()),
            customer: CustomerId(customer.to_owned()),
            event: Event::Inbound(Inbound::new(
                Channel::WhatsApp,
                InboundMessage::Text(text.to_owned()),
            )),
            received_at: Timestamp(1_700_000_000_000),
        }
    }

    fn append(log: &InboxLog, entries: Vec<InboxEntry>) -> Vec<Ingested> {
        log.append(entries)
            .blocking_recv()
            .expect("an answer")
            .expect("appended")
    }

    fn new_seq(ingested: &Ingested) -> u64 {
        match ingested {
            Ingested::New(entry) => entry.seq,
            Ingested::Duplicate => panic!("expected a new event"),
        }
    }

    fn pending_keys(log: &InboxLog) -> Vec<String> {
        log.pending_entries()
            .expect("read back")
            .into_iter()
            .filter_map(|entry| entry.dedup_key)
            .collect()
    }

    #[test]
    fn an_event_is_pending_until_its_mark_is_flushed_then_its_segment_goes() {
        let fx = fixture();
        let log = fx.open();
        let first = append(
            &log,
            vec![event("a", "c1", "hello"), event("b", "c2", "hi")],
        );
        let (a, b) = (new_seq(&first[0]), new_seq(&first[1]));
        assert!(a != b);
        assert_eq!(
            append(&log, vec![event("a", "c1", "hello again")]),
            vec![Ingested::Duplicate],
            "a key waiting in the log is a duplicate"
        );
        drop(log);

        let log = fx.open();
        assert_eq!(
            pending_keys(&log),
            ["a", "b"],
            "both come back after a stop"
        );
        assert!(log.contains(a) && log.contains(b));
        fx.step(&log, a);
        assert!(!log.contains(a));
        drop(log);

        let log = fx.open();
        assert_eq!(
            pending_keys(&log),
            ["b"],
            "a stepped event does not come back"
        );
        assert_eq!(
            append(&log, vec![event("a", "c1", "hello")]),
            vec![Ingested::Duplicate],
            "its mark in sled makes a later copy a duplicate"
        );
        fx.step(&log, b);
        drop(log);

        let log = fx.open();
        assert!(pending_keys(&log).is_empty());
        assert_eq!(
            fx.files().len(),
            1,
            "segments with nothing pending are deleted; only the new one is left"
        );
    }

    #[test]
    fn a_torn_tail_is_ignored_and_nothing_is_appended_behind_it() {
        let fx = fixture();
        let log = fx.open();
        append(&log, vec![event("a", "c1", "hello")]);
        drop(log);
        // A crash in the middle of an append: half a header, then half a record.
        fx.damage_newest(|bytes| bytes.extend_from_slice(&[200, 0, 0, 0, 1, 2]));

        let log = fx.open();
        assert_eq!(pending_keys(&log), ["a"]);
        append(&log, vec![event("c", "c1", "later")]);
        drop(log);
        let log = fx.open();
        assert_eq!(
            pending_keys(&log),
            ["a", "c"],
            "the later event is in a segment of its own"
        );
    }

    #[test]
    fn a_damaged_record_ends_its_segment_and_no_earlier_one() {
        let fx = fixture();
        let log = fx.open();
        append(&log, vec![event("a", "c1", "one")]);
        append(&log, vec![event("b", "c1", "two")]);
        drop(log);
        fx.damage_newest(|bytes| {
            if let Some(last) = bytes.last_mut() {
                *last ^= 0xff;
            }
        });
        let log = fx.open();
        assert_eq!(
            pending_keys(&log),
            ["a"],
            "the record failing its checksum is not read"
        );
    }

    #[test]
    fn marks_sled_holds_make_duplicates_without_the_log() {
        let fx = fixture();
        fx.processed.insert("before", &[0u8; 8]).expect("mark");
        let log = fx.open();
        assert_eq!(
            append(&log, vec![event("before", "c1", "x")]),
            vec![Ingested::Duplicate]
        );
        // A mark written through the group commit while the log runs.
        fx.processed.insert("during", &[0u8; 8]).expect("mark");
        log.mark_seen(b"during");
        assert_eq!(
            append(&log, vec![event("during", "c1", "x")]),
            vec![Ingested::Duplicate]
        );
        let in_one_batch = append(&log, vec![event("new", "c1", "x"), event("new", "c1", "x")]);
        assert!(matches!(in_one_batch[0], Ingested::New(_)));
        assert_eq!(
            in_one_batch[1],
            Ingested::Duplicate,
            "the second copy in one append"
        );
    }

    #[test]
    fn a_refused_append_writes_none_of_its_events_and_keeps_no_key() {
        let fx = fixture();
        let log = fx.open();
        let mut keyless = event("x", "c1", "no key");
        keyless.dedup_key = None;
        let huge = event("h", "c1", &"a".repeat(MAX_RECORD_BYTES + 1));
        for bad in [keyless, huge] {
            let refused = log
                .append(vec![event("good", "c1", "fine"), bad])
                .blocking_recv()
                .expect("an answer");
            assert!(refused.is_err(), "the append is refused as a whole");
            assert!(pending_keys(&log).is_empty(), "nothing of it is pending");
        }
        assert!(
            matches!(
                append(&log, vec![event("good", "c1", "fine")])[..],
                [Ingested::New(_)]
            ),
            "its key was not kept: the event is new when it comes again"
        );
        drop(log);
        assert_eq!(
            pending_keys(&fx.open()),
            ["good"],
            "and nothing refused was written"
        );
    }

    /// An erasure's rewrite copies the events pending at its start; those stepped while it
    /// copies, flushed already or in a flush still under way, must not keep the fresh
    /// segment counted (it would never be deleted).
    #[test]
    fn events_stepped_during_a_rewrite_leave_the_fresh_segment_counted_right() {
        let fx = fixture();
        let log = fx.open();
        let flushed = new_seq(&append(&log, vec![event("a", "ion", "cart")])[0]);
        let flushing = new_seq(&append(&log, vec![event("b", "ion", "menu")])[0]);
        let waiting = new_seq(&append(&log, vec![event("c", "ion", "help")])[0]);
        append(&log, vec![event("d", "dana", "call me on 0722")]);
        // Their steps' transactions committed; what follows them happens during the copy.
        fx.mark(&log, flushed);
        fx.mark(&log, flushing);
        let in_flight = Arc::new(Mutex::new(Vec::new()));
        {
            let shared = log.shared.clone();
            let in_flight = in_flight.clone();
            *lock_hook(&log.shared) = Some(Box::new(move || {
                shared.stepped([flushed]);
                let done = shared.before_flush();
                shared.flushed(done);
                shared.stepped([flushing]);
                *in_flight.lock().expect("lock") = shared.before_flush();
            }));
        }
        log.drop_customers(HashSet::from([CustomerId("dana".into())]))
            .expect("dropped");
        log.flushed(std::mem::take(&mut *in_flight.lock().expect("lock")));
        let fresh = {
            let state = lock(&log.shared.state);
            assert_eq!(
                state.live.get(&state.current),
                Some(&1),
                "only one event left to do"
            );
            state.current
        };
        // The last one done, nothing keeps the fresh segment once it is closed (the reopen
        // below recounts from disk, so only the counts above catch a wrong one).
        fx.step(&log, waiting);
        assert_eq!(lock(&log.shared.state).live.get(&fresh), Some(&0));
        drop(log);
        let log = fx.open();
        assert!(pending_keys(&log).is_empty());
        assert!(
            !fx.files()
                .iter()
                .any(|file| file.ends_with(format!("{fresh:020}.log")))
        );
    }

    /// A failed sled flush leaves its events for the next one: counted off once, by it.
    #[test]
    fn a_failed_flush_hands_its_events_to_the_next_one() {
        let fx = fixture();
        let log = fx.open();
        let seq = new_seq(&append(&log, vec![event("a", "ion", "cart")])[0]);
        let segment = lock(&log.shared.state).current;
        fx.mark(&log, seq);
        log.stepped([seq]);
        log.not_flushed(log.before_flush());
        assert_eq!(lock(&log.shared.state).live.get(&segment), Some(&1));
        let done = log.before_flush();
        assert_eq!(done, [(seq, segment)]);
        log.flushed(done);
        let state = lock(&log.shared.state);
        assert_eq!(state.live.get(&segment), Some(&0));
        assert!(state.flushing.is_empty() && state.unflushed.is_empty());
    }

    #[test]
    fn dropping_customers_leaves_no_byte_of_their_events_on_disk() {
        let fx = fixture();
        let log = fx.open();
        append(&log, vec![event("a", "dana", "my street is Lipscani 12")]);
        let kept = new_seq(&append(&log, vec![event("b", "ion", "cart")])[0]);
        append(&log, vec![event("c", "dana", "call me on 0722")]);
        assert_eq!(
            log.drop_customers(HashSet::from([CustomerId("dana".into())]))
                .expect("dropped"),
            2
        );
        assert_eq!(pending_keys(&log), ["b"]);
        for file in fx.files() {
            let bytes = std::fs::read(&file).expect("read");
            let text = String::from_utf8_lossy(&bytes);
            assert!(
                !text.contains("Lipscani") && !text.contains("0722"),
                "{text}"
            );
        }
        // The kept event is still stepped and its segment goes as usual.
        fx.step(&log, kept);
        drop(log);
        let log = fx.open();
        assert!(pending_keys(&log).is_empty());
        assert_eq!(fx.files().len(), 1);
    }
}
