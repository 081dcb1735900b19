//! C2SP tlog-witness (<https://c2sp.org/tlog-witness>): the `add-checkpoint`
//! protocol, as pure logic.
//!
//! A log (the client) sends a witness
//!
//! ```text
//! old <size the witness last cosigned>
//! <zero to 63 base64 consistency proof hashes, one per line>
//!
//! <the signed checkpoint note>
//! ```
//!
//! and the witness answers with one or more tlog-cosignature v1 signature
//! lines, or refuses with an HTTP status:
//!
//! | status | when |
//! |--------|------|
//! | 400 | the body is malformed, or `old` is larger than the checkpoint size |
//! | 403 | no signature on the checkpoint verifies with a key trusted for its origin |
//! | 404 | the origin is not one the witness is configured for |
//! | 409 | `old` is not the size the witness last cosigned (body: that size and `\n`, `Content-Type: text/x.tlog.size`), or the size is the same but the root hash differs (a fork) |
//! | 422 | the consistency proof does not verify (or is not empty when `old` is 0): a fork or a rollback |
//!
//! [`add_checkpoint`] is the witness's state machine; it does no I/O: the
//! caller looks the origin up, loads the state, serialises requests for one
//! origin and persists the new state before answering. The client side
//! ([`verify_cosignatures`], [`add_signature_lines`], [`check_witnesses`],
//! which an evidence package's witness policy uses) is here too.

use core::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::checkpoint::Checkpoint;
use crate::merkle::{self, Hash};
use crate::note::{self, CosignatureSigner, CosignatureVerifier, Note, NoteVerifier};

/// The most consistency proof lines a request may carry (spec: 63).
pub const MAX_PROOF_LINES: usize = 63;

/// The largest request body accepted: a checkpoint note of at most
/// [`MAX_NOTE_SIZE`](note::MAX_NOTE_SIZE) bytes plus the old size and proof lines.
pub const MAX_REQUEST_SIZE: usize = note::MAX_NOTE_SIZE + 32 + MAX_PROOF_LINES * 45 + 1;

/// The largest response body a client reads: at most
/// [`MAX_SIGNATURES`](note::MAX_SIGNATURES) signature lines of a few hundred bytes.
pub const MAX_RESPONSE_SIZE: usize = 64 * 1024;

/// `Content-Type` of a 409 response body.
pub const SIZE_CONTENT_TYPE: &str = "text/x.tlog.size";

/// A parsed `add-checkpoint` request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddCheckpointRequest {
    /// The tree size the client believes the witness last cosigned.
    pub old_size: u64,
    /// The RFC 6962 consistency proof from `old_size` to the checkpoint.
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, verbatim (signatures not yet checked).
    pub note: Vec<u8>,
    /// The note's text (the checkpoint body).
    pub text: String,
    /// The parsed checkpoint body.
    pub checkpoint: Checkpoint,
}

/// Why a request body is malformed (answered with 400 Bad Request).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("add-checkpoint request: {0}")]
pub struct RequestError(pub String);

fn req_err(what: impl Into<String>) -> RequestError {
    RequestError(what.into())
}

