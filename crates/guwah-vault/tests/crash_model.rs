//! The crash model, in process: every write operation of a vault, with a
//! fault at every storage call it makes.
//!
//! The vault runs on the contract-checking in-memory backend
//! (`guwah_store::mem`), which counts every call of every trait. For each
//! operation, a clean run counts its calls; then, for every call `n` and
//! each fault kind — the call fails, the call takes effect but its reply is
//! lost, the process crashes there — the operation runs again on a copy of
//! the same starting vault. Afterwards the vault is judged as the running
//! process would see it (fail and lost reply) and as it is reopened from
//! what was durable (always, after a simulated power loss):
//!
//! - `verify` finds no problem;
//! - everything committed before is there, and an operation that reported
//!   success is there whole (its items listed, its events in the custody
//!   history, readable);
//! - nothing is half-done: an operation that failed added no item (and no
//!   entry at all, except `get` and `export`, which seal their event before
//!   they write and may fail after it); index rows past the committed size
//!   are gone once a writer has recovered, staged leftovers too; the blobs
//!   of a failed append are removed, or, after a crash, left unreferenced
//!   and noted by `verify`;
//! - the next write works.
//!
//! The figure is printed; any failure fails the test.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use guwah_core::bag::{Algorithm, FileDigest};
use guwah_core::merkle::{leaf_hash, root_from_leaf_hashes};
use guwah_store::mem::{Fault, MemStore};
use guwah_store::{BlobStore, IndexStore};
use guwah_vault::{
    AddOptions, ExportOptions, KdfParams, LogWriter, PackageSink, Vault, VaultError,
};
use sha2::{Digest, Sha256};

const PASS: &[u8] = b"crash model passphrase";
/// The cheapest Argon2id the key file accepts: every run reopens the vault.
const FAST: KdfParams = KdfParams {
    m_cost_kib: 8,
    t_cost: 1,
    p_cost: 1,
};
const ORIGIN: &str = "crash.test/model";
const CHAT: &str =
    "crates/guwah-chat/tests/data/WhatsApp Chat with Archive (year-first, one day).txt";

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// A package folder: every file written, with its SHA-256.
struct FolderSink(PathBuf);

impl PackageSink for FolderSink {
    fn add_payload(&mut self, path: &str, reader: &mut dyn Read) -> std::io::Result<FileDigest> {
        let mut bytes = Vec::new();
        reader.read_to_end(&mut bytes)?;
        self.add_tag_file(path, &bytes)?;
        let hex = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        Ok(FileDigest {
            size: bytes.len() as u64,
            digests: BTreeMap::from([(Algorithm::Sha256, hex)]),
        })
    }

    fn add_tag_file(&mut self, path: &str, bytes: &[u8]) -> std::io::Result<()> {
        let to = self.0.join(path);
        fs::create_dir_all(to.parent().unwrap())?;
        fs::write(to, bytes)
    }
}

/// The vault every run starts from, and the inputs of the operations.
struct Fixture {
    store: MemStore,
    /// The log size it starts at.
    size: u64,
    work: tempfile::TempDir,
    /// Ids of the items committed before any operation runs.
    items: Vec<String>,
    /// Where every run's output goes (unique names).
    out: tempfile::TempDir,
    runs: AtomicUsize,
}

impl Fixture {
    fn new() -> Fixture {
        let work = tempfile::tempdir().unwrap();
        let w = work.path();
        fs::write(w.join("a.txt"), b"first statement\n").unwrap();
        fs::write(w.join("b.bin"), pattern(90_000, 1)).unwrap();
        fs::write(w.join("new.txt"), b"a new statement\n").unwrap();
        fs::write(w.join("big.bin"), pattern(150_000, 2)).unwrap();
        fs::copy(
            repo().join("samples/evidence/call-screenshot.png"),
            w.join("photo.png"),
        )
        .unwrap();
        fs::create_dir_all(w.join("folder/sub")).unwrap();
        fs::write(w.join("folder/one.txt"), b"folder file one\n").unwrap();
        fs::write(w.join("folder/two.bin"), pattern(70_000, 3)).unwrap();
        fs::write(w.join("folder/sub/three.txt"), b"folder file three\n").unwrap();
        // A WhatsApp export of four messages, one naming a photo it lacks.
        fs::copy(repo().join(CHAT), w.join("WhatsApp Chat with Archive.txt")).unwrap();

        let store = MemStore::new();
        store.enforce_writer_lock(true);
        let vault = Vault::init_with(store.backend(), PASS, Some(ORIGIN), FAST)
            .expect("init on the memory backend");
        let report = vault
            .add(
                &[w.join("a.txt"), w.join("b.bin")],
                &AddOptions {
                    tags: vec!["setup".into()],
                    ..AddOptions::default()
                },
                &mut |_| {},
            )
            .unwrap();
        let items = report.items.iter().map(|i| i.id.clone()).collect();
        vault.annotate(&report.items[0].id, "set up").unwrap();
        assert!(vault.verify(&mut |_| {}).unwrap().ok());
        Fixture {
            size: size(&vault),
            store,
            work,
            items,
            out: tempfile::tempdir().unwrap(),
            runs: AtomicUsize::new(0),
        }
    }

