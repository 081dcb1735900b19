//! `--pdq`: PDQ hashing against PyPI `pdqhash` (Meta's C++ reference behind
//! a Cython wrapper), and multi-index-hashing query latency at 1M hashes.
//!
//! For every image under `shared/fixtures/pdq` (or `--pdq-images DIR`):
//!
//! * **hash only** — the image is decoded once (ours with the `image` crate,
//!   the reference's with PIL), then the hash of those pixels is timed
//!   `reps` times: `guwah_pdq::hash_rgb` against `pdqhash.compute` (which
//!   includes its NumPy luminance conversion, as ours includes ours);
//! * **end to end** — from the file's bytes (in the page cache) to the hash:
//!   `guwah_pdq::hash_image_bytes` against `PIL.Image.open(...).convert("RGB")`
//!   and `pdqhash.compute`.
//!
//! Both sides run single-threaded on the same machine; per image the mean is
//! printed, and the ratio reference / guwah (> 1 means guwah is faster).
//! Then 1 000 000 random hashes plus planted near-duplicates go into a
//! `MihIndex`, and 2 000 radius-31 queries are timed (p50 / p99; target
//! under 10 ms).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use guwah_pdq::{DecodeLimits, Hash256, MihIndex};

const PY: &str = r#"
import sys, time, numpy as np, pdqhash
from PIL import Image
reps = int(sys.argv[1])
for path in sys.argv[2:]:
    img = np.ascontiguousarray(np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8))
    pdqhash.compute(img)
    t = time.perf_counter()
    for _ in range(reps):
        pdqhash.compute(img)
    hash_s = (time.perf_counter() - t) / reps
    t = time.perf_counter()
    for _ in range(reps):
        x = np.ascontiguousarray(np.asarray(Image.open(path).convert("RGB"), dtype=np.uint8))
        pdqhash.compute(x)
    e2e_s = (time.perf_counter() - t) / reps
    print(f"{hash_s}\t{e2e_s}\t{path}", flush=True)
"#;

fn images(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("jpg" | "png" | "webp")
            ) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn ms(s: f64) -> String {
    format!("{:.3}", s * 1e3)
}

