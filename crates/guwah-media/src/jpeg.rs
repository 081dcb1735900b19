//! JPEG: walk the marker segments up to the start of scan, reading APP1
//! (EXIF, XMP), APP13 (IPTC) and the frame header (size).

use crate::util::be16;
use crate::{Out, Src, exif, iptc, xmp};

const MAX_SEGMENTS: usize = 1000;
const XMP_SIG: &[u8] = b"http://ns.adobe.com/xap/1.0/\0";

/// Parse a JPEG file.
pub(crate) fn parse(src: &mut Src, out: &mut Out) {
    if src.read_upto(0, 3).ok().as_deref() != Some(b"\xFF\xD8\xFF") {
        out.warn("JPEG: does not start with a JPEG marker; not read as JPEG");
        return;
    }
    let mut off = 2u64;
    for _ in 0..MAX_SEGMENTS {
        let h = match src.read_at(off, 4) {
            Ok(h) => h,
            Err(e) => {
                out.warn(format!("JPEG: ends before the image data ({})", e.0));
                return;
            }
        };
        if h[0] != 0xFF {
            out.warn(format!("JPEG: no marker at offset {off}; stopped"));
            return;
        }
        let marker = h[1];
        if marker == 0xFF {
            off += 1; // fill byte
            continue;
        }
        if marker == 0xD8 || marker == 0x01 || (0xD0..=0xD7).contains(&marker) {
            off += 2;
            continue;
        }
        if marker == 0xD9 || marker == 0xDA {
            return; // end of image, or start of scan: no metadata after
        }
        let len = be16(&h, 2).unwrap_or(0) as u64;
        if len < 2 {
            out.warn(format!(
                "JPEG: segment at offset {off} has length {len}; stopped"
            ));
            return;
        }
        let wanted = matches!(marker, 0xE1 | 0xED)
            || matches!(marker, 0xC0..=0xCF if !matches!(marker, 0xC4 | 0xC8 | 0xCC));
        if wanted {
            match src.read_at(off + 4, len - 2) {
                Ok(body) => segment(marker, &body, out),
                Err(e) => {
                    out.warn(format!("JPEG: segment at offset {off}: {}", e.0));
                    return;
                }
            }
        }
        off += 2 + len;
    }
    out.warn("JPEG: too many segments before the image data; stopped");
}

fn segment(marker: u8, body: &[u8], out: &mut Out) {
    match marker {
        0xE1 if body.starts_with(b"Exif\0") => {
            // "Exif\0\0", sometimes "Exif\0\xff".
            exif::parse(body.get(6..).unwrap_or_default(), out, false);
        }
        0xE1 if body.starts_with(XMP_SIG) => xmp::parse(&body[XMP_SIG.len()..], out),
        0xED => iptc::parse_photoshop(body, out),
        0xC0..=0xCF => {
            if let (Some(h), Some(w)) = (be16(body, 1), be16(body, 3)) {
                out.set("image.width", w.to_string());
                out.set("image.height", h.to_string());
            }
        }
        _ => {}
    }
}
