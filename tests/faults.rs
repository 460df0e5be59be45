//! Faults and abuse against the real daemon: crashes, a vanishing
//! directory, files turning into folders, symlinks out of the tree, a FIFO
//! among the articles, a corrupt state store, scheduled stories, slow and
//! oversized requests.
//!
//! The 10k-file crash test is `#[ignore]`d (about a minute); run it with
//! `cargo test --release --test faults -- --ignored`.

mod common;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;

#[test]
fn scheduled_article_appears_at_its_time_without_a_file_event() {
    let d = Daemon::start();
    let at = chrono::Utc::now() + chrono::Duration::seconds(3);
    let text = format!(
        "---\ntitle: Embargoed Budget Story\ndate: {}\ncategories: [World]\n---\nThe budget is out.\n",
        at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
    d.write_article("world/embargo.md", &text);
    d.write_article(
        "world/now.txt",
        &story("Published Right Away", "World", "now"),
    );
    d.wait_feed("/feeds/world.rss", "listed the current story", |b| {
        b.contains("Published Right Away")
    });
    assert!(
        !d.body("/feeds/world.rss")
            .contains("Embargoed Budget Story"),
        "not before its time"
    );
    let started = Instant::now();
    assert!(
        wait_until(
            || d.body("/feeds/world.rss")
                .contains("Embargoed Budget Story"),
            Duration::from_secs(8)
        ),
        "the scheduled story never appeared; log:\n{}",
        d.log()
    );
    let late = chrono::Utc::now() - at;
    assert!(
        late < chrono::Duration::seconds(2),
        "appeared {late} after its time ({:?} waited)",
        started.elapsed()
    );
}

#[test]
fn a_scheduled_story_follows_its_new_time_earlier_or_later() {
    let d = Daemon::start();
    let at = |secs: i64| {
        (chrono::Utc::now() + chrono::Duration::seconds(secs))
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    };
    let text = |title: &str, date: String| {
        format!("---\ntitle: {title}\ndate: {date}\ncategories: [World]\n---\nThe budget is out.\n")
    };
    // An embargo lifted early: scheduled an hour ahead, then set to now.
    d.write_article("world/early.md", &text("Embargo Lifted Early", at(3600)));
    d.write_article("world/now.txt", &story("First Marker", "World", "m1"));
    d.wait_feed("/feeds/world.rss", "listed the marker", |b| {
        b.contains("First Marker")
    });
    assert!(!d.body("/feeds/world.rss").contains("Embargo Lifted Early"));
    d.write_article("world/early.md", &text("Embargo Lifted Early", at(-60)));
    d.wait_feed(
        "/feeds/world.rss",
        "listed the story at its new time",
        |b| b.contains("Embargo Lifted Early"),
    );
    // An embargo extended: due in 2 s, then moved an hour ahead.
    d.write_article("world/later.md", &text("Embargo Extended", at(2)));
    d.write_article("world/then.txt", &story("Second Marker", "World", "m2"));
    d.wait_feed("/feeds/world.rss", "listed the marker", |b| {
        b.contains("Second Marker")
    });
    d.write_article("world/later.md", &text("Embargo Extended", at(3600)));
    std::thread::sleep(Duration::from_secs(4));
    assert!(
        !d.body("/feeds/world.rss").contains("Embargo Extended"),
        "published at the time it no longer has; log:\n{}",
        d.log()
    );
}

#[test]
fn articles_directory_removed_and_recreated_recovers() {
    let d = Daemon::start();
    d.write_article("world/a.txt", &story("Before The Wipe", "World", "wipe"));
    d.wait_feed("/feeds/all.rss", "listed the story", |b| {
        b.contains("Before The Wipe")
    });
    fs::remove_dir_all(d.site.articles()).expect("rm -rf articles");
    d.wait_feed("/feeds/all.rss", "dropped the vanished story", |b| {
        !b.contains("Before The Wipe")
    });
    fs::create_dir_all(d.site.articles().join("world")).expect("mkdir");
    // Give the watcher a moment to see the new directory, then write.
    d.wait_log("(re)appeared", "the new directory");
    d.write_article("world/b.txt", &story("After The Wipe", "World", "after"));
    d.wait_feed("/feeds/world.rss", "listed the new story", |b| {
        b.contains("After The Wipe")
    });
}

#[test]
fn a_file_replaced_by_a_directory() {
    let d = Daemon::start();
    let path = d.write_article(
        "world/story.txt",
        &story("Plain File Story", "World", "file"),
    );
    d.wait_feed("/feeds/all.rss", "listed the story", |b| {
        b.contains("Plain File Story")
    });
    fs::remove_file(&path).expect("rm");
    fs::create_dir_all(&path).expect("mkdir in its place");
    fs::write(
        path.join("inner.txt"),
        story("Story Inside The Folder", "World", "inner"),
    )
    .expect("write");
    d.wait_feed("/feeds/all.rss", "swapped file for folder", |b| {
        b.contains("Story Inside The Folder") && !b.contains("Plain File Story")
    });
}

/// A FIFO named like an article, dropped into the watched tree: opening it
/// for reading would block the reading thread forever without
/// `O_NONBLOCK`, and it must never count as an article, live or at start-up.
#[test]
fn a_fifo_named_like_an_article_never_blocks_the_daemon() {
    let d = Daemon::start();
    let fifo = d.site.article_path("world/pipe.txt");
    let c_path = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: a valid NUL-terminated path; mkfifo only creates the node.
    assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0, "mkfifo");
    d.write_article(
        "world/after.txt",
        &story("Story After The Pipe", "World", "after"),
    );
    d.wait_feed(
        "/feeds/world.rss",
        "listed the story beside the FIFO",
        |b| b.contains("Story After The Pipe"),
    );
    d.wait_log("not a regular file", "the FIFO");
    let mut d = d;
    d.restart();
    d.write_article(
        "world/later.txt",
        &story("Story After The Restart", "World", "later"),
    );
    d.wait_feed(
        "/feeds/world.rss",
        "listed the story after a restart",
        |b| b.contains("Story After The Restart") && b.contains("Story After The Pipe"),
    );
}

