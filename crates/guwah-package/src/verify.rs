//! Checking a package's items on every core: the native
//! [`ItemRunner`] for [`guwah_core::bundle::prepare_bundle`].

use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use guwah_core::bundle::{ItemRunner, ItemVerdict};

/// Runs item checks on one thread per core. Each item's checks (two
/// Ed25519 signatures and two inclusion proofs, typically) are independent
/// of every other item's.
pub struct Threads {
    threads: usize,
}

impl Default for Threads {
    fn default() -> Self {
        Threads {
            threads: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
                .clamp(1, 16),
        }
    }
}

/// Items handed to a thread at a time: enough to make the hand-over cheap,
/// few enough to keep the threads' ends close together.
const BATCH: usize = 32;

impl ItemRunner for Threads {
    fn run(&self, n: usize, check: &(dyn Fn(usize) -> ItemVerdict + Sync)) -> Vec<ItemVerdict> {
        if self.threads <= 1 || n <= BATCH {
            return (0..n).map(check).collect();
        }
        let next = AtomicUsize::new(0);
        let done: Mutex<Vec<(usize, ItemVerdict)>> = Mutex::new(Vec::with_capacity(n));
        std::thread::scope(|s| {
            for _ in 0..self.threads {
                s.spawn(|| {
                    loop {
                        let start = next.fetch_add(BATCH, Ordering::Relaxed);
                        if start >= n {
                            return;
                        }
                        let batch: Vec<(usize, ItemVerdict)> = (start..(start + BATCH).min(n))
                            .map(|i| (i, check(i)))
                            .collect();
                        if let Ok(mut d) = done.lock() {
                            d.extend(batch);
                        }
                    }
                });
            }
        });
        let mut done = done.into_inner().unwrap_or_default();
        // A poisoned lock (a panicking check) would lose verdicts: redo
        // whatever is missing on this thread rather than report fewer items.
        if done.len() != n {
            let have: std::collections::BTreeSet<usize> = done.iter().map(|(i, _)| *i).collect();
            done.extend((0..n).filter(|i| !have.contains(i)).map(|i| (i, check(i))));
        }
        done.sort_by_key(|(i, _)| *i);
        done.into_iter().map(|(_, v)| v).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(i: usize) -> ItemVerdict {
        ItemVerdict {
            id: i.to_string(),
            size: i as u64,
            ..ItemVerdict::default()
        }
    }

    #[test]
    fn results_come_back_in_index_order() {
        for n in [0, 1, 31, 32, 33, 1000] {
            let out = Threads { threads: 3 }.run(n, &verdict);
            let sizes: Vec<u64> = out.iter().map(|v| v.size).collect();
            assert_eq!(sizes, (0..n as u64).collect::<Vec<_>>(), "n = {n}");
        }
    }
}
