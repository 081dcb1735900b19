//! The append transaction: the one way anything is written to a vault's
//! log and index, and the writer lock every write of a vault is made under.
//!
//! [`Vault::writer`] takes the writer lock and recovers from whatever an
//! interrupted writer left: it refuses a rolled-back checkpoint, rolls the
//! index back past the committed size, restores a missing history copy and
//! clears staged blobs. The [`Writer`] it returns is what every write goes
//! through: keyed values ([`Writer::put`]), cosignatures on the checkpoint
//! ([`Writer::replace_checkpoint`]), and appends ([`Writer::append`]).
//!
//! An [`Append`] gathers one batch — blobs staged and committed as they
//! come ([`Append::store_stream`], the one place bytes enter the vault),
//! records, index rows, PDQ rows — and [`Append::commit`] makes it durable
//! in the one order that makes a crash anywhere safe:
//!
//! 1. the blobs are synced;
//! 2. the tiles and entry bundles are written and synced
//!    ([`LogWriter::stage`]; leftovers of an append that never committed
//!    are replaced);
//! 3. the entry, content and PDQ rows go in in one index transaction;
//! 4. the signed checkpoint is swapped in by compare-and-swap: **the commit
//!    point**; only now is success reported;
//! 5. its history copy is kept (a missing one is restored by the next
//!    writer's recovery).
//!
//! An append dropped before the commit point (an error anywhere, a `?`)
//! removes the blobs it committed and the index rows it inserted; one whose
//! swap failed with an unknown outcome (the reply was lost and the
//! checkpoint could not be read back) removes nothing, since its blobs may
//! be committed. A crash leaves blobs nothing refers to (noted by `verify`),
//! tiles past the committed size and index rows past it: the next writer
//! deals with all of them.

use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};

use guwah_core::checkpoint::Checkpoint;
use guwah_core::record::{
    Action, AuditAction, AuditRecord, EventRecord, ItemRecord, Record, hex32, parse_hex32,
};
use guwah_store::{EntryKind, EntryRow, IndexBatch, StoreError, WriterGuard};

use crate::crypto;
use crate::error::VaultError;
use crate::index::Private;
use crate::ingest::{AddProgress, Blob};
use crate::keys::VaultKeys;
use crate::log::Head;
use crate::media::sniff_media_type;
use crate::vault::{Vault, commit_values, timestamp_now};

/// The writer lock, held, with the committed head it recovered to.
pub(crate) struct Writer<'v> {
    vault: &'v Vault,
    _guard: Box<dyn WriterGuard + 'v>,
    head: Option<Head>,
}

impl Vault {
    /// Take the writer lock, without recovery (for `init`).
    pub(crate) fn take_writer_lock(&self) -> Result<Box<dyn WriterGuard + '_>, VaultError> {
        match self.writer_lock.try_lock() {
            Ok(g) => Ok(g),
            Err(StoreError::Locked(_)) => Err(VaultError::Locked(self.location.clone())),
            Err(e) => Err(e.into()),
        }
    }

    /// Take the writer lock, and clean up after any interrupted append.
    pub(crate) fn writer(&self) -> Result<Writer<'_>, VaultError> {
        let guard = self.take_writer_lock()?;
        let head = self.head()?;
        let size = head.as_ref().map_or(0, |h| h.checkpoint.size);
        self.refuse_rollback(size)?;
        self.index().roll_back_past(size)?;
        // The history copy is written just after the swap; an append that
        // died between the two left it out.
        if let Some(h) = &head
            && self.checkpoints.history(size)?.as_deref() != Some(h.note.as_slice())
        {
            self.checkpoints.put_history(size, &h.note)?;
        }
        self.blobs.clear_staged()?;
        Ok(Writer {
            vault: self,
            _guard: guard,
            head,
        })
    }

    /// The history copy of a checkpoint is written after the swap, so a
    /// history larger than the latest checkpoint means `log/checkpoint` was
    /// deleted or replaced by an older one. A writer must not go on from
    /// there: it would discard the index rows of the newer entries.
    fn refuse_rollback(&self, size: u64) -> Result<(), VaultError> {
        if let Some(&newest) = self.checkpoints.history_sizes()?.last()
            && newest > size
        {
            return Err(VaultError::damaged(
                "log/checkpoint",
                format!(
                    "is missing or older (size {size}) than log/checkpoints/{newest}: the latest checkpoint was deleted or rolled back; nothing was changed (restore it from log/checkpoints/{newest} after checking why)"
                ),
            ));
        }
        Ok(())
    }
}

impl<'v> Writer<'v> {
    /// The latest committed checkpoint.
    pub(crate) fn head(&self) -> Option<&Head> {
        self.head.as_ref()
    }

