//! `add`: walk the inputs, encrypt and hash each file once, seal the batch.
//!
//! The order is what makes `kill -9` safe at any instant:
//! 1. every input is checked before anything is written (bad input changes
//!    nothing);
//! 2. each file streams through `encrypt_and_hash` into a staged blob that
//!    is committed under its keyed name; blobs are flushed once;
//! 3. records are built, with the metadata the files carry read back from
//!    their sealed blobs (never from the files again, which may have changed
//!    since), signed and appended as tiles (flushed);
//! 4. the index rows go in, in one transaction;
//! 5. the signed checkpoint is swapped in: the commit point. Only then is
//!    success reported.
//!
//! A crash before 5 leaves unreferenced blobs and tiles past the committed
//! size; the next writer rolls the index back and overwrites the tiles.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use guwah_core::record::{ItemRecord, Record, hex32};
use serde::Serialize;

use crate::crypto;
use crate::error::VaultError;
use crate::index::EntryRow;
use crate::media::sniff_media_type;
use crate::vault::{Vault, commit_values, timestamp_now};

/// What the user said about the files being added.
#[derive(Debug, Clone, Default)]
pub struct AddOptions {
    /// A free-text note, sealed as the `note` field.
    pub note: Option<String>,
    /// Tags, sealed as the `tags` field (one per line, sorted).
    pub tags: Vec<String>,
    /// Where the files came from, sealed as the `source` field.
    pub source: Option<String>,
    /// When they were captured (RFC 3339), sealed as `captured-at`.
    pub captured_at: Option<String>,
}

/// Progress of an `add`, for a progress bar.
#[derive(Debug, Clone)]
pub enum AddProgress {
    /// The inputs were checked: this many files and bytes to go.
    Planned {
        /// Files to read.
        files: u64,
        /// Bytes to read.
        bytes: u64,
    },
    /// Starting on a file.
    File(PathBuf),
    /// This many more bytes were read.
    Bytes(u64),
    /// Blobs are written; sealing the batch into the log.
    Sealing,
}

/// Whether a file was new to the vault.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AddStatus {
    /// Sealed now.
    Added,
    /// The same bytes were already sealed as this item; nothing new stored.
    Existing,
}

/// One file of an `add`.
#[derive(Debug, Clone, Serialize)]
pub struct AddedItem {
    /// The file as given.
    pub path: PathBuf,
    /// The item id.
    pub id: String,
    /// New or already there.
    pub status: AddStatus,
    /// Its index in the log.
    pub leaf_index: u64,
    /// SHA-256 of the bytes, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Detected media type.
    pub media_type: String,
}

/// A problem reading one file's own metadata (EXIF, XMP, movie headers...).
/// It never fails the add: the file is sealed regardless.
#[derive(Debug, Clone, Serialize)]
pub struct AddWarning {
    /// The file as given.
    pub path: PathBuf,
    /// What went wrong, one sentence.
    pub message: String,
}

/// The result of an `add`.
#[derive(Debug, Clone, Serialize)]
pub struct AddReport {
    /// One entry per input file, in input order.
    pub items: Vec<AddedItem>,
    /// The log size after the add.
    pub tree_size: u64,
    /// Problems reading files' own metadata; the files were sealed anyway.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<AddWarning>,
}

struct Input {
    path: PathBuf,
    size: u64,
}

fn bad(path: &Path, why: impl Into<String>) -> VaultError {
    VaultError::BadInput {
        path: path.to_owned(),
        why: why.into(),
    }
}

fn kind_of(ft: &fs::FileType) -> &'static str {
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "is a FIFO (named pipe), not a regular file";
        }
        if ft.is_socket() {
            return "is a socket, not a regular file";
        }
        if ft.is_block_device() || ft.is_char_device() {
            return "is a device, not a regular file";
        }
    }
    let _ = ft;
    "is not a regular file"
}

