//! Near-duplicates: PDQ perceptual hashes of images and sampled video frames.
//!
//! **What is stored.** At `add`, once the records are built and before the
//! commit, each newly sealed image gets its PDQ hash and each video the PDQ
//! of one frame per second (`guwah_pdq::video`). They go into the index's
//! `pdq` table, one row per item, sealed (AES-256-GCM) under a subkey of
//! the index key with the leaf index and record id as associated data — no
//! hash is ever on disk in the clear (a PDQ hash would let anyone holding
//! the vault test whether it contains a known picture).
//!
//! **Not committed to the log.** The hashes are derived data, recomputable
//! from the sealed original at any time, and the algorithm or its decoder
//! may improve; committing them would freeze today's output into evidence
//! records and publish a matchable fingerprint's commitment. They are an
//! index, not evidence.
//!
//! **Crash safety.** The rows go in in the same index transaction as their
//! entries, before the checkpoint swap (the append transaction,
//! `append.rs`): a PDQ row exists exactly when its entry's row does, a
//! crash before the commit leaves both past the committed size (invisible,
//! and removed by the next writer like every other such row), and nothing
//! is written after the commit point that could fail once success is
//! reported. Hashing never fails the add: a file that cannot be hashed is
//! sealed without a row, with a warning. The file is read again and its
//! SHA-256 is checked against the sealed record before it is hashed (a file
//! that changed meanwhile is not hashed), and the AEAD binds each row to
//! its entry.
//!
//! **Queries.** [`Vault::similar`] and [`Vault::duplicates`] decrypt every
//! stored hash, build a multi-index-hashing index in memory
//! ([`guwah_pdq::MihIndex`]) and query it. Hashes whose PDQ quality is under
//! [`MIN_QUALITY`] (flat or nearly blank pictures, black video frames) are
//! kept but not matched: they would pair unrelated items.
//!
//! **Hostile files.** A file whose decoder fails, panics or runs past its
//! deadline (see `guwah_pdq::decode`) stays sealed; it only gets no hash,
//! and the add says so in a warning.
//!
//! This finds copies of the same picture or video and nothing else.

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;

use guwah_pdq::{DecodeLimits, Hash256, MihIndex};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::crypto;
use crate::error::VaultError;
use crate::index::{EntryKind, Private};
use crate::ingest::{AddStatus, AddWarning, AddedItem};
use crate::vault::Vault;

/// Hashes with a PDQ quality below this are not matched (upstream's advice).
pub const MIN_QUALITY: u8 = 50;

/// Images larger than this are not read into memory for hashing.
const MAX_IMAGE_BYTES: u64 = 256 * 1024 * 1024;

const PDQ_KEY_LABEL: &str = "guwah/pdq-key/v1";

/// What one item's `pdq` row holds, before sealing.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Stored {
    /// `image` or `video`.
    kind: String,
    /// One per image; one per sampled second for a video.
    frames: Vec<StoredFrame>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
struct StoredFrame {
    /// Seconds from the start (0 for an image).
    t: f64,
    /// 64 hex digits.
    pdq: String,
    /// PDQ quality, 0..=100.
    q: u8,
}

fn aad(leaf_index: u64, record_id: &str) -> Vec<u8> {
    let mut a = b"guwah/pdq/v1\n".to_vec();
    a.extend_from_slice(&leaf_index.to_be_bytes());
    a.extend_from_slice(record_id.as_bytes());
    a
}

fn pdq_key(index_key: &[u8; 32]) -> Zeroizing<[u8; 32]> {
    crypto::derive_subkey(index_key, PDQ_KEY_LABEL)
}

/// One item like the query, with how close it is.
#[derive(Debug, Clone, Serialize)]
pub struct SimilarItem {
    /// The item id.
    pub id: String,
    /// Smallest Hamming distance between any of its hashes and the query's.
    pub distance: u32,
    /// Media type.
    pub media_type: String,
    /// Its file name when added, if known.
    pub filename: Option<String>,
    /// For videos: how many of the query's hashes matched it.
    pub matching_hashes: usize,
}

/// What `guwah similar` prints.
#[derive(Debug, Clone, Serialize)]
pub struct SimilarReport {
    /// The query item, when the query is an item of this vault.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// The query hash (64 hex digits), when the query is a hash from elsewhere.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pdq: Option<String>,
    /// The threshold used.
    pub max_distance: u32,
    /// How many usable hashes the query item has.
    pub query_hashes: usize,
    /// Near-duplicates, nearest first.
    pub matches: Vec<SimilarItem>,
    /// Why the answer may be incomplete (unhashed items, low quality...).
    pub notes: Vec<String>,
}

