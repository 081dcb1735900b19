//! The guwah evidence package (`guwah/package/v2`, and v1 for packages
//! written before it): its tag files, and the pure, offline check of a
//! whole package ([`verify_bundle`]).
//!
//! A package is a BagIt bag (RFC 8493) whose `data/` folder holds the
//! original files and whose `guwah/` tag folder holds, per item, the sealed
//! record, a C2SP tlog-proof receipt against one checkpoint, the metadata
//! fields disclosed (value and salt) or withheld, and the item's custody
//! events with their own records and receipts; once: the checkpoint and the
//! log's verifier key. `docs/package.md` specifies it byte by byte:
//!
//! ```text
//! guwah/package.txt                              version, origin, checkpoint size, items
//! guwah/checkpoint                               the signed checkpoint note, verbatim
//! guwah/keys                                     verifier keys (vkeys), one per line
//! guwah/timestamps/                              RFC 3161 tokens (checked by guwah-tsp)
//! guwah/items/<id>.txt                           the item file (crate::item_file), parts:
//!     record                                     the item's leaf bytes
//!     receipt.tlog-proof                         c2sp.org/tlog-proof@v1
//!     fields                                     guwah/fields/v1
//!     events/<event id>/record                   an event's leaf bytes
//!     events/<event id>/receipt.tlog-proof
//!     events/<event id>/fields
//! ```
//!
//! (Version 1 stored each part as its own file under `guwah/items/<id>/`.)
//!
//! This module does no I/O: the caller reads the bag into [`BagFiles`]
//! (every file's size and digests; the bytes of every tag file) and gets a
//! [`BundleReport`] back: a verdict per item, each failure naming the file
//! and what is wrong, and an overall [`Verdict`].

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::ops::Bound;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::bag::{self, Algorithm, BagFiles};
use crate::checkpoint::{Checkpoint, open_checkpoint};
use crate::merkle::{Hash, leaf_hash};
use crate::note::{self, AnyVerifier, NoteVerifier, Verifier};
use crate::receipt::TlogProof;
use crate::record::{self, Record, check_field_name, commit_field, hex32, parse_hex32};

/// First line of `guwah/package.txt`, version 1: a folder per item.
pub const PACKAGE_V1: &str = "guwah/package/v1";
/// First line of `guwah/package.txt`, version 2 (what `export` writes): one
/// file per item, `guwah/items/<id>.txt` (see [`crate::item_file`]).
pub const PACKAGE_V2: &str = "guwah/package/v2";
/// First line of a `fields` file.
pub const FIELDS_V1: &str = "guwah/fields/v1";
/// First line of a disclosure file.
pub const DISCLOSURE_V1: &str = "guwah/disclosure/v1";
/// The package's index: version, origin, checkpoint size, items.
pub const PACKAGE_TXT: &str = "guwah/package.txt";
/// The one signed checkpoint every receipt is against.
pub const CHECKPOINT: &str = "guwah/checkpoint";
/// Verifier keys (C2SP vkeys), one per line.
pub const KEYS: &str = "guwah/keys";
/// Reserved for timestamp tokens (not written or checked by this version).
pub const TIMESTAMPS_DIR: &str = "guwah/timestamps/";
/// The human-readable report (informative, not evidence).
pub const REPORT: &str = "REPORT.html";
/// File name of a record inside an item or event folder.
pub const RECORD_FILE: &str = "record";
/// File name of a receipt inside an item or event folder.
pub const RECEIPT_FILE: &str = "receipt.tlog-proof";
/// File name of the fields file inside an item or event folder.
pub const FIELDS_FILE: &str = "fields";

/// `guwah/items/<id>.txt`: the item file of a v2 package.
pub fn item_file_path(item: &Hash) -> String {
    format!("guwah/items/{}.txt", hex32(item))
}

/// `guwah/items/<id>/`: the item folder of a v1 package.
pub fn item_dir(item: &Hash) -> String {
    format!("guwah/items/{}/", hex32(item))
}

/// Whether verifying an evidence package reads this tag file's contents
/// (so that a reader must hold it): what [`bag::is_parsed_tag_file`]
/// names, and `guwah/package.txt`, `guwah/checkpoint`, `guwah/keys`,
/// everything under `guwah/timestamps/` and `guwah/items/`. Any other tag
/// file (`REPORT.html`, unknown files) is only hashed.
pub fn is_read_tag_file(path: &str) -> bool {
    bag::is_parsed_tag_file(path)
        || [PACKAGE_TXT, CHECKPOINT, KEYS].contains(&path)
        || path.starts_with(TIMESTAMPS_DIR)
        || path.starts_with("guwah/items/")
}

/// A malformed package tag file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {why}")]
pub struct FormatError {
    /// 1-based line (0: the whole file).
    pub line: usize,
    /// What is wrong.
    pub why: String,
}

fn ferr(line: usize, why: impl Into<String>) -> FormatError {
    FormatError {
        line,
        why: why.into(),
    }
}

/// Split text into `\n`-terminated lines; refuses non-UTF-8, CR and a
/// missing final newline.
fn lines_of(bytes: &[u8]) -> Result<Vec<&str>, FormatError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ferr(0, "not UTF-8"))?;
    if text.contains('\r') {
        return Err(ferr(0, "contains a carriage return (lines end in LF only)"));
    }
    let body = text
        .strip_suffix('\n')
        .ok_or_else(|| ferr(0, "does not end in a newline"))?;
    Ok(body.split('\n').collect())
}

fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

fn b64_32(line: usize, what: &str, s: &str) -> Result<[u8; 32], FormatError> {
    B64.decode(s)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| {
            ferr(
                line,
                format!("{what} {:?} is not 32 bytes of base64", clip(s)),
            )
        })
}

fn b64_bytes(line: usize, what: &str, s: &str) -> Result<Vec<u8>, FormatError> {
    let v = B64
        .decode(s)
        .map_err(|_| ferr(line, format!("{what} is not standard base64")))?;
    if B64.encode(&v) != s {
        return Err(ferr(line, format!("{what} is not canonical base64")));
    }
    Ok(v)
}

/// Is `path` an acceptable payload path: `data/` then a name of
/// `[A-Za-z0-9._-]`, not starting with a dot, at most 200 bytes.
pub fn is_payload_name(path: &str) -> bool {
    path.strip_prefix("data/").is_some_and(|n| {
        !n.is_empty()
            && n.len() <= 200
            && !n.starts_with('.')
            && n.bytes()
                .all(|c| c.is_ascii_alphanumeric() || b"._-".contains(&c))
    })
}

/// `guwah/package.txt`: what the package holds.
///
/// ```text
/// guwah/package/v1
/// origin <log origin>
/// checkpoint-size <decimal>
/// item <64 hex item id> <payload path, data/...>     one line per item, in log order
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PackageIndex {
    /// The format version: 1 (a folder per item) or 2 (a file per item).
    pub version: u32,
    /// The log's origin.
    pub origin: String,
    /// The size of the checkpoint every receipt is against.
    pub checkpoint_size: u64,
    /// Each item: its id and the path of its original in `data/`.
    pub items: Vec<(Hash, String)>,
}

