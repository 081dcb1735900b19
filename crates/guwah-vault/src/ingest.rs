//! `add`: walk the inputs, encrypt and hash each file once, seal the batch.
//!
//! 1. Every input is checked before anything is written (bad input changes
//!    nothing).
//! 2. Under the writer lock, each file streams through `encrypt_and_hash`
//!    into a staged blob committed under its keyed name (the append's
//!    `store_stream`).
//! 3. Records are built, with the metadata the files carry read back from
//!    their sealed blobs (never from the files again, which may have changed
//!    since), and signed; images and videos get their perceptual hashes.
//! 4. The append transaction (`append.rs`) commits it all: blobs synced,
//!    tiles, index rows, checkpoint swap — the commit point. Only then is
//!    success reported; an error before it removes this add's blobs.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use guwah_core::record::hex32;
use serde::Serialize;

use crate::append::Append;
use crate::error::VaultError;
use crate::vault::{Vault, timestamp_now};

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
    vault_root: Option<&Path>,
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
    if is_inside(path, vault_root) {
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

/// Whether `path` lies inside the vault's own folder (when it has one).
pub(crate) fn is_inside(path: &Path, vault_root: Option<&Path>) -> bool {
    vault_root.is_some_and(|root| {
        matches!((path.canonicalize(), root.canonicalize()), (Ok(a), Ok(b)) if a.starts_with(&b))
    })
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
#[derive(Clone)]
pub(crate) struct Blob {
    pub(crate) blob: String,
    pub(crate) sha256: [u8; 32],
    pub(crate) size: u64,
    pub(crate) media_type: &'static str,
}

/// A file's blob, written and named, with the file's metadata.
pub(crate) struct Stored {
    pub(crate) blob: Blob,
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
            collect(p, self.local_root(), &mut inputs, true)?;
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
        let mut w = self.writer()?;
        let mut append = w.append()?;

        // Blobs. An error from here to the commit removes this add's blobs.
        let mut stored = Vec::with_capacity(inputs.len());
        for input in &inputs {
            progress(AddProgress::File(input.path.clone()));
            stored.push(store_file(&mut append, &input.path, progress)?);
        }
        progress(AddProgress::Sealing);

        // Records, deduplicated against the vault and within the batch.
        let sealed_at = timestamp_now();
        let mut items = Vec::with_capacity(inputs.len());
        let mut warnings = Vec::new();
        for (input, s) in inputs.iter().zip(&stored) {
            let (leaf_index, id, status) = match append.existing_item(&s.blob.blob)? {
                Some((leaf_index, id)) => (leaf_index, id, AddStatus::Existing),
                None => {
                    let mut values = shared_values.clone();
                    values.extend(file_values(&input.path, &s.meta));
                    for message in self.media_values(&s.blob, keys, &mut values)? {
                        warnings.push(AddWarning {
                            path: input.path.clone(),
                            message,
                        });
                    }
                    let what = input.path.display().to_string();
                    let (leaf_index, id) = append.push_item(&s.blob, &sealed_at, &values, &what)?;
                    (leaf_index, id, AddStatus::Added)
                }
            };
            items.push(AddedItem {
                path: input.path.clone(),
                id,
                status,
                leaf_index,
                sha256: hex32(&s.blob.sha256),
                size: s.blob.size,
                media_type: s.blob.media_type.into(),
            });
        }
        // Perceptual hashes go in with their entries (similar.rs).
        let (pdq, pdq_warnings) = self.similarity_rows(&items);
        for (leaf_index, sealed) in pdq {
            append.push_pdq(leaf_index, sealed);
        }
        warnings.extend(pdq_warnings);
        append.commit()?;
        Ok(AddReport {
            items,
            tree_size: w.size(),
            warnings,
        })
    }
}

/// Seal one file into a blob of `append`, checking it is (still) a regular
/// file of the size it had when it was checked.
pub(crate) fn store_file(
    append: &mut Append<'_, '_>,
    path: &Path,
    progress: &mut dyn FnMut(AddProgress),
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
    match append.store_stream(file, &name, Some(meta.len()), progress)? {
        Ok(blob) => Ok(Stored { blob, meta }),
        Err(why) => Err(bad(path, format!("could not be read and sealed: {why}"))),
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
    pub(crate) fn media_values(
        &self,
        s: &Blob,
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
