//! `guwah timestamp`: RFC 3161 tokens over the latest checkpoint, from the
//! TSAs configured in the vault (`tsa.json`), and the HTTP client that
//! asks them (bounded: 10 s to connect, 30 s in all, 1 MiB, no redirects).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use crate::context::{Ctx, Exit, Failure, Outcome, print_json, write_stdout};
use crate::http::HttpClient;

/// The largest TSA answer read, in bytes.
pub const MAX_TSA_RESPONSE: u64 = 1 << 20;

/// `guwah timestamp` arguments.
#[derive(Debug, Args)]
#[command(after_help = "\
Stamps the body of the latest signed checkpoint (origin, size, root hash) with each configured TSA \
(or only those named with --tsa). Every answer is verified before it is stored: message imprint, \
nonce, CMS signature, the TSA certificate's timeStamping usage, and its chain to the roots given \
when the TSA was added, at the token's own time. Tokens go to VAULT/timestamps/<size>/<tsa>.tsr; \
`guwah verify` checks them again, and `guwah export` puts them in the package.

  guwah timestamp --add-tsa freetsa --url https://freetsa.org/tsr --root cacert.pem
  guwah timestamp                  # every configured TSA
  guwah timestamp --tsa freetsa    # just this one
  guwah timestamp verify token.tsr --data file.pdf --root tsa-root.pem   # anyone's token, offline")]
#[command(args_conflicts_with_subcommands = true)]
pub struct TimestampArgs {
    /// Check a standalone token instead of stamping.
    #[command(subcommand)]
    pub command: Option<TimestampCommand>,
    /// Only these configured TSAs (by name; repeatable). Default: all of them.
    #[arg(long, value_name = "NAME")]
    pub tsa: Vec<String>,
    /// Configure a TSA instead of stamping: its name (lowercase, digits, '.', '-'). Needs --url and --root.
    #[arg(long, value_name = "NAME", requires_all = ["url", "root"], conflicts_with_all = ["tsa", "list"])]
    pub add_tsa: Option<String>,
    /// With --add-tsa: where to POST requests (http:// or https://).
    #[arg(long, value_name = "URL", requires = "add_tsa")]
    pub url: Option<String>,
    /// With --add-tsa: the TSA's trusted root certificate(s), PEM or DER; may also hold its intermediates.
    #[arg(long, value_name = "PEMFILE", requires = "add_tsa")]
    pub root: Option<PathBuf>,
    /// List the configured TSAs and the tokens stored for the latest checkpoint.
    #[arg(long, conflicts_with = "tsa")]
    pub list: bool,
}

/// `guwah timestamp` subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum TimestampCommand {
    /// Verify an RFC 3161 token that someone else obtained, over a file, offline.
    #[command(after_help = "\
Checks that TOKEN (a DER TimeStampResp or TimeStampToken, e.g. a .tsr from `openssl ts -reply`) \
is over FILE's digest (SHA-256, SHA-384 or SHA-512; SHA-1 is refused), that its CMS signature \
holds, that the signing certificate is a TSA's (timeStamping usage) and that it chains to a --root \
certificate at the token's own genTime. FILE is streamed, whatever its size.

Exit codes: 0 the token is valid for FILE, 1 it is not (imprint, signature, chain or time), \
3 TOKEN, FILE or a root cannot be read.")]
    Verify {
        /// The token file.
        #[arg(value_name = "TOKEN")]
        token: PathBuf,
        /// The data the token should be over.
        #[arg(long, value_name = "FILE")]
        data: PathBuf,
        /// Trusted root certificate(s), PEM or DER; may also hold intermediates (repeatable).
        #[arg(long, value_name = "PEMFILE", required = true)]
        root: Vec<PathBuf>,
    },
}

