//! Items as each role may see them: `GET /api/items`, `GET
//! /api/items/{id}`, `GET /api/items/{id}/original` and `POST
//! /api/items/{id}/annotations`.

use std::collections::HashSet;
use std::io::{Read, Seek, SeekFrom};

use axum::Json;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use guwah_vault::{CustodyEntry, FieldValue, Role, Vault};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::auth::Caller;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::json::JsonBody;
use super::query::ApiQuery;
use super::sensitive::is_sensitive;
use super::state::TeamState;

/// Filters and paging of `GET /api/items`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ItemQuery {
    /// Words to search for in the file name, tags and note: each must
    /// match, as written, by its stem (English, French), as the start of
    /// a Uyghur word, or (Chinese) by all its character pairs. With words,
    /// the items come best first; without, in log order.
    pub text: Option<String>,
    /// A tag the item carries.
    pub tag: Option<String>,
    /// A media type (`image/jpeg`) or its top level (`image`).
    pub media_type: Option<String>,
    /// The account that submitted it (not for viewers).
    pub collector: Option<String>,
    /// Sealed on or after this date (`YYYY-MM-DD` or RFC 3339 UTC).
    pub from: Option<String>,
    /// Sealed on or before this date (`YYYY-MM-DD` or RFC 3339 UTC).
    pub to: Option<String>,
    /// Items to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<u64>,
    /// Items per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
}

/// One item in a list.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemOut {
    /// The item id (hex leaf hash of its record).
    pub id: String,
    /// Its index in the log.
    pub leaf_index: u64,
    /// SHA-256 of the original, hex.
    pub sha256: String,
    /// Sealed media type.
    pub media_type: String,
    /// Size in bytes.
    pub size: u64,
    /// When it was sealed (RFC 3339 UTC).
    pub sealed_at: String,
    /// Its file name, if known.
    pub filename: Option<String>,
    /// Its tags.
    pub tags: Vec<String>,
    /// The account that submitted it, if one did (never for viewers).
    pub submitted_by: Option<String>,
}

/// A page of items.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemPage {
    /// The items: best first for a search, else in log order.
    pub items: Vec<ItemOut>,
    /// How many match in all.
    pub total: u64,
    /// Skipped.
    pub offset: u64,
    /// Page size.
    pub limit: u64,
}

/// A field as the caller may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct FieldOut {
    /// Field name.
    pub name: String,
    /// Its value; `null` when withheld from this role or not held.
    pub value: Option<String>,
    /// The commitment sealed in the record (base64): anyone later given
    /// the value and its salt can check it.
    pub commitment: String,
    /// Whether the value held reproduces the commitment.
    pub matches: bool,
    /// Withheld from this role (a sensitive field and a viewer).
    pub withheld: bool,
}

/// One step of the custody history.
#[derive(Debug, Serialize, ToSchema)]
pub struct CustodyOut {
    /// Its index in the log.
    pub leaf_index: u64,
    /// `added`, or the event's action.
    pub action: String,
    /// When (RFC 3339 UTC).
    pub at: String,
    /// The signing key, base64.
    pub actor: String,
    /// Its details.
    pub fields: Vec<FieldOut>,
}

/// How an item can be checked without trusting this server.
#[derive(Debug, Serialize, ToSchema)]
pub struct Verification {
    /// Every field value held reproduces its sealed commitment.
    pub fields_match: bool,
    /// The signed checkpoint (C2SP signed note) the proof is against.
    pub checkpoint: String,
    /// RFC 9162 inclusion proof of the item's record.
    pub inclusion: InclusionOut,
}

/// An RFC 9162 inclusion proof.
#[derive(Debug, Serialize, ToSchema)]
pub struct InclusionOut {
    /// Index of the leaf.
    pub leaf_index: u64,
    /// Size of the tree.
    pub tree_size: u64,
    /// The leaf hash, base64.
    pub leaf_hash: String,
    /// The audit path, base64.
    pub hashes: Vec<String>,
}

/// One item, as the caller's role may see it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ItemDetail {
    /// The item id.
    pub id: String,
    /// Its index in the log.
    pub leaf_index: u64,
    /// SHA-256 of the original, hex.
    pub sha256: String,
    /// Size in bytes.
    pub size: u64,
    /// Sealed media type.
    pub media_type: String,
    /// When sealed (RFC 3339 UTC).
    pub sealed_at: String,
    /// The collector's signing key, base64.
    pub collector: String,
    /// Metadata fields.
    pub fields: Vec<FieldOut>,
    /// Custody history, oldest first.
    pub custody: Vec<CustodyOut>,
    /// What lets a stranger check it.
    pub verification: Verification,
}

