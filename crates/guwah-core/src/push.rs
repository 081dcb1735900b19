//! An item pushed from another vault (`guwah push`), checked by the vault
//! that receives it before anything is sealed: the sender's checkpoint is
//! signed by the sender's log key, the item record is signed by its
//! collector and included in that checkpoint's tree, and every field value
//! sent reproduces its commitment in the record. The bytes are checked
//! against the record's SHA-256 and size as they arrive (by the receiver).

use crate::checkpoint::{Checkpoint, CheckpointError, open_checkpoint};
use crate::merkle::{self, Hash, VerifyError};
use crate::note::{NoteError, NoteVerifier, Verifier};
use crate::record::{ItemRecord, Record, RecordError, commit_field};

/// What a sender sends about one item.
#[derive(Debug, Clone)]
pub struct PushedItem<'a> {
    /// The sender's log key, a C2SP vkey (its name is the log's origin).
    pub vkey: &'a str,
    /// The sender's signed checkpoint.
    pub checkpoint: &'a [u8],
    /// The item record, exactly as it is the sender's log leaf.
    pub record: &'a [u8],
    /// Its index in the sender's log.
    pub index: u64,
    /// RFC 9162 inclusion proof of the record in the checkpoint's tree.
    pub proof: &'a [Hash],
    /// Field values disclosed with their salts (`name`, `value`, `salt`);
    /// fields not sent are withheld, and stay unknown to the receiver.
    pub fields: &'a [(String, String, [u8; 32])],
}

/// A pushed item that checked out.
#[derive(Debug, Clone)]
pub struct VerifiedPush {
    /// The sender's checkpoint.
    pub checkpoint: Checkpoint,
    /// The item record.
    pub item: ItemRecord,
    /// Its leaf hash (its id in the sender's vault).
    pub leaf_hash: Hash,
    /// The disclosed fields, each checked against its commitment.
    pub fields: Vec<(String, String)>,
}

/// Why a pushed item is refused.
#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The log key does not parse.
    #[error("the sender's log key: {0}")]
    Key(NoteError),
    /// The checkpoint does not open under the log key.
    #[error("the sender's checkpoint: {0}")]
    Checkpoint(CheckpointError),
    /// The record does not parse, is not an item, or its signature fails.
    #[error("the item record: {0}")]
    Record(String),
    /// The record is not in the checkpoint's tree at that index.
    #[error("the item record is not in the sender's log at index {index}: {source}")]
    NotIncluded {
        /// The index claimed.
        index: u64,
        /// Why the proof fails.
        source: VerifyError,
    },
    /// A field value does not reproduce the record's commitment.
    #[error("field {0}: the value sent does not match the record's commitment")]
    FieldMismatch(String),
    /// A field the record does not commit to, or sent twice.
    #[error("field {0}: not in the record, or sent twice")]
    UnknownField(String),
}

/// Check `p` (see the module docs).
pub fn verify_pushed(p: &PushedItem<'_>) -> Result<VerifiedPush, PushError> {
    let key = Verifier::from_vkey(p.vkey).map_err(PushError::Key)?;
    let origin = key.name().to_owned();
    let (checkpoint, _) = open_checkpoint(p.checkpoint, &[&key as &dyn NoteVerifier], &origin)
        .map_err(PushError::Checkpoint)?;
    let record =
        Record::parse(p.record).map_err(|e: RecordError| PushError::Record(e.to_string()))?;
    let Record::Item(item) = &record else {
        return Err(PushError::Record("not an item record".into()));
    };
    record
        .verify_signature()
        .map_err(|e| PushError::Record(e.to_string()))?;
    let leaf_hash = merkle::leaf_hash(p.record);
    merkle::verify_inclusion(
        p.index,
        checkpoint.size,
        &leaf_hash,
        p.proof,
        &checkpoint.root,
    )
    .map_err(|source| PushError::NotIncluded {
        index: p.index,
        source,
    })?;
    let mut fields: Vec<(String, String)> = Vec::with_capacity(p.fields.len());
    for (name, value, salt) in p.fields {
        if fields.iter().any(|(n, _)| n == name) {
            return Err(PushError::UnknownField(name.clone()));
        }
        let committed = item
            .fields
            .iter()
            .find(|f| f.name == *name)
            .ok_or_else(|| PushError::UnknownField(name.clone()))?;
        if commit_field(name, salt, value.as_bytes()) != committed.commitment {
            return Err(PushError::FieldMismatch(name.clone()));
        }
        fields.push((name.clone(), value.clone()));
    }
    Ok(VerifiedPush {
        checkpoint,
        item: item.clone(),
        leaf_hash,
        fields,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_name_what_failed() {
        let p = PushedItem {
            vkey: "not a key",
            checkpoint: b"",
            record: b"",
            index: 0,
            proof: &[],
            fields: &[],
        };
        assert!(matches!(verify_pushed(&p), Err(PushError::Key(_))));
        let signer = crate::note::Signer::generate("example.org/phone", [3; 32]).unwrap();
        let vkey = signer.verifier().to_vkey();
        let p = PushedItem { vkey: &vkey, ..p };
        let e = verify_pushed(&p).unwrap_err();
        assert!(e.to_string().starts_with("the sender's checkpoint"), "{e}");
    }
}
