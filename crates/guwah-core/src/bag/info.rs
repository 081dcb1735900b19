//! `bag-info.txt`: its labels, and the checks on `Payload-Oxum` and friends.

use std::collections::{BTreeMap, BTreeSet};

use super::BagFiles;
use super::report::BagReport;
use super::text::lines;

/// Parses `bag-info.txt` text: `Label: value` lines, continuation lines
/// (starting with space or tab) joined with a single space. Returns the
/// elements in order, or the first malformed line's problem.
pub fn parse_bag_info(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (n, line) in lines(text).into_iter().enumerate() {
        let n = n + 1;
        if line.starts_with([' ', '\t']) {
            let Some(last) = out.last_mut() else {
                return Err(format!("line {n}: continuation line before any label"));
            };
            let more = line.trim();
            if !more.is_empty() {
                if !last.1.is_empty() {
                    last.1.push(' ');
                }
                last.1.push_str(more);
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let Some((label, value)) = line.split_once(':') else {
            return Err(format!("line {n}: not 'Label: value'"));
        };
        let label = label.trim();
        if label.is_empty() {
            return Err(format!("line {n}: empty label"));
        }
        out.push((label.to_string(), value.trim().to_string()));
    }
    Ok(out)
}

pub(super) fn parse_bag_info_into(text: &str, r: &mut BagReport) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    match parse_bag_info(text) {
        Ok(els) => {
            for (k, v) in els {
                map.entry(k).or_default().push(v);
            }
        }
        Err(e) => r.err("bag-info.txt", e),
    }
    map
}

fn valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| {
        s.get(r)
            .filter(|t| t.bytes().all(|c| c.is_ascii_digit()))?
            .parse::<u32>()
            .ok()
    };
    match (num(0..4), num(5..7), num(8..10)) {
        (Some(_), Some(m), Some(d)) => (1..=12).contains(&m) && (1..=31).contains(&d),
        _ => false,
    }
}

pub(super) fn check_bag_info(
    files: &BagFiles,
    tolerated_missing: &BTreeSet<String>,
    r: &mut BagReport,
) {
    const P: &str = "bag-info.txt";
    for label in [
        "Bagging-Date",
        "Bag-Size",
        "Payload-Oxum",
        "Bag-Group-Identifier",
        "Bag-Count",
    ] {
        if r.info_values(label).len() > 1 {
            r.warn(P, format!("{label} appears more than once"));
        }
    }
    for d in r
        .info_values("Bagging-Date")
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>()
    {
        if !valid_date(&d) {
            r.warn(P, format!("Bagging-Date {d:?} is not YYYY-MM-DD"));
        }
    }
    let oxums: Vec<String> = r
        .info_values("Payload-Oxum")
        .into_iter()
        .map(str::to_string)
        .collect();
    if let Some(ox) = oxums.first() {
        let parsed = ox
            .split_once('.')
            .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)));
        let Some((bytes, count)) = parsed else {
            r.err(
                P,
                format!("Payload-Oxum {ox:?} is not OCTETCOUNT.STREAMCOUNT"),
            );
            return;
        };
        let (mut have_bytes, mut have_count) = (0u64, tolerated_missing.len() as u64);
        for (p, d) in &files.files {
            if p.starts_with("data/") {
                have_bytes = have_bytes.saturating_add(d.size);
                have_count += 1;
            }
        }
        if (bytes, count) != (have_bytes, have_count) {
            r.err(
                P,
                format!(
                    "Payload-Oxum {ox} says {count} files of {bytes} bytes in all; \
                     the payload has {have_count} files of {have_bytes} bytes"
                ),
            );
        }
    }
}
