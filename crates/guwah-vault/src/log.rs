//! The vault's log: appending records as C2SP tiles, committing signed
//! checkpoints, and reading proofs back.
//!
//! The life of a leaf: [`LogWriter::stage`] writes the new tiles and entry
//! bundles (durable after `sync_log`), the caller commits its index rows,
//! then [`LogWriter::commit`] signs the checkpoint, swaps it in and keeps a
//! copy in the history. The swap is the commit point: tiles past the
//! committed size are invisible; log objects are written once, so the next
//! append removes such leftovers before it writes its own (`stage`). In a
//! vault all of this runs inside the append transaction (`append.rs`).

use guwah_core::checkpoint::{Checkpoint, open_checkpoint, sign_checkpoint};
use guwah_core::merkle::{self, Hash};
use guwah_core::note::{NoteVerifier, Signer, Verifier};
use guwah_core::tiles::{self, EntryBundleId, TileId, TileNodeSource};
use guwah_store::{CheckpointStore, LogStore, StoreError};
use serde::Serialize;

use crate::error::VaultError;

/// Whether the tree of `size` has (or an earlier, smaller tree had) a tile
/// or bundle at (`level`, `index`) of `width`: then the object there is
/// committed. Anything else an append writes lies past the committed tree.
fn committed_shape(level: u8, index: u64, width: u16, size: u64) -> bool {
    let hashes = size.checked_shr(8 * u32::from(level)).unwrap_or(0);
    let full = hashes >> 8;
    index < full || (index == full && u64::from(width) <= hashes & 0xff)
}

/// Whether log object `path` is covered by the tree of `size` (unknown
/// paths count as covered: never removed).
fn committed(path: &str, size: u64) -> bool {
    if let Ok(b) = EntryBundleId::parse_path(path) {
        committed_shape(0, b.index, b.width, size)
    } else if let Ok(t) = TileId::parse_path(path) {
        committed_shape(t.level, t.index, t.width, size)
    } else {
        true
    }
}

/// The latest committed checkpoint, verified.
#[derive(Debug, Clone)]
pub struct Head {
    /// The signed note, verbatim.
    pub note: Vec<u8>,
    /// Its parsed body.
    pub checkpoint: Checkpoint,
}

/// An RFC 9162 inclusion proof, as `guwah log proof --json` prints it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct InclusionProof {
    /// Index of the leaf.
    pub leaf_index: u64,
    /// Size of the tree the proof is against.
    pub tree_size: u64,
    /// `SHA-256(0x00 || leaf)`, standard base64.
    pub leaf_hash: String,
    /// The audit path, standard base64.
    pub hashes: Vec<String>,
}

/// An RFC 9162 consistency proof, as `guwah log consistency --json` prints it.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ConsistencyProof {
    /// The earlier tree size.
    pub old_size: u64,
    /// The later tree size.
    pub new_size: u64,
    /// The proof hashes, standard base64.
    pub hashes: Vec<String>,
}

pub(crate) fn b64(h: &Hash) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(h)
}

fn tile_err<E: std::fmt::Display>(e: tiles::TileError<E>) -> VaultError {
    VaultError::damaged("log", e.to_string())
}

/// Reads and appends to the log held by a [`LogStore`] and a
/// [`CheckpointStore`]. The vault uses it; it is public for benchmarks and
/// for tools that keep a guwah-style log without a vault.
pub struct LogWriter<'a> {
    /// Where tiles and entry bundles live.
    pub tiles: &'a dyn LogStore,
    /// Where checkpoints live.
    pub checkpoints: &'a dyn CheckpointStore,
    /// The log's origin line.
    pub origin: &'a str,
}

