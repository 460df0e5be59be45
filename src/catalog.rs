//! Every parsed article, with its identity and feeds, kept in feed order.
//!
//! The catalog is fed batches of [`Change`]s (from the startup scan or the
//! watcher) and answers which feeds a batch touched, so only those are
//! re-rendered. Identity rules:
//!
//! - GUID: the article's own `id` (as is when it is a URI, else a UUIDv5 of
//!   it), else its own `url`, else a UUIDv5 of its path relative to the
//!   articles directory: the same on every restart and every machine.
//! - With a [`StateStore`]: a path seen before keeps its GUID and its first
//!   `published` date; `updated` moves (to the file's mtime) only when the
//!   bytes change; a file whose content matches one that just went away
//!   (rename, move) takes over its GUID, id and dates.
//! - Feed order: newest `published` first, ties by GUID.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};
use foldhash::{HashMap, HashMapExt, HashSet};
use rayon::prelude::*;
use serde::Serialize;

use crate::article::{Article, CategorySource, ItemText};
use crate::config::Config;
use crate::parse::{self, ParseContext, ParseError};
use crate::state::{Record, StateStore};

/// Namespace for wirefeed's UUIDv5 GUIDs (a fixed random UUID).
const GUID_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x3f0c_9a52_6b1e_4d27_9a4f_1c8e_5b2d_7e61);

/// One article as the feeds see it. The catalog holds one for every
/// article in the archive, so it keeps only what an item needs to be
/// placed and listed; the summary, body and dateline are read back for the
/// items the feeds show ([`ItemText`]).
#[derive(Debug, PartialEq, Serialize)]
pub struct Entry {
    /// Relative to the articles directory, `/`-separated: the catalog's key
    /// (one shared copy).
    pub path: Arc<str>,
    pub title: Box<str>,
    pub author: Option<Box<str>>,
    pub tags: Box<[Box<str>]>,
    /// URL-safe id: the page is `/articles/{id}`.
    pub id: Arc<str>,
    pub guid: Arc<str>,
    pub published: DateTime<FixedOffset>,
    pub updated: DateTime<FixedOffset>,
    /// The article's own URL, if it names one.
    pub own_link: Option<Box<str>>,
    /// Indexes into [`Catalog::feeds`] (0 is `all`).
    pub feeds: Vec<usize>,
}

impl Entry {
    /// The article's own URL, else its page on this site.
    pub fn link(&self, config: &Config) -> String {
        match &self.own_link {
            Some(link) => link.to_string(),
            None => config.url(&format!("articles/{}", encode_id(&self.id))),
        }
    }
}

/// A feed wirefeed publishes: `all` or a configured category.
#[derive(Debug, Clone, Serialize)]
pub struct FeedInfo {
    pub slug: String,
    pub title: String,
    pub description: String,
}

/// Something that happened to one path under the articles directory.
#[derive(Debug)]
pub enum Change {
    /// The file was read: an article, a draft (`None`) or a problem.
    Parsed(String, Result<Option<Box<Article>>, ParseError>),
    Removed(String),
}

/// An article problem, for `check`, logs and metrics.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct SortKey {
    published: Reverse<i64>,
    guid: Arc<str>,
    path: Arc<str>,
}

pub struct Catalog {
    config: Arc<Config>,
    feeds: Vec<FeedInfo>,
    /// By path, sorted: a folder's entries are one range (see
    /// [`Catalog::paths_under`]), not a scan of the whole archive.
    /// The keys are the one shared copy of each path: the id index, the
    /// feed order and the state store hold the same `Arc<str>`.
    entries: BTreeMap<Arc<str>, Arc<Entry>>,
    /// id → path, to serve `/articles/{id}` and keep ids unique.
    ids: HashMap<Arc<str>, Arc<str>>,
    order: Vec<BTreeSet<SortKey>>,
    problems: BTreeMap<String, String>,
    state: StateStore,
    /// Summaries, bodies and datelines by path, only for entries some feed
    /// shows (see [`Catalog::cache_texts`]); others are read again when
    /// needed.
    texts: HashMap<Arc<str>, Arc<ItemText>>,
    ctx: ParseContext,
}