/// Check one path and collect the regular files under it.
fn collect(
    path: &Path,
    vault_root: &Path,
    out: &mut Vec<Input>,
    top: bool,
) -> Result<(), VaultError> {
    let meta = match fs::metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let why = if fs::symlink_metadata(path).is_ok() {
                "is a broken symbolic link"
            } else {
                "does not exist"
            };
            return Err(bad(path, why));
        }
        Err(e) => return Err(bad(path, format!("cannot be read: {e}"))),
    };
    if let (Ok(a), Ok(b)) = (path.canonicalize(), vault_root.canonicalize())
        && a.starts_with(&b)
    {
        return Err(bad(path, "is inside the vault itself"));
    }
    if meta.is_dir() {
        if !top && fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
            return Err(bad(
                path,
                "is a symbolic link to a folder; add the folder itself",
            ));
        }
        let mut entries: Vec<PathBuf> = fs::read_dir(path)
            .map_err(|e| bad(path, format!("folder cannot be read: {e}")))?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<_, _>>()
            .map_err(|e| bad(path, format!("folder cannot be read: {e}")))?;
        entries.sort();
        for e in entries {
            collect(&e, vault_root, out, false)?;
        }
        return Ok(());
    }
    if !meta.is_file() {
        return Err(bad(path, kind_of(&meta.file_type())));
    }
    File::open(path).map_err(|e| bad(path, format!("cannot be read: {e}")))?;
    out.push(Input {
        path: path.to_owned(),
        size: meta.len(),
    });
    Ok(())
}

pub(crate) fn check_options(opts: &AddOptions) -> Result<Vec<(String, String)>, VaultError> {
    let arg = |what: &str, why: &str| VaultError::BadArgument {
        what: what.into(),
        why: why.into(),
    };
    let mut values = Vec::new();
    if let Some(note) = &opts.note {
        if note.len() > 16 * 1024 {
            return Err(arg(
                "--note",
                "longer than 16 KiB; add a long text as a file instead",
            ));
        }
        values.push(("note".into(), note.clone()));
    }
    if let Some(source) = &opts.source {
        if source.len() > 4096 {
            return Err(arg("--source", "longer than 4 KiB"));
        }
        values.push(("source".into(), source.clone()));
    }
    if let Some(at) = &opts.captured_at {
        time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).map_err(
            |_| {
                arg(
                    &format!("--captured-at {at:?}"),
                    "is not an RFC 3339 time such as 2024-03-01T09:30:00+08:00",
                )
            },
        )?;
        values.push(("captured-at".into(), at.clone()));
    }
    if !opts.tags.is_empty() {
        let mut tags = opts.tags.clone();
        for t in &tags {
            if t.trim().is_empty() || t.contains('\n') || t.len() > 256 {
                return Err(arg(
                    &format!("--tag {t:?}"),
                    "tags are non-empty single lines of at most 256 bytes",
                ));
            }
        }
        tags.sort();
        tags.dedup();
        values.push(("tags".into(), tags.join("\n")));
    }
    Ok(values)
}

pub(crate) fn file_values(path: &Path, meta: &fs::Metadata) -> Vec<(String, String)> {
    let mut v = Vec::new();
    if let Some(name) = path.file_name() {
        v.push(("filename".into(), name.to_string_lossy().into_owned()));
    }
    if let Ok(mtime) = meta.modified() {
        let t = time::OffsetDateTime::from(mtime);
        if let Ok(s) = t
            .replace_nanosecond(0)
            .unwrap_or(t)
            .format(&time::format_description::well_known::Rfc3339)
        {
            v.push(("file-modified".into(), s));
        }
    }
    v
}

/// A stream's blob, written and named.
pub(crate) struct Blob {
    pub(crate) blob: String,
    pub(crate) sha256: [u8; 32],
    pub(crate) size: u64,
    pub(crate) media_type: &'static str,
}

/// A file's blob, written and named.
pub(crate) struct Stored {
    pub(crate) blob: String,
    pub(crate) sha256: [u8; 32],
    pub(crate) size: u64,
    pub(crate) media_type: &'static str,
    pub(crate) meta: fs::Metadata,
}

