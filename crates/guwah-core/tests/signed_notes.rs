//! Signed notes, cosignatures and checkpoints against vectors none of us wrote:
//! Go's sumdb/note tests, the C2SP spec examples, a Tessera log and a
//! Sunlight witness (see each vector file's or fixture's SOURCE).

use std::path::PathBuf;

use guwah_core::checkpoint::{Checkpoint, CheckpointError, open_checkpoint, sign_checkpoint};
use guwah_core::note::{
    self, AnyVerifier, CosignatureSigner, CosignatureVerifier, MAX_COSIGNATURE_TIMESTAMP,
    MAX_NOTE_SIZE, MAX_SIGNATURES, Note, NoteError, NoteSigner, NoteVerifier, Signer, Verifier,
    cosignature_message, key_id, open, sign,
};
use serde_json::Value;

// ---------------------------------------------------------------- helpers

fn fixtures() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures")
}

fn vectors() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn read_json(path: PathBuf) -> Value {
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn s(v: &Value) -> &str {
    v.as_str().expect("string")
}

fn hex_decode(h: &str) -> Vec<u8> {
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).expect("hex"))
        .collect()
}

fn b64(data: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(data)
        .expect("base64")
}

fn b64e(data: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(data)
}

const TEXT: &str = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_VKEY: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_SKEY: &str =
    "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const ENOCH_VKEY: &str = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const PETER_SIG: &str = "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

fn peter() -> Verifier {
    Verifier::from_vkey(PETER_VKEY).expect("peter vkey")
}

fn peter_signed() -> String {
    format!("{TEXT}\n{PETER_SIG}")
}

// ------------------------------------------- 1. shared go-sumdb-note fixture

#[test]
fn fixture_go_sumdb_note() {
    let fx = read_json(fixtures().join("signed-note/go-sumdb-note.json"));
    let keys = &fx["keys"];
    let peter = Verifier::from_vkey(s(&keys["PeterNeumann"]["vkey"])).unwrap();
    let enoch = Verifier::from_vkey(s(&keys["EnochRoot"]["vkey"])).unwrap();
    assert_eq!(peter.to_vkey(), s(&keys["PeterNeumann"]["vkey"]));
    assert_eq!(enoch.to_string(), s(&keys["EnochRoot"]["vkey"]));
    assert_eq!(peter.key_id(), 0xc74f20a3);
    assert_eq!(enoch.key_id(), 0xaf0cfe78);

    // Signing is byte-identical to Go.
    let signer = Signer::from_skey(s(&keys["PeterNeumann"]["skey"])).unwrap();
    assert_eq!(signer.verifier(), peter);
    assert_eq!(signer.to_skey().expose(), s(&keys["PeterNeumann"]["skey"]));
    let text = s(&fx["text"]);
    assert_eq!(sign(text, &[&signer]).unwrap(), s(&fx["signed_by_peter"]));

    // Both keys: both verified.
    let both = s(&fx["signed_by_peter_and_enoch"]);
    let o = open(both, &[&peter, &enoch]).unwrap();
    assert_eq!(o.text, text);
    let names: Vec<_> = o.verified.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["PeterNeumann", "EnochRoot"]);
    assert!(o.unverified.is_empty());
    assert_eq!(o.verified[0].timestamp, None);

    // Only Peter's key: Enoch's signature is unverified, not an error.
    let o = open(both, &[&peter]).unwrap();
    assert_eq!(o.verified.len(), 1);
    assert_eq!(o.unverified.len(), 1);
    assert_eq!(o.unverified[0].name, "EnochRoot");
    assert_eq!(o.unverified[0].key_id, 0xaf0cfe78);
    assert_eq!(
        o.unverified[0].to_line(),
        both.lines().last().unwrap().to_owned() + "\n"
    );

    // Bad vkeys.
    for bad in fx["bad_vkeys"].as_array().unwrap() {
        let err = Verifier::from_vkey(s(&bad["vkey"])).unwrap_err();
        assert!(
            matches!(
                err,
                NoteError::MalformedKey { .. } | NoteError::WrongKeyType { .. }
            ),
            "{}: {err}",
            s(&bad["why"])
        );
    }
    assert!(
        Verifier::from_vkey(s(&fx["bad_vkeys"][1]["vkey"]))
            .unwrap_err()
            .to_string()
            .contains("signature type 0x65")
    );

    // "Bad Name" line is malformed, and the message says why.
    let bad = format!(
        "{text}\n— Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    );
    let err = open(&bad, &[&peter]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "signature line 4: key name \"Bad Name\" contains a space (' ')"
    );
    assert!(matches!(err, NoteError::KeyNameSpace { ch: ' ', .. }));
}

// ------------------------------------------- 3a. Go note_test.go vectors

fn go_vectors() -> Value {
    read_json(vectors().join("go-sumdb-note.json"))
}

/// Every proper substring, and every one-byte increment, of a key.
fn manglings(key: &str) -> Vec<Vec<u8>> {
    let b = key.as_bytes();
    let mut out = Vec::new();
    for i in 0..=b.len() {
        for j in i + 1..=b.len() {
            if i != 0 || j != b.len() {
                out.push(b[i..j].to_vec());
            }
        }
    }
    for i in 0..b.len() {
        let mut m = b.to_vec();
        m[i] = m[i].wrapping_add(1);
        out.push(m);
    }
    out
}

#[test]
fn go_new_verifier() {
    let v = go_vectors();
    let nv = &v["new_verifier"];
    for k in nv["valid"].as_array().unwrap() {
        let parsed = Verifier::from_vkey(s(k)).unwrap();
        assert_eq!(parsed.to_vkey(), s(k));
        let any = AnyVerifier::from_vkey(s(k)).unwrap();
        assert!(matches!(any, AnyVerifier::Ed25519(_)));
        // Building from the raw key gives the same key ID (spec formula).
        let rebuilt = Verifier::new(parsed.name(), &parsed.public_key()).unwrap();
        assert_eq!(rebuilt, parsed);
        for m in manglings(s(k)) {
            let m = String::from_utf8_lossy(&m);
            assert!(
                Verifier::from_vkey(&m).is_err(),
                "accepted mangled vkey {m:?}"
            );
            assert!(
                AnyVerifier::from_vkey(&m).is_err(),
                "accepted mangled vkey {m:?}"
            );
        }
    }
    for bad in nv["invalid"].as_array().unwrap() {
        assert!(
            Verifier::from_vkey(s(&bad["vkey"])).is_err(),
            "{}",
            s(&bad["why"])
        );
        assert!(AnyVerifier::from_vkey(s(&bad["vkey"])).is_err());
    }
}

