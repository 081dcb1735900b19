//! Writing a BagIt 1.0 bag into a folder (crash-safe: built in
//! `<dest>.partial`, synced, renamed at the end) or streamed into a zip.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use guwah_core::bag::{self, Algorithm, FileDigest, MultiHasher};

use crate::zip::{ZipError, ZipWriter};

/// The algorithms guwah's bags carry.
pub const ALGORITHMS: [Algorithm; 2] = [Algorithm::Sha256, Algorithm::Sha512];

/// What can go wrong writing a bag.
#[derive(Debug, thiserror::Error)]
pub enum WriteError {
    /// An I/O error, naming the file.
    #[error("{0}: {1}")]
    Io(String, #[source] io::Error),
    /// A path refused: unsafe, reserved, or a duplicate.
    #[error("{0:?}: {1}")]
    Path(String, String),
    /// The destination exists already.
    #[error("{0}: already exists")]
    Exists(String),
    /// The zip writer failed.
    #[error(transparent)]
    Zip(#[from] ZipError),
}

enum Sink {
    Dir {
        partial: PathBuf,
        dest: PathBuf,
    },
    Zip {
        zip: ZipWriter<Box<dyn Write + Send>>,
        prefix: String,
        /// A zip file: the file (to sync), `<dest>.partial` and `dest`.
        /// None for a zip streamed to a caller's writer.
        file: Option<(File, PathBuf, PathBuf)>,
    },
}

/// What [`BagWriter::finish`] wrote.
#[derive(Clone, Debug)]
pub struct BagSummary {
    /// The bag folder or zip file (empty for a streamed zip).
    pub path: PathBuf,
    /// Number of payload files.
    pub payload_files: u64,
    /// Total payload bytes.
    pub payload_bytes: u64,
    /// The `Payload-Oxum` written.
    pub payload_oxum: String,
}

/// Builds a bag: payload files streamed and hashed (SHA-256 and SHA-512) on
/// the way, then tag files, manifests and tag manifests at [`finish`](Self::finish).
pub struct BagWriter {
    sink: Sink,
    payload: BTreeMap<String, FileDigest>,
    tags: BTreeMap<String, Vec<u8>>,
    keys: BTreeMap<String, String>,
}

fn partial_of(dest: &Path) -> PathBuf {
    let mut s = dest.as_os_str().to_owned();
    s.push(".partial");
    PathBuf::from(s)
}

/// Creates `dir` and its missing parents as private folders (0700): a
/// package holds plaintext originals and disclosed values, for its owner to
/// share on purpose, not for every account on the machine.
fn private_dirs(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
}

/// Creates a private file (0600, whatever the umask); `new`: refusing one
/// that exists, else replacing it.
fn private_file(path: &Path, new: bool) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).mode(0o600);
    if new {
        o.create_new(true);
    } else {
        o.create(true).truncate(true);
    }
    o.open(path)
}

fn disp(p: &Path) -> String {
    p.display().to_string()
}

impl BagWriter {
    /// A bag to be written as the folder `dest` (which must not exist).
    /// A stale `<dest>.partial` from an interrupted run is replaced.
    pub fn create_dir(dest: &Path) -> Result<Self, WriteError> {
        if dest.exists() {
            return Err(WriteError::Exists(disp(dest)));
        }
        let partial = partial_of(dest);
        if partial.exists() {
            std::fs::remove_dir_all(&partial).map_err(|e| WriteError::Io(disp(&partial), e))?;
        }
        private_dirs(&partial.join("data")).map_err(|e| WriteError::Io(disp(&partial), e))?;
        Ok(Self::with(Sink::Dir {
            partial,
            dest: dest.to_path_buf(),
        }))
    }

    /// A bag to be streamed into the zip file `dest` (which must not exist),
    /// inside the top-level folder `folder` (e.g. the bag's name; `""` for none).
    pub fn create_zip(dest: &Path, folder: &str) -> Result<Self, WriteError> {
        if dest.exists() {
            return Err(WriteError::Exists(disp(dest)));
        }
        let prefix = zip_prefix(folder)?;
        let partial = partial_of(dest);
        let f = private_file(&partial, false).map_err(|e| WriteError::Io(disp(&partial), e))?;
        let sync = f
            .try_clone()
            .map_err(|e| WriteError::Io(disp(&partial), e))?;
        let zip = ZipWriter::new(Box::new(BufWriter::with_capacity(1 << 20, f)) as Box<_>);
        Ok(Self::with(Sink::Zip {
            zip,
            prefix,
            file: Some((sync, partial, dest.to_path_buf())),
        }))
    }

