//! `guwah-bench --witness`: a witness answering `add-checkpoint` from many
//! logs at once, against in-process cosignature signing as the ceiling.
//!
//! N logs (origins), each with its own Ed25519 key, are configured in a
//! fresh witness folder; `guwah witness serve` runs on 127.0.0.1; M client
//! threads, each owning N/M logs and one keep-alive connection, send
//! `add-checkpoint` requests that grow their logs by one to four leaves
//! (with the consistency proof from the size last cosigned), one at a time
//! per connection, for a fixed time. Reported: requests/s and p50/p99
//! latency, next to Ed25519 cosignatures/s signed in-process on one thread
//! (the work a witness cannot avoid), and the witness's own decision
//! (parse, verify the log's signature, check the proof, cosign) in-process
//! on one thread, without HTTP or disk.
//!
//! The logs' side is computed before the clock starts: signing checkpoints
//! and proofs is the logs' work, on their machines, not the witness's; in
//! the timed loop a client only writes a prepared request and reads the
//! answer. Each request assumes the previous one for its log succeeded, so
//! a refusal makes the rest of that log's requests fail too (counted).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use guwah_core::checkpoint::{Checkpoint, sign_checkpoint};
use guwah_core::merkle::{self, Hash, NodeSource};
use guwah_core::note::{CosignatureSigner, NoteVerifier, Signer};
use guwah_core::witness::{self, AddCheckpointRequest};
use guwah_vault::witness_store::WitnessStore;

/// Requests prepared per second of the run: more than a witness on this
/// kind of machine can answer, so the clients do not run dry.
const PREPARED_PER_SECOND: usize = 40_000;

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
    /// In-process witness decisions (verify, check, cosign) per second on one thread.
    pub logic_rate: f64,
}

struct Log {
    origin: String,
    signer: Signer,
    tree: Tree,
    witnessed: u64,
}

/// A Merkle tree keeping every perfect subtree's hash: appends, roots and
/// proofs in O(log n), so preparing requests stays cheap as logs grow.
#[derive(Default)]
struct Tree {
    levels: Vec<Vec<Hash>>,
}

impl Tree {
    fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    fn push(&mut self, leaf: Hash) {
        let mut node = leaf;
        let mut level = 0;
        loop {
            if self.levels.len() == level {
                self.levels.push(Vec::new());
            }
            self.levels[level].push(node);
            let l = &self.levels[level];
            if l.len() % 2 == 1 {
                return;
            }
            node = merkle::node_hash(&l[l.len() - 2], &l[l.len() - 1]);
            level += 1;
        }
    }
}

