//! IPTC IIM inside a Photoshop image resource block (JPEG APP13,
//! resource `8BIM` 0x0404).

use crate::Out;
use crate::util::{be16, be32, text};

const MAX_RESOURCES: usize = 512;
const MAX_DATASETS: usize = 4096;

/// Parse an APP13 body: `Photoshop 3.0\0` then `8BIM` resources.
pub(crate) fn parse_photoshop(body: &[u8], out: &mut Out) {
    let Some(mut p) = body.strip_prefix(b"Photoshop 3.0\0").map(|_| 14usize) else {
        return;
    };
    for _ in 0..MAX_RESOURCES {
        if body.get(p..p + 4) != Some(b"8BIM") {
            return;
        }
        let Some(id) = be16(body, p + 4) else { return };
        let name_len = body.get(p + 6).copied().unwrap_or(0) as usize;
        let mut q = p + 6 + 1 + name_len;
        if q % 2 == 1 {
            q += 1;
        }
        let Some(size) = be32(body, q) else {
            out.warn("IPTC: truncated Photoshop resource");
            return;
        };
        let start = q + 4;
        let Some(data) = start
            .checked_add(size as usize)
            .and_then(|end| body.get(start..end))
        else {
            out.warn("IPTC: Photoshop resource runs past its segment");
            return;
        };
        if id == 0x0404 {
            parse_iim(data, out);
        }
        p = start + data.len() + data.len() % 2;
    }
}

/// Parse IPTC IIM datasets; keep record 2 (application).
pub(crate) fn parse_iim(d: &[u8], out: &mut Out) {
    let mut p = 0;
    let mut keywords: Vec<String> = Vec::new();
    let (mut date, mut time) = (None, None);
    for _ in 0..MAX_DATASETS {
        if d.get(p) != Some(&0x1C) {
            break;
        }
        let (Some(&rec), Some(&ds), Some(len)) = (d.get(p + 1), d.get(p + 2), be16(d, p + 3))
        else {
            out.warn("IPTC: truncated dataset");
            break;
        };
        if len & 0x8000 != 0 {
            out.warn("IPTC: extended dataset length; stopped");
            break;
        }
        let Some(v) = d.get(p + 5..p + 5 + len as usize) else {
            out.warn("IPTC: dataset runs past its block");
            break;
        };
        p += 5 + len as usize;
        if rec != 2 {
            continue;
        }
        let s = text(v);
        let name = match ds {
            5 => "iptc.object-name",
            25 => {
                if keywords.len() < 64 {
                    keywords.push(s);
                }
                continue;
            }
            55 => {
                date = Some(s);
                continue;
            }
            60 => {
                time = Some(s);
                continue;
            }
            80 => "iptc.byline",
            90 => "iptc.city",
            92 => "iptc.sublocation",
            95 => "iptc.province-state",
            101 => "iptc.country",
            105 => "iptc.headline",
            110 => "iptc.credit",
            115 => "iptc.source",
            116 => "iptc.copyright",
            120 => "iptc.caption",
            122 => "iptc.writer",
            _ => continue,
        };
        out.set(name, s);
    }
    if !keywords.is_empty() {
        out.set("iptc.keywords", keywords.join("\n"));
    }
    if let Some(d) = date.filter(|d| d.len() == 8 && d.bytes().all(|c| c.is_ascii_digit())) {
        let mut v = format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..]);
        if let Some(t) = time.filter(|t| {
            t.len() >= 6 && t.is_char_boundary(6) && t[..6].bytes().all(|c| c.is_ascii_digit())
        }) {
            v.push_str(&format!("T{}:{}:{}", &t[..2], &t[2..4], &t[4..6]));
            if let Some(z) = crate::util::norm_zone(&t[6..]) {
                v.push_str(&z);
            }
        }
        out.set("iptc.date-created", v);
    }
}
