//! wirefeed turns a directory of article files into per-category RSS 2.0,
//! Atom 1.0 and JSON Feed 1.1 feeds, and serves them over HTTP.
//!
//! # Layout
//!
//! Data flows one way along the pipeline **watch → parse → catalog → render → serve**:
//!
//! - [`config`]: the TOML config file, `WIREFEED_*` environment overrides and
//!   their validation (errors name the key and the line).
//! - [`watch`]: a `notify` watcher over the articles directory; settles paths
//!   (written and closed, or size/mtime stable) and hands over batches of
//!   changed paths, or "rescan everything" after an overflow.
//! - [`parse`]: one file in, one [`article::Article`] or one
//!   [`parse::ParseError`] out. Submodules per concern: `decode` (bytes to
//!   clean text), `dates`, `scraped` (the scraped news page layout),
//!   `markdown` (front matter), `json`, `meta` (the keys front matter and
//!   JSON share), `prefetch` (asks the disk for a scan's next files).
//! - [`catalog`]: every parsed article, with identity (id, GUID), categories
//!   resolved against the config and per-feed ordering. [`state`] is its
//!   memory across restarts (first-seen dates, content hashes, GUIDs).
//! - [`render`]: feeds, OPML and HTML pages as bytes, each feed checked
//!   well-formed before it is published. Pure functions of the catalog:
//!   same articles and config, same bytes. `render::items` keeps each
//!   shown article as a feed item, rendered once per format and reused by
//!   every feed showing it.
//! - [`buffers`]: feed bodies' memory, reused from one render to the next.
//! - [`snapshot`]: immutable, ETagged resources that are swapped
//!   atomically as a whole; a thread of its own adds their gzip and
//!   brotli bodies right after each swap.
//! - `sched`: notify's thread under Linux `SCHED_BATCH`.
//! - [`serve`]: the hyper HTTP server, a thread per core, each connection
//!   on the thread for the CPU its packets come in on; it never changes
//!   a snapshot, only reads it.
//!   [`zerocopy`] keeps compressed bodies in sealed memfds and gives hyper
//!   a connection that `sendfile`s them.
//! - [`daemon`] ties them together for `wirefeed serve` (start-up: scan,
//!   then watch, then catch up on what changed meanwhile); [`build`] for
//!   `wirefeed build`; [`metrics`] holds the Prometheus registry.

pub mod article;
pub mod buffers;
pub mod build;
pub mod catalog;
pub mod config;
pub mod daemon;
pub mod metrics;
pub mod parse;
pub mod render;
mod sched;
pub mod serve;
pub mod snapshot;
pub mod state;
pub mod watch;
pub mod zerocopy;
