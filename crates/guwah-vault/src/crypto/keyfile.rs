//! Secrets sealed under a passphrase (format `guwah/keys/v1`).
//!
//! # Key file format, version 1
//!
//! All integers are big-endian. Offsets are in bytes.
//!
//! ```text
//! offset  length  field
//! ------  ------  -----------------------------------------------------------
//!      0      14  magic: ASCII "guwah/keys/v1\n"
//!                 (67 75 77 61 68 2f 6b 65 79 73 2f 76 31 0a)
//!     14       1  KDF id: 0x01 = Argon2id, version 0x13 (RFC 9106)
//!     15       4  m_cost: Argon2 memory in KiB (u32)
//!     19       4  t_cost: Argon2 passes (u32)
//!     23       4  p_cost: Argon2 lanes (u32)
//!     27      16  salt: 16 random bytes
//!     43      12  nonce: 12 random bytes
//!     55       n  AES-256-GCM ciphertext of the secret (n = secret length)
//!   55+n      16  AES-256-GCM tag
//! ```
//!
//! The AES-256-GCM key is `Argon2id(password = passphrase, salt = salt,
//! m_cost, t_cost, p_cost, output length 32)`, with no Argon2 secret or
//! associated data. The AES-GCM associated data is bytes `0..55` (the whole
//! header), so altering any parameter makes the file fail to open.
//!
//! On reading, parameters outside [`KdfParams::validate`]'s bounds are
//! refused before any memory is allocated for the KDF, so a hostile file
//! cannot make the reader allocate gigabytes or spin for hours.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, Key, KeyInit, Nonce, Tag};
use argon2::{Algorithm, Argon2, Params, Version};
use zeroize::Zeroizing;

use super::fill_random;

/// The 14 magic bytes that open every v1 key file.
pub const MAGIC: &[u8; 14] = b"guwah/keys/v1\n";
/// KDF id for Argon2id version 0x13.
pub const KDF_ARGON2ID_V13: u8 = 0x01;
/// Size of the Argon2 salt.
pub const SALT_LEN: usize = 16;
/// Size of the AES-GCM nonce.
pub const NONCE_LEN: usize = 12;
/// Size of the AES-GCM tag.
pub const TAG_LEN: usize = 16;
/// Size of the header (everything before the ciphertext).
pub const HEADER_LEN: usize = MAGIC.len() + 1 + 12 + SALT_LEN + NONCE_LEN;

/// Largest accepted Argon2 memory cost: 4 GiB, in KiB.
pub const MAX_M_COST_KIB: u32 = 4 * 1024 * 1024;
/// Largest accepted Argon2 pass count.
pub const MAX_T_COST: u32 = 100;
/// Largest accepted Argon2 lane count.
pub const MAX_P_COST: u32 = 64;

/// Argon2id cost parameters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KdfParams {
    /// Memory in KiB.
    pub m_cost_kib: u32,
    /// Number of passes.
    pub t_cost: u32,
    /// Degree of parallelism (lanes).
    pub p_cost: u32,
}

impl KdfParams {
    /// OWASP's recommended Argon2id setting: 46 MiB, 1 pass, 1 lane.
    /// Deriving a key with it peaks at about 46 MiB of memory.
    pub const DEFAULT: Self = Self {
        m_cost_kib: 47104,
        t_cost: 1,
        p_cost: 1,
    };

    /// Checks the parameters against sane bounds: `1 <= p <= 64`,
    /// `8 * p <= m <= 4 GiB`, `1 <= t <= 100`.
    pub fn validate(&self) -> Result<(), String> {
        if !(1..=MAX_P_COST).contains(&self.p_cost) {
            return Err(format!("p_cost {} outside 1..={MAX_P_COST}", self.p_cost));
        }
        if !(1..=MAX_T_COST).contains(&self.t_cost) {
            return Err(format!("t_cost {} outside 1..={MAX_T_COST}", self.t_cost));
        }
        let min_m = 8 * self.p_cost;
        if !(min_m..=MAX_M_COST_KIB).contains(&self.m_cost_kib) {
            return Err(format!(
                "m_cost {} KiB outside {min_m}..={MAX_M_COST_KIB}",
                self.m_cost_kib
            ));
        }
        Ok(())
    }
}

