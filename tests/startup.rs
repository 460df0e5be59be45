//! What `/readyz` promises a load balancer: once it answers 200, the feeds
//! show the articles directory as it was at start-up, including files
//! written moments before (which no event will announce) and files still
//! being written (published once complete, never half), and a feed's
//! bytes do not depend on how start-up went: they are what `wirefeed build`
//! writes for the same directory (with the links to the archive pages once
//! those, stored after ready, are). Changes made while the daemon starts are
//! not lost between the start-up scan and the watch.

mod common;

use std::fs;
use std::io::Write;
use std::time::Duration;

use common::*;

#[test]
fn at_readiness_every_feed_and_page_is_what_build_writes_for_the_same_directory() {
    let site = Site::new(); // world, pakistan, business
                            // Written right before the start (all within `articles.settle`), in
                            // two of the three categories: `business` stays empty, and is dated
                            // by the site's newest article, as `build` dates it.
    let count = 300;
    for i in 0..count {
        let (folder, category) = match i % 2 {
            0 => ("world", "World"),
            _ => ("pakistan", "Pakistan"),
        };
        let minute = i % 60;
        let text = story(
            &format!("Fresh Story {i:03}"),
            category,
            &format!("fresh-{i}"),
        )
        .replace("02:10 PM", &format!("02:{minute:02} PM"))
        .replace("May 14, 2024", &format!("May {}, 2024", 1 + i / 60));
        fs::write(site.article_path(&format!("{folder}/fresh-{i}.txt")), text).expect("write");
    }
    let mut d = Daemon::launch(site);
    d.wait_until_ready();
    // The moment it says ready (nothing has changed on disk since).
    let served: Vec<(String, Vec<u8>)> = DEFAULT_SLUGS
        .iter()
        .flat_map(|slug| ["rss", "atom", "json"].map(|ext| format!("/feeds/{slug}.{ext}")))
        // And the pages people read: the index, each category's, a story's.
        .chain(["/index.html".to_string()])
        .chain(
            DEFAULT_SLUGS
                .iter()
                .filter(|s| **s != "all")
                .map(|slug| format!("/categories/{slug}.html")),
        )
        .chain(["/articles/world-fresh-298.html".to_string()])
        .map(|path| {
            let r = d.get(&path);
            assert_eq!(r.status, 200, "{path} at readiness");
            (path, r.body)
        })
        .collect();

    // The archive pages are stored after ready; the feeds and category
    // pages link to them once they are. Then every byte is build's.
    d.wait_archives_stored();
    let out = d.build_site();
    let entries = |path: &str, body: &[u8]| -> Vec<String> {
        parse_feed(path, body)
            .entries
            .into_iter()
            .map(|e| e.id)
            .collect()
    };
    for (path, at_ready) in served {
        let want = fs::read(out.path().join(path.trim_start_matches('/'))).expect("built file");
        let now = d.get(&path).body;
        assert!(
            now == want,
            "{path}: served differs from build\nserved:\n{}\nbuilt:\n{}\nlog:\n{}",
            String::from_utf8_lossy(&now),
            String::from_utf8_lossy(&want),
            d.log()
        );
        // At readiness: the same stories already, only the links to the
        // history may be missing.
        if path.starts_with("/feeds/") {
            assert_eq!(
                entries(&path, &at_ready),
                entries(&path, &want),
                "{path}: other entries at readiness than build's"
            );
        } else {
            // A page, less its "Earlier stories" link.
            let without_pager = |b: &[u8]| -> String {
                let t = String::from_utf8_lossy(b).into_owned();
                match (t.find("<nav class=\"pager\""), t.find("</main>")) {
                    (Some(i), Some(j)) if i < j => format!("{}{}", &t[..i], &t[j..]),
                    _ => t,
                }
            };
            assert!(
                at_ready == want || without_pager(&at_ready) == without_pager(&want),
                "{path}: at readiness differs from build\nserved:\n{}\nbuilt:\n{}",
                String::from_utf8_lossy(&at_ready),
                String::from_utf8_lossy(&want),
            );
        }
    }
    let all = d.body("/feeds/all.json");
    let items: serde_json::Value = serde_json::from_str(&all).expect("json");
    assert_eq!(
        items["items"].as_array().map(Vec::len),
        Some(50),
        "the newest 50 of {count}"
    );
}

