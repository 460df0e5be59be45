//! One article from a file's bytes: the format parser its extension
//! names, then the rules every format shares (date and category
//! fallbacks, limits, cleaning), so the formats cannot drift apart.

use std::path::Path;
use std::time::SystemTime;

use chrono::{DateTime, Timelike};

use super::context::{ParseContext, Parts};
use super::{dates, decode, json, markdown, meta, scraped};
use crate::model::{
    Article, CategorySource, DateSource, Dateline, Enclosure, Format, Image, Reason,
};

/// Parses an article's bytes; `key` is its path relative to the articles
/// directory, `mtime` the date used when the article has none.
pub fn parse_bytes(
    key: &str,
    bytes: &[u8],
    mtime: SystemTime,
    ctx: &ParseContext,
) -> Result<Option<Article>, Reason> {
    let format =
        crate::source::article_format(Path::new(key)).ok_or(Reason::UnsupportedExtension)?;
    if bytes.len() as u64 > ctx.max_file_bytes {
        return Err(Reason::TooLarge {
            size: bytes.len() as u64,
            max: ctx.max_file_bytes,
        });
    }
    let mut warnings = Vec::new();
    let text = decode::decode(bytes, &mut warnings)?;
    let parts = match format {
        Format::Scraped => scraped::parse(&text, ctx)?,
        Format::Markdown => markdown::parse(&text, ctx)?,
        Format::Json => json::parse(&text, ctx)?,
    };
    if parts.draft {
        return Ok(None);
    }
    finish(parts, key, format, bytes, mtime, ctx, warnings).map(Some)
}

fn finish(
    parts: Parts,
    key: &str,
    format: Format,
    bytes: &[u8],
    mtime: SystemTime,
    ctx: &ParseContext,
    mut warnings: Vec<String>,
) -> Result<Article, Reason> {
    let clean = Cleaner::default();
    let title = clean.line(&parts.title);
    if title.is_empty() {
        return Err(Reason::NoTitle);
    }
    if title.chars().count() > ctx.max_title_chars {
        warnings.push(format!("title cut to {} characters", ctx.max_title_chars));
    }
    let title = decode::truncate_words(&title, ctx.max_title_chars);
    let content_html = clean.text(&parts.content_html);
    if content_html.trim().is_empty() {
        return Err(Reason::NoBody);
    }
    let modified = file_date(mtime, ctx);
    let (published, date_source) = parts.date.unwrap_or((modified, DateSource::File));
    // RSS dates have whole seconds: a fraction would make the formats
    // disagree on the instant.
    let published = dates::whole_seconds(published);
    let updated = parts.updated.map(dates::whole_seconds);
    dates::check_range(published).map_err(Reason::BadDate)?;
    let (categories, category_source) = match parts.categories.is_empty() {
        false => (
            clean.lines(parts.categories),
            parts.category_source.unwrap_or(CategorySource::FrontMatter),
        ),
        true => match clean.lines(folder_names(key)) {
            folders if folders.is_empty() => (folders, CategorySource::None),
            folders => (folders, CategorySource::Folder),
        },
    };
    let summary = match parts.summary {
        Some(given) => clean.line(&given),
        None if ctx.texts => clean.line(&parts.first_paragraph),
        None => String::new(),
    };
    if parts.enclosures_left_out > 0 {
        warnings.push(format!(
            "{} enclosure(s) left out: want {{url, type, length}} or a URL",
            parts.enclosures_left_out
        ));
    }
    let article = Article {
        path: key.to_string(),
        format,
        title,
        author: parts
            .author
            .map(|a| clean.line(&a))
            .filter(|a| !a.is_empty()),
        published,
        date_source,
        updated: updated.filter(|u| *u > published),
        modified,
        categories,
        category_source,
        tags: clean.lines(parts.tags),
        summary: decode::truncate_words(&summary, ctx.max_summary_chars),
        content_html,
        link: parts
            .link
            .map(|l| clean.line(&l))
            .filter(|l| meta::is_http_url(l)),
        id: parts.id.map(|i| clean.line(&i)).filter(|i| !i.is_empty()),
        dateline: parts.dateline.map(|d| Dateline {
            city: clean.line(&d.city),
            agency: clean.line(&d.agency),
            source: d.source.map(|s| clean.line(&s)),
        }),
        image: parts.image.and_then(|(url, alt)| {
            let url = absolute_url(&ctx.base, &clean.line(&url), "image", &mut warnings)?;
            let alt = alt.map(|a| clean.line(&a)).unwrap_or_default();
            Some(Image { url, alt })
        }),
        enclosures: parts
            .enclosures
            .into_iter()
            .filter_map(|(url, mime, length)| {
                let url = absolute_url(&ctx.base, &clean.line(&url), "enclosure", &mut warnings)?;
                let mime = mime
                    .map(|m| clean.line(&m))
                    .filter(|m| m.contains('/'))
                    .or_else(|| guess_type(&url))
                    .unwrap_or_else(|| "application/octet-stream".into());
                Some(Enclosure { url, mime, length })
            })
            .collect(),
        lang: parts
            .lang
            .map(|l| clean.line(&l))
            .filter(|l| crate::config::is_language_tag(l)),
        content_hash: xxhash_rust::xxh3::xxh3_64(bytes),
        warnings,
    };
    Ok(clean.report(article))
}

