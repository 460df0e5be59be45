//! Write→visible latency of a running `wirefeed serve`, with the writer, the
//! poller and the load client in one compiled program (issue #29).
//!
//! ```sh
//! cargo bench --bench live -- --url http://127.0.0.1:PORT --articles DIR \
//!     --rate 1000 --files 5000 [--load-rps 200 --load-conns 8 --feed /feeds/world.rss] \
//!     [--poll-interval-ms 5] [--log DAEMON_LOG] [--daemon-pid PID] [--raw OUT_DIR]
//! ```
//!
//! What: against a daemon that is already serving the corpus in `--articles`
//! (bench/latency.sh starts it), this program
//! - writes `--files` new scraped-page `.txt` articles (README.md "Scraped news
//!   page" layout: title, byline, dateline, paragraphs, `More Stories From
//!   <Category>`) into the eight corpus category folders, round robin, as
//!   `burst-<RUN>-<seq>.txt`. Each title ends in a unique token `zq<RUN>n<seq>`
//!   and each byline is one minute after the previous file's, all newer than
//!   the corpus (2023-2024) and in the past (the last is two minutes before
//!   now), so each file is the newest article when it is written. Files are
//!   rendered in memory first, then written as bench/burst.py does (open with
//!   O_CREAT|O_TRUNC, write, close; no rename), file k due at
//!   start + k / `--rate` on a fixed schedule (`--rate 0`: back to back). The
//!   instant after each close is kept. Runs on its own thread.
//! - polls: conditional GETs (If-None-Match) of /feeds/all.json and the eight
//!   category JSON feeds, one after the other over one keep-alive connection,
//!   then a `--poll-interval-ms` pause; records when each token is first seen.
//! - loads: GETs of `--feed` (Accept-Encoding: gzip) at `--load-rps` spread
//!   over `--load-conns` keep-alive connections, request i scheduled at
//!   t0 + i / rps. A pacer thread (std sleep, sub-millisecond) hands each
//!   scheduled instant to its connection; latency runs from the scheduled
//!   instant, so a request waiting behind a slow one counts its wait
//!   (no coordinated omission). From `--base-seconds` before the first write
//!   until the last file is published.
//! - waits until the daemon holds base + files articles (its log when `--log`
//!   is given, else /metrics `wirefeed_articles{feed="all"}`), one more second
//!   for the poller, then reports.
//!
//! How write→visible is measured (the method of bench/latency.sh): a feed
//! shows only its newest 50 items and the daemon publishes in rounds, so
//! polling cannot see every file.
//! - A (every file, needs `--log`): the daemon logs `published ...
//!   articles=N` with a UTC timestamp after each swap. The burst only adds
//!   paths, so the k-th file written is visible at the first publish with
//!   N >= base + k; write→visible = that log time - the file's close instant.
//! - B (the files that reached a feed): first time the poller saw the token
//!   minus the close instant (includes up to one poll cycle). "early" counts
//!   files seen before the publish A assigns them, which would show A's
//!   ordering assumption failing.
//!
//! Output: a summary on stdout (files, writer files/s and how far the paced
//! writer fell behind its schedule, A and B p50/p90/p99/max, publishes, load
//! before and during the burst with status counts, the harness's own CPU by
//! thread from getrusage, the daemon's CPU by thread from /proc with
//! `--daemon-pid`), then one JSON line (starting `{"bench":"live"`) for scripts.
//! `--raw DIR` also writes writes.csv, seen.csv, load.csv and publishes.csv.
//!
//! Why compiled: the Python harness (bench/burst.py) spends a good share of a
//! 2-core machine on writing, polling and pacing, CPU the daemon then lacks
//! at 5 000 files/s. Here the writer costs a few µs per file, the poller
//! sleeps between cycles and the load client is one thread plus the pacer;
//! the summary prints what they used so that can be checked on every run.
//!
//! Wall clock vs. monotonic: all instants are taken with `Instant` and put on
//! one run clock; the daemon's log times (wall clock) are mapped onto it
//! through one (SystemTime, Instant) pair taken at start.

use std::collections::BTreeMap;
use std::fs;
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail, Context, Result};
use bytes::Bytes;
use chrono::{DateTime, Datelike, FixedOffset, TimeZone, Timelike, Utc};
use clap::Parser;
use http_body_util::{BodyExt, Empty};
use hyper::client::conn::http1;
use hyper_util::rt::TokioIo;
use serde_json::json;

/// The corpus categories (bench/corpus.py): folder slug and title.
const CATEGORIES: [(&str, &str); 8] = [
    ("world", "World"),
    ("pakistan", "Pakistan"),
    ("business", "Business"),
    ("sports", "Sports"),
    ("technology", "Technology"),
    ("entertainment", "Entertainment"),
    ("health", "Health"),
    ("education", "Education"),
];
#[rustfmt::skip]
const MONTHS: [&str; 12] = [
    "January", "February", "March", "April", "May", "June", "July", "August", "September",
    "October", "November", "December",
];
#[rustfmt::skip]
const CITIES: [&str; 12] = [
    "Islamabad", "Lahore", "Karachi", "Peshawar", "Quetta", "Multan", "London", "Beijing",
    "Dubai", "Washington", "Geneva", "Tokyo",
];
#[rustfmt::skip]
const AUTHORS: [&str; 8] = [
    "Sara Qureshi", "Nadia Khan", "Hina Shah", "Hassan Mirza", "Imran Ali", "Ayesha Siddiqui",
    "Bilal Ahmed", "Zainab Malik",
];
const WORDS: &str = "the government said on tuesday that new plan would be approved by \
    cabinet after talks with provincial officials minister announced funds for water storage \
    projects across districts farmers welcomed decision but critics warned costs could rise \
    markets closed higher banking shares rallied investors bought stocks ahead of dividend \
    season exports grew in april textile sector reported strong orders from europe and china \
    team won series against visitors captain praised young bowlers university launched research \
    centre hospital opened new ward for children doctors urged citizens to take precautions \
    police arrested suspects court adjourned hearing until next week senate passed bill";

