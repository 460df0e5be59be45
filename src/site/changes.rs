//! Which keys of the exported tree changed, for whoever copies the site
//! elsewhere (the `publish.to` uploader): noted by the site as it
//! publishes, stores archive pages and links them, taken in batches.

use std::collections::BTreeSet;
use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

/// Keys of the exported tree (`index.html`, `feeds/all.rss`,
/// `articles/<id>.html`, ...) changed since they were last taken, and
/// since when.
#[derive(Debug, Default)]
pub struct Outbox {
    pub keys: BTreeSet<String>,
    pub since: Option<Instant>,
}

/// The key of a served path in the exported tree: `/` is `index.html`.
pub fn tree_key(path: &str) -> String {
    match path.trim_start_matches('/') {
        "" => "index.html".into(),
        key => key.into(),
    }
}

/// The served path of a key of the exported tree: `index.html` is `/`
/// (the inverse of [`tree_key`]).
pub fn served_path(key: &str) -> String {
    match key {
        "index.html" => "/".into(),
        key => format!("/{key}"),
    }
}

/// The changed keys, kept only once someone tracks them.
#[derive(Default)]
pub(super) struct Changes {
    outbox: Mutex<Option<Outbox>>,
    ready: Condvar,
}

impl Changes {
    pub(super) fn track(&self) {
        if let Ok(mut outbox) = self.outbox.lock() {
            outbox.get_or_insert_with(Outbox::default);
        }
    }

    pub(super) fn is_tracked(&self) -> bool {
        self.outbox.lock().is_ok_and(|o| o.is_some())
    }

    pub(super) fn note(&self, keys: impl IntoIterator<Item = String>) {
        let Ok(mut guard) = self.outbox.lock() else {
            return;
        };
        if let Some(outbox) = guard.as_mut() {
            let before = outbox.keys.len();
            outbox.keys.extend(keys);
            if outbox.keys.len() > before {
                outbox.since.get_or_insert_with(Instant::now);
                self.ready.notify_all();
            }
        }
    }

    pub(super) fn take(&self, wait: Duration) -> Outbox {
        let Ok(guard) = self.outbox.lock() else {
            return Outbox::default();
        };
        let empty = |o: &mut Option<Outbox>| o.as_ref().is_none_or(|o| o.keys.is_empty());
        match self.ready.wait_timeout_while(guard, wait, empty) {
            Ok((mut guard, _)) => guard.as_mut().map(std::mem::take).unwrap_or_default(),
            Err(_) => Outbox::default(),
        }
    }
}
