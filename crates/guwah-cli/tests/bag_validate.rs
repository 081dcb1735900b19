//! `guwah bag validate` end to end: the Library of Congress conformance suite
//! (folders and zipped by Python's zipfile), bags written by `BagWriter`
//! checked by bagit-python as a peer, and hostile zips refused.

use std::path::{Path, PathBuf};
use std::process::Command;

use guwah_package::BagWriter;

fn guwah(args: &[&std::ffi::OsStr]) -> (u8, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_guwah"))
        .arg("--quiet")
        .args(args)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1) as u8,
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn validate(p: &Path) -> (u8, String, String) {
    guwah(&["bag".as_ref(), "validate".as_ref(), p.as_os_str()])
}

fn suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/bagit-conformance")
}

fn python(script: &str, args: &[&Path]) -> std::process::Output {
    Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 is needed for the peer tests")
}

const ZIP_DIR: &str = r#"
import os, sys, zipfile
src, dst, method = sys.argv[1], sys.argv[2], sys.argv[3]
comp = zipfile.ZIP_DEFLATED if method == "deflate" else zipfile.ZIP_STORED
name = os.path.basename(src.rstrip("/"))
with zipfile.ZipFile(dst, "w", comp) as z:
    for root, dirs, files in os.walk(src):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(root, f)
            z.write(p, os.path.join(name, os.path.relpath(p, src)))
"#;

fn bags() -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for version in ["v0.97", "v1.0"] {
        for kind in ["valid", "invalid", "warning", "linux-only", "windows-only"] {
            let dir = suite().join(version).join(kind);
            let Ok(rd) = std::fs::read_dir(&dir) else {
                continue;
            };
            let mut v: Vec<PathBuf> = rd
                .map(|e| e.unwrap().path())
                .filter(|p| p.is_dir())
                .collect();
            v.sort();
            out.extend(v.into_iter().map(|p| (kind.to_string(), p)));
        }
    }
    out
}

