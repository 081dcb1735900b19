//! `guwah similar` and `guwah duplicates`, end to end: a photo, three copies
//! of it made here (re-encoded at another JPEG quality, resized to half and
//! saved as PNG, cropped by 1% a side) and an unrelated photo. The variants
//! are found within the default 31 bits; the unrelated photo is not.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

/// A file of `shared/fixtures/pdq`, found from the nearest ancestor of this
/// crate holding one (the repository may be a worktree one level deeper).
fn fixture(p: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared/fixtures/pdq"))
        .find(|d| d.is_dir())
        .expect("shared/fixtures next to the repository (see README)")
        .join(p)
}

#[test]
fn variants_are_found_and_clustered_unrelated_is_not() {
    let v = TestVault::init();
    let photo = fixture("bridge-mods/aaa-orig.jpg");
    let img = image::open(&photo).expect("fixture photo").to_rgb8();
    let (w, h) = img.dimensions();

    let mut reencoded = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut reencoded, 55)
        .encode_image(&img)
        .unwrap();
    let resized =
        image::imageops::resize(&img, w / 2, h / 2, image::imageops::FilterType::Triangle);
    let mut resized_png = Vec::new();
    resized
        .write_to(
            &mut std::io::Cursor::new(&mut resized_png),
            image::ImageFormat::Png,
        )
        .unwrap();
    // PDQ tolerates little cropping: 1% a side is ~18 bits, 2% ~36.
    let (cx, cy) = (w / 100, h / 100);
    let cropped = image::imageops::crop_imm(&img, cx, cy, w - 2 * cx, h - 2 * cy).to_image();
    let mut cropped_jpg = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut cropped_jpg, 90)
        .encode_image(&cropped)
        .unwrap();

    let original = v.file("original.jpg", &std::fs::read(&photo).unwrap());
    let a = v.file("reencoded.jpg", &reencoded);
    let b = v.file("resized.png", &resized_png);
    let c = v.file("cropped.jpg", &cropped_jpg);
    let other = v.file(
        "unrelated.jpg",
        &std::fs::read(fixture("reg-test-input/labelme-subset/q0291.jpg")).unwrap(),
    );
    let notes = v.file("notes.txt", b"not an image\n");
    let items = v.add(&[&original, &a, &b, &c, &other, &notes]);
    let id = |name: &str| {
        items
            .iter()
            .find(|(_, p)| p.ends_with(name))
            .map(|(i, _)| i.clone())
            .unwrap()
    };

    let out: Value =
        serde_json::from_str(&v.ok(&["--json", "similar", &id("original.jpg")])).unwrap();
    let found: Vec<(String, u64)> = out["matches"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["id"].as_str().unwrap().to_owned(),
                m["distance"].as_u64().unwrap(),
            )
        })
        .collect();
    println!("similar to original: {found:?}");
    for name in ["reencoded.jpg", "resized.png", "cropped.jpg"] {
        let d = found.iter().find(|(i, _)| *i == id(name)).map(|(_, d)| *d);
        assert!(d.is_some_and(|d| d <= 31), "{name} not found: {found:?}");
    }
    assert!(!found.iter().any(|(i, _)| *i == id("unrelated.jpg")));
    assert_eq!(found.len(), 3, "{found:?}");

    // The text output names the files, nearest first.
    let text = v.ok(&["similar", &id("original.jpg")[..12]]);
    assert!(
        text.contains("reencoded.jpg") && !text.contains("unrelated.jpg"),
        "{text}"
    );

    // A tight threshold keeps only the closest copies.
    let tight: Value = serde_json::from_str(&v.ok(&[
        "--json",
        "similar",
        &id("original.jpg"),
        "--max-distance",
        "0",
    ]))
    .unwrap();
    assert!(
        tight["matches"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["distance"] == 0)
    );

    // The unrelated photo has no near-duplicate.
    let alone: Value =
        serde_json::from_str(&v.ok(&["--json", "similar", &id("unrelated.jpg")])).unwrap();
    assert!(alone["matches"].as_array().unwrap().is_empty(), "{alone}");

    let dup: Value = serde_json::from_str(&v.ok(&["--json", "duplicates"])).unwrap();
    let clusters = dup["clusters"].as_array().unwrap();
    assert_eq!(clusters.len(), 1, "{dup}");
    let mut members: Vec<String> = clusters[0]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect();
    members.sort();
    let mut want: Vec<String> = [
        "original.jpg",
        "reencoded.jpg",
        "resized.png",
        "cropped.jpg",
    ]
    .iter()
    .map(|n| id(n))
    .collect();
    want.sort();
    assert_eq!(members, want);
    assert_eq!(dup["hashed_items"], 5);
    let text = v.ok(&["duplicates"]);
    assert!(text.contains("cluster 1 (4 items)"), "{text}");

    // No perceptual hash is on disk in the clear.
    let h = out["id"].as_str().unwrap().to_owned();
    assert_eq!(h, id("original.jpg"));
    let index = std::fs::read(v.root.join("index.sqlite")).unwrap();
    let pdq_hex = "f8f8f0cee0f4a84f06370a22038f63f0";
    assert!(
        !index
            .windows(pdq_hex.len())
            .any(|w| w == pdq_hex.as_bytes())
    );
}

