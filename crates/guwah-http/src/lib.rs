//! A tiny HTTP/1.1 server on `std::net`, for `guwah witness serve` and
//! `guwah log serve`.
//!
//! No framework and no `unsafe`: a fixed pool of worker threads takes
//! connections from a bounded queue; each reads a request line, headers and
//! a `Content-Length` body under hard limits, calls the routing closure
//! `Fn(&Request) -> Response`, and writes the response. GET, HEAD (the body
//! is computed and dropped, `Content-Length` kept) and POST work; the caller
//! sets any header but `Content-Length`, `Connection` and
//! `Transfer-Encoding`, which the server owns.
//!
//! Bad input never panics a worker and gets a precise status: 400 (syntax),
//! 408 (too slow), 413 (body too large), 431 (headers too large), 501
//! (`Transfer-Encoding`, which is not supported), 505 (not HTTP/1.x). A
//! handler that panics yields 500 and the worker lives on.
//!
//! ```no_run
//! use guwah_http::{Config, Response, Server};
//! let server = Server::bind("127.0.0.1:0", Config::default())?;
//! println!("listening on http://{}", server.local_addr());
//! server.serve(|req| match (req.method.as_str(), req.path()) {
//!     ("GET" | "HEAD", "/") => Response::text(200, "hello\n").with_header("Cache-Control", "no-store"),
//!     _ => Response::text(404, "not found\n"),
//! })?;
//! # Ok::<(), std::io::Error>(())
//! ```
#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::io::{self, BufWriter, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, ToSocketAddrs};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// Limits and timeouts of a [`Server`].
#[derive(Debug, Clone)]
pub struct Config {
    /// Worker threads (connections served at once).
    pub threads: usize,
    /// Connections accepted but waiting for a worker; more are refused with 503.
    pub queue: usize,
    /// Largest request line plus headers, in bytes (default 16 KiB).
    pub max_header_bytes: usize,
    /// Largest request body, in bytes (default 1 MiB).
    pub max_body_bytes: usize,
    /// Longest wait for any one read, and for a whole request once its first
    /// byte has arrived (default 10 s).
    pub read_timeout: Duration,
    /// Longest wait for any one write (default 10 s).
    pub write_timeout: Duration,
    /// Serve more than one request per connection (HTTP/1.1 keep-alive).
    pub keep_alive: bool,
    /// How long an idle kept-alive connection waits for its next request (default 5 s).
    pub idle_timeout: Duration,
    /// Most requests served on one connection before it is closed.
    pub max_requests_per_connection: usize,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            threads: 16,
            queue: 256,
            max_header_bytes: 16 * 1024,
            max_body_bytes: 1024 * 1024,
            read_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            keep_alive: true,
            idle_timeout: Duration::from_secs(5),
            max_requests_per_connection: 10_000,
        }
    }
}

/// One request, read whole.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method, as sent (`GET`, `HEAD`, `POST`, ...).
    pub method: String,
    /// The request target, as sent (path and query).
    pub target: String,
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub version: String,
    /// Header fields in order; names as sent, values trimmed.
    pub headers: Vec<(String, String)>,
    /// The body (empty without `Content-Length`).
    pub body: Vec<u8>,
    /// The client's address.
    pub peer: Option<SocketAddr>,
}

impl Request {
    /// The first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The target's path, without the query.
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }

    /// The target's query string (after `?`), if any.
    pub fn query(&self) -> Option<&str> {
        self.target.split_once('?').map(|(_, q)| q)
    }
}

/// A response to write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Header fields the caller sets. `Content-Length`, `Connection` and
    /// `Transfer-Encoding` are ignored: the server writes those.
    pub headers: Vec<(String, String)>,
    /// The body (not sent for HEAD requests and 1xx/204/304 responses).
    pub body: Vec<u8>,
}

