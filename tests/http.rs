//! What HTTP clients get from a running daemon: conditional GET (ETag,
//! Last-Modified), HEAD, other methods, unknown paths and content types,
//! health, readiness and metrics, no path reaching the filesystem, and a
//! second daemon refused the port the first one serves.

mod common;

use std::fs;

use common::*;

/// Scenario 9: Conditional GET: strong ETag, Last-Modified, If-None-Match first.
#[test]
fn conditional_get_with_etag_and_last_modified() {
    let d = Daemon::start();
    let title = "Metro Line Extension Approved by City Council";
    let path = d.write_article("world/metro.txt", &story(title, "World", "metro"));
    d.wait_feed("/feeds/world.rss", "listed the article", |b| {
        b.contains(title)
    });

    let feed = "/feeds/world.rss";
    let r = d.get(feed);
    assert_eq!(r.status, 200);
    let etag = r.header("etag").expect("ETag").to_string();
    assert!(
        etag.starts_with('"') && etag.ends_with('"') && etag.len() > 2,
        "not a strong ETag: {etag}"
    );
    let last_modified = r
        .header("last-modified")
        .expect("Last-Modified")
        .to_string();
    // The feed's newest `updated`: 14 May 2024 14:10 in Karachi.
    assert_eq!(last_modified, "Tue, 14 May 2024 09:10:00 GMT");

    let r = d.get_with(feed, &[("If-None-Match", &etag)]);
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty(), "304 with a body");
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    assert!(
        r.header("cache-control")
            .is_some_and(|v| v.contains("max-age")),
        "{:?}",
        r.headers
    );

    // Weak comparison: W/ and the other encodings' tags match too.
    let hash = etag.trim_matches('"');
    for tag in [
        format!("W/{etag}"),
        format!("\"{hash}-gz\""),
        format!("\"nope\", \"{hash}-br\""),
    ] {
        assert_eq!(
            d.get_with(feed, &[("If-None-Match", &tag)]).status,
            304,
            "{tag}"
        );
    }

    let r = d.get_with(feed, &[("If-Modified-Since", &last_modified)]);
    assert_eq!(r.status, 304, "If-Modified-Since = Last-Modified");
    assert!(r.body.is_empty());
    let r = d.get_with(
        feed,
        &[("If-Modified-Since", "Mon, 13 May 2024 00:00:00 GMT")],
    );
    assert_eq!(r.status, 200, "If-Modified-Since before Last-Modified");

    // If-None-Match is evaluated first: a wrong tag means 200 whatever
    // If-Modified-Since says.
    let r = d.get_with(
        feed,
        &[
            ("If-None-Match", "\"0000\""),
            ("If-Modified-Since", &last_modified),
        ],
    );
    assert_eq!(
        r.status, 200,
        "If-None-Match must win over If-Modified-Since"
    );
    assert!(r.text().contains(title));

    // An edit changes the ETag: the old one no longer matches.
    fs::write(
        &path,
        story(title, "World", "metro").replace("two delegations", "two city delegations"),
    )
    .expect("edit");
    d.wait_feed(feed, "showed the edit", |b| {
        b.contains("two city delegations")
    });
    let r = d.get_with(feed, &[("If-None-Match", &etag)]);
    assert_eq!(r.status, 200, "an old ETag still matched after an edit");
    assert_ne!(r.header("etag"), Some(etag.as_str()));
    let r = d.get_with(feed, &[("If-Modified-Since", &last_modified)]);
    assert_eq!(r.status, 200, "Last-Modified did not move on an edit");
}

