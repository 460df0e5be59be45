//! The publisher thread: takes the watcher's settled paths (and reloads,
//! rescans, scheduled times), reads what changed, applies it to the
//! [`Catalog`] and swaps the touched feeds in.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rayon::prelude::*;

use super::Msg;
use crate::catalog::{self, Catalog, Change};
use crate::config::Config;
use crate::metrics::FeedLabels;
use crate::parse;
use crate::render;
use crate::serve::App;
use crate::snapshot::Resource;
use crate::state::StateStore;
use crate::watch::{self, WatchHandle, WatchMsg, WatchOptions};

/// Longest sleep of the publisher between checks for scheduled articles.
const MAX_IDLE: Duration = Duration::from_secs(60);
/// The least time start-up waits for files written moments before it to
/// hold still (then `5 × articles.settle` if longer); after it they are read
/// as they are.
const STARTUP_SETTLE_AT_MOST: Duration = Duration::from_secs(5);
/// How soon an idle publisher retries handing state changes to a busy writer.
const STATE_RETRY: Duration = Duration::from_millis(10);

/// Where a round's time went before its publish: reading the files
/// (open, read, parse) and applying them to the catalog. Logged with the
/// publish, so an operator (or a benchmark) sees what a slow one spent.
#[derive(Default, Clone, Copy)]
struct Intake {
    files: usize,
    read: Duration,
    apply: Duration,
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
    config_path: PathBuf,
    config: Arc<Config>,
    app: Arc<App>,
    catalog: Catalog,
    tx: Sender<Msg>,
    watch: Option<WatchHandle>,
    next_due: Option<DateTime<Utc>>,
    /// Feeds of a category removed by a reload: dropped in the same swap
    /// that publishes the new config's feeds.
    drop_feeds: Option<HashSet<String>>,
    /// The shown articles rendered as feed items, reused until they change.
    items: render::ItemCache,
}

impl Publisher {
    pub(super) fn new(
        config_path: PathBuf,
        config: Arc<Config>,
        app: Arc<App>,
        state: StateStore,
        tx: Sender<Msg>,
    ) -> Self {
        Publisher {
            config_path,
            catalog: Catalog::new(config.clone(), state),
            config,
            app,
            tx,
            watch: None,
            next_due: None,
            drop_feeds: None,
            items: render::ItemCache::default(),
        }
    }

    pub(super) fn run(mut self, rx: Receiver<Msg>) {
        // Scan, then watch, then catch up, then publish and say ready: the
        // first publish shows the directory as it was at start-up, files
        // written moments before included. inotify reports every open of
        // a file in a watched folder, so a watch in place during the scan
        // would make an event of each of our own reads; what changed
        // before the watch existed is found by comparing the tree with the
        // catalog.
        let started = Instant::now();
        let scan_started = std::time::SystemTime::now();
        let (files, held_back) = self.scan(true);
        self.start_watch();
        self.catch_up(scan_started, held_back);
        let all: BTreeSet<usize> = (0..self.catalog.feeds().len()).collect();
        let intake = Intake {
            files,
            read: started.elapsed(),
            apply: Duration::ZERO,
        };
        self.publish(&all, started, None, intake);
        self.app.published.compress_now();
        self.app.ready.store(true, Ordering::Release);
        tracing::info!(
            files,
            articles = self.catalog.len(),
            ms = started.elapsed().as_millis() as u64,
            "ready"
        );
        // The first start writes a record per article (seconds at 100k);
        // the feeds do not depend on it.
        self.flush_state(true);
        loop {
            // A due time already passed means: wake at once.
            let wait = self
                .next_due
                .map(|due| (due - Utc::now()).to_std().unwrap_or(Duration::ZERO))
                .map_or(MAX_IDLE, |d| d.min(MAX_IDLE));
            // And to hand the state writer what it could not take yet.
            let wait = match self.catalog.state().has_pending() {
                true => wait.min(STATE_RETRY),
                false => wait,
            };
            let first = match rx.recv_timeout(wait) {
                Ok(m) => Some(m),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => break,
            };
            let mut work = Work::default();
            work.add(first);
            // Coalesce whatever else is already queued.
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
            self.flush_state(false);
        }
        self.watch = None;
        self.flush_state(true);
    }

