//! `verify`: the fsck. Re-derives everything from storage alone.
//!
//! It trusts only the sealed keys. From them it checks, and names each
//! broken thing: every checkpoint's signature; every tile and entry bundle,
//! by replaying the log's history batch by batch and comparing each tile
//! byte for byte; every checkpoint's root against the tree rebuilt from the
//! leaves (which is consistency in its strongest form), plus an RFC 9162
//! consistency proof from each stored checkpoint to the latest; every
//! record's syntax and signature; every index row; and every blob,
//! decrypted and re-hashed against its record.

use std::collections::{HashMap, HashSet};

use guwah_core::merkle::{self, Hash};
use guwah_core::record::{Record, hex32};
use guwah_core::tiles;

use serde::Serialize;

use crate::crypto;
use crate::error::VaultError;
use crate::index::{EntryKind, Private};
use crate::vault::Vault;

/// One broken thing.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Problem {
    /// The item, file or object.
    pub thing: String,
    /// What is wrong with it.
    pub what: String,
}

/// What `verify` found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    /// Everything that does not hold. Empty means the vault verifies.
    pub problems: Vec<Problem>,
    /// Harmless findings (leftovers of an interrupted add).
    pub notes: Vec<String>,
    /// Tree size of the latest checkpoint.
    pub tree_size: u64,
    /// Checkpoints checked.
    pub checkpoints: usize,
    /// Items checked.
    pub items: u64,
    /// Custody events checked.
    pub events: u64,
    /// Audit records (accounts: logins, roles, tokens) checked.
    pub audits: u64,
    /// Plaintext bytes re-hashed.
    pub bytes: u64,
}

impl VerifyReport {
    /// Whether everything holds.
    pub fn ok(&self) -> bool {
        self.problems.is_empty()
    }

    fn problem(&mut self, thing: impl Into<String>, what: impl Into<String>) {
        self.problems.push(Problem {
            thing: thing.into(),
            what: what.into(),
        });
    }
}

/// Progress of a `verify`, for a progress bar.
#[derive(Debug, Clone)]
pub enum VerifyProgress {
    /// The log is checked; this many blob bytes to re-hash.
    Planned {
        /// Total bytes.
        bytes: u64,
    },
    /// This many more bytes were re-hashed.
    Bytes(u64),
}

