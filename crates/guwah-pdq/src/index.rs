//! Near-duplicate search over 256-bit hashes by multi-index hashing (MIH,
//! Norouzi, Punjani & Fleet, 2012 — the scheme of Meta's `pdq/cpp/index/mih.h`).
//!
//! Each hash is cut into 16 chunks of 16 bits, and each chunk position has
//! its own table from chunk value to the hashes holding it (a counting-sorted
//! CSR array: 65 537 offsets and `n` ids per position, 4.3 MB per position
//! at one million hashes).
//!
//! **Pigeonhole**: if `distance(a, b) ≤ D`, the 16 chunk distances sum to at
//! most `D`, so at least one chunk is within `r = ⌊D / 16⌋` bits. A query
//! therefore probes, in each of the 16 tables, every chunk value within `r`
//! bits of its own (1 value for `D < 16`; 17 for `16 ≤ D ≤ 31`, which covers
//! PDQ's usual thresholds; 137 for `D ≤ 47`), checks the full distance of
//! each candidate, and keeps those within `D`. That is exact — no false
//! negatives — and at one million uniform hashes and `D = 31` it touches
//! about 16 × 17 × 15 ≈ 4 000 candidates instead of 1 000 000. For
//! `D ≥ 48` the probe count outgrows a scan, and the index scans linearly.

/// Chunks per hash.
const CHUNKS: usize = 16;
const BUCKETS: usize = 1 << 16;

/// A multi-index-hashing index over a fixed set of hashes; ids are positions
/// in the slice it was built from.
#[derive(Debug, Clone)]
pub struct MihIndex {
    words: Vec<[u64; 4]>,
    /// `CHUNKS` blocks of `BUCKETS + 1` offsets into `ids`.
    offsets: Vec<u32>,
    /// `CHUNKS` blocks of `n` ids, grouped by chunk value.
    ids: Vec<u32>,
}

fn chunk(w: &[u64; 4], c: usize) -> usize {
    ((w[c / 4] >> (48 - 16 * (c % 4))) & 0xffff) as usize
}

fn dist(a: &[u64; 4], b: &[u64; 4]) -> u32 {
    (a[0] ^ b[0]).count_ones()
        + (a[1] ^ b[1]).count_ones()
        + (a[2] ^ b[2]).count_ones()
        + (a[3] ^ b[3]).count_ones()
}

/// Every 16-bit mask with at most `r` (0..=2) bits set, fewest bits first.
fn masks(r: u32) -> &'static [u16] {
    static MASKS: std::sync::OnceLock<[Vec<u16>; 3]> = std::sync::OnceLock::new();
    let all = MASKS.get_or_init(|| {
        std::array::from_fn(|r| {
            let mut m: Vec<u16> = (0..=u16::MAX)
                .filter(|m| m.count_ones() as usize <= r)
                .collect();
            m.sort_by_key(|m| m.count_ones());
            m
        })
    });
    &all[r as usize]
}

impl MihIndex {
    /// Build the index (O(n); ids are positions in `hashes`).
    ///
    /// # Panics
    /// With 2³² hashes or more.
    pub fn new(hashes: &[crate::Hash256]) -> MihIndex {
        let n = hashes.len();
        assert!(u32::try_from(n).is_ok(), "too many hashes for one index");
        let words: Vec<[u64; 4]> = hashes.iter().map(|h| h.words()).collect();
        let mut offsets = vec![0u32; CHUNKS * (BUCKETS + 1)];
        let mut ids = vec![0u32; CHUNKS * n];
        for c in 0..CHUNKS {
            let off = &mut offsets[c * (BUCKETS + 1)..(c + 1) * (BUCKETS + 1)];
            for w in &words {
                off[chunk(w, c) + 1] += 1;
            }
            for b in 0..BUCKETS {
                off[b + 1] += off[b];
            }
            let mut next: Vec<u32> = off[..BUCKETS].to_vec();
            let out = &mut ids[c * n..(c + 1) * n];
            for (i, w) in words.iter().enumerate() {
                let k = chunk(w, c);
                out[next[k] as usize] = i as u32;
                next[k] += 1;
            }
        }
        MihIndex {
            words,
            offsets,
            ids,
        }
    }

