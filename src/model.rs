//! The data passed between the stages: what a parser makes of a file
//! ([`Article`]), what the source reports about a path ([`Change`]), what
//! the catalog keeps of each article ([`Entry`]) and the feeds it serves
//! ([`FeedInfo`]).

use std::path::PathBuf;
use std::sync::Arc;

use chrono::{DateTime, FixedOffset};
use serde::Serialize;

use crate::config::Config;

/// A file that is not (or not yet) an article, and why.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct ParseError {
    pub path: PathBuf,
    pub reason: Reason,
}

#[derive(Debug, thiserror::Error)]
pub enum Reason {
    #[error("cannot read: {0}")]
    Io(#[from] std::io::Error),
    #[error("not a regular file")]
    NotAFile,
    #[error("file is {size} bytes, over the {max}-byte limit (articles.max_file_bytes)")]
    TooLarge { size: u64, max: u64 },
    #[error("empty file")]
    Empty,
    #[error("binary data, not text")]
    Binary,
    #[error("no title")]
    NoTitle,
    #[error("no body text")]
    NoBody,
    #[error("{0}")]
    BadDate(String),
    #[error("front matter: {0}")]
    BadFrontMatter(String),
    #[error("JSON: {0}")]
    BadJson(String),
    #[error("unsupported file extension (want .txt, .md, .markdown or .json)")]
    UnsupportedExtension,
}

/// The file format an article was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// A scraped news page (`.txt`): title, byline, dateline, body, chrome.
    Scraped,
    /// Markdown with YAML or TOML front matter.
    Markdown,
    Json,
}

/// Where an article's publication date came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DateSource {
    /// `Author Published May 14, 2024 | 02:10 PM`.
    Byline,
    /// `date`/`published` in front matter or a JSON article.
    FrontMatter,
    /// `City, (Agency - Source - 14th May, 2024)`: a date without a time.
    Dateline,
    /// The file's modification time (no date written anywhere).
    File,
}

/// Where an article's category names came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CategorySource {
    FrontMatter,
    /// `More Stories From <X>` in a scraped page's chrome.
    Page,
    /// The folders the file sits in, nearest first.
    Folder,
    None,
}

/// `Beijing, (APP - UrduPoint / Pakistan Point News - 14th May, 2024)`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Dateline {
    pub city: String,
    pub agency: String,
    pub source: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Article {
    /// Path relative to the articles directory, `/`-separated.
    pub path: String,
    pub format: Format,
    pub title: String,
    pub author: Option<String>,
    pub published: DateTime<FixedOffset>,
    pub date_source: DateSource,
    /// A later modification date written in the article itself.
    pub updated: Option<DateTime<FixedOffset>>,
    /// The file's modification time: when an edit is noticed, `updated`
    /// moves to it (so two servers over one directory agree).
    pub modified: DateTime<FixedOffset>,
    /// Category names in the order found; the catalog maps them to feeds.
    pub categories: Vec<String>,
    pub category_source: CategorySource,
    pub tags: Vec<String>,
    /// Plain text, cut on a word boundary. Like the other parts an item
    /// shows, not kept on a catalog [`Entry`]: see [`ItemText`].
    pub summary: String,
    /// Sanitized HTML.
    pub content_html: String,
    /// The article's own URL, if it names one.
    pub link: Option<String>,
    /// The article's own id, if it names one.
    pub id: Option<String>,
    pub dateline: Option<Dateline>,
    /// The article's image (front matter / JSON `image`, `image_alt`).
    pub image: Option<Image>,
    /// Attached media: podcasts, videos (front matter / JSON `enclosures`).
    pub enclosures: Vec<Enclosure>,
    /// The article's language (`lang`), when it names one.
    pub lang: Option<String>,
    /// xxh3 of the file's bytes: tells a real edit from a touch, and a
    /// renamed file from a new one.
    #[serde(serialize_with = "as_hex")]
    pub content_hash: u64,
    /// Things that were cleaned up while reading (control characters
    /// dropped, text cut at a limit...): reported, not fatal.
    pub warnings: Vec<String>,
}

