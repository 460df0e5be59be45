//! The publisher thread: the pipeline run for every change. It takes the
//! watcher's settled paths (and reloads, rescans, scheduled times), has
//! the catalog read what changed (source → parse → catalog), renders what
//! that touched and publishes it on the site (render → site).
//!
//! Start-up: scan, then watch, then catch up, then publish once and say
//! ready, so the first publish shows the directory as it was at start-up,
//! files written moments before included (`intake`). inotify reports every
//! open of a file in a watched folder, so a watch in place during the scan
//! would make an event of each of our own reads; what changed before the
//! watch existed is found by comparing the tree with the catalog.

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};

use crate::catalog::{Catalog, StateStore};
use crate::config::Config;
use crate::render;
use crate::site::Site;
use crate::watch::{self, WatchHandle, WatchMsg, WatchOptions};
use crate::websub::Pinger;

/// Longest sleep of the publisher between checks for scheduled articles.
const MAX_IDLE: Duration = Duration::from_secs(60);
/// How soon an idle publisher retries handing state changes to a busy writer.
const STATE_RETRY: Duration = Duration::from_millis(10);

/// What the publisher thread is told: by the watcher, by SIGHUP or a config
/// save, and at shutdown.
pub(super) enum Msg {
    Watch(WatchMsg),
    Reload,
    Shutdown,
}

/// Where a round's time went before its publish: reading the files
/// (open, read, parse) and applying them to the catalog. Logged with the
/// publish, so an operator (or a benchmark) sees what a slow one spent.
#[derive(Default, Clone, Copy)]
pub(super) struct Intake {
    pub(super) files: usize,
    pub(super) read: Duration,
    pub(super) apply: Duration,
}

/// Everything queued for the publisher, merged into one round.
#[derive(Default)]
struct Work {
    paths: HashSet<PathBuf>,
    since: Option<Instant>,
    rescan: Option<String>,
    reload: bool,
    stop: bool,
}

impl Work {
    fn add(&mut self, msg: Option<Msg>) {
        match msg {
            Some(Msg::Watch(WatchMsg::Changed { paths, since })) => {
                self.paths.extend(paths);
                self.since = Some(self.since.map_or(since, |s| s.min(since)));
            }
            Some(Msg::Watch(WatchMsg::Rescan { reason })) => self.rescan = Some(reason),
            Some(Msg::Reload) => self.reload = true,
            Some(Msg::Shutdown) => self.stop = true,
            None => {}
        }
    }
}

pub(super) struct Publisher {
    pub(super) config_path: PathBuf,
    pub(super) config: Arc<Config>,
    pub(super) site: Arc<Site>,
    pub(super) catalog: Catalog,
    tx: Sender<Msg>,
    watch: Option<WatchHandle>,
    pub(super) next_due: Option<DateTime<Utc>>,
    /// Feeds of a category removed by a reload: dropped in the same swap
    /// that publishes the new config's feeds.
    pub(super) drop_feeds: Option<HashSet<String>>,
    /// The shown articles rendered as feed items, reused until they change.
    pub(super) items: render::ItemCache,
    /// Tells the WebSub hubs which feeds changed.
    pub(super) pinger: Pinger,
    /// Archive pages that completed and wait to be stored, in order.
    pub(super) unstored: std::collections::VecDeque<crate::catalog::PageWork>,
    /// Feeds that link to pages stored since their last publish, and when
    /// that publish was.
    linked: (BTreeSet<usize>, Instant),
    /// Since when archive pages have been waiting to be stored.
    building: Option<Instant>,
}

impl Publisher {
    pub(super) fn new(
        config_path: PathBuf,
        config: Arc<Config>,
        site: Arc<Site>,
        state: StateStore,
        tx: Sender<Msg>,
    ) -> Self {
        Publisher {
            pinger: Pinger::start(&config.websub.hubs, &site.metrics().websub_pings),
            unstored: std::collections::VecDeque::new(),
            linked: (BTreeSet::new(), Instant::now()),
            building: None,
            config_path,
            catalog: {
                let mut catalog = Catalog::new(config.clone(), state);
                catalog.keep_archives_in(&config.state_dir());
                catalog
            },
            config,
            site,
            tx,
            watch: None,
            next_due: None,
            drop_feeds: None,
            items: render::ItemCache::default(),
        }
    }

    pub(super) fn run(mut self, rx: Receiver<Msg>) {
        self.start_up();
        while let Some(work) = self.next_work(&rx) {
            if !work.paths.is_empty() {
                self.apply_paths(
                    work.paths.into_iter().collect(),
                    work.since.unwrap_or_else(Instant::now),
                );
            }
            if let Some(reason) = work.rescan {
                self.full_scan(&reason);
            }
            if work.reload {
                self.reload();
            }
            if work.stop {
                break;
            }
            self.publish_scheduled();
            self.store_archives_waiting();
            self.flush_state(false);
        }
        self.watch = None;
        self.flush_state(true);
    }

