//! The HTTP server (hyper 1). It answers from the published
//! [`Site`](crate::snapshot::Site) and the article index; it never touches
//! the filesystem, so no request path can reach a file
//! (`/articles/../../etc/passwd` is just an unknown id).
//!
//! Routes: `/` (index), `/feeds/{slug}.rss|.atom|.json`, `/feeds.opml`,
//! `/articles/{id}`, `/healthz`, `/readyz`, `/metrics`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use arc_swap::ArcSwap;
use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::catalog::Entry;
use crate::config::Config;
use crate::metrics::{Metrics, RequestLabels};
use crate::render;
use crate::sched::{self, Policy};
use crate::snapshot::{Encoding, Published, Resource};
use crate::zerocopy::SendfileStream;

mod placement;
use placement::LiveSlot;

/// How long in-flight requests get to finish after SIGTERM.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// What the server reads; the publisher writes.
pub struct App {
    pub published: Published,
    /// Article pages by id (rendered on request; they are not feeds).
    pub pages: RwLock<HashMap<Arc<str>, Arc<Entry>>>,
    pub config: ArcSwap<Config>,
    /// For reading article bodies back (built once per config).
    pub parse_ctx: ArcSwap<crate::parse::ParseContext>,
    /// `Cache-Control` of every feed answer (from `server.cache_max_age`).
    pub cache_control: ArcSwap<HeaderValue>,
    /// Set once the first full scan is published.
    pub ready: AtomicBool,
    pub metrics: Metrics,
}

impl App {
    pub fn new(config: Arc<Config>) -> Self {
        App {
            published: Published::default(),
            pages: RwLock::new(HashMap::new()),
            parse_ctx: ArcSwap::from_pointee(crate::parse::ParseContext::from_config(&config)),
            cache_control: ArcSwap::from_pointee(cache_control(&config)),
            config: ArcSwap::new(config),
            ready: AtomicBool::new(false),
            metrics: Metrics::new(),
        }
    }
}

impl App {
    /// Swaps in a reloaded config (the listen address and the connection
    /// limit stay; the other `[server]` limits hold for new connections).
    pub fn set_config(&self, config: Arc<Config>, ctx: crate::parse::ParseContext) {
        self.cache_control.store(Arc::new(cache_control(&config)));
        self.parse_ctx.store(Arc::new(ctx));
        self.config.store(config);
    }
}

fn cache_control(config: &Config) -> HeaderValue {
    HeaderValue::from_str(&format!("public, max-age={}", config.server.cache_max_age))
        .unwrap_or_else(|_| HeaderValue::from_static("public, max-age=60"))
}

/// Each connection's kernel send buffer. Left to autotuning, a loopback
/// connection starts at 16 KiB, and a 72 KB compressed feed leaves in
/// several writes with a wake-up between each. Fixed (the kernel doubles it:
/// 512 KiB, under autotuning's 4 MiB ceiling; only bytes in flight use
/// memory), one write sends it. `bench/serve.sh`, paired probes: gzip
/// 62-63 k -> 65-73 k req/s; over all runs a few percent, within this VM's
/// spread (BENCHMARKS.md).
const SEND_BUFFER: usize = 256 * 1024;

/// The listening socket on `addr` (see [`serve_per_core`]). One socket,
/// without `SO_REUSEPORT`: a second daemon started on the same port fails
/// to bind instead of silently sharing the connections.
pub fn bind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    // Accepted connections inherit it.
    if let Err(e) = socket2::SockRef::from(&listener).set_send_buffer_size(SEND_BUFFER) {
        tracing::warn!(error = %e, "cannot size the send buffer; the kernel's default stays");
    }
    Ok(listener)
}

/// A connection accepted on one serving thread for another to serve.
struct Handoff {
    stream: std::net::TcpStream,
    permit: OwnedSemaphorePermit,
    slot: LiveSlot,
}

/// How long a new connection may stay silent before it is placed without
/// knowing its CPU (see `placement`). A client sends its request as soon
/// as it connects; one that does not (a browser's preconnect) still goes
/// to a thread, and hyper's header timeout runs from there.
const FIRST_BYTES_WAIT: Duration = Duration::from_millis(100);

