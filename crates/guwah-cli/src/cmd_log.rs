//! `guwah log ...`: the log's keys, checkpoints, leaves and proofs, in the
//! standard formats (C2SP checkpoints and signed notes, RFC 9162 proofs),
//! and the commands that publish, monitor and witness it.

use clap::Subcommand;

use crate::context::{Ctx, Exit, Outcome, print_json, say, write_stdout};

/// `guwah log` subcommands.
#[derive(Debug, Subcommand)]
pub enum LogCommand {
    /// The log's verifier key, as a C2SP signed-note vkey line.
    Key,
    /// The latest signed checkpoint (or the stored one of --size N), verbatim.
    Checkpoint {
        /// A stored earlier tree size.
        #[arg(long, value_name = "N")]
        size: Option<u64>,
    },
    /// The tree sizes of every stored checkpoint.
    Checkpoints,
    /// The exact leaf bytes of an item's record.
    Leaf {
        /// Item id (or a unique prefix).
        id: String,
    },
    /// An RFC 9162 inclusion proof of an item's record against the latest checkpoint.
    Proof {
        /// Item id (or a unique prefix).
        id: String,
    },
    /// Send the latest checkpoint to the configured witnesses and keep their cosignatures.
    Witness(crate::cmd_witness::LogWitnessArgs),
    /// Serve the log as static C2SP tlog-tiles over HTTP.
    Serve(crate::cmd_publish::ServeArgs),
    /// Follow a published log: check every checkpoint's consistency and every entry.
    Monitor(crate::cmd_publish::MonitorArgs),
    /// An RFC 9162 consistency proof from tree size N to the latest checkpoint.
    Consistency {
        /// The earlier tree size.
        #[arg(long, value_name = "N")]
        from: u64,
    },
}

/// Run a `guwah log` subcommand.
pub fn run(ctx: &Ctx, cmd: &LogCommand) -> Outcome {
    match cmd {
        LogCommand::Witness(args) => return crate::cmd_witness::log_witness(ctx, args),
        LogCommand::Serve(args) => return crate::cmd_publish::serve(ctx, args),
        LogCommand::Monitor(args) => return crate::cmd_publish::monitor(ctx, args),
        _ => {}
    }
    let vault = ctx.open(false)?;
    match cmd {
        LogCommand::Key => {
            if ctx.json {
                print_json(
                    &serde_json::json!({ "vkey": vault.log_vkey(), "origin": vault.origin() }),
                )?;
            } else {
                say!("{}", vault.log_vkey());
            }
        }
        LogCommand::Checkpoint { size } => write_stdout(&vault.checkpoint_note(*size)?)?,
        LogCommand::Checkpoints => {
            let sizes = vault.checkpoint_sizes()?;
            if ctx.json {
                print_json(&sizes)?;
            } else {
                for s in sizes {
                    say!("{s}");
                }
            }
        }
        LogCommand::Leaf { id } => write_stdout(&vault.leaf_bytes(id)?)?,
        LogCommand::Proof { id } => {
            let proof = vault.inclusion_proof(id)?;
            if ctx.json {
                print_json(&proof)?;
            } else {
                say!("leaf_index {}", proof.leaf_index);
                say!("tree_size {}", proof.tree_size);
                say!("leaf_hash {}", proof.leaf_hash);
                for h in &proof.hashes {
                    say!("hash {h}");
                }
            }
        }
        LogCommand::Witness(_) | LogCommand::Serve(_) | LogCommand::Monitor(_) => {
            unreachable!("handled above")
        }
        LogCommand::Consistency { from } => {
            let proof = vault.consistency_proof(*from)?;
            if ctx.json {
                print_json(&proof)?;
            } else {
                say!("old_size {}", proof.old_size);
                say!("new_size {}", proof.new_size);
                for h in &proof.hashes {
                    say!("hash {h}");
                }
            }
        }
    }
    Ok(Exit::Ok)
}
