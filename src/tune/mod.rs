//! Optional speed-ups: the `tune` Cargo feature (on by default). Each is a
//! mechanism a stage calls through one function, with a plain fallback
//! here that does the same job the ordinary way when the feature is off;
//! every `unsafe` block of wirefeed is in this module.
//!
//! - `buffers`: feed bodies' memory reused from one publish to the next
//!   (no page faults for fresh buffers in a burst). Plain: `Vec`.
//! - `zerocopy`: compressed bodies in sealed memfds, sent with
//!   `sendfile` as nginx sends a `gzip_static` file. Plain: copied.
//! - `prefetch`: a cold start-up scan asks the disk for the next files
//!   ahead of parsing them. Plain: read as parsed.
//! - `sched`: notify's thread and the serving threads under Linux
//!   `SCHED_BATCH`. Plain: the normal policy.
//! - `placement`: each connection served by the thread of the CPU its
//!   packets come in on (used by the per-core server). Plain: one
//!   multi-threaded runtime.
//! - `socket`: a fixed send buffer. Plain: the kernel's autotuning.
//! - [`alloc`]: glibc's mmap threshold pinned. Plain: glibc's default.

#[cfg(feature = "tune")]
pub mod alloc;
#[cfg(feature = "tune")]
pub(crate) mod buffers;
#[cfg(feature = "tune")]
pub(crate) mod placement;
#[cfg(feature = "tune")]
pub(crate) mod prefetch;
#[cfg(feature = "tune")]
pub(crate) mod sched;
#[cfg(feature = "tune")]
pub(crate) mod socket;
#[cfg(feature = "tune")]
pub(crate) mod zerocopy;

#[cfg(not(feature = "tune"))]
pub mod alloc {
    pub fn pin_mmap_threshold() {}
}

#[cfg(not(feature = "tune"))]
pub(crate) mod buffers {
    pub fn take(capacity: usize) -> Vec<u8> {
        Vec::with_capacity(capacity)
    }

    pub fn body(bytes: Vec<u8>) -> bytes::Bytes {
        bytes.into()
    }
}

#[cfg(not(feature = "tune"))]
pub(crate) mod prefetch {
    pub fn prefetch(_files: &[std::path::PathBuf]) {}
}

#[cfg(not(feature = "tune"))]
pub(crate) mod sched {
    pub fn batch() {}
}

#[cfg(not(feature = "tune"))]
pub(crate) mod socket {
    pub fn size_send_buffer(_listener: &std::net::TcpListener) {}
}

#[cfg(not(feature = "tune"))]
pub(crate) mod zerocopy {
    pub fn sealed(data: Vec<u8>) -> bytes::Bytes {
        data.into()
    }

    pub fn stream(stream: tokio::net::TcpStream) -> tokio::net::TcpStream {
        stream
    }
}
