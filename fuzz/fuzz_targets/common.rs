//! Shared by the fuzz targets: the sites (config + parse contexts) built once
//! per process, how an input picks its file name and site, the article
//! invariants, and a feed reader's view of text (as tests/common/mod.rs).
//!
//! Nothing here is rebuilt per run: a `Config` and a `ParseContext` (whose
//! ammonia sanitizer is most of its cost) were ~1 ms of every run.
#![allow(dead_code)]

use std::path::Path;
use std::sync::{Arc, LazyLock};
use std::time::{Duration, SystemTime};

use chrono::Offset as _;
use wirefeed::model::{Article, Format};
use wirefeed::config::Config;
use wirefeed::parse::ParseContext;

/// One configured site.
pub struct Site {
    pub config: Arc<Config>,
    /// What the daemon parses a changed file with.
    pub ctx: ParseContext,
    /// What a full scan parses with ([`ParseContext::metadata_only`]).
    pub meta: ParseContext,
}

/// Site 0: New York (DST gaps and repeats), default limits, a category
/// whose title needs escaping. Site 1: Karachi (the README's zone; its
/// local mean time, +04:28:12, lasted until 1907), a base URL with a path,
/// small title and summary limits (cutting is exercised on short inputs).
const CONFIGS: [&str; 2] = [
    "[site]\ntitle = \"Fuzz\"\nbase_url = \"http://fuzz.test\"\ntimezone = \"America/New_York\"\n\
     [articles]\ndir = \"/nonexistent\"\n\
     [[categories]]\nslug = \"world\"\ntitle = \"World\"\nmatch = [\"International\"]\n\
     [[categories]]\nslug = \"business\"\ntitle = \"Business & <Economy>\"\nmatch = [\"Economy\"]\n",
    "[site]\ntitle = \"Fuzz Desk\"\nbase_url = \"https://fuzz.test/wire/\"\ntimezone = \"Asia/Karachi\"\n\
     language = \"ur\"\n\
     [articles]\ndir = \"/nonexistent\"\n\
     [feeds]\nitems = 5\nmax_title_chars = 40\nmax_summary_chars = 60\nmax_content_bytes = 2048\n\
     [[categories]]\nslug = \"pakistan\"\ntitle = \"Pakistan\"\nmatch = [\"National\"]\n\
     [[categories]]\nslug = \"world\"\ntitle = \"World\"\n",
];

static SITES: LazyLock<Vec<Site>> = LazyLock::new(|| {
    CONFIGS
        .iter()
        .map(|text| {
            let config = Config::from_str_with_env(text, Path::new("fuzz.toml"), Vec::new())
                .expect("fuzz config");
            let ctx = ParseContext::from_config(&config);
            Site {
                meta: ctx.metadata_only(),
                ctx,
                config: Arc::new(config),
            }
        })
        .collect()
});

pub fn site(index: usize) -> &'static Site {
    &SITES[index % SITES.len()]
}

/// The file's modification time (the date of an article that has none).
pub fn mtime() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

/// Article keys: format by column, folder by row (`world` names a feed in
/// both sites, `misc/Economy` a feed only through a match name).
const KEYS: [[&str; 3]; 3] = [
    ["a.txt", "a.md", "a.json"],
    ["world/a.txt", "world/a.md", "world/a.json"],
    [
        "Economy/misc/a.txt",
        "Economy/misc/a.md",
        "Economy/misc/a.json",
    ],
];

/// One fuzz input: the file's key (relative path), its bytes and the site.
pub struct Input<'a> {
    pub key: &'static str,
    pub bytes: &'a [u8],
    pub site: usize,
}

/// The first byte `b` picks the file: `b % 3` the format (.txt, .md,
/// .json), `b / 3 % 3` the folder (none, `world/`, `Economy/misc/`),
/// `b / 9 % 2` the site. The seeds' 0x00, 0x01, 0x02 are .txt, .md, .json
/// at the top of site 0.
pub fn split(data: &[u8]) -> Input<'_> {
    let (b, bytes) = match data.split_first() {
        Some((b, rest)) => (usize::from(*b), rest),
        None => (0, data),
    };
    Input {
        key: KEYS[b / 3 % 3][b % 3],
        bytes,
        site: b / 9 % 2,
    }
}

/// Characters XML 1.0 forbids, and the C0/C1 controls `decode` drops.
pub fn bad_char(c: char) -> bool {
    !(matches!(c, '\t' | '\n' | '\r')
        || (('\u{20}'..='\u{D7FF}').contains(&c) && !('\u{7F}'..='\u{9F}').contains(&c))
        || ('\u{E000}'..='\u{FFFD}').contains(&c)
        || c >= '\u{10000}')
}

/// A one-line text field: no forbidden character, no tab or line break,
/// no leading, trailing or doubled white space.
fn check_line(what: &str, s: &str) {
    if let Some(c) = s.chars().find(|&c| bad_char(c)) {
        panic!("{what} holds the forbidden character {c:?}: {s:?}");
    }
    assert_eq!(squash(s), s, "{what} is not squashed: {s:?}");
}

