//! BagIt (RFC 8493, and the v0.97 draft it grew from): pure validation and
//! the small text formats a bag writer needs.
//!
//! The caller walks the bag (a folder, a zip, a browser's file list), hashes
//! every file once with the algorithms [`algorithms_needed`] names, and hands
//! the result to [`validate`] as [`BagFiles`]. Nothing here touches a file.
//!
//! What is an error and what a warning follows RFC 8493 and bagit-python:
//! anything that makes the bag incomplete or invalid (a missing, extra or
//! corrupt file, a path escaping the bag, a malformed `bagit.txt`, a wrong
//! `Payload-Oxum`) is an error; oddities that lose no information (a leading
//! `./`, md5sum's `*` marker, a name that differs only by case or Unicode
//! normalisation from the file present, a repeated non-repeatable
//! `bag-info.txt` label) are warnings.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use sha2::Digest;
use unicode_normalization::UnicodeNormalization;

/// A checksum algorithm, named as in manifest file names (`manifest-sha256.txt`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Algorithm {
    /// MD5 (legacy bags only; too weak to protect anything).
    Md5,
    /// SHA-1 (legacy bags only).
    Sha1,
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl Algorithm {
    /// Every supported algorithm.
    pub const ALL: [Algorithm; 6] = [
        Algorithm::Md5,
        Algorithm::Sha1,
        Algorithm::Sha224,
        Algorithm::Sha256,
        Algorithm::Sha384,
        Algorithm::Sha512,
    ];

    /// The name used in manifest file names: `md5`, `sha1`, `sha256`, ...
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Md5 => "md5",
            Algorithm::Sha1 => "sha1",
            Algorithm::Sha224 => "sha224",
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// The algorithm with this manifest name (lowercase, as RFC 8493 §2.4 registers them).
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == name)
    }

    /// Length of a digest in lowercase hex.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Md5 => 32,
            Algorithm::Sha1 => 40,
            Algorithm::Sha224 => 56,
            Algorithm::Sha256 => 64,
            Algorithm::Sha384 => 96,
            Algorithm::Sha512 => 128,
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

enum AnyHasher {
    Md5(md5::Md5),
    Sha1(sha1::Sha1),
    Sha224(sha2::Sha224),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl AnyHasher {
    fn new(a: Algorithm) -> Self {
        match a {
            Algorithm::Md5 => AnyHasher::Md5(md5::Md5::new()),
            Algorithm::Sha1 => AnyHasher::Sha1(sha1::Sha1::new()),
            Algorithm::Sha224 => AnyHasher::Sha224(sha2::Sha224::new()),
            Algorithm::Sha256 => AnyHasher::Sha256(sha2::Sha256::new()),
            Algorithm::Sha384 => AnyHasher::Sha384(sha2::Sha384::new()),
            Algorithm::Sha512 => AnyHasher::Sha512(sha2::Sha512::new()),
        }
    }
    fn update(&mut self, b: &[u8]) {
        match self {
            AnyHasher::Md5(h) => h.update(b),
            AnyHasher::Sha1(h) => h.update(b),
            AnyHasher::Sha224(h) => h.update(b),
            AnyHasher::Sha256(h) => h.update(b),
            AnyHasher::Sha384(h) => h.update(b),
            AnyHasher::Sha512(h) => h.update(b),
        }
    }
    fn finish(self) -> String {
        match self {
            AnyHasher::Md5(h) => hex(&h.finalize()),
            AnyHasher::Sha1(h) => hex(&h.finalize()),
            AnyHasher::Sha224(h) => hex(&h.finalize()),
            AnyHasher::Sha256(h) => hex(&h.finalize()),
            AnyHasher::Sha384(h) => hex(&h.finalize()),
            AnyHasher::Sha512(h) => hex(&h.finalize()),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[usize::from(b >> 4)] as char);
        s.push(HEX[usize::from(b & 15)] as char);
    }
    s
}

/// Computes the size and several digests of one file in a single pass.
pub struct MultiHasher {
    size: u64,
    hashers: Vec<(Algorithm, AnyHasher)>,
}

impl MultiHasher {
    /// A hasher for these algorithms (duplicates are computed once).
    pub fn new(algorithms: &[Algorithm]) -> Self {
        let set: BTreeSet<Algorithm> = algorithms.iter().copied().collect();
        MultiHasher {
            size: 0,
            hashers: set.into_iter().map(|a| (a, AnyHasher::new(a))).collect(),
        }
    }

