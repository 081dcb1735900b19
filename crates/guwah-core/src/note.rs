//! C2SP signed notes (<https://c2sp.org/signed-note>), compatible with
//! `golang.org/x/mod/sumdb/note`.
//!
//! A signed note is a UTF-8 text ending in a newline, a blank line, and one or
//! more signature lines `— <key name> base64(key ID || signature)`:
//!
//! ```text
//! If you think cryptography is the answer to your problem,
//! then you don't know what your problem is.
//!
//! — PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=
//! ```
//!
//! Two key types are implemented:
//!
//! - type `0x01`, Ed25519 note signatures over the note text ([`Signer`],
//!   [`Verifier`]);
//! - type `0x04`, C2SP tlog-cosignature v1 timestamped Ed25519 cosignatures
//!   (<https://c2sp.org/tlog-cosignature>) over
//!   `cosignature/v1\ntime <T>\n` followed by the note text
//!   ([`CosignatureSigner`], [`CosignatureVerifier`]).
//!
//! [`open`] checks a note against any set of [`NoteVerifier`]s, following the
//! rules of Go's `note.Open`: a signature whose key name and key ID both match
//! a known key must verify, signatures by unknown keys are reported as
//! unverified, and at least one signature must verify.
//!
//! Parsing differs from Go in two deliberate, documented ways: base64 must be
//! canonical (Go's signers always produce canonical base64), and a note may be
//! at most [`MAX_NOTE_SIZE`] bytes long.

use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest as _, Sha256};

pub mod batch;

/// Signature type byte of Ed25519 note signatures (c2sp.org/signed-note).
pub const TYPE_ED25519: u8 = 0x01;

/// Signature type byte of timestamped Ed25519 cosignatures
/// (c2sp.org/tlog-cosignature v1).
pub const TYPE_COSIGNATURE_V1: u8 = 0x04;

/// The most signature lines a note may carry, as in Go's `note.Open`
/// (the spec requires accepting at least 16).
pub const MAX_SIGNATURES: usize = 100;

/// The largest note, in bytes, that [`Note::parse`] and [`open`] accept.
///
/// Go has no such limit; this one bounds the work done on hostile input and is
/// far above any real checkpoint (a hundred post-quantum signatures included).
pub const MAX_NOTE_SIZE: usize = 1 << 20;

/// The largest timestamp a cosignature may carry (2^63 - 1), per
/// c2sp.org/tlog-cosignature.
pub const MAX_COSIGNATURE_TIMESTAMP: u64 = i64::MAX as u64;

/// The em dash and space that start every signature line.
const SIG_PREFIX: &str = "\u{2014} ";

/// Header line of the tlog-cosignature v1 signed message.
const COSIGNATURE_HEADER: &str = "cosignature/v1\n";

