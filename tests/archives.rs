//! RFC 5005 archived feeds through the daemon: a reader that walks
//! `prev-archive` (JSON Feed: `next_url`) from each subscription document
//! finds every article of the feed once, in its latest version; complete
//! archive pages never change, survive a restart, and are the bytes
//! `wirefeed build` writes.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::time::Duration;

use common::{eventually, wait_until, Daemon, Resp, Site};

const CATEGORIES: [(&str, &str); 3] = [
    ("world", "World"),
    ("pakistan", "Pakistan"),
    ("business", "Business"),
];

/// Article `n`: its folder, its title (`version` tells edits apart) and a
/// date `n` hours into 2025 (so `n` orders them); from 1000 on, late
/// stories dated among the first ones.
fn article(n: usize, version: &str) -> (String, String) {
    let (dir, cat) = CATEGORIES[n % 3];
    let title = format!("Story {n:03} {version}");
    let hours = match n {
        1000.. => (n - 1000) * 7 + 3,
        _ => n,
    };
    let (day, hour) = (1 + hours / 24, hours % 24);
    let text = format!(
        "---\ntitle: {title}\ndate: 2025-01-{day:02}T{hour:02}:00:00Z\ncategories: [{cat}]\n---\nBody of story {n} ({version}).\n"
    );
    (format!("{dir}/story-{n:03}.md"), text)
}

fn write(site: &Site, n: usize, version: &str) {
    let (rel, text) = article(n, version);
    put(site, &rel, &text);
}

/// Writes `text` as the article at `rel`.
fn put(site: &Site, rel: &str, text: &str) {
    let path = site.article_path(rel);
    fs::create_dir_all(path.parent().expect("dir")).expect("mkdir");
    fs::write(path, text).expect("write");
}

fn site(items: usize, archive_items: usize) -> Site {
    let mut site = Site::new();
    site.feed_items = Some(items);
    site.archive_items = Some(archive_items);
    site.write_config();
    site
}

/// One document of a walk: its entries as (id, title, updated), in order.
struct Doc {
    url: String,
    entries: Vec<(String, String, Option<i64>)>,
    /// Its `prev-archive` (JSON: `next_url`).
    prev: Option<String>,
    is_archive: bool,
    current: Option<String>,
}

/// The path of the newest archive page of `all` (its `prev-archive`).
fn newest_page_of_all(d: &Daemon) -> String {
    let page = read_doc(d, &d.url("/feeds/all.rss"))
        .prev
        .expect("a page of all");
    format!("/{}", page.strip_prefix(&d.url("/")).expect("site URL"))
}

fn xml_links(body: &str) -> Vec<(String, String)> {
    let doc = roxmltree::Document::parse(body).expect("well-formed XML");
    doc.descendants()
        .filter(|n| n.tag_name().name() == "link" && n.attribute("rel").is_some())
        .filter(|n| {
            n.parent()
                .is_some_and(|p| matches!(p.tag_name().name(), "channel" | "feed"))
        })
        .map(|n| {
            let rel = n.attribute("rel").unwrap_or_default().to_string();
            (rel, n.attribute("href").unwrap_or_default().to_string())
        })
        .collect()
}

/// Has the document's root element an RFC 5005 `<fh:archive/>` child?
fn marked_archive(body: &str) -> bool {
    let doc = roxmltree::Document::parse(body).expect("well-formed XML");
    let top = doc.root_element();
    let feed = match top.tag_name().name() {
        "rss" => top.children().find(|n| n.has_tag_name("channel")),
        _ => Some(top),
    };
    feed.is_some_and(|f| {
        f.children()
            .any(|n| n.has_tag_name(("http://purl.org/syndication/history/1.0", "archive")))
    })
}

