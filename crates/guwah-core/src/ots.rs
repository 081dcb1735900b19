//! OpenTimestamps proofs (`.ots` files): parsing, replaying and reporting.
//!
//! An `.ots` file (a "detached timestamp file") is, in order:
//!
//! 1. the 31-byte magic header [`MAGIC`];
//! 2. the major version, one byte, which must be `1`;
//! 3. the file hash operation's tag (`0x02` SHA-1, `0x03` RIPEMD-160, `0x08` SHA-256,
//!    `0x67` Keccak-256) and the file's digest (20 or 32 bytes);
//! 4. a *timestamp*: a tree whose nodes are messages and whose edges are operations. A node
//!    is a sequence of children, each preceded by `0xff` except the last; a child is either
//!    `0x00` + an attestation, or an operation (its tag, then for append and prepend a
//!    varbytes argument) followed by the timestamp of its result;
//! 5. nothing else.
//!
//! An attestation is an 8-byte tag and a varbytes payload: Bitcoin or Litecoin block header
//! (payload: the block height as a varuint), pending (payload: the calendar's URI as
//! varbytes), Ethereum ("dubious" in the reference client), or unknown (kept verbatim).
//! Integers are unsigned LEB128 ("varuint"); varbytes are a varuint length and the bytes.
//!
//! Parsing replays every operation from the file digest as python-opentimestamps does, with
//! its limits (messages and results at most 4096 bytes, hexlify of at most 2048 bytes,
//! nesting at most 256 timestamps deep, attestation payloads at most 8192 bytes, calendar
//! URIs at most 1000 bytes of `[A-Za-z0-9._/:-]`), plus limits of ours against hostile input:
//! the proof's size ([`MAX_PROOF_SIZE`]), the total bytes its operations may produce
//! ([`MAX_WORK`]) and the number of attestations ([`MAX_ATTESTATIONS`]).
//!
//! What this module does **not** do is check a block header: for a Bitcoin attestation it
//! reports the *commitment* (the message at that leaf), which must equal the merkle root of
//! the block at the attested height. Bitcoin tools display merkle roots byte-reversed, so
//! both orders are given ([`Commitment`]).
//!
//! The secp256k1 commitment operation (tag `0x09`) of recent reference clients is not
//! supported: a proof that uses it is rejected with a message that says so.

use core::fmt;

use sha2::Digest as _;
use thiserror::Error;

/// The magic header every `.ots` file starts with.
pub const MAGIC: &[u8; 31] = b"\x00OpenTimestamps\x00\x00Proof\x00\xbf\x89\xe2\xe8\x84\xe8\x92\x94";
/// The only major version there is.
pub const MAJOR_VERSION: u8 = 1;
/// The largest message an operation may be applied to (python-opentimestamps).
pub const MAX_MSG_LEN: usize = 4096;
/// The largest result an operation may produce, and the largest append/prepend argument.
pub const MAX_RESULT_LEN: usize = 4096;
/// The largest message hexlify may be applied to.
pub const MAX_HEXLIFY_LEN: usize = MAX_RESULT_LEN / 2;
/// The deepest nesting of timestamps (the reference client's recursion limit).
pub const MAX_DEPTH: usize = 256;
/// The largest attestation payload.
pub const MAX_PAYLOAD_LEN: usize = 8192;
/// The longest pending-attestation calendar URI.
pub const MAX_URI_LEN: usize = 1000;
/// The largest `.ots` file accepted (real proofs are a few KiB).
pub const MAX_PROOF_SIZE: usize = 1 << 20;
/// The most bytes all of a proof's operations together may produce (bounds time and memory).
pub const MAX_WORK: usize = 16 << 20;
/// The most attestations one proof may hold.
pub const MAX_ATTESTATIONS: usize = 1024;

