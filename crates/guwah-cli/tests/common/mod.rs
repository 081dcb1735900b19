//! Shared helpers for the CLI integration tests: run the real `guwah`
//! binary against a vault in a temporary folder, snapshot folders, hash.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub mod server;

/// The passphrase every test vault is made with.
pub const PASS: &str = "correct horse battery staple (test)";

/// The `guwah` binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_guwah")
}

/// A `guwah` command for `vault`, with `pass` (or no passphrase at all).
pub fn guwah_cmd(vault: &Path, pass: Option<&str>) -> Command {
    let mut c = Command::new(bin());
    c.env_remove("GUWAH_PASSPHRASE")
        .env_remove("GUWAH_VAULT")
        .env("GUWAH_VAULT", vault)
        .env("NO_COLOR", "1");
    if let Some(p) = pass {
        c.env("GUWAH_PASSPHRASE", p);
    }
    c
}

/// Run `guwah args...` against `vault` with the test passphrase.
pub fn run_in(vault: &Path, args: &[&str]) -> Output {
    guwah_cmd(vault, Some(PASS))
        .args(args)
        .output()
        .expect("run guwah")
}

/// Both output streams, as text, for messages and searches.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Panic with both streams unless `o` exited 0.
pub fn must_succeed(o: &Output, what: &str) {
    assert!(
        o.status.success(),
        "{what} failed ({:?}):\n{}",
        o.status,
        text(o)
    );
}

/// A vault in its own temporary folder (`<tmp>/vault`), plus room beside
/// it (`<tmp>/work`) for input files.
pub struct TestVault {
    pub tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub work: PathBuf,
}

impl TestVault {
    /// `guwah init` a fresh vault.
    pub fn init() -> TestVault {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path().join("vault");
        let work = tmp.path().join("work");
        fs::create_dir(&work).expect("work dir");
        let o = guwah_cmd(&root, Some(PASS))
            .args(["init", "--origin", "example.org/guwah-test"])
            .output()
            .expect("run guwah init");
        must_succeed(&o, "guwah init");
        TestVault { tmp, root, work }
    }

    /// Run `guwah args...` on this vault.
    pub fn run(&self, args: &[&str]) -> Output {
        run_in(&self.root, args)
    }

    /// Run and require exit 0; returns stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let o = self.run(args);
        must_succeed(&o, &format!("guwah {}", args.join(" ")));
        String::from_utf8(o.stdout).expect("utf-8 stdout")
    }

    /// Write a file under `work` and return its path as a string.
    pub fn file(&self, name: &str, bytes: &[u8]) -> String {
        let p = self.work.join(name);
        fs::write(&p, bytes).expect("write input");
        p.to_str().expect("utf-8 path").to_owned()
    }

    /// `guwah add --json paths...`: the (id, path) of every item.
    pub fn add(&self, paths: &[&str]) -> Vec<(String, String)> {
        let mut args = vec!["--json", "add"];
        args.extend_from_slice(paths);
        let out = self.ok(&args);
        let v: serde_json::Value = serde_json::from_str(&out).expect("add --json");
        v["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| {
                (
                    i["id"].as_str().unwrap().to_owned(),
                    i["path"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// `guwah list --json`.
    pub fn list(&self) -> Vec<serde_json::Value> {
        list_json(&self.root)
    }

    /// `guwah get ID --out -`: the bytes.
    pub fn get(&self, id: &str) -> Vec<u8> {
        get_bytes(&self.root, id)
    }
}

/// `guwah list --json` on `vault`.
pub fn list_json(vault: &Path) -> Vec<serde_json::Value> {
    let o = run_in(vault, &["--json", "list"]);
    must_succeed(&o, "guwah list --json");
    match serde_json::from_slice(&o.stdout).expect("list --json is JSON") {
        serde_json::Value::Array(a) => a,
        other => panic!("list --json is not an array: {other}"),
    }
}

/// `guwah get ID --out -` on `vault`: the bytes.
pub fn get_bytes(vault: &Path, id: &str) -> Vec<u8> {
    let o = run_in(vault, &["get", id, "--out", "-"]);
    must_succeed(&o, &format!("guwah get {id}"));
    o.stdout
}

/// Every file and folder under `root`, by relative path (`/`-separated);
/// folders map to `None`, files to their bytes. `skip` decides, by
/// relative path, what to leave out.
pub fn snapshot(root: &Path, skip: &dyn Fn(&str) -> bool) -> BTreeMap<String, Option<Vec<u8>>> {
    let mut out = BTreeMap::new();
    fn walk(
        root: &Path,
        dir: &Path,
        skip: &dyn Fn(&str) -> bool,
        out: &mut BTreeMap<String, Option<Vec<u8>>>,
    ) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let e = e.expect("read_dir entry");
            let p = e.path();
            let rel = p
                .strip_prefix(root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            if skip(&rel) {
                continue;
            }
            let ft = e.file_type().expect("file type");
            if ft.is_dir() {
                out.insert(rel, None);
                walk(root, &p, skip, out);
            } else {
                out.insert(rel, Some(fs::read(&p).expect("read vault file")));
            }
        }
    }
    walk(root, root, skip, &mut out);
    out
}

/// Every regular file under `root`, relative paths, sorted.
pub fn files_under(root: &Path) -> Vec<String> {
    snapshot(root, &|_| false)
        .into_iter()
        .filter_map(|(k, v)| v.map(|_| k))
        .collect()
}

/// Copy a folder tree.
pub fn copy_tree(from: &Path, to: &Path) {
    fs::create_dir_all(to).expect("mkdir");
    for e in fs::read_dir(from).expect("read_dir") {
        let e = e.expect("entry");
        let dest = to.join(e.file_name());
        if e.file_type().expect("file type").is_dir() {
            copy_tree(&e.path(), &dest);
        } else {
            fs::copy(e.path(), &dest).expect("copy");
        }
    }
}

/// A small deterministic PRNG (SplitMix64), so failures can be replayed
/// with `GUWAH_TEST_SEED`.
pub struct Rng(u64);

impl Rng {
    /// Seeded from `GUWAH_TEST_SEED` or the clock; prints the seed.
    pub fn from_env(test: &str) -> Rng {
        let seed = std::env::var("GUWAH_TEST_SEED")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map(|d| d.as_nanos() as u64)
                    .unwrap_or(1)
                    ^ u64::from(std::process::id())
            });
        eprintln!("{test}: GUWAH_TEST_SEED={seed}");
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    pub fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n + 8);
        while v.len() < n {
            v.extend_from_slice(&self.next_u64().to_le_bytes());
        }
        v.truncate(n);
        v
    }
}