#[test]
fn go_new_signer() {
    let v = go_vectors();
    for k in v["new_signer"]["valid"].as_array().unwrap() {
        let signer = Signer::from_skey(s(k)).unwrap();
        assert_eq!(signer.to_skey().expose(), s(k));
        for m in manglings(s(k)) {
            let m = String::from_utf8_lossy(&m);
            assert!(
                Signer::from_skey(&m).is_err(),
                "accepted mangled skey {m:?}"
            );
        }
    }
}

/// A signer that reports a name it should not have (Go's badSigner).
struct BadNameSigner<'a>(&'a Signer, &'a str);

impl NoteSigner for BadNameSigner<'_> {
    fn name(&self) -> &str {
        self.1
    }
    fn key_id(&self) -> u32 {
        NoteSigner::key_id(self.0)
    }
    fn sign(&self, text: &[u8]) -> Result<Vec<u8>, NoteError> {
        NoteSigner::sign(self.0, text)
    }
}

/// A signer that fails (Go's errSigner).
struct FailingSigner;

impl NoteSigner for FailingSigner {
    fn name(&self) -> &str {
        "Failing"
    }
    fn key_id(&self) -> u32 {
        1
    }
    fn sign(&self, _: &[u8]) -> Result<Vec<u8>, NoteError> {
        Err(NoteError::SignerFailed {
            name: "Failing".into(),
            key_id: 1,
            problem: "surprise!".into(),
        })
    }
}

#[test]
fn go_sign() {
    let v = go_vectors();
    let sv = &v["sign"];
    let signer = Signer::from_skey(s(&sv["skey"])).unwrap();
    assert_eq!(sign(s(&sv["text"]), &[&signer]).unwrap(), s(&sv["want"]));
    for bad in sv["bad_texts"].as_array().unwrap() {
        let err = sign(s(&bad["text"]), &[&signer]).unwrap_err();
        assert_eq!(err, NoteError::TextNoFinalNewline, "{}", s(&bad["why"]));
    }
    let bad_name = s(&sv["bad_signer_name"]["name"]);
    let err = sign(s(&sv["text"]), &[&BadNameSigner(&signer, bad_name)]).unwrap_err();
    assert!(matches!(err, NoteError::KeyNameSpace { .. }), "{err}");
    let err = sign(s(&sv["text"]), &[&FailingSigner]).unwrap_err();
    assert!(err.to_string().contains("surprise!"));
}

#[test]
fn go_open() {
    let v = go_vectors();
    let peter = Verifier::from_vkey(s(&v["verifier_keys"]["peter"])).unwrap();
    let enoch = Verifier::from_vkey(s(&v["verifier_keys"]["enoch"])).unwrap();
    let sig_eq = |got: &note::Signature, want: &Value| {
        assert_eq!(got.name, s(&want["name"]));
        assert_eq!(format!("{:08x}", got.key_id), s(&want["key_id"]));
        let mut raw = got.key_id.to_be_bytes().to_vec();
        raw.extend_from_slice(&got.signature);
        assert_eq!(b64e(&raw), s(&want["base64"]));
    };
    let cases = v["open"].as_array().unwrap();
    assert!(cases.len() >= 17);
    for case in cases {
        let name = s(&case["case"]);
        let msg: Vec<u8> = match case.get("msg_hex") {
            Some(h) => hex_decode(s(h)),
            None => s(&case["msg"]).as_bytes().to_vec(),
        };
        let verifiers: Vec<&dyn NoteVerifier> = case["verifiers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| match s(n) {
                "peter" => &peter as &dyn NoteVerifier,
                "enoch" => &enoch,
                other => panic!("unknown verifier {other}"),
            })
            .collect();
        let got = open(&msg, &verifiers);
        if case["ok"].as_bool().unwrap() {
            let o = got.unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(o.text, s(&case["text"]), "{name}");
            let want_v = case["verified"].as_array().unwrap();
            let want_u = case["unverified"].as_array().unwrap();
            assert_eq!(o.verified.len(), want_v.len(), "{name}");
            assert_eq!(o.unverified.len(), want_u.len(), "{name}");
            o.verified
                .iter()
                .zip(want_v)
                .for_each(|(g, w)| sig_eq(g, w));
            o.unverified
                .iter()
                .zip(want_u)
                .for_each(|(g, w)| sig_eq(g, w));
        } else {
            let err = got.expect_err(name);
            let kind_ok = match s(&case["error_kind"]) {
                "no_verified_signature" => matches!(err, NoteError::NoVerifiedSignature { .. }),
                "ambiguous_key" => {
                    err.to_string().starts_with(s(&case["go_error"]))
                        && matches!(err, NoteError::AmbiguousKey { count: 2, .. })
                }
                "invalid_signature" => err.to_string() == s(&case["go_error"]),
                "too_many_signatures" => err == NoteError::TooManySignatures,
                "malformed" => !matches!(
                    err,
                    NoteError::NoVerifiedSignature { .. }
                        | NoteError::InvalidSignature { .. }
                        | NoteError::AmbiguousKey { .. }
                ),
                other => panic!("unknown error kind {other}"),
            };
            assert!(kind_ok, "{name}: got {err}");
            // Parsing alone agrees on malformed notes.
            if s(&case["error_kind"]) == "malformed"
                || s(&case["error_kind"]) == "too_many_signatures"
            {
                assert!(Note::parse(&msg).is_err(), "{name}");
            }
        }
    }
}

// ------------------------------------------- 3b. C2SP spec examples

fn c2sp() -> Value {
    read_json(vectors().join("c2sp-examples.json"))
}

#[test]
fn c2sp_signed_note_example() {
    let v = c2sp();
    let ex = &v["signed_note_example"];
    let n = Note::parse(s(&ex["msg"])).unwrap();
    assert_eq!(n.text, s(&ex["text"]));
    assert_eq!(n.signatures.len(), 1);
    let want = &ex["signatures"][0];
    assert_eq!(n.signatures[0].name, s(&want["name"]));
    assert_eq!(
        format!("{:08x}", n.signatures[0].key_id),
        s(&want["key_id"])
    );
    assert_eq!(
        n.signatures[0].signature.len() as u64,
        want["signature_len"].as_u64().unwrap()
    );
    // No key is published, so the note cannot be opened.
    assert!(matches!(
        open(s(&ex["msg"]), &[&peter()]),
        Err(NoteError::NoVerifiedSignature { unverified: 1 })
    ));
    // Key ID formula of the spec, on Go's key.
    let p = peter();
    assert_eq!(key_id("PeterNeumann", 0x01, &p.public_key()), 0xc74f20a3);
}

