//! What a changed path is now: gone, a folder, an article file (read), or
//! something never read (a symlink, a device).

use std::path::{Path, PathBuf};

use super::keys::{clean_tail, in_hidden_folder, is_article_path, is_inside, relative_key};
use super::read::{open_article, read_file, read_opened, FileRead};
use crate::model::Reason;

/// What a changed path is now.
#[derive(Debug)]
pub enum Looked {
    /// Nothing at the path any more.
    Gone(String),
    Folder(PathBuf, String),
    /// A regular file, read if it has an article's name.
    File(String, Option<Result<FileRead, Reason>>),
    /// A symlink, device or other non-regular file.
    Other(PathBuf, String),
}

/// What `path` is now, its bytes read if it is an article file (opened
/// first, asked of the path only when the open cannot tell); `None` for a
/// path that cannot hold an article (outside the root, the root itself,
/// or in a hidden folder, like the scan).
pub fn look(root: &Path, path: PathBuf, limit: u64) -> Option<Looked> {
    // The byte comparison that answers "inside?" for a clean join also
    // gives the key; anything else takes the component-wise way.
    let key = match clean_tail(root, &path) {
        Some(tail) => tail.to_owned(),
        None if is_inside(root, &path) && path != root => relative_key(root, &path),
        None => return None,
    };
    if in_hidden_folder(&key) {
        return None;
    }
    // An article file is opened first and asked what it is: a burst's
    // paths are nearly all new regular files, and a stat by path before the
    // open would be a second path lookup for each. What the open cannot
    // answer (a symlink refused, any other error) is asked of the path.
    if is_article_path(&path) {
        match open_article(&path) {
            Ok(file) => match file.metadata() {
                Ok(m) if m.is_file() => {
                    let read = read_opened(file, &m, limit);
                    return Some(Looked::File(key, Some(read)));
                }
                Ok(m) if m.is_dir() => return Some(Looked::Folder(path, key)),
                Ok(_) => return Some(Looked::Other(path, key)),
                Err(_) => {}
            },
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Some(Looked::Gone(key)),
            Err(_) => {}
        }
    }
    Some(match std::fs::symlink_metadata(&path) {
        Err(_) => Looked::Gone(key),
        Ok(m) if m.is_dir() => Looked::Folder(path, key),
        Ok(m) if m.is_file() => {
            let read = is_article_path(&path).then(|| read_file(&path, limit));
            Looked::File(key, read)
        }
        Ok(_) => Looked::Other(path, key),
    })
}
