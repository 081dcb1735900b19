//! guwah's log records: what each leaf of the log says, byte by byte.
//!
//! A record is UTF-8 text, one `key value` line each, in a fixed order, every
//! line ending in `\n` (see `docs/format.md` for the full grammar and test
//! vectors). The first line names the record type and its version. The last
//! line is the collector's Ed25519 signature over every byte before it, so
//! the type line doubles as domain separation.
//!
//! ```text
//! guwah/item/v1
//! media-type image/jpeg
//! size 48213
//! sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08
//! sealed-at 2026-11-29T03:25:05Z
//! collector <base64 Ed25519 public key>
//! field filename <base64 SHA-256 commitment>
//! signature <base64 Ed25519 signature>
//! ```
//!
//! Metadata values are never in the record: each field is a salted
//! commitment ([`commit_field`]), so an export can withhold one field while
//! every other still verifies. Parsing is strict and canonical: a record is
//! accepted only if encoding the parsed value gives back the same bytes.

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signature, Signer as _, SigningKey, VerifyingKey};
use sha2::{Digest, Sha256};

use crate::merkle::{Hash, leaf_hash};

/// First line of an item record, version 1.
pub const ITEM_V1: &str = "guwah/item/v1";
/// First line of a custody-event record, version 1.
pub const EVENT_V1: &str = "guwah/event/v1";
/// First line of an audit record, version 1.
pub const AUDIT_V1: &str = "guwah/audit/v1";
/// Records must fit a C2SP entry bundle entry.
pub const MAX_RECORD_LEN: usize = 65_535;
/// At most this many committed fields per record.
pub const MAX_FIELDS: usize = 64;

/// Why a record was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    /// The bytes do not follow the grammar.
    #[error("record line {line}: {why}")]
    Malformed {
        /// 1-based line number.
        line: usize,
        /// What is wrong.
        why: String,
    },
    /// A value is not acceptable.
    #[error("record field {field}: {why}")]
    Invalid {
        /// Which field.
        field: &'static str,
        /// What is wrong.
        why: String,
    },
    /// The signature does not verify with the record's own public key.
    #[error("record signature does not verify with the {role} key it names")]
    BadSignature {
        /// "collector" for items, "actor" for events.
        role: &'static str,
    },
}

fn malformed(line: usize, why: impl Into<String>) -> RecordError {
    RecordError::Malformed {
        line,
        why: why.into(),
    }
}

/// A salted commitment to one metadata field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldCommitment {
    /// Field name: `[a-z0-9][a-z0-9.-]*`, at most 64 bytes.
    pub name: String,
    /// `commit_field(name, salt, value)`.
    pub commitment: Hash,
}

/// The commitment to one metadata field:
/// `SHA-256("guwah/field/v1\n" || name || "\n" || salt || value)`.
pub fn commit_field(name: &str, salt: &[u8; 32], value: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update(b"guwah/field/v1\n");
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update(salt);
    h.update(value);
    h.finalize().into()
}

/// The record of one piece of evidence, sealed when it entered the vault.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ItemRecord {
    /// IANA media type, lowercase (`application/octet-stream` if unknown).
    pub media_type: String,
    /// Size of the original in bytes.
    pub size: u64,
    /// SHA-256 of the original bytes.
    pub sha256: Hash,
    /// When it was sealed, `YYYY-MM-DDTHH:MM:SSZ`.
    pub sealed_at: String,
    /// The collector's Ed25519 public key.
    pub collector: [u8; 32],
    /// Committed metadata fields, sorted by name.
    pub fields: Vec<FieldCommitment>,
    /// The collector's signature over the record body.
    pub signature: [u8; 64],
}

/// What a custody event records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// The original was decrypted and written out of the vault.
    Exported,
    /// A note or tag was added.
    Annotated,
    /// A derivative (for example a redacted copy) was made from it.
    Derived,
    /// Custody passed to another holder.
    Transferred,
    /// A withheld metadata field was disclosed.
    Disclosed,
    /// The item was received from someone else: uploaded to a server by an
    /// account, or pushed from another vault's log.
    Received,
}

impl Action {
    /// All actions, in their canonical spelling.
    pub const ALL: [Action; 6] = [
        Action::Exported,
        Action::Annotated,
        Action::Derived,
        Action::Transferred,
        Action::Disclosed,
        Action::Received,
    ];

