//! Criterion benchmarks of wirefeed's pipeline stages (see BENCHMARKS.md).
//!
//! ```sh
//! cargo bench --bench pipeline                 # everything, a few minutes
//! cargo bench --bench pipeline -- parse/       # one group
//! BENCH_ARTICLES=2000 cargo bench --bench pipeline   # smaller corpus
//! ```
//!
//! The corpus is generated once per run by `bench/corpus.py` (python3, stdlib
//! only; seed 1, `BENCH_ARTICLES` articles, default 10 000) into a temporary
//! directory, with a matching config (8 categories, 50 items per feed).
//! Files are read through the page cache (warm after generation).
//!
//! Groups:
//! - `parse/{txt,md,json}`: `parse::parse_bytes` of one realistic article of
//!   each format (bytes already in memory).
//! - `render/{rss,atom,json}`: one 50-item feed (`all`) assembled from its
//!   items' cached bytes (the daemon's steady state: a publish renders only
//!   new or changed items); `render/{rss,atom,json}_whole`: the same feed
//!   written whole by the format crate, items and all (the render before
//!   the item cache, and a cold cache's cost); `render/items_50`: rendering
//!   the 50 items in all three formats; `render/feed_files` is the three
//!   formats from a warm cache, as the daemon calls it;
//!   `render/check_{rss,atom,json}`: the well-formedness check every feed
//!   document passes before it is published.
//! - `snapshot/resource_{rss,atom,json}`: `snapshot::Resource::new` on that
//!   feed's bytes (the xxh3 hash for its ETag); `snapshot/gzip{9,6}_rss`
//!   and `snapshot/brotli{9,5}_rss`: the compression that follows each
//!   publish and dearer settings; `snapshot/compress_{rss,page}`: both
//!   encodings as the compressor makes them, of the feed and of its HTML
//!   page (a document the size of an archive page).
//! - `publish/one_file`: what the daemon does for one changed file: read and
//!   parse it, apply it to the catalog, keep the shown texts, render its
//!   item and the touched feeds in every format (the other items from the
//!   cache) and build their snapshot resources (compression not included).
//! - `catalog/load`: `catalog::load` of the whole corpus (list, parse on all
//!   cores, apply, read back the shown texts): the startup scan and the first
//!   half of `wirefeed build`.

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use chrono::Utc;
use criterion::{criterion_group, criterion_main, Criterion, SamplingMode, Throughput};
use wirefeed::catalog;
use wirefeed::catalog::StateStore;
use wirefeed::config::Config;
use wirefeed::parse::{self, ParseContext};
use wirefeed::render::{self, FeedDoc, FeedFormat};
use wirefeed::site::Resource;

struct Corpus {
    _dir: tempfile::TempDir,
    config: Arc<Config>,
    articles: PathBuf,
    n: usize,
}

