//! Compressed bodies the kernel sends without a copy, as nginx sends files.
//!
//! nginx answers a `gzip_static` request with `sendfile(2)`: the socket
//! takes references to the page-cache pages. A body in our heap is copied
//! into the socket on every response instead, a large part of a serving
//! thread's work for a big feed. So each compressed body is written once into a
//! sealed memfd (its pages can never change again) and mapped read-only;
//! [`sealed`] returns a [`Bytes`] over that mapping and notes the range.
//! [`SendfileStream`], the connection type the server hands to hyper,
//! looks up every buffer hyper writes: one that lies in a sealed body goes
//! out with `sendfile` from the memfd, everything else (headers, identity
//! and per-request bodies) as usual. hyper still writes every byte of
//! HTTP; only how the body's bytes reach the socket changes.
//!
//! Wherever a memfd cannot be had (old kernel, a sandbox without
//! `memfd_create`), [`sealed`] falls back to a heap [`Bytes`] and the stream
//! never finds it: the same bytes go out the usual way.

use std::collections::BTreeMap;
use std::io::{self, IoSlice};
use std::os::fd::{AsFd, OwnedFd};
use std::pin::Pin;
use std::sync::{Arc, RwLock};
use std::task::{ready, Context, Poll};

use bytes::Bytes;
use rustix::fs::{MemfdFlags, SealFlags};
use rustix::mm::{MapFlags, ProtFlags};
use rustix::net::SendFlags;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;

/// Smaller bodies are copied: below this a copy costs less than the page
/// references and the lookup.
pub const MIN_BYTES: usize = 16 * 1024;

/// Sealed bodies by mapping address: (length, memfd).
type Registry = BTreeMap<usize, (usize, Arc<OwnedFd>)>;

fn registry() -> &'static RwLock<Registry> {
    static REGISTRY: RwLock<Registry> = RwLock::new(BTreeMap::new());
    &REGISTRY
}

/// `data` as bytes the server can `sendfile` (or as plain bytes when it is
/// small or no memfd can be made).
pub fn sealed(data: Vec<u8>) -> Bytes {
    if data.len() < MIN_BYTES {
        return Bytes::from(data);
    }
    match Sealed::new(&data) {
        Ok(s) => Bytes::from_owner(s),
        Err(e) => {
            tracing::debug!(error = %e, "no memfd for a body; it is copied on each send");
            Bytes::from(data)
        }
    }
}

/// The memfd holding a sealed buffer, and the buffer's offset in it.
type Sealing = (Arc<OwnedFd>, u64);

/// The memfd and offset holding `buf`, if `buf` lies within a sealed body.
fn find(buf: &[u8]) -> Option<Sealing> {
    if buf.len() < MIN_BYTES {
        return None;
    }
    let start = buf.as_ptr() as usize;
    let map = registry().read().ok()?;
    let (&base, (len, fd)) = map.range(..=start).next_back()?;
    (start + buf.len() <= base + len).then(|| (fd.clone(), (start - base) as u64))
}

/// A read-only shared mapping of a sealed memfd.
struct Sealed {
    /// Address of the mapping (a `usize`: the owner must be `Send`).
    addr: usize,
    len: usize,
}

impl Sealed {
    fn new(data: &[u8]) -> io::Result<Self> {
        let fd = rustix::fs::memfd_create(
            "wirefeed-body",
            MemfdFlags::CLOEXEC | MemfdFlags::ALLOW_SEALING,
        )?;
        let mut rest = data;
        while !rest.is_empty() {
            let n = rustix::io::write(&fd, rest)?;
            rest = &rest[n..];
        }
        rustix::fs::fcntl_add_seals(
            &fd,
            SealFlags::WRITE | SealFlags::SHRINK | SealFlags::GROW | SealFlags::SEAL,
        )?;
        // SAFETY: a fresh read-only shared mapping of a file of exactly
        // `data.len()` bytes that the seals keep from changing or shrinking;
        // it is unmapped only in `Drop`.
        let ptr = unsafe {
            rustix::mm::mmap(
                std::ptr::null_mut(),
                data.len(),
                ProtFlags::READ,
                MapFlags::SHARED,
                &fd,
                0,
            )?
        };
        let sealed = Sealed {
            addr: ptr as usize,
            len: data.len(),
        };
        let mut map = registry()
            .write()
            .map_err(|_| io::Error::other("body registry poisoned"))?;
        map.insert(sealed.addr, (sealed.len, Arc::new(fd)));
        Ok(sealed)
    }
}

impl AsRef<[u8]> for Sealed {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: the mapping is `len` readable bytes, alive until `Drop`,
        // and sealed against writes.
        unsafe { std::slice::from_raw_parts(self.addr as *const u8, self.len) }
    }
}

impl Drop for Sealed {
    fn drop(&mut self) {
        if let Ok(mut map) = registry().write() {
            map.remove(&self.addr);
        }
        // SAFETY: our own mapping; no slice of it outlives the owner (Bytes
        // drops its owner after the last reference). Pages already handed
        // to a socket stay referenced by it.
        let _ = unsafe { rustix::mm::munmap(self.addr as *mut _, self.len) };
    }
}

/// The connection type the server hands to hyper.
pub fn stream(stream: TcpStream) -> SendfileStream {
    SendfileStream::new(stream)
}

