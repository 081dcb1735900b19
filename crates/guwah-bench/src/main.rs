//! `guwah-bench`: guwah measured side by side with its physical ceilings.
//!
//! ```text
//! cargo run --release -p guwah-bench -- [--size-gb 2] [--entries 100000] [--dir DIR] [--quick]
//! ```
//!
//! In one run it times, on the same machine, disk and cache state:
//!
//! 1. `guwah add` of one large random file against the ceiling
//!    `max(openssl dgst -sha256 FILE, dd if=FILE of=COPY bs=1M conv=fsync)`,
//!    and guwah's peak RSS (from `wait4(2)`);
//! 2. `guwah verify` of that vault against `openssl dgst -sha256 FILE`;
//! 3. the log append rate through the library (`LogWriter` over the local backend),
//!    and end-to-end `guwah add` of a folder of small files;
//! 4. `guwah --version` (median of 50 runs);
//!
//! and prints a table with each target and PASS/MISS, the machine facts and
//! the exact commands. See `--help` for every option. `--witness` and
//! `--bundle` run one other benchmark instead (see [`witness`], [`bundle`]).

mod bundle;
mod logbench;
mod media;
mod pdq;
mod proc;
mod search;
mod team;
mod witness;

use std::fmt::Write as _;
use std::fs::{self, File};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use proc::{Cmd, Outcome};

const PASSPHRASE: &str = "guwah-bench passphrase";
const HELP: &str = "\
guwah-bench: guwah against its physical ceilings (openssl, dd), side by side.

usage: cargo run --release -p guwah-bench -- [OPTIONS]

  --size-gb N     size of the random file for add/verify, in GiB (default 2)
  --entries N     log entries appended through the library (default 100000)
  --batch N       log entries per stage+commit (default 1000)
  --files N       small files in the folder given to one `guwah add` (default 10000)
  --reps N        timed runs of each large-file measurement; the median is kept (default 1)
  --dir DIR       where inputs (kept between runs) and vaults live
                  (default /var/tmp/guwah-bench; never a tmpfs)
  --cache MODE    cold: sync and drop the page cache before every timed run (needs root;
                  the default when it works); warm: run every command once untimed first
  --guwah PATH    the guwah binary to test (default: build it with
                  `cargo build --release -p guwah` and use target/release/guwah)
  --no-build      do not run cargo; use the existing target/release/guwah
  --quick         fast sanity run: 256 MiB, 10000 entries, 1000 files (under a minute)
  --witness       only the witness benchmark: add-checkpoint from 100 logs by 50 keep-alive
                  clients for 10 s (--quick: 20 logs, 10 clients, 3 s) against in-process
                  signing; the logs' signing and proofs are prepared before the clock starts
  --clients N     with --witness: client connections (each owns logs/N logs)
  --bundle        only the package benchmark: `guwah verify-bundle` of a bag of 10000 files /
                  10 GiB against `openssl dgst -sha256` and `-sha512` run at once (the hashing
                  ceiling) and against `bagit.py --validate --processes 2` (--quick: 2000 files,
                  1 GiB); the input, vault and bag are built once and kept in --dir
  --media         only the metadata benchmark: guwah-media over 1000 images (copies of the
                  exif fixtures) against `exiftool -json -r` on the same folder (target >= 10x)
  --pdq [--quick] only the PDQ benchmark: guwah-pdq against PyPI pdqhash (Meta's C++) on the
                  shared/fixtures/pdq images (20 reps; --quick: 3), then MIH query latency at
                  1M hashes (--quick: 200k); targets: hashing as fast as the reference, query < 10 ms
  --server        only the team-server benchmark: `guwah serve` item reads and listing by 50
                  keep-alive clients against the same stack answering a constant (targets
                  >= 5000/s, p99 < 50 ms), 50 tus uploads cut at random (0 lost, 0 duplicated),
                  one 2 GiB upload against `dd bs=1M conv=fsync` (<= 1.5x, RSS < 200 MiB)
                  (--quick: 200 items, 3 s, 20 uploads, 256 MiB)
  --search [--quick]  only the search benchmark: `guwah serve` over 100,000 items with
                  mixed-language names (--quick: 10,000): start time to the first search
                  (target < 5 s), GET /api/search p50/p99 from 1 and 8 clients (p99 < 50 ms)
  --bundle-files N  payload files in the --bundle package (default 10000)
  --bundle-gb N   payload size of the --bundle package, in GiB (default 10)
  -h, --help      this help";

/// Command-line options.
#[derive(Debug)]
struct Opts {
    size_bytes: u64,
    entries: u64,
    batch: u64,
    files: u64,
    reps: usize,
    dir: Option<PathBuf>,
    cache: Option<CacheMode>,
    guwah: Option<PathBuf>,
    build: bool,
    quick: bool,
    witness: bool,
    bundle: bool,
    media: bool,
    server: bool,
    search: bool,
    bundle_files: u64,
    bundle_bytes: u64,
    clients: Option<usize>,
}

/// How the page cache is put in the same state before every timed run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CacheMode {
    /// `sync; echo 3 > /proc/sys/vm/drop_caches` before each timed run.
    Cold,
    /// Each command run once, untimed, before its timed run.
    Warm,
}

