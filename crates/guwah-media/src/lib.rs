//! Metadata extraction for evidence at ingest.
//!
//! One entry point, [`extract`], reads the metadata a file carries about
//! itself (EXIF with Reconyx maker notes, XMP, IPTC, PNG text chunks, PDF
//! info, QuickTime/MP4 movie headers, audio tags) into flat `(name, value)`
//! string pairs whose names are documented in `docs/metadata.md`.
//!
//! Every parser here reads outside input, so every parser is bounded:
//! at most [`READ_BUDGET`] bytes are read from the file (containers are
//! walked by seeking, never slurped), recursion depth and entry counts are
//! capped, IFD offsets are checked for loops, and decompression is capped
//! at [`INFLATE_LIMIT`]. Nothing panics: a file that cannot be parsed gives
//! warnings and whatever fields were read before the problem. A file that
//! cannot be parsed is still evidence; the caller seals it regardless.
//!
//! Should a parser panic all the same (a bug), [`extract`] catches it and
//! returns a warning with the fields read so far: no file takes an ingest
//! down. Time is bounded by the read budget and the caps above, so no
//! deadline is needed.

#![forbid(unsafe_code)]

use std::io::{Read, Seek, SeekFrom};

mod audio;
mod exif;
mod iptc;
mod isobmff;
mod jpeg;
mod makernote;
mod pdf;
mod png;
mod util;
mod webp;
mod xmp;

/// Most bytes read from one file, over all parsers.
pub const READ_BUDGET: u64 = 16 * 1024 * 1024;
/// Most bytes any one compressed chunk may inflate to.
pub const INFLATE_LIMIT: usize = 1024 * 1024;
/// Longest value kept, in bytes; longer values are cut at a character
/// boundary and end with `…`.
pub const MAX_VALUE_LEN: usize = 1024;
/// Most fields returned for one file.
pub const MAX_FIELDS: usize = 48;
/// Most warnings returned for one file.
pub const MAX_WARNINGS: usize = 16;

/// What [`extract`] read from one file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Extracted {
    /// `(name, value)` pairs, most important first, names unique and
    /// matching `[a-z0-9][a-z0-9.-]*` (at most 64 bytes), values non-empty
    /// UTF-8 of at most [`MAX_VALUE_LEN`] bytes.
    pub fields: Vec<(String, String)>,
    /// Problems met while reading, one human sentence each.
    pub warnings: Vec<String>,
}

impl Extracted {
    /// The value of a field, if present.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Object-safe `Read + Seek`.
pub(crate) trait ReadSeek: Read + Seek {}
impl<T: Read + Seek> ReadSeek for T {}

/// Reason a bounded read failed; parsers turn it into a warning.
#[derive(Debug)]
pub(crate) struct Stop(pub String);

/// A file with a read budget: every read is bounded by the file length and
/// by what is left of [`READ_BUDGET`].
pub(crate) struct Src<'a> {
    r: &'a mut dyn ReadSeek,
    /// The file's length.
    pub len: u64,
    left: u64,
}

impl<'a> Src<'a> {
    pub(crate) fn new(r: &'a mut dyn ReadSeek, len: u64) -> Self {
        Src {
            r,
            len,
            left: READ_BUDGET,
        }
    }

    /// Read exactly `n` bytes at `off`, or fail: past the end, over the
    /// budget, or an I/O error.
    pub(crate) fn read_at(&mut self, off: u64, n: u64) -> Result<Vec<u8>, Stop> {
        let end = off
            .checked_add(n)
            .ok_or_else(|| Stop("offset overflows".into()))?;
        if end > self.len {
            return Err(Stop(format!(
                "truncated: {n} bytes wanted at offset {off}, file is {} bytes",
                self.len
            )));
        }
        if n > self.left {
            return Err(Stop(format!(
                "read budget of {} MiB exhausted",
                READ_BUDGET / (1024 * 1024)
            )));
        }
        self.left -= n;
        self.r
            .seek(SeekFrom::Start(off))
            .map_err(|e| Stop(format!("seek failed: {e}")))?;
        let mut buf = vec![0u8; n as usize];
        self.r
            .read_exact(&mut buf)
            .map_err(|e| Stop(format!("read failed: {e}")))?;
        Ok(buf)
    }

