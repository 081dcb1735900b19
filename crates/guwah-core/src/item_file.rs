//! `guwah/items/<id>.txt` (package v2): one item's tag files packed into one
//! file.
//!
//! A package v1 gave each item a folder of up to three files, and each of its
//! custody events a folder of three more. Read from a cold disk cache, those
//! files (and folders) cost several disk round trips each — measured at
//! 10,000 items: 90,000 tag files took 10.8 s and 12 s of kernel CPU to
//! read, against 0.6 s for one file per item — more than hashing the
//! gigabytes of payload beside them. Package v2 keeps the same parts, byte
//! for byte, and packs them:
//!
//! ```text
//! guwah/item-file/v1
//! part <name> <length in bytes, decimal>
//! <exactly that many bytes>
//! part <name> <length>
//! <bytes>
//! ```
//!
//! A part's name is the path it had inside the item's v1 folder (`record`,
//! `receipt.tlog-proof`, `fields`, `events/<event id>/record`, …); names are
//! strictly ascending (byte order), so a file has one encoding. A part's
//! bytes are not escaped: the length says where they end. Each part can be
//! cut out with any tool (`tail -c +N | head -c LEN`) and is then exactly
//! the standard file it was (a C2SP tlog-proof, a record).

use crate::bundle::{FIELDS_FILE, FormatError, RECEIPT_FILE, RECORD_FILE};
use crate::record::parse_hex32;

/// First line of an item file.
pub const ITEM_FILE_V1: &str = "guwah/item-file/v1";

/// Longest `part` line accepted (name and length), without its newline.
const MAX_PART_LINE: usize = 200;

/// One item's parts, by name, names strictly ascending.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemFile {
    /// `(name, bytes)`, names strictly ascending.
    pub parts: Vec<(String, Vec<u8>)>,
}

/// Is `name` a part an item file may hold: `record`, `receipt.tlog-proof`,
/// `fields`, or one of those under `events/<64 hex event id>/`.
pub fn is_part_name(name: &str) -> bool {
    let file = match name.strip_prefix("events/") {
        Some(rest) => match rest.split_once('/') {
            Some((id, file)) if parse_hex32(id).is_some() => file,
            _ => return false,
        },
        None => name,
    };
    [RECORD_FILE, RECEIPT_FILE, FIELDS_FILE].contains(&file)
}

fn err(part: usize, why: impl Into<String>) -> FormatError {
    FormatError {
        line: 0,
        why: if part == 0 {
            why.into()
        } else {
            format!("part {part}: {}", why.into())
        },
    }
}

impl ItemFile {
    /// The file's bytes. Parts are written in name order whatever their
    /// order here.
    pub fn encode(&self) -> Vec<u8> {
        let mut parts: Vec<&(String, Vec<u8>)> = self.parts.iter().collect();
        parts.sort_by(|a, b| a.0.cmp(&b.0));
        let mut out = format!("{ITEM_FILE_V1}\n").into_bytes();
        for (name, bytes) in parts {
            out.extend_from_slice(format!("part {name} {}\n", bytes.len()).as_bytes());
            out.extend_from_slice(bytes);
        }
        out
    }

    /// Parses strictly: the header, then whole parts with known names in
    /// strictly ascending order, nothing after the last.
    pub fn parse(bytes: &[u8]) -> Result<ItemFile, FormatError> {
        let parts = parse_parts(bytes)?;
        Ok(ItemFile {
            parts: parts
                .into_iter()
                .map(|(n, b)| (n.to_owned(), b.to_vec()))
                .collect(),
        })
    }
}

