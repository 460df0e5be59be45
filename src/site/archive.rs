//! Archive pages on disk: written once, gzip-compressed, under
//! `state.dir/archives/<slug>/<number>.<ext>.gz`, and read back when asked
//! for; they are not held in memory (a newsroom's history is large).
//!
//! The `wirefeed-archive` thread compresses and writes them, and adds the
//! `next-archive` link to the page before, so the publisher only renders
//! them; until a page is written it is served from memory. The pages read
//! back most recently stay in memory too ([`Reader`]): a reader walking the
//! history, or a CDN filling its cache, asks for the same pages many
//! times, and reading and inflating one costs more than serving a feed.

use std::collections::HashMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};

use super::changes::Changes;
use super::compress;
use super::resource::Resource;
use crate::render::{self, FeedFormat};

/// Jobs the writer may fall behind by before the publisher waits for it.
const QUEUE: usize = 4;
/// Memory for the pages read back most recently (identity and gzip).
const CACHE_BYTES: u64 = 32 << 20;

/// One thing for the writer to do, in order.
enum Job {
    /// Write this page (`dir`, path, identity bytes).
    Store(PathBuf, String, Arc<Vec<u8>>),
    /// Add `next-archive` (to this URL) to a written page.
    Link(PathBuf, String, FeedFormat, String),
}

/// Pages rendered and not written yet, by path; and the writer's queue.
pub(super) struct Writer {
    waiting: Arc<Mutex<HashMap<String, Arc<Vec<u8>>>>>,
    jobs: Option<Mutex<SyncSender<Job>>>,
    changes: Arc<Changes>,
    reader: Arc<Reader>,
}

impl Writer {
    /// The writer thread (or, where it cannot start, writing on the
    /// caller's thread).
    /// `changes` hears of each page written or linked (and of the page
    /// before a new one: it is complete now).
    pub(super) fn start(changes: Arc<Changes>, reader: Arc<Reader>) -> Writer {
        let waiting: Arc<Mutex<HashMap<String, Arc<Vec<u8>>>>> = Arc::default();
        // Bounded: a first start renders pages faster than they are
        // compressed, and the ones waiting are held in memory.
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let pending = waiting.clone();
        let spawned = std::thread::Builder::new()
            .name("wirefeed-archive".into())
            .spawn({
                let (changes, reader) = (changes.clone(), reader.clone());
                move || run(&rx, &pending, &changes, &reader)
            });
        Writer {
            waiting,
            jobs: spawned.ok().map(|_| Mutex::new(tx)),
            changes,
            reader,
        }
    }

    /// Queues page `path` to be written under `dir`; served from memory
    /// until it is.
    pub(super) fn store(&self, dir: PathBuf, path: &str, identity: Vec<u8>) {
        let key = path.trim_start_matches('/').to_string();
        let bytes = Arc::new(identity);
        if let Ok(mut waiting) = self.waiting.lock() {
            waiting.insert(key.clone(), bytes.clone());
        }
        self.send(Job::Store(dir, key, bytes));
    }

    /// Queues adding `next-archive` (`next`) to page `path`, after the
    /// writes queued before.
    pub(super) fn link(&self, dir: PathBuf, path: &str, format: FeedFormat, next: String) {
        let key = path.trim_start_matches('/').to_string();
        self.send(Job::Link(dir, key, format, next));
    }

    fn send(&self, job: Job) {
        let sent = self
            .jobs
            .as_ref()
            .and_then(|tx| tx.lock().ok().map(|tx| tx.send(job)));
        match sent {
            Some(Ok(())) => {}
            Some(Err(mpsc::SendError(job))) => {
                do_job(job, &self.waiting, &self.changes, &self.reader)
            }
            None => {}
        }
    }

    /// A page rendered and not written yet.
    pub(super) fn waiting(&self, path: &str) -> Option<Arc<Vec<u8>>> {
        let key = path.trim_start_matches('/');
        self.waiting.lock().ok()?.get(key).cloned()
    }
}

type Waiting = Mutex<HashMap<String, Arc<Vec<u8>>>>;

