//! Opening a vault, and the read-side operations: list, show, get, proofs.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use guwah_core::checkpoint::Checkpoint;
use guwah_core::note::Verifier;
use guwah_core::record::{Action, FieldCommitment, ItemRecord, Record, commit_field, hex32};
use guwah_store::fs::FsStore;
use guwah_store::{BlobStore, CheckpointStore, LogStore};
use serde::Serialize;

use crate::crypto;
use crate::error::VaultError;
use crate::index::{EntryRow, Index, Private, SaltedValue};
use crate::keys::{KdfParams, VaultKeys};
use crate::log::{ConsistencyProof, Head, InclusionProof, LogWriter};

const MARKER: &str = "guwah.vault";
const KEY_FILE: &str = "keys.sealed";
const INDEX_FILE: &str = "index.sqlite";
const LOCK_FILE: &str = "lock";

/// A short, unambiguous-in-practice form of an item id (16 hex digits).
pub fn short_id(id: &str) -> &str {
    &id[..16.min(id.len())]
}

/// An open vault.
pub struct Vault {
    pub(crate) root: PathBuf,
    pub(crate) blobs: Box<dyn BlobStore>,
    pub(crate) log_objects: Box<dyn LogStore>,
    pub(crate) checkpoints: Box<dyn CheckpointStore>,
    pub(crate) origin: String,
    pub(crate) log_key: Verifier,
    pub(crate) keys: Option<VaultKeys>,
    index: Mutex<Index>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("root", &self.root)
            .field("origin", &self.origin)
            .finish()
    }
}

/// One line of `guwah list`.
#[derive(Debug, Clone, Serialize)]
pub struct ItemSummary {
    /// The item id (hex leaf hash of its record).
    pub id: String,
    /// Its index in the log.
    pub leaf_index: u64,
    /// Media type.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// When it was sealed.
    pub sealed_at: String,
    /// Its file name when added, if known.
    pub filename: Option<String>,
    /// Tags, if any.
    pub tags: Vec<String>,
}

/// A metadata field with its value.
#[derive(Debug, Clone, Serialize)]
pub struct FieldValue {
    /// Field name.
    pub name: String,
    /// The value, if the index holds it.
    pub value: Option<String>,
    /// The commitment in the sealed record, base64.
    pub commitment: String,
    /// Whether value and salt reproduce the commitment.
    pub matches: bool,
}

/// One step of an item's custody history.
#[derive(Debug, Clone, Serialize)]
pub struct CustodyEntry {
    /// Its index in the log.
    pub leaf_index: u64,
    /// `added`, or an event action.
    pub action: String,
    /// When.
    pub at: String,
    /// Who: the Ed25519 key, base64.
    pub actor: String,
    /// Details.
    pub fields: Vec<FieldValue>,
}

/// Everything `guwah show` prints.
#[derive(Debug, Clone, Serialize)]
pub struct ItemDetails {
    /// The item id.
    pub id: String,
    /// Its index in the log.
    pub leaf_index: u64,
    /// SHA-256 of the original, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Media type.
    pub media_type: String,
    /// When sealed.
    pub sealed_at: String,
    /// The collector's key, base64.
    pub collector: String,
    /// Metadata fields.
    pub fields: Vec<FieldValue>,
    /// Custody history, oldest first.
    pub custody: Vec<CustodyEntry>,
    /// The log's tree size these details were read at.
    pub tree_size: u64,
}

fn now_utc() -> String {
    let now = time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .unwrap_or_else(|_| time::OffsetDateTime::now_utc());
    now.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| "1970-01-01T00:00:00Z".into())
}

pub(crate) fn timestamp_now() -> String {
    now_utc()
}

/// Fresh salted commitments for `values`, sorted by name.
pub(crate) fn commit_values(
    values: &[(String, String)],
) -> Result<(Vec<FieldCommitment>, Private), VaultError> {
    let mut private = Private::default();
    let mut fields = Vec::new();
    let mut sorted: Vec<&(String, String)> = values.iter().collect();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, value) in sorted {
        let mut salt = [0u8; 32];
        getrandom::fill(&mut salt).map_err(|e| VaultError::Io {
            path: "operating system random generator".into(),
            source: std::io::Error::other(e.to_string()),
        })?;
        fields.push(FieldCommitment {
            name: name.clone(),
            commitment: commit_field(name, &salt, value.as_bytes()),
        });
        private.fields.insert(
            name.clone(),
            SaltedValue {
                value: value.clone(),
                salt: B64.encode(salt),
            },
        );
    }
    Ok((fields, private))
}

