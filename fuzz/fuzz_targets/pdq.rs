#![no_main]
//! PDQ's parsers of outside input: image decoding under limits, frames read
//! back from ffmpeg, and stored hex hashes. None may panic.
use guwah_pdq::{DecodeLimits, Hash256, hash_image_bytes, video::read_ppm};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let limits = DecodeLimits::default();
    let _ = hash_image_bytes(data, limits);
    let mut rgb = Vec::new();
    let mut r = std::io::BufReader::new(data);
    while let Ok(Some(_)) = read_ppm(&mut r, &mut rgb) {}
    if let Ok(s) = std::str::from_utf8(data) {
        let _ = Hash256::from_hex(s);
    }
});
