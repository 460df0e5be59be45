//! The published site behind one handle: what the publisher puts out
//! ([`Site::publish`], [`Site::set_pages`], [`Site::mark_ready`]) and what
//! the server reads ([`Site::resource`], [`Site::article_page`], ...).
//!
//! Feeds, the index and the OPML are [`Resource`]s in an immutable
//! snapshot, swapped atomically (`published`), and compressed right after
//! by a thread of their own (`compress`). Article pages are not kept: one
//! is rendered when it is asked for, from the article's own file.

mod archive;
mod changes;
mod compress;
mod published;
mod resource;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use arc_swap::ArcSwap;
use chrono::{DateTime, Utc};
use hyper::header::HeaderValue;

pub use archive::next_page;
pub use changes::{served_path, tree_key, Outbox};

/// `Cache-Control` of a complete archive page: it never changes again.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
pub use resource::{Encoding, Resource};

use crate::catalog;
use crate::config::Config;
use crate::metrics::Metrics;
use crate::model::{page_key, FeedInfo, SharedIds};
use crate::parse::ParseContext;
use crate::render;
use changes::Changes;
use published::Published;

/// The site: published resources, article pages, readiness, metrics.
pub struct Site {
    published: Published,
    /// Article pages by id (rendered on request; they are not feeds): the
    /// catalog's id index.
    pages: ArcSwap<SharedIds>,
    config: ArcSwap<Config>,
    /// The config's feeds (the article pages link them).
    feeds: ArcSwap<Vec<FeedInfo>>,
    /// For reading article bodies back (built once per config).
    parse_ctx: ArcSwap<ParseContext>,
    /// `Cache-Control` of every answer that may change (`server.cache_max_age`,
    /// `stale_while_revalidate`, `stale_if_error`).
    cache_control: ArcSwap<HeaderValue>,
    /// `Link: <hub>; rel="hub"` for each WebSub hub (none without hubs).
    hub_links: ArcSwap<Vec<HeaderValue>>,
    archive_writer: archive::Writer,
    archive_reader: Arc<archive::Reader>,
    /// Set once the start-up state is published.
    ready: AtomicBool,
    metrics: Metrics,
    /// What changed in the exported tree, for the `publish.to` uploader.
    changes: Arc<Changes>,
}

impl Site {
    pub fn new(config: Arc<Config>) -> Self {
        let changes = Arc::new(Changes::default());
        let archive_reader = Arc::new(archive::Reader::new());
        Site {
            published: Published::new(),
            pages: ArcSwap::from_pointee(SharedIds::default()),
            parse_ctx: ArcSwap::from_pointee(ParseContext::from_config(&config)),
            cache_control: ArcSwap::from_pointee(cache_control(&config)),
            hub_links: ArcSwap::from_pointee(hub_links(&config)),
            archive_writer: archive::Writer::start(changes.clone(), archive_reader.clone()),
            archive_reader,
            feeds: ArcSwap::from_pointee(catalog::feed_list(&config)),
            config: ArcSwap::new(config),
            ready: AtomicBool::new(false),
            metrics: Metrics::new(),
            changes,
        }
    }

    /// Replaces the resources at the given paths (and drops those `keep`
    /// refuses) in one atomic step; their compressed bodies follow.
    /// Returns the paths whose bytes changed (or are new).
    pub fn publish(
        &self,
        changed: Vec<(String, Arc<Resource>)>,
        keep: &dyn Fn(&str) -> bool,
        now: DateTime<Utc>,
    ) -> Vec<String> {
        let before = self.published.load();
        let differ: Vec<String> = changed
            .iter()
            .filter(|(path, res)| {
                before
                    .resources
                    .get(path)
                    .is_none_or(|old| old.hash() != res.hash())
            })
            .map(|(path, _)| path.clone())
            .collect();
        let dropped: Vec<String> = match self.changes.is_tracked() {
            true => before
                .resources
                .keys()
                .filter(|p| !keep(p))
                .cloned()
                .collect(),
            false => Vec::new(),
        };
        drop(before);
        self.published.update(changed, keep, now);
        self.note(differ.iter().chain(&dropped).map(|p| tree_key(p)));
        differ
    }