    /// Read up to `n` bytes at `off` (fewer at the end of the file).
    pub(crate) fn read_upto(&mut self, off: u64, n: u64) -> Result<Vec<u8>, Stop> {
        let n = n.min(self.len.saturating_sub(off));
        self.read_at(off, n)
    }
}

/// Fields and warnings being collected.
#[derive(Debug, Default)]
pub(crate) struct Out {
    fields: Vec<(String, String)>,
    warnings: Vec<String>,
}

impl Out {
    /// Set a field unless it is already set (the first source wins). The
    /// value is cleaned: control characters other than newline become
    /// spaces, NULs end it, it is trimmed and capped.
    pub(crate) fn set(&mut self, name: &str, value: impl AsRef<str>) {
        if self.has(name) || !valid_name(name) {
            return;
        }
        let v = clean_value(value.as_ref());
        if !v.is_empty() {
            self.fields.push((name.to_string(), v));
        }
    }

    /// Whether a field is set.
    pub(crate) fn has(&self, name: &str) -> bool {
        self.fields.iter().any(|(n, _)| n == name)
    }

    /// Note a problem.
    pub(crate) fn warn(&mut self, msg: impl Into<String>) {
        let msg = msg.into();
        if self.warnings.len() < MAX_WARNINGS && !self.warnings.contains(&msg) {
            self.warnings.push(msg);
        }
    }
}

fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-')
}

fn clean_value(v: &str) -> String {
    let v = v.split('\0').next().unwrap_or("");
    let mut s: String = v
        .chars()
        .map(|c| if c.is_control() && c != '\n' { ' ' } else { c })
        .collect();
    s = s.trim().to_string();
    if s.len() > MAX_VALUE_LEN {
        let mut cut = MAX_VALUE_LEN - '…'.len_utf8();
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
        s.push('…');
    }
    s
}

/// How important a field is when a record has room for only some: lower
/// is kept first. Capture time, place and device come first.
pub fn importance(name: &str) -> u8 {
    const TOP: [&str; 14] = [
        "exif.datetime-original",
        "gps.latitude",
        "gps.longitude",
        "media.created",
        "media.location",
        "makernote.datetime-original",
        "exif.make",
        "exif.model",
        "exif.serial",
        "makernote.serial",
        "media.make",
        "media.model",
        "exif.datetime-digitized",
        "gps.altitude",
    ];
    if let Some(i) = TOP.iter().position(|t| *t == name) {
        return i as u8;
    }
    let family = name.split('.').next().unwrap_or("");
    match family {
        "exif" | "gps" | "media" | "makernote" => 20,
        "image" | "audio" | "pdf" => 30,
        "xmp" | "iptc" => 40,
        _ => 50,
    }
}

/// Read a file's metadata. `media_type` is the sniffed type (as guwah's
/// `sniff_media_type` gives it); `len` the file's length. Never panics;
/// reads at most [`READ_BUDGET`] bytes; problems become warnings.
pub fn extract(media_type: &str, file: &mut (impl Read + Seek), len: u64) -> Extracted {
    let mut out = Out::default();
    if len == 0 {
        out.warn("empty file: no metadata");
    } else {
        guarded(&mut out, |out| {
            let mut src = Src::new(file, len);
            let kind = match Kind::of(media_type) {
                Some(k) => Some(k),
                None => src.read_upto(0, 16).ok().and_then(|h| Kind::sniff(&h)),
            };
            match kind {
                Some(Kind::Jpeg) => jpeg::parse(&mut src, out),
                Some(Kind::Png) => png::parse(&mut src, out),
                Some(Kind::Webp) => webp::parse(&mut src, out),
                Some(Kind::Tiff) => exif::parse_tiff_file(&mut src, out),
                Some(Kind::Bmff) => isobmff::parse(&mut src, out),
                Some(Kind::Pdf) => pdf::parse(&mut src, out),
                Some(Kind::Mp3) => audio::parse_mp3(&mut src, out),
                Some(Kind::Wav) => audio::parse_wav(&mut src, out),
                Some(Kind::Flac) => audio::parse_flac(&mut src, out),
                None => {}
            }
        });
    }
    let Out {
        mut fields,
        warnings,
    } = out;
    fields.sort_by_key(|(n, _)| importance(n));
    fields.truncate(MAX_FIELDS);
    Extracted { fields, warnings }
}

