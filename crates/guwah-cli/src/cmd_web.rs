//! `guwah verifier ...`: the browser verifier page, `verify.html`.
//!
//! `write` saves the page; `serve` serves that one page and nothing else
//! (`guwah_server::verifier`), with the page's Content-Security-Policy as a
//! header too. The page itself never touches the network: it reads the
//! package the user drops on it.

use std::io::Write;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;

use clap::Subcommand;

use crate::context::{Ctx, Exit, Failure, Outcome, print_json, replace_file, say};

/// `guwah verifier` subcommands.
#[derive(Debug, Subcommand)]
pub enum VerifierCommand {
    /// Write the self-contained verify.html page (every package already holds one).
    #[command(
        after_help = "Open the file in a browser and drop an evidence package (folder or .zip) on it: \
the check runs entirely in the browser, offline."
    )]
    Write {
        /// Where to write it.
        #[arg(long, value_name = "FILE", default_value = "verify.html")]
        out: PathBuf,
    },
    /// Serve verify.html over HTTP (the page only; nothing is uploaded: the check runs in the browser).
    Serve {
        /// Address to listen on (port 0 picks a free port).
        #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
        addr: SocketAddr,
    },
}

/// Run a `guwah verifier` subcommand.
pub fn run(ctx: &Ctx, cmd: &VerifierCommand) -> Outcome {
    match cmd {
        VerifierCommand::Write { out } => {
            let html = guwah_web::verify_html();
            // A page to hand out, not a secret.
            replace_file(out, html.as_bytes(), 0o644).map_err(|e| {
                Failure::new(
                    Exit::BadInput,
                    format!("cannot write {}: {e}", crate::term::path(out)),
                )
            })?;
            if ctx.json {
                print_json(
                    &serde_json::json!({ "written": out.display().to_string(), "bytes": html.len() }),
                )?;
            } else {
                say!("wrote {} ({} bytes)", out.display(), html.len());
            }
            Ok(Exit::Ok)
        }
        VerifierCommand::Serve { addr } => {
            let listener = TcpListener::bind(addr).map_err(|e| Failure {
                exit: Exit::BadInput,
                message: format!("cannot listen on {addr}: {e}"),
            })?;
            let local = listener.local_addr().map_err(|e| Failure {
                exit: Exit::Damaged,
                message: format!("listening socket: {e}"),
            })?;
            if ctx.json {
                println!(
                    "{}",
                    serde_json::json!({ "url": format!("http://{local}/") })
                );
            } else {
                println!("serving verify.html at http://{local}/  (Ctrl-C to stop)");
            }
            let _ = std::io::stdout().flush();
            guwah_server::run(
                listener,
                guwah_server::verifier::router(),
                guwah_server::Limits::default(),
            )
            .map_err(|e| Failure {
                exit: Exit::Damaged,
                message: format!("serving on {local}: {e}"),
            })?;
            Ok(Exit::Ok)
        }
    }
}