    /// From now on, remembers which keys of the exported tree change
    /// (see [`Site::take_changes`]).
    pub fn track_changes(&self) {
        self.changes.track();
    }

    fn note(&self, keys: impl IntoIterator<Item = String>) {
        self.changes.note(keys);
    }

    /// The keys changed since the last call, waiting up to `wait` for one.
    pub fn take_changes(&self, wait: std::time::Duration) -> Outbox {
        self.changes.take(wait)
    }

    /// Every article page's key (`articles/<id>.html`).
    pub fn article_keys(&self) -> Vec<String> {
        self.pages.load().page_keys()
    }

    /// Every stored archive page's key (feeds and their HTML pages).
    pub fn archive_keys(&self) -> Vec<String> {
        let config = self.config.load();
        let known = |slug: &str| slug == "all" || config.categories.iter().any(|c| c.slug == slug);
        archive::stored_keys(&self.archive_dir())
            .into_iter()
            .filter(|k| k.split('/').rev().nth(1).is_some_and(known))
            .collect()
    }

    /// Compresses, on the calling threads, everything published and not
    /// compressed yet (before saying ready).
    pub fn compress_now(&self) {
        self.published.compress_now();
    }

    /// Every path published.
    pub fn paths(&self) -> Vec<String> {
        self.published.load().resources.keys().cloned().collect()
    }

    pub fn resource(&self, path: &str) -> Option<Arc<Resource>> {
        self.published.load().resources.get(path).cloned()
    }

    /// Serves the article pages of `pages` (a catalog's id index) from
    /// now on; `before` are the keys of the pages served until now, as
    /// [`Site::article_keys`] gave them before the catalog changed (for
    /// the uploader: the pages gone and the pages there now).
    pub fn set_pages(&self, pages: SharedIds, before: Vec<String>) {
        let keys = self.changes.is_tracked().then(|| pages.page_keys());
        self.pages.store(Arc::new(pages));
        if let Some(keys) = keys {
            self.note(before.into_iter().chain(keys));
        }
    }

    /// Whether someone takes the changed keys (then [`Site::set_pages`]
    /// wants the keys before a rescan).
    pub fn tracks_changes(&self) -> bool {
        self.changes.is_tracked()
    }

    /// Notes, for the uploader, that the article pages of `ids` changed:
    /// those of articles a change took away or brought (the catalog's id
    /// index, which the pages are served by, already has them), or of
    /// scheduled articles whose time came.
    pub fn pages_changed(&self, ids: &[Arc<str>]) {
        self.note(ids.iter().map(|id| page_key(id)));
    }

    /// The page of article `id`, read from its file and rendered: blocking
    /// I/O, for a thread that may block. `None`: no such article (yet).
    pub fn article_page(&self, id: &str, now: DateTime<Utc>) -> Option<Resource> {
        let entry = self.pages.load().get(id)?;
        if entry.published > now {
            return None;
        }
        let config = self.config.load();
        let text = catalog::load_text(&config.articles.dir, &self.parse_ctx.load(), &entry);
        Some(Resource::uncompressed(
            "text/html; charset=utf-8",
            render::html::article(&config, &self.feeds.load(), &entry, &text),
            Some(entry.updated),
        ))
    }

    /// Is there a page for article `id` at `now` (it exists and is
    /// published)?
    pub fn has_article_page(&self, id: &str, now: DateTime<Utc>) -> bool {
        self.pages
            .load()
            .get(id)
            .is_some_and(|e| e.published <= now)
    }

    /// Is archive page `path` stored (or waiting to be)?
    pub fn has_archive_page(&self, path: &str) -> bool {
        self.archive_writer.waiting(path).is_some() || archive::is_stored(&self.archive_dir(), path)
    }

    /// Stores an archive page (`feeds/archive/...`): compressed and
    /// written by a thread of its own, served from memory until then.
    pub fn store_archive(&self, path: &str, identity: Vec<u8>) {
        self.archive_writer
            .store(self.archive_dir(), path, identity);
        self.note([tree_key(path)]);
    }

