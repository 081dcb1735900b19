//! Small-object AEAD for metadata rows and index values, sub-key derivation
//! and keyed identifiers.
//!
//! # Sealed value format, version 1
//!
//! ```text
//! offset  length  field
//! ------  ------  -----------------------------------------------------------
//!      0       1  version: 0x01
//!      1      12  nonce: 12 random bytes, fresh for every value
//!     13       n  AES-256-GCM ciphertext (same length n as the plaintext)
//!   13+n      16  AES-256-GCM tag
//! ```
//!
//! The AES-GCM associated data is `version byte || aad`, where `aad` is the
//! caller's context (for example the table, column and row id), so a sealed
//! value moved to another row or column fails to open. Overhead: 29 bytes.
//!
//! Random 96-bit nonces are safe for up to about 2^32 values per key.

use ring::aead::{AES_256_GCM, Aad, LessSafeKey, Nonce, Tag, UnboundKey};
use zeroize::Zeroizing;

use super::{fill_random, hkdf_sha256, hmac_sha256};

/// Version byte of the sealed value format.
pub const VERSION: u8 = 0x01;
/// Size of the random nonce.
pub const NONCE_LEN: usize = 12;
/// Size of the authentication tag.
pub const TAG_LEN: usize = 16;
/// Bytes added to the plaintext by [`seal`].
pub const OVERHEAD: usize = 1 + NONCE_LEN + TAG_LEN;

/// Why a small value could not be sealed or opened.
#[derive(Debug, thiserror::Error)]
pub enum SmallError {
    /// The sealed value is shorter than the fixed overhead.
    #[error("sealed value too short: {len} bytes, at least {OVERHEAD} needed")]
    TooShort {
        /// Length of the input.
        len: usize,
    },
    /// The sealed value has an unknown version byte.
    #[error("unsupported sealed value version {0:#04x} (this build reads 0x01)")]
    UnsupportedVersion(u8),
    /// The tag does not verify.
    #[error("sealed value failed authentication (wrong key, wrong context or altered)")]
    Authentication,
    /// The plaintext exceeds AES-GCM's limit.
    #[error("plaintext too large for AES-GCM")]
    TooLarge,
    /// The operating system's random generator failed.
    #[error("the operating system's random generator failed: {0}")]
    Random(getrandom::Error),
}

/// ring's AES-256-GCM, as for blob chunks (crypto::stream): assembly with
/// AES-NI/VAES, several times RustCrypto's here, which matters for the
/// spool's 256 KiB upload records. The bytes are AES-256-GCM's either way.
fn cipher(key: &[u8; 32]) -> LessSafeKey {
    LessSafeKey::new(UnboundKey::new(&AES_256_GCM, key).expect("AES-256-GCM takes a 32-byte key"))
}

fn full_aad(aad: &[u8]) -> Vec<u8> {
    let mut full = Vec::with_capacity(1 + aad.len());
    full.push(VERSION);
    full.extend_from_slice(aad);
    full
}

/// Seals `plaintext` under `key`, bound to the context `aad`.
///
/// Returns `0x01 || nonce || ciphertext || tag` (see the module docs).
pub fn seal(key: &[u8; 32], aad: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, SmallError> {
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut nonce).map_err(SmallError::Random)?;
    seal_with_nonce(key, aad, plaintext, &nonce)
}

fn seal_with_nonce(
    key: &[u8; 32],
    aad: &[u8],
    plaintext: &[u8],
    nonce: &[u8; NONCE_LEN],
) -> Result<Vec<u8>, SmallError> {
    let mut out = Vec::with_capacity(OVERHEAD + plaintext.len());
    out.push(VERSION);
    out.extend_from_slice(nonce);
    out.extend_from_slice(plaintext);
    let tag = cipher(key)
        .seal_in_place_separate_tag(
            Nonce::assume_unique_for_key(*nonce),
            Aad::from(full_aad(aad)),
            &mut out[1 + NONCE_LEN..],
        )
        .map_err(|_| SmallError::TooLarge)?;
    out.extend_from_slice(tag.as_ref());
    Ok(out)
}

/// Opens a value made by [`seal`] with the same `key` and `aad`.
///
/// Returns the plaintext in a buffer that is zeroized on drop.
pub fn open(key: &[u8; 32], aad: &[u8], sealed: &[u8]) -> Result<Zeroizing<Vec<u8>>, SmallError> {
    if sealed.len() < OVERHEAD {
        return Err(SmallError::TooShort { len: sealed.len() });
    }
    if sealed[0] != VERSION {
        return Err(SmallError::UnsupportedVersion(sealed[0]));
    }
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&sealed[1..1 + NONCE_LEN]);
    let (body, tag) = sealed[1 + NONCE_LEN..].split_at(sealed.len() - OVERHEAD);
    let tag = Tag::try_from(tag).map_err(|_| SmallError::Authentication)?;
    // On failure ring wipes the buffer; it is dropped (and zeroized) anyway.
    let mut plain = Zeroizing::new(body.to_vec());
    cipher(key)
        .open_in_place_separate_tag(
            Nonce::assume_unique_for_key(nonce),
            Aad::from(full_aad(aad)),
            tag,
            &mut plain,
            0..,
        )
        .map_err(|_| SmallError::Authentication)?;
    Ok(plain)
}

