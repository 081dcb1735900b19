//! Real RFC 3161 tokens (IdenTrust, sigstage, a local sigstore TSA) from
//! `../shared/fixtures/rfc3161/` (see its SOURCE), verified at their own
//! genTime against their roots, and the negative cases rejected.

use std::path::PathBuf;

use guwah_tsp::{Token, Trust, TspError};

fn fixture(rel: &str) -> Vec<u8> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/rfc3161")
        .join(rel);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// Roots: the self-signed certificates of a chain file; the others are
/// untrusted intermediates.
fn trust(chain: &str) -> Trust {
    let mut t = Trust::new();
    assert!(t.add_chain(&fixture(chain)).unwrap() >= 1);
    t
}

#[test]
fn identrust_verifies_at_its_gen_time() {
    let token = Token::parse(&fixture("identrust/issue-104.tsr")).unwrap();
    assert_eq!(token.info.gen_time.to_string(), "2025-03-11T08:52:08Z");
    let v = token
        .verify(b"hello", None, &trust("identrust/ts_chain.pem"))
        .unwrap();
    assert!(v.tsa.contains("TrustID Timestamp Authority"), "{}", v.tsa);
    assert_eq!(v.chain.len(), 3, "{:?}", v.chain);
}

#[test]
fn sigstage_tokens_verify() {
    for f in [
        "response-sha256.tsr",
        "response-sha384.tsr",
        "response-sha512.tsr",
    ] {
        let token = Token::parse(&fixture(&format!("sigstage/{f}"))).unwrap();
        let v = token
            .verify(b"hello", None, &trust("sigstage/ts_chain.pem"))
            .unwrap_or_else(|e| panic!("{f}: {e}"));
        assert_eq!(v.tsa, "CN=sigstore-tsa, O=sigstore.dev");
        assert_eq!(v.accuracy.unwrap().seconds, 1);
    }
}

#[test]
fn sigstage_without_embedded_certificate_needs_it_given() {
    let token = Token::parse(&fixture("sigstage/response-no-embedded-cert.tsr")).unwrap();
    let mut roots_only = Trust::new();
    let chain = guwah_tsp::certificates_der(&fixture("sigstage/ts_chain.pem")).unwrap();
    roots_only.add_roots(&chain[1]).unwrap();
    assert_eq!(
        token.verify(b"hello", None, &roots_only).unwrap_err(),
        TspError::NoSignerCertificate
    );
    token
        .verify(b"hello", None, &trust("sigstage/ts_chain.pem"))
        .unwrap();
}

#[test]
fn sigstage_invalid_signature_is_rejected() {
    let token = Token::parse(&fixture("sigstage/response-invalid-signature.tsr")).unwrap();
    let e = token
        .verify(b"hello", None, &trust("sigstage/ts_chain.pem"))
        .unwrap_err();
    assert!(
        matches!(e, TspError::BadSignature { .. } | TspError::MessageDigest),
        "{e}"
    );
}

#[test]
fn local_sigstore_tsa_with_intermediate() {
    let t = trust("test_tsa/ts_chain.pem");
    let token = Token::parse(&fixture("test_tsa/response.tsr")).unwrap();
    let v = token.verify(b"hello", None, &t).unwrap();
    assert_eq!(v.chain.len(), 3);
    let other = Token::parse(&fixture("test_tsa/other_response.tsr")).unwrap();
    // Another run of the local TSA, with other keys: not under this root.
    let e = other.verify(b"hello", None, &t).unwrap_err();
    assert!(matches!(e, TspError::Untrusted { .. }), "{e}");
}

#[test]
fn nonce_of_the_request_is_checked() {
    let t = trust("test_tsa/ts_chain.pem");
    let token = Token::parse(&fixture("test_tsa/response.tsr")).unwrap();
    let nonce = token.info.nonce.clone().unwrap();
    token.verify(b"hello", Some(&nonce), &t).unwrap();
    assert_eq!(
        token.verify(b"hello", Some(&[1, 2, 3]), &t).unwrap_err(),
        TspError::NonceMismatch
    );
}

#[test]
fn injected_certificates_are_rejected() {
    let token = Token::parse(&fixture("test_tsa/response-injected-certs.tsr")).unwrap();
    let e = token
        .verify(b"hello", None, &trust("test_tsa/ts_chain.pem"))
        .unwrap_err();
    assert!(matches!(e, TspError::Injected { .. }), "{e}");
    assert!(e.to_string().contains("not part of its chain"), "{e}");
}

#[test]
fn wrong_root_is_untrusted() {
    let token = Token::parse(&fixture("test_tsa/response.tsr")).unwrap();
    let e = token
        .verify(b"hello", None, &trust("sigstage/ts_chain.pem"))
        .unwrap_err();
    assert!(matches!(e, TspError::Untrusted { .. }), "{e}");
}

#[test]
fn wrong_data_is_rejected() {
    let token = Token::parse(&fixture("identrust/issue-104.tsr")).unwrap();
    let e = token
        .verify(b"hello!", None, &trust("identrust/ts_chain.pem"))
        .unwrap_err();
    assert_eq!(
        e.to_string(),
        "message imprint does not match the stamped data"
    );
}

#[test]
fn every_truncation_and_bit_flip_is_an_error_not_a_panic() {
    let bytes = fixture("test_tsa/response.tsr");
    let t = trust("test_tsa/ts_chain.pem");
    for n in 0..bytes.len() {
        assert!(Token::parse(&bytes[..n]).is_err());
    }
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x01;
        if let Ok(tok) = Token::parse(&b) {
            // A flip that still parses must not verify (except in bytes no
            // signature covers: the unsigned certificate set's outer tags).
            let _ = tok.verify(b"hello", None, &t);
        }
    }
}