    /// Number of hashes.
    pub fn len(&self) -> usize {
        self.words.len()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// Every hash within `max_distance` bits of `query`, as
    /// `(id, distance)`, nearest first (ties by id). Exact.
    pub fn query(&self, query: &crate::Hash256, max_distance: u32) -> Vec<(u32, u32)> {
        let q = query.words();
        let n = self.words.len();
        let r = max_distance / CHUNKS as u32;
        let mut hits = Vec::new();
        if r >= 3 || n < 4096 {
            for (i, w) in self.words.iter().enumerate() {
                let d = dist(&q, w);
                if d <= max_distance {
                    hits.push((i as u32, d));
                }
            }
        } else {
            let masks = masks(r);
            for c in 0..CHUNKS {
                let key = chunk(&q, c);
                let off = &self.offsets[c * (BUCKETS + 1)..(c + 1) * (BUCKETS + 1)];
                let ids = &self.ids[c * n..(c + 1) * n];
                for &m in masks {
                    let k = key ^ usize::from(m);
                    for &id in &ids[off[k] as usize..off[k + 1] as usize] {
                        let d = dist(&q, &self.words[id as usize]);
                        if d <= max_distance {
                            hits.push((id, d));
                        }
                    }
                }
            }
            hits.sort_unstable();
            hits.dedup();
        }
        hits.sort_unstable_by_key(|&(id, d)| (d, id));
        hits
    }

    /// Groups of hashes linked by chains of distances ≤ `max_distance`
    /// (single-linkage: connected components), each sorted, largest first;
    /// singletons are left out.
    pub fn clusters(&self, max_distance: u32) -> Vec<Vec<u32>> {
        let n = self.words.len();
        let mut parent: Vec<u32> = (0..n as u32).collect();
        fn find(p: &mut [u32], mut x: u32) -> u32 {
            while p[x as usize] != x {
                p[x as usize] = p[p[x as usize] as usize];
                x = p[x as usize];
            }
            x
        }
        for i in 0..n {
            let h = crate::Hash256(words_to_bytes(&self.words[i]));
            for (j, _) in self.query(&h, max_distance) {
                let (a, b) = (find(&mut parent, i as u32), find(&mut parent, j));
                if a != b {
                    parent[a.max(b) as usize] = a.min(b);
                }
            }
        }
        let mut groups: std::collections::BTreeMap<u32, Vec<u32>> = Default::default();
        for i in 0..n as u32 {
            let root = find(&mut parent, i);
            groups.entry(root).or_default().push(i);
        }
        let mut out: Vec<Vec<u32>> = groups.into_values().filter(|g| g.len() > 1).collect();
        out.sort_by(|a, b| b.len().cmp(&a.len()).then(a.cmp(b)));
        out
    }
}

fn words_to_bytes(w: &[u64; 4]) -> [u8; 32] {
    let mut b = [0u8; 32];
    for (i, x) in w.iter().enumerate() {
        b[i * 8..i * 8 + 8].copy_from_slice(&x.to_be_bytes());
    }
    b
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Hash256;

    /// xorshift64*: deterministic test data without a dependency.
    pub(crate) fn rng(seed: u64) -> impl FnMut() -> u64 {
        let mut s = seed.max(1);
        move || {
            s ^= s >> 12;
            s ^= s << 25;
            s ^= s >> 27;
            s.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
    }

    fn random_hash(next: &mut impl FnMut() -> u64) -> Hash256 {
        let mut b = [0u8; 32];
        for c in b.chunks_mut(8) {
            c.copy_from_slice(&next().to_le_bytes());
        }
        Hash256(b)
    }

    fn flip(h: &Hash256, bits: &[usize]) -> Hash256 {
        let mut o = *h;
        for &k in bits {
            o.0[k / 8] ^= 1 << (k % 8);
        }
        o
    }

    #[test]
    fn mih_agrees_with_a_linear_scan() {
        let mut next = rng(7);
        let mut hashes: Vec<Hash256> = (0..20_000).map(|_| random_hash(&mut next)).collect();
        let base = hashes[0];
        // Planted neighbours at distances 1..=40, bits spread over chunks.
        for d in 1..=40usize {
            let bits: Vec<usize> = (0..d).map(|i| (i * 97 + d) % 256).collect();
            let mut uniq = bits.clone();
            uniq.sort();
            uniq.dedup();
            hashes.push(flip(&base, &uniq));
        }
        let index = MihIndex::new(&hashes);
        for max in [0, 8, 15, 16, 31, 32, 47, 60] {
            let got = index.query(&base, max);
            let mut want: Vec<(u32, u32)> = hashes
                .iter()
                .enumerate()
                .map(|(i, h)| (i as u32, h.distance(&base)))
                .filter(|&(_, d)| d <= max)
                .collect();
            want.sort_by_key(|&(i, d)| (d, i));
            assert_eq!(got, want, "max distance {max}");
        }
    }

    #[test]
    fn clusters_are_connected_components() {
        let mut next = rng(3);
        let a = random_hash(&mut next);
        let b = random_hash(&mut next);
        let hashes = vec![
            a,
            random_hash(&mut next),
            flip(&a, &[1, 50, 100]),
            b,
            flip(
                &flip(&a, &[1, 50, 100]),
                &(0..20).map(|i| i * 11 + 3).collect::<Vec<_>>(),
            ),
            flip(&b, &[200]),
        ];
        let index = MihIndex::new(&hashes);
        assert_eq!(index.clusters(10), vec![vec![0, 2], vec![3, 5]]);
        assert_eq!(index.clusters(31), vec![vec![0, 2, 4], vec![3, 5]]);
    }
}