/// The tag of a Bitcoin block header attestation.
pub const TAG_BITCOIN: [u8; 8] = [0x05, 0x88, 0x96, 0x0d, 0x73, 0xd7, 0x19, 0x01];
/// The tag of a Litecoin block header attestation.
pub const TAG_LITECOIN: [u8; 8] = [0x06, 0x86, 0x9a, 0x0d, 0x73, 0xd7, 0x1b, 0x45];
/// The tag of an Ethereum block header attestation.
pub const TAG_ETHEREUM: [u8; 8] = [0x30, 0xfe, 0x80, 0x87, 0xb5, 0xc7, 0xea, 0xd7];
/// The tag of a pending (calendar) attestation.
pub const TAG_PENDING: [u8; 8] = [0x83, 0xdf, 0xe3, 0x0d, 0x2e, 0xf9, 0x0c, 0x8e];

const URI_CHARS: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._/:";

/// Everything that can be wrong with an `.ots` file. Offsets are byte positions in the file.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OtsError {
    /// The file is larger than [`MAX_PROOF_SIZE`].
    #[error("proof is {size} bytes; at most {MAX_PROOF_SIZE} are accepted")]
    TooLarge {
        /// Its size.
        size: usize,
    },
    /// The file does not start with [`MAGIC`].
    #[error("not an OpenTimestamps proof: the OpenTimestamps magic header is missing")]
    BadMagic,
    /// A major version other than 1.
    #[error("unsupported OpenTimestamps major version {version} (only version 1 exists)")]
    UnsupportedVersion {
        /// The version found.
        version: u8,
    },
    /// The file digest's type is not a hash operation.
    #[error(
        "file digest type 0x{tag:02x} is not a hash operation (sha1, ripemd160, sha256, keccak256)"
    )]
    BadFileHashOp {
        /// The tag found.
        tag: u8,
    },
    /// The data ends in the middle of something.
    #[error("truncated at byte {offset}: expected {what}")]
    Truncated {
        /// Where the data ended.
        offset: usize,
        /// What was being read.
        what: &'static str,
    },
    /// A varuint that does not fit in 64 bits.
    #[error("byte {offset}: integer does not fit in 64 bits")]
    VarUintOverflow {
        /// Where it starts.
        offset: usize,
    },
    /// An operation tag nobody defined.
    #[error("byte {offset}: unknown operation tag 0x{tag:02x}")]
    UnknownOp {
        /// Where the tag is.
        offset: usize,
        /// The tag.
        tag: u8,
    },
    /// A defined operation this implementation does not replay.
    #[error("byte {offset}: the {name} operation (tag 0x{tag:02x}) is not supported")]
    UnsupportedOp {
        /// Where the tag is.
        offset: usize,
        /// The tag.
        tag: u8,
        /// The operation's name.
        name: &'static str,
    },
    /// A length outside its allowed range.
    #[error("byte {offset}: {what} is {len} bytes, allowed {min}..={max}")]
    Length {
        /// Where the length is.
        offset: usize,
        /// What it is the length of.
        what: &'static str,
        /// The length found.
        len: u64,
        /// The smallest allowed.
        min: usize,
        /// The largest allowed.
        max: usize,
    },
    /// An operation that cannot be applied to its message.
    #[error("byte {offset}: {op} cannot be applied to a {len}-byte message: {why}")]
    InvalidForMessage {
        /// Where the operation is.
        offset: usize,
        /// The operation's name.
        op: &'static str,
        /// The message's length.
        len: usize,
        /// Why not.
        why: &'static str,
    },
    /// Timestamps nested deeper than [`MAX_DEPTH`].
    #[error("byte {offset}: timestamps nested deeper than {MAX_DEPTH} levels")]
    TooDeep {
        /// Where the limit was crossed.
        offset: usize,
    },
    /// A pending attestation whose URI is not acceptable.
    #[error("byte {offset}: pending attestation URI {why}")]
    BadUri {
        /// Where the URI is.
        offset: usize,
        /// What is wrong with it.
        why: String,
    },
    /// A known attestation whose payload has bytes after its fields.
    #[error("byte {offset}: {kind} attestation payload has {extra} bytes of trailing data")]
    AttestationTrailing {
        /// Where the payload is.
        offset: usize,
        /// The attestation's kind.
        kind: &'static str,
        /// Bytes left over.
        extra: usize,
    },
    /// Bytes after the timestamp.
    #[error("{extra} bytes of trailing data after the timestamp, at byte {offset}")]
    Trailing {
        /// Where they start.
        offset: usize,
        /// How many.
        extra: usize,
    },
    /// The operations produce more than [`MAX_WORK`] bytes.
    #[error("byte {offset}: the proof's operations produce more than {MAX_WORK} bytes")]
    TooMuchWork {
        /// Where the limit was crossed.
        offset: usize,
    },
    /// More than [`MAX_ATTESTATIONS`] attestations.
    #[error("byte {offset}: more than {MAX_ATTESTATIONS} attestations")]
    TooManyAttestations {
        /// Where the limit was crossed.
        offset: usize,
    },
}

