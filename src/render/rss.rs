//! RSS 2.0 with the `content`, `dc` and `atom` extensions.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::extension::{Extension, ExtensionMap};
use rss::{
    CategoryBuilder, Channel, ChannelBuilder, EnclosureBuilder, GuidBuilder, Item, ItemBuilder,
};

use super::doc::{
    author_parts, item_categories, item_language, media_elements, media_map, text_as_html,
    FeedFormat, View, HISTORY_NAMESPACE, MEDIA_NAMESPACE,
};
use super::splice::{cut_out, fragment_capacity, Fragment, Skeleton};
use crate::config::Config;
use crate::model::{Entry, ItemText};

/// The `content` module's namespace (the `rss` crate has no constant).
const CONTENT_NAMESPACE: &str = "http://purl.org/rss/1.0/modules/content/";

/// Items are the channel's last children.
const TAIL: &[u8] = b"</channel></rss>";

/// Declared on every channel, used by its items or not, so that the
/// channel's start tag does not depend on its items (`rss` would declare
/// only those in use, see [`item_fragment`]).
fn namespaces() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("content".to_string(), CONTENT_NAMESPACE.to_string()),
        (
            "dc".to_string(),
            rss::extension::dublincore::NAMESPACE.to_string(),
        ),
        ("media".to_string(), MEDIA_NAMESPACE.to_string()),
    ])
}

/// The channel without its items, for them to be spliced in (`None` when
/// the crate's output is not shaped as expected: see [`render_whole`]).
pub fn skeleton(doc: &View) -> Option<Skeleton> {
    let empty = channel(doc).write_to(Vec::new()).ok()?;
    Skeleton::new(profile_escapes(&empty), TAIL, FeedFormat::Rss)
}

/// The channel written with all its items by the `rss` crate alone: what
/// the splicing falls back to, and what tests compare it with.
pub fn render_whole(doc: &View) -> Vec<u8> {
    let mut channel = channel(doc);
    channel.set_items(
        doc.items
            .iter()
            .map(|i| item(doc.config, i.entry, i.text))
            .collect::<Vec<_>>(),
    );
    let mut out = profile_escapes(&channel.write_to(Vec::new()).unwrap_or_default());
    out.push(b'\n');
    out
}

/// The feed's channel, without items.
fn channel(doc: &View) -> Channel {
    let config = doc.config;
    let self_link = Link {
        href: doc.self_url(FeedFormat::Rss),
        rel: "self".into(),
        mime_type: Some(FeedFormat::Rss.mime().into()),
        ..Default::default()
    };
    // WebSub (section 4): the hubs, beside the self link naming the topic.
    let hubs = doc.hubs().iter().map(|hub| Link {
        href: hub.to_string(),
        rel: "hub".into(),
        ..Default::default()
    });
    let history = doc
        .history_links(FeedFormat::Rss)
        .into_iter()
        .map(|(rel, href)| Link {
            href,
            rel: rel.into(),
            mime_type: Some(FeedFormat::Rss.mime().into()),
            ..Default::default()
        });
    let mut namespaces = namespaces();
    let mut extensions = ExtensionMap::new();
    if doc.history.is_archive() {
        namespaces.insert("fh".into(), HISTORY_NAMESPACE.into());
        let archive = rss::extension::Extension {
            name: "fh:archive".into(),
            ..Default::default()
        };
        extensions.insert(
            "fh".into(),
            BTreeMap::from([("archive".to_string(), vec![archive])]),
        );
    }
    let last = (!doc.items.is_empty()).then(|| doc.updated().to_rfc2822());
    ChannelBuilder::default()
        .title(doc.info.title.clone())
        .link(doc.home_url())
        .description(doc.info.description.clone())
        .language(Some(doc.info.language.clone()))
        .ttl(Some(config.feeds.ttl.to_string()))
        .generator(Some("wirefeed".to_string()))
        .pub_date(last.as_ref().map(|_| doc.published().to_rfc2822()))
        .last_build_date(last)
        .atom_ext(Some(AtomExtension {
            links: std::iter::once(self_link)
                .chain(hubs)
                .chain(history)
                .collect(),
        }))
        .namespaces(namespaces)
        .extensions(extensions)
        .build()
}

