//! The local-filesystem backend: one folder, crash-safe writes.
//!
//! Layout under the root (see `docs/format.md`):
//!
//! ```text
//! blobs/<2 hex>/<name>      committed blobs
//! blobs/.staging/           blobs being written (never read back)
//! log/tile/...              tiles and entry bundles, servable as static files
//! log/checkpoint            the latest signed checkpoint
//! log/checkpoints/<size>    every checkpoint ever committed
//! lock                      the writer lock (an OS file lock; see `small`)
//! <key>                     keyed values (guwah.vault, keys.sealed, tsa.json,
//!                           timestamps/..., witnesses.json; see `small`)
//! ```
//!
//! Every object is written to a temporary file in its final folder and
//! linked or renamed into place, so no reader ever sees a torn object. Blobs
//! and log objects are created with `link(2)`, which fails if the name
//! exists: the write-once rule of the contracts, kept by the file system.
//! Durability is batched: `sync` flushes the whole file system once
//! (`syncfs` on Linux), which is what lets a batch of thousands of entries
//! commit with one flush instead of one `fsync` each. The checkpoint, the
//! commit point, and every keyed value are `fsync`ed file and folder on
//! every write.

mod small;

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::contract::{
    BlobStore, CheckpointStore, LogStore, RangedBlob, StagedBlob, StoreError, check_range,
    validate_blob_name, validate_log_path,
};

/// A vault's storage in one local folder.
#[derive(Debug)]
pub struct FsStore {
    root: PathBuf,
    /// Files and folders written since the last `sync`, for platforms
    /// without `syncfs`.
    #[cfg_attr(target_os = "linux", allow(dead_code))]
    unsynced: Mutex<Vec<PathBuf>>,
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.to_owned(),
        source,
    }
}

impl FsStore {
    /// Create the folders of a new store under `root` (which may exist).
    pub fn create(root: &Path) -> Result<Self, StoreError> {
        for sub in ["blobs/.staging", "log/tile", "log/checkpoints"] {
            let dir = root.join(sub);
            fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        }
        sync_dir(root)?;
        Self::open(root)
    }

    /// Open an existing store. A folder with neither `blobs/` nor `log/`
    /// (or no folder) is [`StoreError::NoStore`]; nothing is created.
    pub fn open(root: &Path) -> Result<Self, StoreError> {
        if !root.join("blobs").is_dir() && !root.join("log").is_dir() {
            return Err(StoreError::NoStore(root.display().to_string()));
        }
        for sub in ["blobs", "log"] {
            let dir = root.join(sub);
            if !dir.is_dir() {
                return Err(StoreError::Io {
                    path: dir,
                    source: io::Error::new(io::ErrorKind::NotFound, "folder is missing"),
                });
            }
        }
        Ok(Self {
            root: root.to_owned(),
            unsynced: Mutex::new(Vec::new()),
        })
    }

    /// The file a committed blob lives in.
    pub fn blob_path(&self, name: &str) -> PathBuf {
        let shard = &name[..2.min(name.len())];
        self.root.join("blobs").join(shard).join(name)
    }

    /// The file a log object lives in.
    pub fn log_path(&self, path: &str) -> PathBuf {
        self.root.join("log").join(path)
    }

    fn note_unsynced(&self, path: PathBuf) {
        if cfg!(not(target_os = "linux")) {
            self.unsynced
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(path);
        }
    }

    /// A removal is made durable by syncing the folder it was in.
    fn note_unsynced_dir(&self, path: &Path) {
        if let Some(parent) = path.parent() {
            self.note_unsynced(parent.to_owned());
        }
    }

    fn flush_all(&self) -> Result<(), StoreError> {
        #[cfg(target_os = "linux")]
        {
            let dir = File::open(&self.root).map_err(io_err(&self.root))?;
            rustix::fs::syncfs(&dir).map_err(|e| StoreError::Io {
                path: self.root.clone(),
                source: e.into(),
            })
        }
        #[cfg(not(target_os = "linux"))]
        {
            let paths =
                std::mem::take(&mut *self.unsynced.lock().unwrap_or_else(|e| e.into_inner()));
            for p in paths {
                File::open(&p)
                    .and_then(|f| f.sync_all())
                    .map_err(io_err(&p))?;
                if let Some(parent) = p.parent() {
                    sync_dir(parent)?;
                }
            }
            Ok(())
        }
    }
}

