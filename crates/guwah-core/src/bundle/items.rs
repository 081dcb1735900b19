//! The checks of one item: its record, fields, receipt and custody events
//! (from the tag files alone), and its payload once it is hashed.

use std::collections::{BTreeMap, BTreeSet};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::parts::{Parts, item_parts};
use super::report::fail;
use super::{
    CHECKPOINT, EventVerdict, FIELDS_FILE, Failure, FailureKind as K, FieldEntry, FieldView,
    FieldsFile, ItemVerdict, RECEIPT_FILE, RECORD_FILE,
};
use crate::bag::{Algorithm, BagFiles};
use crate::checkpoint::Checkpoint;
use crate::merkle::{Hash, leaf_hash};
use crate::receipt::TlogProof;
use crate::record::{self, Record, commit_field, hex32, parse_hex32};

/// What a receipt check needs: the package's checkpoint, opened or not.
pub(super) struct CheckpointCtx {
    /// The checkpoint note, verbatim (empty if there is none).
    pub(super) note: Vec<u8>,
    /// Its body, if it parsed and its signature verified.
    pub(super) body: Option<Checkpoint>,
}

/// Check a receipt (part `name`) for `leaf` against the package's
/// checkpoint; returns the leaf index.
fn check_receipt(
    parts: &Parts<'_>,
    name: &str,
    leaf: &[u8],
    cp: &CheckpointCtx,
    failures: &mut Vec<Failure>,
) -> Option<u64> {
    let path = parts.label(name);
    let Some(bytes) = parts.get(name) else {
        failures.push(fail(
            K::Receipt,
            path,
            "missing: every record needs its receipt",
        ));
        return None;
    };
    let receipt = match TlogProof::parse(bytes) {
        Ok(r) => r,
        Err(e) => {
            failures.push(fail(K::Receipt, path, e.to_string()));
            return None;
        }
    };
    if receipt.checkpoint != cp.note {
        failures.push(fail(
            K::Receipt,
            path,
            format!("its checkpoint is not the package's checkpoint ({CHECKPOINT})"),
        ));
        return Some(receipt.index);
    }
    if let Some(body) = &cp.body
        && let Err(e) = receipt.verify_inclusion(leaf, body)
    {
        failures.push(fail(K::Receipt, path, e.to_string()));
    }
    Some(receipt.index)
}

/// Check a fields part against a record's commitments.
fn check_fields(
    parts: &Parts<'_>,
    name: &str,
    fields: &[record::FieldCommitment],
    failures: &mut Vec<Failure>,
) -> (Vec<FieldView>, Vec<String>) {
    let path = parts.label(name);
    let mut views = Vec::new();
    let mut withheld = Vec::new();
    let parsed = match parts.get(name) {
        None if fields.is_empty() => FieldsFile::default(),
        None => {
            failures.push(fail(
                K::Fields,
                path,
                "missing: the record has committed fields",
            ));
            return (views, withheld);
        }
        Some(b) => match FieldsFile::parse(b) {
            Ok(f) => f,
            Err(e) => {
                failures.push(fail(K::Fields, path, e.to_string()));
                return (views, withheld);
            }
        },
    };
    let sealed: BTreeMap<&str, &Hash> = fields
        .iter()
        .map(|f| (f.name.as_str(), &f.commitment))
        .collect();
    let mut covered = BTreeSet::new();
    for e in &parsed.entries {
        let Some(commitment) = sealed.get(e.name()) else {
            failures.push(fail(
                K::Fields,
                &path,
                format!("field {:?} is not in the sealed record", e.name()),
            ));
            continue;
        };
        covered.insert(e.name().to_owned());
        match e {
            FieldEntry::Disclosed { name, salt, value } => {
                if commit_field(name, salt, value) != **commitment {
                    failures.push(fail(
                        K::FieldValue,
                        &path,
                        format!(
                            "field {name:?}: value and salt do not reproduce the sealed commitment"
                        ),
                    ));
                }
                views.push(FieldView {
                    name: name.clone(),
                    value: Some(String::from_utf8_lossy(value).into_owned()),
                });
            }
            FieldEntry::Withheld { name } => {
                withheld.push(name.clone());
                views.push(FieldView {
                    name: name.clone(),
                    value: None,
                });
            }
        }
    }
    for f in fields {
        if !covered.contains(&f.name) {
            failures.push(fail(
                K::WithheldField,
                &path,
                format!(
                    "field {:?} of the sealed record is neither disclosed nor listed as withheld",
                    f.name
                ),
            ));
        }
    }
    (views, withheld)
}

/// Check the record part `name`: it parses and its signature verifies.
/// Failures are of `kind` (an item's record or a custody event's).
pub(super) fn check_record<'a>(
    parts: &Parts<'a>,
    name: &str,
    kind: K,
    failures: &mut Vec<Failure>,
) -> Option<(&'a [u8], Record)> {
    let path = parts.label(name);
    let Some(bytes) = parts.get(name) else {
        failures.push(fail(kind, path, "missing"));
        return None;
    };
    let record = match Record::parse(bytes) {
        Ok(r) => r,
        Err(e) => {
            failures.push(fail(kind, path, e.to_string()));
            return None;
        }
    };
    if let Err(e) = record.verify_signature() {
        failures.push(fail(kind, path, e.to_string()));
    }
    Some((bytes, record))
}

