//! The `wirefeed serve` uploader: a thread of its own that copies every
//! change the site publishes to the `publish.to` store. A store that is
//! down or slow holds up only this thread: the changes wait (in memory,
//! and as a difference from the manifest across restarts) and are retried
//! with backoff until they land; the first failure of an outage is logged,
//! and the recovery.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::manifest::Manifest;
use super::sync::sync;
use super::tree::SiteTree;
use super::Target;
use crate::site::Site;

const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Starts the uploader thread when `publish.to` is set.
pub struct Uploader;

impl Uploader {
    pub fn start(site: &Arc<Site>) -> Option<std::thread::JoinHandle<()>> {
        let to = site.config().publish.to.clone()?;
        site.track_changes();
        let site = site.clone();
        let spawned = std::thread::Builder::new()
            .name("wirefeed-upload".into())
            .spawn(move || run(site, &to));
        match spawned {
            Ok(handle) => Some(handle),
            Err(e) => {
                tracing::error!(error = %e, "publish.to: the uploader thread did not start");
                None
            }
        }
    }
}

fn run(site: Arc<Site>, to: &str) {
    let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        tracing::error!("publish.to: no runtime for the uploader");
        return;
    };
    // The whole tree is there once the start-up state is published.
    while !site.is_ready() {
        std::thread::sleep(Duration::from_millis(50));
    }
    let mut backoff = FIRST_BACKOFF;
    let target = loop {
        match Target::open(to) {
            Ok(target) => break target,
            Err(e) => {
                tracing::error!(error = %e, "publish.to: cannot open the store; retrying");
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    };
    let mut manifest = Manifest::load(&site.config().state_dir(), to);
    let tree = SiteTree { site: site.clone() };
    // First: every key of the tree, and every key the store holds (what
    // changed or went while wirefeed was not running).
    let mut pending: BTreeSet<String> = loop {
        match runtime.block_on(target.all_keys(&tree, &mut manifest)) {
            Ok(keys) => break keys,
            Err(e) => {
                site.metrics().store_failures.inc();
                tracing::warn!(error = %e, "publish.to: cannot list the store; retrying");
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    };
    backoff = FIRST_BACKOFF;
    let mut since = Some(Instant::now());
    let mut failing = false;
    let metrics = site.metrics();
    loop {
        let wait = match (failing, pending.is_empty()) {
            (true, _) => {
                std::thread::sleep(backoff);
                Duration::ZERO
            }
            (false, true) => Duration::from_secs(1),
            (false, false) => Duration::ZERO,
        };
        let changes = site.take_changes(wait);
        pending.extend(changes.keys);
        since = match (since, changes.since) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        if pending.is_empty() {
            metrics.store_oldest_pending.set(0.0);
            continue;
        }
        let config = site.config();
        let started = Instant::now();
        let keys = std::mem::take(&mut pending);
        let count = keys.len();
        let report = sync(
            &runtime,
            &target,
            &mut manifest,
            &tree,
            keys,
            config.publish.concurrency,
        );
        metrics.store_puts.inc_by(report.puts as u64);
        metrics.store_deletes.inc_by(report.deletes as u64);
        match report.failed.is_empty() {
            true => {
                if failing {
                    tracing::info!(store = %to, "publish.to: the store answers again; caught up");
                }
                tracing::debug!(
                    keys = count,
                    puts = report.puts,
                    deletes = report.deletes,
                    ms = started.elapsed().as_secs_f64() * 1000.0,
                    "published to the store"
                );
                failing = false;
                backoff = FIRST_BACKOFF;
                since = None;
            }
            false => {
                metrics.store_failures.inc_by(report.failed.len() as u64);
                if !failing {
                    tracing::warn!(
                        store = %to,
                        error = report.error.as_deref().unwrap_or("unknown"),
                        waiting = report.failed.len(),
                        "publish.to: the store failed; changes wait and are retried until it answers"
                    );
                }
                failing = true;
                backoff = (backoff * 2).min(MAX_BACKOFF);
                pending.extend(report.failed);
            }
        }
        metrics.store_pending.set(pending.len() as i64);
        let age = since.map_or(0.0, |s| s.elapsed().as_secs_f64());
        metrics.store_oldest_pending.set(age);
    }
}
