//! Append-only segment files, as the inbox log (`inbox_log.rs`) and the history log
//! (`history_log.rs`) keep them beside sled: numbered files of records, each a
//! little-endian u32 length, the payload's CRC32, then the payload.

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};

use crate::store::{StoreError, StoreResult};

/// Larger than any record either log writes (texts are cut to the channels' limits before
/// they get here); a length beyond it can only be a torn or damaged record.
pub(super) const MAX_RECORD_BYTES: usize = 1024 * 1024;

/// Length and CRC32 of the payload, each a little-endian u32.
pub(super) const HEADER_BYTES: usize = 8;

/// One log's folder of segments: `NNN….log`.
#[derive(Clone)]
pub(super) struct Segments {
    dir: PathBuf,
    /// The log's name in errors and warnings.
    name: &'static str,
}

impl Segments {
    pub(super) fn create(dir: &Path, name: &'static str) -> StoreResult<Segments> {
        let segments = Segments {
            dir: dir.to_path_buf(),
            name,
        };
        std::fs::create_dir_all(dir).map_err(|e| segments.io_error("creating its folder", e))?;
        Ok(segments)
    }

    pub(super) fn io_error(&self, what: &str, error: std::io::Error) -> StoreError {
        let message = format!("{}: {what}: {error}", self.name);
        if error.kind() == std::io::ErrorKind::StorageFull {
            StoreError::Unavailable(message)
        } else {
            StoreError::Engine(message)
        }
    }

    pub(super) fn path(&self, segment: u64) -> PathBuf {
        self.dir.join(format!("{segment:020}.log"))
    }

    /// The segment numbers in the folder, lowest first.
    pub(super) fn list(&self) -> StoreResult<Vec<u64>> {
        let mut segments = Vec::new();
        for item in std::fs::read_dir(&self.dir).map_err(|e| self.io_error("listing", e))? {
            let name = item.map_err(|e| self.io_error("listing", e))?.file_name();
            if let Some(number) = name
                .to_str()
                .and_then(|name| name.strip_suffix(".log"))
                .and_then(|number| number.parse::<u64>().ok())
            {
                segments.push(number);
            }
        }
        segments.sort_unstable();
        Ok(segments)
    }

    /// A segment's bytes; `None` when it is gone (deleted meanwhile).
    pub(super) fn read(&self, segment: u64) -> StoreResult<Option<Vec<u8>>> {
        match std::fs::read(self.path(segment)) {
            Ok(bytes) => Ok(Some(bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(self.io_error("reading", error)),
        }
    }

    /// Deletes a segment; one already gone is fine.
    pub(super) fn remove(&self, segment: u64) -> StoreResult<()> {
        match std::fs::remove_file(self.path(segment)) {
            Ok(()) => Ok(()),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(error) => Err(self.io_error("deleting a segment", error)),
        }
    }

    pub(super) fn sync_dir(&self) -> StoreResult<()> {
        File::open(&self.dir)
            .and_then(|dir| dir.sync_all())
            .map_err(|e| self.io_error("syncing its folder", e))
    }

    /// Creates an empty segment for appending, its name durable in the folder.
    pub(super) fn create_segment(&self, segment: u64) -> StoreResult<File> {
        let file = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(self.path(segment))
            .map_err(|e| self.io_error("creating a segment", e))?;
        if let Err(error) = self.sync_dir() {
            // Not left behind: the next try creates it again.
            let _ = std::fs::remove_file(self.path(segment));
            return Err(error);
        }
        Ok(file)
    }

    /// Deletes what a crash in the middle of `replace` left.
    pub(super) fn remove_leftover_rewrites(&self) -> StoreResult<()> {
        for item in std::fs::read_dir(&self.dir).map_err(|e| self.io_error("listing", e))? {
            let path = item.map_err(|e| self.io_error("listing", e))?.path();
            if path.extension().is_some_and(|ext| ext == "rewrite") {
                std::fs::remove_file(&path)
                    .map_err(|e| self.io_error("deleting an unfinished rewrite", e))?;
            }
        }
        Ok(())
    }

    /// Replaces a segment with `bytes` whole: written beside it, fsynced, then renamed over
    /// it, so a crash leaves the old segment or the new one, never a mix.
    pub(super) fn replace(&self, segment: u64, bytes: &[u8]) -> StoreResult<()> {
        use std::io::Write as _;
        let fresh = self.dir.join(format!("{segment:020}.rewrite"));
        let written = File::create(&fresh)
            .and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_data()))
            .and_then(|()| std::fs::rename(&fresh, self.path(segment)));
        if let Err(error) = written {
            let _ = std::fs::remove_file(&fresh);
            return Err(self.io_error("rewriting a segment", error));
        }
        self.sync_dir()
    }

    /// The records of one segment with their offsets, in order, up to the first torn or
    /// damaged one.
    pub(super) fn records<'a>(&self, bytes: &'a [u8], segment: u64) -> Vec<(usize, &'a [u8])> {
        let mut records = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            match record_at(&bytes[at..]) {
                Ok((payload, size)) => {
                    records.push((at, payload));
                    at += size;
                }
                Err(damage) => {
                    tracing::warn!(
                        log = self.name,
                        segment,
                        "a segment ends in {damage}; the rest is ignored"
                    );
                    break;
                }
            }
        }
        records
    }
}

pub(super) fn put_record(buffer: &mut Vec<u8>, payload: &[u8]) {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    buffer.extend_from_slice(&len.to_le_bytes());
    buffer.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    buffer.extend_from_slice(payload);
}

/// The record at the start of `bytes`: its payload and its size with the header; or what
/// is wrong with it.
pub(super) fn record_at(bytes: &[u8]) -> Result<(&[u8], usize), &'static str> {
    let Some((header, body)) = bytes.split_at_checked(HEADER_BYTES) else {
        return Err("a torn record header");
    };
    let word = |at: usize| {
        header
            .get(at..at + 4)
            .and_then(|raw| <[u8; 4]>::try_from(raw).ok())
            .map_or(0, u32::from_le_bytes)
    };
    let (len, crc) = (word(0) as usize, word(4));
    let Some(payload) = body.get(..len).filter(|_| len <= MAX_RECORD_BYTES) else {
        return Err("a torn record");
    };
    if crc32fast::hash(payload) != crc {
        return Err("a record that fails its checksum");
    }
    Ok((payload, HEADER_BYTES + len))
}

/// A sled database in a temporary folder and one of its trees, for the logs' tests.
#[cfg(test)]
pub(super) fn temp_sled(tree: &str) -> (tempfile::TempDir, sled::Db, sled::Tree) {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = sled::Config::new()
        .path(dir.path().join("db"))
        .open()
        .expect("sled");
    let tree = db.open_tree(tree).expect("tree");
    (dir, db, tree)
}