    fn input(&self, name: &str) -> PathBuf {
        self.work.path().join(name)
    }

    fn fresh_out(&self, what: &str) -> PathBuf {
        let n = self.runs.fetch_add(1, Ordering::Relaxed);
        self.out.path().join(format!("{what}-{n}"))
    }
}

fn pattern(len: usize, seed: u8) -> Vec<u8> {
    (0..len)
        .map(|i| (i as u8).wrapping_mul(37).wrapping_add(seed) ^ (i >> 9) as u8)
        .collect()
}

/// What a successful operation must have left.
#[derive(Debug, Default)]
struct Expect {
    /// Items that must be listed.
    items: Vec<String>,
    /// `(item, leaf index, action)` custody events that must be there.
    events: Vec<(String, u64, &'static str)>,
    /// The log size it reported.
    tree_size: u64,
}

type Run = fn(&Vault, &Fixture) -> Result<Expect, VaultError>;

/// One operation under test; `events_first`: it seals events before work
/// that may fail after the commit (`get`, `export`).
struct Op {
    name: &'static str,
    run: Run,
    events_first: bool,
}

fn size(v: &Vault) -> u64 {
    v.latest_checkpoint().unwrap().map_or(0, |c| c.size)
}

fn ops() -> Vec<Op> {
    vec![
        Op {
            name: "add files",
            events_first: false,
            run: |v, f| {
                let paths = ["new.txt", "big.bin", "photo.png", "a.txt"].map(|n| f.input(n));
                let r = v.add(&paths, &AddOptions::default(), &mut |_| {})?;
                Ok(Expect {
                    items: r.items.iter().map(|i| i.id.clone()).collect(),
                    tree_size: r.tree_size,
                    ..Expect::default()
                })
            },
        },
        Op {
            name: "add a folder",
            events_first: false,
            run: |v, f| {
                let r = v.add(&[f.input("folder")], &AddOptions::default(), &mut |_| {})?;
                assert_eq!(r.items.len(), 3);
                Ok(Expect {
                    items: r.items.iter().map(|i| i.id.clone()).collect(),
                    tree_size: r.tree_size,
                    ..Expect::default()
                })
            },
        },
        Op {
            name: "chat import",
            events_first: false,
            run: |v, f| {
                let chat = f.input("WhatsApp Chat with Archive.txt");
                let r = v.add_chat(&chat, &AddOptions::default(), &mut |_| {})?;
                let mut items = vec![r.export.id.clone()];
                items.extend(r.messages.iter().map(|m| m.id.clone()));
                assert_eq!(r.messages.len(), 4);
                Ok(Expect {
                    items,
                    tree_size: r.tree_size,
                    ..Expect::default()
                })
            },
        },
        Op {
            name: "export",
            events_first: true,
            run: |v, f| {
                let before = f.size;
                let opts = ExportOptions {
                    ids: f.items.clone(),
                    output: "package folder".into(),
                    reason: Some("crash model".into()),
                    ..ExportOptions::default()
                };
                let mut sink = FolderSink(f.fresh_out("package"));
                let r = v.export(&opts, &mut sink, &mut |_| {})?;
                assert_eq!(r.items.len(), f.items.len());
                let events = f
                    .items
                    .iter()
                    .enumerate()
                    .map(|(i, id)| (id.clone(), before + i as u64, "exported"))
                    .collect();
                Ok(Expect {
                    events,
                    tree_size: r.checkpoint_size,
                    ..Expect::default()
                })
            },
        },
        Op {
            name: "annotate",
            events_first: false,
            run: |v, f| {
                let leaf = v.annotate(&f.items[0], "a note under fire")?;
                Ok(Expect {
                    events: vec![(f.items[0].clone(), leaf, "annotated")],
                    tree_size: leaf + 1,
                    ..Expect::default()
                })
            },
        },
        Op {
            name: "disclose",
            events_first: false,
            run: |v, f| {
                let d = v.disclose(&f.items[1], "filename")?;
                assert_eq!(d.value, "b.bin");
                Ok(Expect {
                    events: vec![(f.items[1].clone(), d.event_leaf_index, "disclosed")],
                    tree_size: d.event_leaf_index + 1,
                    ..Expect::default()
                })
            },
        },
        Op {
            name: "get",
            events_first: true,
            run: |v, f| {
                let leaf = f.size;
                let out = f.fresh_out("get");
                v.get(&f.items[1], Some(&out), None, Some("court"), &mut |_| {})?;
                assert_eq!(fs::read(&out).unwrap(), pattern(90_000, 1));
                Ok(Expect {
                    events: vec![(f.items[1].clone(), leaf, "exported")],
                    tree_size: leaf + 1,
                    ..Expect::default()
                })
            },
        },
    ]
}

/// One faulted run, for the messages.
struct Point<'a> {
    op: &'a str,
    kind: Fault,
    n: u64,
    call: String,
}

