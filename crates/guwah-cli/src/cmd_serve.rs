//! `guwah serve`: the team server over one vault (`guwah_server::team`):
//! accounts and roles, resumable uploads, items read as each role may see
//! them, every sign-in and read sealed in the log. This is the shell: the
//! flags become a `TeamConfig`, the socket is bound and its address printed.

use std::io::Write as _;
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use guwah_server::team::TeamConfig;

use crate::context::{Ctx, Exit, Failure, Outcome, print_json, say};

/// `guwah serve` arguments.
#[derive(Debug, Args)]
#[command(after_help = "\
The vault is opened with its passphrase, which stays in memory while the server runs. For an \
unattended start (a service manager), give it with --passphrase-file FILE or GUWAH_PASSPHRASE \
instead of the prompt.

Nobody can sign in until an account exists: make them with `guwah user add NAME --role ROLE` \
(see `guwah user add --help` for the roles), before or while the server runs.

Behind a reverse proxy that terminates TLS, pass --secure-cookies (the session cookie is then sent \
over HTTPS only) and --trusted-proxy with the proxy's address (its X-Forwarded-For then names the \
client in audit records and sign-in limits). Without a proxy, --tls-cert and --tls-key make the \
server speak HTTPS itself (and imply --secure-cookies); otherwise it speaks plain HTTP, for \
127.0.0.1 or a proxy only.

Uploads in progress are kept sealed in the spool folder; one not finished within \
--upload-expiry hours is removed. Uploads completed before a stop are sealed at the next start.")]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free port; the address is printed).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Where uploads in progress are kept, sealed (default: VAULT/spool).
    #[arg(long, value_name = "DIR")]
    pub spool: Option<PathBuf>,
    /// Remove an upload not finished within this many hours.
    #[arg(long, value_name = "HOURS", default_value_t = 168)]
    pub upload_expiry: u64,
    /// The largest upload accepted, in GiB.
    #[arg(long, value_name = "GIB", default_value_t = 64)]
    pub max_upload: u64,
    /// Mark cookies Secure (sent over HTTPS only): the server is behind TLS, e.g. a reverse proxy's.
    #[arg(long)]
    pub secure_cookies: bool,
    /// Trust X-Forwarded-For from this address (the reverse proxy's) for the client's address.
    #[arg(long, value_name = "IP")]
    pub trusted_proxy: Option<IpAddr>,
    /// Serve HTTPS with this PEM certificate chain (leaf first); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
}

/// Run `guwah serve`.
pub fn run(ctx: &Ctx, args: &ServeArgs) -> Outcome {
    let config = config(ctx, args)?;
    let vault = ctx.open(true)?;
    let listener = TcpListener::bind(args.addr).map_err(|e| {
        Failure::new(
            Exit::BadInput,
            format!("cannot listen on {}: {e}", args.addr),
        )
    })?;
    let local = listener
        .local_addr()
        .map_err(|e| Failure::new(Exit::Damaged, format!("listening socket: {e}")))?;
    let scheme = if config.tls.is_some() {
        "https"
    } else {
        "http"
    };
    let url = format!("{scheme}://{local}/");
    if ctx.json {
        print_json(&serde_json::json!({ "url": url }))?;
    } else {
        say!("serving {} at {url} (Ctrl-C to stop)", vault.location());
    }
    let _ = std::io::stdout().flush();
    guwah_server::team::run(listener, vault, config)
        .map_err(|e| Failure::new(Exit::Damaged, format!("serving on {local}: {e}")))?;
    Ok(Exit::Ok)
}

/// The server's configuration from the flags, checked before the
/// passphrase is asked.
fn config(ctx: &Ctx, args: &ServeArgs) -> Result<TeamConfig, Failure> {
    let spool = match &args.spool {
        Some(dir) => dir.clone(),
        None => ctx.vault_dir()?.join("spool"),
    };
    if args.upload_expiry == 0 {
        return Err(Failure::new(
            Exit::BadInput,
            "--upload-expiry 0: an upload needs at least an hour",
        ));
    }
    let expiry = args
        .upload_expiry
        .checked_mul(3600)
        .map(Duration::from_secs)
        .ok_or_else(|| {
            Failure::new(
                Exit::BadInput,
                format!("--upload-expiry {}: too many hours", args.upload_expiry),
            )
        })?;
    let max_upload = match args.max_upload.checked_mul(1 << 30) {
        Some(n) if n > 0 => n,
        _ => {
            return Err(Failure::new(
                Exit::BadInput,
                format!(
                    "--max-upload {}: give a size in GiB from 1 to {}",
                    args.max_upload,
                    u64::MAX >> 30
                ),
            ));
        }
    };
    let mut config = TeamConfig::new(spool);
    config.upload_expiry = expiry;
    config.max_upload_bytes = max_upload;
    config.secure_cookies = args.secure_cookies;
    config.trusted_proxy = args.trusted_proxy;
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        config.tls = Some(
            guwah_server::tls_config(cert, key)
                .map_err(|e| Failure::new(Exit::BadInput, format!("TLS: {e}")))?,
        );
    }
    Ok(config)
}
