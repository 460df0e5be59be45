//! Integration tests of `wirefeed serve`: the real binary, a temp articles
//! directory, real HTTP. Every test runs its own daemon on its own port and
//! temp dir (see `common`), so they run in parallel.
//!
//! Timing: changes are awaited by polling (`eventually`, 5 s); the only
//! fixed pauses are the one the chunked-write scenario is about, and short
//! windows (`holds_for`) that check something does *not* happen.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use common::*;

/// Every feed URL of a daemon with the default categories.
fn all_feed_paths() -> Vec<String> {
    DEFAULT_SLUGS
        .iter()
        .flat_map(|s| ["rss", "atom", "json"].map(|ext| format!("/feeds/{s}.{ext}")))
        .collect()
}

fn rfc3339(s: &str) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::parse_from_rfc3339(s).unwrap_or_else(|e| panic!("{s:?}: {e}"))
}

/// Is there a log line containing `then` after the `nth` (1-based) line
/// containing `first`?
fn logged_after(d: &Daemon, first: &str, nth: usize, then: &str) -> bool {
    let log = d.log();
    let lines: Vec<&str> = log.lines().collect();
    let Some(at) = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.contains(first))
        .nth(nth - 1)
        .map(|(i, _)| i)
    else {
        return false;
    };
    lines[at + 1..].iter().any(|l| l.contains(then))
}

/// Writes a fresh Business article and waits until it is in `/feeds/all.rss`.
/// The watcher and the publisher keep event order, so every file change
/// made before the call has been applied when it returns.
fn barrier(d: &Daemon, name: &str) {
    let title = format!("Barrier Story {name}");
    d.write_article(
        &format!("business/barrier-{name}.txt"),
        &story(&title, "Business", name),
    );
    d.wait_feed("/feeds/all.rss", "listed the barrier story", |b| {
        b.contains(&title)
    });
}

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