/// Generates the corpus and its config with bench/corpus.py.
fn corpus() -> Corpus {
    let n: usize = std::env::var("BENCH_ARTICLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10_000);
    let dir = tempfile::tempdir().expect("tempdir");
    let articles = dir.path().join("articles");
    let config_path = dir.path().join("wirefeed.toml");
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("bench/corpus.py");
    let status = Command::new("python3")
        .arg(&script)
        .args(["--n", &n.to_string(), "--seed", "1", "--out"])
        .arg(&articles)
        .arg("--config")
        .arg(&config_path)
        .status()
        .expect("running python3 bench/corpus.py (python3 is needed for the benches)");
    assert!(status.success(), "bench/corpus.py failed");
    let text = std::fs::read_to_string(&config_path).expect("config");
    // No WIREFEED_* overrides from the caller's environment.
    let config = Config::from_str_with_env(&text, &config_path, std::iter::empty())
        .expect("generated config is valid");
    Corpus {
        _dir: dir,
        config: Arc::new(config),
        articles,
        n,
    }
}

/// The first article of each format (corpus.py: index 0 is .txt, 7 .md, 9 .json).
fn sample_files(root: &Path) -> Vec<(&'static str, PathBuf)> {
    let all = wirefeed::source::list_articles(root);
    ["txt", "md", "json"]
        .into_iter()
        .map(|ext| {
            let path = all
                .iter()
                .filter(|p| p.extension().is_some_and(|e| e == ext))
                .min_by_key(|p| p.file_name().map(|n| n.to_owned()))
                .unwrap_or_else(|| panic!("no .{ext} article in the corpus"))
                .clone();
            (ext, path)
        })
        .collect()
}

fn benches(c: &mut Criterion) {
    let corpus = corpus();
    let config = corpus.config.clone();
    let ctx = ParseContext::from_config(&config);
    let root = corpus.articles.as_path();

    // --- parse, per format ---
    let mut g = c.benchmark_group("parse");
    g.measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    for (ext, path) in sample_files(root) {
        let bytes = std::fs::read(&path).expect("read sample");
        let key = wirefeed::source::relative_key(root, &path);
        let parsed = parse::parse_bytes(&key, &bytes, SystemTime::UNIX_EPOCH, &ctx);
        assert!(
            matches!(parsed, Ok(Some(_))),
            "{key} does not parse: {parsed:?}"
        );
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(ext, |b| {
            b.iter(|| parse::parse_bytes(black_box(&key), &bytes, SystemTime::UNIX_EPOCH, &ctx))
        });
        // What the startup scan (and a large batch) does per file.
        let meta = ctx.metadata_only();
        g.bench_function(format!("{ext}_metadata_only"), |b| {
            b.iter(|| parse::parse_bytes(black_box(&key), &bytes, SystemTime::UNIX_EPOCH, &meta))
        });
    }
    g.finish();

    // --- catalog load (the startup scan) ---
    let mut catalog = catalog::load(config.clone(), StateStore::in_memory());
    assert_eq!(
        catalog.len(),
        corpus.n,
        "every generated article is in the catalog"
    );
    assert!(
        catalog.problems().is_empty(),
        "{:?}",
        &catalog.problems()[..1]
    );
    let mut g = c.benchmark_group("catalog");
    g.sample_size(20)
        .measurement_time(Duration::from_secs(20))
        .warm_up_time(Duration::from_secs(2))
        .sampling_mode(SamplingMode::Flat)
        .throughput(Throughput::Elements(corpus.n as u64));
    g.bench_function(format!("load/{}", corpus.n), |b| {
        b.iter(|| catalog::load(config.clone(), StateStore::in_memory()))
    });
    g.finish();

    // --- render one 50-item feed ---
    let now = Utc::now();
    let all = 0;
    let mut cache = render::ItemCache::default();
    cache.refresh(&catalog, &[all].into(), now);
    let items = cache.feed_items(&catalog, all, now);
    assert_eq!(items.len(), config.feeds.items.min(corpus.n));
    let doc = FeedDoc {
        config: &config,
        info: &catalog.feeds()[all],
        items: &items,
        empty_date: wirefeed::render::empty_feed_date(),
        history: render::History::default(),
    };
    let mut g = c.benchmark_group("render");
    g.sample_size(50)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    for format in FeedFormat::ALL {
        let bytes = doc.render(format).expect("well-formed");
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(format.extension(), |b| {
            b.iter(|| doc.render(black_box(format)))
        });
        g.bench_function(format!("{}_whole", format.extension()), |b| {
            b.iter(|| doc.render_whole(black_box(format)))
        });
        g.bench_function(format!("check_{}", format.extension()), |b| {
            b.iter(|| render::check_document(format, black_box(&bytes)))
        });
    }
    g.throughput(Throughput::Elements(items.len() as u64));
    g.bench_function("items_50", |b| {
        b.iter(|| {
            items
                .iter()
                .map(|i| {
                    let item = render::RenderedItem::new(&config, i.entry.clone(), i.text.clone());
                    for format in FeedFormat::ALL {
                        black_box(item.fragment(format));
                    }
                    item
                })
                .collect::<Vec<_>>()
        })
    });
    g.bench_function("feed_files", |b| {
        b.iter(|| render::feed_files(&catalog, black_box(all), now, &cache))
    });
    g.finish();

    // --- snapshot: one rendered file made servable (hash, gzip, brotli) ---
    let mut g = c.benchmark_group("snapshot");
    g.sample_size(30)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(5))
        .warm_up_time(Duration::from_secs(1));
    for format in FeedFormat::ALL {
        let bytes = doc.render(format).expect("well-formed");
        let updated = Some(doc.updated());
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(format!("resource_{}", format.extension()), |b| {
            b.iter(|| Resource::new(format.content_type(), bytes.clone(), updated))
        });
    }
    let rss = doc.render(FeedFormat::Rss).expect("well-formed");
    // Both encodings, as the compressor makes them, for the feed and for
    // its HTML page (a smaller document, as archive pages are).
    let page = render::feed_files(&catalog, all, now, &cache).page.1;
    for (name, bytes) in [("rss", &rss), ("page", &page)] {
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_function(format!("compress_{name}"), |b| {
            b.iter_batched(
                || Resource::new("text/html", bytes.to_vec(), None),
                |r| r.compress(),
                criterion::BatchSize::SmallInput,
            )
        });
    }
    // Its parts on the RSS bytes, and cheaper settings for comparison.
    g.throughput(Throughput::Bytes(rss.len() as u64));
    for level in [9, 6] {
        g.bench_function(format!("gzip{level}_rss"), |b| b.iter(|| gzip(&rss, level)));
    }
    for quality in [9, 5] {
        g.bench_function(format!("brotli{quality}_rss"), |b| {
            b.iter(|| brotli(&rss, quality))
        });
    }
    g.finish();
    drop(items);

    // --- publish after one changed file (the daemon's per-event work) ---
    // The newest article: it is in `all` and its category feed, so both are
    // re-rendered, as for a freshly saved story.
    let newest = catalog.items(all, now)[0].path.clone();
    let newest = root.join(&*newest);
    let mut g = c.benchmark_group("publish");
    g.sample_size(20)
        .sampling_mode(SamplingMode::Flat)
        .measurement_time(Duration::from_secs(10))
        .warm_up_time(Duration::from_secs(1));
    g.bench_function("one_file", |b| {
        b.iter(|| {
            let touched = catalog.apply(vec![catalog::read_change(root, &newest, &ctx)]);
            let now = Utc::now();
            catalog.cache_texts(now);
            cache.refresh(&catalog, &touched, now);
            let mut resources = Vec::new();
            for index in touched {
                let rendered = render::feed_files(&catalog, index, now, &cache);
                for (path, format, body) in rendered.files {
                    resources.push((
                        path,
                        Resource::new(
                            format.content_type(),
                            body.expect("well-formed"),
                            rendered.updated,
                        ),
                    ));
                }
            }
            resources
        })
    });
    g.finish();
}

/// As the compressor's gzip, at any level.
fn gzip(body: &[u8], level: u32) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::new(level));
    enc.write_all(body).expect("gzip");
    enc.finish().expect("gzip")
}

/// As `snapshot::brotli` (which uses quality 5 and a window sized to the
/// body), at any quality and a 4 MB window.
fn brotli(body: &[u8], quality: i32) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality,
        lgwin: 22,
        ..Default::default()
    };
    brotli::BrotliCompress(&mut &body[..], &mut out, &params).expect("brotli");
    out
}

criterion_group!(pipeline, benches);
criterion_main!(pipeline);
