//! One picture the image decoder cannot handle does not take a batch
//! `guwah add` down: a valid tiled TIFF with separate colour planes, on
//! which the `tiff` crate panics (image-rs/image-tiff#403), is sealed like
//! any file, with a warning that it has no perceptual hash, and the other
//! pictures of the folder are sealed and hashed.

mod common;

use std::path::Path;

use common::*;
use serde_json::Value;

fn tiled_planar_tiff() -> Vec<u8> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../guwah-pdq/tests/data/tiled-planar.tif");
    std::fs::read(p).expect("fixture crates/guwah-pdq/tests/data/tiled-planar.tif")
}

/// Waves across the picture: detail enough for a usable PDQ hash, and the
/// same at any size.
fn picture(w: u32, h: u32) -> image::RgbImage {
    image::RgbImage::from_fn(w, h, |x, y| {
        let (u, v) = (f64::from(x) / f64::from(w), f64::from(y) / f64::from(h));
        let wave = |t: f64| (127.5 + 127.5 * (t * std::f64::consts::TAU).sin()) as u8;
        image::Rgb([wave(3.0 * u), wave(2.0 * v + u), wave(4.0 * u * v)])
    })
}

fn encoded(img: &image::RgbImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).expect("encode");
    out.into_inner()
}

#[test]
fn a_decoder_panic_is_a_warning_and_the_batch_is_sealed_and_hashed() {
    let v = TestVault::init();
    let dir = v.work.join("batch");
    std::fs::create_dir(&dir).unwrap();
    let tiff = tiled_planar_tiff();
    // Added in name order: one picture before the TIFF, one after it.
    std::fs::write(
        dir.join("a-photo.png"),
        encoded(&picture(256, 192), image::ImageFormat::Png),
    )
    .unwrap();
    std::fs::write(dir.join("b-tiled-planar.tif"), &tiff).unwrap();
    std::fs::write(
        dir.join("c-jpeg-copy.jpg"),
        encoded(&picture(256, 192), image::ImageFormat::Jpeg),
    )
    .unwrap();

    let o = v.run(&["add", dir.to_str().unwrap()]);
    must_succeed(&o, "guwah add DIR");
    let stdout = String::from_utf8_lossy(&o.stdout);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(
        stdout.lines().filter(|l| l.starts_with("added")).count(),
        3,
        "{stdout}"
    );
    let note = stdout
        .lines()
        .find(|l| l.starts_with("note") && l.contains("b-tiled-planar.tif"))
        .unwrap_or_else(|| panic!("no warning about the TIFF:\n{stdout}"));
    assert!(
        note.contains("not hashed for `guwah similar`") && note.contains("decoder crashed"),
        "{note}"
    );
    assert!(
        !stderr.contains("panicked"),
        "the caught panic is reported raw too:\n{stderr}"
    );

    let items = v.list();
    assert_eq!(items.len(), 3, "{items:?}");
    let id_of = |name: &str| {
        items
            .iter()
            .find(|i| i.to_string().contains(name))
            .and_then(|i| i["id"].as_str())
            .unwrap_or_else(|| panic!("{name} not sealed: {items:?}"))
            .to_string()
    };
    assert_eq!(v.get(&id_of("b-tiled-planar.tif")), tiff);

    // Both other pictures were hashed (the one after the TIFF too): they
    // are found as near-duplicates of each other.
    let dups: Value = serde_json::from_str(&v.ok(&["--json", "duplicates"])).unwrap();
    assert_eq!(dups["hashed_items"], 2, "{dups}");
    let mut names: Vec<&str> = dups["clusters"][0]
        .as_array()
        .unwrap_or_else(|| panic!("no cluster: {dups}"))
        .iter()
        .map(|i| i["filename"].as_str().unwrap())
        .collect();
    names.sort();
    assert_eq!(names, ["a-photo.png", "c-jpeg-copy.jpg"]);
    let similar: Value =
        serde_json::from_str(&v.ok(&["--json", "similar", &id_of("b-tiled-planar.tif")])).unwrap();
    assert!(
        similar["notes"].to_string().contains("no perceptual hash"),
        "{similar}"
    );
    v.ok(&["verify"]);
}
