//! Peer check: the checkpoints, signed notes and RFC 6962 proofs that `guwah`
//! prints are accepted by an implementation none of us wrote — Go's
//! `golang.org/x/mod/sumdb/note` and `golang.org/x/mod/sumdb/tlog` — and
//! tampered copies are rejected by it.
//!
//! Needs Go and the x/mod sources: on Debian/Ubuntu
//! `apt-get install golang-go golang-golang-x-mod-dev`. The verifier in
//! `tests/peer/go-verify` is built offline in GOPATH mode against
//! `/usr/share/gocode` (override with `GUWAH_PEER_GOPATH`). Without them this
//! test fails; it never skips.

mod common;

use common::describe;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const PASSPHRASE: &str = "correct horse battery staple (peer test)";
const ORIGIN: &str = "example.org/guwah-peer-go";

/// Tree sizes after each `guwah add` call: small trees, a full 256-entry tile,
/// and a tree past the first tile boundary.
const BATCHES: [usize; 5] = [1, 3, 5, 247, 44];
const SIZES: [u64; 5] = [1, 4, 9, 256, 300];

struct Peer {
    vault: PathBuf,
    work: PathBuf,
    verifier: PathBuf,
}

impl Peer {
    fn guwah_output(&self, vault: &Path, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_guwah"))
            .arg("--vault")
            .arg(vault)
            .arg("--quiet")
            .args(args)
            .env("GUWAH_PASSPHRASE", PASSPHRASE)
            .env_remove("GUWAH_VAULT")
            .output()
            .expect("run guwah")
    }

    /// Run `guwah` on the test vault; return its stdout, failing on a non-zero exit.
    fn guwah(&self, args: &[&str]) -> Vec<u8> {
        let out = self.guwah_output(&self.vault, args);
        assert!(
            out.status.success(),
            "{}",
            describe(&format!("guwah {args:?}"), &out)
        );
        out.stdout
    }

    fn guwah_json(&self, args: &[&str]) -> Value {
        let mut all = vec!["--json"];
        all.extend_from_slice(args);
        let stdout = self.guwah(&all);
        serde_json::from_slice(&stdout).unwrap_or_else(|e| {
            panic!(
                "guwah {all:?} printed invalid JSON ({e}): {}",
                String::from_utf8_lossy(&stdout)
            )
        })
    }

    fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.work.join(name);
        std::fs::write(&path, bytes).expect("write artifact");
        path
    }

    fn go(&self, args: &[(&str, &Path)]) -> Output {
        let mut cmd = Command::new(&self.verifier);
        for (flag, path) in args {
            cmd.arg(flag).arg(path);
        }
        cmd.output().expect("run go-verify")
    }

    /// The Go verifier must accept, printing `checks` "ok" lines.
    fn accept(&self, what: &str, args: &[(&str, &Path)], checks: usize) {
        let out = self.go(args);
        let text = describe(&format!("Go verifier on {what}"), &out);
        assert!(out.status.success(), "rejected: {text}");
        let oks = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter(|l| l.starts_with("ok "))
            .count();
        assert_eq!(oks, checks, "wrong number of checks: {text}");
    }

    /// The Go verifier must reject, at the named check.
    fn reject(&self, what: &str, args: &[(&str, &Path)], failed_check: &str) {
        let out = self.go(args);
        let text = describe(&format!("Go verifier on {what}"), &out);
        assert_eq!(out.status.code(), Some(1), "not rejected: {text}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.starts_with(&format!("FAIL {failed_check}:")),
            "rejected for the wrong reason (wanted `{failed_check}`): {text}"
        );
    }
}

/// Replace the first character of a base64 string by another base64 character,
/// so that it still decodes to 32 bytes but a different hash.
fn alter_b64(s: &str) -> String {
    let mut chars: Vec<char> = s.chars().collect();
    chars[0] = if chars[0] == 'A' { 'B' } else { 'A' };
    chars.into_iter().collect()
}

/// Change one byte of `bytes`, inside the line that starts with `line_prefix`,
/// at `offset` into that line, to a different base64 character.
fn alter_line(bytes: &[u8], line_prefix: &[u8], offset: usize) -> Vec<u8> {
    let mut out = bytes.to_vec();
    let mut start = 0;
    for line in bytes.split(|&b| b == b'\n') {
        if line.starts_with(line_prefix) && line.len() > offset {
            let i = start + offset;
            out[i] = if out[i] == b'A' { b'B' } else { b'A' };
            return out;
        }
        start += line.len() + 1;
    }
    panic!(
        "no line starting with {:?} in {:?}",
        String::from_utf8_lossy(line_prefix),
        String::from_utf8_lossy(bytes)
    );
}