/// A note to add.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnnotationRequest {
    /// The note, 1 byte to 16 KiB.
    pub note: String,
}

/// A sealed annotation.
#[derive(Serialize, ToSchema)]
pub struct AnnotationOut {
    /// The `annotated` event's index in the log.
    pub leaf_index: u64,
}

/// An item id or prefix from a path: 8 to 64 lowercase hex digits.
pub fn check_id(id: &str) -> ApiResult<()> {
    if (8..=64).contains(&id.len()) && id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        Ok(())
    } else {
        Err(ApiError::bad_request(
            "item id: must be 8 to 64 lowercase hex digits",
        ))
    }
}

/// The full id of `id`, if the caller may see that item (collectors see
/// only their own submissions; to others they do not exist).
pub fn visible_id(vault: &Vault, caller: &Caller, id: &str) -> ApiResult<String> {
    let full = vault.item_id(id)?;
    if caller.role() == Role::Collector && !vault.submitted(&full, &caller.principal.key)? {
        return Err(ApiError::not_found(format!("no item {id}")));
    }
    Ok(full)
}

fn date_bound(s: &str, what: &str) -> ApiResult<String> {
    let b = s.as_bytes();
    let date_ok = b.len() >= 10
        && b[..10].iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    let rest_ok = b.len() == 10
        || (b.len() == 20 && b[10] == b'T' && b[19] == b'Z')
        || (b.len() > 20 && b[10] == b'T' && s.ends_with('Z') && b.len() <= 35);
    if date_ok && rest_ok {
        Ok(s.to_owned())
    } else {
        Err(ApiError::bad_request(format!(
            "{what}: must be YYYY-MM-DD or an RFC 3339 UTC time ending in Z"
        )))
    }
}

fn field_out(f: FieldValue, hide: bool) -> FieldOut {
    let withheld = hide && is_sensitive(&f.name);
    FieldOut {
        value: if withheld { None } else { f.value },
        name: f.name,
        commitment: f.commitment,
        matches: f.matches,
        withheld,
    }
}

/// The items the caller may see, filtered and paged.
#[utoipa::path(get, path = "/api/items", tag = "items",
    params(ItemQuery),
    responses(
        (status = 200, description = "A page of items", body = ItemPage),
        (status = 400, description = "A bad filter", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not for this role", body = ErrorBody),
    ),
    security(("token" = []), ("session" = [])))]
pub async fn list(
    State(state): State<TeamState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<ItemQuery>,
) -> ApiResult<Json<ItemPage>> {
    list_for(&state, caller, q).await.map(Json)
}

