//! Harness for the daemon integration tests: runs the real `wirefeed serve`
//! binary on its own temporary directory and port, talks HTTP to it, and
//! reads what it logged.
//!
//! Every [`Daemon`] owns a [`Site`]: a temp dir holding `wirefeed.toml`,
//! `articles/{world,pakistan,business}/`, `state/` and `wirefeed.log` (the
//! child's stderr). Dropping the daemon sends SIGTERM (then SIGKILL if it
//! does not stop) before the temp dir goes away.

// Each integration test binary compiles this module on its own and may not
// use every helper.
#![allow(dead_code)]

use std::fmt::Write as _;
use std::fs::{self, OpenOptions};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How long [`eventually`] waits.
pub const DEFAULT_WAIT: Duration = Duration::from_secs(5);
/// How long a daemon gets to answer `/readyz` with 200.
pub const START_TIMEOUT: Duration = Duration::from_secs(10);
/// Poll period of [`wait_until`].
const POLL: Duration = Duration::from_millis(20);

/// Polls `cond` every 20 ms until it holds (true) or `timeout` passes (false).
pub fn wait_until(mut cond: impl FnMut() -> bool, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    loop {
        if cond() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        std::thread::sleep(POLL);
    }
}

/// [`wait_until`] with the default 5 s.
pub fn eventually(cond: impl FnMut() -> bool) -> bool {
    wait_until(cond, DEFAULT_WAIT)
}

