//! Feed items rendered once and reused.
//!
//! An item's XML or JSON depends only on its article, its text and the
//! config, so each shown article is rendered once per format and every feed
//! showing it (`all` and its categories) copies those bytes until the
//! article changes. A publish after one new article renders that item,
//! not the 100 of the two 50-item feeds it is in (in a burst touching all
//! nine feeds, the new items, not 450). Rendering whole feeds was 25 % of
//! the daemon's CPU in a paced burst, Atom's byte-by-byte escaping of
//! bodies more than half of that.
//!
//! The fragments are produced by the format crates themselves: an item is
//! written inside a minimal document and cut out of it (see `between`),
//! so escaping, CDATA splitting and element order stay theirs.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use rayon::prelude::*;

use super::{atom, json, rss, FeedFormat};
use crate::article::ItemText;
use crate::catalog::{Catalog, Entry};
use crate::config::Config;

/// One article as an item of every feed format.
pub struct RenderedItem {
    pub entry: Arc<Entry>,
    pub text: Arc<ItemText>,
    /// `None` when a crate wrote the item in an unexpected shape: feeds
    /// holding it are then rendered whole.
    rss: Option<Box<[u8]>>,
    atom: Option<Box<[u8]>>,
    json: Option<Box<[u8]>>,
}

impl RenderedItem {
    pub fn new(config: &Config, entry: Arc<Entry>, text: Arc<ItemText>) -> Self {
        RenderedItem {
            rss: rss::item_fragment(config, &entry, &text).map(Vec::into_boxed_slice),
            atom: atom::entry_fragment(config, &entry, &text).map(Vec::into_boxed_slice),
            json: json::item_fragment(config, &entry, &text).map(Vec::into_boxed_slice),
            entry,
            text,
        }
    }

    /// The item's bytes as they appear inside a feed of `format`.
    pub fn bytes(&self, format: FeedFormat) -> Option<&[u8]> {
        match format {
            FeedFormat::Rss => self.rss.as_deref(),
            FeedFormat::Atom => self.atom.as_deref(),
            FeedFormat::Json => self.json.as_deref(),
        }
    }

    /// Still what the catalog would render: same entry, same text.
    fn is_current(&self, entry: &Arc<Entry>, text: &Arc<ItemText>) -> bool {
        Arc::ptr_eq(&self.entry, entry) && Arc::ptr_eq(&self.text, text)
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
    /// Renders (in parallel) the items of `feeds` the cache lacks and
    /// forgets those no longer shown or no longer current. Call after
    /// [`Catalog::cache_texts`] for the same `now`.
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
        let mut missing: HashMap<Arc<str>, Arc<Entry>> = HashMap::new();
        for &index in feeds {
            for entry in catalog.items(index, now) {
                if !self.items.contains_key(&entry.path) {
                    missing.insert(entry.path.clone(), entry);
                }
            }
        }
        let rendered: Vec<(Arc<str>, Arc<RenderedItem>)> = missing
            .into_par_iter()
            .map(|(path, entry)| {
                let text = catalog.text(&entry);
                (path, Arc::new(RenderedItem::new(config, entry, text)))
            })
            .collect();
        self.items.extend(rendered);
    }

    /// The items of feed `index` at `now`, newest first: from the cache, or
    /// rendered here for an item [`ItemCache::refresh`] was not told about.
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

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }
}

/// The part of `document` between `head` and `tail`, or `None` when the
/// document is not shaped so (a crate that started writing differently:
/// the feed is then rendered whole, see [`splice`]).
pub(super) fn between<'a>(document: &'a [u8], head: &[u8], tail: &[u8]) -> Option<&'a [u8]> {
    document.strip_prefix(head)?.strip_suffix(tail)
}

/// Room for one item's document written whole: its texts escaped (markup
/// grows by about a third) plus the elements around them. Written into a
/// growing `Vec`, a 5 kB item was copied a dozen times on the way.
pub(super) fn fragment_capacity(text: &ItemText) -> usize {
    (text.html.len() + text.summary.len()) * 3 / 2 + 2048
}

/// The item `document` holds where `empty` (the same document without the
/// item, ending in `tail`) has nothing.
pub(super) fn cut_out(document: &[u8], empty: &[u8], tail: &[u8]) -> Option<Vec<u8>> {
    between(document, empty.strip_suffix(tail)?, tail).map(<[u8]>::to_vec)
}

/// `empty` (a feed document without items, ending in `tail`) with the
/// items' bytes inserted before `tail`, plus a final newline; `None` when
/// `empty` does not end in `tail` or an item has no fragment.
pub(super) fn splice<'a>(
    empty: &[u8],
    tail: &[u8],
    items: impl Iterator<Item = Option<&'a [u8]>> + Clone,
) -> Option<Vec<u8>> {
    join(empty.strip_suffix(tail)?, b"", items, b"", tail)
}

/// `head`, then `open` and the items with `separator` between them, then
/// `tail` and a final newline, in one buffer sized for it; `None` when an
/// item has no bytes.
pub(super) fn join<'a>(
    head: &[u8],
    open: &[u8],
    items: impl Iterator<Item = Option<&'a [u8]>> + Clone,
    separator: &[u8],
    tail: &[u8],
) -> Option<Vec<u8>> {
    let (count, size) = items.clone().fold((0, 0), |(n, len), i| {
        (n + 1, len + i.map_or(0, <[u8]>::len))
    });
    let mut out = crate::buffers::take(
        head.len() + open.len() + size + count * separator.len() + tail.len() + 1,
    );
    out.extend_from_slice(head);
    out.extend_from_slice(open);
    for (i, item) in items.enumerate() {
        if i > 0 {
            out.extend_from_slice(separator);
        }
        out.extend_from_slice(item?);
    }
    out.extend_from_slice(tail);
    out.push(b'\n');
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::{between, splice};

    #[test]
    fn between_cuts_exactly_the_inserted_part() {
        assert_eq!(
            between(b"<a><b/><i>x</i></a>", b"<a><b/>", b"</a>"),
            Some(&b"<i>x</i>"[..])
        );
        // A differently shaped document is refused, never cut wrongly.
        assert_eq!(between(b"<z><i/></a>", b"<a>", b"</a>"), None);
        assert_eq!(between(b"<a><i/></z>", b"<a>", b"</a>"), None);
    }

    #[test]
    fn splice_inserts_items_before_the_tail_or_refuses() {
        let items = [Some(&b"<i>1</i>"[..]), Some(&b"<i>2</i>"[..])];
        assert_eq!(
            splice(b"<a><b/></a>", b"</a>", items.iter().copied()).as_deref(),
            Some(&b"<a><b/><i>1</i><i>2</i></a>\n"[..])
        );
        assert_eq!(splice(b"<a></z>", b"</a>", items.iter().copied()), None);
        let missing = [Some(&b"<i>1</i>"[..]), None];
        assert_eq!(splice(b"<a></a>", b"</a>", missing.iter().copied()), None);
    }
}
