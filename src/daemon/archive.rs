//! The archive pages that completed (see `catalog::archive`), rendered
//! from the items the feeds showed them with and handed to the site, which
//! compresses and writes them on a thread of its own. The few a live change
//! completes are rendered in its publish; the thousands a first start or a
//! config change makes, a few at a time between the publisher's rounds (a
//! first start says ready once they are done). The feeds link to a page
//! once it is handed over; the page before it then gains its
//! `next-archive` link.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use rayon::prelude::*;

use super::publisher::Publisher;
use crate::catalog::PageWork;
use crate::render::{self, FeedFormat, RenderedFeed};

/// Pages stored per round (on all cores) before the publisher looks for
/// new work again.
pub(super) const PAGES_PER_ROUND: usize = 2;

impl Publisher {
    /// Stores the next few pages waiting, in order, then logs each as
    /// stored; returns the feeds whose documents now link to more pages.
    pub(super) fn store_some_archives(&mut self, now: DateTime<Utc>) -> BTreeSet<usize> {
        let take = self.unstored.len().min(PAGES_PER_ROUND);
        let pages: Vec<PageWork> = self.unstored.drain(..take).collect();
        self.store_pages(pages, now)
    }

    /// Stores `pages` (of a feed, in order) and logs each as stored;
    /// returns the feeds whose documents now link to more pages.
    pub(super) fn store_pages(
        &mut self,
        pages: Vec<PageWork>,
        now: DateTime<Utc>,
    ) -> BTreeSet<usize> {
        if pages.is_empty() {
            return BTreeSet::new();
        }
        // Each page links to the next when that is stored in this round.
        let mut newest: BTreeMap<usize, usize> = BTreeMap::new();
        for page in &pages {
            let top = newest.entry(page.feed).or_default();
            *top = (*top).max(page.number);
        }
        let (catalog, items, site) = (&self.catalog, &self.items, &self.site);
        pages.par_iter().for_each(|page| {
            let texts = catalog.page_texts(page);
            let top = newest[&page.feed];
            let mut rendered = render::archive_files(catalog, page, texts, now, items, top);
            let (html_path, html) = std::mem::take(&mut rendered.page);
            for (path, _, body) in self.checked(rendered) {
                site.store_archive(&path, body);
            }
            site.store_archive(&html_path, html);
        });
        let mut linked = BTreeSet::new();
        for page in &pages {
            let before = self.catalog.archive_pages(page.feed);
            if before + 1 == page.number && before > 0 && !linked.contains(&page.feed) {
                // The newest page stored before this round has a next one now.
                self.link_next(page.feed, before);
            }
            self.catalog.archive_stored(page);
            linked.insert(page.feed);
        }
        linked
    }

    /// Adds `next-archive` to stored page `number` of feed `feed`.
    fn link_next(&self, feed: usize, number: usize) {
        let slug = &self.catalog.feeds()[feed].slug;
        let config = self.catalog.config();
        for format in [FeedFormat::Rss, FeedFormat::Atom] {
            let path = render::archive_path(slug, number, format);
            let next = config.url(&render::archive_path(slug, number + 1, format));
            self.site.link_archive(&path, format, next);
        }
    }

    /// The documents that passed the well-formedness check; the others
    /// counted and logged.
    fn checked(&self, rendered: RenderedFeed) -> Vec<(String, FeedFormat, Vec<u8>)> {
        let mut good = Vec::new();
        for (path, format, body) in rendered.files {
            match body {
                Ok(bytes) => good.push((path, format, bytes)),
                Err(rejected) => self.rejected(&rejected),
            }
        }
        good
    }
}