/// A unique temporary name beside `path`.
fn temp_beside(path: &Path) -> PathBuf {
    let mut rnd = [0u8; 8];
    // A weak fallback is fine: the name only has to avoid collisions.
    let _ = getrandom::fill(&mut rnd);
    let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("obj");
    path.with_file_name(format!(".{name}.{}.tmp", hex(&rnd)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sync_dir(dir: &Path) -> Result<(), StoreError> {
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(io_err(dir))
}

/// Replace `path` with `data` durably: a temporary file, fsync, rename,
/// fsync of the folder. A crash leaves the old content or the new.
fn write_replace(path: &Path, data: &[u8]) -> Result<(), StoreError> {
    let parent = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io_err(parent))?;
    let tmp = temp_beside(path);
    let result = (|| {
        let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
        f.write_all(data).map_err(io_err(&tmp))?;
        f.sync_all().map_err(io_err(&tmp))?;
        fs::rename(&tmp, path).map_err(io_err(path))?;
        sync_dir(parent)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

/// Whether [`create_from`] made the object or found one there.
enum Created {
    New,
    Exists,
}

/// Give the finished temporary file `tmp` the name `dest` only if no file
/// has it (`link(2)` fails on an existing name), then drop the temporary
/// name. Where hard links are not supported, a rename after a check: still
/// exclusive under the writer lock, which every writer holds.
fn create_from(tmp: &Path, dest: &Path) -> Result<Created, StoreError> {
    let result = match fs::hard_link(tmp, dest) {
        Ok(()) => Ok(Created::New),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(Created::Exists),
        Err(_) if dest.exists() => Ok(Created::Exists),
        Err(_) => fs::rename(tmp, dest)
            .map(|()| Created::New)
            .map_err(io_err(dest)),
    };
    let _ = fs::remove_file(tmp);
    result
}

/// Create `path` holding `data` unless it exists: identical bytes are
/// accepted, others refused (the `LogStore` contract).
fn write_once(path: &Path, data: &[u8], what: &str) -> Result<(), StoreError> {
    let same = |existing: Option<Vec<u8>>| match existing {
        Some(e) if e == data => Ok(()),
        _ => Err(StoreError::Conflict {
            object: what.to_owned(),
            why: "exists with other bytes; log objects are written once".into(),
        }),
    };
    if path.exists() {
        return same(read_optional(path)?);
    }
    let parent = path.parent().unwrap_or(Path::new("."));
    fs::create_dir_all(parent).map_err(io_err(parent))?;
    let tmp = temp_beside(path);
    let written = File::create(&tmp)
        .and_then(|mut f| f.write_all(data))
        .map_err(io_err(&tmp));
    if let Err(e) = written {
        let _ = fs::remove_file(&tmp);
        return Err(e);
    }
    match create_from(&tmp, path)? {
        Created::New => Ok(()),
        Created::Exists => same(read_optional(path)?),
    }
}

fn remove_optional(path: &Path) -> Result<(), StoreError> {
    match fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StoreError::Io {
            path: path.to_owned(),
            source: e,
        }),
    }
}

fn read_optional(path: &Path) -> Result<Option<Vec<u8>>, StoreError> {
    match fs::read(path) {
        Ok(data) => Ok(Some(data)),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(StoreError::Io {
            path: path.to_owned(),
            source: e,
        }),
    }
}

struct FsStagedBlob<'a> {
    store: &'a FsStore,
    tmp: PathBuf,
    file: Option<File>,
    /// Bytes written so far, and how far writeback has been started.
    written: u64,
    kicked: u64,
}

/// Start writeback every this many bytes of a large blob.
const WRITEBACK_STEP: u64 = 32 << 20;

impl FsStagedBlob<'_> {
    /// Ask the kernel to start writing what we wrote so far, without waiting:
    /// the disk then works while we encrypt, instead of all at the final
    /// flush, and the ciphertext does not crowd the page cache.
    /// (`POSIX_FADV_DONTNEED` starts writeback of dirty pages on Linux.)
    fn kick_writeback(&mut self) {
        #[cfg(target_os = "linux")]
        if let Some(f) = &self.file {
            let len = std::num::NonZeroU64::new(self.written - self.kicked);
            let _ = rustix::fs::fadvise(f, self.kicked, len, rustix::fs::Advice::DontNeed);
            self.kicked = self.written;
        }
    }
}

impl Write for FsStagedBlob<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = match &mut self.file {
            Some(f) => f.write(buf)?,
            None => return Err(io::Error::other("staged blob already closed")),
        };
        self.written += n as u64;
        if self.written - self.kicked >= WRITEBACK_STEP {
            self.kick_writeback();
        }
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        match &mut self.file {
            Some(f) => f.flush(),
            None => Ok(()),
        }
    }
}

