//! What the publisher takes in: the whole tree at start-up and on a
//! rescan, and the settled paths the watcher reports.

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::publisher::{Intake, Publisher};
use crate::model::Change;
use crate::site::Site;
use crate::watch;

/// The least time start-up waits for files written moments before it to
/// hold still (then `5 × articles.settle` if longer); after it they are read
/// as they are.
const STARTUP_SETTLE_AT_MOST: Duration = Duration::from_secs(5);

impl Publisher {
    /// Scan, watch, catch up, publish once, and say ready.
    pub(super) fn start_up(&mut self) {
        let started = Instant::now();
        let scan_started = std::time::SystemTime::now();
        let (files, held_back) = self.scan(true);
        self.start_watch();
        self.catch_up(scan_started, held_back);
        let intake = Intake {
            files,
            read: started.elapsed(),
            apply: Duration::ZERO,
        };
        self.publish(&self.all_feeds(), started, None, intake);
        // Ready once the feeds show the directory. The archive pages a
        // first start makes (a restart finds them stored) are stored after,
        // between rounds, oldest first, as a config change rebuilds them:
        // each feed links to its pages as they are stored.
        self.site.compress_now();
        self.site.mark_ready();
        tracing::info!(
            files,
            articles = self.catalog.len(),
            ms = started.elapsed().as_millis() as u64,
            "ready"
        );
        if self.unstored.is_empty() {
            self.log_archives_stored(Duration::ZERO);
        }
        // The first start writes a record per article, which takes a
        // while for a big archive; the feeds do not depend on it.
        self.flush_state(true);
    }

    /// Reads the whole tree into the catalog (not published). At start-up
    /// no event tells a file being written from a finished one: what
    /// changed within `settle` is held back, and returned, for the
    /// catch-up to read once it has settled.
    fn scan(&mut self, startup: bool) -> (usize, Vec<PathBuf>) {
        let site = &self.site;
        let before = match site.tracks_changes() {
            true => site.article_keys(),
            false => Vec::new(),
        };
        let scanned = self
            .catalog
            .rescan(startup, startup, |changes| log_problems(site, changes));
        self.site.set_pages(self.catalog.ids(), before);
        scanned
    }

    /// Reads what changed since `since` (the start of the start-up scan),
    /// now that the watch is in place, and what the scan held back as
    /// maybe still being written, once it has held still for `settle`.
    /// Applies it without publishing: start-up publishes once, after.
    fn catch_up(&mut self, since: std::time::SystemTime, held_back: Vec<PathBuf>) {
        // Inode times come from a coarse clock (a tick behind) and are
        // compared in whole seconds: reading a few files twice is harmless.
        let since = since - Duration::from_secs(2);
        let mut paths: HashSet<PathBuf> = self.catalog.changed_since(since).into_iter().collect();
        paths.extend(held_back);
        if paths.is_empty() {
            return;
        }
        let paths: Vec<PathBuf> = paths.into_iter().collect();
        let settle = self.config.articles.settle;
        let most = (settle * 5).max(STARTUP_SETTLE_AT_MOST);
        if !watch::wait_until_settled(&paths, settle, most) {
            tracing::warn!(
                "files still being written after {most:?}; publishing them as they are now"
            );
        }
        tracing::info!(files = paths.len(), "reading what changed around start-up");
        self.intake(paths);
    }

    /// Compares the whole tree with the catalog and publishes every feed.
    pub(super) fn full_scan(&mut self, reason: &str) {
        let started = Instant::now();
        let (files, _) = self.scan(false);
        // The scan reads and applies in one pipeline: its time is all "read".
        let intake = Intake {
            files,
            read: started.elapsed(),
            apply: Duration::ZERO,
        };
        self.publish(&self.all_feeds(), started, None, intake);
        tracing::info!(
            reason,
            files,
            articles = self.catalog.len(),
            ms = started.elapsed().as_millis() as u64,
            "full scan published"
        );
    }

    /// Reads the settled paths and publishes the feeds they touched.
    pub(super) fn apply_paths(&mut self, paths: Vec<PathBuf>, since: Instant) {
        let started = Instant::now();
        let Some((touched, intake)) = self.intake(paths) else {
            return;
        };
        if touched.is_empty() {
            // No feed changed: a file that never was an article went away
            // (editors delete their swap and test files on every save), or
            // an edit failed to parse and the last good version stays.
            self.count_problems();
            return;
        }
        self.publish(&touched, started, Some(since), intake);
    }

    /// Reads the settled paths and applies them to the catalog and the
    /// article pages; returns the feeds they touched (`None`: nothing to
    /// apply).
    fn intake(&mut self, paths: Vec<PathBuf>) -> Option<(BTreeSet<usize>, Intake)> {
        let started = Instant::now();
        let changes = self.catalog.changes_at(paths);
        if changes.is_empty() {
            return None;
        }
        let read_done = Instant::now();
        log_problems(&self.site, &changes);
        let keys: Vec<String> = changes
            .iter()
            .map(|c| match c {
                Change::Parsed(k, _) | Change::Removed(k) => k.clone(),
            })
            .collect();
        let id_of = |catalog: &crate::catalog::Catalog, k: &String| {
            catalog.by_path(k).map(|e| Arc::<str>::from(e.id()))
        };
        // The ids of the pages gone, then of the pages there now.
        let mut ids: Vec<Arc<str>> = keys
            .iter()
            .filter_map(|k| id_of(&self.catalog, k))
            .collect();
        let touched = self.catalog.apply(changes);
        ids.extend(keys.iter().filter_map(|k| id_of(&self.catalog, k)));
        self.site.pages_changed(&ids);
        let intake = Intake {
            files: keys.len(),
            read: read_done - started,
            apply: read_done.elapsed(),
        };
        Some((touched, intake))
    }
}

fn log_problems(site: &Site, changes: &[Change]) {
    for c in changes {
        match c {
            Change::Parsed(_, Err(e)) => {
                site.metrics().parse_failures.inc();
                tracing::warn!(path = %e.path.display(), reason = %e.reason, "rejected file");
            }
            Change::Parsed(key, Ok(Some(a))) if !a.warnings.is_empty() => {
                tracing::info!(path = %key, cleaned = %a.warnings.join("; "), "cleaned file");
            }
            _ => {}
        }
    }
}
