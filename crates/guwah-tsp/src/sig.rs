//! Signature verification: RSA PKCS#1 v1.5, RSA-PSS, ECDSA P-256 / P-384.

use sha2::Digest;

use crate::TspError;
use crate::der::{self, malformed};

const RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const RSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0b];
const RSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0c];
const RSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0d];
const RSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
const MGF1: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x08];
const EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const ECDSA_SHA256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x02];
const ECDSA_SHA384: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x03];
const ECDSA_SHA512: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x04, 0x03, 0x04];
const P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];

/// The hash algorithms guwah-tsp knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlg {
    /// SHA-1: accepted only inside ESSCertID (RFC 2634), never for imprints or signatures.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlg {
    /// The algorithm of an OID's content bytes.
    pub(crate) fn from_oid(oid: &[u8]) -> Option<HashAlg> {
        match oid {
            [0x2b, 0x0e, 0x03, 0x02, 0x1a] => Some(HashAlg::Sha1),
            [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01] => Some(HashAlg::Sha256),
            [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02] => Some(HashAlg::Sha384),
            [0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03] => Some(HashAlg::Sha512),
            _ => None,
        }
    }

    pub(crate) fn oid(self) -> &'static [u8] {
        match self {
            HashAlg::Sha1 => &[0x2b, 0x0e, 0x03, 0x02, 0x1a],
            HashAlg::Sha256 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x01],
            HashAlg::Sha384 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x02],
            HashAlg::Sha512 => &[0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02, 0x03],
        }
    }

    /// The digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        match self {
            HashAlg::Sha1 => sha1::Sha1::digest(data).to_vec(),
            HashAlg::Sha256 => sha2::Sha256::digest(data).to_vec(),
            HashAlg::Sha384 => sha2::Sha384::digest(data).to_vec(),
            HashAlg::Sha512 => sha2::Sha512::digest(data).to_vec(),
        }
    }

    /// A streaming hasher, for data too large to hold in memory.
    pub fn hasher(self) -> Hasher {
        Hasher(match self {
            HashAlg::Sha1 => HasherState::Sha1(sha1::Sha1::new()),
            HashAlg::Sha256 => HasherState::Sha256(sha2::Sha256::new()),
            HashAlg::Sha384 => HasherState::Sha384(sha2::Sha384::new()),
            HashAlg::Sha512 => HasherState::Sha512(sha2::Sha512::new()),
        })
    }

    /// Its usual name.
    pub fn name(self) -> &'static str {
        match self {
            HashAlg::Sha1 => "SHA-1",
            HashAlg::Sha256 => "SHA-256",
            HashAlg::Sha384 => "SHA-384",
            HashAlg::Sha512 => "SHA-512",
        }
    }
}

/// The hash a signature algorithm uses (`digest` is the SignerInfo's
/// digestAlgorithm, used when the signature algorithm names only the key type).
fn signature_hash(
    alg: &[u8],
    params: Option<&[u8]>,
    digest: Option<HashAlg>,
) -> Result<(HashAlg, Option<usize>), TspError> {
    let unsupported =
        || TspError::Unsupported(format!("signature algorithm {}", der::oid_text(alg)));
    let h = match alg {
        RSA_SHA256 | ECDSA_SHA256 => HashAlg::Sha256,
        RSA_SHA384 | ECDSA_SHA384 => HashAlg::Sha384,
        RSA_SHA512 | ECDSA_SHA512 => HashAlg::Sha512,
        RSA | EC_PUBLIC_KEY => digest.ok_or_else(unsupported)?,
        RSA_PSS => return pss_params(params),
        _ => return Err(unsupported()),
    };
    if h == HashAlg::Sha1 {
        return Err(TspError::Unsupported("SHA-1 signatures".into()));
    }
    Ok((h, None))
}

