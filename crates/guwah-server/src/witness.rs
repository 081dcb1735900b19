//! `guwah witness serve`: C2SP tlog-witness over HTTP.
//!
//! `POST /add-checkpoint` and `GET /` (the witness's cosignature key). The
//! handler only moves bytes: the decision is `guwah_core::witness`'s, the
//! durable state and its group commit are `WitnessStore`'s. What is here is
//! the gathering: requests that arrive while a batch is being flushed wait
//! as tasks (not threads) and are committed together by the next.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use guwah_core::witness::{MAX_REQUEST_SIZE, WitnessRefusal};
use guwah_vault::witness_store::{Checked, WitnessStore};
use tokio::sync::oneshot;
use tower_http::limit::RequestBodyLimitLayer;

use crate::error::{AppError, TEXT};

/// The router of a witness over `store`. Bodies over the protocol's
/// [`MAX_REQUEST_SIZE`] are refused (413) before they are read.
pub fn router(store: Arc<WitnessStore>) -> Router {
    let witness = Arc::new(Witness {
        store,
        queue: Mutex::new(Queue::default()),
    });
    Router::new()
        .route(
            "/add-checkpoint",
            post(add_checkpoint).fallback(|| async {
                (
                    StatusCode::METHOD_NOT_ALLOWED,
                    [(header::ALLOW, "POST"), (header::CONTENT_TYPE, TEXT)],
                    "use POST\n",
                )
            }),
        )
        .route("/", get(vkey).fallback(not_found))
        .fallback(not_found)
        .layer(RequestBodyLimitLayer::new(MAX_REQUEST_SIZE))
        .with_state(witness)
}

/// The store and the requests waiting for the next batch.
struct Witness {
    store: Arc<WitnessStore>,
    queue: Mutex<Queue>,
}

type Outcome = Result<Checked, WitnessRefusal>;

#[derive(Default)]
struct Queue {
    waiting: Vec<(Checked, oneshot::Sender<Outcome>)>,
    /// A committer task is running (and will take what is waiting).
    committing: bool,
}

impl Witness {
    /// Commits `checked` with whatever else arrives meanwhile.
    async fn commit(self: &Arc<Self>, checked: Checked) -> Result<Checked, AppError> {
        let (tx, rx) = oneshot::channel();
        {
            let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
            q.waiting.push((checked, tx));
            if !std::mem::replace(&mut q.committing, true) {
                tokio::spawn(Arc::clone(self).committer());
            }
        }
        match rx.await {
            Ok(outcome) => Ok(outcome?),
            Err(_) => Err(AppError::internal("witness commit task ended")),
        }
    }