/// A hash operation: the file digest's type, and an operation inside a timestamp.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashOp {
    /// SHA-1 (tag `0x02`): still fine for timestamping, whose security needs second preimages.
    Sha1,
    /// RIPEMD-160 (tag `0x03`).
    Ripemd160,
    /// SHA-256 (tag `0x08`).
    Sha256,
    /// Keccak-256 (tag `0x67`), as in Ethereum (not SHA3-256).
    Keccak256,
}

impl HashOp {
    /// The operation for a tag, if it is a hash.
    pub fn from_tag(tag: u8) -> Option<Self> {
        match tag {
            0x02 => Some(Self::Sha1),
            0x03 => Some(Self::Ripemd160),
            0x08 => Some(Self::Sha256),
            0x67 => Some(Self::Keccak256),
            _ => None,
        }
    }

    /// Its tag.
    pub fn tag(self) -> u8 {
        match self {
            Self::Sha1 => 0x02,
            Self::Ripemd160 => 0x03,
            Self::Sha256 => 0x08,
            Self::Keccak256 => 0x67,
        }
    }

    /// Its name, as the reference client prints it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha1 => "sha1",
            Self::Ripemd160 => "ripemd160",
            Self::Sha256 => "sha256",
            Self::Keccak256 => "keccak256",
        }
    }

    /// The digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Sha1 | Self::Ripemd160 => 20,
            Self::Sha256 | Self::Keccak256 => 32,
        }
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let mut h = self.hasher();
        h.update(data);
        h.finish()
    }

    /// An incremental hasher, to hash a file as it streams.
    pub fn hasher(self) -> FileHasher {
        FileHasher(match self {
            Self::Sha1 => HasherState::Sha1(sha1::Sha1::new()),
            Self::Ripemd160 => HasherState::Ripemd160(ripemd::Ripemd160::new()),
            Self::Sha256 => HasherState::Sha256(sha2::Sha256::new()),
            Self::Keccak256 => HasherState::Keccak256(Box::new(sha3::Keccak256::new())),
        })
    }
}

/// An incremental [`HashOp`] hasher.
#[derive(Clone)]
pub struct FileHasher(HasherState);

#[derive(Clone)]
enum HasherState {
    Sha1(sha1::Sha1),
    Ripemd160(ripemd::Ripemd160),
    Sha256(sha2::Sha256),
    // Boxed: Keccak's state is three times the others'.
    Keccak256(Box<sha3::Keccak256>),
}

impl FileHasher {
    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            HasherState::Sha1(h) => h.update(data),
            HasherState::Ripemd160(h) => h.update(data),
            HasherState::Sha256(h) => h.update(data),
            HasherState::Keccak256(h) => h.update(data),
        }
    }

    /// The digest of everything fed.
    pub fn finish(self) -> Vec<u8> {
        match self.0 {
            HasherState::Sha1(h) => h.finalize().to_vec(),
            HasherState::Ripemd160(h) => h.finalize().to_vec(),
            HasherState::Sha256(h) => h.finalize().to_vec(),
            HasherState::Keccak256(h) => h.finalize().to_vec(),
        }
    }
}

