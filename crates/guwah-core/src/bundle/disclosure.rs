//! A disclosure (`guwah/disclosure/v1`): one withheld field's value and
//! salt, written by `guwah disclose`, and its check against a package.

use std::collections::BTreeMap;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::items::check_record;
use super::parts::item_parts;
use super::report::fail;
use super::text::{FormatError, b64_32, b64_bytes, ferr, lines_of};
use super::{DISCLOSURE_V1, Failure, FailureKind as K, PACKAGE_TXT, PackageIndex, RECORD_FILE};
use crate::merkle::{Hash, leaf_hash};
use crate::record::{check_field_name, commit_field, hex32, parse_hex32};

/// A disclosed field, on its own: what `guwah disclose` writes, to be
/// checked against the item's sealed record in a package.
///
/// ```text
/// guwah/disclosure/v1
/// item <64 hex item id>
/// field <name>
/// salt <base64 32 bytes>
/// value <base64 of the value's bytes>
/// commitment <base64 SHA-256 commitment>
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    /// The item id.
    pub item: Hash,
    /// Field name.
    pub name: String,
    /// The salt.
    pub salt: [u8; 32],
    /// The value's bytes.
    pub value: Vec<u8>,
    /// The commitment the value and salt should reproduce.
    pub commitment: Hash,
}

impl Disclosure {
    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        format!(
            "{DISCLOSURE_V1}\nitem {}\nfield {}\nsalt {}\nvalue {}\ncommitment {}\n",
            hex32(&self.item),
            self.name,
            B64.encode(self.salt),
            B64.encode(&self.value),
            B64.encode(self.commitment)
        )
        .into_bytes()
    }

    /// Parse strictly.
    pub fn parse(bytes: &[u8]) -> Result<Disclosure, FormatError> {
        let lines = lines_of(bytes)?;
        let [first, item, field, salt, value, commitment] = lines.as_slice() else {
            return Err(ferr(
                0,
                format!("{} lines, a disclosure has 6", lines.len()),
            ));
        };
        if *first != DISCLOSURE_V1 {
            return Err(ferr(1, format!("expected {DISCLOSURE_V1:?}")));
        }
        let rest = [item, field, salt, value, commitment];
        let field_of = |n: usize, key: &str| -> Result<String, FormatError> {
            rest[n - 2]
                .strip_prefix(key)
                .and_then(|r| r.strip_prefix(' '))
                .map(str::to_owned)
                .ok_or_else(|| ferr(n, format!("expected \"{key} ...\"")))
        };
        let item_hex = field_of(2, "item")?;
        let item = parse_hex32(&item_hex).ok_or_else(|| ferr(2, "item id is not 64 hex digits"))?;
        let name = field_of(3, "field")?;
        check_field_name(&name).map_err(|e| ferr(3, e.to_string()))?;
        let salt = b64_32(4, "salt", &field_of(4, "salt")?)?;
        let value = b64_bytes(5, "value", &field_of(5, "value")?)?;
        let commitment = b64_32(6, "commitment", &field_of(6, "commitment")?)?;
        Ok(Disclosure {
            item,
            name,
            salt,
            value,
            commitment,
        })
    }

    /// Does `(value, salt)` reproduce the stated commitment?
    pub fn reproduces(&self) -> bool {
        commit_field(&self.name, &self.salt, &self.value) == self.commitment
    }
}

/// Check a disclosure against a package's tag files: the item is in it,
/// its record holds, and the disclosed value and salt reproduce the
/// commitment sealed in that record. Returns failures (empty: the
/// disclosure holds), each of kind [`K::Disclosure`] and naming `label`
/// (the disclosure file, say).
pub fn check_disclosure(
    tags: &BTreeMap<String, Vec<u8>>,
    d: &Disclosure,
    label: &str,
) -> Vec<Failure> {
    let failed = |what: String| vec![fail(K::Disclosure, label, what)];
    let not_here = || failed(format!("item {} is not in this package", hex32(&d.item)));
    let version = tags
        .get(PACKAGE_TXT)
        .and_then(|b| PackageIndex::parse(b).ok())
        .map_or(2, |i| i.version);
    let parts = match item_parts(tags, version, &d.item) {
        Ok(p) if p.parts.is_empty() => return not_here(),
        Ok(p) => p,
        Err(f) if f.what.starts_with("missing") => return not_here(),
        Err(f) => return failed(format!("the item's {f}")),
    };
    let mut problems = Vec::new();
    let Some((leaf, record)) = check_record(&parts, RECORD_FILE, K::Record, &mut problems) else {
        return problems
            .iter()
            .map(|f| fail(K::Disclosure, label, format!("the item's record {f}")))
            .collect();
    };
    let mut failures: Vec<Failure> = problems
        .iter()
        .map(|f| fail(K::Disclosure, label, format!("the item's record {f}")))
        .collect();
    if leaf_hash(leaf) != d.item {
        failures.push(fail(
            K::Disclosure,
            label,
            format!(
                "the record {} does not hash to the item id",
                parts.label(RECORD_FILE)
            ),
        ));
    }
    match record.fields().iter().find(|f| f.name == d.name) {
        None => failures.push(fail(
            K::Disclosure,
            label,
            format!("the sealed record has no field {:?}", d.name),
        )),
        Some(f) => {
            if f.commitment != d.commitment {
                failures.push(fail(
                    K::Disclosure,
                    label,
                    format!(
                        "its commitment is not the one sealed in the record for {:?}",
                        d.name
                    ),
                ));
            }
            if commit_field(&d.name, &d.salt, &d.value) != f.commitment {
                failures.push(fail(
                    K::Disclosure,
                    label,
                    format!(
                        "value and salt do not reproduce the sealed commitment of {:?}",
                        d.name
                    ),
                ));
            }
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn disclosure_round_trips() {
        let d = Disclosure {
            item: [9; 32],
            name: "gps".into(),
            salt: [1; 32],
            value: b"43.8,87.6".to_vec(),
            commitment: commit_field("gps", &[1; 32], b"43.8,87.6"),
        };
        let back = Disclosure::parse(&d.encode()).unwrap();
        assert_eq!(back, d);
        assert!(back.reproduces());
    }
}
