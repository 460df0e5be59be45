//! What wirefeed remembers across restarts, in a small redb file under
//! `state.dir`: per article path its GUID, id, first published date, last
//! content hash and `updated` date.
//!
//! The catalog's entries carry the records of the articles it holds. This
//! store keeps in memory only the records of files that went away (rename
//! sources) and those a reload gives back; a path the catalog does not
//! hold (a restart's scan) has its record read from the file when it shows
//! up. Changes are written through by a thread of its own, one transaction per batch (at most one per `COMMIT_EVERY` in a
//! burst): a commit's `fdatasync` can take long while the disk is busy,
//! and the publisher must never wait for it between two publishes. That
//! thread also serializes the records, and between rounds the publisher
//! hands it only what its queue takes without waiting. The store only
//! refines identity: if it is lost, corrupt or unwritable, GUIDs and dates
//! fall back to what the files themselves say, and wirefeed keeps serving.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use chrono::{DateTime, FixedOffset};
use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::model::Guid;

const RECORDS: TableDefinition<&str, &[u8]> = TableDefinition::new("records");
const FILE_NAME: &str = "state.redb";
/// redb's page cache: enough for the B-tree's upper levels.
const CACHE_BYTES: usize = 4 << 20;
/// Records per message to the writer, and messages it may fall behind by:
/// a first start hands over a record per article at once, and what is in
/// flight (and in one transaction) adds to the peak memory.
const CHUNK: usize = 256;
const QUEUE: usize = 4;
/// The shortest time between two commits. A burst hands the writer a few
/// records per round, hundreds of rounds a second, and every commit writes
/// and syncs pages whatever it holds: CPU taken from the burst for records
/// that only refine what the files say. Changes after a quiet spell are
/// committed at once.
const COMMIT_EVERY: Duration = Duration::from_millis(100);

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state store {path}: {message}")]
    Store { path: PathBuf, message: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Record {
    /// Shared with the catalog's entry (one copy per article).
    pub guid: Guid,
    pub id: Arc<str>,
    /// Stored as RFC 3339, offset kept.
    pub published: DateTime<FixedOffset>,
    pub updated: DateTime<FixedOffset>,
    pub hash: u64,
    /// Set when the file went away; a file with the same content showing up
    /// elsewhere takes this record over (a rename or move).
    pub gone: bool,
    /// Bumped when a different article appears at a path whose last article
    /// was deleted, so it gets a new GUID.
    #[serde(default)]
    pub generation: u32,
}

pub struct StateStore {
    writer: Option<Writer>,
    /// Read by [`StateStore::take`] and friends, written by the writer.
    db: Option<Arc<Database>>,
    path: PathBuf,
    /// The records of gone files, and those a reload gave back (see the
    /// module doc); a path the catalog takes over leaves with its record
    /// ([`StateStore::take`]).
    records: HashMap<Arc<str>, Record>,
    /// Paths whose record was deleted while running: the file may hold it
    /// until the writer's commit.
    forgotten: HashSet<Arc<str>>,
    /// The records of files gone, by content hash: where a file that shows
    /// up with the same bytes was renamed from.
    by_hash: HashMap<u64, Arc<str>>,
    /// Records changed (`None`: deleted) since the last hand-over.
    pending: HashMap<Arc<str>, Option<Record>>,
    /// A chunk the writer's full queue refused, handed over first next
    /// time: built once, not again at every round of a burst. A path
    /// changed again since is pending anew, and goes after it.
    held: Option<Rows>,
}

impl StateStore {
    /// A store that remembers nothing (for `wirefeed build`).
    pub fn in_memory() -> Self {
        StateStore {
            writer: None,
            db: None,
            path: PathBuf::new(),
            records: HashMap::new(),
            forgotten: HashSet::new(),
            by_hash: HashMap::new(),
            pending: HashMap::new(),
            held: None,
        }
    }

    /// Opens (or creates) the store in `dir`. A corrupt store is moved aside
    /// and rebuilt from the articles; an unusable directory leaves a store
    /// that only lives in memory. Either way the second value says why.
    pub fn open(dir: &Path) -> (Self, Option<String>) {
        let path = dir.join(FILE_NAME);
        match Self::try_open(&path) {
            Ok(store) => (store, None),
            Err(first) => {
                let aside = dir.join(format!("{FILE_NAME}.corrupt"));
                let moved = path.exists() && std::fs::rename(&path, &aside).is_ok();
                if moved {
                    if let Ok(store) = Self::try_open(&path) {
                        return (
                            store,
                            Some(format!(
                                "{first}; moved it to {} and started a new one",
                                aside.display()
                            )),
                        );
                    }
                }
                let mut store = Self::in_memory();
                store.path = path;
                (store, Some(format!("{first}; remembering in memory only")))
            }
        }
    }

    fn try_open(path: &Path) -> Result<Self, StateError> {
        let err = |e: &dyn std::fmt::Display| StateError::Store {
            path: path.to_path_buf(),
            message: e.to_string(),
        };
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| err(&e))?;
        }
        // Records are read once a path at most (a restart's scan), so
        // redb's own page cache (up to 1 GiB by default) would mostly keep
        // what is not read again; a small one serves the B-tree's upper
        // levels.
        let db = redb::Builder::new()
            .set_cache_size(CACHE_BYTES)
            .create(path)
            .map_err(|e| err(&e))?;
        let mut records: HashMap<Arc<str>, Record> = HashMap::new();
        {
            let tx = db.begin_write().map_err(|e| err(&e))?;
            tx.open_table(RECORDS).map_err(|e| err(&e))?;
            tx.commit().map_err(|e| err(&e))?;
            let tx = db.begin_read().map_err(|e| err(&e))?;
            let table = tx.open_table(RECORDS).map_err(|e| err(&e))?;
            // Only the records of gone files stay in memory: the rename
            // sources.
            for row in table.iter().map_err(|e| err(&e))? {
                let (k, v) = row.map_err(|e| err(&e))?;
                if let Some(rec) = decode(v.value()).filter(|r| r.gone) {
                    records.insert(Arc::from(k.value()), rec);
                }
            }
        }
        let by_hash = records
            .iter()
            .filter(|(_, r)| r.gone)
            .map(|(p, r)| (r.hash, p.clone()))
            .collect();
        let db = Arc::new(db);
        let writer = Writer::spawn(db.clone(), path.to_path_buf()).map_err(|e| err(&e))?;
        Ok(StateStore {
            writer: Some(writer),
            db: Some(db),
            path: path.to_path_buf(),
            records,
            forgotten: HashSet::new(),
            by_hash,
            pending: HashMap::new(),
            held: None,
        })
    }

    /// The record of `path`, which the catalog does not hold.
    pub fn get(&self, path: &str) -> Option<Record> {
        if let Some(rec) = self.records.get(path) {
            return Some(rec.clone());
        }
        if self.forgotten.contains(path) {
            return None;
        }
        self.read(path)
    }

    /// The record of `path` as the file holds it. Every change since it
    /// was opened is elsewhere: in the catalog's entry, in `records`, or
    /// in `forgotten`.
    fn read(&self, path: &str) -> Option<Record> {
        let db = self.db.as_ref()?;
        let found = read_table(db).and_then(|table| {
            let row = table.get(path).map_err(|e| e.to_string())?;
            Ok(row.and_then(|v| decode(v.value())))
        });
        // A record we cannot read is only a lost refinement.
        found.unwrap_or_else(|message| {
            tracing::warn!(path = %self.path.display(), error = %message, "cannot read the state store");
            None
        })
    }

    /// Hands the record of `path` (and the store's copy of the path) to
    /// the catalog, which holds the path from now on.
    pub fn take(&mut self, path: &str) -> Option<(Arc<str>, Record)> {
        let Some((path, rec)) = self.records.remove_entry(path) else {
            return self.get(path).map(|rec| (Arc::from(path), rec));
        };
        self.unindex(&path, rec.hash);
        Some((path, rec))
    }

    /// Gives the record of a path back, as it is stored (the catalog is
    /// built anew, and takes it again).
    pub fn restore(&mut self, path: Arc<str>, rec: Record) {
        self.forgotten.remove(&path);
        if rec.gone {
            self.by_hash.insert(rec.hash, path.clone());
        }
        self.records.insert(path, rec);
    }

    /// A record of a file that went away with this content: a rename source.
    pub fn gone_with_hash(&self, hash: u64) -> Option<(&str, &Record)> {
        let path = self.by_hash.get(&hash)?;
        let rec = self.records.get(path)?;
        (rec.gone && rec.hash == hash).then_some((&**path, rec))
    }

    /// Stores a new record for `path`: kept here when it is gone, else the
    /// catalog's entry holds it.
    pub fn put(&mut self, path: Arc<str>, rec: Record) {
        self.forgotten.remove(&path);
        let old = match rec.gone {
            true => {
                self.by_hash.insert(rec.hash, path.clone());
                self.records.insert(path.clone(), rec.clone())
            }
            false => self.records.remove(&path),
        };
        if let Some(old) = old {
            self.unindex(&path, old.hash);
        }
        self.pending.insert(path, Some(rec));
    }

    pub fn forget(&mut self, path: &str) {
        if let Some((path, rec)) = self.records.remove_entry(path) {
            self.unindex(&path, rec.hash);
            self.forgotten.insert(path.clone());
            self.pending.insert(path, None);
        }
    }

    /// Drops `path` from the rename index under `hash`, unless its record
    /// (still there) is gone with that very content.
    fn unindex(&mut self, path: &Arc<str>, hash: u64) {
        let current = self.records.get(path);
        if current.is_some_and(|r| r.gone && r.hash == hash) {
            return;
        }
        if self.by_hash.get(&hash) == Some(path) {
            self.by_hash.remove(&hash);
        }
    }

    /// Marks the record of `path` (not in the catalog) gone.
    pub fn mark_gone(&mut self, path: &str) {
        if let Some(mut rec) = self.get(path).filter(|r| !r.gone) {
            rec.gone = true;
            self.put(path.into(), rec);
        }
    }

    /// Marks gone the records of files the catalog does not hold that
    /// `on_disk` does not have either: what went away while wirefeed was
    /// stopped. Reads the whole file once, keeping none of it.
    pub fn mark_gone_unless(&mut self, on_disk: impl Fn(&str) -> bool) {
        let Some(db) = self.db.clone() else {
            return;
        };
        let mut went: Vec<(Arc<str>, Record)> = Vec::new();
        let read = read_table(&db).and_then(|table| {
            for row in table.iter().map_err(|e| e.to_string())? {
                let (k, v) = row.map_err(|e| e.to_string())?;
                let path = k.value();
                if on_disk(path) || self.records.contains_key(path) || self.forgotten.contains(path)
                {
                    continue;
                }
                if let Some(rec) = decode(v.value()).filter(|r| !r.gone) {
                    went.push((path.into(), rec));
                }
            }
            Ok(())
        });
        if let Err(message) = read {
            tracing::warn!(path = %self.path.display(), error = %message, "cannot read the state store");
        }
        for (path, mut rec) in went {
            rec.gone = true;
            self.put(path, rec);
        }
    }

    /// Hands every pending change to the writer thread, which commits them
    /// (in one transaction with whatever else it has queued), waiting for
    /// room in its queue. A failed commit (disk full, read-only mount) is
    /// logged there and retried with the next changes; this only fails when
    /// the writer is gone.
    pub fn flush(&mut self) -> Result<(), StateError> {
        self.hand_over(true)
    }

    /// Like [`StateStore::flush`], but hands over only what the writer's
    /// queue takes at once; the rest stays pending for the next call. A
    /// burst's publisher must not wait for commits (an `fdatasync` each)
    /// between two publishes.
    pub fn flush_some(&mut self) -> Result<(), StateError> {
        self.hand_over(false)
    }

    /// Whether changes are waiting for [`StateStore::flush_some`].
    pub fn has_pending(&self) -> bool {
        self.held.is_some() || !self.pending.is_empty()
    }

    fn hand_over(&mut self, wait: bool) -> Result<(), StateError> {
        let Some(writer) = &self.writer else {
            self.pending.clear();
            return Ok(());
        };
        let stopped = |message| StateError::Store {
            path: self.path.clone(),
            message,
        };
        if let Some(rows) = self.held.take() {
            self.held = writer.send(rows, wait).map_err(stopped)?;
            if self.held.is_some() {
                return Ok(());
            }
        }
        while !self.pending.is_empty() {
            // Records, not their JSON: the writer thread serializes them,
            // not the publisher in the middle of a round.
            let paths: Vec<Arc<str>> = self.pending.keys().take(CHUNK).cloned().collect();
            let rows: Rows = paths
                .iter()
                .filter_map(|path| self.pending.remove_entry(path))
                .collect();
            self.held = writer.send(rows, wait).map_err(stopped)?;
            if self.held.is_some() {
                break;
            }
        }
        Ok(())
    }
}

