//! Prometheus metrics, served as text on `/metrics`.

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct FeedLabels {
    pub feed: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PingLabels {
    pub hub: String,
    /// `ok` or `failed`.
    pub result: &'static str,
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub not_modified: Counter,
    pub articles: Family<FeedLabels, Gauge>,
    pub parse_failures: Counter,
    pub render_rejected: Counter,
    pub problems: Gauge,
    pub watch_lag: Histogram,
    pub publish_duration: Histogram,
    pub last_publish: Gauge<f64, AtomicU64>,
    pub websub_pings: Family<PingLabels, Counter>,
    pub archive_pages_waiting: Gauge,
    /// Objects written to the `publish.to` store.
    pub store_puts: Counter,
    pub store_deletes: Counter,
    pub store_failures: Counter,
    /// Changes not in the store yet, and the age of the oldest.
    pub store_pending: Gauge,
    pub store_oldest_pending: Gauge<f64, AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("wirefeed");
        let buckets = [
            0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ];
        let m = Metrics {
            requests: Family::default(),
            not_modified: Counter::default(),
            articles: Family::default(),
            parse_failures: Counter::default(),
            render_rejected: Counter::default(),
            problems: Gauge::default(),
            watch_lag: Histogram::new(buckets),
            publish_duration: Histogram::new(buckets),
            last_publish: Gauge::default(),
            websub_pings: Family::default(),
            archive_pages_waiting: Gauge::default(),
            store_puts: Counter::default(),
            store_deletes: Counter::default(),
            store_failures: Counter::default(),
            store_pending: Gauge::default(),
            store_oldest_pending: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            m.requests.clone(),
        );
        registry.register(
            "http_not_modified",
            "304 Not Modified answers",
            m.not_modified.clone(),
        );
        registry.register(
            "articles",
            "Articles per feed (category)",
            m.articles.clone(),
        );
        registry.register(
            "parse_failures",
            "Files rejected by the parser",
            m.parse_failures.clone(),
        );
        registry.register(
            "render_rejected",
            "Rendered feed documents that were not well-formed and not published",
            m.render_rejected.clone(),
        );
        registry.register(
            "article_problems",
            "Files currently rejected or with unknown categories",
            m.problems.clone(),
        );
        registry.register(
            "watch_lag_seconds",
            "From a settled file event to the change being served",
            m.watch_lag.clone(),
        );
        registry.register(
            "publish_duration_seconds",
            "Parsing, rendering and swapping one batch of changes",
            m.publish_duration.clone(),
        );
        registry.register(
            "last_publish_timestamp_seconds",
            "Unix time of the last published change",
            m.last_publish.clone(),
        );
        registry.register(
            "websub_pings",
            "WebSub publish pings sent to a hub, by result (ok, failed)",
            m.websub_pings.clone(),
        );
        registry.register(
            "archive_pages_waiting",
            "Archive pages made and not stored yet (the feeds link to them once they are)",
            m.archive_pages_waiting.clone(),
        );
        registry.register(
            "store_puts",
            "Objects uploaded to the publish.to store",
            m.store_puts.clone(),
        );
        registry.register(
            "store_deletes",
            "Objects deleted from the publish.to store",
            m.store_deletes.clone(),
        );
        registry.register(
            "store_failures",
            "Uploads and deletes the publish.to store refused or did not answer (retried)",
            m.store_failures.clone(),
        );
        registry.register(
            "store_pending",
            "Changed objects not in the publish.to store yet",
            m.store_pending.clone(),
        );
        registry.register(
            "store_oldest_pending_seconds",
            "Age of the oldest change not in the publish.to store yet (0: none)",
            m.store_oldest_pending.clone(),
        );
        Metrics { registry, ..m }
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Encoding into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
