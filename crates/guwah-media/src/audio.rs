//! Common audio: MP3 (ID3v2.2–2.4 and ID3v1 tags; duration from the Xing/
//! Info or VBRI header, else estimated from the first frame's bit rate),
//! WAV (`fmt `/`data` duration, `LIST INFO` tags) and FLAC (STREAMINFO
//! duration, Vorbis comments). M4A is read as an ISO media file.

use crate::util::{be16, be32, latin1, le16, le32, num, text, utf16};
use crate::{Out, Src};

const MAX_TAG: u64 = 1024 * 1024;
const MAX_FRAMES: usize = 1024;
const SYNC_SCAN: u64 = 64 * 1024;

fn tag_name(id: &[u8]) -> Option<&'static str> {
    Some(match id {
        b"TIT2" | b"TT2" => "audio.title",
        b"TPE1" | b"TP1" => "audio.artist",
        b"TPE2" | b"TP2" => "audio.album-artist",
        b"TALB" | b"TAL" => "audio.album",
        b"TYER" | b"TYE" | b"TDRC" => "audio.date",
        b"TCON" | b"TCO" => "audio.genre",
        b"TRCK" | b"TRK" => "audio.track",
        b"TCOM" | b"TCM" => "audio.composer",
        b"TENC" | b"TEN" => "audio.encoded-by",
        b"TSSE" | b"TSS" => "audio.encoder",
        b"TCOP" | b"TCR" => "audio.copyright",
        b"COMM" | b"COM" => "audio.comment",
        _ => return None,
    })
}

fn id3_text(b: &[u8], comment: bool) -> String {
    let Some((&enc, mut rest)) = b.split_first() else {
        return String::new();
    };
    if comment {
        // language (3 bytes), short description, then the text.
        rest = rest.get(3..).unwrap_or_default();
        let wide = enc == 1 || enc == 2;
        let cut = if wide {
            rest.chunks_exact(2)
                .position(|c| c == [0, 0])
                .map(|i| i * 2 + 2)
        } else {
            rest.iter().position(|&c| c == 0).map(|i| i + 1)
        };
        rest = rest.get(cut.unwrap_or(rest.len())..).unwrap_or_default();
    }
    let s = match enc {
        0 => latin1(rest.split(|&c| c == 0).next().unwrap_or_default()),
        1 => match rest {
            [0xFF, 0xFE, r @ ..] => utf16(r, true),
            [0xFE, 0xFF, r @ ..] => utf16(r, false),
            r => utf16(r, true),
        },
        2 => utf16(rest, false),
        _ => text(rest),
    };
    s.trim().to_string()
}

/// ID3v2 at the start; returns the tag's total size.
fn id3v2(src: &mut Src, out: &mut Out) -> u64 {
    let Ok(h) = src.read_at(0, 10) else { return 0 };
    if &h[0..3] != b"ID3" {
        return 0;
    }
    let ver = h[3];
    let flags = h[5];
    let size = h[6..10]
        .iter()
        .fold(0u64, |a, &b| (a << 7) | (b & 0x7F) as u64);
    let total = 10 + size + if flags & 0x10 != 0 { 10 } else { 0 };
    if flags & 0x80 != 0 {
        out.warn("ID3: unsynchronised tag; frames not read");
        return total;
    }
    let body = match src.read_at(10, size.min(MAX_TAG)) {
        Ok(b) => b,
        Err(e) => {
            out.warn(format!("ID3: {}", e.0));
            return total;
        }
    };
    let mut p = 0usize;
    if flags & 0x40 != 0 && ver >= 3 {
        let ext = be32(&body, 0).unwrap_or(0) as usize;
        p = if ver == 4 { ext } else { ext + 4 };
    }
    let (id_len, hdr) = if ver == 2 { (3, 6) } else { (4, 10) };
    for _ in 0..MAX_FRAMES {
        let Some(id) = body.get(p..p + id_len) else {
            break;
        };
        if id[0] == 0 {
            break;
        }
        let len = match ver {
            2 => body
                .get(p + 3..p + 6)
                .map(|b| (b[0] as usize) << 16 | (b[1] as usize) << 8 | b[2] as usize),
            3 => be32(&body, p + 4).map(|x| x as usize),
            _ => body.get(p + 4..p + 8).map(|b| {
                b.iter()
                    .fold(0usize, |a, &x| (a << 7) | (x & 0x7F) as usize)
            }),
        };
        let Some(len) = len else { break };
        let Some(data) = body.get(p + hdr..(p + hdr).saturating_add(len)) else {
            out.warn("ID3: frame runs past the tag");
            break;
        };
        if id == b"TLEN" {
            if let Ok(ms) = id3_text(data, false).parse::<u64>() {
                out.set("media.duration", num(ms as f64 / 1000.0, 3));
            }
        } else if let Some(name) = tag_name(id) {
            out.set(name, id3_text(data, matches!(id, b"COMM" | b"COM")));
        }
        p += hdr + len;
    }
    total
}