impl Drop for StateStore {
    /// Waits for the writer to commit what it was handed.
    fn drop(&mut self) {
        if let Some(writer) = self.writer.take() {
            writer.finish();
        }
    }
}

/// The records as the last commit left them.
fn read_table(db: &Database) -> Result<redb::ReadOnlyTable<&'static str, &'static [u8]>, String> {
    let tx = db.begin_read().map_err(|e| e.to_string())?;
    tx.open_table(RECORDS).map_err(|e| e.to_string())
}

/// A stored record; `None` for one we cannot read, only a lost refinement.
fn decode(json: &[u8]) -> Option<Record> {
    serde_json::from_slice(json).ok()
}

/// Records by path; `None` deletes the path's record.
type Rows = Vec<(Arc<str>, Option<Record>)>;

/// The thread that owns the redb file and commits what it is sent.
struct Writer {
    tx: SyncSender<Rows>,
    thread: JoinHandle<()>,
}

impl Writer {
    fn spawn(db: Arc<Database>, path: PathBuf) -> std::io::Result<Self> {
        let (tx, rx) = std::sync::mpsc::sync_channel::<Rows>(QUEUE);
        let thread = std::thread::Builder::new()
            .name("wirefeed-state".into())
            .spawn(move || write_loop(&db, &path, rx))?;
        Ok(Writer { tx, thread })
    }

