//! Hostile bags and packages against memory: a zip of tag files that
//! expand a thousandfold, more tag files than may be held in memory, and a
//! huge tag file nothing parses. Each run of `guwah` gets a 2 GB address
//! space (`prlimit --as`) and its peak memory is measured: a refusal is a
//! clean one-line error, never an abort, and memory stays bounded.

mod common;
mod support;

use std::path::Path;
use std::process::Command;

use guwah_core::bag::{Algorithm, MultiHasher};
use support::{Deflated, deflate, deflate_zeros, run_limited, write_zip};

const MIB: u64 = 1 << 20;

fn guwah(args: &[&str], path: &Path) -> Command {
    let mut c = Command::new(common::bin());
    c.env_remove("GUWAH_VAULT")
        .env_remove("GUWAH_PASSPHRASE")
        .arg("--quiet")
        .args(args)
        .arg(path);
    c
}

fn stderr(o: &std::process::Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The bomb: `bagit.txt`, an empty `manifest-sha256.txt` and forty
/// tag files `guwah/tN` of 60 MiB (5,000 random bytes, then zeros) at
/// deflate level 9: about 2.7 MB expanding to 2.4 GiB.
fn tag_bomb(path: &Path) {
    let bagit = deflate(guwah_core::bag::bagit_txt().as_bytes());
    let manifest = deflate(b"");
    let mut rng = common::Rng::from_env("tag_bomb");
    let t = deflate_zeros(&rng.bytes(5000), 60 * MIB);
    let names: Vec<String> = (0..40).map(|i| format!("guwah/t{i}")).collect();
    let mut entries: Vec<(&str, &Deflated)> =
        vec![("bagit.txt", &bagit), ("manifest-sha256.txt", &manifest)];
    entries.extend(names.iter().map(|n| (n.as_str(), &t)));
    write_zip(path, &entries);
}

#[test]
fn a_zip_of_tag_files_that_expands_a_thousandfold_is_refused_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let zip = tmp.path().join("it.zip");
    tag_bomb(&zip);
    let size = std::fs::metadata(&zip).unwrap().len();
    assert!(size < 4 * MIB, "{size}");
    for cmd in [&["bag", "validate"][..], &["verify-bundle"][..]] {
        let (o, peak) = run_limited(&mut guwah(cmd, &zip));
        let err = stderr(&o);
        assert_eq!(o.status.code(), Some(3), "{cmd:?}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        for want in [
            zip.to_str().unwrap(),
            "zip refused: entry \"guwah/t",
            &format!("the archive's {size} bytes"),
            "--max-expansion RATIO",
        ] {
            assert!(err.contains(want), "{cmd:?}: {want:?} not in {err}");
        }
        assert!(peak < 64 * MIB, "{cmd:?}: peak memory {peak} bytes");
    }
    // Lifted, the tag files (which BagIt validation does not parse) are
    // hashed as they stream by: the bag is judged (it has no data/), in
    // bounded memory, rather than held whole.
    let (o, peak) = run_limited(&mut guwah(
        &["bag", "validate", "--max-expansion", "unlimited"],
        &zip,
    ));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}{}", stderr(&o));
    assert!(out.contains("error: data/: missing"), "{out}");
    assert!(peak < 100 * MIB, "peak memory {peak} bytes");
    // A bad ratio is a usage error.
    let o = guwah(&["bag", "validate", "--max-expansion", "0"], &zip)
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

/// A bag folder: `bagit.txt`, `data/a.txt` and a sha256 payload manifest.
fn small_bag(root: &Path) {
    std::fs::create_dir_all(root.join("data")).unwrap();
    std::fs::write(root.join("bagit.txt"), guwah_core::bag::bagit_txt()).unwrap();
    std::fs::write(root.join("data/a.txt"), b"hello\n").unwrap();
    let d = MultiHasher::digest(&[Algorithm::Sha256], b"hello\n");
    std::fs::write(
        root.join("manifest-sha256.txt"),
        format!("{}  data/a.txt\n", d.digests[&Algorithm::Sha256]),
    )
    .unwrap();
}

/// A sparse file of `size` zero bytes.
fn sparse(path: &Path, size: u64) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::File::create(path).unwrap().set_len(size).unwrap();
}

#[test]
fn tag_files_a_verifier_reads_are_capped_in_all() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = tmp.path().join("pkg");
    small_bag(&bag);
    // Eight item files of 60 MiB: each under the per-file limit, 480 MiB in all.
    for i in 0..8 {
        sparse(&bag.join(format!("guwah/items/big{i}.txt")), 60 * MIB);
    }
    let (o, peak) = run_limited(&mut guwah(&["verify-bundle"], &bag));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(": guwah/items/big"), "{err}");
    assert!(
        err.contains("more than the 268435456-byte limit in all"),
        "{err}"
    );
    assert!(peak < 400 * MIB, "peak memory {peak} bytes");
    // One item file over the per-file limit is named too.
    let one = tmp.path().join("one");
    small_bag(&one);
    sparse(&one.join("guwah/items/huge.txt"), 65 * MIB);
    let (o, _) = run_limited(&mut guwah(&["verify-bundle"], &one));
    let err = stderr(&o);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("guwah/items/huge.txt: tag file of 68157440 bytes is larger than the 67108864-byte limit"),
        "{err}"
    );
}

#[test]
fn a_huge_tag_file_nothing_parses_is_hashed_in_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let bag = tmp.path().join("bag");
    small_bag(&bag);
    let size = 300 * MIB;
    sparse(&bag.join("extra/big.bin"), size);
    // Listed in a tag manifest, so its digest is checked, not just skipped.
    let mut h = MultiHasher::new(&[Algorithm::Sha256]);
    let zeros = vec![0u8; MIB as usize];
    for _ in 0..size / MIB {
        h.update(&zeros);
    }
    let digest = h.finish().digests[&Algorithm::Sha256].clone();
    let manifest = std::fs::read(bag.join("manifest-sha256.txt")).unwrap();
    let listed = |big: &str| {
        let m = MultiHasher::digest(&[Algorithm::Sha256], &manifest);
        format!(
            "{big}  extra/big.bin\n{}  manifest-sha256.txt\n",
            m.digests[&Algorithm::Sha256]
        )
    };
    let tagmanifest = bag.join("tagmanifest-sha256.txt");
    std::fs::write(&tagmanifest, listed(&digest)).unwrap();
    let (o, peak) = run_limited(&mut guwah(&["bag", "validate"], &bag));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(0), "{out}{}", stderr(&o));
    assert!(out.contains("valid BagIt 1.0 bag"), "{out}");
    assert!(peak < 100 * MIB, "peak memory {peak} bytes");
    // A wrong digest is caught.
    std::fs::write(&tagmanifest, listed(&"0".repeat(64))).unwrap();
    let (o, _) = run_limited(&mut guwah(&["bag", "validate"], &bag));
    let out = String::from_utf8_lossy(&o.stdout);
    assert_eq!(o.status.code(), Some(1), "{out}");
    assert!(
        out.contains("extra/big.bin: sha256 checksum mismatch"),
        "{out}"
    );
}
