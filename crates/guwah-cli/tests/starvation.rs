//! Starvation resistance of the three servers (`log serve`, `witness
//! serve`, `verifier serve`), end to end with the real binary.
//!
//! Against each server a hundred hostile connections stay open for the
//! whole test, all from 127.0.0.1 (the legitimate client's address too):
//! a third connect and send nothing, a third keep a connection alive with
//! one request every 4 seconds, a third send one header byte every 9
//! seconds. Any of them the server closes is opened again. Meanwhile a
//! fresh legitimate request to each server must be answered, in full,
//! within one second, every time, for about ten seconds.
//!
//! A server with a fixed pool of worker threads (what guwah had before)
//! fails this: the keep-alive and slow connections hold every worker.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use common::*;

/// Hostile connections per server.
const HOSTILE: usize = 100;
/// How long the legitimate client keeps probing.
const PROBE_FOR: Duration = Duration::from_secs(10);
/// The longest a legitimate answer may take.
const ANSWER_WITHIN: Duration = Duration::from_secs(1);

/// A server child, killed on drop.
struct Server {
    child: Child,
    addr: SocketAddr,
    /// A path that answers 200 with a body.
    path: &'static str,
    name: &'static str,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start(name: &'static str, path: &'static str, mut cmd: Command) -> Server {
    let mut child = cmd
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| panic!("start {name}: {e}"));
    let mut line = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut line)
        .expect("the server prints its address");
    let addr = line
        .split("http://")
        .nth(1)
        .and_then(|s| s.split(['/', ' ']).next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("{name}: no address in {line:?}"));
    Server {
        child,
        addr,
        path,
        name,
    }
}

/// Reads one response (head, then a `Content-Length` body); its status.
fn read_response(s: &mut BufReader<TcpStream>) -> std::io::Result<u16> {
    let mut line = String::new();
    if s.read_line(&mut line)? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    let status = line.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let mut len = 0usize;
    loop {
        let mut h = String::new();
        if s.read_line(&mut h)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        if h == "\r\n" || h == "\n" {
            break;
        }
        if let Some((n, v)) = h.split_once(':')
            && n.eq_ignore_ascii_case("content-length")
        {
            len = v.trim().parse().unwrap_or(0);
        }
    }
    std::io::copy(&mut s.take(len as u64), &mut std::io::sink())?;
    Ok(status)
}

/// Sleeps up to `d`, returning early (false) once `stop` is set.
fn nap(stop: &AtomicBool, d: Duration) -> bool {
    let end = Instant::now() + d;
    while Instant::now() < end {
        if stop.load(Ordering::Relaxed) {
            return false;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    !stop.load(Ordering::Relaxed)
}

/// One hostile connection of kind `kind` (0 idle, 1 keep-alive every 4 s,
/// 2 one header byte every 9 s), reopened whenever the server closes it.
fn hostile(addr: SocketAddr, path: &'static str, kind: usize, stop: Arc<AtomicBool>) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(s) = TcpStream::connect_timeout(&addr, Duration::from_secs(2)) else {
            nap(&stop, Duration::from_millis(200));
            continue;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(200)));
        let mut s = BufReader::new(s);
        match kind {
            0 => loop {
                // Idle: wait for the server to close (or the test to end).
                let mut b = [0u8; 1];
                match s.get_mut().read(&mut b) {
                    Ok(_) => break,
                    Err(e)
                        if matches!(
                            e.kind(),
                            std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                        ) =>
                    {
                        if stop.load(Ordering::Relaxed) {
                            return;
                        }
                    }
                    Err(_) => break,
                }
            },
            1 => {
                let _ = s.get_mut().set_read_timeout(Some(Duration::from_secs(5)));
                loop {
                    let req = format!("GET {path} HTTP/1.1\r\nHost: hostile\r\n\r\n");
                    if s.get_mut().write_all(req.as_bytes()).is_err() {
                        break;
                    }
                    if read_response(&mut s).is_err() || !nap(&stop, Duration::from_secs(4)) {
                        break;
                    }
                }
            }
            _ => {
                let req = format!("GET {path} HTTP/1.1\r\nHost: hostile\r\nX-Pad: ");
                for b in req.bytes().chain(std::iter::repeat(b'a')) {
                    if s.get_mut().write_all(&[b]).is_err() || !nap(&stop, Duration::from_secs(9)) {
                        break;
                    }
                }
            }
        }
    }
}

