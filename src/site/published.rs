//! The current snapshot of everything served from memory, swapped
//! atomically: a request sees either the old snapshot or the new one,
//! never half of each. The `wirefeed-compress` thread compresses, right
//! after each swap (or, in a burst of changes, once it pauses), whatever
//! the *current* snapshot holds uncompressed: a feed replaced meanwhile is
//! never compressed for nothing, and every feed still published is
//! compressed in the end.

use std::collections::HashMap;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};

use super::resource::Resource;

/// Compression starts once no swap came for this long: in a burst of
/// changes each publish replaces the last one's feeds, and compressing
/// every one of them would take more CPU than publishing them.
const QUIET: Duration = Duration::from_millis(50);
/// ...or once the oldest uncompressed swap is this old, so that changes
/// that never stop still get compressed bodies.
const DEFER_AT_MOST: Duration = Duration::from_secs(3);

/// Everything the server answers from memory, by request path.
#[derive(Debug, Default)]
pub struct Snapshot {
    pub resources: HashMap<String, Arc<Resource>>,
}

impl Snapshot {
    /// A resource of this site still waiting for its compressed bodies.
    pub(super) fn next_to_compress(&self) -> Option<Arc<Resource>> {
        self.resources
            .values()
            .find(|r| r.wants_compression())
            .cloned()
    }
}

/// The current site, swapped atomically by the publisher and compressed
/// by a thread of its own right after each swap.
pub struct Published {
    site: Arc<ArcSwap<Snapshot>>,
    /// Tells the compressor when a swap happened; `None` where it could
    /// not be started (then [`Published::update`] compresses on the
    /// caller's thread).
    compressor: Option<mpsc::Sender<Instant>>,
}

impl Default for Published {
    fn default() -> Self {
        Self::new()
    }
}

impl Published {
    /// An empty site and its compressor thread.
    pub fn new() -> Self {
        let site = Arc::new(ArcSwap::from_pointee(Snapshot::default()));
        let (tx, rx) = mpsc::channel::<Instant>();
        let current = site.clone();
        let spawned = std::thread::Builder::new()
            .name("wirefeed-compress".into())
            .spawn(move || compressor(&current, &rx));
        let compressor = match spawned {
            Ok(_) => Some(tx),
            Err(e) => {
                tracing::warn!(error = %e, "no compressor thread; compressing on the publisher's");
                None
            }
        };
        Published { site, compressor }
    }

    /// The current site, for as long as one request or step needs it. A
    /// guard, not an `Arc`: both serving threads taking a reference to the
    /// one `Site` on every request would bounce its count between cores.
    pub fn load(&self) -> arc_swap::Guard<Arc<Snapshot>> {
        self.site.load()
    }

    /// Compresses, on the calling thread, everything the current site holds
    /// uncompressed (the compressor thread does the same in the background
    /// after every [`Published::update`]).
    pub fn compress_now(&self) {
        use rayon::prelude::*;
        let site = self.site.load_full();
        site.resources
            .par_iter()
            .filter(|(_, r)| r.wants_compression())
            .for_each(|(_, r)| r.compress());
    }

    /// Replaces the resources at the given paths and drops those `keep`
    /// refuses, in one atomic step, then has the new ones compressed.
    ///
    /// A resource whose bytes did not change is kept as it was
    /// (validators and compressed bodies included). One that changed never
    /// keeps an older or equal `Last-Modified`: when its newest item is not
    /// newer (an article backdated into it, or its newest one deleted), the
    /// change time is used, so If-Modified-Since clients do not get a
    /// stale 304.
    pub fn update(
        &self,
        changed: Vec<(String, Arc<Resource>)>,
        keep: &dyn Fn(&str) -> bool,
        now: DateTime<Utc>,
    ) {
        self.site.rcu(|old| {
            let mut resources: HashMap<String, Arc<Resource>> = old
                .resources
                .iter()
                .filter(|(p, _)| keep(p))
                .map(|(p, r)| (p.clone(), r.clone()))
                .collect();
            for (path, res) in &changed {
                let res = match old.resources.get(path) {
                    Some(prev) if prev.hash() == res.hash() => prev.clone(),
                    Some(prev) => match (prev.last_modified_secs(), res.last_modified_secs()) {
                        (Some(p), Some(n)) if n <= p => {
                            Arc::new(res.with_last_modified(now.timestamp().max(p + 1)))
                        }
                        (Some(p), None) => {
                            Arc::new(res.with_last_modified(now.timestamp().max(p + 1)))
                        }
                        _ => res.clone(),
                    },
                    None => res.clone(),
                };
                resources.insert(path.clone(), res);
            }
            Snapshot { resources }
        });
        let woken = self
            .compressor
            .as_ref()
            .is_some_and(|tx| tx.send(Instant::now()).is_ok());
        if !woken {
            self.compress_now();
        }
    }
}

