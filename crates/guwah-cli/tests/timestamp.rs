//! `guwah timestamp` against a local TSA: `openssl ts -reply` behind a tiny
//! HTTP shim on 127.0.0.1. The stored token verifies in `guwah verify` and
//! with `openssl ts -verify` as a peer; hostile answers (wrong imprint,
//! wrong nonce, a certificate without the timeStamping EKU, garbage, an
//! oversized body) are each rejected with one clear line and nothing stored.

mod common;

mod tsa;

use std::process::Command;
use std::sync::{Arc, Mutex};

use common::{TestVault, text};
use tsa::{Mode, make_pki, serve};

fn tokens(v: &TestVault) -> Vec<String> {
    common::files_under(&v.root)
        .into_iter()
        .filter(|p| p.starts_with("timestamps/"))
        .collect()
}

#[test]
fn local_tsa_token_verifies_here_and_in_openssl() {
    let v = TestVault::init();
    let pki = v.tmp.path().join("pki");
    std::fs::create_dir(&pki).unwrap();
    make_pki(&pki);
    let mode = Arc::new(Mutex::new(Mode::Good));
    let url = serve(pki.clone(), mode.clone());
    let f = v.file("a.txt", b"evidence\n");
    let id = v.add(&[&f])[0].0.clone();
    let ca = pki.join("ca.pem");
    v.ok(&[
        "timestamp",
        "--add-tsa",
        "local",
        "--url",
        &url,
        "--root",
        ca.to_str().unwrap(),
    ]);

    // Hostile answers: one clear line each, nothing stored.
    for (m, expect) in [
        (
            Mode::WrongImprint,
            "token from local: message imprint does not match the checkpoint",
        ),
        (
            Mode::WrongNonce,
            "token from local: nonce does not match the request",
        ),
        (
            Mode::NoEku,
            "token from local: TSA certificate CN=guwah test noeku: no timeStamping extended key usage",
        ),
        (
            Mode::Garbage,
            "token from local: malformed time-stamp response",
        ),
        (Mode::Oversized, "TSA local: answer larger than"),
        (
            Mode::WrongType,
            "TSA local: answer is not application/timestamp-reply",
        ),
    ] {
        *mode.lock().unwrap() = m;
        let o = v.run(&["timestamp"]);
        assert_eq!(o.status.code(), Some(5), "{m:?}: {}", text(&o));
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(expect), "{m:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "{m:?}: {err}");
        assert!(tokens(&v).is_empty(), "{m:?} stored something");
    }

    *mode.lock().unwrap() = Mode::Good;
    let out = v.ok(&["timestamp"]);
    assert!(out.contains("stamped checkpoint 1 by local at "), "{out}");
    assert!(out.contains("±1.500100 s"), "{out}"); // accuracy with millis and micros
    assert_eq!(tokens(&v), vec!["timestamps/1/local.tsr".to_string()]);
    v.ok(&["verify"]);

    // The peer: openssl verifies the stored token over the checkpoint body.
    let note = v.ok(&["log", "checkpoint"]);
    let body = &note[..note.find("\n\n").unwrap() + 1];
    let data = v.tmp.path().join("stamped.txt");
    std::fs::write(&data, body).unwrap();
    let tsr = v.root.join("timestamps/1/local.tsr");
    let o = Command::new("openssl")
        .args([
            "ts",
            "-verify",
            "-in",
            tsr.to_str().unwrap(),
            "-data",
            data.to_str().unwrap(),
            "-CAfile",
            ca.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "openssl ts -verify: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );

    // A token altered on disk is named by verify.
    let mut bytes = std::fs::read(&tsr).unwrap();
    let n = bytes.len();
    bytes[n - 10] ^= 0x01;
    std::fs::write(&tsr, &bytes).unwrap();
    let o = v.run(&["verify"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("timestamps/1/local.tsr"), "{}", text(&o));

    // Export stamps its new checkpoint; verify-bundle checks the token.
    let pkg = v.tmp.path().join("pkg");
    let out = v.ok(&["export", &id, "--out", pkg.to_str().unwrap(), "--timestamp"]);
    assert!(pkg.join("guwah/timestamps/local.tsr").exists(), "{out}");
    let vkey = v.ok(&["log", "key"]);
    let ok = v.ok(&[
        "verify-bundle",
        pkg.to_str().unwrap(),
        "--trust",
        vkey.trim(),
        "--tsa-root",
        ca.to_str().unwrap(),
    ]);
    assert!(
        ok.contains("RFC 3161 VALID  guwah/timestamps/local.tsr: stamped at "),
        "{ok}"
    );
    let o = v.run(&[
        "verify-bundle",
        pkg.to_str().unwrap(),
        "--trust",
        vkey.trim(),
    ]);
    assert!(text(&o).contains("RFC 3161 UNTRUSTED"), "{}", text(&o));
}
