//! RFC 9162 (RFC 6962) Merkle tree hashing, proof generation and proof verification.
//!
//! Proofs are generated only from hashes of *perfect* subtrees (see [`NodeSource`]), which is
//! all that a tiled log (C2SP tlog-tiles) stores. Verification follows RFC 9162 sections
//! 2.1.3.2 and 2.1.4.2 and mirrors transparency-dev/merkle's edge-case behaviour.

use sha2::{Digest, Sha256};
use thiserror::Error;

/// A SHA-256 hash: a leaf hash, a subtree hash or a tree root.
pub type Hash = [u8; 32];

/// The RFC 9162 leaf hash: `SHA-256(0x00 || leaf)`.
pub fn leaf_hash(leaf: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(leaf);
    h.finalize().into()
}

/// The RFC 9162 interior node hash: `SHA-256(0x01 || left || right)`.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The root of the empty tree: `SHA-256("")`.
pub fn empty_root() -> Hash {
    Sha256::digest([]).into()
}

/// The Merkle Tree Hash (RFC 9162 2.1.1) of a list of leaf hashes, in O(n) time.
pub fn root_from_leaf_hashes(leaves: &[Hash]) -> Hash {
    // A stack of perfect subtrees, strictly decreasing in height from bottom to top: merging
    // equal heights as leaves arrive, then folding right to left, yields the MTH's splits.
    let mut stack: Vec<(u32, Hash)> = Vec::with_capacity(64);
    for leaf in leaves {
        let mut cur = (0u32, *leaf);
        while let Some(&(height, left)) = stack.last() {
            if height != cur.0 {
                break;
            }
            stack.pop();
            cur = (height + 1, node_hash(&left, &cur.1));
        }
        stack.push(cur);
    }
    let mut iter = stack.into_iter().rev();
    let Some((_, mut acc)) = iter.next() else {
        return empty_root();
    };
    for (_, left) in iter {
        acc = node_hash(&left, &acc);
    }
    acc
}

/// A source of complete-subtree hashes: `node(level, index)` is the hash of the perfect subtree
/// of height `level` covering leaves `[index << level, (index + 1) << level)`.
pub trait NodeSource {
    /// Why a node could not be produced (missing data, bad tile, I/O in the caller, ...).
    type Error;
    /// The hash of the perfect subtree of height `level` at position `index` on that level.
    fn node(&mut self, level: u8, index: u64) -> Result<Hash, Self::Error>;
}

/// An in-memory [`NodeSource`] over all leaf hashes of a tree; for tests and small trees.
///
/// Each call hashes the whole subtree, so it costs O(2^level).
#[derive(Debug, Clone, Copy)]
pub struct LeafHashes<'a>(pub &'a [Hash]);

/// [`LeafHashes`] was asked for a subtree that is not entirely inside its leaves.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("no perfect subtree at level {level}, index {index} in a tree of {leaves} leaves")]
pub struct NodeOutOfRange {
    /// The requested height.
    pub level: u8,
    /// The requested position on that level.
    pub index: u64,
    /// How many leaves the source holds.
    pub leaves: u64,
}

impl NodeSource for LeafHashes<'_> {
    type Error = NodeOutOfRange;

    fn node(&mut self, level: u8, index: u64) -> Result<Hash, NodeOutOfRange> {
        let leaves = subtree_range(level, index).and_then(|(s, e)| {
            self.0
                .get(usize::try_from(s).ok()?..usize::try_from(e).ok()?)
        });
        leaves.map(root_from_leaf_hashes).ok_or(NodeOutOfRange {
            level,
            index,
            leaves: self.0.len() as u64,
        })
    }
}

/// The leaf range `[start, end)` of a perfect subtree, or `None` if it does not fit in u64.
pub fn subtree_range(level: u8, index: u64) -> Option<(u64, u64)> {
    let width = 1u64.checked_shl(level.into())?;
    let start = index.checked_mul(width)?;
    Some((start, start.checked_add(width)?))
}

/// Why a proof could not be generated.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ProofError<E> {
    /// Inclusion proofs exist only for `index < size`.
    #[error("inclusion proof: leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The requested leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// Consistency proofs exist only for `old_size <= new_size`.
    #[error("consistency proof: old size {old_size} is larger than new size {new_size}")]
    OldSizeTooLarge {
        /// The older tree's size.
        old_size: u64,
        /// The newer tree's size.
        new_size: u64,
    },
    /// The node source failed.
    #[error("reading a tree node: {0}")]
    Node(E),
}

