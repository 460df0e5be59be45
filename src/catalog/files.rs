//! Files into changes: one file read and parsed ([`read_change`]), the
//! whole tree compared with the catalog ([`Catalog::rescan`]), and what
//! changed while nobody watched ([`Catalog::changed_since`]).

use std::borrow::Cow;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use chrono::Utc;
use foldhash::HashSet;
use rayon::prelude::*;

use super::index::Catalog;
use super::state::StateStore;
use crate::config::Config;
use crate::model::{Article, Change, ParseError, Reason};
use crate::parse::{self, ParseContext};
use crate::source::{self, FileRead, Looked};

impl Catalog {
    /// What the settled `paths` are now, as changes: files read and parsed
    /// (all on all cores), removals for what is gone (a folder's entries
    /// with it), the files of folders moved or copied in whole.
    pub fn changes_at(&self, paths: Vec<PathBuf>) -> Vec<Change> {
        let root = self.config.articles.dir.clone();
        let ctx = &self.ctx;
        // A round of many more files than the feeds can show (a burst, a
        // folder copied in) reads only their metadata, as the start-up scan
        // does: building a body most of them never show costs time and
        // memory, and the publish reads back the few shown.
        let shown_at_most = self.feeds.len() * self.config.feeds.items;
        let metadata_only = std::cell::OnceCell::new();
        let ctx_for = |files: usize| match files > 4 * shown_at_most {
            true => metadata_only.get_or_init(|| ctx.metadata_only()),
            false => ctx,
        };
        let round_ctx = ctx_for(paths.len());
        let limit = ctx.max_file_bytes;
        let looked: Vec<(Looked, Option<Change>)> = paths
            .into_par_iter()
            .filter_map(|path| source::look(&root, path, limit))
            .map(|looked| match looked {
                Looked::File(key, Some(read)) => {
                    let change = to_change(&root, key.clone(), read, round_ctx);
                    (Looked::File(key, None), Some(change))
                }
                other => (other, None),
            })
            .collect();
        let mut changes = Vec::new();
        let mut in_folders = Vec::new();
        for (looked, read) in looked {
            match looked {
                Looked::Gone(key) => {
                    changes.extend(self.paths_under(&key).into_iter().map(Change::Removed));
                    changes.push(Change::Removed(key));
                }
                Looked::Folder(path, key) => {
                    // A file replaced by a folder of the same name.
                    if self.by_path(&key).is_some() {
                        changes.push(Change::Removed(key));
                    }
                    if !source::is_ignored(&path) {
                        in_folders.extend(source::list_articles(&path));
                    }
                }
                Looked::File(key, _) => {
                    // A folder replaced by a file of the same name.
                    changes.extend(self.paths_under(&key).into_iter().map(Change::Removed));
                    changes.extend(read);
                }
                Looked::Other(path, key) => {
                    // Symlinks and devices are never read (a link could lead
                    // out of the articles directory).
                    if self.by_path(&key).is_some() {
                        changes.push(Change::Removed(key));
                    }
                    if source::is_article_path(&path) {
                        tracing::warn!(path = %path.display(), "not a regular file (symlinks are not followed); skipped");
                    }
                }
            }
        }
        let folder_ctx = ctx_for(in_folders.len());
        changes.par_extend(
            in_folders
                .par_iter()
                .map(|p| read_change(&root, p, folder_ctx)),
        );
        changes
    }

    /// Reads the whole articles directory in: first a removal for each
    /// entry whose file is gone (so a file renamed meanwhile takes its GUID
    /// over), then every file, `SCAN_CHUNK` at a time parsed on all cores
    /// and applied, so a whole archive's parsed articles are never in memory
    /// at once; so are their state records, handed to the store's writer
    /// batch by batch. `seen` gets each batch before it is applied (for logging).
    /// `startup`: state records of paths no longer on disk are marked gone
    /// too, so renames done while wirefeed was stopped are recognised.
    /// `hold_back_recent`: articles that may still be being written
    /// (`maybe_being_written`, with a second's slack as
    /// their dates are kept in whole seconds) are left out, and the caller
    /// reads them once they have settled (the daemon's catch-up).
    /// Returns how many files were read, and the paths held back.
    pub fn rescan(
        &mut self,
        startup: bool,
        hold_back_recent: bool,
        mut seen: impl FnMut(&[Change]),
    ) -> (usize, Vec<PathBuf>) {
        let settle = self.config.articles.settle + std::time::Duration::from_secs(1);
        let held_back = |c: &Change, now: std::time::SystemTime| match c {
            Change::Parsed(_, Ok(Some(a))) if hold_back_recent => {
                crate::watch::maybe_being_written(a.modified.into(), now, settle)
            }
            _ => false,
        };
        let root = self.config.articles.dir.clone();
        let files = source::list_articles(&root);
        // Keys borrowed from the listed paths: a string of its own for
        // each file of a big archive would add to the scan's peak.
        let on_disk: HashSet<Cow<str>> = files.iter().map(|p| source::key_in(&root, p)).collect();
        let gone: Vec<Change> = self
            .entries
            .keys()
            .filter(|p| !on_disk.contains(&***p))
            .map(|p| Change::Removed(p.to_string()))
            .collect();
        if startup {
            self.forget_missing(&on_disk);
        }
        drop(on_disk);
        seen(&gone);
        self.apply(gone);
        let count = files.len();
        // Texts are not built (a whole archive's would not fit in memory):
        // `cache_texts` reads back the few the feeds show.
        let ctx = self.ctx.metadata_only();
        let read = |path: &Path| read_change(&root, path, &ctx);
        let mut held = Vec::new();
        source::scan(files, read, |mut chunk| {
            let now = std::time::SystemTime::now();
            chunk.retain(|c| match (held_back(c, now), c) {
                (true, Change::Parsed(key, _)) => {
                    held.push(root.join(key));
                    false
                }
                _ => true,
            });
            seen(&chunk);
            self.apply(chunk);
            // A first start makes a record per article: handed to the
            // writer as they come, not gathered for the whole archive.
            if let Err(e) = self.state.flush() {
                tracing::error!(error = %e, "state changes are kept in memory only");
            }
        });
        (count, held)
    }