impl Catalog {
    pub fn new(config: Arc<Config>, state: StateStore) -> Self {
        let feeds = feed_list(&config);
        let order = vec![BTreeSet::new(); feeds.len()];
        Catalog {
            ctx: ParseContext::from_config(&config),
            config,
            feeds,
            entries: BTreeMap::new(),
            ids: HashMap::new(),
            order,
            problems: BTreeMap::new(),
            state,
            texts: HashMap::new(),
        }
    }

    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    pub fn feeds(&self) -> &[FeedInfo] {
        &self.feeds
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    pub fn by_id(&self, id: &str) -> Option<&Arc<Entry>> {
        self.ids.get(id).and_then(|p| self.entries.get(p))
    }

    pub fn entries(&self) -> impl Iterator<Item = &Arc<Entry>> {
        self.entries.values()
    }

    pub fn by_path(&self, path: &str) -> Option<&Arc<Entry>> {
        self.entries.get(path)
    }

    pub fn problems(&self) -> Vec<Problem> {
        self.problems
            .iter()
            .map(|(path, reason)| Problem {
                path: path.clone(),
                reason: reason.clone(),
            })
            .collect()
    }

    /// How many files failed to parse (the gauge operators alert on).
    pub fn problem_count(&self) -> usize {
        self.problems.len()
    }

    pub fn state(&self) -> &StateStore {
        &self.state
    }

    pub fn state_mut(&mut self) -> &mut StateStore {
        &mut self.state
    }

    /// Starts over under a new config (a reload), keeping what the state
    /// store remembers; the caller rescans.
    pub fn reconfigure(&mut self, config: Arc<Config>) {
        let state = std::mem::replace(&mut self.state, StateStore::in_memory());
        *self = Catalog::new(config, state);
    }

    /// Paths of the entries under directory `dir` (relative key).
    pub fn paths_under(&self, dir: &str) -> Vec<String> {
        let prefix = format!("{dir}/");
        self.entries
            .range::<str, _>((Bound::Included(prefix.as_str()), Bound::Unbounded))
            .map(|(p, _)| p)
            .take_while(|p| p.starts_with(&prefix))
            .map(|p| p.to_string())
            .collect()
    }

    /// Applies a batch; returns the indexes of the feeds whose items changed.
    /// Removals go first so a rename within one batch is seen as one.
    pub fn apply(&mut self, changes: Vec<Change>) -> BTreeSet<usize> {
        let mut touched = BTreeSet::new();
        let (removed, parsed): (Vec<_>, Vec<_>) = changes
            .into_iter()
            .partition(|c| matches!(c, Change::Removed(_)));
        for change in removed.into_iter().chain(parsed) {
            match change {
                // Gone, or a draft: not (or no longer) published.
                Change::Removed(path) | Change::Parsed(path, Ok(None)) => {
                    self.problems.remove(&path);
                    touched.extend(self.remove(&path));
                    self.state.mark_gone(&path);
                }
                Change::Parsed(path, Ok(Some(article))) => {
                    self.problems.remove(&path);
                    touched.extend(self.insert(*article));
                }
                Change::Parsed(path, Err(e)) => {
                    // The last good version (if any) stays in the feeds: a
                    // half-saved or broken edit must not unpublish a story.
                    self.problems.insert(path, e.reason.to_string());
                }
            }
        }
        touched
    }

    /// How this catalog reads files (built once per config).
    pub fn parse_context(&self) -> &ParseContext {
        &self.ctx
    }

    /// Reads the whole articles directory in: first a removal for each
    /// entry whose file is gone (so a file renamed meanwhile takes its GUID
    /// over), then every file, [`SCAN_CHUNK`] at a time parsed on all cores
    /// and applied, so a whole archive's parsed articles are never in memory
    /// at once. `seen` gets each batch before it is applied (for logging).
    /// `startup`: state records of paths no longer on disk are marked gone
    /// too, so renames done while wirefeed was stopped are recognised.
    /// `hold_back_recent`: articles that may still be being written
    /// ([`crate::watch::maybe_being_written`], with a second's slack as
    /// their dates are kept in whole seconds) are left out, and the caller
    /// reads them once they have settled (the daemon's catch-up).
    /// Returns how many files were read, and the paths held back.
    pub fn rescan(
        &mut self,
        startup: bool,
        hold_back_recent: bool,
        mut seen: impl FnMut(&[Change]),
    ) -> (usize, Vec<PathBuf>) {
        let settle = self.config.articles.settle + std::time::Duration::from_secs(1);
        let held_back = |c: &Change, now: std::time::SystemTime| match c {
            Change::Parsed(_, Ok(Some(a))) if hold_back_recent => {
                crate::watch::maybe_being_written(a.modified.into(), now, settle)
            }
            _ => false,
        };
        let root = self.config.articles.dir.clone();
        let files = list_articles(&root);
        let on_disk: HashSet<String> = files
            .iter()
            .map(|p| parse::relative_key(&root, p))
            .collect();
        let gone: Vec<Change> = self
            .entries
            .keys()
            .filter(|p| !on_disk.contains(&***p))
            .map(|p| Change::Removed(p.to_string()))
            .collect();
        if startup {
            self.forget_missing(&on_disk);
        }
        drop(on_disk);
        seen(&gone);
        self.apply(gone);
        let count = files.len();
        // A chunk at a time (each chunk's paths are freed once read), in
        // three stages at once: the disk is asked for chunk k+2 while k+1
        // is parsed on all cores and k is applied here (applying is serial).
        let ctx = self.ctx.clone(); // apply() borrows self meanwhile
        let mut files = files.into_iter();
        let mut take = || -> Vec<PathBuf> { files.by_ref().take(SCAN_CHUNK).collect() };
        let first = take();
        parse::prefetch::prefetch(&first);
        let mut ahead = take();
        let mut parsed = std::thread::scope(|s| {
            s.spawn(|| parse::prefetch::prefetch(&ahead));
            scan(&root, &first, &ctx)
        });
        let mut held = Vec::new();
        while !parsed.is_empty() {
            let now = std::time::SystemTime::now();
            parsed.retain(|c| match (held_back(c, now), c) {
                (true, Change::Parsed(key, _)) => {
                    held.push(root.join(key));
                    false
                }
                _ => true,
            });
            let incoming = take();
            let next = std::thread::scope(|s| {
                s.spawn(|| parse::prefetch::prefetch(&incoming));
                // Outside any pool, this thread parses in rayon's global
                // one: with the applying thread that is one thread more
                // than cores, which fills the gaps when either stage waits.
                // Parsing in the daemon's own pool (`rayon::join`) left
                // them idle: warm start at 100k 3.75-3.91 s against
                // 3.04-3.78 s (BENCHMARKS.md, sixteenth session).
                let parser = s.spawn(|| scan(&root, &ahead, &ctx));
                seen(&parsed);
                self.apply(std::mem::take(&mut parsed));
                parser
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
            });
            parsed = next;
            ahead = incoming;
        }
        (count, held)
    }

    /// What may have changed on disk since `since` without the catalog
    /// hearing of it (while no watch was in place): files it has not seen,
    /// files whose inode changed at or after `since` (ctime: every write,
    /// rename or chmod moves it, and unlike mtime it cannot be set back by
    /// `cp -p` or `touch -d`), and entries whose file is gone. Absolute
    /// paths, for the watcher's path handling.
    pub fn changed_since(&self, since: std::time::SystemTime) -> Vec<PathBuf> {
        use std::os::unix::fs::MetadataExt;
        let root = &self.config.articles.dir;
        let cutoff = since
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let changed_after = |m: &std::fs::Metadata| m.ctime() >= cutoff || m.mtime() >= cutoff;
        // Streamed (no list of the whole tree: this runs at peak memory).
        let mut changed: Vec<PathBuf> = article_files(root)
            .par_bridge()
            .filter(|p| {
                let key = parse::relative_key(root, p);
                let known =
                    self.entries.contains_key(key.as_str()) || self.problems.contains_key(&key);
                !known || std::fs::symlink_metadata(p).map_or(true, |m| changed_after(&m))
            })
            .collect();
        changed.par_extend(
            self.entries
                .par_iter()
                .map(|(k, _)| root.join(&**k))
                .filter(|p| std::fs::symlink_metadata(p).is_err()),
        );
        changed
    }

    fn forget_missing(&mut self, on_disk: &HashSet<String>) {
        for path in self.state.live_paths() {
            if !on_disk.contains(&*path) {
                self.state.mark_gone(&path);
            }
        }
    }

    fn remove(&mut self, path: &str) -> Vec<usize> {
        self.texts.remove(path);
        let Some(entry) = self.entries.remove(path) else {
            return Vec::new();
        };
        if self.ids.get(&entry.id).is_some_and(|p| &**p == path) {
            self.ids.remove(&entry.id);
        }
        let key = sort_key(&entry);
        for &f in &entry.feeds {
            self.order[f].remove(&key);
        }
        entry.feeds.clone()
    }

    fn insert(&mut self, mut article: Article) -> Vec<usize> {
        let path = self
            .state
            .shared_path(&article.path)
            .unwrap_or_else(|| Arc::from(article.path.as_str()));
        let text = article.take_text();
        let mut touched = self.remove(&path);
        // A scanned article comes without its text (see [`scan`]).
        if !(text.html.is_empty() && text.summary.is_empty()) {
            self.texts.insert(path.clone(), Arc::new(text));
        }
        let identity = self.identity(&article, &path);
        let feeds = self.feeds_of(&article);
        let entry = Arc::new(Entry {
            path: path.clone(),
            title: article.title.into(),
            author: article.author.map(String::into_boxed_str),
            tags: article
                .tags
                .into_iter()
                .map(String::into_boxed_str)
                .collect(),
            id: identity.id,
            guid: identity.guid,
            published: identity.published,
            updated: identity.updated,
            own_link: article.link.map(String::into_boxed_str),
            feeds,
        });
        let key = sort_key(&entry);
        for &f in &entry.feeds {
            self.order[f].insert(key.clone());
            touched.push(f);
        }
        self.ids.insert(entry.id.clone(), path.clone());
        self.entries.insert(path, entry);
        touched
    }

    /// GUID, id and dates for an article, from the state store when it
    /// remembers the path (or the content, after a rename).
    fn identity(&mut self, a: &Article, path: &Arc<str>) -> Identity {
        let fresh_updated = a.updated.unwrap_or(a.published);
        // What the store remembers: this path's record, or (a rename) the
        // record of a vanished file with the same bytes.
        let mut renamed_from = None;
        let (remembered, generation) = match self.state.get(&a.path) {
            Some(rec) if rec.gone && rec.hash != a.content_hash => (None, rec.generation + 1),
            Some(rec) => (Some(rec.clone()), rec.generation),
            None => match self.state.gone_with_hash(a.content_hash) {
                Some((old_path, rec)) => {
                    renamed_from = Some(old_path.to_string());
                    (Some(rec.clone()), rec.generation)
                }
                None => (None, 0),
            },
        };
        let mut identity = match remembered {
            Some(rec) => {
                let published = rec.published;
                let mut updated = rec.updated;
                if rec.hash != a.content_hash {
                    updated = updated.max(a.modified).max(fresh_updated);
                }
                Identity {
                    guid: rec.guid,
                    id: rec.id,
                    published,
                    updated,
                }
            }
            None => Identity {
                guid: derive_guid(a, generation).into(),
                id: derive_id(a).into(),
                published: a.published,
                updated: fresh_updated,
            },
        };
        // The article's own id or URL is authoritative over remembered ones.
        if a.id.is_some() || a.link.is_some() {
            identity.guid = derive_guid(a, 0).into();
        }
        if a.id.is_some() {
            identity.id = derive_id(a).into();
        }
        identity.id = self.unique_id(identity.id, path);
        if let Some(old_path) = renamed_from {
            // The record moves with the file.
            self.state.forget(&old_path);
        }
        let record = Record {
            guid: identity.guid.clone(),
            id: identity.id.clone(),
            published: identity.published,
            updated: identity.updated,
            hash: a.content_hash,
            gone: false,
            generation,
        };
        // A restart finds most records as they were: nothing to write.
        if self.state.get(path) != Some(&record) {
            self.state.put(path.clone(), record);
        }
        identity
    }

    fn unique_id(&self, id: Arc<str>, path: &str) -> Arc<str> {
        match self.ids.get(&id) {
            Some(other) if &**other != path => format!(
                "{id}-{:08x}",
                xxhash_rust::xxh3::xxh3_64(path.as_bytes()) as u32
            )
            .into(),
            _ => id,
        }
    }

    /// Feed indexes for an article: `all`, plus every category one of its
    /// names matches. Folder names count only when no other source gave
    /// names, and only the nearest folder that names a feed.
    fn feeds_of(&mut self, a: &Article) -> Vec<usize> {
        let mut feeds = vec![0];
        let cats = &self.config.categories;
        match a.category_source {
            CategorySource::Folder => {
                if let Some(i) = a
                    .categories
                    .iter()
                    .find_map(|name| cats.iter().position(|c| c.matches(name)))
                {
                    feeds.push(i + 1);
                }
            }
            _ => {
                for name in &a.categories {
                    match cats.iter().position(|c| c.matches(name)) {
                        Some(i) if !feeds.contains(&(i + 1)) => feeds.push(i + 1),
                        Some(_) => {}
                        None => {
                            self.problems.insert(
                                a.path.clone(),
                                format!(
                                    "category {name:?} matches no configured feed (only in `all`)"
                                ),
                            );
                        }
                    }
                }
            }
        }
        feeds
    }

    /// The newest `feeds.items` entries of feed `index` published by `now`.
    pub fn items(&self, index: usize, now: DateTime<Utc>) -> Vec<Arc<Entry>> {
        self.window(index, now)
            .filter_map(|k| self.entries.get(&k.path).cloned())
            .collect()
    }

    fn window(&self, index: usize, now: DateTime<Utc>) -> impl Iterator<Item = &SortKey> {
        let now = now.timestamp();
        self.order[index]
            .iter()
            .filter(move |k| k.published.0 <= now)
            .take(self.config.feeds.items)
    }

    /// An entry's summary, body and dateline: from the cache, else read
    /// from its file again.
    pub fn text(&self, entry: &Entry) -> Arc<ItemText> {
        match self.shown_text(&entry.path) {
            Some(t) => t.clone(),
            None => load_text(&self.config.articles.dir, &self.ctx, entry),
        }
    }

    /// The text of an article the feeds show (kept by
    /// [`Catalog::cache_texts`]); `None` for any other.
    pub fn shown_text(&self, path: &str) -> Option<&Arc<ItemText>> {
        self.texts.get(path)
    }

    /// Keeps in memory exactly the texts the feeds show at `now` (reading
    /// the missing ones in parallel): memory stays bounded by feeds × items,
    /// not by the size of the archive.
    pub fn cache_texts(&mut self, now: DateTime<Utc>) {
        let shown: HashSet<Arc<str>> = (0..self.feeds.len())
            .flat_map(|i| self.window(i, now))
            .map(|k| k.path.clone())
            .collect();
        self.texts.retain(|p, _| shown.contains(p));
        let missing: Vec<(Arc<str>, Arc<Entry>)> = shown
            .into_iter()
            .filter(|p| !self.texts.contains_key(p))
            .filter_map(|p| self.entries.get(&p).map(|e| (p, e.clone())))
            .collect();
        let (root, ctx) = (&self.config.articles.dir, &self.ctx);
        let loaded: Vec<(Arc<str>, Arc<ItemText>)> = missing
            .into_par_iter()
            .map(|(p, e)| (p, load_text(root, ctx, &e)))
            .collect();
        self.texts.extend(loaded);
    }

    /// How many entries each feed holds (published or scheduled).
    pub fn counts(&self) -> Vec<usize> {
        self.order.iter().map(BTreeSet::len).collect()
    }

    /// The earliest publication time after `now`: when scheduled articles
    /// must appear without any file event.
    pub fn next_scheduled(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let now = now.timestamp();
        self.order[0]
            .iter()
            .take_while(|k| k.published.0 > now)
            .last()
            .and_then(|k| DateTime::from_timestamp(k.published.0, 0))
    }

    /// Which feeds hold articles published in `(after, until]`.
    pub fn feeds_with_items_between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> BTreeSet<usize> {
        let (after, until) = (after.timestamp(), until.timestamp());
        self.entries
            .values()
            .filter(|e| {
                let t = e.published.timestamp();
                t > after && t <= until
            })
            .flat_map(|e| e.feeds.iter().copied())
            .collect()
    }
}

struct Identity {
    guid: Arc<str>,
    id: Arc<str>,
    published: DateTime<FixedOffset>,
    updated: DateTime<FixedOffset>,
}

fn sort_key(e: &Entry) -> SortKey {
    SortKey {
        published: Reverse(e.published.timestamp()),
        guid: e.guid.clone(),
        path: e.path.clone(),
    }
}

/// `all` first, then the configured categories in file order.
pub fn feed_list(config: &Config) -> Vec<FeedInfo> {
    let mut feeds = vec![FeedInfo {
        slug: "all".into(),
        title: config.site.title.clone(),
        description: if config.site.description.is_empty() {
            format!("Every story from {}", config.site.title)
        } else {
            config.site.description.clone()
        },
    }];
    feeds.extend(config.categories.iter().map(|c| FeedInfo {
        slug: c.slug.clone(),
        title: format!("{} - {}", config.site.title, c.title),
        description: if c.description.is_empty() {
            format!("{} stories from {}", c.title, config.site.title)
        } else {
            c.description.clone()
        },
    }));
    feeds
}

fn derive_guid(a: &Article, generation: u32) -> String {
    if let Some(id) = &a.id {
        if url::Url::parse(id).is_ok() {
            return id.clone();
        }
        return format!(
            "urn:uuid:{}",
            uuid::Uuid::new_v5(&GUID_NAMESPACE, format!("id:{id}").as_bytes())
        );
    }
    if let Some(link) = &a.link {
        return link.clone();
    }
    let name = if generation == 0 {
        format!("path:{}", a.path)
    } else {
        format!("path:{}#{generation}", a.path)
    };
    format!(
        "urn:uuid:{}",
        uuid::Uuid::new_v5(&GUID_NAMESPACE, name.as_bytes())
    )
}

/// Lowercase letters and digits joined by `-`: `world/Putin Visit.txt` →
/// `world-putin-visit`.
fn derive_id(a: &Article) -> String {
    let source = match &a.id {
        Some(id) => id.clone(),
        None => a
            .path
            .rsplit_once('.')
            .map_or(a.path.as_str(), |(stem, _)| stem)
            .to_string(),
    };
    let mut id = String::new();
    for c in source.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            id.push(c);
        } else if !id.is_empty() && !id.ends_with('-') {
            id.push('-');
        }
    }
    let id = id.trim_end_matches('-').to_string();
    if id.is_empty() {
        format!("a{:016x}", a.content_hash)
    } else {
        id
    }
}

