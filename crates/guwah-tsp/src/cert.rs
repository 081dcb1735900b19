//! X.509 certificates: just what chain validation of a TSA needs.

use crate::der::{self, Reader, Tlv, malformed};
use crate::{GenTime, TspError};

pub(crate) const OID_EKU: &[u8] = &[0x55, 0x1d, 0x25];
pub(crate) const OID_BASIC_CONSTRAINTS: &[u8] = &[0x55, 0x1d, 0x13];
pub(crate) const OID_KEY_USAGE: &[u8] = &[0x55, 0x1d, 0x0f];
const OID_SKI: &[u8] = &[0x55, 0x1d, 0x0e];
const OID_AKI: &[u8] = &[0x55, 0x1d, 0x23];
const OID_SAN: &[u8] = &[0x55, 0x1d, 0x11];
const OID_CERT_POLICIES: &[u8] = &[0x55, 0x1d, 0x20];
/// id-kp-timeStamping, 1.3.6.1.5.5.7.3.8.
pub(crate) const OID_KP_TIMESTAMPING: &[u8] = &[0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x03, 0x08];

/// A parsed certificate; slices borrow its DER.
#[derive(Debug, Clone)]
pub(crate) struct Cert {
    pub der: Vec<u8>,
    pub tbs_range: (usize, usize),
    pub sig_alg: (Vec<u8>, Option<Vec<u8>>),
    pub signature: Vec<u8>,
    pub serial: Vec<u8>,
    pub issuer: Vec<u8>,
    pub subject: Vec<u8>,
    pub not_before: i64,
    pub not_after: i64,
    pub spki: Vec<u8>,
    pub ski: Option<Vec<u8>>,
    pub ca: Option<bool>,
    pub key_cert_sign: Option<bool>,
    pub key_usage_sign: Option<bool>,
    /// (critical, purposes) of the extended key usage extension.
    pub eku: Option<(bool, Vec<Vec<u8>>)>,
    pub unknown_critical: Option<String>,
}

fn algorithm(t: &Tlv<'_>) -> Result<(Vec<u8>, Option<Vec<u8>>), TspError> {
    if t.tag != der::SEQUENCE {
        return Err(malformed("algorithm identifier", "not a SEQUENCE"));
    }
    let mut r = t.reader("algorithm identifier");
    let oid = r.expect(der::OID)?;
    let params = if r.is_empty() {
        None
    } else {
        let p = r.read()?;
        (p.tag != der::NULL).then(|| p.raw.to_vec())
    };
    r.finish()?;
    Ok((oid.content.to_vec(), params))
}

pub(crate) fn parse_algorithm(t: &Tlv<'_>) -> Result<(Vec<u8>, Option<Vec<u8>>), TspError> {
    algorithm(t)
}

/// Bit `n` (0 = most significant of the first byte) of a BIT STRING content.
fn bit(content: &[u8], n: usize) -> bool {
    content
        .get(1 + n / 8)
        .is_some_and(|b| b & (0x80 >> (n % 8)) != 0)
}

