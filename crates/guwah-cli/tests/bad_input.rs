//! Bad input: every refusal exits with the documented code, says in one
//! line on stderr what is wrong with which thing, and changes nothing.
//!
//! "Changes nothing" is checked on a snapshot of every file and folder of
//! the vault, byte for byte, with one exception: the `lock` file. It is the
//! empty file writers `flock`; any writer may create it and it never holds
//! data. SQLite's `index.sqlite-wal` and `-shm` are *not* ignored: SQLite
//! removes them when the last connection closes, so after a refused command
//! they must be gone exactly as before.
//!
//! One more allowance, only where stated: an add refused after it started
//! sealing (a file that fails while being read) removes the blobs it wrote
//! but may leave their new, *empty* shard folder `blobs/<2 hex>/`. An empty
//! folder holds no data; it is reported and tolerated.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

use common::*;

type Snap = BTreeMap<String, Option<Vec<u8>>>;

fn snap(root: &Path) -> Snap {
    snapshot(root, &|rel| rel == "lock")
}

/// Describe how two snapshots differ.
fn diff(a: &Snap, b: &Snap) -> String {
    let mut out = String::new();
    for (k, v) in a {
        match b.get(k) {
            None => out += &format!("  removed {k}\n"),
            Some(w) if w != v => out += &format!("  changed {k}\n"),
            _ => {}
        }
    }
    for k in b.keys().filter(|k| !a.contains_key(*k)) {
        out += &format!("  created {k}\n");
    }
    out
}

/// Check a refusal: exit `code`, nothing on stdout, exactly one line on
/// stderr that contains every one of `names`.
fn check_refusal(o: &Output, code: i32, names: &[&str], case: &str) {
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        o.status.code(),
        Some(code),
        "{case}: exit code; stderr: {err}"
    );
    assert!(
        o.stdout.is_empty(),
        "{case}: stdout not empty: {}",
        String::from_utf8_lossy(&o.stdout)
    );
    assert!(
        err.ends_with('\n') && err.lines().count() == 1,
        "{case}: stderr is not exactly one line: {err:?}"
    );
    for n in names {
        assert!(err.contains(n), "{case}: stderr does not name {n:?}: {err}");
    }
    eprintln!("{case:<44} exit {code}  {}", err.trim_end());
}

/// Run `cmd`, check the refusal, and that `watched` folders are unchanged.
fn refused(cmd: &mut Command, code: i32, names: &[&str], watched: &[&Path], case: &str) {
    let before: Vec<Snap> = watched.iter().map(|p| snap(p)).collect();
    let o = cmd.output().expect("run guwah");
    check_refusal(&o, code, names, case);
    for (p, b) in watched.iter().zip(&before) {
        let mut a = snap(p);
        let empty_shards: Vec<String> = a
            .iter()
            .filter(|(k, v)| {
                v.is_none()
                    && !b.contains_key(*k)
                    && k.len() == "blobs/00".len()
                    && k.starts_with("blobs/")
                    && !a.keys().any(|o| o.starts_with(&format!("{k}/")))
            })
            .map(|(k, _)| k.clone())
            .collect();
        for k in &empty_shards {
            eprintln!("{case:<44} note: left an empty shard folder {k}/ (tolerated)");
            a.remove(k);
        }
        assert!(&a == b, "{case}: {} changed:\n{}", p.display(), diff(b, &a));
    }
}

/// A vault holding two items, one with a custody event.
fn vault() -> (TestVault, String) {
    let v = TestVault::init();
    let a = v.file("a.txt", b"first item\n");
    let b = v.file("b.bin", &vec![7u8; 70_000]);
    let items = v.add(&[&a, &b]);
    v.ok(&[
        "get",
        &items[0].0,
        "--out",
        &v.work.join("a.out").to_string_lossy(),
    ]);
    (v, items[0].0.clone())
}

