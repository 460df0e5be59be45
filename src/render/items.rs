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
use xxhash_rust::xxh3::{xxh3_128, Xxh3Default};

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
    rss: Option<Fragment>,
    atom: Option<Fragment>,
    json: Option<Fragment>,
}

/// An item's bytes in one format, and their xxh3-128 (see
/// [`Spliced::hash`]).
struct Fragment {
    bytes: Box<[u8]>,
    hash: u128,
}

impl Fragment {
    fn new(bytes: Vec<u8>) -> Self {
        Fragment {
            hash: xxh3_128(&bytes),
            bytes: bytes.into_boxed_slice(),
        }
    }
}

impl RenderedItem {
    pub fn new(config: &Config, entry: Arc<Entry>, text: Arc<ItemText>) -> Self {
        RenderedItem {
            rss: rss::item_fragment(config, &entry, &text).map(Fragment::new),
            atom: atom::entry_fragment(config, &entry, &text).map(Fragment::new),
            json: json::item_fragment(config, &entry, &text).map(Fragment::new),
            entry,
            text,
        }
    }

    fn fragment(&self, format: FeedFormat) -> Option<&Fragment> {
        match format {
            FeedFormat::Rss => self.rss.as_ref(),
            FeedFormat::Atom => self.atom.as_ref(),
            FeedFormat::Json => self.json.as_ref(),
        }
    }

    /// The item's bytes as they appear inside a feed of `format`.
    pub fn bytes(&self, format: FeedFormat) -> Option<&[u8]> {
        self.fragment(format).map(|f| &*f.bytes)
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

/// A feed document in parts: its own bytes around its items' cached ones.
///
/// Writing a feed out copies a few hundred kB. A publish during a burst
/// made 27 of them, hashed each for its ETag, and most were replaced
/// before anyone read them: the copy and the hash were a fifth of the
/// publisher's CPU in a paced burst (perf). So the daemon publishes the
/// parts, with a hash made from the items' own hashes, and a feed's bytes
/// are written once a reader or the compressor asks for them (see
/// `snapshot::Resource`).
pub struct Spliced {
    /// The document up to its items.
    head: Vec<u8>,
    /// Before the first item, between two, and after the last (then a
    /// final newline).
    open: &'static [u8],
    separator: &'static [u8],
    tail: &'static [u8],
    items: Vec<Arc<RenderedItem>>,
    format: FeedFormat,
}

impl Spliced {
    /// `head`, then `open` and the items' `format` bytes with `separator`
    /// between them, then `tail`; `None` when an item has no bytes in that
    /// format.
    pub(super) fn new(
        head: Vec<u8>,
        open: &'static [u8],
        items: &[Arc<RenderedItem>],
        separator: &'static [u8],
        tail: &'static [u8],
        format: FeedFormat,
    ) -> Option<Self> {
        items
            .iter()
            .all(|i| i.fragment(format).is_some())
            .then(|| Spliced {
                head,
                open,
                separator,
                tail,
                items: items.to_vec(),
                format,
            })
    }

    fn fragments(&self) -> impl Iterator<Item = &Fragment> {
        self.items.iter().filter_map(|i| i.fragment(self.format))
    }

    /// The document's length in bytes.
    fn len(&self) -> usize {
        let items: usize = self.fragments().map(|f| f.bytes.len()).sum();
        self.head.len()
            + self.open.len()
            + items
            + self.items.len().saturating_sub(1) * self.separator.len()
            + self.tail.len()
            + 1
    }

    /// The document's bytes, in one buffer sized for them.
    pub fn write(&self) -> Vec<u8> {
        let mut out = crate::buffers::take(self.len());
        out.extend_from_slice(&self.head);
        out.extend_from_slice(self.open);
        for (i, fragment) in self.fragments().enumerate() {
            if i > 0 {
                out.extend_from_slice(self.separator);
            }
            out.extend_from_slice(&fragment.bytes);
        }
        out.extend_from_slice(self.tail);
        out.push(b'\n');
        out
    }

    /// A 128-bit hash of the document, from its own parts' bytes and its
    /// items' hashes: in a few µs, where hashing the written bytes took
    /// tens. Different documents get different hashes as surely as with a
    /// hash of their bytes (the parts are written in order, each item's
    /// hash standing for its bytes), and the same feed rendered again gets
    /// the same one, so a reader's ETag outlives a restart.
    pub fn hash(&self) -> u128 {
        let mut h = Xxh3Default::new();
        h.update(b"wirefeed spliced 1\0");
        for part in [&self.head[..], self.open, self.separator, self.tail] {
            h.update(&(part.len() as u64).to_le_bytes());
            h.update(part);
        }
        for fragment in self.fragments() {
            h.update(&fragment.hash.to_le_bytes());
        }
        h.digest128()
    }
}

/// `empty` (a feed document without items, ending in `tail`) with the
/// items inserted before `tail`; `None` when `empty` does not end in
/// `tail` or an item has no bytes in `format`.
pub(super) fn splice(
    empty: Vec<u8>,
    tail: &'static [u8],
    items: &[Arc<RenderedItem>],
    format: FeedFormat,
) -> Option<Spliced> {
    splice_as(empty, tail, b"", b"", tail, items, format)
}

/// `empty` with its ending `empty_end` replaced by `open`, the items with
/// `separator` between them and `close`; `None` when `empty` does not end
/// in `empty_end` or an item has no bytes in `format`.
pub(super) fn splice_as(
    mut empty: Vec<u8>,
    empty_end: &[u8],
    open: &'static [u8],
    separator: &'static [u8],
    close: &'static [u8],
    items: &[Arc<RenderedItem>],
    format: FeedFormat,
) -> Option<Spliced> {
    if !empty.ends_with(empty_end) {
        return None;
    }
    empty.truncate(empty.len() - empty_end.len());
    Spliced::new(empty, open, items, separator, close, format)
}

#[cfg(test)]
mod tests {
    use super::{between, splice};
    use crate::render::FeedFormat;

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
    fn splice_ends_the_document_with_its_tail_or_refuses() {
        let spliced = splice(b"<a><b/></a>".to_vec(), b"</a>", &[], FeedFormat::Rss)
            .expect("ends in the tail");
        assert_eq!(spliced.write(), b"<a><b/></a>\n");
        assert!(splice(b"<a></z>".to_vec(), b"</a>", &[], FeedFormat::Rss).is_none());
    }
}
