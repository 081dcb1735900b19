//! `guwah log serve` and `guwah log monitor`: the log as C2SP tlog-tiles over HTTP.
//!
//! `serve` publishes `VAULT/log/` read-only through `guwah_server::log`: `/checkpoint`,
//! `/tile/<L>/<N>[.p/<W>]` and `/tile/entries/<N>[.p/<W>]`, only for paths covered by the
//! committed checkpoint.
//!
//! `monitor` follows a published log: it verifies each checkpoint with the log's key, recomputes
//! the root from the tiles, checks consistency with the last checkpoint it saw (kept in a state
//! file), and verifies every new entry against its level-0 tile and, for guwah records, its
//! signature. Every fetch has timeouts and a size limit.

use std::collections::{HashMap, HashSet};
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use clap::Args;
use guwah_core::checkpoint::{Checkpoint, open_checkpoint};
use guwah_core::merkle::{Hash, consistency_proof, leaf_hash, tree_root, verify_consistency};
use guwah_core::note::{self, Verifier};
use guwah_core::record::{EVENT_V1, ITEM_V1, Record};
use guwah_core::tiles::{
    TILE_WIDTH, TileError, TileId, TileNodeSource, entry_bundles_for_size, parse_entry_bundle,
    parse_hash_tile,
};

use crate::Failure;
use crate::cli::Cli;
use crate::commands::write_stdout;
use crate::http::{HttpClient, HttpError};

/// `guwah log serve` arguments.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen address, e.g. 127.0.0.1:8080 (port 0 picks a free port; the address is printed).
    #[arg(long, value_name = "ADDR")]
    pub addr: String,
}

/// `guwah log monitor` arguments.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// The log's base URL (the folder holding `checkpoint` and `tile/`).
    pub url: String,
    /// The log's verifier key (`guwah log key`), or a file holding it; its name is the origin.
    #[arg(long, value_name = "VKEY")]
    pub key: String,
    /// Where to keep the last verified checkpoint between runs (written atomically).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Seconds between checks.
    #[arg(long, value_name = "S", default_value_t = 60)]
    pub interval: u64,
    /// Check once and exit.
    #[arg(long)]
    pub once: bool,
}

// ---------------------------------------------------------------------------------------------
// serve

/// Run `guwah log serve`.
pub fn serve(cli: &Cli, args: &ServeArgs) -> Result<u8, Failure> {
    let vault = crate::commands::open(cli, false)?;
    drop(vault);
    let dir = cli.vault.clone().unwrap_or_default().join("log");
    if !dir.join("checkpoint").is_file() {
        return Err(Failure {
            code: 3,
            message: format!("{}: no checkpoint to serve", dir.display()),
        });
    }
    let listener = std::net::TcpListener::bind(&args.addr).map_err(|e| Failure {
        code: 3,
        message: format!("cannot listen on {}: {e}", args.addr),
    })?;
    let local = listener.local_addr().map_err(|e| Failure {
        code: 5,
        message: format!("listening socket: {e}"),
    })?;
    let line = format!(
        "serving {} at http://{local}/ (C2SP tlog-tiles); stop with Ctrl-C\n",
        dir.display(),
    );
    write_stdout(line.as_bytes())?;
    guwah_server::run(
        listener,
        guwah_server::log::router(dir),
        guwah_server::Limits::default(),
    )
    .map_err(|e| Failure {
        code: 5,
        message: format!("serving {}: {e}", args.addr),
    })?;
    Ok(0)
}

// ---------------------------------------------------------------------------------------------
// monitor

/// The largest checkpoint fetched.
const MAX_CHECKPOINT: u64 = note::MAX_NOTE_SIZE as u64;
/// The largest entry bundle: 256 entries of at most 65,535 bytes, each with a 2-byte length.
const MAX_BUNDLE: u64 = 256 * (2 + 65_535);

/// What the monitor found wrong: misbehaviour of the log (exit 1) or trouble reaching it (5).
fn misbehaved(message: String) -> Failure {
    Failure { code: 1, message }
}

fn unreachable(message: String) -> Failure {
    Failure { code: 5, message }
}

/// A fetch error: the URL and why.
#[derive(Debug)]
struct FetchError {
    url: String,
    why: String,
    /// The server answered, but not 200.
    status: Option<u16>,
}

impl std::fmt::Display for FetchError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.url, self.why)
    }
}

/// The HTTP client (timeouts, per-kind size limits) and a cache for one round.
struct Client {
    http: HttpClient,
    base: String,
    cache: HashMap<String, Vec<u8>>,
}

