//! `guwah export`, `guwah verify-bundle`, `guwah disclose`: evidence
//! packages (see `docs/package.md`).

use std::fmt::Write as _;
use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Args;
use guwah_core::bag::FileDigest;
use guwah_core::bundle::{FailureKind, Verdict};
use guwah_package::writer::BagWriter;
use guwah_vault::{ExportOptions, Lang, PackageSink, short_id};
use guwah_verdict::{InputFile, PolicyError, PolicyInput, Report, TokenStatus};

use crate::context::{Ctx, Exit, Failure, Outcome, print_json, write_stdout};
use crate::term::outln;

/// `guwah export` arguments.
#[derive(Debug, Args)]
#[command(after_help = "\
The package is a BagIt bag (a folder, or a zip if PATH ends in .zip) holding the original files, \
each item's sealed record, a C2SP tlog-proof receipt against one checkpoint, its custody events with \
their own receipts, the checkpoint, the log key and REPORT.html (see docs/package.md). One `exported` \
custody event per item is sealed before anything is written. Give the recipient the log key \
(`guwah log key`) by another channel: they check with `guwah verify-bundle PATH --trust VKEY`.")]
pub struct ExportArgs {
    /// Item ids (or unique prefixes).
    #[arg(value_name = "ID")]
    pub ids: Vec<String>,
    /// Also export every item with this tag (repeatable).
    #[arg(long = "tag", value_name = "TAG")]
    pub tags: Vec<String>,
    /// Where to write: a new folder, or a new .zip file.
    #[arg(long, short, value_name = "PATH")]
    pub out: PathBuf,
    /// Leave this metadata field out of the package (repeatable), e.g. source, filename; a
    /// group withholds all its fields: gps withholds gps.latitude, gps.longitude, ...
    #[arg(long, value_name = "FIELD")]
    pub withhold: Vec<String>,
    /// Why the package is made (sealed in each `exported` custody event).
    #[arg(long, value_name = "TEXT")]
    pub reason: Option<String>,
    /// Who it is for, e.g. "UN OHCHR submission" (sealed in each `exported` custody event,
    /// and so visible to everyone who receives a later package). The local path is never sealed.
    #[arg(long, value_name = "LABEL")]
    pub to: Option<String>,
    /// bag-info.txt Source-Organization.
    #[arg(long, value_name = "NAME")]
    pub org: Option<String>,
    /// bag-info.txt Contact-Name.
    #[arg(long, value_name = "NAME")]
    pub contact_name: Option<String>,
    /// bag-info.txt Contact-Email.
    #[arg(long, value_name = "EMAIL")]
    pub contact_email: Option<String>,
    /// bag-info.txt External-Description.
    #[arg(long, value_name = "TEXT")]
    pub description: Option<String>,
    /// bag-info.txt External-Identifier (default: guwah:<origin>:<checkpoint size>).
    #[arg(long, value_name = "ID")]
    pub identifier: Option<String>,
    /// Language of REPORT.html: en or fr.
    #[arg(long, value_name = "LANG", default_value = "en")]
    pub lang: String,
    /// Stamp the package's checkpoint with every configured TSA (RFC 3161) and include the tokens.
    #[arg(long)]
    pub timestamp: bool,
    /// Have every configured witness cosign the package's checkpoint first (C2SP tlog-witness),
    /// so the package carries the cosignatures `verify-bundle --witness` asks for.
    #[arg(long)]
    pub witness: bool,
}