/// `guwah timestamp verify`: one token, one file, the given roots.
fn verify_token(
    ctx: &Ctx,
    token_path: &std::path::Path,
    data: &std::path::Path,
    roots: &[PathBuf],
) -> Outcome {
    let bad = |p: &std::path::Path, e: &dyn std::fmt::Display| Failure {
        exit: Exit::BadInput,
        message: format!("{}: {e}", crate::term::path(p)),
    };
    let bytes = read_at_most(token_path, MAX_TSA_RESPONSE).map_err(|e| bad(token_path, &e))?;
    let token = guwah_tsp::Token::parse(&bytes).map_err(|e| bad(token_path, &e))?;
    let mut trust = guwah_tsp::Trust::new();
    for r in roots {
        let pem = read_at_most(r, MAX_TSA_RESPONSE).map_err(|e| bad(r, &e))?;
        trust.add_chain(&pem).map_err(|e| bad(r, &e))?;
    }
    let result = token.imprint_algorithm().and_then(|alg| {
        let digest = hash_file(data, alg).map_err(|e| guwah_tsp::TspError::Malformed {
            what: "data file",
            why: e.to_string(),
        });
        match digest {
            Ok(d) => token.verify_digest(&d, None, &trust),
            Err(e) => Err(e),
        }
    });
    if let Err(guwah_tsp::TspError::Malformed {
        what: "data file",
        why,
    }) = &result
    {
        return Err(bad(data, why));
    }
    let info = &token.info;
    if ctx.json {
        let mut v = serde_json::json!({
            "token": token_path,
            "data": data,
            "gen_time": info.gen_time.to_string(),
            "valid": result.is_ok(),
        });
        match &result {
            Ok(ok) => {
                v["tsa"] = ok.tsa.clone().into();
                v["chain"] = ok.chain.clone().into();
                v["policy"] = ok.policy.clone().into();
                v["serial"] = ok.serial.clone().into();
            }
            Err(e) => v["error"] = e.to_string().into(),
        }
        print_json(&v)?;
    } else {
        match &result {
            Ok(ok) => write_stdout(
                format!(
                    "valid: {} existed at {} (by {}; chain: {}; policy {}; serial {})\n",
                    crate::term::path(data),
                    ok.gen_time,
                    crate::term::safe(&ok.tsa),
                    crate::term::safe(&ok.chain.join(" <- ")),
                    ok.policy,
                    ok.serial
                )
                .as_bytes(),
            )?,
            Err(e) => write_stdout(
                format!(
                    "INVALID: {} for {}: {}\n",
                    crate::term::path(token_path),
                    crate::term::path(data),
                    crate::term::safe(&e.to_string())
                )
                .as_bytes(),
            )?,
        }
    }
    Ok(Exit::ok_or_broken(result.is_ok()))
}

/// A file's bytes, refusing one larger than `max` (without reading it whole).
pub(crate) fn read_at_most(path: &std::path::Path, max: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut v = Vec::new();
    std::fs::File::open(path)?
        .take(max + 1)
        .read_to_end(&mut v)?;
    if v.len() as u64 > max {
        return Err(std::io::Error::other(format!(
            "larger than {max} bytes: not a token or certificate file"
        )));
    }
    Ok(v)
}

