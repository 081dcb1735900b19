//! `guwah verifier serve`: the browser verifier page, and nothing else.
//!
//! The page itself never touches the network (it reads the package the
//! user drops on it), so every answer forbids what it does not need: the
//! page's Content-Security-Policy is sent as a header too, with no
//! sniffing, no referrer, no caching and its own browsing context group.

use axum::Router;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};

use crate::error::TEXT;

/// The router serving `verify.html` at `/` and `/verify.html`.
pub fn router() -> Router {
    Router::new().fallback(answer)
}

async fn answer(method: Method, uri: Uri) -> Response {
    let mut headers = HeaderMap::new();
    for (name, value) in [
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "no-referrer"),
        (header::CACHE_CONTROL, "no-store"),
        (
            header::HeaderName::from_static("cross-origin-opener-policy"),
            "same-origin",
        ),
    ] {
        headers.insert(name, HeaderValue::from_static(value));
    }
    if method != Method::GET && method != Method::HEAD {
        headers.insert(header::ALLOW, HeaderValue::from_static("GET, HEAD"));
        return text(
            StatusCode::METHOD_NOT_ALLOWED,
            headers,
            "only GET and HEAD\n",
        );
    }
    match uri.path() {
        "/" | "/verify.html" => {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/html; charset=utf-8"),
            );
            headers.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(guwah_web::CSP),
            );
            (StatusCode::OK, headers, guwah_web::verify_html()).into_response()
        }
        _ => text(
            StatusCode::NOT_FOUND,
            headers,
            "not found: this server only serves /verify.html\n",
        ),
    }
}

fn text(status: StatusCode, mut headers: HeaderMap, body: &'static str) -> Response {
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(TEXT));
    (status, headers, body).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{body_of, get, request};

    #[tokio::test]
    async fn serves_the_page_and_nothing_else() {
        let app = router();
        for path in ["/", "/verify.html", "/verify.html?x=1"] {
            let r = get(&app, path).await;
            assert_eq!(r.status(), StatusCode::OK, "{path}");
            assert_eq!(
                r.headers()[header::CONTENT_TYPE],
                "text/html; charset=utf-8"
            );
            assert_eq!(r.headers()[header::CONTENT_SECURITY_POLICY], guwah_web::CSP);
            assert_eq!(r.headers()[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
            assert_eq!(r.headers()[header::CACHE_CONTROL], "no-store");
            assert_eq!(body_of(r).await, guwah_web::verify_html().as_bytes());
        }
        let r = get(&app, "/../etc/passwd").await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        assert_eq!(r.headers()[header::REFERRER_POLICY], "no-referrer");
        assert_eq!(
            body_of(r).await,
            b"not found: this server only serves /verify.html\n"
        );
        let r = request(&app, Method::POST, "/", b"x".to_vec()).await;
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.headers()[header::ALLOW], "GET, HEAD");
        assert_eq!(
            request(&app, Method::HEAD, "/", Vec::new()).await.status(),
            StatusCode::OK
        );
    }
}