#[test]
fn symlinks_out_of_the_tree_are_never_read_or_served() {
    let d = Daemon::start();
    let outside = d.site.root().join("outside");
    fs::create_dir_all(&outside).expect("mkdir");
    fs::write(
        outside.join("secret.txt"),
        story("Secret Outside Story", "World", "secret"),
    )
    .expect("write");
    std::os::unix::fs::symlink(
        outside.join("secret.txt"),
        d.site.article_path("world/link.txt"),
    )
    .expect("symlink file");
    std::os::unix::fs::symlink(&outside, d.site.article_path("world/linkdir"))
        .expect("symlink dir");
    std::os::unix::fs::symlink("/etc/passwd", d.site.article_path("world/passwd.txt"))
        .expect("symlink passwd");
    d.write_article(
        "world/real.txt",
        &story("Real Inside Story", "World", "real"),
    );
    let body = d.wait_feed("/feeds/all.rss", "listed the real story", |b| {
        b.contains("Real Inside Story")
    });
    assert!(
        !body.contains("Secret Outside Story") && !body.contains("root:"),
        "{body}"
    );
    let (status, text) = d.raw_get("/articles/world-link");
    assert_eq!(status, 404, "{text}");
    // And after a restart (the startup scan) still nothing from outside.
    let mut d = d;
    d.restart();
    let body = d.wait_feed("/feeds/all.rss", "listed the real story", |b| {
        b.contains("Real Inside Story")
    });
    assert!(!body.contains("Secret Outside Story"));
}

#[test]
fn a_corrupt_state_store_is_rebuilt_not_a_crash_loop() {
    let site = Site::new();
    fs::write(
        site.root().join("state/state.redb"),
        b"definitely not a redb database file",
    )
    .expect("write");
    fs::write(
        site.root().join("articles/world/a.txt"),
        story("Survives Corruption", "World", "corrupt"),
    )
    .expect("write");
    let d = Daemon::start_site(site);
    d.wait_feed("/feeds/world.rss", "listed the story", |b| {
        b.contains("Survives Corruption")
    });
    assert!(
        d.log().contains("corrupt"),
        "a warning says what happened:\n{}",
        d.log()
    );
    assert!(d.site.root().join("state/state.redb.corrupt").exists());
}