impl PackageIndex {
    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut s = format!(
            "guwah/package/v{}\norigin {}\ncheckpoint-size {}\n",
            self.version, self.origin, self.checkpoint_size
        );
        for (id, path) in &self.items {
            s.push_str(&format!("item {} {path}\n", hex32(id)));
        }
        s.into_bytes()
    }

    /// Parse strictly (canonical form only).
    pub fn parse(bytes: &[u8]) -> Result<PackageIndex, FormatError> {
        let lines = lines_of(bytes)?;
        let mut it = lines.iter().enumerate().map(|(i, l)| (i + 1, *l));
        let version = match it.next() {
            Some((_, PACKAGE_V1)) => 1,
            Some((_, PACKAGE_V2)) => 2,
            Some((n, other)) => {
                return Err(ferr(
                    n,
                    format!(
                        "expected {PACKAGE_V2:?} or {PACKAGE_V1:?}, found {:?} (a package version this verifier does not know?)",
                        clip(other)
                    ),
                ));
            }
            None => return Err(ferr(1, "empty")),
        };
        let (n, origin) = it.next().ok_or_else(|| ferr(2, "missing origin line"))?;
        let origin = origin
            .strip_prefix("origin ")
            .filter(|o| note::is_valid_key_name(o))
            .ok_or_else(|| ferr(n, "expected \"origin <log origin>\""))?;
        let (n, size) = it
            .next()
            .ok_or_else(|| ferr(3, "missing checkpoint-size line"))?;
        let checkpoint_size = size
            .strip_prefix("checkpoint-size ")
            .and_then(|v| v.parse::<u64>().ok().filter(|x| x.to_string() == v))
            .ok_or_else(|| ferr(n, "expected \"checkpoint-size <decimal>\""))?;
        let mut items = Vec::new();
        let mut seen = BTreeSet::new();
        for (n, line) in it {
            let mut parts = line.split(' ');
            let (Some("item"), Some(id), Some(path), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(ferr(
                    n,
                    format!("expected \"item <id> <data/...>\", found {:?}", clip(line)),
                ));
            };
            let id = parse_hex32(id)
                .ok_or_else(|| ferr(n, format!("item id {:?} is not 64 hex digits", clip(id))))?;
            if !is_payload_name(path) {
                return Err(ferr(
                    n,
                    format!(
                        "payload path {:?} is not data/<[A-Za-z0-9._-]+>",
                        clip(path)
                    ),
                ));
            }
            if !seen.insert(id) {
                return Err(ferr(n, format!("item {} is listed twice", hex32(&id))));
            }
            items.push((id, path.to_owned()));
        }
        Ok(PackageIndex {
            version,
            origin: origin.to_owned(),
            checkpoint_size,
            items,
        })
    }
}

/// One line of a `fields` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldEntry {
    /// The value is in the package, with the salt of its commitment.
    Disclosed {
        /// Field name.
        name: String,
        /// The 32-byte salt.
        salt: [u8; 32],
        /// The value's bytes (UTF-8 text).
        value: Vec<u8>,
    },
    /// The value was left out of the package.
    Withheld {
        /// Field name.
        name: String,
    },
}

impl FieldEntry {
    /// The field's name.
    pub fn name(&self) -> &str {
        match self {
            FieldEntry::Disclosed { name, .. } | FieldEntry::Withheld { name } => name,
        }
    }
}

/// A `fields` file: every committed field of one record, disclosed or
/// withheld, names ascending.
///
/// ```text
/// guwah/fields/v1
/// disclosed <name> <base64 salt> <base64 value>
/// withheld <name>
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FieldsFile {
    /// The entries, names strictly ascending.
    pub entries: Vec<FieldEntry>,
}

impl FieldsFile {
    /// The file's bytes (entries are written in the order given; keep
    /// them sorted).
    pub fn encode(&self) -> Vec<u8> {
        let mut s = format!("{FIELDS_V1}\n");
        for e in &self.entries {
            match e {
                FieldEntry::Disclosed { name, salt, value } => s.push_str(&format!(
                    "disclosed {name} {} {}\n",
                    B64.encode(salt),
                    B64.encode(value)
                )),
                FieldEntry::Withheld { name } => s.push_str(&format!("withheld {name}\n")),
            }
        }
        s.into_bytes()
    }

    /// Parse strictly: known version, valid and ascending names,
    /// canonical base64.
    pub fn parse(bytes: &[u8]) -> Result<FieldsFile, FormatError> {
        let lines = lines_of(bytes)?;
        if lines.first() != Some(&FIELDS_V1) {
            return Err(ferr(1, format!("expected {FIELDS_V1:?}")));
        }
        let mut entries: Vec<FieldEntry> = Vec::new();
        for (i, line) in lines.iter().enumerate().skip(1) {
            let n = i + 1;
            let parts: Vec<&str> = line.split(' ').collect();
            let entry = match parts.as_slice() {
                ["disclosed", name, salt, value] => FieldEntry::Disclosed {
                    name: (*name).to_owned(),
                    salt: b64_32(n, "salt", salt)?,
                    value: b64_bytes(n, "value", value)?,
                },
                ["withheld", name] => FieldEntry::Withheld {
                    name: (*name).to_owned(),
                },
                _ => {
                    return Err(ferr(
                        n,
                        format!(
                            "expected \"disclosed <name> <salt> <value>\" or \"withheld <name>\", found {:?}",
                            clip(line)
                        ),
                    ));
                }
            };
            check_field_name(entry.name()).map_err(|e| ferr(n, e.to_string()))?;
            if let Some(prev) = entries.last()
                && prev.name() >= entry.name()
            {
                return Err(ferr(n, "field names must be unique and ascending"));
            }
            entries.push(entry);
        }
        Ok(FieldsFile { entries })
    }
}

/// A disclosed field, on its own: what `guwah disclose` writes, to be
/// checked against the item's sealed record in a package.
///
/// ```text
/// guwah/disclosure/v1
/// item <64 hex item id>
/// field <name>
/// salt <base64 32 bytes>
/// value <base64 of the value's bytes>
/// commitment <base64 SHA-256 commitment>
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disclosure {
    /// The item id.
    pub item: Hash,
    /// Field name.
    pub name: String,
    /// The salt.
    pub salt: [u8; 32],
    /// The value's bytes.
    pub value: Vec<u8>,
    /// The commitment the value and salt should reproduce.
    pub commitment: Hash,
}

impl Disclosure {
    /// The file's bytes.
    pub fn encode(&self) -> Vec<u8> {
        format!(
            "{DISCLOSURE_V1}\nitem {}\nfield {}\nsalt {}\nvalue {}\ncommitment {}\n",
            hex32(&self.item),
            self.name,
            B64.encode(self.salt),
            B64.encode(&self.value),
            B64.encode(self.commitment)
        )
        .into_bytes()
    }

