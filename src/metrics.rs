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
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("wirefeed");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route and status",
            requests.clone(),
        );
        let not_modified = Counter::default();
        registry.register(
            "http_not_modified",
            "304 Not Modified answers",
            not_modified.clone(),
        );
        let articles = Family::<FeedLabels, Gauge>::default();
        registry.register("articles", "Articles per feed (category)", articles.clone());
        let parse_failures = Counter::default();
        registry.register(
            "parse_failures",
            "Files rejected by the parser",
            parse_failures.clone(),
        );
        let render_rejected = Counter::default();
        registry.register(
            "render_rejected",
            "Rendered feed documents that were not well-formed and not published",
            render_rejected.clone(),
        );
        let problems = Gauge::default();
        registry.register(
            "article_problems",
            "Files currently rejected or with unknown categories",
            problems.clone(),
        );
        let buckets = [
            0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
        ];
        let watch_lag = Histogram::new(buckets);
        registry.register(
            "watch_lag_seconds",
            "From a settled file event to the change being served",
            watch_lag.clone(),
        );
        let publish_duration = Histogram::new(buckets);
        registry.register(
            "publish_duration_seconds",
            "Parsing, rendering and swapping one batch of changes",
            publish_duration.clone(),
        );
        let last_publish = Gauge::<f64, AtomicU64>::default();
        registry.register(
            "last_publish_timestamp_seconds",
            "Unix time of the last published change",
            last_publish.clone(),
        );
        Metrics {
            registry,
            requests,
            not_modified,
            articles,
            parse_failures,
            render_rejected,
            problems,
            watch_lag,
            publish_duration,
            last_publish,
        }
    }

    /// The Prometheus text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Encoding into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}