/// Derives a 32-byte sub-key from `master` for the purpose named by `label`:
/// HKDF-SHA256 with no salt, `ikm = master`, `info = label` (UTF-8).
///
/// Use distinct, fixed labels such as `"guwah/v1 metadata"` per purpose.
pub fn derive_subkey(master: &[u8; 32], label: &str) -> Zeroizing<[u8; 32]> {
    hkdf_sha256(None, master, label.as_bytes())
}

/// Keyed identifier of `data`: HMAC-SHA256(key, data).
///
/// Naming blobs by a keyed hash (rather than the plain SHA-256 of their
/// content) means the vault's file names do not reveal which known files it
/// holds to someone without the key.
pub fn keyed_id(key: &[u8; 32], data: &[u8]) -> [u8; 32] {
    hmac_sha256(key, &[data])
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: [u8; 32] = [0x42; 32];

    #[test]
    fn round_trip() {
        for len in [0, 1, 15, 16, 17, 1000] {
            let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let sealed = seal(&KEY, b"row 7", &plain).unwrap();
            assert_eq!(sealed.len(), plain.len() + OVERHEAD);
            assert_eq!(sealed[0], VERSION);
            assert_eq!(*open(&KEY, b"row 7", &sealed).unwrap(), plain);
        }
    }

    #[test]
    fn nonces_are_fresh() {
        assert_ne!(
            seal(&KEY, b"", b"x").unwrap(),
            seal(&KEY, b"", b"x").unwrap()
        );
    }

    #[test]
    fn fixed_vector() {
        let sealed = seal_with_nonce(&KEY, b"ctx", b"hello", &[7u8; 12]).unwrap();
        // Independent recomputation with another implementation
        // (RustCrypto's aes-gcm): AES-256-GCM with AAD = 0x01 || "ctx".
        use aes_gcm::aead::AeadInPlace;
        use aes_gcm::{Aes256Gcm, KeyInit};
        let ct = Aes256Gcm::new(aes_gcm::Key::<Aes256Gcm>::from_slice(&KEY))
            .encrypt_in_place_detached(
                aes_gcm::Nonce::from_slice(&[7u8; 12]),
                b"\x01ctx",
                &mut b"hello".to_vec(),
            )
            .unwrap();
        assert_eq!(&sealed[..13], &[1, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7]);
        assert_eq!(&sealed[18..], ct.as_slice());
        assert_eq!(hex(&sealed), PINNED);
    }

    const PINNED: &str = "01070707070707070707070707108731c0da6ab285d436b598576dc0a60fa09cf51b";

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn rejects_wrong_key_context_and_tampering() {
        let sealed = seal(&KEY, b"ctx", b"secret metadata").unwrap();
        assert!(matches!(
            open(&[0x43; 32], b"ctx", &sealed),
            Err(SmallError::Authentication)
        ));
        assert!(matches!(
            open(&KEY, b"ctX", &sealed),
            Err(SmallError::Authentication)
        ));
        for i in 1..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 1;
            assert!(matches!(
                open(&KEY, b"ctx", &bad),
                Err(SmallError::Authentication)
            ));
        }
        let mut bad = sealed.clone();
        bad[0] = 2;
        assert!(matches!(
            open(&KEY, b"ctx", &bad),
            Err(SmallError::UnsupportedVersion(2))
        ));
        for len in 0..OVERHEAD {
            assert!(matches!(
                open(&KEY, b"ctx", &sealed[..len]),
                Err(SmallError::TooShort { .. })
            ));
        }
        assert!(matches!(
            open(&KEY, b"ctx", &sealed[..sealed.len() - 1]),
            Err(SmallError::Authentication)
        ));
    }

    #[test]
    fn subkeys_and_ids() {
        let a = derive_subkey(&KEY, "guwah/v1 metadata");
        let b = derive_subkey(&KEY, "guwah/v1 blob names");
        assert_ne!(*a, *b);
        assert_eq!(*a, *derive_subkey(&KEY, "guwah/v1 metadata"));
        let id = keyed_id(&KEY, b"file");
        assert_eq!(id, keyed_id(&KEY, b"file"));
        assert_ne!(id, keyed_id(&KEY, b"filf"));
        assert_ne!(id, keyed_id(&[1; 32], b"file"));
    }
}