impl fmt::Debug for FileHasher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("FileHasher")
    }
}

/// An operation: an edge of the timestamp tree.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Op {
    /// Append the argument to the message (tag `0xf0`).
    Append(Vec<u8>),
    /// Prepend the argument to the message (tag `0xf1`).
    Prepend(Vec<u8>),
    /// Reverse the message's bytes (tag `0xf2`, deprecated).
    Reverse,
    /// Lower-case hex of the message (tag `0xf3`).
    Hexlify,
    /// A hash of the message.
    Hash(HashOp),
}

impl Op {
    /// The operation's tag.
    pub fn tag(&self) -> u8 {
        match self {
            Self::Append(_) => 0xf0,
            Self::Prepend(_) => 0xf1,
            Self::Reverse => 0xf2,
            Self::Hexlify => 0xf3,
            Self::Hash(h) => h.tag(),
        }
    }

    /// The operation's name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Append(_) => "append",
            Self::Prepend(_) => "prepend",
            Self::Reverse => "reverse",
            Self::Hexlify => "hexlify",
            Self::Hash(h) => h.name(),
        }
    }

    /// The argument of append and prepend.
    pub fn arg(&self) -> Option<&[u8]> {
        match self {
            Self::Append(a) | Self::Prepend(a) => Some(a),
            _ => None,
        }
    }

    /// Applies the operation, with the reference client's limits (`offset` is for errors).
    fn apply(&self, msg: &[u8], offset: usize) -> Result<Vec<u8>, OtsError> {
        let bad = |why| OtsError::InvalidForMessage {
            offset,
            op: self.name(),
            len: msg.len(),
            why,
        };
        let max_msg = if *self == Self::Hexlify {
            MAX_HEXLIFY_LEN
        } else {
            MAX_MSG_LEN
        };
        if msg.len() > max_msg {
            return Err(bad("the message is too long"));
        }
        let out = match self {
            Self::Append(a) => [msg, a].concat(),
            Self::Prepend(a) => [&a[..], msg].concat(),
            Self::Reverse | Self::Hexlify if msg.is_empty() => {
                return Err(bad("the message is empty"));
            }
            Self::Reverse => msg.iter().rev().copied().collect(),
            Self::Hexlify => hex(msg).into_bytes(),
            Self::Hash(h) => h.digest(msg),
        };
        if out.len() > MAX_RESULT_LEN {
            return Err(bad("the result would be longer than 4096 bytes"));
        }
        Ok(out)
    }
}

impl fmt::Display for Op {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.arg() {
            Some(a) => write!(f, "{} {}", self.name(), hex(a)),
            None => f.write_str(self.name()),
        }
    }
}

/// An attestation: a leaf of the timestamp tree.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Attestation {
    /// The message is the merkle root of the Bitcoin block at this height.
    Bitcoin {
        /// The block height.
        height: u64,
    },
    /// The message is the merkle root of the Litecoin block at this height.
    Litecoin {
        /// The block height.
        height: u64,
    },
    /// The message is the transactions root of the Ethereum block at this height.
    Ethereum {
        /// The block height.
        height: u64,
    },
    /// The message was submitted to this calendar, which will complete the proof later.
    Pending {
        /// The calendar's URI.
        uri: String,
    },
    /// An attestation of a kind this implementation does not know.
    Unknown {
        /// Its 8-byte tag.
        tag: [u8; 8],
        /// Its payload, verbatim.
        payload: Vec<u8>,
    },
}

impl Attestation {
    /// A short name of the attestation's kind: `bitcoin`, `litecoin`, `ethereum`, `pending`,
    /// `unknown`.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Bitcoin { .. } => "bitcoin",
            Self::Litecoin { .. } => "litecoin",
            Self::Ethereum { .. } => "ethereum",
            Self::Pending { .. } => "pending",
            Self::Unknown { .. } => "unknown",
        }
    }
}

