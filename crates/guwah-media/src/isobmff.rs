//! ISO base media files: HEIC/HEIF/AVIF (the `meta` box: `iinf`, `iloc`,
//! `ispe` → the `Exif` and XMP items) and MP4/MOV/3GP/M4A (the `moov` box:
//! `mvhd` times and duration, `tkhd` size, `stsd` codecs, `udta` `©xyz`
//! `©mak` `©mod`, and `meta` `keys`/`ilst` items such as Apple's
//! `com.apple.quicktime.location.ISO6709`).
//!
//! Top-level boxes are walked by seeking; only `ftyp`, `moov` and `meta`
//! are read, each at most [`MAX_MOOV`] / [`MAX_META`] bytes. Inside, the
//! walk follows a fixed path (no open-ended recursion), and every box list
//! stops after [`MAX_BOXES`] boxes.

use crate::util::{be16, be32, be64, iso6709, norm_datetime, num, text, unix_to_rfc3339, utf16};
use crate::{Out, Src, exif, xmp};

const MAX_TOP: usize = 4096;
const MAX_BOXES: usize = 4096;
const MAX_MOOV: u64 = 8 * 1024 * 1024;
const MAX_META: u64 = 4 * 1024 * 1024;
const MAX_ITEM: u64 = 4 * 1024 * 1024;
const MAX_EXTENTS: usize = 64;
/// Seconds from 1904-01-01 (QuickTime epoch) to 1970-01-01.
const EPOCH_1904: i64 = 2_082_844_800;

type Fourcc = [u8; 4];

/// Child boxes of an in-memory box body.
struct Boxes<'a> {
    d: &'a [u8],
    p: usize,
    n: usize,
}

fn boxes(d: &[u8]) -> Boxes<'_> {
    Boxes { d, p: 0, n: 0 }
}

impl<'a> Iterator for Boxes<'a> {
    type Item = (Fourcc, &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        if self.n >= MAX_BOXES {
            return None;
        }
        self.n += 1;
        let size = be32(self.d, self.p)? as u64;
        let typ: Fourcc = self.d.get(self.p + 4..self.p + 8)?.try_into().ok()?;
        let left = (self.d.len() - self.p) as u64;
        let (size, hdr) = match size {
            0 => (left, 8),
            1 => (be64(self.d, self.p + 8)?, 16),
            s => (s, 8),
        };
        if size < hdr {
            return None;
        }
        let end = self.p + size.min(left) as usize;
        let body = self.d.get(self.p + hdr as usize..end)?;
        self.p = end;
        if size > left {
            self.n = MAX_BOXES; // truncated: this is the last one
        }
        Some((typ, body))
    }
}

fn child<'a>(d: &'a [u8], typ: &Fourcc) -> Option<&'a [u8]> {
    boxes(d).find(|(t, _)| t == typ).map(|(_, b)| b)
}

struct Ctx {
    /// `audio` for M4A/M4B, else `media`: the prefix of `ilst` tags.
    tag_prefix: &'static str,
    codecs: Vec<String>,
}

