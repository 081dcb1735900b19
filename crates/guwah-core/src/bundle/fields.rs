//! A `fields` part: every committed field of one record, disclosed (value
//! and salt) or withheld.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use super::FIELDS_V1;
use super::text::{FormatError, b64_32, b64_bytes, clip, ferr, lines_of};
use crate::record::check_field_name;

/// One line of a `fields` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldEntry {
    /// The value is in the package, with the salt of its commitment.
    Disclosed {
        /// Field name.
        name: String,
        /// The 32-byte salt.
        salt: [u8; 32],
        /// The value's bytes (UTF-8 text).
        value: Vec<u8>,
    },
    /// The value was left out of the package.
    Withheld {
        /// Field name.
        name: String,
    },
}

impl FieldEntry {
    /// The field's name.
    pub fn name(&self) -> &str {
        match self {
            FieldEntry::Disclosed { name, .. } | FieldEntry::Withheld { name } => name,
        }
    }
}

/// A `fields` file: every committed field of one record, disclosed or
/// withheld, names ascending.
///
/// ```text
/// guwah/fields/v1
/// disclosed <name> <base64 salt> <base64 value>
/// withheld <name>
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldsFile {
    /// The entries, names strictly ascending.
    pub entries: Vec<FieldEntry>,
}

impl FieldsFile {
    /// The file's bytes (entries are written in the order given; keep
    /// them sorted).
    pub fn encode(&self) -> Vec<u8> {
        let mut s = format!("{FIELDS_V1}\n");
        for e in &self.entries {
            match e {
                FieldEntry::Disclosed { name, salt, value } => s.push_str(&format!(
                    "disclosed {name} {} {}\n",
                    B64.encode(salt),
                    B64.encode(value)
                )),
                FieldEntry::Withheld { name } => s.push_str(&format!("withheld {name}\n")),
            }
        }
        s.into_bytes()
    }

    /// Parse strictly: known version, valid and ascending names,
    /// canonical base64.
    pub fn parse(bytes: &[u8]) -> Result<FieldsFile, FormatError> {
        let lines = lines_of(bytes)?;
        if lines.first() != Some(&FIELDS_V1) {
            return Err(ferr(1, format!("expected {FIELDS_V1:?}")));
        }
        let mut entries: Vec<FieldEntry> = Vec::new();
        for (i, line) in lines.iter().enumerate().skip(1) {
            let n = i + 1;
            let parts: Vec<&str> = line.split(' ').collect();
            let entry = match parts.as_slice() {
                ["disclosed", name, salt, value] => FieldEntry::Disclosed {
                    name: (*name).to_owned(),
                    salt: b64_32(n, "salt", salt)?,
                    value: b64_bytes(n, "value", value)?,
                },
                ["withheld", name] => FieldEntry::Withheld {
                    name: (*name).to_owned(),
                },
                _ => {
                    return Err(ferr(
                        n,
                        format!(
                            "expected \"disclosed <name> <salt> <value>\" or \"withheld <name>\", found {:?}",
                            clip(line)
                        ),
                    ));
                }
            };
            check_field_name(entry.name()).map_err(|e| ferr(n, e.to_string()))?;
            if let Some(prev) = entries.last()
                && prev.name() >= entry.name()
            {
                return Err(ferr(n, "field names must be unique and ascending"));
            }
            entries.push(entry);
        }
        Ok(FieldsFile { entries })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_round_trip_and_order() {
        let f = FieldsFile {
            entries: vec![
                FieldEntry::Disclosed {
                    name: "filename".into(),
                    salt: [3; 32],
                    value: b"a\nb".to_vec(),
                },
                FieldEntry::Withheld { name: "gps".into() },
            ],
        };
        assert_eq!(FieldsFile::parse(&f.encode()).unwrap(), f);
        let rev = FieldsFile {
            entries: f.entries.iter().rev().cloned().collect(),
        };
        assert!(FieldsFile::parse(&rev.encode()).is_err());
    }
}
