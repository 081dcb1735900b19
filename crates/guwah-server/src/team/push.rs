//! Items pushed from a collector's own vault (`guwah push`): `POST
//! /api/push` re-verifies what the sender says about an item — its signed
//! checkpoint, the collector's signature on the record, the record's
//! inclusion in that checkpoint, every field value against its
//! commitment — and only then opens a tus upload for the bytes, which must
//! have the record's SHA-256 and size. The sealed `received` event names the
//! sender's log origin, index and checkpoint, linking the two logs.
//! `GET /api/push/received` says what this account has pushed already, so
//! a `push` run after an interruption sends only what is missing.

use std::collections::{BTreeMap, BTreeSet};

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use guwah_core::push::{PushedItem, verify_pushed};
use guwah_core::record::hex32;
use guwah_vault::{PushBundle, Vault};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::json::JsonBody;
use super::query::ApiQuery;
use super::state::TeamState;
use super::uploads::{PUSH_KEY, PushedFields, SUBMITTERS, start_upload};

/// An item as `guwah push` sends it (`guwah_vault::PushBundle`).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PushRequest {
    /// The sender's log key, a C2SP vkey.
    pub vkey: String,
    /// The sender's signed checkpoint (a C2SP signed note).
    pub checkpoint: String,
    /// The item record, standard base64.
    pub record: String,
    /// Its index in the sender's log.
    pub index: u64,
    /// RFC 9162 inclusion proof, standard base64 hashes.
    pub proof: Vec<String>,
    /// `[name, value, salt]` of each disclosed field (salt standard base64).
    pub fields: Vec<(String, String, String)>,
}

/// What the server does with a pushed item.
#[derive(Serialize, ToSchema)]
pub struct PushAnswer {
    /// `upload`: send the bytes to `upload` (tus); `received`: this
    /// account pushed it already, as `item`.
    pub status: String,
    /// The tus upload for the bytes.
    pub upload: Option<String>,
    /// The item it was sealed as.
    pub item: Option<String>,
    /// The sender's record id (its item id in the sender's vault).
    pub record_id: String,
}

/// Which sender log's items to list.
#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ReceivedQuery {
    /// The sender's log origin.
    pub origin: String,
}

/// What this account pushed from one log.
#[derive(Serialize, ToSchema)]
pub struct Received {
    /// The sender's log origin.
    pub origin: String,
    /// The sender's log indices received, ascending.
    pub indices: Vec<u64>,
}

fn unprocessable(why: impl std::fmt::Display) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, format!("refused: {why}"))
}

fn b64_32(s: &str, what: &str) -> ApiResult<[u8; 32]> {
    STANDARD
        .decode(s)
        .ok()
        .and_then(|d| <[u8; 32]>::try_from(d).ok())
        .ok_or_else(|| unprocessable(format!("{what}: not a base64 32-byte value")))
}

/// The sender indices from log `origin` this account's `received` events
/// name, with the items they were sealed as.
fn received_from(
    vault: &Vault,
    account_key: &str,
    origin: &str,
) -> ApiResult<BTreeMap<u64, String>> {
    let mut out = BTreeMap::new();
    let ids: BTreeSet<String> = vault.submissions_of(account_key)?.into_iter().collect();
    for id in ids {
        for ev in vault.show(&id)?.custody {
            if ev.action != "received" {
                continue;
            }
            let get = |n: &str| {
                ev.fields
                    .iter()
                    .find(|f| f.name == n)
                    .and_then(|f| f.value.clone())
            };
            if get("from-origin").as_deref() == Some(origin)
                && let Some(i) = get("from-index").and_then(|i| i.parse().ok())
            {
                out.insert(i, id.clone());
            }
        }
    }
    Ok(out)
}

/// Re-verify an item pushed from another vault; open an upload for its bytes.
#[utoipa::path(post, path = "/api/push", tag = "uploads",
    request_body = PushRequest,
    responses(
        (status = 200, description = "Pushed already by this account", body = PushAnswer),
        (status = 201, description = "Verified; send the bytes to the tus upload named", body = PushAnswer),
        (status = 400, description = "Malformed", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not for this role, or no CSRF token", body = ErrorBody),
        (status = 413, description = "Body too large, or a file larger than the server takes", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Refused: something does not verify (the reason is named)", body = ErrorBody),
        (status = 429, description = "Too many uploads", body = ErrorBody),
    ),
    security(("token" = []), ("session" = [])))]
