//! A `guwah serve` started for a test, and accounts made with the CLI.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};

use serde_json::Value;

use super::{PASS, TestVault, guwah_cmd};

/// The password of every account these helpers make.
pub const USER_PASSWORD: &str = "a long field password";

/// A running `guwah serve`; killed when dropped.
pub struct Server {
    child: Child,
    /// Its base URL, without a trailing slash.
    pub url: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Start `guwah serve` on a free port over `v`, with `extra` flags.
pub fn serve(v: &TestVault, extra: &[&str]) -> Server {
    let mut args = vec!["--json", "serve", "--addr", "127.0.0.1:0"];
    args.extend_from_slice(extra);
    let mut child = guwah_cmd(&v.root, Some(PASS))
        .args(&args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start guwah serve");
    // `--json` prints one pretty JSON document: read until it is whole.
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut text = String::new();
    let v: Value = loop {
        let n = out
            .read_line(&mut text)
            .expect("guwah serve prints its address");
        assert!(n > 0, "guwah serve printed {text:?} and stopped");
        if let Ok(v) = serde_json::from_str(&text) {
            break v;
        }
    };
    Server {
        child,
        url: v["url"]
            .as_str()
            .expect("url")
            .trim_end_matches('/')
            .to_owned(),
    }
}

/// Make an account of `role` and return an API token for it.
pub fn account(v: &TestVault, name: &str, role: &str) -> String {
    let pw = v.file(&format!("{name}.password"), USER_PASSWORD.as_bytes());
    v.ok(&["user", "add", name, "--role", role, "--password-file", &pw]);
    let out: Value = serde_json::from_str(&v.ok(&["--json", "user", "token", name])).unwrap();
    out["token"].as_str().expect("token").to_owned()
}
