//! PNG: walk the chunks, reading IHDR (size), tEXt/zTXt/iTXt (text, and
//! XMP in `XML:com.adobe.xmp`), eXIf (EXIF) and tIME.

use std::io::Read;

use crate::util::{be16, be32, latin1, slug};
use crate::{INFLATE_LIMIT, Out, Src, exif, xmp};

const MAX_CHUNKS: usize = 10_000;
/// Most bytes of one metadata chunk read.
const MAX_CHUNK: u32 = 4 * 1024 * 1024;
const XMP_KEY: &str = "XML:com.adobe.xmp";

/// Parse a PNG file.
pub(crate) fn parse(src: &mut Src, out: &mut Out) {
    if src.read_upto(0, 8).ok().as_deref() != Some(b"\x89PNG\r\n\x1a\n") {
        out.warn("PNG: no PNG signature; not read as PNG");
        return;
    }
    let mut off = 8u64;
    for _ in 0..MAX_CHUNKS {
        if off == src.len {
            out.warn("PNG: no IEND chunk");
            return;
        }
        let h = match src.read_at(off, 8) {
            Ok(h) => h,
            Err(e) => {
                out.warn(format!("PNG: {}", e.0));
                return;
            }
        };
        let len = be32(&h, 0).unwrap_or(0);
        let typ = [h[4], h[5], h[6], h[7]];
        if len > 0x7FFF_FFFF {
            out.warn(format!("PNG: chunk at offset {off} has an invalid length"));
            return;
        }
        match &typ {
            b"IEND" => return,
            b"IHDR" | b"tEXt" | b"zTXt" | b"iTXt" | b"eXIf" | b"tIME" => {
                if len > MAX_CHUNK {
                    out.warn(format!(
                        "PNG: {} chunk of {len} bytes skipped",
                        latin1(&typ)
                    ));
                } else {
                    match src.read_at(off + 8, len as u64) {
                        Ok(body) => chunk(&typ, &body, out),
                        Err(e) => {
                            out.warn(format!("PNG: {} chunk: {}", latin1(&typ), e.0));
                            return;
                        }
                    }
                }
            }
            _ => {}
        }
        off += 12 + len as u64;
    }
    out.warn("PNG: too many chunks; stopped");
}

fn chunk(typ: &[u8; 4], d: &[u8], out: &mut Out) {
    match typ {
        b"IHDR" => {
            if let (Some(w), Some(h)) = (be32(d, 0), be32(d, 4)) {
                out.set("image.width", w.to_string());
                out.set("image.height", h.to_string());
            }
        }
        b"tIME" => {
            if let (Some(y), Some(&[mo, da, h, mi, s])) = (
                be16(d, 0),
                d.get(2..7)
                    .map(|x| <[u8; 5]>::try_from(x).unwrap_or_default())
                    .as_ref(),
            ) {
                out.set(
                    "png.modified",
                    format!("{y:04}-{mo:02}-{da:02}T{h:02}:{mi:02}:{s:02}Z"),
                );
            }
        }
        b"eXIf" => exif::parse(d, out, false),
        b"tEXt" => {
            let (key, rest) = split_nul(d);
            text_field(&latin1(key), latin1(rest), out);
        }
        b"zTXt" => {
            let (key, rest) = split_nul(d);
            if rest.first() == Some(&0) {
                if let Some(t) = inflate(&rest[1..], out) {
                    text_field(&latin1(key), latin1(&t), out);
                }
            } else {
                out.warn("PNG: zTXt with an unknown compression method");
            }
        }
        b"iTXt" => {
            let (key, rest) = split_nul(d);
            let key = String::from_utf8_lossy(key).into_owned();
            let (Some(&compressed), Some(_method)) = (rest.first(), rest.get(1)) else {
                out.warn("PNG: truncated iTXt chunk");
                return;
            };
            let (_lang, rest) = split_nul(rest.get(2..).unwrap_or_default());
            let (_tkey, body) = split_nul(rest);
            let body = if compressed == 1 {
                match inflate(body, out) {
                    Some(b) => b,
                    None => return,
                }
            } else {
                body.to_vec()
            };
            if key == XMP_KEY {
                xmp::parse(&body, out);
            } else {
                text_field(&key, String::from_utf8_lossy(&body).into_owned(), out);
            }
        }
        _ => {}
    }
}

fn split_nul(d: &[u8]) -> (&[u8], &[u8]) {
    match d.iter().position(|&c| c == 0) {
        Some(i) => (&d[..i], &d[i + 1..]),
        None => (d, &[]),
    }
}

fn text_field(key: &str, value: String, out: &mut Out) {
    if key == XMP_KEY {
        xmp::parse(value.as_bytes(), out);
        return;
    }
    let k = slug(key, 64 - "png.text.".len());
    if k.is_empty() {
        return;
    }
    out.set(&format!("png.text.{k}"), value);
}

/// Inflate zlib data, at most [`INFLATE_LIMIT`] bytes out.
pub(crate) fn inflate(d: &[u8], out: &mut Out) -> Option<Vec<u8>> {
    let mut buf = Vec::new();
    let r = flate2::read::ZlibDecoder::new(d)
        .take(INFLATE_LIMIT as u64 + 1)
        .read_to_end(&mut buf);
    if let Err(e) = r {
        out.warn(format!("PNG: compressed text does not inflate: {e}"));
        return None;
    }
    if buf.len() > INFLATE_LIMIT {
        out.warn(format!(
            "PNG: compressed text inflates past {} KiB (a decompression bomb?); cut",
            INFLATE_LIMIT / 1024
        ));
        buf.truncate(INFLATE_LIMIT);
    }
    Some(buf)
}
