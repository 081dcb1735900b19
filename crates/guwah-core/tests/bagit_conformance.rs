//! The Library of Congress BagIt conformance suite (v0.97 and v1.0), plus
//! one unit test per validation rule.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use guwah_core::bag::{self, Algorithm, BagFiles, BagReport, MultiHasher};

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/bagit-conformance")
}

fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, PathBuf)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(root, &p, out);
        } else {
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_str()
                .unwrap()
                .replace('\\', "/");
            out.push((rel, p));
        }
    }
}

/// Reads a bag folder the simple way (the test may do I/O; the library may not).
fn load(dir: &Path) -> BagFiles {
    let mut list = Vec::new();
    walk(dir, dir, &mut list);
    let mut files = BagFiles {
        payload_dir: dir.join("data").is_dir(),
        ..BagFiles::default()
    };
    for (rel, p) in &list {
        if !rel.starts_with("data/") {
            files
                .tag_contents
                .insert(rel.clone(), std::fs::read(p).unwrap());
        }
    }
    let algs = bag::algorithms_needed(&files.tag_contents);
    for (rel, p) in &list {
        files.files.insert(
            rel.clone(),
            MultiHasher::digest(&algs, &std::fs::read(p).unwrap()),
        );
    }
    files
}

#[test]
fn conformance_suite() {
    let root = suite();
    assert!(
        root.is_dir(),
        "conformance suite missing at {}",
        root.display()
    );
    let mut checked = 0;
    let mut folders = 0;
    let mut failures = Vec::new();
    for version in ["v0.97", "v1.0"] {
        for kind in ["valid", "invalid", "warning", "linux-only", "windows-only"] {
            let dir = root.join(version).join(kind);
            if !dir.is_dir() {
                continue;
            }
            let mut bags: Vec<_> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.is_dir())
                .collect();
            bags.sort();
            folders += bags.len();
            for b in bags {
                let report = bag::validate(&load(&b));
                checked += 1;
                let ok = match kind {
                    "valid" => report.is_valid(),
                    "warning" => report.is_valid() && !report.warnings.is_empty(),
                    // linux-only and windows-only hold bags that must fail on
                    // their OS; guwah rejects non-portable paths everywhere.
                    _ => !report.is_valid(),
                };
                if !ok {
                    failures.push(format!(
                        "{version}/{kind}/{}: {}",
                        b.file_name().unwrap().to_string_lossy(),
                        summary(&report)
                    ));
                }
            }
        }
    }
    assert_eq!(checked, folders);
    assert!(checked >= 40, "only {checked} bags found");
    assert!(
        failures.is_empty(),
        "{} of {checked} bags misjudged:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

fn summary(r: &BagReport) -> String {
    let e: Vec<String> = r.errors.iter().map(|i| i.to_string()).collect();
    let w: Vec<String> = r.warnings.iter().map(|i| i.to_string()).collect();
    format!("valid={} errors={e:?} warnings={w:?}", r.is_valid())
}

// ------------------------------------------------------------- unit rules

const ALGS: [Algorithm; 2] = [Algorithm::Sha256, Algorithm::Sha512];

/// A small valid v1.0 bag built with the writer helpers.
fn good() -> BTreeMap<String, Vec<u8>> {
    let payload: Vec<(&str, &[u8])> = vec![
        ("data/a.txt", b"hello\n"),
        ("data/dir/b 100%.bin", b"\x00\x01"),
    ];
    let mut all: BTreeMap<String, Vec<u8>> = BTreeMap::new();
    for (p, b) in &payload {
        all.insert(p.to_string(), b.to_vec());
    }
    all.insert("bagit.txt".into(), bag::bagit_txt().into());
    for a in ALGS {
        let entries: Vec<(String, String)> = payload
            .iter()
            .map(|(p, b)| {
                (
                    p.to_string(),
                    MultiHasher::digest(&[a], b).digests[&a].clone(),
                )
            })
            .collect();
        all.insert(
            format!("manifest-{a}.txt"),
            bag::manifest_text(a, &entries).into(),
        );
    }
    all.insert(
        "bag-info.txt".into(),
        bag::bag_info_text(&[
            ("Payload-Oxum", bag::payload_oxum(8, 2).as_str()),
            ("Bagging-Date", "2024-05-01"),
        ])
        .into(),
    );
    retag(&mut all);
    all
}

fn retag(all: &mut BTreeMap<String, Vec<u8>>) {
    all.retain(|k, _| !k.starts_with("tagmanifest-"));
    let snapshot = all.clone();
    for a in ALGS {
        let entries: Vec<(String, String)> = snapshot
            .iter()
            .filter(|(k, _)| !k.starts_with("data/") && !k.starts_with("tagmanifest-"))
            .map(|(k, b)| (k.clone(), MultiHasher::digest(&[a], b).digests[&a].clone()))
            .collect();
        all.insert(
            format!("tagmanifest-{a}.txt"),
            bag::manifest_text(a, &entries).into(),
        );
    }
}

fn files_of(all: &BTreeMap<String, Vec<u8>>) -> BagFiles {
    let mut f = BagFiles::default();
    for (k, v) in all {
        if !k.starts_with("data/") {
            f.tag_contents.insert(k.clone(), v.clone());
        }
    }
    let algs = bag::algorithms_needed(&f.tag_contents);
    for (k, v) in all {
        f.files.insert(k.clone(), MultiHasher::digest(&algs, v));
    }
    f
}

fn check(all: &BTreeMap<String, Vec<u8>>) -> BagReport {
    bag::validate(&files_of(all))
}

fn has(issues: &[bag::BagIssue], needle: &str) -> bool {
    issues.iter().any(|i| i.to_string().contains(needle))
}

#[test]
fn good_bag_is_valid_without_warnings() {
    let r = check(&good());
    assert!(r.is_valid() && r.warnings.is_empty(), "{}", summary(&r));
    assert_eq!(r.version.as_deref(), Some("1.0"));
    assert_eq!(r.info["Payload-Oxum"], vec!["8.2".to_string()]);
    let m = String::from_utf8(good()["manifest-sha256.txt"].clone()).unwrap();
    assert!(m.contains("data/dir/b 100%25.bin"), "{m}");
}

#[test]
fn algorithms_from_manifest_names() {
    let mut t = BTreeMap::new();
    for n in [
        "manifest-md5.txt",
        "tagmanifest-sha1.txt",
        "manifest-sha512.txt",
        "manifest-blake9.txt",
        "x/manifest-sha224.txt",
    ] {
        t.insert(n.to_string(), vec![]);
    }
    assert_eq!(
        bag::algorithms_needed(&t),
        vec![Algorithm::Md5, Algorithm::Sha1, Algorithm::Sha512]
    );
    for a in Algorithm::ALL {
        assert_eq!(Algorithm::from_name(a.name()), Some(a));
        assert_eq!(
            MultiHasher::digest(&[a], b"x").digests[&a].len(),
            a.hex_len()
        );
    }
}

#[test]
fn missing_or_bad_declaration() {
    let mut b = good();
    b.remove("bagit.txt");
    assert!(has(&check(&b).errors, "bagit.txt: missing"));
    for (text, needle) in [
        (
            "\u{feff}BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
            "byte-order mark",
        ),
        (
            "BagIt-Version: .97\nTag-File-Character-Encoding: UTF-8\n",
            "not MAJOR.MINOR",
        ),
        (
            "BagIt-Version : 1.0\nTag-File-Character-Encoding: UTF-8\n",
            "whitespace",
        ),
        (
            "BagIt-Version: 1.0 \nTag-File-Character-Encoding: UTF-8\n",
            "whitespace",
        ),
        ("BagIt-Version: 1.0\n", "Tag-File-Character-Encoding"),
        (
            "BagIt-Version: 7.0\nTag-File-Character-Encoding: UTF-8\n",
            "unsupported",
        ),
        (
            "BagIt-Version: 1.0\nTag-File-Character-Encoding: EBCDIC\n",
            "unsupported Tag-File-Character-Encoding",
        ),
    ] {
        let mut b = good();
        b.insert("bagit.txt".into(), text.as_bytes().to_vec());
        let r = check(&b);
        assert!(has(&r.errors, needle), "{text:?}: {}", summary(&r));
    }
}

#[test]
fn payload_rules() {
    // Corrupt payload file.
    let mut b = good();
    b.insert("data/a.txt".into(), b"HELLO\n".to_vec());
    let r = check(&b);
    assert!(
        has(&r.errors, "data/a.txt: sha256 checksum mismatch"),
        "{}",
        summary(&r)
    );
    // Extra payload file.
    let mut b = good();
    b.insert("data/extra".into(), vec![]);
    let r = check(&b);
    assert!(
        has(
            &r.errors,
            "data/extra: payload file not listed in manifest-sha256.txt"
        ),
        "{}",
        summary(&r)
    );
    assert!(has(&r.errors, "Payload-Oxum"));
    // Missing payload file.
    let mut b = good();
    b.remove("data/a.txt");
    assert!(has(
        &check(&b).errors,
        "data/a.txt: listed in manifest-sha256.txt but missing"
    ));
    // A file missing from one manifest only.
    let mut b = good();
    let m = String::from_utf8(b["manifest-sha512.txt"].clone()).unwrap();
    let kept: String = m
        .lines()
        .filter(|l| !l.contains("a.txt"))
        .map(|l| format!("{l}\n"))
        .collect();
    b.insert("manifest-sha512.txt".into(), kept.into());
    retag(&mut b);
    assert!(has(
        &check(&b).errors,
        "data/a.txt: payload file not listed in manifest-sha512.txt"
    ));
    // No payload manifest at all.
    let mut b = good();
    b.remove("manifest-sha256.txt");
    b.remove("manifest-sha512.txt");
    retag(&mut b);
    assert!(has(&check(&b).errors, "no payload manifest"));
}

fn with_manifest_line(line: &str) -> BagReport {
    let mut b = good();
    let mut m = String::from_utf8(b["manifest-sha256.txt"].clone()).unwrap();
    m.push_str(line);
    b.insert("manifest-sha256.txt".into(), m.into());
    retag(&mut b);
    check(&b)
}

#[test]
fn manifest_paths() {
    let h = "0".repeat(64);
    for (p, needle) in [
        ("../x", "escapes the bag"),
        ("data/../../x", "escapes the bag"),
        ("/etc/passwd", "absolute"),
        ("~/x", "'~'"),
        ("C:\\x", "backslash"),
        ("c:/x", "drive letter"),
        ("data//x", "empty path segment"),
        ("bagit.txt", "outside data/"),
    ] {
        let r = with_manifest_line(&format!("{h}  {p}\n"));
        assert!(has(&r.errors, needle), "{p}: {}", summary(&r));
    }
    let r = with_manifest_line("zz  data/a.txt\n");
    assert!(has(&r.errors, "is not a sha256 checksum"));
    let r = with_manifest_line("nospace\n");
    assert!(has(&r.errors, "not 'checksum filepath'"));
}

#[test]
fn duplicates_and_markers() {
    let d =
        MultiHasher::digest(&[Algorithm::Sha256], b"hello\n").digests[&Algorithm::Sha256].clone();
    let r = with_manifest_line(&format!("{d}  data/a.txt\n"));
    assert!(has(&r.errors, "listed more than once"), "{}", summary(&r));
    let r = with_manifest_line(&format!("{}  data/a.txt\n", "1".repeat(64)));
    assert!(has(&r.errors, "different checksum"));
    // md5sum's '*' and a leading './' are warnings, not errors.
    let mut b = good();
    let m = String::from_utf8(b["manifest-sha256.txt"].clone()).unwrap();
    b.insert(
        "manifest-sha256.txt".into(),
        m.replace("  data/a.txt", " *./data/a.txt").into(),
    );
    retag(&mut b);
    let r = check(&b);
    assert!(r.is_valid(), "{}", summary(&r));
    assert!(has(&r.warnings, "binary-mode marker") && has(&r.warnings, "leading './'"));
}

#[test]
fn percent_encoding() {
    assert_eq!(bag::encode_path("a%b\nc\rd"), "a%25b%0Ac%0Dd");
    for p in ["a%b\nc\rd", "%7E", "%", "%2", "100%25", "x%0a%0d"] {
        assert_eq!(bag::decode_path(&bag::encode_path(p)), p);
    }
    assert_eq!(bag::decode_path("%7Ex%0a%25"), "%7Ex\n%");
    // A file whose name holds a line break, listed encoded.
    let mut b = good();
    b.insert("data/line\nbreak".into(), b"z".to_vec());
    let mut all = String::new();
    for a in ALGS {
        let entries: Vec<(String, String)> = b
            .iter()
            .filter(|(k, _)| k.starts_with("data/"))
            .map(|(k, v)| (k.clone(), MultiHasher::digest(&[a], v).digests[&a].clone()))
            .collect();
        let t = bag::manifest_text(a, &entries);
        all.push_str(&t);
        b.insert(format!("manifest-{a}.txt"), t.into());
    }
    assert!(all.contains("data/line%0Abreak"));
    b.insert("bag-info.txt".into(), b"Payload-Oxum: 9.3\n".to_vec());
    retag(&mut b);
    let r = check(&b);
    assert!(r.is_valid(), "{}", summary(&r));
}

#[test]
fn tag_manifest_rules() {
    let mut b = good();
    b.insert(
        "bag-info.txt".into(),
        b"Payload-Oxum: 8.2\nX: changed\n".to_vec(),
    );
    assert!(has(
        &check(&b).errors,
        "bag-info.txt: sha256 checksum mismatch"
    ));
    let mut b = good();
    b.remove("bag-info.txt");
    assert!(has(
        &check(&b).errors,
        "bag-info.txt: listed in tagmanifest-sha256.txt but missing"
    ));
    // Tag manifests are optional.
    let mut b = good();
    b.retain(|k, _| !k.starts_with("tagmanifest-"));
    assert!(check(&b).is_valid());
    // ... but in 1.0 must list every payload manifest.
    let mut b = good();
    let t = String::from_utf8(b["tagmanifest-sha256.txt"].clone()).unwrap();
    let kept: String = t
        .lines()
        .filter(|l| !l.contains("manifest-sha512"))
        .map(|l| format!("{l}\n"))
        .collect();
    b.insert("tagmanifest-sha256.txt".into(), kept.into());
    assert!(has(
        &check(&b).errors,
        "does not list the payload manifest manifest-sha512.txt"
    ));
}

#[test]
fn bag_info_rules() {
    let els = bag::parse_bag_info("A: 1\nB:  two\n  lines\n\tthree\nA : 3\n").unwrap();
    assert_eq!(
        els,
        vec![
            ("A".into(), "1".into()),
            ("B".into(), "two lines three".into()),
            ("A".into(), "3".into())
        ]
    );
    assert!(bag::parse_bag_info(" cont first\n").is_err());
    assert!(bag::parse_bag_info("no colon\n").is_err());
    let text = bag::bag_info_text(&[("Note", "two\nlines"), ("Bad:Label", "v")]);
    assert_eq!(text, "Note: two\n  lines\nBad-Label: v\n");
    assert_eq!(bag::parse_bag_info(&text).unwrap()[0].1, "two lines");
    for (info, needle, error) in [
        (
            "Payload-Oxum: 9.2\n",
            "Payload-Oxum 9.2 says 2 files of 9 bytes",
            true,
        ),
        ("Payload-Oxum: 8.x\n", "not OCTETCOUNT.STREAMCOUNT", true),
        (
            "Payload-Oxum: 8.2\nBagging-Date: 1 May 2024\n",
            "not YYYY-MM-DD",
            false,
        ),
        (
            "Payload-Oxum: 8.2\nBagging-Date: 2024-05-01\nBagging-Date: 2024-05-02\n",
            "more than once",
            false,
        ),
        (
            "Payload-Oxum: 8.2\nbroken line\n",
            "not 'Label: value'",
            true,
        ),
    ] {
        let mut b = good();
        b.insert("bag-info.txt".into(), info.as_bytes().to_vec());
        retag(&mut b);
        let r = check(&b);
        let list = if error { &r.errors } else { &r.warnings };
        assert!(has(list, needle), "{info:?}: {}", summary(&r));
        assert_eq!(r.is_valid(), !error, "{info:?}: {}", summary(&r));
    }
}

#[test]
fn fetch_rules() {
    let mut b = good();
    b.insert(
        "fetch.txt".into(),
        b"https://example.org/a - data/a.txt\n".to_vec(),
    );
    retag(&mut b);
    assert!(check(&b).is_valid(), "fetched file present: complete");
    b.remove("data/a.txt");
    assert!(has(&check(&b).errors, "not fetched"));
    for (line, needle) in [
        ("https://x 1 ../a\n", "escapes"),
        (
            "https://x 1 data/zzz\n",
            "not listed in the payload manifests",
        ),
        ("https://x one data/a.txt\n", "not 'url length filepath'"),
        ("https://x 1 bagit.txt\n", "outside data/"),
    ] {
        let mut b = good();
        b.insert("fetch.txt".into(), line.as_bytes().to_vec());
        retag(&mut b);
        assert!(has(&check(&b).errors, needle), "{line:?}");
    }
}

#[test]
fn encodings() {
    assert_eq!(bag::decode_text(b"caf\xe9", "ISO-8859-1").unwrap(), "café");
    assert_eq!(bag::decode_text(b"\xff\xfeA\x00", "UTF-16").unwrap(), "A");
    assert_eq!(bag::decode_text(b"\x00A", "UTF-16").unwrap(), "A");
    assert!(bag::decode_text(b"\xff", "UTF-8").is_err());
    assert!(bag::decode_text(b"\x00", "UTF-16").is_err());
}

#[test]
fn case_and_normalisation_equivalents_warn_only_when_checksum_matches() {
    let mut b = good();
    let m = String::from_utf8(b["manifest-sha256.txt"].clone()).unwrap();
    let d =
        MultiHasher::digest(&[Algorithm::Sha256], b"hello\n").digests[&Algorithm::Sha256].clone();
    b.insert(
        "manifest-sha256.txt".into(),
        format!("{m}{d}  data/A.TXT\n").into(),
    );
    let m = String::from_utf8(b["manifest-sha512.txt"].clone()).unwrap();
    let d5 =
        MultiHasher::digest(&[Algorithm::Sha512], b"hello\n").digests[&Algorithm::Sha512].clone();
    b.insert(
        "manifest-sha512.txt".into(),
        format!("{m}{d5}  data/A.TXT\n").into(),
    );
    retag(&mut b);
    let r = check(&b);
    assert!(r.is_valid(), "{}", summary(&r));
    assert!(has(&r.warnings, "differ only in case"));
    let mut b2 = b.clone();
    let m = String::from_utf8(b2["manifest-sha256.txt"].clone()).unwrap();
    b2.insert(
        "manifest-sha256.txt".into(),
        m.replace(
            &format!("{d}  data/A.TXT"),
            &format!("{}  data/A.TXT", "2".repeat(64)),
        )
        .into(),
    );
    retag(&mut b2);
    assert!(!check(&b2).is_valid());
}

#[test]
fn never_panics_on_garbage() {
    let mut b = good();
    for junk in [
        &b"\xff\xfe\x00"[..],
        b"",
        b"\n\n\r",
        b"%",
        b"a\tb\tc\td",
        b"\x00\x00\x00",
    ] {
        for name in [
            "bagit.txt",
            "bag-info.txt",
            "manifest-sha256.txt",
            "fetch.txt",
            "tagmanifest-sha512.txt",
        ] {
            b.insert(name.into(), junk.to_vec());
            let _ = check(&b);
        }
    }
}

// ------------------------------------------------------------- item 12

#[test]
fn a_bag_without_a_payload_directory_is_invalid() {
    // Every payload file gone, manifests emptied to match: only data/ is missing.
    let mut b = good();
    b.retain(|k, _| !k.starts_with("data/"));
    for a in ALGS {
        b.insert(format!("manifest-{a}.txt"), Vec::new());
    }
    b.insert(
        "bag-info.txt".into(),
        bag::bag_info_text(&[("Payload-Oxum", "0.0")]).into(),
    );
    retag(&mut b);
    let r = check(&b);
    assert_eq!(r.verdict(), bag::BagVerdict::Invalid, "{}", summary(&r));
    assert!(has(
        &r.errors,
        "data/: missing: every bag must have a payload directory"
    ));
    // The same bag with an empty data/ folder (which lists no file) is valid.
    let mut f = files_of(&b);
    f.payload_dir = true;
    let r = bag::validate(&f);
    assert!(r.is_valid(), "{}", summary(&r));
}

#[test]
fn only_unsupported_payload_manifests_cannot_be_checked() {
    let sha3 = "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a";
    let mut b = good();
    b.remove("manifest-sha256.txt");
    b.remove("manifest-sha512.txt");
    b.insert(
        "manifest-sha3-256.txt".into(),
        format!("{sha3}  data/a.txt\n{sha3}  data/dir/b%20100%25.bin\n").into(),
    );
    b.insert("manifest-blake2b.txt".into(), b"00  data/a.txt\n".to_vec());
    retag(&mut b);
    let r = check(&b);
    assert_eq!(r.verdict(), bag::BagVerdict::Uncheckable, "{}", summary(&r));
    assert!(r.errors.is_empty() && !r.is_valid(), "{}", summary(&r));
    let why = r.uncheckable.as_ref().unwrap().to_string();
    assert!(
        why.contains("manifest-sha3-256.txt") && why.contains("manifest-blake2b.txt"),
        "{why}"
    );
    // A real error as well: invalid, not merely uncheckable.
    let mut bad = b.clone();
    bad.insert("bagit.txt".into(), b"BagIt-Version: 1.0\n".to_vec());
    retag(&mut bad);
    assert_eq!(check(&bad).verdict(), bag::BagVerdict::Invalid);
    // One supported payload manifest beside them: checked, as before.
    let mut ok = b.clone();
    ok.insert(
        "manifest-sha256.txt".into(),
        good()["manifest-sha256.txt"].clone(),
    );
    retag(&mut ok);
    let r = check(&ok);
    assert_eq!(r.verdict(), bag::BagVerdict::Valid, "{}", summary(&r));
    // ... and its digests really are checked.
    let mut corrupt = ok.clone();
    corrupt.insert("data/a.txt".into(), b"hellO\n".to_vec());
    assert_eq!(check(&corrupt).verdict(), bag::BagVerdict::Invalid);
}

#[test]
fn only_parsed_tag_files_must_be_held() {
    let mut b = good();
    b.insert("extra/big.bin".into(), vec![7; 1000]);
    b.insert("REPORT.html".into(), b"<p>hi</p>".to_vec());
    retag(&mut b);
    let mut f = files_of(&b);
    f.tag_contents.remove("extra/big.bin");
    f.tag_contents.remove("REPORT.html");
    let r = bag::validate(&f);
    assert!(r.is_valid(), "{}", summary(&r));
    // Its digest is still checked against the tag manifests.
    f.files.get_mut("extra/big.bin").unwrap().digests =
        MultiHasher::digest(&ALGS, b"other").digests;
    let r = bag::validate(&f);
    assert!(
        has(&r.errors, "extra/big.bin: sha256 checksum mismatch"),
        "{}",
        summary(&r)
    );
    // A file the validator parses must be given.
    let mut f = files_of(&b);
    f.tag_contents.remove("bag-info.txt");
    let r = bag::validate(&f);
    assert!(
        has(&r.errors, "bag-info.txt: tag file contents not provided"),
        "{}",
        summary(&r)
    );
    for (p, parsed) in [
        ("bagit.txt", true),
        ("bag-info.txt", true),
        ("fetch.txt", true),
        ("manifest-sha3-256.txt", true),
        ("tagmanifest-md5.txt", true),
        ("manifest-sha256.txt.bak", false),
        ("x/bagit.txt", false),
        ("guwah/package.txt", false),
        ("REPORT.html", false),
    ] {
        assert_eq!(bag::is_parsed_tag_file(p), parsed, "{p}");
    }
}
