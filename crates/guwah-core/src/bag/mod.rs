//! BagIt (RFC 8493, and the v0.97 draft it grew from): pure validation and
//! the small text formats a bag writer needs.
//!
//! The caller walks the bag (a folder, a zip, a browser's file list), hashes
//! every file once with the algorithms [`algorithms_needed`] names, and hands
//! the result to [`validate`] as [`BagFiles`]. Nothing here touches a file.
//!
//! What is an error and what a warning follows RFC 8493 and bagit-python:
//! anything that makes the bag incomplete or invalid (a missing, extra or
//! corrupt file, a path escaping the bag, a malformed `bagit.txt`, a wrong
//! `Payload-Oxum`) is an error; oddities that lose no information (a leading
//! `./`, md5sum's `*` marker, a name that differs only by case or Unicode
//! normalisation from the file present, a repeated non-repeatable
//! `bag-info.txt` label) are warnings.

use std::collections::{BTreeMap, BTreeSet};

mod declaration;
mod hash;
mod info;
mod manifest;
mod report;
mod text;
mod validate;
mod write;

pub use hash::{Algorithm, FileDigest, MultiHasher};
pub use info::parse_bag_info;
pub use report::{BagIssue, BagReport, BagVerdict, IssueKind};
pub use text::{decode_path, decode_text, encode_path, path_problem, portable_key};
pub use validate::validate;
pub use write::{bag_info_text, bagit_txt, manifest_text, payload_oxum};

/// Everything [`validate`] needs to know about a bag, gathered by the caller.
#[derive(Clone, Debug, Default)]
pub struct BagFiles {
    /// Every file in the bag: path relative to the bag root, `/`-separated,
    /// as found on disk (before any percent-decoding), with its digests.
    pub files: BTreeMap<String, FileDigest>,
    /// Full contents of the tag files (files not under `data/`) the
    /// validator parses: at least every one [`is_parsed_tag_file`] names.
    /// Other tag files need only their digests in `files`.
    pub tag_contents: BTreeMap<String, Vec<u8>>,
    /// The bag has its payload directory `data/`, even an empty one. A
    /// reader sets this when it sees the folder (or a zip's `data/` entry);
    /// a file under `data/` in `files` counts as well.
    pub payload_dir: bool,
}

impl BagFiles {
    /// Whether the payload directory `data/` is present (RFC 8493 §2.1.2).
    pub fn has_payload_dir(&self) -> bool {
        self.payload_dir
            || self
                .files
                .range::<str, _>((
                    std::ops::Bound::Included("data/"),
                    std::ops::Bound::Excluded("data0"),
                ))
                .next()
                .is_some()
    }
}

/// Whether [`validate`] parses this tag file (path relative to the bag
/// root), so that a reader must hold its contents: the root-level
/// `bagit.txt`, `bag-info.txt`, `fetch.txt`, `manifest-*.txt` and
/// `tagmanifest-*.txt`. Any other tag file is only hashed.
pub fn is_parsed_tag_file(path: &str) -> bool {
    if path.contains('/') {
        return false;
    }
    matches!(path, "bagit.txt" | "bag-info.txt" | "fetch.txt")
        || ((path.starts_with("manifest-") || path.starts_with("tagmanifest-"))
            && path.ends_with(".txt"))
}

/// The manifest file names in the bag root: `(is_tag_manifest, algorithm name, file name)`.
pub(super) fn manifest_names(
    tag_contents: &BTreeMap<String, Vec<u8>>,
) -> Vec<(bool, String, String)> {
    let mut out = Vec::new();
    for name in tag_contents.keys() {
        if name.contains('/') {
            continue;
        }
        let (tag, rest) = if let Some(r) = name.strip_prefix("tagmanifest-") {
            (true, r)
        } else if let Some(r) = name.strip_prefix("manifest-") {
            (false, r)
        } else {
            continue;
        };
        if let Some(alg) = rest.strip_suffix(".txt") {
            out.push((tag, alg.to_string(), name.clone()));
        }
    }
    out
}

/// The algorithms to compute for every file, from the `manifest-*.txt` and
/// `tagmanifest-*.txt` names present (unsupported algorithms are left out;
/// [`validate`] reports them).
pub fn algorithms_needed(tag_contents: &BTreeMap<String, Vec<u8>>) -> Vec<Algorithm> {
    let set: BTreeSet<Algorithm> = manifest_names(tag_contents)
        .iter()
        .filter_map(|(_, a, _)| Algorithm::from_name(a))
        .collect();
    set.into_iter().collect()
}
