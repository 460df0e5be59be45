//! Changes to the articles directory reaching the served feeds: new, edited,
//! renamed, moved and deleted files and folders, polling where inotify is
//! blind, and what is never published (editors' temp and swap files,
//! half-written files, hidden directories, binary junk).

mod common;

use std::fs;
use std::io::Write;
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
        assert!(
            item.link.ends_with(&format!("world-{stem}.html")),
            "{item:?}"
        );
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