fn read_doc(d: &Daemon, url: &str) -> Doc {
    let path = url.strip_prefix(&d.url("/")).expect("a URL of the site");
    let resp = d.get(&format!("/{path}"));
    assert_eq!(resp.status, 200, "{url}");
    let body = resp.text();
    let feed = feed_rs::parser::parse(body.as_bytes())
        .unwrap_or_else(|e| panic!("{url}: feed-rs: {e}\n{body}"));
    let entries = feed
        .entries
        .iter()
        .map(|e| {
            let title = e
                .title
                .as_ref()
                .map(|t| t.content.clone())
                .unwrap_or_default();
            (e.id.clone(), title, e.updated.map(|u| u.timestamp()))
        })
        .collect();
    if url.ends_with(".json") {
        let json: serde_json::Value = serde_json::from_str(&body).expect("json");
        return Doc {
            url: url.to_string(),
            entries,
            prev: json["next_url"].as_str().map(str::to_string),
            is_archive: url.contains("/archive/"),
            current: None,
        };
    }
    let links = xml_links(&body);
    let find = |rel: &str| links.iter().find(|(r, _)| r == rel).map(|(_, h)| h.clone());
    Doc {
        url: url.to_string(),
        entries,
        prev: find("prev-archive"),
        is_archive: marked_archive(&body),
        current: find("current"),
    }
}

/// Every document from the subscription document back through its
/// archive pages.
fn walk(d: &Daemon, feed: &str) -> Vec<Doc> {
    let mut docs = vec![read_doc(d, &d.url(feed))];
    while let Some(prev) = docs.last().and_then(|doc| doc.prev.clone()) {
        assert!(docs.len() < 1000, "{feed}: the walk does not end");
        docs.push(read_doc(d, &prev));
    }
    docs
}

/// The titles a reader ends up with after walking `feed` and keeping the
/// first copy of each entry it meets (the newest document first, RFC 5005
/// section 4.2), and how many copies of each entry it met.
fn reconcile(docs: &[Doc]) -> (BTreeMap<String, String>, BTreeMap<String, usize>) {
    let (mut kept, mut copies) = (BTreeMap::new(), BTreeMap::new());
    for doc in docs {
        for (id, title, _) in &doc.entries {
            kept.entry(id.clone()).or_insert_with(|| title.clone());
            *copies.entry(id.clone()).or_insert(0) += 1;
        }
    }
    (kept, copies)
}

fn feed_paths() -> Vec<String> {
    let slugs = ["all"].into_iter().chain(CATEGORIES.iter().map(|c| c.0));
    slugs
        .flat_map(|s| ["rss", "atom", "json"].map(|ext| format!("/feeds/{s}.{ext}")))
        .collect()
}

#[test]
fn walking_prev_archive_finds_every_article_once_in_its_latest_version() {
    let site = site(10, 15);
    let mut latest: BTreeMap<usize, String> = BTreeMap::new();
    for n in 0..150 {
        write(&site, n, "v1");
        latest.insert(n, "v1".into());
    }
    let d = Daemon::start_site(site);
    // Newer stories, live, in batches.
    for batch in 0..6 {
        for n in 200 + batch * 10..210 + batch * 10 {
            write(&d.site, n, "v1");
            latest.insert(n, "v1".into());
        }
        let last = format!("Story {:03} v1", 209 + batch * 10);
        d.wait_feed("/feeds/all.rss", "the batch", |b| b.contains(&last));
    }
    // Late ones, dated among the oldest, and edits of archived and of
    // shown stories.
    for n in 150..158 {
        write(&d.site, n - 140 + 1000, "late");
        latest.insert(n - 140 + 1000, "late".into());
    }
    let edited: Vec<usize> = vec![3, 17, 40, 41, 77, 101, 258, 259];
    for &n in &edited {
        write(&d.site, n, "v2");
        latest.insert(n, "v2".into());
    }
    // Every article the reader should end up with, per feed.
    let expect = |slug: &str| -> BTreeSet<String> {
        latest
            .iter()
            .filter(|(n, _)| slug == "all" || CATEGORIES[**n % 3].0 == slug)
            .map(|(n, v)| format!("Story {n:03} {v}"))
            .collect()
    };
    let settled = || {
        let docs = walk(&d, "/feeds/all.json");
        reconcile(&docs).0.into_values().collect::<BTreeSet<_>>() == expect("all")
    };
    if !wait_until(settled, Duration::from_secs(15)) {
        let docs = walk(&d, "/feeds/all.json");
        let got: BTreeSet<String> = reconcile(&docs).0.into_values().collect();
        let want = expect("all");
        panic!(
            "the changes never all showed: missing {:?}, not expected {:?}",
            want.difference(&got).collect::<Vec<_>>(),
            got.difference(&want).collect::<Vec<_>>()
        );
    }
    let archived_and_edited = [3, 17, 40, 41, 77, 101];
    for feed in feed_paths() {
        let slug = feed
            .trim_start_matches("/feeds/")
            .split('.')
            .next()
            .unwrap_or_default();
        let docs = walk(&d, &feed);
        assert!(docs.len() > 3, "{feed}: only {} documents", docs.len());
        let (kept, copies) = reconcile(&docs);
        let titles: BTreeSet<String> = kept.values().cloned().collect();
        assert_eq!(titles, expect(slug), "{feed}: what a reader ends up with");
        for (id, n) in &copies {
            let title = &kept[id];
            let num: usize = title
                .split(' ')
                .nth(1)
                .and_then(|n| n.parse().ok())
                .expect("number");
            let allowed = if archived_and_edited.contains(&num) {
                2
            } else {
                1
            };
            assert!(*n <= allowed, "{feed}: {title} met {n} times");
        }
        for doc in &docs[1..] {
            if !feed.ends_with(".json") {
                assert!(doc.is_archive, "{}: no <fh:archive/>", doc.url);
                assert_eq!(
                    doc.current.as_deref(),
                    Some(d.url(&feed).as_str()),
                    "{}",
                    doc.url
                );
            }
            assert!(
                doc.entries.len() == 15,
                "{}: {} entries",
                doc.url,
                doc.entries.len()
            );
        }
        assert!(
            !docs[0].is_archive,
            "{feed}: the subscription document is no archive"
        );
    }
}

