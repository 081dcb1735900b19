//! An in-memory backend that enforces the storage contracts, for tests.
//!
//! Like Sunlight's test backend it fails loudly when a caller breaks a
//! contract: swapping a checkpoint before what it covers was synced,
//! removing a log object a committed checkpoint covers, writing without
//! the writer lock (when asked to check that). It refuses what a real
//! backend refuses (a second write of a log object with other bytes, a
//! blob committed over an existing one, an index row twice), and it
//! implements every trait of a [`Backend`], so a whole vault can run on it.
//!
//! **Crash model.** Every call of every trait is counted. A [`Fault`] makes
//! the `n`th call fail before it has any effect ([`Fault::Fail`]), take
//! effect and then report an error (a lost reply, [`Fault::LostReply`]),
//! or stop the process there ([`Fault::Crash`]: that call and every later
//! one fail with no effect). [`MemStore::crash`] then drops everything that
//! was not durable: blobs and log objects not synced since they were
//! written or removed, the writer lock; staged blobs that were being
//! written stay behind as leftovers. What each trait promises durable on
//! return (checkpoints, history, keyed values, index transactions,
//! accounts) stays.

mod accounts;
mod small;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::io::{self, Cursor, Read, Write};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::accounts::{AccountRow, CredentialRow};
use crate::backend::Backend;
use crate::contract::{
    BlobStore, CheckpointStore, LogStore, RangedBlob, StagedBlob, StoreError, check_range,
    validate_blob_name, validate_log_path,
};
use crate::index::EntryRow;

/// How an injected fault behaves at the call it is set on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The call fails before it has any effect; later calls work (a
    /// transient error).
    Fail,
    /// The call takes effect, then reports an error (a lost reply).
    LostReply,
    /// The process stops at this call: it and every later call fail with
    /// no effect, until [`MemStore::crash`].
    Crash,
}

#[derive(Default, Clone, Debug)]
struct MemIndex {
    entries: BTreeMap<u64, EntryRow>,
    content: BTreeMap<String, u64>,
    pdq: BTreeMap<u64, Vec<u8>>,
    /// `(leaf index, item id, account)`: in leaf order, and a pair
    /// submitted again by a later entry is another row.
    submissions: BTreeSet<(u64, String, String)>,
}

#[derive(Default, Clone, Debug)]
struct State {
    /// Shared, so that a ranged handle keeps the object it opened.
    blobs: HashMap<String, Arc<[u8]>>,
    log: HashMap<String, Vec<u8>>,
    checkpoint: Option<Vec<u8>>,
    history: BTreeMap<u64, Vec<u8>>,
    keyed: BTreeMap<String, Vec<u8>>,
    index: MemIndex,
    /// Accounts by key.
    accounts: BTreeMap<String, AccountRow>,
    /// Credentials by hash.
    credentials: BTreeMap<String, CredentialRow>,
}

#[derive(Default, Clone, Debug)]
struct Inner {
    /// What readers see now.
    live: State,
    /// What would survive a crash.
    durable: State,
    /// Log paths covered by a committed checkpoint: never removed.
    frozen: HashSet<String>,
    /// Log paths written by the current lock holder since its last swap.
    pending: HashSet<String>,
    /// Staged blobs being written, by id.
    staging: HashSet<u64>,
    next_staged: u64,
    /// Staged blobs a crash left behind.
    leftover_staged: usize,
    /// Calls made so far, and what each was.
    calls: u64,
    /// Each call's name and whether it may change state.
    trace: Vec<(String, bool)>,
    /// Faults to come, by call number.
    faults: Vec<(u64, Fault)>,
    /// A [`Fault::Crash`] was reached: every call fails.
    stopped: bool,
    /// The generation of the live writer guard, if one is held.
    lock: Option<u64>,
    lock_generation: u64,
    /// Refuse writes made without the writer lock.
    enforce_lock: bool,
}

/// A contract-checking in-memory store; clones share state.
#[derive(Default, Clone, Debug)]
pub struct MemStore {
    inner: Arc<Mutex<Inner>>,
}

fn injected(what: &str) -> StoreError {
    StoreError::Io {
        path: what.into(),
        source: io::Error::other("injected fault"),
    }
}