#[test]
fn c2sp_checkpoint_example() {
    let v = c2sp();
    let ex = &v["checkpoint_example"];
    let n = Note::parse(s(&ex["msg"])).unwrap();
    let c = Checkpoint::parse(&n.text).unwrap();
    assert_eq!(c.origin, s(&ex["origin"]));
    assert_eq!(c.size, ex["size"].as_u64().unwrap());
    assert_eq!(c.root.to_vec(), b64(s(&ex["root_base64"])));
    assert!(c.extensions.is_empty());
    assert_eq!(c.to_body(), n.text);
    assert_eq!(n.signatures[0].name, s(&ex["signatures"][0]["name"]));
    assert_eq!(
        format!("{:08x}", n.signatures[0].key_id),
        s(&ex["signatures"][0]["key_id"])
    );
}

#[test]
fn c2sp_cosignature_example() {
    let v = c2sp();
    let ex = &v["cosignature_example"];
    let n = Note::parse(s(&ex["msg"])).unwrap();
    assert_eq!(n.signatures.len(), 2);
    let cosig = &n.signatures[1];
    assert_eq!(cosig.name, s(&ex["cosigner"]));
    assert_eq!(format!("{:08x}", cosig.key_id), s(&ex["cosigner_key_id"]));
    assert_eq!(cosig.signature.len(), 8 + 64);
    let ts = u64::from_be_bytes(cosig.signature[..8].try_into().unwrap());
    assert_eq!(ts, ex["timestamp"].as_u64().unwrap());
    assert_eq!(
        cosignature_message(ts, n.text.as_bytes()),
        s(&ex["signed_message"]).as_bytes()
    );
}

// ------------------------------------------- 2. Tessera log checkpoints

#[test]
fn tessera_checkpoints() {
    let dir = fixtures().join("tessera-log");
    let source = std::fs::read_to_string(dir.join("SOURCE")).unwrap();
    let field = |prefix: &str| {
        source
            .lines()
            .find_map(|l| l.strip_prefix(prefix))
            .map(str::trim)
            .unwrap_or_else(|| panic!("SOURCE has no {prefix:?}"))
            .to_owned()
    };
    let vkey = field("public key:");
    let skey = field("private key:");
    let verifier = Verifier::from_vkey(&vkey).unwrap();
    let signer = Signer::from_skey(&skey).unwrap();
    assert_eq!(signer.verifier(), verifier);
    let origin = verifier.name().to_owned();
    assert_eq!(origin, "example.com/log/testdata");

    let mut files: Vec<(String, u64)> = (0..=15).map(|n| (format!("checkpoint.{n}"), n)).collect();
    files.push(("checkpoint".into(), 15));
    for (file, size) in files {
        let text = std::fs::read_to_string(dir.join(&file)).unwrap();
        let (c, opened) =
            open_checkpoint(&text, &[&verifier], &origin).unwrap_or_else(|e| panic!("{file}: {e}"));
        assert_eq!(c.origin, origin, "{file}");
        assert_eq!(c.size, size, "{file}");
        assert_eq!(opened.verified.len(), 1);
        assert!(opened.unverified.is_empty());
        assert_eq!(Checkpoint::parse(&opened.text).unwrap(), c);
        assert_eq!(c.to_body(), opened.text, "{file}");
        // Ed25519 is deterministic: re-signing gives the very same note.
        assert_eq!(sign_checkpoint(&c, &signer).unwrap(), text, "{file}");
        assert_eq!(sign(&opened.text, &[&signer]).unwrap(), text, "{file}");
    }
    // The empty tree's root is SHA-256 of nothing.
    let c0 = std::fs::read_to_string(dir.join("checkpoint.0")).unwrap();
    let (c, _) = open_checkpoint(&c0, &[&verifier], &origin).unwrap();
    assert_eq!(
        b64e(&c.root),
        "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
    );

    // Wrong origin, wrong key, tampered size.
    let last = std::fs::read_to_string(dir.join("checkpoint")).unwrap();
    assert!(matches!(
        open_checkpoint(&last, &[&verifier], "example.com/other"),
        Err(CheckpointError::WrongOrigin { .. })
    ));
    assert!(matches!(
        open_checkpoint(&last, &[&peter()], &origin),
        Err(CheckpointError::Note(NoteError::NoVerifiedSignature {
            unverified: 1
        }))
    ));
    let tampered = last.replacen("\n15\n", "\n16\n", 1);
    let err = open_checkpoint(&tampered, &[&verifier], &origin).unwrap_err();
    assert_eq!(
        err.to_string(),
        "checkpoint note: invalid signature for key example.com/log/testdata+33d7b496"
    );
}

// ------------------------------------------- 3c. Sunlight witness cosignatures