/// Everything that can be wrong with a key, a note or a signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    /// A key name is empty.
    #[error("{what}: key name is empty")]
    EmptyKeyName {
        /// Which key or line this is about.
        what: String,
    },
    /// A key name contains a Unicode space.
    #[error("{what}: key name {name:?} contains a space ({ch:?})")]
    KeyNameSpace {
        /// Which key or line this is about.
        what: String,
        /// The offending name.
        name: String,
        /// The space character found.
        ch: char,
    },
    /// A key name contains a plus sign.
    #[error("{what}: key name {name:?} contains a '+'")]
    KeyNamePlus {
        /// Which key or line this is about.
        what: String,
        /// The offending name.
        name: String,
    },
    /// A verifier or signer key is not of the form it should have.
    #[error("{what}: {problem}")]
    MalformedKey {
        /// Which kind of key: "verifier key" or "signer key".
        what: &'static str,
        /// What is wrong with it.
        problem: String,
    },
    /// The key ID written in a key does not match the key.
    #[error(
        "{what} {name:?}: key ID {written:08x} does not match the key (expected {computed:08x})"
    )]
    KeyIdMismatch {
        /// Which kind of key: "verifier key" or "signer key".
        what: &'static str,
        /// The key's name.
        name: String,
        /// The key ID written in the key.
        written: u32,
        /// The key ID computed from the name and key.
        computed: u32,
    },
    /// A key has an unknown or unexpected signature type byte.
    #[error("{what} {name:?}: signature type 0x{found:02x} is not {expected}")]
    WrongKeyType {
        /// Which kind of key: "verifier key" or "signer key".
        what: &'static str,
        /// The key's name.
        name: String,
        /// The type byte found.
        found: u8,
        /// The type(s) accepted here.
        expected: &'static str,
    },
    /// A note is larger than [`MAX_NOTE_SIZE`].
    #[error("note is {size} bytes long, more than the limit of {MAX_NOTE_SIZE}")]
    TooLarge {
        /// The note's size in bytes.
        size: usize,
    },
    /// A note (or a text to sign) is not valid UTF-8.
    #[error("note line {line}: invalid UTF-8 at byte {offset}")]
    InvalidUtf8 {
        /// 1-based line number.
        line: usize,
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// A note (or a text to sign) contains an ASCII control character other than newline.
    #[error("note line {line}: control character U+{code:04X} (only newline is allowed)")]
    ControlCharacter {
        /// 1-based line number.
        line: usize,
        /// The character's code point.
        code: u32,
    },
    /// A text to sign is empty.
    #[error("note text is empty")]
    EmptyText,
    /// A text to sign does not end in a newline.
    #[error("note text does not end with a newline")]
    TextNoFinalNewline,
    /// A note has no blank line separating the text from the signatures.
    #[error("note has no blank line before its signatures")]
    NoSignatureBlock,
    /// A note has a blank line but no signature lines after it.
    #[error("note has no signature lines after its blank line")]
    NoSignatures,
    /// A note's last signature line does not end with a newline.
    #[error("note line {line}: last signature line does not end with a newline")]
    NoFinalNewline {
        /// 1-based line number.
        line: usize,
    },
    /// A line in the signature block does not start with "— ".
    #[error("signature line {line}: does not start with an em dash and a space")]
    SignatureLinePrefix {
        /// 1-based line number in the note.
        line: usize,
    },
    /// A signature line has no space between key name and signature.
    #[error("signature line {line}: no space between key name and signature")]
    SignatureLineNoSpace {
        /// 1-based line number in the note.
        line: usize,
    },
    /// A signature line's signature is not canonical base64.
    #[error("signature line {line}: signature of {name:?} is not valid base64")]
    SignatureBase64 {
        /// 1-based line number in the note.
        line: usize,
        /// The key name on the line.
        name: String,
    },
    /// A signature line's signature is too short to hold a key ID and a signature.
    #[error(
        "signature line {line}: signature of {name:?} is {len} bytes, fewer than 5 (key ID and signature)"
    )]
    SignatureTooShort {
        /// 1-based line number in the note.
        line: usize,
        /// The key name on the line.
        name: String,
        /// Decoded length.
        len: usize,
    },
    /// A note has more than [`MAX_SIGNATURES`] signature lines.
    #[error("note has more than {MAX_SIGNATURES} signatures")]
    TooManySignatures,
    /// Two or more verifiers share the key name and key ID of a signature.
    #[error("ambiguous key {name}+{key_id:08x}: {count} verifiers have this name and key ID")]
    AmbiguousKey {
        /// The key name.
        name: String,
        /// The key ID.
        key_id: u32,
        /// How many verifiers matched.
        count: usize,
    },
    /// A signature by a known key failed to verify.
    #[error("invalid signature for key {name}+{key_id:08x}")]
    InvalidSignature {
        /// The key name.
        name: String,
        /// The key ID.
        key_id: u32,
    },
    /// No signature in the note is by a known key.
    #[error("note has no verifiable signatures ({unverified} signatures by unknown keys)")]
    NoVerifiedSignature {
        /// How many distinct signatures were by unknown keys.
        unverified: usize,
    },
    /// Signing was asked with no signers.
    #[error("no signers given")]
    NoSigners,
    /// A signer failed to produce a signature.
    #[error("signer {name}+{key_id:08x}: {problem}")]
    SignerFailed {
        /// The signer's key name.
        name: String,
        /// The signer's key ID.
        key_id: u32,
        /// What went wrong.
        problem: String,
    },
    /// A cosignature timestamp is larger than 2^63 - 1.
    #[error("cosignature timestamp {timestamp} is larger than 2^63 - 1")]
    TimestampTooLarge {
        /// The timestamp.
        timestamp: u64,
    },
}

/// Computes a key ID: the first four bytes, big-endian, of
/// SHA-256(key name || "\n" || type byte || public key).
pub fn key_id(name: &str, key_type: u8, public_key: &[u8]) -> u32 {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([key_type]);
    h.update(public_key);
    let sum = h.finalize();
    u32::from_be_bytes([sum[0], sum[1], sum[2], sum[3]])
}

/// Checks a key name: non-empty, no Unicode spaces, no `+`.
///
/// `what` names the thing in the error message (e.g. `"verifier key"`).
pub fn check_key_name(what: &str, name: &str) -> Result<(), NoteError> {
    if name.is_empty() {
        return Err(NoteError::EmptyKeyName { what: what.into() });
    }
    // Go's unicode.IsSpace and Rust's char::is_whitespace both follow the
    // Unicode White_Space property.
    if let Some(ch) = name.chars().find(|c| c.is_whitespace()) {
        return Err(NoteError::KeyNameSpace {
            what: what.into(),
            name: name.into(),
            ch,
        });
    }
    if name.contains('+') {
        return Err(NoteError::KeyNamePlus {
            what: what.into(),
            name: name.into(),
        });
    }
    Ok(())
}

/// Reports whether a key name is valid (see [`check_key_name`]).
pub fn is_valid_key_name(name: &str) -> bool {
    check_key_name("", name).is_ok()
}