    /// The canonical spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Exported => "exported",
            Action::Annotated => "annotated",
            Action::Derived => "derived",
            Action::Transferred => "transferred",
            Action::Disclosed => "disclosed",
            Action::Received => "received",
        }
    }

    /// Parse the canonical spelling.
    pub fn parse(s: &str) -> Option<Action> {
        Action::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// What an audit record records: something done to the vault's accounts or
/// through them, not to one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditAction {
    /// An account signed in.
    Login,
    /// A sign-in was refused (wrong password, second factor, disabled).
    LoginFailed,
    /// An account was made.
    AccountAdded,
    /// An account's role changed.
    RoleChanged,
    /// An account was disabled: its sessions and tokens end.
    AccountDisabled,
    /// An account's password or second factor changed.
    CredentialsChanged,
    /// An API token was issued.
    TokenIssued,
}

impl AuditAction {
    /// All audit actions.
    pub const ALL: [AuditAction; 7] = [
        AuditAction::Login,
        AuditAction::LoginFailed,
        AuditAction::AccountAdded,
        AuditAction::RoleChanged,
        AuditAction::AccountDisabled,
        AuditAction::CredentialsChanged,
        AuditAction::TokenIssued,
    ];

    /// The canonical spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            AuditAction::Login => "login",
            AuditAction::LoginFailed => "login-failed",
            AuditAction::AccountAdded => "account-added",
            AuditAction::RoleChanged => "role-changed",
            AuditAction::AccountDisabled => "account-disabled",
            AuditAction::CredentialsChanged => "credentials-changed",
            AuditAction::TokenIssued => "token-issued",
        }
    }

    /// Parse the canonical spelling.
    pub fn parse(s: &str) -> Option<AuditAction> {
        AuditAction::ALL.into_iter().find(|a| a.as_str() == s)
    }
}

/// An audit event: a sign-in, an account change, a token issued. A leaf
/// of the log like any other, so the audit trail is as tamper-evident as
/// the evidence and never expires. Who and from where are committed
/// fields (`account`, `address`, ...), private like all metadata.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    /// What happened.
    pub action: AuditAction,
    /// When, `YYYY-MM-DDTHH:MM:SSZ`.
    pub at: String,
    /// The key that sealed it (the vault's collector key on a server).
    pub actor: [u8; 32],
    /// Committed details, sorted by name.
    pub fields: Vec<FieldCommitment>,
    /// The actor's signature over the record body.
    pub signature: [u8; 64],
}

/// A custody event about an item: also a leaf of the log, so an item's
/// history is as tamper-evident as the item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRecord {
    /// What happened.
    pub action: Action,
    /// The item's id (the leaf hash of its item record).
    pub item: Hash,
    /// When, `YYYY-MM-DDTHH:MM:SSZ`.
    pub at: String,
    /// Who did it: an Ed25519 public key.
    pub actor: [u8; 32],
    /// Another item involved (the derivative of a `derived` event).
    pub related: Option<Hash>,
    /// Committed details, sorted by name.
    pub fields: Vec<FieldCommitment>,
    /// The actor's signature over the record body.
    pub signature: [u8; 64],
}

/// Any log record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A piece of evidence.
    Item(ItemRecord),
    /// A custody event.
    Event(EventRecord),
    /// An audit event.
    Audit(AuditRecord),
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Parse exactly 64 lowercase hex digits.
pub fn parse_hex32(s: &str) -> Option<Hash> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    for (i, pair) in s.as_bytes().chunks(2).enumerate() {
        let digit = |c: u8| match c {
            b'0'..=b'9' => Some(c - b'0'),
            b'a'..=b'f' => Some(c - b'a' + 10),
            _ => None,
        };
        out[i] = (digit(pair[0])? << 4) | digit(pair[1])?;
    }
    Some(out)
}

/// Lowercase hex of 32 bytes (an item id, a SHA-256).
pub fn hex32(h: &Hash) -> String {
    hex(h)
}

