//! Published resources and the site they make up.
//!
//! Every feed is published once per change as a [`Resource`]: the identity
//! body with its validators, and (filled in right after) its gzip and
//! brotli encodings. A feed's identity body is kept in parts (see
//! [`Spliced`]) until a reader or the compressor first asks for its bytes
//! or its ETag: then its items are rendered, its bytes written and hashed.
//! The server reads an `Arc<Site>` from an [`ArcSwap`]: a request sees
//! either the old site or the new one, never half of each. A feed's first
//! reader writes its bytes (rendering the items no earlier feed needed in
//! that format); every later one gets those bytes.
//!
//! Compression costs far more than rendering (tens of ms per feed against
//! one), so after a change the new feeds are swapped in at once and
//! compressed in the background; until their encodings are ready, clients
//! get the identity body (with its own ETag), never a stale one.

use std::collections::HashMap;
use std::io::Write;
use std::sync::{Arc, OnceLock};

use arc_swap::ArcSwap;
use bytes::Bytes;
use chrono::{DateTime, FixedOffset, Utc};
use hyper::header::HeaderValue;

use crate::render::{FeedBody, Spliced};

/// gzip level: 6 is zlib's default, within a few per cent of 9's size at a
/// third of its time.
const GZIP_LEVEL: u32 = 6;
/// brotli quality 5: smaller than gzip 9, about four times faster than 9.
const BROTLI_QUALITY: i32 = 5;

/// One response body in every encoding, with its validators.
#[derive(Debug, Clone)]
pub struct Resource {
    pub content_type: HeaderValue,
    /// Shared by the clones [`Published::update`] makes, like `encoded`.
    identity: Arc<Identity>,
    /// gzip and brotli bodies once [`Resource::compress`] has run; shared
    /// by the clones [`Published::update`] makes to move `Last-Modified`.
    encoded: Arc<OnceLock<Encoded>>,
    /// False for per-request pages, which are never compressed.
    compressible: bool,
    /// RFC 9110 HTTP-date; for a feed, its newest item's `updated`.
    pub last_modified: Option<HeaderValue>,
    pub last_modified_secs: Option<i64>,
    /// Request counters (200, 304) of the route serving it, filled on first
    /// use (see `serve`).
    pub counters: OnceLock<[prometheus_client::metrics::counter::Counter; 2]>,
}

/// The identity body: written, or in parts and written on first use.
enum Identity {
    Written(Written),
    InParts {
        parts: Spliced,
        written: OnceLock<Written>,
    },
}

/// Identity bytes and the validators that name them.
struct Written {
    bytes: Bytes,
    /// Hex of the xxh3-128 of `bytes`. The ETag of each encoding is
    /// derived from it (`"h"`, `"h-gz"`, `"h-br"`): a strong ETag names
    /// exact bytes, and the encodings' bytes differ. Made from the bytes
    /// alone, it is the same for the same feed after a restart.
    hash: String,
    etags: [HeaderValue; 3],
}

impl Written {
    fn new(body: Vec<u8>) -> Self {
        let hash = format!("{:032x}", xxhash_rust::xxh3::xxh3_128(&body));
        let etag = |suffix: &str| {
            HeaderValue::from_str(&format!("\"{hash}{suffix}\""))
                .unwrap_or_else(|_| HeaderValue::from_static("\"\""))
        };
        Written {
            etags: [etag(""), etag("-gz"), etag("-br")],
            hash,
            // Back to the pool once no reader holds it (see `buffers`).
            bytes: crate::buffers::body(body),
        }
    }
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Identity::Written(w) => f.debug_tuple("Written").field(&w.bytes.len()).finish(),
            Identity::InParts { written, .. } => f
                .debug_struct("InParts")
                .field("written", &written.get().map(|w| w.bytes.len()))
                .finish(),
        }
    }
}

#[derive(Debug)]
struct Encoded {
    gzip: Bytes,
    br: Bytes,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Identity,
    Gzip,
    Brotli,
}

