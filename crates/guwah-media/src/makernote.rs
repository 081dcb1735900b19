//! Maker notes (EXIF tag 0x927C) we read: only Reconyx camera traps,
//! whose capture time and serial number live nowhere else in the file.
//!
//! Reconyx notes are fixed-layout little-endian records (whatever the
//! TIFF byte order), as exiftool's `Reconyx.pm` documents them from
//! Reconyx's own specifications. Three layouts, told apart by their start:
//!
//! | Cameras | Start | Time | Serial |
//! |---|---|---|---|
//! | Hyperfire (HC500, HC600, PC900) | `01 F1` + `02 00`/`03 00`, or `01 F1` with Make `RECONYX` | 6 × u16 at 22: s, min, h, month, day, year | 30 bytes UTF-16 at 42 |
//! | UltraFire | `RECONYXUF\0` | 7 bytes at 59: s, min, h, day, month, year (u16) | 15 bytes ASCII at 75 |
//! | HF2 PRO | `RECONYXH2\0` | 6 × u16 at 62: s, min, h, day, month, year | 30 bytes UTF-16 at 126 |
//!
//! Every read is at a fixed offset checked against the note; a time whose
//! parts are out of range is not kept. The time is the camera's clock, a
//! local time of unknown zone.

use crate::Out;
use crate::util::{le16, text, utf16};

