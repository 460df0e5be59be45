//! `wirefeed build --out` on the shipped config and examples is a site any
//! static host serves as it is: every URL its feeds, OPML and pages name
//! under `site.base_url` is a file of the tree, by the exact name a host
//! looks up (the URL's path, percent-decoded; the root is `index.html`).

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

const BASE: &str = "http://static.test/news/";

/// Every attribute or JSON string value that holds a URL under `BASE`.
fn urls_in(text: &str) -> Vec<String> {
    let re = regex::Regex::new(r#"(?:href|src|url|xmlUrl|htmlUrl|data-copy)\s*[=:]\s*"([^"]*)""#)
        .expect("regex");
    re.captures_iter(text)
        .map(|c| c[1].replace("&amp;", "&").replace("&#x26;", "&"))
        .filter(|u| u.starts_with(BASE))
        .collect()
}

/// The file a static host serves for `url`.
fn file_for(url: &str) -> String {
    let path = url[BASE.len()..]
        .split(['?', '#'])
        .next()
        .unwrap_or_default();
    let path = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .expect("UTF-8 path")
        .into_owned();
    match path.as_str() {
        "" => "index.html".into(),
        p if p.ends_with('/') => format!("{p}index.html"),
        p => p.to_string(),
    }
}

#[test]
fn every_link_under_the_base_url_names_a_file_of_the_built_tree() {
    let out = tempfile::tempdir().expect("tempdir");
    let built = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("WIREFEED_SITE_BASE_URL", BASE)
        .env("WIREFEED_FEEDS_ARCHIVE_ITEMS", "3")
        .env("WIREFEED_FEEDS_ITEMS", "4")
        .args(["build", "--out"])
        .arg(out.path())
        .output()
        .expect("run wirefeed build");
    assert!(
        built.status.success(),
        "{}",
        String::from_utf8_lossy(&built.stderr)
    );
    let files: BTreeSet<String> = walkdir::WalkDir::new(out.path())
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(out.path()).expect("inside");
            rel.to_string_lossy().replace('\\', "/")
        })
        .collect();
    let mut checked = 0;
    let mut media = 0;
    let mut missing = Vec::new();
    for file in &files {
        if file.starts_with("media/") {
            continue;
        }
        let text = std::fs::read_to_string(out.path().join(file)).expect("text file");
        for url in urls_in(&text) {
            checked += 1;
            let target = file_for(&url);
            media += usize::from(target.starts_with("media/"));
            if !Path::new(&target).is_relative() || !files.contains(&target) {
                missing.push(format!("{file}: {url} -> {target}"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "links to nothing:\n{}",
        missing.join("\n")
    );
    // Feeds, archive pages, category pages, article pages, media: all linked.
    for kind in ["feeds/archive/", "categories/all/", "articles/", "media/"] {
        assert!(
            files.iter().any(|f| f.starts_with(kind)),
            "no {kind} in {files:?}"
        );
    }
    assert!(checked > 500, "only {checked} links checked");
    assert!(
        media > 3,
        "the examples' images and podcast are under the base URL"
    );
}
