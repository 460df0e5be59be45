//! The whole tree read in one pipeline: the disk asked for the next chunk
//! of files while the current one is read and parsed on all cores and the
//! one before is applied, so a whole archive is never in memory at once.

use std::path::{Path, PathBuf};

use rayon::prelude::*;

use crate::tune;

/// Files read and parsed before they are applied: enough to keep both
/// cores busy, few enough that the parsed articles stay a few MB.
pub const SCAN_CHUNK: usize = 2048;

/// Calls `read` on every file (in parallel, a chunk at a time) and hands
/// each chunk's results to `apply`, in order, on the calling thread.
pub fn scan<T: Send>(
    files: Vec<PathBuf>,
    read: impl Fn(&Path) -> T + Sync,
    mut apply: impl FnMut(Vec<T>),
) {
    let mut files = files.into_iter();
    let mut take = || -> Vec<PathBuf> { files.by_ref().take(SCAN_CHUNK).collect() };
    let read_all = |chunk: &[PathBuf]| -> Vec<T> { chunk.par_iter().map(|p| read(p)).collect() };
    let first = take();
    tune::prefetch::prefetch(&first);
    let mut ahead = take();
    let mut done = std::thread::scope(|s| {
        s.spawn(|| tune::prefetch::prefetch(&ahead));
        read_all(&first)
    });
    while !done.is_empty() {
        let incoming = take();
        let next = std::thread::scope(|s| {
            s.spawn(|| tune::prefetch::prefetch(&incoming));
            // Reading on a thread of its own (in rayon's global pool)
            // while this one applies: one thread more than cores fills
            // the gaps when either stage waits.
            let reader = s.spawn(|| read_all(&ahead));
            apply(std::mem::take(&mut done));
            reader
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
        });
        done = next;
        ahead = incoming;
    }
}
