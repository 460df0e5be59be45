//! Publishing to S3-compatible object storage, against a real S3 API: a
//! `moto_server` of its own per test (in memory, on a free loopback port).
//!
//! The bucket is read back with `object_store`'s S3 client (the crate
//! wirefeed itself uploads with), and requests are counted from the HTTP
//! traffic moto saw (its request recorder, `/moto-api/recorder/*`), never
//! from wirefeed's output: uploads are `PUT /BUCKET/KEY`, deletions
//! `POST /BUCKET?delete` (S3 DeleteObjects, how `object_store` deletes)
//! with the keys in the body. An outage is a loopback proxy in front of
//! moto that the test stops and starts again on the same port.
//!
//! `moto_server` is `$MOTO_SERVER`, else the first `moto_server`
//! on `PATH` (`pip install 'moto[server]'`); without one the tests fail,
//! unless `S3_TESTS=skip`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::{free_port, holds_for, wait_until, Daemon, Site};
use futures::{StreamExt, TryStreamExt};
use object_store::aws::{AmazonS3, AmazonS3Builder};
use object_store::{Attribute, ObjectStore, ObjectStoreExt};

const BUCKET: &str = "wire";
/// `Cache-Control` of a complete archive page.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

// ---------------------------------------------------------------------------
// moto_server
// ---------------------------------------------------------------------------

/// The `moto_server` to run; None (after a note) when `S3_TESTS=skip`
/// and there is none.
fn moto_server_path() -> Option<PathBuf> {
    if let Some(path) = std::env::var_os("MOTO_SERVER") {
        let path = PathBuf::from(path);
        assert!(
            path.is_file(),
            "MOTO_SERVER={} is not a file",
            path.display()
        );
        return Some(path);
    }
    let on_path = std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join("moto_server"))
            .find(|p| p.is_file())
    });
    if on_path.is_some() {
        return on_path;
    }
    if std::env::var("S3_TESTS").as_deref() == Ok("skip") {
        // Straight to stderr: the harness captures `eprintln!` of a test
        // that passes.
        let _ = std::io::Write::write_all(
            &mut std::io::stderr(),
            b"note: S3_TESTS=skip and no moto_server: S3 test skipped\n",
        );
        return None;
    }
    panic!(
        "no moto_server: these tests run an S3 API locally. Install it with \
         `python3 -m venv /tmp/moto && /tmp/moto/bin/pip install 'moto[server]'`, then \
         put /tmp/moto/bin on PATH or set MOTO_SERVER=/tmp/moto/bin/moto_server \
         (or set S3_TESTS=skip to skip the S3 tests)"
    );
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(10)))
        .build()
        .new_agent()
}

/// A `moto_server` on its own port, killed on drop; its request recorder
/// writes to a file of its own.
struct Moto {
    child: Child,
    port: u16,
    /// The recording and the log.
    _dir: tempfile::TempDir,
    http: ureq::Agent,
}

/// One request moto recorded.
#[derive(Debug, Clone)]
struct Recorded {
    method: String,
    /// The object key under `BUCKET/` (percent-decoded), if any.
    key: Option<String>,
    url: String,
    body: Vec<u8>,
}

impl Moto {
    /// Starts a server and waits until it answers (None: skipped).
    fn start() -> Option<Moto> {
        let exe = moto_server_path()?;
        let dir = tempfile::Builder::new()
            .prefix("wirefeed-moto-")
            .tempdir()
            .expect("tempdir");
        let http = agent();
        let log_path = dir.path().join("moto.log");
        let mut last_log = String::new();
        // A free port may be taken before moto binds it: try another.
        for _ in 0..3 {
            let port = free_port();
            let log = fs::File::create(&log_path).expect("moto log");
            let mut child = Command::new(&exe)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .env("MOTO_RECORDER_FILEPATH", dir.path().join("recording.jsonl"))
                .stdin(Stdio::null())
                .stdout(log.try_clone().expect("log"))
                .stderr(log)
                .spawn()
                .unwrap_or_else(|e| panic!("spawn {}: {e}", exe.display()));
            // Answers once the server is up (and creates the recording file).
            let reset = format!("http://127.0.0.1:{port}/moto-api/recorder/reset-recording");
            let up = wait_until(
                || {
                    matches!(child.try_wait(), Ok(None))
                        && http
                            .post(&reset)
                            .send_empty()
                            .is_ok_and(|r| r.status() == 200)
                },
                Duration::from_secs(30),
            );
            if up {
                return Some(Moto {
                    child,
                    port,
                    _dir: dir,
                    http,
                });
            }
            let _ = child.kill();
            let _ = child.wait();
            last_log = fs::read_to_string(&log_path).unwrap_or_default();
        }
        panic!("moto_server did not answer within 30 s; its log:\n{last_log}");
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn endpoint(&self) -> String {
        self.url("")
    }

    fn post(&self, path: &str) -> bool {
        self.http
            .post(self.url(path))
            .send_empty()
            .is_ok_and(|r| r.status() == 200)
    }

    /// Creates a bucket (moto takes an unsigned `PUT /BUCKET`).
    fn create_bucket(&self, bucket: &str) {
        let resp = self
            .http
            .put(self.url(&format!("/{bucket}")))
            .send_empty()
            .expect("PUT bucket");
        assert_eq!(resp.status(), 200, "creating bucket {bucket}");
    }

    /// Clears the recording and records from now on.
    fn record_from_now(&self) {
        assert!(self.post("/moto-api/recorder/reset-recording"));
        assert!(self.post("/moto-api/recorder/start-recording"));
    }

    /// Every request recorded since [`Moto::record_from_now`]. (Entries are
    /// JSON objects; concurrent requests may interleave the newlines that
    /// separate them, so they are read as a stream of values.)
    fn recording(&self) -> Vec<Recorded> {
        let mut resp = self
            .http
            .get(self.url("/moto-api/recorder/download-recording"))
            .call()
            .expect("download recording");
        assert_eq!(resp.status(), 200);
        let text = resp
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_string()
            .expect("recording text");
        serde_json::Deserializer::from_str(&text)
            .into_iter::<serde_json::Value>()
            .map(|entry| {
                let entry = entry.unwrap_or_else(|e| panic!("recording: {e}\n{text}"));
                let url = entry["url"].as_str().unwrap_or_default().to_string();
                let body = entry["body"].as_str().unwrap_or_default();
                let body = match entry["body_encoded"].as_bool() {
                    Some(true) => base64_decode(body),
                    _ => body.as_bytes().to_vec(),
                };
                Recorded {
                    method: entry["method"].as_str().unwrap_or_default().to_string(),
                    key: object_key(&url),
                    url,
                    body,
                }
            })
            .collect()
    }

    /// Every key recorded deleted, in order.
    fn recorded_deletes(&self) -> Vec<String> {
        self.recording().iter().flat_map(deleted_keys).collect()
    }

    /// The keys of the recorded `method` requests on objects, in order.
    fn recorded_keys(&self, method: &str) -> Vec<String> {
        self.recording()
            .into_iter()
            .filter(|r| r.method == method)
            .map(|r| {
                r.key
                    .unwrap_or_else(|| panic!("{method} {} names no object", r.url))
            })
            .collect()
    }
}

/// The object keys a request deletes: `DELETE /BUCKET/KEY`, or
/// `POST /BUCKET?delete` (S3 DeleteObjects, what `object_store` sends) with
/// the keys in its XML body.
fn deleted_keys(r: &Recorded) -> Vec<String> {
    match r.method.as_str() {
        "DELETE" => r.key.iter().cloned().collect(),
        "POST" if r.url.ends_with("?delete") || r.url.contains("?delete&") => {
            let body = String::from_utf8_lossy(&r.body);
            let doc = roxmltree::Document::parse(&body)
                .unwrap_or_else(|e| panic!("DeleteObjects body: {e}: {body}"));
            doc.descendants()
                .filter(|n| n.has_tag_name("Key"))
                .map(|n| n.text().unwrap_or_default().to_string())
                .collect()
        }
        _ => Vec::new(),
    }
}

/// Standard base64 (the recorder's encoding of request bodies).
fn base64_decode(text: &str) -> Vec<u8> {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' => 62,
        b'/' => 63,
        _ => panic!("not base64: {c:?}"),
    };
    let digits: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .map(value)
        .collect();
    let mut out = Vec::with_capacity(digits.len() * 3 / 4);
    for chunk in digits.chunks(4) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, d)| n | (u32::from(*d) << (18 - 6 * i)));
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

