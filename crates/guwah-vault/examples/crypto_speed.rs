//! Throughput of blob encryption and decryption.
//!
//! `cargo run --release -p guwah-vault --example crypto_speed [MiB] [dir]`
//! encrypts MiB (default 2048) of zeros to a null sink and then to a file in
//! `dir` (default the system temp dir), and decrypts that file to a null sink.

use std::io::{self, BufReader, Read};
use std::time::Instant;

use guwah_vault::crypto::stream::{BlobKey, decrypt_and_hash, encrypt_and_hash};

/// Reads `left` zero bytes, like `/dev/zero` limited in size.
struct Zeros {
    left: u64,
}

impl Read for Zeros {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = (buf.len() as u64).min(self.left) as usize;
        buf[..n].fill(0);
        self.left -= n as u64;
        Ok(n)
    }
}

fn report(what: &str, bytes: u64, start: Instant) {
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{what:<42} {:>8.0} MiB in {secs:6.2} s = {:6.2} GB/s",
        bytes as f64 / (1 << 20) as f64,
        bytes as f64 / secs / 1e9
    );
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mib: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(2048);
    let dir = args
        .next()
        .map(std::path::PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    let size = mib << 20;
    let key = BlobKey::generate()?;

    let start = Instant::now();
    let sealed = encrypt_and_hash(Zeros { left: size }, io::sink(), &key, &mut |_| {})?;
    report("encrypt_and_hash zeros -> sink", sealed.size, start);

    let file = tempfile::NamedTempFile::new_in(&dir)?;
    let start = Instant::now();
    let sealed = encrypt_and_hash(Zeros { left: size }, file.as_file(), &key, &mut |_| {})?;
    file.as_file().sync_all()?;
    report(
        "encrypt_and_hash zeros -> file (+fsync)",
        sealed.size,
        start,
    );

    let start = Instant::now();
    let reader = BufReader::with_capacity(0, file.reopen()?);
    let opened = decrypt_and_hash(reader, io::sink(), &key, &mut |_| {})?;
    report("decrypt_and_hash file -> sink", opened.size, start);
    assert_eq!(opened, sealed);
    Ok(())
}
