//! Rendered feeds read back by an independent parser (feed-rs), and the
//! promises feeds make: dates, ids, categories, determinism.

mod common;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::{DateTime, Utc};
use wirefeed::catalog::StateStore;
use wirefeed::catalog::{self, Catalog};
use wirefeed::config::Config;
use wirefeed::parse::ParseContext;
use wirefeed::render::{self, FeedFormat};

const CONFIG: &str = r#"
[site]
title = "Test News"
base_url = "http://news.test"
timezone = "Asia/Karachi"

[articles]
dir = "ARTICLES"

[feeds]
items = 50

[[categories]]
slug = "world"
title = "World"
match = ["World", "International"]

[[categories]]
slug = "pakistan"
title = "Pakistan"

[[categories]]
slug = "business"
title = "Business"
match = ["Economy"]

[[categories]]
slug = "empty"
title = "Nothing Here"
"#;

const VALID: &[&str] = &[
    "seed_layout.txt",
    "noon.txt",
    "midnight.txt",
    "no_author.txt",
    "dateline_only.txt",
    "yaml_front.md",
    "toml_front.md",
    "draft.md",
    "date_only.md",
    "article.json",
    "content_key.json",
    "windows1252.txt",
    "control_chars.txt",
    "script.md",
    "nested/world/folder_category.txt",
    "hostile_text.txt",
    "hostile_front.md",
    "hostile.json",
    "empty.txt",
    "binary.txt",
];

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// A temp articles dir holding copies of `files` from tests/fixtures.
fn articles(files: &[&str]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().expect("tempdir");
    for f in files {
        let to = dir.path().join(f);
        std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
        std::fs::copy(fixture_dir().join(f), &to).expect("copy");
    }
    dir
}

fn config(dir: &Path) -> Arc<Config> {
    let text = CONFIG.replace("ARTICLES", &dir.display().to_string());
    Arc::new(Config::from_str_with_env(&text, Path::new("test.toml"), Vec::new()).expect("config"))
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .expect("date")
        .to_utc()
}

fn feed_bytes(catalog: &Catalog, slug: &str, format: FeedFormat) -> Vec<u8> {
    let index = catalog
        .feeds()
        .iter()
        .position(|f| f.slug == slug)
        .expect("feed exists");
    render::feed_files(catalog, index, now(), &render::ItemCache::default())
        .files
        .into_iter()
        .find(|(_, f, _)| *f == format)
        .map(|(_, _, b)| b.expect("well-formed"))
        .expect("format rendered")
}

#[test]
fn every_feed_round_trips_through_feed_rs() {
    let dir = articles(VALID);
    let catalog = catalog::load(config(dir.path()), StateStore::in_memory());
    let ctx = ParseContext::from_config(catalog.config());
    assert_eq!(
        catalog.len(),
        17,
        "18 valid files minus one draft; problems: {:?}",
        catalog.problems()
    );
    let entries: HashMap<String, _> = catalog
        .entries()
        .map(|e| (e.guid.to_string(), e.clone()))
        .collect();
    for feed in catalog.feeds() {
        for format in FeedFormat::ALL {
            let bytes = feed_bytes(&catalog, &feed.slug, format);
            let parsed = feed_rs::parser::parse(&bytes[..]).unwrap_or_else(|e| {
                panic!(
                    "{}.{}: feed-rs rejects it: {e}",
                    feed.slug,
                    format.extension()
                )
            });
            let items = catalog.items(
                catalog
                    .feeds()
                    .iter()
                    .position(|f| f.slug == feed.slug)
                    .expect("i"),
                now(),
            );
            assert_eq!(
                parsed.entries.len(),
                items.len(),
                "{}.{}",
                feed.slug,
                format.extension()
            );
            for (got, want) in parsed.entries.iter().zip(items.iter()) {
                let entry = entries
                    .get(&got.id)
                    .unwrap_or_else(|| panic!("unknown id {}", got.id));
                assert_eq!(entry.guid, want.guid, "feed order is catalog order");
                // Titles and summaries are not kept for the whole archive:
                // the catalog reads them back for the items shown, and they
                // must be the article's own.
                let own = catalog::read_article(dir.path(), &dir.path().join(&*entry.path), &ctx)
                    .expect("parses")
                    .expect("published");
                let title = got.title.as_ref().map(common::shown_text);
                assert_eq!(title, Some(Ok(own.title.clone())), "{}", entry.path);
                let summary = got.summary.as_ref().map(common::shown_text);
                let want_summary = own.summary;
                assert_eq!(summary, Some(Ok(want_summary)), "{}", entry.path);
                assert_eq!(
                    got.published,
                    Some(entry.published.to_utc()),
                    "{}",
                    entry.path
                );
                let body = got
                    .content
                    .as_ref()
                    .and_then(|c| c.body.clone())
                    .unwrap_or_default();
                assert!(
                    body.contains("<p>"),
                    "{}: full content: {body:?}",
                    entry.path
                );
            }
        }
    }
}

