//! Witnessing end to end (C2SP tlog-witness): vault B's owner runs `guwah
//! witness serve` for vault A's log; A gets its checkpoints cosigned; a
//! fork of A (a copy of its folder, so the same keys, growing differently)
//! is refused by the witness; `verify` and `verify-bundle` enforce
//! `--witness VKEY --min-witnesses K` and flag a cosignature pasted onto a
//! forked checkpoint.

mod common;

use std::fs;
use std::path::{Path, PathBuf};

use common::*;

fn checkpoint(v: &Path, size: Option<u64>) -> String {
    let mut args = vec!["log".to_owned(), "checkpoint".to_owned()];
    if let Some(s) = size {
        args.extend(["--size".into(), s.to_string()]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = run_in(v, &args);
    must_succeed(&o, "log checkpoint");
    String::from_utf8(o.stdout).unwrap()
}

fn size_of(note: &str) -> u64 {
    note.lines().nth(1).unwrap().parse().unwrap()
}

/// Replace a package's checkpoint note everywhere it appears (the
/// checkpoint file and every receipt, inside the item files) and rewrite the
/// tag manifests, as an
/// export taken from a cosigned checkpoint would have written it.
fn put_checkpoint(pkg: &Path, old: &str, new: &str) {
    let mut changed = Vec::new();
    let mut stack = vec![pkg.join("guwah")];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let s = fs::read_to_string(&p).unwrap_or_default();
                if !s.contains(old) {
                    continue;
                }
                if p.extension().is_some_and(|e| e == "txt")
                    && p.parent().unwrap().ends_with("items")
                {
                    // An item file: replace inside each part, so that every
                    // part's length stays true.
                    let mut f = guwah_core::item_file::ItemFile::parse(s.as_bytes()).unwrap();
                    for (_, part) in &mut f.parts {
                        let text = String::from_utf8(part.clone()).unwrap();
                        *part = text.replace(old, new).into_bytes();
                    }
                    fs::write(&p, f.encode()).unwrap();
                } else {
                    fs::write(&p, s.replace(old, new)).unwrap();
                }
                changed.push(p);
            }
        }
    }
    assert!(changed.len() >= 2, "checkpoint and at least one receipt");
    reseal_tag_manifests(pkg);
}

