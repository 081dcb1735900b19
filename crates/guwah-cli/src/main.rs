//! `guwah`: the command-line shell over the vault library. Parsing, prompts,
//! progress bars and output formats live here; everything else is in
//! `guwah-vault` and `guwah-core`.
//!
//! The modules form a tree, not a circle: `cli` (the syntax) names each
//! command's argument types from its `cmd_*` module; the `cmd_*` modules
//! depend on `context` (options, vault, output) and `exit` (exit codes), never on
//! `cli`; `main` parses and dispatches.

mod args;
mod cli;
mod cmd_bag;
mod cmd_chat;
mod cmd_log;
mod cmd_ots;
mod cmd_package;
mod cmd_publish;
mod cmd_push;
mod cmd_serve;
mod cmd_similar;
mod cmd_timestamp;
mod cmd_user;
mod cmd_vault;
mod cmd_web;
mod cmd_witness;
mod context;
mod demo;
mod exit;
mod http;
mod passphrase;
mod progress;
mod term;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::{Cli, Command};
use crate::context::{Ctx, Outcome};

/// Run one command.
fn run(ctx: &Ctx, command: &Command) -> Outcome {
    match command {
        Command::Init {
            origin,
            allow_weak_passphrase,
        } => cmd_vault::init(ctx, origin.as_deref(), *allow_weak_passphrase),
        Command::Passwd {
            new_passphrase_file,
            allow_weak_passphrase,
        } => cmd_vault::passwd(ctx, new_passphrase_file.as_deref(), *allow_weak_passphrase),
        Command::Add(args) => cmd_vault::add(ctx, args),
        Command::List => cmd_vault::list(ctx),
        Command::Show { id } => cmd_vault::show(ctx, id),
        Command::Get {
            id,
            out,
            reason,
            to,
        } => cmd_vault::get(ctx, id, out, reason.as_deref(), to.as_deref()),
        Command::Annotate { id, note } => cmd_vault::annotate(ctx, id, note),
        Command::Verify { witnesses } => cmd_vault::verify(ctx, witnesses),
        Command::Log(cmd) => cmd_log::run(ctx, cmd),
        Command::Export(args) => cmd_package::export(ctx, args),
        Command::VerifyBundle(args) => cmd_package::verify_bundle(ctx, args),
        Command::Disclose(args) => cmd_package::disclose(ctx, args),
        Command::Bag(cmd) => cmd_bag::run(ctx, cmd),
        Command::Verifier(cmd) => cmd_web::run(ctx, cmd),
        Command::Timestamp(args) => cmd_timestamp::run(ctx, args),
        Command::Witness(cmd) => cmd_witness::run(ctx, cmd),
        Command::Ots(cmd) => cmd_ots::run(ctx, cmd),
        Command::Search(args) => cmd_chat::search(ctx, args),
        Command::Similar(args) => cmd_similar::similar(ctx, args),
        Command::Duplicates(args) => cmd_similar::duplicates(ctx, args),
        Command::Serve(args) => cmd_serve::run(ctx, args),
        Command::Push(args) => cmd_push::run(ctx, args),
        Command::User(cmd) => cmd_user::run(ctx, cmd),
        Command::Demo { dir } => demo::run(dir.as_deref()),
    }
}

fn main() -> ExitCode {
    // A decoder's panic is caught and becomes a warning naming the file;
    // the raw panic report would read as if guwah had crashed.
    guwah_pdq::quiet_decoder_panics();
    let cli = Cli::parse();
    match run(&cli.context(), &cli.command) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(f) => {
            // One line, whatever the cause; what it quotes from outside
            // (paths, names, values) cannot steer the terminal.
            eprintln!("guwah: error: {}", term::safe(&f.message));
            ExitCode::from(f.exit.code())
        }
    }
}
