//! `--server`: the team server (`guwah serve`) on 127.0.0.1, side by side
//! with its framework's ceiling.
//!
//! 1. Item-metadata reads (`GET /api/items/{id}`, every item in turn) and
//!    listing (`GET /api/items?limit=50`) by 50 keep-alive clients, against
//!    the same stack (our accept loop, hyper, axum) answering the same
//!    route with a constant: requests/s and p99.
//! 2. 50 tus uploads at once, each connection cut at random points in the
//!    middle of a request and resumed; then every file is checked: none
//!    lost, none sealed twice.
//! 3. One large upload (2 GiB; `--quick` 256 MiB) against the disk's
//!    durable-write ceiling (`dd bs=1M conv=fsync` of the same file), with
//!    the server's peak RSS.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader as StdBufReader, Write as _};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use guwah_vault::{KdfParams, Role, Submission, Vault};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::{print_table, row, secs_ms};

const PASSPHRASE: &str = "guwah-bench team passphrase";
/// Collector accounts the uploads are spread over.
const COLLECTORS: usize = 10;

/// One answer: status, headers (lowercase names), body.
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: BTreeMap<String, String>,
    pub(crate) body: Vec<u8>,
}

async fn read_answer(s: &mut BufReader<TcpStream>) -> Result<Answer, String> {
    let mut line = String::new();
    s.read_line(&mut line).await.map_err(|e| e.to_string())?;
    let status: u16 = line
        .get(9..12)
        .and_then(|c| c.parse().ok())
        .ok_or(format!("bad status line {line:?}"))?;
    let mut headers = BTreeMap::new();
    loop {
        line.clear();
        s.read_line(&mut line).await.map_err(|e| e.to_string())?;
        if line == "\r\n" || line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let len: usize = headers
        .get("content-length")
        .map_or(Ok(0), |v| v.parse())
        .map_err(|_| "bad content-length")?;
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await.map_err(|e| e.to_string())?;
    Ok(Answer {
        status,
        headers,
        body,
    })
}

pub(crate) async fn connect(addr: &str) -> Result<BufReader<TcpStream>, String> {
    let s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
    s.set_nodelay(true).map_err(|e| e.to_string())?;
    Ok(BufReader::new(s))
}

/// One request on a kept-alive connection.
pub(crate) async fn ask(
    s: &mut BufReader<TcpStream>,
    method: &str,
    path: &str,
    headers: &str,
    body: &[u8],
) -> Result<Answer, String> {
    let head = format!(
        "{method} {path} HTTP/1.1\r\nHost: bench\r\nContent-Length: {}\r\n{headers}\r\n",
        body.len()
    );
    let w = s.get_mut();
    w.write_all(head.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    w.write_all(body).await.map_err(|e| e.to_string())?;
    read_answer(s).await
}

/// What a load run measured.
pub(crate) struct Load {
    /// Requests answered per second.
    pub rps: f64,
    /// Median latency.
    pub p50: Duration,
    /// 99th-percentile latency.
    pub p99: Duration,
    /// Answers that were not 200.
    pub errors: u64,
}

/// `clients` connections GET `paths` (each client walks them from its own
/// start) for `secs`, each request with the header line `auth` (e.g.
/// `Authorization: Bearer …\r\n` or `Cookie: …\r\n`).
pub(crate) fn load(
    addr: &str,
    auth: &str,
    paths: &[String],
    clients: usize,
    secs: u64,
) -> Result<Load, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let deadline = Instant::now() + Duration::from_secs(secs);
        let start = Instant::now();
        let tasks: Vec<_> = (0..clients)
            .map(|c| {
                let (addr, auth, paths) = (addr.to_owned(), auth.to_owned(), paths.to_vec());
                tokio::spawn(async move {
                    let mut s = connect(&addr).await?;
                    let (mut lat, mut errors) = (Vec::new(), 0u64);
                    let mut i = c * 7919;
                    while Instant::now() < deadline {
                        let t = Instant::now();
                        let a = ask(&mut s, "GET", &paths[i % paths.len()], &auth, b"").await?;
                        lat.push(t.elapsed());
                        if a.status != 200 {
                            errors += 1;
                        }
                        i += 1;
                    }
                    Ok::<_, String>((lat, errors))
                })
            })
            .collect();
        let mut all = Vec::new();
        let mut errors = 0;
        for t in tasks {
            let (lat, e) = t.await.map_err(|e| e.to_string())??;
            all.extend(lat);
            errors += e;
        }
        let took = start.elapsed().as_secs_f64();
        all.sort();
        let at = |q: usize| {
            all.get((all.len() * q / 100).min(all.len().saturating_sub(1)))
                .copied()
                .unwrap_or_default()
        };
        Ok(Load {
            rps: all.len() as f64 / took,
            p50: at(50),
            p99: at(99),
            errors,
        })
    })
}

