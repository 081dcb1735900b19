//! Reading and writing BagIt bags (RFC 8493), in folders and zip files.
//!
//! - [`source`]: read a bag (folder or zip) into [`guwah_core::bag::BagFiles`],
//!   hashing every file once on several threads and holding only the tag
//!   files the caller parses (within a memory cap); refuse symlinks,
//!   special files, unsafe names and zip bombs; never write anything.
//! - [`writer`]: [`writer::BagWriter`] writes a bag into a folder (crash-safe)
//!   or streams it into a zip.
//! - [`verify`]: a package's items checked on every core.
//! - [`zip`]: a small streaming ZIP writer (stored, ZIP64) and a checked reader
//!   (stored and deflate, ZIP64).
//!
//! Validation itself is pure and lives in [`guwah_core::bag`]; [`validate_path`]
//! joins the two.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod hash;
pub mod source;
pub mod verify;
pub mod writer;
pub mod zip;

pub use guwah_core::bag::{BagFiles, BagIssue, BagReport};
pub use source::{
    BagSource, Hooks, ReadOptions, SourceError, read_bag, read_bag_dir, read_bag_with, read_bag_zip,
};
pub use writer::{BagSummary, BagWriter, WriteError};

/// Reads and validates the bag (folder or zip) at `path`, with these zip
/// limits (tag files held: [`ReadOptions::bagit`]).
pub fn validate_path(
    path: &std::path::Path,
    zip: &zip::ZipLimits,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(BagReport, BagSource), SourceError> {
    let opts = ReadOptions::bagit().with_zip_limits(zip.clone());
    let (files, source) = read_bag_with(path, &opts, &Hooks::progress_only(progress))?;
    Ok((guwah_core::bag::validate(&files), source))
}