    /// Parse strictly.
    pub fn parse(bytes: &[u8]) -> Result<Disclosure, FormatError> {
        let lines = lines_of(bytes)?;
        let [first, item, field, salt, value, commitment] = lines.as_slice() else {
            return Err(ferr(
                0,
                format!("{} lines, a disclosure has 6", lines.len()),
            ));
        };
        if *first != DISCLOSURE_V1 {
            return Err(ferr(1, format!("expected {DISCLOSURE_V1:?}")));
        }
        let rest = [item, field, salt, value, commitment];
        let field_of = |n: usize, key: &str| -> Result<String, FormatError> {
            rest[n - 2]
                .strip_prefix(key)
                .and_then(|r| r.strip_prefix(' '))
                .map(str::to_owned)
                .ok_or_else(|| ferr(n, format!("expected \"{key} ...\"")))
        };
        let item_hex = field_of(2, "item")?;
        let item = parse_hex32(&item_hex).ok_or_else(|| ferr(2, "item id is not 64 hex digits"))?;
        let name = field_of(3, "field")?;
        check_field_name(&name).map_err(|e| ferr(3, e.to_string()))?;
        let salt = b64_32(4, "salt", &field_of(4, "salt")?)?;
        let value = b64_bytes(5, "value", &field_of(5, "value")?)?;
        let commitment = b64_32(6, "commitment", &field_of(6, "commitment")?)?;
        Ok(Disclosure {
            item,
            name,
            salt,
            value,
            commitment,
        })
    }

    /// Does `(value, salt)` reproduce the stated commitment?
    pub fn reproduces(&self) -> bool {
        commit_field(&self.name, &self.salt, &self.value) == self.commitment
    }
}

/// One precise failure: the file (or item) and what is wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    /// The path inside the package (or a short name such as `trust`).
    pub path: String,
    /// What is wrong, in one line.
    pub what: String,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.what)
    }
}

fn fail(path: impl Into<String>, what: impl Into<String>) -> Failure {
    Failure {
        path: path.into(),
        what: what.into(),
    }
}

/// The overall result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Everything holds and the checkpoint is signed by a trusted key.
    Valid,
    /// Everything is consistent, but the log key was taken from the package
    /// itself: pass the log's key, obtained independently, to trust it.
    Untrusted,
    /// Something does not hold; see the failures.
    Failed,
}

impl Verdict {
    /// `valid`, `untrusted` or `failed`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Valid => "valid",
            Verdict::Untrusted => "untrusted",
            Verdict::Failed => "failed",
        }
    }
}

/// A field as the package shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldView {
    /// Field name.
    pub name: String,
    /// The value if disclosed (lossy UTF-8), `None` if withheld.
    pub value: Option<String>,
}

/// One custody event, as checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventVerdict {
    /// Event id (hex leaf hash).
    pub id: String,
    /// Its folder in the package.
    pub path: String,
    /// The action, if the record parsed.
    pub action: String,
    /// When, if the record parsed.
    pub at: String,
    /// The actor's key, base64.
    pub actor: String,
    /// Its index in the log, from its receipt.
    pub leaf_index: Option<u64>,
    /// Its fields.
    pub fields: Vec<FieldView>,
    /// Whether everything about it holds.
    pub ok: bool,
}

/// One item, as checked.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ItemVerdict {
    /// Item id (hex).
    pub id: String,
    /// The payload file, `data/...`.
    pub payload: String,
    /// From the record (empty if it did not parse).
    pub media_type: String,
    /// From the record.
    pub size: u64,
    /// SHA-256 from the record, hex.
    pub sha256: String,
    /// SHA-512 of the payload file as the bag reader computed it, hex.
    pub sha512: String,
    /// From the record.
    pub sealed_at: String,
    /// The collector's key, base64.
    pub collector: String,
    /// Its index in the log, from its receipt.
    pub leaf_index: Option<u64>,
    /// Its fields, disclosed or withheld, by name.
    pub fields: Vec<FieldView>,
    /// Names of the withheld fields.
    pub withheld: Vec<String>,
    /// Custody events, in log order.
    pub events: Vec<EventVerdict>,
    /// Everything wrong with this item or its events.
    pub failures: Vec<Failure>,
}

impl ItemVerdict {
    /// Does everything about this item hold?
    pub fn ok(&self) -> bool {
        self.failures.is_empty()
    }
}

/// A signature on the package's checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureView {
    /// The key name.
    pub name: String,
    /// Verified with a key given by the caller (`trusted`) or found in the
    /// package (`package`), or not verified (`unknown`).
    pub status: &'static str,
    /// The cosignature's timestamp, if any.
    pub timestamp: Option<u64>,
}

/// Everything [`verify_bundle`] found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BundleReport {
    /// The package version line, if read.
    pub version: Option<String>,
    /// The log's origin.
    pub origin: Option<String>,
    /// The checkpoint's tree size.
    pub checkpoint_size: Option<u64>,
    /// The checkpoint's root hash, base64.
    pub checkpoint_root: Option<String>,
    /// The log key the checkpoint was checked with (vkey).
    pub log_key: Option<String>,
    /// Whether that key was given by the caller (true) or only found in the
    /// package (false).
    pub log_key_trusted: bool,
    /// The checkpoint's signatures.
    pub signatures: Vec<SignatureView>,
    /// Timestamp tokens found under `guwah/timestamps/`; the pure core
    /// only lists them (the CLI checks them with `guwah-tsp`).
    pub timestamps: Vec<String>,
    /// Items, in package order.
    pub items: Vec<ItemVerdict>,
    /// Failures not about one item (the bag, the checkpoint, the trust).
    pub failures: Vec<Failure>,
    /// Things worth knowing that do not fail the package.
    pub warnings: Vec<String>,
}

impl BundleReport {
    /// The overall verdict.
    pub fn verdict(&self) -> Verdict {
        if !self.failures.is_empty() || self.items.iter().any(|i| !i.ok()) || self.items.is_empty()
        {
            Verdict::Failed
        } else if !self.log_key_trusted {
            Verdict::Untrusted
        } else {
            Verdict::Valid
        }
    }

    /// Every failure, package-level first, then per item.
    pub fn all_failures(&self) -> Vec<&Failure> {
        self.failures
            .iter()
            .chain(self.items.iter().flat_map(|i| i.failures.iter()))
            .collect()
    }

