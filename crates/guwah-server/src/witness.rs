//! `guwah witness serve`: C2SP tlog-witness over HTTP.
//!
//! `POST /add-checkpoint` and `GET /` (the witness's cosignature key). The
//! handler only moves bytes: the decision is `guwah_core::witness`'s, the
//! durable state and its group commit are `WitnessStore`'s. What is here is
//! the gathering, in two stages that run at once:
//!
//! 1. Each handler parses its request and makes the checks that need no
//!    state, on its connection thread, with the log's Ed25519 signature
//!    put off ([`defer_ed25519`]). Requests that arrive while a batch is
//!    being verified wait as tasks; the next batch's signatures are then
//!    verified together ([`verify_batch`], about half the cost of one
//!    verification each). If a batch does not verify, each request's
//!    signatures are verified alone and one whose signature fails is
//!    checked again in full for its own answer (403).
//! 2. The verified requests wait for the committer thread, which commits
//!    what has gathered while it flushed the batch before: one durable
//!    write per batch. A request is answered (and cosigned) after that.
//!
//! Nothing is committed, cosigned or answered on a signature not yet
//! verified, nor before the state it leads to is durable.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use guwah_core::note::batch::{DeferredSignature, defer_ed25519, verify_batch};
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
        to_verify: Mutex::new(ToVerify::default()),
        commits: Arc::new(Commits::default()),
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

/// The store and the requests waiting in each stage.
struct Witness {
    store: Arc<WitnessStore>,
    to_verify: Mutex<ToVerify>,
    commits: Arc<Commits>,
}

type Outcome = Result<Checked, WitnessRefusal>;

/// A checked request waiting for its batch.
struct Pending {
    body: Bytes,
    checked: Checked,
    /// Its signatures, until its batch has verified them.
    deferred: Vec<DeferredSignature>,
    answer: oneshot::Sender<Outcome>,
}

/// Requests whose signatures wait to be verified.
#[derive(Default)]
struct ToVerify {
    waiting: Vec<Pending>,
    /// A verifier task is running (and will take what is waiting).
    verifying: bool,
}

/// Verified requests waiting for the committer thread.
#[derive(Default)]
struct Commits {
    state: Mutex<CommitState>,
    wake: Condvar,
}

#[derive(Default)]
struct CommitState {
    waiting: Vec<Pending>,
    /// The committer thread is running.
    running: bool,
    /// It waits on `wake` (else it will look at `waiting` before it does).
    idle: bool,
    /// The router is gone: the thread ends once nothing waits.
    closed: bool,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // The queues stay consistent between statements: a panic elsewhere
    // does not poison them.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Drop for Witness {
    fn drop(&mut self) {
        let mut s = lock(&self.commits.state);
        s.closed = true;
        if s.idle {
            self.commits.wake.notify_one();
        }
    }
}

impl Witness {
    /// The checks that need no state, the log's signature put off unless
    /// the request is refused anyway (then it is checked again in full,
    /// so that its answer is the one of a signature verified at once).
    fn check(&self, body: &Bytes) -> Result<(Checked, Vec<DeferredSignature>), WitnessRefusal> {
        match defer_ed25519(|| self.store.check(body)) {
            (Ok(checked), deferred) => Ok((checked, deferred)),
            // Refused before any signature was looked at: malformed, unknown origin.
            (Err(r), deferred) if deferred.is_empty() => Err(r),
            (Err(_), _) => Ok((self.store.check(body)?, Vec::new())),
        }
    }

    /// Verifies and commits `checked` with whatever else arrives meanwhile.
    async fn commit(
        self: &Arc<Self>,
        body: Bytes,
        checked: Checked,
        deferred: Vec<DeferredSignature>,
    ) -> Result<Checked, AppError> {
        let (answer, rx) = oneshot::channel();
        {
            let mut q = lock(&self.to_verify);
            q.waiting.push(Pending {
                body,
                checked,
                deferred,
                answer,
            });
            if !std::mem::replace(&mut q.verifying, true) {
                tokio::spawn(Arc::clone(self).verifier());
            }
        }
        match rx.await {
            Ok(outcome) => Ok(outcome?),
            Err(_) => Err(AppError::internal("witness commit ended")),
        }
    }

    /// Verifies batches until nothing waits and hands the requests whose
    /// signatures verify to the committer thread. The batch verification
    /// is CPU work of a few hundred microseconds, as the handlers' own
    /// checks are: it runs here, on a connection thread.
    async fn verifier(self: Arc<Self>) {
        loop {
            let batch = {
                let mut q = lock(&self.to_verify);
                if q.waiting.is_empty() {
                    q.verifying = false;
                    return;
                }
                std::mem::take(&mut q.waiting)
            };
            let verified = verify(&self.store, batch);
            if !verified.is_empty() {
                self.to_commit(verified);
            }
            // Let the connections that were waiting for this thread run,
            // so that the next batch gathers them.
            tokio::task::yield_now().await;
        }
    }

