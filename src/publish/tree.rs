//! The exported tree a store is reconciled with: a directory `build`
//! wrote ([`DirTree`], for `wirefeed publish`), or the live site
//! ([`SiteTree`], for `wirefeed serve`). Both give the same objects for
//! the same articles.

use std::path::{Component, Path, PathBuf};
use std::sync::Arc;

use bytes::Bytes;

use super::object::{is_history_page, Object};
use crate::config::Config;
use crate::site::{served_path, tree_key, Resource, Site};

/// A tree of objects by key (`index.html`, `feeds/all.rss`, ...).
pub trait Tree: Sync {
    /// Every key the tree holds now.
    fn keys(&self) -> Vec<String>;
    /// The object at `key`; `None`: not in the tree (any more), or not
    /// readable now (see [`Tree::has`]).
    fn get(&self, key: &str) -> Option<Object>;
    /// Is `key` in the tree (whether or not it can be read right now)?
    /// Only a key the tree does not have is deleted from the store.
    fn has(&self, key: &str) -> bool;
}

/// A directory written by `wirefeed build --out`.
pub struct DirTree {
    pub root: PathBuf,
    pub config: Arc<Config>,
}

impl Tree for DirTree {
    fn keys(&self) -> Vec<String> {
        files_under(&self.root, "")
    }

    fn get(&self, key: &str) -> Option<Object> {
        let bytes = std::fs::read(self.root.join(safe(key)?)).ok()?;
        // `build` cuts archive pages from the files each time (an edit to
        // an old article changes its page): none is promised immutable.
        Some(Object::new(&self.config, key, Bytes::from(bytes), false))
    }

    fn has(&self, key: &str) -> bool {
        safe(key).is_some_and(|rel| self.root.join(rel).exists())
    }
}

/// The site `wirefeed serve` publishes: its feeds and pages, its stored
/// archive pages, its article pages (rendered from the article files) and
/// `media.dir`.
pub struct SiteTree {
    pub site: Arc<Site>,
}

impl Tree for SiteTree {
    fn keys(&self) -> Vec<String> {
        let site = &self.site;
        let mut keys: Vec<String> = site.paths().iter().map(|p| tree_key(p)).collect();
        keys.extend(site.archive_keys());
        keys.extend(site.article_keys());
        if let Some(media) = &site.config().media.dir {
            keys.extend(files_under(media, "media/"));
        }
        keys
    }

    fn get(&self, key: &str) -> Option<Object> {
        let site = &self.site;
        let config = site.config();
        if let Some(rel) = key.strip_prefix("media/") {
            let bytes = std::fs::read(config.media.dir.as_ref()?.join(safe(rel)?)).ok()?;
            return Some(Object::new(&config, key, Bytes::from(bytes), false));
        }
        let res = match key.strip_prefix("articles/") {
            Some(page) => site.article_page(page.strip_suffix(".html")?, chrono::Utc::now())?,
            None => {
                let path = served_path(key);
                match site.resource(&path) {
                    Some(res) => Resource::clone(&res),
                    None if is_history_page(key) => site.archive_page(&path)?,
                    None => return None,
                }
            }
        };
        let complete = res.is_immutable();
        Some(Object::new(&config, key, res.identity().clone(), complete))
    }

    fn has(&self, key: &str) -> bool {
        let site = &self.site;
        if let Some(rel) = key.strip_prefix("media/") {
            let dir = site.config().media.dir.clone();
            return dir
                .zip(safe(rel))
                .is_some_and(|(dir, rel)| dir.join(rel).exists());
        }
        if let Some(page) = key.strip_prefix("articles/") {
            let id = page.strip_suffix(".html").unwrap_or(page);
            return site.has_article_page(id, chrono::Utc::now());
        }
        let path = served_path(key);
        site.resource(&path).is_some() || (is_history_page(key) && site.has_archive_page(&path))
    }
}

/// `key` as a relative path that stays inside its directory.
fn safe(key: &str) -> Option<&Path> {
    let path = Path::new(key);
    path.components()
        .all(|c| matches!(c, Component::Normal(_)))
        .then_some(path)
}

/// Every file under `root` (as [`crate::source::visible_files`]) as
/// `prefix` + its `/`-separated relative path.
fn files_under(root: &Path, prefix: &str) -> Vec<String> {
    crate::source::visible_files(root)
        .filter_map(|file| {
            let rel = file.strip_prefix(root).ok()?;
            let parts: Vec<String> = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            Some(format!("{prefix}{}", parts.join("/")))
        })
        .collect()
}
