//! `guwah log serve` and `guwah log monitor`: the log as C2SP tlog-tiles over HTTP.
//!
//! `serve` publishes `VAULT/log/` read-only through `guwah_server::log`: `/checkpoint`,
//! `/tile/<L>/<N>[.p/<W>]` and `/tile/entries/<N>[.p/<W>]`, only for paths covered by the
//! committed checkpoint.
//!
//! `monitor` follows a published log with the core's monitor (`guwah_core::monitor`: the
//! checkpoint's signature, rollback, fork and consistency with the last checkpoint seen, the
//! root from the tiles, every new entry). Here it only fetches over HTTP (timeouts, a size
//! limit per object), keeps the last verified checkpoint in a state file, and prints.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use clap::Args;
use guwah_core::checkpoint::{Checkpoint, open_checkpoint};
use guwah_core::monitor::{self, Checked, Fetch, Object, Problem};
use guwah_core::note::Verifier;

use crate::context::{Ctx, Exit, Failure, Outcome, replace_file, write_stdout};
use crate::http::{HttpClient, HttpError};

/// `guwah log serve` arguments.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listen address, e.g. 127.0.0.1:8080 (port 0 picks a free port; the address is printed).
    #[arg(long, value_name = "ADDR")]
    pub addr: String,
}

/// `guwah log monitor` arguments.
#[derive(Debug, Args)]
pub struct MonitorArgs {
    /// The log's base URL (the folder holding `checkpoint` and `tile/`).
    pub url: String,
    /// The log's verifier key (`guwah log key`), or a file holding it; its name is the origin.
    #[arg(long, value_name = "VKEY")]
    pub key: String,
    /// Where to keep the last verified checkpoint between runs (written atomically).
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// Seconds between checks.
    #[arg(long, value_name = "S", default_value_t = 60)]
    pub interval: u64,
    /// Check once and exit.
    #[arg(long)]
    pub once: bool,
}

// ---------------------------------------------------------------------------------------------
// serve

/// Run `guwah log serve`.
pub fn serve(ctx: &Ctx, args: &ServeArgs) -> Outcome {
    let vault = ctx.open(false)?;
    drop(vault);
    let dir = ctx.vault.clone().unwrap_or_default().join("log");
    if !dir.join("checkpoint").is_file() {
        return Err(Failure {
            exit: Exit::BadInput,
            message: format!("{}: no checkpoint to serve", dir.display()),
        });
    }
    let listener = std::net::TcpListener::bind(&args.addr).map_err(|e| Failure {
        exit: Exit::BadInput,
        message: format!("cannot listen on {}: {e}", args.addr),
    })?;
    let local = listener.local_addr().map_err(|e| Failure {
        exit: Exit::Damaged,
        message: format!("listening socket: {e}"),
    })?;
    let line = format!(
        "serving {} at http://{local}/ (C2SP tlog-tiles); stop with Ctrl-C\n",
        dir.display(),
    );
    write_stdout(line.as_bytes())?;
    guwah_server::run(
        listener,
        guwah_server::log::router(dir),
        guwah_server::Limits::default(),
    )
    .map_err(|e| Failure {
        exit: Exit::Damaged,
        message: format!("serving {}: {e}", args.addr),
    })?;
    Ok(Exit::Ok)
}

// ---------------------------------------------------------------------------------------------
// monitor

/// Why an object of the log could not be fetched.
#[derive(Debug)]
enum FetchError {
    /// The server answered with a status other than 200 or 404.
    Status(u16),
    /// The answer was longer than the limit.
    TooLarge(u64),
    /// Connecting, sending or receiving failed (or timed out).
    Transport(String),
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Status(s) => write!(f, "HTTP status {s}"),
            FetchError::TooLarge(n) => write!(f, "larger than {n} bytes"),
            FetchError::Transport(e) => f.write_str(e),
        }
    }
}

/// The log over HTTP: `base/path`, with the client's deadlines and the monitor's size limits.
struct Client {
    http: HttpClient,
    base: String,
}

