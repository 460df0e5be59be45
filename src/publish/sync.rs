//! One reconciliation of a store with a tree, for a set of keys: each
//! object compared with what the manifest says the store holds, uploaded
//! if it differs, deleted if it is gone. Pages, media and archive pages go
//! first, the documents that link to them (feeds, the index, category
//! pages) after, and only once those landed; deletions last, once every
//! upload did, so nothing the store serves points to a missing object.

use std::collections::BTreeSet;

use futures::stream::{self, StreamExt};
use object_store::{Attribute, Attributes, ObjectStoreExt, PutOptions, PutPayload};
use rayon::prelude::*;

use super::manifest::Manifest;
use super::object::{tier, Object};
use super::tree::Tree;
use super::Target;

/// Objects read from the tree at once (a full first run is not held in
/// memory whole).
const CHUNK: usize = 64;

/// What a reconciliation did.
#[derive(Debug, Default)]
pub struct Report {
    pub puts: usize,
    pub deletes: usize,
    pub unchanged: usize,
    /// Keys not reconciled (the store failed, or an object they depend on
    /// did not land), with the first error: to try again.
    pub failed: Vec<String>,
    pub error: Option<String>,
}

enum Outcome {
    Put(String, u64),
    Deleted(String),
    Failed(String, String),
}

/// Reconciles `keys` of `tree` with the store, `concurrency` requests at
/// a time, on `runtime`; the manifest is updated and saved as objects land.
pub fn sync(
    runtime: &tokio::runtime::Runtime,
    target: &Target,
    manifest: &mut Manifest,
    tree: &dyn Tree,
    keys: BTreeSet<String>,
    concurrency: usize,
) -> Report {
    let (first, then): (Vec<String>, Vec<String>) = keys.into_iter().partition(|k| tier(k) == 0);
    let mut report = Report::default();
    let mut gone = Vec::new();
    let run = Run {
        runtime,
        target,
        tree,
        concurrency,
    };
    run.uploads(first, manifest, &mut report, &mut gone);
    // What links to a page that did not land waits for it.
    if report.failed.is_empty() {
        run.uploads(then, manifest, &mut report, &mut gone);
    } else {
        report.failed.extend(then);
    }
    if report.failed.is_empty() {
        let outcomes = runtime.block_on(
            stream::iter(gone)
                .map(|key| delete(target, key))
                .buffer_unordered(concurrency)
                .collect::<Vec<_>>(),
        );
        record(outcomes, manifest, &mut report);
    } else {
        report.failed.extend(gone);
    }
    save(manifest, &mut report);
    report
}

/// One reconciliation's fixed parts.
struct Run<'a> {
    runtime: &'a tokio::runtime::Runtime,
    target: &'a Target,
    tree: &'a dyn Tree,
    concurrency: usize,
}

impl Run<'_> {
    /// Uploads what differs among `keys`, [`CHUNK`] at a time; the keys the
    /// tree no longer has and the store does go to `gone`.
    fn uploads(
        &self,
        keys: Vec<String>,
        manifest: &mut Manifest,
        report: &mut Report,
        gone: &mut Vec<String>,
    ) {
        for (n, chunk) in keys.chunks(CHUNK).enumerate() {
            let objects: Vec<(String, Option<Object>)> = chunk
                .par_iter()
                .map(|k| (k.clone(), self.tree.get(k)))
                .collect();
            let mut puts = Vec::new();
            for (key, object) in objects {
                match object {
                    // Not readable now, yet there: tried again later,
                    // never taken for gone.
                    None if self.tree.has(&key) => {
                        report.error.get_or_insert(format!("{key}: cannot be read"));
                        report.failed.push(key);
                    }
                    None if manifest.get(&key).is_some() => gone.push(key),
                    None => {}
                    Some(object) => {
                        let fingerprint = object.fingerprint();
                        match manifest.get(&key) == Some(fingerprint) {
                            true => report.unchanged += 1,
                            false => puts.push((key, object, fingerprint)),
                        }
                    }
                }
            }
            let outcomes = self.runtime.block_on(
                stream::iter(puts)
                    .map(|(key, object, fingerprint)| put(self.target, key, object, fingerprint))
                    .buffer_unordered(self.concurrency)
                    .collect::<Vec<_>>(),
            );
            record(outcomes, manifest, report);
            if n % 16 == 15 {
                save(manifest, report);
            }
        }
    }
}

fn record(outcomes: Vec<Outcome>, manifest: &mut Manifest, report: &mut Report) {
    for outcome in outcomes {
        match outcome {
            Outcome::Put(key, fingerprint) => {
                manifest.set(key, fingerprint);
                report.puts += 1;
            }
            Outcome::Deleted(key) => {
                manifest.remove(&key);
                report.deletes += 1;
            }
            Outcome::Failed(key, error) => {
                report.error.get_or_insert(error);
                report.failed.push(key);
            }
        }
    }
}

fn save(manifest: &mut Manifest, report: &mut Report) {
    if let Err(e) = manifest.save() {
        report
            .error
            .get_or_insert(format!("manifest not saved: {e}"));
    }
}

async fn put(target: &Target, key: String, object: Object, fingerprint: u64) -> Outcome {
    let mut attributes = Attributes::new();
    if !target.local {
        attributes.insert(Attribute::ContentType, object.content_type.into());
        attributes.insert(Attribute::CacheControl, object.cache_control.into());
        if let Some(lang) = object.language {
            attributes.insert(Attribute::ContentLanguage, lang.into());
        }
    }
    let options = PutOptions {
        attributes,
        ..PutOptions::default()
    };
    let payload = PutPayload::from_bytes(object.bytes);
    match target
        .store
        .put_opts(&target.path(&key), payload, options)
        .await
    {
        Ok(_) => Outcome::Put(key, fingerprint),
        Err(e) => Outcome::Failed(key, e.to_string()),
    }
}

async fn delete(target: &Target, key: String) -> Outcome {
    match target.store.delete(&target.path(&key)).await {
        Ok(()) | Err(object_store::Error::NotFound { .. }) => Outcome::Deleted(key),
        Err(e) => Outcome::Failed(key, e.to_string()),
    }
}
