//! The team server through its router (tower's `oneshot`), over a real
//! vault: every route for every role, sessions and CSRF, what collectors
//! and viewers see, originals with ranges, and tus uploads.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use common::{Answer, FAST, PASSWORD, gps_photo};
use guwah_server::team::{self, TeamConfig, TeamState};
use guwah_vault::{Role, Vault};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const ROLES: [(&str, Role); 6] = [
    ("admin", Role::Admin),
    ("coord", Role::Coordinator),
    ("reviewer", Role::Reviewer),
    ("collector", Role::Collector),
    ("collector2", Role::Collector),
    ("viewer", Role::Viewer),
];

struct Server {
    _dir: tempfile::TempDir,
    app: Router,
    state: TeamState,
    tokens: BTreeMap<&'static str, String>,
    /// Item submitted by `collector` (the GPS photo, with a source).
    photo: String,
    /// Item submitted by `collector2`.
    other: String,
}

fn sample(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../samples/evidence")
        .join(name)
}

fn server() -> Server {
    let dir = tempfile::tempdir().unwrap();
    let vault = Vault::init(&dir.path().join("vault"), b"passphrase", None, FAST).unwrap();
    let mut tokens = BTreeMap::new();
    for (name, role) in ROLES {
        vault
            .add_account(name, role, PASSWORD.as_bytes(), "test")
            .unwrap();
        tokens.insert(name, vault.issue_token(name, "test").unwrap().to_string());
    }
    let key = |name: &str| {
        // The account key is what the server stores submissions under.
        vault
            .authenticate(&tokens[name])
            .unwrap()
            .expect("token works")
            .key
    };
    let sub = guwah_vault::Submission {
        filename: Some("checkpoint.jpg".into()),
        options: guwah_vault::AddOptions {
            source: Some("Aynur's sister, by Signal".into()),
            note: Some("camp gate at night".into()),
            tags: vec!["camp".into()],
            ..Default::default()
        },
        via: "upload",
        ..Default::default()
    };
    let bytes = gps_photo();
    let photo = vault
        .add_submission(
            &bytes[..],
            bytes.len() as u64,
            &sub,
            "collector",
            &key("collector"),
        )
        .unwrap()
        .id;
    let text = std::fs::read(sample("testimony.txt")).unwrap();
    let sub2 = guwah_vault::Submission {
        filename: Some("testimony.txt".into()),
        via: "upload",
        ..Default::default()
    };
    let other = vault
        .add_submission(
            &text[..],
            text.len() as u64,
            &sub2,
            "collector2",
            &key("collector2"),
        )
        .unwrap()
        .id;
    let state = TeamState::new(vault, TeamConfig::new(dir.path().join("spool"))).unwrap();
    Server {
        app: team::router(state.clone()),
        state,
        _dir: dir,
        tokens,
        photo,
        other,
    }
}

impl Server {
    async fn send(&self, req: Request<Body>) -> Answer {
        common::send(&self.app, req).await
    }

    fn req(&self, method: Method, uri: &str, who: Option<&str>) -> axum::http::request::Builder {
        let mut b = Request::builder().method(method).uri(uri);
        if let Some(who) = who {
            b = b.header(
                header::AUTHORIZATION,
                format!("Bearer {}", self.tokens[who]),
            );
        }
        b
    }

    async fn get(&self, uri: &str, who: Option<&str>) -> Answer {
        self.send(self.req(Method::GET, uri, who).body(Body::empty()).unwrap())
            .await
    }

    async fn post_json(&self, uri: &str, who: Option<&str>, body: Value) -> Answer {
        self.send(
            self.req(Method::POST, uri, who)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(body.to_string()))
                .unwrap(),
        )
        .await
    }

    fn tree_size(&self) -> u64 {
        self.state
            .vault
            .checkpoint_sizes()
            .unwrap()
            .last()
            .copied()
            .unwrap_or(0)
    }

    fn accounts(&self) -> Vec<guwah_vault::Account> {
        self.state.vault.accounts().unwrap()
    }
}

/// A method, a path, the roles that may use it, and a body.
type Route = (
    Method,
    String,
    Option<&'static [&'static str]>,
    Option<Value>,
);

