//! The allocator's mmap threshold, pinned.

/// glibc raises its mmap threshold to the size of the largest block freed
/// (up to 32 MB), after which big temporary buffers (the file list of a
/// scan, rendered feeds) are carved from the heap between long-lived
/// catalog data, and their pages stay resident once freed. Pinned at the
/// default 128 KiB, they get their own mappings, returned on free: a lower
/// peak RSS after a big start-up scan. Call before any other thread exists.
pub fn pin_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called
    // before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
    }
}
