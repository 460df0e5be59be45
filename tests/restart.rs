//! Stopping and starting the daemon again: SIGTERM stops it promptly, and
//! after a restart every article keeps the GUID and publication date it
//! had, even one dated only by its file whose mtime changed meanwhile.

mod common;

use std::fs;
use std::time::Duration;

use common::*;

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
