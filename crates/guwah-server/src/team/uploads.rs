//! Submissions from the field: the tus 1.0 resumable upload protocol
//! (core, creation, checksum with sha256, termination, expiration) at
//! `/api/uploads`. Bytes wait in the spool, sealed chunk by chunk; the
//! last byte seals the upload into the vault as `guwah add` would, with
//! the account named in the record and a `received` event.

use std::collections::BTreeMap;
use std::io::{self, Read};

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures_util::StreamExt;
use guwah_vault::{AddOptions, Role, Submission, UploadState, Vault};

use super::auth::Caller;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::state::{TeamState, too_many};

/// The protocol version spoken.
pub const TUS_VERSION: &str = "1.0.0";
/// The extensions offered.
pub const TUS_EXTENSIONS: &str = "creation,checksum,termination,expiration";

/// Who may submit.
pub const SUBMITTERS: &[Role] = &[Role::Coordinator, Role::Collector];

/// The metadata key holding the submitting account's name (ours; a
/// client's keys are only those of [`submission`]).
const ACCOUNT_KEY: &str = "guwah.account";
/// The metadata key holding a push's verified fields (ours, too).
pub(crate) const PUSH_KEY: &str = "guwah.push";

/// What a verified push seals besides the bytes.
#[derive(serde::Serialize, serde::Deserialize)]
pub(crate) struct PushedFields {
    /// The item's fields, checked against the sender's commitments.
    pub fields: Vec<(String, String)>,
    /// The `received` event's `from-*` fields.
    pub received: Vec<(String, String)>,
}

fn tus_headers(resp: &mut Response) {
    let h = resp.headers_mut();
    h.insert("tus-resumable", HeaderValue::from_static(TUS_VERSION));
}

fn with_tus(e: ApiError) -> Response {
    let mut r = e.into_response();
    tus_headers(&mut r);
    r
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
}

/// 412 unless the client speaks tus 1.0.0.
fn check_version(headers: &HeaderMap) -> ApiResult<()> {
    match header_str(headers, "tus-resumable") {
        Some(TUS_VERSION) => Ok(()),
        _ => Err(ApiError::new(
            StatusCode::PRECONDITION_FAILED,
            "Tus-Resumable: this server speaks tus 1.0.0",
        )
        .with_header(
            HeaderName::from_static("tus-version"),
            HeaderValue::from_static(TUS_VERSION),
        )),
    }
}

fn parse_u64(headers: &HeaderMap, name: &str) -> ApiResult<u64> {
    let v = header_str(headers, name)
        .ok_or_else(|| ApiError::bad_request(format!("{name}: missing")))?;
    if v.is_empty() || v.len() > 20 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_request(format!(
            "{name}: must be a non-negative integer"
        )));
    }
    v.parse()
        .map_err(|_| ApiError::bad_request(format!("{name}: too large")))
}

/// `Upload-Metadata`: comma-separated `key base64(value)` pairs.
pub fn parse_metadata(v: &str) -> ApiResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for pair in v.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = pair.split_once(' ').unwrap_or((pair, ""));
        if key.is_empty()
            || key.len() > 64
            || !key.bytes().all(|b| b.is_ascii_graphic() && b != b',')
        {
            return Err(ApiError::bad_request(
                "Upload-Metadata: a key is empty, too long or not printable ASCII",
            ));
        }
        let bytes = STANDARD.decode(value.trim()).map_err(|_| {
            ApiError::bad_request(format!("Upload-Metadata: the value of {key} is not base64"))
        })?;
        let text = String::from_utf8(bytes).map_err(|_| {
            ApiError::bad_request(format!("Upload-Metadata: the value of {key} is not UTF-8"))
        })?;
        if out.insert(key.to_owned(), text).is_some() {
            return Err(ApiError::bad_request(format!(
                "Upload-Metadata: {key} appears twice"
            )));
        }
    }
    Ok(out)
}

