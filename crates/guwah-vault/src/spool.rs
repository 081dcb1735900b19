//! The spool: uploads that have not arrived whole yet (tus), kept
//! encrypted on the server's disk until their last byte comes and they are
//! sealed into the vault, or until they expire.
//!
//! Each upload is two files in the spool folder, named by its random id:
//!
//! - `ID.data` — records `u32 BE length || sealed chunk`, each chunk at
//!   most [`CHUNK`] bytes of the upload, sealed (XChaCha20-Poly1305, as
//!   every small secret of the vault) under a key derived for this upload,
//!   with the chunk's number in its associated data so chunks cannot be
//!   reordered, dropped or moved between uploads unnoticed;
//! - `ID.state` — the upload's sealed state (length, offset, owner,
//!   metadata, and how many bytes and records of `ID.data` are its own),
//!   replaced by write, fsync, rename after the data it names is synced.
//!
//! With the vault's blob key ([`Spool::with_blob_key`], as `guwah serve`
//! opens it), `ID.data` is instead the upload's blob itself, in the vault's
//! blob format (guwah/blob/v1, `crypto::stream`), sealed 64 KiB chunk by
//! chunk as the bytes arrive: the final chunk is known from the declared
//! length, and bytes past the last whole chunk wait, sealed, in `ID.state`
//! (at most 64 KiB). The complete upload then goes into the vault's blob
//! store as it is ([`Spool::sealed_blob`]: linked, not written again), so
//! a large upload is written to disk once.
//!
//! A crash at any instant leaves the state of the last completed append;
//! data past it is cut off when the upload is next touched. No plaintext of
//! an upload is ever written to disk.

use std::collections::{BTreeMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::crypto::stream::{CHUNK_SIZE, HEADER_LEN};
use crate::crypto::{self, BlobKey, ChunkSealer};

/// Plaintext bytes per sealed record.
pub const CHUNK: usize = 256 * 1024;

const STATE_AAD: &str = "guwah/spool-state/v1\n";
const CHUNK_AAD: &str = "guwah/spool-chunk/v1\n";

/// What can go wrong in the spool.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// No upload with this id (never, expired, or removed).
    #[error("upload {0}: not found")]
    NotFound(String),
    /// Another request is writing to this upload right now.
    #[error("upload {0}: another request is writing to it")]
    Busy(String),
    /// The client's offset is not where the upload stands.
    #[error("upload {id}: offset {given} does not match the {actual} bytes received")]
    OffsetMismatch {
        /// The upload.
        id: String,
        /// What the client sent.
        given: u64,
        /// What the spool holds.
        actual: u64,
    },
    /// More bytes than the upload's declared length.
    #[error("upload {id}: more bytes than its declared length of {length}")]
    TooLong {
        /// The upload.
        id: String,
        /// Its declared length.
        length: u64,
    },
    /// The bytes of this request do not have the checksum it declared;
    /// they were dropped.
    #[error("upload {0}: the bytes of this request do not match their Upload-Checksum")]
    ChecksumMismatch(String),
    /// The spool's files were changed or damaged.
    #[error("upload {id}: {why}")]
    Damaged {
        /// The upload.
        id: String,
        /// What is wrong.
        why: String,
    },
    /// The disk failed.
    #[error("spool {path}: {source}")]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        source: io::Error,
    },
}

/// An upload as the spool knows it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct UploadState {
    /// 64 hex digits, random.
    pub id: String,
    /// The declared length in bytes.
    pub length: u64,
    /// Bytes received so far.
    pub offset: u64,
    /// The opaque key of the account that created it.
    pub owner: String,
    /// The client's `Upload-Metadata`, decoded.
    pub metadata: BTreeMap<String, String>,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds after which it is removed.
    pub expires_at: i64,
    /// Bytes of `ID.data` that are this state's.
    data_len: u64,
    /// Records in those bytes.
    records: u64,
    /// The item it was sealed as, once it was (its bytes are gone then;
    /// the state stays until it expires so a client that lost the answer
    /// learns the upload is complete).
    #[serde(default)]
    pub item: Option<String>,
    /// `ID.data` is the upload's blob, sealed chunk by chunk (`records`
    /// counts its sealed chunks); otherwise sealed records.
    #[serde(default)]
    blob: bool,
    /// Blob layout: the bytes past the last sealed chunk.
    #[serde(default)]
    tail: Tail,
}

/// Plaintext waiting for its chunk to fill: kept only inside the sealed
/// state, zeroized when dropped, never shown by `Debug`.
#[derive(Clone, Default, PartialEq, Eq)]
struct Tail(Zeroizing<Vec<u8>>);

impl std::fmt::Debug for Tail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Tail({} bytes)", self.0.len())
    }
}

impl Serialize for Tail {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use base64::Engine as _;
        let text = Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(&*self.0));
        s.serialize_str(&text)
    }
}

