//! A monitor of a published log (C2SP tlog-tiles): one [`check`] verifies the checkpoint the
//! log serves with the log's key, compares it with the last one seen (rollback, fork,
//! consistency), recomputes its root from the hash tiles, binds every full tile it reads to its
//! hash in the tile above, and verifies every new entry against its leaf hash and, for guwah
//! records, their signature.
//!
//! The log is read through [`Fetch`], one method the caller implements (over HTTP, a folder,
//! memory); the monitor itself does no I/O, reads no clock and starts no thread. It stops at the
//! first [`Problem`]: what follows a bad tile would be read through it.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

use crate::checkpoint::{Checkpoint, CheckpointError, open_checkpoint};
use crate::merkle::{
    Hash, ProofError, consistency_proof, leaf_hash, root_from_leaf_hashes, tree_root,
    verify_consistency,
};
use crate::note::{MAX_NOTE_SIZE, NoteVerifier};
use crate::record::{EVENT_V1, ITEM_V1, Record, RecordError};
use crate::tiles::{
    EntryBundleId, TILE_WIDTH, TileError, TileId, TileNodeSource, parse_entry_bundle,
    parse_hash_tile,
};

/// Where the monitor reads the log: one object at a time, by its path under the log's base
/// (`checkpoint`, `tile/0/000`, `tile/entries/001.p/7`).
pub trait Fetch {
    /// Why an object could not be read (transport, timeout, an answer over `max`, ...).
    type Error;
    /// The object at `path`, or `None` if the log says it has none. Reads at most `max` bytes:
    /// a longer object is an error.
    fn fetch(&mut self, path: &str, max: usize) -> Result<Option<Vec<u8>>, Self::Error>;
}

/// An object of the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Object {
    /// The signed checkpoint.
    Checkpoint,
    /// A hash tile.
    Tile(TileId),
    /// An entry bundle.
    Bundle(EntryBundleId),
}

impl Object {
    /// Its path under the log's base.
    pub fn path(&self) -> String {
        match self {
            Object::Checkpoint => "checkpoint".into(),
            Object::Tile(id) => id.path(),
            Object::Bundle(id) => id.path(),
        }
    }

    /// What it is, for messages: `checkpoint`, `tile` or `entry bundle`.
    pub fn noun(&self) -> &'static str {
        match self {
            Object::Checkpoint => "checkpoint",
            Object::Tile(_) => "tile",
            Object::Bundle(_) => "entry bundle",
        }
    }
}

/// The stable kind of a [`Problem`], for exit codes, metrics and machine-readable output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The fetcher could not read an object.
    Unreachable,
    /// The log has no object the checkpoint commits to.
    Missing,
    /// The checkpoint does not open with the log's key.
    BadCheckpoint,
    /// The log serves a smaller tree than one seen before.
    Rollback,
    /// The log serves a tree of a size seen before with a different root.
    Fork,
    /// The log serves a larger tree that does not extend the one seen before.
    Inconsistent,
    /// A hash tile is malformed or does not hash to the checkpoint.
    BadTile,
    /// An entry bundle is malformed.
    BadBundle,
    /// An entry is not the one its leaf hash commits to, or is a bad guwah record.
    BadEntry,
}

impl Kind {
    /// The kind as a stable lowercase word: `unreachable`, `missing`, `bad-checkpoint`,
    /// `rollback`, `fork`, `inconsistent`, `bad-tile`, `bad-entry-bundle`, `bad-entry`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Unreachable => "unreachable",
            Kind::Missing => "missing",
            Kind::BadCheckpoint => "bad-checkpoint",
            Kind::Rollback => "rollback",
            Kind::Fork => "fork",
            Kind::Inconsistent => "inconsistent",
            Kind::BadTile => "bad-tile",
            Kind::BadBundle => "bad-entry-bundle",
            Kind::BadEntry => "bad-entry",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What is wrong with a hash tile.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TileFault {
    /// Its length is not 32 bytes per hash of its width.
    Length {
        /// Bytes received.
        got: usize,
    },
    /// A full tile whose hashes do not hash to its entry in the tile above.
    NotBound {
        /// The tile above.
        parent: TileId,
        /// The position of this tile's hash in it.
        position: u16,
    },
}

/// What is wrong with an entry bundle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BundleFault {
    /// It holds fewer entries than its width.
    Truncated {
        /// The first incomplete entry.
        entry: u16,
    },
    /// It has bytes after its last entry.
    Trailing {
        /// Bytes left over.
        extra: usize,
    },
}

/// What is wrong with an entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EntryFault {
    /// Its leaf hash is not the one in the level-0 tile.
    LeafMismatch {
        /// The level-0 tile.
        tile: TileId,
        /// The entry's position in the bundle and the tile.
        position: u16,
    },
    /// A guwah record whose signature does not verify.
    Signature(RecordError),
    /// It starts like a guwah record but does not parse as one.
    Malformed(RecordError),
}