impl Default for KdfParams {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Why a key file could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum KeyfileError {
    /// The passphrase is empty.
    #[error("empty passphrase refused")]
    EmptyPassphrase,
    /// The KDF parameters given for sealing are out of bounds.
    #[error("KDF parameters out of bounds: {0}")]
    BadParams(String),
    /// The tag does not verify.
    #[error("wrong passphrase (or the key file was altered)")]
    WrongPassphrase,
    /// The file is not a well-formed v1 key file.
    #[error("corrupt key file: {0}")]
    Corrupt(String),
    /// The KDF itself failed.
    #[error("key derivation failed: {0}")]
    Kdf(String),
    /// The operating system's random generator failed.
    #[error("the operating system's random generator failed: {0}")]
    Random(getrandom::Error),
}

fn derive_key(
    passphrase: &[u8],
    salt: &[u8; SALT_LEN],
    params: &KdfParams,
) -> Result<Zeroizing<[u8; 32]>, KeyfileError> {
    let params = Params::new(params.m_cost_kib, params.t_cost, params.p_cost, Some(32))
        .map_err(|e| KeyfileError::Kdf(e.to_string()))?;
    let mut key = Zeroizing::new([0u8; 32]);
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
        .hash_password_into(passphrase, salt, key.as_mut())
        .map_err(|e| KeyfileError::Kdf(e.to_string()))?;
    Ok(key)
}

/// Seals `secret` under `passphrase` with fresh random salt and nonce.
///
/// Returns the complete key file contents (see the module docs). Takes
/// about as long and as much memory as `params` says (46 MiB by default).
pub fn seal_with_passphrase(
    passphrase: &[u8],
    secret: &[u8],
    params: KdfParams,
) -> Result<Vec<u8>, KeyfileError> {
    let mut salt = [0u8; SALT_LEN];
    let mut nonce = [0u8; NONCE_LEN];
    fill_random(&mut salt).map_err(KeyfileError::Random)?;
    fill_random(&mut nonce).map_err(KeyfileError::Random)?;
    seal_with(passphrase, secret, params, &salt, &nonce)
}

fn seal_with(
    passphrase: &[u8],
    secret: &[u8],
    params: KdfParams,
    salt: &[u8; SALT_LEN],
    nonce: &[u8; NONCE_LEN],
) -> Result<Vec<u8>, KeyfileError> {
    if passphrase.is_empty() {
        return Err(KeyfileError::EmptyPassphrase);
    }
    params.validate().map_err(KeyfileError::BadParams)?;
    let key = derive_key(passphrase, salt, &params)?;

    let mut out = Vec::with_capacity(HEADER_LEN + secret.len() + TAG_LEN);
    out.extend_from_slice(MAGIC);
    out.push(KDF_ARGON2ID_V13);
    out.extend_from_slice(&params.m_cost_kib.to_be_bytes());
    out.extend_from_slice(&params.t_cost.to_be_bytes());
    out.extend_from_slice(&params.p_cost.to_be_bytes());
    out.extend_from_slice(salt);
    out.extend_from_slice(nonce);
    out.extend_from_slice(secret);
    let (header, body) = out.split_at_mut(HEADER_LEN);
    let tag = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.as_ref()))
        .encrypt_in_place_detached(Nonce::from_slice(nonce), header, body)
        .map_err(|_| KeyfileError::Corrupt("secret too large".into()))?;
    out.extend_from_slice(&tag);
    Ok(out)
}

/// A parsed v1 header (nothing secret).
struct Header {
    params: KdfParams,
    salt: [u8; SALT_LEN],
    nonce: [u8; NONCE_LEN],
}

fn parse_header(file: &[u8]) -> Result<Header, KeyfileError> {
    if !file.starts_with(MAGIC) {
        return Err(KeyfileError::Corrupt(if MAGIC.starts_with(file) {
            format!("truncated: {} bytes", file.len())
        } else if file.starts_with(b"guwah/keys/") {
            "unsupported key file version (this build reads v1)".into()
        } else {
            "not a guwah key file (bad magic)".into()
        }));
    }
    if file.len() < HEADER_LEN + TAG_LEN {
        return Err(KeyfileError::Corrupt(format!(
            "truncated: {} bytes, at least {} needed",
            file.len(),
            HEADER_LEN + TAG_LEN
        )));
    }
    let kdf = file[MAGIC.len()];
    if kdf != KDF_ARGON2ID_V13 {
        return Err(KeyfileError::Corrupt(format!("unknown KDF id {kdf:#04x}")));
    }
    let u32_at = |at: usize| {
        let mut b = [0u8; 4];
        b.copy_from_slice(&file[at..at + 4]);
        u32::from_be_bytes(b)
    };
    let params = KdfParams {
        m_cost_kib: u32_at(15),
        t_cost: u32_at(19),
        p_cost: u32_at(23),
    };
    params
        .validate()
        .map_err(|e| KeyfileError::Corrupt(format!("KDF parameters refused: {e}")))?;
    let mut salt = [0u8; SALT_LEN];
    salt.copy_from_slice(&file[27..27 + SALT_LEN]);
    let mut nonce = [0u8; NONCE_LEN];
    nonce.copy_from_slice(&file[43..43 + NONCE_LEN]);
    Ok(Header {
        params,
        salt,
        nonce,
    })
}

