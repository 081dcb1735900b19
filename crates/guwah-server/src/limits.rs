//! The limits of a server: how many connections, how large, how slow.

use std::time::Duration;

/// The limits [`serve`](crate::serve) enforces. The defaults suit a server
/// reachable from the internet on a small machine; every one is a bound an
/// attacker meets, and none is needed by a client that behaves.
///
/// A request's whole life is bounded: `header_read_timeout` from the
/// moment the connection is idle (accepted, or its previous response sent)
/// to the end of the headers, then `request_timeout` for the body and the
/// handler, then `write_timeout` for each write of the response that makes
/// no progress. So a connection that trickles bytes is closed after at most
/// `header_read_timeout + request_timeout`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Connections open at once; more are answered 503 and closed at once.
    pub max_connections: usize,
    /// Connections open at once from one IP address; more are answered 503
    /// and closed at once. High enough for a NAT full of browsers (each
    /// opens about six), low enough that one address cannot take them all.
    pub max_connections_per_ip: usize,
    /// Keep-alive only while fewer connections than this are open: past it
    /// idle kept-alive connections are closed and every response carries
    /// `Connection: close`, so capacity goes to new clients.
    pub keep_alive_below: usize,
    /// From accept (or the end of the previous response) to the end of the
    /// request headers; a connection that sends nothing, or its headers too
    /// slowly, is closed without an answer. Also the keep-alive idle time.
    pub header_read_timeout: Duration,
    /// Reading the body and answering, once the headers are in: 408 past it.
    pub request_timeout: Duration,
    /// Any one write of the response that makes no progress (a client that
    /// does not read): the connection is closed past it.
    pub write_timeout: Duration,
    /// The request line and headers, in bytes (at least 8 KiB): 431 past it.
    pub max_header_bytes: usize,
    /// Header fields in a request: 431 past it.
    pub max_headers: usize,
    /// The request body, in bytes: 413 past it (at once when announced by
    /// `Content-Length`).
    pub max_body_bytes: usize,
    /// Threads of the async runtime that run the connections ([`run`](crate::run)).
    pub threads: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_connections: 1024,
            max_connections_per_ip: 128,
            keep_alive_below: 768,
            header_read_timeout: Duration::from_secs(5),
            request_timeout: Duration::from_secs(15),
            write_timeout: Duration::from_secs(10),
            max_header_bytes: 16 * 1024,
            max_headers: 64,
            max_body_bytes: 64 * 1024,
            threads: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}