impl std::fmt::Display for Point<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}, {:?} at call {} ({})",
            self.op, self.kind, self.n, self.call
        )
    }
}

/// Everything a vault's state must satisfy after one faulted run; each
/// broken rule is one line in `fails`.
struct Judge<'a> {
    fixture: &'a Fixture,
    size_before: u64,
    items_before: BTreeSet<String>,
    fails: Vec<String>,
}

impl Judge<'_> {
    fn fail(&mut self, at: &Point, what: String) {
        self.fails.push(format!("{at}: {what}"));
    }

    /// Judge `store` as a vault opened on it now.
    /// Judge `store` as a vault opened on it now: `live`, as the process
    /// that ran the operation sees it (the cleanup of a failed append is
    /// checked), or reopened from what was durable (`verify` runs: it
    /// re-hashes every blob, the costly part, so only then).
    fn state(
        &mut self,
        at: &Point,
        store: &MemStore,
        op: &Op,
        result: &Result<Expect, String>,
        live: bool,
    ) -> Option<Vault> {
        let stage = if live {
            "as running"
        } else {
            "after the crash"
        };
        let v = match Vault::open_with(store.backend(), Some(PASS)) {
            Ok(v) => v,
            Err(e) => {
                self.fail(at, format!("{stage}: does not open: {e}"));
                return None;
            }
        };
        let notes = if live {
            Vec::new()
        } else {
            match v.verify(&mut |_| {}) {
                Ok(r) => {
                    for p in &r.problems {
                        self.fail(at, format!("{stage}: verify: {}: {}", p.thing, p.what));
                    }
                    r.notes
                }
                Err(e) => {
                    self.fail(at, format!("{stage}: verify cannot run: {e}"));
                    return None;
                }
            }
        };
        let now = size(&v);
        let listed: BTreeSet<String> = match v.list() {
            Ok(l) => l.into_iter().map(|i| i.id).collect(),
            Err(e) => {
                self.fail(at, format!("{stage}: list: {e}"));
                return None;
            }
        };
        if !self.items_before.is_subset(&listed) {
            self.fail(at, format!("{stage}: an item committed before is gone"));
        }
        match result {
            Ok(expect) => {
                if now != expect.tree_size {
                    self.fail(
                        at,
                        format!(
                            "{stage}: reported success at size {}, the log is at {now}",
                            expect.tree_size
                        ),
                    );
                }
                for id in &expect.items {
                    if !listed.contains(id) {
                        self.fail(at, format!("{stage}: reported item {id} is not listed"));
                    } else if let Err(e) = v.leaf_bytes(id) {
                        self.fail(at, format!("{stage}: item {id} unreadable: {e}"));
                    }
                }
                for (item, leaf, action) in &expect.events {
                    let found = v.show(item).is_ok_and(|d| {
                        d.custody
                            .iter()
                            .any(|c| c.leaf_index == *leaf && c.action == *action)
                    });
                    if !found {
                        self.fail(
                            at,
                            format!("{stage}: reported {action} event at {leaf} is missing"),
                        );
                    }
                }
            }
            Err(e) => {
                if e.contains("contract violated") {
                    self.fail(at, format!("storage contract broken: {e}"));
                }
                if listed != self.items_before {
                    self.fail(
                        at,
                        format!("{stage}: failed ({e}) but its items are listed"),
                    );
                }
                let grew = now - self.size_before;
                let events = if op.events_first {
                    // The events of the run, if it got that far.
                    if op.name == "export" {
                        self.fixture.items.len() as u64
                    } else {
                        1
                    }
                } else {
                    0
                };
                if grew != 0 && grew != events {
                    self.fail(
                        at,
                        format!("{stage}: failed ({e}) but the log grew by {grew}"),
                    );
                }
            }
        }
        // Blobs nothing committed refers to: none while running (a failed
        // append removes its own, unless that very removal is the fault);
        // after a crash, any, but each noted by verify.
        let referenced: BTreeSet<String> = store
            .content(now)
            .map(|c| c.into_iter().map(|(b, _)| b).collect())
            .unwrap_or_default();
        let stray: Vec<String> = BlobStore::list(store)
            .unwrap_or_default()
            .into_iter()
            .filter(|b| !referenced.contains(b))
            .collect();
        if live {
            let allowed = usize::from(at.kind == Fault::Fail && at.call.starts_with("blob remove"));
            if stray.len() > allowed {
                self.fail(
                    at,
                    format!("{stage}: {} blob(s) of a failed append left", stray.len()),
                );
            }
            let allowed = at.call.starts_with("index roll_back_past");
            let past = store
                .entries(u64::MAX)
                .map_or(0, |r| r.iter().filter(|r| r.leaf_index >= now).count());
            if past > 0 && !allowed {
                self.fail(
                    at,
                    format!("{stage}: {past} index row(s) of a failed append left"),
                );
            }
        }
        for b in stray.iter().filter(|_| !live) {
            if !notes.iter().any(|n| n.contains(b.as_str())) {
                self.fail(
                    at,
                    format!("{stage}: unreferenced blob {b} is not noted by verify"),
                );
            }
        }
        Some(v)
    }

    /// The next writer recovers: it must work, and leave no index row past
    /// the committed size and no staged leftover.
    fn next_write(&mut self, at: &Point, store: &MemStore, v: &Vault) {
        if let Err(e) = v.annotate(&self.fixture.items[1], "the next write") {
            self.fail(at, format!("the next write failed: {e}"));
            return;
        }
        let now = size(v);
        let rows = store.entries(u64::MAX).unwrap();
        let content = store.content(u64::MAX).unwrap();
        let pdq = store.pdq_rows(u64::MAX).unwrap();
        if rows.iter().any(|r| r.leaf_index >= now)
            || content.iter().any(|(_, l)| *l >= now)
            || pdq.iter().any(|(l, _)| *l >= now)
        {
            self.fail(
                at,
                "index rows past the committed size survived recovery".into(),
            );
        }
        if pdq
            .iter()
            .any(|(l, _)| !rows.iter().any(|r| r.leaf_index == *l))
        {
            self.fail(at, "a PDQ row without its entry".into());
        }
        if store.staged_leftovers() > 0 {
            self.fail(at, "staged leftovers survived recovery".into());
        }
        // The log the next write made (over whatever tiles were left past
        // the committed size): its tiles and its entries give the signed
        // root. (`verify` checked the rest just before.)
        let log = LogWriter {
            tiles: store,
            checkpoints: store,
            origin: ORIGIN,
        };
        let cp = v.latest_checkpoint().unwrap().unwrap();
        let leaves: Result<Vec<_>, _> = (0..cp.size)
            .map(|i| log.leaf(i, cp.size).map(|l| leaf_hash(&l)))
            .collect();
        match leaves {
            Ok(l) if root_from_leaf_hashes(&l) == cp.root => {}
            Ok(_) => self.fail(
                at,
                "after the next write: the entries do not give the signed root".into(),
            ),
            Err(e) => self.fail(at, format!("after the next write: {e}")),
        }
        if log.root(cp.size).ok() != Some(cp.root) {
            self.fail(
                at,
                "after the next write: the tiles do not give the signed root".into(),
            );
        }
    }
}