/// Every route and method, with the roles that may use it (`None`: no
/// account needed), and a request body that would do something.
fn matrix(s: &Server) -> Vec<Route> {
    let photo = &s.photo;
    let readers: &[&str] = &["coord", "reviewer", "viewer", "collector", "collector2"];
    vec![
        (
            Method::POST,
            "/api/login".into(),
            None,
            Some(json!({"name": "viewer", "password": PASSWORD})),
        ),
        (
            Method::POST,
            "/api/logout".into(),
            Some(&[
                "admin",
                "coord",
                "reviewer",
                "collector",
                "collector2",
                "viewer",
            ]),
            None,
        ),
        (
            Method::GET,
            "/api/session".into(),
            Some(&[
                "admin",
                "coord",
                "reviewer",
                "collector",
                "collector2",
                "viewer",
            ]),
            None,
        ),
        (Method::GET, "/api/items".into(), Some(readers), None),
        (
            Method::GET,
            "/api/search?q=camp".into(),
            Some(readers),
            None,
        ),
        (
            Method::GET,
            format!("/api/items/{photo}"),
            Some(readers),
            None,
        ),
        (
            Method::GET,
            format!("/api/items/{photo}/original"),
            Some(&["coord", "reviewer", "collector", "collector2"]),
            None,
        ),
        (
            Method::POST,
            format!("/api/items/{photo}/annotations"),
            Some(&["coord", "reviewer"]),
            Some(json!({"note": "seen"})),
        ),
        (Method::OPTIONS, "/api/uploads".into(), None, None),
        (
            Method::POST,
            "/api/uploads".into(),
            Some(&["coord", "collector", "collector2"]),
            None,
        ),
        (
            Method::HEAD,
            format!("/api/uploads/{}", "0".repeat(64)),
            Some(&["coord", "collector", "collector2"]),
            None,
        ),
        (
            Method::PATCH,
            format!("/api/uploads/{}", "0".repeat(64)),
            Some(&["coord", "collector", "collector2"]),
            None,
        ),
        (
            Method::DELETE,
            format!("/api/uploads/{}", "0".repeat(64)),
            Some(&["coord", "collector", "collector2"]),
            None,
        ),
        (Method::GET, "/api/users".into(), Some(&["admin"]), None),
        (
            Method::POST,
            "/api/users".into(),
            Some(&["admin"]),
            Some(json!({"name": "newbie", "role": "viewer", "password": PASSWORD})),
        ),
        (
            Method::POST,
            "/api/users/viewer/role".into(),
            Some(&["admin"]),
            Some(json!({"role": "admin"})),
        ),
        (
            Method::POST,
            "/api/users/viewer/disable".into(),
            Some(&["admin"]),
            None,
        ),
        (
            Method::POST,
            "/api/users/viewer/token".into(),
            Some(&["admin"]),
            None,
        ),
        (Method::GET, "/api/audit".into(), Some(&["admin"]), None),
        (
            Method::POST,
            "/api/exports".into(),
            Some(&["coord"]),
            Some(json!({"ids": [photo]})),
        ),
        (Method::GET, "/api/openapi.json".into(), None, None),
        (
            Method::POST,
            "/api/push".into(),
            Some(&["coord", "collector", "collector2"]),
            Some(json!({})),
        ),
        (
            Method::GET,
            "/api/push/received?origin=x".into(),
            Some(&["coord", "collector", "collector2"]),
            None,
        ),
    ]
}

#[tokio::test]
async fn every_route_refuses_every_role_that_must_not_reach_it() {
    let s = server();
    let routes = matrix(&s);
    // The matrix covers every operation the OpenAPI document names.
    let doc = s.get("/api/openapi.json", None).await.json();
    let mut documented = BTreeSet::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            documented.insert((method.to_uppercase(), path.clone()));
        }
    }
    let covered: BTreeSet<(String, String)> = routes
        .iter()
        .map(|(m, p, _, _)| {
            let p = p
                .replace(&s.photo, "{id}")
                .replace(&"0".repeat(64), "{id}")
                .replace("/viewer/", "/{name}/")
                .replace("?origin=x", "")
                .replace("?q=camp", "");
            (m.to_string(), p)
        })
        .collect();
    assert_eq!(
        documented, covered,
        "every documented route is in the matrix"
    );

    let who: [Option<&str>; 7] = [
        None,
        Some("admin"),
        Some("coord"),
        Some("reviewer"),
        Some("collector"),
        Some("collector2"),
        Some("viewer"),
    ];
    // Each refused request is sent twice: with a body that would do
    // something, and with garbage (the role is checked before the body).
    let garbage = Some(json!(null));
    for (method, path, allowed, good) in &routes {
        let Some(allowed) = allowed else { continue };
        for (w, body) in who.into_iter().flat_map(|w| [(w, good), (w, &garbage)]) {
            if w.is_some_and(|w| allowed.contains(&w)) {
                continue;
            }
            let (size, accounts) = (s.tree_size(), s.accounts());
            let mut b = s.req(method.clone(), path, w);
            if method == Method::PATCH {
                b = b
                    .header("tus-resumable", "1.0.0")
                    .header("upload-offset", "0")
                    .header(header::CONTENT_TYPE, "application/offset+octet-stream");
            } else if path == "/api/uploads" {
                b = b
                    .header("tus-resumable", "1.0.0")
                    .header("upload-length", "5");
            }
            let req = match body {
                Some(Value::Null) => b.body(Body::from("{{{ not json")),
                Some(v) => b
                    .header(header::CONTENT_TYPE, "application/json")
                    .body(Body::from(v.to_string())),
                None => b.body(Body::from(if method == Method::PATCH {
                    "hello"
                } else {
                    ""
                })),
            }
            .unwrap();
            let a = s.send(req).await;
            let want = if w.is_none() {
                StatusCode::UNAUTHORIZED
            } else {
                StatusCode::FORBIDDEN
            };
            assert_eq!(a.status, want, "{method} {path} as {w:?}");
            if method != Method::HEAD {
                assert!(
                    a.json()["error"].is_string(),
                    "{method} {path}: a JSON error"
                );
            }
            assert_eq!(
                s.tree_size(),
                size,
                "{method} {path} as {w:?} changed the log"
            );
            assert_eq!(
                s.accounts(),
                accounts,
                "{method} {path} as {w:?} changed accounts"
            );
        }
    }
}

