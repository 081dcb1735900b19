//! `guwah-bench --bundle`: `guwah verify-bundle` on a real evidence package
//! against the hashing ceiling and against bagit-python.
//!
//! The package is built once and kept under the bench dir: N random files
//! (many small, about one in a hundred large) whose sizes sum to the total,
//! added to a fresh vault with one `guwah add FOLDER --tag bundle-bench`,
//! then exported as a bag folder with `guwah export --tag bundle-bench`.
//! Then, each from a cold page cache when possible:
//!
//! - `guwah verify-bundle BAG --trust VKEY`;
//! - the ceiling: `openssl dgst -sha256` and `openssl dgst -sha512` over
//!   every payload file, run as two processes at once (file lists through
//!   `xargs -0`) — each digest is computed once over every byte, and both
//!   cores can be busy;
//! - the peer: `bagit.py --validate --processes 2 BAG` (bagit-python).

use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::proc::{self, Cmd, Outcome};
use crate::{Bench, CacheMode, mb, nothing, rate_mb, remove, row, secs};

/// The tag every benchmark file is added with, and exported by.
const TAG: &str = "bundle-bench";

/// What `--bundle` runs.
pub struct BundleOpts {
    /// Number of payload files.
    pub files: u64,
    /// Their total size in bytes.
    pub bytes: u64,
    /// Timed runs of each measurement (median kept).
    pub reps: usize,
    /// The `--quick` variant.
    pub quick: bool,
}

/// A splitmix64 generator: deterministic file sizes for a given N and total.
struct SplitMix(u64);

impl SplitMix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next() >> 11) + 1) as f64 / (1u64 << 53) as f64
    }
}

/// `n` file sizes summing to exactly `total`: about 1% of the files (at
/// least one) are large and hold 60% of the bytes (each 0.5..1.5 times
/// their mean); the rest are small, skewed towards tiny (u^3 weights).
pub fn sizes(n: u64, total: u64) -> Vec<u64> {
    let n = n.max(1) as usize;
    let large = if n == 1 { 1 } else { (n / 100).max(1) };
    let small = n - large;
    let large_share = if small == 0 { 1.0 } else { 0.6 };
    let mut rng = SplitMix(0x6775_7761_6862_6e64 ^ n as u64 ^ total.rotate_left(17));
    let mut weights = Vec::with_capacity(n);
    let small_w: Vec<f64> = (0..small).map(|_| rng.unit().powi(3)).collect();
    let large_w: Vec<f64> = (0..large).map(|_| 0.5 + rng.unit()).collect();
    let (ss, ls): (f64, f64) = (small_w.iter().sum(), large_w.iter().sum());
    let t = total as f64;
    for w in &small_w {
        weights.push(t * (1.0 - large_share) * w / ss);
    }
    for w in &large_w {
        weights.push(t * large_share * w / ls);
    }
    // Spread the large files among the small ones (every 100th file).
    let mut out: Vec<u64> = Vec::with_capacity(n);
    let (mut si, mut li) = (0, small);
    for i in 0..n {
        let take_large = li < n && (i % 100 == 99 || si >= small);
        let w = if take_large {
            li += 1;
            weights[li - 1]
        } else {
            si += 1;
            weights[si - 1]
        };
        out.push((w as u64).max(1));
    }
    // Exact total: put the rounding difference on the largest file.
    let sum: u64 = out.iter().sum();
    if let Some(big) = (0..n).max_by_key(|&i| out[i]) {
        out[big] = (out[big] + total).saturating_sub(sum).max(1);
    }
    out
}

/// Paths of everything the benchmark keeps for a given N and total.
struct Layout {
    input: PathBuf,
    vault: PathBuf,
    bag: PathBuf,
    key: PathBuf,
    list: PathBuf,
}

impl Layout {
    fn new(dir: &Path, files: u64, bytes: u64) -> Self {
        let base = format!("bundle-{files}-{bytes}");
        Layout {
            input: dir.join(format!("{base}.input")),
            vault: dir.join(format!("{base}.vault")),
            bag: dir.join(format!("{base}.bag")),
            key: dir.join(format!("{base}.vkey")),
            list: dir.join(format!("{base}.payload.list0")),
        }
    }
}

