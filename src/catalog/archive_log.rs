//! The archive log: which complete pages each feed has, and each
//! article's version in the newest page holding it (see `archive`).
//!
//! What the complete pages hold (path and version of each article) is
//! appended to `archives/<slug>.log` in the state directory, one JSON line
//! per article and one per page, and read back at start-up. The log starts
//! over when a setting that shapes the documents changes (see
//! [`fingerprint`]).

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use foldhash::HashSet;
use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::model::{Entry, SharedEntry};

/// A page that completed: to render once and store.
pub struct PageWork {
    pub feed: usize,
    /// 1 is the oldest page.
    pub number: usize,
    /// Newest first.
    pub entries: Vec<SharedEntry>,
}

/// A complete page, as logged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PageMeta {
    pub number: usize,
}

/// One line of a feed's log.
#[derive(Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Line {
    /// First line: the settings the pages were rendered under.
    Config { fingerprint: u64 },
    /// An article of the page being completed.
    Item {
        path: String,
        /// The path's generation (see `catalog::identity`): a new article
        /// at the path of a deleted one is not archived by the old one's
        /// pages.
        #[serde(default, skip_serializing_if = "is_first")]
        generation: u32,
        version: i64,
    },
    /// The page made of the items since the previous page line.
    Page(PageMeta),
}

/// One feed's archive.
#[derive(Default)]
pub(super) struct FeedLog {
    /// Pages 1..=n, complete.
    pub(super) complete: Vec<PageMeta>,
    /// Pages 1..=stored are stored (and logged); the others wait for it.
    pub(super) stored: usize,
    /// Each article version some complete page holds, by [`frozen_key`]:
    /// a history of a million articles is not held as strings. Within a
    /// path's generation versions only move forward, so an article is
    /// archived as it is now exactly when its current version is here.
    pub(super) frozen: FrozenSet,
    /// Below the window, not in a complete page yet (fewer than a page).
    pub(super) pending: HashSet<Arc<str>>,
    /// The subscription window at the last step.
    pub(super) window: HashSet<Arc<str>>,
    file: Option<File>,
}

/// Every feed's archive.
#[derive(Default)]
pub struct Archives {
    /// `state.dir/archives` (`None`: kept in memory, for `build`).
    dir: Option<PathBuf>,
    pub(super) feeds: Vec<FeedLog>,
    /// Paths inserted or removed since the last step.
    pub(super) dirty: HashSet<Arc<str>>,
    /// Set until the first step has worked out the open pages.
    pub(super) started: bool,
}

/// What a complete page's bytes depend on besides its articles: a change
/// starts the archive over.
fn fingerprint(config: &Config, slug: &str) -> u64 {
    let shape = serde_json::json!({
        "site": config.site,
        "feeds": config.feeds,
        "categories": config.categories,
        "websub": config.websub,
        "parse": config.parse,
        "slug": slug,
        "format": 1,
    });
    xxhash_rust::xxh3::xxh3_64(shape.to_string().as_bytes())
}

/// An article version (path, generation and [`version`]) as the archive
/// log's memory keeps it.
pub(super) fn frozen_key(path: &str, generation: u32, version: i64) -> u64 {
    let seed = (version as u64).rotate_left(32) ^ u64::from(generation);
    xxhash_rust::xxh3::xxh3_64_with_seed(path.as_bytes(), seed)
}

/// A set of [`frozen_key`]s. A feed's holds one for every article in its
/// complete pages, so most of it is a sorted vector (8 bytes a key, where
/// a hash set takes about 19); the keys added since it was last merged in
/// wait in a small hash set.
#[derive(Default)]
pub(super) struct FrozenSet {
    sorted: Vec<u64>,
    recent: HashSet<u64>,
}

impl FrozenSet {
    /// Keys wait in the hash set until they are this many, or an eighth of
    /// the sorted ones.
    const MERGE_AT: usize = 4096;

    pub(super) fn contains(&self, key: u64) -> bool {
        self.recent.contains(&key) || self.sorted.binary_search(&key).is_ok()
    }

