//! `guwah log serve` and `guwah log monitor`, end to end.
//!
//! A vault crossing a 256-entry tile is served on a free 127.0.0.1 port and
//! read by an independent tile reader none of us wrote — Go's
//! `golang.org/x/mod/sumdb/tlog` (`tests/peer/go-tiles`, built offline in
//! GOPATH mode against Debian's golang-golang-x-mod-dev; without it this test
//! fails, it never skips). Cache headers are checked with raw HTTP. Then the
//! monitor follows the log as it grows, and must exit non-zero naming a fork
//! (a diverged copy of the vault served at the same URL) and a bad tile.

mod common;

use common::describe;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

const PASSPHRASE: &str = "correct horse battery staple (publish test)";
const ORIGIN: &str = "example.org/guwah-publish";

fn guwah(vault: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_guwah"))
        .arg("--vault")
        .arg(vault)
        .arg("--quiet")
        .args(args)
        .env("GUWAH_PASSPHRASE", PASSPHRASE)
        .env_remove("GUWAH_VAULT")
        .output()
        .expect("run guwah")
}

fn guwah_ok(vault: &Path, args: &[&str]) -> String {
    let out = guwah(vault, args);
    assert!(
        out.status.success(),
        "{}",
        describe(&format!("guwah {args:?}"), &out)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Adds `n` new distinct files to `vault`.
fn add(vault: &Path, files: &Path, tag: &str, n: usize) {
    let dir = files.join(tag);
    std::fs::create_dir_all(&dir).unwrap();
    for i in 0..n {
        std::fs::write(
            dir.join(format!("{i}.txt")),
            format!("{tag} evidence {i}\n"),
        )
        .unwrap();
    }
    guwah_ok(vault, &["add", dir.to_str().unwrap()]);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// A `guwah log serve` child, killed on drop.
struct Server {
    child: Child,
    addr: String,
}

impl Server {
    fn start(vault: &Path, addr: &str) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_guwah"))
            .arg("--vault")
            .arg(vault)
            .args(["log", "serve", "--addr", addr])
            .env_remove("GUWAH_PASSPHRASE")
            .env_remove("GUWAH_VAULT")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start guwah log serve");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|s| s.split('/').next())
            .unwrap_or_else(|| panic!("no address in {line:?}"))
            .to_owned();
        Server { child, addr }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One raw HTTP/1.1 request: (status line, headers lowercased, body).
fn raw(addr: &str, method: &str, path: &str) -> (String, Vec<(String, String)>, Vec<u8>) {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut all = Vec::new();
    s.read_to_end(&mut all).unwrap();
    let split = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8(all[..split].to_vec()).unwrap();
    let body = all[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap().to_owned();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    (status, headers, body)
}

fn header<'a>(h: &'a [(String, String)], name: &str) -> &'a str {
    h.iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or("")
}

fn go_tiles(exe: &Path, url: &str, vkey: &Path, old: Option<(u64, &str)>) -> Output {
    let mut cmd = Command::new(exe);
    cmd.arg("-url").arg(url).arg("-vkey").arg(vkey);
    if let Some((size, root)) = old {
        cmd.arg("-old-size")
            .arg(size.to_string())
            .arg("-old-root")
            .arg(root);
    }
    cmd.output().expect("run go-tiles")
}

fn monitor(url: &str, vkey: &str, state: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_guwah"))
        .args(["log", "monitor", url, "--key", vkey, "--once", "--state"])
        .arg(state)
        .env_remove("GUWAH_VAULT")
        .output()
        .expect("run guwah log monitor")
}

fn checkpoint_root(vault: &Path) -> (u64, String) {
    let cp = guwah_ok(vault, &["log", "checkpoint"]);
    let lines: Vec<&str> = cp.lines().collect();
    (lines[1].parse().unwrap(), lines[2].to_owned())
}

#[test]
fn serve_is_read_by_go_tlog_and_monitor_catches_forks_and_bad_tiles() {
    let tmp = tempfile::tempdir().unwrap();
    let go = common::build_go_peer("go-tiles", tmp.path());
    let vault = tmp.path().join("vault");
    let files = tmp.path().join("files");
    guwah_ok(&vault, &["init", "--origin", ORIGIN]);
    add(&vault, &files, "first", 3);
    add(&vault, &files, "second", 260);
    let vkey = guwah_ok(&vault, &["log", "key"]).trim().to_owned();
    let vkey_file = tmp.path().join("vkey");
    std::fs::write(&vkey_file, &vkey).unwrap();
    let (size, root) = checkpoint_root(&vault);
    assert_eq!(size, 263);

    let server = Server::start(&vault, "127.0.0.1:0");
    let url = server.url();

    // The independent tile reader accepts the served log.
    let out = go_tiles(&go, &url, &vkey_file, None);
    let text = describe("go-tiles", &out);
    assert!(out.status.success(), "{text}");
    for want in ["ok tree-hash", "ok entries 263"] {
        assert!(
            String::from_utf8_lossy(&out.stdout).contains(want),
            "{text}"
        );
    }

    // Raw HTTP: content types, cache lifetimes, HEAD, 404s.
    let (status, h, body) = raw(&server.addr, "GET", "/checkpoint");
    assert!(status.contains(" 200 "), "{status}");
    assert!(
        header(&h, "content-type").starts_with("text/plain"),
        "{h:?}"
    );
    assert!(header(&h, "cache-control").contains("no-store"), "{h:?}");
    assert!(String::from_utf8_lossy(&body).starts_with(ORIGIN));
    let (status, h, body) = raw(&server.addr, "GET", "/tile/0/000");
    assert!(status.contains(" 200 "), "{status}");
    assert_eq!(header(&h, "content-type"), "application/octet-stream");
    let cc = header(&h, "cache-control");
    assert!(
        cc.contains("immutable") && cc.contains("max-age=31536000"),
        "{cc}"
    );
    assert_eq!(body.len(), 256 * 32);
    let (status, h, body) = raw(&server.addr, "HEAD", "/tile/entries/000");
    assert!(status.contains(" 200 "), "{status}");
    assert!(body.is_empty());
    assert!(header(&h, "content-length").parse::<u64>().unwrap() > 0);
    let (status, h, _) = raw(&server.addr, "GET", "/tile/0/001.p/7");
    assert!(status.contains(" 200 "), "{status}");
    assert!(header(&h, "cache-control").contains("max-age="), "{h:?}");
    for bad in [
        "/",
        "/guwah.vault",
        "/tile/../guwah.vault",
        "/tile/0/../../keys.sealed",
        "/tile/0/001.p/8",   // past the committed size
        "/tile/0/0001",      // not canonical
        "/tile/entries/002", // past the end
        "/checkpoints/263",
        "/tile/0/%30%30%30",
    ] {
        let (status, _, _) = raw(&server.addr, "GET", bad);
        assert!(status.contains(" 404 "), "{bad}: {status}");
    }
    let (status, _, _) = raw(&server.addr, "POST", "/checkpoint");
    assert!(status.contains(" 405 "), "{status}");

    // The monitor follows the log.
    let state = tmp.path().join("monitor.state");
    let out = monitor(&url, &vkey, &state);
    assert!(out.status.success(), "{}", describe("monitor", &out));
    assert!(
        String::from_utf8_lossy(&out.stdout)
            .contains("263 new entries verified (263 guwah records)")
    );

    // A copy of the vault, to diverge later.
    let fork = tmp.path().join("fork");
    copy_dir(&vault, &fork);

    add(&vault, &files, "third", 2);
    let out = monitor(&url, &vkey, &state);
    let text = describe("monitor after growth", &out);
    assert!(out.status.success(), "{text}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("consistent with size 263"),
        "{text}"
    );
    let out = go_tiles(&go, &url, &vkey_file, Some((size, &root)));
    let text = describe("go-tiles consistency", &out);
    assert!(out.status.success(), "{text}");
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("ok consistency 263 -> 265"),
        "{text}"
    );
    let out = monitor(&url, &vkey, &state);
    assert!(out.status.success(), "{}", describe("monitor again", &out));

    // The fork: same size, different items, served at the same URL.
    add(&fork, &files, "forked", 2);
    let addr = server.addr.clone();
    drop(server);
    let server = Server::start(&fork, &addr);
    let out = monitor(&url, &vkey, &state);
    let text = describe("monitor on a fork", &out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("fork") && stderr.contains("size 265"),
        "{text}"
    );
    assert_eq!(stderr.trim().lines().count(), 1, "{text}");

    // A longer fork: not consistent with what was seen.
    add(&fork, &files, "forked-more", 1);
    let out = monitor(&url, &vkey, &state);
    let text = describe("monitor on a longer fork", &out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not consistent"),
        "{text}"
    );
    drop(server);

    // A rollback: an older copy of the log, served after a larger one was seen.
    let old = tmp.path().join("old");
    copy_dir(&vault, &old);
    std::fs::copy(
        vault.join("log/checkpoints/263"),
        old.join("log/checkpoint"),
    )
    .unwrap();
    let server = Server::start(&old, &addr);
    let out = monitor(&url, &vkey, &state);
    let text = describe("monitor on a rollback", &out);
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("rollback"),
        "{text}"
    );
    drop(server);

    // A corrupted full tile, and a truncated partial one: each is named by its URL.
    for (tile, damage) in [("tile/0/000", "flip"), ("tile/0/001.p/9", "truncate")] {
        let bad = tmp.path().join(format!("bad-{damage}"));
        copy_dir(&vault, &bad);
        let p = bad.join("log").join(tile);
        let mut bytes = std::fs::read(&p).unwrap();
        match damage {
            "flip" => bytes[100] ^= 1,
            _ => {
                bytes.pop();
            }
        }
        std::fs::write(&p, &bytes).unwrap();
        let server = Server::start(&bad, &addr);
        let fresh = tmp.path().join(format!("state-{damage}"));
        let out = monitor(&url, &vkey, &fresh);
        let text = describe(&format!("monitor on a bad {tile}"), &out);
        assert_eq!(out.status.code(), Some(1), "{text}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(&format!("bad tile {url}/{tile}")), "{text}");
        assert!(!fresh.exists(), "no state is saved from a bad log");
        // The independent reader rejects it too.
        let out = go_tiles(&go, &url, &vkey_file, None);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{}",
            describe("go-tiles on bad tile", &out)
        );
        drop(server);
    }
}

#[test]
fn monitor_rejects_bad_arguments_and_unreachable_logs() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("s");
    let out = Command::new(env!("CARGO_BIN_EXE_guwah"))
        .args([
            "log",
            "monitor",
            "http://127.0.0.1:9/",
            "--key",
            "not a key",
            "--once",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(3), "{}", describe("bad key", &out));
    let key = "example.org/pub+f71580a8+ARMdvsExvPO1HEj4uEgb/z4CJEDHGfz1yJYwhMsQE7rj";
    let out = monitor("ftp://example.org/", key, &state);
    assert_eq!(out.status.code(), Some(3), "{}", describe("bad url", &out));
    // Port 9 (discard) on localhost: nothing listens; a clear one-line error, exit 5.
    let out = monitor("http://127.0.0.1:9", key, &state);
    let text = describe("unreachable", &out);
    assert_eq!(out.status.code(), Some(5), "{text}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot fetch the checkpoint"),
        "{text}"
    );
}
