//! The metadata keys Markdown front matter (Hugo, Jekyll, Zola) and JSON
//! articles share, read from one JSON-like value so both formats agree.

use serde_json::{Map, Value};

use super::context::{ParseContext, Parts, RawEnclosure};
use super::dates::parse_date_str;
use crate::model::Reason;
use crate::model::{CategorySource, DateSource};

const DATE_KEYS: &[&str] = &[
    "date",
    "published",
    "date_published",
    "pubDate",
    "publishDate",
];
const UPDATED_KEYS: &[&str] = &["updated", "lastmod", "date_modified", "modified"];

/// Fills `parts` from a metadata object. `bad` builds the format's error.
pub fn read(
    obj: &Map<String, Value>,
    ctx: &ParseContext,
    parts: &mut Parts,
    bad: fn(String) -> Reason,
) -> Result<(), Reason> {
    if let Some(title) = obj.get("title") {
        parts.title = scalar(title).ok_or_else(|| bad("`title` must be text".into()))?;
    }
    parts.author = obj.get("author").and_then(author);
    if let Some((key, v)) = first(obj, DATE_KEYS) {
        let text = scalar(v).ok_or_else(|| bad(format!("`{key}` must be a date")))?;
        let parsed =
            parse_date_str(&text, ctx.tz).map_err(|e| Reason::BadDate(format!("`{key}`: {e}")))?;
        parts.date = Some((parsed, DateSource::FrontMatter));
    }
    if let Some((key, v)) = first(obj, UPDATED_KEYS) {
        let text = scalar(v).ok_or_else(|| bad(format!("`{key}` must be a date")))?;
        let parsed =
            parse_date_str(&text, ctx.tz).map_err(|e| Reason::BadDate(format!("`{key}`: {e}")))?;
        parts.updated = Some(parsed);
    }
    let taxonomy = obj.get("taxonomies").and_then(|t| t.get("categories"));
    let categories = [obj.get("categories"), obj.get("category"), taxonomy]
        .into_iter()
        .flatten()
        .flat_map(list)
        .collect::<Vec<_>>();
    if !categories.is_empty() {
        parts.categories = categories;
        parts.category_source = Some(CategorySource::FrontMatter);
    }
    parts.tags = [
        obj.get("tags"),
        obj.get("keywords"),
        obj.get("taxonomies").and_then(|t| t.get("tags")),
    ]
    .into_iter()
    .flatten()
    .flat_map(list)
    .collect();
    parts.summary = first(obj, &["summary", "description"]).and_then(|(_, v)| scalar(v));
    parts.draft = matches!(obj.get("draft"), Some(Value::Bool(true)))
        || matches!(obj.get("draft").and_then(Value::as_str), Some(s) if s.eq_ignore_ascii_case("true"))
        || matches!(obj.get("published"), Some(Value::Bool(false)));
    parts.id = first(obj, &["id", "guid"])
        .and_then(|(_, v)| scalar(v))
        .filter(|s| !s.trim().is_empty());
    parts.link = first(obj, &["link", "url"])
        .and_then(|(_, v)| scalar(v))
        .filter(|s| is_http_url(s));
    parts.image = image(obj);
    if let Some(v) = first(obj, &["enclosures", "enclosure", "attachments"]).map(|(_, v)| v) {
        // One that is not {url, type, length} (or a URL) is left out, and
        // said: the article stays.
        let (good, left_out) = enclosures(v);
        parts.enclosures = good;
        parts.enclosures_left_out = left_out;
    }
    parts.lang = first(obj, &["lang", "language"]).and_then(|(_, v)| scalar(v));
    Ok(())
}

/// `image: URL` with `image_alt`, or `image: {url|src, alt}`.
fn image(obj: &Map<String, Value>) -> Option<(String, Option<String>)> {
    let alt = obj.get("image_alt").and_then(scalar);
    match obj.get("image")? {
        Value::String(url) => Some((url.clone(), alt)),
        Value::Object(o) => {
            let url = ["url", "src"]
                .iter()
                .find_map(|k| o.get(*k).and_then(scalar))?;
            Some((url, o.get("alt").and_then(scalar).or(alt)))
        }
        _ => None,
    }
}

/// A list of `{url, type, length}` (JSON Feed's `mime_type` and
/// `size_in_bytes` too), or a single one, or a bare URL; and how many
/// items were not that shape.
fn enclosures(v: &Value) -> (Vec<RawEnclosure>, usize) {
    let one = |v: &Value| -> Option<RawEnclosure> {
        match v {
            Value::String(url) => Some((url.clone(), None, None)),
            Value::Object(o) => {
                let url = o.get("url").and_then(scalar)?;
                let mime = ["type", "mime_type"]
                    .iter()
                    .find_map(|k| o.get(*k).and_then(scalar));
                let length = ["length", "size_in_bytes"]
                    .iter()
                    .find_map(|k| o.get(*k))
                    .and_then(|l| match l {
                        Value::Number(n) => n.as_u64(),
                        Value::String(s) => s.trim().parse().ok(),
                        _ => None,
                    });
                Some((url, mime, length))
            }
            _ => None,
        }
    };
    let items: Vec<&Value> = match v {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let good: Vec<RawEnclosure> = items.iter().filter_map(|v| one(v)).collect();
    let left_out = items.len() - good.len();
    (good, left_out)
}

fn first<'a>(
    obj: &'a Map<String, Value>,
    keys: &[&'static str],
) -> Option<(&'static str, &'a Value)> {
    // `published: false` is Jekyll's draft flag, not a date.
    keys.iter().find_map(|k| {
        obj.get(*k)
            .filter(|v| !v.is_null() && !v.is_boolean())
            .map(|v| (*k, v))
    })
}

/// Text from a string or a number.
fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// `"Name"`, `{name: "Name"}`, or a list of either (first wins).
fn author(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("name").and_then(scalar),
        Value::Array(a) => a.iter().find_map(author),
        _ => None,
    }
}

/// A list of names, or one name (`"World"` or `"World, Asia"` stay one).
fn list(v: &Value) -> Vec<String> {
    match v {
        Value::Array(a) => a.iter().filter_map(scalar).collect::<Vec<_>>(),
        other => scalar(other).into_iter().collect(),
    }
    .into_iter()
    .map(|s| s.trim().to_string())
    .filter(|s| !s.is_empty())
    .collect()
}

/// Only absolute http(s) URLs become links: no `javascript:` item links.
pub fn is_http_url(s: &str) -> bool {
    url::Url::parse(s.trim()).is_ok_and(|u| matches!(u.scheme(), "http" | "https"))
}
