//! The one HTTP client set-up: every request guwah makes (to a TSA, to a
//! witness, to a published log) goes through an [`HttpClient`], so each has
//! a whole-request deadline, a connect deadline, a redirect policy and a
//! cap on the bytes it reads.
//!
//! Any status is returned to the caller, who decides what it means; only
//! transport failures and oversized answers are errors.

use std::fmt;
use std::time::Duration;

/// The longest a connection may take to open, within a request's deadline.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// An HTTP(S) client (ureq, rustls) with timeouts and size limits.
pub struct HttpClient {
    agent: ureq::Agent,
}

/// An answer: status, `Content-Type` (lowercased, `""` if none) and body.
#[derive(Debug)]
pub struct Reply {
    /// The HTTP status code.
    pub status: u16,
    /// The `Content-Type` header, lowercased.
    pub content_type: String,
    /// The body, at most the limit asked for.
    pub body: Vec<u8>,
    /// Every header, names lowercased (at most 100).
    pub headers: Vec<(String, String)>,
}

impl Reply {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The media type of `Content-Type`, without parameters.
    pub fn mime(&self) -> &str {
        self.content_type.split(';').next().unwrap_or("").trim()
    }
}

/// Why a request got no usable answer.
#[derive(Debug)]
pub enum HttpError {
    /// Connecting, sending or receiving failed (or timed out).
    Transport(String),
    /// The answer's body was larger than this many bytes.
    TooLarge(u64),
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Transport(e) => f.write_str(e),
            HttpError::TooLarge(n) => write!(f, "answer larger than {n} bytes"),
        }
    }
}

impl HttpClient {
    /// A client naming itself `guwah-<role>/<version>`, whose every request
    /// (connect, send, answer, body) must end within `timeout`, following
    /// at most `max_redirects` redirects (0: a redirect is returned as is).
    pub fn new(role: &str, timeout: Duration, max_redirects: u32) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .timeout_connect(Some(CONNECT_TIMEOUT.min(timeout)))
            .http_status_as_error(false)
            .max_redirects(max_redirects)
            .user_agent(format!("guwah-{role}/{}", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Self { agent }
    }

    /// GET `url`, reading at most `limit` bytes of the answer.
    pub fn get(&self, url: &str, limit: u64) -> Result<Reply, HttpError> {
        let resp = self
            .agent
            .get(url)
            .call()
            .map_err(|e| HttpError::Transport(e.to_string()))?;
        read(resp, limit)
    }

    /// POST `body` as `content_type` to `url`, reading at most `limit` bytes of the answer.
    pub fn post(
        &self,
        url: &str,
        content_type: &str,
        body: &[u8],
        limit: u64,
    ) -> Result<Reply, HttpError> {
        let resp = self
            .agent
            .post(url)
            .header("Content-Type", content_type)
            .send(body)
            .map_err(|e| HttpError::Transport(e.to_string()))?;
        read(resp, limit)
    }
}

impl HttpClient {
    /// Any request: `method` on `url` with `headers` and `body`, reading at
    /// most `limit` bytes of the answer.
    pub fn send(
        &self,
        method: &str,
        url: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        limit: u64,
    ) -> Result<Reply, HttpError> {
        let mut req = ureq::http::Request::builder().method(method).uri(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        let req = req
            .body(body)
            .map_err(|e| HttpError::Transport(e.to_string()))?;
        let resp = self
            .agent
            .run(req)
            .map_err(|e| HttpError::Transport(e.to_string()))?;
        read(resp, limit)
    }
}

fn read(mut resp: ureq::http::Response<ureq::Body>, limit: u64) -> Result<Reply, HttpError> {
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .take(100)
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let content_type = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect::<String>()
        .to_ascii_lowercase();
    let body = resp
        .body_mut()
        .with_config()
        .limit(limit)
        .read_to_vec()
        .map_err(|e| match e {
            ureq::Error::BodyExceedsLimit(n) => HttpError::TooLarge(n),
            e => HttpError::Transport(e.to_string()),
        })?;
    Ok(Reply {
        status,
        content_type,
        body,
        headers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    /// A one-shot server on 127.0.0.1 answering `answer` to the first request.
    fn answer_once(answer: Vec<u8>) -> String {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = l.local_addr().unwrap();
        std::thread::spawn(move || {
            let (mut s, _) = l.accept().unwrap();
            let mut buf = [0u8; 4096];
            let _ = s.read(&mut buf);
            let _ = s.write_all(&answer);
        });
        format!("http://{addr}/")
    }

    #[test]
    fn limits_and_statuses() {
        let c = HttpClient::new("test", Duration::from_secs(5), 0);
        let url = answer_once(
            b"HTTP/1.1 404 Not Found\r\nContent-Type: Text/Plain; charset=utf-8\r\nContent-Length: 4\r\n\r\nnope"
                .to_vec(),
        );
        let r = c.get(&url, 100).unwrap();
        assert_eq!(
            (r.status, r.mime(), r.body.as_slice()),
            (404, "text/plain", b"nope".as_slice())
        );
        let mut big = b"HTTP/1.1 200 OK\r\nContent-Length: 5000\r\n\r\n".to_vec();
        big.extend(std::iter::repeat_n(b'x', 5000));
        let url = answer_once(big);
        assert!(matches!(
            c.post(&url, "text/plain", b"x", 1000),
            Err(HttpError::TooLarge(1000))
        ));
        // A server that never answers: the deadline ends the request.
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/", l.local_addr().unwrap());
        let c = HttpClient::new("test", Duration::from_millis(500), 0);
        let t = std::time::Instant::now();
        assert!(matches!(c.get(&url, 10), Err(HttpError::Transport(_))));
        assert!(t.elapsed() < Duration::from_secs(5));
        drop(l);
    }
}
