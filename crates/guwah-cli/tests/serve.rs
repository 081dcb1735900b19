//! `guwah serve` end to end, with clients none of us wrote:
//!
//! - tus-js-client (npm, run by node) uploads a file over HTTPS (rustls,
//!   a certificate made here by openssl), the connection cut in the middle
//!   of a chunk, then resumed from where the server stands; the item is
//!   sealed once, byte-exact, naming the collector;
//! - schemathesis (PyPI) generates requests from `/api/openapi.json` and
//!   finds no server error and no answer that breaks the document.
//!
//! Needs node, npm, openssl and schemathesis (`st`); fails (does not skip)
//! with the install commands when they are missing (`scripts/test`
//! installs them).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::server::{account, serve};
use common::{PASS, TestVault, guwah_cmd, must_succeed, text};
use serde_json::Value;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn need(cmd: &str, arg: &str, hint: &str) {
    let ok = Command::new(cmd)
        .arg(arg)
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(ok, "{cmd} is needed for this test: {hint}");
}

fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
    need("openssl", "version", "apt-get install -y openssl");
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let o = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:P-256",
            "-nodes",
        ])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .args([
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
        ])
        .output()
        .expect("run openssl");
    must_succeed(&o, "openssl req");
    (cert, key)
}

#[test]
fn tus_js_client_uploads_over_https_through_a_cut_connection() {
    let hint = "apt-get install -y nodejs npm";
    need("node", "--version", hint);
    need("npm", "--version", hint);
    let peer = repo_root().join("tests/peer/tus");
    if !peer.join("node_modules/tus-js-client").is_dir() {
        let o = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--silent"])
            .current_dir(&peer)
            .output()
            .expect("npm ci");
        must_succeed(&o, "npm ci in tests/peer/tus");
    }
    let v = TestVault::init();
    let token = account(&v, "amina", "collector");
    let (cert, key) = self_signed(&v.work);
    let server = serve(
        &v,
        &[
            "--tls-cert",
            cert.to_str().unwrap(),
            "--tls-key",
            key.to_str().unwrap(),
        ],
    );
    assert!(server.url.starts_with("https://"), "{}", server.url);

    // 12 MiB that compress to nothing useful, in 1 MiB chunks: the cut
    // falls inside the fifth.
    let mut rng = common::Rng::from_env("tus");
    let data = rng.bytes(12 << 20);
    let file = v.file("video-outside-the-flat.mp4", &data);
    let o = Command::new("node")
        .arg(peer.join("upload.mjs"))
        .args([&server.url, &token, &file, "0.4"])
        .env("NODE_EXTRA_CA_CERTS", &cert)
        .output()
        .expect("run node");
    must_succeed(&o, "node upload.mjs (tus-js-client)");
    let out: Value = serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("upload.mjs printed {}: {e}", text(&o)));
    let resumed = out["resumedFrom"].as_u64().unwrap();
    assert!(
        resumed > 0 && resumed < data.len() as u64,
        "the server kept what arrived before the cut: {out}"
    );
    let item = out["item"]
        .as_str()
        .expect("the server named the item")
        .to_owned();

    let list = v.list();
    assert_eq!(list.len(), 1, "sealed once: {list:?}");
    assert_eq!(list[0]["id"], item.as_str());
    assert_eq!(
        list[0]["sha256"],
        common::hex(&common::sha256(&data)).as_str()
    );
    assert_eq!(v.get(&item), data, "byte-exact");
    let show: Value = serde_json::from_str(&v.ok(&["--json", "show", &item])).unwrap();
    let shown = show.to_string();
    assert!(
        shown.contains("submitted-by") && shown.contains("amina"),
        "{shown}"
    );
    assert!(shown.contains("received"), "{shown}");
}

