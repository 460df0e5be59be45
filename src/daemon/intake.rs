//! The intake thread: reads the files the watcher settles while the
//! publisher applies and publishes the ones read before them.
//!
//! A round used to read its files, then apply them, then publish, and the
//! files settling meanwhile waited for all of it before their own read
//! began. Under a fast burst the publisher fell behind, rounds grew to
//! thousands of files and 60-70 ms, and a file waited for up to two of
//! them. With reading in a stage of its own, the next files are read while
//! a round is applied, and a round is only applying what is already read.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use chrono::{DateTime, FixedOffset};
use foldhash::HashSet;
use rayon::prelude::*;

use super::Msg;
use crate::catalog::{self, Change};
use crate::compressor::BusyMarker;
use crate::config::Config;
use crate::parse::{self, ParseContext};
use crate::watch;

/// Settled paths and when the earliest of their events happened; `None`
/// stops the thread.
type Settled = Option<(Vec<PathBuf>, Instant)>;

/// How files are read; the publisher replaces it when the config changes.
pub(super) struct ReadConfig {
    pub root: PathBuf,
    /// Which feeds an article goes to, and how many items each shows.
    config: Arc<Config>,
    full: ParseContext,
    metadata_only: ParseContext,
    /// Reads of more files than this at once skip the texts of those the
    /// feeds cannot show.
    big_round: usize,
}

impl ReadConfig {
    pub fn new(config: Arc<Config>, ctx: &ParseContext) -> Self {
        let shown_at_most = (config.categories.len() + 1) * config.feeds.items;
        ReadConfig {
            root: config.articles.dir.clone(),
            config,
            full: ctx.clone(),
            metadata_only: ctx.metadata_only(),
            // Many more files than the feeds can show at once (a burst, a
            // folder copied in) are read for their metadata only, as the
            // startup scan does: a third of a read is building a body most
            // of them never show (and the memory for it). The few that can
            // be shown are read again whole, so below 4x what the feeds
            // show that costs more than it saves.
            big_round: 4 * shown_at_most,
        }
    }

    /// How to read the `files` of folders moved in: a big round for its
    /// metadata only (the publish reads back the texts it shows).
    pub fn for_round(&self, files: usize) -> &ParseContext {
        match files > self.big_round {
            true => &self.metadata_only,
            false => &self.full,
        }
    }

    /// What each path is now, article files read, on all cores: whole, or
    /// as [`ReadConfig::look_big`] when `backlog` (these paths and any
    /// read but not applied yet) is a big round.
    pub fn look(&self, paths: Vec<PathBuf>, backlog: usize) -> Vec<Looked> {
        match backlog > self.big_round {
            true => self.look_big(paths),
            false => self.look_all(paths, &self.full),
        }
    }

    fn look_all(&self, paths: Vec<PathBuf>, ctx: &ParseContext) -> Vec<Looked> {
        paths
            .into_par_iter()
            .filter_map(|path| look(&self.root, path, ctx))
            .collect()
    }

    /// The metadata of every file, then the files the feeds could show
    /// read again whole, so that the publisher has their texts without
    /// reading them back in its round.
    fn look_big(&self, paths: Vec<PathBuf>) -> Vec<Looked> {
        let mut looked = self.look_all(paths, &self.metadata_only);
        let whole: Vec<(usize, Looked)> = could_show(&looked, &self.config)
            .into_par_iter()
            .filter_map(|i| {
                let path = self.root.join(looked[i].key());
                look(&self.root, path, &self.full).map(|l| (i, l))
            })
            .collect();
        for (i, l) in whole {
            looked[i] = l;
        }
        looked
    }
}

/// Indexes of the articles in `looked` that a feed could show: the newest
/// `feeds.items` of each feed among them. One with that many newer ones in
/// each of its feeds is not among any feed's newest, whatever else the
/// catalog holds. (A remembered first-seen date can still move one in;
/// the publisher reads back any text it lacks.)
fn could_show(looked: &[Looked], config: &Config) -> Vec<usize> {
    let items = config.feeds.items;
    let mut by_feed: Vec<Vec<(DateTime<FixedOffset>, usize)>> =
        vec![Vec::new(); config.categories.len() + 1];
    for (i, l) in looked.iter().enumerate() {
        if let Looked::File(_, Some(Change::Parsed(_, Ok(Some(a))))) = l {
            for f in catalog::feeds_for(config, a, |_| {}) {
                by_feed[f].push((a.published, i));
            }
        }
    }
    let mut shown = Vec::new();
    for mut files in by_feed {
        if files.len() > items {
            // Newest first: the first `items` are the newest.
            files.select_nth_unstable_by(items, |a, b| b.0.cmp(&a.0));
            files.truncate(items);
        }
        shown.extend(files.into_iter().map(|(_, i)| i));
    }
    shown.sort_unstable();
    shown.dedup();
    shown
}

