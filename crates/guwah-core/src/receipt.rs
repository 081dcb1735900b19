//! C2SP transparency log proofs (<https://c2sp.org/tlog-proof>): an
//! offline-verifiable receipt that one entry is in a log.
//!
//! ```text
//! c2sp.org/tlog-proof@v1
//! extra YWdlLXYx...            optional, base64 opaque data (not authenticated)
//! index 73894
//! gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=      the inclusion proof, zero or more
//! B95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=      base64 SHA-256 hashes, leaf sibling first
//!
//! example.com/fancylog                              the checkpoint, verbatim: a signed
//! 109482                                            note, with the log's signature and
//! sFodV/vSp5O8n9a8QpW6PRY97tfOSW5bsc2Xl/EQi08=      any witness cosignatures
//!
//! — example.com/fancylog hI2DJw...
//! ```
//!
//! [`TlogProof::parse`] is strict: canonical base64 and decimal, LF line
//! endings, no unknown lines. It does not check signatures or the proof:
//! [`TlogProof::verify`] does, against a list of trusted keys.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::checkpoint::{Checkpoint, CheckpointError, open_checkpoint};
use crate::merkle::{self, Hash};
use crate::note::{self, NoteVerifier, Opened};

/// The first line of a version 1 proof.
pub const TLOG_PROOF_V1: &str = "c2sp.org/tlog-proof@v1";

/// The most inclusion-proof hashes a receipt may carry (a tree of 2^64
/// leaves needs 64).
pub const MAX_PROOF_HASHES: usize = 64;

/// The largest receipt [`TlogProof::parse`] reads: the checkpoint note's
/// limit plus room for the proof and extra data.
pub const MAX_RECEIPT_SIZE: usize = note::MAX_NOTE_SIZE + 64 * 1024;

/// Why a receipt was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ReceiptError {
    /// The bytes do not follow the tlog-proof grammar.
    #[error("tlog-proof line {line}: {why}")]
    Malformed {
        /// 1-based line number (0: the whole receipt).
        line: usize,
        /// What is wrong.
        why: String,
    },
    /// The embedded checkpoint is malformed or its signatures fail.
    #[error("tlog-proof checkpoint: {0}")]
    Checkpoint(#[from] CheckpointError),
    /// The inclusion proof does not verify.
    #[error(
        "inclusion proof of entry {index} does not verify against checkpoint size {size}: {why}"
    )]
    Inclusion {
        /// The entry's index.
        index: u64,
        /// The checkpoint's tree size.
        size: u64,
        /// Why.
        why: merkle::VerifyError,
    },
}

fn malformed(line: usize, why: impl Into<String>) -> ReceiptError {
    ReceiptError::Malformed {
        line,
        why: why.into(),
    }
}

/// A parsed `c2sp.org/tlog-proof@v1` receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlogProof {
    /// Optional opaque extra data (decoded), not authenticated.
    pub extra: Option<Vec<u8>>,
    /// Zero-based index of the entry in the log.
    pub index: u64,
    /// The RFC 6962 inclusion proof, from the leaf's sibling up.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: Vec<u8>,
}

impl TlogProof {
    /// Encode as the spec's text. Round-trips with [`TlogProof::parse`].
    pub fn encode(&self) -> Vec<u8> {
        let mut s = format!("{TLOG_PROOF_V1}\n");
        if let Some(extra) = &self.extra {
            s.push_str(&format!("extra {}\n", B64.encode(extra)));
        }
        s.push_str(&format!("index {}\n", self.index));
        for h in &self.proof {
            s.push_str(&B64.encode(h));
            s.push('\n');
        }
        s.push('\n');
        let mut out = s.into_bytes();
        out.extend_from_slice(&self.checkpoint);
        out
    }

    /// Parse a receipt strictly. The checkpoint is only checked to be a
    /// well-formed signed note with a checkpoint body; signatures and the
    /// proof are checked by [`TlogProof::verify`].
    pub fn parse(bytes: &[u8]) -> Result<TlogProof, ReceiptError> {
        if bytes.len() > MAX_RECEIPT_SIZE {
            return Err(malformed(
                0,
                format!("{} bytes, at most {MAX_RECEIPT_SIZE}", bytes.len()),
            ));
        }
        let mut rest = bytes;
        let mut line_no = 0usize;
        let mut next_line = |rest: &mut &[u8]| -> Result<(usize, String), ReceiptError> {
            line_no += 1;
            let Some(end) = rest.iter().position(|&b| b == b'\n') else {
                return Err(malformed(line_no, "ends without a newline"));
            };
            let line = std::str::from_utf8(&rest[..end])
                .map_err(|_| malformed(line_no, "not UTF-8"))?
                .to_owned();
            *rest = &rest[end + 1..];
            Ok((line_no, line))
        };
        let (n, first) = next_line(&mut rest)?;
        if first != TLOG_PROOF_V1 {
            return Err(malformed(
                n,
                format!("expected {TLOG_PROOF_V1:?}, found {:?}", clip(&first)),
            ));
        }
        let (mut n, mut line) = next_line(&mut rest)?;
        let mut extra = None;
        if let Some(e) = line.strip_prefix("extra ") {
            let data = B64
                .decode(e)
                .map_err(|_| malformed(n, "extra data is not standard base64"))?;
            if B64.encode(&data) != e {
                return Err(malformed(n, "extra data is not canonical base64"));
            }
            extra = Some(data);
            (n, line) = next_line(&mut rest)?;
        }
        let index = line
            .strip_prefix("index ")
            .ok_or_else(|| {
                malformed(
                    n,
                    format!("expected \"index <decimal>\", found {:?}", clip(&line)),
                )
            })
            .and_then(|v| {
                v.parse::<u64>()
                    .ok()
                    .filter(|i| i.to_string() == v)
                    .ok_or_else(|| {
                        malformed(n, format!("index {:?} is not a canonical decimal", clip(v)))
                    })
            })?;
        let mut proof = Vec::new();
        loop {
            let (n, line) = next_line(&mut rest)?;
            if line.is_empty() {
                break;
            }
            if proof.len() >= MAX_PROOF_HASHES {
                return Err(malformed(
                    n,
                    format!("more than {MAX_PROOF_HASHES} proof hashes"),
                ));
            }
            let h = B64
                .decode(&line)
                .ok()
                .and_then(|b| <Hash>::try_from(b).ok())
                .ok_or_else(|| {
                    malformed(n, format!("{:?} is not a base64 SHA-256 hash", clip(&line)))
                })?;
            proof.push(h);
        }
        let checkpoint = rest.to_vec();
        let parsed = note::Note::parse(&checkpoint).map_err(CheckpointError::from)?;
        Checkpoint::parse(&parsed.text)?;
        Ok(TlogProof {
            extra,
            index,
            proof,
            checkpoint,
        })
    }