/// Every archive page of every feed: path → the answer.
fn archive_pages(d: &Daemon) -> BTreeMap<String, Resp> {
    d.wait_archives_stored();
    // A page gains its next-archive link just after the newer page is
    // served (written on the archive thread): read until two walks agree.
    let mut last = walk_archive_pages(d);
    for _ in 0..100 {
        std::thread::sleep(Duration::from_millis(50));
        let now = walk_archive_pages(d);
        let same = now.len() == last.len()
            && now
                .iter()
                .all(|(path, r)| last.get(path).is_some_and(|l| l.body == r.body));
        if same {
            return now;
        }
        last = now;
    }
    panic!("the archive pages kept changing");
}

/// Every archive page, found by walking each feed's `prev-archive` links.
fn walk_archive_pages(d: &Daemon) -> BTreeMap<String, Resp> {
    let mut pages = BTreeMap::new();
    for feed in feed_paths() {
        let mut url = read_doc(d, &d.url(&feed)).prev;
        while let Some(u) = url {
            let path = u.strip_prefix(&d.url("/")).expect("site URL");
            let path = format!("/{path}");
            url = read_doc(d, &u).prev;
            pages.insert(path.clone(), d.get(&path));
        }
    }
    pages
}

#[test]
fn an_edit_changes_the_subscription_document_and_no_complete_archive_page() {
    let site = site(10, 10);
    for n in 0..60 {
        write(&site, n, "v1");
    }
    let d = Daemon::start_site(site);
    let before = archive_pages(&d);
    assert_eq!(
        before.len(),
        (5 + 3) * 3,
        "5 pages of all, 1 of each category: {:?}",
        before.keys()
    );
    let subscription = d.body("/feeds/all.atom");
    // Story 12 is on the second page of `all`.
    write(&d.site, 12, "corrected");
    d.wait_feed("/feeds/all.atom", "the edit", |b| {
        b.contains("Story 012 corrected")
    });
    assert_ne!(d.body("/feeds/all.atom"), subscription);
    let after = archive_pages(&d);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (path, was) in &before {
        let now = &after[path];
        assert!(was.body == now.body, "{path} changed");
        assert_eq!(was.header("etag"), now.header("etag"), "{path}");
    }
    // Final pages (with a next one) are immutable; all answer 304.
    let page = "/feeds/archive/all/1.atom";
    let cache = after[page]
        .header("cache-control")
        .unwrap_or_default()
        .to_string();
    assert!(cache.contains("immutable"), "{page}: {cache}");
    let last = "/feeds/archive/all/5.atom";
    let cache = after[last]
        .header("cache-control")
        .unwrap_or_default()
        .to_string();
    assert!(
        !cache.contains("immutable"),
        "{last} may still gain its next-archive link"
    );
    let etag = after[page].header("etag").unwrap_or_default().to_string();
    let again = d.get_with(
        page,
        &[("If-None-Match", &etag), ("Accept-Encoding", "gzip")],
    );
    assert_eq!(again.status, 304);
    let gz = d.get_with(page, &[("Accept-Encoding", "gzip, br")]);
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
}

