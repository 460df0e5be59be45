//! WebSub end to end on loopback: a small hub written for the test (a
//! hyper server) records wirefeed's publish pings, verifies a subscriber's
//! intent and distributes the topic it fetched from wirefeed; the test
//! plays that subscriber, finding the hub and the topic from the feed's
//! `Link` headers as a reader would.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::convert::Infallible;
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use common::{eventually, free_port, holds_for, story, wait_until, Daemon, Site};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;

const FEEDS: [&str; 12] = [
    "/feeds/all.rss",
    "/feeds/all.atom",
    "/feeds/all.json",
    "/feeds/world.rss",
    "/feeds/world.atom",
    "/feeds/world.json",
    "/feeds/pakistan.rss",
    "/feeds/pakistan.atom",
    "/feeds/pakistan.json",
    "/feeds/business.rss",
    "/feeds/business.atom",
    "/feeds/business.json",
];

/// One request as the test servers saw it.
struct Req {
    method: hyper::Method,
    query: BTreeMap<String, String>,
    headers: hyper::HeaderMap,
    body: Vec<u8>,
}

impl Req {
    fn form(&self) -> BTreeMap<String, String> {
        url::form_urlencoded::parse(&self.body)
            .into_owned()
            .collect()
    }
}

type Handler = Arc<dyn Fn(Req) -> (u16, String) + Send + Sync>;

/// Serves `handler` on `listener` (HTTP/1.1, hyper) from a thread of its own.
fn serve(listener: TcpListener, handler: Handler) {
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async move {
            listener.set_nonblocking(true).expect("nonblocking");
            let listener = tokio::net::TcpListener::from_std(listener).expect("listener");
            while let Ok((stream, _)) = listener.accept().await {
                let handler = handler.clone();
                tokio::spawn(async move {
                    let svc = service_fn(move |req: hyper::Request<Incoming>| {
                        let handler = handler.clone();
                        async move {
                            let (parts, body) = req.into_parts();
                            let body = body.collect().await.map(|b| b.to_bytes().to_vec());
                            let req = Req {
                                method: parts.method,
                                query: url::form_urlencoded::parse(
                                    parts.uri.query().unwrap_or_default().as_bytes(),
                                )
                                .into_owned()
                                .collect(),
                                headers: parts.headers,
                                body: body.unwrap_or_default(),
                            };
                            let (status, text) = tokio::task::spawn_blocking(move || handler(req))
                                .await
                                .unwrap_or((500, String::new()));
                            let mut resp = hyper::Response::new(Full::new(Bytes::from(text)));
                            *resp.status_mut() =
                                hyper::StatusCode::from_u16(status).expect("status");
                            Ok::<_, Infallible>(resp)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(stream), svc)
                        .await;
                });
            }
        });
    });
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .new_agent()
}

/// A publish ping as the hub received it.
#[derive(Debug, Clone)]
struct Ping {
    topic: String,
    /// `hub.url` and `hub.topic` agree.
    consistent: bool,
    at: Instant,
}

/// The hub: pings received, subscriptions whose intent was verified.
#[derive(Default)]
struct Hub {
    url: String,
    pings: Mutex<Vec<Ping>>,
    /// (topic, callback)
    subscribers: Mutex<Vec<(String, String)>>,
}

impl Hub {
    /// Starts the hub on `port` (WebSub section 5: subscribe, publish).
    fn start(port: u16) -> Arc<Hub> {
        let hub = Arc::new(Hub {
            url: format!("http://127.0.0.1:{port}/"),
            ..Hub::default()
        });
        let listener = TcpListener::bind(("127.0.0.1", port)).expect("bind hub");
        let h = hub.clone();
        serve(listener, Arc::new(move |req| h.handle(req)));
        hub
    }

