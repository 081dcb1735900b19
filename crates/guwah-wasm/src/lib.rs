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
//! 4. [`verify`] runs [`guwah_verdict::verify`] (the whole verdict: the
//!    BagIt validation, the package, and the policy) against the inputs the
//!    user gave (trusted log keys, witness keys and their minimum, TSA root
//!    certificates, disclosure files: [`PageInput`], as JSON), and returns
//!    the report as JSON, serialised by serde exactly as `guwah
//!    verify-bundle --json` prints it. [`prepare`] and [`finish`] are the
//!    same in two steps, the first while other instances hash the payload.
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
use guwah_verdict::{InOrder, InputFile, Policy, PolicyInput, Prepared, Report, key_lines};

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

/// What the page's policy inputs hold, as the page sends them (JSON):
/// the text boxes as typed, the files with their names and bytes (base64).
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PageInput {
    /// The trusted log keys' text box (one vkey a line; blank lines and
    /// `#` comments skipped).
    pub trusted: String,
    /// The witness keys' text box, likewise.
    pub witnesses: String,
    /// The minimum of witness cosignatures (empty box: `null`, all of them).
    pub min_witnesses: Option<usize>,
    /// TSA root certificate files.
    pub tsa_roots: Vec<InputFile>,
    /// Disclosure files.
    pub disclosures: Vec<InputFile>,
}

/// The page's inputs as a [`Policy`], parsed by [`PolicyInput::parse`] as
/// the CLI's flags are; or the one-line reason they cannot be used.
pub fn parse_policy(json: &str) -> Result<Policy, String> {
    let page: PageInput =
        serde_json::from_str(json).map_err(|e| format!("the page's inputs: {e}"))?;
    PolicyInput {
        trusted: key_lines(&page.trusted),
        witnesses: key_lines(&page.witnesses),
        min_witnesses: page.min_witnesses,
        tsa_roots: page.tsa_roots,
        disclosures: page.disclosures,
    }
    .parse()
    .map_err(|e| e.to_string())
}

/// What [`Session::verify`] and [`Session::finish`] return, as JSON:
/// `{"policy_error": null, "report": {...}}`, or the reason the inputs
/// cannot be used and no report.
#[derive(serde::Serialize)]
struct Outcome<'a> {
    policy_error: Option<&'a str>,
    report: Option<&'a Report>,
}

fn outcome_json(result: &Result<Report, String>) -> String {
    let o = match result {
        Ok(r) => Outcome {
            policy_error: None,
            report: Some(r),
        },
        Err(e) => Outcome {
            policy_error: Some(e),
            report: None,
        },
    };
    serde_json::to_string(&o).unwrap_or_else(|e| {
        format!("{{\"policy_error\":\"the report does not serialise: {e}\",\"report\":null}}")
    })
}

/// `{"mask": n, "algorithms": ["sha256", ...]}`.
#[derive(serde::Serialize)]
struct Algorithms {
    mask: u32,
    algorithms: Vec<&'static str>,
}

/// One verification in progress: what the page has pushed so far.
#[derive(Default)]
pub struct Session {
    files: BagFiles,
    hashers: BTreeMap<u32, MultiHasher>,
    next_handle: u32,
    /// [`Session::prepare`]'s result (or why the inputs were refused).
    prepared: Option<Result<Prepared, String>>,
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
        let json = serde_json::to_string(&Algorithms {
            mask,
            algorithms: algs.iter().map(|a| a.name()).collect(),
        })
        .unwrap_or_default();
        (mask, json)
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

    /// Verifies the package against the page's inputs (a [`PageInput`] as
    /// JSON): `{"policy_error":null,"report":{...}}` with the
    /// [`guwah_verdict::Report`], or `{"policy_error":"...","report":null}`.
    pub fn verify(&self, policy_json: &str) -> String {
        let result = parse_policy(policy_json).map(|policy| {
            let prepared = guwah_verdict::prepare(&self.files.tag_contents, &policy, &InOrder);
            self.finish_report(prepared)
        });
        outcome_json(&result)
    }

    /// The checks of [`Session::verify`] that need only the tag files, run
    /// now (while other workers hash the payload); [`Session::finish`]
    /// completes them once every digest is in.
    pub fn prepare(&mut self, policy_json: &str) {
        let prepared = parse_policy(policy_json)
            .map(|policy| guwah_verdict::prepare(&self.files.tag_contents, &policy, &InOrder));
        self.prepared = Some(prepared);
    }

    /// Completes [`Session::prepare`]: the same JSON as [`Session::verify`];
    /// `None` if nothing was prepared.
    pub fn finish(&mut self) -> Option<String> {
        let prepared = self.prepared.take()?;
        Some(outcome_json(&prepared.map(|p| self.finish_report(p))))
    }