/// Settled paths, read by the intake thread.
pub(super) struct ReadBatch {
    looked: Vec<Looked>,
    /// When the earliest of their events happened.
    pub since: Instant,
    /// How long reading them took.
    pub read: Duration,
    /// The settings they were read with.
    config: Arc<ReadConfig>,
}

impl ReadBatch {
    pub fn files(&self) -> usize {
        self.looked.len()
    }

    /// What the paths are, as `current` reads them: a batch read before a
    /// config reload is read again, and dropped if the articles directory
    /// moved (the reload's full scan read the new one).
    pub fn into_current(self, current: &Arc<ReadConfig>) -> Option<Vec<Looked>> {
        if Arc::ptr_eq(&self.config, current) {
            return Some(self.looked);
        }
        if self.config.root != current.root {
            return None;
        }
        let paths: Vec<PathBuf> = self
            .looked
            .iter()
            .map(|l| current.root.join(l.key()))
            .collect();
        let files = paths.len();
        Some(current.look(paths, files))
    }
}

/// The intake thread; stops when dropped.
pub(super) struct Intake {
    paths: Sender<Settled>,
    config: Arc<ArcSwap<ReadConfig>>,
    /// Files read and not yet taken by the publisher: its next round holds
    /// them too.
    queued: Arc<AtomicUsize>,
    thread: Option<JoinHandle<()>>,
}

impl Intake {
    /// Starts the thread, reading on a rayon pool of `threads` (itself
    /// one of them); its batches go to `publisher` as [`Msg::Read`].
    /// `busy` marks each batch as changes in progress, so that the
    /// compressor waits for it as it does for the publisher's rounds.
    pub fn spawn(
        config: ReadConfig,
        publisher: Sender<Msg>,
        threads: usize,
        busy: BusyMarker,
    ) -> Self {
        let (paths, rx) = mpsc::channel();
        let config = Arc::new(ArcSwap::from_pointee(config));
        let queued = Arc::new(AtomicUsize::new(0));
        let spawned = {
            let (config, queued) = (config.clone(), queued.clone());
            std::thread::Builder::new()
                .name("wirefeed-intake".into())
                .spawn(move || {
                    super::in_own_pool("wirefeed-intake", threads, move || {
                        run(&rx, &publisher, &config, &queued, &busy)
                    })
                })
        };
        let thread = match spawned {
            Ok(thread) => Some(thread),
            Err(e) => {
                // Paths sent to it come back to the watcher's callback,
                // which hands them to the publisher instead.
                tracing::error!(error = %e, "cannot start the intake thread; the publisher reads");
                None
            }
        };
        Intake {
            paths,
            config,
            queued,
            thread,
        }
    }

    /// Where the watcher's settled paths go. A send fails once the thread
    /// is gone, and the paths come back.
    pub fn sender(&self) -> IntakeSender {
        IntakeSender(self.paths.clone())
    }

    pub fn config(&self) -> Arc<ReadConfig> {
        self.config.load_full()
    }

    pub fn set_config(&self, config: ReadConfig) {
        self.config.store(Arc::new(config));
    }

    /// The publisher took `batch`.
    pub fn taken(&self, batch: &ReadBatch) {
        self.queued.fetch_sub(batch.files(), Ordering::Relaxed);
    }
}

