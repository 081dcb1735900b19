//! The v1 byte layout: sizes, key-derivation labels, and the header,
//! written by [`build_header`] and checked by [`open_header`].

use super::StreamError;
use super::keys::{BlobKey, BlobKeys};

/// The 14 magic bytes that open every v1 blob.
pub const MAGIC: &[u8; 14] = b"guwah/blob/v1\n";
/// Size of the salt in the header.
pub const SALT_LEN: usize = 32;
/// Size of the key id in the header.
pub const KEY_ID_LEN: usize = 16;
/// Size of the header MAC.
pub const HEADER_MAC_LEN: usize = 16;
/// Total size of the v1 header, in bytes.
pub const HEADER_LEN: usize = MAGIC.len() + SALT_LEN + KEY_ID_LEN + HEADER_MAC_LEN;
/// Size of a plaintext chunk (all chunks but the final one have this size).
pub const CHUNK_SIZE: usize = 64 * 1024;
/// Size of the AES-GCM tag appended to every chunk.
pub const TAG_SIZE: usize = 16;
/// Size of a sealed full chunk: ciphertext and tag.
pub(in crate::crypto) const PIECE: usize = CHUNK_SIZE + TAG_SIZE;
pub(super) const INFO_PAYLOAD: &[u8] = b"guwah/blob/v1 payload";
pub(super) const INFO_HEADER: &[u8] = b"guwah/blob/v1 header";
pub(super) const LABEL_KEY_ID: &[u8] = b"guwah/blob/v1 key id";

/// The header of a blob sealed under `key` with `salt`.
pub(super) fn build_header(
    key: &BlobKey,
    keys: &BlobKeys,
    salt: &[u8; SALT_LEN],
) -> [u8; HEADER_LEN] {
    let mut header = [0u8; HEADER_LEN];
    let (magic_end, salt_end, id_end) = (MAGIC.len(), MAGIC.len() + SALT_LEN, HEADER_LEN - 16);
    header[..magic_end].copy_from_slice(MAGIC);
    header[magic_end..salt_end].copy_from_slice(salt);
    header[salt_end..id_end].copy_from_slice(&key.key_id());
    let mac = keys.header_mac(&header[..id_end]);
    header[id_end..].copy_from_slice(&mac[..HEADER_MAC_LEN]);
    header
}

/// Checks a v1 header and derives the per-blob keys from it.
pub(in crate::crypto) fn open_header(
    header: &[u8],
    key: &BlobKey,
) -> Result<BlobKeys, StreamError> {
    let magic_len = header.len().min(MAGIC.len());
    if header[..magic_len] != MAGIC[..magic_len] {
        return Err(if header.starts_with(b"guwah/blob/") {
            StreamError::UnsupportedVersion
        } else {
            StreamError::NotABlob
        });
    }
    if header.len() < HEADER_LEN {
        return Err(StreamError::TruncatedHeader);
    }
    let salt_end = MAGIC.len() + SALT_LEN;
    let id_end = salt_end + KEY_ID_LEN;
    if header[salt_end..id_end] != key.key_id() {
        return Err(StreamError::WrongKey);
    }
    let mut salt = [0u8; SALT_LEN];
    salt.copy_from_slice(&header[MAGIC.len()..salt_end]);
    let keys = BlobKeys::derive(key, &salt);
    let mac = keys.header_mac(&header[..id_end]);
    if !constant_time_eq(&mac[..HEADER_MAC_LEN], &header[id_end..HEADER_LEN]) {
        return Err(StreamError::HeaderTampered);
    }
    Ok(keys)
}

pub(super) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
