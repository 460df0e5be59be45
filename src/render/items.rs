//! Feed items rendered once and reused.
//!
//! An item's XML or JSON depends only on its article, its text and the
//! config, so each shown article is rendered once per format (see
//! `splice`) and every feed showing it (`all` and its categories) copies
//! those bytes until the article (or the config) changes: a publish
//! renders only the new items.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, Utc};
use foldhash::{HashMap, HashMapExt};

use super::doc::{FeedFormat, ItemView};
use super::splice::Fragment;
use super::{atom, json, rss};
use crate::catalog::Catalog;
use crate::config::Config;
use crate::model::{Entry, ItemText, SharedEntry};

/// How an item is written in one format.
type RenderFn = fn(&Config, &Entry, &ItemText) -> Fragment;

/// One article as an item of every feed format, each rendered once.
pub struct RenderedItem {
    pub entry: SharedEntry,
    pub text: Arc<ItemText>,
    config: Arc<Config>,
    rss: OnceLock<Fragment>,
    atom: OnceLock<Fragment>,
    json: OnceLock<Fragment>,
}

impl RenderedItem {
    /// The item, not rendered yet (see [`RenderedItem::fragment`]).
    pub fn new(config: &Arc<Config>, entry: SharedEntry, text: Arc<ItemText>) -> Self {
        RenderedItem {
            entry,
            text,
            config: config.clone(),
            rss: OnceLock::new(),
            atom: OnceLock::new(),
            json: OnceLock::new(),
        }
    }

    /// The item as it appears inside a feed of `format`, rendered and
    /// checked on the first call (by one thread: another asking meanwhile
    /// waits for it).
    pub fn fragment(&self, format: FeedFormat) -> &Fragment {
        let (cell, render): (_, RenderFn) = match format {
            FeedFormat::Rss => (&self.rss, rss::item_fragment),
            FeedFormat::Atom => (&self.atom, atom::entry_fragment),
            FeedFormat::Json => (&self.json, json::item_fragment),
        };
        cell.get_or_init(|| render(&self.config, &self.entry, &self.text))
    }

    /// What the format modules render it from.
    pub fn view(&self) -> ItemView<'_> {
        ItemView {
            entry: &self.entry,
            text: &self.text,
        }
    }

    /// Still what the catalog would render: same entry, same text.
    fn is_current(&self, entry: &SharedEntry, text: &Arc<ItemText>) -> bool {
        SharedEntry::ptr_eq(&self.entry, entry) && Arc::ptr_eq(&self.text, text)
    }
}

/// The rendered items of the articles the feeds show, by path.
///
/// An entry is reused only while the catalog holds the very same `Entry`
/// and `ItemText` (pointer equality: the catalog makes new ones for every
/// change, and the cache's own `Arc`s keep the old ones from being reused),
/// and only under the config it was rendered with.
#[derive(Default)]
pub struct ItemCache {
    config: Option<Arc<Config>>,
    items: HashMap<Arc<str>, Arc<RenderedItem>>,
}

impl ItemCache {
    /// Adds the items of `feeds` the cache lacks (unrendered: see
    /// `RenderedItem::bytes`) and forgets those no longer shown or no
    /// longer current. Call after [`Catalog::cache_texts`] for the same
    /// `now`.
    pub fn refresh(&mut self, catalog: &Catalog, feeds: &BTreeSet<usize>, now: DateTime<Utc>) {
        let config = catalog.config();
        if !self.config.as_ref().is_some_and(|c| Arc::ptr_eq(c, config)) {
            self.items.clear();
            self.config = Some(config.clone());
        }
        self.items.retain(
            |path, item| match (catalog.by_path(path), catalog.shown_text(path)) {
                (Some(entry), Some(text)) => item.is_current(entry, text),
                _ => false,
            },
        );
        let mut missing: HashMap<Arc<str>, SharedEntry> = HashMap::new();
        for &index in feeds {
            for entry in catalog.items(index, now) {
                if !self.items.contains_key(&entry.path) {
                    missing.insert(entry.path.clone(), entry);
                }
            }
        }
        for (path, entry) in missing {
            let text = catalog.text(&entry);
            let item = Arc::new(RenderedItem::new(config, entry, text));
            self.items.insert(path, item);
        }
    }

    /// The items of feed `index` at `now`, newest first: from the cache, or
    /// new here for an item [`ItemCache::refresh`] was not told about.
    pub fn feed_items(
        &self,
        catalog: &Catalog,
        index: usize,
        now: DateTime<Utc>,
    ) -> Vec<Arc<RenderedItem>> {
        catalog
            .items(index, now)
            .into_iter()
            .map(|entry| {
                let text = catalog.text(&entry);
                match self.items.get(&entry.path) {
                    Some(item) if item.is_current(&entry, &text) => item.clone(),
                    _ => Arc::new(RenderedItem::new(catalog.config(), entry, text)),
                }
            })
            .collect()
    }

    /// `entry` with `text` as an item: the cached one while it is
    /// current, else rendered anew (not kept).
    pub fn item(
        &self,
        config: &Arc<Config>,
        entry: &SharedEntry,
        text: Arc<ItemText>,
    ) -> Arc<RenderedItem> {
        match self.items.get(&entry.path) {
            Some(item) if item.is_current(entry, &text) => item.clone(),
            _ => Arc::new(RenderedItem::new(config, entry.clone(), text)),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}
