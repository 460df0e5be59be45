//! Which answer a request gets, the headers every public answer carries
//! (CORS, `Surrogate-Key`), and the counting of it.

use std::borrow::Cow;
use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{Either, Full};
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::respond::{plain, respond, Resp};
use super::{cors, media, surrogate};
use crate::metrics::RequestLabels;
use crate::site::{Resource, Site};

/// An answer as sent on a connection: from memory ([`Resp`]), or a media
/// file streamed from disk.
pub type Sent = Response<Either<Full<Bytes>, hyper_staticfile::Body>>;

/// Answers one request as a connection sends it: a media file streamed
/// from `media.dir`, or what [`handle`] answers.
pub async fn answer<B>(site: &Arc<Site>, req: Request<B>) -> Sent {
    if !media::is_media(&req) {
        return handle(site, req).await.map(Either::Left);
    }
    let mut resp = media::serve(site, &req).await;
    public(req.uri().path(), resp.headers_mut());
    count(site, "/media", resp.status());
    resp
}

/// Answers one request from memory, or for a page from its file (read on
/// a blocking thread, so a slow disk never stalls the runtime). Media
/// files are streamed by [`answer`], not here.
pub async fn handle<B>(site: &Arc<Site>, req: Request<B>) -> Resp {
    let (route, mut resp) = route(site, &req).await;
    if !matches!(route, "/healthz" | "/readyz" | "/metrics") {
        public(req.uri().path(), resp.headers_mut());
    }
    count(site, route, resp.status());
    resp
}

/// The headers of an answer anyone may read and a CDN may cache: CORS,
/// and the `Surrogate-Key` of its path.
fn public(path: &str, h: &mut HeaderMap) {
    cors::allow(h);
    if let Some(key) = surrogate::key(path).and_then(|k| HeaderValue::from_str(&k).ok()) {
        h.insert("surrogate-key", key);
    }
}

/// Counts an answer under its route label and status.
fn count(site: &Site, route: &str, status: StatusCode) {
    let metrics = site.metrics();
    metrics
        .requests
        .get_or_create(&RequestLabels {
            route: route.to_string(),
            status: status.as_u16(),
        })
        .inc();
    if status == StatusCode::NOT_MODIFIED {
        metrics.not_modified.inc();
    }
}

/// The response, and the route label to count it under.
async fn route<'a, B>(site: &Arc<Site>, req: &'a Request<B>) -> (&'a str, Resp) {
    let path = req.uri().path();
    if req.method() == Method::OPTIONS {
        return ("other", cors::preflight(req));
    }
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static(cors::METHODS));
        return ("other", r);
    }
    // HEAD gets the GET response: hyper sends its headers (Content-Length
    // included) and drops the body.
    match path {
        "/healthz" => return ("/healthz", plain(StatusCode::OK, "ok\n")),
        "/readyz" => {
            let r = match site.is_ready() {
                true => plain(StatusCode::OK, "ready\n"),
                false => plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "starting: the articles directory is not published yet\n",
                ),
            };
            return ("/readyz", r);
        }
        "/metrics" => {
            let mut r = Response::new(Full::new(Bytes::from(site.metrics().encode())));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            return ("/metrics", r);
        }
        _ => {}
    }
    let key = resource_key(path);
    let feed_archive = path.starts_with("/feeds/archive/");
    let page_archive = is_category_archive(path);
    if let Some(res) = site.resource(&key) {
        let label = if feed_archive {
            "/feeds/archive"
        } else if page_archive {
            "/categories/archive"
        } else if key.starts_with("/categories/") {
            "/categories"
        } else if key == "/" {
            "/"
        } else if path.starts_with("/feeds/") || path == "/feeds.opml" {
            path
        } else {
            "other"
        };
        return (label, respond(site, req, &res));
    }
    if feed_archive || page_archive {
        // A stored page: in memory if read lately, else from disk.
        let label = match feed_archive {
            true => "/feeds/archive",
            false => "/categories/archive",
        };
        let page = match site.archive_page_in_memory(path) {
            Some(page) => Some(page),
            None => {
                let path = path.to_string();
                read(site, move |s| s.archive_page(&path)).await
            }
        };
        return (label, found(site, req, page, "no such archive page\n"));
    }
    if let Some(id) = path.strip_prefix("/articles/") {
        let id = percent_encoding::percent_decode_str(id).decode_utf8_lossy();
        let id = id.strip_suffix(".html").unwrap_or(&id).to_string();
        let now = chrono::Utc::now();
        // The article's own file (a catalog path, never the URL) is read.
        let page = read(site, move |s| s.article_page(&id, now)).await;
        return ("/articles", found(site, req, page, "no such article\n"));
    }
    ("other", plain(StatusCode::NOT_FOUND, "not found\n"))
}

/// The published resource a path names: `/index.html` is `/`, and a
/// category's page `/categories/{slug}.html` also answers at
/// `/categories/{slug}/` and `/categories/{slug}` (the same bytes, the
/// same ETag). Any other path names itself.
pub fn resource_key(path: &str) -> Cow<'_, str> {
    if path == "/index.html" {
        return Cow::Borrowed("/");
    }
    if let Some(rest) = path.strip_prefix("/categories/") {
        let slug = rest.strip_suffix('/').unwrap_or(rest);
        if !slug.is_empty() && !slug.contains(['/', '.']) {
            return Cow::Owned(format!("/categories/{slug}.html"));
        }
    }
    Cow::Borrowed(path)
}

/// `/categories/{slug}/{n}.html`: an older page of a category, stored on
/// disk like the feeds' archive pages.
fn is_category_archive(path: &str) -> bool {
    path.strip_prefix("/categories/")
        .and_then(|rest| rest.split_once('/'))
        .is_some_and(|(slug, page)| {
            !slug.is_empty() && page.strip_suffix(".html").is_some_and(|n| !n.is_empty())
        })
}

/// A page read from disk on a blocking thread, so a slow disk never stalls
/// the runtime.
async fn read(
    site: &Arc<Site>,
    read: impl FnOnce(&Site) -> Option<Resource> + Send + 'static,
) -> Option<Resource> {
    let site = site.clone();
    tokio::task::spawn_blocking(move || read(&site))
        .await
        .ok()
        .flatten()
}

/// `page` with conditional GET, or a 404 saying `missing`.
fn found<B>(site: &Site, req: &Request<B>, page: Option<Resource>, missing: &'static str) -> Resp {
    match page {
        Some(res) => respond(site, req, &res),
        None => plain(StatusCode::NOT_FOUND, missing),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_category_page_answers_at_its_aliases() {
        for path in [
            "/categories/world.html",
            "/categories/world/",
            "/categories/world",
        ] {
            assert_eq!(resource_key(path), "/categories/world.html", "{path}");
        }
        assert_eq!(resource_key("/index.html"), "/");
        for path in [
            "/categories/",
            "/categories/world/3.html",
            "/feeds/world.rss",
        ] {
            assert_eq!(resource_key(path), path, "{path}");
        }
        assert!(is_category_archive("/categories/world/3.html"));
        for path in [
            "/categories/world/",
            "/categories/world.html",
            "/categories//3.html",
            "/categories/world/.html",
        ] {
            assert!(!is_category_archive(path), "{path}");
        }
    }
}