#[test]
fn newest_first_and_categories_resolve_in_order() {
    let dir = articles(VALID);
    let catalog = catalog::load(config(dir.path()), StateStore::in_memory());
    let all = catalog.items(0, now());
    for pair in all.windows(2) {
        assert!(pair[0].published >= pair[1].published, "newest first");
    }
    let slugs = |path: &str| -> Vec<String> {
        let e = catalog
            .by_path(path)
            .unwrap_or_else(|| panic!("{path} missing"));
        e.feed_indexes()
            .map(|i| catalog.feeds()[i].slug.clone())
            .collect()
    };
    assert_eq!(
        slugs("seed_layout.txt"),
        vec!["all", "pakistan"],
        "from the page chrome"
    );
    assert_eq!(
        slugs("yaml_front.md"),
        vec!["all", "business"],
        "Business and Economy: one feed"
    );
    assert_eq!(
        slugs("nested/world/folder_category.txt"),
        vec!["all", "world"],
        "from the folder"
    );
    assert_eq!(
        slugs("midnight.txt"),
        vec!["all"],
        "no category: only in all"
    );
    let problems = catalog.problems();
    assert!(
        problems
            .iter()
            .any(|p| p.path == "toml_front.md" && p.reason.contains("Technology")),
        "unknown categories are reported: {problems:?}"
    );
    assert!(problems
        .iter()
        .any(|p| p.path == "empty.txt" && p.reason == "empty file"));
    assert!(problems.iter().any(|p| p.path == "binary.txt"));
}

#[test]
fn same_articles_render_to_the_same_bytes() {
    let dir = articles(VALID);
    let a = catalog::load(config(dir.path()), StateStore::in_memory());
    let b = catalog::load(config(dir.path()), StateStore::in_memory());
    for feed in a.feeds() {
        for format in FeedFormat::ALL {
            assert_eq!(
                feed_bytes(&a, &feed.slug, format),
                feed_bytes(&b, &feed.slug, format),
                "{}",
                feed.slug
            );
        }
    }
}

/// Feed `index` as the daemon renders it (items spliced from `cache`) and
/// as the format crates write it whole, for every format.
fn spliced_and_whole(
    catalog: &Catalog,
    index: usize,
    cache: &render::ItemCache,
) -> Vec<(FeedFormat, Vec<u8>, Vec<u8>)> {
    let items = cache.feed_items(catalog, index, now());
    // Cut out of the crates' output, not rendered whole as a fallback.
    for item in &items {
        for format in FeedFormat::ALL {
            assert!(
                matches!(item.fragment(format), render::Fragment::Checked(_)),
                "{}: no {format:?} fragment",
                item.entry.path
            );
        }
    }
    let doc = render::FeedDoc {
        config: catalog.config(),
        info: &catalog.feeds()[index],
        items: &items,
        empty_date: render::empty_feed_date(),
        history: render::History::default(),
    };
    FeedFormat::ALL
        .iter()
        .map(|&f| (f, doc.render(f).expect("well-formed"), doc.render_whole(f)))
        .collect()
}

#[test]
fn spliced_items_make_the_same_bytes_as_whole_documents() {
    // Every fixture shape (no author, scripts, control characters, Windows-1252,
    // an empty feed) in every feed and format.
    let dir = articles(VALID);
    let catalog = catalog::load(config(dir.path()), StateStore::in_memory());
    let mut cache = render::ItemCache::default();
    let all = (0..catalog.feeds().len()).collect();
    cache.refresh(&catalog, &all, now());
    assert!(!cache.is_empty());
    for index in all {
        for (format, spliced, whole) in spliced_and_whole(&catalog, index, &cache) {
            assert_eq!(
                String::from_utf8_lossy(&spliced),
                String::from_utf8_lossy(&whole),
                "{} {format:?}",
                catalog.feeds()[index].slug
            );
        }
    }
}

