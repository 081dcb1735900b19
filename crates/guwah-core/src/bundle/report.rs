//! What a package check found: [`BundleReport`], per item and event, each
//! [`Failure`] with its [`FailureKind`], and the overall [`Verdict`].
//! With the `serde` feature these serialise as the JSON of
//! `verify-bundle --json` and `verify.html`.

use std::fmt;

use super::FailureKind;

/// One precise failure: what it is about, the file (or item), and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct Failure {
    /// What the failure is about (stable, machine-readable).
    pub kind: FailureKind,
    /// The path inside the package (or a short name such as `trust`, or a
    /// disclosure file's name).
    pub path: String,
    /// What is wrong, in one line.
    pub what: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.what)
    }
}

impl Failure {
    /// A failure of `kind` about `path`.
    pub fn new(kind: FailureKind, path: impl Into<String>, what: impl Into<String>) -> Failure {
        Failure {
            kind,
            path: path.into(),
            what: what.into(),
        }
    }
}

pub(super) fn fail(kind: FailureKind, path: impl Into<String>, what: impl Into<String>) -> Failure {
    Failure::new(kind, path, what)
}

/// The overall result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum Verdict {
    /// Everything holds and the checkpoint is signed by a trusted key.
    Valid,
    /// Everything is consistent, but the log key was taken from the package
    /// itself: pass the log's key, obtained independently, to trust it.
    Untrusted,
    /// Something does not hold; see the failures.
    Failed,
}

impl Verdict {
    /// `valid`, `untrusted` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Untrusted => "untrusted",
            Verdict::Failed => "failed",
        }
    }
}

/// A field as the package shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FieldView {
    /// Field name.
    pub name: String,
    /// The value if disclosed (lossy UTF-8), `None` if withheld.
    pub value: Option<String>,
}

/// One custody event, as checked.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct EventVerdict {
    /// Event id (hex leaf hash).
    pub id: String,
    /// Whether everything about it holds.
    pub ok: bool,
    /// Where its parts are in the package (`…/events/<id>/`).
    pub path: String,
    /// The action, if the record parsed.
    pub action: String,
    /// When, if the record parsed.
    pub at: String,
    /// The actor's key, base64.
    pub actor: String,
    /// Its index in the log, from its receipt.
    pub leaf_index: Option<u64>,
    /// Its fields.
    pub fields: Vec<FieldView>,
}

/// One item, as checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct ItemVerdict {
    /// Item id (hex).
    pub id: String,
    /// Whether everything about this item and its events holds:
    /// `failures` is empty (kept up to date by the checks that add to it).
    pub ok: bool,
    /// The payload file, `data/...`.
    pub payload: String,
    /// From the record (empty if it did not parse).
    pub media_type: String,
    /// From the record.
    pub size: u64,
    /// SHA-256 from the record, hex.
    pub sha256: String,
    /// SHA-512 of the payload file as the bag reader computed it, hex.
    pub sha512: String,
    /// From the record.
    pub sealed_at: String,
    /// The collector's key, base64.
    pub collector: String,
    /// Its index in the log, from its receipt.
    pub leaf_index: Option<u64>,
    /// Its fields, disclosed or withheld, by name.
    pub fields: Vec<FieldView>,
    /// Names of the withheld fields.
    pub withheld: Vec<String>,
    /// Custody events, in log order.
    pub events: Vec<EventVerdict>,
    /// Everything wrong with this item or its events.
    pub failures: Vec<Failure>,
}

/// How a signature on the package's checkpoint was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
pub enum SignatureStatus {
    /// Verified with a key the caller gave.
    Trusted,
    /// Verified with a key found in the package.
    Package,
    /// Not verified: no key for it.
    Unknown,
}

impl SignatureStatus {
    /// `trusted`, `package` or `unknown`.
    pub fn as_str(self) -> &'static str {
        match self {
            SignatureStatus::Trusted => "trusted",
            SignatureStatus::Package => "package",
            SignatureStatus::Unknown => "unknown",
        }
    }
}

/// A signature on the package's checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct SignatureView {
    /// The key name.
    pub name: String,
    /// How it was checked.
    pub status: SignatureStatus,
    /// The cosignature's timestamp, if any.
    pub timestamp: Option<u64>,
}

/// Everything the package checks found
/// ([`verify_bundle`](super::verify_bundle), or
/// [`prepare_bundle`](super::prepare_bundle) then
/// [`finish_bundle`](super::finish_bundle)).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct BundleReport {
    /// The package version line, if read.
    pub version: Option<String>,
    /// The log's origin.
    pub origin: Option<String>,
    /// The checkpoint's tree size.
    pub checkpoint_size: Option<u64>,
    /// The checkpoint's root hash, base64.
    pub checkpoint_root: Option<String>,
    /// The log key the checkpoint was checked with (vkey).
    pub log_key: Option<String>,
    /// Whether that key was given by the caller (true) or only found in the
    /// package (false).
    pub log_key_trusted: bool,
    /// The checkpoint's signatures.
    pub signatures: Vec<SignatureView>,
    /// Failures not about one item (the bag, the checkpoint, the trust,
    /// and whatever a caller's policy adds).
    pub failures: Vec<Failure>,
    /// Things worth knowing that do not fail the package.
    pub warnings: Vec<String>,
    /// Items, in package order.
    pub items: Vec<ItemVerdict>,
}

impl BundleReport {
    /// The overall verdict: failed if anything failed (or the package lists
    /// no item), else untrusted unless the log key was given, else valid.
    pub fn verdict(&self) -> Verdict {
        let item_failed = self.items.iter().any(|i| !i.failures.is_empty());
        if !self.failures.is_empty() || item_failed || self.items.is_empty() {
            Verdict::Failed
        } else if !self.log_key_trusted {
            Verdict::Untrusted
        } else {
            Verdict::Valid
        }
    }

    /// Every failure, package-level first, then per item.
    pub fn all_failures(&self) -> Vec<&Failure> {
        self.failures
            .iter()
            .chain(self.items.iter().flat_map(|i| i.failures.iter()))
            .collect()
    }
}
