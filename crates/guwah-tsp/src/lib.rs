//! RFC 3161 time-stamp tokens for guwah: building a `TimeStampReq`, parsing
//! a `TimeStampResp` / `TimeStampToken` (CMS SignedData over a TSTInfo), and
//! verifying one — pure functions over bytes, no I/O, no clock, no random
//! generator (callers pass the nonce in), so it builds for
//! `wasm32-unknown-unknown` and the browser verifier can use it.
//!
//! [`Token::verify`] checks, in this order: the message imprint against the
//! stamped bytes; the nonce (when one was requested); the signed attributes
//! (content-type is id-ct-TSTInfo, message-digest matches the TSTInfo, and
//! the ESS signing-certificate attribute (v1 or v2) names the signer's
//! certificate); the CMS signature (RSA PKCS#1 v1.5, RSA-PSS, ECDSA P-256 /
//! P-384); the TSA certificate's extended key usage (present, critical, only
//! id-kp-timeStamping); and the certificate chain to a trusted root, with
//! every certificate's validity evaluated **at the token's genTime** (TSA
//! certificates expire; a token made while they were valid stays valid).
//! Every certificate the token embeds must be part of that chain: anything
//! else was put there by someone other than the signer.
//!
//! What guwah stamps is specified in `docs/format.md` ("Timestamps"): the
//! body of the signed checkpoint note, see [`stamped_bytes`].
#![forbid(unsafe_code)]
#![deny(missing_docs)]

mod cert;
mod der;
mod sig;

use cert::Cert;
use der::{Reader, malformed};
pub use sig::{HashAlg, Hasher};

/// The largest token or response accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 1 << 20;
const MAX_CERTS: usize = 32;
const MAX_CHAIN: usize = 8;

const OID_SIGNED_DATA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02];
const OID_TST_INFO: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x01, 0x04,
];
const OID_CONTENT_TYPE: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x03];
const OID_MESSAGE_DIGEST: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x04];
const OID_SIGNING_CERT: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x0c,
];
const OID_SIGNING_CERT_V2: &[u8] = &[
    0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x10, 0x02, 0x2f,
];

/// Everything that can be wrong with a token, a response or a certificate.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TspError {
    /// Bytes that do not parse.
    #[error("malformed {what}: {why}")]
    Malformed {
        /// The structure.
        what: &'static str,
        /// What is wrong with it.
        why: String,
    },
    /// The TSA answered with a status other than granted.
    #[error("the TSA refused the request (status {status}{text})")]
    Refused {
        /// PKIStatus.
        status: u64,
        /// The status text and failure info, if any (with a leading `: `).
        text: String,
    },
    /// An algorithm or form guwah does not accept.
    #[error("unsupported {0}")]
    Unsupported(String),
    /// The token is over other bytes.
    #[error("message imprint does not match the stamped data")]
    ImprintMismatch,
    /// A nonce was requested and the token has none.
    #[error("the token carries no nonce, but the request had one")]
    NonceMissing,
    /// The nonce differs from the request's.
    #[error("nonce does not match the request (a replayed or substituted response)")]
    NonceMismatch,
    /// The signed content-type attribute is missing or wrong.
    #[error("signed content-type attribute is missing or not id-ct-TSTInfo")]
    ContentType,
    /// The signed message-digest attribute does not match the TSTInfo.
    #[error("signed message-digest attribute does not match the TSTInfo (the token was altered)")]
    MessageDigest,
    /// The signer's certificate is nowhere to be found.
    #[error(
        "the TSA's signing certificate is neither in the token nor among the trusted certificates"
    )]
    NoSignerCertificate,
    /// The ESS signing-certificate attribute is missing or names another certificate.
    #[error("signing-certificate attribute {0}")]
    CertBinding(String),
    /// The CMS signature is wrong.
    #[error("CMS signature does not verify with TSA certificate {cert}")]
    BadSignature {
        /// The signer certificate's subject.
        cert: String,
    },
    /// The TSA certificate is not fit to stamp.
    #[error("TSA certificate {cert}: {why}")]
    TsaCertificate {
        /// Its subject.
        cert: String,
        /// What is wrong.
        why: String,
    },
    /// A certificate was not valid at the token's time.
    #[error("certificate {cert} was not valid at the token's time {at} (valid {from} to {to})")]
    NotValidAt {
        /// Its subject.
        cert: String,
        /// The token's genTime.
        at: String,
        /// notBefore.
        from: String,
        /// notAfter.
        to: String,
    },
    /// The chain does not end at a trusted root.
    #[error("certificate {cert} does not chain to a trusted root")]
    Untrusted {
        /// The last certificate reached.
        cert: String,
    },
    /// A certificate in the chain is not fit for its place.
    #[error("certificate {cert}: {why}")]
    BadChain {
        /// Its subject.
        cert: String,
        /// What is wrong.
        why: String,
    },
    /// The token embeds a certificate that is not in its chain.
    #[error(
        "the token carries certificate {cert}, which is not part of its chain (added after signing?)"
    )]
    Injected {
        /// Its subject.
        cert: String,
    },
    /// No trust anchors.
    #[error("no trusted root certificates were given")]
    NoRoots,
}

