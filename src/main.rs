//! The `wirefeed` command line: a thin layer over the library.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Parser, Subcommand};
use wirefeed::catalog::{Catalog, Change};
use wirefeed::config::Config;
use wirefeed::parse::{self, ParseContext};
use wirefeed::state::StateStore;

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
    tune_allocator();
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

/// glibc raises its mmap threshold to the size of the largest block freed
/// (up to 32 MB), after which big temporary buffers (the file list of a
/// scan, rendered feeds) are carved from the heap between long-lived
/// catalog data, and their pages stay resident once freed. Pinned at the
/// default 128 KiB, they get their own mappings, returned on free: peak RSS
/// at 100 000 articles 153 -> 143 MB (BENCHMARKS.md).
fn tune_allocator() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets an allocator parameter; it is called
    // before any other thread exists.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 128 * 1024);
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
    let load = || Config::load(&cli.config).map(Arc::new);
    match cli.command {
        Command::Serve => {
            wirefeed::daemon::run(cli.config.clone(), load()?)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Build { out } => {
            let report = wirefeed::build::build(load()?, &out, chrono::Utc::now())
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
        Command::Check { strict } => {
            let config = load()?;
            let dir = &config.articles.dir;
            if !dir.is_dir() {
                anyhow::bail!(
                    "{}: articles.dir {} is not a directory",
                    cli.config.display(),
                    dir.display()
                );
            }
            let catalog = wirefeed::catalog::load(config.clone(), StateStore::in_memory());
            let problems = catalog.problems();
            for p in &problems {
                println!("{}: {}", dir.join(&p.path).display(), p.reason);
            }
            let (_, rejected) = wirefeed::render::site_feeds(&catalog, chrono::Utc::now());
            for r in &rejected {
                println!("{}", rejected_line(r));
            }
            let counts = catalog.counts();
            for (feed, count) in catalog.feeds().iter().zip(counts) {
                eprintln!("feed {:<12} {count} articles", feed.slug);
            }
            eprintln!("{} articles, {} problems", catalog.len(), problems.len());
            if !rejected.is_empty() {
                return Ok(ExitCode::FAILURE);
            }
            Ok(if strict && !problems.is_empty() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            })
        }
        Command::Inspect { file } => {
            let config = load()?;
            let ctx = ParseContext::from_config(&config);
            let file = wirefeed::config::resolve_dir(&file);
            let root = if file.starts_with(&config.articles.dir) {
                config.articles.dir.clone()
            } else {
                file.parent().map(PathBuf::from).unwrap_or_default()
            };
            let article = parse::parse_file(&root, &file, &ctx)?;
            let Some(article) = article else {
                println!("{}: a draft (draft: true): not published", file.display());
                return Ok(ExitCode::SUCCESS);
            };
            let path = article.path.clone();
            let mut catalog = Catalog::new(config.clone(), StateStore::in_memory());
            catalog.apply(vec![Change::Parsed(
                path.clone(),
                Ok(Some(Box::new(article.clone()))),
            )]);
            let entry = catalog.by_path(&path).context("article vanished")?;
            let feeds: Vec<&str> = entry
                .feeds
                .iter()
                .map(|&f| catalog.feeds()[f].slug.as_str())
                .collect();
            let mut json = serde_json::to_value(entry.as_ref())?;
            // Everything parsed, not only what the catalog keeps.
            json["article"] = serde_json::to_value(&article)?;
            json["link"] = serde_json::json!(entry.link(&config));
            json["feeds"] = serde_json::json!(feeds);
            json["problems"] = serde_json::json!(catalog.problems());
            println!("{}", serde_json::to_string_pretty(&json)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Healthcheck { url } => {
            let url = match url {
                Some(u) => u,
                None => wirefeed::serve::health_url(load()?.server.listen),
            };
            Ok(if wirefeed::serve::probe(&url)? {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            })
        }
    }
}