/// The parts of an article only a feed item or its page shows: its
/// words, most of an article's size. The catalog keeps them for the items
/// the feeds show and reads them back from the file otherwise, so memory
/// grows with the feed windows, not with the archive.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ItemText {
    pub title: String,
    pub author: Option<String>,
    pub tags: Vec<String>,
    /// The article's own URL, if it names one.
    pub own_link: Option<String>,
    pub summary: String,
    /// Sanitized HTML.
    pub html: String,
    pub dateline: Option<Dateline>,
    pub image: Option<Image>,
    pub enclosures: Vec<Enclosure>,
    /// The article's own language; `None`: its feed's.
    pub lang: Option<String>,
}

/// An image shown with an article: an absolute http(s) URL and its
/// alternative text (empty when the article gives none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Image {
    pub url: String,
    pub alt: String,
}

/// A file attached to an article (a podcast episode, a video).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Enclosure {
    /// Absolute http(s) URL.
    pub url: String,
    /// Its media type (`audio/mpeg`), as given or from the file name.
    #[serde(rename = "type")]
    pub mime: String,
    /// Size in bytes, as given or read from the file under `media.dir`;
    /// `None` when neither says (never guessed).
    pub length: Option<u64>,
}

impl Article {
    /// Moves the [`ItemText`] parts out, leaving them empty (the link is
    /// copied: it is also the article's identity).
    pub fn take_text(&mut self) -> ItemText {
        ItemText {
            title: std::mem::take(&mut self.title),
            author: self.author.take(),
            tags: std::mem::take(&mut self.tags),
            own_link: self.link.clone(),
            summary: std::mem::take(&mut self.summary),
            html: std::mem::take(&mut self.content_html),
            dateline: self.dateline.take(),
            image: self.image.take(),
            enclosures: std::mem::take(&mut self.enclosures),
            lang: self.lang.take(),
        }
    }
}

fn as_hex<S: serde::Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format!("{v:016x}"))
}

/// One article as the catalog places it. The catalog holds one for every
/// article in the archive, so it keeps only what places an item in its
/// feeds and names it; its words (title, author, summary, body...) are
/// kept for the items the feeds show and read back for the others
/// ([`ItemText`]).
#[derive(Debug, PartialEq, Serialize)]
pub struct Entry {
    /// Relative to the articles directory, `/`-separated: the catalog's key
    /// (one shared copy).
    pub path: Arc<str>,
    /// The URL id ([`Entry::id`]) when it is not the one its path gives
    /// ([`path_id`]): most are, and are not kept twice. A thin pointer, as
    /// it is nearly always `None`.
    #[serde(skip)]
    pub own_id: Option<Arc<String>>,
    pub guid: Guid,
    pub published: DateTime<FixedOffset>,
    pub updated: DateTime<FixedOffset>,
    /// Indexes into the catalog's feeds (0 is `all`).
    pub feeds: FeedSet,
    /// The file's content hash and the path's generation, which the state
    /// store remembers with the rest (see `catalog::identity`).
    pub content_hash: u64,
    pub generation: u32,
}

/// An entry as the catalog's indexes, the feeds' items and the article
/// pages share it. There is one per article in the archive: an `Arc`
/// without a weak count keeps it in the allocator's 128-byte size class.
pub type SharedEntry = triomphe::Arc<Entry>;

/// Entries found by their URL id: one pointer per article (the table
/// behind [`SharedIds`]). The id is the entry's own ([`Entry::id`]),
/// worked out again to compare, not kept beside it.
#[derive(Debug, Default)]
struct IdIndex {
    table: hashbrown::HashTable<SharedEntry>,
    hasher: foldhash::fast::FixedState,
}

impl IdIndex {
    fn hash(hasher: &foldhash::fast::FixedState, id: &str) -> u64 {
        std::hash::BuildHasher::hash_one(hasher, id)
    }

    fn get(&self, id: &str) -> Option<&SharedEntry> {
        self.table
            .find(Self::hash(&self.hasher, id), |e| e.id() == id)
    }

