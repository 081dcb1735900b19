//! The vault's own commands: `init`, `passwd`, `add`, `list`, `show`,
//! `get`, `annotate` and `verify`. Each opens the vault, calls the library
//! and prints; the logic is in `guwah-vault`.

use std::path::{Path, PathBuf};

use clap::Args;
use guwah_vault::{AddOptions, AddStatus, ItemDetails, KdfParams, Vault, VerifyProgress, short_id};

use crate::args::{MaxExpansion, parse_max_expansion};
use crate::context::{Ctx, Exit, Failure, Outcome, print_json, say, write_stdout};
use crate::term::outln;
use crate::{passphrase, progress};

/// `guwah add` options.
#[derive(Debug, Args)]
pub struct AddArgs {
    /// Files or folders to add.
    #[arg(required_unless_present = "chat", value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    /// A WhatsApp chat export (.txt or .zip) or a Telegram Desktop export (result.json or its
    /// folder): the export is sealed as one item, and each message and attachment as an item linked to it.
    #[arg(long, value_name = "EXPORT", conflicts_with = "paths")]
    pub chat: Option<PathBuf>,
    /// A note about these files (sealed, withholdable).
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// A tag (repeat for more).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Where the files came from.
    #[arg(long, value_name = "TEXT")]
    pub source: Option<String>,
    /// When they were captured, RFC 3339 (e.g. 2024-03-01T09:30:00+08:00).
    #[arg(long, value_name = "RFC3339")]
    pub captured_at: Option<String>,
    /// With --chat: a .zip export's entries may declare at most 64 MiB plus RATIO times the
    /// zip's own size once decompressed (a zip-bomb guard; default 100). Raise it for a genuine
    /// export that compresses extremely well; `unlimited` lifts it.
    #[arg(
        long,
        value_name = "RATIO",
        value_parser = parse_max_expansion
    )]
    pub max_expansion: Option<MaxExpansion>,
}

impl AddArgs {
    /// The expansion ratio for a chat export (`None`: unlimited).
    pub fn chat_max_expansion(&self) -> Option<u64> {
        self.max_expansion
            .map_or(Some(guwah_package::zip::DEFAULT_MAX_EXPANSION), |m| m.0)
    }
}

/// Words an attacker would try first against this vault's passphrase.
fn guess_context(dir: &Path, origin: Option<&str>) -> Vec<String> {
    let mut words: Vec<String> = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .into_iter()
        .collect();
    if let Some(o) = origin {
        words.extend(o.split(['/', '.']).map(str::to_owned));
    }
    words
}

pub fn init(ctx: &Ctx, origin: Option<&str>, allow_weak: bool) -> Outcome {
    let dir = ctx.vault_dir()?;
    if dir.exists()
        && std::fs::read_dir(&dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(guwah_vault::VaultError::AlreadyExists(dir.display().to_string()).into());
    }
    let p = passphrase::get(ctx.passphrase_file.as_deref(), true)?;
    let context = guess_context(&dir, origin);
    let context: Vec<&str> = context.iter().map(String::as_str).collect();
    passphrase::check_new(&p, &context, allow_weak)?;
    let vault = Vault::init(&dir, &p, origin, KdfParams::DEFAULT)?;
    if ctx.json {
        print_json(
            &serde_json::json!({ "vault": dir, "origin": vault.origin(), "log_key": vault.log_vkey() }),
        )?;
    } else {
        say!("created vault {}", dir.display());
        say!("origin   {}", vault.origin());
        say!("log key  {}", vault.log_vkey());
        say!("Keep the passphrase safe: without it the vault cannot be opened.");
    }
    Ok(Exit::Ok)
}

pub fn passwd(ctx: &Ctx, new_file: Option<&Path>, allow_weak: bool) -> Outcome {
    let dir = ctx.vault_dir()?;
    Vault::open(&dir, None)?;
    let old = passphrase::get(ctx.passphrase_file.as_deref(), false)?;
    let vault = Vault::open(&dir, Some(&old))?;
    let new = passphrase::get_new(new_file)?;
    let context = guess_context(&dir, Some(vault.origin()));
    let context: Vec<&str> = context.iter().map(String::as_str).collect();
    passphrase::check_new(&new, &context, allow_weak)?;
    vault.change_passphrase(&old, &new, KdfParams::DEFAULT)?;
    if ctx.json {
        print_json(&serde_json::json!({ "vault": dir, "changed": true }))?;
    } else {
        say!("passphrase changed for {}", dir.display());
        say!(
            "The old passphrase no longer opens this vault's key file; copies of the old key file still open with it."
        );
    }
    Ok(Exit::Ok)
}

