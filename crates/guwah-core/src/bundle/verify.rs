//! The whole check: [`prepare_bundle`] (what the tag files alone prove,
//! run while the payload is still hashing) and [`finish_bundle`] (the BagIt
//! validation and the payload), or both at once with [`verify_bundle`].

use std::collections::{BTreeMap, BTreeSet};

use super::checkpoint::{checkpoint, package_keys};
use super::items::{check_item_tags, check_payload};
use super::report::fail;
use super::{
    BundleReport, CHECKPOINT, Failure, FailureKind as K, ItemVerdict, KEYS, PACKAGE_TXT,
    PackageIndex,
};
use crate::bag::{self, BagFiles, IssueKind};
use crate::note::Verifier;
use crate::record::hex32;

/// Check a whole package, offline.
///
/// Runs [`bag::validate`] (completeness, every manifest and tag manifest),
/// then reads `guwah/package.txt` and checks the checkpoint's signature —
/// by a key in `trusted` named after the origin, or, if `trusted` is empty,
/// by the log key found in `guwah/keys` (then the verdict is at best
/// [`Verdict::Untrusted`]) — and for every item: its record parses, is
/// canonical, hashes to its id and carries a valid collector signature; its
/// payload's size and SHA-256 are the record's; its receipt is against the
/// package's checkpoint and its inclusion proof verifies; every disclosed
/// field reproduces its commitment and every other is listed as withheld;
/// every custody event's record, signature, subject and receipt hold.
///
/// This is [`prepare_bundle`] then [`finish_bundle`], items checked in
/// order; a native caller runs the two apart, with its own [`ItemRunner`].
pub fn verify_bundle(files: &BagFiles, trusted: &[Verifier]) -> BundleReport {
    finish_bundle(
        prepare_bundle(&files.tag_contents, trusted, &InOrder),
        files,
    )
}

/// Runs the per-item checks of [`prepare_bundle`]: `check(i)` for
/// every `i` in `0..n`, returning the verdicts in index order. The core
/// stays free of threads (it runs in a browser too); a native caller can
/// spread the items over cores.
pub trait ItemRunner {
    /// `check(0)`, …, `check(n - 1)`, in that order in the result.
    fn run(&self, n: usize, check: &(dyn Fn(usize) -> ItemVerdict + Sync)) -> Vec<ItemVerdict>;
}

/// Checks items one after another, on the calling thread.
pub struct InOrder;

impl ItemRunner for InOrder {
    fn run(&self, n: usize, check: &(dyn Fn(usize) -> ItemVerdict + Sync)) -> Vec<ItemVerdict> {
        (0..n).map(check).collect()
    }
}

/// What the tag files alone prove: [`prepare_bundle`]'s result, to be
/// completed by [`finish_bundle`] once every file is hashed.
#[derive(Debug)]
pub struct PreparedBundle {
    report: BundleReport,
    index: Option<PackageIndex>,
}

/// The checks of [`verify_bundle`] that need only the tag files (the index,
/// keys, checkpoint and every item's records, signatures, fields, receipts
/// and events), so that a native reader can run them while the payload is
/// still being hashed.
pub fn prepare_bundle(
    tags: &BTreeMap<String, Vec<u8>>,
    trusted: &[Verifier],
    runner: &dyn ItemRunner,
) -> PreparedBundle {
    let mut r = BundleReport::default();
    let index = prepare_into(&mut r, tags, trusted, runner);
    PreparedBundle { report: r, index }
}

/// Completes a [`PreparedBundle`] with what needs every file's digests: the
/// BagIt validation (listed first among the package's failures), each
/// payload against its record, and files the format does not know.
pub fn finish_bundle(prepared: PreparedBundle, files: &BagFiles) -> BundleReport {
    let PreparedBundle { mut report, index } = prepared;
    let r = &mut report;
    let bag_report = bag::validate(files);
    let mut failures: Vec<Failure> = bag_report
        .errors
        .iter()
        .chain(&bag_report.uncheckable)
        .map(|issue| {
            let kind = match issue.kind {
                IssueKind::Manifest => K::Manifest,
                IssueKind::Bag => K::Bag,
            };
            fail(kind, issue.path.clone(), issue.what.clone())
        })
        .collect();
    failures.append(&mut r.failures);
    r.failures = failures;
    let mut warnings: Vec<String> = bag_report.warnings.iter().map(|i| i.to_string()).collect();
    warnings.append(&mut r.warnings);
    r.warnings = warnings;
    let Some(index) = index else {
        return report;
    };
    for v in &mut r.items {
        check_payload(v, files);
    }
    let listed: BTreeSet<String> = index.items.iter().map(|(id, _)| hex32(id)).collect();
    // Anything under guwah/ that the format does not know.
    let payloads: BTreeSet<&str> = index.items.iter().map(|(_, p)| p.as_str()).collect();
    for path in files.files.keys() {
        if path.starts_with("data/") && !payloads.contains(path.as_str()) {
            r.warnings.push(format!(
                "{path}: in the payload but not part of any sealed item"
            ));
        }
        if let Some(rest) = path.strip_prefix("guwah/items/") {
            // v1: guwah/items/<id>/...; v2: exactly guwah/items/<id>.txt.
            let id = match index.version {
                1 => rest.split('/').next(),
                _ => rest.strip_suffix(".txt").filter(|id| !id.contains('/')),
            };
            if !id.is_some_and(|id| listed.contains(id)) {
                r.failures.push(fail(
                    K::PackageLayout,
                    path.clone(),
                    "belongs to no item listed in guwah/package.txt",
                ));
            }
        } else if path.starts_with("guwah/")
            && !path.starts_with(super::TIMESTAMPS_DIR)
            && ![PACKAGE_TXT, CHECKPOINT, KEYS].contains(&path.as_str())
        {
            r.warnings
                .push(format!("{path}: not part of the package format; ignored"));
        }
    }
    report
}

fn prepare_into(
    r: &mut BundleReport,
    tags: &BTreeMap<String, Vec<u8>>,
    trusted: &[Verifier],
    runner: &dyn ItemRunner,
) -> Option<PackageIndex> {
    // The index.
    let index = match tags.get(PACKAGE_TXT) {
        None => {
            r.failures.push(fail(
                K::PackageIndex,
                PACKAGE_TXT,
                "missing: this is not a guwah evidence package",
            ));
            return None;
        }
        Some(b) => match PackageIndex::parse(b) {
            Ok(i) => i,
            Err(e) => {
                r.failures
                    .push(fail(K::PackageIndex, PACKAGE_TXT, e.to_string()));
                return None;
            }
        },
    };
    r.version = Some(format!("guwah/package/v{}", index.version));
    r.origin = Some(index.origin.clone());
    let keys = package_keys(r, tags);
    let cp = checkpoint(r, &index, tags, trusted, &keys);
    // Items.
    let cp = &cp;
    let items = &index.items;
    r.items = runner.run(items.len(), &|i| {
        let (id, payload) = &items[i];
        check_item_tags(tags, index.version, id, payload, cp)
    });
    if index.items.is_empty() {
        r.failures
            .push(fail(K::PackageIndex, PACKAGE_TXT, "lists no items"));
    }
    Some(index)
}