    /// Waits for the next round's work (or a scheduled time, or a state
    /// hand-over to retry) and takes in everything queued with it; `None`
    /// once nobody can send any more.
    fn next_work(&self, rx: &Receiver<Msg>) -> Option<Work> {
        // A due time already passed means: wake at once.
        let wait = self
            .next_due
            .map(|due| (due - Utc::now()).to_std().unwrap_or(Duration::ZERO))
            .map_or(MAX_IDLE, |d| d.min(MAX_IDLE));
        let wait = match self.catalog.state().has_pending() {
            true => wait.min(STATE_RETRY),
            false => wait,
        };
        // Archive pages to store: look for work, do not wait for it.
        let wait = match self.unstored.is_empty() {
            true => wait,
            false => Duration::ZERO,
        };
        let first = match rx.recv_timeout(wait) {
            Ok(m) => Some(m),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => return None,
        };
        let mut work = Work::default();
        work.add(first);
        while let Ok(m) = rx.try_recv() {
            work.add(Some(m));
        }
        if work.reload {
            // Editors save in several steps: let them finish, and take
            // whatever arrived meanwhile into this round too.
            std::thread::sleep(Duration::from_millis(50));
            while let Ok(m) = rx.try_recv() {
                work.add(Some(m));
            }
        }
        Some(work)
    }

    pub(super) fn start_watch(&mut self) {
        self.watch = None;
        let tx = self.tx.clone();
        let opts = WatchOptions {
            root: self.config.articles.dir.clone(),
            debounce: self.config.articles.debounce,
            settle: self.config.articles.settle,
            poll_interval: self.config.articles.poll_interval,
        };
        match watch::spawn(opts, move |m| {
            let _ = tx.send(Msg::Watch(m));
        }) {
            Ok(h) => self.watch = Some(h),
            Err(e) => tracing::error!(error = %e, "cannot start the watcher thread"),
        }
    }

    /// Stores a few of the archive pages waiting, and publishes the feeds
    /// that now link to more of them (once they are all stored, or once a
    /// second in a long run of them).
    pub(super) fn store_archives_waiting(&mut self) {
        if self.unstored.is_empty() {
            return;
        }
        let started = Instant::now();
        let building = *self.building.get_or_insert(started);
        let linked = self.store_some_archives(Utc::now());
        self.linked.0.extend(linked);
        let due = self.unstored.is_empty() || self.linked.1.elapsed() >= Duration::from_secs(1);
        if due && !self.linked.0.is_empty() {
            let feeds = std::mem::take(&mut self.linked.0);
            self.publish(&feeds, started, None, Intake::default());
            self.linked.1 = Instant::now();
        }
        let waiting = self.unstored.len() as i64;
        self.site.metrics().archive_pages_waiting.set(waiting);
        if waiting == 0 {
            self.building = None;
            self.log_archives_stored(building.elapsed());
        }
    }

    /// Says that every archive page made is stored, `took` after the
    /// first of them waited.
    pub(super) fn log_archives_stored(&self, took: Duration) {
        tracing::info!(
            pages = (0..self.catalog.feeds().len())
                .map(|f| self.catalog.archive_pages(f))
                .sum::<usize>(),
            ms = took.as_millis() as u64,
            "archives stored"
        );
    }

    /// Articles whose time has come appear without any file event.
    fn publish_scheduled(&mut self) {
        let Some(due) = self.next_due else { return };
        let now = Utc::now();
        if now < due {
            return;
        }
        let after = due - chrono::Duration::seconds(1);
        let touched = self.catalog.feeds_with_items_between(after, now);
        // Their pages exist from now on (a copy of the site needs them).
        let due_ids = self.catalog.ids_published_between(after, now);
        self.site.pages_changed(&due_ids);
        tracing::info!(at = %due, "scheduled articles due");
        self.publish(&touched, Instant::now(), None, Intake::default());
    }

    /// Hands the state store's changes to its writer thread; between rounds
    /// (`all` false) only what it takes without waiting.
    pub(super) fn flush_state(&mut self, all: bool) {
        let state = self.catalog.state_mut();
        let handed = if all {
            state.flush()
        } else {
            state.flush_some()
        };
        // Write errors (disk full, read-only) are logged and retried by the
        // writer thread; this fails only when that thread is gone.
        if let Err(e) = handed {
            tracing::error!(error = %e, "state changes are kept in memory only");
        }
    }

    /// All the feeds there are.
    pub(super) fn all_feeds(&self) -> BTreeSet<usize> {
        (0..self.catalog.feeds().len()).collect()
    }
}
