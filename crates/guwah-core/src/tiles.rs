//! C2SP tlog-tiles (<https://c2sp.org/tlog-tiles>): tile paths, hash tiles, entry bundles,
//! appending to a tiled tree, and reading tree nodes back from tiles.
//!
//! A level-`L` tile holds up to 256 consecutive hashes at tree level `8 * L`; every tile path
//! is immutable, so a tree that grows gets new (wider or next) tiles, never rewritten ones.

use crate::merkle::{Hash, NodeSource, leaf_hash, node_hash, root_from_leaf_hashes};
use core::convert::Infallible;
use core::fmt;
use thiserror::Error;

/// Tree levels covered by one tile.
pub const TILE_HEIGHT: u8 = 8;
/// Hashes in a full tile, and entries in a full entry bundle.
pub const TILE_WIDTH: u16 = 256;
/// The highest tile level a path may name.
pub const MAX_LEVEL: u8 = 63;

/// Errors from tile paths, tile contents and the callers' tile fetches (`E`).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum TileError<E = Infallible> {
    /// A path that is not a canonical tile or entry bundle path.
    #[error("{path:?}: not a canonical tile path: {reason}")]
    Path {
        /// The offending path.
        path: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// A tile coordinate outside the spec's ranges.
    #[error("tile level {level}, width {width}: level must be at most 63 and width 1..=256")]
    Coordinate {
        /// The level given.
        level: u8,
        /// The width given.
        width: u16,
    },
    /// A hash tile whose length is not `width * 32`.
    #[error("{path}: expected {width} hashes ({} bytes), got {got} bytes", tile_bytes(.width))]
    TileLength {
        /// The tile's path.
        path: String,
        /// Its width in hashes.
        width: u16,
        /// Bytes received.
        got: usize,
    },
    /// An entry bundle that holds fewer entries than its width.
    #[error("{path}: expected {width} entries, entry {entry} is truncated")]
    BundleTruncated {
        /// The bundle's path.
        path: String,
        /// Its width in entries.
        width: u16,
        /// The first incomplete entry.
        entry: u16,
    },
    /// An entry bundle with bytes after its last entry.
    #[error("{path}: {extra} bytes of trailing data after {width} entries")]
    BundleTrailing {
        /// The bundle's path.
        path: String,
        /// Its width in entries.
        width: u16,
        /// Bytes left over.
        extra: usize,
    },
    /// An entry too long for a bundle's u16 length prefix.
    #[error("entry {entry} of the batch is {len} bytes; entry bundles hold at most 65535")]
    EntryTooLong {
        /// Position in the batch.
        entry: usize,
        /// Its length.
        len: usize,
    },
    /// Appending would overflow the tree size.
    #[error("tree size {old_size} plus {added} entries overflows u64")]
    SizeOverflow {
        /// The old size.
        old_size: u64,
        /// Entries added.
        added: usize,
    },
    /// A node that is not a complete subtree of the tree being read.
    #[error("no complete subtree at level {level}, index {index} in a tree of size {size}")]
    NodeOutOfRange {
        /// The requested height.
        level: u8,
        /// The requested position.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// A level-0 tile hash that is not the leaf hash of the matching bundle entry.
    #[error("{tile}: hash {position} is not the leaf hash of entry {position} of {bundle}")]
    LeafMismatch {
        /// The level-0 tile's path.
        tile: String,
        /// The bundle's path.
        bundle: String,
        /// Position within both.
        position: u16,
    },
    /// The caller's fetch failed.
    #[error("{path}: could not be read: {error}")]
    Fetch {
        /// The path being fetched.
        path: String,
        /// The caller's error.
        error: E,
    },
}

impl TileError {
    /// Widens a fetch-free error to any fetch error type.
    pub fn widen<E>(self) -> TileError<E> {
        match self {
            Self::Path { path, reason } => TileError::Path { path, reason },
            Self::Coordinate { level, width } => TileError::Coordinate { level, width },
            Self::TileLength { path, width, got } => TileError::TileLength { path, width, got },
            Self::BundleTruncated { path, width, entry } => {
                TileError::BundleTruncated { path, width, entry }
            }
            Self::BundleTrailing { path, width, extra } => {
                TileError::BundleTrailing { path, width, extra }
            }
            Self::EntryTooLong { entry, len } => TileError::EntryTooLong { entry, len },
            Self::SizeOverflow { old_size, added } => TileError::SizeOverflow { old_size, added },
            Self::NodeOutOfRange { level, index, size } => {
                TileError::NodeOutOfRange { level, index, size }
            }
            Self::LeafMismatch {
                tile,
                bundle,
                position,
            } => TileError::LeafMismatch {
                tile,
                bundle,
                position,
            },
            Self::Fetch { error, .. } => match error {},
        }
    }
}

/// A hash tile: `level`, `index` within the level, and `width` in hashes (256 = full).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TileId {
    /// Tile level (0..=63); it holds hashes at tree level `8 * level`.
    pub level: u8,
    /// Tile index within the level.
    pub index: u64,
    /// Hashes in the tile, 1..=256; fewer than 256 makes a partial tile.
    pub width: u16,
}

