//! What a feed reader relies on across edits, renames and restarts: the
//! catalog with its state store, driven the way the daemon drives it.

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use wirefeed::catalog::StateStore;
use wirefeed::catalog::{self, Catalog};
use wirefeed::config::Config;
use wirefeed::model::Change;
use wirefeed::parse::ParseContext;

fn config(dir: &Path) -> Arc<Config> {
    let text = format!(
        "[site]\ntitle = \"T\"\nbase_url = \"http://news.test\"\ntimezone = \"Asia/Karachi\"\n[articles]\ndir = \"{}\"\n\
         [[categories]]\nslug = \"world\"\ntitle = \"World\"\n",
        dir.display()
    );
    Arc::new(Config::from_str_with_env(&text, Path::new("t.toml"), Vec::new()).expect("config"))
}

fn page(title: &str, body: &str) -> String {
    format!(
        "{title}\nNoor Alam Published May 14, 2024 | 02:10 PM\nQuetta, (APP - Wire - 14th May, 2024) {body}\n\
         A second paragraph.\nRecent Stories\nOther\nMore Stories From World\n-\nElse4 minutes ago\n"
    )
}

struct World {
    _dir: tempfile::TempDir,
    root: std::path::PathBuf,
    state: std::path::PathBuf,
    config: Arc<Config>,
}

impl World {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = dir.path().join("articles");
        std::fs::create_dir_all(&root).expect("mkdir");
        let state = dir.path().join("state");
        let config = config(&root);
        World {
            _dir: dir,
            root,
            state,
            config,
        }
    }

    fn write(&self, rel: &str, text: &str, mtime: SystemTime) {
        let path = self.root.join(rel);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
        std::fs::File::options()
            .write(true)
            .open(&path)
            .and_then(|f| f.set_modified(mtime))
            .expect("mtime");
    }

    /// What the daemon does on start: open the store, scan, publish.
    fn start(&self) -> Catalog {
        let (state, warning) = StateStore::open(&self.state);
        assert!(warning.is_none(), "{warning:?}");
        catalog::load(self.config.clone(), state)
    }

    fn change(&self, catalog: &mut Catalog, rel: &str) {
        let ctx = ParseContext::from_config(&self.config);
        let path = self.root.join(rel);
        let change = if path.exists() {
            catalog::read_change(&self.root, &path, &ctx)
        } else {
            Change::Removed(rel.to_string())
        };
        catalog.apply(vec![change]);
        catalog.state_mut().flush().expect("flush");
    }
}

fn at(secs: u64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_716_000_000 + secs)
}

#[test]
fn an_edit_keeps_guid_and_published_and_moves_updated() {
    let w = World::new();
    w.write("world/a.txt", &page("Title", "First version."), at(0));
    let mut c = w.start();
    let before = c.by_path("world/a.txt").expect("a").clone();
    w.write(
        "world/a.txt",
        &page("Title, corrected", "Second version."),
        at(500),
    );
    w.change(&mut c, "world/a.txt");
    let after = c.by_path("world/a.txt").expect("a").clone();
    assert_eq!(after.guid, before.guid);
    assert_eq!(after.published, before.published);
    assert!(
        after.updated > before.updated,
        "{} > {}",
        after.updated,
        before.updated
    );
    assert_eq!(
        after.updated.timestamp(),
        1_716_000_500,
        "updated is the edit's mtime"
    );
}

/// A Markdown story dated `secs` from now.
fn scheduled(title: &str, secs: i64) -> String {
    let date = chrono::Utc::now() + chrono::Duration::seconds(secs);
    let date = date.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    format!("---\ntitle: {title}\ndate: {date}\ncategories: [World]\n---\nThe story.\n")
}

#[test]
fn a_scheduled_story_takes_its_new_time_until_it_is_out() {
    let w = World::new();
    let now = SystemTime::now();
    let written = |c: &Catalog| c.by_path("world/s.md").expect("s").clone();
    w.write("world/s.md", &scheduled("Embargoed", 7200), now);
    let mut c = w.start();
    let first = written(&c);
    // Moved earlier before it was out: the new time holds.
    w.write("world/s.md", &scheduled("Embargoed", 3600), now);
    w.change(&mut c, "world/s.md");
    let earlier = written(&c);
    assert!(earlier.published < first.published, "{earlier:?}");
    assert_eq!(earlier.updated, earlier.published);
    assert_eq!(earlier.guid, first.guid);
    // Moved later, still before it was out: the embargo moves too.
    w.write("world/s.md", &scheduled("Embargoed", 10_800), now);
    w.change(&mut c, "world/s.md");
    assert!(written(&c).published > first.published);
    // Once its time has come, an edit keeps the date, across a restart too.
    w.write("world/s.md", &scheduled("Embargoed", -60), now);
    w.change(&mut c, "world/s.md");
    let out = written(&c);
    w.write("world/s.md", &scheduled("Embargoed, updated", 600), now);
    w.change(&mut c, "world/s.md");
    assert_eq!(written(&c).published, out.published);
    drop(c);
    let c = w.start();
    assert_eq!(written(&c).published, out.published);
    assert_eq!(written(&c).guid, first.guid);
}

#[test]
fn touching_without_changing_bytes_does_not_move_updated() {
    let w = World::new();
    w.write("a.txt", &page("T", "Same."), at(0));
    let mut c = w.start();
    let before = c.by_path("a.txt").expect("a").updated;
    w.write("a.txt", &page("T", "Same."), at(900));
    w.change(&mut c, "a.txt");
    assert_eq!(c.by_path("a.txt").expect("a").updated, before);
}

