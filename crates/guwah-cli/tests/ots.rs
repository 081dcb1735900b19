//! `guwah ots verify` on the reference client's example proofs
//! (`shared/fixtures/opentimestamps`): exit 0 when the proof parses and the
//! original matches, 1 when the original does not match, 3 when the proof is
//! unreadable or invalid.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/opentimestamps")
}

fn ots(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_guwah"))
        .arg("ots")
        .arg("verify")
        .args(args)
        .current_dir(dir())
        .env_remove("GUWAH_VAULT")
        .output()
        .expect("run guwah")
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn verify_reports_attestations_and_checks_the_original() {
    let out = ots(&["hello-world.txt.ots", "--file", "hello-world.txt"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("Bitcoin block 358391"), "{stdout}");
    assert!(stdout.contains("007ee445d23ad061af4a36b809501fab1ac4f2d7e7a739817dd0cbb7ec661b8a"));
    assert!(stdout.contains("digest matches"));

    let out = ots(&["hello-world.txt.ots", "--file", "empty"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("does NOT match"));

    let out = ots(&["--json", "different-blockchains.txt.ots"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let kinds: Vec<&str> = v["attestations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["pending", "ethereum", "pending", "bitcoin"]);
    assert_eq!(v["attestations"][3]["height"], 455605);

    let out = ots(&["--json", "incomplete.txt.ots", "--file", "incomplete.txt"]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["original"]["matches"], true);
    assert_eq!(v["complete"], false);
}

#[test]
fn invalid_and_unreadable_proofs_exit_3_with_one_line() {
    for (name, why) in [
        ("invalid/bad-major-version.ots", "major version 255"),
        (
            "invalid/invalid-file-digest-type.ots",
            "file digest type 0xf3",
        ),
        (
            "invalid/exceeds-max-msg-length.ots",
            "longer than 4096 bytes",
        ),
        ("hello-world.txt", "magic header is missing"),
        ("no-such-file.ots", "no-such-file.ots"),
    ] {
        let out = ots(&[name]);
        assert_eq!(out.status.code(), Some(3), "{name}: {}", text(&out));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(why), "{name}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{name}: {stderr}");
    }
    // The proof is fine but the original cannot be read.
    let out = ots(&["hello-world.txt.ots", "--file", "no-such-original"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
}

/// A proof over SHA-1 matches both halves of a collision: it is reported,
/// but never without saying so (regression: it matched silently).
#[test]
fn a_sha1_proof_matches_with_a_warning() {
    for file in ["sha1/a", "sha1/b"] {
        let out = ots(&["sha1/a-or-b.ots", "--file", file]);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("digest matches"), "{stdout}");
        assert!(
            stdout.contains("warning: the file is hashed with SHA-1"),
            "{stdout}"
        );
        let out = ots(&["--json", "sha1/a-or-b.ots", "--file", file]);
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        let w = v["warnings"].as_array().unwrap();
        assert!(
            w.iter().any(|w| w.as_str().unwrap().contains("SHA-1")),
            "{v}"
        );
    }
    let out = ots(&["--json", "hello-world.txt.ots", "--file", "hello-world.txt"]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        v["warnings"],
        serde_json::json!([]),
        "SHA-256 proofs carry none"
    );
}
