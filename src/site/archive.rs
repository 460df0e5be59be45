//! Complete archive pages on disk: written once, gzip-compressed, under
//! `state.dir/archives/<slug>/<number>.<ext>.gz`, and read back when asked
//! for; they are never held in memory (a newsroom's history is large).
//! Open pages are served from the snapshot like the feeds.

use std::io::Read;
use std::path::{Path, PathBuf};

use super::compress;
use super::resource::Resource;
use crate::render::FeedFormat;

/// The file of archive page `path` (`feeds/archive/<slug>/<n>.<ext>`, as
/// rendered, or as requested with a leading `/`) under `dir`, and its
/// format; `None` for any other path.
fn file_of(dir: &Path, path: &str) -> Option<(PathBuf, FeedFormat)> {
    let rest = path
        .trim_start_matches('/')
        .strip_prefix("feeds/archive/")?;
    let (slug, page) = rest.split_once('/')?;
    let (number, ext) = page.split_once('.')?;
    let format = FeedFormat::ALL.into_iter().find(|f| f.extension() == ext)?;
    let slug_ok = !slug.is_empty()
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let number_ok = !number.is_empty()
        && !number.starts_with('0')
        && number.bytes().all(|b| b.is_ascii_digit());
    (slug_ok && number_ok).then(|| (dir.join(slug).join(format!("{number}.{ext}.gz")), format))
}

/// Stores a complete page's document (gzip, written to a temporary file
/// and renamed, so a reader never sees half of it).
pub(super) fn store(dir: &Path, path: &str, identity: &[u8]) -> std::io::Result<()> {
    let (file, _) = file_of(dir, path).ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "not an archive page")
    })?;
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = file.with_extension("gz.tmp");
    std::fs::write(&tmp, compress::gzip_fast(identity))?;
    std::fs::rename(&tmp, &file)
}

/// A stored page read back (blocking I/O); `None` when there is none.
pub(super) fn load(dir: &Path, path: &str) -> Option<Resource> {
    let (file, format) = file_of(dir, path)?;
    let gzip = std::fs::read(&file).ok()?;
    let written = std::fs::metadata(&file).and_then(|m| m.modified()).ok()?;
    let mut identity = Vec::with_capacity(gzip.len() * 5);
    flate2::read::GzDecoder::new(&gzip[..])
        .read_to_end(&mut identity)
        .ok()?;
    let secs = written
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    // Final once the page after it exists (see `render::link_next_archive`).
    let next = file_of(dir, &next_page(path)?).is_some_and(|(f, _)| f.exists());
    Some(Resource::stored(
        format.content_type(),
        identity,
        gzip,
        secs,
        next,
    ))
}

/// The path of the page after archive page `path`.
fn next_page(path: &str) -> Option<String> {
    let (dir, page) = path.rsplit_once('/')?;
    let (number, ext) = page.split_once('.')?;
    let number: usize = number.parse().ok()?;
    Some(format!("{dir}/{}.{ext}", number + 1))
}

#[cfg(test)]
mod tests {
    use super::file_of;
    use std::path::Path;

    #[test]
    fn only_archive_page_paths_name_a_file() {
        let dir = Path::new("/s");
        let (file, _) = file_of(dir, "/feeds/archive/world/12.rss").expect("a page");
        assert_eq!(file, Path::new("/s/world/12.rss.gz"));
        for bad in [
            "/feeds/archive/../x/1.rss",
            "/feeds/archive/world/01.rss",
            "/feeds/archive/world/1.xml",
            "/feeds/archive/World/1.rss",
            "/feeds/archive/world/1.rss/x",
            "/feeds/world.rss",
        ] {
            assert!(file_of(dir, bad).is_none(), "{bad}");
        }
    }
}
