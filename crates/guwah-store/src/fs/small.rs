//! The local folder's writer lock and keyed values.
//!
//! The lock is an OS file lock on `lock`, released by the kernel when the
//! process holding it exits, however it exits. A keyed value is the file
//! of that relative path under the root, replaced by temporary file,
//! `fsync`, rename and `fsync` of its folder (and of any folder made for
//! it), so a crash leaves the old value or the new one.

use std::fs::{self, File, OpenOptions};
use std::io;
use std::path::{Path, PathBuf};

use super::{FsStore, io_err, read_optional, remove_optional, sync_dir, write_replace};
use crate::contract::{KeyedStore, StoreError, WriterGuard, WriterLock, validate_key};

/// The lock file, beside the vault's other top-level names.
const LOCK_FILE: &str = "lock";

/// Top-level names the other parts of the local backend own: never keys.
const RESERVED: &[&str] = &["blobs", "log", LOCK_FILE, crate::backend::INDEX_FILE];

/// Holds the locked file; the kernel releases the lock when it closes.
struct FsGuard(#[allow(dead_code)] File);

impl WriterGuard for FsGuard {}

impl WriterLock for FsStore {
    fn try_lock(&self) -> Result<Box<dyn WriterGuard + '_>, StoreError> {
        let path = self.root.join(LOCK_FILE);
        let file = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(io_err(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(Box::new(FsGuard(file))),
            Err(fs::TryLockError::WouldBlock) => {
                Err(StoreError::Locked(path.display().to_string()))
            }
            Err(fs::TryLockError::Error(e)) => Err(io_err(&path)(e)),
        }
    }
}

impl FsStore {
    /// The file of a key; reserved names (the blobs, the log, the index and
    /// the lock) are refused.
    fn key_path(&self, key: &str) -> Result<PathBuf, StoreError> {
        validate_key(key)?;
        let top = key.split('/').next().unwrap_or(key);
        if RESERVED
            .iter()
            .any(|r| top == *r || top.strip_prefix(r).is_some_and(|s| s.starts_with('-')))
        {
            return Err(StoreError::InvalidName {
                name: key.to_owned(),
                why: "the local folder keeps its blobs, log, index and lock under this name",
            });
        }
        Ok(self.root.join(key))
    }

    /// Make the folders of `path` below the root, syncing the folder each
    /// new one was made in, so that a durable value's folder is durable too.
    fn make_folders(&self, path: &Path) -> Result<(), StoreError> {
        let Some(parent) = path.parent() else {
            return Ok(());
        };
        let Ok(rel) = parent.strip_prefix(&self.root) else {
            return Ok(());
        };
        let mut dir = self.root.clone();
        for part in rel.components() {
            let up = dir.clone();
            dir.push(part);
            match fs::create_dir(&dir) {
                Ok(()) => sync_dir(&up)?,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(io_err(&dir)(e)),
            }
        }
        Ok(())
    }

    /// Every key in `dir` and below (`rel` is its key prefix, `""` at the
    /// root), skipping temporary and reserved names.
    fn walk(&self, dir: &Path, rel: &str, out: &mut Vec<String>) -> Result<(), StoreError> {
        let entries = match fs::read_dir(dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_err(dir)(e)),
        };
        for e in entries {
            let e = e.map_err(io_err(dir))?;
            let name = e.file_name().to_string_lossy().into_owned();
            let key = format!("{rel}{name}");
            if validate_key(&key).is_err() || (rel.is_empty() && self.key_path(&key).is_err()) {
                continue;
            }
            let ft = e.file_type().map_err(io_err(&e.path()))?;
            if ft.is_dir() {
                self.walk(&e.path(), &format!("{key}/"), out)?;
            } else if ft.is_file() {
                out.push(key);
            }
        }
        Ok(())
    }
}

impl KeyedStore for FsStore {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, StoreError> {
        read_optional(&self.key_path(key)?)
    }

    fn put(&self, key: &str, value: &[u8]) -> Result<(), StoreError> {
        let path = self.key_path(key)?;
        self.make_folders(&path)?;
        write_replace(&path, value)
    }

    fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        // Walk only the folder the prefix names; filter by the rest.
        let folder = prefix.rfind('/').map_or("", |i| &prefix[..=i]);
        if !folder.is_empty() {
            self.key_path(folder.trim_end_matches('/'))?;
        }
        let mut keys = Vec::new();
        self.walk(&self.root.join(folder), folder, &mut keys)?;
        keys.retain(|k| k.starts_with(prefix));
        keys.sort();
        Ok(keys)
    }

    fn delete(&self, key: &str) -> Result<(), StoreError> {
        let path = self.key_path(key)?;
        remove_optional(&path)?;
        sync_dir(path.parent().unwrap_or(&self.root))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keyed_values_are_files_under_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsStore::create(dir.path()).unwrap();
        store.put("tsa.json", b"{}").unwrap();
        store.put("timestamps/12/a.tsr", b"token").unwrap();
        store.put("timestamps/3/b.tsr", b"token").unwrap();
        assert_eq!(
            fs::read(dir.path().join("timestamps/12/a.tsr")).unwrap(),
            b"token"
        );
        assert_eq!(
            store.list("timestamps/").unwrap(),
            ["timestamps/12/a.tsr", "timestamps/3/b.tsr"]
        );
        assert_eq!(store.list("timestamps/1").unwrap(), ["timestamps/12/a.tsr"]);
        // Blobs, the log and the lock are no keys.
        let _g = store.try_lock().unwrap();
        assert_eq!(
            store.list("").unwrap(),
            ["timestamps/12/a.tsr", "timestamps/3/b.tsr", "tsa.json"]
        );
        for reserved in ["blobs/x", "log/checkpoint", "lock", "index.sqlite-wal"] {
            assert!(store.put(reserved, b"x").is_err(), "{reserved}");
        }
        store.delete("tsa.json").unwrap();
        assert_eq!(store.get("tsa.json").unwrap(), None);
    }

    #[test]
    fn one_writer_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsStore::create(dir.path()).unwrap();
        let other = FsStore::open(dir.path()).unwrap();
        let g = store.try_lock().unwrap();
        assert!(matches!(other.try_lock(), Err(StoreError::Locked(_))));
        drop(g);
        other.try_lock().unwrap();
    }
}
