//! The `BlobStore` ranged-read contract, checked on every backend alike.

use std::io::Write;

use guwah_store::mem::MemStore;
use guwah_store::{Backend, BlobStore, StoreError};

/// Runs `check` against a fresh store of each backend.
fn on_every_backend(check: impl Fn(&dyn BlobStore)) {
    check(&MemStore::new());
    let dir = tempfile::tempdir().unwrap();
    check(&*Backend::create_local(dir.path()).unwrap().blobs);
}

fn put(store: &dyn BlobStore, name: &str, data: &[u8]) {
    let mut staged = store.create().unwrap();
    staged.write_all(data).unwrap();
    staged.commit(name).unwrap();
    store.sync_blobs().unwrap();
}

fn bytes(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(31) ^ seed)
        .collect()
}

#[test]
fn ranged_reads_return_the_committed_bytes() {
    on_every_backend(|store| {
        let data = bytes(100_000, 1);
        put(store, "ab01", &data);
        let mut blob = store.open_ranged("ab01").unwrap();
        assert_eq!(blob.size(), data.len() as u64);
        for (offset, len) in [(0, 0), (0, 10), (65_536, 4_000), (99_990, 10), (100_000, 0)] {
            let mut buf = vec![0u8; len];
            blob.read_exact_at(offset as u64, &mut buf).unwrap();
            assert_eq!(buf, data[offset..offset + len], "{offset}+{len}");
        }
    });
}

#[test]
fn reads_outside_the_blob_fail_and_return_nothing() {
    on_every_backend(|store| {
        put(store, "ab02", &bytes(1000, 2));
        let mut blob = store.open_ranged("ab02").unwrap();
        for (offset, len) in [(995, 10), (1000, 1), (5000, 0), (u64::MAX, 1)] {
            let mut buf = vec![0xeeu8; len];
            let err = blob.read_exact_at(offset, &mut buf).unwrap_err();
            assert!(
                matches!(err, StoreError::OutOfRange { size: 1000, .. }),
                "{err}"
            );
            assert!(buf.iter().all(|&b| b == 0xee), "nothing was read");
            assert!(err.to_string().starts_with("blob ab02: bytes "), "{err}");
        }
    });
}

#[test]
fn staged_absent_and_removed_blobs_cannot_be_opened() {
    on_every_backend(|store| {
        let mut staged = store.create().unwrap();
        staged.write_all(b"not yet").unwrap();
        assert!(matches!(
            store.open_ranged("ab03"),
            Err(StoreError::MissingBlob(n)) if n == "ab03"
        ));
        staged.abort();
        assert!(matches!(
            store.open_ranged("ab03"),
            Err(StoreError::MissingBlob(_))
        ));
        put(store, "ab03", b"now");
        assert!(store.open_ranged("ab03").is_ok());
        store.remove("ab03").unwrap();
        assert!(matches!(
            store.open_ranged("ab03"),
            Err(StoreError::MissingBlob(_))
        ));
        assert!(matches!(
            store.open_ranged("../etc/passwd"),
            Err(StoreError::InvalidName { .. })
        ));
    });
}

#[test]
fn a_handle_keeps_the_object_it_opened() {
    on_every_backend(|store| {
        let old = bytes(3000, 4);
        put(store, "ab04", &old);
        let mut first = store.open_ranged("ab04").unwrap();
        // Same name, other bytes and another size (a leftover removed and
        // the content sealed again: blobs are written once).
        store.remove("ab04").unwrap();
        put(store, "ab04", &bytes(5000, 5));
        let mut buf = vec![0u8; 3000];
        first.read_exact_at(0, &mut buf).unwrap();
        assert_eq!(buf, old);
        assert_eq!(first.size(), 3000);
        let mut second = store.open_ranged("ab04").unwrap();
        assert_eq!(second.size(), 5000);
        store.remove("ab04").unwrap();
        first.read_exact_at(2990, &mut buf[..10]).unwrap();
        assert_eq!(buf[..10], old[2990..]);
        second.read_exact_at(4990, &mut buf[..10]).unwrap();
        assert_eq!(buf[..10], bytes(5000, 5)[4990..]);
    });
}

#[test]
fn a_blob_is_written_once() {
    on_every_backend(|store| {
        put(store, "ab05", b"first");
        let mut staged = store.create().unwrap();
        staged.write_all(b"second").unwrap();
        assert!(matches!(
            staged.commit("ab05"),
            Err(StoreError::Conflict { .. })
        ));
        let mut back = Vec::new();
        std::io::Read::read_to_end(&mut store.open("ab05").unwrap(), &mut back).unwrap();
        assert_eq!(back, b"first");
    });
}

#[test]
fn an_adopted_file_becomes_the_blob_and_stays_where_it_was() {
    on_every_backend(|store| {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("sealed.blob");
        let data = bytes(200_000, 9);
        std::fs::write(&file, &data).unwrap();
        let staged = store.adopt(&file).unwrap();
        assert!(!store.exists("ab07").unwrap(), "staged, not yet visible");
        staged.commit("ab07").unwrap();
        store.sync_blobs().unwrap();
        let mut read = Vec::new();
        std::io::Read::read_to_end(&mut store.open("ab07").unwrap(), &mut read).unwrap();
        assert_eq!(read, data);
        assert_eq!(
            std::fs::read(&file).unwrap(),
            data,
            "the file is left as it was"
        );
        // Aborted: nothing under any name, the file still there.
        store.adopt(&file).unwrap().abort();
        assert_eq!(store.list().unwrap(), ["ab07"]);
        assert!(file.exists());
        // A missing file is an error naming it.
        let err = store.adopt(&dir.path().join("nope")).err().unwrap();
        assert!(err.to_string().contains("nope"), "{err}");
    });
}