fn parse_args() -> Result<Opts, String> {
    let mut o = Opts {
        size_bytes: 2 << 30,
        entries: 100_000,
        batch: 1_000,
        files: 10_000,
        reps: 1,
        dir: None,
        cache: None,
        guwah: None,
        build: true,
        quick: false,
        witness: false,
        bundle: false,
        media: false,
        server: false,
        search: false,
        bundle_files: 0,
        bundle_bytes: 0,
        clients: None,
    };
    let (mut size, mut entries, mut files) = (None, None, None);
    let (mut bundle_files, mut bundle_bytes) = (None, None);
    let gb_arg = |name: &str, v: String| {
        v.parse()
            .ok()
            .filter(|g: &f64| *g > 0.0 && g.is_finite())
            .map(|gb| (gb * (1u64 << 30) as f64) as u64)
            .ok_or(format!("{name}: {v:?} is not a positive number"))
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        let num = |name: &str, v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{name}: {v:?} is not a whole number"))
        };
        match a.as_str() {
            "--size-gb" => size = Some(gb_arg(&a, value(&a)?)?),
            "--bundle-gb" => bundle_bytes = Some(gb_arg(&a, value(&a)?)?),
            "--bundle-files" => bundle_files = Some(num(&a, value(&a)?)?.max(1)),
            "--entries" => entries = Some(num(&a, value(&a)?)?),
            "--batch" => o.batch = num(&a, value(&a)?)?.max(1),
            "--files" => files = Some(num(&a, value(&a)?)?.max(1)),
            "--reps" => o.reps = num(&a, value(&a)?)?.max(1) as usize,
            "--dir" => o.dir = Some(value(&a)?.into()),
            "--guwah" => o.guwah = Some(value(&a)?.into()),
            "--cache" => {
                o.cache = Some(match value(&a)?.as_str() {
                    "cold" => CacheMode::Cold,
                    "warm" => CacheMode::Warm,
                    v => return Err(format!("--cache: {v:?} is neither cold nor warm")),
                })
            }
            "--no-build" => o.build = false,
            "--quick" => o.quick = true,
            "--witness" => o.witness = true,
            "--clients" => o.clients = Some(num(&a, value(&a)?)?.max(1) as usize),
            "--bundle" => o.bundle = true,
            "--media" => o.media = true,
            "--server" => o.server = true,
            "--search" => o.search = true,
            "-h" | "--help" => {
                println!("{HELP}");
                std::process::exit(0);
            }
            _ => return Err(format!("unknown argument {a:?}; see --help")),
        }
    }
    let (dsize, dentries, dfiles) = if o.quick {
        (256 << 20, 10_000, 1_000)
    } else {
        (o.size_bytes, o.entries, o.files)
    };
    o.size_bytes = size.unwrap_or(dsize);
    o.entries = entries.unwrap_or(dentries).max(1);
    o.files = files.unwrap_or(dfiles);
    let (bfiles, bbytes) = if o.quick {
        (2_000, 1 << 30)
    } else {
        (10_000, 10 << 30)
    };
    o.bundle_files = bundle_files.unwrap_or(bfiles);
    o.bundle_bytes = bundle_bytes.unwrap_or(bbytes).max(o.bundle_files);
    Ok(o)
}

// ---------------------------------------------------------------- machine

