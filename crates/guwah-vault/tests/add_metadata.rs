//! `add` seals the metadata of the bytes it sealed, never of a file that
//! took their place.
//!
//! The progress callback's `Sealing` step fires after every blob is stored
//! and before any record is built: swapping the file there is the race a
//! long `add` leaves open (a huge file after the photo in the same call),
//! made deterministic.

use std::fs::{self, File};
use std::path::{Path, PathBuf};

use guwah_core::record::hex32;
use guwah_vault::{AddOptions, AddProgress, KdfParams, Vault, VaultError};
use sha2::{Digest, Sha256};

const FAST: KdfParams = KdfParams {
    m_cost_kib: 64,
    t_cost: 1,
    p_cost: 1,
};

/// The sample photo: EXIF make `ExampleCam`, taken 2024-03-01 09:30.
fn sample_photo() -> Vec<u8> {
    let path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/evidence/street-photo.jpg");
    fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// `data` with every occurrence of each `from` replaced by its `to` (same
/// length, so the size does not change).
fn patched(data: &[u8], edits: &[(&[u8], &[u8])]) -> Vec<u8> {
    let mut out = data.to_vec();
    for (from, to) in edits {
        assert_eq!(from.len(), to.len());
        let mut hits = 0;
        for at in 0..=out.len() - from.len() {
            if &out[at..at + from.len()] == *from {
                out[at..at + from.len()].copy_from_slice(to);
                hits += 1;
            }
        }
        assert!(
            hits > 0,
            "{:?} not in the sample",
            String::from_utf8_lossy(from)
        );
    }
    out
}

/// Rewrites `path` in place with `data`, then gives it back `mtime`, so
/// that size and modification time both look unchanged.
fn swap_in(path: &Path, data: &[u8], mtime: std::time::SystemTime) {
    fs::write(path, data).unwrap();
    File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
}

fn setup() -> (tempfile::TempDir, Vault, PathBuf, Vec<u8>) {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::init(
        &dir.path().join("vault"),
        b"correct horse",
        Some("test.example/vault"),
        FAST,
    )
    .unwrap();
    let photo = dir.path().join("photo.jpg");
    let original = sample_photo();
    fs::write(&photo, &original).unwrap();
    (dir, vault, photo, original)
}

#[test]
fn a_file_swapped_after_sealing_does_not_lend_its_metadata() {
    let (_dir, vault, photo, original) = setup();
    let forged = patched(
        &original,
        &[
            (b"ExampleCam", b"EVILXCamer"),
            (b"2024:03:01 09:30:00", b"1999:12:31 23:59:59"),
        ],
    );
    let mtime = fs::metadata(&photo).unwrap().modified().unwrap();
    let mut swapped = false;
    let report = vault
        .add(
            std::slice::from_ref(&photo),
            &AddOptions::default(),
            &mut |p| {
                if matches!(p, AddProgress::Sealing) {
                    swap_in(&photo, &forged, mtime);
                    swapped = true;
                }
            },
        )
        .unwrap();
    // The swap really happened, and is invisible to size and mtime.
    assert!(swapped);
    let now = fs::metadata(&photo).unwrap();
    assert_eq!(
        (now.len(), now.modified().unwrap()),
        (original.len() as u64, mtime)
    );
    assert_eq!(fs::read(&photo).unwrap(), forged);

    let item = &report.items[0];
    assert_eq!(item.sha256, hex32(&Sha256::digest(&original).into()));
    let details = vault.show(&item.id).unwrap();
    let sealed = |name: &str| {
        details
            .fields
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.value.clone())
            .unwrap_or_else(|| panic!("no {name} sealed"))
    };
    assert_eq!(sealed("exif.make"), "ExampleCam");
    assert!(sealed("exif.datetime-original").starts_with("2024-03-01T09:30:00"));
    // Every metadata field is the original's, exactly.
    let expected = guwah_media::extract_bytes("image/jpeg", &original);
    assert!(!expected.fields.is_empty());
    for (name, value) in &expected.fields {
        assert_eq!(&sealed(name), value, "{name}");
    }
    for f in &details.fields {
        let v = f.value.as_deref().unwrap_or("");
        assert!(
            !v.contains("EVILX") && !v.contains("1999"),
            "{}: {v}",
            f.name
        );
    }
    // Metadata came from the sealed bytes, so there was nothing to warn
    // about. (`similar`, which re-reads the file for its hash, may notice
    // the change; that is its business.)
    assert!(
        report
            .warnings
            .iter()
            .all(|w| !w.message.contains("metadata")),
        "{:?}",
        report.warnings
    );
}

#[test]
fn a_blob_gone_before_its_record_is_built_fails_the_add() {
    let (dir, vault, photo, _) = setup();
    let blobs = dir.path().join("vault/blobs");
    let err = vault
        .add(
            std::slice::from_ref(&photo),
            &AddOptions::default(),
            &mut |p| {
                if matches!(p, AddProgress::Sealing) {
                    for shard in fs::read_dir(&blobs).unwrap() {
                        let shard = shard.unwrap().path();
                        if !shard.ends_with(".staging") {
                            fs::remove_dir_all(shard).unwrap();
                        }
                    }
                }
            },
        )
        .unwrap_err();
    assert!(
        matches!(&err, VaultError::Store(_)) && err.to_string().contains("is missing"),
        "{err}"
    );
    // Nothing was committed.
    assert!(vault.list().unwrap().is_empty());
    assert!(vault.latest_checkpoint().unwrap().is_none());
}