#[test]
fn archive_pages_survive_a_restart_and_are_what_build_writes() {
    let site = site(5, 7);
    for n in 0..30 {
        write(&site, n, "v1");
    }
    let mut d = Daemon::start_site(site);
    // Newer stories in batches: pages complete one by one, and each page
    // before them gains its next-archive link.
    for batch in 0..4 {
        for n in 100 + batch * 6..106 + batch * 6 {
            write(&d.site, n, "v1");
        }
        let last = format!("Story {:03} v1", 105 + batch * 6);
        d.wait_feed("/feeds/all.rss", "the batch", |b| b.contains(&last));
    }
    assert!(eventually(
        || d.get("/feeds/archive/all/6.rss").status == 200
    ));
    let served = archive_pages(&d);
    d.restart_in_place();
    let again = archive_pages(&d);
    let (before, after): (BTreeSet<&String>, BTreeSet<&String>) =
        (served.keys().collect(), again.keys().collect());
    assert!(
        before == after,
        "pages only before the restart: {:?}; only after: {:?}",
        before.difference(&after).collect::<Vec<_>>(),
        after.difference(&before).collect::<Vec<_>>()
    );
    for (path, resp) in &served {
        assert!(
            resp.body == again[path].body,
            "{path} changed across a restart"
        );
    }
    let out = d.build_site();
    let mut written = Vec::new();
    for slug in ["all", "world", "pakistan", "business"] {
        let dir = out.path().join("feeds/archive").join(slug);
        for file in fs::read_dir(&dir)
            .map(|r| r.flatten().collect())
            .unwrap_or_else(|_| Vec::new())
        {
            written.push(format!(
                "/feeds/archive/{slug}/{}",
                file.file_name().to_string_lossy()
            ));
        }
    }
    written.sort();
    assert_eq!(written, served.keys().cloned().collect::<Vec<_>>());
    for (path, resp) in &served {
        let file = fs::read(out.path().join(path.trim_start_matches('/'))).expect("built page");
        assert!(
            file == resp.body,
            "{path}: served\n{}\nbuilt\n{}",
            resp.text(),
            String::from_utf8_lossy(&file)
        );
    }
    for feed in feed_paths() {
        let file = fs::read(out.path().join(feed.trim_start_matches('/'))).expect("built feed");
        let served = d.get(&feed).body;
        assert!(
            file == served,
            "{feed} differs from build: served\n{}\nbuilt\n{}",
            String::from_utf8_lossy(&served),
            String::from_utf8_lossy(&file)
        );
    }
}

#[test]
fn an_article_replacing_a_deleted_one_at_its_path_and_date_is_archived_too() {
    let site = site(5, 7);
    for n in 0..30 {
        write(&site, n, "v1");
    }
    let mut d = Daemon::start_site(site);
    // Story 4 is in the first archive page. It is deleted, and another
    // article, dated the same, takes its path: a new GUID, below the
    // window, and in no page yet.
    d.wait_archives_stored();
    fs::remove_file(d.site.article_path(&article(4, "v1").0)).expect("delete");
    assert!(
        eventually(|| d.get("/articles/pakistan-story-004.html").status == 404),
        "the deletion never showed"
    );
    write(&d.site, 4, "replaced");
    d.wait_feed("/feeds/all.rss", "the new article", |b| {
        b.contains("Story 004 replaced")
    });
    // Two newer stories complete the next page, which holds it.
    for n in [100, 101] {
        write(&d.site, n, "v1");
    }
    d.wait_feed("/feeds/all.rss", "the newer stories", |b| {
        b.contains("Story 101 v1")
    });
    // Walking the archive finds each article once, before and after a
    // restart (which reads the complete pages back from their log).
    let check = |d: &Daemon| {
        d.wait_archives_stored();
        let docs = walk(d, "/feeds/all.json");
        let (kept, copies) = reconcile(&docs);
        for title in ["Story 004 v1", "Story 004 replaced", "Story 003 v1"] {
            let ids: Vec<&String> = kept
                .iter()
                .filter(|(_, t)| *t == title)
                .map(|(id, _)| id)
                .collect();
            assert_eq!(ids.len(), 1, "{title}: {ids:?}");
            assert_eq!(copies[ids[0]], 1, "{title} met more than once");
        }
    };
    check(&d);
    d.restart_in_place();
    check(&d);
}

