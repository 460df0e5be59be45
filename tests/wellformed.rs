//! The last gate before a feed is served or written: a feed document that
//! would not be well-formed (XML) or valid (JSON) is refused, in release
//! builds as in debug ones, naming the articles responsible; the daemon
//! then keeps the feed's previous version (it swaps in only what rendered),
//! and `build` and `check` report it. No parser lets such an article
//! through (their own tests show that), so these tests build one by hand.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use wirefeed::catalog::Catalog;
use wirefeed::catalog::StateStore;
use wirefeed::config::Config;
use wirefeed::model::Change;
use wirefeed::model::{Article, CategorySource, DateSource, Format};
use wirefeed::render;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
        .expect("date")
        .to_utc()
}

/// An article that reached the catalog with a character XML forbids (no
/// parser lets one through, but a library user can build any `Article`):
/// `build` and `check` name it, and the feeds without it are still written.
#[test]
fn the_article_that_breaks_a_feed_is_named() {
    let config = Config::from_str_with_env(
        "[site]\ntitle='Desk'\nbase_url='http://127.0.0.1:9/'\n\
         [[categories]]\nslug='world'\ntitle='World'\n[[categories]]\nslug='sports'\ntitle='Sports'\n",
        Path::new("t.toml"),
        Vec::new(),
    )
    .expect("config");
    let mut catalog = Catalog::new(Arc::new(config), StateStore::in_memory());
    let article = |path: &str, title: &str, category: &str| {
        let at = DateTime::parse_from_rfc3339("2024-05-14T14:10:00+05:00").expect("date");
        Change::Parsed(
            path.into(),
            Ok(Some(Box::new(Article {
                path: path.into(),
                format: Format::Scraped,
                title: title.into(),
                author: None,
                published: at,
                date_source: DateSource::Byline,
                updated: None,
                modified: at,
                categories: vec![category.into()],
                category_source: CategorySource::Page,
                tags: Vec::new(),
                summary: "Summary.".into(),
                content_html: "<p>Body.</p>".into(),
                link: None,
                id: None,
                dateline: None,
                image: None,
                enclosures: Vec::new(),
                lang: None,
                content_hash: path.len() as u64,
                warnings: Vec::new(),
            }))),
        )
    };
    catalog.apply(vec![
        article("world/bad.txt", "Broken \u{1b} title", "World"),
        article("sports/fine.txt", "A fine title", "Sports"),
    ]);
    catalog.cache_texts(now());
    let (written, rejected) = render::site_feeds(&catalog, now());
    let rejected_paths: Vec<&str> = rejected.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(
        rejected_paths,
        [
            "feeds/all.rss",
            "feeds/all.atom",
            "feeds/world.rss",
            "feeds/world.atom"
        ]
    );
    for r in &rejected {
        assert_eq!(r.articles, ["world/bad.txt"], "{}", r.path);
    }
    let written: Vec<&str> = written.iter().map(|(p, _)| p.as_str()).collect();
    assert!(written.contains(&"feeds/sports.rss") && written.contains(&"feeds/all.json"));
}