impl Moto {
    /// The keys (under `prefix/`) the recording PUT and deleted, each once:
    /// `(written, deleted)`.
    fn writes(&self, prefix: &str) -> (BTreeSet<String>, BTreeSet<String>) {
        let cut = prefix.len() + 1;
        let puts = self.recorded_keys("PUT");
        assert_eq!(duplicates(&puts), Vec::<String>::new(), "uploaded twice");
        let deletes = self.recorded_deletes();
        assert_eq!(duplicates(&deletes), Vec::<String>::new(), "deleted twice");
        let keys = |v: Vec<String>| v.iter().map(|k| k[cut..].to_string()).collect();
        (keys(puts), keys(deletes))
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `http://host/BUCKET/KEY?query` → KEY (percent-decoded).
fn object_key(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    let rest = url.path().strip_prefix(&format!("/{BUCKET}/"))?;
    if rest.is_empty() {
        return None;
    }
    Some(
        percent_encoding::percent_decode_str(rest)
            .decode_utf8()
            .ok()?
            .into_owned(),
    )
}

/// Skips the test (returns) when there is no moto_server and
/// `S3_TESTS=skip`.
macro_rules! moto_or_skip {
    () => {
        match Moto::start() {
            Some(moto) => moto,
            None => return,
        }
    };
}

// ---------------------------------------------------------------------------
// Reading the bucket
// ---------------------------------------------------------------------------

/// One object as the store holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Stored {
    bytes: Vec<u8>,
    content_type: Option<String>,
    cache_control: Option<String>,
    language: Option<String>,
}

/// The bucket through `object_store`'s S3 client.
struct Bucket {
    store: AmazonS3,
    runtime: tokio::runtime::Runtime,
}

impl Bucket {
    fn new(moto: &Moto) -> Bucket {
        // Two TLS crypto libraries are linked (as in the binary): rustls
        // wants the process default named before a client is built.
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let store = AmazonS3Builder::new()
            .with_endpoint(moto.endpoint())
            .with_allow_http(true)
            .with_access_key_id("test")
            .with_secret_access_key("test")
            .with_region("us-east-1")
            .with_bucket_name(BUCKET)
            .build()
            .expect("S3 client");
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        Bucket { store, runtime }
    }

    /// Every key of the bucket.
    fn keys(&self) -> BTreeSet<String> {
        self.runtime.block_on(async {
            self.store
                .list(None)
                .map_ok(|m| m.location.to_string())
                .try_collect()
                .await
                .expect("list the bucket")
        })
    }

    /// Every object under `prefix/`, by key without the prefix (one
    /// deleted between the listing and its GET left out); panics if the
    /// bucket holds anything else.
    fn objects(&self, prefix: &str) -> BTreeMap<String, Stored> {
        let keys = self.keys();
        let strip = format!("{prefix}/");
        let outside: Vec<&String> = keys.iter().filter(|k| !k.starts_with(&strip)).collect();
        assert!(outside.is_empty(), "objects outside {strip}: {outside:?}");
        self.runtime.block_on(async {
            futures::stream::iter(keys)
                .map(|key| async move {
                    let cut = prefix.len() + 1;
                    let path = object_store::path::Path::from(key.as_str());
                    // Deleted since the listing (wirefeed is at work).
                    let got = match self.store.get(&path).await {
                        Ok(got) => got,
                        Err(object_store::Error::NotFound { .. }) => return None,
                        Err(e) => panic!("get {key}: {e}"),
                    };
                    let attr = |a: Attribute| got.attributes.get(&a).map(|v| v.to_string());
                    let content_type = attr(Attribute::ContentType);
                    let cache_control = attr(Attribute::CacheControl);
                    let language = attr(Attribute::ContentLanguage);
                    let bytes = got.bytes().await.expect("body").to_vec();
                    let stored = Stored {
                        bytes,
                        content_type,
                        cache_control,
                        language,
                    };
                    Some((key[cut..].to_string(), stored))
                })
                .buffer_unordered(16)
                .filter_map(|got| async move { got })
                .collect()
                .await
        })
    }
}

// ---------------------------------------------------------------------------
// Trees and what each key is served with
// ---------------------------------------------------------------------------

/// Every file under `dir`, by `/`-separated relative path.
fn tree(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e.path().strip_prefix(dir).expect("inside");
            let key = rel.to_string_lossy().replace('\\', "/");
            (key, fs::read(e.path()).expect("read built file"))
        })
        .collect()
}

