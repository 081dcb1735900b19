//! The witness's storage: its key, the logs it witnesses, and the latest
//! cosigned checkpoint of each, durable (C2SP tlog-witness).
//!
//! A witness folder holds:
//!
//! ```text
//! WITNESS_DIR/
//!   witness.key        "guwah-witness-key v1\nname <name>\nseed <base64 Ed25519 seed>\n", mode 0600
//!   logs.json          {"logs": [{"origin": "...", "vkey": "<log vkey>"}]}
//!   state/journal      the cosigned checkpoint notes, appended (see below)
//!   state/<hex SHA-256(origin)>   a checkpoint note cosigned for that origin (older versions)
//!   lock               an OS file lock: one `witness serve` per folder
//! ```
//!
//! The key is a **plaintext** file readable only by its owner (0600; a
//! looser mode is refused, as ssh does): a witness is a service that must
//! cosign unattended, so it cannot wait for a passphrase. Protect the host.
//!
//! **Group commit.** A request goes through three steps: [`WitnessStore::check`]
//! (parse, origin, the log's signature: no state, so on any thread at
//! once), [`WitnessStore::commit`] of a *batch* of checked requests, and
//! [`WitnessStore::cosign`]. `commit` applies the batch in order to the
//! state under one lock (so two requests for one origin in one batch
//! chain), appends every changed head to the journal in one write and one
//! `fdatasync`, and only then publishes it: the check against the old size
//! and the update stay atomic, as the spec requires, nothing is answered
//! before it is durable, and requests that arrive together (the server
//! gathers them while the previous batch is being flushed) share one disk
//! flush. [`WitnessStore::add_checkpoint`] is the three steps for one
//! request.
//!
//! **The journal** is `guwah-witness-journal v1\n` followed by records
//! `u32 BE length ‖ first 8 bytes of SHA-256(note) ‖ note`. A witness's
//! heads only grow, so loading keeps, per origin, the largest size among
//! the journal and the older per-origin files. Records after the first one
//! that is incomplete or fails its digest are a write that a crash cut
//! short (never answered: the flush had not returned) and are cut off, as
//! SQLite's WAL does. Past a few MiB the journal is rewritten with one
//! record per origin (temp file, fsync, rename, folder fsync).

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use guwah_core::note::{CosignatureSigner, NoteVerifier, Verifier};
use guwah_core::witness::{self, AddCheckpointRequest, WitnessRefusal, WitnessedHead};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroize;

use crate::error::VaultError;

const KEY_FILE: &str = "witness.key";
const LOGS_FILE: &str = "logs.json";
const STATE_DIR: &str = "state";
const LOCK_FILE: &str = "lock";
const KEY_MAGIC: &str = "guwah-witness-key v1";
const JOURNAL_FILE: &str = "journal";
const JOURNAL_MAGIC: &[u8] = b"guwah-witness-journal v1\n";
/// The journal is rewritten past this size (or twice its live records, if larger).
const COMPACT_AT: u64 = 4 << 20;
/// A record's header: length and digest.
const RECORD_HEAD: usize = 12;

/// One witnessed log, as configured in `logs.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct WitnessedLog {
    /// The log's origin line.
    pub origin: String,
    /// The log's Ed25519 verifier key (C2SP vkey).
    pub vkey: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct LogsFile {
    logs: Vec<WitnessedLog>,
}

/// An open witness folder, ready to answer `add-checkpoint`.
pub struct WitnessStore {
    dir: PathBuf,
    signer: CosignatureSigner,
    logs: HashMap<String, Vec<Verifier>>,
    /// The durable head of every origin ever cosigned.
    heads: Mutex<HashMap<String, WitnessedHead>>,
    /// Held for a whole batch: one batch is decided and written at a time.
    journal: Mutex<Journal>,
    writes: AtomicU64,
    _lock: File,
}

/// An `add-checkpoint` request that passed every check needing no state:
/// its origin is witnessed, a trusted key signed it, `old` ≤ its size.
#[derive(Debug, Clone)]
pub struct Checked(AddCheckpointRequest);

