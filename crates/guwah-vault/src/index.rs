//! What an index row keeps private, and how it is sealed.
//!
//! The log is public; the index (a [`guwah_store::IndexStore`]) holds what
//! is not: each entry's metadata values and their salts, sealed here with
//! the index key (AES-256-GCM, with the entry's leaf index and record id as
//! associated data, so a row cannot be moved to another entry unnoticed).
//! The store sees only ids, kinds and leaf indices, which the log publishes
//! anyway, and the sealed bytes.
//!
//! The rows of an append go in in one transaction *before* the checkpoint
//! swap (see `append`). Rows at or past the committed tree size belong to
//! an interrupted append: readers ignore them and writers delete them.

use std::collections::BTreeMap;

pub(crate) use guwah_store::{EntryKind, EntryRow};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::crypto;
use crate::error::VaultError;

/// A metadata value and the salt of its commitment.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct SaltedValue {
    pub value: String,
    /// Standard base64 of the 32-byte salt.
    pub salt: String,
}

/// What an index row keeps secret.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub(crate) struct Private {
    pub fields: BTreeMap<String, SaltedValue>,
}

fn aad(leaf_index: u64, record_id: &str) -> Vec<u8> {
    let mut a = b"guwah/index-entry/v1\n".to_vec();
    a.extend_from_slice(&leaf_index.to_be_bytes());
    a.extend_from_slice(record_id.as_bytes());
    a
}

impl Private {
    pub fn seal(
        &self,
        key: &[u8; 32],
        leaf_index: u64,
        record_id: &str,
    ) -> Result<Vec<u8>, VaultError> {
        let json = Zeroizing::new(
            serde_json::to_vec(self)
                .map_err(|e| VaultError::damaged("index row", e.to_string()))?,
        );
        crypto::seal(key, &aad(leaf_index, record_id), &json)
            .map_err(|e| VaultError::damaged("index row", e.to_string()))
    }

    pub fn open(key: &[u8; 32], row: &EntryRow) -> Result<Private, VaultError> {
        let thing = || format!("index row for log entry {}", row.leaf_index);
        let json =
            crypto::open(key, &aad(row.leaf_index, &row.record_id), &row.sealed).map_err(|_| {
                VaultError::damaged(
                    thing(),
                    "does not decrypt: altered, moved, or from another vault",
                )
            })?;
        serde_json::from_slice(&json)
            .map_err(|e| VaultError::damaged(thing(), format!("unreadable: {e}")))
    }
}