/// `guwah verify-bundle` arguments.
#[derive(Debug, Args)]
#[command(after_help = "\
Exit 0 only when the package is complete, every file, record, signature, proof and custody event \
holds, the checkpoint is signed by a key given with --trust, and every --witness, --tsa-root and \
--disclosure check holds. Without --trust the package is checked against the log key it carries and \
reported UNTRUSTED (exit 1): consistent, but that proves nothing about who made it. Each failure names \
its kind (see docs/package.md), the file and what is wrong; --json gives the same verdict as \
verify.html. Exit 3: the package or an input cannot be read.")]
pub struct VerifyBundleArgs {
    /// The package: a bag folder or a .zip.
    pub path: PathBuf,
    /// A log key to trust (a C2SP vkey, as printed by `guwah log key`); repeatable.
    #[arg(long, value_name = "VKEY")]
    pub trust: Vec<String>,
    /// Also check a disclosure file (from `guwah disclose --out`) against the item's sealed
    /// record; repeatable.
    #[arg(long, value_name = "FILE")]
    pub disclosure: Vec<PathBuf>,
    /// Witness cosignatures the package's checkpoint must carry (--witness VKEY --min-witnesses K).
    #[command(flatten)]
    pub witnesses: crate::cmd_witness::WitnessPolicyArgs,
    /// A TSA root certificate (PEM or DER) anchoring the package's RFC 3161 tokens; repeatable.
    #[arg(long, value_name = "PEMFILE")]
    pub tsa_root: Vec<PathBuf>,
    /// How far a .zip package may expand (a zip-bomb guard).
    #[command(flatten)]
    pub expansion: crate::args::ExpansionArgs,
}

/// `guwah disclose` arguments.
#[derive(Debug, Args)]
#[command(after_help = "\
Prints the field's value and salt, the commitment sealed in the record and the item id, so that \
anyone can recompute SHA-256(\"guwah/field/v1\\n\" || name || \"\\n\" || salt || value). Seals a \
`disclosed` custody event first. With --out, also writes a disclosure file that \
`guwah verify-bundle PACKAGE --disclosure FILE` checks against a package's sealed record.")]
pub struct DiscloseArgs {
    /// Item id (or a unique prefix).
    pub id: String,
    /// Field name (e.g. gps, source, filename).
    pub field: String,
    /// Write the disclosure file here (never overwritten).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
}

fn bad(exit: Exit, message: impl Into<String>) -> Failure {
    Failure::new(exit, message)
}

/// The BagIt writer, seen by the vault as a [`PackageSink`].
struct Sink(BagWriter);

impl PackageSink for Sink {
    fn add_payload(&mut self, path: &str, reader: &mut dyn Read) -> std::io::Result<FileDigest> {
        let rel = path.strip_prefix("data/").unwrap_or(path);
        self.0
            .add_payload(rel, reader)
            .map_err(|e| std::io::Error::other(e.to_string()))
    }
    fn add_tag_file(&mut self, path: &str, bytes: &[u8]) -> std::io::Result<()> {
        self.0
            .add_tag_file(path, bytes.to_vec())
            .map_err(|e| std::io::Error::other(e.to_string()))
    }
}

/// Remove what an interrupted export created (the writer's
/// `<out>.partial`), and nothing else.
fn remove_partial(out: &Path) {
    let mut p = out.as_os_str().to_owned();
    p.push(".partial");
    let p = PathBuf::from(p);
    if p.is_dir() {
        let _ = std::fs::remove_dir_all(&p);
    } else {
        let _ = std::fs::remove_file(&p);
    }
}

