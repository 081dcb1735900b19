//! Each subcommand: open the vault, call the library, print the result.

use std::io::Write;
use std::path::{Path, PathBuf};

use guwah_vault::{AddOptions, AddProgress, AddStatus, KdfParams, Vault, VerifyProgress, short_id};
use serde::Serialize;

use crate::cli::{AddArgs, Cli, Command, LogCommand};
use crate::term::outln;
use crate::{Failure, passphrase, progress};

/// `println!` that survives a closed pipe, for one line of text: control
/// and bidi-override characters in it (from file names, fields, notes) are
/// escaped, so no value can hide or forge a line (see `term`).
macro_rules! say {
    ($($arg:tt)*) => {
        write_stdout(
            format!("{}\n", crate::term::safe(&format!($($arg)*))).as_bytes(),
        )?
    };
}

fn vault_dir(cli: &Cli) -> Result<PathBuf, Failure> {
    cli.vault.clone().ok_or(Failure {
        code: 3,
        message: "no vault given: pass --vault DIR or set GUWAH_VAULT".into(),
    })
}

pub(crate) fn open(cli: &Cli, with_passphrase: bool) -> Result<Vault, Failure> {
    let dir = vault_dir(cli)?;
    if with_passphrase {
        // Check it is a vault before asking for a passphrase.
        Vault::open(&dir, None)?;
        let p = passphrase::get(cli.passphrase_file.as_deref(), false)?;
        Ok(Vault::open(&dir, Some(&p))?)
    } else {
        Ok(Vault::open(&dir, None)?)
    }
}

pub(crate) fn print_json<T: Serialize>(value: &T) -> Result<(), Failure> {
    let mut text = serde_json::to_string_pretty(value).map_err(|e| Failure {
        code: 5,
        message: e.to_string(),
    })?;
    text.push('\n');
    write_stdout(text.as_bytes())
}

/// Write to standard output; a reader that went away (`| head`) ends the
/// program quietly, as in other Unix tools.
pub fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Failure {
            code: 5,
            message: format!("standard output: {e}"),
        }),
    }
}

