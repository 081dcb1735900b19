//! `guwah user ...` through the binary: accounts of two roles from
//! password files, listed as text and JSON; a short password, a duplicate
//! name, a bad role and a missing password are refused with nothing added;
//! disabling shows; a token is printed once and stored only as its hash.

mod common;

use std::fs;
use std::path::Path;

use common::*;

/// The accounts as `user list --json` gives them.
fn accounts(v: &TestVault) -> Vec<serde_json::Value> {
    let out = v.ok(&["--json", "user", "list"]);
    match serde_json::from_str(&out).expect("user list --json is JSON") {
        serde_json::Value::Array(a) => a,
        other => panic!("not an array: {other}"),
    }
}

/// The rows of `user list`, each split into its columns.
fn rows(v: &TestVault) -> Vec<Vec<String>> {
    let out = v.ok(&["user", "list"]);
    let mut lines = out.lines();
    let head: Vec<&str> = lines.next().unwrap().split_whitespace().collect();
    assert_eq!(head, ["NAME", "ROLE", "STATUS", "CREATED"]);
    lines
        .map(|l| l.split_whitespace().map(str::to_owned).collect())
        .collect()
}

/// Run, require a failure other than a crash; returns both streams.
fn refused(v: &TestVault, args: &[&str]) -> String {
    let o = v.run(args);
    let code = o.status.code().expect("exited");
    assert!(
        code != 0 && code < 100,
        "{args:?} exited {code}:\n{}",
        text(&o)
    );
    text(&o)
}

/// Whether any file under `dir` holds `needle`.
fn anywhere(dir: &Path, needle: &[u8]) -> bool {
    fs::read_dir(dir).unwrap().flatten().any(|e| {
        let p = e.path();
        if p.is_dir() {
            anywhere(&p, needle)
        } else {
            let b = fs::read(&p).unwrap_or_default();
            b.windows(needle.len()).any(|w| w == needle)
        }
    })
}

#[test]
fn accounts_are_added_listed_disabled_and_given_tokens() {
    let v = TestVault::init();
    let pa = v.file("pa", b"amina's long password\n");
    let pb = v.file("pb", b"bashir's long password\r\nsecond line ignored\n");
    v.ok(&[
        "user",
        "add",
        "amina",
        "--role",
        "reviewer",
        "--password-file",
        &pa,
    ]);
    let added = v.ok(&[
        "--json",
        "user",
        "add",
        "bashir",
        "--role",
        "collector",
        "--password-file",
        &pb,
    ]);
    let added: serde_json::Value = serde_json::from_str(&added).unwrap();
    assert_eq!(added["name"], "bashir");
    assert_eq!(added["role"], "collector");

    // Text: NAME ROLE STATUS CREATED, by name, times in RFC 3339.
    let r = rows(&v);
    assert_eq!(r.len(), 2, "{r:?}");
    assert_eq!(r[0][..3], ["amina", "reviewer", "active"]);
    assert_eq!(r[1][..3], ["bashir", "collector", "active"]);
    for row in &r {
        let t = &row[3];
        assert!(
            t.len() == 20 && t.ends_with('Z') && t.as_bytes()[10] == b'T',
            "{t}"
        );
    }

    // JSON: exactly {name, role, disabled, created_at}.
    let a = accounts(&v);
    assert_eq!(a.len(), 2);
    let mut keys: Vec<&str> = a[0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort();
    assert_eq!(keys, ["created_at", "disabled", "name", "role"]);
    assert_eq!(a[0]["name"], "amina");
    assert_eq!(a[0]["role"], "reviewer");
    assert_eq!(a[0]["disabled"], false);
    assert!(a[0]["created_at"].as_i64().unwrap() > 1_600_000_000);

    // Refused, and nothing added: a short password, a duplicate name, a
    // bad role, no password at all (stdin is not a terminal here).
    let short = v.file("short", b"too short\n");
    let msg = refused(
        &v,
        &[
            "user",
            "add",
            "carol",
            "--role",
            "viewer",
            "--password-file",
            &short,
        ],
    );
    assert!(msg.contains("12 characters"), "{msg}");
    let msg = refused(
        &v,
        &[
            "user",
            "add",
            "amina",
            "--role",
            "viewer",
            "--password-file",
            &pa,
        ],
    );
    assert!(msg.contains("exists already"), "{msg}");
    let msg = refused(
        &v,
        &[
            "user",
            "add",
            "carol",
            "--role",
            "root",
            "--password-file",
            &pa,
        ],
    );
    assert!(msg.contains("is not one of admin"), "{msg}");
    let o = v.run(&["user", "add", "carol", "--role", "viewer"]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("--password-file"), "{}", text(&o));
    assert_eq!(accounts(&v).len(), 2);
    assert_eq!(accounts(&v)[0]["role"], "reviewer");

    // Role and password changes.
    v.ok(&["user", "role", "amina", "coordinator"]);
    assert_eq!(rows(&v)[0][1], "coordinator");
    let pa2 = v.file("pa2", b"amina's newer password\n");
    v.ok(&["user", "password", "amina", "--password-file", &pa2]);
    refused(
        &v,
        &["user", "password", "amina", "--password-file", &short],
    );
    refused(&v, &["user", "role", "nobody", "viewer"]);

    // A token: once on stdout, a warning on stderr, only its hash stored.
    let o = v.run(&["user", "token", "amina"]);
    must_succeed(&o, "user token");
    let out = String::from_utf8(o.stdout.clone()).unwrap();
    let token = out.trim_end_matches('\n');
    assert!(
        token.starts_with("gwt_") && !token.contains('\n'),
        "{out:?}"
    );
    assert!(String::from_utf8_lossy(&o.stderr).contains("only once"));
    let listed = v.ok(&["user", "list"]) + &v.ok(&["--json", "user", "list"]);
    assert!(
        !listed.contains(token) && !listed.contains("gwt_"),
        "{listed}"
    );
    assert!(
        !anywhere(&v.root, token.as_bytes()),
        "the token is stored in clear"
    );
    let j: serde_json::Value =
        serde_json::from_str(&v.ok(&["--json", "user", "token", "amina"])).unwrap();
    assert_eq!(j["name"], "amina");
    assert!(j["token"].as_str().unwrap().starts_with("gwt_"));
    assert_ne!(j["token"].as_str().unwrap(), token);

    // Disabled: shown as such, and no token for it.
    v.ok(&["user", "disable", "bashir"]);
    assert_eq!(rows(&v)[1][..3], ["bashir", "collector", "disabled"]);
    assert_eq!(accounts(&v)[1]["disabled"], true);
    let msg = refused(&v, &["user", "token", "bashir"]);
    assert!(msg.contains("disabled"), "{msg}");

    // Every change is in the log: the vault still verifies.
    v.ok(&["verify"]);
}

#[test]
fn the_help_teaches_roles_and_serving() {
    let v = TestVault::init();
    let help = v.ok(&["user", "add", "--help"]);
    for role in ["admin", "coordinator", "reviewer", "collector", "viewer"] {
        assert!(
            help.contains(&format!("\n  {role} ")),
            "{role} missing:\n{help}"
        );
    }
    let help = v.ok(&["serve", "--help"]);
    for word in [
        "--passphrase-file",
        "GUWAH_PASSPHRASE",
        "guwah user add",
        "--secure-cookies",
        "--trusted-proxy",
    ] {
        assert!(help.contains(word), "{word} missing:\n{help}");
    }
}