/// The mount (point, fs type, device) holding `path`: the longest matching
/// mount point in /proc/mounts.
fn mount_of(path: &Path) -> Option<(String, String, String)> {
    let canon = path.canonicalize().ok()?;
    let mounts = fs::read_to_string("/proc/mounts").ok()?;
    mounts
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let dev = f.next()?.to_owned();
            let point = f.next()?.replace("\\040", " ");
            let fstype = f.next()?.to_owned();
            canon.starts_with(&point).then_some((point, fstype, dev))
        })
        .max_by_key(|(p, _, _)| p.len())
}

/// Free bytes on the file system holding `path`, from `df -Pk`.
fn disk_free(path: &Path) -> Option<u64> {
    let out = std::process::Command::new("df")
        .arg("-Pk")
        .arg(path)
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let line = text.lines().nth(1)?;
    line.split_whitespace()
        .nth(3)?
        .parse::<u64>()
        .ok()
        .map(|k| k * 1024)
}

fn cpu_model() -> String {
    fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, m)| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn mem_total() -> String {
    fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .map(|l| l["MemTotal:".len()..].trim().to_owned())
        })
        .unwrap_or_else(|| "unknown".into())
}

/// The 1/5/15-minute load averages, and how many `rustc` processes run
/// (other builds on the machine skew every number).
fn load() -> String {
    let avg = fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let avg: Vec<&str> = avg.split_whitespace().take(3).collect();
    let rustc = fs::read_dir("/proc")
        .map(|d| {
            d.filter_map(Result::ok)
                .filter(|e| {
                    fs::read_to_string(e.path().join("comm")).is_ok_and(|c| c.trim() == "rustc")
                })
                .count()
        })
        .unwrap_or(0);
    format!("{} ({rustc} rustc processes running)", avg.join(" "))
}

fn tool_version(program: &str, arg: &str) -> Result<String, String> {
    let out = std::process::Command::new(program)
        .arg(arg)
        .output()
        .map_err(|e| {
            format!(
                "`{program}` is needed as a benchmark peer but cannot be run ({e}); install it (e.g. apt-get install {})",
                if program == "dd" { "coreutils" } else { program }
            )
        })?;
    let text = String::from_utf8_lossy(&out.stdout);
    Ok(text.lines().next().unwrap_or("").trim().to_owned())
}

// ---------------------------------------------------------------- inputs

fn fill_random(buf: &mut [u8]) -> Result<(), String> {
    File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(buf))
        .map_err(|e| format!("/dev/urandom: {e}"))
}

/// The large random (incompressible) input, created once and kept.
fn big_file(dir: &Path, size: u64) -> Result<PathBuf, String> {
    let path = dir.join(format!("random-{size}.bin"));
    if fs::metadata(&path).is_ok_and(|m| m.len() == size) {
        println!("input: reusing {}", path.display());
        return Ok(path);
    }
    println!(
        "input: writing {} random bytes to {} (once)",
        size,
        path.display()
    );
    let tmp = dir.join("random.partial");
    let io = |e: std::io::Error| format!("{}: {e}", tmp.display());
    let mut f = File::create(&tmp).map_err(io)?;
    let mut buf = vec![0u8; 1 << 20];
    let mut left = size;
    while left > 0 {
        let n = left.min(buf.len() as u64) as usize;
        fill_random(&mut buf[..n])?;
        f.write_all(&buf[..n]).map_err(io)?;
        left -= n as u64;
    }
    f.sync_all().map_err(io)?;
    fs::rename(&tmp, &path).map_err(io)?;
    Ok(path)
}

