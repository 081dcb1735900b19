//! Opening a vault, and the read-side operations: list, show, get, proofs.

use std::fs;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use guwah_core::checkpoint::Checkpoint;
use guwah_core::note::Verifier;
use guwah_core::record::{Action, FieldCommitment, ItemRecord, Record, commit_field, hex32};
use guwah_store::{
    AccountStore, Backend, BlobStore, CheckpointStore, IndexStore, KeyedStore, LogStore,
    StoreError, WriterLock,
};
use serde::Serialize;

use crate::crypto;
use crate::error::VaultError;
use crate::index::{EntryKind, EntryRow, Private, SaltedValue};
use crate::keys::{KdfParams, VaultKeys};
use crate::log::{ConsistencyProof, Head, InclusionProof, LogWriter};

/// The vault marker, a keyed value (`guwah.vault` in the local folder).
pub(crate) const MARKER: &str = "guwah.vault";
/// The sealed key file, a keyed value.
pub(crate) const KEY_FILE: &str = "keys.sealed";

/// A short, unambiguous-in-practice form of an item id (16 hex digits).
pub fn short_id(id: &str) -> &str {
    &id[..16.min(id.len())]
}

/// An open vault, on any [`Backend`].
pub struct Vault {
    /// Where it is, for messages.
    pub(crate) location: String,
    /// Its folder, when it is one on this machine.
    pub(crate) local_root: Option<std::path::PathBuf>,
    pub(crate) blobs: Box<dyn BlobStore>,
    pub(crate) log_objects: Box<dyn LogStore>,
    pub(crate) checkpoints: Box<dyn CheckpointStore>,
    index: Box<dyn IndexStore>,
    pub(crate) accounts: Box<dyn AccountStore>,
    pub(crate) writer_lock: Box<dyn WriterLock>,
    pub(crate) keyed: Box<dyn KeyedStore>,
    pub(crate) origin: String,
    pub(crate) log_key: Verifier,
    pub(crate) keys: Option<VaultKeys>,
    /// The last checkpoint whose signature was checked: the same bytes
    /// need no second check (a server reads the head on every request).
    head_cache: std::sync::Mutex<Option<Head>>,
}

impl std::fmt::Debug for Vault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Vault")
            .field("location", &self.location)
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
    /// SHA-256 of the original, hex (what `sha256sum` prints for the file).
    pub sha256: String,
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
    /// Its note, if any (for searching; not printed by `list`).
    #[serde(skip)]
    pub note: Option<String>,
    /// The account that uploaded it to a team server, if one did.
    #[serde(skip)]
    pub submitted_by: Option<String>,
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

fn parse_marker(name: &str, text: &str) -> Result<(String, Verifier, [u8; 32]), VaultError> {
    let bad = |why: &str| VaultError::damaged(name, why.to_owned());
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

/// A fresh origin, or the one given, checked.
fn choose_origin(origin: Option<&str>) -> Result<String, VaultError> {
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
            why: "must be non-empty, without spaces or '+' (it is also the log key's name)".into(),
        });
    }
    Ok(origin)
}

impl Vault {
    /// Create a new vault in the local folder `root` (a new or empty
    /// folder): keys sealed under `passphrase`, an empty log, an empty
    /// index. See [`Vault::init_with`] for any backend.
    pub fn init(
        root: &Path,
        passphrase: &[u8],
        origin: Option<&str>,
        kdf: KdfParams,
    ) -> Result<Vault, VaultError> {
        if root.exists() {
            let mut entries = fs::read_dir(root).map_err(VaultError::io(root))?;
            if entries.next().is_some() {
                return Err(VaultError::AlreadyExists(root.display().to_string()));
            }
        }
        // Everything that can be refused is checked before anything is made.
        let origin = choose_origin(origin)?;
        let (keys, sealed) = VaultKeys::generate(&origin, passphrase, kdf)?;
        fs::create_dir_all(root).map_err(VaultError::io(root))?;
        let backend = Backend::create_local(root)?;
        Self::seal_new(backend, origin, keys, &sealed)
    }

    /// Create a new vault on `backend`, which must hold none: keys sealed
    /// under `passphrase`, an empty log, an empty index.
    pub fn init_with(
        backend: Backend,
        passphrase: &[u8],
        origin: Option<&str>,
        kdf: KdfParams,
    ) -> Result<Vault, VaultError> {
        let origin = choose_origin(origin)?;
        let (keys, sealed) = VaultKeys::generate(&origin, passphrase, kdf)?;
        Self::seal_new(backend, origin, keys, &sealed)
    }

