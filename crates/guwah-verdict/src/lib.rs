//! guwah's one package verdict: an evidence package (`docs/package.md`)
//! checked against a verifier's [`Policy`], by the same pure code in
//! `guwah verify-bundle` and in the browser (`verify.html` over
//! `guwah-wasm`).
//!
//! The verdict covers everything: the bag (BagIt validation), the payload
//! against the sealed records, records, signatures, receipts, custody
//! events, fields (guwah-core's [`bundle`](guwah_core::bundle) checks), the
//! log key trusted or not, the witness cosignatures the policy requires,
//! the RFC 3161 tokens under `guwah/timestamps/` against the policy's TSA
//! roots (guwah-tsp), and the disclosures given. Every failure carries a
//! stable [`FailureKind`] beside its message, and the [`Report`]
//! serialises (serde) as the JSON both callers print.
//!
//! [`prepare`] runs every check that needs only the tag files, so that a
//! native reader runs it while the payload is still hashing, with an
//! [`ItemRunner`] that spreads the items over threads; [`finish`] adds what
//! needs every file's digests. [`verify`] is both, in order. No I/O, no
//! clock, no threads: this crate builds for `wasm32-unknown-unknown`.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::collections::BTreeMap;

use guwah_core::bag::BagFiles;
use guwah_core::bundle::{self, BundleReport, CHECKPOINT, PreparedBundle, TIMESTAMPS_DIR};
pub use guwah_core::bundle::{Failure, FailureKind, InOrder, ItemRunner, Verdict};
use guwah_core::record::hex32;
use guwah_core::witness::check_witnesses;

pub mod policy;

pub use policy::{InputFile, Policy, PolicyError, PolicyInput, key_lines};

/// A witness cosignature that verified.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Cosigned {
    /// The witness's key name.
    pub name: String,
    /// When it cosigned (Unix seconds).
    pub timestamp: u64,
}

/// What the witness policy found on the checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WitnessView {
    /// Valid cosignatures required.
    pub min: usize,
    /// Required witnesses whose cosignature verifies.
    pub valid: Vec<Cosigned>,
    /// Required witnesses with a cosignature that does not verify.
    pub invalid: Vec<String>,
    /// Required witnesses with no cosignature.
    pub missing: Vec<String>,
}

/// An RFC 3161 token's standing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenStatus {
    /// Over the checkpoint, signed, and chained to a given TSA root.
    Valid,
    /// Over the checkpoint and signed, but no given root anchors it (this
    /// does not fail the package).
    Untrusted,
    /// Malformed, not over the checkpoint, or its signature or chain fails
    /// (a [`FailureKind::TimestampToken`] failure).
    Invalid,
}

impl TokenStatus {
    /// `valid`, `untrusted` or `invalid`.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Valid => "valid",
            TokenStatus::Untrusted => "untrusted",
            TokenStatus::Invalid => "invalid",
        }
    }
}

/// One token under `guwah/timestamps/`, as checked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TokenView {
    /// Its path in the package.
    pub path: String,
    /// Its standing.
    pub status: TokenStatus,
    /// What was established, or what is wrong, in one line.
    pub detail: String,
    /// The token's time, if it verified (to the TSA root or not).
    pub gen_time: Option<String>,
    /// The TSA certificate's subject, if the token is valid.
    pub tsa: Option<String>,
}

/// One disclosure, as checked.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DisclosureView {
    /// The name it was given (its file's name).
    pub file: String,
    /// The item, hex.
    pub item: String,
    /// The field.
    pub field: String,
    /// The disclosed value (lossy UTF-8).
    pub value: String,
    /// Whether it reproduces the commitment sealed in the item's record.
    pub ok: bool,
}

/// The whole verdict on a package: guwah-core's report of the package
/// itself (flattened into the JSON), the overall [`Verdict`], and what
/// the policy added. Every failure, the policy's included, is in
/// `package.failures` or an item's failures.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    /// Valid, untrusted or failed ([`BundleReport::verdict`] of `package`).
    pub verdict: Verdict,
    /// The package's checks.
    #[serde(flatten)]
    pub package: BundleReport,
    /// The witness policy's findings, when the policy has one.
    pub witnesses: Option<WitnessView>,
    /// Every token under `guwah/timestamps/`.
    pub timestamps: Vec<TokenView>,
    /// Every disclosure of the policy.
    pub disclosures: Vec<DisclosureView>,
}

impl Report {
    /// Every failure, package-level first, then per item.
    pub fn all_failures(&self) -> Vec<&Failure> {
        self.package.all_failures()
    }
}

/// What the tag files alone prove: [`prepare`]'s result, completed by
/// [`finish`] once every file is hashed.
#[derive(Debug)]
pub struct Prepared {
    bundle: PreparedBundle,
    policy_failures: Vec<Failure>,
    witnesses: Option<WitnessView>,
    timestamps: Vec<TokenView>,
    disclosures: Vec<DisclosureView>,
}

