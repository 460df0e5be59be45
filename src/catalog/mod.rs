//! Every article, indexed: its identity, its feeds, kept in feed order
//! (newest `published` first, ties by GUID), and the problems of the files
//! that are not articles.
//!
//! The catalog is fed batches of `Change`s (from the start-up scan or
//! the watcher) and answers which feeds a batch touched, so only those are
//! rendered again. `identity` holds the rules that make GUIDs and dates
//! stable, `state` the store that remembers them across restarts,
//! `texts` the texts of the shown articles, `archive` which articles each
//! RFC 5005 archive page holds (`archive_log` remembers them), and `files` turns files into changes.

mod archive;
mod archive_log;
mod files;
mod identity;
mod index;
mod state;
mod texts;

pub use archive_log::{Archives, PageMeta, PageWork};
pub use files::{load, read_article, read_change};
pub use index::{feed_list, Catalog};
pub use state::{StateError, StateStore};
pub(crate) use texts::load_text;