/// Overwrites a buffer that held secret bytes, in a way the optimiser keeps.
fn wipe(buf: &mut [u8]) {
    buf.fill(0);
    core::hint::black_box(&buf);
}

/// Splits `s` at the first `sep`: (before, after); (s, "") if absent.
fn chop(s: &str, sep: char) -> (&str, &str) {
    match s.split_once(sep) {
        Some((a, b)) => (a, b),
        None => (s, ""),
    }
}

/// The parts of a `name+hhhhhhhh+base64` key.
struct KeyParts<'a> {
    name: &'a str,
    key_id: u32,
    b64: &'a str,
}

/// Splits and checks the common part of vkeys and skeys (after any prefix).
fn split_key<'a>(what: &'static str, s: &'a str) -> Result<KeyParts<'a>, NoteError> {
    let (name, rest) = chop(s, '+');
    let (hash16, b64) = chop(rest, '+');
    check_key_name(what, name)?;
    let malformed = |problem: String| NoteError::MalformedKey { what, problem };
    if hash16.len() != 8 || !hash16.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(malformed(format!(
            "key ID {hash16:?} of {name:?} is not 8 hexadecimal digits"
        )));
    }
    let key_id = u32::from_str_radix(hash16, 16)
        .map_err(|_| malformed(format!("key ID {hash16:?} of {name:?} is not hexadecimal")))?;
    if b64.is_empty() {
        return Err(malformed(format!("key {name:?} has no key data")));
    }
    Ok(KeyParts { name, key_id, b64 })
}

/// Decodes the key data of a vkey: (type byte, public key bytes).
fn decode_vkey(vkey: &str) -> Result<(String, u32, u8, Vec<u8>), NoteError> {
    const WHAT: &str = "verifier key";
    let parts = split_key(WHAT, vkey)?;
    let key = B64.decode(parts.b64).map_err(|_| NoteError::MalformedKey {
        what: WHAT,
        problem: format!("key data of {:?} is not valid base64", parts.name),
    })?;
    let Some((&ty, _)) = key.split_first() else {
        return Err(NoteError::MalformedKey {
            what: WHAT,
            problem: format!("key data of {:?} is empty", parts.name),
        });
    };
    let computed = key_id(parts.name, ty, &key[1..]);
    if computed != parts.key_id {
        return Err(NoteError::KeyIdMismatch {
            what: WHAT,
            name: parts.name.into(),
            written: parts.key_id,
            computed,
        });
    }
    Ok((parts.name.into(), parts.key_id, ty, key[1..].to_vec()))
}

/// Checks an Ed25519 public key's length and decodes it.
fn ed25519_key(what: &'static str, name: &str, key: &[u8]) -> Result<VerifyingKey, NoteError> {
    let bytes: [u8; 32] = key.try_into().map_err(|_| NoteError::MalformedKey {
        what,
        problem: format!("Ed25519 key of {name:?} is {} bytes, not 32", key.len()),
    })?;
    VerifyingKey::from_bytes(&bytes).map_err(|_| NoteError::MalformedKey {
        what,
        problem: format!("Ed25519 key of {name:?} is not a valid curve point"),
    })
}

/// Formats a vkey: `name+hhhhhhhh+base64(type || key)`.
fn format_vkey(name: &str, id: u32, ty: u8, key: &[u8; 32]) -> String {
    let mut data = [0u8; 33];
    data[0] = ty;
    data[1..].copy_from_slice(key);
    format!("{name}+{id:08x}+{}", B64.encode(data))
}

/// A verifier of note signatures by one key.
///
/// [`open`] looks verifiers up by key name and key ID, then calls
/// [`NoteVerifier::verify`] on the note text and the signature bytes that
/// follow the key ID.
pub trait NoteVerifier {
    /// The key name.
    fn name(&self) -> &str;
    /// The key ID.
    fn key_id(&self) -> u32;
    /// Reports whether `sig` (without the key ID) is a valid signature of `text`.
    fn verify(&self, text: &[u8], sig: &[u8]) -> bool;
    /// For timestamped signatures (cosignatures), the timestamp in `sig`.
    fn timestamp(&self, sig: &[u8]) -> Option<u64> {
        let _ = sig;
        None
    }
}

/// A signer of notes with one key.
pub trait NoteSigner {
    /// The key name.
    fn name(&self) -> &str;
    /// The key ID.
    fn key_id(&self) -> u32;
    /// Signs the note text, returning the signature bytes (without the key ID).
    fn sign(&self, text: &[u8]) -> Result<Vec<u8>, NoteError>;
}

/// An Ed25519 note verifier (signature type `0x01`).
#[derive(Clone, PartialEq, Eq)]
pub struct Verifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl Verifier {
    /// Parses a vkey `name+hhhhhhhh+base64(0x01 || 32-byte public key)`.
    pub fn from_vkey(vkey: &str) -> Result<Self, NoteError> {
        let (name, key_id, ty, key) = decode_vkey(vkey)?;
        if ty != TYPE_ED25519 {
            return Err(NoteError::WrongKeyType {
                what: "verifier key",
                name,
                found: ty,
                expected: "0x01 (Ed25519)",
            });
        }
        let key = ed25519_key("verifier key", &name, &key)?;
        Ok(Self { name, key_id, key })
    }