impl Vault {
    /// Add files and folders; see the module docs for the crash-safety order.
    pub fn add(
        &self,
        paths: &[PathBuf],
        opts: &AddOptions,
        progress: &mut dyn FnMut(AddProgress),
    ) -> Result<AddReport, VaultError> {
        let keys = self.keys()?;
        let shared_values = check_options(opts)?;
        if paths.is_empty() {
            return Err(VaultError::BadArgument {
                what: "add".into(),
                why: "no files given".into(),
            });
        }
        let mut inputs = Vec::new();
        for p in paths {
            collect(p, &self.root, &mut inputs, true)?;
        }
        if inputs.is_empty() {
            return Err(VaultError::BadArgument {
                what: "add".into(),
                why: "the folders given hold no files".into(),
            });
        }
        progress(AddProgress::Planned {
            files: inputs.len() as u64,
            bytes: inputs.iter().map(|i| i.size).sum(),
        });
        let (_lock, head) = self.lock_for_write()?;
        let old_size = head.as_ref().map_or(0, |h| h.checkpoint.size);

        // 2. Blobs. On any error, blobs committed by this call are removed.
        let mut committed_blobs: Vec<String> = Vec::new();
        let stored = (|| {
            let mut stored = Vec::with_capacity(inputs.len());
            for input in &inputs {
                progress(AddProgress::File(input.path.clone()));
                stored.push(self.store_blob(&input.path, keys, progress, &mut committed_blobs)?);
            }
            Ok::<_, VaultError>(stored)
        })();
        let stored = match stored {
            Ok(s) => s,
            Err(e) => {
                for b in &committed_blobs {
                    let _ = self.blobs.remove(b);
                }
                return Err(e);
            }
        };
        progress(AddProgress::Sealing);
        self.blobs.sync_blobs()?;

        // 3. Records, deduplicated against the vault and within the batch.
        let sealed_at = timestamp_now();
        let mut leaves: Vec<Vec<u8>> = Vec::new();
        let mut rows: Vec<EntryRow> = Vec::new();
        let mut content: Vec<(String, u64)> = Vec::new();
        let mut batch: HashMap<String, (u64, String)> = HashMap::new();
        let mut items = Vec::with_capacity(inputs.len());
        let mut warnings = Vec::new();
        for (input, s) in inputs.iter().zip(&stored) {
            let existing = match batch.get(&s.blob) {
                Some(hit) => Some(hit.clone()),
                None => match self.index().item_for_blob(&s.blob, old_size)? {
                    Some(leaf_index) => {
                        let leaf = self.log().leaf(leaf_index, old_size)?;
                        Some((leaf_index, hex32(&guwah_core::merkle::leaf_hash(&leaf))))
                    }
                    None => None,
                },
            };
            let (leaf_index, id, status) = match existing {
                Some((leaf_index, id)) => (leaf_index, id, AddStatus::Existing),
                None => {
                    let mut values = shared_values.clone();
                    values.extend(file_values(&input.path, &s.meta));
                    for message in self.media_values(s, keys, &mut values)? {
                        warnings.push(AddWarning {
                            path: input.path.clone(),
                            message,
                        });
                    }
                    let (fields, private) = commit_values(&values)?;
                    let mut rec = ItemRecord {
                        media_type: s.media_type.into(),
                        size: s.size,
                        sha256: s.sha256,
                        sealed_at: sealed_at.clone(),
                        collector: [0; 32],
                        fields,
                        signature: [0; 64],
                    };
                    rec.sign(&keys.collector)
                        .map_err(|e| VaultError::BadArgument {
                            what: input.path.display().to_string(),
                            why: e.to_string(),
                        })?;
                    let record = Record::Item(rec);
                    let leaf_index = old_size + leaves.len() as u64;
                    let id = hex32(&record.id());
                    rows.push(EntryRow {
                        leaf_index,
                        sealed: private.seal(&keys.index_key, leaf_index, &id)?,
                        record_id: id.clone(),
                        kind: "item".into(),
                        item_id: id.clone(),
                    });
                    content.push((s.blob.clone(), leaf_index));
                    batch.insert(s.blob.clone(), (leaf_index, id.clone()));
                    leaves.push(record.encode());
                    (leaf_index, id, AddStatus::Added)
                }
            };
            items.push(AddedItem {
                path: input.path.clone(),
                id,
                status,
                leaf_index,
                sha256: hex32(&s.sha256),
                size: s.size,
                media_type: s.media_type.into(),
            });
        }
        if leaves.is_empty() {
            return Ok(AddReport {
                items,
                tree_size: old_size,
                warnings,
            });
        }
        // 3-5. Tiles, index, checkpoint.
        let checkpoint = self.log().stage(old_size, &leaves)?;
        self.index().insert(&rows, &content)?;
        let head = self
            .log()
            .commit(head.as_ref(), checkpoint, &keys.log_signer)?;
        // 6. Perceptual hashes (similar.rs): after the commit, still locked.
        warnings.extend(self.record_similarity(&items));
        Ok(AddReport {
            items,
            tree_size: head.checkpoint.size,
            warnings,
        })
    }

    pub(crate) fn store_blob(
        &self,
        path: &Path,
        keys: &crate::keys::VaultKeys,
        progress: &mut dyn FnMut(AddProgress),
        committed: &mut Vec<String>,
    ) -> Result<Stored, VaultError> {
        let file = File::open(path).map_err(|e| bad(path, format!("cannot be read: {e}")))?;
        let meta = file
            .metadata()
            .map_err(|e| bad(path, format!("cannot be read: {e}")))?;
        if !meta.is_file() {
            return Err(bad(path, kind_of(&meta.file_type())));
        }
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match self.store_stream(file, &name, Some(meta.len()), keys, progress, committed)? {
            Ok(b) => Ok(Stored {
                blob: b.blob,
                sha256: b.sha256,
                size: b.size,
                media_type: b.media_type,
                meta,
            }),
            Err(why) => Err(bad(path, format!("could not be read and sealed: {why}"))),
        }
    }