    fn start_watch(&mut self) {
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

    /// Reads what changed since `since` (the start of the startup scan),
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
    fn full_scan(&mut self, reason: &str) {
        let started = Instant::now();
        let (files, _) = self.scan(false);
        let all: BTreeSet<usize> = (0..self.catalog.feeds().len()).collect();
        // The scan reads and applies in one pipeline: its time is all "read".
        let intake = Intake {
            files,
            read: started.elapsed(),
            apply: Duration::ZERO,
        };
        self.publish(&all, started, None, intake);
        tracing::info!(
            reason,
            files,
            articles = self.catalog.len(),
            ms = started.elapsed().as_millis() as u64,
            "full scan published"
        );
    }

    /// Reads the whole tree into the catalog (not published). At start-up
    /// no event tells a file being written from a finished one: what
    /// changed within `settle` is held back, and returned, for the
    /// catch-up to read once it has settled.
    fn scan(&mut self, startup: bool) -> (usize, Vec<PathBuf>) {
        let app = &self.app;
        let scanned = self
            .catalog
            .rescan(startup, startup, |changes| log_problems(app, changes));
        self.rebuild_pages();
        scanned
    }

    /// Reads the settled paths and publishes the feeds they touched.
    fn apply_paths(&mut self, paths: Vec<PathBuf>, since: Instant) {
        let started = Instant::now();
        let Some((touched, intake)) = self.intake(paths) else {
            return;
        };
        if touched.is_empty() {
            // No feed changed: a file that never was an article went away
            // (editors delete their swap and test files on every save), or
            // an edit failed to parse and the last good version stays.
            // Republishing the same feeds would only cost a swap and a log line.
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
        let root = self.config.articles.dir.clone();
        let ctx = self.catalog.parse_context();
        // A round of many more files than the feeds can show (a burst, a
        // folder copied in) reads only their metadata, as the startup scan
        // does: a third of a read is building a body most of them never
        // show (and the memory for it). The publish reads back the few
        // shown, each a whole read again, so below 4x what the feeds show
        // that costs more than it saves.
        let shown_at_most = self.catalog.feeds().len() * self.config.feeds.items;
        let metadata_only = std::cell::OnceCell::new();
        let ctx_for = |files: usize| match files > 4 * shown_at_most {
            true => metadata_only.get_or_init(|| ctx.metadata_only()),
            false => ctx,
        };
        // One pass on all cores: a stat of each path and a read of each
        // article file (a burst's round holds thousands of both).
        let round_ctx = ctx_for(paths.len());
        let looked: Vec<Looked> = paths
            .into_par_iter()
            .filter_map(|path| look(&root, path, round_ctx))
            .collect();
        let mut changes = Vec::new();
        let mut in_folders = Vec::new();
        for looked in looked {
            match looked {
                Looked::Gone(key) => {
                    changes.extend(
                        self.catalog
                            .paths_under(&key)
                            .into_iter()
                            .map(Change::Removed),
                    );
                    changes.push(Change::Removed(key));
                }
                Looked::Folder(path, key) => {
                    // A file replaced by a folder of the same name.
                    if self.catalog.by_path(&key).is_some() {
                        changes.push(Change::Removed(key));
                    }
                    if !parse::is_ignored(&path) {
                        in_folders.extend(catalog::list_articles(&path));
                    }
                }
                Looked::File(key, read) => {
                    // A folder replaced by a file of the same name.
                    changes.extend(
                        self.catalog
                            .paths_under(&key)
                            .into_iter()
                            .map(Change::Removed),
                    );
                    changes.extend(read);
                }
                Looked::Other(path, key) => {
                    // Symlinks and devices are never read (a link could lead
                    // out of the articles directory).
                    if self.catalog.by_path(&key).is_some() {
                        changes.push(Change::Removed(key));
                    }
                    if parse::is_article_path(&path) {
                        tracing::warn!(path = %path.display(), "not a regular file (symlinks are not followed); skipped");
                    }
                }
            }
        }
        // The files of folders moved or copied in whole.
        let folder_ctx = ctx_for(in_folders.len());
        changes.extend(
            in_folders
                .par_iter()
                .map(|p| catalog::read(&root, p, folder_ctx))
                .collect::<Vec<_>>(),
        );
        if changes.is_empty() {
            return None;
        }
        let read_done = Instant::now();
        log_problems(&self.app, &changes);
        let keys: Vec<String> = changes
            .iter()
            .map(|c| match c {
                Change::Parsed(k, _) | Change::Removed(k) => k.clone(),
            })
            .collect();
        let old_ids: Vec<(Arc<str>, String)> = keys
            .iter()
            .filter_map(|k| self.catalog.by_path(k).map(|e| (e.id.clone(), k.clone())))
            .collect();
        let touched = self.catalog.apply(changes);
        self.update_pages(&old_ids, &keys);
        let intake = Intake {
            files: keys.len(),
            read: read_done - started,
            apply: read_done.elapsed(),
        };
        Some((touched, intake))
    }

    /// Renders the touched feeds plus the index and OPML, checks that each
    /// document is well-formed, and swaps them in at once. A document that
    /// is not keeps the feed's previous version served (see
    /// [`render::check_document`]).
    fn publish(
        &mut self,
        touched: &BTreeSet<usize>,
        started: Instant,
        since: Option<Instant>,
        intake: Intake,
    ) {
        let now = Utc::now();
        let items_started = Instant::now();
        self.catalog.cache_texts(now);
        // An empty feed is dated by the site's newest article (see
        // `render::feed_files`): when `all` changes, so may they.
        let mut touched = touched.clone();
        if touched.contains(&0) {
            let empty =
                (1..self.catalog.feeds().len()).filter(|&i| self.catalog.items(i, now).is_empty());
            touched.extend(empty.collect::<Vec<_>>());
        }
        let touched = &touched;
        self.items.refresh(&self.catalog, touched, now);
        let feeds_started = Instant::now();
        let (catalog, items) = (&self.catalog, &self.items);
        let rendered: Vec<(String, Result<Arc<Resource>, render::Rejected>)> = touched
            .par_iter()
            .flat_map_iter(|&index| {
                let rendered = render::feed_files(catalog, index, now, items);
                let updated = rendered.updated;
                rendered.files.into_iter().map(move |(path, format, body)| {
                    let resource =
                        body.map(|b| Arc::new(Resource::new(format.content_type(), b, updated)));
                    (format!("/{path}"), resource)
                })
            })
            .collect();
        // A document that would not be well-formed is not swapped in: the
        // previous version of that feed stays served.
        let mut resources = Vec::with_capacity(rendered.len() + 2);
        for (path, resource) in rendered {
            match resource {
                Ok(resource) => resources.push((path, resource)),
                Err(rejected) => {
                    self.app.metrics.render_rejected.inc();
                    tracing::error!(
                        feed = %rejected.path,
                        reason = %rejected.reason,
                        articles = %rejected.articles.join(", "),
                        "feed not published: it would not be well-formed; its previous version stays served"
                    );
                }
            }
        }
        let config = catalog.config();
        resources.push((
            "/".into(),
            Arc::new(Resource::new(
                "text/html; charset=utf-8",
                render::html::index(config, catalog.feeds(), &catalog.counts()),
                None,
            )),
        ));
        resources.push((
            "/feeds.opml".into(),
            Arc::new(Resource::new(
                "text/x-opml; charset=utf-8",
                render::opml::render(config, catalog.feeds()),
                None,
            )),
        ));
        let swap_started = Instant::now();
        let keep = self.drop_feeds.take().unwrap_or_default();
        // Served from now on (identity); the compressor thread adds the
        // encodings right after.
        self.app
            .published
            .update(resources, &|p: &str| !keep.contains(p), now);
        let swapped = Instant::now();
        self.next_due = catalog.next_scheduled(now);
        self.count_problems();

        let m = &self.app.metrics;
        for (feed, count) in catalog.feeds().iter().zip(catalog.counts()) {
            m.articles
                .get_or_create(&FeedLabels {
                    feed: feed.slug.clone(),
                })
                .set(count as i64);
        }
        m.publish_duration.observe(started.elapsed().as_secs_f64());
        if let Some(since) = since {
            m.watch_lag.observe(since.elapsed().as_secs_f64());
        }
        m.last_publish.set(now.timestamp_millis() as f64 / 1000.0);
        let feeds: Vec<&str> = touched
            .iter()
            .map(|&i| catalog.feeds()[i].slug.as_str())
            .collect();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        tracing::info!(
            feeds = %feeds.join(","),
            articles = catalog.len(),
            ms = ms(started.elapsed()),
            files = intake.files,
            read_ms = ms(intake.read),
            apply_ms = ms(intake.apply),
            items_ms = ms(feeds_started - items_started),
            feeds_ms = ms(swap_started - feeds_started),
            swap_ms = ms(swapped - swap_started),
            "published"
        );
    }

    fn count_problems(&self) {
        let count = self.catalog.problem_count() as i64;
        self.app.metrics.problems.set(count);
    }

    /// Articles whose time has come appear without any file event.
    fn publish_scheduled(&mut self) {
        let Some(due) = self.next_due else { return };
        let now = Utc::now();
        if now < due {
            return;
        }
        let touched = self
            .catalog
            .feeds_with_items_between(due - chrono::Duration::seconds(1), now);
        tracing::info!(at = %due, "scheduled articles due");
        self.publish(&touched, Instant::now(), None, Intake::default());
    }

    fn rebuild_pages(&self) {
        let pages = self
            .catalog
            .entries()
            .map(|e| (e.id.clone(), e.clone()))
            .collect();
        if let Ok(mut p) = self.app.pages.write() {
            *p = pages;
        }
    }

    fn update_pages(&self, old_ids: &[(Arc<str>, String)], keys: &[String]) {
        let Ok(mut pages) = self.app.pages.write() else {
            return;
        };
        for (id, key) in old_ids {
            if pages.get(id).is_some_and(|e| *e.path == **key) {
                pages.remove(id);
            }
        }
        for key in keys {
            if let Some(e) = self.catalog.by_path(key) {
                pages.insert(e.id.clone(), e.clone());
            }
        }
    }

    /// Hands the state store's changes to its writer thread; between rounds
    /// (`all` false) only what it takes without waiting.
    fn flush_state(&mut self, all: bool) {
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

    /// Swaps in a valid new config; keeps the old one on any error.
    fn reload(&mut self) {
        // An editor saving in place empties the file for a moment: one
        // failed read is retried before it counts.
        let loaded = Config::load(&self.config_path).or_else(|_| {
            std::thread::sleep(Duration::from_millis(100));
            Config::load(&self.config_path)
        });
        let new = match loaded {
            Ok(c) => Arc::new(c),
            Err(e) => {
                tracing::error!(error = %e, "config reload failed; keeping the running config");
                return;
            }
        };
        if new.server.listen != self.config.server.listen {
            tracing::warn!(
                "server.listen changed: restart wirefeed to listen on {}",
                new.server.listen
            );
        }
        // Sized at start: the connection semaphore and the open-file limit.
        if new.server.max_connections != self.config.server.max_connections {
            tracing::warn!(
                "server.max_connections changed: restart wirefeed to hold {} connections",
                new.server.max_connections
            );
        }
        let rewatch = new.articles.dir != self.config.articles.dir
            || new.articles.poll_interval != self.config.articles.poll_interval
            || new.articles.debounce != self.config.articles.debounce
            || new.articles.settle != self.config.articles.settle;
        self.flush_state(true);
        self.catalog.reconfigure(new.clone());
        self.config = new.clone();
        self.app
            .set_config(new.clone(), self.catalog.parse_context().clone());
        let kept: HashSet<String> = self
            .catalog
            .feeds()
            .iter()
            .flat_map(|f| {
                render::FeedFormat::ALL.map(|fmt| format!("/{}", render::feed_path(&f.slug, fmt)))
            })
            .collect();
        let site = self.app.published.load();
        self.drop_feeds = Some(
            site.resources
                .keys()
                .filter(|p| p.starts_with("/feeds/") && !kept.contains(*p))
                .cloned()
                .collect(),
        );
        if rewatch {
            self.start_watch();
        }
        self.full_scan("config reloaded");
        tracing::info!(categories = new.categories.len(), "config reloaded");
    }
}

/// What a changed path is now, with the file already read if it is an
/// article file.
enum Looked {
    /// Nothing at the path any more.
    Gone(String),
    Folder(PathBuf, String),
    /// A regular file: read if it is an article file.
    File(String, Option<Change>),
    /// A symlink, device or other non-regular file.
    Other(PathBuf, String),
}

/// What `path` is now, read if it is an article file (opened first, asked
/// of the path only when the open cannot tell); `None` for a path that
/// cannot hold an article (outside the root, the root itself, or in
/// a hidden folder, like the scan).
fn look(root: &Path, path: PathBuf, ctx: &parse::ParseContext) -> Option<Looked> {
    // The byte comparison that answers "inside?" for a clean join also
    // gives the key: done once, not once in each of `is_inside` and
    // `relative_key`. Anything else takes their component-wise way.
    let key = match parse::clean_tail(root, &path) {
        Some(tail) => tail.to_owned(),
        None if watch::is_inside(root, &path) && path != root => parse::relative_key(root, &path),
        None => return None,
    };
    if parse::in_hidden_folder(&key) {
        return None;
    }
    // An article file is opened first and asked what it is: a burst's
    // paths are nearly all new regular files, and a stat by path before
    // the open was a second path lookup for each (8 % of the reading
    // threads' CPU in a burst, perf). The open never blocks or follows a
    // link (see `parse::open_article`); what it cannot answer (a symlink
    // refused, any other error) is asked of the path as before. A FIFO or
    // device with an article's name is opened and closed unread, as the
    // startup scan has always done.
    if parse::is_article_path(&path) {
        match parse::open_article(&path) {
            Ok(file) => match file.metadata() {
                Ok(m) if m.is_file() => {
                    let read = catalog::read_opened(file, &m, &path, key.clone(), ctx);
                    return Some(Looked::File(key, Some(read)));
                }
                Ok(m) if m.is_dir() => return Some(Looked::Folder(path, key)),
                Ok(_) => return Some(Looked::Other(path, key)),
                Err(_) => {}
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(Looked::Gone(key)),
            Err(_) => {}
        }
    }
    Some(match std::fs::symlink_metadata(&path) {
        Err(_) => Looked::Gone(key),
        Ok(m) if m.is_dir() => Looked::Folder(path, key),
        Ok(m) if m.is_file() => {
            let read =
                parse::is_article_path(&path).then(|| catalog::read_as(&path, key.clone(), ctx));
            Looked::File(key, read)
        }
        Ok(_) => Looked::Other(path, key),
    })
}

fn log_problems(app: &App, changes: &[Change]) {
    for c in changes {
        match c {
            Change::Parsed(_, Err(e)) => {
                app.metrics.parse_failures.inc();
                tracing::warn!(path = %e.path.display(), reason = %e.reason, "rejected file");
            }
            Change::Parsed(key, Ok(Some(a))) if !a.warnings.is_empty() => {
                tracing::info!(path = %key, cleaned = %a.warnings.join("; "), "cleaned file");
            }
            _ => {}
        }
    }
}
