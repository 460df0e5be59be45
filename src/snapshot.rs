//! Pre-rendered resources and the site they make up.
//!
//! Every feed is rendered once per change into a [`Resource`] holding the
//! identity, gzip and brotli bodies with their validators. The server reads
//! an `Arc<Site>` from an [`ArcSwap`] and never renders a feed: a request
//! sees either the old site or the new one, never half of each.

use std::collections::HashMap;
use std::io::Write;
use std::sync::Arc;

use arc_swap::ArcSwap;
use bytes::Bytes;
use chrono::{DateTime, FixedOffset, Utc};

/// One response body in every encoding, with its validators.
#[derive(Debug, Clone)]
pub struct Resource {
    pub content_type: &'static str,
    pub identity: Bytes,
    pub gzip: Bytes,
    pub br: Bytes,
    /// Hex of the xxh3-128 of the identity bytes. The ETag of each encoding
    /// is derived from it (`"h"`, `"h-gz"`, `"h-br"`): a strong ETag names
    /// exact bytes, and the encodings' bytes differ.
    pub hash: String,
    /// RFC 9110 HTTP-date; for a feed, its newest item's `updated`.
    pub last_modified: Option<String>,
    pub last_modified_secs: Option<i64>,
    /// False for per-request pages: every encoding is the identity body.
    pub compressed: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Resource {
    pub fn new(
        content_type: &'static str,
        body: Vec<u8>,
        last_modified: Option<DateTime<FixedOffset>>,
    ) -> Self {
        let hash = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&body));
        let gzip = gzip(&body);
        let br = brotli(&body);
        Resource {
            content_type,
            identity: Bytes::from(body),
            gzip: Bytes::from(gzip),
            br: Bytes::from(br),
            hash,
            last_modified: last_modified.map(|t| httpdate::fmt_http_date(t.into())),
            last_modified_secs: last_modified.map(|t| t.timestamp()),
            compressed: true,
        }
    }

    /// A page rendered per request: compressing it would cost more than
    /// sending it, so it is served as is.
    pub fn uncompressed(
        content_type: &'static str,
        body: Vec<u8>,
        last_modified: Option<DateTime<FixedOffset>>,
    ) -> Self {
        let body = Bytes::from(body);
        Resource {
            content_type,
            hash: format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&body)),
            gzip: body.clone(),
            br: body.clone(),
            identity: body,
            last_modified: last_modified.map(|t| httpdate::fmt_http_date(t.into())),
            last_modified_secs: last_modified.map(|t| t.timestamp()),
            compressed: false,
        }
    }

    fn with_last_modified(&self, secs: i64) -> Self {
        let mut r = self.clone();
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.max(0) as u64);
        r.last_modified = Some(httpdate::fmt_http_date(t));
        r.last_modified_secs = Some(secs);
        r
    }

    pub fn body(&self, enc: Encoding) -> &Bytes {
        match enc {
            Encoding::Identity => &self.identity,
            Encoding::Gzip => &self.gzip,
            Encoding::Brotli => &self.br,
        }
    }

    pub fn etag(&self, enc: Encoding) -> String {
        match enc {
            Encoding::Identity => format!("\"{}\"", self.hash),
            Encoding::Gzip => format!("\"{}-gz\"", self.hash),
            Encoding::Brotli => format!("\"{}-br\"", self.hash),
        }
    }
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::best(),
    );
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(body);
    enc.finish().unwrap_or_default()
}

fn brotli(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() / 4);
    let params = brotli::enc::BrotliEncoderParams {
        quality: 9,
        lgwin: 22,
        ..Default::default()
    };
    let _ = brotli::BrotliCompress(&mut &body[..], &mut out, &params);
    out
}

/// Everything the server answers from memory, by request path.
#[derive(Debug, Default)]
pub struct Site {
    pub resources: HashMap<String, Arc<Resource>>,
}

/// The current site, swapped atomically by the publisher.
#[derive(Default)]
pub struct Published {
    site: ArcSwap<Site>,
}