impl Cert {
    pub fn parse(der: &[u8]) -> Result<Cert, TspError> {
        const W: &str = "certificate";
        let outer = der::single(der, der::SEQUENCE, W)?;
        let mut r = outer.reader(W);
        let tbs = r.expect(der::SEQUENCE)?;
        let sig_alg = algorithm(&r.read()?)?;
        let sig = r.expect(der::BIT_STRING)?;
        r.finish()?;
        if sig.content.first() != Some(&0) {
            return Err(malformed(W, "signature BIT STRING has unused bits"));
        }
        let tbs_start = tbs.raw.as_ptr() as usize - der.as_ptr() as usize;
        let mut t = tbs.reader(W);
        t.optional(0xa0)?;
        let serial = t.expect(der::INTEGER)?;
        let _inner_alg = algorithm(&t.read()?)?;
        let issuer = t.expect(der::SEQUENCE)?;
        let validity = t.expect(der::SEQUENCE)?;
        let subject = t.expect(der::SEQUENCE)?;
        let spki = t.expect(der::SEQUENCE)?;
        t.optional(0x81)?;
        t.optional(0x82)?;
        let mut cert = Cert {
            der: der.to_vec(),
            tbs_range: (tbs_start, tbs_start + tbs.raw.len()),
            sig_alg,
            signature: sig.content[1..].to_vec(),
            serial: serial.content.to_vec(),
            issuer: issuer.raw.to_vec(),
            subject: subject.raw.to_vec(),
            not_before: 0,
            not_after: 0,
            spki: spki.raw.to_vec(),
            ski: None,
            ca: None,
            key_cert_sign: None,
            key_usage_sign: None,
            eku: None,
            unknown_critical: None,
        };
        let mut v = validity.reader("certificate validity");
        cert.not_before = cert_time(&v.read()?)?;
        cert.not_after = cert_time(&v.read()?)?;
        v.finish()?;
        if let Some(ext) = t.optional(0xa3)? {
            let seq = der::single(ext.content, der::SEQUENCE, "certificate extensions")?;
            let mut exts = seq.reader("certificate extensions");
            while !exts.is_empty() {
                let e = exts.expect(der::SEQUENCE)?;
                let mut er = e.reader("certificate extension");
                let oid = er.expect(der::OID)?;
                let critical = match er.optional(der::BOOLEAN)? {
                    Some(b) => b.content == [0xff],
                    None => false,
                };
                let value = er.expect(der::OCTET_STRING)?;
                er.finish()?;
                cert.extension(oid.content, critical, value.content)?;
            }
        }
        t.finish()?;
        Ok(cert)
    }

    fn extension(&mut self, oid: &[u8], critical: bool, value: &[u8]) -> Result<(), TspError> {
        match oid {
            OID_EKU => {
                let seq = der::single(value, der::SEQUENCE, "extended key usage")?;
                let mut r = seq.reader("extended key usage");
                let mut purposes = Vec::new();
                while !r.is_empty() {
                    purposes.push(r.expect(der::OID)?.content.to_vec());
                }
                self.eku = Some((critical, purposes));
            }
            OID_BASIC_CONSTRAINTS => {
                let seq = der::single(value, der::SEQUENCE, "basic constraints")?;
                let mut r = seq.reader("basic constraints");
                self.ca = Some(
                    r.optional(der::BOOLEAN)?
                        .is_some_and(|b| b.content == [0xff]),
                );
            }
            OID_KEY_USAGE => {
                let bits = der::single(value, der::BIT_STRING, "key usage")?;
                self.key_usage_sign = Some(bit(bits.content, 0) || bit(bits.content, 1));
                self.key_cert_sign = Some(bit(bits.content, 5));
            }
            OID_SKI => {
                let s = der::single(value, der::OCTET_STRING, "subject key identifier")?;
                self.ski = Some(s.content.to_vec());
            }
            OID_AKI | OID_SAN | OID_CERT_POLICIES => {}
            other if critical && self.unknown_critical.is_none() => {
                self.unknown_critical = Some(der::oid_text(other));
            }
            _ => {}
        }
        Ok(())
    }

    pub fn tbs(&self) -> &[u8] {
        &self.der[self.tbs_range.0..self.tbs_range.1]
    }

    /// The subject, for messages: `CN=..., O=...`.
    pub fn name(&self) -> String {
        name_text(&self.subject)
    }

    pub fn self_issued(&self) -> bool {
        self.issuer == self.subject
    }
}

/// A Name as `CN=x, O=y` (the attributes we know; others by OID).
pub(crate) fn name_text(raw: &[u8]) -> String {
    let mut parts = Vec::new();
    let Ok(seq) = der::single(raw, der::SEQUENCE, "name") else {
        return "(unparsable name)".into();
    };
    let mut rdns = seq.reader("name");
    while let Ok(rdn) = rdns.read() {
        let mut atvs = rdn.reader("name");
        while let Ok(atv) = atvs.read() {
            let mut a = atv.reader("name");
            let (Ok(oid), Ok(val)) = (a.read(), a.read()) else {
                continue;
            };
            let key = match oid.content {
                [0x55, 0x04, 0x03] => "CN".to_string(),
                [0x55, 0x04, 0x0a] => "O".to_string(),
                [0x55, 0x04, 0x0b] => "OU".to_string(),
                [0x55, 0x04, 0x06] => "C".to_string(),
                [0x55, 0x04, 0x07] => "L".to_string(),
                [0x55, 0x04, 0x08] => "ST".to_string(),
                other => der::oid_text(other),
            };
            let text: String = String::from_utf8_lossy(val.content)
                .chars()
                .map(|c| if c.is_control() { '?' } else { c })
                .take(128)
                .collect();
            parts.push(format!("{key}={text}"));
        }
    }
    // Most specific first, as people read certificate names.
    parts.reverse();
    if parts.is_empty() {
        "(empty name)".into()
    } else {
        parts.join(", ")
    }
}

