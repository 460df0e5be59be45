//! CORS (Fetch standard): the feeds, the OPML, the pages and the media are
//! public and read-only, so any origin may read them from a browser (web
//! feed readers, podcast players) with `Access-Control-Allow-Origin: *`,
//! and see the validators and the WebSub `Link`s. `OPTIONS` (a preflight
//! or a plain one) says which methods and request headers are accepted.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Request, Response, StatusCode};

use super::respond::Resp;

/// The methods every route accepts (`Allow`, and the preflight's
/// `Access-Control-Allow-Methods`).
pub(super) const METHODS: &str = "GET, HEAD, OPTIONS";

/// The request headers a cross-origin request may send beyond the
/// safelisted ones: those of a conditional GET, and `Cache-Control`.
const HEADERS: &str = "If-None-Match, If-Modified-Since, Cache-Control";

/// How long a browser may keep a preflight answer, in seconds (a day).
const MAX_AGE: &str = "86400";

/// Lets any origin read the answer, and its `ETag`, `Last-Modified` and
/// `Link` (WebSub hubs) headers.
pub(super) fn allow(h: &mut HeaderMap) {
    h.insert(
        header::ACCESS_CONTROL_ALLOW_ORIGIN,
        HeaderValue::from_static("*"),
    );
    h.insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("ETag, Last-Modified, Link"),
    );
}

/// The answer to `OPTIONS`, on any path: 204 with the methods allowed and,
/// for a CORS preflight, the request headers accepted.
pub(super) fn preflight<B>(req: &Request<B>) -> Resp {
    let mut r = Response::new(Full::new(Bytes::new()));
    *r.status_mut() = StatusCode::NO_CONTENT;
    let h = r.headers_mut();
    h.insert(header::ALLOW, HeaderValue::from_static(METHODS));
    h.insert(
        header::ACCESS_CONTROL_ALLOW_METHODS,
        HeaderValue::from_static(METHODS),
    );
    h.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        allowed_headers(req.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS)),
    );
    h.insert(
        header::ACCESS_CONTROL_MAX_AGE,
        HeaderValue::from_static(MAX_AGE),
    );
    allow(h);
    r
}

/// `Access-Control-Allow-Headers`: what the preflight asked for when every
/// header of it is accepted (echoed as sent), else the accepted list (the
/// browser then refuses the request it wanted to make).
fn allowed_headers(requested: Option<&HeaderValue>) -> HeaderValue {
    let all = HeaderValue::from_static(HEADERS);
    let Some(value) = requested else {
        return all;
    };
    let accepted = value.to_str().is_ok_and(|asked| {
        let mut names = asked.split(',').map(str::trim).peekable();
        names.peek().is_some()
            && names.all(|name| HEADERS.split(", ").any(|ok| ok.eq_ignore_ascii_case(name)))
    });
    match accepted {
        true => value.clone(),
        false => all,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_preflight_gets_the_headers_it_asked_for_only_when_all_are_accepted() {
        let h = |s: &'static str| HeaderValue::from_static(s);
        let all = HEADERS;
        assert_eq!(allowed_headers(None), all);
        assert_eq!(
            allowed_headers(Some(&h("if-none-match"))),
            h("if-none-match")
        );
        assert_eq!(
            allowed_headers(Some(&h("if-modified-since,cache-control"))),
            h("if-modified-since,cache-control")
        );
        assert_eq!(allowed_headers(Some(&h("if-none-match, x-token"))), all);
        assert_eq!(allowed_headers(Some(&h(""))), all);
        assert_eq!(allowed_headers(Some(&h("if-none-match,,"))), all);
    }
}
