//! C2SP tlog-checkpoint bodies (<https://c2sp.org/tlog-checkpoint>).
//!
//! A checkpoint is a [signed note](crate::note) whose text is:
//!
//! ```text
//! example.com/behind-the-sofa
//! 20852163
//! CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=
//! ```
//!
//! the origin (the log's identity), the tree size in decimal without leading
//! zeroes, the base64 RFC 6962 root hash, then optional non-empty extension
//! lines, each line ending in a newline.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::note::{self, NoteError, NoteVerifier, Opened, Signer};

/// Everything that can be wrong with a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CheckpointError {
    /// The body is empty.
    #[error("checkpoint is empty")]
    Empty,
    /// The body does not end in a newline.
    #[error("checkpoint line {line}: does not end with a newline")]
    NoFinalNewline {
        /// 1-based line number of the last line.
        line: usize,
    },
    /// The body has fewer than three lines.
    #[error("checkpoint has {lines} lines, fewer than 3 (origin, size, root hash)")]
    TooFewLines {
        /// How many lines it has.
        lines: usize,
    },
    /// The body contains an ASCII control character other than newline.
    #[error("checkpoint line {line}: control character U+{code:04X}")]
    ControlCharacter {
        /// 1-based line number.
        line: usize,
        /// The character's code point.
        code: u32,
    },
    /// The origin line is empty.
    #[error("checkpoint line 1: origin is empty")]
    EmptyOrigin,
    /// The origin contains a newline (when building a body).
    #[error("checkpoint origin {origin:?} contains a newline")]
    OriginNewline {
        /// The origin.
        origin: String,
    },
    /// The size line is empty.
    #[error("checkpoint line 2: size is empty")]
    EmptySize,
    /// The size line is not made of ASCII decimal digits.
    #[error("checkpoint line 2: size {size:?} is not a decimal number")]
    SizeNotDecimal {
        /// The size line.
        size: String,
    },
    /// The size line has a leading zero.
    #[error("checkpoint line 2: size {size:?} has a leading zero")]
    SizeLeadingZero {
        /// The size line.
        size: String,
    },
    /// The size does not fit in 64 bits.
    #[error("checkpoint line 2: size {size:?} is larger than 2^64 - 1")]
    SizeOverflow {
        /// The size line.
        size: String,
    },
    /// The root hash line is not canonical base64.
    #[error("checkpoint line 3: root hash {root:?} is not valid base64")]
    RootBase64 {
        /// The root hash line.
        root: String,
    },
    /// The root hash is not 32 bytes long.
    #[error("checkpoint line 3: root hash {root:?} is {len} bytes, not 32")]
    RootLength {
        /// The root hash line.
        root: String,
        /// Its decoded length.
        len: usize,
    },
    /// An extension line is empty.
    #[error("checkpoint line {line}: extension line is empty")]
    EmptyExtension {
        /// 1-based line number.
        line: usize,
    },
    /// An extension line contains a newline (when building a body).
    #[error("checkpoint extension {index} contains a newline")]
    ExtensionNewline {
        /// 0-based index in `extensions`.
        index: usize,
    },
    /// The checkpoint's origin is not the one expected.
    #[error("checkpoint origin {found:?} is not the expected {expected:?}")]
    WrongOrigin {
        /// The origin found.
        found: String,
        /// The origin expected.
        expected: String,
    },
    /// No verified signature is by a key named after the origin.
    #[error("checkpoint for {origin:?} has no verified signature by the log's key {origin:?}")]
    NoLogSignature {
        /// The origin.
        origin: String,
    },
    /// The signer's key name is not the origin.
    #[error("checkpoint signer key name {name:?} does not match the origin {origin:?}")]
    SignerNotOrigin {
        /// The signer's key name.
        name: String,
        /// The origin.
        origin: String,
    },
    /// The signed note is malformed or its signatures fail.
    #[error("checkpoint note: {0}")]
    Note(#[from] NoteError),
}

/// A checkpoint: a transparency log's tree head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line (its identity), non-empty.
    pub origin: String,
    /// The tree size: the number of leaves.
    pub size: u64,
    /// The RFC 6962 root hash at that size.
    pub root: [u8; 32],
    /// Extension lines (opaque, non-empty, without newlines); usually none.
    pub extensions: Vec<String>,
}