/// The page of items `q` asks for, as `caller` may see them: the API's
/// list and the web page's.
pub(super) async fn list_for(
    state: &TeamState,
    caller: Caller,
    q: ItemQuery,
) -> ApiResult<ItemPage> {
    caller.require(
        &[
            Role::Coordinator,
            Role::Reviewer,
            Role::Viewer,
            Role::Collector,
        ],
        "listing items",
    )?;
    let hide = caller.role() == Role::Viewer;
    if hide && q.collector.is_some() {
        return Err(ApiError::forbidden(
            "collector: viewers do not see who submitted an item",
        ));
    }
    let from = q
        .from
        .as_deref()
        .map(|s| date_bound(s, "from"))
        .transpose()?;
    let to = q.to.as_deref().map(|s| date_bound(s, "to")).transpose()?;
    let limit = q.limit.unwrap_or(50);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::bad_request("limit: must be 1 to 500"));
    }
    let offset = q.offset.unwrap_or(0);
    for (what, v) in [
        ("text", &q.text),
        ("tag", &q.tag),
        ("media_type", &q.media_type),
        ("collector", &q.collector),
    ] {
        if v.as_ref().is_some_and(|v| v.len() > 1024) {
            return Err(ApiError::bad_request(format!("{what}: at most 1024 bytes")));
        }
    }
    let words = q.text.clone().filter(|t| !t.trim().is_empty());
    let cache = state.item_cache();
    let search = state.search();
    state
        .read(move |vault| {
            let own: Option<HashSet<String>> = if caller.role() == Role::Collector {
                Some(
                    vault
                        .submissions_of(&caller.principal.key)?
                        .into_iter()
                        .collect(),
                )
            } else {
                None
            };
            let all = cache.get(vault)?;
            // Summaries are in log order: a leaf index finds its summary.
            let ranked: Vec<&guwah_vault::ItemSummary> = match &words {
                Some(text) => search
                    .find(text, &all)?
                    .into_iter()
                    .filter_map(|leaf| {
                        all.binary_search_by_key(&leaf, |it| it.leaf_index)
                            .ok()
                            .map(|i| &all[i])
                    })
                    .collect(),
                None => all.iter().collect(),
            };
            let matched: Vec<&guwah_vault::ItemSummary> = ranked
                .into_iter()
                .filter(|it| {
                    own.as_ref().is_none_or(|o| o.contains(&it.id))
                    && q.tag.as_ref().is_none_or(|t| it.tags.contains(t))
                    && q.media_type.as_ref().is_none_or(|m| {
                        it.media_type == *m
                            || it.media_type.split('/').next() == Some(m.as_str())
                    })
                    && q.collector.as_ref().is_none_or(|c| it.submitted_by.as_ref() == Some(c))
                    && from.as_ref().is_none_or(|f| it.sealed_at.as_str() >= f.as_str())
                    // A bare date bounds the whole day.
                    && to.as_ref().is_none_or(|t| {
                        let day = &it.sealed_at[..it.sealed_at.len().min(t.len())];
                        day <= t.as_str()
                    })
                })
                .collect();
            let total = matched.len() as u64;
            let items = matched
                .into_iter()
                .skip(usize::try_from(offset).unwrap_or(usize::MAX))
                .take(limit as usize)
                .map(|it| ItemOut {
                    id: it.id.clone(),
                    leaf_index: it.leaf_index,
                    sha256: it.sha256.clone(),
                    media_type: it.media_type.clone(),
                    size: it.size,
                    sealed_at: it.sealed_at.clone(),
                    filename: it.filename.clone(),
                    tags: it.tags.clone(),
                    submitted_by: if hide { None } else { it.submitted_by.clone() },
                })
                .collect();
            Ok(ItemPage {
                items,
                total,
                offset,
                limit,
            })
        })
        .await
}

/// A full-text search and its paging.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SearchQuery {
    /// The words (see `text` of `GET /api/items`), at most 1024 bytes.
    pub q: String,
    /// Items to skip (default 0).
    #[param(minimum = 0)]
    pub offset: Option<u64>,
    /// Items per page, 1 to 500 (default 50).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u64>,
}

/// Full-text search over file names, tags and notes in Uyghur, Chinese,
/// English and French: the items the caller may see, best first. The
/// same index as the web page's search.
#[utoipa::path(get, path = "/api/search", tag = "items",
    params(SearchQuery),
    responses(
        (status = 200, description = "The matching items, best first", body = ItemPage),
        (status = 400, description = "No words, or too long", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not for this role", body = ErrorBody),
    ),
    security(("token" = []), ("session" = [])))]
pub async fn search(
    State(state): State<TeamState>,
    caller: Caller,
    ApiQuery(q): ApiQuery<SearchQuery>,
) -> ApiResult<Json<ItemPage>> {
    if q.q.trim().is_empty() {
        return Err(ApiError::bad_request("q: give at least one word"));
    }
    let query = ItemQuery {
        text: Some(q.q),
        offset: q.offset,
        limit: q.limit,
        ..ItemQuery::default()
    };
    list_for(&state, caller, query).await.map(Json)
}

fn custody_out(c: CustodyEntry, hide: bool) -> CustodyOut {
    CustodyOut {
        leaf_index: c.leaf_index,
        action: c.action,
        at: c.at,
        actor: c.actor,
        fields: c.fields.into_iter().map(|f| field_out(f, hide)).collect(),
    }
}

/// One item: its fields and custody history as the caller's role may see
/// them, and what lets anyone check it.
#[utoipa::path(get, path = "/api/items/{id}", tag = "items",
    params(("id" = String, Path, description = "Item id (8 to 64 hex digits)")),
    responses(
        (status = 200, description = "The item", body = ItemDetail),
        (status = 400, description = "Not an item id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not for this role", body = ErrorBody),
        (status = 404, description = "No such item (for this caller)", body = ErrorBody),
    ),
    security(("token" = []), ("session" = [])))]
pub async fn show(
    State(state): State<TeamState>,
    caller: Caller,
    Path(id): Path<String>,
) -> ApiResult<Json<ItemDetail>> {
    detail_for(&state, caller, id).await.map(Json)
}

