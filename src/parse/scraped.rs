//! The scraped news page layout (`.txt`):
//!
//! ```text
//! Title line
//! [Author ]Published May 14, 2024 | 02:10 PM
//! City, (Agency - Source - 14th May, 2024) First paragraph…
//! More paragraphs, one per line.
//! Recent Stories                      <- page chrome from here on
//! Related title…
//! More Stories From World             <- the article's category
//! -
//! Another title4 minutes ago
//! ```
//!
//! The chrome never reaches a feed; its markers come from `[parse]`.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

use super::context::{ParseContext, Parts};
use super::dates::{is_dateline_date, localize, parse_byline, parse_dateline_date, start_of_day};
use super::decode;
use crate::model::Reason;
use crate::model::{CategorySource, DateSource, Dateline};

/// `City, (inside) rest`; the inside must end in a date to be a dateline.
static DATELINE: LazyLock<Regex> = LazyLock::new(|| {
    // Anchored at the start and ending at the parenthesis: the paragraph
    // after it is not part of the match (it can be long). Each group can
    // only stop at one place (the first `,` / `)`), so the regex crate runs
    // it as a one-pass DFA; the lengths are checked after the match, as
    // counted repeats (`{1,80}`) of a Unicode class made the automaton too
    // big for that and sent every first paragraph to the backtracker.
    Regex::new(r"^(?P<city>[^,()]+),\s*\((?P<inside>[^()]+)\)").expect("regex")
});
/// A city and the inside of the parenthesis longer than this (in
/// characters) are a sentence, not a dateline.
const MAX_CITY_CHARS: usize = 80;
const MAX_INSIDE_CHARS: usize = 200;
/// Chrome rows: `-` separators and `<title><N> minutes ago`.
static CHROME_ROW: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^(?:-|.*\d+\s+(?:second|minute|hour|day|week)s?\s+ago)$").expect("regex")
});

pub fn parse(text: &str, ctx: &ParseContext) -> Result<Parts, Reason> {
    let mut lines = text.lines().map(str::trim).skip_while(|l| l.is_empty());
    let title = lines.next().ok_or(Reason::NoTitle)?.to_string();
    // Sized up front: a filtered iterator gives no size hint, and growing
    // the vector line by line (a realloc at each doubling) was a tenth of
    // reading an article in a burst. Lines of a page average well over 32
    // bytes (counting them exactly was a slower pass than the reallocs).
    let mut rest: Vec<&str> = Vec::with_capacity(text.len() / 32 + 16);
    rest.extend(lines.filter(|l| !l.is_empty()));

    let mut parts = Parts {
        title,
        ..Parts::default()
    };
    if let Some(first) = rest.first() {
        if let Some(byline) = parse_byline(first) {
            let byline = byline.map_err(Reason::BadDate)?;
            parts.author = byline.author;
            parts.date = Some((localize(byline.local, ctx.tz), DateSource::Byline));
            rest.remove(0);
        }
    }

    let (body, chrome) = rest.split_at(chrome_start(&rest, ctx));
    if let Some(category) = chrome
        .iter()
        .find_map(|l| strip_prefix_ci(l, &ctx.more_stories_prefix))
    {
        let category = category.trim();
        if !category.is_empty() {
            parts.categories.push(category.to_string());
            parts.category_source = Some(CategorySource::Page);
        }
    }

    // Borrowed from the file's text; only a dateline's paragraph is
    // rewritten, and dropped if the dateline was all of it (every other
    // line is trimmed and not empty already).
    let mut first = body.first().map(|&l| Cow::Borrowed(l));
    if let Some((dateline, day, text)) = body.first().and_then(|l| read_dateline(l)) {
        parts.dateline = Some(dateline);
        if parts.date.is_none() {
            let day = day.map_err(Reason::BadDate)?;
            parts.date = Some((start_of_day(day, ctx.tz), DateSource::Dateline));
        }
        first = (!text.is_empty()).then_some(Cow::Owned(text));
    }
    let others = body.get(1..).unwrap_or_default();
    // A reader of metadata only needs just "is there a body": the first
    // paragraph answers that, and the others are never looked at.
    let others = match (ctx.texts, &first) {
        (true, _) => others,
        (false, Some(_)) => &[],
        (false, None) => &others[..others.len().min(1)],
    };
    let paragraphs = || first.as_deref().into_iter().chain(others.iter().copied());
    if ctx.texts {
        parts.first_paragraph = paragraphs().next().unwrap_or_default().to_string();
    }

    // The escaped body: its text, a little more for entities, and the tags.
    let (count, size) = paragraphs().fold((0, 0), |(n, len), p| (n + 1, len + p.len()));
    let mut html = String::with_capacity(
        (size + size / 8 + 8 * count).min(ctx.max_content_bytes.saturating_add(64)),
    );
    for p in paragraphs() {
        if html.len() + p.len() > ctx.max_content_bytes {
            let room = ctx.max_content_bytes.saturating_sub(html.len());
            paragraph(&mut html, decode::truncate_bytes(p, room), "…");
            break;
        }
        paragraph(&mut html, p, "");
    }
    parts.content_html = html;
    Ok(parts)
}