    /// Adds `entry`; returns the entry it replaces, which had its id.
    fn insert(&mut self, entry: SharedEntry) -> Option<SharedEntry> {
        let IdIndex { table, hasher } = self;
        let id = entry.id().into_owned();
        let hash = Self::hash(hasher, &id);
        let rehash = |e: &SharedEntry| Self::hash(hasher, &e.id());
        match table.entry(hash, |e| e.id() == id, rehash) {
            hashbrown::hash_table::Entry::Occupied(mut o) => {
                Some(std::mem::replace(o.get_mut(), entry))
            }
            hashbrown::hash_table::Entry::Vacant(v) => {
                v.insert(entry);
                None
            }
        }
    }

    fn remove(&mut self, id: &str) -> Option<SharedEntry> {
        let hash = Self::hash(&self.hasher, id);
        let found = self.table.find_entry(hash, |e| e.id() == id).ok()?;
        Some(found.remove().0)
    }

    fn iter(&self) -> impl Iterator<Item = &SharedEntry> {
        self.table.iter()
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.table.len()
    }
}

/// The one id index of a catalog, shared with the site that serves its
/// article pages: the catalog changes it as it takes changes in, the site
/// only looks entries up. One table for both (a pointer per article,
/// several megabytes at a large archive).
#[derive(Debug, Clone, Default)]
pub struct SharedIds(Arc<std::sync::RwLock<IdIndex>>);

impl SharedIds {
    fn read(&self) -> std::sync::RwLockReadGuard<'_, IdIndex> {
        // The index is changed in place by single inserts and removals: a
        // panic elsewhere cannot leave it half changed.
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, IdIndex> {
        self.0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn get(&self, id: &str) -> Option<SharedEntry> {
        self.read().get(id).cloned()
    }

    /// Adds `entry`, in place of the entry that had its id.
    pub fn insert(&self, entry: SharedEntry) {
        self.write().insert(entry);
    }

    /// Removes the entry `id` names if it is the one at `path`.
    pub fn remove_at(&self, id: &str, path: &str) {
        let mut ids = self.write();
        if ids.get(id).is_some_and(|e| *e.path == *path) {
            ids.remove(id);
        }
    }

    /// The page key (`articles/<id>.html`) of every entry.
    pub fn page_keys(&self) -> Vec<String> {
        self.read().iter().map(|e| page_key(&e.id())).collect()
    }
}

/// An article's GUID. Most are the `urn:uuid:` names wirefeed derives
/// (see `catalog::identity`): those are kept as their 16 bytes, not as
/// 45 bytes of text in an allocation of their own. The text of a GUID is
/// its identity: `Uuid` holds exactly the texts `urn:uuid:` followed by a
/// lowercase hyphenated UUID, `Text` every other.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Guid {
    Uuid(uuid::Uuid),
    Text(Arc<str>),
}

impl Guid {
    const URN: &'static str = "urn:uuid:";

    pub fn new(text: &str) -> Self {
        // 36 characters parse only as the hyphenated form; lowercase is
        // how `with_str` writes it back.
        let uuid = text
            .strip_prefix(Self::URN)
            .filter(|rest| rest.len() == 36 && !rest.bytes().any(|b| b.is_ascii_uppercase()))
            .and_then(|rest| uuid::Uuid::try_parse(rest).ok());
        match uuid {
            Some(uuid) => Guid::Uuid(uuid),
            None => Guid::Text(text.into()),
        }
    }

    /// Calls `f` with the GUID's text, built on the stack for a `Uuid`.
    pub fn with_str<R>(&self, f: impl FnOnce(&str) -> R) -> R {
        match self {
            Guid::Text(text) => f(text),
            Guid::Uuid(uuid) => {
                let mut buf = [0u8; 45];
                buf[..9].copy_from_slice(Self::URN.as_bytes());
                let len = 9 + uuid.hyphenated().encode_lower(&mut buf[9..]).len();
                // Both parts are ASCII.
                f(std::str::from_utf8(&buf[..len]).unwrap_or_default())
            }
        }
    }
}

impl std::fmt::Display for Guid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.with_str(|text| f.write_str(text))
    }
}