impl Client {
    fn new(base: &str) -> Self {
        Self {
            http: HttpClient::new("monitor", Duration::from_secs(60), 3),
            base: base.trim_end_matches('/').to_owned(),
        }
    }
}

impl Fetch for Client {
    type Error = FetchError;

    fn fetch(&mut self, path: &str, max: usize) -> Result<Option<Vec<u8>>, FetchError> {
        let url = format!("{}/{path}", self.base);
        let reply = self.http.get(&url, max as u64).map_err(|e| match e {
            HttpError::TooLarge(n) => FetchError::TooLarge(n),
            HttpError::Transport(e) => FetchError::Transport(e),
        })?;
        match reply.status {
            200 => Ok(Some(reply.body)),
            404 => Ok(None),
            s => Err(FetchError::Status(s)),
        }
    }
}

/// A problem as a failure: misbehaviour of the log (exit 1) or trouble reaching it (5).
fn failure(base: &str, problem: &Problem<FetchError>) -> Failure {
    let exit = match problem {
        // A tile or bundle longer than its width allows is the log's doing.
        Problem::Unreachable {
            object: object @ (Object::Tile(_) | Object::Bundle(_)),
            error: FetchError::TooLarge(n),
        } => {
            return Failure {
                exit: Exit::Broken,
                message: format!(
                    "bad {} {base}/{}: larger than {n} bytes",
                    object.noun(),
                    object.path()
                ),
            };
        }
        Problem::Unreachable { .. }
        | Problem::Missing {
            object: Object::Checkpoint,
        } => Exit::Damaged,
        _ => Exit::Broken,
    };
    Failure::new(exit, problem.at(base).to_string())
}

fn b64(h: &[u8; 32]) -> String {
    B64.encode(h)
}

/// Reads the verifier key: the vkey itself, or a file holding it.
fn read_key(key: &str) -> Result<Verifier, Failure> {
    let text = if Path::new(key).is_file() {
        std::fs::read_to_string(key).map_err(|e| Failure {
            exit: Exit::BadInput,
            message: format!("{key}: {e}"),
        })?
    } else {
        key.to_owned()
    };
    Verifier::from_vkey(text.trim()).map_err(|e| Failure {
        exit: Exit::BadInput,
        message: format!("--key: not a signed-note verifier key: {e}"),
    })
}

/// The state file: the last verified signed checkpoint, verbatim.
fn load_state(path: &Path, key: &Verifier) -> Result<Option<(Checkpoint, Vec<u8>)>, Failure> {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => {
            return Err(Failure {
                exit: Exit::Damaged,
                message: format!("state {}: {e}", path.display()),
            });
        }
    };
    let (cp, _) = open_checkpoint(&bytes, &[key], key.name()).map_err(|e| Failure {
        exit: Exit::BadInput,
        message: format!(
            "state {}: not a checkpoint signed by this key: {e}",
            path.display()
        ),
    })?;
    Ok(Some((cp, bytes)))
}

/// Writes the state durably: temp file, fsync, rename, fsync of the folder.
fn save_state(path: &Path, note: &[u8]) -> Result<(), Failure> {
    let fail = |e: std::io::Error| Failure {
        exit: Exit::Damaged,
        message: format!("state {}: {e}", path.display()),
    };
    replace_file(path, note, 0o600).map_err(fail)
}

/// Run `guwah log monitor`.
pub fn monitor(ctx: &Ctx, args: &MonitorArgs) -> Outcome {
    let key = read_key(&args.key)?;
    if !(args.url.starts_with("http://") || args.url.starts_with("https://")) {
        return Err(Failure {
            exit: Exit::BadInput,
            message: format!("{}: not an http:// or https:// URL", args.url),
        });
    }
    let mut last = match &args.state {
        Some(p) => load_state(p, &key)?,
        None => None,
    };
    let mut client = Client::new(&args.url);
    loop {
        let previous = last.as_ref().map(|(c, _)| c);
        let report = monitor::check(&mut client, &key, previous);
        match report.outcome {
            monitor::Outcome::Verified(new) => {
                print_report(ctx, &args.url, &new.checkpoint, &report.checked, previous)?;
                if let Some(p) = &args.state {
                    save_state(p, &new.note)?;
                }
                last = Some((new.checkpoint, new.note));
            }
            monitor::Outcome::Failed { problem, .. } => {
                let f = failure(&client.base, &problem);
                // Misbehaviour always ends the monitor; so does anything in --once mode.
                if f.exit != Exit::Damaged || args.once {
                    return Err(f);
                }
                eprintln!("guwah: warning: {} (retrying)", f.message);
            }
        }
        if args.once {
            return Ok(Exit::Ok);
        }
        std::thread::sleep(Duration::from_secs(args.interval.max(1)));
    }
}