    /// Encrypt a stream into a blob: the one place where bytes enter the
    /// vault (files, chat attachments, rendered messages). The outer error
    /// is the vault's (fatal); the inner one says why the stream could not
    /// be read or changed under us (the caller decides what that means).
    pub(crate) fn store_stream(
        &self,
        mut reader: impl Read,
        name: &str,
        expected: Option<u64>,
        keys: &crate::keys::VaultKeys,
        progress: &mut dyn FnMut(AddProgress),
        committed: &mut Vec<String>,
    ) -> Result<Result<Blob, String>, VaultError> {
        let mut head = vec![0u8; 512];
        let mut n = 0;
        while n < head.len() {
            match reader.read(&mut head[n..]) {
                Ok(0) => break,
                Ok(k) => n += k,
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => return Ok(Err(e.to_string())),
            }
        }
        head.truncate(n);
        let media_type = sniff_media_type(&head, name);
        let mut staged = self.blobs.create()?;
        let mut done = 0u64;
        let result = crypto::encrypt_and_hash(
            std::io::Cursor::new(head).chain(reader),
            &mut staged,
            &keys.blob_key,
            &mut |total| {
                progress(AddProgress::Bytes(total.saturating_sub(done)));
                done = total;
            },
        );
        let sealed = match result.and_then(|s| {
            staged
                .flush()
                .map(|_| s)
                .map_err(crypto::StreamError::Write)
        }) {
            Ok(s) => s,
            Err(crypto::StreamError::Read(e)) => {
                staged.abort();
                return Ok(Err(e.to_string()));
            }
            Err(e) => {
                staged.abort();
                return Err(VaultError::Io {
                    path: self.root.join("blobs"),
                    source: std::io::Error::other(e.to_string()),
                });
            }
        };
        if let Some(want) = expected
            && sealed.size != want
        {
            staged.abort();
            return Ok(Err(format!(
                "it changed while it was being read ({} bytes read, {want} expected); add it again when it is complete",
                sealed.size
            )));
        }
        let blob = keys.blob_name(&sealed.sha256);
        if self.index().item_for_blob(&blob, u64::MAX)?.is_some() {
            staged.abort();
        } else {
            staged.commit(&blob)?;
            committed.push(blob.clone());
        }
        Ok(Ok(Blob {
            blob,
            sha256: sealed.sha256,
            size: sealed.size,
            media_type,
        }))
    }
}

impl Vault {
    /// Add the metadata the file carries about itself (EXIF, XMP, IPTC,
    /// movie headers, audio tags; see docs/metadata.md), read with
    /// `guwah-media` from the blob just sealed, never from the file again:
    /// the record can only describe the bytes it seals, whatever happens to
    /// the file meanwhile. Only the chunks the parsers touch are decrypted
    /// (each authenticated first), within their read budget.
    ///
    /// Metadata problems never fail the add: they come back as warnings,
    /// and a file that cannot be parsed is sealed all the same. A blob that
    /// cannot be opened again right after it was written is another matter
    /// (the store is failing or being tampered with): that is an error, and
    /// nothing is committed. Fields are kept most important first while the
    /// record has room.
    fn media_values(
        &self,
        s: &Stored,
        keys: &crate::keys::VaultKeys,
        values: &mut Vec<(String, String)>,
    ) -> Result<Vec<String>, VaultError> {
        let mut reader = self.blob_reader(&s.blob, &keys.blob_key)?;
        if reader.len() != s.size {
            return Err(VaultError::damaged(
                format!("blob {}", s.blob),
                format!("holds {} bytes, but {} were sealed", reader.len(), s.size),
            ));
        }
        let extracted = guwah_media::extract(s.media_type, &mut reader, s.size);
        let mut warnings = extracted.warnings;
        let mut dropped = 0;
        for (name, value) in extracted.fields {
            if guwah_core::record::check_field_name(&name).is_err()
                || values.iter().any(|(n, _)| *n == name)
            {
                continue;
            }
            if values.len() >= guwah_core::record::MAX_FIELDS {
                dropped += 1;
                continue;
            }
            values.push((name, value));
        }
        if dropped > 0 {
            warnings.push(format!(
                "{dropped} metadata fields not sealed: a record holds at most {} fields",
                guwah_core::record::MAX_FIELDS
            ));
        }
        Ok(warnings)
    }
}
