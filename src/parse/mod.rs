//! A file's bytes in, one `Article` (or the `Reason` it is not one)
//! out: a pure function of the bytes, the file's key and modification
//! time, and the config ([`parse_bytes`]); reading the file is `source`'s.
//!
//! The format is chosen by extension: `.txt` is a scraped news page
//! (`scraped`), `.md`/`.markdown` Markdown with front matter
//! (`markdown`), `.json` a JSON object (`json`). Every format fills the
//! same `Parts`; `finish` applies the shared rules (date and category
//! fallbacks, limits) so the formats cannot drift apart.

mod article;
mod context;
mod dates;
mod decode;
mod json;
mod markdown;
mod meta;
mod scraped;

pub use article::parse_bytes;
pub use context::ParseContext;
