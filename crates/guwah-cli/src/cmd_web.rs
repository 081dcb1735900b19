//! `guwah verifier ...`: the browser verifier page, `verify.html`.
//!
//! `write` saves the page; `serve` runs a tiny HTTP/1.1 server (std::net,
//! no framework) that serves that one page and nothing else, with the
//! page's Content-Security-Policy as a header too. The page itself never
//! touches the network: it reads the package the user drops on it.

use std::io::{BufWriter, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use clap::Subcommand;

use crate::Failure;
use crate::cli::Cli;

/// `guwah verifier` subcommands.
#[derive(Debug, Subcommand)]
pub enum VerifierCommand {
    /// Write the self-contained verify.html page (every package already holds one).
    #[command(
        after_help = "Open the file in a browser and drop an evidence package (folder or .zip) on it: \
the check runs entirely in the browser, offline."
    )]
    Write {
        /// Where to write it.
        #[arg(long, value_name = "FILE", default_value = "verify.html")]
        out: PathBuf,
    },
    /// Serve verify.html over HTTP (the page only; nothing is uploaded: the check runs in the browser).
    Serve {
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
    },
}

/// Run a `guwah verifier` subcommand.
pub fn run(cli: &Cli, cmd: &VerifierCommand) -> Result<u8, Failure> {
    match cmd {
        VerifierCommand::Write { out } => {
            let html = guwah_web::verify_html();
            std::fs::write(out, html).map_err(|e| Failure {
                code: 3,
                message: format!("cannot write {}: {e}", out.display()),
            })?;
            if cli.json {
                println!(
                    "{}",
                    serde_json::json!({ "written": out.display().to_string(), "bytes": html.len() })
                );
            } else {
                println!("wrote {} ({} bytes)", out.display(), html.len());
            }
            Ok(0)
        }
        VerifierCommand::Serve { addr } => {
            let listener = TcpListener::bind(addr).map_err(|e| Failure {
                code: 3,
                message: format!("cannot listen on {addr}: {e}"),
            })?;
            let local = listener.local_addr().map_err(|e| Failure {
                code: 5,
                message: format!("listening socket: {e}"),
            })?;
            if cli.json {
                println!(
                    "{}",
                    serde_json::json!({ "url": format!("http://{local}/") })
                );
            } else {
                println!("serving verify.html at http://{local}/  (Ctrl-C to stop)");
            }
            let _ = std::io::stdout().flush();
            serve(listener);
            Ok(0)
        }
    }
}

/// At most this many connections are handled at once; more wait in the
/// listen backlog.
const MAX_CONNECTIONS: usize = 32;
/// The request head (request line and headers) may be at most this long.
const MAX_HEAD: usize = 8 * 1024;
const READ_TIMEOUT: Duration = Duration::from_secs(10);
const WRITE_TIMEOUT: Duration = Duration::from_secs(30);
/// After responding, unread input is drained for at most this long...
const LINGER: Duration = Duration::from_secs(2);
/// ...and at most this much.
const MAX_DRAIN: usize = 64 * 1024;

/// Serves forever: one thread per connection, one request per connection.
fn serve(listener: TcpListener) {
    let active = Arc::new(AtomicUsize::new(0));
    for stream in listener.incoming() {
        let Ok(stream) = stream else { continue };
        while active.load(Ordering::Acquire) >= MAX_CONNECTIONS {
            std::thread::sleep(Duration::from_millis(5));
        }
        active.fetch_add(1, Ordering::AcqRel);
        let active = Arc::clone(&active);
        std::thread::spawn(move || {
            let _ = handle(stream);
            active.fetch_sub(1, Ordering::AcqRel);
        });
    }
}

/// A response: status line, extra headers, body.
struct Response {
    status: &'static str,
    content_type: &'static str,
    extra: Vec<(&'static str, &'static str)>,
    body: &'static [u8],
}

fn plain(status: &'static str, body: &'static str) -> Response {
    Response {
        status,
        content_type: "text/plain; charset=utf-8",
        extra: Vec::new(),
        body: body.as_bytes(),
    }
}

