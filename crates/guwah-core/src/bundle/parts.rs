//! An item's parts, whichever way the package stores them.

use std::collections::BTreeMap;
use std::ops::Bound;

use super::report::fail;
use super::{Failure, FailureKind, item_dir, item_file_path};
use crate::merkle::Hash;

/// One item's tag files, by their name inside the item (`record`,
/// `events/<id>/receipt.tlog-proof`, …), whichever way the package stores
/// them: a folder of files (v1) or one item file (v2). Failures name a part
/// by its file (v1) or by the item file and the part (v2).
pub(super) struct Parts<'a> {
    /// Prefix of every part's label: `guwah/items/<id>/` or `guwah/items/<id>.txt#`.
    label: String,
    /// Each part, by its name inside the item.
    pub(super) parts: BTreeMap<String, &'a [u8]>,
}

impl<'a> Parts<'a> {
    /// A v1 item folder's files.
    fn from_folder(tags: &'a BTreeMap<String, Vec<u8>>, item: &Hash) -> Parts<'a> {
        let dir = item_dir(item);
        // A range, not a scan of every tag file: packages hold tens of
        // thousands of them, and this runs once per item.
        let parts = tags
            .range::<str, _>((Bound::Included(dir.as_str()), Bound::Unbounded))
            .take_while(|(path, _)| path.starts_with(&dir))
            .map(|(path, bytes)| (path[dir.len()..].to_owned(), bytes.as_slice()))
            .collect();
        Parts { label: dir, parts }
    }

    /// The label of part `name`: where a reader finds it.
    pub(super) fn label(&self, name: &str) -> String {
        format!("{}{name}", self.label)
    }

    pub(super) fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.parts.get(name).copied()
    }
}

/// An item's parts in a package of this version, or why they cannot be read.
pub(super) fn item_parts<'a>(
    tags: &'a BTreeMap<String, Vec<u8>>,
    version: u32,
    id: &Hash,
) -> Result<Parts<'a>, Failure> {
    if version == 1 {
        return Ok(Parts::from_folder(tags, id));
    }
    let path = item_file_path(id);
    let bytes = tags.get(&path).ok_or_else(|| {
        fail(
            FailureKind::ItemFile,
            &path,
            "missing: every item listed needs its item file",
        )
    })?;
    let parsed = crate::item_file::parse_parts(bytes)
        .map_err(|e| fail(FailureKind::ItemFile, &path, e.why))?;
    Ok(Parts {
        label: format!("{path}#"),
        parts: parsed
            .into_iter()
            .map(|(name, bytes)| (name.to_owned(), bytes))
            .collect(),
    })
}