impl StagedBlob for FsStagedBlob<'_> {
    fn commit(mut self: Box<Self>, name: &str) -> Result<(), StoreError> {
        validate_blob_name(name)?;
        if let Some(mut f) = self.file.take() {
            f.flush().map_err(io_err(&self.tmp))?;
        }
        let dest = self.store.blob_path(name);
        let parent = dest.parent().unwrap_or(Path::new("."));
        let made = fs::create_dir_all(parent)
            .map_err(io_err(parent))
            .and_then(|()| create_from(&self.tmp, &dest));
        let _ = fs::remove_file(&self.tmp);
        match made? {
            Created::New => {
                self.store.note_unsynced(dest);
                Ok(())
            }
            Created::Exists => Err(StoreError::Conflict {
                object: format!("blob {name}"),
                why: "exists already; blobs are written once".into(),
            }),
        }
    }

    fn abort(mut self: Box<Self>) {
        self.file.take();
        let _ = fs::remove_file(&self.tmp);
    }
}

impl Drop for FsStagedBlob<'_> {
    fn drop(&mut self) {
        // Neither committed nor aborted (a panic or early return): clean up.
        if self.file.take().is_some() {
            let _ = fs::remove_file(&self.tmp);
        }
    }
}

/// A committed blob's open file: reads stay on that file even if the name
/// is replaced (a rename) or removed meanwhile.
struct FsRangedBlob {
    name: String,
    path: PathBuf,
    file: File,
    size: u64,
}

impl RangedBlob for FsRangedBlob {
    fn size(&self) -> u64 {
        self.size
    }

    fn read_exact_at(&mut self, offset: u64, buf: &mut [u8]) -> Result<(), StoreError> {
        check_range(&self.name, offset, buf.len(), self.size)?;
        #[cfg(unix)]
        let read = std::os::unix::fs::FileExt::read_exact_at(&self.file, buf, offset);
        #[cfg(not(unix))]
        let read = {
            use std::io::Seek;
            (&self.file)
                .seek(io::SeekFrom::Start(offset))
                .and_then(|_| (&self.file).read_exact(buf))
        };
        read.map_err(io_err(&self.path))
    }
}

impl FsStore {
    /// Open a committed blob's file; absent is [`StoreError::MissingBlob`].
    fn open_blob_file(&self, name: &str) -> Result<(File, PathBuf), StoreError> {
        validate_blob_name(name)?;
        let path = self.blob_path(name);
        match File::open(&path) {
            Ok(f) => Ok((f, path)),
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                Err(StoreError::MissingBlob(name.to_owned()))
            }
            Err(e) => Err(StoreError::Io { path, source: e }),
        }
    }
}