/// One perceptual hash of an item: the picture's, or one video frame's.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PerceptualHash {
    /// Seconds from the start of the video (0 for a picture).
    pub t: f64,
    /// The PDQ hash, 64 hex digits (256 bits).
    pub pdq: String,
    /// PDQ quality, 0 to 100; hashes under [`MIN_QUALITY`] are not matched.
    pub quality: u8,
}

/// An item's perceptual hashes, as the index holds them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PerceptualHashes {
    /// `image` or `video`.
    pub kind: String,
    /// One for a picture; one per sampled second for a video.
    pub frames: Vec<PerceptualHash>,
}

/// One item of a duplicate cluster.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterItem {
    /// The item id.
    pub id: String,
    /// Media type.
    pub media_type: String,
    /// Its file name when added, if known.
    pub filename: Option<String>,
    /// Smallest distance to another item of the cluster.
    pub distance: u32,
}

/// What `guwah duplicates` prints.
#[derive(Debug, Clone, Serialize)]
pub struct DuplicatesReport {
    /// The threshold used.
    pub max_distance: u32,
    /// Items with a usable hash.
    pub hashed_items: usize,
    /// Groups of near-duplicate items (single linkage), largest first.
    pub clusters: Vec<Vec<ClusterItem>>,
    /// Why the answer may be incomplete.
    pub notes: Vec<String>,
}

/// Every stored hash, decrypted, with its owner.
struct Loaded {
    /// Item id, media type, filename — per item.
    items: Vec<(String, String, Option<String>)>,
    /// Usable hashes and the item (position in `items`) of each.
    hashes: Vec<Hash256>,
    owner: Vec<usize>,
    notes: Vec<String>,
}

/// Sealed PDQ rows, `(leaf index, sealed)`, and the warnings of the items
/// that could not be hashed.
pub(crate) type PdqRows = (Vec<(u64, Vec<u8>)>, Vec<AddWarning>);

impl Vault {
    /// The sealed perceptual hashes of the items an `add` is sealing
    /// (images and videos with status `Added`), for its append. Never fails
    /// the add: problems come back as warnings, and the item is simply not
    /// hashed.
    pub(crate) fn similarity_rows(&self, items: &[AddedItem]) -> PdqRows {
        let mut rows = Vec::new();
        let mut warnings = Vec::new();
        let Ok(keys) = self.keys() else {
            return (rows, warnings);
        };
        let key = pdq_key(&keys.index_key);
        for item in items {
            if item.status != AddStatus::Added {
                continue;
            }
            let kind = if item.media_type.starts_with("image/") {
                "image"
            } else if item.media_type.starts_with("video/") {
                "video"
            } else {
                continue;
            };
            let warn = |message: String| AddWarning {
                path: item.path.clone(),
                message: format!("not hashed for `guwah similar`: {message}"),
            };
            let frames = match hash_file(&item.path, kind, &item.sha256) {
                Ok(f) => f,
                Err(why) => {
                    warnings.push(warn(why));
                    continue;
                }
            };
            let stored = Stored {
                kind: kind.into(),
                frames,
            };
            let sealed = serde_json::to_vec(&stored)
                .map_err(|e| e.to_string())
                .and_then(|json| {
                    crypto::seal(&key, &aad(item.leaf_index, &item.id), &json)
                        .map_err(|e| e.to_string())
                });
            match sealed {
                Ok(sealed) => rows.push((item.leaf_index, sealed)),
                Err(e) => warnings.push(warn(e)),
            }
        }
        (rows, warnings)
    }

    fn load_hashes(&self, size: u64) -> Result<Loaded, VaultError> {
        let keys = self.keys()?;
        let key = pdq_key(&keys.index_key);
        let rows = self.index().entries(size)?;
        let stored: HashMap<u64, Vec<u8>> = self.index().pdq_rows(size)?.into_iter().collect();
        let mut loaded = Loaded {
            items: Vec::new(),
            hashes: Vec::new(),
            owner: Vec::new(),
            notes: Vec::new(),
        };
        let mut unhashed = 0usize;
        let mut low_quality = 0usize;
        for row in rows.iter().filter(|r| r.kind == EntryKind::Item) {
            let (_, record) = self.record_of(row, size)?;
            let guwah_core::record::Record::Item(rec) = record else {
                continue;
            };
            let Some(sealed) = stored.get(&row.leaf_index) else {
                if rec.media_type.starts_with("image/") || rec.media_type.starts_with("video/") {
                    unhashed += 1;
                }
                continue;
            };
            let private = Private::open(&keys.index_key, row)?;
            let thing = || format!("perceptual hashes of log entry {}", row.leaf_index);
            let s = open_stored(&key, row.leaf_index, &row.record_id, sealed)?;
            let filename = private.fields.get("filename").map(|v| v.value.clone());
            let media_type = rec.media_type;
            let at = loaded.items.len();
            loaded
                .items
                .push((row.record_id.clone(), media_type, filename));
            let mut usable = 0;
            for f in &s.frames {
                let h = Hash256::from_hex(&f.pdq)
                    .map_err(|e| VaultError::damaged(thing(), e.to_string()))?;
                if f.q >= MIN_QUALITY {
                    loaded.hashes.push(h);
                    loaded.owner.push(at);
                    usable += 1;
                }
            }
            if usable == 0 {
                low_quality += 1;
            }
        }
        if unhashed > 0 {
            loaded.notes.push(format!(
                "{unhashed} image or video item(s) have no perceptual hash (format not decodable, \
                 ffmpeg missing, added before hashing existed, or an interrupted add)"
            ));
        }
        if low_quality > 0 {
            loaded.notes.push(format!(
                "{low_quality} item(s) are too flat or blank to match (PDQ quality under {MIN_QUALITY})"
            ));
        }
        Ok(loaded)
    }