    fn handle(self: &Arc<Self>, req: Req) -> (u16, String) {
        if req.method != hyper::Method::POST {
            return (405, String::new());
        }
        let form = req.form();
        match form.get("hub.mode").map(String::as_str) {
            Some("publish") => {
                let topic = form.get("hub.topic").or(form.get("hub.url")).cloned();
                let Some(topic) = topic else {
                    return (400, "no topic".into());
                };
                self.pings.lock().unwrap().push(Ping {
                    consistent: form.get("hub.url") == form.get("hub.topic"),
                    topic: topic.clone(),
                    at: Instant::now(),
                });
                let hub = self.clone();
                std::thread::spawn(move || hub.distribute(&topic));
                (204, String::new())
            }
            Some("subscribe") => {
                let (Some(topic), Some(callback)) =
                    (form.get("hub.topic"), form.get("hub.callback"))
                else {
                    return (400, "topic and callback needed".into());
                };
                let (topic, callback) = (topic.clone(), callback.clone());
                let hub = self.clone();
                std::thread::spawn(move || hub.verify(topic, callback));
                (202, String::new())
            }
            _ => (400, "unknown mode".into()),
        }
    }

    /// Intent verification (section 5.3): the subscriber echoes a challenge.
    fn verify(&self, topic: String, callback: String) {
        let challenge = format!("challenge-{}", callback.len() * 7919);
        let resp = agent()
            .get(&callback)
            .query("hub.mode", "subscribe")
            .query("hub.topic", &topic)
            .query("hub.challenge", &challenge)
            .query("hub.lease_seconds", "600")
            .call();
        if let Ok(mut resp) = resp {
            let body = resp.body_mut().read_to_string().unwrap_or_default();
            if resp.status() == 200 && body == challenge {
                self.subscribers.lock().unwrap().push((topic, callback));
            }
        }
    }

    /// Content distribution (section 7): the topic as fetched from the
    /// publisher, to each subscriber of exactly that topic URL.
    fn distribute(&self, topic: &str) {
        let callbacks: Vec<String> = self
            .subscribers
            .lock()
            .unwrap()
            .iter()
            .filter(|(t, _)| t == topic)
            .map(|(_, c)| c.clone())
            .collect();
        if callbacks.is_empty() {
            return;
        }
        let Ok(mut fetched) = agent().get(topic).call() else {
            return;
        };
        let content_type = fetched
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("application/octet-stream")
            .to_string();
        let body = fetched.body_mut().read_to_vec().unwrap_or_default();
        for callback in callbacks {
            let _ = agent()
                .post(&callback)
                .header("content-type", &content_type)
                .header(
                    "link",
                    &format!("<{}>; rel=\"hub\", <{topic}>; rel=\"self\"", self.url),
                )
                .send(&body[..]);
        }
    }

    fn pings(&self) -> Vec<Ping> {
        self.pings.lock().unwrap().clone()
    }

    fn subscribed(&self, topic: &str) -> bool {
        self.subscribers
            .lock()
            .unwrap()
            .iter()
            .any(|(t, _)| t == topic)
    }
}

/// A feed reader subscribed through the hub.
#[derive(Default)]
struct Subscriber {
    callback: String,
    /// Topics it asked for (a verification of any other is refused).
    wanted: Mutex<Vec<String>>,
    /// Deliveries: (the `Link` header, the body).
    received: Mutex<Vec<(String, String)>>,
}

impl Subscriber {
    fn start() -> Arc<Subscriber> {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind subscriber");
        let port = listener.local_addr().expect("addr").port();
        let sub = Arc::new(Subscriber {
            callback: format!("http://127.0.0.1:{port}/callback"),
            ..Subscriber::default()
        });
        let s = sub.clone();
        serve(
            listener,
            Arc::new(move |req: Req| match req.method {
                hyper::Method::GET => {
                    let wanted = s.wanted.lock().unwrap().clone();
                    match (req.query.get("hub.topic"), req.query.get("hub.challenge")) {
                        (Some(topic), Some(challenge)) if wanted.contains(topic) => {
                            (200, challenge.clone())
                        }
                        _ => (404, String::new()),
                    }
                }
                _ => {
                    let link = req
                        .headers
                        .get_all("link")
                        .iter()
                        .filter_map(|v| v.to_str().ok())
                        .collect::<Vec<_>>()
                        .join(", ");
                    let body = String::from_utf8_lossy(&req.body).into_owned();
                    s.received.lock().unwrap().push((link, body));
                    (200, String::new())
                }
            }),
        );
        sub
    }

