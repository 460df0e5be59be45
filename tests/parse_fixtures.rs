//! Every fixture under tests/fixtures/ parsed as a user would see it.

use std::path::{Path, PathBuf};

use wirefeed::catalog;
use wirefeed::config::Config;
use wirefeed::model::Reason;
use wirefeed::model::{Article, CategorySource, DateSource};
use wirefeed::parse::{self, ParseContext};

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

fn ctx(tz: &str) -> ParseContext {
    let text =
        format!("[site]\ntitle = \"T\"\nbase_url = \"http://news.test\"\ntimezone = \"{tz}\"\n");
    ParseContext::from_config(
        &Config::from_str_with_env(&text, Path::new("t.toml"), Vec::new()).expect("config"),
    )
}

fn parse_in(name: &str, tz: &str) -> Result<Option<Article>, Reason> {
    catalog::read_article(&fixtures(), &fixtures().join(name), &ctx(tz)).map_err(|e| e.reason)
}

fn article(name: &str) -> Article {
    parse_in(name, "Asia/Karachi")
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .unwrap_or_else(|| panic!("{name}: unexpectedly a draft"))
}

const CHROME: &[&str] = &["Recent Stories", "More Stories From", "minutes ago"];

fn assert_no_chrome(a: &Article) {
    for marker in CHROME {
        assert!(
            !a.content_html.contains(marker),
            "{}: chrome {marker:?} in content",
            a.path
        );
        assert!(
            !a.summary.contains(marker),
            "{}: chrome {marker:?} in summary",
            a.path
        );
    }
}

#[test]
fn seed_layout_every_field() {
    let a = article("seed_layout.txt");
    assert_eq!(
        a.title,
        "Lahore Metro Extends Evening Service Hours Ahead of Ramadan"
    );
    assert_eq!(a.author.as_deref(), Some("Sara Qureshi"));
    assert_eq!(a.published.to_rfc2822(), "Sun, 3 Mar 2024 21:45:00 +0500");
    assert_eq!(a.date_source, DateSource::Byline);
    assert_eq!(a.categories, vec!["Pakistan"]);
    assert_eq!(a.category_source, CategorySource::Page);
    let d = a.dateline.as_ref().expect("dateline");
    assert_eq!(d.city, "Lahore");
    assert_eq!(d.agency, "APP");
    assert_eq!(d.source.as_deref(), Some("UrduPoint / Pakistan Point News"));
    assert_eq!(
        a.content_html.matches("<p>").count(),
        4,
        "{}",
        a.content_html
    );
    assert!(
        !a.summary.contains("(APP"),
        "dateline stripped from summary: {}",
        a.summary
    );
    assert!(
        !a.content_html.contains("Lahore, (APP"),
        "dateline stripped from body"
    );
    assert_no_chrome(&a);
}

#[test]
fn twelve_pm_is_noon_and_twelve_am_is_after_midnight() {
    let noon = article("noon.txt");
    assert_eq!(noon.published.to_rfc3339(), "2024-06-01T12:05:00+05:00");
    assert_eq!(noon.categories, vec!["Business"]);
    assert_no_chrome(&noon);
    let midnight = article("midnight.txt");
    assert_eq!(midnight.published.to_rfc3339(), "2024-06-01T00:30:00+05:00");
}

#[test]
fn byline_without_author() {
    let a = article("no_author.txt");
    assert_eq!(a.author, None);
    assert_eq!(a.published.to_rfc3339(), "2024-07-09T07:00:00+05:00");
}

#[test]
fn dateline_only_gives_a_date_at_local_midnight() {
    let a = article("dateline_only.txt");
    assert_eq!(a.title, "Karachi Port Handles Record Container Volume");
    assert_eq!(a.date_source, DateSource::Dateline);
    assert_eq!(a.published.to_rfc3339(), "2024-08-21T00:00:00+05:00");
    assert_eq!(
        a.dateline.as_ref().map(|d| d.city.as_str()),
        Some("Karachi")
    );
    assert_eq!(a.category_source, CategorySource::None);
}

#[test]
fn yaml_front_matter() {
    let a = article("yaml_front.md");
    assert_eq!(a.title, "Markdown With YAML");
    assert_eq!(a.author.as_deref(), Some("Nadia Khan"));
    assert_eq!(a.published.to_rfc3339(), "2024-05-20T08:30:00+05:00");
    assert_eq!(a.date_source, DateSource::FrontMatter);
    assert_eq!(a.categories, vec!["Business", "Economy"]);
    assert_eq!(a.tags, vec!["markets"]);
    assert_eq!(a.summary, "A short summary.");
    assert!(a.content_html.contains("<strong>"), "{}", a.content_html);
    assert!(a.content_html.contains("<li>"), "{}", a.content_html);
}

