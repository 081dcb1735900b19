#![no_main]
//! Record parser: never panics; whatever it accepts re-encodes to the same bytes.
use guwah_core::record::Record;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(record) = Record::parse(data) {
        assert_eq!(record.encode(), data);
        let _ = record.verify_signature();
    }
});