    /// Builds a verifier from a key name and a 32-byte Ed25519 public key.
    pub fn new(name: &str, public_key: &[u8; 32]) -> Result<Self, NoteError> {
        check_key_name("verifier key", name)?;
        let key = ed25519_key("verifier key", name, public_key)?;
        Ok(Self {
            name: name.into(),
            key_id: key_id(name, TYPE_ED25519, public_key),
            key,
        })
    }

    /// The vkey encoding, `name+hhhhhhhh+base64(0x01 || public key)`.
    pub fn to_vkey(&self) -> String {
        format_vkey(&self.name, self.key_id, TYPE_ED25519, self.key.as_bytes())
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }
}

impl fmt::Display for Verifier {
    /// Writes the vkey.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_vkey())
    }
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Verifier({})", self.to_vkey())
    }
}

impl core::str::FromStr for Verifier {
    type Err = NoteError;
    fn from_str(s: &str) -> Result<Self, NoteError> {
        Self::from_vkey(s)
    }
}

impl NoteVerifier for Verifier {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.key_id
    }
    fn verify(&self, text: &[u8], sig: &[u8]) -> bool {
        let Ok(sig) = ed25519_dalek::Signature::from_slice(sig) else {
            return false;
        };
        // Inside `batch::defer_ed25519`: recorded, to be verified with others.
        if batch::defer(&self.key, text, &sig) {
            return true;
        }
        self.key.verify(text, &sig).is_ok()
    }
}

/// A secret key in text form (an skey), wiped from memory when dropped.
pub struct SecretKeyText(Vec<u8>);

impl SecretKeyText {
    /// The skey text. Handle it as a secret.
    pub fn expose(&self) -> &str {
        // Always ASCII: built only from a name (checked UTF-8), hex and base64.
        core::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl Drop for SecretKeyText {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}

impl fmt::Debug for SecretKeyText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKeyText(..)")
    }
}

/// Decodes the base64 key data of an skey into a stack buffer that is wiped
/// afterwards; returns the type byte and the 32-byte seed as a signing key.
fn decode_skey_data(name: &str, b64: &str) -> Result<(u8, SigningKey), NoteError> {
    const WHAT: &str = "signer key";
    let mut buf = [0u8; 48];
    let decoded = B64.decode_slice(b64, &mut buf);
    let result = match decoded {
        Err(_) => Err(NoteError::MalformedKey {
            what: WHAT,
            problem: format!("key data of {name:?} is not valid base64 of 33 bytes"),
        }),
        Ok(0) => Err(NoteError::MalformedKey {
            what: WHAT,
            problem: format!("key data of {name:?} is empty"),
        }),
        Ok(_) if buf[0] != TYPE_ED25519 => Err(NoteError::WrongKeyType {
            what: WHAT,
            name: name.into(),
            found: buf[0],
            expected: "0x01 (Ed25519)",
        }),
        Ok(33) => {
            let mut seed = [0u8; 32];
            seed.copy_from_slice(&buf[1..33]);
            let key = SigningKey::from_bytes(&seed);
            wipe(&mut seed);
            Ok((TYPE_ED25519, key))
        }
        Ok(n) => Err(NoteError::MalformedKey {
            what: WHAT,
            problem: format!("Ed25519 seed of {name:?} is {} bytes, not 32", n - 1),
        }),
    };
    wipe(&mut buf);
    result
}

/// An Ed25519 note signer (signature type `0x01`). The key is zeroized on drop.
#[derive(Clone)]
pub struct Signer {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl Signer {
    /// Builds a signer from a key name and a 32-byte Ed25519 seed.
    ///
    /// The core has no random number generator: the caller supplies the
    /// seed from a cryptographic RNG, and wipes its own copy.
    pub fn generate(name: &str, seed: [u8; 32]) -> Result<Self, NoteError> {
        let mut seed = seed;
        let key = SigningKey::from_bytes(&seed);
        wipe(&mut seed);
        check_key_name("signer key", name)?;
        let pubkey = key.verifying_key().to_bytes();
        Ok(Self {
            name: name.into(),
            key_id: key_id(name, TYPE_ED25519, &pubkey),
            key,
        })
    }

