//! Fuzzes the zip reader (packages and chat exports arrive as zips from
//! strangers): no input may panic or allocate without bound, and every
//! entry it accepts reads back at most its declared size.
#![no_main]

use std::io::{Cursor, Read};

use guwah_package::zip::{ZipArchive, ZipLimits};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let limits = ZipLimits {
        max_entries: 1000,
        max_entry_size: 1 << 20,
        max_total_size: 4 << 20,
        ..ZipLimits::default()
    };
    let Ok(archive) = ZipArchive::open(&mut Cursor::new(data), &limits) else {
        return;
    };
    for e in archive.entries() {
        assert!(archive.entry(&e.name).is_some());
        let Ok(r) = ZipArchive::reader(e, Cursor::new(data)) else {
            continue;
        };
        let mut out = Vec::new();
        if r.take(e.size + 1).read_to_end(&mut out).is_ok() {
            assert_eq!(out.len() as u64, e.size, "{}: a good read is the declared size", e.name);
        }
    }
});
