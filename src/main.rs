//! The `wirefeed` command line: a thin layer over the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use wirefeed::catalog::{self, Catalog, StateStore};
use wirefeed::config::Config;
use wirefeed::model::Change;
use wirefeed::parse::ParseContext;

#[derive(Parser)]
#[command(
    version,
    about = "Per-category RSS, Atom and JSON feeds from a directory of articles"
)]
struct Cli {
    /// Config file.
    #[arg(
        long,
        global = true,
        env = "WIREFEED_CONFIG",
        default_value = "config/wirefeed.toml"
    )]
    config: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Watch the articles directory and serve live feeds over HTTP.
    Serve,
    /// Write every feed, feeds.opml, index.html and the article pages to DIR.
    Build {
        #[arg(long)]
        out: PathBuf,
    },
    /// Copy the whole site (what `build` writes) to object storage, once:
    /// only what changed since the last publish is uploaded.
    Publish {
        /// `s3://BUCKET/PREFIX` or `file:///DIR`; default: `publish.to`.
        #[arg(long)]
        to: Option<String>,
    },
    /// List every article and config problem (path: reason).
    Check {
        /// Exit non-zero on any article problem, not only config errors.
        #[arg(long)]
        strict: bool,
    },
    /// Print one parsed article as JSON, with where each date came from.
    Inspect { file: PathBuf },
    /// Exit 0 if the server on the configured address answers /healthz.
    Healthcheck {
        /// URL to probe instead of http://<server.listen>/healthz.
        #[arg(long)]
        url: Option<String>,
    },
}