fn witness_lines(note: &str) -> Vec<String> {
    note.lines()
        .filter(|l| l.starts_with("\u{2014} witness.test/w1 "))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn two_vaults_one_witnesses_the_other_and_forks_are_refused() {
    let a = TestVault::init();
    let b = TestVault::init();
    let log_vkey = a.ok(&["log", "key"]).trim().to_owned();
    let w = start_witness(&b.tmp.path().join("witness"), "witness.test/w1", &log_vkey);
    let a1 = a.file("a1.txt", b"first item");
    a.add(&[&a1]);

    // Configure and witness.
    let o = a.run(&["log", "witness", "--add", "w1", &w.url, &w.vkey]);
    must_succeed(&o, "log witness --add");
    let o = a.run(&["log", "witness", "--add", "w2", "ftp://x", &w.vkey]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));
    let o = a.run(&["log", "witness"]);
    must_succeed(&o, "log witness");
    assert!(
        text(&o).contains("1 of 1 witness(es) cosigned"),
        "{}",
        text(&o)
    );
    let note1 = checkpoint(&a.root, None);
    assert_eq!(witness_lines(&note1).len(), 1, "{note1}");
    assert_eq!(checkpoint(&a.root, Some(size_of(&note1))), note1);

    // verify with the policy.
    let o = a.run(&["verify", "--witness", &w.vkey, "--min-witnesses", "1"]);
    must_succeed(&o, "verify --min-witnesses 1");
    let o = a.run(&["verify", "--witness", &w.vkey, "--min-witnesses", "2"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(
        text(&o).contains("1 valid witness cosignature(s), 2 required"),
        "{}",
        text(&o)
    );
    let o = a.run(&["verify", "--witness", "not-a-key"]);
    assert_eq!(o.status.code(), Some(3), "{}", text(&o));

    // A fork: the same keys in a copy of the folder, growing differently.
    let fork = a.tmp.path().join("fork");
    copy_tree(&a.root, &fork);
    let a2 = a.file("a2.txt", b"second item");
    a.add(&[&a2]);
    let o = a.run(&["log", "witness"]);
    must_succeed(&o, "log witness (grown)");
    let f2 = a.file("f2.txt", b"a different second item");
    let o = run_in(&fork, &["add", &f2]);
    must_succeed(&o, "add in the fork");
    assert_eq!(
        size_of(&checkpoint(&fork, None)),
        size_of(&checkpoint(&a.root, None))
    );
    // Same size, different root: 409 Conflict, reported as a fork.
    let o = run_in(&fork, &["log", "witness"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("FORK") && t.contains("forked") && t.contains("HTTP 409"),
        "{t}"
    );
    // Larger, inconsistent: 422 Unprocessable.
    let f3 = a.file("f3.txt", b"a third item in the fork");
    must_succeed(&run_in(&fork, &["add", &f3]), "add in the fork");
    let o = run_in(&fork, &["log", "witness"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let t = text(&o);
    assert!(t.contains("FORK") && t.contains("HTTP 422"), "{t}");
    // The fork's checkpoint carries no cosignature and fails the policy.
    assert!(witness_lines(&checkpoint(&fork, None)).is_empty());
    let o = run_in(&fork, &["verify", "--witness", &w.vkey]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    // A still verifies, cosigned.
    must_succeed(
        &a.run(&["verify", "--witness", &w.vkey, "--min-witnesses", "1"]),
        "verify A after the fork attempt",
    );

    // An evidence package from A: export seals an `exported` event (a new
    // checkpoint); witness it, and put the cosigned note in the package.
    let id = a.list()[0]["id"].as_str().unwrap().to_owned();
    let pkg = a.tmp.path().join("pkg");
    must_succeed(
        &a.run(&["export", &id, "--out", pkg.to_str().unwrap()]),
        "export",
    );
    let plain = fs::read_to_string(pkg.join("guwah/checkpoint")).unwrap();
    // `verify-bundle` with the log key trusted and at least `min` cosignatures
    // by the witness required.
    let verify_witnessed = |package: &Path, min: &str| {
        a.run(&[
            "verify-bundle",
            package.to_str().unwrap(),
            "--trust",
            &log_vkey,
            "--witness",
            &w.vkey,
            "--min-witnesses",
            min,
        ])
    };
    let o = verify_witnessed(&pkg, "1");
    assert_eq!(o.status.code(), Some(1), "no cosignature yet: {}", text(&o));
    must_succeed(&a.run(&["log", "witness"]), "log witness (export)");
    let cosigned = checkpoint(&a.root, Some(size_of(&plain)));
    assert_eq!(witness_lines(&cosigned).len(), 1);
    put_checkpoint(&pkg, &plain, &cosigned);
    let o = verify_witnessed(&pkg, "1");
    must_succeed(&o, "verify-bundle --witness");
    let o = verify_witnessed(&pkg, "2");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));

    // `export --witness` asks the witnesses itself: the package it writes
    // carries the cosignature, no hand work needed.
    let pkg3 = a.tmp.path().join("pkg3");
    must_succeed(
        &a.run(&["export", &id, "--witness", "--out", pkg3.to_str().unwrap()]),
        "export --witness",
    );
    let note3 = fs::read_to_string(pkg3.join("guwah/checkpoint")).unwrap();
    assert_eq!(witness_lines(&note3).len(), 1, "{note3}");
    let o = verify_witnessed(&pkg3, "1");
    must_succeed(&o, "verify-bundle of an export --witness package");

    // A forked package: the fork's checkpoint of the same size (signed by
    // the same log key, another root) with A's cosignature pasted on.
    let size = size_of(&cosigned);
    let f4 = a.file("f4.txt", b"a fourth item in the fork");
    must_succeed(&run_in(&fork, &["add", &f4]), "add in the fork");
    let fork_note = checkpoint(&fork, Some(size));
    assert_ne!(
        fork_note.lines().nth(2),
        cosigned.lines().nth(2),
        "same size, another root"
    );
    let forged = format!("{fork_note}{}", witness_lines(&cosigned).concat());
    let pkg2: PathBuf = a.tmp.path().join("pkg2");
    copy_tree(&pkg, &pkg2);
    put_checkpoint(&pkg2, &cosigned, &forged);
    let o = verify_witnessed(&pkg2, "1");
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("forked log"), "{}", text(&o));
}

#[test]
fn witness_refuses_bad_requests_over_http() {
    let a = TestVault::init();
    let b = TestVault::init();
    let log_vkey = a.ok(&["log", "key"]).trim().to_owned();
    let w = start_witness(&b.tmp.path().join("witness"), "witness.test/w1", &log_vkey);
    let addr = w.url.trim_start_matches("http://").to_owned();
    let post = |body: &[u8]| -> String {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(&addr).unwrap();
        let mut req = format!(
            "POST /add-checkpoint HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        req.extend_from_slice(body);
        let _ = s.write_all(&req);
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    };
    assert!(post(b"garbage").starts_with("HTTP/1.1 400"));
    assert!(post(b"old 0\n\nnot a note\n").starts_with("HTTP/1.1 400"));
    let f = a.file("x.txt", b"x");
    a.add(&[&f]);
    let note = checkpoint(&a.root, None);
    let ok = post(format!("old 0\n\n{note}").as_bytes());
    assert!(ok.starts_with("HTTP/1.1 200"), "{ok}");
    assert!(ok.contains("\u{2014} witness.test/w1 "));
    let r = post(format!("old 0\n\n{note}").as_bytes());
    assert!(
        r.starts_with("HTTP/1.1 409")
            && r.contains("text/x.tlog.size")
            && r.ends_with("\r\n\r\n1\n"),
        "{r}"
    );
    // A tampered note: refused (malformed, 400, or a bad signature, 403).
    let bad = note.replace("=\n", "A=\n");
    let r = post(format!("old 1\n\n{}", bad).as_bytes());
    assert!(
        r.starts_with("HTTP/1.1 400") || r.starts_with("HTTP/1.1 403"),
        "{r}"
    );
    // Unknown origin: 404 (a checkpoint of vault B).
    let g = b.file("y.txt", b"y");
    b.add(&[&g]);
    let other = checkpoint(&b.root, None).replace("example.org/guwah-test", "example.org/other");
    let r = post(format!("old 0\n\n{other}").as_bytes());
    assert!(r.starts_with("HTTP/1.1 404"), "{r}");
    // B's checkpoint under A's origin (B's own key): 403.
    let r = post(format!("old 1\n\n{}", checkpoint(&b.root, None)).as_bytes());
    assert!(r.starts_with("HTTP/1.1 403"), "{r}");
    let r = post(&vec![b'x'; 3 << 19]);
    assert!(r.starts_with("HTTP/1.1 413"), "{r}");
}