    /// Parses an skey `PRIVATE+KEY+name+hhhhhhhh+base64(0x01 || 32-byte seed)`.
    pub fn from_skey(skey: &str) -> Result<Self, NoteError> {
        const WHAT: &str = "signer key";
        let (p1, rest) = chop(skey, '+');
        let (p2, rest) = chop(rest, '+');
        if p1 != "PRIVATE" || p2 != "KEY" {
            return Err(NoteError::MalformedKey {
                what: WHAT,
                problem: "does not start with \"PRIVATE+KEY+\"".into(),
            });
        }
        let parts = split_key(WHAT, rest)?;
        let (_, key) = decode_skey_data(parts.name, parts.b64)?;
        let computed = key_id(parts.name, TYPE_ED25519, key.verifying_key().as_bytes());
        if computed != parts.key_id {
            return Err(NoteError::KeyIdMismatch {
                what: WHAT,
                name: parts.name.into(),
                written: parts.key_id,
                computed,
            });
        }
        Ok(Self {
            name: parts.name.into(),
            key_id: parts.key_id,
            key,
        })
    }

    /// The skey encoding, `PRIVATE+KEY+name+hhhhhhhh+base64(0x01 || seed)`.
    pub fn to_skey(&self) -> SecretKeyText {
        let mut data = [0u8; 33];
        data[0] = TYPE_ED25519;
        data[1..].copy_from_slice(self.key.as_bytes());
        let mut b64 = [0u8; 44];
        let n = B64.encode_slice(data, &mut b64).unwrap_or(0);
        wipe(&mut data);
        let mut out = Vec::with_capacity(12 + self.name.len() + 10 + n);
        out.extend_from_slice(b"PRIVATE+KEY+");
        out.extend_from_slice(self.name.as_bytes());
        out.extend_from_slice(format!("+{:08x}+", self.key_id).as_bytes());
        out.extend_from_slice(&b64[..n]);
        wipe(&mut b64);
        SecretKeyText(out)
    }

    /// The matching verifier.
    pub fn verifier(&self) -> Verifier {
        Verifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Signer({}, secret key hidden)",
            self.verifier().to_vkey()
        )
    }
}

impl NoteSigner for Signer {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.key_id
    }
    fn sign(&self, text: &[u8]) -> Result<Vec<u8>, NoteError> {
        Ok(self.key.sign(text).to_bytes().to_vec())
    }
}

/// The message a tlog-cosignature v1 Ed25519 cosignature signs:
/// `cosignature/v1\ntime <timestamp>\n` followed by the note text (the
/// checkpoint body, extension lines included).
pub fn cosignature_message(timestamp: u64, text: &[u8]) -> Vec<u8> {
    let mut m = Vec::with_capacity(40 + text.len());
    m.extend_from_slice(COSIGNATURE_HEADER.as_bytes());
    m.extend_from_slice(format!("time {timestamp}\n").as_bytes());
    m.extend_from_slice(text);
    m
}

/// A tlog-cosignature v1 Ed25519 cosignature verifier (signature type `0x04`).
///
/// Signature bytes are an 8-byte big-endian timestamp followed by a 64-byte
/// Ed25519 signature of [`cosignature_message`].
#[derive(Clone, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    key_id: u32,
    key: VerifyingKey,
}

impl CosignatureVerifier {
    /// Parses a vkey `name+hhhhhhhh+base64(0x04 || 32-byte public key)`.
    pub fn from_vkey(vkey: &str) -> Result<Self, NoteError> {
        let (name, key_id, ty, key) = decode_vkey(vkey)?;
        if ty != TYPE_COSIGNATURE_V1 {
            return Err(NoteError::WrongKeyType {
                what: "verifier key",
                name,
                found: ty,
                expected: "0x04 (Ed25519 cosignature v1)",
            });
        }
        let key = ed25519_key("verifier key", &name, &key)?;
        Ok(Self { name, key_id, key })
    }

    /// Builds a cosignature verifier from a name and a 32-byte Ed25519 public key.
    pub fn new(name: &str, public_key: &[u8; 32]) -> Result<Self, NoteError> {
        check_key_name("verifier key", name)?;
        let key = ed25519_key("verifier key", name, public_key)?;
        Ok(Self {
            name: name.into(),
            key_id: key_id(name, TYPE_COSIGNATURE_V1, public_key),
            key,
        })
    }

    /// The vkey encoding, `name+hhhhhhhh+base64(0x04 || public key)`.
    pub fn to_vkey(&self) -> String {
        format_vkey(
            &self.name,
            self.key_id,
            TYPE_COSIGNATURE_V1,
            self.key.as_bytes(),
        )
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// The 32-byte Ed25519 public key.
    pub fn public_key(&self) -> [u8; 32] {
        self.key.to_bytes()
    }
}

impl fmt::Display for CosignatureVerifier {
    /// Writes the vkey.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_vkey())
    }
}

impl fmt::Debug for CosignatureVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CosignatureVerifier({})", self.to_vkey())
    }
}

impl core::str::FromStr for CosignatureVerifier {
    type Err = NoteError;
    fn from_str(s: &str) -> Result<Self, NoteError> {
        Self::from_vkey(s)
    }
}