    /// What may have changed on disk since `since` without the catalog
    /// hearing of it (while no watch was in place): files it has not seen,
    /// files whose inode changed at or after `since` (ctime: every write,
    /// rename or chmod moves it, and unlike mtime it cannot be set back by
    /// `cp -p` or `touch -d`), and entries whose file is gone. Absolute
    /// paths, for the watcher's path handling.
    pub fn changed_since(&self, since: std::time::SystemTime) -> Vec<PathBuf> {
        use std::os::unix::fs::MetadataExt;
        let root = &self.config.articles.dir;
        let cutoff = since
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let changed_after = |m: &std::fs::Metadata| m.ctime() >= cutoff || m.mtime() >= cutoff;
        // Streamed (no list of the whole tree: this runs at peak memory).
        let mut changed: Vec<PathBuf> = source::article_files(root)
            .par_bridge()
            .filter(|p| {
                let key = source::relative_key(root, p);
                let known =
                    self.entries.contains_key(key.as_str()) || self.problems.contains_key(&key);
                !known || std::fs::symlink_metadata(p).map_or(true, |m| changed_after(&m))
            })
            .collect();
        changed.par_extend(
            self.entries
                .par_keys()
                .map(|k| root.join(&**k))
                .filter(|p| std::fs::symlink_metadata(p).is_err()),
        );
        changed
    }

    fn forget_missing(&mut self, on_disk: &HashSet<Cow<str>>) {
        let entries = &self.entries;
        self.state
            .mark_gone_unless(|path| on_disk.contains(path) || entries.contains_key(path));
    }
}

/// Reads and parses the file at `path` under `root`. `Ok(None)`: a draft.
pub fn read_article(
    root: &Path,
    path: &Path,
    ctx: &ParseContext,
) -> Result<Option<Article>, ParseError> {
    let key = source::relative_key(root, path);
    let read = source::read_file(path, ctx.max_file_bytes);
    parse_read(root, &key, read, ctx)
}

/// [`read_article`] as a change for the catalog. A read of metadata only
/// ([`ParseContext::metadata_only`]) carries no text (what it parsed of the
/// body is partial); [`Catalog::cache_texts`] reads the texts the feeds
/// show back.
pub fn read_change(root: &Path, path: &Path, ctx: &ParseContext) -> Change {
    let key = source::relative_key(root, path);
    let read = source::read_file(path, ctx.max_file_bytes);
    to_change(root, key, read, ctx)
}

/// The change a read of `key` makes.
pub fn to_change(
    root: &Path,
    key: String,
    read: Result<FileRead, Reason>,
    ctx: &ParseContext,
) -> Change {
    let mut parsed = parse_read(root, &key, read, ctx).map(|a| a.map(Box::new));
    if let (false, Ok(Some(article))) = (ctx.texts, &mut parsed) {
        article.take_text();
    }
    Change::Parsed(key, parsed)
}

fn parse_read(
    root: &Path,
    key: &str,
    read: Result<FileRead, Reason>,
    ctx: &ParseContext,
) -> Result<Option<Article>, ParseError> {
    let mut parsed = read
        .and_then(|file| parse::parse_bytes(key, &file.bytes, file.mtime, ctx))
        .map_err(|reason| ParseError {
            path: root.join(key),
            reason,
        })?;
    if let (Some(article), Some(media)) = (&mut parsed, &ctx.media) {
        fill_lengths(article, media);
    }
    Ok(parsed)
}

/// The size of each enclosure that gives none and points under
/// `{base_url}/media/`, from its file in `media.dir`. A missing file, or
/// a path that leaves the directory, leaves the length unknown.
fn fill_lengths(article: &mut Article, (prefix, dir): &(String, std::path::PathBuf)) {
    for enclosure in article.enclosures.iter_mut().filter(|e| e.length.is_none()) {
        let Some(rel) = enclosure.url.strip_prefix(prefix.as_str()) else {
            continue;
        };
        let rel = rel.split(['?', '#']).next().unwrap_or_default();
        let rel = percent_encoding::percent_decode_str(rel).decode_utf8_lossy();
        let safe = Path::new(&*rel)
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)));
        if !safe {
            continue;
        }
        match std::fs::metadata(dir.join(&*rel)) {
            Ok(m) if m.is_file() => enclosure.length = Some(m.len()),
            _ => article.warnings.push(format!(
                "enclosure {}: no such file in media.dir; its length is left out",
                enclosure.url
            )),
        }
    }
}

/// Builds a catalog from a directory in one go (for `build` and `check`).
pub fn load(config: Arc<Config>, state: StateStore) -> Catalog {
    let mut catalog = Catalog::new(config, state);
    catalog.rescan(true, false, |_| {});
    catalog.cache_texts(Utc::now());
    catalog
}