impl fmt::Display for Attestation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Bitcoin { height } => write!(f, "Bitcoin block {height}"),
            Self::Litecoin { height } => write!(f, "Litecoin block {height}"),
            Self::Ethereum { height } => write!(f, "Ethereum block {height}"),
            Self::Pending { uri } => write!(f, "pending at calendar {uri}"),
            Self::Unknown { tag, payload } => {
                write!(f, "unknown attestation {} ({})", hex(tag), hex(payload))
            }
        }
    }
}

/// A node of the timestamp tree: a message, its attestations and the operations applied to it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Timestamp {
    /// The message at this node (the file digest at the root).
    pub msg: Vec<u8>,
    /// Attestations to this message, in file order.
    pub attestations: Vec<Attestation>,
    /// Operations on this message and the timestamps of their results, in file order.
    pub ops: Vec<(Op, Timestamp)>,
}

/// A parsed `.ots` file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DetachedTimestamp {
    /// How the file was hashed.
    pub file_hash: HashOp,
    /// The tree, whose root message is the file's digest.
    pub timestamp: Timestamp,
}

/// The message an attestation commits to: what the attested block's merkle root must equal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Commitment(pub Vec<u8>);

impl Commitment {
    /// The bytes in hex, as they are (the order inside a block header).
    pub fn hex(&self) -> String {
        hex(&self.0)
    }

    /// The bytes reversed, in hex: how Bitcoin tools display a merkle root.
    pub fn reversed_hex(&self) -> String {
        let rev: Vec<u8> = self.0.iter().rev().copied().collect();
        hex(&rev)
    }
}

/// One attestation with what it commits to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttestationReport {
    /// The attestation.
    pub attestation: Attestation,
    /// The message at its leaf.
    pub commitment: Commitment,
    /// The operations from the file digest to the leaf.
    pub path: Vec<Op>,
}

impl DetachedTimestamp {
    /// Parses and replays an `.ots` file strictly.
    pub fn parse(bytes: &[u8]) -> Result<Self, OtsError> {
        if bytes.len() > MAX_PROOF_SIZE {
            return Err(OtsError::TooLarge { size: bytes.len() });
        }
        let mut r = Reader {
            bytes,
            pos: 0,
            work: 0,
            attestations: 0,
        };
        if bytes.get(..MAGIC.len()) != Some(&MAGIC[..]) {
            return Err(OtsError::BadMagic);
        }
        r.pos = MAGIC.len();
        let version = r.byte("the major version")?;
        if version != MAJOR_VERSION {
            return Err(OtsError::UnsupportedVersion { version });
        }
        let tag = r.byte("the file digest's type")?;
        let file_hash = HashOp::from_tag(tag).ok_or(OtsError::BadFileHashOp { tag })?;
        let digest = r.take(file_hash.digest_len(), "the file digest")?.to_vec();
        let timestamp = r.timestamp(digest, 1)?;
        if r.pos != bytes.len() {
            return Err(OtsError::Trailing {
                offset: r.pos,
                extra: bytes.len() - r.pos,
            });
        }
        Ok(Self {
            file_hash,
            timestamp,
        })
    }

    /// The digest of the timestamped file.
    pub fn file_digest(&self) -> &[u8] {
        &self.timestamp.msg
    }

    /// Every attestation, depth first in file order, with its commitment and path.
    pub fn attestations(&self) -> Vec<AttestationReport> {
        let mut out = Vec::new();
        let mut path = Vec::new();
        collect(&self.timestamp, &mut path, &mut out);
        out
    }

    /// What weakens the proof even when it matches, one line each. SHA-1
    /// collisions are practical (chosen-prefix, 2020): if the file is hashed
    /// with SHA-1, two different files can match the same proof, and a SHA-1
    /// step on the way to an attestation lets the same happen to everything
    /// before it. (RFC 3161 tokens over SHA-1 are refused outright; an
    /// OpenTimestamps proof is still reported, with this warning.)
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.file_hash == HashOp::Sha1 {
            out.push(
                "the file is hashed with SHA-1, for which collisions are practical: a second, different file can match this proof".to_string(),
            );
        }
        let inner = self
            .attestations()
            .iter()
            .filter(|a| a.path.contains(&Op::Hash(HashOp::Sha1)))
            .count();
        if inner > 0 {
            out.push(format!(
                "{inner} attestation(s) are reached through a SHA-1 step, for which collisions are practical: they do not bind the file alone"
            ));
        }
        out
    }
}

