//! `--search`: full-text search at 100,000 items (`--quick`: 10,000),
//! synthetic and in mixed languages (Uyghur, Chinese, English, French file
//! names), through a real `guwah serve`:
//!
//! 1. the server's start time: from its launch to the first search
//!    answered, which includes opening every item's sealed index row and
//!    building the in-memory index (target < 5 s);
//! 2. `GET /api/search?q=…` latency from one client, one query after
//!    another over every word of the vocabulary and pairs of them: p50 and
//!    p99 (target p99 < 50 ms), and the same with 8 clients at once.
//!
//! The issue names no peer for search, so the rows show the targets; the
//! item-list route at the same load is the ceiling beside them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use guwah_vault::{AddOptions, KdfParams, Role, Vault};

use crate::team::{ask, connect, load, serve};
use crate::{print_table, row, secs_ms};

const PASSPHRASE: &str = "guwah-bench search passphrase";

const UYGHUR: &[&str] = &[
    "لاگېر",
    "لاگېرغا",
    "لاگېرلاردا",
    "ساقچى",
    "ساقچىلار",
    "ئۆي",
    "ئۆيىمىزگە",
    "كامېرا",
    "سوراق",
    "ئانام",
    "دادام",
    "قېرىندىشىم",
    "تۈرمە",
    "مەكتەپ",
    "كوچا",
    "شەھەر",
    "يېزا",
    "ئىشخانا",
    "تېلېفون",
    "سۈرەت",
];
const CHINESE: &[&str] = &[
    "集中营",
    "警察",
    "摄像头",
    "照片",
    "母亲",
    "父亲",
    "学校",
    "监狱",
    "街道",
    "城市",
    "审问",
    "电话",
    "视频",
    "证词",
    "家人",
];
const ENGLISH: &[&str] = &[
    "camp",
    "camps",
    "police",
    "officer",
    "camera",
    "cameras",
    "checkpoint",
    "photo",
    "mother",
    "father",
    "school",
    "prison",
    "street",
    "city",
    "interrogation",
    "phone",
    "video",
    "testimony",
    "family",
];
const FRENCH: &[&str] = &[
    "camp",
    "policier",
    "caméra",
    "caméras",
    "photo",
    "mère",
    "père",
    "école",
    "prison",
    "rue",
    "ville",
    "interrogatoire",
    "téléphone",
    "vidéo",
    "témoignage",
    "famille",
];

/// A file name of four words of one language and a number.
fn name(i: usize, rng: &mut u64) -> String {
    let mut next = || {
        *rng ^= *rng << 13;
        *rng ^= *rng >> 7;
        *rng ^= *rng << 17;
        *rng
    };
    let vocab = [UYGHUR, CHINESE, ENGLISH, FRENCH][i % 4];
    let words: Vec<&str> = (0..4)
        .map(|_| vocab[(next() % vocab.len() as u64) as usize])
        .collect();
    let sep = if vocab == CHINESE { "" } else { " " };
    format!("{} {i}.txt", words.join(sep))
}

fn files(dir: &Path, n: usize) -> Result<PathBuf, String> {
    let folder = dir.join(format!("search-input-{n}"));
    let done = dir.join(format!("search-input-{n}.complete"));
    if done.exists() {
        return Ok(folder);
    }
    let _ = std::fs::remove_dir_all(&folder);
    let mut rng = 0x2545_f491_4f6c_dd1d_u64;
    for i in 0..n {
        // A thousand files per folder: no folder of 100,000 entries.
        let sub = folder.join(format!("{:03}", i / 1000));
        if i % 1000 == 0 {
            std::fs::create_dir_all(&sub).map_err(|e| e.to_string())?;
        }
        std::fs::write(sub.join(name(i, &mut rng)), format!("item {i}\n"))
            .map_err(|e| e.to_string())?;
    }
    std::fs::write(&done, b"").map_err(|e| e.to_string())?;
    Ok(folder)
}

