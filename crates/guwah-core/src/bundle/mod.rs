//! The guwah evidence package (`guwah/package/v2`, and v1 for packages
//! written before it): its tag files, and the pure, offline check of a
//! whole package ([`verify_bundle`]).
//!
//! A package is a BagIt bag (RFC 8493) whose `data/` folder holds the
//! original files and whose `guwah/` tag folder holds, per item, the sealed
//! record, a C2SP tlog-proof receipt against one checkpoint, the metadata
//! fields disclosed (value and salt) or withheld, and the item's custody
//! events with their own records and receipts; once: the checkpoint and the
//! log's verifier key. `docs/package.md` specifies it byte by byte:
//!
//! ```text
//! guwah/package.txt                              version, origin, checkpoint size, items
//! guwah/checkpoint                               the signed checkpoint note, verbatim
//! guwah/keys                                     verifier keys (vkeys), one per line
//! guwah/timestamps/                              RFC 3161 tokens (checked by guwah-verdict)
//! guwah/items/<id>.txt                           the item file (crate::item_file), parts:
//!     record                                     the item's leaf bytes
//!     receipt.tlog-proof                         c2sp.org/tlog-proof@v1
//!     fields                                     guwah/fields/v1
//!     events/<event id>/record                   an event's leaf bytes
//!     events/<event id>/receipt.tlog-proof
//!     events/<event id>/fields
//! ```
//!
//! (Version 1 stored each part as its own file under `guwah/items/<id>/`.)
//!
//! This module does no I/O: the caller reads the bag into [`BagFiles`](bag::BagFiles)
//! (every file's size and digests; the bytes of every tag file) and gets a
//! [`BundleReport`] back: a verdict per item, each failure naming its
//! [`FailureKind`], the file and what is wrong, and an overall [`Verdict`].
//! The caller's policy beyond the log key (witness cosignatures, RFC 3161
//! tokens, disclosures) is applied by the `guwah-verdict` crate, over this.
//!
//! Modules: [`index`](PackageIndex) (`guwah/package.txt`), `fields`,
//! `disclosure`, `report` (what a check found), `kind` ([`FailureKind`]),
//! `parts` (an item's parts, v1 or v2), `checkpoint` (keys and checkpoint),
//! `items` (one item's checks), `verify` (prepare and finish).

use crate::bag;
use crate::merkle::Hash;
use crate::record::hex32;

mod checkpoint;
mod disclosure;
mod fields;
mod index;
mod items;
mod kind;
mod parts;
mod report;
mod text;
mod verify;

pub use disclosure::{Disclosure, check_disclosure};
pub use fields::{FieldEntry, FieldsFile};
pub use index::PackageIndex;
pub use kind::FailureKind;
pub use report::{
    BundleReport, EventVerdict, Failure, FieldView, ItemVerdict, SignatureStatus, SignatureView,
    Verdict,
};
pub use text::FormatError;
pub use verify::{
    InOrder, ItemRunner, PreparedBundle, finish_bundle, prepare_bundle, verify_bundle,
};

/// First line of `guwah/package.txt`, version 1: a folder per item.
pub const PACKAGE_V1: &str = "guwah/package/v1";
/// First line of `guwah/package.txt`, version 2 (what `export` writes): one
/// file per item, `guwah/items/<id>.txt` (see [`crate::item_file`]).
pub const PACKAGE_V2: &str = "guwah/package/v2";
/// First line of a `fields` file.
pub const FIELDS_V1: &str = "guwah/fields/v1";
/// First line of a disclosure file.
pub const DISCLOSURE_V1: &str = "guwah/disclosure/v1";
/// The package's index: version, origin, checkpoint size, items.
pub const PACKAGE_TXT: &str = "guwah/package.txt";
/// The one signed checkpoint every receipt is against.
pub const CHECKPOINT: &str = "guwah/checkpoint";
/// Verifier keys (C2SP vkeys), one per line.
pub const KEYS: &str = "guwah/keys";
/// RFC 3161 timestamp tokens over the checkpoint, one file per TSA.
pub const TIMESTAMPS_DIR: &str = "guwah/timestamps/";
/// The human-readable report (informative, not evidence).
pub const REPORT: &str = "REPORT.html";
/// File name of a record inside an item or event folder.
pub const RECORD_FILE: &str = "record";
/// File name of a receipt inside an item or event folder.
pub const RECEIPT_FILE: &str = "receipt.tlog-proof";
/// File name of the fields file inside an item or event folder.
pub const FIELDS_FILE: &str = "fields";