impl Checked {
    /// The checkpoint's origin.
    pub fn origin(&self) -> &str {
        &self.0.checkpoint.origin
    }
}

/// The append-only state file.
struct Journal {
    path: PathBuf,
    file: File,
    len: u64,
    /// Rewrite past this length.
    compact_at: u64,
    /// A failed write could not be undone: refuse to write again.
    broken: Option<String>,
}

impl std::fmt::Debug for WitnessStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WitnessStore")
            .field("dir", &self.dir)
            .field("vkey", &self.vkey())
            .finish()
    }
}

fn bad(what: &str, why: impl Into<String>) -> VaultError {
    VaultError::BadArgument {
        what: what.into(),
        why: why.into(),
    }
}

/// Write `data` to `path` by temp file, fsync, rename and folder fsync.
fn write_atomic(path: &Path, data: &[u8], mode: u32) -> Result<(), VaultError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("file")
    ));
    let mut f = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)
        .map_err(VaultError::io(&tmp))?;
    f.write_all(data).map_err(VaultError::io(&tmp))?;
    f.sync_all().map_err(VaultError::io(&tmp))?;
    drop(f);
    fs::rename(&tmp, path).map_err(VaultError::io(path))?;
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(VaultError::io(dir))?;
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // Every holder leaves the data consistent between statements (no
    // half-applied updates), so a panic elsewhere does not poison it.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

fn record(note: &[u8]) -> Vec<u8> {
    let mut r = Vec::with_capacity(RECORD_HEAD + note.len());
    r.extend_from_slice(&(note.len() as u32).to_be_bytes());
    r.extend_from_slice(&Sha256::digest(note)[..8]);
    r.extend_from_slice(note);
    r
}

/// Keeps `head` if it is larger than what `heads` holds for its origin.
fn merge(heads: &mut HashMap<String, WitnessedHead>, head: WitnessedHead) {
    let origin = &head.checkpoint.origin;
    if heads
        .get(origin)
        .is_none_or(|h| head.checkpoint.size >= h.checkpoint.size)
    {
        heads.insert(origin.clone(), head);
    }
}

impl Journal {
    /// Opens (creating) the journal and merges its records into `heads`,
    /// cutting off a torn tail.
    fn load(state: &Path, heads: &mut HashMap<String, WitnessedHead>) -> Result<Self, VaultError> {
        let path = state.join(JOURNAL_FILE);
        if !path.exists() {
            write_atomic(&path, JOURNAL_MAGIC, 0o644)?;
        }
        let bytes = fs::read(&path).map_err(VaultError::io(&path))?;
        let damaged = |what: String| VaultError::damaged(path.display().to_string(), what);
        if !bytes.starts_with(JOURNAL_MAGIC) {
            return Err(damaged("not a witness journal (bad first line)".into()));
        }
        let mut pos = JOURNAL_MAGIC.len();
        while pos < bytes.len() {
            let Some(head) = bytes.get(pos..pos + RECORD_HEAD) else {
                break;
            };
            let len = u32::from_be_bytes([head[0], head[1], head[2], head[3]]) as usize;
            let Some(note) = bytes.get(pos + RECORD_HEAD..pos + RECORD_HEAD + len) else {
                break;
            };
            if Sha256::digest(note)[..8] != head[4..] {
                break;
            }
            let h = WitnessedHead::from_note(note)
                .map_err(|e| damaged(format!("record at byte {pos}: {e}")))?;
            merge(heads, h);
            pos += RECORD_HEAD + len;
        }
        let file = OpenOptions::new()
            .append(true)
            .open(&path)
            .map_err(VaultError::io(&path))?;
        if pos < bytes.len() {
            // A torn last write: it was never acknowledged.
            file.set_len(pos as u64)
                .and_then(|()| file.sync_all())
                .map_err(VaultError::io(&path))?;
        }
        Ok(Journal {
            path,
            file,
            len: pos as u64,
            compact_at: COMPACT_AT,
            broken: None,
        })
    }