impl BlobStore for FsStore {
    fn create(&self) -> Result<Box<dyn StagedBlob + '_>, StoreError> {
        let tmp = temp_beside(&self.root.join("blobs/.staging/blob"));
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&tmp)
            .map_err(io_err(&tmp))?;
        Ok(Box::new(FsStagedBlob {
            store: self,
            tmp,
            file: Some(file),
            written: 0,
            kicked: 0,
        }))
    }

    fn open(&self, name: &str) -> Result<Box<dyn Read + Send>, StoreError> {
        Ok(Box::new(self.open_blob_file(name)?.0))
    }

    fn open_ranged(&self, name: &str) -> Result<Box<dyn RangedBlob>, StoreError> {
        let (file, path) = self.open_blob_file(name)?;
        // The size of the file we hold, not of whatever the name points to later.
        let size = file.metadata().map_err(io_err(&path))?.len();
        Ok(Box::new(FsRangedBlob {
            name: name.to_owned(),
            path,
            file,
            size,
        }))
    }

    fn exists(&self, name: &str) -> Result<bool, StoreError> {
        validate_blob_name(name)?;
        Ok(self.blob_path(name).is_file())
    }

    fn remove(&self, name: &str) -> Result<(), StoreError> {
        validate_blob_name(name)?;
        let path = self.blob_path(name);
        remove_optional(&path)?;
        self.note_unsynced_dir(&path);
        Ok(())
    }

    fn list(&self) -> Result<Vec<String>, StoreError> {
        let blobs = self.root.join("blobs");
        let mut names = Vec::new();
        for shard in fs::read_dir(&blobs).map_err(io_err(&blobs))? {
            let shard = shard.map_err(io_err(&blobs))?;
            let shard_name = shard.file_name();
            if shard_name.to_string_lossy().starts_with('.') {
                continue;
            }
            let dir = shard.path();
            for entry in fs::read_dir(&dir).map_err(io_err(&dir))? {
                let entry = entry.map_err(io_err(&dir))?;
                let name = entry.file_name().to_string_lossy().into_owned();
                if !name.starts_with('.') {
                    names.push(name);
                }
            }
        }
        Ok(names)
    }

    fn sync_blobs(&self) -> Result<(), StoreError> {
        self.flush_all()
    }

    fn adopt(&self, file: &Path) -> Result<Box<dyn StagedBlob + '_>, StoreError> {
        let tmp = temp_beside(&self.root.join("blobs/.staging/blob"));
        match fs::hard_link(file, &tmp) {
            Ok(()) => {}
            // Another filesystem (a spool on another disk), or one without links.
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::CrossesDevices | io::ErrorKind::Unsupported
                ) =>
            {
                return crate::contract::stage_copy(self, file);
            }
            Err(e) => return Err(io_err(file)(e)),
        }
        let opened = File::open(&tmp).and_then(|f| f.metadata().map(|m| (f, m.len())));
        match opened {
            Ok((f, len)) => Ok(Box::new(FsStagedBlob {
                store: self,
                tmp,
                file: Some(f),
                written: len,
                kicked: len,
            })),
            Err(e) => {
                let _ = fs::remove_file(&tmp);
                Err(io_err(&tmp)(e))
            }
        }
    }

    fn clear_staged(&self) -> Result<(), StoreError> {
        let staging = self.root.join("blobs/.staging");
        let entries = match fs::read_dir(&staging) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(io_err(&staging)(e)),
        };
        for e in entries {
            remove_optional(&e.map_err(io_err(&staging))?.path())?;
        }
        Ok(())
    }
}

impl LogStore for FsStore {
    fn read(&self, path: &str) -> Result<Option<Vec<u8>>, StoreError> {
        validate_log_path(path)?;
        read_optional(&self.log_path(path))
    }

    fn write(&self, path: &str, data: &[u8]) -> Result<(), StoreError> {
        validate_log_path(path)?;
        let full = self.log_path(path);
        write_once(&full, data, &format!("log/{path}"))?;
        self.note_unsynced(full);
        Ok(())
    }

    fn remove(&self, path: &str) -> Result<(), StoreError> {
        validate_log_path(path)?;
        let full = self.log_path(path);
        remove_optional(&full)?;
        self.note_unsynced_dir(&full);
        Ok(())
    }

    fn sync_log(&self) -> Result<(), StoreError> {
        self.flush_all()
    }
}

impl CheckpointStore for FsStore {
    fn latest(&self) -> Result<Option<Vec<u8>>, StoreError> {
        read_optional(&self.root.join("log/checkpoint"))
    }

    fn swap(&self, expected: Option<&[u8]>, new: &[u8]) -> Result<(), StoreError> {
        // Writers of one vault also hold the vault lock; this lock makes the
        // compare and the rename one step even for a writer that does not.
        let lock_path = self.root.join("log/.checkpoint.lock");
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(io_err(&lock_path))?;
        lock.lock().map_err(io_err(&lock_path))?;
        let current = self.latest()?;
        if current.as_deref() != expected {
            return Err(StoreError::CheckpointConflict);
        }
        write_replace(&self.root.join("log/checkpoint"), new)
    }

    fn put_history(&self, size: u64, note: &[u8]) -> Result<(), StoreError> {
        let path = self.root.join("log/checkpoints").join(size.to_string());
        write_replace(&path, note)
    }