/// An entry bundle: `index` and `width` in entries (256 = full), parallel to level-0 tiles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryBundleId {
    /// Bundle index; it holds entries `index * 256 ..`.
    pub index: u64,
    /// Entries in the bundle, 1..=256; fewer than 256 makes a partial bundle.
    pub width: u16,
}

impl TileId {
    /// A validated tile coordinate.
    pub fn new(level: u8, index: u64, width: u16) -> Result<Self, TileError> {
        if level > MAX_LEVEL || !(1..=TILE_WIDTH).contains(&width) {
            return Err(TileError::Coordinate { level, width });
        }
        Ok(Self {
            level,
            index,
            width,
        })
    }

    /// The path `tile/<L>/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        self.to_string()
    }

    /// Parses a canonical `tile/<L>/<N>[.p/<W>]` path.
    pub fn parse_path(path: &str) -> Result<Self, TileError> {
        let bad = |reason| TileError::Path {
            path: path.into(),
            reason,
        };
        let rest = path
            .strip_prefix("tile/")
            .ok_or(bad("missing tile/ prefix"))?;
        let (level, rest) = rest.split_once('/').ok_or(bad("missing tile index"))?;
        let level = decimal(level).ok_or(bad("level is not a canonical decimal"))?;
        let level = u8::try_from(level)
            .ok()
            .filter(|l| *l <= MAX_LEVEL)
            .ok_or(bad("level is above 63"))?;
        let (index, width) = index_and_width(rest).map_err(bad)?;
        Ok(Self {
            level,
            index,
            width,
        })
    }
}

impl fmt::Display for TileId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "tile/{}/", self.level)?;
        write_index_and_width(f, self.index, self.width)
    }
}

impl EntryBundleId {
    /// A validated entry bundle coordinate.
    pub fn new(index: u64, width: u16) -> Result<Self, TileError> {
        TileId::new(0, index, width)?;
        Ok(Self { index, width })
    }

    /// The path `tile/entries/<N>[.p/<W>]`.
    pub fn path(&self) -> String {
        self.to_string()
    }

    /// Parses a canonical `tile/entries/<N>[.p/<W>]` path.
    pub fn parse_path(path: &str) -> Result<Self, TileError> {
        let rest = path.strip_prefix("tile/entries/").ok_or(TileError::Path {
            path: path.into(),
            reason: "missing tile/entries/ prefix",
        })?;
        let (index, width) = index_and_width(rest).map_err(|reason| TileError::Path {
            path: path.into(),
            reason,
        })?;
        Ok(Self { index, width })
    }

    /// The level-0 tile holding these entries' leaf hashes.
    pub fn tile(&self) -> TileId {
        TileId {
            level: 0,
            index: self.index,
            width: self.width,
        }
    }
}

