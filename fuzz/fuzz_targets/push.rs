//! Fuzzes the check of an item pushed from another vault: arbitrary
//! records, checkpoints, proofs and field values. No input may panic, and
//! none may verify against a key that signed nothing.
#![no_main]

use guwah_core::push::{PushedItem, verify_pushed};

const LOG_VKEY: &str =
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // checkpoint | record | proof hashes | one field's value, split by 0xff.
    let mut parts = data.split(|b| *b == 0xff);
    let checkpoint = parts.next().unwrap_or_default();
    let record = parts.next().unwrap_or_default();
    let proof: Vec<[u8; 32]> = parts
        .next()
        .unwrap_or_default()
        .chunks_exact(32)
        .map(|c| c.try_into().expect("32 bytes"))
        .collect();
    let value = String::from_utf8_lossy(parts.next().unwrap_or_default()).into_owned();
    let fields = [("note".to_owned(), value, [1u8; 32])];
    let _ = verify_pushed(&PushedItem {
        vkey: LOG_VKEY,
        checkpoint,
        record,
        index: u64::from(data.first().copied().unwrap_or(0)),
        proof: &proof,
        fields: &fields,
    });
});
