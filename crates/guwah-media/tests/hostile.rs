//! Bad input: truncated, zero-size, mislabeled and hostile files give
//! warnings, never a panic, in bounded time.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use guwah_media::{Extracted, extract_bytes};

const TYPES: [&str; 12] = [
    "image/jpeg",
    "image/png",
    "image/webp",
    "image/tiff",
    "image/heic",
    "video/mp4",
    "video/quicktime",
    "audio/mp4",
    "application/pdf",
    "audio/mpeg",
    "audio/wav",
    "audio/flac",
];

/// `shared/fixtures` beside the checkout: the nearest ancestor of this
/// crate holding one (the repository may be a worktree one level deeper).
fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .map(|a| a.join("shared/fixtures"))
        .find(|p| p.is_dir())
        .expect("shared/fixtures next to the repository (see README)")
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() {
            files(&p, out);
        } else if !matches!(
            p.file_name().and_then(|n| n.to_str()),
            Some("SOURCE" | "README")
        ) {
            out.push(p);
        }
    }
}

fn timed(media_type: &str, data: &[u8]) -> Extracted {
    let t = Instant::now();
    let e = extract_bytes(media_type, data);
    assert!(
        t.elapsed() < Duration::from_secs(2),
        "{media_type}: {} bytes took {:?}",
        data.len(),
        t.elapsed()
    );
    for (n, v) in &e.fields {
        assert!(
            !v.is_empty() && v.len() <= guwah_media::MAX_VALUE_LEN,
            "{n}"
        );
    }
    e
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

#[test]
fn media_edge_crashers_give_warnings() {
    let dir = fixtures().join("media-edge");
    for (name, ty) in [
        ("crash_moov-trak", "video/mp4"),
        ("endless_loop.jpg", "image/jpeg"),
        ("oom_large_box.heic", "image/heic"),
        ("invalid-gps", "image/heic"),
    ] {
        let data = std::fs::read(dir.join(name)).expect("media-edge fixture");
        let e = timed(ty, &data);
        eprintln!(
            "{name}: {} fields, warnings {:?}",
            e.fields.len(),
            e.warnings
        );
        if name != "crash_moov-trak" && name != "endless_loop.jpg" {
            assert!(!e.warnings.is_empty(), "{name}: no warning");
        }
    }
}

#[test]
fn every_fixture_truncated_and_flipped_under_every_type() {
    let mut all = Vec::new();
    files(&fixtures().join("exif"), &mut all);
    files(&fixtures().join("media-edge"), &mut all);
    assert!(all.len() > 40);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let mut runs = 0;
    for p in &all {
        let data = std::fs::read(p).unwrap();
        let mut cuts: Vec<usize> = (0..16).map(|i| data.len() * i / 16).collect();
        cuts.extend(
            [1, 2, 3, 4, 7, 8, 12, 16, 100, 1000]
                .iter()
                .filter(|&&c| c < data.len()),
        );
        for cut in cuts {
            // Every parser on every cut: the first 256 KiB keep it quick in
            // debug builds (metadata lives at the head).
            for ty in TYPES {
                timed(ty, &data[..cut.min(256 * 1024)]);
                runs += 1;
            }
        }
        for _ in 0..24 {
            let mut d = data.clone();
            let span = d.len().min(64 * 1024);
            for _ in 0..8 {
                let i = (rng.next() as usize) % span.max(1);
                if let Some(b) = d.get_mut(i) {
                    *b ^= 1 << (rng.next() % 8);
                }
            }
            timed(
                if p.extension().is_some_and(|e| e == "jpg") {
                    "image/jpeg"
                } else {
                    "image/heic"
                },
                &d,
            );
            runs += 1;
        }
    }
    eprintln!("{runs} damaged inputs, no panic");
}

#[test]
fn zero_size_and_mislabeled() {
    for ty in TYPES {
        let e = timed(ty, b"");
        assert_eq!(e.warnings, ["empty file: no metadata"]);
    }
    let e = timed("image/png", b"\xFF\xD8\xFF\xE0 not a png at all");
    assert!(
        e.warnings[0].contains("no PNG signature"),
        "{:?}",
        e.warnings
    );
    let e = timed("image/jpeg", b"hello, this is text");
    assert!(e.warnings[0].contains("JPEG"), "{:?}", e.warnings);
    // Unknown types are not parsed and not warned about.
    assert_eq!(timed("text/plain", b"hello"), Extracted::default());
}

fn png(chunks: &[(&[u8; 4], Vec<u8>)]) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    for (t, d) in chunks {
        v.extend((d.len() as u32).to_be_bytes());
        v.extend(*t);
        v.extend(d);
        v.extend([0; 4]); // CRC is not checked
    }
    v
}

#[test]
fn decompression_bomb_is_cut() {
    let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    z.write_all(&vec![b'a'; 64 * 1024 * 1024]).unwrap();
    let bomb = z.finish().unwrap();
    let mut ztxt = b"Comment\0\0".to_vec();
    ztxt.extend(&bomb);
    let mut ihdr = Vec::new();
    ihdr.extend(u32::MAX.to_be_bytes()); // giant dimensions are only numbers
    ihdr.extend(u32::MAX.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let file = png(&[(b"IHDR", ihdr), (b"zTXt", ztxt), (b"IEND", vec![])]);
    let e = timed("image/png", &file);
    assert!(
        e.warnings.iter().any(|w| w.contains("decompression bomb")),
        "{:?}",
        e.warnings
    );
    assert_eq!(e.get("image.width"), Some("4294967295"));
    assert!(e.get("png.text.comment").unwrap().len() <= guwah_media::MAX_VALUE_LEN);
}

#[test]
fn ifd_loop_is_detected() {
    // IFD0 at 8 with one entry: ExifIFD pointer back to 8.
    let mut t = b"II*\0\x08\0\0\0".to_vec();
    t.extend(1u16.to_le_bytes());
    t.extend(0x8769u16.to_le_bytes());
    t.extend(4u16.to_le_bytes());
    t.extend(1u32.to_le_bytes());
    t.extend(8u32.to_le_bytes());
    t.extend(0u32.to_le_bytes());
    let e = timed("image/tiff", &t);
    assert!(
        e.warnings.iter().any(|w| w.contains("loops")),
        "{:?}",
        e.warnings
    );
}

#[test]
fn deeply_nested_and_huge_boxes() {
    // 100,000 nested `moov` boxes, then one claiming 2^63 bytes.
    let depth = 100_000usize;
    let mut v = Vec::new();
    for i in 0..depth {
        v.extend((((depth - i) * 8) as u32).to_be_bytes());
        v.extend(b"moov");
    }
    let e = timed("video/mp4", &v);
    assert!(e.fields.is_empty());
    let mut big = b"\0\0\0\x01meta".to_vec();
    big.extend((1u64 << 63).to_be_bytes());
    let e = timed("image/heic", &big);
    assert!(!e.warnings.is_empty());
}