    /// Feeds the next bytes of the file.
    pub fn update(&mut self, bytes: &[u8]) {
        self.size = self.size.saturating_add(bytes.len() as u64);
        for (_, h) in &mut self.hashers {
            h.update(bytes);
        }
    }

    /// The size and lowercase-hex digests of everything fed.
    pub fn finish(self) -> FileDigest {
        FileDigest {
            size: self.size,
            digests: self
                .hashers
                .into_iter()
                .map(|(a, h)| (a, h.finish()))
                .collect(),
        }
    }

    /// Hashes a whole byte string.
    pub fn digest(algorithms: &[Algorithm], bytes: &[u8]) -> FileDigest {
        let mut h = Self::new(algorithms);
        h.update(bytes);
        h.finish()
    }
}

/// The size and digests of one file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FileDigest {
    /// Size in bytes.
    pub size: u64,
    /// Lowercase hex digest per algorithm.
    pub digests: BTreeMap<Algorithm, String>,
}

/// Everything [`validate`] needs to know about a bag, gathered by the caller.
#[derive(Clone, Debug, Default)]
pub struct BagFiles {
    /// Every file in the bag: path relative to the bag root, `/`-separated,
    /// as found on disk (before any percent-decoding), with its digests.
    pub files: BTreeMap<String, FileDigest>,
    /// Full contents of the tag files (files not under `data/`) the
    /// validator parses: at least every one [`is_parsed_tag_file`] names.
    /// Other tag files need only their digests in `files`.
    pub tag_contents: BTreeMap<String, Vec<u8>>,
    /// The bag has its payload directory `data/`, even an empty one. A
    /// reader sets this when it sees the folder (or a zip's `data/` entry);
    /// a file under `data/` in `files` counts as well.
    pub payload_dir: bool,
}

impl BagFiles {
    /// Whether the payload directory `data/` is present (RFC 8493 §2.1.2).
    pub fn has_payload_dir(&self) -> bool {
        self.payload_dir
            || self
                .files
                .range::<str, _>((
                    std::ops::Bound::Included("data/"),
                    std::ops::Bound::Excluded("data0"),
                ))
                .next()
                .is_some()
    }
}

/// Whether [`validate`] parses this tag file (path relative to the bag
/// root), so that a reader must hold its contents: the root-level
/// `bagit.txt`, `bag-info.txt`, `fetch.txt`, `manifest-*.txt` and
/// `tagmanifest-*.txt`. Any other tag file is only hashed.
pub fn is_parsed_tag_file(path: &str) -> bool {
    if path.contains('/') {
        return false;
    }
    matches!(path, "bagit.txt" | "bag-info.txt" | "fetch.txt")
        || ((path.starts_with("manifest-") || path.starts_with("tagmanifest-"))
            && path.ends_with(".txt"))
}

/// One problem found in a bag: the file concerned and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BagIssue {
    /// The file (relative to the bag root) the issue is about; `.` for the bag itself.
    pub path: String,
    /// What is wrong, on one line.
    pub what: String,
}

impl fmt::Display for BagIssue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.what)
    }
}

/// What [`validate`] concluded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BagVerdict {
    /// Complete and every digest checked (warnings allowed).
    Valid,
    /// At least one error.
    Invalid,
    /// No error found, but the payload could not be checked: every payload
    /// manifest uses an algorithm guwah does not implement.
    Uncheckable,
}

impl BagVerdict {
    /// `valid`, `invalid` or `cannot-check`.
    pub fn as_str(self) -> &'static str {
        match self {
            BagVerdict::Valid => "valid",
            BagVerdict::Invalid => "invalid",
            BagVerdict::Uncheckable => "cannot-check",
        }
    }
}

