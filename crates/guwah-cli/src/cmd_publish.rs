//! `guwah log serve` and `guwah log monitor` (C2SP tlog-tiles over HTTP).
//! (Being written: see the trust issue.)

use clap::Args;

use crate::Failure;
use crate::cli::Cli;

/// `guwah log serve` arguments.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen address.
    #[arg(long)]
    pub addr: String,
}

/// `guwah log monitor` arguments.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// The log's base URL.
    pub url: String,
}

/// Run `guwah log serve`.
pub fn serve(_cli: &Cli, _args: &ServeArgs) -> Result<u8, Failure> {
    Err(Failure { code: 2, message: "guwah log serve: not available in this build yet".into() })
}

/// Run `guwah log monitor`.
pub fn monitor(_cli: &Cli, _args: &MonitorArgs) -> Result<u8, Failure> {
    Err(Failure { code: 2, message: "guwah log monitor: not available in this build yet".into() })
}