fn item(config: &Config, e: &Entry, text: &ItemText) -> Item {
    let link = e.link(config, text);
    let (author_email, creator) = match text.author.as_deref().map(author_parts) {
        Some((name, Some(email))) => (Some((name, email)), None),
        Some((name, None)) => (None, Some(name)),
        None => (None, None),
    };
    ItemBuilder::default()
        .title(Some(text.title.clone()))
        .guid(Some(
            GuidBuilder::default()
                .value(e.guid.to_string())
                .permalink(e.guid.with_str(|guid| guid == link))
                .build(),
        ))
        .link(Some(link))
        .pub_date(Some(e.published.to_rfc2822()))
        // RSS readers take `description` as HTML: the plain summary is
        // escaped, so that `<script>` in a story's text stays text.
        .description(Some(text_as_html(&text.summary)))
        .content(Some(text.html.clone()))
        .categories(
            item_categories(config, e, text)
                .into_iter()
                .map(|name| CategoryBuilder::default().name(name).build())
                .collect::<Vec<_>>(),
        )
        // RSS `<author>` is an e-mail address (the name after it); a name
        // alone goes in dc:creator. Never both (the same thing twice).
        .author(author_email.map(|(name, email)| format!("{email} ({name})")))
        .dublin_core_ext(Some(DublinCoreExtension {
            creators: creator.map(str::to_string).into_iter().collect(),
            languages: vec![item_language(config, e, text).to_string()],
            ..Default::default()
        }))
        // One `<enclosure>` (the RSS Profile: readers take only the
        // first); every attachment and the image as Media RSS. RSS
        // requires a length: 0 when the size is not known, as the RSS
        // Advisory Board says, never a guess.
        .enclosure(text.enclosures.first().map(|enc| {
            EnclosureBuilder::default()
                .url(enc.url.clone())
                .length(enc.length.unwrap_or(0).to_string())
                .mime_type(enc.mime.clone())
                .build()
        }))
        .extensions(media(text))
        .build()
}

/// `media:content` for the image and each enclosure, `media:thumbnail`
/// for the image (see [`media_elements`]).
fn media(text: &ItemText) -> ExtensionMap {
    let make = |name, value, attrs, children| Extension {
        name,
        value,
        attrs,
        children,
    };
    let elements = media_map(media_elements(text, true), &make);
    let mut map = ExtensionMap::new();
    if !elements.is_empty() {
        map.insert("media".into(), elements);
    }
    map
}

/// `xml` with `&` and `<` in text and attribute values written as the
/// character references `&#x26;` and `&#x3C;`, as the RSS Best Practices
/// Profile asks of plain text (readers that find `&lt;` in a title may
/// take it for HTML; the W3C validator warns). The same characters to any
/// XML parser. CDATA sections (the HTML fields) are copied as they are.
fn profile_escapes(xml: &[u8]) -> Vec<u8> {
    const CDATA_OPEN: &[u8] = b"<![CDATA[";
    const CDATA_CLOSE: &[u8] = b"]]>";
    let mut out = Vec::with_capacity(xml.len() + xml.len() / 32);
    let mut rest = xml;
    while !rest.is_empty() {
        let (text, cdata) = match find(rest, CDATA_OPEN) {
            Some(i) => {
                let end = find(&rest[i..], CDATA_CLOSE).map_or(rest.len(), |j| i + j + 3);
                (&rest[..i], &rest[i..end])
            }
            None => (rest, &rest[rest.len()..]),
        };
        let mut pieces = text.split(|&b| b == b'&');
        if let Some(first) = pieces.next() {
            out.extend_from_slice(first);
        }
        for piece in pieces {
            if let Some(after) = piece.strip_prefix(b"amp;") {
                out.extend_from_slice(b"&#x26;");
                out.extend_from_slice(after);
            } else if let Some(after) = piece.strip_prefix(b"lt;") {
                out.extend_from_slice(b"&#x3C;");
                out.extend_from_slice(after);
            } else {
                out.push(b'&');
                out.extend_from_slice(piece);
            }
        }
        out.extend_from_slice(cdata);
        rest = &rest[text.len() + cdata.len()..];
    }
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// The `<item>` element as the `rss` crate writes it inside a channel:
/// written in a bare channel, checked, and cut out of it.
pub fn item_fragment(config: &Config, e: &Entry, text: &ItemText) -> Fragment {
    static EMPTY: LazyLock<Vec<u8>> = LazyLock::new(|| {
        ChannelBuilder::default()
            .namespaces(namespaces())
            .build()
            .write_to(Vec::new())
            .unwrap_or_default()
    });
    let written = ChannelBuilder::default()
        .namespaces(namespaces())
        .items(vec![item(config, e, text)])
        .build()
        .write_to(Vec::with_capacity(fragment_capacity(text)));
    match written {
        Ok(document) => {
            Fragment::from_document(FeedFormat::Rss, &profile_escapes(&document), |d| {
                cut_out(d, &EMPTY, TAIL)
            })
        }
        Err(e) => Fragment::Invalid(format!("not written: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::profile_escapes;

    #[test]
    fn plain_text_takes_hex_references_and_cdata_is_left_alone() {
        let xml =
            b"<t a=\"x&amp;y\">R&amp;D &lt;b&gt; &quot;</t><d><![CDATA[a &amp; <b>]]></d>&amp;";
        assert_eq!(
            String::from_utf8_lossy(&profile_escapes(xml)),
            "<t a=\"x&#x26;y\">R&#x26;D &#x3C;b&gt; &quot;</t><d><![CDATA[a &amp; <b>]]></d>&#x26;"
        );
    }
}
