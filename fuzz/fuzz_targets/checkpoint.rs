//! Fuzzes checkpoint parsing and opening: no input may panic, and whatever
//! parses must print back to the same body.
#![no_main]

use guwah_core::checkpoint::{self, Checkpoint};
use guwah_core::note::{NoteVerifier, Verifier};

const LOG_VKEY: &str =
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(body) = core::str::from_utf8(data) {
        if let Ok(c) = Checkpoint::parse(body) {
            assert_eq!(c.to_body(), body);
            assert!(c.validate().is_ok());
        }
    }
    let Ok(log) = Verifier::from_vkey(LOG_VKEY) else {
        return;
    };
    let verifiers: [&dyn NoteVerifier; 1] = [&log];
    let _ = checkpoint::open_checkpoint(data, &verifiers, "example.com/log/testdata");
});