/// What an upload's metadata says, as a submission. Keys: `filename` (or
/// `name`, as some clients send), `note`, `tags` (comma- or line-
/// separated), `source`, `captured-at` (RFC 3339), `sha256` (hex, of the
/// whole file); `filetype` and `type` are accepted and ignored (the vault
/// sniffs the type from the bytes).
pub fn submission(meta: &BTreeMap<String, String>) -> ApiResult<Submission> {
    let mut sub = Submission {
        via: "upload",
        ..Submission::default()
    };
    let mut opts = AddOptions::default();
    for (k, v) in meta {
        match k.as_str() {
            "filename" | "name" => sub.filename = Some(v.clone()),
            "note" => opts.note = Some(v.clone()),
            "source" => opts.source = Some(v.clone()),
            "captured-at" => opts.captured_at = Some(v.clone()),
            "tags" => {
                opts.tags = v
                    .split([',', '\n'])
                    .map(str::trim)
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned)
                    .collect()
            }
            "sha256" => {
                let mut want = [0u8; 32];
                if v.len() != 64 || hex_decode(v, &mut want).is_none() {
                    return Err(ApiError::bad_request(
                        "Upload-Metadata: sha256 must be 64 hex digits",
                    ));
                }
                sub.expected_sha256 = Some(want);
            }
            "filetype" | "type" | ACCOUNT_KEY => {}
            PUSH_KEY => {
                let push: PushedFields = serde_json::from_str(v).map_err(|e| {
                    ApiError::internal(format!("a push upload's own metadata: {e}"))
                })?;
                sub.via = "push";
                if sub.filename.is_none() {
                    sub.filename = push
                        .fields
                        .iter()
                        .find(|(n, _)| n == "filename")
                        .map(|(_, v)| v.clone());
                }
                sub.fields = push.fields;
                sub.received = push.received;
            }
            other => {
                return Err(ApiError::bad_request(format!(
                    "Upload-Metadata: unknown key {other:?} (known: filename, note, tags, source, captured-at, sha256)"
                )));
            }
        }
    }
    sub.options = opts;
    sub.check()
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, e.to_string()))?;
    Ok(sub)
}

fn hex_decode(s: &str, out: &mut [u8; 32]) -> Option<()> {
    let b = s.as_bytes();
    for (i, o) in out.iter_mut().enumerate() {
        let hi = (b.get(2 * i)?.to_ascii_lowercase() as char).to_digit(16)?;
        let lo = (b.get(2 * i + 1)?.to_ascii_lowercase() as char).to_digit(16)?;
        *o = (hi * 16 + lo) as u8;
    }
    Some(())
}

fn http_date(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::macros::format_description!(
                "[weekday repr:short], [day] [month repr:short] [year] [hour]:[minute]:[second] GMT"
            ))
            .ok()
        })
        .unwrap_or_default()
}

/// The upload once no other request writes to it, if it is the caller's
/// (others' do not exist for them).
async fn owned(state: &TeamState, caller: &Caller, id: &str) -> ApiResult<UploadState> {
    let (spool, i) = (state.spool.clone(), id.to_owned());
    let up = tokio::task::spawn_blocking(move || spool.settled(&i)).await??;
    if up.owner != caller.principal.key {
        return Err(ApiError::not_found(format!("upload {id}: not found")));
    }
    if up.expires_at <= guwah_vault::unix_now() {
        return Err(ApiError::new(
            StatusCode::GONE,
            format!("upload {id}: expired"),
        ));
    }
    Ok(up)
}

fn offset_headers(resp: &mut Response, up: &UploadState) {
    let h = resp.headers_mut();
    h.insert("upload-offset", HeaderValue::from(up.offset));
    h.insert("upload-length", HeaderValue::from(up.length));
    if let Ok(v) = HeaderValue::from_str(&http_date(up.expires_at)) {
        h.insert("upload-expires", v);
    }
    if let Some(item) = &up.item
        && let Ok(v) = HeaderValue::from_str(item)
    {
        h.insert("x-guwah-item", v);
    }
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
}

/// What the server supports (tus discovery); needs no account.
#[utoipa::path(options, path = "/api/uploads", tag = "uploads",
    responses((status = 204, description = "tus capabilities in the Tus-* headers")))]
