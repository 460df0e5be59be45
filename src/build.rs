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

use crate::catalog::{self, Catalog, Problem};
use crate::config::Config;
use crate::render;
use crate::state::StateStore;

#[derive(Debug)]
pub struct BuildReport {
    pub articles: usize,
    pub files: usize,
    pub problems: Vec<Problem>,
}

/// Reads the articles and writes the site under `out`. Stateless: GUIDs and
/// dates come from the files alone, so any machine builds the same bytes.
pub fn build(config: Arc<Config>, out: &Path, now: DateTime<Utc>) -> std::io::Result<BuildReport> {
    let catalog = catalog::load(config, StateStore::in_memory());
    let files = write_site(&catalog, out, now)?;
    Ok(BuildReport {
        articles: catalog.len(),
        files,
        problems: catalog.problems(),
    })
}

pub fn write_site(catalog: &Catalog, out: &Path, now: DateTime<Utc>) -> std::io::Result<usize> {
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
    // Each item once for `all` and its categories.
    let all = (0..catalog.feeds().len()).collect();
    let mut items = render::ItemCache::default();
    items.refresh(catalog, &all, now);
    for &index in &all {
        for (path, _, bytes) in render::feed_files(catalog, index, now, &items).files {
            write(&path, &bytes)?;
        }
    }
    write("feeds.opml", &render::opml::render(config, catalog.feeds()))?;
    write(
        "index.html",
        &render::html::index(config, catalog.feeds(), &catalog.counts()),
    )?;
    for entry in catalog.entries() {
        if entry.published.with_timezone(&Utc) <= now {
            let text = catalog.text(entry);
            write(
                &format!("articles/{}.html", entry.id),
                &render::html::article(config, entry, &text),
            )?;
        }
    }
    Ok(files)
}
