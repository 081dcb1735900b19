#![no_main]
//! Metadata extraction: never panics, never reads past the input, values
//! stay within their caps, under every media type it parses.
use guwah_media::{MAX_FIELDS, MAX_VALUE_LEN, extract_bytes};

const TYPES: [&str; 12] = [
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/tiff",
    "image/heic",
    "video/mp4",
    "video/quicktime",
    "application/pdf",
    "audio/mpeg",
    "audio/wav",
    "audio/flac",
    "application/octet-stream",
];

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // The first byte picks the type, so each parser sees inputs shaped for it.
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let e = extract_bytes(TYPES[pick as usize % TYPES.len()], rest);
    assert!(e.fields.len() <= MAX_FIELDS);
    for (name, value) in &e.fields {
        assert!(guwah_core::record::check_field_name(name).is_ok(), "{name}");
        assert!(!value.is_empty() && value.len() <= MAX_VALUE_LEN);
    }
});
