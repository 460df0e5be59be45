//! Atom 1.0 (RFC 4287).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use atom_syndication::extension::{Extension, ExtensionMap};
use atom_syndication::{
    CategoryBuilder, ContentBuilder, Entry as AtomEntry, EntryBuilder, Feed, FeedBuilder,
    GeneratorBuilder, LinkBuilder, PersonBuilder, Text,
};

use super::doc::{
    author_parts, item_categories, item_language, media_elements, media_map, text_as_html,
    FeedFormat, View, HISTORY_NAMESPACE, MEDIA_NAMESPACE,
};
use super::splice::{cut_out, fragment_capacity, Fragment, Skeleton};
use crate::config::Config;
use crate::model::{Entry, ItemText};

/// Entries are the feed's last children.
const TAIL: &[u8] = b"</feed>";

/// Declared on every feed, used by its entries or not, so that the feed's
/// start tag does not depend on its entries.
fn namespaces() -> BTreeMap<String, String> {
    BTreeMap::from([("media".to_string(), MEDIA_NAMESPACE.to_string())])
}

/// The feed without its entries, for them to be spliced in (`None` when
/// the crate's output is not shaped as expected: see [`render_whole`]).
pub fn skeleton(doc: &View) -> Option<Skeleton> {
    let empty = feed(doc).write_to(Vec::new()).ok()?;
    Skeleton::new(empty, TAIL, FeedFormat::Atom)
}

/// The feed written with all its entries by `atom_syndication` alone: what
/// the splicing falls back to, and what tests compare it with.
pub fn render_whole(doc: &View) -> Vec<u8> {
    let mut feed = feed(doc);
    feed.set_entries(
        doc.items
            .iter()
            .map(|i| entry(doc.config, i.entry, i.text))
            .collect::<Vec<_>>(),
    );
    let written = feed.write_to(Vec::new()).unwrap_or_default();
    let langs = doc
        .items
        .iter()
        .map(|i| item_language(doc.config, i.entry, i.text));
    let mut out = with_entry_langs(&written, langs);
    out.push(b'\n');
    out
}

/// `xml` with `xml:lang` on each `<entry>` start tag, in order
/// (`atom_syndication` has no per-entry language). The crate writes the
/// tag bare and escapes `<` in text and attributes, so each `<entry>` in
/// its output is an entry's start tag.
fn with_entry_langs<'a>(xml: &[u8], mut langs: impl Iterator<Item = &'a str>) -> Vec<u8> {
    const TAG: &[u8] = b"<entry>";
    let mut out = Vec::with_capacity(xml.len() + 64);
    let mut rest = xml;
    while let Some(i) = rest.windows(TAG.len()).position(|w| w == TAG) {
        out.extend_from_slice(&rest[..i]);
        match langs.next() {
            Some(lang) => {
                out.extend_from_slice(b"<entry xml:lang=\"");
                out.extend_from_slice(quick_xml::escape::escape(lang).as_bytes());
                out.extend_from_slice(b"\">");
            }
            None => out.extend_from_slice(TAG),
        }
        rest = &rest[i + TAG.len()..];
    }
    out.extend_from_slice(rest);
    out
}

/// The feed element, without entries.
fn feed(doc: &View) -> Feed {
    let config = doc.config;
    FeedBuilder::default()
        .title(text_construct(&doc.info.title))
        .subtitle(Some(text_construct(&doc.info.description)))
        .id(doc.url(FeedFormat::Atom))
        .updated(doc.updated())
        .lang(Some(doc.info.language.clone()))
        // Every entry needs an author (RFC 4287 4.1.1): the site stands in.
        .authors(vec![PersonBuilder::default()
            .name(config.site.title.clone())
            .build()])
        .links(
            [
                LinkBuilder::default()
                    .href(doc.self_url(FeedFormat::Atom))
                    .rel("self")
                    .mime_type(Some(FeedFormat::Atom.mime().into()))
                    .build(),
                LinkBuilder::default()
                    .href(doc.home_url())
                    .rel("alternate")
                    .mime_type(Some("text/html".into()))
                    .build(),
            ]
            .into_iter()
            // WebSub (section 4): the hubs, beside the self link.
            .chain(doc.hubs().iter().map(|hub| {
                LinkBuilder::default()
                    .href(hub.to_string())
                    .rel("hub")
                    .build()
            }))
            // RFC 5005: the archive pages around this document.
            .chain(
                doc.history_links(FeedFormat::Atom)
                    .into_iter()
                    .map(|(rel, href)| {
                        LinkBuilder::default()
                            .href(href)
                            .rel(rel)
                            .mime_type(Some(FeedFormat::Atom.mime().into()))
                            .build()
                    }),
            )
            .collect::<Vec<_>>(),
        )
        .namespaces({
            let mut ns = namespaces();
            if doc.history.is_archive() {
                ns.insert("fh".to_string(), HISTORY_NAMESPACE.to_string());
            }
            ns
        })
        .extensions(archive_mark(doc))
        .generator(Some(GeneratorBuilder::default().value("wirefeed").build()))
        .build()
}

