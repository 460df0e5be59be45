//! The HTTP server (hyper 1): the listener and its connections, the routes
//! (`routes`), conditional GET and content negotiation (`respond`), and
//! the probe of `wirefeed healthcheck` (`probe`). Answers come from the
//! published [`Site`](crate::site::Site); no request path is mapped to a file
//! (`/articles/../../etc/passwd` is just an unknown id), and the one read a
//! request can cause (an article page, from the file its catalog entry
//! names) runs on a blocking thread, off the runtime.
//!
//! Routes: `/` (index), `/feeds/{slug}.rss|.atom|.json`, `/feeds.opml`,
//! `/articles/{id}`, `/healthz`, `/readyz`, `/metrics`.
//!
//! Connections are served on a multi-threaded tokio runtime (`plain`), or
//! with the `tune` feature on threads of one current-thread runtime per
//! core, each connection on the thread for the CPU its packets come in on
//! (`percore`).

mod conn;
#[cfg(feature = "tune")]
mod percore;
#[cfg(not(feature = "tune"))]
mod plain;
mod probe;
mod respond;
mod routes;

use std::net::SocketAddr;

pub use conn::Serving;
pub use probe::{health_url, probe};
pub use respond::Resp;
pub use routes::handle;

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
