//! The witness's storage: its key, the logs it witnesses, and the latest
//! cosigned checkpoint of each, durable (C2SP tlog-witness).
//!
//! A witness folder holds:
//!
//! ```text
//! WITNESS_DIR/
//!   witness.key        "guwah-witness-key v1\nname <name>\nseed <base64 Ed25519 seed>\n", mode 0600
//!   logs.json          {"logs": [{"origin": "...", "vkey": "<log vkey>"}]}
//!   state/<hex SHA-256(origin)>   the latest checkpoint note cosigned for that origin
//!   lock               an OS file lock: one `witness serve` per folder
//! ```
//!
//! The key is a **plaintext** file readable only by its owner (0600; a
//! looser mode is refused, as ssh does): a witness is a service that must
//! cosign unattended, so it cannot wait for a passphrase. Protect the host.
//!
//! Each state update is written to a temporary file, fsynced, renamed over
//! the old one and the folder fsynced, all under the origin's lock, before
//! the cosignature is returned: the check against the old size and the
//! update are atomic, as the spec requires.

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

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

type HeadCell = Arc<Mutex<Option<WitnessedHead>>>;

/// An open witness folder, ready to answer `add-checkpoint`.
pub struct WitnessStore {
    dir: PathBuf,
    signer: CosignatureSigner,
    logs: HashMap<String, Vec<Verifier>>,
    heads: Mutex<HashMap<String, HeadCell>>,
    _lock: File,
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
        fs::create_dir_all(dir.join(STATE_DIR)).map_err(VaultError::io(dir))?;
        Ok(WitnessStore {
            dir: dir.to_owned(),
            signer,
            logs,
            heads: Mutex::new(HashMap::new()),
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

    fn cell(&self, origin: &str) -> Result<HeadCell, WitnessRefusal> {
        let mut heads = self
            .heads
            .lock()
            .map_err(|_| internal("state lock poisoned"))?;
        if let Some(c) = heads.get(origin) {
            return Ok(Arc::clone(c));
        }
        let path = self.dir.join(STATE_DIR).join(state_name(origin));
        let head = match fs::read(&path) {
            Ok(bytes) => {
                Some(WitnessedHead::from_note(&bytes).map_err(|e| internal(&e.to_string()))?)
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(internal(&format!("reading state: {e}"))),
        };
        if head.as_ref().is_some_and(|h| h.checkpoint.origin != origin) {
            return Err(internal("state file holds another origin"));
        }
        let cell = Arc::new(Mutex::new(head));
        heads.insert(origin.to_owned(), Arc::clone(&cell));
        Ok(cell)
    }

    /// Answers one `add-checkpoint` request body at time `now` (POSIX
    /// seconds): the cosignature line(s) on success, or the refusal. The
    /// new state is durable before this returns `Ok`.
    pub fn add_checkpoint(&self, body: &[u8], now: u64) -> Result<String, WitnessRefusal> {
        let req = AddCheckpointRequest::parse(body).map_err(|e| WitnessRefusal::bad_request(&e))?;
        let keys: Vec<&dyn NoteVerifier> = self
            .logs
            .get(&req.checkpoint.origin)
            .map(|v| v.iter().map(|k| k as &dyn NoteVerifier).collect())
            .unwrap_or_default();
        if keys.is_empty() {
            // Answered by the core as 404, without touching any state.
            return witness::add_checkpoint(None, &req, &[], &self.signer, now).map(|(_, l)| l);
        }
        let cell = self.cell(&req.checkpoint.origin)?;
        let mut state = cell.lock().map_err(|_| internal("state lock poisoned"))?;
        let (new, line) = witness::add_checkpoint(state.as_ref(), &req, &keys, &self.signer, now)?;
        let unchanged = state.as_ref().is_some_and(|s| {
            s.checkpoint.size == new.checkpoint.size && s.checkpoint.root == new.checkpoint.root
        });
        if !unchanged {
            let path = self
                .dir
                .join(STATE_DIR)
                .join(state_name(&new.checkpoint.origin));
            write_atomic(&path, &new.note, 0o644)
                .map_err(|e| internal(&format!("persisting state: {e}")))?;
            *state = Some(new);
        }
        Ok(line)
    }

    /// The latest cosigned checkpoint for `origin`, if any.
    pub fn latest(&self, origin: &str) -> Option<WitnessedHead> {
        let cell = self.cell(origin).ok()?;
        let guard = cell.lock().ok()?;
        guard.clone()
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
