//! `guwah witness ...` (run a C2SP tlog-witness for other logs) and `guwah
//! log witness` (get this vault's checkpoint cosigned), plus the
//! `--witness VKEY --min-witnesses K` policy of `verify` and `verify-bundle`.
//! The logic lives in `guwah_core::witness` and `guwah_vault`; this is the
//! shell: arguments, the HTTP server and client, output.

use std::io::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use clap::{Args, Subcommand};
use guwah_core::note::CosignatureVerifier;
use guwah_core::witness::{self as proto, MAX_RESPONSE_SIZE};
use guwah_vault::witness_store::WitnessStore;
use guwah_vault::{Vault, VerifyReport};

use crate::context::{Ctx, Exit, Failure, Outcome, print_json, write_stdout};
use crate::http::HttpClient;

/// `guwah witness` subcommands.
#[derive(Debug, Subcommand)]
pub enum WitnessCommand {
    /// Create a witness folder: a new cosigning key (a plaintext key file, mode 0600) and no logs.
    Init {
        /// The witness folder (new or empty).
        #[arg(long, value_name = "WITNESS_DIR")]
        dir: PathBuf,
        /// The witness's key name, e.g. witness.example.org.
        #[arg(long, value_name = "NAME")]
        name: String,
    },
    /// Witness a log: add its Ed25519 verifier key (as `guwah log key` prints it).
    AddLog {
        /// The witness folder.
        #[arg(long, value_name = "WITNESS_DIR")]
        dir: PathBuf,
        /// The log's vkey; its key name is the origin unless --origin is given.
        vkey: String,
        /// The log's origin, if it differs from the key name.
        #[arg(long, value_name = "ORIGIN")]
        origin: Option<String>,
    },
    /// Print the witness's cosignature verifier key (vkey, type 0x04).
    Key {
        /// The witness folder.
        #[arg(long, value_name = "WITNESS_DIR")]
        dir: PathBuf,
    },
    /// Run the witness: answer POST /add-checkpoint with cosignatures (C2SP tlog-witness).
    #[command(
        after_help = "Refuses with the spec's status codes: 400 malformed, 403 no valid log \
signature, 404 unknown origin, 409 wrong old size (body: the size it last cosigned) or a different \
root at the same size (a fork), 422 a consistency proof that does not verify. The latest size and root \
of each log are written durably before every cosignature. Prints the address once listening."
    )]
    Serve {
        /// Listen address, e.g. 127.0.0.1:7380 (port 0 picks a free port).
        #[arg(long)]
        addr: String,
        /// The witness folder.
        #[arg(long, value_name = "WITNESS_DIR")]
        dir: PathBuf,
        /// Threads running the connections (default: one per core); connections are not tied to threads.
        #[arg(long)]
        threads: Option<usize>,
    },
}

/// `guwah log witness` arguments.
#[derive(Debug, Args)]
#[command(
    after_help = "Witnesses are kept in VAULT/witnesses.json. Each one gets the latest \
checkpoint with a consistency proof from the size it last cosigned; its cosignature is checked with \
its key and appended to the checkpoint note (log/checkpoint and log/checkpoints/<size>). Exit 0 if \
every witness cosigned, 1 if any refused (a fork is named as such), 3 on bad arguments."
)]
pub struct LogWitnessArgs {
    /// Configure a witness instead: a local name, its submission URL and its cosignature vkey.
    #[arg(long, num_args = 3, value_names = ["NAME", "URL", "VKEY"])]
    pub add: Option<Vec<String>>,
    /// List the configured witnesses instead.
    #[arg(long, conflicts_with = "add")]
    pub list: bool,
    /// Per-request timeout in seconds.
    #[arg(long, default_value_t = 20, value_name = "SECONDS")]
    pub timeout: u64,
}

/// The witness policy of `verify` and `verify-bundle` (which hands the
/// keys to `guwah_verdict::PolicyInput` as given).
#[derive(Debug, Args, Clone, Default)]
pub struct WitnessPolicyArgs {
    /// Require cosignatures by this witness key (a C2SP vkey of type 0x04, as `guwah witness key` prints it); repeatable.
    #[arg(long = "witness", value_name = "VKEY")]
    pub witness: Vec<String>,
    /// How many of the --witness keys must have validly cosigned the checkpoint (default: all of them).
    #[arg(long, value_name = "K")]
    pub min_witnesses: Option<usize>,
}

impl WitnessPolicyArgs {
    /// The parsed keys and K; `None` when no policy was asked for.
    pub fn policy(&self) -> Result<Option<(Vec<CosignatureVerifier>, usize)>, Failure> {
        if self.witness.is_empty() {
            return match self.min_witnesses {
                None | Some(0) => Ok(None),
                Some(_) => Err(Failure {
                    exit: Exit::Usage,
                    message: "--min-witnesses needs the witnesses' keys: pass --witness VKEY"
                        .into(),
                }),
            };
        }
        let mut keys = Vec::new();
        for w in &self.witness {
            keys.push(
                CosignatureVerifier::from_vkey(w.trim()).map_err(|e| Failure {
                    exit: Exit::BadInput,
                    message: format!(
                        "--witness {w:?}: not a witness cosignature key (type 0x04): {e}"
                    ),
                })?,
            );
        }
        let min = self.min_witnesses.unwrap_or(keys.len());
        Ok(Some((keys, min)))
    }
}

/// `guwah verify`'s witness policy: adds problems to the report.
pub fn apply_verify_policy(
    vault: &Vault,
    args: &WitnessPolicyArgs,
    report: &mut VerifyReport,
) -> Result<(), Failure> {
    if let Some((keys, min)) = args.policy()? {
        vault.check_witness_policy(&keys, min, report)?;
    }
    Ok(())
}

