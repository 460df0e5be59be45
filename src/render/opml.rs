//! `feeds.opml`: every feed, for one-step import into a feed reader.

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use super::doc::{feed_path, FeedFormat};
use crate::config::Config;
use crate::model::FeedInfo;

pub fn render(config: &Config, feeds: &[FeedInfo]) -> Vec<u8> {
    let mut w = Writer::new_with_indent(Vec::new(), b' ', 2);
    // Writing to a Vec cannot fail; `write` keeps the `?`s in one place.
    let write = |w: &mut Writer<Vec<u8>>| -> std::io::Result<()> {
        w.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
        w.write_event(Event::Start(
            BytesStart::new("opml").with_attributes([("version", "2.0")]),
        ))?;
        w.write_event(Event::Start(BytesStart::new("head")))?;
        w.write_event(Event::Start(BytesStart::new("title")))?;
        w.write_event(Event::Text(BytesText::new(&config.site.title)))?;
        w.write_event(Event::End(BytesEnd::new("title")))?;
        w.write_event(Event::End(BytesEnd::new("head")))?;
        w.write_event(Event::Start(BytesStart::new("body")))?;
        for feed in feeds {
            let xml_url = config.url(&feed_path(&feed.slug, FeedFormat::Rss));
            let html_url = config.url(&crate::render::page_path(&feed.slug));
            w.write_event(Event::Empty(BytesStart::new("outline").with_attributes([
                ("type", "rss"),
                ("text", feed.title.as_str()),
                ("title", feed.title.as_str()),
                ("xmlUrl", xml_url.as_str()),
                ("htmlUrl", html_url.as_str()),
            ])))?;
        }
        w.write_event(Event::End(BytesEnd::new("body")))?;
        w.write_event(Event::End(BytesEnd::new("opml")))?;
        Ok(())
    };
    let _ = write(&mut w);
    let mut out = w.into_inner();
    out.push(b'\n');
    out
}
