//! Who a request is from, and what their role lets them do.
//!
//! Scripts send `Authorization: Bearer gwt_…` (an API token from
//! `guwah user token`); browsers send the `guwah_session` cookie from
//! `POST /api/login` (`HttpOnly`, `SameSite=Strict`, `Secure` behind TLS),
//! and with it, on every request that changes anything, the session's CSRF
//! token in `X-CSRF-Token`: a cookie alone never writes.

use std::net::{IpAddr, SocketAddr};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, Method, header};
use guwah_store::CredentialKind;
use guwah_vault::{Principal, Role};
use subtle::ConstantTimeEq;

use super::error::{ApiError, ApiResult};
use super::state::TeamState;
use crate::serve::PeerAddr;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "guwah_session";
/// The header that carries the CSRF token.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// An authenticated request's account.
#[derive(Debug, Clone)]
pub struct Caller {
    /// Who, with which role, by which credential.
    pub principal: Principal,
    /// The client's address, for the audit.
    pub address: String,
}

impl Caller {
    /// 403 unless the caller has one of `roles`.
    pub fn require(&self, roles: &[Role], what: &str) -> ApiResult<()> {
        if roles.contains(&self.principal.role) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "{what}: not allowed for the {} role",
                self.principal.role.as_str()
            )))
        }
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.principal.role
    }
}

/// The client's address: the connection's peer, or — only when the peer
/// is the configured reverse proxy — the last address it appended to
/// `X-Forwarded-For`.
pub fn client_address(parts: &Parts, state: &TeamState) -> String {
    let peer = parts.extensions.get::<PeerAddr>().map(|p| p.0.ip());
    if let (Some(peer), Some(proxy)) = (peer, state.config.trusted_proxy)
        && peer.to_canonical() == proxy.to_canonical()
        && let Some(ip) = forwarded_for(&parts.headers)
    {
        return ip.to_string();
    }
    peer.map_or_else(|| "unknown".into(), |ip| ip.to_canonical().to_string())
}

fn forwarded_for(headers: &HeaderMap) -> Option<IpAddr> {
    let last = headers
        .get_all("x-forwarded-for")
        .iter()
        .next_back()?
        .to_str()
        .ok()?;
    let ip = last.rsplit(',').next()?.trim();
    ip.parse::<IpAddr>()
        .ok()
        .or_else(|| ip.parse::<SocketAddr>().ok().map(|s| s.ip()))
}

/// The value of cookie `name` in the request's `Cookie` headers.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// The credential a request carries, and whether it came as a cookie.
fn credential(headers: &HeaderMap) -> ApiResult<Option<(String, bool)>> {
    if let Some(auth) = headers.get(header::AUTHORIZATION) {
        let auth = auth.to_str().unwrap_or("");
        let Some(token) = auth
            .strip_prefix("Bearer ")
            .or_else(|| auth.strip_prefix("bearer "))
        else {
            return Err(ApiError::unauthenticated());
        };
        return Ok(Some((token.trim().to_owned(), false)));
    }
    Ok(cookie(headers, SESSION_COOKIE).map(|c| (c.to_owned(), true)))
}

/// Methods that change nothing, and so need no CSRF token.
fn is_safe(method: &Method) -> bool {
    matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

impl FromRequestParts<TeamState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &TeamState) -> ApiResult<Self> {
        let Some((secret, from_cookie)) = credential(&parts.headers)? else {
            return Err(ApiError::unauthenticated());
        };
        let address = client_address(parts, state);
        let sent_csrf = parts
            .headers
            .get(CSRF_HEADER)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let safe = is_safe(&parts.method);
        let lookup = PrincipalLookup::new(state, secret);
        state
            .read(move |vault| {
                let principal = lookup.find(vault)?;
                if from_cookie && principal.via != CredentialKind::Session {
                    // An API token is never a cookie.
                    return Err(ApiError::unauthenticated());
                }
                if from_cookie && !safe {
                    let want = vault.csrf_token(&principal.credential)?;
                    let ok = sent_csrf
                        .as_deref()
                        .is_some_and(|s| bool::from(s.as_bytes().ct_eq(want.as_bytes())));
                    if !ok {
                        return Err(ApiError::forbidden(
                            "missing or wrong X-CSRF-Token: a signed-in page sends the token it got from POST /api/login or GET /api/session",
                        ));
                    }
                }
                Ok(Caller { principal, address })
            })
            .await
    }
}

/// A credential's account, through the server's short-lived cache.
struct PrincipalLookup {
    secret: String,
    key: String,
    known: Option<Principal>,
    state: TeamState,
}

impl PrincipalLookup {
    fn new(state: &TeamState, secret: String) -> Self {
        let key = {
            use sha2::Digest;
            let d: [u8; 32] = sha2::Sha256::digest(secret.as_bytes()).into();
            guwah_core::record::hex32(&d)
        };
        PrincipalLookup {
            known: state.cached_principal(&key),
            secret,
            key,
            state: state.clone(),
        }
    }

    /// The account, or 401.
    fn find(self, vault: &guwah_vault::Vault) -> ApiResult<Principal> {
        if let Some(p) = self.known {
            return Ok(p);
        }
        let Some(p) = vault.authenticate(&self.secret)? else {
            return Err(ApiError::unauthenticated());
        };
        self.state.remember_principal(self.key, p.clone());
        Ok(p)
    }
}

/// The browser session a page request carries: its account and the
/// session's CSRF token (which every form of the page sends back), or
/// `None` when there is none. An API token is never a page's credential.
pub(super) async fn page_session(
    parts: &Parts,
    state: &TeamState,
) -> ApiResult<Option<(Caller, String)>> {
    let Some(secret) = cookie(&parts.headers, SESSION_COOKIE) else {
        return Ok(None);
    };
    let address = client_address(parts, state);
    let lookup = PrincipalLookup::new(state, secret.to_owned());
    let found = state
        .read(move |vault| {
            let principal = match lookup.find(vault) {
                Ok(p) => p,
                Err(_) => return Ok(None),
            };
            if principal.via != CredentialKind::Session {
                return Ok(None);
            }
            let csrf = vault.csrf_token(&principal.credential)?;
            Ok(Some((Caller { principal, address }, csrf)))
        })
        .await?;
    Ok(found)
}

/// Whether `sent` is the session's CSRF token `want`, in constant time.
pub(super) fn csrf_matches(sent: &str, want: &str) -> bool {
    bool::from(sent.as_bytes().ct_eq(want.as_bytes()))
}
