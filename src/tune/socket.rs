//! Each connection's kernel send buffer, fixed instead of autotuned.

/// Left to autotuning, a connection starts small, and a compressed feed
/// leaves in several writes with a wake-up between each; fixed (only bytes
/// in flight use memory), one write sends it.
const SEND_BUFFER: usize = 256 * 1024;

/// Sizes the send buffer of the connections `listener` accepts (they
/// inherit it); if the kernel refuses, its default stays.
pub fn size_send_buffer(listener: &std::net::TcpListener) {
    if let Err(e) = socket2::SockRef::from(listener).set_send_buffer_size(SEND_BUFFER) {
        tracing::warn!(error = %e, "cannot size the send buffer; the kernel's default stays");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn served_connections_get_the_larger_send_buffer() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        size_send_buffer(&listener);
        let addr = listener.local_addr().expect("addr");
        let _client = std::net::TcpStream::connect(addr).expect("connect");
        let (conn, _) = listener.accept().expect("accept");
        let size = socket2::SockRef::from(&conn)
            .send_buffer_size()
            .expect("SO_SNDBUF");
        assert!(
            size >= SEND_BUFFER,
            "accepted connection's SO_SNDBUF is {size}"
        );
    }
}
