//! Feed documents made of parts: each item is written once, by its format's
//! crate, inside a minimal document and cut out of it (so escaping, CDATA
//! splitting and element order stay the crate's), and each feed is the
//! crate's document without items ([`Skeleton`]) with those items put in.
//!
//! Both parts are checked when they are made: an item's minimal document
//! once, when the item is first rendered, and a feed's document without
//! items on every render. A document spliced from checked parts is
//! well-formed without parsing all of it on every publish, and an item
//! that fails names the article that broke it.

use super::check::check_document;
use super::doc::FeedFormat;
use crate::model::ItemText;

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
    pub fn from_document(
        format: FeedFormat,
        document: &[u8],
        cut: impl FnOnce(&[u8]) -> Option<Vec<u8>>,
    ) -> Fragment {
        if let Err(reason) = check_document(format, document) {
            return Fragment::Invalid(reason);
        }
        match cut(document) {
            Some(bytes) => Fragment::Checked(bytes.into_boxed_slice()),
            None => Fragment::Unshaped,
        }
    }
}

/// A feed's document without its items, in the parts items go between.
pub struct Skeleton {
    /// The document up to its items.
    head: Vec<u8>,
    /// Before the first item, between two, and after the last (then a
    /// final newline).
    open: &'static [u8],
    separator: &'static [u8],
    tail: &'static [u8],
    /// The check of the whole document without items.
    pub checked: Result<(), String>,
}

impl Skeleton {
    /// `empty` (a feed's document without items, ending in `tail`), the
    /// items to go before `tail`; `None` when it does not end so.
    pub fn new(empty: Vec<u8>, tail: &'static [u8], format: FeedFormat) -> Option<Skeleton> {
        Self::with(empty, tail, b"", b"", tail, format)
    }

    /// `empty` with its ending `empty_end` replaced by `open`, the items
    /// with `separator` between them, and `close`; `None` when `empty` does
    /// not end in `empty_end`.
    pub fn with(
        mut empty: Vec<u8>,
        empty_end: &[u8],
        open: &'static [u8],
        separator: &'static [u8],
        close: &'static [u8],
        format: FeedFormat,
    ) -> Option<Skeleton> {
        if !empty.ends_with(empty_end) {
            return None;
        }
        let checked = check_document(format, &empty);
        empty.truncate(empty.len() - empty_end.len());
        Some(Skeleton {
            head: empty,
            open,
            separator,
            tail: close,
            checked,
        })
    }

    /// The document with `items` in it, in one buffer sized for it.
    pub fn assemble(&self, items: &[&[u8]]) -> Vec<u8> {
        let len = self.head.len()
            + self.open.len()
            + items.iter().map(|f| f.len()).sum::<usize>()
            + items.len().saturating_sub(1) * self.separator.len()
            + self.tail.len()
            + 1;
        let mut out = crate::tune::buffers::take(len);
        out.extend_from_slice(&self.head);
        out.extend_from_slice(self.open);
        for (i, item) in items.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(self.separator);
            }
            out.extend_from_slice(item);
        }
        out.extend_from_slice(self.tail);
        out.push(b'\n');
        out
    }
}

/// The part of `document` between `head` and `tail`, or `None` when the
/// document is not shaped so (a crate that started writing differently:
/// the feed is then written whole).
pub fn between<'a>(document: &'a [u8], head: &[u8], tail: &[u8]) -> Option<&'a [u8]> {
    document.strip_prefix(head)?.strip_suffix(tail)
}

/// The item `document` holds where `empty` (the same document without the
/// item, ending in `tail`) has nothing.
pub fn cut_out(document: &[u8], empty: &[u8], tail: &[u8]) -> Option<Vec<u8>> {
    between(document, empty.strip_suffix(tail)?, tail).map(<[u8]>::to_vec)
}

/// Room for one item's document written whole: its texts escaped (markup
/// grows by about a third) plus the elements around them.
pub fn fragment_capacity(text: &ItemText) -> usize {
    (text.html.len() + text.summary.len()) * 3 / 2 + 2048
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_skeleton_ends_in_its_tail_or_is_refused() {
        let skeleton =
            Skeleton::new(b"<a><b/></a>".to_vec(), b"</a>", FeedFormat::Rss).expect("tail");
        assert_eq!(skeleton.checked, Ok(()));
        assert_eq!(
            skeleton.assemble(&[b"<i/>", b"<j/>"]),
            b"<a><b/><i/><j/></a>\n"
        );
        assert!(Skeleton::new(b"<a></z>".to_vec(), b"</a>", FeedFormat::Rss).is_none());
        let broken = Skeleton::new(b"<a><b></a>".to_vec(), b"</a>", FeedFormat::Rss);
        assert!(broken.expect("tail").checked.is_err(), "checked when made");
    }
}
