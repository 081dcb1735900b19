//! Tampering: flip a byte of every file of a vault (on a copy), truncate,
//! delete and swap files; `guwah verify` must fail and name what is
//! damaged. And: no plaintext marker ever reaches the vault folder.

mod common;

use std::fs;
use std::path::Path;
use std::process::Output;
use std::sync::OnceLock;

use common::*;

/// A vault of four items (one larger than 64 KiB) added in two calls, and
/// one custody event (a `get`); built once, copied for every case.
struct Fixture {
    vault: TestVault,
    /// (id, filename) of every item.
    items: Vec<(String, String)>,
    /// `list --json` and every `show --json`, to tell logical changes.
    logical: String,
}

fn logical_view(root: &Path, items: &[(String, String)]) -> String {
    let mut s = String::new();
    for args in std::iter::once(vec!["--json", "list"]).chain(
        items
            .iter()
            .map(|(id, _)| vec!["--json", "show", id.as_str()]),
    ) {
        let o = run_in(root, &args);
        s += &format!("{:?}\n{}\n", o.status.code(), text(&o));
    }
    s
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let v = TestVault::init();
        let mut rng = Rng::from_env("tamper");
        let big = rng.bytes(100_000);
        let mut jpeg = vec![0xff, 0xd8, 0xff, 0xe0];
        jpeg.extend(rng.bytes(3000));
        let mut items = v.add(&[
            &v.file("statement.txt", b"I saw it happen.\n"),
            &v.file("photo.jpg", &jpeg),
            &v.file("video.bin", &big),
        ]);
        items.extend(v.add(&[&v.file("second.txt", b"added later\n")]));
        v.ok(&[
            "get",
            &items[0].0,
            "--out",
            &v.work.join("out.txt").to_string_lossy(),
        ]);
        let out = v.ok(&["verify"]);
        assert!(out.starts_with("OK"), "fixture does not verify: {out}");
        let logical = logical_view(&v.root, &items);
        Fixture {
            vault: v,
            items,
            logical,
        }
    })
}

/// Whether `out` names `rel` as a whole path (not a longer one it prefixes).
fn names_path(out: &str, rel: &str) -> bool {
    out.match_indices(rel).any(|(i, _)| {
        out[i + rel.len()..]
            .chars()
            .next()
            .is_none_or(|c| !(c.is_ascii_alphanumeric() || c == '/' || c == '.'))
    })
}

/// The log entry whose bytes hold `pos` in an entry bundle, if any.
fn bundle_entry(rel: &str, bytes: &[u8], pos: usize) -> Option<u64> {
    let tile = rel.strip_prefix("log/tile/entries/")?;
    let first: u64 = tile
        .split(['/', '.'])
        .next()?
        .trim_start_matches('x')
        .parse()
        .ok()?;
    let (mut at, mut k) = (0usize, 0u64);
    while at + 2 <= bytes.len() {
        let len = usize::from(u16::from_be_bytes([bytes[at], bytes[at + 1]]));
        if pos < at + 2 + len {
            return Some(first * 256 + k);
        }
        at += 2 + len;
        k += 1;
    }
    None
}

/// What in the output would count as naming the damaged thing.
fn acceptable_names(rel: &str, bytes: &[u8], pos: Option<usize>) -> Vec<String> {
    let mut names = vec![rel.to_owned()];
    if rel.starts_with("blobs/") {
        names.push(rel.rsplit('/').next().unwrap().to_owned());
    }
    if rel == "index.sqlite" {
        names.extend(["index row".into(), "index content row".into()]);
    }
    if let Some(e) = pos.and_then(|p| bundle_entry(rel, bytes, p)) {
        names.push(format!("log entry {e} "));
        names.push(format!("log entry {e}:"));
    }
    names
}

fn first_line(o: &Output) -> String {
    let t = text(o);
    t.lines()
        .find(|l| l.starts_with("BROKEN") || l.starts_with("guwah: error"))
        .or_else(|| t.lines().next())
        .unwrap_or("")
        .chars()
        .take(150)
        .collect()
}

struct Row {
    file: String,
    what: String,
    code: Option<i32>,
    line: String,
    verdict: &'static str,
}

/// Run verify on `copy` (already damaged) and judge the result.
fn judge(copy: &Path, rel: &str, what: String, names: &[String], rows: &mut Vec<Row>) {
    let o = run_in(copy, &["verify"]);
    let out = text(&o);
    let code = o.status.code();
    let named = names.iter().any(|n| {
        if n == rel {
            names_path(&out, n)
        } else {
            out.contains(n.as_str())
        }
    });
    let verdict = if code == Some(0) {
        // Only acceptable for SQLite bytes that carry nothing: the logical
        // content (list and show of every item) must then be unchanged.
        if rel == "index.sqlite" && logical_view(copy, &fixture().items) == fixture().logical {
            "ok: unused SQLite byte, no logical change"
        } else {
            "BUG: NOT DETECTED"
        }
    } else if !named {
        "BUG: detected, but does not name it"
    } else {
        "ok"
    };
    rows.push(Row {
        file: rel.to_owned(),
        what,
        code,
        line: first_line(&o),
        verdict,
    });
}