fn run(rx: &Receiver<Job>, waiting: &Waiting, changes: &Changes, reader: &Reader) {
    while let Ok(job) = rx.recv() {
        do_job(job, waiting, changes, reader);
    }
}

fn do_job(job: Job, waiting: &Waiting, changes: &Changes, reader: &Reader) {
    match job {
        Job::Store(dir, path, bytes) => {
            let stored = store(&dir, &path, &bytes);
            reader.forget(&dir, &path);
            match stored {
                Ok(()) => changes.note(std::iter::once(path.clone()).chain(page_before(&path))),
                Err(e) => tracing::error!(page = %path, error = %e, "archive page not stored"),
            }
            if let Ok(mut w) = waiting.lock() {
                if w.get(&path).is_some_and(|b| Arc::ptr_eq(b, &bytes)) {
                    w.remove(&path);
                }
            }
        }
        Job::Link(dir, path, format, next) => {
            let linked = load(&dir, &path)
                .and_then(|page| render::link_next_archive(format, &page.identity()[..], &next));
            let stored = match linked {
                Some(bytes) => store(&dir, &path, &bytes),
                None => Err(std::io::Error::other("no stored page to link")),
            };
            reader.forget(&dir, &path);
            match stored {
                Ok(()) => changes.note([path]),
                Err(e) => tracing::error!(page = %path, error = %e, "next-archive link not added"),
            }
        }
    }
}

/// The file of archive page `path` under `dir`, and its content type:
/// `feeds/archive/<slug>/<n>.<ext>` (a feed document) or
/// `categories/<slug>/<n>.html` (its HTML page), as rendered or as
/// requested with a leading `/`; `None` for any other path.
fn file_of(dir: &Path, path: &str) -> Option<(PathBuf, &'static str)> {
    let path = path.trim_start_matches('/');
    let (rest, html) = match path.strip_prefix("feeds/archive/") {
        Some(rest) => (rest, false),
        None => (path.strip_prefix("categories/")?, true),
    };
    let (slug, page) = rest.split_once('/')?;
    let (number, ext) = page.split_once('.')?;
    let content_type = match html {
        true => (ext == "html").then_some("text/html; charset=utf-8")?,
        false => FeedFormat::ALL
            .into_iter()
            .find(|f| f.extension() == ext)?
            .content_type(),
    };
    let slug_ok = !slug.is_empty()
        && slug
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    let number_ok = !number.is_empty()
        && !number.starts_with('0')
        && number.bytes().all(|b| b.is_ascii_digit());
    (slug_ok && number_ok).then(|| {
        let file = dir.join(slug).join(format!("{number}.{ext}.gz"));
        (file, content_type)
    })
}

/// Stores a complete page's document (gzip, written to a temporary file
/// and renamed, so a reader never sees half of it).
fn store(dir: &Path, path: &str, identity: &[u8]) -> std::io::Result<()> {
    let (file, _) = file_of(dir, path).ok_or_else(|| {
        std::io::Error::new(std::io::ErrorKind::InvalidInput, "not an archive page")
    })?;
    if let Some(parent) = file.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = file.with_extension("gz.tmp");
    std::fs::write(&tmp, compress::gzip(identity))?;
    std::fs::rename(&tmp, &file)
}

/// Is page `path` stored under `dir`?
pub(super) fn is_stored(dir: &Path, path: &str) -> bool {
    file_of(dir, path).is_some_and(|(file, _)| file.exists())
}

/// Reads stored pages back, keeping the latest in memory up to
/// [`CACHE_BYTES`]. The writer forgets a page, and the one before it (its
/// `next` page exists now), each time it writes one
/// ([`Reader::forget`]); a page read while that happens is not kept.
pub(super) struct Reader {
    cache: quick_cache::sync::Cache<PathBuf, Resource, PageWeight>,
    /// Bumped by every write; a page is kept only if no write came between
    /// reading it and keeping it.
    writes: Mutex<u64>,
}

#[derive(Clone)]
struct PageWeight;

