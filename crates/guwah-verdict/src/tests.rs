//! The verdict on a small package built here, in memory: one item (a
//! disclosed and a withheld field), its receipt, a log of 3 leaves, the
//! checkpoint signed by the log and cosigned by a witness, and the bag's
//! manifests. Each case changes one thing and expects its failure kinds.

use std::collections::BTreeSet;

use ed25519_dalek::SigningKey;
use guwah_core::bag::{self, Algorithm, BagFiles, MultiHasher};
use guwah_core::bundle::{
    self, Disclosure, FieldEntry, FieldsFile, PackageIndex, RECEIPT_FILE, RECORD_FILE,
};
use guwah_core::checkpoint::{Checkpoint, sign_checkpoint};
use guwah_core::item_file::ItemFile;
use guwah_core::merkle::{self, Hash, leaf_hash};
use guwah_core::note::{CosignatureSigner, Signer};
use guwah_core::receipt::TlogProof;
use guwah_core::record::{FieldCommitment, ItemRecord, Record, commit_field, parse_hex32};
use guwah_core::witness::add_signature_lines;

use super::*;

const ORIGIN: &str = "example.org/verdict-test";
const SOURCE: &[u8] = b"sent by a relative";
const PAYLOAD: &[u8] = b"the original file\n";

struct Built {
    files: BagFiles,
    log: Signer,
    witness: CosignatureSigner,
    id: Hash,
    /// The withheld field, disclosed on its own.
    disclosure: Disclosure,
}

fn build() -> Built {
    let log = Signer::generate(ORIGIN, [1; 32]).unwrap();
    let witness = CosignatureSigner::generate("witness.example/w1", [2; 32]).unwrap();
    let collector = SigningKey::from_bytes(&[3; 32]);
    let (fsalt, ssalt) = ([4u8; 32], [5u8; 32]);
    let mut record = ItemRecord {
        media_type: "text/plain".into(),
        size: PAYLOAD.len() as u64,
        sha256: parse_hex32(
            &MultiHasher::digest(&[Algorithm::Sha256], PAYLOAD).digests[&Algorithm::Sha256],
        )
        .unwrap(),
        sealed_at: "2025-01-02T03:04:05Z".into(),
        collector: [0; 32],
        fields: vec![
            FieldCommitment {
                name: "filename".into(),
                commitment: commit_field("filename", &fsalt, b"x.txt"),
            },
            FieldCommitment {
                name: "source".into(),
                commitment: commit_field("source", &ssalt, SOURCE),
            },
        ],
        signature: [0; 64],
    };
    record.sign(&collector).unwrap();
    let record = Record::Item(record).encode();
    let id = leaf_hash(&record);
    // The item is leaf 1 of 3.
    let leaves = [leaf_hash(b"a"), id, leaf_hash(b"c")];
    let cp = Checkpoint {
        origin: ORIGIN.into(),
        size: 3,
        root: merkle::root_from_leaf_hashes(&leaves),
        extensions: vec![],
    };
    let signed = sign_checkpoint(&cp, &log).unwrap();
    let cosig = witness
        .signature_line(&cp.to_body(), 1_700_000_000)
        .unwrap();
    let note = add_signature_lines(signed.as_bytes(), &[cosig]).unwrap();
    let proof = merkle::inclusion_proof(1, 3, &mut merkle::LeafHashes(&leaves)).unwrap();
    let receipt = TlogProof {
        extra: None,
        index: 1,
        proof,
        checkpoint: note.clone(),
    }
    .encode();
    let fields = FieldsFile {
        entries: vec![
            FieldEntry::Disclosed {
                name: "filename".into(),
                salt: fsalt,
                value: b"x.txt".to_vec(),
            },
            FieldEntry::Withheld {
                name: "source".into(),
            },
        ],
    };
    let item_file = ItemFile {
        parts: vec![
            ("fields".into(), fields.encode()),
            (RECEIPT_FILE.into(), receipt),
            (RECORD_FILE.into(), record),
        ],
    };
    let index = PackageIndex {
        version: 2,
        origin: ORIGIN.into(),
        checkpoint_size: 3,
        items: vec![(id, "data/x.txt".into())],
    };
    let mut files = BagFiles {
        payload_dir: true,
        ..BagFiles::default()
    };
    let tags = &mut files.tag_contents;
    tags.insert("bagit.txt".into(), bag::bagit_txt().as_bytes().to_vec());
    tags.insert(bundle::PACKAGE_TXT.into(), index.encode());
    tags.insert(bundle::CHECKPOINT.into(), note);
    tags.insert(
        bundle::KEYS.into(),
        format!("{}\n", log.verifier().to_vkey()).into_bytes(),
    );
    tags.insert(bundle::item_file_path(&id), item_file.encode());
    let disclosure = Disclosure {
        item: id,
        name: "source".into(),
        salt: ssalt,
        value: SOURCE.to_vec(),
        commitment: commit_field("source", &ssalt, SOURCE),
    };
    let mut built = Built {
        files,
        log,
        witness,
        id,
        disclosure,
    };
    set_payload(&mut built, PAYLOAD);
    reseal(&mut built.files);
    built
}