/// The first thing a [`check`] found wrong.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Problem<E> {
    /// The fetcher failed to read an object.
    Unreachable {
        /// The object.
        object: Object,
        /// The fetcher's error.
        error: E,
    },
    /// The log has no such object.
    Missing {
        /// The object.
        object: Object,
    },
    /// The checkpoint is malformed, for another origin, or not signed by the log's key.
    BadCheckpoint(CheckpointError),
    /// The checkpoint's tree is smaller than one seen before.
    Rollback {
        /// The size served.
        size: u64,
        /// The size seen before.
        previous_size: u64,
    },
    /// The checkpoint has the size of one seen before but another root.
    Fork {
        /// The size (of both).
        size: u64,
        /// The root served.
        root: Hash,
        /// The root seen before.
        previous_root: Hash,
    },
    /// A larger checkpoint whose tree does not extend the one seen before.
    Inconsistent {
        /// The size served.
        size: u64,
        /// The size seen before.
        previous_size: u64,
        /// The root seen before.
        previous_root: Hash,
    },
    /// The hash tiles hash to another root than the checkpoint's.
    RootMismatch {
        /// The checkpoint's size.
        size: u64,
        /// The root the tiles hash to.
        tiles_root: Hash,
        /// The checkpoint's root.
        checkpoint_root: Hash,
    },
    /// A hash tile is bad.
    BadTile {
        /// The tile.
        tile: TileId,
        /// What is wrong with it.
        fault: TileFault,
    },
    /// The tiles could not be read as a tree of the checkpoint's size.
    Tiles(TileError),
    /// An entry bundle is bad.
    BadBundle {
        /// The bundle.
        bundle: EntryBundleId,
        /// What is wrong with it.
        fault: BundleFault,
    },
    /// An entry is bad.
    BadEntry {
        /// The entry's index in the log.
        index: u64,
        /// The bundle holding it.
        bundle: EntryBundleId,
        /// What is wrong with it.
        fault: EntryFault,
    },
}

impl<E> Problem<E> {
    /// The problem's stable kind.
    pub fn kind(&self) -> Kind {
        match self {
            Problem::Unreachable { .. } => Kind::Unreachable,
            Problem::Missing { .. } => Kind::Missing,
            Problem::BadCheckpoint(_) => Kind::BadCheckpoint,
            Problem::Rollback { .. } => Kind::Rollback,
            Problem::Fork { .. } => Kind::Fork,
            Problem::Inconsistent { .. } => Kind::Inconsistent,
            Problem::RootMismatch { .. } | Problem::BadTile { .. } | Problem::Tiles(_) => {
                Kind::BadTile
            }
            Problem::BadBundle { .. } => Kind::BadBundle,
            Problem::BadEntry { .. } => Kind::BadEntry,
        }
    }

    /// The problem as one line naming objects by their URL under `base` (the log's base URL).
    pub fn at<'a>(&'a self, base: &'a str) -> At<'a, E> {
        At {
            problem: self,
            base: base.trim_end_matches('/'),
        }
    }
}

/// A [`Problem`] displayed with URLs under a base: see [`Problem::at`].
pub struct At<'a, E> {
    problem: &'a Problem<E>,
    base: &'a str,
}

impl<E: fmt::Display> fmt::Display for At<'_, E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let base = self.base;
        let url = |path: String| {
            if base.is_empty() {
                path
            } else {
                format!("{base}/{path}")
            }
        };
        let log = if base.is_empty() { "the log" } else { base };
        match self.problem {
            Problem::Unreachable {
                object: o @ Object::Checkpoint,
                error,
            } => write!(f, "cannot fetch the checkpoint: {}: {error}", url(o.path())),
            Problem::Unreachable { object, error } => {
                write!(f, "cannot fetch {}: {error}", url(object.path()))
            }
            Problem::Missing {
                object: o @ Object::Checkpoint,
            } => write!(
                f,
                "cannot fetch the checkpoint: {}: not found",
                url(o.path())
            ),
            Problem::Missing { object } => {
                write!(
                    f,
                    "missing {} {}: not found",
                    object.noun(),
                    url(object.path())
                )
            }
            Problem::BadCheckpoint(e) => write!(
                f,
                "bad checkpoint at {}: {e}",
                url(Object::Checkpoint.path())
            ),
            Problem::Rollback {
                size,
                previous_size,
            } => write!(
                f,
                "rollback: {log} serves a checkpoint of size {size}, smaller than size \
                 {previous_size} seen before"
            ),
            Problem::Fork {
                size,
                root,
                previous_root,
            } => write!(
                f,
                "fork: {log} serves size {size} with root {}, but size {size} was seen with root {}",
                B64.encode(root),
                B64.encode(previous_root)
            ),
            Problem::Inconsistent {
                size,
                previous_size,
                previous_root,
            } => write!(
                f,
                "fork: the checkpoint of size {size} at {log} is not consistent with the \
                 checkpoint of size {previous_size} seen before (root {}): the log was rewritten",
                B64.encode(previous_root)
            ),
            Problem::RootMismatch {
                size,
                tiles_root,
                checkpoint_root,
            } => write!(
                f,
                "bad tiles at {log}: they hash to {} but the checkpoint of size {size} says {}",
                B64.encode(tiles_root),
                B64.encode(checkpoint_root)
            ),
            Problem::BadTile {
                tile,
                fault: TileFault::Length { got },
            } => write!(
                f,
                "bad tile {}: expected {} hashes ({} bytes), got {got} bytes",
                url(tile.path()),
                tile.width,
                usize::from(tile.width) * 32
            ),
            Problem::BadTile {
                tile,
                fault: TileFault::NotBound { parent, position },
            } => write!(
                f,
                "bad tile {}: its hashes do not hash to hash {position} of {}",
                url(tile.path()),
                url(parent.path())
            ),
            Problem::Tiles(e) => write!(f, "bad tiles at {log}: {e}"),
            Problem::BadBundle {
                bundle,
                fault: BundleFault::Truncated { entry },
            } => write!(
                f,
                "bad entry bundle {}: expected {} entries, entry {entry} is truncated",
                url(bundle.path()),
                bundle.width
            ),
            Problem::BadBundle {
                bundle,
                fault: BundleFault::Trailing { extra },
            } => write!(
                f,
                "bad entry bundle {}: {extra} bytes after its {} entries",
                url(bundle.path()),
                bundle.width
            ),
            Problem::BadEntry {
                index,
                bundle,
                fault,
            } => {
                write!(f, "bad entry {index} in {}: ", url(bundle.path()))?;
                match fault {
                    EntryFault::LeafMismatch { tile, position } => write!(
                        f,
                        "its leaf hash is not hash {position} of {}",
                        url(tile.path())
                    ),
                    EntryFault::Signature(e) => write!(f, "{e}"),
                    EntryFault::Malformed(e) => write!(f, "malformed guwah record: {e}"),
                }
            }
        }
    }
}

