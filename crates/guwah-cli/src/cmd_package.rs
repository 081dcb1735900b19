//! `guwah export`, `guwah verify-bundle`, `guwah disclose`. (Being written:
//! see the package issue.)

use clap::Args;

use crate::Failure;
use crate::cli::Cli;

/// `guwah export` arguments.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Item ids.
    pub ids: Vec<String>,
}

/// `guwah verify-bundle` arguments.
#[derive(Debug, Args)]
pub struct VerifyBundleArgs {
    /// The package.
    pub path: std::path::PathBuf,
}

/// `guwah disclose` arguments.
#[derive(Debug, Args)]
pub struct DiscloseArgs {
    /// Item id.
    pub id: String,
    /// Field name.
    pub field: String,
}

fn not_yet() -> Failure {
    Failure { code: 2, message: "not available in this build yet".into() }
}

/// `guwah export`.
pub fn export(_cli: &Cli, _args: &ExportArgs) -> Result<u8, Failure> {
    Err(not_yet())
}

/// `guwah verify-bundle`.
pub fn verify_bundle(_cli: &Cli, _args: &VerifyBundleArgs) -> Result<u8, Failure> {
    Err(not_yet())
}

/// `guwah disclose`.
pub fn disclose(_cli: &Cli, _args: &DiscloseArgs) -> Result<u8, Failure> {
    Err(not_yet())
}
