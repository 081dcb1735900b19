//! The storage traits and their written contracts.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};

/// What can go wrong in a store. Messages name the object and what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// An I/O operation on a named object failed.
    #[error("{path}: {source}")]
    Io {
        /// The file or object involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A name or path is not one this store accepts.
    #[error("invalid object name {name:?}: {why}")]
    InvalidName {
        /// The rejected name.
        name: String,
        /// Why it was rejected.
        why: &'static str,
    },
    /// A blob that should exist does not.
    #[error("blob {0} is missing")]
    MissingBlob(String),
    /// The checkpoint changed under us: another writer committed first.
    #[error(
        "checkpoint compare-and-swap failed: the latest checkpoint is not the one this writer started from"
    )]
    CheckpointConflict,
    /// A ranged read asked for bytes outside the blob.
    #[error("blob {name}: bytes {offset}..{end} asked for, but it holds {size} bytes")]
    OutOfRange {
        /// The blob read.
        name: String,
        /// Start of the range asked for.
        offset: u64,
        /// End of the range asked for (exclusive).
        end: u64,
        /// The blob's size.
        size: u64,
    },
    /// Nothing is stored at this location (no folder, bucket or database
    /// of this store's shape); nothing was created.
    #[error("{0}: nothing of a guwah store is there")]
    NoStore(String),
    /// The object or row is there already with other content: objects are
    /// written once. Nothing was changed.
    #[error("{object}: {why}")]
    Conflict {
        /// The object or row.
        object: String,
        /// What is there already.
        why: String,
    },
    /// Another writer holds the writer lock.
    #[error("{0} is held by another writer")]
    Locked(String),
    /// A backend (a database, a service) failed on a named object.
    #[error("{object}: {message}")]
    Backend {
        /// The database, table or object involved.
        object: String,
        /// What the backend said.
        message: String,
    },
    /// A contract violation detected by a checking backend.
    #[error("storage contract violated: {0}")]
    Contract(String),
}

/// A blob being written. Its bytes are invisible under any name until
/// [`StagedBlob::commit`].
pub trait StagedBlob: Write + Send {
    /// Make the blob visible under `name`, which must hold no blob yet
    /// (see [`BlobStore`]). It is durable once the store's
    /// [`BlobStore::sync_blobs`] returns.
    fn commit(self: Box<Self>, name: &str) -> Result<(), StoreError>;
    /// Throw the staged bytes away.
    fn abort(self: Box<Self>);
}

/// A committed blob opened for reads at any offset; see
/// [`BlobStore::open_ranged`].
pub trait RangedBlob: Send {
    /// The blob's size in bytes, as it was when it was opened.
    fn size(&self) -> u64;
    /// Fill `buf` with the blob's bytes at `offset..offset + buf.len()`.
    /// A range not wholly inside the blob fails with
    /// [`StoreError::OutOfRange`] (an empty range at `size` is inside).
    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), StoreError>;
}