    /// A bag streamed as a zip into `out` (a network connection: nothing
    /// touches the disk), inside the top-level folder `folder`. The zip is
    /// complete when [`finish`](Self::finish) returns.
    pub fn stream_zip(out: Box<dyn Write + Send>, folder: &str) -> Result<Self, WriteError> {
        Ok(Self::with(Sink::Zip {
            zip: ZipWriter::new(out),
            prefix: zip_prefix(folder)?,
            file: None,
        }))
    }

    fn with(sink: Sink) -> Self {
        BagWriter {
            sink,
            payload: BTreeMap::new(),
            tags: BTreeMap::new(),
            keys: BTreeMap::new(),
        }
    }

    fn claim(&mut self, full: &str) -> Result<(), WriteError> {
        if let Some(why) = bag::path_problem(full) {
            return Err(WriteError::Path(full.into(), why.into()));
        }
        let key = bag::portable_key(full);
        if let Some(prev) = self.keys.get(&key) {
            return Err(WriteError::Path(
                full.into(),
                format!(
                    "clashes with {prev:?} (same name on case-insensitive or normalising file systems)"
                ),
            ));
        }
        // A file cannot also be a folder of another file: no claimed name
        // is one of this name's folders, and none lies inside this name.
        // (Lookups, not a scan: a package may hold tens of thousands of files.)
        let folders = key.match_indices('/').map(|(i, _)| &key[..i]);
        let above = folders.into_iter().find_map(|f| self.keys.get(f));
        let inside = format!("{key}/");
        let below = self
            .keys
            .range(inside.clone()..)
            .next()
            .filter(|(k, _)| k.starts_with(&inside))
            .map(|(_, p)| p);
        if let Some(p) = above.or(below) {
            return Err(WriteError::Path(
                full.into(),
                format!("file and folder clash with {p:?}"),
            ));
        }
        self.keys.insert(key, full.to_string());
        Ok(())
    }

