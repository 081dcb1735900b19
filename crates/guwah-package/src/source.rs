//! Reading a bag from a folder or a zip: every file listed, tag files read
//! whole, every file hashed once (all needed algorithms in one pass) on a
//! small pool of threads, with progress in bytes. Nothing is ever written.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use guwah_core::bag::{self, Algorithm, BagFiles, FileDigest};

use crate::hash::MultiHasher;

use crate::zip::{ZipArchive, ZipError, ZipLimits};

/// Largest tag file (any file outside `data/`) read into memory.
pub const MAX_TAG_FILE: u64 = 64 << 20;

/// What can go wrong reading a bag.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// An I/O error on a file of the bag.
    #[error("{0}: {1}")]
    Io(String, #[source] io::Error),
    /// A file the bag must not contain (symlink, special file, bad name).
    #[error("{0}: {1}")]
    Refused(String, String),
    /// A tag file larger than [`MAX_TAG_FILE`].
    #[error("{0}: tag file of {1} bytes is larger than the {MAX_TAG_FILE}-byte limit")]
    TagTooLarge(String, u64),
    /// The zip is unreadable, corrupt or refused.
    #[error(transparent)]
    Zip(#[from] ZipError),
    /// Not a folder or file.
    #[error("{0}: not a folder or a .zip file")]
    NotABag(String),
}

/// Where a bag's bytes are, to read a file again after validation.
#[derive(Debug)]
pub enum BagSource {
    /// A bag folder.
    Dir {
        /// The bag's root folder.
        root: PathBuf,
    },
    /// A bag inside a zip.
    Zip {
        /// The zip file.
        path: PathBuf,
        /// The folder inside the zip holding the bag (`""` or `name/`).
        prefix: String,
        /// The archive's checked entries.
        archive: ZipArchive,
    },
}

impl BagSource {
    /// Reads one file of the bag (path relative to the bag root), up to `max` bytes.
    pub fn read_file(&self, rel: &str, max: u64) -> Result<Vec<u8>, SourceError> {
        let mut r = self.open(rel)?;
        let mut v = Vec::new();
        (&mut r)
            .take(max + 1)
            .read_to_end(&mut v)
            .map_err(|e| SourceError::Io(rel.into(), e))?;
        if v.len() as u64 > max {
            return Err(SourceError::TagTooLarge(rel.into(), v.len() as u64));
        }
        Ok(v)
    }

    /// Opens one file of the bag for reading.
    pub fn open(&self, rel: &str) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        if let Some(why) = bag::path_problem(rel) {
            return Err(SourceError::Refused(rel.into(), why.into()));
        }
        match self {
            BagSource::Dir { root } => {
                let p = root.join(rel);
                let f = File::open(&p).map_err(|e| SourceError::Io(rel.into(), e))?;
                Ok(Box::new(f))
            }
            BagSource::Zip {
                path,
                prefix,
                archive,
            } => {
                let full = format!("{prefix}{rel}");
                let e = archive
                    .entries()
                    .iter()
                    .find(|e| e.name == full)
                    .ok_or_else(|| SourceError::Io(rel.into(), io::ErrorKind::NotFound.into()))?;
                let f =
                    File::open(path).map_err(|e| SourceError::Io(path.display().to_string(), e))?;
                ZipArchive::reader(e, BufReader::with_capacity(1 << 20, f))
                    .map_err(SourceError::from)
            }
        }
    }
}

/// Reads a bag folder or a zip, by the path's type.
pub fn read_bag(
    path: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(BagFiles, BagSource), SourceError> {
    let meta =
        std::fs::metadata(path).map_err(|e| SourceError::Io(path.display().to_string(), e))?;
    if meta.is_dir() {
        read_bag_dir(path, progress)
    } else if meta.is_file() {
        read_bag_zip(path, &ZipLimits::default(), progress)
    } else {
        Err(SourceError::NotABag(path.display().to_string()))
    }
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, u64)>) -> Result<(), SourceError> {
    let rel_of = |p: &Path| {
        p.strip_prefix(root)
            .map(|r| r.to_string_lossy().replace('\\', "/"))
            .unwrap_or_default()
    };
    let rd = std::fs::read_dir(dir).map_err(|e| SourceError::Io(rel_of(dir), e))?;
    for ent in rd {
        let ent = ent.map_err(|e| SourceError::Io(rel_of(dir), e))?;
        let p = ent.path();
        let rel = p
            .strip_prefix(root)
            .ok()
            .and_then(|r| r.to_str())
            .map(|s| s.replace(std::path::MAIN_SEPARATOR, "/"))
            .ok_or_else(|| {
                SourceError::Refused(rel_of(&p), "file name is not valid UTF-8".into())
            })?;
        let m = std::fs::symlink_metadata(&p).map_err(|e| SourceError::Io(rel.clone(), e))?;
        let ft = m.file_type();
        if ft.is_symlink() {
            return Err(SourceError::Refused(
                rel,
                "is a symbolic link (bags must hold regular files only)".into(),
            ));
        } else if ft.is_dir() {
            walk(root, &p, out)?;
        } else if ft.is_file() {
            out.push((rel, m.len()));
        } else {
            return Err(SourceError::Refused(
                rel,
                "is a special file (device, FIFO or socket)".into(),
            ));
        }
    }
    Ok(())
}