impl Response {
    /// A response with a status and no body.
    pub fn empty(status: u16) -> Self {
        Self {
            status,
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A `text/plain; charset=utf-8` response.
    pub fn text(status: u16, body: impl Into<String>) -> Self {
        Self::bytes(
            status,
            "text/plain; charset=utf-8",
            body.into().into_bytes(),
        )
    }

    /// A response with a content type and body.
    pub fn bytes(status: u16, content_type: &str, body: Vec<u8>) -> Self {
        Self {
            status,
            headers: vec![("Content-Type".into(), content_type.into())],
            body,
        }
    }

    /// Adds (or replaces, by case-insensitive name) a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.retain(|(n, _)| !n.eq_ignore_ascii_case(name));
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// The reason phrase of a status code.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        409 => "Conflict",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        415 => "Unsupported Media Type",
        422 => "Unprocessable Content",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "Status",
    }
}

type Handler = dyn Fn(&Request) -> Response + Send + Sync;

/// A bound, not yet serving, server.
#[derive(Debug)]
pub struct Server {
    listener: TcpListener,
    addr: SocketAddr,
    config: Config,
    stop: Arc<AtomicBool>,
}

/// A server running on background threads; [`ServerHandle::stop`] (or
/// dropping it) stops accepting and waits for the workers.
#[derive(Debug)]
pub struct ServerHandle {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<io::Result<()>>>,
}

impl ServerHandle {
    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting, finishes the requests in progress and joins.
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop.
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl Server {
    /// Binds a listening socket (port 0 picks a free port).
    pub fn bind(addr: impl ToSocketAddrs, config: Config) -> io::Result<Server> {
        let listener = TcpListener::bind(addr)?;
        let addr = listener.local_addr()?;
        Ok(Server {
            listener,
            addr,
            config,
            stop: Arc::new(AtomicBool::new(false)),
        })
    }

    /// The bound address (with the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves forever on this thread (until a [`ServerHandle`] stops it).
    pub fn serve<F>(self, handler: F) -> io::Result<()>
    where
        F: Fn(&Request) -> Response + Send + Sync + 'static,
    {
        let handler: Arc<Handler> = Arc::new(handler);
        let threads = self.config.threads.max(1);
        let (tx, rx): (SyncSender<TcpStream>, Receiver<TcpStream>) =
            sync_channel(self.config.queue.max(1));
        let rx = Arc::new(Mutex::new(rx));
        let config = Arc::new(self.config.clone());
        let mut workers = Vec::with_capacity(threads);
        for i in 0..threads {
            let rx = Arc::clone(&rx);
            let handler = Arc::clone(&handler);
            let config = Arc::clone(&config);
            workers.push(
                std::thread::Builder::new()
                    .name(format!("http-{i}"))
                    .spawn(move || {
                        loop {
                            let next = match rx.lock() {
                                Ok(guard) => guard.recv(),
                                Err(_) => return,
                            };
                            let Ok(stream) = next else { return };
                            let _ = serve_connection(stream, &config, &*handler);
                        }
                    })?,
            );
        }
        for conn in self.listener.incoming() {
            if self.stop.load(Ordering::SeqCst) {
                break;
            }
            let Ok(stream) = conn else {
                // EMFILE and friends: back off instead of spinning.
                std::thread::sleep(Duration::from_millis(10));
                continue;
            };
            match tx.try_send(stream) {
                Ok(()) => {}
                Err(TrySendError::Full(mut s)) => {
                    let _ = s.set_write_timeout(Some(Duration::from_secs(1)));
                    let _ = write_response(
                        &mut s,
                        &Response::text(503, "busy, try again\n"),
                        false,
                        false,
                    );
                }
                Err(TrySendError::Disconnected(_)) => break,
            }
        }
        drop(tx);
        for w in workers {
            let _ = w.join();
        }
        Ok(())
    }

    /// Serves on a background thread.
    pub fn spawn<F>(self, handler: F) -> io::Result<ServerHandle>
    where
        F: Fn(&Request) -> Response + Send + Sync + 'static,
    {
        let addr = self.addr;
        let stop = Arc::clone(&self.stop);
        let thread = std::thread::Builder::new()
            .name("http-accept".into())
            .spawn(move || self.serve(handler))?;
        Ok(ServerHandle {
            addr,
            stop,
            thread: Some(thread),
        })
    }
}

/// Why reading a request stopped.
enum ReadError {
    /// The peer closed (or idled out) between requests: close quietly.
    Closed,
    /// Answer with this status and close.
    Status(u16, &'static str),
}

fn serve_connection(stream: TcpStream, config: &Config, handler: &Handler) -> io::Result<()> {
    let peer = stream.peer_addr().ok();
    stream.set_write_timeout(Some(config.write_timeout))?;
    let _ = stream.set_nodelay(true);
    let mut reader = stream.try_clone()?;
    let mut writer = BufWriter::new(stream);
    let mut buf: Vec<u8> = Vec::new();
    for n in 0..config.max_requests_per_connection.max(1) {
        let idle = if n == 0 {
            config.read_timeout
        } else {
            config.idle_timeout
        };
        let req = match read_request(&mut reader, &mut writer, &mut buf, config, idle) {
            Ok(mut r) => {
                r.peer = peer;
                r
            }
            Err(ReadError::Closed) => return Ok(()),
            Err(ReadError::Status(status, msg)) => {
                write_response(&mut writer, &Response::text(status, msg), false, false)?;
                linger(&mut reader, config);
                return Ok(());
            }
        };
        let keep = config.keep_alive
            && n + 1 < config.max_requests_per_connection
            && wants_keep_alive(&req);
        let head = req.method == "HEAD";
        let resp = catch_unwind(AssertUnwindSafe(|| handler(&req)))
            .unwrap_or_else(|_| Response::text(500, "internal error\n"));
        write_response(&mut writer, &resp, keep, head)?;
        if !keep {
            return Ok(());
        }
    }
    Ok(())
}

/// After an error response, half-close and drain what the client is still
/// sending (bounded in bytes and time), so that it reads the response
/// instead of a connection reset.
fn linger(reader: &mut TcpStream, config: &Config) {
    let _ = reader.shutdown(std::net::Shutdown::Write);
    let deadline = Instant::now() + Duration::from_secs(1);
    let mut left = config.max_body_bytes.saturating_mul(4).max(1 << 20);
    let mut sink = [0u8; 8192];
    while left > 0 {
        let Some(t) = deadline
            .checked_duration_since(Instant::now())
            .filter(|d| !d.is_zero())
        else {
            break;
        };
        let _ = reader.set_read_timeout(Some(t));
        match reader.read(&mut sink) {
            Ok(0) | Err(_) => break,
            Ok(k) => left = left.saturating_sub(k),
        }
    }
}

fn wants_keep_alive(req: &Request) -> bool {
    let conn = req.header("Connection").unwrap_or("");
    let has = |tok: &str| conn.split(',').any(|t| t.trim().eq_ignore_ascii_case(tok));
    if req.version == "HTTP/1.0" {
        has("keep-alive")
    } else {
        !has("close")
    }
}

/// Finds the end of the header block: the index just past `\r\n\r\n` or `\n\n`.
fn header_end(buf: &[u8]) -> Option<usize> {
    let mut i = 0;
    while let Some(p) = buf[i..].iter().position(|&b| b == b'\n') {
        let at = i + p;
        let next = &buf[at + 1..];
        if next.starts_with(b"\n") {
            return Some(at + 2);
        }
        if next.starts_with(b"\r\n") {
            return Some(at + 3);
        }
        i = at + 1;
    }
    None
}

fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

fn read_request(
    reader: &mut TcpStream,
    writer: &mut BufWriter<TcpStream>,
    buf: &mut Vec<u8>,
    config: &Config,
    idle: Duration,
) -> Result<Request, ReadError> {
    let mut chunk = [0u8; 8192];
    let mut started: Option<Instant> = if buf.is_empty() {
        None
    } else {
        Some(Instant::now())
    };
    // Header block.
    let end = loop {
        if let Some(e) = header_end(buf) {
            break e;
        }
        if buf.len() > config.max_header_bytes {
            return Err(ReadError::Status(431, "request headers too large\n"));
        }
        let timeout = match started {
            None => idle,
            Some(t) => match config.read_timeout.checked_sub(t.elapsed()) {
                Some(d) if !d.is_zero() => d,
                _ => return Err(ReadError::Status(408, "request timeout\n")),
            },
        };
        let _ = reader.set_read_timeout(Some(timeout));
        match reader.read(&mut chunk) {
            Ok(0) => {
                return Err(if buf.is_empty() {
                    ReadError::Closed
                } else {
                    ReadError::Status(400, "connection closed mid-request\n")
                });
            }
            Ok(k) => {
                // Skip empty lines before a request (RFC 9112 2.2).
                buf.extend_from_slice(&chunk[..k]);
                if started.is_none() {
                    let lead = buf
                        .iter()
                        .take_while(|&&b| b == b'\r' || b == b'\n')
                        .count();
                    buf.drain(..lead);
                    if !buf.is_empty() {
                        started = Some(Instant::now());
                    }
                }
            }
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(if started.is_none() {
                    ReadError::Closed
                } else {
                    ReadError::Status(408, "request timeout\n")
                });
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Err(ReadError::Closed),
        }
    };
    if end > config.max_header_bytes {
        return Err(ReadError::Status(431, "request headers too large\n"));
    }
    let head = std::str::from_utf8(&buf[..end])
        .map_err(|_| ReadError::Status(400, "request headers are not UTF-8\n"))?;
    let mut lines = head
        .split('\n')
        .map(|l| l.strip_suffix('\r').unwrap_or(l))
        .filter(|l| !l.is_empty());
    let request_line = lines
        .next()
        .ok_or(ReadError::Status(400, "no request line\n"))?;
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ReadError::Status(400, "malformed request line\n"));
    };
    if method.is_empty() || !method.bytes().all(is_tchar) {
        return Err(ReadError::Status(400, "malformed method\n"));
    }
    if target.is_empty()
        || !(target.starts_with('/') || target == "*")
        || target.bytes().any(|b| b <= b' ' || b == 0x7f)
    {
        return Err(ReadError::Status(400, "malformed request target\n"));
    }
    if version != "HTTP/1.1" && version != "HTTP/1.0" {
        if version.starts_with("HTTP/") {
            return Err(ReadError::Status(505, "only HTTP/1.0 and HTTP/1.1\n"));
        }
        return Err(ReadError::Status(400, "malformed HTTP version\n"));
    }
    let mut headers = Vec::new();
    let mut content_length: Option<usize> = None;
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or(ReadError::Status(400, "malformed header line\n"))?;
        if name.is_empty() || !name.bytes().all(is_tchar) {
            return Err(ReadError::Status(400, "malformed header name\n"));
        }
        let value = value.trim_matches(|c| c == ' ' || c == '\t');
        if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(ReadError::Status(
                400,
                "control character in a header value\n",
            ));
        }
        if name.eq_ignore_ascii_case("Transfer-Encoding") {
            return Err(ReadError::Status(
                501,
                "Transfer-Encoding is not supported; send Content-Length\n",
            ));
        }
        if name.eq_ignore_ascii_case("Content-Length") {
            if value.is_empty() || value.len() > 19 || !value.bytes().all(|b| b.is_ascii_digit()) {
                return Err(ReadError::Status(400, "malformed Content-Length\n"));
            }
            let n: usize = value
                .parse()
                .map_err(|_| ReadError::Status(400, "malformed Content-Length\n"))?;
            if content_length.is_some_and(|c| c != n) {
                return Err(ReadError::Status(
                    400,
                    "conflicting Content-Length headers\n",
                ));
            }
            content_length = Some(n);
        }
        headers.push((name.to_owned(), value.to_owned()));
    }
    let len = content_length.unwrap_or(0);
    if len > config.max_body_bytes {
        return Err(ReadError::Status(413, "request body too large\n"));
    }
    let req_head = (method.to_owned(), target.to_owned(), version.to_owned());
    buf.drain(..end);
    let expects_continue = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("Expect") && v.eq_ignore_ascii_case("100-continue"));
    if expects_continue && buf.len() < len {
        let _ = writer
            .write_all(b"HTTP/1.1 100 Continue\r\n\r\n")
            .and_then(|_| writer.flush());
    }
    let start = started.unwrap_or_else(Instant::now);
    while buf.len() < len {
        let timeout = match config.read_timeout.checked_sub(start.elapsed()) {
            Some(d) if !d.is_zero() => d,
            _ => return Err(ReadError::Status(408, "request timeout\n")),
        };
        let _ = reader.set_read_timeout(Some(timeout));
        let want = (len - buf.len()).min(chunk.len());
        match reader.read(&mut chunk[..want]) {
            Ok(0) => return Err(ReadError::Status(400, "connection closed mid-body\n")),
            Ok(k) => buf.extend_from_slice(&chunk[..k]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(ReadError::Status(408, "request timeout\n"));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => return Err(ReadError::Closed),
        }
    }
    let body: Vec<u8> = buf.drain(..len).collect();
    Ok(Request {
        method: req_head.0,
        target: req_head.1,
        version: req_head.2,
        headers,
        body,
        peer: None,
    })
}