fn check_time(field: &'static str, s: &str) -> Result<(), RecordError> {
    let b = s.as_bytes();
    let shape = b.len() == 20
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            10 => *c == b'T',
            13 | 16 => *c == b':',
            19 => *c == b'Z',
            _ => c.is_ascii_digit(),
        });
    let num = |r: std::ops::Range<usize>| s[r].parse::<u32>().unwrap_or(99);
    if !shape
        || !(1..=12).contains(&num(5..7))
        || !(1..=31).contains(&num(8..10))
        || num(11..13) > 23
        || num(14..16) > 59
        || num(17..19) > 60
    {
        return Err(RecordError::Invalid {
            field,
            why: format!("{s:?} is not a UTC time of the form YYYY-MM-DDTHH:MM:SSZ"),
        });
    }
    Ok(())
}

fn check_media_type(s: &str) -> Result<(), RecordError> {
    let token = |t: &str| {
        !t.is_empty()
            && t.bytes()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"!#$&^_.+-".contains(&c))
    };
    match s.split_once('/') {
        Some((a, b)) if s.len() <= 127 && token(a) && token(b) => Ok(()),
        _ => Err(RecordError::Invalid {
            field: "media-type",
            why: format!("{s:?} is not a lowercase type/subtype"),
        }),
    }
}

/// Check a field name: `[a-z0-9][a-z0-9.-]*`, at most 64 bytes.
pub fn check_field_name(name: &str) -> Result<(), RecordError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.as_bytes()[0].is_ascii_alphanumeric()
        && name
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'.' || c == b'-');
    if ok {
        Ok(())
    } else {
        Err(RecordError::Invalid {
            field: "field",
            why: format!("{name:?} is not a field name ([a-z0-9][a-z0-9.-]*, at most 64 bytes)"),
        })
    }
}

fn check_fields(fields: &[FieldCommitment]) -> Result<(), RecordError> {
    if fields.len() > MAX_FIELDS {
        return Err(RecordError::Invalid {
            field: "field",
            why: format!("{} fields, at most {MAX_FIELDS} allowed", fields.len()),
        });
    }
    for f in fields {
        check_field_name(&f.name)?;
    }
    for pair in fields.windows(2) {
        if pair[0].name >= pair[1].name {
            return Err(RecordError::Invalid {
                field: "field",
                why: format!(
                    "fields must be sorted and unique: {:?} comes before {:?}",
                    pair[0].name, pair[1].name
                ),
            });
        }
    }
    Ok(())
}

fn push_fields(out: &mut String, fields: &[FieldCommitment]) {
    for f in fields {
        out.push_str(&format!("field {} {}\n", f.name, B64.encode(f.commitment)));
    }
}

impl ItemRecord {
    /// The bytes the signature covers: every line but the last.
    pub fn body(&self) -> String {
        let mut s = format!(
            "{ITEM_V1}\nmedia-type {}\nsize {}\nsha256 {}\nsealed-at {}\ncollector {}\n",
            self.media_type,
            self.size,
            hex(&self.sha256),
            self.sealed_at,
            B64.encode(self.collector)
        );
        push_fields(&mut s, &self.fields);
        s
    }

    /// Check every value, then sign with the collector's key (which must be
    /// the one named in `collector`).
    pub fn sign(&mut self, key: &SigningKey) -> Result<(), RecordError> {
        self.collector = key.verifying_key().to_bytes();
        self.validate()?;
        self.signature = key.sign(self.body().as_bytes()).to_bytes();
        Ok(())
    }

    fn validate(&self) -> Result<(), RecordError> {
        check_media_type(&self.media_type)?;
        check_time("sealed-at", &self.sealed_at)?;
        check_fields(&self.fields)
    }
}

impl EventRecord {
    /// The bytes the signature covers: every line but the last.
    pub fn body(&self) -> String {
        let mut s = format!(
            "{EVENT_V1}\naction {}\nitem {}\nat {}\nactor {}\n",
            self.action.as_str(),
            hex(&self.item),
            self.at,
            B64.encode(self.actor)
        );
        if let Some(r) = &self.related {
            s.push_str(&format!("related {}\n", hex(r)));
        }
        push_fields(&mut s, &self.fields);
        s
    }

    /// Check every value, then sign with the actor's key.
    pub fn sign(&mut self, key: &SigningKey) -> Result<(), RecordError> {
        self.actor = key.verifying_key().to_bytes();
        check_time("at", &self.at)?;
        check_fields(&self.fields)?;
        self.signature = key.sign(self.body().as_bytes()).to_bytes();
        Ok(())
    }
}