/// Run a parser, turning a panic into a warning; fields set before it stay
/// (each was complete when set).
fn guarded(out: &mut Out, parse: impl FnOnce(&mut Out)) {
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| parse(&mut *out)));
    if let Err(payload) = r {
        let why = payload
            .downcast_ref::<&str>()
            .copied()
            .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
            .unwrap_or("no message");
        let why: String = why.chars().take(200).collect();
        out.warn(format!(
            "metadata parser crashed on this file (caught; a bug): {why}; the rest of its metadata was not read"
        ));
    }
}

/// [`extract`] over bytes in memory.
pub fn extract_bytes(media_type: &str, data: &[u8]) -> Extracted {
    extract(
        media_type,
        &mut std::io::Cursor::new(data),
        data.len() as u64,
    )
}

#[derive(Debug, Clone, Copy)]
enum Kind {
    Jpeg,
    Png,
    Webp,
    Tiff,
    Bmff,
    Pdf,
    Mp3,
    Wav,
    Flac,
}

impl Kind {
    fn of(media_type: &str) -> Option<Kind> {
        Some(match media_type {
            "image/jpeg" => Kind::Jpeg,
            "image/png" => Kind::Png,
            "image/webp" => Kind::Webp,
            "image/tiff" => Kind::Tiff,
            "image/heic" | "image/heif" | "image/avif" | "video/mp4" | "video/quicktime"
            | "video/3gpp" | "audio/mp4" => Kind::Bmff,
            "application/pdf" => Kind::Pdf,
            "audio/mpeg" => Kind::Mp3,
            "audio/wav" => Kind::Wav,
            "audio/flac" => Kind::Flac,
            _ => return None,
        })
    }

    fn sniff(h: &[u8]) -> Option<Kind> {
        let at = |off: usize, m: &[u8]| h.get(off..off + m.len()) == Some(m);
        Some(if at(0, b"\xFF\xD8\xFF") {
            Kind::Jpeg
        } else if at(0, b"\x89PNG") {
            Kind::Png
        } else if at(0, b"RIFF") && at(8, b"WEBP") {
            Kind::Webp
        } else if at(0, b"RIFF") && at(8, b"WAVE") {
            Kind::Wav
        } else if at(0, b"II*\0") || at(0, b"MM\0*") {
            Kind::Tiff
        } else if at(4, b"ftyp") || at(4, b"moov") || at(4, b"mdat") || at(4, b"wide") {
            Kind::Bmff
        } else if at(0, b"%PDF-") {
            Kind::Pdf
        } else if at(0, b"ID3") {
            Kind::Mp3
        } else if at(0, b"fLaC") {
            Kind::Flac
        } else {
            return None;
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parser_panic_is_a_warning_and_keeps_earlier_fields() {
        let mut out = Out::default();
        guarded(&mut out, |out| {
            out.set("exif.make", "Canon");
            panic!("index out of bounds at {}", 7)
        });
        assert_eq!(out.fields, [("exif.make".into(), "Canon".into())]);
        assert_eq!(out.warnings.len(), 1);
        assert!(
            out.warnings[0].contains("crashed") && out.warnings[0].contains("bounds at 7"),
            "{:?}",
            out.warnings
        );
        let mut out = Out::default();
        guarded(&mut out, |out| out.set("exif.model", "X"));
        assert!(out.warnings.is_empty() && out.has("exif.model"));
    }
}
