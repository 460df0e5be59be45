//! Watches the articles directory and reports settled paths.
//!
//! `notify` (inotify on Linux, or polling when `articles.poll_interval` is
//! set) reports raw events; a path is only reported once it is *settled*:
//!
//! - written and closed (inotify `IN_CLOSE_WRITE`): a file written in
//!   several chunks is read once, complete;
//! - renamed or moved in or out, removed, or a directory created: at once;
//! - otherwise (no close event: polling, mmap writers, `touch`) once its
//!   size and mtime stayed unchanged for `articles.settle`;
//!
//! and then once no event came for it for `articles.debounce` (so a burst on
//! one path is read once). This is what `notify-debouncer-full` did, less
//! what we do not use (rename pairing: the catalog recognises moved
//! content itself); without it, the events our own reads cause (inotify
//! `IN_OPEN`) are dropped in notify's thread instead of being queued,
//! timed and sorted.
//!
//! An event-queue overflow or a watcher error asks for a full rescan. The
//! directory itself is checked every second: if it is removed, or replaced
//! by a new one, the watch is set up again and a rescan is asked for. If
//! inotify cannot be used (watch limit reached: ENOSPC; no inotify under
//! emulation: ENOSYS), the watcher falls back to polling.

use std::collections::VecDeque;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use foldhash::{HashMap, HashMapExt};
use notify::event::{AccessKind, AccessMode, CreateKind, ModifyKind};
use notify::{EventKind, PollWatcher, RecommendedWatcher, RecursiveMode, Watcher as _};

const TICK: Duration = Duration::from_millis(10);
/// How long the watcher lets events gather once one has come.
const GATHER: Duration = Duration::from_millis(1);
const ROOT_CHECK: Duration = Duration::from_secs(1);
/// Fallback poll interval when inotify cannot be used.
const FALLBACK_POLL: Duration = Duration::from_secs(2);

#[derive(Debug)]
pub enum WatchMsg {
    /// Settled paths (files or directories, existing or not), and when the
    /// earliest of their events happened.
    Changed { paths: Vec<PathBuf>, since: Instant },
    /// Something may have been missed: compare the whole tree.
    Rescan { reason: String },
}

#[derive(Debug, Clone)]
pub struct WatchOptions {
    pub root: PathBuf,
    pub debounce: Duration,
    pub settle: Duration,
    pub poll_interval: Option<Duration>,
}

/// Stops the watcher thread when dropped.
pub struct WatchHandle {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Drop for WatchHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Starts watching `opts.root`; `send` gets every message (from the
/// watcher thread). Returns once the watch is in place (or has failed and
/// will be retried): every change from then on is reported (the daemon
/// compares the tree with its catalog right after, for what came before).
pub fn spawn(
    opts: WatchOptions,
    send: impl Fn(WatchMsg) + Send + 'static,
) -> std::io::Result<WatchHandle> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    let (ready_tx, ready_rx) = mpsc::channel();
    let thread = std::thread::Builder::new()
        .name("wirefeed-watch".into())
        .spawn(move || Watcher::new(opts).run(&flag, &send, ready_tx))?;
    let _ = ready_rx.recv_timeout(Duration::from_secs(10));
    Ok(WatchHandle {
        stop,
        thread: Some(thread),
    })
}

/// A path seen written but not closed yet.
struct Writing {
    stat: Option<(u64, SystemTime)>,
    stable_since: Instant,
    since: Instant,
}

/// A settled path waiting for `debounce` without events.
struct Quieting {
    /// Its first event (how late the change is when it is published).
    since: Instant,
    /// Its latest event.
    last: Instant,
}

struct Watcher {
    opts: WatchOptions,
    poll: Option<Duration>,
    /// The live notify watcher (dropping it stops the OS watch).
    os_watch: Option<Box<dyn notify::Watcher + Send>>,
    root_id: Option<(u64, u64)>,
    /// An event said the root itself went away: check it now, even if a
    /// new directory took over the same inode number (ext4 reuses them
    /// at once, so `root_id` alone cannot tell `rm -rf; mkdir` apart).
    root_gone: bool,
    writing: HashMap<PathBuf, Writing>,
    ready: HashMap<PathBuf, Quieting>,
    /// `ready` paths by latest event, oldest first; an entry whose time is
    /// no longer its path's `last` is stale and skipped.
    due: VecDeque<(Instant, PathBuf)>,
}

impl Watcher {
    fn new(opts: WatchOptions) -> Self {
        Watcher {
            poll: opts.poll_interval,
            opts,
            os_watch: None,
            root_id: None,
            root_gone: false,
            writing: HashMap::new(),
            ready: HashMap::new(),
            due: VecDeque::new(),
        }
    }

