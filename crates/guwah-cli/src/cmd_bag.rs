//! `guwah bag ...`: BagIt tools. (Being written: see the package issue.)

use clap::Subcommand;

use crate::Failure;
use crate::cli::Cli;

/// `guwah bag` subcommands.
#[derive(Debug, Subcommand)]
pub enum BagCommand {
    /// Validate any BagIt bag (folder or .zip).
    Validate {
        /// The bag.
        path: std::path::PathBuf,
    },
}

/// Run a `guwah bag` subcommand.
pub fn run(_cli: &Cli, _cmd: &BagCommand) -> Result<u8, Failure> {
    Err(Failure { code: 2, message: "guwah bag: not available in this build yet".into() })
}
