//! The pages: a feed's page (the index for `all`, a category's page, or
//! one of their archive pages) and an article's page.

use std::sync::Arc;

use super::{alternates, direction, esc, subscribe, time, Shell};
use crate::config::Config;
use crate::model::{Entry, FeedInfo, ItemText};
use crate::render::doc::{history_page_path, item_language, page_path, History};
use crate::render::RenderedItem;

/// The page of feed `index` showing `items` (newest first): for `all`'s
/// subscription the site's index, for a category's its page, for an
/// archive page its HTML page. Links to the page of older stories where
/// there is one.
pub fn feed_page(
    config: &Config,
    feeds: &[FeedInfo],
    index: usize,
    items: &[Arc<RenderedItem>],
    history: History,
) -> Vec<u8> {
    let feed = &feeds[index];
    let name = match index {
        0 => "Latest stories".to_string(),
        i => config
            .categories
            .get(i - 1)
            .map_or_else(|| feed.title.clone(), |c| c.title.clone()),
    };
    let (title, heading) = match history {
        History::Archive { number, .. } => (
            format!(
                "{name}: earlier stories, page {number} - {}",
                config.site.title
            ),
            format!("{name}: earlier stories, page {number}"),
        ),
        _ if index == 0 => (config.site.title.clone(), name.clone()),
        _ => (format!("{name} - {}", config.site.title), name.clone()),
    };
    let mut main = format!("<h1>{}</h1>\n", esc(&heading));
    if !history.is_archive() && !feed.description.is_empty() && index > 0 {
        main.push_str(&format!("<p>{}</p>\n", esc(&feed.description)));
    }
    if items.is_empty() {
        main.push_str("<p>No stories yet.</p>\n");
    } else {
        main.push_str("<ol class=\"stories\">\n");
        for item in items {
            main.push_str(&story(
                config,
                feeds,
                &feed.language,
                &item.entry,
                &item.text,
            ));
        }
        main.push_str("</ol>\n");
    }
    main.push_str(&pager(config, &feed.language, &feed.slug, history));
    let mut head = alternates(config, feed);
    let canonical = match history {
        History::Archive { number, .. } => history_page_path(&feed.slug, number),
        _ => page_path(&feed.slug),
    };
    head.push_str(&format!(
        "<link rel=\"canonical\" href=\"{}\">\n",
        esc(&config.url(&canonical))
    ));
    let shown: Vec<&FeedInfo> = match index {
        0 => feeds.iter().collect(),
        _ => vec![feed],
    };
    Shell {
        config,
        lang: &feed.language,
        title: &title,
        head,
        feeds,
        main,
        aside: subscribe(config, &feed.language, &shown, index == 0),
    }
    .render()
}

/// One story in a list: image, title (to its page), category, time,
/// author, summary. Marked with its own language where it differs from
/// the page's.
fn story(
    config: &Config,
    feeds: &[FeedInfo],
    page_lang: &str,
    e: &Entry,
    text: &ItemText,
) -> String {
    let lang = item_language(config, e, text);
    let own = match lang == page_lang {
        true => String::new(),
        false => format!(" lang=\"{}\" dir=\"{}\"", esc(lang), direction(lang)),
    };
    let image = text.image.as_ref().map_or_else(String::new, |img| {
        format!(
            "<img src=\"{}\" alt=\"{}\" loading=\"lazy\" decoding=\"async\">",
            esc(&img.url),
            esc(&img.alt)
        )
    });
    let mut meta = Vec::new();
    if let Some((feed, title)) = first_category(config, feeds, e) {
        meta.push(format!(
            "<a class=\"category\" href=\"{}\">{}</a>",
            esc(&config.url(&page_path(&feed.slug))),
            esc(title)
        ));
    }
    meta.push(time(config, e.published));
    if let Some(author) = &text.author {
        meta.push(format!("<span class=\"author\">{}</span>", esc(author)));
    }
    let summary = match text.summary.is_empty() {
        true => String::new(),
        false => format!("<p class=\"summary\">{}</p>", esc(&text.summary)),
    };
    format!(
        "<li class=\"story\"{own}>{image}<div class=\"text\"><h2><a href=\"{}\">{}</a></h2>\
         <p class=\"meta\">{}</p>{summary}</div></li>\n",
        esc(&e.page_url(config)),
        esc(&text.title),
        meta.join(" · "),
    )
}

/// The first configured category an entry is in: its feed and title.
fn first_category<'a>(
    config: &'a Config,
    feeds: &'a [FeedInfo],
    e: &Entry,
) -> Option<(&'a FeedInfo, &'a str)> {
    let i = e.category_feeds().next()?;
    Some((feeds.get(i)?, config.categories.get(i - 1)?.title.as_str()))
}