    /// Adds a payload file at `data/<rel_path>`, copying from `reader` while
    /// computing its size, SHA-256 and SHA-512.
    pub fn add_payload(
        &mut self,
        rel_path: &str,
        reader: &mut dyn Read,
    ) -> Result<FileDigest, WriteError> {
        let full = format!("data/{rel_path}");
        if let Some(why) = bag::path_problem(rel_path) {
            return Err(WriteError::Path(rel_path.into(), why.into()));
        }
        if rel_path.contains(['%', '\r', '\n']) {
            // RFC 8493 percent-encodes these, but bagit-python 1.9 does not
            // decode `%25`: such a bag would fail there. Refuse them.
            return Err(WriteError::Path(
                rel_path.into(),
                "'%' or a line break in a file name: not portable to other BagIt tools; rename it"
                    .into(),
            ));
        }
        self.claim(&full)?;
        let mut h = MultiHasher::new(&ALGORITHMS);
        let mut buf = vec![0u8; 1 << 20];
        let mut pump = |out: &mut dyn Write| -> io::Result<()> {
            loop {
                let n = match reader.read(&mut buf) {
                    Ok(0) => return Ok(()),
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                h.update(&buf[..n]);
                out.write_all(&buf[..n])?;
            }
        };
        match &mut self.sink {
            Sink::Dir { partial, .. } => {
                let p = partial.join(&full);
                if let Some(parent) = p.parent() {
                    private_dirs(parent).map_err(|e| WriteError::Io(full.clone(), e))?;
                }
                let f = private_file(&p, true).map_err(|e| WriteError::Io(full.clone(), e))?;
                let mut w = BufWriter::with_capacity(1 << 20, f);
                pump(&mut w).map_err(|e| WriteError::Io(full.clone(), e))?;
                // Made durable once, for the whole bag, by `finish`.
                w.into_inner()
                    .map_err(|e| WriteError::Io(full.clone(), e.into_error()))?;
            }
            Sink::Zip { zip, prefix, .. } => {
                let mut e = zip.start_entry(&format!("{prefix}{full}"))?;
                pump(&mut e).map_err(|err| WriteError::Io(full.clone(), err))?;
                e.finish()?;
            }
        }
        let d = h.finish();
        self.payload.insert(full, d.clone());
        Ok(d)
    }

    /// Adds a tag file (outside `data/`, e.g. `guwah/report.txt`); written at
    /// [`finish`](Self::finish). The bag's own tag files are reserved.
    pub fn add_tag_file(&mut self, rel_path: &str, bytes: Vec<u8>) -> Result<(), WriteError> {
        let reserved = rel_path == "bagit.txt"
            || rel_path == "bag-info.txt"
            || rel_path == "fetch.txt"
            || rel_path.starts_with("data/")
            || rel_path == "data"
            || (!rel_path.contains('/')
                && (rel_path.starts_with("manifest-") || rel_path.starts_with("tagmanifest-")));
        if reserved {
            return Err(WriteError::Path(
                rel_path.into(),
                "reserved for the bag's own files".into(),
            ));
        }
        self.claim(rel_path)?;
        self.tags.insert(rel_path.to_string(), bytes);
        Ok(())
    }

    fn put(&mut self, rel: &str, bytes: &[u8]) -> Result<(), WriteError> {
        match &mut self.sink {
            Sink::Dir { partial, .. } => {
                let p = partial.join(rel);
                if let Some(parent) = p.parent() {
                    private_dirs(parent).map_err(|e| WriteError::Io(rel.into(), e))?;
                }
                let mut f = private_file(&p, true).map_err(|e| WriteError::Io(rel.into(), e))?;
                f.write_all(bytes)
                    .map_err(|e| WriteError::Io(rel.into(), e))?;
            }
            Sink::Zip { zip, prefix, .. } => {
                zip.add_entry(&format!("{prefix}{rel}"), bytes)?;
            }
        }
        Ok(())
    }

    /// Writes the tag files, `bagit.txt`, the manifests, `bag-info.txt`
    /// (the fields given, then `Bagging-Date` unless given, and
    /// `Payload-Oxum`) and the tag manifests; then makes the bag appear
    /// at its destination in one rename.
    pub fn finish(
        mut self,
        bag_info_fields: &[(String, String)],
    ) -> Result<BagSummary, WriteError> {
        let payload_files = self.payload.len() as u64;
        let payload_bytes: u64 = self.payload.values().map(|d| d.size).sum();
        let oxum = bag::payload_oxum(payload_bytes, payload_files);
        let mut tags: Vec<(String, Vec<u8>)> = std::mem::take(&mut self.tags).into_iter().collect();
        tags.push(("bagit.txt".into(), bag::bagit_txt().as_bytes().to_vec()));
        for a in ALGORITHMS {
            let entries: Vec<(&str, &str)> = self
                .payload
                .iter()
                .map(|(p, d)| {
                    (
                        p.as_str(),
                        d.digests.get(&a).map(String::as_str).unwrap_or(""),
                    )
                })
                .collect();
            tags.push((
                format!("manifest-{a}.txt"),
                bag::manifest_text(a, &entries).into_bytes(),
            ));
        }
        let mut fields: Vec<(String, String)> = bag_info_fields
            .iter()
            .filter(|(l, _)| !l.eq_ignore_ascii_case("Payload-Oxum"))
            .cloned()
            .collect();
        if !fields
            .iter()
            .any(|(l, _)| l.eq_ignore_ascii_case("Bagging-Date"))
        {
            let d = time::OffsetDateTime::now_utc().date();
            fields.push((
                "Bagging-Date".into(),
                format!("{:04}-{:02}-{:02}", d.year(), u8::from(d.month()), d.day()),
            ));
        }
        fields.push(("Payload-Oxum".into(), oxum.clone()));
        tags.push((
            "bag-info.txt".into(),
            bag::bag_info_text(&fields).into_bytes(),
        ));
        for (rel, bytes) in &tags {
            self.put(rel, bytes)?;
        }
        for a in ALGORITHMS {
            let digests: Vec<(String, String)> = tags
                .iter()
                .map(|(p, b)| {
                    (
                        p.clone(),
                        MultiHasher::digest(&[a], b)
                            .digests
                            .get(&a)
                            .cloned()
                            .unwrap_or_default(),
                    )
                })
                .collect();
            let text = bag::manifest_text(a, &digests);
            self.put(&format!("tagmanifest-{a}.txt"), text.as_bytes())?;
        }
        let path = match self.sink {
            Sink::Dir { partial, dest } => {
                sync_tree(&partial)?;
                rename(&partial, &dest)?;
                dest
            }
            Sink::Zip { zip, file, .. } => {
                let mut w = zip.finish()?;
                match file {
                    Some((f, partial, dest)) => {
                        w.flush().map_err(|e| WriteError::Io(disp(&partial), e))?;
                        drop(w);
                        f.sync_all()
                            .map_err(|e| WriteError::Io(disp(&partial), e))?;
                        rename(&partial, &dest)?;
                        dest
                    }
                    None => {
                        w.flush()
                            .map_err(|e| WriteError::Io("the zip stream".into(), e))?;
                        PathBuf::new()
                    }
                }
            }
        };
        Ok(BagSummary {
            path,
            payload_files,
            payload_bytes,
            payload_oxum: oxum,
        })
    }
}

/// The entry-name prefix of a zip's top-level folder (`""` for none).
fn zip_prefix(folder: &str) -> Result<String, WriteError> {
    if folder.is_empty() {
        return Ok(String::new());
    }
    if let Some(why) = bag::path_problem(folder) {
        return Err(WriteError::Path(folder.into(), why.into()));
    }
    Ok(format!("{folder}/"))
}

fn rename(from: &Path, to: &Path) -> Result<(), WriteError> {
    if to.exists() {
        return Err(WriteError::Exists(disp(to)));
    }
    std::fs::rename(from, to).map_err(|e| WriteError::Io(disp(to), e))?;
    if let Some(parent) = to.parent().filter(|p| !p.as_os_str().is_empty())
        && let Ok(d) = File::open(parent)
    {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Makes every file and folder of the bag durable before it is renamed
/// into place. On Linux one `syncfs` does it (a package has thousands of
/// small tag files: one fsync each would cost minutes); elsewhere every
/// file and folder is synced in turn.
fn sync_tree(dir: &Path) -> Result<(), WriteError> {
    #[cfg(target_os = "linux")]
    {
        let d = File::open(dir).map_err(|e| WriteError::Io(disp(dir), e))?;
        rustix::fs::syncfs(&d).map_err(|e| WriteError::Io(disp(dir), e.into()))
    }
    #[cfg(not(target_os = "linux"))]
    {
        for ent in std::fs::read_dir(dir).map_err(|e| WriteError::Io(disp(dir), e))? {
            let ent = ent.map_err(|e| WriteError::Io(disp(dir), e))?;
            if ent.file_type().map(|t| t.is_dir()).unwrap_or(false) {
                sync_tree(&ent.path())?;
            } else {
                File::open(ent.path())
                    .and_then(|f| f.sync_all())
                    .map_err(|e| WriteError::Io(disp(&ent.path()), e))?;
            }
        }
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_cannot_also_be_a_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let mut w = BagWriter::create_dir(&tmp.path().join("bag")).unwrap();
        w.add_payload("a/b", &mut &b"x"[..]).unwrap();
        w.add_payload("a/bc", &mut &b"x"[..]).unwrap();
        w.add_payload("a/b.c", &mut &b"x"[..]).unwrap();
        let clash = |r: Result<FileDigest, WriteError>| match r {
            Err(WriteError::Path(_, why)) => assert!(why.contains("clash"), "{why}"),
            other => panic!("expected a clash, got {:?}", other.map(|_| ())),
        };
        // "a/b" is a file: it cannot hold files, nor can "a" (a folder) be a file.
        clash(w.add_payload("a/b/c", &mut &b"x"[..]));
        clash(w.add_payload("A/B/C/d", &mut &b"x"[..]));
        clash(w.add_payload("a", &mut &b"x"[..]));
        w.add_payload("ab", &mut &b"x"[..]).unwrap();
        w.add_tag_file("guwah/x", b"1".to_vec()).unwrap();
        assert!(w.add_tag_file("guwah", b"1".to_vec()).is_err());
        assert!(w.add_tag_file("guwah/x/y", b"1".to_vec()).is_err());
    }
}