fn set_payload(b: &mut Built, bytes: &[u8]) {
    let d = MultiHasher::digest(&[Algorithm::Sha256], bytes);
    b.files.files.insert("data/x.txt".into(), d);
}

/// Writes the payload manifest and tag manifest for the files as they are
/// now, and every tag file's digest.
fn reseal(files: &mut BagFiles) {
    let algs = [Algorithm::Sha256];
    let payload: Vec<(String, String)> = files
        .files
        .iter()
        .filter(|(p, _)| p.starts_with("data/"))
        .map(|(p, d)| (p.clone(), d.digests[&Algorithm::Sha256].clone()))
        .collect();
    files.tag_contents.insert(
        "manifest-sha256.txt".into(),
        bag::manifest_text(Algorithm::Sha256, &payload).into_bytes(),
    );
    files.tag_contents.remove("tagmanifest-sha256.txt");
    let tags: Vec<(String, String)> = files
        .tag_contents
        .iter()
        .map(|(p, b)| {
            (
                p.clone(),
                MultiHasher::digest(&algs, b).digests[&Algorithm::Sha256].clone(),
            )
        })
        .collect();
    files.tag_contents.insert(
        "tagmanifest-sha256.txt".into(),
        bag::manifest_text(Algorithm::Sha256, &tags).into_bytes(),
    );
    let tag_files: Vec<(String, Vec<u8>)> = files
        .tag_contents
        .iter()
        .map(|(p, b)| (p.clone(), b.clone()))
        .collect();
    for (p, b) in tag_files {
        files.files.insert(p, MultiHasher::digest(&algs, &b));
    }
}

fn policy(b: &Built) -> Policy {
    Policy {
        trusted: vec![b.log.verifier()],
        witnesses: vec![b.witness.verifier()],
        min_witnesses: 1,
        tsa_roots: Vec::new(),
        disclosures: vec![("source.disclosure".into(), b.disclosure.clone())],
    }
}

fn kinds(r: &Report) -> BTreeSet<&'static str> {
    r.all_failures().iter().map(|f| f.kind.as_str()).collect()
}

#[test]
fn a_sound_package_with_every_policy_is_valid() {
    let b = build();
    let r = verify(&b.files, &policy(&b));
    assert_eq!(r.verdict, Verdict::Valid, "{:?}", r.all_failures());
    let w = r.witnesses.as_ref().expect("a witness view");
    assert_eq!((w.min, w.valid.len()), (1, 1));
    assert_eq!(w.valid[0].timestamp, 1_700_000_000);
    assert!(r.disclosures[0].ok);
    assert_eq!(r.disclosures[0].value, "sent by a relative");
    assert_eq!(r.package.items[0].withheld, vec!["source".to_owned()]);
    // Without the trusted key: consistent, but untrusted.
    let untrusted = verify(
        &b.files,
        &Policy {
            trusted: Vec::new(),
            ..policy(&b)
        },
    );
    assert_eq!(untrusted.verdict, Verdict::Untrusted);
}

#[test]
fn prepared_while_hashing_is_the_same_verdict() {
    let b = build();
    let p = policy(&b);
    let whole = verify(&b.files, &p);
    let prepared = prepare(&b.files.tag_contents, &p, &InOrder);
    assert_eq!(finish(prepared, &b.files), whole);
}