    /// Check the checkpoint (signed by a key in `verifiers` named after
    /// `origin`; see [`open_checkpoint`]) and that `leaf` is entry
    /// [`TlogProof::index`] of the tree it commits to.
    pub fn verify(
        &self,
        leaf: &[u8],
        verifiers: &[&dyn NoteVerifier],
        origin: &str,
    ) -> Result<(Checkpoint, Opened), ReceiptError> {
        let (cp, opened) = open_checkpoint(&self.checkpoint, verifiers, origin)?;
        self.verify_inclusion(leaf, &cp)?;
        Ok((cp, opened))
    }

    /// Check only the inclusion proof of `leaf` against an already opened
    /// checkpoint.
    pub fn verify_inclusion(
        &self,
        leaf: &[u8],
        checkpoint: &Checkpoint,
    ) -> Result<(), ReceiptError> {
        merkle::verify_inclusion(
            self.index,
            checkpoint.size,
            &merkle::leaf_hash(leaf),
            &self.proof,
            &checkpoint.root,
        )
        .map_err(|why| ReceiptError::Inclusion {
            index: self.index,
            size: checkpoint.size,
            why,
        })
    }
}

/// At most 80 characters of untrusted text, for messages.
fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::sign_checkpoint;
    use crate::note::Signer;

    fn setup() -> (Vec<Vec<u8>>, Signer, TlogProof) {
        let leaves: Vec<Vec<u8>> = (0..7u8).map(|i| vec![i; 3]).collect();
        let hashes: Vec<Hash> = leaves.iter().map(|l| merkle::leaf_hash(l)).collect();
        let signer = Signer::generate("example.org/log", [5; 32]).unwrap();
        let cp = Checkpoint {
            origin: "example.org/log".into(),
            size: 7,
            root: merkle::root_from_leaf_hashes(&hashes),
            extensions: vec![],
        };
        let note = sign_checkpoint(&cp, &signer).unwrap();
        let mut src = merkle::LeafHashes(&hashes);
        let proof = merkle::inclusion_proof(3, 7, &mut src).unwrap();
        let r = TlogProof {
            extra: None,
            index: 3,
            proof,
            checkpoint: note.into_bytes(),
        };
        (leaves, signer, r)
    }

    #[test]
    fn round_trips_and_verifies() {
        let (leaves, signer, r) = setup();
        let bytes = r.encode();
        assert!(bytes.starts_with(b"c2sp.org/tlog-proof@v1\nindex 3\n"));
        let back = TlogProof::parse(&bytes).unwrap();
        assert_eq!(back, r);
        let v = signer.verifier();
        back.verify(&leaves[3], &[&v], "example.org/log").unwrap();
        assert!(back.verify(&leaves[2], &[&v], "example.org/log").is_err());
        let with_extra = TlogProof {
            extra: Some(b"hello".to_vec()),
            ..r
        };
        let bytes = with_extra.encode();
        assert!(bytes.starts_with(b"c2sp.org/tlog-proof@v1\nextra aGVsbG8=\nindex 3\n"));
        assert_eq!(TlogProof::parse(&bytes).unwrap(), with_extra);
    }

    #[test]
    fn every_flipped_byte_fails() {
        let (leaves, signer, r) = setup();
        let v = signer.verifier();
        let bytes = r.encode();
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x01;
            let ok = TlogProof::parse(&b)
                .and_then(|p| p.verify(&leaves[3], &[&v], "example.org/log").map(|_| p));
            // A flip may only be accepted if it parses to the same receipt
            // (impossible with canonical encodings).
            assert!(ok.is_err(), "flip at byte {i} went unnoticed");
        }
    }

    #[test]
    fn rejects_malformed() {
        let (_, _, r) = setup();
        let good = String::from_utf8(r.encode()).unwrap();
        let cases = [
            String::new(),
            good.replace("tlog-proof@v1", "tlog-proof@v2"),
            good.replace("index 3", "index 03"),
            good.replace("index 3", "index"),
            good.replace("index 3\n", "index 3\nextra AAAA\n"),
            good.replacen("\n\n", "\n", 1),
            good.replace('\n', "\r\n"),
            "c2sp.org/tlog-proof@v1\nindex 3\n".into(),
        ];
        for c in cases {
            assert!(TlogProof::parse(c.as_bytes()).is_err(), "accepted {c:?}");
        }
    }
}