/// Keys whose bytes differ or that are new in `after`; keys gone from it.
fn diff(
    before: &BTreeMap<String, Vec<u8>>,
    after: &BTreeMap<String, Vec<u8>>,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let changed = after
        .iter()
        .filter(|(k, v)| before.get(*k) != Some(v))
        .map(|(k, _)| k.clone())
        .collect();
    let gone = before
        .keys()
        .filter(|k| !after.contains_key(*k))
        .cloned()
        .collect();
    (changed, gone)
}

/// Keys whose object (bytes or headers) differs or that are new in
/// `after`; keys gone from it.
fn object_diff(
    before: &BTreeMap<String, Vec<u8>>,
    after: &BTreeMap<String, Vec<u8>>,
    expect: &Expect,
) -> (BTreeSet<String>, BTreeSet<String>) {
    let (_, gone) = diff(before, after);
    let changed = after
        .keys()
        .filter(|k| !before.contains_key(*k) || expect.object(k, before) != expect.object(k, after))
        .cloned()
        .collect();
    (changed, gone)
}

/// `feeds/archive/<slug>/<n>.<ext>` or `categories/<slug>/<n>.html`.
fn history_page(key: &str) -> Option<(&str, usize, &str)> {
    let (dir, page) = key.rsplit_once('/')?;
    let history = dir.starts_with("feeds/archive/")
        || (dir.starts_with("categories/") && dir.matches('/').count() == 1);
    if !history {
        return None;
    }
    let (n, ext) = page.split_once('.')?;
    Some((dir, n.parse().ok()?, ext))
}

/// What a key of the built tree must be stored with: the media type the
/// daemon serves it with; `immutable` for an archive page whose next page
/// exists, else `short`; the page's `<html lang>` or the feed's language.
struct Expect<'a> {
    short: &'a str,
    /// `serve`'s complete archive pages never change (`immutable`);
    /// `publish` cuts them from the files each time (short).
    immutable_archives: bool,
    site_language: &'a str,
    /// Feed slug → language (every category; `all` is the site's).
    languages: BTreeMap<&'a str, &'a str>,
}

impl Expect<'_> {
    fn content_type(key: &str) -> &'static str {
        let feed = key.starts_with("feeds/");
        match key.rsplit_once('.').map_or("", |(_, e)| e) {
            "html" => "text/html; charset=utf-8",
            "rss" if feed => "application/rss+xml; charset=utf-8",
            "atom" if feed => "application/atom+xml; charset=utf-8",
            "json" if feed => "application/feed+json",
            "opml" => "text/x-opml; charset=utf-8",
            "png" => "image/png",
            other => panic!("{key}: no expected type for .{other}"),
        }
    }

    fn language(&self, key: &str, bytes: &[u8]) -> Option<String> {
        if key.ends_with(".html") {
            let text = String::from_utf8_lossy(bytes);
            let lang = text.split_once("<html lang=\"")?.1.split_once('"')?.0;
            return Some(lang.to_string());
        }
        let slug = match key.strip_prefix("feeds/archive/") {
            Some(rest) => rest.split('/').next()?,
            None => key.strip_prefix("feeds/")?.rsplit_once('.')?.0,
        };
        match slug {
            "all" => Some(self.site_language.to_string()),
            slug => self.languages.get(slug).map(|l| l.to_string()),
        }
    }

    fn object(&self, key: &str, tree: &BTreeMap<String, Vec<u8>>) -> Stored {
        let bytes = tree[key].clone();
        let complete = history_page(key)
            .is_some_and(|(dir, n, ext)| tree.contains_key(&format!("{dir}/{}.{ext}", n + 1)));
        Stored {
            content_type: Some(Self::content_type(key).to_string()),
            cache_control: Some(match complete && self.immutable_archives {
                true => IMMUTABLE.to_string(),
                false => self.short.to_string(),
            }),
            language: self.language(key, &bytes),
            bytes,
        }
    }
}

/// Where the bucket and the tree differ (empty: they are equal, headers
/// included).
fn mismatches(
    bucket: &BTreeMap<String, Stored>,
    tree: &BTreeMap<String, Vec<u8>>,
    expect: &Expect,
) -> Vec<String> {
    let mut out = Vec::new();
    for key in tree.keys() {
        let want = expect.object(key, tree);
        match bucket.get(key) {
            None => out.push(format!("{key}: not in the bucket")),
            Some(got) if got.bytes != want.bytes => {
                out.push(format!("{key}: other bytes in the bucket"))
            }
            Some(got) if got != &want => out.push(format!(
                "{key}: stored with ({:?}, {:?}, {:?}), want ({:?}, {:?}, {:?})",
                got.content_type,
                got.cache_control,
                got.language,
                want.content_type,
                want.cache_control,
                want.language
            )),
            Some(_) => {}
        }
    }
    for key in bucket.keys().filter(|k| !tree.contains_key(*k)) {
        out.push(format!("{key}: in the bucket, not in the tree"));
    }
    out
}

// ---------------------------------------------------------------------------
// Running wirefeed
// ---------------------------------------------------------------------------