    /// `Ok(Some(rows))`: the queue is full and `wait` is false; the rows
    /// come back untaken.
    fn send(&self, rows: Rows, wait: bool) -> Result<Option<Rows>, String> {
        let stopped = || "the state writer thread stopped".to_string();
        if wait {
            return self.tx.send(rows).map(|()| None).map_err(|_| stopped());
        }
        match self.tx.try_send(rows) {
            Ok(()) => Ok(None),
            Err(TrySendError::Full(rows)) => Ok(Some(rows)),
            Err(TrySendError::Disconnected(_)) => Err(stopped()),
        }
    }

    fn finish(self) {
        drop(self.tx);
        if self.thread.join().is_err() {
            tracing::error!("the state writer thread panicked");
        }
    }
}

/// Commits batches as they come, coalescing whatever queued up meanwhile,
/// at most one commit per [`COMMIT_EVERY`]; keeps a failed batch and tries
/// it again with the next one.
fn write_loop(db: &Database, path: &Path, rx: Receiver<Rows>) {
    let mut unwritten: HashMap<Arc<str>, Option<Record>> = HashMap::new();
    let mut last_commit: Option<Instant> = None;
    let mut open = true;
    while open {
        match rx.recv() {
            Ok(rows) => unwritten.extend(rows),
            Err(_) => break,
        }
        // Soon after a commit, gather (and keep the queue empty, so the
        // publisher never finds it full) until the interval is over, or
        // until as much waits as the queue holds: a first start hands over
        // a record per article, and one commit of all of them would raise
        // the peak memory.
        if let Some(deadline) = last_commit.map(|t| t + COMMIT_EVERY) {
            while unwritten.len() < CHUNK * QUEUE {
                let Some(left) = deadline.checked_duration_since(Instant::now()) else {
                    break;
                };
                match rx.recv_timeout(left) {
                    Ok(rows) => unwritten.extend(rows),
                    Err(RecvTimeoutError::Timeout) => break,
                    Err(RecvTimeoutError::Disconnected) => {
                        open = false;
                        break;
                    }
                }
            }
        }
        while let Ok(more) = rx.try_recv() {
            unwritten.extend(more);
        }
        match commit(db, &unwritten) {
            Ok(()) => unwritten.clear(),
            Err(message) => {
                let e = StateError::Store {
                    path: path.to_path_buf(),
                    message,
                };
                tracing::warn!(error = %e, "cannot write the state store; will retry");
            }
        }
        last_commit = Some(Instant::now());
    }
    if !unwritten.is_empty() {
        if let Err(message) = commit(db, &unwritten) {
            tracing::warn!(path = %path.display(), error = %message, "state changes lost at shutdown");
        }
    }
}