#[test]
fn a_changed_article_is_rendered_again_and_the_others_are_reused() {
    let dir = articles(VALID);
    let mut catalog = catalog::load(config(dir.path()), StateStore::in_memory());
    let mut cache = render::ItemCache::default();
    let all: std::collections::BTreeSet<usize> = (0..catalog.feeds().len()).collect();
    cache.refresh(&catalog, &all, now());
    let before = cache.feed_items(&catalog, 0, now());
    let rss = feed_bytes_from(&catalog, &cache, FeedFormat::Rss);
    assert!(rss.contains("<title>Markdown With TOML</title>"), "{rss}");

    // Retitle one article, as an editor saving it would.
    let path = dir.path().join("toml_front.md");
    let text = std::fs::read_to_string(&path).expect("read");
    std::fs::write(
        &path,
        text.replace("Markdown With TOML", "Retitled In Place"),
    )
    .expect("write");
    let ctx = catalog.parse_context().clone();
    catalog.apply(vec![catalog::read_change(dir.path(), &path, &ctx)]);
    catalog.cache_texts(now());
    cache.refresh(&catalog, &all, now());

    for format in FeedFormat::ALL {
        let out = feed_bytes_from(&catalog, &cache, format);
        assert!(out.contains("Retitled In Place"), "{format:?}: {out}");
        assert!(
            !out.contains("Markdown With TOML"),
            "{format:?}: stale item"
        );
    }
    let after = cache.feed_items(&catalog, 0, now());
    assert_eq!(before.len(), after.len());
    for old in &before {
        let new = after
            .iter()
            .find(|i| i.entry.path == old.entry.path)
            .expect("still shown");
        assert_eq!(
            std::sync::Arc::ptr_eq(old, new),
            &*old.entry.path != "toml_front.md",
            "{}: only the edited article is rendered again",
            old.entry.path
        );
    }
    for (format, spliced, whole) in spliced_and_whole(&catalog, 0, &cache) {
        assert_eq!(spliced, whole, "{format:?}");
    }
}

fn feed_bytes_from(catalog: &Catalog, cache: &render::ItemCache, format: FeedFormat) -> String {
    let files = render::feed_files(catalog, 0, now(), cache).files;
    let (_, _, bytes) = files
        .into_iter()
        .find(|(_, f, _)| *f == format)
        .expect("format rendered");
    String::from_utf8(bytes.expect("well-formed")).expect("utf-8")
}

#[test]
fn feed_dates_come_from_items_not_the_clock() {
    let dir = articles(&["seed_layout.txt", "noon.txt"]);
    let catalog = catalog::load(config(dir.path()), StateStore::in_memory());
    let rss = String::from_utf8(feed_bytes(&catalog, "all", FeedFormat::Rss)).expect("utf8");
    assert!(
        rss.contains("<lastBuildDate>Sat, 1 Jun 2024 12:05:00 +0500</lastBuildDate>"),
        "{rss}"
    );
    let atom = String::from_utf8(feed_bytes(&catalog, "pakistan", FeedFormat::Atom)).expect("utf8");
    assert!(
        atom.contains("<updated>2024-03-03T21:45:00+05:00</updated>"),
        "{atom}"
    );
    let empty = String::from_utf8(feed_bytes(&catalog, "empty", FeedFormat::Atom)).expect("utf8");
    assert!(
        empty.contains("<updated>2024-06-01T12:05:00+05:00</updated>"),
        "an empty feed takes the site's newest date: {empty}"
    );
    assert!(feed_rs::parser::parse(empty.as_bytes()).is_ok());
}

#[test]
fn guids_are_stable_across_directories_and_unique() {
    let one = articles(VALID);
    let two = articles(VALID);
    let a = catalog::load(config(one.path()), StateStore::in_memory());
    let b = catalog::load(config(two.path()), StateStore::in_memory());
    let mut guids: Vec<String> = a.entries().map(|e| e.guid.to_string()).collect();
    for e in a.entries() {
        assert_eq!(
            b.by_path(&e.path).map(|x| x.guid.clone()),
            Some(e.guid.clone())
        );
    }
    guids.sort();
    guids.dedup();
    assert_eq!(guids.len(), a.len(), "no two articles share a GUID");
    let json = a.by_path("article.json").expect("json article");
    assert_eq!(
        json.guid.to_string(),
        "https://example.com/news/json-story",
        "own url is the GUID"
    );
    assert_eq!(
        json.link(a.config(), &a.text(json)),
        "https://example.com/news/json-story"
    );
    let seed = a.by_path("seed_layout.txt").expect("seed");
    assert_eq!(
        seed.link(a.config(), &a.text(seed)),
        format!("http://news.test/articles/{}.html", seed.id())
    );
}

