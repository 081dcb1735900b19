//! Fuzzes the blob reader (`guwah/blob/v1`, read back from storage that may
//! have been tampered with): no input may panic, and nothing that does not
//! authenticate under the key is ever reported as a whole plaintext. Inputs
//! that start with a valid header (made here under the fuzz key) reach the
//! chunk code, not only the header checks.
#![no_main]

use guwah_vault::crypto::{BlobKey, decrypt_and_hash, encrypt_and_hash};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let key = BlobKey::from_bytes(&[7u8; 32]);
    let mut sink = Vec::new();
    let _ = decrypt_and_hash(data, &mut sink, &key, &mut |_| {});
    // A real blob of the first bytes, with the rest spliced in after its
    // header: chunk parsing of hostile bytes behind an authentic header.
    let (plain, tail) = data.split_at(data.len().min(200));
    let mut blob = Vec::new();
    let sealed = encrypt_and_hash(plain, &mut blob, &key, &mut |_| {}).expect("seal");
    let header = guwah_vault::crypto::stream::HEADER_LEN;
    let mut spliced = blob[..header].to_vec();
    spliced.extend_from_slice(tail);
    let mut out = Vec::new();
    if let Ok(s) = decrypt_and_hash(&spliced[..], &mut out, &key, &mut |_| {}) {
        assert_eq!(s.size as usize, out.len());
    }
    let mut out = Vec::new();
    let back = decrypt_and_hash(&blob[..], &mut out, &key, &mut |_| {}).expect("round trip");
    assert_eq!((back.sha256, out.as_slice()), (sealed.sha256, plain));
});