    /// Items whose perceptual hashes are within `max_distance` bits (of 256)
    /// of item `id`'s: copies re-encoded, resized or lightly cropped.
    pub fn similar(&self, id: &str, max_distance: u32) -> Result<SimilarReport, VaultError> {
        let row = self.resolve(id)?;
        let size = self.size()?;
        let loaded = self.load_hashes(size)?;
        let me = loaded
            .items
            .iter()
            .position(|(i, _, _)| *i == row.record_id);
        let mut notes = loaded.notes.clone();
        let query: Vec<Hash256> = match me {
            Some(me) => loaded
                .hashes
                .iter()
                .zip(&loaded.owner)
                .filter(|(_, o)| **o == me)
                .map(|(h, _)| *h)
                .collect(),
            None => {
                notes.insert(0, "this item has no perceptual hash".into());
                Vec::new()
            }
        };
        let matches = nearest(&loaded, &query, me, max_distance);
        Ok(SimilarReport {
            id: Some(row.record_id),
            pdq: None,
            max_distance,
            query_hashes: query.len(),
            matches,
            notes,
        })
    }

    /// Items within `max_distance` bits of a PDQ hash computed elsewhere —
    /// another organisation's copy of a picture — so two holders can find
    /// shared evidence by exchanging hashes, never the pictures.
    pub fn similar_to_hash(
        &self,
        pdq: &Hash256,
        max_distance: u32,
    ) -> Result<SimilarReport, VaultError> {
        let size = self.size()?;
        let loaded = self.load_hashes(size)?;
        let matches = nearest(&loaded, std::slice::from_ref(pdq), None, max_distance);
        Ok(SimilarReport {
            id: None,
            pdq: Some(pdq.to_hex()),
            max_distance,
            query_hashes: 1,
            matches,
            notes: loaded.notes,
        })
    }

    /// Item `id`'s perceptual hashes as the index holds them (decrypted), or
    /// `None` when it has none (not a picture or video, not decodable, or
    /// added before hashing existed). For the vault's owner only: a hash
    /// lets its holder test whether a known picture is in the vault.
    pub fn perceptual_hashes(&self, id: &str) -> Result<Option<PerceptualHashes>, VaultError> {
        let row = self.resolve(id)?;
        let size = self.size()?;
        let keys = self.keys()?;
        let key = pdq_key(&keys.index_key);
        let Some(sealed) = self.index().pdq_row(row.leaf_index, size)? else {
            return Ok(None);
        };
        let s = open_stored(&key, row.leaf_index, &row.record_id, &sealed)?;
        Ok(Some(PerceptualHashes {
            kind: s.kind,
            frames: s
                .frames
                .into_iter()
                .map(|f| PerceptualHash {
                    t: f.t,
                    pdq: f.pdq,
                    quality: f.q,
                })
                .collect(),
        }))
    }

    /// Clusters of near-duplicate items across the vault.
    pub fn duplicates(&self, max_distance: u32) -> Result<DuplicatesReport, VaultError> {
        let size = self.size()?;
        let loaded = self.load_hashes(size)?;
        let index = MihIndex::new(&loaded.hashes);
        let n = loaded.items.len();
        let mut parent: Vec<usize> = (0..n).collect();
        fn find(p: &mut [usize], mut x: usize) -> usize {
            while p[x] != x {
                p[x] = p[p[x]];
                x = p[x];
            }
            x
        }
        let mut nearest = vec![u32::MAX; n];
        for (h, &a) in loaded.hashes.iter().zip(&loaded.owner) {
            for (hid, d) in index.query(h, max_distance) {
                let b = loaded.owner[hid as usize];
                if a == b {
                    continue;
                }
                nearest[a] = nearest[a].min(d);
                let (ra, rb) = (find(&mut parent, a), find(&mut parent, b));
                if ra != rb {
                    parent[ra.max(rb)] = ra.min(rb);
                }
            }
        }
        let mut groups: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
        for i in 0..n {
            let r = find(&mut parent, i);
            groups.entry(r).or_default().push(i);
        }
        let mut clusters: Vec<Vec<ClusterItem>> = groups
            .into_values()
            .filter(|g| g.len() > 1)
            .map(|g| {
                g.into_iter()
                    .map(|i| {
                        let (id, media_type, filename) = loaded.items[i].clone();
                        ClusterItem {
                            id,
                            media_type,
                            filename,
                            distance: nearest[i],
                        }
                    })
                    .collect()
            })
            .collect();
        clusters.sort_by_key(|c| std::cmp::Reverse(c.len()));
        let hashed_items = {
            let mut owners = loaded.owner.clone();
            owners.dedup();
            owners.len()
        };
        Ok(DuplicatesReport {
            max_distance,
            hashed_items,
            clusters,
            notes: loaded.notes,
        })
    }
}