#[test]
fn conformance_suite_through_the_cli_folders_and_zips() {
    let tmp = tempfile::tempdir().unwrap();
    let all = bags();
    assert!(all.len() >= 40);
    let mut checked = 0;
    let mut bad = Vec::new();
    for (i, (kind, dir)) in all.iter().enumerate() {
        let zip = tmp.path().join(format!("{i}.zip"));
        let method = if i % 2 == 0 { "deflate" } else { "stored" };
        let o = python(ZIP_DIR, &[dir, &zip, Path::new(method)]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        for p in [dir.as_path(), zip.as_path()] {
            let (code, out, err) = validate(p);
            checked += 1;
            let ok = match kind.as_str() {
                "valid" => code == 0,
                "warning" => code == 0 && out.contains("warning: "),
                _ => code == 1 && out.contains("error: "),
            };
            if !ok {
                bad.push(format!("{kind} {} -> {code}\n{out}{err}", p.display()));
            }
        }
    }
    assert_eq!(checked, all.len() * 2);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

fn bagit_python() -> Vec<String> {
    for cand in [
        vec!["bagit.py".to_string()],
        vec!["python3".into(), "-m".into(), "bagit".into()],
    ] {
        let ok = Command::new(&cand[0])
            .args(&cand[1..])
            .arg("--version")
            .output()
            .map(|o| o.status.success());
        if ok.unwrap_or(false) {
            return cand;
        }
    }
    panic!(
        "bagit-python is required as a peer verifier: install it with `python3 -m pip install bagit==1.9.0`"
    );
}

fn write_bag(writer: BagWriter) -> PathBuf {
    let mut w = writer;
    let big: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    w.add_payload("photo.jpg", &mut &big[..]).unwrap();
    w.add_payload("notes/witness 1.txt", &mut &b"seen at 10:00\n"[..])
        .unwrap();
    w.add_payload("odd/Núñez ~ café.txt", &mut &b"unicode name"[..])
        .unwrap();
    assert!(
        w.add_payload("odd/100%.txt", &mut &b""[..]).is_err(),
        "'%' refused (bagit-python mis-decodes it)"
    );
    assert!(w.add_payload("odd/a\nb", &mut &b""[..]).is_err());
    w.add_payload("empty", &mut &b""[..]).unwrap();
    w.add_tag_file("guwah/report.txt", b"report\n".to_vec())
        .unwrap();
    assert!(w.add_payload("../escape", &mut &b""[..]).is_err());
    assert!(w.add_payload("/abs", &mut &b""[..]).is_err());
    assert!(
        w.add_payload("notes/WITNESS 1.txt", &mut &b""[..]).is_err(),
        "case clash refused"
    );
    assert!(w.add_tag_file("bagit.txt", vec![]).is_err());
    assert!(w.add_tag_file("data/x", vec![]).is_err());
    let s = w
        .finish(&[("Source-Organization".into(), "Example Org".into())])
        .unwrap();
    assert_eq!(s.payload_files, 4);
    s.path
}

#[test]
fn bagwriter_bags_validate_in_bagit_python_and_ours() {
    let peer = bagit_python();
    let tmp = tempfile::tempdir().unwrap();
    let dir = write_bag(BagWriter::create_dir(&tmp.path().join("bag")).unwrap());
    assert!(!tmp.path().join("bag.partial").exists());
    let zip = write_bag(BagWriter::create_zip(&tmp.path().join("bag.zip"), "bag").unwrap());
    assert!(!tmp.path().join("bag.zip.partial").exists());
    // Python unzips ours (testzip checks every CRC); bagit-python validates both.
    let unz = tmp.path().join("unzipped");
    let o = python(
        "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1])\nassert z.testzip() is None\nz.extractall(sys.argv[2])",
        &[&zip, &unz],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    for p in [dir.clone(), unz.join("bag")] {
        let o = Command::new(&peer[0])
            .args(&peer[1..])
            .arg("--validate")
            .arg(&p)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "bagit-python rejects {}: {}",
            p.display(),
            String::from_utf8_lossy(&o.stderr)
        );
    }
    for p in [&dir, &zip] {
        let (code, out, err) = validate(p);
        assert_eq!(code, 0, "{out}{err}");
        assert!(!out.contains("warning: "), "{out}");
        let (code, out, _) = guwah(&[
            "--json".as_ref(),
            "bag".as_ref(),
            "validate".as_ref(),
            p.as_os_str(),
        ]);
        assert_eq!(code, 0);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["valid"], true);
        assert_eq!(v["info"]["Payload-Oxum"][0], "300026.4");
    }
    // Tampering is caught by both.
    std::fs::write(dir.join("data/empty"), b"x").unwrap();
    let (code, out, _) = validate(&dir);
    assert_eq!(code, 1);
    assert!(
        out.contains("error: data/empty: sha256 checksum mismatch"),
        "{out}"
    );
    let o = Command::new(&peer[0])
        .args(&peer[1..])
        .arg("--validate")
        .arg(&dir)
        .output()
        .unwrap();
    assert!(!o.status.success());
}

/// Writes a hostile zip with Python; returns its path.
fn hostile(tmp: &Path, name: &str, body: &str) -> PathBuf {
    let p = tmp.join(name);
    let script = format!(
        "import sys, zipfile, stat\np = sys.argv[1]\nz = zipfile.ZipFile(p, 'w', zipfile.ZIP_DEFLATED)\n\
         z.writestr('bag/bagit.txt', 'BagIt-Version: 1.0\\nTag-File-Character-Encoding: UTF-8\\n')\n{body}\nz.close()\n"
    );
    let o = python(&script, &[&p]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    p
}

#[test]
fn hostile_zips_are_refused_and_nothing_is_written() {
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        (
            "traversal.zip",
            "z.writestr('bag/../x', 'evil')",
            "'..' segment",
        ),
        (
            "absolute.zip",
            "z.writestr('/etc/x', 'evil')",
            "absolute path",
        ),
        (
            "backslash.zip",
            "z.writestr('bag\\\\data\\\\x', 'evil')",
            "backslash",
        ),
        (
            "symlink.zip",
            "i = zipfile.ZipInfo('bag/data/link')\ni.create_system = 3\ni.external_attr = (stat.S_IFLNK | 0o777) << 16\nz.writestr(i, '/etc/passwd')",
            "symbolic link",
        ),
        (
            "bomb.zip",
            "z.writestr('bag/data/zeros', b'\\0' * (200 << 20))",
            "zip bomb",
        ),
        (
            "duplicate.zip",
            "import warnings\nwarnings.simplefilter('ignore')\nz.writestr('bag/data/a', '1')\nz.writestr('bag/data/a', '2')",
            "appears twice",
        ),
    ];
    for (name, body, needle) in cases {
        let p = hostile(tmp.path(), name, body);
        let before: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        let (code, out, err) = validate(&p);
        assert_eq!(code, 3, "{name}: {out}{err}");
        assert!(err.contains(needle), "{name}: {err}");
        let after: Vec<_> = std::fs::read_dir(tmp.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(before, after, "{name}: something was written");
    }
    // Truncated: a valid zip cut short.
    let good = hostile(
        tmp.path(),
        "good.zip",
        "z.writestr('bag/data/a', 'x' * 5000)",
    );
    let bytes = std::fs::read(&good).unwrap();
    let cut = tmp.path().join("truncated.zip");
    std::fs::write(&cut, &bytes[..bytes.len() - 30]).unwrap();
    let (code, _, err) = validate(&cut);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("corrupt or truncated"), "{err}");
    // Corrupt data (CRC mismatch) inside a stored entry.
    let stored = tmp.path().join("stored.zip");
    let o = python(
        "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], 'w')\nz.writestr('bag/bagit.txt', 'BagIt-Version: 1.0\\nTag-File-Character-Encoding: UTF-8\\n')\nz.writestr('bag/data/a', 'A' * 100)\nz.close()",
        &[&stored],
    );
    assert!(o.status.success());
    let mut b = std::fs::read(&stored).unwrap();
    let i = b.windows(10).position(|w| w == b"AAAAAAAAAA").unwrap();
    b[i] = b'B';
    std::fs::write(&stored, &b).unwrap();
    let (code, _, err) = validate(&stored);
    assert_eq!(code, 3, "{err}");
    assert!(err.contains("CRC-32 mismatch"), "{err}");
    // Not a bag at all.
    let (code, _, err) = validate(&tmp.path().join("missing"));
    assert_eq!(code, 3, "{err}");
}

/// A minimal bag folder: `bagit.txt` and the given root files.
fn bag_with(root: &Path, files: &[(&str, &[u8])]) {
    std::fs::create_dir_all(root).unwrap();
    std::fs::write(
        root.join("bagit.txt"),
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
    )
    .unwrap();
    for (name, bytes) in files {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }
}

#[test]
fn the_payload_directory_is_required_even_empty() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = tmp.path().join("bag");
    bag_with(&bag, &[("manifest-sha256.txt", b"")]);
    let (code, out, err) = validate(&bag);
    assert_eq!(code, 1, "{out}{err}");
    assert!(
        out.contains("error: data/: missing: every bag must have a payload directory"),
        "{out}"
    );
    // An empty data/ folder is a payload directory: valid.
    std::fs::create_dir(bag.join("data")).unwrap();
    let (code, out, err) = validate(&bag);
    assert_eq!(code, 0, "{out}{err}");
    // In a zip: the `data/` directory entry counts, its absence does not.
    let script = "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], 'w')\n\
        z.writestr('bag/bagit.txt', 'BagIt-Version: 1.0\\nTag-File-Character-Encoding: UTF-8\\n')\n\
        z.writestr('bag/manifest-sha256.txt', '')\n\
        if sys.argv[2] == 'dir': z.writestr('bag/data/', '')\nz.close()";
    for (name, has_dir, want) in [("with.zip", "dir", 0), ("without.zip", "none", 1)] {
        let zip = tmp.path().join(name);
        let o = python(script, &[&zip, Path::new(has_dir)]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let (code, out, err) = validate(&zip);
        assert_eq!(code, want, "{name}: {out}{err}");
        assert_eq!(out.contains("data/: missing"), want == 1, "{name}: {out}");
    }
}

#[test]
fn a_bag_of_unsupported_algorithms_only_cannot_be_checked() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = tmp.path().join("bag");
    let sha3 = "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a";
    bag_with(
        &bag,
        &[
            ("data/a.txt", b"hello\n"),
            (
                "manifest-sha3-256.txt",
                format!("{sha3}  data/a.txt\n").as_bytes(),
            ),
            ("manifest-blake2b.txt", b"00  data/a.txt\n"),
        ],
    );
    let (code, out, err) = validate(&bag);
    assert_eq!(code, 7, "{out}{err}");
    let last = out.lines().last().unwrap();
    assert!(
        last.contains("CANNOT CHECK bag: cannot check the payload"),
        "{out}"
    );
    assert!(
        last.contains("manifest-blake2b.txt, manifest-sha3-256.txt"),
        "{out}"
    );
    assert!(!out.contains("INVALID") && !out.contains("error:"), "{out}");
    let (code, out, _) = guwah(&[
        "--json".as_ref(),
        "bag".as_ref(),
        "validate".as_ref(),
        bag.as_os_str(),
    ]);
    assert_eq!(code, 7);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["verdict"], "cannot-check", "{v}");
    assert_eq!(v["valid"], false);
    assert!(
        v["uncheckable"].as_str().unwrap().contains("sha3-256"),
        "{v}"
    );
    // A real error besides: invalid (exit 1), not merely uncheckable.
    std::fs::remove_dir_all(bag.join("data")).unwrap();
    let (code, out, _) = validate(&bag);
    assert_eq!(code, 1, "{out}");
    // With one supported payload manifest too, the bag is checked as before.
    bag_with(
        &bag,
        &[
            ("data/a.txt", b"hello\n"),
            (
                "manifest-sha256.txt",
                b"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03  data/a.txt\n",
            ),
        ],
    );
    let (code, out, err) = validate(&bag);
    assert_eq!(code, 0, "{out}{err}");
    std::fs::write(bag.join("data/a.txt"), b"hellO\n").unwrap();
    let (code, out, _) = validate(&bag);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("sha256 checksum mismatch"), "{out}");
}