/// RSASSA-PSS-params: hash, MGF1 with the same hash, salt length.
fn pss_params(params: Option<&[u8]>) -> Result<(HashAlg, Option<usize>), TspError> {
    const W: &str = "RSA-PSS parameters";
    let p = params.ok_or_else(|| malformed(W, "missing"))?;
    let seq = der::single(p, der::SEQUENCE, W)?;
    let mut r = seq.reader(W);
    let mut hash = HashAlg::Sha1;
    let mut mgf_hash = HashAlg::Sha1;
    let mut salt = 20usize;
    if let Some(h) = r.optional(0xa0)? {
        let alg = der::single(h.content, der::SEQUENCE, W)?;
        let (oid, _) = crate::cert::parse_algorithm(&alg)?;
        hash = HashAlg::from_oid(&oid).ok_or_else(|| malformed(W, "unknown hash"))?;
    }
    if let Some(m) = r.optional(0xa1)? {
        let alg = der::single(m.content, der::SEQUENCE, W)?;
        let (oid, inner) = crate::cert::parse_algorithm(&alg)?;
        if oid != MGF1 {
            return Err(TspError::Unsupported(
                "RSA-PSS mask generation other than MGF1".into(),
            ));
        }
        let inner = inner.ok_or_else(|| malformed(W, "MGF1 without a hash"))?;
        let inner = der::single(&inner, der::SEQUENCE, W)?;
        let (oid, _) = crate::cert::parse_algorithm(&inner)?;
        mgf_hash = HashAlg::from_oid(&oid).ok_or_else(|| malformed(W, "unknown MGF1 hash"))?;
    }
    if let Some(s) = r.optional(0xa2)? {
        let i = der::single(s.content, der::INTEGER, W)?;
        salt = der::small_uint(&i, W)? as usize;
    }
    if hash != mgf_hash || hash == HashAlg::Sha1 {
        return Err(TspError::Unsupported(
            "RSA-PSS with SHA-1 or with different hash and MGF1 hash".into(),
        ));
    }
    Ok((hash, Some(salt)))
}

/// Verify `signature` over `message` with the key in `spki` (a DER
/// SubjectPublicKeyInfo). Returns `Ok(false)` when the signature is wrong.
pub(crate) fn verify(
    spki: &[u8],
    alg: &[u8],
    params: Option<&[u8]>,
    digest: Option<HashAlg>,
    message: &[u8],
    signature: &[u8],
) -> Result<bool, TspError> {
    const W: &str = "public key";
    let (hash, pss_salt) = signature_hash(alg, params, digest)?;
    let hashed = hash.digest(message);
    let seq = der::single(spki, der::SEQUENCE, W)?;
    let mut r = seq.reader(W);
    let key_alg = r.expect(der::SEQUENCE)?;
    let (key_oid, key_params) = crate::cert::parse_algorithm(&key_alg)?;
    let bits = r.expect(der::BIT_STRING)?;
    r.finish()?;
    let key = bits
        .content
        .split_first()
        .filter(|(u, _)| **u == 0)
        .map(|(_, k)| k)
        .ok_or_else(|| malformed(W, "bad BIT STRING"))?;
    match key_oid.as_slice() {
        RSA => {
            if !matches!(alg, RSA | RSA_SHA256 | RSA_SHA384 | RSA_SHA512 | RSA_PSS) {
                return Err(TspError::Unsupported(
                    "a non-RSA signature by an RSA key".into(),
                ));
            }
            let k = der::single(key, der::SEQUENCE, "RSA public key")?;
            let mut kr = k.reader("RSA public key");
            let n = der::uint(&kr.read()?, "RSA modulus")?;
            let e = der::uint(&kr.read()?, "RSA exponent")?;
            kr.finish()?;
            let pk = rsa::RsaPublicKey::new_with_max_size(
                rsa::BigUint::from_bytes_be(&n),
                rsa::BigUint::from_bytes_be(&e),
                8192,
            )
            .map_err(|e| malformed("RSA public key", e.to_string()))?;
            let ok = match (pss_salt, hash) {
                (None, HashAlg::Sha256) => {
                    pk.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), &hashed, signature)
                }
                (None, HashAlg::Sha384) => {
                    pk.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha384>(), &hashed, signature)
                }
                (None, HashAlg::Sha512) => {
                    pk.verify(rsa::Pkcs1v15Sign::new::<sha2::Sha512>(), &hashed, signature)
                }
                (Some(s), HashAlg::Sha256) => pk.verify(
                    rsa::Pss::new_with_salt::<sha2::Sha256>(s),
                    &hashed,
                    signature,
                ),
                (Some(s), HashAlg::Sha384) => pk.verify(
                    rsa::Pss::new_with_salt::<sha2::Sha384>(s),
                    &hashed,
                    signature,
                ),
                (Some(s), HashAlg::Sha512) => pk.verify(
                    rsa::Pss::new_with_salt::<sha2::Sha512>(s),
                    &hashed,
                    signature,
                ),
                (_, HashAlg::Sha1) => return Err(TspError::Unsupported("SHA-1 signatures".into())),
            };
            Ok(ok.is_ok())
        }
        EC_PUBLIC_KEY => {
            if !matches!(
                alg,
                EC_PUBLIC_KEY | ECDSA_SHA256 | ECDSA_SHA384 | ECDSA_SHA512
            ) {
                return Err(TspError::Unsupported(
                    "a non-ECDSA signature by an EC key".into(),
                ));
            }
            let curve = key_params
                .as_deref()
                .and_then(|p| der::single(p, der::OID, W).ok().map(|o| o.content.to_vec()))
                .ok_or_else(|| malformed(W, "EC key without a named curve"))?;
            // A signature that is not even a valid ECDSA-Sig-Value is wrong.
            let Ok((r_bytes, s_bytes)) = ecdsa_rs(signature) else {
                return Ok(false);
            };
            use p256::ecdsa::signature::hazmat::PrehashVerifier;
            match curve.as_slice() {
                P256 => {
                    let vk = p256::ecdsa::VerifyingKey::from_sec1_bytes(key)
                        .map_err(|_| malformed(W, "bad P-256 point"))?;
                    let Some(sig) = fixed::<32>(&r_bytes, &s_bytes)
                        .and_then(|b| p256::ecdsa::Signature::from_slice(&b).ok())
                    else {
                        return Ok(false);
                    };
                    Ok(vk.verify_prehash(&hashed, &sig).is_ok())
                }
                P384 => {
                    let vk = p384::ecdsa::VerifyingKey::from_sec1_bytes(key)
                        .map_err(|_| malformed(W, "bad P-384 point"))?;
                    let Some(sig) = fixed::<48>(&r_bytes, &s_bytes)
                        .and_then(|b| p384::ecdsa::Signature::from_slice(&b).ok())
                    else {
                        return Ok(false);
                    };
                    Ok(vk.verify_prehash(&hashed, &sig).is_ok())
                }
                other => Err(TspError::Unsupported(format!(
                    "elliptic curve {}",
                    der::oid_text(other)
                ))),
            }
        }
        other => Err(TspError::Unsupported(format!(
            "public key algorithm {}",
            der::oid_text(other)
        ))),
    }
}