/// `guwah export`.
pub fn export(ctx: &Ctx, args: &ExportArgs) -> Outcome {
    let lang = Lang::parse(&args.lang).ok_or_else(|| {
        bad(
            Exit::Usage,
            format!("--lang {:?}: unknown language; use en or fr", args.lang),
        )
    })?;
    if args.ids.is_empty() && args.tags.is_empty() {
        return Err(bad(Exit::Usage, "export: name item ids, or --tag TAG"));
    }
    let out = &args.out;
    if out.exists() || out.symlink_metadata().is_ok() {
        return Err(bad(
            Exit::BadInput,
            format!(
                "{}: already exists; guwah does not overwrite, choose a new path",
                out.display()
            ),
        ));
    }
    let parent = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !parent.is_dir() {
        return Err(bad(
            Exit::BadInput,
            format!(
                "{}: folder {} does not exist",
                out.display(),
                parent.display()
            ),
        ));
    }
    let vault = ctx.open(true)?;
    let zip = out
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    let writer = if zip {
        // The bag goes in one top-level folder named after the zip, so that
        // unzipping it does not spill files.
        let folder: String = out
            .file_stem()
            .map(|s| s.to_string_lossy())
            .unwrap_or_default()
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || "._-".contains(c) {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let folder = folder.trim_start_matches('.');
        BagWriter::create_zip(out, if folder.is_empty() { "bag" } else { folder })
    } else {
        BagWriter::create_dir(out)
    }
    .map_err(|e| bad(Exit::Damaged, format!("{}: {e}", out.display())))?;
    let mut sink = Sink(writer);
    let opts = ExportOptions {
        ids: args.ids.clone(),
        tags: args.tags.clone(),
        withhold: args.withhold.clone(),
        recipient: args.to.clone(),
        output: if zip { "package zip" } else { "package folder" }.into(),
        reason: args.reason.clone(),
        org: args.org.clone(),
        contact_name: args.contact_name.clone(),
        contact_email: args.contact_email.clone(),
        description: args.description.clone(),
        identifier: args.identifier.clone(),
        lang,
        account: None,
        timestamp: args.timestamp.then(|| {
            guwah_vault::SharedTransport(std::sync::Arc::new(
                crate::cmd_timestamp::post_timestamp_query,
            ))
        }),
        witness: args.witness.then(|| {
            guwah_vault::SharedWitnessTransport(std::sync::Arc::new(
                crate::cmd_witness::witness_transport(std::time::Duration::from_secs(30)),
            ))
        }),
    };
    let report = match vault.export(&opts, &mut sink, &mut |_| {}) {
        Ok(r) => r,
        Err(e) => {
            drop(sink);
            remove_partial(out);
            return Err(e.into());
        }
    };
    // The offline browser verifier travels with every package.
    let page = sink
        .0
        .add_tag_file("verify.html", guwah_web::verify_html().as_bytes().to_vec());
    if let Err(e) = page.map_err(|e| e.to_string()).and_then(|_| {
        sink.0
            .finish(&report.bag_info)
            .map(|_| ())
            .map_err(|e| e.to_string())
    }) {
        remove_partial(out);
        return Err(bad(Exit::Damaged, format!("{}: {e}", out.display())));
    }
    if ctx.json {
        print_json(&serde_json::json!({ "out": out, "report": report }))?;
    } else {
        let mut s = String::new();
        for i in &report.items {
            outln!(
                s,
                "exported {}  {}  ({} custody event(s){})",
                short_id(&i.id),
                i.payload,
                i.events,
                if i.withheld.is_empty() {
                    String::new()
                } else {
                    format!("; withheld: {}", i.withheld.join(", "))
                }
            );
        }
        outln!(
            s,
            "wrote {} item(s) to {}, proven against checkpoint size {} of {}",
            report.items.len(),
            out.display(),
            report.checkpoint_size,
            report.origin
        );
        outln!(
            s,
            "give the recipient the log key by another channel; they check with:\n  guwah verify-bundle {} --trust '{}'",
            out.display(),
            report.log_key
        );
        write_stdout(s.as_bytes())?;
    }
    Ok(Exit::Ok)
}

fn read_package(
    path: &Path,
    quiet: bool,
    zip: guwah_package::zip::ZipLimits,
    tags_read: &guwah_package::source::TagsRead<'_>,
) -> Result<guwah_core::bag::BagFiles, Failure> {
    if !path.exists() {
        return Err(bad(
            Exit::BadInput,
            format!("{}: does not exist", path.display()),
        ));
    }
    let bar = crate::progress::bytes_counter(quiet, "reading");
    let hooks = guwah_package::Hooks {
        progress: &|n| bar.inc(n),
        tags_read,
    };
    // Only what verification reads is held (guwah_core::bundle::is_read_tag_file).
    let opts = guwah_package::ReadOptions::package().with_zip_limits(zip);
    let read = guwah_package::read_bag_with(path, &opts, &hooks);
    bar.finish_and_clear();
    read.map(|(files, _)| files).map_err(|e| {
        bad(
            Exit::BadInput,
            format!("{}: cannot be read as a package: {e}", path.display()),
        )
    })
}

fn text_report(path: &Path, report: &Report) -> String {
    let r = &report.package;
    let mut s = String::new();
    outln!(
        s,
        "package   {} ({}, log {}, checkpoint size {})",
        path.display(),
        r.version.as_deref().unwrap_or("unknown version"),
        r.origin.as_deref().unwrap_or("?"),
        r.checkpoint_size
            .map_or_else(|| "?".to_string(), |n| n.to_string())
    );
    if let Some(k) = &r.log_key {
        outln!(
            s,
            "log key   {k} ({})",
            if r.log_key_trusted {
                "trusted: given with --trust"
            } else {
                "NOT TRUSTED: taken from the package itself"
            }
        );
    }
    for sig in &r.signatures {
        outln!(
            s,
            "signature {} ({}{})",
            sig.name,
            sig.status.as_str(),
            sig.timestamp
                .map_or_else(String::new, |t| format!(", cosigned at {t}"))
        );
    }
    if let Some(w) = &report.witnesses {
        let valid: Vec<&str> = w.valid.iter().map(|c| c.name.as_str()).collect();
        outln!(
            s,
            "witnesses {} of {} required valid cosignature(s){}",
            w.valid.len(),
            w.min,
            if valid.is_empty() {
                String::new()
            } else {
                format!(": {}", valid.join(", "))
            }
        );
    }
    if report.timestamps.is_empty() {
        outln!(s, "timestamps none");
    }
    // Invalid tokens are among the failures, below.
    for t in report
        .timestamps
        .iter()
        .filter(|t| t.status != TokenStatus::Invalid)
    {
        outln!(
            s,
            "RFC 3161 {}  {}: {}",
            t.status.as_str().to_uppercase(),
            t.path,
            t.detail
        );
    }
    for i in &r.items {
        outln!(
            s,
            "{:<7} {}  {}  ({} custody event(s){})",
            if i.ok { "OK" } else { "FAILED" },
            short_id(&i.id),
            i.payload,
            i.events.len(),
            if i.withheld.is_empty() {
                String::new()
            } else {
                format!("; withheld: {}", i.withheld.join(", "))
            }
        );
        for f in &i.failures {
            outln!(s, "        {f} [{}]", f.kind);
        }
    }
    for d in report.disclosures.iter().filter(|d| d.ok) {
        outln!(
            s,
            "DISCLOSURE OK: field {:?} of item {} = {:?} reproduces the commitment sealed in its record ({})",
            d.field,
            short_id(&d.item),
            d.value,
            d.file
        );
    }
    for f in &r.failures {
        match f.kind {
            FailureKind::Disclosure => outln!(s, "DISCLOSURE FAILED  {f}"),
            FailureKind::TimestampToken => outln!(s, "RFC 3161 INVALID  {f}"),
            kind => outln!(s, "FAILED  {f} [{kind}]"),
        }
    }
    for w in &r.warnings {
        outln!(s, "warning {w}");
    }
    let n = report.all_failures().len();
    let _ = match report.verdict {
        Verdict::Valid => writeln!(
            s,
            "VALID: {} item(s), every file, record, signature, proof and custody event holds, against a trusted log key",
            r.items.len()
        ),
        Verdict::Untrusted => writeln!(
            s,
            "UNTRUSTED: {} item(s) consistent with the log key inside the package, but no trusted key was given; pass --trust VKEY obtained from the vault's owner by another channel",
            r.items.len()
        ),
        Verdict::Failed => writeln!(s, "FAILED: {n} problem(s) found"),
    };
    s
}

/// A file given on the command line (a TSA root, a disclosure), by its
/// file name: failures name it as the browser verifier does.
fn input_file(p: &Path) -> Result<InputFile, Failure> {
    let bytes = crate::cmd_timestamp::read_at_most(p, crate::cmd_timestamp::MAX_TSA_RESPONSE)
        .map_err(|e| bad(Exit::BadInput, format!("{}: {e}", crate::term::path(p))))?;
    let name = p
        .file_name()
        .map_or_else(|| p.to_string_lossy(), |n| n.to_string_lossy())
        .into_owned();
    Ok(InputFile { name, bytes })
}

/// `guwah verify-bundle`: reads the inputs and the package, and prints
/// [`guwah_verdict`]'s verdict.
pub fn verify_bundle(ctx: &Ctx, args: &VerifyBundleArgs) -> Outcome {
    let input = PolicyInput {
        trusted: args.trust.clone(),
        witnesses: args.witnesses.witness.clone(),
        min_witnesses: args.witnesses.min_witnesses,
        tsa_roots: args
            .tsa_root
            .iter()
            .map(|p| input_file(p))
            .collect::<Result<_, _>>()?,
        disclosures: args
            .disclosure
            .iter()
            .map(|p| input_file(p))
            .collect::<Result<_, _>>()?,
    };
    let policy = input.parse().map_err(|e| {
        let exit = match e {
            PolicyError::MinWithoutWitnesses { .. } => Exit::Usage,
            _ => Exit::BadInput,
        };
        bad(exit, e.to_string())
    })?;
    // The checks that need only the tag files run as soon as those are
    // read, beside the payload hashing; the rest once every file is hashed.
    let runner = guwah_package::verify::Threads::default();
    let prepared = std::sync::Mutex::new(None);
    let zip = args.expansion.zip_limits();
    let files = read_package(&args.path, ctx.quiet, zip, &|tags| {
        let p = guwah_verdict::prepare(tags, &policy, &runner);
        if let Ok(mut slot) = prepared.lock() {
            *slot = Some(p);
        }
    })?;
    let prepared = prepared
        .into_inner()
        .ok()
        .flatten()
        .unwrap_or_else(|| guwah_verdict::prepare(&files.tag_contents, &policy, &runner));
    let report = guwah_verdict::finish(prepared, &files);
    if ctx.json {
        print_json(&report)?;
    } else {
        write_stdout(text_report(&args.path, &report).as_bytes())?;
    }
    Ok(Exit::ok_or_broken(report.verdict == Verdict::Valid))
}

/// `guwah disclose`.
pub fn disclose(ctx: &Ctx, args: &DiscloseArgs) -> Outcome {
    if let Some(out) = &args.out
        && (out.exists() || out.symlink_metadata().is_ok())
    {
        return Err(bad(
            Exit::BadInput,
            format!(
                "{}: already exists; guwah does not overwrite, choose a new path",
                out.display()
            ),
        ));
    }
    let vault = ctx.open(true)?;
    let d = vault.disclose(&args.id, &args.field)?;
    if let Some(out) = &args.out {
        // Private (0600, as `get --out`) and whole or not at all: the
        // disclosure reveals the withheld value.
        let parent = out
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(std::path::Path::new("."));
        tempfile::NamedTempFile::new_in(parent)
            .and_then(|mut tmp| {
                std::io::Write::write_all(&mut tmp, d.disclosure.as_bytes())?;
                tmp.as_file().sync_all()?;
                tmp.persist_noclobber(out).map_err(|e| e.error)?;
                Ok(())
            })
            .map_err(|e| bad(Exit::Damaged, format!("{}: {e}", out.display())))?;
    }
    if ctx.json {
        print_json(&d)?;
    } else {
        let mut s = String::new();
        outln!(s, "item        {}", d.item);
        outln!(s, "field       {}", d.field);
        outln!(s, "value       {}", d.value.replace('\n', "\\n"));
        outln!(s, "salt        {} (base64)", d.salt);
        outln!(
            s,
            "commitment  {} (base64, sealed in the record)",
            d.commitment
        );
        outln!(
            s,
            "check: SHA-256(\"guwah/field/v1\\n\" || \"{}\" || \"\\n\" || salt || value) = commitment",
            d.field
        );
        outln!(
            s,
            "sealed a `disclosed` custody event (log entry {})",
            d.event_leaf_index
        );
        if let Some(out) = &args.out {
            outln!(s, "wrote the disclosure file {}", out.display());
        }
        write_stdout(s.as_bytes())?;
    }
    Ok(Exit::Ok)
}