    /// The committed tree size.
    pub(crate) fn size(&self) -> u64 {
        self.head.as_ref().map_or(0, |h| h.checkpoint.size)
    }

    /// Start an append to the committed log.
    pub(crate) fn append(&mut self) -> Result<Append<'_, 'v>, VaultError> {
        let keys = self.vault.keys()?;
        Ok(Append {
            old_size: self.size(),
            writer: self,
            keys,
            blobs: Vec::new(),
            stored: HashSet::new(),
            items: HashMap::new(),
            leaves: Vec::new(),
            batch: IndexBatch::default(),
            inserted: false,
            settled: false,
        })
    }

    /// Store a keyed value (configuration, a token) under the lock.
    pub(crate) fn put(&self, key: &str, value: &[u8]) -> Result<(), VaultError> {
        Ok(self.vault.keyed.put(key, value)?)
    }

    /// Replace the latest checkpoint by `note`, the same checkpoint with
    /// more cosignatures, and its history copy.
    pub(crate) fn replace_checkpoint(&mut self, note: Vec<u8>) -> Result<(), VaultError> {
        let Some(head) = &self.head else {
            return Err(VaultError::damaged(
                "log/checkpoint",
                "there is none to cosign",
            ));
        };
        let v = self.vault;
        let checkpoint = v
            .log()
            .open_note(&note, &v.log_key, "cosigned checkpoint")?;
        if checkpoint != head.checkpoint {
            return Err(VaultError::damaged(
                "cosigned checkpoint",
                "is not the latest checkpoint",
            ));
        }
        v.checkpoints.swap(Some(&head.note), &note)?;
        v.checkpoints.put_history(checkpoint.size, &note)?;
        self.head = Some(Head { note, checkpoint });
        Ok(())
    }

    /// Replace the history copy of `checkpoint` (an older one) by `note`,
    /// the same checkpoint with more cosignatures.
    pub(crate) fn replace_history(
        &self,
        checkpoint: &Checkpoint,
        note: &[u8],
    ) -> Result<(), VaultError> {
        let v = self.vault;
        let thing = format!("log/checkpoints/{}", checkpoint.size);
        if v.log().open_note(note, &v.log_key, &thing)? != *checkpoint {
            return Err(VaultError::damaged(thing, "a different checkpoint"));
        }
        Ok(v.checkpoints.put_history(checkpoint.size, note)?)
    }

    /// Seal one custody event per `(item, values)` under one new checkpoint.
    pub(crate) fn append_events(
        &mut self,
        events: &[(&EntryRow, Vec<(String, String)>)],
        action: Action,
    ) -> Result<&Head, VaultError> {
        let mut a = self.append()?;
        let at = timestamp_now();
        for (item_row, values) in events {
            a.push_event(action, item_row, values, &at)?;
        }
        a.commit()?;
        self.head
            .as_ref()
            .ok_or_else(|| VaultError::damaged("log/checkpoint", "missing after a commit"))
    }
}

/// One batch being appended; see the module docs.
pub(crate) struct Append<'w, 'v> {
    writer: &'w mut Writer<'v>,
    keys: &'v VaultKeys,
    old_size: u64,
    /// Blobs this append committed, or may have (a commit that fails may
    /// still have landed): removed if it does not commit.
    blobs: Vec<String>,
    /// The same, as a set: a blob stored twice in one append is stored once.
    stored: HashSet<String>,
    /// Items sealed in this append, by blob: `(leaf index, id)`.
    items: HashMap<String, (u64, String)>,
    leaves: Vec<Vec<u8>>,
    batch: IndexBatch,
    /// The index rows were (maybe) inserted.
    inserted: bool,
    /// Committed, or an unknown outcome: nothing to clean up.
    settled: bool,
}

impl Append<'_, '_> {
    /// The item holding `blob` already: sealed earlier in this append, or
    /// committed. `(leaf index, item id)`.
    pub(crate) fn existing_item(&self, blob: &str) -> Result<Option<(u64, String)>, VaultError> {
        if let Some(hit) = self.items.get(blob) {
            return Ok(Some(hit.clone()));
        }
        let v = self.writer.vault;
        match v.index().item_for_blob(blob, self.old_size)? {
            Some(leaf_index) => {
                let leaf = v.log().leaf(leaf_index, self.old_size)?;
                Ok(Some((
                    leaf_index,
                    hex32(&guwah_core::merkle::leaf_hash(&leaf)),
                )))
            }
            None => Ok(None),
        }
    }