/// Appends `<p>text…</p>`, the text escaped (`&`, `<`, `>`).
fn paragraph(html: &mut String, text: &str, tail: &str) {
    html.push_str("<p>");
    // pulldown-cmark's escaper (SSSE3 with its `simd` feature, on in
    // Cargo.toml; a byte table without): this runs over every body.
    let _ = pulldown_cmark_escape::escape_html_body_text(&mut *html, text);
    html.push_str(tail);
    html.push_str("</p>\n");
}

/// Where the chrome starts in the page's lines: at a `chrome_start` line or
/// a `More Stories From` line; without either, trailing `-` / `N minutes
/// ago` rows are still cut.
fn chrome_start(lines: &[&str], ctx: &ParseContext) -> usize {
    let start = lines.iter().position(|l| {
        ctx.chrome_start
            .iter()
            .any(|m| l.eq_ignore_ascii_case(m.trim()))
            || strip_prefix_ci(l, &ctx.more_stories_prefix).is_some()
    });
    let mut end = start.unwrap_or(lines.len());
    while end > 0 && is_chrome_row(lines[end - 1]) {
        end -= 1;
    }
    end
}

/// The test the regex makes, on the line that ends the body too: a long
/// paragraph, which the regex scanned whole. Every chrome row is `-` or
/// ends in `ago`, so a line that is neither is let go at once.
fn is_chrome_row(line: &str) -> bool {
    (line == "-" || line.ends_with("ago")) && CHROME_ROW.is_match(line)
}

fn strip_prefix_ci<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    let prefix = prefix.trim_start();
    if prefix.is_empty() || line.len() < prefix.len() || !line.is_char_boundary(prefix.len()) {
        return None;
    }
    line[..prefix.len()]
        .eq_ignore_ascii_case(prefix)
        .then(|| &line[prefix.len()..])
}

type DatelineRead = (Dateline, Result<chrono::NaiveDate, String>, String);