/// Why a proof did not verify.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum VerifyError {
    /// Inclusion proofs exist only for `index < size`.
    #[error("inclusion proof: leaf index {index} is not in a tree of size {size}")]
    IndexOutOfRange {
        /// The leaf index.
        index: u64,
        /// The tree size.
        size: u64,
    },
    /// The proof has the wrong number of hashes for these sizes.
    #[error("proof has {got} hashes, expected {want}")]
    WrongProofSize {
        /// Hashes in the proof.
        got: usize,
        /// Hashes the sizes require.
        want: usize,
    },
    /// The proof hashes to a different root.
    #[error("proof does not lead to the expected root hash")]
    RootMismatch,
    /// The new tree is smaller than the old one.
    #[error("consistency proof: old size {old_size} is larger than new size {new_size}")]
    OldSizeTooLarge {
        /// The older tree's size.
        old_size: u64,
        /// The newer tree's size.
        new_size: u64,
    },
    /// Every tree extends the empty tree, so such a proof proves nothing.
    #[error("consistency proof from an empty tree is meaningless")]
    EmptyOldTree,
    /// Equal sizes need an empty proof.
    #[error("consistency proof between equal sizes must be empty, got {0} hashes")]
    NonEmptyProof(usize),
    /// Different sizes need a non-empty proof.
    #[error("consistency proof between different sizes is empty")]
    EmptyProof,
}

/// The root of the tree of `size` leaves, from the perfect subtrees of its binary decomposition.
pub fn tree_root<S: NodeSource>(size: u64, src: &mut S) -> Result<Hash, S::Error> {
    if size == 0 {
        return Ok(empty_root());
    }
    range_hash(0, size, src)
}

/// MTH of leaves `[begin, end)`, where `begin` is a multiple of the largest power of two that
/// is at most `end - begin` (true of every RFC 9162 subtree), with `begin < end`.
fn range_hash<S: NodeSource>(begin: u64, end: u64, src: &mut S) -> Result<Hash, S::Error> {
    let n = end - begin;
    // Perfect subtrees for the set bits of n, largest (leftmost) first, folded right to left.
    let mut parts = [[0u8; 32]; 64];
    let mut count = 0;
    let mut pos = begin;
    for level in (0..64u8).rev() {
        if n >> level & 1 == 1 {
            parts[count] = src.node(level, pos >> level)?;
            count += 1;
            pos += 1 << level;
        }
    }
    let mut acc = parts[count - 1];
    for left in parts[..count - 1].iter().rev() {
        acc = node_hash(left, &acc);
    }
    Ok(acc)
}

/// The largest power of two strictly less than `n` (`n >= 2`).
fn split_point(n: u64) -> u64 {
    1 << (63 - (n - 1).leading_zeros())
}

/// The RFC 9162 2.1.3.1 inclusion proof for leaf `index` in the tree of `size` leaves.
pub fn inclusion_proof<S: NodeSource>(
    index: u64,
    size: u64,
    src: &mut S,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    // Walk PATH(m, D[lo:hi]) from the root down; siblings come out top first.
    let (mut lo, mut hi) = (0u64, size);
    let mut proof = Vec::new();
    while hi - lo > 1 {
        let k = split_point(hi - lo);
        if index < lo + k {
            proof.push(range_hash(lo + k, hi, src).map_err(ProofError::Node)?);
            hi = lo + k;
        } else {
            proof.push(perfect(lo, k, src)?);
            lo += k;
        }
    }
    proof.reverse();
    Ok(proof)
}

/// The RFC 9162 2.1.4.1 consistency proof from `old_size` to `new_size`.
///
/// Like transparency-dev/merkle, this is empty when `old_size` is 0 or equals `new_size`.
pub fn consistency_proof<S: NodeSource>(
    old_size: u64,
    new_size: u64,
    src: &mut S,
) -> Result<Vec<Hash>, ProofError<S::Error>> {
    if old_size > new_size {
        return Err(ProofError::OldSizeTooLarge { old_size, new_size });
    }
    if old_size == 0 || old_size == new_size {
        return Ok(Vec::new());
    }
    // Walk SUBPROOF(m, D[lo:hi], b) from the root down, collecting hashes top first.
    let (mut lo, mut hi, mut whole) = (0u64, new_size, true);
    let mut proof = Vec::new();
    while old_size != hi {
        let k = split_point(hi - lo);
        if old_size <= lo + k {
            proof.push(range_hash(lo + k, hi, src).map_err(ProofError::Node)?);
            hi = lo + k;
        } else {
            proof.push(perfect(lo, k, src)?);
            lo += k;
            whole = false;
        }
    }
    if !whole {
        proof.push(range_hash(lo, hi, src).map_err(ProofError::Node)?);
    }
    proof.reverse();
    Ok(proof)
}