/// Splits cosignature bytes into (timestamp, signature); None if malformed.
fn split_cosignature(sig: &[u8]) -> Option<(u64, ed25519_dalek::Signature)> {
    if sig.len() != 8 + 64 {
        return None;
    }
    let (ts, s) = sig.split_at(8);
    let ts = u64::from_be_bytes(ts.try_into().ok()?);
    if ts > MAX_COSIGNATURE_TIMESTAMP {
        return None;
    }
    Some((ts, ed25519_dalek::Signature::from_slice(s).ok()?))
}

impl NoteVerifier for CosignatureVerifier {
    fn name(&self) -> &str {
        &self.name
    }
    fn key_id(&self) -> u32 {
        self.key_id
    }
    fn verify(&self, text: &[u8], sig: &[u8]) -> bool {
        let Some((ts, sig)) = split_cosignature(sig) else {
            return false;
        };
        self.key
            .verify(&cosignature_message(ts, text), &sig)
            .is_ok()
    }
    fn timestamp(&self, sig: &[u8]) -> Option<u64> {
        split_cosignature(sig).map(|(ts, _)| ts)
    }
}

/// A tlog-cosignature v1 Ed25519 cosigner (signature type `0x04`). The key is
/// zeroized on drop.
///
/// The signature depends on a timestamp: use [`CosignatureSigner::at`] to get
/// a [`NoteSigner`] for [`sign`], or [`CosignatureSigner::signature_line`].
#[derive(Clone)]
pub struct CosignatureSigner {
    name: String,
    key_id: u32,
    key: SigningKey,
}

impl CosignatureSigner {
    /// Builds a cosigner from a key name and a 32-byte Ed25519 seed supplied
    /// by the caller (who wipes its own copy).
    pub fn generate(name: &str, seed: [u8; 32]) -> Result<Self, NoteError> {
        let mut seed = seed;
        let key = SigningKey::from_bytes(&seed);
        wipe(&mut seed);
        check_key_name("signer key", name)?;
        let pubkey = key.verifying_key().to_bytes();
        Ok(Self {
            name: name.into(),
            key_id: key_id(name, TYPE_COSIGNATURE_V1, &pubkey),
            key,
        })
    }

    /// The matching verifier.
    pub fn verifier(&self) -> CosignatureVerifier {
        CosignatureVerifier {
            name: self.name.clone(),
            key_id: self.key_id,
            key: self.key.verifying_key(),
        }
    }

    /// The key name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The key ID.
    pub fn key_id(&self) -> u32 {
        self.key_id
    }

    /// A [`NoteSigner`] that cosigns with the given POSIX timestamp (seconds).
    pub fn at(&self, timestamp: u64) -> TimestampedCosigner<'_> {
        TimestampedCosigner {
            signer: self,
            timestamp,
        }
    }

    /// The signature bytes (timestamp || Ed25519 signature) over `text`.
    pub fn cosign(&self, text: &[u8], timestamp: u64) -> Result<[u8; 72], NoteError> {
        if timestamp > MAX_COSIGNATURE_TIMESTAMP {
            return Err(NoteError::TimestampTooLarge { timestamp });
        }
        let sig = self.key.sign(&cosignature_message(timestamp, text));
        let mut out = [0u8; 72];
        out[..8].copy_from_slice(&timestamp.to_be_bytes());
        out[8..].copy_from_slice(&sig.to_bytes());
        Ok(out)
    }

    /// The signature line `— <name> base64(key ID || timestamp || signature)\n`
    /// cosigning the note text `text` (a checkpoint body) at `timestamp`.
    pub fn signature_line(&self, text: &str, timestamp: u64) -> Result<String, NoteError> {
        check_text(text)?;
        let sig = self.cosign(text.as_bytes(), timestamp)?;
        Ok(signature_line(&self.name, self.key_id, &sig))
    }
}

impl fmt::Debug for CosignatureSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "CosignatureSigner({}, secret key hidden)",
            self.verifier().to_vkey()
        )
    }
}

/// A [`CosignatureSigner`] bound to a timestamp, usable with [`sign`].
#[derive(Debug, Clone, Copy)]
pub struct TimestampedCosigner<'a> {
    signer: &'a CosignatureSigner,
    timestamp: u64,
}

impl NoteSigner for TimestampedCosigner<'_> {
    fn name(&self) -> &str {
        &self.signer.name
    }
    fn key_id(&self) -> u32 {
        self.signer.key_id
    }
    fn sign(&self, text: &[u8]) -> Result<Vec<u8>, NoteError> {
        Ok(self.signer.cosign(text, self.timestamp)?.to_vec())
    }
}

/// Any verifier this module can parse from a vkey, dispatched on its type byte.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AnyVerifier {
    /// Type `0x01`: Ed25519 note signatures.
    Ed25519(Verifier),
    /// Type `0x04`: tlog-cosignature v1 Ed25519 cosignatures.
    Cosignature(CosignatureVerifier),
}