fn collect(t: &Timestamp, path: &mut Vec<Op>, out: &mut Vec<AttestationReport>) {
    for a in &t.attestations {
        out.push(AttestationReport {
            attestation: a.clone(),
            commitment: Commitment(t.msg.clone()),
            path: path.clone(),
        });
    }
    for (op, child) in &t.ops {
        path.push(op.clone());
        collect(child, path, out);
        path.pop();
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
    work: usize,
    attestations: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self, what: &'static str) -> Result<u8, OtsError> {
        Ok(self.take(1, what)?[0])
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], OtsError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.bytes.len());
        let end = end.ok_or(OtsError::Truncated {
            offset: self.bytes.len(),
            what,
        })?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    fn varuint(&mut self, what: &'static str) -> Result<u64, OtsError> {
        varuint(self.bytes, &mut self.pos, what, 0)
    }

    fn varbytes(
        &mut self,
        what: &'static str,
        min: usize,
        max: usize,
    ) -> Result<&'a [u8], OtsError> {
        let offset = self.pos;
        let len = self.varuint(what)?;
        if len < min as u64 || len > max as u64 {
            return Err(OtsError::Length {
                offset,
                what,
                len,
                min,
                max,
            });
        }
        self.take(len as usize, what)
    }

    fn timestamp(&mut self, msg: Vec<u8>, depth: usize) -> Result<Timestamp, OtsError> {
        if depth > MAX_DEPTH {
            return Err(OtsError::TooDeep { offset: self.pos });
        }
        let mut t = Timestamp {
            msg,
            attestations: Vec::new(),
            ops: Vec::new(),
        };
        loop {
            let tag = self.byte("an operation or attestation tag")?;
            if tag == 0xff {
                let tag = self.byte("an operation or attestation tag")?;
                self.child(&mut t, tag, depth)?;
            } else {
                self.child(&mut t, tag, depth)?;
                return Ok(t);
            }
        }
    }

    fn child(&mut self, t: &mut Timestamp, tag: u8, depth: usize) -> Result<(), OtsError> {
        let offset = self.pos - 1;
        if tag == 0x00 {
            self.attestations += 1;
            if self.attestations > MAX_ATTESTATIONS {
                return Err(OtsError::TooManyAttestations { offset });
            }
            t.attestations.push(self.attestation()?);
            return Ok(());
        }
        let op = match tag {
            0xf0 => Op::Append(
                self.varbytes("append argument", 1, MAX_RESULT_LEN)?
                    .to_vec(),
            ),
            0xf1 => Op::Prepend(
                self.varbytes("prepend argument", 1, MAX_RESULT_LEN)?
                    .to_vec(),
            ),
            0xf2 => Op::Reverse,
            0xf3 => Op::Hexlify,
            0x09 => {
                return Err(OtsError::UnsupportedOp {
                    offset,
                    tag,
                    name: "secp256k1commitment",
                });
            }
            _ => match HashOp::from_tag(tag) {
                Some(h) => Op::Hash(h),
                None => return Err(OtsError::UnknownOp { offset, tag }),
            },
        };
        let result = op.apply(&t.msg, offset)?;
        self.work += result.len();
        if self.work > MAX_WORK {
            return Err(OtsError::TooMuchWork { offset });
        }
        let child = self.timestamp(result, depth + 1)?;
        t.ops.push((op, child));
        Ok(())
    }

    fn attestation(&mut self) -> Result<Attestation, OtsError> {
        let tag: [u8; 8] = self
            .take(8, "an attestation tag")?
            .try_into()
            .unwrap_or_default();
        let payload_offset = self.pos;
        let payload = self.varbytes("attestation payload", 0, MAX_PAYLOAD_LEN)?;
        // Offsets inside the payload, reported as file offsets.
        let base = self.pos - payload.len();
        let mut p = 0usize;
        let (kind, att) = match tag {
            TAG_BITCOIN | TAG_LITECOIN | TAG_ETHEREUM => {
                let height = varuint(payload, &mut p, "a block height", base)?;
                match tag {
                    TAG_BITCOIN => ("Bitcoin", Attestation::Bitcoin { height }),
                    TAG_LITECOIN => ("Litecoin", Attestation::Litecoin { height }),
                    _ => ("Ethereum", Attestation::Ethereum { height }),
                }
            }
            TAG_PENDING => {
                let len = varuint(payload, &mut p, "a calendar URI", base)?;
                if len > MAX_URI_LEN as u64 {
                    return Err(OtsError::Length {
                        offset: base,
                        what: "pending attestation URI",
                        len,
                        min: 0,
                        max: MAX_URI_LEN,
                    });
                }
                let end = p + len as usize;
                let uri = payload.get(p..end).ok_or(OtsError::Truncated {
                    offset: base + payload.len(),
                    what: "a calendar URI",
                })?;
                p = end;
                if let Some(c) = uri.iter().find(|c| !URI_CHARS.contains(c)) {
                    return Err(OtsError::BadUri {
                        offset: payload_offset,
                        why: format!("contains the character {:?}", char::from(*c)),
                    });
                }
                let uri = String::from_utf8(uri.to_vec()).unwrap_or_default();
                ("pending", Attestation::Pending { uri })
            }
            _ => {
                return Ok(Attestation::Unknown {
                    tag,
                    payload: payload.to_vec(),
                });
            }
        };
        if p != payload.len() {
            return Err(OtsError::AttestationTrailing {
                offset: payload_offset,
                kind,
                extra: payload.len() - p,
            });
        }
        Ok(att)
    }
}