fn entry(config: &Config, e: &Entry, text: &ItemText) -> AtomEntry {
    EntryBuilder::default()
        .title(text_construct(&text.title))
        .id(e.guid.to_string())
        .updated(e.updated)
        .published(Some(e.published))
        .authors(
            text.author
                .iter()
                .map(|author| {
                    let (name, email) = author_parts(author);
                    PersonBuilder::default()
                        .name(name.to_string())
                        .email(email.map(str::to_string))
                        .build()
                })
                .collect::<Vec<_>>(),
        )
        .links(
            std::iter::once(
                LinkBuilder::default()
                    .href(e.link(config, text))
                    .rel("alternate")
                    .mime_type(Some("text/html".into()))
                    .build(),
            )
            .chain(text.enclosures.iter().map(|enc| {
                LinkBuilder::default()
                    .href(enc.url.clone())
                    .rel("enclosure")
                    .mime_type(Some(enc.mime.clone()))
                    .length(enc.length.map(|l| l.to_string()))
                    .build()
            }))
            .collect::<Vec<_>>(),
        )
        .extensions(image(text))
        .categories(
            item_categories(config, e, text)
                .into_iter()
                .map(|term| CategoryBuilder::default().term(term).build())
                .collect::<Vec<_>>(),
        )
        .summary(Some(text_construct(&text.summary)))
        .content(Some(
            ContentBuilder::default()
                .content_type(Some("html".into()))
                .value(Some(text.html.clone()))
                .build(),
        ))
        .build()
}

/// The image as `media:thumbnail` and `media:content` (Media RSS in
/// Atom: Atom has no element of its own for it; see [`media_elements`]).
fn image(text: &ItemText) -> ExtensionMap {
    // `atom_syndication` writes extension attribute values as they are
    // (its text values it escapes): a URL's `&` must be escaped here.
    let make = |name, value, attrs: BTreeMap<String, String>, children| Extension {
        name,
        value,
        attrs: attrs
            .into_iter()
            .map(|(k, v)| (k, quick_xml::escape::escape(&v).into_owned()))
            .collect(),
        children,
    };
    let elements = media_map(media_elements(text, false), &make);
    let mut map = ExtensionMap::new();
    if !elements.is_empty() {
        map.insert("media".into(), elements);
    }
    map
}

/// `<fh:archive/>` on an archive page (RFC 5005 section 4).
fn archive_mark(doc: &View) -> ExtensionMap {
    let mut map = ExtensionMap::new();
    if doc.history.is_archive() {
        let mark = Extension {
            name: "fh:archive".into(),
            ..Default::default()
        };
        map.insert(
            "fh".into(),
            BTreeMap::from([("archive".to_string(), vec![mark])]),
        );
    }
    map
}

/// Plain text as an Atom text construct. Text with markup characters
/// goes as `type="html"` (escaped, so it displays as the same text):
/// as `type="text"`, validators take `<b>` or `&amp;` in it for HTML the
/// feed forgot to declare, and readers that guess do too.
fn text_construct(s: &str) -> Text {
    match s.contains(['<', '&']) {
        true => Text::html(text_as_html(s)),
        false => Text::plain(s),
    }
}

/// The `<entry>` element as `atom_syndication` writes it inside a feed
/// (without the namespace declaration a standalone entry carries): written
/// in a bare feed, checked, and cut out of it.
pub fn entry_fragment(config: &Config, e: &Entry, text: &ItemText) -> Fragment {
    static EMPTY: LazyLock<Vec<u8>> = LazyLock::new(|| {
        Feed {
            namespaces: namespaces(),
            ..Default::default()
        }
        .write_to(Vec::new())
        .unwrap_or_default()
    });
    let written = Feed {
        entries: vec![entry(config, e, text)],
        namespaces: namespaces(),
        ..Default::default()
    }
    .write_to(Vec::with_capacity(fragment_capacity(text)));
    match written {
        Ok(document) => {
            let lang = std::iter::once(item_language(config, e, text));
            let document = with_entry_langs(&document, lang);
            Fragment::from_document(FeedFormat::Atom, &document, |d| cut_out(d, &EMPTY, TAIL))
        }
        Err(e) => Fragment::Invalid(format!("not written: {e}")),
    }
}