/// A folder of `n` small random files (200..=4096 bytes), created once.
fn small_files(dir: &Path, n: u64) -> Result<PathBuf, String> {
    let folder = dir.join(format!("small-{n}"));
    let done = dir.join(format!("small-{n}.done"));
    if done.exists() {
        println!("input: reusing {}", folder.display());
        return Ok(folder);
    }
    println!(
        "input: writing {n} small random files to {}",
        folder.display()
    );
    if folder.exists() {
        fs::remove_dir_all(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    }
    fs::create_dir_all(&folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    let mut pool = vec![0u8; 4096 * 64];
    for i in 0..n {
        if i % 64 == 0 {
            fill_random(&mut pool)?;
        }
        let slot = &pool[(i % 64) as usize * 4096..][..4096];
        let len = 200 + usize::from(u16::from_le_bytes([slot[0], slot[1]])) % (4096 - 200 + 1);
        let path = folder.join(format!("f{i:06}.bin"));
        fs::write(&path, &slot[..len]).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    File::create(&done).map_err(|e| format!("{}: {e}", done.display()))?;
    Ok(folder)
}

// ---------------------------------------------------------------- harness

struct Bench {
    dir: PathBuf,
    guwah: PathBuf,
    cache: CacheMode,
    /// Every distinct command line run, in order, for the report.
    commands: Vec<String>,
}

fn sync_and_drop_caches() -> Result<(), String> {
    std::process::Command::new("sync")
        .status()
        .map_err(|e| format!("sync: {e}"))?;
    fs::write("/proc/sys/vm/drop_caches", "3").map_err(|e| format!("/proc/sys/vm/drop_caches: {e}"))
}

impl Bench {
    fn note(&mut self, cmd: &Cmd) {
        let s = cmd.to_string();
        if !self.commands.contains(&s) {
            self.commands.push(s);
        }
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("stderr.log")
    }

    fn guwah(&self, vault: &Path) -> Cmd {
        Cmd::new(&self.guwah)
            .env("GUWAH_PASSPHRASE", PASSPHRASE)
            .arg("--vault")
            .arg(vault)
            .arg("--quiet")
    }

    /// A fresh, empty vault at `path` (not timed).
    fn fresh_vault(&mut self, path: &Path) -> Result<(), String> {
        remove(path)?;
        let cmd = self
            .guwah(path)
            .arg("init")
            .arg("--origin")
            .arg("bench.example/vault");
        self.note(&cmd);
        proc::run(&cmd, &self.log_path()).map(|_| ())
    }

    /// Time `cmd` once in the chosen cache state. `setup` runs before the
    /// warm-up and before the timed run (e.g. a fresh vault); `cleanup`
    /// after each (e.g. removing a copy).
    fn time(
        &mut self,
        cmd: &Cmd,
        setup: &mut dyn FnMut(&mut Bench) -> Result<(), String>,
        cleanup: &mut dyn FnMut(&mut Bench) -> Result<(), String>,
    ) -> Result<Outcome, String> {
        if self.cache == CacheMode::Warm {
            setup(self)?;
            self.note(cmd);
            proc::run(cmd, &self.log_path())?;
            cleanup(self)?;
        }
        setup(self)?;
        self.note(cmd);
        if self.cache == CacheMode::Cold {
            sync_and_drop_caches()?;
        }
        let out = proc::run(cmd, &self.log_path())?;
        cleanup(self)?;
        Ok(out)
    }

    /// `time` repeated `reps` times; the run with the median wall time.
    fn time_median(
        &mut self,
        reps: usize,
        cmd: &Cmd,
        setup: &mut dyn FnMut(&mut Bench) -> Result<(), String>,
        cleanup: &mut dyn FnMut(&mut Bench) -> Result<(), String>,
    ) -> Result<Outcome, String> {
        let mut runs = Vec::with_capacity(reps);
        for _ in 0..reps {
            runs.push(self.time(cmd, setup, cleanup)?);
        }
        runs.sort_by_key(|o| o.wall);
        Ok(runs[runs.len() / 2])
    }
}

fn remove(path: &Path) -> Result<(), String> {
    let r = if path.is_dir() {
        fs::remove_dir_all(path)
    } else {
        fs::remove_file(path)
    };
    match r {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            Err(format!("cannot remove {}: {e}", path.display()))
        }
        _ => Ok(()),
    }
}

fn nothing(_: &mut Bench) -> Result<(), String> {
    Ok(())
}

// ---------------------------------------------------------------- report

fn secs_ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn secs(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s >= 1.0 {
        format!("{s:.2} s")
    } else {
        format!("{:.1} ms", s * 1e3)
    }
}

fn rate_mb(bytes: u64, d: Duration) -> String {
    format!("{:.0} MB/s", bytes as f64 / 1e6 / d.as_secs_f64())
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

/// One line of the results table.
struct Row {
    what: String,
    guwah: String,
    peer: String,
    ratio: String,
    target: String,
    result: &'static str,
}

fn row(what: impl Into<String>, guwah: impl Into<String>, peer: impl Into<String>) -> Row {
    Row {
        what: what.into(),
        guwah: guwah.into(),
        peer: peer.into(),
        ratio: "-".into(),
        target: "info".into(),
        result: "-",
    }
}

impl Row {
    fn ratio(mut self, r: f64) -> Self {
        self.ratio = format!("{r:.2}");
        self
    }

    fn target(mut self, target: impl Into<String>, pass: bool) -> Self {
        self.target = target.into();
        self.result = if pass { "PASS" } else { "MISS" };
        self
    }
}

fn print_table(rows: &[Row]) {
    let head = [
        "measurement",
        "guwah",
        "peer / ceiling",
        "ratio",
        "target",
        "result",
    ];
    let cells: Vec<[&str; 6]> = rows
        .iter()
        .map(|r| {
            [
                r.what.as_str(),
                &r.guwah,
                &r.peer,
                &r.ratio,
                &r.target,
                r.result,
            ]
        })
        .collect();
    let mut w = head.map(str::len);
    for c in &cells {
        for (i, s) in c.iter().enumerate() {
            w[i] = w[i].max(s.chars().count());
        }
    }
    let line = |c: [&str; 6]| {
        let mut s = String::from("|");
        for (i, x) in c.iter().enumerate() {
            let pad = w[i] - x.chars().count();
            let _ = write!(s, " {x}{} |", " ".repeat(pad));
        }
        s
    };
    println!("{}", line(head));
    let mut sep = String::from("|");
    for n in w {
        let _ = write!(sep, "{}|", "-".repeat(n + 2));
    }
    println!("{sep}");
    for c in cells {
        println!("{}", line(c));
    }
}

// ---------------------------------------------------------------- main

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) if !d.is_empty() => {
            let d = PathBuf::from(d);
            if d.is_absolute() {
                d
            } else {
                workspace_root().join(d)
            }
        }
        _ => workspace_root().join("target"),
    }
}