/// Ids may hold non-ASCII letters: percent-encode them for URLs. Every
/// render asks for every item's link, so the usual id (letters, digits,
/// `-`: nothing to encode) is returned as is.
pub fn encode_id(id: &str) -> std::borrow::Cow<'_, str> {
    if id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return id.into();
    }
    percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC)
        .to_string()
        .replace("%2D", "-")
        .into()
}

/// Reads an entry's summary, body and dateline from its file again. If the
/// file no longer parses (it is changing right now), its title stands in
/// until the watcher reports the change.
pub fn load_text(root: &Path, ctx: &ParseContext, entry: &Entry) -> Arc<ItemText> {
    let path = root.join(&*entry.path);
    // The entry's path is the file's key already: no need to derive it back.
    let mut text = match parse::parse_file_as(&path, &entry.path, ctx) {
        Ok(Some(mut a)) => a.take_text(),
        _ => ItemText::default(),
    };
    if text.html.is_empty() {
        let said = match text.summary.is_empty() {
            true => &*entry.title,
            false => &text.summary,
        };
        text.html = format!("<p>{}</p>", quick_xml::escape::partial_escape(said));
    }
    Arc::new(text)
}

/// Every article file under `root` (hidden and swap files skipped).
pub fn list_articles(root: &Path) -> Vec<PathBuf> {
    article_files(root).collect()
}