impl Client {
    fn new(base: &str) -> Self {
        Self {
            http: HttpClient::new("monitor", Duration::from_secs(60), 3),
            base: base.trim_end_matches('/').to_owned(),
            cache: HashMap::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}/{path}", self.base)
    }

    fn get(&self, path: &str, limit: u64) -> Result<Vec<u8>, FetchError> {
        let url = self.url(path);
        let err = |why: String, status| FetchError {
            url: url.clone(),
            why,
            status,
        };
        let reply = self.http.get(&url, limit).map_err(|e| match e {
            HttpError::TooLarge(n) => err(format!("larger than {n} bytes"), None),
            e => err(e.to_string(), None),
        })?;
        if reply.status != 200 {
            return Err(err(
                format!("HTTP status {}", reply.status),
                Some(reply.status),
            ));
        }
        Ok(reply.body)
    }

    /// A tile or bundle, cached: tile paths are immutable.
    fn cached(&mut self, path: String, limit: u64) -> Result<Vec<u8>, FetchError> {
        if let Some(b) = self.cache.get(&path) {
            return Ok(b.clone());
        }
        let bytes = self.get(&path, limit)?;
        self.cache.insert(path, bytes.clone());
        Ok(bytes)
    }

    fn tile(&mut self, id: TileId) -> Result<Vec<u8>, FetchError> {
        // One byte over the exact size is enough to tell "too long" apart.
        self.cached(id.path(), u64::from(id.width) * 32 + 1)
    }
}

/// A tile error as one line naming the tile's full URL.
fn tile_failure(client: &Client, e: TileError<FetchError>) -> Failure {
    match e {
        TileError::Fetch { error, .. } if error.status.is_none_or(|s| s != 404) => {
            if error.why.starts_with("larger than") {
                misbehaved(format!("bad tile {error}"))
            } else {
                unreachable(format!("cannot fetch {error}"))
            }
        }
        TileError::Fetch { error, .. } => {
            misbehaved(format!("missing tile {}: {}", error.url, error.why))
        }
        TileError::TileLength { path, width, got } => misbehaved(format!(
            "bad tile {}: expected {width} hashes ({} bytes), got {got} bytes",
            client.url(&path),
            usize::from(width) * 32
        )),
        TileError::BundleTruncated { path, width, entry } => misbehaved(format!(
            "bad entry bundle {}: expected {width} entries, entry {entry} is truncated",
            client.url(&path)
        )),
        TileError::BundleTrailing { path, width, extra } => misbehaved(format!(
            "bad entry bundle {}: {extra} bytes after its {width} entries",
            client.url(&path)
        )),
        other => misbehaved(format!("bad tiles at {}: {other}", client.base)),
    }
}

fn b64(h: &Hash) -> String {
    B64.encode(h)
}

/// Reads the verifier key: the vkey itself, or a file holding it.
fn read_key(key: &str) -> Result<Verifier, Failure> {
    let text = if Path::new(key).is_file() {
        std::fs::read_to_string(key).map_err(|e| Failure {
            code: 3,
            message: format!("{key}: {e}"),
        })?
    } else {
        key.to_owned()
    };
    Verifier::from_vkey(text.trim()).map_err(|e| Failure {
        code: 3,
        message: format!("--key: not a signed-note verifier key: {e}"),
    })
}

/// The state file: the last verified signed checkpoint, verbatim.
fn load_state(path: &Path, key: &Verifier) -> Result<Option<(Checkpoint, Vec<u8>)>, Failure> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(unreachable(format!("state {}: {e}", path.display()))),
    };
    let (cp, _) = open_checkpoint(&bytes, &[key], key.name()).map_err(|e| Failure {
        code: 3,
        message: format!(
            "state {}: not a checkpoint signed by this key: {e}",
            path.display()
        ),
    })?;
    Ok(Some((cp, bytes)))
}