#[test]
fn every_operation_survives_a_fault_at_every_storage_call() {
    let fixture = Fixture::new();
    let start_vault = Vault::open_with(fixture.store.fork().backend(), Some(PASS)).unwrap();
    let size_before = size(&start_vault);
    let items_before: BTreeSet<String> = start_vault
        .list()
        .unwrap()
        .into_iter()
        .map(|i| i.id)
        .collect();
    drop(start_vault);
    let mut judge = Judge {
        fixture: &fixture,
        size_before,
        items_before,
        fails: Vec::new(),
    };
    let (mut points, mut runs) = (0u64, 0u64);
    let ops = ops();
    for op in &ops {
        // A clean run: it must succeed, and it says how many calls it makes.
        let store = fixture.store.fork();
        let v = Vault::open_with(store.backend(), Some(PASS)).unwrap();
        let first = store.calls();
        let clean = (op.run)(&v, &fixture).map_err(|e| e.to_string());
        let calls = store.calls() - first;
        let at = Point {
            op: op.name,
            kind: Fault::Fail,
            n: u64::MAX,
            call: "no fault".into(),
        };
        if let Err(e) = &clean {
            judge.fail(&at, format!("fails without a fault: {e}"));
            continue;
        }
        drop(v);
        if let Some(v) = judge.state(&at, &store, op, &clean, false) {
            judge.next_write(&at, &store, &v);
        }
        eprintln!("crash model: {}: {calls} storage calls", op.name);
        points += calls;

        // Which calls change state, from the clean run (every run makes
        // the same calls up to its fault).
        let writes: Vec<bool> = (0..calls)
            .map(|n| store.call_writes(first + n).unwrap_or(true))
            .collect();
        for n in 0..calls {
            // A lost reply of a read is a failed read, and a crash just
            // after a read leaves what a crash just before it leaves: those
            // runs would repeat others.
            let kinds = [
                Some(Fault::Fail),
                writes[n as usize].then_some(Fault::LostReply),
                (n == 0 || writes[n as usize - 1]).then_some(Fault::Crash),
            ];
            for kind in kinds.into_iter().flatten() {
                runs += 1;
                let store = fixture.store.fork();
                let v = Vault::open_with(store.backend(), Some(PASS)).unwrap();
                let base = store.calls();
                store.inject(n, kind);
                let result = (op.run)(&v, &fixture).map_err(|e| e.to_string());
                drop(v);
                let at = Point {
                    op: op.name,
                    kind,
                    n,
                    call: store
                        .call_name(base + n)
                        .unwrap_or_else(|| "never reached".into()),
                };
                if store.calls() <= base + n {
                    judge.fail(&at, "the fault was never reached".into());
                    continue;
                }
                store.clear_fault();
                if kind != Fault::Crash {
                    judge.state(&at, &store, op, &result, true);
                }
                store.crash();
                if let Some(v) = judge.state(&at, &store, op, &result, false) {
                    judge.next_write(&at, &store, &v);
                }
            }
        }
    }
    let failures = judge.fails.len();
    eprintln!(
        "crash model: {} operations x {points} fault points (storage calls), {failures} failures found ({runs} runs: a failed call at each, a lost reply at each write, a crash after each write)",
        ops.len()
    );
    for f in judge.fails.iter().take(30) {
        eprintln!("  {f}");
    }
    assert_eq!(failures, 0, "the crash model found failures (listed above)");
}