fn article_files(root: &Path) -> impl Iterator<Item = PathBuf> + Send {
    walkdir::WalkDir::new(root)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && parse::is_article_path(e.path()))
        .map(|e| e.into_path())
}

/// Reads one file under `root` into a change for the catalog.
pub fn read(root: &Path, path: &Path, ctx: &ParseContext) -> Change {
    read_as(path, parse::relative_key(root, path), ctx)
}

/// [`read`] for a caller that already has the file's `key`. A read of
/// metadata only ([`ParseContext::metadata_only`]) carries no text (what
/// it parsed of the body is partial); [`Catalog::cache_texts`] reads the
/// texts the feeds show back.
pub fn read_as(path: &Path, key: String, ctx: &ParseContext) -> Change {
    let result = parse::parse_file_as(path, &key, ctx);
    parsed(key, result, ctx)
}

/// As [`read_as`], for a file already opened with
/// [`parse::open_article`] and its metadata.
pub fn read_opened(
    file: std::fs::File,
    meta: &std::fs::Metadata,
    path: &Path,
    key: String,
    ctx: &ParseContext,
) -> Change {
    let result = parse::parse_opened(file, meta, path, &key, ctx);
    parsed(key, result, ctx)
}

/// The change a parse makes; a read of metadata only keeps no text.
fn parsed(key: String, result: Result<Option<Article>, ParseError>, ctx: &ParseContext) -> Change {
    let mut parsed = result.map(|a| a.map(Box::new));
    if let (false, Ok(Some(article))) = (ctx.texts, &mut parsed) {
        article.take_text();
    }
    Change::Parsed(key, parsed)
}

