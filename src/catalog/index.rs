//! The index: every article's entry by path, its id, its place in each
//! feed's order, and the problems of the files that are not articles.

use std::cmp::{Ordering, Reverse};
use std::collections::{BTreeMap, BTreeSet};
use std::ops::Bound;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use foldhash::{HashMap, HashMapExt};

use super::archive_log::Archives;
use super::state::{Record, StateStore};
use crate::config::Config;
use crate::model::{
    Article, CategorySource, Change, Entry, FeedInfo, FeedSet, Guid, ItemText, Problem,
    SharedEntry, SharedIds,
};
use crate::parse::ParseContext;

/// An entry in a feed's order: newest `published` first, ties by GUID,
/// then by path. The key is the entry itself: one pointer per article and
/// feed, however long its GUID and path.
#[derive(Debug, Clone)]
pub(super) struct SortKey(pub(super) SharedEntry);

impl SortKey {
    fn rank(&self) -> (Reverse<i64>, &Guid, &str) {
        let e = &self.0;
        (Reverse(e.published.timestamp()), &e.guid, &e.path)
    }

    pub(super) fn path(&self) -> &Arc<str> {
        &self.0.path
    }

    fn published(&self) -> i64 {
        self.0.published.timestamp()
    }
}

impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        self.rank().cmp(&other.rank())
    }
}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for SortKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for SortKey {}

/// Every entry by path, sorted: a folder's entries are one range (see
/// [`Catalog::paths_under`]). One pointer per article, keyed by the path
/// its entry holds (the one shared copy of each path).
#[derive(Debug, Default)]
pub(super) struct PathIndex(BTreeSet<ByPath>);

#[derive(Debug)]
struct ByPath(SharedEntry);

impl std::borrow::Borrow<str> for ByPath {
    fn borrow(&self) -> &str {
        &self.0.path
    }
}

impl Ord for ByPath {
    fn cmp(&self, other: &Self) -> Ordering {
        self.0.path.cmp(&other.0.path)
    }
}

impl PartialOrd for ByPath {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for ByPath {
    fn eq(&self, other: &Self) -> bool {
        self.0.path == other.0.path
    }
}

impl Eq for ByPath {}

impl PathIndex {
    pub(super) fn get(&self, path: &str) -> Option<&SharedEntry> {
        self.0.get(path).map(|e| &e.0)
    }

    pub(super) fn contains_key(&self, path: &str) -> bool {
        self.0.contains(path)
    }

    /// Adds `entry`, replacing the one at its path.
    pub(super) fn insert(&mut self, entry: SharedEntry) {
        self.0.replace(ByPath(entry));
    }

    pub(super) fn remove(&mut self, path: &str) -> Option<SharedEntry> {
        self.0.take(path).map(|e| e.0)
    }

    pub(super) fn values(&self) -> impl Iterator<Item = &SharedEntry> {
        self.0.iter().map(|e| &e.0)
    }

    pub(super) fn keys(&self) -> impl Iterator<Item = &Arc<str>> {
        self.values().map(|e| &e.path)
    }