fn locate_guwah(opts: &Opts, commands: &mut Vec<String>) -> Result<PathBuf, String> {
    if let Some(p) = &opts.guwah {
        return Ok(p.clone());
    }
    if opts.build {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
        let cmd = Cmd::new(&cargo)
            .arg("build")
            .arg("--release")
            .arg("--quiet")
            .arg("-p")
            .arg("guwah");
        println!("building: {cmd}");
        commands.push(format!("(cd {} && {cmd})", workspace_root().display()));
        let status = std::process::Command::new(&cargo)
            .args(&cmd.args)
            .current_dir(workspace_root())
            .status()
            .map_err(|e| format!("cannot run {cargo}: {e}"))?;
        if !status.success() {
            return Err(format!("`{cmd}` failed ({status})"));
        }
    }
    let path = target_dir().join("release/guwah");
    if !path.is_file() {
        return Err(format!(
            "{} does not exist: run `cargo build --release -p guwah` (or drop --no-build)",
            path.display()
        ));
    }
    Ok(path.canonicalize().unwrap_or(path))
}

fn cache_text(cache: CacheMode) -> &'static str {
    match cache {
        CacheMode::Cold => "cold: `sync; echo 3 > /proc/sys/vm/drop_caches` before every timed run",
        CacheMode::Warm => "warm: every command run once, untimed, before its timed run",
    }
}

fn default_dir() -> PathBuf {
    let var_tmp = Path::new("/var/tmp");
    let tmpfs = |p: &Path| mount_of(p).is_some_and(|(_, t, _)| t == "tmpfs" || t == "ramfs");
    if var_tmp.is_dir() && !tmpfs(var_tmp) {
        var_tmp.join("guwah-bench")
    } else {
        target_dir().join("guwah-bench")
    }
}