#[test]
fn each_tamper_is_named_by_its_kind() {
    type Tamper = fn(&mut Built, &mut Policy);
    let cases: [(&str, Tamper, &[&str]); 8] = [
        (
            "payload byte",
            |b, _| set_payload(b, b"the original filE\n"),
            &["manifest", "payload-digest"],
        ),
        (
            "payload byte, manifests resealed",
            |b, _| {
                set_payload(b, b"the original filE\n");
                reseal(&mut b.files);
            },
            &["payload-digest"],
        ),
        (
            "two witnesses required, one cosigned",
            |_, p| {
                p.witnesses.push(
                    CosignatureSigner::generate("w2.example", [9; 32])
                        .unwrap()
                        .verifier(),
                );
                p.min_witnesses = 2;
            },
            &["witnesses"],
        ),
        (
            "a forged cosignature",
            |b, _| {
                let note = b.files.tag_contents.get_mut(bundle::CHECKPOINT).unwrap();
                let text = String::from_utf8(note.clone()).unwrap();
                let line = text.lines().last().unwrap().to_owned();
                let (head, sig) = line.rsplit_once(' ').unwrap();
                let mut raw = base64_decode(sig);
                raw[20] ^= 1;
                let forged = format!("{head} {}", base64_encode(&raw));
                *note = text.replace(&line, &forged).into_bytes();
                reseal(&mut b.files);
            },
            // Every receipt carries the old note; the policy sees the forgery.
            &["cosignature", "receipt", "witnesses"],
        ),
        (
            "a forged disclosure",
            |_, p| p.disclosures[0].1.value = b"sent by a stranger".to_vec(),
            &["disclosure"],
        ),
        (
            "a disclosure of an item not in the package",
            |_, p| p.disclosures[0].1.item = [7; 32],
            &["disclosure"],
        ),
        (
            "a token that is not over the checkpoint",
            |b, _| {
                let tsr = std::fs::read(concat!(
                    env!("CARGO_MANIFEST_DIR"),
                    "/../../../shared/fixtures/rfc3161/sigstage/response-sha256.tsr"
                ))
                .expect("shared fixture");
                b.files
                    .tag_contents
                    .insert("guwah/timestamps/other.tsr".into(), tsr);
                reseal(&mut b.files);
            },
            &["timestamp-token"],
        ),
        (
            "no trusted key named after the origin",
            |_, p| {
                p.trusted = vec![
                    Signer::generate("example.org/other", [8; 32])
                        .unwrap()
                        .verifier(),
                ]
            },
            &["log-key"],
        ),
    ];
    for (name, tamper, want) in cases {
        let mut b = build();
        let mut p = policy(&b);
        tamper(&mut b, &mut p);
        let r = verify(&b.files, &p);
        assert_eq!(r.verdict, Verdict::Failed, "{name}");
        let want: BTreeSet<&str> = want.iter().copied().collect();
        assert_eq!(kinds(&r), want, "{name}: {:#?}", r.all_failures());
        let again = finish(prepare(&b.files.tag_contents, &p, &InOrder), &b.files);
        assert_eq!(again, r, "{name}: prepared and whole differ");
    }
}

#[test]
fn tokens_are_listed_with_their_standing() {
    let mut b = build();
    b.files
        .tag_contents
        .insert("guwah/timestamps/junk.tsr".into(), b"not DER".to_vec());
    reseal(&mut b.files);
    let r = verify(&b.files, &policy(&b));
    assert_eq!(r.timestamps.len(), 1);
    assert_eq!(r.timestamps[0].status, TokenStatus::Invalid);
    assert!(
        r.timestamps[0].detail.contains("malformed"),
        "{:?}",
        r.timestamps
    );
    assert_eq!(kinds(&r), BTreeSet::from(["timestamp-token"]));
}

#[test]
fn the_json_is_serde_with_stable_kind_names() {
    let mut b = build();
    set_payload(&mut b, b"changed");
    let r = verify(&b.files, &policy(&b));
    let j = serde_json::to_value(&r).unwrap();
    assert_eq!(j["verdict"], "failed");
    assert_eq!(j["origin"], ORIGIN);
    assert_eq!(j["log_key_trusted"], true);
    assert_eq!(j["signatures"][0]["status"], "trusted");
    assert_eq!(j["witnesses"]["valid"][0]["name"], "witness.example/w1");
    assert_eq!(j["disclosures"][0]["ok"], true);
    let item = &j["items"][0];
    assert_eq!(item["ok"], false);
    assert_eq!(item["id"], guwah_core::record::hex32(&b.id));
    let kinds: Vec<&str> = item["failures"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["payload-digest", "payload-digest"], "{item}");
    assert_eq!(j["failures"][0]["kind"], "manifest");
    // Every kind serialises as its name.
    for k in FailureKind::ALL {
        assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
    }
}

fn base64_decode(s: &str) -> Vec<u8> {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

fn base64_encode(b: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(b)
}
