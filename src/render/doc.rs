//! What every format renders from: a feed's items and the config
//! ([`View`]), the formats themselves ([`FeedFormat`]), and the small
//! rules they share (paths, categories, text in HTML fields, authors).

use std::collections::BTreeMap;

use chrono::{DateTime, FixedOffset};

use crate::config::Config;
use crate::model::{Entry, FeedInfo, ItemText};

/// One feed as the format modules see it.
pub struct View<'a> {
    pub config: &'a Config,
    pub info: &'a FeedInfo,
    /// Newest first.
    pub items: Vec<ItemView<'a>>,
    /// The date of the feed when it has no items (see
    /// [`crate::render::FeedDoc::empty_date`]).
    pub empty_date: DateTime<FixedOffset>,
    pub history: History,
}

/// Where a document stands in its feed's RFC 5005 archive.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum History {
    /// The subscription document of a feed without archive pages.
    #[default]
    Alone,
    /// The subscription document; archive pages `1..=pages` precede it.
    Subscription { pages: usize },
    /// Archive page `number` of `1..=pages` (the last one is open).
    Archive { number: usize, pages: usize },
}

impl History {
    /// The page before (`prev-archive`), if any.
    pub fn prev(self) -> Option<usize> {
        match self {
            History::Alone => None,
            History::Subscription { pages } => Some(pages),
            History::Archive { number, .. } => number.checked_sub(1).filter(|&n| n > 0),
        }
    }

    /// The page after (`next-archive`), if any: never for the open page.
    pub fn next(self) -> Option<usize> {
        match self {
            History::Archive { number, pages } if number < pages => Some(number + 1),
            _ => None,
        }
    }

    pub fn is_archive(self) -> bool {
        matches!(self, History::Archive { .. })
    }
}

/// One item of a [`View`].
#[derive(Clone, Copy)]
pub struct ItemView<'a> {
    pub entry: &'a Entry,
    pub text: &'a ItemText,
}

impl View<'_> {
    /// Newest `updated` among the items.
    pub fn updated(&self) -> DateTime<FixedOffset> {
        self.items
            .iter()
            .map(|i| i.entry.updated)
            .max()
            .unwrap_or(self.empty_date)
    }

    /// Newest `published` among the items.
    pub fn published(&self) -> DateTime<FixedOffset> {
        self.items
            .iter()
            .map(|i| i.entry.published)
            .max()
            .unwrap_or(self.empty_date)
    }

    /// The subscription document's URL (the feed's identity in every
    /// document of its archive).
    pub fn url(&self, format: FeedFormat) -> String {
        self.config.url(&feed_path(&self.info.slug, format))
    }

    /// This document's own URL.
    pub fn self_url(&self, format: FeedFormat) -> String {
        match self.history {
            History::Archive { number, .. } => self.page_url(number, format),
            _ => self.url(format),
        }
    }

    /// Archive page `number`'s URL.
    pub fn page_url(&self, number: usize, format: FeedFormat) -> String {
        self.config
            .url(&archive_path(&self.info.slug, number, format))
    }

    /// RFC 5005 links, `(rel, href)`: `current` (from an archive page),
    /// `next-archive` and `prev-archive` where those pages exist.
    pub fn history_links(&self, format: FeedFormat) -> Vec<(&'static str, String)> {
        let mut links = Vec::new();
        if self.history.is_archive() {
            links.push(("current", self.url(format)));
        }
        // `next-archive` right after `current`: where a stored page gains
        // it (see `render::link_next_archive`).
        if let Some(next) = self.history.next() {
            links.push(("next-archive", self.page_url(next, format)));
        }
        if let Some(prev) = self.history.prev() {
            links.push(("prev-archive", self.page_url(prev, format)));
        }
        links
    }

    /// The hubs a subscription document names (archive pages name none).
    pub fn hubs(&self) -> &[url::Url] {
        match self.history.is_archive() {
            true => &[],
            false => &self.config.websub.hubs,
        }
    }

    /// The HTML page a feed stands for: its category's page, the site's
    /// index for `all`.
    pub fn home_url(&self) -> String {
        self.config.url(&page_path(&self.info.slug))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedFormat {
    Rss,
    Atom,
    Json,
}

impl FeedFormat {
    pub const ALL: [FeedFormat; 3] = [FeedFormat::Rss, FeedFormat::Atom, FeedFormat::Json];

    pub fn extension(self) -> &'static str {
        match self {
            FeedFormat::Rss => "rss",
            FeedFormat::Atom => "atom",
            FeedFormat::Json => "json",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            FeedFormat::Rss => "application/rss+xml; charset=utf-8",
            FeedFormat::Atom => "application/atom+xml; charset=utf-8",
            FeedFormat::Json => "application/feed+json",
        }
    }

    /// The MIME type alone, for `type=` attributes.
    pub fn mime(self) -> &'static str {
        self.content_type().split(';').next().unwrap_or_default()
    }
}

