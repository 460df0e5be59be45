//! Markdown with YAML (`---`) or TOML (`+++`) front matter.
//!
//! Markdown is rendered by pulldown-cmark, which passes raw HTML through, so
//! every body (Markdown or HTML from JSON) is sanitized by ammonia: no
//! scripts, no event handlers, no `javascript:` URLs.

use pulldown_cmark::{Options, Parser};
use serde_json::Value;

use super::context::{ParseContext, Parts};
use super::{decode, meta};
use crate::model::Reason;

pub fn parse(text: &str, ctx: &ParseContext) -> Result<Parts, Reason> {
    let mut parts = Parts::default();
    let body = match split_front_matter(text)? {
        Some((fm, body)) => {
            let obj = match fm {
                FrontMatter::Yaml(y) => yaml_to_value(y)?,
                FrontMatter::Toml(t) => toml_to_value(t)?,
            };
            let Value::Object(obj) = obj else {
                return Err(Reason::BadFrontMatter("expected key: value pairs".into()));
            };
            meta::read(&obj, ctx, &mut parts, Reason::BadFrontMatter)?;
            body
        }
        None => {
            // No front matter: the first `# Heading` is the title.
            let (title, body) = heading_title(text);
            parts.title = title.unwrap_or_default();
            body
        }
    };
    let (html, first) = body_html(&body, false, ctx);
    parts.content_html = html;
    parts.first_paragraph = first;
    Ok(parts)
}

enum FrontMatter<'a> {
    Yaml(&'a str),
    Toml(&'a str),
}

/// Front matter and the body after it; `None` when the file has none.
fn split_front_matter(text: &str) -> Result<Option<(FrontMatter<'_>, String)>, Reason> {
    let text = text.trim_start_matches(['\u{feff}', '\n', '\r']);
    let (fence, yaml) = if text.starts_with("---") {
        ("---", true)
    } else if text.starts_with("+++") {
        ("+++", false)
    } else {
        return Ok(None);
    };
    let mut lines = text.split_inclusive('\n');
    let opening = lines.next().unwrap_or_default();
    if opening.trim_end() != fence {
        return Ok(None);
    }
    let start = opening.len();
    let mut offset = start;
    for line in lines {
        let trimmed = line.trim_end();
        if trimmed == fence || (yaml && trimmed == "...") {
            let fm = &text[start..offset];
            let body = text[offset + line.len()..].to_string();
            return Ok(Some((
                if yaml {
                    FrontMatter::Yaml(fm)
                } else {
                    FrontMatter::Toml(fm)
                },
                body,
            )));
        }
        offset += line.len();
    }
    Err(Reason::BadFrontMatter(format!("no closing `{fence}` line")))
}

/// YAML as a JSON value. serde-saphyr's default budget refuses alias bombs
/// ("billion laughs") and deep nesting instead of expanding them.
fn yaml_to_value(y: &str) -> Result<Value, Reason> {
    if y.trim().is_empty() {
        return Ok(Value::Object(Default::default()));
    }
    serde_saphyr::from_str::<Value>(y)
        .map_err(|e| Reason::BadFrontMatter(format!("YAML: {}", first_line(&e.to_string()))))
}

fn toml_to_value(t: &str) -> Result<Value, Reason> {
    let table: toml::Table = toml::from_str(t)
        .map_err(|e| Reason::BadFrontMatter(format!("TOML: {}", first_line(e.message()))))?;
    Ok(toml_json(toml::Value::Table(table)))
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or_default().to_string()
}

/// TOML dates become their RFC 3339 text, like YAML dates.
fn toml_json(v: toml::Value) -> Value {
    match v {
        toml::Value::String(s) => Value::String(s),
        toml::Value::Integer(i) => Value::from(i),
        toml::Value::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        toml::Value::Boolean(b) => Value::Bool(b),
        toml::Value::Datetime(d) => Value::String(d.to_string()),
        toml::Value::Array(a) => Value::Array(a.into_iter().map(toml_json).collect()),
        toml::Value::Table(t) => {
            Value::Object(t.into_iter().map(|(k, v)| (k, toml_json(v))).collect())
        }
    }
}

fn heading_title(text: &str) -> (Option<String>, String) {
    let mut title = None;
    let mut body = String::with_capacity(text.len());
    for line in text.lines() {
        match line.strip_prefix("# ") {
            Some(t) if title.is_none() => {
                title = Some(t.trim().trim_end_matches('#').trim().to_string())
            }
            _ => {
                body.push_str(line);
                body.push('\n');
            }
        }
    }
    (title, body)
}

/// Sanitized HTML and the plain text of its first paragraph. `is_html`:
/// the source is HTML already (JSON `body`), else Markdown.
pub fn body_html(src: &str, is_html: bool, ctx: &ParseContext) -> (String, String) {
    let src = decode::truncate_bytes(src, ctx.max_content_bytes);
    let raw = if is_html {
        src.to_string()
    } else {
        let mut out = String::with_capacity(src.len() * 3 / 2);
        pulldown_cmark::html::push_html(
            &mut out,
            Parser::new_ext(src, Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH),
        );
        out
    };
    // Markdown without raw HTML (no `<`) renders only tags the sanitizer
    // keeps, with nothing for it to drop: a reader of metadata only (which
    // needs just "is there a body") can skip it. Illegal XML characters (from
    // JSON escapes) still go through it, as html5ever rewrites some.
    let plain = !is_html && !src.contains('<') && decode::all_xml_text(src);
    if !ctx.texts && plain {
        return (raw, String::new());
    }
    let html = ctx.sanitizer.clean(&raw).to_string();
    let first = match ctx.texts {
        true => first_paragraph_text(&html, &ctx.plain_text),
        false => String::new(),
    };
    (html, first)
}

/// The text of the first non-empty `<p>` (or of the whole body if it has
/// none): ammonia with an empty allow-list strips the tags, quick-xml's
/// HTML5 entity table resolves the entities it leaves.
fn first_paragraph_text(html: &str, plain_text: &ammonia::Builder) -> String {
    let chunk = html
        .split("</p>")
        .map(|c| c.rsplit_once("<p>").map_or(c, |(_, p)| p))
        .find(|c| !c.trim().is_empty())
        .unwrap_or(html);
    let text = plain_text.clean(chunk).to_string();
    let text = quick_xml::escape::unescape_with(&text, quick_xml::escape::resolve_html5_entity)
        .map(|c| c.into_owned())
        .unwrap_or(text);
    decode::clean_xml_chars(&decode::squash_whitespace(&text))
}
