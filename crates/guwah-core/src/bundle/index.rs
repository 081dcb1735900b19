//! `guwah/package.txt`: the package's version, origin, checkpoint size
//! and items.

use std::collections::BTreeSet;

use super::text::{FormatError, clip, ferr, lines_of};
use super::{PACKAGE_V1, PACKAGE_V2, is_payload_name};
use crate::merkle::Hash;
use crate::note;
use crate::record::{hex32, parse_hex32};

/// `guwah/package.txt`: what the package holds.
///
/// ```text
/// guwah/package/v1
/// origin <log origin>
/// checkpoint-size <decimal>
/// item <64 hex item id> <payload path, data/...>     one line per item, in log order
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageIndex {
    /// The format version: 1 (a folder per item) or 2 (a file per item).
    pub version: u32,
    /// The log's origin.
    pub origin: String,
    /// The size of the checkpoint every receipt is against.
    pub checkpoint_size: u64,
    /// Each item: its id and the path of its original in `data/`.
    pub items: Vec<(Hash, String)>,
}

impl PackageIndex {
    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut s = format!(
            "guwah/package/v{}\norigin {}\ncheckpoint-size {}\n",
            self.version, self.origin, self.checkpoint_size
        );
        for (id, path) in &self.items {
            s.push_str(&format!("item {} {path}\n", hex32(id)));
        }
        s.into_bytes()
    }

    /// Parse strictly (canonical form only).
    pub fn parse(bytes: &[u8]) -> Result<PackageIndex, FormatError> {
        let lines = lines_of(bytes)?;
        let mut it = lines.iter().enumerate().map(|(i, l)| (i + 1, *l));
        let version = match it.next() {
            Some((_, PACKAGE_V1)) => 1,
            Some((_, PACKAGE_V2)) => 2,
            Some((n, other)) => {
                return Err(ferr(
                    n,
                    format!(
                        "expected {PACKAGE_V2:?} or {PACKAGE_V1:?}, found {:?} (a package version this verifier does not know?)",
                        clip(other)
                    ),
                ));
            }
            None => return Err(ferr(1, "empty")),
        };
        let (n, origin) = it.next().ok_or_else(|| ferr(2, "missing origin line"))?;
        let origin = origin
            .strip_prefix("origin ")
            .filter(|o| note::is_valid_key_name(o))
            .ok_or_else(|| ferr(n, "expected \"origin <log origin>\""))?;
        let (n, size) = it
            .next()
            .ok_or_else(|| ferr(3, "missing checkpoint-size line"))?;
        let checkpoint_size = size
            .strip_prefix("checkpoint-size ")
            .and_then(|v| v.parse::<u64>().ok().filter(|x| x.to_string() == v))
            .ok_or_else(|| ferr(n, "expected \"checkpoint-size <decimal>\""))?;
        let mut items = Vec::new();
        let mut seen = BTreeSet::new();
        for (n, line) in it {
            let mut parts = line.split(' ');
            let (Some("item"), Some(id), Some(path), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(ferr(
                    n,
                    format!("expected \"item <id> <data/...>\", found {:?}", clip(line)),
                ));
            };
            let id = parse_hex32(id)
                .ok_or_else(|| ferr(n, format!("item id {:?} is not 64 hex digits", clip(id))))?;
            if !is_payload_name(path) {
                return Err(ferr(
                    n,
                    format!(
                        "payload path {:?} is not data/<[A-Za-z0-9._-]+>",
                        clip(path)
                    ),
                ));
            }
            if !seen.insert(id) {
                return Err(ferr(n, format!("item {} is listed twice", hex32(&id))));
            }
            items.push((id, path.to_owned()));
        }
        Ok(PackageIndex {
            version,
            origin: origin.to_owned(),
            checkpoint_size,
            items,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_index_round_trips() {
        let mut p = PackageIndex {
            version: 1,
            origin: "example.org/log".into(),
            checkpoint_size: 12,
            items: vec![([1; 32], "data/0101-photo.jpg".into())],
        };
        let b = p.encode();
        assert_eq!(PackageIndex::parse(&b).unwrap(), p);
        p.version = 2;
        let b = p.encode();
        assert!(b.starts_with(b"guwah/package/v2\n"));
        assert_eq!(PackageIndex::parse(&b).unwrap(), p);
        let bad = String::from_utf8(b).unwrap();
        for c in [
            bad.replace("v2", "v3"),
            bad.replace("size 12", "size 012"),
            bad.replace("data/", "../"),
            bad.replace("photo.jpg", "a b"),
            bad.clone() + bad.lines().last().unwrap() + "\n",
        ] {
            assert!(PackageIndex::parse(c.as_bytes()).is_err(), "accepted {c}");
        }
    }
}