/// By text, as feeds order ties.
impl Ord for Guid {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self, other) {
            // Lowercase hex sorts as the bytes it stands for.
            (Guid::Uuid(a), Guid::Uuid(b)) => a.cmp(b),
            (Guid::Text(a), Guid::Text(b)) => a.cmp(b),
            _ => self.with_str(|a| other.with_str(|b| a.cmp(b))),
        }
    }
}

impl PartialOrd for Guid {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Serialize for Guid {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Guid {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Ok(Guid::new(&text))
    }
}

/// The feeds an entry is in, as indexes into the catalog's feeds: `all`
/// and a category or two inline, any more in a box. There is one per
/// article in the archive, so it takes 16 bytes.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedSet {
    /// How many of `head` are set.
    len: u16,
    head: [u16; 3],
    /// Those after `head`: a thin pointer, which the type's size depends on.
    #[allow(clippy::box_collection)]
    rest: Option<Box<Vec<u16>>>,
}

impl FeedSet {
    /// Adds `feed` at the end.
    pub fn push(&mut self, feed: u16) {
        match self.head.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = feed;
                self.len += 1;
            }
            None => self.rest.get_or_insert_default().push(feed),
        }
    }

    pub fn contains(&self, feed: u16) -> bool {
        self.iter().any(|f| f == feed)
    }

    /// In the order added.
    pub fn iter(&self) -> impl Iterator<Item = u16> + '_ {
        let head = &self.head[..usize::from(self.len)];
        let rest = self.rest.as_deref().map_or(&[][..], Vec::as_slice);
        head.iter().chain(rest).copied()
    }
}

impl FromIterator<u16> for FeedSet {
    fn from_iter<I: IntoIterator<Item = u16>>(feeds: I) -> Self {
        let mut set = FeedSet::default();
        for feed in feeds {
            set.push(feed);
        }
        set
    }
}

impl Serialize for FeedSet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

impl Entry {
    /// The article's own URL (from its `text`), else its page on this site.
    pub fn link(&self, config: &Config, text: &ItemText) -> String {
        match &text.own_link {
            Some(link) => link.clone(),
            None => self.page_url(config),
        }
    }

    /// The feeds it is in, as indexes into the catalog's feeds.
    pub fn feed_indexes(&self) -> impl Iterator<Item = usize> + '_ {
        self.feeds.iter().map(usize::from)
    }

    /// The feeds of its configured categories (all but `all`, index 0):
    /// category `i` is feed `i + 1`.
    pub fn category_feeds(&self) -> impl Iterator<Item = usize> + '_ {
        self.feed_indexes().filter(|&f| f > 0)
    }

    /// URL-safe id: the page is `/articles/{id}`.
    pub fn id(&self) -> std::borrow::Cow<'_, str> {
        match &self.own_id {
            Some(id) => std::borrow::Cow::Borrowed(id),
            None => std::borrow::Cow::Owned(path_id(&self.path)),
        }
    }

    /// What an entry at `path` keeps of `id` ([`Entry::own_id`]).
    pub fn own_id(path: &str, id: &str) -> Option<Arc<String>> {
        (id != path_id(path)).then(|| Arc::new(id.to_owned()))
    }

    /// The article's page on this site: `articles/{id}.html`, a file by
    /// that exact name in `build --out`, so the links work on any static
    /// host.
    pub fn page_url(&self, config: &Config) -> String {
        config.url(&format!("articles/{}.html", encode_id(&self.id())))
    }

    /// The file `build` writes the page to, under its output directory:
    /// the id as it is (a static host decodes the URL's percent-encoding
    /// to find it).
    pub fn page_file(&self) -> String {
        page_key(&self.id())
    }
}

/// The URL id of `text`: its lowercase letters and digits joined by `-`
/// (empty when it has none).
pub fn id_text(text: &str) -> String {
    let mut id = String::with_capacity(text.len());
    for c in text.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            id.push(c);
        } else if !id.is_empty() && !id.ends_with('-') {
            id.push('-');
        }
    }
    let len = id.trim_end_matches('-').len();
    id.truncate(len);
    id
}

/// The URL id an article path gives (relative, `/`-separated): the
/// [`id_text`] of the path without its extension, `world/Putin Visit.txt`
/// → `world-putin-visit`.
pub fn path_id(path: &str) -> String {
    id_text(path.rsplit_once('.').map_or(path, |(stem, _)| stem))
}