    /// The report as JSON (hand-written: the core has no serde).
    pub fn to_json(&self) -> String {
        let mut j = Json::default();
        j.open('{');
        j.key("verdict");
        j.str(self.verdict().as_str());
        j.key("version");
        j.opt_str(self.version.as_deref());
        j.key("origin");
        j.opt_str(self.origin.as_deref());
        j.key("checkpoint_size");
        match self.checkpoint_size {
            Some(n) => j.num(n),
            None => j.raw("null"),
        }
        j.key("checkpoint_root");
        j.opt_str(self.checkpoint_root.as_deref());
        j.key("log_key");
        j.opt_str(self.log_key.as_deref());
        j.key("log_key_trusted");
        j.raw(if self.log_key_trusted {
            "true"
        } else {
            "false"
        });
        j.key("signatures");
        j.open('[');
        for s in &self.signatures {
            j.open('{');
            j.key("name");
            j.str(&s.name);
            j.key("status");
            j.str(s.status);
            j.key("timestamp");
            match s.timestamp {
                Some(t) => j.num(t),
                None => j.raw("null"),
            }
            j.close('}');
        }
        j.close(']');
        j.key("timestamps");
        j.strs(&self.timestamps);
        j.key("failures");
        j.failures(&self.failures);
        j.key("warnings");
        j.strs(&self.warnings);
        j.key("items");
        j.open('[');
        for i in &self.items {
            j.open('{');
            j.key("id");
            j.str(&i.id);
            j.key("ok");
            j.raw(if i.ok() { "true" } else { "false" });
            j.key("payload");
            j.str(&i.payload);
            j.key("media_type");
            j.str(&i.media_type);
            j.key("size");
            j.num(i.size);
            j.key("sha256");
            j.str(&i.sha256);
            j.key("sha512");
            j.str(&i.sha512);
            j.key("sealed_at");
            j.str(&i.sealed_at);
            j.key("collector");
            j.str(&i.collector);
            j.key("leaf_index");
            match i.leaf_index {
                Some(n) => j.num(n),
                None => j.raw("null"),
            }
            j.key("fields");
            j.fields(&i.fields);
            j.key("withheld");
            j.strs(&i.withheld);
            j.key("events");
            j.open('[');
            for e in &i.events {
                j.open('{');
                j.key("id");
                j.str(&e.id);
                j.key("ok");
                j.raw(if e.ok { "true" } else { "false" });
                j.key("action");
                j.str(&e.action);
                j.key("at");
                j.str(&e.at);
                j.key("actor");
                j.str(&e.actor);
                j.key("leaf_index");
                match e.leaf_index {
                    Some(n) => j.num(n),
                    None => j.raw("null"),
                }
                j.key("fields");
                j.fields(&e.fields);
                j.close('}');
            }
            j.close(']');
            j.key("failures");
            j.failures(&i.failures);
            j.close('}');
        }
        j.close(']');
        j.close('}');
        j.out
    }
}

/// A tiny JSON writer (strings escaped per RFC 8259).
#[derive(Default)]
struct Json {
    out: String,
    need_comma: bool,
}

impl Json {
    fn sep(&mut self) {
        if self.need_comma {
            self.out.push(',');
        }
    }
    fn open(&mut self, c: char) {
        self.sep();
        self.out.push(c);
        self.need_comma = false;
    }
    fn close(&mut self, c: char) {
        self.out.push(c);
        self.need_comma = true;
    }
    fn key(&mut self, k: &str) {
        self.sep();
        escape_json(&mut self.out, k);
        self.out.push(':');
        self.need_comma = false;
    }
    fn raw(&mut self, v: &str) {
        self.sep();
        self.out.push_str(v);
        self.need_comma = true;
    }
    fn num(&mut self, n: u64) {
        self.raw(&n.to_string());
    }
    fn str(&mut self, s: &str) {
        self.sep();
        escape_json(&mut self.out, s);
        self.need_comma = true;
    }
    fn opt_str(&mut self, s: Option<&str>) {
        match s {
            Some(s) => self.str(s),
            None => self.raw("null"),
        }
    }
    fn strs(&mut self, v: &[String]) {
        self.open('[');
        for s in v {
            self.str(s);
        }
        self.close(']');
    }
    fn failures(&mut self, v: &[Failure]) {
        self.open('[');
        for f in v {
            self.open('{');
            self.key("path");
            self.str(&f.path);
            self.key("what");
            self.str(&f.what);
            self.close('}');
        }
        self.close(']');
    }
    fn fields(&mut self, v: &[FieldView]) {
        self.open('[');
        for f in v {
            self.open('{');
            self.key("name");
            self.str(&f.name);
            self.key("value");
            self.opt_str(f.value.as_deref());
            self.key("withheld");
            self.raw(if f.value.is_none() { "true" } else { "false" });
            self.close('}');
        }
        self.close(']');
    }
}

fn escape_json(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// What a receipt check needs: the package's checkpoint, opened or not.
struct CheckpointCtx {
    note: Vec<u8>,
    body: Option<Checkpoint>,
}

/// One item's tag files, by their name inside the item (`record`,
/// `events/<id>/receipt.tlog-proof`, …), whichever way the package stores
/// them: a folder of files (v1) or one item file (v2). Failures name a part
/// by its file (v1) or by the item file and the part (v2).
struct Parts<'a> {
    /// Prefix of every part's label: `guwah/items/<id>/` or `guwah/items/<id>.txt#`.
    label: String,
    parts: BTreeMap<String, &'a [u8]>,
}

impl<'a> Parts<'a> {
    /// A v1 item folder's files.
    fn from_folder(tags: &'a BTreeMap<String, Vec<u8>>, item: &Hash) -> Parts<'a> {
        let dir = item_dir(item);
        // A range, not a scan of every tag file: packages hold tens of
        // thousands of them, and this runs once per item.
        let parts = tags
            .range::<str, _>((Bound::Included(dir.as_str()), Bound::Unbounded))
            .take_while(|(path, _)| path.starts_with(&dir))
            .map(|(path, bytes)| (path[dir.len()..].to_owned(), bytes.as_slice()))
            .collect();
        Parts { label: dir, parts }
    }

    /// The label of part `name`: where a reader finds it.
    fn label(&self, name: &str) -> String {
        format!("{}{name}", self.label)
    }

    fn get(&self, name: &str) -> Option<&'a [u8]> {
        self.parts.get(name).copied()
    }
}

/// Check a receipt (part `name`) for `leaf` against the package's
/// checkpoint; returns the leaf index.
fn check_receipt(
    parts: &Parts<'_>,
    name: &str,
    leaf: &[u8],
    cp: &CheckpointCtx,
    failures: &mut Vec<Failure>,
) -> Option<u64> {
    let path = parts.label(name);
    let Some(bytes) = parts.get(name) else {
        failures.push(fail(path, "missing: every record needs its receipt"));
        return None;
    };
    let receipt = match TlogProof::parse(bytes) {
        Ok(r) => r,
        Err(e) => {
            failures.push(fail(path, e.to_string()));
            return None;
        }
    };
    if receipt.checkpoint != cp.note {
        failures.push(fail(
            path,
            format!("its checkpoint is not the package's checkpoint ({CHECKPOINT})"),
        ));
        return Some(receipt.index);
    }
    if let Some(body) = &cp.body
        && let Err(e) = receipt.verify_inclusion(leaf, body)
    {
        failures.push(fail(path, e.to_string()));
    }
    Some(receipt.index)
}

