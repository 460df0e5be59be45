//! All article-file I/O, and nothing else: which paths hold articles and
//! the key each is known by ([`keys`]), reading a file's bytes ([`read`]),
//! walking the tree ([`walk`]), what a changed path is now ([`look`]),
//! and the whole tree read in one pipeline ([`scan`]). Parsing those bytes
//! is `parse`'s; the catalog hands this module its parser.

pub mod keys;
pub mod look;
pub mod read;
pub mod scan;
pub mod walk;

pub use keys::{
    article_format, in_hidden_folder, is_article_path, is_ignored, is_inside, relative_key,
};
pub use look::{look, Looked};
pub use read::{read_file, FileRead};
pub use scan::scan;
pub use walk::{article_files, list_articles};