/// The S3 client settings wirefeed reads (`AmazonS3Builder::from_env`).
fn aws_env(endpoint: &str) -> Vec<(String, String)> {
    [
        ("AWS_ENDPOINT", endpoint),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test"),
        ("AWS_REGION", "us-east-1"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// `wirefeed --config CONFIG ARGS` with exactly `env` as its `WIREFEED_*`
/// and `AWS_*` variables (none inherited: they are config overrides and
/// store settings).
fn wirefeed(config: &Path, env: &[(String, String)], args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wirefeed"));
    for (k, _) in std::env::vars_os() {
        let k = k.to_string_lossy();
        if k.starts_with("WIREFEED_") || k.starts_with("AWS_") {
            cmd.env_remove(k.as_ref());
        }
    }
    let out = cmd
        .arg("--config")
        .arg(config)
        .args(args)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run wirefeed");
    assert!(
        out.status.success(),
        "wirefeed {args:?} failed ({}):\n{}{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// `wirefeed build --out` into a temp dir; its tree.
fn build(config: &Path, env: &[(String, String)]) -> BTreeMap<String, Vec<u8>> {
    let out = tempfile::tempdir().expect("tempdir");
    let dir = out.path().to_string_lossy().into_owned();
    wirefeed(config, env, &["build", "--out", &dir]);
    tree(out.path())
}

/// `(uploaded, deleted, unchanged)` from `wirefeed publish`'s summary.
fn publish_summary(out: &Output) -> (usize, usize, usize) {
    let text = String::from_utf8_lossy(&out.stdout);
    let re = regex::Regex::new(
        r"published \d+ articles to \S+: (\d+) uploaded, (\d+) deleted, (\d+) unchanged in [\d.]+s",
    )
    .expect("regex");
    let c = re
        .captures(&text)
        .unwrap_or_else(|| panic!("no summary line in {text:?}"));
    let n = |i: usize| c[i].parse().expect("number");
    (n(1), n(2), n(3))
}

// ---------------------------------------------------------------------------
// Articles
// ---------------------------------------------------------------------------

const CATEGORIES: [&str; 3] = ["world", "pakistan", "business"];

/// Article `i`: `<category>/story-<i>.md`, dated `i` × 31 h after
/// 2024-01-01 (the higher `i`, the newer), its page
/// `articles/<category>-story-<i>.html`.
struct Story {
    i: usize,
}

impl Story {
    fn category(&self) -> &'static str {
        CATEGORIES[self.i % 3]
    }

    fn rel(&self) -> String {
        format!("{}/story-{:03}.md", self.category(), self.i)
    }

    fn page(&self) -> String {
        format!("articles/{}-story-{:03}.html", self.category(), self.i)
    }

    fn title(&self) -> String {
        format!("Story {:03}: the {} desk reports", self.i, self.category())
    }

    fn text(&self, body: &str) -> String {
        let date = chrono::NaiveDate::from_ymd_opt(2024, 1, 1)
            .expect("date")
            .and_hms_opt(6, 0, 0)
            .expect("time")
            + chrono::Duration::hours(31 * self.i as i64);
        let category = self.category();
        let title = self.title();
        let date = date.format("%Y-%m-%dT%H:%M:%S");
        let mut c = category.chars();
        let category = c
            .next()
            .expect("name")
            .to_uppercase()
            .chain(c)
            .collect::<String>();
        format!(
            "---\ntitle: \"{title}\"\ndate: {date}\nauthor: Desk {}\ncategories: [{category}]\n---\n\n{body}\n",
            self.i % 7
        )
    }

    fn body(&self) -> String {
        format!(
            "Story {} opens with the facts of the day.\n\nA second paragraph adds the context the {} desk gathered.",
            self.i,
            self.category()
        )
    }

    fn write(&self, articles: &Path) {
        self.write_body(articles, &self.body());
    }

    fn write_body(&self, articles: &Path, body: &str) {
        let path = articles.join(self.rel());
        fs::create_dir_all(path.parent().expect("folder")).expect("mkdir");
        fs::write(&path, self.text(body)).expect("write article");
    }
}

/// The one-shot site: its own config (categories with an Urdu one, media,
/// short feeds so archive pages exist), 60 stories and 3 Urdu ones.
struct OneShotSite {
    dir: tempfile::TempDir,
}

const SHORT: &str = "public, max-age=120, stale-while-revalidate=30, stale-if-error=600";

impl OneShotSite {
    fn new(stories: usize) -> OneShotSite {
        let dir = tempfile::Builder::new()
            .prefix("wirefeed-s3-")
            .tempdir()
            .expect("tempdir");
        let root = dir.path();
        for sub in ["articles/urdu", "media", "state"] {
            fs::create_dir_all(root.join(sub)).expect("mkdir");
        }
        let config = format!(
            r#"[site]
title = "Wire Desk"
base_url = "http://news.test/desk/"
language = "en"
timezone = "Asia/Karachi"

[articles]
dir = '{articles}'

[feeds]
items = 10
archive_items = 5

[server]
cache_max_age = 120
stale_while_revalidate = 30
stale_if_error = 600

[media]
dir = '{media}'

[[categories]]
slug = "world"
title = "World"

[[categories]]
slug = "pakistan"
title = "Pakistan"

[[categories]]
slug = "business"
title = "Business"

[[categories]]
slug = "urdu"
title = "اردو"
match = ["Urdu"]
language = "ur"
"#,
            articles = root.join("articles").display(),
            media = root.join("media").display(),
        );
        fs::write(root.join("wirefeed.toml"), config).expect("config");
        fs::write(root.join("media/logo.png"), b"\x89PNG\r\n\x1a\nlogo").expect("media");
        let site = OneShotSite { dir };
        for i in 0..stories {
            Story { i }.write(&site.articles());
        }
        for i in 0..3 {
            let text = format!(
                "---\ntitle: \"لاہور کی خبر {i}\"\ndate: 2024-02-0{}T10:00:00\ncategories: [Urdu]\n---\n\nلاہور میں آج بارش ہوئی {i}۔\n",
                i + 1
            );
            fs::write(site.articles().join(format!("urdu/khabar-{i}.md")), text).expect("write");
        }
        site
    }

    fn articles(&self) -> PathBuf {
        self.dir.path().join("articles")
    }

    fn config(&self) -> PathBuf {
        self.dir.path().join("wirefeed.toml")
    }

    fn env(&self, moto: &Moto) -> Vec<(String, String)> {
        let mut env = aws_env(&moto.endpoint());
        let state = self.dir.path().join("state").to_string_lossy().into_owned();
        env.push(("WIREFEED_STATE_DIR".into(), state));
        env
    }

    fn expect(&self) -> Expect<'static> {
        Expect {
            short: SHORT,
            immutable_archives: false,
            site_language: "en",
            languages: [
                ("world", "en"),
                ("pakistan", "en"),
                ("business", "en"),
                ("urdu", "ur"),
            ]
            .into_iter()
            .collect(),
        }
    }
}

/// Titles of a feed's RSS items.
fn rss_titles(bytes: &[u8]) -> Vec<String> {
    common::rss_items(&String::from_utf8_lossy(bytes))
        .into_iter()
        .map(|i| i.title)
        .collect()
}

/// Keys that occur more than once.
fn duplicates(keys: &[String]) -> Vec<String> {
    let mut seen = BTreeSet::new();
    let mut twice = BTreeSet::new();
    for k in keys {
        if !seen.insert(k.clone()) {
            twice.insert(k.clone());
        }
    }
    twice.into_iter().collect()
}

// ---------------------------------------------------------------------------
// 1. wirefeed publish
// ---------------------------------------------------------------------------

#[test]
fn publish_uploads_the_build_tree_with_its_headers_and_then_only_what_changed() {
    let moto = moto_or_skip!();
    moto.create_bucket(BUCKET);
    let bucket = Bucket::new(&moto);
    let site = OneShotSite::new(60);
    let env = site.env(&moto);
    let config = site.config();
    let to = format!("s3://{BUCKET}/site");
    let publish = || wirefeed(&config, &env, &["publish", "--to", &to]);
    let expect = site.expect();

    // First publish: the whole tree, each file once.
    moto.record_from_now();
    let first = publish();
    let built = build(&config, &env);
    let puts = moto.recorded_keys("PUT");
    assert_eq!(duplicates(&puts), Vec::<String>::new(), "uploaded twice");
    let put_keys: BTreeSet<String> = puts
        .iter()
        .map(|k| k["site/".len()..].to_string())
        .collect();
    let built_keys: BTreeSet<String> = built.keys().cloned().collect();
    assert_eq!(put_keys, built_keys, "the first publish uploads every file");
    assert_eq!(publish_summary(&first), (built.len(), 0, 0));
    let stored = bucket.objects("site");
    let wrong = mismatches(&stored, &built, &expect);
    assert!(
        wrong.is_empty(),
        "bucket != build tree:\n{}",
        wrong.join("\n")
    );

    // The headers, spelled out for a few keys (the loop above checked all).
    let at = |key: &str| {
        stored
            .get(key)
            .unwrap_or_else(|| panic!("{key} not in the bucket"))
    };
    let ct = |key: &str| at(key).content_type.clone().unwrap_or_default();
    assert_eq!(ct("feeds/all.rss"), "application/rss+xml; charset=utf-8");
    assert_eq!(
        ct("feeds/world.atom"),
        "application/atom+xml; charset=utf-8"
    );
    assert_eq!(ct("feeds/business.json"), "application/feed+json");
    assert_eq!(ct("index.html"), "text/html; charset=utf-8");
    assert_eq!(ct(&Story { i: 5 }.page()), "text/html; charset=utf-8");
    assert_eq!(ct("media/logo.png"), "image/png");
    let complete: Vec<&String> = built
        .keys()
        .filter(|k| k.starts_with("feeds/archive/all/") && k.ends_with(".rss"))
        .collect();
    assert!(
        complete.len() >= 3,
        "archive pages of feeds/all: {complete:?}"
    );
    // An edit to an old article changes the page `publish` cuts for it:
    // no page it uploads is promised never to change.
    assert_eq!(
        at("feeds/archive/all/1.rss").cache_control.as_deref(),
        Some(SHORT)
    );
    assert_eq!(
        at("categories/all/1.html").cache_control.as_deref(),
        Some(SHORT)
    );
    let cc = at("feeds/all.rss")
        .cache_control
        .clone()
        .unwrap_or_default();
    assert_eq!(cc, SHORT);
    assert!(cc.contains("stale-while-revalidate=30"));
    assert_eq!(at("categories/urdu.html").language.as_deref(), Some("ur"));
    assert_eq!(at("feeds/urdu.atom").language.as_deref(), Some("ur"));
    assert_eq!(
        at("articles/urdu-khabar-0.html").language.as_deref(),
        Some("ur")
    );
    assert_eq!(at("categories/world.html").language.as_deref(), Some("en"));
    assert_eq!(at("feeds/all.rss").language.as_deref(), Some("en"));
    assert_eq!(at("media/logo.png").language, None);

    // Again, nothing changed: not one upload or delete.
    moto.record_from_now();
    let again = publish();
    let recorded = moto.recording();
    let writes: Vec<&Recorded> = recorded
        .iter()
        .filter(|r| r.method != "GET" && r.method != "HEAD")
        .collect();
    assert!(
        writes.is_empty(),
        "a publish with no change wrote: {writes:?}"
    );
    assert!(
        recorded
            .iter()
            .any(|r| r.method == "GET" && r.key.is_none()),
        "the store is listed: {recorded:?}"
    );
    assert_eq!(publish_summary(&again), (0, 0, built.len()));
    eprintln!("no change: {} PUTs", writes.len());

    // One article's body changes: exactly the files whose bytes differ.
    let changed_story = Story { i: 58 };
    changed_story.write_body(
        &site.articles(),
        "A corrected account replaces the first one.\n\nThe desk regrets the error.",
    );
    let rebuilt = build(&config, &env);
    let (changed, gone) = diff(&built, &rebuilt);
    assert!(gone.is_empty(), "an edit removes no file: {gone:?}");
    assert!(changed.contains(&changed_story.page()));
    assert_eq!(
        object_diff(&built, &rebuilt, &expect).0,
        changed,
        "no header changes"
    );
    moto.record_from_now();
    let edit = publish();
    let (put_keys, delete_keys) = moto.writes("site");
    assert_eq!(
        put_keys, changed,
        "the PUTs are the files whose bytes changed"
    );
    assert_eq!(delete_keys, BTreeSet::new());
    assert_eq!(publish_summary(&edit).0, changed.len());
    eprintln!(
        "one body changed: {} PUTs of {} files: {:?}",
        put_keys.len(),
        rebuilt.len(),
        put_keys
    );
    let wrong = mismatches(&bucket.objects("site"), &rebuilt, &expect);
    assert!(
        wrong.is_empty(),
        "bucket != build tree:\n{}",
        wrong.join("\n")
    );

    // One article goes: its page is deleted, the feeds drop it.
    let deleted = Story { i: 57 };
    let title = deleted.title();
    let all = &bucket.objects("site")["feeds/all.rss"].bytes;
    assert!(
        rss_titles(all).contains(&title),
        "{title} was in feeds/all.rss"
    );
    fs::remove_file(site.articles().join(deleted.rel())).expect("delete article");
    let after = build(&config, &env);
    let (bytes_changed, gone) = diff(&rebuilt, &after);
    assert!(gone.contains(&deleted.page()), "{gone:?}");
    // Archive pages can lose their next page (`immutable` no longer): the
    // same bytes, other headers, uploaded again.
    let (changed, _) = object_diff(&rebuilt, &after, &expect);
    assert!(changed.is_superset(&bytes_changed));
    moto.record_from_now();
    let removal = publish();
    let (put_keys, delete_keys) = moto.writes("site");
    assert_eq!(
        put_keys, changed,
        "the PUTs are the files whose bytes or headers changed"
    );
    assert_eq!(delete_keys, gone, "the DELETEs are the files gone");
    assert_eq!(
        publish_summary(&removal),
        (changed.len(), gone.len(), after.len() - changed.len())
    );
    eprintln!(
        "one article deleted: {} PUTs ({} for new headers only: {:?}), {} DELETEs ({:?})",
        put_keys.len(),
        changed.len() - bytes_changed.len(),
        changed.difference(&bytes_changed).collect::<Vec<_>>(),
        delete_keys.len(),
        delete_keys
    );
    let stored = bucket.objects("site");
    assert!(!stored.contains_key(&deleted.page()));
    for feed in ["feeds/all.rss", "feeds/world.rss"] {
        assert!(
            !rss_titles(&stored[feed].bytes).contains(&title),
            "{feed} still lists {title}"
        );
    }
    let wrong = mismatches(&stored, &after, &expect);
    assert!(
        wrong.is_empty(),
        "bucket != build tree:\n{}",
        wrong.join("\n")
    );
}

// ---------------------------------------------------------------------------
// A loopback TCP proxy the tests can take down
// ---------------------------------------------------------------------------

/// Forwards `127.0.0.1:port` to `127.0.0.1:upstream`. [`Proxy::stop`]
/// closes the listener and cuts every open connection (connections are
/// then refused); [`Proxy::start_again`] listens on the same port again.
struct Proxy {
    port: u16,
    upstream: u16,
    running: Option<ProxyRun>,
}

struct ProxyRun {
    stop: Arc<AtomicBool>,
    connections: Arc<Mutex<Vec<TcpStream>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    fn start(upstream: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind proxy");
        let port = listener.local_addr().expect("proxy address").port();
        Proxy {
            port,
            upstream,
            running: Some(Self::serve(listener, upstream)),
        }
    }

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    fn serve(listener: TcpListener, upstream: u16) -> ProxyRun {
        listener.set_nonblocking(true).expect("nonblocking");
        let stop = Arc::new(AtomicBool::new(false));
        let connections: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let accept = {
            let stop = stop.clone();
            let connections = connections.clone();
            std::thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let client = match listener.accept() {
                        Ok((client, _)) => client,
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                            std::thread::sleep(Duration::from_millis(5));
                            continue;
                        }
                        Err(_) => continue,
                    };
                    let _ = client.set_nonblocking(false);
                    let Ok(server) = TcpStream::connect(("127.0.0.1", upstream)) else {
                        continue;
                    };
                    let mut open = connections.lock().expect("connections");
                    for s in [&client, &server] {
                        if let Ok(s) = s.try_clone() {
                            open.push(s);
                        }
                    }
                    drop(open);
                    for (from, to) in [(&client, &server), (&server, &client)] {
                        let (Ok(mut from), Ok(mut to)) = (from.try_clone(), to.try_clone()) else {
                            continue;
                        };
                        std::thread::spawn(move || {
                            let _ = std::io::copy(&mut from, &mut to);
                            let _ = to.shutdown(Shutdown::Write);
                        });
                    }
                }
                // The listener is dropped here: connections are refused.
            })
        };
        ProxyRun {
            stop,
            connections,
            accept,
        }
    }

    /// Refuses connections and cuts the open ones.
    fn stop(&mut self) {
        let Some(run) = self.running.take() else {
            return;
        };
        run.stop.store(true, Ordering::SeqCst);
        let _ = run.accept.join();
        for s in run.connections.lock().expect("connections").drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
    }

    /// Listens on the same port again.
    fn start_again(&mut self) {
        assert!(self.running.is_none(), "proxy already running");
        let mut listener = None;
        let bound = wait_until(
            || {
                listener = TcpListener::bind(("127.0.0.1", self.port)).ok();
                listener.is_some()
            },
            Duration::from_secs(10),
        );
        assert!(bound, "port {} not free again", self.port);
        let listener = listener.expect("listener");
        self.running = Some(Self::serve(listener, self.upstream));
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop();
    }
}

