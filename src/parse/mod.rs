//! One file in, one [`Article`] (or a reason it is not one) out.
//!
//! The format is chosen by extension: `.txt` is a scraped news page
//! ([`scraped`]), `.md`/`.markdown` Markdown with front matter
//! ([`markdown`]), `.json` a JSON object ([`json`]). Every format fills the
//! same [`Parts`]; `finish` applies the shared rules (date and category
//! fallbacks, limits) so the formats cannot drift apart.

pub mod dates;
pub mod decode;
pub mod json;
pub mod markdown;
pub mod meta;
pub mod prefetch;
pub mod scraped;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use chrono::{DateTime, FixedOffset, Timelike};
use chrono_tz::Tz;

use crate::article::{Article, CategorySource, DateSource, Dateline, Format};
use crate::config::Config;

/// A file that is not (or not yet) an article, and why.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ParseError {
    pub path: PathBuf,
    pub reason: Reason,
}

#[derive(Debug, thiserror::Error)]
pub enum Reason {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a regular file")]
    NotAFile,
    #[error("file is {size} bytes, over the {max}-byte limit (articles.max_file_bytes)")]
    TooLarge { size: u64, max: u64 },
    #[error("empty file")]
    Empty,
    #[error("binary data, not text")]
    Binary,
    #[error("no title")]
    NoTitle,
    #[error("no body text")]
    NoBody,
    #[error("{0}")]
    BadDate(String),
    #[error("front matter: {0}")]
    BadFrontMatter(String),
    #[error("JSON: {0}")]
    BadJson(String),
    #[error("unsupported file extension (want .txt, .md, .markdown or .json)")]
    UnsupportedExtension,
}

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
            sanitizer: std::sync::Arc::new(markdown::sanitizer(&c.site.base_url)),
            tz: c.site.timezone,
            chrome_start: c.parse.chrome_start.clone(),
            more_stories_prefix: c.parse.more_stories_prefix.clone(),
            max_file_bytes: c.articles.max_file_bytes,
            max_title_chars: c.feeds.max_title_chars,
            max_summary_chars: c.feeds.max_summary_chars,
            max_content_bytes: c.feeds.max_content_bytes,
            plain_text: std::sync::Arc::new(ammonia::Builder::empty()),
            texts: true,
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

/// Editor swap files, partial downloads and hidden files are never articles.
pub fn is_ignored(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return true;
    };
    name.starts_with('.')
        || name.ends_with('~')
        || [".swp", ".swx", ".tmp", ".part", ".crdownload"]
            .iter()
            .any(|ext| name.ends_with(ext))
}

/// Is some folder on a relative key hidden (`world/.drafts/a.txt`)? Hidden
/// folders are skipped like hidden files, by the scan and the watcher alike.
pub fn in_hidden_folder(key: &str) -> bool {
    key.rsplit_once('/')
        .is_some_and(|(dirs, _)| dirs.split('/').any(|d| d.starts_with('.')))
}

/// Is this a file name wirefeed reads (and not an ignored one)?
pub fn is_article_path(path: &Path) -> bool {
    !is_ignored(path) && format_of(path).is_some()
}

fn format_of(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "txt" => Some(Format::Scraped),
        "md" | "markdown" => Some(Format::Markdown),
        "json" => Some(Format::Json),
        _ => None,
    }
}

/// `path` relative to `root`, `/`-separated (the article's stable key).
pub fn relative_key(root: &Path, path: &Path) -> String {
    if let Some(tail) = clean_tail(root, path) {
        return tail.to_owned();
    }
    let rel = path.strip_prefix(root).unwrap_or(path);
    rel.components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// What follows `root` and a `/` in `path`, when that is UTF-8 made of
/// plain names only (no empty, `.` or `..` part): then it is also what
/// [`relative_key`] builds part by part, and `path` is inside `root`.
/// Nearly every path is such a join (the scan's and notify's), and
/// comparing bytes is a tenth of the work of comparing `Path` components
/// (which, with the key built from them, was 2 % of the daemon's CPU in
/// a burst).
pub(crate) fn clean_tail<'a>(root: &Path, path: &'a Path) -> Option<&'a str> {
    use std::os::unix::ffi::OsStrExt;
    let root = root.as_os_str().as_bytes();
    if root.is_empty() {
        return None;
    }
    let rest = path.as_os_str().as_bytes().strip_prefix(root)?;
    let rest = std::str::from_utf8(rest.strip_prefix(b"/")?).ok()?;
    rest.split('/')
        .all(|part| !matches!(part, "" | "." | ".."))
        .then_some(rest)
}