/// Links to the latest stories and to the page of older ones.
fn pager(config: &Config, page_lang: &str, slug: &str, history: History) -> String {
    let mut links = Vec::new();
    if history.is_archive() {
        links.push(format!(
            "<a href=\"{}\">Latest stories</a>",
            esc(&config.url(&page_path(slug)))
        ));
    }
    if let Some(older) = history.prev() {
        links.push(format!(
            "<a rel=\"next\" href=\"{}\">Earlier stories</a>",
            esc(&config.url(&history_page_path(slug, older)))
        ));
    }
    match links.is_empty() {
        true => String::new(),
        false => format!(
            "<nav class=\"pager\" aria-label=\"More stories\"{}>{}</nav>\n",
            super::ui_lang(config, page_lang),
            links.join("")
        ),
    }
}

/// `/articles/{id}.html`: the article alone, readable: its image, body and
/// attachments, its categories, and the feeds to follow.
pub fn article(config: &Config, feeds: &[FeedInfo], e: &Entry, text: &ItemText) -> Vec<u8> {
    let lang = item_language(config, e, text);
    // The site's own words, marked when the article is in another language.
    let ui = super::ui_lang(config, lang);
    let mut meta = Vec::new();
    if let Some(author) = &text.author {
        meta.push(format!(
            "<span{ui}>By</span> <span class=\"author\">{}</span>",
            esc(author)
        ));
    }
    if let Some(d) = &text.dateline {
        meta.push(format!("{} ({})", esc(&d.city), esc(&d.agency)));
    }
    meta.push(time(config, e.published));
    let mut main = format!(
        "<article>\n<h1>{}</h1>\n<p class=\"meta\">{}</p>\n",
        esc(&text.title),
        meta.join(" · ")
    );
    if let Some(img) = &text.image {
        main.push_str(&format!(
            "<figure><img src=\"{}\" alt=\"{}\">",
            esc(&img.url),
            esc(&img.alt)
        ));
        if !img.alt.is_empty() {
            main.push_str(&format!("<figcaption>{}</figcaption>", esc(&img.alt)));
        }
        main.push_str("</figure>\n");
    }
    main.push_str(&text.html);
    main.push('\n');
    for enc in &text.enclosures {
        main.push_str(&attachment(enc));
    }
    let in_feeds: Vec<&FeedInfo> = e.category_feeds().filter_map(|f| feeds.get(f)).collect();
    let categories: Vec<String> = e
        .category_feeds()
        .filter_map(|f| Some((feeds.get(f)?, config.categories.get(f - 1)?)))
        .map(|(feed, c)| {
            format!(
                "<a href=\"{}\">{}</a>",
                esc(&config.url(&page_path(&feed.slug))),
                esc(&c.title)
            )
        })
        .collect();
    if !categories.is_empty() {
        main.push_str(&format!(
            "<p class=\"meta\"><span{ui}>Filed under</span> {}</p>\n",
            categories.join(", ")
        ));
    }
    main.push_str("</article>\n");
    let mut head = format!(
        "<link rel=\"canonical\" href=\"{}\">\n",
        esc(&e.link(config, text))
    );
    let mut shown = in_feeds.clone();
    shown.extend(feeds.first());
    for feed in &shown {
        head.push_str(&alternates(config, feed));
    }
    Shell {
        config,
        lang,
        title: &text.title,
        head,
        feeds,
        main,
        aside: subscribe(config, lang, &shown, false),
    }
    .render()
}

/// A player (audio, video) or a link for an attachment, with its type and
/// size when known.
fn attachment(enc: &crate::model::Enclosure) -> String {
    let url = esc(&enc.url);
    let player = match crate::render::doc::medium(&enc.mime) {
        "audio" => format!("<audio controls preload=\"none\" src=\"{url}\"></audio>"),
        "video" => format!("<video controls preload=\"none\" src=\"{url}\"></video>"),
        _ => String::new(),
    };
    let size = enc
        .length
        .map_or_else(String::new, |l| format!(", {}", human_size(l)));
    let name = enc.url.rsplit('/').next().unwrap_or(&enc.url);
    format!(
        "<p class=\"attachment\">{player}<a href=\"{url}\" type=\"{}\">{}</a> ({}{size})</p>\n",
        esc(&enc.mime),
        esc(name),
        esc(&enc.mime)
    )
}

fn human_size(bytes: u64) -> String {
    match bytes {
        b if b >= 1 << 20 => format!("{:.1} MB", b as f64 / (1u64 << 20) as f64),
        b if b >= 1 << 10 => format!("{} KB", b >> 10),
        b => format!("{b} bytes"),
    }
}
