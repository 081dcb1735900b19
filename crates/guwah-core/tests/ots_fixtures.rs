//! OpenTimestamps proofs from the reference client's examples
//! (`shared/fixtures/opentimestamps`, from opentimestamps-client): every valid
//! proof parses with the expected attestations, every proof in `invalid/` is
//! rejected with a clear message, and where the original file is beside its
//! proof, its digest is the proof's file digest.

use std::path::{Path, PathBuf};

use guwah_core::ots::{Attestation, DetachedTimestamp, HashOp, OtsError};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/opentimestamps")
}

fn read(name: &str) -> Vec<u8> {
    let p = dir().join(name);
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn parse(name: &str) -> DetachedTimestamp {
    DetachedTimestamp::parse(&read(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// One attestation as `kind:detail`, e.g. `bitcoin:358391`.
fn describe(a: &Attestation) -> String {
    match a {
        Attestation::Bitcoin { height } => format!("bitcoin:{height}"),
        Attestation::Litecoin { height } => format!("litecoin:{height}"),
        Attestation::Ethereum { height } => format!("ethereum:{height}"),
        Attestation::Pending { uri } => format!("pending:{uri}"),
        Attestation::Unknown { tag, payload } => format!(
            "unknown:{}:{}",
            guwah_core::ots::hex(tag),
            guwah_core::ots::hex(payload)
        ),
    }
}

const ALICE: &str = "pending:https://alice.btc.calendar.opentimestamps.org";
const BOB: &str = "pending:https://bob.btc.calendar.opentimestamps.org";
const UNKNOWN: &str = "unknown:0102030405060708:78787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878";

/// Every valid proof: its file hash and attestations, depth first in file order.
const VALID: &[(&str, HashOp, &[&str])] = &[
    ("hello-world.txt.ots", HashOp::Sha256, &["bitcoin:358391"]),
    ("bad-stamp.txt.ots", HashOp::Sha256, &["bitcoin:358391"]),
    ("bitcoin.pdf.ots", HashOp::Sha1, &["bitcoin:465751"]),
    ("empty.ots", HashOp::Sha256, &["bitcoin:129405"]),
    ("gdp2q25-2nd.pdf.ots", HashOp::Sha256, &["bitcoin:912095"]),
    (
        "different-blockchains.txt.ots",
        HashOp::Sha256,
        &[
            "pending:https://eth.ots.eternitywall.com",
            "ethereum:3283713",
            "pending:https://ots.eternitywall.it",
            "bitcoin:455605",
        ],
    ),
    ("incomplete.txt.ots", HashOp::Sha256, &[ALICE]),
    ("unknown-notary.txt.ots", HashOp::Sha256, &[UNKNOWN]),
    (
        "known-and-unknown-notary.txt.ots",
        HashOp::Sha256,
        &[BOB, UNKNOWN],
    ),
    ("two-calendars.txt.ots", HashOp::Sha256, &[ALICE, BOB]),
    ("merkle1.txt.ots", HashOp::Sha256, &[ALICE, BOB]),
    ("merkle2.txt.ots", HashOp::Sha256, &[ALICE, BOB]),
    ("merkle3.txt.ots", HashOp::Sha256, &[ALICE, BOB]),
    (
        "sha1/a-or-b.ots",
        HashOp::Sha1,
        &[
            "pending:https://finney.calendar.eternitywall.com",
            // Wed May 17 2017, as the folder's README says.
            "bitcoin:466906",
            BOB,
            ALICE,
        ],
    ),
];

#[test]
fn every_valid_proof_parses_with_its_attestations() {
    for (name, hash, want) in VALID {
        let t = parse(name);
        assert_eq!(t.file_hash, *hash, "{name}");
        let got: Vec<String> = t
            .attestations()
            .iter()
            .map(|a| describe(&a.attestation))
            .collect();
        assert_eq!(got, *want, "{name}");
    }
    // Every .ots in the folder is listed above.
    let mut listed = 0;
    for e in std::fs::read_dir(dir()).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "ots") {
            let name = p.file_name().unwrap().to_str().unwrap();
            assert!(
                VALID.iter().any(|(n, _, _)| *n == name),
                "{name} is not in VALID"
            );
            listed += 1;
        }
    }
    assert_eq!(listed + 1, VALID.len());
}

#[test]
fn hello_world_commits_to_block_358391s_merkle_root() {
    let t = parse("hello-world.txt.ots");
    let a = t.attestations();
    assert_eq!(a.len(), 1);
    // The merkle root in header byte order, and as Bitcoin tools display it.
    let root = "007ee445d23ad061af4a36b809501fab1ac4f2d7e7a739817dd0cbb7ec661b8a";
    assert_eq!(a[0].commitment.hex(), root);
    let rev: String = root
        .as_bytes()
        .chunks(2)
        .rev()
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    assert_eq!(a[0].commitment.reversed_hex(), rev);
    // The path replays from the file digest to the commitment.
    let mut msg = t.file_digest().to_vec();
    for op in &a[0].path {
        msg = match op {
            guwah_core::ots::Op::Append(x) => [&msg[..], x].concat(),
            guwah_core::ots::Op::Prepend(x) => [&x[..], &msg[..]].concat(),
            guwah_core::ots::Op::Hash(h) => h.digest(&msg),
            other => panic!("unexpected {other}"),
        };
    }
    assert_eq!(msg, a[0].commitment.0);
    // Two different proofs of the same height commit to different roots: one of them is bad.
    let bad = parse("bad-stamp.txt.ots").attestations();
    assert_ne!(bad[0].commitment, a[0].commitment);
}

#[test]
fn originals_hash_to_the_file_digest() {
    let pairs = [
        ("hello-world.txt", "hello-world.txt.ots"),
        ("bad-stamp.txt", "bad-stamp.txt.ots"),
        ("empty", "empty.ots"),
        ("different-blockchains.txt", "different-blockchains.txt.ots"),
        ("incomplete.txt", "incomplete.txt.ots"),
        ("unknown-notary.txt", "unknown-notary.txt.ots"),
        (
            "known-and-unknown-notary.txt",
            "known-and-unknown-notary.txt.ots",
        ),
        ("two-calendars.txt", "two-calendars.txt.ots"),
        ("merkle1.txt", "merkle1.txt.ots"),
        ("merkle2.txt", "merkle2.txt.ots"),
        ("merkle3.txt", "merkle3.txt.ots"),
        // A SHA-1 collision: both files match the same proof.
        ("sha1/a", "sha1/a-or-b.ots"),
        ("sha1/b", "sha1/a-or-b.ots"),
    ];
    for (original, proof) in pairs {
        let t = parse(proof);
        assert_eq!(
            t.file_hash.digest(&read(original)),
            t.file_digest(),
            "{original}"
        );
    }
    assert_ne!(read("sha1/a"), read("sha1/b"));
    // And a file that is not the original does not.
    let t = parse("hello-world.txt.ots");
    assert_ne!(t.file_hash.digest(b"hello world"), t.file_digest());
}

/// Whether an error is the expected one.
type Check = fn(&OtsError) -> bool;

#[test]
fn every_invalid_proof_is_rejected_clearly() {
    let cases: [(&str, Check, &str); 3] = [
        (
            "invalid/bad-major-version.ots",
            |e| matches!(e, OtsError::UnsupportedVersion { version: 255 }),
            "major version 255",
        ),
        (
            "invalid/invalid-file-digest-type.ots",
            |e| matches!(e, OtsError::BadFileHashOp { tag: 0xf3 }),
            "file digest type 0xf3",
        ),
        (
            "invalid/exceeds-max-msg-length.ots",
            |e| {
                matches!(
                    e,
                    OtsError::InvalidForMessage {
                        op: "append",
                        len: 4096,
                        ..
                    }
                )
            },
            "longer than 4096",
        ),
    ];
    for (name, is, text) in cases {
        let err = DetachedTimestamp::parse(&read(name)).expect_err(name);
        assert!(is(&err), "{name}: {err:?}");
        assert!(err.to_string().contains(text), "{name}: {err}");
    }
    let mut n = 0;
    for e in std::fs::read_dir(dir().join("invalid")).unwrap() {
        let p = e.unwrap().path();
        if p.extension().is_some_and(|x| x == "ots") {
            assert!(
                DetachedTimestamp::parse(&std::fs::read(&p).unwrap()).is_err(),
                "{}",
                p.display()
            );
            n += 1;
        }
    }
    assert_eq!(n, cases.len());
}

#[test]
fn every_truncation_and_bit_flip_is_handled() {
    // No panic, and truncations are always errors.
    for (name, _, _) in VALID {
        let bytes = read(name);
        for n in 0..bytes.len() {
            assert!(
                DetachedTimestamp::parse(&bytes[..n]).is_err(),
                "{name} cut at {n}"
            );
        }
        for i in (0..bytes.len()).step_by(7) {
            let mut b = bytes.clone();
            b[i] ^= 0x41;
            let _ = DetachedTimestamp::parse(&b);
        }
    }
}