    fn run(mut self, stop: &AtomicBool, send: &dyn Fn(WatchMsg), ready: mpsc::Sender<()>) {
        let (tx, rx) = mpsc::channel::<notify::Result<notify::Event>>();
        let mut last_root_check = Instant::now() - ROOT_CHECK;
        let mut first = true;
        while !stop.load(Ordering::Acquire) {
            if last_root_check.elapsed() >= ROOT_CHECK || self.root_gone {
                last_root_check = Instant::now();
                self.check_root(&tx, send, first);
                if first {
                    let _ = ready.send(());
                }
                first = false;
            }
            // Wake for the next due path, the settle check or the root check.
            let wait = self.due.front().map_or(TICK, |(last, _)| {
                (*last + self.opts.debounce)
                    .saturating_duration_since(Instant::now())
                    .min(TICK)
            });
            match rx.recv_timeout(wait) {
                Ok(first) => {
                    // Events come in runs (a save is a create, writes and a
                    // close; a copied folder is thousands): a moment's wait
                    // takes a run in with one wake-up instead of one per
                    // event.
                    std::thread::sleep(GATHER);
                    let now = Instant::now();
                    for event in std::iter::once(first).chain(rx.try_iter()) {
                        match event {
                            Ok(ev) => self.classify(ev, now, send),
                            Err(e) => {
                                let reason = e.to_string();
                                tracing::warn!(%reason, "watcher error; rescanning");
                                send(WatchMsg::Rescan { reason });
                            }
                        }
                    }
                }
                Err(RecvTimeoutError::Timeout) | Err(RecvTimeoutError::Disconnected) => {}
            }
            if !self.writing.is_empty() {
                self.settle();
            }
            if let Some((paths, since)) = self.take_due(Instant::now()) {
                send(WatchMsg::Changed { paths, since });
            }
        }
    }

    /// A settled path: due once `debounce` passed without another event.
    fn mark_ready(&mut self, path: PathBuf, since: Instant, now: Instant) {
        let q = self
            .ready
            .entry(path.clone())
            .or_insert(Quieting { since, last: now });
        q.since = q.since.min(since);
        q.last = now;
        self.due.push_back((now, path));
    }

    /// The ready paths that had `debounce` of quiet by `now`, and the
    /// earliest event among them.
    fn take_due(&mut self, now: Instant) -> Option<(Vec<PathBuf>, Instant)> {
        let mut paths = Vec::new();
        let mut since = now;
        while let Some((last, _)) = self.due.front() {
            if now.saturating_duration_since(*last) < self.opts.debounce {
                break;
            }
            let Some((last, path)) = self.due.pop_front() else {
                break;
            };
            if self.ready.get(&path).is_some_and(|q| q.last == last) {
                if let Some(q) = self.ready.remove(&path) {
                    since = since.min(q.since);
                    paths.push(path);
                }
            }
        }
        (!paths.is_empty()).then_some((paths, since))
    }

