//! JSON articles: one object with `title, author, published, category,
//! body` (or `content`, `html`) and optional `url, id, summary, tags`.

use serde_json::Value;

use super::context::{ParseContext, Parts};
use super::{markdown, meta};
use crate::model::Reason;

pub fn parse(text: &str, ctx: &ParseContext) -> Result<Parts, Reason> {
    // serde_json refuses nesting deeper than 128 levels: no stack overflow.
    let value: Value = serde_json::from_str(text).map_err(|e| Reason::BadJson(e.to_string()))?;
    let Value::Object(obj) = value else {
        return Err(Reason::BadJson("expected an object".into()));
    };
    let mut parts = Parts::default();
    meta::read(&obj, ctx, &mut parts, Reason::BadJson)?;
    let body = ["body", "content", "html", "content_html", "content_text"]
        .iter()
        .find_map(|k| obj.get(*k).and_then(Value::as_str))
        .unwrap_or_default();
    let (html, first) = markdown::body_html(body, looks_like_html(body), ctx);
    parts.content_html = html;
    parts.first_paragraph = first;
    Ok(parts)
}

/// Plain-text bodies are read as Markdown (paragraphs on blank lines).
fn looks_like_html(body: &str) -> bool {
    let t = body.trim_start();
    t.starts_with('<') && t.contains('>')
}
