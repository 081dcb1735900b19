//! `guwah witness serve` and `guwah log witness` (C2SP tlog-witness). (Being
//! written: see the trust issue.)

use clap::{Args, Subcommand};

use crate::Failure;
use crate::cli::Cli;

/// `guwah witness` subcommands.
#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Run a witness.
    Serve {
        /// Listen address.
        #[arg(long)]
        addr: String,
    },
}

/// `guwah log witness` arguments.
#[derive(Debug, Args)]
pub struct LogWitnessArgs {}

/// Run `guwah witness ...`.
pub fn run(_cli: &Cli, _cmd: &WitnessCommand) -> Result<u8, Failure> {
    Err(Failure { code: 2, message: "guwah witness: not available in this build yet".into() })
}

/// Run `guwah log witness`.
pub fn log_witness(_cli: &Cli, _args: &LogWitnessArgs) -> Result<u8, Failure> {
    Err(Failure { code: 2, message: "guwah log witness: not available in this build yet".into() })
}
