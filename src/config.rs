//! The config file (`config/wirefeed.toml`) and its `WIREFEED_*` overrides.
//!
//! Relative paths in the config (`articles.dir`) are read from the working
//! directory, so `cargo run -- serve` from the project root finds the shipped
//! examples. The state directory defaults to `.wirefeed/` beside the config.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono_tz::Tz;
use serde::{Deserialize, Serialize};
use url::Url;

/// Environment variables that are not config keys.
const NOT_OVERRIDES: &[&str] = &["WIREFEED_CONFIG", "WIREFEED_LOG", "WIREFEED_LOG_FORMAT"];
/// Config sections an environment variable `WIREFEED_<SECTION>_<KEY>` may set.
const SECTIONS: &[&str] = &[
    "site", "articles", "feeds", "server", "state", "parse", "websub", "media", "publish",
];

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: cannot read config: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// toml's message already names the line, the column and the key.
    #[error("{path}: {message}")]
    Syntax { path: PathBuf, message: String },
    #[error("{path}: environment override {vars}: {message}")]
    Env {
        path: PathBuf,
        vars: String,
        message: String,
    },
    #[error("{path}: line {line}: {key}: {message}")]
    Invalid {
        path: PathBuf,
        line: usize,
        key: String,
        message: String,
    },
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    pub site: Site,
    #[serde(default)]
    pub articles: Articles,
    #[serde(default)]
    pub feeds: Feeds,
    #[serde(default)]
    pub server: Server,
    #[serde(default)]
    pub state: State,
    #[serde(default)]
    pub parse: Parse,
    #[serde(default)]
    pub websub: WebSub,
    #[serde(default)]
    pub media: Media,
    #[serde(default)]
    pub publish: Publish,
    #[serde(default)]
    pub categories: Vec<Category>,
    /// Where the config was read from (not a key).
    #[serde(skip)]
    pub source: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Site {
    pub title: String,
    /// Absolute base URL; item links, self links and feed ids are built on it.
    pub base_url: Url,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_language")]
    pub language: String,
    /// IANA zone in which naive article times are read.
    #[serde(default = "default_timezone")]
    pub timezone: Tz,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Articles {
    pub dir: PathBuf,
    /// Poll the directory at this interval instead of using inotify (network
    /// filesystems, Docker Desktop bind mounts). Unset: native events.
    #[serde(with = "humantime_serde")]
    pub poll_interval: Option<Duration>,
    /// Quiet time after the last event on a path before it is read.
    #[serde(with = "humantime_serde")]
    pub debounce: Duration,
    /// A file still open for writing is read once it is closed, or once its
    /// size and mtime stayed the same for this long.
    #[serde(with = "humantime_serde")]
    pub settle: Duration,
    /// Files larger than this are rejected without being read.
    pub max_file_bytes: u64,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Feeds {
    /// Newest N items per feed.
    pub items: usize,
    /// Items per archive page (RFC 5005); 0: no archives.
    pub archive_items: usize,
    /// RSS `<ttl>` in minutes.
    pub ttl: u32,
    pub max_title_chars: usize,
    pub max_summary_chars: usize,
    pub max_content_bytes: usize,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Server {
    pub listen: SocketAddr,
    /// `Cache-Control: max-age` for feeds and pages, in seconds.
    pub cache_max_age: u32,
    /// `Cache-Control: stale-while-revalidate`, in seconds (0: left out):
    /// how long a cache may serve a stale copy while it fetches a new one.
    pub stale_while_revalidate: u32,
    /// `Cache-Control: stale-if-error`, in seconds (0: left out): how long
    /// a cache may serve a stale copy while the server fails.
    pub stale_if_error: u32,
    #[serde(with = "humantime_serde")]
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    pub max_header_bytes: usize,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct State {
    /// Default: `.wirefeed/` beside the config file.
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Parse {
    /// A line equal to one of these starts the page chrome of a scraped page.
    pub chrome_start: Vec<String>,
    /// `<prefix><Category>` in the chrome names the article's category.
    pub more_stories_prefix: String,
}

/// WebSub (W3C): the hubs told of every change, which readers subscribe
/// through for push instead of polling.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WebSub {
    /// Hub URLs, named in every feed and pinged after each change. Empty:
    /// no hub links, no pings.
    pub hubs: Vec<Url>,
}

/// Images, podcasts and videos the articles attach, served under
/// `{base_url}/media/` and copied by `build`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Media {
    /// The directory served as `/media/`; unset: none. An enclosure under
    /// `{base_url}/media/` without a length takes its file's size.
    pub dir: Option<PathBuf>,
}

/// Object storage the site is copied to as it changes (`wirefeed serve`),
/// or once (`wirefeed publish`): the `build --out` tree, object by object.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct Publish {
    /// `s3://BUCKET/PREFIX` (credentials and endpoint from the standard
    /// `AWS_*` variables) or `file:///DIR`; unset: no publishing.
    pub to: Option<String>,
    /// Uploads and deletes in flight at once.
    pub concurrency: usize,
}

impl Default for Publish {
    fn default() -> Self {
        Publish {
            to: None,
            concurrency: 8,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Category {
    pub slug: String,
    pub title: String,
    #[serde(default)]
    pub description: String,
    /// Category names (case-insensitive) that belong to this feed. The slug
    /// and the title always match too.
    #[serde(default, rename = "match")]
    pub names: Vec<String>,
    /// The feed's and its page's language (BCP 47, e.g. `ur`); default
    /// `site.language`.
    #[serde(default)]
    pub language: Option<String>,
}

fn default_language() -> String {
    "en".into()
}
fn default_timezone() -> Tz {
    Tz::UTC
}

impl Default for Articles {
    fn default() -> Self {
        Articles {
            dir: PathBuf::from("articles"),
            poll_interval: None,
            debounce: Duration::from_millis(20),
            settle: Duration::from_millis(1000),
            max_file_bytes: 8 * 1024 * 1024,
        }
    }
}

impl Default for Feeds {
    fn default() -> Self {
        Feeds {
            items: 50,
            archive_items: 50,
            ttl: 15,
            max_title_chars: 300,
            max_summary_chars: 400,
            max_content_bytes: 256 * 1024,
        }
    }
}

impl Default for Server {
    fn default() -> Self {
        Server {
            listen: SocketAddr::from(([127, 0, 0, 1], 8080)),
            cache_max_age: 60,
            stale_while_revalidate: 60,
            stale_if_error: 86400,
            header_read_timeout: Duration::from_secs(10),
            max_connections: 16384,
            max_header_bytes: 16 * 1024,
        }
    }
}

impl Default for Parse {
    fn default() -> Self {
        Parse {
            chrome_start: vec!["Recent Stories".into()],
            more_stories_prefix: "More Stories From ".into(),
        }
    }
}

impl Category {
    /// Does an article category name belong to this feed?
    pub fn matches(&self, name: &str) -> bool {
        let name = name.trim();
        name.eq_ignore_ascii_case(&self.slug)
            || name.eq_ignore_ascii_case(&self.title)
            || self
                .names
                .iter()
                .any(|n| n.trim().eq_ignore_ascii_case(name))
    }
}

impl Config {
    /// Reads the config file, applies `WIREFEED_*` variables from the process
    /// environment and validates the result.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        let mut config = Self::from_str_with_env(&text, path, std::env::vars())?;
        config.resolve_paths();
        Ok(config)
    }

    /// Makes every path in the config absolute, once, where it enters:
    /// relative paths are read from the working directory, and a
    /// directory that exists is canonicalised (symlinks, `.` and `..`
    /// resolved). The watcher, the scan and the article keys all use this
    /// one spelling, so two spellings of the same directory are never
    /// compared.
    pub fn resolve_paths(&mut self) {
        self.articles.dir = resolve_dir(&self.articles.dir);
        if let Some(dir) = &self.state.dir {
            self.state.dir = Some(resolve_dir(dir));
        }
        if let Some(dir) = &self.media.dir {
            self.media.dir = Some(resolve_dir(dir));
        }
        if let Some(name) = self.source.file_name() {
            let dir = match self.source.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            self.source = resolve_dir(dir).join(name);
        }
    }

    /// Parses config text; `env` supplies the overrides (tests pass their own).
    pub fn from_str_with_env(
        text: &str,
        path: &Path,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        // Parse the text on its own first, so errors in the file carry its lines.
        let mut config: Config = toml::from_str(text).map_err(|e| ConfigError::Syntax {
            path: path.to_path_buf(),
            message: e.to_string().trim_end().to_string(),
        })?;
        let overrides: Vec<(String, String)> = env
            .into_iter()
            .filter(|(k, _)| k.starts_with("WIREFEED_") && !NOT_OVERRIDES.contains(&k.as_str()))
            .collect();
        if !overrides.is_empty() {
            config = apply_env(text, path, &overrides)?;
        }
        config.source = path.to_path_buf();
        config.validate(text)?;
        Ok(config)
    }

    /// The state store directory.
    pub fn state_dir(&self) -> PathBuf {
        match &self.state.dir {
            Some(dir) => dir.clone(),
            None => self
                .source
                .parent()
                .unwrap_or(Path::new("."))
                .join(".wirefeed"),
        }
    }

    /// `{base_url}/{path}` without a doubled slash.
    pub fn url(&self, path: &str) -> String {
        format!(
            "{}/{}",
            self.site.base_url.as_str().trim_end_matches('/'),
            path.trim_start_matches('/')
        )
    }

    fn validate(&self, text: &str) -> Result<(), ConfigError> {
        let invalid = |key: &str, line: usize, message: String| ConfigError::Invalid {
            path: self.source.clone(),
            line,
            key: key.to_string(),
            message,
        };
        if !matches!(self.site.base_url.scheme(), "http" | "https") {
            return Err(invalid(
                "site.base_url",
                line_of(text, "base_url", 0),
                "must be an absolute http(s) URL".into(),
            ));
        }
        if let Some(hub) = self.websub.hubs.iter().find(|h| !is_http_url(h)) {
            return Err(invalid(
                "websub.hubs",
                line_of(text, "hubs", 0),
                format!("{hub}: a hub is an absolute http(s) URL without a fragment"),
            ));
        }
        if let Some(to) = &self.publish.to {
            if let Err(message) = check_publish_target(to) {
                return Err(invalid("publish.to", line_of(text, "to", 0), message));
            }
        }
        if self.publish.concurrency == 0 {
            return Err(invalid(
                "publish.concurrency",
                line_of(text, "concurrency", 0),
                "must be at least 1".into(),
            ));
        }
        if self.feeds.items == 0 {
            return Err(invalid(
                "feeds.items",
                line_of(text, "items", 0),
                "must be at least 1".into(),
            ));
        }
        // These reach every feed and page as text: a character XML 1.0
        // forbids (a control character from a TOML escape) would make them
        // ill-formed.
        let languages = std::iter::once(&self.site.language)
            .chain(self.categories.iter().filter_map(|c| c.language.as_ref()));
        if let Some(bad) = languages.into_iter().find(|l| !is_language_tag(l)) {
            return Err(invalid(
                "language",
                line_of(text, "language", 0),
                format!(
                    "{bad:?}: a language tag is letters, digits and '-' (e.g. \"en\", \"ur-PK\")"
                ),
            ));
        }
        let site_texts = [
            ("site.title", "title", &self.site.title),
            ("site.description", "description", &self.site.description),
            ("site.language", "language", &self.site.language),
        ];
        for (key, name, value) in site_texts {
            if let Some(c) = forbidden_char(value) {
                return Err(invalid(key, line_of(text, name, 0), forbidden(c)));
            }
        }
        if self.categories.len() >= usize::from(u16::MAX) {
            return Err(invalid(
                "categories",
                line_of(text, "[[categories]]", 0),
                format!("{} categories: at most 65 534", self.categories.len()),
            ));
        }
        let mut seen = std::collections::HashSet::new();
        for (i, cat) in self.categories.iter().enumerate() {
            let line = line_of(text, "[[categories]]", i);
            let texts = [&cat.title, &cat.description]
                .into_iter()
                .chain(&cat.names)
                .chain(&cat.language);
            if let Some(c) = texts.filter_map(|t| forbidden_char(t)).next() {
                return Err(invalid("categories", line, forbidden(c)));
            }
            let slug_ok = !cat.slug.is_empty()
                && cat
                    .slug
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
            if !slug_ok {
                return Err(invalid(
                    "categories.slug",
                    line,
                    format!("{:?}: use lowercase letters, digits and '-'", cat.slug),
                ));
            }
            if cat.slug == "all" {
                return Err(invalid(
                    "categories.slug",
                    line,
                    "\"all\" is the feed of every article and cannot be configured".into(),
                ));
            }
            if !seen.insert(cat.slug.clone()) {
                return Err(invalid(
                    "categories.slug",
                    line,
                    format!("{:?} is used twice", cat.slug),
                ));
            }
        }
        Ok(())
    }
}

/// Rebuilds the config from the file's table with the environment variables
/// written over it. A value is read as TOML when it is one (`50`, `true`),
/// else as a string (`0.0.0.0:8080`).
fn apply_env(
    text: &str,
    path: &Path,
    overrides: &[(String, String)],
) -> Result<Config, ConfigError> {
    let vars = overrides
        .iter()
        .map(|(k, _)| k.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    let env_error = |message: String| ConfigError::Env {
        path: path.to_path_buf(),
        vars: vars.clone(),
        message,
    };
    let mut table: toml::Table = toml::from_str(text).map_err(|e| env_error(e.to_string()))?;
    for (name, value) in overrides {
        let rest = name["WIREFEED_".len()..].to_ascii_lowercase();
        let Some((section, key)) = SECTIONS.iter().find_map(|s| {
            rest.strip_prefix(s)
                .and_then(|k| k.strip_prefix('_'))
                .map(|k| (*s, k))
        }) else {
            return Err(ConfigError::Env {
                path: path.to_path_buf(),
                vars: name.clone(),
                message: format!("not a config key (sections: {})", SECTIONS.join(", ")),
            });
        };
        let parsed = toml::from_str::<toml::Table>(&format!("v = {value}"))
            .ok()
            .and_then(|mut t| t.remove("v"))
            .unwrap_or_else(|| toml::Value::String(value.clone()));
        let section = table
            .entry(section)
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        match section {
            toml::Value::Table(t) => {
                t.insert(key.to_string(), parsed);
            }
            _ => return Err(env_error(format!("[{section}] is not a table"))),
        }
    }
    toml::Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| env_error(e.message().to_string()))
}

/// `s3://BUCKET[/PREFIX]`, `s3a://...` or `file:///DIR`.
pub fn check_publish_target(to: &str) -> Result<(), String> {
    let url = Url::parse(to).map_err(|e| format!("{to:?}: {e}"))?;
    match url.scheme() {
        "s3" | "s3a" if url.host_str().is_some_and(|h| !h.is_empty()) => Ok(()),
        "file" if url.path().len() > 1 => Ok(()),
        _ => Err(format!("{to:?}: want s3://BUCKET/PREFIX or file:///DIR")),
    }
}

/// `public, max-age=M[, stale-while-revalidate=S][, stale-if-error=E]`:
/// the `Cache-Control` of every answer that may change.
pub fn cache_control(server: &Server) -> String {
    let mut value = format!("public, max-age={}", server.cache_max_age);
    if server.stale_while_revalidate > 0 {
        value.push_str(&format!(
            ", stale-while-revalidate={}",
            server.stale_while_revalidate
        ));
    }
    if server.stale_if_error > 0 {
        value.push_str(&format!(", stale-if-error={}", server.stale_if_error));
    }
    value
}

/// A BCP 47-shaped tag (`en`, `ur-PK`): letters, digits and `-`, parts of
/// 1 to 8.
pub fn is_language_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 35
        && tag
            .split('-')
            .all(|p| !p.is_empty() && p.len() <= 8 && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// An http(s) URL that can stand in a `Link` header and a feed as it is.
fn is_http_url(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https")
        && url.has_host()
        && url.fragment().is_none()
        && !url.as_str().contains(['>', '"', ' ', ','])
}

/// The first character of `s` that XML 1.0 does not allow in text.
fn forbidden_char(s: &str) -> Option<char> {
    s.chars().find(|&c| {
        (c.is_control() && !matches!(c, '\t' | '\n' | '\r')) || matches!(c, '\u{FFFE}' | '\u{FFFF}')
    })
}

fn forbidden(c: char) -> String {
    format!("{c:?} is a control character, which no feed may contain")
}

/// `path` absolute and canonical when it exists; else absolute with `.`
/// and `..` resolved by name (the directory may appear later).
pub fn resolve_dir(path: &Path) -> PathBuf {
    if let Ok(canonical) = std::fs::canonicalize(path) {
        return canonical;
    }
    let absolute = match std::path::absolute(path) {
        Ok(p) => p,
        Err(_) => return path.to_path_buf(),
    };
    let mut clean = PathBuf::new();
    for part in absolute.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                clean.pop();
            }
            other => clean.push(other),
        }
    }
    clean
}

/// 1-based line of the `nth` line that starts with `needle` (after spaces),
/// or 0 when the key is not in the file (it came from a default).
fn line_of(text: &str, needle: &str, nth: usize) -> usize {
    text.lines()
        .enumerate()
        .filter(|(_, l)| l.trim_start().starts_with(needle))
        .nth(nth)
        .map_or(0, |(i, _)| i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
[site]
title = "T"
base_url = "http://localhost:8080"
timezone = "Asia/Karachi"

[[categories]]
slug = "world"
title = "World"
match = ["International"]
"#;

    fn load(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        Config::from_str_with_env(
            text,
            Path::new("c.toml"),
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn defaults_fill_missing_sections() {
        let c = load(MINIMAL, &[]).expect("valid");
        assert_eq!(c.feeds.items, 50);
        assert_eq!(c.site.timezone, chrono_tz::Asia::Karachi);
        assert!(c.categories[0].matches("international"));
        assert!(c.categories[0].matches("WORLD"));
        assert!(!c.categories[0].matches("Business"));
    }

    #[test]
    fn syntax_errors_name_the_line_and_key() {
        let bad = MINIMAL.replace("timezone = \"Asia/Karachi\"", "timezone = \"Mars/Base\"");
        let err = load(&bad, &[]).unwrap_err().to_string();
        assert!(err.contains("line 5"), "{err}");
        assert!(err.contains("timezone"), "{err}");
    }

    #[test]
    fn control_characters_in_texts_that_reach_the_feeds_are_errors() {
        let bad = MINIMAL.replace("title = \"T\"", "title = \"T\\u0007\"");
        let err = load(&bad, &[]).unwrap_err().to_string();
        assert!(
            err.contains("site.title") && err.contains("line 3"),
            "{err}"
        );
        let bad = MINIMAL.replace("title = \"World\"", "title = \"W\\u001b\"");
        let err = load(&bad, &[]).unwrap_err().to_string();
        assert!(
            err.contains("categories") && err.contains("line 7"),
            "{err}"
        );
    }

    #[test]
    fn unknown_keys_are_errors() {
        let bad = MINIMAL.replace("[site]", "[site]\ntitel = \"typo\"");
        let err = load(&bad, &[]).unwrap_err().to_string();
        assert!(err.contains("titel"), "{err}");
    }

    #[test]
    fn duplicate_and_reserved_slugs_name_their_block() {
        let dup = format!("{MINIMAL}\n[[categories]]\nslug = \"world\"\ntitle = \"W2\"\n");
        let err = load(&dup, &[]).unwrap_err().to_string();
        assert!(err.contains("line 12") && err.contains("twice"), "{err}");
        let all = MINIMAL.replace("slug = \"world\"", "slug = \"all\"");
        assert!(load(&all, &[]).is_err());
    }

    #[test]
    fn more_categories_than_an_entry_can_name_are_refused() {
        let many: String = (0..u16::MAX)
            .map(|i| format!("[[categories]]\nslug = \"c{i}\"\ntitle = \"C\"\n"))
            .collect();
        let err = load(&format!("{MINIMAL}\n{many}"), &[])
            .unwrap_err()
            .to_string();
        assert!(err.contains("at most 65 534"), "{err}");
    }

    #[test]
    fn env_overrides_win_and_are_typed() {
        let c = load(
            MINIMAL,
            &[
                ("WIREFEED_SERVER_LISTEN", "0.0.0.0:9000"),
                ("WIREFEED_FEEDS_ITEMS", "7"),
                ("WIREFEED_ARTICLES_DIR", "/srv/articles"),
                ("WIREFEED_ARTICLES_POLL_INTERVAL", "2s"),
                ("WIREFEED_CONFIG", "ignored"),
            ],
        )
        .expect("valid");
        assert_eq!(c.server.listen.port(), 9000);
        assert_eq!(c.feeds.items, 7);
        assert_eq!(c.articles.dir, PathBuf::from("/srv/articles"));
        assert_eq!(c.articles.poll_interval, Some(Duration::from_secs(2)));
    }

    #[test]
    fn websub_hubs_are_absolute_http_urls() {
        let c = load(MINIMAL, &[]).expect("valid");
        assert!(c.websub.hubs.is_empty(), "no hubs unless configured");
        let hubs = "[websub]\nhubs = [\"https://hub.example/\"]\n";
        let c = load(&format!("{hubs}{MINIMAL}"), &[]).expect("valid");
        assert_eq!(c.websub.hubs[0].as_str(), "https://hub.example/");
        let env = [("WIREFEED_WEBSUB_HUBS", "[\"http://127.0.0.1:9/\"]")];
        let c = load(MINIMAL, &env).expect("valid");
        assert_eq!(c.websub.hubs[0].as_str(), "http://127.0.0.1:9/");
        for bad in [
            "ftp://hub.example/",
            "https://hub.example/#x",
            "mailto:a@b.c",
        ] {
            let text = format!("[websub]\nhubs = [{bad:?}]\n{MINIMAL}");
            let err = load(&text, &[]).unwrap_err().to_string();
            assert!(
                err.contains("websub.hubs") && err.contains("line 2"),
                "{err}"
            );
        }
    }

    #[test]
    fn bad_env_override_names_the_variable() {
        let err = load(MINIMAL, &[("WIREFEED_SERVER_LISTEN", "nowhere")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("WIREFEED_SERVER_LISTEN"), "{err}");
        let err = load(MINIMAL, &[("WIREFEED_BOGUS", "1")])
            .unwrap_err()
            .to_string();
        assert!(err.contains("WIREFEED_BOGUS"), "{err}");
    }
}
