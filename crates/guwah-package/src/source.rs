//! Reading a bag from a folder or a zip: every file listed, every file
//! hashed once (all needed algorithms in one pass) on a small pool of
//! threads, with progress in bytes. Nothing is ever written.
//!
//! Only the tag files the caller will parse ([`ReadOptions::keep`]) are
//! held in memory, each at most [`MAX_TAG_FILE`] bytes and
//! [`MAX_TAG_HELD`] bytes in all; every other file is hashed as it
//! streams by. A zip must also keep within its expansion budget
//! ([`ZipLimits::max_expansion`]).

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, Read};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex};

use guwah_core::bag::{self, Algorithm, BagFiles, FileDigest};

use crate::hash::MultiHasher;

use crate::zip::{ZipArchive, ZipError, ZipLimits};

/// Largest tag file (a file outside `data/`) that is read into memory.
pub const MAX_TAG_FILE: u64 = 64 << 20;

/// Most bytes of tag files held in memory at once, in all.
pub const MAX_TAG_HELD: u64 = 256 << 20;

/// How to read a bag: which tag files to hold, and the zip limits.
#[derive(Clone)]
pub struct ReadOptions<'a> {
    /// Which tag files to hold whole (path relative to the bag root), for
    /// the caller to parse; every other tag file is hashed as it streams
    /// by and never kept. The files [`bag::is_parsed_tag_file`] names are
    /// always held: the validator needs them.
    pub keep: &'a (dyn Fn(&str) -> bool + Sync),
    /// Limits on a zip (ignored for a folder).
    pub zip: ZipLimits,
}

impl ReadOptions<'static> {
    /// What BagIt validation needs: [`bag::is_parsed_tag_file`].
    pub fn bagit() -> Self {
        ReadOptions {
            keep: &bag::is_parsed_tag_file,
            zip: ZipLimits::default(),
        }
    }

    /// What verifying an evidence package needs:
    /// [`guwah_core::bundle::is_read_tag_file`].
    pub fn package() -> Self {
        ReadOptions {
            keep: &guwah_core::bundle::is_read_tag_file,
            zip: ZipLimits::default(),
        }
    }
}

impl<'a> ReadOptions<'a> {
    /// The same, with these zip limits.
    pub fn with_zip_limits(mut self, zip: ZipLimits) -> Self {
        self.zip = zip;
        self
    }

    fn keeps(&self, rel: &str) -> bool {
        bag::is_parsed_tag_file(rel) || (self.keep)(rel)
    }
}

