//! `guwah serve`: the organisation's server over one vault — accounts and
//! roles, resumable uploads from the field (tus 1.0), items read as each
//! role may see them, originals streamed with range requests, and every
//! sign-in and read sealed in the vault's log.
//!
//! Every route is JSON under `/api/` ([`router`]); the OpenAPI document at
//! `/api/openapi.json` is generated from the handlers (`openapi`). Writes
//! to the vault go one at a time through [`TeamState::write`]: the vault
//! has one writer.

use std::path::PathBuf;
use std::time::Duration;

use crate::limits::Limits;

/// How `guwah serve` runs.
#[derive(Debug, Clone)]
pub struct TeamConfig {
    /// Where uploads in progress are kept, sealed (the server's own disk).
    pub spool_dir: PathBuf,
    /// An upload not finished in this time is removed.
    pub upload_expiry: Duration,
    /// The largest upload accepted, in bytes.
    pub max_upload_bytes: u64,
    /// Uploads in progress at once per account.
    pub max_uploads_per_account: usize,
    /// Cookies carry `Secure` (the server is behind TLS, its own or a
    /// reverse proxy's).
    pub secure_cookies: bool,
    /// Trust `X-Forwarded-For` from this proxy address for the client's
    /// address (audit records and sign-in rate limits); otherwise the
    /// connection's peer address is the client's.
    pub trusted_proxy: Option<std::net::IpAddr>,
    /// The connection limits, and the limits of every route but the
    /// upload body (`PATCH /api/uploads/{id}`), which is bounded by
    /// `max_upload_bytes` and `upload_idle_timeout` instead.
    pub limits: Limits,
    /// An upload body that sends nothing for this long is cut off (what
    /// arrived is kept; the client resumes).
    pub upload_idle_timeout: Duration,
    /// Serve HTTPS with this certificate (see [`crate::tls_config`]).
    pub tls: Option<crate::TlsConfig>,
}

impl TeamConfig {
    /// The defaults, with the spool in `spool_dir`.
    pub fn new(spool_dir: impl Into<PathBuf>) -> Self {
        TeamConfig {
            spool_dir: spool_dir.into(),
            upload_expiry: Duration::from_secs(7 * 24 * 3600),
            max_upload_bytes: 64 << 30,
            max_uploads_per_account: 16,
            secure_cookies: false,
            trusted_proxy: None,
            limits: Limits::default(),
            upload_idle_timeout: Duration::from_secs(60),
            tls: None,
        }
    }
}

mod admin;
mod auth;
mod error;
mod exports;
mod items;
mod json;
mod openapi;
mod pages;
mod push;
mod query;
mod security;
mod sensitive;
mod session;
mod state;
mod uploads;

use std::io;

use axum::Router;
use axum::extract::Request;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

pub use auth::{CSRF_HEADER, Caller, SESSION_COOKIE};
pub use error::{ApiError, ApiResult};
pub use items::parse_range;
pub use pages::{TEMPLATES, template_text_outside_expressions};
pub use push::request_json as push_request;
pub use sensitive::is_sensitive;
pub use state::TeamState;
pub use uploads::{parse_metadata, submission as parse_submission};

/// The API's router over `state`, with its security headers and the
/// per-request limits (all but the upload body's, which its handler
/// bounds).
pub fn router(state: TeamState) -> Router {
    let limits = state.config.limits.clone();
    let tls = state.config.secure_cookies;
    let max_body = limits.max_body_bytes;
    let mut api = Router::new()
        .route("/api/login", post(session::login))
        .route("/api/logout", post(session::logout))
        .route("/api/session", get(session::session))
        .route("/api/items", get(items::list))
        .route("/api/search", get(items::search))
        .route("/api/items/{id}", get(items::show))
        .route("/api/items/{id}/original", get(items::original))
        .route("/api/items/{id}/annotations", post(items::annotate))
        .route(
            "/api/uploads",
            post(uploads::create).options(uploads::options),
        )
        .route(
            "/api/uploads/{id}",
            axum::routing::head(uploads::head)
                .patch(uploads::patch)
                .delete(uploads::delete),
        )
        .route("/api/users", get(admin::users).post(admin::add_user))
        .route("/api/users/{name}/role", post(admin::set_role))
        .route("/api/users/{name}/disable", post(admin::disable))
        .route("/api/users/{name}/token", post(admin::token))
        .route("/api/audit", get(admin::audit))
        .route("/api/exports", post(exports::export))
        .route("/api/push", post(push::push))
        .route("/api/push/received", get(push::received))
        .route("/api/openapi.json", get(openapi::document));
    if let Some(root) = state.vault.local_root() {
        // The public log (C2SP tlog-tiles), read-only, for monitors and
        // witnesses: the same router as `guwah log serve`.
        api = api.nest_service("/api/log", crate::log::router(root.join("log")));
    }
    api.merge(pages::routes())
        .fallback(fallback)
        .with_state(state)
        .layer(axum::middleware::from_fn(move |req, next| {
            limit_request(req, next, limits.clone())
        }))
        .layer(axum::middleware::map_response(
            move |resp: Response| async move { security::harden(resp, tls, max_body) },
        ))
}

