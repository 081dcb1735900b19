//! `bagit.txt`, the bag declaration.

use super::BagFiles;
use super::report::BagReport;
use super::text::lines;

pub(super) struct Declaration {
    pub(super) version: (u32, u32),
    pub(super) encoding: String,
}

fn parse_version(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|c| c.is_ascii_digit());
    if !digits(a) || !digits(b) {
        return None;
    }
    Some((a.parse().ok()?, b.parse().ok()?))
}

pub(super) fn check_declaration(files: &BagFiles, r: &mut BagReport) -> Option<Declaration> {
    const P: &str = "bagit.txt";
    let Some(bytes) = files.tag_contents.get(P) else {
        r.err(P, "missing: every bag must have a bag declaration");
        return None;
    };
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        r.err(
            P,
            "starts with a byte-order mark, which the bag declaration must not contain",
        );
        return None;
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        r.err(P, "not valid UTF-8");
        return None;
    };
    let (mut version, mut encoding) = (None::<String>, None::<String>);
    let mut strict_problems = Vec::new();
    for (n, line) in lines(text).into_iter().enumerate() {
        let n = n + 1;
        if line.trim().is_empty() {
            continue;
        }
        let Some((label, value)) = line.split_once(':') else {
            r.err(P, format!("line {n}: not 'Label: value'"));
            continue;
        };
        if label != label.trim() {
            r.err(
                P,
                format!("line {n}: whitespace around the label {:?}", label.trim()),
            );
        }
        let Some(v) = value.strip_prefix(' ') else {
            r.err(P, format!("line {n}: a single space must follow the ':'"));
            continue;
        };
        if v != v.trim() {
            strict_problems.push(format!(
                "line {n}: whitespace around the value {:?}",
                v.trim()
            ));
        }
        let slot = match label.trim() {
            "BagIt-Version" => &mut version,
            "Tag-File-Character-Encoding" => &mut encoding,
            other => {
                r.warn(P, format!("line {n}: unexpected label {other:?}"));
                continue;
            }
        };
        if slot.is_some() {
            r.err(P, format!("line {n}: {} given twice", label.trim()));
        }
        *slot = Some(v.trim().to_string());
    }
    let Some(v) = version else {
        r.err(P, "missing required BagIt-Version line");
        return None;
    };
    r.version = Some(v.clone());
    let Some(parsed) = parse_version(&v) else {
        r.err(P, format!("BagIt-Version {v:?} is not MAJOR.MINOR"));
        return None;
    };
    for p in strict_problems {
        if parsed >= (1, 0) {
            r.err(P, p)
        } else {
            r.warn(P, p)
        }
    }
    match parsed {
        (0, m) if m >= 93 => {}
        (1, 0) => {}
        (1, _) => r.warn(
            P,
            format!("BagIt-Version {v} is newer than 1.0; checked as 1.0"),
        ),
        _ => {
            r.err(P, format!("unsupported BagIt-Version {v}"));
            return None;
        }
    }
    let Some(encoding) = encoding else {
        r.err(P, "missing required Tag-File-Character-Encoding line");
        return None;
    };
    Some(Declaration {
        version: parsed,
        encoding,
    })
}
