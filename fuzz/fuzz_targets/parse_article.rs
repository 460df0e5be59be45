//! Any bytes as any article format: an article or a reason, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

#[path = "common.rs"]
mod common;

fuzz_target!(|data: &[u8]| {
    let ctx = wirefeed::parse::ParseContext::from_config(&common::config());
    let (name, bytes) = common::split(data);
    let _ = wirefeed::parse::parse_bytes(name, bytes, std::time::SystemTime::UNIX_EPOCH, &ctx);
});
