//! The check no feed document is served or written without: well-formed
//! XML for RSS and Atom, valid JSON for JSON Feed.

use super::doc::FeedFormat;

/// Is this document what its format says?
pub fn check_document(format: FeedFormat, bytes: &[u8]) -> Result<(), String> {
    match format {
        FeedFormat::Json => serde_json::from_slice::<serde::de::IgnoredAny>(bytes)
            .map(|_| ())
            .map_err(|e| format!("not valid JSON: {e}")),
        FeedFormat::Rss | FeedFormat::Atom => check_xml(bytes),
    }
}

/// Checks that a rendered XML document is well-formed XML 1.0: one root,
/// every tag closed, every entity defined, every attribute once, and no
/// character XML forbids (roxmltree is a conforming non-validating parser).
pub fn check_xml(bytes: &[u8]) -> Result<(), String> {
    let text = std::str::from_utf8(bytes).map_err(|e| format!("not UTF-8: {e}"))?;
    let options = roxmltree::ParsingOptions {
        allow_dtd: false,
        ..Default::default()
    };
    roxmltree::Document::parse_with_options(text, options)
        .map(|_| ())
        .map_err(|e| format!("not well-formed XML: {e}"))
}
