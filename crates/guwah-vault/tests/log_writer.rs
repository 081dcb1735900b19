//! The log state machine against a simple model, while I/O fails.
//!
//! Appends random batches through `LogWriter` over the contract-checking
//! in-memory store, injecting a fault at a random operation and then a
//! crash. After every step the committed log must equal the model (the
//! entries whose commit returned Ok), its checkpoint must verify, and no
//! committed tile may ever be rewritten or removed (the store refuses the
//! first and fails the test on the second); tiles a failed round left past
//! the committed size are replaced by the next round.

use guwah_core::merkle::{leaf_hash, root_from_leaf_hashes, verify_consistency, verify_inclusion};
use guwah_core::note::Signer;
use guwah_store::WriterLock;
use guwah_store::mem::MemStore;
use guwah_vault::LogWriter;

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn b64d(s: &str) -> [u8; 32] {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD
        .decode(s)
        .unwrap()
        .try_into()
        .unwrap()
}

#[test]
fn appends_survive_faults_and_crashes() {
    let origin = "example.org/model-test";
    let signer = Signer::generate(origin, [3; 32]).unwrap();
    let key = signer.verifier();
    let store = MemStore::new();
    let log = LogWriter {
        tiles: &store,
        checkpoints: &store,
        origin,
    };
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut model: Vec<Vec<u8>> = Vec::new();
    let mut committed_sizes = Vec::new();
    let (mut ok_commits, mut failed) = (0, 0);
    for round in 0..300 {
        // One writer per round, as in a vault: what a failed round left
        // past the committed size is a leftover the next one replaces.
        let _writer = store.try_lock().unwrap();
        let head = log.head(&key).unwrap();
        let old = head.as_ref().map_or(0, |h| h.checkpoint.size);
        assert_eq!(
            old,
            model.len() as u64,
            "round {round}: committed size drifted from the model"
        );
        let max = if rng.below(10) == 0 { 600 } else { 20 };
        let n = 1 + rng.below(max) as usize;
        let batch: Vec<Vec<u8>> = (0..n)
            .map(|i| format!("entry {round}/{i}\n").into_bytes())
            .collect();
        let fault = rng.below(3) == 0;
        if fault {
            store.fail_after(rng.below(12));
        }
        let result = log
            .stage(old, &batch)
            .and_then(|cp| log.commit(head.as_ref(), cp, &signer));
        match result {
            Ok(h) => {
                ok_commits += 1;
                model.extend(batch);
                committed_sizes.push(h.checkpoint.size);
            }
            Err(e) => {
                assert!(
                    fault,
                    "round {round}: failed without an injected fault: {e}"
                );
                assert!(!e.to_string().contains("contract"), "round {round}: {e}");
                failed += 1;
            }
        }
        if fault {
            store.crash();
        }
        // The committed log equals the model, and its proofs hold.
        let size = model.len() as u64;
        if size == 0 {
            continue;
        }
        let head = log.head(&key).unwrap().expect("a committed head");
        let hashes: Vec<_> = model.iter().map(|e| leaf_hash(e)).collect();
        assert_eq!(
            head.checkpoint.root,
            root_from_leaf_hashes(&hashes),
            "round {round}"
        );
        let i = rng.below(size);
        assert_eq!(log.leaf(i, size).unwrap(), model[i as usize]);
        let p = log.inclusion(i, size, &model[i as usize]).unwrap();
        let path: Vec<_> = p.hashes.iter().map(|h| b64d(h)).collect();
        verify_inclusion(
            i,
            size,
            &leaf_hash(&model[i as usize]),
            &path,
            &head.checkpoint.root,
        )
        .unwrap();
        let old = committed_sizes[rng.below(committed_sizes.len() as u64) as usize];
        let c = log.consistency(old, size).unwrap();
        let path: Vec<_> = c.hashes.iter().map(|h| b64d(h)).collect();
        let old_root = root_from_leaf_hashes(&hashes[..old as usize]);
        verify_consistency(old, size, &path, &old_root, &head.checkpoint.root).unwrap();
    }
    assert!(
        ok_commits > 100 && failed > 20,
        "the test must exercise both paths: {ok_commits} ok, {failed} failed"
    );
}