impl AnyVerifier {
    /// Parses a vkey of type `0x01` or `0x04`.
    pub fn from_vkey(vkey: &str) -> Result<Self, NoteError> {
        let (name, key_id, ty, key) = decode_vkey(vkey)?;
        let key_ = ed25519_key("verifier key", &name, &key);
        match ty {
            TYPE_ED25519 => Ok(Self::Ed25519(Verifier {
                key: key_?,
                name,
                key_id,
            })),
            TYPE_COSIGNATURE_V1 => Ok(Self::Cosignature(CosignatureVerifier {
                key: key_?,
                name,
                key_id,
            })),
            found => Err(NoteError::WrongKeyType {
                what: "verifier key",
                name,
                found,
                expected: "0x01 (Ed25519) or 0x04 (Ed25519 cosignature v1)",
            }),
        }
    }

    /// The vkey encoding.
    pub fn to_vkey(&self) -> String {
        match self {
            Self::Ed25519(v) => v.to_vkey(),
            Self::Cosignature(v) => v.to_vkey(),
        }
    }

    fn inner(&self) -> &dyn NoteVerifier {
        match self {
            Self::Ed25519(v) => v,
            Self::Cosignature(v) => v,
        }
    }
}

impl NoteVerifier for AnyVerifier {
    fn name(&self) -> &str {
        self.inner().name()
    }
    fn key_id(&self) -> u32 {
        self.inner().key_id()
    }
    fn verify(&self, text: &[u8], sig: &[u8]) -> bool {
        self.inner().verify(text, sig)
    }
    fn timestamp(&self, sig: &[u8]) -> Option<u64> {
        self.inner().timestamp(sig)
    }
}

/// One signature line of a note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signature {
    /// The key name.
    pub name: String,
    /// The key ID (first four bytes of the decoded signature, big-endian).
    pub key_id: u32,
    /// The signature bytes after the key ID.
    pub signature: Vec<u8>,
    /// For a verified cosignature, its timestamp (POSIX seconds); else None.
    pub timestamp: Option<u64>,
}

impl Signature {
    /// The signature line, `— <name> base64(key ID || signature)\n`.
    pub fn to_line(&self) -> String {
        signature_line(&self.name, self.key_id, &self.signature)
    }
}

/// Formats a signature line.
fn signature_line(name: &str, key_id: u32, sig: &[u8]) -> String {
    let mut raw = Vec::with_capacity(4 + sig.len());
    raw.extend_from_slice(&key_id.to_be_bytes());
    raw.extend_from_slice(sig);
    format!("{SIG_PREFIX}{name} {}\n", B64.encode(raw))
}

/// A parsed, not yet verified, signed note.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Note {
    /// The text, including its final newline but not the blank line.
    pub text: String,
    /// The signature lines, in order, duplicates included.
    pub signatures: Vec<Signature>,
}

/// 1-based line number of byte offset `at` in `msg`.
fn line_of(msg: &[u8], at: usize) -> usize {
    msg.get(..at)
        .map_or(0, |b| b.iter().filter(|&&c| c == b'\n').count())
        + 1
}

/// Checks that text has no ASCII control characters other than newline.
fn check_controls(s: &str) -> Result<(), NoteError> {
    if let Some(i) = s.bytes().position(|b| b < 0x20 && b != b'\n') {
        return Err(NoteError::ControlCharacter {
            line: line_of(s.as_bytes(), i),
            code: u32::from(s.as_bytes()[i]),
        });
    }
    Ok(())
}

/// Checks a text to sign: non-empty, ending in newline, no control characters.
fn check_text(text: &str) -> Result<(), NoteError> {
    if text.is_empty() {
        return Err(NoteError::EmptyText);
    }
    if !text.ends_with('\n') {
        return Err(NoteError::TextNoFinalNewline);
    }
    if text.len() > MAX_NOTE_SIZE {
        return Err(NoteError::TooLarge { size: text.len() });
    }
    check_controls(text)
}

impl Note {
    /// Parses a signed note without verifying it.
    ///
    /// Enforces c2sp.org/signed-note and Go's `note.Open` syntax: valid UTF-8
    /// with no control characters but newline; text ending in newline; a
    /// blank line (the last one in the note); one to [`MAX_SIGNATURES`]
    /// signature lines `— <name> <base64>` each ending in newline, with a
    /// valid key name and at least 5 decoded bytes. Base64 must be canonical.
    pub fn parse(msg: impl AsRef<[u8]>) -> Result<Self, NoteError> {
        let msg = msg.as_ref();
        if msg.len() > MAX_NOTE_SIZE {
            return Err(NoteError::TooLarge { size: msg.len() });
        }
        let s = core::str::from_utf8(msg).map_err(|e| NoteError::InvalidUtf8 {
            line: line_of(msg, e.valid_up_to()),
            offset: e.valid_up_to(),
        })?;
        check_controls(s)?;
        let split = s.rfind("\n\n").ok_or(NoteError::NoSignatureBlock)?;
        let text = &s[..split + 1];
        let sigs = &s[split + 2..];
        let first_line = line_of(msg, split + 2);
        if sigs.is_empty() {
            return Err(NoteError::NoSignatures);
        }
        if !sigs.ends_with('\n') {
            return Err(NoteError::NoFinalNewline {
                line: first_line + sigs.matches('\n').count(),
            });
        }
        let mut signatures = Vec::new();
        for (i, line) in sigs[..sigs.len() - 1].split('\n').enumerate() {
            let lineno = first_line + i;
            if signatures.len() >= MAX_SIGNATURES {
                return Err(NoteError::TooManySignatures);
            }
            signatures.push(parse_signature_line(line, lineno)?);
        }
        Ok(Self {
            text: text.into(),
            signatures,
        })
    }
}

