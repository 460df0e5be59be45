//! Linux scheduling policy for wirefeed's busiest helper threads. It
//! changes only who waits for a core, never what gets done; elsewhere, or
//! if the kernel refuses, a thread keeps the normal policy.

/// Puts the calling thread under `SCHED_BATCH`: a full share of CPU, but
/// its wake-ups never preempt a running thread (it runs at the next
/// scheduling point, and then takes many events or requests at once).
pub fn batch() {
    #[cfg(target_os = "linux")]
    // SAFETY: the parameter struct lives across the call, and 0 names the
    // calling thread; failure only leaves the policy as it was.
    unsafe {
        let param = libc::sched_param { sched_priority: 0 };
        libc::sched_setscheduler(0, libc::SCHED_BATCH, &param);
    }
}
