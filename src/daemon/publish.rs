//! One publish: the touched feeds rendered (render), checked, and swapped
//! in on the site with the index and OPML (site); then the metrics and the
//! log line that say what it cost.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use rayon::prelude::*;

use super::archive::PAGES_PER_ROUND;
use super::publisher::{Intake, Publisher};
use crate::metrics::FeedLabels;
use crate::render;
use crate::site::Resource;

/// When a publish's steps ended, for its log line.
struct Steps {
    started: Instant,
    items: Instant,
    feeds: Instant,
    swap: Instant,
    swapped: Instant,
}

impl Publisher {
    /// Renders the touched feeds and their pages plus the OPML and swaps them in
    /// at once. A feed document that would not be well-formed is not
    /// swapped in: its previous version stays served.
    pub(super) fn publish(
        &mut self,
        touched: &BTreeSet<usize>,
        started: Instant,
        since: Option<Instant>,
        intake: Intake,
    ) {
        let now = Utc::now();
        let items = Instant::now();
        let (pages, mut relinked) = self.catalog.archive_step(now);
        // The few pages a live change completes are stored now, from the
        // texts and items the feeds showed them with (kept until the next
        // two lines); the many of a first start or a config change are
        // stored between rounds, and linked once they are.
        if self.unstored.is_empty() && pages.len() <= PAGES_PER_ROUND {
            relinked.extend(self.store_pages(pages, now));
        } else {
            self.unstored.extend(pages);
        }
        self.catalog.cache_texts(now);
        let mut touched = self.with_empty_feeds(touched, now);
        touched.extend(relinked);
        self.items.refresh(&self.catalog, &touched, now);
        let feeds = Instant::now();
        let mut resources = self.render_feeds(&touched, now);
        resources.extend(self.pages());
        let swap = Instant::now();
        let drop = self.drop_feeds.take().unwrap_or_default();
        let keep = |p: &str| !drop.contains(p);
        // Served from now on (identity); the compressor thread adds the
        // encodings right after.
        let changed = self.site.publish(resources, &keep, now);
        // After the swap: 0 means the feeds link to every page made.
        let waiting = self.unstored.len() as i64;
        self.site.metrics().archive_pages_waiting.set(waiting);
        let swapped = Instant::now();
        let config = self.catalog.config();
        self.pinger.changed(
            changed
                .iter()
                .filter(|p| p.starts_with("/feeds/") && !p.starts_with("/feeds/archive/"))
                .map(|p| config.url(p))
                .collect(),
        );
        self.next_due = self.catalog.next_scheduled(now);
        self.count_problems();
        let steps = Steps {
            started,
            items,
            feeds,
            swap,
            swapped,
        };
        self.report(&touched, now, since, intake, steps);
    }

    /// `touched`, and when `all` is among them the empty feeds too: an
    /// empty feed is dated by the site's newest article.
    fn with_empty_feeds(&self, touched: &BTreeSet<usize>, now: DateTime<Utc>) -> BTreeSet<usize> {
        let mut touched = touched.clone();
        if touched.contains(&0) {
            let empty = (1..self.catalog.feeds().len())
                .filter(|&i| self.catalog.items(i, now).is_empty())
                .collect::<Vec<_>>();
            touched.extend(empty);
        }
        touched
    }

    /// The touched feeds in every format, on all cores; a document that
    /// would not be well-formed is counted and logged, and left out.
    fn render_feeds(
        &self,
        touched: &BTreeSet<usize>,
        now: DateTime<Utc>,
    ) -> Vec<(String, Arc<Resource>)> {
        let (catalog, items) = (&self.catalog, &self.items);
        let rendered: Vec<(String, Result<Arc<Resource>, render::Rejected>)> = touched
            .par_iter()
            .flat_map_iter(|&index| {
                let rendered = render::feed_files(catalog, index, now, items);
                let updated = rendered.updated;
                let (page, html) = rendered.page;
                let page = crate::site::served_path(&page);
                let html = Resource::new("text/html; charset=utf-8", html, updated);
                let feeds = rendered.files.into_iter().map(move |(path, format, body)| {
                    let resource =
                        body.map(|b| Arc::new(Resource::new(format.content_type(), b, updated)));
                    (format!("/{path}"), resource)
                });
                feeds.chain(std::iter::once((page, Ok(Arc::new(html)))))
            })
            .collect();
        let mut resources = Vec::with_capacity(rendered.len() + 2);
        for (path, resource) in rendered {
            match resource {
                Ok(resource) => resources.push((path, resource)),
                Err(rejected) => self.rejected(&rejected),
            }
        }
        resources
    }

    /// Counts and logs a document not published because it would not be
    /// well-formed (a feed keeps its previous version).
    pub(super) fn rejected(&self, rejected: &render::Rejected) {
        self.site.metrics().render_rejected.inc();
        tracing::error!(
            document = %rejected.path,
            reason = %rejected.reason,
            articles = %rejected.articles.join(", "),
            "not published: it would not be well-formed; a feed keeps its previous version"
        );
    }

    /// The OPML (the pages are rendered with their feeds).
    fn pages(&self) -> [(String, Arc<Resource>); 1] {
        let (config, feeds) = (self.catalog.config(), self.catalog.feeds());
        let opml = render::opml::render(config, feeds);
        [(
            "/feeds.opml".into(),
            Arc::new(Resource::new("text/x-opml; charset=utf-8", opml, None)),
        )]
    }

    /// The metrics and the log line of a publish.
    fn report(
        &self,
        touched: &BTreeSet<usize>,
        now: DateTime<Utc>,
        since: Option<Instant>,
        intake: Intake,
        steps: Steps,
    ) {
        let catalog = &self.catalog;
        let m = self.site.metrics();
        for (feed, count) in catalog.feeds().iter().zip(catalog.counts()) {
            let labels = FeedLabels {
                feed: feed.slug.clone(),
            };
            m.articles.get_or_create(&labels).set(count as i64);
        }
        m.publish_duration
            .observe(steps.started.elapsed().as_secs_f64());
        if let Some(since) = since {
            m.watch_lag.observe(since.elapsed().as_secs_f64());
        }
        m.last_publish.set(now.timestamp_millis() as f64 / 1000.0);
        let feeds: Vec<&str> = touched
            .iter()
            .map(|&i| catalog.feeds()[i].slug.as_str())
            .collect();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        tracing::info!(
            feeds = %feeds.join(","),
            articles = catalog.len(),
            ms = ms(steps.started.elapsed()),
            files = intake.files,
            read_ms = ms(intake.read),
            apply_ms = ms(intake.apply),
            items_ms = ms(steps.feeds - steps.items),
            feeds_ms = ms(steps.swap - steps.feeds),
            swap_ms = ms(steps.swapped - steps.swap),
            "published"
        );
    }

    pub(super) fn count_problems(&self) {
        let count = self.catalog.problem_count() as i64;
        self.site.metrics().problems.set(count);
    }
}