pub async fn options(State(state): State<TeamState>) -> Response {
    let mut r = StatusCode::NO_CONTENT.into_response();
    tus_headers(&mut r);
    let h = r.headers_mut();
    h.insert("tus-version", HeaderValue::from_static(TUS_VERSION));
    h.insert("tus-extension", HeaderValue::from_static(TUS_EXTENSIONS));
    h.insert(
        "tus-max-size",
        HeaderValue::from(state.config.max_upload_bytes),
    );
    h.insert("tus-checksum-algorithm", HeaderValue::from_static("sha256"));
    r
}

/// Start an upload (tus creation): `Upload-Length` and `Upload-Metadata`.
#[utoipa::path(post, path = "/api/uploads", tag = "uploads",
    params(
        ("Tus-Resumable" = String, Header, description = "1.0.0"),
        ("Upload-Length" = u64, Header, description = "The file's size in bytes"),
        ("Upload-Metadata" = Option<String>, Header, description = "key base64(value) pairs: filename, note, tags, source, captured-at, sha256"),
    ),
    responses(
        (status = 201, description = "Created; Location names it"),
        (status = 400, description = "A bad header", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not for this role", body = ErrorBody),
        (status = 412, description = "Not tus 1.0.0", body = ErrorBody),
        (status = 413, description = "Larger than the server takes", body = ErrorBody),
        (status = 422, description = "Metadata the vault would refuse", body = ErrorBody),
        (status = 429, description = "Too many uploads", body = ErrorBody),
    ),
    security(("token" = []), ("session" = [])))]
pub async fn create(
    State(state): State<TeamState>,
    caller: Caller,
    headers: HeaderMap,
) -> Response {
    create_inner(state, caller, headers)
        .await
        .unwrap_or_else(with_tus)
}

async fn create_inner(state: TeamState, caller: Caller, headers: HeaderMap) -> ApiResult<Response> {
    caller.require(SUBMITTERS, "submitting")?;
    check_version(&headers)?;
    if headers.contains_key("upload-defer-length") {
        return Err(ApiError::bad_request(
            "Upload-Defer-Length: not supported; send Upload-Length",
        ));
    }
    let length = parse_u64(&headers, "upload-length")?;
    let max = state.config.max_upload_bytes;
    if length > max {
        return Err(ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Upload-Length: at most {max} bytes"),
        ));
    }
    let meta = match header_str(&headers, "upload-metadata") {
        Some(v) => parse_metadata(v)?,
        None => BTreeMap::new(),
    };
    if let Some(k) = meta.keys().find(|k| k.starts_with("guwah.")) {
        return Err(ApiError::bad_request(format!(
            "Upload-Metadata: {k}: keys starting with guwah. are the server's"
        )));
    }
    submission(&meta)?;
    let up = start_upload(&state, &caller, length, meta).await?;
    let mut r = StatusCode::CREATED.into_response();
    tus_headers(&mut r);
    offset_headers(&mut r, &up);
    r.headers_mut().insert(
        header::LOCATION,
        HeaderValue::from_str(&format!("/api/uploads/{}", up.id)).expect("hex"),
    );
    Ok(r)
}

/// Start an upload of `length` bytes for the caller, within the per-account
/// limits; `meta` is what sealing it will need.
pub(crate) async fn start_upload(
    state: &TeamState,
    caller: &Caller,
    length: u64,
    mut meta: BTreeMap<String, String>,
) -> ApiResult<UploadState> {
    let key = caller.principal.key.clone();
    if let Err(wait) = state.upload_creations.check(&key) {
        return Err(too_many("uploads started", wait));
    }
    meta.insert(ACCOUNT_KEY.into(), caller.principal.name.clone());
    let (spool, limit, expiry) = (
        state.spool.clone(),
        state.config.max_uploads_per_account,
        state.config.upload_expiry,
    );
    let up = tokio::task::spawn_blocking(move || -> ApiResult<UploadState> {
        let (count, _) = spool.usage_of(&key)?;
        if count >= limit {
            return Err(too_many_uploads(limit));
        }
        let now = guwah_vault::unix_now();
        let expires = now.saturating_add(i64::try_from(expiry.as_secs()).unwrap_or(i64::MAX));
        Ok(spool.create(length, &key, meta, now, expires)?)
    })
    .await??;
    state.upload_creations.record(&caller.principal.key);
    Ok(up)
}

