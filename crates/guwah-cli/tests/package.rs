//! Evidence packages end to end: `guwah export` a mixed vault to a folder
//! and a zip, `guwah verify-bundle` them with and without a trusted key,
//! tamper with one byte of each kind of file and see it named, withhold
//! and later disclose a field, and refuse broken zips without writing.

mod common;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use common::*;

struct Fixture {
    v: TestVault,
    ids: Vec<String>,
    key: String,
    /// The folder package, exported with `source` withheld.
    dir: PathBuf,
    /// The zip package, exported by tag.
    zip: PathBuf,
}

fn fixture() -> Fixture {
    let v = TestVault::init();
    let jpeg = [&[0xFF, 0xD8, 0xFF, 0xE0][..], &[7u8; 2000]].concat();
    let png = [&b"\x89PNG\r\n\x1a\n"[..], &[1u8; 300]].concat();
    let a = v.file("witness statement.txt", b"I saw it on the 3rd.\n");
    let b = v.file("IMG_0001.jpg", &jpeg);
    let c = v.file("map.png", &png);
    let d = v.file("report.pdf", b"%PDF-1.4\n%fake\n");
    let out = v.ok(&[
        "--json",
        "add",
        &a,
        &b,
        &c,
        &d,
        "--source",
        "sent by a relative",
        "--tag",
        "case-7",
    ]);
    let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
    let ids: Vec<String> = parsed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    v.ok(&[
        "annotate",
        &ids[1],
        "--note",
        "faces blurred in the copy sent to press",
    ]);
    let got = v.tmp.path().join("got.jpg");
    v.ok(&[
        "get",
        &ids[1],
        "--out",
        got.to_str().unwrap(),
        "--reason",
        "review",
    ]);
    let key = v.ok(&["log", "key"]).trim().to_owned();
    let dir = v.tmp.path().join("pkg");
    v.ok(&[
        "export",
        &ids[0],
        &ids[1],
        &ids[2][..12],
        &ids[3],
        "--out",
        dir.to_str().unwrap(),
        "--withhold",
        "source",
        "--org",
        "Example Human Rights Org",
        "--contact-name",
        "A. Archivist",
        "--contact-email",
        "archive@example.org",
    ]);
    let zip = v.tmp.path().join("pkg.zip");
    v.ok(&[
        "export",
        "--tag",
        "case-7",
        "--out",
        zip.to_str().unwrap(),
        "--lang",
        "fr",
    ]);
    Fixture {
        v,
        ids,
        key,
        dir,
        zip,
    }
}

fn verify(path: &Path, trust: Option<&str>, extra: &[&str]) -> Output {
    verify_bundle(path, trust, extra)
}

/// A copy of the folder package with one byte of `rel` flipped.
fn tampered(f: &Fixture, name: &str, rel: &str, at: Option<usize>) -> PathBuf {
    let copy = f.v.tmp.path().join(format!("tampered-{name}"));
    copy_tree(&f.dir, &copy);
    let p = copy.join(rel);
    let mut bytes = fs::read(&p).unwrap_or_else(|e| panic!("{rel}: {e}"));
    let i = at.unwrap_or(bytes.len() / 2).min(bytes.len() - 1);
    bytes[i] ^= 0x01;
    fs::write(&p, bytes).unwrap();
    copy
}

/// The item's file (package v2): every tag file of the item, packed.
fn item_file(id: &str) -> String {
    format!("guwah/items/{id}.txt")
}

/// The parts of an item file, with each part's offset in the file.
fn parts(f: &Fixture, id: &str) -> Vec<(String, usize, Vec<u8>)> {
    let bytes = fs::read(f.dir.join(item_file(id))).unwrap();
    guwah_core::item_file::parse_parts(&bytes)
        .unwrap()
        .into_iter()
        .map(|(name, part)| {
            let at = part.as_ptr() as usize - bytes.as_ptr() as usize;
            (name.to_owned(), at, part.to_vec())
        })
        .collect()
}

/// Where part `name` of the item's file starts, and how a failure names it.
fn part(f: &Fixture, id: &str, name: &str) -> (usize, String) {
    let at = parts(f, id)
        .into_iter()
        .find(|(n, _, _)| n == name)
        .unwrap_or_else(|| panic!("no part {name}"))
        .1;
    (at, format!("{}#{name}", item_file(id)))
}