/// Reads the KDF parameters of a key file without the passphrase (e.g. to
/// decide whether to re-seal it with stronger ones).
pub fn read_params(file: &[u8]) -> Result<KdfParams, KeyfileError> {
    parse_header(file).map(|h| h.params)
}

/// Opens a key file made by [`seal_with_passphrase`].
///
/// Structural problems (bad magic, unknown version or KDF, truncation,
/// parameters out of bounds) are [`KeyfileError::Corrupt`] and are detected
/// before running the KDF; a tag mismatch is
/// [`KeyfileError::WrongPassphrase`]. The secret is returned in a buffer that
/// is zeroized on drop.
pub fn open_with_passphrase(
    passphrase: &[u8],
    file: &[u8],
) -> Result<Zeroizing<Vec<u8>>, KeyfileError> {
    let header = parse_header(file)?;
    let key = derive_key(passphrase, &header.salt, &header.params)?;
    let (aad, rest) = file.split_at(HEADER_LEN);
    let (body, tag) = rest.split_at(rest.len() - TAG_LEN);
    let mut secret = Zeroizing::new(body.to_vec());
    Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(key.as_ref()))
        .decrypt_in_place_detached(
            Nonce::from_slice(&header.nonce),
            aad,
            &mut secret,
            Tag::from_slice(tag),
        )
        .map_err(|_| KeyfileError::WrongPassphrase)?;
    Ok(secret)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Cheap parameters so that tests run fast.
    const FAST: KdfParams = KdfParams {
        m_cost_kib: 64,
        t_cost: 1,
        p_cost: 1,
    };

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn round_trip() {
        let file = seal_with_passphrase(b"correct horse", b"the vault keys", FAST).unwrap();
        assert_eq!(file.len(), HEADER_LEN + 14 + TAG_LEN);
        assert_eq!(read_params(&file).unwrap(), FAST);
        let secret = open_with_passphrase(b"correct horse", &file).unwrap();
        assert_eq!(&secret[..], b"the vault keys");
        let again = seal_with_passphrase(b"correct horse", b"the vault keys", FAST).unwrap();
        assert_ne!(file, again, "salt and nonce must be fresh");
    }

    #[test]
    fn default_params_round_trip() {
        let file = seal_with_passphrase(b"pw", &[9u8; 64], KdfParams::default()).unwrap();
        assert_eq!(read_params(&file).unwrap(), KdfParams::DEFAULT);
        assert_eq!(&open_with_passphrase(b"pw", &file).unwrap()[..], &[9u8; 64]);
    }

    #[test]
    fn fixed_vector() {
        let salt: [u8; 16] = core::array::from_fn(|i| i as u8);
        let nonce: [u8; 12] = core::array::from_fn(|i| 0xa0 + i as u8);
        let file = seal_with(b"passphrase", b"secret!", FAST, &salt, &nonce).unwrap();

        // Layout, field by field.
        assert_eq!(&file[..14], b"guwah/keys/v1\n");
        assert_eq!(file[14], 0x01);
        assert_eq!(&file[15..27], &[0, 0, 0, 64, 0, 0, 0, 1, 0, 0, 0, 1]);
        assert_eq!(&file[27..43], &salt);
        assert_eq!(&file[43..55], &nonce);

        // Independent recomputation of the ciphertext from the spec.
        let mut key = [0u8; 32];
        Argon2::new(
            Algorithm::Argon2id,
            Version::V0x13,
            Params::new(64, 1, 1, Some(32)).unwrap(),
        )
        .hash_password_into(b"passphrase", &salt, &mut key)
        .unwrap();
        let mut body = b"secret!".to_vec();
        let tag = Aes256Gcm::new(Key::<Aes256Gcm>::from_slice(&key))
            .encrypt_in_place_detached(Nonce::from_slice(&nonce), &file[..55], &mut body)
            .unwrap();
        body.extend_from_slice(&tag);
        assert_eq!(&file[55..], &body[..]);

        // Pinned bytes: any change to the format shows up here.
        assert_eq!(hex(&file), PINNED);
    }

    const PINNED: &str = concat!(
        "67757761682f6b6579732f76310a01000000400000000100000001",
        "000102030405060708090a0b0c0d0e0f",
        "a0a1a2a3a4a5a6a7a8a9aaab",
        "4e1149eb4bd26542a9378c2a025debb2bd4aa57ea64907"
    );

    #[test]
    fn wrong_passphrase_and_tampering() {
        let file = seal_with_passphrase(b"right", b"secret", FAST).unwrap();
        assert!(matches!(
            open_with_passphrase(b"wrong", &file),
            Err(KeyfileError::WrongPassphrase)
        ));
        assert!(matches!(
            open_with_passphrase(b"", &file),
            Err(KeyfileError::WrongPassphrase)
        ));
        // Any altered bit after the magic and KDF id fails (parameters change
        // the key; salt, nonce, ciphertext and tag are authenticated).
        for i in 15..file.len() {
            let mut bad = file.clone();
            bad[i] ^= 0x01;
            let err = open_with_passphrase(b"right", &bad).unwrap_err();
            assert!(
                matches!(
                    err,
                    KeyfileError::WrongPassphrase | KeyfileError::Corrupt(_)
                ),
                "byte {i}: {err}"
            );
        }
        // Flipping a low bit of m_cost keeps it in bounds: reported as a
        // failed tag, since the header is the associated data.
        let mut bad = file.clone();
        bad[18] ^= 0x01;
        assert!(matches!(
            open_with_passphrase(b"right", &bad),
            Err(KeyfileError::WrongPassphrase)
        ));
    }

    #[test]
    fn structural_problems_are_corrupt() {
        let file = seal_with_passphrase(b"pw", b"secret", FAST).unwrap();
        let corrupt = |bytes: &[u8]| {
            matches!(
                open_with_passphrase(b"pw", bytes),
                Err(KeyfileError::Corrupt(_))
            )
        };
        for len in 0..HEADER_LEN + TAG_LEN {
            assert!(corrupt(&file[..len]), "truncated to {len}");
        }
        let mut bad = file.clone();
        bad[0] = b'G';
        assert!(corrupt(&bad));
        let mut bad = file.clone();
        bad[12] = b'2';
        assert!(corrupt(&bad));
        let mut bad = file.clone();
        bad[14] = 0x02;
        assert!(corrupt(&bad));
        assert!(corrupt(b"guwah/blob/v1\n and more"));
    }

    #[test]
    fn hostile_params_are_refused_before_the_kdf() {
        let file = seal_with_passphrase(b"pw", b"secret", FAST).unwrap();
        let with = |m: u32, t: u32, p: u32| {
            let mut bad = file.clone();
            bad[15..19].copy_from_slice(&m.to_be_bytes());
            bad[19..23].copy_from_slice(&t.to_be_bytes());
            bad[23..27].copy_from_slice(&p.to_be_bytes());
            bad
        };
        for (m, t, p) in [
            (u32::MAX, 1, 1),
            (MAX_M_COST_KIB + 1, 1, 1),
            (64, 101, 1),
            (64, u32::MAX, 1),
            (64, 0, 1),
            (64, 1, 0),
            (64, 1, 65),
            (7, 1, 1),
            (0, 1, 1),
        ] {
            let err = open_with_passphrase(b"pw", &with(m, t, p)).unwrap_err();
            assert!(
                matches!(err, KeyfileError::Corrupt(_)),
                "{m} {t} {p}: {err}"
            );
            assert!(read_params(&with(m, t, p)).is_err());
        }
    }

    #[test]
    fn seal_refuses_empty_passphrase_and_bad_params() {
        assert!(matches!(
            seal_with_passphrase(b"", b"s", FAST),
            Err(KeyfileError::EmptyPassphrase)
        ));
        let bad = KdfParams {
            m_cost_kib: MAX_M_COST_KIB + 1,
            ..FAST
        };
        assert!(matches!(
            seal_with_passphrase(b"pw", b"s", bad),
            Err(KeyfileError::BadParams(_))
        ));
    }

    #[test]
    fn default_is_owasp() {
        assert_eq!(KdfParams::DEFAULT.m_cost_kib, 46 * 1024);
        assert_eq!(
            (KdfParams::DEFAULT.t_cost, KdfParams::DEFAULT.p_cost),
            (1, 1)
        );
        assert!(KdfParams::DEFAULT.validate().is_ok());
    }
}
