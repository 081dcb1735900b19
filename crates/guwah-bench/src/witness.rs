//! `guwah-bench --witness`: a witness answering `add-checkpoint` from many
//! logs at once, against in-process cosignature signing as the ceiling.
//!
//! N logs (origins), each with its own Ed25519 key, are configured in a
//! fresh witness folder; `guwah witness serve` runs on 127.0.0.1; M clients
//! (tasks on one thread, as a load generator runs them), each owning N/M
//! logs and one keep-alive connection, send `add-checkpoint` requests that
//! grow their logs by one to four leaves (with the consistency proof from
//! the size last cosigned), one at a time per connection, for a fixed time. Reported: requests/s and p50/p99
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

use std::io::{BufRead, BufReader as StdBufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use guwah_core::checkpoint::{Checkpoint, sign_checkpoint};
use guwah_core::merkle::{self, Hash, NodeSource};
use guwah_core::note::{CosignatureSigner, NoteVerifier, Signer};
use guwah_core::witness::{self, AddCheckpointRequest};
use guwah_vault::witness_store::WitnessStore;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

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

/// A whole `POST /add-checkpoint` request, head and body, for one write.
fn http_request(body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST /add-checkpoint HTTP/1.1\r\nHost: bench\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    req
}

/// Reads one response; its status.
async fn read_response(s: &mut BufReader<TcpStream>) -> Result<u16, String> {
    let mut line = String::new();
    s.read_line(&mut line).await.map_err(|e| e.to_string())?;
    let status: u16 = line
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .ok_or(format!("bad status line {line:?}"))?;
    let mut len = 0usize;
    loop {
        line.clear();
        s.read_line(&mut line).await.map_err(|e| e.to_string())?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            len = v.trim().parse().map_err(|_| "bad content-length")?;
        }
    }
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await.map_err(|e| e.to_string())?;
    Ok(status)
}

/// One client: its prepared requests in order, one at a time, on one
/// keep-alive connection, until they run out or `deadline`.
async fn client(
    addr: String,
    requests: Vec<Vec<u8>>,
    deadline: Instant,
) -> Result<(Vec<Duration>, u64, Instant), String> {
    let s = TcpStream::connect(&addr).await.map_err(|e| e.to_string())?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    let mut s = BufReader::new(s);
    let mut lat = Vec::with_capacity(requests.len());
    let mut errors = 0u64;
    for req in &requests {
        if Instant::now() >= deadline {
            break;
        }
        let t = Instant::now();
        s.get_mut()
            .write_all(req)
            .await
            .map_err(|e| e.to_string())?;
        let status = read_response(&mut s).await?;
        lat.push(t.elapsed());
        if status != 200 {
            errors += 1;
        }
    }
    Ok((lat, errors, Instant::now()))
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

/// Runs the benchmark with `logs` origins and `clients` connections for `secs`.
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
    StdBufReader::new(out)
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

    // Load: every client is a task on one thread (as a load generator
    // would be: one wake-up serves many connections), each sending its
    // prepared requests one at a time.
    let prepared: Vec<Vec<Vec<u8>>> = prepared
        .into_iter()
        .map(|(_, bodies)| bodies.iter().map(|b| http_request(b)).collect())
        .collect();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let deadline = Instant::now() + Duration::from_secs(secs);
    let start = Instant::now();
    let outcomes = runtime.block_on(async {
        let tasks: Vec<_> = prepared
            .into_iter()
            .map(|requests| {
                let limit = Duration::from_secs(secs + 30);
                tokio::spawn(tokio::time::timeout(
                    limit,
                    client(addr.clone(), requests, deadline),
                ))
            })
            .collect();
        let mut outcomes = Vec::with_capacity(tasks.len());
        for t in tasks {
            outcomes.push(match t.await {
                Ok(Ok(r)) => r,
                Ok(Err(_)) => Err("a client timed out".to_owned()),
                Err(e) => Err(format!("client task: {e}")),
            });
        }
        outcomes
    });
    let mut lat = Vec::new();
    let mut errors = 0;
    let mut end = start;
    for outcome in outcomes {
        let (l, e, done) = outcome?;
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
