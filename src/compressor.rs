//! The background compressor: gzip and brotli bodies for published feeds.
//!
//! Compressing a feed costs far more than rendering it (about 14 ms for
//! gzip 6 and brotli 5 of a 50-item feed, against about one), so the
//! publisher swaps new feeds in uncompressed and hands them to the
//! `wirefeed-gzip` thread. That thread gives way twice:
//!
//! - to the publisher: it starts on a feed only once no round of changes
//!   has been in progress for [`QUIET`]. A burst of new articles is read and
//!   published first; readers get identity bodies meanwhile. Idle-priority
//!   scheduling alone did not keep it out of the way: during a 10 000-file
//!   burst the compressor still took a core for tens of ms at a time while
//!   the parse waited (perf), and write→visible p99 at ~3 700 files/s was
//!   104.6 ms with it and 51.5 ms without (BENCHMARKS.md). So that a
//!   steady stream of changes cannot keep feeds uncompressed for good,
//!   work that has waited [`DEFER_AT_MOST`] is done anyway.
//! - to everything else: it runs under `SCHED_IDLE`. On a machine whose
//!   cores other processes keep busy, idle CPU may never come: work left
//!   waiting [`STARVED_AFTER`] since the last submission is raised to
//!   normal priority by [`Compressor::check_starving`] for one round.
//!
//! Compressing a feed nobody has read yet writes it first, rendering the
//! items no reader needed in that format (often Atom's): that work runs
//! here, at idle priority, too. A reader never waits for it (see
//! `RenderedItem::bytes`): if both need the same bytes, both render them.
//!
//! Only the newest snapshot gets compressed: the queue holds weak
//! references, so a feed superseded before its turn is freed at once (its
//! buffer goes back to the pool for the next publish) and skipped.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use crate::sched::{self, Policy};
use crate::snapshot::{self, Resource};

/// How long the publisher must have been idle before compression starts.
pub const QUIET: Duration = Duration::from_millis(50);
/// The longest a published feed waits for its compressed bodies while
/// changes keep coming.
pub const DEFER_AT_MOST: Duration = Duration::from_secs(5);
/// How long a published feed may wait for its compressed bodies on a busy
/// machine (other processes using every core) before the compressor stops
/// giving way to everything else.
pub const STARVED_AFTER: Duration = Duration::from_secs(1);

type Batch = (u64, Instant, Vec<Weak<Resource>>);

pub struct Compressor {
    tx: std::sync::mpsc::Sender<Batch>,
    progress: Arc<Mutex<Progress>>,
    activity: Arc<Activity>,
}

#[derive(Debug)]
struct Progress {
    /// Batches submitted and batches compressed (sequence numbers).
    submitted: u64,
    done: u64,
    last_submit: Instant,
    /// The compressor thread's id, for raising its priority.
    tid: Option<i32>,
    boosted: bool,
}

/// Whether the publisher is working on a round of changes, and since when
/// it has been idle.
struct Activity {
    state: Mutex<ActivityState>,
    changed: Condvar,
}

struct ActivityState {
    busy: bool,
    idle_since: Instant,
}

/// Marks the publisher busy until dropped (see [`Compressor::busy`]).
pub struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        if let Ok(mut s) = self.0.state.lock() {
            s.busy = false;
            s.idle_since = Instant::now();
        }
        self.0.changed.notify_all();
    }
}

impl Activity {
    fn lock(&self) -> Option<MutexGuard<'_, ActivityState>> {
        self.state.lock().ok()
    }

    /// Blocks until the publisher has been idle for `quiet`, or until
    /// `deadline`.
    fn wait_quiet(&self, quiet: Duration, deadline: Instant) {
        let Some(mut s) = self.lock() else { return };
        loop {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            let wait = if s.busy {
                deadline - now
            } else {
                let idle = now.saturating_duration_since(s.idle_since);
                if idle >= quiet {
                    return;
                }
                (quiet - idle).min(deadline - now)
            };
            s = match self.changed.wait_timeout(s, wait) {
                Ok((s, _)) => s,
                Err(_) => return,
            };
        }
    }
}

impl Compressor {
    pub fn spawn() -> std::io::Result<Self> {
        Self::spawn_with(QUIET, DEFER_AT_MOST)
    }

