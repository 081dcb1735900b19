//! A [`Backend`]: every store a vault uses, from one deployment.

use std::path::{Path, PathBuf};

use crate::accounts::AccountStore;
use crate::contract::{BlobStore, CheckpointStore, KeyedStore, LogStore, StoreError, WriterLock};
use crate::fs::FsStore;
use crate::index::IndexStore;
use crate::sqlite::SqliteIndex;

/// The local backend's index file, in the vault folder.
pub(crate) const INDEX_FILE: &str = "index.sqlite";

/// Every store a vault keeps its state in. The vault is written against
/// these traits only; a deployment (the local folder, an object store with
/// a database, the checking in-memory store) provides all of them.
pub struct Backend {
    /// Encrypted originals.
    pub blobs: Box<dyn BlobStore>,
    /// The log's tiles and entry bundles.
    pub log: Box<dyn LogStore>,
    /// The latest checkpoint and the history.
    pub checkpoints: Box<dyn CheckpointStore>,
    /// The private rows about log entries.
    pub index: Box<dyn IndexStore>,
    /// The team's accounts and credentials (a served vault's).
    pub accounts: Box<dyn AccountStore>,
    /// The one-writer lock.
    pub lock: Box<dyn WriterLock>,
    /// Small values: marker, key file, configuration, tokens.
    pub keyed: Box<dyn KeyedStore>,
    /// Where the vault is, for messages: a folder, or a URL.
    pub location: String,
    /// The vault's folder when it is one on this machine (so that `add`
    /// can refuse files from inside it).
    pub local_root: Option<PathBuf>,
}

impl std::fmt::Debug for Backend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Backend")
            .field("location", &self.location)
            .finish_non_exhaustive()
    }
}

impl Backend {
    /// The embedded default: a vault in the local folder `root` (layout in
    /// `docs/format.md` §1): blobs, log, checkpoints, lock and keyed values
    /// as files, the index and the accounts in `index.sqlite`. Opens an
    /// existing one and creates nothing; a folder that holds none is
    /// [`StoreError::NoStore`].
    pub fn local(root: &Path) -> Result<Backend, StoreError> {
        let index = {
            FsStore::open(root)?;
            SqliteIndex::open(&root.join(INDEX_FILE), false)?
        };
        Self::local_with(root, index)
    }

    /// Make the folders and the empty index of a new local vault in `root`
    /// (which may exist), and open it.
    pub fn create_local(root: &Path) -> Result<Backend, StoreError> {
        FsStore::create(root)?;
        let index = SqliteIndex::open(&root.join(INDEX_FILE), true)?;
        Self::local_with(root, index)
    }

    fn local_with(root: &Path, index: SqliteIndex) -> Result<Backend, StoreError> {
        Ok(Backend {
            blobs: Box::new(FsStore::open(root)?),
            log: Box::new(FsStore::open(root)?),
            checkpoints: Box::new(FsStore::open(root)?),
            // One database, one connection: both stores share it.
            index: Box::new(index.clone()),
            accounts: Box::new(index),
            lock: Box::new(FsStore::open(root)?),
            keyed: Box::new(FsStore::open(root)?),
            location: root.display().to_string(),
            local_root: Some(root.to_owned()),
        })
    }
}
