//! The README's path, as a new user takes it: `wirefeed serve` started with
//! no `--config` from a directory holding a copy of `config/` and
//! `examples/`, so the articles directory is the shipped config's relative
//! `examples/articles`; then articles are created, edited, renamed and
//! deleted, and every change must reach the served feeds.

mod common;

use std::fs;
use std::path::Path;

use common::*;

const WORLD: &str = "/feeds/world.rss";

/// Saves `world/<name>` with a unique title and waits until `world.rss`
/// shows it.
fn save_and_see(d: &Daemon, name: &str, title: &str) {
    d.write_article(&format!("world/{name}"), &story(title, "World", name));
    d.wait_feed(WORLD, &format!("showing {title:?}"), |xml| {
        rss_items_titled(xml, title).len() == 1
    });
}

#[test]
fn the_shipped_config_sees_new_edited_renamed_and_deleted_articles() {
    let d = Daemon::start_site(Site::shipped(&[]));
    // The shipped examples are served.
    d.wait_feed("/feeds/all.rss", "showing the examples", |xml| {
        rss_items(xml).len() >= 10
    });

    save_and_see(&d, "live-new.txt", "Harbour Reopens After Storm Repairs");
    let guid = rss_items_titled(&d.body(WORLD), "Harbour Reopens After Storm Repairs")[0]
        .guid
        .clone();

    // An edit: a new title on the same file, same GUID.
    let path = d.site.article_path("world/live-new.txt");
    let edited = story("Harbour Reopens Early", "World", "live-new.txt");
    fs::write(&path, edited).expect("edit");
    let xml = d.wait_feed(WORLD, "showing the edit", |xml| {
        rss_items_titled(xml, "Harbour Reopens Early").len() == 1
    });
    assert!(rss_items_titled(&xml, "Harbour Reopens After Storm Repairs").is_empty());
    assert_eq!(
        rss_items_titled(&xml, "Harbour Reopens Early")[0].guid,
        guid
    );

    // A rename keeps the story (and its GUID).
    let renamed = d.site.article_path("world/live-renamed.txt");
    fs::rename(&path, &renamed).expect("rename");
    d.wait_feed(WORLD, "showing the renamed file's story once", |xml| {
        let items = rss_items_titled(xml, "Harbour Reopens Early");
        items.len() == 1 && items[0].guid == guid
    });

    // A deletion takes it out.
    fs::remove_file(&renamed).expect("delete");
    d.wait_feed(WORLD, "without the deleted story", |xml| {
        rss_items_titled(xml, "Harbour Reopens Early").is_empty()
    });
}

/// Every way an operator may spell the articles directory: through
/// `WIREFEED_ARTICLES_DIR`, relative to the working directory or not.
#[test]
fn every_spelling_of_the_articles_directory_is_watched() {
    let spellings = [
        "examples/articles",
        "./examples/articles",
        "examples/../examples/articles",
        "examples/articles/",
        "examples//articles",
        "news",     // a symlink to examples/articles, made below
        "ABSOLUTE", // the scratch directory's examples/articles
    ];
    for (i, spelling) in spellings.iter().enumerate() {
        let mut site = Site::shipped(&[]);
        let dir = match *spelling {
            "ABSOLUTE" => site.articles().display().to_string(),
            relative => relative.to_string(),
        };
        site.env.push(("WIREFEED_ARTICLES_DIR".into(), dir));
        std::os::unix::fs::symlink("examples/articles", site.root().join("news")).expect("symlink");
        let d = Daemon::start_site(site);
        let title = format!("Spelling {i} Reaches The Feed");
        save_and_see(&d, &format!("spelling-{i}.txt"), &title);
        fs::remove_file(d.site.article_path(&format!("world/spelling-{i}.txt"))).expect("rm");
        d.wait_feed(WORLD, &format!("without {title:?} ({spelling})"), |xml| {
            rss_items_titled(xml, &title).is_empty()
        });
    }
}

/// A reload that points the daemon at another directory, written
/// relatively in the config file, watches the new one.
#[test]
fn a_reload_to_another_relative_directory_watches_it() {
    let d = Daemon::start_site(Site::shipped(&[]));
    let config = d.site.config_path().to_path_buf();
    let root = d.site.root().to_path_buf();
    let other = root.join("desk/articles/world");
    fs::create_dir_all(&other).expect("mkdir");
    fs::write(
        other.join("first.txt"),
        story("Desk Folder First Story", "World", "first"),
    )
    .expect("write");
    let text = fs::read_to_string(&config).expect("config");
    let text = text.replace(
        "dir = \"examples/articles\"",
        "dir = \"./desk/../desk/articles\"",
    );
    assert!(text.contains("desk/articles"), "the shipped config changed");
    replace_file(&config, &text);
    d.wait_feed(WORLD, "reloaded onto desk/articles", |xml| {
        rss_items_titled(xml, "Desk Folder First Story").len() == 1
    });
    // Live, in the new directory.
    fs::write(
        other.join("second.txt"),
        story("Desk Folder Second Story", "World", "second"),
    )
    .expect("write");
    d.wait_feed(WORLD, "showing a file saved after the reload", |xml| {
        rss_items_titled(xml, "Desk Folder Second Story").len() == 1
    });
}

fn replace_file(path: &Path, text: &str) {
    let tmp = path.with_extension("toml.new");
    fs::write(&tmp, text).expect("write temp");
    fs::rename(&tmp, path).expect("rename");
}
