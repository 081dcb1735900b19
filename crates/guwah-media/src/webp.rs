//! WebP: walk the RIFF chunks, reading VP8X/VP8/VP8L (size), EXIF and XMP.

use crate::util::{le16, le32};
use crate::{Out, Src, exif, xmp};

const MAX_CHUNKS: usize = 10_000;
const MAX_CHUNK: u32 = 4 * 1024 * 1024;

/// Parse a WebP file.
pub(crate) fn parse(src: &mut Src, out: &mut Out) {
    match src.read_upto(0, 12) {
        Ok(h) if h.starts_with(b"RIFF") && h.get(8..12) == Some(b"WEBP") => {}
        _ => {
            out.warn("WebP: no RIFF/WEBP header; not read as WebP");
            return;
        }
    }
    let mut off = 12u64;
    for _ in 0..MAX_CHUNKS {
        if off + 8 > src.len {
            return;
        }
        let h = match src.read_at(off, 8) {
            Ok(h) => h,
            Err(e) => {
                out.warn(format!("WebP: {}", e.0));
                return;
            }
        };
        let len = le32(&h, 4).unwrap_or(0);
        let typ = &h[0..4];
        if matches!(typ, b"VP8X" | b"VP8 " | b"VP8L" | b"EXIF" | b"XMP ") {
            let n = if matches!(typ, b"EXIF" | b"XMP ") {
                len
            } else {
                len.min(32)
            };
            if n > MAX_CHUNK {
                out.warn("WebP: metadata chunk too large; skipped");
            } else {
                match src.read_at(off + 8, n as u64) {
                    Ok(d) => chunk(typ, &d, out),
                    Err(e) => {
                        out.warn(format!("WebP: {}", e.0));
                        return;
                    }
                }
            }
        }
        off += 8 + len as u64 + (len % 2) as u64;
    }
    out.warn("WebP: too many chunks; stopped");
}

fn chunk(typ: &[u8], d: &[u8], out: &mut Out) {
    let u24 = |o: usize| {
        Some(u32::from_le_bytes([
            *d.get(o)?,
            *d.get(o + 1)?,
            *d.get(o + 2)?,
            0,
        ]))
    };
    match typ {
        b"VP8X" => {
            if let (Some(w), Some(h)) = (u24(4), u24(7)) {
                out.set("image.width", (w + 1).to_string());
                out.set("image.height", (h + 1).to_string());
            }
        }
        b"VP8 " => {
            if d.get(3..6) == Some(b"\x9d\x01\x2a")
                && let (Some(w), Some(h)) = (le16(d, 6), le16(d, 8))
            {
                out.set("image.width", (w & 0x3FFF).to_string());
                out.set("image.height", (h & 0x3FFF).to_string());
            }
        }
        b"VP8L" => {
            if d.first() == Some(&0x2F)
                && let Some(b) = le32(d, 1)
            {
                out.set("image.width", ((b & 0x3FFF) + 1).to_string());
                out.set("image.height", (((b >> 14) & 0x3FFF) + 1).to_string());
            }
        }
        b"EXIF" => exif::parse(d.strip_prefix(b"Exif\0\0").unwrap_or(d), out, false),
        b"XMP " => xmp::parse(d, out),
        _ => {}
    }
}
