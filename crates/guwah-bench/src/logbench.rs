//! The log append benchmark, through the library: real signed item records
//! appended in batches, each batch staged (tiles written and synced) and
//! committed (checkpoint signed, stored in the history and fsynced).

use std::path::Path;
use std::time::{Duration, Instant};

use ed25519_dalek::SigningKey;
use guwah_core::note::Signer;
use guwah_core::record::{FieldCommitment, ItemRecord, Record};
use guwah_store::Backend;
use guwah_vault::LogWriter;

/// The log's origin line (also the checkpoint signer's key name).
pub const ORIGIN: &str = "bench.example/guwah-log";

/// What appending cost.
#[derive(Debug, Clone, Copy)]
pub struct LogResult {
    /// Entries appended.
    pub entries: u64,
    /// Batches committed.
    pub batches: u64,
    /// Mean leaf size in bytes.
    pub mean_leaf: u64,
    /// Time spent building and signing the records (not part of the rate).
    pub build: Duration,
    /// Total time in `stage` (tiles written, `sync_log`).
    pub stage: Duration,
    /// Total time in `commit` (checkpoint signed, history + swap fsynced).
    pub commit: Duration,
}

impl LogResult {
    /// Appended entries per second of stage + commit time.
    pub fn rate(&self) -> f64 {
        self.entries as f64 / (self.stage + self.commit).as_secs_f64()
    }
}

/// A small deterministic generator, so runs append the same records.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn bytes32(&mut self) -> [u8; 32] {
        let mut out = [0u8; 32];
        for c in out.chunks_mut(8) {
            c.copy_from_slice(&self.next().to_le_bytes());
        }
        out
    }
}

/// Build `n` signed item records like `guwah add` makes (two committed
/// fields, `file-modified` and `filename`), encoded as leaves.
fn build_records(n: u64) -> Result<Vec<Vec<u8>>, String> {
    let mut rng = SplitMix(0x6775_7761_6862_656e);
    let collector = SigningKey::from_bytes(&rng.bytes32());
    let media = ["image/jpeg", "video/mp4", "application/pdf", "audio/ogg"];
    let mut leaves = Vec::with_capacity(n as usize);
    for i in 0..n {
        let mut rec = ItemRecord {
            media_type: media[(i % 4) as usize].into(),
            size: rng.next() % (64 << 20),
            sha256: rng.bytes32(),
            sealed_at: "2025-06-01T12:00:00Z".into(),
            collector: [0; 32],
            fields: vec![
                FieldCommitment {
                    name: "file-modified".into(),
                    commitment: rng.bytes32(),
                },
                FieldCommitment {
                    name: "filename".into(),
                    commitment: rng.bytes32(),
                },
            ],
            signature: [0; 64],
        };
        rec.sign(&collector)
            .map_err(|e| format!("signing a record: {e}"))?;
        leaves.push(Record::Item(rec).encode());
    }
    Ok(leaves)
}

/// Append `entries` records to a new log in `dir`, `batch` per commit.
pub fn run(dir: &Path, entries: u64, batch: u64) -> Result<LogResult, String> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    }
    let store = Backend::create_local(dir).map_err(|e| e.to_string())?;
    let signer = Signer::generate(ORIGIN, [7u8; 32]).map_err(|e| e.to_string())?;
    let log = LogWriter {
        tiles: &*store.log,
        checkpoints: &*store.checkpoints,
        origin: ORIGIN,
    };

    let t = Instant::now();
    let leaves = build_records(entries)?;
    let build = t.elapsed();
    let mean_leaf = leaves.iter().map(|l| l.len() as u64).sum::<u64>() / entries.max(1);

    let mut head = None;
    let mut size = 0u64;
    let (mut stage, mut commit, mut batches) = (Duration::ZERO, Duration::ZERO, 0u64);
    for chunk in leaves.chunks(batch.max(1) as usize) {
        let t = Instant::now();
        let checkpoint = log.stage(size, chunk).map_err(|e| e.to_string())?;
        stage += t.elapsed();
        let t = Instant::now();
        let new_head = log
            .commit(head.as_ref(), checkpoint, &signer)
            .map_err(|e| e.to_string())?;
        commit += t.elapsed();
        size = new_head.checkpoint.size;
        head = Some(new_head);
        batches += 1;
    }
    if size != entries {
        return Err(format!("log has {size} entries, expected {entries}"));
    }
    Ok(LogResult {
        entries,
        batches,
        mean_leaf,
        build,
        stage,
        commit,
    })
}