/// `guwah/items/<id>.txt`: the item file of a v2 package.
pub fn item_file_path(item: &Hash) -> String {
    format!("guwah/items/{}.txt", hex32(item))
}

/// `guwah/items/<id>/`: the item folder of a v1 package.
pub fn item_dir(item: &Hash) -> String {
    format!("guwah/items/{}/", hex32(item))
}

/// Whether verifying an evidence package reads this tag file's contents
/// (so that a reader must hold it): what [`bag::is_parsed_tag_file`]
/// names, and `guwah/package.txt`, `guwah/checkpoint`, `guwah/keys`,
/// everything under `guwah/timestamps/` and `guwah/items/`. Any other tag
/// file (`REPORT.html`, unknown files) is only hashed.
pub fn is_read_tag_file(path: &str) -> bool {
    bag::is_parsed_tag_file(path)
        || [PACKAGE_TXT, CHECKPOINT, KEYS].contains(&path)
        || path.starts_with(TIMESTAMPS_DIR)
        || path.starts_with("guwah/items/")
}

/// Is `path` an acceptable payload path: `data/` then a name of
/// `[A-Za-z0-9._-]`, not starting with a dot, at most 200 bytes.
pub fn is_payload_name(path: &str) -> bool {
    path.strip_prefix("data/").is_some_and(|n| {
        !n.is_empty()
            && n.len() <= 200
            && !n.starts_with('.')
            && n.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(&c))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bag::BagFiles;

    #[test]
    fn the_tag_files_a_verifier_reads() {
        for (p, read) in [
            ("bagit.txt", true),
            ("manifest-sha256.txt", true),
            (PACKAGE_TXT, true),
            (CHECKPOINT, true),
            (KEYS, true),
            ("guwah/timestamps/checkpoint.tsr", true),
            ("guwah/items/ab.txt", true),
            ("guwah/items/ab/events/cd/record", true),
            (REPORT, false),
            ("guwah/other", false),
            ("extra/big.bin", false),
        ] {
            assert_eq!(is_read_tag_file(p), read, "{p}");
        }
    }

    #[test]
    fn hostile_packages_fail_cleanly() {
        let id = [7u8; 32];
        let dir = item_dir(&id);
        let index = |version| {
            PackageIndex {
                version,
                origin: "example.org/log".into(),
                checkpoint_size: 1,
                items: vec![(id, "data/x".into())],
            }
            .encode()
        };
        let junk: [&[u8]; 6] = [
            b"",
            b"\n",
            b"\xff\xfe",
            b"c2sp.org/tlog-proof@v1\nindex 0\n\nx\n\n\xe2\x80\x94 a AAAAAAA=\n",
            b"guwah/fields/v1\ndisclosed a b c\n",
            b"guwah/item/v1\n",
        ];
        for j in junk {
            // v1: a folder of files; v2: the same parts in one item file,
            // and the junk as a whole item file.
            let mut v1 = BagFiles::default();
            v1.tag_contents.insert(PACKAGE_TXT.into(), index(1));
            let mut packed = crate::item_file::ItemFile::default();
            for name in [RECORD_FILE, RECEIPT_FILE, FIELDS_FILE] {
                let event = format!("events/{}/{name}", hex32(&[8; 32]));
                v1.tag_contents.insert(format!("{dir}{name}"), j.to_vec());
                v1.tag_contents.insert(format!("{dir}{event}"), j.to_vec());
                packed.parts.push((name.into(), j.to_vec()));
                packed.parts.push((event, j.to_vec()));
            }
            let mut v2 = BagFiles::default();
            v2.tag_contents.insert(PACKAGE_TXT.into(), index(2));
            v2.tag_contents.insert(item_file_path(&id), packed.encode());
            let mut v2_junk = BagFiles::default();
            v2_junk.tag_contents.insert(PACKAGE_TXT.into(), index(2));
            v2_junk.tag_contents.insert(item_file_path(&id), j.to_vec());
            for mut files in [v1, v2, v2_junk] {
                files.tag_contents.insert(CHECKPOINT.into(), j.to_vec());
                files.tag_contents.insert(KEYS.into(), j.to_vec());
                let r = verify_bundle(&files, &[]);
                assert_eq!(r.verdict(), Verdict::Failed);
                assert!(!r.all_failures().is_empty());
            }
        }
        assert_eq!(
            verify_bundle(&BagFiles::default(), &[]).verdict(),
            Verdict::Failed
        );
    }
}
