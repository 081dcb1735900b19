//! Command-line syntax: what the user types, and the help that teaches it.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use crate::context::Ctx;

const ABOUT: &str = "guwah keeps evidence byte-exact and encrypted, seals each item into a \
signed append-only Merkle log, and proves to anyone that nothing was altered or removed since.";

const AFTER_HELP: &str = "\
Start here:
  export GUWAH_VAULT=~/evidence-vault
  guwah init                       # asks for a passphrase twice
  guwah add ~/Pictures/2024-03 --source \"sent by a relative\" --tag checkpoint
  guwah list
  guwah verify                     # the fsck: exit 0 only if everything holds

The passphrase comes from GUWAH_PASSPHRASE, --passphrase-file, or a prompt.
GUWAH_PASSPHRASE is used exactly as set, every byte; a passphrase file gives
its first line without the line ending (\n or \r\n), read up to 64 KiB. So a
file holding secret and a line break, and GUWAH_PASSPHRASE=secret, are the
same passphrase.
Lose it and the vault cannot be opened: there is no recovery by design.

Exit codes:
  0  success
  1  verify found something broken (each thing is named)
  2  usage error
  3  bad input: a file, argument or item id that cannot be used
  4  wrong or missing passphrase
  5  the vault is damaged, or an I/O error
  6  the vault is busy: another guwah process is writing to it
  7  bag validate: the bag cannot be checked (only manifests of unsupported algorithms)";

