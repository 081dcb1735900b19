//! Sealing a blob one chunk at a time, for a writer whose plaintext
//! arrives in pieces over a long time (the spool: an upload's requests).
//! The result is byte for byte a v1 blob, as [`super::encrypt_and_hash`]
//! writes one.

use super::StreamError;
use super::format::{CHUNK_SIZE, HEADER_LEN, SALT_LEN, build_header, open_header};
use super::keys::{BlobKey, BlobKeys};
use crate::crypto::fill_random;

/// The per-blob keys of one blob being written chunk by chunk.
pub struct ChunkSealer {
    keys: BlobKeys,
}

impl ChunkSealer {
    /// A new blob under `key`: its sealer and the header to write first.
    pub fn create(key: &BlobKey) -> Result<(Self, [u8; HEADER_LEN]), StreamError> {
        let mut salt = [0u8; SALT_LEN];
        fill_random(&mut salt).map_err(StreamError::Random)?;
        let keys = BlobKeys::derive(key, &salt);
        let header = build_header(key, &keys, &salt);
        Ok((ChunkSealer { keys }, header))
    }

    /// The sealer of the blob whose header is `header` (checked: magic,
    /// key id and header MAC).
    pub fn resume(key: &BlobKey, header: &[u8]) -> Result<Self, StreamError> {
        Ok(ChunkSealer {
            keys: open_header(header, key)?,
        })
    }

    /// Appends chunk number `index` to `out`, sealed (ciphertext, then
    /// tag). Every chunk but the `last` must be exactly [`CHUNK_SIZE`]
    /// bytes; the last is 1..=CHUNK_SIZE bytes, or empty for an empty blob.
    pub fn seal(
        &self,
        index: u64,
        last: bool,
        plain: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<(), StreamError> {
        assert!(
            plain.len() == CHUNK_SIZE || (last && plain.len() <= CHUNK_SIZE),
            "a chunk that is not the last must be full"
        );
        let at = out.len();
        out.extend_from_slice(plain);
        let tag = self.keys.seal_chunk(index, last, &mut out[at..])?;
        out.extend_from_slice(&tag);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::decrypt_and_hash;
    use sha2::{Digest, Sha256};

    #[test]
    fn chunk_by_chunk_is_a_v1_blob() {
        let key = BlobKey::from_bytes(&[5; 32]);
        for len in [
            0usize,
            1,
            CHUNK_SIZE - 1,
            CHUNK_SIZE,
            CHUNK_SIZE + 1,
            3 * CHUNK_SIZE,
        ] {
            let plain: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
            let (sealer, header) = ChunkSealer::create(&key).unwrap();
            let mut blob = header.to_vec();
            // Resumed halfway, as after a restart.
            let sealer2 = ChunkSealer::resume(&key, &header).unwrap();
            let chunks: Vec<&[u8]> = if len == 0 {
                vec![&[]]
            } else {
                plain.chunks(CHUNK_SIZE).collect()
            };
            for (i, c) in chunks.iter().enumerate() {
                let s = if i % 2 == 0 { &sealer } else { &sealer2 };
                s.seal(i as u64, i + 1 == chunks.len(), c, &mut blob)
                    .unwrap();
            }
            let mut out = Vec::new();
            let sealed = decrypt_and_hash(&blob[..], &mut out, &key, &mut |_| {}).unwrap();
            assert_eq!(out, plain, "{len}");
            assert_eq!(sealed.size, len as u64);
            assert_eq!(sealed.sha256, <[u8; 32]>::from(Sha256::digest(&plain)));
        }
        let (_, header) = ChunkSealer::create(&key).unwrap();
        assert!(ChunkSealer::resume(&BlobKey::from_bytes(&[6; 32]), &header).is_err());
        let mut bad = header;
        bad[20] ^= 1;
        assert!(ChunkSealer::resume(&key, &bad).is_err());
    }
}