/// Writes the state durably: temp file, fsync, rename, fsync of the folder.
fn save_state(path: &Path, note: &[u8]) -> Result<(), Failure> {
    let fail = |e: std::io::Error| unreachable(format!("state {}: {e}", path.display()));
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(&dir).map_err(fail)?;
    tmp.write_all(note).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    if let Ok(d) = std::fs::File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// What one round found.
struct Round {
    checkpoint: Checkpoint,
    note: Vec<u8>,
    new_entries: u64,
    records: u64,
    others: u64,
}

/// Run `guwah log monitor`.
pub fn monitor(cli: &Cli, args: &MonitorArgs) -> Result<u8, Failure> {
    let key = read_key(&args.key)?;
    if !(args.url.starts_with("http://") || args.url.starts_with("https://")) {
        return Err(Failure {
            code: 3,
            message: format!("{}: not an http:// or https:// URL", args.url),
        });
    }
    let mut last = match &args.state {
        Some(p) => load_state(p, &key)?,
        None => None,
    };
    loop {
        match check_once(&args.url, &key, last.as_ref().map(|(c, _)| c)) {
            Ok(round) => {
                report(cli, &args.url, &round, last.as_ref().map(|(c, _)| c))?;
                if let Some(p) = &args.state {
                    save_state(p, &round.note)?;
                }
                last = Some((round.checkpoint, round.note));
            }
            // Misbehaviour always ends the monitor; so does anything in --once mode.
            Err(f) if f.code != 5 || args.once => return Err(f),
            Err(f) => eprintln!("guwah: warning: {} (retrying)", f.message),
        }
        if args.once {
            return Ok(0);
        }
        std::thread::sleep(Duration::from_secs(args.interval.max(1)));
    }
}

fn report(cli: &Cli, url: &str, r: &Round, last: Option<&Checkpoint>) -> Result<(), Failure> {
    let cp = &r.checkpoint;
    if cli.json {
        let v = serde_json::json!({
            "url": url,
            "origin": cp.origin,
            "size": cp.size,
            "root": b64(&cp.root),
            "previous_size": last.map(|c| c.size),
            "new_entries": r.new_entries,
            "guwah_records": r.records,
            "other_entries": r.others,
        });
        let mut text = serde_json::to_string(&v).unwrap_or_default();
        text.push('\n');
        write_stdout(text.as_bytes())
    } else {
        let since = match last {
            Some(c) if c.size == cp.size => "; unchanged since the last check".to_owned(),
            Some(c) => format!("; consistent with size {}", c.size),
            None => String::new(),
        };
        let others = if r.others > 0 {
            format!(" and {} entries that are not guwah records", r.others)
        } else {
            String::new()
        };
        let line = format!(
            "ok {url}: size {}, root {}; {} new entries verified ({} guwah records{others}){since}\n",
            cp.size,
            b64(&cp.root),
            r.new_entries,
            r.records,
        );
        write_stdout(line.as_bytes())
    }
}

/// One check of the log at `url` against the last verified checkpoint.
fn check_once(url: &str, key: &Verifier, last: Option<&Checkpoint>) -> Result<Round, Failure> {
    let mut client = Client::new(url);
    let note = client
        .get("checkpoint", MAX_CHECKPOINT)
        .map_err(|e| unreachable(format!("cannot fetch the checkpoint: {e}")))?;
    let (cp, _) = open_checkpoint(&note, &[key], key.name()).map_err(|e| {
        misbehaved(format!(
            "bad checkpoint at {}: {e}",
            client.url("checkpoint")
        ))
    })?;

    if let Some(old) = last {
        if cp.size < old.size {
            return Err(misbehaved(format!(
                "rollback: {url} serves a checkpoint of size {}, smaller than size {} seen before",
                cp.size, old.size
            )));
        }
        if cp.size == old.size && cp.root != old.root {
            return Err(misbehaved(format!(
                "fork: {url} serves size {} with root {}, but size {} was seen with root {}",
                cp.size,
                b64(&cp.root),
                old.size,
                b64(&old.root)
            )));
        }
    }

    // The tree the tiles hold must be the checkpoint's.
    let root = {
        let mut src = TileNodeSource::new(cp.size, |id: TileId| client.tile(id));
        tree_root(cp.size, &mut src)
    };
    let root = root.map_err(|e| tile_failure(&client, e))?;
    if root != cp.root {
        return Err(misbehaved(format!(
            "bad tiles at {url}: they hash to {} but the checkpoint of size {} says {}",
            b64(&root),
            cp.size,
            b64(&cp.root)
        )));
    }

    // Consistency with what was seen before, from the tiles of both sizes.
    let from = match last {
        Some(old) if old.size > 0 && old.size < cp.size => {
            let old_root = {
                let mut src = TileNodeSource::new(old.size, |id: TileId| client.tile(id));
                tree_root(old.size, &mut src)
            };
            let old_root = old_root.map_err(|e| tile_failure(&client, e))?;
            let proof = {
                let mut src = TileNodeSource::new(cp.size, |id: TileId| client.tile(id));
                consistency_proof(old.size, cp.size, &mut src)
            };
            let proof = proof.map_err(|e| match e {
                guwah_core::merkle::ProofError::Node(e) => tile_failure(&client, e),
                other => misbehaved(format!("consistency proof: {other}")),
            })?;
            let ok = verify_consistency(old.size, cp.size, &proof, &old.root, &cp.root);
            if ok.is_err() || old_root != old.root {
                return Err(misbehaved(format!(
                    "fork: the checkpoint of size {} at {url} is not consistent with the \
                     checkpoint of size {} seen before (root {}): the log was rewritten",
                    cp.size,
                    old.size,
                    b64(&old.root)
                )));
            }
            old.size
        }
        Some(old) => old.size,
        None => 0,
    };

    let (records, others) = check_entries(&mut client, cp.size, from)?;
    Ok(Round {
        checkpoint: cp.clone(),
        note,
        new_entries: cp.size - from,
        records,
        others,
    })
}

/// The width of the tile holding hash `index` of level `level` in a tree of `size`.
fn tile_at(size: u64, level: u8, index: u64) -> TileId {
    let count = size >> (u32::from(level) * 8);
    let width = if index >> 8 < count >> 8 {
        TILE_WIDTH
    } else {
        (count & 0xff) as u16
    };
    TileId {
        level,
        index: index >> 8,
        width,
    }
}

/// Checks that a full tile hashes to its entry in the tile above, up to a partial tile (which
/// the root computation covers).
fn bind_tile(
    client: &mut Client,
    size: u64,
    id: TileId,
    bound: &mut HashSet<TileId>,
) -> Result<(), Failure> {
    let mut id = id;
    while id.width == TILE_WIDTH && !bound.contains(&id) {
        let bytes = client
            .tile(id)
            .map_err(|e| tile_failure(client, fetch_err(id.path(), e)))?;
        let hashes = parse_hash_tile(id, &bytes).map_err(|e| tile_failure(client, e.widen()))?;
        let parent = tile_at(size, id.level + 1, id.index);
        let pbytes = client
            .tile(parent)
            .map_err(|e| tile_failure(client, fetch_err(parent.path(), e)))?;
        let phashes =
            parse_hash_tile(parent, &pbytes).map_err(|e| tile_failure(client, e.widen()))?;
        let want = phashes[(id.index & 0xff) as usize];
        if guwah_core::merkle::root_from_leaf_hashes(&hashes) != want {
            return Err(misbehaved(format!(
                "bad tile {}: its hashes do not hash to hash {} of {}",
                client.url(&id.path()),
                id.index & 0xff,
                client.url(&parent.path())
            )));
        }
        bound.insert(id);
        id = parent;
    }
    Ok(())
}

fn fetch_err(path: String, error: FetchError) -> TileError<FetchError> {
    TileError::Fetch { path, error }
}

/// Verifies entries `from..size`: each against its leaf hash in the (bound) level-0 tile, and
/// each guwah record's signature. Returns (guwah records, other entries).
fn check_entries(client: &mut Client, size: u64, from: u64) -> Result<(u64, u64), Failure> {
    let (mut records, mut others) = (0, 0);
    let mut bound = HashSet::new();
    for id in entry_bundles_for_size(size) {
        let first = id.index * 256;
        if first + u64::from(id.width) <= from {
            continue;
        }
        let tile = id.tile();
        bind_tile(client, size, tile, &mut bound)?;
        let bundle_url = client.url(&id.path());
        let bytes = client
            .get(&id.path(), MAX_BUNDLE)
            .map_err(|e| tile_failure(client, fetch_err(id.path(), e)))?;
        let entries =
            parse_entry_bundle(id, &bytes).map_err(|e| tile_failure(client, e.widen()))?;
        let tbytes = client
            .tile(tile)
            .map_err(|e| tile_failure(client, fetch_err(tile.path(), e)))?;
        let hashes = parse_hash_tile(tile, &tbytes).map_err(|e| tile_failure(client, e.widen()))?;
        for (i, (entry, hash)) in entries.iter().zip(&hashes).enumerate() {
            let index = first + i as u64;
            if index < from {
                continue;
            }
            if leaf_hash(entry) != *hash {
                return Err(misbehaved(format!(
                    "bad entry {index} in {bundle_url}: its leaf hash is not hash {i} of {}",
                    client.url(&tile.path())
                )));
            }
            let looks_guwah = [ITEM_V1, EVENT_V1]
                .iter()
                .any(|t| entry.starts_with(format!("{t}\n").as_bytes()));
            match Record::parse(entry) {
                Ok(r) => {
                    r.verify_signature().map_err(|e| {
                        misbehaved(format!("bad entry {index} in {bundle_url}: {e}"))
                    })?;
                    records += 1;
                }
                Err(e) if looks_guwah => {
                    return Err(misbehaved(format!(
                        "bad entry {index} in {bundle_url}: malformed guwah record: {e}"
                    )));
                }
                Err(_) => others += 1,
            }
        }
    }
    Ok((records, others))
}