/// Whether a call changes state (and so needs the writer lock).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Read,
    Write,
}

impl MemStore {
    /// A new, empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A [`Backend`] whose every store is this one.
    pub fn backend(&self) -> Backend {
        Backend {
            blobs: Box::new(self.clone()),
            log: Box::new(self.clone()),
            checkpoints: Box::new(self.clone()),
            index: Box::new(self.clone()),
            accounts: Box::new(self.clone()),
            lock: Box::new(self.clone()),
            keyed: Box::new(self.clone()),
            location: "memory store".into(),
            local_root: None,
        }
    }

    /// An independent copy of this store's state (live and durable), with
    /// no fault set and the call count at zero.
    pub fn fork(&self) -> MemStore {
        let mut inner = self.lock().clone();
        inner.calls = 0;
        inner.trace.clear();
        inner.faults.clear();
        inner.stopped = false;
        MemStore {
            inner: Arc::new(Mutex::new(inner)),
        }
    }

    /// Set `fault` on the call `n` calls from now (0: the next one), in
    /// addition to any set before.
    pub fn inject(&self, n: u64, fault: Fault) {
        let mut inner = self.lock();
        let at = inner.calls + n;
        inner.faults.push((at, fault));
    }

    /// Let `n` more calls succeed, then fail every one (an I/O fault that
    /// does not go away), until [`MemStore::crash`].
    pub fn fail_after(&self, n: u64) {
        self.inject(n, Fault::Crash);
    }

    /// Remove every fault not reached yet.
    pub fn clear_fault(&self) {
        self.lock().faults.clear();
    }

    /// How many calls have been made since the store was made or forked.
    pub fn calls(&self) -> u64 {
        self.lock().calls
    }

    /// What call `n` was (trait, operation, object), if it was made.
    pub fn call_name(&self, n: u64) -> Option<String> {
        self.lock()
            .trace
            .get(n as usize)
            .map(|(name, _)| name.clone())
    }

    /// Whether call `n` may change state: a write, a removal, a sync, a
    /// swap (not a read or the lock). A crash just after a call that changes
    /// nothing leaves what a crash just before it leaves, and a lost reply
    /// on such a call is a failed call.
    pub fn call_writes(&self, n: u64) -> Option<bool> {
        self.lock().trace.get(n as usize).map(|(_, w)| *w)
    }

    /// Refuse (as a contract violation) every write made while no writer
    /// guard is held.
    pub fn enforce_writer_lock(&self, on: bool) {
        self.lock().enforce_lock = on;
    }

    /// Staged blobs left behind by a crash and not yet cleared.
    pub fn staged_leftovers(&self) -> usize {
        self.lock().leftover_staged
    }

    /// Simulate power loss: everything not yet durable is gone, the writer
    /// lock is free, and faults are cleared.
    pub fn crash(&self) {
        let mut inner = self.lock();
        inner.live = inner.durable.clone();
        inner.pending.clear();
        inner.leftover_staged += inner.staging.len();
        inner.staging.clear();
        inner.lock = None;
        inner.lock_generation += 1;
        inner.faults.clear();
        inner.stopped = false;
    }

    /// Run one counted call: the fault model, the lock check, then `f`.
    fn call<T>(
        &self,
        kind: Kind,
        what: impl FnOnce() -> String,
        f: impl FnOnce(&mut Inner) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut inner = self.lock();
        let n = inner.calls;
        inner.calls += 1;
        let what = what();
        inner.trace.push((what.clone(), kind == Kind::Write));
        if inner.stopped {
            return Err(injected(&what));
        }
        let lost = match inner.faults.iter().find(|(at, _)| *at == n).map(|f| f.1) {
            Some(Fault::Fail) => return Err(injected(&what)),
            Some(Fault::Crash) => {
                inner.stopped = true;
                return Err(injected(&what));
            }
            Some(Fault::LostReply) => true,
            None => false,
        };
        if kind == Kind::Write && inner.enforce_lock && inner.lock.is_none() {
            return Err(StoreError::Contract(format!(
                "{what} without the writer lock"
            )));
        }
        let out = f(&mut inner)?;
        if lost {
            return Err(injected(&what));
        }
        Ok(out)
    }
}