fn cmd(v: &TestVault, args: &[&str]) -> Command {
    let mut c = guwah_cmd(&v.root, Some(PASS));
    c.args(args);
    c
}

#[test]
fn wrong_or_missing_passphrase_is_code_4() {
    let (v, id) = vault();
    let f = v.file("new.txt", b"new\n");
    for args in [
        vec!["add", f.as_str()],
        vec!["list"],
        vec!["verify"],
        vec!["show", &id],
    ] {
        let mut c = guwah_cmd(&v.root, Some("not the passphrase"));
        c.args(&args);
        let case = format!("wrong passphrase: {}", args[0]);
        refused(
            &mut c,
            4,
            &["keys.sealed", "wrong passphrase"],
            &[&v.root],
            &case,
        );
    }
    let mut c = guwah_cmd(&v.root, None);
    c.args(["add", &f]);
    refused(
        &mut c,
        4,
        &["passphrase"],
        &[&v.root],
        "no passphrase at all",
    );
}

#[test]
fn unusable_inputs_are_code_3() {
    let (v, _) = vault();
    let missing = v.work.join("missing.jpg");
    let missing = missing.to_str().unwrap();
    refused(
        &mut cmd(&v, &["add", missing]),
        3,
        &[missing, "does not exist"],
        &[&v.root],
        "missing file",
    );

    let fifo = v.work.join("pipe");
    let st = Command::new("mkfifo").arg(&fifo).status().expect("mkfifo");
    assert!(st.success());
    let fifo = fifo.to_str().unwrap();
    refused(
        &mut cmd(&v, &["add", fifo]),
        3,
        &[fifo, "FIFO"],
        &[&v.root],
        "FIFO",
    );

    refused(
        &mut cmd(&v, &["add", "/dev/null"]),
        3,
        &["/dev/null", "device"],
        &[&v.root],
        "char device /dev/null",
    );

    let locked = v.file("unreadable.txt", b"secret\n");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    if fs::File::open(&locked).is_ok() {
        // Root (or CAP_DAC_OVERRIDE) reads it anyway: nothing to refuse.
        eprintln!(
            "unreadable file: SKIPPED, this process can read a mode-000 file (running as root)"
        );
    } else {
        refused(
            &mut cmd(&v, &["add", &locked]),
            3,
            &[&locked, "cannot be read"],
            &[&v.root],
            "unreadable file",
        );
    }

    let good = v.file("good.txt", b"good\n");
    refused(
        &mut cmd(&v, &["add", &good, "--captured-at", "yesterday at noon"]),
        3,
        &["--captured-at", "yesterday at noon", "RFC 3339"],
        &[&v.root],
        "--captured-at not RFC 3339",
    );
}

#[test]
fn a_folder_that_is_not_a_vault_is_code_3() {
    let tmp = tempfile::tempdir().unwrap();
    let notvault = tmp.path().join("photos");
    fs::create_dir(&notvault).unwrap();
    fs::write(notvault.join("x.jpg"), b"not a vault file").unwrap();
    let f = tmp.path().join("in.txt");
    fs::write(&f, b"input").unwrap();
    let nv = notvault.to_str().unwrap();
    for args in [
        vec!["list"],
        vec!["add", f.to_str().unwrap()],
        vec!["verify"],
    ] {
        let mut c = guwah_cmd(&notvault, Some(PASS));
        c.args(&args);
        let case = format!("not a vault: {}", args[0]);
        refused(&mut c, 3, &[nv, "not a guwah vault"], &[tmp.path()], &case);
    }
    // A folder that does not exist is not created.
    let nowhere = tmp.path().join("nowhere");
    let mut c = guwah_cmd(&nowhere, Some(PASS));
    c.args(["add", f.to_str().unwrap()]);
    refused(
        &mut c,
        3,
        &["nowhere", "not a guwah vault"],
        &[tmp.path()],
        "vault folder does not exist",
    );
}