/// Run `guwah witness ...`.
pub fn run(ctx: &Ctx, cmd: &WitnessCommand) -> Outcome {
    match cmd {
        WitnessCommand::Init { dir, name } => {
            let vkey = WitnessStore::init(dir, name)?;
            if ctx.json {
                print_json(&serde_json::json!({ "vkey": vkey, "dir": dir }))?;
            } else {
                write_stdout(format!("{vkey}\n").as_bytes())?;
            }
            Ok(Exit::Ok)
        }
        WitnessCommand::AddLog { dir, vkey, origin } => {
            let origin = WitnessStore::add_log(dir, vkey, origin.as_deref())?;
            if ctx.json {
                print_json(&serde_json::json!({ "origin": origin }))?;
            } else {
                write_stdout(
                    format!(
                        "witnessing {origin} (takes effect at the next `guwah witness serve`)\n"
                    )
                    .as_bytes(),
                )?;
            }
            Ok(Exit::Ok)
        }
        WitnessCommand::Key { dir } => {
            // The key file only, not the lock: the key is public.
            let vkey = WitnessStore::public_key(dir)?;
            write_stdout(format!("{vkey}\n").as_bytes())?;
            Ok(Exit::Ok)
        }
        WitnessCommand::Serve { addr, dir, threads } => serve(addr, dir, *threads),
    }
}

fn serve(addr: &str, dir: &std::path::Path, threads: Option<usize>) -> Outcome {
    let store = Arc::new(WitnessStore::open(dir)?);
    let listener = std::net::TcpListener::bind(addr).map_err(|e| Failure {
        exit: Exit::BadInput,
        message: format!("--addr {addr}: {e}"),
    })?;
    let local = listener.local_addr().map_err(|e| Failure {
        exit: Exit::Damaged,
        message: format!("listening socket: {e}"),
    })?;
    let line = format!(
        "guwah witness: listening on http://{local} for {} log(s); key {}\n",
        store.log_count(),
        store.vkey()
    );
    write_stdout(line.as_bytes())?;
    let _ = std::io::stdout().flush();
    let defaults = guwah_server::Limits::default();
    let limits = guwah_server::Limits {
        // A checkpoint note is at most 1 MiB; the proof adds a few KiB.
        max_body_bytes: proto::MAX_REQUEST_SIZE,
        threads: threads.unwrap_or(defaults.threads).max(1),
        ..defaults
    };
    guwah_server::run(listener, guwah_server::witness::router(store), limits).map_err(|e| {
        Failure {
            exit: Exit::Damaged,
            message: format!("serving on {addr}: {e}"),
        }
    })?;
    Ok(Exit::Ok)
}

/// Run `guwah log witness`.
pub fn log_witness(ctx: &Ctx, args: &LogWitnessArgs) -> Outcome {
    let vault = ctx.open(false)?;
    if let Some(add) = &args.add {
        let [name, url, vkey] = add.as_slice() else {
            return Err(Failure {
                exit: Exit::Usage,
                message: "--add takes NAME URL VKEY".into(),
            });
        };
        vault.add_witness(name, url, vkey)?;
        write_stdout(format!("witness {name} added ({url})\n").as_bytes())?;
        return Ok(Exit::Ok);
    }
    if args.list {
        let w = vault.witnesses()?;
        if ctx.json {
            print_json(&w)?;
        } else {
            for c in w {
                write_stdout(
                    format!(
                        "{}  {}  {}  last cosigned size {}\n",
                        c.name, c.url, c.vkey, c.last_size
                    )
                    .as_bytes(),
                )?;
            }
        }
        return Ok(Exit::Ok);
    }
    let timeout = Duration::from_secs(args.timeout.clamp(1, 600));
    let transport = witness_transport(timeout);
    let outcomes = vault.witness_checkpoint(&transport)?;
    let all_ok = outcomes.iter().all(|o| o.ok);
    if ctx.json {
        print_json(&serde_json::json!({ "ok": all_ok, "witnesses": outcomes }))?;
    } else {
        for o in &outcomes {
            let tag = if o.ok {
                "OK     "
            } else if o.fork {
                "FORK   "
            } else {
                "FAILED "
            };
            let status = o.status.map(|s| format!(" (HTTP {s})")).unwrap_or_default();
            write_stdout(format!("{tag}{}: {}{status}\n", o.name, o.message).as_bytes())?;
        }
        let good = outcomes.iter().filter(|o| o.ok).count();
        write_stdout(
            format!(
                "{good} of {} witness(es) cosigned the checkpoint\n",
                outcomes.len()
            )
            .as_bytes(),
        )?;
    }
    Ok(Exit::ok_or_broken(all_ok))
}

/// The HTTP transport to witnesses: POST with timeouts, no redirects and a
/// response size limit; any status is returned to the caller.
pub(crate) fn witness_transport(
    timeout: Duration,
) -> impl Fn(&str, &[u8]) -> Result<(u16, Vec<u8>), String> + Send + Sync + 'static {
    let client = HttpClient::new("witness-client", timeout, 0);
    move |url: &str, body: &[u8]| -> Result<(u16, Vec<u8>), String> {
        let reply = client
            .post(
                url,
                "text/plain; charset=utf-8",
                body,
                MAX_RESPONSE_SIZE as u64,
            )
            .map_err(|e| e.to_string())?;
        Ok((reply.status, reply.body))
    }
}