fn id3v1(src: &mut Src, out: &mut Out) -> bool {
    if src.len < 128 {
        return false;
    }
    let Ok(t) = src.read_at(src.len - 128, 128) else {
        return false;
    };
    if &t[0..3] != b"TAG" {
        return false;
    }
    let f = |a: usize, b: usize| latin1(t[a..b].split(|&c| c == 0).next().unwrap_or_default());
    out.set("audio.title", f(3, 33));
    out.set("audio.artist", f(33, 63));
    out.set("audio.album", f(63, 93));
    out.set("audio.date", f(93, 97));
    out.set("audio.comment", f(97, 127));
    true
}

/// Parse an MP3 file.
pub(crate) fn parse_mp3(src: &mut Src, out: &mut Out) {
    let start = id3v2(src, out);
    let has_v1 = id3v1(src, out);
    let end = src.len - if has_v1 { 128 } else { 0 };
    if start >= end {
        return;
    }
    let Ok(buf) = src.read_upto(start, SYNC_SCAN) else {
        return;
    };
    let Some((i, fr)) = (0..buf.len().saturating_sub(4)).find_map(|i| Some((i, frame(&buf[i..])?)))
    else {
        out.warn("MP3: no frame header found");
        return;
    };
    out.set(
        "media.codecs",
        format!("MPEG-{} layer {}", fr.version, fr.layer),
    );
    out.set("audio.sample-rate", fr.rate.to_string());
    let spf = fr.samples_per_frame as f64;
    // Xing/Info: after the side information.
    let side = match (fr.version_id == 3, fr.mono) {
        (true, false) => 32,
        (true, true) => 17,
        (false, false) => 17,
        (false, true) => 9,
    };
    let x = i + 4 + side;
    let frames = if matches!(buf.get(x..x + 4), Some(b"Xing" | b"Info"))
        && be32(&buf, x + 4).unwrap_or(0) & 1 == 1
    {
        be32(&buf, x + 8)
    } else if buf.get(i + 36..i + 40) == Some(b"VBRI") {
        be32(&buf, i + 50)
    } else {
        None
    };
    let dur = match frames {
        Some(n) => n as f64 * spf / fr.rate as f64,
        None if fr.bitrate > 0 => {
            (end - start - i as u64) as f64 * 8.0 / (fr.bitrate as f64 * 1000.0)
        }
        None => return,
    };
    out.set("media.duration", num(dur, 3));
}

struct Frame {
    version_id: u8,
    version: &'static str,
    layer: u8,
    bitrate: u32,
    rate: u32,
    mono: bool,
    samples_per_frame: u32,
}