impl AddCheckpointRequest {
    /// Parses a request body strictly: `old <decimal>` with no leading
    /// zero, at most 63 canonical base64 32-byte hashes, an empty line, then
    /// a signed note whose text is a valid checkpoint. At most
    /// [`MAX_REQUEST_SIZE`] bytes.
    pub fn parse(body: &[u8]) -> Result<Self, RequestError> {
        if body.len() > MAX_REQUEST_SIZE {
            return Err(req_err(format!(
                "{} bytes, more than the limit of {MAX_REQUEST_SIZE}",
                body.len()
            )));
        }
        let mut rest = body;
        let mut next_line = |n: usize| -> Result<&[u8], RequestError> {
            let end = rest
                .iter()
                .position(|&b| b == b'\n')
                .ok_or_else(|| req_err(format!("line {n}: does not end with a newline")))?;
            let line = &rest[..end];
            rest = &rest[end + 1..];
            Ok(line)
        };
        let first = next_line(1)?;
        let size = first
            .strip_prefix(b"old ")
            .ok_or_else(|| req_err("line 1: expected \"old <size>\""))?;
        let old_size = parse_decimal(size).ok_or_else(|| {
            req_err("line 1: the old size is not a decimal number without leading zeroes")
        })?;
        let mut proof = Vec::new();
        let mut n = 2;
        loop {
            let line = next_line(n)?;
            if line.is_empty() {
                break;
            }
            if proof.len() == MAX_PROOF_LINES {
                return Err(req_err(format!(
                    "more than {MAX_PROOF_LINES} consistency proof lines"
                )));
            }
            proof.push(
                parse_hash(line)
                    .ok_or_else(|| req_err(format!("line {n}: not a base64 32-byte hash")))?,
            );
            n += 1;
        }
        let note_bytes = rest;
        let parsed = Note::parse(note_bytes).map_err(|e| req_err(format!("checkpoint: {e}")))?;
        let checkpoint =
            Checkpoint::parse(&parsed.text).map_err(|e| req_err(format!("checkpoint: {e}")))?;
        Ok(Self {
            old_size,
            proof,
            note: note_bytes.to_vec(),
            text: parsed.text,
            checkpoint,
        })
    }

    /// Encodes a request body from its parts.
    pub fn encode(old_size: u64, proof: &[Hash], note: &[u8]) -> Vec<u8> {
        let mut out = Vec::with_capacity(32 + proof.len() * 45 + note.len());
        out.extend_from_slice(format!("old {old_size}\n").as_bytes());
        for h in proof {
            out.extend_from_slice(B64.encode(h).as_bytes());
            out.push(b'\n');
        }
        out.push(b'\n');
        out.extend_from_slice(note);
        out
    }
}

/// A decimal with no leading zeroes (unless it is `0`), fitting in a u64.
fn parse_decimal(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 20 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if s.len() > 1 && s[0] == b'0' {
        return None;
    }
    core::str::from_utf8(s).ok()?.parse().ok()
}

/// A canonical base64 32-byte hash.
fn parse_hash(s: &[u8]) -> Option<Hash> {
    if s.len() != 44 {
        return None;
    }
    B64.decode(s).ok()?.try_into().ok()
}

/// Parses a 409 response body: the decimal size and a newline.
pub fn parse_size_body(body: &[u8]) -> Option<u64> {
    parse_decimal(body.strip_suffix(b"\n")?)
}

/// The latest checkpoint a witness cosigned for one origin: its state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessedHead {
    /// The checkpoint body (origin, size, root hash).
    pub checkpoint: Checkpoint,
    /// The signed note as submitted, verbatim.
    pub note: Vec<u8>,
}

impl WitnessedHead {
    /// Parses a stored state: a signed checkpoint note (signatures are not
    /// checked again: the witness checked them when it accepted it).
    pub fn from_note(note_bytes: &[u8]) -> Result<Self, RequestError> {
        let parsed = Note::parse(note_bytes).map_err(|e| req_err(format!("state: {e}")))?;
        let checkpoint =
            Checkpoint::parse(&parsed.text).map_err(|e| req_err(format!("state: {e}")))?;
        Ok(Self {
            checkpoint,
            note: note_bytes.to_vec(),
        })
    }
}

/// A witness's refusal: the HTTP status and a one-line plain-text body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessRefusal {
    /// HTTP status code (400, 403, 404, 409 or 422).
    pub status: u16,
    /// Response body. For a 409 about the old size, exactly `<size>\n`.
    pub body: String,
    /// Response `Content-Type`.
    pub content_type: &'static str,
}

impl WitnessRefusal {
    fn text(status: u16, body: impl Into<String>) -> Self {
        let mut body = body.into();
        body.push('\n');
        Self {
            status,
            body,
            content_type: "text/plain; charset=utf-8",
        }
    }