/// Item `id` as `caller`'s role may see it: the API's and the web page's.
pub(super) async fn detail_for(
    state: &TeamState,
    caller: Caller,
    id: String,
) -> ApiResult<ItemDetail> {
    caller.require(
        &[
            Role::Coordinator,
            Role::Reviewer,
            Role::Viewer,
            Role::Collector,
        ],
        "reading items",
    )?;
    check_id(&id)?;
    let cache = state.detail_cache();
    state
        .read(move |vault| {
            let full = visible_id(vault, &caller, &id)?;
            let cached = cache.get(vault, &full)?;
            let (d, proof, checkpoint) = &*cached;
            let (d, proof) = (d.clone(), proof.clone());
            let hide = caller.role() == Role::Viewer;
            let collector = caller.role() == Role::Collector;
            let me = caller.principal.name.clone();
            let fields_match = d.fields.iter().all(|f| f.matches);
            let custody = d
                .custody
                .into_iter()
                // A collector sees the item's sealing and their own
                // submissions of it, not what the team did with it.
                .filter(|c| {
                    !collector
                        || c.action == "added"
                        || (c.action == "received"
                            && c.fields.iter().any(|f| {
                                f.name == "account" && f.value.as_deref() == Some(me.as_str())
                            }))
                })
                .map(|c| custody_out(c, hide))
                .collect();
            Ok(ItemDetail {
                id: d.id,
                leaf_index: d.leaf_index,
                sha256: d.sha256,
                size: d.size,
                media_type: d.media_type,
                sealed_at: d.sealed_at,
                collector: d.collector,
                fields: d.fields.into_iter().map(|f| field_out(f, hide)).collect(),
                custody,
                verification: Verification {
                    fields_match,
                    checkpoint: String::from_utf8_lossy(checkpoint).into_owned(),
                    inclusion: InclusionOut {
                        leaf_index: proof.leaf_index,
                        tree_size: proof.tree_size,
                        leaf_hash: proof.leaf_hash,
                        hashes: proof.hashes,
                    },
                },
            })
        })
        .await
}

/// Media types served as themselves (a browser shows them, runs nothing);
/// everything else goes as `application/octet-stream`.
pub(super) fn passive_type(media_type: &str) -> &'static str {
    // Keep in step with the content types of `original`'s documentation.
    const PASSIVE: &[&str] = &[
        "image/jpeg",
        "image/png",
        "image/gif",
        "image/webp",
        "video/mp4",
        "video/webm",
        "video/quicktime",
        "audio/mpeg",
        "audio/mp4",
        "audio/ogg",
        "audio/wav",
        "audio/webm",
        "text/plain",
    ];
    PASSIVE
        .iter()
        .find(|p| **p == media_type)
        .copied()
        .unwrap_or("application/octet-stream")
}

/// `Content-Disposition: attachment` with the file name, ASCII-safe and
/// in RFC 8187 form.
fn disposition(filename: Option<&str>, id: &str) -> HeaderValue {
    let name = filename
        .and_then(|f| f.rsplit(['/', '\\']).next())
        .filter(|f| !f.is_empty())
        .map_or_else(|| format!("{}.bin", &id[..16]), str::to_owned);
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let encoded: String = name
        .bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"._-".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect();
    HeaderValue::from_str(&format!(
        "attachment; filename=\"{ascii}\"; filename*=UTF-8''{encoded}"
    ))
    .expect("ASCII")
}

/// A single byte range of `size`, or `Err(())` when unsatisfiable; `None`
/// for no (or a multi-range) `Range` header, which is answered whole.
fn byte_range(headers: &HeaderMap, size: u64) -> Result<Option<(u64, u64)>, ()> {
    match headers.get(header::RANGE).map(|v| v.to_str()) {
        None => Ok(None),
        Some(Ok(v)) => parse_range(v, size),
        Some(Err(_)) => Ok(None),
    }
}