#[test]
fn oversized_headers_are_refused_and_serving_goes_on() {
    let d = Daemon::start();
    let mut s = TcpStream::connect(("127.0.0.1", d.port())).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(5))).ok();
    let huge = "x".repeat(64 * 1024);
    let _ = write!(
        s,
        "GET /feeds/all.rss HTTP/1.1\r\nHost: a\r\nX-Big: {huge}\r\n\r\n"
    );
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    assert!(
        out.is_empty() || out.starts_with("HTTP/1.1 431"),
        "{}",
        &out[..out.len().min(200)]
    );
    let long_uri = format!("/feeds/{}", "a".repeat(64 * 1024));
    let (status, _) = d.raw_get(&long_uri);
    assert!(
        status == 0 || status == 414 || status == 431 || status == 404,
        "{status}"
    );
    assert_eq!(d.get("/feeds/all.rss").status, 200);
}

#[test]
fn a_slow_client_is_cut_off_while_others_are_served() {
    let mut site = Site::new();
    site.header_read_timeout = Some("1s");
    site.write_config();
    let d = Daemon::start_site(site);
    let closed_after = dribble_until_cut_off(&d).expect("the slow client was never cut off");
    assert!(
        closed_after >= Duration::from_millis(900) && closed_after < Duration::from_secs(4),
        "cut off after {closed_after:?}"
    );
}

/// An operator who shortens `server.header_read_timeout` and reloads gets
/// it on the next connection, without a restart.
#[test]
fn a_reloaded_header_timeout_holds_for_new_connections() {
    let mut d = Daemon::start(); // the default: 10 s
    d.site.header_read_timeout = Some("1s");
    d.site.write_config();
    d.wait_log("config reloaded", "the reload");
    let closed_after = dribble_until_cut_off(&d).expect("the slow client was never cut off");
    assert!(
        closed_after < Duration::from_secs(4),
        "cut off after {closed_after:?}, not by the reloaded 1 s timeout"
    );
}

/// Sends a request's headers a byte every 100 ms (10 s in all) while a
/// well-behaved client keeps asking; returns when the server cut the slow
/// one off (`None`: never).
fn dribble_until_cut_off(d: &Daemon) -> Option<Duration> {
    let mut slow = TcpStream::connect(("127.0.0.1", d.port())).expect("connect");
    slow.set_read_timeout(Some(Duration::from_millis(100))).ok();
    let started = Instant::now();
    for b in b"GET /feeds/all.rss HTTP/1.1\r\nHost: a\r\nX-Dribble: "
        .iter()
        .cycle()
        .take(100)
    {
        if slow.write_all(&[*b]).is_err() {
            return Some(started.elapsed());
        }
        let mut buf = [0u8; 256];
        if slow.read(&mut buf).is_ok() {
            // Closed (0 bytes) or answered with an error: cut off either way.
            return Some(started.elapsed());
        }
        // A well-behaved client meanwhile gets its answer at once.
        let t = Instant::now();
        assert_eq!(d.get("/feeds/all.rss").status, 200);
        assert!(
            t.elapsed() < Duration::from_millis(500),
            "{:?}",
            t.elapsed()
        );
    }
    None
}

#[test]
fn connections_that_wait_before_asking_are_all_answered() {
    // Connections go to a serving thread once their first bytes arrive, or
    // after a short wait: a client that connects now and asks later (a
    // browser's preconnect) must still get its answer, on whichever thread.
    let d = Daemon::start();
    let mut quiet: Vec<TcpStream> = (0..8)
        .map(|_| TcpStream::connect(("127.0.0.1", d.port())).expect("connect"))
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(d.get("/feeds/all.rss").status, 200);
    for (i, s) in quiet.iter_mut().enumerate() {
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        write!(
            s,
            "GET /feeds/all.rss HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
        )
        .expect("write");
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let head = String::from_utf8_lossy(&out[..out.len().min(64)]).into_owned();
        assert!(head.starts_with("HTTP/1.1 200"), "connection {i}: {head:?}");
        assert!(
            out.ends_with(b"</rss>\n") || out.ends_with(b"</rss>"),
            "connection {i}"
        );
    }
}

