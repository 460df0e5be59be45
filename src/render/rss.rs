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
        .zip(doc.texts)
        .map(|(e, text)| {
            let link = e.link(config);
            ItemBuilder::default()
                .title(Some(e.title.to_string()))
                .guid(Some(
                    GuidBuilder::default()
                        .value(e.guid.to_string())
                        .permalink(*e.guid == link)
                        .build(),
                ))
                .link(Some(link))
                .pub_date(Some(e.published.to_rfc2822()))
                .description(Some(text.summary.clone()))
                .content(Some(text.html.clone()))
                .categories(
                    item_categories(config, e)
                        .into_iter()
                        .map(|name| CategoryBuilder::default().name(name).build())
                        .collect::<Vec<_>>(),
                )
                // RSS `<author>` must be an e-mail address; a name goes in dc:creator.
                .dublin_core_ext(e.author.as_ref().map(|name| DublinCoreExtension {
                    creators: vec![name.to_string()],
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