/// Opaque, write-once blobs named by lowercase hex strings.
///
/// Contract:
/// - `create` returns a writer whose bytes reach no named object until
///   `commit`; a crash before `commit` leaves no object under any name
///   (at most a staged leftover, which [`BlobStore::clear_staged`] removes).
/// - `commit(name)` creates the object **only if no blob of that name
///   exists** (S3: `PUT` or `CompleteMultipartUpload` with
///   `If-None-Match: *`); otherwise it fails with [`StoreError::Conflict`]
///   and discards the staged bytes. Names are content addresses, so a name
///   that exists holds the same plaintext; a caller that finds one no
///   committed record refers to (left by an append that failed) removes it
///   before committing again. An error from `commit` may still have
///   created the object (a lost reply): callers treat the name as possibly
///   committed.
/// - A committed blob is readable by `open(name)` at once; it is **durable
///   once `sync_blobs` returns**. Callers sync before they commit any
///   record that refers to the blob.
/// - `open_ranged(name)` gives random access to a committed blob without
///   reading it whole: the handle is pinned to the object committed under
///   `name` when it was opened. Its `size` is that object's, and every read
///   returns that object's bytes or fails, never another object's, even if
///   the name is replaced or removed meanwhile (files: the open file; S3:
///   `HEAD` for the size and ETag, then `GET` with `Range: bytes=` and
///   `If-Match: <etag>` per read). A name never committed, or removed
///   before the call, fails with [`StoreError::MissingBlob`]; a staged blob
///   is not readable. Reads outside `0..size` fail with
///   [`StoreError::OutOfRange`] and return nothing.
/// - `remove(name)` is for blobs no committed record refers to; it is
///   durable once `sync_blobs` returns (until then a crash may bring the
///   blob back, unreferenced).
/// - `list` returns every committed name, in no particular order.
pub trait BlobStore: Send + Sync {
    /// Start a new staged blob.
    fn create(&self) -> Result<Box<dyn StagedBlob + '_>, StoreError>;
    /// Read a committed blob.
    fn open(&self, name: &str) -> Result<Box<dyn Read + Send>, StoreError>;
    /// Open a committed blob for reads at any offset (ranged reads).
    fn open_ranged(&self, name: &str) -> Result<Box<dyn RangedBlob>, StoreError>;
    /// Whether a blob of this name is committed.
    fn exists(&self, name: &str) -> Result<bool, StoreError>;
    /// Remove a blob. Only for blobs no committed record refers to (an
    /// append that failed cleans up after itself); absent is fine.
    fn remove(&self, name: &str) -> Result<(), StoreError>;
    /// Every committed blob name.
    fn list(&self) -> Result<Vec<String>, StoreError>;
    /// Durability barrier for every blob committed or removed before the call.
    fn sync_blobs(&self) -> Result<(), StoreError>;
    /// Throw away every staged blob a writer left neither committed nor
    /// aborted (it died). Called by the writer holding the lock, before it
    /// stages anything (S3: abort the incomplete multipart uploads).
    fn clear_staged(&self) -> Result<(), StoreError>;
    /// Stage the blob that the local `file` holds whole (sealed, written
    /// and synced by its maker, and never changed afterwards), as if its
    /// bytes had been written to [`create`](Self::create)'s writer. The
    /// file stays where it is. A store that can do it without copying
    /// does (the folder store links the file into its staging); the
    /// default copies.
    fn adopt(&self, file: &Path) -> Result<Box<dyn StagedBlob + '_>, StoreError> {
        stage_copy(self, file)
    }
}

/// [`BlobStore::adopt`] by copying `file` into a new staged blob.
pub fn stage_copy<'a, S: BlobStore + ?Sized>(
    store: &'a S,
    file: &Path,
) -> Result<Box<dyn StagedBlob + 'a>, StoreError> {
    let io = |source| StoreError::Io {
        path: file.to_path_buf(),
        source,
    };
    let mut from = std::fs::File::open(file).map_err(io)?;
    let mut staged = store.create()?;
    if let Err(e) = std::io::copy(&mut from, &mut staged).and_then(|_| staged.flush()) {
        staged.abort();
        return Err(io(e));
    }
    Ok(staged)
}

/// The log's static objects: hash tiles and entry bundles, by their C2SP
/// tlog-tiles paths (`tile/0/x001/234`, `tile/entries/000.p/7`).
///
/// Contract:
/// - `write(path, data)` **creates** the object, whole or not at all (a
///   reader never sees a torn object); it is **durable once `sync_log`
///   returns**. If the path holds an object already, identical bytes are
///   accepted and change nothing, and different bytes are refused with
///   [`StoreError::Conflict`], changing nothing (S3: `PUT` with
///   `If-None-Match: *`, and on `412` a `GET` to compare). So no object,
///   once written, ever changes under a reader or a cache.
/// - `remove(path)` removes an object; it is durable once `sync_log`
///   returns. Callers remove only objects that no committed checkpoint
///   covers.
///
/// What the vault does with this (tlog-tiles names partial tiles and
/// bundles by their width, so a growing tree writes new paths, as Tessera's
/// drivers do): the paths an append writes are either part of the committed
/// tree already (upper-level tiles shared by consecutive trees, rewritten
/// with the same bytes) or past it. A path past the committed size can hold
/// an object only as a leftover of an append that never committed (a crash
/// between its tiles and its checkpoint swap); the next append, holding the
/// writer lock, finds it by the conflict, removes it and writes its own. A
/// conflict on a path of the committed tree is damage, and is reported.
/// Obsolete partial tiles are kept: proofs against older checkpoints use
/// them.
pub trait LogStore: Send + Sync {
    /// Read an object, `None` if absent.
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Create an object whole (see the contract for an existing path).
    fn write(&self, path: &str, data: &[u8]) -> Result<(), StoreError>;
    /// Remove an object no committed checkpoint covers; absent is fine.
    fn remove(&self, path: &str) -> Result<(), StoreError>;
    /// Durability barrier for every object written or removed before the call.
    fn sync_log(&self) -> Result<(), StoreError>;
}

