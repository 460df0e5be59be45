//! JSON Feed 1.1 (https://jsonfeed.org/version/1.1).

use serde::Serialize;

use super::{item_categories, FeedDoc, FeedFormat};

#[derive(Serialize)]
struct JsonFeed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: String,
    feed_url: String,
    description: &'a str,
    language: &'a str,
    authors: Vec<Author<'a>>,
    items: Vec<Item<'a>>,
}

#[derive(Serialize)]
struct Author<'a> {
    name: &'a str,
}

#[derive(Serialize)]
struct Item<'a> {
    id: &'a str,
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
}

pub fn render(doc: &FeedDoc) -> Vec<u8> {
    let config = doc.config;
    let feed = JsonFeed {
        version: "https://jsonfeed.org/version/1.1",
        title: &doc.info.title,
        home_page_url: doc.home_url(),
        feed_url: doc.url(FeedFormat::Json),
        description: &doc.info.description,
        language: &config.site.language,
        authors: vec![Author {
            name: &config.site.title,
        }],
        items: doc
            .items
            .iter()
            .zip(doc.texts)
            .map(|(e, text)| Item {
                id: &e.guid,
                url: e.link(config),
                title: &e.title,
                content_html: &text.html,
                summary: &text.summary,
                date_published: e.published.to_rfc3339(),
                date_modified: e.updated.to_rfc3339(),
                authors: e.author.iter().map(|name| Author { name }).collect(),
                tags: item_categories(config, e),
            })
            .collect(),
    };
    let mut out = serde_json::to_vec_pretty(&feed).unwrap_or_default();
    out.push(b'\n');
    out
}