    /// (Re)establishes the watch when the root appeared, vanished or was
    /// replaced.
    fn check_root(
        &mut self,
        tx: &mpsc::Sender<notify::Result<notify::Event>>,
        send: &dyn Fn(WatchMsg),
        first: bool,
    ) {
        let id = std::fs::metadata(&self.opts.root)
            .ok()
            .filter(|m| m.is_dir())
            .map(|m| (m.dev(), m.ino()));
        let forced = std::mem::take(&mut self.root_gone);
        if !forced && id == self.root_id && (self.os_watch.is_some() || id.is_none()) {
            return;
        }
        self.os_watch = None;
        let was_watching = self.root_id.is_some();
        self.root_id = id;
        if id.is_none() {
            tracing::warn!(dir = %self.opts.root.display(), "articles directory is missing; waiting for it");
            if was_watching {
                send(WatchMsg::Rescan {
                    reason: "articles directory removed".into(),
                });
            }
            return;
        }
        match self.watch(tx.clone()) {
            Ok(w) => self.os_watch = Some(w),
            Err(e) if self.poll.is_none() && falls_back_to_polling(&e) => {
                tracing::warn!(error = %e, "inotify unavailable (watch limit fs.inotify.max_user_watches reached, or no inotify here); polling every {:?} instead", FALLBACK_POLL);
                self.poll = Some(FALLBACK_POLL);
                match self.watch(tx.clone()) {
                    Ok(w) => self.os_watch = Some(w),
                    Err(e) => tracing::error!(error = %e, "cannot watch the articles directory"),
                }
            }
            Err(e) => {
                tracing::error!(error = %e, dir = %self.opts.root.display(), "cannot watch the articles directory; retrying");
                self.root_id = None;
            }
        }
        if !first {
            send(WatchMsg::Rescan {
                reason: "articles directory (re)appeared".into(),
            });
        }
    }

    fn watch(
        &self,
        tx: mpsc::Sender<notify::Result<notify::Event>>,
    ) -> notify::Result<Box<dyn notify::Watcher + Send>> {
        // Runs on notify's thread for every event: what can never be a
        // change is dropped here, before it costs a wake-up of ours.
        let handler = move |event: notify::Result<notify::Event>| {
            batch_priority_once();
            if event.as_ref().is_ok_and(is_noise) {
                return;
            }
            let _ = tx.send(event);
        };
        let mut watcher: Box<dyn notify::Watcher + Send> = match self.poll {
            // compare_contents: same-second rewrites keep the mtime seconds
            // unchanged; hashing notices them.
            Some(interval) => Box::new(PollWatcher::new(
                handler,
                notify::Config::default()
                    .with_poll_interval(interval)
                    .with_compare_contents(true),
            )?),
            None => Box::new(RecommendedWatcher::new(handler, notify::Config::default())?),
        };
        watcher.watch(&self.opts.root, RecursiveMode::Recursive)?;
        Ok(watcher)
    }

    fn classify(&mut self, ev: notify::Event, time: Instant, send: &dyn Fn(WatchMsg)) {
        if ev.need_rescan() {
            send(WatchMsg::Rescan {
                reason: "event queue overflowed".into(),
            });
            return;
        }
        if is_noise(&ev) {
            return;
        }
        if matches!(
            ev.kind,
            EventKind::Remove(_) | EventKind::Modify(ModifyKind::Name(_))
        ) && ev.paths.iter().any(|p| p == &self.opts.root)
        {
            self.root_gone = true;
        }
        let settled_now = match ev.kind {
            EventKind::Access(_) => true, // a close after writing
            EventKind::Create(CreateKind::Folder) => true,
            EventKind::Modify(ModifyKind::Name(_)) | EventKind::Remove(_) => true,
            _ => false,
        };
        // A mode or time set on a file nobody is writing (`cp -p`, Python's
        // `shutil.copy`, `install` do it right after the close): its bytes
        // are complete, no need to wait for it to hold still.
        let metadata = matches!(ev.kind, EventKind::Modify(ModifyKind::Metadata(_)));
        for path in ev.paths {
            if settled_now || (metadata && !self.writing.contains_key(&path)) {
                let since = self.writing.remove(&path).map_or(time, |w| w.since);
                self.mark_ready(path, since, time);
            } else {
                // Written again: no longer ready, wait for the close.
                let since = self.ready.remove(&path).map_or(time, |q| q.since);
                let w = self.writing.entry(path).or_insert(Writing {
                    stat: None,
                    stable_since: time,
                    since,
                });
                w.stable_since = time;
            }
        }
    }