/// What can go wrong reading a bag.
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    /// An I/O error on a file of the bag.
    #[error("{0}: {1}")]
    Io(String, #[source] io::Error),
    /// A file the bag must not contain (symlink, special file, bad name).
    #[error("{0}: {1}")]
    Refused(String, String),
    /// A tag file to be read whole that is larger than [`MAX_TAG_FILE`].
    #[error(
        "{0}: tag file of {1} bytes is larger than the {MAX_TAG_FILE}-byte limit for a tag file that is read whole"
    )]
    TagTooLarge(String, u64),
    /// Holding this tag file would take the tag files held in memory past
    /// [`MAX_TAG_HELD`] bytes in all (the bytes they would come to).
    #[error(
        "{0}: with this tag file the tag files read whole come to {1} bytes, more than the {MAX_TAG_HELD}-byte limit in all"
    )]
    TagsTooLarge(String, u64),
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
        self.read_held(rel, max, &Held::new(u64::MAX))
    }

    /// Reads one tag file whole, up to `max` bytes, counting its bytes
    /// against `held` before they are read.
    fn read_held(&self, rel: &str, max: u64, held: &Held) -> Result<Vec<u8>, SourceError> {
        let (mut r, size) = self.open_sized(rel, false)?;
        if size > max {
            return Err(SourceError::TagTooLarge(rel.into(), size));
        }
        held.take(rel, size)?;
        // The declared size is only a hint: read at most one byte more.
        let mut v = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        (&mut r)
            .take(max + 1)
            .read_to_end(&mut v)
            .map_err(|e| SourceError::Io(rel.into(), e))?;
        if v.len() as u64 > max {
            return Err(SourceError::TagTooLarge(rel.into(), v.len() as u64));
        }
        // A folder's file may have grown since its size was taken.
        held.take(rel, (v.len() as u64).saturating_sub(size))?;
        Ok(v)
    }

    /// Opens one file of the bag for reading.
    pub fn open(&self, rel: &str) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        self.open_sized(rel, false).map(|(r, _)| r)
    }

    /// Opens a payload file of `size` bytes for hashing: in a bag folder,
    /// files of [`DIRECT_AT`] bytes or more are read with `O_DIRECT`
    /// ([`DirectFile`]; reads must then go into [`AlignedBuf`]s).
    fn open_payload(&self, rel: &str, size: u64) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        self.open_sized(rel, size >= DIRECT_AT).map(|(r, _)| r)
    }

    /// Opens one file of the bag for reading, with its size as the folder
    /// or the zip's directory gives it; `direct`: with `O_DIRECT` where the
    /// file system allows it (bag folders only).
    fn open_sized(
        &self,
        rel: &str,
        direct: bool,
    ) -> Result<(Box<dyn Read + Send + '_>, u64), SourceError> {
        if let Some(why) = bag::path_problem(rel) {
            return Err(SourceError::Refused(rel.into(), why.into()));
        }
        match self {
            BagSource::Dir { root } => {
                // Never through a symbolic link, even one that appeared
                // after the folder was listed.
                let open = |extra: rustix::fs::OFlags| {
                    std::fs::OpenOptions::new()
                        .read(true)
                        .custom_flags((rustix::fs::OFlags::NOFOLLOW | extra).bits() as i32)
                        .open(root.join(rel))
                };
                let io = |e| SourceError::Io(rel.into(), e);
                let (f, direct) = match direct.then(|| open(rustix::fs::OFlags::DIRECT)) {
                    Some(Ok(f)) => (f, true),
                    // Refused by the file system: the ordinary way.
                    Some(Err(e)) if e.raw_os_error() == Some(EINVAL) => {
                        (open(rustix::fs::OFlags::empty()).map_err(io)?, false)
                    }
                    Some(Err(e)) => return Err(io(e)),
                    None => (open(rustix::fs::OFlags::empty()).map_err(io)?, false),
                };
                let m = f.metadata().map_err(io)?;
                if !m.is_file() {
                    return Err(SourceError::Refused(
                        rel.into(),
                        "is not a regular file".into(),
                    ));
                }
                if direct {
                    return Ok((Box::new(DirectFile { file: f, direct }), m.len()));
                }
                if m.len() >= SPLIT_AT {
                    // Read ahead further: the file is read once, in order.
                    let _ = rustix::fs::fadvise(&f, 0, None, rustix::fs::Advice::Sequential);
                }
                Ok((Box::new(f), m.len()))
            }
            BagSource::Zip {
                path,
                prefix,
                archive,
            } => {
                let full = format!("{prefix}{rel}");
                let e = archive
                    .entry(&full)
                    .ok_or_else(|| SourceError::Io(rel.into(), io::ErrorKind::NotFound.into()))?;
                let f =
                    File::open(path).map_err(|e| SourceError::Io(path.display().to_string(), e))?;
                // No buffering here: callers read in large blocks, and a
                // buffer would read past a small entry's end.
                Ok((ZipArchive::reader(e, f)?, e.size))
            }
        }
    }

    /// The entries of a folder of a bag folder (`rel` relative to its root);
    /// nothing for a zip, whose entries are all known from its directory.
    fn list(&self, rel: &str) -> Result<Vec<(String, Kind)>, SourceError> {
        match self {
            BagSource::Dir { root } => list_dir(root, rel),
            BagSource::Zip { .. } => Ok(Vec::new()),
        }
    }
}

