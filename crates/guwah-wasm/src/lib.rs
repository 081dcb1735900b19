//! The browser verifier's engine: a tiny C-ABI WebAssembly module over
//! [`guwah_core`], loaded by `verify.html` without wasm-bindgen.
//!
//! The page reads the bag (a folder or a .zip) itself and feeds this module:
//!
//! 1. [`reset`], then every tag file (anything not under `data/`) that
//!    verification reads ([`is_read_tag_file`]) whole with [`tag_file`],
//!    and [`payload_dir`] if the bag has a `data/` folder (an empty one
//!    too); other tag files are hashed like payload files (step 3);
//! 2. [`algorithms`] says which digests the manifests need, as a bit mask;
//! 3. every payload file streams through a hasher in chunks
//!    ([`hasher_new`], [`hasher_update`], [`hasher_finish`]), so a bag of any
//!    size verifies in constant memory. Hashing may run in Web Workers, each
//!    with its own instance: the line [`hasher_finish`] returns is handed to
//!    the main instance with [`file_digest`];
//! 4. [`verify`] runs [`guwah_core::bundle::verify_bundle`] (which includes
//!    the full BagIt validation) against the verifier keys the user pasted,
//!    and returns its report as JSON.
//!
//! Text results are written to one output buffer: the function returns its
//! address and [`out_len`] its length, valid until the next call.
//!
//! # Why `unsafe` is allowed here
//!
//! The workspace denies `unsafe_code`. A WebAssembly module without
//! wasm-bindgen can only exchange bytes with JavaScript through raw
//! pointers into its linear memory, and its exports need `#[no_mangle]`,
//! so this crate (and only this crate) allows `unsafe`. Every `unsafe`
//! block is the conversion of a (pointer, length) pair that the page
//! obtained from [`guwah_alloc`] into a slice; all logic is in the safe
//! [`Session`], which the native unit tests exercise directly.
#![allow(unsafe_code)]

use std::cell::RefCell;
use std::collections::BTreeMap;

use guwah_core::bag::{Algorithm, BagFiles, FileDigest, MultiHasher, algorithms_needed};
use guwah_core::bundle::{InOrder, PreparedBundle, finish_bundle, prepare_bundle};
use guwah_core::note::Verifier;

/// The bit of `alg` in a hasher mask: bit `i` is [`Algorithm::ALL`]`[i]`.
pub fn alg_bit(alg: Algorithm) -> u32 {
    let i = Algorithm::ALL.iter().position(|a| *a == alg).unwrap_or(0);
    1 << i
}

/// The algorithms of a mask, in [`Algorithm::ALL`] order.
pub fn mask_algorithms(mask: u32) -> Vec<Algorithm> {
    Algorithm::ALL
        .iter()
        .enumerate()
        .filter(|(i, _)| mask & (1 << i) != 0)
        .map(|(_, a)| *a)
        .collect()
}

/// Appends `s` to `out` as a JSON string literal.
fn json_str(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A file's digests as one line: `size alg:hex alg:hex ...`.
pub fn digest_line(d: &FileDigest) -> String {
    let mut s = d.size.to_string();
    for (a, hex) in &d.digests {
        s.push(' ');
        s.push_str(a.name());
        s.push(':');
        s.push_str(hex);
    }
    s
}

/// Parses a [`digest_line`].
pub fn parse_digest_line(line: &str) -> Option<FileDigest> {
    let mut parts = line.split(' ');
    let size = parts.next()?.parse().ok()?;
    let mut digests = BTreeMap::new();
    for p in parts {
        let (name, hex) = p.split_once(':')?;
        let alg = Algorithm::from_name(name)?;
        if hex.len() != alg.hex_len() || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
            return None;
        }
        digests.insert(alg, hex.to_ascii_lowercase());
    }
    Some(FileDigest { size, digests })
}

/// One verification in progress: what the page has pushed so far.
#[derive(Default)]
pub struct Session {
    files: BagFiles,
    hashers: BTreeMap<u32, MultiHasher>,
    next_handle: u32,
    /// [`Session::prepare`]'s result, its trusted key count and key errors.
    prepared: Option<(PreparedBundle, usize, Vec<String>)>,
}

