//! RSS 2.0 with the `content`, `dc` and `atom` extensions.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use rss::extension::atom::{AtomExtension, Link};
use rss::extension::dublincore::DublinCoreExtension;
use rss::{CategoryBuilder, Channel, ChannelBuilder, GuidBuilder, Item, ItemBuilder};

use super::items::{cut_out, fragment_capacity, splice, Spliced};
use super::{item_categories, FeedDoc, FeedFormat};
use crate::article::ItemText;
use crate::catalog::Entry;
use crate::config::Config;

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
    ])
}

/// The channel with its items' bytes (each rendered once, on first use)
/// spliced in (`None` when the crate's output is not shaped as expected:
/// see [`render_whole`]).
pub fn spliced(doc: &FeedDoc) -> Option<Spliced> {
    let empty = channel(doc).write_to(Vec::new()).ok()?;
    splice(empty, TAIL, doc, FeedFormat::Rss)
}

/// The channel written with all its items by the `rss` crate alone: what
/// [`spliced`] falls back to, and what tests compare it with.
pub fn render_whole(doc: &FeedDoc) -> Vec<u8> {
    let mut channel = channel(doc);
    channel.set_items(
        doc.items
            .iter()
            .map(|i| item(doc.config, &i.entry, &i.text))
            .collect::<Vec<_>>(),
    );
    let mut out = channel.write_to(Vec::new()).unwrap_or_default();
    out.push(b'\n');
    out
}

/// The feed's channel, without items.
fn channel(doc: &FeedDoc) -> Channel {
    let config = doc.config;
    let self_link = Link {
        href: doc.url(FeedFormat::Rss),
        rel: "self".into(),
        mime_type: Some(FeedFormat::Rss.mime().into()),
        ..Default::default()
    };
    let last = (!doc.items.is_empty()).then(|| doc.updated().to_rfc2822());
    ChannelBuilder::default()
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
        .namespaces(namespaces())
        .build()
}

fn item(config: &Config, e: &Entry, text: &ItemText) -> Item {
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
}

/// The `<item>` element as the `rss` crate writes it inside a channel:
/// written in a bare channel and cut out of it.
pub fn item_fragment(config: &Config, e: &Entry, text: &ItemText) -> Option<Vec<u8>> {
    static EMPTY: LazyLock<Vec<u8>> = LazyLock::new(|| {
        ChannelBuilder::default()
            .namespaces(namespaces())
            .build()
            .write_to(Vec::new())
            .unwrap_or_default()
    });
    let document = ChannelBuilder::default()
        .namespaces(namespaces())
        .items(vec![item(config, e, text)])
        .build()
        .write_to(Vec::with_capacity(fragment_capacity(text)))
        .ok()?;
    cut_out(&document, &EMPTY, TAIL)
}
