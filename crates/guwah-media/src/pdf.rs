//! PDF, best effort: the version, the document information dictionary
//! (found through the trailer's `/Info N G R`, else the last dictionary
//! with a `/Producer` or `/CreationDate`), and an uncompressed XMP packet.
//! Only the first [`HEAD`] and last [`TAIL`] bytes are read. Information in
//! compressed object streams is not read.

use crate::util::{latin1, norm_zone, utf16};
use crate::{Out, Src, xmp};

const HEAD: u64 = 4 * 1024 * 1024;
const TAIL: u64 = 1024 * 1024;
const MAX_DICT: usize = 64 * 1024;

/// Parse a PDF file.
pub(crate) fn parse(src: &mut Src, out: &mut Out) {
    let head = match src.read_upto(0, HEAD) {
        Ok(h) => h,
        Err(e) => {
            out.warn(format!("PDF: {}", e.0));
            return;
        }
    };
    let tail = if src.len > HEAD {
        src.read_upto(src.len - TAIL.min(src.len - HEAD), TAIL)
            .unwrap_or_default()
    } else {
        Vec::new()
    };
    if !head.starts_with(b"%PDF-") {
        out.warn("PDF: no %PDF- header; read as PDF anyway");
    }
    if let Some(v) = head.get(5..8).filter(|v| v[1] == b'.') {
        out.set("pdf.version", latin1(v));
    }
    let bufs: [&[u8]; 2] = [&tail, &head];
    if bufs.iter().any(|b| find_last(b, b"/Encrypt").is_some()) {
        out.warn("PDF: encrypted; document information not read");
    } else {
        let info = info_ref(&bufs)
            .and_then(|(n, g)| bufs.iter().find_map(|b| find_object(b, n, g)))
            .or_else(|| {
                bufs.iter().find_map(|b| {
                    let k =
                        find_last(b, b"/Producer").or_else(|| find_last(b, b"/CreationDate"))?;
                    let st = find_last(&b[..k], b"<<")?;
                    Some(&b[st..])
                })
            });
        match info {
            Some(d) => info_dict(d, out),
            None => out.warn("PDF: no document information dictionary found (it may be in a compressed object stream)"),
        }
    }
    for b in bufs {
        if let Some(st) = find_last(b, b"<x:xmpmeta") {
            let end = find_from(b, st, b"</x:xmpmeta>").map_or(b.len(), |e| e + 12);
            xmp::parse(&b[st..end], out);
            break;
        }
    }
}

fn find_from(h: &[u8], from: usize, n: &[u8]) -> Option<usize> {
    let (&first, _) = n.split_first()?;
    let mut i = from;
    while i < h.len() {
        let j = i + h[i..].iter().position(|&c| c == first)?;
        if h[j..].starts_with(n) {
            return Some(j);
        }
        i = j + 1;
    }
    None
}

fn find_last(h: &[u8], n: &[u8]) -> Option<usize> {
    let (&first, _) = n.split_first()?;
    let mut end = h.len();
    while end > 0 {
        let j = h[..end].iter().rposition(|&c| c == first)?;
        if h[j..].starts_with(n) {
            return Some(j);
        }
        end = j;
    }
    None
}

/// `/Info N G R` from the last trailer.
fn info_ref(bufs: &[&[u8]]) -> Option<(u32, u32)> {
    for b in bufs {
        let Some(i) = find_last(b, b"/Info") else {
            continue;
        };
        let rest = &b[i + 5..b.len().min(i + 40)];
        let s = latin1(rest);
        let mut it = s.split_whitespace();
        let (n, g, r) = (it.next()?, it.next()?, it.next()?);
        if r.starts_with('R') {
            return Some((n.parse().ok()?, g.parse().ok()?));
        }
    }
    None
}

/// The bytes after the last `N G obj`.
fn find_object(b: &[u8], n: u32, g: u32) -> Option<&[u8]> {
    let pat = format!("{n} {g} obj");
    let mut from = b.len();
    loop {
        let i = find_last(&b[..from], pat.as_bytes())?;
        if i == 0 || !b[i - 1].is_ascii_digit() {
            return Some(&b[i + pat.len()..]);
        }
        from = i;
    }
}

