//! The TIFF IFD walker behind every EXIF block: JPEG APP1, TIFF files,
//! the WebP `EXIF` chunk, the HEIC `Exif` item and the PNG `eXIf` chunk.
//! The maker note, if it is one we read, goes to [`makernote`].
//!
//! Bounds: every offset is checked against the block; at most
//! [`MAX_IFDS`] directories of at most [`MAX_ENTRIES`] entries are read,
//! and a directory offset seen before is not read again.

use crate::util::{norm_datetime, norm_zone, num, text};
use crate::{Out, Src, makernote};

const MAX_IFDS: usize = 8;
const MAX_ENTRIES: usize = 1024;
/// Most bytes of a TIFF file read for its directories.
const TIFF_FILE_HEAD: u64 = 8 * 1024 * 1024;

#[derive(Clone, Copy)]
struct Tiff<'a> {
    d: &'a [u8],
    le: bool,
}

#[derive(Clone, Copy)]
struct Entry<'a> {
    tag: u16,
    typ: u16,
    count: u32,
    /// The value bytes (inline or at their offset), bounds-checked.
    data: Option<&'a [u8]>,
}

impl<'a> Tiff<'a> {
    fn u16(&self, off: usize) -> Option<u16> {
        let b: [u8; 2] = self.d.get(off..off.checked_add(2)?)?.try_into().ok()?;
        Some(if self.le {
            u16::from_le_bytes(b)
        } else {
            u16::from_be_bytes(b)
        })
    }

    fn u32(&self, off: usize) -> Option<u32> {
        let b: [u8; 4] = self.d.get(off..off.checked_add(4)?)?.try_into().ok()?;
        Some(if self.le {
            u32::from_le_bytes(b)
        } else {
            u32::from_be_bytes(b)
        })
    }

    fn entries(&self, off: usize, out: &mut Out, what: &str) -> Vec<Entry<'a>> {
        let Some(n) = self.u16(off) else {
            out.warn(format!(
                "EXIF: {what} directory offset {off} is outside the block"
            ));
            return Vec::new();
        };
        let mut n = n as usize;
        if n > MAX_ENTRIES {
            out.warn(format!(
                "EXIF: {what} directory claims {n} entries; read {MAX_ENTRIES}"
            ));
            n = MAX_ENTRIES;
        }
        let mut v = Vec::with_capacity(n.min(64));
        for i in 0..n {
            let e = off + 2 + i * 12;
            let (Some(tag), Some(typ), Some(count)) =
                (self.u16(e), self.u16(e + 2), self.u32(e + 4))
            else {
                out.warn(format!("EXIF: {what} directory is truncated"));
                break;
            };
            let size = type_size(typ).and_then(|s| s.checked_mul(count as usize));
            let data = size.and_then(|size| {
                if size <= 4 {
                    self.d.get(e + 8..e + 8 + size)
                } else {
                    let at = self.u32(e + 8)? as usize;
                    self.d.get(at..at.checked_add(size)?)
                }
            });
            v.push(Entry {
                tag,
                typ,
                count,
                data,
            });
        }
        v
    }

    fn uint(&self, e: &Entry, i: usize) -> Option<u32> {
        let d = e.data?;
        match e.typ {
            1 | 7 => d.get(i).map(|&b| b as u32),
            3 => Tiff { d, le: self.le }.u16(i * 2).map(u32::from),
            4 | 13 => Tiff { d, le: self.le }.u32(i * 4),
            _ => None,
        }
    }

    fn rational(&self, e: &Entry, i: usize) -> Option<f64> {
        let d = e.data?;
        let t = Tiff { d, le: self.le };
        let (n, den) = (t.u32(i * 8)?, t.u32(i * 8 + 4)?);
        if den == 0 {
            return None;
        }
        Some(match e.typ {
            5 => n as f64 / den as f64,
            10 => n as i32 as f64 / den as i32 as f64,
            _ => return None,
        })
    }

    fn ascii(&self, e: &Entry) -> Option<String> {
        match e.typ {
            2 | 1 | 7 => e.data.map(text),
            _ => None,
        }
    }
}

fn type_size(typ: u16) -> Option<usize> {
    Some(match typ {
        1 | 2 | 6 | 7 => 1,
        3 | 8 => 2,
        4 | 9 | 11 | 13 => 4,
        5 | 10 | 12 => 8,
        _ => return None,
    })
}

