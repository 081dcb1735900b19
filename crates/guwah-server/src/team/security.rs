//! Headers on every response, and JSON for the answers the framework and
//! the limit layers make (404, 405, 408, 413).

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::error::ApiError;

/// The API serves no page: nothing may run, load, or frame it.
pub const CSP: &str =
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox";

/// Adds the security headers; `tls` adds HSTS.
pub fn harden(mut resp: Response, tls: bool, max_body: usize) -> Response {
    // A page sets its own policy (scripts and styles from here only); every
    // other answer gets the API's, which lets nothing run.
    let is_page = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    if !is_page {
        resp = explain(resp, max_body);
    }
    let h = resp.headers_mut();
    if !is_page || !h.contains_key(header::CONTENT_SECURITY_POLICY) {
        h.insert(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CSP),
        );
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        "cross-origin-resource-policy",
        HeaderValue::from_static("same-origin"),
    );
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        // Answers name people and evidence: no cache keeps them.
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    if tls {
        h.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000"),
        );
    }
    resp
}

/// Replaces a bodiless or plain-text framework answer with a JSON error.
fn explain(resp: Response, max_body: usize) -> Response {
    let is_json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if is_json || resp.status().is_success() || resp.status().is_redirection() {
        return resp;
    }
    let message = match resp.status() {
        StatusCode::NOT_FOUND => "no such route".to_owned(),
        StatusCode::METHOD_NOT_ALLOWED => "method not allowed on this route".to_owned(),
        StatusCode::PAYLOAD_TOO_LARGE => {
            format!("request body too large: at most {max_body} bytes")
        }
        StatusCode::REQUEST_TIMEOUT => {
            "request timeout: the body must arrive and be answered in time".to_owned()
        }
        StatusCode::UNSUPPORTED_MEDIA_TYPE => "unsupported Content-Type".to_owned(),
        _ => return resp,
    };
    let (parts, _) = resp.into_parts();
    let mut fresh = ApiError::new(parts.status, message).into_response();
    for name in [header::ALLOW, header::RETRY_AFTER] {
        if let Some(v) = parts.headers.get(&name) {
            fresh.headers_mut().insert(name, v.clone());
        }
    }
    fresh
}
