//! `POST /api/exports`: an evidence package (BagIt, zipped) streamed to the
//! coordinator as it is written, like `guwah export --zip`. Nothing of it
//! touches the server's disk; each item's `exported` event names the
//! account and is sealed before the first byte.

use std::io::{self, Read, Write};
use std::sync::{Arc, Mutex};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::Response;
use guwah_core::bag::FileDigest;
use guwah_package::BagWriter;
use guwah_vault::{ExportOptions, Lang, PackageSink, Role};
use serde::Deserialize;
use utoipa::ToSchema;

use super::auth::Caller;
use super::error::{ApiError, ApiResult, ErrorBody};
use super::items::check_id;
use super::json::JsonBody;
use super::state::TeamState;

/// What to export.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// Item ids (8 to 64 hex digits each).
    #[serde(default)]
    pub ids: Vec<String>,
    /// Also every item with one of these tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Field names to leave out of items and events (e.g. `gps.latitude`).
    #[serde(default)]
    pub withhold: Vec<String>,
    /// Who the package is for, sealed in each `exported` event.
    pub recipient: Option<String>,
    /// Why, sealed in each `exported` event.
    pub reason: Option<String>,
    /// Language of REPORT.html: `en` (default) or `fr`.
    pub lang: Option<String>,
}

/// The bag writer, seen by the vault as a [`PackageSink`].
struct Sink(BagWriter);

impl PackageSink for Sink {
    fn add_payload(&mut self, path: &str, reader: &mut dyn Read) -> io::Result<FileDigest> {
        let rel = path.strip_prefix("data/").unwrap_or(path);
        self.0.add_payload(rel, reader).map_err(io::Error::other)
    }
    fn add_tag_file(&mut self, path: &str, bytes: &[u8]) -> io::Result<()> {
        self.0
            .add_tag_file(path, bytes.to_vec())
            .map_err(io::Error::other)
    }
}

/// Bytes written on a blocking thread, sent to the response body in
/// 256 KiB pieces with back-pressure.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<io::Result<bytes::Bytes>>,
    buf: Vec<u8>,
    /// Told at the first byte: the events are sealed by then.
    started: Started,
}

/// Says once whether the export got under way.
type Started = Arc<Mutex<Option<tokio::sync::oneshot::Sender<Result<(), ApiError>>>>>;

fn tell(started: &Started, outcome: Result<(), ApiError>) {
    if let Some(s) = started.lock().unwrap_or_else(|p| p.into_inner()).take() {
        let _ = s.send(outcome);
    }
}

const PIECE: usize = 256 * 1024;

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        tell(&self.started, Ok(()));
        self.buf.extend_from_slice(data);
        if self.buf.len() >= PIECE {
            self.flush()?;
        }
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let piece = bytes::Bytes::from(std::mem::take(&mut self.buf));
        self.tx
            .blocking_send(Ok(piece))
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the client went away"))
    }
}

/// Export items as an evidence package (a zip), streamed.
#[utoipa::path(post, path = "/api/exports", tag = "exports",
    request_body = ExportRequest,
    responses(
        (status = 200, description = "The package, a BagIt zip", content_type = "application/zip", body = Vec<u8>),
        (status = 400, description = "Malformed", body = ErrorBody),
        (status = 401, description = "Not signed in", body = ErrorBody),
        (status = 403, description = "Coordinators only, or no CSRF token", body = ErrorBody),
        (status = 404, description = "An item that does not exist", body = ErrorBody),
        (status = 413, description = "Body too large", body = ErrorBody),
        (status = 415, description = "Not JSON", body = ErrorBody),
        (status = 422, description = "Nothing to export, or a bad field name", body = ErrorBody),
    ),
    security(("token" = []), ("session" = [])))]
pub async fn export(
    State(state): State<TeamState>,
    caller: Caller,
    body: JsonBody,
) -> ApiResult<Response> {
    caller.require(&[Role::Coordinator], "exporting")?;
    let req: ExportRequest = body.parse()?;
    if req.ids.is_empty() && req.tags.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "export: name item ids, or tags",
        ));
    }
    if req.ids.len() + req.tags.len() + req.withhold.len() > 10_000 {
        return Err(ApiError::bad_request(
            "export: at most 10000 ids, tags and fields",
        ));
    }
    for id in &req.ids {
        check_id(id)?;
    }
    let lang = match req.lang.as_deref() {
        None => Lang::default(),
        Some(l) => Lang::parse(l).ok_or_else(|| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                format!("lang {l:?}: use en or fr"),
            )
        })?,
    };
    // Everything that can be refused is refused before the answer starts.
    let ids = req.ids.clone();
    let ids = state
        .read(move |vault| {
            ids.iter()
                .map(|id| Ok(vault.item_id(id)?))
                .collect::<ApiResult<Vec<String>>>()
        })
        .await?;
    let account = caller.principal.name.clone();
    let (tx, rx) = tokio::sync::mpsc::channel::<io::Result<bytes::Bytes>>(4);
    let (started_tx, started_rx) = tokio::sync::oneshot::channel::<Result<(), ApiError>>();
    let vault = state.vault.clone();
    tokio::task::spawn_blocking(move || {
        // Built here: the options are not `Send` (their transports).
        let opts = ExportOptions {
            ids,
            tags: req.tags,
            withhold: req.withhold,
            recipient: req.recipient,
            reason: req.reason,
            output: "package zip".into(),
            lang,
            account: Some(account),
            ..ExportOptions::default()
        };
        let started: Started = Arc::new(Mutex::new(Some(started_tx)));
        let out = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(PIECE),
            started: started.clone(),
        };
        let result = (|| -> Result<(), String> {
            let writer =
                BagWriter::stream_zip(Box::new(out), "package").map_err(|e| e.to_string())?;
            let mut sink = Sink(writer);
            // The vault's writer is held for the events only (not while the
            // package streams), so this runs beside the write gate and
            // waits its turn for the writer.
            let report =
                super::state::when_unlocked(|| vault.export(&opts, &mut sink, &mut |_| {}));
            let report = match report {
                Ok(r) => r,
                Err(e) => {
                    // Refused before the first byte: the status says it.
                    tell(&started, Err(ApiError::from(e)));
                    return Ok(());
                }
            };
            sink.0
                .add_tag_file("verify.html", guwah_web::verify_html().as_bytes().to_vec())
                .and_then(|_| sink.0.finish(&report.bag_info))
                .map(|_| ())
                .map_err(|e| e.to_string())
        })();
        tell(&started, Ok(()));
        if let Err(e) = result {
            eprintln!("guwah: streaming an export: {e}");
            let _ = tx.blocking_send(Err(io::Error::other(e)));
        }
    });
    // Wait for the events to be sealed (or refused) — the first byte
    // comes after them — before answering: an error then is still an
    // error status, not a cut zip.
    started_rx
        .await
        .map_err(|_| ApiError::internal("export task ended early"))??;
    let stream =
        futures_util::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|c| (c, rx)) });
    Response::builder()
        .status(StatusCode::OK)
        .header(header::CONTENT_TYPE, "application/zip")
        .header(
            header::CONTENT_DISPOSITION,
            HeaderValue::from_static("attachment; filename=\"package.zip\""),
        )
        .body(Body::from_stream(stream))
        .map_err(|e| ApiError::internal(format!("response: {e}")))
}