/// Reads an unsigned LEB128 integer from `bytes` at `*pos`; `base` shifts reported offsets.
fn varuint(
    bytes: &[u8],
    pos: &mut usize,
    what: &'static str,
    base: usize,
) -> Result<u64, OtsError> {
    let start = *pos;
    let mut value = 0u64;
    let mut shift = 0u32;
    loop {
        let b = *bytes.get(*pos).ok_or(OtsError::Truncated {
            offset: base + bytes.len(),
            what,
        })?;
        *pos += 1;
        let bits = u64::from(b & 0x7f);
        if shift >= 64 || (shift > 0 && bits >> (64 - shift) != 0) {
            if bits != 0 {
                return Err(OtsError::VarUintOverflow {
                    offset: base + start,
                });
            }
        } else {
            value |= bits << shift;
        }
        if b & 0x80 == 0 {
            return Ok(value);
        }
        shift = shift.saturating_add(7);
        if shift > 7 * 16 {
            // Longer than any sane encoding of a u64, even with redundant zero groups.
            return Err(OtsError::VarUintOverflow {
                offset: base + start,
            });
        }
    }
}

/// Lower-case hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(body: &[u8]) -> Vec<u8> {
        let mut v = MAGIC.to_vec();
        v.push(1);
        v.push(0x08);
        v.extend_from_slice(&[0xaa; 32]);
        v.extend_from_slice(body);
        v
    }

    #[test]
    fn minimal_bitcoin() {
        let mut body = vec![0x00];
        body.extend_from_slice(&TAG_BITCOIN);
        body.extend_from_slice(&[3, 0xf7, 0xef, 0x15]);
        let t = DetachedTimestamp::parse(&file(&body)).unwrap();
        let a = t.attestations();
        assert_eq!(a.len(), 1);
        assert_eq!(a[0].attestation, Attestation::Bitcoin { height: 358391 });
        assert_eq!(a[0].commitment.0, vec![0xaa; 32]);
    }

    #[test]
    fn branches_and_ops() {
        // ff f0 01 bb 08 00 <pending "a"> ; f2 00 <unknown>
        let mut body = vec![0xff, 0xf0, 0x01, 0xbb, 0x08, 0x00];
        body.extend_from_slice(&TAG_PENDING);
        body.extend_from_slice(&[2, 1, b'a']);
        body.extend_from_slice(&[0xf2, 0x00, 1, 2, 3, 4, 5, 6, 7, 8, 0]);
        let t = DetachedTimestamp::parse(&file(&body)).unwrap();
        let a = t.attestations();
        assert_eq!(a.len(), 2);
        let mut m = vec![0xaa; 32];
        m.push(0xbb);
        assert_eq!(a[0].commitment.0, HashOp::Sha256.digest(&m));
        assert_eq!(a[0].attestation, Attestation::Pending { uri: "a".into() });
        assert_eq!(a[1].commitment.0, vec![0xaa; 32]);
        assert_eq!(a[1].path, vec![Op::Reverse]);
    }

    #[test]
    fn hostile() {
        // Truncated everywhere.
        let mut body = vec![0xf0, 0x01, 0xbb, 0x00];
        body.extend_from_slice(&TAG_BITCOIN);
        body.extend_from_slice(&[1, 5]);
        let full = file(&body);
        assert!(DetachedTimestamp::parse(&full).is_ok());
        for n in 0..full.len() {
            assert!(DetachedTimestamp::parse(&full[..n]).is_err(), "prefix {n}");
        }
        // Trailing data.
        let mut long = full.clone();
        long.push(0);
        assert!(matches!(
            DetachedTimestamp::parse(&long),
            Err(OtsError::Trailing { .. })
        ));
        // Deep nesting: reverse, reverse, ... past the limit.
        let mut deep = vec![0xf2; MAX_DEPTH];
        deep.push(0x00);
        deep.extend_from_slice(&TAG_BITCOIN);
        deep.extend_from_slice(&[1, 5]);
        assert!(matches!(
            DetachedTimestamp::parse(&file(&deep)),
            Err(OtsError::TooDeep { .. })
        ));
        // Overlong varuint.
        let mut v = vec![0xf0];
        v.extend_from_slice(&[0xff; 12]);
        v.push(0x01);
        assert!(DetachedTimestamp::parse(&file(&v)).is_err());
        // Empty append argument.
        assert!(matches!(
            DetachedTimestamp::parse(&file(&[0xf0, 0x00])),
            Err(OtsError::Length { .. })
        ));
        // Unknown op, bad URI, trailing attestation payload.
        assert!(matches!(
            DetachedTimestamp::parse(&file(&[0x42])),
            Err(OtsError::UnknownOp { tag: 0x42, .. })
        ));
        let mut bad_uri = vec![0x00];
        bad_uri.extend_from_slice(&TAG_PENDING);
        bad_uri.extend_from_slice(&[2, 1, b'?']);
        assert!(matches!(
            DetachedTimestamp::parse(&file(&bad_uri)),
            Err(OtsError::BadUri { .. })
        ));
        let mut trailing = vec![0x00];
        trailing.extend_from_slice(&TAG_BITCOIN);
        trailing.extend_from_slice(&[2, 5, 0]);
        assert!(matches!(
            DetachedTimestamp::parse(&file(&trailing)),
            Err(OtsError::AttestationTrailing { .. })
        ));
    }

    #[test]
    fn varuints() {
        let mut p = 0;
        assert_eq!(varuint(&[0xf7, 0xef, 0x15], &mut p, "x", 0), Ok(358391));
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        p = 0;
        assert_eq!(varuint(&max, &mut p, "x", 0), Ok(u64::MAX));
        let over = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        p = 0;
        assert!(varuint(&over, &mut p, "x", 0).is_err());
    }

    #[test]
    fn hashes() {
        assert_eq!(
            hex(&HashOp::Keccak256.digest(b"")),
            "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
        );
        assert_eq!(
            hex(&HashOp::Ripemd160.digest(b"")),
            "9c1185a5c5e9fc54612808977ee8f548b2258d31"
        );
    }
}