/// Parse an ISO base media file.
pub(crate) fn parse(src: &mut Src, out: &mut Out) {
    let mut ctx = Ctx {
        tag_prefix: "media",
        codecs: Vec::new(),
    };
    let mut off = 0u64;
    let mut n = 0;
    while off < src.len {
        n += 1;
        if n > MAX_TOP {
            out.warn("MP4: too many top-level boxes; stopped");
            break;
        }
        let h = match src.read_upto(off, 16) {
            Ok(h) if h.len() >= 8 => h,
            _ => {
                out.warn(format!("MP4: truncated box header at offset {off}"));
                break;
            }
        };
        let typ: Fourcc = [h[4], h[5], h[6], h[7]];
        let (size, hdr) = match be32(&h, 0).unwrap_or(0) {
            0 => (src.len - off, 8),
            1 => match be64(&h, 8) {
                Some(s) => (s, 16),
                None => {
                    out.warn("MP4: truncated large box header");
                    break;
                }
            },
            s => (s as u64, 8),
        };
        if size < hdr {
            out.warn(format!(
                "MP4: box at offset {off} has invalid size {size}; stopped"
            ));
            break;
        }
        let avail = (src.len - off).min(size);
        if size > src.len - off {
            out.warn(format!(
                "MP4: box {:?} at offset {off} claims {size} bytes, past the end of the file (truncated?)",
                crate::util::latin1(&typ)
            ));
        }
        let body_len = avail - hdr.min(avail);
        let max = match &typ {
            b"ftyp" => 256,
            b"moov" => MAX_MOOV,
            b"meta" => MAX_META,
            _ => 0,
        };
        if max > 0 {
            if body_len > max {
                out.warn(format!(
                    "MP4: '{}' box of {body_len} bytes is too large; skipped",
                    text(&typ)
                ));
            } else {
                match src.read_at(off + hdr, body_len) {
                    Ok(body) => match &typ {
                        b"ftyp" => ftyp(&body, &mut ctx, out),
                        b"moov" => moov(&body, &mut ctx, out),
                        _ => heif_meta(&body, src, out),
                    },
                    Err(e) => out.warn(format!("MP4: {}", e.0)),
                }
            }
        }
        if size > src.len - off {
            break;
        }
        off += size;
    }
    if !ctx.codecs.is_empty() {
        out.set("media.codecs", ctx.codecs.join(", "));
    }
}

fn ftyp(d: &[u8], ctx: &mut Ctx, out: &mut Out) {
    if let Some(b) = d.get(0..4) {
        let brand = text(b).trim().to_string();
        if brand.starts_with("M4A") || brand.starts_with("M4B") {
            ctx.tag_prefix = "audio";
        }
        out.set("media.brand", brand);
    }
}

fn moov(d: &[u8], ctx: &mut Ctx, out: &mut Out) {
    for (t, b) in boxes(d) {
        match &t {
            b"mvhd" => mvhd(b, out),
            b"trak" => trak(b, ctx, out),
            b"udta" => udta(b, ctx, out),
            b"meta" => meta_items(b, ctx, out),
            _ => {}
        }
    }
}

fn mvhd(d: &[u8], out: &mut Out) {
    let v1 = d.first() == Some(&1);
    let (created, modified, scale, dur) = if v1 {
        (be64(d, 4), be64(d, 12), be32(d, 20), be64(d, 24))
    } else {
        (
            be32(d, 4).map(u64::from),
            be32(d, 8).map(u64::from),
            be32(d, 12),
            be32(d, 16).map(|x| if x == u32::MAX { u64::MAX } else { x as u64 }),
        )
    };
    for (name, t) in [("media.created", created), ("media.modified", modified)] {
        if let Some(t) = t.filter(|&t| t > 0 && t < i64::MAX as u64 / 2) {
            let unix = t as i64 - EPOCH_1904;
            // Before 1970 means an unset clock or a 1970-based writer; kept as read.
            out.set(name, unix_to_rfc3339(unix));
        }
    }
    if let (Some(s), Some(d)) = (scale, dur)
        && s > 0
        && d != u64::MAX
    {
        out.set("media.duration", num(d as f64 / s as f64, 6));
    }
}

fn trak(d: &[u8], ctx: &mut Ctx, out: &mut Out) {
    let Some(mdia) = child(d, b"mdia") else {
        return;
    };
    let handler = child(mdia, b"hdlr")
        .and_then(|h| h.get(8..12))
        .unwrap_or_default();
    if handler == b"vide"
        && let Some(tk) = child(d, b"tkhd")
    {
        let at = if tk.first() == Some(&1) { 88 } else { 76 };
        if let (Some(w), Some(h)) = (be32(tk, at), be32(tk, at + 4))
            && w >> 16 > 0
            && h >> 16 > 0
        {
            out.set("image.width", (w >> 16).to_string());
            out.set("image.height", (h >> 16).to_string());
        }
    }
    let stsd = child(mdia, b"minf")
        .and_then(|m| child(m, b"stbl"))
        .and_then(|s| child(s, b"stsd"));
    if let Some(stsd) = stsd {
        for (t, _) in boxes(stsd.get(8..).unwrap_or_default()).take(8) {
            let c = text(&t).trim().to_string();
            if !c.is_empty() && !ctx.codecs.contains(&c) && ctx.codecs.len() < 16 {
                ctx.codecs.push(c);
            }
        }
    }
}