/// `events/<id>/` of the item's first custody event.
fn first_event(f: &Fixture, id: &str) -> String {
    let first = parts(f, id)
        .into_iter()
        .map(|(n, _, _)| n)
        .find(|n| n.starts_with("events/"))
        .expect("an event");
    first.rsplit_once('/').unwrap().0.to_owned() + "/"
}

#[test]
fn export_verify_tamper_withhold_disclose() {
    self_test_sha256();
    let f = fixture();

    // Valid with the trusted key, folder and zip.
    for p in [&f.dir, &f.zip] {
        let o = verify(p, Some(&f.key), &[]);
        must_succeed(&o, &format!("verify-bundle {}", p.display()));
        assert!(text(&o).contains("VALID"), "{}", text(&o));
    }
    let listing = files_under(&f.dir);
    for want in [
        "bagit.txt",
        "bag-info.txt",
        "manifest-sha256.txt",
        "manifest-sha512.txt",
        "tagmanifest-sha256.txt",
        "tagmanifest-sha512.txt",
        "REPORT.html",
        "guwah/package.txt",
        "guwah/checkpoint",
        "guwah/keys",
    ] {
        assert!(
            listing.iter().any(|l| l == want),
            "{want} missing: {listing:?}"
        );
    }
    let info = fs::read_to_string(f.dir.join("bag-info.txt")).unwrap();
    for label in [
        "Source-Organization: Example Human Rights Org",
        "Contact-Name:",
        "Contact-Email:",
        "External-Description:",
        "Bagging-Date:",
        "External-Identifier:",
        "Payload-Oxum:",
    ] {
        assert!(info.contains(label), "{label} not in bag-info.txt:\n{info}");
    }
    // Every original is in data/, byte-exact.
    let pkg_txt = fs::read_to_string(f.dir.join("guwah/package.txt")).unwrap();
    assert!(pkg_txt.starts_with("guwah/package/v2\n"));
    for id in &f.ids {
        let line = pkg_txt
            .lines()
            .find(|l| l.contains(id.as_str()))
            .expect("item listed");
        let payload = line.rsplit(' ').next().unwrap();
        assert_eq!(fs::read(f.dir.join(payload)).unwrap(), f.v.get(id));
        let receipt = parts(&f, id)
            .into_iter()
            .find(|(n, _, _)| n == "receipt.tlog-proof")
            .map(|(_, _, b)| String::from_utf8(b).unwrap())
            .expect("a receipt part");
        assert!(receipt.starts_with("c2sp.org/tlog-proof@v1\nindex "));
        assert!(receipt.ends_with(&fs::read_to_string(f.dir.join("guwah/checkpoint")).unwrap()));
    }
    // The report: both languages, no script.
    let en = fs::read_to_string(f.dir.join("REPORT.html")).unwrap();
    assert!(en.contains("lang=\"en\"") && !en.contains("<script"));
    assert!(en.contains(&f.ids[1]));

    // Without a trusted key: consistent but untrusted, exit 1.
    let o = verify(&f.dir, None, &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("UNTRUSTED"), "{}", text(&o));
    // A wrong trusted key (another log's): fails, naming the checkpoint.
    let other = TestVault::init();
    let other_key = other.ok(&["log", "key"]).trim().to_owned();
    let o = verify(&f.dir, Some(&other_key), &[]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("guwah/checkpoint"), "{}", text(&o));
    // A malformed key: a clear usage error.
    let o = verify(&f.dir, Some("not a key"), &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));

    // Withheld field listed in JSON; the rest verifies.
    let o = verify(&f.dir, Some(&f.key), &["--json"]);
    must_succeed(&o, "verify-bundle --json");
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["verdict"], "valid");
    for item in j["items"].as_array().unwrap() {
        assert_eq!(item["withheld"], serde_json::json!(["source"]), "{item}");
        assert!(
            item["fields"]
                .as_array()
                .unwrap()
                .iter()
                .any(|x| x["name"] == "filename" && x["value"].is_string())
        );
    }
    let jpeg_item = j["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["id"] == f.ids[1].as_str())
        .unwrap();
    let actions: Vec<&str> = jpeg_item["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["annotated", "exported", "exported"],
        "{jpeg_item}"
    );
    // The zip (exported by tag, nothing withheld) discloses the source.
    let o = verify(&f.zip, Some(&f.key), &["--json"]);
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert!(j["items"][0]["withheld"].as_array().unwrap().is_empty());

    // One flipped byte anywhere: failed, and the file is named.
    let id = &f.ids[1];
    let payload = pkg_txt
        .lines()
        .find(|l| l.contains(id.as_str()))
        .unwrap()
        .rsplit(' ')
        .next()
        .unwrap()
        .to_owned();
    let event = first_event(&f, id);
    let (receipt_at, receipt) = part(&f, id, "receipt.tlog-proof");
    let (event_at, event_record) = part(&f, id, &format!("{event}record"));
    let (record_at, record) = part(&f, id, "record");
    let (fields_at, fields) = part(&f, id, "fields");
    let cases: Vec<(&str, String, Option<usize>, String)> = vec![
        ("payload", payload.clone(), None, payload.clone()),
        ("receipt", item_file(id), Some(receipt_at + 40), receipt),
        (
            "manifest",
            "manifest-sha256.txt".into(),
            Some(3),
            "manifest-sha256.txt".into(),
        ),
        ("event", item_file(id), Some(event_at + 20), event_record),
        (
            "checkpoint",
            "guwah/checkpoint".into(),
            Some(2),
            "guwah/checkpoint".into(),
        ),
        ("record", item_file(id), Some(record_at + 30), record),
        ("fields", item_file(id), Some(fields_at + 30), fields),
    ];
    for (name, rel, at, named) in cases {
        let copy = tampered(&f, name, &rel, at);
        let o = verify(&copy, Some(&f.key), &[]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(1), "tampered {name}: {t}");
        assert!(t.contains("FAILED"), "tampered {name}: {t}");
        assert!(
            t.contains(&named),
            "tampered {name}: output does not name {named}:\n{t}"
        );
    }

    // Disclose the withheld field: the output recomputes to the commitment.
    let disclosure = f.v.tmp.path().join("source.disclosure");
    let out = f.v.ok(&[
        "--json",
        "disclose",
        &f.ids[0],
        "source",
        "--out",
        disclosure.to_str().unwrap(),
    ]);
    let d: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(d["value"], "sent by a relative");
    assert_eq!(d["item"], f.ids[0].as_str());
    let salt = B64.decode(d["salt"].as_str().unwrap()).unwrap();
    let mut msg = b"guwah/field/v1\nsource\n".to_vec();
    msg.extend_from_slice(&salt);
    msg.extend_from_slice(b"sent by a relative");
    assert_eq!(B64.encode(sha256(&msg)), d["commitment"].as_str().unwrap());
    // ... and checks against the package that withheld it.
    let o = verify(
        &f.dir,
        Some(&f.key),
        &["--disclosure", disclosure.to_str().unwrap()],
    );
    must_succeed(&o, "verify-bundle --disclosure");
    assert!(text(&o).contains("DISCLOSURE OK"), "{}", text(&o));
    // A forged value fails.
    let forged = f.v.tmp.path().join("forged.disclosure");
    let body = fs::read_to_string(&disclosure).unwrap().replace(
        &B64.encode("sent by a relative"),
        &B64.encode("sent by a stranger"),
    );
    fs::write(&forged, body).unwrap();
    let o = verify(
        &f.dir,
        Some(&f.key),
        &["--disclosure", forged.to_str().unwrap()],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("DISCLOSURE FAILED"), "{}", text(&o));
    // The disclosure is itself a custody event now.
    let show = f.v.ok(&["show", &f.ids[0]]);
    assert!(show.contains("disclosed"), "{show}");

    // bagit-python, when installed, agrees (soft check).
    if let Ok(o) = Command::new("python3")
        .args(["-m", "bagit", "--validate"])
        .arg(&f.dir)
        .output()
        && o.status.code() != Some(1)
        && !String::from_utf8_lossy(&o.stderr).contains("No module named")
    {
        assert!(o.status.success(), "bagit-python: {}", text(&o));
    }
}

