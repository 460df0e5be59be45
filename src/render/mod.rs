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
pub use items::{ItemCache, RenderedItem, Spliced};

/// The date of an empty site: the Unix epoch, a fixed value rather than
/// the render time.
pub fn empty_feed_date() -> DateTime<FixedOffset> {
    DateTime::UNIX_EPOCH.fixed_offset()
}

/// One feed, ready to render in any format.
pub struct FeedDoc<'a> {
    pub config: &'a Config,
    pub info: &'a FeedInfo,
    /// Newest first, each rendered in a format on first use.
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

    /// The feed with its items' rendered bytes spliced in.
    pub fn render(&self, format: FeedFormat) -> Vec<u8> {
        self.body(format).into_vec()
    }

    /// The feed in parts (its bytes written on demand), or written whole
    /// when the crate's output is not shaped as the splicing expects.
    pub fn body(&self, format: FeedFormat) -> FeedBody {
        let spliced = match format {
            FeedFormat::Rss => rss::spliced(self),
            FeedFormat::Atom => atom::spliced(self),
            FeedFormat::Json => json::spliced(self),
        };
        match spliced {
            Some(s) => FeedBody::Spliced(s),
            None => FeedBody::Whole(self.render_whole(format)),
        }
    }

    /// The feed written whole by its format's crate, items and all: the
    /// fallback of [`FeedDoc::body`], and the reference it must equal.
    pub fn render_whole(&self, format: FeedFormat) -> Vec<u8> {
        match format {
            FeedFormat::Rss => rss::render_whole(self),
            FeedFormat::Atom => atom::render_whole(self),
            FeedFormat::Json => json::render_whole(self),
        }
    }
}

/// A rendered feed document: in parts, or (the fallback) as bytes.
pub enum FeedBody {
    Spliced(Spliced),
    Whole(Vec<u8>),
}

impl FeedBody {
    pub fn into_vec(self) -> Vec<u8> {
        match self {
            FeedBody::Spliced(s) => s.write(),
            FeedBody::Whole(b) => b,
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
pub struct RenderedFeed<B = Vec<u8>> {
    /// `(path, format, body)`; the path is relative to the site root.
    pub files: Vec<(String, FeedFormat, B)>,
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
    let bodies = feed_bodies(catalog, index, now, cache);
    RenderedFeed {
        files: bodies
            .files
            .into_iter()
            .map(|(path, format, body)| (path, format, body.into_vec()))
            .collect(),
        updated: bodies.updated,
    }
}

/// As [`feed_files`], each document kept in parts where it can be (the
/// daemon writes a feed's bytes only once they are asked for).
pub fn feed_bodies(
    catalog: &crate::catalog::Catalog,
    index: usize,
    now: chrono::DateTime<chrono::Utc>,
    cache: &ItemCache,
) -> RenderedFeed<FeedBody> {
    let items = cache.feed_items(catalog, index, now);
    let info = &catalog.feeds()[index];
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
        items: &items,
        empty_date,
    };
    RenderedFeed {
        // Debug builds check the XML as each feed is first written (see
        // `Spliced::write`), not here: writing them here would render every
        // item at publish, and the tests would never see items rendered on
        // a reader's or the compressor's thread.
        files: FeedFormat::ALL
            .iter()
            .map(|&f| {
                let body = doc.body(f);
                if let FeedBody::Whole(bytes) = &body {
                    debug_assert!(
                        f == FeedFormat::Json || check_xml(bytes).is_ok(),
                        "{}: {:?}",
                        info.slug,
                        check_xml(bytes)
                    );
                }
                (feed_path(&info.slug, f), f, body)
            })
            .collect(),
        updated: (!items.is_empty()).then(|| doc.updated()),
    }
}

/// Checks that a rendered XML document is well-formed: it parses to the
/// end, is UTF-8, and holds no character XML 1.0 forbids. Debug builds
/// check every feed they render; tests and fuzz targets call it directly.
pub fn check_xml(bytes: &[u8]) -> Result<(), String> {
    let mut reader = quick_xml::Reader::from_reader(bytes);
    let mut buf = Vec::new();
    loop {
        match reader.read_event_into(&mut buf) {
            Ok(quick_xml::events::Event::Eof) => break,
            Ok(_) => buf.clear(),
            Err(e) => {
                return Err(format!(
                    "not well-formed at byte {}: {e}",
                    reader.buffer_position()
                ))
            }
        }
    }
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    match text.chars().find(|&c| {
        (c.is_control() && !matches!(c, '\n' | '\r' | '\t')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
    }) {
        Some(c) => Err(format!("character {c:?} is not allowed in XML")),
        None => Ok(()),
    }
}
