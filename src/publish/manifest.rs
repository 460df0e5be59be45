//! What the store holds: each key's fingerprint as last uploaded, kept in
//! `state.dir/publish/` across runs, so a restart uploads only what
//! changed meanwhile and deletes only what is gone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The fingerprint of an object the store holds and the manifest did not
/// know of.
const UNKNOWN: u64 = 0;

/// Key → fingerprint ([`super::Object::fingerprint`]) of every object the
/// store was last known to hold.
#[derive(Debug, Default)]
pub struct Manifest {
    file: PathBuf,
    objects: BTreeMap<String, u64>,
    changed: bool,
}

impl Manifest {
    /// The manifest of target `url` under `state_dir` (empty if none yet,
    /// or unreadable: then everything is uploaded once more).
    pub fn load(state_dir: &Path, url: &str) -> Manifest {
        let name = format!("{:016x}.json", xxhash_rust::xxh3::xxh3_64(url.as_bytes()));
        let file = state_dir.join("publish").join(name);
        let objects = std::fs::read(&file)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok())
            .unwrap_or_default();
        Manifest {
            file,
            objects,
            changed: false,
        }
    }

    pub fn get(&self, key: &str) -> Option<u64> {
        self.objects.get(key).copied()
    }

    pub fn set(&mut self, key: String, fingerprint: u64) {
        self.changed |= self.objects.insert(key, fingerprint) != Some(fingerprint);
    }

    pub fn remove(&mut self, key: &str) {
        self.changed |= self.objects.remove(key).is_some();
    }

    /// Agrees with what the store holds: keys it does not hold (it lost
    /// them, or someone deleted them) are forgotten, so they are uploaded
    /// again; keys it holds that the manifest does not know (a lost state
    /// directory) are known, with no fingerprint: replaced if the tree has
    /// them, deleted if not.
    pub fn agree_with(&mut self, held: &std::collections::BTreeSet<String>) {
        let before = self.objects.len();
        self.objects.retain(|k, _| held.contains(k));
        self.changed |= self.objects.len() != before;
        for key in held.iter().filter(|k| super::object::is_tree_key(k)) {
            if !self.objects.contains_key(key) {
                self.objects.insert(key.clone(), UNKNOWN);
                self.changed = true;
            }
        }
    }

    pub fn keys(&self) -> impl Iterator<Item = &String> {
        self.objects.keys()
    }

    /// Writes the manifest if it changed (a temporary file renamed over
    /// it: a crash leaves the old one or the new one).
    pub fn save(&mut self) -> std::io::Result<()> {
        if !self.changed {
            return Ok(());
        }
        if let Some(dir) = self.file.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = self.file.with_extension("json.tmp");
        let bytes = serde_json::to_vec(&self.objects).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, bytes)?;
        std::fs::rename(&tmp, &self.file)?;
        self.changed = false;
        Ok(())
    }
}