/// The outcome of [`validate`].
#[derive(Clone, Debug, Default)]
pub struct BagReport {
    /// `BagIt-Version` from `bagit.txt`, if it could be read.
    pub version: Option<String>,
    /// Problems that make the bag invalid.
    pub errors: Vec<BagIssue>,
    /// Why the payload could not be checked at all (only payload manifests
    /// of unsupported algorithms), if so: see [`BagVerdict::Uncheckable`].
    pub uncheckable: Option<BagIssue>,
    /// Oddities that do not make it invalid.
    pub warnings: Vec<BagIssue>,
    /// The `bag-info.txt` metadata: label as written → values in order.
    pub info: BTreeMap<String, Vec<String>>,
}

impl BagReport {
    /// Valid, invalid (any error), or uncheckable (no error, but no
    /// payload manifest guwah can check).
    pub fn verdict(&self) -> BagVerdict {
        if !self.errors.is_empty() {
            BagVerdict::Invalid
        } else if self.uncheckable.is_some() {
            BagVerdict::Uncheckable
        } else {
            BagVerdict::Valid
        }
    }

    /// True when every check ran and no error was found (warnings allowed).
    pub fn is_valid(&self) -> bool {
        self.verdict() == BagVerdict::Valid
    }

    /// The values of a `bag-info.txt` label, matched case-insensitively.
    pub fn info_values(&self, label: &str) -> Vec<&str> {
        self.info
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case(label))
            .flat_map(|(_, v)| v.iter().map(String::as_str))
            .collect()
    }

    fn err(&mut self, path: &str, what: impl Into<String>) {
        self.errors.push(BagIssue {
            path: path.to_string(),
            what: one_line(what.into()),
        });
    }

    fn warn(&mut self, path: &str, what: impl Into<String>) {
        self.warnings.push(BagIssue {
            path: path.to_string(),
            what: one_line(what.into()),
        });
    }
}

fn one_line(s: String) -> String {
    if s.contains(['\n', '\r']) {
        s.replace(['\n', '\r'], " ")
    } else {
        s
    }
}

/// The manifest file names in the bag root: `(is_tag_manifest, algorithm name, file name)`.
fn manifest_names(tag_contents: &BTreeMap<String, Vec<u8>>) -> Vec<(bool, String, String)> {
    let mut out = Vec::new();
    for name in tag_contents.keys() {
        if name.contains('/') {
            continue;
        }
        let (tag, rest) = if let Some(r) = name.strip_prefix("tagmanifest-") {
            (true, r)
        } else if let Some(r) = name.strip_prefix("manifest-") {
            (false, r)
        } else {
            continue;
        };
        if let Some(alg) = rest.strip_suffix(".txt") {
            out.push((tag, alg.to_string(), name.clone()));
        }
    }
    out
}

/// The algorithms to compute for every file, from the `manifest-*.txt` and
/// `tagmanifest-*.txt` names present (unsupported algorithms are left out;
/// [`validate`] reports them).
pub fn algorithms_needed(tag_contents: &BTreeMap<String, Vec<u8>>) -> Vec<Algorithm> {
    let set: BTreeSet<Algorithm> = manifest_names(tag_contents)
        .iter()
        .filter_map(|(_, a, _)| Algorithm::from_name(a))
        .collect();
    set.into_iter().collect()
}

