//! `Surrogate-Key`: tags naming what an answer shows, so a CDN (Fastly,
//! Akamai, Varnish xkey) can purge every cached copy of a category at once
//! after a publish changed it, instead of URL by URL.

/// The `Surrogate-Key` of a request path: space-separated tokens, derived
/// from the path alone (the same path always gets the same keys, whether
/// it answered 200, 304 or 404):
///
/// | path | keys |
/// |---|---|
/// | `/`, `/index.html` | `all` |
/// | `/feeds.opml` | `all opml` |
/// | `/feeds/{slug}.rss` (`.atom`, `.json`) | `{slug}` (`all` for the feeds of everything) |
/// | `/feeds/archive/{slug}/{n}.atom` | `{slug}` |
/// | `/categories/{slug}.html`, `/categories/{slug}/`, `/categories/{slug}`, `/categories/{slug}/{n}.html` | `{slug}` |
/// | `/articles/{id}.html`, `/articles/{id}` | `articles article-{id}` |
/// | `/media/...` | `media` |
///
/// `{slug}` and `{id}` are taken as they appear in the path (not
/// percent-decoded), each byte outside `[A-Za-z0-9_-]` written `_`, so a
/// key is always one token (`/articles/caf%C3%A9` → `article-caf_C3_A9`).
/// `None` for any other path (`/healthz`, `/metrics`, unknown ones).
pub(super) fn key(path: &str) -> Option<String> {
    match path {
        "/" | "/index.html" => return Some("all".into()),
        "/feeds.opml" => return Some("all opml".into()),
        _ => {}
    }
    if path.starts_with("/media/") {
        return Some("media".into());
    }
    if let Some(rest) = path.strip_prefix("/feeds/archive/") {
        return token(first_segment(rest));
    }
    if let Some(file) = path.strip_prefix("/feeds/") {
        let slug = file.rsplit_once('.').map_or(file, |(stem, _)| stem);
        return token(slug);
    }
    if let Some(rest) = path.strip_prefix("/categories/") {
        let slug = first_segment(rest);
        return token(slug.strip_suffix(".html").unwrap_or(slug));
    }
    if let Some(page) = path.strip_prefix("/articles/") {
        let id = token(page.strip_suffix(".html").unwrap_or(page))?;
        return Some(format!("articles article-{id}"));
    }
    None
}

/// `rest` up to its first `/`.
fn first_segment(rest: &str) -> &str {
    rest.split('/').next().unwrap_or(rest)
}

/// `s` as one key token (`None` when empty).
fn token(s: &str) -> Option<String> {
    if s.is_empty() {
        return None;
    }
    let ok = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    Some(s.chars().map(|c| if ok(c) { c } else { '_' }).collect())
}

#[cfg(test)]
mod tests {
    use super::key;

    #[test]
    fn keys_name_the_category_of_a_path() {
        for (path, want) in [
            ("/", "all"),
            ("/index.html", "all"),
            ("/feeds.opml", "all opml"),
            ("/feeds/world.rss", "world"),
            ("/feeds/all.json", "all"),
            ("/feeds/archive/world/3.atom", "world"),
            ("/categories/world.html", "world"),
            ("/categories/world/", "world"),
            ("/categories/world", "world"),
            ("/categories/world/3.html", "world"),
            ("/articles/port-talks.html", "articles article-port-talks"),
            ("/articles/port-talks", "articles article-port-talks"),
            ("/articles/caf%C3%A9.html", "articles article-caf_C3_A9"),
            ("/media/podcasts/ep1.mp3", "media"),
        ] {
            assert_eq!(key(path).as_deref(), Some(want), "{path}");
        }
        for path in ["/healthz", "/metrics", "/nope", "/articles/", "/feeds/"] {
            assert_eq!(key(path), None, "{path}");
        }
    }
}