    /// Paths without a close event are ready once their size and mtime held
    /// still for `settle` (or once they are gone).
    fn settle(&mut self) {
        let settle = match self.poll {
            Some(p) => self.opts.settle.min(p),
            None => self.opts.settle,
        };
        let now = Instant::now();
        let mut done = Vec::new();
        for (path, w) in self.writing.iter_mut() {
            let stat = std::fs::symlink_metadata(path)
                .ok()
                .map(|m| (m.len(), m.modified().unwrap_or(SystemTime::UNIX_EPOCH)));
            if stat.is_none() {
                done.push(path.clone());
                continue;
            }
            if stat != w.stat {
                w.stat = stat;
                w.stable_since = now;
            } else if now.duration_since(w.stable_since) >= settle {
                done.push(path.clone());
            }
        }
        for path in done {
            if let Some(w) = self.writing.remove(&path) {
                self.mark_ready(path, w.since, now);
            }
        }
    }
}

/// Events that never mean a change: opening and reading (our own reads
/// cause them), and kinds with nothing to act on. An overflow is never
/// noise.
fn is_noise(ev: &notify::Event) -> bool {
    if ev.need_rescan() {
        return false;
    }
    match ev.kind {
        EventKind::Access(AccessKind::Close(AccessMode::Write)) => false,
        EventKind::Access(_) | EventKind::Other | EventKind::Any => true,
        _ => false,
    }
}

/// Could a file last modified at `mtime` still have been being written at
/// `now`? Yes if it changed within `settle` before (or, clocks being coarse,
/// after) `now`; a date further ahead was set, not written.
pub(crate) fn maybe_being_written(mtime: SystemTime, now: SystemTime, settle: Duration) -> bool {
    match now.duration_since(mtime) {
        Ok(age) => age < settle,
        Err(ahead) => ahead.duration() < settle,
    }
}

/// Waits until none of `paths` may still be being written (its mtime moved
/// within `settle` of now: see [`maybe_being_written`]), for at most `most`.
/// Returns whether they all held still. Start-up reads what changed just
/// before it this way: no event will tell when such a file is complete.
pub(crate) fn wait_until_settled(paths: &[PathBuf], settle: Duration, most: Duration) -> bool {
    let deadline = Instant::now() + most;
    loop {
        let now = SystemTime::now();
        let newest = paths
            .iter()
            .filter_map(|p| std::fs::symlink_metadata(p).and_then(|m| m.modified()).ok())
            .filter(|&t| maybe_being_written(t, now, settle))
            .max();
        let Some(newest) = newest else {
            return true;
        };
        let left = (newest + settle)
            .duration_since(now)
            .unwrap_or_default()
            .max(TICK);
        if Instant::now() + left > deadline {
            std::thread::sleep(deadline.saturating_duration_since(Instant::now()));
            return false;
        }
        std::thread::sleep(left);
    }
}

/// ENOSPC (inotify watch limit) and ENOSYS (no inotify, e.g. under qemu).
fn falls_back_to_polling(e: &notify::Error) -> bool {
    match &e.kind {
        notify::ErrorKind::MaxFilesWatch => true,
        notify::ErrorKind::Io(io) => matches!(io.raw_os_error(), Some(28) | Some(38)),
        _ => false,
    }
}

/// Puts the calling thread (notify's: the event handler runs on it) under
/// `SCHED_BATCH` ([`crate::tune::sched`]), once per thread: inotify reports
/// each of our own reads of an article (`IN_OPEN`, which notify 8 always
/// watches for), and a wake-up for each must not preempt the parsing
/// threads; a batch thread runs at the next scheduling point (well within
/// the debounce window) and then takes many events at once.
fn batch_priority_once() {
    thread_local!(static DONE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) });
    if DONE.with(|done| done.replace(true)) {
        return;
    }
    crate::tune::sched::batch();
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{Flag, RemoveKind};
    use std::cell::RefCell;

    fn watcher() -> Watcher {
        Watcher::new(WatchOptions {
            root: PathBuf::from("/nonexistent"),
            debounce: Duration::from_millis(20),
            settle: Duration::from_secs(1),
            poll_interval: None,
        })
    }

    /// Scheduling policy of each thread of this process named like notify's.
    #[cfg(all(target_os = "linux", feature = "tune"))]
    fn notify_thread_policies() -> Vec<i32> {
        let tasks = std::fs::read_dir("/proc/self/task").expect("tasks");
        tasks
            .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("stat")).ok())
            .filter(|stat| stat.contains("(notify-rs inoti"))
            // Field 41 (policy), the 39th after the name's closing parenthesis.
            .filter_map(|stat| {
                stat.rsplit_once(')')?
                    .1
                    .split_whitespace()
                    .nth(38)?
                    .parse()
                    .ok()
            })
            .collect()
    }

    #[cfg(all(target_os = "linux", feature = "tune"))]
    #[test]
    fn notify_thread_does_not_preempt_the_parse_once_it_reported_an_event() {
        let dir = tempfile::tempdir().expect("tempdir");
        let (tx, rx) = mpsc::channel();
        let opts = WatchOptions {
            root: dir.path().to_path_buf(),
            debounce: Duration::from_millis(5),
            settle: Duration::from_secs(1),
            poll_interval: None,
        };
        let _handle = spawn(opts, move |m| {
            let _ = tx.send(m);
        })
        .expect("watch");
        std::fs::write(dir.path().join("a.txt"), "Title\nBody.\n").expect("write");
        let got = rx.recv_timeout(Duration::from_secs(10));
        assert!(matches!(got, Ok(WatchMsg::Changed { .. })), "{got:?}");
        assert_eq!(notify_thread_policies(), vec![libc::SCHED_BATCH]);
    }

    #[test]
    fn an_event_queue_overflow_asks_for_a_full_rescan() {
        let sent = RefCell::new(Vec::new());
        let mut w = watcher();
        let overflow = notify::Event::new(EventKind::Other).set_flag(Flag::Rescan);
        w.classify(overflow, Instant::now(), &|m| sent.borrow_mut().push(m));
        assert!(matches!(
            sent.borrow().as_slice(),
            [WatchMsg::Rescan { .. }]
        ));
    }

    #[test]
    fn written_files_wait_for_close_and_our_own_reads_are_ignored() {
        let mut w = watcher();
        let ev = |kind| notify::Event::new(kind).add_path(PathBuf::from("/a/x.txt"));
        let none = |_: WatchMsg| {};
        w.classify(
            ev(EventKind::Create(CreateKind::File)),
            Instant::now(),
            &none,
        );
        w.classify(
            ev(EventKind::Modify(ModifyKind::Data(
                notify::event::DataChange::Any,
            ))),
            Instant::now(),
            &none,
        );
        assert!(w.ready.is_empty(), "still being written");
        w.classify(
            ev(EventKind::Access(AccessKind::Open(AccessMode::Any))),
            Instant::now(),
            &none,
        );
        assert!(w.ready.is_empty(), "opening (our own read) is no change");
        w.classify(
            ev(EventKind::Access(AccessKind::Close(AccessMode::Write))),
            Instant::now(),
            &none,
        );
        assert_eq!(w.ready.len(), 1, "closed after writing: ready");
        assert!(w.writing.is_empty());
        w.ready.clear();
        w.classify(
            ev(EventKind::Remove(RemoveKind::File)),
            Instant::now(),
            &none,
        );
        assert_eq!(w.ready.len(), 1, "a removal is ready at once");
    }

    #[test]
    fn a_path_is_handed_over_after_a_quiet_debounce_window() {
        let mut w = watcher(); // debounce 20 ms
        let none = |_: WatchMsg| {};
        let ms = Duration::from_millis;
        let (x, y) = (PathBuf::from("/a/x.txt"), PathBuf::from("/a/y.txt"));
        let closed = |p: &PathBuf| {
            notify::Event::new(EventKind::Access(AccessKind::Close(AccessMode::Write)))
                .add_path(p.clone())
        };
        let t0 = Instant::now();
        w.classify(closed(&x), t0, &none);
        w.classify(closed(&y), t0 + ms(5), &none);
        assert!(w.take_due(t0 + ms(19)).is_none(), "x is within its window");
        w.classify(closed(&x), t0 + ms(15), &none); // saved again: x waits anew
        let (paths, since) = w.take_due(t0 + ms(26)).expect("y is due");
        assert_eq!((paths, since), (vec![y], t0 + ms(5)));
        let (paths, since) = w.take_due(t0 + ms(35)).expect("x is due");
        assert_eq!(paths, vec![x.clone()], "once, however often it was saved");
        assert_eq!(since, t0, "its lag counts from its first event");
        assert!(w.take_due(t0 + ms(100)).is_none());

        // Closed, then written again: it waits for the next close.
        w.classify(closed(&x), t0 + ms(100), &none);
        w.classify(
            notify::Event::new(EventKind::Modify(ModifyKind::Data(
                notify::event::DataChange::Any,
            )))
            .add_path(x.clone()),
            t0 + ms(101),
            &none,
        );
        assert!(w.take_due(t0 + ms(200)).is_none(), "being written");
        assert!(w.writing.contains_key(&x));
    }

    #[test]
    fn a_mode_set_after_the_close_does_not_wait_for_the_file_to_hold_still() {
        let mut w = watcher(); // debounce 20 ms, settle 1 s
        let none = |_: WatchMsg| {};
        let ms = Duration::from_millis;
        let x = PathBuf::from("/a/x.txt");
        let event = |kind| notify::Event::new(kind).add_path(x.clone());
        let chmod = || {
            event(EventKind::Modify(ModifyKind::Metadata(
                notify::event::MetadataKind::Permissions,
            )))
        };
        let t0 = Instant::now();
        w.classify(
            event(EventKind::Access(AccessKind::Close(AccessMode::Write))),
            t0,
            &none,
        );
        w.classify(chmod(), t0 + ms(1), &none);
        let (paths, since) = w.take_due(t0 + ms(30)).expect("due after the debounce");
        assert_eq!((paths, since), (vec![x.clone()], t0));
        // While it is being written, a mode change waits for the close.
        let data = EventKind::Modify(ModifyKind::Data(notify::event::DataChange::Any));
        w.classify(event(data), t0 + ms(100), &none);
        w.classify(chmod(), t0 + ms(101), &none);
        assert!(w.take_due(t0 + ms(200)).is_none(), "being written");
        assert!(w.writing.contains_key(&x));
    }

    #[test]
    fn start_up_waits_for_a_fresh_file_to_hold_still() {
        let dir = tempfile::tempdir().expect("tempdir");
        let x = dir.path().join("x.txt");
        std::fs::write(&x, "first chunk").expect("write");
        let settle = Duration::from_millis(300);
        let writer = {
            let x = x.clone();
            std::thread::spawn(move || {
                for chunk in 0..4 {
                    std::thread::sleep(Duration::from_millis(100));
                    let text = format!("first chunk{}", ", more".repeat(chunk + 1));
                    std::fs::write(&x, text).expect("rewrite");
                }
            })
        };
        let started = Instant::now();
        assert!(wait_until_settled(
            std::slice::from_ref(&x),
            settle,
            Duration::from_secs(5)
        ));
        let _ = writer.join();
        assert!(
            started.elapsed() >= Duration::from_millis(400) + settle - TICK,
            "returned while it was still being written: {:?}",
            started.elapsed()
        );
        let text = std::fs::read_to_string(&x).expect("read");
        assert_eq!(text.matches(", more").count(), 4, "{text}");
        // One that keeps changing past the limit: false, after the limit.
        assert!(!wait_until_settled(
            std::slice::from_ref(&x),
            Duration::from_secs(3600),
            Duration::from_millis(50)
        ));
    }

    #[test]
    fn only_a_recent_mtime_means_maybe_still_being_written() {
        let now = SystemTime::now();
        let s = Duration::from_secs;
        assert!(maybe_being_written(
            now - Duration::from_millis(300),
            now,
            s(1)
        ));
        assert!(!maybe_being_written(now - s(2), now, s(1)), "held still");
        assert!(
            maybe_being_written(now + Duration::from_millis(5), now, s(1)),
            "a coarse clock a tick ahead"
        );
        assert!(
            !maybe_being_written(now + s(86_400), now, s(1)),
            "a date set ahead"
        );
    }

    #[test]
    fn the_root_removed_forces_a_root_check_at_once() {
        // `rm -rf dir; mkdir dir` within a second can give the new directory
        // the old inode number: only the event tells the watch is dead.
        let mut w = watcher();
        let none = |_: WatchMsg| {};
        let gone = notify::Event::new(EventKind::Remove(RemoveKind::Folder))
            .add_path(PathBuf::from("/nonexistent"));
        w.classify(gone, Instant::now(), &none);
        assert!(w.root_gone);
    }
}