impl NodeSource for Tree {
    type Error = String;
    fn node(&mut self, level: u8, index: u64) -> Result<Hash, String> {
        self.levels
            .get(usize::from(level))
            .and_then(|l| l.get(index as usize))
            .copied()
            .ok_or_else(|| format!("no node {level}/{index}"))
    }
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
    // One write: head and body in one segment, as a client library would.
    let mut req = Vec::with_capacity(head.len() + body.len());
    req.extend_from_slice(head.as_bytes());
    req.extend_from_slice(body);
    stream
        .get_mut()
        .write_all(&req)
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

/// The next request of `log`, growing it by `grow` leaves.
fn request(log: &mut Log, grow: usize, seq: u64) -> Result<Vec<u8>, String> {
    for i in 0..grow {
        let mut leaf = log.origin.clone().into_bytes();
        leaf.extend_from_slice(&(seq * 8 + i as u64).to_be_bytes());
        log.tree.push(merkle::leaf_hash(&leaf));
    }
    let size = log.tree.size();
    let cp = Checkpoint {
        origin: log.origin.clone(),
        size,
        root: merkle::tree_root(size, &mut log.tree)?,
        extensions: Vec::new(),
    };
    let note = sign_checkpoint(&cp, &log.signer).map_err(|e| e.to_string())?;
    let proof = if log.witnessed == 0 {
        Vec::new()
    } else {
        merkle::consistency_proof(log.witnessed, size, &mut log.tree)
            .map_err(|e| format!("{e:?}"))?
    };
    let body = AddCheckpointRequest::encode(log.witnessed, &proof, note.as_bytes());
    log.witnessed = size;
    Ok(body)
}

/// A client's requests, in order, round robin over its logs.
fn prepare(group: &mut [Log], group_no: usize, count: usize) -> Result<Vec<Vec<u8>>, String> {
    (0..count)
        .map(|seq| {
            let grow = 1 + ((seq + group_no) % 4);
            let i = seq % group.len();
            request(&mut group[i], grow, seq as u64)
        })
        .collect()
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
            tree: Tree::default(),
            witnessed: 0,
        });
    }
    let mut child = Command::new(guwah)
        .args(["witness", "serve", "--addr", "127.0.0.1:0", "--dir"])
        .arg(&wdir)
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

    // The logs' side, before the clock: every request each client will send.
    let per = logs.div_ceil(clients.max(1));
    let mut groups: Vec<Vec<Log>> = Vec::new();
    while !all.is_empty() {
        let rest = all.split_off(per.min(all.len()));
        groups.push(std::mem::replace(&mut all, rest));
    }
    let each = PREPARED_PER_SECOND * secs as usize / groups.len().max(1);
    let prepared: Vec<(Vec<Log>, Vec<Vec<u8>>)> = std::thread::scope(|scope| {
        let jobs: Vec<_> = groups
            .into_iter()
            .enumerate()
            .map(|(g, mut group)| {
                scope.spawn(move || prepare(&mut group, g, each).map(|r| (group, r)))
            })
            .collect();
        jobs.into_iter()
            .map(|j| {
                j.join()
                    .map_err(|_| "preparing requests panicked".to_owned())?
            })
            .collect::<Result<_, String>>()
    })?;

    // Second reference: the witness's decision in-process, one thread, no
    // HTTP and no disk, over the first client's requests in order.
    let logic_rate = {
        let (group, bodies) = &prepared[0];
        let keys: Vec<_> = group.iter().map(|l| l.signer.verifier()).collect();
        let mut state = std::collections::HashMap::new();
        let t = Instant::now();
        let mut n = 0u64;
        for body in bodies {
            let req = AddCheckpointRequest::parse(body).map_err(|e| e.to_string())?;
            let key = keys
                .iter()
                .find(|k| k.name() == req.checkpoint.origin)
                .ok_or("no key")?;
            let (new, line) = witness::add_checkpoint(
                state.get(&req.checkpoint.origin),
                &req,
                &[key as &dyn NoteVerifier],
                &cosigner,
                1,
            )
            .map_err(|e| e.to_string())?;
            std::hint::black_box(line);
            state.insert(req.checkpoint.origin.clone(), new);
            n += 1;
            if t.elapsed() >= Duration::from_secs(1) {
                break;
            }
        }
        n as f64 / t.elapsed().as_secs_f64()
    };

    // Load: each client sends its prepared requests, one at a time.
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let handles: Vec<_> = prepared
        .into_iter()
        .map(|(_, bodies)| {
            let addr = addr.clone();
            std::thread::spawn(move || -> Result<(Vec<Duration>, u64, Instant), String> {
                let s = TcpStream::connect(&addr).map_err(|e| e.to_string())?;
                s.set_read_timeout(Some(Duration::from_secs(30)))
                    .map_err(|e| e.to_string())?;
                let _ = s.set_nodelay(true);
                let mut s = BufReader::new(s);
                let mut lat = Vec::with_capacity(bodies.len());
                let mut errors = 0u64;
                for body in &bodies {
                    if Instant::now() >= deadline {
                        break;
                    }
                    let t = Instant::now();
                    let (status, _) = post(&mut s, body)?;
                    lat.push(t.elapsed());
                    if status != 200 {
                        errors += 1;
                    }
                }
                Ok((lat, errors, Instant::now()))
            })
        })
        .collect();
    let mut lat = Vec::new();
    let mut errors = 0;
    let mut end = start;
    for h in handles {
        let (l, e, done) = h.join().map_err(|_| "client thread panicked")??;
        lat.extend(l);
        errors += e;
        end = end.max(done);
    }
    // Until the last client stopped (earlier than the deadline if the
    // prepared requests ran out).
    let wall = end - start;
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
        logic_rate,
    })
}
