//! `wirefeed serve`: the threads and the signals.
//!
//! Threads and their jobs:
//! - `wirefeed-watch` ([`crate::watch`]) turns file events into settled
//!   paths;
//! - `wirefeed-publish` (`publisher`, with `intake`, `publish` and
//!   `reload`) owns the [`crate::catalog::Catalog`]: it reads what
//!   changed, renders the feeds it touched and publishes them on the
//!   [`Site`]; it also wakes for scheduled articles. A round's reads fan out
//!   on a rayon pool it is itself a thread of (the others are
//!   `wirefeed-read-N`);
//! - `wirefeed-state` (`state`) commits the state store,
//!   so that an `fsync` never holds up the next publish;
//! - `wirefeed-compress` ([`crate::site`]) adds the gzip and brotli bodies
//!   of each published change;
//! - `wirefeed-archive` ([`crate::site`]) compresses and writes archive
//!   pages;
//! - `wirefeed-websub` ([`crate::websub`]), one per configured hub, pings
//!   it with the feeds a publish changed;
//! - `wirefeed-upload` ([`crate::publish`]), when `publish.to` is set,
//!   copies each change to the object store;
//! - the HTTP server's threads ([`crate::http::serve`]) answer requests
//!   from the site;
//! - the `wirefeed-main` tokio runtime handles start-up and signals.
//!
//! Signals: SIGTERM/SIGINT stop accepting, finish in-flight requests and
//! flush the state store; SIGHUP (or saving the config file) reloads the
//! config: a valid one is swapped in, an invalid one is logged and ignored.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Sender};
use std::sync::Arc;

use tokio::sync::Semaphore;

use crate::catalog::StateStore;
use crate::config::Config;
use crate::http;
use crate::site::Site;
use crate::{Error, Result};

mod archive;
mod intake;
mod publish;
mod publisher;
mod reload;

use publisher::{Msg, Publisher};

/// The log filter without `WIREFEED_LOG`. notify reports at `info` that it
/// could not remove the watch of a deleted folder (the kernel dropped it
/// with the folder): nothing an operator can act on, so only its warnings.
const DEFAULT_LOG: &str = "info,notify=warn";

/// Logs to stderr; `WIREFEED_LOG` sets the filter (default `info,notify=warn`).
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("WIREFEED_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .try_init();
}

/// Runs the daemon until SIGTERM or SIGINT.
pub fn run(config_path: PathBuf, config: Arc<Config>) -> Result<()> {
    // Signals and start-up; requests are served on threads of their own
    // (see `http::serve`).
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .thread_name("wirefeed-main")
        .build()?;
    runtime.block_on(serve_main(config_path, config))
}

async fn serve_main(config_path: PathBuf, config: Arc<Config>) -> Result<()> {
    raise_open_file_limit(config.server.max_connections);
    let (listen, max_connections) = (config.server.listen, config.server.max_connections);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);
    let listener = http::bind(listen).map_err(|source| Error::Listen {
        addr: listen,
        source,
    })?;
    let addr = listener.local_addr()?;
    tracing::info!(%addr, articles = %config.articles.dir.display(), "listening");
    let site = Arc::new(Site::new(config.clone()));
    // Copies every change to `publish.to`, if set (runs until exit; what
    // it had not copied by then is found again from its manifest).
    let _uploader = crate::publish::Uploader::start(&site);
    let (tx, rx) = mpsc::channel::<Msg>();

    let (state, warning) = tokio::task::block_in_place(|| StateStore::open(&config.state_dir()));
    if let Some(w) = warning {
        tracing::warn!("{w}");
    }
    let publisher = {
        let (site, tx, config_path) = (site.clone(), tx.clone(), config_path.clone());
        std::thread::Builder::new()
            .name("wirefeed-publish".into())
            .spawn(move || {
                let publisher = Publisher::new(config_path, config, site, state, tx);
                in_own_pool(cores, move || publisher.run(rx))
            })?
    };
    let _config_watch = watch_config_file(&config_path, tx.clone());

    let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
    let reload_tx = tx.clone();
    tokio::spawn(async move {
        while hup.recv().await.is_some() {
            tracing::info!("SIGHUP: reloading config");
            let _ = reload_tx.send(Msg::Reload);
        }
    });
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
    let shutdown = async move {
        tokio::select! {
            _ = term.recv() => tracing::info!("SIGTERM: shutting down"),
            _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT: shutting down"),
        }
    };
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let limit = Arc::new(Semaphore::new(max_connections));
    let serving = {
        let site = site.clone();
        let serving = http::Serving {
            listener,
            threads: cores,
            site,
            limit,
            stop: stop_rx,
        };
        tokio::task::spawn_blocking(move || http::serve(serving))
    };
    shutdown.await;
    let _ = stop_tx.send(true);
    serving
        .await
        .map_err(|_| Error::Panicked("a serving thread"))??;
    let _ = tx.send(Msg::Shutdown);
    let joined = tokio::task::spawn_blocking(move || publisher.join()).await;
    if !matches!(joined, Ok(Ok(()))) {
        return Err(Error::Panicked("the publisher thread"));
    }
    tracing::info!("stopped");
    Ok(())
}

/// Runs `work` (the publisher) as one of the threads of its own rayon pool,
/// so that its reads fan out from a thread that takes part in them.
/// Called from outside a pool, a parallel step waits until a sleeping
/// worker wakes and gets a core, which for a round of a few files takes
/// longer than reading them; a worker that starts the step itself reads on
/// at once, and the others join it as they wake.
fn in_own_pool(threads: usize, work: impl FnOnce() + Send) {
    match rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("wirefeed-read-{i}"))
        .use_current_thread()
        .build()
    {
        Ok(pool) => pool.install(work),
        Err(e) => {
            tracing::warn!(error = %e, "no thread pool of its own; the publisher uses the global one");
            work()
        }
    }
}

/// Every connection is a file descriptor: the usual soft limit (1024) would
/// refuse connections long before `server.max_connections`.
fn raise_open_file_limit(connections: usize) {
    let want = connections as u64 + 1024;
    match rlimit::increase_nofile_limit(want) {
        Ok(got) if got < want => {
            tracing::warn!(
                limit = got,
                "open-file limit is below server.max_connections + 1024"
            )
        }
        Ok(_) => {}
        Err(e) => tracing::warn!(error = %e, "cannot raise the open-file limit"),
    }
}

/// Saving the config file reloads it, like SIGHUP.
fn watch_config_file(path: &Path, tx: Sender<Msg>) -> Option<notify::RecommendedWatcher> {
    use notify::event::{AccessKind, AccessMode};
    use notify::{EventKind, Watcher};
    let name = path.file_name()?.to_os_string();
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut watcher = notify::recommended_watcher(move |ev: notify::Result<notify::Event>| {
        let Ok(ev) = ev else { return };
        let relevant = matches!(
            ev.kind,
            EventKind::Create(_)
                | EventKind::Modify(_)
                | EventKind::Access(AccessKind::Close(AccessMode::Write))
        );
        if relevant
            && ev
                .paths
                .iter()
                .any(|p| p.file_name() == Some(name.as_os_str()))
        {
            let _ = tx.send(Msg::Reload);
        }
    })
    .map_err(|e| tracing::warn!(error = %e, "config file changes will need SIGHUP"))
    .ok()?;
    watcher
        .watch(&dir, notify::RecursiveMode::NonRecursive)
        .map_err(|e| tracing::warn!(error = %e, "config file changes will need SIGHUP"))
        .ok()?;
    Some(watcher)
}
