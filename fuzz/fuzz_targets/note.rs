//! Fuzzes signed-note parsing and opening: no input may panic, and whatever
//! parses must re-encode to the same bytes.
#![no_main]

use guwah_core::note::{self, Note, NoteVerifier, Verifier};

const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(peter) = Verifier::from_vkey(PETER_VKEY) else {
        return;
    };
    let verifiers: [&dyn NoteVerifier; 1] = [&peter];
    if let Ok(n) = Note::parse(data) {
        // Canonical base64 and a fixed layout: parsing is lossless.
        let mut again = n.text.clone();
        again.push('\n');
        for s in &n.signatures {
            again.push_str(&s.to_line());
        }
        assert_eq!(again.as_bytes(), data);
    }
    let _ = note::open(data, &verifiers);
    if let Ok(s) = core::str::from_utf8(data) {
        let _ = Verifier::from_vkey(s);
        let _ = note::AnyVerifier::from_vkey(s);
        let _ = note::Signer::from_skey(s);
    }
});
