//! Media-type sniffing from a file's first bytes, then its extension.
//!
//! Magic numbers win over extensions: evidence is often renamed. Unknown
//! content is `application/octet-stream`; it is still evidence.

/// Guess the media type of a file from its first bytes (at least 64 if the
/// file has them) and its name.
pub fn sniff_media_type(head: &[u8], file_name: &str) -> &'static str {
    if let Some(t) = from_magic(head) {
        return t;
    }
    let ext = file_name
        .rsplit_once('.')
        .map(|(_, e)| e.to_ascii_lowercase())
        .unwrap_or_default();
    match ext.as_str() {
        "txt" | "text" | "log" => "text/plain",
        "md" => "text/markdown",
        "csv" => "text/csv",
        "json" => "application/json",
        "html" | "htm" => "text/html",
        "eml" => "message/rfc822",
        "vtt" => "text/vtt",
        "srt" => "application/x-subrip",
        _ if is_probably_text(head) => "text/plain",
        _ => "application/octet-stream",
    }
}

fn from_magic(h: &[u8]) -> Option<&'static str> {
    let at = |off: usize, magic: &[u8]| {
        h.len() >= off + magic.len() && &h[off..off + magic.len()] == magic
    };
    if at(0, b"\xFF\xD8\xFF") {
        return Some("image/jpeg");
    }
    if at(0, b"\x89PNG\r\n\x1a\n") {
        return Some("image/png");
    }
    if at(0, b"GIF87a") || at(0, b"GIF89a") {
        return Some("image/gif");
    }
    if at(0, b"RIFF") && at(8, b"WEBP") {
        return Some("image/webp");
    }
    if at(0, b"RIFF") && at(8, b"WAVE") {
        return Some("audio/wav");
    }
    if at(0, b"RIFF") && at(8, b"AVI ") {
        return Some("video/x-msvideo");
    }
    if at(0, b"II*\0") || at(0, b"MM\0*") {
        return Some("image/tiff");
    }
    if at(0, b"%PDF-") {
        return Some("application/pdf");
    }
    if at(4, b"ftyp") {
        let brand = h.get(8..12).unwrap_or_default();
        return Some(match brand {
            b"heic" | b"heix" | b"heim" | b"heis" | b"mif1" | b"msf1" => "image/heic",
            b"avif" => "image/avif",
            b"qt  " => "video/quicktime",
            b"M4A " | b"M4B " => "audio/mp4",
            b"3gp4" | b"3gp5" | b"3gp6" | b"3gg6" | b"3ge6" => "video/3gpp",
            _ => "video/mp4",
        });
    }
    if at(0, b"\x1A\x45\xDF\xA3") {
        return Some("video/webm");
    }
    if at(0, b"OggS") {
        return Some("audio/ogg");
    }
    if at(0, b"ID3") || (h.len() > 1 && h[0] == 0xFF && (h[1] & 0xE0) == 0xE0) {
        return Some("audio/mpeg");
    }
    if at(0, b"fLaC") {
        return Some("audio/flac");
    }
    if at(0, b"#!AMR") {
        return Some("audio/amr");
    }
    if at(0, b"PK\x03\x04") || at(0, b"PK\x05\x06") {
        return Some("application/zip");
    }
    None
}

fn is_probably_text(h: &[u8]) -> bool {
    // The head may cut a multi-byte character in two: that is still text.
    let valid = match std::str::from_utf8(h) {
        Ok(_) => h.len(),
        Err(e) if e.error_len().is_none() => e.valid_up_to(),
        Err(_) => return false,
    };
    valid > 0 && !h[..valid].contains(&0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_beats_extension() {
        assert_eq!(
            sniff_media_type(b"\xFF\xD8\xFF\xE0rest", "x.txt"),
            "image/jpeg"
        );
        assert_eq!(sniff_media_type(b"\0\0\0\x18ftypheic", "a"), "image/heic");
        assert_eq!(sniff_media_type(b"\0\0\0\x18ftypisom", "a"), "video/mp4");
        assert_eq!(sniff_media_type(b"%PDF-1.7", "a.bin"), "application/pdf");
        assert_eq!(sniff_media_type(b"hello world", "testimony"), "text/plain");
        assert_eq!(
            sniff_media_type(b"\x00\x01\x02", "blob"),
            "application/octet-stream"
        );
        assert_eq!(sniff_media_type(b"{}", "a.json"), "application/json");
    }
}
