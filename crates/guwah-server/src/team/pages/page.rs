//! What every page request carries: the reader's language, their session
//! (if any) with its CSRF token, and how a page answers — HTML with its
//! own Content-Security-Policy, a redirect, or an error page in the
//! reader's language.

use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use guwah_i18n::Lang;
use guwah_vault::Role;
use minijinja::Value;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::super::auth::{Caller, cookie, csrf_matches, page_session};
use super::super::error::ApiError;
use super::super::state::TeamState;
use super::render::render;

/// The cookie that keeps a language chosen with the switch.
pub const LANG_COOKIE: &str = "guwah_lang";

/// The pages' policy: scripts, styles, images and media from this server
/// only; no inline script or style, no frames, forms only to here.
pub const PAGE_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; media-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// Whether `path` is a page (not the JSON API): what answers it is HTML.
pub fn is_page_path(path: &str) -> bool {
    !path.starts_with("/api/") && path != "/api"
}

/// A page request: the language, the session if signed in, and where it
/// was (for the language switch to come back to).
pub struct Page {
    /// The language the page is shown in.
    pub lang: Lang,
    /// The signed-in account and its CSRF token.
    pub session: Option<(Caller, String)>,
    /// This request's path and query.
    pub here: String,
}

/// The language: the account's choice, then the switch's cookie, then
/// `Accept-Language`, then English.
fn choose_lang(headers: &HeaderMap, session: Option<&(Caller, String)>) -> Lang {
    session
        .and_then(|(c, _)| c.principal.language.as_deref())
        .and_then(Lang::parse)
        .or_else(|| cookie(headers, LANG_COOKIE).and_then(Lang::parse))
        .or_else(|| {
            headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok())
                .and_then(Lang::from_accept_language)
        })
        .unwrap_or(Lang::En)
}

impl FromRequestParts<TeamState> for Page {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &TeamState) -> Result<Self, Response> {
        let here = parts
            .uri
            .path_and_query()
            .map_or_else(|| "/".to_owned(), |p| p.as_str().to_owned());
        let session = match page_session(parts, state).await {
            Ok(s) => s,
            Err(e) => {
                let lang = choose_lang(&parts.headers, None);
                return Err(Page {
                    lang,
                    session: None,
                    here,
                }
                .error(e));
            }
        };
        let lang = choose_lang(&parts.headers, session.as_ref());
        Ok(Page {
            lang,
            session,
            here,
        })
    }
}

/// A signed-in page request; anyone else is sent to the sign-in page.
pub struct SignedIn {
    /// The page.
    pub page: Page,
    /// Who.
    pub caller: Caller,
}

impl FromRequestParts<TeamState> for SignedIn {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &TeamState) -> Result<Self, Response> {
        let page = Page::from_request_parts(parts, state).await?;
        match page.session.clone() {
            Some((caller, _)) => Ok(SignedIn { page, caller }),
            None => Err(redirect(&format!("/login?next={}", percent(&page.here)))),
        }
    }
}

/// A form sent to the server: refused unless it comes from one of our own
/// pages (same origin) and, when signed in, carries the session's CSRF
/// token as `csrf`.
pub struct PageForm<T> {
    /// The page it was sent from (its session, if any, checked).
    pub page: Page,
    /// The form's fields.
    pub form: T,
}

/// Forms are small: a note is at most 16 KiB.
const MAX_FORM_BYTES: usize = 64 * 1024;

#[derive(serde::Deserialize)]
struct CsrfField {
    #[serde(default)]
    csrf: String,
}

impl<T: DeserializeOwned + Send> FromRequest<TeamState> for PageForm<T> {
    type Rejection = Response;

    async fn from_request(req: Request, state: &TeamState) -> Result<Self, Response> {
        let (mut parts, body) = req.into_parts();
        let page = Page::from_request_parts(&mut parts, state).await?;
        if !same_origin(&parts.headers) {
            return Err(page.error(ApiError::forbidden("form from another site")));
        }
        let bytes = match axum::body::to_bytes(Body::new(body), MAX_FORM_BYTES).await {
            Ok(b) => b,
            Err(_) => {
                return Err(page.error(ApiError::new(
                    StatusCode::PAYLOAD_TOO_LARGE,
                    "form too large",
                )));
            }
        };
        let check: CsrfField = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| page.error(ApiError::bad_request("malformed form")))?;
        if let Some((_, want)) = &page.session
            && !csrf_matches(&check.csrf, want)
        {
            return Err(page.error(ApiError::forbidden("csrf")));
        }
        let form = serde_urlencoded::from_bytes(&bytes)
            .map_err(|_| page.error(ApiError::bad_request("malformed form")))?;
        Ok(PageForm { page, form })
    }
}

/// A browser says where a form comes from: `Sec-Fetch-Site` (every
/// current browser) or `Origin` against `Host`. A request naming neither
/// (a script, a test) is let through; the CSRF token still binds it.
fn same_origin(headers: &HeaderMap) -> bool {
    if let Some(site) = headers.get("sec-fetch-site").and_then(|v| v.to_str().ok()) {
        return matches!(site, "same-origin" | "none");
    }
    let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
        return true;
    };
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let origin_host = origin
        .strip_prefix("https://")
        .or_else(|| origin.strip_prefix("http://"))
        .unwrap_or("");
    !host.is_empty() && origin_host == host
}