impl quick_cache::Weighter<PathBuf, Resource> for PageWeight {
    fn weight(&self, _: &PathBuf, page: &Resource) -> u64 {
        let gzip = page.body(super::resource::Encoding::Gzip).len();
        (page.identity().len() + gzip) as u64
    }
}

impl Reader {
    pub(super) fn new() -> Reader {
        // About 100 kB a page (identity and gzip).
        let pages = (CACHE_BYTES / 100_000) as usize;
        Reader {
            cache: quick_cache::sync::Cache::with_weighter(pages, CACHE_BYTES, PageWeight),
            writes: Mutex::new(0),
        }
    }

    /// Page `path` under `dir` if it is kept in memory (no I/O).
    pub(super) fn kept(&self, dir: &Path, path: &str) -> Option<Resource> {
        let (file, _) = file_of(dir, path)?;
        self.cache.get(&file)
    }

    /// Stored page `path` under `dir` (blocking I/O), kept for next time;
    /// `None` when there is none.
    pub(super) fn load(&self, dir: &Path, path: &str) -> Option<Resource> {
        if let Some(page) = self.kept(dir, path) {
            return Some(page);
        }
        let (file, _) = file_of(dir, path)?;
        let before = self.writes.lock().map(|w| *w).ok();
        let page = load(dir, path)?;
        if let Ok(now) = self.writes.lock() {
            if before == Some(*now) {
                self.cache.insert(file, page.clone());
            }
        }
        Some(page)
    }

    /// Page `path` under `dir` was written: forget it and the page before.
    fn forget(&self, dir: &Path, path: &str) {
        let Ok(mut writes) = self.writes.lock() else {
            return;
        };
        *writes += 1;
        for p in std::iter::once(path.to_string()).chain(page_before(path)) {
            if let Some((file, _)) = file_of(dir, &p) {
                self.cache.remove(&file);
            }
        }
    }
}

/// A stored page read back (blocking I/O); `None` when there is none.
fn load(dir: &Path, path: &str) -> Option<Resource> {
    let (file, content_type) = file_of(dir, path)?;
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
    Some(Resource::stored(content_type, identity, gzip, secs, next))
}

/// The keys (`feeds/archive/<slug>/<n>.<ext>`, `categories/<slug>/<n>.html`)
/// of every page stored under `dir`.
pub(super) fn stored_keys(dir: &Path) -> Vec<String> {
    let mut keys = Vec::new();
    let Ok(slugs) = std::fs::read_dir(dir) else {
        return keys;
    };
    for slug in slugs.flatten() {
        let slug_name = slug.file_name().to_string_lossy().into_owned();
        let Ok(files) = std::fs::read_dir(slug.path()) else {
            continue;
        };
        for file in files.flatten() {
            let name = file.file_name().to_string_lossy().into_owned();
            let Some(page) = name.strip_suffix(".gz") else {
                continue;
            };
            let key = match page.ends_with(".html") {
                true => format!("categories/{slug_name}/{page}"),
                false => format!("feeds/archive/{slug_name}/{page}"),
            };
            if file_of(dir, &key).is_some() {
                keys.push(key);
            }
        }
    }
    keys
}

/// The path of the page before archive page `path`, if any.
fn page_before(path: &str) -> Option<String> {
    let (dir, page) = path.rsplit_once('/')?;
    let (number, ext) = page.split_once('.')?;
    let number: usize = number.parse().ok()?;
    (number > 1).then(|| format!("{dir}/{}.{ext}", number - 1))
}

/// The path of the page after archive page `path`.
pub fn next_page(path: &str) -> Option<String> {
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
        let (file, _) = file_of(dir, "/categories/world/12.html").expect("a page");
        assert_eq!(file, Path::new("/s/world/12.html.gz"));
        for bad in [
            "/feeds/archive/../x/1.rss",
            "/feeds/archive/world/01.rss",
            "/feeds/archive/world/1.xml",
            "/feeds/archive/World/1.rss",
            "/feeds/archive/world/1.rss/x",
            "/feeds/world.rss",
            "/categories/world.html",
            "/categories/world/2.rss",
        ] {
            assert!(file_of(dir, bad).is_none(), "{bad}");
        }
    }
}