impl Resource {
    /// A feed or page to be compressed (see [`Resource::compress`]).
    pub fn new(
        content_type: &'static str,
        body: Vec<u8>,
        last_modified: Option<DateTime<FixedOffset>>,
    ) -> Self {
        Self::build(
            content_type,
            Identity::Written(Written::new(body)),
            last_modified,
            true,
        )
    }

    /// A page rendered per request: compressing it would cost more than
    /// sending it, so it is served as is.
    pub fn uncompressed(
        content_type: &'static str,
        body: Vec<u8>,
        last_modified: Option<DateTime<FixedOffset>>,
    ) -> Self {
        Self::build(
            content_type,
            Identity::Written(Written::new(body)),
            last_modified,
            false,
        )
    }

    /// A rendered feed: kept in parts when it is, its items rendered and
    /// its bytes written and hashed when first asked for.
    pub fn feed(
        content_type: &'static str,
        body: FeedBody,
        last_modified: Option<DateTime<FixedOffset>>,
    ) -> Self {
        match body {
            FeedBody::Whole(bytes) => Self::new(content_type, bytes, last_modified),
            FeedBody::Spliced(parts) => {
                let identity = Identity::InParts {
                    parts,
                    written: OnceLock::new(),
                };
                Self::build(content_type, identity, last_modified, true)
            }
        }
    }

    fn build(
        content_type: &'static str,
        identity: Identity,
        last_modified: Option<DateTime<FixedOffset>>,
        compressible: bool,
    ) -> Self {
        let mut r = Resource {
            content_type: HeaderValue::from_static(content_type),
            identity: Arc::new(identity),
            encoded: Arc::new(OnceLock::new()),
            compressible,
            last_modified: None,
            last_modified_secs: None,
            counters: OnceLock::new(),
        };
        if let Some(t) = last_modified {
            r.set_last_modified(t.timestamp());
        }
        r
    }

    /// The identity body and its validators, written from its parts on
    /// first use (by the first reader, or the compressor).
    ///
    /// Nobody waits for another writer: the one writing may be the
    /// idle-priority compressor, which may get no CPU while the machine is
    /// busy, and a request must not wait for it. Two that miss at once
    /// both write the same bytes; the first stored is kept (a `set` waits
    /// only for another `set`'s store, never for a write).
    fn written(&self) -> &Written {
        match &*self.identity {
            Identity::Written(w) => w,
            Identity::InParts { parts, written } => {
                if written.get().is_none() {
                    let _ = written.set(Written::new(parts.write()));
                }
                // Stored just above, by this thread or by the first one.
                written.get_or_init(|| Written::new(parts.write()))
            }
        }
    }

    /// Certainly the same identity bytes as `other`. Two feeds in parts
    /// are compared by their parts, without writing them (a feed that
    /// may have changed counts as changed); anything else by hash.
    fn same_body(&self, other: &Resource) -> bool {
        match (&*self.identity, &*other.identity) {
            (Identity::InParts { parts: a, .. }, Identity::InParts { parts: b, .. }) => {
                a.same_document(b)
            }
            _ => self.hash() == other.hash(),
        }
    }

    /// Computes the gzip and brotli bodies (once; later calls do nothing).
    pub fn compress(&self) {
        if self.compressible {
            self.encoded.get_or_init(|| Encoded {
                gzip: crate::zerocopy::sealed(gzip(self.identity())),
                br: crate::zerocopy::sealed(brotli(self.identity())),
            });
        }
    }

    /// The identity body (written on first use, see `written`).
    pub fn identity(&self) -> &Bytes {
        &self.written().bytes
    }

    /// Hex of the xxh3-128 of the identity body: the ETags' stem.
    pub fn hash(&self) -> &str {
        &self.written().hash
    }

    pub fn is_compressed(&self) -> bool {
        self.encoded.get().is_some()
    }

