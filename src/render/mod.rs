//! Feeds, OPML and HTML pages as bytes.
//!
//! Rendering is a pure function of the entries and the config: no wall
//! clock, no randomness. A feed's date (`lastBuildDate`, Atom `updated`,
//! HTTP `Last-Modified`) is its newest item's `updated`, so the same
//! articles always render to the same bytes.

pub mod atom;
pub mod html;
pub mod items;
pub mod json;
pub mod opml;
pub mod rss;

use std::sync::Arc;

use chrono::{DateTime, FixedOffset};

use crate::catalog::{Entry, FeedInfo};
use crate::config::Config;
pub use items::{Fragment, ItemCache, RenderedItem, Spliced};

/// The date of an empty site: the Unix epoch, a fixed value rather than
/// the render time.
pub fn empty_feed_date() -> DateTime<FixedOffset> {
    DateTime::UNIX_EPOCH.fixed_offset()
}

/// One feed, ready to render in any format.
pub struct FeedDoc<'a> {
    pub config: &'a Config,
    pub info: &'a FeedInfo,
    /// Newest first.
    pub items: &'a [Arc<RenderedItem>],
    /// The date of the feed when it has no items: the newest item of the
    /// whole site (validators call 1970 implausible), still never the clock.
    pub empty_date: DateTime<FixedOffset>,
}

impl FeedDoc<'_> {
    /// Newest `updated` among the items.
    pub fn updated(&self) -> DateTime<FixedOffset> {
        self.items
            .iter()
            .map(|i| i.entry.updated)
            .max()
            .unwrap_or(self.empty_date)
    }

    /// Newest `published` among the items.
    pub fn published(&self) -> DateTime<FixedOffset> {
        self.items
            .iter()
            .map(|i| i.entry.published)
            .max()
            .unwrap_or(self.empty_date)
    }

    pub fn url(&self, format: FeedFormat) -> String {
        self.config.url(&feed_path(&self.info.slug, format))
    }

    /// The HTML page a feed stands for: the site's index.
    pub fn home_url(&self) -> String {
        self.config.url("")
    }

    /// The feed with its items' rendered bytes spliced in, or the reason
    /// it is not published: a feed document is well-formed XML (RSS,
    /// Atom) or valid JSON, checked in parts when it is spliced (see
    /// `items`) and whole when the crate's output is not shaped as the
    /// splicing expects.
    pub fn render(&self, format: FeedFormat) -> Result<Vec<u8>, Rejected> {
        let spliced = match format {
            FeedFormat::Rss => rss::spliced(self),
            FeedFormat::Atom => atom::spliced(self),
            FeedFormat::Json => json::spliced(self),
        };
        match spliced {
            Some(s) => s.write(),
            None => {
                let whole = self.render_whole(format);
                match check_document(format, &whole) {
                    Ok(()) => Ok(whole),
                    Err(reason) => Err(Rejected {
                        path: feed_path(&self.info.slug, format),
                        reason,
                        articles: Vec::new(),
                    }),
                }
            }
        }
    }

    /// The feed written whole by its format's crate, items and all: the
    /// fallback of [`FeedDoc::render`], and the reference it must equal.
    pub fn render_whole(&self, format: FeedFormat) -> Vec<u8> {
        match format {
            FeedFormat::Rss => rss::render_whole(self),
            FeedFormat::Atom => atom::render_whole(self),
            FeedFormat::Json => json::render_whole(self),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFormat {
    Rss,
    Atom,
    Json,
}

impl FeedFormat {
    pub const ALL: [FeedFormat; 3] = [FeedFormat::Rss, FeedFormat::Atom, FeedFormat::Json];

    pub fn extension(self) -> &'static str {
        match self {
            FeedFormat::Rss => "rss",
            FeedFormat::Atom => "atom",
            FeedFormat::Json => "json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            FeedFormat::Rss => "application/rss+xml; charset=utf-8",
            FeedFormat::Atom => "application/atom+xml; charset=utf-8",
            FeedFormat::Json => "application/feed+json",
        }
    }

    /// The MIME type alone, for `type=` attributes.
    pub fn mime(self) -> &'static str {
        self.content_type().split(';').next().unwrap_or_default()
    }
}

/// Plain text as HTML that displays it: `&`, `<` and `>` escaped. For the
/// fields whose format says HTML (RSS `description`, Atom `type="html"`)
/// when what wirefeed has is text.
pub fn text_as_html(text: &str) -> String {
    quick_xml::escape::partial_escape(text).into_owned()
}