// ---------------------------------------------------------------- text

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
fn lines(text: &str) -> Vec<&str> {
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

fn fold(path: &str) -> String {
    // ASCII is already NFC: skip the normaliser (every path of a package,
    // tens of thousands of them, takes this branch).
    if path.is_ascii() {
        return path.to_ascii_lowercase();
    }
    path.nfc().collect::<String>().to_lowercase()
}

fn is_system_file(path: &str) -> bool {
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

fn is_empty_digest(a: Algorithm, d: &str) -> bool {
    EMPTY_DIGESTS.iter().any(|(x, e)| *x == a && *e == d)
}

// ---------------------------------------------------------------- bagit.txt

struct Declaration {
    version: (u32, u32),
    encoding: String,
}

fn parse_version(v: &str) -> Option<(u32, u32)> {
    let (a, b) = v.split_once('.')?;
    let digits = |s: &str| !s.is_empty() && s.len() <= 4 && s.bytes().all(|c| c.is_ascii_digit());
    if !digits(a) || !digits(b) {
        return None;
    }
    Some((a.parse().ok()?, b.parse().ok()?))
}

fn check_declaration(files: &BagFiles, r: &mut BagReport) -> Option<Declaration> {
    const P: &str = "bagit.txt";
    let Some(bytes) = files.tag_contents.get(P) else {
        r.err(P, "missing: every bag must have a bag declaration");
        return None;
    };
    if bytes.starts_with(b"\xEF\xBB\xBF") {
        r.err(
            P,
            "starts with a byte-order mark, which the bag declaration must not contain",
        );
        return None;
    }
    let Ok(text) = std::str::from_utf8(bytes) else {
        r.err(P, "not valid UTF-8");
        return None;
    };
    let (mut version, mut encoding) = (None::<String>, None::<String>);
    let mut strict_problems = Vec::new();
    for (n, line) in lines(text).into_iter().enumerate() {
        let n = n + 1;
        if line.trim().is_empty() {
            continue;
        }
        let Some((label, value)) = line.split_once(':') else {
            r.err(P, format!("line {n}: not 'Label: value'"));
            continue;
        };
        if label != label.trim() {
            r.err(
                P,
                format!("line {n}: whitespace around the label {:?}", label.trim()),
            );
        }
        let Some(v) = value.strip_prefix(' ') else {
            r.err(P, format!("line {n}: a single space must follow the ':'"));
            continue;
        };
        if v != v.trim() {
            strict_problems.push(format!(
                "line {n}: whitespace around the value {:?}",
                v.trim()
            ));
        }
        let slot = match label.trim() {
            "BagIt-Version" => &mut version,
            "Tag-File-Character-Encoding" => &mut encoding,
            other => {
                r.warn(P, format!("line {n}: unexpected label {other:?}"));
                continue;
            }
        };
        if slot.is_some() {
            r.err(P, format!("line {n}: {} given twice", label.trim()));
        }
        *slot = Some(v.trim().to_string());
    }
    let Some(v) = version else {
        r.err(P, "missing required BagIt-Version line");
        return None;
    };
    r.version = Some(v.clone());
    let Some(parsed) = parse_version(&v) else {
        r.err(P, format!("BagIt-Version {v:?} is not MAJOR.MINOR"));
        return None;
    };
    for p in strict_problems {
        if parsed >= (1, 0) {
            r.err(P, p)
        } else {
            r.warn(P, p)
        }
    }
    match parsed {
        (0, m) if m >= 93 => {}
        (1, 0) => {}
        (1, _) => r.warn(
            P,
            format!("BagIt-Version {v} is newer than 1.0; checked as 1.0"),
        ),
        _ => {
            r.err(P, format!("unsupported BagIt-Version {v}"));
            return None;
        }
    }
    let Some(encoding) = encoding else {
        r.err(P, "missing required Tag-File-Character-Encoding line");
        return None;
    };
    Some(Declaration {
        version: parsed,
        encoding,
    })
}

// ---------------------------------------------------------------- manifests

struct Manifest {
    name: String,
    algorithm: Algorithm,
    /// decoded path → lowercase digest
    entries: BTreeMap<String, String>,
}

/// Cleans and checks one path from a manifest or fetch.txt: decoding,
/// md5sum's `*`, a leading `./`, safety. `None` when unusable (error reported).
fn clean_path(raw: &str, file: &str, n: usize, r: &mut BagReport) -> Option<String> {
    let mut p = decode_path(raw);
    if let Some(rest) = p.strip_prefix('*') {
        r.warn(
            file,
            format!("line {n}: '*' before {rest:?} (md5sum's binary-mode marker) ignored"),
        );
        p = rest.to_string();
    }
    let mut stripped = false;
    while let Some(rest) = p.strip_prefix("./") {
        p = rest.to_string();
        stripped = true;
    }
    if stripped {
        r.warn(file, format!("line {n}: leading './' in {raw:?} ignored"));
    }
    if let Some(why) = path_problem(&p) {
        r.err(file, format!("line {n}: {p:?}: {why}"));
        return None;
    }
    Some(p)
}

fn parse_manifest(
    name: &str,
    algorithm: Algorithm,
    text: &str,
    payload: bool,
    v1: bool,
    r: &mut BagReport,
) -> Manifest {
    let mut entries: BTreeMap<String, String> = BTreeMap::new();
    let mut folded: BTreeMap<String, String> = BTreeMap::new();
    for (n, line) in lines(text).into_iter().enumerate() {
        let n = n + 1;
        if line.trim().is_empty() {
            continue;
        }
        let Some(i) = line.find([' ', '\t']) else {
            r.err(name, format!("line {n}: not 'checksum filepath'"));
            continue;
        };
        let digest = line[..i].to_ascii_lowercase();
        let raw = line[i..].trim_start_matches([' ', '\t']);
        if digest.len() != algorithm.hex_len() || !digest.bytes().all(|b| b.is_ascii_hexdigit()) {
            r.err(
                name,
                format!("line {n}: {digest:?} is not a {algorithm} checksum"),
            );
            continue;
        }
        if raw.is_empty() {
            r.err(name, format!("line {n}: no file path"));
            continue;
        }
        let Some(path) = clean_path(raw, name, n, r) else {
            continue;
        };
        let under_data = path.starts_with("data/");
        if payload && !under_data {
            r.err(name, format!("line {n}: {path:?} is outside data/: a payload manifest lists payload files only"));
            continue;
        }
        if !payload && under_data {
            r.err(
                name,
                format!(
                    "line {n}: {path:?} is a payload file: a tag manifest lists tag files only"
                ),
            );
            continue;
        }
        if let Some(prev) = entries.get(&path) {
            if *prev != digest {
                r.err(
                    name,
                    format!("line {n}: {path:?} listed again with a different checksum"),
                );
            } else if v1 {
                r.err(name, format!("line {n}: {path:?} listed more than once"));
            } else {
                r.warn(name, format!("line {n}: {path:?} listed more than once"));
            }
            continue;
        }
        let f = fold(&path);
        if let Some(other) = folded.get(&f) {
            r.warn(
                name,
                format!(
                    "line {n}: {path:?} and {other:?} differ only in case or Unicode normalisation: \
                     on many file systems they are the same file"
                ),
            );
        } else {
            folded.insert(f, path.clone());
        }
        entries.insert(path, digest);
    }
    Manifest {
        name: name.to_string(),
        algorithm,
        entries,
    }
}

/// How a listed path was found among the files present.
enum Found<'a> {
    Exact(&'a FileDigest),
    Equivalent(&'a str, &'a FileDigest),
    Missing,
}

fn find<'a>(
    files: &'a BagFiles,
    folded: &'a BTreeMap<String, Vec<String>>,
    path: &str,
) -> Found<'a> {
    if let Some(d) = files.files.get(path) {
        return Found::Exact(d);
    }
    if let Some([only]) = folded.get(&fold(path)).map(Vec::as_slice)
        && let Some(d) = files.files.get(only)
    {
        return Found::Equivalent(only, d);
    }
    Found::Missing
}