    /// 400 Bad Request, for a malformed body.
    pub fn bad_request(e: &RequestError) -> Self {
        Self::text(400, e.to_string())
    }

    /// 409 Conflict with the size the witness last cosigned.
    pub fn size_conflict(size: u64) -> Self {
        Self {
            status: 409,
            body: format!("{size}\n"),
            content_type: SIZE_CONTENT_TYPE,
        }
    }
}

impl fmt::Display for WitnessRefusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, self.body.trim_end())
    }
}

/// The witness's decision on one request, given the state for the
/// checkpoint's origin (`None`: never cosigned one), the log keys trusted
/// for that origin (empty: unknown origin), its cosigner and the time.
///
/// Checks, in the spec's order: the origin is known (404); a signature by a
/// trusted key verifies, signatures by unknown keys being ignored (403);
/// `old` ≤ the checkpoint size (400); `old` is the size last cosigned (409
/// with that size); an empty proof when `old` is 0, else a consistency proof
/// that verifies from the stored root (422); at equal sizes, the same root
/// (409). On success returns the new state and the cosignature line; the
/// caller must persist the state before answering, atomically with the
/// check (hold a lock for the origin across both).
///
/// It is [`check_request`], then [`next_state`], then the cosignature: a
/// witness that commits many requests at once runs the first on many
/// threads and only the second under its lock.
pub fn add_checkpoint(
    state: Option<&WitnessedHead>,
    req: &AddCheckpointRequest,
    log_keys: &[&dyn NoteVerifier],
    cosigner: &CosignatureSigner,
    now: u64,
) -> Result<(WitnessedHead, String), WitnessRefusal> {
    check_request(req, log_keys)?;
    let new = next_state(state, req)?;
    let line = cosign(req, cosigner, now)?;
    Ok((new, line))
}

/// The checks that need no state, in the spec's order: the origin is known
/// (404), a signature by a trusted key verifies (403), `old` ≤ the
/// checkpoint size (400).
pub fn check_request(
    req: &AddCheckpointRequest,
    log_keys: &[&dyn NoteVerifier],
) -> Result<(), WitnessRefusal> {
    let cp = &req.checkpoint;
    if log_keys.is_empty() {
        return Err(WitnessRefusal::text(
            404,
            format!("unknown log origin {:?}", clip(&cp.origin)),
        ));
    }
    if let Err(e) = note::open(&req.note, log_keys) {
        return Err(WitnessRefusal::text(
            403,
            format!(
                "no valid signature by a trusted key of {:?}: {e}",
                clip(&cp.origin)
            ),
        ));
    }
    if req.old_size > cp.size {
        return Err(WitnessRefusal::text(
            400,
            format!(
                "old size {} is larger than the checkpoint size {}",
                req.old_size, cp.size
            ),
        ));
    }
    Ok(())
}