/// [`ItemFile::parse`] without copying: each part's name and bytes as
/// slices of `bytes`.
pub fn parse_parts(bytes: &[u8]) -> Result<Vec<(&str, &[u8])>, FormatError> {
    let header = format!("{ITEM_FILE_V1}\n");
    let mut rest = bytes.strip_prefix(header.as_bytes()).ok_or_else(|| {
        err(
            0,
            format!("does not start with {ITEM_FILE_V1:?} (not an item file of this version?)"),
        )
    })?;
    let mut parts: Vec<(&str, &[u8])> = Vec::new();
    while !rest.is_empty() {
        let n = parts.len() + 1;
        let end = rest
            .iter()
            .take(MAX_PART_LINE + 1)
            .position(|&b| b == b'\n')
            .ok_or_else(|| err(n, "expected a \"part <name> <length>\" line"))?;
        let line =
            std::str::from_utf8(&rest[..end]).map_err(|_| err(n, "part line is not UTF-8"))?;
        let mut words = line.split(' ');
        let (Some("part"), Some(name), Some(len), None) =
            (words.next(), words.next(), words.next(), words.next())
        else {
            return Err(err(n, "expected a \"part <name> <length>\" line"));
        };
        if !is_part_name(name) {
            return Err(err(
                n,
                format!("{name:?} is not part of the package format"),
            ));
        }
        let len = len
            .parse::<usize>()
            .ok()
            .filter(|l| l.to_string() == len)
            .ok_or_else(|| err(n, format!("length {len:?} is not a canonical decimal")))?;
        let body = &rest[end + 1..];
        if len > body.len() {
            return Err(err(
                n,
                format!(
                    "{name}: {len} bytes declared, {} left (truncated?)",
                    body.len()
                ),
            ));
        }
        if let Some((prev, _)) = parts.last()
            && *prev >= name
        {
            return Err(err(
                n,
                format!("{name:?} comes after {prev:?}: parts must be in strictly ascending order"),
            ));
        }
        parts.push((name, &body[..len]));
        rest = &body[len..];
    }
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> ItemFile {
        let eid = "ab".repeat(32);
        ItemFile {
            parts: vec![
                ("record".into(), b"guwah/item/v1\nx y\n".to_vec()),
                (
                    "receipt.tlog-proof".into(),
                    b"c2sp.org/tlog-proof@v1\n".to_vec(),
                ),
                (
                    format!("events/{eid}/record"),
                    b"part record 3\n\n".to_vec(),
                ),
                ("fields".into(), Vec::new()),
            ],
        }
    }

    #[test]
    fn round_trips_in_canonical_order() {
        let f = sample();
        let bytes = f.encode();
        let back = ItemFile::parse(&bytes).unwrap();
        let mut want = f.parts.clone();
        want.sort();
        assert_eq!(back.parts, want);
        assert_eq!(back.encode(), bytes);
        assert!(bytes.starts_with(b"guwah/item-file/v1\npart events/abab"));
    }

    #[test]
    fn refuses_anything_not_canonical() {
        let good = sample().encode();
        let text = String::from_utf8(good.clone()).unwrap();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (good[..good.len() - 1].to_vec(), "truncated"),
            ([&good[..], b"x"].concat(), "expected a \"part"),
            (
                text.replacen("guwah/item-file/v1", "guwah/item-file/v2", 1)
                    .into_bytes(),
                "does not start",
            ),
            (
                text.replacen("part fields 0", "part fields 00", 1)
                    .into_bytes(),
                "canonical decimal",
            ),
            (
                text.replacen("part fields 0", "part notes 0", 1)
                    .into_bytes(),
                "not part of the package format",
            ),
            (
                text.replacen("part fields 0", "part ../fields 0", 1)
                    .into_bytes(),
                "not part of the package format",
            ),
            (
                b"guwah/item-file/v1\npart record 0\npart fields 0\n".to_vec(),
                "strictly ascending",
            ),
            (
                b"guwah/item-file/v1\npart record 0\npart record 0\n".to_vec(),
                "strictly ascending",
            ),
            (
                b"guwah/item-file/v1\npart record 99999999999999999999999\n".to_vec(),
                "canonical decimal",
            ),
        ];
        for (bytes, want) in cases {
            let e = ItemFile::parse(&bytes).unwrap_err().to_string();
            assert!(e.contains(want), "{want:?} not in {e:?}");
        }
        assert_eq!(
            ItemFile::parse(b"guwah/item-file/v1\n").unwrap().parts,
            vec![]
        );
    }

    #[test]
    fn part_names() {
        let eid = "0f".repeat(32);
        for ok in ["record", "fields", "receipt.tlog-proof"] {
            assert!(is_part_name(ok));
            assert!(is_part_name(&format!("events/{eid}/{ok}")));
        }
        for bad in [
            "",
            "events",
            "events/x/record",
            "record/",
            "events/{eid}/events/{eid}/record",
        ] {
            assert!(!is_part_name(bad), "{bad}");
        }
    }
}
