//! The archive pages a publish completed (see `catalog::archive`):
//! rendered once, on all cores, and stored on disk; the page before the
//! first of them gains its `next-archive` link.

use chrono::{DateTime, Utc};
use rayon::prelude::*;

use super::publisher::Publisher;
use crate::catalog::PageWork;
use crate::render::{self, FeedFormat, RenderedFeed};

impl Publisher {
    /// Renders and stores `pages`, then logs each as complete (in order:
    /// the log is read back page by page).
    pub(super) fn store_archives(&mut self, pages: &[PageWork], now: DateTime<Utc>) {
        let (catalog, items, site) = (&self.catalog, &self.items, &self.site);
        pages.par_iter().for_each(|page| {
            let texts = catalog.page_texts(page);
            let rendered = render::archive_files(catalog, page, texts, now, items);
            for (path, _, body) in self.checked(rendered) {
                if let Err(e) = site.store_archive(&path, &body) {
                    tracing::error!(page = %path, error = %e, "archive page not stored");
                }
            }
        });
        for page in pages {
            self.catalog.archive_stored(page);
        }
        // The newest page stored before this publish now has a next one.
        let mut firsts: Vec<&PageWork> = pages.iter().filter(|p| p.number > 1).collect();
        firsts.sort_by_key(|p| (p.feed, p.number));
        firsts.dedup_by_key(|p| p.feed);
        for page in firsts {
            if pages
                .iter()
                .any(|p| p.feed == page.feed && p.number == page.number - 1)
            {
                continue;
            }
            self.link_next(page.feed, page.number - 1);
        }
    }

    /// Adds `next-archive` to stored page `number` of feed `feed`.
    fn link_next(&self, feed: usize, number: usize) {
        let slug = &self.catalog.feeds()[feed].slug;
        let config = self.catalog.config();
        for format in [FeedFormat::Rss, FeedFormat::Atom] {
            let path = render::archive_path(slug, number, format);
            let next = config.url(&render::archive_path(slug, number + 1, format));
            let linked = self
                .site
                .archive_page(&path)
                .and_then(|page| render::link_next_archive(format, &page.identity()[..], &next));
            let stored = match linked {
                Some(bytes) => self.site.store_archive(&path, &bytes),
                None => Err(std::io::Error::other("no stored page to link")),
            };
            if let Err(e) = stored {
                tracing::error!(page = %path, error = %e, "next-archive link not added");
            }
        }
    }

    /// The documents that passed the well-formedness check; the others
    /// counted and logged.
    fn checked(&self, rendered: RenderedFeed) -> Vec<(String, FeedFormat, Vec<u8>)> {
        let mut good = Vec::new();
        for (path, format, body) in rendered.files {
            match body {
                Ok(bytes) => good.push((path, format, bytes)),
                Err(rejected) => {
                    self.site.metrics().render_rejected.inc();
                    tracing::error!(
                        page = %rejected.path,
                        reason = %rejected.reason,
                        articles = %rejected.articles.join(", "),
                        "archive page not published: it would not be well-formed"
                    );
                }
            }
        }
        good
    }
}
