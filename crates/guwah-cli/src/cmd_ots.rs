//! `guwah ots ...`: OpenTimestamps proofs. (Being written: see the trust
//! issue.)

use clap::Subcommand;

use crate::Failure;
use crate::cli::Cli;

/// `guwah ots` subcommands.
#[derive(Debug, Subcommand)]
pub enum OtsCommand {
    /// Read an .ots proof and report its attestations.
    Verify {
        /// The .ots file.
        path: std::path::PathBuf,
    },
}

/// Run `guwah ots ...`.
pub fn run(_cli: &Cli, _cmd: &OtsCommand) -> Result<u8, Failure> {
    Err(Failure { code: 2, message: "guwah ots: not available in this build yet".into() })
}
