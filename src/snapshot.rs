//! Published resources and the site they make up.
//!
//! Every feed is published once per change as a [`Resource`]: the identity
//! body with its validators, and (filled in right after) its gzip and
//! brotli encodings. The server reads an `Arc<Site>` from an [`ArcSwap`]:
//! a request sees either the old site or the new one, never half of each.
//!
//! Compression costs far more than rendering (milliseconds per feed
//! against tens of microseconds), so a change is swapped in at once and
//! compressed right after on the `wirefeed-compress` thread: until its
//! encodings are ready, clients get the identity body (with its own ETag),
//! never a stale one. That thread compresses whatever the *current* site
//! holds uncompressed, so a feed replaced meanwhile is never compressed
//! for nothing, and every feed still published is compressed in the end;
//! in a burst of changes it waits for a pause (or a few seconds at most).

use std::collections::HashMap;
use std::io::Write;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use bytes::Bytes;
use chrono::{DateTime, FixedOffset, Utc};
use hyper::header::HeaderValue;

/// gzip level: 6 is zlib's default, within a few per cent of 9's size at a
/// third of its time.
const GZIP_LEVEL: u32 = 6;
/// brotli quality 5: smaller than gzip 9, about four times faster than 9.
const BROTLI_QUALITY: i32 = 5;
/// Compression starts once no swap came for this long: in a burst of
/// changes each publish replaces the last one's feeds, and compressing
/// every one of them would take more CPU than publishing them.
const QUIET: Duration = Duration::from_millis(50);
/// ...or once the oldest uncompressed swap is this old, so that changes
/// that never stop still get compressed bodies.
const DEFER_AT_MOST: Duration = Duration::from_secs(3);