/// Check a fields part against a record's commitments.
fn check_fields(
    parts: &Parts<'_>,
    name: &str,
    fields: &[record::FieldCommitment],
    failures: &mut Vec<Failure>,
) -> (Vec<FieldView>, Vec<String>) {
    let path = parts.label(name);
    let mut views = Vec::new();
    let mut withheld = Vec::new();
    let parsed = match parts.get(name) {
        None if fields.is_empty() => FieldsFile::default(),
        None => {
            failures.push(fail(path, "missing: the record has committed fields"));
            return (views, withheld);
        }
        Some(b) => match FieldsFile::parse(b) {
            Ok(f) => f,
            Err(e) => {
                failures.push(fail(path, e.to_string()));
                return (views, withheld);
            }
        },
    };
    let sealed: BTreeMap<&str, &Hash> = fields
        .iter()
        .map(|f| (f.name.as_str(), &f.commitment))
        .collect();
    let mut covered = BTreeSet::new();
    for e in &parsed.entries {
        let Some(commitment) = sealed.get(e.name()) else {
            failures.push(fail(
                &path,
                format!("field {:?} is not in the sealed record", e.name()),
            ));
            continue;
        };
        covered.insert(e.name().to_owned());
        match e {
            FieldEntry::Disclosed { name, salt, value } => {
                if commit_field(name, salt, value) != **commitment {
                    failures.push(fail(
                        &path,
                        format!(
                            "field {name:?}: value and salt do not reproduce the sealed commitment"
                        ),
                    ));
                }
                views.push(FieldView {
                    name: name.clone(),
                    value: Some(String::from_utf8_lossy(value).into_owned()),
                });
            }
            FieldEntry::Withheld { name } => {
                withheld.push(name.clone());
                views.push(FieldView {
                    name: name.clone(),
                    value: None,
                });
            }
        }
    }
    for f in fields {
        if !covered.contains(&f.name) {
            failures.push(fail(
                &path,
                format!(
                    "field {:?} of the sealed record is neither disclosed nor listed as withheld",
                    f.name
                ),
            ));
        }
    }
    (views, withheld)
}

/// Check the record part `name`: it parses and its signature verifies.
fn check_record<'a>(
    parts: &Parts<'a>,
    name: &str,
    failures: &mut Vec<Failure>,
) -> Option<(&'a [u8], Record)> {
    let path = parts.label(name);
    let Some(bytes) = parts.get(name) else {
        failures.push(fail(path, "missing"));
        return None;
    };
    let record = match Record::parse(bytes) {
        Ok(r) => r,
        Err(e) => {
            failures.push(fail(path, e.to_string()));
            return None;
        }
    };
    if let Err(e) = record.verify_signature() {
        failures.push(fail(path, e.to_string()));
    }
    Some((bytes, record))
}

fn check_event(
    parts: &Parts<'_>,
    item: &Hash,
    name: &str,
    cp: &CheckpointCtx,
    failures: &mut Vec<Failure>,
) -> EventVerdict {
    let before = failures.len();
    let dir = format!("events/{name}/");
    let mut v = EventVerdict {
        id: name.to_owned(),
        path: parts.label(&dir),
        action: String::new(),
        at: String::new(),
        actor: String::new(),
        leaf_index: None,
        fields: Vec::new(),
        ok: false,
    };
    let record_name = format!("{dir}{RECORD_FILE}");
    if let Some((leaf, record)) = check_record(parts, &record_name, failures) {
        let record_path = parts.label(&record_name);
        if hex32(&leaf_hash(leaf)) != name {
            failures.push(fail(
                &record_path,
                format!("its hash is not the event id {name} its folder is named after"),
            ));
        }
        match &record {
            Record::Event(ev) => {
                v.action = ev.action.as_str().to_owned();
                v.at = ev.at.clone();
                v.actor = B64.encode(ev.actor);
                if ev.item != *item {
                    failures.push(fail(
                        &record_path,
                        format!(
                            "is about item {}, not item {}",
                            hex32(&ev.item),
                            hex32(item)
                        ),
                    ));
                }
                let (views, _) =
                    check_fields(parts, &format!("{dir}{FIELDS_FILE}"), &ev.fields, failures);
                v.fields = views;
            }
            Record::Item(_) => {
                failures.push(fail(&record_path, "is an item record, not a custody event"));
            }
        }
        v.leaf_index = check_receipt(parts, &format!("{dir}{RECEIPT_FILE}"), leaf, cp, failures);
    }
    v.ok = failures.len() == before;
    v
}

/// An item's parts in a package of this version, or why they cannot be read.
fn item_parts<'a>(
    tags: &'a BTreeMap<String, Vec<u8>>,
    version: u32,
    id: &Hash,
) -> Result<Parts<'a>, Failure> {
    if version == 1 {
        return Ok(Parts::from_folder(tags, id));
    }
    let path = item_file_path(id);
    let bytes = tags
        .get(&path)
        .ok_or_else(|| fail(&path, "missing: every item listed needs its item file"))?;
    let parsed = crate::item_file::parse_parts(bytes).map_err(|e| fail(&path, e.why))?;
    Ok(Parts {
        label: format!("{path}#"),
        parts: parsed
            .into_iter()
            .map(|(name, bytes)| (name.to_owned(), bytes))
            .collect(),
    })
}

/// An item's checks that need only the tag files: its record, signature,
/// fields, receipt and custody events. The payload is compared by
/// [`check_payload`] once it is hashed.
fn check_item_tags(
    tags: &BTreeMap<String, Vec<u8>>,
    version: u32,
    id: &Hash,
    payload: &str,
    cp: &CheckpointCtx,
) -> ItemVerdict {
    let mut failures = Vec::new();
    let mut v = ItemVerdict {
        id: hex32(id),
        payload: payload.to_owned(),
        ..ItemVerdict::default()
    };
    let parts = match item_parts(tags, version, id) {
        Ok(p) => p,
        Err(f) => {
            v.failures.push(f);
            return v;
        }
    };
    if let Some((leaf, record)) = check_record(&parts, RECORD_FILE, &mut failures) {
        let record_path = parts.label(RECORD_FILE);
        if leaf_hash(leaf) != *id {
            failures.push(fail(
                &record_path,
                format!("its hash is not the item id {}", hex32(id)),
            ));
        }
        match &record {
            Record::Item(item) => {
                v.media_type = item.media_type.clone();
                v.size = item.size;
                v.sha256 = hex32(&item.sha256);
                v.sealed_at = item.sealed_at.clone();
                v.collector = B64.encode(item.collector);
                let (views, withheld) =
                    check_fields(&parts, FIELDS_FILE, &item.fields, &mut failures);
                v.fields = views;
                v.withheld = withheld;
            }
            Record::Event(_) => {
                failures.push(fail(&record_path, "is a custody event, not an item record"));
            }
        }
        v.leaf_index = check_receipt(&parts, RECEIPT_FILE, leaf, cp, &mut failures);
    }
    // Events: every `events/<id>/` among the parts.
    let mut event_names = BTreeSet::new();
    for name in parts.parts.keys() {
        if [RECORD_FILE, RECEIPT_FILE, FIELDS_FILE].contains(&name.as_str()) {
            continue;
        }
        match name
            .strip_prefix("events/")
            .and_then(|rest| rest.split_once('/'))
        {
            Some((event, file))
                if parse_hex32(event).is_some()
                    && [RECORD_FILE, RECEIPT_FILE, FIELDS_FILE].contains(&file) =>
            {
                event_names.insert(event.to_owned());
            }
            _ => failures.push(fail(parts.label(name), "is not part of the package format")),
        }
    }
    for name in event_names {
        v.events
            .push(check_event(&parts, id, &name, cp, &mut failures));
    }
    v.events
        .sort_by_key(|e| (e.leaf_index.unwrap_or(u64::MAX), e.id.clone()));
    v.failures = failures;
    v
}