/// The checks against the state, for a request that passed
/// [`check_request`]: `old` is the size last cosigned (409 with that size),
/// the proof (422), the same root at equal sizes (409). Returns the state
/// to persist (equal to `state` when the checkpoint is the one cosigned).
pub fn next_state(
    state: Option<&WitnessedHead>,
    req: &AddCheckpointRequest,
) -> Result<WitnessedHead, WitnessRefusal> {
    let cp = &req.checkpoint;
    if let Some(s) = state
        && s.checkpoint.origin != cp.origin
    {
        return Err(WitnessRefusal::text(500, "state is for another origin"));
    }
    let latest = state.map_or(0, |s| s.checkpoint.size);
    if req.old_size != latest {
        return Err(WitnessRefusal::size_conflict(latest));
    }
    match state {
        None => {
            if !req.proof.is_empty() {
                return Err(WitnessRefusal::text(
                    422,
                    "the consistency proof must be empty when the old size is 0",
                ));
            }
        }
        Some(s) if s.checkpoint.size == cp.size => {
            if !req.proof.is_empty() {
                return Err(WitnessRefusal::text(
                    422,
                    "the consistency proof must be empty between equal sizes",
                ));
            }
            if s.checkpoint.root != cp.root {
                return Err(WitnessRefusal::text(
                    409,
                    format!(
                        "conflict: a checkpoint of size {} with a different root hash ({}) was already cosigned; the log has forked",
                        cp.size,
                        B64.encode(s.checkpoint.root)
                    ),
                ));
            }
            // The checkpoint already cosigned: the state stays as stored.
            return Ok(s.clone());
        }
        Some(s) => {
            if s.checkpoint.size == 0 {
                // From the empty tree any tree is consistent; the proof must be empty.
                if !req.proof.is_empty() {
                    return Err(WitnessRefusal::text(
                        422,
                        "the consistency proof must be empty when the old size is 0",
                    ));
                }
            } else if let Err(e) = merkle::verify_consistency(
                s.checkpoint.size,
                cp.size,
                &req.proof,
                &s.checkpoint.root,
                &cp.root,
            ) {
                return Err(WitnessRefusal::text(
                    422,
                    format!(
                        "not consistent with the cosigned checkpoint of size {}: {e}",
                        s.checkpoint.size
                    ),
                ));
            }
        }
    }
    Ok(WitnessedHead {
        checkpoint: cp.clone(),
        note: req.note.clone(),
    })
}

/// The witness's cosignature line on the request's checkpoint at `now`.
pub fn cosign(
    req: &AddCheckpointRequest,
    cosigner: &CosignatureSigner,
    now: u64,
) -> Result<String, WitnessRefusal> {
    cosigner
        .signature_line(&req.text, now)
        .map_err(|e| WitnessRefusal::text(500, format!("cosigning: {e}")))
}

fn clip(s: &str) -> &str {
    match s.char_indices().nth(100) {
        Some((i, _)) => &s[..i],
        None => s,
    }
}

/// Why a witness's response is not acceptable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("witness response: {0}")]
pub struct ResponseError(pub String);

/// Checks a witness's 200 response to a request for checkpoint `note_text`
/// (the body): one or more signature lines, of which those by `witness`
/// (matching name and key ID) must all verify, and at least one must exist.
/// Returns those lines, each ending in a newline. Lines by other keys are
/// ignored, as the spec requires.
pub fn verify_cosignatures(
    note_text: &str,
    response: &[u8],
    witness: &CosignatureVerifier,
) -> Result<Vec<String>, ResponseError> {
    if response.len() > MAX_RESPONSE_SIZE {
        return Err(ResponseError(format!(
            "{} bytes, more than the limit of {MAX_RESPONSE_SIZE}",
            response.len()
        )));
    }
    if response.is_empty() {
        return Err(ResponseError("empty: no signature lines".into()));
    }
    let mut msg = Vec::with_capacity(note_text.len() + 1 + response.len());
    msg.extend_from_slice(note_text.as_bytes());
    msg.push(b'\n');
    msg.extend_from_slice(response);
    let parsed = Note::parse(&msg).map_err(|e| ResponseError(e.to_string()))?;
    if parsed.text != note_text {
        return Err(ResponseError("not a sequence of signature lines".into()));
    }
    let mut lines = Vec::new();
    for sig in parsed.signatures {
        if sig.name != witness.name() || sig.key_id != witness.key_id() {
            continue;
        }
        if !witness.verify(note_text.as_bytes(), &sig.signature) {
            return Err(ResponseError(format!(
                "the cosignature by {:?} does not verify over this checkpoint",
                witness.name()
            )));
        }
        lines.push(sig.to_line());
    }
    if lines.is_empty() {
        return Err(ResponseError(format!(
            "no cosignature by the witness key {:?} (key ID {:08x})",
            witness.name(),
            witness.key_id()
        )));
    }
    Ok(lines)
}

