//! Compressed bodies: content negotiation (gzip, brotli, `q=0`) serves
//! bodies that decode to the identity body, with their own ETags; and every
//! change a feed takes (a new article, a backdated one, an edit, a deletion
//! of its newest) must leave it served gzip and brotli again within a
//! second, and those bodies must be the new document, not an older one.

mod common;

use std::io::Read;
use std::time::Duration;

use common::*;

/// How soon after a publish the encodings must be served on an idle machine.
const WITHIN: Duration = Duration::from_secs(1);

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut out)
        .expect("valid gzip");
    out
}

fn unbrotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &bytes[..], &mut out).expect("valid brotli");
    out
}

/// Waits (5 s) until `path`'s identity body satisfies `shows`, then asserts
/// that within [`WITHIN`] of that both encodings are served and decode to
/// exactly that body.
fn compressed_again(d: &Daemon, path: &str, what: &str, shows: impl Fn(&str) -> bool) {
    let identity = d.wait_feed(path, what, shows);
    let mut last = (None, None);
    let ok = wait_until(
        || {
            let gz = d.get_with(path, &[("Accept-Encoding", "gzip")]);
            let br = d.get_with(path, &[("Accept-Encoding", "br")]);
            let gz_ok = gz.header("content-encoding") == Some("gzip")
                && gunzip(&gz.body) == identity.as_bytes();
            let br_ok = br.header("content-encoding") == Some("br")
                && unbrotli(&br.body) == identity.as_bytes();
            last = (
                gz.header("content-encoding").map(str::to_string),
                br.header("content-encoding").map(str::to_string),
            );
            gz_ok && br_ok
        },
        WITHIN,
    );
    assert!(
        ok,
        "{path} ({what}): not served gzip and br within {WITHIN:?}; last encodings {last:?}\n{}",
        d.log()
    );
}

#[test]
fn every_kind_of_change_is_served_compressed_again_within_a_second() {
    let d = Daemon::start();
    let feeds = ["/feeds/world.rss", "/feeds/all.atom", "/feeds/world.json"];

    d.write_article("world/new.txt", &story("Port Talks Resume", "World", "new"));
    for feed in feeds {
        compressed_again(&d, feed, "a new article", |b| {
            b.contains("Port Talks Resume")
        });
    }

    // Backdated: older than the newest article, so the feed's date stays.
    let old = story("Archive Story Filed Late", "World", "late")
        .replace("May 14, 2024 | 02:10 PM", "May 2, 2024 | 09:00 AM");
    d.write_article("world/late.txt", &old);
    for feed in feeds {
        compressed_again(&d, feed, "a backdated article", |b| {
            b.contains("Archive Story Filed Late")
        });
    }

    // An edit of the older one.
    d.write_article("world/late.txt", &old.replace("Filed Late", "Filed Later"));
    for feed in feeds {
        compressed_again(&d, feed, "an edit", |b| {
            b.contains("Archive Story Filed Later")
        });
    }

    // The newest deleted: the feed's newest item goes back in time.
    std::fs::remove_file(d.site.article_path("world/new.txt")).expect("delete");
    for feed in feeds {
        compressed_again(&d, feed, "its newest deleted", |b| {
            !b.contains("Port Talks Resume") && b.contains("Filed Later")
        });
    }
}

/// Scenario 10: Content negotiation: gzip and brotli bodies decode to the identity
/// body; `q=0` refuses a coding.
#[test]
fn gzip_and_brotli_encodings_decode_to_the_identity_body() {
    let d = Daemon::start();
    let title = "Textile Exports Rise for Third Straight Month";
    d.write_article(
        "business/textiles.txt",
        &story(title, "Business", "textile"),
    );
    d.wait_feed("/feeds/business.rss", "listed the article", |b| {
        b.contains(title)
    });
    // A change is served at once (identity); its encodings follow within
    // milliseconds, computed in the background.
    for feed in [
        "/feeds/business.rss",
        "/feeds/business.atom",
        "/feeds/all.json",
    ] {
        assert!(
            eventually(|| {
                let r = d.get_with(feed, &[("Accept-Encoding", "gzip")]);
                r.header("content-encoding") == Some("gzip")
            }),
            "{feed}: never served gzip"
        );
    }

    for feed in [
        "/feeds/business.rss",
        "/feeds/business.atom",
        "/feeds/all.json",
    ] {
        let identity = d.get(feed);
        assert_eq!(identity.status, 200);
        assert_eq!(identity.header("content-encoding"), None, "{feed}");
        let etag = identity
            .header("etag")
            .expect("etag")
            .trim_matches('"')
            .to_string();

        let gz = d.get_with(feed, &[("Accept-Encoding", "gzip")]);
        assert_eq!(gz.status, 200);
        assert_eq!(gz.header("content-encoding"), Some("gzip"), "{feed}");
        assert!(
            gz.header("vary")
                .is_some_and(|v| v.contains("Accept-Encoding")),
            "{feed}: {:?}",
            gz.headers
        );
        assert_eq!(gz.header("etag"), Some(format!("\"{etag}-gz\"").as_str()));
        assert_eq!(
            gz.header("content-length"),
            Some(gz.body.len().to_string().as_str())
        );
        assert_eq!(gunzip(&gz.body), identity.body, "{feed}: gzip body");

        let r = d.get_with(feed, &[("Accept-Encoding", "br;q=0, gzip")]);
        assert_eq!(r.header("content-encoding"), Some("gzip"), "{feed}: br;q=0");
        assert_eq!(gunzip(&r.body), identity.body);

        let br = d.get_with(feed, &[("Accept-Encoding", "gzip, br")]);
        assert_eq!(br.header("content-encoding"), Some("br"), "{feed}");
        assert_eq!(br.header("etag"), Some(format!("\"{etag}-br\"").as_str()));
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &br.body[..], &mut out).expect("valid brotli");
        assert_eq!(out, identity.body, "{feed}: brotli body");

        let r = d.get_with(feed, &[("Accept-Encoding", "gzip;q=0")]);
        assert_eq!(r.header("content-encoding"), None, "{feed}: gzip;q=0");
        assert_eq!(r.body, identity.body);
    }
}