fn commit(db: &Database, rows: &HashMap<Arc<str>, Option<Record>>) -> Result<(), String> {
    let err = |e: &dyn std::fmt::Display| e.to_string();
    let tx = db.begin_write().map_err(|e| err(&e))?;
    {
        let mut table = tx.open_table(RECORDS).map_err(|e| err(&e))?;
        let mut json = Vec::with_capacity(256);
        for (path, rec) in rows {
            match rec {
                Some(rec) => {
                    json.clear();
                    // A Record always serializes; a failure would only
                    // lose this refinement.
                    if serde_json::to_writer(&mut json, rec).is_ok() {
                        table
                            .insert(&**path, json.as_slice())
                            .map_err(|e| err(&e))?;
                    }
                }
                None => {
                    table.remove(&**path).map_err(|e| err(&e))?;
                }
            }
        }
    }
    tx.commit().map_err(|e| err(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(hash: u64) -> Record {
        Record {
            guid: Guid::new("g"),
            id: "i".into(),
            published: DateTime::parse_from_rfc3339("2024-05-14T14:10:00+05:00").expect("date"),
            updated: DateTime::parse_from_rfc3339("2024-05-14T14:11:00+05:00").expect("date"),
            hash,
            gone: false,
            generation: 0,
        }
    }

    #[test]
    fn records_survive_reopen() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut s, warning) = StateStore::open(dir.path());
        assert!(warning.is_none());
        s.put("a.txt".into(), rec(1));
        s.put("b.txt".into(), rec(2));
        s.flush().expect("flush");
        drop(s);
        // Read back, a record the catalog has not taken is the store's.
        let (mut s, _) = StateStore::open(dir.path());
        s.mark_gone("b.txt");
        s.flush().expect("flush");
        drop(s);
        let (s, _) = StateStore::open(dir.path());
        assert_eq!(s.get("a.txt"), Some(rec(1)));
        assert_eq!(s.gone_with_hash(2).map(|(p, _)| p), Some("b.txt"));
        assert!(s.gone_with_hash(1).is_none());
    }

    #[test]
    fn records_left_on_file_are_read_when_asked_for() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut s, _) = StateStore::open(dir.path());
        s.put("kept.txt".into(), rec(1));
        s.put("went.txt".into(), rec(2));
        s.put("moved.txt".into(), rec(3));
        s.flush().expect("flush");
        drop(s);
        // Restarted: kept.txt is still there, went.txt and moved.txt are
        // not, and a file with moved.txt's content showed up elsewhere.
        let (mut s, _) = StateStore::open(dir.path());
        assert!(s.gone_with_hash(2).is_none());
        s.mark_gone_unless(|path| path == "kept.txt");
        assert_eq!(s.gone_with_hash(2).map(|(p, _)| p), Some("went.txt"));
        assert_eq!(
            s.take("kept.txt").map(|(p, r)| (p.to_string(), r)),
            Some(("kept.txt".into(), rec(1)))
        );
        assert_eq!(s.gone_with_hash(3).map(|(p, _)| p), Some("moved.txt"));
        s.forget("moved.txt");
        // Deleted, whether or not the writer has committed that yet.
        assert!(s.get("moved.txt").is_none());
        assert!(s.take("moved.txt").is_none());
        s.flush().expect("flush");
        drop(s);
        let (s, _) = StateStore::open(dir.path());
        assert!(s.get("moved.txt").is_none());
        assert_eq!(s.gone_with_hash(2).map(|(p, _)| p), Some("went.txt"));
        assert_eq!(s.get("kept.txt"), Some(rec(1)));
    }

    #[test]
    fn only_gone_records_are_rename_sources() {
        let gone = |hash| Record {
            gone: true,
            ..rec(hash)
        };
        let mut s = StateStore::in_memory();
        s.put("a.txt".into(), rec(1));
        s.put("b.txt".into(), rec(1));
        assert!(s.gone_with_hash(1).is_none(), "both files are there");
        assert!(s.get("a.txt").is_none(), "the catalog holds live records");
        s.put("a.txt".into(), gone(1));
        // b.txt written again with the content a.txt had: a.txt is still
        // where a file with that content comes from.
        s.put("b.txt".into(), rec(1));
        assert_eq!(s.gone_with_hash(1).map(|(p, _)| p), Some("a.txt"));
        // Taken over (the rename happened): no longer a source.
        s.forget("a.txt");
        assert!(s.gone_with_hash(1).is_none());
        // A gone file that comes back is no source either.
        s.put("b.txt".into(), gone(1));
        assert_eq!(s.gone_with_hash(1).map(|(p, _)| p), Some("b.txt"));
        let (path, taken) = s.take("b.txt").expect("b.txt's record");
        assert_eq!((&*path, taken), ("b.txt", gone(1)));
        assert!(s.gone_with_hash(1).is_none());
        assert!(s.get("b.txt").is_none());
    }

    #[test]
    fn changes_handed_over_in_parts_are_all_written() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (mut s, _) = StateStore::open(dir.path());
        // Three times what the writer's queue holds: each call hands over
        // only what fits, the rest must stay pending, not get lost.
        let n = (CHUNK * QUEUE * 3) as u64;
        for i in 0..n {
            s.put(format!("{i}.txt").into(), rec(i));
        }
        s.flush_some().expect("hand over");
        // Changed again while older records wait in (or were refused by)
        // the full queue: the newer record must be the one that stays.
        for i in (0..n).step_by(3) {
            s.put(format!("{i}.txt").into(), rec(i + n));
        }
        while s.has_pending() {
            std::thread::sleep(std::time::Duration::from_millis(1));
            s.flush_some().expect("hand over");
        }
        drop(s);
        let (s, _) = StateStore::open(dir.path());
        for i in 0..n {
            let want = if i % 3 == 0 { rec(i + n) } else { rec(i) };
            assert_eq!(s.get(&format!("{i}.txt")), Some(want), "record {i}");
        }
    }

    #[test]
    fn a_corrupt_store_is_moved_aside_not_fatal() {
        let dir = tempfile::tempdir().expect("tempdir");
        std::fs::write(
            dir.path().join(FILE_NAME),
            b"this is not a redb file at all",
        )
        .expect("write");
        let (mut s, warning) = StateStore::open(dir.path());
        assert!(warning.expect("a warning").contains("corrupt"));
        s.put("a.txt".into(), rec(1));
        s.flush().expect("new store works");
        assert!(dir.path().join("state.redb.corrupt").exists());
    }
}
