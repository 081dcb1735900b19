//! Accounts and the audit trail, for admins only: `GET/POST /api/users`,
//! `POST /api/users/{name}/role`, `…/disable`, `…/token`, `GET /api/audit`.
//! An admin manages people, not evidence: no evidence route admits the
//! admin role (least privilege; docs/server.md).

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use guwah_vault::Role;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::auth::Caller;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::json::JsonBody;
use super::state::TeamState;

/// One account.
#[derive(Serialize, ToSchema)]
pub struct AccountOut {
    /// The sign-in name.
    pub name: String,
    /// Its role.
    pub role: String,
    /// Whether it is disabled.
    pub disabled: bool,
    /// Unix seconds it was made.
    pub created_at: i64,
}

/// A new account.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewAccount {
    /// Lowercase ASCII letters, digits, `.`, `_`, `-`; at most 64.
    pub name: String,
    /// admin, coordinator, reviewer, collector or viewer.
    pub role: String,
    /// At least 12 characters.
    pub password: String,
}

/// A role change.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RoleChange {
    /// admin, coordinator, reviewer, collector or viewer.
    pub role: String,
}

/// A new API token, shown once.
#[derive(Serialize, ToSchema)]
pub struct TokenOut {
    /// The account.
    pub name: String,
    /// The token (`gwt_…`); only its hash is stored.
    pub token: String,
}

/// One audit record, opened.
#[derive(Serialize, ToSchema)]
pub struct AuditOut {
    /// Its index in the log.
    pub leaf_index: u64,
    /// Its record id.
    pub id: String,
    /// What happened.
    pub action: String,
    /// When (RFC 3339 UTC).
    pub at: String,
    /// The item, for a custody event (a read, an export, a submission).
    pub item: Option<String>,
    /// Its details (`account`, `address`, `by`, `role`, ...).
    pub fields: std::collections::BTreeMap<String, String>,
}

fn role_of(s: &str) -> ApiResult<Role> {
    Role::parse(s).map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))
}

fn check_name(name: &str) -> ApiResult<()> {
    guwah_vault::check_name(name)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))
}

fn admin(caller: &Caller, what: &str) -> ApiResult<()> {
    caller.require(&[Role::Admin], what)
}

/// Every account.
#[utoipa::path(get, path = "/api/users", tag = "admin",
    responses(
        (status = 200, description = "The accounts", body = Vec<AccountOut>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Admins only", body = ErrorBody),
    ),
    security(("token" = []), ("session" = [])))]
pub async fn users(
    State(state): State<TeamState>,
    caller: Caller,
) -> ApiResult<Json<Vec<AccountOut>>> {
    admin(&caller, "listing accounts")?;
    state
        .read(|vault| {
            Ok(Json(
                vault
                    .accounts()?
                    .into_iter()
                    .map(|a| AccountOut {
                        name: a.name,
                        role: a.role.as_str().into(),
                        disabled: a.disabled,
                        created_at: a.created_at,
                    })
                    .collect(),
            ))
        })
        .await
}

/// Make an account.
#[utoipa::path(post, path = "/api/users", tag = "admin",
    request_body = NewAccount,
    responses(
        (status = 201, description = "Made", body = AccountOut),
        (status = 400, description = "Malformed", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Admins only, or no CSRF token", body = ErrorBody),
        (status = 409, description = "The name is taken", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "A bad name, role or password", body = ErrorBody),
    ),
    security(("token" = []), ("session" = [])))]
pub async fn add_user(
    State(state): State<TeamState>,
    caller: Caller,
    body: JsonBody,
) -> ApiResult<Response> {
    admin(&caller, "making accounts")?;
    let req: NewAccount = body.parse()?;
    check_name(&req.name)?;
    let role = role_of(&req.role)?;
    let password = Zeroizing::new(req.password);
    let name = req.name;
    let account = state
        .write(move |vault| {
            vault.add_account(&name, role, password.as_bytes(), &caller.principal.name)?;
            Ok(vault.account(&name)?)
        })
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(AccountOut {
            name: account.name,
            role: account.role.as_str().into(),
            disabled: account.disabled,
            created_at: account.created_at,
        }),
    )
        .into_response())
}

