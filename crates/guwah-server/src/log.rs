//! `guwah log serve`: a vault's log folder as static C2SP tlog-tiles.
//!
//! `/checkpoint`, `/tile/<L>/<N>[.p/<W>]` and `/tile/entries/<N>[.p/<W>]`,
//! read-only, and only what the committed checkpoint covers (tiles being
//! staged by a writer are never served). The file path is re-rendered from
//! the parsed coordinates, so nothing outside the log folder can be named.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use guwah_core::checkpoint::Checkpoint;
use guwah_core::note;
use guwah_core::tiles::{EntryBundleId, TILE_WIDTH, TileId};

use crate::error::{AppError, TEXT};

/// Cache-Control of full tiles and bundles: their paths never change content.
pub const IMMUTABLE: &str = "public, max-age=31536000, immutable";
/// Cache-Control of partial tiles and bundles: immutable too, but superseded by wider ones.
pub const PARTIAL: &str = "public, max-age=3600, immutable";
/// Cache-Control of the checkpoint, which changes with every commit.
pub const CHECKPOINT: &str = "no-store";

/// The router serving the log folder `dir` (`VAULT/log`).
pub fn router(dir: PathBuf) -> Router {
    Router::new().fallback(answer).with_state(dir.into())
}

async fn answer(
    State(dir): State<std::sync::Arc<Path>>,
    method: Method,
    uri: Uri,
) -> Result<Response, AppError> {
    if method != Method::GET && method != Method::HEAD {
        return Ok((
            StatusCode::METHOD_NOT_ALLOWED,
            [(header::ALLOW, "GET, HEAD"), (header::CONTENT_TYPE, TEXT)],
            "only GET and HEAD\n",
        )
            .into_response());
    }
    // Files are small and usually cached, but a disk can stall: not on the
    // threads that run the connections.
    tokio::task::spawn_blocking(move || route(&dir, uri.path())).await?
}

fn not_found() -> AppError {
    AppError::client(StatusCode::NOT_FOUND, "not found")
}

/// Answers a GET of `path` from the log folder `dir`.
fn route(dir: &Path, path: &str) -> Result<Response, AppError> {
    let Some(path) = path.strip_prefix('/') else {
        return Err(not_found());
    };
    // The committed size: nothing past it is served (a writer may be staging it).
    let Some((checkpoint, size)) = committed(dir) else {
        let mut r = AppError::client(
            StatusCode::SERVICE_UNAVAILABLE,
            "the log has no readable checkpoint",
        )
        .into_response();
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(CHECKPOINT));
        return Ok(r);
    };
    if path == "checkpoint" {
        return Ok(reply(TEXT, CHECKPOINT, checkpoint));
    }
    let (rel, full) = if let Ok(id) = EntryBundleId::parse_path(path) {
        if !covered(id.index, id.width, size) {
            return Err(not_found());
        }
        (id.path(), id.width == TILE_WIDTH)
    } else if let Ok(id) = TileId::parse_path(path) {
        let hashes = size.checked_shr(u32::from(id.level) * 8).unwrap_or(0);
        if !covered(id.index, id.width, hashes) {
            return Err(not_found());
        }
        (id.path(), id.width == TILE_WIDTH)
    } else {
        return Err(not_found());
    };
    // `rel` is re-rendered from parsed numbers: it cannot leave the log folder.
    let file = dir.join(&rel);
    match std::fs::read(&file) {
        Ok(bytes) => Ok(reply(
            "application/octet-stream",
            if full { IMMUTABLE } else { PARTIAL },
            bytes,
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(not_found()),
        Err(e) => Err(AppError::internal(format!("{}: {e}", file.display()))),
    }
}

/// Whether the `width` items of tile `index` lie within the first `count`.
fn covered(index: u64, width: u16, count: u64) -> bool {
    index
        .checked_mul(256)
        .and_then(|s| s.checked_add(width.into()))
        .is_some_and(|end| end <= count)
}

fn reply(content_type: &'static str, cache: &'static str, body: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, cache),
        ],
        body,
    )
        .into_response()
}