// ---------------------------------------------------------------------------
// wirefeed serve with publish.to
// ---------------------------------------------------------------------------

/// A [`Site`] (default categories, short feeds, a media file, `stories`
/// stories) publishing to `s3://BUCKET/live` through `endpoint`.
fn serve_site(endpoint: &str, stories: usize) -> Site {
    let mut site = Site::new();
    site.feed_items = Some(10);
    site.archive_items = Some(5);
    site.write_config();
    let media = site.root().join("media");
    fs::create_dir_all(&media).expect("mkdir media");
    fs::write(media.join("logo.png"), b"\x89PNG\r\n\x1a\nlogo").expect("media");
    site.env = aws_env(endpoint);
    site.env
        .push(("WIREFEED_PUBLISH_TO".into(), format!("s3://{BUCKET}/live")));
    site.env.push((
        "WIREFEED_MEDIA_DIR".into(),
        media.to_string_lossy().into_owned(),
    ));
    for i in 0..stories {
        Story { i }.write(&site.articles());
    }
    site
}

/// What the common [`Site`] config serves everything that may change with.
const SITE_SHORT: &str = "public, max-age=60, stale-while-revalidate=60, stale-if-error=86400";

fn site_expect() -> Expect<'static> {
    Expect {
        short: SITE_SHORT,
        immutable_archives: true,
        site_language: "en",
        languages: CATEGORIES.iter().map(|c| (*c, "en")).collect(),
    }
}

