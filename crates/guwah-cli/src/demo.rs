//! `guwah demo`: the whole job on the bundled samples, narrated.
//!
//! It builds a vault in a fresh folder, adds the sample evidence, lists and
//! shows it, gets a file back, checks a proof the way an outsider would
//! (with only the log's public key), verifies the vault, then flips one
//! byte in a copy and shows `verify` naming it.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use guwah_core::checkpoint::open_checkpoint;
use guwah_core::merkle::{leaf_hash, verify_inclusion};
use guwah_core::note::{NoteVerifier, Verifier};
use guwah_vault::{AddOptions, KdfParams, Vault, short_id};

use crate::context::{Exit, Failure, Outcome};

/// The sample evidence, embedded so the demo runs from any folder.
const SAMPLES: &[(&str, &[u8])] = &[
    (
        "call-screenshot.png",
        include_bytes!("../../../samples/evidence/call-screenshot.png"),
    ),
    (
        "street-photo.jpg",
        include_bytes!("../../../samples/evidence/street-photo.jpg"),
    ),
    (
        "testimony.txt",
        include_bytes!("../../../samples/evidence/testimony.txt"),
    ),
    (
        "notice.pdf",
        include_bytes!("../../../samples/evidence/notice.pdf"),
    ),
];

const DEMO_PASSPHRASE: &[u8] = b"demo passphrase - never use for real evidence";

fn step(n: u32, what: &str) {
    println!("\n[{n}] {what}");
}

