//! Regression tests for hostile and careless input that got through before
//! (issue 16): an unbounded passphrase file, weak passphrases, secrets in a
//! child's environment, world-readable exports, local paths sealed into
//! custody events, raw control characters on the terminal, and the checks
//! that were missing (a witness's public key while it runs, a standalone
//! RFC 3161 token).

mod common;

use std::fs;
use std::io::{BufRead, BufReader};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;

fn code(o: &std::process::Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// `--passphrase-file /dev/zero` read the whole "file" (3.5 GB in 6 s and
/// growing). Now: the first 64 KiB at most, a clear error, under a 256 MB
/// address-space limit.
#[test]
fn a_passphrase_file_is_read_one_bounded_line() {
    let v = TestVault::init();
    let start = std::time::Instant::now();
    let o = Command::new("prlimit")
        .arg("--as=268435456")
        .arg(bin())
        .args(["list", "--passphrase-file", "/dev/zero"])
        .env_remove("GUWAH_PASSPHRASE")
        .env("GUWAH_VAULT", &v.root)
        .output()
        .expect("prlimit (util-linux)");
    assert_eq!(code(&o), 4, "{}", text(&o));
    assert!(text(&o).contains("longer than 64 KiB"), "{}", text(&o));
    assert!(start.elapsed().as_secs() < 10);
    // The passphrase is the first line, whatever follows it.
    let f = v.work.join("pass");
    let mut content = format!("{PASS}\r\n").into_bytes();
    content.extend(std::iter::repeat_n(b'x', 1 << 20));
    fs::write(&f, content).unwrap();
    let o = guwah_cmd(&v.root, None)
        .args(["list", "--passphrase-file"])
        .arg(&f)
        .output()
        .unwrap();
    must_succeed(&o, "list with the first line of a large file");
}

/// `GUWAH_PASSPHRASE=a guwah init` succeeded silently.
#[test]
fn weak_passphrases_are_refused_at_init_and_passwd() {
    let tmp = tempfile::tempdir().unwrap();
    for weak in ["a", "password", "12345678", "evidence", "qwerty123"] {
        let root = tmp.path().join("weak");
        let o = guwah_cmd(&root, Some(weak)).arg("init").output().unwrap();
        assert_eq!(code(&o), 3, "{weak}: {}", text(&o));
        assert!(text(&o).contains("too easy to guess"), "{}", text(&o));
        assert!(!root.exists(), "nothing created for {weak:?}");
    }
    let o = guwah_cmd(
        &tmp.path().join("nl"),
        Some("copper lantern\ndrifts over quiet salt"),
    )
    .arg("init")
    .output()
    .unwrap();
    assert_eq!(code(&o), 3, "{}", text(&o));
    assert!(text(&o).contains("line break"), "{}", text(&o));
    let demo = tmp.path().join("demo");
    let o = guwah_cmd(&demo, Some("a"))
        .args(["init", "--allow-weak-passphrase"])
        .output()
        .unwrap();
    must_succeed(&o, "init --allow-weak-passphrase");

    // passwd: the same keys under a new passphrase; weak ones refused.
    let v = TestVault::init();
    let log_key = v.ok(&["log", "key"]);
    let f = v.file("a.txt", b"kept across the change");
    v.add(&[&f]);
    let o = guwah_cmd(&v.root, Some(PASS))
        .arg("passwd")
        .env("GUWAH_NEW_PASSPHRASE", "abc")
        .output()
        .unwrap();
    assert_eq!(code(&o), 3, "{}", text(&o));
    let new = "violet harbour gravel nineteen owls";
    let o = guwah_cmd(&v.root, Some("wrong passphrase entirely, friend"))
        .arg("passwd")
        .env("GUWAH_NEW_PASSPHRASE", new)
        .output()
        .unwrap();
    assert_eq!(
        code(&o),
        4,
        "the current passphrase is checked: {}",
        text(&o)
    );
    let o = guwah_cmd(&v.root, Some(PASS))
        .arg("passwd")
        .env("GUWAH_NEW_PASSPHRASE", new)
        .output()
        .unwrap();
    must_succeed(&o, "passwd");
    let o = guwah_cmd(&v.root, Some(PASS)).arg("list").output().unwrap();
    assert_eq!(code(&o), 4, "the old passphrase no longer opens it");
    let o = guwah_cmd(&v.root, Some(new))
        .arg("verify")
        .output()
        .unwrap();
    must_succeed(&o, "verify under the new passphrase");
    let o = guwah_cmd(&v.root, Some(new))
        .args(["log", "key"])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&o.stdout), log_key, "same keys");
}