/// The tag bytes held in memory so far, against a limit.
struct Held {
    bytes: AtomicU64,
    limit: u64,
}

impl Held {
    fn new(limit: u64) -> Self {
        Held {
            bytes: AtomicU64::new(0),
            limit,
        }
    }

    /// Counts `n` more bytes for the tag file `rel`; refuses past the limit.
    fn take(&self, rel: &str, n: u64) -> Result<(), SourceError> {
        let total = self.bytes.fetch_add(n, Ordering::Relaxed).saturating_add(n);
        if total > self.limit {
            return Err(SourceError::TagsTooLarge(rel.into(), total));
        }
        Ok(())
    }
}

/// Reads a bag folder or a zip, by the path's type, holding the tag files
/// BagIt validation parses ([`ReadOptions::bagit`]).
pub fn read_bag(
    path: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(BagFiles, BagSource), SourceError> {
    read_bag_with(path, &ReadOptions::bagit(), &Hooks::progress_only(progress))
}

/// [`read_bag`] with these options, telling `hooks` as it goes.
pub fn read_bag_with(
    path: &Path,
    opts: &ReadOptions<'_>,
    hooks: &Hooks<'_>,
) -> Result<(BagFiles, BagSource), SourceError> {
    let meta =
        std::fs::metadata(path).map_err(|e| SourceError::Io(path.display().to_string(), e))?;
    if meta.is_dir() {
        dir_with(path, opts, hooks)
    } else if meta.is_file() {
        zip_with(path, opts, hooks)
    } else {
        Err(SourceError::NotABag(path.display().to_string()))
    }
}

/// What a file of a bag folder is, from its directory entry (no `stat`
/// needed on file systems that record the type there).
enum Kind {
    Dir,
    File,
}

/// Classifies one directory entry of a bag folder, refusing names that are
/// not UTF-8, symbolic links and special files.
fn classify(root: &Path, ent: &std::fs::DirEntry) -> Result<(String, Kind), SourceError> {
    let p = ent.path();
    let rel = p
        .strip_prefix(root)
        .ok()
        .and_then(|r| r.to_str())
        .map(|s| s.replace(std::path::MAIN_SEPARATOR, "/"))
        .ok_or_else(|| {
            let lossy = p
                .strip_prefix(root)
                .map(|r| r.to_string_lossy().replace('\\', "/"))
                .unwrap_or_default();
            SourceError::Refused(lossy, "file name is not valid UTF-8".into())
        })?;
    let ft = ent
        .file_type()
        .map_err(|e| SourceError::Io(rel.clone(), e))?;
    if ft.is_symlink() {
        Err(SourceError::Refused(
            rel,
            "is a symbolic link (bags must hold regular files only)".into(),
        ))
    } else if ft.is_dir() {
        Ok((rel, Kind::Dir))
    } else if ft.is_file() {
        Ok((rel, Kind::File))
    } else {
        Err(SourceError::Refused(
            rel,
            "is a special file (device, FIFO or socket)".into(),
        ))
    }
}

/// The entries of one folder of a bag (`rel` relative to the root, `""`
/// for the root itself).
fn list_dir(root: &Path, rel: &str) -> Result<Vec<(String, Kind)>, SourceError> {
    let dir = root.join(rel);
    let rd = std::fs::read_dir(&dir).map_err(|e| SourceError::Io(rel.into(), e))?;
    let mut out = Vec::new();
    for ent in rd {
        let ent = ent.map_err(|e| SourceError::Io(rel.into(), e))?;
        out.push(classify(root, &ent)?);
    }
    Ok(out)
}

/// Every file under the folder `rel`, with its size (payload files: their
/// sizes order the hashing, largest first).
fn walk_sized(root: &Path, rel: &str, out: &mut Vec<(String, u64)>) -> Result<(), SourceError> {
    for (path, kind) in list_dir(root, rel)? {
        match kind {
            Kind::Dir => walk_sized(root, &path, out)?,
            Kind::File => {
                let m = std::fs::symlink_metadata(root.join(&path))
                    .map_err(|e| SourceError::Io(path.clone(), e))?;
                out.push((path, m.len()));
            }
        }
    }
    Ok(())
}

/// What there is to read in a bag, before anything is hashed.
#[derive(Default)]
struct Plan {
    /// Payload files (under `data/`) and their sizes.
    payload: Vec<(String, u64)>,
    /// Tag files outside the root folder, known by name.
    tags: Vec<String>,
    /// Tag folders not listed yet (bag folders only): their files are found
    /// and read by the same workers that read tag files.
    tag_dirs: Vec<String>,
}

/// Reads a bag folder: lists every file (refusing symlinks and special
/// files), holds the tag files BagIt validation parses, and hashes every
/// file once.
pub fn read_bag_dir(
    root: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(BagFiles, BagSource), SourceError> {
    dir_with(root, &ReadOptions::bagit(), &Hooks::progress_only(progress))
}

fn dir_with(
    root: &Path,
    opts: &ReadOptions<'_>,
    hooks: &Hooks<'_>,
) -> Result<(BagFiles, BagSource), SourceError> {
    let source = BagSource::Dir {
        root: root.to_path_buf(),
    };
    let mut files = BagFiles::default();
    let mut plan = Plan::default();
    let held = Held::new(MAX_TAG_HELD);
    for (rel, kind) in list_dir(root, "")? {
        match kind {
            Kind::Dir if rel == "data" => {
                files.payload_dir = true;
                walk_sized(root, &rel, &mut plan.payload)?
            }
            Kind::Dir => plan.tag_dirs.push(rel),
            Kind::File if opts.keeps(&rel) => {
                let bytes = source.read_held(&rel, MAX_TAG_FILE, &held)?;
                files.tag_contents.insert(rel, bytes);
            }
            Kind::File => plan.tags.push(rel),
        }
    }
    hash_all(&mut files, plan, &source, opts, &held, hooks)?;
    Ok((files, source))
}

/// Reads a bag from a zip: the bag is at the zip's root or in its single
/// top-level folder. Entries are checked (see [`ZipArchive::open`]).
pub fn read_bag_zip(
    path: &Path,
    limits: &ZipLimits,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(BagFiles, BagSource), SourceError> {
    let opts = ReadOptions::bagit().with_zip_limits(limits.clone());
    zip_with(path, &opts, &Hooks::progress_only(progress))
}

fn zip_with(
    path: &Path,
    opts: &ReadOptions<'_>,
    hooks: &Hooks<'_>,
) -> Result<(BagFiles, BagSource), SourceError> {
    let archive = ZipArchive::open_path(path, &opts.zip)?;
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
    let mut plan = Plan::default();
    let mut root_tags = Vec::new();
    for e in archive.entries() {
        let Some(rel) = e.name.strip_prefix(&prefix) else {
            return Err(SourceError::Refused(
                e.name.clone(),
                format!("outside the bag folder {prefix}"),
            ));
        };
        if !is_tag_file(rel) {
            plan.payload.push((rel.to_string(), e.size));
        } else if !opts.keeps(rel) {
            plan.tags.push(rel.to_string());
        } else if e.size > MAX_TAG_FILE {
            return Err(SourceError::TagTooLarge(rel.to_string(), e.size));
        } else if rel.contains('/') {
            plan.tags.push(rel.to_string());
        } else {
            root_tags.push(rel.to_string());
        }
    }
    let mut files = BagFiles {
        payload_dir: archive.has_dir(&format!("{prefix}data")),
        ..BagFiles::default()
    };
    let source = BagSource::Zip {
        path: path.to_path_buf(),
        prefix,
        archive,
    };
    let held = Held::new(MAX_TAG_HELD);
    for rel in root_tags {
        let bytes = source.read_held(&rel, MAX_TAG_FILE, &held)?;
        files.tag_contents.insert(rel, bytes);
    }
    hash_all(&mut files, plan, &source, opts, &held, hooks)?;
    Ok((files, source))
}

fn is_tag_file(rel: &str) -> bool {
    !rel.starts_with("data/")
}

/// One piece of work for a tag reader.
enum TagTask {
    /// List a folder of a bag folder.
    Dir(String),
    /// Hash one tag file, and keep it if the caller parses it.
    File(String),
}

/// The tag readers' shared work: a stack of tasks, and how many are being
/// done (a folder being listed may add more).
struct TagQueue {
    state: Mutex<(Vec<TagTask>, usize, bool)>,
    wake: Condvar,
}

impl TagQueue {
    fn new(tasks: Vec<TagTask>) -> Self {
        TagQueue {
            state: Mutex::new((tasks, 0, false)),
            wake: Condvar::new(),
        }
    }

    /// The next task, or `None` when everything is done or reading stopped.
    fn next(&self) -> Option<TagTask> {
        let mut st = self.state.lock().ok()?;
        loop {
            if st.2 {
                return None;
            }
            if let Some(t) = st.0.pop() {
                st.1 += 1;
                return Some(t);
            }
            if st.1 == 0 {
                return None;
            }
            st = self.wake.wait(st).ok()?;
        }
    }

    /// Ends a task, queueing what it found.
    fn done(&self, found: Vec<TagTask>) {
        if let Ok(mut st) = self.state.lock() {
            st.0.extend(found);
            st.1 -= 1;
        }
        self.wake.notify_all();
    }

    /// Stops every reader (an error was found).
    fn stop(&self) {
        if let Ok(mut st) = self.state.lock() {
            st.2 = true;
        }
        self.wake.notify_all();
    }
}

/// Threads that hash payload files: two per core, and two more. Payload
/// files are read with `O_DIRECT` (no kernel read-ahead), so a thread
/// waiting for its next block keeps nothing in flight: more threads than
/// cores keep the disk busy while the cores hash (measured on a cold
/// 10 GB package: 3 threads 21.2 s, 6 threads 18.8 s, on 2 cores).
fn payload_threads() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .clamp(1, 8)
        * 2
        + 2
}

/// Bytes per read of a payload file (larger reads measured no faster).
const READ_SIZE: usize = 1 << 20;

/// Threads that list tag folders and read tag files. A package has several
/// small tag files per item (records, receipts, fields); from a cold cache
/// each costs a few disk round trips and almost no CPU, so many are read at
/// once, beside the payload hashing.
const TAG_THREADS: usize = 16;

/// Called with the held tag files' bytes, by path: see [`Hooks::tags_read`].
pub type TagsRead<'a> = dyn Fn(&BTreeMap<String, Vec<u8>>) + Sync + 'a;

/// What a caller hears while a bag is read.
pub struct Hooks<'a> {
    /// Bytes read so far (called from several threads).
    pub progress: &'a (dyn Fn(u64) + Sync),
    /// The held tag files' bytes ([`ReadOptions::keep`]), once all are
    /// read and while the payload may still be hashing (called once,
    /// unless reading failed): checks that need only the tag files can
    /// run beside the hashing.
    pub tags_read: &'a TagsRead<'a>,
}

impl<'a> Hooks<'a> {
    /// Progress only; the tag files are not wanted early.
    pub fn progress_only(progress: &'a (dyn Fn(u64) + Sync)) -> Self {
        Hooks {
            progress,
            tags_read: &|_| {},
        }
    }
}

/// Bytes per read of a tag file that is hashed, not held.
const TAG_READ_SIZE: usize = 256 << 10;

/// Hashes every file once with every needed algorithm. Payload files are
/// hashed largest first by [`payload_threads`] threads while
/// [`TAG_THREADS`] others list the tag folders and read and hash the tag
/// files, keeping those `opts` keeps (counted against `held`). Root tag
/// files that are kept must already be in `files.tag_contents` (they name
/// the algorithms).
fn hash_all(
    files: &mut BagFiles,
    mut plan: Plan,
    source: &BagSource,
    opts: &ReadOptions<'_>,
    held: &Held,
    hooks: &Hooks<'_>,
) -> Result<(), SourceError> {
    let progress = hooks.progress;
    let algs: Vec<Algorithm> = bag::algorithms_needed(&files.tag_contents);
    plan.payload
        .sort_by_key(|(_, size)| std::cmp::Reverse(*size));
    // Root tag files are hashed from memory, here.
    let mut results: BTreeMap<String, FileDigest> = files
        .tag_contents
        .iter()
        .map(|(rel, bytes)| (rel.clone(), MultiHasher::digest(&algs, bytes)))
        .collect();
    progress(files.tag_contents.values().map(|b| b.len() as u64).sum());
    let tasks: Vec<TagTask> = (plan.tags.into_iter().map(TagTask::File))
        .chain(plan.tag_dirs.into_iter().map(TagTask::Dir))
        .collect();
    // At least one tag thread: the last to finish calls `hooks.tags_read`.
    let tag_threads = if tasks.is_empty() { 1 } else { TAG_THREADS };
    let queue = TagQueue::new(tasks);
    let tags = Mutex::new(std::mem::take(&mut files.tag_contents));
    let tag_threads_left = AtomicUsize::new(tag_threads);
    let next_payload = AtomicUsize::new(0);
    let failed = AtomicBool::new(false);
    let found: Mutex<Vec<(String, FileDigest)>> = Mutex::new(Vec::new());
    let first_err: Mutex<Option<SourceError>> = Mutex::new(None);
    let fail = |e: SourceError| {
        failed.store(true, Ordering::Relaxed);
        queue.stop();
        if let Ok(mut slot) = first_err.lock() {
            slot.get_or_insert(e);
        }
    };
    let keep = |rel: String, d: FileDigest| {
        if let Ok(mut v) = found.lock() {
            v.push((rel, d));
        }
    };
    let tag_reader_done = || {
        if tag_threads_left.fetch_sub(1, Ordering::AcqRel) == 1
            && !failed.load(Ordering::Relaxed)
            && let Ok(map) = tags.lock()
        {
            (hooks.tags_read)(&map);
        }
    };
    let payload = &plan.payload;
    std::thread::scope(|s| {
        for _ in 0..payload_threads().min(payload.len()) {
            spawn_named(s, "bag-payload", || {
                let mut buf = AlignedBuf::new(READ_SIZE);
                while !failed.load(Ordering::Relaxed) {
                    let k = next_payload.fetch_add(1, Ordering::Relaxed);
                    let Some((rel, size)) = payload.get(k) else {
                        return;
                    };
                    match hash_one(source, rel, *size, &algs, buf.bytes_mut(), progress) {
                        Ok(d) => keep(rel.clone(), d),
                        Err(e) => return fail(e),
                    }
                }
            });
        }
        for _ in 0..tag_threads {
            spawn_named(s, "bag-tags", || {
                let mut buf = Vec::new();
                while let Some(task) = queue.next() {
                    let mut more = Vec::new();
                    let r = match task {
                        TagTask::Dir(rel) => source.list(&rel).map(|entries| {
                            more.extend(entries.into_iter().map(|(p, kind)| match kind {
                                Kind::Dir => TagTask::Dir(p),
                                Kind::File => TagTask::File(p),
                            }))
                        }),
                        TagTask::File(rel) if opts.keeps(&rel) => {
                            source.read_held(&rel, MAX_TAG_FILE, held).map(|bytes| {
                                progress(bytes.len() as u64);
                                keep(rel.clone(), MultiHasher::digest(&algs, &bytes));
                                if let Ok(mut map) = tags.lock() {
                                    map.insert(rel, bytes);
                                }
                            })
                        }
                        TagTask::File(rel) => {
                            // Hashed as it streams by, never held.
                            buf.resize(TAG_READ_SIZE, 0);
                            source.open(&rel).and_then(|mut r| {
                                let d = hash_plain(&mut r, &rel, &algs, &mut buf, progress)?;
                                keep(rel, d);
                                Ok(())
                            })
                        }
                    };
                    if let Err(e) = r {
                        queue.done(Vec::new());
                        fail(e);
                        break;
                    }
                    queue.done(more);
                }
                tag_reader_done();
            });
        }
    });
    if let Some(e) = first_err.into_inner().ok().flatten() {
        return Err(e);
    }
    files.tag_contents = tags.into_inner().unwrap_or_default();
    results.extend(found.into_inner().unwrap_or_default());
    files.files = results;
    Ok(())
}

/// Starts a named worker (names show in `top -H` and profilers); if the
/// system will not start a thread, the work runs on this one instead:
/// slower, same result.
fn spawn_named<'scope, F>(s: &'scope std::thread::Scope<'scope, '_>, name: &str, work: F)
where
    F: FnOnce() + Send + Copy + 'scope,
{
    let started = std::thread::Builder::new()
        .name(name.to_owned())
        .spawn_scoped(s, work);
    if started.is_err() {
        work();
    }
}