/// Checks that `cond` stays true for all of `window` (polled every 20 ms):
/// for asserting that something does *not* happen after a change.
pub fn holds_for(mut cond: impl FnMut() -> bool, window: Duration) -> bool {
    let deadline = Instant::now() + window;
    loop {
        if !cond() {
            return false;
        }
        if Instant::now() >= deadline {
            return true;
        }
        std::thread::sleep(POLL);
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("bind 127.0.0.1:0")
        .port()
}

/// One `[[categories]]` block.
#[derive(Debug, Clone)]
pub struct Category {
    pub slug: String,
    pub title: String,
    pub names: Vec<String>,
}

impl Category {
    pub fn new(slug: &str, title: &str, names: &[&str]) -> Self {
        Category {
            slug: slug.into(),
            title: title.into(),
            names: names.iter().map(|n| n.to_string()).collect(),
        }
    }
}

/// world (World, International), pakistan, business.
pub fn default_categories() -> Vec<Category> {
    vec![
        Category::new("world", "World", &["World", "International"]),
        Category::new("pakistan", "Pakistan", &["Pakistan", "National"]),
        Category::new("business", "Business", &["Business", "Economy"]),
    ]
}

/// The feed slugs a daemon with [`default_categories`] serves.
pub const DEFAULT_SLUGS: [&str; 4] = ["all", "world", "pakistan", "business"];

/// A temp dir laid out for one daemon.
pub struct Site {
    dir: tempfile::TempDir,
    /// What `--config` names (a symlink when [`Site::with_symlinked_config`]).
    config_path: PathBuf,
    /// Where the config text is written.
    config_file: PathBuf,
    pub port: u16,
    pub categories: Vec<Category>,
    /// `feeds.items` (None: the default, 50).
    pub feed_items: Option<usize>,
    /// `feeds.archive_items` (None: the default).
    pub archive_items: Option<usize>,
    /// `server.header_read_timeout` (None: the default).
    pub header_read_timeout: Option<&'static str>,
    /// `articles.poll_interval` (None: inotify).
    pub poll_interval: Option<&'static str>,
    /// A copy of the repository's `config/` and `examples/`, run as the
    /// README says: no `--config`, the working directory holding them (see
    /// [`Site::shipped`]).
    shipped: bool,
    /// `WIREFEED_*` variables the daemon is started with.
    pub env: Vec<(String, String)>,
    /// `websub.hubs`.
    pub hubs: Vec<String>,
    /// Where articles are written ([`Site::articles`]).
    articles_dir: PathBuf,
}

impl Site {
    pub fn new() -> Site {
        Self::build(default_categories(), false)
    }

    pub fn with_categories(categories: Vec<Category>) -> Site {
        Self::build(categories, false)
    }

    /// `--config <dir>/wirefeed.toml` is a symlink to
    /// `<dir>/real/wirefeed.toml`: writing the real file produces no event in
    /// the directory the daemon watches for config saves, so only SIGHUP can
    /// make the daemon notice the change.
    pub fn with_symlinked_config() -> Site {
        Self::build(default_categories(), true)
    }

    fn build(categories: Vec<Category>, symlinked: bool) -> Site {
        let dir = tempfile::Builder::new()
            .prefix("wirefeed-it-")
            .tempdir()
            .expect("tempdir");
        for sub in [
            "articles/world",
            "articles/pakistan",
            "articles/business",
            "state",
        ] {
            fs::create_dir_all(dir.path().join(sub)).expect("mkdir");
        }
        let config_path = dir.path().join("wirefeed.toml");
        let config_file = if symlinked {
            let real = dir.path().join("real");
            fs::create_dir_all(&real).expect("mkdir real");
            let file = real.join("wirefeed.toml");
            std::os::unix::fs::symlink(&file, &config_path).expect("symlink config");
            file
        } else {
            config_path.clone()
        };
        let site = Site {
            articles_dir: dir.path().join("articles"),
            dir,
            config_path,
            config_file,
            port: free_port(),
            categories,
            feed_items: None,
            archive_items: None,
            header_read_timeout: None,
            poll_interval: None,
            shipped: false,
            env: Vec::new(),
            hubs: Vec::new(),
        };
        site.write_config();
        site
    }

    /// A scratch directory holding copies of the repository's `config/` and
    /// `examples/`, where `wirefeed serve` runs with no `--config` (the
    /// README's first command). Only the port is overridden
    /// (`WIREFEED_SERVER_LISTEN`), plus whatever `env` adds.
    pub fn shipped(env: &[(&str, &str)]) -> Site {
        let dir = tempfile::Builder::new()
            .prefix("wirefeed-shipped-")
            .tempdir()
            .expect("tempdir");
        let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
        for sub in ["config", "examples"] {
            copy_tree(&repo.join(sub), &dir.path().join(sub));
        }
        let config_path = dir.path().join("config/wirefeed.toml");
        Site {
            articles_dir: dir.path().join("examples/articles"),
            config_file: config_path.clone(),
            config_path,
            dir,
            port: free_port(),
            categories: Vec::new(),
            feed_items: None,
            archive_items: None,
            header_read_timeout: None,
            poll_interval: None,
            shipped: true,
            hubs: Vec::new(),
            env: env
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
        }
    }

    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    pub fn articles(&self) -> PathBuf {
        self.articles_dir.clone()
    }

    /// `articles/<rel>`.
    pub fn article_path(&self, rel: &str) -> PathBuf {
        self.articles().join(rel)
    }

    pub fn config_path(&self) -> &Path {
        &self.config_path
    }

    pub fn log_path(&self) -> PathBuf {
        self.dir.path().join("wirefeed.log")
    }

    /// The config text for the current port and categories.
    pub fn config_text(&self) -> String {
        let root = self.dir.path();
        let mut t = String::new();
        let _ = writeln!(t, "[site]");
        let _ = writeln!(t, "title = \"Wirefeed Test Desk\"");
        let _ = writeln!(t, "base_url = \"http://127.0.0.1:{}\"", self.port);
        let _ = writeln!(t, "timezone = \"Asia/Karachi\"\n");
        let _ = writeln!(t, "[articles]");
        let _ = writeln!(t, "dir = '{}'", root.join("articles").display());
        let _ = writeln!(t, "debounce = \"20ms\"");
        let _ = writeln!(t, "settle = \"1s\"");
        if let Some(interval) = self.poll_interval {
            let _ = writeln!(t, "poll_interval = {interval:?}");
        }
        let _ = writeln!(t);
        let _ = writeln!(t, "[feeds]");
        if let Some(items) = self.feed_items {
            let _ = writeln!(t, "items = {items}");
        }
        if let Some(items) = self.archive_items {
            let _ = writeln!(t, "archive_items = {items}");
        }
        let _ = writeln!(t);
        let _ = writeln!(t, "[server]");
        let _ = writeln!(t, "listen = \"127.0.0.1:{}\"", self.port);
        if let Some(timeout) = self.header_read_timeout {
            let _ = writeln!(t, "header_read_timeout = {timeout:?}");
        }
        let _ = writeln!(t);
        let _ = writeln!(t, "[state]");
        let _ = writeln!(t, "dir = '{}'", root.join("state").display());
        if !self.hubs.is_empty() {
            let _ = writeln!(t, "\n[websub]\nhubs = {:?}", self.hubs);
        }
        for c in &self.categories {
            let names: Vec<String> = c.names.iter().map(|n| format!("{n:?}")).collect();
            let _ = writeln!(t, "\n[[categories]]");
            let _ = writeln!(t, "slug = {:?}", c.slug);
            let _ = writeln!(t, "title = {:?}", c.title);
            let _ = writeln!(t, "match = [{}]", names.join(", "));
        }
        t
    }

    /// Writes [`Site::config_text`] in place (truncate and write, like most
    /// editors without atomic save).
    pub fn write_config(&self) {
        if !self.shipped {
            self.write_raw_config(&self.config_text());
        }
    }

    pub fn write_raw_config(&self, text: &str) {
        fs::write(&self.config_file, text).expect("write config");
    }

    /// Writes the config text to a temp file beside it and renames that over
    /// the config (one rename event instead of truncate + write + close).
    pub fn replace_raw_config(&self, text: &str) {
        let tmp = self.config_file.with_extension("toml.new");
        fs::write(&tmp, text).expect("write temp config");
        fs::rename(&tmp, &self.config_file).expect("rename config");
    }
}

impl Default for Site {
    fn default() -> Self {
        Self::new()
    }
}

/// One HTTP answer.
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Resp {
    /// The first header of that name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A running `wirefeed serve`.
pub struct Daemon {
    pub site: Site,
    child: Option<Child>,
    agent: ureq::Agent,
}

impl Daemon {
    /// A new site with the default categories, started and ready.
    pub fn start() -> Daemon {
        Self::start_site(Site::new())
    }

    /// Starts the daemon on `site` and waits until it is ready.
    pub fn start_site(site: Site) -> Daemon {
        let mut d = Self::new_unstarted(site);
        d.spawn();
        d
    }

    /// Starts the daemon on `site` and returns at once (see
    /// [`Daemon::wait_until_ready`]).
    pub fn launch(site: Site) -> Daemon {
        let mut d = Self::new_unstarted(site);
        d.spawn_process();
        d
    }

    fn new_unstarted(site: Site) -> Daemon {
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .build();
        Daemon {
            site,
            child: None,
            agent: config.new_agent(),
        }
    }

    fn spawn(&mut self) {
        self.spawn_process();
        self.wait_ready();
    }

    fn spawn_process(&mut self) {
        assert!(self.child.is_none(), "daemon already running");
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.site.log_path())
            .expect("open log file");
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_wirefeed"));
        if !self.site.shipped {
            cmd.arg("--config").arg(self.site.config_path());
        }
        cmd.arg("serve")
            .current_dir(self.site.root())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log));
        // WIREFEED_* variables are config overrides: none may leak in from
        // the environment the tests run in.
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("WIREFEED_") {
                cmd.env_remove(&k);
            }
        }
        if self.site.shipped {
            let listen = format!("127.0.0.1:{}", self.site.port);
            cmd.env("WIREFEED_SERVER_LISTEN", listen);
        }
        cmd.envs(self.site.env.iter().map(|(k, v)| (k, v)));
        // The default log filter (no WIREFEED_LOG): what operators see.
        cmd.env("NO_COLOR", "1");
        self.child = Some(cmd.spawn().expect("spawn wirefeed"));
    }

    /// Waits for `/readyz` = 200, then for the inotify watches to be in
    /// place and the archive pages a first start makes to be stored.
    fn wait_ready(&mut self) {
        self.wait_until_ready();
        self.wait_archives_stored();
        // `/readyz` turns 200 once the start-up state is published; wait
        // for the inotify watches too (one per directory under articles/,
        // plus the config directory's) so a test's first write raises
        // events.
        let want = count_dirs(&self.site.articles()) + 1;
        let pid = self.pid();
        let _ = wait_until(
            || inotify_watches(pid).is_none_or(|n| n >= want),
            DEFAULT_WAIT,
        );
    }

    /// Waits until every archive page made is stored and linked:
    /// `wirefeed_archive_pages_waiting` is 0 (it is set at every publish,
    /// the first one included).
    pub fn wait_archives_stored(&self) {
        // Thousands of pages in a debug build on a busy machine take longer
        // than a start-up.
        let timeout = START_TIMEOUT * 6;
        assert!(
            wait_until(|| self.archive_pages_waiting() == Some(0), timeout),
            "archive pages still waiting after {timeout:?}; log:\n{}",
            self.log()
        );
    }

    /// `wirefeed_archive_pages_waiting` from `/metrics`.
    pub fn archive_pages_waiting(&self) -> Option<u64> {
        let metrics = self.try_request("GET", "/metrics", &[])?.text();
        metrics
            .lines()
            .find_map(|l| l.strip_prefix("wirefeed_archive_pages_waiting "))
            .and_then(|v| v.trim().parse().ok())
    }

    /// Returns at the first `/readyz` answered 200 (polled every 5 ms);
    /// panics if the daemon exits or is not ready within [`START_TIMEOUT`].
    pub fn wait_until_ready(&mut self) {
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|c| c.try_wait().ok().flatten())
            {
                panic!(
                    "wirefeed exited during startup ({status}); log:\n{}",
                    self.log()
                );
            }
            if self
                .try_request("GET", "/readyz", &[])
                .is_some_and(|r| r.status == 200)
            {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "wirefeed not ready within {START_TIMEOUT:?}; log:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("daemon running").id()
    }

    pub fn port(&self) -> u16 {
        self.site.port
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{}", self.site.port, path)
    }

    fn try_request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Option<Resp> {
        let mut req = ureq::http::Request::builder()
            .method(method)
            .uri(self.url(path));
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(()).ok()?;
        let mut resp = self.agent.run(req).ok()?;
        let status = resp.status().as_u16();
        let headers = resp
            .headers()
            .iter()
            .map(|(k, v)| {
                (
                    k.as_str().to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect();
        let body = resp.body_mut().read_to_vec().ok()?;
        Some(Resp {
            status,
            headers,
            body,
        })
    }

    /// The status of a GET, `None` while nothing answers.
    pub fn request_status(&self, path: &str) -> Option<u16> {
        self.try_request("GET", path, &[]).map(|r| r.status)
    }

    /// Any method, with extra request headers.
    pub fn request(&self, method: &str, path: &str, headers: &[(&str, &str)]) -> Resp {
        self.try_request(method, path, headers)
            .unwrap_or_else(|| panic!("{method} {path}: no HTTP answer"))
    }

    pub fn get(&self, path: &str) -> Resp {
        self.request("GET", path, &[])
    }

    pub fn get_with(&self, path: &str, headers: &[(&str, &str)]) -> Resp {
        self.request("GET", path, headers)
    }

    /// The body of a 200 answer as text (empty when the status is not 200).
    pub fn body(&self, path: &str) -> String {
        match self.try_request("GET", path, &[]) {
            Some(r) if r.status == 200 => r.text(),
            _ => String::new(),
        }
    }

    /// Sends one raw HTTP/1.1 request line (no client-side normalisation)
    /// and returns the status code and the whole response text.
    pub fn raw_get(&self, target: &str) -> (u16, String) {
        let mut s = TcpStream::connect(("127.0.0.1", self.site.port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5))).ok();
        // A server may answer and close before a long request is all sent
        // (then the write fails and the status reads as 0).
        let _ = write!(
            s,
            "GET {target} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\n\r\n",
            self.site.port
        );
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        let text = String::from_utf8_lossy(&out).into_owned();
        let status = text
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse().ok())
            .unwrap_or(0);
        (status, text)
    }

    /// `kill -<sig> <pid>`.
    pub fn signal(&self, sig: &str) {
        let ok = Command::new("kill")
            .arg(format!("-{sig}"))
            .arg(self.pid().to_string())
            .status()
            .is_ok_and(|s| s.success());
        assert!(ok, "kill -{sig} failed");
    }

    /// `kill -<sig> <pid>` without checking the outcome (the process may
    /// have exited; it stays a zombie until waited for, so the pid is not
    /// reused).
    pub fn signal_unchecked(&self, sig: &str) {
        if let Some(c) = &self.child {
            let _ = Command::new("kill")
                .arg(format!("-{sig}"))
                .arg(c.id().to_string())
                .status();
        }
    }

    /// Waits up to `timeout` for the process to exit on its own; None if it
    /// is still running then (it is left running).
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<Duration> {
        let started = Instant::now();
        let child = self.child.as_mut()?;
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                self.child = None;
                return Some(started.elapsed());
            }
            if started.elapsed() >= timeout {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// SIGTERM, then waits up to `timeout` for the exit. Returns how long
    /// the exit took (None: still running; it is then killed).
    pub fn stop_within(&mut self, timeout: Duration) -> Option<Duration> {
        let mut child = self.child.take()?;
        let started = Instant::now();
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        loop {
            if let Ok(Some(_)) = child.try_wait() {
                return Some(started.elapsed());
            }
            if started.elapsed() >= timeout {
                let _ = child.kill();
                let _ = child.wait();
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops the daemon and starts it again on the same directories (a new
    /// port, so nothing else can grab the old one in between).
    pub fn restart(&mut self) {
        self.restart_on(free_port());
    }

    /// Restarts on the same port: the same `base_url`, so the same bytes.
    pub fn restart_in_place(&mut self) {
        self.restart_on(self.site.port);
    }

    fn restart_on(&mut self, port: u16) {
        if self.child.is_some() {
            assert!(
                self.stop_within(Duration::from_secs(10)).is_some(),
                "wirefeed did not stop on SIGTERM"
            );
        }
        self.site.port = port;
        self.site.write_config();
        self.spawn();
    }

    /// Everything the daemon logged so far (ANSI colours stripped).
    pub fn log(&self) -> String {
        strip_ansi(&fs::read_to_string(self.site.log_path()).unwrap_or_default())
    }

    /// Log lines containing every one of `needles`.
    pub fn log_lines_with(&self, needles: &[&str]) -> Vec<String> {
        self.log()
            .lines()
            .filter(|l| needles.iter().all(|n| l.contains(n)))
            .map(str::to_string)
            .collect()
    }

    /// Waits (5 s) until the log holds a line containing `needle`; panics
    /// with `what` and the whole log otherwise.
    pub fn wait_log(&self, needle: &str, what: &str) {
        assert!(
            eventually(|| self.log().contains(needle)),
            "never logged {what} ({needle:?}):\n{}",
            self.log()
        );
    }

    pub fn count_log(&self, needle: &str) -> usize {
        self.log_lines_with(&[needle]).len()
    }

    /// `wirefeed build --out` on this daemon's config, into a temp dir.
    pub fn build_site(&self) -> tempfile::TempDir {
        let out = tempfile::tempdir().expect("tempdir");
        let built = Command::new(env!("CARGO_BIN_EXE_wirefeed"))
            .arg("--config")
            .arg(self.site.config_path())
            .args(["build", "--out"])
            .arg(out.path())
            .output()
            .expect("run build");
        assert!(
            built.status.success(),
            "{}",
            String::from_utf8_lossy(&built.stderr)
        );
        out
    }

    /// Writes `articles/<rel>` (creating its folder) in one go.
    pub fn write_article(&self, rel: &str, text: &str) -> PathBuf {
        let path = self.site.article_path(rel);
        if let Some(dir) = path.parent() {
            fs::create_dir_all(dir).expect("mkdir");
        }
        fs::write(&path, text).expect("write article");
        path
    }

    /// Waits (5 s) until feed `path` answers 200 and its body satisfies `f`;
    /// panics with the last body and the log otherwise. Returns that body.
    pub fn wait_feed(&self, path: &str, what: &str, mut f: impl FnMut(&str) -> bool) -> String {
        let mut last = String::new();
        let ok = eventually(|| {
            last = self.body(path);
            !last.is_empty() && f(&last)
        });
        assert!(
            ok,
            "{path}: never {what}; last body:\n{last}\nlog:\n{}",
            self.log()
        );
        last
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("---- wirefeed log ----\n{}", self.log());
        }
        let _ = self.stop_within(Duration::from_secs(5));
    }
}

/// Copies a directory tree (files and folders only).
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for entry in fs::read_dir(from).expect("read_dir").flatten() {
        let target = to.join(entry.file_name());
        if entry.file_type().is_ok_and(|t| t.is_dir()) {
            copy_tree(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), &target).expect("copy");
        }
    }
}

fn count_dirs(root: &Path) -> usize {
    let mut n = 1;
    if let Ok(rd) = fs::read_dir(root) {
        for e in rd.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                n += count_dirs(&e.path());
            }
        }
    }
    n
}

