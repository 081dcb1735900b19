//! `serve` over real sockets on 127.0.0.1: every limit of [`Limits`] is
//! met by a client that breaks it, and the server goes on answering.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Bytes;
use axum::routing::{get, post};
use guwah_server::Limits;

/// Starts `serve` with `limits` on a free port, on a thread of its own.
fn start(limits: Limits) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new()
        .route("/", get(|| async { "ok\n" }))
        .route("/big", get(|| async { vec![b'x'; 64 << 20] }))
        .route("/echo", post(|b: Bytes| async move { b }));
    std::thread::spawn(move || guwah_server::run(listener, app, limits));
    addr
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s
}

/// Sends `req` on a new connection and reads until the server closes.
fn exchange(addr: SocketAddr, req: &[u8]) -> String {
    let mut s = connect(addr);
    s.write_all(req).unwrap();
    read_all(&mut s)
}

fn read_all(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// Reads one response of a kept-alive connection (head and `Content-Length` body).
fn read_one(s: &mut TcpStream) -> String {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        assert_eq!(s.read(&mut byte).unwrap(), 1, "closed mid-head: {buf:?}");
        buf.push(byte[0]);
    }
    let head = String::from_utf8(buf).unwrap();
    let len: usize = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().parse().unwrap())
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).unwrap();
    head + &String::from_utf8_lossy(&body)
}

const GET: &[u8] = b"GET / HTTP/1.1\r\nHost: t\r\n\r\n";

#[test]
fn bad_requests_get_precise_statuses() {
    let addr = start(Limits {
        max_body_bytes: 100,
        request_timeout: Duration::from_millis(300),
        ..Limits::default()
    });
    let cases: &[(&[u8], &str)] = &[
        (b"GARBAGE\r\n\r\n", "HTTP/1.1 400"),
        (b"GET /\xff HTTP/1.1\r\n\r\n", "HTTP/1.1 400"),
        (b"GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", "HTTP/1.1 400"),
        (
            b"POST /echo HTTP/1.1\r\nContent-Length: -1\r\n\r\n",
            "HTTP/1.1 400",
        ),
        (
            b"POST /echo HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
            "HTTP/1.1 400",
        ),
        (b"GET / HTTP/2.0\r\n\r\n", "HTTP/1.1 400"),
        (
            b"POST /echo HTTP/1.1\r\nContent-Length: 101\r\nConnection: close\r\n\r\n",
            "HTTP/1.1 413",
        ),
        (
            b"POST /echo HTTP/1.1\r\nContent-Length: 10\r\nConnection: close\r\n\r\nabc",
            "HTTP/1.1 408",
        ),
        (
            b"POST /echo HTTP/1.1\r\nContent-Length: 3\r\nConnection: close\r\n\r\nabc",
            "HTTP/1.1 200",
        ),
    ];
    for (req, want) in cases {
        let r = exchange(addr, req);
        assert!(
            r.starts_with(want),
            "{:?} -> {r:?}",
            String::from_utf8_lossy(req)
        );
    }
    let r = exchange(
        addr,
        b"POST /echo HTTP/1.1\r\nContent-Length: 200\r\nConnection: close\r\n\r\n",
    );
    assert!(
        r.ends_with("\r\n\r\nrequest body too large: at most 100 bytes\n"),
        "{r}"
    );
    let r = exchange(
        addr,
        b"POST /echo HTTP/1.1\r\nContent-Length: 10\r\nConnection: close\r\n\r\nabc",
    );
    assert!(
        r.contains("text/plain") && r.contains("\r\n\r\nrequest timeout: "),
        "{r}"
    );
    // Chunked bodies are limited too.
    let r = exchange(
        addr,
        format!(
            "POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n{:x}\r\n{}\r\n0\r\n\r\n",
            150,
            "y".repeat(150)
        )
        .as_bytes(),
    );
    assert!(r.starts_with("HTTP/1.1 413"), "{r}");
    let mut big = b"GET / HTTP/1.1\r\n".to_vec();
    for _ in 0..1000 {
        big.extend_from_slice(b"X-Pad: aaaaaaaaaaaaaaaaaaaaaaaa\r\n");
    }
    big.extend_from_slice(b"\r\n");
    assert!(exchange(addr, &big).starts_with("HTTP/1.1 431"));
    assert!(exchange(addr, b"GET / HTTP/1.0\r\n\r\n").ends_with("\r\n\r\nok\n"));
}