/// Adds signature lines to a signed note, replacing any earlier line by the
/// same key (name and key ID): a witness's newer cosignature replaces its
/// older one. The note text and the other lines are kept verbatim.
pub fn add_signature_lines(note_bytes: &[u8], lines: &[String]) -> Result<Vec<u8>, ResponseError> {
    let mut parsed = Note::parse(note_bytes).map_err(|e| ResponseError(e.to_string()))?;
    for line in lines {
        let one = Note::parse(format!("{}\n{line}", parsed.text))
            .map_err(|e| ResponseError(e.to_string()))?;
        for sig in one.signatures {
            parsed
                .signatures
                .retain(|s| !(s.name == sig.name && s.key_id == sig.key_id));
            parsed.signatures.push(sig);
        }
    }
    if parsed.signatures.len() > note::MAX_SIGNATURES {
        return Err(ResponseError(format!(
            "more than {} signatures",
            note::MAX_SIGNATURES
        )));
    }
    let mut out = parsed.text.into_bytes();
    out.push(b'\n');
    for s in &parsed.signatures {
        out.extend_from_slice(s.to_line().as_bytes());
    }
    Ok(out)
}

/// What [`check_witnesses`] found on a checkpoint note.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WitnessCheck {
    /// Names of the witnesses whose cosignature verifies, with its timestamp.
    pub valid: Vec<(String, u64)>,
    /// Witnesses with a cosignature line (matching name and key ID) that
    /// does not verify over this checkpoint: a forged cosignature, or one
    /// over another tree of the same size (a fork).
    pub invalid: Vec<String>,
    /// Witnesses with no cosignature at all.
    pub missing: Vec<String>,
}

impl WitnessCheck {
    /// Failures for a policy of `min` valid cosignatures, as one-line messages.
    pub fn problems(&self, min: usize) -> Vec<String> {
        let mut out = Vec::new();
        for w in &self.invalid {
            out.push(format!(
                "the cosignature by witness {w:?} does not verify over this checkpoint: forged, or made over a different tree of the same size (a forked log)"
            ));
        }
        if self.valid.len() < min {
            out.push(format!(
                "{} valid witness cosignature(s), {min} required{}",
                self.valid.len(),
                if self.missing.is_empty() {
                    String::new()
                } else {
                    format!(" (none by {})", self.missing.join(", "))
                }
            ));
        }
        out
    }
}

