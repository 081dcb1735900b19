//! The in-memory index, writer lock and keyed values. Each index
//! transaction, keyed value and lock change is durable on return, as the
//! contracts promise (and the weakest of them a backend may give).

use std::ops::Bound;

use super::{Inner, Kind, MemStore};
use crate::contract::{KeyedStore, StoreError, WriterGuard, WriterLock, validate_key};
use crate::index::{EntryKind, EntryRow, IndexBatch, IndexStore};

impl Inner {
    /// Apply `f` to the live and the durable state alike.
    pub(super) fn both(&mut self, f: impl Fn(&mut super::State)) {
        f(&mut self.live);
        f(&mut self.durable);
    }
}

/// Why a batch cannot go in next to what the index holds, if it cannot.
fn clash(inner: &Inner, batch: &IndexBatch) -> Option<String> {
    let index = &inner.live.index;
    for e in &batch.entries {
        if index.entries.contains_key(&e.leaf_index) {
            return Some(format!("leaf {} has an entry row already", e.leaf_index));
        }
        if index.entries.values().any(|r| r.record_id == e.record_id) {
            return Some(format!("record {} has an entry row already", e.record_id));
        }
    }
    batch
        .content
        .iter()
        .find(|(blob, _)| index.content.contains_key(blob))
        .map(|(blob, _)| format!("blob {blob} has a content row already"))
}

/// Each string once, where it first comes.
fn distinct<'a>(strings: impl Iterator<Item = &'a String>) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    strings
        .filter(|s| seen.insert(s.as_str()))
        .cloned()
        .collect()
}

impl IndexStore for MemStore {
    fn insert(&self, batch: &IndexBatch) -> Result<(), StoreError> {
        self.call(
            Kind::Write,
            || format!("index insert {} entries", batch.entries.len()),
            |inner| {
                batch.check()?;
                if let Some(why) = clash(inner, batch) {
                    return Err(StoreError::Conflict {
                        object: "memory index".into(),
                        why,
                    });
                }
                inner.both(|s| {
                    for e in &batch.entries {
                        s.index.entries.insert(e.leaf_index, e.clone());
                    }
                    for (blob, leaf) in &batch.content {
                        s.index.content.insert(blob.clone(), *leaf);
                    }
                    for (leaf, sealed) in &batch.pdq {
                        s.index.pdq.insert(*leaf, sealed.clone());
                    }
                    for sub in &batch.submissions {
                        s.index.submissions.insert((
                            sub.leaf_index,
                            sub.item_id.clone(),
                            sub.account.clone(),
                        ));
                    }
                });
                Ok(())
            },
        )
    }

    fn roll_back_past(&self, committed_size: u64) -> Result<u64, StoreError> {
        self.call(
            Kind::Write,
            || format!("index roll_back_past {committed_size}"),
            |inner| {
                let n = inner.live.index.entries.range(committed_size..).count() as u64;
                inner.both(|s| {
                    s.index.entries.retain(|leaf, _| *leaf < committed_size);
                    s.index.content.retain(|_, leaf| *leaf < committed_size);
                    s.index.pdq.retain(|leaf, _| *leaf < committed_size);
                    s.index
                        .submissions
                        .retain(|(leaf, _, _)| *leaf < committed_size);
                });
                Ok(n)
            },
        )
    }

    fn entries(&self, size: u64) -> Result<Vec<EntryRow>, StoreError> {
        self.call(
            Kind::Read,
            || "index entries".into(),
            |inner| {
                Ok(inner
                    .live
                    .index
                    .entries
                    .range(..size)
                    .map(|(_, r)| r.clone())
                    .collect())
            },
        )
    }

    fn items_by_prefix(
        &self,
        prefix: &str,
        size: u64,
        limit: usize,
    ) -> Result<Vec<EntryRow>, StoreError> {
        self.call(
            Kind::Read,
            || format!("index items_by_prefix {prefix}"),
            |inner| {
                Ok(inner
                    .live
                    .index
                    .entries
                    .range(..size)
                    .map(|(_, r)| r)
                    .filter(|r| r.kind == EntryKind::Item && r.record_id.starts_with(prefix))
                    .take(limit)
                    .cloned()
                    .collect())
            },
        )
    }

    fn history(&self, item_id: &str, size: u64) -> Result<Vec<EntryRow>, StoreError> {
        self.call(
            Kind::Read,
            || format!("index history {item_id}"),
            |inner| {
                Ok(inner
                    .live
                    .index
                    .entries
                    .range(..size)
                    .map(|(_, r)| r)
                    .filter(|r| r.item_id == item_id)
                    .cloned()
                    .collect())
            },
        )
    }

