//! The HTTP conveniences feed readers, browsers and caches expect, over
//! real HTTP against the daemon: CORS (and the `OPTIONS` preflight),
//! `Cache-Control` with the configured stale windows, `Surrogate-Key` purge
//! tags, HEAD and conditional GET on the pages, the category page aliases,
//! and `/media/` files with byte ranges and no way out of `media.dir`.

mod common;

use std::fs;

use common::*;

/// `[server]` cache settings the test config sets.
const MAX_AGE: &str = "max-age=120";
const STALE_WHILE_REVALIDATE: &str = "stale-while-revalidate=30";
const STALE_IF_ERROR: &str = "stale-if-error=600";

/// The media file every test daemon serves: `media/podcasts/ep1.mp3`.
const EPISODE: &str = "/media/podcasts/ep1.mp3";
const EPISODE_BYTES: usize = 10_000;

const TITLE: &str = "Harbour Authority Opens New Ferry Terminal";

/// A daemon with the default categories, the test's `[server]` cache
/// settings and `media.dir` (holding [`EPISODE`]), serving one world
/// article; returns it with the article page's path (`/articles/{id}`).
fn start() -> (Daemon, String) {
    let site = Site::new();
    let media = site.root().join("media");
    fs::create_dir_all(media.join("podcasts")).expect("mkdir media");
    fs::write(media.join("podcasts/ep1.mp3"), episode()).expect("write episode");
    let config = site.config_text().replacen(
        "[server]\n",
        "[server]\ncache_max_age = 120\nstale_while_revalidate = 30\nstale_if_error = 600\n",
        1,
    ) + &format!("\n[media]\ndir = '{}'\n", media.display());
    site.write_raw_config(&config);
    let d = Daemon::start_site(site);
    d.write_article("world/ferry.txt", &story(TITLE, "World", "ferry"));
    let rss = d.wait_feed("/feeds/world.rss", "listed the article", |b| {
        b.contains(TITLE)
    });
    let link = rss_items_titled(&rss, TITLE).remove(0).link;
    let page = link[link.find("/articles/").expect("article link")..].to_string();
    let page = page.strip_suffix(".html").unwrap_or(&page).to_string();
    (d, page)
}

fn episode() -> Vec<u8> {
    pseudo_random_bytes(7, EPISODE_BYTES)
}

fn assert_cors(r: &Resp, what: &str) {
    assert_eq!(
        r.header("access-control-allow-origin"),
        Some("*"),
        "{what}: {:?}",
        r.headers
    );
    let exposed = r
        .header("access-control-expose-headers")
        .unwrap_or_default()
        .to_ascii_lowercase();
    for name in ["etag", "last-modified", "link"] {
        assert!(exposed.contains(name), "{what}: exposes {exposed:?}");
    }
}

fn assert_cache_control(r: &Resp, what: &str) {
    let cc = r.header("cache-control").unwrap_or_default();
    for part in ["public", MAX_AGE, STALE_WHILE_REVALIDATE, STALE_IF_ERROR] {
        assert!(
            cc.contains(part),
            "{what}: Cache-Control {cc:?} lacks {part}"
        );
    }
}

#[test]
fn feeds_opml_json_and_pages_may_be_read_from_any_origin() {
    let (d, page) = start();
    for path in [
        "/feeds/world.rss",
        "/feeds/all.atom",
        "/feeds/world.json",
        "/feeds.opml",
        "/",
        &format!("{page}.html"),
    ] {
        let r = d.get(path);
        assert_eq!(r.status, 200, "{path}");
        assert_cors(&r, path);
        let etag = r.header("etag").expect("an ETag").to_string();
        let again = d.get_with(path, &[("If-None-Match", &etag)]);
        assert_eq!(again.status, 304, "{path}");
        assert_cors(&again, &format!("{path} (304)"));
    }
    assert_cors(&d.get("/feeds/nope.rss"), "a 404");
    // Operations endpoints are not for browsers.
    let metrics = d.get("/metrics");
    assert_eq!(metrics.header("access-control-allow-origin"), None);
}

#[test]
fn options_answers_a_preflight_and_other_methods_stay_405() {
    let (d, _) = start();
    let preflight = d.request(
        "OPTIONS",
        "/feeds/world.json",
        &[
            ("Origin", "https://reader.example"),
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "if-none-match"),
        ],
    );
    assert_eq!(preflight.status, 204);
    assert!(preflight.body.is_empty());
    assert_eq!(preflight.header("allow"), Some("GET, HEAD, OPTIONS"));
    assert_eq!(
        preflight.header("access-control-allow-methods"),
        Some("GET, HEAD, OPTIONS")
    );
    assert_eq!(
        preflight.header("access-control-allow-headers"),
        Some("if-none-match")
    );
    assert_eq!(preflight.header("access-control-max-age"), Some("86400"));
    assert_eq!(preflight.header("access-control-allow-origin"), Some("*"));

    // A header not accepted: the accepted list, which the browser checks.
    let refused = d.request(
        "OPTIONS",
        "/feeds/world.json",
        &[
            ("Origin", "https://reader.example"),
            ("Access-Control-Request-Method", "GET"),
            ("Access-Control-Request-Headers", "x-secret"),
        ],
    );
    assert_eq!(refused.status, 204);
    assert_eq!(
        refused.header("access-control-allow-headers"),
        Some("If-None-Match, If-Modified-Since, Cache-Control")
    );

    let plain = d.request("OPTIONS", "/", &[]);
    assert_eq!(plain.status, 204);
    assert_eq!(plain.header("allow"), Some("GET, HEAD, OPTIONS"));

    for method in ["POST", "PUT", "DELETE"] {
        let r = d.request(method, "/feeds/world.rss", &[]);
        assert_eq!(r.status, 405, "{method}");
        assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"), "{method}");
    }
}