impl<E: fmt::Display> fmt::Display for Problem<E> {
    /// The problem naming objects by their path under the log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.at("").fmt(f)
    }
}

impl<E: fmt::Debug + fmt::Display> std::error::Error for Problem<E> {}

/// A checkpoint that opened with the log's key, and its signed note verbatim.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedCheckpoint {
    /// The checkpoint.
    pub checkpoint: Checkpoint,
    /// The signed note as served.
    pub note: Vec<u8>,
}

/// What a [`check`] verified (counts are of what passed).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Checked {
    /// The size of the earlier checkpoint the served one was compared with.
    pub previous_size: Option<u64>,
    /// The root recomputed from the hash tiles is the checkpoint's.
    pub root: bool,
    /// The earlier checkpoint's tree is a prefix of the served one (equal, or proved).
    pub consistent: bool,
    /// Hash tiles fetched (each once).
    pub tiles: u64,
    /// Full hash tiles whose hashes hash to their entry in the tile above.
    pub tiles_bound: u64,
    /// Entry bundles fetched and parsed.
    pub bundles: u64,
    /// New entries whose leaf hash is in the level-0 tile.
    pub entries: u64,
    /// Of those, guwah records whose signature verified.
    pub records: u64,
    /// Of those, entries that are not guwah records.
    pub others: u64,
}

/// How a [`check`] ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome<E> {
    /// Every check passed: the served checkpoint is the one to compare the next check with.
    Verified(SignedCheckpoint),
    /// A check failed.
    Failed {
        /// What was wrong.
        problem: Problem<E>,
        /// The served checkpoint, if it opened with the log's key: with the one seen before,
        /// the signed evidence of a rollback or fork. Not to be remembered as verified.
        served: Option<SignedCheckpoint>,
    },
}

/// What one [`check`] of a log found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report<E> {
    /// What was verified before the check ended.
    pub checked: Checked,
    /// The verified checkpoint, or the problem.
    pub outcome: Outcome<E>,
}

impl<E> Report<E> {
    /// The problem, if a check failed.
    pub fn problem(&self) -> Option<&Problem<E>> {
        match &self.outcome {
            Outcome::Failed { problem, .. } => Some(problem),
            Outcome::Verified(_) => None,
        }
    }

    /// The verified checkpoint, if every check passed.
    pub fn verified(&self) -> Option<&SignedCheckpoint> {
        match &self.outcome {
            Outcome::Verified(s) => Some(s),
            Outcome::Failed { .. } => None,
        }
    }
}

/// The most bytes of an entry bundle of `width` entries: each a u16 length and at most 65,535
/// bytes.
fn max_bundle(width: u16) -> usize {
    usize::from(width) * (2 + usize::from(u16::MAX))
}

/// Checks the log `log` serves against `last`, the checkpoint the previous check verified
/// (`None` the first time). `key` is the log's key; its name is the log's origin.
///
/// New entries are those past `last`'s size (all of them the first time); the tiles read for
/// them are bound to the checkpoint, so entries seen before are not read again.
pub fn check<F: Fetch>(
    log: &mut F,
    key: &dyn NoteVerifier,
    last: Option<&Checkpoint>,
) -> Report<F::Error> {
    let mut run = Run {
        log,
        checked: Checked::default(),
        upper: BTreeMap::new(),
        recent: Vec::new(),
        bound: BTreeSet::new(),
    };
    let outcome = match run.checkpoint(key) {
        Err(problem) => Outcome::Failed {
            problem,
            served: None,
        },
        Ok(served) => match run.tree(&served.checkpoint, last) {
            Ok(()) => Outcome::Verified(served),
            Err(problem) => Outcome::Failed {
                problem,
                served: Some(served),
            },
        },
    };
    Report {
        checked: run.checked,
        outcome,
    }
}

/// Level-0 tiles kept: the one being bound and checked against its bundle, and the previous.
const RECENT_TILES: usize = 2;