/// Files a full scan parses before applying them: enough to keep both
/// cores busy, few enough that the parsed articles stay a few MB.
pub const SCAN_CHUNK: usize = 2048;

/// Reads `files` (under `root`) in parallel (all cores). Texts are dropped
/// at once (a full archive's would not fit in memory), so they are not
/// built ([`ParseContext::metadata_only`]); [`Catalog::cache_texts`] reads
/// back the few the feeds show.
fn scan(root: &Path, files: &[PathBuf], ctx: &ParseContext) -> Vec<Change> {
    let ctx = &ctx.metadata_only();
    files.par_iter().map(|path| read(root, path, ctx)).collect()
}

/// Builds a catalog from a directory in one go (for `build` and `check`).
pub fn load(config: Arc<Config>, state: StateStore) -> Catalog {
    let mut catalog = Catalog::new(config, state);
    catalog.rescan(true, false, |_| {});
    catalog.cache_texts(Utc::now());
    catalog
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_item_link_is_its_page_with_the_id_percent_encoded() {
        let config = Config::from_str_with_env(
            "[site]\ntitle='t'\nbase_url='https://news.test/wire/'\ntimezone='UTC'\n",
            Path::new("t.toml"),
            Vec::new(),
        )
        .expect("config");
        let entry = |id: &str, own: Option<&str>| Entry {
            path: "a.txt".into(),
            title: "T".into(),
            author: None,
            tags: Box::new([]),
            id: id.into(),
            guid: "g".into(),
            published: DateTime::UNIX_EPOCH.fixed_offset(),
            updated: DateTime::UNIX_EPOCH.fixed_offset(),
            own_link: own.map(Box::from),
            feeds: vec![0],
        };
        assert_eq!(
            entry("world-putin-visit-2", None).link(&config),
            "https://news.test/wire/articles/world-putin-visit-2"
        );
        assert_eq!(
            entry("اردو-خبر", None).link(&config),
            "https://news.test/wire/articles/%D8%A7%D8%B1%D8%AF%D9%88-%D8%AE%D8%A8%D8%B1"
        );
        assert_eq!(
            entry("x", Some("https://example.com/s")).link(&config),
            "https://example.com/s"
        );
    }
}