    /// Append a new item record for `blob` with `values` committed as its
    /// fields, signed by the collector. Returns `(leaf index, item id)`.
    pub(crate) fn push_item(
        &mut self,
        blob: &Blob,
        sealed_at: &str,
        values: &[(String, String)],
        what: &str,
    ) -> Result<(u64, String), VaultError> {
        let (fields, private) = commit_values(values)?;
        let mut rec = ItemRecord {
            media_type: blob.media_type.into(),
            size: blob.size,
            sha256: blob.sha256,
            sealed_at: sealed_at.to_owned(),
            collector: [0; 32],
            fields,
            signature: [0; 64],
        };
        rec.sign(&self.keys.collector)
            .map_err(|e| VaultError::BadArgument {
                what: what.to_owned(),
                why: e.to_string(),
            })?;
        let (leaf_index, id) = self.push(Record::Item(rec), &private, EntryKind::Item, None)?;
        self.batch.content.push((blob.blob.clone(), leaf_index));
        self.items
            .insert(blob.blob.clone(), (leaf_index, id.clone()));
        Ok((leaf_index, id))
    }

    /// Append a custody event about `item_row`'s item, signed by the
    /// collector (the actor, for now).
    pub(crate) fn push_event(
        &mut self,
        action: Action,
        item_row: &EntryRow,
        values: &[(String, String)],
        at: &str,
    ) -> Result<(u64, String), VaultError> {
        let (fields, private) = commit_values(values)?;
        let item = parse_hex32(&item_row.record_id).ok_or_else(|| {
            VaultError::damaged("index", format!("bad item id {}", item_row.record_id))
        })?;
        let mut ev = EventRecord {
            action,
            item,
            at: at.to_owned(),
            actor: [0; 32],
            related: None,
            fields,
            signature: [0; 64],
        };
        ev.sign(&self.keys.collector)
            .map_err(|e| VaultError::BadArgument {
                what: "event".into(),
                why: e.to_string(),
            })?;
        self.push(
            Record::Event(ev),
            &private,
            EntryKind::Event,
            Some(&item_row.record_id),
        )
    }

    /// Append an audit record with `values` committed as its fields,
    /// signed by the collector key (the server's own key).
    pub(crate) fn push_audit(
        &mut self,
        action: AuditAction,
        values: &[(String, String)],
        at: &str,
    ) -> Result<(u64, String), VaultError> {
        let (fields, private) = commit_values(values)?;
        let mut rec = AuditRecord {
            action,
            at: at.to_owned(),
            actor: [0; 32],
            fields,
            signature: [0; 64],
        };
        rec.sign(&self.keys.collector)
            .map_err(|e| VaultError::BadArgument {
                what: "audit record".into(),
                why: e.to_string(),
            })?;
        self.push(Record::Audit(rec), &private, EntryKind::Audit, None)
    }

    fn push(
        &mut self,
        record: Record,
        private: &Private,
        kind: EntryKind,
        item_id: Option<&str>,
    ) -> Result<(u64, String), VaultError> {
        let leaf_index = self.old_size + self.leaves.len() as u64;
        let id = hex32(&record.id());
        self.batch.entries.push(EntryRow {
            leaf_index,
            sealed: private.seal(&self.keys.index_key, leaf_index, &id)?,
            record_id: id.clone(),
            kind,
            item_id: item_id.unwrap_or(&id).to_owned(),
        });
        self.leaves.push(record.encode());
        Ok((leaf_index, id))
    }

    /// Record that `account_key` submitted `item_id`, by the event at
    /// `leaf_index` of this append.
    pub(crate) fn push_submission(&mut self, item_id: &str, account_key: &str, leaf_index: u64) {
        self.batch.submissions.push(guwah_store::Submission {
            item_id: item_id.to_owned(),
            account: account_key.to_owned(),
            leaf_index,
        });
    }

    /// Keep an item's sealed perceptual hashes, in the same index
    /// transaction as its entry (see `similar.rs`).
    pub(crate) fn push_pdq(&mut self, leaf_index: u64, sealed: Vec<u8>) {
        self.batch.pdq.push((leaf_index, sealed));
    }

