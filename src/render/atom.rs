//! Atom 1.0 (RFC 4287).

use atom_syndication::{
    CategoryBuilder, ContentBuilder, EntryBuilder, FeedBuilder, GeneratorBuilder, LinkBuilder,
    PersonBuilder, Text,
};

use super::{item_categories, FeedDoc, FeedFormat};

pub fn render(doc: &FeedDoc) -> Vec<u8> {
    let config = doc.config;
    let entries = doc
        .items
        .iter()
        .zip(doc.texts)
        .map(|(e, text)| {
            EntryBuilder::default()
                .title(Text::plain(e.title.to_string()))
                .id(e.guid.to_string())
                .updated(e.updated)
                .published(Some(e.published))
                .authors(
                    e.author
                        .iter()
                        .map(|name| PersonBuilder::default().name(name.to_string()).build())
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
                .summary(Some(Text::plain(text.summary.clone())))
                .content(Some(
                    ContentBuilder::default()
                        .content_type(Some("html".into()))
                        .value(Some(text.html.clone()))
                        .build(),
                ))
                .build()
        })
        .collect::<Vec<_>>();
    let feed = FeedBuilder::default()
        .title(Text::plain(doc.info.title.clone()))
        .subtitle(Some(Text::plain(doc.info.description.clone())))
        .id(doc.url(FeedFormat::Atom))
        .updated(doc.updated())
        .lang(Some(config.site.language.clone()))
        // Every entry needs an author (RFC 4287 4.1.1): the site stands in.
        .authors(vec![PersonBuilder::default()
            .name(config.site.title.clone())
            .build()])
        .links(vec![
            LinkBuilder::default()
                .href(doc.url(FeedFormat::Atom))
                .rel("self")
                .mime_type(Some(FeedFormat::Atom.mime().into()))
                .build(),
            LinkBuilder::default()
                .href(doc.home_url())
                .rel("alternate")
                .mime_type(Some("text/html".into()))
                .build(),
        ])
        .generator(Some(GeneratorBuilder::default().value("wirefeed").build()))
        .entries(entries)
        .build();
    let mut out = feed.write_to(Vec::new()).unwrap_or_default();
    out.push(b'\n');
    out
}
