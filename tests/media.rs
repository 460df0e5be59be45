//! Images, enclosures and languages, as `wirefeed build --out` writes them:
//! every feed format and the pages carry them, URLs absolute on the base
//! URL, lengths from the file under `media.dir` or left out.

use std::path::Path;
use std::process::Command;

const CONFIG: &str = r#"
[site]
title = "Wire"
base_url = "http://news.test/wire/"
language = "en"
timezone = "Asia/Karachi"

[articles]
dir = "articles"

[media]
dir = "media"

[[categories]]
slug = "business"
title = "Business"

[[categories]]
slug = "urdu"
title = "اردو"
match = ["Urdu"]
language = "ur"
"#;

const PODCAST: &str = "---
title: Markets Podcast
date: 2024-05-20T08:30:00
categories: [Business]
image: media/chart.png?v=1&s=2
image_alt: Chart of the index rising
enclosures:
  - url: media/episode.mp3
    type: audio/mpeg
  - url: https://cdn.test/launch.mp4
  - url: media/missing.mp3
  - path: notes.pdf             # not an enclosure: left out, the article stays
---
This week's markets, as audio.
";

const URDU: &str = r#"{
  "title": "لاہور میں بارش",
  "published": "2024-05-21T10:00:00",
  "category": "Urdu",
  "body": "لاہور میں آج بارش ہوئی۔",
  "enclosures": [{"url": "https://cdn.test/a.ogg", "type": "audio/ogg", "length": 777}]
}"#;

const ENGLISH_IN_URDU: &str = r#"{
  "title": "Rain in Lahore",
  "published": "2024-05-21T11:00:00",
  "category": "Urdu",
  "lang": "en-PK",
  "body": "It rained in Lahore today."
}"#;

/// Builds a site with the articles above; returns the output directory.
fn build() -> tempfile::TempDir {
    let site = tempfile::tempdir().expect("tempdir");
    let root = site.path();
    std::fs::create_dir_all(root.join("articles")).expect("mkdir");
    std::fs::create_dir_all(root.join("media")).expect("mkdir");
    std::fs::write(root.join("wirefeed.toml"), CONFIG).expect("config");
    std::fs::write(root.join("articles/podcast.md"), PODCAST).expect("write");
    std::fs::write(root.join("articles/urdu.json"), URDU).expect("write");
    std::fs::write(root.join("articles/english.json"), ENGLISH_IN_URDU).expect("write");
    std::fs::write(root.join("media/episode.mp3"), vec![7u8; 1234]).expect("write");
    std::fs::write(root.join("media/chart.png"), b"png").expect("write");
    let out = tempfile::tempdir().expect("tempdir");
    let status = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
        .current_dir(root)
        .args(["build", "--config", "wirefeed.toml", "--out"])
        .arg(out.path())
        .status()
        .expect("run wirefeed build");
    assert!(status.success());
    // Keep the site directory alive only as long as the build needed it.
    drop(site);
    out
}