    /// [`Compressor::spawn`] with other waits (tests).
    pub fn spawn_with(quiet: Duration, defer_at_most: Duration) -> std::io::Result<Self> {
        let (tx, rx) = std::sync::mpsc::channel::<Batch>();
        let progress = Arc::new(Mutex::new(Progress {
            submitted: 0,
            done: 0,
            last_submit: Instant::now(),
            tid: None,
            boosted: false,
        }));
        let activity = Arc::new(Activity {
            state: Mutex::new(ActivityState {
                busy: false,
                idle_since: Instant::now(),
            }),
            changed: Condvar::new(),
        });
        let (shared, gate) = (progress.clone(), activity.clone());
        std::thread::Builder::new()
            .name("wirefeed-gzip".into())
            .spawn(move || {
                if let Ok(mut p) = shared.lock() {
                    p.tid = Some(rustix::thread::gettid().as_raw_nonzero().get());
                }
                sched::set(0, Policy::Idle);
                while let Ok((mut seq, oldest, mut batch)) = rx.recv() {
                    let deadline = oldest + defer_at_most;
                    gate.wait_quiet(quiet, deadline);
                    // Newest last: whatever queued up meanwhile is one round.
                    while let Ok((more_seq, _, more)) = rx.try_recv() {
                        seq = more_seq;
                        batch.extend(more);
                    }
                    for resource in batch.iter().rev() {
                        // A round that started meanwhile comes first.
                        gate.wait_quiet(quiet, deadline);
                        // Upgraded one at a time: holding a strong reference
                        // to a feed waiting its turn would keep it alive.
                        if let Some(r) = resource.upgrade().filter(snapshot::wanted) {
                            r.compress();
                        }
                    }
                    if let Ok(mut p) = shared.lock() {
                        p.done = seq;
                        // A raise lasts one round: what was submitted
                        // meanwhile waits for idle CPU again (a burst keeps
                        // submitting, and then the publisher comes first).
                        if p.boosted {
                            sched::set(0, Policy::Idle);
                            p.boosted = false;
                        }
                    }
                }
            })?;
        Ok(Compressor {
            tx,
            progress,
            activity,
        })
    }

    /// Marks the publisher busy with a round of changes until the returned
    /// guard is dropped: compression waits for it.
    pub fn busy(&self) -> Busy {
        if let Some(mut s) = self.activity.lock() {
            s.busy = true;
        }
        Busy(self.activity.clone())
    }

    /// Queues `resources`; a stopped compressor compresses them here.
    pub fn submit(&self, resources: &[Arc<Resource>]) {
        let weak = resources.iter().map(Arc::downgrade).collect();
        let seq = match self.progress.lock() {
            Ok(mut p) => {
                p.submitted += 1;
                p.last_submit = Instant::now();
                p.submitted
            }
            Err(_) => 0,
        };
        if self.tx.send((seq, Instant::now(), weak)).is_err() {
            snapshot::compress_all(resources);
        }
    }

    /// Raises the compressor to normal priority (for its current round) if
    /// its work has waited [`STARVED_AFTER`] since the last submission.
    /// Returns how long until it should be asked again (`None`: nothing
    /// is waiting).
    pub fn check_starving(&self) -> Option<Duration> {
        let mut p = self.progress.lock().ok()?;
        if p.done >= p.submitted || p.boosted {
            return None;
        }
        let waited = p.last_submit.elapsed();
        if waited < STARVED_AFTER {
            return Some(STARVED_AFTER - waited);
        }
        if let Some(tid) = p.tid {
            tracing::debug!(
                waited_ms = waited.as_millis() as u64,
                "compressed bodies are waiting for idle CPU; compressing at normal priority"
            );
            sched::set(tid, Policy::Normal);
            p.boosted = true;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A compressor (quiet after 20 ms, work deferred at most `defer`)
    /// whose publisher is busy, and a feed submitted to it meanwhile.
    fn feed_submitted_while_busy(defer: Duration) -> (Compressor, Busy, Arc<Resource>) {
        let c = Compressor::spawn_with(Duration::from_millis(20), defer).expect("spawn");
        let busy = c.busy();
        let body = b"<rss>quiet, then compressed</rss>".repeat(100);
        let r = Arc::new(Resource::new("application/rss+xml", body, None));
        c.submit(std::slice::from_ref(&r));
        (c, busy, r)
    }

    /// Keeps `r` published (the compressor skips what nobody holds) and
    /// waits up to 5 s for its compressed bodies.
    fn compressed_within_5s(r: &Arc<Resource>) -> bool {
        let until = Instant::now() + Duration::from_secs(5);
        while Instant::now() < until {
            if r.is_compressed() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        false
    }

    #[test]
    fn compression_waits_while_the_publisher_is_busy() {
        let (_c, busy, r) = feed_submitted_while_busy(Duration::from_secs(60));
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            !r.is_compressed(),
            "compressed while a round was in progress"
        );
        drop(busy);
        assert!(compressed_within_5s(&r), "not compressed once quiet");
    }

    #[test]
    fn a_publisher_that_is_never_idle_still_gets_compressed_feeds() {
        let (_c, _busy, r) = feed_submitted_while_busy(Duration::from_millis(200));
        assert!(compressed_within_5s(&r), "never compressed while busy");
    }
}
