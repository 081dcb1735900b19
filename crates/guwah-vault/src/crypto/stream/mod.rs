//! Streaming authenticated encryption of blobs (format `guwah/blob/v1`).
//!
//! The construction is the STREAM online AEAD as used by age's payload,
//! instantiated with AES-256-GCM: the plaintext is cut into 64 KiB chunks and
//! each chunk is sealed under a nonce made of its index and a "last chunk"
//! flag, so that truncation, extension and reordering are all detected.
//!
//! # Blob file format, version 1
//!
//! All integers are big-endian. Offsets are in bytes.
//!
//! ```text
//! offset  length  field
//! ------  ------  -----------------------------------------------------------
//!      0      14  magic: ASCII "guwah/blob/v1\n"
//!                 (67 75 77 61 68 2f 62 6c 6f 62 2f 76 31 0a)
//!     14      32  salt: 32 random bytes, fresh for every blob
//!     46      16  key id: HMAC-SHA256(K, "guwah/blob/v1 key id")[0..16]
//!     62      16  header MAC: HMAC-SHA256(H, bytes 0..62)[0..16]
//!     78       …  payload: the sealed chunks, back to back, nothing after
//! ```
//!
//! where `K` is the vault's 32-byte blob key and, with HKDF-SHA256 (RFC 5869)
//! extracting once from `ikm = K`, `salt = salt`:
//!
//! ```text
//! P (payload key, 32 bytes) = HKDF-Expand(PRK, info = "guwah/blob/v1 payload", 32)
//! H (header key, 32 bytes)  = HKDF-Expand(PRK, info = "guwah/blob/v1 header", 32)
//! ```
//!
//! The key id is the same for every blob sealed under one blob key: it lets a
//! reader tell "wrong key" apart from "damaged blob" (and commits the blob to
//! its key). The header MAC authenticates the magic, salt and key id.
//!
//! ## Payload
//!
//! The plaintext is split into chunks of exactly 65536 bytes (64 KiB), except
//! the final chunk, which holds the remaining 1..=65536 bytes. The final chunk
//! is empty (0 bytes) if and only if the whole plaintext is empty, in which
//! case it is the only chunk. A final chunk of a full 65536 bytes is allowed
//! (a plaintext whose size is a non-zero multiple of 64 KiB ends with one).
//! There is always exactly one final chunk.
//!
//! Chunk number `i` (counting from 0) is sealed as
//!
//! ```text
//! AES-256-GCM(key = P, nonce = N_i, associated data = empty, chunk plaintext)
//!   = ciphertext (same length as the chunk) || 16-byte tag
//! N_i = i as an 11-byte big-endian integer || last   (12 bytes)
//! last = 0x01 for the final chunk, 0x00 for every other chunk
//! ```
//!
//! so every sealed chunk but the last is exactly 65552 bytes long and the
//! last is 16..=65552 bytes long. A reader splits the payload into 65552-byte
//! pieces; the piece that ends at end-of-file is the final one.
//!
//! A plaintext of `n` bytes therefore gives a blob of
//! `78 + n + 16 * max(1, ceil(n / 65536))` bytes.
//!
//! # Decryption failures
//!
//! [`decrypt_and_hash`] reports what is wrong as a distinct [`StreamError`]:
//! [`WrongKey`](StreamError::WrongKey) (key id mismatch),
//! [`HeaderTampered`](StreamError::HeaderTampered) (salt or MAC altered),
//! [`Truncated`](StreamError::Truncated) (no final chunk),
//! [`TrailingData`](StreamError::TrailingData) (bytes after the final
//! chunk), [`Reordered`](StreamError::Reordered) (a chunk authenticates, but
//! at another index) and [`Tampered`](StreamError::Tampered) (a chunk does
//! not authenticate at all). A failed chunk is classified on the failure
//! path only, by recomputing its GCM tag for other (index, last flag) pairs
//! and other end offsets; the classification is exact for truncation at a
//! chunk boundary, for bytes appended after the final chunk and for chunks
//! moved up to [`REORDER_WINDOW`] positions. A blob cut in the middle of a
//! chunk, leaving 16 bytes or more of it, is reported as `Tampered` (the cut
//! removed the tag, so nothing distinguishes it from damage). Every one of
//! these alterations is always *detected*; only the label can be imprecise.
//!
//! Because each chunk is sealed under its own index and the total length
//! says which chunk is last, any chunk can also be opened alone:
//! [`BlobReader`](super::random_access::BlobReader) reads a blob at random
//! offsets and reports the same errors.

mod chunks;
mod diagnose;
mod error;
mod format;
mod keys;
mod open;
mod pipeline;
mod seal;
#[cfg(test)]
mod tests;

pub use chunks::ChunkSealer;
pub use diagnose::REORDER_WINDOW;
pub use error::StreamError;
pub use format::{CHUNK_SIZE, HEADER_LEN, HEADER_MAC_LEN, KEY_ID_LEN, MAGIC, SALT_LEN, TAG_SIZE};
pub use keys::BlobKey;
pub use open::decrypt_and_hash;
pub use seal::encrypt_and_hash;

// For the random-access reader, which reads the same format chunk by chunk.
pub(super) use diagnose::diagnose;
pub(super) use format::{PIECE, open_header};
pub(super) use keys::BlobKeys;

/// What a successful encryption or decryption saw of the plaintext.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Sealed {
    /// SHA-256 of the plaintext.
    pub sha256: [u8; 32],
    /// Size of the plaintext in bytes.
    pub size: u64,
}