    pub(super) fn insert(&mut self, key: u64) {
        if self.sorted.binary_search(&key).is_ok() || !self.recent.insert(key) {
            return;
        }
        if self.recent.len() > Self::MERGE_AT.max(self.sorted.len() / 8) {
            let mut recent: Vec<u64> = std::mem::take(&mut self.recent).into_iter().collect();
            recent.sort_unstable();
            self.sorted.reserve_exact(recent.len());
            self.sorted.extend(recent);
            // Two sorted runs: the stable sort merges them in linear time.
            self.sorted.sort();
        }
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.sorted.len() + self.recent.len()
    }
}

impl Extend<u64> for FrozenSet {
    fn extend<I: IntoIterator<Item = u64>>(&mut self, keys: I) {
        for key in keys {
            self.insert(key);
        }
    }
}

fn is_first(generation: &u32) -> bool {
    *generation == 0
}

/// The [`frozen_key`] of `entry` as it is now.
pub(super) fn frozen_key_of(entry: &Entry) -> u64 {
    frozen_key(&entry.path, entry.generation, version(entry))
}

/// An article's version: its `updated` date moves whenever its bytes change.
pub(super) fn version(entry: &Entry) -> i64 {
    entry.updated.timestamp_millis()
}

impl Archives {
    /// The archives of `slugs` under `config`, read back from `dir` (when
    /// given) where the settings are unchanged.
    pub fn open(config: &Config, slugs: &[String], dir: Option<&Path>) -> Archives {
        let dir = dir.map(|d| d.join("archives"));
        let feeds = slugs
            .iter()
            .map(|slug| match &dir {
                Some(dir) => FeedLog::open(dir, slug, fingerprint(config, slug)),
                None => FeedLog::default(),
            })
            .collect();
        Archives {
            dir,
            feeds,
            ..Archives::default()
        }
    }

    /// Where the stored pages go (`None` for `build`).
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    pub(super) fn touch(&mut self, path: &Arc<str>) {
        if self.started {
            self.dirty.insert(path.clone());
        }
    }
}

impl FeedLog {
    fn open(dir: &Path, slug: &str, fingerprint: u64) -> FeedLog {
        let path = dir.join(format!("{slug}.log"));
        let mut log = FeedLog::default();
        match log.read(&path, fingerprint) {
            Ok(Some(end)) => {
                // What follows the last whole page (a page whose writing
                // was cut short) goes, so the next page is appended to
                // whole ones.
                let cut = OpenOptions::new()
                    .write(true)
                    .open(&path)
                    .and_then(|f| f.set_len(end));
                if let Err(e) = cut {
                    tracing::warn!(path = %path.display(), error = %e, "archive log not writable: archives kept in memory only");
                    return log;
                }
            }
            Ok(None) => {
                log = FeedLog::default();
                let _ = std::fs::remove_dir_all(dir.join(slug));
                let header = Line::Config { fingerprint };
                let written = std::fs::create_dir_all(dir).and_then(|()| {
                    let mut text = serde_json::to_string(&header).unwrap_or_default();
                    text.push('\n');
                    std::fs::write(&path, text)
                });
                if let Err(e) = written {
                    tracing::warn!(path = %path.display(), error = %e, "archive log not writable: archives kept in memory only");
                }
            }
            Err(e) => {
                tracing::warn!(path = %path.display(), error = %e, "archive log unreadable: archives kept in memory only");
                return FeedLog::default();
            }
        }
        log.file = OpenOptions::new().append(true).open(&path).ok();
        log
    }