fn too_many_uploads(limit: usize) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        format!("at most {limit} uploads in progress per account; finish or delete one"),
    )
}

/// How much of an upload has arrived (tus core).
#[utoipa::path(head, path = "/api/uploads/{id}", tag = "uploads",
    params(("id" = String, Path, description = "Upload id"),
        ("Tus-Resumable" = String, Header, description = "1.0.0")),
    responses(
        (status = 200, description = "Upload-Offset and Upload-Length say how far it is"),
        (status = 401, description = "Not signed in"),
        (status = 404, description = "No such upload (for this account)"),
        (status = 410, description = "Expired"),
        (status = 412, description = "Not tus 1.0.0"),
    ),
    security(("token" = []), ("session" = [])))]
pub async fn head(
    State(state): State<TeamState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let answer = async {
        caller.require(SUBMITTERS, "submitting")?;
        check_version(&headers)?;
        let mut up = owned(&state, &caller, &id).await?;
        if up.is_complete() && up.item.is_none() {
            // Every byte arrived but the client left before the answer:
            // seal it now, so "complete" always means "sealed".
            up = seal(&state, up).await?;
        }
        let mut r = StatusCode::OK.into_response();
        tus_headers(&mut r);
        offset_headers(&mut r, &up);
        Ok::<_, ApiError>(r)
    };
    // A HEAD answer has no body: the status and headers say it all.
    let mut r = answer.await.unwrap_or_else(with_tus);
    *r.body_mut() = Body::empty();
    r
}

/// Bytes of the request body for a blocking reader, each piece within the
/// idle timeout.
struct ChannelReader {
    rx: tokio::sync::mpsc::Receiver<io::Result<bytes::Bytes>>,
    piece: bytes::Bytes,
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.piece.is_empty() {
            match self.rx.blocking_recv() {
                None => return Ok(0),
                Some(Ok(p)) => self.piece = p,
                Some(Err(e)) => return Err(e),
            }
        }
        let n = out.len().min(self.piece.len());
        out[..n].copy_from_slice(&self.piece[..n]);
        let _ = self.piece.split_to(n);
        Ok(n)
    }
}

fn parse_checksum(headers: &HeaderMap) -> ApiResult<Option<[u8; 32]>> {
    let Some(v) = header_str(headers, "upload-checksum") else {
        return Ok(None);
    };
    let (algo, value) = v
        .split_once(' ')
        .ok_or_else(|| ApiError::bad_request("Upload-Checksum: must be `sha256 <base64>`"))?;
    if algo != "sha256" {
        return Err(ApiError::bad_request(format!(
            "Upload-Checksum: algorithm {algo:?} not supported (sha256 is)"
        )));
    }
    let digest = STANDARD
        .decode(value.trim())
        .ok()
        .and_then(|d| <[u8; 32]>::try_from(d).ok())
        .ok_or_else(|| ApiError::bad_request("Upload-Checksum: not a base64 SHA-256"))?;
    Ok(Some(digest))
}