fn print_report(
    ctx: &Ctx,
    url: &str,
    cp: &Checkpoint,
    checked: &Checked,
    last: Option<&Checkpoint>,
) -> Result<(), Failure> {
    if ctx.json {
        let v = serde_json::json!({
            "url": url,
            "origin": cp.origin,
            "size": cp.size,
            "root": b64(&cp.root),
            "previous_size": last.map(|c| c.size),
            "new_entries": checked.entries,
            "guwah_records": checked.records,
            "other_entries": checked.others,
        });
        let mut text = serde_json::to_string(&v).unwrap_or_default();
        text.push('\n');
        write_stdout(text.as_bytes())
    } else {
        let since = match last {
            Some(c) if c.size == cp.size => "; unchanged since the last check".to_owned(),
            Some(c) => format!("; consistent with size {}", c.size),
            None => String::new(),
        };
        let others = if checked.others > 0 {
            format!(" and {} entries that are not guwah records", checked.others)
        } else {
            String::new()
        };
        let line = format!(
            "ok {url}: size {}, root {}; {} new entries verified ({} guwah records{others}){since}\n",
            cp.size,
            b64(&cp.root),
            checked.entries,
            checked.records,
        );
        write_stdout(line.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use guwah_core::tiles::{EntryBundleId, TileId};

    #[test]
    fn problems_exit_1_for_misbehaviour_and_5_for_trouble_reaching_the_log() {
        let base = "http://127.0.0.1:8080";
        let tile = Object::Tile(TileId::new(0, 0, 256).unwrap());
        let bundle = Object::Bundle(EntryBundleId::new(1, 7).unwrap());
        let cases = [
            (
                Problem::Unreachable {
                    object: tile,
                    error: FetchError::TooLarge(8193),
                },
                1,
                "bad tile http://127.0.0.1:8080/tile/0/000: larger than 8193 bytes",
            ),
            (
                Problem::Unreachable {
                    object: bundle,
                    error: FetchError::TooLarge(10),
                },
                1,
                "bad entry bundle http://127.0.0.1:8080/tile/entries/001.p/7: larger than 10 bytes",
            ),
            (
                Problem::Unreachable {
                    object: Object::Checkpoint,
                    error: FetchError::TooLarge(10),
                },
                5,
                "cannot fetch the checkpoint: http://127.0.0.1:8080/checkpoint: larger than 10 bytes",
            ),
            (
                Problem::Unreachable {
                    object: tile,
                    error: FetchError::Status(503),
                },
                5,
                "cannot fetch http://127.0.0.1:8080/tile/0/000: HTTP status 503",
            ),
            (
                Problem::Missing {
                    object: Object::Checkpoint,
                },
                5,
                "cannot fetch the checkpoint: http://127.0.0.1:8080/checkpoint: not found",
            ),
            (
                Problem::Missing { object: bundle },
                1,
                "missing entry bundle http://127.0.0.1:8080/tile/entries/001.p/7: not found",
            ),
            (
                Problem::Rollback {
                    size: 3,
                    previous_size: 4,
                },
                1,
                "rollback: http://127.0.0.1:8080 serves a checkpoint of size 3, smaller than size 4 seen before",
            ),
        ];
        for (problem, code, message) in cases {
            let f = failure(base, &problem);
            assert_eq!(
                (f.exit.code(), f.message.as_str()),
                (code, message),
                "{problem:?}"
            );
        }
    }
}
