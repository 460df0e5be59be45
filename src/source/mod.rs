//! All article-file I/O, and nothing else: which paths hold articles and
//! the key each is known by (`keys`), reading a file's bytes (`read`),
//! walking the tree (`walk`), what a changed path is now (`look`),
//! and the whole tree read in one pipeline (`scan`). Parsing those bytes
//! is `parse`'s; the catalog hands this module its parser.

mod keys;
mod look;
pub(crate) mod read;
mod scan;
mod walk;

pub(crate) use keys::{article_format, is_article_path, is_ignored};
pub use keys::{in_hidden_folder, is_inside, key_in, relative_key};
pub(crate) use look::{look, Looked};
pub(crate) use read::{read_file, FileRead};
pub(crate) use scan::scan;
pub use walk::{article_files, list_articles, visible_files};