/// Append bytes at `Upload-Offset` (tus core; `Upload-Checksum: sha256`
/// checks this request's bytes). The last byte seals the upload; the
/// answer then names the item in `X-Guwah-Item`.
#[utoipa::path(patch, path = "/api/uploads/{id}", tag = "uploads",
    params(("id" = String, Path, description = "Upload id"),
        ("Tus-Resumable" = String, Header, description = "1.0.0"),
        ("Upload-Offset" = u64, Header, description = "Where these bytes start"),
        ("Upload-Checksum" = Option<String>, Header, description = "sha256 <base64> of this request's bytes")),
    request_body(content = Vec<u8>, content_type = "application/offset+octet-stream"),
    responses(
        (status = 204, description = "Stored; Upload-Offset says how far"),
        (status = 400, description = "A bad header", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not for this role, or no CSRF token", body = ErrorBody),
        (status = 404, description = "No such upload", body = ErrorBody),
        (status = 409, description = "Upload-Offset is not where the upload stands", body = ErrorBody),
        (status = 410, description = "Expired", body = ErrorBody),
        (status = 412, description = "Not tus 1.0.0", body = ErrorBody),
        (status = 413, description = "More bytes than Upload-Length", body = ErrorBody),
        (status = 415, description = "Not application/offset+octet-stream", body = ErrorBody),
        (status = 422, description = "The whole file does not match its sha256", body = ErrorBody),
        (status = 423, description = "Another request is writing to it", body = ErrorBody),
        (status = 460, description = "This request's bytes do not match Upload-Checksum", body = ErrorBody),
    ),
    security(("token" = []), ("session" = [])))]
pub async fn patch(
    State(state): State<TeamState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    patch_inner(state, caller, id, headers, body)
        .await
        .unwrap_or_else(with_tus)
}

async fn patch_inner(
    state: TeamState,
    caller: Caller,
    id: String,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    caller.require(SUBMITTERS, "submitting")?;
    check_version(&headers)?;
    if header_str(&headers, "content-type") != Some("application/offset+octet-stream") {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "Content-Type: must be application/offset+octet-stream",
        ));
    }
    let offset = parse_u64(&headers, "upload-offset")?;
    let checksum = parse_checksum(&headers)?;
    let up = owned(&state, &caller, &id).await?;
    if offset != up.offset {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!(
                "Upload-Offset: {offset} given, but {} bytes have arrived; HEAD tells where to resume",
                up.offset
            ),
        ));
    }
    let up = if up.is_complete() {
        up
    } else {
        let (tx, rx) = tokio::sync::mpsc::channel(4);
        let idle = state.config.upload_idle_timeout;
        tokio::spawn(async move {
            let mut stream = body.into_data_stream();
            loop {
                let next = tokio::time::timeout(idle, stream.next()).await;
                let piece = match next {
                    Err(_) => Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!("no bytes for {} s", idle.as_secs()),
                    )),
                    Ok(None) => break,
                    Ok(Some(Ok(b))) => Ok(b),
                    Ok(Some(Err(e))) => Err(io::Error::other(e.to_string())),
                };
                let failed = piece.is_err();
                if tx.send(piece).await.is_err() || failed {
                    break;
                }
            }
        });
        let spool = state.spool.clone();
        let appended = tokio::task::spawn_blocking(move || {
            spool.append(
                &id,
                offset,
                ChannelReader {
                    rx,
                    piece: bytes::Bytes::new(),
                },
                checksum,
            )
        })
        .await??;
        if let Some(e) = appended.interrupted {
            // The client is gone or stalled: what arrived is kept.
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                format!(
                    "the body ended early ({e}); {} bytes are kept, resume from there",
                    appended.state.offset
                ),
            ));
        }
        appended.state
    };
    let up = if up.is_complete() && up.item.is_none() {
        seal(&state, up).await?
    } else {
        up
    };
    let mut r = StatusCode::NO_CONTENT.into_response();
    tus_headers(&mut r);
    offset_headers(&mut r, &up);
    Ok(r)
}

/// Seal a complete upload into the vault and mark it sealed; an upload
/// the vault refuses (its bytes do not match its `sha256`) is removed.
///
/// The sealing runs as a task of its own: a client that goes away after
/// its last byte (a closed tab, a reload) does not stop it halfway, and
/// the next `HEAD` finds the item.
pub async fn seal(state: &TeamState, up: UploadState) -> ApiResult<UploadState> {
    let state = state.clone();
    tokio::spawn(async move {
        let spool = state.spool.clone();
        state
            .write(move |vault| seal_blocking(vault, &spool, &up))
            .await
    })
    .await
    .map_err(|e| ApiError::internal(format!("sealing an upload: {e}")))?
}

