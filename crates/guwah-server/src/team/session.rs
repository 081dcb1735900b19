//! Signing in and out: `POST /api/login`, `POST /api/logout`,
//! `GET /api/session`.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use guwah_store::CredentialKind;
use guwah_vault::LoginRefusal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::auth::{Caller, SESSION_COOKIE, client_address};
use super::error::{ApiError, ApiResult, ErrorBody};
use super::json::JsonBody;
use super::state::{TeamState, too_many};

/// A sign-in.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// The account name.
    pub name: String,
    /// Its password.
    pub password: String,
    /// For an account with a second factor: the 6-digit code from the
    /// authenticator app, or one of its recovery codes.
    #[serde(default)]
    pub code: Option<String>,
}

/// Who is signed in.
#[derive(Serialize, ToSchema)]
pub struct SessionInfo {
    /// The account name.
    pub name: String,
    /// Its role: admin, coordinator, reviewer, collector or viewer.
    pub role: String,
    /// `session` (a browser cookie) or `token` (an API token).
    pub via: String,
    /// For a session: the value to send as `X-CSRF-Token` with every
    /// request that changes anything.
    pub csrf_token: Option<String>,
    /// For a new session: Unix seconds it ends.
    pub expires_at: Option<i64>,
}

/// The client's address, for extractors that need no account.
pub struct Address(pub String);

impl FromRequestParts<TeamState> for Address {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &TeamState) -> ApiResult<Self> {
        Ok(Address(client_address(parts, state)))
    }
}

pub(super) fn session_cookie(value: &str, max_age: i64, secure: bool) -> HeaderValue {
    let secure = if secure { "; Secure" } else { "" };
    HeaderValue::from_str(&format!(
        "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age}{secure}"
    ))
    .expect("cookie is ASCII")
}

/// Sign in with a name and password; sets the session cookie.
#[utoipa::path(post, path = "/api/login", tag = "session",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Signed in; the session cookie is set", body = SessionInfo),
        (status = 400, description = "Malformed body", body = ErrorBody),
        (status = 401, description = "Wrong name or password, or a disabled account", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Not a valid name", body = ErrorBody),
        (status = 429, description = "Too many attempts", body = ErrorBody),
    ))]
pub async fn login(
    State(state): State<TeamState>,
    Address(address): Address,
    body: JsonBody,
) -> ApiResult<Response> {
    let req: LoginRequest = body.parse()?;
    let password = Zeroizing::new(req.password);
    let secure = state.config.secure_cookies;
    let session = match sign_in(
        &state,
        address,
        req.name,
        password,
        req.code.map(Zeroizing::new),
    )
    .await
    {
        Ok(session) => session,
        Err(refusal) => return Err(refusal.into_api_error()),
    };
    let max_age = session.expires_at - guwah_vault::unix_now();
    let cookie = session_cookie(&session.secret, max_age.max(0), secure);
    let info = SessionInfo {
        name: session.principal.name.clone(),
        role: session.principal.role.as_str().into(),
        via: "session".into(),
        csrf_token: Some(session.csrf.clone()),
        expires_at: Some(session.expires_at),
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(info)).into_response())
}

/// Why [`sign_in`] opened no session.
#[derive(Debug)]
pub(super) enum SignInRefused {
    /// Not a valid account name.
    BadName(String),
    /// Too many attempts from this address or for this account; seconds
    /// to wait, and which.
    Throttled(&'static str, u64),
    /// Wrong name or password, or a disabled account.
    Failed,
    /// The account needs its second factor.
    NeedCode,
    /// A wrong, used or expired second factor.
    BadCode,
    /// The vault failed.
    Error(ApiError),
}

impl SignInRefused {
    /// The API's answer.
    pub(super) fn into_api_error(self) -> ApiError {
        match self {
            SignInRefused::BadName(why) => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, why),
            SignInRefused::Throttled(what, wait) => too_many(what, wait),
            SignInRefused::Failed => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "wrong name or password (or the account is disabled)",
            ),
            SignInRefused::NeedCode => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "second factor needed: send the code from the authenticator app (or a recovery code) as \"code\"",
            ),
            SignInRefused::BadCode => ApiError::new(
                StatusCode::UNAUTHORIZED,
                "wrong, used or expired second-factor code",
            ),
            SignInRefused::Error(e) => e,
        }
    }
}

/// Sign `name` in from `address`: the rate limits per address and per
/// account, then the vault's check (sealed as `login` or `login-failed`).
/// The JSON API and the sign-in page both come here.
pub(super) async fn sign_in(
    state: &TeamState,
    address: String,
    name: String,
    password: Zeroizing<String>,
    code: Option<Zeroizing<String>>,
) -> Result<guwah_vault::NewSession, SignInRefused> {
    guwah_vault::check_name(&name).map_err(|e| SignInRefused::BadName(e.to_string()))?;
    if let Err(wait) = state.login_attempts.check(&address) {
        return Err(SignInRefused::Throttled(
            "sign-in attempts from this address",
            wait,
        ));
    }
    if let Err(wait) = state.login_failures.check(&name) {
        return Err(SignInRefused::Throttled(
            "failed sign-ins for this account",
            wait,
        ));
    }
    state.login_attempts.record(&address);
    let who = name.clone();
    let outcome = state
        .write(move |vault| {
            Ok(vault.login(
                &who,
                password.as_bytes(),
                code.as_deref().map(|c| c.as_str()),
                &address,
            )?)
        })
        .await
        .map_err(SignInRefused::Error)?;
    match outcome {
        Ok(session) => {
            state.login_failures.clear(&name);
            Ok(session)
        }
        Err(LoginRefusal::SecondFactorRequired) => Err(SignInRefused::NeedCode),
        Err(LoginRefusal::BadSecondFactor) => {
            state.login_failures.record(&name);
            Err(SignInRefused::BadCode)
        }
        Err(LoginRefusal::BadCredentials | LoginRefusal::Disabled) => {
            state.login_failures.record(&name);
            Err(SignInRefused::Failed)
        }
    }
}

/// End this session (or revoke the API token used); clears the cookie.
#[utoipa::path(post, path = "/api/logout", tag = "session",
    responses(
        (status = 204, description = "Signed out"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Missing CSRF token", body = ErrorBody),
    ))]
pub async fn logout(State(state): State<TeamState>, caller: Caller) -> ApiResult<Response> {
    let credential = caller.principal.credential.clone();
    let secure = state.config.secure_cookies;
    state
        .write(move |vault| Ok(vault.logout(&credential)?))
        .await?;
    state.forget_principals();
    Ok((
        StatusCode::NO_CONTENT,
        [(header::SET_COOKIE, session_cookie("", 0, secure))],
    )
        .into_response())
}

/// Who is signed in, and the session's CSRF token.
#[utoipa::path(get, path = "/api/session", tag = "session",
    responses(
        (status = 200, description = "The caller", body = SessionInfo),
        (status = 401, description = "Not signed in", body = ErrorBody),
    ))]
pub async fn session(
    State(state): State<TeamState>,
    caller: Caller,
) -> ApiResult<Json<SessionInfo>> {
    let p = caller.principal;
    let csrf_token = match p.via {
        CredentialKind::Session => {
            let credential = p.credential.clone();
            Some(state.read(move |v| Ok(v.csrf_token(&credential)?)).await?)
        }
        CredentialKind::Token => None,
    };
    Ok(Json(SessionInfo {
        name: p.name,
        role: p.role.as_str().into(),
        via: match p.via {
            CredentialKind::Session => "session".into(),
            CredentialKind::Token => "token".into(),
        },
        csrf_token,
        expires_at: None,
    }))
}