#[derive(Parser)]
#[command(about = "write→visible latency of a running wirefeed serve (see the file header)")]
struct Args {
    /// The daemon's base URL, http://HOST:PORT.
    #[arg(long)]
    url: String,
    /// Its articles directory (the corpus's, with the eight category folders).
    #[arg(long)]
    articles: PathBuf,
    /// Files per second on a fixed schedule; 0 = back to back.
    #[arg(long, default_value_t = 0.0)]
    rate: f64,
    /// How many files to write.
    #[arg(long, default_value_t = 1000)]
    files: usize,
    /// Load client requests per second (0: no load client).
    #[arg(long, default_value_t = 200.0)]
    load_rps: f64,
    /// Load client keep-alive connections.
    #[arg(long, default_value_t = 8)]
    load_conns: usize,
    /// Path the load client GETs.
    #[arg(long, default_value = "/feeds/world.rss")]
    feed: String,
    /// Pause between poll cycles (each cycle: the nine JSON feeds).
    #[arg(long, default_value_t = 5.0)]
    poll_interval_ms: f64,
    /// The daemon's log (for method A and to see the end of the burst).
    #[arg(long)]
    log: Option<PathBuf>,
    /// The daemon's pid, for its CPU by thread during the burst.
    #[arg(long)]
    daemon_pid: Option<u32>,
    /// Articles in the catalog before the burst (default: from /metrics).
    #[arg(long)]
    base_count: Option<usize>,
    /// Seconds of polling and load before the first write.
    #[arg(long, default_value_t = 5.0)]
    base_seconds: f64,
    /// Give up waiting for the burst to be published after this many seconds.
    #[arg(long, default_value_t = 600.0)]
    timeout: f64,
    /// Run number in tokens and file names (default: unix time mod 100 000).
    #[arg(long)]
    run: Option<u64>,
    /// Write raw CSVs (writes, seen, load, publishes) into this directory.
    #[arg(long)]
    raw: Option<PathBuf>,
    /// Passed by `cargo bench`; ignored.
    #[arg(long, hide = true)]
    bench: bool,
}

fn main() -> Result<()> {
    let args = Args::parse();
    let target = Target::parse(&args.url)?;
    let clock = Clock::start();
    let run = args.run.unwrap_or(clock.unix0 as u64 % 100_000);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("main runtime")?;

    let base = match args.base_count {
        Some(b) => b,
        None => rt.block_on(metrics_count(&target, Duration::from_secs(30)))?,
    };
    let files = render_burst(&args.articles, run, args.files)?;
    let n = files.len();
    let want = base + n;
    eprintln!(
        "live: {n} files into {base} articles, run {run}, rate {}",
        args.rate
    );

    let stop = Arc::new(AtomicBool::new(false));
    let self0 = cpu_self();
    let daemon_base = args.daemon_pid.map(daemon_cpu);
    let poller = {
        let (target, stop) = (target.clone(), stop.clone());
        let interval = Duration::from_secs_f64(args.poll_interval_ms / 1000.0);
        spawn("live-poller", move || {
            poll_thread(target, run, interval, stop, clock)
        })?
    };
    let load = if args.load_rps > 0.0 {
        let (target, stop, path) = (target.clone(), stop.clone(), args.feed.clone());
        let (rps, conns) = (args.load_rps, args.load_conns.max(1));
        Some(spawn("live-load", move || {
            load_thread(target, path, rps, conns, stop, clock)
        })?)
    } else {
        None
    };
    std::thread::sleep(Duration::from_secs_f64(args.base_seconds));

    let daemon_start = args.daemon_pid.map(daemon_cpu);
    let rate = args.rate;
    let writer = spawn("live-writer", move || write_thread(files, rate, clock))?;
    let done = match &args.log {
        Some(log) => wait_log(log, want, args.timeout),
        None => rt.block_on(wait_metrics(&target, want, args.timeout)),
    };
    let done_at = clock.rel(Instant::now());
    let daemon_end = args.daemon_pid.map(daemon_cpu);
    let writes = join(writer)?;
    if let Err(e) = &done {
        eprintln!("live: {e:#}");
    }
    std::thread::sleep(Duration::from_secs(1)); // the poller's last cycles
    stop.store(true, Ordering::Relaxed);
    let seen = join(poller)?;
    let load = load.map(join).transpose()?;
    let self1 = cpu_self();

    let pubs = match &args.log {
        Some(log) => read_publishes(log, &clock)?,
        None => Vec::new(),
    };
    let daemon = match (daemon_base, daemon_start, daemon_end) {
        (Some(b), Some(s), Some(e)) => Some((b, s, e)),
        _ => None,
    };
    let report = Report {
        args: &args,
        run,
        base,
        writes: &writes,
        seen: &seen,
        load: load.as_ref(),
        pubs: &pubs,
        done_at: done.is_ok().then_some(done_at),
        harness_cpu: self1 - self0,
        daemon,
    };
    report.print()?;
    if let Some(dir) = &args.raw {
        write_raw(dir, &writes, &seen, load.as_ref(), &pubs)?;
    }
    Ok(())
}