/// The signed checkpoints of the log.
///
/// Contract:
/// - `swap(expected, new)` replaces the latest checkpoint with `new` only if
///   the current one is byte-for-byte `expected` (`None`: there is none yet),
///   atomically and **durably on return**; otherwise it fails with
///   [`StoreError::CheckpointConflict`] and changes nothing. This is the
///   commit point of every append. Any other error may leave the swap done
///   or not (a lost reply): the caller learns which from `latest`.
/// - `put_history(size, note)` keeps a copy of a checkpoint under its tree
///   size, durably on return. The vault writes it just after the swap (a
///   missing copy is restored by the next writer), and replaces a copy only
///   with the same checkpoint carrying more cosignatures.
///
/// The order the vault relies on, for one append: every blob, tile and
/// entry bundle it refers to is durable (`sync_blobs`, `sync_log`), then
/// its index rows are inserted ([`crate::IndexStore::insert`]), then `swap`.
/// A deployment that keeps the index and the checkpoint in one database
/// (PostgreSQL) may make the insert and the swap one transaction (the
/// insert staged until the swap commits, `SELECT ... FOR UPDATE` on the
/// checkpoint row for the compare); nothing in the vault reads the
/// append's rows before the swap. Readers read `latest` first and then
/// only what its size covers.
pub trait CheckpointStore: Send + Sync {
    /// The latest committed checkpoint note, `None` for a new log.
    fn latest(&self) -> Result<Option<Vec<u8>>, StoreError>;
    /// Compare-and-swap the latest checkpoint.
    fn swap(&self, expected: Option<&[u8]>, new: &[u8]) -> Result<(), StoreError>;
    /// Keep a checkpoint in the history, by tree size.
    fn put_history(&self, size: u64, note: &[u8]) -> Result<(), StoreError>;
    /// The tree sizes with a stored checkpoint, ascending.
    fn history_sizes(&self) -> Result<Vec<u64>, StoreError>;
    /// The stored checkpoint for a tree size.
    fn history(&self, size: u64) -> Result<Option<Vec<u8>>, StoreError>;
}

/// Proof that the writer lock is held; dropping it releases the lock.
pub trait WriterGuard: Send {}

/// The one-writer-at-a-time lock of a vault.
///
/// Contract:
/// - `try_lock` returns a guard at once, or fails at once with
///   [`StoreError::Locked`] when another guard is alive anywhere (another
///   thread, process or machine using the same store). It never waits.
/// - The lock is held until the guard drops; a holder that dies releases
///   it (local: an OS file lock, released when the process exits;
///   PostgreSQL: `pg_try_advisory_lock`, released with the session).
/// - Everything between a writer's recovery and its checkpoint swap relies
///   on being alone. A lock that can be lost while held (a lease that
///   expires) must fence: once lost, every later write by the old holder
///   fails (for example, the swap also checks the lease's token).
pub trait WriterLock: Send + Sync {
    /// Take the lock, or fail with [`StoreError::Locked`].
    fn try_lock(&self) -> Result<Box<dyn WriterGuard + '_>, StoreError>;
}