/// The checkpoint file and its tree size.
fn committed(dir: &Path) -> Option<(Vec<u8>, u64)> {
    let bytes = std::fs::read(dir.join("checkpoint")).ok()?;
    if bytes.len() > note::MAX_NOTE_SIZE {
        return None;
    }
    let parsed = note::Note::parse(&bytes).ok()?;
    let size = Checkpoint::parse(&parsed.text).ok()?.size;
    Some((bytes, size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{body_of, get, request};
    use guwah_core::checkpoint::sign_checkpoint;
    use guwah_core::merkle;
    use guwah_core::note::Signer;

    /// A log folder of `size` entries: a signed checkpoint and the tiles
    /// (contents are placeholders; the router serves bytes, it does not check them).
    fn log(size: u64) -> tempfile::TempDir {
        let tmp = tempfile::tempdir().unwrap();
        let signer = Signer::generate("example.org/log", [3; 32]).unwrap();
        let cp = Checkpoint {
            origin: "example.org/log".into(),
            size,
            root: merkle::leaf_hash(b"x"),
            extensions: vec![],
        };
        let note = sign_checkpoint(&cp, &signer).unwrap();
        std::fs::write(tmp.path().join("checkpoint"), note.as_bytes()).unwrap();
        for (rel, len) in [
            ("tile/0/000", 256 * 32),
            ("tile/0/001.p/7", 7 * 32),
            ("tile/1/000.p/1", 32),
            ("tile/entries/000", 100),
            ("tile/entries/001.p/7", 10),
            // Staged past the checkpoint: must not be served.
            ("tile/0/001.p/8", 8 * 32),
        ] {
            let p = tmp.path().join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, vec![1u8; len]).unwrap();
        }
        tmp
    }

    #[tokio::test]
    async fn serves_what_the_checkpoint_covers_with_cache_headers() {
        let dir = log(263);
        let app = router(dir.path().to_owned());
        let r = get(&app, "/checkpoint").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()[header::CONTENT_TYPE], TEXT);
        assert_eq!(r.headers()[header::CACHE_CONTROL], CHECKPOINT);
        assert!(body_of(r).await.starts_with(b"example.org/log\n263\n"));

        let r = get(&app, "/tile/0/000").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "application/octet-stream"
        );
        assert_eq!(r.headers()[header::CACHE_CONTROL], IMMUTABLE);
        assert_eq!(body_of(r).await.len(), 256 * 32);
        for partial in [
            "/tile/0/001.p/7",
            "/tile/1/000.p/1",
            "/tile/entries/001.p/7",
        ] {
            let r = get(&app, partial).await;
            assert_eq!(r.status(), StatusCode::OK, "{partial}");
            assert_eq!(r.headers()[header::CACHE_CONTROL], PARTIAL, "{partial}");
        }
        assert_eq!(
            get(&app, "/tile/entries/000").await.status(),
            StatusCode::OK
        );
        for bad in [
            "/",
            "/guwah.vault",
            "/tile/../checkpoint",
            "/tile/0/../../checkpoint",
            "/tile/0/001.p/8",
            "/tile/0/0001",
            "/tile/entries/002",
            "/tile/1/000",
            "/checkpoints/263",
            "/tile/0/%30%30%30",
        ] {
            let r = get(&app, bad).await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{bad}");
            assert_eq!(body_of(r).await, b"not found\n");
        }
        let r = request(&app, Method::POST, "/checkpoint", Vec::new()).await;
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.headers()[header::ALLOW], "GET, HEAD");
        assert_eq!(body_of(r).await, b"only GET and HEAD\n");
    }

    #[tokio::test]
    async fn no_checkpoint_is_503_and_a_missing_tile_404() {
        let dir = log(263);
        std::fs::remove_file(dir.path().join("tile/entries/000")).unwrap();
        let app = router(dir.path().to_owned());
        assert_eq!(
            get(&app, "/tile/entries/000").await.status(),
            StatusCode::NOT_FOUND
        );
        std::fs::write(dir.path().join("checkpoint"), b"garbage").unwrap();
        let r = get(&app, "/checkpoint").await;
        assert_eq!(r.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert_eq!(r.headers()[header::CACHE_CONTROL], CHECKPOINT);
    }
}