/// Serves `listener` on `threads` threads, each with a single-threaded
/// runtime, as nginx runs a worker process per core: a connection stays on
/// one thread, with no task handed between threads mid-request (tail
/// latency). The first thread accepts and hands each connection to a
/// thread chosen by `placement`: grouped by the CPU its packets come in
/// on, and balanced. (All threads accepting from the one socket left the
/// split to whichever woke first: in one `bench/serve.sh` run, wrk's 64
/// connections came out 35/29, 64/0 and 25/39, and the busier thread set
/// the pace while the other idled.) `limit` caps connections across all of
/// them. Returns once `stop` turns true and every thread has
/// drained.
pub fn serve_per_core(
    listener: std::net::TcpListener,
    threads: usize,
    app: Arc<App>,
    limit: Arc<Semaphore>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let threads = threads.max(1);
    let places = Arc::new(placement::Threads::new(threads));
    let (senders, receivers): (Vec<_>, Vec<_>) = (0..threads)
        .map(|_| tokio::sync::mpsc::unbounded_channel::<Handoff>())
        .unzip();
    // Everything the accepting (first) thread needs besides a serving one.
    let senders: Arc<[_]> = senders.into();
    let mut acceptor = Some((listener, senders, places, limit));
    let handles = receivers
        .into_iter()
        .enumerate()
        .map(|(i, handed)| {
            let accept = acceptor.take();
            let (app, stop) = (app.clone(), stop.clone());
            std::thread::Builder::new()
                .name(format!("wirefeed-http-{i}"))
                .spawn(move || -> std::io::Result<()> {
                    // When every core is busy, a request waits for the
                    // running thread's slice to end instead of preempting
                    // it; in exchange, a busy server answers many requests
                    // per wake-up instead of trading the core with its
                    // clients once per request. `wrk` on the 2-core bench
                    // box, same binary alternating without and with, 10
                    // pairs: gzip mean 63.1k -> 66.2k req/s, 304 p99
                    // median 2.2 -> 1.8 ms.
                    sched::set(0, Policy::Batch);
                    let rt = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()?;
                    rt.block_on(async move {
                        if let Some((listener, senders, places, limit)) = accept {
                            let listener = TcpListener::from_std(listener)?;
                            tokio::spawn(accept_loop(
                                listener,
                                senders,
                                places,
                                limit,
                                stop.clone(),
                            ));
                        }
                        serve_handed(handed, app, stop).await;
                        Ok(())
                    })
                })
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    for t in handles {
        match t.join() {
            Ok(r) => r?,
            Err(_) => return Err(std::io::Error::other("a serving thread panicked")),
        }
    }
    Ok(())
}

/// Resolves once `stop` turns true (or its sender is gone).
async fn until_stopped(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// Accepts connections until `stop`, each handed over by [`hand_over`].
async fn accept_loop(
    listener: TcpListener,
    threads: Arc<[tokio::sync::mpsc::UnboundedSender<Handoff>]>,
    places: Arc<placement::Threads>,
    limit: Arc<Semaphore>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let stopped = until_stopped(stop);
    tokio::pin!(stopped);
    loop {
        let permit = tokio::select! {
            permit = limit.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            _ = &mut stopped => break,
        };
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut stopped => break,
        };
        let _ = stream.set_nodelay(true);
        tokio::spawn(hand_over(stream, threads.clone(), places.clone(), permit));
    }
    // Dropping the listener and the senders (once the last hand-over is
    // done): each thread drains and ends.
}

/// Hands `stream` to its serving thread once its first bytes came in (or
/// [`FIRST_BYTES_WAIT`] passed), when the kernel knows the CPU they came in
/// on.
async fn hand_over(
    stream: tokio::net::TcpStream,
    threads: Arc<[tokio::sync::mpsc::UnboundedSender<Handoff>]>,
    places: Arc<placement::Threads>,
    permit: OwnedSemaphorePermit,
) {
    // Neither outcome is an error here: a silent or closed connection is
    // placed without a CPU, and hyper deals with it.
    let _ = tokio::time::timeout(FIRST_BYTES_WAIT, stream.readable()).await;
    let cpu = placement::incoming_cpu(&stream);
    let slot = places.place(cpu);
    tracing::trace!(?cpu, thread = slot.thread(), "connection placed");
    let stream = match stream.into_std() {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!(error = %e, "cannot hand a connection over");
            return;
        }
    };
    if let Some(thread) = threads.get(slot.thread()) {
        // Fails only when that thread has stopped: the connection closes.
        let _ = thread.send(Handoff {
            stream,
            permit,
            slot,
        });
    }
}

/// How a connection is served: the limits `[server]` sets on a client.
fn connection_builder(server: &crate::config::Server) -> auto::Builder<TokioExecutor> {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(server.header_read_timeout)
        .max_buf_size(server.max_header_bytes.max(8192));
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_header_list_size(server.max_header_bytes as u32)
        .max_concurrent_streams(100);
    builder
}

/// Serves the connections handed to this thread until `stop`, then lets
/// in-flight requests finish (up to [`DRAIN_TIMEOUT`]).
async fn serve_handed(
    mut handed: tokio::sync::mpsc::UnboundedReceiver<Handoff>,
    app: Arc<App>,
    stop: tokio::sync::watch::Receiver<bool>,
) {
    let mut config = app.config.load_full();
    let mut builder = connection_builder(&config.server);
    let graceful = GracefulShutdown::new();
    let stopped = until_stopped(stop);
    tokio::pin!(stopped);
    loop {
        let Handoff {
            stream,
            permit,
            slot,
        } = tokio::select! {
            next = handed.recv() => match next {
                Some(h) => h,
                None => break,
            },
            _ = &mut stopped => break,
        };
        let stream = match tokio::net::TcpStream::from_std(stream) {
            Ok(s) => s,
            Err(e) => {
                tracing::warn!(error = %e, "cannot serve a handed-over connection");
                continue;
            }
        };
        // A reloaded config's limits hold for connections from now on;
        // those already open keep the ones they started with.
        let current = app.config.load();
        if !Arc::ptr_eq(&current, &config) {
            if current.server != config.server {
                builder = connection_builder(&current.server);
            }
            config = arc_swap::Guard::into_inner(current);
        }
        // The answer is ready at once: made here, it needs no clone of
        // `app` per request (a count both threads would write).
        let app = app.clone();
        let service = hyper::service::service_fn(move |req| {
            std::future::ready(Ok::<_, Infallible>(handle(&app, req)))
        });
        let conn = builder
            .serve_connection(TokioIo::new(SendfileStream::new(stream)), service)
            .into_owned();
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop((permit, slot));
        });
    }
    if tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("some connections were still open after {:?}", DRAIN_TIMEOUT);
    }
}