/// kill -9 in the middle of a burst of `n` new files, restart: every file
/// on disk is published, and nothing published before the crash changed
/// its GUID or date.
fn crash_during_burst(n: usize) {
    let mut site = Site::new();
    site.feed_items = Some(100_000);
    site.write_config();
    let mut d = Daemon::start_site(site);
    let write = |d: &Daemon, i: usize| {
        d.write_article(
            &format!("world/burst-{i:05}.txt"),
            &story(&format!("Burst Story {i:05}"), "World", &format!("b{i}")),
        );
    };
    for i in 0..n / 2 {
        write(&d, i);
    }
    // Let part of the burst be published, then crash hard mid-stream.
    assert!(wait_until(
        || d.body("/feeds/all.json").contains("Burst Story 00000"),
        Duration::from_secs(30)
    ));
    let before = items(&d.body("/feeds/all.json"));
    d.signal("KILL");
    assert!(d.wait_exit(Duration::from_secs(5)).is_some());
    for i in n / 2..n {
        write(&d, i);
    }
    d.restart();
    let mut after = Vec::new();
    assert!(
        wait_until(
            || {
                after = items(&d.body("/feeds/all.json"));
                after.len() == n
            },
            Duration::from_secs(60)
        ),
        "{} of {n} files published after the restart",
        after.len()
    );
    for (title, id, date) in &before {
        assert!(
            after
                .iter()
                .any(|(t, i, dt)| t == title && i == id && dt == date),
            "{title}: GUID or date changed across the crash"
        );
    }
}