fn udta(d: &[u8], ctx: &mut Ctx, out: &mut Out) {
    for (t, b) in boxes(d) {
        let name = match &t {
            b"\xa9xyz" => "media.location",
            b"\xa9mak" => "media.make",
            b"\xa9mod" => "media.model",
            b"\xa9swr" => "media.software",
            b"\xa9day" => "media.date",
            b"\xa9nam" => "media.title",
            b"\xa9cmt" => "media.comment",
            b"meta" => {
                meta_items(b, ctx, out);
                continue;
            }
            _ => continue,
        };
        // QuickTime international text: u16 length, u16 language, text.
        let v = match (be16(b, 0), b.get(4..)) {
            (Some(n), Some(rest)) if (n as usize) <= rest.len() => text(&rest[..n as usize]),
            _ => text(b),
        };
        set_media(name, &v, out);
    }
}

fn set_media(name: &str, v: &str, out: &mut Out) {
    match name {
        "media.location" => {
            out.set(name, v);
            match iso6709(v) {
                Some((lat, lon, alt)) => {
                    out.set("gps.latitude", num(lat, 10));
                    out.set("gps.longitude", num(lon, 10));
                    if let Some(a) = alt {
                        out.set("gps.altitude", num(a, 3));
                    }
                }
                None => out.warn(format!("MP4: location {v:?} is not ISO 6709; kept as text")),
            }
        }
        "media.creation-date" | "media.date" | "audio.date" => {
            if let Some(d) = norm_datetime(v) {
                out.set(name, d);
            }
        }
        _ => out.set(name, v),
    }
}

/// A `meta` box with `hdlr`, optional `keys` and `ilst` (QuickTime `mdta`
/// keys, or iTunes-style `©nam`… tags).
fn meta_items(d: &[u8], ctx: &mut Ctx, out: &mut Out) {
    // ISO meta is a full box (4 bytes of version and flags); QuickTime's is not.
    let d = if d.get(4..8) == Some(b"hdlr") {
        d
    } else {
        d.get(4..).unwrap_or_default()
    };
    let mut keys: Vec<String> = Vec::new();
    if let Some(k) = child(d, b"keys") {
        let n = be32(k, 4).unwrap_or(0) as usize;
        let mut p = 8;
        for _ in 0..n.min(1024) {
            let Some(size) = be32(k, p).map(|s| s as usize) else {
                break;
            };
            if size < 8 || p + size > k.len() {
                break;
            }
            keys.push(text(&k[p + 8..p + size]));
            p += size;
        }
    }
    let Some(ilst) = child(d, b"ilst") else {
        return;
    };
    for (t, item) in boxes(ilst) {
        let Some(data) = child(item, b"data") else {
            continue;
        };
        let (Some(typ), Some(value)) = (be32(data, 0), data.get(8..)) else {
            continue;
        };
        let v = match typ & 0xFF_FFFF {
            1 => text(value),
            2 => utf16(value, false),
            21 | 22 => match value.len() {
                1 => value[0].to_string(),
                2 => be16(value, 0).unwrap_or(0).to_string(),
                4 => be32(value, 0).unwrap_or(0).to_string(),
                _ => continue,
            },
            0 if &t == b"trkn" => match be16(value, 2) {
                Some(n) => n.to_string(),
                None => continue,
            },
            _ => continue,
        };
        let key_idx = u32::from_be_bytes(t) as usize;
        if key_idx >= 1 && key_idx <= keys.len() {
            let name = match keys[key_idx - 1].as_str() {
                "com.apple.quicktime.location.ISO6709" => "media.location",
                "com.apple.quicktime.make" => "media.make",
                "com.apple.quicktime.model" => "media.model",
                "com.apple.quicktime.software" => "media.software",
                "com.apple.quicktime.creationdate" => "media.creation-date",
                "com.apple.quicktime.content.identifier" => "media.content-id",
                "com.android.version" => "media.android-version",
                "com.android.manufacturer" => "media.make",
                "com.android.model" => "media.model",
                _ => continue,
            };
            set_media(name, &v, out);
            continue;
        }
        let tag = match &t {
            b"\xa9nam" => "title",
            b"\xa9ART" => "artist",
            b"aART" => "album-artist",
            b"\xa9alb" => "album",
            b"\xa9day" => "date",
            b"\xa9gen" => "genre",
            b"\xa9cmt" => "comment",
            b"\xa9too" => "encoder",
            b"\xa9wrt" => "composer",
            b"cprt" => "copyright",
            b"trkn" => "track",
            b"\xa9xyz" => {
                set_media("media.location", &v, out);
                continue;
            }
            _ => continue,
        };
        set_media(&format!("{}.{tag}", ctx.tag_prefix), &v, out);
    }
}

