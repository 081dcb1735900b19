//! Checksum algorithms and the one-pass hasher that computes a file's size
//! and digests together.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use sha2::Digest;

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