// ---------------------------------------------------------------- clock, CPU

/// One run clock: seconds since the start, from `Instant`; wall-clock times
/// (the daemon's log) are mapped onto it through `unix0`.
#[derive(Clone, Copy)]
struct Clock {
    t0: Instant,
    unix0: f64,
}

impl Clock {
    fn start() -> Self {
        let unix0 = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        Clock {
            t0: Instant::now(),
            unix0,
        }
    }

    fn rel(&self, t: Instant) -> f64 {
        t.saturating_duration_since(self.t0).as_secs_f64()
    }
}

/// CPU seconds (user + system) of the calling thread or the whole process.
fn rusage(who: libc::c_int) -> f64 {
    // SAFETY: getrusage only writes into the zeroed struct we pass it.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid `who` and a valid pointer to a rusage struct.
    if unsafe { libc::getrusage(who, &mut ru) } != 0 {
        return f64::NAN;
    }
    let tv = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    tv(ru.ru_utime) + tv(ru.ru_stime)
}

fn cpu_thread() -> f64 {
    rusage(libc::RUSAGE_THREAD)
}

fn cpu_self() -> f64 {
    rusage(libc::RUSAGE_SELF)
}

/// The daemon's CPU seconds by thread name (`wirefeed-read-1` and `-2` summed
/// as `wirefeed-read`), from /proc/PID/task/*/stat, and when it was taken.
#[derive(Clone)]
struct DaemonCpu {
    at: Instant,
    threads: BTreeMap<String, f64>,
}

fn daemon_cpu(pid: u32) -> DaemonCpu {
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as f64;
    let mut threads = BTreeMap::new();
    let tasks = fs::read_dir(format!("/proc/{pid}/task"))
        .into_iter()
        .flatten();
    for task in tasks.flatten() {
        let Ok(stat) = fs::read_to_string(task.path().join("stat")) else {
            continue;
        };
        let (Some(open), Some(close)) = (stat.find('('), stat.rfind(')')) else {
            continue;
        };
        let name = stat[open + 1..close].trim_end_matches(|c: char| c.is_ascii_digit());
        let name = name.strip_suffix('-').unwrap_or(name).to_string();
        let fields: Vec<&str> = stat[close + 1..].split_whitespace().collect();
        // After the name: state is field 3 of stat(5); utime 14, stime 15.
        let ticks = |i: usize| {
            fields
                .get(i)
                .and_then(|f| f.parse::<f64>().ok())
                .unwrap_or(0.0)
        };
        *threads.entry(name).or_insert(0.0) += (ticks(11) + ticks(12)) / hz;
    }
    DaemonCpu {
        at: Instant::now(),
        threads,
    }
}

fn spawn<T: Send + 'static>(
    name: &str,
    f: impl FnOnce() -> Result<T> + Send + 'static,
) -> Result<std::thread::JoinHandle<Result<T>>> {
    std::thread::Builder::new()
        .name(name.into())
        .spawn(f)
        .with_context(|| format!("spawning {name}"))
}

fn join<T>(h: std::thread::JoinHandle<Result<T>>) -> Result<T> {
    h.join().map_err(|_| anyhow!("a harness thread panicked"))?
}

// ---------------------------------------------------------------- articles

/// splitmix64: a small deterministic generator for the article text.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in lo..=hi.
    fn range(&mut self, lo: usize, hi: usize) -> usize {
        lo + (self.next() % (hi - lo + 1) as u64) as usize
    }

    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.range(0, xs.len() - 1)]
    }
}

fn headline(rng: &mut Rng, words: &[&str]) -> String {
    let k = rng.range(6, 10);
    let ws: Vec<String> = (0..k).map(|_| capitalize(rng.pick(words))).collect();
    ws.join(" ")
}

