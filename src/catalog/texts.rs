//! The texts of the articles the feeds show: summaries, bodies and
//! datelines are most of an article's size, so the catalog keeps them only
//! for what the feeds show and reads the others back from their files.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use foldhash::HashSet;
use rayon::prelude::*;

use super::archive_log::PageWork;
use super::files::read_article;
use super::index::Catalog;
use crate::model::{Entry, ItemText, SharedEntry};
use crate::parse::ParseContext;

impl Catalog {
    /// An entry's words as kept for the articles the feeds show (see
    /// [`Catalog::cache_texts`]), else read back from its file.
    pub fn text(&self, entry: &Entry) -> Arc<ItemText> {
        match self.shown_text(&entry.path) {
            Some(t) => t.clone(),
            None => load_text(&self.config.articles.dir, &self.ctx, entry),
        }
    }

    /// The text of an article the feeds show (kept by
    /// [`Catalog::cache_texts`]); `None` for any other.
    pub fn shown_text(&self, path: &str) -> Option<&Arc<ItemText>> {
        self.texts.get(path)
    }

    /// Keeps in memory exactly the texts the feeds show at `now` (reading
    /// the missing ones in parallel): memory stays bounded by feeds × items,
    /// not by the size of the archive.
    pub fn cache_texts(&mut self, now: DateTime<Utc>) {
        let shown: HashSet<Arc<str>> = (0..self.feeds.len())
            .flat_map(|i| self.shown_paths(i, now))
            .cloned()
            .collect();
        self.texts.retain(|p, _| shown.contains(p));
        let missing: Vec<(Arc<str>, SharedEntry)> = shown
            .into_iter()
            .filter(|p| !self.texts.contains_key(p))
            .filter_map(|p| self.entries.get(&p).map(|e| (p, e.clone())))
            .collect();
        let (root, ctx) = (&self.config.articles.dir, &self.ctx);
        let loaded: Vec<(Arc<str>, Arc<ItemText>)> = missing
            .into_par_iter()
            .map(|(p, e)| (p, load_text(root, ctx, &e)))
            .collect();
        self.texts.extend(loaded);
    }
}

impl Catalog {
    /// The texts of an archive page's articles: kept ones, the others read
    /// back from their files (on all cores).
    pub fn page_texts(&self, page: &PageWork) -> Vec<Arc<ItemText>> {
        let (root, ctx) = (&self.config.articles.dir, &self.ctx);
        page.entries
            .par_iter()
            .map(|e| match self.shown_text(&e.path) {
                Some(t) => t.clone(),
                None => load_text(root, ctx, e),
            })
            .collect()
    }
}

/// Reads an entry's words from its file again. If the file no longer
/// parses (it is changing right now), its file name stands in for its
/// title until the watcher reports the change.
pub fn load_text(root: &Path, ctx: &ParseContext, entry: &Entry) -> Arc<ItemText> {
    let path = root.join(&*entry.path);
    let text = match read_article(root, &path, ctx) {
        Ok(Some(mut a)) => a.take_text(),
        _ => ItemText::default(),
    };
    Arc::new(complete(text, entry))
}

/// `text` with a title (the file's name when it has none) and a body
/// made of its summary (or else its title) when it has none.
fn complete(mut text: ItemText, entry: &Entry) -> ItemText {
    if text.title.is_empty() {
        let name = entry.path.rsplit('/').next().unwrap_or(&entry.path);
        text.title = name.to_string();
    }
    if text.html.is_empty() {
        let said = match text.summary.is_empty() {
            true => &text.title,
            false => &text.summary,
        };
        text.html = format!("<p>{}</p>", quick_xml::escape::partial_escape(said));
    }
    text
}
