//! `guwah bag ...`: BagIt (RFC 8493) tools that work on any bag, guwah's or not.

use clap::Subcommand;
use guwah_core::bag::BagIssue;

use crate::Failure;
use crate::cli::Cli;
use crate::commands::{print_json, write_stdout};

/// `guwah bag` subcommands.
#[derive(Debug, Subcommand)]
pub enum BagCommand {
    /// Validate any BagIt bag (folder or .zip): exit 0 valid (warnings shown), 1 invalid, 3 unreadable.
    Validate {
        /// The bag.
        path: std::path::PathBuf,
    },
}

/// Run a `guwah bag` subcommand.
pub fn run(cli: &Cli, cmd: &BagCommand) -> Result<u8, Failure> {
    match cmd {
        BagCommand::Validate { path } => validate(cli, path),
    }
}

fn issues_json(list: &[BagIssue]) -> Vec<serde_json::Value> {
    list.iter()
        .map(|i| serde_json::json!({ "path": i.path, "what": i.what }))
        .collect()
}

fn validate(cli: &Cli, path: &std::path::Path) -> Result<u8, Failure> {
    let bar = crate::progress::bytes_counter(cli.quiet, "validating");
    let result = guwah_package::validate_path(path, &|n| bar.inc(n));
    bar.finish_and_clear();
    let (report, _) = result.map_err(|e| Failure {
        code: 3,
        message: format!("{}: cannot read bag: {e}", path.display()),
    })?;
    let valid = report.is_valid();
    if cli.json {
        print_json(&serde_json::json!({
            "path": path.display().to_string(),
            "valid": valid,
            "version": report.version,
            "errors": issues_json(&report.errors),
            "warnings": issues_json(&report.warnings),
            "info": report.info,
        }))?;
    } else {
        let mut out = String::new();
        for e in &report.errors {
            out.push_str(&format!("error: {e}\n"));
        }
        for w in &report.warnings {
            out.push_str(&format!("warning: {w}\n"));
        }
        let version = report.version.as_deref().unwrap_or("?");
        if valid {
            out.push_str(&format!(
                "{}: valid BagIt {version} bag ({} warning{})\n",
                path.display(),
                report.warnings.len(),
                if report.warnings.len() == 1 { "" } else { "s" }
            ));
        } else {
            out.push_str(&format!(
                "{}: INVALID bag ({} error{}, {} warning{})\n",
                path.display(),
                report.errors.len(),
                if report.errors.len() == 1 { "" } else { "s" },
                report.warnings.len(),
                if report.warnings.len() == 1 { "" } else { "s" }
            ));
        }
        write_stdout(out.as_bytes())?;
    }
    Ok(if valid { 0 } else { 1 })
}
