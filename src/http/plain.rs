//! Connections served on one multi-threaded tokio runtime (without the
//! `tune` feature): accepted by one task, each served by tasks the runtime
//! spreads over its threads.

use std::sync::Arc;

use tokio::net::TcpListener;
use tokio::sync::Semaphore;

use super::conn::{accept, Connections};
use crate::site::Site;

pub(super) fn serve(
    listener: std::net::TcpListener,
    threads: usize,
    site: Arc<Site>,
    limit: Arc<Semaphore>,
    stop: tokio::sync::watch::Receiver<bool>,
) -> std::io::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name("wirefeed-http")
        .enable_all()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::from_std(listener)?;
        let mut connections = Connections::new(site);
        accept(listener, limit, stop, |stream, permit| {
            connections.serve(stream, permit)
        })
        .await;
        connections.drain().await;
        Ok(())
    })
}
