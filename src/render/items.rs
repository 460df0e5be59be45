//! Feed items rendered once and reused.
//!
//! An item's XML or JSON depends only on its article, its text and the
//! config, so each shown article is rendered once per format and every
//! feed showing it (`all` and its categories) copies those bytes until the
//! article (or the config) changes: a publish renders only the new items.
//!
//! The fragments are produced by the format crates themselves: an item is
//! written inside a minimal document and cut out of it (see `between`),
//! so escaping, CDATA splitting and element order stay theirs. That
//! minimal document is checked once ([`super::check_document`]), and so is
//! each feed's document without items: a feed spliced from checked parts
//! is well-formed without parsing all of it on every publish, and an item
//! that fails names the article that broke it.

use std::collections::BTreeSet;
use std::sync::{Arc, OnceLock};

use chrono::{DateTime, FixedOffset, Utc};
use foldhash::{HashMap, HashMapExt};

use super::{atom, json, rss, FeedDoc, FeedFormat, Rejected};
use crate::article::ItemText;
use crate::catalog::{Catalog, Entry, FeedInfo};
use crate::config::Config;

/// How an item is written in one format.
type RenderFn = fn(&Config, &Entry, &ItemText) -> Fragment;

/// One item as it appears inside a feed of one format.
#[derive(Debug)]
pub enum Fragment {
    /// Its bytes, from a minimal document that passed the check.
    Checked(Box<[u8]>),
    /// The crate wrote it in an unexpected shape: feeds holding it are
    /// written whole (and checked whole).
    Unshaped,
    /// The minimal document holding it is not well-formed (or valid JSON).
    Invalid(String),
}

impl Fragment {
    /// Checks the minimal `document` an item was written in, then cuts the
    /// item out of it with `cut`.
    pub(super) fn from_document(
        format: FeedFormat,
        document: &[u8],
        cut: impl FnOnce(&[u8]) -> Option<Vec<u8>>,
    ) -> Fragment {
        if let Err(reason) = super::check_document(format, document) {
            return Fragment::Invalid(reason);
        }
        match cut(document) {
            Some(bytes) => Fragment::Checked(bytes.into_boxed_slice()),
            None => Fragment::Unshaped,
        }
    }
}

/// One article as an item of every feed format, each rendered once.
pub struct RenderedItem {
    pub entry: Arc<Entry>,
    pub text: Arc<ItemText>,
    config: Arc<Config>,
    rss: OnceLock<Fragment>,
    atom: OnceLock<Fragment>,
    json: OnceLock<Fragment>,
}

impl RenderedItem {
    /// The item, not rendered yet (see [`RenderedItem::bytes`]).
    pub fn new(config: &Arc<Config>, entry: Arc<Entry>, text: Arc<ItemText>) -> Self {
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
    /// checked on the first call. Two threads that miss at once both
    /// render; the result is the same (a pure function of the inputs) and
    /// the first stored is kept.
    pub fn fragment(&self, format: FeedFormat) -> &Fragment {
        let (cell, render): (_, RenderFn) = match format {
            FeedFormat::Rss => (&self.rss, rss::item_fragment),
            FeedFormat::Atom => (&self.atom, atom::entry_fragment),
            FeedFormat::Json => (&self.json, json::item_fragment),
        };
        cell.get_or_init(|| render(&self.config, &self.entry, &self.text))
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
    /// Adds the items of `feeds` the cache lacks (unrendered: see
    /// [`RenderedItem::bytes`]) and forgets those no longer shown or no
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
        let mut missing: HashMap<Arc<str>, Arc<Entry>> = HashMap::new();
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

/// A feed document in parts: its own bytes around its items' (each
/// rendered once and shared by every feed showing it).
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
    /// The check of the document without items.
    skeleton: Result<(), String>,
    /// For writing the feed whole when an item's bytes cannot be cut out
    /// of the crate's output (see [`FeedDoc::render_whole`]).
    info: FeedInfo,
    empty_date: DateTime<FixedOffset>,
}

impl Spliced {
    /// The document's bytes, in one buffer sized for them: `head`, then
    /// `open` and the items' bytes with `separator` between them, then
    /// `tail` and a newline. Renders the items not yet rendered in this
    /// format; if one has an unexpected shape, the feed is written whole by
    /// its crate and checked whole. Refused when the document without its
    /// items, or an item's own minimal document, failed the check.
    pub fn write(&self) -> Result<Vec<u8>, Rejected> {
        let rejected = |reason: String, articles: Vec<String>| Rejected {
            path: super::feed_path(&self.info.slug, self.format),
            reason,
            articles,
        };
        if let Err(reason) = &self.skeleton {
            return Err(rejected(reason.clone(), Vec::new()));
        }
        let fragments: Vec<&Fragment> =
            self.items.iter().map(|i| i.fragment(self.format)).collect();
        let invalid: Vec<(&RenderedItem, &String)> = self
            .items
            .iter()
            .zip(&fragments)
            .filter_map(|(item, f)| match f {
                Fragment::Invalid(reason) => Some((&**item, reason)),
                _ => None,
            })
            .collect();
        if let Some((_, reason)) = invalid.first() {
            let articles = invalid
                .iter()
                .map(|(i, _)| i.entry.path.to_string())
                .collect();
            return Err(rejected(format!("an item is {reason}"), articles));
        }
        let mut bytes = Vec::with_capacity(fragments.len());
        for fragment in fragments {
            match fragment {
                Fragment::Checked(b) => bytes.push(&**b),
                _ => {
                    let whole = self.write_whole();
                    return match super::check_document(self.format, &whole) {
                        Ok(()) => Ok(whole),
                        Err(reason) => Err(rejected(reason, Vec::new())),
                    };
                }
            }
        }
        let len = self.head.len()
            + self.open.len()
            + bytes.iter().map(|f| f.len()).sum::<usize>()
            + bytes.len().saturating_sub(1) * self.separator.len()
            + self.tail.len()
            + 1;
        let mut out = crate::buffers::take(len);
        out.extend_from_slice(&self.head);
        out.extend_from_slice(self.open);
        for (i, fragment) in bytes.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(self.separator);
            }
            out.extend_from_slice(fragment);
        }
        out.extend_from_slice(self.tail);
        out.push(b'\n');
        Ok(out)
    }

