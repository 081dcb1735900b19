//! Tag-file text: character encodings, lines, percent-encoded and unsafe paths.

use unicode_normalization::UnicodeNormalization;

use super::Algorithm;

/// Decodes a tag file in the bag's declared `Tag-File-Character-Encoding`.
pub fn decode_text(bytes: &[u8], encoding: &str) -> Result<String, String> {
    let enc = encoding.trim().to_ascii_uppercase().replace('_', "-");
    match enc.as_str() {
        "UTF-8" | "UTF8" | "US-ASCII" | "ASCII" => {
            let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            String::from_utf8(b.to_vec()).map_err(|e| {
                format!(
                    "not valid {encoding} (bad byte at offset {})",
                    e.utf8_error().valid_up_to()
                )
            })
        }
        "ISO-8859-1" | "LATIN1" | "LATIN-1" | "ISO8859-1" => {
            Ok(bytes.iter().map(|&b| char::from(b)).collect())
        }
        "UTF-16" | "UTF-16LE" | "UTF-16BE" => {
            if !bytes.len().is_multiple_of(2) {
                return Err(format!("not valid {encoding}: odd number of bytes"));
            }
            let (mut le, mut body) = (enc != "UTF-16BE", bytes);
            if let Some(b) = bytes.strip_prefix(b"\xFF\xFE") {
                (le, body) = (true, b);
            } else if let Some(b) = bytes.strip_prefix(b"\xFE\xFF") {
                (le, body) = (false, b);
            } else if enc == "UTF-16" {
                le = false; // RFC 2781: no BOM means big-endian
            }
            let units = body.chunks_exact(2).map(|c| {
                if le {
                    u16::from_le_bytes([c[0], c[1]])
                } else {
                    u16::from_be_bytes([c[0], c[1]])
                }
            });
            char::decode_utf16(units)
                .collect::<Result<String, _>>()
                .map_err(|_| format!("not valid {encoding}: unpaired surrogate"))
        }
        _ => Err(format!(
            "unsupported Tag-File-Character-Encoding {encoding:?}"
        )),
    }
}

/// Splits text into lines on CRLF, LF or CR; a final line ending adds no empty line.
pub(super) fn lines(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while !rest.is_empty() {
        match rest.find(['\r', '\n']) {
            Some(i) => {
                out.push(&rest[..i]);
                let skip = if rest[i..].starts_with("\r\n") { 2 } else { 1 };
                rest = &rest[i + skip..];
            }
            None => {
                out.push(rest);
                break;
            }
        }
    }
    out
}

/// Percent-encodes a file path for a manifest or `fetch.txt` (RFC 8493 §2.1.3):
/// `%` → `%25`, LF → `%0A`, CR → `%0D`.
pub fn encode_path(path: &str) -> String {
    path.replace('%', "%25")
        .replace('\n', "%0A")
        .replace('\r', "%0D")
}

/// Reverses [`encode_path`]: only `%25`, `%0A`, `%0D` (either case) are
/// decoded; any other `%` stays as written.
pub fn decode_path(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(i) = rest.find('%') {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        let code = tail.get(1..3).map(|s| s.to_ascii_uppercase());
        match code.as_deref() {
            Some("25") => out.push('%'),
            Some("0A") => out.push('\n'),
            Some("0D") => out.push('\r'),
            _ => {
                out.push('%');
                rest = &tail[1..];
                continue;
            }
        }
        rest = &tail[3..];
    }
    out.push_str(rest);
    out
}

/// Why a relative bag path is unsafe or not portable, if it is: empty,
/// absolute, `~`-prefixed, a drive letter, backslashes, NUL, or `.`/`..`/empty
/// segments. Writers and readers use this to refuse paths escaping the bag.
pub fn path_problem(path: &str) -> Option<&'static str> {
    if path.is_empty() {
        return Some("empty path");
    }
    if path.starts_with('/') {
        return Some("absolute path");
    }
    if path.contains('\\') {
        return Some(
            "backslash in path (a separator on Windows: not portable, may escape the bag)",
        );
    }
    if path.contains('\0') {
        return Some("NUL byte in path");
    }
    if path.starts_with('~') {
        return Some("path starts with '~' (a home-directory shortcut)");
    }
    let b = path.as_bytes();
    if b.len() >= 2 && b[0].is_ascii_alphabetic() && b[1] == b':' {
        return Some("path starts with a drive letter");
    }
    for seg in path.split('/') {
        match seg {
            "" => return Some("empty path segment ('//' or trailing '/')"),
            "." => return Some("'.' segment in path"),
            ".." => return Some("'..' segment: path escapes the bag"),
            _ => {}
        }
    }
    None
}

/// A path's portable identity: NFC-normalised and lowercased. Two names with
/// the same key are one file on case-insensitive or normalising file systems
/// (macOS, Windows), so a writer should refuse the second.
pub fn portable_key(path: &str) -> String {
    fold(path)
}

pub(super) fn fold(path: &str) -> String {
    // ASCII is already NFC: skip the normaliser (every path of a package,
    // tens of thousands of them, takes this branch).
    if path.is_ascii() {
        return path.to_ascii_lowercase();
    }
    path.nfc().collect::<String>().to_lowercase()
}

pub(super) fn is_system_file(path: &str) -> bool {
    let name = path.rsplit('/').next().unwrap_or(path);
    matches!(
        name,
        ".DS_Store" | "Thumbs.db" | "desktop.ini" | "Icon\r" | "ehthumbs.db"
    ) || name.starts_with("._")
}

const EMPTY_DIGESTS: [(Algorithm, &str); 6] = [
    (Algorithm::Md5, "d41d8cd98f00b204e9800998ecf8427e"),
    (Algorithm::Sha1, "da39a3ee5e6b4b0d3255bfef95601890afd80709"),
    (
        Algorithm::Sha224,
        "d14a028c2a3a2bc9476102bb288234c415a2b01f828ea62ac5b3e42f",
    ),
    (
        Algorithm::Sha256,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    ),
    (
        Algorithm::Sha384,
        "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b",
    ),
    (
        Algorithm::Sha512,
        "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e",
    ),
];

pub(super) fn is_empty_digest(a: Algorithm, d: &str) -> bool {
    EMPTY_DIGESTS.iter().any(|(x, e)| *x == a && *e == d)
}