fn frame(h: &[u8]) -> Option<Frame> {
    if h.len() < 4 || h[0] != 0xFF || h[1] & 0xE0 != 0xE0 {
        return None;
    }
    let vid = (h[1] >> 3) & 3;
    let lid = (h[1] >> 1) & 3;
    let bi = (h[2] >> 4) as usize;
    let si = ((h[2] >> 2) & 3) as usize;
    if vid == 1 || lid == 0 || bi == 15 || si == 3 {
        return None;
    }
    let layer = 4 - lid;
    let v1 = vid == 3;
    const V1: [[u32; 15]; 3] = [
        [
            0, 32, 64, 96, 128, 160, 192, 224, 256, 288, 320, 352, 384, 416, 448,
        ],
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320, 384,
        ],
        [
            0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320,
        ],
    ];
    const V2: [[u32; 15]; 2] = [
        [
            0, 32, 48, 56, 64, 80, 96, 112, 128, 144, 160, 176, 192, 224, 256,
        ],
        [0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160],
    ];
    let bitrate = if v1 {
        V1[layer as usize - 1][bi]
    } else {
        V2[if layer == 1 { 0 } else { 1 }][bi]
    };
    let base = [44100, 48000, 32000][si];
    let rate = match vid {
        3 => base,
        2 => base / 2,
        _ => base / 4,
    };
    let samples_per_frame = match (layer, v1) {
        (1, _) => 384,
        (2, _) => 1152,
        (_, true) => 1152,
        _ => 576,
    };
    Some(Frame {
        version_id: vid,
        version: match vid {
            3 => "1",
            2 => "2",
            _ => "2.5",
        },
        layer,
        bitrate,
        rate,
        mono: h[3] >> 6 == 3,
        samples_per_frame,
    })
}

/// Parse a WAV file.
pub(crate) fn parse_wav(src: &mut Src, out: &mut Out) {
    match src.read_upto(0, 12) {
        Ok(h) if h.starts_with(b"RIFF") && h.get(8..12) == Some(b"WAVE") => {}
        _ => {
            out.warn("WAV: no RIFF/WAVE header; not read as WAV");
            return;
        }
    }
    let mut off = 12u64;
    let mut byte_rate = 0u32;
    let mut data_len = None;
    for _ in 0..MAX_FRAMES {
        if off + 8 > src.len {
            break;
        }
        let Ok(h) = src.read_at(off, 8) else { break };
        let len = le32(&h, 4).unwrap_or(0) as u64;
        match &h[0..4] {
            b"fmt " => match src.read_at(off + 8, len.min(64)) {
                Ok(f) => {
                    let codec = match le16(&f, 0) {
                        Some(1) => "PCM".to_string(),
                        Some(3) => "IEEE float".to_string(),
                        Some(0xFFFE) => "extensible".to_string(),
                        Some(x) => format!("format 0x{x:04x}"),
                        None => String::new(),
                    };
                    out.set("media.codecs", codec);
                    if let Some(ch) = le16(&f, 2) {
                        out.set("audio.channels", ch.to_string());
                    }
                    if let Some(r) = le32(&f, 4) {
                        out.set("audio.sample-rate", r.to_string());
                    }
                    byte_rate = le32(&f, 8).unwrap_or(0);
                }
                Err(e) => out.warn(format!("WAV: {}", e.0)),
            },
            b"data" => data_len = Some(len.min(src.len - off - 8)),
            b"LIST" => {
                if let Ok(l) = src.read_at(off + 8, len.min(MAX_TAG)) {
                    wav_info(&l, out);
                }
            }
            _ => {}
        }
        off += 8 + len + len % 2;
    }
    match data_len {
        Some(n) if byte_rate > 0 => out.set("media.duration", num(n as f64 / byte_rate as f64, 3)),
        _ => out.warn("WAV: no fmt or data chunk; duration unknown"),
    }
}