/// Scenario 9b: If-Modified-Since must not answer 304 for a feed whose items
/// changed.
///
/// Regression: a feed whose bytes change gets a later Last-Modified even when
/// its newest item does not move (a story backdated into it, or its newest
/// story deleted), so If-Modified-Since clients never keep a stale feed
/// (RFC 9110 8.8.2).
#[test]
fn if_modified_since_sees_backdated_additions_and_deletions() {
    let d = Daemon::start();
    let feed = "/feeds/world.rss";
    let newest = "Newest Story Sets The Feed Date";
    let newest_path = d.write_article("world/newest.txt", &story(newest, "World", "newest"));
    d.wait_feed(feed, "listed the article", |b| b.contains(newest));
    let cached = d.get(feed);
    let lm = cached
        .header("last-modified")
        .expect("Last-Modified")
        .to_string();

    let mut problems = Vec::new();
    // A story published a day earlier, dropped in afterwards.
    let older = "Older Story Scraped An Hour Later";
    d.write_article(
        "world/older.txt",
        &story(older, "World", "older")
            .replace("May 14, 2024 | 02:10 PM", "May 13, 2024 | 09:00 AM")
            .replace("14th May, 2024", "13th May, 2024"),
    );
    d.wait_feed(feed, "listed the backdated article", |b| b.contains(older));
    let r = d.get_with(feed, &[("If-Modified-Since", &lm)]);
    if r.status != 200 {
        problems.push(format!(
            "after adding a backdated article: {} (Last-Modified still {:?})",
            r.status,
            d.get(feed).header("last-modified")
        ));
    }
    // The newest story is deleted.
    let lm = d
        .get(feed)
        .header("last-modified")
        .unwrap_or_default()
        .to_string();
    fs::remove_file(&newest_path).expect("delete");
    d.wait_feed(feed, "dropped the deleted article", |b| !b.contains(newest));
    let r = d.get_with(feed, &[("If-Modified-Since", &lm)]);
    if r.status != 200 {
        problems.push(format!(
            "after deleting the newest article: {} (Last-Modified went from {lm:?} to {:?})",
            r.status,
            d.get(feed).header("last-modified")
        ));
    }
    assert!(
        problems.is_empty(),
        "If-Modified-Since answered for a changed feed:\n{}",
        problems.join("\n")
    );
}

/// Scenario 11: HEAD, POST, unknown paths and content types.
#[test]
fn head_post_unknown_paths_and_content_types() {
    let d = Daemon::start();
    let title = "Power Utility Announces Summer Maintenance Schedule";
    d.write_article("pakistan/power.txt", &story(title, "Pakistan", "power"));
    d.wait_feed("/feeds/pakistan.rss", "listed the article", |b| {
        b.contains(title)
    });

    let get = d.get("/feeds/world.rss");
    let head = d.request("HEAD", "/feeds/world.rss", &[]);
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty(), "HEAD answered with a body");
    assert_eq!(
        head.header("content-length"),
        Some(get.body.len().to_string().as_str())
    );
    assert_eq!(head.header("content-length"), get.header("content-length"));
    assert_eq!(head.header("etag"), get.header("etag"));
    let head = d.request("HEAD", "/feeds/pakistan.rss", &[]);
    assert_eq!(
        head.header("content-length"),
        Some(d.get("/feeds/pakistan.rss").body.len().to_string().as_str())
    );

    for method in ["POST", "PUT", "DELETE"] {
        let r = d.request(method, "/feeds/world.rss", &[]);
        assert_eq!(r.status, 405, "{method}");
        let allow = r.header("allow").unwrap_or_default();
        assert!(
            allow.contains("GET") && allow.contains("HEAD"),
            "{method}: {allow:?}"
        );
    }

    for path in [
        "/nope",
        "/feeds/nope.rss",
        "/feeds/world.xml",
        "/feeds/",
        "/articles/no-such-story",
    ] {
        assert_eq!(d.get(path).status, 404, "{path}");
    }

    let ct = |path: &str| {
        let r = d.get(path);
        assert_eq!(r.status, 200, "{path}");
        r.header("content-type").unwrap_or_default().to_string()
    };
    assert_eq!(ct("/feeds/world.rss"), "application/rss+xml; charset=utf-8");
    assert_eq!(ct("/feeds/all.atom"), "application/atom+xml; charset=utf-8");
    assert_eq!(ct("/feeds/pakistan.json"), "application/feed+json");
    assert!(ct("/feeds.opml").starts_with("text/x-opml"));
    assert!(ct("/").starts_with("text/html"));

    let opml = d.get("/feeds.opml").text();
    for slug in DEFAULT_SLUGS {
        assert!(opml.contains(&format!("/feeds/{slug}.rss")), "{opml}");
    }
}

