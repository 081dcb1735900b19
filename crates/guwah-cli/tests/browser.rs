//! The browser verifier, end to end: a vault built and exported with the
//! real `guwah` binary, `verify.html` written by `guwah verifier write`, and
//! the tests in `tests/browser/` (node driving Debian's headless Chromium
//! through playwright-core):
//!
//! - `verify.test.mjs`: a valid package (folder and zip) and tampered ones
//!   (a payload byte flipped, a receipt altered), the page's own behaviour;
//! - `parity.mjs`: one verdict. The same valid and tampered packages, with
//!   the same policy (trusted key, witness keys and minimum, TSA roots,
//!   disclosure files), checked by `guwah verify-bundle --json` and by the
//!   page must give the same report: the same verdict, the same failures
//!   (kinds and paths), everything else alike.
//!
//! Needs node, npm, /usr/bin/chromium and openssl (the local TSA); fails
//! (does not skip) with the install commands if they are missing.

mod common;
mod tsa;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};

use common::{TestVault, copy_tree, files_under, reseal_tag_manifests, start_witness};
use guwah_core::item_file::ItemFile;
use serde_json::{Value, json};

const INSTALL_HINT: &str = "install them with:\n    apt-get update && apt-get install -y chromium nodejs npm openssl\n\
(playwright-core is installed from tests/browser/package-lock.json by this test: `npm ci`)";

