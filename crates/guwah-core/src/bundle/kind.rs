//! [`FailureKind`]: what a package verdict's failure is about, as a stable
//! machine-readable name (`docs/package.md` §8 lists them).

use std::fmt;

/// What a [`Failure`](super::Failure) is about. The names ([`as_str`](Self::as_str),
/// and the JSON of `verify-bundle --json` and `verify.html`) are stable:
/// scripts may match on them; the message beside them may change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum FailureKind {
    /// BagIt, other than the manifests: `bagit.txt`, the payload folder,
    /// `bag-info.txt` and its `Payload-Oxum`, `fetch.txt`, unsafe names, a
    /// bag whose payload manifests use no algorithm guwah implements.
    Bag,
    /// A manifest or tag manifest: a file whose digest is not the one
    /// listed, a listed file that is missing, a file not listed, a
    /// malformed line.
    Manifest,
    /// `guwah/package.txt` is missing, malformed, or lists no items.
    PackageIndex,
    /// `guwah/keys` holds a line that is not a verifier key.
    Keys,
    /// `guwah/checkpoint` is missing or malformed, or its origin or size
    /// is not the package's.
    Checkpoint,
    /// No key to check the checkpoint with: none of the trusted keys is
    /// named after the log's origin, or none was given and the package
    /// holds none.
    LogKey,
    /// The checkpoint's signature does not verify with the log key, or a
    /// signature by a key in `guwah/keys` does not verify.
    CheckpointSignature,
    /// A required witness's cosignature on the checkpoint does not verify:
    /// forged, or made over another tree of the same size (a forked log).
    Cosignature,
    /// Fewer valid cosignatures by the required witnesses than the minimum.
    Witnesses,
    /// An item file (`guwah/items/<id>.txt`) is missing or is not a valid
    /// item file.
    ItemFile,
    /// An item's record: missing, malformed, not an item record, not
    /// hashing to the item id, or its collector signature does not verify.
    Record,
    /// A custody event's record: malformed, not an event about this item,
    /// not hashing to its event id, or its actor signature does not verify.
    CustodyEvent,
    /// A receipt (an item's or an event's): missing, malformed, not against
    /// the package's checkpoint, or its inclusion proof does not verify.
    Receipt,
    /// A fields part is missing or malformed, or names a field the record
    /// does not commit to.
    Fields,
    /// A disclosed field's value and salt do not reproduce the commitment
    /// sealed in the record.
    FieldValue,
    /// A field the record commits to is neither disclosed nor listed as
    /// withheld.
    WithheldField,
    /// An item's original is missing from `data/`.
    Payload,
    /// An item's original does not have the size or SHA-256 of its sealed
    /// record.
    PayloadDigest,
    /// A file under `guwah/items/` of no listed item, or a part of an item
    /// file that the format does not know.
    PackageLayout,
    /// An RFC 3161 token under `guwah/timestamps/` is invalid: malformed,
    /// not over the checkpoint, a bad signature or certificate chain.
    TimestampToken,
    /// A disclosure file does not check against the package: its item is
    /// not there, or its value and salt do not reproduce the sealed
    /// commitment.
    Disclosure,
}

impl FailureKind {
    /// Every kind, in declaration order.
    pub const ALL: [FailureKind; 21] = [
        FailureKind::Bag,
        FailureKind::Manifest,
        FailureKind::PackageIndex,
        FailureKind::Keys,
        FailureKind::Checkpoint,
        FailureKind::LogKey,
        FailureKind::CheckpointSignature,
        FailureKind::Cosignature,
        FailureKind::Witnesses,
        FailureKind::ItemFile,
        FailureKind::Record,
        FailureKind::CustodyEvent,
        FailureKind::Receipt,
        FailureKind::Fields,
        FailureKind::FieldValue,
        FailureKind::WithheldField,
        FailureKind::Payload,
        FailureKind::PayloadDigest,
        FailureKind::PackageLayout,
        FailureKind::TimestampToken,
        FailureKind::Disclosure,
    ];

    /// The stable name: `payload-digest`, `receipt`, …
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::Bag => "bag",
            FailureKind::Manifest => "manifest",
            FailureKind::PackageIndex => "package-index",
            FailureKind::Keys => "keys",
            FailureKind::Checkpoint => "checkpoint",
            FailureKind::LogKey => "log-key",
            FailureKind::CheckpointSignature => "checkpoint-signature",
            FailureKind::Cosignature => "cosignature",
            FailureKind::Witnesses => "witnesses",
            FailureKind::ItemFile => "item-file",
            FailureKind::Record => "record",
            FailureKind::CustodyEvent => "custody-event",
            FailureKind::Receipt => "receipt",
            FailureKind::Fields => "fields",
            FailureKind::FieldValue => "field-value",
            FailureKind::WithheldField => "withheld-field",
            FailureKind::Payload => "payload",
            FailureKind::PayloadDigest => "payload-digest",
            FailureKind::PackageLayout => "package-layout",
            FailureKind::TimestampToken => "timestamp-token",
            FailureKind::Disclosure => "disclosure",
        }
    }
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_kebab_case_and_documented() {
        let docs = include_str!("../../../../docs/package.md");
        let mut seen = std::collections::BTreeSet::new();
        for k in FailureKind::ALL {
            let name = k.as_str();
            assert!(seen.insert(name), "{name} twice");
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{name}"
            );
            assert!(
                docs.contains(&format!("| `{name}` |")),
                "docs/package.md §8 does not list the failure kind `{name}`"
            );
        }
    }
}
