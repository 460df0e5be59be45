//! Config reload while serving: saving the config file or SIGHUP swaps the
//! new categories in at once (feeds, index and OPML together), a broken
//! config is refused and the running one kept, and neither a pending nor a
//! refused reload swallows a SIGTERM or a file change.

mod common;

use std::fs;
use std::time::{Duration, Instant};

use common::*;

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

    // A category removed from the config takes its feeds and page with it.
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
    // And its page: it would link to feeds that are gone.
    for page in ["/categories/tech.html", "/categories/tech/"] {
        assert_eq!(d.get(page).status, 404, "{page}");
    }
    assert!(!d.body("/").contains("/categories/tech.html"));
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