#[test]
fn a_config_change_rebuilds_the_archive_pages_and_publishing_goes_on() {
    let site = site(10, 10);
    for n in 0..80 {
        write(&site, n, "v1");
    }
    let d = Daemon::start_site(site);
    let before = archive_pages(&d);
    assert!(before
        .values()
        .all(|r| r.text().contains("Wirefeed Test Desk")));
    // A new site title shapes every page: they are made again, in the
    // background, while a new article is published as usual.
    let text = d
        .site
        .config_text()
        .replace("Wirefeed Test Desk", "Harbour Desk");
    d.site.replace_raw_config(&text);
    d.write_article("world/late-news.md", &article(300, "v1").1);
    d.wait_feed("/feeds/all.rss", "the new title", |b| {
        b.contains("Harbour Desk")
    });
    d.wait_feed("/feeds/all.rss", "the new article", |b| {
        b.contains("Story 300 v1")
    });
    let after = archive_pages(&d);
    assert_eq!(after.len(), before.len(), "{:?}", after.keys());
    for (path, resp) in &after {
        let text = resp.text();
        assert!(
            text.contains("Harbour Desk") && !text.contains("Wirefeed Test Desk"),
            "{path} not made again"
        );
    }
}

#[test]
fn the_newest_archive_page_gains_its_next_link_once_a_newer_page_exists_even_after_being_read() {
    let site = site(5, 5);
    for n in 0..20 {
        write(&site, n, "v1");
    }
    let d = Daemon::start_site(site);
    d.wait_archives_stored();
    let path = newest_page_of_all(&d);
    // Read (gzip and identity) while it is the newest: no next page, not final.
    for _ in 0..3 {
        let r = d.get_with(&path, &[("Accept-Encoding", "gzip")]);
        assert_eq!(r.status, 200);
        assert_eq!(r.header("content-encoding"), Some("gzip"));
    }
    let before = d.get(&path);
    assert!(!before.text().contains("next-archive"), "{}", before.text());
    assert!(!before
        .header("cache-control")
        .unwrap_or("")
        .contains("immutable"));
    // Five newer stories push five out of the window: a newer page.
    for n in 20..25 {
        write(&d.site, n, "v1");
    }
    d.wait_feed("/feeds/all.rss", "the new stories", |b| {
        b.contains("Story 024 v1")
    });
    d.wait_archives_stored();
    assert!(
        eventually(|| {
            let r = d.get(&path);
            r.text().contains("rel=\"next-archive\"")
                && r.header("cache-control")
                    .unwrap_or("")
                    .contains("immutable")
        }),
        "{path} served without its next-archive link, or not as final: {}",
        d.get(&path).text()
    );
    let gz = d.get_with(&path, &[("Accept-Encoding", "gzip")]);
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz.body[..]), &mut text)
        .expect("gzip");
    assert_eq!(text, d.get(&path).text(), "gzip and identity bodies differ");
}