fn write_response(
    w: &mut impl Write,
    resp: &Response,
    keep_alive: bool,
    head_only: bool,
) -> io::Result<()> {
    let status = if (100..=999).contains(&resp.status) {
        resp.status
    } else {
        500
    };
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status));
    for (n, v) in &resp.headers {
        let owned = ["content-length", "connection", "transfer-encoding"]
            .iter()
            .any(|o| n.eq_ignore_ascii_case(o));
        let bad =
            !n.bytes().all(is_tchar) || n.is_empty() || v.bytes().any(|b| b == b'\r' || b == b'\n');
        if owned || bad {
            continue;
        }
        out.push_str(n);
        out.push_str(": ");
        out.push_str(v);
        out.push_str("\r\n");
    }
    let no_body = status < 200 || status == 204 || status == 304;
    if !no_body {
        out.push_str(&format!("Content-Length: {}\r\n", resp.body.len()));
    }
    out.push_str(if keep_alive {
        "Connection: keep-alive\r\n\r\n"
    } else {
        "Connection: close\r\n\r\n"
    });
    w.write_all(out.as_bytes())?;
    if !head_only && !no_body {
        w.write_all(&resp.body)?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(config: Config) -> ServerHandle {
        Server::bind("127.0.0.1:0", config)
            .unwrap()
            .spawn(|req| match (req.method.as_str(), req.path()) {
                ("GET" | "HEAD", "/hello") => {
                    Response::text(200, "hello\n").with_header("Cache-Control", "max-age=60")
                }
                ("POST", "/echo") => {
                    Response::bytes(200, "application/octet-stream", req.body.clone())
                }
                ("GET", "/panic") => panic!("handler bug"),
                ("GET", "/evil") => {
                    Response::text(200, "x").with_header("X-Evil", "a\r\nInjected: yes")
                }
                _ => Response::text(404, "not found\n"),
            })
            .unwrap()
    }

    fn raw(addr: SocketAddr, req: &[u8]) -> String {
        let mut s = TcpStream::connect(addr).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(req).unwrap();
        let mut out = Vec::new();
        let _ = s.read_to_end(&mut out);
        String::from_utf8_lossy(&out).into_owned()
    }

    fn status(resp: &str) -> u16 {
        resp.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0)
    }

    #[test]
    fn get_head_post() {
        let h = server(Config::default());
        let r = raw(
            h.local_addr(),
            b"GET /hello HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert!(r.starts_with("HTTP/1.1 200 OK\r\n"), "{r}");
        assert!(r.contains("Cache-Control: max-age=60\r\n"));
        assert!(r.contains("Content-Length: 6\r\n"));
        assert!(r.ends_with("\r\n\r\nhello\n"));
        let r = raw(
            h.local_addr(),
            b"HEAD /hello HTTP/1.1\r\nConnection: close\r\n\r\n",
        );
        assert!(
            r.contains("Content-Length: 6\r\n") && r.ends_with("\r\n\r\n"),
            "{r}"
        );
        let r = raw(
            h.local_addr(),
            b"POST /echo HTTP/1.1\r\nContent-Length: 5\r\nConnection: close\r\n\r\nabcde",
        );
        assert!(r.ends_with("\r\n\r\nabcde"), "{r}");
        // Bare LF line ends are accepted.
        let r = raw(h.local_addr(), b"GET /hello HTTP/1.0\n\n");
        assert_eq!(status(&r), 200);
        assert!(r.contains("Connection: close"));
        assert_eq!(
            status(&raw(h.local_addr(), b"GET /nope HTTP/1.0\r\n\r\n")),
            404
        );
    }

    #[test]
    fn keep_alive_serves_several_requests() {
        let h = server(Config::default());
        let mut s = TcpStream::connect(h.local_addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"POST /echo HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcGET /hello HTTP/1.1\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert_eq!(out.matches("HTTP/1.1 200 OK").count(), 2, "{out}");
        assert!(out.contains("Connection: keep-alive"));
    }

    #[test]
    fn malformed_requests_get_precise_statuses() {
        let h = server(Config {
            max_header_bytes: 1024,
            max_body_bytes: 100,
            read_timeout: Duration::from_millis(500),
            ..Config::default()
        });
        let a = h.local_addr();
        let cases: &[(&[u8], u16)] = &[
            (b"GARBAGE\r\n\r\n", 400),
            (b"GET /hello\r\n\r\n", 400),
            (b"GET  /hello HTTP/1.1\r\n\r\n", 400),
            (b"GET hello HTTP/1.1\r\n\r\n", 400),
            (b"GET /hello HTTP/2.0\r\n\r\n", 505),
            (b"GET /hello FTP/1.1\r\n\r\n", 400),
            (b"G(T /hello HTTP/1.1\r\n\r\n", 400),
            (b"GET /hello HTTP/1.1\r\nNo colon here\r\n\r\n", 400),
            (b"GET /hello HTTP/1.1\r\nBad Name: x\r\n\r\n", 400),
            (b"GET /hello HTTP/1.1\r\nX: a\x01b\r\n\r\n", 400),
            (b"GET /\xff HTTP/1.1\r\n\r\n", 400),
            (b"POST /echo HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400),
            (
                b"POST /echo HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab",
                400,
            ),
            (
                b"POST /echo HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n",
                400,
            ),
            (b"POST /echo HTTP/1.1\r\nContent-Length: 101\r\n\r\n", 413),
            (
                b"POST /echo HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                501,
            ),
            (b"POST /echo HTTP/1.1\r\nContent-Length: 10\r\n\r\nabc", 408),
            (b"GET /hello HTTP/1.1\r\nHost: x\r\n", 408),
            (b"GET /panic HTTP/1.1\r\nConnection: close\r\n\r\n", 500),
        ];
        for (req, want) in cases {
            let r = raw(a, req);
            assert_eq!(
                status(&r),
                *want,
                "{:?} -> {r}",
                String::from_utf8_lossy(req)
            );
        }
        let mut big = b"GET /hello HTTP/1.1\r\n".to_vec();
        big.extend(std::iter::repeat_n(b"X-Pad: aaaaaaaaaaaaaaaa\r\n".as_slice(), 100).flatten());
        big.extend_from_slice(b"\r\n");
        assert_eq!(status(&raw(a, &big)), 431);
        // A silent connection is closed without a response.
        assert_eq!(raw(a, b""), "");
        // Header injection by a handler is refused; the server still works.
        let r = raw(a, b"GET /evil HTTP/1.1\r\nConnection: close\r\n\r\n");
        assert!(!r.contains("Injected"), "{r}");
        assert_eq!(status(&raw(a, b"GET /hello HTTP/1.0\r\n\r\n")), 200);
    }

    #[test]
    fn expect_continue_and_random_bytes() {
        let h = server(Config::default());
        let mut s = TcpStream::connect(h.local_addr()).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s.write_all(b"POST /echo HTTP/1.1\r\nContent-Length: 2\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut first = [0u8; 25];
        s.read_exact(&mut first).unwrap();
        assert_eq!(&first, b"HTTP/1.1 100 Continue\r\n\r\n");
        s.write_all(b"ok").unwrap();
        let mut out = String::new();
        s.read_to_string(&mut out).unwrap();
        assert!(out.ends_with("ok"));
        // Pseudo-random garbage never kills the server.
        let mut x: u32 = 12345;
        for _ in 0..50 {
            let junk: Vec<u8> = (0..300)
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (x >> 16) as u8
                })
                .chain(*b"\r\n\r\n")
                .collect();
            let _ = raw(h.local_addr(), &junk);
        }
        assert_eq!(
            status(&raw(h.local_addr(), b"GET /hello HTTP/1.0\r\n\r\n")),
            200
        );
    }
}