impl AuditRecord {
    /// The bytes the signature covers: every line but the last.
    pub fn body(&self) -> String {
        let mut s = format!(
            "{AUDIT_V1}\naction {}\nat {}\nactor {}\n",
            self.action.as_str(),
            self.at,
            B64.encode(self.actor)
        );
        push_fields(&mut s, &self.fields);
        s
    }

    /// Check every value, then sign with the actor's key.
    pub fn sign(&mut self, key: &SigningKey) -> Result<(), RecordError> {
        self.actor = key.verifying_key().to_bytes();
        check_time("at", &self.at)?;
        check_fields(&self.fields)?;
        self.signature = key.sign(self.body().as_bytes()).to_bytes();
        Ok(())
    }
}

impl Record {
    /// The exact leaf bytes.
    pub fn encode(&self) -> Vec<u8> {
        let (body, sig) = match self {
            Record::Item(r) => (r.body(), &r.signature),
            Record::Event(r) => (r.body(), &r.signature),
            Record::Audit(r) => (r.body(), &r.signature),
        };
        format!("{body}signature {}\n", B64.encode(sig)).into_bytes()
    }

    /// The record's id: its RFC 9162 leaf hash, `SHA-256(0x00 || leaf)`.
    pub fn id(&self) -> Hash {
        leaf_hash(&self.encode())
    }

    /// The committed fields.
    pub fn fields(&self) -> &[FieldCommitment] {
        match self {
            Record::Item(r) => &r.fields,
            Record::Event(r) => &r.fields,
            Record::Audit(r) => &r.fields,
        }
    }

    /// Check the signature against the key the record names.
    pub fn verify_signature(&self) -> Result<(), RecordError> {
        let (body, key, sig, role) = match self {
            Record::Item(r) => (r.body(), r.collector, r.signature, "collector"),
            Record::Event(r) => (r.body(), r.actor, r.signature, "actor"),
            Record::Audit(r) => (r.body(), r.actor, r.signature, "actor"),
        };
        let key = VerifyingKey::from_bytes(&key).map_err(|_| RecordError::BadSignature { role })?;
        key.verify_strict(body.as_bytes(), &Signature::from_bytes(&sig))
            .map_err(|_| RecordError::BadSignature { role })
    }

    /// Parse leaf bytes strictly. Does not check the signature: call
    /// [`Record::verify_signature`].
    pub fn parse(bytes: &[u8]) -> Result<Record, RecordError> {
        if bytes.len() > MAX_RECORD_LEN {
            return Err(malformed(
                0,
                format!("{} bytes, at most {MAX_RECORD_LEN}", bytes.len()),
            ));
        }
        let text = std::str::from_utf8(bytes).map_err(|_| malformed(0, "not UTF-8"))?;
        let Some(text) = text.strip_suffix('\n') else {
            return Err(malformed(0, "does not end in a newline"));
        };
        let mut lines = Lines {
            iter: text
                .split('\n')
                .collect::<Vec<_>>()
                .into_iter()
                .enumerate()
                .peekable(),
        };
        let record = match lines.next_line()? {
            (_, ITEM_V1) => Record::Item(parse_item(&mut lines)?),
            (_, EVENT_V1) => Record::Event(parse_event(&mut lines)?),
            (_, AUDIT_V1) => Record::Audit(parse_audit(&mut lines)?),
            (n, other) => return Err(malformed(n, format!("unknown record type {other:?}"))),
        };
        if let Some((n, _)) = lines.iter.next() {
            return Err(malformed(n + 1, "text after the signature line"));
        }
        if record.encode() != bytes {
            return Err(malformed(0, "not in canonical form"));
        }
        Ok(record)
    }
}

type LineIter<'a> = std::iter::Peekable<std::iter::Enumerate<std::vec::IntoIter<&'a str>>>;

struct Lines<'a> {
    iter: LineIter<'a>,
}

impl<'a> Lines<'a> {
    fn next_line(&mut self) -> Result<(usize, &'a str), RecordError> {
        match self.iter.next() {
            Some((i, l)) => Ok((i + 1, l)),
            None => Err(malformed(0, "record ends too early")),
        }
    }

