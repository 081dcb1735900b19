//! `guwah`: the command-line shell over the vault library. Parsing, prompts,
//! progress bars and output formats live here; everything else is in
//! `guwah-vault` and `guwah-core`.

mod cli;
mod cmd_bag;
mod cmd_chat;
mod cmd_ots;
mod cmd_package;
mod cmd_publish;
mod cmd_similar;
mod cmd_timestamp;
mod cmd_web;
mod cmd_witness;
mod commands;
mod demo;
mod http;
mod passphrase;
mod progress;
mod term;

use std::process::ExitCode;

use clap::Parser;
use guwah_vault::VaultError;

/// A failure with its exit code; printed as one line.
#[derive(Debug)]
pub struct Failure {
    /// Process exit code (see `guwah --help`).
    pub code: u8,
    /// The one-line message.
    pub message: String,
}

impl From<VaultError> for Failure {
    fn from(e: VaultError) -> Self {
        let code = match &e {
            VaultError::BadInput { .. }
            | VaultError::BadArgument { .. }
            | VaultError::UnknownItem(_)
            | VaultError::NotAVault(_)
            | VaultError::AlreadyExists(_) => 3,
            VaultError::WrongPassphrase(_) => 4,
            VaultError::Locked(_) => 6,
            _ => 5,
        };
        Failure {
            code,
            message: e.to_string(),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure {
            code: 5,
            message: format!("{e:#}"),
        }
    }
}

fn main() -> ExitCode {
    // A decoder's panic is caught and becomes a warning naming the file;
    // the raw panic report would read as if guwah had crashed.
    guwah_pdq::quiet_decoder_panics();
    let cli = cli::Cli::parse();
    match commands::run(cli) {
        Ok(code) => ExitCode::from(code),
        Err(f) => {
            // One line, whatever the cause; what it quotes from outside
            // (paths, names, values) cannot steer the terminal.
            eprintln!("guwah: error: {}", term::safe(&f.message));
            ExitCode::from(f.code)
        }
    }
}