/// Read a maker note. `make` is IFD0's Make, if any.
pub(crate) fn parse(note: &[u8], make: Option<&str>, out: &mut Out) {
    let Some((layout, name)) = Layout::of(note, make) else {
        return;
    };
    let Some(parts) = layout.time(note) else {
        out.warn(format!(
            "EXIF: {name} maker note is too short for its capture time"
        ));
        return;
    };
    match datetime(parts) {
        Some(t) => out.set("makernote.datetime-original", t),
        None if parts == [0; 6] => {}
        None => out.warn(format!(
            "EXIF: {name} maker note capture time {parts:?} is not a valid date; ignored"
        )),
    }
    if let Some(serial) = layout.serial(note) {
        out.set("makernote.serial", serial);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layout {
    Hyperfire,
    UltraFire,
    Hf2Pro,
}

impl Layout {
    /// Which Reconyx layout a note is, with the camera family's name.
    fn of(note: &[u8], make: Option<&str>) -> Option<(Layout, &'static str)> {
        if note.starts_with(b"RECONYXUF\0") {
            Some((Layout::UltraFire, "Reconyx UltraFire"))
        } else if note.starts_with(b"RECONYXH2\0") {
            Some((Layout::Hf2Pro, "Reconyx HF2 PRO"))
        } else if note.starts_with(b"\x01\xF1")
            && (matches!(note.get(2..4), Some(b"\x02\0" | b"\x03\0"))
                || make.is_some_and(|m| m.trim() == "RECONYX"))
        {
            Some((Layout::Hyperfire, "Reconyx Hyperfire"))
        } else {
            None
        }
    }

    /// `[year, month, day, hour, minute, second]`, as stored.
    fn time(self, d: &[u8]) -> Option<[u16; 6]> {
        let words = |at: usize| -> Option<[u16; 6]> {
            let mut w = [0u16; 6];
            for (i, x) in w.iter_mut().enumerate() {
                *x = le16(d, at + 2 * i)?;
            }
            Some(w)
        };
        Some(match self {
            Layout::Hyperfire => {
                let mut w = words(22)?;
                // exiftool: some cameras write these big-endian; a seconds
                // word with only its high byte set gives it away.
                if w[0] & 0xFF00 != 0 && w[0] & 0xFF == 0 {
                    w = w.map(u16::swap_bytes);
                }
                let [s, min, h, month, day, year] = w;
                [year, month, day, h, min, s]
            }
            Layout::UltraFire => {
                let b = d.get(59..66)?;
                let year = u16::from(b[5]) | u16::from(b[6]) << 8;
                [
                    year,
                    b[4].into(),
                    b[3].into(),
                    b[2].into(),
                    b[1].into(),
                    b[0].into(),
                ]
            }
            Layout::Hf2Pro => {
                let [s, min, h, day, month, year] = words(62)?;
                [year, month, day, h, min, s]
            }
        })
    }

    fn serial(self, d: &[u8]) -> Option<String> {
        let s = match self {
            Layout::Hyperfire => utf16(d.get(42..72)?, true),
            Layout::UltraFire => text(d.get(75..90)?),
            Layout::Hf2Pro => utf16(d.get(126..156)?, true),
        };
        let s = s.trim().to_string();
        (!s.is_empty()).then_some(s)
    }
}

/// `YYYY-MM-DDTHH:MM:SS` if every part is in range.
fn datetime([y, mo, d, h, mi, s]: [u16; 6]) -> Option<String> {
    let ok = (1900..=2999).contains(&y)
        && (1..=12).contains(&mo)
        && (1..=31).contains(&d)
        && h < 24
        && mi < 60
        && s < 60;
    ok.then(|| format!("{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(note: &[u8], make: Option<&str>) -> Out {
        let mut out = Out::default();
        parse(note, make, &mut out);
        out
    }

    fn u16s(v: &[u16]) -> Vec<u8> {
        v.iter().flat_map(|x| x.to_le_bytes()).collect()
    }

    /// The first 72 bytes of the Reconyx HC500 sample's note.
    fn hyperfire() -> Vec<u8> {
        let mut n = u16s(&[0xF101, 3, 3, 0, 0x2011, 0x0110]);
        n.extend_from_slice(b"T\0");
        n.extend(u16s(&[0, 0, 0, 8, 0, 0, 10, 3, 16, 2020]));
        assert_eq!(n.len(), 34);
        n.extend(u16s(&[2, 6, 33, 1]));
        n.extend("H500EE06130468\0".encode_utf16().flat_map(u16::to_le_bytes));
        n
    }

    #[test]
    fn hyperfire_time_and_serial() {
        let out = read(&hyperfire(), None);
        assert!(out.warnings.is_empty(), "{:?}", out.warnings);
        assert_eq!(
            out.fields,
            [
                (
                    "makernote.datetime-original".into(),
                    "2020-03-16T10:00:00".into()
                ),
                ("makernote.serial".into(), "H500EE06130468".into()),
            ]
        );
    }

    #[test]
    fn hyperfire_big_endian_time_is_swapped() {
        let mut n = hyperfire();
        let be: Vec<u8> = [7u16, 5, 10, 3, 16, 2020]
            .iter()
            .flat_map(|x| x.to_be_bytes())
            .collect();
        n[22..34].copy_from_slice(&be);
        let out = read(&n, None);
        assert_eq!(out.fields[0].1, "2020-03-16T10:05:07", "{:?}", out.warnings);
    }

    #[test]
    fn hyperfire_needs_its_version_or_make() {
        let mut n = hyperfire();
        n[2..4].copy_from_slice(&[4, 0]);
        assert!(read(&n, None).fields.is_empty());
        assert!(read(&n, Some("Canon")).fields.is_empty());
        assert_eq!(read(&n, Some("RECONYX ")).fields.len(), 2);
    }

    #[test]
    fn ultrafire_and_hf2_pro() {
        let mut uf = b"RECONYXUF\0".to_vec();
        uf.resize(59, 0);
        uf.extend_from_slice(&[7, 5, 10, 16, 3, 0xE4, 0x07]);
        uf.resize(75, 0);
        uf.extend_from_slice(b"UF12345\0");
        uf.resize(96, 0);
        let out = read(&uf, None);
        assert_eq!(out.fields[0].1, "2020-03-16T10:05:07");
        assert_eq!(out.fields[1].1, "UF12345");

        let mut h2 = b"RECONYXH2\0".to_vec();
        h2.resize(62, 0);
        h2.extend(u16s(&[7, 5, 10, 16, 3, 2020]));
        h2.resize(126, 0);
        h2.extend("H2SERIAL\0".encode_utf16().flat_map(u16::to_le_bytes));
        h2.resize(160, 0);
        let out = read(&h2, None);
        assert_eq!(out.fields[0].1, "2020-03-16T10:05:07");
        assert_eq!(out.fields[1].1, "H2SERIAL");
    }

    #[test]
    fn short_or_impossible_notes_give_warnings_not_values() {
        let n = hyperfire();
        let out = read(&n[..30], None);
        assert!(out.fields.is_empty());
        assert!(out.warnings[0].contains("too short"), "{:?}", out.warnings);

        let mut bad = n.clone();
        bad[28..30].copy_from_slice(&13u16.to_le_bytes()); // month 13
        let out = read(&bad, None);
        assert!(!out.has("makernote.datetime-original"));
        assert!(
            out.warnings[0].contains("not a valid date"),
            "{:?}",
            out.warnings
        );
        assert!(out.has("makernote.serial"));

        let mut unset = n;
        unset[22..34].fill(0);
        let out = read(&unset, None);
        assert!(out.warnings.is_empty() && !out.has("makernote.datetime-original"));
        assert!(
            read(b"Nikon\0\x02\x10\0\0", Some("RECONYX"))
                .fields
                .is_empty()
        );
    }
}
