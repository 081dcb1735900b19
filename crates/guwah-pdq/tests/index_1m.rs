//! The near-duplicate index at one million hashes: every planted neighbour
//! (distance 0..=31) is found, and queries stay under 10 ms (p99).

use std::time::Instant;

use guwah_pdq::{Hash256, MihIndex};

#[test]
fn one_million_hashes_query_under_10ms() {
    let mut s = 0x1234_5678_9abc_def1u64;
    let mut next = move || {
        s ^= s >> 12;
        s ^= s << 25;
        s ^= s >> 27;
        s.wrapping_mul(0x2545_f491_4f6c_dd1d)
    };
    let mut random = || {
        let mut b = [0u8; 32];
        for c in b.chunks_mut(8) {
            c.copy_from_slice(&next().to_le_bytes());
        }
        Hash256(b)
    };
    let mut hashes: Vec<Hash256> = (0..1_000_000).map(|_| random()).collect();
    let probes: Vec<Hash256> = (0..200).map(|_| random()).collect();
    let mut planted = Vec::new();
    for (i, q) in probes.iter().enumerate() {
        // Distance i % 32, spread over all 16 chunks.
        let mut near = *q;
        for k in 0..(i % 32) {
            let bit = (k * 67 + 13) % 256;
            near.0[bit / 8] ^= 1 << (bit % 8);
        }
        planted.push((hashes.len() as u32, (i % 32) as u32));
        hashes.push(near);
    }
    let index = MihIndex::new(&hashes);
    let mut times = Vec::new();
    for (q, &(id, d)) in probes.iter().zip(&planted) {
        let t = Instant::now();
        let hits = index.query(q, 31);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        assert!(
            hits.contains(&(id, d)),
            "planted neighbour at {d} bits missed"
        );
        // Random 256-bit hashes are ~128 bits apart: nothing else is near.
        assert_eq!(hits.len(), 1);
    }
    times.sort_by(f64::total_cmp);
    let (p50, p99) = (times[times.len() / 2], times[times.len() * 99 / 100]);
    println!("MIH 1M hashes, radius 31: p50 {p50:.3} ms, p99 {p99:.3} ms");
    assert!(p99 < 10.0, "p99 {p99:.3} ms");
}
