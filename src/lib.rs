//! wirefeed turns a directory of article files into per-category RSS 2.0,
//! Atom 1.0 and JSON Feed 1.1 feeds, and serves them over HTTP.
//!
//! # Layout
//!
//! Data flows one way along the pipeline
//! **source → watch → parse → catalog → render → site → http**, driven by
//! [`daemon`] (`wirefeed serve`) or [`build`] (`wirefeed build`). A module
//! uses only the ones before it; file I/O happens in `source`, `catalog`
//! (its state store, the texts it reads back, the size of a media file),
//! `site` (article and archive pages) and `http` (files of `media.dir`),
//! never in `parse` or `render`.
//!
//! Beside the pipeline, used by every stage:
//! - [`config`]: the TOML config file, `WIREFEED_*` environment overrides,
//!   their validation (errors name the key and the line), paths resolved
//!   once where they enter.
//! - [`model`]: the data passed between stages: [`model::Article`] (what a
//!   parser makes of a file), [`model::Change`] (what happened to a path),
//!   [`model::Entry`] (what the catalog keeps of an article),
//!   [`model::FeedInfo`].
//! - [`metrics`]: the Prometheus registry.
//! - [`tune`]: optional speed-ups (the `tune` Cargo feature), each with a
//!   plain fallback; every `unsafe` block is there.
//!
//! The stages:
//! - [`source`]: all article-file I/O: which paths hold articles and their
//!   keys, reading a file's bytes, walking the tree, what a changed path is
//!   now, the whole tree read in one pipeline.
//! - [`watch`]: a `notify` watcher over the articles directory: file
//!   events to settled paths (written and closed, or held still), or
//!   "rescan everything" after an overflow.
//! - [`parse`]: pure: a file's bytes, key and modification time to an
//!   [`model::Article`] or the reason it is not one.
//! - [`catalog`]: every article indexed: identity (GUIDs, ids, dates) and
//!   its state store across restarts, feed order, problems, the texts of
//!   the shown articles.
//! - [`render`]: pure: feeds, OPML and HTML pages (each feed's page
//!   rendered with it) as bytes, every feed document checked well-formed;
//!   each item rendered once and reused.
//! - [`site`]: the published site behind one handle: resources swapped
//!   atomically and compressed after, article pages, readiness, metrics.
//! - [`http`]: the hyper server: connections, routes, conditional GET,
//!   content negotiation, CORS and CDN headers, the files of `media.dir`.
//! - [`websub`]: the WebSub publisher: tells the hubs which feeds a
//!   publish changed, one thread per hub.
//! - [`publish`]: copies the site to object storage (S3 and compatible,
//!   or a directory): once (`wirefeed publish`) or as it changes (the
//!   `publish.to` uploader thread of `wirefeed serve`).

pub mod build;
pub mod catalog;
pub mod config;
pub mod daemon;
pub mod http;
pub mod metrics;
pub mod model;
pub mod parse;
pub mod publish;
pub mod render;
pub mod site;
pub mod source;
pub mod tune;
pub mod watch;
pub mod websub;

/// What can stop a command: its config, its listening socket, its output
/// directory, a thread that died.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error("cannot listen on {addr} (server.listen): {source}")]
    Listen {
        addr: std::net::SocketAddr,
        source: std::io::Error,
    },
    #[error("{0}")]
    Io(#[from] std::io::Error),
    #[error("{0} panicked")]
    Panicked(&'static str),
}

pub type Result<T> = std::result::Result<T, Error>;
