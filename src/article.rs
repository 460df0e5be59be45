//! What every parser produces: one article, whatever its file format.

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

/// The file format an article was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// A scraped news page (`.txt`): title, byline, dateline, body, chrome.
    Scraped,
    /// Markdown with YAML or TOML front matter.
    Markdown,
    Json,
}

/// Where an article's publication date came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DateSource {
    /// `Author Published May 14, 2024 | 02:10 PM`.
    Byline,
    /// `date`/`published` in front matter or a JSON article.
    FrontMatter,
    /// `City, (Agency - Source - 14th May, 2024)`: a date without a time.
    Dateline,
    /// The file's modification time (no date written anywhere).
    File,
}

/// Where an article's category names came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CategorySource {
    FrontMatter,
    /// `More Stories From <X>` in a scraped page's chrome.
    Page,
    /// The folders the file sits in, nearest first.
    Folder,
    None,
}

/// `Beijing, (APP - UrduPoint / Pakistan Point News - 14th May, 2024)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dateline {
    pub city: String,
    pub agency: String,
    pub source: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Article {
    /// Path relative to the articles directory, `/`-separated.
    pub path: String,
    pub format: Format,
    pub title: String,
    pub author: Option<String>,
    pub published: DateTime<FixedOffset>,
    pub date_source: DateSource,
    /// A later modification date written in the article itself.
    pub updated: Option<DateTime<FixedOffset>>,
    /// The file's modification time: when an edit is noticed, `updated`
    /// moves to it (so two servers over one directory agree).
    pub modified: DateTime<FixedOffset>,
    /// Category names in the order found; the catalog maps them to feeds.
    pub categories: Vec<String>,
    pub category_source: CategorySource,
    pub tags: Vec<String>,
    /// Plain text, cut on a word boundary. Like `content_html` and
    /// `dateline`, empty on a catalog [`crate::catalog::Entry`]: see
    /// [`ItemText`].
    pub summary: String,
    /// Sanitized HTML.
    pub content_html: String,
    /// The article's own URL, if it names one.
    pub link: Option<String>,
    /// The article's own id, if it names one.
    pub id: Option<String>,
    pub dateline: Option<Dateline>,
    /// xxh3 of the file's bytes: tells a real edit from a touch, and a
    /// renamed file from a new one.
    #[serde(serialize_with = "as_hex")]
    pub content_hash: u64,
    /// Things that were cleaned up while reading (control characters
    /// dropped, text cut at a limit...): reported, not fatal.
    pub warnings: Vec<String>,
}

/// The parts of an article only a feed item or its page shows: most of an
/// article's size. The catalog keeps them for the items the feeds show and
/// reads them back from the file otherwise, so memory grows with the feed
/// windows, not with the archive.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemText {
    pub summary: String,
    /// Sanitized HTML.
    pub html: String,
    pub dateline: Option<Dateline>,
}

impl Article {
    /// Moves the [`ItemText`] parts out, leaving them empty.
    pub fn take_text(&mut self) -> ItemText {
        ItemText {
            summary: std::mem::take(&mut self.summary),
            html: std::mem::take(&mut self.content_html),
            dateline: self.dateline.take(),
        }
    }
}

fn as_hex<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{v:016x}"))
}