#[test]
fn sunlight_witness_cosignatures() {
    let base = fixtures().join("cosignature");
    let cases = [
        (
            "witness/witness.v0.json",
            "witness/000de184301123b9278c086a7d9f68c9577e83872224c197058fd90784ea9706/checkpoint",
            "rome2026h1.example.org",
            1usize,
        ),
        (
            "witness/mirror/mirror.v0.json",
            "witness/mirror/000de184301123b9278c086a7d9f68c9577e83872224c197058fd90784ea9706/checkpoint",
            "rome2026h1.example.org",
            0,
        ),
        (
            "witness2/witness.v0.json",
            "witness2/88ad7a28caeb0b2aa890fdf0304c2fcaf59fca2ee140134ff8c1300bac493482/checkpoint",
            "milan2026h1.example.org",
            0,
        ),
    ];
    for (meta, cp, origin, log_sigs) in cases {
        let meta = read_json(base.join(meta));
        let vkey = s(&meta["verifier_keys"][0]);
        let any = AnyVerifier::from_vkey(vkey).unwrap();
        assert_eq!(any.to_vkey(), vkey);
        let AnyVerifier::Cosignature(cv) = any.clone() else {
            panic!("{vkey} is not a cosignature key");
        };
        assert_eq!(cv.name(), s(&meta["name"]));
        assert_eq!(CosignatureVerifier::from_vkey(vkey).unwrap(), cv);
        // An Ed25519 note verifier refuses a 0x04 key.
        assert!(matches!(
            Verifier::from_vkey(vkey),
            Err(NoteError::WrongKeyType { found: 0x04, .. })
        ));

        let text = std::fs::read_to_string(base.join(cp)).unwrap();
        // The origin: a sha256-named directory holds each log's state.
        let o = open(&text, &[&any]).unwrap_or_else(|e| panic!("{cp}: {e}"));
        let c = Checkpoint::parse(&o.text).unwrap();
        assert_eq!(c.origin, origin);
        assert_eq!(c.size, 300);
        assert_eq!(o.verified.len(), 1);
        assert_eq!(o.verified[0].name, cv.name());
        assert_eq!(o.verified[0].timestamp, Some(1_767_139_200));
        // The log's own RFC 6962 (type 0x05) signature is not checked here.
        assert_eq!(o.unverified.len(), log_sigs);
        // Same through the concrete type.
        let o2 = open(&text, &[&cv]).unwrap();
        assert_eq!(o2.verified, o.verified);
        // Without the log's key, the checkpoint is not the log's.
        assert!(matches!(
            open_checkpoint(&text, &[&cv], origin),
            Err(CheckpointError::NoLogSignature { .. })
        ));
        // Tampering with the body breaks the cosignature.
        let tampered = text.replacen("\n300\n", "\n301\n", 1);
        assert!(matches!(
            open(&tampered, &[&cv]),
            Err(NoteError::InvalidSignature { .. })
        ));
    }
}

// ------------------------------------------- round trips

#[test]
fn log_and_witness_round_trip() {
    let log = Signer::generate("example.com/guwah-test", [7; 32]).unwrap();
    let witness = CosignatureSigner::generate("witness.example/w1", [9; 32]).unwrap();
    let other_witness = CosignatureSigner::generate("witness.example/w2", [10; 32]).unwrap();
    let cp = Checkpoint {
        origin: "example.com/guwah-test".into(),
        size: 42,
        root: [0xab; 32],
        extensions: vec!["ext one".into()],
    };
    let body = cp.to_body();
    assert_eq!(Checkpoint::parse(&body).unwrap(), cp);
    let signed = sign_checkpoint(&cp, &log).unwrap();
    let ts = 1_700_000_000;
    let line = witness.signature_line(&body, ts).unwrap();
    let line2 = other_witness.signature_line(&body, ts + 1).unwrap();
    let cosigned = format!("{signed}{line}{line2}");
    // Same output through sign() with a timestamped cosigner.
    assert_eq!(
        sign(&body, &[&log, &witness.at(ts), &other_witness.at(ts + 1)]).unwrap(),
        cosigned
    );

    let lv = log.verifier();
    let wv = witness.verifier();
    let (c, o) = open_checkpoint(&cosigned, &[&lv, &wv], &cp.origin).unwrap();
    assert_eq!(c, cp);
    assert_eq!(o.verified.len(), 2);
    assert_eq!(o.verified[0].timestamp, None);
    assert_eq!(o.verified[1].timestamp, Some(ts));
    assert_eq!(o.unverified.len(), 1);
    assert_eq!(o.unverified[0].name, "witness.example/w2");

    // vkeys round-trip through text.
    let wv2 = CosignatureVerifier::from_vkey(&wv.to_vkey()).unwrap();
    assert_eq!(wv2, wv);
    assert_eq!(wv.to_string().parse::<CosignatureVerifier>().unwrap(), wv);
    assert_eq!(lv.to_string().parse::<Verifier>().unwrap(), lv);
    assert_eq!(
        CosignatureVerifier::new(wv.name(), &wv.public_key()).unwrap(),
        wv
    );
    assert_eq!(
        key_id(wv.name(), 0x04, &wv.public_key()),
        wv.key_id(),
        "cosignature key ID uses type byte 0x04"
    );
    // The same Ed25519 key under type 0x01 has another key ID.
    assert_ne!(key_id(wv.name(), 0x01, &wv.public_key()), wv.key_id());

    // skey round trip.
    let skey = log.to_skey();
    let back = Signer::from_skey(skey.expose()).unwrap();
    assert_eq!(back.verifier(), lv);
    assert!(!format!("{log:?}{witness:?}{skey:?}").contains(skey.expose()));

    // A cosignature whose signature bytes are not 72 long fails as invalid.
    let short = format!(
        "{signed}— witness.example/w1 {}\n",
        b64e(&[&wv.key_id().to_be_bytes()[..], &[0u8; 40]].concat())
    );
    assert!(matches!(
        open(&short, &[&lv, &wv]),
        Err(NoteError::InvalidSignature { .. })
    ));
    // Timestamps above 2^63 - 1 are refused when signing and verifying.
    assert!(matches!(
        witness.signature_line(&body, MAX_COSIGNATURE_TIMESTAMP + 1),
        Err(NoteError::TimestampTooLarge { .. })
    ));
    assert!(
        witness
            .signature_line(&body, MAX_COSIGNATURE_TIMESTAMP)
            .is_ok()
    );
    let mut big = witness.cosign(body.as_bytes(), 5).unwrap().to_vec();
    big[..8].copy_from_slice(&(1u64 << 63).to_be_bytes());
    assert!(!wv.verify(body.as_bytes(), &big));
    assert_eq!(wv.timestamp(&big), None);
    // A cosignature with a changed timestamp does not verify.
    let mut moved = witness.cosign(body.as_bytes(), 5).unwrap().to_vec();
    moved[7] = 6;
    assert!(!wv.verify(body.as_bytes(), &moved));
    // An Ed25519 note signature is not a cosignature and vice versa.
    let plain = NoteSigner::sign(&log, body.as_bytes()).unwrap();
    assert!(lv.verify(body.as_bytes(), &plain));
    assert!(!wv.verify(body.as_bytes(), &plain));
}

// ------------------------------------------- 4. negative cases: keys