/// Run the demo in `dir` (or a new temporary folder).
pub fn run(dir: Option<&Path>) -> Outcome {
    let base = match dir {
        Some(d) => {
            fs::create_dir_all(d).with_context(|| format!("{}: cannot create", d.display()))?;
            d.to_owned()
        }
        None => tempfile::Builder::new()
            .prefix("guwah-demo-")
            .tempdir()
            .context("cannot create a temporary folder")?
            .keep(),
    };
    let evidence = base.join("evidence");
    let vault_dir = base.join("vault");
    if vault_dir.exists() {
        return Err(Failure {
            exit: Exit::BadInput,
            message: format!(
                "{}: already exists; give --dir a new folder",
                vault_dir.display()
            ),
        });
    }
    fs::create_dir_all(&evidence)
        .with_context(|| format!("{}: cannot create", evidence.display()))?;
    for (name, bytes) in SAMPLES {
        fs::write(evidence.join(name), bytes)
            .with_context(|| format!("cannot write sample {name}"))?;
    }
    println!("guwah demo: everything happens under {}", base.display());
    println!("(the sample files are synthetic, made for this demo; see samples/SOURCES.md)");

    step(
        1,
        "init: a new vault, keys sealed under a passphrase (Argon2id)",
    );
    let vault = Vault::init(
        &vault_dir,
        DEMO_PASSPHRASE,
        Some("guwah.demo/vault"),
        KdfParams::DEFAULT,
    )?;
    println!("    vault    {}", vault_dir.display());
    println!("    log key  {}", vault.log_vkey());

    step(
        2,
        &format!(
            "add: hash, encrypt and seal the {} files in {}",
            SAMPLES.len(),
            evidence.display()
        ),
    );
    let opts = AddOptions {
        source: Some("guwah demo samples".into()),
        tags: vec!["demo".into()],
        ..Default::default()
    };
    let report = vault.add(std::slice::from_ref(&evidence), &opts, &mut |_| {})?;
    for item in &report.items {
        println!(
            "    added {}  {}  {} bytes  {}",
            short_id(&item.id),
            item.media_type,
            item.size,
            item.path.display()
        );
    }
    println!(
        "    one signed checkpoint for the batch: log size {}",
        report.tree_size
    );

    step(3, "list");
    for i in vault.list()? {
        println!(
            "    {}  {:>6} bytes  {:<16} {}",
            short_id(&i.id),
            i.size,
            i.media_type,
            i.filename.unwrap_or_default()
        );
    }

    let first = &report.items[0];
    step(4, &format!("show {}", short_id(&first.id)));
    let d = vault.show(&first.id)?;
    println!("    sha256     {}", d.sha256);
    println!(
        "    sealed at  {}  by collector {}",
        d.sealed_at, d.collector
    );
    for f in &d.fields {
        println!(
            "    field      {:<14} {}",
            f.name,
            f.value.as_deref().unwrap_or("(withheld)")
        );
    }

    let out = base
        .join("restored")
        .join(first.path.file_name().unwrap_or_default());
    step(
        5,
        &format!("get: decrypt the original to {}", out.display()),
    );
    fs::create_dir_all(out.parent().unwrap_or(&base)).context("cannot create the output folder")?;
    vault.get(&first.id, Some(&out), Some("demo"), None, &mut |_| {})?;
    let same = fs::read(&out).context("cannot read the restored file")?
        == fs::read(&first.path).context("cannot read the sample")?;
    println!("    byte-identical to the original: {same}");
    println!("    the export itself is a sealed custody event:");
    for c in vault.show(&first.id)?.custody {
        println!("      {}  {}  (log entry {})", c.at, c.action, c.leaf_index);
    }

    step(
        6,
        "prove: check one item as an outsider would, with only the log's public key",
    );
    let vkey = vault.log_vkey();
    let note = vault.checkpoint_note(None)?;
    let leaf = vault.leaf_bytes(&first.id)?;
    let proof = vault.inclusion_proof(&first.id)?;
    let verifier = Verifier::from_vkey(&vkey).map_err(|e| anyhow::anyhow!("{e}"))?;
    let verifiers: [&dyn NoteVerifier; 1] = [&verifier];
    let (cp, _) =
        open_checkpoint(&note, &verifiers, vault.origin()).map_err(|e| anyhow::anyhow!("{e}"))?;
    let hashes: Vec<[u8; 32]> = proof
        .hashes
        .iter()
        .map(|h| {
            B64.decode(h)
                .ok()
                .and_then(|v| v.try_into().ok())
                .context("bad proof hash")
        })
        .collect::<Result<_, _>>()?;
    let ok = verify_inclusion(
        proof.leaf_index,
        cp.size,
        &leaf_hash(&leaf),
        &hashes,
        &cp.root,
    )
    .is_ok();
    println!(
        "    checkpoint signed by {}: size {}, root {}",
        cp.origin,
        cp.size,
        B64.encode(cp.root)
    );
    println!(
        "    record of {} is leaf {} — RFC 9162 inclusion proof of {} hashes: {}",
        short_id(&first.id),
        proof.leaf_index,
        hashes.len(),
        if ok { "valid" } else { "INVALID" }
    );
    println!("    the record (the exact leaf bytes):");
    for line in String::from_utf8_lossy(&leaf).lines() {
        println!("      {line}");
    }

    step(
        7,
        "verify: re-hash every blob, check every signature, tile and checkpoint",
    );
    let r = vault.verify(&mut |_| {})?;
    println!(
        "    {} items, {} custody events, {} checkpoints: {}",
        r.items,
        r.events,
        r.checkpoints,
        if r.ok() {
            "everything holds"
        } else {
            "PROBLEMS"
        }
    );
    for p in &r.problems {
        println!("    BROKEN {}: {}", p.thing, p.what);
    }
    drop(vault);

    step(
        8,
        "tamper: flip one byte of one encrypted blob in a copy, and verify again",
    );
    let copy = base.join("vault-tampered");
    copy_dir(&vault_dir, &copy)?;
    let blob = first_blob(&copy.join("blobs")).context("no blob found")?;
    let mut bytes = fs::read(&blob).context("cannot read blob")?;
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x01;
    fs::write(&blob, bytes).context("cannot write blob")?;
    println!("    flipped byte {mid} of {}", blob.display());
    let tampered = Vault::open(&copy, Some(DEMO_PASSPHRASE))?;
    let r2 = tampered.verify(&mut |_| {})?;
    for p in &r2.problems {
        println!("    BROKEN {}: {}", p.thing, p.what);
    }
    println!(
        "    verify {}",
        if r2.ok() {
            "did NOT notice (this is a bug)"
        } else {
            "named the broken item"
        }
    );

    println!("\nDone. Try it yourself:");
    println!(
        "    export GUWAH_VAULT={} GUWAH_PASSPHRASE='{}'",
        vault_dir.display(),
        String::from_utf8_lossy(DEMO_PASSPHRASE)
    );
    println!(
        "    guwah list; guwah verify; guwah log checkpoint; guwah log proof {} --json",
        short_id(&first.id)
    );
    Ok(Exit::ok_or_broken(r.ok() && !r2.ok() && ok && same))
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    fs::create_dir_all(to)?;
    for e in fs::read_dir(from)? {
        let e = e?;
        let target = to.join(e.file_name());
        if e.file_type()?.is_dir() {
            copy_dir(&e.path(), &target)?;
        } else {
            fs::copy(e.path(), &target)?;
        }
    }
    Ok(())
}

fn first_blob(dir: &Path) -> Option<PathBuf> {
    let mut shards: Vec<_> = fs::read_dir(dir)
        .ok()?
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
        .collect();
    shards.sort_by_key(|e| e.file_name());
    for s in shards {
        let mut files: Vec<_> = fs::read_dir(s.path())
            .ok()?
            .flatten()
            .map(|e| e.path())
            .collect();
        files.sort();
        if let Some(f) = files.into_iter().next() {
            return Some(f);
        }
    }
    None
}