/// Parse an EXIF block that starts at a TIFF header (`II*\0` / `MM\0*`).
/// `tiff_file` is set when the block is a whole TIFF file, whose IFD0
/// gives the image size.
pub(crate) fn parse(d: &[u8], out: &mut Out, tiff_file: bool) {
    let le = match d.get(0..4) {
        Some(b"II*\0") => true,
        Some(b"MM\0*") => false,
        _ => {
            out.warn("EXIF: no TIFF header");
            return;
        }
    };
    let t = Tiff { d, le };
    let Some(ifd0) = t.u32(4) else {
        out.warn("EXIF: truncated TIFF header");
        return;
    };
    let mut seen: Vec<usize> = Vec::new();
    let mut visit = |off: usize, out: &mut Out, what: &str| -> Vec<Entry> {
        if seen.contains(&off) || seen.len() >= MAX_IFDS {
            out.warn(format!(
                "EXIF: {what} directory loops or too many directories"
            ));
            return Vec::new();
        }
        seen.push(off);
        t.entries(off, out, what)
    };
    let ifd0 = visit(ifd0 as usize, out, "IFD0");
    let mut exif_ifd = Vec::new();
    let mut gps_ifd = Vec::new();
    for e in &ifd0 {
        match e.tag {
            0x8769 if matches!(e.typ, 4 | 13) => {
                if let Some(off) = t.uint(e, 0) {
                    exif_ifd = visit(off as usize, out, "Exif");
                }
            }
            0x8825 if matches!(e.typ, 4 | 13) => {
                if let Some(off) = t.uint(e, 0) {
                    gps_ifd = visit(off as usize, out, "GPS");
                }
            }
            0x8769 | 0x8825 => out.warn(format!(
                "EXIF: pointer tag 0x{:04x} has the wrong type {}; not followed",
                e.tag, e.typ
            )),
            _ => {}
        }
    }
    let s = |ifd: &[Entry], tag: u16| find(ifd, tag).and_then(|e| t.ascii(&e));
    let zone = |tag: u16| s(&exif_ifd, tag).and_then(|z| norm_zone(z.trim()));
    for (name, tag, off_tag) in [
        ("exif.datetime-original", 0x9003, 0x9011),
        ("exif.datetime-digitized", 0x9004, 0x9012),
    ] {
        if let Some(v) = s(&exif_ifd, tag).and_then(|v| norm_datetime(&v)) {
            out.set(name, with_zone(v, zone(off_tag)));
        }
    }
    if let Some(v) = s(&ifd0, 0x0132).and_then(|v| norm_datetime(&v)) {
        out.set("exif.datetime", with_zone(v, zone(0x9010)));
    }
    for (name, tag) in [
        ("exif.make", 0x010F),
        ("exif.model", 0x0110),
        ("exif.software", 0x0131),
        ("exif.artist", 0x013B),
        ("exif.copyright", 0x8298),
        ("exif.image-description", 0x010E),
        ("exif.serial", 0xC62F),
    ] {
        if let Some(v) = s(&ifd0, tag) {
            out.set(name, v);
        }
    }
    for (name, tag) in [
        ("exif.serial", 0xA431),
        ("exif.lens-make", 0xA433),
        ("exif.lens-model", 0xA434),
        ("exif.lens-serial", 0xA435),
        ("exif.owner", 0xA430),
        ("exif.unique-id", 0xA420),
    ] {
        if let Some(v) = s(&exif_ifd, tag) {
            out.set(name, v);
        }
    }
    if let Some(note) = find(&exif_ifd, 0x927C).and_then(|e| e.data) {
        makernote::parse(note, s(&ifd0, 0x010F).as_deref(), out);
    }
    if let Some(o) = find(&ifd0, 0x0112).and_then(|e| t.uint(&e, 0)) {
        out.set("exif.orientation", o.to_string());
    }
    if tiff_file {
        for (name, tag) in [("image.width", 0x0100), ("image.height", 0x0101)] {
            if let Some(v) = find(&ifd0, tag).and_then(|e| t.uint(&e, 0)) {
                out.set(name, v.to_string());
            }
        }
    }
    gps(&t, &gps_ifd, out);
}

fn find<'a>(ifd: &[Entry<'a>], tag: u16) -> Option<Entry<'a>> {
    ifd.iter().find(|e| e.tag == tag).copied()
}

fn with_zone(v: String, zone: Option<String>) -> String {
    match zone {
        Some(z) if v.len() == 19 => v + &z,
        _ => v,
    }
}

fn gps(t: &Tiff, ifd: &[Entry], out: &mut Out) {
    if ifd.is_empty() {
        return;
    }
    let find = |tag: u16| ifd.iter().find(|e| e.tag == tag);
    let dms = |tag: u16| -> Option<f64> {
        let e = find(tag)?;
        if e.count < 3 {
            return None;
        }
        let (d, m, s) = (t.rational(e, 0)?, t.rational(e, 1)?, t.rational(e, 2)?);
        Some(d + m / 60.0 + s / 3600.0)
    };
    let reference = |tag: u16| find(tag).and_then(|e| t.ascii(e)).unwrap_or_default();
    let mut coord = |name: &str, tag: u16, ref_tag: u16, neg: &str, max: f64| {
        if find(tag).is_none() {
            return;
        }
        match dms(tag) {
            Some(v) if v.is_finite() && v.abs() <= max => {
                let v = if reference(ref_tag).trim().eq_ignore_ascii_case(neg) {
                    -v
                } else {
                    v
                };
                out.set(name, num(v, 10));
            }
            _ => out.warn(format!("EXIF: {name} is not a valid coordinate; ignored")),
        }
    };
    coord("gps.latitude", 2, 1, "S", 90.0);
    coord("gps.longitude", 4, 3, "W", 180.0);
    if let Some(alt) = find(6).and_then(|e| t.rational(e, 0)) {
        let below = find(5).and_then(|e| t.uint(e, 0)) == Some(1);
        out.set("gps.altitude", num(if below { -alt } else { alt }, 3));
    }
    let date = find(29).and_then(|e| t.ascii(e));
    let time =
        find(7).and_then(|e| Some((t.rational(e, 0)?, t.rational(e, 1)?, t.rational(e, 2)?)));
    if let (Some(d), Some((h, m, s))) = (date, time)
        && let Some(d) = norm_datetime(&format!("{} 00:00:00", d.trim()))
        && d.len() >= 10
        && h < 24.0
        && m < 60.0
        && s < 61.0
    {
        out.set(
            "gps.datetime",
            format!(
                "{}T{:02}:{:02}:{:02}Z",
                &d[..10],
                h as u32,
                m as u32,
                s as u32
            ),
        );
    }
}

/// A whole TIFF file: its first [`TIFF_FILE_HEAD`] bytes hold the
/// directories we read.
pub(crate) fn parse_tiff_file(src: &mut Src, out: &mut Out) {
    match src.read_upto(0, TIFF_FILE_HEAD) {
        Ok(d) => parse(&d, out, true),
        Err(e) => out.warn(format!("TIFF: {}", e.0)),
    }
}
