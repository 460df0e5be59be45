//! One HTTP request against a published site (`http::handle`, no socket).
//!
//! The input is a little request text, one field a line:
//!
//! ```text
//! GET                       <- method (empty: GET)
//! /feeds/all.rss?x=1        <- request target (path and query)
//! if-none-match: "$E-gz"    <- any of if-none-match, if-modified-since,
//! accept-encoding: br       <- accept-encoding; a line more adds a value
//! ready: 0                  <- /readyz answers 503 (not ready yet)
//! ```
//!
//! In header values, `$E` is the requested resource's ETag stem (the hash)
//! and `$L` its `Last-Modified`, so the fuzzer can name the real
//! validators. A method, target or value the `http` crate refuses is not a
//! request hyper could hand over: skipped.
//!
//! Checked: no panic; the status is one the route can give (200, 204 for
//! OPTIONS, 304, 404, 405, 503); 304 only for a published resource and only with a
//! conditional header (and always for its exact ETag, or its exact
//! `Last-Modified` without If-None-Match); a 200 for a published path is
//! its identity body, or gzip/br that decodes to exactly it; a
//! Content-Encoding only when asked for; `Content-Length` is the body's
//! length; the ETag names the encoding sent, and differs per encoding;
//! HEAD answers what GET does.
#![no_main]
use std::collections::HashMap;
use std::io::Read;
use std::sync::{Arc, LazyLock};

use bytes::Bytes;
use http::header::{self, HeaderName, HeaderValue};
use http::{Method, Request, Response, StatusCode};
use http_body_util::Full;
use libfuzzer_sys::fuzz_target;
use wirefeed::catalog::{Catalog, StateStore};
use wirefeed::render::{self, ItemCache};
use wirefeed::http::handle;
use wirefeed::model::Change;
use wirefeed::site::{Encoding, Resource, Site};

#[path = "common.rs"]
mod common;

/// Articles the site publishes (tests/fixtures).
const ARTICLES: [(&str, &[u8]); 4] = [
    (
        "hostile_text.txt",
        include_bytes!("../../tests/fixtures/hostile_text.txt"),
    ),
    (
        "world/hostile.json",
        include_bytes!("../../tests/fixtures/hostile.json"),
    ),
    (
        "business/hostile_front.md",
        include_bytes!("../../tests/fixtures/hostile_front.md"),
    ),
    (
        "dst_gap.md",
        include_bytes!("../../tests/fixtures/dst_gap.md"),
    ),
];

/// A published resource as the publisher made it.
struct Published {
    identity: Bytes,
    /// ETags of identity, gzip, brotli.
    etags: [HeaderValue; 3],
    hash: String,
    last_modified: Option<HeaderValue>,
}

struct Fixture {
    /// The site, ready; and the same site still starting.
    ready: Arc<Site>,
    starting: Arc<Site>,
    /// Runs `handle` (an article page is read on a blocking thread).
    runtime: tokio::runtime::Runtime,
    published: HashMap<String, Published>,
    /// `/articles/{id}` of every article.
    pages: Vec<String>,
}