/// Run one command; the exit code on success (verify may return 1).
pub fn run(cli: Cli) -> Result<u8, Failure> {
    match &cli.command {
        Command::Init {
            origin,
            allow_weak_passphrase,
        } => init(&cli, origin.as_deref(), *allow_weak_passphrase),
        Command::Passwd {
            new_passphrase_file,
            allow_weak_passphrase,
        } => passwd(&cli, new_passphrase_file.as_deref(), *allow_weak_passphrase),
        Command::Add(args) => add(&cli, args),
        Command::List => list(&cli),
        Command::Show { id } => show(&cli, id),
        Command::Get {
            id,
            out,
            reason,
            to,
        } => get(&cli, id, out, reason.as_deref(), to.as_deref()),
        Command::Annotate { id, note } => {
            let vault = open(&cli, true)?;
            let leaf = vault.annotate(id, note)?;
            if cli.json {
                print_json(&serde_json::json!({ "item": vault.item_id(id)?, "leaf_index": leaf }))?;
            } else {
                say!(
                    "annotated {} (log entry {leaf})",
                    short_id(&vault.item_id(id)?)
                );
            }
            Ok(0)
        }
        Command::Verify { witnesses } => verify(&cli, witnesses),
        Command::Log(cmd) => log(&cli, cmd),
        Command::Export(args) => crate::cmd_package::export(&cli, args),
        Command::VerifyBundle(args) => crate::cmd_package::verify_bundle(&cli, args),
        Command::Disclose(args) => crate::cmd_package::disclose(&cli, args),
        Command::Bag(cmd) => crate::cmd_bag::run(&cli, cmd),
        Command::Verifier(cmd) => crate::cmd_web::run(&cli, cmd),
        Command::Timestamp(args) => crate::cmd_timestamp::run(&cli, args),
        Command::Witness(cmd) => crate::cmd_witness::run(&cli, cmd),
        Command::Ots(cmd) => crate::cmd_ots::run(&cli, cmd),
        Command::Search(args) => crate::cmd_chat::search(&cli, args),
        Command::Similar(args) => crate::cmd_similar::similar(&cli, args),
        Command::Duplicates(args) => crate::cmd_similar::duplicates(&cli, args),
        Command::Demo { dir } => crate::demo::run(dir.as_deref()),
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

fn init(cli: &Cli, origin: Option<&str>, allow_weak: bool) -> Result<u8, Failure> {
    let dir = vault_dir(cli)?;
    if dir.exists()
        && std::fs::read_dir(&dir)
            .map(|mut d| d.next().is_some())
            .unwrap_or(true)
    {
        return Err(guwah_vault::VaultError::AlreadyExists(dir.display().to_string()).into());
    }
    let p = passphrase::get(cli.passphrase_file.as_deref(), true)?;
    let context = guess_context(&dir, origin);
    let context: Vec<&str> = context.iter().map(String::as_str).collect();
    passphrase::check_new(&p, &context, allow_weak)?;
    let vault = Vault::init(&dir, &p, origin, KdfParams::DEFAULT)?;
    if cli.json {
        print_json(
            &serde_json::json!({ "vault": dir, "origin": vault.origin(), "log_key": vault.log_vkey() }),
        )?;
    } else {
        say!("created vault {}", dir.display());
        say!("origin   {}", vault.origin());
        say!("log key  {}", vault.log_vkey());
        say!("Keep the passphrase safe: without it the vault cannot be opened.");
    }
    Ok(0)
}

fn passwd(cli: &Cli, new_file: Option<&Path>, allow_weak: bool) -> Result<u8, Failure> {
    let dir = vault_dir(cli)?;
    Vault::open(&dir, None)?;
    let old = passphrase::get(cli.passphrase_file.as_deref(), false)?;
    let vault = Vault::open(&dir, Some(&old))?;
    let new = passphrase::get_new(new_file)?;
    let context = guess_context(&dir, Some(vault.origin()));
    let context: Vec<&str> = context.iter().map(String::as_str).collect();
    passphrase::check_new(&new, &context, allow_weak)?;
    vault.change_passphrase(&old, &new, KdfParams::DEFAULT)?;
    if cli.json {
        print_json(&serde_json::json!({ "vault": dir, "changed": true }))?;
    } else {
        say!("passphrase changed for {}", dir.display());
        say!(
            "The old passphrase no longer opens this vault's key file; copies of the old key file still open with it."
        );
    }
    Ok(0)
}

fn add(cli: &Cli, args: &AddArgs) -> Result<u8, Failure> {
    if let Some(export) = &args.chat {
        return crate::cmd_chat::add_chat(cli, args, export);
    }
    // (clap's `requires` does not hold beside the `paths`/`chat` conflict.)
    if args.max_expansion.is_some() {
        return Err(Failure {
            code: 2,
            message: "--max-expansion applies to a .zip chat export: use it with --chat".into(),
        });
    }
    let vault = open(cli, true)?;
    let opts = AddOptions {
        note: args.note.clone(),
        tags: args.tags.clone(),
        source: args.source.clone(),
        captured_at: args.captured_at.clone(),
    };
    let mut bar: Option<indicatif::ProgressBar> = None;
    let report = vault.add(&args.paths, &opts, &mut |p| match p {
        AddProgress::Planned { files, bytes } => {
            // Only worth a bar for large or many files.
            if bytes > 64 << 20 || files > 50 {
                bar = Some(progress::bytes_bar(cli.quiet, bytes, "sealing"));
            }
        }
        AddProgress::Bytes(n) => {
            if let Some(b) = &bar {
                b.inc(n)
            }
        }
        AddProgress::File(_) => {}
        AddProgress::Sealing => {
            if let Some(b) = &bar {
                b.set_message("committing")
            }
        }
    })?;
    if let Some(b) = bar {
        b.finish_and_clear();
    }
    if cli.json {
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
    Ok(0)
}

fn list(cli: &Cli) -> Result<u8, Failure> {
    let vault = open(cli, true)?;
    let items = vault.list()?;
    if cli.json {
        return print_json(&items).map(|_| 0);
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
    Ok(0)
}

fn show(cli: &Cli, id: &str) -> Result<u8, Failure> {
    let vault = open(cli, true)?;
    let d = vault.show(id)?;
    if cli.json {
        return crate::cmd_chat::show_json(&vault, &d).map(|_| 0);
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
    Ok(0)
}

fn get(
    cli: &Cli,
    id: &str,
    out: &Path,
    reason: Option<&str>,
    to: Option<&str>,
) -> Result<u8, Failure> {
    let vault = open(cli, true)?;
    let to_stdout = out == Path::new("-");
    let mut bar: Option<indicatif::ProgressBar> = None;
    let size = if to_stdout { 0 } else { vault.show(id)?.size };
    if size > 64 << 20 {
        bar = Some(progress::bytes_bar(cli.quiet, size, "decrypting"));
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
    if cli.json && !to_stdout {
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
    Ok(0)
}

fn verify(cli: &Cli, witnesses: &crate::cmd_witness::WitnessPolicyArgs) -> Result<u8, Failure> {
    let vault = open(cli, true)?;
    let mut bar: Option<indicatif::ProgressBar> = None;
    let mut report = vault.verify(&mut |p| match p {
        VerifyProgress::Planned { bytes } => {
            if bytes > 64 << 20 {
                bar = Some(progress::bytes_bar(cli.quiet, bytes, "re-hashing"));
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
    if cli.json {
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
                "OK: {} items and {} custody events re-verified ({} bytes re-hashed), {} checkpoints consistent, log size {}",
                report.items,
                report.events,
                report.bytes,
                report.checkpoints,
                report.tree_size
            );
        } else {
            say!("FAILED: {} problem(s) found", report.problems.len());
        }
    }
    Ok(if report.ok() { 0 } else { 1 })
}

fn log(cli: &Cli, cmd: &LogCommand) -> Result<u8, Failure> {
    match cmd {
        LogCommand::Witness(args) => return crate::cmd_witness::log_witness(cli, args),
        LogCommand::Serve(args) => return crate::cmd_publish::serve(cli, args),
        LogCommand::Monitor(args) => return crate::cmd_publish::monitor(cli, args),
        _ => {}
    }
    let vault = open(cli, false)?;
    match cmd {
        LogCommand::Key => {
            if cli.json {
                print_json(
                    &serde_json::json!({ "vkey": vault.log_vkey(), "origin": vault.origin() }),
                )?;
            } else {
                say!("{}", vault.log_vkey());
            }
        }
        LogCommand::Checkpoint { size } => write_stdout(&vault.checkpoint_note(*size)?)?,
        LogCommand::Checkpoints => {
            let sizes = vault.checkpoint_sizes()?;
            if cli.json {
                print_json(&sizes)?;
            } else {
                for s in sizes {
                    say!("{s}");
                }
            }
        }
        LogCommand::Leaf { id } => write_stdout(&vault.leaf_bytes(id)?)?,
        LogCommand::Proof { id } => {
            let proof = vault.inclusion_proof(id)?;
            if cli.json {
                print_json(&proof)?;
            } else {
                say!("leaf_index {}", proof.leaf_index);
                say!("tree_size {}", proof.tree_size);
                say!("leaf_hash {}", proof.leaf_hash);
                for h in &proof.hashes {
                    say!("hash {h}");
                }
            }
        }
        LogCommand::Witness(_) | LogCommand::Serve(_) | LogCommand::Monitor(_) => {
            unreachable!("handled above")
        }
        LogCommand::Consistency { from } => {
            let proof = vault.consistency_proof(*from)?;
            if cli.json {
                print_json(&proof)?;
            } else {
                say!("old_size {}", proof.old_size);
                say!("new_size {}", proof.new_size);
                for h in &proof.hashes {
                    say!("hash {h}");
                }
            }
        }
    }
    Ok(0)
}