pub async fn push(
    State(state): State<TeamState>,
    caller: Caller,
    body: JsonBody,
) -> ApiResult<Response> {
    caller.require(SUBMITTERS, "pushing")?;
    let req: PushRequest = body.parse()?;
    if req.fields.len() > guwah_core::record::MAX_FIELDS || req.proof.len() > 64 {
        return Err(unprocessable(
            "more fields or proof hashes than a record or a log has",
        ));
    }
    let record = STANDARD
        .decode(&req.record)
        .map_err(|_| unprocessable("record: not base64"))?;
    let proof = req
        .proof
        .iter()
        .map(|h| b64_32(h, "proof"))
        .collect::<ApiResult<Vec<_>>>()?;
    let fields = req
        .fields
        .iter()
        .map(|(n, v, salt)| {
            Ok((
                n.clone(),
                v.clone(),
                b64_32(salt, &format!("field {n} salt"))?,
            ))
        })
        .collect::<ApiResult<Vec<_>>>()?;
    let verified = verify_pushed(&PushedItem {
        vkey: &req.vkey,
        checkpoint: req.checkpoint.as_bytes(),
        record: &record,
        index: req.index,
        proof: &proof,
        fields: &fields,
    })
    .map_err(unprocessable)?;
    if verified.item.size > state.config.max_upload_bytes {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the item is larger than this server takes ({} bytes)",
                state.config.max_upload_bytes
            ),
        ));
    }
    let origin = verified.checkpoint.origin.clone();
    let record_id = hex32(&verified.leaf_hash);
    let key = caller.principal.key.clone();
    let o = origin.clone();
    let index = req.index;
    let already = state
        .read(move |vault| Ok(received_from(vault, &key, &o)?.remove(&index)))
        .await?;
    if let Some(item) = already {
        return Ok(Json(PushAnswer {
            status: "received".into(),
            upload: None,
            item: Some(item),
            record_id,
        })
        .into_response());
    }
    let pushed = PushedFields {
        fields: verified.fields.clone(),
        received: vec![
            ("from-origin".into(), origin),
            ("from-index".into(), req.index.to_string()),
            ("from-checkpoint".into(), req.checkpoint.clone()),
        ],
    };
    let mut meta = BTreeMap::new();
    meta.insert("sha256".to_owned(), hex32(&verified.item.sha256));
    meta.insert(
        PUSH_KEY.to_owned(),
        serde_json::to_string(&pushed).expect("serializes"),
    );
    let up = start_upload(&state, &caller, verified.item.size, meta).await?;
    let at = format!("/api/uploads/{}", up.id);
    let mut r = (
        StatusCode::CREATED,
        Json(PushAnswer {
            status: "upload".into(),
            upload: Some(at.clone()),
            item: None,
            record_id,
        }),
    )
        .into_response();
    r.headers_mut()
        .insert(header::LOCATION, HeaderValue::from_str(&at).expect("hex"));
    Ok(r)
}

/// The sender log indices this account has pushed from `origin`.
#[utoipa::path(get, path = "/api/push/received", tag = "uploads",
    params(ReceivedQuery),
    responses(
        (status = 200, description = "What arrived", body = Received),
        (status = 400, description = "Malformed", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not for this role", body = ErrorBody),
    ),
    security(("token" = []), ("session" = [])))]
pub async fn received(
    State(state): State<TeamState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ReceivedQuery>,
) -> ApiResult<Json<Received>> {
    caller.require(SUBMITTERS, "pushing")?;
    if q.origin.is_empty() || q.origin.len() > 1024 {
        return Err(ApiError::bad_request("origin: 1 to 1024 bytes"));
    }
    let key = caller.principal.key.clone();
    state
        .read(move |vault| {
            let indices = received_from(vault, &key, &q.origin)?.into_keys().collect();
            Ok(Json(Received {
                origin: q.origin,
                indices,
            }))
        })
        .await
}

/// The request for `bundle` (what `guwah push` sends).
pub fn request_json(bundle: &PushBundle) -> serde_json::Value {
    serde_json::json!({
        "vkey": bundle.vkey,
        "checkpoint": bundle.checkpoint,
        "record": STANDARD.encode(&bundle.record),
        "index": bundle.index,
        "proof": bundle.proof,
        "fields": bundle.fields,
    })
}