/// Inotify watches process `pid` holds (Linux `/proc`); None when unknown.
pub fn inotify_watches(pid: u32) -> Option<usize> {
    let fds = fs::read_dir(format!("/proc/{pid}/fd")).ok()?;
    let mut n = 0;
    for fd in fds.flatten() {
        let is_inotify =
            fs::read_link(fd.path()).is_ok_and(|t| t.to_string_lossy().contains("inotify"));
        if is_inotify {
            let info = fs::read_to_string(format!(
                "/proc/{pid}/fdinfo/{}",
                fd.file_name().to_string_lossy()
            ))
            .unwrap_or_default();
            n += info
                .lines()
                .filter(|l| l.starts_with("inotify wd:"))
                .count();
        }
    }
    Some(n)
}

/// Removes `ESC [ ... letter` sequences.
pub fn strip_ansi(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            chars.next();
            for c in chars.by_ref() {
                if c.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Articles in the scraped ("seed") layout.
// ---------------------------------------------------------------------------

/// The byline every [`seed_article`] carries.
pub const BYLINE: &str = "Farah Naqvi Published May 14, 2024 | 02:10 PM";
/// Its RSS `pubDate` with `site.timezone = "Asia/Karachi"`.
pub const SEED_PUBDATE: &str = "Tue, 14 May 2024 14:10:00 +0500";
/// Its Atom `published`.
pub const SEED_PUBLISHED: &str = "2024-05-14T14:10:00+05:00";
/// The related-story line in the chrome (must never reach a feed).
pub const RELATED_TITLE: &str = "Ferry operators announce revised winter timetable";
/// Chrome lines that must never reach a feed.
pub const CHROME_MARKERS: [&str; 4] = [
    "Recent Stories",
    "More Stories From",
    "minutes ago",
    RELATED_TITLE,
];

/// A scraped page: title, byline, Beijing dateline + first paragraph, the
/// other paragraphs, then the page chrome naming `category`.
pub fn seed_article(title: &str, category: &str, paragraphs: &[&str]) -> String {
    let (first, rest) = paragraphs.split_first().expect("at least one paragraph");
    let mut t = String::new();
    let _ = writeln!(t, "{title}");
    let _ = writeln!(t, "{BYLINE}");
    let _ = writeln!(
        t,
        "Beijing, (APP - UrduPoint / Pakistan Point News - 14th May, 2024) {first}"
    );
    for p in rest {
        let _ = writeln!(t, "{p}");
    }
    let _ = writeln!(t, "Recent Stories");
    let _ = writeln!(t, "{RELATED_TITLE}");
    let _ = writeln!(t, "More Stories From {category}");
    let _ = writeln!(t, "-");
    let _ = writeln!(t, "Some other headline4 minutes ago");
    t
}

/// A seed-layout article with four invented paragraphs; `tag` makes the
/// text (and so the content hash) unique.
pub fn story(title: &str, category: &str, tag: &str) -> String {
    seed_article(
        title,
        category,
        &[
            &format!("Officials said on Tuesday that the {tag} programme would start next month."),
            "The plan was agreed after two days of talks between the two delegations.",
            "Observers said the agreement could be extended to neighbouring provinces.",
            &format!("A final review of the {tag} programme is due before the end of the year."),
        ],
    )
}

// ---------------------------------------------------------------------------
// Reading feeds.
// ---------------------------------------------------------------------------

/// The parts of an RSS `<item>` the tests look at (text as written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RssItem {
    pub title: String,
    pub guid: String,
    /// The `<guid ...>` start tag, attributes included.
    pub guid_tag: String,
    pub pub_date: String,
    pub link: String,
    pub raw: String,
}

/// The parts of an Atom `<entry>` the tests look at (text as written).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AtomEntry {
    pub title: String,
    pub id: String,
    pub published: String,
    pub updated: String,
    pub raw: String,
}