/// `feeds/{slug}.{ext}`, the path of a feed under the base URL.
pub fn feed_path(slug: &str, format: FeedFormat) -> String {
    format!("feeds/{slug}.{}", format.extension())
}

/// `feeds/archive/{slug}/{number}.{ext}`, the path of an archive page.
pub fn archive_path(slug: &str, number: usize, format: FeedFormat) -> String {
    format!("feeds/archive/{slug}/{number}.{}", format.extension())
}

/// The HTML page of feed `slug` under the base URL: the index (`""`)
/// for `all`, else `categories/{slug}.html`.
pub fn page_path(slug: &str) -> String {
    match slug {
        "all" => String::new(),
        slug => format!("categories/{slug}.html"),
    }
}

/// `categories/{slug}/{number}.html`: the HTML page of archive page
/// `number` (`all` included).
pub fn history_page_path(slug: &str, number: usize) -> String {
    format!("categories/{slug}/{number}.html")
}

/// The language an item is written in: its own `lang`, else that of the
/// first category it is filed under, else the site's. The same in every
/// feed showing it (an item is rendered once for all of them).
pub fn item_language<'a>(config: &'a Config, e: &Entry, text: &'a ItemText) -> &'a str {
    if let Some(lang) = &text.lang {
        return lang;
    }
    e.category_feeds()
        .find_map(|f| config.categories.get(f - 1))
        .and_then(|c| c.language.as_deref())
        .unwrap_or(&config.site.language)
}

/// Media RSS's `medium` for a media type: `audio/mpeg` is `audio`.
pub fn medium(mime: &str) -> &'static str {
    match mime.split('/').next().unwrap_or_default() {
        "audio" => "audio",
        "video" => "video",
        "image" => "image",
        _ => "document",
    }
}

/// One Media RSS element (`media:content`, `media:thumbnail`,
/// `media:description`), for either format's extension type.
pub struct MediaElement {
    /// Without the `media:` prefix.
    pub name: &'static str,
    pub attrs: Vec<(&'static str, String)>,
    pub text: Option<String>,
    pub children: Vec<MediaElement>,
}

impl MediaElement {
    fn new(name: &'static str, attrs: Vec<(&'static str, String)>) -> Self {
        MediaElement {
            name,
            attrs,
            text: None,
            children: Vec::new(),
        }
    }
}

/// The Media RSS elements of an item: its image (`media:content
/// medium="image"` with the alt text as `media:description`, and
/// `media:thumbnail`), then, with `enclosures`, a `media:content` for each
/// enclosure (Atom has its own `rel="enclosure"` links for those).
pub fn media_elements(text: &ItemText, enclosures: bool) -> Vec<MediaElement> {
    let mut out = Vec::new();
    if let Some(image) = &text.image {
        let mut content = MediaElement::new(
            "content",
            vec![("url", image.url.clone()), ("medium", "image".into())],
        );
        if !image.alt.is_empty() {
            let mut alt = MediaElement::new("description", vec![("type", "plain".into())]);
            alt.text = Some(image.alt.clone());
            content.children.push(alt);
        }
        out.push(content);
        out.push(MediaElement::new(
            "thumbnail",
            vec![("url", image.url.clone())],
        ));
    }
    for enc in text.enclosures.iter().filter(|_| enclosures) {
        let mut attrs = vec![
            ("url", enc.url.clone()),
            ("type", enc.mime.clone()),
            ("medium", medium(&enc.mime).into()),
        ];
        if let Some(length) = enc.length {
            attrs.push(("fileSize", length.to_string()));
        }
        out.push(MediaElement::new("content", attrs));
    }
    out
}