struct MemStagedBlob {
    store: MemStore,
    id: u64,
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
    fn commit(mut self: Box<Self>, name: &str) -> Result<(), StoreError> {
        validate_blob_name(name)?;
        let data: Arc<[u8]> = std::mem::take(&mut self.buf).into();
        self.store.call(
            Kind::Write,
            || format!("blob commit {name}"),
            |inner| {
                if !inner.staging.remove(&self.id) {
                    return Err(StoreError::Contract(format!(
                        "blob {name} committed after its staged bytes were cleared"
                    )));
                }
                if inner.live.blobs.contains_key(name) {
                    return Err(StoreError::Conflict {
                        object: format!("blob {name}"),
                        why: "exists already; blobs are written once".into(),
                    });
                }
                inner.live.blobs.insert(name.to_owned(), data);
                Ok(())
            },
        )
    }
    fn abort(self: Box<Self>) {}
}

impl Drop for MemStagedBlob {
    fn drop(&mut self) {
        // Committed, aborted or dropped: no longer being written.
        self.store.lock().staging.remove(&self.id);
    }
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
        let size = self.size();
        self.store.call(
            Kind::Read,
            || format!("blob read {}@{offset}", self.name),
            |_| check_range(&self.name, offset, buf.len(), size),
        )?;
        // In range, so both fit in usize.
        let start = offset as usize;
        buf.copy_from_slice(&self.data[start..start + buf.len()]);
        Ok(())
    }
}

impl BlobStore for MemStore {
    fn create(&self) -> Result<Box<dyn StagedBlob + '_>, StoreError> {
        let id = self.call(
            Kind::Write,
            || "blob create".into(),
            |inner| {
                inner.next_staged += 1;
                let id = inner.next_staged;
                inner.staging.insert(id);
                Ok(id)
            },
        )?;
        Ok(Box::new(MemStagedBlob {
            store: self.clone(),
            id,
            buf: Vec::new(),
        }))
    }

    fn open(&self, name: &str) -> Result<Box<dyn Read + Send>, StoreError> {
        validate_blob_name(name)?;
        let data = self.call(
            Kind::Read,
            || format!("blob open {name}"),
            |inner| {
                inner
                    .live
                    .blobs
                    .get(name)
                    .cloned()
                    .ok_or_else(|| StoreError::MissingBlob(name.to_owned()))
            },
        )?;
        Ok(Box::new(Cursor::new(data)))
    }

    fn open_ranged(&self, name: &str) -> Result<Box<dyn RangedBlob>, StoreError> {
        validate_blob_name(name)?;
        let data = self.call(
            Kind::Read,
            || format!("blob open_ranged {name}"),
            |inner| {
                inner
                    .live
                    .blobs
                    .get(name)
                    .cloned()
                    .ok_or_else(|| StoreError::MissingBlob(name.to_owned()))
            },
        )?;
        Ok(Box::new(MemRangedBlob {
            store: self.clone(),
            name: name.to_owned(),
            data,
        }))
    }

    fn exists(&self, name: &str) -> Result<bool, StoreError> {
        self.call(
            Kind::Read,
            || format!("blob exists {name}"),
            |inner| Ok(inner.live.blobs.contains_key(name)),
        )
    }

    fn remove(&self, name: &str) -> Result<(), StoreError> {
        self.call(
            Kind::Write,
            || format!("blob remove {name}"),
            |inner| {
                inner.live.blobs.remove(name);
                Ok(())
            },
        )
    }

    fn list(&self) -> Result<Vec<String>, StoreError> {
        self.call(
            Kind::Read,
            || "blob list".into(),
            |inner| Ok(inner.live.blobs.keys().cloned().collect()),
        )
    }

    fn sync_blobs(&self) -> Result<(), StoreError> {
        self.call(
            Kind::Write,
            || "blob sync".into(),
            |inner| {
                inner.durable.blobs = inner.live.blobs.clone();
                Ok(())
            },
        )
    }

    fn clear_staged(&self) -> Result<(), StoreError> {
        self.call(
            Kind::Write,
            || "blob clear_staged".into(),
            |inner| {
                if !inner.staging.is_empty() {
                    return Err(StoreError::Contract(
                        "staging cleared while a blob is being staged".into(),
                    ));
                }
                inner.leftover_staged = 0;
                Ok(())
            },
        )
    }
}