/// One bad path among good ones, wherever it is, and whatever is wrong
/// with it, adds nothing. `/proc/version` is a regular file whose size is 0
/// but which reads as text: it passes the up-front checks and fails only
/// while being sealed, after the good files' blobs were written.
#[test]
fn one_bad_path_among_several_adds_nothing() {
    let (v, _) = vault();
    // Same bytes as an item already in the vault: re-adding them must not
    // put that item's blob at risk when the add is refused.
    let again = v.file("a-again.txt", b"first item\n");
    let g1 = v.file("good1.txt", b"good one\n");
    let g2 = v.file("good2.bin", &vec![3u8; 100_000]);
    let fifo = v.work.join("fifo");
    assert!(
        Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let dir = v.work.join("folder");
    fs::create_dir(&dir).unwrap();
    fs::write(dir.join("fine.txt"), b"fine").unwrap();
    assert!(
        Command::new("mkfifo")
            .arg(dir.join("zz-pipe"))
            .status()
            .unwrap()
            .success()
    );
    let missing = v.work.join("missing.txt");
    let bads: [(&str, &str); 4] = [
        (missing.to_str().unwrap(), "does not exist"),
        (fifo.to_str().unwrap(), "FIFO"),
        ("/proc/version", "changed while it was being read"),
        (dir.to_str().unwrap(), "zz-pipe"),
    ];
    let listed = v.list();
    for (bad, why) in bads {
        for pos in 0..3 {
            let mut paths = vec![again.as_str(), g1.as_str(), g2.as_str()];
            paths.insert(pos, bad);
            let mut args = vec!["add"];
            args.extend(&paths);
            let case = format!(
                "bad path {} at position {pos}",
                Path::new(bad).file_name().unwrap().to_string_lossy()
            );
            refused(&mut cmd(&v, &args), 3, &[why], &[&v.root], &case);
        }
    }
    assert_eq!(v.list(), listed, "the item list changed");
    let o = v.run(&["verify"]);
    assert!(
        o.status.success(),
        "verify after refused adds:\n{}",
        text(&o)
    );
}

#[test]
fn bad_ids_and_outputs_are_code_3() {
    let (v, id) = vault();
    let exists = v.file("exists.txt", b"do not overwrite me\n");
    refused(
        &mut cmd(&v, &["get", &id, "--out", &exists]),
        3,
        &[&exists, "already exists"],
        &[&v.root, &v.work],
        "get onto an existing file",
    );
    assert_eq!(fs::read(&exists).unwrap(), b"do not overwrite me\n");

    let out = v.work.join("never.out");
    let out = out.to_str().unwrap();
    let unknown = "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff";
    for args in [
        vec!["get", unknown, "--out", out],
        vec!["show", unknown],
        vec!["annotate", unknown, "--note", "x"],
        vec!["log", "proof", unknown],
    ] {
        let case = format!("unknown id: {}", args[..args.len().min(2)].join(" "));
        refused(
            &mut cmd(&v, &args),
            3,
            &[unknown, "no item"],
            &[&v.root, &v.work],
            &case,
        );
    }
    refused(
        &mut cmd(&v, &["get", "xyz", "--out", out]),
        3,
        &["\"xyz\"", "hex"],
        &[&v.root, &v.work],
        "malformed id",
    );
    assert!(!Path::new(out).exists());
}

#[test]
fn init_on_a_non_empty_folder_is_code_3() {
    let (v, _) = vault();
    let full = v.tmp.path().join("full");
    fs::create_dir(&full).unwrap();
    fs::write(full.join("keep.txt"), b"keep").unwrap();
    let mut c = guwah_cmd(&full, Some(PASS));
    c.arg("init");
    refused(
        &mut c,
        3,
        &["full", "not empty"],
        &[&full],
        "init on a non-empty folder",
    );
    let mut c = guwah_cmd(&v.root, Some(PASS));
    c.arg("init");
    refused(
        &mut c,
        3,
        &["vault", "not empty"],
        &[&v.root],
        "init on an existing vault",
    );
}