/// One Chromium at a time: the tests of this file run in parallel threads.
static BROWSER: Mutex<()> = Mutex::new(());

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn have(cmd: &str, version_arg: &str) -> bool {
    Command::new(cmd)
        .arg(version_arg)
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Checks node, npm, Chromium and openssl are there and playwright-core
/// is installed; returns Chromium's path and `tests/browser/`.
fn prerequisites() -> (String, PathBuf) {
    let chromium = std::env::var("GUWAH_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let mut missing = Vec::new();
    for (cmd, arg) in [
        ("node", "--version"),
        ("npm", "--version"),
        ("openssl", "version"),
    ] {
        if !have(cmd, arg) {
            missing.push(cmd);
        }
    }
    if !Path::new(&chromium).exists() {
        missing.push("chromium (/usr/bin/chromium)");
    }
    assert!(
        missing.is_empty(),
        "the browser tests need {}: {INSTALL_HINT}",
        missing.join(", ")
    );
    let browser_dir = repo_root().join("tests/browser");
    if !browser_dir.join("node_modules/playwright-core").is_dir()
        || !browser_dir.join("node_modules/axe-core").is_dir()
    {
        let o = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(&browser_dir)
            .output()
            .expect("run npm ci");
        common::must_succeed(&o, "npm ci in tests/browser");
    }
    (chromium, browser_dir)
}

#[test]
fn verify_html_in_headless_chromium() {
    let (chromium, browser_dir) = prerequisites();

    // A vault with three items, exported as a folder and as a zip.
    let v = TestVault::init();
    let big: Vec<u8> = (0..3_000_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    let a = v.file("interview.mp4", &big);
    let b = v.file("notes.txt", b"seen at the checkpoint, 09:30\n");
    let c = v.file("empty.bin", b"");
    let ids: Vec<String> = v.add(&[&a, &b, &c]).into_iter().map(|(id, _)| id).collect();
    let fix = v.tmp.path().join("fixtures");
    fs::create_dir(&fix).expect("fixtures dir");
    let mut export = vec!["export".to_owned()];
    export.extend(ids.iter().cloned());
    for out in ["bag", "bag.zip"] {
        let mut args: Vec<String> = export.clone();
        args.push("--out".into());
        args.push(fix.join(out).to_str().expect("utf-8").into());
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        v.ok(&args);
    }
    let vkey = v.ok(&["log", "key"]);
    fs::write(fix.join("vkey.txt"), vkey.trim()).expect("vkey");
    let other = TestVault::init();
    fs::write(fix.join("other-vkey.txt"), other.ok(&["log", "key"]).trim()).expect("other vkey");
    let page = fix.join("verify.html");
    v.ok(&["verifier", "write", "--out", page.to_str().expect("utf-8")]);

    let _one = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let o = Command::new("node")
        .args(["--test", "--test-concurrency=1", "verify.test.mjs"])
        .current_dir(&browser_dir)
        .env("GUWAH_FIXTURES", &fix)
        .env("GUWAH_BIN", common::bin())
        .env("GUWAH_CHROMIUM", &chromium)
        .output()
        .expect("run node --test");
    let out = common::text(&o);
    assert!(o.status.success(), "browser tests failed:\n{out}");
    assert!(out.contains("# fail 0"), "{out}");
    // The page must not have skipped its server test.
    assert!(out.contains("# skipped 0"), "{out}");
}

/// What `verify-bundle` and the page are given (the CLI's flags, the
/// page's inputs).
#[derive(Clone, Default)]
struct Policy {
    trusted: Vec<String>,
    witnesses: Vec<String>,
    min_witnesses: Option<usize>,
    tsa_roots: Vec<PathBuf>,
    disclosures: Vec<PathBuf>,
}

impl Policy {
    fn args(&self) -> Vec<String> {
        let mut a = Vec::new();
        for k in &self.trusted {
            a.extend(["--trust".to_owned(), k.clone()]);
        }
        for k in &self.witnesses {
            a.extend(["--witness".to_owned(), k.clone()]);
        }
        if let Some(m) = self.min_witnesses {
            a.extend(["--min-witnesses".to_owned(), m.to_string()]);
        }
        for p in &self.tsa_roots {
            a.extend(["--tsa-root".to_owned(), path_str(p)]);
        }
        for p in &self.disclosures {
            a.extend(["--disclosure".to_owned(), path_str(p)]);
        }
        a
    }

    fn json(&self) -> Value {
        json!({
            "trusted": self.trusted,
            "witnesses": self.witnesses,
            "min_witnesses": self.min_witnesses,
            "tsa_roots": self.tsa_roots.iter().map(|p| path_str(p)).collect::<Vec<_>>(),
            "disclosures": self.disclosures.iter().map(|p| path_str(p)).collect::<Vec<_>>(),
        })
    }
}

fn path_str(p: &Path) -> String {
    p.to_str().expect("utf-8 path").to_owned()
}

/// One package with one policy, and the failure kinds both must report.
struct Case {
    name: &'static str,
    target: PathBuf,
    policy: Policy,
    verdict: &'static str,
    kinds: &'static [&'static str],
}

/// The first item file (`guwah/items/<id>.txt`) with a part `wanted`
/// accepts: `change` edits that part, the file is written again with every
/// length true. Returns the item file's path.
fn edit_part(bag: &Path, wanted: &dyn Fn(&str) -> bool, change: &dyn Fn(&mut Vec<u8>)) -> String {
    for rel in files_under(bag) {
        if !(rel.starts_with("guwah/items/") && rel.ends_with(".txt")) {
            continue;
        }
        let path = bag.join(&rel);
        let mut f = ItemFile::parse(&fs::read(&path).unwrap()).unwrap();
        if let Some((_, part)) = f.parts.iter_mut().find(|(n, _)| wanted(n)) {
            change(part);
            fs::write(&path, f.encode()).unwrap();
            return rel;
        }
    }
    panic!("no item file has such a part");
}

/// `text` with the line for which `pick` is true replaced by `to(line)`.
fn edit_line(bytes: &mut Vec<u8>, pick: &dyn Fn(&str) -> bool, to: &dyn Fn(&str) -> String) {
    let text = String::from_utf8(bytes.clone()).unwrap();
    let mut done = false;
    let out: Vec<String> = text
        .split('\n')
        .map(|l| {
            if !done && pick(l) {
                done = true;
                to(l)
            } else {
                l.to_owned()
            }
        })
        .collect();
    assert!(done, "no such line in:\n{text}");
    *bytes = out.join("\n").into_bytes();
}

/// One base64 character of `s` at `at` changed (to another valid one).
fn flip_b64(s: &str, at: usize) -> String {
    let mut c: Vec<char> = s.chars().collect();
    c[at] = if c[at] == 'A' { 'B' } else { 'A' };
    c.into_iter().collect()
}

/// `from` copied to `<work>/<name>`, changed by `tamper`.
fn tampered(work: &Path, from: &Path, name: &str, tamper: &dyn Fn(&Path)) -> PathBuf {
    let dir = work.join(name);
    copy_tree(from, &dir);
    tamper(&dir);
    dir
}

fn kinds_and_paths(report: &Value) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let mut add = |list: &Value| {
        for f in list.as_array().expect("failures") {
            out.insert((
                f["kind"].as_str().expect("kind").to_owned(),
                f["path"].as_str().expect("path").to_owned(),
            ));
        }
    };
    add(&report["failures"]);
    for i in report["items"].as_array().expect("items") {
        add(&i["failures"]);
    }
    out
}

/// The first place two JSON values differ, for the failure message.
fn first_difference(a: &Value, b: &Value, at: &str) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| {
                first_difference(
                    x.get(k).unwrap_or(&Value::Null),
                    y.get(k).unwrap_or(&Value::Null),
                    &format!("{at}.{k}"),
                )
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(p, q, &format!("{at}[{i}]"))),
        _ if a == b => None,
        _ => Some(format!("{at}: CLI {a} / page {b}")),
    }
}