/// Checks a whole bag: its declaration, every manifest, `bag-info.txt`,
/// `fetch.txt`, and every file's presence and digests. Never panics.
pub fn validate(files: &BagFiles) -> BagReport {
    let mut r = BagReport::default();
    if !files.has_payload_dir() {
        r.err(
            "data/",
            "missing: every bag must have a payload directory named data (RFC 8493 §2.1.2)",
        );
    }
    let Some(decl) = check_declaration(files, &mut r) else {
        return r;
    };
    let v1 = decl.version >= (1, 0);
    let enc = decl.encoding.clone();
    let text_of = |name: &str, r: &mut BagReport| -> Option<String> {
        let bytes = files.tag_contents.get(name)?;
        match decode_text(bytes, &enc) {
            Ok(t) => Some(t),
            Err(e) => {
                r.err(name, e);
                None
            }
        }
    };

    // Files present, with their case/normalisation-folded names.
    let mut folded: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for p in files.files.keys() {
        folded.entry(fold(p)).or_default().push(p.clone());
        if is_parsed_tag_file(p) && !files.tag_contents.contains_key(p) {
            r.err(p, "tag file contents not provided to the validator");
        }
        if let Some(why) = path_problem(p) {
            r.err(p, format!("unsafe file name: {why}"));
        }
        if p.starts_with("data/") && is_system_file(p) {
            r.warn(p, "operating-system metadata file in the payload");
        }
    }

    // Manifests.
    let mut payload = Vec::new();
    let mut tag = Vec::new();
    let mut unsupported_payload = Vec::new();
    for (is_tag, alg, name) in manifest_names(&files.tag_contents) {
        let Some(a) = Algorithm::from_name(&alg) else {
            if !is_tag {
                unsupported_payload.push(name.clone());
            }
            r.warn(
                &name,
                format!("unsupported checksum algorithm {alg:?}: not checked"),
            );
            continue;
        };
        let Some(text) = text_of(&name, &mut r) else {
            continue;
        };
        let m = parse_manifest(&name, a, &text, !is_tag, v1, &mut r);
        if is_tag { tag.push(m) } else { payload.push(m) }
    }
    if payload.is_empty() && !unsupported_payload.is_empty() {
        // Not proof of anything wrong: guwah just cannot check it.
        r.uncheckable = Some(BagIssue {
            path: ".".into(),
            what: format!(
                "cannot check the payload: its only payload manifests ({}) use algorithms guwah does not implement (supported: {})",
                unsupported_payload.join(", "),
                Algorithm::ALL.map(Algorithm::name).join(", ")
            ),
        });
    } else if payload.is_empty() {
        r.err(
            ".",
            "no payload manifest (manifest-<algorithm>.txt) with a supported algorithm",
        );
    }

    // fetch.txt
    let mut fetch: BTreeSet<String> = BTreeSet::new();
    if let Some(text) = text_of("fetch.txt", &mut r) {
        for (n, line) in lines(&text).into_iter().enumerate() {
            let n = n + 1;
            if line.trim().is_empty() {
                continue;
            }
            let mut parts = line.splitn(3, [' ', '\t']);
            let (Some(url), Some(len), Some(raw)) = (parts.next(), parts.next(), parts.next())
            else {
                r.err("fetch.txt", format!("line {n}: not 'url length filepath'"));
                continue;
            };
            if url.is_empty() || (len != "-" && len.parse::<u64>().is_err()) {
                r.err("fetch.txt", format!("line {n}: not 'url length filepath'"));
                continue;
            }
            let Some(p) = clean_path(raw.trim_start_matches([' ', '\t']), "fetch.txt", n, &mut r)
            else {
                continue;
            };
            if !p.starts_with("data/") {
                r.err("fetch.txt", format!("line {n}: {p:?} is outside data/"));
                continue;
            }
            if !payload.iter().any(|m| m.entries.contains_key(&p)) && !payload.is_empty() {
                r.err(
                    "fetch.txt",
                    format!("line {n}: {p:?} is not listed in the payload manifests"),
                );
            }
            fetch.insert(p);
        }
    }

    // Payload manifests: every listed file present with the right digest,
    // every payload file listed. Files tolerated as missing count for the Oxum.
    let mut tolerated_missing: BTreeSet<String> = BTreeSet::new();
    for m in &payload {
        let mut covered: BTreeSet<&str> = BTreeSet::new();
        check_entries(
            files,
            &folded,
            m,
            &fetch,
            &mut covered,
            &mut tolerated_missing,
            &mut r,
        );
        for p in files.files.keys().filter(|p| p.starts_with("data/")) {
            if !covered.contains(p.as_str()) {
                r.err(p, format!("payload file not listed in {}", m.name));
            }
        }
    }

    // Tag manifests.
    for m in &tag {
        let mut covered = BTreeSet::new();
        let mut ignored = BTreeSet::new();
        check_entries(
            files,
            &folded,
            m,
            &BTreeSet::new(),
            &mut covered,
            &mut ignored,
            &mut r,
        );
        for p in &payload {
            if !m.entries.contains_key(&p.name) {
                let what = format!("does not list the payload manifest {}", p.name);
                if v1 {
                    r.err(&m.name, what)
                } else {
                    r.warn(&m.name, what)
                }
            }
        }
        for listed in m.entries.keys() {
            if listed.starts_with("tagmanifest-") && !listed.contains('/') {
                r.warn(&m.name, format!("lists another tag manifest, {listed}"));
            }
        }
    }

    // bag-info.txt
    if let Some(text) = text_of("bag-info.txt", &mut r) {
        r.info = parse_bag_info_into(&text, &mut r);
        check_bag_info(files, &tolerated_missing, &mut r);
    }
    r
}