    /// The value of the next line, which must be `key value`.
    fn value(&mut self, key: &str) -> Result<(usize, &'a str), RecordError> {
        let (n, line) = self.next_line()?;
        match line.split_once(' ') {
            Some((k, v)) if k == key && !v.is_empty() => Ok((n, v)),
            _ => Err(malformed(
                n,
                format!("expected \"{key} <value>\", found {line:?}"),
            )),
        }
    }

    fn peek_key(&mut self, key: &str) -> bool {
        self.iter
            .peek()
            .is_some_and(|(_, l)| l.split_once(' ').is_some_and(|(k, _)| k == key))
    }

    fn fields(&mut self) -> Result<Vec<FieldCommitment>, RecordError> {
        let mut fields = Vec::new();
        while self.peek_key("field") {
            let (n, v) = self.value("field")?;
            let (name, c) = v
                .split_once(' ')
                .ok_or_else(|| malformed(n, "expected \"field <name> <commitment>\""))?;
            fields.push(FieldCommitment {
                name: name.to_owned(),
                commitment: b64_array(n, c)?,
            });
        }
        check_fields(&fields)?;
        Ok(fields)
    }

    fn signature(&mut self) -> Result<[u8; 64], RecordError> {
        let (n, v) = self.value("signature")?;
        b64_array(n, v)
    }
}

fn b64_array<const N: usize>(line: usize, s: &str) -> Result<[u8; N], RecordError> {
    let bytes = B64
        .decode(s)
        .map_err(|_| malformed(line, format!("{s:?} is not standard base64")))?;
    bytes
        .try_into()
        .map_err(|_| malformed(line, format!("expected {N} bytes of base64")))
}

fn hex_array(line: usize, s: &str) -> Result<Hash, RecordError> {
    parse_hex32(s).ok_or_else(|| malformed(line, format!("{s:?} is not 64 lowercase hex digits")))
}

fn parse_item(lines: &mut Lines<'_>) -> Result<ItemRecord, RecordError> {
    let (_, media_type) = lines.value("media-type")?;
    check_media_type(media_type)?;
    let (n, size) = lines.value("size")?;
    let size = size
        .parse::<u64>()
        .ok()
        .filter(|v| v.to_string() == size)
        .ok_or_else(|| malformed(n, format!("size {size:?} is not a canonical decimal")))?;
    let (n, sha) = lines.value("sha256")?;
    let sha256 = hex_array(n, sha)?;
    let (_, sealed_at) = lines.value("sealed-at")?;
    check_time("sealed-at", sealed_at)?;
    let (n, collector) = lines.value("collector")?;
    let collector = b64_array(n, collector)?;
    let fields = lines.fields()?;
    let signature = lines.signature()?;
    Ok(ItemRecord {
        media_type: media_type.to_owned(),
        size,
        sha256,
        sealed_at: sealed_at.to_owned(),
        collector,
        fields,
        signature,
    })
}

fn parse_event(lines: &mut Lines<'_>) -> Result<EventRecord, RecordError> {
    let (n, action) = lines.value("action")?;
    let action =
        Action::parse(action).ok_or_else(|| malformed(n, format!("unknown action {action:?}")))?;
    let (n, item) = lines.value("item")?;
    let item = hex_array(n, item)?;
    let (_, at) = lines.value("at")?;
    check_time("at", at)?;
    let (n, actor) = lines.value("actor")?;
    let actor = b64_array(n, actor)?;
    let related = if lines.peek_key("related") {
        let (n, r) = lines.value("related")?;
        Some(hex_array(n, r)?)
    } else {
        None
    };
    let fields = lines.fields()?;
    let signature = lines.signature()?;
    Ok(EventRecord {
        action,
        item,
        at: at.to_owned(),
        actor,
        related,
        fields,
        signature,
    })
}

