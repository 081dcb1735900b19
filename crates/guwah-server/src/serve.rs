//! The accept loop: hyper's HTTP/1.1 connections under [`Limits`].
//!
//! Each connection is its own task, so a slow or idle client costs a task
//! and a socket, never a thread. Connections are capped in total and per
//! IP address (the excess is answered 503 and closed at once), hyper's
//! `header_read_timeout` closes a connection that is idle or sends its
//! headers too slowly, a tower-http timeout bounds the body and the
//! handler, a write timeout bounds a client that does not read, and once
//! the server is busy, keep-alive stops: idle connections are closed and
//! responses carry `Connection: close`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::io;
use std::net::IpAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderValue, Request, StatusCode, header};
use axum::response::Response;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio_io_timeout::TimeoutStream;
use tower::ServiceExt;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::error::TEXT;
use crate::limits::Limits;

/// What a refused connection is told before it is closed.
const REFUSED: &[u8] = b"HTTP/1.1 503 Service Unavailable\r\n\
Content-Type: text/plain; charset=utf-8\r\nContent-Length: 32\r\nRetry-After: 5\r\n\
Connection: close\r\n\r\ntoo many connections; try again\n";

/// The connection's peer address, in every request's extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PeerAddr(pub std::net::SocketAddr);

/// Serves `router` on `listener` under `limits`, forever.
///
/// The router gets the body-size and whole-request limits as tower layers
/// ([`with_limits`]); the connection limits are this loop's. Only a failure
/// to accept that is not about one connection (e.g. out of file
/// descriptors) is reported, on stderr, and retried after a pause.
pub async fn serve(listener: TcpListener, router: Router, limits: Limits) -> io::Result<()> {
    serve_layered(listener, with_limits(router, &limits), limits).await
}

/// TLS for a server: a certificate chain and its private key.
pub type TlsConfig = Arc<tokio_rustls::rustls::ServerConfig>;

