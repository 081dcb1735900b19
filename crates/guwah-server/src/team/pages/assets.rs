//! The pages' stylesheet and script, compiled in and served with a long
//! cache life (their names change with the build: `?v=` in the pages).

use axum::extract::Path;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

const STYLE: &str = include_str!("assets/style.css");
const UPLOAD: &str = include_str!("assets/upload.js");

/// `GET /assets/{name}`.
pub async fn asset(Path(name): Path<String>) -> Response {
    let (body, kind) = match name.as_str() {
        "style.css" => (STYLE, "text/css; charset=utf-8"),
        "upload.js" => (UPLOAD, "text/javascript; charset=utf-8"),
        _ => return (StatusCode::NOT_FOUND, "").into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, kind),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        body,
    )
        .into_response()
}

/// `GET /verify.html`: the browser verifier (guwah-web), to drop a package
/// on and check it in the browser, offline, under its own policy.
pub async fn verifier() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CONTENT_SECURITY_POLICY, guwah_web::CSP),
        ],
        guwah_web::verify_html(),
    )
        .into_response()
}