#[test]
fn a_rename_keeps_the_guid_within_a_batch_and_across_batches() {
    let w = World::new();
    w.write("world/a.txt", &page("Moving story", "Body."), at(0));
    let mut c = w.start();
    let guid = c.by_path("world/a.txt").expect("a").guid.clone();
    // One batch (inotify rename pair): removal and arrival together.
    std::fs::create_dir_all(w.root.join("archive")).expect("mkdir");
    std::fs::rename(w.root.join("world/a.txt"), w.root.join("archive/b.txt")).expect("mv");
    let ctx = ParseContext::from_config(&w.config);
    c.apply(vec![
        catalog::read_change(&w.root, &w.root.join("archive/b.txt"), &ctx),
        Change::Removed("world/a.txt".into()),
    ]);
    assert_eq!(c.by_path("archive/b.txt").expect("b").guid, guid);
    assert_eq!(c.len(), 1);
    // Separate batches: delete first, then the file shows up elsewhere.
    std::fs::rename(w.root.join("archive/b.txt"), w.root.join("c.txt")).expect("mv");
    w.change(&mut c, "archive/b.txt");
    w.change(&mut c, "c.txt");
    assert_eq!(c.by_path("c.txt").expect("c").guid, guid);
}

#[test]
fn a_rename_while_stopped_keeps_the_guid() {
    let w = World::new();
    w.write("a.txt", &page("Story", "Body."), at(0));
    let guid = {
        let mut c = w.start();
        c.state_mut().flush().expect("flush");
        c.by_path("a.txt").expect("a").guid.clone()
    };
    std::fs::rename(w.root.join("a.txt"), w.root.join("renamed.txt")).expect("mv");
    let mut c = w.start();
    assert_eq!(c.by_path("renamed.txt").expect("renamed").guid, guid);
    c.state_mut().flush().expect("flush");
}

#[test]
fn dateless_files_keep_their_first_seen_date_across_restarts() {
    let w = World::new();
    w.write("undated.txt", "No Date Here\nJust a body line.\n", at(100));
    let first = {
        let mut c = w.start();
        c.state_mut().flush().expect("flush");
        c.by_path("undated.txt").expect("a").published
    };
    assert_eq!(first.timestamp(), 1_716_000_100);
    // An edit changes the mtime; the date it was first published stays.
    w.write(
        "undated.txt",
        "No Date Here\nA longer body line.\n",
        at(7200),
    );
    let c = w.start();
    let e = c.by_path("undated.txt").expect("a");
    assert_eq!(e.published, first);
    assert_eq!(e.updated.timestamp(), 1_716_007_200);
}

#[test]
fn a_new_article_where_a_deleted_one_was_gets_a_new_guid() {
    let w = World::new();
    w.write("a.txt", &page("Old story", "Old."), at(0));
    let mut c = w.start();
    let old = c.by_path("a.txt").expect("a").guid.clone();
    std::fs::remove_file(w.root.join("a.txt")).expect("rm");
    w.change(&mut c, "a.txt");
    assert!(c.is_empty());
    w.write("a.txt", &page("Different story", "New."), at(60));
    w.change(&mut c, "a.txt");
    assert_ne!(c.by_path("a.txt").expect("a").guid, old);
}

#[test]
fn without_state_guids_still_come_from_the_path() {
    let w = World::new();
    w.write("world/a.txt", &page("Story", "Body."), at(0));
    let with_state = w.start().by_path("world/a.txt").expect("a").guid.clone();
    let stateless = catalog::load(w.config.clone(), StateStore::in_memory());
    assert_eq!(
        stateless.by_path("world/a.txt").expect("a").guid,
        with_state
    );
}

#[test]
fn a_broken_edit_keeps_the_last_good_version_and_reports_it() {
    let w = World::new();
    w.write("a.txt", &page("Good", "Fine."), at(0));
    let mut c = w.start();
    w.write("a.txt", "", at(60));
    w.change(&mut c, "a.txt");
    let kept = c.by_path("a.txt").expect("still there");
    assert_eq!(c.text(kept).title, "Good");
    assert_eq!(c.problems()[0].reason, "empty file");
}

#[test]
fn a_config_reload_keeps_guids_and_first_seen_dates() {
    let w = World::new();
    w.write("a.txt", &page("Moving story", "Body."), at(0));
    w.write("undated.txt", "No Date Here\nJust a body line.\n", at(100));
    let mut c = w.start();
    std::fs::rename(w.root.join("a.txt"), w.root.join("b.txt")).expect("mv");
    w.change(&mut c, "a.txt");
    w.change(&mut c, "b.txt");
    let guid = c.by_path("b.txt").expect("b").guid.clone();
    let first = c.by_path("undated.txt").expect("undated").published;
    // A reload builds the catalog anew and reads the tree again; what it
    // remembers must not be lost on the way (the renamed file's GUID is
    // not the one its new path would give it, and the dateless file's
    // date is when it was first seen, not its mtime).
    w.write(
        "undated.txt",
        "No Date Here\nA longer body line.\n",
        at(7200),
    );
    c.reconfigure(w.config.clone());
    c.rescan(false, false, |_| {});
    assert_eq!(c.by_path("b.txt").expect("b").guid, guid);
    let e = c.by_path("undated.txt").expect("undated");
    assert_eq!(e.published, first);
    assert_eq!(e.updated.timestamp(), 1_716_007_200);
}