/// One response body in every encoding, with its validators.
#[derive(Debug, Clone)]
pub struct Resource {
    pub content_type: HeaderValue,
    /// Shared by the clones [`Published::update`] makes, like `encoded`.
    identity: Arc<Written>,
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

/// Identity bytes and the validators that name them.
#[derive(Debug)]
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
        Self::build(content_type, body, last_modified, true)
    }

    /// A page rendered per request: compressing it would cost more than
    /// sending it, so it is served as is.
    pub fn uncompressed(
        content_type: &'static str,
        body: Vec<u8>,
        last_modified: Option<DateTime<FixedOffset>>,
    ) -> Self {
        Self::build(content_type, body, last_modified, false)
    }

    fn build(
        content_type: &'static str,
        body: Vec<u8>,
        last_modified: Option<DateTime<FixedOffset>>,
        compressible: bool,
    ) -> Self {
        let mut r = Resource {
            content_type: HeaderValue::from_static(content_type),
            identity: Arc::new(Written::new(body)),
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

    /// Computes the gzip and brotli bodies (once; later calls do nothing).
    pub fn compress(&self) {
        if self.compressible {
            self.encoded.get_or_init(|| Encoded {
                gzip: crate::zerocopy::sealed(gzip(self.identity())),
                br: crate::zerocopy::sealed(brotli(self.identity())),
            });
        }
    }

    /// Still waiting for its compressed bodies.
    pub fn wants_compression(&self) -> bool {
        self.compressible && self.encoded.get().is_none()
    }

    pub fn identity(&self) -> &Bytes {
        &self.identity.bytes
    }

    /// Hex of the xxh3-128 of the identity body: the ETags' stem.
    pub fn hash(&self) -> &str {
        &self.identity.hash
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
        let etags = &self.identity.etags;
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
    // feed is tens of MB of memory for nothing.
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

/// Everything the server answers from memory, by request path.
#[derive(Debug, Default)]
pub struct Site {
    pub resources: HashMap<String, Arc<Resource>>,
}

impl Site {
    /// A resource of this site still waiting for its compressed bodies.
    fn next_to_compress(&self) -> Option<Arc<Resource>> {
        self.resources
            .values()
            .find(|r| r.wants_compression())
            .cloned()
    }
}

/// The current site, swapped atomically by the publisher and compressed
/// by a thread of its own right after each swap.
pub struct Published {
    site: Arc<ArcSwap<Site>>,
    /// Tells the compressor when a swap happened; `None` where it could
    /// not be started (then [`Published::update`] compresses on the
    /// caller's thread).
    compressor: Option<mpsc::Sender<Instant>>,
}

impl Default for Published {
    fn default() -> Self {
        Self::new()
    }
}

impl Published {
    /// An empty site and its compressor thread.
    pub fn new() -> Self {
        let site = Arc::new(ArcSwap::from_pointee(Site::default()));
        let (tx, rx) = mpsc::channel::<Instant>();
        let current = site.clone();
        let spawned = std::thread::Builder::new()
            .name("wirefeed-compress".into())
            .spawn(move || compressor(&current, &rx));
        let compressor = match spawned {
            Ok(_) => Some(tx),
            Err(e) => {
                tracing::warn!(error = %e, "no compressor thread; compressing on the publisher's");
                None
            }
        };
        Published { site, compressor }
    }

    /// The current site, for as long as one request or step needs it. A
    /// guard, not an `Arc`: both serving threads taking a reference to the
    /// one `Site` on every request would bounce its count between cores.
    pub fn load(&self) -> arc_swap::Guard<Arc<Site>> {
        self.site.load()
    }

    /// Compresses, on the calling thread, everything the current site holds
    /// uncompressed (the compressor thread does the same in the background
    /// after every [`Published::update`]).
    pub fn compress_now(&self) {
        use rayon::prelude::*;
        let site = self.site.load_full();
        site.resources
            .par_iter()
            .filter(|(_, r)| r.wants_compression())
            .for_each(|(_, r)| r.compress());
    }

    /// Replaces the resources at the given paths and drops those `keep`
    /// refuses, in one atomic step, then has the new ones compressed.
    ///
    /// A resource whose bytes did not change is kept as it was
    /// (validators and compressed bodies included). One that changed never
    /// keeps an older or equal `Last-Modified`: when its newest item is not
    /// newer (an article backdated into it, or its newest one deleted), the
    /// change time is used, so If-Modified-Since clients do not get a
    /// stale 304.
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
                    Some(prev) if prev.hash() == res.hash() => prev.clone(),
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
        let woken = self
            .compressor
            .as_ref()
            .is_some_and(|tx| tx.send(Instant::now()).is_ok());
        if !woken {
            self.compress_now();
        }
    }
}

/// The `wirefeed-compress` thread: after each swap (`swaps` gives its
/// time), compresses the current site once no swap came for [`QUIET`], or
/// once the oldest swap not compressed yet is [`DEFER_AT_MOST`] old. Ends
/// when the `Published` (the only sender) is dropped.
fn compressor(site: &ArcSwap<Site>, swaps: &mpsc::Receiver<Instant>) {
    // The first and the latest swap not compressed yet.
    let mut pending: Option<(Instant, Instant)> = None;
    loop {
        let (first, last) = match pending {
            Some(p) => p,
            None => match swaps.recv() {
                Ok(t) => (t, t),
                Err(_) => return,
            },
        };
        let due = (last + QUIET).min(first + DEFER_AT_MOST);
        match swaps.recv_timeout(due.saturating_duration_since(Instant::now())) {
            Ok(t) => {
                pending = Some((first, t));
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {}
        }
        compress_current(site);
        // Swaps made during the pass wait their turn from their own time.
        pending = swaps
            .try_iter()
            .fold(None, |p, t| Some(p.map_or((t, t), |(f, _)| (f, t))));
    }
}

/// Compresses, one at a time, what the current site holds uncompressed,
/// looking at the site afresh after each: a resource replaced meanwhile is
/// skipped, and one published meanwhile is taken too.
fn compress_current(site: &ArcSwap<Site>) {
    while let Some(resource) = site.load().next_to_compress() {
        resource.compress();
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