#[tokio::test]
async fn every_answer_carries_the_security_headers() {
    let s = server();
    for a in [
        s.get("/api/items", Some("coord")).await,
        s.get("/api/items", None).await,
        s.get("/nowhere", None).await,
        s.get(&format!("/api/items/{}/original", s.photo), Some("coord"))
            .await,
        s.post_json("/api/login", None, json!({"name": "x"})).await,
    ] {
        let csp = a.headers[header::CONTENT_SECURITY_POLICY].to_str().unwrap();
        assert!(csp.contains("default-src 'none'"), "{csp}");
        assert_eq!(a.headers[header::X_CONTENT_TYPE_OPTIONS], "nosniff");
        assert!(a.headers.contains_key(header::CACHE_CONTROL));
    }
}

#[tokio::test]
async fn sessions_need_the_csrf_token_to_write() {
    let s = server();
    let a = s
        .post_json(
            "/api/login",
            None,
            json!({"name": "reviewer", "password": PASSWORD}),
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    let cookie = a.headers[header::SET_COOKIE].to_str().unwrap().to_owned();
    for attr in ["HttpOnly", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "no TLS, no Secure: {cookie}");
    let csrf = a.json()["csrf_token"].as_str().unwrap().to_owned();
    let session = cookie.split(';').next().unwrap().to_owned();

    let me = s
        .send(
            Request::get("/api/session")
                .header(header::COOKIE, &session)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(me.json()["name"], "reviewer");
    assert_eq!(me.json()["csrf_token"], csrf.as_str());

    let note = |csrf: Option<&str>| {
        let mut b = Request::post(format!("/api/items/{}/annotations", s.photo))
            .header(header::COOKIE, &session)
            .header(header::CONTENT_TYPE, "application/json");
        if let Some(c) = csrf {
            b = b.header("x-csrf-token", c);
        }
        b.body(Body::from(json!({"note": "the gate's sign"}).to_string()))
            .unwrap()
    };
    let size = s.tree_size();
    assert_eq!(s.send(note(None)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(
        s.send(note(Some(&"0".repeat(64)))).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(s.tree_size(), size);
    assert_eq!(s.send(note(Some(&csrf))).await.status, StatusCode::CREATED);
    let item = s
        .get(&format!("/api/items/{}", s.photo), Some("coord"))
        .await
        .json();
    let last = item["custody"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "annotated");
    assert!(last.to_string().contains("\"reviewer\""), "{last}");

    // Logging out ends the session.
    let out = s
        .send(
            Request::post("/api/logout")
                .header(header::COOKIE, &session)
                .header("x-csrf-token", &csrf)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(out.status, StatusCode::NO_CONTENT);
    let me = s
        .send(
            Request::get("/api/session")
                .header(header::COOKIE, &session)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(me.status, StatusCode::UNAUTHORIZED);
    // An API token is not a cookie.
    let as_cookie = s
        .send(
            Request::get("/api/session")
                .header(
                    header::COOKIE,
                    format!("guwah_session={}", s.tokens["coord"]),
                )
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(as_cookie.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_second_factor_is_asked_and_each_code_works_once() {
    let s = server();
    let e = s.state.vault.enable_totp("reviewer", "test").unwrap();
    let login = |code: Option<&str>| {
        let mut body = json!({"name": "reviewer", "password": PASSWORD});
        if let Some(c) = code {
            body["code"] = json!(c);
        }
        s.post_json("/api/login", None, body)
    };
    let a = login(None).await;
    assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    assert!(
        a.json()["error"]
            .as_str()
            .unwrap()
            .contains("second factor")
    );
    assert_eq!(login(Some("000000")).await.status, StatusCode::UNAUTHORIZED);
    // A code from the authenticator app (RFC 6238, computed here by totp-rs).
    let secret = totp_rs::Secret::Encoded(e.secret.to_string())
        .to_bytes()
        .unwrap();
    let t = totp_rs::TOTP::new(totp_rs::Algorithm::SHA1, 6, 1, 30, secret).unwrap();
    let code = t.generate_current().unwrap();
    assert_eq!(login(Some(&code)).await.status, StatusCode::OK);
    assert_eq!(
        login(Some(&code)).await.status,
        StatusCode::UNAUTHORIZED,
        "a code works once"
    );
    let recovery = e.recovery_codes[3].to_string();
    assert_eq!(login(Some(&recovery)).await.status, StatusCode::OK);
    assert_eq!(
        login(Some(&recovery)).await.status,
        StatusCode::UNAUTHORIZED,
        "so does a recovery code"
    );
    let audit = s.get("/api/audit", Some("admin")).await.json().to_string();
    assert!(
        audit.contains("wrong second factor") && audit.contains("totp set"),
        "{audit}"
    );
}

#[tokio::test]
async fn a_disabled_account_is_refused_at_once() {
    let s = server();
    assert_eq!(
        s.get("/api/items", Some("reviewer")).await.status,
        StatusCode::OK
    );
    let a = s
        .send(
            s.req(Method::POST, "/api/users/reviewer/disable", Some("admin"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert_eq!(
        s.get("/api/items", Some("reviewer")).await.status,
        StatusCode::UNAUTHORIZED
    );
    let audit = s.get("/api/audit", Some("admin")).await.json().to_string();
    assert!(audit.contains("account-disabled"), "{audit}");
}

#[tokio::test]
async fn sign_ins_are_audited_and_rate_limited() {
    let s = server();
    let wrong = json!({"name": "coord", "password": "not the password"});
    for _ in 0..10 {
        let a = s.post_json("/api/login", None, wrong.clone()).await;
        assert_eq!(a.status, StatusCode::UNAUTHORIZED);
    }
    let a = s.post_json("/api/login", None, wrong.clone()).await;
    assert_eq!(a.status, StatusCode::TOO_MANY_REQUESTS);
    assert!(a.headers.contains_key(header::RETRY_AFTER));
    // Locked out, even with the right password, until the window passes.
    let right = json!({"name": "coord", "password": PASSWORD});
    assert_eq!(
        s.post_json("/api/login", None, right).await.status,
        StatusCode::TOO_MANY_REQUESTS
    );
    // Another account is not locked by it.
    let other = json!({"name": "viewer", "password": PASSWORD});
    assert_eq!(
        s.post_json("/api/login", None, other).await.status,
        StatusCode::OK
    );
    let audit = s.get("/api/audit", Some("admin")).await.json();
    let actions: Vec<&str> = audit
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions.iter().filter(|a| **a == "login-failed").count(), 10);
    assert_eq!(
        actions.iter().filter(|a| **a == "received").count(),
        2,
        "the submissions"
    );
    assert!(actions.contains(&"login"));
    assert!(actions.contains(&"token-issued"));
    assert!(actions.contains(&"account-added"));
}

#[tokio::test]
async fn collectors_see_only_their_own_submissions() {
    let s = server();
    let mine = s.get("/api/items", Some("collector")).await.json();
    let ids: Vec<&str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [s.photo.as_str()]);
    for uri in [
        format!("/api/items/{}", s.other),
        format!("/api/items/{}/original", s.other),
        format!("/api/items/{}", &s.other[..16]),
    ] {
        let a = s.get(&uri, Some("collector")).await;
        assert_eq!(a.status, StatusCode::NOT_FOUND, "{uri}");
    }
    let all = s.get("/api/items", Some("reviewer")).await.json();
    assert_eq!(all["total"], 2);
    let by = s
        .get("/api/items?collector=collector2", Some("coord"))
        .await
        .json();
    assert_eq!(by["items"][0]["id"], s.other.as_str());
    let text = s
        .get("/api/items?text=CAMP%20gate", Some("coord"))
        .await
        .json();
    assert_eq!(text["total"], 1);
    let typed = s
        .get("/api/items?media_type=image", Some("coord"))
        .await
        .json();
    assert_eq!(typed["items"][0]["id"], s.photo.as_str());
    let none = s
        .get("/api/items?to=2000-01-01", Some("coord"))
        .await
        .json();
    assert_eq!(none["total"], 0);
}

#[tokio::test]
async fn viewers_never_receive_a_sensitive_field() {
    let s = server();
    // What the reviewer sees, the viewer must not.
    let full = s
        .get(&format!("/api/items/{}", s.photo), Some("reviewer"))
        .await;
    let full_text = String::from_utf8_lossy(&full.body).into_owned();
    for secret in ["43.46", "11.88", "Aynur", ":\"collector\""] {
        assert!(
            full_text.contains(secret),
            "reviewer sees {secret}: {full_text}"
        );
    }
    let answers = [
        s.get("/api/items", Some("viewer")).await,
        s.get("/api/items?text=camp", Some("viewer")).await,
        s.get(&format!("/api/items/{}", s.photo), Some("viewer"))
            .await,
        s.get(&format!("/api/items/{}", s.other), Some("viewer"))
            .await,
    ];
    for a in &answers {
        assert_eq!(a.status, StatusCode::OK);
        let text = String::from_utf8_lossy(&a.body);
        for secret in ["43.46", "11.88", "Aynur", ":\"collector"] {
            assert!(!text.contains(secret), "viewer got {secret}: {text}");
        }
    }
    let item = answers[2].json();
    let gps = item["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "gps.latitude")
        .unwrap();
    assert_eq!(gps["withheld"], true);
    assert!(gps["value"].is_null());
    assert!(
        gps["commitment"].is_string(),
        "the commitment still proves the field exists"
    );
    let filtered = s
        .get("/api/items?collector=collector", Some("viewer"))
        .await;
    assert_eq!(filtered.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn originals_stream_with_ranges_after_an_exported_event() {
    let s = server();
    let bytes = gps_photo();
    let before = s.tree_size();
    let uri = format!("/api/items/{}/original", s.photo);
    let whole = s.get(&uri, Some("reviewer")).await;
    assert_eq!(whole.status, StatusCode::OK);
    assert_eq!(whole.body, bytes);
    assert_eq!(whole.headers[header::CONTENT_TYPE], "image/jpeg");
    let disposition = whole.headers[header::CONTENT_DISPOSITION].to_str().unwrap();
    assert!(
        disposition.starts_with("attachment; filename=\"checkpoint.jpg\""),
        "{disposition}"
    );
    assert_eq!(s.tree_size(), before + 1, "one exported event");

    let ranged = s
        .send(
            s.req(Method::GET, &uri, Some("coord"))
                .header(header::RANGE, "bytes=100-1099")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(ranged.status, StatusCode::PARTIAL_CONTENT);
    assert_eq!(ranged.body, bytes[100..1100]);
    assert_eq!(
        ranged.headers[header::CONTENT_RANGE],
        format!("bytes 100-1099/{}", bytes.len()).as_str()
    );
    let bad = s
        .send(
            s.req(Method::GET, &uri, Some("coord"))
                .header(header::RANGE, format!("bytes={}-", bytes.len()))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(bad.status, StatusCode::RANGE_NOT_SATISFIABLE);
    let item = s
        .get(&format!("/api/items/{}", s.photo), Some("coord"))
        .await
        .json();
    let exported: Vec<&Value> = item["custody"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["action"] == "exported")
        .collect();
    assert_eq!(
        exported.len(),
        3,
        "every read is sealed, the refused one too"
    );
    assert!(exported[0].to_string().contains("\"reviewer\""));
}

#[tokio::test]
async fn bad_input_gets_a_json_error_and_changes_nothing() {
    let s = server();
    let size = s.tree_size();
    let cases = [
        s.send(
            s.req(Method::POST, "/api/login", None)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from("{not json"))
                .unwrap(),
        )
        .await,
        s.post_json("/api/login", None, json!({"name": 7, "password": []}))
            .await,
        s.send(
            s.req(Method::POST, "/api/login", None)
                .body(Body::from("name=a"))
                .unwrap(),
        )
        .await,
        s.post_json(
            "/api/users",
            Some("admin"),
            json!({"name": "../etc", "role": "viewer", "password": PASSWORD}),
        )
        .await,
        s.post_json(
            "/api/users",
            Some("admin"),
            json!({"name": "ok", "role": "king", "password": PASSWORD}),
        )
        .await,
        s.post_json(
            "/api/users",
            Some("admin"),
            json!({"name": "ok", "role": "viewer", "password": "short"}),
        )
        .await,
        s.post_json(
            "/api/users",
            Some("admin"),
            json!({"name": "viewer", "role": "viewer", "password": PASSWORD}),
        )
        .await,
        s.get("/api/items/..%2F..%2Fetc", Some("coord")).await,
        s.get("/api/items?limit=0", Some("coord")).await,
        s.get("/api/items?limit=abc", Some("coord")).await,
        s.get("/api/items?from=yesterday", Some("coord")).await,
        s.get("/api/items?colour=red", Some("coord")).await,
        s.post_json(
            &format!("/api/items/{}/annotations", s.photo),
            Some("coord"),
            json!({"note": ""}),
        )
        .await,
        s.send(
            s.req(Method::POST, "/api/login", None)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Body::from(vec![b' '; 200_000]))
                .unwrap(),
        )
        .await,
        s.send(
            s.req(Method::PUT, "/api/items", Some("coord"))
                .body(Body::empty())
                .unwrap(),
        )
        .await,
    ];
    for a in &cases {
        assert!(
            a.status.is_client_error(),
            "{} {}",
            a.status,
            String::from_utf8_lossy(&a.body)
        );
        let e = a.json();
        let msg = e["error"].as_str().unwrap();
        assert!(!msg.is_empty() && !msg.contains('\n'), "{msg}");
    }
    assert_eq!(s.tree_size(), size);
    assert_eq!(s.accounts().len(), ROLES.len());
}

#[tokio::test]
async fn a_coordinator_exports_a_package_streamed_as_a_zip() {
    let s = server();
    let size = s.tree_size();
    let a = s
        .post_json(
            "/api/exports",
            Some("coord"),
            json!({"ids": [s.photo], "withhold": ["gps.latitude", "gps.longitude"], "recipient": "UN WGEID", "reason": "submission"}),
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::OK,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    assert_eq!(a.headers[header::CONTENT_TYPE], "application/zip");
    assert_eq!(s.tree_size(), size + 1, "one exported event");
    let zip = guwah_package::zip::ZipArchive::open(
        &mut std::io::Cursor::new(&a.body),
        &guwah_package::zip::ZipLimits::default(),
    )
    .unwrap();
    let names: Vec<&str> = zip.entries().iter().map(|e| e.name.as_str()).collect();
    for want in [
        "package/bagit.txt",
        "package/manifest-sha256.txt",
        "package/verify.html",
    ] {
        assert!(names.contains(&want), "{want} in {names:?}");
    }
    assert!(
        names.iter().any(|n| n.starts_with("package/data/")),
        "{names:?}"
    );
    let item = s
        .get(&format!("/api/items/{}", s.photo), Some("coord"))
        .await
        .json();
    let last = item["custody"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .to_string();
    assert!(
        last.contains("exported") && last.contains("\"coord\"") && last.contains("UN WGEID"),
        "{last}"
    );
    // Refusals come before the first byte, as statuses.
    let unknown = s
        .post_json(
            "/api/exports",
            Some("coord"),
            json!({"ids": ["ab".repeat(32)]}),
        )
        .await;
    assert_eq!(unknown.status, StatusCode::NOT_FOUND);
    let nothing = s.post_json("/api/exports", Some("coord"), json!({})).await;
    assert_eq!(nothing.status, StatusCode::UNPROCESSABLE_ENTITY);
    let bad_field = s
        .post_json(
            "/api/exports",
            Some("coord"),
            json!({"ids": [s.photo], "withhold": ["GPS!"]}),
        )
        .await;
    assert_eq!(bad_field.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(s.tree_size(), size + 1);
}

fn tus(s: &Server, method: Method, uri: &str, who: &str) -> axum::http::request::Builder {
    s.req(method, uri, Some(who))
        .header("tus-resumable", "1.0.0")
}

fn meta(pairs: &[(&str, &str)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k} {}", STANDARD.encode(v)))
        .collect::<Vec<_>>()
        .join(",")
}

async fn start_upload(s: &Server, who: &str, len: usize, metadata: &str) -> String {
    let a = s
        .send(
            tus(s, Method::POST, "/api/uploads", who)
                .header("upload-length", len.to_string())
                .header("upload-metadata", metadata)
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        a.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    a.headers[header::LOCATION].to_str().unwrap().to_owned()
}

async fn patch(
    s: &Server,
    who: &str,
    at: &str,
    offset: usize,
    bytes: &[u8],
    checksum: Option<String>,
) -> Answer {
    let mut b = tus(s, Method::PATCH, at, who)
        .header("upload-offset", offset.to_string())
        .header(header::CONTENT_TYPE, "application/offset+octet-stream");
    if let Some(c) = checksum {
        b = b.header("upload-checksum", c);
    }
    s.send(b.body(Body::from(bytes.to_vec())).unwrap()).await
}

#[tokio::test]
async fn a_tus_upload_resumes_checks_and_seals_once() {
    let s = server();
    let data = std::fs::read(sample("notice.pdf")).unwrap();
    let sha = hex(&Sha256::digest(&data));
    let md = meta(&[
        ("filename", "notice.pdf"),
        ("tags", "procurement,camp"),
        ("sha256", &sha),
        ("captured-at", "2024-03-01T09:30:00+08:00"),
    ]);
    let at = start_upload(&s, "collector", data.len(), &md).await;
    let head = s
        .send(
            tus(&s, Method::HEAD, &at, "collector")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(head.status, StatusCode::OK);
    assert_eq!(head.headers["upload-offset"], "0");
    assert!(head.headers.contains_key("upload-expires"));
    // Another account does not see it.
    let theirs = s
        .send(
            tus(&s, Method::HEAD, &at, "collector2")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(theirs.status, StatusCode::NOT_FOUND);

    let half = data.len() / 2;
    let size = s.tree_size();
    let a = patch(&s, "collector", &at, 0, &data[..half], None).await;
    assert_eq!(a.status, StatusCode::NO_CONTENT);
    assert_eq!(a.headers["upload-offset"], half.to_string().as_str());
    // An offset that lies is refused and changes nothing.
    let lie = patch(&s, "collector", &at, half + 10, &data[half..], None).await;
    assert_eq!(lie.status, StatusCode::CONFLICT);
    assert!(
        lie.json()["error"]
            .as_str()
            .unwrap()
            .contains("Upload-Offset")
    );
    let wrong_sum = format!("sha256 {}", STANDARD.encode([0u8; 32]));
    let bad = patch(&s, "collector", &at, half, &data[half..], Some(wrong_sum)).await;
    assert_eq!(bad.status.as_u16(), 460);
    let head = s
        .send(
            tus(&s, Method::HEAD, &at, "collector")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(head.headers["upload-offset"], half.to_string().as_str());
    assert_eq!(s.tree_size(), size, "nothing sealed before the last byte");

    let sum = format!("sha256 {}", STANDARD.encode(Sha256::digest(&data[half..])));
    let done = patch(&s, "collector", &at, half, &data[half..], Some(sum)).await;
    assert_eq!(
        done.status,
        StatusCode::NO_CONTENT,
        "{}",
        String::from_utf8_lossy(&done.body)
    );
    let id = done.headers["x-guwah-item"].to_str().unwrap().to_owned();
    assert_eq!(s.tree_size(), size + 2, "the item and its received event");
    let item = s
        .get(&format!("/api/items/{id}"), Some("collector"))
        .await
        .json();
    assert_eq!(item["sha256"], sha.as_str());
    let fields = item["fields"].to_string();
    assert!(
        fields.contains("submitted-by") && fields.contains("\"collector\""),
        "{fields}"
    );
    assert!(item["custody"].to_string().contains("received"));
    // A client that lost the answer learns it is complete.
    let head = s
        .send(
            tus(&s, Method::HEAD, &at, "collector")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(
        head.headers["upload-offset"],
        data.len().to_string().as_str()
    );
    assert_eq!(head.headers["x-guwah-item"], id.as_str());

    // The same bytes again are the same item, with a second received event.
    let again = start_upload(&s, "coord", data.len(), &meta(&[("filename", "copy.pdf")])).await;
    let a = patch(&s, "coord", &again, 0, &data, None).await;
    assert_eq!(a.headers["x-guwah-item"], id.as_str());
    assert_eq!(s.tree_size(), size + 3);
}

#[tokio::test]
async fn an_upload_whose_hash_does_not_match_is_refused_whole() {
    let s = server();
    let data = b"a photo of the police officer's badge".to_vec();
    let md = meta(&[("sha256", &hex(&Sha256::digest(b"something else")))]);
    let at = start_upload(&s, "collector", data.len(), &md).await;
    let size = s.tree_size();
    let a = patch(&s, "collector", &at, 0, &data, None).await;
    assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(a.json()["error"].as_str().unwrap().contains("SHA-256"));
    assert_eq!(s.tree_size(), size);
    // Too long a body, bad metadata, no version, termination.
    let at = start_upload(&s, "collector", 4, "").await;
    assert_eq!(
        patch(&s, "collector", &at, 0, b"hello", None).await.status,
        StatusCode::PAYLOAD_TOO_LARGE
    );
    let no_version = s
        .send(
            s.req(Method::POST, "/api/uploads", Some("collector"))
                .header("upload-length", "4")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(no_version.status, StatusCode::PRECONDITION_FAILED);
    for bad_meta in ["sha256 eHg=", "colour cmVk", "filename !!!"] {
        let a = s
            .send(
                tus(&s, Method::POST, "/api/uploads", "collector")
                    .header("upload-length", "4")
                    .header("upload-metadata", bad_meta)
                    .body(Body::empty())
                    .unwrap(),
            )
            .await;
        assert!(a.status.is_client_error(), "{bad_meta}: {}", a.status);
    }
    let huge = s
        .send(
            tus(&s, Method::POST, "/api/uploads", "collector")
                .header("upload-length", (65u64 << 30).to_string())
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(huge.status, StatusCode::PAYLOAD_TOO_LARGE);
    let del = s
        .send(
            tus(&s, Method::DELETE, &at, "collector")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(del.status, StatusCode::NO_CONTENT);
    let gone = s
        .send(
            tus(&s, Method::HEAD, &at, "collector")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(gone.status, StatusCode::NOT_FOUND);
    assert_eq!(s.tree_size(), size);
}

#[tokio::test]
async fn a_push_is_re_verified_before_a_byte_is_taken() {
    let s = server();
    let dir = tempfile::tempdir().unwrap();
    let phone = Vault::init(
        &dir.path().join("phone"),
        b"phone pass",
        Some("example.org/phone"),
        FAST,
    )
    .unwrap();
    let text = std::fs::read(sample("testimony.txt")).unwrap();
    let input = dir.path().join("statement.txt");
    std::fs::write(&input, b"a statement, pushed from a phone's own vault").unwrap();
    let added = phone
        .add(
            &[input],
            &guwah_vault::AddOptions {
                note: Some("from the phone".into()),
                ..Default::default()
            },
            &mut |_| {},
        )
        .unwrap();
    let id = added.items[0].id.clone();
    let (bundle, _) = phone.push_out(&id, "https://server.example").unwrap();
    let good = team::push_request(&bundle);
    let size = s.tree_size();

    // Every tampering is refused by name, and nothing changes.
    let mut wrong_value = good.clone();
    for f in wrong_value["fields"].as_array_mut().unwrap() {
        if f[0] == "note" {
            f[1] = json!("from somewhere else");
        }
    }
    let mut wrong_index = good.clone();
    wrong_index["index"] = json!(bundle.index + 1);
    let mut other_key = good.clone();
    other_key["vkey"] = json!(s.state.vault.log_vkey());
    let mut bad_record = good.clone();
    let mut rec = bundle.record.clone();
    let last = rec.len() - 2;
    rec[last] ^= 1;
    bad_record["record"] = json!(STANDARD.encode(&rec));
    for (tampered, why) in [
        (&wrong_value, "field note"),
        (&wrong_index, "not in the sender's log"),
        (&other_key, "checkpoint"),
        (&bad_record, "record"),
    ] {
        let a = s
            .post_json("/api/push", Some("collector"), tampered.clone())
            .await;
        assert_eq!(a.status, StatusCode::UNPROCESSABLE_ENTITY, "{why}");
        let e = a.json()["error"].as_str().unwrap().to_owned();
        assert!(e.contains(why), "{why}: {e}");
    }
    assert_eq!(s.tree_size(), size);

    let a = s
        .post_json("/api/push", Some("collector"), good.clone())
        .await;
    assert_eq!(
        a.status,
        StatusCode::CREATED,
        "{}",
        String::from_utf8_lossy(&a.body)
    );
    let at = a.json()["upload"].as_str().unwrap().to_owned();
    let bytes = b"a statement, pushed from a phone's own vault";
    // Bytes that are not the record's are refused.
    let wrong = patch(&s, "collector", &at, 0, &bytes.map(|b| b ^ 1), None).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(s.tree_size(), size);
    let a = s
        .post_json("/api/push", Some("collector"), good.clone())
        .await;
    let at = a.json()["upload"].as_str().unwrap().to_owned();
    let done = patch(&s, "collector", &at, 0, bytes, None).await;
    assert_eq!(
        done.status,
        StatusCode::NO_CONTENT,
        "{}",
        String::from_utf8_lossy(&done.body)
    );
    let item = done.headers["x-guwah-item"].to_str().unwrap().to_owned();
    let shown = s
        .get(&format!("/api/items/{item}"), Some("coord"))
        .await
        .json()
        .to_string();
    for want in [
        "from-origin",
        "example.org/phone",
        "from-index",
        "from-checkpoint",
        "\"push\"",
        "from the phone",
    ] {
        assert!(shown.contains(want), "{want}: {shown}");
    }
    // The server knows what it has, and says so.
    let got = s
        .get(
            "/api/push/received?origin=example.org%2Fphone",
            Some("collector"),
        )
        .await
        .json();
    assert_eq!(got["indices"], json!([bundle.index]));
    let again = s.post_json("/api/push", Some("collector"), good).await;
    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.json()["item"], item.as_str());
    let _ = text;
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[tokio::test]
async fn search_finds_by_word_best_first_and_only_what_the_role_may_see() {
    let s = server();
    // "camp" is the photo's tag and in its note; the testimony mentions
    // no camp in its name.
    let a = s.get("/api/search?q=CAMPS", Some("reviewer")).await;
    assert_eq!(a.status, StatusCode::OK);
    let ids: Vec<String> = a.json()["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(
        ids,
        std::slice::from_ref(&s.photo),
        "stemmed and case-folded"
    );
    // collector2 did not submit the photo: it does not exist for them.
    let a = s.get("/api/search?q=camp", Some("collector2")).await;
    assert_eq!(a.json()["total"], 0);
    let a = s.get("/api/items?text=testimony", Some("collector2")).await;
    assert_eq!(a.json()["items"][0]["id"], s.other.as_str());
    // An item sealed after the index was built is found too.
    let bytes = b"new words: lager";
    s.state
        .vault
        .add_submission(
            &bytes[..],
            bytes.len() as u64,
            &guwah_vault::Submission {
                filename: Some("لاگېرغا بېرىش.txt".into()),
                via: "upload",
                ..Default::default()
            },
            "coord",
            "k",
        )
        .unwrap();
    let q: String = "لاگېر".bytes().map(|b| format!("%{b:02X}")).collect();
    let a = s.get(&format!("/api/search?q={q}"), Some("coord")).await;
    assert_eq!(a.json()["total"], 1, "{}", String::from_utf8_lossy(&a.body));
    for bad in [
        "/api/search",
        "/api/search?q=%20",
        "/api/search?q=x&limit=0",
    ] {
        let a = s.get(bad, Some("coord")).await;
        assert_eq!(a.status, StatusCode::BAD_REQUEST, "{bad}");
    }
}

#[tokio::test]
async fn an_upload_whose_client_left_after_the_last_byte_is_sealed_by_the_next_head() {
    // Every byte reached the spool, but the client went away (a reload)
    // before the server sealed it: HEAD must not say "complete" for an
    // item that does not exist; it seals it, once.
    let s = server();
    let key = s
        .state
        .vault
        .authenticate(&s.tokens["collector"])
        .unwrap()
        .unwrap()
        .key;
    let bytes = b"left before the answer".to_vec();
    let mut meta = BTreeMap::new();
    meta.insert("filename".to_owned(), "left.txt".to_owned());
    meta.insert("guwah.account".to_owned(), "collector".to_owned());
    let now = guwah_vault::unix_now();
    let up = s
        .state
        .spool
        .create(bytes.len() as u64, &key, meta, now, now + 3600)
        .unwrap();
    s.state.spool.append(&up.id, 0, &bytes[..], None).unwrap();
    let size = s.tree_size();
    let head = || {
        s.req(
            Method::HEAD,
            &format!("/api/uploads/{}", up.id),
            Some("collector"),
        )
        .header("tus-resumable", "1.0.0")
        .body(Body::empty())
        .unwrap()
    };
    let a = s.send(head()).await;
    assert_eq!(a.status, StatusCode::OK);
    assert_eq!(a.headers["upload-offset"], bytes.len().to_string().as_str());
    let item = a.headers["x-guwah-item"].to_str().unwrap().to_owned();
    assert!(s.tree_size() > size, "sealed");
    let again = s.send(head()).await;
    assert_eq!(again.headers["x-guwah-item"], item.as_str());
    let sealed: Vec<_> = s
        .state
        .vault
        .list()
        .unwrap()
        .into_iter()
        .filter(|i| i.filename.as_deref() == Some("left.txt"))
        .collect();
    assert_eq!(sealed.len(), 1, "sealed once");
}