    /// Encrypt a stream into a blob: the one place where bytes enter the
    /// vault (files, chat attachments, rendered messages). The outer error
    /// is the vault's (fatal); the inner one says why the stream could not
    /// be read or changed under us (the caller decides what that means).
    /// Content the vault (or this append) holds already is not stored again.
    pub(crate) fn store_stream(
        &mut self,
        mut reader: impl Read,
        name: &str,
        expected: Option<u64>,
        progress: &mut dyn FnMut(AddProgress),
    ) -> Result<Result<Blob, String>, VaultError> {
        let v = self.writer.vault;
        let mut head = vec![0u8; 512];
        let mut n = 0;
        while n < head.len() {
            match reader.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Ok(Err(e.to_string())),
            }
        }
        head.truncate(n);
        let media_type = sniff_media_type(&head, name);
        let mut staged = v.blobs.create()?;
        let mut done = 0u64;
        let result = crypto::encrypt_and_hash(
            std::io::Cursor::new(head).chain(reader),
            &mut staged,
            &self.keys.blob_key,
            &mut |total| {
                progress(AddProgress::Bytes(total.saturating_sub(done)));
                done = total;
            },
        );
        let sealed = match result.and_then(|s| {
            staged
                .flush()
                .map(|_| s)
                .map_err(crypto::StreamError::Write)
        }) {
            Ok(s) => s,
            Err(crypto::StreamError::Read(e)) => {
                staged.abort();
                return Ok(Err(e.to_string()));
            }
            Err(e) => {
                staged.abort();
                return Err(VaultError::Store(StoreError::Backend {
                    object: format!("{}: a blob being written", v.location),
                    message: e.to_string(),
                }));
            }
        };
        if let Some(want) = expected
            && sealed.size != want
        {
            staged.abort();
            return Ok(Err(format!(
                "it changed while it was being read ({} bytes read, {want} expected); add it again when it is complete",
                sealed.size
            )));
        }
        let blob = self.keys.blob_name(&sealed.sha256);
        if self.holds(&blob)? {
            staged.abort();
        } else {
            self.keep_new(staged, &blob)?;
        }
        Ok(Ok(Blob {
            blob,
            sha256: sealed.sha256,
            size: sealed.size,
            media_type,
        }))
    }

    /// [`Append::store_stream`] of a blob already sealed under the vault's
    /// blob key in the local `file`, whose plaintext `sealed` describes and
    /// begins with `head`: the store adopts the file (the folder store
    /// links it) instead of the bytes being encrypted and written again.
    pub(crate) fn store_sealed_file(
        &mut self,
        file: &std::path::Path,
        sealed: &crypto::Sealed,
        head: &[u8],
        name: &str,
    ) -> Result<Result<Blob, String>, VaultError> {
        let blob = self.keys.blob_name(&sealed.sha256);
        // Held already: nothing to adopt (a store without links would copy).
        if !self.holds(&blob)? {
            let staged = self.writer.vault.blobs.adopt(file)?;
            self.keep_new(staged, &blob)?;
        }
        Ok(Ok(Blob {
            blob,
            sha256: sealed.sha256,
            size: sealed.size,
            media_type: sniff_media_type(head, name),
        }))
    }

    /// Whether this append or a committed item holds the blob `blob`.
    fn holds(&self, blob: &str) -> Result<bool, VaultError> {
        Ok(self.stored.contains(blob)
            || self
                .writer
                .vault
                .index()
                .item_for_blob(blob, self.old_size)?
                .is_some())
    }

    /// Commits `staged` as the new blob `blob` of this append.
    fn keep_new(
        &mut self,
        staged: Box<dyn guwah_store::StagedBlob + '_>,
        blob: &str,
    ) -> Result<(), VaultError> {
        let v = self.writer.vault;
        // Blobs are written once: one under this name that no committed
        // item holds is a leftover of an append that failed.
        if v.blobs.exists(blob)? {
            v.blobs.remove(blob)?;
        }
        self.stored.insert(blob.to_owned());
        self.blobs.push(blob.to_owned());
        staged.commit(blob)?;
        Ok(())
    }

    /// Make the append durable, in the order of the module docs. With
    /// nothing appended, nothing is written.
    pub(crate) fn commit(mut self) -> Result<(), VaultError> {
        if self.leaves.is_empty() {
            return Ok(());
        }
        let v = self.writer.vault;
        v.blobs.sync_blobs()?;
        let log = v.log();
        let checkpoint = log.stage(self.old_size, &self.leaves)?;
        self.inserted = true;
        v.index().insert(&self.batch)?;
        let old = self.writer.head.clone();
        match log.commit(old.as_ref(), checkpoint, &self.keys.log_signer) {
            Ok(head) => {
                self.settled = true;
                self.writer.head = Some(head);
                Ok(())
            }
            Err(e) => {
                // Clean up only if the swap surely did not happen.
                let unchanged = v
                    .checkpoints
                    .latest()
                    .is_ok_and(|l| l.as_deref() == old.as_ref().map(|h| h.note.as_slice()));
                self.settled = !unchanged;
                Err(e)
            }
        }
    }
}

impl Drop for Append<'_, '_> {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        // Not committed: nothing refers to what this append wrote. Best
        // effort; whatever stays is removed or replaced by the next writer,
        // or noted by `verify` (an unreferenced blob).
        let v = self.writer.vault;
        if self.inserted {
            let _ = v.index().roll_back_past(self.old_size);
        }
        for b in &self.blobs {
            let _ = v.blobs.remove(b);
        }
    }
}
