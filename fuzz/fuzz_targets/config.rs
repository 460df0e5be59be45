//! Any bytes as a config file: `Config::from_str_with_env` never panics,
//! and a config it accepts renders every feed of an empty site as
//! documents that pass `check_document` (published, never `Rejected`),
//! whose title a feed reader shows as the feed's title; the OPML is
//! well-formed XML too.
//!
//! Input: the TOML text, then optionally a NUL byte and environment
//! overrides, one `NAME=value` a line (`WIREFEED_` is added to a name
//! without it). Text that is not UTF-8 cannot be a config file: skipped.
#![no_main]
use std::path::Path;
use std::sync::Arc;

use libfuzzer_sys::fuzz_target;
use wirefeed::catalog::Catalog;
use wirefeed::config::Config;
use wirefeed::render::{self, ItemCache};
use wirefeed::catalog::StateStore;

#[path = "common.rs"]
mod common;

fn env_of(bytes: &[u8]) -> Vec<(String, String)> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter_map(|line| line.split_once('='))
        .map(|(name, value)| {
            let name = match name.starts_with("WIREFEED_") {
                true => name.to_string(),
                false => format!("WIREFEED_{name}"),
            };
            (name, value.to_string())
        })
        .collect()
}

fuzz_target!(|data: &[u8]| {
    let (text, env) = match data.iter().position(|&b| b == 0) {
        Some(nul) => (&data[..nul], env_of(&data[nul + 1..])),
        None => (data, Vec::new()),
    };
    let Ok(text) = std::str::from_utf8(text) else {
        return;
    };
    let Ok(config) = Config::from_str_with_env(text, Path::new("fuzz.toml"), env) else {
        return;
    };
    let config = Arc::new(config);
    let catalog = Catalog::new(config.clone(), StateStore::in_memory());
    let now = common::now();
    let cache = ItemCache::default();
    for (index, info) in catalog.feeds().iter().enumerate() {
        for (path, format, body) in render::feed_files(&catalog, index, now, &cache).files {
            let bytes = body.unwrap_or_else(|r| panic!("{path} not published: {r:?}"));
            if let Err(e) = render::check_document(format, &bytes) {
                panic!(
                    "{path} fails check_document: {e}\n{}",
                    String::from_utf8_lossy(&bytes)
                );
            }
            // feed-rs 3.0.0 panics on a person's name holding an
            // e-mail-like token next to a multi-byte character (the site
            // title is the feeds' author): see `common::consumer`.
            let Some(parsed) = common::consumer(|| feed_rs::parser::parse(&bytes[..])) else {
                continue;
            };
            let feed = parsed.unwrap_or_else(|e| {
                panic!("{path}: feed-rs: {e}\n{}", String::from_utf8_lossy(&bytes))
            });
            assert!(feed.entries.is_empty(), "{path}: entries in an empty site");
            let title = feed
                .title
                .as_ref()
                .map(|t| common::shown_text(t).unwrap_or_else(|e| panic!("{path}: title: {e}")))
                .unwrap_or_default();
            let want = common::squash(&info.title);
            // JSON Feed and RSS titles are plain text: only runs of white
            // space may read differently.
            assert_eq!(
                common::squash(&title),
                want,
                "{path} ({format:?}): feed title"
            );
        }
    }
    let opml = render::opml::render(&config, catalog.feeds());
    if let Err(e) = render::check_xml(&opml) {
        panic!("feeds.opml: {e}\n{}", String::from_utf8_lossy(&opml));
    }
});
