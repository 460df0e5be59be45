//! Feeds, OPML and HTML pages as bytes.
//!
//! Rendering is a pure function of the catalog and the config: no wall
//! clock, no randomness, no file read. A feed's date (`lastBuildDate`,
//! Atom `updated`, HTTP `Last-Modified`) is its newest item's `updated`,
//! so the same articles always render to the same bytes. No feed document
//! is served or written unless it is well-formed XML (RSS, Atom) or valid
//! JSON ([`check_document`]): checked in parts when it is spliced from its
//! items (see `splice`), whole when it is written whole.
//!
//! Files: `doc` (what the formats render from, and their shared rules),
//! `check`, `splice` (documents from checked parts), `rss`, `atom`,
//! `json`, `items` (each item rendered once, reused), `archive` (the
//! link a stored archive page gains), `html`, `opml`.

mod archive;
mod atom;
mod check;
mod doc;
pub mod html;
mod items;
mod json;
pub mod opml;
mod rss;
mod splice;

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};

pub use archive::link_next_archive;
pub use check::{check_document, check_xml};
pub use doc::{
    archive_path, empty_feed_date, feed_path, history_page_path, item_categories, page_path,
    FeedFormat, History,
};
pub use items::{ItemCache, RenderedItem};
pub use splice::Fragment;

use crate::catalog::{Catalog, PageWork};
use crate::config::Config;
use crate::model::{FeedInfo, ItemText};

/// One feed, ready to render in any format.
pub struct FeedDoc<'a> {
    pub config: &'a Config,
    pub info: &'a FeedInfo,
    /// Newest first.
    pub items: &'a [Arc<RenderedItem>],
    /// The date of the feed when it has no items: the newest item of the
    /// whole site (validators call 1970 implausible), still never the clock.
    pub empty_date: DateTime<FixedOffset>,
    /// Where it stands in the feed's archive.
    pub history: History,
}

impl FeedDoc<'_> {
    fn view(&self) -> doc::View<'_> {
        doc::View {
            config: self.config,
            info: self.info,
            items: self.items.iter().map(|i| i.view()).collect(),
            empty_date: self.empty_date,
            history: self.history,
        }
    }

    /// This document's path under the base URL.
    pub fn path(&self, format: FeedFormat) -> String {
        match self.history {
            History::Archive { number, .. } => archive_path(&self.info.slug, number, format),
            _ => feed_path(&self.info.slug, format),
        }
    }

    /// The feed with its items' rendered bytes spliced in, or the reason
    /// it is not published.
    pub fn render(&self, format: FeedFormat) -> Result<Vec<u8>, Rejected> {
        let view = self.view();
        let rejected = |reason: String, articles: Vec<String>| Rejected {
            path: self.path(format),
            reason,
            articles,
        };
        let skeleton = match format {
            FeedFormat::Rss => rss::skeleton(&view),
            FeedFormat::Atom => atom::skeleton(&view),
            FeedFormat::Json => json::skeleton(&view),
        };
        let Some(skeleton) = skeleton else {
            return self.render_checked_whole(format);
        };
        if let Err(reason) = &skeleton.checked {
            return Err(rejected(reason.clone(), Vec::new()));
        }
        let fragments: Vec<&Fragment> = self.items.iter().map(|i| i.fragment(format)).collect();
        let invalid: Vec<String> = self
            .items
            .iter()
            .zip(&fragments)
            .filter(|(_, f)| matches!(f, Fragment::Invalid(_)))
            .map(|(i, _)| i.entry.path.to_string())
            .collect();
        let mut bytes = Vec::with_capacity(fragments.len());
        for fragment in fragments {
            match fragment {
                Fragment::Checked(b) => bytes.push(&**b),
                Fragment::Invalid(reason) => {
                    return Err(rejected(format!("an item is {reason}"), invalid));
                }
                Fragment::Unshaped => return self.render_checked_whole(format),
            }
        }
        Ok(skeleton.assemble(&bytes))
    }

    /// The feed written whole by its format's crate, items and all: what
    /// [`FeedDoc::render`] falls back to, and the reference it must equal.
    pub fn render_whole(&self, format: FeedFormat) -> Vec<u8> {
        let view = self.view();
        match format {
            FeedFormat::Rss => rss::render_whole(&view),
            FeedFormat::Atom => atom::render_whole(&view),
            FeedFormat::Json => json::render_whole(&view),
        }
    }

    fn render_checked_whole(&self, format: FeedFormat) -> Result<Vec<u8>, Rejected> {
        let whole = self.render_whole(format);
        match check_document(format, &whole) {
            Ok(()) => Ok(whole),
            Err(reason) => Err(Rejected {
                path: self.path(format),
                reason,
                articles: Vec::new(),
            }),
        }
    }

    /// Newest `updated` among the items.
    pub fn updated(&self) -> DateTime<FixedOffset> {
        self.view().updated()
    }
}

