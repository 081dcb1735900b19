//! `guwah-bench --witness`: a witness answering `add-checkpoint` from many
//! logs at once, against in-process cosignature signing as the ceiling.
//!
//! N logs (origins), each with its own Ed25519 key, are configured in a
//! fresh witness folder; `guwah witness serve` runs on 127.0.0.1; M client
//! threads, each owning N/M logs, grow their logs by one to four leaves
//! per request and send `add-checkpoint` (with the consistency proof) over
//! keep-alive connections for a fixed time. Reported: requests/s and
//! p50/p99 latency, next to Ed25519 cosignatures/s signed in-process on
//! one thread (the work a witness cannot avoid).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use guwah_core::checkpoint::{Checkpoint, sign_checkpoint};
use guwah_core::merkle::{self, Hash, LeafHashes};
use guwah_core::note::{CosignatureSigner, Signer};
use guwah_core::witness::AddCheckpointRequest;
use guwah_vault::witness_store::WitnessStore;

/// What the witness benchmark measured.
pub struct WitnessResult {
    /// Logs, client threads, seconds.
    pub logs: usize,
    /// Client threads.
    pub clients: usize,
    /// Successful requests per second.
    pub rps: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Requests that did not get a 200.
    pub errors: u64,
    /// In-process cosignatures per second on one thread.
    pub sign_rate: f64,
}

struct Log {
    origin: String,
    signer: Signer,
    leaves: Vec<Hash>,
    witnessed: u64,
}

struct Child2(Child);

impl Drop for Child2 {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn post(stream: &mut BufReader<TcpStream>, body: &[u8]) -> Result<(u16, Vec<u8>), String> {
    let head = format!(
        "POST /add-checkpoint HTTP/1.1\r\nHost: bench\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let s = stream.get_mut();
    s.write_all(head.as_bytes())
        .and_then(|_| s.write_all(body))
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    stream.read_line(&mut line).map_err(|e| e.to_string())?;
    let status: u16 = line
        .get(9..12)
        .and_then(|s| s.parse().ok())
        .ok_or(format!("bad status line {line:?}"))?;
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        stream.read_line(&mut h).map_err(|e| e.to_string())?;
        if h == "\r\n" || h.is_empty() {
            break;
        }
        if let Some(v) = h.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().map_err(|_| "bad content-length")?;
        }
    }
    let mut out = vec![0u8; len];
    stream.read_exact(&mut out).map_err(|e| e.to_string())?;
    Ok((status, out))
}

fn request(log: &mut Log, grow: usize, seq: u64) -> Vec<u8> {
    let n = log.leaves.len() as u64;
    for i in 0..grow {
        let mut leaf = log.origin.clone().into_bytes();
        leaf.extend_from_slice(&(seq * 8 + i as u64).to_be_bytes());
        log.leaves.push(merkle::leaf_hash(&leaf));
    }
    let _ = n;
    let size = log.leaves.len() as u64;
    let cp = Checkpoint {
        origin: log.origin.clone(),
        size,
        root: merkle::root_from_leaf_hashes(&log.leaves),
        extensions: Vec::new(),
    };
    let note = sign_checkpoint(&cp, &log.signer).unwrap_or_default();
    let proof = merkle::consistency_proof(log.witnessed, size, &mut LeafHashes(&log.leaves))
        .unwrap_or_default();
    AddCheckpointRequest::encode(log.witnessed, &proof, note.as_bytes())
}