/// Read a PEM certificate chain (leaf first) and its PEM private key into a
/// TLS configuration (TLS 1.2 and 1.3, HTTP/1.1 by ALPN).
pub fn tls_config(cert: &std::path::Path, key: &std::path::Path) -> io::Result<TlsConfig> {
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};
    let named = |path: &std::path::Path, e: &dyn std::fmt::Display| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{}: {e}", path.display()),
        )
    };
    let chain = CertificateDer::pem_file_iter(cert)
        .map_err(|e| named(cert, &e))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| named(cert, &e))?;
    if chain.is_empty() {
        return Err(named(cert, &"holds no PEM certificate"));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| named(key, &e))?;
    let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
    let mut config = tokio_rustls::rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| io::Error::other(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key_der)
        .map_err(|e| named(key, &format!("does not go with the certificate: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// [`serve`] for an `app` that already has its per-request limits (some
/// routes, such as an upload body, need other bounds than the rest).
pub async fn serve_layered(listener: TcpListener, app: Router, limits: Limits) -> io::Result<()> {
    serve_tls(listener, app, limits, None).await
}

/// [`serve_layered`], speaking TLS when `tls` is given: the handshake
/// must finish within `header_read_timeout`.
pub async fn serve_tls(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    tls: Option<TlsConfig>,
) -> io::Result<()> {
    let acceptor = tls.map(tokio_rustls::TlsAcceptor::from);
    let conns = Arc::new(Conns::new(&limits));
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .max_headers(limits.max_headers)
        .keep_alive(true);
    loop {
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) if per_connection(&e) => continue,
            Err(e) => {
                eprintln!("guwah: accepting connections: {e} (retrying)");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let Some(slot) = conns.admit(peer.ip()) else {
            // Best effort and never waiting: the socket buffer takes it or not.
            let _ = stream.try_write(REFUSED);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let http = http.clone();
        let app = app.clone();
        let busy = conns.busy.subscribe();
        let write_timeout = limits.write_timeout;
        let handshake_timeout = limits.header_read_timeout;
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _slot = slot;
            let stream = timed(stream, write_timeout);
            match acceptor {
                None => connection(stream, peer, http, app, busy).await,
                Some(acceptor) => {
                    let Ok(Ok(tls)) =
                        tokio::time::timeout(handshake_timeout, acceptor.accept(stream)).await
                    else {
                        return; // a failed or too slow handshake: nothing to answer
                    };
                    connection(tls, peer, http, app, busy).await;
                }
            }
        });
    }
}

/// Runs one connection to its end, shedding it when the server is busy.
async fn connection<S>(
    stream: S,
    peer: std::net::SocketAddr,
    http: http1::Builder,
    app: Router,
    mut busy: watch::Receiver<bool>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let asked = Arc::new(AtomicBool::new(false));
    let service = {
        let (asked, busy) = (Arc::clone(&asked), busy.clone());
        hyper::service::service_fn(move |mut req: Request<Incoming>| {
            asked.store(true, Ordering::Relaxed);
            req.extensions_mut().insert(PeerAddr(peer));
            let (app, busy) = (app.clone(), busy.clone());
            async move {
                let mut resp = app.oneshot(req.map(Body::new)).await?;
                if *busy.borrow() {
                    // No keep-alive while busy: the place goes to someone new.
                    resp.headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                }
                Ok::<_, Infallible>(resp)
            }
        })
    };
    let conn = http.serve_connection(TokioIo::new(stream), service);
    tokio::pin!(conn);
    loop {
        tokio::select! {
            _ = conn.as_mut() => return,
            b = busy.wait_for(|busy| *busy) => if b.is_err() { break },
        }
        if asked.load(Ordering::Relaxed) {
            // Kept alive: closed now if idle, else after this response.
            conn.as_mut().graceful_shutdown();
            break;
        }
        // Not asked anything yet (hyper would close it unheard): its answer
        // will say `Connection: close` while busy, the header timeout
        // bounds its silence. Look again the next time the server is busy.
        tokio::select! {
            _ = conn.as_mut() => return,
            b = busy.wait_for(|busy| !*busy) => if b.is_err() { break },
        }
    }
    let _ = conn.await;
}

/// Binds nothing: runs [`serve`] on an already bound listener, on a
/// runtime of `limits.threads` threads, blocking this thread forever.
pub fn run(listener: std::net::TcpListener, router: Router, limits: Limits) -> io::Result<()> {
    let app = with_limits(router, &limits);
    run_layered(listener, app, limits)
}

/// [`run`] for an `app` that already has its per-request limits.
pub fn run_layered(listener: std::net::TcpListener, app: Router, limits: Limits) -> io::Result<()> {
    run_tls(listener, app, limits, None)
}

/// [`run_layered`], speaking TLS when `tls` is given.
pub fn run_tls(
    listener: std::net::TcpListener,
    app: Router,
    limits: Limits,
    tls: Option<TlsConfig>,
) -> io::Result<()> {
    listener.set_nonblocking(true)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(limits.threads.max(1))
        // Handlers that block (file reads, the witness's durable writes) run here.
        .max_blocking_threads(128)
        .thread_name("guwah-server")
        .enable_io()
        .enable_time()
        .build()?;
    runtime.block_on(async move {
        let listener = TcpListener::from_std(listener)?;
        serve_tls(listener, app, limits, tls).await
    })
}

/// `router` with the per-request limits as layers: the body size (413, at
/// once when `Content-Length` says so) and the deadline for reading the
/// body and answering (408), both with a one-line plain-text body.
pub fn with_limits(router: Router, limits: &Limits) -> Router {
    let max_body = limits.max_body_bytes;
    let deadline = limits.request_timeout;
    router
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            deadline,
        ))
        .layer(RequestBodyLimitLayer::new(max_body))
        .layer(axum::middleware::map_response(
            move |resp: Response| async move { explain(resp, max_body, deadline) },
        ))
}

/// Replaces the bodies of the limit layers' answers with a sentence.
fn explain(resp: Response, max_body: usize, deadline: Duration) -> Response {
    let body = match resp.status() {
        StatusCode::PAYLOAD_TOO_LARGE => {
            format!("request body too large: at most {max_body} bytes\n")
        }
        StatusCode::REQUEST_TIMEOUT => format!(
            "request timeout: the body must arrive and be answered within {} s\n",
            deadline.as_secs()
        ),
        _ => return resp,
    };
    let (mut parts, _) = resp.into_parts();
    parts
        .headers
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(TEXT));
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(body))
}