impl Checkpoint {
    /// Parses a checkpoint body (the note text), strictly.
    ///
    /// The body is at least three lines, each ending in a newline: a
    /// non-empty origin, a decimal size with no leading zero (unless it is
    /// `0`), a canonical base64 32-byte root hash, then non-empty extension
    /// lines. No ASCII control characters other than newline are allowed.
    pub fn parse(body: &str) -> Result<Self, CheckpointError> {
        if body.is_empty() {
            return Err(CheckpointError::Empty);
        }
        if let Some(i) = body.bytes().position(|b| b < 0x20 && b != b'\n') {
            return Err(CheckpointError::ControlCharacter {
                line: body.as_bytes()[..i].iter().filter(|&&b| b == b'\n').count() + 1,
                code: u32::from(body.as_bytes()[i]),
            });
        }
        let Some(content) = body.strip_suffix('\n') else {
            return Err(CheckpointError::NoFinalNewline {
                line: body.matches('\n').count() + 1,
            });
        };
        let lines: Vec<&str> = content.split('\n').collect();
        let [origin, size, root, extensions @ ..] = lines.as_slice() else {
            return Err(CheckpointError::TooFewLines { lines: lines.len() });
        };
        if origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        let size = parse_size(size)?;
        let root = parse_root(root)?;
        for (i, ext) in extensions.iter().enumerate() {
            if ext.is_empty() {
                return Err(CheckpointError::EmptyExtension { line: 4 + i });
            }
        }
        Ok(Self {
            origin: (*origin).into(),
            size,
            root,
            extensions: extensions.iter().map(|e| (*e).into()).collect(),
        })
    }

    /// Checks that the fields make a valid body (what [`Checkpoint::parse`]
    /// would accept back).
    pub fn validate(&self) -> Result<(), CheckpointError> {
        if self.origin.is_empty() {
            return Err(CheckpointError::EmptyOrigin);
        }
        if self.origin.contains('\n') {
            return Err(CheckpointError::OriginNewline {
                origin: self.origin.clone(),
            });
        }
        for (index, ext) in self.extensions.iter().enumerate() {
            if ext.is_empty() {
                return Err(CheckpointError::EmptyExtension { line: 4 + index });
            }
            if ext.contains('\n') {
                return Err(CheckpointError::ExtensionNewline { index });
            }
        }
        let body = self.to_body();
        if let Some(i) = body.bytes().position(|b| b < 0x20 && b != b'\n') {
            return Err(CheckpointError::ControlCharacter {
                line: body.as_bytes()[..i].iter().filter(|&&b| b == b'\n').count() + 1,
                code: u32::from(body.as_bytes()[i]),
            });
        }
        Ok(())
    }

    /// The body: origin, size, base64 root hash and extension lines, each
    /// followed by a newline. Call [`Checkpoint::validate`] first if the
    /// fields come from untrusted input.
    pub fn to_body(&self) -> String {
        let mut out = format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            B64.encode(self.root)
        );
        for ext in &self.extensions {
            out.push_str(ext);
            out.push('\n');
        }
        out
    }
}

/// Parses the size line.
fn parse_size(size: &str) -> Result<u64, CheckpointError> {
    if size.is_empty() {
        return Err(CheckpointError::EmptySize);
    }
    if !size.bytes().all(|b| b.is_ascii_digit()) {
        return Err(CheckpointError::SizeNotDecimal { size: size.into() });
    }
    if size.len() > 1 && size.starts_with('0') {
        return Err(CheckpointError::SizeLeadingZero { size: size.into() });
    }
    size.parse::<u64>()
        .map_err(|_| CheckpointError::SizeOverflow { size: size.into() })
}

/// Parses the root hash line.
fn parse_root(root: &str) -> Result<[u8; 32], CheckpointError> {
    let raw = B64
        .decode(root)
        .map_err(|_| CheckpointError::RootBase64 { root: root.into() })?;
    raw.as_slice()
        .try_into()
        .map_err(|_| CheckpointError::RootLength {
            root: root.into(),
            len: raw.len(),
        })
}

/// Signs a checkpoint with the log's key, returning the signed note.
///
/// The signer's key name must be the checkpoint's origin, as
/// [`open_checkpoint`] requires.
pub fn sign_checkpoint(
    checkpoint: &Checkpoint,
    signer: &Signer,
) -> Result<String, CheckpointError> {
    checkpoint.validate()?;
    if signer.name() != checkpoint.origin {
        return Err(CheckpointError::SignerNotOrigin {
            name: signer.name().into(),
            origin: checkpoint.origin.clone(),
        });
    }
    Ok(note::sign(&checkpoint.to_body(), &[signer])?)
}

/// Opens a signed checkpoint.
///
/// The note must open (see [`note::open`]) against `verifiers`, its text
/// must be a valid checkpoint whose origin is `expected_origin`, and one of
/// its verified signatures must be by a key whose name is the origin (the
/// log's own key). Other verified signatures, such as witness cosignatures,
/// are in `Opened::verified` too; signatures by unknown keys are in
/// `Opened::unverified`.
pub fn open_checkpoint(
    note: impl AsRef<[u8]>,
    verifiers: &[&dyn NoteVerifier],
    expected_origin: &str,
) -> Result<(Checkpoint, Opened), CheckpointError> {
    let opened = note::open(note, verifiers)?;
    let checkpoint = Checkpoint::parse(&opened.text)?;
    if checkpoint.origin != expected_origin {
        return Err(CheckpointError::WrongOrigin {
            found: checkpoint.origin,
            expected: expected_origin.into(),
        });
    }
    if !opened.verified.iter().any(|s| s.name == checkpoint.origin) {
        return Err(CheckpointError::NoLogSignature {
            origin: checkpoint.origin,
        });
    }
    Ok((checkpoint, opened))
}