fn print_and_check(title: &str, rows: &[Row]) {
    eprintln!(
        "\n{title}\n{:<54} {:<14} {:>4}  {:<40} first BROKEN/error line",
        "file", "change", "exit", "verdict"
    );
    for r in rows {
        eprintln!(
            "{:<54} {:<14} {:>4}  {:<40} {}",
            r.file,
            r.what,
            r.code.map_or("sig".into(), |c| c.to_string()),
            r.verdict,
            r.line
        );
    }
    let bad: Vec<&Row> = rows
        .iter()
        .filter(|r| r.verdict.starts_with("BUG"))
        .collect();
    assert!(
        bad.is_empty(),
        "{} tampering case(s) not handled:\n{}",
        bad.len(),
        bad.iter()
            .map(|r| format!("  {} {}: {} ({})", r.file, r.what, r.verdict, r.line))
            .collect::<Vec<_>>()
            .join("\n")
    );
}

/// The files to tamper with: everything but the `lock` files, which are
/// empty `flock` targets (no byte to flip, no content to protect).
fn targets() -> Vec<(String, Vec<u8>)> {
    let f = fixture();
    let files: Vec<(String, Vec<u8>)> = files_under(&f.vault.root)
        .into_iter()
        .map(|rel| {
            let b = fs::read(f.vault.root.join(&rel)).unwrap();
            (rel, b)
        })
        .collect();
    for (rel, b) in &files {
        let is_lock = rel == "lock" || rel.ends_with(".lock");
        assert!(is_lock || !b.is_empty(), "{rel} is empty");
        assert!(!is_lock || b.is_empty(), "lock file {rel} holds data");
    }
    // Every kind of file is there.
    for kind in [
        "blobs/",
        "log/tile/entries/",
        "log/tile/0/",
        "log/checkpoints/",
        "log/checkpoint",
        "guwah.vault",
        "keys.sealed",
        "index.sqlite",
    ] {
        assert!(
            files.iter().any(|(r, _)| r.starts_with(kind)),
            "no {kind} in the fixture"
        );
    }
    files
        .into_iter()
        .filter(|(rel, _)| !(rel == "lock" || rel.ends_with(".lock")))
        .collect()
}

fn fresh_copy() -> (tempfile::TempDir, std::path::PathBuf) {
    let tmp = tempfile::tempdir().unwrap();
    let copy = tmp.path().join("vault");
    copy_tree(&fixture().vault.root, &copy);
    (tmp, copy)
}

#[test]
fn every_flipped_byte_is_found_and_named() {
    let f = fixture();
    let mut rows = Vec::new();
    for (rel, bytes) in targets() {
        let mut positions = vec![
            ("start", 0),
            ("middle", bytes.len() / 2),
            ("end", bytes.len() - 1),
        ];
        if rel == "guwah.vault" {
            // Also inside the fourth line, the collector's key.
            let text = String::from_utf8(bytes.clone()).unwrap();
            let at = text.find("\ncollector ").expect("collector line") + 20;
            positions.push(("collector", at));
        }
        if rel == "index.sqlite" {
            // Also inside a row: the first byte of an item id stored there.
            let id = f.items[1].0.as_bytes();
            let at = bytes
                .windows(id.len())
                .position(|w| w == id)
                .expect("item id in the index");
            positions.push(("row", at));
        }
        positions.dedup_by_key(|p| p.1);
        for (label, pos) in positions {
            let (_tmp, copy) = fresh_copy();
            let mut b = bytes.clone();
            b[pos] ^= 0x01;
            fs::write(copy.join(&rel), &b).unwrap();
            let names = acceptable_names(&rel, &bytes, Some(pos));
            judge(
                &copy,
                &rel,
                format!("flip {label}@{pos}"),
                &names,
                &mut rows,
            );
        }
    }
    print_and_check("one byte flipped (xor 0x01), on a copy of the vault", &rows);
}