fn seal_blocking(
    vault: &Vault,
    spool: &guwah_vault::Spool,
    up: &UploadState,
) -> ApiResult<UploadState> {
    // Writes run one at a time: an upload sealed by an earlier request
    // (or the sweep) since `up` was read is sealed once, not twice.
    let now = spool.state(&up.id)?;
    if now.item.is_some() {
        return Ok(now);
    }
    let sub = submission(&up.metadata)?;
    let name = up.metadata.get(ACCOUNT_KEY).cloned().unwrap_or_default();
    // Written as the vault's blob while it arrived: kept as it is.
    let added = match spool.sealed_blob(&up.id)? {
        Some(file) => vault.add_submission_sealed(&file, up.length, &sub, &name, &up.owner),
        None => {
            let reader = spool.reader(&up.id)?;
            vault.add_submission(reader, up.length, &sub, &name, &up.owner)
        }
    };
    match added {
        Ok(item) => Ok(spool.mark_sealed(&up.id, &item.id)?),
        Err(e @ guwah_vault::VaultError::BadInput { .. }) => {
            spool.remove(&up.id)?;
            Err(ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                e.to_string(),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// Seal every complete upload left unsealed (run at start and with the
/// expiry sweep).
pub fn seal_pending(vault: &Vault, spool: &guwah_vault::Spool) -> usize {
    let mut sealed = 0;
    for up in spool.pending().unwrap_or_default() {
        match seal_blocking(vault, spool, &up) {
            Ok(_) => sealed += 1,
            Err(e) => eprintln!("guwah: sealing upload {}: {}", &up.id[..16], e.message),
        }
    }
    sealed
}

/// Stop an upload and drop its bytes (tus termination).
#[utoipa::path(delete, path = "/api/uploads/{id}", tag = "uploads",
    params(("id" = String, Path, description = "Upload id"),
        ("Tus-Resumable" = String, Header, description = "1.0.0")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Not for this role, or no CSRF token", body = ErrorBody),
        (status = 404, description = "No such upload", body = ErrorBody),
        (status = 410, description = "Expired", body = ErrorBody),
        (status = 412, description = "Not tus 1.0.0", body = ErrorBody),
        (status = 423, description = "Another request is writing to it", body = ErrorBody),
    ),
    security(("token" = []), ("session" = [])))]
pub async fn delete(
    State(state): State<TeamState>,
    caller: Caller,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let answer = async {
        caller.require(SUBMITTERS, "submitting")?;
        check_version(&headers)?;
        owned(&state, &caller, &id).await?;
        let spool = state.spool.clone();
        tokio::task::spawn_blocking(move || spool.remove(&id)).await??;
        let mut r = StatusCode::NO_CONTENT.into_response();
        tus_headers(&mut r);
        Ok::<_, ApiError>(r)
    };
    answer.await.unwrap_or_else(with_tus)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metadata_parses_and_refuses() {
        let m = parse_metadata("filename d29ybGRfZG9taW5hdGlvbl9wbGFuLnBkZg==,is_confidential")
            .unwrap();
        assert_eq!(m["filename"], "world_domination_plan.pdf");
        assert_eq!(m["is_confidential"], "");
        assert!(parse_metadata("a !!!").is_err());
        assert!(parse_metadata("a YQ==,a YQ==").is_err());
        let sub = submission(&parse_metadata("filename YS5qcGc=,tags eCwgeQ==").unwrap()).unwrap();
        assert_eq!(sub.options.tags, ["x", "y"]);
        assert!(submission(&parse_metadata("sha256 eHg=").unwrap()).is_err());
        assert!(submission(&parse_metadata("captured-at eWVzdGVyZGF5").unwrap()).is_err());
        assert!(submission(&parse_metadata("colour cmVk").unwrap()).is_err());
    }

    #[test]
    fn dates_are_http_dates() {
        assert_eq!(http_date(0), "Thu, 01 Jan 1970 00:00:00 GMT");
    }
}