fn done_marker(p: &Path) -> PathBuf {
    let mut s = p.as_os_str().to_owned();
    s.push(".done");
    PathBuf::from(s)
}

fn mark_done(p: &Path) -> Result<(), String> {
    let m = done_marker(p);
    File::create(&m)
        .map(|_| ())
        .map_err(|e| format!("{}: {e}", m.display()))
}

/// Writes the random input folder (once).
fn write_input(folder: &Path, sizes: &[u64]) -> Result<(), String> {
    remove(folder)?;
    remove(&done_marker(folder))?;
    fs::create_dir_all(folder).map_err(|e| format!("{}: {e}", folder.display()))?;
    let total: u64 = sizes.iter().sum();
    println!(
        "input: writing {} random files, {} in all, to {} (once)",
        sizes.len(),
        mb(total),
        folder.display()
    );
    let mut buf = vec![0u8; 1 << 20];
    for (i, &size) in sizes.iter().enumerate() {
        let path = folder.join(format!("f{i:06}.bin"));
        let io = |e: std::io::Error| format!("{}: {e}", path.display());
        let mut f = File::create(&path).map_err(io)?;
        let mut left = size;
        while left > 0 {
            let n = left.min(buf.len() as u64) as usize;
            crate::fill_random(&mut buf[..n])?;
            f.write_all(&buf[..n]).map_err(io)?;
            left -= n as u64;
        }
    }
    std::process::Command::new("sync")
        .status()
        .map_err(|e| format!("sync: {e}"))?;
    mark_done(folder)
}

/// Every regular file under `dir`, absolute, sorted.
fn payload_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
    let rd = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for ent in rd {
        let ent = ent.map_err(|e| format!("{}: {e}", dir.display()))?;
        let ft = ent
            .file_type()
            .map_err(|e| format!("{}: {e}", ent.path().display()))?;
        if ft.is_dir() {
            payload_files(&ent.path(), out)?;
        } else if ft.is_file() {
            out.push(ent.path());
        }
    }
    Ok(())
}

fn du(path: &Path) -> u64 {
    fn walk(p: &Path) -> u64 {
        match fs::symlink_metadata(p) {
            Ok(m) if m.is_dir() => fs::read_dir(p)
                .map(|rd| rd.filter_map(Result::ok).map(|e| walk(&e.path())).sum())
                .unwrap_or(0),
            Ok(m) => m.len(),
            Err(_) => 0,
        }
    }
    walk(path)
}

fn bagit_command() -> Result<(Cmd, String), String> {
    let try_version = |cmd: &mut std::process::Command| {
        cmd.output().ok().filter(|o| o.status.success()).map(|o| {
            let mut t = String::from_utf8_lossy(&o.stdout).trim().to_owned();
            if t.is_empty() {
                t = String::from_utf8_lossy(&o.stderr).trim().to_owned();
            }
            t
        })
    };
    if let Some(v) = try_version(std::process::Command::new("bagit.py").arg("--version")) {
        return Ok((Cmd::new("bagit.py"), v));
    }
    if let Some(v) = try_version(
        std::process::Command::new("python3")
            .args(["-m", "bagit"])
            .arg("--version"),
    ) {
        return Ok((Cmd::new("python3").arg("-m").arg("bagit"), v));
    }
    Err("bagit-python is needed as the --bundle peer but neither `bagit.py` nor `python3 -m bagit` runs; install it with `pip install bagit==1.9.0`".into())
}