/// A `Range` header value against an original of `size` bytes: one byte
/// range, inclusive (`Err` when unsatisfiable); `None` for anything else
/// (another unit, several ranges), which is answered whole.
#[allow(clippy::result_unit_err)]
pub fn parse_range(value: &str, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = value.trim().strip_prefix("bytes=") else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| -> Result<u64, ()> {
        if s.is_empty() || s.len() > 20 || !s.bytes().all(|c| c.is_ascii_digit()) {
            return Err(());
        }
        s.parse().map_err(|_| ())
    };
    let (start, end) = if a.is_empty() {
        let n = num(b)?;
        if n == 0 || size == 0 {
            return Err(());
        }
        (size.saturating_sub(n), size - 1)
    } else {
        let start = num(a)?;
        let end = if b.is_empty() {
            size.saturating_sub(1)
        } else {
            num(b)?.min(size.saturating_sub(1))
        };
        (start, end)
    };
    if start >= size || end < start {
        return Err(());
    }
    Ok(Some((start, end)))
}

/// The original bytes, streamed from the encrypted store, with range
/// requests. An `exported` custody event naming the account is sealed
/// before the first byte.
#[utoipa::path(get, path = "/api/items/{id}/original", tag = "items",
    params(("id" = String, Path, description = "Item id (8 to 64 hex digits)"),
        ("Range" = Option<String>, Header, description = "One byte range, e.g. bytes=0-1023")),
    responses(
        (status = 200, description = "The whole original: its sealed media type when passive, else application/octet-stream", content((Vec<u8> = "application/octet-stream"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/gif"), (Vec<u8> = "image/webp"), (Vec<u8> = "video/mp4"), (Vec<u8> = "video/webm"), (Vec<u8> = "video/quicktime"), (Vec<u8> = "audio/mpeg"), (Vec<u8> = "audio/mp4"), (Vec<u8> = "audio/ogg"), (Vec<u8> = "audio/wav"), (Vec<u8> = "audio/webm"), (Vec<u8> = "text/plain"))),
        (status = 206, description = "The range asked for", content((Vec<u8> = "application/octet-stream"), (Vec<u8> = "image/jpeg"), (Vec<u8> = "image/png"), (Vec<u8> = "image/gif"), (Vec<u8> = "image/webp"), (Vec<u8> = "video/mp4"), (Vec<u8> = "video/webm"), (Vec<u8> = "video/quicktime"), (Vec<u8> = "audio/mpeg"), (Vec<u8> = "audio/mp4"), (Vec<u8> = "audio/ogg"), (Vec<u8> = "audio/wav"), (Vec<u8> = "audio/webm"), (Vec<u8> = "text/plain"))),
        (status = 400, description = "Not an item id", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not for this role", body = ErrorBody),
        (status = 404, description = "No such item (for this caller)", body = ErrorBody),
        (status = 416, description = "The range is outside the original", body = ErrorBody),
    ),
    security(("token" = []), ("session" = [])))]
pub async fn original(
    State(state): State<TeamState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    _uri: Uri,
) -> ApiResult<Response> {
    caller.require(
        &[Role::Coordinator, Role::Reviewer, Role::Collector],
        "reading originals",
    )?;
    check_id(&id)?;
    let opened = state
        .write(move |vault| {
            let full = visible_id(vault, &caller, &id)?;
            Ok(vault.open_original(&full, &caller.principal.name)?)
        })
        .await?;
    ranged_answer(opened, &headers, true)
}

/// `opened`'s bytes as the answer to `headers`' `Range`: 200 whole or 206
/// one range, streamed from the encrypted store, 416 outside it. With
/// `download`, `Content-Disposition: attachment` and `X-Guwah-Sha256` too
/// (the API's originals; a page's player needs neither).
pub(super) fn ranged_answer(
    opened: guwah_vault::Original,
    headers: &HeaderMap,
    download: bool,
) -> ApiResult<Response> {
    let size = opened.size;
    let range = match byte_range(headers, size) {
        Ok(r) => r,
        Err(()) => {
            return Err(ApiError::new(
                StatusCode::RANGE_NOT_SATISFIABLE,
                format!("Range: the original holds {size} bytes"),
            )
            .with_header(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{size}")).expect("ASCII"),
            ));
        }
    };
    let (start, end) = range.unwrap_or((0, size.saturating_sub(1)));
    let length = if size == 0 { 0 } else { end - start + 1 };
    let mut resp = Response::builder()
        .status(if range.is_some() {
            StatusCode::PARTIAL_CONTENT
        } else {
            StatusCode::OK
        })
        .header(header::CONTENT_TYPE, passive_type(&opened.media_type))
        .header(header::ACCEPT_RANGES, "bytes")
        .header(header::CONTENT_LENGTH, length);
    if download {
        resp = resp
            .header(
                header::CONTENT_DISPOSITION,
                disposition(opened.filename.as_deref(), &opened.id),
            )
            .header("x-guwah-sha256", opened.sha256.as_str());
    }
    if range.is_some() {
        resp = resp.header(header::CONTENT_RANGE, format!("bytes {start}-{end}/{size}"));
    }
    let body = Body::from_stream(stream_reader(opened.reader, start, length));
    resp.body(body)
        .map_err(|e| ApiError::internal(format!("response: {e}")))
}

/// Reads `length` bytes from `start` on a blocking thread, 256 KiB at a
/// time, as a body stream with back-pressure (two chunks in flight).
fn stream_reader(
    mut reader: Box<dyn guwah_vault::ReadSeek + Send>,
    start: u64,
    length: u64,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<bytes::Bytes, std::io::Error>>(2);
    tokio::task::spawn_blocking(move || {
        if let Err(e) = reader.seek(SeekFrom::Start(start)) {
            let _ = tx.blocking_send(Err(e));
            return;
        }
        let mut left = length;
        while left > 0 {
            let want = usize::try_from(left.min(256 * 1024)).expect("at most 256 KiB");
            let mut buf = vec![0u8; want];
            match reader.read(&mut buf) {
                Ok(0) => {
                    let _ = tx.blocking_send(Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "original ended early",
                    )));
                    return;
                }
                Ok(n) => {
                    buf.truncate(n);
                    left -= n as u64;
                    if tx.blocking_send(Ok(bytes::Bytes::from(buf))).is_err() {
                        return; // the client went away
                    }
                }
                Err(e) => {
                    eprintln!("guwah: reading an original: {e}");
                    let _ = tx.blocking_send(Err(e));
                    return;
                }
            }
        }
    });
    futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) })
}