    /// Queues verified requests for the committer thread, starting it if
    /// it is not running.
    fn to_commit(&self, verified: Vec<Pending>) {
        let mut s = lock(&self.commits.state);
        s.waiting.extend(verified);
        if s.running {
            if s.idle {
                self.commits.wake.notify_one();
            }
            return;
        }
        let (store, commits) = (Arc::clone(&self.store), Arc::clone(&self.commits));
        let spawned = std::thread::Builder::new()
            .name("guwah-witness-commit".into())
            .spawn(move || committer(&store, &commits));
        match spawned {
            Ok(_) => s.running = true,
            Err(e) => {
                // Dropping the senders answers each with an internal error.
                eprintln!("guwah witness: cannot start the committer thread: {e}");
                s.waiting.clear();
            }
        }
    }
}

/// The committer thread: commits what waits, one batch (one durable write)
/// at a time, until the router is gone.
fn committer(store: &WitnessStore, commits: &Commits) {
    loop {
        let batch = {
            let mut s = lock(&commits.state);
            loop {
                if !s.waiting.is_empty() {
                    break std::mem::take(&mut s.waiting);
                }
                if s.closed {
                    s.running = false;
                    return;
                }
                s.idle = true;
                s = commits.wake.wait(s).unwrap_or_else(PoisonError::into_inner);
                s.idle = false;
            }
        };
        // A panic drops the batch's senders (each waiter gets an internal
        // error), not the thread.
        let _ = catch_unwind(AssertUnwindSafe(|| commit(store, batch)));
    }
}

/// The requests of `batch` whose signatures verify, in order; the others
/// are answered as if their signatures had been verified at once (403).
fn verify(store: &WitnessStore, batch: Vec<Pending>) -> Vec<Pending> {
    if verify_batch(batch.iter().flat_map(|p| &p.deferred)) {
        return batch;
    }
    // Some signature does not verify: find which, one by one.
    batch
        .into_iter()
        .filter_map(|mut p| {
            if p.deferred.iter().all(DeferredSignature::verify) {
                return Some(p);
            }
            // Checked again in full, signature and all, for its own answer.
            match store.check(&p.body) {
                Ok(checked) => {
                    p.checked = checked;
                    p.deferred.clear();
                    Some(p)
                }
                Err(refusal) => {
                    let _ = p.answer.send(Err(refusal));
                    None
                }
            }
        })
        .collect()
}

/// Commits a batch of verified requests with one durable write and
/// answers each.
fn commit(store: &WitnessStore, batch: Vec<Pending>) {
    let (checked, answers): (Vec<Checked>, Vec<_>) =
        batch.into_iter().map(|p| (p.checked, p.answer)).unzip();
    let results = store.commit(&checked);
    for ((c, answer), r) in checked.into_iter().zip(answers).zip(results) {
        let _ = answer.send(r.map(|()| c));
    }
}

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

async fn add_checkpoint(State(w): State<Arc<Witness>>, body: Bytes) -> Result<Response, AppError> {
    // Parsing, the checks that need no state, the batch's signatures and
    // the cosignature: here, on the connection threads; the durable write:
    // on the committer thread.
    let (checked, deferred) = w.check(&body)?;
    let committed = w.commit(body, checked, deferred).await?;
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

    /// A witness of `n` logs (`example.org/log0` …), its store and router.
    fn many_logs(n: u8) -> (tempfile::TempDir, Vec<Signer>, Arc<WitnessStore>, Router) {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("w");
        WitnessStore::init(&dir, "witness.test/w").unwrap();
        let logs: Vec<Signer> = (0..n)
            .map(|i| Signer::generate(&format!("example.org/log{i}"), [i + 1; 32]).unwrap())
            .collect();
        for l in &logs {
            WitnessStore::add_log(&dir, &l.verifier().to_vkey(), None).unwrap();
        }
        let store = Arc::new(WitnessStore::open(&dir).unwrap());
        let app = router(Arc::clone(&store));
        (tmp, logs, store, app)
    }

    /// `log`'s signed checkpoint of a first tree of three leaves.
    fn first_note(log: &Signer) -> String {
        let cp = Checkpoint {
            origin: log.name().to_owned(),
            size: 3,
            root: merkle::root_from_leaf_hashes(&leaves(3, 0)),
            extensions: vec![],
        };
        sign_checkpoint(&cp, log).unwrap()
    }

    #[tokio::test]
    async fn requests_arriving_together_share_one_durable_write() {
        let (_tmp, logs, store, app) = many_logs(8);
        let mut answers = tokio::task::JoinSet::new();
        for l in &logs {
            let note = first_note(l);
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
    async fn a_bad_signature_in_a_batch_is_refused_alone() {
        let (_tmp, logs, store, app) = many_logs(6);
        let mut answers = tokio::task::JoinSet::new();
        for (i, l) in logs.iter().enumerate() {
            let mut note = first_note(l);
            if i == 2 {
                // The right key's signature line over other text: it is put
                // off with the rest and fails the batch.
                note = note.replacen("\n3\n", "\n4\n", 1);
            }
            let body = AddCheckpointRequest::encode(0, &[], note.as_bytes());
            let app = app.clone();
            answers.spawn(async move { (i, post(&app, body).await) });
        }
        while let Some(a) = answers.join_next().await {
            let (i, (status, _, text)) = a.unwrap();
            let want = if i == 2 {
                StatusCode::FORBIDDEN
            } else {
                StatusCode::OK
            };
            assert_eq!(status, want, "log {i}: {text}");
        }
        for (i, l) in logs.iter().enumerate() {
            assert_eq!(store.latest(l.name()).is_some(), i != 2, "log {i}");
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