impl fmt::Display for EntryBundleId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tile/entries/")?;
        write_index_and_width(f, self.index, self.width)
    }
}

fn write_index_and_width(f: &mut fmt::Formatter<'_>, index: u64, width: u16) -> fmt::Result {
    // u64::MAX has 20 digits: at most 7 groups of three.
    let mut groups = [0u16; 7];
    let (mut n, mut len) = (index, 0);
    loop {
        groups[len] = (n % 1000) as u16;
        len += 1;
        n /= 1000;
        if n == 0 {
            break;
        }
    }
    for g in groups[1..len].iter().rev() {
        write!(f, "x{g:03}/")?;
    }
    write!(f, "{:03}", groups[0])?;
    if width != TILE_WIDTH {
        write!(f, ".p/{width}")?;
    }
    Ok(())
}

/// A decimal with no sign and no leading zeros.
fn decimal(s: &str) -> Option<u64> {
    let canonical = s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    if canonical { s.parse().ok() } else { None }
}

fn three_digits(s: &str) -> Option<u64> {
    if s.len() == 3 && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

fn tile_bytes(width: &u16) -> usize {
    usize::from(*width) * 32
}

/// Parses `<N>[.p/<W>]`, rejecting anything that would not be written back identically.
fn index_and_width(s: &str) -> Result<(u64, u16), &'static str> {
    let (n, width) = match s.split_once(".p/") {
        None => (s, TILE_WIDTH),
        Some((n, w)) => {
            let w = decimal(w).ok_or("partial width is not a canonical decimal")?;
            match u16::try_from(w) {
                Ok(w @ 1..=255) => (n, w),
                _ => return Err("partial width is not 1..=255"),
            }
        }
    };
    let mut groups = n.split('/');
    let last = groups.next_back().ok_or("missing index")?;
    let mut index = 0u64;
    let mut first = true;
    for g in groups {
        let v = g.strip_prefix('x').and_then(three_digits);
        let v = v.ok_or("index groups must be x followed by three digits")?;
        if first && v == 0 {
            return Err("index has a leading zero group");
        }
        first = false;
        index = index.checked_mul(1000).ok_or("index overflows u64")? + v;
    }
    let v = three_digits(last).ok_or("index must end in three digits")?;
    let index = index.checked_mul(1000).and_then(|i| i.checked_add(v));
    Ok((index.ok_or("index overflows u64")?, width))
}

/// Per level, the full-tile count and partial width (0 = none) of a tree of `size`.
fn level_shapes(size: u64) -> impl Iterator<Item = (u8, u64, u16)> {
    (0..=MAX_LEVEL).map_while(move |level| {
        let hashes = size.checked_shr(u32::from(level) * 8).unwrap_or(0);
        (hashes > 0).then_some((level, hashes >> 8, (hashes & 0xff) as u16))
    })
}

/// Every hash tile of a tree of `size` (full ones, then the partial one), level by level.
///
/// This lists about `size / 255` tiles, so it is for trees that are actually stored.
pub fn tiles_for_size(size: u64) -> Vec<TileId> {
    let mut out = Vec::new();
    for (level, full, partial) in level_shapes(size) {
        out.extend((0..full).map(|index| TileId {
            level,
            index,
            width: TILE_WIDTH,
        }));
        if partial > 0 {
            out.push(TileId {
                level,
                index: full,
                width: partial,
            });
        }
    }
    out
}

/// Every entry bundle of a tree of `size`: the same shapes as its level-0 tiles.
pub fn entry_bundles_for_size(size: u64) -> Vec<EntryBundleId> {
    let level0 = tiles_for_size(size)
        .into_iter()
        .take_while(|t| t.level == 0);
    level0
        .map(|t| EntryBundleId {
            index: t.index,
            width: t.width,
        })
        .collect()
}