/// A stub `ffmpeg` on PATH logged `GUWAH_PASSPHRASE` from its environment.
#[test]
fn ffmpeg_gets_none_of_guwahs_environment() {
    let v = TestVault::init();
    let bin_dir = v.work.join("bin");
    fs::create_dir(&bin_dir).unwrap();
    let log = v.work.join("ffmpeg-env.txt");
    let stub = bin_dir.join("ffmpeg");
    fs::write(
        &stub,
        format!("#!/bin/sh\nenv > '{}'\nexit 1\n", log.display()),
    )
    .unwrap();
    fs::set_permissions(&stub, fs::Permissions::from_mode(0o755)).unwrap();
    // An MP4 by its first bytes: `add` asks ffmpeg for its frames.
    let mut mp4 = b"\0\0\0\x18ftypmp42\0\0\0\0mp42isom".to_vec();
    mp4.extend_from_slice(&[0u8; 64]);
    let f = v.file("clip.mp4", &mp4);
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap());
    let o = guwah_cmd(&v.root, Some(PASS))
        .args(["add", &f])
        .env("PATH", &path)
        .env("AWS_SECRET_ACCESS_KEY", "not-for-ffmpeg")
        .env("HOME", "/home/someone")
        .output()
        .unwrap();
    must_succeed(&o, "add a video with a failing ffmpeg");
    let env = fs::read_to_string(&log).expect("the stub ffmpeg ran");
    assert!(!env.contains(PASS), "the passphrase reached ffmpeg:\n{env}");
    let names: Vec<&str> = env.lines().filter_map(|l| l.split('=').next()).collect();
    for name in &names {
        assert!(
            ["PATH", "LC_ALL", "PWD", "SHLVL", "_", "OLDPWD"].contains(name),
            "ffmpeg inherited {name}:\n{env}"
        );
    }
}

fn mode(p: &Path) -> u32 {
    fs::symlink_metadata(p).unwrap().permissions().mode() & 0o777
}

fn walk(p: &Path, out: &mut Vec<PathBuf>) {
    out.push(p.to_owned());
    if p.is_dir() {
        for e in fs::read_dir(p).unwrap() {
            walk(&e.unwrap().path(), out);
        }
    }
}

/// `export` and `disclose --out` wrote plaintext originals and disclosed
/// values with the umask's modes (0644/0755); `get --out` used 0600.
#[test]
fn exports_and_disclosures_are_private_files() {
    let v = TestVault::init();
    let f = v.file("photo.txt", b"plaintext original");
    let (id, _) = v.add(&[&f]).remove(0);
    let out = v.work.join("pkg");
    // Run under a permissive umask, as a desktop session has.
    let o = Command::new("sh")
        .arg("-c")
        .arg("umask 022 && exec \"$@\"")
        .arg("sh")
        .arg(bin())
        .args(["export", &id, "--out"])
        .arg(&out)
        .env("GUWAH_VAULT", &v.root)
        .env("GUWAH_PASSPHRASE", PASS)
        .output()
        .unwrap();
    must_succeed(&o, "export");
    let mut all = Vec::new();
    walk(&out, &mut all);
    assert!(all.len() > 5);
    for p in &all {
        let want = if p.is_dir() { 0o700 } else { 0o600 };
        assert_eq!(mode(p), want, "{}", p.display());
    }
    let zip = v.work.join("pkg.zip");
    v.ok(&["export", &id, "--out", zip.to_str().unwrap()]);
    assert_eq!(mode(&zip), 0o600);
    let d = v.work.join("name.disclosure");
    v.ok(&["disclose", &id, "filename", "--out", d.to_str().unwrap()]);
    assert_eq!(mode(&d), 0o600);
    let g = v.work.join("copy.txt");
    v.ok(&["get", &id, "--out", g.to_str().unwrap()]);
    assert_eq!(mode(&g), 0o600);
}

