//! Which paths under the articles directory hold articles, and the key
//! each is known by: its path relative to the directory, `/`-separated,
//! the same on every machine reading the same tree.

use std::borrow::Cow;
use std::path::Path;

use crate::model::Format;

/// Editor swap files, partial downloads and hidden files are never articles.
pub fn is_ignored(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return true;
    };
    name.starts_with('.')
        || name.ends_with('~')
        || [".swp", ".swx", ".tmp", ".part", ".crdownload"]
            .iter()
            .any(|ext| name.ends_with(ext))
}

/// Is some folder on a relative key hidden (`world/.drafts/a.txt`)? Hidden
/// folders are skipped like hidden files, by the scan and the watcher alike.
pub fn in_hidden_folder(key: &str) -> bool {
    key.rsplit_once('/')
        .is_some_and(|(dirs, _)| dirs.split('/').any(|d| d.starts_with('.')))
}

/// Is this a file name wirefeed reads (and not an ignored one)?
pub fn is_article_path(path: &Path) -> bool {
    !is_ignored(path) && article_format(path).is_some()
}

/// The format a file name says an article is in (by extension).
pub fn article_format(path: &Path) -> Option<Format> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "txt" => Some(Format::Scraped),
        "md" | "markdown" => Some(Format::Markdown),
        "json" => Some(Format::Json),
        _ => None,
    }
}

/// `path` relative to `root`, `/`-separated (the article's stable key).
pub fn relative_key(root: &Path, path: &Path) -> String {
    key_in(root, path).into_owned()
}

/// [`relative_key`], borrowed from `path` when it is a plain join (nearly
/// always): a key for each of a whole archive's listed paths costs no
/// string of its own.
pub fn key_in<'a>(root: &Path, path: &'a Path) -> Cow<'a, str> {
    if let Some(tail) = clean_tail(root, path) {
        return Cow::Borrowed(tail);
    }
    let rel = path.strip_prefix(root).unwrap_or(path);
    Cow::Owned(
        rel.components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
    )
}

/// What follows `root` and a `/` in `path`, when that is UTF-8 made of
/// plain names only (no empty, `.` or `..` part): then it is also what
/// [`relative_key`] builds part by part, and `path` is inside `root`.
/// Nearly every path is such a join (the scan's and notify's), and
/// comparing bytes costs far less than comparing `Path` components, for
/// every path of a burst.
pub fn clean_tail<'a>(root: &Path, path: &'a Path) -> Option<&'a str> {
    use std::os::unix::ffi::OsStrExt;
    let root = root.as_os_str().as_bytes();
    if root.is_empty() {
        return None;
    }
    let rest = path.as_os_str().as_bytes().strip_prefix(root)?;
    let rest = std::str::from_utf8(rest.strip_prefix(b"/")?).ok()?;
    rest.split('/')
        .all(|part| !matches!(part, "" | "." | ".."))
        .then_some(rest)
}

/// Is `path` inside `root` (lexically, no `..`)?
pub fn is_inside(root: &Path, path: &Path) -> bool {
    if clean_tail(root, path).is_some() {
        return true;
    }
    path.strip_prefix(root).is_ok_and(|rel| {
        rel.components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::path::PathBuf;

    /// A path as the parts give it: `/`-joined bytes, not always UTF-8 and
    /// not always clean (empty, `.` and `..` parts), maybe absolute.
    fn messy_path() -> impl Strategy<Value = PathBuf> {
        let part = prop_oneof![
            Just(&b""[..]),
            Just(&b"."[..]),
            Just(&b".."[..]),
            Just(&b"a"[..]),
            Just(&b"ab"[..]),
            Just(&b".x"[..]),
            Just("é".as_bytes()),
            Just(&b"\xff"[..]),
        ];
        (any::<bool>(), prop::collection::vec(part, 0..5)).prop_map(|(absolute, parts)| {
            use std::os::unix::ffi::OsStringExt;
            let mut bytes = if absolute { b"/".to_vec() } else { Vec::new() };
            bytes.extend(parts.join(&b'/'));
            PathBuf::from(std::ffi::OsString::from_vec(bytes))
        })
    }

    proptest! {
        /// Keys and the inside test, taken by comparing bytes where the path
        /// is a clean join, are what comparing `Path` components gives.
        #[test]
        fn byte_compared_keys_equal_component_wise_ones(
            root in messy_path(),
            tail in messy_path(),
            separator in prop_oneof![Just(""), Just("/"), Just("//")],
        ) {
            use std::os::unix::ffi::OsStrExt;
            let mut bytes = root.as_os_str().as_bytes().to_vec();
            bytes.extend(separator.as_bytes());
            bytes.extend(tail.as_os_str().as_bytes());
            let path = PathBuf::from(std::ffi::OsStr::from_bytes(&bytes));
            let rel = path.strip_prefix(&root).unwrap_or(&path);
            let key = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            prop_assert_eq!(relative_key(&root, &path), key);
            let inside = path.strip_prefix(&root).is_ok_and(|rel| {
                rel.components()
                    .all(|c| matches!(c, std::path::Component::Normal(_)))
            });
            prop_assert_eq!(is_inside(&root, &path), inside);
        }
    }

    #[test]
    fn swap_temp_and_hidden_files_are_not_articles() {
        for name in [
            ".hidden.txt",
            "a.txt.swp",
            "notes.txt~",
            "upload.tmp",
            "big.part",
            ".#lock.txt",
            "x.png",
        ] {
            assert!(!is_article_path(Path::new(name)), "{name}");
        }
        for name in ["a.txt", "b.md", "c.markdown", "d.JSON"] {
            assert!(is_article_path(Path::new(name)), "{name}");
        }
    }

    #[test]
    fn hidden_folders_hide_their_files() {
        assert!(in_hidden_folder("world/.drafts/a.txt"));
        assert!(in_hidden_folder(".git/a.txt"));
        assert!(!in_hidden_folder("world/a.txt"));
        assert!(!in_hidden_folder("a.txt"));
    }

    #[test]
    fn paths_outside_the_root_or_with_dot_dot_are_not_inside() {
        let root = Path::new("/srv/articles");
        assert!(is_inside(root, Path::new("/srv/articles/world/a.txt")));
        assert!(!is_inside(root, Path::new("/srv/articles/../etc/passwd")));
        assert!(!is_inside(root, Path::new("/etc/passwd")));
    }
}
