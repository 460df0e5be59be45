//! Who an article is: its GUID, its URL id and its dates, the same on
//! every restart and every machine reading the same tree.
//!
//! - GUID: the article's own `id` (as is when it is a URI, else a UUIDv5 of
//!   it), else its own `url`, else a UUIDv5 of its path relative to the
//!   articles directory.
//! - With a state store: a path seen before keeps its GUID and, once it
//!   is out, its first `published` date (until then, a scheduled story's
//!   dates are its file's); `updated` moves (to the file's mtime) only when
//!   the bytes change; a file whose content matches one that just went away
//!   (rename, move) takes over its GUID, id and dates.

use std::sync::Arc;

use chrono::{DateTime, FixedOffset, Utc};

use super::index::Catalog;
use super::state::Record;
use crate::model::{Article, Guid};

/// Namespace for wirefeed's UUIDv5 GUIDs (a fixed random UUID).
const GUID_NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x3f0c_9a52_6b1e_4d27_9a4f_1c8e_5b2d_7e61);

/// What [`Catalog::identity`] assigns an article.
pub(super) struct Ids {
    pub(super) guid: Guid,
    pub(super) id: Arc<str>,
    pub(super) published: DateTime<FixedOffset>,
    pub(super) updated: DateTime<FixedOffset>,
    pub(super) generation: u32,
}

impl Catalog {
    /// GUID, id and dates for an article at `path`, from what is
    /// `stored` for the path (its entry's record, or the state store's)
    /// or, after a rename, the record of a vanished file with its content.
    pub(super) fn identity(&mut self, a: &Article, path: &Arc<str>, stored: Option<Record>) -> Ids {
        let fresh_updated = a.updated.unwrap_or(a.published);
        let mut renamed_from = None;
        let (remembered, generation) = match &stored {
            Some(rec) if rec.gone && rec.hash != a.content_hash => (None, rec.generation + 1),
            Some(rec) => (Some(rec.clone()), rec.generation),
            None => match self.state.gone_with_hash(a.content_hash) {
                Some((old_path, rec)) => {
                    renamed_from = Some(old_path.to_string());
                    (Some(rec.clone()), rec.generation)
                }
                None => (None, 0),
            },
        };
        let mut identity = match remembered {
            // Not out yet (a scheduled story moved earlier or later): the
            // file's dates hold. The clock, not the file's mtime, says so:
            // `touch -d` and `cp -p` set mtimes back.
            Some(rec) if rec.published > Utc::now() => Ids {
                guid: rec.guid,
                id: rec.id,
                published: a.published,
                updated: fresh_updated,
                generation,
            },
            Some(rec) => {
                let published = rec.published;
                let mut updated = rec.updated;
                if rec.hash != a.content_hash {
                    updated = updated.max(a.modified).max(fresh_updated);
                }
                Ids {
                    guid: rec.guid,
                    id: rec.id,
                    published,
                    updated,
                    generation,
                }
            }
            None => Ids {
                guid: derive_guid(a, generation),
                id: derive_id(a).into(),
                published: a.published,
                updated: fresh_updated,
                generation,
            },
        };
        // The article's own id or URL is authoritative over remembered ones.
        if a.id.is_some() || a.link.is_some() {
            identity.guid = derive_guid(a, 0);
        }
        if a.id.is_some() {
            identity.id = derive_id(a).into();
        }
        identity.id = self.unique_id(identity.id, path);
        if let Some(old_path) = renamed_from {
            // The record moves with the file.
            self.state.forget(&old_path);
        }
        let record = Record {
            guid: identity.guid.clone(),
            id: identity.id.clone(),
            published: identity.published,
            updated: identity.updated,
            hash: a.content_hash,
            gone: false,
            generation,
        };
        // A restart finds most records as they were: nothing to write.
        if stored.as_ref() != Some(&record) {
            self.state.put(path.clone(), record);
        }
        identity
    }

    fn unique_id(&self, id: Arc<str>, path: &str) -> Arc<str> {
        match self.ids.get(&id) {
            Some(other) if &*other.path != path => format!(
                "{id}-{:08x}",
                xxhash_rust::xxh3::xxh3_64(path.as_bytes()) as u32
            )
            .into(),
            _ => id,
        }
    }
}

fn derive_guid(a: &Article, generation: u32) -> Guid {
    if let Some(id) = &a.id {
        if url::Url::parse(id).is_ok() {
            return Guid::new(id);
        }
        return Guid::Uuid(uuid::Uuid::new_v5(
            &GUID_NAMESPACE,
            format!("id:{id}").as_bytes(),
        ));
    }
    if let Some(link) = &a.link {
        return Guid::new(link);
    }
    let name = if generation == 0 {
        format!("path:{}", a.path)
    } else {
        format!("path:{}#{generation}", a.path)
    };
    Guid::Uuid(uuid::Uuid::new_v5(&GUID_NAMESPACE, name.as_bytes()))
}

/// Lowercase letters and digits joined by `-`: `world/Putin Visit.txt` →
/// `world-putin-visit` (see [`crate::model::path_id`]).
fn derive_id(a: &Article) -> String {
    let id = match &a.id {
        Some(id) => crate::model::id_text(id),
        None => crate::model::path_id(&a.path),
    };
    if id.is_empty() {
        format!("a{:016x}", a.content_hash)
    } else {
        id
    }
}