/// Verifier keys from the page's text box (vkey lines; blank lines and `#`
/// comments ignored), and one error per line that is not a key.
fn parse_trusted(trusted: &str) -> (Vec<Verifier>, Vec<String>) {
    let mut keys = Vec::new();
    let mut errors = Vec::new();
    for (i, line) in trusted.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        match Verifier::from_vkey(line) {
            Ok(k) => keys.push(k),
            Err(e) => errors.push(format!("line {}: {e}", i + 1)),
        }
    }
    (keys, errors)
}

impl Session {
    /// A tag file (any file not under `data/`), whole.
    pub fn tag_file(&mut self, path: String, bytes: Vec<u8>) {
        self.files.tag_contents.insert(path, bytes);
    }

    /// The bag has a payload folder `data/` (perhaps empty).
    pub fn payload_dir(&mut self) {
        self.files.payload_dir = true;
    }

    /// The algorithms the bag's manifests need, as `(mask, JSON)`: the JSON
    /// is `{"mask":n,"algorithms":["sha512",...]}`.
    pub fn algorithms(&self) -> (u32, String) {
        let algs = algorithms_needed(&self.files.tag_contents);
        let mask = algs.iter().fold(0, |m, a| m | alg_bit(*a));
        let mut j = format!("{{\"mask\":{mask},\"algorithms\":[");
        for (i, a) in algs.iter().enumerate() {
            if i > 0 {
                j.push(',');
            }
            json_str(&mut j, a.name());
        }
        j.push_str("]}");
        (mask, j)
    }

    /// A new streaming hasher for the algorithms of `mask`; returns its handle.
    pub fn hasher_new(&mut self, mask: u32) -> u32 {
        self.next_handle = self.next_handle.wrapping_add(1).max(1);
        let h = self.next_handle;
        self.hashers
            .insert(h, MultiHasher::new(&mask_algorithms(mask)));
        h
    }

    /// Feeds bytes to a hasher; false if the handle is unknown.
    pub fn hasher_update(&mut self, handle: u32, bytes: &[u8]) -> bool {
        match self.hashers.get_mut(&handle) {
            Some(h) => {
                h.update(bytes);
                true
            }
            None => false,
        }
    }

    /// Finishes a hasher, records the digests as payload file `path`, and
    /// returns them as a [`digest_line`]; `None` if the handle is unknown.
    pub fn hasher_finish(&mut self, handle: u32, path: String) -> Option<String> {
        let d = self.hashers.remove(&handle)?.finish();
        let line = digest_line(&d);
        self.add_digest(path, d);
        Some(line)
    }

    /// Records digests computed elsewhere (a [`digest_line`], e.g. from a
    /// worker's instance). Digests of the same file merge; false if the
    /// line does not parse or its size disagrees with an earlier one.
    pub fn file_digest(&mut self, path: String, line: &str) -> bool {
        match parse_digest_line(line) {
            Some(d) => self.add_digest(path, d),
            None => false,
        }
    }

    fn add_digest(&mut self, path: String, d: FileDigest) -> bool {
        match self.files.files.get_mut(&path) {
            None => {
                self.files.files.insert(path, d);
                true
            }
            Some(old) if old.size == d.size => {
                old.digests.extend(d.digests);
                true
            }
            Some(_) => false,
        }
    }

    /// Verifies the package against the verifier keys in `trusted` (vkey
    /// lines; blank lines and `#` comments ignored). Returns
    /// `{"trusted_keys":n,"trusted_errors":[...],"report":{...}}` where
    /// `report` is [`guwah_core::bundle::BundleReport::to_json`].
    pub fn verify(&self, trusted: &str) -> String {
        let (keys, errors) = parse_trusted(trusted);
        let prepared = prepare_bundle(&self.files.tag_contents, &keys, &InOrder);
        self.report_json(prepared, keys.len(), &errors)
    }

