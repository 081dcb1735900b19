//! The vault's secrets: made at `init`, sealed under the passphrase.
//!
//! One key file (`keys.sealed`, format in `crypto::keyfile`) holds three
//! 32-byte secrets: the collector's Ed25519 seed, the log's Ed25519 seed and
//! a master key. Every other key is derived from the master key with
//! HKDF-SHA256 and a label, so the key file never changes after `init`.

use guwah_core::note::{Signer, Verifier};
use zeroize::Zeroizing;

use crate::crypto::{self, BlobKey};
use crate::error::VaultError;

pub use crate::crypto::KdfParams;

const SECRETS_MAGIC: &[u8] = b"guwah/secrets/v1\n";

/// The unlocked secrets of a vault.
pub(crate) struct VaultKeys {
    pub collector: ed25519_dalek::SigningKey,
    pub log_signer: Signer,
    /// Encrypts blob contents (via per-blob HKDF in `crypto::stream`).
    pub blob_key: BlobKey,
    /// Names blobs: `HMAC(name_key, SHA-256(content))`, so the vault's file
    /// names never reveal which known files it holds.
    pub name_key: Zeroizing<[u8; 32]>,
    /// Encrypts the private part of index rows.
    pub index_key: Zeroizing<[u8; 32]>,
    /// Names accounts: `HMAC(account_id_key, name)`, so the account store
    /// names nobody.
    pub account_id_key: Zeroizing<[u8; 32]>,
    /// Encrypts what an account row keeps private (name, password hash).
    pub account_key: Zeroizing<[u8; 32]>,
    /// Derives each session's CSRF token from its credential hash.
    pub csrf_key: Zeroizing<[u8; 32]>,
    /// Encrypts partial uploads in the server's spool.
    pub spool_key: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for VaultKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("VaultKeys { .. }")
    }
}

fn random32() -> Result<Zeroizing<[u8; 32]>, VaultError> {
    let mut b = Zeroizing::new([0u8; 32]);
    getrandom::fill(b.as_mut()).map_err(|e| VaultError::Io {
        path: "operating system random generator".into(),
        source: std::io::Error::other(e.to_string()),
    })?;
    Ok(b)
}

impl VaultKeys {
    /// Fresh secrets, and their sealed form.
    pub fn generate(
        origin: &str,
        passphrase: &[u8],
        params: KdfParams,
    ) -> Result<(Self, Vec<u8>), VaultError> {
        let (collector, log, master) = (random32()?, random32()?, random32()?);
        let mut secrets = Zeroizing::new(Vec::with_capacity(SECRETS_MAGIC.len() + 96));
        secrets.extend_from_slice(SECRETS_MAGIC);
        secrets.extend_from_slice(collector.as_ref());
        secrets.extend_from_slice(log.as_ref());
        secrets.extend_from_slice(master.as_ref());
        let sealed = crypto::seal_with_passphrase(passphrase, &secrets, params).map_err(|e| {
            VaultError::BadArgument {
                what: "passphrase".into(),
                why: e.to_string(),
            }
        })?;
        Ok((Self::from_secrets(origin, &secrets)?, sealed))
    }

    /// Open the sealed secrets with the passphrase.
    pub fn unlock(
        origin: &str,
        passphrase: &[u8],
        sealed: &[u8],
        key_file: &str,
    ) -> Result<Self, VaultError> {
        let secrets = crypto::open_with_passphrase(passphrase, sealed).map_err(|e| match e {
            crypto::KeyfileError::WrongPassphrase => VaultError::WrongPassphrase(key_file.into()),
            other => VaultError::damaged(key_file, other.to_string()),
        })?;
        Self::from_secrets(origin, &secrets)
    }

    /// The same secrets sealed under a new passphrase: `sealed` is opened
    /// with `old` (refused as a wrong passphrase otherwise) and sealed again
    /// with `new` and fresh Argon2id salt.
    pub fn reseal(
        old: &[u8],
        new: &[u8],
        sealed: &[u8],
        params: KdfParams,
        key_file: &str,
    ) -> Result<Vec<u8>, VaultError> {
        let secrets = crypto::open_with_passphrase(old, sealed).map_err(|e| match e {
            crypto::KeyfileError::WrongPassphrase => VaultError::WrongPassphrase(key_file.into()),
            other => VaultError::damaged(key_file, other.to_string()),
        })?;
        crypto::seal_with_passphrase(new, &secrets, params).map_err(|e| VaultError::BadArgument {
            what: "new passphrase".into(),
            why: e.to_string(),
        })
    }

    fn from_secrets(origin: &str, secrets: &[u8]) -> Result<Self, VaultError> {
        let body = secrets
            .strip_prefix(SECRETS_MAGIC)
            .filter(|b| b.len() == 96)
            .ok_or_else(|| {
                VaultError::damaged("key file", "sealed secrets have the wrong layout")
            })?;
        let take = |i: usize| {
            let mut k = Zeroizing::new([0u8; 32]);
            k.copy_from_slice(&body[i * 32..(i + 1) * 32]);
            k
        };
        let (collector, log, master) = (take(0), take(1), take(2));
        let log_signer = Signer::generate(origin, *log).map_err(|e| VaultError::BadArgument {
            what: "origin".into(),
            why: e.to_string(),
        })?;
        let blob = crypto::derive_subkey(&master, "guwah/blob-key/v1");
        Ok(Self {
            collector: ed25519_dalek::SigningKey::from_bytes(&collector),
            log_signer,
            blob_key: BlobKey::from_bytes(&blob),
            name_key: crypto::derive_subkey(&master, "guwah/blob-name-key/v1"),
            index_key: crypto::derive_subkey(&master, "guwah/index-key/v1"),
            account_id_key: crypto::derive_subkey(&master, "guwah/account-id-key/v1"),
            account_key: crypto::derive_subkey(&master, "guwah/account-key/v1"),
            csrf_key: crypto::derive_subkey(&master, "guwah/csrf-key/v1"),
            spool_key: crypto::derive_subkey(&master, "guwah/spool-key/v1"),
        })
    }

    /// The log's public key.
    pub fn log_verifier(&self) -> Verifier {
        self.log_signer.verifier()
    }

    /// The blob name for content with this SHA-256.
    pub fn blob_name(&self, sha256: &[u8; 32]) -> String {
        guwah_core::record::hex32(&crypto::keyed_id(&self.name_key, sha256))
    }
}
