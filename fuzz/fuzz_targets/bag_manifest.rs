//! Fuzzes BagIt parsing and validation: no tag file content may panic, and
//! percent-encoding of paths must round-trip.
#![no_main]

use std::collections::BTreeMap;

use guwah_core::bag::{self, BagFiles, MultiHasher};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    // Split the input into bagit.txt, a manifest, bag-info.txt and fetch.txt.
    let mut parts = data.splitn(4, |&b| b == 0xFF);
    let names = [
        "bagit.txt",
        "manifest-sha256.txt",
        "bag-info.txt",
        "fetch.txt",
    ];
    let mut tags = BTreeMap::new();
    for name in names {
        if let Some(p) = parts.next() {
            tags.insert(name.to_string(), p.to_vec());
        }
    }
    let algs = bag::algorithms_needed(&tags);
    let mut files = BagFiles::default();
    for (k, v) in &tags {
        files.files.insert(k.clone(), MultiHasher::digest(&algs, v));
    }
    files
        .files
        .insert("data/a".into(), MultiHasher::digest(&algs, data));
    files.tag_contents = tags;
    let report = bag::validate(&files);
    for i in report.errors.iter().chain(&report.warnings) {
        assert!(!i.what.contains('\n'));
    }
    if let Ok(s) = core::str::from_utf8(data) {
        let _ = bag::parse_bag_info(s);
        assert_eq!(bag::decode_path(&bag::encode_path(s)), s);
        let _ = bag::path_problem(s);
        let _ = bag::decode_text(data, "UTF-16");
    }
});