/// Every check that needs only the tag files: the package's index, keys,
/// checkpoint and each item's records, signatures, fields, receipts and
/// events (items run by `runner`), the witness cosignatures, the RFC 3161
/// tokens and the disclosures.
pub fn prepare(
    tags: &BTreeMap<String, Vec<u8>>,
    policy: &Policy,
    runner: &dyn ItemRunner,
) -> Prepared {
    let bundle = bundle::prepare_bundle(tags, &policy.trusted, runner);
    let note = tags.get(CHECKPOINT).map(Vec::as_slice);
    let mut policy_failures = Vec::new();
    let witnesses = policy
        .has_witness_policy()
        .then(|| witness_policy(note, policy, &mut policy_failures));
    let timestamps = timestamps(tags, note, policy, &mut policy_failures);
    let disclosures = policy
        .disclosures
        .iter()
        .map(|(label, d)| {
            let failures = bundle::check_disclosure(tags, d, label);
            let ok = failures.is_empty();
            policy_failures.extend(failures);
            DisclosureView {
                file: label.clone(),
                item: hex32(&d.item),
                field: d.name.clone(),
                value: String::from_utf8_lossy(&d.value).into_owned(),
                ok,
            }
        })
        .collect();
    Prepared {
        bundle,
        policy_failures,
        witnesses,
        timestamps,
        disclosures,
    }
}

/// Completes [`prepare`] with what needs every file's digests (the BagIt
/// validation, each payload against its record): the verdict.
pub fn finish(prepared: Prepared, files: &BagFiles) -> Report {
    let Prepared {
        bundle,
        policy_failures,
        witnesses,
        timestamps,
        disclosures,
    } = prepared;
    let mut package = bundle::finish_bundle(bundle, files);
    package.failures.extend(policy_failures);
    Report {
        verdict: package.verdict(),
        package,
        witnesses,
        timestamps,
        disclosures,
    }
}

/// The verdict on a whole package: [`prepare`] (items in order) then
/// [`finish`].
pub fn verify(files: &BagFiles, policy: &Policy) -> Report {
    finish(prepare(&files.tag_contents, policy, &InOrder), files)
}

/// The checkpoint must carry `policy.min_witnesses` valid cosignatures by
/// the policy's witnesses, and none of theirs may fail to verify (a forged
/// one, or one over a forked tree).
fn witness_policy(
    note: Option<&[u8]>,
    policy: &Policy,
    failures: &mut Vec<Failure>,
) -> WitnessView {
    let check = check_witnesses(note.unwrap_or_default(), &policy.witnesses);
    for name in &check.invalid {
        failures.push(Failure::new(
            FailureKind::Cosignature,
            CHECKPOINT,
            format!(
                "the cosignature by witness {name:?} does not verify over this checkpoint: forged, or made over a different tree of the same size (a forked log)"
            ),
        ));
    }
    if check.valid.len() < policy.min_witnesses {
        failures.push(Failure::new(
            FailureKind::Witnesses,
            CHECKPOINT,
            format!(
                "{} valid witness cosignature(s), {} required{}",
                check.valid.len(),
                policy.min_witnesses,
                if check.missing.is_empty() {
                    String::new()
                } else {
                    format!(" (none by {})", check.missing.join(", "))
                }
            ),
        ));
    }
    WitnessView {
        min: policy.min_witnesses,
        valid: check
            .valid
            .into_iter()
            .map(|(name, timestamp)| Cosigned { name, timestamp })
            .collect(),
        invalid: check.invalid,
        missing: check.missing,
    }
}

/// Every token under `guwah/timestamps/`, checked over the checkpoint's
/// body (`guwah_tsp::stamped_bytes`) with the policy's TSA certificates.
fn timestamps(
    tags: &BTreeMap<String, Vec<u8>>,
    note: Option<&[u8]>,
    policy: &Policy,
    failures: &mut Vec<Failure>,
) -> Vec<TokenView> {
    use guwah_tsp::TspError;
    let trust = policy.tsa_trust();
    let stamped = note.and_then(guwah_tsp::stamped_bytes);
    let mut out = Vec::new();
    for (path, bytes) in tags
        .range::<str, _>((
            std::ops::Bound::Included(TIMESTAMPS_DIR),
            std::ops::Bound::Unbounded,
        ))
        .take_while(|(p, _)| p.starts_with(TIMESTAMPS_DIR))
    {
        let token = guwah_tsp::Token::parse(bytes);
        let gen_time = token.as_ref().ok().map(|t| t.info.gen_time.to_string());
        let result = match (stamped, &token) {
            (None, _) => Err(TspError::Malformed {
                what: "package",
                why: "no readable guwah/checkpoint to check the token against".into(),
            }),
            (Some(_), Err(e)) => Err(e.clone()),
            (Some(data), Ok(t)) => t.verify(data, None, &trust),
        };
        let view = match result {
            Ok(v) => TokenView {
                path: path.clone(),
                status: TokenStatus::Valid,
                detail: format!(
                    "stamped at {} by {} (chain: {})",
                    v.gen_time,
                    v.tsa,
                    v.chain.join(" <- ")
                ),
                gen_time,
                tsa: Some(v.tsa),
            },
            Err(TspError::NoRoots | TspError::Untrusted { .. }) => TokenView {
                path: path.clone(),
                status: TokenStatus::Untrusted,
                detail: "over the checkpoint, but not anchored by a given TSA root certificate"
                    .into(),
                gen_time,
                tsa: None,
            },
            Err(e) => {
                let detail = match e {
                    TspError::ImprintMismatch => {
                        "message imprint does not match the checkpoint".to_owned()
                    }
                    e => e.to_string(),
                };
                failures.push(Failure::new(
                    FailureKind::TimestampToken,
                    path.clone(),
                    detail.clone(),
                ));
                TokenView {
                    path: path.clone(),
                    status: TokenStatus::Invalid,
                    detail,
                    gen_time: None,
                    tsa: None,
                }
            }
        };
        out.push(view);
    }
    out
}

#[cfg(test)]
mod tests;
