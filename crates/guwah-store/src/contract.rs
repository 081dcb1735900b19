//! The storage traits and their written contracts.

use std::io::{Read, Write};
use std::path::PathBuf;

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
    /// A contract violation detected by a checking backend.
    #[error("storage contract violated: {0}")]
    Contract(String),
}

/// A blob being written. Its bytes are invisible under any name until
/// [`StagedBlob::commit`].
pub trait StagedBlob: Write + Send {
    /// Make the blob visible under `name`, replacing any blob of that name.
    /// It is durable once the store's [`BlobStore::sync_blobs`] returns.
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

/// Opaque, immutable-by-convention blobs named by lowercase hex strings.
///
/// Contract:
/// - `create` returns a writer whose bytes reach no named object until
///   `commit`; a crash before `commit` leaves no object under any name.
/// - After `commit(name)` the object is readable by `open(name)`; it is
///   **durable once `sync_blobs` returns**. Callers must sync before they commit
///   any record that refers to the blob.
/// - Two commits of the same name carry the same plaintext content (names are
///   content addresses), so a later commit may replace an earlier one.
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
    /// `add` that failed half-way cleans up after itself); absent is fine.
    fn remove(&self, name: &str) -> Result<(), StoreError>;
    /// Every committed blob name.
    fn list(&self) -> Result<Vec<String>, StoreError>;
    /// Durability barrier for every blob committed before the call.
    fn sync_blobs(&self) -> Result<(), StoreError>;
}

/// The log's static objects: hash tiles and entry bundles, by their C2SP
/// tlog-tiles paths (`tile/0/x001/234`, `tile/entries/000.p/7`).
///
/// Contract:
/// - `write` makes the object readable at once, whole or not at all (a
///   reader never sees a torn object); it is **durable once `sync_log`
///   returns**.
/// - A path covered by a committed checkpoint is never written again by a
///   correct caller; a path beyond it (left by an interrupted append) may be
///   overwritten.
pub trait LogStore: Send + Sync {
    /// Read an object, `None` if absent.
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, StoreError>;
    /// Write an object whole.
    fn write(&self, path: &str, data: &[u8]) -> Result<(), StoreError>;
    /// Durability barrier for every object written before the call.
    fn sync_log(&self) -> Result<(), StoreError>;
}

/// The signed checkpoints of the log.
///
/// Contract:
/// - `swap(expected, new)` replaces the latest checkpoint with `new` only if
///   the current one is byte-for-byte `expected` (`None`: there is none yet),
///   atomically and **durably on return**; otherwise it fails with
///   [`StoreError::CheckpointConflict`] and changes nothing. This is the
///   commit point of every append.
/// - `put_history(size, note)` keeps a copy of every checkpoint, durably on
///   return, before it is swapped in; history is append-only.
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
    }
}
