//! The text a bag writer needs: `bagit.txt`, manifests, `bag-info.txt`, `Payload-Oxum`.

use super::Algorithm;
use super::text::{encode_path, lines};

/// The bag declaration guwah writes: BagIt 1.0, UTF-8 tag files.
pub fn bagit_txt() -> &'static str {
    "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
}

/// A manifest's text: one `digest  path` line per entry, sorted by path,
/// paths percent-encoded per RFC 8493 §2.1.3, digests lowercased. The
/// algorithm is the manifest's; entries whose digest has the wrong length
/// for it are still written (the validator will flag them).
pub fn manifest_text<P: AsRef<str>, D: AsRef<str>>(
    algorithm: Algorithm,
    entries: &[(P, D)],
) -> String {
    let mut sorted: Vec<(&str, String)> = entries
        .iter()
        .map(|(p, d)| (p.as_ref(), d.as_ref().to_ascii_lowercase()))
        .collect();
    sorted.sort();
    let mut out = String::with_capacity(sorted.len() * (algorithm.hex_len() + 40));
    for (p, d) in sorted {
        out.push_str(&d);
        out.push_str("  ");
        out.push_str(&encode_path(p));
        out.push('\n');
    }
    out
}

/// `bag-info.txt` text: `Label: value` lines in the order given. Line breaks
/// inside a value become continuation lines; in a label, and `:` in a label,
/// they become `-` (labels cannot hold them).
pub fn bag_info_text<L: AsRef<str>, V: AsRef<str>>(fields: &[(L, V)]) -> String {
    let mut out = String::new();
    for (l, v) in fields {
        let label: String = l
            .as_ref()
            .trim()
            .chars()
            .map(|c| {
                if matches!(c, ':' | '\r' | '\n') {
                    '-'
                } else {
                    c
                }
            })
            .collect();
        out.push_str(&label);
        out.push(':');
        let mut first = true;
        for part in lines(v.as_ref()) {
            out.push_str(if first { " " } else { "\n  " });
            out.push_str(part.trim());
            first = false;
        }
        if first {
            out.push(' ');
        }
        out.push('\n');
    }
    out
}

/// A `Payload-Oxum` value: `OCTETCOUNT.STREAMCOUNT`.
pub fn payload_oxum(bytes: u64, count: u64) -> String {
    format!("{bytes}.{count}")
}
