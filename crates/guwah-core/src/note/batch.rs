//! Ed25519 note signatures verified many at once.
//!
//! A server that checks many notes together (the witness, one group-commit
//! batch of `add-checkpoint` requests) runs each check inside
//! [`defer_ed25519`]: there, [`Verifier`](super::Verifier) (type `0x01`)
//! records the signature it is asked about and reports it valid for now.
//! The caller then verifies everything recorded in one batch
//! ([`verify_batch`], about half the cost of one verification each) and
//! keeps a check's result only if its signatures verify; otherwise it
//! verifies them one by one ([`DeferredSignature::verify`]) and runs the
//! checks whose signatures fail again, outside `defer_ed25519`, for their
//! exact refusal. The deferral lasts for the closure only, on this thread;
//! nothing a check decides may be acted upon before its signatures verify.
//!
//! Batch and single verification agree on every signature a holder of the
//! key did not craft to make them differ. Non-canonical `R` encodings, which
//! single verification refuses and a batch would accept, are kept out of
//! batches (they fail [`verify_batch`] and so get verified alone). What
//! remains is the cofactor: a batch may accept a signature whose `R` is off
//! by a point of small order, which only the key's holder can make and
//! which verifies under cofactored rules (ZIP 215): it is still a signature
//! by that key.

use std::cell::RefCell;

use ed25519_dalek::{Signature, Verifier as _, VerifyingKey};

std::thread_local! {
    /// `Some` inside [`defer_ed25519`]: the signatures put off so far.
    static DEFERRED: RefCell<Option<Vec<DeferredSignature>>> = const { RefCell::new(None) };
}

/// An Ed25519 note signature (key, signed text, signature) whose check was
/// put off by [`defer_ed25519`].
#[derive(Clone, PartialEq, Eq)]
pub struct DeferredSignature {
    key: VerifyingKey,
    text: Vec<u8>,
    signature: Signature,
}

impl core::fmt::Debug for DeferredSignature {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DeferredSignature")
            .field("key", &self.key.as_bytes())
            .field("text_len", &self.text.len())
            .finish_non_exhaustive()
    }
}

impl DeferredSignature {
    /// Verifies this signature alone, exactly as an Ed25519
    /// [`Verifier`](super::Verifier) does outside [`defer_ed25519`].
    pub fn verify(&self) -> bool {
        self.key.verify(&self.text, &self.signature).is_ok()
    }
}

/// Records `signature` over `text` by `key` if a deferral is running on
/// this thread (then the caller reports it valid for now).
pub(super) fn defer(key: &VerifyingKey, text: &[u8], signature: &Signature) -> bool {
    DEFERRED.with(|d| match d.borrow_mut().as_mut() {
        Some(list) => {
            list.push(DeferredSignature {
                key: *key,
                text: text.to_vec(),
                signature: *signature,
            });
            true
        }
        None => false,
    })
}

/// Runs `f` with the Ed25519 note signature checks it makes put off:
/// each is reported valid and returned, in order, for the caller to verify
/// ([`verify_batch`], [`DeferredSignature::verify`]) before it uses
/// anything `f` decided. Cosignatures (type `0x04`) are verified as usual.
/// Nested calls each get their own signatures.
pub fn defer_ed25519<R>(f: impl FnOnce() -> R) -> (R, Vec<DeferredSignature>) {
    /// Puts the outer deferral (if any) back, also if `f` panics.
    struct Restore(Option<Vec<DeferredSignature>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take();
            DEFERRED.with(|d| *d.borrow_mut() = outer);
        }
    }
    let outer = DEFERRED.with(|d| d.borrow_mut().replace(Vec::new()));
    let restore = Restore(outer);
    let r = f();
    let deferred = DEFERRED.with(|d| d.borrow_mut().take()).unwrap_or_default();
    drop(restore);
    (r, deferred)
}

/// Whether `bytes` is the canonical encoding of a curve point's y and sign:
/// y < p = 2^255 - 19, and no sign bit when x is 0 (y = 1 or y = p - 1).
fn canonical_point(bytes: &[u8; 32]) -> bool {
    let sign = bytes[31] >> 7;
    let mut y = *bytes;
    y[31] &= 0x7f;
    // y >= p iff y is p .. 2^255 - 1: 0xed..=0xff, then thirty 0xff, then 0x7f.
    if y[31] == 0x7f && y[1..31].iter().all(|&b| b == 0xff) && y[0] >= 0xed {
        return false;
    }
    if sign == 1 {
        let one = y[0] == 1 && y[1..].iter().all(|&b| b == 0);
        let minus_one = y[0] == 0xec && y[1..31].iter().all(|&b| b == 0xff) && y[31] == 0x7f;
        if one || minus_one {
            return false;
        }
    }
    true
}