/// The page of article `id` in the exported tree: `articles/<id>.html`
/// (the id as it is; its URL percent-encodes it, see [`Entry::page_url`]).
pub fn page_key(id: &str) -> String {
    format!("articles/{id}.html")
}

/// A feed wirefeed publishes: `all` or a configured category.
#[derive(Debug, Clone, Serialize)]
pub struct FeedInfo {
    pub slug: String,
    pub title: String,
    pub description: String,
    /// BCP 47 tag: the category's `language`, else `site.language`.
    pub language: String,
}

/// Is `lang` (a BCP 47 tag) written right to left? Arabic-script and
/// Hebrew-script languages, by primary subtag or script subtag.
pub fn is_rtl(lang: &str) -> bool {
    const RTL: &[&str] = &[
        "ar", "arc", "ckb", "dv", "fa", "he", "iw", "ks", "ku", "ps", "sd", "ug", "ur", "yi",
    ];
    let mut parts = lang.split('-');
    let primary = parts.next().unwrap_or("").to_ascii_lowercase();
    let script = parts.find(|p| p.len() == 4).map(str::to_ascii_lowercase);
    match script.as_deref() {
        Some("arab" | "hebr" | "syrc" | "thaa" | "nkoo" | "adlm" | "rohg") => true,
        Some(_) => false,
        None => RTL.contains(&primary.as_str()),
    }
}

/// Something that happened to one path under the articles directory.
#[derive(Debug)]
pub enum Change {
    /// The file was read: an article, a draft (`None`) or a problem.
    Parsed(String, Result<Option<Box<Article>>, ParseError>),
    Removed(String),
}

/// An article problem, for `check`, logs and metrics.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Problem {
    pub path: String,
    pub reason: String,
}

