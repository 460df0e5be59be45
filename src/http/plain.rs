//! Connections served on one multi-threaded tokio runtime (without the
//! `tune` feature): accepted by one task, each served by tasks the runtime
//! spreads over its threads.

use tokio::net::TcpListener;

use super::conn::{accept, Connections, Serving};

pub(super) fn serve(s: Serving) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(s.threads.max(1))
        .thread_name("wirefeed-http")
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::from_std(s.listener)?;
        let mut connections = Connections::new(s.site);
        accept(listener, s.limit, s.stop, |stream, permit| {
            connections.serve(stream, permit)
        })
        .await;
        connections.drain().await;
        Ok(())
    })
}
