//! An in-memory backend that enforces the storage contracts, for tests.
//!
//! Like Sunlight's test backend it fails loudly when a caller breaks a
//! contract (rewriting a log object that a committed checkpoint covers with
//! different bytes), and it can inject faults and simulate a crash: after
//! [`MemStore::crash`] only what was durable survives.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::{self, Cursor, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::contract::{
    BlobStore, CheckpointStore, LogStore, RangedBlob, StagedBlob, StoreError, check_range,
    validate_blob_name, validate_log_path,
};

#[derive(Default, Clone, Debug)]
struct State {
    /// Shared, so that a ranged handle keeps the object it opened.
    blobs: HashMap<String, Arc<[u8]>>,
    log: HashMap<String, Vec<u8>>,
    checkpoint: Option<Vec<u8>>,
    history: BTreeMap<u64, Vec<u8>>,
}

#[derive(Default, Debug)]
struct Inner {
    /// What readers see now.
    live: State,
    /// What would survive a crash.
    durable: State,
    /// Log paths covered by a committed checkpoint: immutable.
    frozen: HashSet<String>,
    /// Log paths written since the last swap.
    pending: HashSet<String>,
    /// Fail every operation after this many more succeed.
    fail_after: Option<u64>,
}

/// A contract-checking in-memory store; clones share state.
#[derive(Default, Clone, Debug)]
pub struct MemStore {
    inner: Arc<Mutex<Inner>>,
}

impl MemStore {
    /// A new, empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Let `n` more operations succeed, then fail every one (an I/O fault).
    pub fn fail_after(&self, n: u64) {
        self.lock().fail_after = Some(n);
    }

    /// Simulate power loss: everything not yet durable is gone, and faults
    /// are cleared.
    pub fn crash(&self) {
        let mut inner = self.lock();
        inner.live = inner.durable.clone();
        inner.pending.clear();
        inner.fail_after = None;
    }

    fn tick(inner: &mut Inner, what: &str) -> Result<(), StoreError> {
        match &mut inner.fail_after {
            Some(0) => Err(StoreError::Io {
                path: what.into(),
                source: io::Error::other("injected fault"),
            }),
            Some(n) => {
                *n -= 1;
                Ok(())
            }
            None => Ok(()),
        }
    }
}

struct MemStagedBlob {
    store: MemStore,
    buf: Vec<u8>,
}

impl Write for MemStagedBlob {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl StagedBlob for MemStagedBlob {
    fn commit(self: Box<Self>, name: &str) -> Result<(), StoreError> {
        validate_blob_name(name)?;
        let mut inner = self.store.lock();
        MemStore::tick(&mut inner, name)?;
        inner.live.blobs.insert(name.to_owned(), self.buf.into());
        Ok(())
    }
    fn abort(self: Box<Self>) {}
}

/// The object committed when the handle was opened; later commits and
/// removals of the name do not reach it.
struct MemRangedBlob {
    store: MemStore,
    name: String,
    data: Arc<[u8]>,
}

impl RangedBlob for MemRangedBlob {
    fn size(&self) -> u64 {
        self.data.len() as u64
    }

    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), StoreError> {
        MemStore::tick(&mut self.store.lock(), &self.name)?;
        check_range(&self.name, offset, buf.len(), self.size())?;
        // In range, so both fit in usize.
        let start = offset as usize;
        buf.copy_from_slice(&self.data[start..start + buf.len()]);
        Ok(())
    }
}

impl BlobStore for MemStore {
    fn create(&self) -> Result<Box<dyn StagedBlob + '_>, StoreError> {
        Self::tick(&mut self.lock(), "blob")?;
        Ok(Box::new(MemStagedBlob {
            store: self.clone(),
            buf: Vec::new(),
        }))
    }

    fn open(&self, name: &str) -> Result<Box<dyn Read + Send>, StoreError> {
        validate_blob_name(name)?;
        let inner = self.lock();
        match inner.live.blobs.get(name) {
            Some(data) => Ok(Box::new(Cursor::new(data.clone()))),
            None => Err(StoreError::MissingBlob(name.to_owned())),
        }
    }

    fn open_ranged(&self, name: &str) -> Result<Box<dyn RangedBlob>, StoreError> {
        validate_blob_name(name)?;
        let mut inner = self.lock();
        Self::tick(&mut inner, name)?;
        match inner.live.blobs.get(name) {
            Some(data) => Ok(Box::new(MemRangedBlob {
                store: self.clone(),
                name: name.to_owned(),
                data: data.clone(),
            })),
            None => Err(StoreError::MissingBlob(name.to_owned())),
        }
    }

    fn exists(&self, name: &str) -> Result<bool, StoreError> {
        Ok(self.lock().live.blobs.contains_key(name))
    }

    fn remove(&self, name: &str) -> Result<(), StoreError> {
        let mut inner = self.lock();
        Self::tick(&mut inner, name)?;
        inner.live.blobs.remove(name);
        Ok(())
    }

    fn list(&self) -> Result<Vec<String>, StoreError> {
        Ok(self.lock().live.blobs.keys().cloned().collect())
    }

    fn sync_blobs(&self) -> Result<(), StoreError> {
        let mut inner = self.lock();
        Self::tick(&mut inner, "sync")?;
        inner.durable.blobs = inner.live.blobs.clone();
        inner.durable.log = inner.live.log.clone();
        Ok(())
    }
}

