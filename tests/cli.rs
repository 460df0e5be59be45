//! The `wirefeed` command as a newcomer runs it, on the shipped config and
//! example articles.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn wirefeed() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wirefeed"));
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("WIREFEED_CONFIG")
        .env("WIREFEED_LOG", "info");
    cmd
}

fn read_tree(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<(String, Vec<u8>)> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| {
            let rel = e
                .path()
                .strip_prefix(dir)
                .expect("inside")
                .display()
                .to_string();
            (rel, std::fs::read(e.path()).expect("read"))
        })
        .collect();
    files.sort();
    files
}

#[test]
fn build_writes_the_whole_site_and_is_deterministic() {
    let out1 = tempfile::tempdir().expect("tempdir");
    let out2 = tempfile::tempdir().expect("tempdir");
    for out in [&out1, &out2] {
        let status = wirefeed()
            .args(["build", "--out"])
            .arg(out.path())
            .status()
            .expect("run");
        assert!(status.success());
    }
    let files = read_tree(out1.path());
    let names: Vec<&str> = files.iter().map(|(n, _)| n.as_str()).collect();
    for want in [
        "index.html",
        "feeds.opml",
        "feeds/all.rss",
        "feeds/world.atom",
        "feeds/business.json",
    ] {
        assert!(names.contains(&want), "{want} missing from {names:?}");
    }
    assert!(names.iter().filter(|n| n.starts_with("articles/")).count() >= 10);
    assert_eq!(files, read_tree(out2.path()), "same inputs, same bytes");
    let index = String::from_utf8(
        files
            .iter()
            .find(|(n, _)| n == "index.html")
            .expect("index")
            .1
            .clone(),
    )
    .expect("utf8");
    assert!(
        index.contains(r#"<link rel="alternate" type="application/rss+xml""#),
        "autodiscovery"
    );
    assert!(index.contains("http://localhost:8080/feeds/world.atom"));
}

#[test]
fn check_lists_problems_and_fails_on_config_errors() {
    let ok = wirefeed().arg("check").output().expect("run");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stderr).contains("0 problems"));

    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(
        dir.path().join("junk.txt"),
        [0u8, 159, 146, 150, 0, 0, 1, 2, 3, 0, 0, 0],
    )
    .expect("write");
    let bad = wirefeed()
        .args(["check", "--strict"])
        .env("WIREFEED_ARTICLES_DIR", dir.path())
        .output()
        .expect("run");
    assert!(!bad.status.success(), "--strict fails on article problems");
    let stdout = String::from_utf8_lossy(&bad.stdout);
    assert!(stdout.contains("junk.txt: binary data"), "{stdout}");

    let config = dir.path().join("broken.toml");
    std::fs::write(&config, "[site]\ntitle = \"x\"\nbase_url = \"not a url\"\n").expect("write");
    let broken = wirefeed()
        .arg("--config")
        .arg(&config)
        .arg("check")
        .output()
        .expect("run");
    assert!(!broken.status.success());
    let err = String::from_utf8_lossy(&broken.stderr);
    assert!(err.contains("line 3") && err.contains("base_url"), "{err}");
}

#[test]
fn inspect_shows_every_field_and_the_date_source() {
    let out = wirefeed()
        .args(["inspect", "tests/fixtures/seed_layout.txt"])
        .output()
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(v["article"]["date_source"], "byline");
    assert_eq!(v["article"]["author"], "Sara Qureshi");
    assert_eq!(v["published"], "2024-03-03T21:45:00+05:00");
    assert_eq!(v["feeds"], serde_json::json!(["all", "pakistan"]));
    assert!(v["guid"].as_str().expect("guid").starts_with("urn:uuid:"));
}

/// Starts `wirefeed serve` on the shipped config, a free port and its own
/// state directory; returns the child and its address once it is ready.
fn serve(state: &Path) -> (std::process::Child, String) {
    let mut child = wirefeed()
        .arg("serve")
        .env("WIREFEED_SERVER_LISTEN", "127.0.0.1:0")
        .env("WIREFEED_STATE_DIR", state)
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let mut log = BufReader::new(child.stderr.take().expect("stderr"));
    let mut addr = None;
    let mut line = String::new();
    while addr.is_none() && log.read_line(&mut line).expect("log") > 0 {
        addr = line
            .split_whitespace()
            .find_map(|w| w.strip_prefix("addr="))
            .map(str::to_string);
        line.clear();
    }
    let addr = addr.expect("listening line with addr=");
    // Keep draining the log so the child never blocks on a full pipe.
    std::thread::spawn(move || std::io::copy(&mut log, &mut std::io::sink()));
    let started = Instant::now();
    while !get(&addr, "/readyz", "").0.starts_with("HTTP/1.1 200") {
        assert!(started.elapsed() < Duration::from_secs(20), "not ready");
        std::thread::sleep(Duration::from_millis(50));
    }
    (child, addr)
}