#[test]
fn toml_front_matter_with_taxonomies() {
    let a = article("toml_front.md");
    assert_eq!(a.title, "Markdown With TOML");
    assert_eq!(a.author.as_deref(), Some("Imran Ali"));
    assert_eq!(a.published.to_rfc3339(), "2024-05-21T10:00:00+05:00");
    assert_eq!(a.id.as_deref(), Some("toml-story-1"));
    assert_eq!(a.categories, vec!["Technology"]);
}

#[test]
fn drafts_are_not_articles() {
    assert!(matches!(parse_in("draft.md", "Asia/Karachi"), Ok(None)));
}

#[test]
fn date_only_front_matter() {
    let a = article("date_only.md");
    assert_eq!(a.published.to_rfc3339(), "2024-05-23T00:00:00+05:00");
    assert_eq!(a.categories, vec!["World"]);
}

#[test]
fn json_articles() {
    let a = article("article.json");
    assert_eq!(a.title, "JSON Story");
    assert_eq!(a.author.as_deref(), Some("Hina Shah"));
    assert_eq!(a.published.to_rfc3339(), "2024-05-24T16:45:00+05:00");
    assert_eq!(a.categories, vec!["Sports"]);
    assert_eq!(
        a.link.as_deref(),
        Some("https://example.com/news/json-story")
    );
    assert_eq!(a.tags, vec!["cricket"]);
    assert_eq!(a.content_html.matches("<p>").count(), 2);
    let b = article("content_key.json");
    assert_eq!(b.published.to_rfc3339(), "2024-05-25T09:00:00+00:00");
    assert_eq!(b.id.as_deref(), Some("json-2"));
    assert!(b.content_html.contains("<p>"));
}

#[test]
fn windows_1252_is_decoded() {
    let a = article("windows1252.txt");
    assert_eq!(a.title, "Minister\u{2019}s Visit Ends With Trade Pledges");
    assert!(a.content_html.contains('\u{201c}') && a.content_html.contains('\u{2014}'));
    assert!(a.content_html.contains("café"));
    assert!(!a.content_html.contains('\u{fffd}'));
    assert!(a.warnings.iter().any(|w| w.contains("Windows-1252")));
}

#[test]
fn control_characters_and_markup_cannot_break_xml() {
    let a = article("control_chars.txt");
    assert_eq!(a.title, "City Council Approves Parking Budget");
    for c in a
        .title
        .chars()
        .chain(a.content_html.chars())
        .chain(a.summary.chars())
    {
        assert!(
            !c.is_control() || c == '\n' || c == '\t',
            "control char {c:?} kept"
        );
    }
    assert!(!a.content_html.contains("<script>"), "{}", a.content_html);
    assert!(
        a.content_html.contains("&lt;script&gt;"),
        "text is escaped, not dropped"
    );
    assert!(a.warnings.iter().any(|w| w.contains("control character")));
}

#[test]
fn markdown_html_is_sanitized() {
    let a = article("script.md");
    let html = &a.content_html;
    assert!(!html.contains("<script"), "{html}");
    assert!(!html.contains("onerror"), "{html}");
    assert!(!html.contains("javascript:"), "{html}");
    assert!(html.contains("click"), "link text kept: {html}");
    assert!(
        html.contains("src=\"http://news.test/x.png\""),
        "relative URL made absolute: {html}"
    );
}

#[test]
fn dst_gap_and_repeat_in_new_york() {
    let gap = parse_in("dst_gap.md", "America/New_York")
        .expect("ok")
        .expect("article");
    assert_eq!(gap.published.to_rfc3339(), "2024-03-10T03:30:00-04:00");
    let repeat = parse_in("dst_repeat.md", "America/New_York")
        .expect("ok")
        .expect("article");
    assert_eq!(repeat.published.to_rfc3339(), "2024-11-03T01:30:00-04:00");
}

#[test]
fn folder_gives_the_category_when_the_page_does_not() {
    let a = article("nested/world/folder_category.txt");
    assert_eq!(a.category_source, CategorySource::Folder);
    assert_eq!(a.categories.first().map(String::as_str), Some("world"));
    assert_eq!(a.path, "nested/world/folder_category.txt");
}

#[test]
fn bad_files_are_rejected_with_a_reason() {
    let cases: &[(&str, &str)] = &[
        ("empty.txt", "empty file"),
        ("whitespace.txt", "empty file"),
        ("binary.txt", "binary"),
        ("impossible_date.txt", "impossible date"),
        ("impossible_time.txt", "impossible time"),
        ("broken_front.md", "front matter"),
        ("no_title.json", "no title"),
    ];
    for (name, want) in cases {
        let err = catalog::read_article(&fixtures(), &fixtures().join(name), &ctx("Asia/Karachi"))
            .expect_err(name);
        let msg = err.to_string();
        assert!(msg.contains(name), "error names the file: {msg}");
        assert!(msg.contains(want), "{name}: {msg}");
    }
}