/// Parses one signature line (without its newline).
fn parse_signature_line(line: &str, lineno: usize) -> Result<Signature, NoteError> {
    let rest = line
        .strip_prefix(SIG_PREFIX)
        .ok_or(NoteError::SignatureLinePrefix { line: lineno })?;
    // Base64 has no spaces, so the name is everything before the last space.
    // This accepts exactly what Go's split at the first space accepts, and
    // names a name containing a space in the error.
    let (name, b64) = rest
        .rsplit_once(' ')
        .ok_or(NoteError::SignatureLineNoSpace { line: lineno })?;
    check_key_name(&format!("signature line {lineno}"), name)?;
    let raw = B64.decode(b64).map_err(|_| NoteError::SignatureBase64 {
        line: lineno,
        name: name.into(),
    })?;
    if b64.is_empty() || raw.len() < 5 {
        return Err(NoteError::SignatureTooShort {
            line: lineno,
            name: name.into(),
            len: raw.len(),
        });
    }
    Ok(Signature {
        name: name.into(),
        key_id: u32::from_be_bytes([raw[0], raw[1], raw[2], raw[3]]),
        signature: raw[4..].to_vec(),
        timestamp: None,
    })
}

/// A verified note: its text and its signatures.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opened {
    /// The note text, including its final newline.
    pub text: String,
    /// Signatures by known keys, all verified (at least one).
    pub verified: Vec<Signature>,
    /// Signatures by unknown keys, not verified (identical lines once).
    pub unverified: Vec<Signature>,
}

/// Parses a signed note and checks its signatures against known verifiers.
///
/// As Go's `note.Open`: a signature whose key name AND key ID match a
/// verifier must verify, or the note is rejected naming the key; repeated
/// signatures by one known key are checked once; signatures by unknown keys
/// are returned as unverified (identical lines once); two verifiers with the
/// name and key ID of a signature are an error; and at least one signature
/// must verify.
pub fn open(msg: impl AsRef<[u8]>, verifiers: &[&dyn NoteVerifier]) -> Result<Opened, NoteError> {
    let note = Note::parse(msg)?;
    let mut verified: Vec<Signature> = Vec::new();
    let mut unverified: Vec<Signature> = Vec::new();
    for mut sig in note.signatures {
        let mut matching = verifiers
            .iter()
            .filter(|v| v.name() == sig.name && v.key_id() == sig.key_id);
        let Some(v) = matching.next() else {
            if !unverified.contains(&sig) {
                unverified.push(sig);
            }
            continue;
        };
        let extra = matching.count();
        if extra > 0 {
            return Err(NoteError::AmbiguousKey {
                name: sig.name,
                key_id: sig.key_id,
                count: extra + 1,
            });
        }
        if verified
            .iter()
            .any(|s| s.name == sig.name && s.key_id == sig.key_id)
        {
            continue;
        }
        if !v.verify(note.text.as_bytes(), &sig.signature) {
            return Err(NoteError::InvalidSignature {
                name: sig.name,
                key_id: sig.key_id,
            });
        }
        sig.timestamp = v.timestamp(&sig.signature);
        verified.push(sig);
    }
    if verified.is_empty() {
        return Err(NoteError::NoVerifiedSignature {
            unverified: unverified.len(),
        });
    }
    Ok(Opened {
        text: note.text,
        verified,
        unverified,
    })
}

/// Signs a text, returning the signed note (byte-identical to Go's `note.Sign`).
///
/// The text must be non-empty, end in a newline and contain no ASCII control
/// characters other than newline (so that the note opens); it may contain
/// blank lines. The output is the text, a blank line, and one signature line
/// per signer, in order.
pub fn sign(text: &str, signers: &[&dyn NoteSigner]) -> Result<String, NoteError> {
    check_text(text)?;
    if signers.is_empty() {
        return Err(NoteError::NoSigners);
    }
    let mut out = String::with_capacity(text.len() + 1 + 120 * signers.len());
    out.push_str(text);
    out.push('\n');
    for s in signers {
        check_key_name("signer key", s.name())?;
        let sig = s.sign(text.as_bytes())?;
        out.push_str(&signature_line(s.name(), s.key_id(), &sig));
    }
    Ok(out)
}