/// `build --out` of the daemon's site (its config and `WIREFEED_*`).
fn build_site(daemon: &Daemon) -> BTreeMap<String, Vec<u8>> {
    build(daemon.site.config_path(), &daemon.site.env)
}

/// Waits up to `timeout` until the bucket holds exactly `build --out` of
/// the site as it is (headers included); panics with the differences.
fn wait_bucket_is_site(daemon: &Daemon, bucket: &Bucket, timeout: Duration, what: &str) {
    let expect = site_expect();
    let mut last = Vec::new();
    let started = Instant::now();
    let equal = wait_until(
        || {
            let built = build_site(daemon);
            last = mismatches(&bucket.objects("live"), &built, &expect);
            last.is_empty()
        },
        timeout,
    );
    if !equal {
        // Which side differs: the bucket from what the daemon serves, or
        // the daemon from `build --out`?
        let built = build_site(daemon);
        let stored = bucket.objects("live");
        let keys: BTreeSet<&String> = built.keys().chain(stored.keys()).collect();
        for key in keys {
            let path = match key.as_str() {
                "index.html" => "/".to_string(),
                k => format!("/{k}"),
            };
            let r = daemon.get(&path);
            let served = (r.status == 200).then_some(r.body);
            let built = built.get(key);
            let stored = stored.get(key).map(|s| &s.bytes);
            if served.as_ref() == built && stored == built {
                continue;
            }
            last.push(format!(
                "{key}: served == build: {}, bucket == build: {}, bucket == served: {}",
                served.as_ref() == built,
                stored == built,
                stored == served.as_ref()
            ));
        }
    }
    assert!(
        equal,
        "{what}: the bucket is not the site after {:?}:\n{}\nlog:\n{}",
        started.elapsed(),
        last.join("\n"),
        daemon.log()
    );
    eprintln!("{what}: bucket == site after {:?}", started.elapsed());
}