fn parse_audit(lines: &mut Lines<'_>) -> Result<AuditRecord, RecordError> {
    let (n, action) = lines.value("action")?;
    let action = AuditAction::parse(action)
        .ok_or_else(|| malformed(n, format!("unknown audit action {action:?}")))?;
    let (_, at) = lines.value("at")?;
    check_time("at", at)?;
    let (n, actor) = lines.value("actor")?;
    let actor = b64_array(n, actor)?;
    let fields = lines.fields()?;
    let signature = lines.signature()?;
    Ok(AuditRecord {
        action,
        at: at.to_owned(),
        actor,
        fields,
        signature,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SigningKey {
        SigningKey::from_bytes(&[7u8; 32])
    }

    fn item() -> ItemRecord {
        let mut r = ItemRecord {
            media_type: "image/jpeg".into(),
            size: 48213,
            sha256: [0xab; 32],
            sealed_at: "2026-11-29T03:25:05Z".into(),
            collector: [0; 32],
            fields: vec![
                FieldCommitment {
                    name: "filename".into(),
                    commitment: commit_field("filename", &[1; 32], b"IMG_0001.jpg"),
                },
                FieldCommitment {
                    name: "gps".into(),
                    commitment: commit_field("gps", &[2; 32], b"43.8,87.6"),
                },
            ],
            signature: [0; 64],
        };
        r.sign(&key()).unwrap();
        r
    }

    #[test]
    fn item_round_trips_and_verifies() {
        let rec = Record::Item(item());
        let bytes = rec.encode();
        let back = Record::parse(&bytes).unwrap();
        assert_eq!(back, rec);
        back.verify_signature().unwrap();
        assert_eq!(back.id(), leaf_hash(&bytes));
    }

    #[test]
    fn event_round_trips_and_verifies() {
        let mut ev = EventRecord {
            action: Action::Exported,
            item: Record::Item(item()).id(),
            at: "2026-11-29T04:00:00Z".into(),
            actor: [0; 32],
            related: Some([9; 32]),
            fields: vec![],
            signature: [0; 64],
        };
        ev.sign(&key()).unwrap();
        let rec = Record::Event(ev);
        let back = Record::parse(&rec.encode()).unwrap();
        assert_eq!(back, rec);
        back.verify_signature().unwrap();
    }

    #[test]
    fn audit_round_trips_and_verifies() {
        let mut rec = AuditRecord {
            action: AuditAction::LoginFailed,
            at: "2026-12-02T21:00:00Z".into(),
            actor: [0; 32],
            fields: vec![FieldCommitment {
                name: "account".into(),
                commitment: commit_field("account", &[5; 32], b"amina"),
            }],
            signature: [0; 64],
        };
        rec.sign(&key()).unwrap();
        let rec = Record::Audit(rec);
        let bytes = rec.encode();
        assert!(bytes.starts_with(b"guwah/audit/v1\naction login-failed\nat "));
        let back = Record::parse(&bytes).unwrap();
        assert_eq!(back, rec);
        back.verify_signature().unwrap();
        let other = String::from_utf8(bytes)
            .unwrap()
            .replace("login-failed", "logout");
        assert!(Record::parse(other.as_bytes()).is_err());
        for a in AuditAction::ALL {
            assert_eq!(AuditAction::parse(a.as_str()), Some(a));
        }
        assert_eq!(Action::parse("received"), Some(Action::Received));
    }

    #[test]
    fn any_changed_byte_is_caught() {
        let bytes = Record::Item(item()).encode();
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            let ok = Record::parse(&b).and_then(|r| r.verify_signature());
            assert!(ok.is_err(), "flip at byte {i} went unnoticed");
        }
    }

    #[test]
    fn rejects_non_canonical_and_bad_values() {
        let good = String::from_utf8(Record::Item(item()).encode()).unwrap();
        let cases = [
            good.replace("size 48213", "size 048213"),
            good.replace("image/jpeg", "Image/JPEG"),
            good.replace("2026-11-29T03:25:05Z", "2026-13-29T03:25:05Z"),
            good.replace("\nsignature", "\nfield a!b AAAA\nsignature"),
            good.trim_end().to_string(),
            good.clone() + "extra\n",
            good.replace("guwah/item/v1", "guwah/item/v2"),
            good.replace("field gps", "field aaa"),
        ];
        for case in cases {
            assert!(Record::parse(case.as_bytes()).is_err(), "accepted:\n{case}");
        }
    }

    #[test]
    fn field_commitment_vector() {
        // Fixed vector, also in docs/format.md.
        let c = commit_field("note", &[0u8; 32], b"hello");
        let mut h = Sha256::new();
        h.update(b"guwah/field/v1\nnote\n");
        h.update([0u8; 32]);
        h.update(b"hello");
        assert_eq!(c, <[u8; 32]>::from(h.finalize()));
    }
}