#[test]
fn scheduled_articles_wait_for_their_time() {
    let dir = articles(&["noon.txt"]);
    let catalog = catalog::load(config(dir.path()), StateStore::in_memory());
    let before = DateTime::parse_from_rfc3339("2024-06-01T07:04:00Z")
        .expect("d")
        .to_utc();
    let after = DateTime::parse_from_rfc3339("2024-06-01T07:05:00Z")
        .expect("d")
        .to_utc();
    assert!(catalog.items(0, before).is_empty());
    assert_eq!(catalog.items(0, after).len(), 1);
    assert_eq!(catalog.next_scheduled(before), Some(after));
}

#[test]
fn hostile_text_stays_well_formed_xml() {
    let dir = articles(&["control_chars.txt", "script.md", "windows1252.txt"]);
    let catalog = catalog::load(config(dir.path()), StateStore::in_memory());
    for format in [FeedFormat::Rss, FeedFormat::Atom] {
        let bytes = feed_bytes(&catalog, "all", format);
        render::check_xml(&bytes).unwrap_or_else(|e| panic!("{format:?}: {e}"));
        let text = String::from_utf8(bytes).expect("utf8");
        assert!(!text.contains('\u{1b}') && !text.contains('\u{0}'));
    }
    let json = feed_bytes(&catalog, "all", FeedFormat::Json);
    let value: serde_json::Value = serde_json::from_slice(&json).expect("JSON Feed parses");
    assert_eq!(value["version"], "https://jsonfeed.org/version/1.1");
}

/// Before 1907 Karachi kept local mean time, +04:28:12: feeds cannot write
/// offsets with seconds, and every format must still name the instant the
/// article was published (found by the render_feed fuzz target).
#[test]
fn a_date_in_local_mean_time_is_the_same_instant_in_every_format() {
    let dir = articles(&[]);
    let config = config(dir.path());
    let ctx = ParseContext::from_config(&config);
    let page = "Old Harbour Opens\nPublished June 1, 1901 | 10:00 AM\nThe harbour opened.\n";
    let mtime = std::time::SystemTime::UNIX_EPOCH;
    let article = wirefeed::parse::parse_bytes("world/a.txt", page.as_bytes(), mtime, &ctx)
        .expect("parses")
        .expect("article");
    let mut catalog = Catalog::new(config, StateStore::in_memory());
    catalog.apply(vec![wirefeed::model::Change::Parsed(
        "world/a.txt".into(),
        Ok(Some(Box::new(article))),
    )]);
    catalog.cache_texts(now());
    let want = DateTime::parse_from_rfc3339("1901-06-01T05:31:48Z").expect("date");
    for (path, _, body) in
        render::feed_files(&catalog, 0, now(), &render::ItemCache::default()).files
    {
        let feed = common::parse_feed(&path, &body.expect("well-formed"));
        assert_eq!(feed.entries[0].published, Some(want.to_utc()), "{path}");
    }
}

#[test]
fn a_date_with_a_fraction_of_a_second_is_the_same_instant_in_every_format() {
    let dir = articles(&[]);
    let config = config(dir.path());
    let ctx = ParseContext::from_config(&config);
    // RSS dates have whole seconds: every format drops the fraction.
    let page = "---\ntitle: Harbour Opens\ndate: 2024-05-26T12:00:00.25-05:00\nupdated: 2024-05-26T13:00:00.75-05:00\n---\nThe harbour opened.\n";
    let mtime = std::time::SystemTime::UNIX_EPOCH;
    let article = wirefeed::parse::parse_bytes("world/a.md", page.as_bytes(), mtime, &ctx)
        .expect("parses")
        .expect("article");
    let mut catalog = Catalog::new(config, StateStore::in_memory());
    catalog.apply(vec![wirefeed::model::Change::Parsed(
        "world/a.md".into(),
        Ok(Some(Box::new(article))),
    )]);
    catalog.cache_texts(now());
    let want = DateTime::parse_from_rfc3339("2024-05-26T17:00:00Z").expect("date");
    let updated = DateTime::parse_from_rfc3339("2024-05-26T18:00:00Z").expect("date");
    for (path, _, body) in
        render::feed_files(&catalog, 0, now(), &render::ItemCache::default()).files
    {
        let feed = common::parse_feed(&path, &body.expect("well-formed"));
        assert_eq!(feed.entries[0].published, Some(want.to_utc()), "{path}");
        if !path.ends_with(".rss") {
            assert_eq!(feed.entries[0].updated, Some(updated.to_utc()), "{path}");
        }
    }
}