/// Runs the measurements and prints the table.
pub fn run(guwah: &Path, dir: &Path, quick: bool) -> Result<(), String> {
    let (items, secs) = if quick { (10_000, 3) } else { (100_000, 10) };
    println!("== search: {items} items with mixed-language names, {secs} s per load");
    let input = files(dir, items)?;
    let vault_dir = dir.join(format!("search-vault-{items}"));
    let token = if vault_dir.join(".bench-token").exists() {
        std::fs::read_to_string(vault_dir.join(".bench-token")).map_err(|e| e.to_string())?
    } else {
        let _ = std::fs::remove_dir_all(&vault_dir);
        let v = Vault::init(
            &vault_dir,
            PASSPHRASE.as_bytes(),
            Some("bench.example/search"),
            KdfParams::DEFAULT,
        )
        .map_err(|e| e.to_string())?;
        v.add_account(
            "reviewer",
            Role::Reviewer,
            b"bench reviewer password",
            "bench",
        )
        .map_err(|e| e.to_string())?;
        let t = Instant::now();
        let report = v
            .add(
                std::slice::from_ref(&input),
                &AddOptions::default(),
                &mut |_| {},
            )
            .map_err(|e| e.to_string())?;
        println!(
            "   sealed {} items in {:.0} s (once; kept in {})",
            report.items.len(),
            t.elapsed().as_secs_f64(),
            vault_dir.display()
        );
        let token = v
            .issue_token("reviewer", "bench")
            .map_err(|e| e.to_string())?
            .to_string();
        std::fs::write(vault_dir.join(".bench-token"), &token).map_err(|e| e.to_string())?;
        token
    };

    let launched = Instant::now();
    let served = serve(guwah, &vault_dir, PASSPHRASE, &[], true)?;
    let addr = served.addr.clone();
    let bearer = format!("Authorization: Bearer {token}\r\n");
    let probe = format!("/api/search?q={}", percent("camp"));
    loop {
        if answered(&addr, &bearer, &probe) {
            break;
        }
        if launched.elapsed() > Duration::from_secs(600) {
            return Err("the server answered no search in 10 minutes".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let start = launched.elapsed();

    let mut queries: Vec<String> = Vec::new();
    for vocab in [UYGHUR, CHINESE, ENGLISH, FRENCH] {
        for (i, w) in vocab.iter().enumerate() {
            queries.push(format!("/api/search?q={}&limit=50", percent(w)));
            let pair = format!("{w} {}", vocab[(i + 3) % vocab.len()]);
            queries.push(format!("/api/search?q={}&limit=50", percent(&pair)));
        }
    }
    let one = load(&addr, &bearer, &queries, 1, secs)?;
    let eight = load(&addr, &bearer, &queries, 8, secs)?;
    let list = vec!["/api/items?limit=50".to_owned()];
    let ceiling = load(&addr, &bearer, &list, 1, secs)?;

    let rows = vec![
        row(
            format!("guwah serve start, {items} items, to the first search"),
            format!("{:.2} s", start.as_secs_f64()),
            "-".to_owned(),
        )
        .target("< 5 s", start < Duration::from_secs(5)),
        row(
            "GET /api/search (1 client)".to_owned(),
            format!(
                "p50 {}, p99 {}, {:.0} req/s",
                secs_ms(one.p50),
                secs_ms(one.p99),
                one.rps
            ),
            format!(
                "GET /api/items?limit=50: p50 {}, p99 {}",
                secs_ms(ceiling.p50),
                secs_ms(ceiling.p99)
            ),
        )
        .target(
            "p99 < 50 ms",
            one.p99 < Duration::from_millis(50) && one.errors == 0,
        ),
        row(
            "GET /api/search (8 clients)".to_owned(),
            format!(
                "p50 {}, p99 {}, {:.0} req/s",
                secs_ms(eight.p50),
                secs_ms(eight.p99),
                eight.rps
            ),
            "-".to_owned(),
        )
        .target(
            "p99 < 50 ms",
            eight.p99 < Duration::from_millis(50) && eight.errors == 0,
        ),
    ];
    print_table(&rows);
    Ok(())
}

/// Whether one GET of `path` is answered 200.
fn answered(addr: &str, auth: &str, path: &str) -> bool {
    let Ok(rt) = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    else {
        return false;
    };
    rt.block_on(async {
        let Ok(mut s) = connect(addr).await else {
            return false;
        };
        ask(&mut s, "GET", path, auth, b"")
            .await
            .is_ok_and(|a| a.status == 200)
    })
}

fn percent(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}