/// Splits `City, (Agency - Source - 14th May, 2024) text` into its parts.
/// `None`: the line does not start with a dateline.
fn read_dateline(line: &str) -> Option<DatelineRead> {
    let caps = DATELINE.captures(line)?;
    if caps["city"].chars().count() > MAX_CITY_CHARS
        || caps["inside"].chars().count() > MAX_INSIDE_CHARS
    {
        return None;
    }
    let inside: Vec<&str> = caps["inside"].split(" - ").map(str::trim).collect();
    let (Some(date), true) = (inside.last(), inside.len() >= 2) else {
        return None;
    };
    if !is_dateline_date(date) {
        return None;
    }
    let source = inside[1..inside.len() - 1].join(" - ");
    let dateline = Dateline {
        city: caps["city"].trim().to_string(),
        agency: inside[0].to_string(),
        source: (!source.is_empty()).then_some(source),
    };
    Some((
        dateline,
        parse_dateline_date(date),
        line[caps.get(0).map_or(0, |m| m.end())..]
            .trim()
            .to_string(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx() -> ParseContext {
        ParseContext::from_config(
            &crate::config::Config::from_str_with_env(
                "[site]\ntitle='t'\nbase_url='http://x'\ntimezone='Asia/Karachi'\n",
                std::path::Path::new("t.toml"),
                Vec::new(),
            )
            .expect("config"),
        )
    }

    #[test]
    fn chrome_is_cut_and_names_the_category() {
        let page = "Title\nA B Published May 1, 2024 | 01:00 PM\nCity, (APP - Wire - 1st May, 2024) Body one.\nBody two.\n\
                    Recent Stories\nOther story\nMore Stories From Business\n-\nSomething else4 minutes ago\n";
        let p = parse(page, &ctx()).expect("parses");
        assert_eq!(p.categories, vec!["Business"]);
        assert_eq!(p.content_html, "<p>Body one.</p>\n<p>Body two.</p>\n");
        let d = p.dateline.expect("dateline");
        assert_eq!(
            (d.city.as_str(), d.agency.as_str(), d.source.as_deref()),
            ("City", "APP", Some("Wire"))
        );
    }

    #[test]
    fn a_dateline_alone_on_its_line_is_no_paragraph() {
        let p = parse("T\nLahore, (APP - 2nd June, 2024)\nBody.\n", &ctx()).expect("parses");
        assert_eq!(p.dateline.expect("dateline").city, "Lahore");
        assert_eq!(p.content_html, "<p>Body.</p>\n");
        assert_eq!(p.first_paragraph, "Body.");
        // Nothing after the dateline: no body (the article is refused).
        let p = parse("T\nLahore, (APP - 2nd June, 2024)\n", &ctx()).expect("parses");
        assert_eq!(p.content_html, "");
    }

    #[test]
    fn trailing_chrome_rows_without_a_marker_are_cut() {
        let p = parse("T\nBody.\n-\nOther story14 minutes ago\n", &ctx()).expect("parses");
        assert_eq!(p.content_html, "<p>Body.</p>\n");
    }

    #[test]
    fn parenthesis_without_a_date_is_body_text() {
        let p = parse("T\nLondon, (not a dateline) really.\n", &ctx()).expect("parses");
        assert!(p.dateline.is_none());
        assert!(p.content_html.contains("London, (not a dateline)"));
    }

    #[test]
    fn a_dateline_is_short_a_sentence_with_a_parenthesis_is_not() {
        let line =
            |city: &str, inside: &str| format!("T\n{city}, ({inside} - 2nd June, 2024) Text.\n");
        // Counted in characters, not bytes: 80 Urdu letters are 160 bytes.
        let city = "ش".repeat(MAX_CITY_CHARS);
        let p = parse(&line(&city, "APP"), &ctx()).expect("parses");
        assert_eq!(p.dateline.expect("80 characters is a city").city, city);
        let p = parse(&line(&format!("{city}x"), "APP"), &ctx()).expect("parses");
        assert!(p.dateline.is_none(), "81 characters is not a city");

        let agency = "A".repeat(MAX_INSIDE_CHARS - " - 2nd June, 2024".len());
        let p = parse(&line("Lahore", &agency), &ctx()).expect("parses");
        assert_eq!(p.dateline.expect("200 characters inside").agency, agency);
        let p = parse(&line("Lahore", &format!("{agency}A")), &ctx()).expect("parses");
        assert!(
            p.dateline.is_none(),
            "201 characters inside is not a dateline"
        );
        assert!(p.content_html.starts_with("<p>Lahore, (AAA"));
    }
}