/// How a format's crate makes one extension element: its prefixed name,
/// text, attributes and children.
pub type MakeExtension<'a, E> =
    &'a dyn Fn(String, Option<String>, BTreeMap<String, String>, BTreeMap<String, Vec<E>>) -> E;

/// `elements` as a format's extension elements (`media:content`, ...),
/// grouped by name as both crates keep them.
pub fn media_map<E>(
    elements: Vec<MediaElement>,
    make: MakeExtension<E>,
) -> BTreeMap<String, Vec<E>> {
    let mut map = BTreeMap::<String, Vec<E>>::new();
    for e in elements {
        let attrs = e
            .attrs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        let children = media_map(e.children, make);
        let element = make(format!("media:{}", e.name), e.text, attrs, children);
        map.entry(e.name.to_string()).or_default().push(element);
    }
    map
}

/// The Media RSS namespace (`media:content`, `media:thumbnail`), used by
/// RSS and Atom alike.
pub const MEDIA_NAMESPACE: &str = "http://search.yahoo.com/mrss/";

/// The RFC 5005 namespace (`fh:archive`).
pub const HISTORY_NAMESPACE: &str = "http://purl.org/syndication/history/1.0";

/// The date of an empty site: the Unix epoch, a fixed value rather than
/// the render time.
pub fn empty_feed_date() -> DateTime<FixedOffset> {
    DateTime::UNIX_EPOCH.fixed_offset()
}

/// Category names an item is filed under: the titles of the configured
/// feeds it is in, then its tags.
pub fn item_categories(config: &Config, entry: &Entry, text: &ItemText) -> Vec<String> {
    let mut names: Vec<String> = entry
        .category_feeds()
        .filter_map(|f| config.categories.get(f - 1).map(|c| c.title.clone()))
        .collect();
    for tag in &text.tags {
        if !names.iter().any(|n| n.eq_ignore_ascii_case(tag)) {
            names.push(tag.to_string());
        }
    }
    names
}

/// Plain text as HTML that displays it: `&`, `<` and `>` escaped. For the
/// fields whose format says HTML (RSS `description`, Atom `type="html"`)
/// when what wirefeed has is text.
pub fn text_as_html(text: &str) -> String {
    quick_xml::escape::partial_escape(text).into_owned()
}

/// An author written `Name <address@example.com>`: the name, and the
/// e-mail address when there is one (feed formats keep them apart). Only
/// a plain address counts (`local@domain.tld`, ASCII letters, digits and
/// `.+-_`); anything else stays part of the name.
pub fn author_parts(author: &str) -> (&str, Option<&str>) {
    let split = author
        .strip_suffix('>')
        .and_then(|rest| rest.rsplit_once('<'));
    match split {
        Some((name, email)) if is_plain_address(email) => {
            let name = name.trim();
            (if name.is_empty() { email } else { name }, Some(email))
        }
        _ => (author, None),
    }
}

fn is_plain_address(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let plain = |part: &str| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._+-".contains(&b))
    };
    plain(local) && plain(domain) && domain.contains('.') && !domain.starts_with('.')
}

#[cfg(test)]
mod tests {
    use super::author_parts;

    #[test]
    fn only_a_plain_address_is_taken_out_of_an_author() {
        assert_eq!(
            author_parts("Zara <z@example.com>"),
            ("Zara", Some("z@example.com"))
        );
        assert_eq!(
            author_parts("<z@example.com>"),
            ("z@example.com", Some("z@example.com"))
        );
        for name in [
            "Zara <z@ex.apem\u{8b}com>",
            "O'Brien & <Sons>",
            "A <b@c>",
            "Zara",
        ] {
            assert_eq!(author_parts(name), (name, None), "{name}");
        }
    }
}