/// Parses a hash tile, which must be exactly `id.width * 32` bytes.
pub fn parse_hash_tile(id: TileId, bytes: &[u8]) -> Result<Vec<Hash>, TileError> {
    if bytes.len() != usize::from(id.width) * 32 {
        return Err(TileError::TileLength {
            path: id.path(),
            width: id.width,
            got: bytes.len(),
        });
    }
    let hashes = bytes.chunks_exact(32);
    Ok(hashes.map(|c| c.try_into().unwrap_or_default()).collect())
}

/// Encodes hashes as a tile: their concatenation.
pub fn encode_hash_tile(hashes: &[Hash]) -> Vec<u8> {
    hashes.concat()
}

/// Encodes entries as a bundle: each as a big-endian u16 length, then its bytes.
pub fn encode_entry_bundle<T: AsRef<[u8]>>(entries: &[T]) -> Result<Vec<u8>, TileError> {
    let mut out = Vec::new();
    append_bundle_entries(&mut out, entries, 0)?;
    Ok(out)
}

fn append_bundle_entries<T: AsRef<[u8]>>(
    out: &mut Vec<u8>,
    entries: &[T],
    first: usize,
) -> Result<(), TileError> {
    for (i, e) in entries.iter().enumerate() {
        let e = e.as_ref();
        let len = u16::try_from(e.len()).map_err(|_| TileError::EntryTooLong {
            entry: first + i,
            len: e.len(),
        })?;
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(e);
    }
    Ok(())
}

/// Parses an entry bundle holding exactly `id.width` entries and nothing after them.
pub fn parse_entry_bundle(id: EntryBundleId, bytes: &[u8]) -> Result<Vec<&[u8]>, TileError> {
    let mut rest = bytes;
    let mut entries = Vec::with_capacity(id.width.into());
    for entry in 0..id.width {
        let truncated = || TileError::BundleTruncated {
            path: id.path(),
            width: id.width,
            entry,
        };
        let (len, tail) = rest.split_first_chunk::<2>().ok_or_else(truncated)?;
        let len = usize::from(u16::from_be_bytes(*len));
        let (e, tail) = tail.split_at_checked(len).ok_or_else(truncated)?;
        entries.push(e);
        rest = tail;
    }
    if !rest.is_empty() {
        return Err(TileError::BundleTrailing {
            path: id.path(),
            width: id.width,
            extra: rest.len(),
        });
    }
    Ok(entries)
}

fn fetch<E, I: fmt::Display + Copy>(
    read: &mut impl FnMut(I) -> Result<Vec<u8>, E>,
    id: I,
) -> Result<Vec<u8>, TileError<E>> {
    read(id).map_err(|error| TileError::Fetch {
        path: id.to_string(),
        error,
    })
}

/// Hash tiles that grow a tree of `old_size` by `new_leaves`: every tile the new tree has that
/// the old one did not (new full tiles and the new partial ones), in level order.
///
/// `read` is asked only for the old tree's right-edge partial tiles, at most one per level, so
/// the work is O(batch + 256 * levels) whatever the tree size.
pub fn append_hash_tiles<E>(
    old_size: u64,
    new_leaves: &[Hash],
    mut read: impl FnMut(TileId) -> Result<Vec<u8>, E>,
) -> Result<Vec<(TileId, Vec<u8>)>, TileError<E>> {
    new_size(old_size, new_leaves.len())?;
    let mut out = Vec::new();
    let mut fresh = new_leaves.to_vec();
    let mut old_count = old_size;
    for level in 0..=MAX_LEVEL {
        if fresh.is_empty() {
            break;
        }
        // The row of this level's hashes from the old tree's partial tile onwards.
        let (first_tile, old_width) = (old_count >> 8, (old_count & 0xff) as u16);
        let mut row = Vec::with_capacity(usize::from(old_width) * 32 + fresh.len() * 32);
        if old_width > 0 {
            let id = TileId {
                level,
                index: first_tile,
                width: old_width,
            };
            let bytes = fetch(&mut read, id)?;
            parse_hash_tile(id, &bytes).map_err(TileError::widen)?;
            row.extend_from_slice(&bytes);
        }
        let mut above = Vec::with_capacity(fresh.len() / 256 + 1);
        for hash in &fresh {
            row.extend_from_slice(hash);
        }
        for (i, chunk) in row.chunks(usize::from(TILE_WIDTH) * 32).enumerate() {
            let width = (chunk.len() / 32) as u16;
            if width == TILE_WIDTH {
                above.push(full_tile_root(chunk));
            }
            let index = first_tile + i as u64;
            out.push((
                TileId {
                    level,
                    index,
                    width,
                },
                chunk.to_vec(),
            ));
        }
        fresh = above;
        old_count >>= 8;
    }
    Ok(out)
}