/// Reads and parses one file under `root`. `Ok(None)`: a draft.
pub fn parse_file(
    root: &Path,
    path: &Path,
    ctx: &ParseContext,
) -> Result<Option<Article>, ParseError> {
    parse_file_as(path, &relative_key(root, path), ctx)
}

/// [`parse_file`] for a caller that already has the file's `key` (its path
/// relative to the articles directory).
pub fn parse_file_as(
    path: &Path,
    key: &str,
    ctx: &ParseContext,
) -> Result<Option<Article>, ParseError> {
    // One open, then questions about the open file: no second path lookup
    // (a third of the system time of a scan went to looking paths up).
    let io = |e: std::io::Error| ParseError {
        path: path.to_path_buf(),
        reason: e.into(),
    };
    let file = open_article(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    parse_opened(file, &meta, path, key, ctx)
}

/// As [`parse_file_as`], for a file already opened with [`open_article`]
/// and its metadata (taken from the open file).
pub fn parse_opened(
    mut file: std::fs::File,
    meta: &std::fs::Metadata,
    path: &Path,
    key: &str,
    ctx: &ParseContext,
) -> Result<Option<Article>, ParseError> {
    let err = |reason| ParseError {
        path: path.to_path_buf(),
        reason,
    };
    if !meta.is_file() {
        return Err(err(Reason::NotAFile));
    }
    if meta.len() > ctx.max_file_bytes {
        return Err(err(Reason::TooLarge {
            size: meta.len(),
            max: ctx.max_file_bytes,
        }));
    }
    let bytes = read_whole(&mut file, meta.len(), ctx.max_file_bytes).map_err(|e| err(e.into()))?;
    if bytes.len() as u64 > ctx.max_file_bytes {
        return Err(err(Reason::TooLarge {
            size: bytes.len() as u64,
            max: ctx.max_file_bytes,
        }));
    }
    let mtime = meta.modified().unwrap_or(SystemTime::UNIX_EPOCH);
    parse_bytes(key, &bytes, mtime, ctx).map_err(err)
}

/// Reads an open file to its end, but never more than `limit` + 1 bytes
/// (one more than the limit tells a file over it).
///
/// One `read` is enough when the file still holds the `expected` bytes its
/// metadata said: asked for one byte more, the read returns exactly those
/// and the file is at its end. `read_to_end` asks again until a read
/// returns 0: a second `read` for every file a scan or a burst reads.
/// A file that grew, shrank or came back short is read on as before.
fn read_whole(file: &mut std::fs::File, expected: u64, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut bytes = vec![0; expected.min(limit) as usize + 1];
    let first = loop {
        match file.read(&mut bytes) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => break other?,
        }
    };
    bytes.truncate(first);
    if first as u64 != expected {
        // The size may grow while we read (a writer still at it): never
        // read more than the limit.
        file.take(limit + 1 - first as u64)
            .read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

/// Opens a file for reading without ever blocking or leaving the tree: a
/// FIFO or device dropped among the articles would block a plain open
/// forever (`O_NONBLOCK`; regular files read as usual), and a file swapped
/// for a symlink since it was listed is refused (`O_NOFOLLOW`).
pub fn open_article(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path)
}

/// Parses an article's bytes; `key` is its path relative to the articles
/// directory, `mtime` the date used when the article has none.
pub fn parse_bytes(
    key: &str,
    bytes: &[u8],
    mtime: SystemTime,
    ctx: &ParseContext,
) -> Result<Option<Article>, Reason> {
    let format = format_of(Path::new(key)).ok_or(Reason::UnsupportedExtension)?;
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
    // Every text field goes through here: YAML and JSON escapes (`"\e"`,
    // `"\u0000"`) can put characters into values that the file's bytes did
    // not have, so cleaning the decoded file alone is not enough.
    let dropped = std::cell::Cell::new(false);
    let clean = |s: &str| {
        let c = decode::clean_xml_chars(s);
        if c.len() != s.len() {
            dropped.set(true);
        }
        c
    };
    let line = |s: &str| decode::squash_whitespace(&clean(s));
    let lines = |v: Vec<String>| -> Vec<String> {
        v.iter()
            .map(|s| line(s))
            .filter(|s| !s.is_empty())
            .collect()
    };
    let title = line(&parts.title);
    if title.is_empty() {
        return Err(Reason::NoTitle);
    }
    if title.chars().count() > ctx.max_title_chars {
        warnings.push(format!("title cut to {} characters", ctx.max_title_chars));
    }
    let title = decode::truncate_words(&title, ctx.max_title_chars);
    let content_html = clean(&parts.content_html);
    if content_html.trim().is_empty() {
        return Err(Reason::NoBody);
    }
    let modified = {
        // Whole seconds: RSS dates have none, and some readers (newsboat)
        // misread fractional seconds in Atom dates.
        let at: DateTime<chrono::Utc> = mtime.into();
        let at = at.with_nanosecond(0).unwrap_or(at);
        at.with_timezone(&ctx.tz).fixed_offset()
    };
    let (published, date_source) = parts.date.unwrap_or((modified, DateSource::File));
    dates::check_range(published).map_err(Reason::BadDate)?;
    let (categories, category_source) = if !parts.categories.is_empty() {
        (
            lines(parts.categories),
            parts.category_source.unwrap_or(CategorySource::FrontMatter),
        )
    } else {
        let folders = lines(folder_names(key));
        let source = if folders.is_empty() {
            CategorySource::None
        } else {
            CategorySource::Folder
        };
        (folders, source)
    };
    let summary = match parts.summary {
        Some(given) => line(&given),
        None if ctx.texts => line(&parts.first_paragraph),
        None => String::new(),
    };
    let summary = decode::truncate_words(&summary, ctx.max_summary_chars);
    Ok(Article {
        path: key.to_string(),
        format,
        title,
        author: parts.author.map(|a| line(&a)).filter(|a| !a.is_empty()),
        published,
        date_source,
        updated: parts.updated.filter(|u| *u > published),
        modified,
        categories,
        category_source,
        tags: lines(parts.tags),
        summary,
        content_html,
        link: parts
            .link
            .map(|l| line(&l))
            .filter(|l| meta::is_http_url(l)),
        id: parts.id.map(|i| line(&i)).filter(|i| !i.is_empty()),
        dateline: parts.dateline.map(|d| Dateline {
            city: line(&d.city),
            agency: line(&d.agency),
            source: d.source.map(|s| line(&s)),
        }),
        content_hash: xxhash_rust::xxh3::xxh3_64(bytes),
        warnings: {
            if dropped.get() {
                warnings.push("dropped characters not allowed in XML from escaped values".into());
            }
            warnings
        },
    })
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
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    fn test_ctx() -> ParseContext {
        let config = crate::config::Config::from_str_with_env(
            "[site]\ntitle='t'\nbase_url='http://x'\n",
            Path::new("t.toml"),
            Vec::new(),
        )
        .expect("config");
        ParseContext::from_config(&config)
    }

    /// A path as the parts give it: `/`-joined bytes, not always UTF-8 and
    /// not always clean (empty, `.` and `..` parts), maybe absolute.
    fn messy_path() -> impl Strategy<Value = PathBuf> {
        let part = prop_oneof![
            Just(&b""[..]),
            Just(&b"."[..]),
            Just(&b".."[..]),
            Just(&b"a"[..]),
            Just(&b"ab"[..]),
            Just(&b".x"[..]),
            Just("é".as_bytes()),
            Just(&b"\xff"[..]),
        ];
        (any::<bool>(), prop::collection::vec(part, 0..5)).prop_map(|(absolute, parts)| {
            use std::os::unix::ffi::OsStringExt;
            let mut bytes = if absolute { b"/".to_vec() } else { Vec::new() };
            bytes.extend(parts.join(&b'/'));
            PathBuf::from(std::ffi::OsString::from_vec(bytes))
        })
    }

    proptest! {
        /// Keys and the inside test, taken by comparing bytes where the path
        /// is a clean join, are what comparing `Path` components gives.
        #[test]
        fn byte_compared_keys_equal_component_wise_ones(
            root in messy_path(),
            tail in messy_path(),
            separator in prop_oneof![Just(""), Just("/"), Just("//")],
        ) {
            use std::os::unix::ffi::OsStrExt;
            let mut bytes = root.as_os_str().as_bytes().to_vec();
            bytes.extend(separator.as_bytes());
            bytes.extend(tail.as_os_str().as_bytes());
            let path = PathBuf::from(std::ffi::OsStr::from_bytes(&bytes));
            let rel = path.strip_prefix(&root).unwrap_or(&path);
            let key = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            prop_assert_eq!(relative_key(&root, &path), key);
            let inside = path.strip_prefix(&root).is_ok_and(|rel| {
                rel.components()
                    .all(|c| matches!(c, std::path::Component::Normal(_)))
            });
            prop_assert_eq!(crate::watch::is_inside(&root, &path), inside);
        }
    }

    /// The whole file, whatever its size did between the stat and the read:
    /// as stated, grown since (a writer still at it), shrunk since, empty,
    /// and over the limit (one byte more than the limit is read, no more).
    #[test]
    fn a_file_is_read_whole_whatever_its_size_did_since_the_stat() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.txt");
        let body: Vec<u8> = (0..10_000u32).map(|i| b'a' + (i % 26) as u8).collect();
        std::fs::write(&path, &body).expect("write");
        let read = |expected: u64, limit: u64| {
            let mut file = std::fs::File::open(&path).expect("open");
            read_whole(&mut file, expected, limit).expect("read")
        };
        assert_eq!(read(10_000, 1 << 20), body, "as stated");
        assert_eq!(read(4_000, 1 << 20), body, "grown since the stat");
        assert_eq!(read(12_000, 1 << 20), body, "shrunk since the stat");
        assert_eq!(read(10_000, 9_000), body[..9_001], "over the limit");
        assert_eq!(read(5_000, 9_000), body[..9_001], "grown over the limit");
        std::fs::write(&path, b"").expect("truncate");
        assert!(read(0, 1 << 20).is_empty(), "empty");
    }

    /// A named pipe in the tree (or one swapped in after the listing) must
    /// not block the reader until someone writes to it.
    pub(crate) fn mkfifo(path: &Path) {
        let status = std::process::Command::new("mkfifo")
            .arg(path)
            .status()
            .expect("run mkfifo");
        assert!(status.success(), "mkfifo {}", path.display());
    }

    #[test]
    fn a_named_pipe_is_refused_without_blocking() {
        let ctx = test_ctx();
        let dir = tempfile::tempdir().expect("tempdir");
        let pipe = dir.path().join("pipe.txt");
        mkfifo(&pipe);
        let err = parse_file(dir.path(), &pipe, &ctx).expect_err("a pipe is no article");
        assert!(matches!(err.reason, Reason::NotAFile), "{err}");
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
    fn swap_temp_and_hidden_files_are_not_articles() {
        for name in [
            ".hidden.txt",
            "a.txt.swp",
            "notes.txt~",
            "upload.tmp",
            "big.part",
            ".#lock.txt",
            "x.png",
        ] {
            assert!(!is_article_path(Path::new(name)), "{name}");
        }
        for name in ["a.txt", "b.md", "c.markdown", "d.JSON"] {
            assert!(is_article_path(Path::new(name)), "{name}");
        }
    }

    #[test]
    fn hidden_folders_hide_their_files() {
        assert!(in_hidden_folder("world/.drafts/a.txt"));
        assert!(in_hidden_folder(".git/a.txt"));
        assert!(!in_hidden_folder("world/a.txt"));
        assert!(!in_hidden_folder("a.txt"));
    }

    #[test]
    fn folders_are_nearest_first() {
        assert_eq!(folder_names("world/2024/x.txt"), vec!["2024", "world"]);
        assert!(folder_names("x.txt").is_empty());
    }
}