/// The perfect subtree of `k` (a power of two) leaves starting at leaf `lo`.
fn perfect<S: NodeSource>(lo: u64, k: u64, src: &mut S) -> Result<Hash, ProofError<S::Error>> {
    let level = k.trailing_zeros();
    src.node(level as u8, lo >> level).map_err(ProofError::Node)
}

/// Verifies an inclusion proof (RFC 9162 2.1.3.2) of `leaf_hash` at `index` in a tree of `size`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf_hash: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), VerifyError> {
    if index >= size {
        return Err(VerifyError::IndexOutOfRange { index, size });
    }
    let (inner, border) = decompose(index, size);
    if proof.len() != inner + border {
        return Err(VerifyError::WrongProofSize {
            got: proof.len(),
            want: inner + border,
        });
    }
    let h = chain_inner(*leaf_hash, &proof[..inner], index);
    matches(&chain_border_right(h, &proof[inner..]), root)
}

/// Verifies a consistency proof (RFC 9162 2.1.4.2) between two tree sizes and their roots.
pub fn verify_consistency(
    old_size: u64,
    new_size: u64,
    proof: &[Hash],
    old_root: &Hash,
    new_root: &Hash,
) -> Result<(), VerifyError> {
    if old_size > new_size {
        return Err(VerifyError::OldSizeTooLarge { old_size, new_size });
    }
    // Checked before the equal-sizes case: transparency-dev/merkle's vectors reject 0 -> 0 too.
    if old_size == 0 {
        return Err(VerifyError::EmptyOldTree);
    }
    if old_size == new_size {
        if !proof.is_empty() {
            return Err(VerifyError::NonEmptyProof(proof.len()));
        }
        return matches(old_root, new_root);
    }
    if proof.is_empty() {
        return Err(VerifyError::EmptyProof);
    }
    let (inner, border) = decompose(old_size - 1, new_size);
    let shift = old_size.trailing_zeros() as usize;
    // old_size < new_size guarantees shift < inner.
    let inner = inner.saturating_sub(shift);
    // If old_size is a power of two its root starts the chain; otherwise the proof supplies it.
    let (seed, rest) = if old_size == 1 << shift {
        (*old_root, proof)
    } else {
        (proof[0], &proof[1..])
    };
    if rest.len() != inner + border {
        return Err(VerifyError::WrongProofSize {
            got: proof.len(),
            want: proof.len() - rest.len() + inner + border,
        });
    }
    let mask = (old_size - 1) >> shift;
    let h1 = chain_inner_right(seed, &rest[..inner], mask);
    matches(&chain_border_right(h1, &rest[inner..]), old_root)?;
    let h2 = chain_inner(seed, &rest[..inner], mask);
    matches(&chain_border_right(h2, &rest[inner..]), new_root)
}

fn matches(calculated: &Hash, expected: &Hash) -> Result<(), VerifyError> {
    if calculated == expected {
        Ok(())
    } else {
        Err(VerifyError::RootMismatch)
    }
}

/// Splits a proof for `index` in `size` into the part below and above where the paths to
/// `index` and `size - 1` diverge (requires `index < size`).
fn decompose(index: u64, size: u64) -> (usize, usize) {
    let inner = (64 - (index ^ (size - 1)).leading_zeros()) as usize;
    // `inner` can be 64, where a plain shift would overflow.
    let above = index.checked_shr(inner as u32).unwrap_or(0);
    (inner, above.count_ones() as usize)
}

fn chain_inner(mut seed: Hash, proof: &[Hash], index: u64) -> Hash {
    for (i, h) in proof.iter().enumerate() {
        seed = if index >> i & 1 == 0 {
            node_hash(&seed, h)
        } else {
            node_hash(h, &seed)
        };
    }
    seed
}

/// Like [`chain_inner`] but uses only left siblings: the hash of the older version of the subtree.
fn chain_inner_right(mut seed: Hash, proof: &[Hash], index: u64) -> Hash {
    for (i, h) in proof.iter().enumerate() {
        if index >> i & 1 == 1 {
            seed = node_hash(h, &seed);
        }
    }
    seed
}

fn chain_border_right(mut seed: Hash, proof: &[Hash]) -> Hash {
    for h in proof {
        seed = node_hash(h, &seed);
    }
    seed
}