#[test]
fn push_sends_a_second_vault_s_items_once() {
    let server_vault = TestVault::init();
    let token = account(&server_vault, "field-phone", "collector");
    let server = serve(&server_vault, &[]);
    // The collector's own vault, with its own log.
    let phone = tempfile::tempdir().unwrap();
    let root = phone.path().join("vault");
    let o = guwah_cmd(&root, Some(PASS))
        .args(["init", "--origin", "example.org/field-phone"])
        .output()
        .unwrap();
    must_succeed(&o, "guwah init (phone)");
    let samples = repo_root().join("samples/evidence");
    let o = guwah_cmd(&root, Some(PASS))
        .arg("add")
        .arg(samples.join("testimony.txt"))
        .arg(samples.join("call-screenshot.png"))
        .args(["--source", "a relative abroad"])
        .output()
        .unwrap();
    must_succeed(&o, "guwah add (phone)");
    let push = || {
        let o = guwah_cmd(&root, Some(PASS))
            .args(["--json", "push", "--server", &server.url, "--token", &token])
            .output()
            .unwrap();
        must_succeed(&o, "guwah push");
        serde_json::from_slice::<Value>(&o.stdout).unwrap()
    };
    let first = push();
    assert_eq!(first["sent"].as_array().unwrap().len(), 2, "{first}");
    let again = push();
    assert_eq!(again["sent"].as_array().unwrap().len(), 0, "{again}");
    assert_eq!(again["already"], 2, "only what is missing is sent: {again}");

    let list = server_vault.list();
    assert_eq!(list.len(), 2);
    for item in &list {
        let id = item["id"].as_str().unwrap();
        let show = server_vault.ok(&["--json", "show", id]);
        for want in [
            "from-origin",
            "example.org/field-phone",
            "from-checkpoint",
            "a relative abroad",
            "field-phone",
        ] {
            assert!(show.contains(want), "{want}: {show}");
        }
    }
    // The phone's log says where they went.
    let o = guwah_cmd(&root, Some(PASS))
        .args(["--json", "list"])
        .output()
        .unwrap();
    let id = serde_json::from_slice::<Value>(&o.stdout).unwrap()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let o = guwah_cmd(&root, Some(PASS))
        .args(["--json", "show", &id])
        .output()
        .unwrap();
    let shown = String::from_utf8_lossy(&o.stdout);
    assert!(
        shown.contains("\"push\"") && shown.contains(&server.url),
        "{shown}"
    );
}

#[test]
fn schemathesis_finds_no_server_error_and_no_answer_off_the_schema() {
    need(
        "st",
        "--version",
        "python3 -m pip install 'schemathesis==4.32.5'",
    );
    let v = TestVault::init();
    let token = account(&v, "coord", "coordinator");
    let photo = repo_root().join("samples/evidence/street-photo.jpg");
    v.ok(&["add", photo.to_str().unwrap()]);
    let admin = account(&v, "root", "admin");
    let server = serve(&v, &[]);
    // As a coordinator over every route but two: `POST /api/logout` would
    // revoke the token the run uses, and a tus `PATCH` body
    // (application/offset+octet-stream) is a type schemathesis cannot
    // make (tus-js-client covers it above). Then as an admin over the
    // admin routes, but disabling or demoting an account: schemathesis
    // follows the names `GET /api/users` lists, its own included (the
    // router tests cover both).
    for (who, scope) in [
        (
            &token,
            vec![
                "--exclude-path",
                "/api/logout",
                "--exclude-method",
                "PATCH",
                "--exclude-tag",
                "admin",
            ],
        ),
        (
            &admin,
            vec![
                "--include-tag",
                "admin",
                "--exclude-path",
                "/api/users/{name}/disable",
                "--exclude-path",
                "/api/users/{name}/role",
            ],
        ),
    ] {
        // schemathesis keeps a cache in its working folder: not the repo's.
        let work = tempfile::tempdir().unwrap();
        let o = Command::new("st")
            .current_dir(work.path())
            .args(["run", &format!("{}/api/openapi.json", server.url)])
            .args([
                "--checks",
                "not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance",
            ])
            .args(["--header", &format!("Authorization: Bearer {who}")])
            .args(scope)
            .args(["--max-examples", "25", "--seed", "1", "--request-timeout", "20"])
            .env("NO_COLOR", "1")
            .output()
            .expect("run schemathesis");
        must_succeed(&o, "schemathesis (st run)");
        let out = text(&o);
        assert!(!out.contains("Authentication failed"), "{out}");
    }
}
