//! The browser verifier, end to end: a vault built and exported with the
//! real `guwah` binary, `verify.html` written by `guwah verifier write`, and
//! the tests in `tests/browser/` (node's test runner driving Debian's
//! headless Chromium through playwright-core) checking a valid package
//! (folder and zip) and tampered ones (a payload byte flipped, a receipt
//! altered).
//!
//! Needs node, npm and /usr/bin/chromium; fails (does not skip) with the
//! install commands if they are missing.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::TestVault;

const INSTALL_HINT: &str = "install them with:\n    apt-get update && apt-get install -y chromium nodejs npm\n\
(playwright-core is installed from tests/browser/package-lock.json by this test: `npm ci`)";

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn have(cmd: &str) -> bool {
    Command::new(cmd)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}

#[test]
fn verify_html_in_headless_chromium() {
    let chromium = std::env::var("GUWAH_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut missing = Vec::new();
    if !have("node") {
        missing.push("node");
    }
    if !have("npm") {
        missing.push("npm");
    }
    if !Path::new(&chromium).exists() {
        missing.push("chromium (/usr/bin/chromium)");
    }
    assert!(
        missing.is_empty(),
        "the browser tests need {}: {INSTALL_HINT}",
        missing.join(", ")
    );

    let browser_dir = repo_root().join("tests/browser");
    if !browser_dir.join("node_modules/playwright-core").is_dir() {
        let o = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&browser_dir)
            .output()
            .expect("run npm ci");
        common::must_succeed(&o, "npm ci in tests/browser");
    }

    // A vault with three items, exported as a folder and as a zip.
    let v = TestVault::init();
    let big: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let a = v.file("interview.mp4", &big);
    let b = v.file("notes.txt", b"seen at the checkpoint, 09:30\n");
    let c = v.file("empty.bin", b"");
    let ids: Vec<String> = v.add(&[&a, &b, &c]).into_iter().map(|(id, _)| id).collect();
    let fix = v.tmp.path().join("fixtures");
    std::fs::create_dir(&fix).expect("fixtures dir");
    let mut export = vec!["export".to_owned()];
    export.extend(ids.iter().cloned());
    for out in ["bag", "bag.zip"] {
        let mut args: Vec<String> = export.clone();
        args.push("--out".into());
        args.push(fix.join(out).to_str().expect("utf-8").into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        v.ok(&args);
    }
    let vkey = v.ok(&["log", "key"]);
    std::fs::write(fix.join("vkey.txt"), vkey.trim()).expect("vkey");
    let other = TestVault::init();
    std::fs::write(fix.join("other-vkey.txt"), other.ok(&["log", "key"]).trim())
        .expect("other vkey");
    let page = fix.join("verify.html");
    v.ok(&["verifier", "write", "--out", page.to_str().expect("utf-8")]);

    let o = Command::new("node")
        .args(["--test", "--test-concurrency=1", "verify.test.mjs"])
        .current_dir(&browser_dir)
        .env("GUWAH_FIXTURES", &fix)
        .env("GUWAH_BIN", common::bin())
        .env("GUWAH_CHROMIUM", &chromium)
        .output()
        .expect("run node --test");
    let out = common::text(&o);
    assert!(o.status.success(), "browser tests failed:\n{out}");
    assert!(out.contains("# fail 0"), "{out}");
    // The page must not have skipped its server test.
    assert!(out.contains("# skipped 0"), "{out}");
}
