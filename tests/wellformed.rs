//! The last gate before a feed is served: a feed document that is not
//! well-formed (XML) or valid (JSON) is never published, in release builds
//! as in debug ones; the previous version stays served, and the articles
//! responsible are named.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use wirefeed::article::{Article, CategorySource, DateSource, Format};
use wirefeed::catalog::{Catalog, Change};
use wirefeed::config::Config;
use wirefeed::render::{self, FeedFormat};
use wirefeed::snapshot::{Published, Resource};
use wirefeed::state::StateStore;

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
        .expect("date")
        .to_utc()
}

#[test]
fn an_ill_formed_feed_is_refused_and_the_previous_one_stays_served() {
    let published = Published::new();
    let good =
        b"<?xml version=\"1.0\"?><rss version=\"2.0\"><channel><title>A</title></channel></rss>";
    let rejected = published.update(
        vec![(
            "/feeds/all.rss".into(),
            Arc::new(Resource::feed(FeedFormat::Rss, good.to_vec(), None)),
        )],
        &|_| true,
        now(),
    );
    assert!(rejected.is_empty(), "{rejected:?}");

    for (format, path, bad) in [
        (
            FeedFormat::Rss,
            "/feeds/all.rss",
            &b"<rss><channel><title>A\x07</title></channel></rss>"[..],
        ),
        (FeedFormat::Rss, "/feeds/all.rss", b"<rss><channel></rss>"),
        (FeedFormat::Atom, "/feeds/all.atom", b"<feed>&nbsp;</feed>"),
        (FeedFormat::Json, "/feeds/all.json", b"{\"items\": [}"),
    ] {
        let rejected = published.update(
            vec![(
                path.into(),
                Arc::new(Resource::feed(format, bad.to_vec(), None)),
            )],
            &|_| true,
            now(),
        );
        assert_eq!(
            rejected.len(),
            1,
            "{format:?} {}",
            String::from_utf8_lossy(bad)
        );
        assert_eq!(rejected[0].0, path);
    }
    let site = published.load();
    assert_eq!(
        &site.resources["/feeds/all.rss"].identity()[..],
        good,
        "the previous one"
    );
    assert!(
        !site.resources.contains_key("/feeds/all.atom"),
        "never published"
    );
    assert!(
        !site.resources.contains_key("/feeds/all.json"),
        "never published"
    );
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
