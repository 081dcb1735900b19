//! A JSON request body, read first and parsed only when the handler asks
//! — after it has checked who is asking, so that a caller without the
//! role learns 403, not what is wrong with their body.

use axum::extract::{FromRequest, Request};
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

use super::error::{ApiError, ApiResult};

/// The largest JSON body any route takes.
pub const MAX_JSON: usize = 64 * 1024;

/// A request body that should be JSON.
pub struct JsonBody {
    json_type: bool,
    bytes: Result<bytes::Bytes, ()>,
}

impl JsonBody {
    /// The body as `T`, or a one-line JSON error that says what is wrong
    /// (not JSON, wrong Content-Type, a missing or mistyped field).
    pub fn parse<T: DeserializeOwned>(self) -> ApiResult<T> {
        if !self.json_type {
            return Err(ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "the body must be JSON, sent with Content-Type: application/json",
            ));
        }
        let bytes = self.bytes.map_err(|()| {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the JSON body must be at most {MAX_JSON} bytes and arrive whole"),
            )
        })?;
        serde_json::from_slice(&bytes)
            .map_err(|e| ApiError::bad_request(format!("the JSON body is not valid: {e}")))
    }
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, _state: &S) -> Result<Self, ApiError> {
        let json_type = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(';').next())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json"));
        let bytes = axum::body::to_bytes(req.into_body(), MAX_JSON)
            .await
            .map_err(|_| ());
        Ok(JsonBody { json_type, bytes })
    }
}
