//! `/media/{path}`: the files of `media.dir` (images, podcasts, videos the
//! articles attach), streamed from disk by `hyper-staticfile`: byte ranges
//! (a podcast player seeks), `ETag`/`Last-Modified` and their conditional
//! GET, content types from the file name.
//!
//! Only paths inside `media.dir` are served: the path is percent-decoded
//! and `..` cannot climb out (hyper-staticfile's resolver), and any path
//! segment starting with `.` (`..`, `.git`, `.DS_Store`) is refused before
//! that. A symlink the operator put in `media.dir` is followed (as `build`
//! and `publish` follow it). Directories are 404s: no listing, no index
//! page, no redirect.

use http_body_util::Either;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Request, Response, StatusCode};
use hyper_staticfile::util::FileResponseBuilder;
use hyper_staticfile::{AcceptEncoding, Body, ResolveResult, Resolver};

use super::respond::plain;
use super::routes::Sent;
use crate::site::Site;

/// Is this a request for a media file (a GET or HEAD under `/media/`)?
pub(super) fn is_media<B>(req: &Request<B>) -> bool {
    let get = req.method() == hyper::Method::GET || req.method() == hyper::Method::HEAD;
    get && req.uri().path().starts_with("/media/")
}

/// The answer to a GET or HEAD of `/media/{path}`: the file, a range of it,
/// a 304, or a 404 (no `media.dir`, no such file, a directory, a refused
/// path). Every answer but the 404 carries the site's `Cache-Control`.
pub(super) async fn serve<B>(site: &Site, req: &Request<B>) -> Sent {
    let not_found = || plain(StatusCode::NOT_FOUND, "no such media file\n").map(Either::Left);
    let Some(dir) = site.config().media.dir.clone() else {
        return not_found();
    };
    let path = req.uri().path();
    let rel = path.strip_prefix("/media").unwrap_or(path);
    if refused(rel) {
        return not_found();
    }
    let file = match Resolver::new(dir)
        .resolve_path(rel, AcceptEncoding::none())
        .await
    {
        Ok(ResolveResult::Found(file)) => file,
        Ok(_) => return not_found(),
        Err(e) => {
            // ENOTDIR, ENAMETOOLONG and such: what a client asked for is
            // not a file there.
            tracing::debug!(path = rel, error = %e, "media file not served");
            return not_found();
        }
    };
    let mut builder = FileResponseBuilder::new();
    // HEAD is built as GET: the same status and headers (a range, a
    // Content-Type); hyper sends no body for HEAD.
    builder.request_headers(req.headers());
    // Conditional GET is decided below: If-None-Match first (which
    // hyper-staticfile ignores), and a 304 that keeps the validators.
    builder.if_modified_since(None);
    let mut r = match builder.build(file) {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(path = rel, error = %e, "cannot answer with a media file");
            return plain(StatusCode::INTERNAL_SERVER_ERROR, "cannot read the file\n")
                .map(Either::Left);
        }
    };
    if r.status().is_success() && unchanged(req.headers(), r.headers()) {
        r = not_modified(r);
    }
    let ok = r.status() == StatusCode::OK;
    let h = r.headers_mut();
    if ok && !h.contains_key(header::CONTENT_TYPE) {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/octet-stream"),
        );
    }
    h.insert(header::CACHE_CONTROL, site.cache_control());
    r.map(Either::Right)
}

/// A path segment starting with `.`, raw or percent-encoded: `..` and
/// hidden files are never served.
fn refused(rel: &str) -> bool {
    let decoded = percent_encoding::percent_decode_str(rel).decode_utf8_lossy();
    decoded
        .split(['/', '\\'])
        .any(|segment| segment.starts_with('.'))
}

/// Does the client have these bytes already (RFC 9110 13.2.2)? Its
/// If-None-Match names the answer's `ETag`, or without one, its
/// If-Modified-Since is not older than the answer's `Last-Modified`.
fn unchanged(req: &HeaderMap, answer: &HeaderMap) -> bool {
    if let Some(inm) = req.get(header::IF_NONE_MATCH) {
        return etag_matches(inm, answer.get(header::ETAG));
    }
    let date = |h: &HeaderMap, name| {
        h.get(name)
            .and_then(|v: &HeaderValue| v.to_str().ok())
            .and_then(|v| httpdate::parse_http_date(v).ok())
    };
    match (
        date(req, header::IF_MODIFIED_SINCE),
        date(answer, header::LAST_MODIFIED),
    ) {
        (Some(since), Some(modified)) => modified <= since,
        _ => false,
    }
}

/// Does If-None-Match name this `ETag` (weak comparison, RFC 9110
/// 13.1.2; `*` matches any)?
fn etag_matches(if_none_match: &HeaderValue, etag: Option<&HeaderValue>) -> bool {
    let Ok(inm) = if_none_match.to_str() else {
        return false;
    };
    let opaque = |tag: &str| tag.trim().trim_start_matches("W/").to_string();
    let ours = etag.and_then(|e| e.to_str().ok()).map(opaque);
    inm.split(',')
        .any(|tag| tag.trim() == "*" || ours.as_deref() == Some(opaque(tag).as_str()))
}

/// `r` as a 304: its validators and headers kept, its body and what
/// describes it dropped.
fn not_modified(r: Response<Body>) -> Response<Body> {
    let (mut parts, _) = r.into_parts();
    parts.status = StatusCode::NOT_MODIFIED;
    for name in [
        header::CONTENT_LENGTH,
        header::CONTENT_RANGE,
        header::CONTENT_TYPE,
    ] {
        parts.headers.remove(name);
    }
    Response::from_parts(parts, Body::Empty)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_segments_are_refused_raw_and_encoded() {
        for rel in [
            "/../config.toml",
            "/%2e%2e/config.toml",
            "/%2E%2E/%2e%2e/etc/passwd",
            "/a/..%2f..%2fconfig.toml",
            "/.git/config",
            "/a\\..\\b",
        ] {
            assert!(refused(rel), "{rel}");
        }
        assert!(!refused("/podcasts/ep1.mp3"));
        assert!(!refused("/a.b/c..d.png"));
    }

    #[test]
    fn if_none_match_is_a_weak_comparison() {
        let h = |s: &'static str| HeaderValue::from_static(s);
        let etag = h("W/\"1f-65a.0\"");
        assert!(etag_matches(&h("W/\"1f-65a.0\""), Some(&etag)));
        assert!(etag_matches(&h("\"x\", \"1f-65a.0\""), Some(&etag)));
        assert!(etag_matches(&h("*"), Some(&etag)));
        assert!(!etag_matches(&h("\"1f-65a.1\""), Some(&etag)));
        assert!(!etag_matches(&h("\"1f-65a.0\""), None));
    }
}