/// No such route: JSON under `/api/`, a page in the reader's language
/// elsewhere.
async fn fallback(uri: axum::http::Uri, page: Result<pages::Page, Response>) -> Response {
    if !pages::is_page_path(uri.path()) {
        return ApiError::not_found("no such route").into_response();
    }
    match page {
        Ok(p) => p.error(ApiError::not_found("no such page")),
        Err(r) => r,
    }
}

/// Whether `req` is an upload body (bounded by its upload, not `Limits`).
fn is_upload_body(req: &Request) -> bool {
    req.method() == Method::PATCH && req.uri().path().starts_with("/api/uploads/")
}

/// The body-size and whole-request limits of [`Limits`], for every
/// request but an upload body: a 4 GB video over a slow link takes hours,
/// and is bounded instead by its declared length and an idle timeout.
async fn limit_request(req: Request, next: Next, limits: Limits) -> Response {
    if is_upload_body(&req) {
        return next.run(req).await;
    }
    let max = limits.max_body_bytes;
    let announced = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > max as u64) {
        return ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("request body too large: at most {max} bytes"),
        )
        .into_response();
    }
    let req = req.map(|b| axum::body::Body::new(http_body_util::Limited::new(b, max)));
    match tokio::time::timeout(limits.request_timeout, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => ApiError::new(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "request timeout: the body must arrive and be answered within {} s",
                limits.request_timeout.as_secs()
            ),
        )
        .into_response(),
    }
}

/// Serve the API on `listener`, forever: seals uploads left complete by
/// an earlier run, then sweeps expired uploads and sessions every minute.
/// With `config.tls`, speaks only HTTPS (and cookies are `Secure`).
pub fn run(
    listener: std::net::TcpListener,
    vault: guwah_vault::Vault,
    mut config: TeamConfig,
) -> io::Result<()> {
    let tls = config.tls.clone();
    if tls.is_some() {
        config.secure_cookies = true;
    }
    let limits = config.limits.clone();
    let state = TeamState::new(vault, config).map_err(|e| io::Error::other(e.to_string()))?;
    let sealed = uploads::seal_pending(&state.vault, &state.spool);
    if sealed > 0 {
        eprintln!("guwah: sealed {sealed} upload(s) completed before the last stop");
    }
    // The search index lives in memory only: built now from the vault's
    // encrypted index, so the first search is as fast as the rest.
    let started = std::time::Instant::now();
    let indexed = state
        .build_search()
        .map_err(|e| io::Error::other(e.message))?;
    eprintln!(
        "guwah: search index of {indexed} item(s) built in memory in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let sweeper = state.clone();
    std::thread::Builder::new()
        .name("guwah-sweep".into())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_secs(60));
                sweep(&sweeper);
            }
        })?;
    crate::serve::run_tls(listener, router(state), limits, tls)
}

/// Remove expired uploads and sessions; seal complete uploads left
/// unsealed.
pub fn sweep(state: &TeamState) {
    if let Err(e) = state.spool.expire(guwah_vault::unix_now()) {
        eprintln!("guwah: expiring uploads: {e}");
    }
    if let Err(e) = state.vault.purge_sessions() {
        eprintln!("guwah: expiring sessions: {e}");
    }
    uploads::seal_pending(&state.vault, &state.spool);
}