    /// Appends the notes in one write and one flush; on failure, undoes it.
    fn append<'a>(&mut self, notes: impl Iterator<Item = &'a [u8]>) -> Result<(), String> {
        if let Some(why) = &self.broken {
            return Err(why.clone());
        }
        let buf: Vec<u8> = notes.flat_map(record).collect();
        let written = self
            .file
            .write_all(&buf)
            .and_then(|()| self.file.sync_data());
        match written {
            Ok(()) => {
                self.len += buf.len() as u64;
                Ok(())
            }
            Err(e) => {
                let why = format!("{}: {e}", self.path.display());
                // A partial record would hide every later one: cut it off.
                if let Err(e2) = self
                    .file
                    .set_len(self.len)
                    .and_then(|()| self.file.sync_all())
                {
                    self.broken = Some(format!("{why}; then: {e2}"));
                }
                Err(why)
            }
        }
    }

    /// Rewrites the journal as one record per head, when it has grown.
    fn maybe_compact(&mut self, heads: &HashMap<String, WitnessedHead>) {
        let live: u64 = heads
            .values()
            .map(|h| (RECORD_HEAD + h.note.len()) as u64)
            .sum();
        if self.broken.is_some() || self.len <= self.compact_at.max(2 * live) {
            return;
        }
        let dir = self.path.parent().unwrap_or(Path::new("."));
        let tmp = dir.join(".journal.tmp");
        let mut buf = JOURNAL_MAGIC.to_vec();
        for h in heads.values() {
            buf.extend_from_slice(&record(&h.note));
        }
        let made = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&tmp)
            .and_then(|mut f| {
                f.write_all(&buf)?;
                f.sync_all()?;
                Ok(f)
            })
            .and_then(|f| fs::rename(&tmp, &self.path).map(|()| f));
        let file = match made {
            Ok(f) => f,
            Err(_) => {
                // The old journal is intact; try again after the next batch.
                let _ = fs::remove_file(&tmp);
                return;
            }
        };
        // The new file is in place (its handle appends to it from now on);
        // until the folder is flushed a crash may bring the old one back,
        // which holds the same heads.
        self.file = file;
        self.len = buf.len() as u64;
        if let Err(e) = File::open(dir).and_then(|d| d.sync_all()) {
            // Later appends could be lost with the rename: stop writing.
            self.broken = Some(format!("{}: {e}", dir.display()));
        }
    }
}