    /// Commits batches until nothing waits: one durable write per batch,
    /// on a thread that may block.
    async fn committer(self: Arc<Self>) {
        loop {
            let batch = {
                let mut q = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
                if q.waiting.is_empty() {
                    q.committing = false;
                    return;
                }
                std::mem::take(&mut q.waiting)
            };
            let (checked, answer): (Vec<Checked>, Vec<_>) = batch.into_iter().unzip();
            let store = Arc::clone(&self.store);
            let done = tokio::task::spawn_blocking(move || {
                let results = store.commit(&checked);
                (checked, results)
            })
            .await;
            let Ok((checked, results)) = done else {
                // Dropping the senders answers each waiter with an internal error.
                continue;
            };
            for ((c, tx), r) in checked.into_iter().zip(answer).zip(results) {
                let _ = tx.send(r.map(|()| c));
            }
        }
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

async fn add_checkpoint(State(w): State<Arc<Witness>>, body: Bytes) -> Result<Response, AppError> {
    // A signature check each (tens of microseconds of CPU): here, on the
    // connection threads; only the durable write goes to a blocking thread.
    let checked = w.store.check(&body)?;
    let committed = w.commit(checked).await?;
    let lines = w.store.cosign(&committed, now())?;
    Ok(([(header::CONTENT_TYPE, TEXT)], lines).into_response())
}

async fn vkey(State(w): State<Arc<Witness>>) -> Response {
    (
        [(header::CONTENT_TYPE, TEXT)],
        format!("{}\n", w.store.vkey()),
    )
        .into_response()
}

async fn not_found() -> AppError {
    AppError::client(
        StatusCode::NOT_FOUND,
        "not found; the witness answers POST /add-checkpoint",
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{body_of, get, request};
    use axum::http::Method;
    use guwah_core::checkpoint::{Checkpoint, sign_checkpoint};
    use guwah_core::merkle::{self, Hash, LeafHashes};
    use guwah_core::note::Signer;
    use guwah_core::witness::{AddCheckpointRequest, SIZE_CONTENT_TYPE};

    struct Fixture {
        _tmp: tempfile::TempDir,
        app: Router,
        log: Signer,
    }

    fn fixture() -> Fixture {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("w");
        WitnessStore::init(&dir, "witness.test/w").unwrap();
        let log = Signer::generate("example.org/log", [7; 32]).unwrap();
        WitnessStore::add_log(&dir, &log.verifier().to_vkey(), None).unwrap();
        let store = Arc::new(WitnessStore::open(&dir).unwrap());
        Fixture {
            _tmp: tmp,
            app: router(store),
            log,
        }
    }

    fn leaves(n: u8, salt: u8) -> Vec<Hash> {
        (0..n).map(|i| merkle::leaf_hash(&[i, salt])).collect()
    }

    fn body(log: &Signer, old: &[Hash], new: &[Hash]) -> Vec<u8> {
        let cp = Checkpoint {
            origin: "example.org/log".into(),
            size: new.len() as u64,
            root: merkle::root_from_leaf_hashes(new),
            extensions: vec![],
        };
        let note = sign_checkpoint(&cp, log).unwrap();
        let proof = if old.is_empty() || old.len() == new.len() {
            Vec::new()
        } else {
            merkle::consistency_proof(old.len() as u64, new.len() as u64, &mut LeafHashes(new))
                .unwrap()
        };
        AddCheckpointRequest::encode(old.len() as u64, &proof, note.as_bytes())
    }

    async fn post(app: &Router, body: Vec<u8>) -> (StatusCode, String, String) {
        let r = request(app, Method::POST, "/add-checkpoint", body).await;
        let status = r.status();
        let ct = r.headers()[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .to_owned();
        let text = String::from_utf8(body_of(r).await).unwrap();
        (status, ct, text)
    }

    #[tokio::test]
    async fn cosigns_and_refuses_with_the_specs_statuses() {
        let f = fixture();
        let a = leaves(4, 0);
        let a8 = [a.clone(), leaves(4, 1)].concat();
        let fork = leaves(4, 9);

        let (s, ct, text) = post(&f.app, body(&f.log, &[], &a)).await;
        assert_eq!((s, ct.as_str()), (StatusCode::OK, TEXT), "{text}");
        assert!(text.starts_with("\u{2014} witness.test/w "), "{text}");
        // The same checkpoint again: cosigned again (nothing changes).
        let (s, _, _) = post(&f.app, body(&f.log, &a, &a)).await;
        assert_eq!(s, StatusCode::OK);
        // Wrong old size: 409 with the size, as text/x.tlog.size.
        let (s, ct, text) = post(&f.app, body(&f.log, &[], &a8)).await;
        assert_eq!(
            (s, ct.as_str(), text.as_str()),
            (StatusCode::CONFLICT, SIZE_CONTENT_TYPE, "4\n")
        );
        // A fork at the same size: 409.
        let (s, _, text) = post(&f.app, body(&f.log, &a, &fork)).await;
        assert_eq!(s, StatusCode::CONFLICT, "{text}");
        assert!(text.contains("forked"), "{text}");
        // A proof that does not verify: 422.
        let mut bad = body(&f.log, &a, &a8);
        let at = bad.iter().position(|&b| b == b'\n').unwrap() + 1;
        bad[at] = if bad[at] == b'A' { b'B' } else { b'A' };
        let (s, _, text) = post(&f.app, bad).await;
        assert_eq!(s, StatusCode::UNPROCESSABLE_ENTITY, "{text}");
        // Growing with a good proof: 200.
        let (s, _, _) = post(&f.app, body(&f.log, &a, &a8)).await;
        assert_eq!(s, StatusCode::OK);
        // Malformed: 400. Another key: 403. Unknown origin: 404.
        assert_eq!(
            post(&f.app, b"garbage".to_vec()).await.0,
            StatusCode::BAD_REQUEST
        );
        let other = Signer::generate("example.org/log", [8; 32]).unwrap();
        assert_eq!(
            post(&f.app, body(&other, &a8, &a8)).await.0,
            StatusCode::FORBIDDEN
        );
        let stranger = Signer::generate("example.org/other", [8; 32]).unwrap();
        let cp = Checkpoint {
            origin: "example.org/other".into(),
            size: 1,
            root: [0; 32],
            extensions: vec![],
        };
        let note = sign_checkpoint(&cp, &stranger).unwrap();
        let r = post(
            &f.app,
            AddCheckpointRequest::encode(0, &[], note.as_bytes()),
        )
        .await;
        assert_eq!(r.0, StatusCode::NOT_FOUND, "{}", r.2);
        // Too large: 413 before reading.
        let (s, _, _) = post(&f.app, vec![b'x'; MAX_REQUEST_SIZE + 1]).await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
    }

    #[tokio::test]
    async fn requests_arriving_together_share_one_durable_write() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("w");
        WitnessStore::init(&dir, "witness.test/w").unwrap();
        let logs: Vec<Signer> = (0..8u8)
            .map(|i| Signer::generate(&format!("example.org/log{i}"), [i + 1; 32]).unwrap())
            .collect();
        for l in &logs {
            WitnessStore::add_log(&dir, &l.verifier().to_vkey(), None).unwrap();
        }
        let store = Arc::new(WitnessStore::open(&dir).unwrap());
        let app = router(Arc::clone(&store));
        let mut answers = tokio::task::JoinSet::new();
        for l in &logs {
            let cp = Checkpoint {
                origin: l.name().to_owned(),
                size: 3,
                root: merkle::root_from_leaf_hashes(&leaves(3, 0)),
                extensions: vec![],
            };
            let note = sign_checkpoint(&cp, l).unwrap();
            let body = AddCheckpointRequest::encode(0, &[], note.as_bytes());
            let app = app.clone();
            answers.spawn(async move { post(&app, body).await });
        }
        while let Some(a) = answers.join_next().await {
            let (status, _, text) = a.unwrap();
            assert_eq!(status, StatusCode::OK, "{text}");
        }
        // All eight were waiting before the first batch was taken.
        assert_eq!(store.durable_writes(), 1);
        for l in &logs {
            assert_eq!(store.latest(l.name()).unwrap().checkpoint.size, 3);
        }
    }

    #[tokio::test]
    async fn other_paths_and_methods() {
        let f = fixture();
        let r = get(&f.app, "/").await;
        assert_eq!(r.status(), StatusCode::OK);
        assert!(
            String::from_utf8(body_of(r).await)
                .unwrap()
                .starts_with("witness.test/w+")
        );
        let r = get(&f.app, "/add-checkpoint").await;
        assert_eq!(r.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(r.headers()[header::ALLOW], "POST");
        assert_eq!(body_of(r).await, b"use POST\n");
        for (m, p) in [(Method::GET, "/nope"), (Method::POST, "/")] {
            let r = request(&f.app, m, p, Vec::new()).await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{p}");
            assert_eq!(
                body_of(r).await,
                b"not found; the witness answers POST /add-checkpoint\n"
            );
        }
    }
}