/// An item's payload against its sealed record (when the record parsed as
/// an item record, which set the verdict's SHA-256): present, same size,
/// same SHA-256. Also shows the SHA-512 the bag reader computed.
fn check_payload(v: &mut ItemVerdict, files: &BagFiles) {
    let sealed = !v.sha256.is_empty();
    let file = files.files.get(&v.payload);
    if let Some(d) = file.and_then(|f| f.digests.get(&Algorithm::Sha512)) {
        v.sha512 = d.clone();
    }
    if !sealed {
        return;
    }
    let payload = v.payload.clone();
    match file {
        None => v.failures.push(fail(
            payload,
            "missing: the item's original is not in the package",
        )),
        Some(f) => {
            if f.size != v.size {
                v.failures.push(fail(
                    &payload,
                    format!("is {} bytes; the sealed record says {}", f.size, v.size),
                ));
            }
            match f.digests.get(&Algorithm::Sha256) {
                Some(d) if *d == v.sha256 => {}
                Some(_) => v
                    .failures
                    .push(fail(payload, "SHA-256 does not match the sealed record")),
                None => v.failures.push(fail(
                    payload,
                    "its SHA-256 was not computed by the bag reader",
                )),
            }
        }
    }
}

/// Check a whole package, offline.
///
/// Runs [`bag::validate`] (completeness, every manifest and tag manifest),
/// then reads `guwah/package.txt` and checks the checkpoint's signature —
/// by a key in `trusted` named after the origin, or, if `trusted` is empty,
/// by the log key found in `guwah/keys` (then the verdict is at best
/// [`Verdict::Untrusted`]) — and for every item: its record parses, is
/// canonical, hashes to its id and carries a valid collector signature; its
/// payload's size and SHA-256 are the record's; its receipt is against the
/// package's checkpoint and its inclusion proof verifies; every disclosed
/// field reproduces its commitment and every other is listed as withheld;
/// every custody event's record, signature, subject and receipt hold.
///
/// This is [`prepare_bundle`] then [`finish_bundle`], items checked in
/// order; a native caller runs the two apart, with its own [`ItemRunner`].
pub fn verify_bundle(files: &BagFiles, trusted: &[Verifier]) -> BundleReport {
    finish_bundle(
        prepare_bundle(&files.tag_contents, trusted, &InOrder),
        files,
    )
}

/// Runs the per-item checks of [`prepare_bundle`]: `check(i)` for
/// every `i` in `0..n`, returning the verdicts in index order. The core
/// stays free of threads (it runs in a browser too); a native caller can
/// spread the items over cores.
pub trait ItemRunner {
    /// `check(0)`, …, `check(n - 1)`, in that order in the result.
    fn run(&self, n: usize, check: &(dyn Fn(usize) -> ItemVerdict + Sync)) -> Vec<ItemVerdict>;
}

/// Checks items one after another, on the calling thread.
pub struct InOrder;

impl ItemRunner for InOrder {
    fn run(&self, n: usize, check: &(dyn Fn(usize) -> ItemVerdict + Sync)) -> Vec<ItemVerdict> {
        (0..n).map(check).collect()
    }
}

/// What the tag files alone prove: [`prepare_bundle`]'s result, to be
/// completed by [`finish_bundle`] once every file is hashed.
#[derive(Debug)]
pub struct PreparedBundle {
    report: BundleReport,
    index: Option<PackageIndex>,
}

/// The checks of [`verify_bundle`] that need only the tag files (the index,
/// keys, checkpoint and every item's records, signatures, fields, receipts
/// and events), so that a native reader can run them while the payload is
/// still being hashed.
pub fn prepare_bundle(
    tags: &BTreeMap<String, Vec<u8>>,
    trusted: &[Verifier],
    runner: &dyn ItemRunner,
) -> PreparedBundle {
    let mut r = BundleReport::default();
    let index = prepare_into(&mut r, tags, trusted, runner);
    PreparedBundle { report: r, index }
}

/// Completes a [`PreparedBundle`] with what needs every file's digests: the
/// BagIt validation (listed first among the package's failures), each
/// payload against its record, and files the format does not know.
pub fn finish_bundle(prepared: PreparedBundle, files: &BagFiles) -> BundleReport {
    let PreparedBundle { mut report, index } = prepared;
    let r = &mut report;
    let bag_report = bag::validate(files);
    let mut failures: Vec<Failure> = bag_report
        .errors
        .iter()
        .chain(&bag_report.uncheckable)
        .map(|issue| fail(issue.path.clone(), issue.what.clone()))
        .collect();
    failures.append(&mut r.failures);
    r.failures = failures;
    let mut warnings: Vec<String> = bag_report.warnings.iter().map(|i| i.to_string()).collect();
    warnings.append(&mut r.warnings);
    r.warnings = warnings;
    let Some(index) = index else {
        return report;
    };
    for v in &mut r.items {
        check_payload(v, files);
    }
    let listed: BTreeSet<String> = index.items.iter().map(|(id, _)| hex32(id)).collect();
    // Anything under guwah/ that the format does not know.
    let payloads: BTreeSet<&str> = index.items.iter().map(|(_, p)| p.as_str()).collect();
    for path in files.files.keys() {
        if path.starts_with("data/") && !payloads.contains(path.as_str()) {
            r.warnings.push(format!(
                "{path}: in the payload but not part of any sealed item"
            ));
        }
        if let Some(rest) = path.strip_prefix("guwah/items/") {
            // v1: guwah/items/<id>/...; v2: exactly guwah/items/<id>.txt.
            let id = match index.version {
                1 => rest.split('/').next(),
                _ => rest.strip_suffix(".txt").filter(|id| !id.contains('/')),
            };
            if !id.is_some_and(|id| listed.contains(id)) {
                r.failures.push(fail(
                    path.clone(),
                    "belongs to no item listed in guwah/package.txt",
                ));
            }
        } else if path.starts_with(TIMESTAMPS_DIR) {
            r.timestamps.push(path.clone());
        } else if path.starts_with("guwah/")
            && ![PACKAGE_TXT, CHECKPOINT, KEYS].contains(&path.as_str())
        {
            r.warnings
                .push(format!("{path}: not part of the package format; ignored"));
        }
    }
    report
}