    /// The encoding actually served for a wanted one: identity until the
    /// compressed bodies exist.
    pub fn available(&self, wanted: Encoding) -> Encoding {
        if self.is_compressed() {
            wanted
        } else {
            Encoding::Identity
        }
    }

    fn set_last_modified(&mut self, secs: i64) {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.max(0) as u64);
        self.last_modified = HeaderValue::from_str(&httpdate::fmt_http_date(t)).ok();
        self.last_modified_secs = Some(secs);
    }

    fn with_last_modified(&self, secs: i64) -> Self {
        let mut r = self.clone();
        r.set_last_modified(secs);
        r
    }

    /// The body for an encoding that [`Resource::available`] returned.
    pub fn body(&self, enc: Encoding) -> &Bytes {
        match (enc, self.encoded.get()) {
            (Encoding::Gzip, Some(e)) => &e.gzip,
            (Encoding::Brotli, Some(e)) => &e.br,
            _ => self.identity(),
        }
    }

    pub fn etag(&self, enc: Encoding) -> &HeaderValue {
        let etags = &self.written().etags;
        match enc {
            Encoding::Identity => &etags[0],
            Encoding::Gzip => &etags[1],
            Encoding::Brotli => &etags[2],
        }
    }
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut enc = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::new(GZIP_LEVEL),
    );
    // Writing into a Vec cannot fail.
    let _ = enc.write_all(body);
    enc.finish().unwrap_or_default()
}

fn brotli(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(body.len() / 4);
    // A window no bigger than the body (brotli allows 2^10..2^24): the
    // encoder's buffers follow the window, and a 4 MB window for a 300 kB
    // feed cost tens of MB of RSS while the publisher compressed two at once.
    let lgwin = (body.len().max(1).next_power_of_two().trailing_zeros() as i32).clamp(10, 22);
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY,
        lgwin,
        size_hint: body.len(),
        ..Default::default()
    };
    let _ = brotli::BrotliCompress(&mut &body[..], &mut out, &params);
    out
}

/// Compresses the resources still published (a resource superseded before
/// its turn is skipped: nobody will ask for it).
pub fn compress_all(resources: &[Arc<Resource>]) {
    use rayon::prelude::*;
    resources
        .par_iter()
        .filter(|r| wanted(r))
        .for_each(|r| r.compress());
}

/// Still published (the site holds it too) and not compressed yet.
pub(crate) fn wanted(r: &Arc<Resource>) -> bool {
    Arc::strong_count(r) > 1 && !r.is_compressed()
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
    /// The current site, for as long as one request or step needs it. A
    /// guard, not an `Arc`: both serving threads taking a reference to the
    /// one `Site` on every request would bounce its count between cores.
    pub fn load(&self) -> arc_swap::Guard<Arc<Site>> {
        self.site.load()
    }

    /// Replaces the resources at the given paths and drops those `keep`
    /// refuses, in one atomic step.
    ///
    /// A resource whose bytes certainly did not change is kept as it was
    /// (validators included; see `same_body`). One that may have changed
    /// never keeps an older or equal `Last-Modified`: when its newest item is not newer (an article
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
                    Some(prev) if prev.same_body(res) => prev.clone(),
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
        assert_eq!(
            r.available(Encoding::Gzip),
            Encoding::Identity,
            "not compressed yet"
        );
        assert_eq!(r.body(Encoding::Gzip), r.identity());
        r.compress();
        assert_eq!(r.available(Encoding::Gzip), Encoding::Gzip);
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&r.body(Encoding::Gzip)[..])
            .read_to_end(&mut out)
            .expect("gzip");
        assert_eq!(out, body);
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut &r.body(Encoding::Brotli)[..], &mut out).expect("br");
        assert_eq!(out, body);
        assert!(r.body(Encoding::Gzip).len() < body.len() / 4);
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
            published.load().resources["/f"].last_modified,
            Some(HeaderValue::from_static("Fri, 01 Jan 2027 00:00:00 GMT"))
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