/// The `wirefeed-compress` thread: after each swap (`swaps` gives its
/// time), compresses the current site once no swap came for [`QUIET`], or
/// once the oldest swap not compressed yet is [`DEFER_AT_MOST`] old. Ends
/// when the `Published` (the only sender) is dropped.
fn compressor(site: &ArcSwap<Snapshot>, swaps: &mpsc::Receiver<Instant>) {
    // The first and the latest swap not compressed yet.
    let mut pending: Option<(Instant, Instant)> = None;
    loop {
        let (first, last) = match pending {
            Some(p) => p,
            None => match swaps.recv() {
                Ok(t) => (t, t),
                Err(_) => return,
            },
        };
        let due = (last + QUIET).min(first + DEFER_AT_MOST);
        match swaps.recv_timeout(due.saturating_duration_since(Instant::now())) {
            Ok(t) => {
                pending = Some((first, t));
                continue;
            }
            Err(RecvTimeoutError::Disconnected) => return,
            Err(RecvTimeoutError::Timeout) => {}
        }
        compress_current(site);
        // Swaps made during the pass wait their turn from their own time.
        pending = swaps
            .try_iter()
            .fold(None, |p, t| Some(p.map_or((t, t), |(f, _)| (f, t))));
    }
}

/// Compresses, one at a time, what the current site holds uncompressed,
/// looking at the site afresh after each: a resource replaced meanwhile is
/// skipped, and one published meanwhile is taken too.
fn compress_current(site: &ArcSwap<Snapshot>) {
    while let Some(resource) = site.load().next_to_compress() {
        resource.compress();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::FixedOffset;
    use hyper::header::HeaderValue;

    fn at(s: &str) -> DateTime<FixedOffset> {
        DateTime::parse_from_rfc3339(s).expect("date")
    }

    #[test]
    fn a_changed_feed_never_keeps_its_last_modified() {
        let published = Published::default();
        let now = at("2026-01-01T00:00:00Z").to_utc();
        let feed = |body: &str, newest: &str| {
            Arc::new(Resource::new(
                "x",
                body.as_bytes().to_vec(),
                Some(at(newest)),
            ))
        };
        published.update(
            vec![("/f".into(), feed("a", "2024-05-14T00:00:00Z"))],
            &|_| true,
            now,
        );
        let first = published.load().resources["/f"].clone();
        // Same bytes: the very same resource stays.
        published.update(
            vec![("/f".into(), feed("a", "2024-05-14T00:00:00Z"))],
            &|_| true,
            now,
        );
        assert!(Arc::ptr_eq(&first, &published.load().resources["/f"]));
        // A backdated addition: newest item unchanged, bytes changed.
        published.update(
            vec![("/f".into(), feed("ab", "2024-05-14T00:00:00Z"))],
            &|_| true,
            now,
        );
        assert_eq!(
            published.load().resources["/f"].last_modified_secs(),
            Some(now.timestamp())
        );
        // A newer item: its date, as usual.
        published.update(
            vec![("/f".into(), feed("abc", "2027-01-01T00:00:00Z"))],
            &|_| true,
            now,
        );
        assert_eq!(
            published.load().resources["/f"]
                .last_modified()
                .map(|(h, _)| h.clone()),
            Some(HeaderValue::from_static("Fri, 01 Jan 2027 00:00:00 GMT"))
        );
        // Dropping feeds of a removed category happens in the same swap.
        published.update(
            vec![("/g".into(), feed("g", "2024-01-01T00:00:00Z"))],
            &|p| p != "/f",
            now,
        );
        let site = published.load();
        assert!(!site.resources.contains_key("/f") && site.resources.contains_key("/g"));
    }
}