fn field_values(fields: &[FieldCommitment], private: Option<&Private>) -> Vec<FieldValue> {
    fields
        .iter()
        .map(|f| {
            let sv = private.and_then(|p| p.fields.get(&f.name));
            let matches = sv.is_some_and(|sv| {
                B64.decode(&sv.salt)
                    .ok()
                    .and_then(|s| <[u8; 32]>::try_from(s).ok())
                    .is_some_and(|salt| {
                        commit_field(&f.name, &salt, sv.value.as_bytes()) == f.commitment
                    })
            });
            FieldValue {
                name: f.name.clone(),
                value: sv.map(|sv| sv.value.clone()),
                commitment: B64.encode(f.commitment),
                matches,
            }
        })
        .collect()
}

fn parse_marker(root: &Path, text: &str) -> Result<(String, Verifier, [u8; 32]), VaultError> {
    let bad =
        |why: &str| VaultError::damaged(root.join(MARKER).display().to_string(), why.to_owned());
    let mut lines = text.lines();
    if lines.next() != Some("guwah-vault v1") {
        return Err(bad("first line is not \"guwah-vault v1\""));
    }
    let origin = lines
        .next()
        .and_then(|l| l.strip_prefix("origin "))
        .ok_or_else(|| bad("second line is not \"origin <name>\""))?;
    let vkey = lines
        .next()
        .and_then(|l| l.strip_prefix("log-key "))
        .ok_or_else(|| bad("third line is not \"log-key <vkey>\""))?;
    let key = Verifier::from_vkey(vkey).map_err(|e| bad(&format!("log-key: {e}")))?;
    if key.name() != origin {
        return Err(bad("log-key name is not the origin"));
    }
    let collector = lines
        .next()
        .and_then(|l| l.strip_prefix("collector "))
        .and_then(|b| B64.decode(b).ok())
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| bad("fourth line is not \"collector <base64 Ed25519 key>\""))?;
    // Byte for byte what `init` wrote: no stray or missing characters.
    let canonical = format!(
        "guwah-vault v1\norigin {origin}\nlog-key {}\ncollector {}\n",
        key.to_vkey(),
        B64.encode(collector)
    );
    if text != canonical {
        return Err(bad("is not in canonical form (altered?)"));
    }
    Ok((origin.to_owned(), key, collector))
}

impl Vault {
    /// Create a new vault in `root` (a new or empty folder): keys sealed
    /// under `passphrase`, an empty log, an empty index.
    pub fn init(
        root: &Path,
        passphrase: &[u8],
        origin: Option<&str>,
        kdf: KdfParams,
    ) -> Result<Vault, VaultError> {
        if root.exists() {
            let mut entries = fs::read_dir(root).map_err(VaultError::io(root))?;
            if entries.next().is_some() {
                return Err(VaultError::AlreadyExists(root.to_owned()));
            }
        }
        let origin = match origin {
            Some(o) => o.to_owned(),
            None => {
                let mut r = [0u8; 10];
                getrandom::fill(&mut r).map_err(|e| VaultError::Io {
                    path: "operating system random generator".into(),
                    source: std::io::Error::other(e.to_string()),
                })?;
                let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
                format!("guwah.vault/{hex}")
            }
        };
        if !guwah_core::note::is_valid_key_name(&origin) {
            return Err(VaultError::BadArgument {
                what: format!("origin {origin:?}"),
                why: "must be non-empty, without spaces or '+' (it is also the log key's name)"
                    .into(),
            });
        }
        let (keys, sealed) = VaultKeys::generate(&origin, passphrase, kdf)?;
        fs::create_dir_all(root).map_err(VaultError::io(root))?;
        FsStore::create(root)?;
        write_durable(&root.join(KEY_FILE), &sealed)?;
        let index = Index::open(&root.join(INDEX_FILE), true)?;
        let log_key = keys.log_verifier();
        // The marker goes last: a folder without it is not (yet) a vault.
        let marker = format!(
            "guwah-vault v1\norigin {origin}\nlog-key {}\ncollector {}\n",
            log_key.to_vkey(),
            B64.encode(keys.collector.verifying_key().to_bytes())
        );
        write_durable(&root.join(MARKER), marker.as_bytes())?;
        Ok(Vault {
            root: root.to_owned(),
            blobs: Box::new(FsStore::open(root)?),
            log_objects: Box::new(FsStore::open(root)?),
            checkpoints: Box::new(FsStore::open(root)?),
            origin,
            log_key,
            keys: Some(keys),
            index: Mutex::new(index),
        })
    }

