//! HTML pages for people: the index (the site's latest stories), a page
//! per category and per archive page of it, and the article pages. Served
//! beside the feeds, no script needed, no external asset: one inline style
//! sheet (light and dark, phone to desktop, right to left where the
//! language is), and an optional inline script for the copy buttons.
//!
//! Files: `mod` (the page shell and the parts pages share), `pages` (the
//! pages themselves).

mod pages;

pub use pages::{article, feed_page};

use chrono::{DateTime, FixedOffset};
use quick_xml::escape::escape;

use super::doc::{feed_path, page_path, FeedFormat};
use crate::config::Config;
use crate::model::{is_rtl, FeedInfo};

const STYLE: &str = "\
:root{color-scheme:light dark;--fg:#1b1b1b;--muted:#595959;--bg:#fff;--line:#ddd;--link:#0b57d0;--card:#f6f6f6}\
@media (prefers-color-scheme:dark){:root{--fg:#e8e8e8;--muted:#b0b0b0;--bg:#121212;--line:#333;--link:#8ab4f8;--card:#1e1e1e}}\
*{box-sizing:border-box}\
body{margin:0;background:var(--bg);color:var(--fg);font:1.0625rem/1.6 system-ui,-apple-system,'Segoe UI',Roboto,'Noto Sans','Noto Nastaliq Urdu',sans-serif;text-align:start}\
a{color:var(--link)}a:focus-visible,button:focus-visible{outline:3px solid var(--link);outline-offset:2px}\
.skip{position:absolute;width:1px;height:1px;overflow:hidden;clip-path:inset(50%);white-space:nowrap}\
.skip:focus{position:static;width:auto;height:auto;clip-path:none;display:inline-block;padding:.5em}\
header.site,main,aside,footer{max-width:46rem;margin:0 auto;padding:0 1rem}\
header.site{padding-top:1rem;border-bottom:1px solid var(--line)}\
.site-title{font-size:1.4rem;font-weight:700;margin:0 0 .5rem}.site-title a{color:inherit;text-decoration:none}\
nav ul{list-style:none;margin:0 0 .75rem;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1rem}\
h1{line-height:1.25;margin:1.25rem 0 .5rem}h2{line-height:1.3}\
.stories{list-style:none;margin:0;padding:0}\
.story{display:flex;gap:1rem;align-items:flex-start;padding:1rem 0;border-bottom:1px solid var(--line)}\
.story h2{font-size:1.2rem;margin:0 0 .25rem}.story p{margin:.25rem 0}\
.story img{flex:0 0 9rem;width:9rem;height:auto;border-radius:4px;order:2}.story .text{flex:1;min-width:0}\
.meta{color:var(--muted);font-size:.9rem}\
.pager{display:flex;justify-content:space-between;gap:1rem;padding:1rem 0}\
article img,figure img{max-width:100%;height:auto}figure{margin:1rem 0}figcaption{color:var(--muted);font-size:.9rem}\
audio,video{width:100%}\
aside{margin-top:2rem;padding-bottom:1rem;border-top:1px solid var(--line)}\
.feeds{list-style:none;padding:0}.feeds li{margin:.4rem 0;overflow-wrap:anywhere}\
.feeds code{background:var(--card);padding:.1em .3em;border-radius:3px;direction:ltr;unicode-bidi:isolate}\
button{font:inherit;font-size:.85rem;margin-inline-start:.5rem;cursor:pointer}\
footer{color:var(--muted);font-size:.85rem;padding:2rem 1rem}\
[dir=rtl]{line-height:2}[dir=rtl] h1,[dir=rtl] h2{line-height:1.9}[dir=ltr]{line-height:1.6}\
@media (max-width:34rem){.story{flex-direction:column}.story img{order:0;width:100%;flex-basis:auto}}";

/// Shows the copy buttons (hidden without script) and copies a feed's
/// address into the clipboard.
const SCRIPT: &str = "for(const b of document.querySelectorAll('button[data-copy]')){b.hidden=false;\
b.addEventListener('click',()=>navigator.clipboard.writeText(b.dataset.copy).then(()=>{b.textContent='Copied'}))}";

/// ` lang=".." dir=".."` of the site's own words (navigation, subscribe
/// block, pager) on a page in another language; empty otherwise.
fn ui_lang(config: &Config, page_lang: &str) -> String {
    let ui = config.site.language.as_str();
    match ui == page_lang {
        true => String::new(),
        false => format!(" lang=\"{}\" dir=\"{}\"", esc(ui), direction(ui)),
    }
}

/// `ltr` or `rtl` for a language.
fn direction(lang: &str) -> &'static str {
    match is_rtl(lang) {
        true => "rtl",
        false => "ltr",
    }
}

/// Escaped text (for content and attribute values alike).
fn esc(s: &str) -> std::borrow::Cow<'_, str> {
    escape(s)
}

/// What every page has around its content.
struct Shell<'a> {
    config: &'a Config,
    lang: &'a str,
    title: &'a str,
    /// Extra `<head>` elements (alternates, canonical), already HTML.
    head: String,
    feeds: &'a [FeedInfo],
    /// The `<main>` content, already HTML.
    main: String,
    /// The subscribe block, already HTML (may be empty).
    aside: String,
}

