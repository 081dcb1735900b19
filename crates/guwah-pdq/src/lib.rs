//! PDQ perceptual hashes for guwah: finding copies of the same picture or
//! video inside a vault (re-encoded, resized, lightly cropped).
//!
//! * [`pdq`] — Meta's PDQ algorithm, bit-exact with the C++ reference on the
//!   same pixels (see the module docs for how).
//! * [`decode`] — image files to pixels with the `image` crate (JPEG, PNG,
//!   GIF, WebP, TIFF, BMP), under size limits that refuse decompression bombs,
//!   on a worker thread with a deadline that also catches a decoder's panic.
//! * [`video`] — frames sampled at a fixed rate by Debian's `ffmpeg`, run as a
//!   child process with a timeout and bounded output.
//! * [`index`] — multi-index hashing over 256-bit hashes: radius queries in
//!   well under 10 ms at one million hashes, and clustering.
//!
//! This crate finds copies of the same picture or video and nothing else: it
//! has no notion of faces or people, and guwah builds no such thing.
#![forbid(unsafe_code)]
#![deny(missing_docs)]

pub mod decode;
mod guard;
pub mod index;
pub mod pdq;
pub mod thumb;
pub mod video;

pub use decode::{DecodeLimits, hash_image_bytes, hash_image_file, hash_image_vec};
pub use guard::{MAX_RUNNING, quiet_decoder_panics};
pub use index::MihIndex;
pub use pdq::{PdqHash, hash_luma, hash_rgb};
pub use thumb::thumbnail_jpeg;
pub use video::{FrameHash, VideoOptions, hash_video_file};

/// Upstream's threshold for "the same image" between PDQ implementations and
/// for near-duplicate matching of photos: Hamming distance at most 31 of 256.
pub const DEFAULT_MAX_DISTANCE: u32 = 31;

/// A 256-bit PDQ hash, stored in the reference's text order: byte 0 is the
/// first two hex digits of `Hash256::format()` (word 15's high byte).
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash256(pub [u8; 32]);

impl Hash256 {
    /// All bits clear (what the reference returns for images too small to hash).
    pub const ZERO: Hash256 = Hash256([0; 32]);

    /// Set bit `k` (0..256) in the reference's numbering: bit `k` is bit
    /// `k % 16` of 16-bit word `k / 16`, and words print from 15 down to 0.
    pub fn set_bit(&mut self, k: usize) {
        self.0[31 - k / 8] |= 1 << (k % 8);
    }

    /// Bit `k` in the reference's numbering.
    pub fn bit(&self, k: usize) -> bool {
        self.0[31 - k / 8] >> (k % 8) & 1 == 1
    }

    /// Hamming distance.
    pub fn distance(&self, other: &Hash256) -> u32 {
        self.0
            .iter()
            .zip(other.0.iter())
            .map(|(a, b)| (a ^ b).count_ones())
            .sum()
    }

    /// 64 lowercase hex digits, as the reference prints it.
    pub fn to_hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(64);
        for b in self.0 {
            s.push(HEX[usize::from(b >> 4)] as char);
            s.push(HEX[usize::from(b & 15)] as char);
        }
        s
    }

    /// Parse 64 hex digits (either case); anything else is an error.
    pub fn from_hex(s: &str) -> Result<Hash256, ParseHashError> {
        let b = s.as_bytes();
        if b.len() != 64 {
            return Err(ParseHashError);
        }
        let nib = |c: u8| match c {
            b'0'..=b'9' => Ok(c - b'0'),
            b'a'..=b'f' => Ok(c - b'a' + 10),
            b'A'..=b'F' => Ok(c - b'A' + 10),
            _ => Err(ParseHashError),
        };
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = nib(b[2 * i])? << 4 | nib(b[2 * i + 1])?;
        }
        Ok(Hash256(out))
    }

    /// The hash as four big-endian `u64` words (for fast distances).
    pub fn words(&self) -> [u64; 4] {
        let mut w = [0u64; 4];
        for (i, x) in w.iter_mut().enumerate() {
            let mut b = [0u8; 8];
            b.copy_from_slice(&self.0[i * 8..i * 8 + 8]);
            *x = u64::from_be_bytes(b);
        }
        w
    }
}

impl std::fmt::Debug for Hash256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hash256({})", self.to_hex())
    }
}

impl std::fmt::Display for Hash256 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl std::str::FromStr for Hash256 {
    type Err = ParseHashError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Hash256::from_hex(s)
    }
}

/// Not 64 hex digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a PDQ hash is 64 hex digits")]
pub struct ParseHashError;

/// Why a file was not hashed. The file itself is unaffected: guwah still
/// seals it, it just has no perceptual hash.
#[derive(Debug, thiserror::Error)]
pub enum PdqError {
    /// Not an image format this build decodes (e.g. HEIC), or not an image.
    #[error("image format not supported for perceptual hashing: {0}")]
    Unsupported(String),
    /// Larger than the decode limits (a possible decompression bomb).
    #[error("image too large to hash safely: {0}")]
    TooLarge(String),
    /// The decoder rejected the file.
    #[error("image could not be decoded: {0}")]
    Decode(String),
    /// The decoder panicked on the file (a bug in it, caught).
    #[error("the decoder crashed on this file (caught; a decoder bug): {0}")]
    Panicked(String),
    /// Decoding took longer than [`DecodeLimits::max_time`]; it was abandoned.
    #[error("decoding took longer than {} s; gave up", .0.as_secs_f64())]
    TimedOut(std::time::Duration),
    /// Too many earlier decodes are still running past their deadline.
    #[error("{0} earlier image decodes are still running past their time limit; not started")]
    Busy(usize),
    /// `ffmpeg` is not installed.
    #[error("ffmpeg is not installed (Debian package `ffmpeg`); video frames were not hashed")]
    NoFfmpeg,
    /// `ffmpeg` failed, timed out, or produced no frames.
    #[error("video frames could not be decoded: {0}")]
    Video(String),
    /// Reading the file failed.
    #[error("read failed: {0}")]
    Io(#[from] std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_round_trip_and_bit_order() {
        let mut h = Hash256::ZERO;
        h.set_bit(0);
        assert_eq!(h.to_hex(), format!("{}1", "0".repeat(63)));
        h.set_bit(255);
        assert!(h.to_hex().starts_with('8'));
        assert!(h.bit(0) && h.bit(255) && !h.bit(1));
        let s = "d8f8f0cee0f4a84f0637022a078f67f0b36e2ed596621e1d33e6339c4e9c9b22";
        assert_eq!(Hash256::from_hex(s).unwrap().to_hex(), s);
        assert!(Hash256::from_hex("zz").is_err());
        assert!(Hash256::from_hex(&"g".repeat(64)).is_err());
        assert_eq!(Hash256::ZERO.distance(&h), 2);
    }
}