/// Every `exported` event sealed the full local destination path
/// (`/home/NAME/Desktop/...`) as a disclosed field, carried by every later
/// package. Now only the `--to` label the user chooses.
#[test]
fn custody_events_never_seal_a_local_path() {
    let v = TestVault::init();
    let f = v.file("photo.txt", b"evidence");
    let (id, _) = v.add(&[&f]).remove(0);
    let desk = v.work.join("HomeOfAsiya").join("Desktop");
    fs::create_dir_all(&desk).unwrap();
    let pkg = desk.join("for-court.zip");
    v.ok(&[
        "export",
        &id,
        "--out",
        pkg.to_str().unwrap(),
        "--to",
        "UN OHCHR",
        "--reason",
        "submission",
    ]);
    v.ok(&["get", &id, "--out", desk.join("copy").to_str().unwrap()]);
    v.ok(&["get", &id, "--out", "-"]);
    let show = v.ok(&["--json", "show", &id]);
    assert!(!show.contains("HomeOfAsiya"), "{show}");
    assert!(!show.contains("destination"), "{show}");
    assert!(show.contains("UN OHCHR"), "{show}");
    // And nothing in a later package names the folder either.
    let later = v.work.join("later");
    v.ok(&["export", &id, "--out", later.to_str().unwrap()]);
    let mut all = Vec::new();
    walk(&later, &mut all);
    for p in all.iter().filter(|p| p.is_file()) {
        let bytes = fs::read(p).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("HomeOfAsiya"),
            "{} names the local folder",
            p.display()
        );
    }
    let o = v.run(&["export", &id, "--out", "x", "--to", "two\nlines"]);
    assert_eq!(code(&o), 3, "{}", text(&o));
}

/// A file name and a note that carry terminal escapes are printed escaped;
/// JSON keeps them exact.
#[test]
fn control_characters_never_reach_the_terminal_raw() {
    let v = TestVault::init();
    let name = "report\u{1b}[8m\r\nOK: all verified\u{202e}gpj.txt";
    let f = v.file(name, b"hostile name");
    let o = v.run(&["add", &f, "--note", "x\u{1b}]0;title\u{7}"]);
    must_succeed(&o, "add");
    for out in [text(&o), v.ok(&["list"])] {
        assert!(!out.contains('\u{1b}'), "raw ESC in {out:?}");
        assert!(!out.contains('\r'), "raw CR in {out:?}");
        assert!(!out.contains('\u{202e}'), "raw RLO in {out:?}");
        assert!(out.contains("\\u{001b}[8m\\r\\nOK"), "{out:?}");
    }
    let id = v.list()[0]["id"].as_str().unwrap().to_owned();
    let show = v.ok(&["show", &id]);
    assert!(
        !show.contains('\u{1b}') && !show.contains('\u{7}'),
        "{show:?}"
    );
    assert_eq!(
        v.list()[0]["filename"].as_str().unwrap(),
        name,
        "JSON is exact"
    );
    // An error that quotes outside input is escaped too.
    let o = v.run(&["add", &format!("{}/missing\u{1b}[2J", v.work.display())]);
    assert_eq!(code(&o), 3);
    assert!(!text(&o).contains('\u{1b}'), "{}", text(&o));
}

/// `guwah witness key` refused to print the key while the witness ran.
#[test]
fn a_running_witness_still_prints_its_public_key() {
    let tmp = tempfile::tempdir().unwrap();
    let d = tmp.path().join("w");
    let d = d.to_str().unwrap();
    let o = Command::new(bin())
        .args(["witness", "init", "--dir", d, "--name", "witness.test/w"])
        .output()
        .unwrap();
    must_succeed(&o, "witness init");
    let vkey = String::from_utf8(o.stdout).unwrap().trim().to_owned();
    let mut child = Command::new(bin())
        .args(["witness", "serve", "--addr", "127.0.0.1:0", "--dir", d])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let o = Command::new(bin())
        .args(["witness", "key", "--dir", d])
        .output()
        .unwrap();
    let _ = child.kill();
    let _ = child.wait();
    must_succeed(&o, "witness key while serving");
    assert_eq!(String::from_utf8(o.stdout).unwrap().trim(), vkey);
}

fn rfc3161(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/fixtures/rfc3161")
        .join(rel)
}