/// `url` resolved against the site's base URL (`media/a.png`,
/// `/media/a.png`), as a browser would; only http(s) URLs are kept, the
/// others dropped with a warning.
fn absolute_url(
    base: &url::Url,
    url: &str,
    what: &str,
    warnings: &mut Vec<String>,
) -> Option<String> {
    match base.join(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Some(u.to_string()),
        _ => {
            warnings.push(format!("{what} {url:?} left out: not an http(s) URL"));
            None
        }
    }
}

/// The media type a file name says (`.mp3`: `audio/mpeg`).
fn guess_type(url: &str) -> Option<String> {
    let path = url::Url::parse(url).ok()?.path().to_string();
    mime_guess::from_path(path).first().map(|m| m.to_string())
}

/// Cleans every text field: YAML and JSON escapes (`"\e"`, `"\u0000"`)
/// can put characters into values that the file's bytes did not have, so
/// cleaning the decoded file alone is not enough. Remembers whether it
/// dropped any.
#[derive(Default)]
struct Cleaner {
    dropped: std::cell::Cell<bool>,
}

impl Cleaner {
    /// Without the characters XML forbids.
    fn text(&self, s: &str) -> String {
        let c = decode::clean_xml_chars(s);
        if c.len() != s.len() {
            self.dropped.set(true);
        }
        c
    }

    /// Cleaned, on one line, white space squashed.
    fn line(&self, s: &str) -> String {
        decode::squash_whitespace(&self.text(s))
    }

    /// Each cleaned to a line; the empty ones left out.
    fn lines(&self, v: Vec<String>) -> Vec<String> {
        v.iter()
            .map(|s| self.line(s))
            .filter(|s| !s.is_empty())
            .collect()
    }

    /// `article`, with a warning if anything was dropped.
    fn report(&self, mut article: Article) -> Article {
        if self.dropped.get() {
            article
                .warnings
                .push("dropped characters not allowed in XML from escaped values".into());
        }
        article
    }
}

/// A file's modification time as an article date: whole seconds (RSS
/// dates have none, and some readers misread fractional seconds in Atom
/// dates), in the configured zone.
fn file_date(mtime: SystemTime, ctx: &ParseContext) -> chrono::DateTime<chrono::FixedOffset> {
    let at: DateTime<chrono::Utc> = mtime.into();
    let at = at.with_nanosecond(0).unwrap_or(at);
    dates::whole_minutes(at.with_timezone(&ctx.tz).fixed_offset())
}

/// The folders a file sits in, nearest first: `world/2024/x.txt` gives
/// `["2024", "world"]`; the catalog takes the first that names a feed.
fn folder_names(key: &str) -> Vec<String> {
    let mut dirs: Vec<String> = key.split('/').map(str::to_string).collect();
    dirs.pop();
    dirs.reverse();
    dirs
}

#[cfg(test)]
mod tests {
    use super::*;

    fn test_ctx() -> ParseContext {
        let config = crate::config::Config::from_str_with_env(
            "[site]\ntitle='t'\nbase_url='http://x'\n",
            Path::new("t.toml"),
            Vec::new(),
        )
        .expect("config");
        ParseContext::from_config(&config)
    }

    #[test]
    fn escapes_in_front_matter_and_json_cannot_smuggle_control_characters() {
        let ctx = test_ctx();
        let md = b"---\ntitle: \"Scrip\\ed\"\nauthor: \"A\\0B\"\ntags: [\"x\\ay\"]\n---\nBody.\n";
        let json = br#"{"title":"J\u001bT","body":"<p>a\u0000b\u000bc</p>","summary":"s\u0007"}"#;
        for (name, bytes) in [("a.md", &md[..]), ("a.json", &json[..])] {
            let a = parse_bytes(name, bytes, SystemTime::UNIX_EPOCH, &ctx)
                .expect("parses")
                .expect("article");
            let all = format!(
                "{}{:?}{}{}{:?}",
                a.title, a.author, a.summary, a.content_html, a.tags
            );
            assert!(
                !all.chars().any(|c| c.is_control() && c != '\n'),
                "{name}: {all:?}"
            );
        }
    }

    #[test]
    fn folders_are_nearest_first() {
        assert_eq!(folder_names("world/2024/x.txt"), vec!["2024", "world"]);
        assert!(folder_names("x.txt").is_empty());
    }
}