    fn item_for_blob(&self, blob: &str, size: u64) -> Result<Option<u64>, StoreError> {
        self.call(
            Kind::Read,
            || format!("index item_for_blob {blob}"),
            |inner| {
                Ok(inner
                    .live
                    .index
                    .content
                    .get(blob)
                    .copied()
                    .filter(|leaf| *leaf < size))
            },
        )
    }

    fn content(&self, size: u64) -> Result<Vec<(String, u64)>, StoreError> {
        self.call(
            Kind::Read,
            || "index content".into(),
            |inner| {
                Ok(inner
                    .live
                    .index
                    .content
                    .iter()
                    .filter(|(_, leaf)| **leaf < size)
                    .map(|(b, l)| (b.clone(), *l))
                    .collect())
            },
        )
    }

    fn pdq_rows(&self, size: u64) -> Result<Vec<(u64, Vec<u8>)>, StoreError> {
        self.call(
            Kind::Read,
            || "index pdq_rows".into(),
            |inner| {
                Ok(inner
                    .live
                    .index
                    .pdq
                    .range(..size)
                    .map(|(l, s)| (*l, s.clone()))
                    .collect())
            },
        )
    }

    fn submissions_of(&self, account: &str, size: u64) -> Result<Vec<String>, StoreError> {
        self.call(
            Kind::Read,
            || format!("index submissions_of {account}"),
            |inner| {
                let rows = inner.live.index.submissions.iter();
                Ok(distinct(
                    rows.take_while(|(leaf, _, _)| *leaf < size)
                        .filter(|(_, _, a)| a == account)
                        .map(|(_, item, _)| item),
                ))
            },
        )
    }

    fn submitters(&self, item_id: &str, size: u64) -> Result<Vec<String>, StoreError> {
        self.call(
            Kind::Read,
            || format!("index submitters {item_id}"),
            |inner| {
                let rows = inner.live.index.submissions.iter();
                Ok(distinct(
                    rows.take_while(|(leaf, _, _)| *leaf < size)
                        .filter(|(_, item, _)| item == item_id)
                        .map(|(_, _, account)| account),
                ))
            },
        )
    }

    fn integrity_problems(&self) -> Result<Vec<(String, String)>, StoreError> {
        self.call(Kind::Read, || "index integrity".into(), |_| Ok(Vec::new()))
    }
}

/// A held writer lock of a [`MemStore`]; a crash makes it stale.
struct MemGuard {
    store: MemStore,
    generation: u64,
}

impl WriterGuard for MemGuard {}

impl Drop for MemGuard {
    fn drop(&mut self) {
        let mut inner = self.store.lock();
        if inner.lock == Some(self.generation) {
            inner.lock = None;
        }
    }
}

impl WriterLock for MemStore {
    fn try_lock(&self) -> Result<Box<dyn WriterGuard + '_>, StoreError> {
        let generation = self.call(
            Kind::Read,
            || "lock try_lock".into(),
            |inner| {
                if inner.lock.is_some() {
                    return Err(StoreError::Locked("the memory store's writer lock".into()));
                }
                inner.lock_generation += 1;
                inner.lock = Some(inner.lock_generation);
                // A new writer: log paths an earlier one wrote and never
                // committed are leftovers, not part of the next commit.
                inner.pending.clear();
                Ok(inner.lock_generation)
            },
        )?;
        Ok(Box::new(MemGuard {
            store: self.clone(),
            generation,
        }))
    }
}

impl KeyedStore for MemStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        validate_key(key)?;
        self.call(
            Kind::Read,
            || format!("keyed get {key}"),
            |inner| Ok(inner.live.keyed.get(key).cloned()),
        )
    }

    fn put(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        validate_key(key)?;
        self.call(
            Kind::Write,
            || format!("keyed put {key}"),
            |inner| {
                inner.both(|s| {
                    s.keyed.insert(key.to_owned(), value.to_vec());
                });
                Ok(())
            },
        )
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.call(
            Kind::Read,
            || format!("keyed list {prefix}"),
            |inner| {
                Ok(inner
                    .live
                    .keyed
                    .range::<str, _>((Bound::Included(prefix), Bound::Unbounded))
                    .take_while(|(k, _)| k.starts_with(prefix))
                    .map(|(k, _)| k.clone())
                    .collect())
            },
        )
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        validate_key(key)?;
        self.call(
            Kind::Write,
            || format!("keyed delete {key}"),
            |inner| {
                inner.both(|s| {
                    s.keyed.remove(key);
                });
                Ok(())
            },
        )
    }
}