    fn finish_report(&self, prepared: Prepared) -> Report {
        // Tag files are small and held whole: hash them here, with every
        // algorithm any manifest needs.
        let mut files = self.files.clone();
        let algs = algorithms_needed(&files.tag_contents);
        for (path, bytes) in &files.tag_contents {
            files
                .files
                .insert(path.clone(), MultiHasher::digest(&algs, bytes));
        }
        guwah_verdict::finish(prepared, &files)
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

/// Verifies everything pushed against the page's inputs ([`PageInput`] as
/// JSON at `policy_ptr`); returns the address of the JSON result (length
/// [`out_len`]), see [`Session::verify`].
///
/// # Safety
/// `(policy_ptr, policy_len)` must be readable memory of this module.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn verify(policy_ptr: *const u8, policy_len: usize) -> *const u8 {
    // SAFETY: the caller's contract.
    let policy = unsafe { string_at(policy_ptr, policy_len) };
    let json = with_session(|s| s.verify(&policy));
    output(json)
}

/// [`Session::prepare`] with the page's inputs at `policy_ptr`.
///
/// # Safety
/// `(policy_ptr, policy_len)` must be readable memory of this module.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn prepare(policy_ptr: *const u8, policy_len: usize) {
    // SAFETY: the caller's contract.
    let policy = unsafe { string_at(policy_ptr, policy_len) };
    with_session(|s| s.prepare(&policy));
}

/// Checks the page's inputs alone (before any package is read): returns
/// the address of `{"policy_error": null}` or `{"policy_error": "..."}`.
///
/// # Safety
/// `(policy_ptr, policy_len)` must be readable memory of this module.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn check_policy(policy_ptr: *const u8, policy_len: usize) -> *const u8 {
    // SAFETY: the caller's contract.
    let policy = unsafe { string_at(policy_ptr, policy_len) };
    let error = parse_policy(&policy).err();
    output(outcome_json_error(error.as_deref()))
}

fn outcome_json_error(error: Option<&str>) -> String {
    serde_json::to_string(&Outcome {
        policy_error: error,
        report: None,
    })
    .unwrap_or_default()
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

    fn report(json: &str) -> serde_json::Value {
        serde_json::from_str(json).expect("JSON")
    }

    #[test]
    fn not_a_package_fails_and_bad_inputs_are_refused() {
        let mut s = Session::default();
        s.tag_file(
            "bagit.txt".into(),
            b"BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n".to_vec(),
        );
        let bad = r##"{"trusted":"not a key\n# comment\n"}"##;
        let j = report(&s.verify(bad));
        assert!(j["report"].is_null(), "{j}");
        assert!(
            j["policy_error"]
                .as_str()
                .unwrap()
                .starts_with("log key \"not a key\": not a log key"),
            "{j}"
        );
        let j = report(&s.verify(r#"{"trusted":"\n# only a comment\n"}"#));
        assert!(j["policy_error"].is_null(), "{j}");
        assert_eq!(j["report"]["verdict"], "failed", "{j}");
        assert_eq!(
            j["report"]["failures"][0]["kind"], "bag",
            "no data/: a BagIt failure first; {j}"
        );
        // Unknown inputs are refused, not ignored.
        let j = report(&s.verify(r#"{"trust":""}"#));
        assert!(
            j["policy_error"]
                .as_str()
                .unwrap()
                .contains("unknown field"),
            "{j}"
        );
        // Prepared first (as the verifier worker does), then finished: the
        // same report; and a finish without a prepare is refused.
        let whole = s.verify("{}");
        assert_eq!(s.finish(), None);
        s.prepare("{}");
        assert_eq!(s.finish().as_deref(), Some(whole.as_str()));
        assert_eq!(s.finish(), None, "a prepared check is used once");
        s.prepare(bad);
        assert!(report(&s.finish().unwrap())["report"].is_null());
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
        let no_data = s.verify("{}");
        assert!(
            no_data.contains(r#"{"kind":"bag","path":"data/","what":"missing"#),
            "{no_data}"
        );
        assert!(!no_data.contains("REPORT.html"), "{no_data}");
        s.payload_dir();
        assert!(!s.verify("{}").contains(r#""path":"data/""#));
    }

    #[test]
    fn algorithms_json() {
        let mut s = Session::default();
        s.tag_file("manifest-sha512.txt".into(), Vec::new());
        s.tag_file("tagmanifest-md5.txt".into(), Vec::new());
        let (mask, json) = s.algorithms();
        assert_eq!(mask, alg_bit(Algorithm::Md5) | alg_bit(Algorithm::Sha512));
        assert_eq!(
            json,
            format!(r#"{{"mask":{mask},"algorithms":["md5","sha512"]}}"#)
        );
    }
}
