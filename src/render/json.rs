//! JSON Feed 1.1 (<https://jsonfeed.org/version/1.1>).

use serde::Serialize;

use super::doc::{author_parts, item_categories, item_language, FeedFormat, View};
use super::splice::{between, fragment_capacity, Fragment, Skeleton};
use crate::config::Config;
use crate::model::{Entry, ItemText};

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: String,
    feed_url: String,
    description: &'a str,
    language: &'a str,
    authors: Vec<Author<'a>>,
    /// The next (older) page of the feed's history.
    #[serde(skip_serializing_if = "Option::is_none")]
    next_url: Option<String>,
    /// WebSub hubs (JSON Feed 1.1 `hubs`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<Hub<'a>>,
    /// Last, so that items can be spliced in before the document's end.
    items: Vec<Item<'a>>,
}

#[derive(Serialize)]
struct Author<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    url: Option<String>,
}

#[derive(Serialize)]
struct Hub<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a str,
}

#[derive(Serialize)]
struct Item<'a> {
    id: String,
    url: String,
    title: &'a str,
    content_html: &'a str,
    summary: &'a str,
    date_published: String,
    date_modified: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    authors: Vec<Author<'a>>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    language: &'a str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<Attachment<'a>>,
}

#[derive(Serialize)]
struct Attachment<'a> {
    url: &'a str,
    mime_type: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    size_in_bytes: Option<u64>,
}

/// How `serde_json`'s pretty printer ends a document whose last member is
/// an empty array, and how it opens, separates and closes the objects of a
/// non-empty one at that depth.
const EMPTY_TAIL: &[u8] = b"[]\n}";
const OPEN: &[u8] = b"[\n    ";
const SEPARATOR: &[u8] = b",\n    ";
const CLOSE: &[u8] = b"\n  ]\n}";

/// The feed without its items, for them to be spliced into its `items`
/// array (`None` when `serde_json`'s output is not shaped as expected: see
/// [`render_whole`]).
pub fn skeleton(doc: &View) -> Option<Skeleton> {
    let empty = serde_json::to_vec_pretty(&feed(doc)).ok()?;
    if doc.items.is_empty() {
        return Skeleton::with(empty, b"", b"", b"", b"", FeedFormat::Json);
    }
    Skeleton::with(empty, EMPTY_TAIL, OPEN, SEPARATOR, CLOSE, FeedFormat::Json)
}

/// The feed written with all its items by `serde_json` alone: what the
/// splicing falls back to, and what tests compare it with.
pub fn render_whole(doc: &View) -> Vec<u8> {
    let mut feed = feed(doc);
    feed.items = doc
        .items
        .iter()
        .map(|i| item(doc.config, i.entry, i.text))
        .collect();
    let mut out = serde_json::to_vec_pretty(&feed).unwrap_or_default();
    out.push(b'\n');
    out
}

/// The feed object, without items.
fn feed<'a>(doc: &'a View) -> JsonFeed<'a> {
    let config = doc.config;
    JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: &doc.info.title,
        home_page_url: doc.home_url(),
        feed_url: doc.url(FeedFormat::Json),
        description: &doc.info.description,
        language: &doc.info.language,
        authors: vec![Author {
            name: &config.site.title,
            url: None,
        }],
        next_url: doc
            .history
            .prev()
            .map(|page| doc.page_url(page, FeedFormat::Json)),
        hubs: doc
            .hubs()
            .iter()
            .map(|hub| Hub {
                kind: "WebSub",
                url: hub.as_str(),
            })
            .collect(),
        items: Vec::new(),
    }
}

fn item<'a>(config: &'a Config, e: &'a Entry, text: &'a ItemText) -> Item<'a> {
    Item {
        id: e.guid.to_string(),
        url: e.link(config, text),
        title: &text.title,
        content_html: &text.html,
        summary: &text.summary,
        date_published: e.published.to_rfc3339(),
        date_modified: e.updated.to_rfc3339(),
        authors: text
            .author
            .iter()
            .map(|author| {
                let (name, email) = author_parts(author);
                Author {
                    name,
                    url: email.map(|e| format!("mailto:{e}")),
                }
            })
            .collect(),
        tags: item_categories(config, e, text),
        image: text.image.as_ref().map(|i| i.url.as_str()),
        language: item_language(config, e, text),
        attachments: text
            .enclosures
            .iter()
            .map(|enc| Attachment {
                url: &enc.url,
                mime_type: &enc.mime,
                size_in_bytes: enc.length,
            })
            .collect(),
    }
}

/// The item object as `serde_json` pretty-prints it inside a feed's
/// `items`: written in a bare document, checked, and cut out of it.
pub fn item_fragment(config: &Config, e: &Entry, text: &ItemText) -> Fragment {
    #[derive(Serialize)]
    struct Bare<'a> {
        items: [Item<'a>; 1],
    }
    let mut document = Vec::with_capacity(fragment_capacity(text));
    let bare = Bare {
        items: [item(config, e, text)],
    };
    if let Err(e) = serde_json::to_writer_pretty(&mut document, &bare) {
        return Fragment::Invalid(format!("not written: {e}"));
    }
    Fragment::from_document(FeedFormat::Json, &document, |d| {
        between(d, b"{\n  \"items\": [\n    ", CLOSE).map(<[u8]>::to_vec)
    })
}