/// One check's state: the fetcher, what passed, and the tiles already read.
struct Run<'f, F: Fetch> {
    log: &'f mut F,
    checked: Checked,
    /// Tiles above level 0, every one read: few (1/256 of the level below) and read often.
    upper: BTreeMap<TileId, Vec<u8>>,
    recent: Vec<(TileId, Vec<u8>)>,
    /// Full tiles bound to the tile above.
    bound: BTreeSet<TileId>,
}

impl<F: Fetch> Run<'_, F> {
    fn get(&mut self, object: Object, max: usize) -> Result<Vec<u8>, Problem<F::Error>> {
        match self.log.fetch(&object.path(), max) {
            Ok(Some(bytes)) => Ok(bytes),
            Ok(None) => Err(Problem::Missing { object }),
            Err(error) => Err(Problem::Unreachable { object, error }),
        }
    }

    fn checkpoint(
        &mut self,
        key: &dyn NoteVerifier,
    ) -> Result<SignedCheckpoint, Problem<F::Error>> {
        let note = self.get(Object::Checkpoint, MAX_NOTE_SIZE)?;
        let (checkpoint, _) =
            open_checkpoint(&note, &[key], key.name()).map_err(Problem::BadCheckpoint)?;
        Ok(SignedCheckpoint { checkpoint, note })
    }

    /// Everything after the checkpoint's signature: history, root, consistency, entries.
    fn tree(
        &mut self,
        cp: &Checkpoint,
        last: Option<&Checkpoint>,
    ) -> Result<(), Problem<F::Error>> {
        if let Some(old) = last {
            self.checked.previous_size = Some(old.size);
            if cp.size < old.size {
                return Err(Problem::Rollback {
                    size: cp.size,
                    previous_size: old.size,
                });
            }
            if cp.size == old.size && cp.root != old.root {
                return Err(Problem::Fork {
                    size: cp.size,
                    root: cp.root,
                    previous_root: old.root,
                });
            }
        }
        let root = self.root(cp.size)?;
        if root != cp.root {
            return Err(Problem::RootMismatch {
                size: cp.size,
                tiles_root: root,
                checkpoint_root: cp.root,
            });
        }
        self.checked.root = true;
        let from = match last {
            Some(old) if old.size > 0 && old.size < cp.size => {
                self.consistency(old, cp)?;
                old.size
            }
            Some(old) => old.size,
            None => 0,
        };
        self.checked.consistent = last.is_some();
        self.entries(cp.size, from)
    }

    /// The root of the tree of `size` as the tiles hold it.
    fn root(&mut self, size: u64) -> Result<Hash, Problem<F::Error>> {
        let mut src = TileNodeSource::new(size, |id| self.tile(id));
        tree_root(size, &mut src).map_err(node_problem)
    }

    /// That `old`'s tree is a prefix of `new`'s: a consistency proof read from `new`'s tiles
    /// (already bound to its root) must lead to both roots. `old`'s own partial tiles are not
    /// needed, so a log that has pruned them, or a fork that never had them, is judged on the
    /// proof alone.
    fn consistency(&mut self, old: &Checkpoint, new: &Checkpoint) -> Result<(), Problem<F::Error>> {
        let inconsistent = || Problem::Inconsistent {
            size: new.size,
            previous_size: old.size,
            previous_root: old.root,
        };
        let proof = {
            let mut src = TileNodeSource::new(new.size, |id| self.tile(id));
            consistency_proof(old.size, new.size, &mut src)
        };
        let proof = match proof {
            Ok(proof) => proof,
            Err(ProofError::Node(e)) => return Err(node_problem(e)),
            // Only for old > new, excluded above; unproved is treated as not consistent.
            Err(_) => return Err(inconsistent()),
        };
        verify_consistency(old.size, new.size, &proof, &old.root, &new.root)
            .map_err(|_| inconsistent())
    }

    /// A hash tile's bytes, of the right length; each tile is fetched once per check.
    fn tile(&mut self, id: TileId) -> Result<Vec<u8>, Problem<F::Error>> {
        if let Some(bytes) = self.upper.get(&id) {
            return Ok(bytes.clone());
        }
        if let Some((_, bytes)) = self.recent.iter().find(|(t, _)| *t == id) {
            return Ok(bytes.clone());
        }
        // One byte over the exact size tells "too long" apart from "larger than asked".
        let bytes = self.get(Object::Tile(id), usize::from(id.width) * 32 + 1)?;
        self.checked.tiles += 1;
        if let Err(TileError::TileLength { got, .. }) = parse_hash_tile(id, &bytes) {
            return Err(Problem::BadTile {
                tile: id,
                fault: TileFault::Length { got },
            });
        }
        if id.level > 0 {
            self.upper.insert(id, bytes.clone());
        } else {
            if self.recent.len() == RECENT_TILES {
                self.recent.remove(0);
            }
            self.recent.push((id, bytes.clone()));
        }
        Ok(bytes)
    }

    fn hashes(&mut self, id: TileId) -> Result<Vec<Hash>, Problem<F::Error>> {
        let bytes = self.tile(id)?;
        parse_hash_tile(id, &bytes).map_err(Problem::Tiles)
    }

    /// Checks that a full tile hashes to its entry in the tile above, and so on up to a
    /// partial tile (which the root computation covers).
    fn bind(&mut self, size: u64, mut id: TileId) -> Result<(), Problem<F::Error>> {
        while id.width == TILE_WIDTH && !self.bound.contains(&id) {
            let hashes = self.hashes(id)?;
            let parent = tile_at(size, id.level + 1, id.index);
            let above = self.hashes(parent)?;
            let position = (id.index & 0xff) as u16;
            if above.get(usize::from(position)) != Some(&root_from_leaf_hashes(&hashes)) {
                return Err(Problem::BadTile {
                    tile: id,
                    fault: TileFault::NotBound { parent, position },
                });
            }
            self.bound.insert(id);
            self.checked.tiles_bound += 1;
            id = parent;
        }
        Ok(())
    }

    /// Verifies entries `from..size`: each against its leaf hash in the (bound) level-0 tile,
    /// and each guwah record's signature.
    fn entries(&mut self, size: u64, from: u64) -> Result<(), Problem<F::Error>> {
        if from >= size {
            return Ok(());
        }
        for index in (from >> 8)..=((size - 1) >> 8) {
            let width = tile_at(size, 0, index << 8).width;
            let id = EntryBundleId { index, width };
            self.bind(size, id.tile())?;
            let bytes = self.get(Object::Bundle(id), max_bundle(width))?;
            let entries = parse_entry_bundle(id, &bytes).map_err(|e| bundle_problem(id, e))?;
            self.checked.bundles += 1;
            let hashes = self.hashes(id.tile())?;
            let first = index << 8;
            for (position, (entry, hash)) in (0u16..).zip(entries.iter().zip(&hashes)) {
                let index = first + u64::from(position);
                if index < from {
                    continue;
                }
                let bad = |fault| Problem::BadEntry {
                    index,
                    bundle: id,
                    fault,
                };
                if leaf_hash(entry) != *hash {
                    return Err(bad(EntryFault::LeafMismatch {
                        tile: id.tile(),
                        position,
                    }));
                }
                match Record::parse(entry) {
                    Ok(r) => {
                        r.verify_signature()
                            .map_err(|e| bad(EntryFault::Signature(e)))?;
                        self.checked.records += 1;
                    }
                    Err(e) if looks_like_record(entry) => {
                        return Err(bad(EntryFault::Malformed(e)));
                    }
                    Err(_) => self.checked.others += 1,
                }
                self.checked.entries += 1;
            }
        }
        Ok(())
    }
}