/// Checks the cosignatures on a checkpoint note against witness keys. Each
/// witness counts once; a duplicate line counts once if any copy verifies
/// and is invalid if none does. Never fails: a malformed note has no valid
/// cosignature.
pub fn check_witnesses(note_bytes: &[u8], witnesses: &[CosignatureVerifier]) -> WitnessCheck {
    let mut out = WitnessCheck::default();
    let parsed = Note::parse(note_bytes).ok();
    for w in witnesses {
        let sigs: Vec<&note::Signature> = parsed
            .iter()
            .flat_map(|n| n.signatures.iter())
            .filter(|s| s.name == w.name() && s.key_id == w.key_id())
            .collect();
        if sigs.is_empty() {
            out.missing.push(w.name().to_owned());
            continue;
        }
        let text = parsed.as_ref().map_or("", |n| n.text.as_str());
        match sigs
            .iter()
            .find(|s| w.verify(text.as_bytes(), &s.signature))
        {
            Some(s) => out
                .valid
                .push((w.name().to_owned(), w.timestamp(&s.signature).unwrap_or(0))),
            None => out.invalid.push(w.name().to_owned()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::sign_checkpoint;
    use crate::note::Signer;

    const ORIGIN: &str = "example.org/log";

    fn log() -> Signer {
        Signer::generate(ORIGIN, [1; 32]).unwrap()
    }

    fn witness() -> CosignatureSigner {
        CosignatureSigner::generate("witness.example.org", [2; 32]).unwrap()
    }

    fn leaves(n: usize, tag: u8) -> Vec<Hash> {
        (0..n).map(|i| merkle::leaf_hash(&[tag, i as u8])).collect()
    }

    fn note_for(l: &[Hash], signer: &Signer) -> Vec<u8> {
        let cp = Checkpoint {
            origin: ORIGIN.into(),
            size: l.len() as u64,
            root: merkle::root_from_leaf_hashes(l),
            extensions: vec![],
        };
        sign_checkpoint(&cp, signer).unwrap().into_bytes()
    }

    fn request(old: usize, l: &[Hash], signer: &Signer) -> AddCheckpointRequest {
        let mut src = merkle::LeafHashes(l);
        let proof = merkle::consistency_proof(old as u64, l.len() as u64, &mut src).unwrap();
        let body = AddCheckpointRequest::encode(old as u64, &proof, &note_for(l, signer));
        AddCheckpointRequest::parse(&body).unwrap()
    }

    fn run(
        state: Option<&WitnessedHead>,
        req: &AddCheckpointRequest,
    ) -> Result<(WitnessedHead, String), WitnessRefusal> {
        let key = log().verifier();
        add_checkpoint(state, req, &[&key], &witness(), 1_700_000_000)
    }

    #[test]
    fn grows_and_cosigns() {
        let l = leaves(20, 0);
        let req = request(0, &l[..5], &log());
        let (s1, line) = run(None, &req).unwrap();
        let lines = verify_cosignatures(&req.text, line.as_bytes(), &witness().verifier()).unwrap();
        assert_eq!(lines, vec![line.clone()]);
        let (s2, _) = run(Some(&s1), &request(5, &l[..17], &log())).unwrap();
        assert_eq!(s2.checkpoint.size, 17);
        // Same checkpoint again: fine.
        let (s3, _) = run(Some(&s2), &request(17, &l[..17], &log())).unwrap();
        assert_eq!(s3, s2);
        // The note with the cosignature appended opens and checks.
        let with = add_signature_lines(&s1.note, &[line]).unwrap();
        let c = check_witnesses(&with, &[witness().verifier()]);
        assert_eq!(c.valid.len(), 1);
        assert!(c.problems(1).is_empty());
        assert_eq!(c.problems(2).len(), 1);
    }

    #[test]
    fn refusals_carry_the_spec_status() {
        let l = leaves(20, 0);
        let (s, _) = run(None, &request(0, &l[..8], &log())).unwrap();
        // Wrong old size: 409 with the current size.
        let r = run(Some(&s), &request(3, &l[..10], &log())).unwrap_err();
        assert_eq!((r.status, r.body.as_str()), (409, "8\n"));
        assert_eq!(r.content_type, SIZE_CONTENT_TYPE);
        assert_eq!(parse_size_body(r.body.as_bytes()), Some(8));
        // Rollback: old (8) > size (5): 400.
        let mut req = request(0, &l[..5], &log());
        req.old_size = 8;
        assert_eq!(run(Some(&s), &req).unwrap_err().status, 400);
        // Unknown origin: 404.
        let req = request(8, &l[..10], &log());
        assert_eq!(
            add_checkpoint(Some(&s), &req, &[], &witness(), 1)
                .unwrap_err()
                .status,
            404
        );
        // Signed by another key: 403.
        let other = Signer::generate(ORIGIN, [9; 32]).unwrap();
        assert_eq!(
            run(Some(&s), &request(8, &l[..10], &other))
                .unwrap_err()
                .status,
            403
        );
        // Fork at the same size: 409.
        let fork = leaves(8, 1);
        let r = run(Some(&s), &request(8, &fork, &log())).unwrap_err();
        assert_eq!(r.status, 409);
        assert!(r.body.contains("forked"));
        // Fork at a larger size: the proof does not verify: 422.
        let mut forked = leaves(12, 1);
        forked[..8].copy_from_slice(&leaves(8, 2));
        let r = run(Some(&s), &request(8, &forked, &log())).unwrap_err();
        assert_eq!(r.status, 422, "{r}");
        // A bad proof from 0: 422.
        let mut req = request(0, &l[..3], &log());
        req.proof.push([0; 32]);
        assert_eq!(run(None, &req).unwrap_err().status, 422);
    }

    #[test]
    fn parse_is_strict() {
        let note = note_for(&leaves(3, 0), &log());
        let good = AddCheckpointRequest::encode(0, &[], &note);
        assert!(AddCheckpointRequest::parse(&good).is_ok());
        for bad in [
            b"old 01\n\n".to_vec(),
            b"old -1\n\n".to_vec(),
            b"old 1".to_vec(),
            b"new 1\n\n".to_vec(),
            b"old 99999999999999999999999\n\n".to_vec(),
            [b"old 0\nAAAA\n\n".as_slice(), &note].concat(),
            [b"old 0\n".as_slice(), &note].concat(),
            b"old 0\n\nnot a note\n".to_vec(),
        ] {
            assert!(AddCheckpointRequest::parse(&bad).is_err(), "{bad:?}");
        }
        let many = vec![[7u8; 32]; 64];
        assert!(
            AddCheckpointRequest::parse(&AddCheckpointRequest::encode(1, &many, &note)).is_err()
        );
        let ok = vec![[7u8; 32]; 63];
        assert!(AddCheckpointRequest::parse(&AddCheckpointRequest::encode(1, &ok, &note)).is_ok());
    }

    #[test]
    fn sunlight_cosignature_counts() {
        let base = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/fixtures/cosignature/witness");
        let cp = base
            .join("000de184301123b9278c086a7d9f68c9577e83872224c197058fd90784ea9706/checkpoint");
        let Ok(note) = std::fs::read(&cp) else {
            eprintln!("skipped: no fixture at {}", cp.display());
            return;
        };
        let w = CosignatureVerifier::from_vkey(
            "witness.example.org+b8a2cf20+BFLN3yikSfFkVAJtrnh/CiY3Zozkoy7clp+P7XB28qUN",
        )
        .unwrap();
        let c = check_witnesses(&note, &[w]);
        assert_eq!(c.valid.len(), 1, "{c:?}");
        assert!(c.problems(1).is_empty());
        // The same cosignature pasted onto another tree of that size fails.
        let forked = String::from_utf8(note).unwrap().replacen(
            "lCkHUpkmVBEms2r2T1K6Og69+wUuuN3MIEW1/ezu2v0=",
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            1,
        );
        let w = CosignatureVerifier::from_vkey(
            "witness.example.org+b8a2cf20+BFLN3yikSfFkVAJtrnh/CiY3Zozkoy7clp+P7XB28qUN",
        )
        .unwrap();
        let c = check_witnesses(forked.as_bytes(), &[w]);
        assert_eq!(c.invalid.len(), 1);
        assert!(c.problems(1)[0].contains("forked"));
    }

    #[test]
    fn hostile_responses_are_refused() {
        let text = "example.org/log\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
        let w = witness();
        let good = w.signature_line(text, 5).unwrap();
        assert!(verify_cosignatures(text, good.as_bytes(), &w.verifier()).is_ok());
        let other = w
            .signature_line(
                "example.org/log\n2\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
                5,
            )
            .unwrap();
        assert!(verify_cosignatures(text, other.as_bytes(), &w.verifier()).is_err());
        assert!(verify_cosignatures(text, b"", &w.verifier()).is_err());
        assert!(verify_cosignatures(text, b"hello\n", &w.verifier()).is_err());
        assert!(verify_cosignatures(text, b"\n\n", &w.verifier()).is_err());
        let stranger = CosignatureSigner::generate("other", [3; 32]).unwrap();
        let s = stranger.signature_line(text, 5).unwrap();
        assert!(verify_cosignatures(text, s.as_bytes(), &w.verifier()).is_err());
        let both = format!("{s}{good}");
        assert_eq!(
            verify_cosignatures(text, both.as_bytes(), &w.verifier()).unwrap(),
            vec![good]
        );
    }
}
