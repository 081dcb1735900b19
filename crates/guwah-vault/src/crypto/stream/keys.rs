//! The vault's blob key and the per-blob keys derived from it, which seal
//! and open one chunk at a time.

use aes_gcm::aead::generic_array::GenericArray;
use aes_gcm::aes::Aes256;
use aes_gcm::aes::cipher::BlockEncrypt;
use aes_gcm::{KeyInit, Tag};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

use super::StreamError;
use super::format::{INFO_HEADER, INFO_PAYLOAD, KEY_ID_LEN, LABEL_KEY_ID, SALT_LEN, TAG_SIZE};
use crate::crypto::{fill_random, hkdf_sha256, hmac_sha256};

/// The vault's 32-byte blob key. Zeroized on drop; `Debug` is redacted.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct BlobKey([u8; 32]);

impl BlobKey {
    /// Wraps existing key bytes (for example, just unsealed from the key file).
    pub fn from_bytes(bytes: &[u8; 32]) -> Self {
        Self(*bytes)
    }

    /// Generates a fresh key from the operating system's random generator.
    pub fn generate() -> Result<Self, StreamError> {
        let mut key = Self([0u8; 32]);
        fill_random(&mut key.0).map_err(StreamError::Random)?;
        Ok(key)
    }

    /// The raw key bytes, for sealing the key itself (e.g. in the key file).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 16-byte key id stored in every blob header sealed under this key.
    pub(super) fn key_id(&self) -> [u8; KEY_ID_LEN] {
        let mac = hmac_sha256(&self.0, &[LABEL_KEY_ID]);
        let mut id = [0u8; KEY_ID_LEN];
        id.copy_from_slice(&mac[..KEY_ID_LEN]);
        id
    }
}

impl std::fmt::Debug for BlobKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BlobKey([REDACTED])")
    }
}

/// Per-blob keys derived from the blob key and the salt.
///
/// Chunks are sealed and opened with ring's AES-256-GCM (assembly with
/// AES-NI/VAES and carry-less multiply: about 3x RustCrypto's here), which
/// matters because encryption shares two cores with SHA-256 on the add path.
pub(in crate::crypto) struct BlobKeys {
    aead: ring::aead::LessSafeKey,
    /// Raw AES-256 under the payload key, used only to classify failures.
    block: Aes256,
    header_key: Zeroizing<[u8; 32]>,
}

impl BlobKeys {
    pub(super) fn derive(key: &BlobKey, salt: &[u8; SALT_LEN]) -> Self {
        let payload = hkdf_sha256(Some(salt), &key.0, INFO_PAYLOAD);
        let header_key = hkdf_sha256(Some(salt), &key.0, INFO_HEADER);
        let aead = ring::aead::LessSafeKey::new(
            ring::aead::UnboundKey::new(&ring::aead::AES_256_GCM, payload.as_ref())
                .expect("AES-256-GCM takes a 32-byte key"),
        );
        let block = Aes256::new(GenericArray::from_slice(payload.as_ref()));
        Self {
            aead,
            block,
            header_key,
        }
    }

    pub(super) fn header_mac(&self, prefix: &[u8]) -> [u8; 32] {
        hmac_sha256(self.header_key.as_ref(), &[prefix])
    }

    pub(super) fn seal_chunk(
        &self,
        counter: u64,
        last: bool,
        buf: &mut [u8],
    ) -> Result<Tag, StreamError> {
        let tag = self
            .aead
            .seal_in_place_separate_tag(ring_nonce(counter, last), ring::aead::Aad::empty(), buf)
            .map_err(|_| StreamError::TooLarge)?;
        Ok(*Tag::from_slice(tag.as_ref()))
    }

    /// Authenticates and decrypts `piece` (ciphertext || tag) in place; on
    /// failure the piece is left unchanged. Returns the plaintext length.
    pub(in crate::crypto) fn open_chunk(
        &self,
        counter: u64,
        last: bool,
        piece: &mut [u8],
    ) -> Option<usize> {
        let data_len = piece.len().checked_sub(TAG_SIZE)?;
        let (data, tag) = piece.split_at_mut(data_len);
        let tag = ring::aead::Tag::try_from(&tag[..]).ok()?;
        // ring wipes the buffer when the tag fails, but a failed chunk's
        // ciphertext is still needed to classify the failure: keep a copy.
        thread_local! {
            static SCRATCH: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
        }
        SCRATCH.with_borrow_mut(|copy| {
            copy.clear();
            copy.extend_from_slice(data);
            let opened = self
                .aead
                .open_in_place_separate_tag(
                    ring_nonce(counter, last),
                    ring::aead::Aad::empty(),
                    tag,
                    data,
                    0..,
                )
                .is_ok();
            if !opened {
                data.copy_from_slice(copy);
            }
            opened.then_some(data_len)
        })
    }

    /// One raw AES-256 block under the payload key (for the diagnosis).
    pub(super) fn encrypt_block(&self, input: [u8; 16]) -> u128 {
        let mut block = GenericArray::from(input);
        self.block.encrypt_block(&mut block);
        u128::from_be_bytes(block.into())
    }
}

/// Nonce for chunk `counter`: 11-byte big-endian counter || last-chunk flag.
pub(super) fn nonce_bytes(counter: u64, last: bool) -> [u8; 12] {
    let mut n = [0u8; 12];
    n[3..11].copy_from_slice(&counter.to_be_bytes());
    n[11] = u8::from(last);
    n
}

fn ring_nonce(counter: u64, last: bool) -> ring::aead::Nonce {
    ring::aead::Nonce::assume_unique_for_key(nonce_bytes(counter, last))
}