fn main() -> ExitCode {
    wirefeed::tune::alloc::pin_mmap_threshold();
    let cli = Cli::parse();
    wirefeed::daemon::init_logging();
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("wirefeed: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// A feed document that would not be published, and why.
fn rejected_line(r: &wirefeed::render::Rejected) -> String {
    let articles = match r.articles.is_empty() {
        true => String::new(),
        false => format!(" (articles: {})", r.articles.join(", ")),
    };
    format!("{}: {}; not published{articles}", r.path, r.reason)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let config = Arc::new(Config::load(&cli.config)?);
    match cli.command {
        Command::Serve => {
            wirefeed::daemon::run(cli.config.clone(), config)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Build { out } => build(config, &out),
        Command::Publish { to } => publish(config, to),
        Command::Check { strict } => check(&cli.config, config, strict),
        Command::Inspect { file } => inspect(config, &file),
        Command::Healthcheck { url } => {
            let url = url.unwrap_or_else(|| wirefeed::http::health_url(config.server.listen));
            Ok(match wirefeed::http::probe(&url)? {
                true => ExitCode::SUCCESS,
                false => ExitCode::FAILURE,
            })
        }
    }
}

/// `wirefeed build --out DIR`.
fn build(config: Arc<Config>, out: &Path) -> anyhow::Result<ExitCode> {
    let report = wirefeed::build::build(config, out, chrono::Utc::now())
        .with_context(|| format!("writing {}", out.display()))?;
    for p in &report.problems {
        eprintln!("{}: {}", p.path, p.reason);
    }
    for r in &report.rejected {
        eprintln!("{}", rejected_line(r));
    }
    println!(
        "wrote {} files for {} articles to {} ({} problems)",
        report.files,
        report.articles,
        out.display(),
        report.problems.len()
    );
    Ok(ExitCode::SUCCESS)
}

/// `wirefeed publish [--to URL]`: `build` into a scratch directory, then
/// that tree reconciled with the store.
fn publish(config: Arc<Config>, to: Option<String>) -> anyhow::Result<ExitCode> {
    use wirefeed::publish::{sync, DirTree, Manifest, Target};
    let to = to
        .or_else(|| config.publish.to.clone())
        .context("no target: pass --to s3://BUCKET/PREFIX or set publish.to")?;
    wirefeed::config::check_publish_target(&to).map_err(anyhow::Error::msg)?;
    let target = Target::open(&to)?;
    let scratch = config.state_dir().join("publish").join("tree");
    if scratch.exists() {
        std::fs::remove_dir_all(&scratch)
            .with_context(|| format!("clearing {}", scratch.display()))?;
    }
    let started = std::time::Instant::now();
    let report = wirefeed::build::build(config.clone(), &scratch, chrono::Utc::now())
        .with_context(|| format!("writing {}", scratch.display()))?;
    for r in &report.rejected {
        eprintln!("{}", rejected_line(r));
    }
    let tree = DirTree {
        root: scratch.clone(),
        config: config.clone(),
    };
    let mut manifest = Manifest::load(&config.state_dir(), &to);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let mut keys = runtime.block_on(target.all_keys(&tree, &mut manifest))?;
    // A feed that would not be well-formed keeps its previous version, as
    // the daemon keeps it: not taken for gone.
    for r in &report.rejected {
        keys.remove(&r.path);
    }
    let done = sync(
        &runtime,
        &target,
        &mut manifest,
        &tree,
        keys,
        config.publish.concurrency,
    );
    let _ = std::fs::remove_dir_all(&scratch);
    println!(
        "published {} articles to {to}: {} uploaded, {} deleted, {} unchanged in {:.1}s",
        report.articles,
        done.puts,
        done.deletes,
        done.unchanged,
        started.elapsed().as_secs_f64()
    );
    if !done.failed.is_empty() {
        anyhow::bail!(
            "{} objects not published ({}); run again to retry them",
            done.failed.len(),
            done.error.unwrap_or_default()
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// `wirefeed check [--strict]`.
fn check(config_path: &Path, config: Arc<Config>, strict: bool) -> anyhow::Result<ExitCode> {
    let dir = &config.articles.dir;
    if !dir.is_dir() {
        anyhow::bail!(
            "{}: articles.dir {} is not a directory",
            config_path.display(),
            dir.display()
        );
    }
    let catalog = catalog::load(config.clone(), StateStore::in_memory());
    let problems = catalog.problems();
    for p in &problems {
        println!("{}: {}", dir.join(&p.path).display(), p.reason);
    }
    let (_, rejected) = wirefeed::render::site_feeds(&catalog, chrono::Utc::now());
    for r in &rejected {
        println!("{}", rejected_line(r));
    }
    for (feed, count) in catalog.feeds().iter().zip(catalog.counts()) {
        eprintln!("feed {:<12} {count} articles", feed.slug);
    }
    eprintln!("{} articles, {} problems", catalog.len(), problems.len());
    let failed = !rejected.is_empty() || (strict && !problems.is_empty());
    Ok(match failed {
        true => ExitCode::FAILURE,
        false => ExitCode::SUCCESS,
    })
}

/// `wirefeed inspect FILE`: one article as JSON, every field.
fn inspect(config: Arc<Config>, file: &Path) -> anyhow::Result<ExitCode> {
    let ctx = ParseContext::from_config(&config);
    let file = wirefeed::config::resolve_dir(file);
    let root = match file.starts_with(&config.articles.dir) {
        true => config.articles.dir.clone(),
        false => file.parent().map(PathBuf::from).unwrap_or_default(),
    };
    let Some(article) = catalog::read_article(&root, &file, &ctx)? else {
        println!("{}: a draft (draft: true): not published", file.display());
        return Ok(ExitCode::SUCCESS);
    };
    let path = article.path.clone();
    let mut catalog = Catalog::new(config.clone(), StateStore::in_memory());
    let change = Change::Parsed(path.clone(), Ok(Some(Box::new(article.clone()))));
    catalog.apply(vec![change]);
    let entry = catalog.by_path(&path).context("article vanished")?;
    let feeds: Vec<&str> = entry
        .feed_indexes()
        .map(|f| catalog.feeds()[f].slug.as_str())
        .collect();
    let mut json = serde_json::to_value(entry.as_ref())?;
    json["id"] = serde_json::json!(entry.id());
    // Everything parsed, not only what the catalog keeps.
    json["article"] = serde_json::to_value(&article)?;
    json["link"] = serde_json::json!(entry.link(&config, &catalog.text(entry)));
    json["feeds"] = serde_json::json!(feeds);
    json["problems"] = serde_json::json!(catalog.problems());
    println!("{}", serde_json::to_string_pretty(&json)?);
    Ok(ExitCode::SUCCESS)
}