/// The text of every `<tag ...>...</tag>` element (not nested in itself).
fn elements<'a>(xml: &'a str, tag: &str) -> Vec<(&'a str, &'a str)> {
    let close = format!("</{tag}>");
    let mut out = Vec::new();
    let mut rest = xml;
    while let Some(i) = find_start_tag(rest, tag) {
        let after = &rest[i..];
        let Some(gt) = after.find('>') else { break };
        let start_tag = &after[..=gt];
        if start_tag.ends_with("/>") {
            out.push((start_tag, ""));
            rest = &after[gt + 1..];
            continue;
        }
        let inner = &after[gt + 1..];
        let Some(end) = inner.find(&close) else { break };
        out.push((start_tag, &inner[..end]));
        rest = &inner[end + close.len()..];
    }
    out
}

/// Index of `<tag` followed by `>`, `/` or whitespace.
fn find_start_tag(s: &str, tag: &str) -> Option<usize> {
    let open = format!("<{tag}");
    let mut from = 0;
    while let Some(i) = s[from..].find(&open) {
        let at = from + i;
        match s[at + open.len()..].chars().next() {
            Some('>') | Some('/') | Some(' ') | Some('\n') | Some('\t') | Some('\r') => {
                return Some(at)
            }
            _ => from = at + open.len(),
        }
    }
    None
}

