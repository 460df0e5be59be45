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
use chrono::{DateTime, FixedOffset};

/// One response body in every encoding, with its validators.
#[derive(Debug)]
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
        }
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

    /// Replaces the resources at the given paths in one atomic step.
    pub fn update(&self, changed: Vec<(String, Arc<Resource>)>) {
        self.site.rcu(|old| {
            let mut resources = old.resources.clone();
            for (path, res) in &changed {
                resources.insert(path.clone(), res.clone());
            }
            Site { resources }
        });
    }

    /// Drops every resource not in `keep` (feeds of a removed category).
    pub fn retain(&self, keep: &dyn Fn(&str) -> bool) {
        self.site.rcu(|old| Site {
            resources: old
                .resources
                .iter()
                .filter(|(p, _)| keep(p))
                .map(|(p, r)| (p.clone(), r.clone()))
                .collect(),
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
}