/// Reads a bag folder: lists every file (refusing symlinks and special
/// files), reads tag files whole, and hashes every file once.
pub fn read_bag_dir(
    root: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(BagFiles, BagSource), SourceError> {
    let mut list = Vec::new();
    walk(root, root, &mut list)?;
    let source = BagSource::Dir {
        root: root.to_path_buf(),
    };
    let mut files = BagFiles::default();
    read_root_tag_files(&mut files, &list, &source)?;
    hash_all(&mut files, &list, &source, progress)?;
    Ok((files, source))
}

/// Reads a bag from a zip: the bag is at the zip's root or in its single
/// top-level folder. Entries are checked (see [`ZipArchive::open`]).
pub fn read_bag_zip(
    path: &Path,
    limits: &ZipLimits,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(BagFiles, BagSource), SourceError> {
    let archive = ZipArchive::open_path(path, limits)?;
    let names: Vec<&str> = archive.entries().iter().map(|e| e.name.as_str()).collect();
    let prefix = if names.contains(&"bagit.txt") {
        String::new()
    } else {
        let tops: std::collections::BTreeSet<&str> = names
            .iter()
            .filter_map(|n| n.split_once('/').map(|(t, _)| t))
            .collect();
        match tops.iter().next() {
            Some(t) if tops.len() == 1 && names.iter().all(|n| n.contains('/')) => format!("{t}/"),
            _ => String::new(),
        }
    };
    let mut list = Vec::new();
    for e in archive.entries() {
        let Some(rel) = e.name.strip_prefix(&prefix) else {
            return Err(SourceError::Refused(
                e.name.clone(),
                format!("outside the bag folder {prefix}"),
            ));
        };
        list.push((rel.to_string(), e.size));
    }
    let source = BagSource::Zip {
        path: path.to_path_buf(),
        prefix,
        archive,
    };
    let mut files = BagFiles::default();
    read_root_tag_files(&mut files, &list, &source)?;
    hash_all(&mut files, &list, &source, progress)?;
    Ok((files, source))
}

fn is_tag_file(rel: &str) -> bool {
    !rel.starts_with("data/")
}

/// Refuses oversized tag files, then reads the tag files at the bag's root
/// (`bagit.txt`, the manifests, `bag-info.txt`: what names the algorithms).
/// Tag files in subfolders are read by [`hash_all`]'s workers, in parallel.
fn read_root_tag_files(
    files: &mut BagFiles,
    list: &[(String, u64)],
    source: &BagSource,
) -> Result<(), SourceError> {
    for (rel, size) in list {
        if is_tag_file(rel) && *size > MAX_TAG_FILE {
            return Err(SourceError::TagTooLarge(rel.clone(), *size));
        }
    }
    for (rel, _) in list {
        if is_tag_file(rel) && !rel.contains('/') {
            files
                .tag_contents
                .insert(rel.clone(), source.read_file(rel, MAX_TAG_FILE)?);
        }
    }
    Ok(())
}

/// Hashes every file once with every needed algorithm, on a few threads
/// (largest files first), reporting bytes hashed. Tag files not yet in
/// `files.tag_contents` are read whole here, hashed from memory, and added.
/// More threads than cores: most files of a package are small (records,
/// receipts), and reading them from a cold cache waits on the disk, one
/// request per thread.
fn hash_all(
    files: &mut BagFiles,
    list: &[(String, u64)],
    source: &BagSource,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(), SourceError> {
    let algs: Vec<Algorithm> = bag::algorithms_needed(&files.tag_contents);
    let mut order: Vec<usize> = (0..list.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(list[i].1));
    let next = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let results: Mutex<BTreeMap<String, FileDigest>> = Mutex::new(BTreeMap::new());
    let read_tags: Mutex<Vec<(String, Vec<u8>)>> = Mutex::new(Vec::new());
    let first_err: Mutex<Option<SourceError>> = Mutex::new(None);
    let tags = &files.tag_contents;
    let threads = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 4)
        * 2;
    std::thread::scope(|s| {
        for _ in 0..threads.min(list.len().max(1)) {
            s.spawn(|| {
                let mut buf = vec![0u8; 1 << 20];
                loop {
                    if failed.load(Ordering::Relaxed) {
                        return;
                    }
                    let k = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&i) = order.get(k) else { return };
                    let rel = &list[i].0;
                    let r = if let Some(bytes) = tags.get(rel) {
                        progress(bytes.len() as u64);
                        Ok(MultiHasher::digest(&algs, bytes))
                    } else if is_tag_file(rel) {
                        source.read_file(rel, MAX_TAG_FILE).map(|bytes| {
                            progress(bytes.len() as u64);
                            let d = MultiHasher::digest(&algs, &bytes);
                            if let Ok(mut v) = read_tags.lock() {
                                v.push((rel.clone(), bytes));
                            }
                            d
                        })
                    } else {
                        hash_one(source, rel, list[i].1, &algs, &mut buf, progress)
                    };
                    match r {
                        Ok(d) => {
                            if let Ok(mut m) = results.lock() {
                                m.insert(rel.clone(), d);
                            }
                        }
                        Err(e) => {
                            failed.store(true, Ordering::Relaxed);
                            if let Ok(mut slot) = first_err.lock() {
                                slot.get_or_insert(e);
                            }
                            return;
                        }
                    }
                }
            });
        }
    });
    if let Some(e) = first_err.into_inner().ok().flatten() {
        return Err(e);
    }
    files.files = results.into_inner().unwrap_or_default();
    files
        .tag_contents
        .extend(read_tags.into_inner().unwrap_or_default());
    Ok(())
}

fn hash_one(
    source: &BagSource,
    rel: &str,
    size: u64,
    algs: &[Algorithm],
    buf: &mut [u8],
    progress: &(dyn Fn(u64) + Sync),
) -> Result<FileDigest, SourceError> {
    let mut r = source.open(rel)?;
    if size >= SPLIT_AT && algs.contains(&Algorithm::Sha512) && algs.len() > 1 {
        return hash_split(&mut r, rel, algs, progress);
    }
    let mut h = MultiHasher::new(algs);
    loop {
        let n = match r.read(buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(SourceError::Io(rel.into(), e)),
        };
        h.update(&buf[..n]);
        progress(n as u64);
    }
    Ok(h.finish())
}

/// Files at least this large get their digests computed on two threads.
const SPLIT_AT: u64 = 8 << 20;

/// One read of a large file, SHA-512 on a second thread and every other
/// digest on this one: the two costliest digests then use both cores, as
/// two `openssl dgst` processes would. Buffers are recycled, so memory
/// stays at a few MiB.
fn hash_split(
    r: &mut dyn Read,
    rel: &str,
    algs: &[Algorithm],
    progress: &(dyn Fn(u64) + Sync),
) -> Result<FileDigest, SourceError> {
    use std::sync::Arc;
    use std::sync::mpsc::sync_channel;
    let rest: Vec<Algorithm> = algs
        .iter()
        .copied()
        .filter(|a| *a != Algorithm::Sha512)
        .collect();
    let (work_tx, work_rx) = sync_channel::<Arc<Vec<u8>>>(4);
    let (free_tx, free_rx) = sync_channel::<Arc<Vec<u8>>>(8);
    std::thread::scope(|s| {
        let other = s.spawn(move || {
            let mut h = MultiHasher::new(&[Algorithm::Sha512]);
            for chunk in work_rx {
                h.update(&chunk);
                let _ = free_tx.try_send(chunk);
            }
            h.finish()
        });
        let mut h = MultiHasher::new(&rest);
        let mut result = Ok(());
        loop {
            let mut chunk = match free_rx.try_recv() {
                Ok(c) => c,
                Err(_) => Arc::new(Vec::with_capacity(1 << 20)),
            };
            // The other thread has dropped its clone once it is recycled.
            let Some(v) = Arc::get_mut(&mut chunk) else {
                continue;
            };
            v.resize(1 << 20, 0);
            let n = loop {
                match r.read(v) {
                    Ok(n) => break Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => break Err(e),
                }
            };
            match n {
                Ok(0) => break,
                Ok(n) => {
                    v.truncate(n);
                    h.update(v);
                    progress(n as u64);
                    if work_tx.send(chunk).is_err() {
                        break;
                    }
                }
                Err(e) => {
                    result = Err(SourceError::Io(rel.into(), e));
                    break;
                }
            }
        }
        drop(work_tx);
        let sha512 = other.join().map_err(|_| {
            SourceError::Io(rel.into(), io::Error::other("the hashing thread stopped"))
        })?;
        result?;
        let mut d = h.finish();
        d.digests.extend(sha512.digests);
        Ok(d)
    })
}

#[cfg(test)]
mod split_tests {
    use super::*;

    #[test]
    fn split_hashing_gives_the_same_digests() {
        let data: Vec<u8> = (0..(SPLIT_AT as usize + 3_000_123))
            .map(|i| (i * 7 % 253) as u8)
            .collect();
        let algs = [Algorithm::Md5, Algorithm::Sha256, Algorithm::Sha512];
        let mut r = io::Cursor::new(&data);
        let split = hash_split(&mut r, "data/x", &algs, &|_| {}).unwrap();
        let whole = MultiHasher::digest(&algs, &data);
        assert_eq!(split.digests, whole.digests);
        assert_eq!(
            split.digests,
            bag::MultiHasher::digest(&algs, &data).digests,
            "and the same as the pure core's"
        );
    }
}