/// A served connection: like a [`TcpStream`], except that a buffer lying in
/// a [`sealed`] body is sent with `sendfile`.
pub struct SendfileStream(TcpStream);

impl SendfileStream {
    pub fn new(stream: TcpStream) -> Self {
        SendfileStream(stream)
    }

    /// Writes `bufs` in order, stopping at the first short write: plain
    /// buffers with `send(MSG_MORE)` (the body follows at once), sealed ones
    /// with `sendfile`. `WouldBlock` only if nothing was written.
    /// `known` is the first sealed buffer's index and lookup, already made.
    fn send_in_order(&self, bufs: &[IoSlice<'_>], known: &(usize, Sealing)) -> io::Result<usize> {
        let mut sent = 0;
        for (i, buf) in bufs.iter().enumerate() {
            if buf.is_empty() {
                continue;
            }
            let last = bufs[i + 1..].iter().all(|b| b.is_empty());
            let sealed = match i.cmp(&known.0) {
                std::cmp::Ordering::Less => None,
                std::cmp::Ordering::Equal => Some(known.1.clone()),
                std::cmp::Ordering::Greater => find(buf),
            };
            let send = || match &sealed {
                Some((fd, offset)) => {
                    let mut offset = *offset;
                    rustix::fs::sendfile(self.0.as_fd(), fd.as_fd(), Some(&mut offset), buf.len())
                }
                None => {
                    let mut flags = SendFlags::DONTWAIT | SendFlags::NOSIGNAL;
                    if !last {
                        flags |= SendFlags::MORE;
                    }
                    rustix::net::send(self.0.as_fd(), buf, flags)
                }
            };
            match rustix::io::retry_on_intr(send) {
                Ok(n) => {
                    sent += n;
                    if n < buf.len() {
                        break;
                    }
                }
                Err(e) if sent > 0 && e == rustix::io::Errno::AGAIN => break,
                Err(e) => return Err(e.into()),
            }
        }
        Ok(sent)
    }
}

impl AsyncRead for SendfileStream {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_read(cx, buf)
    }
}

impl AsyncWrite for SendfileStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.poll_write_vectored(cx, &[IoSlice::new(buf)])
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let first_sealed = bufs
            .iter()
            .enumerate()
            .find_map(|(i, b)| find(b).map(|found| (i, found)));
        let Some(known) = first_sealed else {
            return Pin::new(&mut self.0).poll_write_vectored(cx, bufs);
        };
        loop {
            ready!(self.0.poll_write_ready(cx))?;
            // `try_io` clears the readiness on WouldBlock, so the next
            // `poll_write_ready` waits for the socket again.
            match self
                .0
                .try_io(Interest::WRITABLE, || self.send_in_order(bufs, &known))
            {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => continue,
                other => return Poll::Ready(other),
            }
        }
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.0).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn body(len: usize) -> Vec<u8> {
        (0..len).map(|i| (i * 31 % 251) as u8).collect()
    }

    #[test]
    fn a_sealed_body_reads_back_and_is_found_until_dropped() {
        let data = body(100_000);
        let bytes = sealed(data.clone());
        assert_eq!(&bytes[..], &data[..]);
        let (_, offset) = find(&bytes[40_000..60_000]).expect("a slice of it is found");
        assert_eq!(offset, 40_000);
        assert!(find(&data).is_none(), "a heap copy is not");
        assert!(
            find(&sealed(body(1000))).is_none(),
            "small bodies stay on the heap"
        );
        let addr = bytes.as_ptr() as usize;
        drop(bytes);
        let gone = registry().read().map(|m| !m.contains_key(&addr));
        assert_eq!(
            gone.ok(),
            Some(true),
            "forgotten once the last reference is gone"
        );
    }

    /// Headers and a sealed body through a small send buffer (many short
    /// writes) arrive complete and in order.
    #[tokio::test]
    async fn headers_then_a_sealed_body_arrive_whole_through_short_writes() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let data = body(3_000_000);
        let bytes = sealed(data.clone());
        assert!(find(&bytes).is_some(), "this machine has memfds");
        let client = tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.expect("connect");
            let mut got = Vec::new();
            s.read_to_end(&mut got).await.expect("read");
            got
        });
        let (stream, _) = listener.accept().await.expect("accept");
        rustix::net::sockopt::set_socket_send_buffer_size(&stream, 8192).expect("sndbuf");
        let mut stream = SendfileStream::new(stream);
        let head = b"HTTP/1.1 200 OK\r\ncontent-length: 3000000\r\n\r\n".to_vec();
        let mut bufs_head = &head[..];
        let mut rest = &bytes[..];
        while !bufs_head.is_empty() || !rest.is_empty() {
            let n = stream
                .write_vectored(&[IoSlice::new(bufs_head), IoSlice::new(rest)])
                .await
                .expect("write");
            assert!(n > 0);
            let from_head = n.min(bufs_head.len());
            bufs_head = &bufs_head[from_head..];
            rest = &rest[n - from_head..];
        }
        stream.shutdown().await.expect("shutdown");
        drop(stream);
        let got = client.await.expect("client");
        assert_eq!(&got[..head.len()], &head[..]);
        assert!(got[head.len()..] == data[..], "the body arrived intact");
    }
}
