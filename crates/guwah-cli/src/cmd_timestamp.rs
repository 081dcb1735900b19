//! `guwah timestamp`: RFC 3161 tokens over the latest checkpoint. (Being
//! written: see the trust issue.)

use clap::Args;

use crate::Failure;
use crate::cli::Cli;

/// `guwah timestamp` arguments.
#[derive(Debug, Args)]
pub struct TimestampArgs {
    /// TSA URLs (default: the vault's configured TSAs).
    #[arg(long)]
    pub tsa: Vec<String>,
}

/// Run `guwah timestamp`.
pub fn run(_cli: &Cli, _args: &TimestampArgs) -> Result<u8, Failure> {
    Err(Failure { code: 2, message: "guwah timestamp: not available in this build yet".into() })
}