/// A token's time: seconds since the Unix epoch plus a fraction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct GenTime {
    /// Whole seconds since 1970-01-01T00:00:00Z.
    pub unix: i64,
    /// Nanoseconds within the second.
    pub nanos: u32,
}

impl std::fmt::Display for GenTime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = cert::format_time(self.unix);
        if self.nanos == 0 {
            f.write_str(&s)
        } else {
            let frac = format!("{:09}", self.nanos);
            write!(f, "{}.{}Z", &s[..s.len() - 1], frac.trim_end_matches('0'))
        }
    }
}

/// TSTInfo accuracy: how far genTime may be from the true time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Accuracy {
    /// Seconds.
    pub seconds: u64,
    /// Milliseconds (0–999).
    pub millis: u16,
    /// Microseconds (0–999).
    pub micros: u16,
}

impl std::fmt::Display for Accuracy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "±{}", self.seconds)?;
        if self.millis != 0 || self.micros != 0 {
            write!(f, ".{:03}", self.millis)?;
            if self.micros != 0 {
                write!(f, "{:03}", self.micros)?;
            }
        }
        f.write_str(" s")
    }
}

/// The signed content of a token (RFC 3161 §2.4.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TstInfo {
    /// The TSA policy, dotted OID.
    pub policy: String,
    /// The imprint's hash algorithm.
    pub hash: Option<HashAlg>,
    /// The imprint's algorithm OID, dotted (also when unknown).
    pub hash_oid: String,
    /// The imprint.
    pub hashed_message: Vec<u8>,
    /// The token's serial number (big-endian magnitude).
    pub serial: Vec<u8>,
    /// When the TSA says it stamped.
    pub gen_time: GenTime,
    /// Its accuracy, if stated.
    pub accuracy: Option<Accuracy>,
    /// The ordering flag.
    pub ordering: bool,
    /// The nonce (big-endian magnitude), if any.
    pub nonce: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
enum Sid {
    IssuerSerial { issuer: Vec<u8>, serial: Vec<u8> },
    Ski(Vec<u8>),
}

/// (hash, certHash, issuerSerial's serial) of an ESSCertID(v2).
type EssCertId = (HashAlg, Vec<u8>, Option<Vec<u8>>);

#[derive(Debug, Clone)]
struct SignerInfo {
    sid: Sid,
    digest: Option<HashAlg>,
    signed_attrs: Vec<u8>,
    content_type_ok: bool,
    message_digest: Option<Vec<u8>>,
    /// (hash, certHash, issuerSerial serial) of the first ESSCertID(v2).
    ess: Option<EssCertId>,
    sig_alg: (Vec<u8>, Option<Vec<u8>>),
    signature: Vec<u8>,
}

/// A parsed time-stamp token.
#[derive(Debug, Clone)]
pub struct Token {
    /// What the TSTInfo says.
    pub info: TstInfo,
    econtent: Vec<u8>,
    certs: Vec<Cert>,
    signer: SignerInfo,
}

/// What a successful verification established.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    /// When the data existed, by the TSA's word.
    pub gen_time: GenTime,
    /// Its accuracy, if stated.
    pub accuracy: Option<Accuracy>,
    /// The TSA certificate's subject.
    pub tsa: String,
    /// The chain's subjects, TSA certificate first, trusted root last.
    pub chain: Vec<String>,
    /// The TSA policy.
    pub policy: String,
    /// The token's serial number, hex.
    pub serial: String,
}

