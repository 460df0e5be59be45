//! Conditional GET and content negotiation: the headers every answer
//! from memory carries, and a 304 when the client has the bytes already.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};

use crate::site::{Encoding, Resource, Site};

/// An answer: every body is in memory when it is sent.
pub type Resp = Response<Full<Bytes>>;

/// A resource with conditional GET (RFC 9110 13.2.2: If-None-Match is
/// evaluated first; If-Modified-Since only when it is absent) and content
/// negotiation on Accept-Encoding.
pub fn respond<B>(site: &Site, req: &Request<B>, res: &Resource) -> Resp {
    let enc = res.available(negotiate(req.headers().get(header::ACCEPT_ENCODING)));
    let not_modified = if let Some(inm) = req.headers().get(header::IF_NONE_MATCH) {
        inm.to_str().is_ok_and(|v| etag_matches(v, res.hash()))
    } else if let (Some(ims), Some(lm)) = (
        req.headers().get(header::IF_MODIFIED_SINCE),
        res.last_modified().map(|(_, secs)| secs),
    ) {
        ims.to_str()
            .ok()
            .and_then(|v| httpdate::parse_http_date(v).ok())
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .is_some_and(|since| lm <= since.as_secs() as i64)
    } else {
        false
    };
    let mut r = if not_modified {
        let mut r = Response::new(Full::new(Bytes::new()));
        *r.status_mut() = StatusCode::NOT_MODIFIED;
        r
    } else {
        let body = res.body(enc).clone();
        let mut r = Response::new(Full::new(body));
        let h = r.headers_mut();
        h.insert(header::CONTENT_TYPE, res.content_type().clone());
        h.insert(
            header::CONTENT_LENGTH,
            HeaderValue::from(res.body(enc).len()),
        );
        match enc {
            Encoding::Gzip => h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip")),
            Encoding::Brotli => h.insert(header::CONTENT_ENCODING, HeaderValue::from_static("br")),
            Encoding::Identity => None,
        };
        r
    };
    let h = r.headers_mut();
    h.insert(header::ETAG, res.etag(enc).clone());
    if let Some((lm, _)) = res.last_modified() {
        h.insert(header::LAST_MODIFIED, lm.clone());
    }
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    let cache_control = match res.is_immutable() {
        true => HeaderValue::from_static(crate::site::IMMUTABLE),
        false => site.cache_control(),
    };
    h.insert(header::CACHE_CONTROL, cache_control);
    for link in site.feed_links(req.uri().path()) {
        h.append(header::LINK, link);
    }
    r
}

/// Does an If-None-Match list name this resource in any encoding? The
/// comparison is weak (RFC 9110 13.1.2): `W/` and our encoding suffixes are
/// ignored, `*` matches.
fn etag_matches(header: &str, hash: &str) -> bool {
    header.split(',').map(str::trim).any(|tag| {
        if tag == "*" {
            return true;
        }
        let tag = tag.strip_prefix("W/").unwrap_or(tag);
        let Some(opaque) = tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')) else {
            return false;
        };
        let stem = ["-gz", "-br"]
            .iter()
            .find_map(|suffix| opaque.strip_suffix(suffix))
            .unwrap_or(opaque);
        stem == hash
    })
}

/// Picks brotli, then gzip, then identity, honouring `q=0`.
fn negotiate(accept: Option<&HeaderValue>) -> Encoding {
    let Some(accept) = accept.and_then(|v| v.to_str().ok()) else {
        return Encoding::Identity;
    };
    let mut gzip = false;
    let mut br = false;
    for item in accept.split(',') {
        let mut parts = item.split(';').map(str::trim);
        let coding = parts.next().unwrap_or_default().to_ascii_lowercase();
        let q = parts
            .find_map(|p| p.strip_prefix("q=").or_else(|| p.strip_prefix("Q=")))
            .and_then(|q| q.parse::<f32>().ok())
            .unwrap_or(1.0);
        let ok = q > 0.0;
        match coding.as_str() {
            "br" => br = ok,
            "gzip" | "x-gzip" => gzip = ok,
            "*" => {
                br |= ok;
                gzip |= ok;
            }
            _ => {}
        }
    }
    if br {
        Encoding::Brotli
    } else if gzip {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

pub fn plain(status: StatusCode, text: &'static str) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_prefers_br_and_honours_q_zero() {
        let h = |s: &'static str| HeaderValue::from_static(s);
        assert_eq!(negotiate(None), Encoding::Identity);
        assert_eq!(negotiate(Some(&h("gzip, deflate"))), Encoding::Gzip);
        assert_eq!(negotiate(Some(&h("gzip, br"))), Encoding::Brotli);
        assert_eq!(negotiate(Some(&h("br;q=0, gzip;q=0.5"))), Encoding::Gzip);
        assert_eq!(negotiate(Some(&h("gzip;q=0"))), Encoding::Identity);
        assert_eq!(negotiate(Some(&h("*"))), Encoding::Brotli);
    }

    #[test]
    fn if_none_match_is_a_weak_comparison_over_encodings() {
        assert!(etag_matches("\"abc\"", "abc"));
        assert!(etag_matches("W/\"abc-gz\"", "abc"));
        assert!(etag_matches("\"x\", \"abc-br\"", "abc"));
        assert!(etag_matches("*", "abc"));
        assert!(!etag_matches("\"abd\"", "abc"));
        // Only what RFC 9110 spells an entity tag: one `W/`, one pair of
        // quotes, and one of our encoding suffixes.
        for malformed in [
            "W/W/\"abc\"",
            "\"\"abc\"\"",
            "\"abc-gz-br\"",
            "abc",
            "\"abc",
        ] {
            assert!(!etag_matches(malformed, "abc"), "{malformed}");
        }
    }
}
