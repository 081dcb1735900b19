#![no_main]
//! OpenTimestamps proofs must parse or fail cleanly, within the limits, whatever the bytes.
//! Inputs without the magic header get it prepended, so the fuzzer reaches the tree parser.

use guwah_core::ots::{DetachedTimestamp, MAGIC, MAX_RESULT_LEN};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let mut bytes = data.to_vec();
    if !bytes.starts_with(MAGIC) {
        bytes = [&MAGIC[..], data].concat();
    }
    for input in [data, &bytes[..]] {
        if let Ok(t) = DetachedTimestamp::parse(input) {
            assert_eq!(t.file_digest().len(), t.file_hash.digest_len());
            for a in t.attestations() {
                assert!(a.commitment.0.len() <= MAX_RESULT_LEN);
            }
        }
    }
});