struct Extent {
    method: u16,
    base: u64,
    off: u64,
    len: u64,
}

/// Read an `n`-byte big-endian integer (n in 0, 4, 8).
fn uint_n(d: &[u8], p: &mut usize, n: u8) -> Option<u64> {
    let v = match n {
        0 => 0,
        4 => be32(d, *p)? as u64,
        8 => be64(d, *p)?,
        _ => return None,
    };
    *p += n as usize;
    Some(v)
}

fn iloc(d: &[u8]) -> Option<Vec<(u32, Vec<Extent>)>> {
    let v = *d.first()?;
    let a = *d.get(4)?;
    let b = *d.get(5)?;
    let (off_size, len_size, base_size) = (a >> 4, a & 0xF, b >> 4);
    let index_size = if v == 1 || v == 2 { b & 0xF } else { 0 };
    let mut p = 6;
    let count = if v < 2 {
        let c = be16(d, p)? as u32;
        p += 2;
        c
    } else {
        let c = be32(d, p)?;
        p += 4;
        c
    };
    let mut items = Vec::new();
    for _ in 0..count.min(65_536) {
        let id = if v < 2 {
            p += 2;
            be16(d, p - 2)? as u32
        } else {
            p += 4;
            be32(d, p - 4)?
        };
        let method = if v == 1 || v == 2 {
            p += 2;
            be16(d, p - 2)? & 0xF
        } else {
            0
        };
        p += 2; // data_reference_index
        let base = uint_n(d, &mut p, base_size)?;
        let n = be16(d, p)? as usize;
        p += 2;
        let mut ext = Vec::new();
        for _ in 0..n {
            uint_n(d, &mut p, index_size)?;
            let off = uint_n(d, &mut p, off_size)?;
            let len = uint_n(d, &mut p, len_size)?;
            if ext.len() < MAX_EXTENTS {
                ext.push(Extent {
                    method,
                    base,
                    off,
                    len,
                });
            }
        }
        items.push((id, ext));
    }
    Some(items)
}

/// `iinf`: (item id, item type, content type of `mime` items).
fn iinf(d: &[u8]) -> Vec<(u32, Fourcc, String)> {
    let start = if d.first() == Some(&0) { 6 } else { 8 };
    let mut v = Vec::new();
    for (t, e) in boxes(d.get(start..).unwrap_or_default()) {
        if &t != b"infe" {
            continue;
        }
        let ver = e.first().copied().unwrap_or(0);
        let (id, p) = match ver {
            2 => (be16(e, 4).map(u32::from), 8),
            3 => (be32(e, 4), 10),
            _ => continue,
        };
        let (Some(id), Some(typ)) = (id, e.get(p..p + 4).and_then(|x| <Fourcc>::try_from(x).ok()))
        else {
            continue;
        };
        let mut content = String::new();
        if &typ == b"mime" {
            let rest = e.get(p + 4..).unwrap_or_default();
            let mut parts = rest.split(|&c| c == 0);
            let _name = parts.next();
            content = text(parts.next().unwrap_or_default());
        }
        v.push((id, typ, content));
    }
    v
}