impl Shell<'_> {
    fn render(self) -> Vec<u8> {
        let config = self.config;
        let script = match self.aside.contains("data-copy") {
            true => format!("<script>{SCRIPT}</script>\n"),
            false => String::new(),
        };
        format!(
            "<!DOCTYPE html>\n<html lang=\"{lang}\" dir=\"{dir}\">\n<head>\n<meta charset=\"utf-8\">\n\
             <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
             <meta name=\"color-scheme\" content=\"light dark\">\n\
             <title>{title}</title>\n<style>{STYLE}</style>\n{head}</head>\n<body>\n\
             <a class=\"skip\" href=\"#main\"{ui}>Skip to the stories</a>\n\
             <header class=\"site\"{ui}>\n<p class=\"site-title\"><a href=\"{home}\">{site}</a></p>\n{nav}</header>\n\
             <main id=\"main\">\n{main}</main>\n{aside}\
             <footer{ui}><p>{site}{description}</p></footer>\n{script}</body>\n</html>\n",
            ui = ui_lang(config, self.lang),
            lang = esc(self.lang),
            dir = direction(self.lang),
            title = esc(self.title),
            head = self.head,
            home = esc(&config.url("")),
            site = esc(&config.site.title),
            description = match config.site.description.is_empty() {
                true => String::new(),
                false => format!(": {}", esc(&config.site.description)),
            },
            nav = category_nav(config, self.feeds),
            main = self.main,
            aside = self.aside,
        )
        .into_bytes()
    }
}

/// The category list: every configured feed's page.
fn category_nav(config: &Config, feeds: &[FeedInfo]) -> String {
    let mut out = String::from("<nav aria-label=\"Categories\"><ul>\n");
    for (feed, category) in feeds.iter().skip(1).zip(&config.categories) {
        out.push_str(&format!(
            "<li><a href=\"{}\" lang=\"{}\" dir=\"{}\">{}</a></li>\n",
            esc(&config.url(&page_path(&feed.slug))),
            esc(&feed.language),
            direction(&feed.language),
            esc(&category.title),
        ));
    }
    out.push_str("</ul></nav>\n");
    out
}

/// `<link rel="alternate">` for each format of `feed`: a reader given the
/// page's address subscribes to this feed.
fn alternates(config: &Config, feed: &FeedInfo) -> String {
    FeedFormat::ALL
        .iter()
        .map(|&format| {
            format!(
                "<link rel=\"alternate\" type=\"{}\" title=\"{} ({})\" href=\"{}\">\n",
                format.mime(),
                esc(&feed.title),
                format_name(format),
                esc(&config.url(&feed_path(&feed.slug, format))),
            )
        })
        .collect()
}

fn format_name(format: FeedFormat) -> &'static str {
    match format {
        FeedFormat::Rss => "RSS",
        FeedFormat::Atom => "Atom",
        FeedFormat::Json => "JSON Feed",
    }
}

/// The "Subscribe" block: each feed's addresses with a copy button, the
/// OPML, and what a feed reader is.
/// `page_lang` is the page's language (the block is in the site's).
fn subscribe(config: &Config, page_lang: &str, feeds: &[&FeedInfo], opml: bool) -> String {
    let mut out = format!(
        "<aside id=\"subscribe\" aria-labelledby=\"subscribe-title\"{}>\n\
         <h2 id=\"subscribe-title\">Subscribe</h2>\n\
         <p>A feed reader (NetNewsWire, Feedly, Miniflux, newsboat…) follows these addresses \
         for you and shows each new story as it is published: paste one into yours.</p>\n",
        ui_lang(config, page_lang)
    );
    for feed in feeds {
        out.push_str(&format!(
            "<h3 lang=\"{}\" dir=\"{}\">{}</h3>\n<ul class=\"feeds\">\n",
            esc(&feed.language),
            direction(&feed.language),
            esc(&feed.title)
        ));
        for format in FeedFormat::ALL {
            let url = config.url(&feed_path(&feed.slug, format));
            out.push_str(&format!(
                "<li>{name}: <a href=\"{url}\"><code>{url}</code></a>\
                 <button type=\"button\" data-copy=\"{url}\" hidden \
                 aria-label=\"Copy the {name} address of {title}\">Copy</button></li>\n",
                name = format_name(format),
                url = esc(&url),
                title = esc(&feed.title),
            ));
        }
        out.push_str("</ul>\n");
    }
    if opml {
        out.push_str(&format!(
            "<p>Every feed at once, for a reader's import: <a href=\"{}\">feeds.opml</a></p>\n",
            esc(&config.url("feeds.opml"))
        ));
    }
    out.push_str("</aside>\n");
    out
}

/// `<time>` with the machine-readable date and a readable local time in
/// `site.timezone`.
fn time(config: &Config, at: DateTime<FixedOffset>) -> String {
    let local = at.with_timezone(&config.site.timezone);
    format!(
        "<time datetime=\"{}\" dir=\"ltr\">{}</time>",
        at.to_rfc3339(),
        esc(&local.format("%-d %B %Y, %H:%M %Z").to_string())
    )
}
