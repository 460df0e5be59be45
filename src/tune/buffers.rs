//! Feed bodies' memory, reused from one publish to the next.
//!
//! In a burst every publish writes every feed (a few hundred kB each) and
//! frees the ones they replace. glibc serves blocks that size with fresh
//! `mmap`s, so each new body would be page-faulted in a page at a time.
//! Instead a body's buffer comes back here when its last reader drops it
//! ([`body`]), and the next write fills it ([`take`]), its pages still
//! mapped. At most [`POOL_BYTES`] are kept; the rest is freed.

use std::sync::Mutex;

use bytes::Bytes;

/// Room for one publish of every feed (a few dozen bodies of a few hundred
/// kB).
pub const POOL_BYTES: usize = 16 << 20;
/// Smaller buffers come cheaply from malloc's own free lists.
const MIN_POOLED: usize = 64 << 10;

struct Pool {
    buffers: Vec<Vec<u8>>,
    bytes: usize,
}

static POOL: Mutex<Pool> = Mutex::new(Pool {
    buffers: Vec::new(),
    bytes: 0,
});

/// An empty buffer of at least `capacity` bytes: the smallest kept one
/// that is big enough, else a new one.
pub fn take(capacity: usize) -> Vec<u8> {
    if capacity >= MIN_POOLED {
        if let Ok(mut pool) = POOL.lock() {
            let best = pool
                .buffers
                .iter()
                .enumerate()
                .filter(|(_, b)| b.capacity() >= capacity)
                .min_by_key(|(_, b)| b.capacity())
                .map(|(i, _)| i);
            if let Some(i) = best {
                let buffer = pool.buffers.swap_remove(i);
                pool.bytes -= buffer.capacity();
                return buffer;
            }
        }
    }
    Vec::with_capacity(capacity)
}

/// `bytes` as a shareable body whose buffer returns to the pool when the
/// last clone is dropped.
pub fn body(bytes: Vec<u8>) -> Bytes {
    Bytes::from_owner(Returned(bytes))
}

struct Returned(Vec<u8>);

impl AsRef<[u8]> for Returned {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Drop for Returned {
    fn drop(&mut self) {
        let mut buffer = std::mem::take(&mut self.0);
        if buffer.capacity() < MIN_POOLED {
            return;
        }
        buffer.clear();
        if let Ok(mut pool) = POOL.lock() {
            if pool.bytes + buffer.capacity() <= POOL_BYTES {
                pool.bytes += buffer.capacity();
                pool.buffers.push(buffer);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dropped_body_is_written_into_again_and_the_pool_stays_bounded() {
        // Sizes no other test in this binary pools, so that they cannot
        // take this test's buffers.
        let size = 3 * MIN_POOLED + 17;
        let mut first = take(size);
        first.extend_from_slice(&vec![7u8; size]);
        let address = first.as_ptr();
        let shared = body(first);
        let clone = shared.clone();
        drop(shared);
        // Still read by a clone: not reused yet.
        let other = take(size);
        assert_ne!(other.as_ptr(), address);
        drop(other);
        assert_eq!(clone.len(), size);
        drop(clone);
        let again = take(size);
        assert_eq!(again.as_ptr(), address, "the freed body's buffer");
        assert!(again.is_empty() && again.capacity() >= size);

        // Bodies beyond the bound are freed, not kept.
        let many: Vec<Bytes> = (0..POOL_BYTES / size + 2)
            .map(|_| body(vec![0; size]))
            .collect();
        drop(many);
        let pool = POOL.lock().expect("pool");
        assert!(pool.bytes <= POOL_BYTES);
    }
}