fn heif_meta(d: &[u8], src: &mut Src, out: &mut Out) {
    let d = d.get(4..).unwrap_or_default();
    let infos = child(d, b"iinf").map(iinf).unwrap_or_default();
    let locs = match child(d, b"iloc").map(iloc) {
        Some(Some(l)) => l,
        Some(None) => {
            out.warn("HEIF: truncated item locations (iloc)");
            Vec::new()
        }
        None => Vec::new(),
    };
    let idat = child(d, b"idat");
    // Image size: the largest `ispe` (the primary image, not a tile or thumbnail).
    if let Some(ipco) = child(d, b"iprp").and_then(|p| child(p, b"ipco")) {
        let best = boxes(ipco)
            .filter(|(t, _)| t == b"ispe")
            .filter_map(|(_, b)| Some((be32(b, 4)?, be32(b, 8)?)))
            .max_by_key(|(w, h)| *w as u64 * *h as u64);
        if let Some((w, h)) = best {
            out.set("image.width", w.to_string());
            out.set("image.height", h.to_string());
        }
    }
    for (id, typ, content) in &infos {
        let is_exif = typ == b"Exif";
        let is_xmp = typ == b"mime" && content.contains("rdf+xml");
        if !is_exif && !is_xmp {
            continue;
        }
        let Some((_, ext)) = locs.iter().find(|(i, _)| i == id) else {
            out.warn(format!("HEIF: item {id} has no location"));
            continue;
        };
        let Some(data) = item_data(ext, idat, src, out) else {
            continue;
        };
        if is_xmp {
            xmp::parse(&data, out);
            continue;
        }
        // Exif item: u32 offset to the TIFF header, then the payload.
        let skip = be32(&data, 0).unwrap_or(0) as usize;
        let tiff = data
            .get(4 + skip.min(data.len())..)
            .filter(|t| t.starts_with(b"II*\0") || t.starts_with(b"MM\0*"))
            .or_else(|| {
                let head = &data[..data.len().min(64)];
                (0..head.len().saturating_sub(4))
                    .find(|&i| &head[i..i + 4] == b"II*\0" || &head[i..i + 4] == b"MM\0*")
                    .map(|i| &data[i..])
            });
        match tiff {
            Some(t) => exif::parse(t, out, false),
            None => out.warn("HEIF: Exif item has no TIFF header"),
        }
    }
}

fn item_data(ext: &[Extent], idat: Option<&[u8]>, src: &mut Src, out: &mut Out) -> Option<Vec<u8>> {
    let mut data = Vec::new();
    for e in ext {
        let at = e.base.checked_add(e.off)?;
        if e.len == 0 || data.len() as u64 + e.len > MAX_ITEM {
            out.warn("HEIF: metadata item is empty or too large; skipped");
            return None;
        }
        match e.method {
            0 => match src.read_at(at, e.len) {
                Ok(b) => data.extend_from_slice(&b),
                Err(err) => {
                    out.warn(format!("HEIF: metadata item: {}", err.0));
                    return None;
                }
            },
            1 => {
                let b = idat.and_then(|i| {
                    i.get(usize::try_from(at).ok()?..usize::try_from(at.checked_add(e.len)?).ok()?)
                });
                match b {
                    Some(b) => data.extend_from_slice(b),
                    None => {
                        out.warn("HEIF: metadata item outside idat");
                        return None;
                    }
                }
            }
            _ => {
                out.warn("HEIF: metadata item stored by reference; skipped");
                return None;
            }
        }
    }
    Some(data)
}