/// Trusted roots, plus extra (untrusted) certificates that may help build a
/// chain (a TSA certificate the token does not embed, intermediates).
#[derive(Debug, Clone, Default)]
pub struct Trust {
    roots: Vec<Cert>,
    extra: Vec<Cert>,
}

impl Trust {
    /// No roots yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Add trusted roots from PEM (any number of `CERTIFICATE` blocks) or
    /// concatenated DER. Returns how many were added.
    pub fn add_roots(&mut self, pem_or_der: &[u8]) -> Result<usize, TspError> {
        let certs = parse_certificates(pem_or_der)?;
        let n = certs.len();
        self.roots.extend(certs);
        Ok(n)
    }

    /// Add untrusted certificates usable as chain links.
    pub fn add_intermediates(&mut self, pem_or_der: &[u8]) -> Result<usize, TspError> {
        let certs = parse_certificates(pem_or_der)?;
        let n = certs.len();
        self.extra.extend(certs);
        Ok(n)
    }

    /// Add a chain file as a trust configuration: its self-issued
    /// certificates become trusted roots, the others chain links. Returns
    /// how many roots were added.
    pub fn add_chain(&mut self, pem_or_der: &[u8]) -> Result<usize, TspError> {
        let mut roots = 0;
        for c in parse_certificates(pem_or_der)? {
            if c.self_issued() {
                roots += 1;
                self.roots.push(c);
            } else {
                self.extra.push(c);
            }
        }
        Ok(roots)
    }

    /// Whether any root was given.
    pub fn has_roots(&self) -> bool {
        !self.roots.is_empty()
    }
}

/// Parse certificates from PEM or concatenated DER (the input's form is
/// recognised by its first byte); each is fully checked to parse.
fn parse_certificates(bytes: &[u8]) -> Result<Vec<Cert>, TspError> {
    certificates_der(bytes)?
        .iter()
        .map(|d| Cert::parse(d))
        .collect()
}

/// Split PEM (`-----BEGIN CERTIFICATE-----` blocks) or concatenated DER
/// into DER certificates. Returns an error when nothing is found.
pub fn certificates_der(bytes: &[u8]) -> Result<Vec<Vec<u8>>, TspError> {
    const W: &str = "certificate file";
    if bytes.len() > MAX_TOKEN_BYTES {
        return Err(malformed(W, "larger than 1 MiB"));
    }
    let mut out = Vec::new();
    if bytes.first() == Some(&der::SEQUENCE) {
        let mut r = Reader::new(bytes, W);
        while !r.is_empty() {
            out.push(r.expect(der::SEQUENCE)?.raw.to_vec());
        }
    } else {
        use base64::Engine;
        let text = std::str::from_utf8(bytes).map_err(|_| malformed(W, "neither PEM nor DER"))?;
        let mut rest = text;
        while let Some(start) = rest.find("-----BEGIN CERTIFICATE-----") {
            let body = &rest[start + 27..];
            let end = body
                .find("-----END CERTIFICATE-----")
                .ok_or_else(|| malformed(W, "BEGIN CERTIFICATE without END"))?;
            let b64: String = body[..end].chars().filter(|c| !c.is_whitespace()).collect();
            let der = base64::engine::general_purpose::STANDARD
                .decode(b64)
                .map_err(|e| malformed(W, format!("bad base64: {e}")))?;
            out.push(der);
            rest = &body[end + 25..];
        }
    }
    if out.is_empty() {
        return Err(malformed(W, "no certificate found"));
    }
    Ok(out)
}

/// The bytes guwah stamps for a checkpoint: the body of the signed note
/// (`origin\nsize\nroot\n`), everything before the blank line that starts
/// the signatures. Signatures and cosignatures may be added to a note later;
/// the body they all sign does not change. `None` if `note` has no blank line.
pub fn stamped_bytes(note: &[u8]) -> Option<&[u8]> {
    note.windows(2)
        .position(|w| w == b"\n\n")
        .map(|i| &note[..i + 1])
}

