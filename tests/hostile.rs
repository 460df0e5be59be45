//! Whatever scrapers and editors produce: every hostile file is rejected or
//! cleaned with a reason naming it, and every feed stays well-formed.

use std::path::Path;
use std::sync::Arc;

use proptest::prelude::*;
use wirefeed::catalog::StateStore;
use wirefeed::catalog::{self, Catalog};
use wirefeed::config::Config;
use wirefeed::model::Change;
use wirefeed::parse::{self, ParseContext};
use wirefeed::render::{self, FeedFormat};

fn config(dir: &Path) -> Arc<Config> {
    let text = format!(
        "[site]\ntitle = \"T\"\nbase_url = \"http://news.test\"\ntimezone = \"Asia/Karachi\"\n\
         [articles]\ndir = \"{}\"\nmax_file_bytes = 4194304\n\
         [[categories]]\nslug = \"world\"\ntitle = \"World\"\n",
        dir.display()
    );
    Arc::new(Config::from_str_with_env(&text, Path::new("t.toml"), Vec::new()).expect("config"))
}

const BYLINE: &str = "Published May 14, 2024 | 02:10 PM";

/// (file name, bytes, expected: Ok(()) = published, Err(reason fragment))
fn corpus() -> Vec<(String, Vec<u8>, Result<(), &'static str>)> {
    let mut c: Vec<(String, Vec<u8>, Result<(), &'static str>)> = Vec::new();
    let mut add = |name: &str, bytes: Vec<u8>, want: Result<(), &'static str>| {
        c.push((name.to_string(), bytes, want))
    };
    add("empty.txt", vec![], Err("empty file"));
    add("spaces.md", b"   \n\n\t  \n".to_vec(), Err("empty file"));
    add(
        "random.txt",
        (0..4096u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect(),
        Err("binary"),
    );
    add("nuls.json", vec![0; 1000], Err("binary"));
    let mut mixed = format!("Mixed Encoding Story\n{BYLINE}\nValid text then ").into_bytes();
    mixed.extend_from_slice(b"\xff\xfe broken \xc3\x28 bytes and caf\xe9.\n");
    add("mixed.txt", mixed, Ok(()));
    let controls: String = (0u8..32)
        .filter(|b| !matches!(b, b'\n' | b'\r' | b'\t'))
        .map(char::from)
        .collect();
    add(
        "controls.txt",
        format!(
            "Every Control{controls} Character\n{BYLINE}\nBody with{controls} all C0 controls.\n{}",
            "A normal paragraph of reporting around the stray bytes.\n".repeat(20)
        )
        .into_bytes(),
        Ok(()),
    );
    add(
        "nonchars.txt",
        format!("Noncharacters \u{FFFE}\u{FFFF} Title\n{BYLINE}\nBody \u{FFFE} text \u{FFFF} here ]]> and ]]&gt;.\n").into_bytes(),
        Ok(()),
    );
    add(
        "xss.md",
        b"---\ntitle: \"<script>alert(1)</script> Headline\"\ndate: 2024-05-14T10:00:00\n---\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n[x](javascript:alert(1)) ]]> text\n".to_vec(),
        Ok(()),
    );
    add(
        "xss.json",
        br#"{"title":"JSON <b>XSS</b>","published":"2024-05-14T10:00:00","body":"<p onclick=\"x()\">hi</p><script>evil()</script><a href=\"javascript:alert(1)\">link</a>","url":"javascript:alert(1)"}"#.to_vec(),
        Ok(()),
    );
    add(
        "long_title.txt",
        format!("{}\n{BYLINE}\nBody.\n", "word ".repeat(2000)).into_bytes(),
        Ok(()),
    );
    add(
        "huge.txt",
        format!("Huge\n{BYLINE}\n{}", "x".repeat(5 * 1024 * 1024)).into_bytes(),
        Err("over the"),
    );
    add(
        "many_lines.txt",
        format!(
            "Many Lines\n{BYLINE}\n{}",
            "A line of text.\n".repeat(100_000)
        )
        .into_bytes(),
        Ok(()),
    );
    let mut nested = String::from("---\ntitle: Nested\ndeep: ");
    nested.push_str(&"[".repeat(10_000));
    nested.push_str(&"]".repeat(10_000));
    nested.push_str("\n---\nBody.\n");
    add("nested.md", nested.into_bytes(), Err("front matter"));
    let bomb = "---\ntitle: Bomb\na: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n\
                b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n\
                e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n\
                h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n---\nBody.\n";
    add("bomb.md", bomb.as_bytes().to_vec(), Err("front matter"));
    add(
        "deep.json",
        format!("{}{}", "[".repeat(100_000), "]".repeat(100_000)).into_bytes(),
        Err("JSON"),
    );
    add(
        "year0.md",
        b"---\ntitle: Year Zero\ndate: 0000-01-01T00:00:00Z\n---\nBody.\n".to_vec(),
        Err("date"),
    );
    add(
        "year9999.md",
        b"---\ntitle: Far Future\ndate: 9999-12-31T00:00:00Z\n---\nBody.\n".to_vec(),
        Ok(()),
    );
    add(
        "negative.json",
        br#"{"title":"Negative","published":"-0044-03-15T00:00:00Z","body":"x"}"#.to_vec(),
        Err("date"),
    );
    add(
        "blank_title.txt",
        format!("   \t \n{BYLINE}\nBody.\n").into_bytes(),
        Ok(()),
    );
    add(
        "blank_title.md",
        b"---\ntitle: \"   \"\ndate: 2024-05-14\n---\nBody.\n".to_vec(),
        Err("no title"),
    );
    c
}

fn assert_well_formed_xml(bytes: &[u8], what: &str) {
    if let Err(e) = render::check_xml(bytes) {
        panic!("{what}: {e}");
    }
}

#[test]
fn hostile_corpus_is_rejected_or_cleaned_and_feeds_stay_valid() {
    let dir = tempfile::tempdir().expect("tempdir");
    let corpus = corpus();
    for (name, bytes, _) in &corpus {
        std::fs::write(dir.path().join(name), bytes).expect("write");
    }
    let catalog = catalog::load(config(dir.path()), StateStore::in_memory());
    let problems = catalog.problems();
    for (name, _, want) in &corpus {
        match want {
            Ok(()) => {
                let e = catalog
                    .by_path(name)
                    .unwrap_or_else(|| panic!("{name} should be published: {problems:?}"));
                let title = &catalog.text(e).title;
                assert!(!title.trim().is_empty(), "{name}");
                assert!(title.chars().count() <= 300, "{name}: title bounded");
            }
            Err(reason) => {
                let p = problems
                    .iter()
                    .find(|p| &p.path == name)
                    .unwrap_or_else(|| panic!("{name} not reported"));
                assert!(
                    p.reason.contains(reason),
                    "{name}: {:?} should mention {reason:?}",
                    p.reason
                );
                assert!(
                    catalog.by_path(name).is_none(),
                    "{name} must not be published"
                );
            }
        }
    }
    let xss: String = ["xss.md", "xss.json"]
        .iter()
        .map(|n| catalog.text(catalog.by_path(n).expect("xss")).html.clone())
        .collect();
    assert!(
        !xss.contains("<script")
            && !xss.contains("onerror")
            && !xss.contains("onclick")
            && !xss.contains("javascript:"),
        "{xss}"
    );
    let json = catalog.by_path("xss.json").expect("j");
    assert!(
        !json
            .link(catalog.config(), &catalog.text(json))
            .starts_with("javascript"),
        "no javascript: item link"
    );
    let now = chrono::DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
        .expect("d")
        .to_utc();
    for index in 0..catalog.feeds().len() {
        for (path, format, body) in
            render::feed_files(&catalog, index, now, &render::ItemCache::default()).files
        {
            let bytes = body.unwrap_or_else(|r| panic!("{path}: not published: {r:?}"));
            match format {
                FeedFormat::Json => {
                    serde_json::from_slice::<serde_json::Value>(&bytes)
                        .unwrap_or_else(|e| panic!("{path}: {e}"));
                }
                _ => {
                    assert_well_formed_xml(&bytes, &path);
                    feed_rs::parser::parse(&bytes[..])
                        .unwrap_or_else(|e| panic!("{path}: feed-rs: {e}"));
                }
            }
        }
    }
}

fn ctx() -> ParseContext {
    ParseContext::from_config(&config(Path::new("/nonexistent")))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Parse → render → parse back as XML never fails, whatever the bytes.
    #[test]
    fn any_bytes_parse_cleanly_and_render_well_formed(
        bytes in prop::collection::vec(any::<u8>(), 0..2048),
        text in "\\PC{0,400}",
        ext in prop::sample::select(vec!["txt", "md", "json"]),
    ) {
        for input in [bytes, format!("{text}\n{BYLINE}\n{text}\n").into_bytes(), format!("---\ntitle: {text}\n---\n{text}").into_bytes()] {
            let key = format!("a.{ext}");
            let result = parse::parse_bytes(&key, &input, std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000), &ctx());
            if let Ok(Some(article)) = result {
                let mut catalog = Catalog::new(config(Path::new("/nonexistent")), StateStore::in_memory());
                catalog.apply(vec![Change::Parsed(key, Ok(Some(Box::new(article))))]);
                let now = chrono::DateTime::parse_from_rfc3339("9999-12-31T23:59:59Z").expect("d").to_utc();
                let items = render::ItemCache::default().feed_items(&catalog, 0, now);
                let doc = render::FeedDoc {
                    config: catalog.config(),
                    info: &catalog.feeds()[0],
                    items: &items,
                    empty_date: render::empty_feed_date(),
                    history: render::History::default(),
                };
                for format in FeedFormat::ALL {
                    // Splicing cached items changes no byte of what the crates write.
                    prop_assert!(items.iter().all(|i| matches!(i.fragment(format), render::Fragment::Checked(_))));
                    prop_assert_eq!(doc.render(format).expect("well-formed"), doc.render_whole(format));
                }
                for (path, format, out) in render::feed_files(&catalog, 0, now, &render::ItemCache::default()).files {
                    let out = out.expect("well-formed");
                    if format == FeedFormat::Json {
                        prop_assert!(serde_json::from_slice::<serde_json::Value>(&out).is_ok());
                    } else {
                        assert_well_formed_xml(&out, &path);
                    }
                }
            }
        }
    }
}
