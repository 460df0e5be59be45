//! The one change a stored archive page ever gets: its `next-archive`
//! link, once the page after it exists (a page's entries never change).

use super::check::check_document;
use super::doc::FeedFormat;

/// `document` (a stored RSS or Atom archive page) with a `next-archive`
/// link to `next` after its `current` link, written as its crate writes
/// links; `None` when the document has no such place or the result is not
/// well-formed. JSON Feed pages link only to older pages.
pub fn link_next_archive(format: FeedFormat, document: &[u8], next: &str) -> Option<Vec<u8>> {
    let (element, escaped) = match format {
        FeedFormat::Rss => (
            "atom:link",
            next.replace('&', "&#x26;").replace('<', "&#x3C;"),
        ),
        FeedFormat::Atom => ("link", quick_xml::escape::escape(next).into_owned()),
        FeedFormat::Json => return None,
    };
    let text = std::str::from_utf8(document).ok()?;
    let current = text.find(r#" rel="current""#)?;
    let end = current + text[current..].find("/>")? + 2;
    let link = format!(
        r#"<{element} href="{escaped}" rel="next-archive" type="{}"/>"#,
        format.mime()
    );
    if text.contains(r#"rel="next-archive""#) {
        return None;
    }
    let linked = [&text[..end], &link, &text[end..]].concat().into_bytes();
    check_document(format, &linked).ok()?;
    Some(linked)
}
