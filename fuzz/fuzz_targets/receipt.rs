#![no_main]
//! Fuzz the C2SP tlog-proof receipt parser: no panic on any input, and
//! whatever parses re-encodes to the same bytes.

use guwah_core::receipt::TlogProof;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(p) = TlogProof::parse(data) {
        assert_eq!(p.encode(), data, "parse/encode is not canonical");
        // Verification with no keys must fail cleanly, never panic.
        let _ = p.verify(b"leaf", &[], "example.org/log");
    }
});
