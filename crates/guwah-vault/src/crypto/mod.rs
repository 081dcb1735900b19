//! Encryption at rest for the guwah vault.
//!
//! The building blocks, each with its own versioned, byte-exact format (the
//! random-access reader adds none: it reads `stream`'s):
//!
//! * [`stream`]: streaming authenticated encryption of evidence blobs of any
//!   size (age-style STREAM over AES-256-GCM, 64 KiB chunks), with the SHA-256
//!   of the plaintext computed on a second thread in the same pass.
//! * [`random_access`]: a `Read + Seek` view of a sealed blob's plaintext
//!   that authenticates and decrypts only the chunks it reads.
//! * [`small`]: one-shot AEAD for small values (metadata rows, index values),
//!   sub-key derivation and keyed identifiers (HMAC) for naming blobs.
//! * [`keyfile`]: secrets sealed under a passphrase with Argon2id.
//!
//! Key material lives in types that zeroize on drop (or in
//! [`zeroize::Zeroizing`]) and is never printed: every key type's `Debug`
//! implementation is redacted.

pub mod keyfile;
pub mod random_access;
pub mod small;
pub mod stream;

pub use keyfile::{KdfParams, KeyfileError, open_with_passphrase, seal_with_passphrase};
pub use random_access::{BlobReader, BlobSource};
pub use small::{SmallError, derive_subkey, keyed_id, open, seal};
pub use stream::{BlobKey, ChunkSealer, Sealed, StreamError, decrypt_and_hash, encrypt_and_hash};

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// HMAC-SHA256 of the concatenation of `parts` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    // HMAC accepts keys of any length, so this never fails.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// HKDF-SHA256 expanding to 32 bytes (RFC 5869), returned in a zeroizing box.
pub(crate) fn hkdf_sha256(
    salt: Option<&[u8]>,
    ikm: &[u8],
    info: &[u8],
) -> zeroize::Zeroizing<[u8; 32]> {
    let hk = hkdf::Hkdf::<Sha256>::new(salt, ikm);
    let mut okm = zeroize::Zeroizing::new([0u8; 32]);
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit, so this never fails.
    hk.expand(info, okm.as_mut())
        .expect("32 bytes is a valid HKDF length");
    okm
}

/// Fills `buf` from the operating system's random generator.
pub(crate) fn fill_random(buf: &mut [u8]) -> Result<(), getrandom::Error> {
    getrandom::fill(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn hmac_matches_rfc4231_case_2() {
        let mac = hmac_sha256(b"Jefe", &[b"what do ya want ", b"for nothing?"]);
        assert_eq!(
            hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn hkdf_matches_rfc5869_case_3() {
        let okm = hkdf_sha256(None, &[0x0b; 22], b"");
        assert_eq!(
            hex(okm.as_ref()),
            "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d"
        );
    }
}
