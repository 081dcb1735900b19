//! `kill -9` during `guwah add`, at random instants, many times: the vault
//! must always verify, keep everything committed before, and hold every
//! interrupted batch either completely or not at all.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use common::*;

const MAX_ITERATIONS: usize = 40;
/// Wall-clock budget for the kill loop (the loop stops early when it is spent).
const BUDGET: Duration = Duration::from_secs(50);
/// A fresh vault every this many iterations: `verify` re-hashes every blob,
/// so one ever-growing vault would make the loop quadratic.
const EPOCH: usize = 4;

/// One input file of a batch.
struct Src {
    name: String,
    path: PathBuf,
    sha: [u8; 32],
    size: u64,
}

/// An item that is committed and must stay so.
struct Survivor {
    id: String,
    src: Src,
}

/// A batch: one file of a few MB and several small ones, all new content.
fn make_batch(rng: &mut Rng, dir: &Path, iteration: usize) -> Vec<Src> {
    fs::create_dir_all(dir).unwrap();
    let mut files = Vec::new();
    let big = 1_200_000 + rng.below(1_000_000) as usize;
    files.push((format!("it{iteration:02}-big.bin"), rng.bytes(big)));
    for k in 0..3 {
        let mut body = format!(
            "iteration {iteration} small file {k} nonce {}\n",
            rng.next_u64()
        )
        .into_bytes();
        let extra = rng.below(5000) as usize;
        body.extend(rng.bytes(extra));
        files.push((format!("it{iteration:02}-small{k}.txt"), body));
    }
    files
        .into_iter()
        .map(|(name, bytes)| {
            let path = dir.join(&name);
            fs::write(&path, &bytes).unwrap();
            Src {
                name,
                path,
                sha: sha256(&bytes),
                size: bytes.len() as u64,
            }
        })
        .collect()
}

/// What is on disk of the log and blobs, to tell how far a killed add got.
#[derive(PartialEq)]
struct DiskState {
    checkpoint: Option<Vec<u8>>,
    history: BTreeSet<String>,
    tiles: BTreeMap<String, Option<Vec<u8>>>,
    blobs: BTreeSet<String>,
    staging: usize,
}

fn disk_state(root: &Path) -> DiskState {
    let names = |p: &Path| -> BTreeSet<String> {
        snapshot(p, &|_| false)
            .into_iter()
            .filter(|(_, v)| v.is_some())
            .map(|(k, _)| k)
            .collect()
    };
    DiskState {
        checkpoint: fs::read(root.join("log/checkpoint")).ok(),
        history: names(&root.join("log/checkpoints")),
        tiles: snapshot(&root.join("log/tile"), &|_| false),
        blobs: names(&root.join("blobs"))
            .into_iter()
            .filter(|n| !n.starts_with(".staging"))
            .collect(),
        staging: fs::read_dir(root.join("blobs/.staging"))
            .map(|d| d.count())
            .unwrap_or(0),
    }
}

/// Committed blobs (not staged ones).
fn count_blobs(root: &Path) -> usize {
    let Ok(shards) = fs::read_dir(root.join("blobs")) else {
        return 0;
    };
    shards
        .flatten()
        .filter(|s| !s.file_name().to_string_lossy().starts_with('.'))
        .map(|s| fs::read_dir(s.path()).map_or(0, |d| d.count()))
        .sum()
}

/// How far the killed `add` got, judged from what it left on disk.
fn phase(before: &DiskState, after: &DiskState, index_rows_past_head: bool) -> &'static str {
    if after.checkpoint != before.checkpoint {
        "6 committed: log/checkpoint swapped (log size changed)"
    } else if after.history != before.history {
        "5 history checkpoint written, not yet swapped in"
    } else if index_rows_past_head {
        "4 index rows written, checkpoint not yet"
    } else if after.tiles != before.tiles {
        "3 tiles staged, index not yet"
    } else if after.blobs != before.blobs {
        "2 blobs committed, log untouched"
    } else if after.staging > before.staging {
        "1 encrypting a staged blob"
    } else {
        "0 nothing written yet (start-up, key derivation, input checks)"
    }
}