/// The site, published once per process as the daemon publishes it
/// (`daemon::publisher`), compressed bodies included.
static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let site = common::site(0);
    let config = site.config.clone();
    let ready = Arc::new(Site::new(config.clone()));
    let starting = Arc::new(Site::new(config.clone()));
    let mut catalog = Catalog::new(config.clone(), StateStore::in_memory());
    let changes = ARTICLES
        .iter()
        .map(|(key, bytes)| {
            let article = wirefeed::parse::parse_bytes(key, bytes, common::mtime(), &site.ctx)
                .unwrap_or_else(|e| panic!("{key}: {e}"))
                .unwrap_or_else(|| panic!("{key}: a draft"));
            Change::Parsed(key.to_string(), Ok(Some(Box::new(article))))
        })
        .collect();
    catalog.apply(changes);
    let now = chrono::Utc::now();
    catalog.cache_texts(now);
    let mut resources = Vec::new();
    for index in 0..catalog.feeds().len() {
        let rendered = render::feed_files(&catalog, index, now, &ItemCache::default());
        for (path, format, body) in rendered.files {
            let body = body.unwrap_or_else(|r| panic!("{path}: {r:?}"));
            let res = Resource::new(format.content_type(), body, rendered.updated);
            resources.push((format!("/{path}"), Arc::new(res)));
        }
        // The feed's page, as the publisher keys it.
        let (page, html) = rendered.page;
        let page = match page.as_str() {
            "index.html" => "/".to_string(),
            other => format!("/{other}"),
        };
        let res = Resource::new("text/html; charset=utf-8", html, rendered.updated);
        resources.push((page, Arc::new(res)));
    }
    resources.push((
        "/feeds.opml".into(),
        Arc::new(Resource::new(
            "text/x-opml; charset=utf-8",
            render::opml::render(&config, catalog.feeds()),
            None,
        )),
    ));
    for site in [&ready, &starting] {
        site.publish(resources.clone(), &|_| true, now);
        site.compress_now();
    }
    let published = ready
        .paths()
        .into_iter()
        .filter_map(|path| ready.resource(&path).map(|res| (path, res)))
        .map(|(path, res)| {
            assert!(res.is_compressed(), "{path} not compressed");
            let p = Published {
                identity: res.identity().clone(),
                etags: [Encoding::Identity, Encoding::Gzip, Encoding::Brotli]
                    .map(|e| res.etag(e).clone()),
                hash: res.hash().to_string(),
                last_modified: res.last_modified().map(|(h, _)| h.clone()),
            };
            (path.clone(), p)
        })
        .collect();
    let pages = catalog
        .entries()
        .map(|e| format!("/articles/{}.html", wirefeed::model::encode_id(&e.id())))
        .collect();
    for site in [&ready, &starting] {
        site.set_pages(catalog.ids(), Vec::new());
    }
    ready.mark_ready();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    Fixture {
        ready,
        starting,
        runtime,
        published,
        pages,
    }
});