/// Whether every signature verifies, checked together (Ed25519 batch
/// verification with coefficients derived from all the inputs). `false`
/// says only that at least one does not (or has a non-canonical `R`): find
/// which with [`DeferredSignature::verify`]. Empty: `true`.
pub fn verify_batch<'a>(signatures: impl IntoIterator<Item = &'a DeferredSignature>) -> bool {
    let all: Vec<&DeferredSignature> = signatures.into_iter().collect();
    match all.as_slice() {
        [] => true,
        [one] => one.verify(),
        _ => {
            if !all.iter().all(|s| canonical_point(s.signature.r_bytes())) {
                return false;
            }
            let texts: Vec<&[u8]> = all.iter().map(|s| s.text.as_slice()).collect();
            let sigs: Vec<Signature> = all.iter().map(|s| s.signature).collect();
            let keys: Vec<VerifyingKey> = all.iter().map(|s| s.key).collect();
            ed25519_dalek::verify_batch(&texts, &sigs, &keys).is_ok()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::note::{NoteVerifier, Signer, open, sign};

    fn signers(n: u8) -> Vec<Signer> {
        (0..n)
            .map(|i| Signer::generate(&format!("log{i}.test"), [i + 1; 32]).unwrap())
            .collect()
    }

    fn note(s: &Signer, text: &str) -> String {
        sign(text, &[s]).unwrap()
    }

    #[test]
    fn deferred_checks_are_recorded_and_verified_together() {
        let logs = signers(5);
        let notes: Vec<String> = logs
            .iter()
            .enumerate()
            .map(|(i, s)| note(s, &format!("text {i}\n")))
            .collect();
        let mut all = Vec::new();
        for (s, n) in logs.iter().zip(&notes) {
            let v = s.verifier();
            let (opened, deferred) = defer_ed25519(|| open(n, &[&v as &dyn NoteVerifier]));
            assert!(opened.is_ok());
            assert_eq!(deferred.len(), 1);
            all.extend(deferred);
        }
        assert!(verify_batch(&all));
        assert!(all.iter().all(DeferredSignature::verify));
        assert!(verify_batch([]));
        assert!(verify_batch(&all[..1]));
    }

    #[test]
    fn a_bad_signature_fails_the_batch_and_is_found_alone() {
        let logs = signers(4);
        let mut all = Vec::new();
        for (i, s) in logs.iter().enumerate() {
            let mut n = note(s, &format!("text {i}\n"));
            if i == 2 {
                // Signed by log 2, but the text says otherwise.
                n = n.replacen("text 2", "text X", 1);
            }
            let v = s.verifier();
            let (opened, deferred) = defer_ed25519(|| open(&n, &[&v as &dyn NoteVerifier]));
            assert!(opened.is_ok(), "put off, so not yet refused");
            all.extend(deferred);
            // Outside the deferral the same check refuses it.
            assert_eq!(open(&n, &[&v as &dyn NoteVerifier]).is_ok(), i != 2);
        }
        assert!(!verify_batch(&all));
        let alone: Vec<bool> = all.iter().map(DeferredSignature::verify).collect();
        assert_eq!(alone, [true, true, false, true]);
        assert!(verify_batch([&all[0], &all[1], &all[3]]));
        assert!(!verify_batch(&all[2..3]));
    }

    #[test]
    fn deferral_ends_with_its_closure_and_nests() {
        let s = &signers(1)[0];
        let v = s.verifier();
        let bad = note(s, "a\n").replacen("a\n", "b\n", 1);
        let ((inner, outer_ok), outer) = defer_ed25519(|| {
            let (_, inner) = defer_ed25519(|| open(&bad, &[&v as &dyn NoteVerifier]));
            (inner, open(&bad, &[&v as &dyn NoteVerifier]).is_ok())
        });
        assert_eq!((inner.len(), outer.len()), (1, 1));
        assert!(outer_ok);
        assert!(open(&bad, &[&v as &dyn NoteVerifier]).is_err());
        // A panic inside ends the deferral too.
        let r = std::panic::catch_unwind(|| defer_ed25519(|| panic!("boom")));
        assert!(r.is_err());
        assert!(open(&bad, &[&v as &dyn NoteVerifier]).is_err());
    }

    #[test]
    fn non_canonical_r_stays_out_of_batches() {
        let mut p = [0xff; 32];
        p[0] = 0xed;
        p[31] = 0x7f;
        assert!(!canonical_point(&p), "p itself");
        p[0] = 0xec;
        assert!(canonical_point(&p), "p - 1");
        p[31] |= 0x80;
        assert!(!canonical_point(&p), "p - 1 with the sign bit: x = 0");
        let mut one = [0; 32];
        one[0] = 1;
        assert!(canonical_point(&one));
        one[31] = 0x80;
        assert!(!canonical_point(&one));
    }
}
