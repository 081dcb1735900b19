//! A small strict DER reader (definite lengths, single-byte tags) and the
//! few encoders a TimeStampReq needs. Every read is bounds-checked; nothing
//! recurses without a depth limit because nothing recurses at all.

use crate::TspError;

/// One TLV: its tag byte, its content and the whole encoding.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Tlv<'a> {
    pub tag: u8,
    pub content: &'a [u8],
    pub raw: &'a [u8],
}

pub(crate) const SEQUENCE: u8 = 0x30;
pub(crate) const SET: u8 = 0x31;
pub(crate) const INTEGER: u8 = 0x02;
pub(crate) const BIT_STRING: u8 = 0x03;
pub(crate) const OCTET_STRING: u8 = 0x04;
pub(crate) const NULL: u8 = 0x05;
pub(crate) const OID: u8 = 0x06;
pub(crate) const BOOLEAN: u8 = 0x01;
pub(crate) const UTC_TIME: u8 = 0x17;
pub(crate) const GENERALIZED_TIME: u8 = 0x18;

/// Reads TLVs one after another from a byte slice.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reader<'a> {
    data: &'a [u8],
    what: &'static str,
}

pub(crate) fn malformed(what: &'static str, why: impl Into<String>) -> TspError {
    TspError::Malformed {
        what,
        why: why.into(),
    }
}

impl<'a> Reader<'a> {
    pub fn new(data: &'a [u8], what: &'static str) -> Self {
        Reader { data, what }
    }

    pub fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    pub fn peek_tag(&self) -> Option<u8> {
        self.data.first().copied()
    }

    pub fn read(&mut self) -> Result<Tlv<'a>, TspError> {
        let d = self.data;
        if d.len() < 2 {
            return Err(malformed(self.what, "truncated"));
        }
        let tag = d[0];
        if tag & 0x1f == 0x1f {
            return Err(malformed(self.what, "multi-byte tags are not supported"));
        }
        let (len, hdr) = match d[1] {
            n if n < 0x80 => (n as usize, 2),
            0x80 => return Err(malformed(self.what, "indefinite length (BER) is not DER")),
            n => {
                let k = (n & 0x7f) as usize;
                if k > 4 || d.len() < 2 + k {
                    return Err(malformed(self.what, "bad length"));
                }
                let mut len = 0usize;
                for &b in &d[2..2 + k] {
                    len = (len << 8) | b as usize;
                }
                if len < 0x80 || (k > 1 && d[2] == 0) {
                    return Err(malformed(self.what, "non-minimal length"));
                }
                (len, 2 + k)
            }
        };
        let end = hdr
            .checked_add(len)
            .filter(|&e| e <= d.len())
            .ok_or_else(|| malformed(self.what, "truncated"))?;
        self.data = &d[end..];
        Ok(Tlv {
            tag,
            content: &d[hdr..end],
            raw: &d[..end],
        })
    }

    pub fn expect(&mut self, tag: u8) -> Result<Tlv<'a>, TspError> {
        let t = self.read()?;
        if t.tag != tag {
            return Err(malformed(
                self.what,
                format!("expected tag 0x{tag:02x}, found 0x{:02x}", t.tag),
            ));
        }
        Ok(t)
    }

    pub fn optional(&mut self, tag: u8) -> Result<Option<Tlv<'a>>, TspError> {
        if self.peek_tag() == Some(tag) {
            self.read().map(Some)
        } else {
            Ok(None)
        }
    }

    pub fn finish(&self) -> Result<(), TspError> {
        if self.data.is_empty() {
            Ok(())
        } else {
            Err(malformed(self.what, "trailing data"))
        }
    }
}

impl<'a> Tlv<'a> {
    /// A reader over this TLV's content.
    pub fn reader(&self, what: &'static str) -> Reader<'a> {
        Reader::new(self.content, what)
    }
}

/// Parse exactly one TLV of `tag` filling `data`.
pub(crate) fn single<'a>(data: &'a [u8], tag: u8, what: &'static str) -> Result<Tlv<'a>, TspError> {
    let mut r = Reader::new(data, what);
    let t = r.expect(tag)?;
    r.finish()?;
    Ok(t)
}

/// Dotted text of an OID's content bytes.
pub(crate) fn oid_text(content: &[u8]) -> String {
    let mut out = String::new();
    let mut v: u64 = 0;
    let mut first = true;
    for &b in content {
        if v > (u64::MAX >> 8) {
            return "(oversized oid)".into();
        }
        v = (v << 7) | (b & 0x7f) as u64;
        if b & 0x80 == 0 {
            if first {
                let (a, b) = if v < 40 {
                    (0, v)
                } else if v < 80 {
                    (1, v - 40)
                } else {
                    (2, v - 80)
                };
                out.push_str(&format!("{a}.{b}"));
                first = false;
            } else {
                out.push_str(&format!(".{v}"));
            }
            v = 0;
        }
    }
    out
}

/// A non-negative INTEGER's magnitude, without leading zero bytes.
pub(crate) fn uint(t: &Tlv<'_>, what: &'static str) -> Result<Vec<u8>, TspError> {
    if t.tag != INTEGER || t.content.is_empty() {
        return Err(malformed(what, "expected an INTEGER"));
    }
    if t.content[0] & 0x80 != 0 {
        return Err(malformed(what, "negative INTEGER"));
    }
    let start = t
        .content
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(t.content.len());
    Ok(t.content[start..].to_vec())
}

/// A small non-negative INTEGER.
pub(crate) fn small_uint(t: &Tlv<'_>, what: &'static str) -> Result<u64, TspError> {
    let m = uint(t, what)?;
    if m.len() > 8 {
        return Err(malformed(what, "INTEGER too large"));
    }
    Ok(m.iter().fold(0u64, |a, &b| (a << 8) | b as u64))
}

/// Encode a TLV.
pub(crate) fn encode(tag: u8, content: &[u8]) -> Vec<u8> {
    let mut out = vec![tag];
    let n = content.len();
    if n < 0x80 {
        out.push(n as u8);
    } else {
        let bytes = (n as u64).to_be_bytes();
        let skip = bytes.iter().position(|&b| b != 0).unwrap_or(7);
        out.push(0x80 | (8 - skip) as u8);
        out.extend_from_slice(&bytes[skip..]);
    }
    out.extend_from_slice(content);
    out
}

/// Encode a non-negative INTEGER from its big-endian magnitude.
pub(crate) fn encode_uint(magnitude: &[u8]) -> Vec<u8> {
    let start = magnitude
        .iter()
        .position(|&b| b != 0)
        .unwrap_or(magnitude.len());
    let m = &magnitude[start..];
    let mut c = Vec::with_capacity(m.len() + 1);
    if m.is_empty() || m[0] & 0x80 != 0 {
        c.push(0);
    }
    c.extend_from_slice(m);
    encode(INTEGER, &c)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oid_and_ints() {
        assert_eq!(
            oid_text(&[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x02]),
            "1.2.840.113549.1.7.2"
        );
        let e = encode_uint(&[0x80]);
        assert_eq!(e, vec![2, 2, 0, 0x80]);
        let t = single(&e, INTEGER, "x").unwrap();
        assert_eq!(small_uint(&t, "x").unwrap(), 128);
        assert!(single(&[0x30, 0x80, 0, 0], SEQUENCE, "x").is_err());
        assert!(single(&[0x30, 0x81, 0x05, 0, 0, 0, 0, 0], SEQUENCE, "x").is_err());
        let long = encode(OCTET_STRING, &[7u8; 300]);
        assert_eq!(single(&long, OCTET_STRING, "x").unwrap().content.len(), 300);
    }
}