impl Drop for Intake {
    fn drop(&mut self) {
        let _ = self.paths.send(None);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Hands settled paths to the intake thread.
pub(super) struct IntakeSender(Sender<Settled>);

impl IntakeSender {
    /// `Err` with the paths when the thread is gone.
    pub fn send(&self, paths: Vec<PathBuf>, since: Instant) -> Result<(), (Vec<PathBuf>, Instant)> {
        self.0.send(Some((paths, since))).map_err(|e| match e.0 {
            Some(settled) => settled,
            None => (Vec::new(), since),
        })
    }
}

fn run(
    rx: &Receiver<Settled>,
    publisher: &Sender<Msg>,
    config: &ArcSwap<ReadConfig>,
    queued: &AtomicUsize,
    busy: &BusyMarker,
) {
    let mut stop = false;
    while !stop {
        let Ok(Some((first, mut since))) = rx.recv() else {
            break;
        };
        let mut paths: HashSet<PathBuf> = first.into_iter().collect();
        // Whatever settled while the last batch was read joins this one.
        while let Ok(more) = rx.try_recv() {
            match more {
                Some((more, s)) => {
                    paths.extend(more);
                    since = since.min(s);
                }
                None => stop = true,
            }
        }
        let started = Instant::now();
        let reading = busy.busy();
        let config = config.load_full();
        let paths: Vec<PathBuf> = paths.into_iter().collect();
        let backlog = paths.len() + queued.load(Ordering::Relaxed);
        let looked = config.look(paths, backlog);
        queued.fetch_add(looked.len(), Ordering::Relaxed);
        let batch = ReadBatch {
            looked,
            since,
            read: started.elapsed(),
            config,
        };
        let sent = publisher.send(Msg::Read(batch));
        drop(reading);
        if sent.is_err() {
            break;
        }
    }
}

/// What a changed path is now, with the file already read if it is an
/// article file.
pub(super) enum Looked {
    /// Nothing at the path any more.
    Gone(String),
    Folder(PathBuf, String),
    /// A regular file: read if it is an article file.
    File(String, Option<Change>),
    /// A symlink, device or other non-regular file.
    Other(PathBuf, String),
}

impl Looked {
    /// The path's key (relative to the articles directory).
    pub fn key(&self) -> &str {
        match self {
            Looked::Gone(k) | Looked::Folder(_, k) | Looked::File(k, _) | Looked::Other(_, k) => k,
        }
    }
}

/// What `path` is now, read if it is an article file (opened first, asked
/// of the path only when the open cannot tell); `None` for a path that
/// cannot hold an article (outside the root, the root itself, or in
/// a hidden folder, like the scan).
fn look(root: &Path, path: PathBuf, ctx: &parse::ParseContext) -> Option<Looked> {
    if !watch::is_inside(root, &path) || path == root {
        return None;
    }
    let key = parse::relative_key(root, &path);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::article::Article;
    use crate::config::Config;

    /// A sentence of the fixture's second paragraph: only in a full read.
    const SECOND_PARAGRAPH: &str = "Officials said the longer hours";

    fn marker() -> BusyMarker {
        crate::compressor::Compressor::spawn()
            .expect("compressor")
            .marker()
    }

    /// Feeds `all`, `world` and `sports`, each showing `items`.
    fn read_config(root: &Path, timezone: &str, items: usize) -> ReadConfig {
        let toml = format!(
            "[site]\ntitle='t'\nbase_url='https://news.test/'\ntimezone='{timezone}'\n\
             [articles]\ndir={root:?}\n[feeds]\nitems={items}\n\
             [[categories]]\nslug='world'\ntitle='World'\n\
             [[categories]]\nslug='sports'\ntitle='Sports'\n"
        );
        let config =
            Config::from_str_with_env(&toml, Path::new("t.toml"), Vec::new()).expect("config");
        let ctx = ParseContext::from_config(&config);
        ReadConfig::new(Arc::new(config), &ctx)
    }

    /// The fixture page, published at `hour`:45 PM in `category`.
    fn page_at(hour: u32, category: &str) -> String {
        let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed_layout.txt");
        std::fs::read_to_string(page)
            .expect("fixture")
            .replace("09:45 PM", &format!("{hour:02}:45 PM"))
            .replace(
                "More Stories From Pakistan",
                &format!("More Stories From {category}"),
            )
    }

    fn articles_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("tempdir");
        let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/seed_layout.txt");
        std::fs::create_dir(dir.path().join("world")).expect("mkdir");
        std::fs::copy(page, dir.path().join("world/metro.txt")).expect("copy");
        dir
    }

    fn article(looked: &[Looked], key: &str) -> Article {
        looked
            .iter()
            .find_map(|l| match l {
                Looked::File(k, Some(Change::Parsed(_, Ok(Some(a))))) if k == key => {
                    Some((**a).clone())
                }
                _ => None,
            })
            .unwrap_or_else(|| panic!("{key} was not read as an article"))
    }

    #[test]
    fn the_intake_reads_settled_paths_and_hands_them_to_the_publisher() {
        let dir = articles_dir();
        let (tx, rx) = mpsc::channel();
        let intake = Intake::spawn(read_config(dir.path(), "UTC", 50), tx, 2, marker());
        let paths = vec![
            dir.path().join("world/metro.txt"),
            dir.path().join("world/deleted.txt"),
        ];
        let since = Instant::now();
        assert!(intake.sender().send(paths, since).is_ok());
        let Ok(Msg::Read(batch)) = rx.recv_timeout(Duration::from_secs(10)) else {
            panic!("no batch from the intake thread");
        };
        assert_eq!(batch.since, since);
        assert_eq!(batch.files(), 2);
        let looked = batch.looked;
        assert!(looked
            .iter()
            .any(|l| matches!(l, Looked::Gone(k) if k == "world/deleted.txt")));
        let a = article(&looked, "world/metro.txt");
        assert!(
            a.content_html.contains(SECOND_PARAGRAPH),
            "a small batch is read whole"
        );
    }

    #[test]
    fn a_batch_beyond_the_big_round_limit_is_read_for_metadata_only_but_what_can_be_shown() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (older, newer) = (dir.path().join("older.txt"), dir.path().join("newer.txt"));
        std::fs::write(&older, page_at(1, "World")).expect("write");
        std::fs::write(&newer, page_at(2, "World")).expect("write");
        let mut config = read_config(dir.path(), "UTC", 1);
        // Any batch is "many more files than the feeds show".
        config.big_round = 0;
        let (tx, rx) = mpsc::channel();
        let intake = Intake::spawn(config, tx, 2, marker());
        let _ = intake.sender().send(vec![older, newer], Instant::now());
        let Ok(Msg::Read(batch)) = rx.recv_timeout(Duration::from_secs(10)) else {
            panic!("no batch from the intake thread");
        };
        // One item per feed: only the newer one can be shown.
        let whole = |key: &str| {
            article(&batch.looked, key)
                .content_html
                .contains(SECOND_PARAGRAPH)
        };
        assert!(whole("newer.txt"));
        assert!(!whole("older.txt"));
    }