#[test]
fn unknown_and_ambiguous_ids_fail_cleanly() {
    let v = TestVault::init();
    let o = v.run(&["similar", "abcdef"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let o = v.ok(&["duplicates"]);
    assert!(o.contains("no near-duplicates"), "{o}");
}

#[test]
fn another_holder_finds_a_shared_picture_by_its_hash_alone() {
    let photo = fixture("bridge-mods/aaa-orig.jpg");
    let bytes = std::fs::read(&photo).unwrap();
    let img = image::open(&photo).expect("fixture photo").to_rgb8();
    let mut reencoded = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut reencoded, 60)
        .encode_image(&img)
        .unwrap();

    // One organisation holds the original; `show --json` gives its hash.
    let ours = TestVault::init();
    let original = ours.file("original.jpg", &bytes);
    let (id, _) = ours.add(&[&original]).remove(0);
    let shown: Value = serde_json::from_str(&ours.ok(&["--json", "show", &id])).unwrap();
    let frame = &shown["perceptual_hash"]["frames"][0];
    assert_eq!(shown["perceptual_hash"]["kind"], "image", "{shown}");
    let hex = frame["pdq"].as_str().unwrap().to_owned();
    assert_eq!(hex.len(), 64);
    assert!(frame["quality"].as_u64().unwrap() >= 50, "{frame}");
    assert!(ours.ok(&["show", &id]).contains(&format!("PDQ {hex}")));

    // `list --json` carries what `sha256sum` prints for the file.
    let listed = ours.list();
    let sum = std::process::Command::new("sha256sum")
        .arg(&photo)
        .output()
        .expect("sha256sum (coreutils)");
    let want = String::from_utf8(sum.stdout).unwrap();
    let want = want.split_whitespace().next().unwrap();
    assert_eq!(listed[0]["sha256"], want);

    // Another holds a re-encoded copy and a text file; it gets only the hash.
    let theirs = TestVault::init();
    let copy = theirs.file("copy.jpg", &reencoded);
    let notes = theirs.file("notes.txt", b"not a picture\n");
    let added = theirs.add(&[&copy, &notes]);
    let found: Value =
        serde_json::from_str(&theirs.ok(&["--json", "similar", "--pdq", &hex])).unwrap();
    assert_eq!(found["pdq"], hex.as_str());
    assert!(found.get("id").is_none(), "{found}");
    let matches = found["matches"].as_array().unwrap();
    assert_eq!(matches.len(), 1, "{found}");
    assert_eq!(matches[0]["id"], added[0].0.as_str());
    assert!(matches[0]["distance"].as_u64().unwrap() <= 31);

    // A hash far from everything finds nothing; a malformed one is a usage error.
    let far: String = hex
        .chars()
        .map(|c| {
            let n = c.to_digit(16).unwrap();
            char::from_digit(15 - n, 16).unwrap()
        })
        .collect();
    let none = theirs.ok(&["similar", "--pdq", &far]);
    assert!(none.contains("no item within 31 bits of PDQ"), "{none}");
    let bad = theirs.run(&["similar", "--pdq", "abc"]);
    assert_eq!(bad.status.code(), Some(2), "{}", text(&bad));
    assert!(text(&bad).contains("is not a PDQ hash"), "{}", text(&bad));
}