/// Text content: CDATA unwrapped, the five XML entities decoded.
fn text_of(inner: &str) -> String {
    let t = inner.trim();
    if let Some(cdata) = t
        .strip_prefix("<![CDATA[")
        .and_then(|s| s.strip_suffix("]]>"))
    {
        return cdata.to_string();
    }
    t.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

fn child_text(block: &str, tag: &str) -> String {
    elements(block, tag)
        .first()
        .map(|(_, inner)| text_of(inner))
        .unwrap_or_default()
}

pub fn rss_items(xml: &str) -> Vec<RssItem> {
    elements(xml, "item")
        .into_iter()
        .map(|(_, raw)| {
            let guid = elements(raw, "guid");
            RssItem {
                title: child_text(raw, "title"),
                guid: guid.first().map(|(_, t)| text_of(t)).unwrap_or_default(),
                guid_tag: guid.first().map(|(s, _)| s.to_string()).unwrap_or_default(),
                pub_date: child_text(raw, "pubDate"),
                link: child_text(raw, "link"),
                raw: raw.to_string(),
            }
        })
        .collect()
}

pub fn atom_entries(xml: &str) -> Vec<AtomEntry> {
    elements(xml, "entry")
        .into_iter()
        .map(|(_, raw)| AtomEntry {
            title: child_text(raw, "title"),
            id: child_text(raw, "id"),
            published: child_text(raw, "published"),
            updated: child_text(raw, "updated"),
            raw: raw.to_string(),
        })
        .collect()
}

/// The items of an RSS feed with this exact title.
pub fn rss_items_titled(xml: &str, title: &str) -> Vec<RssItem> {
    rss_items(xml)
        .into_iter()
        .filter(|i| i.title == title)
        .collect()
}

/// Parses with feed-rs, panicking with the body on failure.
pub fn parse_feed(path: &str, body: &[u8]) -> feed_rs::model::Feed {
    feed_rs::parser::parse(body).unwrap_or_else(|e| {
        panic!(
            "{path} does not parse with feed-rs: {e}\n{}",
            String::from_utf8_lossy(body)
        )
    })
}

/// A feed text as the text a reader shows: `text/html` decoded (entities
/// resolved, runs of white space as one), `text/plain` as it is. Errs on
/// markup in it other than a body's `<p>`: text that came back as markup.
pub fn shown_text(text: &feed_rs::model::Text) -> Result<String, String> {
    match text.content_type.to_string().as_str() {
        "text/html" => html_text(&text.content),
        "text/plain" => Ok(text.content.clone()),
        other => Err(format!("content type {other}")),
    }
}

/// HTML as the text it displays, after checking that the only markup in it
/// is what wirefeed writes around a plain-text body (`<p>`).
pub fn html_text(html: &str) -> Result<String, String> {
    let inner = html.trim();
    let inner = match inner
        .strip_prefix("<p>")
        .and_then(|s| s.strip_suffix("</p>"))
    {
        Some(paragraph) => paragraph,
        None => inner,
    };
    if inner.contains('<') {
        return Err(format!("markup wirefeed did not write: {html:?}"));
    }
    quick_xml::escape::unescape_with(inner, quick_xml::escape::resolve_html5_entity)
        .map(|t| squash(&t))
        .map_err(|e| format!("{e}: {html:?}"))
}

/// Runs of white space as one space, trimmed.
pub fn squash(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Deterministic pseudo-random bytes (xorshift64*).
pub fn pseudo_random_bytes(seed: u64, len: usize) -> Vec<u8> {
    let mut x = seed | 1;
    (0..len)
        .map(|_| {
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            (x.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 56) as u8
        })
        .collect()
}