    /// Write a new vault's key file and, last, its marker (a backend
    /// without the marker holds no vault yet), under the writer lock.
    fn seal_new(
        backend: Backend,
        origin: String,
        keys: VaultKeys,
        sealed: &[u8],
    ) -> Result<Vault, VaultError> {
        let log_key = keys.log_verifier();
        let vault = Vault::from_backend(backend, origin, log_key, Some(keys));
        {
            let _guard = vault.take_writer_lock()?;
            if vault.keyed.get(MARKER)?.is_some() || vault.checkpoints.latest()?.is_some() {
                return Err(VaultError::AlreadyExists(vault.location.clone()));
            }
            let keys = vault.keys()?;
            vault.keyed.put(KEY_FILE, sealed)?;
            let marker = format!(
                "guwah-vault v1\norigin {}\nlog-key {}\ncollector {}\n",
                vault.origin,
                vault.log_key.to_vkey(),
                B64.encode(keys.collector.verifying_key().to_bytes())
            );
            vault.keyed.put(MARKER, marker.as_bytes())?;
        }
        Ok(vault)
    }

    fn from_backend(
        backend: Backend,
        origin: String,
        log_key: Verifier,
        keys: Option<VaultKeys>,
    ) -> Vault {
        Vault {
            location: backend.location,
            local_root: backend.local_root,
            blobs: backend.blobs,
            log_objects: backend.log,
            checkpoints: backend.checkpoints,
            index: backend.index,
            accounts: backend.accounts,
            writer_lock: backend.lock,
            keyed: backend.keyed,
            origin,
            log_key,
            keys,
            head_cache: std::sync::Mutex::new(None),
        }
    }

    /// Open the vault in the local folder `root`. Without a passphrase only
    /// public operations work (the log commands); with one, everything.
    pub fn open(root: &Path, passphrase: Option<&[u8]>) -> Result<Vault, VaultError> {
        match Backend::local(root) {
            Ok(backend) => Self::open_with(backend, passphrase),
            Err(StoreError::NoStore(_)) => Err(VaultError::NotAVault(root.display().to_string())),
            Err(e) => Err(e.into()),
        }
    }

    /// Open the vault on `backend` (see [`Vault::open`]).
    pub fn open_with(backend: Backend, passphrase: Option<&[u8]>) -> Result<Vault, VaultError> {
        let location = backend.location.clone();
        let marker_name = format!("{location}/{MARKER}");
        let text = backend
            .keyed
            .get(MARKER)?
            .ok_or(VaultError::NotAVault(location.clone()))?;
        let text = String::from_utf8(text)
            .map_err(|_| VaultError::damaged(marker_name.as_str(), "not UTF-8"))?;
        let (origin, log_key, collector) = parse_marker(&marker_name, &text)?;
        let keys = match passphrase {
            None => None,
            Some(p) => {
                let key_name = format!("{location}/{KEY_FILE}");
                let sealed = backend
                    .keyed
                    .get(KEY_FILE)?
                    .ok_or_else(|| VaultError::damaged(key_name.as_str(), "is missing"))?;
                let keys = VaultKeys::unlock(&origin, p, &sealed, &key_name)?;
                if keys.log_verifier().to_vkey() != log_key.to_vkey() {
                    return Err(VaultError::damaged(
                        marker_name,
                        "log-key does not match the vault's sealed keys",
                    ));
                }
                if keys.collector.verifying_key().to_bytes() != collector {
                    return Err(VaultError::damaged(
                        marker_name,
                        "collector does not match the vault's sealed keys",
                    ));
                }
                Some(keys)
            }
        };
        Ok(Vault::from_backend(backend, origin, log_key, keys))
    }