fn check_entries<'a>(
    files: &'a BagFiles,
    folded: &'a BTreeMap<String, Vec<String>>,
    m: &Manifest,
    fetch: &BTreeSet<String>,
    covered: &mut BTreeSet<&'a str>,
    tolerated_missing: &mut BTreeSet<String>,
    r: &mut BagReport,
) {
    let a = m.algorithm;
    for (path, want) in &m.entries {
        let (present, got) = match find(files, folded, path) {
            Found::Exact(d) => {
                covered.insert(
                    files
                        .files
                        .get_key_value(path)
                        .map(|(k, _)| k.as_str())
                        .unwrap_or(""),
                );
                (path.as_str(), d)
            }
            Found::Equivalent(other, d) => {
                if d.digests.get(&a) == Some(want) {
                    r.warn(
                        path,
                        format!(
                            "listed in {} but present only as {other:?} (same name on case-insensitive or \
                             normalising file systems); checksum matches",
                            m.name
                        ),
                    );
                    covered.insert(other);
                    continue;
                }
                (other, d)
            }
            Found::Missing => {
                if fetch.contains(path) {
                    r.err(
                        path,
                        format!(
                            "listed in {} and fetch.txt but not fetched: the bag is not complete",
                            m.name
                        ),
                    );
                } else if is_system_file(path) && is_empty_digest(a, want) {
                    r.warn(
                        path,
                        format!(
                            "empty operating-system metadata file listed in {} is missing",
                            m.name
                        ),
                    );
                    tolerated_missing.insert(path.clone());
                } else {
                    r.err(path, format!("listed in {} but missing", m.name));
                }
                continue;
            }
        };
        match got.digests.get(&a) {
            None => r.err(present, format!("{a} digest not computed by the caller")),
            Some(have) if have != want => r.err(
                present,
                format!(
                    "{a} checksum mismatch: {} says {want}, file has {have}",
                    m.name
                ),
            ),
            Some(_) => {}
        }
    }
}

