//! parse → render → parse back: every rendered feed is well-formed XML (or
//! valid JSON) whatever the article said.
#![no_main]
use libfuzzer_sys::fuzz_target;
use wirefeed::catalog::{Catalog, Change};
use wirefeed::render::{self, FeedFormat};
use wirefeed::state::StateStore;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let config = common::config();
    let ctx = wirefeed::parse::ParseContext::from_config(&config);
    let (name, bytes) = common::split(data);
    let mtime = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000);
    let Ok(Some(article)) = wirefeed::parse::parse_bytes(name, bytes, mtime, &ctx) else {
        return;
    };
    let mut catalog = Catalog::new(config, StateStore::in_memory());
    catalog.apply(vec![Change::Parsed(name.to_string(), Ok(Some(Box::new(article))))]);
    let now = chrono::DateTime::from_timestamp(253_402_300_799, 0).expect("9999-12-31");
    for index in 0..catalog.feeds().len() {
        for (path, format, out) in render::feed_files(&catalog, index, now).files {
            if format == FeedFormat::Json {
                serde_json::from_slice::<serde_json::Value>(&out).unwrap_or_else(|e| panic!("{path}: {e}"));
                continue;
            }
            if let Err(e) = render::check_xml(&out) {
                panic!("{path}: {e}");
            }
        }
    }
});
