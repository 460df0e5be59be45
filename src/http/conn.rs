//! Connections: accepted within the connection limit, served by hyper
//! with the limits `[server]` sets, watched for a graceful drain.

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::routes::answer;
use crate::config::{Config, Server};
use crate::site::Site;
use crate::tune;

/// What a server needs.
pub struct Serving {
    pub listener: std::net::TcpListener,
    /// Threads to serve on (at least one).
    pub threads: usize,
    pub site: Arc<Site>,
    /// Caps the connections held at once.
    pub limit: Arc<Semaphore>,
    /// Turns true when the server must stop.
    pub stop: tokio::sync::watch::Receiver<bool>,
}

/// How long in-flight requests get to finish after SIGTERM.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Accepts connections until `stop`, within `limit`, each handed to
/// `accepted` with the permit it holds.
pub(super) async fn accept(
    listener: TcpListener,
    limit: Arc<Semaphore>,
    stop: tokio::sync::watch::Receiver<bool>,
    mut accepted: impl FnMut(tokio::net::TcpStream, OwnedSemaphorePermit),
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
            next = listener.accept() => match next {
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
        accepted(stream, permit);
    }
}

/// Resolves once `stop` turns true (or its sender is gone).
pub(super) async fn until_stopped(mut stop: tokio::sync::watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// How the connections of one runtime are served: hyper with the limits
/// `[server]` sets, watched for a graceful drain.
pub(super) struct Connections {
    site: Arc<Site>,
    /// The config the builder was made for: a reloaded config's limits
    /// hold for connections from then on.
    config: Arc<Config>,
    builder: auto::Builder<TokioExecutor>,
    graceful: GracefulShutdown,
}

impl Connections {
    pub(super) fn new(site: Arc<Site>) -> Self {
        let config = site.config();
        Connections {
            builder: builder(&config.server),
            config,
            site,
            graceful: GracefulShutdown::new(),
        }
    }

    /// Serves `stream` on a task of the current runtime; `held` (its
    /// connection permit) is released when the connection ends.
    pub(super) fn serve(&mut self, stream: tokio::net::TcpStream, held: impl Send + 'static) {
        let current = self.site.config();
        if !Arc::ptr_eq(&current, &self.config) {
            if current.server != self.config.server {
                self.builder = builder(&current.server);
            }
            self.config = current;
        }
        let site = self.site.clone();
        let service = hyper::service::service_fn(move |req| {
            let site = site.clone();
            async move { Ok::<_, Infallible>(answer(&site, req).await) }
        });
        let io = TokioIo::new(tune::zerocopy::stream(stream));
        let conn = self.builder.serve_connection(io, service).into_owned();
        let conn = self.graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(held);
        });
    }

    /// Lets in-flight requests finish (up to [`DRAIN_TIMEOUT`]).
    pub(super) async fn drain(self) {
        if tokio::time::timeout(DRAIN_TIMEOUT, self.graceful.shutdown())
            .await
            .is_err()
        {
            tracing::warn!("some connections were still open after {DRAIN_TIMEOUT:?}");
        }
    }
}

/// A connection builder with the limits `[server]` sets on a client.
fn builder(server: &Server) -> auto::Builder<TokioExecutor> {
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