/// SHA-256, written out here so the tests do not trust the code under test.
pub fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    let mut msg = data.to_vec();
    msg.push(0x80);
    while msg.len() % 64 != 56 {
        msg.push(0);
    }
    msg.extend_from_slice(&((data.len() as u64) * 8).to_be_bytes());
    for block in msg.chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, c) in block.chunks_exact(4).enumerate() {
            w[i] = u32::from_be_bytes([c[0], c[1], c[2], c[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 32];
    for (i, v) in h.iter().enumerate() {
        out[i * 4..i * 4 + 4].copy_from_slice(&v.to_be_bytes());
    }
    out
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Check the SHA-256 helper against the FIPS 180-2 vectors.
pub fn self_test_sha256() {
    assert_eq!(
        hex(&sha256(b"abc")),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
    assert_eq!(
        hex(&sha256(b"")),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    assert_eq!(
        hex(&sha256(
            b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"
        )),
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
    );
}

/// What to install when a Go peer cannot be built.
pub const GO_INSTALL_HINT: &str = "install golang-go and golang-golang-x-mod-dev \
(apt-get install -y golang-go golang-golang-x-mod-dev); CI installs them";

/// A process's status and output, for assertion messages.
pub fn describe(what: &str, out: &Output) -> String {
    format!(
        "{what}: {}\n--- stdout ---\n{}\n--- stderr ---\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Build the Go peer program `tests/peer/<name>` (on Debian's
/// golang.org/x/mod sumdb sources, offline, GOPATH mode) into `dir`.
/// Fails, never skips, with an install hint when Go or the sources are
/// missing. A persistent build cache keeps reruns fast.
pub fn build_go_peer(name: &str, dir: &Path) -> PathBuf {
    let gopath = std::env::var_os("GUWAH_PEER_GOPATH")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/usr/share/gocode"));
    match Command::new("go").arg("version").output() {
        Ok(out) if out.status.success() => {}
        Ok(out) => panic!(
            "{}\n{GO_INSTALL_HINT}",
            describe("`go version` failed", &out)
        ),
        Err(e) => panic!("cannot run `go` ({e}): {GO_INSTALL_HINT}"),
    }
    for pkg in ["note", "tlog"] {
        let src = gopath.join("src/golang.org/x/mod/sumdb").join(pkg);
        assert!(
            src.is_dir(),
            "Go package golang.org/x/mod/sumdb/{pkg} not found at {}: {GO_INSTALL_HINT}",
            src.display()
        );
    }
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/peer")
        .join(name);
    assert!(
        source.join("main.go").is_file(),
        "missing {}",
        source.display()
    );
    let exe = dir.join(name);
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join("go-build-cache");
    let out = Command::new("go")
        .arg("build")
        .arg("-o")
        .arg(&exe)
        .arg(".")
        .current_dir(&source)
        .env("GO111MODULE", "off")
        .env("GOPATH", &gopath)
        .env("GOFLAGS", "")
        .env("GOPROXY", "off")
        .env("GOTOOLCHAIN", "local")
        .env("GOCACHE", &cache)
        .output()
        .unwrap_or_else(|e| panic!("cannot run `go build` ({e}): {GO_INSTALL_HINT}"));
    assert!(
        out.status.success(),
        "{}\n{GO_INSTALL_HINT}",
        describe(&format!("building tests/peer/{name} failed"), &out)
    );
    exe
}

/// `guwah verify-bundle PATH [--trust KEY] EXTRA...`, run as a stranger
/// would: no vault, no passphrase in the environment.
pub fn verify_bundle(path: &Path, trust: Option<&str>, extra: &[&str]) -> Output {
    let mut c = Command::new(bin());
    c.env_remove("GUWAH_VAULT")
        .env_remove("GUWAH_PASSPHRASE")
        .arg("verify-bundle")
        .arg(path);
    if let Some(k) = trust {
        c.args(["--trust", k]);
    }
    c.args(extra).output().expect("run guwah verify-bundle")
}

/// The tag manifests guwah writes, by the algorithm each lists.
pub const TAG_MANIFESTS: [(guwah_core::bag::Algorithm, &str); 2] = [
    (guwah_core::bag::Algorithm::Sha256, "tagmanifest-sha256.txt"),
    (guwah_core::bag::Algorithm::Sha512, "tagmanifest-sha512.txt"),
];

/// Rewrites both tag manifests of the bag folder at `bag` to list every
/// tag file (everything outside `data/` but the tag manifests) as it is
/// now, in the exporter's format: `<hex>  <path>`, sorted by path.
pub fn reseal_tag_manifests(bag: &Path) {
    use guwah_core::bag::MultiHasher;
    let algorithms: Vec<guwah_core::bag::Algorithm> =
        TAG_MANIFESTS.iter().map(|(a, _)| *a).collect();
    let mut lines: Vec<String> = vec![String::new(); TAG_MANIFESTS.len()];
    // files_under is sorted by path, as the exporter writes them.
    for rel in files_under(bag) {
        if rel.starts_with("data/") || rel.starts_with("tagmanifest-") {
            continue;
        }
        let digest = MultiHasher::digest(&algorithms, &fs::read(bag.join(&rel)).unwrap());
        for ((algorithm, _), text) in TAG_MANIFESTS.iter().zip(&mut lines) {
            text.push_str(&format!("{}  {rel}\n", digest.digests[algorithm]));
        }
    }
    for ((_, name), text) in TAG_MANIFESTS.iter().zip(lines) {
        fs::write(bag.join(name), text).unwrap();
    }
}

/// A running `guwah witness serve` (C2SP tlog-witness), killed on drop.
pub struct Witness {
    child: std::process::Child,
    /// Its submission URL.
    pub url: String,
    /// Its cosignature verifier key.
    pub vkey: String,
}

impl Drop for Witness {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `guwah args...` with no vault.
fn guwah_no_vault(args: &[&str]) -> Output {
    Command::new(bin())
        .args(args)
        .env_remove("GUWAH_VAULT")
        .output()
        .expect("run guwah")
}

/// A new witness named `name` in `dir`, witnessing the log of `log_vkey`,
/// serving on a free port of 127.0.0.1.
pub fn start_witness(dir: &Path, name: &str, log_vkey: &str) -> Witness {
    use std::io::{BufRead, BufReader};
    let d = dir.to_str().unwrap();
    let o = guwah_no_vault(&["witness", "init", "--dir", d, "--name", name]);
    must_succeed(&o, "witness init");
    let vkey = String::from_utf8(o.stdout).unwrap().trim().to_owned();
    let o = guwah_no_vault(&["witness", "add-log", "--dir", d, log_vkey]);
    must_succeed(&o, "witness add-log");
    let mut child = Command::new(bin())
        .args(["witness", "serve", "--addr", "127.0.0.1:0", "--dir", d])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::inherit())
        .spawn()
        .expect("spawn witness");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("witness prints its address");
    let url = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    assert!(line.contains(&vkey), "{line}");
    Witness { child, url, vkey }
}
