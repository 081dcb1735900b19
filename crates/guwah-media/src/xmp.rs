//! A tolerant scan of an XMP packet for the properties we keep. This is
//! not an XML parser: it finds each property by its usual prefix, as an
//! attribute (`xmp:CreateDate="…"`) or an element (`<xmp:CreateDate>…<`,
//! or with `rdf:li` items inside), and decodes XML entities.

use crate::Out;
use crate::util::{norm_datetime, num};

/// Most bytes of a packet scanned.
const MAX_PACKET: usize = 2 * 1024 * 1024;
/// Most `rdf:li` items kept per property.
const MAX_ITEMS: usize = 64;

const PROPS: [(&str, &str, bool); 22] = [
    ("exif:DateTimeOriginal", "xmp.datetime-original", true),
    ("xmp:CreateDate", "xmp.create-date", true),
    ("photoshop:DateCreated", "xmp.date-created", true),
    ("xmp:ModifyDate", "xmp.modify-date", true),
    ("tiff:Make", "xmp.make", false),
    ("tiff:Model", "xmp.model", false),
    ("exifEX:BodySerialNumber", "xmp.serial", false),
    ("aux:SerialNumber", "xmp.serial", false),
    ("xmp:CreatorTool", "xmp.creator-tool", false),
    ("tiff:Software", "xmp.software", false),
    ("dc:title", "xmp.title", false),
    ("dc:creator", "xmp.creator", false),
    ("dc:description", "xmp.description", false),
    ("dc:subject", "xmp.subject", false),
    ("dc:rights", "xmp.rights", false),
    ("photoshop:City", "xmp.city", false),
    ("photoshop:State", "xmp.state", false),
    ("photoshop:Country", "xmp.country", false),
    ("Iptc4xmpCore:Location", "xmp.location", false),
    ("xmpMM:DocumentID", "xmp.document-id", false),
    (
        "xmpMM:OriginalDocumentID",
        "xmp.original-document-id",
        false,
    ),
    ("pdf:Producer", "xmp.producer", false),
];

/// Scan an XMP packet.
pub(crate) fn parse(packet: &[u8], out: &mut Out) {
    let packet = &packet[..packet.len().min(MAX_PACKET)];
    let s = String::from_utf8_lossy(packet);
    if !s.contains("x:xmpmeta") && !s.contains("rdf:RDF") {
        out.warn("XMP: packet has no x:xmpmeta or rdf:RDF; ignored");
        return;
    }
    for (prop, name, is_date) in PROPS {
        if let Some(v) = property(&s, prop) {
            if is_date {
                if let Some(d) = norm_datetime(&v) {
                    out.set(name, d);
                }
            } else {
                out.set(name, v);
            }
        }
    }
    for (prop, name, neg, max) in [
        ("exif:GPSLatitude", "gps.latitude", 'S', 90.0),
        ("exif:GPSLongitude", "gps.longitude", 'W', 180.0),
    ] {
        if let Some(v) = property(&s, prop) {
            match coord(&v, neg, max) {
                Some(x) => out.set(name, num(x, 10)),
                None => out.warn(format!("XMP: {prop} {v:?} is not a coordinate; ignored")),
            }
        }
    }
}

/// `DDD,MM.mmk` or `DDD,MM,SSk` (k one of N S E W) to signed degrees.
fn coord(v: &str, neg: char, max: f64) -> Option<f64> {
    let v = v.trim();
    let last = v.chars().last()?;
    let (body, sign) = if last.is_ascii_alphabetic() {
        (
            &v[..v.len() - 1],
            if last.eq_ignore_ascii_case(&neg) {
                -1.0
            } else {
                1.0
            },
        )
    } else {
        (v, 1.0)
    };
    let mut x = 0.0;
    let mut div = 1.0;
    for part in body.split(',').take(3) {
        let p: f64 = part.trim().parse().ok()?;
        x += p / div;
        div *= 60.0;
    }
    (x.is_finite() && x.abs() <= max).then_some(sign * x)
}

