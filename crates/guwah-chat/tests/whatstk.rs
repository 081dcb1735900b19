//! The WhatsApp parser against a peer that knows the truth: PyPI `whatstk`
//! (installed by `scripts/test`) generates chats with known timestamps and
//! writes each in every header format it supports — day-, month- and
//! year-first (`%y-%m-%d`, `%y-%d-%m`, …), `-` `/` `.`, 12- and 24-hour,
//! with and without seconds and brackets. `tests/whatstk_peer.py` drives
//! it; every message's time, sender and text must come out exactly.
//!
//! Without `python3` the test skips with a message; with `python3` but no
//! whatstk it fails with the install command (it never passes silently).

use std::path::Path;
use std::process::Command;

use guwah_chat::{Limits, export};

#[test]
fn every_whatstk_header_format_is_dated_exactly() {
    if Command::new("python3").arg("--version").output().is_err() {
        eprintln!("SKIPPED: python3 is not installed, so the whatstk peer cannot run");
        return;
    }
    let probe = Command::new("python3")
        .args(["-c", "import whatstk.whatsapp.generation"])
        .output()
        .expect("python3 runs");
    assert!(
        probe.status.success(),
        "the whatstk peer is missing; install it with `python3 -m pip install 'whatstk[generate]==0.9.1'` (scripts/test does): {}",
        String::from_utf8_lossy(&probe.stderr)
    );
    let dir = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/whatstk_peer.py");
    let out = Command::new("python3")
        .arg(&script)
        .arg(dir.path())
        .output()
        .expect("python3 runs");
    assert!(
        out.status.success(),
        "whatstk_peer.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("{}", String::from_utf8_lossy(&out.stdout).trim());
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("manifest.json")).unwrap()).unwrap();
    let chats = manifest["chats"].as_array().unwrap();
    let mut formats = std::collections::BTreeSet::new();
    let (mut checked, mut warned) = (0usize, 0usize);
    for chat in chats {
        let file = chat["file"].as_str().unwrap();
        let format = chat["format"].as_str().unwrap();
        formats.insert(format.to_owned());
        let want = manifest["scenarios"][chat["scenario"].as_u64().unwrap() as usize]
            .as_array()
            .unwrap();
        let seconds = chat["seconds"].as_bool().unwrap();
        let o = export::open(&dir.path().join(file), &Limits::default()).unwrap_or_err(format);
        let c = &o.conversation;
        assert_eq!(c.messages.len(), want.len(), "{format}: message count");
        for (m, w) in c.messages.iter().zip(want) {
            let (time, user, text) = (w[0].as_str().unwrap(), w[1].as_str(), w[2].as_str());
            // A format without seconds writes the minute the message was in.
            let time = if seconds {
                time.to_owned()
            } else {
                format!("{}00", &time[..time.len() - 2])
            };
            assert_eq!(
                m.time.as_deref(),
                Some(time.as_str()),
                "{format}: message {} written {:?}",
                m.index,
                m.time_text
            );
            assert_eq!(m.sender.as_deref(), user, "{format}: message {}", m.index);
            assert_eq!(Some(m.text.as_str()), text, "{format}: message {}", m.index);
            checked += 1;
        }
        warned += usize::from(c.warnings.iter().any(|w| w.contains("ambiguous")));
    }
    println!(
        "whatstk {}: {} formats, {} chats, {checked} messages dated exactly; {warned} chats carry an order warning",
        manifest["whatstk"],
        formats.len(),
        chats.len()
    );
    assert_eq!(
        formats.len(),
        96,
        "whatstk's list of header formats changed"
    );
}

trait OrFormat<T> {
    fn unwrap_or_err(self, format: &str) -> T;
}

impl<T, E: std::fmt::Display> OrFormat<T> for Result<T, E> {
    fn unwrap_or_err(self, format: &str) -> T {
        self.unwrap_or_else(|e| panic!("{format}: {e}"))
    }
}