    /// The checks of [`Session::verify`] that need only the tag files, run
    /// now (while other workers hash the payload); [`Session::finish`]
    /// completes them once every digest is in.
    pub fn prepare(&mut self, trusted: &str) {
        let (keys, errors) = parse_trusted(trusted);
        let prepared = prepare_bundle(&self.files.tag_contents, &keys, &InOrder);
        self.prepared = Some((prepared, keys.len(), errors));
    }

    /// Completes [`Session::prepare`]: the same JSON as [`Session::verify`];
    /// `None` if nothing was prepared.
    pub fn finish(&mut self) -> Option<String> {
        let (prepared, n, errors) = self.prepared.take()?;
        Some(self.report_json(prepared, n, &errors))
    }

    fn report_json(
        &self,
        prepared: PreparedBundle,
        trusted_keys: usize,
        errors: &[String],
    ) -> String {
        // Tag files are small and held whole: hash them here, with every
        // algorithm any manifest needs.
        let mut files = self.files.clone();
        let algs = algorithms_needed(&files.tag_contents);
        for (path, bytes) in &files.tag_contents {
            files
                .files
                .insert(path.clone(), MultiHasher::digest(&algs, bytes));
        }
        let report = finish_bundle(prepared, &files);
        let mut j = format!("{{\"trusted_keys\":{trusted_keys},\"trusted_errors\":[");
        for (i, e) in errors.iter().enumerate() {
            if i > 0 {
                j.push(',');
            }
            json_str(&mut j, e);
        }
        j.push_str("],\"report\":");
        j.push_str(&report.to_json());
        j.push('}');
        j
    }
}

thread_local! {
    static SESSION: RefCell<Session> = RefCell::new(Session::default());
    static OUT: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

fn with_session<R>(f: impl FnOnce(&mut Session) -> R) -> R {
    SESSION.with(|s| f(&mut s.borrow_mut()))
}

/// Puts `text` in the output buffer and returns its address.
fn output(text: String) -> *const u8 {
    OUT.with(|o| {
        let mut o = o.borrow_mut();
        *o = text.into_bytes();
        o.as_ptr()
    })
}

/// Copies `len` bytes at `ptr` (null or zero length: empty).
///
/// # Safety
/// `ptr..ptr+len` must be readable memory of this module.
unsafe fn bytes_at<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if ptr.is_null() || len == 0 {
        return &[];
    }
    // SAFETY: the caller guarantees `ptr..ptr+len` is readable; the page
    // passes only buffers it got from `guwah_alloc` with at least `len` bytes.
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

/// A string from `(ptr, len)`, lossily decoded as UTF-8.
///
/// # Safety
/// As [`bytes_at`].
unsafe fn string_at(ptr: *const u8, len: usize) -> String {
    // SAFETY: forwarded from the caller.
    String::from_utf8_lossy(unsafe { bytes_at(ptr, len) }).into_owned()
}

/// Allocates `len` bytes in the module's memory for the page to write into.
#[unsafe(no_mangle)]
pub extern "C" fn guwah_alloc(len: usize) -> *mut u8 {
    let mut v = Vec::<u8>::with_capacity(len.max(1));
    let p = v.as_mut_ptr();
    std::mem::forget(v);
    p
}

/// Frees a buffer from [`guwah_alloc`].
///
/// # Safety
/// `ptr` must come from `guwah_alloc(len)` with the same `len`, and not be
/// freed twice.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn guwah_free(ptr: *mut u8, len: usize) {
    if ptr.is_null() {
        return;
    }
    // SAFETY: `ptr` was allocated by `guwah_alloc` as a Vec<u8> of capacity
    // `len.max(1)` (the caller's contract); rebuilding it with length 0 drops
    // no elements and frees the allocation with the same layout.
    drop(unsafe { Vec::from_raw_parts(ptr, 0, len.max(1)) });
}

/// Length of the text last put in the output buffer.
#[unsafe(no_mangle)]
pub extern "C" fn out_len() -> usize {
    OUT.with(|o| o.borrow().len())
}

/// Forgets everything pushed so far: starts a new verification.
#[unsafe(no_mangle)]
pub extern "C" fn reset() {
    with_session(|s| *s = Session::default());
    OUT.with(|o| *o.borrow_mut() = Vec::new());
}

