#![no_main]
//! Entry bundles and their paths must parse or fail cleanly, and round-trip when they parse.

use guwah_core::tiles::{EntryBundleId, encode_entry_bundle, parse_entry_bundle};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(path) = std::str::from_utf8(data) {
        if let Ok(id) = EntryBundleId::parse_path(path) {
            assert_eq!(id.path(), path);
        }
    }
    let Some((&w, bundle)) = data.split_first() else {
        return;
    };
    let id = EntryBundleId {
        index: 0,
        width: u16::from(w) + 1,
    };
    if let Ok(entries) = parse_entry_bundle(id, bundle) {
        assert_eq!(encode_entry_bundle(&entries).ok().as_deref(), Some(bundle));
    }
});