/// Whether an entry's first line names a guwah record type (so it must parse as one).
fn looks_like_record(entry: &[u8]) -> bool {
    [ITEM_V1, EVENT_V1].iter().any(|t| {
        entry
            .strip_prefix(t.as_bytes())
            .is_some_and(|rest| rest.first() == Some(&b'\n'))
    })
}

/// The tile holding hash `index` of level `level` in a tree of `size`.
fn tile_at(size: u64, level: u8, index: u64) -> TileId {
    let count = size.checked_shr(u32::from(level) * 8).unwrap_or(0);
    let width = if index >> 8 < count >> 8 {
        TILE_WIDTH
    } else {
        (count & 0xff) as u16
    };
    TileId {
        level,
        index: index >> 8,
        width,
    }
}

fn bundle_problem<E>(bundle: EntryBundleId, e: TileError) -> Problem<E> {
    let fault = match e {
        TileError::BundleTruncated { entry, .. } => BundleFault::Truncated { entry },
        TileError::BundleTrailing { extra, .. } => BundleFault::Trailing { extra },
        other => return Problem::Tiles(other),
    };
    Problem::BadBundle { bundle, fault }
}

/// A [`TileNodeSource`] error: the problem met while fetching, or the tiles' own error.
fn node_problem<E>(e: TileError<Problem<E>>) -> Problem<E> {
    use TileError as T;
    Problem::Tiles(match e {
        T::Fetch { error, .. } => return error,
        T::Path { path, reason } => T::Path { path, reason },
        T::Coordinate { level, width } => T::Coordinate { level, width },
        T::TileLength { path, width, got } => T::TileLength { path, width, got },
        T::BundleTruncated { path, width, entry } => T::BundleTruncated { path, width, entry },
        T::BundleTrailing { path, width, extra } => T::BundleTrailing { path, width, extra },
        T::EntryTooLong { entry, len } => T::EntryTooLong { entry, len },
        T::SizeOverflow { old_size, added } => T::SizeOverflow { old_size, added },
        T::NodeOutOfRange { level, index, size } => T::NodeOutOfRange { level, index, size },
        T::LeafMismatch {
            tile,
            bundle,
            position,
        } => T::LeafMismatch {
            tile,
            bundle,
            position,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checkpoint::sign_checkpoint;
    use crate::note::Signer;
    use crate::record::ItemRecord;
    use crate::tiles::append_entries;
    use ed25519_dalek::SigningKey;

    const ORIGIN: &str = "example.org/monitor-test";
    const BASE: &str = "https://log.example/";

    /// A log as a static tlog-tiles server holds it, in memory.
    #[derive(Clone, Default)]
    struct Log {
        files: BTreeMap<String, Vec<u8>>,
        size: u64,
        /// Paths whose fetch fails, as a dropped connection would.
        down: BTreeSet<String>,
        /// Fetches per path.
        fetched: BTreeMap<String, usize>,
    }

    impl Fetch for Log {
        type Error = String;
        fn fetch(&mut self, path: &str, max: usize) -> Result<Option<Vec<u8>>, String> {
            *self.fetched.entry(path.into()).or_default() += 1;
            if self.down.contains(path) {
                return Err("connection reset".into());
            }
            match self.files.get(path) {
                Some(b) if b.len() > max => Err(format!("larger than {max} bytes")),
                b => Ok(b.cloned()),
            }
        }
    }

    fn log_key() -> Signer {
        Signer::generate(ORIGIN, [9; 32]).unwrap()
    }

    /// Entry `i` of a test log: every tenth a signed guwah record, the others plain bytes.
    fn entry(tag: &str, i: u64) -> Vec<u8> {
        if !i.is_multiple_of(10) {
            return format!("{tag} entry {i}").into_bytes();
        }
        let mut r = ItemRecord {
            media_type: "text/plain".into(),
            size: i,
            sha256: leaf_hash(tag.as_bytes()),
            sealed_at: "2026-03-01T12:00:00Z".into(),
            collector: [0; 32],
            fields: Vec::new(),
            signature: [0; 64],
        };
        r.sign(&SigningKey::from_bytes(&[7; 32])).unwrap();
        Record::Item(r).encode()
    }

    impl Log {
        /// Appends entries with the core's appender and publishes a checkpoint for them.
        fn append(&mut self, entries: &[Vec<u8>]) -> Checkpoint {
            let added = {
                let files = &self.files;
                let read = |p: String| files.get(&p).cloned().ok_or("absent");
                let tiles = |id: TileId| read(id.path());
                append_entries(self.size, entries, tiles, |id: EntryBundleId| {
                    read(id.path())
                })
                .unwrap()
            };
            for (id, b) in added.tiles {
                self.files.insert(id.path(), b);
            }
            for (id, b) in added.bundles {
                self.files.insert(id.path(), b);
            }
            self.size += entries.len() as u64;
            let root = {
                let files = &self.files;
                let read = |id: TileId| files.get(&id.path()).cloned().ok_or("absent");
                tree_root(self.size, &mut TileNodeSource::new(self.size, read)).unwrap()
            };
            let cp = Checkpoint {
                origin: ORIGIN.into(),
                size: self.size,
                root,
                extensions: Vec::new(),
            };
            self.publish(&cp);
            cp
        }

        fn publish(&mut self, cp: &Checkpoint) {
            let note = sign_checkpoint(cp, &log_key()).unwrap();
            self.files.insert("checkpoint".into(), note.into_bytes());
        }

        /// Appends `n` entries numbered on from the log's size.
        fn grow(&mut self, tag: &str, n: u64) -> Checkpoint {
            let entries: Vec<Vec<u8>> = (self.size..self.size + n).map(|i| entry(tag, i)).collect();
            self.append(&entries)
        }

        fn damage(&mut self, path: &str, f: impl FnOnce(&mut Vec<u8>)) {
            f(self.files.get_mut(path).unwrap());
        }

        fn check(&mut self, last: Option<&Checkpoint>) -> Report<String> {
            self.fetched.clear();
            check(self, &log_key().verifier(), last)
        }
    }

    /// A log of 263 entries (3, then 260: a full tile and a partial one, old partials kept).
    fn log() -> (Log, Checkpoint) {
        let mut log = Log::default();
        log.grow("first", 3);
        let cp = log.grow("second", 260);
        (log, cp)
    }

    /// The problem of a failed check, after checking that nothing is offered as verified.
    fn problem(report: Report<String>) -> Problem<String> {
        assert!(report.verified().is_none());
        match report.outcome {
            Outcome::Failed { problem, .. } => problem,
            Outcome::Verified(_) => panic!("the check passed: {:?}", report.checked),
        }
    }

    #[test]
    fn follows_a_growing_log_reading_each_object_once() {
        let (mut log, cp) = log();
        let report = log.check(None);
        let Outcome::Verified(first) = &report.outcome else {
            panic!("{:?}", report.problem().map(|p| p.to_string()));
        };
        assert_eq!(first.checkpoint, cp);
        assert_eq!(first.note, log.files["checkpoint"]);
        let c = &report.checked;
        assert_eq!((c.entries, c.records, c.others), (263, 27, 236));
        assert_eq!((c.bundles, c.tiles_bound), (2, 1));
        assert!(c.root && !c.consistent && c.previous_size.is_none());
        assert!(log.fetched.values().all(|n| *n == 1), "{:?}", log.fetched);
        assert_eq!(c.tiles as usize, log.fetched.len() - 3);

        let grown = log.grow("third", 2);
        let report = log.check(Some(&cp));
        assert_eq!(report.verified().unwrap().checkpoint, grown);
        let c = &report.checked;
        assert_eq!((c.entries, c.records, c.others), (2, 0, 2));
        assert!(c.root && c.consistent && c.previous_size == Some(263));
        // Only the new entries' bundle is read again.
        assert!(!log.fetched.contains_key("tile/entries/000"));

        let report = log.check(Some(&grown));
        assert_eq!(report.verified().unwrap().checkpoint, grown);
        assert_eq!(
            (report.checked.entries, report.checked.consistent),
            (0, true)
        );
    }

    #[test]
    fn rollback_is_a_smaller_checkpoint_than_one_seen() {
        let (mut log, old) = log();
        let old_note = log.files["checkpoint"].clone();
        let seen = log.grow("third", 2);
        log.files.insert("checkpoint".into(), old_note.clone());
        let report = log.check(Some(&seen));
        // The signed smaller checkpoint is kept: it is the evidence.
        let Outcome::Failed {
            served: Some(served),
            ..
        } = &report.outcome
        else {
            panic!("{:?}", report.outcome);
        };
        assert_eq!((&served.checkpoint, &served.note), (&old, &old_note));
        let p = problem(report);
        assert_eq!(
            p,
            Problem::Rollback {
                size: 263,
                previous_size: 265
            }
        );
        assert_eq!(p.kind().as_str(), "rollback");
        assert_eq!(
            p.at(BASE).to_string(),
            "rollback: https://log.example serves a checkpoint of size 263, smaller than size \
             265 seen before"
        );
    }

    #[test]
    fn fork_is_the_same_size_with_another_root() {
        let (mut log, _) = log();
        let mut fork = log.clone();
        let seen = log.grow("third", 2);
        let forked = fork.grow("forked", 2);
        let p = problem(fork.check(Some(&seen)));
        assert_eq!(
            p,
            Problem::Fork {
                size: 265,
                root: forked.root,
                previous_root: seen.root
            }
        );
        assert_eq!(p.kind(), Kind::Fork);
        assert!(
            p.at(BASE)
                .to_string()
                .starts_with("fork: https://log.example serves size 265 with root ")
        );
    }

    #[test]
    fn longer_fork_is_not_consistent_with_a_smaller_checkpoint_seen() {
        let (mut log, seen) = log();
        // Diverged after three entries, so it never had the seen tree's partial tiles.
        let mut fork = Log::default();
        fork.grow("first", 3);
        fork.grow("rewritten", 300);
        let p = problem(fork.check(Some(&seen)));
        assert_eq!(
            p,
            Problem::Inconsistent {
                size: 303,
                previous_size: 263,
                previous_root: seen.root
            }
        );
        assert_eq!(p.kind(), Kind::Inconsistent);
        assert!(
            p.to_string()
                .contains("is not consistent with the checkpoint of size 263")
        );
        // The honest log, grown as far, is consistent, even with the seen tree's partial tiles
        // pruned (the proof is read from the new tree's tiles).
        log.grow("third", 40);
        log.files.remove("tile/0/001.p/7").unwrap();
        let report = log.check(Some(&seen));
        assert!(report.verified().is_some(), "{:?}", report.problem());
        assert!(report.checked.consistent);
    }

    #[test]
    fn bad_tiles_are_named() {
        let (log, _) = log();
        // A flipped hash in the full tile: the root (read from the tile above) still matches,
        // but the tile no longer hashes to its entry there.
        let mut bad = log.clone();
        bad.damage("tile/0/000", |b| b[100] ^= 1);
        let p = problem(bad.check(None));
        let parent = TileId::new(1, 0, 1).unwrap();
        assert_eq!(
            p,
            Problem::BadTile {
                tile: TileId::new(0, 0, 256).unwrap(),
                fault: TileFault::NotBound {
                    parent,
                    position: 0
                }
            }
        );
        assert_eq!(
            p.at(BASE).to_string(),
            "bad tile https://log.example/tile/0/000: its hashes do not hash to hash 0 of \
             https://log.example/tile/1/000.p/1"
        );
        // A truncated partial tile, and one a byte too long.
        for (damage, got) in [(-1, 223), (1, 225)] {
            let mut bad = log.clone();
            bad.damage("tile/0/001.p/7", |b| {
                if damage < 0 {
                    b.pop();
                } else {
                    b.push(0);
                }
            });
            let p = problem(bad.check(None));
            assert_eq!(
                p,
                Problem::BadTile {
                    tile: TileId::new(0, 1, 7).unwrap(),
                    fault: TileFault::Length { got }
                }
            );
            assert_eq!(p.kind().as_str(), "bad-tile");
            assert!(p.at(BASE).to_string().starts_with(
                "bad tile https://log.example/tile/0/001.p/7: expected 7 hashes (224 bytes)"
            ));
        }
        // A flipped hash in the partial tile: the tiles no longer hash to the checkpoint.
        let mut bad = log.clone();
        bad.damage("tile/0/001.p/7", |b| b[0] ^= 1);
        let p = problem(bad.check(None));
        assert!(
            matches!(p, Problem::RootMismatch { size: 263, .. }),
            "{p:?}"
        );
        assert_eq!(p.kind(), Kind::BadTile);
    }

    #[test]
    fn bad_entry_bundles_are_named() {
        let (log, _) = log();
        let partial = EntryBundleId::new(1, 7).unwrap();
        let mut bad = log.clone();
        bad.damage("tile/entries/001.p/7", |b| {
            b.pop();
        });
        let p = problem(bad.check(None));
        assert_eq!(
            p,
            Problem::BadBundle {
                bundle: partial,
                fault: BundleFault::Truncated { entry: 6 }
            }
        );
        assert_eq!(p.kind().as_str(), "bad-entry-bundle");
        assert_eq!(
            p.at(BASE).to_string(),
            "bad entry bundle https://log.example/tile/entries/001.p/7: expected 7 entries, \
             entry 6 is truncated"
        );
        let mut bad = log.clone();
        bad.damage("tile/entries/001.p/7", |b| b.extend_from_slice(b"xy"));
        let p = problem(bad.check(None));
        assert_eq!(
            p,
            Problem::BadBundle {
                bundle: partial,
                fault: BundleFault::Trailing { extra: 2 }
            }
        );
        // A changed byte inside an entry: the bundle parses, the leaf hash is wrong.
        let mut bad = log.clone();
        bad.damage("tile/entries/000", |b| b[5] ^= 1);
        let p = problem(bad.check(None));
        assert_eq!(
            p,
            Problem::BadEntry {
                index: 0,
                bundle: EntryBundleId::new(0, 256).unwrap(),
                fault: EntryFault::LeafMismatch {
                    tile: TileId::new(0, 0, 256).unwrap(),
                    position: 0
                }
            }
        );
        assert_eq!(p.kind(), Kind::BadEntry);
    }

    #[test]
    fn guwah_records_must_verify_and_parse() {
        // A log that faithfully commits a record whose signature is broken.
        let (mut log, seen) = log();
        let mut forged = entry("forged", 0);
        let at = forged.len() - 10;
        forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
        log.append(&[entry("ok", 1), forged]);
        let p = problem(log.check(Some(&seen)));
        let bundle = EntryBundleId::new(1, 9).unwrap();
        assert!(
            matches!(
                &p,
                Problem::BadEntry { index: 264, bundle: b, fault: EntryFault::Signature(_) }
                    if *b == bundle
            ),
            "{p:?}"
        );
        assert!(p.at(BASE).to_string().starts_with(
            "bad entry 264 in https://log.example/tile/entries/001.p/9: record signature"
        ));
        // One that starts like a record but is not one.
        let (mut log, seen) = self::log();
        log.append(&[format!("{ITEM_V1}\nnonsense\n").into_bytes()]);
        let p = problem(log.check(Some(&seen)));
        assert!(
            matches!(
                &p,
                Problem::BadEntry {
                    index: 263,
                    fault: EntryFault::Malformed(_),
                    ..
                }
            ),
            "{p:?}"
        );
        assert!(
            p.to_string()
                .contains(": malformed guwah record: record line")
        );
    }

    #[test]
    fn bad_checkpoint_signatures_are_refused() {
        let (log, cp) = log();
        // Another key of the same name.
        let mut bad = log.clone();
        let other = Signer::generate(ORIGIN, [10; 32]).unwrap();
        let note = sign_checkpoint(&cp, &other).unwrap();
        bad.files.insert("checkpoint".into(), note.into_bytes());
        let report = bad.check(None);
        assert!(matches!(
            report.outcome,
            Outcome::Failed {
                served: None,
                problem: Problem::BadCheckpoint(_)
            }
        ));
        let p = problem(report);
        assert_eq!(p.kind().as_str(), "bad-checkpoint");
        assert!(
            p.at(BASE)
                .to_string()
                .starts_with("bad checkpoint at https://log.example/checkpoint: "),
            "{p}"
        );
        // The log's signature over another text: the size changed after signing.
        let mut bad = log.clone();
        bad.damage("checkpoint", |b| {
            let text = String::from_utf8(b.clone()).unwrap();
            *b = text.replacen("\n263\n", "\n264\n", 1).into_bytes();
        });
        assert_eq!(problem(bad.check(None)).kind(), Kind::BadCheckpoint);
        assert_eq!(
            bad.fetched.len(),
            1,
            "nothing is read past a bad checkpoint"
        );
    }

    #[test]
    fn unreachable_and_missing_objects_are_named() {
        let (log, _) = log();
        let mut bad = log.clone();
        bad.down.insert("checkpoint".into());
        let p = problem(bad.check(None));
        assert_eq!(
            p,
            Problem::Unreachable {
                object: Object::Checkpoint,
                error: "connection reset".into()
            }
        );
        assert_eq!(
            p.at(BASE).to_string(),
            "cannot fetch the checkpoint: https://log.example/checkpoint: connection reset"
        );
        let mut bad = log.clone();
        bad.down.insert("tile/1/000.p/1".into());
        let p = problem(bad.check(None));
        assert_eq!(p.kind().as_str(), "unreachable");
        assert_eq!(
            p.at(BASE).to_string(),
            "cannot fetch https://log.example/tile/1/000.p/1: connection reset"
        );
        // More than the largest bundle of its width: the fetcher stops reading.
        let mut bad = log.clone();
        bad.damage("tile/entries/001.p/7", |b| b.resize(max_bundle(7) + 1, 0));
        let p = problem(bad.check(None));
        assert!(
            matches!(
                &p,
                Problem::Unreachable {
                    object: Object::Bundle(_),
                    ..
                }
            ),
            "{p:?}"
        );
        let mut bad = log.clone();
        bad.files.remove("tile/entries/000");
        let p = problem(bad.check(None));
        let object = Object::Bundle(EntryBundleId::new(0, 256).unwrap());
        assert_eq!(p, Problem::Missing { object });
        assert_eq!(p.kind().as_str(), "missing");
        assert_eq!(
            p.at(BASE).to_string(),
            "missing entry bundle https://log.example/tile/entries/000: not found"
        );
        let mut bad = log.clone();
        bad.files.remove("checkpoint");
        let p = problem(bad.check(None));
        assert_eq!(
            p,
            Problem::Missing {
                object: Object::Checkpoint
            }
        );
    }
}