/// One legitimate request on a fresh connection: (status, time to the last byte).
fn legitimate(addr: SocketAddr, path: &str) -> Result<(u16, Duration), String> {
    let t = Instant::now();
    let s = TcpStream::connect_timeout(&addr, ANSWER_WITHIN * 5).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(ANSWER_WITHIN * 5))
        .map_err(|e| e.to_string())?;
    let mut s = BufReader::new(s);
    let req = format!("GET {path} HTTP/1.1\r\nHost: legit\r\nConnection: close\r\n\r\n");
    s.get_mut()
        .write_all(req.as_bytes())
        .map_err(|e| e.to_string())?;
    let status = read_response(&mut s).map_err(|e| format!("after {:?}: {e}", t.elapsed()))?;
    Ok((status, t.elapsed()))
}

#[test]
fn a_legitimate_client_is_answered_within_a_second_while_a_hundred_connections_hang() {
    let v = TestVault::init();
    let f = v.file("a.txt", b"evidence");
    v.add(&[&f]);
    let log_vkey = v.ok(&["log", "key"]).trim().to_owned();
    let wdir = v.tmp.path().join("witness");
    let wd = wdir.to_str().expect("utf-8");
    v.ok(&["witness", "init", "--dir", wd, "--name", "witness.test/w"]);
    v.ok(&["witness", "add-log", "--dir", wd, &log_vkey]);

    let mut log = guwah_cmd(&v.root, None);
    log.args(["log", "serve", "--addr", "127.0.0.1:0"]);
    let mut witness = guwah_cmd(&v.root, None);
    witness.args(["witness", "serve", "--addr", "127.0.0.1:0", "--dir", wd]);
    let mut verifier = guwah_cmd(&v.root, None);
    verifier.args(["verifier", "serve", "--addr", "127.0.0.1:0"]);
    let servers = [
        start("log serve", "/checkpoint", log),
        start("witness serve", "/", witness),
        start("verifier serve", "/", verifier),
    ];
    for s in &servers {
        let (status, _) = legitimate(s.addr, s.path).unwrap_or_else(|e| panic!("{}: {e}", s.name));
        assert_eq!(status, 200, "{} before the attack", s.name);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let mut threads: Vec<JoinHandle<()>> = Vec::new();
    for s in &servers {
        for i in 0..HOSTILE {
            let (addr, path, stop) = (s.addr, s.path, Arc::clone(&stop));
            threads.push(
                std::thread::Builder::new()
                    .stack_size(64 * 1024)
                    .spawn(move || hostile(addr, path, i % 3, stop))
                    .expect("spawn"),
            );
        }
    }
    // Let every hostile connection open and settle.
    std::thread::sleep(Duration::from_millis(1500));

    let probes = AtomicUsize::new(0);
    let mut failures = Vec::new();
    let end = Instant::now() + PROBE_FOR;
    while Instant::now() < end {
        for s in &servers {
            probes.fetch_add(1, Ordering::Relaxed);
            match legitimate(s.addr, s.path) {
                Ok((200, t)) if t <= ANSWER_WITHIN => {}
                Ok((status, t)) => failures.push(format!("{}: HTTP {status} in {t:?}", s.name)),
                Err(e) => failures.push(format!("{}: {e}", s.name)),
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
    stop.store(true, Ordering::Relaxed);
    for t in threads {
        let _ = t.join();
    }
    assert!(
        failures.is_empty(),
        "{} of {} legitimate requests were not answered within {ANSWER_WITHIN:?}:\n{}",
        failures.len(),
        probes.load(Ordering::Relaxed),
        failures.join("\n")
    );
}