/// Scenario 14: Health, readiness and metrics.
#[test]
fn health_readiness_and_metrics() {
    let d = Daemon::start();
    let r = d.get("/readyz");
    assert_eq!(r.status, 200);
    assert_eq!(d.get("/healthz").status, 200);
    let title = "Dairy Cooperative Expands Cold Storage";
    d.write_article("business/dairy.txt", &story(title, "Business", "dairy"));
    d.wait_feed("/feeds/business.rss", "listed the article", |b| {
        b.contains(title)
    });
    let served = d.get("/feeds/atom-never-asked.rss");
    assert_eq!(served.status, 404);
    let first = d.get("/feeds/world.json");
    let etag = first.header("etag").expect("etag").to_string();
    for _ in 0..2 {
        let again = d.get_with("/feeds/world.json", &[("if-none-match", &etag)]);
        assert_eq!(again.status, 304);
    }
    let m = d.get("/metrics");
    assert_eq!(m.status, 200);
    assert!(m
        .header("content-type")
        .is_some_and(|c| c.starts_with("text/plain")));
    let text = m.text();
    // Counted per route and status: one 200 and two 304s for world.json
    // (whatever the watcher's publishes did to the resource meanwhile).
    let count = |route: &str, status: u16| {
        text.lines()
            .find(|l| {
                l.starts_with("wirefeed_http_requests_total{")
                    && l.contains(&format!("route=\"{route}\""))
                    && l.contains(&format!("status=\"{status}\""))
            })
            .and_then(|l| l.rsplit(' ').next()?.parse::<u64>().ok())
    };
    assert_eq!(count("/feeds/world.json", 200), Some(1), "{text}");
    assert_eq!(count("/feeds/world.json", 304), Some(2), "{text}");
    assert_eq!(count("other", 404), Some(1), "{text}");
    assert!(text.contains("wirefeed_articles"), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("wirefeed_articles{")
            && l.contains("business")
            && l.ends_with(" 1")),
        "{text}"
    );
}

/// Scenario 15: No request path reaches the filesystem.
#[test]
fn path_traversal_is_a_plain_404() {
    let d = Daemon::start();
    let title = "Museum Returns Restored Manuscripts";
    d.write_article("world/museum.txt", &story(title, "World", "museum"));
    let rss = d.wait_feed("/feeds/world.rss", "listed the article", |b| {
        b.contains(title)
    });
    // A real article page works, so the 404s below are not a broken route.
    let link = rss_items_titled(&rss, title).remove(0).link;
    let page = &link[link.find("/articles/").expect("page link")..];
    let ok = d.get(page);
    assert_eq!(ok.status, 200, "{page}");
    assert!(ok.text().contains(title));

    for target in [
        "/articles/..%2F..%2Fetc%2Fpasswd",
        "/articles/../../etc/passwd",
        "/articles/%2e%2e/%2e%2e/etc/passwd",
        "/articles/..%2f..%2f..%2f..%2f..%2f..%2fetc%2fpasswd",
        "/feeds/../../../../etc/passwd",
        "/../../../../etc/passwd",
    ] {
        let (status, text) = d.raw_get(target);
        assert_eq!(status, 404, "{target}:\n{text}");
        assert!(!text.contains("root:"), "{target} leaked a file:\n{text}");
        if target.contains('%') {
            let r = d.get(target);
            assert_eq!(r.status, 404, "{target} via ureq");
            assert!(!r.text().contains("root:"));
        }
    }
}

/// Requests are served by one thread per core on one listening socket: a
/// second daemon started on a port already served must fail at once and
/// say why, not quietly share the port, and the first keeps serving.
#[test]
fn a_second_daemon_on_the_same_port_fails_clearly() {
    let d = Daemon::start();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("--config")
        .arg(d.site.config_path())
        .arg("serve")
        .output()
        .expect("run a second daemon");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("cannot listen on") && err.contains("server.listen"),
        "{err}"
    );
    assert_eq!(d.get("/feeds/all.rss").status, 200);
}