impl Vault {
    /// Check everything; see the module docs. Errors only when the check
    /// itself cannot run; broken things are in the report.
    pub fn verify(
        &self,
        progress: &mut dyn FnMut(VerifyProgress),
    ) -> Result<VerifyReport, VaultError> {
        let keys = self.keys()?;
        let mut report = VerifyReport::default();
        let log = self.log();

        // Checkpoints: the latest and the history, each signed by the log key.
        let latest = match self.checkpoints.latest()? {
            None => None,
            Some(note) => match log.open_note(&note, &self.log_key, "log/checkpoint") {
                Ok(cp) => Some((note, cp)),
                Err(e) => {
                    report.problem("log/checkpoint", damage_detail(e));
                    return Ok(report);
                }
            },
        };
        let size = latest.as_ref().map_or(0, |(_, cp)| cp.size);
        report.tree_size = size;
        let mut history = Vec::new();
        for n in self.checkpoints.history_sizes()? {
            let thing = format!("log/checkpoints/{n}");
            match self.checkpoints.history(n)? {
                Some(note) => match log.open_note(&note, &self.log_key, &thing) {
                    Ok(cp) if cp.size != n => {
                        report.problem(&thing, format!("holds a checkpoint of size {}", cp.size))
                    }
                    Ok(cp) if n <= size => history.push(cp),
                    // History copies are written after the swap: one past the
                    // latest checkpoint means log/checkpoint went back in time.
                    Ok(_) => report.problem(
                        "log/checkpoint",
                        format!("is missing or older (size {size}) than {thing}: the latest checkpoint was deleted or rolled back"),
                    ),
                    Err(e) => report.problem(&thing, damage_detail(e)),
                },
                None => report.problem(&thing, "vanished while being read"),
            }
        }
        report.checkpoints = history.len();
        if let Some((note, cp)) = &latest {
            match history.last() {
                Some(h) if h == cp => {}
                _ if self.checkpoints.history(cp.size)?.is_none() => {
                    report.notes.push(format!("log/checkpoint: not yet copied to log/checkpoints/{} (an interrupted append; the next write copies it)", cp.size));
                    history.push(cp.clone());
                }
                _ => report.problem(
                    "log/checkpoint",
                    format!(
                        "not in the checkpoint history (log/checkpoints/{})",
                        cp.size
                    ),
                ),
            }
            let _ = note;
        }

        // Witness cosignatures on the latest checkpoint (C2SP tlog-witness).
        crate::witness::verify_hook(
            self,
            latest.as_ref().map(|(n, _)| n.as_slice()),
            &mut report,
        );

        // Leaves, bundle by bundle.
        let mut leaves: Vec<Vec<u8>> = Vec::with_capacity(size as usize);
        for id in tiles::entry_bundles_for_size(size) {
            let path = id.path();
            let parsed = self
                .log_objects
                .read(&path)?
                .ok_or_else(|| "is missing".to_string())
                .and_then(|b| {
                    tiles::parse_entry_bundle(id, &b)
                        .map(|e| e.iter().map(|x| x.to_vec()).collect::<Vec<_>>())
                        .map_err(|e| e.to_string())
                });
            match parsed {
                Ok(entries) => leaves.extend(entries),
                Err(e) => {
                    report.problem(format!("log/{path}"), e);
                    return Ok(report);
                }
            }
        }
        let leaf_hashes: Vec<Hash> = leaves.iter().map(|l| merkle::leaf_hash(l)).collect();

        // If the stored hash tiles reproduce the signed root they are
        // authentic, and a leaf that disagrees with them was altered in its
        // entry bundle: name the bundle, not the tiles rebuilt from it.
        let mut altered_leaves = false;
        if let Some((_, cp)) = &latest
            && size > 0
            && log.root(size).ok() == Some(cp.root)
        {
            for id in tiles::entry_bundles_for_size(size) {
                let Some(bytes) = self.log_objects.read(&id.tile().path())? else {
                    continue;
                };
                let Ok(hashes) = tiles::parse_hash_tile(id.tile(), &bytes) else {
                    continue;
                };
                for (pos, h) in hashes.iter().enumerate() {
                    let i = (id.index << 8) as usize + pos;
                    if leaf_hashes.get(i) != Some(h) {
                        altered_leaves = true;
                        report.problem(
                            format!("log/{}", id.path()),
                            format!("entry {i} does not hash to the signed tree: it was altered"),
                        );
                    }
                }
            }
        }

        // Tiles: replay the history batch by batch; every tile must match.
        let mut replay: HashMap<String, Vec<u8>> = HashMap::new();
        let mut bad_tiles = HashSet::new();
        let mut prev = 0u64;
        for cp in &history {
            let batch = &leaves[prev as usize..cp.size as usize];
            let appended = tiles::append_entries(
                prev,
                batch,
                |id| replay.get(&id.path()).cloned().ok_or(()),
                |id| replay.get(&id.path()).cloned().ok_or(()),
            );
            let Ok(appended) = appended else {
                report.problem(
                    "log",
                    format!("cannot replay the tiles up to size {}", cp.size),
                );
                return Ok(report);
            };
            let objects = appended
                .tiles
                .into_iter()
                .map(|(id, b)| (id.path(), b))
                .chain(appended.bundles.into_iter().map(|(id, b)| (id.path(), b)));
            for (path, expect) in objects {
                match self.log_objects.read(&path)? {
                    Some(stored) if stored == expect => {}
                    // Already explained by an altered entry above.
                    Some(_) if altered_leaves => {}
                    Some(_) => {
                        if bad_tiles.insert(path.clone()) {
                            report.problem(
                                format!("log/{path}"),
                                "differs from the tile rebuilt from the log's entries",
                            );
                        }
                    }
                    None => report.problem(format!("log/{path}"), "is missing"),
                }
                replay.insert(path, expect);
            }
            let root = merkle::root_from_leaf_hashes(&leaf_hashes[..cp.size as usize]);
            if root != cp.root && !altered_leaves {
                report.problem(
                    format!("log/checkpoints/{}", cp.size),
                    "root hash does not match the tree rebuilt from the log's entries",
                );
            }
            prev = cp.size;
        }
        if prev != size {
            report.problem(
                "log/checkpoint",
                format!("history ends at size {prev}, not at the latest size {size}"),
            );
        }
        // Consistency proofs from each earlier checkpoint to the latest.
        if let Some((_, latest_cp)) = &latest {
            for cp in &history {
                let proof = log.consistency(cp.size, size);
                let ok = proof
                    .ok()
                    .and_then(|p| {
                        let hashes: Option<Vec<Hash>> = p
                            .hashes
                            .iter()
                            .map(|h| {
                                use base64::Engine;
                                base64::engine::general_purpose::STANDARD
                                    .decode(h)
                                    .ok()
                                    .and_then(|v| v.try_into().ok())
                            })
                            .collect();
                        hashes
                    })
                    .is_some_and(|hashes| {
                        merkle::verify_consistency(
                            cp.size,
                            size,
                            &hashes,
                            &cp.root,
                            &latest_cp.root,
                        )
                        .is_ok()
                    });
                if !ok && cp.size > 0 {
                    report.problem(
                        format!("log/checkpoints/{}", cp.size),
                        "is not consistent with the latest checkpoint",
                    );
                }
            }
        }

        // Records and index rows.
        for (object, problem) in self.index().integrity_problems()? {
            report.problem(object, problem);
        }
        let rows = self.index().entries(u64::MAX)?;
        let mut by_leaf: HashMap<u64, &crate::index::EntryRow> = HashMap::new();
        for r in &rows {
            if r.leaf_index >= size {
                report.notes.push(format!("index row for log entry {} is past the latest checkpoint (an interrupted add; the next write removes it)", r.leaf_index));
            } else {
                by_leaf.insert(r.leaf_index, r);
            }
        }
        let mut items: HashMap<String, (u64, Record)> = HashMap::new();
        let mut blob_items: Vec<(String, u64, [u8; 32], u64)> = Vec::new();
        for (i, leaf) in leaves.iter().enumerate() {
            let i = i as u64;
            let thing = format!("log entry {i}");
            let record = match Record::parse(leaf) {
                Ok(r) => r,
                Err(e) => {
                    report.problem(thing, e.to_string());
                    continue;
                }
            };
            let id = hex32(&record.id());
            let thing = format!(
                "log entry {i} ({} {})",
                match record {
                    Record::Item(_) => "item",
                    Record::Event(_) => "event",
                    Record::Audit(_) => "audit",
                },
                &id[..16]
            );
            if let Err(e) = record.verify_signature() {
                report.problem(&thing, e.to_string());
            }
            let Some(row) = by_leaf.get(&i) else {
                report.problem(&thing, "has no index row");
                continue;
            };
            if row.record_id != id {
                report.problem(
                    format!("index row for log entry {i}"),
                    "names a different record",
                );
                continue;
            }
            match Private::open(&keys.index_key, row) {
                Err(e) => report.problem(format!("index row for log entry {i}"), e.to_string()),
                Ok(private) => {
                    for f in record.fields() {
                        let ok = private.fields.get(&f.name).is_some_and(|sv| {
                            use base64::Engine;
                            base64::engine::general_purpose::STANDARD
                                .decode(&sv.salt)
                                .ok()
                                .and_then(|s| <[u8; 32]>::try_from(s).ok())
                                .is_some_and(|salt| {
                                    guwah_core::record::commit_field(
                                        &f.name,
                                        &salt,
                                        sv.value.as_bytes(),
                                    ) == f.commitment
                                })
                        });
                        if !ok {
                            report.problem(&thing, format!("metadata field {:?} in the index does not match its sealed commitment", f.name));
                        }
                    }
                }
            }
            match &record {
                Record::Item(item) => {
                    if row.kind != EntryKind::Item || row.item_id != id {
                        report.problem(
                            format!("index row for log entry {i}"),
                            "kind or item id does not match the record",
                        );
                    }
                    report.items += 1;
                    blob_items.push((id.clone(), i, item.sha256, item.size));
                    items.insert(id, (i, record.clone()));
                }
                Record::Event(ev) => {
                    report.events += 1;
                    let item_id = hex32(&ev.item);
                    if !items.contains_key(&item_id) {
                        report.problem(
                            &thing,
                            format!(
                                "is about item {} which is not earlier in the log",
                                &item_id[..16]
                            ),
                        );
                    }
                    if row.kind != EntryKind::Event || row.item_id != item_id {
                        report.problem(
                            format!("index row for log entry {i}"),
                            "kind or item id does not match the record",
                        );
                    }
                }
                Record::Audit(_) => {
                    report.audits += 1;
                    if row.kind != EntryKind::Audit || row.item_id != id {
                        report.problem(
                            format!("index row for log entry {i}"),
                            "kind or item id does not match the record",
                        );
                    }
                }
            }
        }
        let content: HashMap<String, u64> = self.index().content(size)?.into_iter().collect();

        // Blobs: decrypt and re-hash every one.
        progress(VerifyProgress::Planned {
            bytes: blob_items.iter().map(|b| b.3).sum(),
        });
        let mut referenced = HashSet::new();
        for (id, leaf_index, sha, len) in blob_items {
            let blob = keys.blob_name(&sha);
            let thing = format!("item {} (blob {blob})", &id[..16]);
            referenced.insert(blob.clone());
            if content.get(&blob) != Some(&leaf_index) {
                report.problem(
                    format!("index content row of item {}", &id[..16]),
                    "is missing or points elsewhere",
                );
            }
            let src = match self.blobs.open(&blob) {
                Ok(s) => s,
                Err(e) => {
                    report.problem(thing, e.to_string());
                    continue;
                }
            };
            let mut done = 0u64;
            let mut tick = |total: u64| {
                progress(VerifyProgress::Bytes(total.saturating_sub(done)));
                done = total;
            };
            match crypto::decrypt_and_hash(src, std::io::sink(), &keys.blob_key, &mut tick) {
                Ok(s) if s.sha256 == sha && s.size == len => report.bytes += s.size,
                Ok(_) => report.problem(
                    thing,
                    "decrypts, but its SHA-256 or size differs from the sealed record",
                ),
                Err(e) => report.problem(thing, e.to_string()),
            }
        }
        // RFC 3161 tokens over stored checkpoints.
        self.verify_timestamps(&mut report)?;
        for name in self.blobs.list()? {
            if !referenced.contains(&name) {
                report.notes.push(format!(
                    "blob {name} belongs to no item (left by an interrupted add)"
                ));
            }
        }
        Ok(report)
    }
}

/// The detail of a damage error, without repeating the thing it names.
fn damage_detail(e: VaultError) -> String {
    match e {
        VaultError::Damaged { what, .. } => what,
        other => other.to_string(),
    }
}