/// The stream with a deadline on writes that make no progress.
fn timed(
    stream: TcpStream,
    write_timeout: Duration,
) -> std::pin::Pin<Box<TimeoutStream<TcpStream>>> {
    let mut s = TimeoutStream::new(stream);
    s.set_write_timeout(Some(write_timeout));
    Box::pin(s)
}

/// An accept error about one connection only (the next accept may work).
fn per_connection(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionRefused
            | io::ErrorKind::Interrupted
            | io::ErrorKind::WouldBlock
    )
}

/// The open connections, in total and per address.
struct Conns {
    max: usize,
    max_per_ip: usize,
    keep_alive_below: usize,
    counts: Mutex<Counts>,
    /// True while at least `keep_alive_below` connections are open.
    busy: watch::Sender<bool>,
}

#[derive(Default)]
struct Counts {
    open: usize,
    per_ip: HashMap<IpAddr, usize>,
}

/// One admitted connection; gives its place back when dropped.
struct Slot {
    conns: Arc<Conns>,
    ip: IpAddr,
}

impl Conns {
    fn new(limits: &Limits) -> Self {
        Self {
            max: limits.max_connections.max(1),
            max_per_ip: limits.max_connections_per_ip.max(1),
            keep_alive_below: limits.keep_alive_below,
            counts: Mutex::new(Counts::default()),
            busy: watch::Sender::new(false),
        }
    }

    fn counts(&self) -> MutexGuard<'_, Counts> {
        // The counts stay consistent even if a holder panicked: each
        // update is one increment or decrement.
        self.counts.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A place for a connection from `ip`, or `None` when full.
    fn admit(self: &Arc<Self>, ip: IpAddr) -> Option<Slot> {
        let ip = ip.to_canonical();
        let mut c = self.counts();
        let from_ip = c.per_ip.get(&ip).copied().unwrap_or(0);
        if c.open >= self.max || from_ip >= self.max_per_ip {
            return None;
        }
        c.open += 1;
        c.per_ip.insert(ip, from_ip + 1);
        self.update_busy(c.open);
        Some(Slot {
            conns: Arc::clone(self),
            ip,
        })
    }

    fn update_busy(&self, open: usize) {
        let busy = open >= self.keep_alive_below;
        self.busy
            .send_if_modified(|b| std::mem::replace(b, busy) != busy);
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut c = self.conns.counts();
        c.open = c.open.saturating_sub(1);
        if let Some(n) = c.per_ip.get_mut(&self.ip) {
            *n -= 1;
            if *n == 0 {
                c.per_ip.remove(&self.ip);
            }
        }
        self.conns.update_busy(c.open);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn caps_connections_in_total_and_per_address() {
        let limits = Limits {
            max_connections: 3,
            max_connections_per_ip: 2,
            keep_alive_below: 2,
            ..Limits::default()
        };
        let conns = Arc::new(Conns::new(&limits));
        let a: IpAddr = "10.0.0.1".parse().unwrap();
        let b: IpAddr = "::ffff:10.0.0.2".parse().unwrap();
        let a1 = conns.admit(a).unwrap();
        assert!(!*conns.busy.borrow());
        let _a2 = conns.admit(a).unwrap();
        assert!(*conns.busy.borrow(), "busy from keep_alive_below on");
        assert!(conns.admit(a).is_none(), "per-address cap");
        let _b1 = conns.admit("10.0.0.2".parse().unwrap()).unwrap();
        assert!(conns.admit(b).is_none(), "total cap (and v4-mapped is v4)");
        drop(a1);
        assert!(
            conns.admit(a).is_some(),
            "a closed connection frees its place"
        );
    }

    #[test]
    fn the_refusal_is_well_formed() {
        let text = std::str::from_utf8(REFUSED).unwrap();
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains(&format!("Content-Length: {}\r\n", body.len())));
    }
}
