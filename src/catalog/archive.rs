//! RFC 5005 archives: which articles each archive page of a feed holds.
//!
//! A feed's subscription document shows its newest `feeds.items` articles
//! (the window), then the older ones not yet in an archive page (fewer
//! than `feeds.archive_items`: the pending set). An article joins the
//! pending set when it leaves the window, arrives below it (late), or is
//! edited after its page was made; each time the set reaches
//! `feeds.archive_items`, it becomes the next archive page, *complete*:
//! rendered once, stored, never changed.
//!
//! Every archive page is complete, so the `prev-archive` a reader follows
//! always leads to documents that do not change (RFC 5005 section 4: a
//! reader stops walking at the first one it has seen). A late or edited
//! article shows up in the subscription document, never in a page made
//! before, so a reader that keeps the newest copy of each entry (section
//! 4.2) sees every article once, in its latest version. What the complete
//! pages hold is kept across restarts by `archive_log`.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use foldhash::HashSet;

use super::archive_log::{frozen_key_of, FeedLog, PageMeta, PageWork};
use super::index::{sort_key, Catalog, PathIndex, SortKey};
use crate::model::{Entry, SharedEntry};

impl Catalog {
    /// Brings every feed's archive up to date with the catalog at `now`:
    /// articles below a feed's window join its pending set, and each full
    /// set of `feeds.archive_items` becomes a complete page. Returns the
    /// pages that completed (to render and store) and the feeds whose
    /// subscription document changed with it (pending articles or
    /// `prev-archive`).
    pub fn archive_step(&mut self, now: DateTime<Utc>) -> (Vec<PageWork>, BTreeSet<usize>) {
        if self.config.feeds.archive_items == 0 {
            return (Vec::new(), BTreeSet::new());
        }
        let first = !self.archives.started;
        self.archives.started = true;
        let dirty = std::mem::take(&mut self.archives.dirty);
        let (mut work, mut changed) = (Vec::new(), BTreeSet::new());
        for feed in 0..self.feeds.len() {
            let window: HashSet<Arc<str>> = self
                .window_keys(feed, now)
                .map(|k| k.path().clone())
                .collect();
            let below = |entry: &Entry| {
                entry.feed_indexes().any(|f| f == feed)
                    && entry.published.timestamp() <= now.timestamp()
                    && !window.contains(&entry.path)
            };
            let log = &mut self.archives.feeds[feed];
            // Leaves the pending set: gone, back in the window, moved to
            // another category.
            let before = log.pending.len();
            log.pending
                .retain(|p| self.entries.get(p).is_some_and(|e| below(e)));
            let mut moved = log.pending.len() != before;
            // Joins it, oldest first: below the window, and not archived in
            // this version.
            let candidates: Vec<&SortKey> = match first {
                true => self.order[feed].iter().collect(),
                false => {
                    let keys: BTreeSet<SortKey> = log
                        .window
                        .difference(&window)
                        .chain(dirty.iter())
                        .filter_map(|p| self.entries.get(p))
                        .map(sort_key)
                        .collect();
                    keys.iter()
                        .filter_map(|k| self.order[feed].get(k))
                        .collect()
                }
            };
            for key in candidates.into_iter().rev() {
                let entry = &key.0;
                if !below(entry)
                    || log.pending.contains(&entry.path)
                    || log.frozen.contains(frozen_key_of(entry))
                {
                    continue;
                }
                log.pending.insert(entry.path.clone());
                moved = true;
                if log.pending.len() >= self.config.feeds.archive_items {
                    work.push(complete_page(log, feed, &self.entries));
                }
            }
            log.window = window;
            if moved {
                changed.insert(feed);
            }
        }
        (work, changed)
    }

    /// Logs a complete page once its documents are stored (pages of a
    /// feed are stored in order).
    pub fn archive_stored(&mut self, page: &PageWork) {
        let log = &mut self.archives.feeds[page.feed];
        if let Some(meta) = log.complete.get(page.number - 1).cloned() {
            log.append(&page.entries, &meta);
            log.stored = log.stored.max(page.number);
        }
    }

    /// How many archive pages of feed `index` are stored: the ones its
    /// documents link to.
    pub fn archive_pages(&self, index: usize) -> usize {
        self.archives.feeds[index].stored
    }

    /// The complete pages of feed `index`.
    pub fn complete_pages(&self, index: usize) -> &[PageMeta] {
        &self.archives.feeds[index].complete
    }

    /// Articles below feed `index`'s window not in a complete page yet:
    /// its subscription document shows them too.
    pub(super) fn pending(&self, index: usize) -> impl Iterator<Item = &Arc<str>> {
        self.archives.feeds[index].pending.iter()
    }
}

/// The pending articles of `log` as its next complete page.
fn complete_page(log: &mut FeedLog, feed: usize, entries: &PathIndex) -> PageWork {
    let entries = sorted(entries, log.pending.drain());
    for e in &entries {
        log.frozen.insert(frozen_key_of(e));
    }
    let number = log.complete.len() + 1;
    log.complete.push(PageMeta { number });
    PageWork {
        feed,
        number,
        entries,
    }
}

/// The entries at `paths`, newest first (feed order).
fn sorted(entries: &PathIndex, paths: impl Iterator<Item = Arc<str>>) -> Vec<SharedEntry> {
    // Sized once: a first start holds every page until it is stored.
    let mut page = Vec::with_capacity(paths.size_hint().0);
    page.extend(paths.filter_map(|p| entries.get(&p).cloned()));
    page.sort_by_cached_key(super::index::sort_key);
    page
}