#[test]
fn truncated_deleted_and_swapped_files_are_found_and_named() {
    let mut rows = Vec::new();
    let files = targets();
    let blobs: Vec<&(String, Vec<u8>)> = files
        .iter()
        .filter(|(r, _)| r.starts_with("blobs/"))
        .collect();
    for (rel, bytes) in &files {
        if rel.starts_with("log/checkpoint") {
            continue; // see deleted_or_rolled_back_checkpoints_are_found
        }
        let mut names = acceptable_names(rel, bytes, None);
        if rel.starts_with("blobs/") {
            let (_tmp, copy) = fresh_copy();
            fs::write(copy.join(rel), &bytes[..bytes.len() / 2]).unwrap();
            judge(&copy, rel, "truncate half".into(), &names, &mut rows);
        }
        let (_tmp, copy) = fresh_copy();
        fs::remove_file(copy.join(rel)).unwrap();
        if rel == "guwah.vault" {
            names.push("not a guwah vault".into());
        }
        judge(&copy, rel, "delete".into(), &names, &mut rows);
    }
    // Swap two blobs' contents (the big one with a small one).
    // (Blob names are keyed hashes, random per vault: pick by size, not order.)
    let b = blobs.iter().max_by_key(|(_, b)| b.len()).unwrap();
    let a = blobs.iter().find(|(name, _)| *name != b.0).unwrap();
    assert_ne!(a.0, b.0);
    let (_tmp, copy) = fresh_copy();
    fs::write(copy.join(&a.0), &b.1).unwrap();
    fs::write(copy.join(&b.0), &a.1).unwrap();
    for (x, label) in [(a, "swapped with"), (b, "  ...and this")] {
        let names = acceptable_names(&x.0, &x.1, None);
        judge(&copy, &x.0, label.into(), &names, &mut rows);
    }
    print_and_check("files truncated, deleted, swapped", &rows);
}

/// The latest checkpoint deleted, or replaced by an earlier (validly
/// signed) one: a rollback that hides entries. The history checkpoints
/// past it prove the log was longer.
#[test]
fn deleted_or_rolled_back_checkpoints_are_found() {
    let files = targets();
    let history: Vec<&(String, Vec<u8>)> = files
        .iter()
        .filter(|(r, _)| r.starts_with("log/checkpoints/"))
        .collect();
    let mut rows = Vec::new();
    let names = vec!["log/checkpoint".to_owned()];
    let (_tmp, copy) = fresh_copy();
    fs::remove_file(copy.join("log/checkpoint")).unwrap();
    judge(&copy, "log/checkpoint", "delete".into(), &names, &mut rows);
    let (_tmp, copy) = fresh_copy();
    fs::write(copy.join("log/checkpoint"), &history[0].1).unwrap();
    judge(
        &copy,
        "log/checkpoint",
        format!("= {}", history[0].0),
        &names,
        &mut rows,
    );
    // Deleting one history copy: nothing records which sizes existed, so
    // this is shown, not required (the latest one's copy is re-made by the
    // next write).
    for (rel, _) in &history {
        let (_tmp, copy) = fresh_copy();
        fs::remove_file(copy.join(rel)).unwrap();
        judge(
            &copy,
            rel,
            "delete".into(),
            std::slice::from_ref(rel),
            &mut rows,
        );
        let r = rows.last_mut().unwrap();
        if r.verdict == "BUG: NOT DETECTED" {
            r.verdict = "info: not detected (not required)";
        }
    }
    print_and_check("checkpoints deleted or rolled back", &rows);
}

/// A unique marker as file name, content, note and source must never reach
/// the vault folder in the clear, nor in UTF-16, also after `get` (whose
/// destination path carries the marker) and `annotate`.
#[test]
fn no_plaintext_marker_in_the_vault() {
    let v = TestVault::init();
    let mut rng = Rng::from_env("marker");
    let marker = format!("GuwahMarker{:016x}", rng.next_u64());
    let name = format!("{marker}.txt");
    let content = format!("The witness said: {marker}\n{marker}\n");
    let f = v.file(&name, content.as_bytes());
    let out = v.ok(&[
        "--json", "add", &f, "--note", &marker, "--source", &marker, "--tag", &marker,
    ]);
    let id = serde_json::from_str::<serde_json::Value>(&out).unwrap()["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let forms = |m: &str| -> Vec<(String, Vec<u8>)> {
        let le: Vec<u8> = m.encode_utf16().flat_map(u16::to_le_bytes).collect();
        let be: Vec<u8> = m.encode_utf16().flat_map(u16::to_be_bytes).collect();
        vec![
            ("UTF-8".into(), m.as_bytes().to_vec()),
            ("UTF-16LE".into(), le),
            ("UTF-16BE".into(), be),
        ]
    };
    let check = |when: &str| {
        let files = files_under(&v.root);
        for rel in &files {
            let bytes = fs::read(v.root.join(rel)).unwrap();
            for (form, needle) in forms(&marker) {
                assert!(
                    !bytes.windows(needle.len()).any(|w| w == needle.as_slice()),
                    "{when}: {rel} holds the marker in {form}"
                );
            }
        }
        eprintln!("marker: {when}: none of {} files holds it", files.len());
    };
    check("after add");
    let dest = v.work.join(format!("{marker}-export.txt"));
    v.ok(&[
        "get",
        &id,
        "--out",
        dest.to_str().unwrap(),
        "--reason",
        &marker,
    ]);
    assert_eq!(fs::read(&dest).unwrap(), content.as_bytes());
    check("after get");
    v.ok(&["annotate", &id, "--note", &marker]);
    check("after annotate");
    // And it is all still there, for the passphrase holder.
    let show = v.ok(&["show", &id]);
    assert!(
        show.matches(marker.as_str()).count() >= 5,
        "show lost the values:\n{show}"
    );
}