#[test]
fn swap_and_temp_files_are_skipped_by_the_scan() {
    let found: Vec<String> = wirefeed::source::list_articles(&fixtures())
        .iter()
        .map(|p| wirefeed::source::relative_key(&fixtures(), p))
        .collect();
    for ignored in [
        ".hidden.txt",
        "seed_layout.txt.swp",
        "notes.txt~",
        "upload.tmp",
        "big.part",
        ".#lock.txt",
    ] {
        assert!(!found.iter().any(|f| f == ignored), "{ignored} listed");
    }
    assert!(found
        .iter()
        .any(|f| f == "nested/world/folder_category.txt"));
}

#[test]
fn oversized_files_are_refused_before_reading() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("huge.txt");
    std::fs::write(&path, "Title\nBody line.\n".repeat(10)).expect("write");
    let mut c = ctx("UTC");
    c.max_file_bytes = 64;
    let err = catalog::read_article(dir.path(), &path, &c).expect_err("too large");
    assert!(err.to_string().contains("over the 64-byte limit"), "{err}");
}

/// A full scan parses with [`ParseContext::metadata_only`] and reads the
/// texts of shown items back later: for every fixture it must decide
/// exactly as a full parse does (article or not, and why) and find the same
/// metadata, warnings included.
#[test]
fn a_metadata_only_parse_decides_and_finds_what_a_full_parse_does() {
    let full = ctx("Asia/Karachi");
    let scan = full.metadata_only();
    let mut checked = 0;
    for entry in walkdir::WalkDir::new(fixtures()) {
        let path = entry.expect("walk fixtures").into_path();
        if !path.is_file() {
            continue;
        }
        let parse = |c: &ParseContext| match catalog::read_article(&fixtures(), &path, c) {
            Ok(Some(mut a)) => {
                let text = a.take_text();
                let meta = serde_json::to_value(&a).expect("serialize");
                Ok(Some((meta, text.summary)))
            }
            Ok(None) => Ok(None),
            Err(e) => Err(e.reason.to_string()),
        };
        let (f, s) = (parse(&full), parse(&scan));
        match (&f, &s) {
            (Ok(Some((fm, summary))), Ok(Some((sm, _)))) => {
                assert_eq!(fm, sm, "{}", path.display());
                assert!(
                    !summary.is_empty(),
                    "{}: full parse has a summary",
                    path.display()
                );
            }
            _ => assert_eq!(
                f.as_ref().map(|o| o.is_some()),
                s.as_ref().map(|o| o.is_some()),
                "{}",
                path.display()
            ),
        }
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} fixtures");
}

/// Bodies at the edges of "is there a body" (the metadata-only parse skips
/// the sanitizer for plain Markdown): same verdict, same warnings.
#[test]
fn a_metadata_only_parse_agrees_on_edge_case_bodies() {
    let full = ctx("UTC");
    let scan = full.metadata_only();
    let front = "---\ntitle: Edge\ndate: 2024-05-14T10:00:00Z\n---\n";
    let bodies = [
        "Plain words.",
        "<script>alert(1)</script>",
        "<style>p{}</style>\n\n",
        "[ref]: https://example.com/only-a-link-definition",
        "---",
        "![](figure.png)",
        "<!-- only a comment -->",
        "[click](javascript:alert(1))",
        "&nbsp;",
        "Text with a NUL \u{0} inside.",
    ];
    let mtime = std::time::SystemTime::UNIX_EPOCH;
    let verdict = |key: &str, bytes: &[u8], c: &ParseContext| {
        parse::parse_bytes(key, bytes, mtime, c).map(|o| {
            o.map(|mut a| {
                a.take_text();
                serde_json::to_value(&a).expect("serialize")
            })
        })
    };
    for body in bodies {
        let md = format!("{front}{body}\n");
        let json =
            serde_json::json!({"title": "Edge", "published": "2024-05-14T10:00:00Z", "body": body})
                .to_string();
        // The metadata-only parse of a scraped page escapes only its first
        // paragraph: what a later one holds must not change the verdict.
        let txt = format!("Edge\nFirst paragraph.\n{body}\n");
        // A dateline that is a whole line: the body starts at the next one
        // (or there is none).
        let dateline = format!("Edge\nLahore, (APP - 2nd June, 2024)\n{body}\n");
        for (key, bytes) in [
            ("e.md", md.as_bytes()),
            ("e.json", json.as_bytes()),
            ("e.txt", txt.as_bytes()),
            ("e.txt", dateline.as_bytes()),
            (
                "e.txt",
                b"Edge\nLahore, (APP - 2nd June, 2024)\n".as_slice(),
            ),
        ] {
            let (f, s) = (verdict(key, bytes, &full), verdict(key, bytes, &scan));
            assert_eq!(
                f.as_ref().map_err(ToString::to_string),
                s.as_ref().map_err(ToString::to_string),
                "{key} with body {body:?}"
            );
        }
    }
}