    /// Seal the vault's keys under a new passphrase, under the writer lock.
    /// The key file is replaced atomically (a keyed value: temp file, fsync,
    /// rename in the local folder): a crash leaves the old sealing or the
    /// new one. The keys themselves, and so every blob, record and
    /// signature, stay the same.
    pub fn change_passphrase(
        &self,
        old: &[u8],
        new: &[u8],
        kdf: KdfParams,
    ) -> Result<(), VaultError> {
        let w = self.writer()?;
        let key_name = format!("{}/{KEY_FILE}", self.location);
        let sealed = self
            .keyed
            .get(KEY_FILE)?
            .ok_or_else(|| VaultError::damaged(key_name.as_str(), "is missing"))?;
        let resealed = VaultKeys::reseal(old, new, &sealed, kdf, &key_name)?;
        // Check the new sealing opens to the same keys before it replaces the old.
        let keys = VaultKeys::unlock(&self.origin, new, &resealed, &key_name)?;
        if keys.log_verifier().to_vkey() != self.log_key.to_vkey() {
            return Err(VaultError::damaged(
                key_name,
                "the resealed keys differ from the vault's",
            ));
        }
        w.put(KEY_FILE, &resealed)
    }

    /// Where the vault is: its folder, or its backend's location.
    pub fn location(&self) -> &str {
        &self.location
    }

    /// The vault's folder, when it is one on this machine.
    pub fn local_root(&self) -> Option<&Path> {
        self.local_root.as_deref()
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

    pub(crate) fn index(&self) -> &dyn IndexStore {
        &*self.index
    }

    pub(crate) fn log(&self) -> LogWriter<'_> {
        LogWriter {
            tiles: &*self.log_objects,
            checkpoints: &*self.checkpoints,
            origin: &self.origin,
        }
    }

    pub(crate) fn head(&self) -> Result<Option<Head>, VaultError> {
        let Some(note) = self.checkpoints.latest()? else {
            return Ok(None);
        };
        let mut cache = self.head_cache.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(h) = &*cache
            && h.note == note
        {
            return Ok(Some(h.clone()));
        }
        let head = self.log().head_of(note, &self.log_key)?;
        *cache = Some(head.clone());
        Ok(Some(head))
    }

    /// The committed tree size: the latest checkpoint's, its signature
    /// checked (what every read is read at).
    pub fn size(&self) -> Result<u64, VaultError> {
        Ok(self.head()?.map_or(0, |h| h.checkpoint.size))
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
        let mut rows = self.index().items_by_prefix(&id, size, 2)?;
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

    pub(crate) fn item_record(record: &Record, row: &EntryRow) -> Result<ItemRecord, VaultError> {
        match record {
            Record::Item(r) => Ok(r.clone()),
            Record::Event(_) | Record::Audit(_) => Err(VaultError::damaged(
                format!("log entry {}", row.leaf_index),
                "indexed as an item but is not an item record",
            )),
        }
    }

    /// Every item, in log order.
    pub fn list(&self) -> Result<Vec<ItemSummary>, VaultError> {
        let keys = self.keys()?;
        let size = self.size()?;
        let rows = self.index().entries(size)?;
        let mut out = Vec::new();
        for row in rows.iter().filter(|r| r.kind == EntryKind::Item) {
            let (_, record) = self.record_of(row, size)?;
            let item = Self::item_record(&record, row)?;
            let private = Private::open(&keys.index_key, row)?;
            let get = |n: &str| private.fields.get(n).map(|v| v.value.clone());
            out.push(ItemSummary {
                id: row.record_id.clone(),
                leaf_index: row.leaf_index,
                sha256: hex32(&item.sha256),
                media_type: item.media_type,
                size: item.size,
                sealed_at: item.sealed_at,
                filename: get("filename"),
                tags: get("tags")
                    .map(|t| t.lines().map(str::to_owned).collect())
                    .unwrap_or_default(),
                note: get("note"),
                submitted_by: get("submitted-by"),
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
            .filter(|r| r.kind == EntryKind::Event)
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

    /// Add a note to an item, as a custody event.
    pub fn annotate(&self, id: &str, note: &str) -> Result<u64, VaultError> {
        if note.trim().is_empty() {
            return Err(VaultError::BadArgument {
                what: "--note".into(),
                why: "is empty".into(),
            });
        }
        let row = self.resolve(id)?;
        let mut w = self.writer()?;
        let leaf_index = w.size();
        w.append_events(
            &[(&row, vec![("note".into(), note.into())])],
            Action::Annotated,
        )?;
        Ok(leaf_index)
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
        let mut w = self.writer()?;
        let (_, record) = self.record_of(&row, w.size())?;
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
        w.append_events(&[(&row, values)], Action::Exported)?;
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