/// Scenario 1: A seed-layout article dropped into `articles/world/`.
#[test]
fn new_article_is_published_in_its_category_and_all_without_chrome() {
    let d = Daemon::start();
    let title = "Harbour City Opens Deep Water Container Terminal";
    d.write_article("world/terminal.txt", &story(title, "World", "terminal"));

    let world = d.wait_feed("/feeds/world.rss", "listed the article", |b| {
        b.contains(title)
    });
    let items = rss_items_titled(&world, title);
    assert_eq!(items.len(), 1, "{world}");
    let item = &items[0];
    assert_eq!(item.pub_date, SEED_PUBDATE, "pubDate in Asia/Karachi");
    assert!(item.guid.starts_with("urn:uuid:"), "{item:?}");
    assert!(item.guid_tag.contains(r#"isPermaLink="false""#), "{item:?}");
    // The body is all there (last paragraph included) and starts after the
    // dateline.
    assert!(item
        .raw
        .contains("A final review of the terminal programme is due"));

    let all = d.wait_feed("/feeds/all.rss", "listed the article", |b| {
        b.contains(title)
    });
    let in_all = rss_items_titled(&all, title);
    assert_eq!(in_all.len(), 1, "{all}");
    assert_eq!(in_all[0].guid, item.guid);
    assert_eq!(in_all[0].pub_date, SEED_PUBDATE);

    for other in ["/feeds/business.rss", "/feeds/pakistan.rss"] {
        let r = d.get(other);
        assert_eq!(r.status, 200, "{other}");
        assert!(!r.text().contains(title), "{other} lists a World story");
    }

    let json: serde_json::Value =
        serde_json::from_slice(&d.get("/feeds/world.json").body).expect("JSON feed");
    let json_item = &json["items"][0];
    assert_eq!(json_item["title"], title);
    assert_eq!(json_item["id"], item.guid.as_str());
    assert_eq!(json_item["date_published"], SEED_PUBLISHED);

    // No page chrome anywhere, in any format.
    for path in all_feed_paths() {
        let body = d.get(&path).text();
        for marker in CHROME_MARKERS {
            assert!(
                !body.contains(marker),
                "{path} contains chrome {marker:?}:\n{body}"
            );
        }
    }
}

/// Scenario 2: Editing a body line keeps the GUID and `published`; Atom `updated`
/// moves forward to the file's mtime.
#[test]
fn modified_article_keeps_guid_and_published_and_moves_updated() {
    let d = Daemon::start();
    let title = "Regional Trade Ministers Agree Customs Pilot";
    let path = d.write_article("world/customs.txt", &story(title, "World", "customs"));
    let atom = d.wait_feed("/feeds/world.atom", "listed the article", |b| {
        b.contains(title)
    });
    let before = atom_entries(&atom)
        .into_iter()
        .find(|e| e.title == title)
        .expect("atom entry");
    assert_eq!(before.published, SEED_PUBLISHED);
    let rss_before = rss_items_titled(&d.body("/feeds/world.rss"), title).remove(0);

    let edited = story(title, "World", "customs").replace(
        "The plan was agreed after two days of talks",
        "The plan was agreed after three days of talks",
    );
    fs::write(&path, edited).expect("rewrite");
    let atom = d.wait_feed("/feeds/world.atom", "showed the edit", |b| {
        b.contains("after three days of talks")
    });
    let after = atom_entries(&atom)
        .into_iter()
        .find(|e| e.title == title)
        .expect("atom entry");
    assert_eq!(after.id, before.id, "the GUID changed on edit");
    assert_eq!(after.published, before.published, "published moved on edit");
    assert!(
        rfc3339(&after.updated) > rfc3339(&before.updated),
        "updated did not move forward: {} -> {}",
        before.updated,
        after.updated
    );
    let mtime: chrono::DateTime<chrono::Utc> = fs::metadata(&path)
        .and_then(|m| m.modified())
        .expect("mtime")
        .into();
    assert_eq!(
        rfc3339(&after.updated).timestamp(),
        mtime.timestamp(),
        "updated is not the file's mtime"
    );

    let rss = d.body("/feeds/world.rss");
    let items = rss_items_titled(&rss, title);
    assert_eq!(items.len(), 1, "{rss}");
    assert_eq!(items[0].guid, rss_before.guid);
    assert_eq!(items[0].pub_date, SEED_PUBDATE);

    // An editor's atomic save (temp file renamed over the article) is an
    // edit too, not a new story.
    let tmp = d.write_article(
        "world/.customs.txt.swp",
        &story(title, "World", "customs").replace(
            "could be extended to neighbouring provinces",
            "could be extended to every province",
        ),
    );
    fs::rename(&tmp, &path).expect("rename over");
    let atom = d.wait_feed("/feeds/world.atom", "showed the second edit", |b| {
        b.contains("extended to every province")
    });
    let entries = atom_entries(&atom);
    assert_eq!(entries.len(), 1, "{atom}");
    assert_eq!(entries[0].id, before.id);
    assert_eq!(entries[0].published, before.published);
    assert!(rfc3339(&entries[0].updated) >= rfc3339(&after.updated));
}

/// Scenario 3: Renames (same folder, other folder) keep the GUID and never leave two
/// items behind.
#[test]
fn renamed_article_keeps_its_guid() {
    let d = Daemon::start();
    let title = "Coastal Rail Link Reaches Final Construction Phase";
    let first = d.write_article("world/rail.txt", &story(title, "World", "rail"));
    // A page without chrome takes its category from its folder, so a move
    // between folders is visible in the category feeds.
    let folder_title = "Mountain Villages Receive First Solar Microgrids";
    let folder_text = format!(
        "{folder_title}\n{BYLINE}\nThe first microgrids were switched on in three villages.\n\
         Engineers said another forty villages would follow next spring.\n"
    );
    let folder_first = d.write_article("world/solar.txt", &folder_text);

    let rss = d.wait_feed("/feeds/all.rss", "listed both articles", |b| {
        b.contains(title) && b.contains(folder_title)
    });
    let guid = rss_items_titled(&rss, title)[0].guid.clone();
    let folder_guid = rss_items_titled(&rss, folder_title)[0].guid.clone();
    assert!(d.body("/feeds/world.rss").contains(folder_title));

    let one_item_with_guid =
        |feed: &str, title: &str, guid: &str| one_item_with_guid_in(&d.body(feed), title, guid);

    // Same folder, new name. The feeds look the same before and after (the
    // page id is remembered too), so wait on a barrier, not on the feed.
    let second = d.site.article_path("world/rail-renamed.txt");
    fs::rename(&first, &second).expect("rename");
    barrier(&d, "rename");
    assert!(
        one_item_with_guid("/feeds/all.rss", title, &guid),
        "after a rename in place: {}",
        d.body("/feeds/all.rss")
    );
    assert!(holds_for(
        || one_item_with_guid("/feeds/all.rss", title, &guid)
            && one_item_with_guid("/feeds/world.rss", title, &guid),
        Duration::from_millis(300)
    ));

    // Another folder.
    fs::rename(&second, d.site.article_path("pakistan/rail-moved.txt")).expect("move");
    barrier(&d, "move");
    assert!(
        one_item_with_guid("/feeds/all.rss", title, &guid),
        "after a move: {}",
        d.body("/feeds/all.rss")
    );
    assert!(holds_for(
        || one_item_with_guid("/feeds/all.rss", title, &guid)
            && one_item_with_guid("/feeds/world.rss", title, &guid),
        Duration::from_millis(300)
    ));

    // A folder-categorised article moved from world/ to pakistan/.
    fs::rename(&folder_first, d.site.article_path("pakistan/solar.txt")).expect("move");
    d.wait_feed("/feeds/pakistan.rss", "took the moved article", |b| {
        one_item_with_guid_in(b, folder_title, &folder_guid)
    });
    d.wait_feed("/feeds/world.rss", "dropped the moved article", |b| {
        !b.contains(folder_title)
    });
    assert!(one_item_with_guid(
        "/feeds/all.rss",
        folder_title,
        &folder_guid
    ));
}

fn one_item_with_guid_in(xml: &str, title: &str, guid: &str) -> bool {
    let items = rss_items_titled(xml, title);
    items.len() == 1 && items[0].guid == guid
}

/// A folder moved in with more articles than the feeds can show is read
/// for metadata only (most of it is never shown); what the feeds do show
/// still has its whole body and its summary.
#[test]
fn articles_of_a_big_folder_moved_in_are_shown_whole() {
    let mut site = Site::new();
    // 4 feeds x 1 item: over 4x that, 20 files make a big round.
    site.feed_items = Some(1);
    site.write_config();
    let d = Daemon::start_site(site);
    let incoming = d.site.root().join("incoming");
    fs::create_dir_all(&incoming).expect("mkdir");
    for n in 0..20 {
        let text = story(&format!("Moved Story {n}"), "World", &format!("moved{n}"));
        fs::write(incoming.join(format!("moved-{n:02}.txt")), text).expect("write");
    }
    fs::rename(&incoming, d.site.article_path("world/incoming")).expect("move in");

    let world = d.wait_feed("/feeds/world.json", "listed a moved story", |b| {
        b.contains("Moved Story")
    });
    let json: serde_json::Value = serde_json::from_str(&world).expect("JSON feed");
    let item = &json["items"][0];
    let title = item["title"].as_str().expect("title");
    let n = title.trim_start_matches("Moved Story ");
    let html = item["content_html"].as_str().expect("content_html");
    assert!(
        html.contains(&format!("A final review of the moved{n} programme is due")),
        "the last paragraph is missing: {html}"
    );
    assert_eq!(
        item["summary"],
        format!("Officials said on Tuesday that the moved{n} programme would start next month.")
    );
    let rss = d.body("/feeds/world.rss");
    assert!(
        rss.contains(&format!("A final review of the moved{n} programme is due")),
        "{rss}"
    );
}

/// Scenario 4: A deleted file leaves every feed (and its page goes away).
#[test]
fn deleted_article_leaves_the_feeds() {
    let d = Daemon::start();
    let title = "Wheat Procurement Target Raised by Ten Percent";
    let path = d.write_article("world/wheat.txt", &story(title, "World", "wheat"));
    let rss = d.wait_feed("/feeds/world.rss", "listed the article", |b| {
        b.contains(title)
    });
    let item = rss_items_titled(&rss, title).remove(0);
    let page = item
        .link
        .split_once("/articles/")
        .map(|(_, id)| format!("/articles/{id}"))
        .expect("link to /articles/{id}");
    assert_eq!(d.get(&page).status, 200);

    fs::remove_file(&path).expect("delete");
    d.wait_feed("/feeds/world.rss", "dropped the article", |b| {
        !b.contains(title)
    });
    for feed in all_feed_paths() {
        assert!(!d.body(&feed).contains(title), "{feed} still lists it");
    }
    assert_eq!(
        d.get(&page).status,
        404,
        "the article page outlived the file"
    );

    // A different article later written at the same path is a new story.
    let other = "Cotton Growers Report Early Harvest";
    d.write_article("world/wheat.txt", &story(other, "World", "cotton"));
    let rss = d.wait_feed("/feeds/world.rss", "listed the new article", |b| {
        b.contains(other)
    });
    let new_item = rss_items_titled(&rss, other).remove(0);
    assert_ne!(
        new_item.guid, item.guid,
        "a new story reused a deleted GUID"
    );
    assert!(!rss.contains(title));
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

/// Where inotify delivers nothing (network and some bind mounts), the
/// operator sets `articles.poll_interval`: additions, edits and deletions
/// still reach the feeds.
#[test]
fn with_polling_new_changed_and_deleted_articles_reach_the_feeds() {
    let mut site = Site::new();
    site.poll_interval = Some("200ms");
    site.write_config();
    let d = Daemon::start_site(site);
    let title = "Polled Desk Files Rice Export Figures";
    let path = d.write_article("world/rice.txt", &story(title, "World", "rice"));
    d.wait_feed("/feeds/world.rss", "listed the polled article", |b| {
        b.contains(title)
    });
    let edited = "Polled Desk Revises Rice Export Figures";
    fs::write(&path, story(edited, "World", "rice")).expect("rewrite");
    d.wait_feed("/feeds/world.rss", "showed the edit", |b| {
        b.contains(edited) && !b.contains(title)
    });
    fs::remove_file(&path).expect("delete");
    d.wait_feed("/feeds/world.rss", "dropped the article", |b| {
        !b.contains(edited)
    });
}

/// Scenario 5: A file written in two chunks through one handle, 300 ms apart, is
/// read once it is complete, never half-written.
#[test]
fn file_written_in_two_chunks_is_never_published_half_written() {
    let d = Daemon::start();
    let title = "Provincial Assembly Debates Water Sharing Accord";
    let last = "The session was adjourned until Thursday morning.";
    let text = seed_article(
        title,
        "World",
        &[
            "Lawmakers from all parties spoke during a five hour session on the accord.",
            "Several members asked for the accord to be reviewed by an independent panel.",
            "The irrigation minister said the province would honour every commitment.",
            last,
        ],
    );
    // The first chunk is a valid article by itself (title, byline,
    // dateline, one paragraph): a reader that does not wait would publish it.
    let cut = text.find("Several members").expect("cut point");
    let (head, tail) = text.split_at(cut);
    let path = d.site.article_path("world/accord.txt");
    let written = AtomicBool::new(false);

    let (half_seen, complete, polls) = std::thread::scope(|s| {
        let poller = s.spawn(|| {
            let mut half_seen = Vec::new();
            let mut complete = false;
            let mut polls = 0u32;
            let mut written_at: Option<Instant> = None;
            loop {
                let body = d.body("/feeds/world.rss");
                polls += 1;
                if body.contains(title) {
                    if body.contains(last) {
                        complete = true;
                    } else {
                        half_seen.push(body);
                    }
                }
                if written.load(Ordering::Acquire) {
                    let at = *written_at.get_or_insert_with(Instant::now);
                    if complete || at.elapsed() > DEFAULT_WAIT {
                        break;
                    }
                }
                std::thread::sleep(Duration::from_millis(10));
            }
            (half_seen, complete, polls)
        });
        let mut f = fs::File::create(&path).expect("create");
        f.write_all(head.as_bytes()).expect("first chunk");
        f.flush().expect("flush");
        std::thread::sleep(Duration::from_millis(300));
        f.write_all(tail.as_bytes()).expect("second chunk");
        drop(f);
        written.store(true, Ordering::Release);
        poller.join().expect("poller")
    });
    assert!(
        half_seen.is_empty(),
        "{} polls saw the article without its end; first:\n{}",
        half_seen.len(),
        half_seen[0]
    );
    assert!(complete, "the complete article never appeared\n{}", d.log());
    assert!(
        polls >= 10,
        "only {polls} polls: the write was not observed"
    );
    assert_eq!(
        rss_items_titled(&d.body("/feeds/world.rss"), title).len(),
        1
    );
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

/// Scenario 6: Atomic save: write a temp file, rename it into place.
#[test]
fn atomic_save_via_temp_file_publishes_once() {
    let d = Daemon::start();
    let cases = [
        (
            "world/.ceasefire.txt.tmp",
            "world/ceasefire.txt",
            "Border Talks Resume After Week Long Pause",
        ),
        (
            "world/x.tmp",
            "world/x.txt",
            "Central Bank Leaves Policy Rate Unchanged",
        ),
    ];
    for (i, (tmp, fin, title)) in cases.iter().enumerate() {
        let tmp = d.write_article(tmp, &story(title, "World", &format!("save{i}")));
        fs::rename(&tmp, d.site.article_path(fin)).expect("rename into place");
    }
    let once = |b: &str| {
        cases
            .iter()
            .all(|(_, _, t)| rss_items_titled(b, t).len() == 1)
    };
    d.wait_feed("/feeds/all.rss", "listed each saved article once", once);
    assert!(holds_for(
        || once(&d.body("/feeds/all.rss")),
        Duration::from_millis(300)
    ));
    let rss = d.body("/feeds/world.rss");
    for (tmp, fin, title) in &cases {
        let item = rss_items_titled(&rss, title).remove(0);
        let stem = fin.trim_start_matches("world/").trim_end_matches(".txt");
        assert!(item.link.ends_with(&format!("world-{stem}")), "{item:?}");
        let tmp_name = tmp.trim_start_matches("world/");
        assert!(
            d.log_lines_with(&["rejected file", tmp_name]).is_empty(),
            "the temp file was read:\n{}",
            d.log()
        );
    }
}

/// Scenario 7: Editor swap files, backups, hidden files and partial downloads are
/// never read.
#[test]
fn temp_swap_hidden_and_partial_files_never_appear() {
    let d = Daemon::start();
    let ignored = [
        "world/a.txt.swp",
        "world/b.txt~",
        "world/.hidden.txt",
        "world/c.part",
        "world/d.tmp",
        "world/.#lock.txt",
        "e.txt.swp",
    ];
    for (i, rel) in ignored.iter().enumerate() {
        d.write_article(rel, &story(&format!("Ignored File {i}"), "World", rel));
    }
    // A real article written after them: once it is in, the others have
    // been seen (or would have been) too.
    let sentinel = "Sentinel Story Confirms The Watcher Is Running";
    d.write_article("world/sentinel.txt", &story(sentinel, "World", "sentinel"));
    d.wait_feed("/feeds/all.rss", "listed the sentinel", |b| {
        b.contains(sentinel)
    });
    let none_ignored = || {
        ["/feeds/all.rss", "/feeds/world.json"]
            .iter()
            .all(|f| !d.body(f).contains("Ignored File"))
    };
    assert!(
        holds_for(none_ignored, Duration::from_millis(300)),
        "an ignored file was published:\n{}",
        d.body("/feeds/all.rss")
    );
    assert_eq!(rss_items(&d.body("/feeds/all.rss")).len(), 1);
}

/// Editors create and delete swap, backup and test files beside the
/// article on every save: those come and go without a publish (each used
/// to republish every feed unchanged and log a `published` line).
#[test]
fn junk_files_coming_and_going_do_not_republish() {
    let d = Daemon::start();
    // A publish is logged just after it is served: give the line time.
    let settled = || std::thread::sleep(Duration::from_millis(100));
    barrier(&d, "before");
    settled();
    let publishes = || d.log_lines_with(&["published feeds="]).len();
    let before = publishes();
    for rel in [
        "world/story.txt.swp",
        "world/4913",
        "world/story.txt~",
        "world/.#x.txt",
        "notes.tmp",
    ] {
        let path = d.write_article(rel, "junk");
        fs::remove_file(path).expect("remove junk");
    }
    // Long enough (10 debounce windows) for the removals to form a round
    // of their own before the barrier article comes.
    std::thread::sleep(Duration::from_millis(200));
    barrier(&d, "after");
    settled();
    assert_eq!(
        publishes() - before,
        1,
        "only the barrier article should have been published:\n{}",
        d.log()
    );
}

/// A folder removed with its articles (`rm -rf world/2024`): they leave the
/// feeds, and the log holds no watcher chatter about the folder's watch
/// (notify reports at `info` that it could not remove a watch the kernel
/// had already dropped with the folder).
#[test]
fn removed_folder_takes_its_articles_out_quietly() {
    let d = Daemon::start();
    let titles = [
        "Archive Story One In A Subfolder",
        "Archive Story Two In A Subfolder",
    ];
    for (i, t) in titles.iter().enumerate() {
        d.write_article(
            &format!("world/2024/old-{i}.txt"),
            &story(t, "World", &format!("old{i}")),
        );
    }
    d.wait_feed("/feeds/world.rss", "listed both archive stories", |b| {
        titles.iter().all(|t| b.contains(t))
    });
    fs::remove_dir_all(d.site.article_path("world/2024")).expect("rm -rf world/2024");
    for feed in ["/feeds/world.rss", "/feeds/all.atom"] {
        d.wait_feed(feed, "dropped both archive stories", |b| {
            titles.iter().all(|t| !b.contains(t))
        });
    }
    assert!(
        d.log_lines_with(&["notify"]).is_empty(),
        "watcher chatter in the log:\n{}",
        d.log()
    );
}

/// Scenario 7b: A file inside a hidden directory (`.git/`, `.drafts/`) is skipped by
/// the startup scan, and must be skipped by the watcher too.
///
/// Regression: files under a hidden directory written while the daemon runs
/// are skipped, exactly as the startup scan skips them (they used to be
/// published and then vanish on the next restart).
#[test]
fn files_in_hidden_directories_are_never_published() {
    let d = Daemon::start();
    let watches = inotify_watches(d.pid()).unwrap_or(0);
    fs::create_dir_all(d.site.article_path("world/.drafts")).expect("mkdir");
    // Let the watcher add its watch on the new folder before writing in it
    // (a file written earlier is not seen by anybody, which is correct).
    let _ = eventually(|| inotify_watches(d.pid()).is_none_or(|n| n > watches));
    let hidden = "Embargoed Draft Must Stay Private";
    d.write_article(
        "world/.drafts/embargo.txt",
        &story(hidden, "World", "embargo"),
    );
    let sentinel = "Sentinel Story After The Hidden Draft";
    d.write_article("world/sentinel.txt", &story(sentinel, "World", "sentinel2"));
    d.wait_feed("/feeds/all.rss", "listed the sentinel", |b| {
        b.contains(sentinel)
    });
    assert!(
        holds_for(
            || !d.body("/feeds/all.rss").contains(hidden),
            Duration::from_millis(300)
        ),
        "a file under a hidden directory was published:\n{}",
        d.body("/feeds/all.rss")
    );
}

/// Scenario 8: A binary file is rejected with a log line; every feed stays valid.
#[test]
fn binary_junk_is_rejected_and_feeds_stay_valid() {
    let d = Daemon::start();
    let title = "Fisheries Department Publishes Annual Catch Survey";
    d.write_article("world/fisheries.txt", &story(title, "World", "fisheries"));
    d.wait_feed("/feeds/world.rss", "listed the article", |b| {
        b.contains(title)
    });

    let mut junk = pseudo_random_bytes(0x5eed, 2048);
    for b in junk.iter_mut().step_by(3) {
        *b = 0;
    }
    let junk_path = d.site.article_path("world/junk.txt");
    fs::write(&junk_path, &junk).expect("write junk");
    let junk_str = junk_path.display().to_string();
    let logged = eventually(|| !d.log_lines_with(&["rejected file", &junk_str]).is_empty());
    assert!(
        logged,
        "no 'rejected file' line for {junk_str}:\n{}",
        d.log()
    );

    for path in all_feed_paths() {
        let r = d.get(&path);
        assert_eq!(r.status, 200, "{path}");
        if path.ends_with(".json") {
            let v: serde_json::Value = serde_json::from_slice(&r.body)
                .unwrap_or_else(|e| panic!("{path}: {e}\n{}", r.text()));
            assert!(v["items"].is_array(), "{path}");
        } else {
            parse_feed(&path, &r.body);
        }
    }
    let world = parse_feed("/feeds/world.rss", &d.get("/feeds/world.rss").body);
    assert_eq!(world.entries.len(), 1, "the junk became an item");
    // Operators alert on this gauge; no feed changed, yet it must count the file.
    let counted = eventually(|| {
        d.get("/metrics")
            .text()
            .lines()
            .any(|l| l == "wirefeed_article_problems 1")
    });
    assert!(counted, "{}", d.get("/metrics").text());
    assert_eq!(
        world.entries[0].title.as_ref().map(|t| t.content.as_str()),
        Some(title)
    );
}

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

/// Scenario 10: Content negotiation: gzip and brotli bodies decode to the identity
/// body; `q=0` refuses a coding.
#[test]
fn gzip_and_brotli_encodings_decode_to_the_identity_body() {
    let d = Daemon::start();
    let title = "Textile Exports Rise for Third Straight Month";
    d.write_article(
        "business/textiles.txt",
        &story(title, "Business", "textile"),
    );
    d.wait_feed("/feeds/business.rss", "listed the article", |b| {
        b.contains(title)
    });
    // A change is served at once (identity); its encodings follow within
    // milliseconds, computed in the background.
    for feed in [
        "/feeds/business.rss",
        "/feeds/business.atom",
        "/feeds/all.json",
    ] {
        assert!(
            eventually(|| {
                let r = d.get_with(feed, &[("Accept-Encoding", "gzip")]);
                r.header("content-encoding") == Some("gzip")
            }),
            "{feed}: never served gzip"
        );
    }

    for feed in [
        "/feeds/business.rss",
        "/feeds/business.atom",
        "/feeds/all.json",
    ] {
        let identity = d.get(feed);
        assert_eq!(identity.status, 200);
        assert_eq!(identity.header("content-encoding"), None, "{feed}");
        let etag = identity
            .header("etag")
            .expect("etag")
            .trim_matches('"')
            .to_string();

        let gz = d.get_with(feed, &[("Accept-Encoding", "gzip")]);
        assert_eq!(gz.status, 200);
        assert_eq!(gz.header("content-encoding"), Some("gzip"), "{feed}");
        assert!(
            gz.header("vary")
                .is_some_and(|v| v.contains("Accept-Encoding")),
            "{feed}: {:?}",
            gz.headers
        );
        assert_eq!(gz.header("etag"), Some(format!("\"{etag}-gz\"").as_str()));
        assert_eq!(
            gz.header("content-length"),
            Some(gz.body.len().to_string().as_str())
        );
        assert_eq!(gunzip(&gz.body), identity.body, "{feed}: gzip body");

        let r = d.get_with(feed, &[("Accept-Encoding", "br;q=0, gzip")]);
        assert_eq!(r.header("content-encoding"), Some("gzip"), "{feed}: br;q=0");
        assert_eq!(gunzip(&r.body), identity.body);

        let br = d.get_with(feed, &[("Accept-Encoding", "gzip, br")]);
        assert_eq!(br.header("content-encoding"), Some("br"), "{feed}");
        assert_eq!(br.header("etag"), Some(format!("\"{etag}-br\"").as_str()));
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &br.body[..], &mut out).expect("valid brotli");
        assert_eq!(out, identity.body, "{feed}: brotli body");

        let r = d.get_with(feed, &[("Accept-Encoding", "gzip;q=0")]);
        assert_eq!(r.header("content-encoding"), None, "{feed}: gzip;q=0");
        assert_eq!(r.body, identity.body);
    }
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

/// Scenario 12: Saving the config file reloads it; so does SIGHUP; a broken config
/// is logged and the running one kept.
#[test]
fn config_reload_on_save_and_sighup_and_broken_config_is_ignored() {
    let mut d = Daemon::start();
    let title = "National Team Wins Series Decider in Final Over";
    d.write_article("cricket.txt", &story(title, "Sports", "cricket"));
    d.wait_feed("/feeds/all.rss", "listed the article", |b| {
        b.contains(title)
    });
    assert_eq!(d.get("/feeds/sports.rss").status, 404);

    // Save the config with a `sports` category.
    d.site
        .categories
        .push(Category::new("sports", "Sports", &["Sports"]));
    d.site.write_config();
    d.wait_feed("/feeds/sports.rss", "appeared with the article", |b| {
        b.contains(title)
    });
    assert!(d.get("/feeds.opml").text().contains("/feeds/sports.rss"));

    // SIGHUP reloads too.
    d.signal("HUP");
    assert!(
        eventually(|| logged_after(
            &d,
            "SIGHUP: reloading config",
            1,
            "config reloaded categories="
        )),
        "no reload after SIGHUP:\n{}",
        d.log()
    );
    assert_eq!(d.get("/feeds/sports.rss").status, 200);

    // A broken config is refused; the running one stays in force. (Renamed
    // into place: written in place, a slow writer can trigger two reloads,
    // and the second can swallow the next file change; see
    // `file_change_during_a_failed_reload_is_not_lost`.)
    let failed = d.count_log("config reload failed");
    d.site
        .replace_raw_config("[site\ntitle = \"broken\nthis is not TOML\n");
    assert!(
        eventually(|| d.count_log("config reload failed") > failed),
        "a broken config was not reported:\n{}",
        d.log()
    );
    let r = d.get("/feeds/sports.rss");
    assert_eq!(r.status, 200);
    assert!(r.text().contains(title));
    // ...and keeps working: a new Sports article still lands in its feed.
    let title2 = "Squash Open Draws Record Entries";
    d.write_article("squash.txt", &story(title2, "Sports", "squash"));
    d.wait_feed("/feeds/sports.rss", "took a new article", |b| {
        b.contains(title2)
    });

    // SIGHUP with the broken file still on disk: refused again, still up.
    d.signal("HUP");
    assert!(
        eventually(|| logged_after(&d, "SIGHUP: reloading config", 2, "config reload failed")),
        "no refused reload after the second SIGHUP:\n{}",
        d.log()
    );
    assert_eq!(d.get("/feeds/sports.rss").status, 200);
    assert_eq!(d.get("/readyz").status, 200);
}

/// Scenario 12d: SIGTERM right after SIGHUP (a config save followed by a
/// restart, `systemctl reload` then `stop`) still stops the daemon.
///
/// Regression: SIGTERM arriving while a reload is pending still stops the
/// daemon (the reload drain used to swallow the shutdown message).
///
/// A few more SIGHUPs follow the SIGTERM (20 ms apart) so that the
/// publisher is inside its 50 ms reload pause when the Shutdown message
/// arrives even on a loaded machine.
#[test]
fn sigterm_right_after_sighup_still_stops() {
    let mut d = Daemon::start();
    d.signal("HUP");
    let sent = Instant::now();
    d.signal("TERM");
    for _ in 0..5 {
        std::thread::sleep(Duration::from_millis(20));
        d.signal_unchecked("HUP");
    }
    let exited = d.wait_exit(Duration::from_secs(2).saturating_sub(sent.elapsed()));
    assert!(
        exited.is_some(),
        "still running 2 s after SIGTERM (SIGHUP just before):\n{}",
        d.log()
    );
}

/// Scenario 12e: an article written while a reload is being refused is
/// still published.
///
/// Regression: a file change that arrives during a refused reload (invalid
/// config) is still published (the reload drain used to drop it).
#[test]
fn file_change_during_a_failed_reload_is_not_lost() {
    // Symlinked config: the daemon's file watch does not see the edit, so
    // the reloads below are exactly the SIGHUPs.
    let d = Daemon::start_site(Site::with_symlinked_config());
    d.site.write_raw_config("[site\nthis is not TOML\n");
    let title = "Story Filed During A Refused Reload";
    d.signal("HUP");
    d.write_article("world/refused.txt", &story(title, "World", "refused"));
    // Keep the publisher in its reload pause while the watcher's batch for
    // the file arrives (about 20-30 ms after the write), loaded machine or not.
    for _ in 0..12 {
        d.signal("HUP");
        std::thread::sleep(Duration::from_millis(25));
    }
    assert!(
        eventually(|| d.count_log("config reload failed") >= 1),
        "the broken config was not refused:\n{}",
        d.log()
    );
    assert!(
        eventually(|| d.body("/feeds/all.rss").contains(title)),
        "an article written during a refused reload was never published:\n{}",
        d.log()
    );
}

/// Scenario 12b: SIGHUP alone reloads: the config is changed where the daemon's
/// file watch cannot see it (through a symlink), so only the signal can.
#[test]
fn sighup_reloads_a_config_change_the_file_watch_cannot_see() {
    let mut site = Site::with_symlinked_config();
    site.categories
        .push(Category::new("tech", "Technology", &["Technology"]));
    site.write_config();
    let mut d = Daemon::start_site(site);
    let title = "Startup Incubator Opens Second Campus";
    d.write_article("incubator.txt", &story(title, "Technology", "incubator"));
    d.wait_feed("/feeds/tech.rss", "listed the article", |b| {
        b.contains(title)
    });

    d.site
        .categories
        .push(Category::new("sports", "Sports", &["Sports"]));
    d.site.write_config();
    let sports = "Hockey Federation Names New Coach";
    d.write_article("hockey.txt", &story(sports, "Sports", "hockey"));
    d.wait_feed("/feeds/all.rss", "listed the article", |b| {
        b.contains(sports)
    });
    assert_eq!(
        d.get("/feeds/sports.rss").status,
        404,
        "the config was reloaded without a signal"
    );
    d.signal("HUP");
    d.wait_feed("/feeds/sports.rss", "appeared after SIGHUP", |b| {
        b.contains(sports)
    });
    assert!(d.body("/feeds/tech.rss").contains(title));

    // A category removed from the config takes its feeds with it.
    d.site.categories.retain(|c| c.slug != "tech");
    d.site.write_config();
    d.signal("HUP");
    assert!(
        eventually(|| d.get("/feeds/tech.rss").status == 404),
        "a removed category is still served"
    );
    for ext in ["atom", "json"] {
        assert_eq!(d.get(&format!("/feeds/tech.{ext}")).status, 404);
    }
    assert!(eventually(|| !d
        .get("/feeds.opml")
        .text()
        .contains("/feeds/tech.rss")));
    assert!(d.body("/feeds/all.rss").contains(title));
    assert!(d.body("/feeds/sports.rss").contains(sports));
}

/// Scenario 12c: A config reload swaps the site in one step: once a removed
/// category's feed answers 404, the OPML no longer lists it.
///
/// Regression: a reload that removes a category swaps its feeds out in the
/// same atomic step that swaps the new index and OPML in: `/` and
/// `/feeds.opml` never advertise a feed that answers 404.
#[test]
fn config_reload_swaps_feeds_and_opml_at_once() {
    let mut site = Site::new();
    site.categories
        .push(Category::new("tech", "Technology", &["Technology"]));
    site.write_config();
    // Enough articles for the reload's full scan to take a while.
    for i in 0..100 {
        fs::write(
            site.article_path(&format!("pakistan/filler-{i}.txt")),
            story(
                &format!("Filler Story Number {i}"),
                "Pakistan",
                &format!("filler{i}"),
            ),
        )
        .expect("write filler");
    }
    let mut d = Daemon::start_site(site);
    assert_eq!(d.get("/feeds/tech.rss").status, 200);

    d.site.categories.retain(|c| c.slug != "tech");
    d.site.write_config();
    // Read the feed first, then the OPML: after an atomic swap, once the
    // feed is gone the OPML read after it must be the new one too.
    let mut half = 0;
    let mut polls = 0;
    let done = wait_until(
        || {
            let gone = d.get("/feeds/tech.rss").status == 404;
            let listed = d.get("/feeds.opml").text().contains("/feeds/tech.rss");
            polls += 1;
            if gone && listed {
                half += 1;
            }
            gone && !listed
        },
        DEFAULT_WAIT,
    );
    assert!(done, "the reload never completed:\n{}", d.log());
    assert_eq!(
        half, 0,
        "{half} of {polls} polls saw /feeds/tech.rss gone while /feeds.opml still listed it"
    );
}

/// Scenario 13: A restart keeps GUIDs and publication dates, also of an article
/// without any date (dated by its file).
#[test]
fn restart_keeps_guids_and_pub_dates() {
    let mut d = Daemon::start();
    let dated = "Airport Expansion Enters Second Phase";
    d.write_article("world/airport.txt", &story(dated, "World", "airport"));
    let undated = "Library Reopens After Two Year Renovation";
    let undated_path = d.write_article(
        "pakistan/library.txt",
        &format!(
            "{undated}\nThe city library reopened its doors to readers this week.\n\
             Volunteers helped move more than forty thousand books back onto the shelves.\n"
        ),
    );
    let rss = d.wait_feed("/feeds/all.rss", "listed both", |b| {
        b.contains(dated) && b.contains(undated)
    });
    let before: Vec<RssItem> = rss_items(&rss);
    assert_eq!(before.len(), 2, "{rss}");
    let undated_before = rss_items_titled(&rss, undated).remove(0);
    let mtime: chrono::DateTime<chrono::Utc> = fs::metadata(&undated_path)
        .and_then(|m| m.modified())
        .expect("mtime")
        .into();
    assert_eq!(
        chrono::DateTime::parse_from_rfc2822(&undated_before.pub_date)
            .expect("pubDate")
            .timestamp(),
        mtime.timestamp(),
        "an undated article is dated by its file"
    );

    let took = d
        .stop_within(Duration::from_secs(2))
        .unwrap_or_else(|| panic!("still running 2 s after SIGTERM\n{}", d.log()));
    assert!(took < Duration::from_secs(2));
    assert!(d.count_log("stopped") >= 1, "{}", d.log());

    // While stopped, the undated file is touched (same bytes, older mtime):
    // its first publication date is remembered, not re-read from the file.
    let earlier = std::time::SystemTime::now() - Duration::from_secs(3 * 24 * 3600);
    fs::File::options()
        .write(true)
        .open(&undated_path)
        .and_then(|f| f.set_modified(earlier))
        .expect("set mtime");

    d.restart();
    let rss = d.wait_feed("/feeds/all.rss", "listed both again", |b| {
        b.contains(dated) && b.contains(undated)
    });
    let after = rss_items(&rss);
    assert_eq!(after.len(), 2, "{rss}");
    for item in &before {
        let again = after
            .iter()
            .find(|i| i.title == item.title)
            .expect("same article");
        assert_eq!(again.guid, item.guid, "{}: GUID changed", item.title);
        assert_eq!(
            again.pub_date, item.pub_date,
            "{}: pubDate changed",
            item.title
        );
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
