//! Publishing the site to object storage (S3 and compatible stores, or a
//! local directory): the `build --out` tree, object by object, each with
//! its `Content-Type`, `Cache-Control` and `Content-Language`; only what
//! changed is uploaded, what is gone is deleted.
//!
//! Files: `mod` (the target store), `object` (what each key is sent
//! with), `manifest` (what the store holds, by content fingerprint, kept
//! across runs), `sync` (one reconciliation: uploads in order, bounded
//! concurrency, deletes last), `tree` (the exported tree: a `build`
//! directory, or the live site), `live` (the `wirefeed serve` uploader:
//! changes as they are published, retried until they land).

mod live;
mod manifest;
mod object;
mod sync;
mod tree;

use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::{ObjectStore, RetryConfig};

pub use live::Uploader;
pub use manifest::Manifest;
pub use object::Object;
pub use sync::{sync, Report};
pub use tree::{DirTree, SiteTree, Tree};

/// Why a target cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("publish.to {0:?}: want s3://BUCKET/PREFIX or file:///DIR")]
    BadTarget(String),
    #[error("publish.to {to}: {source}")]
    Store {
        to: String,
        source: object_store::Error,
    },
    #[error("publish.to {to}: {source}")]
    Io { to: String, source: std::io::Error },
}

/// Where the site is published: a store and the prefix its keys go under.
pub struct Target {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    /// The URL as configured (names the manifest).
    url: String,
    /// A local directory takes no object attributes.
    local: bool,
}

impl Target {
    /// `s3://BUCKET/PREFIX` (endpoint, region and credentials from the
    /// standard `AWS_*` variables) or `file:///DIR` (created if missing).
    pub fn open(to: &str) -> Result<Target, PublishError> {
        let url = url::Url::parse(to).map_err(|_| PublishError::BadTarget(to.into()))?;
        let store_err = |source| PublishError::Store {
            to: to.into(),
            source,
        };
        let (store, prefix, local): (Arc<dyn ObjectStore>, String, bool) = match url.scheme() {
            "s3" | "s3a" => {
                // Two TLS crypto libraries are linked (ureq's ring, the S3
                // client's aws-lc): rustls wants the process's default
                // named. Already named: nothing to do.
                let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
                let bucket = url.host_str().unwrap_or_default();
                let store = AmazonS3Builder::from_env()
                    .with_bucket_name(bucket)
                    .with_retry(RetryConfig {
                        // Our own loop retries for as long as it takes;
                        // a request never holds a round up for minutes.
                        max_retries: 2,
                        retry_timeout: Duration::from_secs(10),
                        ..RetryConfig::default()
                    })
                    // (The client's own timeouts stay: 5 s to connect, 30 s
                    // a request. Setting `ClientOptions` here would drop
                    // the ones read from the environment, AWS_ALLOW_HTTP.)
                    .build()
                    .map_err(store_err)?;
                let prefix = url.path().trim_matches('/').to_string();
                (Arc::new(store), prefix, false)
            }
            "file" => {
                let dir = url
                    .to_file_path()
                    .map_err(|_| PublishError::BadTarget(to.into()))?;
                std::fs::create_dir_all(&dir).map_err(|source| PublishError::Io {
                    to: to.into(),
                    source,
                })?;
                let store = LocalFileSystem::new_with_prefix(&dir).map_err(store_err)?;
                (Arc::new(store), String::new(), true)
            }
            _ => return Err(PublishError::BadTarget(to.into())),
        };
        Ok(Target {
            store,
            prefix,
            url: to.into(),
            local,
        })
    }

    /// The store's path of tree key `key`.
    fn path(&self, key: &str) -> object_store::path::Path {
        match self.prefix.is_empty() {
            true => object_store::path::Path::from(key),
            false => object_store::path::Path::from(format!("{}/{key}", self.prefix)),
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// Every key the store holds under the prefix.
    pub async fn list(&self) -> Result<std::collections::BTreeSet<String>, PublishError> {
        use futures::TryStreamExt;
        let prefix =
            (!self.prefix.is_empty()).then(|| object_store::path::Path::from(self.prefix.as_str()));
        let listed: Vec<object_store::ObjectMeta> = self
            .store
            .list(prefix.as_ref())
            .try_collect()
            .await
            .map_err(|source| PublishError::Store {
                to: self.url.clone(),
                source,
            })?;
        let cut = match self.prefix.is_empty() {
            true => 0,
            false => self.prefix.len() + 1,
        };
        Ok(listed
            .into_iter()
            .filter_map(|m| m.location.as_ref().get(cut..).map(str::to_string))
            .collect())
    }

    /// The keys to reconcile for a whole tree: every key of `tree`, every
    /// key the store holds (what is gone is deleted, even without a
    /// manifest), the manifest's; keys the manifest has and the store has
    /// not are forgotten, so they are uploaded again.
    pub async fn all_keys(
        &self,
        tree: &dyn Tree,
        manifest: &mut Manifest,
    ) -> Result<std::collections::BTreeSet<String>, PublishError> {
        let held = self.list().await?;
        manifest.agree_with(&held);
        let mut keys: std::collections::BTreeSet<String> = tree.keys().into_iter().collect();
        keys.extend(held);
        Ok(keys)
    }
}