// ---------------------------------------------------------------- bag-info.txt

/// Parses `bag-info.txt` text: `Label: value` lines, continuation lines
/// (starting with space or tab) joined with a single space. Returns the
/// elements in order, or the first malformed line's problem.
pub fn parse_bag_info(text: &str) -> Result<Vec<(String, String)>, String> {
    let mut out: Vec<(String, String)> = Vec::new();
    for (n, line) in lines(text).into_iter().enumerate() {
        let n = n + 1;
        if line.starts_with([' ', '\t']) {
            let Some(last) = out.last_mut() else {
                return Err(format!("line {n}: continuation line before any label"));
            };
            let more = line.trim();
            if !more.is_empty() {
                if !last.1.is_empty() {
                    last.1.push(' ');
                }
                last.1.push_str(more);
            }
            continue;
        }
        if line.trim().is_empty() {
            continue;
        }
        let Some((label, value)) = line.split_once(':') else {
            return Err(format!("line {n}: not 'Label: value'"));
        };
        let label = label.trim();
        if label.is_empty() {
            return Err(format!("line {n}: empty label"));
        }
        out.push((label.to_string(), value.trim().to_string()));
    }
    Ok(out)
}

fn parse_bag_info_into(text: &str, r: &mut BagReport) -> BTreeMap<String, Vec<String>> {
    let mut map: BTreeMap<String, Vec<String>> = BTreeMap::new();
    match parse_bag_info(text) {
        Ok(els) => {
            for (k, v) in els {
                map.entry(k).or_default().push(v);
            }
        }
        Err(e) => r.err("bag-info.txt", e),
    }
    map
}

fn valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| {
        s.get(r)
            .filter(|t| t.bytes().all(|c| c.is_ascii_digit()))?
            .parse::<u32>()
            .ok()
    };
    match (num(0..4), num(5..7), num(8..10)) {
        (Some(_), Some(m), Some(d)) => (1..=12).contains(&m) && (1..=31).contains(&d),
        _ => false,
    }
}

