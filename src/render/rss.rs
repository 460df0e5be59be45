//! RSS 2.0 with the `content`, `dc` and `atom` extensions.

use std::collections::BTreeMap;

use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::{CategoryBuilder, ChannelBuilder, GuidBuilder, ItemBuilder};

use super::{item_categories, FeedDoc, FeedFormat};

pub fn render(doc: &FeedDoc) -> Vec<u8> {
    let config = doc.config;
    let items = doc
        .items
        .iter()
        .zip(doc.bodies)
        .map(|(e, body)| {
            let a = &e.article;
            ItemBuilder::default()
                .title(Some(a.title.clone()))
                .link(Some(e.link.clone()))
                .guid(Some(
                    GuidBuilder::default()
                        .value(e.guid.clone())
                        .permalink(e.guid == e.link)
                        .build(),
                ))
                .pub_date(Some(e.published.to_rfc2822()))
                .description(Some(a.summary.clone()))
                .content(Some(body.to_string()))
                .categories(
                    item_categories(config, e)
                        .into_iter()
                        .map(|name| CategoryBuilder::default().name(name).build())
                        .collect::<Vec<_>>(),
                )
                // RSS `<author>` must be an e-mail address; a name goes in dc:creator.
                .dublin_core_ext(a.author.as_ref().map(|name| DublinCoreExtension {
                    creators: vec![name.clone()],
                    ..Default::default()
                }))
                .build()
        })
        .collect::<Vec<_>>();
    let self_link = Link {
        href: doc.url(FeedFormat::Rss),
        rel: "self".into(),
        mime_type: Some(FeedFormat::Rss.mime().into()),
        ..Default::default()
    };
    let last = (!doc.items.is_empty()).then(|| doc.updated().to_rfc2822());
    let channel = ChannelBuilder::default()
        .title(doc.info.title.clone())
        .link(doc.home_url())
        .description(doc.info.description.clone())
        .language(Some(config.site.language.clone()))
        .ttl(Some(config.feeds.ttl.to_string()))
        .generator(Some("wirefeed".to_string()))
        .pub_date(last.as_ref().map(|_| doc.published().to_rfc2822()))
        .last_build_date(last)
        .atom_ext(Some(AtomExtension {
            links: vec![self_link],
        }))
        .namespaces(BTreeMap::new())
        .items(items)
        .build();
    let mut out = channel.write_to(Vec::new()).unwrap_or_default();
    out.push(b'\n');
    out
}