/// `guwah get` every survivor and compare bytes and SHA-256 with its source.
fn check_survivor(root: &Path, s: &Survivor) {
    let got = get_bytes(root, &s.id);
    assert_eq!(
        got.len() as u64,
        s.src.size,
        "{}: wrong size from get",
        s.src.name
    );
    assert_eq!(
        sha256(&got),
        s.src.sha,
        "{}: SHA-256 of get differs from the source",
        s.src.name
    );
    assert!(
        got == fs::read(&s.src.path).unwrap(),
        "{}: get is not byte-identical",
        s.src.name
    );
}

fn verify_ok(root: &Path, context: &str) -> usize {
    let o = run_in(root, &["verify"]);
    let out = text(&o);
    let broken: Vec<&str> = out.lines().filter(|l| l.starts_with("BROKEN")).collect();
    assert!(
        o.status.code() == Some(0) && broken.is_empty(),
        "{context}: verify exit {:?}:\n{out}",
        o.status.code()
    );
    out.lines().filter(|l| l.starts_with("note")).count()
}

fn add_cmd(root: &Path, batch: &[Src], iteration: usize) -> std::process::Command {
    let mut c = guwah_cmd(root, Some(PASS));
    c.args(["--quiet", "add", "--note"])
        .arg(format!("batch {iteration}"))
        .args(batch.iter().map(|s| &s.path))
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    c
}