fn check_event(
    parts: &Parts<'_>,
    item: &Hash,
    name: &str,
    cp: &CheckpointCtx,
    failures: &mut Vec<Failure>,
) -> EventVerdict {
    let before = failures.len();
    let dir = format!("events/{name}/");
    let mut v = EventVerdict {
        id: name.to_owned(),
        ok: false,
        path: parts.label(&dir),
        action: String::new(),
        at: String::new(),
        actor: String::new(),
        leaf_index: None,
        fields: Vec::new(),
    };
    let record_name = format!("{dir}{RECORD_FILE}");
    if let Some((leaf, record)) = check_record(parts, &record_name, K::CustodyEvent, failures) {
        let record_path = parts.label(&record_name);
        if hex32(&leaf_hash(leaf)) != name {
            failures.push(fail(
                K::CustodyEvent,
                &record_path,
                format!("its hash is not the event id {name} its folder is named after"),
            ));
        }
        match &record {
            Record::Event(ev) => {
                v.action = ev.action.as_str().to_owned();
                v.at = ev.at.clone();
                v.actor = B64.encode(ev.actor);
                if ev.item != *item {
                    failures.push(fail(
                        K::CustodyEvent,
                        &record_path,
                        format!(
                            "is about item {}, not item {}",
                            hex32(&ev.item),
                            hex32(item)
                        ),
                    ));
                }
                let (views, _) =
                    check_fields(parts, &format!("{dir}{FIELDS_FILE}"), &ev.fields, failures);
                v.fields = views;
            }
            Record::Item(_) | Record::Audit(_) => {
                failures.push(fail(
                    K::CustodyEvent,
                    &record_path,
                    "is not a custody event record",
                ));
            }
        }
        v.leaf_index = check_receipt(parts, &format!("{dir}{RECEIPT_FILE}"), leaf, cp, failures);
    }
    v.ok = failures.len() == before;
    v
}

/// An item's checks that need only the tag files: its record, signature,
/// fields, receipt and custody events. The payload is compared by
/// [`check_payload`] once it is hashed.
pub(super) fn check_item_tags(
    tags: &BTreeMap<String, Vec<u8>>,
    version: u32,
    id: &Hash,
    payload: &str,
    cp: &CheckpointCtx,
) -> ItemVerdict {
    let mut failures = Vec::new();
    let mut v = ItemVerdict {
        id: hex32(id),
        payload: payload.to_owned(),
        ..ItemVerdict::default()
    };
    let parts = match item_parts(tags, version, id) {
        Ok(p) => p,
        Err(f) => {
            v.failures.push(f);
            return v;
        }
    };
    if let Some((leaf, record)) = check_record(&parts, RECORD_FILE, K::Record, &mut failures) {
        let record_path = parts.label(RECORD_FILE);
        if leaf_hash(leaf) != *id {
            failures.push(fail(
                K::Record,
                &record_path,
                format!("its hash is not the item id {}", hex32(id)),
            ));
        }
        match &record {
            Record::Item(item) => {
                v.media_type = item.media_type.clone();
                v.size = item.size;
                v.sha256 = hex32(&item.sha256);
                v.sealed_at = item.sealed_at.clone();
                v.collector = B64.encode(item.collector);
                let (views, withheld) =
                    check_fields(&parts, FIELDS_FILE, &item.fields, &mut failures);
                v.fields = views;
                v.withheld = withheld;
            }
            Record::Event(_) | Record::Audit(_) => {
                failures.push(fail(K::Record, &record_path, "is not an item record"));
            }
        }
        v.leaf_index = check_receipt(&parts, RECEIPT_FILE, leaf, cp, &mut failures);
    }
    // Events: every `events/<id>/` among the parts.
    let mut event_names = BTreeSet::new();
    for name in parts.parts.keys() {
        if [RECORD_FILE, RECEIPT_FILE, FIELDS_FILE].contains(&name.as_str()) {
            continue;
        }
        match name
            .strip_prefix("events/")
            .and_then(|rest| rest.split_once('/'))
        {
            Some((event, file))
                if parse_hex32(event).is_some()
                    && [RECORD_FILE, RECEIPT_FILE, FIELDS_FILE].contains(&file) =>
            {
                event_names.insert(event.to_owned());
            }
            _ => failures.push(fail(
                K::PackageLayout,
                parts.label(name),
                "is not part of the package format",
            )),
        }
    }
    for name in event_names {
        v.events
            .push(check_event(&parts, id, &name, cp, &mut failures));
    }
    v.events
        .sort_by_key(|e| (e.leaf_index.unwrap_or(u64::MAX), e.id.clone()));
    v.ok = failures.is_empty();
    v.failures = failures;
    v
}

/// An item's payload against its sealed record (when the record parsed as
/// an item record, which set the verdict's SHA-256): present, same size,
/// same SHA-256. Also shows the SHA-512 the bag reader computed.
pub(super) fn check_payload(v: &mut ItemVerdict, files: &BagFiles) {
    let sealed = !v.sha256.is_empty();
    let file = files.files.get(&v.payload);
    if let Some(d) = file.and_then(|f| f.digests.get(&Algorithm::Sha512)) {
        v.sha512 = d.clone();
    }
    if !sealed {
        return;
    }
    let payload = v.payload.clone();
    match file {
        None => v.failures.push(fail(
            K::Payload,
            payload,
            "missing: the item's original is not in the package",
        )),
        Some(f) => {
            if f.size != v.size {
                v.failures.push(fail(
                    K::PayloadDigest,
                    &payload,
                    format!("is {} bytes; the sealed record says {}", f.size, v.size),
                ));
            }
            match f.digests.get(&Algorithm::Sha256) {
                Some(d) if *d == v.sha256 => {}
                Some(_) => v.failures.push(fail(
                    K::PayloadDigest,
                    payload,
                    "SHA-256 does not match the sealed record",
                )),
                None => v.failures.push(fail(
                    K::Payload,
                    payload,
                    "its SHA-256 was not computed by the bag reader",
                )),
            }
        }
    }
    v.ok = v.failures.is_empty();
}
