//! `wirefeed healthcheck`: the probe a container runs (slim images have no
//! curl).

use std::net::SocketAddr;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use hyper_util::rt::TokioExecutor;

/// `http://<listen>/healthz`, with an unspecified address (`0.0.0.0`)
/// replaced by loopback.
pub fn health_url(listen: SocketAddr) -> String {
    let mut addr = listen;
    if addr.ip().is_unspecified() {
        addr.set_ip(if addr.is_ipv4() {
            std::net::Ipv4Addr::LOCALHOST.into()
        } else {
            std::net::Ipv6Addr::LOCALHOST.into()
        });
    }
    format!("http://{addr}/healthz")
}

/// GETs `url` (2 s timeout): true on a 2xx answer. Used by `wirefeed
/// healthcheck`, since slim container images have no curl.
pub fn probe(url: &str) -> anyhow::Result<bool> {
    let uri: hyper::Uri = url.parse()?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let client = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
            .build_http::<Full<Bytes>>();
        let req = Request::get(uri).body(Full::new(Bytes::new()))?;
        match tokio::time::timeout(Duration::from_secs(2), client.request(req)).await {
            Ok(Ok(resp)) => Ok(resp.status().is_success()),
            Ok(Err(e)) => {
                eprintln!("healthcheck: {url}: {e}");
                Ok(false)
            }
            Err(_) => {
                eprintln!("healthcheck: {url}: no answer within 2 s");
                Ok(false)
            }
        }
    })
}