#[test]
fn kill_9_during_add_never_breaks_the_vault() {
    self_test_sha256();
    let mut rng = Rng::from_env("crash");
    let start = Instant::now();

    // Calibrate: how long an uninterrupted add of one batch takes (the
    // faster of two). The window then follows the uninterrupted runs of the
    // loop, and shrinks when a kill comes too late, since the load on the
    // machine changes.
    let calib = TestVault::init();
    let mut window = Duration::MAX;
    for k in 0..2 {
        let batch = make_batch(&mut rng, &calib.work.join(format!("calib{k}")), 90 + k);
        let t = Instant::now();
        let st = add_cmd(&calib.root, &batch, 90 + k).status().unwrap();
        assert!(st.success(), "calibration add failed");
        window = window.min(t.elapsed().mul_f64(1.1));
    }
    drop(calib);
    eprintln!("crash: an uninterrupted add takes ~{window:?} (initial kill window 0..that)");

    let mut phases: BTreeMap<&'static str, usize> = BTreeMap::new();
    let (mut killed, mut finished, mut notes_seen) = (0usize, 0usize, 0usize);
    let mut vault: Option<TestVault> = None;
    let mut survivors: Vec<Survivor> = Vec::new();
    let mut iterations = 0;
    // Time spent in add (until killed), verify, and the other checks.
    let mut spent = [Duration::ZERO; 3];
    for i in 0..MAX_ITERATIONS {
        if start.elapsed() > BUDGET {
            break;
        }
        if i % EPOCH == 0 {
            if let Some(v) = &vault {
                // Every survivor was fetched byte for byte when it was
                // committed, and `verify` re-hashed its blob on every
                // iteration since; fetch a few again before moving on.
                for _ in 0..3.min(survivors.len()) {
                    let k = rng.below(survivors.len() as u64) as usize;
                    check_survivor(&v.root, &survivors[k]);
                }
            }
            vault = Some(TestVault::init());
            survivors.clear();
        }
        let v = vault.as_ref().unwrap();
        iterations += 1;
        let batch = make_batch(&mut rng, &v.work.join(format!("it{i:02}")), i);
        let let_finish = rng.below(5) == 0;
        let before = disk_state(&v.root);
        let t_add = Instant::now();
        let mut child = add_cmd(&v.root, &batch, i).spawn().unwrap();
        let mode = rng.below(3);
        if !let_finish {
            let w = window.as_micros().max(4000) as u64;
            match mode {
                // Anywhere in the run.
                0 => std::thread::sleep(Duration::from_micros(rng.below(w))),
                // In its last quarter.
                1 => std::thread::sleep(Duration::from_micros(w * 3 / 4 + rng.below(w / 4))),
                // In the short sealing phases: once every blob of the batch
                // is committed, within the next few tens of milliseconds.
                _ => {
                    let target = before.blobs.len() + batch.len();
                    while child.try_wait().unwrap().is_none()
                        && count_blobs(&v.root) < target
                        && t_add.elapsed() < window * 3
                    {
                        std::thread::sleep(Duration::from_micros(500));
                    }
                    std::thread::sleep(Duration::from_micros(rng.below(60_000)));
                }
            }
            let _ = child.kill(); // SIGKILL; Ok even if it already exited
        }
        let out = child.wait_with_output().unwrap();
        let completed = out.status.success();
        assert!(
            completed || out.status.signal() == Some(9),
            "iteration {i}: add neither finished nor was killed: {:?} {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let took = t_add.elapsed();
        spent[0] += took;
        let after = disk_state(&v.root);

        // The fsck: notes about leftovers are fine, BROKEN lines are not.
        let t_v = Instant::now();
        let o = run_in(&v.root, &["verify"]);
        spent[1] += t_v.elapsed();
        let vtext = text(&o);
        assert!(
            o.status.code() == Some(0) && !vtext.contains("BROKEN"),
            "iteration {i} (completed: {completed}): verify exit {:?}:\n{vtext}",
            o.status.code()
        );
        notes_seen += vtext.lines().filter(|l| l.starts_with("note")).count();
        let rows_past = vtext.contains("past the latest checkpoint");
        if let_finish {
            window = (window + took.mul_f64(1.1)) / 2;
        } else if completed && mode < 2 {
            window = window.mul_f64(0.85); // the kill came too late
        }
        if completed {
            finished += 1;
            *phases.entry("- finished (not killed)").or_default() += 1;
        } else {
            killed += 1;
            *phases.entry(phase(&before, &after, rows_past)).or_default() += 1;
        }

        let t_checks = Instant::now();
        // Everything committed earlier is still listed, unchanged.
        let listed: HashMap<String, serde_json::Value> = v
            .list()
            .into_iter()
            .map(|it| (it["id"].as_str().unwrap().to_owned(), it))
            .collect();
        for s in &survivors {
            let it = listed
                .get(&s.id)
                .unwrap_or_else(|| panic!("iteration {i}: committed {} vanished", s.src.name));
            assert_eq!(it["size"].as_u64(), Some(s.src.size), "{}", s.src.name);
            assert_eq!(it["filename"].as_str(), Some(s.src.name.as_str()));
        }
        // The batch is all there or not at all; there iff the checkpoint moved.
        let by_name: HashMap<&str, &serde_json::Value> = listed
            .values()
            .filter_map(|it| it["filename"].as_str().map(|n| (n, it)))
            .collect();
        let present: Vec<&Src> = batch
            .iter()
            .filter(|s| by_name.contains_key(s.name.as_str()))
            .collect();
        let committed = after.checkpoint != before.checkpoint;
        assert!(
            present.is_empty() || present.len() == batch.len(),
            "iteration {i}: half a batch is present: {} of {}",
            present.len(),
            batch.len()
        );
        assert_eq!(
            !present.is_empty(),
            committed,
            "iteration {i}: batch presence disagrees with the checkpoint"
        );
        assert!(
            !completed || committed,
            "iteration {i}: add reported success but nothing was committed"
        );
        for src in batch {
            match by_name.get(src.name.as_str()) {
                Some(it) => {
                    let s = Survivor {
                        id: it["id"].as_str().unwrap().to_owned(),
                        src,
                    };
                    assert_eq!(it["size"].as_u64(), Some(s.src.size));
                    check_survivor(&v.root, &s);
                    survivors.push(s);
                }
                None => {
                    let _ = fs::remove_file(&src.path);
                }
            }
        }
        // And one earlier survivor, fetched again, byte for byte.
        if !survivors.is_empty() {
            let k = rng.below(survivors.len() as u64) as usize;
            check_survivor(&v.root, &survivors[k]);
        }
        spent[2] += t_checks.elapsed();
    }
    // Final sweep: every survivor of the last vault, then a clean add on top
    // of whatever the last kill left, and a last verify.
    let v = vault.as_ref().unwrap();
    for s in &survivors {
        check_survivor(&v.root, s);
    }
    v.add(&[&v.file("final.txt", b"final clean add\n")]);
    verify_ok(&v.root, "after the final clean add");

    eprintln!(
        "crash: {iterations} iterations in {:?}: {killed} killed, {finished} finished; {notes_seen} leftover notes seen; final kill window {window:?}",
        start.elapsed()
    );
    eprintln!(
        "crash: time in add {:?}, verify {:?}, list/get checks {:?}",
        spent[0], spent[1], spent[2]
    );
    eprintln!("crash: where the kills landed (judged from what was left on disk):");
    for (p, n) in &phases {
        eprintln!("  {n:>3}  {p}");
    }
    assert!(
        iterations >= 10,
        "too few iterations ran ({iterations}); the machine is too slow for the budget"
    );
}

/// The one window a kill can leave open after the commit point: between
/// the checkpoint swap and its history copy. The add is committed (its
/// items are there), `verify` notes the missing copy without failing, and
/// the next writer restores it.
#[test]
fn killed_between_swap_and_history_copy() {
    let v = TestVault::init();
    let f = |n: &str| v.file(n, format!("content of {n}\n").as_bytes());
    v.add(&[&f("a1")]);
    v.add(&[&f("a2"), &f("a3")]);
    // What a kill right after the swap leaves: no history copy of size 3.
    fs::remove_file(v.root.join("log/checkpoints/3")).unwrap();
    let o = run_in(&v.root, &["verify"]);
    let out = text(&o);
    assert!(o.status.success(), "verify must pass:\n{out}");
    assert!(
        out.contains("not yet copied"),
        "verify should note the missing copy:\n{out}"
    );
    assert_eq!(v.list().len(), 3);
    v.add(&[&f("a4")]);
    assert!(
        v.root.join("log/checkpoints/3").is_file(),
        "the next writer restores the copy"
    );
    verify_ok(&v.root, "after the next add");
}

/// A history copy newer than the latest checkpoint cannot come from a
/// crash (copies are written after the swap): it means `log/checkpoint` was
/// rolled back. `verify` fails and writers refuse to go on, so the index
/// rows of the newer entries are not discarded.
#[test]
fn rolled_back_checkpoint_is_refused_by_writers() {
    let v = TestVault::init();
    let f = |n: &str| v.file(n, format!("content of {n}\n").as_bytes());
    v.add(&[&f("a1")]);
    let old = fs::read(v.root.join("log/checkpoint")).unwrap();
    v.add(&[&f("a2"), &f("a3")]);
    fs::write(v.root.join("log/checkpoint"), &old).unwrap();
    let o = run_in(&v.root, &["verify"]);
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    assert!(text(&o).contains("rolled back"), "{}", text(&o));
    let o = run_in(&v.root, &["add", &f("a4")]);
    assert_eq!(
        o.status.code(),
        Some(5),
        "a writer must refuse: {}",
        text(&o)
    );
    assert!(text(&o).contains("rolled back"), "{}", text(&o));
    // Restoring the latest checkpoint from its copy heals the vault.
    fs::copy(
        v.root.join("log/checkpoints/3"),
        v.root.join("log/checkpoint"),
    )
    .unwrap();
    verify_ok(&v.root, "after restoring the checkpoint");
    assert_eq!(v.list().len(), 3, "no index row was discarded");
}