/// A sample of `/metrics`: `name` → value.
fn metrics(daemon: &Daemon) -> BTreeMap<String, f64> {
    daemon
        .body("/metrics")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| {
            let (name, value) = l.rsplit_once(' ')?;
            Some((name.to_string(), value.parse().ok()?))
        })
        .collect()
}

fn metric(sample: &BTreeMap<String, f64>, name: &str) -> f64 {
    *sample
        .get(name)
        .unwrap_or_else(|| panic!("no {name} in /metrics: {sample:?}"))
}

// ---------------------------------------------------------------------------
// 2. serve through a store outage
// ---------------------------------------------------------------------------

#[test]
fn serve_keeps_the_bucket_equal_to_the_site_through_a_store_outage() {
    let moto = moto_or_skip!();
    moto.create_bucket(BUCKET);
    let bucket = Bucket::new(&moto);
    let mut proxy = Proxy::start(moto.port);
    let daemon = Daemon::start_site(serve_site(&proxy.endpoint(), 30));
    wait_bucket_is_site(&daemon, &bucket, Duration::from_secs(30), "after start-up");

    // The feeds are fetched all along: every answer must be a 200.
    let watching = Arc::new(AtomicBool::new(true));
    let watcher = {
        let watching = watching.clone();
        let url = daemon.url("/feeds/all.rss");
        std::thread::spawn(move || {
            let http = agent();
            let mut answers = Vec::new();
            while watching.load(Ordering::SeqCst) {
                let started = Instant::now();
                let status = http.get(&url).call().map(|r| r.status().as_u16());
                answers.push((status.map_err(|e| e.to_string()), started.elapsed()));
                std::thread::sleep(Duration::from_millis(50));
            }
            answers
        })
    };

    // A burst of 20 stories, 50 ms apart; the store goes down in the middle.
    let burst: Vec<Story> = (100..120).map(|i| Story { i }).collect();
    let down_at = Instant::now();
    for (n, story) in burst.iter().enumerate() {
        if n == 10 {
            proxy.stop();
        }
        story.write(&daemon.site.articles());
        std::thread::sleep(Duration::from_millis(50));
    }
    let newest = burst.last().expect("burst").title();
    daemon.wait_feed("/feeds/all.rss", "listed the burst", |body| {
        body.contains(&newest)
    });
    let titles = rss_titles(daemon.body("/feeds/all.rss").as_bytes());
    for story in &burst[10..] {
        assert!(
            titles.contains(&story.title()),
            "{} not served while the store is down: {titles:?}",
            story.title()
        );
    }
    for story in &burst {
        let page = format!("/{}", story.page());
        assert_eq!(daemon.request_status(&page), Some(200), "{page}");
    }

    // The outage shows in /metrics.
    let mut sample = BTreeMap::new();
    let seen = wait_until(
        || {
            sample = metrics(&daemon);
            let waiting = metric(&sample, "wirefeed_store_pending") > 0.0
                || metric(&sample, "wirefeed_store_failures_total") > 0.0;
            waiting && metric(&sample, "wirefeed_store_oldest_pending_seconds") > 0.0
        },
        Duration::from_secs(15),
    );
    assert!(seen, "the outage never showed in /metrics: {sample:?}");
    eprintln!(
        "store down {:?}: pending {}, failures {}, oldest pending {} s",
        down_at.elapsed(),
        metric(&sample, "wirefeed_store_pending"),
        metric(&sample, "wirefeed_store_failures_total"),
        metric(&sample, "wirefeed_store_oldest_pending_seconds")
    );

    // Down for 4 s in all: a few failed rounds, each retried later.
    std::thread::sleep(Duration::from_secs(4).saturating_sub(down_at.elapsed()));
    let stale = bucket.objects("live");
    assert!(
        !rss_titles(&stale["feeds/all.rss"].bytes).contains(&newest),
        "the store got the last stories while it was down"
    );
    let sample_down = metrics(&daemon);
    assert!(metric(&sample_down, "wirefeed_store_oldest_pending_seconds") > 0.0);

    // Back up: everything lands (the uploader backs off up to 60 s).
    proxy.start_again();
    let up_at = Instant::now();
    wait_bucket_is_site(
        &daemon,
        &bucket,
        Duration::from_secs(90),
        "after the outage",
    );
    eprintln!("caught up {:?} after the store came back", up_at.elapsed());
    let settled = wait_until(
        || {
            sample = metrics(&daemon);
            metric(&sample, "wirefeed_store_pending") == 0.0
                && metric(&sample, "wirefeed_store_oldest_pending_seconds") == 0.0
        },
        Duration::from_secs(10),
    );
    assert!(settled, "metrics after catching up: {sample:?}");
    assert!(metric(&sample, "wirefeed_store_failures_total") > 0.0);
    assert!(metric(&sample, "wirefeed_store_puts_total") > 0.0);

    watching.store(false, Ordering::SeqCst);
    let answers = watcher.join().expect("watcher");
    let bad: Vec<_> = answers
        .iter()
        .filter(|(status, _)| status.as_ref().ok() != Some(&200))
        .collect();
    assert!(bad.is_empty(), "feeds not served: {bad:?}");
    let slowest = answers.iter().map(|(_, t)| *t).max().unwrap_or_default();
    eprintln!(
        "{} feed fetches during the burst and the outage, all 200, slowest {slowest:?}",
        answers.len()
    );
    assert!(
        slowest < Duration::from_secs(2),
        "slowest feed fetch {slowest:?}"
    );
}