#[test]
fn key_names() {
    assert!(note::is_valid_key_name("example.com/log"));
    assert!(note::is_valid_key_name("ünïcode"));
    for (name, want) in [
        ("", "key name is empty"),
        ("a b", "contains a space (' ')"),
        ("a\u{a0}b", "contains a space ('\\u{a0}')"),
        ("a\u{2003}b", "contains a space"),
        ("a\tb", "contains a space"),
        ("a+b", "contains a '+'"),
    ] {
        let err = note::check_key_name("test key", name).unwrap_err();
        assert!(err.to_string().contains(want), "{name:?}: {err}");
        assert!(err.to_string().starts_with("test key: "), "{err}");
        assert!(Signer::generate(name, [1; 32]).is_err());
        assert!(CosignatureSigner::generate(name, [1; 32]).is_err());
        assert!(Verifier::new(name, &peter().public_key()).is_err());
        assert!(CosignatureVerifier::new(name, &peter().public_key()).is_err());
    }
}

/// Builds a vkey with the right key ID for arbitrary key data.
fn vkey_for(name: &str, data: &[u8]) -> String {
    let id = if data.is_empty() {
        0
    } else {
        key_id(name, data[0], &data[1..])
    };
    format!("{name}+{id:08x}+{}", b64e(data))
}