/// The `guwah` command line.
#[derive(Debug, Parser)]
#[command(name = "guwah", version, about = ABOUT, after_help = AFTER_HELP, propagate_version = true)]
pub struct Cli {
    /// The vault folder.
    #[arg(long, global = true, env = "GUWAH_VAULT", value_name = "DIR")]
    pub vault: Option<PathBuf>,
    /// Read the passphrase from the first line of this file (instead of GUWAH_PASSPHRASE or a prompt).
    #[arg(long, global = true, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    pub json: bool,
    /// No progress bars.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a new vault: keys sealed under your passphrase, an empty log.
    Init {
        /// The log's origin (its C2SP checkpoint origin and key name), e.g.
        /// example.org/evidence. Defaults to a unique random name.
        #[arg(long, value_name = "NAME")]
        origin: Option<String>,
        /// Accept a passphrase that is easy to guess (for tests and demos only).
        #[arg(long)]
        allow_weak_passphrase: bool,
    },
    /// Change the vault's passphrase (the keys stay the same; only their sealing changes).
    #[command(
        after_help = "The current passphrase comes from GUWAH_PASSPHRASE, --passphrase-file or a prompt; \
the new one from GUWAH_NEW_PASSPHRASE, --new-passphrase-file (its first line) or a prompt, asked twice. \
A new passphrase must be hard to guess (zxcvbn strength 3 of 4) and on one line. The key file is \
replaced atomically: a crash leaves either the old sealing or the new one, never neither."
    )]
    Passwd {
        /// Read the new passphrase from the first line of this file.
        #[arg(long, value_name = "FILE")]
        new_passphrase_file: Option<PathBuf>,
        /// Accept a new passphrase that is easy to guess (for tests and demos only).
        #[arg(long)]
        allow_weak_passphrase: bool,
    },
    /// Seal files or whole folders into the vault (one checkpoint per call).
    #[command(
        after_help = "Each file is hashed (SHA-256) and encrypted in one pass, signed with the \
collector key, and appended to the log. Identical content is stored once: adding the same bytes again \
reports the existing item. Nothing is written if any input is missing, unreadable or not a regular file."
    )]
    Add(crate::cmd_vault::AddArgs),
    /// List the items in the vault.
    List,
    /// Show one item: hashes, size, type, times, collector, log index, custody history.
    Show {
        /// Item id (or a unique prefix of at least 6 hex digits).
        id: String,
    },
    /// Write an item's original bytes, exactly, to a file (records an `exported` custody event).
    Get {
        /// Item id (or a unique prefix).
        id: String,
        /// Where to write; `-` for standard output. Existing files are never overwritten.
        #[arg(long, short, value_name = "PATH")]
        out: PathBuf,
        /// Why it is being exported (sealed in the custody event).
        #[arg(long, value_name = "TEXT")]
        reason: Option<String>,
        /// Who it is for (sealed in the custody event); the local path is never sealed.
        #[arg(long, value_name = "LABEL")]
        to: Option<String>,
    },
    /// Add a note to an item, sealed as an `annotated` custody event.
    Annotate {
        /// Item id (or a unique prefix).
        id: String,
        /// The note.
        #[arg(long, value_name = "TEXT")]
        note: String,
    },
    /// Check everything: every blob re-hashed, every signature, every tile, every checkpoint.
    #[command(
        after_help = "Exit 0 only if everything holds; otherwise each broken thing is named \
(item, file, what is wrong) and the exit code is 1."
    )]
    Verify {
        /// Witness cosignatures the latest checkpoint must carry (--witness VKEY --min-witnesses K).
        #[command(flatten)]
        witnesses: crate::cmd_witness::WitnessPolicyArgs,
    },
    /// The log: keys, checkpoints, leaves and proofs, in standard formats.
    #[command(subcommand)]
    Log(crate::cmd_log::LogCommand),
    /// Export items as an evidence package: a BagIt bag (folder or .zip) with proofs and a report.
    Export(crate::cmd_package::ExportArgs),
    /// Verify an evidence package offline: every file, record, proof, signature and custody event.
    VerifyBundle(crate::cmd_package::VerifyBundleArgs),
    /// Disclose a withheld metadata field of an item: its value and salt, checkable against the sealed record.
    Disclose(crate::cmd_package::DiscloseArgs),
    /// BagIt (RFC 8493) tools.
    #[command(subcommand)]
    Bag(crate::cmd_bag::BagCommand),
    /// The browser verifier: write or serve the self-contained verify.html page.
    #[command(subcommand)]
    Verifier(crate::cmd_web::VerifierCommand),
    /// Trusted timestamps (RFC 3161) over the latest checkpoint, from the configured TSAs.
    Timestamp(crate::cmd_timestamp::TimestampArgs),
    /// Witness other logs: cosign their checkpoints (C2SP tlog-witness).
    #[command(subcommand)]
    Witness(crate::cmd_witness::WitnessCommand),
    /// OpenTimestamps: read .ots proofs, replay them and report their attestations.
    #[command(subcommand)]
    Ots(crate::cmd_ots::OtsCommand),
    /// Search sealed messages and items by text and sender (decrypts the index in memory).
    Search(crate::cmd_chat::SearchArgs),
    /// Items that are copies of this picture or video (re-encoded, resized,
    /// lightly cropped), by PDQ perceptual hash distance.
    Similar(crate::cmd_similar::SimilarArgs),
    /// Clusters of near-duplicate pictures and videos across the vault.
    Duplicates(crate::cmd_similar::DuplicatesArgs),
    /// The team server: accounts, resumable uploads and role-based reading over HTTP.
    Serve(crate::cmd_serve::ServeArgs),
    /// Send items to a team server, which re-verifies each before sealing it (resumable).
    Push(crate::cmd_push::PushArgs),
    /// The team server's accounts, kept in the vault: add, list, disable, role, password, token.
    #[command(subcommand, after_help = crate::cmd_user::ROLES_HELP)]
    User(crate::cmd_user::UserCommand),
    /// Build a demo vault from the bundled sample evidence, step by step.
    Demo {
        /// Where to build it (default: a new temporary folder, kept afterwards).
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

impl Cli {
    /// The global options, as every command sees them.
    pub fn context(&self) -> Ctx {
        Ctx {
            vault: self.vault.clone(),
            passphrase_file: self.passphrase_file.clone(),
            json: self.json,
            quiet: self.quiet,
        }
    }
}