#[test]
fn a_first_start_is_ready_before_its_history_is_stored_and_links_it_as_it_is() {
    // 300 stories in pages of one: thousands of page files to write, far
    // longer than publishing the feeds.
    let site = site(5, 1);
    for n in 0..300 {
        write(&site, n, "v1");
    }
    let mut d = Daemon::launch(site);
    d.wait_until_ready();
    assert!(
        d.archive_pages_waiting().is_some_and(|n| n > 0),
        "the history was stored before /readyz said ready"
    );
    // Served meanwhile: the newest stories, and every page the feed links
    // to (none made yet, or the oldest ones) is there.
    let body = d.body("/feeds/all.rss");
    assert!(body.contains("Story 299 v1"), "{body}");
    for (rel, href) in xml_links(&body) {
        if rel == "prev-archive" {
            let path = href
                .split_once("/feeds/")
                .map(|(_, p)| p)
                .expect("feed URL");
            assert_eq!(d.get(&format!("/feeds/{path}")).status, 200, "{href}");
        }
    }
    d.wait_archives_stored();
    let docs = walk(&d, "/feeds/all.atom");
    let (titles, counts) = reconcile(&docs);
    assert_eq!(titles.len(), 300);
    assert!(counts.values().all(|&c| c == 1), "an article twice");
}

/// The story titles a category page lists, in order, and its link to
/// earlier stories.
fn page_stories(html: &str) -> (Vec<String>, Option<String>) {
    let titles = html
        .split("<li class=\"story\"")
        .skip(1)
        .filter_map(|li| {
            let h2 = li.split_once("<h2><a href=\"")?.1;
            let title = h2.split_once("\">")?.1.split_once("</a>")?.0;
            Some(title.to_string())
        })
        .collect();
    let earlier = html
        .split_once("<a rel=\"next\" href=\"")
        .and_then(|(_, rest)| rest.split_once('"'))
        .map(|(href, _)| href.to_string());
    (titles, earlier)
}

#[test]
fn a_category_page_pages_back_through_every_story_once_as_build_writes_it() {
    let site = site(4, 3);
    for n in 0..40 {
        write(&site, n, "v1");
    }
    let d = Daemon::start_site(site);
    d.wait_archives_stored();
    let mut seen = Vec::new();
    let mut url = d.url("/categories/world.html");
    let mut pages = BTreeMap::new();
    for _ in 0..50 {
        let path = url.strip_prefix(&d.url("/")).expect("site URL");
        let resp = d.get(&format!("/{path}"));
        assert_eq!(resp.status, 200, "{url}");
        assert_eq!(
            resp.header("content-type"),
            Some("text/html; charset=utf-8")
        );
        let html = resp.text();
        let (titles, earlier) = page_stories(&html);
        pages.insert(url.clone(), html);
        seen.extend(titles);
        match earlier {
            Some(next) => url = next,
            None => break,
        }
    }
    let world: Vec<String> = (0..40)
        .rev()
        .filter(|n| n % 3 == 0)
        .map(|n| format!("Story {n:03} v1"))
        .collect();
    assert_eq!(seen, world, "newest first, each once, down to the oldest");
    assert!(pages.len() > 2, "{:?}", pages.keys());
    let out = d.build_site();
    for (url, html) in &pages {
        let rel = url.trim_start_matches(&d.url("/"));
        let built = fs::read_to_string(out.path().join(rel)).expect("built page");
        assert_eq!(&built, html, "{rel}: served as build writes it");
    }
}

#[test]
fn a_long_archive_page_comes_whole_in_gzip() {
    // Stories long and varied enough that a page's gzip body is far above
    // the size that the server sends straight from memory it sealed.
    let site = site(5, 5);
    let mut seed: u64 = 7;
    for n in 0..12 {
        let (rel, text) = article(n, "v1");
        let words: Vec<String> = (0..2_500)
            .map(|_| {
                seed = seed
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                format!("{:x}", seed >> 40)
            })
            .collect();
        put(&site, &rel, &format!("{text}\n{}\n", words.join(" ")));
    }
    let d = Daemon::start_site(site);
    d.wait_archives_stored();
    let path = newest_page_of_all(&d);
    let identity = d.get(&path).text();
    for _ in 0..3 {
        let gz = d.get_with(&path, &[("Accept-Encoding", "gzip")]);
        assert_eq!(gz.header("content-encoding"), Some("gzip"));
        assert!(gz.body.len() > 32 * 1024, "{} bytes of gzip", gz.body.len());
        let mut text = String::new();
        std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&gz.body[..]), &mut text)
            .expect("whole gzip");
        assert_eq!(text, identity, "gzip and identity bodies differ");
    }
    roxmltree::Document::parse(&identity).expect("well-formed");
}
