//! A config reload (SIGHUP, or the config file saved): a valid new config
//! is swapped in, an invalid one is logged and the running one stays.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use super::publisher::Publisher;
use crate::config::Config;
use crate::render;
use crate::websub::Pinger;

impl Publisher {
    /// Swaps in a valid new config; keeps the old one on any error.
    pub(super) fn reload(&mut self) {
        // An editor saving in place empties the file for a moment: one
        // failed read is retried before it counts.
        let loaded = Config::load(&self.config_path).or_else(|_| {
            std::thread::sleep(Duration::from_millis(100));
            Config::load(&self.config_path)
        });
        let new = match loaded {
            Ok(c) => Arc::new(c),
            Err(e) => {
                tracing::error!(error = %e, "config reload failed; keeping the running config");
                return;
            }
        };
        self.warn_restart_needed(&new);
        let old = &self.config.articles;
        let rewatch = new.articles.dir != old.dir
            || new.articles.poll_interval != old.poll_interval
            || new.articles.debounce != old.debounce
            || new.articles.settle != old.settle;
        self.flush_state(true);
        if self.pinger.hubs() != new.websub.hubs.as_slice() {
            self.pinger = Pinger::start(&new.websub.hubs, &self.site.metrics().websub_pings);
        }
        self.catalog.reconfigure(new.clone());
        // Worked out again from the archive logs by the next publish.
        self.unstored.clear();
        self.config = new.clone();
        self.site
            .set_config(new.clone(), self.catalog.parse_context().clone());
        // The feeds and page of a removed category go in the swap that
        // publishes the new config's feeds.
        let kept: HashSet<String> = self
            .catalog
            .feeds()
            .iter()
            .flat_map(|f| {
                let feeds = render::FeedFormat::ALL
                    .map(|fmt| format!("/{}", render::feed_path(&f.slug, fmt)));
                feeds
                    .into_iter()
                    .chain([format!("/{}", render::page_path(&f.slug))])
            })
            .collect();
        let dropped = self
            .site
            .paths()
            .into_iter()
            .filter(|p| p.starts_with("/feeds/") || p.starts_with("/categories/"))
            .filter(|p| !kept.contains(p))
            .collect();
        self.drop_feeds = Some(dropped);
        if rewatch {
            self.start_watch();
        }
        self.full_scan("config reloaded");
        tracing::info!(categories = new.categories.len(), "config reloaded");
    }

    /// What a reload cannot change: sized at start (the listening socket,
    /// the connection semaphore and the open-file limit).
    fn warn_restart_needed(&self, new: &Config) {
        if new.publish.to != self.config.publish.to {
            tracing::warn!("publish.to changed: restart wirefeed to publish to the new store");
        }
        if new.server.listen != self.config.server.listen {
            tracing::warn!(
                "server.listen changed: restart wirefeed to listen on {}",
                new.server.listen
            );
        }
        if new.server.max_connections != self.config.server.max_connections {
            tracing::warn!(
                "server.max_connections changed: restart wirefeed to hold {} connections",
                new.server.max_connections
            );
        }
    }
}