    #[test]
    fn paths_come_back_once_the_intake_thread_is_gone() {
        let dir = articles_dir();
        let (tx, _rx) = mpsc::channel();
        let intake = Intake::spawn(read_config(dir.path(), "UTC", 50), tx, 2, marker());
        let sender = intake.sender();
        drop(intake);
        let path = dir.path().join("world/metro.txt");
        let back = sender.send(vec![path.clone()], Instant::now());
        assert_eq!(back.map_err(|(paths, _)| paths), Err(vec![path]));
    }

    #[test]
    fn a_batch_read_before_a_reload_is_read_again_as_the_new_config_says() {
        let dir = articles_dir();
        let utc = Arc::new(read_config(dir.path(), "UTC", 50));
        let karachi = Arc::new(read_config(dir.path(), "Asia/Karachi", 50));
        let path = dir.path().join("world/metro.txt");
        let batch = || ReadBatch {
            looked: utc.look_all(vec![path.clone()], &utc.full),
            since: Instant::now(),
            read: Duration::ZERO,
            config: utc.clone(),
        };
        // The byline's "March 3, 2024 | 09:45 PM" is read in the config's
        // timezone.
        let same = batch().into_current(&utc).expect("same config");
        assert_eq!(
            article(&same, "world/metro.txt").published.to_rfc3339(),
            "2024-03-03T21:45:00+00:00"
        );
        let reloaded = batch().into_current(&karachi).expect("same directory");
        assert_eq!(
            article(&reloaded, "world/metro.txt").published.to_rfc3339(),
            "2024-03-03T21:45:00+05:00"
        );
        let elsewhere = Arc::new(read_config(Path::new("/elsewhere"), "UTC", 50));
        assert!(batch().into_current(&elsewhere).is_none());
    }

    #[test]
    fn a_big_batch_keeps_the_texts_of_the_newest_of_each_feed_only() {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut paths = Vec::new();
        for (category, name, hour) in [
            ("World", "w1", 1),
            ("World", "w2", 2),
            ("World", "w3", 3),
            ("World", "w4", 4),
            ("World", "w5", 5),
            ("Sports", "s6", 6),
            ("Sports", "s7", 7),
        ] {
            let path = dir.path().join(format!("{name}.txt"));
            std::fs::write(&path, page_at(hour, category)).expect("write");
            paths.push(path);
        }
        // Two items per feed: `all` shows s7 and s6, `world` w5 and w4,
        // `sports` s7 and s6.
        let config = read_config(dir.path(), "UTC", 2);
        let looked = config.look_big(paths);
        let whole = |key: &str| {
            article(&looked, key)
                .content_html
                .contains(SECOND_PARAGRAPH)
        };
        for key in ["w4.txt", "w5.txt", "s6.txt", "s7.txt"] {
            assert!(whole(key), "{key} can be shown: read whole");
        }
        for key in ["w1.txt", "w2.txt", "w3.txt"] {
            assert!(!whole(key), "{key} cannot be shown: metadata only");
        }
    }
}