/// Ids may hold non-ASCII letters: percent-encode them for URLs. Every
/// render asks for every item's link, so the usual id (letters, digits,
/// `-`: nothing to encode) is returned as is.
pub fn encode_id(id: &str) -> std::borrow::Cow<'_, str> {
    if id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-') {
        return id.into();
    }
    percent_encoding::utf8_percent_encode(id, percent_encoding::NON_ALPHANUMERIC)
        .to_string()
        .replace("%2D", "-")
        .into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_guid_is_its_text_however_it_is_kept() {
        let texts = [
            "urn:uuid:48b24d91-fcc0-50e1-845d-51d9a5425286",
            "urn:uuid:48B24D91-FCC0-50E1-845D-51D9A5425286",
            "urn:uuid:48b24d91fcc050e1845d51d9a5425286",
            "urn:uuid:00000000-0000-0000-0000-000000000000",
            "urn:uuid:ffffffff-ffff-ffff-ffff-ffffffffffff",
            "urn:uuid:",
            "urn:uuid:a",
            "urn:uuid:48b24d91-fcc0-50e1-845d-51d9a5425286x",
            "https://news.test/world/story",
            "tag:news.test,2024:1",
        ];
        let guids: Vec<Guid> = texts.iter().map(|t| Guid::new(t)).collect();
        assert!(matches!(guids[0], Guid::Uuid(_)));
        assert!(matches!(guids[1], Guid::Text(_)), "kept as written");
        for (g, t) in guids.iter().zip(texts) {
            assert_eq!(g.to_string(), t);
            g.with_str(|s| assert_eq!(s, t));
            let json = serde_json::to_string(g).expect("json");
            assert_eq!(serde_json::from_str::<Guid>(&json).expect("back"), *g);
        }
        // Ordered, and equal, as their texts are.
        for (a, ta) in guids.iter().zip(texts) {
            for (b, tb) in guids.iter().zip(texts) {
                assert_eq!(a.cmp(b), ta.cmp(tb), "{ta} vs {tb}");
                assert_eq!(a == b, ta == tb);
            }
        }
    }

    /// An entry at `path` with URL id `id`, in `all` only.
    fn entry_at(path: &str, id: &str) -> Entry {
        Entry {
            path: path.into(),
            own_id: Entry::own_id(path, id),
            guid: Guid::new("g"),
            published: DateTime::UNIX_EPOCH.fixed_offset(),
            updated: DateTime::UNIX_EPOCH.fixed_offset(),
            feeds: FeedSet::from_iter([0]),
            content_hash: 0,
            generation: 0,
        }
    }

    #[test]
    fn a_feed_set_keeps_every_feed_in_order_past_the_inline_ones() {
        let feeds: FeedSet = [0, 3, 1, 7, 2].into_iter().collect();
        assert_eq!(feeds.iter().collect::<Vec<_>>(), [0, 3, 1, 7, 2]);
        assert!(feeds.contains(2) && feeds.contains(3) && !feeds.contains(4));
        assert_eq!(serde_json::to_string(&feeds).expect("json"), "[0,3,1,7,2]");
        let entry = SharedEntry::new(Entry {
            feeds,
            ..entry_at("world/a.txt", "world-a")
        });
        assert_eq!(entry.category_feeds().collect::<Vec<_>>(), [3, 1, 7, 2]);
    }

    #[test]
    fn an_entry_keeps_only_an_id_its_path_does_not_give_and_is_found_by_either() {
        let entry = |path: &str, id: &str| SharedEntry::new(entry_at(path, id));
        let derived = entry("world/Putin Visit.txt", "world-putin-visit");
        assert_eq!(derived.own_id, None);
        assert_eq!(derived.id(), "world-putin-visit");
        let unique = entry("world/putin-visit.md", "world-putin-visit-1a2b3c4d");
        assert_eq!(unique.id(), "world-putin-visit-1a2b3c4d");
        let urdu = entry("pakistan/خبر.txt", "اپنا");
        assert_eq!(urdu.id(), "اپنا");
        assert_eq!(entry("pakistan/خبر.txt", "pakistan-خبر").own_id, None);

        let mut index = IdIndex::default();
        for e in [&derived, &unique, &urdu] {
            index.insert(e.clone());
        }
        assert_eq!(index.len(), 3);
        assert_eq!(
            index.get("world-putin-visit").map(|e| &*e.path),
            Some("world/Putin Visit.txt")
        );
        assert_eq!(
            index.get("world-putin-visit-1a2b3c4d").map(|e| &*e.path),
            Some("world/putin-visit.md")
        );
        assert_eq!(
            index.get("اپنا").map(|e| &*e.path),
            Some("pakistan/خبر.txt")
        );
        assert!(index.get("world-putin").is_none());
        // Another entry with an id in the index takes its place.
        let moved = entry("world/putin visit.md", "world-putin-visit");
        let replaced = index.insert(moved);
        assert_eq!(
            replaced.map(|e| e.path.to_string()),
            Some("world/Putin Visit.txt".into())
        );
        assert_eq!(
            index.get("world-putin-visit").map(|e| &*e.path),
            Some("world/putin visit.md")
        );
        assert!(index.remove("world-putin-visit").is_some());
        assert!(index.get("world-putin-visit").is_none());
        assert_eq!(index.len(), 2);
    }

    #[test]
    fn an_item_link_is_its_page_with_the_id_percent_encoded() {
        let config = Config::from_str_with_env(
            "[site]\ntitle='t'\nbase_url='https://news.test/wire/'\ntimezone='UTC'\n",
            std::path::Path::new("t.toml"),
            Vec::new(),
        )
        .expect("config");
        let link = |id: &str, own: Option<&str>| {
            let entry = entry_at("a.txt", id);
            let text = ItemText {
                own_link: own.map(String::from),
                ..ItemText::default()
            };
            entry.link(&config, &text)
        };
        assert_eq!(
            link("world-putin-visit-2", None),
            "https://news.test/wire/articles/world-putin-visit-2.html"
        );
        assert_eq!(
            link("اردو-خبر", None),
            "https://news.test/wire/articles/%D8%A7%D8%B1%D8%AF%D9%88-%D8%AE%D8%A8%D8%B1.html"
        );
        assert_eq!(
            link("x", Some("https://example.com/s")),
            "https://example.com/s"
        );
    }
}
