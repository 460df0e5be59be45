//! Every article file under the articles directory.

use std::path::{Path, PathBuf};

use super::keys::is_article_path;

/// Every article file under `root` (hidden folders and files, editors'
/// and downloads' leftovers skipped; links never followed).
pub fn list_articles(root: &Path) -> Vec<PathBuf> {
    article_files(root).collect()
}

/// [`list_articles`] as it is walked, for callers that need no list.
pub fn article_files(root: &Path) -> impl Iterator<Item = PathBuf> + Send {
    walkdir::WalkDir::new(root)
        .follow_links(false)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file() && is_article_path(e.path()))
        .map(|e| e.into_path())
}

/// Every file under `root` but hidden ones (`.name`, and what hidden
/// folders hold), links followed: the files of `media.dir`, as the
/// server serves them.
pub fn visible_files(root: &Path) -> impl Iterator<Item = PathBuf> + Send {
    walkdir::WalkDir::new(root)
        .follow_links(true)
        .into_iter()
        .filter_entry(|e| e.depth() == 0 || !e.file_name().to_string_lossy().starts_with('.'))
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
}