/// Add a note to an item, sealed as an `annotated` event naming the
/// account.
#[utoipa::path(post, path = "/api/items/{id}/annotations", tag = "items",
    params(("id" = String, Path, description = "Item id (8 to 64 hex digits)")),
    request_body = AnnotationRequest,
    responses(
        (status = 201, description = "Sealed", body = AnnotationOut),
        (status = 400, description = "Malformed", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not for this role, or no CSRF token", body = ErrorBody),
        (status = 404, description = "No such item", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Empty or too long a note", body = ErrorBody),
    ),
    security(("token" = []), ("session" = [])))]
pub async fn annotate(
    State(state): State<TeamState>,
    caller: Caller,
    Path(id): Path<String>,
    body: JsonBody,
) -> ApiResult<Response> {
    caller.require(&[Role::Coordinator, Role::Reviewer], "annotating")?;
    let req: AnnotationRequest = body.parse()?;
    check_id(&id)?;
    let leaf_index = state
        .write(move |vault| {
            let full = visible_id(vault, &caller, &id)?;
            Ok(vault.annotate_for(&full, &req.note, &caller.principal.name)?)
        })
        .await?;
    Ok((StatusCode::CREATED, Json(AnnotationOut { leaf_index })).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(v: &str, size: u64) -> Result<Option<(u64, u64)>, ()> {
        let mut h = HeaderMap::new();
        h.insert(header::RANGE, HeaderValue::from_str(v).unwrap());
        byte_range(&h, size)
    }

    #[test]
    fn ranges() {
        assert_eq!(range("bytes=0-9", 100), Ok(Some((0, 9))));
        assert_eq!(range("bytes=90-", 100), Ok(Some((90, 99))));
        assert_eq!(range("bytes=-10", 100), Ok(Some((90, 99))));
        assert_eq!(range("bytes=50-500", 100), Ok(Some((50, 99))));
        assert_eq!(range("bytes=100-", 100), Err(()));
        assert_eq!(range("bytes=9-1", 100), Err(()));
        assert_eq!(range("bytes=x-1", 100), Err(()));
        assert_eq!(range("bytes=0-1,5-6", 100), Ok(None));
        assert_eq!(range("items=0-1", 100), Ok(None));
    }

    #[test]
    fn file_names_cannot_break_the_header() {
        let d = disposition(Some("../a\"b;\r\nc ئا.jpg"), &"a".repeat(64));
        let s = d.to_str().unwrap();
        assert!(
            s.starts_with(
                "attachment; filename=\"a_b___c___.jpg\"; filename*=UTF-8''a%22b%3B%0D%0Ac%20"
            ),
            "{s}"
        );
        assert!(passive_type("text/html") == "application/octet-stream");
        assert!(passive_type("image/svg+xml") == "application/octet-stream");
    }
}