/// Runs the `--bundle` benchmark and prints its table.
pub fn run(b: &mut Bench, o: &BundleOpts) -> Result<(), String> {
    let (bagit, bagit_version) = bagit_command()?;
    let lay = Layout::new(&b.dir, o.files, o.bytes);
    let have = |p: &Path| done_marker(p).exists();

    // Room for what is not built yet: the input, the vault (encrypted
    // copies plus the log), the bag, and 1 GiB of slack.
    let slack = 1u64 << 30;
    let need = [
        (!have(&lay.input)).then_some(o.bytes),
        (!have(&lay.vault)).then_some(o.bytes + o.bytes / 50 + (64 << 20)),
        (!have(&lay.bag)).then_some(o.bytes + o.bytes / 100 + (64 << 20)),
    ]
    .into_iter()
    .flatten()
    .sum::<u64>()
        + slack;
    let free = crate::disk_free(&b.dir);
    if let Some(free) = free
        && free < need
    {
        return Err(format!(
            "{} has {} free; --bundle with {} files / {} needs about {} more \
             (random input + vault + bag, each about the payload size, plus 1 GiB slack); \
             free space, pass --dir on a larger disk, or use smaller --bundle-gb",
            b.dir.display(),
            mb(free),
            o.files,
            mb(o.bytes),
            mb(need)
        ));
    }
    println!("  disk free   {}", free.map_or("unknown".into(), mb));
    println!("  bagit       {bagit_version} ({bagit})");

    // 1. The package, built once.
    let sizes = sizes(o.files, o.bytes);
    if have(&lay.input) {
        println!("input: reusing {}", lay.input.display());
    } else {
        remove(&done_marker(&lay.vault))?;
        remove(&done_marker(&lay.bag))?;
        write_input(&lay.input, &sizes)?;
    }
    if have(&lay.vault) {
        println!("vault: reusing {}", lay.vault.display());
    } else {
        remove(&done_marker(&lay.bag))?;
        println!(
            "vault: guwah add of {} files into {} (once)",
            o.files,
            lay.vault.display()
        );
        b.fresh_vault(&lay.vault)?;
        let add = b
            .guwah(&lay.vault)
            .arg("add")
            .arg(&lay.input)
            .arg("--tag")
            .arg(TAG);
        b.note(&add);
        let t = proc::run(&add, &b.log_path())?;
        println!("  {} ({})", secs(t.wall), rate_mb(o.bytes, t.wall));
        mark_done(&lay.vault)?;
    }
    if have(&lay.bag) && lay.key.is_file() && lay.list.is_file() {
        println!("bag: reusing {}", lay.bag.display());
    } else {
        remove(&done_marker(&lay.bag))?;
        remove(&lay.bag)?;
        let mut partial = lay.bag.as_os_str().to_owned();
        partial.push(".partial");
        remove(Path::new(&partial))?;
        println!(
            "bag: guwah export --tag {TAG} to {} (once)",
            lay.bag.display()
        );
        let export = b
            .guwah(&lay.vault)
            .arg("export")
            .arg("--tag")
            .arg(TAG)
            .arg("--out")
            .arg(&lay.bag);
        b.note(&export);
        let t = proc::run(&export, &b.log_path())?;
        println!("  {} ({})", secs(t.wall), rate_mb(o.bytes, t.wall));
        let key_cmd = b.guwah(&lay.vault).arg("log").arg("key");
        b.note(&key_cmd);
        let mut c = std::process::Command::new(&key_cmd.program);
        c.args(&key_cmd.args);
        for (k, v) in &key_cmd.env {
            c.env(k, v);
        }
        let out = c.output().map_err(|e| format!("`{key_cmd}`: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "`{key_cmd}` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        let key = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        fs::write(&lay.key, &key).map_err(|e| format!("{}: {e}", lay.key.display()))?;
        let mut files = Vec::new();
        payload_files(&lay.bag.join("data"), &mut files)?;
        files.sort();
        let mut list = Vec::new();
        for f in &files {
            list.extend_from_slice(f.as_os_str().as_encoded_bytes());
            list.push(0);
        }
        fs::write(&lay.list, list).map_err(|e| format!("{}: {e}", lay.list.display()))?;
        mark_done(&lay.bag)?;
    }
    let key = fs::read_to_string(&lay.key)
        .map_err(|e| format!("{}: {e}", lay.key.display()))?
        .trim()
        .to_owned();
    let list = fs::read(&lay.list).map_err(|e| format!("{}: {e}", lay.list.display()))?;
    let payload_files = list.split(|&c| c == 0).filter(|s| !s.is_empty()).count();
    let payload_bytes = du(&lay.bag.join("data"));
    let bag_bytes = du(&lay.bag);
    println!(
        "  bag: {payload_files} payload files, {} payload, {} in all (largest input file {})",
        mb(payload_bytes),
        mb(bag_bytes),
        mb(sizes.iter().copied().max().unwrap_or(0))
    );

    // 2. The three timed runs.
    let gib = payload_bytes as f64 / (1u64 << 30) as f64;
    println!(
        "== bundle: verify-bundle of {payload_files} files / {gib:.2} GiB vs openssl ceiling vs bagit.py"
    );
    let verify = Cmd::new(&b.guwah)
        .arg("verify-bundle")
        .arg(&lay.bag)
        .arg("--trust")
        .arg(&key);
    let ver_t = b.time_median(o.reps, &verify, &mut nothing, &mut nothing)?;
    report("guwah verify-bundle", &ver_t);

    let list_arg = lay.list.display().to_string();
    let script = format!(
        "xargs -0 openssl dgst -sha256 < {l} > /dev/null & a=$!; \
         xargs -0 openssl dgst -sha512 < {l} > /dev/null & b=$!; \
         wait $a && wait $b",
        l = shell_quote(&list_arg)
    );
    let ceiling = Cmd::new("sh").arg("-c").arg(&script);
    let ceil_t = b.time_median(o.reps, &ceiling, &mut nothing, &mut nothing)?;
    report("openssl sha256 || sha512", &ceil_t);

    let validate = bagit
        .arg("--validate")
        .arg("--processes")
        .arg("2")
        .arg(&lay.bag);
    let bagit_t = b.time_median(o.reps, &validate, &mut nothing, &mut nothing)?;
    report("bagit.py --validate -p 2", &bagit_t);

    // 3. The table.
    let r_ceiling = ratio(ver_t.wall, ceil_t.wall);
    let speedup = ratio(bagit_t.wall, ver_t.wall);
    let what = format!("verify-bundle {payload_files} files / {gib:.2} GiB");
    let mut vs_bagit = row(
        format!("{what} vs bagit-python"),
        secs(ver_t.wall),
        format!(
            "{} = bagit.py --validate --processes 2 ({})",
            secs(bagit_t.wall),
            rate_mb(payload_bytes, bagit_t.wall)
        ),
    )
    .target(">= 2.5x faster", speedup >= 2.5);
    vs_bagit.ratio = format!("{:.2} ({speedup:.2}x faster)", 1.0 / speedup);
    let rows = vec![
        row(
            format!("{what} vs hashing ceiling"),
            format!(
                "{} ({})",
                secs(ver_t.wall),
                rate_mb(payload_bytes, ver_t.wall)
            ),
            format!(
                "{} = openssl sha256 || sha512, 2 processes ({})",
                secs(ceil_t.wall),
                rate_mb(payload_bytes, ceil_t.wall)
            ),
        )
        .ratio(r_ceiling)
        .target("<= 1.2", r_ceiling <= 1.2),
        vs_bagit,
        row(
            "verify-bundle CPU / wall (cores busy)",
            format!(
                "{} cpu, {:.2} cores",
                secs(ver_t.cpu),
                ratio(ver_t.cpu, ver_t.wall)
            ),
            format!(
                "openssl {} cpu, {:.2} cores; bagit.py {} cpu, {:.2} cores",
                secs(ceil_t.cpu),
                ratio(ceil_t.cpu, ceil_t.wall),
                secs(bagit_t.cpu),
                ratio(bagit_t.cpu, bagit_t.wall)
            ),
        ),
        row(
            "verify-bundle peak RSS",
            mb(ver_t.max_rss),
            format!("bagit.py {}", mb(bagit_t.max_rss)),
        ),
    ];
    println!();
    println!(
        "== results (bundle, {} run, page cache {})",
        if o.quick { "quick" } else { "full" },
        match b.cache {
            CacheMode::Cold => "cold",
            CacheMode::Warm => "warm",
        }
    );
    crate::print_table(&rows);
    Ok(())
}

fn ratio(a: Duration, b: Duration) -> f64 {
    a.as_secs_f64() / b.as_secs_f64().max(1e-9)
}

fn report(what: &str, t: &Outcome) {
    println!(
        "  {what:<26} {}  (cpu {}, peak RSS {})",
        secs(t.wall),
        secs(t.cpu),
        mb(t.max_rss)
    );
}

fn shell_quote(s: &str) -> String {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./=:,+%@".contains(c))
    {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}
