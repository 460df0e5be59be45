//! What `/readyz` promises a load balancer: once it answers 200, the feeds
//! show the articles directory as it was at start-up, including files
//! written moments before (which no event will announce), and a feed's
//! bytes do not depend on how start-up went: they are what `wirefeed build`
//! writes for the same directory.

mod common;

use std::fs;
use std::process::Command;

use common::*;

#[test]
fn at_readiness_every_feed_is_what_build_writes_for_the_same_directory() {
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
        .map(|path| {
            let r = d.get(&path);
            assert_eq!(r.status, 200, "{path} at readiness");
            (path, r.body)
        })
        .collect();

    let out = tempfile::tempdir().expect("tempdir");
    let built = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .arg("--config")
        .arg(d.site.config_path())
        .arg("build")
        .arg("--out")
        .arg(out.path())
        .output()
        .expect("run build");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    for (path, body) in served {
        let want = fs::read(out.path().join(path.trim_start_matches('/'))).expect("built feed");
        assert!(
            body == want,
            "{path}: served at readiness differs from build\nserved:\n{}\nbuilt:\n{}\nlog:\n{}",
            String::from_utf8_lossy(&body),
            String::from_utf8_lossy(&want),
            d.log()
        );
    }
    let all = d.body("/feeds/all.json");
    let items: serde_json::Value = serde_json::from_str(&all).expect("json");
    assert_eq!(
        items["items"].as_array().map(Vec::len),
        Some(50),
        "the newest 50 of {count}"
    );
}
