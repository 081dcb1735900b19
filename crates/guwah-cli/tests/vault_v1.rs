//! Reads a vault written by guwah 0.1 (format v1), kept in
//! `tests/fixtures/vault-v1`: made with `guwah init --origin
//! guwah.test/vault-v1`, `guwah add samples/evidence --tag fixture --source
//! "guwah samples"` and one `annotate`. Every later version must still open,
//! list, verify and restore it byte for byte: this is the test that says so.

use std::path::{Path, PathBuf};
use std::process::Command;

const PASSPHRASE: &str = "fixture passphrase v1";

const ITEMS: &[(&str, &str)] = &[
    (
        "3185e266e8f6e1e49c8cf7d0e6a27b9065ea229f856774216a5a6b14f6288fd8",
        "call-screenshot.png",
    ),
    (
        "db7c55b67ea2721ef2adf86ab96eab2e702ae88a231c4abc2480809bd6e0db61",
        "notice.pdf",
    ),
    (
        "5c91b6208f5c69dcf4fee9aa191597059bbee1db02753f62b86249d40ba0270e",
        "street-photo.jpg",
    ),
    (
        "56a021588344359945f953912d79f8a6f08f5067cc7282427ab4dbd5a6b68e06",
        "testimony.txt",
    ),
];

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

fn guwah(vault: &Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_guwah"))
        .arg("--vault")
        .arg(vault)
        .args(args)
        .env("GUWAH_PASSPHRASE", PASSPHRASE)
        .output()
        .unwrap()
}

#[test]
fn a_v1_vault_still_opens_verifies_and_restores() {
    let tmp = tempfile::tempdir().unwrap();
    // Work on a copy: opening a vault may create SQLite's -wal/-shm files.
    let vault = tmp.path().join("vault-v1");
    copy_dir(
        &repo().join("crates/guwah-cli/tests/fixtures/vault-v1"),
        &vault,
    );

    let out = guwah(&vault, &["verify"]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "verify failed:\n{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("4 items, 1 custody events"), "{stdout}");

    let list: serde_json::Value =
        serde_json::from_slice(&guwah(&vault, &["list", "--json"]).stdout).unwrap();
    let listed: Vec<(String, String)> = list
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["id"].as_str().unwrap().to_owned(),
                i["filename"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = ITEMS
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    assert_eq!(listed, expected);

    for (id, name) in ITEMS {
        let dest = tmp.path().join(name);
        let out = guwah(&vault, &["get", id, "--out", dest.to_str().unwrap()]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let original = std::fs::read(repo().join("samples/evidence").join(name)).unwrap();
        assert_eq!(
            std::fs::read(&dest).unwrap(),
            original,
            "{name} is not byte-identical"
        );
    }

    let show =
        String::from_utf8_lossy(&guwah(&vault, &["show", &ITEMS[0].0[..12]]).stdout).into_owned();
    assert!(show.contains("annotated in the v1 fixture"), "{show}");
    assert!(
        show.contains("exported"),
        "the get above must appear as custody: {show}"
    );
    assert_eq!(
        String::from_utf8_lossy(&guwah(&vault, &["log", "key"]).stdout).trim(),
        "guwah.test/vault-v1+13fadc91+Adyenl0k6aLATlG+IPlwJL5jD+yjnxRgrZ7jbzlJ6v1k"
    );
    // The gets appended to the log; the old checkpoint history still holds.
    let out = guwah(&vault, &["verify"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
}