    /// Reads the log: the byte offset where its last whole page ends, or
    /// `None` when it is missing or was written under other settings.
    /// Articles after the last page line are not part of any page.
    fn read(&mut self, path: &Path, fingerprint: u64) -> std::io::Result<Option<u64>> {
        let file = match File::open(path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut reader = BufReader::new(file);
        let mut line = String::new();
        let mut end = reader.read_line(&mut line)? as u64;
        match serde_json::from_str(&line) {
            Ok(Line::Config { fingerprint: f }) if f == fingerprint && line.ends_with('\n') => {}
            _ => return Ok(None),
        }
        let (mut page, mut at): (Vec<u64>, u64) = (Vec::new(), end);
        loop {
            line.clear();
            let n = reader.read_line(&mut line)? as u64;
            if n == 0 || !line.ends_with('\n') {
                break;
            }
            at += n;
            match serde_json::from_str(&line) {
                Ok(Line::Item {
                    path,
                    generation,
                    version,
                }) => page.push(frozen_key(&path, generation, version)),
                Ok(Line::Page(meta)) if meta.number == self.complete.len() + 1 => {
                    self.frozen.extend(page.drain(..));
                    self.complete.push(meta);
                    self.stored += 1;
                    end = at;
                }
                _ => break,
            }
        }
        Ok(Some(end))
    }

    /// Appends a completed page to the log.
    pub(super) fn append(&mut self, entries: &[SharedEntry], meta: &PageMeta) {
        let Some(file) = &mut self.file else {
            return;
        };
        let mut text = String::new();
        let items = entries.iter().map(|e| Line::Item {
            path: e.path.to_string(),
            generation: e.generation,
            version: version(e),
        });
        for line in items.chain([Line::Page(meta.clone())]) {
            text.push_str(&serde_json::to_string(&line).unwrap_or_default());
            text.push('\n');
        }
        if let Err(e) = file.write_all(text.as_bytes()) {
            tracing::warn!(error = %e, "archive log not written: its pages are rebuilt at the next start");
            self.file = None;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_cut_short_is_dropped_and_the_next_one_follows_whole_pages() {
        let dir = tempfile::tempdir().expect("tempdir");
        let fingerprint = 7;
        let line = |l: &Line| serde_json::to_string(l).expect("json") + "\n";
        let item = |p: &str| Line::Item {
            path: p.into(),
            generation: 0,
            version: 1,
        };
        let page = |number| Line::Page(PageMeta { number });
        let mut text = line(&Line::Config { fingerprint });
        for (n, p) in [(1, "a.txt"), (2, "b.txt")] {
            text += &line(&item(p));
            text += &line(&page(n));
        }
        let whole = text.len() as u64;
        text += &line(&item("c.txt"));
        text += "{\"item\":{\"path\":\"d.t"; // the write that was cut short
        let path = dir.path().join("world.log");
        std::fs::write(&path, &text).expect("write");

        let log = FeedLog::open(dir.path(), "world", fingerprint);
        assert_eq!(
            (log.complete.len(), log.stored, log.frozen.len()),
            (2, 2, 2)
        );
        assert_eq!(std::fs::metadata(&path).expect("log").len(), whole);
        drop(log);
        let mut log = FeedLog::open(dir.path(), "world", fingerprint);
        log.complete.push(PageMeta { number: 3 });
        log.append(&[], &log.complete[2].clone());
        let again = FeedLog::open(dir.path(), "world", fingerprint);
        assert_eq!(
            again.complete.len(),
            3,
            "the next page follows the whole ones"
        );
        // Other settings: the log starts over.
        let other = FeedLog::open(dir.path(), "world", fingerprint + 1);
        assert!(other.complete.is_empty());
    }

    #[test]
    fn a_frozen_set_finds_every_key_across_its_merges_and_no_other() {
        let keys = |r: std::ops::Range<u64>| r.map(|i| frozen_key("a.txt", 0, i as i64));
        let mut set = FrozenSet::default();
        set.extend(keys(0..20_000));
        set.extend(keys(0..10)); // again
        assert_eq!(set.len(), 20_000);
        assert!(set.sorted.len() > 15_000, "merged as it grew");
        assert!(keys(0..20_000).all(|k| set.contains(k)));
        assert!(!keys(20_000..40_000).any(|k| set.contains(k)));
    }
}