/// What every parsed article must be, whatever the file said.
pub fn check_article(a: &Article, key: &str, site: &Site) {
    use chrono::Datelike;
    let ctx = &site.ctx;
    assert_eq!(a.path, key, "path");
    let ext = key.rsplit_once('.').map(|(_, e)| e).unwrap_or_default();
    let format = match ext {
        "txt" => Format::Scraped,
        "md" => Format::Markdown,
        _ => Format::Json,
    };
    assert_eq!(a.format, format, "format of {key}");
    assert!(!a.title.is_empty(), "empty title");
    check_line("title", &a.title);
    assert!(
        a.title.chars().count() <= ctx.max_title_chars,
        "title over {} characters: {:?}",
        ctx.max_title_chars,
        a.title
    );
    if let Some(author) = &a.author {
        assert!(!author.is_empty(), "empty author");
        check_line("author", author);
    }
    check_line("summary", &a.summary);
    assert!(
        a.summary.chars().count() <= ctx.max_summary_chars,
        "summary over {} characters: {:?}",
        ctx.max_summary_chars,
        a.summary
    );
    for (what, list) in [("category", &a.categories), ("tag", &a.tags)] {
        for item in list.iter() {
            assert!(!item.is_empty(), "empty {what} in {list:?}");
            check_line(what, item);
        }
    }
    for (what, v) in [("id", &a.id), ("link", &a.link)] {
        if let Some(v) = v {
            assert!(!v.is_empty(), "empty {what}");
            check_line(what, v);
        }
    }
    if let Some(link) = &a.link {
        let url = url::Url::parse(link).unwrap_or_else(|e| panic!("link {link:?}: {e}"));
        assert!(matches!(url.scheme(), "http" | "https"), "link {link:?}");
    }
    if let Some(d) = &a.dateline {
        check_line("dateline city", &d.city);
        check_line("dateline agency", &d.agency);
        if let Some(s) = &d.source {
            check_line("dateline source", s);
        }
    }
    if let Some(c) = a.content_html.chars().find(|&c| bad_char(c)) {
        panic!("content_html holds the forbidden character {c:?}");
    }
    assert!(!a.content_html.trim().is_empty(), "empty body");
    for (what, at) in [("published", Some(a.published)), ("updated", a.updated)] {
        if let Some(at) = at {
            assert!(
                (1900..=9999).contains(&at.year()),
                "{what} {at} outside 1900-9999"
            );
        }
    }
    if let Some(updated) = a.updated {
        assert!(
            updated > a.published,
            "updated {updated} not after {}",
            a.published
        );
    }
    let mtime: chrono::DateTime<chrono::Utc> = mtime().into();
    assert_eq!(a.modified, mtime, "modified is not the file's mtime");
    assert_eq!(
        a.modified.offset().local_minus_utc(),
        mtime
            .with_timezone(&ctx.tz)
            .offset()
            .fix()
            .local_minus_utc(),
        "modified not in the site's zone"
    );
}

/// Runs of white space as one space, trimmed (tests/common/mod.rs).
pub fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A feed text as the text a reader shows: `text/html` decoded (entities
/// resolved, runs of white space as one), `text/plain` as it is
/// (tests/common/mod.rs).
pub fn shown_text(text: &feed_rs::model::Text) -> Result<String, String> {
    match text.content_type.to_string().as_str() {
        "text/html" => html_text(&text.content),
        "text/plain" => Ok(text.content.clone()),
        other => Err(format!("content type {other}")),
    }
}

/// HTML as the text it displays, after checking that the only markup in it
/// is what wirefeed writes around a plain-text body (`<p>`)
/// (tests/common/mod.rs).
pub fn html_text(html: &str) -> Result<String, String> {
    let inner = html.trim();
    let inner = match inner
        .strip_prefix("<p>")
        .and_then(|s| s.strip_suffix("</p>"))
    {
        Some(paragraph) => paragraph,
        None => inner,
    };
    if inner.contains('<') {
        return Err(format!("markup wirefeed did not write: {html:?}"));
    }
    quick_xml::escape::unescape_with(inner, quick_xml::escape::resolve_html5_entity)
        .map(|t| squash(&t))
        .map_err(|e| format!("{e}: {html:?}"))
}

/// When the feeds are rendered: after every date an article can have, so
/// none is held back as scheduled (`9999-12-31T23:00:00-05:00` is 10000 in
/// UTC).
pub fn now() -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::<chrono::Utc>::MAX_UTC
}

/// Runs a feed consumer; `None` when it hit feed-rs's known char-boundary
/// panic (any other panic is passed on).
pub fn consumer<T>(run: impl FnOnce() -> T + std::panic::UnwindSafe) -> Option<T> {
    thread_local!(static MESSAGE: std::cell::RefCell<String> = const { std::cell::RefCell::new(String::new()) });
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|info| {
        MESSAGE.with(|m| *m.borrow_mut() = info.to_string());
    }));
    let result = std::panic::catch_unwind(run);
    std::panic::set_hook(hook);
    match result {
        Ok(value) => Some(value),
        Err(panic) => {
            let known = MESSAGE.with(|m| {
                let m = m.borrow();
                m.contains("feed-rs") && m.contains("is not a char boundary")
            });
            if known {
                None
            } else {
                std::panic::resume_unwind(panic)
            }
        }
    }
}