fn prepare_into(
    r: &mut BundleReport,
    tags: &BTreeMap<String, Vec<u8>>,
    trusted: &[Verifier],
    runner: &dyn ItemRunner,
) -> Option<PackageIndex> {
    // The index.
    let index = match tags.get(PACKAGE_TXT) {
        None => {
            r.failures.push(fail(
                PACKAGE_TXT,
                "missing: this is not a guwah evidence package",
            ));
            return None;
        }
        Some(b) => match PackageIndex::parse(b) {
            Ok(i) => i,
            Err(e) => {
                r.failures.push(fail(PACKAGE_TXT, e.to_string()));
                return None;
            }
        },
    };
    r.version = Some(format!("guwah/package/v{}", index.version));
    r.origin = Some(index.origin.clone());
    // Keys in the package.
    let mut package_keys: Vec<AnyVerifier> = Vec::new();
    match tags.get(KEYS) {
        None => r
            .warnings
            .push(format!("{KEYS}: missing; no verifier keys in the package")),
        Some(b) => match lines_of(b) {
            Err(e) => r.failures.push(fail(KEYS, e.to_string())),
            Ok(lines) => {
                for (i, l) in lines.iter().enumerate() {
                    match AnyVerifier::from_vkey(l) {
                        Ok(k) => package_keys.push(k),
                        Err(e) => r.failures.push(fail(KEYS, format!("line {}: {e}", i + 1))),
                    }
                }
            }
        },
    }
    // The checkpoint.
    let mut cp = CheckpointCtx {
        note: Vec::new(),
        body: None,
    };
    match tags.get(CHECKPOINT) {
        None => r.failures.push(fail(
            CHECKPOINT,
            "missing: no checkpoint to check receipts against",
        )),
        Some(note_bytes) => {
            cp.note = note_bytes.clone();
            check_checkpoint(r, &index, note_bytes, trusted, &package_keys, &mut cp);
        }
    }
    // Items.
    let cp = &cp;
    let items = &index.items;
    r.items = runner.run(items.len(), &|i| {
        let (id, payload) = &items[i];
        check_item_tags(tags, index.version, id, payload, cp)
    });
    if index.items.is_empty() {
        r.failures.push(fail(PACKAGE_TXT, "lists no items"));
    }
    Some(index)
}

fn check_checkpoint(
    r: &mut BundleReport,
    index: &PackageIndex,
    note_bytes: &[u8],
    trusted: &[Verifier],
    package_keys: &[AnyVerifier],
    cp: &mut CheckpointCtx,
) {
    let parsed = note::Note::parse(note_bytes)
        .map_err(|e| e.to_string())
        .and_then(|n| {
            Checkpoint::parse(&n.text)
                .map(|c| (n, c))
                .map_err(|e| e.to_string())
        });
    let (note_parsed, body) = match parsed {
        Ok(x) => x,
        Err(e) => {
            r.failures.push(fail(CHECKPOINT, e));
            return;
        }
    };
    r.checkpoint_size = Some(body.size);
    r.checkpoint_root = Some(B64.encode(body.root));
    if body.origin != index.origin {
        r.failures.push(fail(
            CHECKPOINT,
            format!(
                "origin {:?} is not the package's origin {:?}",
                clip(&body.origin),
                index.origin
            ),
        ));
    }
    if body.size != index.checkpoint_size {
        r.failures.push(fail(
            CHECKPOINT,
            format!(
                "size {} is not the package's checkpoint-size {}",
                body.size, index.checkpoint_size
            ),
        ));
    }
    // Which keys check the log signature.
    let log_keys_in_package: Vec<&AnyVerifier> = package_keys
        .iter()
        .filter(|k| matches!(k, AnyVerifier::Ed25519(_)) && k.name() == body.origin)
        .collect();
    let cosigners: Vec<&AnyVerifier> = package_keys
        .iter()
        .filter(|k| k.name() != body.origin)
        .collect();
    let mut verifiers: Vec<&dyn NoteVerifier> = Vec::new();
    if trusted.is_empty() {
        r.log_key_trusted = false;
        if log_keys_in_package.is_empty() {
            r.failures.push(fail(
                CHECKPOINT,
                format!(
                    "no key named {:?} was given (--trust) or found in {KEYS}",
                    body.origin
                ),
            ));
            return;
        }
        r.log_key = log_keys_in_package.first().map(|k| k.to_vkey());
        verifiers.extend(log_keys_in_package.iter().map(|k| *k as &dyn NoteVerifier));
    } else {
        let named: Vec<&Verifier> = trusted.iter().filter(|k| k.name() == body.origin).collect();
        if named.is_empty() {
            let names: Vec<&str> = trusted.iter().map(|k| k.name()).collect();
            r.failures.push(fail(
                "trust",
                format!(
                    "no trusted key is named after the log's origin {:?} (trusted: {})",
                    body.origin,
                    names.join(", ")
                ),
            ));
            return;
        }
        r.log_key_trusted = true;
        r.log_key = named.first().map(|k| k.to_vkey());
        if let Some(k) = log_keys_in_package.first()
            && !named.iter().any(|n| n.to_vkey() == k.to_vkey())
        {
            r.warnings.push(format!(
                "{KEYS}: the log key in the package is not the trusted one"
            ));
        }
        verifiers.extend(named.iter().map(|k| *k as &dyn NoteVerifier));
    }
    verifiers.extend(cosigners.iter().map(|k| *k as &dyn NoteVerifier));
    match open_checkpoint(note_bytes, &verifiers, &body.origin) {
        Ok((_, opened)) => {
            for s in &opened.verified {
                r.signatures.push(SignatureView {
                    name: s.name.clone(),
                    status: if s.name == body.origin && r.log_key_trusted {
                        "trusted"
                    } else {
                        "package"
                    },
                    timestamp: s.timestamp,
                });
            }
            for s in &opened.unverified {
                r.signatures.push(SignatureView {
                    name: s.name.clone(),
                    status: "unknown",
                    timestamp: None,
                });
            }
            cp.body = Some(body);
        }
        Err(e) => {
            let _ = note_parsed;
            let what = if r.log_key_trusted {
                format!("not signed by the trusted log key: {e}")
            } else {
                format!("its signature does not verify with the log key in {KEYS}: {e}")
            };
            r.failures.push(fail(CHECKPOINT, what));
        }
    }
}