fn wav_info(l: &[u8], out: &mut Out) {
    if l.get(0..4) != Some(b"INFO") {
        return;
    }
    let mut p = 4;
    for _ in 0..256 {
        let (Some(id), Some(len)) = (l.get(p..p + 4), le32(l, p + 4)) else {
            break;
        };
        let Some(v) = l.get(p + 8..(p + 8).saturating_add(len as usize)) else {
            break;
        };
        let name = match id {
            b"INAM" => "audio.title",
            b"IART" => "audio.artist",
            b"IPRD" => "audio.album",
            b"ICRD" => "audio.date",
            b"IGNR" => "audio.genre",
            b"ICMT" => "audio.comment",
            b"ISFT" => "audio.encoder",
            b"ICOP" => "audio.copyright",
            _ => "",
        };
        if !name.is_empty() {
            out.set(name, text(v));
        }
        p += 8 + len as usize + len as usize % 2;
    }
}

/// Parse a FLAC file.
pub(crate) fn parse_flac(src: &mut Src, out: &mut Out) {
    if src.read_upto(0, 4).ok().as_deref() != Some(b"fLaC") {
        out.warn("FLAC: no fLaC signature; not read as FLAC");
        return;
    }
    let mut off = 4u64;
    out.set("media.codecs", "FLAC");
    for _ in 0..128 {
        let Ok(h) = src.read_at(off, 4) else {
            out.warn("FLAC: truncated metadata");
            return;
        };
        let last = h[0] & 0x80 != 0;
        let typ = h[0] & 0x7F;
        let len = (h[1] as u64) << 16 | (h[2] as u64) << 8 | h[3] as u64;
        if typ == 0 || typ == 4 {
            match src.read_at(off + 4, len.min(MAX_TAG)) {
                Ok(b) if typ == 0 => streaminfo(&b, out),
                Ok(b) => vorbis_comments(&b, out),
                Err(e) => {
                    out.warn(format!("FLAC: {}", e.0));
                    return;
                }
            }
        }
        if last {
            return;
        }
        off += 4 + len;
    }
}

fn streaminfo(b: &[u8], out: &mut Out) {
    let (Some(x), Some(total_lo)) = (be32(b, 10), be32(b, 14)) else {
        return;
    };
    let rate = x >> 12;
    let channels = ((x >> 9) & 7) + 1;
    let total = ((x as u64 & 0xF) << 32) | total_lo as u64;
    out.set("audio.channels", channels.to_string());
    if rate > 0 {
        out.set("audio.sample-rate", rate.to_string());
        if total > 0 {
            out.set("media.duration", num(total as f64 / rate as f64, 3));
        }
    }
    let _ = be16;
}

fn vorbis_comments(b: &[u8], out: &mut Out) {
    let Some(vlen) = le32(b, 0) else { return };
    let mut p = 4 + vlen as usize;
    if let Some(v) = b.get(4..p) {
        out.set("audio.encoder", text(v));
    }
    let n = le32(b, p).unwrap_or(0);
    p += 4;
    for _ in 0..n.min(1024) {
        let Some(len) = le32(b, p) else { return };
        let Some(c) = b.get(p + 4..(p + 4).saturating_add(len as usize)) else {
            out.warn("FLAC: Vorbis comment runs past its block");
            return;
        };
        p += 4 + len as usize;
        let s = String::from_utf8_lossy(c);
        let Some((k, v)) = s.split_once('=') else {
            continue;
        };
        let name = match k.to_ascii_uppercase().as_str() {
            "TITLE" => "audio.title",
            "ARTIST" => "audio.artist",
            "ALBUM" => "audio.album",
            "ALBUMARTIST" => "audio.album-artist",
            "DATE" => "audio.date",
            "GENRE" => "audio.genre",
            "TRACKNUMBER" => "audio.track",
            "COMMENT" | "DESCRIPTION" => "audio.comment",
            "COMPOSER" => "audio.composer",
            "COPYRIGHT" => "audio.copyright",
            _ => continue,
        };
        out.set(name, v);
    }
}
