//! `guwah verifier ...`: the browser verifier page. (Being written: see the
//! package issue.)

use clap::Subcommand;

use crate::Failure;
use crate::cli::Cli;

/// `guwah verifier` subcommands.
#[derive(Debug, Subcommand)]
pub enum VerifierCommand {
    /// Write verify.html.
    Write {
        /// Where.
        #[arg(long)]
        out: std::path::PathBuf,
    },
}

/// Run a `guwah verifier` subcommand.
pub fn run(_cli: &Cli, _cmd: &VerifierCommand) -> Result<u8, Failure> {
    Err(Failure { code: 2, message: "guwah verifier: not available in this build yet".into() })
}