/// The root of a full tile given as 256 * 32 bytes.
fn full_tile_root(bytes: &[u8]) -> Hash {
    let hashes: Vec<Hash> = bytes
        .chunks_exact(32)
        .map(|c| c.try_into().unwrap_or_default())
        .collect();
    root_from_leaf_hashes(&hashes)
}

fn new_size<E>(old_size: u64, added: usize) -> Result<u64, TileError<E>> {
    u64::try_from(added)
        .ok()
        .and_then(|n| old_size.checked_add(n))
        .ok_or(TileError::SizeOverflow { old_size, added })
}

/// Entry bundles that grow a log of `old_size` by `entries`: every bundle the new log has that
/// the old one did not. `read` is asked only for the old log's partial bundle, if any.
pub fn append_entry_bundles<E, T: AsRef<[u8]>>(
    old_size: u64,
    entries: &[T],
    mut read: impl FnMut(EntryBundleId) -> Result<Vec<u8>, E>,
) -> Result<Vec<(EntryBundleId, Vec<u8>)>, TileError<E>> {
    new_size(old_size, entries.len())?;
    let mut out = Vec::new();
    if entries.is_empty() {
        return Ok(out);
    }
    let (mut index, old_width) = (old_size >> 8, (old_size & 0xff) as u16);
    let mut bundle = Vec::new();
    if old_width > 0 {
        let id = EntryBundleId {
            index,
            width: old_width,
        };
        bundle = fetch(&mut read, id)?;
        parse_entry_bundle(id, &bundle).map_err(TileError::widen)?;
    }
    let mut width = old_width;
    for (i, entry) in entries.iter().enumerate() {
        append_bundle_entries(&mut bundle, core::slice::from_ref(entry), i)
            .map_err(TileError::widen)?;
        width += 1;
        if width == TILE_WIDTH || i + 1 == entries.len() {
            out.push((EntryBundleId { index, width }, core::mem::take(&mut bundle)));
            (index, width) = (index + 1, 0);
        }
    }
    Ok(out)
}

/// Everything that appending `entries` to a log of `old_size` adds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Appended {
    /// New hash tiles, as from [`append_hash_tiles`].
    pub tiles: Vec<(TileId, Vec<u8>)>,
    /// New entry bundles, as from [`append_entry_bundles`].
    pub bundles: Vec<(EntryBundleId, Vec<u8>)>,
}

/// Appends entries to a log: their leaf hashes to the hash tiles, and the entries to bundles.
pub fn append_entries<E, T: AsRef<[u8]>>(
    old_size: u64,
    entries: &[T],
    read_tile: impl FnMut(TileId) -> Result<Vec<u8>, E>,
    read_bundle: impl FnMut(EntryBundleId) -> Result<Vec<u8>, E>,
) -> Result<Appended, TileError<E>> {
    let bundles = append_entry_bundles(old_size, entries, read_bundle)?;
    let leaves: Vec<Hash> = entries.iter().map(|e| leaf_hash(e.as_ref())).collect();
    let tiles = append_hash_tiles(old_size, &leaves, read_tile)?;
    Ok(Appended { tiles, bundles })
}

