//! Asking the disk for many files at once, ahead of parsing them.
//!
//! A full scan on a cold page cache waits on the disk for every file (its
//! inode, then its data). Parsing runs on one thread per core, so read one
//! by one that is only as many requests in flight as cores, far fewer than
//! a disk serves at once. [`prefetch`] keeps [`DEPTH`]
//! opens in flight and asks the kernel to start reading each file's data
//! (`posix_fadvise(WILLNEED)`, which does not wait for it), so the parsers
//! then find the bytes in the page cache. Nothing is read into this
//! process: memory stays where it was.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Files opened at once: past a few dozen, a cold start gets no faster.
pub const DEPTH: usize = 32;

/// Warms the page cache for `files`; returns when every one was asked for.
/// Errors are ignored: the parser meets the same file and reports it.
pub fn prefetch(files: &[PathBuf]) {
    let next = AtomicUsize::new(0);
    let work = || {
        while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
            advise(path);
        }
    };
    std::thread::scope(|s| {
        for _ in 0..DEPTH.min(files.len()) {
            let spawned = std::thread::Builder::new()
                .name("wirefeed-prefetch".into())
                .stack_size(64 * 1024)
                .spawn_scoped(s, work);
            if spawned.is_err() {
                break; // fewer threads in flight: slower, not wrong
            }
        }
    });
}

fn advise(path: &Path) {
    // Never blocking (a FIFO), never through a link, as articles are read.
    use std::os::unix::fs::OpenOptionsExt;
    let opened = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK | libc::O_NOFOLLOW)
        .open(path);
    let Ok(file) = opened else {
        return;
    };
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        // SAFETY: the descriptor is open for the whole call; the advice
        // only schedules reads into the page cache.
        unsafe {
            libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_WILLNEED);
        }
    }
    drop(file);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefetching_never_blocks_or_fails_on_odd_entries() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = dir.path().join("a.txt");
        std::fs::write(&real, "Title\n").expect("write");
        let pipe = dir.path().join("pipe.txt");
        let status = std::process::Command::new("mkfifo").arg(&pipe).status();
        assert!(status.is_ok_and(|s| s.success()), "mkfifo");
        // A pipe would block a plain open until a writer came: the scan
        // would hang. A missing file and a directory are skipped.
        let files = vec![real, pipe, dir.path().join("gone.txt"), dir.path().into()];
        prefetch(&files);
        prefetch(&[]);
    }
}