/// Change an account's role.
#[utoipa::path(post, path = "/api/users/{name}/role", tag = "admin",
    params(("name" = String, Path, description = "Account name")),
    request_body = RoleChange,
    responses(
        (status = 204, description = "Changed"),
        (status = 400, description = "Malformed", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Admins only, or no CSRF token", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "A bad name or role", body = ErrorBody),
    ),
    security(("token" = []), ("session" = [])))]
pub async fn set_role(
    State(state): State<TeamState>,
    caller: Caller,
    Path(name): Path<String>,
    body: JsonBody,
) -> ApiResult<StatusCode> {
    admin(&caller, "changing roles")?;
    let req: RoleChange = body.parse()?;
    check_name(&name)?;
    let role = role_of(&req.role)?;
    state
        .write(move |vault| Ok(vault.set_role(&name, role, &caller.principal.name)?))
        .await?;
    state.forget_principals();
    Ok(StatusCode::NO_CONTENT)
}

/// Disable an account: it signs in no more, its sessions and tokens end.
#[utoipa::path(post, path = "/api/users/{name}/disable", tag = "admin",
    params(("name" = String, Path, description = "Account name")),
    responses(
        (status = 204, description = "Disabled"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Admins only, or no CSRF token", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 422, description = "A bad name", body = ErrorBody),
    ),
    security(("token" = []), ("session" = [])))]
pub async fn disable(
    State(state): State<TeamState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<StatusCode> {
    admin(&caller, "disabling accounts")?;
    check_name(&name)?;
    state
        .write(move |vault| Ok(vault.disable_account(&name, &caller.principal.name)?))
        .await?;
    state.forget_principals();
    Ok(StatusCode::NO_CONTENT)
}

/// Issue an API token for an account; it is shown once.
#[utoipa::path(post, path = "/api/users/{name}/token", tag = "admin",
    params(("name" = String, Path, description = "Account name")),
    responses(
        (status = 201, description = "The token, once", body = TokenOut),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Admins only, or no CSRF token", body = ErrorBody),
        (status = 404, description = "No such account", body = ErrorBody),
        (status = 422, description = "A bad name", body = ErrorBody),
    ),
    security(("token" = []), ("session" = [])))]
pub async fn token(
    State(state): State<TeamState>,
    caller: Caller,
    Path(name): Path<String>,
) -> ApiResult<Response> {
    admin(&caller, "issuing tokens")?;
    check_name(&name)?;
    let n = name.clone();
    let token = state
        .write(move |vault| Ok(vault.issue_token(&n, &caller.principal.name)?))
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(TokenOut {
            name,
            token: token.to_string(),
        }),
    )
        .into_response())
}

/// The audit trail, oldest first: every sign-in, failed sign-in, account
/// change and token, and every custody event an account did (reads of
/// originals, exports, submissions, notes — also on each item's timeline).
#[utoipa::path(get, path = "/api/audit", tag = "admin",
    responses(
        (status = 200, description = "The audit records", body = Vec<AuditOut>),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Admins only", body = ErrorBody),
    ),
    security(("token" = []), ("session" = [])))]
pub async fn audit(
    State(state): State<TeamState>,
    caller: Caller,
) -> ApiResult<Json<Vec<AuditOut>>> {
    admin(&caller, "reading the audit trail")?;
    state
        .read(|vault| {
            Ok(Json(
                vault
                    .audit_trail()?
                    .into_iter()
                    .map(|a| AuditOut {
                        leaf_index: a.leaf_index,
                        id: a.id,
                        action: a.action,
                        at: a.at,
                        item: a.item,
                        fields: a.fields.into_iter().collect(),
                    })
                    .collect(),
            ))
        })
        .await
}
