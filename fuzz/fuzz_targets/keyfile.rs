//! Fuzzes the key file header (`keys.sealed`, which an attacker with the
//! disk can rewrite): no input may panic, and the KDF parameters a header
//! may ask for are bounded before any Argon2id runs (the fuzzer only runs
//! the KDF when they are small, so that it stays fast).
#![no_main]

use guwah_vault::crypto::keyfile::{open_with_passphrase, read_params};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(params) = read_params(data) else {
        assert!(open_with_passphrase(b"pw", data).is_err());
        return;
    };
    params.validate().expect("read_params returns only valid parameters");
    if params.m_cost_kib <= 64 && params.t_cost <= 2 {
        let _ = open_with_passphrase(b"pw", data);
    }
});
