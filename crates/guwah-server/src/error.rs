//! The one error type of every handler.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use guwah_core::witness::WitnessRefusal;

/// `Content-Type` of every plain-text answer.
pub const TEXT: &str = "text/plain; charset=utf-8";

/// Why a request was not answered 200.
///
/// A client error is answered as it is: its status and a one-line body
/// meant for the client. An internal error is written in full to stderr
/// and answered with a bare 500: paths, I/O errors and the like never
/// reach the client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AppError {
    /// The request is refused: status, `Content-Type` and body, sent as is.
    #[error("{status} {body}")]
    Client {
        /// A 4xx status.
        status: StatusCode,
        /// The body's `Content-Type`.
        content_type: &'static str,
        /// The body (one line, newline-terminated).
        body: String,
    },
    /// Something failed on our side; the detail is logged, not sent.
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// A client error with a plain-text body (a newline is added if missing).
    pub fn client(status: StatusCode, body: impl Into<String>) -> Self {
        let mut body = body.into();
        if !body.ends_with('\n') {
            body.push('\n');
        }
        AppError::Client {
            status,
            content_type: TEXT,
            body,
        }
    }

    /// An internal error with its detail, for the log.
    pub fn internal(detail: impl Into<String>) -> Self {
        AppError::Internal(detail.into())
    }
}

impl From<WitnessRefusal> for AppError {
    /// The witness's refusals are the client's (4xx) or ours (5xx).
    fn from(r: WitnessRefusal) -> Self {
        match StatusCode::from_u16(r.status) {
            Ok(status) if status.is_client_error() => AppError::Client {
                status,
                content_type: r.content_type,
                body: r.body,
            },
            _ => AppError::Internal(format!("witness: {}", r.body.trim_end())),
        }
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::Internal(format!("request task: {e}"))
    }
}

impl IntoResponse for AppError {
    fn into_response(self) -> Response {
        let (status, content_type, body) = match self {
            AppError::Client {
                status,
                content_type,
                body,
            } => (status, content_type, body),
            AppError::Internal(detail) => {
                eprintln!("guwah: server error: {detail}");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    TEXT,
                    "internal error; the server's log has the detail\n".to_owned(),
                )
            }
        };
        let mut resp = (status, body).into_response();
        resp.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_errors_are_not_sent() {
        let r = AppError::internal("/secret/path: permission denied").into_response();
        assert_eq!(r.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let refusal = WitnessRefusal {
            status: 500,
            body: "witness error: persisting state: /w/state/journal: EIO\n".into(),
            content_type: TEXT,
        };
        assert!(matches!(AppError::from(refusal), AppError::Internal(_)));
        let refusal = WitnessRefusal {
            status: 409,
            body: "4\n".into(),
            content_type: "text/x.tlog.size",
        };
        let r = AppError::from(refusal).into_response();
        assert_eq!(r.status(), StatusCode::CONFLICT);
        assert_eq!(r.headers()[header::CONTENT_TYPE], "text/x.tlog.size");
    }
}