impl LogStore for MemStore {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, StoreError> {
        validate_log_path(path)?;
        self.call(
            Kind::Read,
            || format!("log read {path}"),
            |inner| Ok(inner.live.log.get(path).cloned()),
        )
    }

    fn write(&self, path: &str, data: &[u8]) -> Result<(), StoreError> {
        validate_log_path(path)?;
        self.call(
            Kind::Write,
            || format!("log write {path}"),
            |inner| {
                match inner.live.log.get(path) {
                    Some(old) if old == data => {}
                    Some(_) => {
                        return Err(StoreError::Conflict {
                            object: format!("log/{path}"),
                            why: "exists with other bytes; log objects are written once".into(),
                        });
                    }
                    None => {
                        inner.live.log.insert(path.to_owned(), data.to_vec());
                    }
                }
                inner.pending.insert(path.to_owned());
                Ok(())
            },
        )
    }

    fn remove(&self, path: &str) -> Result<(), StoreError> {
        validate_log_path(path)?;
        self.call(
            Kind::Write,
            || format!("log remove {path}"),
            |inner| {
                if inner.frozen.contains(path) {
                    return Err(StoreError::Contract(format!(
                        "{path} is covered by a committed checkpoint and was removed"
                    )));
                }
                inner.live.log.remove(path);
                inner.pending.remove(path);
                Ok(())
            },
        )
    }

    fn sync_log(&self) -> Result<(), StoreError> {
        self.call(
            Kind::Write,
            || "log sync".into(),
            |inner| {
                inner.durable.log = inner.live.log.clone();
                Ok(())
            },
        )
    }
}

/// A blob readers see that a crash would lose or change.
fn unsynced_blob(inner: &Inner) -> Option<&String> {
    inner.live.blobs.iter().find_map(|(name, data)| {
        let same = inner
            .durable
            .blobs
            .get(name)
            .is_some_and(|d| Arc::ptr_eq(d, data) || d[..] == data[..]);
        (!same).then_some(name)
    })
}

impl CheckpointStore for MemStore {
    fn latest(&self) -> Result<Option<Vec<u8>>, StoreError> {
        self.call(
            Kind::Read,
            || "checkpoint latest".into(),
            |inner| Ok(inner.live.checkpoint.clone()),
        )
    }

    fn swap(&self, expected: Option<&[u8]>, new: &[u8]) -> Result<(), StoreError> {
        self.call(
            Kind::Write,
            || "checkpoint swap".into(),
            |inner| {
                if inner.live.checkpoint.as_deref() != expected {
                    return Err(StoreError::CheckpointConflict);
                }
                let unsynced = inner
                    .pending
                    .iter()
                    .find(|p| inner.durable.log.get(*p) != inner.live.log.get(*p));
                if let Some(p) = unsynced {
                    return Err(StoreError::Contract(format!(
                        "checkpoint swapped before {p} was synced"
                    )));
                }
                if let Some(b) = unsynced_blob(inner) {
                    return Err(StoreError::Contract(format!(
                        "checkpoint swapped before blob {b} was synced"
                    )));
                }
                inner.live.checkpoint = Some(new.to_vec());
                inner.durable.checkpoint = Some(new.to_vec());
                let pending = std::mem::take(&mut inner.pending);
                inner.frozen.extend(pending);
                Ok(())
            },
        )
    }

    fn put_history(&self, size: u64, note: &[u8]) -> Result<(), StoreError> {
        self.call(
            Kind::Write,
            || format!("checkpoint put_history {size}"),
            |inner| {
                inner.live.history.insert(size, note.to_vec());
                inner.durable.history.insert(size, note.to_vec());
                Ok(())
            },
        )
    }

    fn history_sizes(&self) -> Result<Vec<u64>, StoreError> {
        self.call(
            Kind::Read,
            || "checkpoint history_sizes".into(),
            |inner| Ok(inner.live.history.keys().copied().collect()),
        )
    }

    fn history(&self, size: u64) -> Result<Option<Vec<u8>>, StoreError> {
        self.call(
            Kind::Read,
            || format!("checkpoint history {size}"),
            |inner| Ok(inner.live.history.get(&size).cloned()),
        )
    }
}

#[cfg(test)]
mod tests;