// ---------------------------------------------------------------------------
// 3. restart
// ---------------------------------------------------------------------------

/// What the daemon serves (200) for each of `keys` (`index.html` is `/`).
fn served_tree<'a>(
    daemon: &Daemon,
    keys: impl IntoIterator<Item = &'a String>,
) -> BTreeMap<String, Vec<u8>> {
    keys.into_iter()
        .filter_map(|key| {
            let path = match key.as_str() {
                "index.html" => "/".to_string(),
                k => format!("/{k}"),
            };
            let r = daemon.get(&path);
            (r.status == 200).then(|| (key.clone(), r.body))
        })
        .collect()
}

/// Waits up to `timeout` until the bucket holds exactly what the daemon
/// serves, headers included (the keys: those of `build --out`, of the
/// bucket and `known`); returns that tree.
fn wait_bucket_is_served(
    daemon: &Daemon,
    bucket: &Bucket,
    known: &BTreeSet<String>,
    timeout: Duration,
) -> BTreeMap<String, Vec<u8>> {
    let expect = site_expect();
    let mut last = Vec::new();
    let mut served = BTreeMap::new();
    let equal = wait_until(
        || {
            let stored = bucket.objects("live");
            let built = build_site(daemon);
            let keys: BTreeSet<&String> = known
                .iter()
                .chain(built.keys())
                .chain(stored.keys())
                .collect();
            served = served_tree(daemon, keys);
            last = mismatches(&stored, &served, &expect);
            last.is_empty()
        },
        timeout,
    );
    assert!(
        equal,
        "the bucket is not what the daemon serves:\n{}\nlog:\n{}",
        last.join("\n"),
        daemon.log()
    );
    served
}

#[test]
fn a_restart_uploads_only_what_changed_while_it_was_down() {
    let moto = moto_or_skip!();
    moto.create_bucket(BUCKET);
    let bucket = Bucket::new(&moto);
    let mut daemon = Daemon::start_site(serve_site(&moto.endpoint(), 32));
    wait_bucket_is_site(&daemon, &bucket, Duration::from_secs(30), "after start-up");
    let built = build_site(&daemon);
    let before = served_tree(&daemon, built.keys());
    assert_eq!(
        before.len(),
        built.len(),
        "the daemon serves every built key"
    );
    assert!(
        daemon.stop_within(Duration::from_secs(10)).is_some(),
        "wirefeed did not stop on SIGTERM"
    );

    // While it is down: one story edited, another deleted (both among the
    // newest, in the feeds; the archive pages stay as they were).
    let edited = Story { i: 30 };
    edited.write_body(
        &daemon.site.articles(),
        "A corrected account replaces the first one.",
    );
    let deleted = Story { i: 28 };
    fs::remove_file(daemon.site.articles().join(deleted.rel())).expect("delete");

    moto.record_from_now();
    daemon.restart_in_place();
    let known: BTreeSet<String> = before.keys().cloned().collect();
    let after = wait_bucket_is_served(&daemon, &bucket, &known, Duration::from_secs(30));
    // Settled: nothing waits, and moto sees no more writes for 2 s.
    let idle = wait_until(
        || {
            let sample = metrics(&daemon);
            sample.get("wirefeed_store_pending") == Some(&0.0)
                && sample.get("wirefeed_store_oldest_pending_seconds") == Some(&0.0)
        },
        Duration::from_secs(10),
    );
    assert!(idle, "/metrics: {:?}", metrics(&daemon));
    let writes = |m: &Moto| {
        m.recording()
            .iter()
            .filter(|r| !matches!(r.method.as_str(), "GET" | "HEAD"))
            .count()
    };
    let n = writes(&moto);
    assert!(
        holds_for(|| writes(&moto) == n, Duration::from_secs(2)),
        "still writing"
    );
    let after = {
        let again = wait_bucket_is_served(&daemon, &bucket, &known, Duration::from_secs(5));
        assert_eq!(again, after, "the site changed after it settled");
        again
    };

    let (changed, gone) = object_diff(&before, &after, &site_expect());
    assert!(changed.contains(&edited.page()), "{changed:?}");
    assert_eq!(gone, BTreeSet::from([deleted.page()]));
    let (put_keys, delete_keys) = moto.writes("live");
    assert_eq!(
        put_keys, changed,
        "the PUTs after the restart are the objects that changed while it was down"
    );
    assert_eq!(delete_keys, gone, "the DELETEs are the objects gone");
    assert!(!bucket.objects("live").contains_key(&deleted.page()));
    // (An edit is dated in the daemon's feeds (`updated`, from its state
    // directory), which a fresh `build --out` cannot know.)
    let (differ, _) = diff(&build_site(&daemon), &after);
    eprintln!(
        "restart: {} PUTs of {} objects ({put_keys:?}), {} deleted ({delete_keys:?}); \
         served but not as build --out writes them: {differ:?}",
        put_keys.len(),
        after.len(),
        delete_keys.len()
    );
}
