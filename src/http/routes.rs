//! Which answer a request gets, and the counting of it.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};

use super::respond::{plain, respond, Resp};
use crate::metrics::RequestLabels;
use crate::site::{Resource, Site};

/// Answers one request: from memory, or for an article page from its file
/// (read on a blocking thread, so a slow disk never stalls the runtime).
pub async fn handle<B>(site: &Arc<Site>, req: Request<B>) -> Resp {
    let (route, resp) = route(site, &req).await;
    let metrics = site.metrics();
    metrics
        .requests
        .get_or_create(&RequestLabels {
            route: route.to_string(),
            status: resp.status().as_u16(),
        })
        .inc();
    if resp.status() == StatusCode::NOT_MODIFIED {
        metrics.not_modified.inc();
    }
    resp
}

/// The response, and the route label to count it under.
async fn route<'a, B>(site: &Arc<Site>, req: &'a Request<B>) -> (&'a str, Resp) {
    let path = req.uri().path();
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
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
    let key = if path == "/index.html" { "/" } else { path };
    let archive = path.starts_with("/feeds/archive/");
    if let Some(res) = site.resource(key) {
        let label = match key.starts_with("/feeds/") || key == "/" || key == "/feeds.opml" {
            _ if archive => "/feeds/archive",
            true => key,
            false => "other",
        };
        return (label, respond(site, req, &res));
    }
    if archive {
        // A stored page, read from disk.
        let path = path.to_string();
        let page = read(site, move |s| s.archive_page(&path)).await;
        return (
            "/feeds/archive",
            found(site, req, page, "no such archive page\n"),
        );
    }
    if let Some(id) = path.strip_prefix("/articles/") {
        let id = percent_encoding::percent_decode_str(id).decode_utf8_lossy();
        let id = id.trim_end_matches(".html").to_string();
        let now = chrono::Utc::now();
        // The article's own file (a catalog path, never the URL) is read.
        let page = read(site, move |s| s.article_page(&id, now)).await;
        return ("/articles", found(site, req, page, "no such article\n"));
    }
    ("other", plain(StatusCode::NOT_FOUND, "not found\n"))
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
