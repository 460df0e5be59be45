//! Any bytes as any article format (the first byte picks it, see
//! `common::split`): an article or a reason, never a panic, and every
//! article within the invariants of `common::check_article`. The same bytes
//! read for metadata only (as a full scan reads them) must decide the same
//! way and give the same metadata.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wirefeed::model::Reason;
use wirefeed::parse::parse_bytes;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let input = common::split(data);
    let site = common::site(input.site);
    let mtime = common::mtime();
    let full = parse_bytes(input.key, input.bytes, mtime, &site.ctx);
    let meta = parse_bytes(input.key, input.bytes, mtime, &site.meta);
    match (&full, &meta) {
        (Ok(Some(a)), Ok(Some(m))) => {
            common::check_article(a, input.key, site);
            let same = |what: &str, x: String, y: String| {
                assert_eq!(x, y, "{what}: full read and metadata-only read differ");
            };
            same("title", a.title.clone(), m.title.clone());
            same(
                "author",
                format!("{:?}", a.author),
                format!("{:?}", m.author),
            );
            same(
                "published",
                a.published.to_rfc3339(),
                m.published.to_rfc3339(),
            );
            same(
                "date source",
                format!("{:?}", a.date_source),
                format!("{:?}", m.date_source),
            );
            same(
                "updated",
                format!("{:?}", a.updated),
                format!("{:?}", m.updated),
            );
            same(
                "categories",
                format!("{:?}", a.categories),
                format!("{:?}", m.categories),
            );
            same("tags", format!("{:?}", a.tags), format!("{:?}", m.tags));
            same("link", format!("{:?}", a.link), format!("{:?}", m.link));
            same("id", format!("{:?}", a.id), format!("{:?}", m.id));
            same(
                "dateline",
                format!("{:?}", a.dateline),
                format!("{:?}", m.dateline),
            );
            same(
                "hash",
                a.content_hash.to_string(),
                m.content_hash.to_string(),
            );
            // "What decides whether a file is an article, and every
            // warning, stay the same" (ParseContext::metadata_only).
            same(
                "warnings",
                format!("{:?}", a.warnings),
                format!("{:?}", m.warnings),
            );
        }
        (Ok(None), Ok(None)) => {
            // Only front matter and JSON can say `draft`.
            assert!(
                !input.key.ends_with(".txt"),
                "a scraped page read as a draft"
            );
        }
        (Err(e), Err(m)) => {
            assert_eq!(
                std::mem::discriminant(e),
                std::mem::discriminant(m),
                "full read: {e}; metadata-only read: {m}"
            );
            assert!(
                !matches!(e, Reason::UnsupportedExtension | Reason::Io(_)),
                "{e}"
            );
        }
        _ => panic!(
            "full read and metadata-only read disagree: {:?} vs {:?}",
            full.as_ref().map(|a| a.as_ref().map(|a| &a.title)),
            meta.as_ref().map(|a| a.as_ref().map(|a| &a.title)),
        ),
    }
});