/// `$E` and `$L` in a header value, replaced.
fn expand(value: &[u8], res: Option<&Published>) -> Vec<u8> {
    let mut out = Vec::with_capacity(value.len() + 40);
    let mut i = 0;
    while i < value.len() {
        match (value[i], value.get(i + 1), res) {
            (b'$', Some(b'E'), Some(r)) => {
                out.extend_from_slice(r.hash.as_bytes());
                i += 2;
            }
            (b'$', Some(b'L'), Some(r)) => {
                if let Some(lm) = &r.last_modified {
                    out.extend_from_slice(lm.as_bytes());
                }
                i += 2;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    out
}

fn body_of(resp: Response<Full<Bytes>>) -> (http::response::Parts, Bytes) {
    use http_body::Body;
    let (parts, mut body) = resp.into_parts();
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    let mut out = Vec::new();
    loop {
        match std::pin::Pin::new(&mut body).poll_frame(&mut cx) {
            std::task::Poll::Ready(Some(Ok(frame))) => {
                if let Ok(data) = frame.into_data() {
                    out.extend_from_slice(&data);
                }
            }
            std::task::Poll::Ready(None) => break,
            std::task::Poll::Ready(Some(Err(e))) => match e {},
            std::task::Poll::Pending => panic!("a Full body is never pending"),
        }
    }
    (parts, Bytes::from(out))
}

fn decoded(encoding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        "gzip" => flate2::read::GzDecoder::new(body)
            .read_to_end(&mut out)
            .map(|_| ())
            .unwrap_or_else(|e| panic!("gzip body does not decode: {e}")),
        "br" => brotli::BrotliDecompress(&mut &body[..], &mut out)
            .unwrap_or_else(|e| panic!("br body does not decode: {e}")),
        other => panic!("Content-Encoding {other:?}"),
    }
    out
}

fuzz_target!(|data: &[u8]| {
    let fixture = &*FIXTURE;
    let mut lines = data.split(|&b| b == b'\n');
    let method = match lines.next().unwrap_or_default() {
        b"" => Method::GET,
        m => match Method::from_bytes(m) {
            Ok(m) => m,
            Err(_) => return,
        },
    };
    let Ok(uri) = http::Uri::try_from(lines.next().unwrap_or(b"/")) else {
        return;
    };
    let path = uri.path().to_string();
    let key = wirefeed::http::resource_key(&path);
    let res = fixture.published.get(&*key);
    let mut headers = Vec::new();
    let mut ready = true;
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], &line[colon + 1..]);
        let value = value.trim_ascii_start();
        let name = match name.trim_ascii().to_ascii_lowercase().as_slice() {
            b"if-none-match" => header::IF_NONE_MATCH,
            b"if-modified-since" => header::IF_MODIFIED_SINCE,
            b"accept-encoding" => header::ACCEPT_ENCODING,
            b"ready" => {
                ready = value != b"0";
                continue;
            }
            _ => continue,
        };
        let Ok(value) = HeaderValue::from_bytes(&expand(value, res)) else {
            return;
        };
        headers.push((name, value));
    }
    let request = |method: Method, conditional: bool| {
        let mut req = Request::builder().method(method).uri(uri.clone());
        for (name, value) in &headers {
            let is_conditional = name == header::IF_NONE_MATCH || name == header::IF_MODIFIED_SINCE;
            if conditional || !is_conditional {
                req = req.header(name, value);
            }
        }
        req.body(()).expect("request from valid parts")
    };
    let site = match ready {
        true => &fixture.ready,
        false => &fixture.starting,
    };
    let answer = |req| fixture.runtime.block_on(handle(site, req));
    let (parts, body) = body_of(answer(request(method.clone(), true)));
    let sent = |name: &HeaderName| headers.iter().any(|(n, _)| n == name);
    let first = |name: &HeaderName| headers.iter().find(|(n, _)| n == name).map(|(_, v)| v);
    let got = |name: &HeaderName| parts.headers.get(name);
    let status = parts.status;
    let context = format!("{method} {uri} {headers:?} -> {status} {:?}", parts.headers);

    // The route decides which statuses are possible at all.
    let is_get = method == Method::GET || method == Method::HEAD;
    let expected: &[StatusCode] = if method == Method::OPTIONS {
        &[StatusCode::NO_CONTENT]
    } else if !is_get {
        &[StatusCode::METHOD_NOT_ALLOWED]
    } else if path == "/healthz" || path == "/metrics" {
        &[StatusCode::OK]
    } else if path == "/readyz" {
        if ready {
            &[StatusCode::OK]
        } else {
            &[StatusCode::SERVICE_UNAVAILABLE]
        }
    } else if res.is_some() {
        &[StatusCode::OK, StatusCode::NOT_MODIFIED]
    } else if path.starts_with("/articles/") && path != "/articles/" {
        &[
            StatusCode::OK,
            StatusCode::NOT_MODIFIED,
            StatusCode::NOT_FOUND,
        ]
    } else {
        &[StatusCode::NOT_FOUND]
    };
    assert!(expected.contains(&status), "unexpected status: {context}");
    if matches!(
        status,
        StatusCode::METHOD_NOT_ALLOWED | StatusCode::NO_CONTENT
    ) {
        assert_eq!(
            got(&header::ALLOW).map(|v| v.as_bytes()),
            Some(&b"GET, HEAD, OPTIONS"[..]),
            "{context}"
        );
    }
    if let Some(len) = got(&header::CONTENT_LENGTH) {
        let len: usize = len
            .to_str()
            .ok()
            .and_then(|l| l.parse().ok())
            .unwrap_or_else(|| panic!("Content-Length not a number: {context}"));
        assert_eq!(len, body.len(), "Content-Length: {context}");
    }
    let conditional = sent(&header::IF_NONE_MATCH) || sent(&header::IF_MODIFIED_SINCE);
    if status == StatusCode::NOT_MODIFIED {
        assert!(conditional, "304 without a conditional header: {context}");
        assert!(body.is_empty(), "a 304 with a body: {context}");
        assert!(got(&header::CONTENT_ENCODING).is_none(), "{context}");
    }
    if !sent(&header::ACCEPT_ENCODING) {
        assert!(
            got(&header::CONTENT_ENCODING).is_none(),
            "Content-Encoding not asked for: {context}"
        );
    }
    if let (Some(r), true) = (res, is_get) {
        // An exact validator of this resource must give a 304.
        // If-None-Match first; If-Modified-Since only without it (RFC 9110
        // 13.2.2), and only against a Last-Modified.
        if let Some(inm) = first(&header::IF_NONE_MATCH) {
            if r.etags.iter().any(|e| e == inm) {
                assert_eq!(status, StatusCode::NOT_MODIFIED, "own ETag: {context}");
            }
        } else if let Some(ims) = first(&header::IF_MODIFIED_SINCE) {
            match &r.last_modified {
                Some(lm) if ims == lm => {
                    assert_eq!(
                        status,
                        StatusCode::NOT_MODIFIED,
                        "own Last-Modified: {context}"
                    )
                }
                Some(_) => {}
                None => assert_ne!(
                    status,
                    StatusCode::NOT_MODIFIED,
                    "304 for a resource without Last-Modified: {context}"
                ),
            }
        }
        assert_eq!(
            got(&header::VARY).map(|v| v.as_bytes()),
            Some(&b"Accept-Encoding"[..]),
            "{context}"
        );
        assert_eq!(
            got(&header::LAST_MODIFIED),
            r.last_modified.as_ref(),
            "{context}"
        );
        let etag = got(&header::ETAG).unwrap_or_else(|| panic!("no ETag: {context}"));
        // A 304 carries the ETag the 200 would have (RFC 9110 15.4.5).
        let unconditional = (status == StatusCode::NOT_MODIFIED)
            .then(|| body_of(answer(request(Method::GET, false))).0);
        if let Some(plain) = &unconditional {
            assert_eq!(
                plain.status,
                StatusCode::OK,
                "without its conditions: {context}"
            );
            assert_eq!(
                plain.headers.get(header::ETAG),
                Some(etag),
                "a 304's ETag is not the one its 200 carries: {context}"
            );
        }
        let encoding = unconditional
            .as_ref()
            .map_or(&parts.headers, |p| &p.headers)
            .get(header::CONTENT_ENCODING)
            .map(|v| v.to_str().unwrap_or("?"));
        let index = match encoding {
            None => 0,
            Some("gzip") => 1,
            Some("br") => 2,
            Some(other) => panic!("Content-Encoding {other:?}: {context}"),
        };
        assert_eq!(
            etag, &r.etags[index],
            "ETag of the encoding sent: {context}"
        );
        assert!(
            r.etags
                .iter()
                .enumerate()
                .all(|(i, e)| (i == index) == (e == etag)),
            "ETags not distinct per encoding: {context}"
        );
        if status == StatusCode::OK {
            assert!(
                got(&header::CONTENT_LENGTH).is_some(),
                "no Content-Length: {context}"
            );
            match encoding {
                None => assert!(body == r.identity, "not the identity body: {context}"),
                Some(e) => assert!(
                    decoded(e, &body) == r.identity,
                    "{e} body does not decode to the identity body: {context}"
                ),
            }
        }
    }
    if status == StatusCode::OK && fixture.pages.iter().any(|p| *p == path) {
        assert!(!body.is_empty(), "empty article page: {context}");
    }

    // HEAD: the GET answer (hyper drops the body).
    if method == Method::HEAD {
        let (get, get_body) = body_of(answer(request(Method::GET, true)));
        assert_eq!(get.status, status, "HEAD and GET: {context}");
        if path != "/metrics" {
            assert_eq!(
                get.headers, parts.headers,
                "HEAD and GET headers: {context}"
            );
            assert!(get_body == body, "HEAD and GET bodies: {context}");
        }
    }
});