/// Raw GET: (status line + headers, body).
fn get(addr: &str, path: &str, extra: &str) -> (String, Vec<u8>) {
    let mut s = TcpStream::connect(addr).expect("connect");
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\n{extra}Connection: close\r\n\r\n"
    )
    .expect("send");
    let mut resp = Vec::new();
    s.read_to_end(&mut resp).expect("read");
    let split = resp
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .map_or(resp.len(), |i| i + 4);
    (
        String::from_utf8_lossy(&resp[..split]).into_owned(),
        resp[split..].to_vec(),
    )
}

fn header<'a>(head: &'a str, name: &str) -> Option<&'a str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

fn stop(mut child: std::process::Child) -> Duration {
    let stop = Instant::now();
    Command::new("kill")
        .arg("-TERM")
        .arg(child.id().to_string())
        .status()
        .expect("kill");
    let status = child.wait().expect("wait");
    assert!(status.success(), "clean exit on SIGTERM: {status:?}");
    stop.elapsed()
}

/// `cargo run -- serve` in the README: the shipped config and articles,
/// served (on a free port here) until SIGTERM.
#[test]
fn serve_on_the_shipped_config_then_stop_on_sigterm() {
    let state = tempfile::tempdir().expect("tempdir");
    let (child, addr) = serve(state.path());
    let (head, body) = get(&addr, "/feeds/world.rss", "");
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(String::from_utf8_lossy(&body).contains("<item>"));
    let took = stop(child);
    assert!(took < Duration::from_secs(2), "stopped in {took:?}");
}

/// Two servers over one directory and config (each with its own state)
/// answer with the same bytes and the same ETags: caches and readers can
/// be pointed at either.
#[test]
fn two_instances_serve_identical_bytes_and_etags() {
    let (s1, s2) = (
        tempfile::tempdir().expect("tempdir"),
        tempfile::tempdir().expect("tempdir"),
    );
    let (a, addr_a) = serve(s1.path());
    let (b, addr_b) = serve(s2.path());
    for slug in [
        "all",
        "world",
        "pakistan",
        "business",
        "sports",
        "technology",
    ] {
        for ext in ["rss", "atom", "json"] {
            let path = format!("/feeds/{slug}.{ext}");
            for extra in ["", "Accept-Encoding: gzip\r\n"] {
                let (ha, ba) = get(&addr_a, &path, extra);
                let (hb, bb) = get(&addr_b, &path, extra);
                assert_eq!(ba, bb, "{path} {extra:?}: bodies differ");
                assert_eq!(header(&ha, "etag"), header(&hb, "etag"), "{path}");
                assert_eq!(
                    header(&ha, "last-modified"),
                    header(&hb, "last-modified"),
                    "{path}"
                );
            }
        }
    }
    stop(a);
    stop(b);
}

/// A control character in a config text that every feed carries (here the
/// site title, from a TOML escape or the environment) would make every
/// feed ill-formed XML: the config is refused with the key named, and
/// nothing is ever served.
#[test]
fn a_config_text_no_feed_may_carry_is_refused_before_serving() {
    let state = tempfile::tempdir().expect("tempdir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("port")
        .port();
    let mut child = wirefeed()
        .arg("serve")
        .env("WIREFEED_SITE_TITLE", "Pakistan Point News\u{7}")
        .env("WIREFEED_SERVER_LISTEN", format!("127.0.0.1:{port}"))
        .env("WIREFEED_STATE_DIR", state.path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let deadline = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(status) = child.try_wait().expect("wait") {
            break Some(status);
        }
        if Instant::now() > deadline {
            break None;
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let Some(status) = status else {
        let served = TcpStream::connect(("127.0.0.1", port)).is_ok();
        let _ = child.kill();
        let _ = child.wait();
        panic!("still running after 10 s (serving: {served})");
    };
    let mut err = String::new();
    if let Some(mut stderr) = child.stderr.take() {
        let _ = stderr.read_to_string(&mut err);
    }
    assert_eq!(status.code(), Some(2), "{err}");
    assert!(
        err.contains("site.title") && err.contains("control character"),
        "{err}"
    );
}