/// The value of one property, attribute or element form; `xmp:` and
/// `xmpMM:` are also found under their old prefixes `xap:` and `xapMM:`.
fn property(s: &str, prop: &str) -> Option<String> {
    property_as(s, prop).or_else(|| {
        let old = format!("xap{}", prop.strip_prefix("xmp")?);
        property_as(s, &old)
    })
}

fn property_as(s: &str, prop: &str) -> Option<String> {
    // Attribute: prop="…" or prop='…'.
    let mut from = 0;
    while let Some(i) = s[from..].find(prop) {
        let at = from + i;
        from = at + prop.len();
        let before = s[..at].chars().last();
        if !matches!(before, Some(c) if c.is_whitespace()) {
            // Element form: <prop ...>…</prop>
            if before == Some('<')
                && let Some(v) = element(s, at + prop.len(), prop)
            {
                return Some(v);
            }
            continue;
        }
        let rest = s[from..].trim_start();
        if let Some(rest) = rest.strip_prefix('=') {
            let rest = rest.trim_start();
            let q = rest.chars().next()?;
            if q == '"' || q == '\'' {
                let end = rest[1..].find(q)?;
                return Some(unescape(&rest[1..1 + end]));
            }
        }
    }
    None
}

fn element(s: &str, after_name: usize, prop: &str) -> Option<String> {
    let rest = &s[after_name..];
    let open_end = rest.find('>')?;
    if rest[..open_end].ends_with('/') {
        return None;
    }
    let body_start = after_name + open_end + 1;
    let close = format!("</{prop}>");
    let end = s[body_start..].find(&close).map(|e| body_start + e)?;
    let body = &s[body_start..end];
    if !body.contains("<rdf:li") {
        return Some(unescape(body.trim()));
    }
    let mut items = Vec::new();
    let mut from = 0;
    while let Some(i) = body[from..].find("<rdf:li") {
        let st = from + i;
        let Some(gt) = body[st..].find('>') else {
            break;
        };
        let vs = st + gt + 1;
        if body[st..vs].ends_with("/>") {
            from = vs;
            continue;
        }
        let Some(ve) = body[vs..].find("</rdf:li>") else {
            break;
        };
        items.push(unescape(body[vs..vs + ve].trim()));
        from = vs + ve;
        if items.len() >= MAX_ITEMS {
            break;
        }
    }
    items.retain(|i| !i.is_empty());
    (!items.is_empty()).then(|| items.join("\n"))
}

fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(semi) = rest.find(';').filter(|&j| j <= 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let ent = &rest[1..semi];
        let c = match ent {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => ent
                .strip_prefix("#x")
                .and_then(|h| u32::from_str_radix(h, 16).ok())
                .or_else(|| ent.strip_prefix('#').and_then(|d| d.parse().ok()))
                .and_then(char::from_u32),
        };
        match c {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan() {
        let p = br#"<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF><rdf:Description xmp:CreateDate="2005-09-07T15:07:40-07:00" exif:GPSLatitude="43,28.0946N">
        <dc:title><rdf:Alt><rdf:li xml:lang="x-default">Blue &amp; square</rdf:li></rdf:Alt></dc:title>
        <tiff:Make>Canon</tiff:Make></rdf:Description></rdf:RDF></x:xmpmeta>"#;
        let mut out = Out::default();
        parse(p, &mut out);
        let get = |n: &str| out.fields.iter().find(|f| f.0 == n).map(|f| f.1.clone());
        assert_eq!(
            get("xmp.create-date").as_deref(),
            Some("2005-09-07T15:07:40-07:00")
        );
        assert_eq!(get("xmp.title").as_deref(), Some("Blue & square"));
        assert_eq!(get("xmp.make").as_deref(), Some("Canon"));
        assert!(get("gps.latitude").unwrap().starts_with("43.46824333"));
    }
}
