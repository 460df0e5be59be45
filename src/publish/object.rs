//! What each key of the tree is sent to the store with: its bytes,
//! `Content-Type`, `Cache-Control` and `Content-Language`, decided from the
//! key (and for pages their `<html lang>`) the same way for a `build`
//! directory and for the live site, so both publish the same objects.

use bytes::Bytes;

use crate::config::Config;

/// `Cache-Control` of a complete archive page: it never changes again.
pub use crate::site::IMMUTABLE;

/// One object as the store gets it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Object {
    pub bytes: Bytes,
    pub content_type: String,
    pub cache_control: String,
    pub language: Option<String>,
}

impl Object {
    /// The object for tree key `key`; `complete`: an archive page whose
    /// next page exists (it never changes again).
    pub fn new(config: &Config, key: &str, bytes: Bytes, complete: bool) -> Object {
        let cache_control = match complete && is_history_page(key) {
            true => IMMUTABLE.to_string(),
            false => crate::config::cache_control(&config.server),
        };
        let language = language(config, key, &bytes);
        Object {
            content_type: content_type(key),
            cache_control,
            language,
            bytes,
        }
    }

    /// Bytes and headers, hashed: a change in any of them is uploaded.
    pub fn fingerprint(&self) -> u64 {
        let mut h = xxhash_rust::xxh3::Xxh3::new();
        h.update(&self.bytes);
        for part in [
            self.content_type.as_str(),
            self.cache_control.as_str(),
            self.language.as_deref().unwrap_or(""),
        ] {
            h.update(&[0]);
            h.update(part.as_bytes());
        }
        h.digest()
    }
}

/// The media type a key is served with, as the daemon serves it.
pub fn content_type(key: &str) -> String {
    let ext = key.rsplit_once('.').map_or("", |(_, e)| e);
    let feed = key.starts_with("feeds/");
    match ext {
        "html" => "text/html; charset=utf-8".into(),
        "rss" if feed => "application/rss+xml; charset=utf-8".into(),
        "atom" if feed => "application/atom+xml; charset=utf-8".into(),
        "json" if feed => "application/feed+json".into(),
        "opml" => "text/x-opml; charset=utf-8".into(),
        _ => mime_guess::from_path(key)
            .first_or_octet_stream()
            .to_string(),
    }
}

/// `feeds/archive/<slug>/<n>.<ext>` or `categories/<slug>/<n>.html`.
pub fn is_history_page(key: &str) -> bool {
    key.starts_with("feeds/archive/")
        || (key.starts_with("categories/") && key.matches('/').count() == 2)
}

/// Could `key` be one of the tree's? (A store may hold other objects
/// beside the site: those are never deleted.)
pub fn is_tree_key(key: &str) -> bool {
    matches!(key, "index.html" | "feeds.opml")
        || ["feeds/", "categories/", "articles/", "media/"]
            .iter()
            .any(|p| key.starts_with(p))
}

/// Uploaded before the keys that link to them (pages and archives before
/// the feeds, the index and the category pages): 0 first, then 1.
pub fn tier(key: &str) -> u8 {
    let first = key.starts_with("media/") || key.starts_with("articles/") || is_history_page(key);
    match first {
        true => 0,
        false => 1,
    }
}

/// A page's `<html lang>`; a feed's category language; none otherwise.
fn language(config: &Config, key: &str, bytes: &[u8]) -> Option<String> {
    if key.ends_with(".html") {
        let head = &bytes[..bytes.len().min(512)];
        // The cut may fall inside a character of the title: what precedes
        // it is enough.
        let head = match std::str::from_utf8(head) {
            Ok(head) => head,
            Err(e) => std::str::from_utf8(&head[..e.valid_up_to()]).unwrap_or_default(),
        };
        let lang = head.split_once("<html lang=\"")?.1.split_once('"')?.0;
        return Some(lang.to_string());
    }
    let slug = match key.strip_prefix("feeds/archive/") {
        Some(rest) => rest.split('/').next()?,
        None => key.strip_prefix("feeds/")?.rsplit_once('.')?.0,
    };
    match slug {
        "all" => Some(config.site.language.clone()),
        slug => config.categories.iter().find(|c| c.slug == slug).map(|c| {
            c.language
                .clone()
                .unwrap_or_else(|| config.site.language.clone())
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_ordered_and_typed_as_the_daemon_serves_them() {
        assert_eq!(
            content_type("feeds/world.rss"),
            "application/rss+xml; charset=utf-8"
        );
        assert_eq!(
            content_type("feeds/archive/all/3.json"),
            "application/feed+json"
        );
        assert_eq!(content_type("media/a.png"), "image/png");
        assert_eq!(content_type("media/x.json"), "application/json");
        assert!(is_history_page("categories/world/2.html"));
        assert!(!is_history_page("categories/world.html"));
        assert_eq!(tier("articles/a.html"), 0);
        assert_eq!(tier("feeds/all.rss"), 1);
        assert_eq!(tier("index.html"), 1);
    }
}