#[test]
fn cache_control_and_surrogate_keys() {
    let (d, page) = start();
    let id = page.trim_start_matches("/articles/").to_string();
    let article_key = format!("articles article-{id}");
    let html = format!("{page}.html");
    for (path, key) in [
        ("/feeds/world.rss", "world"),
        ("/feeds/world.atom", "world"),
        ("/feeds/all.json", "all"),
        ("/", "all"),
        ("/index.html", "all"),
        ("/feeds.opml", "all opml"),
        (page.as_str(), article_key.as_str()),
        (html.as_str(), article_key.as_str()),
    ] {
        let r = d.get(path);
        assert_eq!(r.status, 200, "{path}");
        assert_cache_control(&r, path);
        assert_eq!(r.header("surrogate-key"), Some(key), "{path}");
    }
    // Keys come from the path, whatever the answer: a purge clears a
    // cached 404 too.
    for path in [
        "/feeds/archive/world/3.atom",
        "/categories/world.html",
        "/categories/world/",
        "/categories/world",
        "/categories/world/3.html",
    ] {
        assert_eq!(d.get(path).header("surrogate-key"), Some("world"), "{path}");
    }
    assert_eq!(d.get("/healthz").header("surrogate-key"), None);
}

#[test]
fn a_category_page_answers_at_its_aliases() {
    let (d, _) = start();
    let canonical = d.get("/categories/world.html");
    assert_eq!(canonical.status, 200);
    assert!(canonical.text().contains(TITLE));
    for alias in ["/categories/world/", "/categories/world"] {
        let r = d.get(alias);
        assert_eq!(r.status, 200, "{alias}");
        assert_eq!(r.body, canonical.body, "{alias}");
        assert_eq!(r.header("etag"), canonical.header("etag"), "{alias}");
        assert_cache_control(&r, alias);
        assert_eq!(r.header("surrogate-key"), Some("world"), "{alias}");
    }
    for missing in ["/categories/nope/", "/categories/nope", "/categories/"] {
        assert_eq!(d.get(missing).status, 404, "{missing}");
    }
}