/// Sign `name` in with the JSON API; the `Cookie:` header line of its
/// session.
pub(crate) fn rt_login(addr: &str, name: &str, password: &str) -> Result<String, String> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    rt.block_on(async {
        let mut s = connect(addr).await?;
        let body = serde_json::json!({ "name": name, "password": password }).to_string();
        let a = ask(
            &mut s,
            "POST",
            "/api/login",
            "Content-Type: application/json\r\n",
            body.as_bytes(),
        )
        .await?;
        let cookie = a
            .headers
            .get("set-cookie")
            .and_then(|c| c.split(';').next())
            .ok_or_else(|| format!("sign-in answered {}", a.status))?;
        Ok(format!("Cookie: {cookie}\r\n"))
    })
}

/// A small deterministic generator (xorshift), for file contents.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        let mut v = Vec::with_capacity(n + 8);
        while v.len() < n {
            v.extend_from_slice(&self.next().to_le_bytes());
        }
        v.truncate(n);
        v
    }
}

fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn tus_headers(token: &str) -> String {
    format!("Authorization: Bearer {token}\r\nTus-Resumable: 1.0.0\r\n")
}

/// HEAD of upload `at` on a new connection, waiting as a client should
/// while the server sheds connections (503, `Retry-After`).
async fn head_of(addr: &str, at: &str, h: &str) -> Result<(BufReader<TcpStream>, Answer), String> {
    for _ in 0..20 {
        let mut s = connect(addr).await?;
        let head = ask(&mut s, "HEAD", at, h, b"").await?;
        if head.status != 503 {
            return Ok((s, head));
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err(format!("HEAD {at}: 503 for 10 s"))
}

/// One upload of `data`, its connection cut `cuts` times in the middle
/// of a PATCH body; returns the item the server sealed it as.
async fn cut_upload(
    addr: String,
    token: String,
    data: Vec<u8>,
    mut rng: Rng,
    cuts: u32,
) -> Result<String, String> {
    let h = tus_headers(&token);
    let mut s = connect(&addr).await?;
    let created = ask(
        &mut s,
        "POST",
        "/api/uploads",
        &format!("{h}Upload-Length: {}\r\n", data.len()),
        b"",
    )
    .await?;
    if created.status != 201 {
        return Err(format!(
            "create: {} {}",
            created.status,
            String::from_utf8_lossy(&created.body)
        ));
    }
    let at = created
        .headers
        .get("location")
        .cloned()
        .ok_or("no Location")?;
    let patch_head = |offset: u64, len: usize| {
        format!(
            "PATCH {at} HTTP/1.1\r\nHost: bench\r\n{h}Upload-Offset: {offset}\r\nContent-Type: application/offset+octet-stream\r\nContent-Length: {len}\r\n\r\n"
        )
    };
    for _ in 0..cuts {
        // Where the server stands, then part of the rest and a cut.
        let (mut s, head) = head_of(&addr, &at, &h).await?;
        let offset: u64 = head
            .headers
            .get("upload-offset")
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| format!("HEAD {at}: {} without Upload-Offset", head.status))?;
        let rest = &data[offset as usize..];
        let send = (rng.next() as usize) % rest.len().max(1);
        let w = s.get_mut();
        w.write_all(patch_head(offset, rest.len()).as_bytes())
            .await
            .map_err(|e| e.to_string())?;
        w.write_all(&rest[..send])
            .await
            .map_err(|e| e.to_string())?;
        w.flush().await.map_err(|e| e.to_string())?;
        // A pause so the bytes arrive, then the connection drops.
        tokio::time::sleep(Duration::from_millis(20)).await;
        drop(s);
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let (mut s, head) = head_of(&addr, &at, &h).await?;
    let offset: u64 = head
        .headers
        .get("upload-offset")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("HEAD {at}: {} without Upload-Offset", head.status))?;
    let rest = &data[offset as usize..];
    let w = s.get_mut();
    w.write_all(patch_head(offset, rest.len()).as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    w.write_all(rest).await.map_err(|e| e.to_string())?;
    let done = read_answer(&mut s).await?;
    if done.status != 204 {
        return Err(format!(
            "last PATCH: {} {}",
            done.status,
            String::from_utf8_lossy(&done.body)
        ));
    }
    done.headers
        .get("x-guwah-item")
        .cloned()
        .ok_or_else(|| "no X-Guwah-Item".into())
}

/// The server, killed when the benchmark ends.
struct Kill(std::process::Child);

/// A running `guwah serve` (stopped when dropped): its address
/// (`host:port`) and process id.
pub(crate) struct Served {
    pub(crate) addr: String,
    pub(crate) pid: u32,
    _child: Kill,
}

/// Start `guwah serve` over `vault` on a free port with `extra` flags and
/// wait for the address it prints; `quiet` drops its standard error.
pub(crate) fn serve(
    guwah: &Path,
    vault: &Path,
    passphrase: &str,
    extra: &[&str],
    quiet: bool,
) -> Result<Served, String> {
    let mut child = Command::new(guwah)
        .args(["--json", "serve", "--addr", "127.0.0.1:0"])
        .args(extra)
        .env("GUWAH_VAULT", vault)
        .env("GUWAH_PASSPHRASE", passphrase)
        .stdout(Stdio::piped())
        .stderr(if quiet {
            Stdio::null()
        } else {
            Stdio::inherit()
        })
        .spawn()
        .map_err(|e| format!("{}: {e}", guwah.display()))?;
    let pid = child.id();
    let mut out = StdBufReader::new(child.stdout.take().ok_or("no stdout")?);
    let child = Kill(child);
    // `--json` prints one pretty JSON document: read until it is whole.
    let mut text = String::new();
    let url: serde_json::Value = loop {
        if out.read_line(&mut text).map_err(|e| e.to_string())? == 0 {
            return Err(format!("guwah serve printed {text:?} and stopped"));
        }
        if let Ok(v) = serde_json::from_str(&text) {
            break v;
        }
    };
    let addr = url["url"]
        .as_str()
        .ok_or("no url")?
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    Ok(Served {
        addr,
        pid,
        _child: child,
    })
}

impl Drop for Kill {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn peak_rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse().ok())
        })
        .unwrap_or(0)
}