    fn history_sizes(&self) -> Result<Vec<u64>, StoreError> {
        let dir = self.root.join("log/checkpoints");
        let mut sizes = Vec::new();
        for entry in fs::read_dir(&dir).map_err(io_err(&dir))? {
            let entry = entry.map_err(io_err(&dir))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') {
                continue;
            }
            match name.parse::<u64>() {
                Ok(n) if n.to_string() == name => sizes.push(n),
                _ => {
                    return Err(StoreError::InvalidName {
                        name: format!("log/checkpoints/{name}"),
                        why: "checkpoint history files are named by tree size",
                    });
                }
            }
        }
        sizes.sort_unstable();
        Ok(sizes)
    }

    fn history(&self, size: u64) -> Result<Option<Vec<u8>>, StoreError> {
        read_optional(&self.root.join("log/checkpoints").join(size.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blobs_stage_commit_and_list() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsStore::create(dir.path()).unwrap();
        let mut staged = store.create().unwrap();
        staged.write_all(b"ciphertext").unwrap();
        assert!(store.list().unwrap().is_empty(), "staged blob is invisible");
        staged.commit("abcdef").unwrap();
        store.sync_blobs().unwrap();
        let mut back = Vec::new();
        store
            .open("abcdef")
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, b"ciphertext");
        assert_eq!(store.list().unwrap(), vec!["abcdef".to_string()]);
        assert!(matches!(
            store.open("abcd00"),
            Err(StoreError::MissingBlob(_))
        ));

        let mut aborted = store.create().unwrap();
        aborted.write_all(b"x").unwrap();
        aborted.abort();
        let staging: Vec<_> = fs::read_dir(dir.path().join("blobs/.staging"))
            .unwrap()
            .collect();
        assert!(staging.is_empty(), "abort leaves nothing behind");
    }

    #[test]
    fn checkpoint_compare_and_swap() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsStore::create(dir.path()).unwrap();
        assert_eq!(store.latest().unwrap(), None);
        store.swap(None, b"one").unwrap();
        assert!(matches!(
            store.swap(None, b"two"),
            Err(StoreError::CheckpointConflict)
        ));
        assert!(matches!(
            store.swap(Some(b"zero"), b"two"),
            Err(StoreError::CheckpointConflict)
        ));
        store.swap(Some(b"one"), b"two").unwrap();
        assert_eq!(store.latest().unwrap().unwrap(), b"two");
        store.put_history(10, b"ten").unwrap();
        store.put_history(2, b"two").unwrap();
        assert_eq!(store.history_sizes().unwrap(), vec![2, 10]);
        assert_eq!(store.history(10).unwrap().unwrap(), b"ten");
    }

    #[test]
    fn blobs_and_log_objects_are_written_once() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsStore::create(dir.path()).unwrap();
        let put = |data: &[u8]| {
            let mut staged = store.create().unwrap();
            staged.write_all(data).unwrap();
            staged.commit("abcdef")
        };
        put(b"one").unwrap();
        assert!(matches!(put(b"two"), Err(StoreError::Conflict { .. })));
        let mut back = Vec::new();
        store
            .open("abcdef")
            .unwrap()
            .read_to_end(&mut back)
            .unwrap();
        assert_eq!(back, b"one", "the first blob stays");
        assert_eq!(
            fs::read_dir(dir.path().join("blobs/.staging"))
                .unwrap()
                .count(),
            0,
            "the refused commit left nothing staged"
        );
        BlobStore::remove(&store, "abcdef").unwrap();
        put(b"two").unwrap();

        store.write("tile/0/000.p/1", b"a").unwrap();
        store.write("tile/0/000.p/1", b"a").unwrap();
        assert!(matches!(
            store.write("tile/0/000.p/1", b"b"),
            Err(StoreError::Conflict { .. })
        ));
        assert_eq!(store.read("tile/0/000.p/1").unwrap().unwrap(), b"a");
        LogStore::remove(&store, "tile/0/000.p/1").unwrap();
        store.write("tile/0/000.p/1", b"b").unwrap();
        assert_eq!(store.read("tile/0/000.p/1").unwrap().unwrap(), b"b");
    }

    #[test]
    fn staged_leftovers_are_cleared_and_no_store_is_named() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            FsStore::open(dir.path()),
            Err(StoreError::NoStore(_))
        ));
        let store = FsStore::create(dir.path()).unwrap();
        let mut staged = store.create().unwrap();
        staged.write_all(b"half").unwrap();
        std::mem::forget(staged); // a writer that died mid-blob
        assert_eq!(
            fs::read_dir(dir.path().join("blobs/.staging"))
                .unwrap()
                .count(),
            1
        );
        store.clear_staged().unwrap();
        assert_eq!(
            fs::read_dir(dir.path().join("blobs/.staging"))
                .unwrap()
                .count(),
            0
        );
    }

    #[test]
    fn log_paths_are_validated() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsStore::create(dir.path()).unwrap();
        assert!(store.write("tile/../../escape", b"x").is_err());
        store.write("tile/0/x001/234.p/7", b"x").unwrap();
        assert!(dir.path().join("log/tile/0/x001/234.p/7").is_file());
    }
}