    /// Subscribes to `topic` at `hub`, as a reader that read both from the
    /// feed's `Link` headers.
    fn subscribe(&self, hub: &str, topic: &str) {
        self.wanted.lock().unwrap().push(topic.to_string());
        let resp = agent()
            .post(hub)
            .send_form([
                ("hub.mode", "subscribe"),
                ("hub.topic", topic),
                ("hub.callback", &self.callback),
            ])
            .expect("subscribe request");
        assert_eq!(resp.status(), 202, "the hub accepts the subscription");
    }
}

/// `<url>; rel="…"` values of the `Link` headers, by rel.
fn links(resp: &common::Resp) -> Vec<(String, String)> {
    resp.headers
        .iter()
        .filter(|(k, _)| k.eq_ignore_ascii_case("link"))
        .flat_map(|(_, v)| {
            v.split(',')
                .map(str::trim)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter_map(|link| {
            let (url, params) = link.split_once(';')?;
            let url = url.trim().strip_prefix('<')?.strip_suffix('>')?.to_string();
            let rel = params
                .trim()
                .strip_prefix("rel=")?
                .trim_matches('"')
                .to_string();
            Some((rel, url))
        })
        .collect()
}

fn site_with_hub(hub_port: u16) -> Site {
    let mut site = Site::new();
    site.hubs = vec![format!("http://127.0.0.1:{hub_port}/")];
    site.write_config();
    for (dir, cat) in [
        ("world", "World"),
        ("pakistan", "Pakistan"),
        ("business", "Business"),
    ] {
        let path = site.article_path(&format!("{dir}/first.txt"));
        std::fs::write(path, story(&format!("First {cat} Story"), cat, dir)).expect("write");
    }
    site
}

fn bodies(d: &Daemon) -> BTreeMap<&'static str, String> {
    FEEDS.iter().map(|&f| (f, d.body(f))).collect()
}

#[test]
fn a_new_article_reaches_a_subscriber_through_the_hub_with_one_ping_per_changed_feed() {
    let hub_port = free_port();
    let hub = Hub::start(hub_port);
    let d = Daemon::start_site(site_with_hub(hub_port));

    // What a reader finds: the hub and the topic, in the headers and the
    // documents, for every feed.
    for feed in FEEDS {
        let resp = d.get(feed);
        let links = links(&resp);
        let hubs: Vec<&str> = links
            .iter()
            .filter(|(r, _)| r == "hub")
            .map(|(_, u)| u.as_str())
            .collect();
        let own: Vec<&str> = links
            .iter()
            .filter(|(r, _)| r == "self")
            .map(|(_, u)| u.as_str())
            .collect();
        assert_eq!(hubs, [hub.url.as_str()], "{feed}: Link rel=hub");
        assert_eq!(
            own,
            [d.url(feed).as_str()],
            "{feed}: exactly one Link rel=self, the feed's URL"
        );
        let body = resp.text();
        let in_document = match feed.rsplit('.').next() {
            Some("json") => {
                let json: serde_json::Value = serde_json::from_str(&body).expect("json");
                json["hubs"] == serde_json::json!([{"type": "WebSub", "url": hub.url}])
            }
            _ => {
                body.contains(&format!("<atom:link href=\"{}\" rel=\"hub\"/>", hub.url))
                    || body.contains(&format!("<link href=\"{}\" rel=\"hub\"/>", hub.url))
            }
        };
        assert!(
            in_document,
            "{feed}: the hub is named in the document:\n{body}"
        );
    }
    // Not on anything but feeds.
    assert!(links(&d.get("/")).is_empty() && links(&d.get("/feeds.opml")).is_empty());

    // A reader subscribes to world.rss through the hub it found there.
    let sub = Subscriber::start();
    let topic = d.url("/feeds/world.rss");
    sub.subscribe(&hub.url, &topic);
    assert!(eventually(|| hub.subscribed(&topic)), "intent verified");

    // The start-up publish pinged every feed once; wait for it to end.
    assert!(
        eventually(|| hub.pings().len() >= FEEDS.len()),
        "start-up pings: {:?}",
        hub.pings()
    );
    let settled = || {
        let n = hub.pings().len();
        holds_for(|| hub.pings().len() == n, Duration::from_millis(1500))
    };
    assert!(wait_until(settled, Duration::from_secs(10)));
    let before = bodies(&d);
    let seen = hub.pings().len();

    let written = Instant::now();
    d.write_article(
        "world/second.txt",
        &story("Harbour Deal Signed", "World", "harbour"),
    );
    d.wait_feed("/feeds/world.rss", "the new article", |b| {
        b.contains("Harbour Deal Signed")
    });
    // Every feed whose bytes changed gets one ping, no other does.
    assert!(holds_for(|| true, Duration::from_secs(2)));
    let after = bodies(&d);
    let changed: BTreeSet<String> = FEEDS
        .iter()
        .filter(|f| before[*f] != after[*f])
        .map(|f| d.url(f))
        .collect();
    assert!(changed.contains(&topic) && changed.contains(&d.url("/feeds/all.json")));
    let pings = hub.pings()[seen..].to_vec();
    let pinged: Vec<String> = pings.iter().map(|p| p.topic.clone()).collect();
    let unique: BTreeSet<String> = pinged.iter().cloned().collect();
    assert_eq!(pinged.len(), unique.len(), "one ping per feed: {pinged:#?}");
    assert_eq!(
        unique, changed,
        "pings are for exactly the feeds that changed"
    );
    for p in &pings {
        assert!(p.consistent, "hub.url and hub.topic differ: {p:?}");
        let after = p.at - written;
        assert!(
            after < Duration::from_secs(1),
            "{} pinged {after:?} after the write",
            p.topic
        );
    }

    // The subscriber got the new world.rss from the hub.
    let delivered = || {
        sub.received.lock().unwrap().iter().any(|(link, body)| {
            body.contains("Harbour Deal Signed")
                && link.contains(&format!("<{topic}>; rel=\"self\""))
        })
    };
    assert!(eventually(delivered), "content distribution of {topic}");
    let metrics = d.body("/metrics");
    let ok = format!(
        "wirefeed_websub_pings_total{{hub=\"{}\",result=\"ok\"}} {}",
        hub.url,
        seen + pings.len()
    );
    assert!(metrics.contains(&ok), "{ok} in:\n{metrics}");
}

#[test]
fn a_hub_that_is_down_delays_no_publish_and_gets_the_ping_once_it_is_back() {
    let hub_port = free_port();
    let d = Daemon::start_site(site_with_hub(hub_port));
    let failed = format!(
        "wirefeed_websub_pings_total{{hub=\"http://127.0.0.1:{hub_port}/\",result=\"failed\"}}"
    );
    let failures = |d: &Daemon| -> u64 {
        d.body("/metrics")
            .lines()
            .find_map(|l| l.strip_prefix(&failed)?.trim().parse().ok())
            .unwrap_or(0)
    };
    d.write_article(
        "world/second.txt",
        &story("Ferry Service Restored", "World", "ferry"),
    );
    d.wait_feed("/feeds/world.rss", "the new article", |b| {
        b.contains("Ferry Service Restored")
    });
    assert!(
        wait_until(|| failures(&d) >= 2, Duration::from_secs(10)),
        "pings to a closed port are counted as failures"
    );
    assert_eq!(
        d.count_log("WebSub ping failed"),
        1,
        "an outage is logged once:\n{}",
        d.log()
    );

    let hub = Hub::start(hub_port);
    let topic = d.url("/feeds/world.rss");
    assert!(
        wait_until(
            || hub.pings().iter().any(|p| p.topic == topic),
            Duration::from_secs(15)
        ),
        "the ping arrives once the hub is back"
    );
    assert!(wait_until(
        || d.count_log("WebSub hub answers again") == 1,
        Duration::from_secs(5)
    ));
}

#[test]
fn a_hub_that_never_answers_does_not_hold_up_publishing() {
    // Accepts connections (the kernel's backlog) and never answers: every
    // ping waits for its timeout.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = silent.local_addr().expect("addr").port();
    let d = Daemon::start_site(site_with_hub(port));
    for i in 0..3 {
        let title = format!("Night Market Opens {i}");
        let started = Instant::now();
        d.write_article(
            &format!("world/night-{i}.txt"),
            &story(&title, "World", &format!("night{i}")),
        );
        d.wait_feed("/feeds/world.rss", "the new article", |b| {
            b.contains(&title)
        });
        // Far below the ten-second ping timeout each of these waits on.
        assert!(
            started.elapsed() < Duration::from_secs(3),
            "article {i} took {:?}",
            started.elapsed()
        );
    }
    drop(silent);
}