    /// Adds `next-archive` (to `next`) to stored page `path`, after the
    /// pages stored before.
    pub fn link_archive(&self, path: &str, format: render::FeedFormat, next: String) {
        self.archive_writer
            .link(self.archive_dir(), path, format, next);
    }

    /// An archive page or its HTML page (`categories/<slug>/<n>.html`),
    /// read back from disk (blocking I/O, for a thread
    /// that may block) or held in memory. `None`: no such page.
    pub fn archive_page(&self, path: &str) -> Option<Resource> {
        if !self.is_archive_of_a_feed(path) {
            return None;
        }
        self.waiting_archive_page(path)
            .or_else(|| self.archive_reader.load(&self.archive_dir(), path))
    }

    /// An archive page waiting to be written or read back recently (no
    /// I/O); `None` for any other.
    pub fn archive_page_in_memory(&self, path: &str) -> Option<Resource> {
        if !self.is_archive_of_a_feed(path) {
            return None;
        }
        self.waiting_archive_page(path)
            .or_else(|| self.archive_reader.kept(&self.archive_dir(), path))
    }

    /// An archive page rendered and not written yet (identity only).
    fn waiting_archive_page(&self, path: &str) -> Option<Resource> {
        let bytes = self.archive_writer.waiting(path)?;
        let content_type = match path.ends_with(".html") {
            true => "text/html; charset=utf-8",
            false => render::FeedFormat::ALL
                .into_iter()
                .find(|f| path.ends_with(f.extension()))?
                .content_type(),
        };
        Some(Resource::uncompressed(content_type, bytes.to_vec(), None))
    }

    /// Only a feed of the current config has archive pages (a removed
    /// category's may still be on disk).
    fn is_archive_of_a_feed(&self, path: &str) -> bool {
        let path_in = path.trim_start_matches('/');
        let page = path_in
            .strip_prefix("feeds/archive/")
            .or_else(|| path_in.strip_prefix("categories/"));
        let Some(slug) = page.and_then(|p| p.split('/').next()) else {
            return false;
        };
        slug == "all" || self.config.load().categories.iter().any(|c| c.slug == slug)
    }

    fn archive_dir(&self) -> std::path::PathBuf {
        self.config.load().state_dir().join("archives")
    }

    /// Swaps in a reloaded config (the listen address and the connection
    /// limit stay; the other `[server]` limits hold for new connections).
    pub fn set_config(&self, config: Arc<Config>, ctx: ParseContext) {
        self.cache_control.store(Arc::new(cache_control(&config)));
        self.hub_links.store(Arc::new(hub_links(&config)));
        self.parse_ctx.store(Arc::new(ctx));
        self.feeds.store(Arc::new(catalog::feed_list(&config)));
        self.config.store(config);
    }

    pub fn config(&self) -> Arc<Config> {
        self.config.load_full()
    }

    pub fn cache_control(&self) -> HeaderValue {
        HeaderValue::clone(&self.cache_control.load())
    }

    /// The `Link` headers of the feed at `path` (WebSub section 4: each
    /// hub, and the feed's own URL as the topic); none without hubs.
    pub fn feed_links(&self, path: &str) -> Vec<HeaderValue> {
        let hubs = self.hub_links.load();
        if hubs.is_empty() || !path.starts_with("/feeds/") || path.starts_with("/feeds/archive/") {
            return Vec::new();
        }
        let topic = self.config.load().url(path);
        let own = HeaderValue::from_str(&format!("<{topic}>; rel=\"self\""));
        hubs.iter().cloned().chain(own.ok()).collect()
    }

    /// From now on `/readyz` answers 200.
    pub fn mark_ready(&self) {
        self.ready.store(true, Ordering::Release);
    }

    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }
}

fn cache_control(config: &Config) -> HeaderValue {
    HeaderValue::from_str(&crate::config::cache_control(&config.server))
        .unwrap_or_else(|_| HeaderValue::from_static("public, max-age=60"))
}

fn hub_links(config: &Config) -> Vec<HeaderValue> {
    config
        .websub
        .hubs
        .iter()
        .filter_map(|hub| HeaderValue::from_str(&format!("<{hub}>; rel=\"hub\"")).ok())
        .collect()
}