impl<'de> Deserialize<'de> for Tail {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use base64::Engine as _;
        let text = Zeroizing::new(String::deserialize(d)?);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map_err(serde::de::Error::custom)?;
        if bytes.len() >= CHUNK_SIZE {
            return Err(serde::de::Error::custom("a tail of a whole chunk or more"));
        }
        Ok(Tail(Zeroizing::new(bytes)))
    }
}

/// What an append did.
#[derive(Debug)]
pub struct Appended {
    /// The upload after it.
    pub state: UploadState,
    /// Why the body ended early, if it did; every byte before is kept.
    pub interrupted: Option<io::Error>,
}

impl UploadState {
    /// Whether every byte has arrived.
    pub fn is_complete(&self) -> bool {
        self.offset == self.length
    }
}

/// The spool folder and its key.
pub struct Spool {
    dir: PathBuf,
    key: Zeroizing<[u8; 32]>,
    /// The vault's blob key: new uploads are written as blobs under it.
    blob_key: Option<BlobKey>,
    busy: Arc<Mutex<HashSet<String>>>,
    /// How long a request waits for another one on the same upload (a
    /// client that reconnects after a cut comes back before the server
    /// has finished saving what the cut request sent).
    claim_wait: std::time::Duration,
}

impl std::fmt::Debug for Spool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spool")
            .field("dir", &self.dir)
            .finish_non_exhaustive()
    }
}

/// Holds an upload for one request; released when dropped.
struct Claim {
    id: String,
    busy: Arc<Mutex<HashSet<String>>>,
}

impl Drop for Claim {
    fn drop(&mut self) {
        self.busy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(&self.id);
    }
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SpoolError + '_ {
    move |source| SpoolError::Io {
        path: path.to_path_buf(),
        source,
    }
}