/// Runs the three measurements and prints the table.
pub fn run(guwah: &Path, dir: &Path, quick: bool) -> Result<(), String> {
    let (items, clients, secs, uploads, large) = if quick {
        (200usize, 50usize, 3u64, 20usize, 256u64 << 20)
    } else {
        (1000, 50, 10, 50, 2u64 << 30)
    };
    let root = dir.join("team-bench");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).map_err(|e| e.to_string())?;
    let vault_dir = root.join("vault");
    println!(
        "== team server: {items} items, {clients} clients, {secs} s per route; {uploads} cut uploads; one {} MiB upload",
        large >> 20
    );

    // The vault, its items and accounts, through the library.
    let (token, collector, ids) = {
        let v = Vault::init(
            &vault_dir,
            PASSPHRASE.as_bytes(),
            Some("bench.example/team"),
            KdfParams::DEFAULT,
        )
        .map_err(|e| e.to_string())?;
        v.add_account(
            "coord",
            Role::Coordinator,
            b"bench coordinator password",
            "bench",
        )
        .map_err(|e| e.to_string())?;
        // Several collectors: uploads in progress are capped per account.
        for i in 0..COLLECTORS {
            v.add_account(
                &format!("field{i}"),
                Role::Collector,
                b"bench collector password",
                "bench",
            )
            .map_err(|e| e.to_string())?;
        }
        let token = v
            .issue_token("coord", "bench")
            .map_err(|e| e.to_string())?
            .to_string();
        let collector: Vec<String> = (0..COLLECTORS)
            .map(|i| {
                v.issue_token(&format!("field{i}"), "bench")
                    .map(|t| t.to_string())
            })
            .collect::<Result<_, _>>()
            .map_err(|e| e.to_string())?;
        let key = v
            .authenticate(&collector[0])
            .map_err(|e| e.to_string())?
            .ok_or("no principal")?
            .key;
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let mut ids = Vec::new();
        for i in 0..items {
            let data = rng.bytes(2048);
            let sub = Submission {
                filename: Some(format!("item-{i}.bin")),
                via: "upload",
                ..Submission::default()
            };
            ids.push(
                v.add_submission(&data[..], data.len() as u64, &sub, "field0", &key)
                    .map_err(|e| e.to_string())?
                    .id,
            );
        }
        (token, collector, ids)
    };

    // The server under test.
    let served = serve(guwah, &vault_dir, PASSPHRASE, &["--max-upload", "4"], false)?;
    let (addr, pid) = (served.addr.clone(), served.pid);

    // The ceiling: the same accept loop, hyper and axum, a constant answer.
    let ceiling = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
    let ceiling_addr = ceiling.local_addr().map_err(|e| e.to_string())?.to_string();
    let constant = axum::Router::new()
        .route(
            "/api/items/{id}",
            axum::routing::get(|| async {
                (
                    [("content-type", "application/json")],
                    "{\"id\":\"constant\"}",
                )
            }),
        )
        .route(
            "/api/items",
            axum::routing::get(|| async {
                ([("content-type", "application/json")], "{\"items\":[]}")
            }),
        )
        .route(
            "/items",
            axum::routing::get(|| async {
                (
                    [("content-type", "text/html; charset=utf-8")],
                    "<!doctype html><title>constant</title>",
                )
            }),
        );
    std::thread::spawn(move || {
        guwah_server::run(ceiling, constant, guwah_server::Limits::default())
    });
    std::thread::sleep(Duration::from_millis(200));

    let item_paths: Vec<String> = ids.iter().map(|id| format!("/api/items/{id}")).collect();
    let list_paths: Vec<String> = (0..items / 50)
        .map(|p| format!("/api/items?limit=50&offset={}", p * 50))
        .collect();
    let bearer = format!("Authorization: Bearer {token}\r\n");
    let show = load(&addr, &bearer, &item_paths, clients, secs)?;
    let show_c = load(&ceiling_addr, &bearer, &item_paths, clients, secs)?;
    let list = load(&addr, &bearer, &list_paths, clients, secs)?;
    let list_c = load(&ceiling_addr, &bearer, &list_paths, clients, secs)?;
    // The web page of the item list, signed in with a session cookie.
    let cookie = rt_login(&addr, "coord", "bench coordinator password")?;
    let page_paths: Vec<String> = (1..=(items / 50).max(1))
        .map(|p| format!("/items?page={p}"))
        .collect();
    let pages = load(&addr, &cookie, &page_paths, clients, secs)?;
    let pages_c = load(&ceiling_addr, &cookie, &page_paths, clients, secs)?;

    // Cut uploads, all at once.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let mut rng = Rng(0x1234_5678_9abc_def1);
    let files: Vec<Vec<u8>> = (0..uploads)
        .map(|_| {
            let n = 256 * 1024 + (rng.next() as usize) % (4 << 20);
            rng.bytes(n)
        })
        .collect();
    let expected: BTreeSet<String> = files.iter().map(|f| sha256_hex(f)).collect();
    let t = Instant::now();
    let sealed: Vec<Result<String, String>> = rt.block_on(async {
        let tasks: Vec<_> = files
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let seed = Rng(0xabcdef + i as u64 * 31);
                tokio::spawn(cut_upload(
                    addr.clone(),
                    collector[i % COLLECTORS].clone(),
                    f.clone(),
                    seed,
                    1 + (i as u32 % 3),
                ))
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.map_err(|e| e.to_string()).and_then(|r| r));
        }
        out
    });
    let upload_time = t.elapsed();
    let failed: Vec<&String> = sealed.iter().filter_map(|r| r.as_ref().err()).collect();
    let items_sealed: BTreeSet<&String> = sealed.iter().filter_map(|r| r.as_ref().ok()).collect();
    // Every file is in the vault exactly once, byte for byte (its SHA-256).
    let listed: Vec<serde_json::Value> = rt.block_on(async {
        let mut s = connect(&addr).await?;
        let mut all = Vec::new();
        let mut offset = 0;
        loop {
            let a = ask(
                &mut s,
                "GET",
                &format!("/api/items?limit=500&offset={offset}"),
                &format!("Authorization: Bearer {token}\r\n"),
                b"",
            )
            .await?;
            let page: serde_json::Value =
                serde_json::from_slice(&a.body).map_err(|e| e.to_string())?;
            let items = page["items"].as_array().cloned().unwrap_or_default();
            if items.is_empty() {
                break;
            }
            offset += items.len();
            all.extend(items);
        }
        Ok::<_, String>(all)
    })?;
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for it in &listed {
        if let Some(sha) = it["sha256"].as_str()
            && expected.contains(sha)
        {
            *seen.entry(sha.to_owned()).or_default() += 1;
        }
    }
    let lost = expected.len() - seen.len();
    let duplicated: usize = seen.values().map(|n| n.saturating_sub(1)).sum();

    // One large upload against dd's durable write of the same bytes.
    let big = root.join("large.bin");
    {
        let mut f = std::fs::File::create(&big).map_err(|e| e.to_string())?;
        let mut rng = Rng(0x5151_5151);
        let mut left = large;
        while left > 0 {
            let n = left.min(8 << 20) as usize;
            f.write_all(&rng.bytes(n)).map_err(|e| e.to_string())?;
            left -= n as u64;
        }
        f.sync_all().map_err(|e| e.to_string())?;
    }
    let copy = root.join("large.copy");
    let t = Instant::now();
    let dd = Command::new("dd")
        .arg(format!("if={}", big.display()))
        .arg(format!("of={}", copy.display()))
        .args(["bs=1M", "conv=fsync", "status=none"])
        .status()
        .map_err(|e| format!("dd: {e}"))?;
    let dd_time = t.elapsed();
    if !dd.success() {
        return Err("dd failed".into());
    }
    let _ = std::fs::remove_file(&copy);
    let bytes = Arc::new(std::fs::read(&big).map_err(|e| e.to_string())?);
    let t = Instant::now();
    let big_item = rt.block_on(cut_upload(
        addr.clone(),
        collector[0].clone(),
        (*bytes).clone(),
        Rng(7),
        0,
    ))?;
    let big_time = t.elapsed();
    let rss = peak_rss_kib(pid);

    let rows = vec![
        row(
            format!("GET /api/items/{{id}} ({clients} clients)"),
            format!("{:.0} req/s, p99 {}", show.rps, secs_ms(show.p99)),
            format!(
                "{:.0} req/s, p99 {} (constant)",
                show_c.rps,
                secs_ms(show_c.p99)
            ),
        )
        .ratio(show.rps / show_c.rps)
        .target(
            ">= 5000/s, p99 < 50 ms",
            show.rps >= 5000.0 && show.p99 < Duration::from_millis(50) && show.errors == 0,
        ),
        row(
            format!("GET /api/items?limit=50 ({clients} clients)"),
            format!("{:.0} req/s, p99 {}", list.rps, secs_ms(list.p99)),
            format!(
                "{:.0} req/s, p99 {} (constant)",
                list_c.rps,
                secs_ms(list_c.p99)
            ),
        )
        .ratio(list.rps / list_c.rps)
        .target(
            "p99 < 50 ms",
            list.p99 < Duration::from_millis(50) && list.errors == 0,
        ),
        row(
            format!("GET /items, the web page of 50 ({clients} clients)"),
            format!("{:.0} pages/s, p99 {}", pages.rps, secs_ms(pages.p99)),
            format!(
                "{:.0} pages/s, p99 {} (constant)",
                pages_c.rps,
                secs_ms(pages_c.p99)
            ),
        )
        .ratio(pages.rps / pages_c.rps)
        .target(">= 1000 pages/s", pages.rps >= 1000.0 && pages.errors == 0),
        row(
            format!("{uploads} tus uploads at once, cut 1-3 times each"),
            format!(
                "{lost} lost, {duplicated} duplicated, {} failed, in {:.1} s",
                failed.len(),
                upload_time.as_secs_f64()
            ),
            format!("{} sealed", items_sealed.len()),
        )
        .target(
            "0 lost, 0 duplicated",
            lost == 0 && duplicated == 0 && failed.is_empty(),
        ),
        row(
            format!("one {} MiB upload, sealed", large >> 20),
            format!(
                "{:.1} s, server peak RSS {} MiB",
                big_time.as_secs_f64(),
                rss / 1024
            ),
            format!("{:.1} s dd bs=1M conv=fsync", dd_time.as_secs_f64()),
        )
        .ratio(big_time.as_secs_f64() / dd_time.as_secs_f64())
        .target(
            "<= 1.5x, RSS < 200 MiB",
            big_time.as_secs_f64() <= 1.5 * dd_time.as_secs_f64() && rss < 200 * 1024,
        ),
    ];
    print_table(&rows);
    for e in failed.iter().take(5) {
        println!("upload failure: {e}");
    }
    let _ = big_item;
    let _ = std::fs::remove_file(&big);
    Ok(())
}
