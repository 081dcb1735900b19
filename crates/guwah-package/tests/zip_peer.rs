//! Our ZIP writer and reader against Python's `zipfile`, a peer we did not write.

use std::fs::File;
use std::io::Read;
use std::path::Path;
use std::process::Command;

use guwah_package::zip::{ZipArchive, ZipLimits, ZipWriter};

fn python(script: &str, args: &[&Path]) {
    let o = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .output()
        .expect("python3 is needed");
    assert!(
        o.status.success(),
        "python: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

const CHECK: &str = r#"
import sys, zipfile, hashlib
z = zipfile.ZipFile(sys.argv[1])
assert z.testzip() is None
names = z.namelist()
assert len(names) == int(sys.argv[2]), len(names)
h = hashlib.sha256()
for n in names:
    h.update(n.encode() + b"\0" + z.read(n))
assert h.hexdigest() == sys.argv[3], h.hexdigest()
"#;

fn write(path: &Path, n: usize, force64: bool) -> String {
    use sha2_free::Sha;
    let mut z =
        ZipWriter::new(std::io::BufWriter::new(File::create(path).unwrap())).force_zip64(force64);
    let mut sha = Sha::default();
    for i in 0..n {
        let name = format!("bag/data/f{i:06}-é.txt");
        let body = format!("entry {i}\n").repeat(i % 7);
        z.add_entry(&name, body.as_bytes()).unwrap();
        sha.feed(&name, body.as_bytes());
    }
    z.finish().unwrap();
    sha.hex()
}

/// A tiny dependency-free stand-in for hashing names and bodies in order:
/// we compare against Python's sha256 through guwah-core's hasher.
mod sha2_free {
    use guwah_core::bag::{Algorithm, MultiHasher};
    pub struct Sha(MultiHasher);
    impl Default for Sha {
        fn default() -> Self {
            Sha(MultiHasher::new(&[Algorithm::Sha256]))
        }
    }
    impl Sha {
        pub fn feed(&mut self, name: &str, body: &[u8]) {
            self.0.update(name.as_bytes());
            self.0.update(b"\0");
            self.0.update(body);
        }
        pub fn hex(self) -> String {
            self.0.finish().digests[&Algorithm::Sha256].clone()
        }
    }
}

fn read_all(path: &Path) -> Vec<(String, Vec<u8>)> {
    let a = ZipArchive::open_path(path, &ZipLimits::default()).unwrap();
    a.entries()
        .iter()
        .map(|e| {
            let mut v = Vec::new();
            ZipArchive::reader(e, File::open(path).unwrap())
                .unwrap()
                .read_to_end(&mut v)
                .unwrap();
            (e.name.clone(), v)
        })
        .collect()
}

#[test]
fn python_reads_ours_plain_and_forced_zip64() {
    let tmp = tempfile::tempdir().unwrap();
    for force in [false, true] {
        let p = tmp.path().join(format!("t{force}.zip"));
        let h = write(&p, 50, force);
        python(CHECK, &[&p, Path::new("50"), Path::new(&h)]);
        assert_eq!(read_all(&p).len(), 50);
    }
}

#[test]
fn python_reads_ours_with_more_than_65535_entries() {
    let tmp = tempfile::tempdir().unwrap();
    let p = tmp.path().join("many.zip");
    let h = write(&p, 70_000, false);
    python(CHECK, &[&p, Path::new("70000"), Path::new(&h)]);
    assert_eq!(read_all(&p).len(), 70_000);
}

#[test]
fn we_read_pythons_stored_deflated_and_zip64() {
    let tmp = tempfile::tempdir().unwrap();
    for (name, args) in [
        ("s.zip", "zipfile.ZIP_STORED"),
        ("d.zip", "zipfile.ZIP_DEFLATED"),
    ] {
        let p = tmp.path().join(name);
        python(
            &format!(
                "import sys, zipfile\nz = zipfile.ZipFile(sys.argv[1], 'w', {args})\n\
                 z.mkdir('dir') if hasattr(z, 'mkdir') else None\n\
                 z.writestr('dir/a.txt', 'hello ' * 1000)\n\
                 with z.open('big.bin', 'w', force_zip64=True) as f: f.write(bytes(range(256)) * 64)\n\
                 z.writestr('empty', '')\nz.close()"
            ),
            &[&p],
        );
        let got = read_all(&p);
        let names: Vec<&str> = got.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["dir/a.txt", "big.bin", "empty"]);
        assert_eq!(got[0].1, "hello ".repeat(1000).as_bytes());
        assert_eq!(got[1].1.len(), 256 * 64);
        assert!(got[2].1.is_empty());
    }
}

#[test]
fn writer_refuses_unsafe_and_duplicate_names() {
    let mut z = ZipWriter::new(Vec::new());
    assert!(z.add_entry("../x", &b""[..]).is_err());
    assert!(z.add_entry("/x", &b""[..]).is_err());
    assert!(z.add_entry("a\\b", &b""[..]).is_err());
    z.add_entry("a", &b"1"[..]).unwrap();
    assert!(z.add_entry("a", &b"2"[..]).is_err());
}

#[test]
fn garbage_never_panics() {
    let mut z = ZipWriter::new(Vec::new());
    z.add_entry("x/y", &b"hello"[..]).unwrap();
    let good = z.finish().unwrap();
    for cut in 0..good.len() {
        let mut c = std::io::Cursor::new(good[..cut].to_vec());
        let _ = ZipArchive::open(&mut c, &ZipLimits::default());
    }
    for i in 0..good.len() {
        let mut b = good.clone();
        b[i] ^= 0xFF;
        let mut c = std::io::Cursor::new(b.clone());
        if let Ok(a) = ZipArchive::open(&mut c, &ZipLimits::default()) {
            for e in a.entries() {
                if let Ok(mut r) = ZipArchive::reader(e, std::io::Cursor::new(b.clone())) {
                    let _ = r.read_to_end(&mut Vec::new());
                }
            }
        }
    }
}

const BOMB: &str = r#"
import sys, zipfile, random
r = random.Random(7)
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
    z.writestr("bag/", b"")
    z.writestr("bag/data/", b"")
    for i in range(3):
        z.writestr("bag/t%d" % i, r.randbytes(5000) + bytes((60 << 20) - 5000))
"#;

#[test]
fn the_expansion_budget_is_relative_to_the_archive() {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("bomb.zip");
    python(BOMB, &[&path]);
    let size = std::fs::metadata(&path).unwrap().len();
    // 180 MiB declared in about 200 KB: past 64 MiB + 100 x the archive.
    match ZipArchive::open_path(&path, &ZipLimits::default()) {
        Err(e @ guwah_package::zip::ZipError::Expansion { .. }) => {
            let msg = e.to_string();
            assert!(msg.contains("entry \"bag/t1\""), "{msg}");
            assert!(msg.contains(&format!("archive's {size} bytes")), "{msg}");
            assert!(msg.contains("--max-expansion"), "{msg}");
            assert!(!msg.contains('\n'), "{msg}");
        }
        other => panic!("expected the expansion budget, got {other:?}"),
    }
    // Raised or lifted, the same archive opens and reads in full.
    for max_expansion in [Some(1000), None] {
        let limits = ZipLimits {
            max_expansion,
            ..ZipLimits::default()
        };
        let a = ZipArchive::open_path(&path, &limits).unwrap();
        assert_eq!(a.entries().len(), 3);
        assert!(a.has_dir("bag/data") && a.has_dir("bag") && !a.has_dir("bag/t0"));
        let mut r = ZipArchive::reader(&a.entries()[2], File::open(&path).unwrap()).unwrap();
        assert_eq!(
            std::io::copy(&mut r, &mut std::io::sink()).unwrap(),
            60 << 20
        );
    }
}
