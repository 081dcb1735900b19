//! Packages in the older format v1 (a folder of files per item) still
//! verify: export a v2 package, unpack every item file into its v1 folder,
//! re-seal the tag manifests, and `guwah verify-bundle` finds it VALID and
//! reports `guwah/package/v1`; one flipped byte in a v1 receipt, or a stray
//! v2 item file beside the folders, makes it FAILED, naming the file.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use common::*;

fn verify(path: &Path, trust: &str, extra: &[&str]) -> Output {
    verify_bundle(path, Some(trust), extra)
}

/// A copy of the v2 package at `v2` in format v1: each item file's parts
/// as files of the item's folder, `guwah/package.txt` saying v1.
fn to_v1(v2: &Path, v1: &Path) {
    copy_tree(v2, v1);
    let items = v1.join("guwah/items");
    for e in fs::read_dir(&items).unwrap() {
        let path = e.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_owned();
        let id = name.strip_suffix(".txt").expect("only item files in v2");
        let bytes = fs::read(&path).unwrap();
        for (part, body) in guwah_core::item_file::parse_parts(&bytes).unwrap() {
            let dest = items.join(id).join(part);
            fs::create_dir_all(dest.parent().unwrap()).unwrap();
            fs::write(dest, body).unwrap();
        }
        fs::remove_file(&path).unwrap();
    }
    let index = v1.join("guwah/package.txt");
    let text = fs::read_to_string(&index).unwrap();
    let rest = text
        .strip_prefix("guwah/package/v2\n")
        .expect("export writes v2");
    fs::write(&index, format!("guwah/package/v1\n{rest}")).unwrap();
    reseal_tag_manifests(v1);
}

/// Exit 1, FAILED, and `named` in the output.
fn must_fail_naming(o: &Output, named: &str, what: &str) {
    let t = text(o);
    assert_eq!(o.status.code(), Some(1), "{what}: {t}");
    assert!(t.contains("FAILED"), "{what}: {t}");
    assert!(
        t.contains(named),
        "{what}: output does not name {named}:\n{t}"
    );
}

/// Where, in a tlog-proof receipt, the middle of its first proof hash is:
/// the line after `index <n>`.
fn proof_hash_middle(receipt: &[u8]) -> usize {
    let text = std::str::from_utf8(receipt).unwrap();
    let index_line = text.find("\nindex ").expect("an index line") + 1;
    let start = index_line + text[index_line..].find('\n').unwrap() + 1;
    let line = &text[start..start + text[start..].find('\n').unwrap()];
    assert!(
        line.len() == 44 && line.ends_with('='),
        "first proof line is not a base64 hash: {line:?}"
    );
    start + line.len() / 2
}

/// A copy of the v1 package with the v2 item file `stray` added back, its
/// tag manifests resealed.
fn stray_copy(v2: &Path, v1: &Path, stray: &str) -> PathBuf {
    let copy = v1.with_file_name("pkg-v1-stray");
    copy_tree(v1, &copy);
    fs::copy(v2.join(stray), copy.join(stray)).unwrap();
    reseal_tag_manifests(&copy);
    copy
}

#[test]
fn v1_packages_still_verify() {
    let v = TestVault::init();
    let a = v.file("statement.txt", b"I saw it on the 3rd.\n");
    let b = v.file(
        "photo.jpg",
        &[&[0xFF, 0xD8, 0xFF, 0xE0][..], &[7u8; 500]].concat(),
    );
    let c = v.file("report.pdf", b"%PDF-1.4\n%fake\n");
    let ids: Vec<String> = v
        .add(&[a.as_str(), &b, &c])
        .into_iter()
        .map(|(id, _)| id)
        .collect();
    v.ok(&[
        "annotate",
        &ids[1],
        "--note",
        "faces blurred in the press copy",
    ]);
    let key = v.ok(&["log", "key"]).trim().to_owned();
    let v2 = v.tmp.path().join("pkg-v2");
    let mut export = vec!["export"];
    export.extend(ids.iter().map(String::as_str));
    export.extend(["--out", v2.to_str().unwrap()]);
    v.ok(&export);

    // The tag manifests are rebuilt exactly as the exporter wrote them.
    let resealed = v.tmp.path().join("pkg-v2-resealed");
    copy_tree(&v2, &resealed);
    reseal_tag_manifests(&resealed);
    for (_, name) in TAG_MANIFESTS {
        assert_eq!(
            fs::read_to_string(resealed.join(name)).unwrap(),
            fs::read_to_string(v2.join(name)).unwrap(),
            "{name} is not rebuilt byte for byte"
        );
    }

    // Converted to v1: valid, and reported as v1.
    let v1 = v.tmp.path().join("pkg-v1");
    to_v1(&v2, &v1);
    let listing = files_under(&v1);
    for id in &ids {
        for part in ["record", "receipt.tlog-proof", "fields"] {
            let want = format!("guwah/items/{id}/{part}");
            assert!(listing.contains(&want), "{want} missing: {listing:?}");
        }
        assert!(!listing.contains(&format!("guwah/items/{id}.txt")));
    }
    let annotated = format!("guwah/items/{}/events/", ids[1]);
    let events = listing
        .iter()
        .filter(|l| l.starts_with(&annotated) && l.ends_with("/receipt.tlog-proof"))
        .count();
    assert!(
        events >= 2,
        "annotated item has {events} events: {listing:?}"
    );
    let o = verify(&v1, &key, &[]);
    must_succeed(&o, "verify-bundle (v1)");
    assert!(text(&o).contains("VALID"), "{}", text(&o));
    let o = verify(&v1, &key, &["--json"]);
    must_succeed(&o, "verify-bundle --json (v1)");
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["verdict"], "valid", "{j}");
    assert_eq!(j["version"], "guwah/package/v1", "{j}");
    assert_eq!(j["items"].as_array().unwrap().len(), ids.len(), "{j}");

    // One byte of a proof hash changed (still base64): failed, file named.
    let receipt = format!("guwah/items/{}/receipt.tlog-proof", ids[1]);
    let copy = v.tmp.path().join("pkg-v1-tampered");
    copy_tree(&v1, &copy);
    let mut bytes = fs::read(copy.join(&receipt)).unwrap();
    let at = proof_hash_middle(&bytes);
    bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
    fs::write(copy.join(&receipt), bytes).unwrap();
    must_fail_naming(&verify(&copy, &key, &[]), &receipt, "tampered v1 receipt");
    // With the tag manifests resealed, only the receipt's own check is left.
    reseal_tag_manifests(&copy);
    must_fail_naming(
        &verify(&copy, &key, &[]),
        &receipt,
        "tampered v1 receipt, resealed",
    );

    // A v2 item file in a v1 package is no part of it, even resealed.
    let stray = format!("guwah/items/{}.txt", ids[0]);
    let copy = stray_copy(&v2, &v1, &stray);
    must_fail_naming(&verify(&copy, &key, &[]), &stray, "stray item file");
}