impl LogWriter<'_> {
    fn read_object(&self, path: &str) -> Result<Vec<u8>, StoreError> {
        self.tiles.read(path)?.ok_or_else(|| StoreError::Io {
            path: format!("log/{path}").into(),
            source: std::io::Error::new(std::io::ErrorKind::NotFound, "missing"),
        })
    }

    fn read_tile(&self, id: TileId) -> Result<Vec<u8>, StoreError> {
        self.read_object(&id.path())
    }

    fn read_bundle(&self, id: EntryBundleId) -> Result<Vec<u8>, StoreError> {
        self.read_object(&id.path())
    }

    /// Open and verify a checkpoint note with the log's key.
    pub fn open_note(
        &self,
        note: &[u8],
        key: &Verifier,
        what: &str,
    ) -> Result<Checkpoint, VaultError> {
        let verifiers: [&dyn NoteVerifier; 1] = [key];
        open_checkpoint(note, &verifiers, self.origin)
            .map(|(cp, _)| cp)
            .map_err(|e| VaultError::damaged(what, e.to_string()))
    }

    /// The latest committed checkpoint, verified with `key`.
    pub fn head(&self, key: &Verifier) -> Result<Option<Head>, VaultError> {
        match self.checkpoints.latest()? {
            None => Ok(None),
            Some(note) => self.head_of(note, key).map(Some),
        }
    }

    /// The head whose checkpoint note is `note`, its signature checked.
    pub fn head_of(&self, note: Vec<u8>, key: &Verifier) -> Result<Head, VaultError> {
        let checkpoint = self.open_note(&note, key, "log/checkpoint")?;
        Ok(Head { note, checkpoint })
    }

    /// Write the tiles and bundles for `entries` appended to a tree of
    /// `old_size`, make them durable, and return the new tree's checkpoint
    /// body (not yet signed or committed).
    pub fn stage(&self, old_size: u64, entries: &[Vec<u8>]) -> Result<Checkpoint, VaultError> {
        let appended = tiles::append_entries(
            old_size,
            entries,
            |id| self.read_tile(id),
            |id| self.read_bundle(id),
        )
        .map_err(tile_err)?;
        for (id, bytes) in &appended.bundles {
            self.put(&id.path(), bytes, old_size)?;
        }
        for (id, bytes) in &appended.tiles {
            self.put(&id.path(), bytes, old_size)?;
        }
        self.tiles.sync_log()?;
        let size = old_size + entries.len() as u64;
        Ok(Checkpoint {
            origin: self.origin.to_owned(),
            size,
            root: self.root(size)?,
            extensions: Vec::new(),
        })
    }

    /// Write one object of an append from `old_size`. Log objects are
    /// written once: one there already with other bytes, past the committed
    /// tree, was left by an append that never committed, and is replaced;
    /// one inside it is damage.
    fn put(&self, path: &str, bytes: &[u8], old_size: u64) -> Result<(), VaultError> {
        match self.tiles.write(path, bytes) {
            Err(StoreError::Conflict { .. }) if !committed(path, old_size) => {
                self.tiles.remove(path)?;
                Ok(self.tiles.write(path, bytes)?)
            }
            Err(StoreError::Conflict { .. }) => Err(VaultError::damaged(
                format!("log/{path}"),
                "differs from the tile this append would write, though the committed log covers it (altered?)",
            )),
            other => Ok(other?),
        }
    }

    /// Sign `checkpoint`, swap it in for `old`, then keep a copy in the
    /// history. A swap that reports an error but whose checkpoint is in
    /// place all the same (a lost reply) is a success.
    pub fn commit(
        &self,
        old: Option<&Head>,
        checkpoint: Checkpoint,
        signer: &Signer,
    ) -> Result<Head, VaultError> {
        let note = sign_checkpoint(&checkpoint, signer)
            .map_err(|e| VaultError::damaged("checkpoint", e.to_string()))?
            .into_bytes();
        // Swap first: no signed checkpoint of a tree that was never committed
        // is ever stored. The history copy follows; a writer that finds it
        // missing after a crash adds it (see `Vault::writer`).
        if let Err(e) = self.checkpoints.swap(old.map(|h| h.note.as_slice()), &note)
            && self.checkpoints.latest().ok().flatten().as_deref() != Some(note.as_slice())
        {
            return Err(e.into());
        }
        // The append is committed now; a failure to keep the copy must not
        // report it as failed. The copy is remade from `log/checkpoint`.
        let _ = self.checkpoints.put_history(checkpoint.size, &note);
        Ok(Head { note, checkpoint })
    }

    /// The root hash of the tree of `size`, from the tiles.
    pub fn root(&self, size: u64) -> Result<Hash, VaultError> {
        if size == 0 {
            return Ok(merkle::empty_root());
        }
        let mut src = TileNodeSource::new(size, |id| self.read_tile(id));
        merkle::tree_root(size, &mut src).map_err(tile_err)
    }

    /// The leaf at `index` of a tree of at least `index + 1` entries.
    pub fn leaf(&self, index: u64, size: u64) -> Result<Vec<u8>, VaultError> {
        let bundle = EntryBundleId {
            index: index >> 8,
            width: if index >> 8 < size >> 8 {
                256
            } else {
                (size & 0xff) as u16
            },
        };
        let bytes = self.read_bundle(bundle)?;
        let entries = tiles::parse_entry_bundle(bundle, &bytes).map_err(tile_err)?;
        entries
            .get((index & 0xff) as usize)
            .map(|e| e.to_vec())
            .ok_or_else(|| VaultError::damaged(bundle.path(), format!("has no entry {index}")))
    }

    /// An inclusion proof for leaf `index` in the tree of `size`.
    pub fn inclusion(
        &self,
        index: u64,
        size: u64,
        leaf: &[u8],
    ) -> Result<InclusionProof, VaultError> {
        let mut src = TileNodeSource::new(size, |id| self.read_tile(id));
        let hashes = merkle::inclusion_proof(index, size, &mut src)
            .map_err(|e| VaultError::damaged("log", e.to_string()))?;
        Ok(InclusionProof {
            leaf_index: index,
            tree_size: size,
            leaf_hash: b64(&merkle::leaf_hash(leaf)),
            hashes: hashes.iter().map(b64).collect(),
        })
    }

    /// A consistency proof between two tree sizes.
    pub fn consistency(
        &self,
        old_size: u64,
        new_size: u64,
    ) -> Result<ConsistencyProof, VaultError> {
        let mut src = TileNodeSource::new(new_size, |id| self.read_tile(id));
        let hashes = merkle::consistency_proof(old_size, new_size, &mut src)
            .map_err(|e| VaultError::damaged("log", e.to_string()))?;
        Ok(ConsistencyProof {
            old_size,
            new_size,
            hashes: hashes.iter().map(b64).collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::committed;

    #[test]
    fn which_log_paths_the_committed_tree_covers() {
        // A tree of 300 entries: tile/0/000 and tile/0/001.p/44 (and every
        // narrower partial an earlier tree had), tile/1/000.p/1.
        for path in [
            "tile/0/000",
            "tile/0/001.p/44",
            "tile/0/001.p/3",
            "tile/entries/000",
            "tile/entries/001.p/44",
            "tile/1/000.p/1",
            "not/a/tile",
        ] {
            assert!(committed(path, 300), "{path}");
        }
        // What an append from 300 writes, and only a leftover can hold.
        for path in [
            "tile/0/001.p/45",
            "tile/0/001",
            "tile/entries/001",
            "tile/0/002.p/1",
            "tile/1/000.p/2",
            "tile/2/000.p/1",
        ] {
            assert!(!committed(path, 300), "{path}");
        }
        assert!(!committed("tile/0/000.p/1", 0));
    }
}