fn set_hash(proof: &Value, i: usize) -> Value {
    let mut p = proof.clone();
    let h = p["hashes"][i].as_str().expect("hash string").to_owned();
    p["hashes"][i] = Value::String(alter_b64(&h));
    p
}

fn json_bytes(v: &Value) -> Vec<u8> {
    serde_json::to_vec_pretty(v).expect("serialize JSON")
}

#[test]
fn go_sumdb_accepts_guwah_checkpoints_and_proofs() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let verifier = common::build_go_peer("go-verify", tmp.path());
    let work = tmp.path().join("work");
    let inputs = tmp.path().join("inputs");
    std::fs::create_dir_all(&work).unwrap();
    let peer = Peer {
        vault: tmp.path().join("vault"),
        work,
        verifier,
    };

    peer.guwah(&["init", "--origin", ORIGIN]);

    // Several separate `add` calls, one checkpoint each; the big one is a folder.
    let mut n = 0usize;
    for (batch, (&count, &size)) in BATCHES.iter().zip(SIZES.iter()).enumerate() {
        let dir = inputs.join(format!("batch{batch}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut paths = Vec::new();
        for _ in 0..count {
            let p = dir.join(format!("file{n:04}.txt"));
            std::fs::write(&p, format!("peer test evidence #{n}\n")).unwrap();
            paths.push(p);
            n += 1;
        }
        let mut args = vec!["add".to_owned()];
        if count > 10 {
            args.push(dir.to_str().unwrap().to_owned());
        } else {
            args.extend(paths.iter().map(|p| p.to_str().unwrap().to_owned()));
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let mut all = vec!["--json"];
        all.extend_from_slice(&args);
        let stdout = peer.guwah(&all);
        let report: Value = serde_json::from_slice(&stdout).expect("add --json");
        assert_eq!(report["tree_size"], size, "add report: {report}");
        assert_eq!(report["items"].as_array().unwrap().len(), count);
    }
    assert_eq!(
        peer.guwah_json(&["log", "checkpoints"]),
        serde_json::json!(SIZES)
    );
    let latest = *SIZES.last().unwrap();

    // Item ids by leaf index.
    let list = peer.guwah_json(&["list"]);
    let ids: BTreeMap<u64, String> = list
        .as_array()
        .expect("list --json is an array")
        .iter()
        .map(|item| {
            (
                item["leaf_index"].as_u64().expect("leaf_index"),
                item["id"].as_str().expect("id").to_owned(),
            )
        })
        .collect();
    assert_eq!(ids.len() as u64, latest);
    assert_eq!(
        ids.keys().copied().collect::<Vec<_>>(),
        (0..latest).collect::<Vec<_>>()
    );

    let vkey = peer.write("vkey", &peer.guwah(&["log", "key"]));
    let checkpoint_bytes = peer.guwah(&["log", "checkpoint"]);
    let checkpoint = peer.write("checkpoint", &checkpoint_bytes);
    assert!(
        checkpoint_bytes.starts_with(format!("{ORIGIN}\n{latest}\n").as_bytes()),
        "{}",
        String::from_utf8_lossy(&checkpoint_bytes)
    );

    // Inclusion: first and last leaves, every earlier checkpoint's edges, both
    // sides of the tile boundary, and a few in between.
    let indices: [u64; 14] = [0, 1, 2, 3, 4, 7, 8, 9, 100, 254, 255, 256, 257, 299];
    for &i in &indices {
        let id = &ids[&i];
        let leaf = peer.write(&format!("leaf{i}"), &peer.guwah(&["log", "leaf", id]));
        let proof_json = peer.guwah_json(&["log", "proof", id]);
        assert_eq!(proof_json["leaf_index"], i);
        assert_eq!(proof_json["tree_size"], latest);
        let proof = peer.write(&format!("proof{i}.json"), &json_bytes(&proof_json));
        peer.accept(
            &format!("inclusion of leaf {i}"),
            &[
                ("-vkey", &vkey),
                ("-checkpoint", &checkpoint),
                ("-leaf", &leaf),
                ("-proof", &proof),
            ],
            5,
        );
    }

    // Consistency from every earlier checkpoint to the latest.
    let mut old_checkpoints = BTreeMap::new();
    for &size in &SIZES[..SIZES.len() - 1] {
        let s = size.to_string();
        let old_bytes = peer.guwah(&["log", "checkpoint", "--size", &s]);
        assert!(old_bytes.starts_with(format!("{ORIGIN}\n{size}\n").as_bytes()));
        let old = peer.write(&format!("checkpoint{size}"), &old_bytes);
        let cons_json = peer.guwah_json(&["log", "consistency", "--from", &s]);
        assert_eq!(cons_json["old_size"], size);
        assert_eq!(cons_json["new_size"], latest);
        let cons = peer.write(&format!("consistency{size}.json"), &json_bytes(&cons_json));
        peer.accept(
            &format!("consistency {size} -> {latest}"),
            &[
                ("-vkey", &vkey),
                ("-checkpoint", &checkpoint),
                ("-old-checkpoint", &old),
                ("-consistency", &cons),
            ],
            6,
        );
        old_checkpoints.insert(size, (old, cons_json));
    }

    // ---- Negative checks: the Go verifier must reject every tampered input. ----
    let i = 257;
    let leaf_bytes = std::fs::read(peer.work.join(format!("leaf{i}"))).unwrap();
    let leaf = peer.work.join(format!("leaf{i}"));
    let proof = peer.work.join(format!("proof{i}.json"));
    let proof_json: Value = serde_json::from_slice(&std::fs::read(&proof).unwrap()).unwrap();
    let inclusion = |leaf: &Path, proof: &Path, cp: &Path| {
        vec![
            ("-vkey", vkey.clone()),
            ("-checkpoint", cp.to_owned()),
            ("-leaf", leaf.to_owned()),
            ("-proof", proof.to_owned()),
        ]
    };
    let run_reject = |what: &str, args: Vec<(&'static str, PathBuf)>, check: &str| {
        let borrowed: Vec<(&str, &Path)> = args.iter().map(|(f, p)| (*f, p.as_path())).collect();
        peer.reject(what, &borrowed, check);
    };

    // Each proof hash altered in turn.
    let hashes = proof_json["hashes"].as_array().unwrap().len();
    // Leaf 257 of 300: its sibling, then subtrees [258,260), [260,264),
    // [264,272), [272,288), [288,300) and the full first tile [0,256).
    assert_eq!(hashes, 7, "audit path of leaf {i} in a tree of {latest}");
    for h in 0..hashes {
        let bad = peer.write("bad-proof.json", &json_bytes(&set_hash(&proof_json, h)));
        run_reject(
            &format!("inclusion proof with hash {h} altered"),
            inclusion(&leaf, &bad, &checkpoint),
            "inclusion proof",
        );
    }
    // A proof hash dropped, and one too many.
    let mut short = proof_json.clone();
    short["hashes"].as_array_mut().unwrap().pop();
    let bad = peer.write("bad-proof.json", &json_bytes(&short));
    run_reject(
        "inclusion proof with a hash missing",
        inclusion(&leaf, &bad, &checkpoint),
        "inclusion proof",
    );
    let mut long = proof_json.clone();
    let extra = long["hashes"][0].clone();
    long["hashes"].as_array_mut().unwrap().push(extra);
    let bad = peer.write("bad-proof.json", &json_bytes(&long));
    run_reject(
        "inclusion proof with an extra hash",
        inclusion(&leaf, &bad, &checkpoint),
        "inclusion proof",
    );
    // The right proof claimed for the neighbouring index.
    let mut moved = proof_json.clone();
    moved["leaf_index"] = (i + 1).into();
    let bad = peer.write("bad-proof.json", &json_bytes(&moved));
    run_reject(
        "inclusion proof with the wrong leaf index",
        inclusion(&leaf, &bad, &checkpoint),
        "inclusion proof",
    );

    // The leaf altered by one byte.
    let mut altered = leaf_bytes.clone();
    let mid = altered.len() / 2;
    altered[mid] ^= 0x01;
    let bad_leaf = peer.write("bad-leaf", &altered);
    run_reject(
        "leaf with one byte altered",
        inclusion(&bad_leaf, &proof, &checkpoint),
        "leaf hash",
    );
    // Another genuine leaf, with its own (correct) leaf hash, passed off with
    // this leaf's audit path: the hash check passes, the Merkle check must not.
    let other_proof: Value =
        serde_json::from_slice(&std::fs::read(peer.work.join("proof256.json")).unwrap()).unwrap();
    let mut swapped = proof_json.clone();
    swapped["leaf_hash"] = other_proof["leaf_hash"].clone();
    let bad = peer.write("bad-proof.json", &json_bytes(&swapped));
    run_reject(
        "another leaf with this leaf's audit path",
        inclusion(&peer.work.join("leaf256"), &bad, &checkpoint),
        "inclusion proof",
    );

    // The checkpoint with one byte altered: in the root hash, the tree size,
    // the origin, and the signature.
    let root_line = checkpoint_bytes
        .split(|&b| b == b'\n')
        .nth(2)
        .unwrap()
        .to_vec();
    let sig_prefix = "\u{2014} ".as_bytes();
    let mut bigger = checkpoint_bytes.clone();
    let size_at = ORIGIN.len() + 1 + latest.to_string().len() - 1;
    bigger[size_at] += 1; // "300" -> "301"
    let mut renamed = checkpoint_bytes.clone();
    renamed[0] ^= 0x20; // "example.org/..." -> "Example.org/..."
    for (what, bytes) in [
        ("root hash", alter_line(&checkpoint_bytes, &root_line, 5)),
        ("tree size", bigger),
        ("origin", renamed),
        (
            "signature",
            alter_line(
                &checkpoint_bytes,
                sig_prefix,
                sig_prefix.len() + ORIGIN.len() + 20,
            ),
        ),
    ] {
        assert_ne!(bytes, checkpoint_bytes);
        let bad_cp = peer.write("bad-checkpoint", &bytes);
        run_reject(
            &format!("checkpoint with one byte of its {what} altered"),
            inclusion(&leaf, &proof, &bad_cp),
            "checkpoint signature",
        );
    }

    // A checkpoint signed by another vault's key, with the same origin.
    let other_vault = tmp.path().join("other-vault");
    let out = peer.guwah_output(&other_vault, &["init", "--origin", ORIGIN]);
    assert!(
        out.status.success(),
        "{}",
        describe("init other vault", &out)
    );
    let other_key = peer.guwah_output(&other_vault, &["log", "key"]);
    assert!(other_key.status.success());
    assert_ne!(other_key.stdout, std::fs::read(&vkey).unwrap());
    let other_vkey = peer.write("other-vkey", &other_key.stdout);
    let mut args = inclusion(&leaf, &proof, &checkpoint);
    args[0].1 = other_vkey;
    run_reject(
        "checkpoint under another vault's key",
        args,
        "checkpoint signature",
    );

    // Consistency: each proof hash altered, and a mismatched old checkpoint.
    let (old9, cons9) = &old_checkpoints[&9];
    let consistency = |old: &Path, cons: &Path| {
        vec![
            ("-vkey", vkey.clone()),
            ("-checkpoint", checkpoint.clone()),
            ("-old-checkpoint", old.to_owned()),
            ("-consistency", cons.to_owned()),
        ]
    };
    for (size, (old, cons_json)) in &old_checkpoints {
        let hashes = cons_json["hashes"].as_array().unwrap().len();
        assert!(hashes > 0);
        for h in 0..hashes {
            let bad = peer.write("bad-consistency.json", &json_bytes(&set_hash(cons_json, h)));
            run_reject(
                &format!("consistency {size} -> {latest} with hash {h} altered"),
                consistency(old, &bad),
                "consistency proof",
            );
        }
    }
    // The proof from 9 presented with the checkpoint of size 4 (sizes relabelled to match).
    let (old4, _) = &old_checkpoints[&4];
    let mut relabelled = cons9.clone();
    relabelled["old_size"] = 4.into();
    let bad = peer.write("bad-consistency.json", &json_bytes(&relabelled));
    run_reject(
        "consistency proof from 9 claimed from 4",
        consistency(old4, &bad),
        "consistency proof",
    );
    // An old checkpoint with one byte of its root altered.
    let old_bytes = std::fs::read(old9).unwrap();
    let old_root = old_bytes.split(|&b| b == b'\n').nth(2).unwrap().to_vec();
    let bad_old = peer.write("bad-old-checkpoint", &alter_line(&old_bytes, &old_root, 7));
    let cons9_path = peer.work.join("consistency9.json");
    run_reject(
        "old checkpoint with one byte altered",
        consistency(&bad_old, &cons9_path),
        "old checkpoint signature",
    );
}