fn hash_one(
    source: &BagSource,
    rel: &str,
    size: u64,
    algs: &[Algorithm],
    buf: &mut [u8],
    progress: &(dyn Fn(u64) + Sync),
) -> Result<FileDigest, SourceError> {
    let mut r = source.open_payload(rel, size)?;
    if size >= SPLIT_AT && algs.contains(&Algorithm::Sha512) && algs.len() > 1 {
        return hash_split(&mut r, rel, algs, progress);
    }
    hash_plain(&mut r, rel, algs, buf, progress)
}

/// Payload files at least this large are read with `O_DIRECT` (see [`DirectFile`]).
const DIRECT_AT: u64 = 128 << 10;

/// What the kernel answers when it refuses a direct read or open.
const EINVAL: i32 = rustix::io::Errno::INVAL.raw_os_error();

/// Alignment of `O_DIRECT` buffers (and of their lengths): the largest
/// logical block size in common use.
const DIRECT_ALIGN: usize = 4096;

/// A byte buffer whose start and length are multiples of [`DIRECT_ALIGN`],
/// as `O_DIRECT` reads require (carved out of a slightly larger `Vec`).
struct AlignedBuf {
    bytes: Vec<u8>,
    start: usize,
    len: usize,
}

impl AlignedBuf {
    fn new(len: usize) -> Self {
        let len = len.next_multiple_of(DIRECT_ALIGN);
        let bytes = vec![0u8; len + DIRECT_ALIGN];
        let start = bytes.as_ptr().align_offset(DIRECT_ALIGN).min(DIRECT_ALIGN);
        AlignedBuf { bytes, start, len }
    }