fn valid_id(id: &str) -> bool {
    id.len() == 64 && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

impl Spool {
    /// Open (creating) the spool in `dir`, sealing under `key`. Leftover
    /// temporary files of a crash are removed.
    pub fn open(dir: impl Into<PathBuf>, key: Zeroizing<[u8; 32]>) -> Result<Self, SpoolError> {
        let dir = dir.into();
        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        for entry in fs::read_dir(&dir).map_err(io_err(&dir))? {
            let path = entry.map_err(io_err(&dir))?.path();
            if path.extension().is_some_and(|e| e == "tmp") {
                fs::remove_file(&path).map_err(io_err(&path))?;
            }
        }
        Ok(Spool {
            dir,
            key,
            blob_key: None,
            busy: Arc::new(Mutex::new(HashSet::new())),
            claim_wait: std::time::Duration::from_secs(5),
        })
    }

    /// Wait at most `wait` for another request on the same upload
    /// (default 5 s) before answering `Busy`.
    pub fn with_claim_wait(mut self, wait: std::time::Duration) -> Self {
        self.claim_wait = wait;
        self
    }

    /// Write new uploads as blobs sealed under the vault's `key`, so the
    /// complete upload is the blob the vault keeps ([`Spool::sealed_blob`]).
    /// Uploads begun without it are still read as records.
    pub fn with_blob_key(mut self, key: BlobKey) -> Self {
        self.blob_key = Some(key);
        self
    }

    fn path(&self, id: &str, ext: &str) -> PathBuf {
        self.dir.join(format!("{id}.{ext}"))
    }

    fn upload_key(&self, id: &str) -> Zeroizing<[u8; 32]> {
        let mut label = String::from("guwah/spool-upload/v1/");
        label.push_str(id);
        crypto::derive_subkey(&self.key, &label)
    }

    fn claim(&self, id: &str) -> Result<Claim, SpoolError> {
        if !valid_id(id) {
            return Err(SpoolError::NotFound(id.chars().take(64).collect()));
        }
        let deadline = std::time::Instant::now() + self.claim_wait;
        while !self
            .busy
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_string())
        {
            if std::time::Instant::now() >= deadline {
                return Err(SpoolError::Busy(id.into()));
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        Ok(Claim {
            id: id.into(),
            busy: self.busy.clone(),
        })
    }

    /// Start an upload of `length` bytes for `owner`.
    pub fn create(
        &self,
        length: u64,
        owner: &str,
        metadata: BTreeMap<String, String>,
        now: i64,
        expires_at: i64,
    ) -> Result<UploadState, SpoolError> {
        let mut raw = [0u8; 32];
        crypto::fill_random(&mut raw).map_err(|e| SpoolError::Io {
            path: self.dir.clone(),
            source: io::Error::other(e.to_string()),
        })?;
        let id = guwah_core::record::hex32(&raw);
        let mut state = UploadState {
            id: id.clone(),
            length,
            offset: 0,
            owner: owner.into(),
            metadata,
            created_at: now,
            expires_at,
            data_len: 0,
            records: 0,
            item: None,
            blob: self.blob_key.is_some(),
            tail: Tail::default(),
        };
        let data = self.path(&id, "data");
        let mut f = File::create(&data).map_err(io_err(&data))?;
        if let Some(key) = &self.blob_key {
            let damaged = |e: crypto::StreamError| SpoolError::Damaged {
                id: id.clone(),
                why: e.to_string(),
            };
            let (sealer, header) = ChunkSealer::create(key).map_err(damaged)?;
            let mut head = header.to_vec();
            if length == 0 {
                // An empty blob is its header and one empty final chunk.
                sealer.seal(0, true, &[], &mut head).map_err(damaged)?;
                state.records = 1;
            }
            f.write_all(&head).map_err(io_err(&data))?;
            state.data_len = head.len() as u64;
        }
        f.sync_all().map_err(io_err(&data))?;
        self.write_state(&state)?;
        Ok(state)
    }

    fn write_state(&self, state: &UploadState) -> Result<(), SpoolError> {
        let json = Zeroizing::new(serde_json::to_vec(state).expect("state serializes"));
        let aad = format!("{STATE_AAD}{}", state.id);
        let sealed =
            crypto::seal(&self.key, aad.as_bytes(), &json).map_err(|e| SpoolError::Damaged {
                id: state.id.clone(),
                why: e.to_string(),
            })?;
        let path = self.path(&state.id, "state");
        let tmp = self.path(&state.id, "state.tmp");
        let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(&sealed).map_err(io_err(&tmp))?;
        f.sync_all().map_err(io_err(&tmp))?;
        fs::rename(&tmp, &path).map_err(io_err(&path))?;
        File::open(&self.dir)
            .and_then(|d| d.sync_all())
            .map_err(io_err(&self.dir))
    }

    /// The upload's state once no request is writing to it (what a client
    /// resuming after a cut must be told), or `NotFound`.
    pub fn settled(&self, id: &str) -> Result<UploadState, SpoolError> {
        let _claim = self.claim(id)?;
        self.state(id)
    }

    /// The upload's state, or `NotFound`.
    pub fn state(&self, id: &str) -> Result<UploadState, SpoolError> {
        if !valid_id(id) {
            return Err(SpoolError::NotFound(id.chars().take(64).collect()));
        }
        let path = self.path(id, "state");
        let sealed = match fs::read(&path) {
            Ok(s) => s,
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                return Err(SpoolError::NotFound(id.into()));
            }
            Err(e) => return Err(io_err(&path)(e)),
        };
        let aad = format!("{STATE_AAD}{id}");
        let json =
            crypto::open(&self.key, aad.as_bytes(), &sealed).map_err(|_| SpoolError::Damaged {
                id: id.into(),
                why: "its state does not open under this vault's key".into(),
            })?;
        let state: UploadState =
            serde_json::from_slice(&json).map_err(|e| SpoolError::Damaged {
                id: id.into(),
                why: format!("its state is not valid: {e}"),
            })?;
        if state.id != id || state.offset > state.length {
            return Err(SpoolError::Damaged {
                id: id.into(),
                why: "its state names another upload or more bytes than its length".into(),
            });
        }
        Ok(state)
    }

    /// Append `body` at `offset`. With a `checksum` (SHA-256 of this
    /// request's bytes), bytes that do not match are dropped and nothing
    /// changes. A body that fails part way (a dropped connection) keeps
    /// every byte read before the failure — that is what lets a client
    /// resume — and says so in [`Appended::interrupted`].
    pub fn append(
        &self,
        id: &str,
        offset: u64,
        mut body: impl Read,
        checksum: Option<[u8; 32]>,
    ) -> Result<Appended, SpoolError> {
        let claim = self.claim(id)?;
        let mut state = self.state(&claim.id)?;
        if offset != state.offset {
            return Err(SpoolError::OffsetMismatch {
                id: id.into(),
                given: offset,
                actual: state.offset,
            });
        }
        let path = self.path(id, "data");
        let mut f = OpenOptions::new()
            .read(true)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        // Whatever lies past the state's bytes is a crashed append's.
        f.set_len(state.data_len).map_err(io_err(&path))?;
        let mut writer = if state.blob {
            self.chunk_writer(&state, &mut f)?
        } else {
            DataWriter::Records {
                key: self.upload_key(id),
                id: id.into(),
                next: state.records,
            }
        };
        f.seek(SeekFrom::Start(state.data_len))
            .map_err(io_err(&path))?;
        let cut_back = |f: &File| f.set_len(state.data_len).map_err(io_err(&path));
        // Hashed only when the client sent a checksum to compare with.
        let mut hasher = checksum.map(|_| Sha256::new());
        let mut buf = Zeroizing::new(vec![0u8; CHUNK]);
        let mut bytes = 0u64;
        let mut interrupted = None;
        loop {
            let (n, ended) = fill(&mut body, &mut buf);
            if state.offset + bytes + n as u64 > state.length {
                cut_back(&f)?;
                return Err(SpoolError::TooLong {
                    id: id.into(),
                    length: state.length,
                });
            }
            if n > 0 {
                if let Some(h) = hasher.as_mut() {
                    h.update(&buf[..n]);
                }
                bytes += n as u64;
                let complete = state.offset + bytes == state.length;
                if let Err(e) = writer.write(&mut f, &buf[..n], complete) {
                    cut_back(&f)?;
                    return Err(match e {
                        WriteFailed::Seal(why) => SpoolError::Damaged { id: id.into(), why },
                        WriteFailed::Io(e) => io_err(&path)(e),
                    });
                }
            }
            if let Err(e) = ended {
                interrupted = Some(e);
                break;
            }
            if n < CHUNK {
                break;
            }
        }
        if let Some(want) = checksum {
            if let Some(e) = interrupted {
                // A checksummed request that did not arrive whole cannot be
                // checked: its bytes are dropped, as tus asks.
                cut_back(&f)?;
                return Err(SpoolError::Io {
                    path: PathBuf::from("request body"),
                    source: e,
                });
            }
            let got: [u8; 32] = hasher
                .take()
                .map(|h| h.finalize().into())
                .unwrap_or_default();
            if got != want {
                cut_back(&f)?;
                return Err(SpoolError::ChecksumMismatch(id.into()));
            }
        }
        if bytes > 0 {
            f.sync_all().map_err(io_err(&path))?;
            state.data_len = f.metadata().map_err(io_err(&path))?.len();
            state.offset += bytes;
            writer.settle(&mut state);
            self.write_state(&state)?;
        }
        Ok(Appended { state, interrupted })
    }

    /// The writer of an upload in blob layout, its sealer resumed from the
    /// blob's header in `f`.
    fn chunk_writer(&self, state: &UploadState, f: &mut File) -> Result<DataWriter, SpoolError> {
        let damaged = |why: String| SpoolError::Damaged {
            id: state.id.clone(),
            why,
        };
        let key = self.blob_key.as_ref().ok_or_else(|| {
            damaged(
                "it is written as a blob, and this spool was opened without the blob key".into(),
            )
        })?;
        let mut header = [0u8; HEADER_LEN];
        f.seek(SeekFrom::Start(0))
            .and_then(|_| f.read_exact(&mut header))
            .map_err(|_| damaged("its data is cut short".into()))?;
        let sealer = ChunkSealer::resume(key, &header)
            .map_err(|e| damaged(format!("its data is not its blob: {e}")))?;
        let mut pending = Zeroizing::new(Vec::with_capacity(CHUNK_SIZE));
        pending.extend_from_slice(&state.tail.0);
        Ok(DataWriter::Chunks {
            sealer: Box::new(sealer),
            next: state.records,
            length: state.length,
            pending,
            out: Vec::with_capacity(CHUNK + 8 * 16),
        })
    }

    /// The file holding the complete upload `id` as a blob sealed under
    /// the vault's blob key, for the vault to keep as it is; `None` for an
    /// upload in records ([`Spool::reader`] then). The file must not be
    /// changed; it goes with [`Spool::mark_sealed`] or [`Spool::remove`].
    pub fn sealed_blob(&self, id: &str) -> Result<Option<PathBuf>, SpoolError> {
        let state = self.state(id)?;
        if !state.blob {
            return Ok(None);
        }
        if state.item.is_some() || !state.is_complete() || !state.tail.0.is_empty() {
            return Err(SpoolError::Damaged {
                id: id.into(),
                why: format!(
                    "it is not complete ({} of {} bytes) or was sealed already",
                    state.offset, state.length
                ),
            });
        }
        Ok(Some(self.path(id, "data")))
    }

    /// The upload's bytes, decrypted as they are read; it must be
    /// complete.
    pub fn reader(&self, id: &str) -> Result<SpoolReader, SpoolError> {
        let state = self.state(id)?;
        if state.item.is_some() {
            return Err(SpoolError::Damaged {
                id: id.into(),
                why: "it was sealed already; its bytes are in the vault".into(),
            });
        }
        if state.blob {
            return Err(SpoolError::Damaged {
                id: id.into(),
                why: "it is kept as a blob (see sealed_blob), not as records".into(),
            });
        }
        if !state.is_complete() {
            return Err(SpoolError::Damaged {
                id: id.into(),
                why: format!(
                    "only {} of its {} bytes have arrived",
                    state.offset, state.length
                ),
            });
        }
        let path = self.path(id, "data");
        let file = File::open(&path).map_err(io_err(&path))?;
        Ok(SpoolReader {
            file: io::BufReader::new(file).take(state.data_len),
            key: self.upload_key(id),
            id: id.into(),
            next: 0,
            records: state.records,
            buf: Zeroizing::new(Vec::new()),
            pos: 0,
        })
    }

    /// Record that the complete upload `id` was sealed as `item`, and drop
    /// its bytes.
    pub fn mark_sealed(&self, id: &str, item: &str) -> Result<UploadState, SpoolError> {
        let _claim = self.claim(id)?;
        let mut state = self.state(id)?;
        state.item = Some(item.into());
        state.data_len = 0;
        state.records = 0;
        self.write_state(&state)?;
        let data = self.path(id, "data");
        match fs::remove_file(&data) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(io_err(&data)(e)),
        }
        Ok(state)
    }

    /// Complete uploads not yet sealed (a seal that failed, or a crash
    /// between the last byte and the seal).
    pub fn pending(&self) -> Result<Vec<UploadState>, SpoolError> {
        Ok(self
            .states()?
            .into_iter()
            .flatten()
            .filter(|s| s.is_complete() && s.item.is_none())
            .collect())
    }

    /// Remove an upload (finished, terminated or expired). Removing one
    /// that is gone is not an error.
    pub fn remove(&self, id: &str) -> Result<(), SpoolError> {
        let _claim = self.claim(id)?;
        for ext in ["state", "data"] {
            let path = self.path(id, ext);
            match fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => return Err(io_err(&path)(e)),
            }
        }
        Ok(())
    }

    fn states(&self) -> Result<Vec<StateOrFault>, SpoolError> {
        let mut out = Vec::new();
        for entry in fs::read_dir(&self.dir).map_err(io_err(&self.dir))? {
            let path = entry.map_err(io_err(&self.dir))?.path();
            let Some(id) = path
                .file_name()
                .and_then(|n| n.to_str())
                .and_then(|n| n.strip_suffix(".state"))
            else {
                continue;
            };
            out.push(self.state(id).map_err(|e| (id.to_string(), e)));
        }
        Ok(out)
    }

    /// Remove every upload that expired by `now` (and any whose state no
    /// longer opens); returns how many were removed.
    pub fn expire(&self, now: i64) -> Result<usize, SpoolError> {
        let mut removed = 0;
        for s in self.states()? {
            let id = match s {
                Ok(s) if s.expires_at <= now => s.id,
                Ok(_) => continue,
                Err((id, SpoolError::Damaged { .. })) => id,
                Err(_) => continue,
            };
            match self.remove(&id) {
                Ok(()) => removed += 1,
                Err(SpoolError::Busy(_)) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(removed)
    }

    /// How many uploads `owner` has in the spool, and their declared bytes.
    pub fn usage_of(&self, owner: &str) -> Result<(usize, u64), SpoolError> {
        let mut count = 0;
        let mut bytes = 0u64;
        for s in self.states()?.into_iter().flatten() {
            if s.owner == owner {
                count += 1;
                bytes = bytes.saturating_add(s.length);
            }
        }
        Ok((count, bytes))
    }
}

/// An upload's state, or its id and why it does not open.
type StateOrFault = Result<UploadState, (String, SpoolError)>;

/// How an append's bytes go into `ID.data`, by the upload's layout.
enum DataWriter {
    /// Each piece one sealed record, `u32 BE length || sealed`.
    Records {
        key: Zeroizing<[u8; 32]>,
        id: String,
        /// The next record's number.
        next: u64,
    },
    /// The upload's blob: whole chunks sealed as they fill, the final one
    /// once the last byte is in; the rest waits in `pending`.
    Chunks {
        /// Boxed: its keys are large beside the other variant.
        sealer: Box<ChunkSealer>,
        /// The next chunk's number.
        next: u64,
        /// The upload's declared length.
        length: u64,
        pending: Zeroizing<Vec<u8>>,
        out: Vec<u8>,
    },
}

/// Why a piece could not be written: sealing failed, or the disk did.
enum WriteFailed {
    Seal(String),
    Io(io::Error),
}

impl DataWriter {
    /// Seals and writes `bytes`, the next of the upload; `complete`: the
    /// upload's last byte is among them.
    fn write(&mut self, f: &mut File, bytes: &[u8], complete: bool) -> Result<(), WriteFailed> {
        match self {
            DataWriter::Records { key, id, next } => {
                let aad = format!("{CHUNK_AAD}{id}\n{next}");
                let sealed = crypto::seal(key, aad.as_bytes(), bytes)
                    .map_err(|e| WriteFailed::Seal(e.to_string()))?;
                f.write_all(&(sealed.len() as u32).to_be_bytes())
                    .and_then(|()| f.write_all(&sealed))
                    .map_err(WriteFailed::Io)?;
                *next += 1;
            }
            DataWriter::Chunks {
                sealer,
                next,
                length,
                pending,
                out,
            } => {
                let seal_err = |e: crypto::StreamError| WriteFailed::Seal(e.to_string());
                let mut rest = bytes;
                while !rest.is_empty() {
                    let take = (CHUNK_SIZE - pending.len()).min(rest.len());
                    pending.extend_from_slice(&rest[..take]);
                    rest = &rest[take..];
                    // A full chunk that is not the last: sealed now.
                    if pending.len() == CHUNK_SIZE && (*next + 1) * (CHUNK_SIZE as u64) < *length {
                        sealer.seal(*next, false, pending, out).map_err(seal_err)?;
                        *next += 1;
                        pending.clear();
                    }
                }
                if complete && !pending.is_empty() {
                    sealer.seal(*next, true, pending, out).map_err(seal_err)?;
                    *next += 1;
                    pending.clear();
                }
                let wrote = f.write_all(out);
                out.clear();
                wrote.map_err(WriteFailed::Io)?;
            }
        }
        Ok(())
    }

    /// Records in `state` what was written: records or chunks, and the
    /// bytes still waiting.
    fn settle(self, state: &mut UploadState) {
        match self {
            DataWriter::Records { next, .. } => state.records = next,
            DataWriter::Chunks { next, pending, .. } => {
                state.records = next;
                state.tail = Tail(pending);
            }
        }
    }
}

/// Read until `buf` is full or the reader ends or fails; returns how many
/// bytes were read and whether it failed.
fn fill(r: &mut impl Read, buf: &mut [u8]) -> (usize, io::Result<()>) {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return (n, Err(e)),
        }
    }
    (n, Ok(()))
}