fn check_bag_info(files: &BagFiles, tolerated_missing: &BTreeSet<String>, r: &mut BagReport) {
    const P: &str = "bag-info.txt";
    for label in [
        "Bagging-Date",
        "Bag-Size",
        "Payload-Oxum",
        "Bag-Group-Identifier",
        "Bag-Count",
    ] {
        if r.info_values(label).len() > 1 {
            r.warn(P, format!("{label} appears more than once"));
        }
    }
    for d in r
        .info_values("Bagging-Date")
        .into_iter()
        .map(str::to_string)
        .collect::<Vec<_>>()
    {
        if !valid_date(&d) {
            r.warn(P, format!("Bagging-Date {d:?} is not YYYY-MM-DD"));
        }
    }
    let oxums: Vec<String> = r
        .info_values("Payload-Oxum")
        .into_iter()
        .map(str::to_string)
        .collect();
    if let Some(ox) = oxums.first() {
        let parsed = ox
            .split_once('.')
            .and_then(|(a, b)| Some((a.parse::<u64>().ok()?, b.parse::<u64>().ok()?)));
        let Some((bytes, count)) = parsed else {
            r.err(
                P,
                format!("Payload-Oxum {ox:?} is not OCTETCOUNT.STREAMCOUNT"),
            );
            return;
        };
        let (mut have_bytes, mut have_count) = (0u64, tolerated_missing.len() as u64);
        for (p, d) in &files.files {
            if p.starts_with("data/") {
                have_bytes = have_bytes.saturating_add(d.size);
                have_count += 1;
            }
        }
        if (bytes, count) != (have_bytes, have_count) {
            r.err(
                P,
                format!(
                    "Payload-Oxum {ox} says {count} files of {bytes} bytes in all; \
                     the payload has {have_count} files of {have_bytes} bytes"
                ),
            );
        }
    }
}

// ---------------------------------------------------------------- writing

/// The bag declaration guwah writes: BagIt 1.0, UTF-8 tag files.
pub fn bagit_txt() -> &'static str {
    "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n"
}

/// A manifest's text: one `digest  path` line per entry, sorted by path,
/// paths percent-encoded per RFC 8493 §2.1.3, digests lowercased. The
/// algorithm is the manifest's; entries whose digest has the wrong length
/// for it are still written (the validator will flag them).
pub fn manifest_text<P: AsRef<str>, D: AsRef<str>>(
    algorithm: Algorithm,
    entries: &[(P, D)],
) -> String {
    let mut sorted: Vec<(&str, String)> = entries
        .iter()
        .map(|(p, d)| (p.as_ref(), d.as_ref().to_ascii_lowercase()))
        .collect();
    sorted.sort();
    let mut out = String::with_capacity(sorted.len() * (algorithm.hex_len() + 40));
    for (p, d) in sorted {
        out.push_str(&d);
        out.push_str("  ");
        out.push_str(&encode_path(p));
        out.push('\n');
    }
    out
}

/// `bag-info.txt` text: `Label: value` lines in the order given. Line breaks
/// inside a value become continuation lines; in a label, and `:` in a label,
/// they become `-` (labels cannot hold them).
pub fn bag_info_text<L: AsRef<str>, V: AsRef<str>>(fields: &[(L, V)]) -> String {
    let mut out = String::new();
    for (l, v) in fields {
        let label: String = l
            .as_ref()
            .trim()
            .chars()
            .map(|c| {
                if matches!(c, ':' | '\r' | '\n') {
                    '-'
                } else {
                    c
                }
            })
            .collect();
        out.push_str(&label);
        out.push(':');
        let mut first = true;
        for part in lines(v.as_ref()) {
            out.push_str(if first { " " } else { "\n  " });
            out.push_str(part.trim());
            first = false;
        }
        if first {
            out.push(' ');
        }
        out.push('\n');
    }
    out
}

/// A `Payload-Oxum` value: `OCTETCOUNT.STREAMCOUNT`.
pub fn payload_oxum(bytes: u64, count: u64) -> String {
    format!("{bytes}.{count}")
}