impl LogStore for MemStore {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, StoreError> {
        validate_log_path(path)?;
        Ok(self.lock().live.log.get(path).cloned())
    }

    fn write(&self, path: &str, data: &[u8]) -> Result<(), StoreError> {
        validate_log_path(path)?;
        let mut inner = self.lock();
        Self::tick(&mut inner, path)?;
        if inner.frozen.contains(path) && inner.live.log.get(path).map(Vec::as_slice) != Some(data)
        {
            return Err(StoreError::Contract(format!(
                "{path} is covered by a committed checkpoint and was rewritten with different bytes"
            )));
        }
        inner.live.log.insert(path.to_owned(), data.to_vec());
        inner.pending.insert(path.to_owned());
        Ok(())
    }

    fn sync_log(&self) -> Result<(), StoreError> {
        self.sync_blobs()
    }
}

impl CheckpointStore for MemStore {
    fn latest(&self) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().live.checkpoint.clone())
    }

    fn swap(&self, expected: Option<&[u8]>, new: &[u8]) -> Result<(), StoreError> {
        let mut inner = self.lock();
        Self::tick(&mut inner, "checkpoint")?;
        if inner.live.checkpoint.as_deref() != expected {
            return Err(StoreError::CheckpointConflict);
        }
        let unsynced: Vec<&String> = inner
            .pending
            .iter()
            .filter(|p| inner.durable.log.get(*p) != inner.live.log.get(*p))
            .collect();
        if let Some(p) = unsynced.first() {
            return Err(StoreError::Contract(format!(
                "checkpoint swapped before {p} was synced"
            )));
        }
        inner.live.checkpoint = Some(new.to_vec());
        inner.durable.checkpoint = Some(new.to_vec());
        let pending = std::mem::take(&mut inner.pending);
        inner.frozen.extend(pending);
        Ok(())
    }

    fn put_history(&self, size: u64, note: &[u8]) -> Result<(), StoreError> {
        let mut inner = self.lock();
        Self::tick(&mut inner, "history")?;
        inner.live.history.insert(size, note.to_vec());
        inner.durable.history.insert(size, note.to_vec());
        Ok(())
    }

    fn history_sizes(&self) -> Result<Vec<u64>, StoreError> {
        Ok(self.lock().live.history.keys().copied().collect())
    }

    fn history(&self, size: u64) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().live.history.get(&size).cloned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crash_keeps_only_durable_state() {
        let store = MemStore::new();
        LogStore::write(&store, "tile/0/000.p/1", b"a").unwrap();
        store.sync_log().unwrap();
        LogStore::write(&store, "tile/0/000.p/2", b"b").unwrap();
        store.crash();
        assert!(LogStore::read(&store, "tile/0/000.p/1").unwrap().is_some());
        assert!(LogStore::read(&store, "tile/0/000.p/2").unwrap().is_none());
    }

    #[test]
    fn committed_paths_are_immutable_and_swap_needs_sync() {
        let store = MemStore::new();
        LogStore::write(&store, "tile/0/000.p/1", b"a").unwrap();
        assert!(matches!(
            store.swap(None, b"cp1"),
            Err(StoreError::Contract(_))
        ));
        store.sync_log().unwrap();
        store.swap(None, b"cp1").unwrap();
        assert!(matches!(
            LogStore::write(&store, "tile/0/000.p/1", b"other"),
            Err(StoreError::Contract(_))
        ));
        LogStore::write(&store, "tile/0/000.p/1", b"a").unwrap();
    }

    #[test]
    fn injected_faults() {
        let store = MemStore::new();
        store.fail_after(1);
        LogStore::write(&store, "tile/0/000.p/1", b"a").unwrap();
        assert!(LogStore::write(&store, "tile/0/000.p/2", b"b").is_err());
    }

    #[test]
    fn injected_faults_reach_ranged_reads() {
        let store = MemStore::new();
        let mut staged = store.create().unwrap();
        staged.write_all(b"0123456789").unwrap();
        staged.commit("ab").unwrap();
        let mut blob = store.open_ranged("ab").unwrap();
        store.fail_after(1);
        let mut buf = [0u8; 4];
        blob.read_exact_at(2, &mut buf).unwrap();
        assert_eq!(&buf, b"2345");
        assert!(matches!(
            blob.read_exact_at(0, &mut buf),
            Err(StoreError::Io { .. })
        ));
    }
}