/// Pushes a tag file whole.
///
/// # Safety
/// Both (pointer, length) pairs must be readable memory of this module.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn tag_file(
    path_ptr: *const u8,
    path_len: usize,
    data_ptr: *const u8,
    data_len: usize,
) {
    // SAFETY: the caller's contract.
    let (path, data) = unsafe { (string_at(path_ptr, path_len), bytes_at(data_ptr, data_len)) };
    with_session(|s| s.tag_file(path, data.to_vec()));
}

/// The bag has a payload folder `data/`, even an empty one (a bag's files
/// alone cannot show an empty folder).
#[unsafe(no_mangle)]
pub extern "C" fn payload_dir() {
    with_session(Session::payload_dir);
}

/// 1 if verification reads this tag file (then push it with [`tag_file`]),
/// 0 if only its digests are needed
/// ([`guwah_core::bundle::is_read_tag_file`]).
///
/// # Safety
/// `(path_ptr, path_len)` must be readable memory of this module.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn is_read_tag_file(path_ptr: *const u8, path_len: usize) -> u32 {
    // SAFETY: the caller's contract.
    let path = unsafe { string_at(path_ptr, path_len) };
    u32::from(guwah_core::bundle::is_read_tag_file(&path))
}

/// The algorithms the manifests need: returns the mask; the output buffer
/// holds `{"mask":n,"algorithms":[...]}`.
#[unsafe(no_mangle)]
pub extern "C" fn algorithms() -> u32 {
    let (mask, json) = with_session(|s| s.algorithms());
    output(json);
    mask
}

/// A new streaming hasher (bit `i` of `algs_mask` is `Algorithm::ALL[i]`).
#[unsafe(no_mangle)]
pub extern "C" fn hasher_new(algs_mask: u32) -> u32 {
    with_session(|s| s.hasher_new(algs_mask))
}

/// Feeds a chunk to a hasher; returns 0, or -1 for an unknown handle.
///
/// # Safety
/// `(ptr, len)` must be readable memory of this module.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn hasher_update(handle: u32, ptr: *const u8, len: usize) -> i32 {
    // SAFETY: the caller's contract.
    let bytes = unsafe { bytes_at(ptr, len) };
    if with_session(|s| s.hasher_update(handle, bytes)) {
        0
    } else {
        -1
    }
}

/// Finishes a hasher and records the payload file `path`; returns the
/// address of its digest line (`size alg:hex ...`, length [`out_len`]), or
/// null for an unknown handle.
///
/// # Safety
/// `(path_ptr, path_len)` must be readable memory of this module.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn hasher_finish(
    handle: u32,
    path_ptr: *const u8,
    path_len: usize,
) -> *const u8 {
    // SAFETY: the caller's contract.
    let path = unsafe { string_at(path_ptr, path_len) };
    match with_session(|s| s.hasher_finish(handle, path)) {
        Some(line) => output(line),
        None => std::ptr::null(),
    }
}

/// Records a payload file's digest line computed by another instance;
/// returns 0, or -1 if the line is malformed or contradicts an earlier size.
///
/// # Safety
/// Both (pointer, length) pairs must be readable memory of this module.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn file_digest(
    path_ptr: *const u8,
    path_len: usize,
    line_ptr: *const u8,
    line_len: usize,
) -> i32 {
    // SAFETY: the caller's contract.
    let (path, line) = unsafe { (string_at(path_ptr, path_len), string_at(line_ptr, line_len)) };
    if with_session(|s| s.file_digest(path, &line)) {
        0
    } else {
        -1
    }
}

/// Verifies everything pushed against the trusted vkeys (one per line);
/// returns the address of the JSON result (length [`out_len`]).
///
/// # Safety
/// `(trusted_ptr, trusted_len)` must be readable memory of this module.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn verify(trusted_ptr: *const u8, trusted_len: usize) -> *const u8 {
    // SAFETY: the caller's contract.
    let trusted = unsafe { string_at(trusted_ptr, trusted_len) };
    let json = with_session(|s| s.verify(&trusted));
    output(json)
}