    fn write_whole(&self) -> Vec<u8> {
        // Only a feed with items gets here (an empty one has no fragment).
        let Some(first) = self.items.first() else {
            return Vec::new();
        };
        FeedDoc {
            config: &first.config,
            info: &self.info,
            items: &self.items,
            empty_date: self.empty_date,
        }
        .render_whole(self.format)
    }
}

/// `empty` (the feed `doc` without items, ending in `tail`) with its items
/// to be inserted before `tail`; `None` when `empty` does not end in
/// `tail`.
pub(super) fn splice(
    empty: Vec<u8>,
    tail: &'static [u8],
    doc: &FeedDoc,
    format: FeedFormat,
) -> Option<Spliced> {
    splice_as(empty, tail, b"", b"", tail, doc, format)
}

/// `empty` with its ending `empty_end` replaced by `open`, the items of
/// `doc` with `separator` between them and `close`; `None` when `empty`
/// does not end in `empty_end`.
pub(super) fn splice_as(
    mut empty: Vec<u8>,
    empty_end: &[u8],
    open: &'static [u8],
    separator: &'static [u8],
    close: &'static [u8],
    doc: &FeedDoc,
    format: FeedFormat,
) -> Option<Spliced> {
    if !empty.ends_with(empty_end) {
        return None;
    }
    let skeleton = super::check_document(format, &empty);
    empty.truncate(empty.len() - empty_end.len());
    Some(Spliced {
        head: empty,
        open,
        separator,
        tail: close,
        items: doc.items.to_vec(),
        format,
        skeleton,
        info: doc.info.clone(),
        empty_date: doc.empty_date,
    })
}

#[cfg(test)]
mod tests {
    use super::{between, splice};
    use crate::config::Config;
    use crate::render::{FeedDoc, FeedFormat};

    fn config() -> Config {
        Config::from_str_with_env(
            "[site]\ntitle='t'\nbase_url='https://news.test/'\ntimezone='UTC'\n",
            std::path::Path::new("t.toml"),
            Vec::new(),
        )
        .expect("config")
    }

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
        let config = config();
        let info = crate::catalog::FeedInfo {
            slug: "all".into(),
            title: "All".into(),
            description: String::new(),
        };
        let doc = FeedDoc {
            config: &config,
            info: &info,
            items: &[],
            empty_date: crate::render::empty_feed_date(),
        };
        let spliced = splice(b"<a><b/></a>".to_vec(), b"</a>", &doc, FeedFormat::Rss)
            .expect("ends in the tail");
        assert_eq!(spliced.write().expect("well-formed"), b"<a><b/></a>\n");
        assert!(splice(b"<a></z>".to_vec(), b"</a>", &doc, FeedFormat::Rss).is_none());
    }
}