fn info_dict(d: &[u8], out: &mut Out) {
    let Some(st) = find_from(d, 0, b"<<") else {
        return;
    };
    let d = &d[st + 2..d.len().min(st + MAX_DICT)];
    let mut p = 0;
    let mut depth = 0;
    while p < d.len() {
        match d[p] {
            b'>' if d.get(p + 1) == Some(&b'>') => {
                if depth == 0 {
                    return;
                }
                depth -= 1;
                p += 2;
            }
            b'<' if d.get(p + 1) == Some(&b'<') => {
                depth += 1;
                p += 2;
            }
            b'/' if depth == 0 => {
                let ks = p + 1;
                p = ks;
                while p < d.len() && !b"/()<>[] \r\n\t".contains(&d[p]) {
                    p += 1;
                }
                let key = latin1(&d[ks..p]);
                while p < d.len() && d[p].is_ascii_whitespace() {
                    p += 1;
                }
                let (value, next) = match d.get(p) {
                    Some(b'(') => literal(d, p + 1),
                    Some(b'<') if d.get(p + 1) != Some(&b'<') => hex(d, p + 1),
                    _ => (None, p),
                };
                p = next.max(p);
                let Some(v) = value.map(|v| decode(&v)) else {
                    continue;
                };
                let name = match key.as_str() {
                    "Title" => "pdf.title",
                    "Author" => "pdf.author",
                    "Subject" => "pdf.subject",
                    "Keywords" => "pdf.keywords",
                    "Creator" => "pdf.creator",
                    "Producer" => "pdf.producer",
                    "CreationDate" => {
                        out.set("pdf.created", pdf_date(&v));
                        continue;
                    }
                    "ModDate" => {
                        out.set("pdf.modified", pdf_date(&v));
                        continue;
                    }
                    _ => continue,
                };
                out.set(name, v);
            }
            b'(' => p = literal(d, p + 1).1,
            _ => p += 1,
        }
    }
}

/// A literal string starting after `(`: (bytes, index after `)`).
fn literal(d: &[u8], mut p: usize) -> (Option<Vec<u8>>, usize) {
    let mut v = Vec::new();
    let mut depth = 0;
    while p < d.len() {
        let c = d[p];
        p += 1;
        match c {
            b'\\' => {
                let Some(&e) = d.get(p) else { break };
                p += 1;
                match e {
                    b'n' => v.push(b'\n'),
                    b'r' => v.push(b'\r'),
                    b't' => v.push(b'\t'),
                    b'b' => v.push(8),
                    b'f' => v.push(12),
                    b'\r' | b'\n' => {
                        if e == b'\r' && d.get(p) == Some(&b'\n') {
                            p += 1;
                        }
                    }
                    b'0'..=b'7' => {
                        let mut x = (e - b'0') as u32;
                        for _ in 0..2 {
                            match d.get(p) {
                                Some(&o @ b'0'..=b'7') => {
                                    x = x * 8 + (o - b'0') as u32;
                                    p += 1;
                                }
                                _ => break,
                            }
                        }
                        v.push(x as u8);
                    }
                    other => v.push(other),
                }
            }
            b'(' => {
                depth += 1;
                v.push(c);
            }
            b')' => {
                if depth == 0 {
                    return (Some(v), p);
                }
                depth -= 1;
                v.push(c);
            }
            _ => v.push(c),
        }
    }
    (None, p)
}

/// A hex string starting after `<`.
fn hex(d: &[u8], mut p: usize) -> (Option<Vec<u8>>, usize) {
    let mut nibbles = Vec::new();
    while p < d.len() {
        let c = d[p];
        p += 1;
        if c == b'>' {
            if nibbles.len() % 2 == 1 {
                nibbles.push(0);
            }
            let v = nibbles.chunks(2).map(|c| c[0] << 4 | c[1]).collect();
            return (Some(v), p);
        }
        if let Some(n) = (c as char).to_digit(16) {
            nibbles.push(n as u8);
        }
    }
    (None, p)
}

fn decode(b: &[u8]) -> String {
    if let Some(r) = b.strip_prefix(b"\xFE\xFF") {
        utf16(r, false)
    } else if let Some(r) = b.strip_prefix(b"\xEF\xBB\xBF") {
        String::from_utf8_lossy(r).into_owned()
    } else {
        latin1(b)
    }
}

/// `D:YYYYMMDDHHmmSSOHH'mm'` (any tail may be missing) to RFC 3339-ish.
fn pdf_date(s: &str) -> String {
    let t = s.trim().trim_start_matches("D:");
    let digits: usize = t.bytes().take_while(u8::is_ascii_digit).count();
    if digits < 4 {
        return s.trim().to_string();
    }
    let part =
        |a: usize, b: usize, def: &'static str| t.get(a..b).filter(|_| digits >= b).unwrap_or(def);
    let mut v = format!(
        "{}-{}-{}T{}:{}:{}",
        part(0, 4, "0000"),
        part(4, 6, "01"),
        part(6, 8, "01"),
        part(8, 10, "00"),
        part(10, 12, "00"),
        part(12, 14, "00")
    );
    let zone = t[digits..].replace('\'', "");
    if let Some(z) = norm_zone(zone.trim()) {
        v.push_str(&z);
    }
    v
}

#[cfg(test)]
mod tests {
    #[test]
    fn info() {
        let pdf = b"%PDF-1.4\n1 0 obj\n<< /Title (Report \\(draft\\)) /Author <FEFF004A006F> /CreationDate (D:20230102030405+01'00') >>\nendobj\ntrailer\n<< /Root 2 0 R /Info 1 0 R >>\n%%EOF";
        let e = crate::extract_bytes("application/pdf", pdf);
        assert_eq!(e.get("pdf.title"), Some("Report (draft)"));
        assert_eq!(e.get("pdf.author"), Some("Jo"));
        assert_eq!(e.get("pdf.created"), Some("2023-01-02T03:04:05+01:00"));
        assert_eq!(e.get("pdf.version"), Some("1.4"));
    }
}