/// The one outcome no single fault reaches: the swap's reply is lost and
/// reading the checkpoint back fails too, so the add cannot know whether
/// it committed. It reports failure, keeps its blobs (the swap may have
/// landed) and the vault stays whole: here the swap did land, so the items
/// are there, readable, with their blobs.
#[test]
fn an_unknown_swap_outcome_keeps_the_blobs() {
    let fixture = Fixture::new();
    let op = &ops()[0];
    let store = fixture.store.fork();
    let v = Vault::open_with(store.backend(), Some(PASS)).unwrap();
    let base = store.calls();
    (op.run)(&v, &fixture).unwrap();
    let swap = (base..store.calls())
        .find(|n| store.call_name(*n).as_deref() == Some("checkpoint swap"))
        .expect("the add swaps the checkpoint")
        - base;
    drop(v);

    let store = fixture.store.fork();
    let v = Vault::open_with(store.backend(), Some(PASS)).unwrap();
    let base = store.calls();
    store.inject(swap, Fault::LostReply);
    store.inject(swap + 1, Fault::Fail);
    let err = (op.run)(&v, &fixture).unwrap_err();
    assert_eq!(
        store.call_name(base + swap + 1).as_deref(),
        Some("checkpoint latest"),
        "the add reads the checkpoint back after a failed swap"
    );
    assert!(err.to_string().contains("injected fault"), "{err}");
    drop(v);
    for stage in ["as running", "after a crash"] {
        if stage == "after a crash" {
            store.crash();
        }
        let v = Vault::open_with(store.backend(), Some(PASS)).unwrap();
        let report = v.verify(&mut |_| {}).unwrap();
        assert!(report.ok(), "{stage}: {:?}", report.problems);
        assert_eq!(v.list().unwrap().len(), fixture.items.len() + 3, "{stage}");
        assert!(
            !report
                .notes
                .iter()
                .any(|n| n.contains("belongs to no item")),
            "{stage}: {:?}",
            report.notes
        );
    }
}
