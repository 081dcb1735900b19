//! The API's one error: a status and a one-line JSON message.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use guwah_store::StoreError;
use guwah_vault::{SpoolError, VaultError};
use serde::Serialize;

/// Why a request was not answered 2xx. Internal detail is logged on the
/// server and never sent; a client error says what is wrong in one line.
#[derive(Debug)]
pub struct ApiError {
    /// The status sent.
    pub status: StatusCode,
    /// The message sent (client errors) or logged (server errors).
    pub message: String,
    /// Extra headers (`WWW-Authenticate`, `Retry-After`, tus's).
    pub headers: Vec<(header::HeaderName, HeaderValue)>,
}

const LOCKED: &str = "the vault is being written by another process; try again";

/// The body of every error.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    /// One line saying what is wrong.
    pub error: String,
}

impl ApiError {
    /// An error with `status` and `message`.
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
            headers: Vec::new(),
        }
    }

    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }

    /// 401, with the schemes that would do.
    pub fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "sign in first: a session cookie from POST /api/login, or Authorization: Bearer <token>",
        )
        .with_header(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"guwah\""),
        )
    }

    /// 403.
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, message)
    }

    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, message)
    }

    /// 500; the detail is logged only.
    pub fn internal(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, detail)
    }

    /// Whether this is the vault's writer being held elsewhere.
    pub fn is_locked(&self) -> bool {
        self.status == StatusCode::SERVICE_UNAVAILABLE && self.message == LOCKED
    }

    /// With one more header.
    pub fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }
}

impl From<VaultError> for ApiError {
    fn from(e: VaultError) -> Self {
        match &e {
            VaultError::BadInput { .. } | VaultError::BadArgument { .. } => {
                Self::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string())
            }
            VaultError::UnknownItem(_) => Self::not_found(e.to_string()),
            VaultError::Locked(_) => Self::new(StatusCode::SERVICE_UNAVAILABLE, LOCKED)
                .with_header(header::RETRY_AFTER, HeaderValue::from_static("5")),
            VaultError::Store(StoreError::Conflict { .. }) => {
                Self::new(StatusCode::CONFLICT, e.to_string())
            }
            _ => Self::internal(e.to_string()),
        }
    }
}

impl From<SpoolError> for ApiError {
    fn from(e: SpoolError) -> Self {
        let status = match &e {
            SpoolError::NotFound(_) => StatusCode::NOT_FOUND,
            SpoolError::Busy(_) => StatusCode::LOCKED,
            SpoolError::OffsetMismatch { .. } => StatusCode::CONFLICT,
            SpoolError::TooLong { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            // tus's checksum extension: 460 Checksum Mismatch.
            SpoolError::ChecksumMismatch(_) => {
                StatusCode::from_u16(460).expect("460 is a valid status")
            }
            SpoolError::Damaged { .. } | SpoolError::Io { .. } => {
                return Self::internal(e.to_string());
            }
        };
        Self::new(status, e.to_string())
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        Self::internal(format!("request task: {e}"))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let message =
            if self.status.is_server_error() && self.status != StatusCode::SERVICE_UNAVAILABLE {
                eprintln!("guwah: server error: {}", self.message);
                "internal error; the server's log has the detail".to_owned()
            } else {
                self.message
            };
        let mut resp = (self.status, Json(ErrorBody { error: message })).into_response();
        for (name, value) in self.headers {
            resp.headers_mut().insert(name, value);
        }
        resp
    }
}

/// What every handler returns.
pub type ApiResult<T> = Result<T, ApiError>;
