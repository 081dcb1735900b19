//! The record format as data: `docs/vectors/` holds records built from fixed
//! keys and salts, their leaf hashes and field commitments. The format must
//! not drift: these bytes are what outside verifiers are written against.
//! Regenerate (only for a deliberate, versioned change) with
//! `GUWAH_BLESS=1 cargo test -p guwah-core --test record_vectors`.

use std::path::PathBuf;

use ed25519_dalek::SigningKey;
use guwah_core::merkle::leaf_hash;
use guwah_core::record::{
    Action, AuditAction, AuditRecord, EventRecord, FieldCommitment, ItemRecord, Record,
    commit_field, hex32,
};

fn vectors_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../docs/vectors")
}

fn check(name: &str, actual: &[u8]) {
    let path = vectors_dir().join(name);
    if std::env::var_os("GUWAH_BLESS").is_some() {
        std::fs::write(&path, actual).unwrap();
    }
    let expected = std::fs::read(&path)
        .unwrap_or_else(|e| panic!("{}: {e} (run with GUWAH_BLESS=1 once)", path.display()));
    assert_eq!(
        String::from_utf8_lossy(actual),
        String::from_utf8_lossy(&expected),
        "{name} drifted"
    );
}

fn field(name: &str, salt_byte: u8, value: &str) -> FieldCommitment {
    FieldCommitment {
        name: name.into(),
        commitment: commit_field(name, &[salt_byte; 32], value.as_bytes()),
    }
}

#[test]
fn item_and_event_vectors() {
    // Collector key: Ed25519 seed of 32 bytes 0x07 (test only).
    let key = SigningKey::from_bytes(&[7; 32]);
    let mut item = ItemRecord {
        media_type: "image/jpeg".into(),
        size: 18693,
        sha256: [0x5a; 32],
        sealed_at: "2026-11-29T03:25:05Z".into(),
        collector: [0; 32],
        fields: vec![
            field("captured-at", 1, "2024-03-01T09:30:00+01:00"),
            field("filename", 2, "street-photo.jpg"),
            field("gps", 3, "48.858333,2.352222"),
        ],
        signature: [0; 64],
    };
    item.sign(&key).unwrap();
    let item = Record::Item(item);
    let bytes = item.encode();
    assert_eq!(Record::parse(&bytes).unwrap(), item);
    item.verify_signature().unwrap();
    check("record-item-v1.txt", &bytes);

    let mut event = EventRecord {
        action: Action::Exported,
        item: item.id(),
        at: "2026-11-29T04:00:00Z".into(),
        actor: [0; 32],
        related: None,
        fields: vec![field("reason", 4, "submission to the tribunal")],
        signature: [0; 64],
    };
    event.sign(&key).unwrap();
    let event = Record::Event(event);
    let ebytes = event.encode();
    assert_eq!(Record::parse(&ebytes).unwrap(), event);
    check("record-event-v1.txt", &ebytes);

    let summary = format!(
        "record-item-v1.txt leaf hash (item id): {}\nrecord-event-v1.txt leaf hash: {}\n\
         commit_field(\"gps\", salt = 32 x 0x03, \"48.858333,2.352222\") = {}\n\
         commit_field(\"note\", salt = 32 x 0x00, \"hello\") = {}\n",
        hex32(&leaf_hash(&bytes)),
        hex32(&leaf_hash(&ebytes)),
        hex32(&commit_field("gps", &[3; 32], b"48.858333,2.352222")),
        hex32(&commit_field("note", &[0; 32], b"hello")),
    );
    check("record-hashes-v1.txt", summary.as_bytes());
}

#[test]
fn audit_vector() {
    let key = SigningKey::from_bytes(&[7; 32]);
    let mut audit = AuditRecord {
        action: AuditAction::Login,
        at: "2026-12-02T09:00:00Z".into(),
        actor: [0; 32],
        fields: vec![
            field("account", 5, "amina"),
            field("address", 6, "192.0.2.7"),
        ],
        signature: [0; 64],
    };
    audit.sign(&key).unwrap();
    let audit = Record::Audit(audit);
    let bytes = audit.encode();
    assert_eq!(Record::parse(&bytes).unwrap(), audit);
    check("record-audit-v1.txt", &bytes);
}
