//! `wirefeed build`: the whole site as static files.
//!
//! ```text
//! OUT/index.html              the latest stories, categories, feeds to follow
//! OUT/categories/<slug>.html  a category's latest stories
//! OUT/categories/<slug>/<n>.html   its earlier stories (archive page n)
//! OUT/feeds.opml              every feed, for reader import
//! OUT/feeds/<slug>.rss|.atom|.json
//! OUT/feeds/archive/<slug>/<n>.rss|.atom|.json   RFC 5005 archive pages
//! OUT/articles/<id>.html      one page per article (the item links)
//! OUT/media/...               a copy of `media.dir`
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
    let mut catalog = catalog::load(config, StateStore::in_memory());
    let (pages, _) = catalog.archive_step(now);
    // All are written below, so the feeds link to all of them.
    for page in &pages {
        catalog.archive_stored(page);
    }
    // The subscription documents now show the pending articles too.
    catalog.cache_texts(now);
    let (mut files, mut rejected) = write_site(&catalog, out, now)?;
    let (archive_files, archive_rejected) = write_archives(&catalog, &pages, out, now)?;
    files += archive_files;
    rejected.extend(archive_rejected);
    Ok(BuildReport {
        articles: catalog.len(),
        files,
        problems: catalog.problems(),
        rejected,
    })
}

/// Writes every archive page, one at a time (a long history is not held
/// rendered); returns how many files were written and the documents that
/// were not.
fn write_archives(
    catalog: &Catalog,
    pages: &[catalog::PageWork],
    out: &Path,
    now: DateTime<Utc>,
) -> std::io::Result<(usize, Vec<render::Rejected>)> {
    use rayon::prelude::*;
    let cache = render::ItemCache::default();
    let written: Vec<std::io::Result<(usize, Vec<render::Rejected>)>> = pages
        .par_iter()
        .map(|page| {
            let texts = catalog.page_texts(page);
            let (mut files, mut rejected) = (0, Vec::new());
            let newest = catalog.complete_pages(page.feed).len();
            let rendered = render::archive_files(catalog, page, texts, now, &cache, newest);
            let (page, html) = rendered.page;
            let page = out.join(page);
            if let Some(dir) = page.parent() {
                std::fs::create_dir_all(dir)?;
            }
            std::fs::write(&page, html)?;
            files += 1;
            for (path, _, body) in rendered.files {
                match body {
                    Ok(bytes) => {
                        let path = out.join(path);
                        if let Some(dir) = path.parent() {
                            std::fs::create_dir_all(dir)?;
                        }
                        std::fs::write(&path, bytes)?;
                        files += 1;
                    }
                    Err(r) => rejected.push(r),
                }
            }
            Ok((files, rejected))
        })
        .collect();
    let (mut files, mut rejected) = (0, Vec::new());
    for result in written {
        let (f, r) = result?;
        files += f;
        rejected.extend(r);
    }
    Ok((files, rejected))
}

/// Copies `media.dir` to `OUT/media/` (hidden files left out, links
/// followed); returns how many files were copied.
fn copy_media(from: &Path, to: &Path) -> std::io::Result<usize> {
    let mut files = 0;
    for file in crate::source::visible_files(from) {
        let Ok(rel) = file.strip_prefix(from) else {
            continue;
        };
        let target = to.join(rel);
        if let Some(dir) = target.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::copy(&file, &target)?;
        files += 1;
    }
    Ok(files)
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
    let (root, ctx) = (&config.articles.dir, catalog.parse_context());
    for entry in catalog.entries() {
        if entry.published.with_timezone(&Utc) <= now {
            let text = catalog::load_text(root, ctx, entry);
            write(
                &entry.page_file(),
                &render::html::article(config, catalog.feeds(), entry, &text),
            )?;
        }
    }
    if let Some(media) = &config.media.dir {
        files += copy_media(media, &out.join("media"))?;
    }
    Ok((files, rejected))
}