/// r and s of a DER ECDSA-Sig-Value.
fn ecdsa_rs(sig: &[u8]) -> Result<(Vec<u8>, Vec<u8>), TspError> {
    const W: &str = "ECDSA signature";
    let seq = der::single(sig, der::SEQUENCE, W)?;
    let mut r = seq.reader(W);
    let a = der::uint(&r.read()?, W)?;
    let b = der::uint(&r.read()?, W)?;
    r.finish()?;
    Ok((a, b))
}

/// r || s, each left-padded to N bytes.
fn fixed<const N: usize>(r: &[u8], s: &[u8]) -> Option<Vec<u8>> {
    if r.len() > N || s.len() > N {
        return None;
    }
    let mut out = vec![0u8; 2 * N];
    out[N - r.len()..N].copy_from_slice(r);
    out[2 * N - s.len()..].copy_from_slice(s);
    Some(out)
}

/// A [`HashAlg`] fed in pieces: [`update`](Hasher::update), then
/// [`finish`](Hasher::finish).
#[derive(Clone)]
pub struct Hasher(HasherState);

#[derive(Clone)]
enum HasherState {
    Sha1(sha1::Sha1),
    Sha256(sha2::Sha256),
    Sha384(sha2::Sha384),
    Sha512(sha2::Sha512),
}

impl Hasher {
    /// Hashes more data.
    pub fn update(&mut self, data: &[u8]) {
        match &mut self.0 {
            HasherState::Sha1(h) => h.update(data),
            HasherState::Sha256(h) => h.update(data),
            HasherState::Sha384(h) => h.update(data),
            HasherState::Sha512(h) => h.update(data),
        }
    }

    /// The digest of everything hashed.
    pub fn finish(self) -> Vec<u8> {
        match self.0 {
            HasherState::Sha1(h) => h.finalize().to_vec(),
            HasherState::Sha256(h) => h.finalize().to_vec(),
            HasherState::Sha384(h) => h.finalize().to_vec(),
            HasherState::Sha512(h) => h.finalize().to_vec(),
        }
    }
}