/// There was no way to check a token someone else obtained.
#[test]
fn timestamp_verify_checks_a_standalone_token() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("hello");
    fs::write(&data, b"hello").unwrap();
    let run = |token: &str, data: &Path, root: &str| {
        Command::new(bin())
            .args(["timestamp", "verify"])
            .arg(rfc3161(token))
            .arg("--data")
            .arg(data)
            .arg("--root")
            .arg(rfc3161(root))
            .env_remove("GUWAH_VAULT")
            .output()
            .unwrap()
    };
    for t in [
        "sigstage/response-sha256.tsr",
        "sigstage/response-sha512.tsr",
    ] {
        let o = run(t, &data, "sigstage/ts_chain.pem");
        must_succeed(&o, t);
        assert!(text(&o).contains("valid: "), "{}", text(&o));
        assert!(text(&o).contains("sigstore-tsa"), "{}", text(&o));
    }
    let o = run("identrust/issue-104.tsr", &data, "identrust/ts_chain.pem");
    must_succeed(&o, "identrust, at its genTime");
    let other = tmp.path().join("other");
    fs::write(&other, b"hellO").unwrap();
    let o = run(
        "sigstage/response-sha256.tsr",
        &other,
        "sigstage/ts_chain.pem",
    );
    assert_eq!(code(&o), 1, "{}", text(&o));
    assert!(text(&o).contains("INVALID"), "{}", text(&o));
    let o = run(
        "sigstage/response-invalid-signature.tsr",
        &data,
        "sigstage/ts_chain.pem",
    );
    assert_eq!(code(&o), 1, "{}", text(&o));
    let o = run(
        "sigstage/response-sha256.tsr",
        &data,
        "identrust/ts_chain.pem",
    );
    assert_eq!(code(&o), 1, "another TSA's root: {}", text(&o));
    let o = run("sigstage/ts_chain.pem", &data, "sigstage/ts_chain.pem");
    assert_eq!(code(&o), 3, "not a token: {}", text(&o));
    let o = run(
        "sigstage/response-sha256.tsr",
        &tmp.path().join("absent"),
        "sigstage/ts_chain.pem",
    );
    assert_eq!(code(&o), 3, "{}", text(&o));
    let o = Command::new(bin())
        .args(["--json", "timestamp", "verify"])
        .arg(rfc3161("sigstage/response-sha256.tsr"))
        .arg("--data")
        .arg(&data)
        .arg("--root")
        .arg(rfc3161("sigstage/ts_chain.pem"))
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    assert_eq!(v["valid"], true, "{v}");
}

/// A manifest path with `ESC[8m` concealed the verdict line after it, and
/// an encoded CR LF forged lines; chat text reached `search` raw.
#[test]
fn manifest_paths_and_chat_text_are_printed_escaped() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = tmp.path().join("bag");
    fs::create_dir_all(bag.join("data")).unwrap();
    fs::write(
        bag.join("bagit.txt"),
        "BagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n",
    )
    .unwrap();
    let hash = hex(&sha256(b""));
    fs::write(
        bag.join("manifest-sha256.txt"),
        format!("{hash}  data/x%0D%0AVALID bag\u{1b}[8m\n"),
    )
    .unwrap();
    for args in [vec!["bag", "validate"], vec!["verify-bundle"]] {
        let o = Command::new(bin())
            .args(&args)
            .arg(&bag)
            .env_remove("GUWAH_VAULT")
            .output()
            .unwrap();
        let out = text(&o);
        assert_ne!(code(&o), 0, "{out}");
        assert!(!out.contains('\u{1b}'), "raw ESC from {args:?}: {out:?}");
        assert!(!out.contains("\r"), "raw CR from {args:?}: {out:?}");
        assert!(out.contains("\\u{001b}[8m"), "{args:?}: {out:?}");
    }
    let v = TestVault::init();
    let chat = v.file(
        "WhatsApp Chat with Aziz.txt",
        "12/31/23, 10:00 - Aziz: meet at the checkpoint\u{1b}[8m hidden\n12/31/23, 10:01 - Aziz: ok\r\nFAKE: line\n"
            .as_bytes(),
    );
    v.ok(&["add", "--chat", &chat]);
    let out = v.ok(&["search", "checkpoint"]);
    assert!(!out.contains('\u{1b}'), "{out:?}");
    assert!(out.contains("\\u{001b}[8m"), "{out:?}");
}
