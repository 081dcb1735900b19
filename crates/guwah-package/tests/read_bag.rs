//! Reading bag folders and zips through the public API: the same files and
//! digests either way, nested tag folders found, and anything that is not a
//! regular file refused with its name, wherever it is in the bag.

use std::path::{Path, PathBuf};

use guwah_package::{BagWriter, Hooks, ReadOptions, SourceError, read_bag, read_bag_with};

/// Reads a bag holding what a package verifier reads.
fn read_package(
    bag: &Path,
    progress: &(dyn Fn(u64) + Sync),
) -> Result<(guwah_core::bag::BagFiles, guwah_package::BagSource), SourceError> {
    read_bag_with(
        bag,
        &ReadOptions::package(),
        &Hooks::progress_only(progress),
    )
}

fn write(dest: &Path, zip: bool) -> PathBuf {
    let mut w = if zip {
        BagWriter::create_zip(dest, "bag").unwrap()
    } else {
        BagWriter::create_dir(dest).unwrap()
    };
    let big: Vec<u8> = (0..(9u32 << 20)).map(|i| (i * 7 % 251) as u8).collect();
    w.add_payload("video.mp4", &mut &big[..]).unwrap();
    for i in 0..50 {
        w.add_payload(
            &format!("notes/n{i}.txt"),
            &mut format!("note {i}\n").as_bytes(),
        )
        .unwrap();
        w.add_tag_file(
            &format!("guwah/items/{i:02}/events/e{i}/record"),
            format!("event {i}\n").into_bytes(),
        )
        .unwrap();
        w.add_tag_file(&format!("guwah/items/{i:02}/record"), vec![b'r'; i])
            .unwrap();
    }
    w.finish(&[]).unwrap().path
}

#[test]
fn folder_and_zip_read_the_same() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = write(&tmp.path().join("bag"), false);
    let zip = write(&tmp.path().join("bag.zip"), true);
    let total = std::sync::atomic::AtomicU64::new(0);
    let count = |n: u64| {
        total.fetch_add(n, std::sync::atomic::Ordering::Relaxed);
    };
    let (a, _) = read_package(&dir, &count).unwrap();
    let from_dir = total.swap(0, std::sync::atomic::Ordering::Relaxed);
    let (b, _) = read_package(&zip, &count).unwrap();
    assert_eq!(a.files, b.files);
    assert_eq!(a.tag_contents, b.tag_contents);
    // 1 big + 50 notes; 100 guwah tag files + bagit.txt, bag-info, 2 manifests, 2 tag manifests.
    assert_eq!(a.files.len(), 51 + 100 + 6, "{:?}", a.files.keys());
    assert_eq!(
        a.tag_contents["guwah/items/07/events/e7/record"],
        b"event 7\n"
    );
    let bytes: u64 = a.files.values().map(|d| d.size).sum();
    assert_eq!(from_dir, bytes, "progress counts every byte once");
    assert!(guwah_core::bag::validate(&a).is_valid());
    // Read for BagIt validation only: the same digests, but only the
    // tag files the validator parses are held.
    let (c, _) = read_bag(&zip, &|_| {}).unwrap();
    assert_eq!(c.files, a.files);
    assert_eq!(
        c.tag_contents.keys().collect::<Vec<_>>(),
        [
            "bag-info.txt",
            "bagit.txt",
            "manifest-sha256.txt",
            "manifest-sha512.txt",
            "tagmanifest-sha256.txt",
            "tagmanifest-sha512.txt"
        ]
    );
    assert!(guwah_core::bag::validate(&c).is_valid());

    // The tag hook sees every tag file, once, before reading ends.
    for bag in [&dir, &zip] {
        let seen = std::sync::Mutex::new(Vec::new());
        let hooks = guwah_package::Hooks {
            progress: &|_| {},
            tags_read: &|tags| seen.lock().unwrap().push(tags.clone()),
        };
        let (files, _) = read_bag_with(bag, &ReadOptions::package(), &hooks).unwrap();
        let seen = seen.into_inner().unwrap();
        assert_eq!(seen.len(), 1, "called once");
        assert_eq!(seen[0], files.tag_contents);
    }
}