#[test]
fn older_category_pages_are_served_like_archive_feeds() {
    let mut site = Site::new();
    site.feed_items = Some(2);
    site.archive_items = Some(2);
    site.write_config();
    let d = Daemon::start_site(site);
    for n in 0..5 {
        let title = format!("Ferry Timetable Change {n}");
        let text = format!(
            "---\ntitle: {title}\ndate: 2025-01-01T{n:02}:00:00Z\ncategories: [World]\n---\nBody {n}.\n"
        );
        d.write_article(&format!("world/ferry-{n}.md"), &text);
    }
    let path = "/categories/world/1.html";
    let mut last = None;
    let served = eventually(|| {
        let r = d.get(path);
        let ok = r.status == 200;
        last = Some(r);
        ok
    });
    let r = last.expect("an answer");
    assert!(served, "{path}: {} {}", r.status, r.text());
    assert!(r
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/html")));
    assert_eq!(r.header("surrogate-key"), Some("world"));
    assert_cors(&r, path);
    assert!(r.header("cache-control").is_some(), "{path}");
    let etag = r.header("etag").expect("an ETag");
    assert_eq!(d.get_with(path, &[("If-None-Match", etag)]).status, 304);
    assert_eq!(d.get("/categories/world/99.html").status, 404);
}

/// HEAD and conditional GET (ETag, Last-Modified) on a page, as on a feed.
fn head_and_conditional_get(d: &Daemon, path: &str) {
    let get = d.get(path);
    assert_eq!(get.status, 200, "{path}");
    assert!(get
        .header("content-type")
        .is_some_and(|t| t.starts_with("text/html")));
    let head = d.request("HEAD", path, &[]);
    assert_eq!(head.status, 200, "{path}");
    assert!(head.body.is_empty(), "{path}: HEAD answered with a body");
    assert_eq!(
        head.header("content-length"),
        Some(get.body.len().to_string().as_str()),
        "{path}"
    );
    assert_eq!(head.header("etag"), get.header("etag"), "{path}");
    assert_cache_control(&head, path);

    let etag = get.header("etag").expect("an ETag");
    let by_etag = d.get_with(path, &[("If-None-Match", etag)]);
    assert_eq!(by_etag.status, 304, "{path}: If-None-Match");
    assert!(by_etag.body.is_empty());
    assert_eq!(by_etag.header("etag"), Some(etag), "{path}");
    assert_cache_control(&by_etag, path);
    let other = d.get_with(path, &[("If-None-Match", "\"someone-else\"")]);
    assert_eq!(other.status, 200, "{path}: another ETag");

    let modified = get
        .header("last-modified")
        .unwrap_or_else(|| panic!("{path}: no Last-Modified: {:?}", get.headers));
    let by_date = d.get_with(path, &[("If-Modified-Since", modified)]);
    assert_eq!(by_date.status, 304, "{path}: If-Modified-Since");
    let earlier = d.get_with(
        path,
        &[("If-Modified-Since", "Mon, 01 Jan 2001 00:00:00 GMT")],
    );
    assert_eq!(earlier.status, 200, "{path}: modified since 2001");
}

#[test]
fn head_and_conditional_get_on_the_index_and_an_article_page() {
    let (d, page) = start();
    head_and_conditional_get(&d, "/");
    head_and_conditional_get(&d, &format!("{page}.html"));
    head_and_conditional_get(&d, &page);
}

#[test]
fn media_files_are_served_with_ranges_and_validators() {
    let (d, _) = start();
    let bytes = episode();
    let full = d.get(EPISODE);
    assert_eq!(full.status, 200);
    assert_eq!(full.body, bytes);
    assert_eq!(full.header("content-type"), Some("audio/mpeg"));
    assert_eq!(full.header("accept-ranges"), Some("bytes"));
    assert_eq!(full.header("surrogate-key"), Some("media"));
    assert_cors(&full, EPISODE);
    assert_cache_control(&full, EPISODE);

    let range = d.get_with(EPISODE, &[("Range", "bytes=100-199")]);
    assert_eq!(range.status, 206);
    assert_eq!(
        range.header("content-range"),
        Some(format!("bytes 100-199/{EPISODE_BYTES}").as_str())
    );
    assert_eq!(range.body, &bytes[100..200]);
    assert_cors(&range, "a range");
    let tail = d.get_with(EPISODE, &[("Range", "bytes=-10")]);
    assert_eq!(tail.status, 206);
    assert_eq!(tail.body, &bytes[EPISODE_BYTES - 10..]);

    let head = d.request("HEAD", EPISODE, &[]);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(
        head.header("content-length"),
        Some(EPISODE_BYTES.to_string().as_str())
    );

    let etag = full.header("etag").expect("an ETag");
    let by_etag = d.get_with(EPISODE, &[("If-None-Match", etag)]);
    assert_eq!(by_etag.status, 304);
    assert_eq!(by_etag.header("etag"), Some(etag));
    let modified = full.header("last-modified").expect("a Last-Modified");
    let by_date = d.get_with(EPISODE, &[("If-Modified-Since", modified)]);
    assert_eq!(by_date.status, 304);
    // If-None-Match decides when both are sent.
    let both = d.get_with(
        EPISODE,
        &[
            ("If-None-Match", "\"another\""),
            ("If-Modified-Since", modified),
        ],
    );
    assert_eq!(both.status, 200);

    let metrics = d.get("/metrics").text();
    assert!(
        metrics
            .lines()
            .any(|l| l.contains("route=\"/media\"") && l.contains("status=\"206\"")),
        "{metrics}"
    );
}

#[test]
fn media_paths_never_leave_the_media_dir() {
    let (d, _) = start();
    // The config sits beside media/: `..` would reach it.
    assert!(d.site.root().join("media/../wirefeed.toml").exists());
    for target in [
        "/media/../wirefeed.toml",
        "/media/podcasts/../../wirefeed.toml",
        "/media/%2e%2e/wirefeed.toml",
        "/media/%2E%2E/%2e%2e/%2e%2e/etc/passwd",
        "/media/..%2fwirefeed.toml",
        "/media/podcasts/..%2F..%2Fwirefeed.toml",
    ] {
        let (status, text) = d.raw_get(target);
        assert_eq!(status, 404, "{target}:\n{text}");
        assert!(!text.contains("[server]"), "{target} leaked the config");
        assert!(!text.contains("root:"), "{target} leaked a file");
    }
    for missing in [
        "/media/podcasts/ep2.mp3",
        "/media/podcasts",
        "/media/podcasts/",
        "/media/",
        "/media/podcasts/ep1.mp3/x",
    ] {
        assert_eq!(d.get(missing).status, 404, "{missing}");
    }
}

#[test]
fn media_without_a_media_dir_is_404() {
    let d = Daemon::start();
    assert_eq!(d.get("/media/podcasts/ep1.mp3").status, 404);
    assert_eq!(d.get("/media/../wirefeed.toml").status, 404);
}
