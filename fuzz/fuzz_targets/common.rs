// Shared by the fuzz targets: a fixed config and parse context.
use std::path::Path;
use std::sync::Arc;

use wirefeed::config::Config;

pub fn config() -> Arc<Config> {
    let text = "[site]\ntitle = \"Fuzz\"\nbase_url = \"http://fuzz.test\"\ntimezone = \"America/New_York\"\n\
                [articles]\ndir = \"/nonexistent\"\n[[categories]]\nslug = \"world\"\ntitle = \"World\"\n";
    Arc::new(Config::from_str_with_env(text, Path::new("fuzz.toml"), Vec::new()).expect("config"))
}

/// The first byte picks the format, the rest is the file.
pub fn split(data: &[u8]) -> (&'static str, &[u8]) {
    match data.split_first() {
        Some((b, rest)) => (["a.txt", "a.md", "a.json"][usize::from(*b) % 3], rest),
        None => ("a.txt", data),
    }
}