fn capitalize(w: &str) -> String {
    let mut c = w.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn paragraph(rng: &mut Rng, words: &[&str]) -> String {
    let sentences: Vec<String> = (0..rng.range(2, 5))
        .map(|_| {
            let ws: Vec<&str> = (0..rng.range(8, 22)).map(|_| rng.pick(words)).collect();
            format!("{}.", capitalize(&ws.join(" ")))
        })
        .collect();
    sentences.join(" ")
}

fn ordinal(d: u32) -> String {
    let suffix = match (d % 10, d % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{d}{suffix}")
}

/// One scraped page (README.md "Scraped news page"), 2-8 KB like the corpus.
fn render_txt(run: u64, seq: usize, when: DateTime<FixedOffset>, words: &[&str]) -> Vec<u8> {
    let mut rng = Rng(run.wrapping_mul(1_000_003) ^ (seq as u64).wrapping_mul(0x2545_F491));
    let (_, category) = CATEGORIES[seq % CATEGORIES.len()];
    let title = format!("{} zq{run}n{seq:06}", headline(&mut rng, words));
    let (hour12, ampm) = match when.hour() {
        0 => (12, "AM"),
        h @ 1..=11 => (h, "AM"),
        12 => (12, "PM"),
        h => (h - 12, "PM"),
    };
    let month = MONTHS[when.month0() as usize];
    let byline = format!(
        "{} Published {month} {}, {} | {hour12:02}:{:02} {ampm}",
        rng.pick(&AUTHORS),
        when.day(),
        when.year(),
        when.minute()
    );
    let dateline = format!(
        "{}, (APP - UrduPoint / Pakistan Point News - {} {month}, {})",
        rng.pick(&CITIES),
        ordinal(when.day()),
        when.year()
    );
    let target = rng.range(2048, 8192);
    let mut chrome = vec!["Recent Stories".to_string()];
    for _ in 0..rng.range(3, 6) {
        chrome.push(headline(&mut rng, words));
    }
    chrome.push(format!("More Stories From {category}"));
    for _ in 0..rng.range(2, 4) {
        chrome.push("-".into());
        chrome.push(format!(
            "{}{} minutes ago",
            headline(&mut rng, words),
            rng.range(1, 59)
        ));
    }
    let head = format!("{title}\n{byline}\n{dateline} ");
    let tail = chrome.join("\n") + "\n";
    let mut body = String::new();
    while head.len() + tail.len() + body.len() < target.saturating_sub(200).max(2100) {
        body.push_str(&paragraph(&mut rng, words));
        body.push('\n');
    }
    // Trim the last paragraph word by word to stay within 8 KB.
    while head.len() + tail.len() + body.len() > 8100 {
        let cut = body.trim_end().rfind(' ').unwrap_or(0);
        if cut == 0 || body[..cut].ends_with('\n') {
            break;
        }
        body.truncate(cut);
        body.push_str(".\n");
    }
    format!("{head}{body}{tail}").into_bytes()
}

/// The burst, rendered in memory: (path, bytes) in write order.
fn render_burst(articles: &Path, run: u64, n: usize) -> Result<Vec<(PathBuf, Vec<u8>)>> {
    for (slug, _) in CATEGORIES {
        let dir = articles.join(slug);
        if !dir.is_dir() {
            bail!(
                "{} is not a directory (a bench/corpus.py corpus?)",
                dir.display()
            );
        }
    }
    let pkt = FixedOffset::east_opt(5 * 3600).context("UTC+05:00")?;
    let now = Utc::now();
    let minute = now.timestamp() - now.timestamp() % 60;
    let last = minute - 120;
    let first = last - 60 * (n as i64 - 1).max(0);
    let corpus_end = pkt
        .with_ymd_and_hms(2025, 1, 1, 0, 0, 0)
        .single()
        .context("2025-01-01 in UTC+05:00")?;
    if first <= corpus_end.timestamp() {
        bail!("burst dates would overlap the corpus (2023-2024): fewer files or a later clock");
    }
    let words: Vec<&str> = WORDS.split_whitespace().collect();
    (0..n)
        .map(|seq| {
            let when = DateTime::from_timestamp(first + 60 * seq as i64, 0)
                .context("burst date")?
                .with_timezone(&pkt);
            let (slug, _) = CATEGORIES[seq % CATEGORIES.len()];
            let path = articles
                .join(slug)
                .join(format!("burst-{run}-{seq:06}.txt"));
            Ok((path, render_txt(run, seq, when, &words)))
        })
        .collect()
}

// ---------------------------------------------------------------- writer

struct Writes {
    /// Close instant of file seq (run clock, s).
    at: Vec<f64>,
    /// How late each write started against its schedule (s; 0 unpaced).
    late: Vec<f64>,
    cpu: f64,
}

fn write_thread(files: Vec<(PathBuf, Vec<u8>)>, rate: f64, clock: Clock) -> Result<Writes> {
    let cpu0 = cpu_thread();
    let mut at = Vec::with_capacity(files.len());
    let mut late = Vec::with_capacity(files.len());
    let start = Instant::now();
    for (seq, (path, data)) in files.iter().enumerate() {
        if rate > 0.0 {
            let due = start + Duration::from_secs_f64(seq as f64 / rate);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            late.push(Instant::now().saturating_duration_since(due).as_secs_f64());
        }
        let mut f = fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(path)
            .with_context(|| format!("creating {}", path.display()))?;
        f.write_all(data)
            .with_context(|| format!("writing {}", path.display()))?;
        drop(f);
        at.push(clock.rel(Instant::now()));
    }
    Ok(Writes {
        at,
        late,
        cpu: cpu_thread() - cpu0,
    })
}

// ---------------------------------------------------------------- HTTP

#[derive(Clone)]
struct Target {
    addr: String,
}

impl Target {
    fn parse(url: &str) -> Result<Self> {
        let uri: hyper::Uri = url.parse().with_context(|| format!("--url {url}"))?;
        if uri.scheme_str() != Some("http") {
            bail!("--url {url}: only http:// is supported");
        }
        let host = uri.host().context("--url without a host")?;
        let port = uri.port_u16().unwrap_or(80);
        Ok(Target {
            addr: format!("{host}:{port}"),
        })
    }
}

/// One keep-alive HTTP/1.1 connection, opened again after an error.
struct Conn {
    target: Target,
    sender: Option<http1::SendRequest<Empty<Bytes>>>,
}

struct Reply {
    status: u16,
    etag: Option<String>,
    body: Bytes,
}

impl Conn {
    fn new(target: Target) -> Self {
        Conn {
            target,
            sender: None,
        }
    }

    async fn connect(&self) -> Result<http1::SendRequest<Empty<Bytes>>> {
        let stream = tokio::net::TcpStream::connect(&self.target.addr)
            .await
            .with_context(|| format!("connecting to {}", self.target.addr))?;
        stream.set_nodelay(true).context("TCP_NODELAY")?;
        let (sender, conn) = http1::handshake(TokioIo::new(stream))
            .await
            .context("HTTP handshake")?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        Ok(sender)
    }

    /// GET `path` (10 s limit), once more on a fresh connection if the kept
    /// one failed. `keep`: return the body, else only drain it.
    async fn get(&mut self, path: &str, headers: &[(&str, &str)], keep: bool) -> Result<Reply> {
        let mut last = None;
        for _ in 0..2 {
            match tokio::time::timeout(Duration::from_secs(10), self.try_get(path, headers, keep))
                .await
            {
                Ok(Ok(r)) => return Ok(r),
                Ok(Err(e)) => last = Some(e),
                Err(_) => last = Some(anyhow!("GET {path}: no answer in 10 s")),
            }
            self.sender = None;
        }
        Err(last.unwrap_or_else(|| anyhow!("GET {path} failed")))
    }

    async fn try_get(&mut self, path: &str, headers: &[(&str, &str)], keep: bool) -> Result<Reply> {
        let mut sender = match self.sender.take() {
            Some(s) if !s.is_closed() => s,
            _ => self.connect().await?,
        };
        sender.ready().await.context("connection not ready")?;
        let mut req = hyper::Request::get(path).header(hyper::header::HOST, &self.target.addr);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req.body(Empty::new()).context("building the request")?;
        let resp = sender.send_request(req).await.context("sending")?;
        let status = resp.status().as_u16();
        let etag = resp
            .headers()
            .get(hyper::header::ETAG)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let mut body = resp.into_body();
        let body = if keep {
            body.collect().await.context("reading the body")?.to_bytes()
        } else {
            while let Some(frame) = body.frame().await {
                frame.context("reading the body")?;
            }
            Bytes::new()
        };
        self.sender = Some(sender);
        Ok(Reply { status, etag, body })
    }
}

/// `wirefeed_articles{feed="all"}` from /metrics, retried for `patience`.
async fn metrics_count(target: &Target, patience: Duration) -> Result<usize> {
    let mut conn = Conn::new(target.clone());
    let deadline = Instant::now() + patience;
    loop {
        let got = conn.get("/metrics", &[], true).await.and_then(|r| {
            let text = String::from_utf8_lossy(&r.body);
            text.lines()
                .find_map(|l| l.strip_prefix("wirefeed_articles{feed=\"all\"} "))
                .and_then(|v| v.trim().parse::<f64>().ok())
                .map(|v| v as usize)
                .context("no wirefeed_articles{feed=\"all\"} in /metrics")
        });
        match got {
            Ok(n) => return Ok(n),
            Err(e) if Instant::now() > deadline => return Err(e),
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

async fn wait_metrics(target: &Target, want: usize, timeout: f64) -> Result<()> {
    let deadline = Instant::now() + Duration::from_secs_f64(timeout);
    let mut have = 0;
    while Instant::now() < deadline {
        have = metrics_count(target, Duration::ZERO).await.unwrap_or(have);
        if have >= want {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    bail!("timeout: {have} of {want} articles after {timeout} s")
}

// ---------------------------------------------------------------- poller

struct Seen {
    /// First time each seq's token was seen (run clock, s).
    at: BTreeMap<usize, f64>,
    requests: u64,
    changed: u64,
    errors: u64,
    cpu: f64,
}

fn poll_thread(
    target: Target,
    run: u64,
    interval: Duration,
    stop: Arc<AtomicBool>,
    clock: Clock,
) -> Result<Seen> {
    let cpu0 = cpu_thread();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("poller runtime")?;
    let token = regex::bytes::Regex::new(&format!(r"zq{run}n(\d{{6}})")).context("token regex")?;
    let mut feeds = vec!["/feeds/all.json".to_string()];
    feeds.extend(CATEGORIES.iter().map(|(s, _)| format!("/feeds/{s}.json")));
    let mut seen = rt.block_on(async move {
        let mut conn = Conn::new(target);
        let mut etags: Vec<Option<String>> = vec![None; feeds.len()];
        let mut s = Seen {
            at: BTreeMap::new(),
            requests: 0,
            changed: 0,
            errors: 0,
            cpu: 0.0,
        };
        while !stop.load(Ordering::Relaxed) {
            for (path, etag) in feeds.iter().zip(etags.iter_mut()) {
                let inm;
                let headers: &[(&str, &str)] = match etag {
                    Some(e) => {
                        inm = e.clone();
                        &[("if-none-match", inm.as_str())]
                    }
                    None => &[],
                };
                let Ok(r) = conn.get(path, headers, true).await else {
                    s.errors += 1;
                    continue;
                };
                let t = clock.rel(Instant::now());
                s.requests += 1;
                if r.status == 200 {
                    s.changed += 1;
                    *etag = r.etag;
                    for c in token.captures_iter(&r.body) {
                        let seq = std::str::from_utf8(&c[1]).ok().and_then(|d| d.parse().ok());
                        if let Some(seq) = seq {
                            s.at.entry(seq).or_insert(t);
                        }
                    }
                }
            }
            tokio::time::sleep(interval).await;
        }
        s
    });
    seen.cpu = cpu_thread() - cpu0;
    Ok(seen)
}

// ---------------------------------------------------------------- load client

struct Load {
    /// (scheduled instant on the run clock, latency from it in s, status; 0 = error).
    rows: Vec<(f64, f64, u16)>,
    /// How late the pacer handed requests out (s): the harness's own timing error.
    pacer_late: Vec<f64>,
    cpu: f64,
    pacer_cpu: f64,
}

fn load_thread(
    target: Target,
    path: String,
    rps: f64,
    conns: usize,
    stop: Arc<AtomicBool>,
    clock: Clock,
) -> Result<Load> {
    let cpu0 = cpu_thread();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("load runtime")?;
    let (txs, rxs): (Vec<_>, Vec<_>) = (0..conns)
        .map(|_| tokio::sync::mpsc::unbounded_channel::<Instant>())
        .unzip();
    // The pacer: request i is due at t0 + i / rps, on connection i % conns.
    let pacer = spawn("live-pacer", move || {
        let cpu0 = cpu_thread();
        let t0 = Instant::now() + Duration::from_millis(10);
        let mut late = Vec::new();
        let mut i: u64 = 0;
        while !stop.load(Ordering::Relaxed) {
            let due = t0 + Duration::from_secs_f64(i as f64 / rps);
            let now = Instant::now();
            if due > now {
                std::thread::sleep(due - now);
            }
            late.push(Instant::now().saturating_duration_since(due).as_secs_f64());
            if txs[(i % conns as u64) as usize].send(due).is_err() {
                break;
            }
            i += 1;
        }
        Ok((late, cpu_thread() - cpu0))
    })?;
    let rows = rt.block_on(async move {
        let tasks: Vec<_> = rxs
            .into_iter()
            .map(|mut rx| {
                let (target, path) = (target.clone(), path.clone());
                tokio::spawn(async move {
                    let mut conn = Conn::new(target);
                    let mut rows = Vec::new();
                    while let Some(due) = rx.recv().await {
                        let status =
                            match conn.get(&path, &[("accept-encoding", "gzip")], false).await {
                                Ok(r) => r.status,
                                Err(_) => 0,
                            };
                        let lat = Instant::now().saturating_duration_since(due).as_secs_f64();
                        rows.push((clock.rel(due), lat, status));
                    }
                    rows
                })
            })
            .collect();
        let mut rows = Vec::new();
        for t in tasks {
            rows.extend(t.await.unwrap_or_default());
        }
        rows
    });
    let (pacer_late, pacer_cpu) = join(pacer)?;
    let mut rows = rows;
    rows.sort_by(|a, b| a.0.total_cmp(&b.0));
    Ok(Load {
        rows,
        pacer_late,
        cpu: cpu_thread() - cpu0,
        pacer_cpu,
    })
}

// ---------------------------------------------------------------- daemon log

/// A `published` line: time on the run clock, articles, publish ms.
type Publish = (f64, usize, f64);

fn publish_regex() -> Result<regex::Regex> {
    regex::Regex::new(r"^(\S+Z)\s+INFO\s.*?\bpublished\b.*?\barticles=(\d+).*?\bms=([\d.]+)")
        .context("log regex")
}

fn parse_publish(re: &regex::Regex, line: &str, clock: &Clock) -> Option<Publish> {
    if line.contains("full scan") {
        return None;
    }
    let c = re.captures(line)?;
    let t = DateTime::parse_from_rfc3339(&c[1]).ok()?;
    let unix = t.timestamp() as f64 + f64::from(t.timestamp_subsec_nanos()) / 1e9;
    Some((unix - clock.unix0, c[2].parse().ok()?, c[3].parse().ok()?))
}

fn read_publishes(log: &Path, clock: &Clock) -> Result<Vec<Publish>> {
    let re = publish_regex()?;
    let text = fs::read(log).with_context(|| format!("reading {}", log.display()))?;
    Ok(String::from_utf8_lossy(&text)
        .lines()
        .filter_map(|l| parse_publish(&re, l, clock))
        .collect())
}

/// Follow the log until a publish holds `want` articles (read from its
/// start: earlier publishes hold fewer).
fn wait_log(log: &Path, want: usize, timeout: f64) -> Result<()> {
    let re = publish_regex()?;
    let clock = Clock::start();
    let deadline = Instant::now() + Duration::from_secs_f64(timeout);
    let mut f = fs::File::open(log).with_context(|| format!("opening {}", log.display()))?;
    let mut buf = Vec::new();
    let mut have = 0;
    while Instant::now() < deadline {
        f.read_to_end(&mut buf).context("reading the log")?;
        if let Some(end) = buf.iter().rposition(|&b| b == b'\n') {
            for l in String::from_utf8_lossy(&buf[..end]).lines() {
                if let Some((_, n, _)) = parse_publish(&re, l, &clock) {
                    have = have.max(n);
                }
            }
            buf.drain(..=end);
        }
        if have >= want {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    bail!("timeout: {have} of {want} articles in the log after {timeout} s")
}

// ---------------------------------------------------------------- report

/// Nearest-rank percentile of sorted values (bench/burst.py's `pct`).
fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let k = ((p / 100.0 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[k]
}

fn sorted(mut xs: Vec<f64>) -> Vec<f64> {
    xs.sort_by(f64::total_cmp);
    xs
}

/// p50, p90, p99, max in ms, and n.
fn stats(xs: &[f64]) -> serde_json::Value {
    let ms = |v: f64| (v * 1e4).round() / 10.0;
    json!({
        "n": xs.len(),
        "p50_ms": ms(pct(xs, 50.0)),
        "p90_ms": ms(pct(xs, 90.0)),
        "p99_ms": ms(pct(xs, 99.0)),
        "max_ms": ms(xs.last().copied().unwrap_or(f64::NAN)),
    })
}

fn line(xs: &[f64]) -> String {
    if xs.is_empty() {
        return "n/a".into();
    }
    format!(
        "p50 {:8.1} ms  p90 {:8.1} ms  p99 {:8.1} ms  max {:8.1} ms  (n={})",
        pct(xs, 50.0) * 1e3,
        pct(xs, 90.0) * 1e3,
        pct(xs, 99.0) * 1e3,
        xs[xs.len() - 1] * 1e3,
        xs.len()
    )
}

struct Report<'a> {
    args: &'a Args,
    run: u64,
    base: usize,
    writes: &'a Writes,
    seen: &'a Seen,
    load: Option<&'a Load>,
    pubs: &'a [Publish],
    /// When the harness saw the whole burst published (run clock), if it did.
    done_at: Option<f64>,
    harness_cpu: f64,
    /// The daemon's CPU before the base seconds, at the first write, at the end.
    daemon: Option<(DaemonCpu, DaemonCpu, DaemonCpu)>,
}

impl Report<'_> {
    fn print(&self) -> Result<()> {
        let a = self.args;
        let w = &self.writes.at;
        let n = w.len();
        if n == 0 {
            bail!("no files written");
        }
        let (t_first, t_last) = (w[0], w[n - 1]);
        let span = (t_last - t_first).max(1e-9);
        let files_per_s = n as f64 / span;
        let late = sorted(self.writes.late.clone());
        println!(
            "== benches/live.rs: {n} files into {} articles, {}, poll every {} ms, {}",
            self.base,
            if a.rate > 0.0 {
                format!("paced at {} files/s", a.rate)
            } else {
                "unpaced".into()
            },
            a.poll_interval_ms,
            if a.load_rps > 0.0 {
                format!(
                    "load {} req/s over {} connections on {}",
                    a.load_rps, a.load_conns, a.feed
                )
            } else {
                "no load client".into()
            }
        );
        print!("writer: {n} files in {span:.3} s ({files_per_s:.0} files/s)");
        if !late.is_empty() {
            print!(
                "; behind schedule p99 {:.2} ms, max {:.2} ms",
                pct(&late, 99.0) * 1e3,
                pct(&late, 100.0) * 1e3
            );
        }
        println!();

        // A: the k-th file is visible at the first publish with articles >= base + k.
        // That publish's index never decreases with k, so one pass suffices.
        let pubs: Vec<Publish> = self
            .pubs
            .iter()
            .copied()
            .filter(|p| p.0 >= t_first - 1.0)
            .collect();
        let mut assigned = vec![None; n];
        let mut j = 0;
        for (k, slot) in assigned.iter_mut().enumerate() {
            while j < pubs.len() && pubs[j].1 < self.base + k + 1 {
                j += 1;
            }
            if j < pubs.len() {
                *slot = Some(pubs[j].0);
            }
        }
        let vis_a = sorted(
            assigned
                .iter()
                .zip(w)
                .filter_map(|(p, tw)| p.map(|t| t - tw))
                .collect(),
        );
        let missing = assigned.iter().filter(|p| p.is_none()).count();
        let last_pub = assigned.iter().flatten().copied().reduce(f64::max);
        if a.log.is_some() {
            println!(
                "A  write -> published (daemon log, every file)      : {}{}",
                line(&vis_a),
                if missing > 0 {
                    format!("   {missing} never published")
                } else {
                    String::new()
                }
            );
        } else {
            println!("A  write -> published: n/a (no --log)");
        }
        let vis_b = sorted(
            self.seen
                .at
                .iter()
                .filter(|(seq, _)| **seq < n)
                .map(|(&seq, &t)| t - w[seq])
                .collect(),
        );
        println!(
            "B  write -> first seen in a feed (poller, seen files): {}",
            line(&vis_b)
        );
        let early = self
            .seen
            .at
            .iter()
            .filter(|(&seq, &t)| seq < n && assigned[seq].is_some_and(|p| t < p - 0.002))
            .count();
        print!(
            "   poller: {} requests, {} changed bodies, {} errors",
            self.seen.requests, self.seen.changed, self.seen.errors
        );
        if a.log.is_some() {
            print!(
                "; {early} of {} seen files appeared before the publish A assigns them",
                vis_b.len()
            );
        }
        println!();

        let mut batches = Vec::new();
        let mut prev = self.base;
        for p in &pubs {
            if p.1 > prev {
                batches.push((p.1 - prev) as f64);
            }
            prev = prev.max(p.1);
        }
        let batches = sorted(batches);
        let pub_ms = sorted(pubs.iter().map(|p| p.2).collect());
        if !pubs.is_empty() {
            println!(
                "publishes during the burst: {}; files per publish p50 {} max {}; publish ms p50 \
                 {:.1} p99 {:.1} max {:.1}",
                pubs.len(),
                pct(&batches, 50.0),
                pct(&batches, 100.0),
                pct(&pub_ms, 50.0),
                pct(&pub_ms, 99.0),
                pct(&pub_ms, 100.0)
            );
        }
        if let Some(lp) = last_pub {
            println!(
                "all {} published {:.3} s after the last write ({:.3} s after the first)",
                n - missing,
                lp - t_last,
                lp - t_first
            );
        } else if self.done_at.is_none() {
            println!("the burst was not seen published within --timeout");
        }

        // Load: before the burst, and from the first write to the last publish.
        let end = last_pub.or(self.done_at).unwrap_or(t_last);
        let mut load_json = serde_json::Value::Null;
        if let Some(load) = self.load {
            let before = sorted(
                load.rows
                    .iter()
                    .filter(|r| r.0 < t_first - 0.5)
                    .map(|r| r.1)
                    .collect(),
            );
            let during_rows: Vec<_> = load
                .rows
                .iter()
                .filter(|r| r.0 >= t_first && r.0 <= end)
                .collect();
            let during = sorted(during_rows.iter().map(|r| r.1).collect());
            let mut status: BTreeMap<u16, usize> = BTreeMap::new();
            for r in &during_rows {
                *status.entry(r.2).or_insert(0) += 1;
            }
            let status_text: Vec<String> = status
                .iter()
                .map(|(s, c)| {
                    format!(
                        "{} {c}",
                        if *s == 0 {
                            "error".into()
                        } else {
                            s.to_string()
                        }
                    )
                })
                .collect();
            let pacer = sorted(load.pacer_late.clone());
            println!("load GET {} before the burst: {}", a.feed, line(&before));
            println!(
                "load GET {} during the burst: {}   status: {}",
                a.feed,
                line(&during),
                status_text.join(", ")
            );
            println!(
                "   pacer late p99 {:.3} ms, max {:.3} ms (the harness's own timing error)",
                pct(&pacer, 99.0) * 1e3,
                pct(&pacer, 100.0) * 1e3
            );
            load_json = json!({
                "before": stats(&before),
                "during": stats(&during),
                "status": status.iter().map(|(s, c)| (s.to_string(), *c)).collect::<BTreeMap<_, _>>(),
                "pacer_late_p99_ms": pct(&pacer, 99.0) * 1e3,
            });
        }

        // CPU: the harness's own, and the daemon's from the first write to the end.
        let (wr, po) = (self.writes.cpu, self.seen.cpu);
        let (lo, pa) = self.load.map_or((0.0, 0.0), |l| (l.cpu, l.pacer_cpu));
        println!(
            "harness CPU: {:.3} s in all since the load started (writer {:.3} s, {:.1} µs per \
             file; poller {:.3} s; load client {:.3} s + pacer {:.3} s)",
            self.harness_cpu,
            wr,
            wr / n as f64 * 1e6,
            po,
            lo,
            pa
        );
        let mut daemon_json = serde_json::Value::Null;
        if let Some((b, s, e)) = &self.daemon {
            let used = |from: &DaemonCpu, to: &DaemonCpu| -> BTreeMap<String, f64> {
                to.threads
                    .iter()
                    .map(|(k, v)| (k.clone(), v - from.threads.get(k).copied().unwrap_or(0.0)))
                    .filter(|(_, v)| *v > 0.0)
                    .collect()
            };
            let burst = used(s, e);
            let total: f64 = burst.values().sum();
            let idle: f64 = used(b, s).values().sum();
            let window = e.at.duration_since(s.at).as_secs_f64();
            let idle_rate = idle / s.at.duration_since(b.at).as_secs_f64().max(1e-9);
            let mut by: Vec<_> = burst.iter().collect();
            by.sort_by(|x, y| y.1.total_cmp(x.1));
            let parts: Vec<String> = by
                .iter()
                .map(|(k, v)| {
                    format!(
                        "{} {:.0}",
                        k.trim_start_matches("wirefeed-"),
                        *v / n as f64 * 1e6
                    )
                })
                .collect();
            let per_file = (total - idle_rate * window) / n as f64 * 1e6;
            println!(
                "daemon CPU from the first write to the end ({window:.2} s): {:.0} ms ({}; µs per \
                 file); less serving the poller and load alone: {per_file:.1} µs per burst file",
                total * 1e3,
                parts.join(", ")
            );
            let ms = |v: f64| (v * 1e3).round();
            let threads: BTreeMap<&String, f64> = burst.iter().map(|(k, v)| (k, ms(*v))).collect();
            daemon_json = json!({
                "window_s": window,
                "cpu_ms": ms(total),
                "us_per_burst_file": per_file.round(),
                "threads_ms": threads,
            });
        }

        let out = json!({
            "bench": "live",
            "run": self.run,
            "base_articles": self.base,
            "files": n,
            "rate": a.rate,
            "writer_files_per_s": files_per_s.round(),
            "writer_behind_max_ms": pct(&late, 100.0) * 1e3,
            "a": if a.log.is_some() { stats(&vis_a) } else { serde_json::Value::Null },
            "a_missing": if a.log.is_some() { json!(missing) } else { serde_json::Value::Null },
            "b": stats(&vis_b),
            "b_early": early,
            "publishes": pubs.len(),
            "published_after_last_write_s": last_pub.map(|lp| lp - t_last),
            "load": load_json,
            "harness_cpu_s": {"total": self.harness_cpu, "writer": wr, "poller": po, "load": lo, "pacer": pa},
            "daemon_cpu": daemon_json,
        });
        println!("{out}");
        Ok(())
    }
}

fn write_raw(
    dir: &Path,
    writes: &Writes,
    seen: &Seen,
    load: Option<&Load>,
    pubs: &[Publish],
) -> Result<()> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let put = |name: &str, text: String| {
        fs::write(dir.join(name), text).with_context(|| format!("writing {name}"))
    };
    let mut s = String::from("seq,t_write\n");
    for (seq, t) in writes.at.iter().enumerate() {
        s += &format!("{seq},{t:.6}\n");
    }
    put("writes.csv", s)?;
    let mut s = String::from("seq,t_seen\n");
    for (seq, t) in &seen.at {
        s += &format!("{seq},{t:.6}\n");
    }
    put("seen.csv", s)?;
    if let Some(load) = load {
        let mut s = String::from("t_sched,latency_s,status\n");
        for (t, lat, st) in &load.rows {
            s += &format!("{t:.6},{lat:.6},{st}\n");
        }
        put("load.csv", s)?;
    }
    let mut s = String::from("t,articles,ms\n");
    for (t, n, ms) in pubs {
        s += &format!("{t:.6},{n},{ms}\n");
    }
    put("publishes.csv", s)
}