/// Streams a file through `alg`.
fn hash_file(path: &std::path::Path, alg: guwah_tsp::HashAlg) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut f = std::fs::File::open(path)?;
    let mut h = alg.hasher();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        match f.read(&mut buf) {
            Ok(0) => return Ok(h.finish()),
            Ok(n) => h.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// POST a `TimeStampReq`; return the body of a 200 answer of type
/// `application/timestamp-reply`, at most [`MAX_TSA_RESPONSE`] bytes.
pub fn post_timestamp_query(url: &str, body: &[u8]) -> Result<Vec<u8>, String> {
    let client = HttpClient::new("tsa-client", Duration::from_secs(30), 0);
    let reply = client
        .post(url, "application/timestamp-query", body, MAX_TSA_RESPONSE)
        .map_err(|e| e.to_string())?;
    if reply.status != 200 {
        return Err(format!("HTTP status {}", reply.status));
    }
    let mime = reply.mime();
    if mime != "application/timestamp-reply" && mime != "application/timestamp-response" {
        return Err(format!(
            "answer is not application/timestamp-reply (Content-Type {:?})",
            reply.content_type.chars().take(80).collect::<String>()
        ));
    }
    Ok(reply.body)
}

/// Run `guwah timestamp`.
pub fn run(ctx: &Ctx, args: &TimestampArgs) -> Outcome {
    if let Some(TimestampCommand::Verify { token, data, root }) = &args.command {
        return verify_token(ctx, token, data, root);
    }
    let vault = ctx.open(false)?;
    if let Some(name) = &args.add_tsa {
        let (Some(url), Some(root)) = (&args.url, &args.root) else {
            return Err(Failure {
                exit: Exit::Usage,
                message: "--add-tsa needs --url and --root".into(),
            });
        };
        let certs = std::fs::read(root).map_err(|e| Failure {
            exit: Exit::BadInput,
            message: format!("{}: {e}", root.display()),
        })?;
        let t = vault.add_tsa(name, url, &certs)?;
        if ctx.json {
            print_json(&serde_json::json!({ "added": t.name, "url": t.url }))?;
        } else {
            write_stdout(format!("TSA {} configured: {}\n", t.name, t.url).as_bytes())?;
        }
        return Ok(Exit::Ok);
    }
    let tsas = vault.tsas()?;
    if args.list {
        let size = vault.latest_checkpoint()?.map_or(0, |c| c.size);
        let tokens = vault.timestamp_tokens(size)?;
        if ctx.json {
            let list: Vec<_> = tsas
                .iter()
                .map(|t| serde_json::json!({ "name": t.name, "url": t.url }))
                .collect();
            let names: Vec<_> = tokens.iter().map(|(n, _)| n.clone()).collect();
            print_json(
                &serde_json::json!({ "tsas": list, "checkpoint_size": size, "tokens": names }),
            )?;
        } else {
            for t in &tsas {
                let has = tokens.iter().any(|(n, _)| *n == t.name);
                write_stdout(
                    format!(
                        "{}  {}  {}\n",
                        t.name,
                        t.url,
                        if has {
                            "token for the latest checkpoint"
                        } else {
                            "no token for the latest checkpoint"
                        }
                    )
                    .as_bytes(),
                )?;
            }
        }
        return Ok(Exit::Ok);
    }
    if tsas.is_empty() {
        return Err(Failure {
            exit: Exit::BadInput,
            message: "no TSA configured: add one with `guwah timestamp --add-tsa NAME --url URL --root PEMFILE`".into(),
        });
    }
    let chosen: Vec<_> = if args.tsa.is_empty() {
        tsas
    } else {
        let mut v = Vec::new();
        for n in &args.tsa {
            match tsas.iter().find(|t| t.name == *n || t.url == *n) {
                Some(t) => v.push(t.clone()),
                None => {
                    return Err(Failure {
                        exit: Exit::BadInput,
                        message: format!(
                            "--tsa {n}: no such TSA configured (see `guwah timestamp --list`)"
                        ),
                    });
                }
            }
        }
        v
    };
    let outcomes = vault.timestamp(&chosen, &post_timestamp_query)?;
    let failed = outcomes.iter().filter(|o| o.error.is_some()).count();
    if ctx.json {
        print_json(&serde_json::json!({ "ok": failed == 0, "timestamps": outcomes }))?;
    } else {
        for o in &outcomes {
            match (&o.error, &o.gen_time) {
                (Some(e), _) => eprintln!("guwah: {e}"),
                (None, Some(t)) => write_stdout(
                    format!(
                        "stamped checkpoint {} by {} at {t}{}  ({})\n",
                        o.checkpoint_size,
                        o.tsa,
                        o.accuracy
                            .as_ref()
                            .map(|a| format!(" {a}"))
                            .unwrap_or_default(),
                        o.stored.as_deref().unwrap_or("")
                    )
                    .as_bytes(),
                )?,
                _ => {}
            }
        }
    }
    Ok(if failed == 0 { Exit::Ok } else { Exit::Damaged })
}
