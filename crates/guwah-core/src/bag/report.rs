//! What [`validate`](super::validate) found: issues, the verdict, `bag-info.txt` metadata.

use std::collections::BTreeMap;
use std::fmt;

/// Which part of BagIt an issue is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum IssueKind {
    /// A manifest or tag manifest: a malformed line, a listed file that is
    /// missing, a file not listed, a digest that does not match.
    Manifest,
    /// Anything else: `bagit.txt`, the payload folder, `bag-info.txt` and
    /// its `Payload-Oxum`, `fetch.txt`, unsafe file names.
    Bag,
}

/// One problem found in a bag: the file concerned and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct BagIssue {
    /// Which part of BagIt it is about.
    pub kind: IssueKind,
    /// The file (relative to the bag root) the issue is about; `.` for the bag itself.
    pub path: String,
    /// What is wrong, on one line.
    pub what: String,
}

impl fmt::Display for BagIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.what)
    }
}

/// What [`validate`](super::validate) concluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "kebab-case"))]
pub enum BagVerdict {
    /// Complete and every digest checked (warnings allowed).
    Valid,
    /// At least one error.
    Invalid,
    /// No error found, but the payload could not be checked: every payload
    /// manifest uses an algorithm guwah does not implement.
    #[cfg_attr(feature = "serde", serde(rename = "cannot-check"))]
    Uncheckable,
}

impl BagVerdict {
    /// `valid`, `invalid` or `cannot-check`.
    pub fn as_str(self) -> &'static str {
        match self {
            BagVerdict::Valid => "valid",
            BagVerdict::Invalid => "invalid",
            BagVerdict::Uncheckable => "cannot-check",
        }
    }
}

/// The outcome of [`validate`](super::validate).
#[derive(Clone, Debug, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct BagReport {
    /// `BagIt-Version` from `bagit.txt`, if it could be read.
    pub version: Option<String>,
    /// Problems that make the bag invalid.
    pub errors: Vec<BagIssue>,
    /// Why the payload could not be checked at all (only payload manifests
    /// of unsupported algorithms), if so: see [`BagVerdict::Uncheckable`].
    pub uncheckable: Option<BagIssue>,
    /// Oddities that do not make it invalid.
    pub warnings: Vec<BagIssue>,
    /// The `bag-info.txt` metadata: label as written → values in order.
    pub info: BTreeMap<String, Vec<String>>,
}

impl BagReport {
    /// Valid, invalid (any error), or uncheckable (no error, but no
    /// payload manifest guwah can check).
    pub fn verdict(&self) -> BagVerdict {
        if !self.errors.is_empty() {
            BagVerdict::Invalid
        } else if self.uncheckable.is_some() {
            BagVerdict::Uncheckable
        } else {
            BagVerdict::Valid
        }
    }

    /// True when every check ran and no error was found (warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.verdict() == BagVerdict::Valid
    }

    /// The values of a `bag-info.txt` label, matched case-insensitively.
    pub fn info_values(&self, label: &str) -> Vec<&str> {
        self.info
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(label))
            .flat_map(|(_, v)| v.iter().map(String::as_str))
            .collect()
    }

    pub(super) fn err(&mut self, path: &str, what: impl Into<String>) {
        self.errors.push(issue(IssueKind::Bag, path, what));
    }

    pub(super) fn warn(&mut self, path: &str, what: impl Into<String>) {
        self.warnings.push(issue(IssueKind::Bag, path, what));
    }

    /// An error in, or about a file listed in, a manifest.
    pub(super) fn manifest_err(&mut self, path: &str, what: impl Into<String>) {
        self.errors.push(issue(IssueKind::Manifest, path, what));
    }

    pub(super) fn manifest_warn(&mut self, path: &str, what: impl Into<String>) {
        self.warnings.push(issue(IssueKind::Manifest, path, what));
    }
}

pub(super) fn issue(kind: IssueKind, path: &str, what: impl Into<String>) -> BagIssue {
    BagIssue {
        kind,
        path: path.to_string(),
        what: one_line(what.into()),
    }
}

fn one_line(s: String) -> String {
    if s.contains(['\n', '\r']) {
        s.replace(['\n', '\r'], " ")
    } else {
        s
    }
}