/// [`Session::prepare`] with the verifier keys at `trusted_ptr`.
///
/// # Safety
/// `trusted_ptr..+trusted_len` must be memory obtained from [`guwah_alloc`].
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prepare(trusted_ptr: *const u8, trusted_len: usize) {
    // SAFETY: the caller's contract.
    let trusted = unsafe { string_at(trusted_ptr, trusted_len) };
    with_session(|s| s.prepare(&trusted));
}

/// [`Session::finish`]: the report JSON's address (length: [`out_len`]),
/// or null if [`prepare`] was not called since the last report.
#[unsafe(no_mangle)]
pub extern "C" fn finish() -> *const u8 {
    match with_session(Session::finish) {
        Some(json) => output(json),
        None => std::ptr::null(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digest_lines_round_trip() {
        let mut h = MultiHasher::new(&[Algorithm::Sha256, Algorithm::Sha512]);
        h.update(b"abc");
        let d = h.finish();
        let line = digest_line(&d);
        assert!(line.starts_with("3 sha256:ba7816bf"), "{line}");
        assert_eq!(parse_digest_line(&line), Some(d));
        assert_eq!(parse_digest_line("3 sha256:zz"), None);
        assert_eq!(parse_digest_line("x"), None);
    }

    #[test]
    fn masks_follow_algorithm_all() {
        let m = alg_bit(Algorithm::Sha256) | alg_bit(Algorithm::Sha512);
        assert_eq!(
            mask_algorithms(m),
            vec![Algorithm::Sha256, Algorithm::Sha512]
        );
    }

    #[test]
    fn digests_merge_and_sizes_must_agree() {
        let mut s = Session::default();
        let a = s.hasher_new(alg_bit(Algorithm::Sha256));
        assert!(s.hasher_update(a, b"abc"));
        s.hasher_finish(a, "data/x".into()).expect("line");
        let mut h = MultiHasher::new(&[Algorithm::Sha512]);
        h.update(b"abc");
        assert!(s.file_digest("data/x".into(), &digest_line(&h.finish())));
        assert_eq!(s.files.files["data/x"].digests.len(), 2);
        assert!(!s.file_digest("data/x".into(), "4"));
        assert!(!s.hasher_update(999, b"x"));
    }

    #[test]
    fn not_a_package_fails_and_bad_keys_are_reported() {
        let mut s = Session::default();
        s.tag_file(
            "bagit.txt".into(),
            b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".to_vec(),
        );
        let json = s.verify("not a key\n# comment\n");
        assert!(json.contains("\"trusted_errors\":[\"line 1: "), "{json}");
        assert!(json.contains("\"verdict\":\"failed\""), "{json}");
        // Prepared first (as the verifier worker does), then finished: the
        // same report; and a finish without a prepare is refused.
        assert_eq!(s.finish(), None);
        s.prepare("not a key\n# comment\n");
        assert_eq!(s.finish().as_deref(), Some(json.as_str()));
        assert_eq!(s.finish(), None, "a prepared check is used once");
    }

    #[test]
    fn unread_tag_files_are_hashed_and_data_may_be_empty() {
        let mut s = Session::default();
        s.tag_file(
            "bagit.txt".into(),
            b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".to_vec(),
        );
        s.tag_file("manifest-sha256.txt".into(), Vec::new());
        // REPORT.html: only its digests, as for a payload file.
        let h = s.hasher_new(alg_bit(Algorithm::Sha256));
        s.hasher_update(h, b"<p>report</p>");
        s.hasher_finish(h, "REPORT.html".into()).expect("line");
        let no_data = s.verify("");
        assert!(
            no_data.contains(r#"{"path":"data/","what":"missing"#),
            "{no_data}"
        );
        assert!(!no_data.contains("REPORT.html"), "{no_data}");
        s.payload_dir();
        assert!(!s.verify("").contains(r#""path":"data/""#));
    }

    #[test]
    fn json_strings_are_escaped() {
        let mut o = String::new();
        json_str(&mut o, "a\"b\\c\n\u{1}");
        assert_eq!(o, r#""a\"b\\c\n\u0001""#);
    }
}