#[test]
fn vkey_errors() {
    let pk = peter().public_key();
    let cases: Vec<(String, &str)> = vec![
        (
            "PeterNeumann".into(),
            "key ID \"\" of \"PeterNeumann\" is not 8 hexadecimal digits",
        ),
        ("PeterNeumann+c74f20a3".into(), "has no key data"),
        ("PeterNeumann+c74f20a3+".into(), "has no key data"),
        (
            "PeterNeumann+c74f20a+ARpc".into(),
            "is not 8 hexadecimal digits",
        ),
        (
            "PeterNeumann+c74f20a3x+ARpc".into(),
            "is not 8 hexadecimal digits",
        ),
        (
            "PeterNeumann+-74f20a3+ARpc".into(),
            "is not 8 hexadecimal digits",
        ),
        ("PeterNeumann+c74f20a3+ARpc!".into(), "is not valid base64"),
        // Non-canonical base64: last character's unused bits set.
        ("P+00000000+AR==".into(), "is not valid base64"),
        ("+c74f20a3+ARpc".into(), "key name is empty"),
        ("Peter Neumann+c74f20a3+ARpc".into(), "contains a space"),
        (
            "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW".into(),
            "key ID c74f20a4 does not match the key (expected c74f20a3)",
        ),
        (vkey_for("P", &[1u8; 32]), "is 31 bytes, not 32"),
        (
            vkey_for("P", &[&[1u8][..], &pk, &[0]].concat()),
            "is 33 bytes, not 32",
        ),
        (
            vkey_for("P", &[&[2u8][..], &pk].concat()),
            "signature type 0x02 is not 0x01 (Ed25519)",
        ),
        (
            vkey_for("P", &[&[4u8][..], &pk].concat()),
            "signature type 0x04 is not 0x01",
        ),
    ];
    for (vkey, want) in &cases {
        let err = Verifier::from_vkey(vkey).unwrap_err();
        assert!(err.to_string().contains(want), "{vkey:?}: {err}");
        assert!(err.to_string().starts_with("verifier key"), "{err}");
    }
    // Uppercase hex key IDs are accepted, as by Go's strconv.ParseUint.
    assert_eq!(
        Verifier::from_vkey("PeterNeumann+C74F20A3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
            .unwrap(),
        peter()
    );
    // The cosignature verifier wants type 0x04 and AnyVerifier knows only 0x01 and 0x04.
    assert!(matches!(
        CosignatureVerifier::from_vkey(PETER_VKEY),
        Err(NoteError::WrongKeyType { found: 1, .. })
    ));
    let five = vkey_for("P", &[&[5u8][..], &pk].concat());
    let err = AnyVerifier::from_vkey(&five).unwrap_err();
    assert!(
        err.to_string()
            .contains("signature type 0x05 is not 0x01 (Ed25519) or 0x04"),
        "{err}"
    );
    // A 32-byte string that is not a curve point.
    let mut not_point = [0xffu8; 32];
    not_point[31] = 0x7f;
    if let Err(err) = Verifier::new("P", &not_point) {
        assert!(err.to_string().contains("not a valid curve point"), "{err}");
    }
}

#[test]
fn skey_errors() {
    let seed_data = |ty: u8, len: usize| [&[ty][..], &vec![3u8; len]].concat();
    let good = Signer::generate("S", [3; 32]).unwrap();
    let id = good.key_id();
    let cases: Vec<(String, &str)> = vec![
        (
            "PRIVATE+KEX+S+00000000+AQ==".into(),
            "does not start with \"PRIVATE+KEY+\"",
        ),
        ("S+00000000+AQ==".into(), "does not start with"),
        ("PRIVATE+KEY+".into(), "key name is empty"),
        ("PRIVATE+KEY+S".into(), "is not 8 hexadecimal digits"),
        (
            "PRIVATE+KEY+S+zzzzzzzz+AQ==".into(),
            "is not 8 hexadecimal digits",
        ),
        (format!("PRIVATE+KEY+S+{id:08x}+"), "has no key data"),
        (format!("PRIVATE+KEY+S+{id:08x}+!!!!"), "not valid base64"),
        (
            format!("PRIVATE+KEY+S+{id:08x}+{}", b64e(&seed_data(1, 31))),
            "seed of \"S\" is 31 bytes, not 32",
        ),
        (
            format!("PRIVATE+KEY+S+{id:08x}+{}", b64e(&seed_data(1, 33))),
            "seed of \"S\" is 33 bytes, not 32",
        ),
        (
            format!("PRIVATE+KEY+S+{id:08x}+{}", b64e(&seed_data(1, 100))),
            "not valid base64 of 33 bytes",
        ),
        (
            format!("PRIVATE+KEY+S+{id:08x}+{}", b64e(&seed_data(4, 32))),
            "signature type 0x04 is not 0x01",
        ),
        (
            format!("PRIVATE+KEY+S+{:08x}+{}", id ^ 1, b64e(&seed_data(1, 32))),
            "does not match the key",
        ),
    ];
    for (skey, want) in &cases {
        let err = Signer::from_skey(skey).unwrap_err();
        assert!(err.to_string().contains(want), "{skey:?}: {err}");
        assert!(err.to_string().starts_with("signer key"), "{err}");
    }
    assert_eq!(
        Signer::from_skey(&format!(
            "PRIVATE+KEY+S+{id:08x}+{}",
            b64e(&seed_data(1, 32))
        ))
        .unwrap()
        .verifier(),
        good.verifier()
    );
}

// ------------------------------------------- 4. negative cases: notes

#[test]
fn note_syntax_errors() {
    let p = peter();
    let sig_b64 = PETER_SIG.trim_end().rsplit_once(' ').unwrap().1;
    let cases: Vec<(Vec<u8>, &str)> = vec![
        (b"".to_vec(), "note has no blank line before its signatures"),
        (
            TEXT.as_bytes().to_vec(),
            "note has no blank line before its signatures",
        ),
        (
            format!("{TEXT}\n").into_bytes(),
            "note has no signature lines after its blank line",
        ),
        (
            format!("{TEXT}\n{}", PETER_SIG.trim_end()).into_bytes(),
            "note line 4: last signature line does not end with a newline",
        ),
        (
            format!("{TEXT}\n{PETER_SIG}\n").into_bytes(),
            "note has no signature lines after its blank line",
        ),
        (
            format!("{TEXT}\n{PETER_SIG}Unexpected line.\n").into_bytes(),
            "signature line 5: does not start with an em dash and a space",
        ),
        (
            format!("{TEXT}\n-- PeterNeumann {sig_b64}\n").into_bytes(),
            "signature line 4: does not start with an em dash",
        ),
        (
            format!("{TEXT}\n—PeterNeumann {sig_b64}\n").into_bytes(),
            "signature line 4: does not start with an em dash",
        ),
        (
            format!("{TEXT}\n— PeterNeumann\n").into_bytes(),
            "signature line 4: no space between key name and signature",
        ),
        (
            format!("{TEXT}\n— PeterNeumann \n").into_bytes(),
            "signature line 4: signature of \"PeterNeumann\" is 0 bytes, fewer than 5",
        ),
        (
            format!("{TEXT}\n—  {sig_b64}\n").into_bytes(),
            "signature line 4: key name is empty",
        ),
        (
            format!("{TEXT}\n— Peter+Neumann {sig_b64}\n").into_bytes(),
            "signature line 4: key name \"Peter+Neumann\" contains a '+'",
        ),
        (
            format!("{TEXT}\n— Peter\u{3000}Neumann {sig_b64}\n").into_bytes(),
            "contains a space ('\\u{3000}')",
        ),
        (
            format!("{TEXT}\n— PeterNeumann {sig_b64} \n").into_bytes(),
            "signature line 4: key name \"PeterNeumann x08go",
        ),
        (
            format!("{TEXT}\n— PeterNeumann x08go/ZJ!\n").into_bytes(),
            "signature line 4: signature of \"PeterNeumann\" is not valid base64",
        ),
        (
            format!("{TEXT}\n— PeterNeumann {}\n", &sig_b64[..sig_b64.len() - 1]).into_bytes(),
            "is not valid base64",
        ),
        // Non-canonical base64 (unused bits set): "AAAAAB==" vs canonical "AAAAAA==".
        (
            format!("{TEXT}\n— PeterNeumann AAAAAAB=\n").into_bytes(),
            "is not valid base64",
        ),
        (
            format!("{TEXT}\n— PeterNeumann AAAAAA==\n").into_bytes(),
            "is 4 bytes, fewer than 5",
        ),
        (
            format!("\x01{TEXT}\n{PETER_SIG}").into_bytes(),
            "note line 1: control character U+0001",
        ),
        (
            format!("{TEXT}\r\n{PETER_SIG}").into_bytes(),
            "note line 3: control character U+000D",
        ),
        (
            format!("{TEXT}\n{}\t\n", PETER_SIG.trim_end()).into_bytes(),
            "note line 4: control character U+0009",
        ),
        (
            [b"\xff".as_slice(), peter_signed().as_bytes()].concat(),
            "note line 1: invalid UTF-8 at byte 0",
        ),
        (
            [TEXT.as_bytes(), b"\xc3\n", PETER_SIG.as_bytes()].concat(),
            "note line 3: invalid UTF-8 at byte 99",
        ),
    ];
    for (msg, want) in &cases {
        let err = Note::parse(msg).unwrap_err();
        assert!(
            err.to_string().contains(want),
            "{:?}: {err}",
            String::from_utf8_lossy(msg)
        );
        let err2 = open(msg, &[&p]).unwrap_err();
        assert_eq!(err, err2);
    }
}

#[test]
fn note_limits() {
    let p = peter();
    // Exactly MAX_SIGNATURES lines are fine, one more is not.
    let ok = format!("{TEXT}\n{}", PETER_SIG.repeat(MAX_SIGNATURES));
    let n = Note::parse(&ok).unwrap();
    assert_eq!(n.signatures.len(), MAX_SIGNATURES);
    let o = open(&ok, &[&p]).unwrap();
    assert_eq!(
        o.verified.len(),
        1,
        "repeated signatures by one key count once"
    );
    let too_many = format!("{TEXT}\n{}", PETER_SIG.repeat(MAX_SIGNATURES + 1));
    assert_eq!(
        Note::parse(&too_many).unwrap_err(),
        NoteError::TooManySignatures
    );
    assert_eq!(
        Note::parse(&too_many).unwrap_err().to_string(),
        "note has more than 100 signatures"
    );
    // Size limit.
    let filler = "x".repeat(MAX_NOTE_SIZE);
    let huge = format!("{filler}\n\n{PETER_SIG}");
    assert!(matches!(
        Note::parse(&huge),
        Err(NoteError::TooLarge { .. })
    ));
    assert!(matches!(
        sign(
            &format!("{filler}\n"),
            &[&Signer::from_skey(PETER_SKEY).unwrap()]
        ),
        Err(NoteError::TooLarge { .. })
    ));
    // A note just under the limit parses.
    let text = format!("{}\n", "y".repeat(MAX_NOTE_SIZE - 2 - PETER_SIG.len()));
    let msg = format!("{text}\n{PETER_SIG}");
    assert_eq!(msg.len(), MAX_NOTE_SIZE);
    assert_eq!(Note::parse(&msg).unwrap().text, text);
}

#[test]
fn note_blank_lines_and_separator() {
    let signer = Signer::from_skey(PETER_SKEY).unwrap();
    let p = signer.verifier();
    // Texts may contain blank lines; the last blank line separates.
    for text in ["a\n\nb\n", "\n", "a\n\n", "\n\n\n", "— x y\n\nz\n"] {
        let msg = sign(text, &[&signer]).unwrap();
        let o = open(&msg, &[&p]).unwrap_or_else(|e| panic!("{text:?}: {e}"));
        assert_eq!(o.text, text);
    }
    // A signature line appended after a blank line moves the separator:
    // the earlier signature becomes text and no longer verifies.
    let msg = format!("{}\n{PETER_SIG}", peter_signed());
    assert!(matches!(
        open(&msg, &[&p]),
        Err(NoteError::InvalidSignature { .. })
    ));
}

#[test]
fn open_semantics() {
    let p = peter();
    let e = Verifier::from_vkey(ENOCH_VKEY).unwrap();
    // Same name, other key ID: unknown key, ignored (spec: name OR ID is not enough).
    let other = Signer::generate("PeterNeumann", [5; 32]).unwrap();
    let msg = sign(TEXT, &[&other]).unwrap();
    assert!(matches!(
        open(&msg, &[&p]),
        Err(NoteError::NoVerifiedSignature { unverified: 1 })
    ));
    // Same key ID, other name: unknown key too.
    let renamed = peter_signed().replace("PeterNeumann", "PeterNeuman");
    assert!(matches!(
        open(&renamed, &[&p]),
        Err(NoteError::NoVerifiedSignature { unverified: 1 })
    ));
    // A bad second signature by a known key after a good one is skipped (as Go),
    // but a bad first one fails naming the key.
    let good_then_bad = format!(
        "{}{}",
        peter_signed(),
        PETER_SIG.replace("x08go/ZJ", "x08go/ZK")
    );
    assert!(open(&good_then_bad, &[&p]).is_ok());
    let bad_then_good = format!(
        "{TEXT}\n{}{PETER_SIG}",
        PETER_SIG.replace("x08go/ZJ", "x08go/ZK")
    );
    let err = open(&bad_then_good, &[&p]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "invalid signature for key PeterNeumann+c74f20a3"
    );
    // Ambiguous verifiers only matter when a signature needs them.
    let err = open(peter_signed(), &[&p, &e, &p]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "ambiguous key PeterNeumann+c74f20a3: 2 verifiers have this name and key ID"
    );
    assert!(open(peter_signed(), &[&e, &p, &e]).is_ok());
    // No verifiers at all.
    assert_eq!(
        open(peter_signed(), &[]).unwrap_err().to_string(),
        "note has no verifiable signatures (1 signatures by unknown keys)"
    );
}

#[test]
fn sign_errors() {
    let signer = Signer::from_skey(PETER_SKEY).unwrap();
    assert_eq!(sign("", &[&signer]).unwrap_err(), NoteError::EmptyText);
    assert_eq!(
        sign("abc", &[&signer]).unwrap_err(),
        NoteError::TextNoFinalNewline
    );
    assert_eq!(sign(TEXT, &[]).unwrap_err(), NoteError::NoSigners);
    assert_eq!(
        sign("a\x7f\nb\x00\n", &[&signer]).unwrap_err().to_string(),
        "note line 2: control character U+0000 (only newline is allowed)"
    );
    let witness = CosignatureSigner::generate("w", [1; 32]).unwrap();
    assert_eq!(
        witness.signature_line("abc", 1).unwrap_err(),
        NoteError::TextNoFinalNewline
    );
    // Two signers: both lines, in order.
    let enoch = Signer::generate("EnochRoot", [2; 32]).unwrap();
    let msg = sign(TEXT, &[&signer, &enoch]).unwrap();
    assert!(msg.starts_with(&peter_signed()));
    let o = open(&msg, &[&signer.verifier(), &enoch.verifier()]).unwrap();
    assert_eq!(o.verified.len(), 2);
}

// ------------------------------------------- 4. negative cases: checkpoints

const ROOT: &str = "CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=";

#[test]
fn checkpoint_parse_errors() {
    let cases: Vec<(String, &str)> = vec![
        (String::new(), "checkpoint is empty"),
        (
            format!("o\n1\n{ROOT}"),
            "checkpoint line 3: does not end with a newline",
        ),
        (
            "o\n1\n".into(),
            "checkpoint has 2 lines, fewer than 3 (origin, size, root hash)",
        ),
        (
            "o\n".into(),
            "checkpoint has 1 lines, fewer than 3 (origin, size, root hash)",
        ),
        (
            format!("\n1\n{ROOT}\n"),
            "checkpoint line 1: origin is empty",
        ),
        (format!("o\n\n{ROOT}\n"), "checkpoint line 2: size is empty"),
        (
            format!("o\n01\n{ROOT}\n"),
            "checkpoint line 2: size \"01\" has a leading zero",
        ),
        (
            format!("o\n00\n{ROOT}\n"),
            "checkpoint line 2: size \"00\" has a leading zero",
        ),
        (
            format!("o\n+1\n{ROOT}\n"),
            "checkpoint line 2: size \"+1\" is not a decimal number",
        ),
        (format!("o\n-1\n{ROOT}\n"), "is not a decimal number"),
        (format!("o\n 1\n{ROOT}\n"), "is not a decimal number"),
        (format!("o\n1a\n{ROOT}\n"), "is not a decimal number"),
        (format!("o\n0x1\n{ROOT}\n"), "is not a decimal number"),
        (format!("o\n١\n{ROOT}\n"), "is not a decimal number"),
        (
            format!("o\n18446744073709551616\n{ROOT}\n"),
            "checkpoint line 2: size \"18446744073709551616\" is larger than 2^64 - 1",
        ),
        (
            "o\n1\n\n".into(),
            "checkpoint line 3: root hash \"\" is 0 bytes, not 32",
        ),
        (
            "o\n1\nnot base64!\n".into(),
            "checkpoint line 3: root hash \"not base64!\" is not valid base64",
        ),
        (
            "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I\n".into(),
            "is not valid base64",
        ),
        (
            "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2J=\n".into(),
            "is not valid base64",
        ),
        (
            "o\n1\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=CsUY\n".into(),
            "is not valid base64",
        ),
        (format!("o\n1\n {ROOT}\n"), "is not valid base64"),
        (
            "o\n1\nAAAA\n".into(),
            "root hash \"AAAA\" is 3 bytes, not 32",
        ),
        (format!("o\n1\n{}\n", b64e(&[0; 33])), "is 33 bytes, not 32"),
        (
            format!("o\n1\n{ROOT}\n\n"),
            "checkpoint line 4: extension line is empty",
        ),
        (
            format!("o\n1\n{ROOT}\next\n\n"),
            "checkpoint line 5: extension line is empty",
        ),
        (
            format!("o\n1\n{ROOT}\next"),
            "checkpoint line 4: does not end with a newline",
        ),
        (
            format!("o\r\n1\n{ROOT}\n"),
            "checkpoint line 1: control character U+000D",
        ),
        (
            format!("o\n1\n{ROOT}\ne\tx\n"),
            "checkpoint line 4: control character U+0009",
        ),
    ];
    for (body, want) in &cases {
        let err = Checkpoint::parse(body).unwrap_err().to_string();
        assert!(err.starts_with("checkpoint "), "{body:?}: {err}");
        assert!(err.contains(want), "{body:?}: {err}");
    }
}

#[test]
fn checkpoint_parse_edges() {
    let c = Checkpoint::parse(&format!("o\n0\n{ROOT}\n")).unwrap();
    assert_eq!(c.size, 0);
    let c = Checkpoint::parse(&format!("o\n18446744073709551615\n{ROOT}\n")).unwrap();
    assert_eq!(c.size, u64::MAX);
    // Origins are opaque: spaces and pluses are allowed (spec: clients MUST NOT assume a format).
    let body = format!("a b+c\n7\n{ROOT}\nx\ny z\n");
    let c = Checkpoint::parse(&body).unwrap();
    assert_eq!(c.origin, "a b+c");
    assert_eq!(c.extensions, ["x", "y z"]);
    assert_eq!(c.to_body(), body);
}

#[test]
fn checkpoint_build_errors() {
    let log = Signer::generate("log.example", [4; 32]).unwrap();
    let good = Checkpoint {
        origin: "log.example".into(),
        size: 1,
        root: [1; 32],
        extensions: vec![],
    };
    assert!(sign_checkpoint(&good, &log).is_ok());
    let cases: Vec<(Checkpoint, &str)> = vec![
        (
            Checkpoint {
                origin: String::new(),
                ..good.clone()
            },
            "checkpoint line 1: origin is empty",
        ),
        (
            Checkpoint {
                origin: "log.example\n5".into(),
                ..good.clone()
            },
            "checkpoint origin \"log.example\\n5\" contains a newline",
        ),
        (
            Checkpoint {
                origin: "log\u{7}".into(),
                ..good.clone()
            },
            "checkpoint line 1: control character U+0007",
        ),
        (
            Checkpoint {
                extensions: vec![String::new()],
                ..good.clone()
            },
            "checkpoint line 4: extension line is empty",
        ),
        (
            Checkpoint {
                extensions: vec!["a".into(), "b\nc".into()],
                ..good.clone()
            },
            "checkpoint extension 1 contains a newline",
        ),
        (
            Checkpoint {
                origin: "other.example".into(),
                ..good.clone()
            },
            "checkpoint signer key name \"log.example\" does not match the origin \"other.example\"",
        ),
    ];
    for (c, want) in &cases {
        let err = sign_checkpoint(c, &log).unwrap_err();
        assert_eq!(&err.to_string(), want);
    }
}

#[test]
fn open_checkpoint_errors() {
    let log = Signer::generate("log.example", [4; 32]).unwrap();
    let lv = log.verifier();
    // A signed note whose text is not a checkpoint.
    let msg = sign("hello\n", &[&log]).unwrap();
    assert_eq!(
        open_checkpoint(&msg, &[&lv], "log.example")
            .unwrap_err()
            .to_string(),
        "checkpoint has 1 lines, fewer than 3 (origin, size, root hash)"
    );
    // A checkpoint signed by a key not named after its origin.
    let impostor = Signer::generate("impostor.example", [6; 32]).unwrap();
    let body = format!("log.example\n1\n{ROOT}\n");
    let msg = sign(&body, &[&impostor]).unwrap();
    assert_eq!(
        open_checkpoint(&msg, &[&lv, &impostor.verifier()], "log.example")
            .unwrap_err()
            .to_string(),
        "checkpoint for \"log.example\" has no verified signature by the log's key \"log.example\""
    );
    // A malformed note.
    assert!(matches!(
        open_checkpoint(body.as_bytes(), &[&lv], "log.example"),
        Err(CheckpointError::Note(NoteError::NoSignatureBlock))
    ));
}

// ------------------------------------------- mutations of real notes

/// What the fuzz targets check, over every truncation and one-byte change of
/// real notes: no panic, lossless parsing, and no forged verification.
#[test]
fn mutated_notes_never_panic() {
    let dir = fixtures().join("tessera-log");
    let log = Verifier::from_vkey(
        "example.com/log/testdata+33d7b496+AeHTu4Q3hEIMHNqc6fASMsq3rKNx280NI+oO5xCFkkSx",
    )
    .unwrap();
    let witness = CosignatureSigner::generate("w.example", [8; 32]).unwrap();
    let wv = witness.verifier();
    let base = std::fs::read_to_string(dir.join("checkpoint.7")).unwrap();
    let body = base.split_once("\n\n").unwrap().0.to_owned() + "\n";
    let cosigned = format!("{base}{}", witness.signature_line(&body, 99).unwrap());
    let go = format!(
        "{}{}",
        peter_signed(),
        "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n"
    );
    let p = peter();
    let verifiers: [&dyn NoteVerifier; 3] = [&log, &wv, &p];
    for original in [cosigned.as_bytes(), go.as_bytes()] {
        let mut inputs: Vec<Vec<u8>> = (0..original.len())
            .map(|i| original[..i].to_vec())
            .collect();
        for i in 0..original.len() {
            for delta in [1u8, 0x80, 0xff] {
                let mut m = original.to_vec();
                m[i] = m[i].wrapping_add(delta);
                inputs.push(m);
            }
        }
        for m in &inputs {
            if let Ok(n) = Note::parse(m) {
                let mut again = n.text.clone();
                again.push('\n');
                n.signatures
                    .iter()
                    .for_each(|s| again.push_str(&s.to_line()));
                assert_eq!(again.as_bytes(), m.as_slice());
            }
            if let Ok(o) = open(m, &verifiers) {
                // A change that still opens never touched the signed text.
                assert!(original.starts_with(o.text.as_bytes()));
            }
            if let Ok(body) = std::str::from_utf8(m) {
                if let Ok(c) = Checkpoint::parse(body) {
                    assert_eq!(c.to_body(), body);
                }
                let _ = AnyVerifier::from_vkey(body);
                let _ = Signer::from_skey(body);
            }
            let _ = open_checkpoint(m, &verifiers, "example.com/log/testdata");
        }
    }
}