impl Published {
    pub fn load(&self) -> Arc<Site> {
        self.site.load_full()
    }

    /// Replaces the resources at the given paths and drops those `keep`
    /// refuses, in one atomic step.
    ///
    /// A resource whose bytes did not change is kept as it was (validators
    /// included). One whose bytes changed never keeps an older or equal
    /// `Last-Modified`: when its newest item is not newer (an article
    /// backdated into it, or its newest one deleted), the change time is
    /// used, so If-Modified-Since clients do not get a stale 304.
    pub fn update(
        &self,
        changed: Vec<(String, Arc<Resource>)>,
        keep: &dyn Fn(&str) -> bool,
        now: DateTime<Utc>,
    ) {
        self.site.rcu(|old| {
            let mut resources: HashMap<String, Arc<Resource>> = old
                .resources
                .iter()
                .filter(|(p, _)| keep(p))
                .map(|(p, r)| (p.clone(), r.clone()))
                .collect();
            for (path, res) in &changed {
                let res = match old.resources.get(path) {
                    Some(prev) if prev.hash == res.hash => prev.clone(),
                    Some(prev) => match (prev.last_modified_secs, res.last_modified_secs) {
                        (Some(p), Some(n)) if n <= p => {
                            Arc::new(res.with_last_modified(now.timestamp().max(p + 1)))
                        }
                        (Some(p), None) => {
                            Arc::new(res.with_last_modified(now.timestamp().max(p + 1)))
                        }
                        _ => res.clone(),
                    },
                    None => res.clone(),
                };
                resources.insert(path.clone(), res);
            }
            Site { resources }
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn compressed_bodies_decode_to_the_identity_body() {
        let body = b"<rss>hello hello hello hello</rss>".repeat(50);
        let r = Resource::new("application/rss+xml", body.clone(), None);
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&r.gzip[..])
            .read_to_end(&mut out)
            .expect("gzip");
        assert_eq!(out, body);
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &r.br[..], &mut out).expect("br");
        assert_eq!(out, body);
        assert!(r.gzip.len() < body.len() / 4);
        assert_ne!(r.etag(Encoding::Identity), r.etag(Encoding::Gzip));
    }

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).expect("date")
    }

    #[test]
    fn a_changed_feed_never_keeps_its_last_modified() {
        let published = Published::default();
        let now = at("2026-01-01T00:00:00Z").to_utc();
        let feed = |body: &str, newest: &str| {
            Arc::new(Resource::new(
                "x",
                body.as_bytes().to_vec(),
                Some(at(newest)),
            ))
        };
        published.update(
            vec![("/f".into(), feed("a", "2024-05-14T00:00:00Z"))],
            &|_| true,
            now,
        );
        let first = published.load().resources["/f"].clone();
        // Same bytes: the very same resource stays.
        published.update(
            vec![("/f".into(), feed("a", "2024-05-14T00:00:00Z"))],
            &|_| true,
            now,
        );
        assert!(Arc::ptr_eq(&first, &published.load().resources["/f"]));
        // A backdated addition: newest item unchanged, bytes changed.
        published.update(
            vec![("/f".into(), feed("ab", "2024-05-14T00:00:00Z"))],
            &|_| true,
            now,
        );
        assert_eq!(
            published.load().resources["/f"].last_modified_secs,
            Some(now.timestamp())
        );
        // A newer item: its date, as usual.
        published.update(
            vec![("/f".into(), feed("abc", "2027-01-01T00:00:00Z"))],
            &|_| true,
            now,
        );
        assert_eq!(
            published.load().resources["/f"].last_modified.as_deref(),
            Some("Fri, 01 Jan 2027 00:00:00 GMT")
        );
        // Dropping feeds of a removed category happens in the same swap.
        published.update(
            vec![("/g".into(), feed("g", "2024-01-01T00:00:00Z"))],
            &|p| p != "/f",
            now,
        );
        let site = published.load();
        assert!(!site.resources.contains_key("/f") && site.resources.contains_key("/g"));
    }
}