type Resp = Response<Full<Bytes>>;

/// Answers one request from memory.
pub fn handle<B>(app: &App, req: Request<B>) -> Resp {
    let (route, resp) = route(app, &req, req.uri().path());
    if let Some(route) = route {
        app.metrics
            .requests
            .get_or_create(&RequestLabels {
                route,
                status: resp.status().as_u16(),
            })
            .inc();
    }
    if resp.status() == StatusCode::NOT_MODIFIED {
        app.metrics.not_modified.inc();
    }
    resp
}

/// The response, and the route label to count it under (`None`: counted
/// already).
fn route<B>(app: &App, req: &Request<B>, path: &str) -> (Option<String>, Resp) {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        let mut r = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        r.headers_mut()
            .insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return (Some("other".into()), r);
    }
    // HEAD gets the GET response: hyper sends its headers (Content-Length
    // included) and drops the body.
    match path {
        "/healthz" => return (Some("/healthz".into()), plain(StatusCode::OK, "ok\n")),
        "/readyz" => {
            let r = if app.ready.load(Ordering::Acquire) {
                plain(StatusCode::OK, "ready\n")
            } else {
                plain(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "starting: first scan not published yet\n",
                )
            };
            return (Some("/readyz".into()), r);
        }
        "/metrics" => {
            let mut r = Response::new(Full::new(Bytes::from(app.metrics.encode())));
            r.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8"),
            );
            return (Some("/metrics".into()), r);
        }
        _ => {}
    }
    let site = app.published.load();
    let key = if path == "/index.html" { "/" } else { path };
    if let Some(res) = site.resources.get(key) {
        let resp = respond(app, req, res);
        // The hot path: this resource's own counters, looked up in the
        // metric family once per published version, not per request.
        let counters = res.counters.get_or_init(|| {
            let route = match key.starts_with("/feeds/") || key == "/" || key == "/feeds.opml" {
                true => key,
                false => "other",
            };
            [StatusCode::OK, StatusCode::NOT_MODIFIED].map(|status| {
                app.metrics
                    .requests
                    .get_or_create(&RequestLabels {
                        route: route.to_string(),
                        status: status.as_u16(),
                    })
                    .clone()
            })
        });
        counters[usize::from(resp.status() == StatusCode::NOT_MODIFIED)].inc();
        return (None, resp);
    }
    if let Some(id) = path.strip_prefix("/articles/") {
        let id = percent_encoding::percent_decode_str(id).decode_utf8_lossy();
        let id = id.trim_end_matches(".html");
        let entry = app.pages.read().ok().and_then(|p| p.get(id).cloned());
        if let Some(entry) = entry {
            if entry.published <= chrono::Utc::now() {
                let config = app.config.load();
                // Article pages are not feeds: the body is read again from
                // the article's own file (a catalog path, never the URL).
                let ctx = app.parse_ctx.load();
                let text = crate::catalog::load_text(&config.articles.dir, &ctx, &entry);
                let res = Resource::uncompressed(
                    "text/html; charset=utf-8",
                    render::html::article(&config, &entry, &text),
                    Some(entry.updated),
                );
                return (Some("/articles".into()), respond(app, req, &res));
            }
        }
        return (
            Some("/articles".into()),
            plain(StatusCode::NOT_FOUND, "no such article\n"),
        );
    }
    (
        Some("other".into()),
        plain(StatusCode::NOT_FOUND, "not found\n"),
    )
}