/// Run the PDQ benchmark.
pub fn run(image_dir: Option<&Path>, reps: usize, quick: bool) -> Result<(), String> {
    let default_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/fixtures/pdq");
    let dir = image_dir.unwrap_or(&default_dir);
    let files = images(dir);
    if files.is_empty() {
        return Err(format!("no images under {}", dir.display()));
    }
    println!(
        "== PDQ hashing: guwah-pdq vs PyPI pdqhash, {} images, {reps} reps each",
        files.len()
    );
    let py = Command::new("python3")
        .arg("-c")
        .arg(PY)
        .arg(reps.to_string())
        .args(&files)
        .output()
        .map_err(|e| format!("python3: {e}"))?;
    if !py.status.success() {
        return Err(format!(
            "pdqhash reference failed (install: python3 -m pip install pdqhash numpy pillow): {}",
            String::from_utf8_lossy(&py.stderr)
        ));
    }
    let reference: Vec<(f64, f64)> = String::from_utf8_lossy(&py.stdout)
        .lines()
        .filter_map(|l| {
            let mut f = l.split('\t');
            Some((f.next()?.parse().ok()?, f.next()?.parse().ok()?))
        })
        .collect();
    if reference.len() != files.len() {
        return Err("pdqhash reference printed fewer lines than images".into());
    }
    println!(
        "{:<44} {:>10} {:>9} {:>10} {:>7} {:>9} {:>9} {:>7}",
        "image", "size", "guwah ms", "pdqhash ms", "ratio", "e2e ours", "e2e ref", "ratio"
    );
    let (mut sum_ours, mut sum_ref, mut sum_e2e_ours, mut sum_e2e_ref) = (0.0, 0.0, 0.0, 0.0);
    for (path, (ref_hash, ref_e2e)) in files.iter().zip(&reference) {
        let bytes = std::fs::read(path).map_err(|e| e.to_string())?;
        let (rgb, w, h) = guwah_pdq::decode::decode_rgb(&bytes, DecodeLimits::default())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        std::hint::black_box(guwah_pdq::hash_rgb(&rgb, w, h));
        let t = Instant::now();
        for _ in 0..reps {
            std::hint::black_box(guwah_pdq::hash_rgb(std::hint::black_box(&rgb), w, h));
        }
        let ours = t.elapsed().as_secs_f64() / reps as f64;
        let t = Instant::now();
        for _ in 0..reps {
            std::hint::black_box(
                guwah_pdq::hash_image_bytes(std::hint::black_box(&bytes), DecodeLimits::default())
                    .map_err(|e| e.to_string())?,
            );
        }
        let e2e = t.elapsed().as_secs_f64() / reps as f64;
        let name = path.strip_prefix(dir).unwrap_or(path).display().to_string();
        println!(
            "{:<44} {:>10} {:>9} {:>10} {:>6.2}x {:>9} {:>9} {:>6.2}x",
            name,
            format!("{w}x{h}"),
            ms(ours),
            ms(*ref_hash),
            ref_hash / ours,
            ms(e2e),
            ms(*ref_e2e),
            ref_e2e / e2e
        );
        sum_ours += ours;
        sum_ref += ref_hash;
        sum_e2e_ours += e2e;
        sum_e2e_ref += ref_e2e;
    }
    println!(
        "{:<44} {:>10} {:>9} {:>10} {:>6.2}x {:>9} {:>9} {:>6.2}x",
        "TOTAL (sum of per-image means)",
        "",
        ms(sum_ours),
        ms(sum_ref),
        sum_ref / sum_ours,
        ms(sum_e2e_ours),
        ms(sum_e2e_ref),
        sum_e2e_ref / sum_e2e_ours
    );
    let pass = sum_ours <= sum_ref;
    println!(
        "target: hashing at least as fast as the C++ reference per image: {}",
        if pass { "PASS" } else { "MISS" }
    );

    let n = if quick { 200_000 } else { 1_000_000 };
    println!("== near-duplicate query: MIH over {n} hashes, radius 31");
    let (build, p50, p99, found) = mih_latency(n, 2000);
    println!(
        "build {build:.2} s; query p50 {p50:.3} ms, p99 {p99:.3} ms; planted neighbours found: {found}"
    );
    println!(
        "target: query under 10 ms: {}",
        if p99 < 10.0 { "PASS" } else { "MISS" }
    );
    Ok(())
}

/// Build an index of `n` random hashes (plus a planted neighbour within 31
/// bits for each query) and time `queries` radius-31 queries: returns
/// (build seconds, p50 ms, p99 ms, planted neighbours found).
pub fn mih_latency(n: usize, queries: usize) -> (f64, f64, f64, usize) {
    let mut s = 0x9e37_79b9_7f4a_7c15u64;
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
    let mut hashes: Vec<Hash256> = (0..n).map(|_| random()).collect();
    let probes: Vec<Hash256> = (0..queries).map(|_| random()).collect();
    for (i, q) in probes.iter().enumerate() {
        let mut near = *q;
        for k in 0..(i % 32) {
            near.0[(k * 7) % 32] ^= 1 << (k % 8);
        }
        hashes.push(near);
    }
    let t = Instant::now();
    let index = MihIndex::new(&hashes);
    let build = t.elapsed().as_secs_f64();
    let mut times = Vec::with_capacity(queries);
    let mut found = 0;
    for q in &probes {
        let t = Instant::now();
        let hits = index.query(q, 31);
        times.push(t.elapsed().as_secs_f64() * 1e3);
        found += usize::from(!hits.is_empty());
    }
    times.sort_by(f64::total_cmp);
    let pct = |p: f64| times[((times.len() as f64 * p) as usize).min(times.len() - 1)];
    (build, pct(0.50), pct(0.99), found)
}
