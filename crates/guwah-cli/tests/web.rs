//! The team server's web pages in a real browser: `tests/browser/web.mjs`
//! (node, playwright-core, Debian's headless Chromium, axe-core) against a
//! real `guwah serve` over a vault made with the real binary. A collector
//! on a phone in Uyghur submits through a cut connection and a reload; a
//! reviewer in Chinese finds items by Uyghur and Chinese words and
//! annotates; a viewer's page; every page in every language screenshotted
//! (kept under the target folder: `web-screenshots/`) and checked by
//! axe-core for serious or critical violations.
//!
//! Needs node, npm and /usr/bin/chromium; fails (does not skip) with the
//! install commands when they are missing (`scripts/test` installs them).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::server::{USER_PASSWORD, account, serve};
use common::{TestVault, must_succeed, text};
use serde_json::{Value, json};

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where the screenshots are kept: beside the test binary, in the target
/// folder, so CI can keep them as artefacts.
fn artefacts() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary");
    let target = exe
        .ancestors()
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n == "target" || n == "guwah-ci-target")
        })
        .map_or_else(|| exe.parent().unwrap().to_path_buf(), Path::to_path_buf);
    target.join("web-screenshots")
}

#[test]
fn the_pages_in_a_browser_on_a_phone_in_four_languages() {
    for (cmd, arg) in [("node", "--version"), ("npm", "--version")] {
        let ok = Command::new(cmd)
            .arg(arg)
            .output()
            .is_ok_and(|o| o.status.success());
        assert!(
            ok,
            "{cmd} is needed: apt-get install -y nodejs npm chromium"
        );
    }
    assert!(
        Path::new("/usr/bin/chromium").exists(),
        "chromium is needed: apt-get install -y chromium"
    );
    let dir = repo_root().join("tests/browser");
    if !dir.join("node_modules/playwright-core").is_dir()
        || !dir.join("node_modules/axe-core").is_dir()
    {
        let o = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--silent"])
            .current_dir(&dir)
            .output()
            .expect("npm ci");
        must_succeed(&o, "npm ci in tests/browser");
    }

    let v = TestVault::init();
    for (name, role) in [
        ("admin", "admin"),
        ("coord", "coordinator"),
        ("reviewer", "reviewer"),
        ("collector", "collector"),
        ("viewer", "viewer"),
    ] {
        account(&v, name, role);
    }
    let testimony = v.file(
        "testimony-2019.txt",
        "ئۇلار مېنى لاگېرغا ئېلىپ باردى.\n他们把我带到了集中营。\nThey took me to the camp.\n"
            .as_bytes(),
    );
    let out = v.ok(&[
        "--json",
        "add",
        &testimony,
        "--note",
        "گۇۋاھلىق: لاگېر، 2019 — 证词：集中营",
        "--source",
        "Aynur, by Signal",
        "--tag",
        "testimony",
    ]);
    let testimony_id = added_id(&out);
    let photo = std::fs::read(repo_root().join("../shared/fixtures/exif/jpg/gps/DSCN0010.jpg"))
        .expect("the EXIF fixtures (../shared/fixtures/exif)");
    let photo = v.file("checkpoint.jpg", &photo);
    let photo_id = added_id(&v.ok(&["--json", "add", &photo, "--note", "checkpoint camera"]));

    let server = serve(&v, &[]);
    let shots = artefacts();
    let _ = std::fs::remove_dir_all(&shots);
    let o = Command::new("node")
        .arg(dir.join("web.mjs"))
        .env("GUWAH_URL", &server.url)
        .env("GUWAH_PASSWORD", USER_PASSWORD)
        .env(
            "GUWAH_ITEMS",
            json!({ "testimony": testimony_id, "photo": photo_id }).to_string(),
        )
        .env("GUWAH_ARTEFACTS", &shots)
        .output()
        .expect("run node");
    must_succeed(&o, "node tests/browser/web.mjs");
    let summary: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("web.mjs printed {}: {e}", text(&o)));
    assert!(
        summary["screenshots"].as_u64().unwrap() >= 4 * 12,
        "{summary}"
    );
    assert_eq!(
        summary["screenshots"],
        summary["axePages"].as_u64().unwrap() + 1
    );

    // The search index is in memory only: no indexed word is in any file
    // of the vault (its spool of uploads included).
    for word in ["集中营", "لاگېر", "كىشىلەر", "Aynur"] {
        for file in common::files_under(&v.root) {
            let bytes = std::fs::read(v.root.join(&file)).unwrap_or_default();
            assert!(
                !bytes.windows(word.len()).any(|w| w == word.as_bytes()),
                "{word:?} in plaintext in {file}"
            );
        }
    }

    // What the phone sent was sealed once each, byte for byte as hashed
    // there, naming the collector.
    let list = v.list();
    for up in summary["uploads"].as_array().unwrap() {
        let name = up["name"].as_str().unwrap();
        let sealed: Vec<&Value> = list
            .iter()
            .filter(|it| it["sha256"] == up["sha256"])
            .collect();
        assert_eq!(sealed.len(), 1, "{name} sealed once: {list:?}");
        let show = v.ok(&["--json", "show", sealed[0]["id"].as_str().unwrap()]);
        assert!(
            show.contains("collector") && show.contains("received"),
            "{show}"
        );
    }
}

fn added_id(json_out: &str) -> String {
    let v: Value = serde_json::from_str(json_out).unwrap();
    v["items"][0]["id"]
        .as_str()
        .unwrap_or_else(|| panic!("no id in {v}"))
        .to_owned()
}
