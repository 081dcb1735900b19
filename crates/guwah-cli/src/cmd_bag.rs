//! `guwah bag ...`: BagIt (RFC 8493) tools that work on any bag, guwah's or not.

use clap::Subcommand;
use guwah_core::bag::{BagIssue, BagVerdict};

use crate::context::{Ctx, Exit, Failure, Outcome, print_json, write_stdout};
use crate::term::outln;

/// `guwah bag` subcommands.
#[derive(Debug, Subcommand)]
pub enum BagCommand {
    /// Validate any BagIt bag (folder or .zip): exit 0 valid (warnings shown), 1 invalid, 3 unreadable,
    /// 7 cannot be checked (its only payload manifests use algorithms guwah does not implement).
    Validate {
        /// The bag.
        path: std::path::PathBuf,
        /// How far a .zip bag may expand (a zip-bomb guard).
        #[command(flatten)]
        expansion: crate::args::ExpansionArgs,
    },
}

/// Run a `guwah bag` subcommand.
pub fn run(ctx: &Ctx, cmd: &BagCommand) -> Outcome {
    match cmd {
        BagCommand::Validate { path, expansion } => validate(ctx, path, expansion),
    }
}

fn issues_json(list: &[BagIssue]) -> Vec<serde_json::Value> {
    list.iter()
        .map(|i| serde_json::json!({ "path": i.path, "what": i.what }))
        .collect()
}

fn validate(ctx: &Ctx, path: &std::path::Path, expansion: &crate::args::ExpansionArgs) -> Outcome {
    let bar = crate::progress::bytes_counter(ctx.quiet, "validating");
    let result = guwah_package::validate_path(path, &expansion.zip_limits(), &|n| bar.inc(n));
    bar.finish_and_clear();
    let (report, _) = result.map_err(|e| Failure {
        exit: Exit::BadInput,
        message: format!("{}: cannot read bag: {e}", path.display()),
    })?;
    let verdict = report.verdict();
    let plural = |n: usize| if n == 1 { "" } else { "s" };
    if ctx.json {
        print_json(&serde_json::json!({
            "path": path.display().to_string(),
            "valid": verdict == BagVerdict::Valid,
            "verdict": verdict.as_str(),
            "uncheckable": report.uncheckable.as_ref().map(|i| i.what.clone()),
            "version": report.version,
            "errors": issues_json(&report.errors),
            "warnings": issues_json(&report.warnings),
            "info": report.info,
        }))?;
    } else {
        let mut out = String::new();
        for e in &report.errors {
            outln!(out, "error: {e}");
        }
        for w in &report.warnings {
            outln!(out, "warning: {w}");
        }
        let version = report.version.as_deref().unwrap_or("?");
        let (w, e) = (report.warnings.len(), report.errors.len());
        match (verdict, &report.uncheckable) {
            (BagVerdict::Valid, _) => outln!(
                out,
                "{}: valid BagIt {version} bag ({w} warning{})",
                path.display(),
                plural(w)
            ),
            (BagVerdict::Uncheckable, Some(why)) => outln!(
                out,
                "{}: CANNOT CHECK bag: {} ({w} warning{})",
                path.display(),
                why.what,
                plural(w)
            ),
            _ => outln!(
                out,
                "{}: INVALID bag ({e} error{}, {w} warning{})",
                path.display(),
                plural(e),
                plural(w)
            ),
        }
        write_stdout(out.as_bytes())?;
    }
    Ok(match verdict {
        BagVerdict::Valid => Exit::Ok,
        BagVerdict::Invalid => Exit::Broken,
        BagVerdict::Uncheckable => Exit::CannotCheck,
    })
}