/// A feed document that is not published because it would not be
/// well-formed, and the articles that make it so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// The document's path under the base URL (`feeds/world.rss`).
    pub path: String,
    pub reason: String,
    /// Paths of the articles whose items are not well-formed (empty when
    /// the feed's own parts are at fault).
    pub articles: Vec<String>,
}

/// One feed rendered in every format.
pub struct RenderedFeed {
    /// `(path, format, body or the reason it is not published)`; the path
    /// is relative to the site root.
    pub files: Vec<(String, FeedFormat, Result<Vec<u8>, Rejected>)>,
    /// The feed's date (newest item's `updated`); `None` when it is empty.
    pub updated: Option<DateTime<FixedOffset>>,
    /// The same stories as an HTML page `(path, bytes)`: `index.html` for
    /// `all`'s subscription document, `categories/{slug}.html` for a
    /// category's, `categories/{slug}/{n}.html` for archive page `n`.
    pub page: (String, Vec<u8>),
}

/// Feed `index` of the catalog, as published at `now`, its items taken
/// from `cache` (see [`ItemCache::refresh`]), written out.
pub fn feed_files(
    catalog: &Catalog,
    index: usize,
    now: DateTime<Utc>,
    cache: &ItemCache,
) -> RenderedFeed {
    let items = cache.feed_items(catalog, index, now);
    let history = match catalog.archive_pages(index) {
        0 => History::Alone,
        pages => History::Subscription { pages },
    };
    render_doc(catalog, index, &items, now, history)
}

/// Archive page `page` of its feed, its items' texts given (see
/// [`Catalog::page_texts`]) and rendered (or taken from `cache`); pages up
/// to `newest` exist (it links to the next one when that is among them).
pub fn archive_files(
    catalog: &Catalog,
    page: &PageWork,
    texts: Vec<Arc<ItemText>>,
    now: DateTime<Utc>,
    cache: &ItemCache,
    newest: usize,
) -> RenderedFeed {
    let items: Vec<Arc<RenderedItem>> = page
        .entries
        .iter()
        .zip(texts)
        .map(|(entry, text)| cache.item(catalog.config(), entry, text))
        .collect();
    let history = History::Archive {
        number: page.number,
        pages: newest.max(page.number),
    };
    render_doc(catalog, page.feed, &items, now, history)
}

fn render_doc(
    catalog: &Catalog,
    index: usize,
    items: &[Arc<RenderedItem>],
    now: DateTime<Utc>,
    history: History,
) -> RenderedFeed {
    // An empty document takes the site's newest date (validators call 1970
    // implausible), still never the clock.
    let empty_date = match items.is_empty() {
        true => catalog
            .items(0, now)
            .first()
            .map_or_else(empty_feed_date, |e| e.updated),
        false => empty_feed_date(),
    };
    let doc = FeedDoc {
        config: catalog.config(),
        info: &catalog.feeds()[index],
        items,
        empty_date,
        history,
    };
    let page_path = match history {
        History::Archive { number, .. } => history_page_path(&doc.info.slug, number),
        _ if index == 0 => "index.html".to_string(),
        _ => page_path(&doc.info.slug),
    };
    let page = html::feed_page(catalog.config(), catalog.feeds(), index, items, history);
    RenderedFeed {
        files: FeedFormat::ALL
            .iter()
            .map(|&f| (doc.path(f), f, doc.render(f)))
            .collect(),
        updated: (!items.is_empty()).then(|| doc.updated()),
        page: (page_path, page),
    }
}

/// Every feed of the catalog at `now`, rendered and checked: the documents
/// that pass (and each feed's HTML page), and the ones that do not (for
/// `build` and `check`).
pub fn site_feeds(
    catalog: &Catalog,
    now: DateTime<Utc>,
) -> (Vec<(String, Vec<u8>)>, Vec<Rejected>) {
    let all: BTreeSet<usize> = (0..catalog.feeds().len()).collect();
    let mut items = ItemCache::default();
    items.refresh(catalog, &all, now);
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    for &index in &all {
        let rendered = feed_files(catalog, index, now, &items);
        for (path, _, body) in rendered.files {
            match body {
                Ok(bytes) => good.push((path, bytes)),
                Err(rejected) => bad.push(rejected),
            }
        }
        good.push(rendered.page);
    }
    (good, bad)
}