/// The startup scan runs before the watch is set up (the watch would turn
/// each of the scan's reads into an event): files added, edited and removed
/// while the daemon starts must all end up in the feeds as they are on disk.
#[test]
fn changes_while_the_daemon_starts_are_not_lost() {
    let site = Site::new();
    let md = |title: &str, minute: usize, category: &str| {
        format!(
            "---\ntitle: \"{title}\"\ndate: 2024-05-14T10:{minute:02}:00Z\ncategories: [{category}]\n---\nBody of {title}.\n"
        )
    };
    // Enough articles that the startup scan takes a while (debug build).
    for i in 0..1500 {
        let title = format!("Archive Story {i:04}");
        fs::write(
            site.article_path(&format!("world/archive-{i}.md")),
            md(&title, i % 60, "World"),
        )
        .expect("write archive");
    }
    let dir = site.article_path("pakistan");
    let writer = std::thread::spawn(move || {
        let title = |i: usize, v: usize| format!("Live Story {i:02} version {v}");
        let path = |i: usize| dir.join(format!("live-{i}.md"));
        let mut expected = std::collections::BTreeMap::new();
        for i in 0..30 {
            fs::write(path(i), md(&title(i, 1), i, "Pakistan")).expect("write");
            expected.insert(i, title(i, 1));
            if i % 3 == 2 {
                fs::write(path(i - 1), md(&title(i - 1, 2), i - 1, "Pakistan")).expect("edit");
                expected.insert(i - 1, title(i - 1, 2));
            }
            if i % 5 == 4 {
                fs::remove_file(path(i - 3)).expect("remove");
                expected.remove(&(i - 3));
            }
            std::thread::sleep(Duration::from_millis(40));
        }
        expected
    });
    let d = Daemon::start_site(site);
    let expected = writer.join().expect("writer");
    let all: Vec<String> = (0..30)
        .flat_map(|i| [1, 2].map(|v| format!("Live Story {i:02} version {v}")))
        .collect();
    d.wait_feed("/feeds/pakistan.rss", "matched the folder", |b| {
        all.iter()
            .all(|t| b.contains(t.as_str()) == expected.values().any(|e| e == t))
    });
}

/// A file whose writer still holds it half-written when the daemon starts
/// is published once complete, never half: the startup scan leaves what
/// changed just before it to the watch.
#[test]
fn file_half_written_when_the_daemon_starts_is_published_once_complete() {
    let site = Site::new();
    // Longer than the pause between the two chunks below, so the first
    // chunk never holds still long enough to count as finished.
    site.write_raw_config(
        &site
            .config_text()
            .replace("settle = \"1s\"", "settle = \"4s\""),
    );
    let title = "Harbour Board Approves Night Shipping Schedule";
    let last = "Port officials expect the first night convoy next week.";
    let text = seed_article(
        title,
        "World",
        &[
            "The harbour board approved a schedule for night shipping on Monday.",
            "Pilots asked for better lighting along the outer channel.",
            last,
        ],
    );
    let cut = text.find("Pilots asked").expect("cut point");
    let (head, tail) = text.split_at(cut);
    let path = site.article_path("world/harbour.txt");
    fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    let mut f = fs::File::create(&path).expect("create");
    f.write_all(head.as_bytes()).expect("first chunk");
    f.flush().expect("flush");

    // Start-up waits for the file being written: not ready, and nothing
    // half-written served, while it is.
    let mut d = Daemon::launch(site);
    let not_ready_nor_half = || {
        let ready = d.request_status("/readyz") == Some(200);
        let half = d.body("/feeds/world.rss").contains(title);
        !ready && !half
    };
    assert!(
        holds_for(not_ready_nor_half, Duration::from_millis(1500)),
        "ready, or the first chunk published, while the file was being written\n{}",
        d.log()
    );
    f.write_all(tail.as_bytes()).expect("second chunk");
    drop(f);
    d.wait_until_ready();
    let body = d.body("/feeds/world.rss");
    assert!(
        body.contains(last),
        "ready without the complete article\n{body}"
    );
    assert_eq!(rss_items_titled(&body, title).len(), 1);
}