/// A complete upload's plaintext, record by record.
pub struct SpoolReader {
    file: io::Take<io::BufReader<File>>,
    key: Zeroizing<[u8; 32]>,
    id: String,
    next: u64,
    records: u64,
    buf: Zeroizing<Vec<u8>>,
    pos: usize,
}

impl SpoolReader {
    fn damaged(&self, why: &str) -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("upload {}: {why}", self.id),
        )
    }
}

impl Read for SpoolReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.buf.len() {
            if self.next == self.records {
                return Ok(0);
            }
            let mut len = [0u8; 4];
            self.file
                .read_exact(&mut len)
                .map_err(|_| self.damaged("its data is cut short"))?;
            let len = u32::from_be_bytes(len) as usize;
            if len > CHUNK + crypto::small::OVERHEAD + 64 {
                return Err(self.damaged("its data holds a record too long"));
            }
            let mut sealed = vec![0u8; len];
            self.file
                .read_exact(&mut sealed)
                .map_err(|_| self.damaged("its data is cut short"))?;
            let aad = format!("{CHUNK_AAD}{}\n{}", self.id, self.next);
            self.buf = crypto::open(&self.key, aad.as_bytes(), &sealed)
                .map_err(|_| self.damaged("a record of its data was changed or moved"))?;
            self.pos = 0;
            self.next += 1;
        }
        let n = out.len().min(self.buf.len() - self.pos);
        out[..n].copy_from_slice(&self.buf[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spool(dir: &Path) -> Spool {
        Spool::open(dir, Zeroizing::new([7u8; 32])).unwrap()
    }

    struct Cut<'a>(&'a [u8]);
    impl Read for Cut<'_> {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            if self.0.is_empty() {
                return Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "connection reset",
                ));
            }
            let n = out.len().min(self.0.len()).min(1000);
            out[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    const BLOB_KEY: [u8; 32] = [9; 32];

    fn blob_spool(dir: &Path) -> Spool {
        spool(dir).with_blob_key(BlobKey::from_bytes(&BLOB_KEY))
    }

    /// The plaintext of a complete upload kept as a blob.
    fn blob_plaintext(s: &Spool, id: &str) -> Vec<u8> {
        let path = s.sealed_blob(id).unwrap().expect("kept as a blob");
        let mut back = Vec::new();
        let sealed = crypto::decrypt_and_hash(
            File::open(path).unwrap(),
            &mut back,
            &BlobKey::from_bytes(&BLOB_KEY),
            &mut |_| {},
        )
        .unwrap();
        assert_eq!(sealed.size, back.len() as u64);
        assert_eq!(sealed.sha256, <[u8; 32]>::from(Sha256::digest(&back)));
        back
    }

    #[test]
    fn uploads_are_written_as_their_blob_through_cuts_and_restarts() {
        let c = CHUNK_SIZE;
        for len in [1, c - 1, c, c + 1, 2 * c, 5 * c + 17, 300_001] {
            let dir = tempfile::tempdir().unwrap();
            let data: Vec<u8> = (0..len).map(|i| (i * 13 % 251) as u8).collect();
            let up = blob_spool(dir.path())
                .create(len as u64, "acct", BTreeMap::new(), 1, 100)
                .unwrap();
            // Pieces that end inside chunks, on their edges and past them;
            // every other one cut mid-body; a new Spool each time, as after
            // a restart.
            let mut at = 0usize;
            let mut step = 0;
            while at < len {
                let s = blob_spool(dir.path());
                let piece = [7, c, 1, c - 3, 2 * c + 5, 999][step % 6].min(len - at);
                let end = at + piece;
                let got = if step % 2 == 1 {
                    s.append(&up.id, at as u64, Cut(&data[at..end]), None)
                        .unwrap()
                } else {
                    s.append(&up.id, at as u64, &data[at..end], None).unwrap()
                };
                assert_eq!(got.state.offset, end as u64, "len {len} step {step}");
                assert!(got.state.tail.0.len() < c);
                at = end;
                step += 1;
            }
            let s = blob_spool(dir.path());
            assert_eq!(blob_plaintext(&s, &up.id), data, "len {len}");
            assert!(s.reader(&up.id).is_err(), "a blob is not read as records");
            let sealed = fs::metadata(s.sealed_blob(&up.id).unwrap().unwrap())
                .unwrap()
                .len();
            let chunks = len.div_ceil(c) as u64;
            assert_eq!(sealed, (HEADER_LEN + len) as u64 + 16 * chunks);
        }
    }

    #[test]
    fn an_empty_upload_is_an_empty_blob_at_once() {
        let dir = tempfile::tempdir().unwrap();
        let s = blob_spool(dir.path());
        let up = s.create(0, "acct", BTreeMap::new(), 1, 100).unwrap();
        assert!(up.is_complete());
        assert_eq!(blob_plaintext(&s, &up.id), b"");
    }

    #[test]
    fn blob_uploads_refuse_bad_bodies_and_keep_what_they_had() {
        let dir = tempfile::tempdir().unwrap();
        let s = blob_spool(dir.path());
        let len = CHUNK_SIZE + 10;
        let data: Vec<u8> = (0..len).map(|i| (i % 7) as u8).collect();
        let up = s
            .create(len as u64, "acct", BTreeMap::new(), 1, 100)
            .unwrap();
        let first = s.append(&up.id, 0, &data[..100], None).unwrap().state;
        let data_file = dir.path().join(format!("{}.data", up.id));
        let size_before = fs::metadata(&data_file).unwrap().len();
        // A wrong checksum, and more bytes than declared: nothing changes.
        let e = s
            .append(&up.id, 100, &data[100..CHUNK_SIZE + 5], Some([0; 32]))
            .unwrap_err();
        assert!(matches!(e, SpoolError::ChecksumMismatch(_)));
        let mut long = data[100..].to_vec();
        long.push(0);
        let e = s.append(&up.id, 100, &long[..], None).unwrap_err();
        assert!(matches!(e, SpoolError::TooLong { .. }));
        assert_eq!(s.state(&up.id).unwrap(), first);
        assert_eq!(fs::metadata(&data_file).unwrap().len(), size_before);
        // Bytes a crash left past the state's are cut off.
        let mut f = OpenOptions::new().append(true).open(&data_file).unwrap();
        f.write_all(b"left by a crash").unwrap();
        drop(f);
        let good: [u8; 32] = Sha256::digest(&data[100..]).into();
        s.append(&up.id, 100, &data[100..], Some(good)).unwrap();
        assert_eq!(blob_plaintext(&s, &up.id), data);
        // The waiting bytes never show in Debug.
        assert!(!format!("{first:?}").contains("[0, 1, 2"), "{first:?}");
        // Without the blob key the upload cannot go on (and says why).
        let up2 = s.create(10, "acct", BTreeMap::new(), 1, 100).unwrap();
        let e = spool(dir.path())
            .append(&up2.id, 0, &b"abc"[..], None)
            .unwrap_err();
        assert!(e.to_string().contains("blob key"), "{e}");
        // A changed header is refused.
        let d2 = dir.path().join(format!("{}.data", up2.id));
        let mut raw = fs::read(&d2).unwrap();
        raw[30] ^= 1;
        fs::write(&d2, raw).unwrap();
        assert!(matches!(
            s.append(&up2.id, 0, &b"abc"[..], None),
            Err(SpoolError::Damaged { .. })
        ));
    }

    #[test]
    fn resumes_after_a_cut_and_reads_back_exactly() {
        let dir = tempfile::tempdir().unwrap();
        let s = spool(dir.path());
        let data: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let up = s
            .create(data.len() as u64, "acct", BTreeMap::new(), 1, 100)
            .unwrap();
        let cut = s.append(&up.id, 0, Cut(&data[..70_000]), None).unwrap();
        assert!(cut.interrupted.is_some());
        assert_eq!(cut.state.offset, 70_000);
        assert_eq!(s.state(&up.id).unwrap().offset, 70_000);
        let e = s.append(&up.id, 0, &data[..], None).unwrap_err();
        assert!(
            matches!(e, SpoolError::OffsetMismatch { actual: 70_000, .. }),
            "{e}"
        );
        let st = s
            .append(&up.id, 70_000, &data[70_000..], None)
            .unwrap()
            .state;
        assert!(st.is_complete());
        let mut back = Vec::new();
        s.reader(&up.id).unwrap().read_to_end(&mut back).unwrap();
        assert_eq!(back, data);
        // Nothing of the plaintext is on disk.
        let raw = fs::read(dir.path().join(format!("{}.data", up.id))).unwrap();
        assert!(!raw.windows(32).any(|w| w == &data[1000..1032]));
    }

    #[test]
    fn checksum_mismatch_and_overlong_bodies_change_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let s = spool(dir.path());
        let up = s.create(10, "acct", BTreeMap::new(), 1, 100).unwrap();
        let e = s
            .append(&up.id, 0, &b"hello"[..], Some([0; 32]))
            .unwrap_err();
        assert!(matches!(e, SpoolError::ChecksumMismatch(_)));
        let e = s.append(&up.id, 0, &b"hello world!"[..], None).unwrap_err();
        assert!(matches!(e, SpoolError::TooLong { .. }));
        assert_eq!(s.state(&up.id).unwrap().offset, 0);
        let good: [u8; 32] = Sha256::digest(b"hello").into();
        assert_eq!(
            s.append(&up.id, 0, &b"hello"[..], Some(good))
                .unwrap()
                .state
                .offset,
            5
        );
        let st = s.append(&up.id, 5, &b"world"[..], None).unwrap().state;
        let mut back = Vec::new();
        s.reader(&st.id).unwrap().read_to_end(&mut back).unwrap();
        assert_eq!(back, b"helloworld");
    }

    #[test]
    fn a_crash_after_data_before_state_is_cut_off() {
        let dir = tempfile::tempdir().unwrap();
        let s = spool(dir.path());
        let up = s.create(6, "acct", BTreeMap::new(), 1, 100).unwrap();
        s.append(&up.id, 0, &b"abc"[..], None).unwrap();
        // Bytes of an append whose state was never written.
        let mut f = OpenOptions::new()
            .append(true)
            .open(dir.path().join(format!("{}.data", up.id)))
            .unwrap();
        f.write_all(b"garbage that a crash left").unwrap();
        drop(f);
        s.append(&up.id, 3, &b"def"[..], None).unwrap();
        let mut back = Vec::new();
        s.reader(&up.id).unwrap().read_to_end(&mut back).unwrap();
        assert_eq!(back, b"abcdef");
    }

    #[test]
    fn tampered_records_and_states_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let s = spool(dir.path());
        let up = s.create(3, "acct", BTreeMap::new(), 1, 100).unwrap();
        s.append(&up.id, 0, &b"abc"[..], None).unwrap();
        let data = dir.path().join(format!("{}.data", up.id));
        let mut raw = fs::read(&data).unwrap();
        let last = raw.len() - 1;
        raw[last] ^= 1;
        fs::write(&data, raw).unwrap();
        let mut back = Vec::new();
        assert!(s.reader(&up.id).unwrap().read_to_end(&mut back).is_err());
        let other = Spool::open(dir.path(), Zeroizing::new([8u8; 32])).unwrap();
        assert!(matches!(
            other.state(&up.id),
            Err(SpoolError::Damaged { .. })
        ));
    }

    #[test]
    fn expiry_removes_and_usage_counts() {
        let dir = tempfile::tempdir().unwrap();
        let s = spool(dir.path());
        let a = s.create(5, "a", BTreeMap::new(), 1, 10).unwrap();
        s.create(7, "a", BTreeMap::new(), 1, 50).unwrap();
        s.create(9, "b", BTreeMap::new(), 1, 50).unwrap();
        assert_eq!(s.usage_of("a").unwrap(), (2, 12));
        assert_eq!(s.expire(20).unwrap(), 1);
        assert!(matches!(s.state(&a.id), Err(SpoolError::NotFound(_))));
        assert_eq!(s.usage_of("a").unwrap(), (1, 7));
        assert!(matches!(s.state("../etc"), Err(SpoolError::NotFound(_))));
    }

    #[test]
    fn sealed_uploads_keep_their_state_not_their_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let s = spool(dir.path());
        let up = s.create(3, "a", BTreeMap::new(), 1, 10).unwrap();
        s.append(&up.id, 0, &b"abc"[..], None).unwrap();
        assert_eq!(s.pending().unwrap().len(), 1);
        let st = s.mark_sealed(&up.id, "item1").unwrap();
        assert!(st.is_complete());
        assert_eq!(s.state(&up.id).unwrap().item.as_deref(), Some("item1"));
        assert!(s.pending().unwrap().is_empty());
        assert!(!dir.path().join(format!("{}.data", up.id)).exists());
        assert!(s.reader(&up.id).is_err());
    }

    #[test]
    fn one_writer_per_upload() {
        let dir = tempfile::tempdir().unwrap();
        let s = spool(dir.path());
        let s = s.with_claim_wait(std::time::Duration::from_millis(50));
        let up = s.create(5, "a", BTreeMap::new(), 1, 10).unwrap();
        let _held = s.claim(&up.id).unwrap();
        let e = s.append(&up.id, 0, &b"x"[..], None).unwrap_err();
        assert!(matches!(e, SpoolError::Busy(_)));
    }
}
