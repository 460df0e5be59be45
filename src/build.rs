//! `wirefeed build`: the whole site as static files.
//!
//! ```text
//! OUT/index.html              feed list with autodiscovery links
//! OUT/feeds.opml              every feed, for reader import
//! OUT/feeds/<slug>.rss|.atom|.json
//! OUT/articles/<id>.html      one page per article (the item links)
//! ```

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};

use crate::catalog::{self, Catalog, StateStore};
use crate::config::Config;
use crate::model::Problem;
use crate::render;

#[derive(Debug)]
pub struct BuildReport {
    pub articles: usize,
    pub files: usize,
    pub problems: Vec<Problem>,
    /// Feed documents not written because they were not well-formed.
    pub rejected: Vec<render::Rejected>,
}

/// Reads the articles and writes the site under `out`. Stateless: GUIDs and
/// dates come from the files alone, so any machine builds the same bytes.
pub fn build(config: Arc<Config>, out: &Path, now: DateTime<Utc>) -> crate::Result<BuildReport> {
    let catalog = catalog::load(config, StateStore::in_memory());
    let (files, rejected) = write_site(&catalog, out, now)?;
    Ok(BuildReport {
        articles: catalog.len(),
        files,
        problems: catalog.problems(),
        rejected,
    })
}

/// Writes every page and every well-formed feed document; returns how many
/// files were written and the feed documents that were not.
pub(crate) fn write_site(
    catalog: &Catalog,
    out: &Path,
    now: DateTime<Utc>,
) -> std::io::Result<(usize, Vec<render::Rejected>)> {
    let config = catalog.config();
    let mut files = 0;
    let mut write = |rel: &str, bytes: &[u8]| -> std::io::Result<()> {
        let path = out.join(rel);
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&path, bytes)?;
        files += 1;
        Ok(())
    };
    let (feeds, rejected) = render::site_feeds(catalog, now);
    for (path, bytes) in feeds {
        write(&path, &bytes)?;
    }
    write("feeds.opml", &render::opml::render(config, catalog.feeds()))?;
    write(
        "index.html",
        &render::html::index(config, catalog.feeds(), &catalog.counts()),
    )?;
    let (root, ctx) = (&config.articles.dir, catalog.parse_context());
    for entry in catalog.entries() {
        if entry.published.with_timezone(&Utc) <= now {
            let text = catalog::load_text(root, ctx, entry);
            write(
                &format!("articles/{}.html", entry.id),
                &render::html::article(config, entry, &text),
            )?;
        }
    }
    Ok((files, rejected))
}