    fn bytes_mut(&mut self) -> &mut [u8] {
        &mut self.bytes[self.start..self.start + self.len]
    }

    fn filled(&self) -> &[u8] {
        &self.bytes[self.start..self.start + self.len]
    }
}

/// A payload file read with `O_DIRECT`: each byte is read once, so the
/// page cache would only add a copy (and, on a large package, evict
/// everything else the machine had cached). Reads must go into
/// [`AlignedBuf`]s. If the file system refuses direct reads, the file is
/// read the ordinary way from where it was.
struct DirectFile {
    file: File,
    direct: bool,
}

impl Read for DirectFile {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.direct {
            match self.file.read(buf) {
                Err(e) if e.raw_os_error() == Some(EINVAL) => {
                    self.direct = false;
                    let flags = rustix::fs::fcntl_getfl(&self.file)?;
                    rustix::fs::fcntl_setfl(&self.file, flags - rustix::fs::OFlags::DIRECT)?;
                }
                other => return other,
            }
        }
        self.file.read(buf)
    }
}

/// Every digest of one file on this thread.
fn hash_plain(
    r: &mut dyn Read,
    rel: &str,
    algs: &[Algorithm],
    buf: &mut [u8],
    progress: &(dyn Fn(u64) + Sync),
) -> Result<FileDigest, SourceError> {
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
    // Chunks go to the SHA-512 thread as (buffer, length) and come back to
    // be filled again.
    let (work_tx, work_rx) = sync_channel::<(Arc<AlignedBuf>, usize)>(4);
    let (free_tx, free_rx) = sync_channel::<Arc<AlignedBuf>>(8);
    std::thread::scope(|s| {
        let started = std::thread::Builder::new()
            .name("bag-sha512".into())
            .spawn_scoped(s, move || {
                let mut h = MultiHasher::new(&[Algorithm::Sha512]);
                for (chunk, n) in work_rx {
                    h.update(&chunk.filled()[..n]);
                    let _ = free_tx.try_send(chunk);
                }
                h.finish()
            });
        let Ok(other) = started else {
            // No second thread: everything on this one.
            return hash_plain(
                r,
                rel,
                algs,
                AlignedBuf::new(READ_SIZE).bytes_mut(),
                progress,
            );
        };
        let mut h = MultiHasher::new(&rest);
        let mut result = Ok(());
        loop {
            let mut chunk = match free_rx.try_recv() {
                Ok(c) => c,
                Err(_) => Arc::new(AlignedBuf::new(READ_SIZE)),
            };
            // The other thread has dropped its clone once it is recycled.
            let Some(v) = Arc::get_mut(&mut chunk) else {
                continue;
            };
            let n = loop {
                match r.read(v.bytes_mut()) {
                    Ok(n) => break Ok(n),
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => break Err(e),
                }
            };
            match n {
                Ok(0) => break,
                Ok(n) => {
                    h.update(&v.filled()[..n]);
                    progress(n as u64);
                    if work_tx.send((chunk, n)).is_err() {
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

    fn read_all(r: &mut dyn Read, buf: &mut [u8]) -> Vec<u8> {
        let mut out = Vec::new();
        loop {
            let n = r.read(buf).unwrap();
            if n == 0 {
                return out;
            }
            out.extend_from_slice(&buf[..n]);
        }
    }

    #[test]
    fn direct_reads_give_the_bytes_and_fall_back_when_refused() {
        // (On a file system without O_DIRECT, such as an older tmpfs, both
        // reads take the ordinary path: the bytes must be the same.)
        let dir = tempfile::tempdir().unwrap();
        let data: Vec<u8> = (0..300_001u32).map(|i| (i * 13 % 251) as u8).collect();
        std::fs::write(dir.path().join("f"), &data).unwrap();
        let mut aligned = AlignedBuf::new(1 << 16);
        assert_eq!(aligned.bytes_mut().as_ptr() as usize % DIRECT_ALIGN, 0);
        let bag = BagSource::Dir {
            root: dir.path().to_path_buf(),
        };
        let mut r = bag.open_payload("f", data.len() as u64).unwrap();
        assert_eq!(read_all(&mut r, aligned.bytes_mut()), data);
        // A misaligned buffer: O_DIRECT refuses it; the reader carries on
        // the ordinary way and still returns every byte, in order.
        let mut r = bag.open_payload("f", data.len() as u64).unwrap();
        assert_eq!(read_all(&mut r, &mut aligned.bytes_mut()[1..4097]), data);
        std::os::unix::fs::symlink("f", dir.path().join("link")).unwrap();
        assert!(
            bag.open_payload("link", data.len() as u64).is_err(),
            "never through a link"
        );
    }

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