#[test]
fn cli_and_page_give_one_verdict() {
    let (chromium, browser_dir) = prerequisites();
    let v = TestVault::init();
    let work = v.tmp.path().join("cases");
    fs::create_dir(&work).unwrap();

    // Two items, one with a `source` to withhold, custody events on both.
    let big: Vec<u8> = (0..400_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8)
        .collect();
    let a = v.file("statement.txt", b"I saw it on the 3rd.\n");
    let b = v.file("video.mp4", &big);
    let added: Value =
        serde_json::from_str(&v.ok(&["--json", "add", &a, &b, "--source", "sent by a relative"]))
            .unwrap();
    let ids: Vec<String> = added["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    v.ok(&["annotate", &ids[1], "--note", "faces blurred in the copy"]);
    let vkey = v.ok(&["log", "key"]).trim().to_owned();

    // A witness for the log, and a second one that never cosigns.
    let w1 = start_witness(&v.tmp.path().join("w1"), "witness.test/w1", &vkey);
    let w2 = start_witness(&v.tmp.path().join("w2"), "witness.test/w2", &vkey);
    v.ok(&["log", "witness", "--add", "w1", &w1.url, &w1.vkey]);
    // A local TSA.
    let pki = v.tmp.path().join("pki");
    fs::create_dir(&pki).unwrap();
    tsa::make_pki(&pki);
    let tsa_url = tsa::serve(pki.clone(), Arc::new(Mutex::new(tsa::Mode::Good)));
    let ca = pki.join("ca.pem");
    v.ok(&[
        "timestamp",
        "--add-tsa",
        "local",
        "--url",
        &tsa_url,
        "--root",
        &path_str(&ca),
    ]);
    // The withheld field, disclosed on its own, and a forged copy.
    let disclosure = work.join("source.disclosure");
    v.ok(&[
        "disclose",
        &ids[0],
        "source",
        "--out",
        &path_str(&disclosure),
    ]);
    let forged = work.join("forged.disclosure");
    let d = fs::read_to_string(&disclosure).unwrap();
    let value_line = d.lines().find(|l| l.starts_with("value ")).unwrap();
    fs::write(
        &forged,
        d.replace(value_line, &format!("value {}", b64(b"sent by a stranger"))),
    )
    .unwrap();

    // The packages: witnessed and timestamped at export.
    let bag = work.join("bag");
    let zip = work.join("bag.zip");
    for out in [&bag, &zip] {
        let mut args = vec!["export", &ids[0], &ids[1], "--withhold", "source"];
        args.extend(["--witness", "--timestamp", "--out"]);
        let out = path_str(out);
        args.push(&out);
        v.ok(&args);
    }
    let full = Policy {
        trusted: vec![vkey.clone()],
        witnesses: vec![w1.vkey.clone()],
        min_witnesses: Some(1),
        tsa_roots: vec![ca.clone()],
        disclosures: vec![disclosure.clone()],
    };

    let t = |name: &str, tamper: &dyn Fn(&Path)| tampered(&work, &bag, name, tamper);
    let payload = t("payload", &|d| {
        let rel = files_under(d)
            .into_iter()
            .filter(|p| p.starts_with("data/"))
            .max_by_key(|p| fs::metadata(d.join(p)).unwrap().len())
            .unwrap();
        let mut bytes = fs::read(d.join(&rel)).unwrap();
        let mid = bytes.len() / 2;
        bytes[mid] ^= 1;
        fs::write(d.join(&rel), bytes).unwrap();
    });
    // A proof hash of a receipt, one base64 character.
    let alter_receipt = |d: &Path| {
        edit_part(d, &|n| n == "receipt.tlog-proof", &|part| {
            edit_line(part, &|l| l.len() == 44 && l.ends_with('='), &|l| {
                flip_b64(l, 0)
            })
        });
    };
    let receipt = t("receipt", &alter_receipt);
    let receipt_resealed = t("receipt-resealed", &|d| {
        alter_receipt(d);
        reseal_tag_manifests(d);
    });
    let manifest = t("manifest", &|d| {
        let p = d.join("manifest-sha256.txt");
        let mut m = fs::read(&p).unwrap();
        m[0] = if m[0] == b'0' { b'1' } else { b'0' };
        fs::write(p, m).unwrap();
    });
    // A custody event's time, one second later: still a valid record.
    let event = t("custody-event", &|d| {
        edit_part(
            d,
            &|n| n.starts_with("events/") && n.ends_with("/record"),
            &|part| {
                edit_line(part, &|l| l.starts_with("at "), &|l| {
                    let mut c: Vec<char> = l.chars().collect();
                    let i = c.len() - 2; // the last digit of the seconds
                    c[i] = char::from_digit((c[i].to_digit(10).unwrap() + 1) % 10, 10).unwrap();
                    c.into_iter().collect()
                })
            },
        );
        reseal_tag_manifests(d);
    });
    let checkpoint = t("checkpoint", &|d| {
        let p = d.join("guwah/checkpoint");
        let mut note = fs::read(&p).unwrap();
        edit_line(&mut note, &|l| l.len() == 44 && l.ends_with('='), &|l| {
            flip_b64(l, 5)
        });
        fs::write(p, note).unwrap();
        reseal_tag_manifests(d);
    });
    // The witness's cosignature, wherever the note is (checkpoint and
    // receipts), so that only the cosignature is wrong.
    let cosignature = t("cosignature", &|d| {
        let note = fs::read_to_string(d.join("guwah/checkpoint")).unwrap();
        let line = note
            .lines()
            .find(|l| l.starts_with("\u{2014} witness.test/w1 "))
            .expect("a cosignature")
            .to_owned();
        let forged = flip_b64(&line, line.len() - 10);
        let new = note.replace(&line, &forged);
        fs::write(d.join("guwah/checkpoint"), &new).unwrap();
        for rel in files_under(d) {
            if rel.starts_with("guwah/items/") {
                let p = d.join(&rel);
                let mut f = ItemFile::parse(&fs::read(&p).unwrap()).unwrap();
                for (_, part) in &mut f.parts {
                    let s = String::from_utf8(part.clone()).unwrap();
                    *part = s.replace(&note, &new).into_bytes();
                }
                fs::write(&p, f.encode()).unwrap();
            }
        }
        reseal_tag_manifests(d);
    });
    let token = t("timestamp-token", &|d| {
        let p = d.join("guwah/timestamps/local.tsr");
        let mut b = fs::read(&p).unwrap();
        let n = b.len();
        b[n - 10] ^= 1;
        fs::write(p, b).unwrap();
        reseal_tag_manifests(d);
    });
    // The withheld field given a value, and the withheld line removed.
    let withheld_valued = t("withheld-given-a-value", &|d| {
        edit_part(d, &|n| n == "fields", &|part| {
            edit_line(part, &|l| l == "withheld source", &|_| {
                format!(
                    "disclosed source {} {}",
                    b64(&[7; 32]),
                    b64(b"sent by a stranger")
                )
            })
        });
        reseal_tag_manifests(d);
    });
    let withheld_gone = t("withheld-removed", &|d| {
        edit_part(d, &|n| n == "fields", &|part| {
            let s = String::from_utf8(part.clone()).unwrap();
            assert!(s.contains("withheld source\n"), "{s}");
            *part = s.replace("withheld source\n", "").into_bytes();
        });
        reseal_tag_manifests(d);
    });
    let stray = t("stray-item-file", &|d| {
        let any = files_under(d)
            .into_iter()
            .find(|p| p.starts_with("guwah/items/"))
            .unwrap();
        fs::copy(
            d.join(&any),
            d.join(format!("guwah/items/{}.txt", "ab".repeat(32))),
        )
        .unwrap();
        reseal_tag_manifests(d);
    });

    let cases = vec![
        Case {
            name: "valid folder, every policy",
            target: bag.clone(),
            policy: full.clone(),
            verdict: "valid",
            kinds: &[],
        },
        Case {
            name: "valid zip, every policy",
            target: zip.clone(),
            policy: Policy {
                disclosures: Vec::new(),
                ..full.clone()
            },
            verdict: "valid",
            kinds: &[],
        },
        Case {
            name: "no trusted key, no TSA root",
            target: bag.clone(),
            policy: Policy::default(),
            verdict: "untrusted",
            kinds: &[],
        },
        Case {
            name: "two witnesses required, one cosigned",
            target: bag.clone(),
            policy: Policy {
                witnesses: vec![w1.vkey.clone(), w2.vkey.clone()],
                min_witnesses: Some(2),
                ..full.clone()
            },
            verdict: "failed",
            kinds: &["witnesses"],
        },
        Case {
            name: "a forged disclosure",
            target: bag.clone(),
            policy: Policy {
                disclosures: vec![disclosure.clone(), forged.clone()],
                ..full.clone()
            },
            verdict: "failed",
            kinds: &["disclosure"],
        },
        Case {
            name: "a payload byte",
            target: payload,
            policy: full.clone(),
            verdict: "failed",
            kinds: &["manifest", "payload-digest"],
        },
        Case {
            name: "a receipt",
            target: receipt,
            policy: full.clone(),
            verdict: "failed",
            kinds: &["manifest", "receipt"],
        },
        Case {
            name: "a receipt, tag manifests resealed",
            target: receipt_resealed,
            policy: full.clone(),
            verdict: "failed",
            kinds: &["receipt"],
        },
        Case {
            name: "a manifest line",
            target: manifest,
            policy: full.clone(),
            verdict: "failed",
            kinds: &["manifest"],
        },
        Case {
            name: "a custody event record",
            target: event,
            policy: full.clone(),
            verdict: "failed",
            kinds: &["custody-event", "receipt"],
        },
        Case {
            name: "the checkpoint",
            target: checkpoint,
            policy: full.clone(),
            verdict: "failed",
            kinds: &[
                "checkpoint-signature",
                "cosignature",
                "receipt",
                "timestamp-token",
                "witnesses",
            ],
        },
        Case {
            name: "a cosignature",
            target: cosignature,
            policy: full.clone(),
            verdict: "failed",
            kinds: &["cosignature", "witnesses"],
        },
        Case {
            name: "a timestamp token",
            target: token,
            policy: full.clone(),
            verdict: "failed",
            kinds: &["timestamp-token"],
        },
        Case {
            name: "a withheld field given a value",
            target: withheld_valued,
            policy: full.clone(),
            verdict: "failed",
            kinds: &["field-value"],
        },
        Case {
            name: "a withheld field's line removed",
            target: withheld_gone,
            policy: full.clone(),
            verdict: "failed",
            kinds: &["withheld-field"],
        },
        Case {
            name: "an item file of no listed item",
            target: stray,
            policy: full.clone(),
            verdict: "failed",
            kinds: &["package-layout"],
        },
    ];

    // The CLI's verdicts.
    let mut cli = Vec::new();
    for c in &cases {
        let mut args = vec![
            "--json".to_owned(),
            "verify-bundle".into(),
            path_str(&c.target),
        ];
        args.extend(c.policy.args());
        let o = Command::new(common::bin())
            .args(&args)
            .env_remove("GUWAH_VAULT")
            .env_remove("GUWAH_PASSPHRASE")
            .output()
            .unwrap();
        let want_code = if c.verdict == "valid" { 0 } else { 1 };
        assert_eq!(
            o.status.code(),
            Some(want_code),
            "{}: {}",
            c.name,
            common::text(&o)
        );
        let report: Value = serde_json::from_slice(&o.stdout)
            .unwrap_or_else(|e| panic!("{}: not JSON ({e}): {}", c.name, common::text(&o)));
        cli.push(report);
    }

    // The page's, with the same inputs.
    let page = work.join("verify.html");
    v.ok(&["verifier", "write", "--out", &path_str(&page)]);
    let cases_json: Vec<Value> = cases
        .iter()
        .map(
            |c| json!({ "name": c.name, "target": path_str(&c.target), "policy": c.policy.json() }),
        )
        .collect();
    let cases_file = work.join("cases.json");
    fs::write(&cases_file, serde_json::to_vec(&cases_json).unwrap()).unwrap();
    let out_file = work.join("page-results.json");
    let _one = BROWSER.lock().unwrap_or_else(|e| e.into_inner());
    let o = Command::new("node")
        .arg("parity.mjs")
        .args([&page, &cases_file, &out_file])
        .current_dir(&browser_dir)
        .env("GUWAH_CHROMIUM", &chromium)
        .output()
        .expect("run node parity.mjs");
    assert!(
        o.status.success(),
        "parity.mjs failed:\n{}",
        common::text(&o)
    );
    let page_results: Value = serde_json::from_slice(&fs::read(&out_file).unwrap()).unwrap();

    for (c, cli) in cases.iter().zip(&cli) {
        let page = &page_results[c.name];
        assert!(page["policy_error"].is_null(), "{}: {page}", c.name);
        let page = &page["report"];
        assert_eq!(
            cli["verdict"], c.verdict,
            "{}: CLI verdict; {cli:#}",
            c.name
        );
        assert_eq!(
            page["verdict"], c.verdict,
            "{}: page verdict; {page:#}",
            c.name
        );
        let want: BTreeSet<&str> = c.kinds.iter().copied().collect();
        let got = kinds_and_paths(cli);
        let kinds: BTreeSet<&str> = got.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(kinds, want, "{}: the CLI's failure kinds; {got:#?}", c.name);
        assert_eq!(
            kinds_and_paths(page),
            got,
            "{}: the page's failures (kind, path) are not the CLI's",
            c.name
        );
        // And the rest of the report, field by field.
        if let Some(diff) = first_difference(cli, page, "report") {
            panic!("{}: the CLI and the page differ at {diff}", c.name);
        }
    }
}

fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}