/// A request ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// DER `TimeStampReq`, to POST as `application/timestamp-query`.
    pub der: Vec<u8>,
    /// The nonce sent (big-endian magnitude), to check the answer against.
    pub nonce: Vec<u8>,
}

/// Build a `TimeStampReq` over `data`: SHA-256 imprint, the given random
/// nonce (its top bit is cleared so it is positive), `certReq` true.
pub fn request(data: &[u8], nonce: [u8; 8]) -> Request {
    let mut n = nonce;
    n[0] &= 0x7f;
    if n.iter().all(|&b| b == 0) {
        n[7] = 1;
    }
    let alg = [
        der::encode(der::OID, HashAlg::Sha256.oid()),
        der::encode(der::NULL, &[]),
    ]
    .concat();
    let imprint = [
        der::encode(der::SEQUENCE, &alg),
        der::encode(der::OCTET_STRING, &HashAlg::Sha256.digest(data)),
    ]
    .concat();
    let body = [
        der::encode_uint(&[1]),
        der::encode(der::SEQUENCE, &imprint),
        der::encode_uint(&n),
        der::encode(der::BOOLEAN, &[0xff]),
    ]
    .concat();
    let start = n.iter().position(|&b| b != 0).unwrap_or(7);
    Request {
        der: der::encode(der::SEQUENCE, &body),
        nonce: n[start..].to_vec(),
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Token {
    /// Parse a `TimeStampResp` (status must be granted) or a bare
    /// `TimeStampToken` (a CMS ContentInfo).
    pub fn parse(bytes: &[u8]) -> Result<Token, TspError> {
        if bytes.len() > MAX_TOKEN_BYTES {
            return Err(malformed("time-stamp response", "larger than 1 MiB"));
        }
        let outer = der::single(bytes, der::SEQUENCE, "time-stamp response")?;
        let mut r = outer.reader("time-stamp response");
        match r.peek_tag() {
            Some(der::OID) => Token::parse_content_info(bytes),
            Some(der::SEQUENCE) => {
                let status = r.expect(der::SEQUENCE)?;
                let mut s = status.reader("PKIStatusInfo");
                let code = der::small_uint(&s.expect(der::INTEGER)?, "PKIStatus")?;
                let mut text = String::new();
                if let Some(free) = s.optional(der::SEQUENCE)? {
                    let mut f = free.reader("PKIFreeText");
                    while !f.is_empty() {
                        let t = f.read()?;
                        text.push_str(": ");
                        text.extend(
                            String::from_utf8_lossy(t.content)
                                .chars()
                                .filter(|c| !c.is_control())
                                .take(200),
                        );
                    }
                }
                if let Some(fail) = s.optional(der::BIT_STRING)? {
                    text.push_str(&format!(": failInfo {}", hex(fail.content)));
                }
                s.finish()?;
                if code > 1 {
                    return Err(TspError::Refused { status: code, text });
                }
                let token = r
                    .expect(der::SEQUENCE)
                    .map_err(|_| malformed("time-stamp response", "status granted but no token"))?;
                r.finish()?;
                Token::parse_content_info(token.raw)
            }
            _ => Err(malformed(
                "time-stamp response",
                "neither a TimeStampResp nor a token",
            )),
        }
    }

    fn parse_content_info(bytes: &[u8]) -> Result<Token, TspError> {
        const W: &str = "time-stamp token";
        let ci = der::single(bytes, der::SEQUENCE, W)?;
        let mut r = ci.reader(W);
        if r.expect(der::OID)?.content != OID_SIGNED_DATA {
            return Err(malformed(W, "content type is not SignedData"));
        }
        let explicit = r.expect(0xa0)?;
        r.finish()?;
        const SD: &str = "CMS SignedData";
        let sd = der::single(explicit.content, der::SEQUENCE, SD)?;
        let mut s = sd.reader(SD);
        s.expect(der::INTEGER)?;
        s.expect(der::SET)?;
        let encap = s.expect(der::SEQUENCE)?;
        let mut e = encap.reader(SD);
        if e.expect(der::OID)?.content != OID_TST_INFO {
            return Err(malformed(SD, "encapsulated content is not a TSTInfo"));
        }
        let econtent_wrap = e.expect(0xa0)?;
        e.finish()?;
        let econtent = der::single(econtent_wrap.content, der::OCTET_STRING, SD)?.content;
        let certs = match s.optional(0xa0)? {
            Some(c) => cert::parse_all(c.reader("embedded certificates"))?,
            None => Vec::new(),
        };
        if certs.len() > MAX_CERTS {
            return Err(malformed(SD, "too many certificates"));
        }
        s.optional(0xa1)?;
        let signer_infos = s.expect(der::SET)?;
        s.finish()?;
        let mut si = signer_infos.reader(SD);
        let one = si.expect(der::SEQUENCE)?;
        if !si.is_empty() {
            return Err(malformed(SD, "more than one SignerInfo"));
        }
        let signer = parse_signer_info(&one)?;
        let info = parse_tst_info(econtent)?;
        Ok(Token {
            info,
            econtent: econtent.to_vec(),
            certs,
            signer,
        })
    }

    /// Verify the token over `data` (see the crate docs), with `nonce` the
    /// nonce of our request, if we made it.
    pub fn verify(
        &self,
        data: &[u8],
        nonce: Option<&[u8]>,
        trust: &Trust,
    ) -> Result<Verified, TspError> {
        let digest = self.imprint_algorithm()?.digest(data);
        self.verify_digest(&digest, nonce, trust)
    }

    /// The hash of the token's message imprint; SHA-1 and unknown
    /// algorithms are refused (SHA-1 collisions are practical).
    pub fn imprint_algorithm(&self) -> Result<HashAlg, TspError> {
        let info = &self.info;
        match info.hash {
            Some(HashAlg::Sha1) | None => Err(TspError::Unsupported(format!(
                "message imprint algorithm {}",
                info.hash
                    .map_or(info.hash_oid.clone(), |h| h.name().to_string())
            ))),
            Some(h) => Ok(h),
        }
    }

    /// [`verify`](Self::verify) given the data's digest under
    /// [`imprint_algorithm`](Self::imprint_algorithm) (for data streamed
    /// from a file).
    pub fn verify_digest(
        &self,
        digest: &[u8],
        nonce: Option<&[u8]>,
        trust: &Trust,
    ) -> Result<Verified, TspError> {
        let info = &self.info;
        self.imprint_algorithm()?;
        if digest != info.hashed_message.as_slice() {
            return Err(TspError::ImprintMismatch);
        }
        if let Some(n) = nonce {
            let strip = |v: &[u8]| {
                v.iter()
                    .skip_while(|&&b| b == 0)
                    .copied()
                    .collect::<Vec<_>>()
            };
            match &info.nonce {
                None => return Err(TspError::NonceMissing),
                Some(got) if strip(got) != strip(n) => return Err(TspError::NonceMismatch),
                Some(_) => {}
            }
        }
        self.verify_signature_and_chain(trust)
    }

    fn verify_signature_and_chain(&self, trust: &Trust) -> Result<Verified, TspError> {
        if !trust.has_roots() {
            return Err(TspError::NoRoots);
        }
        let s = &self.signer;
        if !s.content_type_ok {
            return Err(TspError::ContentType);
        }
        let digest = s
            .digest
            .filter(|h| *h != HashAlg::Sha1)
            .ok_or_else(|| TspError::Unsupported("SignerInfo digest algorithm".into()))?;
        match &s.message_digest {
            Some(md) if *md == digest.digest(&self.econtent) => {}
            _ => return Err(TspError::MessageDigest),
        }
        // The signer: by its identifier, among the token's certificates and ours.
        let pool: Vec<&Cert> = self
            .certs
            .iter()
            .chain(trust.extra.iter())
            .chain(trust.roots.iter())
            .collect();
        let signer = pool
            .iter()
            .find(|c| match &s.sid {
                Sid::IssuerSerial { issuer, serial } => c.issuer == *issuer && c.serial == *serial,
                Sid::Ski(k) => c.ski.as_ref() == Some(k),
            })
            .copied()
            .ok_or(TspError::NoSignerCertificate)?;
        let name = signer.name();
        match &s.ess {
            None => {
                return Err(TspError::CertBinding(
                    "(ESS signingCertificate or signingCertificateV2) is missing".into(),
                ));
            }
            Some((h, cert_hash, serial)) => {
                if h.digest(&signer.der) != *cert_hash {
                    return Err(TspError::CertBinding(format!(
                        "names another certificate than the signer {name}"
                    )));
                }
                if serial.as_ref().is_some_and(|sn| *sn != signer.serial) {
                    return Err(TspError::CertBinding(format!(
                        "names another serial number than the signer {name}"
                    )));
                }
            }
        }
        let ok = sig::verify(
            &signer.spki,
            &s.sig_alg.0,
            s.sig_alg.1.as_deref(),
            Some(digest),
            &s.signed_attrs,
            &s.signature,
        )?;
        if !ok {
            return Err(TspError::BadSignature { cert: name });
        }
        // The TSA certificate: RFC 3161 §2.3.
        let tsa_err = |why: &str| TspError::TsaCertificate {
            cert: name.clone(),
            why: why.into(),
        };
        match &signer.eku {
            None => return Err(tsa_err("no timeStamping extended key usage")),
            Some((_, p)) if !p.iter().any(|o| o == cert::OID_KP_TIMESTAMPING) => {
                return Err(tsa_err("no timeStamping extended key usage"));
            }
            Some((false, _)) => {
                return Err(tsa_err("the extended key usage extension is not critical"));
            }
            Some((true, p)) if p.len() != 1 => {
                return Err(tsa_err(
                    "extended key usage has purposes besides timeStamping",
                ));
            }
            Some(_) => {}
        }
        if signer.key_usage_sign == Some(false) {
            return Err(tsa_err("key usage does not allow digital signatures"));
        }
        if signer.ca == Some(true) {
            return Err(tsa_err("is a CA certificate"));
        }
        let at = self.info.gen_time.unix;
        let chain = self.build_chain(signer, &pool, trust, at)?;
        for c in &self.certs {
            if !chain.iter().any(|x| x.der == c.der) {
                return Err(TspError::Injected { cert: c.name() });
            }
        }
        Ok(Verified {
            gen_time: self.info.gen_time,
            accuracy: self.info.accuracy,
            tsa: name,
            chain: chain.iter().map(|c| c.name()).collect(),
            policy: self.info.policy.clone(),
            serial: hex(&self.info.serial),
        })
    }

    fn build_chain<'a>(
        &self,
        signer: &'a Cert,
        pool: &[&'a Cert],
        trust: &'a Trust,
        at: i64,
    ) -> Result<Vec<&'a Cert>, TspError> {
        let valid_at = |c: &Cert| {
            if c.not_before <= at && at <= c.not_after {
                Ok(())
            } else {
                Err(TspError::NotValidAt {
                    cert: c.name(),
                    at: self.info.gen_time.to_string(),
                    from: cert::format_time(c.not_before),
                    to: cert::format_time(c.not_after),
                })
            }
        };
        let mut chain = vec![signer];
        let mut cur = signer;
        loop {
            valid_at(cur)?;
            if let Some(ext) = &cur.unknown_critical {
                return Err(TspError::BadChain {
                    cert: cur.name(),
                    why: format!("unknown critical extension {ext}"),
                });
            }
            // A trusted root itself?
            if trust.roots.iter().any(|r| r.der == cur.der) {
                return Ok(chain);
            }
            if chain.len() > MAX_CHAIN {
                return Err(TspError::Untrusted { cert: cur.name() });
            }
            // Its issuer: a root first, then any other certificate we have.
            let issuer = trust
                .roots
                .iter()
                .chain(pool.iter().copied())
                .filter(|c| c.subject == cur.issuer && !std::ptr::eq(*c, cur))
                .find(|c| {
                    sig::verify(
                        &c.spki,
                        &cur.sig_alg.0,
                        cur.sig_alg.1.as_deref(),
                        None,
                        cur.tbs(),
                        &cur.signature,
                    )
                    .unwrap_or(false)
                });
            let Some(issuer) = issuer else {
                return Err(TspError::Untrusted { cert: cur.name() });
            };
            if chain.iter().any(|c| c.der == issuer.der) {
                return Err(TspError::Untrusted { cert: cur.name() });
            }
            let is_root = trust.roots.iter().any(|r| r.der == issuer.der);
            if !is_root {
                if issuer.ca != Some(true) {
                    return Err(TspError::BadChain {
                        cert: issuer.name(),
                        why: "issues certificates but is not a CA (basic constraints)".into(),
                    });
                }
                if issuer.key_cert_sign == Some(false) {
                    return Err(TspError::BadChain {
                        cert: issuer.name(),
                        why: "key usage does not allow signing certificates".into(),
                    });
                }
            }
            chain.push(issuer);
            cur = issuer;
        }
    }
}

fn parse_signer_info(t: &der::Tlv<'_>) -> Result<SignerInfo, TspError> {
    const W: &str = "CMS SignerInfo";
    let mut r = t.reader(W);
    r.expect(der::INTEGER)?;
    let sid_t = r.read()?;
    let sid = match sid_t.tag {
        der::SEQUENCE => {
            let mut s = sid_t.reader(W);
            let issuer = s.expect(der::SEQUENCE)?.raw.to_vec();
            let serial = s.expect(der::INTEGER)?.content.to_vec();
            s.finish()?;
            Sid::IssuerSerial { issuer, serial }
        }
        0x80 => Sid::Ski(sid_t.content.to_vec()),
        _ => return Err(malformed(W, "bad signer identifier")),
    };
    let (digest_oid, _) = cert::parse_algorithm(&r.expect(der::SEQUENCE)?)?;
    let attrs = r
        .optional(0xa0)?
        .ok_or_else(|| malformed(W, "no signed attributes"))?;
    let sig_alg = cert::parse_algorithm(&r.expect(der::SEQUENCE)?)?;
    let signature = r.expect(der::OCTET_STRING)?.content.to_vec();
    r.optional(0xa1)?;
    r.finish()?;
    // The signature covers the attributes DER-encoded as a SET OF.
    let mut signed_attrs = attrs.raw.to_vec();
    signed_attrs[0] = der::SET;
    let mut info = SignerInfo {
        sid,
        digest: HashAlg::from_oid(&digest_oid),
        signed_attrs,
        content_type_ok: false,
        message_digest: None,
        ess: None,
        sig_alg,
        signature,
    };
    let mut seen: Vec<&[u8]> = Vec::new();
    let mut a = attrs.reader("signed attributes");
    while !a.is_empty() {
        let attr = a.expect(der::SEQUENCE)?;
        let mut ar = attr.reader("signed attribute");
        let oid = ar.expect(der::OID)?.content;
        let values = ar.expect(der::SET)?;
        ar.finish()?;
        if seen.contains(&oid) {
            return Err(malformed("signed attributes", "an attribute appears twice"));
        }
        seen.push(oid);
        let mut vr = values.reader("signed attribute");
        let value = vr.read()?;
        if !vr.is_empty() {
            return Err(malformed(
                "signed attributes",
                "an attribute has several values",
            ));
        }
        match oid {
            OID_CONTENT_TYPE => {
                info.content_type_ok = value.tag == der::OID && value.content == OID_TST_INFO
            }
            OID_MESSAGE_DIGEST => {
                if value.tag != der::OCTET_STRING {
                    return Err(malformed("message-digest attribute", "not an OCTET STRING"));
                }
                info.message_digest = Some(value.content.to_vec());
            }
            OID_SIGNING_CERT | OID_SIGNING_CERT_V2 if info.ess.is_none() => {
                info.ess = Some(parse_ess(&value, oid == OID_SIGNING_CERT_V2)?);
            }
            _ => {}
        }
    }
    Ok(info)
}

/// The first ESSCertID(v2) of a SigningCertificate(V2).
fn parse_ess(value: &der::Tlv<'_>, v2: bool) -> Result<EssCertId, TspError> {
    const W: &str = "signing-certificate attribute";
    if value.tag != der::SEQUENCE {
        return Err(malformed(W, "not a SEQUENCE"));
    }
    let mut r = value.reader(W);
    let certs = r.expect(der::SEQUENCE)?;
    let mut c = certs.reader(W);
    let first = c.expect(der::SEQUENCE)?;
    let mut f = first.reader(W);
    let mut hash = if v2 { HashAlg::Sha256 } else { HashAlg::Sha1 };
    if v2 && f.peek_tag() == Some(der::SEQUENCE) {
        let (oid, _) = cert::parse_algorithm(&f.read()?)?;
        hash = HashAlg::from_oid(&oid).ok_or_else(|| {
            TspError::Unsupported(format!("ESSCertIDv2 hash {}", der::oid_text(&oid)))
        })?;
    }
    let cert_hash = f.expect(der::OCTET_STRING)?.content.to_vec();
    let serial = match f.optional(der::SEQUENCE)? {
        Some(is) => {
            let mut ir = is.reader(W);
            ir.expect(der::SEQUENCE)?;
            Some(ir.expect(der::INTEGER)?.content.to_vec())
        }
        None => None,
    };
    f.finish()?;
    Ok((hash, cert_hash, serial))
}

fn parse_tst_info(bytes: &[u8]) -> Result<TstInfo, TspError> {
    const W: &str = "TSTInfo";
    let seq = der::single(bytes, der::SEQUENCE, W)?;
    let mut r = seq.reader(W);
    if der::small_uint(&r.expect(der::INTEGER)?, W)? != 1 {
        return Err(TspError::Unsupported("TSTInfo version".into()));
    }
    let policy = der::oid_text(r.expect(der::OID)?.content);
    let mi = r.expect(der::SEQUENCE)?;
    let mut m = mi.reader("message imprint");
    let (hash_oid, _) = cert::parse_algorithm(&m.expect(der::SEQUENCE)?)?;
    let hashed_message = m.expect(der::OCTET_STRING)?.content.to_vec();
    m.finish()?;
    let serial = der::uint(&r.expect(der::INTEGER)?, "TSTInfo serialNumber")?;
    let gen_time = cert::gen_time(&r.read()?)?;
    let mut accuracy = None;
    if let Some(acc) = r.optional(der::SEQUENCE)? {
        const A: &str = "TSTInfo accuracy";
        let mut a = acc.reader(A);
        let mut v = Accuracy::default();
        if let Some(s) = a.optional(der::INTEGER)? {
            v.seconds = der::small_uint(&s, A)?;
        }
        // millis [0] and micros [1] are IMPLICIT INTEGERs (1..999).
        for (tag, slot) in [(0x80u8, &mut v.millis), (0x81u8, &mut v.micros)] {
            if let Some(t) = a.optional(tag)? {
                let as_int = der::Tlv {
                    tag: der::INTEGER,
                    content: t.content,
                    raw: t.raw,
                };
                let n = der::small_uint(&as_int, A)?;
                if !(1..=999).contains(&n) {
                    return Err(malformed(A, "millis or micros outside 1..999"));
                }
                *slot = n as u16;
            }
        }
        a.finish()?;
        accuracy = Some(v);
    }
    let ordering = match r.optional(der::BOOLEAN)? {
        Some(b) => b.content == [0xff],
        None => false,
    };
    let nonce = match r.optional(der::INTEGER)? {
        Some(n) => Some(der::uint(&n, "TSTInfo nonce")?),
        None => None,
    };
    r.optional(0xa0)?; // tsa GeneralName
    r.optional(0xa1)?; // extensions
    r.finish()?;
    Ok(TstInfo {
        policy,
        hash: HashAlg::from_oid(&hash_oid),
        hash_oid: der::oid_text(&hash_oid),
        hashed_message,
        serial,
        gen_time,
        accuracy,
        ordering,
        nonce,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_is_der() {
        let r = request(b"hello", [0xff; 8]);
        assert_eq!(
            r.nonce,
            vec![0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        );
        let t = der::single(&r.der, der::SEQUENCE, "req").unwrap();
        assert_eq!(t.raw.len(), r.der.len());
    }

    #[test]
    fn stamped_bytes_is_the_body() {
        assert_eq!(
            stamped_bytes(b"o\n1\nr\n\n- sig\n"),
            Some(&b"o\n1\nr\n"[..])
        );
        assert_eq!(stamped_bytes(b"no blank line\n"), None);
    }

    #[test]
    fn times() {
        let t = GenTime {
            unix: 1_741_683_128,
            nanos: 120_000_000,
        };
        assert_eq!(t.to_string(), "2025-03-11T08:52:08.12Z");
        assert_eq!(cert::days_from_civil(1970, 1, 1), 0);
        let a = Accuracy {
            seconds: 0,
            millis: 500,
            micros: 0,
        };
        assert_eq!(a.to_string(), "±0.500 s");
    }
}