#[test]
fn idle_and_slow_connections_are_closed_after_the_header_timeout() {
    let addr = start(Limits {
        header_read_timeout: Duration::from_millis(300),
        ..Limits::default()
    });
    // Silent after connecting.
    let t = Instant::now();
    assert_eq!(exchange(addr, b""), "");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    // Headers trickling in.
    let mut s = connect(addr);
    let t = Instant::now();
    for b in b"GET / HTTP/1.1\r\nX: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" {
        if s.write_all(&[*b]).is_err() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(!read_all(&mut s).contains("200 OK"));
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
    // Idle between kept-alive requests.
    let mut s = connect(addr);
    s.write_all(GET).unwrap();
    assert!(read_one(&mut s).starts_with("HTTP/1.1 200"));
    let t = Instant::now();
    assert_eq!(read_all(&mut s), "");
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
}

#[test]
fn connections_are_capped_per_address_and_keep_alive_stops_when_busy() {
    let addr = start(Limits {
        max_connections_per_ip: 3,
        keep_alive_below: 2,
        ..Limits::default()
    });
    // Alone: kept alive.
    let mut first = connect(addr);
    first.write_all(GET).unwrap();
    let r = read_one(&mut first);
    assert!(
        r.starts_with("HTTP/1.1 200") && !r.contains("connection: close"),
        "{r}"
    );
    // Two more make the server busy: the idle first one is closed...
    let mut second = connect(addr);
    let third = connect(addr);
    let t = Instant::now();
    assert_eq!(read_all(&mut first), "");
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "closed by the header timeout, not shed"
    );
    // ...and answers say `Connection: close` while it is busy. (The
    // first one may have been shed when the second was accepted: give the
    // accept loop time to take the third, or only one would be open.)
    std::thread::sleep(Duration::from_millis(200));
    second.write_all(GET).unwrap();
    let r = read_all(&mut second);
    assert!(
        r.starts_with("HTTP/1.1 200") && r.contains("connection: close"),
        "{r}"
    );
    drop(third);
    std::thread::sleep(Duration::from_millis(200));
    // Past three from one address: 503 at once.
    let held: Vec<TcpStream> = (0..3).map(|_| connect(addr)).collect();
    std::thread::sleep(Duration::from_millis(200));
    let t = Instant::now();
    let r = exchange(addr, GET);
    assert!(
        r.starts_with("HTTP/1.1 503") && r.ends_with("try again\n"),
        "{r}"
    );
    assert!(t.elapsed() < Duration::from_secs(1));
    drop(held);
    std::thread::sleep(Duration::from_millis(200));
    assert!(exchange(addr, b"GET / HTTP/1.0\r\n\r\n").starts_with("HTTP/1.0 200"));
}

#[test]
fn a_client_that_does_not_read_is_dropped_after_the_write_timeout() {
    let addr = start(Limits {
        max_connections: 1,
        write_timeout: Duration::from_millis(300),
        ..Limits::default()
    });
    // 64 MiB that nobody reads: the socket buffers fill, the write stalls.
    let mut stuck = connect(addr);
    stuck
        .write_all(b"GET /big HTTP/1.1\r\nHost: t\r\n\r\n")
        .unwrap();
    let t = Instant::now();
    loop {
        let r = exchange(addr, b"GET / HTTP/1.0\r\n\r\n");
        if r.starts_with("HTTP/1.0 200") {
            break;
        }
        assert!(r.starts_with("HTTP/1.1 503"), "{r}");
        assert!(
            t.elapsed() < Duration::from_secs(5),
            "the stuck client kept its place"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    drop(stuck);
}