/// A resource with conditional GET (RFC 9110 13.2.2: If-None-Match is
/// evaluated first; If-Modified-Since only when it is absent) and content
/// negotiation on Accept-Encoding.
fn respond<B>(app: &App, req: &Request<B>, res: &Resource) -> Resp {
    let enc = res.available(negotiate(req.headers().get(header::ACCEPT_ENCODING)));
    let not_modified = if let Some(inm) = req.headers().get(header::IF_NONE_MATCH) {
        inm.to_str().is_ok_and(|v| etag_matches(v, res.hash()))
    } else if let (Some(ims), Some(lm)) = (
        req.headers().get(header::IF_MODIFIED_SINCE),
        res.last_modified_secs,
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
        h.insert(header::CONTENT_TYPE, res.content_type.clone());
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
    if let Some(lm) = &res.last_modified {
        h.insert(header::LAST_MODIFIED, lm.clone());
    }
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::clone(&app.cache_control.load()),
    );
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
        let tag = tag.trim_start_matches("W/").trim_matches('"');
        let tag = tag.trim_end_matches("-gz").trim_end_matches("-br");
        tag == hash
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

fn plain(status: StatusCode, text: &'static str) -> Resp {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

/// `http://<listen>/healthz`, with an unspecified address (`0.0.0.0`)
/// replaced by loopback.
pub fn health_url(listen: SocketAddr) -> String {
    let mut addr = listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    format!("http://{addr}/healthz")
}

/// GETs `url` (2 s timeout): true on a 2xx answer. Used by `wirefeed
/// healthcheck`, since slim container images have no curl.
pub fn probe(url: &str) -> anyhow::Result<bool> {
    let uri: hyper::Uri = url.parse()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .build_http::<Full<Bytes>>();
        let req = Request::get(uri).body(Full::new(Bytes::new()))?;
        match tokio::time::timeout(Duration::from_secs(2), client.request(req)).await {
            Ok(Ok(resp)) => Ok(resp.status().is_success()),
            Ok(Err(e)) => {
                eprintln!("healthcheck: {url}: {e}");
                Ok(false)
            }
            Err(_) => {
                eprintln!("healthcheck: {url}: no answer within 2 s");
                Ok(false)
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_connections_get_the_larger_send_buffer() {
        let listener = bind("127.0.0.1:0".parse().expect("addr")).expect("bind");
        let addr = listener.local_addr().expect("addr");
        let _client = std::net::TcpStream::connect(addr).expect("connect");
        listener.set_nonblocking(false).expect("blocking");
        let (conn, _) = listener.accept().expect("accept");
        let size = socket2::SockRef::from(&conn)
            .send_buffer_size()
            .expect("SO_SNDBUF");
        assert!(
            size >= SEND_BUFFER,
            "accepted connection's SO_SNDBUF is {size}"
        );
    }

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
    }
}