    /// Open a vault. Without a passphrase only public operations work
    /// (the log commands); with one, everything.
    pub fn open(root: &Path, passphrase: Option<&[u8]>) -> Result<Vault, VaultError> {
        let marker_path = root.join(MARKER);
        let text = match fs::read(&marker_path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(VaultError::NotAVault(root.to_owned()));
            }
            Err(e) => return Err(VaultError::io(&marker_path)(e)),
        };
        let text = String::from_utf8(text)
            .map_err(|_| VaultError::damaged(marker_path.display().to_string(), "not UTF-8"))?;
        let (origin, log_key, collector) = parse_marker(root, &text)?;
        let keys = match passphrase {
            None => None,
            Some(p) => {
                let key_path = root.join(KEY_FILE);
                let sealed = fs::read(&key_path).map_err(VaultError::io(&key_path))?;
                let keys = VaultKeys::unlock(&origin, p, &sealed, &key_path)?;
                if keys.log_verifier().to_vkey() != log_key.to_vkey() {
                    return Err(VaultError::damaged(
                        marker_path.display().to_string(),
                        "log-key does not match the vault's sealed keys",
                    ));
                }
                if keys.collector.verifying_key().to_bytes() != collector {
                    return Err(VaultError::damaged(
                        marker_path.display().to_string(),
                        "collector does not match the vault's sealed keys",
                    ));
                }
                Some(keys)
            }
        };
        FsStore::open(root)?;
        let index = Index::open(&root.join(INDEX_FILE), false)?;
        Ok(Vault {
            root: root.to_owned(),
            blobs: Box::new(FsStore::open(root)?),
            log_objects: Box::new(FsStore::open(root)?),
            checkpoints: Box::new(FsStore::open(root)?),
            origin,
            log_key,
            keys,
            index: Mutex::new(index),
        })
    }

    /// Seal the vault's keys under a new passphrase, under the writer lock.
    /// The key file is replaced atomically (temp file, fsync, rename): a
    /// crash leaves the old sealing or the new one. The keys themselves,
    /// and so every blob, record and signature, stay the same.
    pub fn change_passphrase(
        &self,
        old: &[u8],
        new: &[u8],
        kdf: KdfParams,
    ) -> Result<(), VaultError> {
        let (_lock, _) = self.lock_for_write()?;
        let key_path = self.root.join(KEY_FILE);
        let sealed = fs::read(&key_path).map_err(VaultError::io(&key_path))?;
        let resealed = VaultKeys::reseal(old, new, &sealed, kdf, &key_path)?;
        // Check the new sealing opens to the same keys before it replaces the old.
        let keys = VaultKeys::unlock(&self.origin, new, &resealed, &key_path)?;
        if keys.log_verifier().to_vkey() != self.log_key.to_vkey() {
            return Err(VaultError::damaged(
                key_path.display().to_string(),
                "the resealed keys differ from the vault's",
            ));
        }
        write_durable(&key_path, &resealed)
    }

    /// The vault folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The log's origin (also its key name).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    pub(crate) fn keys(&self) -> Result<&VaultKeys, VaultError> {
        self.keys.as_ref().ok_or_else(|| VaultError::BadArgument {
            what: "passphrase".into(),
            why: "this operation needs the vault's passphrase".into(),
        })
    }

    pub(crate) fn index(&self) -> MutexGuard<'_, Index> {
        self.index.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn log(&self) -> LogWriter<'_> {
        LogWriter {
            tiles: &*self.log_objects,
            checkpoints: &*self.checkpoints,
            origin: &self.origin,
        }
    }

    pub(crate) fn head(&self) -> Result<Option<Head>, VaultError> {
        self.log().head(&self.log_key)
    }

    pub(crate) fn size(&self) -> Result<u64, VaultError> {
        Ok(self.head()?.map_or(0, |h| h.checkpoint.size))
    }

    /// Take the writer lock, and clean up after any interrupted append.
    pub(crate) fn lock_for_write(&self) -> Result<(File, Option<Head>), VaultError> {
        let path = self.root.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(VaultError::io(&path))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(fs::TryLockError::WouldBlock) => return Err(VaultError::Locked(self.root.clone())),
            Err(fs::TryLockError::Error(e)) => return Err(VaultError::io(&path)(e)),
        }
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
        let staging = self.root.join("blobs/.staging");
        if let Ok(entries) = fs::read_dir(&staging) {
            for e in entries.flatten() {
                let _ = fs::remove_file(e.path());
            }
        }
        Ok((lock, head))
    }

    /// The history copy of a checkpoint is written after the swap, so a
    /// history larger than the latest checkpoint means `log/checkpoint` was
    /// deleted or replaced by an older one. A writer must not go on from
    /// there: it would discard the index rows of the newer entries.
    pub(crate) fn refuse_rollback(&self, size: u64) -> Result<(), VaultError> {
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

    /// The log's verifier key as a C2SP vkey line.
    pub fn log_vkey(&self) -> String {
        self.log_key.to_vkey()
    }

    /// The latest signed checkpoint, or the stored one of `size`, verbatim.
    pub fn checkpoint_note(&self, size: Option<u64>) -> Result<Vec<u8>, VaultError> {
        let head = self.head()?.ok_or_else(|| {
            VaultError::UnknownItem("the log is empty: add evidence first".into())
        })?;
        match size {
            None => Ok(head.note),
            Some(n) if n == head.checkpoint.size => Ok(head.note),
            Some(n) => {
                let note = self.checkpoints.history(n)?.ok_or_else(|| {
                    VaultError::UnknownItem(format!("no stored checkpoint of size {n}; sizes are listed by `guwah log checkpoints`"))
                })?;
                self.log()
                    .open_note(&note, &self.log_key, &format!("log/checkpoints/{n}"))?;
                Ok(note)
            }
        }
    }

    /// Every stored checkpoint size.
    pub fn checkpoint_sizes(&self) -> Result<Vec<u64>, VaultError> {
        Ok(self.checkpoints.history_sizes()?)
    }

    /// The full id of the item named by an id or unique prefix.
    pub fn item_id(&self, id: &str) -> Result<String, VaultError> {
        Ok(self.resolve(id)?.record_id)
    }

    /// Resolve an item id or unique prefix (at least 6 hex digits).
    pub(crate) fn resolve(&self, id: &str) -> Result<EntryRow, VaultError> {
        let id = id.trim().to_ascii_lowercase();
        if id.len() < 6 || id.len() > 64 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(VaultError::UnknownItem(format!(
                "item id {id:?}: expected 6 to 64 hex digits (see `guwah list`)"
            )));
        }
        let size = self.size()?;
        let mut rows = self.index().items_by_prefix(&id, size)?;
        match rows.len() {
            0 => Err(VaultError::UnknownItem(format!(
                "no item with id {id} in this vault"
            ))),
            1 => Ok(rows.remove(0)),
            _ => Err(VaultError::UnknownItem(format!(
                "item id {id} is ambiguous; give more digits"
            ))),
        }
    }

    /// The record of an entry, read from the log and checked against the id.
    pub(crate) fn record_of(
        &self,
        row: &EntryRow,
        size: u64,
    ) -> Result<(Vec<u8>, Record), VaultError> {
        let leaf = self.log().leaf(row.leaf_index, size)?;
        let record = Record::parse(&leaf).map_err(|e| {
            VaultError::damaged(format!("log entry {}", row.leaf_index), e.to_string())
        })?;
        if hex32(&record.id()) != row.record_id {
            return Err(VaultError::damaged(
                format!("log entry {}", row.leaf_index),
                "does not match the index's record id",
            ));
        }
        Ok((leaf, record))
    }

    /// The exact leaf bytes of an item's record.
    pub fn leaf_bytes(&self, id: &str) -> Result<Vec<u8>, VaultError> {
        let row = self.resolve(id)?;
        Ok(self.record_of(&row, self.size()?)?.0)
    }

    /// An inclusion proof of an item's record against the latest checkpoint.
    pub fn inclusion_proof(&self, id: &str) -> Result<InclusionProof, VaultError> {
        let row = self.resolve(id)?;
        let size = self.size()?;
        let (leaf, _) = self.record_of(&row, size)?;
        self.log().inclusion(row.leaf_index, size, &leaf)
    }

    /// A consistency proof from the stored checkpoint of `from` to the latest.
    pub fn consistency_proof(&self, from: u64) -> Result<ConsistencyProof, VaultError> {
        let size = self.size()?;
        if from > size {
            return Err(VaultError::BadArgument {
                what: format!("--from {from}"),
                why: format!("larger than the latest checkpoint's size {size}"),
            });
        }
        self.log().consistency(from, size)
    }

    fn item_record(record: &Record, row: &EntryRow) -> Result<ItemRecord, VaultError> {
        match record {
            Record::Item(r) => Ok(r.clone()),
            Record::Event(_) => Err(VaultError::damaged(
                format!("log entry {}", row.leaf_index),
                "indexed as an item but is an event",
            )),
        }
    }

    /// Every item, in log order.
    pub fn list(&self) -> Result<Vec<ItemSummary>, VaultError> {
        let keys = self.keys()?;
        let size = self.size()?;
        let rows = self.index().all(size)?;
        let mut out = Vec::new();
        for row in rows.iter().filter(|r| r.kind == "item") {
            let (_, record) = self.record_of(row, size)?;
            let item = Self::item_record(&record, row)?;
            let private = Private::open(&keys.index_key, row)?;
            let get = |n: &str| private.fields.get(n).map(|v| v.value.clone());
            out.push(ItemSummary {
                id: row.record_id.clone(),
                leaf_index: row.leaf_index,
                media_type: item.media_type,
                size: item.size,
                sealed_at: item.sealed_at,
                filename: get("filename"),
                tags: get("tags")
                    .map(|t| t.lines().map(str::to_owned).collect())
                    .unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// Everything about one item, custody history included.
    pub fn show(&self, id: &str) -> Result<ItemDetails, VaultError> {
        let keys = self.keys()?;
        let row = self.resolve(id)?;
        let size = self.size()?;
        let (_, record) = self.record_of(&row, size)?;
        let item = Self::item_record(&record, &row)?;
        let private = Private::open(&keys.index_key, &row)?;
        let mut custody = vec![CustodyEntry {
            leaf_index: row.leaf_index,
            action: "added".into(),
            at: item.sealed_at.clone(),
            actor: B64.encode(item.collector),
            fields: Vec::new(),
        }];
        for ev_row in self
            .index()
            .history(&row.record_id, size)?
            .iter()
            .filter(|r| r.kind == "event")
        {
            let (_, rec) = self.record_of(ev_row, size)?;
            let Record::Event(ev) = rec else {
                return Err(VaultError::damaged(
                    format!("log entry {}", ev_row.leaf_index),
                    "indexed as an event but is an item",
                ));
            };
            let p = Private::open(&keys.index_key, ev_row)?;
            custody.push(CustodyEntry {
                leaf_index: ev_row.leaf_index,
                action: ev.action.as_str().into(),
                at: ev.at.clone(),
                actor: B64.encode(ev.actor),
                fields: field_values(&ev.fields, Some(&p)),
            });
        }
        Ok(ItemDetails {
            id: row.record_id.clone(),
            leaf_index: row.leaf_index,
            sha256: hex32(&item.sha256),
            size: item.size,
            media_type: item.media_type.clone(),
            sealed_at: item.sealed_at.clone(),
            collector: B64.encode(item.collector),
            fields: field_values(&item.fields, Some(&private)),
            custody,
            tree_size: size,
        })
    }

    /// Append one custody event about an item, with its own checkpoint.
    pub(crate) fn append_event(
        &self,
        item_row: &EntryRow,
        action: Action,
        values: &[(String, String)],
        head: Option<&Head>,
    ) -> Result<u64, VaultError> {
        self.append_events(&[(item_row, values.to_vec())], action, head)?;
        Ok(head.map_or(0, |h| h.checkpoint.size))
    }

    /// Add a note to an item, as a custody event.
    pub fn annotate(&self, id: &str, note: &str) -> Result<u64, VaultError> {
        if note.trim().is_empty() {
            return Err(VaultError::BadArgument {
                what: "--note".into(),
                why: "is empty".into(),
            });
        }
        let row = self.resolve(id)?;
        let (_lock, head) = self.lock_for_write()?;
        self.append_event(
            &row,
            Action::Annotated,
            &[("note".into(), note.into())],
            head.as_ref(),
        )
    }

    /// Write an item's original bytes to `out` (or to `out` = stdout when
    /// `None`), after sealing an `exported` custody event. The event holds
    /// the `recipient` and `reason` the user gave, never the local path:
    /// events travel in packages to strangers, and a path names the
    /// documenter's account and folders.
    pub fn get(
        &self,
        id: &str,
        out: Option<&Path>,
        reason: Option<&str>,
        recipient: Option<&str>,
        progress: &mut dyn FnMut(u64),
    ) -> Result<ItemRecord, VaultError> {
        let keys = self.keys()?;
        let row = self.resolve(id)?;
        if let Some(out) = out {
            if out.exists() {
                return Err(VaultError::BadArgument {
                    what: out.display().to_string(),
                    why: "already exists; guwah does not overwrite files, choose a new path".into(),
                });
            }
            let parent = out
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .unwrap_or(Path::new("."));
            if !parent.is_dir() {
                return Err(VaultError::BadArgument {
                    what: out.display().to_string(),
                    why: format!("folder {} does not exist", parent.display()),
                });
            }
        }
        let (_lock, head) = self.lock_for_write()?;
        let size = head.as_ref().map_or(0, |h| h.checkpoint.size);
        let (_, record) = self.record_of(&row, size)?;
        let item = Self::item_record(&record, &row)?;
        let values = crate::export::handover_values(
            if out.is_some() {
                "file"
            } else {
                "standard output"
            },
            recipient,
            reason,
        )?;
        // The custody event is sealed first: an export may fail after it, but
        // no export ever happens without one.
        self.append_event(&row, Action::Exported, &values, head.as_ref())?;
        let blob_name = keys.blob_name(&item.sha256);
        let src = self.blobs.open(&blob_name)?;
        let check = |sealed: crypto::Sealed| {
            if sealed.sha256 != item.sha256 || sealed.size != item.size {
                Err(VaultError::damaged(
                    format!("blob {blob_name}"),
                    "decrypts to bytes whose SHA-256 or size differs from the sealed record",
                ))
            } else {
                Ok(())
            }
        };
        match out {
            None => {
                let stdout = std::io::stdout();
                let sealed = crypto::decrypt_and_hash(src, stdout.lock(), &keys.blob_key, progress)
                    .map_err(|e| VaultError::damaged(format!("blob {blob_name}"), e.to_string()))?;
                check(sealed)?;
            }
            Some(out) => {
                let parent = out
                    .parent()
                    .filter(|p| !p.as_os_str().is_empty())
                    .unwrap_or(Path::new("."));
                let tmp =
                    tempfile::NamedTempFile::new_in(parent).map_err(VaultError::io(parent))?;
                let sealed = crypto::decrypt_and_hash(src, tmp.as_file(), &keys.blob_key, progress)
                    .map_err(|e| VaultError::damaged(format!("blob {blob_name}"), e.to_string()))?;
                check(sealed)?;
                tmp.as_file().sync_all().map_err(VaultError::io(out))?;
                tmp.persist_noclobber(out)
                    .map_err(|e| VaultError::io(out)(e.error))?;
            }
        }
        Ok(item)
    }

    /// The latest checkpoint's parsed body, if any.
    pub fn latest_checkpoint(&self) -> Result<Option<Checkpoint>, VaultError> {
        Ok(self.head()?.map(|h| h.checkpoint))
    }
}

/// Write a new file durably: temporary file, fsync, rename, fsync folder.
pub(crate) fn write_durable(path: &Path, data: &[u8]) -> Result<(), VaultError> {
    let parent = path.parent().unwrap_or(Path::new("."));
    let mut tmp = tempfile::NamedTempFile::new_in(parent).map_err(VaultError::io(parent))?;
    tmp.write_all(data).map_err(VaultError::io(path))?;
    tmp.as_file().sync_all().map_err(VaultError::io(path))?;
    tmp.persist(path)
        .map_err(|e| VaultError::io(path)(e.error))?;
    File::open(parent)
        .and_then(|d| d.sync_all())
        .map_err(VaultError::io(parent))?;
    Ok(())
}