/// The items (other than `exclude`) with a hash within `max_distance` of
/// any query hash, nearest first; for videos, how many query hashes hit.
fn nearest(
    loaded: &Loaded,
    query: &[Hash256],
    exclude: Option<usize>,
    max_distance: u32,
) -> Vec<SimilarItem> {
    let index = MihIndex::new(&loaded.hashes);
    let mut best: BTreeMap<usize, (u32, usize)> = BTreeMap::new();
    for q in query {
        let mut seen_here = std::collections::BTreeSet::new();
        for (hid, d) in index.query(q, max_distance) {
            let owner = loaded.owner[hid as usize];
            if Some(owner) == exclude {
                continue;
            }
            let e = best.entry(owner).or_insert((d, 0));
            e.0 = e.0.min(d);
            if seen_here.insert(owner) {
                e.1 += 1;
            }
        }
    }
    let mut matches: Vec<SimilarItem> = best
        .into_iter()
        .map(|(o, (distance, n))| {
            let (id, media_type, filename) = loaded.items[o].clone();
            SimilarItem {
                id,
                distance,
                media_type,
                filename,
                matching_hashes: n,
            }
        })
        .collect();
    matches.sort_by(|a, b| a.distance.cmp(&b.distance).then(a.id.cmp(&b.id)));
    matches
}

/// Decrypt and parse one item's `pdq` row.
fn open_stored(
    key: &[u8; 32],
    leaf_index: u64,
    record_id: &str,
    sealed: &[u8],
) -> Result<Stored, VaultError> {
    let thing = || format!("perceptual hashes of log entry {leaf_index}");
    let json = crypto::open(key, &aad(leaf_index, record_id), sealed).map_err(|_| {
        VaultError::damaged(
            thing(),
            "do not decrypt: altered, moved, or from another vault",
        )
    })?;
    serde_json::from_slice(&json)
        .map_err(|e| VaultError::damaged(thing(), format!("unreadable: {e}")))
}

/// Hash a just-sealed file, after checking it still is what was sealed.
fn hash_file(path: &Path, kind: &str, sha256_hex: &str) -> Result<Vec<StoredFrame>, String> {
    if kind == "image" {
        let len = std::fs::metadata(path).map_err(|e| e.to_string())?.len();
        if len > MAX_IMAGE_BYTES {
            return Err(format!(
                "larger than {} MiB",
                MAX_IMAGE_BYTES / (1024 * 1024)
            ));
        }
        let mut bytes = Vec::with_capacity(len as usize);
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_IMAGE_BYTES + 1).read_to_end(&mut bytes))
            .map_err(|e| e.to_string())?;
        if hex(&Sha256::digest(&bytes)) != sha256_hex {
            return Err("the file changed after it was sealed".into());
        }
        // Decoded on guwah-pdq's worker thread under its limits: a decoder
        // that panics or hangs gives an error here, and the add goes on.
        let h =
            guwah_pdq::hash_image_vec(bytes, DecodeLimits::default()).map_err(|e| e.to_string())?;
        return Ok(vec![StoredFrame {
            t: 0.0,
            pdq: h.hash.to_hex(),
            q: h.quality,
        }]);
    }
    let frames = guwah_pdq::hash_video_file(path, &guwah_pdq::VideoOptions::default())
        .map_err(|e| e.to_string())?;
    // ffmpeg read the file by name: check afterwards that it was the sealed one.
    let mut hasher = Sha256::new();
    let mut f = std::fs::File::open(path).map_err(|e| e.to_string())?;
    std::io::copy(&mut f, &mut hasher).map_err(|e| e.to_string())?;
    if hex(&hasher.finalize()) != sha256_hex {
        return Err("the file changed after it was sealed".into());
    }
    Ok(frames
        .into_iter()
        .map(|f| StoredFrame {
            t: f.seconds,
            pdq: f.pdq.hash.to_hex(),
            q: f.pdq.quality,
        })
        .collect())
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}