/// Small named values beside the log: the vault marker and the sealed key
/// file, configuration (TSAs, witnesses) and stored timestamp tokens.
///
/// Contract:
/// - Keys are checked by [`validate_key`]: relative, `/`-separated
///   segments of `[A-Za-z0-9._-]`, none empty and none starting with `.`.
/// - `put(key, value)` replaces the whole value atomically and **durably on
///   return**: a reader, or a crash, finds the old value or the new one,
///   never a mix or nothing.
/// - `get` returns the value whole, `None` if absent; `list(prefix)` every
///   key that starts with `prefix`, sorted; `delete(key)` removes it,
///   durably on return (absent is fine).
/// - Values are small (kilobytes): they are read and written whole.
pub trait KeyedStore: Send + Sync {
    /// The value of `key`, `None` if absent.
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Store `value` under `key`, replacing any value, atomically and durably.
    fn put(&self, key: &str, value: &[u8]) -> Result<(), StoreError>;
    /// Every key starting with `prefix`, sorted.
    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError>;
    /// Remove `key`, durably; absent is fine.
    fn delete(&self, key: &str) -> Result<(), StoreError>;
}

/// Check a key of a [`KeyedStore`]: 1 to 256 bytes of `/`-separated
/// segments of `[A-Za-z0-9._-]`, none empty and none starting with `.`.
pub fn validate_key(key: &str) -> Result<(), StoreError> {
    let bad = |why| {
        Err(StoreError::InvalidName {
            name: key.to_owned(),
            why,
        })
    };
    if key.is_empty() || key.len() > 256 {
        return bad("a key is 1 to 256 bytes");
    }
    for seg in key.split('/') {
        if seg.is_empty() || seg.starts_with('.') {
            return bad("empty segment, or one starting with '.'");
        }
        if !seg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
        {
            return bad("segments use only letters, digits, '.', '_' and '-'");
        }
    }
    Ok(())
}

/// Check a blob name: 2 to 128 lowercase hex digits.
pub fn validate_blob_name(name: &str) -> Result<(), StoreError> {
    let ok = (2..=128).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(StoreError::InvalidName {
            name: name.to_owned(),
            why: "a blob name is 2 to 128 lowercase hex digits",
        })
    }
}

/// Check that `offset..offset + len` lies inside a blob of `size` bytes,
/// for [`RangedBlob::read_exact_at`] implementations.
pub fn check_range(name: &str, offset: u64, len: usize, size: u64) -> Result<(), StoreError> {
    let end = offset.saturating_add(len as u64);
    if end <= size {
        Ok(())
    } else {
        Err(StoreError::OutOfRange {
            name: name.to_owned(),
            offset,
            end,
            size,
        })
    }
}

/// Check a log path: relative, `/`-separated segments of `[A-Za-z0-9._-]`,
/// none of them `.` or `..`, starting with `tile/`.
pub fn validate_log_path(path: &str) -> Result<(), StoreError> {
    let bad = |why| {
        Err(StoreError::InvalidName {
            name: path.to_owned(),
            why,
        })
    };
    if !path.starts_with("tile/") || path.len() > 256 {
        return bad("a log path starts with tile/ and is at most 256 bytes");
    }
    for seg in path.split('/') {
        if seg.is_empty() || seg == "." || seg == ".." {
            return bad("empty, . or .. segment");
        }
        if !seg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
        {
            return bad("segments use only letters, digits, '.', '_' and '-'");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_paths() {
        assert!(validate_blob_name("ab12").is_ok());
        assert!(validate_blob_name("AB12").is_err());
        assert!(validate_blob_name("../x").is_err());
        assert!(validate_log_path("tile/0/x001/234.p/7").is_ok());
        assert!(validate_log_path("tile/entries/000").is_ok());
        assert!(validate_log_path("tile/../etc/passwd").is_err());
        assert!(validate_log_path("/tile/0/000").is_err());
        assert!(validate_log_path("checkpoint").is_err());
        assert!(validate_key("timestamps/12/tsa-1.tsr").is_ok());
        assert!(validate_key("guwah.vault").is_ok());
        for bad in ["", "/abs", "a//b", "../x", "a/.hidden", "a b", "tsa.json/"] {
            assert!(validate_key(bad).is_err(), "{bad:?}");
        }
    }
}
