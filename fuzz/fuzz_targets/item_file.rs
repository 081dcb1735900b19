//! Fuzzes the package v2 item file (`guwah/items/<id>.txt`): no input may
//! panic, whatever parses re-encodes to the same bytes (one encoding), and a
//! package built around it verifies without panicking.
#![no_main]

use guwah_core::bag::BagFiles;
use guwah_core::bundle::{self, PackageIndex};
use guwah_core::item_file::{ItemFile, parse_parts};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(f) = ItemFile::parse(data) {
        assert_eq!(f.encode(), data, "an item file has one encoding");
        assert_eq!(parse_parts(data).map(|p| p.len()).ok(), Some(f.parts.len()));
    }
    let id = [9u8; 32];
    let mut files = BagFiles::default();
    let index = PackageIndex {
        version: 2,
        origin: "example.org/log".into(),
        checkpoint_size: 1,
        items: vec![(id, "data/x".into())],
    };
    files
        .tag_contents
        .insert(bundle::PACKAGE_TXT.into(), index.encode());
    files
        .tag_contents
        .insert(bundle::item_file_path(&id), data.to_vec());
    let report = bundle::verify_bundle(&files, &[]);
    assert_eq!(report.verdict(), bundle::Verdict::Failed);
    for f in report.all_failures() {
        assert!(!f.what.contains('\n'), "one-line failures: {f}");
    }
});