/// Runs the benchmark with `logs` origins and `clients` threads for `secs`.
pub fn run(
    guwah: &Path,
    dir: &Path,
    logs: usize,
    clients: usize,
    secs: u64,
) -> Result<WitnessResult, String> {
    let wdir = dir.join("witness-bench");
    let _ = std::fs::remove_dir_all(&wdir);
    WitnessStore::init(&wdir, "bench.witness").map_err(|e| e.to_string())?;
    let mut all: Vec<Log> = Vec::with_capacity(logs);
    for i in 0..logs {
        let origin = format!("bench.example/log{i}");
        let mut seed = [0u8; 32];
        seed[..8].copy_from_slice(&(i as u64 + 1).to_be_bytes());
        let signer = Signer::generate(&origin, seed).map_err(|e| e.to_string())?;
        WitnessStore::add_log(&wdir, &signer.verifier().to_vkey(), None)
            .map_err(|e| e.to_string())?;
        all.push(Log {
            origin,
            signer,
            leaves: Vec::new(),
            witnessed: 0,
        });
    }
    let mut child = Command::new(guwah)
        .args(["witness", "serve", "--addr", "127.0.0.1:0", "--dir"])
        .arg(&wdir)
        .args(["--threads", &clients.max(1).to_string()])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| format!("{}: {e}", guwah.display()))?;
    let mut line = String::new();
    let out = child.stdout.take().ok_or("no stdout")?;
    let child = Child2(child);
    BufReader::new(out)
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let addr = line
        .split_whitespace()
        .find_map(|w| w.strip_prefix("http://"))
        .ok_or(format!("witness did not print its address: {line:?}"))?
        .to_owned();

    // Ceiling: cosignatures signed in-process on one thread.
    let cosigner =
        CosignatureSigner::generate("bench.witness", [9; 32]).map_err(|e| e.to_string())?;
    let body = "bench.example/log0\n12345\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n";
    let t = Instant::now();
    let mut n = 0u64;
    while t.elapsed() < Duration::from_secs(1) {
        for _ in 0..100 {
            std::hint::black_box(
                cosigner
                    .cosign(body.as_bytes(), n)
                    .map_err(|e| e.to_string())?,
            );
            n += 1;
        }
    }
    let sign_rate = n as f64 / t.elapsed().as_secs_f64();

    // Load.
    let per = logs.div_ceil(clients.max(1));
    let mut groups: Vec<Vec<Log>> = Vec::new();
    while !all.is_empty() {
        let rest = all.split_off(per.min(all.len()));
        groups.push(std::mem::replace(&mut all, rest));
    }
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let handles: Vec<_> = groups
        .into_iter()
        .enumerate()
        .map(|(g, mut group)| {
            let addr = addr.clone();
            std::thread::spawn(move || -> Result<(Vec<Duration>, u64), String> {
                let s = TcpStream::connect(&addr).map_err(|e| e.to_string())?;
                s.set_read_timeout(Some(Duration::from_secs(30)))
                    .map_err(|e| e.to_string())?;
                let _ = s.set_nodelay(true);
                let mut s = BufReader::new(s);
                let mut lat = Vec::new();
                let mut errors = 0u64;
                let mut seq = 0u64;
                while Instant::now() < deadline {
                    let i = (seq as usize) % group.len();
                    let grow = 1 + ((seq as usize + g) % 4);
                    let body = request(&mut group[i], grow, seq);
                    let t = Instant::now();
                    let (status, _) = post(&mut s, &body)?;
                    lat.push(t.elapsed());
                    if status == 200 {
                        group[i].witnessed = group[i].leaves.len() as u64;
                    } else {
                        errors += 1;
                    }
                    seq += 1;
                }
                Ok((lat, errors))
            })
        })
        .collect();
    let mut lat = Vec::new();
    let mut errors = 0;
    for h in handles {
        let (l, e) = h.join().map_err(|_| "client thread panicked")??;
        lat.extend(l);
        errors += e;
    }
    let wall = start.elapsed();
    drop(child);
    let _ = std::fs::remove_dir_all(&wdir);
    lat.sort();
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 * p) as usize).min(lat.len().saturating_sub(1)))
            .copied()
            .unwrap_or_default()
    };
    Ok(WitnessResult {
        logs,
        clients,
        rps: (lat.len() as u64 - errors) as f64 / wall.as_secs_f64(),
        p50: pct(0.50),
        p99: pct(0.99),
        errors,
        sign_rate,
    })
}
