//! PDQ against the references:
//!
//! * every row of `shared/fixtures/pdq/expected.csv` whose image exists
//!   (hashes printed by Meta's C++ tool): distance ≤ 16 asserted, printed;
//! * PyPI `pdqhash` (Meta's C++ wrapped for Python) on the same files, decoded
//!   by PIL: on PIL's pixels our hash must be *identical* (0 bits — this
//!   checks the algorithm), and on our own decode the distance is printed and
//!   must be ≤ 16 (this measures decoder differences);
//! * `shared/fixtures/vpdq`: frames sampled by `ffmpeg` within 31 bits of the
//!   upstream per-frame hashes.
//!
//! `pdqhash` and `ffmpeg` are required: a missing one fails with the install
//! command rather than silently passing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use guwah_pdq::decode::DecodeLimits;
use guwah_pdq::{Hash256, hash_image_file, hash_rgb};

/// `shared/fixtures` beside the checkout: the nearest ancestor of this
/// crate holding one (the repository may be a worktree one level deeper).
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared/fixtures"))
        .find(|p| p.is_dir())
        .expect("shared/fixtures next to the repository (see README)")
}

fn expected_rows() -> Vec<(String, Hash256)> {
    let csv = std::fs::read_to_string(fixtures().join("pdq/expected.csv")).expect("expected.csv");
    csv.lines()
        .skip(1)
        .filter_map(|l| l.split_once(','))
        .filter_map(|(p, h)| Hash256::from_hex(h.trim()).ok().map(|h| (p.to_string(), h)))
        .collect()
}

#[test]
fn expected_csv_within_16_bits() {
    let root = fixtures().join("pdq");
    let mut checked = 0;
    let mut total = 0u32;
    for (path, want) in expected_rows() {
        let file = root.join(&path);
        if path.contains("..") || !file.is_file() {
            continue;
        }
        let got = hash_image_file(&file, DecodeLimits::default()).expect("decodes");
        let d = got.hash.distance(&want);
        println!("expected.csv {path}: {d} bits (quality {})", got.quality);
        assert!(d <= 16, "{path}: {d} bits from the reference, more than 16");
        checked += 1;
        total += d;
    }
    println!("expected.csv: {checked} images, {total} bits in all");
    assert!(checked >= 20, "only {checked} fixture images found");
}

/// Every image under the PDQ fixtures.
fn all_images() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .expect("fixture folder")
            .map(|e| e.expect("entry").path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out);
            } else if matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("jpg" | "png" | "webp")
            ) {
                out.push(p);
            }
        }
    }
    let mut v = Vec::new();
    walk(&fixtures().join("pdq"), &mut v);
    v
}

#[test]
fn pypi_pdqhash_same_bits() {
    let probe = Command::new("python3")
        .args(["-c", "import pdqhash, numpy, PIL"])
        .status();
    assert!(
        probe.is_ok_and(|s| s.success()),
        "PyPI pdqhash is needed for this test: `python3 -m pip install pdqhash numpy pillow`"
    );
    let images = all_images();
    let out = tempfile_dir();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pdqhash_ref.py");
    let res = Command::new("python3")
        .arg(&script)
        .arg(&out)
        .args(&images)
        .output()
        .expect("python3 runs");
    assert!(
        res.status.success(),
        "{}",
        String::from_utf8_lossy(&res.stderr)
    );
    let mut algo_bits = 0u32;
    let mut decode_dist: BTreeMap<String, u32> = BTreeMap::new();
    for line in String::from_utf8_lossy(&res.stdout).lines() {
        let f: Vec<&str> = line.split('\t').collect();
        let name = Path::new(f[f.len() - 1])
            .strip_prefix(fixtures().join("pdq"))
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        if f[1] == "-" {
            println!("pdqhash {name}: PIL cannot open it ({})", f[2]);
            continue;
        }
        let (w, h): (usize, usize) = (f[1].parse().unwrap(), f[2].parse().unwrap());
        let want = Hash256::from_hex(f[3]).unwrap();
        let rgb = std::fs::read(out.join(format!("{}.rgb", f[0]))).unwrap();
        let same_pixels = hash_rgb(&rgb, w, h);
        let d0 = same_pixels.hash.distance(&want);
        assert_eq!(
            same_pixels.quality.to_string(),
            f[4],
            "{name}: quality differs"
        );
        algo_bits += d0;
        let ours = hash_image_file(Path::new(f[f.len() - 1]), DecodeLimits::default());
        match ours {
            Ok(o) => {
                let d = o.hash.distance(&want);
                println!("pdqhash {name}: same pixels {d0} bits, own decode {d} bits");
                decode_dist.insert(name.clone(), d);
            }
            Err(e) => println!("pdqhash {name}: same pixels {d0} bits, own decode failed: {e}"),
        }
        assert_eq!(
            d0, 0,
            "{name}: PDQ on identical pixels differs from pdqhash"
        );
    }
    assert_eq!(algo_bits, 0);
    let n = decode_dist.len();
    let zero = decode_dist.values().filter(|d| **d == 0).count();
    println!(
        "pdqhash own-decode: {zero}/{n} images at 0 bits, max {} bits",
        decode_dist.values().max().copied().unwrap_or(0)
    );
    for (name, d) in &decode_dist {
        assert!(*d <= 16, "{name}: {d} bits from pdqhash with our decoder");
    }
    let _ = std::fs::remove_dir_all(&out);
}

fn tempfile_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("guwah-pdq-ref-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn vpdq_frames_within_31_bits() {
    assert!(
        guwah_pdq::video::ffmpeg_available(),
        "ffmpeg is needed for this test: `apt-get install ffmpeg`"
    );
    let dir = fixtures().join("vpdq");
    let mut videos = 0;
    for name in [
        "chair-19-sd-bar",
        "chair-22-sd-sepia-bar",
        "pattern-sd-grey-bar",
    ] {
        let txt = std::fs::read_to_string(dir.join(format!("{name}.txt"))).unwrap();
        // frame, quality, hex, seconds
        let reference: Vec<(f64, Hash256)> = txt
            .lines()
            .filter_map(|l| {
                let f: Vec<&str> = l.split(',').collect();
                Some((f.get(3)?.parse().ok()?, Hash256::from_hex(f.get(2)?).ok()?))
            })
            .collect();
        let frames = guwah_pdq::hash_video_file(
            &dir.join(format!("{name}.mp4")),
            &guwah_pdq::VideoOptions::default(),
        )
        .expect("video hashes");
        assert!(!frames.is_empty());
        let mut worst = 0;
        let mut sum = 0;
        for f in &frames {
            // The upstream frame shown at our sample's time.
            let (_, want) = reference
                .iter()
                .rev()
                .find(|(t, _)| *t <= f.seconds + 1e-3)
                .unwrap_or(&reference[0]);
            let d = f.pdq.hash.distance(want);
            worst = worst.max(d);
            sum += d;
            assert!(
                d <= 31,
                "{name} at {:.3}s: {d} bits from vpdq's frame",
                f.seconds
            );
        }
        println!(
            "vpdq {name}: {} sampled frames, mean {:.1} bits, max {worst} bits",
            frames.len(),
            f64::from(sum) / frames.len() as f64
        );
        videos += 1;
    }
    assert_eq!(videos, 3);
}