pub fn add(ctx: &Ctx, args: &AddArgs) -> Outcome {
    let opts = AddOptions {
        note: args.note.clone(),
        tags: args.tags.clone(),
        source: args.source.clone(),
        captured_at: args.captured_at.clone(),
    };
    if let Some(export) = &args.chat {
        return crate::cmd_chat::add_chat(ctx, export, &opts, args.chat_max_expansion());
    }
    // (clap's `requires` does not hold beside the `paths`/`chat` conflict.)
    if args.max_expansion.is_some() {
        return Err(Failure::new(
            Exit::Usage,
            "--max-expansion applies to a .zip chat export: use it with --chat",
        ));
    }
    let vault = ctx.open(true)?;
    // Only worth a bar for large or many files.
    let mut bar = progress::AddBar::new(ctx.quiet, Some(50));
    let report = vault.add(&args.paths, &opts, &mut |p| bar.update(p))?;
    bar.finish();
    if ctx.json {
        print_json(&report)?;
    } else {
        let mut out = String::new();
        let mut new = 0;
        for item in &report.items {
            let status = match item.status {
                AddStatus::Added => {
                    new += 1;
                    "added   "
                }
                AddStatus::Existing => "existing",
            };
            outln!(
                out,
                "{status} {}  {}",
                short_id(&item.id),
                item.path.display()
            );
        }
        for w in &report.warnings {
            outln!(out, "note     {}: {}", w.path.display(), w.message);
        }
        outln!(
            out,
            "sealed {new} new item(s); the log now holds {} entries",
            report.tree_size
        );
        write_stdout(out.as_bytes())?;
    }
    Ok(Exit::Ok)
}

pub fn list(ctx: &Ctx) -> Outcome {
    let vault = ctx.open(true)?;
    let items = vault.list()?;
    if ctx.json {
        return print_json(&items).map(|_| Exit::Ok);
    }
    let mut out = String::new();
    outln!(
        out,
        "{:<16}  {:>12}  {:<24}  {:<20}  NAME",
        "ID",
        "SIZE",
        "TYPE",
        "SEALED"
    );
    for i in &items {
        outln!(
            out,
            "{:<16}  {:>12}  {:<24}  {:<20}  {}{}",
            short_id(&i.id),
            i.size,
            i.media_type,
            i.sealed_at,
            i.filename.as_deref().unwrap_or("-"),
            if i.tags.is_empty() {
                String::new()
            } else {
                format!("  [{}]", i.tags.join(", "))
            }
        );
    }
    write_stdout(out.as_bytes())?;
    Ok(Exit::Ok)
}

pub fn show(ctx: &Ctx, id: &str) -> Outcome {
    let vault = ctx.open(true)?;
    let d = vault.show(id)?;
    if ctx.json {
        return show_json(&vault, &d).map(|_| Exit::Ok);
    }
    let mut out = String::new();
    outln!(out, "item        {}", d.id);
    outln!(out, "sha256      {}", d.sha256);
    outln!(out, "size        {} bytes", d.size);
    outln!(out, "media type  {}", d.media_type);
    outln!(out, "sealed at   {}", d.sealed_at);
    outln!(out, "collector   {}", d.collector);
    outln!(
        out,
        "log index   {} (of {} entries)",
        d.leaf_index,
        d.tree_size
    );
    outln!(out, "metadata (each field sealed as a salted commitment):");
    let width = d
        .fields
        .iter()
        .map(|f| f.name.len())
        .max()
        .unwrap_or(0)
        .max(14);
    for f in &d.fields {
        let mark = if f.matches {
            ""
        } else {
            "  <- DOES NOT MATCH THE SEALED COMMITMENT"
        };
        outln!(
            out,
            "  {:<width$} {}{mark}",
            f.name,
            f.value
                .as_deref()
                .unwrap_or("(withheld)")
                .replace('\n', ", ")
        );
    }
    match vault.perceptual_hashes(&d.id)? {
        Some(h) if h.kind == "image" && h.frames.len() == 1 => outln!(
            out,
            "perceptual  PDQ {} (quality {})",
            h.frames[0].pdq,
            h.frames[0].quality
        ),
        Some(h) => outln!(
            out,
            "perceptual  PDQ of {} sampled frame(s) (see --json)",
            h.frames.len()
        ),
        None => {}
    }
    outln!(out, "custody:");
    for c in &d.custody {
        let details: Vec<String> = c
            .fields
            .iter()
            .map(|f| format!("{}: {}", f.name, f.value.as_deref().unwrap_or("(withheld)")))
            .collect();
        outln!(
            out,
            "  {}  {:<11} log entry {:<6} by {}{}",
            c.at,
            c.action,
            c.leaf_index,
            c.actor,
            if details.is_empty() {
                String::new()
            } else {
                format!("  ({})", details.join("; "))
            }
        );
    }
    crate::cmd_chat::show_links(&vault, &d.id, &mut out)?;
    write_stdout(out.as_bytes())?;
    Ok(Exit::Ok)
}