    /// The paths from `start` on, in order.
    pub(super) fn keys_from<'a>(&'a self, start: &str) -> impl Iterator<Item = &'a Arc<str>> {
        self.0
            .range::<str, _>((Bound::Included(start), Bound::Unbounded))
            .map(|e| &e.0.path)
    }

    pub(super) fn par_keys(&self) -> impl rayon::iter::ParallelIterator<Item = &Arc<str>> {
        use rayon::iter::ParallelIterator;
        rayon::iter::IntoParallelRefIterator::par_iter(&self.0).map(|e| &e.0.path)
    }

    pub(super) fn len(&self) -> usize {
        self.0.len()
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

pub struct Catalog {
    pub(super) config: Arc<Config>,
    pub(super) feeds: Vec<FeedInfo>,
    /// By path; the id index and the feed orders hold the entries too.
    pub(super) entries: PathIndex,
    /// By id, to keep ids unique; shared with the site, which serves
    /// `/articles/{id}` by it.
    pub(super) ids: SharedIds,
    pub(super) order: Vec<BTreeSet<SortKey>>,
    pub(super) problems: BTreeMap<String, String>,
    pub(super) state: StateStore,
    /// Summaries, bodies and datelines by path, only for entries some feed
    /// shows (see [`Catalog::cache_texts`]); others are read again when
    /// needed.
    pub(super) texts: HashMap<Arc<str>, Arc<ItemText>>,
    pub(super) ctx: ParseContext,
    pub(super) archives: Archives,
}

impl Catalog {
    pub fn new(config: Arc<Config>, state: StateStore) -> Self {
        let feeds = feed_list(&config);
        let order = vec![BTreeSet::new(); feeds.len()];
        let slugs: Vec<String> = feeds.iter().map(|f| f.slug.clone()).collect();
        Catalog {
            archives: Archives::open(&config, &slugs, None),
            ctx: ParseContext::from_config(&config),
            config,
            feeds,
            entries: PathIndex::default(),
            ids: SharedIds::default(),
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

    /// The id index, as the site shares it.
    pub fn ids(&self) -> SharedIds {
        self.ids.clone()
    }

    pub fn entries(&self) -> impl Iterator<Item = &SharedEntry> {
        self.entries.values()
    }

    pub fn by_path(&self, path: &str) -> Option<&SharedEntry> {
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
        let mut state = std::mem::replace(&mut self.state, StateStore::in_memory());
        for entry in self.entries.values() {
            state.restore(entry.path.clone(), record(entry, false));
        }
        let archives = self
            .archives
            .dir()
            .and_then(Path::parent)
            .map(Path::to_path_buf);
        *self = Catalog::new(config, state);
        if let Some(dir) = archives {
            self.keep_archives_in(&dir);
        }
    }

    /// Keeps the archive logs under `state_dir` (see `archive`), reading
    /// back what is there; without this they live in memory.
    pub fn keep_archives_in(&mut self, state_dir: &Path) {
        let slugs: Vec<String> = self.feeds.iter().map(|f| f.slug.clone()).collect();
        self.archives = Archives::open(&self.config, &slugs, Some(state_dir));
    }

    /// Paths of the entries under directory `dir` (relative key).
    pub fn paths_under(&self, dir: &str) -> Vec<String> {
        let prefix = format!("{dir}/");
        self.entries
            .keys_from(&prefix)
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
                    let (feeds, removed) = self.remove(&path);
                    touched.extend(feeds);
                    match removed {
                        Some(entry) => self.state.put(entry.path.clone(), record(&entry, true)),
                        None => self.state.mark_gone(&path),
                    }
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

    /// Takes the entry at `path` out of the index; returns the feeds it
    /// was in, and the entry.
    pub(super) fn remove(&mut self, path: &str) -> (Vec<usize>, Option<SharedEntry>) {
        self.texts.remove(path);
        let Some(entry) = self.entries.remove(path) else {
            return (Vec::new(), None);
        };
        self.archives.touch(&entry.path);
        let id = entry.id();
        self.ids.remove_at(&id, path);
        let key = sort_key(&entry);
        for f in entry.feed_indexes() {
            self.order[f].remove(&key);
        }
        (entry.feed_indexes().collect(), Some(entry))
    }

    fn insert(&mut self, mut article: Article) -> Vec<usize> {
        let text = article.take_text();
        // What is remembered of the path: its entry's record, else (a
        // restart) the one the state store read back.
        let (mut touched, old) = self.remove(&article.path);
        let (path, remembered) = match old {
            Some(entry) => (entry.path.clone(), Some(record(&entry, false))),
            None => match self.state.take(&article.path) {
                Some((path, rec)) => (path, Some(rec)),
                None => (Arc::from(article.path.as_str()), None),
            },
        };
        // A scanned article comes without its text (see [`scan`]).
        if !(text.html.is_empty() && text.summary.is_empty()) {
            self.texts.insert(path.clone(), Arc::new(text));
        }
        let identity = self.identity(&article, &path, remembered);
        let feeds = self.feeds_of(&article);
        let entry = SharedEntry::new(Entry {
            own_id: Entry::own_id(&path, &identity.id),
            path: path.clone(),
            guid: identity.guid,
            published: identity.published,
            updated: identity.updated,
            feeds,
            content_hash: article.content_hash,
            generation: identity.generation,
        });
        let key = sort_key(&entry);
        for f in entry.feed_indexes() {
            self.order[f].insert(key.clone());
            touched.push(f);
        }
        self.ids.insert(entry.clone());
        self.archives.touch(&path);
        self.entries.insert(entry);
        touched
    }

    /// Feed indexes for an article: `all`, plus every category one of its
    /// names matches. Folder names count only when no other source gave
    /// names, and only the nearest folder that names a feed.
    fn feeds_of(&mut self, a: &Article) -> FeedSet {
        let mut feeds = FeedSet::from_iter([0]);
        let cats = &self.config.categories;
        match a.category_source {
            CategorySource::Folder => {
                if let Some(i) = a
                    .categories
                    .iter()
                    .find_map(|name| cats.iter().position(|c| c.matches(name)))
                {
                    feeds.push(feed_index(i + 1));
                }
            }
            _ => {
                for name in &a.categories {
                    match cats.iter().position(|c| c.matches(name)) {
                        Some(i) if !feeds.contains(feed_index(i + 1)) => {
                            feeds.push(feed_index(i + 1));
                        }
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

    /// The entries feed `index`'s subscription document shows at `now`,
    /// newest first: the newest `feeds.items` published by then, and the
    /// older ones not in an archive page yet (see `archive`).
    pub fn items(&self, index: usize, now: DateTime<Utc>) -> Vec<SharedEntry> {
        let mut keys: BTreeSet<SortKey> = self.window_keys(index, now).cloned().collect();
        let pending = self.pending(index).filter_map(|p| self.entries.get(p));
        keys.extend(pending.map(sort_key));
        keys.into_iter().map(|k| k.0).collect()
    }

    /// The paths [`Catalog::items`] shows.
    pub(super) fn shown_paths(
        &self,
        index: usize,
        now: DateTime<Utc>,
    ) -> impl Iterator<Item = &Arc<str>> {
        self.window_keys(index, now)
            .map(SortKey::path)
            .chain(self.pending(index))
    }

    /// The newest `feeds.items` entries of feed `index` published by `now`.
    pub(super) fn window_keys(
        &self,
        index: usize,
        now: DateTime<Utc>,
    ) -> impl Iterator<Item = &SortKey> {
        let now = now.timestamp();
        self.order[index]
            .iter()
            .filter(move |k| k.published() <= now)
            .take(self.config.feeds.items)
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
            .take_while(|k| k.published() > now)
            .last()
            .and_then(|k| DateTime::from_timestamp(k.published(), 0))
    }

    /// The ids of the articles published in `(after, until]`.
    pub fn ids_published_between(
        &self,
        after: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Vec<Arc<str>> {
        let (after, until) = (after.timestamp(), until.timestamp());
        self.entries
            .values()
            .filter(|e| (after + 1..=until).contains(&e.published.timestamp()))
            .map(|e| Arc::from(e.id()))
            .collect()
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
            .flat_map(|e| e.feed_indexes())
            .collect()
    }
}

/// A feed's index as an entry keeps it (config validation bounds the
/// number of categories).
fn feed_index(i: usize) -> u16 {
    u16::try_from(i).unwrap_or(u16::MAX)
}

/// What the state store remembers of an entry.
pub(super) fn record(e: &Entry, gone: bool) -> Record {
    Record {
        guid: e.guid.clone(),
        id: e.id().into(),
        published: e.published,
        updated: e.updated,
        hash: e.content_hash,
        gone,
        generation: e.generation,
    }
}

pub(super) fn sort_key(e: &SharedEntry) -> SortKey {
    SortKey(e.clone())
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
        language: config.site.language.clone(),
    }];
    feeds.extend(config.categories.iter().map(|c| {
        FeedInfo {
            slug: c.slug.clone(),
            title: format!("{} - {}", config.site.title, c.title),
            description: if c.description.is_empty() {
                format!("{} stories from {}", c.title, config.site.title)
            } else {
                c.description.clone()
            },
            language: c
                .language
                .clone()
                .unwrap_or_else(|| config.site.language.clone()),
        }
    }));
    feeds
}
