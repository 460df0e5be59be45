//! Atom 1.0 (RFC 4287).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use atom_syndication::extension::{Extension, ExtensionMap};
use atom_syndication::{
    CategoryBuilder, ContentBuilder, Entry as AtomEntry, EntryBuilder, Feed, FeedBuilder,
    GeneratorBuilder, LinkBuilder, PersonBuilder, Text,
};

use super::doc::{
    author_parts, item_categories, text_as_html, FeedFormat, View, HISTORY_NAMESPACE,
};
use super::splice::{cut_out, fragment_capacity, Fragment, Skeleton};
use crate::config::Config;
use crate::model::{Entry, ItemText};

/// Entries are the feed's last children.
const TAIL: &[u8] = b"</feed>";

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
    let mut out = feed.write_to(Vec::new()).unwrap_or_default();
    out.push(b'\n');
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
        .lang(Some(config.site.language.clone()))
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
        .namespaces(match doc.history.is_archive() {
            true => BTreeMap::from([("fh".to_string(), HISTORY_NAMESPACE.to_string())]),
            false => BTreeMap::new(),
        })
        .extensions(archive_mark(doc))
        .generator(Some(GeneratorBuilder::default().value("wirefeed").build()))
        .build()
}

fn entry(config: &Config, e: &Entry, text: &ItemText) -> AtomEntry {
    EntryBuilder::default()
        .title(text_construct(&e.title))
        .id(e.guid.to_string())
        .updated(e.updated)
        .published(Some(e.published))
        .authors(
            e.author
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
        .links(vec![LinkBuilder::default()
            .href(e.link(config))
            .rel("alternate")
            .mime_type(Some("text/html".into()))
            .build()])
        .categories(
            item_categories(config, e)
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
    static EMPTY: LazyLock<Vec<u8>> =
        LazyLock::new(|| Feed::default().write_to(Vec::new()).unwrap_or_default());
    let written = Feed {
        entries: vec![entry(config, e, text)],
        ..Default::default()
    }
    .write_to(Vec::with_capacity(fragment_capacity(text)));
    match written {
        Ok(document) => {
            Fragment::from_document(FeedFormat::Atom, &document, |d| cut_out(d, &EMPTY, TAIL))
        }
        Err(e) => Fragment::Invalid(format!("not written: {e}")),
    }
}