fn read(out: &Path, rel: &str) -> String {
    std::fs::read_to_string(out.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// The element children of `node` named `name` in namespace `ns`.
fn children<'a, 'i>(
    node: roxmltree::Node<'a, 'i>,
    ns: Option<&str>,
    name: &str,
) -> Vec<roxmltree::Node<'a, 'i>> {
    node.children()
        .filter(|c| c.is_element() && c.tag_name().name() == name && c.tag_name().namespace() == ns)
        .collect()
}

const MEDIA: &str = "http://search.yahoo.com/mrss/";
const ATOM: &str = "http://www.w3.org/2005/Atom";

#[test]
fn enclosures_and_images_reach_every_format_with_absolute_urls_and_real_lengths() {
    let out = build();
    let episode = "http://news.test/wire/media/episode.mp3";
    // A query's `&` must come out escaped in every format (it once made
    // Atom ill-formed, and the feed was held back).
    let chart = "http://news.test/wire/media/chart.png?v=1&s=2";
    let chart_html = "http://news.test/wire/media/chart.png?v=1&amp;s=2";

    let rss = read(out.path(), "feeds/business.rss");
    let doc = roxmltree::Document::parse(&rss).expect("well-formed RSS");
    let item = doc
        .descendants()
        .find(|n| n.has_tag_name("item"))
        .expect("an item");
    let enclosures = children(item, None, "enclosure");
    assert_eq!(enclosures.len(), 1, "one <enclosure> per item");
    assert_eq!(enclosures[0].attribute("url"), Some(episode));
    assert_eq!(
        enclosures[0].attribute("length"),
        Some("1234"),
        "the file's size"
    );
    assert_eq!(enclosures[0].attribute("type"), Some("audio/mpeg"));
    let contents = children(item, Some(MEDIA), "content");
    let urls: Vec<_> = contents.iter().filter_map(|c| c.attribute("url")).collect();
    assert_eq!(
        urls,
        [
            chart,
            episode,
            "https://cdn.test/launch.mp4",
            "http://news.test/wire/media/missing.mp3"
        ]
    );
    let size = |url: &str| {
        contents
            .iter()
            .find(|c| c.attribute("url") == Some(url))
            .and_then(|c| c.attribute("fileSize"))
    };
    assert_eq!(size(episode), Some("1234"));
    assert_eq!(size("https://cdn.test/launch.mp4"), None, "never invented");
    assert_eq!(size("http://news.test/wire/media/missing.mp3"), None);
    let video = contents[2];
    assert_eq!(video.attribute("type"), Some("video/mp4"), "from the name");
    assert_eq!(video.attribute("medium"), Some("video"));
    let thumb = children(item, Some(MEDIA), "thumbnail");
    assert_eq!(thumb[0].attribute("url"), Some(chart));
    let alt = children(contents[0], Some(MEDIA), "description");
    assert_eq!(alt[0].text(), Some("Chart of the index rising"));

    let atom = read(out.path(), "feeds/business.atom");
    let doc = roxmltree::Document::parse(&atom).expect("well-formed Atom");
    let entry = doc
        .descendants()
        .find(|n| n.has_tag_name((ATOM, "entry")))
        .expect("an entry");
    let links: Vec<(Option<&str>, Option<&str>)> = children(entry, Some(ATOM), "link")
        .iter()
        .filter(|l| l.attribute("rel") == Some("enclosure"))
        .map(|l| (l.attribute("href"), l.attribute("length")))
        .collect();
    assert_eq!(
        links,
        [
            (Some(episode), Some("1234")),
            (Some("https://cdn.test/launch.mp4"), None),
            (Some("http://news.test/wire/media/missing.mp3"), None),
        ]
    );
    assert_eq!(
        children(entry, Some(MEDIA), "thumbnail")[0].attribute("url"),
        Some(chart)
    );

    let json: serde_json::Value =
        serde_json::from_str(&read(out.path(), "feeds/business.json")).expect("JSON");
    let item = &json["items"][0];
    assert_eq!(item["image"], chart);
    assert_eq!(item["attachments"][0]["url"], episode);
    assert_eq!(item["attachments"][0]["mime_type"], "audio/mpeg");
    assert_eq!(item["attachments"][0]["size_in_bytes"], 1234);
    assert!(item["attachments"][1].get("size_in_bytes").is_none());

    let page = read(out.path(), "articles/podcast.html");
    assert!(page.contains(&format!(
        "<img src=\"{chart_html}\" alt=\"Chart of the index rising\">"
    )));
    assert!(page.contains(&format!(
        "<audio controls preload=\"none\" src=\"{episode}\">"
    )));
    assert!(page.contains("<video controls"));
    let index = read(out.path(), "index.html");
    assert!(index.contains(&format!(
        "<img src=\"{chart_html}\" alt=\"Chart of the index rising\""
    )));
}

#[test]
fn a_category_language_and_an_article_language_reach_every_format_and_page() {
    let out = build();
    let rss = read(out.path(), "feeds/urdu.rss");
    assert!(rss.contains("<language>ur</language>"), "{rss}");
    let all = read(out.path(), "feeds/all.rss");
    assert!(all.contains("<language>en</language>"));

    let atom = read(out.path(), "feeds/urdu.atom");
    let doc = roxmltree::Document::parse(&atom).expect("well-formed Atom");
    fn lang<'a>(n: roxmltree::Node<'a, '_>) -> Option<&'a str> {
        n.attribute(("http://www.w3.org/XML/1998/namespace", "lang"))
    }
    assert_eq!(lang(doc.root_element()), Some("ur"));
    let entries: Vec<(String, Option<&str>)> = doc
        .descendants()
        .filter(|n| n.has_tag_name((ATOM, "entry")))
        .map(|e| {
            let title = children(e, Some(ATOM), "title")[0]
                .text()
                .unwrap_or_default();
            (title.to_string(), lang(e))
        })
        .collect();
    assert_eq!(
        entries,
        [
            ("Rain in Lahore".to_string(), Some("en-PK")),
            ("لاہور میں بارش".to_string(), Some("ur")),
        ]
    );
    // The same entry in `all` keeps its own language.
    let all = read(out.path(), "feeds/all.atom");
    assert!(all.contains("<entry xml:lang=\"ur\">"));

    let json: serde_json::Value =
        serde_json::from_str(&read(out.path(), "feeds/urdu.json")).expect("JSON");
    assert_eq!(json["language"], "ur");
    assert_eq!(json["items"][0]["language"], "en-PK");
    assert_eq!(json["items"][1]["language"], "ur");

    let page = read(out.path(), "categories/urdu.html");
    assert!(page.contains("<html lang=\"ur\" dir=\"rtl\">"), "{page}");
    assert!(
        page.contains("<li class=\"story\" lang=\"en-PK\" dir=\"ltr\">"),
        "an English story on an Urdu page is marked as such"
    );
    let article = read(out.path(), "articles/urdu.html");
    assert!(article.contains("<html lang=\"ur\" dir=\"rtl\">"));
    let english = read(out.path(), "articles/english.html");
    assert!(english.contains("<html lang=\"en-PK\" dir=\"ltr\">"));
}
