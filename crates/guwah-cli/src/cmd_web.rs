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

use crate::Failure;
use crate::cli::Cli;

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
pub fn run(cli: &Cli, cmd: &VerifierCommand) -> Result<u8, Failure> {
    match cmd {
        VerifierCommand::Write { out } => {
            let html = guwah_web::verify_html();
            std::fs::write(out, html).map_err(|e| Failure {
                code: 3,
                message: format!("cannot write {}: {e}", out.display()),
            })?;
            if cli.json {
                println!(
                    "{}",
                    serde_json::json!({ "written": out.display().to_string(), "bytes": html.len() })
                );
            } else {
                println!("wrote {} ({} bytes)", out.display(), html.len());
            }
            Ok(0)
        }
        VerifierCommand::Serve { addr } => {
            let listener = TcpListener::bind(addr).map_err(|e| Failure {
                code: 3,
                message: format!("cannot listen on {addr}: {e}"),
            })?;
            let local = listener.local_addr().map_err(|e| Failure {
                code: 5,
                message: format!("listening socket: {e}"),
            })?;
            if cli.json {
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
                code: 5,
                message: format!("serving on {local}: {e}"),
            })?;
            Ok(0)
        }
    }
}