/// The response to a request head (everything before the blank line).
fn respond(head: &[u8]) -> (Response, bool) {
    let Ok(head) = std::str::from_utf8(head) else {
        return (plain("400 Bad Request", "bad request\n"), false);
    };
    let line = head.split("\r\n").next().unwrap_or("");
    let mut parts = line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return (plain("400 Bad Request", "bad request\n"), false);
    };
    if !version.starts_with("HTTP/1.") {
        return (
            plain("505 HTTP Version Not Supported", "HTTP/1.x only\n"),
            false,
        );
    }
    let head_only = method == "HEAD";
    if method != "GET" && !head_only {
        let mut r = plain("405 Method Not Allowed", "only GET and HEAD\n");
        r.extra.push(("Allow", "GET, HEAD"));
        return (r, false);
    }
    let path = target.split(['?', '#']).next().unwrap_or("");
    match path {
        "/" | "/verify.html" => (
            Response {
                status: "200 OK",
                content_type: "text/html; charset=utf-8",
                extra: vec![("Content-Security-Policy", guwah_web::CSP)],
                body: guwah_web::verify_html().as_bytes(),
            },
            head_only,
        ),
        _ => (
            plain(
                "404 Not Found",
                "not found: this server only serves /verify.html\n",
            ),
            head_only,
        ),
    }
}

fn handle(mut stream: TcpStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(READ_TIMEOUT))?;
    stream.set_write_timeout(Some(WRITE_TIMEOUT))?;
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    let response = loop {
        let end = head.windows(4).position(|w| w == b"\r\n\r\n");
        if let Some(end) = end.filter(|e| *e <= MAX_HEAD) {
            break respond(&head[..end]);
        }
        if end.is_some() || head.len() > MAX_HEAD {
            break (
                plain("431 Request Header Fields Too Large", "request too large\n"),
                false,
            );
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            return Ok(());
        }
        head.extend_from_slice(&buf[..n]);
    };
    let (r, head_only) = response;
    let mut w = BufWriter::new(&mut stream);
    write!(
        w,
        "HTTP/1.1 {}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\
         X-Content-Type-Options: nosniff\r\nReferrer-Policy: no-referrer\r\nCache-Control: no-store\r\n\
         Cross-Origin-Opener-Policy: same-origin\r\n",
        r.status,
        r.content_type,
        r.body.len()
    )?;
    for (k, v) in &r.extra {
        write!(w, "{k}: {v}\r\n")?;
    }
    w.write_all(b"\r\n")?;
    if !head_only {
        w.write_all(r.body)?;
    }
    w.flush()?;
    drop(w);
    stream.shutdown(std::net::Shutdown::Write)?;
    // Lingering close: read (and drop) what the client may still be sending,
    // so that closing with unread data does not reset the connection before
    // it has read the response (e.g. the 431 for an oversized request).
    stream.set_read_timeout(Some(LINGER))?;
    let mut drained = 0;
    while drained < MAX_DRAIN {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => drained += n,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serves_the_page_and_nothing_else() {
        let (r, h) = respond(b"GET / HTTP/1.1\r\nHost: x");
        assert_eq!(r.status, "200 OK");
        assert!(!h);
        assert!(r.extra.iter().any(|(k, _)| *k == "Content-Security-Policy"));
        assert_eq!(respond(b"GET /verify.html?x=1 HTTP/1.0").0.status, "200 OK");
        assert!(respond(b"HEAD / HTTP/1.1").1);
        assert_eq!(
            respond(b"GET /../etc/passwd HTTP/1.1").0.status,
            "404 Not Found"
        );
        assert_eq!(
            respond(b"POST / HTTP/1.1").0.status,
            "405 Method Not Allowed"
        );
        assert_eq!(
            respond(b"GET / SPDY/3").0.status,
            "505 HTTP Version Not Supported"
        );
        assert_eq!(respond(b"garbage").0.status, "400 Bad Request");
        assert_eq!(respond(&[0xff, 0xfe]).0.status, "400 Bad Request");
    }

    #[test]
    fn over_the_network() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || serve(listener));
        let get = |req: &[u8]| {
            let mut s = TcpStream::connect(addr).expect("connect");
            s.write_all(req).expect("send");
            let mut out = Vec::new();
            let _ = s.read_to_end(&mut out);
            String::from_utf8_lossy(&out).into_owned()
        };
        let ok = get(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
        assert!(
            ok.starts_with("HTTP/1.1 200 OK\r\n"),
            "{}",
            &ok[..100.min(ok.len())]
        );
        assert!(ok.contains("Content-Type: text/html; charset=utf-8\r\n"));
        assert!(ok.contains(&format!("Content-Security-Policy: {}\r\n", guwah_web::CSP)));
        assert!(ok.ends_with(guwah_web::verify_html()));
        let big = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(MAX_HEAD + 10));
        assert!(get(big.as_bytes()).starts_with("HTTP/1.1 431 "));
    }
}