/// Checks that every level-0 tile of a tree of `size` holds the leaf hashes of the entries in
/// the matching entry bundle.
pub fn check_entry_bundles<E>(
    size: u64,
    mut read_tile: impl FnMut(TileId) -> Result<Vec<u8>, E>,
    mut read_bundle: impl FnMut(EntryBundleId) -> Result<Vec<u8>, E>,
) -> Result<(), TileError<E>> {
    for id in entry_bundles_for_size(size) {
        let bundle_bytes = fetch(&mut read_bundle, id)?;
        let entries = parse_entry_bundle(id, &bundle_bytes).map_err(TileError::widen)?;
        let tile_bytes = fetch(&mut read_tile, id.tile())?;
        let hashes = parse_hash_tile(id.tile(), &tile_bytes).map_err(TileError::widen)?;
        for (position, (e, h)) in (0..).zip(entries.iter().zip(&hashes)) {
            if leaf_hash(e) != *h {
                return Err(TileError::LeafMismatch {
                    tile: id.tile().path(),
                    bundle: id.path(),
                    position,
                });
            }
        }
    }
    Ok(())
}

/// A [`NodeSource`] reading a tree of a given size from its hash tiles.
///
/// Nodes at levels that are not multiples of 8 are hashed up from the tile below. The last few
/// tiles fetched are cached, since proofs ask for several nodes from the same tiles.
pub struct TileNodeSource<F> {
    size: u64,
    fetch: F,
    cache: Vec<(TileId, Vec<Hash>)>,
}

const CACHE_TILES: usize = 16;

impl<F> TileNodeSource<F> {
    /// Reads the tree of `size` leaves through `fetch`, which returns a tile's bytes.
    pub fn new(size: u64, fetch: F) -> Self {
        Self {
            size,
            fetch,
            cache: Vec::new(),
        }
    }

    /// The tree size being read.
    pub fn size(&self) -> u64 {
        self.size
    }
}

impl<E, F: FnMut(TileId) -> Result<Vec<u8>, E>> NodeSource for TileNodeSource<F> {
    type Error = TileError<E>;

    fn node(&mut self, level: u8, index: u64) -> Result<Hash, TileError<E>> {
        let size = self.size;
        let out_of_range = TileError::NodeOutOfRange { level, index, size };
        let fits = crate::merkle::subtree_range(level, index).is_some_and(|(_, end)| end <= size);
        if !fits {
            return Err(out_of_range);
        }
        // The node is the root of 2^r consecutive hashes at level 8 * tile_level, all in one tile.
        let (tile_level, r) = (level / TILE_HEIGHT, level % TILE_HEIGHT);
        let first = index << r;
        let count = size >> (u32::from(tile_level) * 8);
        let width = if first >> 8 < count >> 8 {
            TILE_WIDTH
        } else {
            (count & 0xff) as u16
        };
        let id = TileId {
            level: tile_level,
            index: first >> 8,
            width,
        };
        let start = (first & 0xff) as usize;
        let hashes = self.tile(id)?.get(start..start + (1 << r));
        let mut row = hashes.ok_or(out_of_range)?.to_vec();
        while row.len() > 1 {
            row = row
                .chunks_exact(2)
                .map(|p| node_hash(&p[0], &p[1]))
                .collect();
        }
        Ok(row[0])
    }
}

impl<E, F: FnMut(TileId) -> Result<Vec<u8>, E>> TileNodeSource<F> {
    fn tile(&mut self, id: TileId) -> Result<&[Hash], TileError<E>> {
        let pos = match self.cache.iter().position(|(t, _)| *t == id) {
            Some(pos) => pos,
            None => {
                let bytes = fetch(&mut self.fetch, id)?;
                let hashes = parse_hash_tile(id, &bytes).map_err(TileError::widen)?;
                if self.cache.len() == CACHE_TILES {
                    self.cache.remove(0);
                }
                self.cache.push((id, hashes));
                self.cache.len() - 1
            }
        };
        Ok(&self.cache[pos].1)
    }
}
