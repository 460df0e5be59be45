//! What parsing needs from the config ([`ParseContext`]), and what every
//! format parser fills in ([`Parts`]) before the shared rules apply.

use std::collections::HashSet;

use chrono::{DateTime, FixedOffset};
use chrono_tz::Tz;

use crate::config::Config;
use crate::model::{CategorySource, DateSource, Dateline};

/// Everything parsing needs from the config, copied once.
#[derive(Clone)]
pub struct ParseContext {
    /// The HTML sanitizer, built once per config (relative URLs in bodies
    /// are made absolute against `site.base_url`).
    pub sanitizer: std::sync::Arc<ammonia::Builder<'static>>,
    pub tz: Tz,
    pub chrome_start: Vec<String>,
    pub more_stories_prefix: String,
    pub max_file_bytes: u64,
    pub max_title_chars: usize,
    pub max_summary_chars: usize,
    pub max_content_bytes: usize,
    /// ammonia with an empty allow-list: HTML to plain text (summaries).
    pub plain_text: std::sync::Arc<ammonia::Builder<'static>>,
    /// Also build the summary and the whole body. A full scan and a big
    /// round drop every text (the feeds show a few hundred, read back
    /// later), so they leave them out: [`ParseContext::metadata_only`].
    pub texts: bool,
    /// `site.base_url`: image and enclosure URLs are resolved against it.
    pub base: url::Url,
    /// `({base_url}/media/, media.dir)`: where the catalog finds the size
    /// of an enclosure that does not give one.
    pub media: Option<(String, std::path::PathBuf)>,
}

impl std::fmt::Debug for ParseContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParseContext")
            .field("tz", &self.tz)
            .finish_non_exhaustive()
    }
}

impl ParseContext {
    pub fn from_config(c: &Config) -> Self {
        ParseContext {
            sanitizer: std::sync::Arc::new(sanitizer(&c.site.base_url)),
            tz: c.site.timezone,
            chrome_start: c.parse.chrome_start.clone(),
            more_stories_prefix: c.parse.more_stories_prefix.clone(),
            max_file_bytes: c.articles.max_file_bytes,
            max_title_chars: c.feeds.max_title_chars,
            max_summary_chars: c.feeds.max_summary_chars,
            max_content_bytes: c.feeds.max_content_bytes,
            plain_text: std::sync::Arc::new(ammonia::Builder::empty()),
            texts: true,
            base: c.site.base_url.clone(),
            media: c.media.dir.clone().map(|dir| (c.url("media/"), dir)),
        }
    }

    /// The same rules, for a reader that keeps only an article's metadata:
    /// no summary is derived from the body (a third of a Markdown file's
    /// parse), and a scraped page's body is escaped only as far as its first
    /// paragraph (a third of a `.txt` read, most of it for fresh memory).
    /// What decides whether a file is an article, and every warning, stay
    /// the same; the body it leaves is partial, so it is never shown.
    pub fn metadata_only(&self) -> ParseContext {
        ParseContext {
            texts: false,
            ..self.clone()
        }
    }
}

/// What a format parser found, before the shared rules apply.
#[derive(Debug, Default)]
pub struct Parts {
    pub title: String,
    pub author: Option<String>,
    pub date: Option<(DateTime<FixedOffset>, DateSource)>,
    pub updated: Option<DateTime<FixedOffset>>,
    pub categories: Vec<String>,
    /// `Page` or `FrontMatter` when `categories` is not empty.
    pub category_source: Option<CategorySource>,
    pub tags: Vec<String>,
    pub summary: Option<String>,
    /// Plain text of the first paragraph: the summary when none is given.
    pub first_paragraph: String,
    pub content_html: String,
    pub link: Option<String>,
    pub id: Option<String>,
    pub dateline: Option<Dateline>,
    pub draft: bool,
    /// `image` and `image_alt` as written.
    pub image: Option<(String, Option<String>)>,
    pub enclosures: Vec<RawEnclosure>,
    /// Items of `enclosures` that were not `{url, type, length}` or a URL.
    pub enclosures_left_out: usize,
    pub lang: Option<String>,
}

/// An enclosure as written: `(url, type, length)`.
pub type RawEnclosure = (String, Option<String>, Option<u64>);

/// ammonia's defaults (no script/style, no `on*` attributes, links marked
/// `noopener noreferrer`), only http(s) and mailto URLs, and relative URLs
/// made absolute: feed readers have no base to resolve them against.
pub fn sanitizer(base: &url::Url) -> ammonia::Builder<'static> {
    let mut b = ammonia::Builder::default();
    b.url_schemes(HashSet::from(["http", "https", "mailto"]));
    b.url_relative(ammonia::UrlRelative::RewriteWithBase(base.clone()));
    b
}