fn state_name(origin: &str) -> String {
    Sha256::digest(origin.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn read_logs(dir: &Path) -> Result<LogsFile, VaultError> {
    let path = dir.join(LOGS_FILE);
    let bytes = fs::read(&path).map_err(VaultError::io(&path))?;
    serde_json::from_slice(&bytes)
        .map_err(|e| VaultError::damaged(path.display().to_string(), e.to_string()))
}

fn read_key(dir: &Path) -> Result<CosignatureSigner, VaultError> {
    let path = dir.join(KEY_FILE);
    let meta = fs::metadata(&path).map_err(VaultError::io(&path))?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(bad(
            &path.display().to_string(),
            format!(
                "the witness key is readable by others (mode {:o}); run chmod 600 on it",
                meta.permissions().mode() & 0o777
            ),
        ));
    }
    let mut text = fs::read_to_string(&path).map_err(VaultError::io(&path))?;
    let parsed = (|| {
        let mut lines = text.lines();
        if lines.next()? != KEY_MAGIC {
            return None;
        }
        let name = lines.next()?.strip_prefix("name ")?.to_owned();
        let mut seed_vec = B64.decode(lines.next()?.strip_prefix("seed ")?).ok()?;
        let seed: Option<[u8; 32]> = seed_vec.as_slice().try_into().ok();
        seed_vec.zeroize();
        if lines.next().is_some() {
            return None;
        }
        Some((name, seed?))
    })();
    text.zeroize();
    let (name, seed) = parsed.ok_or_else(|| {
        VaultError::damaged(
            path.display().to_string(),
            format!("not a witness key file (expected \"{KEY_MAGIC}\", name and seed lines)"),
        )
    })?;
    CosignatureSigner::generate(&name, seed)
        .map_err(|e| VaultError::damaged(path.display().to_string(), e.to_string()))
}

impl WitnessStore {
    /// Creates a witness folder (new or empty) with a fresh key named
    /// `name` (the seed comes from the OS) and no logs. Returns the
    /// witness's cosignature verifier key (vkey, type 0x04).
    pub fn init(dir: &Path, name: &str) -> Result<String, VaultError> {
        if dir.exists()
            && fs::read_dir(dir)
                .map_err(VaultError::io(dir))?
                .next()
                .is_some()
        {
            return Err(VaultError::AlreadyExists(dir.display().to_string()));
        }
        let mut seed = [0u8; 32];
        getrandom::fill(&mut seed).map_err(|e| bad("random", e.to_string()))?;
        let signer = CosignatureSigner::generate(name, seed)
            .map_err(|e| bad("witness name", e.to_string()))?;
        fs::create_dir_all(dir.join(STATE_DIR)).map_err(VaultError::io(dir))?;
        let mut key = format!("{KEY_MAGIC}\nname {name}\nseed {}\n", B64.encode(seed));
        seed.zeroize();
        let r = write_atomic(&dir.join(KEY_FILE), key.as_bytes(), 0o600);
        key.zeroize();
        r?;
        let logs = serde_json::to_vec_pretty(&LogsFile::default()).unwrap_or_default();
        write_atomic(&dir.join(LOGS_FILE), &logs, 0o644)?;
        Ok(signer.verifier().to_vkey())
    }

    /// Adds a log to witness: its Ed25519 vkey, whose key name is taken as
    /// the origin unless `origin` is given. Returns the origin. Takes
    /// effect at the next `serve`.
    pub fn add_log(dir: &Path, vkey: &str, origin: Option<&str>) -> Result<String, VaultError> {
        let key = Verifier::from_vkey(vkey.trim())
            .map_err(|e| bad("log key", format!("not an Ed25519 vkey: {e}")))?;
        let origin = origin.unwrap_or(key.name()).to_owned();
        if origin.is_empty() || origin.contains('\n') {
            return Err(bad("origin", "must be one non-empty line"));
        }
        let _lock = Self::lock(dir)?;
        let mut logs = read_logs(dir)?;
        let entry = WitnessedLog {
            origin: origin.clone(),
            vkey: key.to_vkey(),
        };
        if !logs.logs.contains(&entry) {
            logs.logs.push(entry);
        }
        let bytes =
            serde_json::to_vec_pretty(&logs).map_err(|e| bad("logs.json", e.to_string()))?;
        write_atomic(&dir.join(LOGS_FILE), &bytes, 0o644)?;
        Ok(origin)
    }

    /// The witness's public key (vkey, type 0x04), read from its key file
    /// without taking the lock: it is public, and printable while the
    /// witness runs.
    pub fn public_key(dir: &Path) -> Result<String, VaultError> {
        if !dir.join(KEY_FILE).exists() {
            return Err(bad(
                &dir.display().to_string(),
                "not a witness folder (no witness.key); create one with `guwah witness init`",
            ));
        }
        Ok(read_key(dir)?.verifier().to_vkey())
    }

    /// The configured logs.
    pub fn logs(dir: &Path) -> Result<Vec<WitnessedLog>, VaultError> {
        Ok(read_logs(dir)?.logs)
    }

    fn lock(dir: &Path) -> Result<File, VaultError> {
        if !dir.join(KEY_FILE).exists() {
            return Err(bad(
                &dir.display().to_string(),
                "not a witness folder (no witness.key); create one with `guwah witness init`",
            ));
        }
        let path = dir.join(LOCK_FILE);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(VaultError::io(&path))?;
        match lock.try_lock() {
            Ok(()) => Ok(lock),
            Err(fs::TryLockError::WouldBlock) => Err(VaultError::Locked(dir.display().to_string())),
            Err(fs::TryLockError::Error(e)) => Err(VaultError::io(&path)(e)),
        }
    }

    /// Opens a witness folder for serving; holds its lock until dropped.
    pub fn open(dir: &Path) -> Result<WitnessStore, VaultError> {
        let lock = Self::lock(dir)?;
        let signer = read_key(dir)?;
        let mut logs: HashMap<String, Vec<Verifier>> = HashMap::new();
        for l in read_logs(dir)?.logs {
            let key = Verifier::from_vkey(&l.vkey).map_err(|e| {
                VaultError::damaged(format!("{LOGS_FILE} log {:?}", l.origin), e.to_string())
            })?;
            logs.entry(l.origin).or_default().push(key);
        }
        let state = dir.join(STATE_DIR);
        fs::create_dir_all(&state).map_err(VaultError::io(dir))?;
        let mut heads = HashMap::new();
        // Older versions kept one file per origin.
        for origin in logs.keys() {
            let path = state.join(state_name(origin));
            let bytes = match fs::read(&path) {
                Ok(b) => b,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                Err(e) => return Err(VaultError::io(&path)(e)),
            };
            let damaged = |what: String| VaultError::damaged(path.display().to_string(), what);
            let head = WitnessedHead::from_note(&bytes).map_err(|e| damaged(e.to_string()))?;
            if head.checkpoint.origin != *origin {
                return Err(damaged(format!(
                    "holds origin {:?}, not {origin:?}",
                    head.checkpoint.origin
                )));
            }
            merge(&mut heads, head);
        }
        let journal = Journal::load(&state, &mut heads)?;
        Ok(WitnessStore {
            dir: dir.to_owned(),
            signer,
            logs,
            heads: Mutex::new(heads),
            journal: Mutex::new(journal),
            writes: AtomicU64::new(0),
            _lock: lock,
        })
    }

    /// The witness's cosignature verifier key (vkey, type 0x04).
    pub fn vkey(&self) -> String {
        self.signer.verifier().to_vkey()
    }

    /// The witness's cosigner (for benchmarks).
    pub fn signer(&self) -> &CosignatureSigner {
        &self.signer
    }

    /// How many logs are configured.
    pub fn log_count(&self) -> usize {
        self.logs.len()
    }

    /// How many durable writes of the state this store has made; requests
    /// committed together share one.
    pub fn durable_writes(&self) -> u64 {
        self.writes.load(Ordering::Relaxed)
    }

    /// Answers one `add-checkpoint` request body at time `now` (POSIX
    /// seconds): the cosignature line(s) on success, or the refusal. The
    /// new state is durable before this returns `Ok`. [`check`](Self::check),
    /// [`commit`](Self::commit) of this one request, [`cosign`](Self::cosign):
    /// a server that answers many at once commits them in batches instead.
    pub fn add_checkpoint(&self, body: &[u8], now: u64) -> Result<String, WitnessRefusal> {
        let checked = self.check(body)?;
        self.commit(std::slice::from_ref(&checked))
            .pop()
            .unwrap_or_else(|| Err(internal("no result")))?;
        self.cosign(&checked, now)
    }

    /// Parses a request body and makes the checks that need no state, in
    /// the spec's order: malformed (400), unknown origin (404), no valid
    /// signature by a trusted key (403), `old` larger than the size (400).
    /// CPU only (a signature check): call it from many threads at once.
    pub fn check(&self, body: &[u8]) -> Result<Checked, WitnessRefusal> {
        let req = AddCheckpointRequest::parse(body).map_err(|e| WitnessRefusal::bad_request(&e))?;
        let keys: Vec<&dyn NoteVerifier> = self
            .logs
            .get(&req.checkpoint.origin)
            .map(|v| v.iter().map(|k| k as &dyn NoteVerifier).collect())
            .unwrap_or_default();
        witness::check_request(&req, &keys)?;
        Ok(Checked(req))
    }

    /// Commits a batch of checked requests, in order, with one durable
    /// write: for each, `Ok` once its new state (if it changes anything)
    /// is on disk, or its refusal (409, 422; 500 if the write failed).
    /// Blocks on the disk; batches are committed one at a time.
    pub fn commit(&self, batch: &[Checked]) -> Vec<Result<(), WitnessRefusal>> {
        // Held across decision and write: the next batch decides on this
        // one's durable result.
        let mut journal = lock(&self.journal);
        let mut staged: HashMap<&str, WitnessedHead> = HashMap::new();
        let mut results = Vec::with_capacity(batch.len());
        {
            let heads = lock(&self.heads);
            for Checked(req) in batch {
                let origin = req.checkpoint.origin.as_str();
                let current = staged.get(origin).or_else(|| heads.get(origin));
                let before = current.map(|h| h.checkpoint.size);
                match witness::next_state(current, req) {
                    Ok(new) => {
                        if before != Some(new.checkpoint.size) {
                            staged.insert(origin, new);
                        }
                        results.push(Ok(()));
                    }
                    Err(r) => results.push(Err(r)),
                }
            }
        }
        if staged.is_empty() {
            return results;
        }
        match journal.append(staged.values().map(|h| h.note.as_slice())) {
            Ok(()) => {
                self.writes.fetch_add(1, Ordering::Relaxed);
                let mut heads = lock(&self.heads);
                for (origin, head) in staged {
                    heads.insert(origin.to_owned(), head);
                }
                journal.maybe_compact(&heads);
            }
            Err(e) => {
                let why = internal(&format!("persisting state: {e}"));
                for r in results.iter_mut().filter(|r| r.is_ok()) {
                    *r = Err(why.clone());
                }
            }
        }
        results
    }

    /// The cosignature line(s) for a committed request, at `now`.
    pub fn cosign(&self, checked: &Checked, now: u64) -> Result<String, WitnessRefusal> {
        witness::cosign(&checked.0, &self.signer, now)
    }

    /// The latest cosigned checkpoint for `origin`, if any.
    pub fn latest(&self, origin: &str) -> Option<WitnessedHead> {
        lock(&self.heads).get(origin).cloned()
    }
}

fn internal(what: &str) -> WitnessRefusal {
    WitnessRefusal {
        status: 500,
        body: format!("witness error: {what}\n"),
        content_type: "text/plain; charset=utf-8",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use guwah_core::checkpoint::{Checkpoint, sign_checkpoint};
    use guwah_core::merkle;
    use guwah_core::note::Signer;

    /// A witness folder for `logs` origins `log<i>.test`; their signers.
    fn witness_for(logs: usize) -> (tempfile::TempDir, PathBuf, Vec<Signer>) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("w");
        WitnessStore::init(&dir, "witness.test").unwrap();
        let signers: Vec<Signer> = (0..logs)
            .map(|i| Signer::generate(&format!("log{i}.test"), [i as u8 + 1; 32]).unwrap())
            .collect();
        for s in &signers {
            WitnessStore::add_log(&dir, &s.verifier().to_vkey(), None).unwrap();
        }
        (tmp, dir, signers)
    }

    /// The request growing `log`'s tree from `old` to `new` leaves.
    fn grow(log: &Signer, old: u64, new: u64) -> Vec<u8> {
        let leaves: Vec<merkle::Hash> = (0..new)
            .map(|i| merkle::leaf_hash(&i.to_be_bytes()))
            .collect();
        let cp = Checkpoint {
            origin: log.name().to_owned(),
            size: new,
            root: merkle::root_from_leaf_hashes(&leaves),
            extensions: vec![],
        };
        let note = sign_checkpoint(&cp, log).unwrap();
        let proof = if old == 0 || old == new {
            Vec::new()
        } else {
            merkle::consistency_proof(old, new, &mut merkle::LeafHashes(&leaves)).unwrap()
        };
        AddCheckpointRequest::encode(old, &proof, note.as_bytes())
    }

    fn status(r: &Result<(), WitnessRefusal>) -> u16 {
        r.as_ref().map_or_else(|e| e.status, |()| 200)
    }

    #[test]
    fn a_batch_applies_in_order_with_one_durable_write() {
        let (_tmp, dir, logs) = witness_for(2);
        let w = WitnessStore::open(&dir).unwrap();
        let batch = [
            w.check(&grow(&logs[0], 0, 4)).unwrap(),
            w.check(&grow(&logs[0], 4, 9)).unwrap(), // chains on the first, same batch
            w.check(&grow(&logs[1], 0, 2)).unwrap(),
            w.check(&grow(&logs[0], 0, 4)).unwrap(), // stale: 409 with the batch's size
            w.check(&grow(&logs[1], 2, 2)).unwrap(), // the same checkpoint again
        ];
        let results = w.commit(&batch);
        assert_eq!(
            results.iter().map(status).collect::<Vec<_>>(),
            [200, 200, 200, 409, 200]
        );
        assert_eq!(results[3].as_ref().unwrap_err().body, "9\n");
        assert_eq!(w.durable_writes(), 1);
        drop(w);
        let w = WitnessStore::open(&dir).unwrap();
        assert_eq!(w.latest("log0.test").unwrap().checkpoint.size, 9);
        assert_eq!(w.latest("log1.test").unwrap().checkpoint.size, 2);
        // A batch that changes nothing writes nothing.
        assert_eq!(
            status(&w.commit(&[w.check(&grow(&logs[0], 9, 9)).unwrap()])[0]),
            200
        );
        assert_eq!(w.durable_writes(), 0);
    }

    #[test]
    fn a_torn_journal_tail_is_cut_and_older_state_files_are_read() {
        let (_tmp, dir, logs) = witness_for(2);
        // An older version's per-origin file for log1, at size 5.
        let note = {
            let body = grow(&logs[1], 0, 5);
            AddCheckpointRequest::parse(&body).unwrap().note
        };
        fs::write(dir.join(STATE_DIR).join(state_name("log1.test")), &note).unwrap();
        {
            let w = WitnessStore::open(&dir).unwrap();
            assert_eq!(w.latest("log1.test").unwrap().checkpoint.size, 5);
            let r = w.add_checkpoint(&grow(&logs[1], 0, 6), 1).unwrap_err();
            assert_eq!((r.status, r.body.as_str()), (409, "5\n"));
            w.add_checkpoint(&grow(&logs[0], 0, 3), 1).unwrap();
            w.add_checkpoint(&grow(&logs[1], 5, 7), 1).unwrap();
        }
        let journal = dir.join(STATE_DIR).join(JOURNAL_FILE);
        let good = fs::read(&journal).unwrap();
        // A crash in the middle of the next append.
        let torn = record(
            &AddCheckpointRequest::parse(&grow(&logs[0], 3, 8))
                .unwrap()
                .note,
        );
        let mut f = OpenOptions::new().append(true).open(&journal).unwrap();
        f.write_all(&torn[..torn.len() / 2]).unwrap();
        drop(f);
        {
            let w = WitnessStore::open(&dir).unwrap();
            assert_eq!(
                fs::read(&journal).unwrap(),
                good,
                "the torn record is cut off"
            );
            assert_eq!(w.latest("log0.test").unwrap().checkpoint.size, 3);
            assert_eq!(w.latest("log1.test").unwrap().checkpoint.size, 7);
            w.add_checkpoint(&grow(&logs[0], 3, 8), 1).unwrap();
        }
        let w = WitnessStore::open(&dir).unwrap();
        assert_eq!(w.latest("log0.test").unwrap().checkpoint.size, 8);
        // A damaged first line is refused, not guessed at.
        drop(w);
        let mut bytes = fs::read(&journal).unwrap();
        bytes[0] ^= 1;
        fs::write(&journal, bytes).unwrap();
        assert!(matches!(
            WitnessStore::open(&dir),
            Err(VaultError::Damaged { .. })
        ));
    }

    #[test]
    fn the_journal_is_compacted_to_one_record_per_origin() {
        let (_tmp, dir, logs) = witness_for(2);
        {
            let w = WitnessStore::open(&dir).unwrap();
            lock(&w.journal).compact_at = 0;
            for n in 1..=20u64 {
                let old = n.saturating_sub(2);
                w.add_checkpoint(&grow(&logs[(n % 2) as usize], old, n), 1)
                    .map(|_| ())
                    .unwrap_or_else(|e| panic!("{n}: {e}"));
            }
        }
        let journal = fs::read(dir.join(STATE_DIR).join(JOURNAL_FILE)).unwrap();
        let w = WitnessStore::open(&dir).unwrap();
        let live: usize = ["log0.test", "log1.test"]
            .iter()
            .map(|o| RECORD_HEAD + w.latest(o).unwrap().note.len())
            .sum();
        assert!(
            journal.len() <= JOURNAL_MAGIC.len() + 2 * live,
            "{} bytes",
            journal.len()
        );
        assert_eq!(w.latest("log0.test").unwrap().checkpoint.size, 20);
        assert_eq!(w.latest("log1.test").unwrap().checkpoint.size, 19);
    }

    #[test]
    fn persists_and_refuses_forks_across_restarts() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("w");
        let vkey = WitnessStore::init(&dir, "witness.test").unwrap();
        assert!(vkey.starts_with("witness.test+"));
        let log = Signer::generate("example.org/log", [5; 32]).unwrap();
        WitnessStore::add_log(&dir, &log.verifier().to_vkey(), None).unwrap();
        let note = |leaves: &[merkle::Hash]| {
            let cp = Checkpoint {
                origin: "example.org/log".into(),
                size: leaves.len() as u64,
                root: merkle::root_from_leaf_hashes(leaves),
                extensions: vec![],
            };
            sign_checkpoint(&cp, &log).unwrap().into_bytes()
        };
        let a: Vec<_> = (0..4u8).map(|i| merkle::leaf_hash(&[i])).collect();
        let b: Vec<_> = (0..4u8).map(|i| merkle::leaf_hash(&[i, 1])).collect();
        {
            let w = WitnessStore::open(&dir).unwrap();
            assert!(matches!(
                WitnessStore::open(&dir),
                Err(VaultError::Locked(_))
            ));
            let line = w
                .add_checkpoint(&AddCheckpointRequest::encode(0, &[], &note(&a)), 7)
                .unwrap();
            assert!(line.starts_with("\u{2014} witness.test "));
        }
        let w = WitnessStore::open(&dir).unwrap();
        assert_eq!(w.latest("example.org/log").unwrap().checkpoint.size, 4);
        let r = w
            .add_checkpoint(&AddCheckpointRequest::encode(0, &[], &note(&b)), 8)
            .unwrap_err();
        assert_eq!((r.status, r.body.as_str()), (409, "4\n"));
        let r = w
            .add_checkpoint(&AddCheckpointRequest::encode(4, &[], &note(&b)), 8)
            .unwrap_err();
        assert_eq!(r.status, 409);
        let r = w.add_checkpoint(b"old 0\n\nnope", 8).unwrap_err();
        assert_eq!(r.status, 400);
        let other = Signer::generate("other.org/log", [6; 32]).unwrap();
        let cp = Checkpoint {
            origin: "other.org/log".into(),
            size: 1,
            root: [0; 32],
            extensions: vec![],
        };
        let n = sign_checkpoint(&cp, &other).unwrap();
        let r = w
            .add_checkpoint(&AddCheckpointRequest::encode(0, &[], n.as_bytes()), 8)
            .unwrap_err();
        assert_eq!(r.status, 404);
        // A key file readable by others is refused.
        drop(w);
        fs::set_permissions(dir.join(KEY_FILE), fs::Permissions::from_mode(0o644)).unwrap();
        assert!(WitnessStore::open(&dir).is_err());
    }
}
