//! Linux scheduling policies for wirefeed's threads. They change only who waits for a core, never what
//! gets done; elsewhere, or if the kernel refuses, threads keep the normal
//! policy.

/// A thread's scheduling policy.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Policy {
    /// `SCHED_BATCH`: a full share of CPU, but its wake-ups never preempt a
    /// running thread.
    Batch,
}

/// Puts thread `tid` (0: the calling thread) under `policy`.
pub(crate) fn set(tid: i32, policy: Policy) {
    #[cfg(target_os = "linux")]
    {
        let policy = match policy {
            Policy::Batch => libc::SCHED_BATCH,
        };
        // SAFETY: the parameter struct lives across the call, and `tid` is
        // 0 or a thread of this process; failure only leaves the policy
        // as it was.
        unsafe {
            let param = libc::sched_param { sched_priority: 0 };
            libc::sched_setscheduler(tid, policy, &param);
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = (tid, policy);
}
