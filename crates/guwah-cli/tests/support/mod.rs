//! Hostile-archive helpers for the limit tests: deflated zip entries made
//! here with flate2 (never committed), and running `guwah` under an
//! address-space limit while measuring its peak memory.
#![allow(dead_code)]

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output};

/// One deflated entry: its compressed bytes, CRC-32 and size.
pub struct Deflated {
    pub data: Vec<u8>,
    pub crc: u32,
    pub size: u64,
}

/// `prefix` then zeros up to `size` bytes, deflated at level 9 in 1 MiB
/// steps (the zeros are never all in memory). A random prefix keeps the
/// ratio just under the zip reader's per-entry limit of 1000.
pub fn deflate_zeros(prefix: &[u8], size: u64) -> Deflated {
    let mut enc = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(9));
    let mut crc = flate2::Crc::new();
    enc.write_all(prefix).unwrap();
    crc.update(prefix);
    let zeros = vec![0u8; 1 << 20];
    let mut left = size - prefix.len() as u64;
    while left > 0 {
        let n = left.min(zeros.len() as u64) as usize;
        enc.write_all(&zeros[..n]).unwrap();
        crc.update(&zeros[..n]);
        left -= n as u64;
    }
    Deflated {
        data: enc.finish().unwrap(),
        crc: crc.sum(),
        size,
    }
}

/// Deflated bytes of `bytes`.
pub fn deflate(bytes: &[u8]) -> Deflated {
    deflate_zeros(bytes, bytes.len() as u64)
}

/// A zip (no ZIP64: every size under 4 GiB) of deflated entries.
pub fn write_zip(path: &Path, entries: &[(&str, &Deflated)]) {
    let mut out = Vec::new();
    let mut central = Vec::new();
    for (name, e) in entries {
        let offset = out.len() as u32;
        let header = |sig: u32, central: bool| {
            let mut h = Vec::new();
            h.extend_from_slice(&sig.to_le_bytes());
            if central {
                h.extend_from_slice(&20u16.to_le_bytes()); // made by
            }
            h.extend_from_slice(&20u16.to_le_bytes()); // needed
            h.extend_from_slice(&0u16.to_le_bytes()); // flags
            h.extend_from_slice(&8u16.to_le_bytes()); // deflate
            h.extend_from_slice(&[0, 0, 0x21, 0]); // time, date 1980-01-01
            h.extend_from_slice(&e.crc.to_le_bytes());
            h.extend_from_slice(&(e.data.len() as u32).to_le_bytes());
            h.extend_from_slice(&(e.size as u32).to_le_bytes());
            h.extend_from_slice(&(name.len() as u16).to_le_bytes());
            h.extend_from_slice(&0u16.to_le_bytes()); // extra
            if central {
                h.extend_from_slice(&[0; 6]); // comment, disk, internal attributes
                h.extend_from_slice(&0u32.to_le_bytes()); // external
                h.extend_from_slice(&offset.to_le_bytes());
            }
            h.extend_from_slice(name.as_bytes());
            h
        };
        out.extend_from_slice(&header(0x0403_4b50, false));
        out.extend_from_slice(&e.data);
        central.extend_from_slice(&header(0x0201_4b50, true));
    }
    let cd_off = out.len() as u32;
    out.extend_from_slice(&central);
    out.extend_from_slice(&0x0605_4b50u32.to_le_bytes());
    out.extend_from_slice(&[0; 4]);
    let n = entries.len() as u16;
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&n.to_le_bytes());
    out.extend_from_slice(&(central.len() as u32).to_le_bytes());
    out.extend_from_slice(&cd_off.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    std::fs::write(path, out).unwrap();
}

/// Bytes of address space `guwah` gets in these tests (as in the issue).
pub const AS_LIMIT: u64 = 2_000_000_000;

/// Runs `cmd` under `prlimit --as=AS_LIMIT` (util-linux) and returns its
/// output and peak resident memory in bytes, read from the kernel's
/// accounting of the finished child (getrusage, through Python's
/// `resource`: the test itself stays free of `unsafe`). glibc's per-thread
/// malloc arenas reserve address space they never use: two are enough
/// here, and the limit then measures memory, not reservations.
pub fn run_limited(cmd: &mut Command) -> (Output, u64) {
    const WRAP: &str = r#"
import resource, subprocess, sys
r = subprocess.run(sys.argv[1:])
sys.stderr.write("\nPEAK_RSS_KIB=%d\n" % resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)
sys.exit(r.returncode if r.returncode >= 0 else 128 - r.returncode)
"#;
    let mut w = Command::new("python3");
    w.arg("-c")
        .arg(WRAP)
        .arg("prlimit")
        .arg(format!("--as={AS_LIMIT}"))
        .arg(cmd.get_program())
        .args(cmd.get_args())
        .env("MALLOC_ARENA_MAX", "2");
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => w.env(k, v),
            None => w.env_remove(k),
        };
    }
    let mut o = w.output().expect("python3 and prlimit are needed");
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    let (rest, peak) = err
        .rsplit_once("\nPEAK_RSS_KIB=")
        .expect("the wrapper reports the peak");
    let kib: u64 = peak.trim().parse().expect("a number");
    o.stderr = rest.as_bytes().to_vec();
    eprintln!(
        "{:?}: exit {:?}, peak memory {} MiB",
        cmd.get_args().collect::<Vec<_>>(),
        o.status.code(),
        kib / 1024
    );
    (o, kib * 1024)
}
