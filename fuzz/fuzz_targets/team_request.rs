//! Fuzzes what `guwah serve` parses from a client itself: a tus
//! `Upload-Metadata` header and the submission it describes, and a `Range`
//! header. No input may panic; a range that parses lies within the file.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(meta) = guwah_server::team::parse_metadata(text) {
        let _ = guwah_server::team::parse_submission(&meta);
    }
    for size in [0u64, 1, 1000, u64::MAX] {
        if let Ok(Some((start, end))) = guwah_server::team::parse_range(text, size) {
            assert!(start <= end && end < size, "{text:?} {size}");
        }
    }
});
