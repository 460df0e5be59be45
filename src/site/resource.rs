//! One published response body in every encoding, with its validators.

use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use chrono::{DateTime, FixedOffset};
use hyper::header::HeaderValue;

use super::compress;
use crate::tune;

/// One response body in every encoding, with its validators.
#[derive(Debug, Clone)]
pub struct Resource {
    content_type: HeaderValue,
    /// Shared by the clones [`Published::update`] makes, like `encoded`.
    identity: Arc<Written>,
    /// gzip and brotli bodies once [`Resource::compress`] has run; shared
    /// by the clones [`Published::update`] makes to move `Last-Modified`.
    encoded: Arc<OnceLock<Encoded>>,
    /// False for per-request pages, which are never compressed.
    compressible: bool,
    /// A complete archive page: its bytes never change.
    immutable: bool,
    /// RFC 9110 HTTP-date; for a feed, its newest item's `updated`.
    last_modified: Option<HeaderValue>,
    last_modified_secs: Option<i64>,
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
            bytes: tune::buffers::body(body),
        }
    }
}

#[derive(Debug)]
struct Encoded {
    gzip: Bytes,
    /// Absent for a stored archive page (kept as gzip only).
    br: Option<Bytes>,
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
            immutable: false,
            last_modified: None,
            last_modified_secs: None,
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
                gzip: tune::zerocopy::sealed(compress::gzip(self.identity())),
                br: Some(tune::zerocopy::sealed(compress::brotli(self.identity()))),
            });
        }
    }

    pub fn content_type(&self) -> &HeaderValue {
        &self.content_type
    }

    /// `Last-Modified`, as the header and in Unix seconds.
    pub fn last_modified(&self) -> Option<(&HeaderValue, i64)> {
        self.last_modified.as_ref().zip(self.last_modified_secs)
    }

    pub(super) fn last_modified_secs(&self) -> Option<i64> {
        self.last_modified_secs
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
        match (wanted, self.encoded.get()) {
            (_, None) => Encoding::Identity,
            (Encoding::Brotli, Some(Encoded { br: None, .. })) => Encoding::Gzip,
            _ => wanted,
        }
    }

    /// A complete archive page read back from its stored gzip body, which
    /// goes out like every compressed body (`tune::zerocopy`).
    pub fn stored(
        content_type: &'static str,
        identity: Vec<u8>,
        gzip: Vec<u8>,
        last_modified: i64,
        immutable: bool,
    ) -> Self {
        let mut r = Self::build(content_type, identity, None, false);
        r.set_last_modified(last_modified);
        r.immutable = immutable;
        let _ = r.encoded.set(Encoded {
            gzip: tune::zerocopy::sealed(gzip),
            br: None,
        });
        r
    }

    /// Never changes (`Cache-Control: immutable`).
    pub fn is_immutable(&self) -> bool {
        self.immutable
    }

    fn set_last_modified(&mut self, secs: i64) {
        let t = std::time::UNIX_EPOCH + std::time::Duration::from_secs(secs.max(0) as u64);
        self.last_modified = HeaderValue::from_str(&httpdate::fmt_http_date(t)).ok();
        self.last_modified_secs = Some(secs);
    }

    pub(super) fn with_last_modified(&self, secs: i64) -> Self {
        let mut r = self.clone();
        r.set_last_modified(secs);
        r
    }

    /// The body for an encoding that [`Resource::available`] returned.
    pub fn body(&self, enc: Encoding) -> &Bytes {
        match (enc, self.encoded.get()) {
            (Encoding::Gzip, Some(e)) => &e.gzip,
            (Encoding::Brotli, Some(Encoded { br: Some(br), .. })) => br,
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
}
