//! Text stays text: whatever characters a scraped page's title and body
//! hold (`&`, `<script>`, `]]>`, quotes, Urdu), a feed reader parsing each
//! feed (feed-rs) gets back the same text, and no element wirefeed did not
//! write itself.

mod common;

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use feed_rs::model::Entry;
use proptest::prelude::*;
use wirefeed::catalog::Catalog;
use wirefeed::catalog::StateStore;
use wirefeed::config::Config;
use wirefeed::model::Change;
use wirefeed::parse::{self, ParseContext};
use wirefeed::render;

use common::{html_text, shown_text as shown, squash};

fn config() -> Arc<Config> {
    Arc::new(
        Config::from_str_with_env(
            "[site]\ntitle='Desk'\nbase_url='http://127.0.0.1:9/'\ntimezone='Asia/Karachi'\n\
             [[categories]]\nslug='world'\ntitle='World'\n",
            Path::new("t.toml"),
            Vec::new(),
        )
        .expect("config"),
    )
}

fn now() -> DateTime<Utc> {
    DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
        .expect("date")
        .to_utc()
}

/// The summary and body a parsed entry carries, as text.
fn entry_texts(entry: &Entry) -> Result<(String, String, Option<String>), String> {
    let title = shown(entry.title.as_ref().ok_or("no title")?)?;
    let summary = shown(entry.summary.as_ref().ok_or("no summary")?)?;
    let body = match entry.content.as_ref().and_then(|c| c.body.as_deref()) {
        Some(html) => Some(html_text(html)?),
        None => None,
    };
    Ok((title, summary, body))
}

/// Parses a `.txt` page with `title` and a one-line `body`, renders every
/// feed and checks what feed-rs reads back from each.
fn round_trip(title: &str, body: &str) -> Result<(), String> {
    let page = format!(
        "{title}\nAyesha Khan Published August 14, 2024 | 09:30 AM\n\
         Karachi, (APP - UrduPoint / Pakistan Point News - 14th August, 2024) {body}\n\
         Recent Stories\nMore Stories From World\n"
    );
    let config = config();
    let ctx = ParseContext::from_config(&config);
    let mtime = std::time::SystemTime::UNIX_EPOCH;
    let article = parse::parse_bytes("world/a.txt", page.as_bytes(), mtime, &ctx)
        .map_err(|e| format!("not parsed: {e}"))?
        .ok_or("a draft?")?;
    let (want_title, want_summary) = (article.title.clone(), article.summary.clone());
    let want_body = squash(body);
    let mut catalog = Catalog::new(config, StateStore::in_memory());
    catalog.apply(vec![Change::Parsed(
        "world/a.txt".into(),
        Ok(Some(Box::new(article))),
    )]);
    catalog.cache_texts(now());
    let cache = render::ItemCache::default();
    let feeds = (0..catalog.feeds().len())
        .flat_map(|index| render::feed_files(&catalog, index, now(), &cache).files);
    for (path, _, body) in feeds {
        let bytes = body.map_err(|r| format!("{path}: not published: {r:?}"))?;
        let feed = feed_rs::parser::parse(&bytes[..]).map_err(|e| format!("{path}: {e}"))?;
        let [entry] = &feed.entries[..] else {
            return Err(format!("{path}: {} entries", feed.entries.len()));
        };
        let (got_title, summary, content) =
            entry_texts(entry).map_err(|e| format!("{path}: {e}"))?;
        let check = |what: &str, got: &str, want: &str| match got == want {
            true => Ok(()),
            false => Err(format!("{path} {what}: {got:?} != {want:?}")),
        };
        check("title", &got_title, &want_title)?;
        check("summary", &summary, &want_summary)?;
        if let Some(content) = content {
            check("content", &content, &want_body)?;
        }
    }
    Ok(())
}

/// Characters that markup, CDATA, JSON and entity handling could trip on,
/// words, and letters of other scripts.
fn hostile_text() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("&".to_string()),
        Just("&amp;".to_string()),
        Just("&lt;".to_string()),
        Just("&#x3C;".to_string()),
        Just("<".to_string()),
        Just(">".to_string()),
        Just("<script>alert('x')</script>".to_string()),
        Just("<b>".to_string()),
        Just("</p>".to_string()),
        Just("]]>".to_string()),
        Just("<![CDATA[".to_string()),
        Just("\"".to_string()),
        Just("'".to_string()),
        Just("\\".to_string()),
        Just("پاکستان".to_string()),
        Just("é".to_string()),
        Just("😀".to_string()),
        "[a-zA-Z]{1,8}",
        Just(" ".to_string()),
    ];
    prop::collection::vec(piece, 1..16).prop_map(|pieces| pieces.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn any_title_and_body_come_back_as_the_same_text(
        title in hostile_text(),
        body in hostile_text(),
    ) {
        // A title line that is only markup-free spaces is no title.
        prop_assume!(!title.trim().is_empty() && !body.trim().is_empty());
        round_trip(&format!("T {title}"), &format!("B {body}")).map_err(TestCaseError::fail)?;
    }
}

/// The example from the field: every feed carries it as text.
#[test]
fn the_reported_article_comes_back_as_text() {
    round_trip(
        "Independence Day: پاکستان & <Friends>",
        "Markets rose & fell <script>alert('x')</script> ]]> then \"quotes\"",
    )
    .unwrap_or_else(|e| panic!("{e}"));
}
