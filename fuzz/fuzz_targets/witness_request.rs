//! Fuzzes the witness's add-checkpoint handling: parsing a request body,
//! the witness's checks against a state, and a client's parsing of a
//! response. No input may panic; whatever parses must encode back to the
//! same bytes.
#![no_main]

use guwah_core::note::{CosignatureSigner, NoteVerifier, Verifier};
use guwah_core::witness::{self, AddCheckpointRequest, WitnessedHead};

const LOG_VKEY: &str =
    "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx";

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(log) = Verifier::from_vkey(LOG_VKEY) else {
        return;
    };
    let Ok(cosigner) = CosignatureSigner::generate("witness.example", [7; 32]) else {
        return;
    };
    if let Ok(req) = AddCheckpointRequest::parse(data) {
        assert_eq!(
            AddCheckpointRequest::encode(req.old_size, &req.proof, &req.note),
            data
        );
        let keys: [&dyn NoteVerifier; 1] = [&log];
        let state = WitnessedHead::from_note(&req.note).ok();
        let _ = witness::add_checkpoint(None, &req, &keys, &cosigner, 1);
        let _ = witness::add_checkpoint(state.as_ref(), &req, &keys, &cosigner, 1);
    }
    let text = "example.com/log/testdata\n1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    let _ = witness::verify_cosignatures(text, data, &cosigner.verifier());
    let _ = witness::check_witnesses(data, &[cosigner.verifier()]);
    let _ = witness::parse_size_body(data);
});