#[test]
fn bad_packages_are_refused_without_writing() {
    let f = fixture();
    let before = snapshot(f.v.tmp.path(), &|_| false);
    // A truncated zip.
    let bytes = fs::read(&f.zip).unwrap();
    let trunc = f.v.tmp.path().join("trunc.zip");
    fs::write(&trunc, &bytes[..bytes.len() * 2 / 3]).unwrap();
    let o = verify(&trunc, Some(&f.key), &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(text(&o).contains("trunc.zip"), "{}", text(&o));
    assert_eq!(text(&o).lines().count(), 1, "{}", text(&o));
    // Not a package at all.
    let junk = f.v.tmp.path().join("junk.zip");
    fs::write(&junk, b"PK\x03\x04 not really").unwrap();
    let o = verify(&junk, Some(&f.key), &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let o = verify(&f.v.tmp.path().join("absent"), Some(&f.key), &[]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    // A zip whose entry escapes the bag (made with Python's zipfile).
    let evil = f.v.tmp.path().join("evil.zip");
    let made = Command::new("python3")
        .arg("-c")
        .arg(
            "import sys,zipfile\nz=zipfile.ZipFile(sys.argv[1],'w')\n\
z.writestr('bagit.txt','BagIt-Version: 1.0\\nTag-File-Character-Encoding: UTF-8\\n')\n\
z.writestr('../escaped.txt','x')\nz.writestr('data/a','a')\nz.close()",
        )
        .arg(&evil)
        .status();
    if made.is_ok_and(|s| s.success()) {
        let o = verify(&evil, Some(&f.key), &[]);
        assert_eq!(o.status.code(), Some(3), "{}", text(&o));
        assert!(
            !f.v.tmp
                .path()
                .parent()
                .unwrap()
                .join("escaped.txt")
                .exists()
        );
    }
    // Nothing was written by any of it (beyond the inputs we made).
    let after = snapshot(f.v.tmp.path(), &|p| {
        ["trunc.zip", "junk.zip", "evil.zip"].contains(&p)
    });
    let before: std::collections::BTreeMap<_, _> = before.into_iter().collect();
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );

    // Export refuses an existing destination and unknown items, writing nothing.
    let o =
        f.v.run(&["export", &f.ids[0], "--out", f.dir.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let nowhere = f.v.tmp.path().join("nowhere");
    let o =
        f.v.run(&["export", "abcdef123456", "--out", nowhere.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(!nowhere.exists());
    assert!(!f.v.tmp.path().join("nowhere.partial").exists());
    let o = f.v.run(&[
        "export",
        &f.ids[0],
        "--withhold",
        "Bad Name",
        "--out",
        nowhere.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    assert!(!nowhere.exists());
}

/// "Withhold GPS and verify the rest": `--withhold gps` withholds every
/// `gps.*` field a photo's metadata was sealed with, the coordinates appear
/// nowhere in the package, and the package still verifies.
#[test]
fn withholding_gps_withholds_every_gps_field() {
    let v = TestVault::init();
    let photo =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../samples/evidence/street-photo.jpg");
    let id = v.add(&[photo.to_str().unwrap()])[0].0.clone();
    let shown = v.ok(&["show", &id]);
    let latitude = shown
        .lines()
        .find_map(|l| l.trim().strip_prefix("gps.latitude"))
        .expect("the sample photo carries a GPS position")
        .trim()
        .to_owned();
    let key = v.ok(&["log", "key"]).trim().to_owned();
    let pkg = v.tmp.path().join("pkg");
    v.ok(&[
        "export",
        &id,
        "--withhold",
        "gps",
        "--out",
        pkg.to_str().unwrap(),
    ]);
    let o = verify(&pkg, Some(&key), &["--json"]);
    must_succeed(&o, "verify-bundle of a package with gps withheld");
    let j: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(j["verdict"], "valid");
    let withheld: Vec<&str> = j["items"][0]["withheld"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w.as_str().unwrap())
        .collect();
    assert!(
        withheld.contains(&"gps.latitude") && withheld.contains(&"gps.longitude"),
        "{withheld:?}"
    );
    assert!(
        withheld.iter().all(|w| w.starts_with("gps.")),
        "{withheld:?}"
    );
    // Nowhere in clear, nor in base64 as a disclosed value is written.
    let encoded = B64.encode(&latitude);
    for rel in files_under(&pkg) {
        let bytes = fs::read(pkg.join(&rel)).unwrap();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains(&latitude),
            "{rel} holds the latitude {latitude}"
        );
        assert!(!text.contains(&encoded), "{rel} holds the latitude, base64");
    }
}