fn main() -> ExitCode {
    match real_main() {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("guwah-bench: error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn real_main() -> Result<(), String> {
    if std::env::args().any(|a| a == "--pdq") {
        let quick = std::env::args().any(|a| a == "--quick");
        return pdq::run(None, if quick { 3 } else { 20 }, quick);
    }
    let opts = parse_args()?;
    let started = Instant::now();
    if opts.media {
        let dir = opts.dir.clone().unwrap_or_else(default_dir);
        return media::run(&dir, 1000);
    }

    // Peers first: a missing one is a clear error before any work.
    let openssl_version = tool_version("openssl", "version")?;
    let dd_version = tool_version("dd", "--version")?;

    let dir = opts.dir.clone().unwrap_or_else(default_dir);
    fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let dir = dir.canonicalize().unwrap_or(dir);
    let (mount_point, fstype, device) =
        mount_of(&dir).unwrap_or_else(|| ("?".into(), "?".into(), "?".into()));
    if fstype == "tmpfs" || fstype == "ramfs" {
        eprintln!(
            "guwah-bench: warning: {} is on {fstype}: disk numbers would be memory numbers; pass --dir on a real disk",
            dir.display()
        );
    }

    let mut commands = Vec::new();
    let guwah = locate_guwah(&opts, &mut commands)?;

    if opts.server {
        return team::run(&guwah, &dir, opts.quick);
    }
    if opts.search {
        return search::run(&guwah, &dir, opts.quick);
    }
    if opts.witness {
        let (logs, clients, secs) = if opts.quick {
            (20, 10, 3)
        } else {
            (100, 50, 10)
        };
        let clients = opts.clients.unwrap_or(clients);
        println!(
            "== witness: add-checkpoint from {logs} logs, {clients} clients, {secs} s, on 127.0.0.1"
        );
        let r = witness::run(&guwah, &dir, logs, clients, secs)?;
        let rows = vec![
            row(
                format!(
                    "witness add-checkpoint ({} logs, {} clients)",
                    r.logs, r.clients
                ),
                format!("{:.0} req/s", r.rps),
                format!(
                    "{:.0} cosignatures/s signed in-process (1 thread)",
                    r.sign_rate
                ),
            )
            .ratio(r.rps / r.sign_rate)
            .target(">= 0.50", r.rps / r.sign_rate >= 0.5),
            row(
                "witness latency p50 / p99",
                format!("{} / {}", secs_ms(r.p50), secs_ms(r.p99)),
                format!("{} non-200 answers", r.errors),
            )
            .target(
                "p99 < 20 ms",
                r.p99 < Duration::from_millis(20) && r.errors == 0,
            ),
            row(
                "witness decision in-process (verify, check, cosign)",
                format!("{:.0} /s (1 thread)", r.logic_rate),
                format!("{:.0} cosignatures/s (1 thread)", r.sign_rate),
            )
            .ratio(r.logic_rate / r.sign_rate),
        ];
        print_table(&rows);
        return Ok(());
    }

    let cache = match opts.cache {
        Some(CacheMode::Cold) => {
            sync_and_drop_caches().map_err(|e| format!("--cache cold: {e} (needs root)"))?;
            CacheMode::Cold
        }
        Some(CacheMode::Warm) => CacheMode::Warm,
        None => match sync_and_drop_caches() {
            Ok(()) => CacheMode::Cold,
            Err(_) => CacheMode::Warm,
        },
    };

    if opts.bundle {
        println!("== machine");
        let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
        for (k, v) in [
            ("nproc", nproc.to_string()),
            ("load", load()),
            ("cpu", cpu_model()),
            ("memory", mem_total()),
            (
                "bench dir",
                format!(
                    "{} ({fstype} on {device}, mounted at {mount_point})",
                    dir.display()
                ),
            ),
            ("openssl", openssl_version),
            ("guwah", guwah.display().to_string()),
            ("page cache", cache_text(cache).into()),
        ] {
            println!("  {k:<11} {v}");
        }
        let mut b = Bench {
            dir: dir.clone(),
            guwah: guwah.clone(),
            cache,
            commands,
        };
        bundle::run(
            &mut b,
            &bundle::BundleOpts {
                files: opts.bundle_files,
                bytes: opts.bundle_bytes,
                reps: opts.reps,
                quick: opts.quick,
            },
        )?;
        let _ = fs::remove_file(b.log_path());
        println!();
        println!("== commands used");
        for c in &b.commands {
            println!("  {c}");
        }
        println!();
        println!("load at end: {}", load());
        println!(
            "package kept in {} for the next run; total bench time {}",
            dir.display(),
            secs(started.elapsed())
        );
        return Ok(());
    }

    // Room for the input, a dd copy and a vault's encrypted blob.
    let need = opts.size_bytes * 3 + (512 << 20);
    let free = disk_free(&dir);
    if let Some(free) = free {
        let have_input = fs::metadata(dir.join(format!("random-{}.bin", opts.size_bytes)))
            .is_ok_and(|m| m.len() == opts.size_bytes);
        let need = if have_input {
            need - opts.size_bytes
        } else {
            need
        };
        if free < need {
            return Err(format!(
                "{} has {} free; this run needs about {}",
                dir.display(),
                mb(free),
                mb(need)
            ));
        }
    }

    println!("== machine");
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let facts = [
        ("nproc", nproc.to_string()),
        ("load", load()),
        ("cpu", cpu_model()),
        ("memory", mem_total()),
        (
            "kernel",
            fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_owned())
                .unwrap_or_default(),
        ),
        (
            "bench dir",
            format!(
                "{} ({fstype} on {device}, mounted at {mount_point})",
                dir.display()
            ),
        ),
        ("disk free", free.map_or("unknown".into(), mb)),
        ("openssl", openssl_version),
        ("dd", dd_version),
        ("guwah", guwah.display().to_string()),
        ("page cache", cache_text(cache).into()),
        (
            "peak RSS",
            "wait4(2) rusage of each guwah child (ru_maxrss)".into(),
        ),
    ];
    for (k, v) in &facts {
        println!("  {k:<11} {v}");
    }

    let big = big_file(&dir, opts.size_bytes)?;
    let small = small_files(&dir, opts.files)?;
    let size = opts.size_bytes;

    let mut b = Bench {
        dir: dir.clone(),
        guwah: guwah.clone(),
        cache,
        commands,
    };
    let mut rows = Vec::new();
    let gib = size as f64 / (1u64 << 30) as f64;

    // 1. add vs max(sha256, dd).
    println!("== 1. add {gib:.2} GiB vs max(openssl sha256, dd conv=fsync)");
    let sha = Cmd::new("openssl").arg("dgst").arg("-sha256").arg(&big);
    let sha_t = b.time_median(opts.reps, &sha, &mut nothing, &mut nothing)?;
    println!("  openssl dgst -sha256  {}", secs(sha_t.wall));
    let copy = dir.join("copy.bin");
    let dd = Cmd::new("dd")
        .arg(format!("if={}", big.display()))
        .arg(format!("of={}", copy.display()))
        .arg("bs=1M")
        .arg("conv=fsync");
    let copy2 = copy.clone();
    let mut rm_copy = move |_: &mut Bench| remove(&copy2);
    let dd_t = b.time_median(opts.reps, &dd, &mut nothing, &mut rm_copy)?;
    println!("  dd conv=fsync         {}", secs(dd_t.wall));
    let vault = dir.join("vault-big");
    let add = b.guwah(&vault).arg("add").arg(&big);
    let v2 = vault.clone();
    let mut fresh = move |b: &mut Bench| b.fresh_vault(&v2);
    let add_t = b.time_median(opts.reps, &add, &mut fresh, &mut nothing)?;
    println!(
        "  guwah add             {}  (peak RSS {})",
        secs(add_t.wall),
        mb(add_t.max_rss)
    );
    let ceiling = sha_t.wall.max(dd_t.wall);
    let which = if sha_t.wall >= dd_t.wall {
        "sha256"
    } else {
        "dd"
    };
    let r = add_t.wall.as_secs_f64() / ceiling.as_secs_f64();
    rows.push(
        row(
            format!("add {gib:.2} GiB file"),
            format!("{} ({})", secs(add_t.wall), rate_mb(size, add_t.wall)),
            format!(
                "{} = {which} (sha256 {}, dd {})",
                secs(ceiling),
                secs(sha_t.wall),
                secs(dd_t.wall)
            ),
        )
        .ratio(r)
        .target("<= 1.3", r <= 1.3),
    );
    rows.push(
        row("add peak RSS", mb(add_t.max_rss), "-").target("< 100 MB", add_t.max_rss < 100_000_000),
    );

    // 2. verify vs sha256 of the original (the vault from the last add).
    println!("== 2. verify vs openssl sha256");
    let verify = b.guwah(&vault).arg("verify");
    let ver_t = b.time_median(opts.reps, &verify, &mut nothing, &mut nothing)?;
    println!(
        "  guwah verify          {}  (peak RSS {})",
        secs(ver_t.wall),
        mb(ver_t.max_rss)
    );
    let r = ver_t.wall.as_secs_f64() / sha_t.wall.as_secs_f64();
    rows.push(
        row(
            format!("verify {gib:.2} GiB vault"),
            format!("{} ({})", secs(ver_t.wall), rate_mb(size, ver_t.wall)),
            format!("{} = sha256 of the original", secs(sha_t.wall)),
        )
        .ratio(r)
        .target("<= 1.5", r <= 1.5),
    );
    rows.push(row("verify peak RSS", mb(ver_t.max_rss), "-"));

    // Fixed cost of every passphrase command: start, open, Argon2id unlock.
    let list = b.guwah(&vault).arg("list");
    let list_t = b.time_median(3, &list, &mut nothing, &mut nothing)?;
    rows.push(row(
        "open+unlock (guwah list, 1 item)",
        format!("{} (peak RSS {})", secs(list_t.wall), mb(list_t.max_rss)),
        "-",
    ));
    remove(&vault)?;

    // 3. Log append through the library.
    println!(
        "== 3. log append: {} entries in batches of {} (library)",
        opts.entries, opts.batch
    );
    let log_dir = dir.join("log-bench");
    if cache == CacheMode::Cold {
        sync_and_drop_caches()?;
    }
    let lr = logbench::run(&log_dir, opts.entries, opts.batch)?;
    b.commands.push(format!(
        "(in process) LogWriter over Backend::create_local({}): {} x (stage {} leaves + commit), Ed25519 checkpoint signer {:?}",
        log_dir.display(),
        lr.batches,
        opts.batch,
        logbench::ORIGIN
    ));
    let per_batch = |d: Duration| secs(d / lr.batches.max(1) as u32);
    println!(
        "  {:.0} entries/s; mean leaf {} B; per batch: stage {}, commit {}; (record build+sign, untimed: {})",
        lr.rate(),
        lr.mean_leaf,
        per_batch(lr.stage),
        per_batch(lr.commit),
        secs(lr.build)
    );
    rows.push(
        row(
            format!("log append, {} x {}-entry batches", lr.batches, opts.batch),
            format!("{:.0} entries/s", lr.rate()),
            format!(
                "per batch: stage {}, commit {}; leaf {} B",
                per_batch(lr.stage),
                per_batch(lr.commit),
                lr.mean_leaf
            ),
        )
        .target(">= 10000/s", lr.rate() >= 10_000.0),
    );
    remove(&log_dir)?;

    // 3b. End-to-end add of a folder of small files, one call.
    println!("== 3b. add a folder of {} small files", opts.files);
    let vault_small = dir.join("vault-small");
    let add_small = b.guwah(&vault_small).arg("add").arg(&small);
    let vs = vault_small.clone();
    let mut fresh_small = move |b: &mut Bench| b.fresh_vault(&vs);
    let small_t = b.time(&add_small, &mut fresh_small, &mut nothing)?;
    let fps = opts.files as f64 / small_t.wall.as_secs_f64();
    println!(
        "  {} ({fps:.0} files/s, peak RSS {})",
        secs(small_t.wall),
        mb(small_t.max_rss)
    );
    rows.push(row(
        format!("add folder of {} small files", opts.files),
        format!("{fps:.0} files/s ({})", secs(small_t.wall)),
        format!("peak RSS {}", mb(small_t.max_rss)),
    ));
    remove(&vault_small)?;

    // 4. --version, median of 50 warm runs.
    println!("== 4. guwah --version x 50");
    let version = Cmd::new(&guwah).arg("--version");
    b.note(&version);
    proc::run(&version, &b.log_path())?;
    let mut walls = Vec::with_capacity(50);
    for _ in 0..50 {
        walls.push(proc::run(&version, &b.log_path())?.wall);
    }
    walls.sort();
    let median = walls[walls.len() / 2];
    rows.push(
        row(
            "guwah --version (median of 50, warm)",
            secs(median),
            format!("min {}, max {}", secs(walls[0]), secs(walls[49])),
        )
        .target("< 20 ms", median < Duration::from_millis(20)),
    );
    let _ = fs::remove_file(b.log_path());

    println!();
    println!(
        "== results ({} run)",
        if opts.quick { "quick" } else { "full" }
    );
    print_table(&rows);
    println!();
    println!("== commands used");
    for c in &b.commands {
        println!("  {c}");
    }
    println!();
    println!("load at end: {}", load());
    println!(
        "inputs kept in {} for the next run; total bench time {}",
        dir.display(),
        secs(started.elapsed())
    );
    Ok(())
}
