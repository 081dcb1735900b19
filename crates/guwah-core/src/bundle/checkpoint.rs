//! The package's keys and its one checkpoint: parsed, matched to the
//! index, and its signature checked with a trusted key or the package's.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::items::CheckpointCtx;
use super::report::fail;
use super::text::{clip, lines_of};
use super::{
    BundleReport, CHECKPOINT, FailureKind as K, KEYS, PackageIndex, SignatureStatus, SignatureView,
};
use crate::checkpoint::{Checkpoint, open_checkpoint};
use crate::note::{self, AnyVerifier, NoteVerifier, Verifier};

/// The verifier keys in `guwah/keys` (a malformed line is a failure).
pub(super) fn package_keys(
    r: &mut BundleReport,
    tags: &BTreeMap<String, Vec<u8>>,
) -> Vec<AnyVerifier> {
    let mut keys = Vec::new();
    match tags.get(KEYS) {
        None => r
            .warnings
            .push(format!("{KEYS}: missing; no verifier keys in the package")),
        Some(b) => match lines_of(b) {
            Err(e) => r.failures.push(fail(K::Keys, KEYS, e.to_string())),
            Ok(lines) => {
                for (i, l) in lines.iter().enumerate() {
                    match AnyVerifier::from_vkey(l) {
                        Ok(k) => keys.push(k),
                        Err(e) => {
                            r.failures
                                .push(fail(K::Keys, KEYS, format!("line {}: {e}", i + 1)))
                        }
                    }
                }
            }
        },
    }
    keys
}

/// The checkpoint, for the receipts: its note, and its body once its
/// origin, size and signature hold (else failures are added).
pub(super) fn checkpoint(
    r: &mut BundleReport,
    index: &PackageIndex,
    tags: &BTreeMap<String, Vec<u8>>,
    trusted: &[Verifier],
    package_keys: &[AnyVerifier],
) -> CheckpointCtx {
    let mut cp = CheckpointCtx {
        note: Vec::new(),
        body: None,
    };
    match tags.get(CHECKPOINT) {
        None => r.failures.push(fail(
            K::Checkpoint,
            CHECKPOINT,
            "missing: no checkpoint to check receipts against",
        )),
        Some(note_bytes) => {
            cp.note = note_bytes.clone();
            check_checkpoint(r, index, note_bytes, trusted, package_keys, &mut cp);
        }
    }
    cp
}

fn check_checkpoint(
    r: &mut BundleReport,
    index: &PackageIndex,
    note_bytes: &[u8],
    trusted: &[Verifier],
    package_keys: &[AnyVerifier],
    cp: &mut CheckpointCtx,
) {
    let parsed = note::Note::parse(note_bytes)
        .map_err(|e| e.to_string())
        .and_then(|n| {
            Checkpoint::parse(&n.text)
                .map(|c| (n, c))
                .map_err(|e| e.to_string())
        });
    let (note_parsed, body) = match parsed {
        Ok(x) => x,
        Err(e) => {
            r.failures.push(fail(K::Checkpoint, CHECKPOINT, e));
            return;
        }
    };
    r.checkpoint_size = Some(body.size);
    r.checkpoint_root = Some(B64.encode(body.root));
    if body.origin != index.origin {
        r.failures.push(fail(
            K::Checkpoint,
            CHECKPOINT,
            format!(
                "origin {:?} is not the package's origin {:?}",
                clip(&body.origin),
                index.origin
            ),
        ));
    }
    if body.size != index.checkpoint_size {
        r.failures.push(fail(
            K::Checkpoint,
            CHECKPOINT,
            format!(
                "size {} is not the package's checkpoint-size {}",
                body.size, index.checkpoint_size
            ),
        ));
    }
    // Which keys check the log signature.
    let log_keys_in_package: Vec<&AnyVerifier> = package_keys
        .iter()
        .filter(|k| matches!(k, AnyVerifier::Ed25519(_)) && k.name() == body.origin)
        .collect();
    let cosigners: Vec<&AnyVerifier> = package_keys
        .iter()
        .filter(|k| k.name() != body.origin)
        .collect();
    let mut verifiers: Vec<&dyn NoteVerifier> = Vec::new();
    if trusted.is_empty() {
        r.log_key_trusted = false;
        if log_keys_in_package.is_empty() {
            r.failures.push(fail(
                K::LogKey,
                CHECKPOINT,
                format!(
                    "no key named {:?} was given (--trust) or found in {KEYS}",
                    body.origin
                ),
            ));
            return;
        }
        r.log_key = log_keys_in_package.first().map(|k| k.to_vkey());
        verifiers.extend(log_keys_in_package.iter().map(|k| *k as &dyn NoteVerifier));
    } else {
        let named: Vec<&Verifier> = trusted.iter().filter(|k| k.name() == body.origin).collect();
        if named.is_empty() {
            let names: Vec<&str> = trusted.iter().map(|k| k.name()).collect();
            r.failures.push(fail(
                K::LogKey,
                "trust",
                format!(
                    "no trusted key is named after the log's origin {:?} (trusted: {})",
                    body.origin,
                    names.join(", ")
                ),
            ));
            return;
        }
        r.log_key_trusted = true;
        r.log_key = named.first().map(|k| k.to_vkey());
        if let Some(k) = log_keys_in_package.first()
            && !named.iter().any(|n| n.to_vkey() == k.to_vkey())
        {
            r.warnings.push(format!(
                "{KEYS}: the log key in the package is not the trusted one"
            ));
        }
        verifiers.extend(named.iter().map(|k| *k as &dyn NoteVerifier));
    }
    verifiers.extend(cosigners.iter().map(|k| *k as &dyn NoteVerifier));
    match open_checkpoint(note_bytes, &verifiers, &body.origin) {
        Ok((_, opened)) => {
            for s in &opened.verified {
                r.signatures.push(SignatureView {
                    name: s.name.clone(),
                    status: if s.name == body.origin && r.log_key_trusted {
                        SignatureStatus::Trusted
                    } else {
                        SignatureStatus::Package
                    },
                    timestamp: s.timestamp,
                });
            }
            for s in &opened.unverified {
                r.signatures.push(SignatureView {
                    name: s.name.clone(),
                    status: SignatureStatus::Unknown,
                    timestamp: None,
                });
            }
            cp.body = Some(body);
        }
        Err(e) => {
            let _ = note_parsed;
            let what = if r.log_key_trusted {
                format!("not signed by the trusted log key: {e}")
            } else {
                format!("its signature does not verify with the log key in {KEYS}: {e}")
            };
            r.failures
                .push(fail(K::CheckpointSignature, CHECKPOINT, what));
        }
    }
}
