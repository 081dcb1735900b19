//! Reading bag folders and zips through the public API: the same files and
//! digests either way, nested tag folders found, and anything that is not a
//! regular file refused with its name, wherever it is in the bag.

use std::path::{Path, PathBuf};

use guwah_package::{BagWriter, SourceError, read_bag};

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
    let (a, _) = read_bag(&dir, &count).unwrap();
    let from_dir = total.swap(0, std::sync::atomic::Ordering::Relaxed);
    let (b, _) = read_bag(&zip, &count).unwrap();
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
    assert!(guwah_core::bag::validate(&a).errors.is_empty());

    // The tag hook sees every tag file, once, before reading ends.
    for bag in [&dir, &zip] {
        let seen = std::sync::Mutex::new(Vec::new());
        let hooks = guwah_package::Hooks {
            progress: &|_| {},
            tags_read: &|tags| seen.lock().unwrap().push(tags.clone()),
        };
        let (files, _) = guwah_package::read_bag_with(bag, &hooks).unwrap();
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
    match read_bag(&bag, &|_| {}) {
        Err(SourceError::TagTooLarge(path, size)) => {
            assert_eq!(path, "guwah/items/01/huge");
            assert_eq!(size, guwah_package::source::MAX_TAG_FILE + 1);
        }
        other => panic!("expected TagTooLarge, got {:?}", other.map(|_| ())),
    }
}