/// An author written `Name <address@example.com>`: the name, and the
/// e-mail address when there is one (feed formats keep them apart).
pub fn author_parts(author: &str) -> (&str, Option<&str>) {
    let split = author
        .strip_suffix('>')
        .and_then(|rest| rest.rsplit_once('<'));
    match split {
        Some((name, email)) if email.contains('@') && !email.contains(char::is_whitespace) => {
            let name = name.trim();
            (if name.is_empty() { email } else { name }, Some(email))
        }
        _ => (author, None),
    }
}

/// `feeds/{slug}.{ext}`, the path of a feed under the base URL.
pub fn feed_path(slug: &str, format: FeedFormat) -> String {
    format!("feeds/{slug}.{}", format.extension())
}

/// Category names an item is filed under: the titles of the configured
/// feeds it is in, then its tags.
pub fn item_categories(config: &Config, entry: &Entry) -> Vec<String> {
    let mut names: Vec<String> = entry
        .feeds
        .iter()
        .filter(|&&f| f > 0)
        .filter_map(|&f| config.categories.get(f - 1).map(|c| c.title.clone()))
        .collect();
    for tag in &entry.tags {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(tag)) {
            names.push(tag.to_string());
        }
    }
    names
}

/// One feed rendered in every format.
pub struct RenderedFeed {
    /// `(path, format, body or the reason it is not published)`; the path
    /// is relative to the site root.
    pub files: Vec<(String, FeedFormat, Result<Vec<u8>, Rejected>)>,
    /// The feed's date (newest item's `updated`); `None` when it is empty.
    pub updated: Option<DateTime<FixedOffset>>,
}

/// Feed `index` of the catalog, as published at `now`, its items taken
/// from `cache` (see [`ItemCache::refresh`]), written out.
pub fn feed_files(
    catalog: &crate::catalog::Catalog,
    index: usize,
    now: chrono::DateTime<chrono::Utc>,
    cache: &ItemCache,
) -> RenderedFeed {
    let items = cache.feed_items(catalog, index, now);
    feed_files_of(catalog, index, now, &items)
}

fn feed_files_of(
    catalog: &crate::catalog::Catalog,
    index: usize,
    now: chrono::DateTime<chrono::Utc>,
    items: &[Arc<RenderedItem>],
) -> RenderedFeed {
    let info = &catalog.feeds()[index];
    // An empty feed takes the site's newest date (validators call 1970
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
        info,
        items,
        empty_date,
    };
    RenderedFeed {
        files: FeedFormat::ALL
            .iter()
            .map(|&f| (feed_path(&info.slug, f), f, doc.render(f)))
            .collect(),
        updated: (!items.is_empty()).then(|| doc.updated()),
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

/// Is this document what its format says: well-formed XML for RSS and
/// Atom ([`check_xml`]), JSON for JSON Feed? No feed document is served or
/// written without passing it (see [`FeedDoc::render`]).
pub fn check_document(format: FeedFormat, bytes: &[u8]) -> Result<(), String> {
    match format {
        FeedFormat::Json => serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
            .map(|_| ())
            .map_err(|e| format!("not valid JSON: {e}")),
        FeedFormat::Rss | FeedFormat::Atom => check_xml(bytes),
    }
}

/// Every feed of the catalog at `now`, rendered and checked: the documents
/// that pass, and the ones that do not (for `build` and `check`).
pub fn site_feeds(
    catalog: &crate::catalog::Catalog,
    now: chrono::DateTime<chrono::Utc>,
) -> (Vec<(String, Vec<u8>)>, Vec<Rejected>) {
    let all = (0..catalog.feeds().len()).collect();
    let mut items = ItemCache::default();
    items.refresh(catalog, &all, now);
    let (mut good, mut bad) = (Vec::new(), Vec::new());
    for &index in &all {
        for (path, _, body) in feed_files(catalog, index, now, &items).files {
            match body {
                Ok(bytes) => good.push((path, bytes)),
                Err(rejected) => bad.push(rejected),
            }
        }
    }
    (good, bad)
}

/// Checks that a rendered XML document is well-formed XML 1.0: one root,
/// every tag closed, every entity defined, every attribute once, and no
/// character XML forbids (roxmltree is a conforming non-validating parser).
pub fn check_xml(bytes: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(text, options)
        .map(|_| ())
        .map_err(|e| format!("not well-formed XML: {e}"))
}
