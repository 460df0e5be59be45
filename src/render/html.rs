//! The HTML index (with feed autodiscovery) and the article pages.

use quick_xml::escape::escape;

use super::doc::{feed_path, FeedFormat};
use crate::config::Config;
use crate::model::ItemText;
use crate::model::{Entry, FeedInfo};

const STYLE: &str =
    "body{font:18px/1.6 Georgia,serif;max-width:42em;margin:2em auto;padding:0 1em;color:#222}\
h1{line-height:1.2}.meta{color:#666;font-size:.9em}a{color:#0645ad}table{border-collapse:collapse}\
td,th{padding:.2em .8em;text-align:left;border-bottom:1px solid #ddd}img{max-width:100%}";

fn page(config: &Config, title: &str, head_extra: &str, body: &str) -> Vec<u8> {
    format!(
        "<!DOCTYPE html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n{head_extra}</head>\n<body>\n{body}</body>\n</html>\n",
        lang = escape(config.site.language.as_str()),
        title = escape(title),
    )
    .into_bytes()
}

/// `/`: every feed in every format, with `<link rel="alternate">` so feed
/// readers find them from the site's address alone.
pub fn index(config: &Config, feeds: &[FeedInfo], counts: &[usize]) -> Vec<u8> {
    let mut head = String::new();
    let mut rows = String::new();
    for (i, feed) in feeds.iter().enumerate() {
        let mut links = Vec::new();
        for format in FeedFormat::ALL {
            let url = config.url(&feed_path(&feed.slug, format));
            head.push_str(&format!(
                "<link rel=\"alternate\" type=\"{}\" title=\"{} ({})\" href=\"{}\">\n",
                format.mime(),
                escape(feed.title.as_str()),
                format.extension().to_uppercase(),
                escape(url.as_str())
            ));
            links.push(format!(
                "<a href=\"{}\">{}</a>",
                escape(url.as_str()),
                format.extension().to_uppercase()
            ));
        }
        rows.push_str(&format!(
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>\n",
            escape(feed.title.as_str()),
            counts.get(i).copied().unwrap_or(0),
            links.join(" · ")
        ));
    }
    let body = format!(
        "<h1>{}</h1>\n<p>{}</p>\n<table>\n<tr><th>Feed</th><th>Stories</th><th>Subscribe</th></tr>\n{rows}</table>\n\
         <p>All feeds for your reader in one file: <a href=\"{}\">feeds.opml</a></p>\n",
        escape(config.site.title.as_str()),
        escape(config.site.description.as_str()),
        escape(config.url("feeds.opml").as_str()),
    );
    page(config, &config.site.title, &head, &body)
}

/// `/articles/{id}`: the article alone, readable, with its metadata.
pub fn article(config: &Config, entry: &Entry, text: &ItemText) -> Vec<u8> {
    let mut meta = Vec::new();
    if let Some(author) = &entry.author {
        meta.push(format!("By {}", escape(&**author)));
    }
    if let Some(d) = &text.dateline {
        meta.push(format!(
            "{} ({})",
            escape(d.city.as_str()),
            escape(d.agency.as_str())
        ));
    }
    meta.push(format!(
        "<time datetime=\"{}\">{}</time>",
        entry.published.to_rfc3339(),
        entry.published.format("%B %-d, %Y %H:%M %:z")
    ));
    let body = format!(
        "<p><a href=\"{}\">{}</a></p>\n<article>\n<h1>{}</h1>\n<p class=\"meta\">{}</p>\n{}</article>\n",
        escape(config.url("").as_str()),
        escape(config.site.title.as_str()),
        escape(&*entry.title),
        meta.join(" · "),
        text.html
    );
    let canonical = format!(
        "<link rel=\"canonical\" href=\"{}\">\n",
        escape(entry.link(config).as_str())
    );
    page(config, &entry.title, &canonical, &body)
}
