//! The HTTP server (hyper 1): the listener and its connections, the routes
//! (`routes`), conditional GET and content negotiation (`respond`), CORS
//! (`cors`), CDN purge keys (`surrogate`), media files (`media`), and the
//! probe of `wirefeed healthcheck` (`probe`). Answers come from the
//! published [`Site`](crate::site::Site); the only request paths mapped to
//! files are those under `/media/`, inside `media.dir`
//! (`/articles/../../etc/passwd` is just an unknown id). The reads a
//! request can cause (an article or archive page, from the file its
//! catalog names) run on a blocking thread, off the runtime; media files
//! are streamed by tokio's file I/O.
//!
//! Routes: `/` (and `/index.html`), `/feeds/{slug}.rss|.atom|.json`,
//! `/feeds/archive/{slug}/{n}.{ext}`, `/feeds.opml`,
//! `/categories/{slug}.html` (and `/categories/{slug}/`,
//! `/categories/{slug}`), `/categories/{slug}/{n}.html`,
//! `/articles/{id}.html` (and `/articles/{id}`), `/media/{path}`,
//! `/healthz`, `/readyz`, `/metrics`. Every public answer (all but the
//! last three) carries `Access-Control-Allow-Origin: *` and its
//! `Surrogate-Key`; `OPTIONS` answers 204 on any path.
//!
//! Connections are served on a multi-threaded tokio runtime (`plain`), or
//! with the `tune` feature on threads of one current-thread runtime per
//! core, each connection on the thread for the CPU its packets come in on
//! (`percore`).

mod conn;
mod cors;
mod media;
#[cfg(feature = "tune")]
mod percore;
#[cfg(not(feature = "tune"))]
mod plain;
mod probe;
mod respond;
mod routes;
mod surrogate;

use std::net::SocketAddr;

pub use conn::Serving;
pub use probe::{health_url, probe};
pub use respond::Resp;
pub use routes::{answer, handle, resource_key, Sent};

use crate::tune;

/// The listening socket on `addr`. One socket, without `SO_REUSEPORT`: a
/// second daemon started on the same port fails to bind instead of
/// silently sharing the connections.
pub fn bind(addr: SocketAddr) -> std::io::Result<std::net::TcpListener> {
    let listener = std::net::TcpListener::bind(addr)?;
    listener.set_nonblocking(true)?;
    tune::socket::size_send_buffer(&listener);
    Ok(listener)
}

/// Serves until told to stop, then lets in-flight requests finish. Blocks
/// the calling thread.
pub fn serve(serving: Serving) -> std::io::Result<()> {
    #[cfg(feature = "tune")]
    return percore::serve(serving);
    #[cfg(not(feature = "tune"))]
    plain::serve(serving)
}