/// Check a disclosure against a package: the item is in it, and the
/// disclosed value and salt reproduce the commitment in its sealed record.
/// Returns failures (empty: the disclosure holds).
pub fn check_disclosure(files: &BagFiles, d: &Disclosure) -> Vec<Failure> {
    let not_here = || {
        vec![fail(
            "disclosure",
            format!("item {} is not in this package", hex32(&d.item)),
        )]
    };
    let version = files
        .tag_contents
        .get(PACKAGE_TXT)
        .and_then(|b| PackageIndex::parse(b).ok())
        .map_or(2, |i| i.version);
    if version != 1 && !files.tag_contents.contains_key(&item_file_path(&d.item)) {
        return not_here();
    }
    let parts = match item_parts(&files.tag_contents, version, &d.item) {
        Ok(p) => p,
        Err(f) => return vec![f],
    };
    let path = parts.label(RECORD_FILE);
    let mut failures = Vec::new();
    let Some((leaf, record)) = check_record(&parts, RECORD_FILE, &mut failures) else {
        if failures.iter().any(|f| f.what == "missing") {
            return not_here();
        }
        return failures;
    };
    if leaf_hash(leaf) != d.item {
        failures.push(fail(&path, "its hash is not the item id"));
    }
    match record.fields().iter().find(|f| f.name == d.name) {
        None => failures.push(fail(
            &path,
            format!("the sealed record has no field {:?}", d.name),
        )),
        Some(f) => {
            if f.commitment != d.commitment {
                failures.push(fail(
                    "disclosure",
                    format!(
                        "its commitment is not the one sealed in the record for {:?}",
                        d.name
                    ),
                ));
            }
            if commit_field(&d.name, &d.salt, &d.value) != f.commitment {
                failures.push(fail(
                    "disclosure",
                    format!(
                        "value and salt do not reproduce the sealed commitment of {:?}",
                        d.name
                    ),
                ));
            }
        }
    }
    failures
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn package_index_round_trips() {
        let mut p = PackageIndex {
            version: 1,
            origin: "example.org/log".into(),
            checkpoint_size: 12,
            items: vec![([1; 32], "data/0101-photo.jpg".into())],
        };
        let b = p.encode();
        assert_eq!(PackageIndex::parse(&b).unwrap(), p);
        p.version = 2;
        let b = p.encode();
        assert!(b.starts_with(b"guwah/package/v2\n"));
        assert_eq!(PackageIndex::parse(&b).unwrap(), p);
        let bad = String::from_utf8(b).unwrap();
        for c in [
            bad.replace("v2", "v3"),
            bad.replace("size 12", "size 012"),
            bad.replace("data/", "../"),
            bad.replace("photo.jpg", "a b"),
            bad.clone() + bad.lines().last().unwrap() + "\n",
        ] {
            assert!(PackageIndex::parse(c.as_bytes()).is_err(), "accepted {c}");
        }
    }

    #[test]
    fn fields_round_trip_and_order() {
        let f = FieldsFile {
            entries: vec![
                FieldEntry::Disclosed {
                    name: "filename".into(),
                    salt: [3; 32],
                    value: b"a\nb".to_vec(),
                },
                FieldEntry::Withheld { name: "gps".into() },
            ],
        };
        assert_eq!(FieldsFile::parse(&f.encode()).unwrap(), f);
        let rev = FieldsFile {
            entries: f.entries.iter().rev().cloned().collect(),
        };
        assert!(FieldsFile::parse(&rev.encode()).is_err());
    }

    #[test]
    fn disclosure_round_trips() {
        let d = Disclosure {
            item: [9; 32],
            name: "gps".into(),
            salt: [1; 32],
            value: b"43.8,87.6".to_vec(),
            commitment: commit_field("gps", &[1; 32], b"43.8,87.6"),
        };
        let back = Disclosure::parse(&d.encode()).unwrap();
        assert_eq!(back, d);
        assert!(back.reproduces());
    }

    #[test]
    fn the_tag_files_a_verifier_reads() {
        for (p, read) in [
            ("bagit.txt", true),
            ("manifest-sha256.txt", true),
            (PACKAGE_TXT, true),
            (CHECKPOINT, true),
            (KEYS, true),
            ("guwah/timestamps/checkpoint.tsr", true),
            ("guwah/items/ab.txt", true),
            ("guwah/items/ab/events/cd/record", true),
            (REPORT, false),
            ("guwah/other", false),
            ("extra/big.bin", false),
        ] {
            assert_eq!(is_read_tag_file(p), read, "{p}");
        }
    }

    #[test]
    fn json_escapes() {
        let mut s = String::new();
        escape_json(&mut s, "a\"b\\c\n\u{1}é");
        assert_eq!(s, "\"a\\\"b\\\\c\\n\\u0001é\"");
    }

    #[test]
    fn hostile_packages_fail_cleanly() {
        let id = [7u8; 32];
        let dir = item_dir(&id);
        let index = |version| {
            PackageIndex {
                version,
                origin: "example.org/log".into(),
                checkpoint_size: 1,
                items: vec![(id, "data/x".into())],
            }
            .encode()
        };
        let junk: [&[u8]; 6] = [
            b"",
            b"\n",
            b"\xff\xfe",
            b"c2sp.org/tlog-proof@v1\nindex 0\n\nx\n\n\xe2\x80\x94 a AAAAAAA=\n",
            b"guwah/fields/v1\ndisclosed a b c\n",
            b"guwah/item/v1\n",
        ];
        for j in junk {
            // v1: a folder of files; v2: the same parts in one item file,
            // and the junk as a whole item file.
            let mut v1 = BagFiles::default();
            v1.tag_contents.insert(PACKAGE_TXT.into(), index(1));
            let mut packed = crate::item_file::ItemFile::default();
            for name in [RECORD_FILE, RECEIPT_FILE, FIELDS_FILE] {
                let event = format!("events/{}/{name}", hex32(&[8; 32]));
                v1.tag_contents.insert(format!("{dir}{name}"), j.to_vec());
                v1.tag_contents.insert(format!("{dir}{event}"), j.to_vec());
                packed.parts.push((name.into(), j.to_vec()));
                packed.parts.push((event, j.to_vec()));
            }
            let mut v2 = BagFiles::default();
            v2.tag_contents.insert(PACKAGE_TXT.into(), index(2));
            v2.tag_contents.insert(item_file_path(&id), packed.encode());
            let mut v2_junk = BagFiles::default();
            v2_junk.tag_contents.insert(PACKAGE_TXT.into(), index(2));
            v2_junk.tag_contents.insert(item_file_path(&id), j.to_vec());
            for mut files in [v1, v2, v2_junk] {
                files.tag_contents.insert(CHECKPOINT.into(), j.to_vec());
                files.tag_contents.insert(KEYS.into(), j.to_vec());
                let r = verify_bundle(&files, &[]);
                assert_eq!(r.verdict(), Verdict::Failed);
                assert!(!r.all_failures().is_empty());
                let _ = r.to_json();
            }
        }
        assert_eq!(
            verify_bundle(&BagFiles::default(), &[]).verdict(),
            Verdict::Failed
        );
    }
}