/// The frame every page shares: language, direction, the account and
/// what its role may open.
#[derive(Serialize)]
struct Frame<'a> {
    lang: &'a str,
    dir: &'a str,
    languages: Vec<LangChoice>,
    back: &'a str,
    csrf: &'a str,
    user: Option<UserFrame>,
}

#[derive(Serialize)]
struct LangChoice {
    code: &'static str,
    name: &'static str,
    dir: &'static str,
}

#[derive(Serialize)]
struct UserFrame {
    name: String,
    role: &'static str,
    role_key: String,
    reads_items: bool,
    submits: bool,
    admin: bool,
}

impl Page {
    /// The page `template` with `ctx` (merged into the frame), as `status`.
    pub fn render_status(&self, status: StatusCode, template: &str, ctx: Value) -> Response {
        let user = self.session.as_ref().map(|(c, _)| {
            let role = c.role();
            UserFrame {
                name: c.principal.name.clone(),
                role: role.as_str(),
                role_key: format!("role-{}", role.as_str()),
                reads_items: role != Role::Admin,
                submits: matches!(role, Role::Collector | Role::Coordinator),
                admin: role == Role::Admin,
            }
        });
        let frame = Frame {
            lang: self.lang.code(),
            dir: self.lang.dir(),
            languages: Lang::ALL
                .into_iter()
                .map(|l| LangChoice {
                    code: l.code(),
                    name: l.native_name(),
                    dir: l.dir(),
                })
                .collect(),
            back: &self.here,
            csrf: self.session.as_ref().map_or("", |(_, t)| t.as_str()),
            user,
        };
        let ctx = minijinja::context! { ..Value::from_serialize(&frame), ..ctx };
        match render(template, ctx) {
            Ok(html) => html_response(status, html),
            Err(e) => {
                eprintln!("guwah: rendering {template}: {e}");
                html_response(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "<!doctype html><title>500</title>".into(),
                )
            }
        }
    }

    /// The page `template` with `ctx`, as 200.
    pub fn render(&self, template: &str, ctx: Value) -> Response {
        self.render_status(StatusCode::OK, template, ctx)
    }

    /// The error page for `e` in the reader's language. The API's English
    /// message is not shown (it is for scripts); the status chooses the
    /// words. Server errors were logged where they arose.
    pub fn error(&self, e: ApiError) -> Response {
        let key = match e.status {
            StatusCode::NOT_FOUND => "error-not-found",
            StatusCode::FORBIDDEN if e.message == "csrf" || e.message.contains("another site") => {
                "error-csrf"
            }
            StatusCode::FORBIDDEN => "error-forbidden",
            StatusCode::PAYLOAD_TOO_LARGE => "error-too-large",
            s if s.is_client_error() => "error-bad-request",
            _ => "error-server",
        };
        if e.status.is_server_error() {
            eprintln!("guwah: {}", e.message);
        }
        if e.status == StatusCode::UNAUTHORIZED {
            return redirect(&format!("/login?next={}", percent(&self.here)));
        }
        self.render_status(
            e.status,
            "error.html",
            minijinja::context! { message_key => key },
        )
    }
}

fn html_response(status: StatusCode, html: String) -> Response {
    let mut resp = (status, html).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(PAGE_CSP),
    );
    resp
}

/// 303 to `to`, a path on this server.
pub fn redirect(to: &str) -> Response {
    let to = local_path(to).unwrap_or("/");
    (
        StatusCode::SEE_OTHER,
        [(
            header::LOCATION,
            HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/")),
        )],
    )
        .into_response()
}

/// `to` if it is a path on this server (`/…`, not `//host` or `/\host`),
/// so a `next` or `back` field cannot send anyone elsewhere.
pub fn local_path(to: &str) -> Option<&str> {
    let ok = to.starts_with('/')
        && !to.starts_with("//")
        && !to.starts_with("/\\")
        && to.len() <= 2048
        && to.bytes().all(|b| b.is_ascii_graphic());
    ok.then_some(to)
}

/// Percent-encoding of everything but unreserved characters and `/`.
pub fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths() {
        assert_eq!(local_path("/items?x=1"), Some("/items?x=1"));
        assert_eq!(local_path("//evil.example/"), None);
        assert_eq!(local_path("/\\evil.example"), None);
        assert_eq!(local_path("https://evil.example/"), None);
        assert_eq!(local_path("/a\r\nSet-Cookie: x"), None);
    }

    #[test]
    fn origins() {
        let mut h = HeaderMap::new();
        assert!(same_origin(&h));
        h.insert(header::HOST, HeaderValue::from_static("guwah.example"));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&h));
        h.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://guwah.example"),
        );
        assert!(same_origin(&h));
        h.insert("sec-fetch-site", HeaderValue::from_static("cross-site"));
        assert!(!same_origin(&h));
    }
}