fn digits(s: &[u8]) -> Option<i64> {
    if s.is_empty() || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0i64, |a, &b| a * 10 + (b - b'0') as i64))
}

/// Days since 1970-01-01 of a civil date (Howard Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// Seconds since the epoch of `YYYYMMDDHHMMSS` (already split off).
fn seconds(y: i64, s: &[u8]) -> Option<i64> {
    let mo = digits(&s[0..2])?;
    let d = digits(&s[2..4])?;
    let h = digits(&s[4..6])?;
    let mi = digits(&s[6..8])?;
    let se = digits(&s[8..10])?;
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    Some(days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se)
}

fn cert_time(t: &Tlv<'_>) -> Result<i64, TspError> {
    let c = t.content;
    let bad = || malformed("certificate validity", "bad time");
    match t.tag {
        der::UTC_TIME if c.len() == 13 && c[12] == b'Z' => {
            let yy = digits(&c[0..2]).ok_or_else(bad)?;
            let y = if yy < 50 { 2000 + yy } else { 1900 + yy };
            seconds(y, &c[2..12]).ok_or_else(bad)
        }
        der::GENERALIZED_TIME if c.len() == 15 && c[14] == b'Z' => {
            let y = digits(&c[0..4]).ok_or_else(bad)?;
            seconds(y, &c[4..14]).ok_or_else(bad)
        }
        _ => Err(bad()),
    }
}

/// A TSTInfo genTime: `YYYYMMDDHHMMSS[.f+]Z`.
pub(crate) fn gen_time(t: &Tlv<'_>) -> Result<GenTime, TspError> {
    let c = t.content;
    let bad = || {
        malformed(
            "TSTInfo genTime",
            "not a GeneralizedTime YYYYMMDDHHMMSS[.fff]Z",
        )
    };
    if t.tag != der::GENERALIZED_TIME || c.len() < 15 || c.last() != Some(&b'Z') {
        return Err(bad());
    }
    let y = digits(&c[0..4]).ok_or_else(bad)?;
    let unix = seconds(y, &c[4..14]).ok_or_else(bad)?;
    let frac = &c[14..c.len() - 1];
    let mut nanos = 0u32;
    if !frac.is_empty() {
        let f = frac.strip_prefix(b".").ok_or_else(bad)?;
        // DER: no trailing zeros, at least one digit.
        if f.is_empty() || f.len() > 9 || f.last() == Some(&b'0') {
            return Err(bad());
        }
        let v = digits(f).ok_or_else(bad)?;
        nanos = (v * 10i64.pow(9 - f.len() as u32)) as u32;
    }
    Ok(GenTime { unix, nanos })
}

/// `YYYY-MM-DDTHH:MM:SSZ` of seconds since the epoch.
pub(crate) fn format_time(unix: i64) -> String {
    let (y, m, d) = civil_from_days(unix.div_euclid(86400));
    let s = unix.rem_euclid(86400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        s / 3600,
        s / 60 % 60,
        s % 60
    )
}

/// Read the certificates of a SignedData `certificates` field (or any
/// concatenation of DER certificates).
pub(crate) fn parse_all(mut r: Reader<'_>) -> Result<Vec<Cert>, TspError> {
    let mut out = Vec::new();
    while !r.is_empty() {
        let t = r.read()?;
        if t.tag == der::SEQUENCE {
            out.push(Cert::parse(t.raw)?);
        } // other CertificateChoices (attribute certs …) are ignored
    }
    Ok(out)
}
