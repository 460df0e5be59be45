//! The WebSub publisher (W3C WebSub, sections 4 and 5.1): after a publish
//! that changed a feed's bytes, every hub is told so (`hub.mode=publish`)
//! and fetches the feed itself.
//!
//! Each hub has a thread of its own, so a slow or dead hub delays no other
//! hub and never the publisher, which only hands over the changed topics.
//! The changes a burst makes to one feed go as one ping (at most one per
//! feed per `WINDOW`); a failed ping is retried with backoff for at most
//! `GIVE_UP`, and an outage is logged once when it starts and once when it
//! ends.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::Arc;
use std::time::{Duration, Instant};

use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use url::Url;

use crate::metrics::PingLabels;

/// A change waits this long before its ping, so that the publishes of one
/// burst go as one ping per feed.
const GATHER: Duration = Duration::from_millis(100);
/// At most one ping per feed and hub in this window.
const WINDOW: Duration = Duration::from_secs(1);
/// Backoff after a failed ping: doubled per failure in a row, up to the
/// maximum.
const FIRST_RETRY: Duration = Duration::from_secs(1);
const MAX_RETRY: Duration = Duration::from_secs(300);
/// A change not delivered for this long is dropped (and logged).
const GIVE_UP: Duration = Duration::from_secs(3600);
/// One ping's whole exchange with a hub.
const TIMEOUT: Duration = Duration::from_secs(10);

/// The hubs' threads; dropping it ends them.
pub struct Pinger {
    hubs: Vec<Url>,
    threads: Vec<Sender<Vec<Arc<str>>>>,
}

impl Pinger {
    /// A thread per hub (none for no hubs), counting in `pings`.
    pub fn start(hubs: &[Url], pings: &Family<PingLabels, Counter>) -> Pinger {
        let mut threads = Vec::new();
        for hub in hubs {
            let (tx, rx) = mpsc::channel();
            let worker = Hub::new(hub.clone(), pings);
            let spawned = std::thread::Builder::new()
                .name("wirefeed-websub".into())
                .spawn(move || worker.run(&rx));
            match spawned {
                Ok(_) => threads.push(tx),
                Err(e) => {
                    tracing::error!(hub = %hub, error = %e, "no WebSub thread: this hub is not pinged")
                }
            }
        }
        Pinger {
            hubs: hubs.to_vec(),
            threads,
        }
    }

    pub fn hubs(&self) -> &[Url] {
        &self.hubs
    }

    /// Tells every hub that the feeds at these URLs changed; returns at once.
    pub fn changed(&self, topics: Vec<String>) {
        if topics.is_empty() || self.threads.is_empty() {
            return;
        }
        let topics: Vec<Arc<str>> = topics.into_iter().map(Arc::from).collect();
        for tx in &self.threads {
            let _ = tx.send(topics.clone());
        }
    }
}

/// A change to one feed not yet delivered to the hub.
struct Pending {
    due: Instant,
    since: Instant,
}

/// One hub: its client and its counters.
struct Hub {
    url: Url,
    agent: ureq::Agent,
    ok: Counter,
    failed: Counter,
}

impl Hub {
    fn new(url: Url, pings: &Family<PingLabels, Counter>) -> Hub {
        let label = |result| PingLabels {
            hub: url.to_string(),
            result,
        };
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(TIMEOUT))
            .user_agent("wirefeed")
            .build();
        // One at a time: the family stays locked while a guard lives.
        let ok = pings.get_or_create(&label("ok")).clone();
        let failed = pings.get_or_create(&label("failed")).clone();
        Hub {
            ok,
            failed,
            agent: config.new_agent(),
            url,
        }
    }

    fn run(self, rx: &Receiver<Vec<Arc<str>>>) {
        let mut pending: HashMap<Arc<str>, Pending> = HashMap::new();
        let mut sent: HashMap<Arc<str>, Instant> = HashMap::new();
        // Failures in a row, and since when.
        let mut outage: Option<(Instant, u32)> = None;
        loop {
            let next = pending.values().map(|p| p.due).min();
            let got = match next {
                Some(due) => rx.recv_timeout(due.saturating_duration_since(Instant::now())),
                None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
            };
            let mut batches = match got {
                Ok(topics) => vec![topics],
                Err(RecvTimeoutError::Timeout) => Vec::new(),
                Err(RecvTimeoutError::Disconnected) => return,
            };
            batches.extend(rx.try_iter());
            let now = Instant::now();
            for topic in batches.into_iter().flatten() {
                let due = sent
                    .get(&topic)
                    .map_or(now, |s| *s + WINDOW)
                    .max(now + GATHER);
                pending.entry(topic).or_insert(Pending { due, since: now });
            }
            self.ping_due(&mut pending, &mut sent, &mut outage);
        }
    }

    /// Pings every topic that is due, in order; at the first failure the
    /// hub is taken to be down and every ping waits for the next try.
    fn ping_due(
        &self,
        pending: &mut HashMap<Arc<str>, Pending>,
        sent: &mut HashMap<Arc<str>, Instant>,
        outage: &mut Option<(Instant, u32)>,
    ) {
        let now = Instant::now();
        let mut due: Vec<Arc<str>> = pending
            .iter()
            .filter(|(_, p)| p.due <= now)
            .map(|(t, _)| t.clone())
            .collect();
        due.sort_unstable();
        for topic in due {
            match self.ping(&topic) {
                Ok(()) => {
                    self.ok.inc();
                    pending.remove(&topic);
                    sent.insert(topic, Instant::now());
                    if let Some((since, failures)) = outage.take() {
                        tracing::info!(hub = %self.url, failures, down_s = since.elapsed().as_secs(), "WebSub hub answers again");
                    }
                }
                Err(error) => {
                    self.failed.inc();
                    let (since, failures) = outage.map_or((now, 0), |o| o);
                    if failures == 0 {
                        tracing::warn!(hub = %self.url, topic = %topic, %error, "WebSub ping failed; retrying with backoff");
                    }
                    *outage = Some((since, failures + 1));
                    let retry = FIRST_RETRY
                        .saturating_mul(1 << failures.min(16))
                        .min(MAX_RETRY);
                    let at = Instant::now() + retry;
                    pending.retain(|topic, p| {
                        if p.since.elapsed() > GIVE_UP {
                            tracing::error!(hub = %self.url, %topic, "WebSub ping not delivered within an hour: given up");
                            return false;
                        }
                        p.due = p.due.max(at);
                        true
                    });
                    return;
                }
            }
        }
    }

    /// `hub.mode=publish` for `topic` (named both `hub.url` and
    /// `hub.topic`: hubs read one or the other).
    fn ping(&self, topic: &str) -> Result<(), ureq::Error> {
        self.agent
            .post(self.url.as_str())
            .send_form([
                ("hub.mode", "publish"),
                ("hub.url", topic),
                ("hub.topic", topic),
            ])
            .map(drop)
    }
}