pub fn get(ctx: &Ctx, id: &str, out: &Path, reason: Option<&str>, to: Option<&str>) -> Outcome {
    let vault = ctx.open(true)?;
    let to_stdout = out == Path::new("-");
    let mut bar: Option<indicatif::ProgressBar> = None;
    let size = if to_stdout { 0 } else { vault.show(id)?.size };
    if size > 64 << 20 {
        bar = Some(progress::bytes_bar(ctx.quiet, size, "decrypting"));
    }
    let item = vault.get(id, (!to_stdout).then_some(out), reason, to, &mut |n| {
        if let Some(b) = &bar {
            b.set_position(n)
        }
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    let sha = guwah_core::record::hex32(&item.sha256);
    if ctx.json && !to_stdout {
        print_json(&serde_json::json!({ "out": out, "size": item.size, "sha256": sha }))?;
    } else {
        let msg = format!(
            "wrote {} bytes to {}; SHA-256 {sha} matches the sealed record",
            item.size,
            if to_stdout {
                "standard output".into()
            } else {
                out.display().to_string()
            }
        );
        if to_stdout {
            eprintln!("{}", crate::term::safe(&msg))
        } else {
            say!("{msg}")
        }
    }
    Ok(Exit::Ok)
}

pub fn verify(ctx: &Ctx, witnesses: &crate::cmd_witness::WitnessPolicyArgs) -> Outcome {
    let vault = ctx.open(true)?;
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut report = vault.verify(&mut |p| match p {
        VerifyProgress::Planned { bytes } => {
            if bytes > 64 << 20 {
                bar = Some(progress::bytes_bar(ctx.quiet, bytes, "re-hashing"));
            }
        }
        VerifyProgress::Bytes(n) => {
            if let Some(b) = &bar {
                b.inc(n)
            }
        }
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    crate::cmd_witness::apply_verify_policy(&vault, witnesses, &mut report)?;
    if ctx.json {
        print_json(&serde_json::json!({ "ok": report.ok(), "report": report }))?;
    } else {
        for p in &report.problems {
            say!("BROKEN  {}: {}", p.thing, p.what);
        }
        for n in &report.notes {
            say!("note    {n}");
        }
        if report.ok() {
            say!(
                "OK: {} items, {} custody events and {} audit records re-verified ({} bytes re-hashed), {} checkpoints consistent, log size {}",
                report.items,
                report.events,
                report.audits,
                report.bytes,
                report.checkpoints,
                report.tree_size
            );
        } else {
            say!("FAILED: {} problem(s) found", report.problems.len());
        }
    }
    Ok(Exit::ok_or_broken(report.ok()))
}

/// `guwah annotate ID --note TEXT`.
pub fn annotate(ctx: &Ctx, id: &str, note: &str) -> Outcome {
    let vault = ctx.open(true)?;
    let leaf = vault.annotate(id, note)?;
    if ctx.json {
        print_json(&serde_json::json!({ "item": vault.item_id(id)?, "leaf_index": leaf }))?;
    } else {
        say!(
            "annotated {} (log entry {leaf})",
            short_id(&vault.item_id(id)?)
        );
    }
    Ok(Exit::Ok)
}

/// `guwah show --json`: the details, plus `"chat"` when the item has chat
/// links and `"perceptual_hash"` (PDQ, hex, with its quality; one per
/// sampled second of a video) when it has one — the value another holder
/// needs for `guwah similar --pdq`.
fn show_json(vault: &Vault, d: &ItemDetails) -> Result<(), Failure> {
    let json = |e: serde_json::Error| Failure::new(Exit::Damaged, e.to_string());
    let mut v = serde_json::to_value(d).map_err(json)?;
    let links = vault.chat_links(&d.id)?;
    let hashes = vault.perceptual_hashes(&d.id)?;
    if let Some(o) = v.as_object_mut() {
        if !links.is_empty() {
            o.insert("chat".into(), serde_json::to_value(&links).map_err(json)?);
        }
        if let Some(h) = hashes {
            o.insert(
                "perceptual_hash".into(),
                serde_json::to_value(&h).map_err(json)?,
            );
        }
    }
    print_json(&v)
}