fn refused(bag: &Path) -> (String, String) {
    match read_bag(bag, &|_| {}) {
        Err(SourceError::Refused(path, why)) => (path, why),
        other => panic!("expected a refusal, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn links_and_special_files_are_refused_anywhere() {
    let tmp = tempfile::tempdir().unwrap();
    let places = [
        "data/notes/link",
        "guwah/items/03/events/link",
        "guwah/link",
        "link",
    ];
    for (i, place) in places.iter().enumerate() {
        let bag = write(&tmp.path().join(format!("bag{i}")), false);
        std::os::unix::fs::symlink("/etc/passwd", bag.join(place)).unwrap();
        let (path, why) = refused(&bag);
        assert_eq!(path, *place);
        assert!(why.contains("symbolic link"), "{why}");
    }
    let bag = write(&tmp.path().join("fifo"), false);
    let fifo = bag.join("guwah/items/09/fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let (path, why) = refused(&bag);
    assert_eq!(path, "guwah/items/09/fifo");
    assert!(why.contains("special file"), "{why}");
}

#[test]
fn names_that_are_not_utf8_are_refused() {
    use std::os::unix::ffi::OsStrExt;
    let tmp = tempfile::tempdir().unwrap();
    let bag = write(&tmp.path().join("bag"), false);
    let name = std::ffi::OsStr::from_bytes(b"bad-\xff-name");
    std::fs::write(bag.join("guwah/items/05").join(name), b"x").unwrap();
    let (path, why) = refused(&bag);
    assert!(path.starts_with("guwah/items/05/bad-"), "{path}");
    assert!(why.contains("UTF-8"), "{why}");
}

#[test]
fn an_oversized_tag_file_is_refused_before_it_is_read_whole() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = write(&tmp.path().join("bag"), false);
    let f = std::fs::File::create(bag.join("guwah/items/01/huge")).unwrap();
    f.set_len(guwah_package::source::MAX_TAG_FILE + 1).unwrap();
    match read_package(&bag, &|_| {}) {
        Err(SourceError::TagTooLarge(path, size)) => {
            assert_eq!(path, "guwah/items/01/huge");
            assert_eq!(size, guwah_package::source::MAX_TAG_FILE + 1);
        }
        other => panic!("expected TagTooLarge, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn tags_held_in_all_are_capped_and_unparsed_ones_streamed() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = write(&tmp.path().join("bag"), false);
    // Five item files of 60 MiB: each under the per-file limit, 300 MiB in all.
    for i in 0..5 {
        let f = std::fs::File::create(bag.join(format!("guwah/items/big{i}.txt"))).unwrap();
        f.set_len(60 << 20).unwrap();
    }
    match read_package(&bag, &|_| {}) {
        Err(e @ SourceError::TagsTooLarge(..)) => {
            let msg = e.to_string();
            assert!(msg.starts_with("guwah/items/big"), "{msg}");
            assert!(msg.contains("268435456-byte limit in all"), "{msg}");
        }
        other => panic!("expected TagsTooLarge, got {:?}", other.map(|_| ())),
    }
    // For BagIt validation they are not parsed: hashed, never held.
    let (files, _) = read_bag(&bag, &|_| {}).unwrap();
    assert_eq!(files.files["guwah/items/big3.txt"].size, 60 << 20);
    assert!(!files.tag_contents.contains_key("guwah/items/big3.txt"));
}

#[test]
fn an_empty_payload_folder_is_present() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = tmp.path().join("bag");
    std::fs::create_dir_all(bag.join("data")).unwrap();
    std::fs::write(bag.join("bagit.txt"), guwah_core::bag::bagit_txt()).unwrap();
    std::fs::write(bag.join("manifest-sha256.txt"), b"").unwrap();
    let (files, _) = read_bag(&bag, &|_| {}).unwrap();
    assert!(files.payload_dir);
    assert!(guwah_core::bag::validate(&files).is_valid());
    std::fs::remove_dir(bag.join("data")).unwrap();
    let (files, _) = read_bag(&bag, &|_| {}).unwrap();
    let r = guwah_core::bag::validate(&files);
    assert!(r.errors.iter().any(|e| e.path == "data/"), "{:?}", r.errors);
}