/// `(title, id, date_published)` of every item of a JSON Feed.
fn items(json: &str) -> Vec<(String, String, String)> {
    let v: serde_json::Value = serde_json::from_str(json).unwrap_or_default();
    v["items"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|i| {
                    let s = |k: &str| i[k].as_str().unwrap_or_default().to_string();
                    (s("title"), s("id"), s("date_published"))
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn kill_minus_nine_during_a_burst_loses_nothing() {
    crash_during_burst(400);
}

#[test]
#[ignore = "10k files: about a minute; cargo test --release --test faults -- --ignored"]
fn kill_minus_nine_during_a_10k_burst_loses_nothing() {
    crash_during_burst(10_000);
}

/// The state store's disk fills up: the failed writes are logged and
/// serving (and publishing) goes on. Needs root to mount a small tmpfs; it
/// says so and passes vacuously where mounting is not allowed.
#[test]
fn a_full_disk_under_the_state_store_is_logged_and_serving_goes_on() {
    let site = Site::new();
    let state = site.root().join("state");
    let mounted = std::process::Command::new("mount")
        .args(["-t", "tmpfs", "-o", "size=4m", "tmpfs"])
        .arg(&state)
        .status()
        .is_ok_and(|s| s.success());
    if !mounted {
        eprintln!("cannot mount a tmpfs here (not root?): skipped");
        return;
    }
    struct Unmount(std::path::PathBuf);
    impl Drop for Unmount {
        fn drop(&mut self) {
            let _ = std::process::Command::new("umount")
                .arg("-l")
                .arg(&self.0)
                .status();
        }
    }
    let _unmount = Unmount(state.clone());
    let d = Daemon::start_site(site);
    d.write_article(
        "world/before.txt",
        &story("Before The Disk Filled", "World", "before"),
    );
    d.wait_feed("/feeds/world.rss", "listed the first story", |b| {
        b.contains("Before The Disk Filled")
    });
    // Fill what is left of the filesystem.
    let mut filler = fs::File::create(state.join("filler")).expect("filler");
    let chunk = vec![0u8; 64 * 1024];
    while filler.write_all(&chunk).is_ok() {}
    let _ = filler.sync_all();
    for i in 0..20 {
        d.write_article(
            &format!("world/after-{i}.txt"),
            &story(
                &format!("Written On A Full Disk {i}"),
                "World",
                &format!("full{i}"),
            ),
        );
    }
    d.wait_feed(
        "/feeds/world.rss",
        "listed the stories written after",
        |b| (0..20).all(|i| b.contains(&format!("Written On A Full Disk {i}<"))),
    );
    d.wait_log("cannot write the state store", "the failed state write");
    assert_eq!(d.get("/healthz").status, 200);
}

/// A file the daemon may not read is reported with its path and reason,
/// and everything else is published. Root reads everything, so the daemon
/// runs as `nobody` here (setpriv); where the test is not root it says so
/// and passes vacuously.
#[test]
fn an_unreadable_file_is_reported_and_the_rest_published() {
    use std::os::unix::fs::PermissionsExt;
    let is_root = std::process::Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0");
    if !is_root
        || std::process::Command::new("setpriv")
            .arg("--version")
            .output()
            .is_err()
    {
        eprintln!("needs root and setpriv to run the daemon as another user: skipped");
        return;
    }
    let dir = tempfile::Builder::new()
        .prefix("wirefeed-perm-")
        .tempdir()
        .expect("tempdir");
    let root = dir.path();
    let articles = root.join("articles/world");
    fs::create_dir_all(&articles).expect("mkdir");
    fs::create_dir_all(root.join("state")).expect("mkdir");
    fs::write(
        articles.join("open.txt"),
        story("Readable Story", "World", "open"),
    )
    .expect("write");
    fs::write(
        articles.join("locked.txt"),
        story("Locked Story", "World", "locked"),
    )
    .expect("write");
    let port = free_port();
    let config = root.join("wirefeed.toml");
    fs::write(
        &config,
        format!(
            "[site]\ntitle = \"T\"\nbase_url = \"http://127.0.0.1:{port}\"\n[articles]\ndir = '{}'\n\
             [server]\nlisten = \"127.0.0.1:{port}\"\n[state]\ndir = '{}'\n\
             [[categories]]\nslug = \"world\"\ntitle = \"World\"\n",
            root.join("articles").display(),
            root.join("state").display()
        ),
    )
    .expect("config");
    for (path, mode) in [
        (root.to_path_buf(), 0o755),
        (root.join("articles"), 0o755),
        (articles.clone(), 0o755),
        (root.join("state"), 0o777),
        (config.clone(), 0o644),
        (articles.join("open.txt"), 0o644),
        (articles.join("locked.txt"), 0o000),
    ] {
        fs::set_permissions(&path, fs::Permissions::from_mode(mode)).expect("chmod");
    }
    let log = fs::File::create(root.join("log")).expect("log");
    let mut child = std::process::Command::new("setpriv")
        .args([
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            env!("CARGO_BIN_EXE_wirefeed"),
            "--config",
        ])
        .arg(&config)
        .arg("serve")
        .env("WIREFEED_LOG", "info")
        .env("NO_COLOR", "1")
        .stderr(log)
        .spawn()
        .expect("spawn as nobody");
    let get = |path: &str| -> String {
        let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
            return String::new();
        };
        let _ = write!(
            s,
            "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        );
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    };
    let published = wait_until(
        || get("/feeds/world.rss").contains("Readable Story"),
        Duration::from_secs(10),
    );
    let feed = get("/feeds/world.rss");
    let _ = child.kill();
    let _ = child.wait();
    let log = fs::read_to_string(root.join("log")).unwrap_or_default();
    assert!(
        published,
        "the readable story was not published; log:\n{log}"
    );
    assert!(!feed.contains("Locked Story"), "{feed}");
    assert!(
        log.lines().any(|l| l.contains("rejected file")
            && l.contains("locked.txt")
            && l.contains("Permission denied")),
        "one line names the file and the reason:\n{log}"
    );
}
