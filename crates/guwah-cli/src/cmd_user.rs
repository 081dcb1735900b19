//! `guwah user ...`: the team server's accounts, kept in the vault (add,
//! list, disable, role, password, token). The rules (names, password
//! length, what each role may do) and the audit record of every change
//! live in `guwah_vault::accounts`; this is the shell: arguments, the
//! password prompt, output.

use std::io::{IsTerminal, Read};
use std::path::{Path, PathBuf};

use clap::Subcommand;
use guwah_vault::{Account, Role};
use serde::Serialize;
use zeroize::Zeroizing;

use crate::context::{Ctx, Exit, Failure, Outcome, print_json, say, write_stdout};
use crate::passphrase::MAX_LINE;
use crate::term::outln;

/// Who the vault's audit records name as having made a change from here.
const BY: &str = "cli";

/// The roles and what each may do, for `--help`.
macro_rules! roles_help {
    () => {
        "Roles:
  admin        accounts, settings and the audit trail; no evidence
  coordinator  everything a reviewer does, plus exports and submissions
  reviewer     read, search, annotate
  collector    submit, and see only their own submissions
  viewer       read-only, never sees sensitive fields"
    };
}

/// Where a password comes from, for `--help`.
macro_rules! password_help {
    () => {
        "The password comes from the first line of --password-file, or is asked twice on a \
terminal; it must be at least 12 characters."
    };
}

/// The roles and what each may do (`guwah user --help`).
pub const ROLES_HELP: &str = roles_help!();

/// `guwah user` subcommands.
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Add an account with a role and a password.
    #[command(after_help = concat!(password_help!(), "\n\n", roles_help!()))]
    Add {
        /// The sign-in name: 1 to 64 of a-z 0-9 . _ -, starting with a letter or digit.
        name: String,
        /// What the account may do: admin, coordinator, reviewer, collector or viewer.
        #[arg(long, value_name = "ROLE")]
        role: String,
        /// Read the password from the first line of this file (instead of a prompt).
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// List the accounts: name, role, active or disabled, when made.
    List,
    /// Disable an account: its sessions and tokens end now; its records keep their meaning.
    Disable {
        /// The account's name.
        name: String,
    },
    /// Give an account another role.
    #[command(after_help = ROLES_HELP)]
    Role {
        /// The account's name.
        name: String,
        /// The new role: admin, coordinator, reviewer, collector or viewer.
        role: String,
    },
    /// Set a new password for an account (its browser sessions end; its tokens stay).
    #[command(after_help = password_help!())]
    Password {
        /// The account's name.
        name: String,
        /// Read the password from the first line of this file (instead of a prompt).
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// Set a second factor (TOTP, RFC 6238) for an account: prints the secret, its otpauth://
    /// URI and ten one-time recovery codes, once; every sign-in then asks for a code.
    Totp {
        /// The account's name.
        name: String,
        /// Remove the account's second factor instead.
        #[arg(long)]
        remove: bool,
    },
    /// Issue an API token for an account, printed once (only its hash is stored).
    #[command(
        after_help = "The token is a bearer credential for the API (Authorization: Bearer gwt_...). \
It is printed on standard output this once: keep it like a password. Disabling the account revokes it."
    )]
    Token {
        /// The account's name.
        name: String,
    },
}

/// Run a `guwah user` subcommand.
pub fn run(ctx: &Ctx, cmd: &UserCommand) -> Outcome {
    match cmd {
        UserCommand::Add {
            name,
            role,
            password_file,
        } => {
            let role = Role::parse(role)?;
            let early = password_early(password_file.as_deref())?;
            let vault = ctx.open(true)?;
            let password = password_late(early, name)?;
            let account = vault.add_account(name, role, &password, BY)?;
            if ctx.json {
                print_json(&account)?;
            } else {
                say!("added {} ({})", account.name, account.role.as_str());
            }
        }
        UserCommand::List => {
            let vault = ctx.open(true)?;
            let accounts = vault.accounts()?;
            if ctx.json {
                print_json(&accounts)?;
            } else {
                write_stdout(table(&accounts)?.as_bytes())?;
            }
        }
        UserCommand::Disable { name } => {
            let vault = ctx.open(true)?;
            vault.disable_account(name, BY)?;
            if ctx.json {
                print_json(&serde_json::json!({ "name": name, "disabled": true }))?;
            } else {
                say!("disabled {name}: its sessions and tokens no longer work");
            }
        }
        UserCommand::Role { name, role } => {
            let role = Role::parse(role)?;
            let vault = ctx.open(true)?;
            vault.set_role(name, role, BY)?;
            if ctx.json {
                print_json(&serde_json::json!({ "name": name, "role": role }))?;
            } else {
                say!("{name} is now {}", role.as_str());
            }
        }
        UserCommand::Password {
            name,
            password_file,
        } => {
            let early = password_early(password_file.as_deref())?;
            let vault = ctx.open(true)?;
            let password = password_late(early, name)?;
            vault.set_password(name, &password, BY)?;
            if ctx.json {
                print_json(&serde_json::json!({ "name": name, "password_changed": true }))?;
            } else {
                say!("new password set for {name}; its browser sessions have ended");
            }
        }
        UserCommand::Totp { name, remove } => {
            let vault = ctx.open(true)?;
            if *remove {
                vault.disable_totp(name, BY)?;
                if ctx.json {
                    print_json(&serde_json::json!({ "name": name, "totp": false }))?;
                } else {
                    say!("removed the second factor of {}", crate::term::safe(name));
                }
                return Ok(Exit::Ok);
            }
            let e = vault.enable_totp(name, BY)?;
            let codes: Vec<&str> = e.recovery_codes.iter().map(|c| c.as_str()).collect();
            let mut out = if ctx.json {
                Zeroizing::new(
                    serde_json::to_string_pretty(&serde_json::json!({
                        "name": name,
                        "secret": e.secret.as_str(),
                        "uri": e.uri.as_str(),
                        "recovery_codes": codes,
                    }))
                    .map_err(|e| Failure::new(Exit::Damaged, e.to_string()))?,
                )
            } else {
                Zeroizing::new(format!(
                    "secret: {}\nuri: {}\nrecovery codes (each works once):\n  {}",
                    e.secret.as_str(),
                    e.uri.as_str(),
                    codes.join("\n  ")
                ))
            };
            out.push('\n');
            write_stdout(out.as_bytes())?;
            eprintln!(
                "guwah: add the secret (or the URI, as a QR code) to an authenticator app and keep the \
recovery codes offline; they are shown only once"
            );
        }
        UserCommand::Token { name } => {
            let vault = ctx.open(true)?;
            let token = vault.issue_token(name, BY)?;
            // Printed from zeroizing buffers only: the token is a credential.
            let mut out = if ctx.json {
                #[derive(Serialize)]
                struct Issued<'a> {
                    name: &'a str,
                    token: &'a str,
                }
                Zeroizing::new(
                    serde_json::to_string_pretty(&Issued {
                        name,
                        token: &token,
                    })
                    .map_err(|e| Failure::new(Exit::Damaged, e.to_string()))?,
                )
            } else {
                Zeroizing::new(token.to_string())
            };
            out.push('\n');
            write_stdout(out.as_bytes())?;
            eprintln!(
                "guwah: this token for {} is shown only once; only its hash is stored",
                crate::term::safe(name)
            );
        }
    }
    Ok(Exit::Ok)
}

/// The accounts as a table: NAME ROLE STATUS CREATED.
fn table(accounts: &[Account]) -> Result<String, Failure> {
    let width = accounts
        .iter()
        .map(|a| a.name.chars().count())
        .chain([4])
        .max()
        .unwrap_or(4);
    let mut out = String::new();
    outln!(
        out,
        "{:<width$}  {:<11}  {:<8}  CREATED",
        "NAME",
        "ROLE",
        "STATUS"
    );
    for a in accounts {
        outln!(
            out,
            "{:<width$}  {:<11}  {:<8}  {}",
            a.name,
            a.role.as_str(),
            if a.disabled { "disabled" } else { "active" },
            rfc3339(a.created_at)?
        );
    }
    Ok(out)
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ`.
fn rfc3339(unix: i64) -> Result<String, Failure> {
    let bad = |e: String| Failure::new(Exit::Damaged, format!("account time {unix}: {e}"));
    time::OffsetDateTime::from_unix_timestamp(unix)
        .map_err(|e| bad(e.to_string()))?
        .format(&time::format_description::well_known::Rfc3339)
        .map_err(|e| bad(e.to_string()))
}

/// What can be known of the password before the vault is opened: the
/// file's line, or (with no file) that a terminal is there to ask on — so
/// a missing file or a pipe fails before the passphrase is asked.
fn password_early(file: Option<&Path>) -> Result<Option<Zeroizing<Vec<u8>>>, Failure> {
    match file {
        Some(f) => Ok(Some(read_first_line(f)?)),
        None if std::io::stdin().is_terminal() => Ok(None),
        None => Err(Failure::new(
            Exit::Usage,
            "no password: pass --password-file FILE, or run in a terminal to be asked",
        )),
    }
}

/// The password: the file's, or asked twice now.
fn password_late(
    early: Option<Zeroizing<Vec<u8>>>,
    name: &str,
) -> Result<Zeroizing<Vec<u8>>, Failure> {
    if let Some(p) = early {
        return Ok(p);
    }
    let cannot = |e: std::io::Error| Failure::new(Exit::Usage, format!("password prompt: {e}"));
    let prompt = format!("New password for {}: ", crate::term::safe(name));
    let first = Zeroizing::new(rpassword::prompt_password(prompt).map_err(cannot)?);
    let again = Zeroizing::new(rpassword::prompt_password("Again, to be sure: ").map_err(cannot)?);
    if *again != *first {
        return Err(Failure::new(
            Exit::BadInput,
            "the two passwords differ; nothing was changed",
        ));
    }
    Ok(Zeroizing::new(first.as_bytes().to_vec()))
}

/// The first line of a password file without its line ending, as
/// `passphrase.rs` reads a passphrase file: at most [`MAX_LINE`] + 1 bytes
/// into one zeroizing buffer that never grows.
fn read_first_line(path: &Path) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let bad = |why: String| {
        Failure::new(
            Exit::BadInput,
            format!("{}: {why}", crate::term::path(path)),
        )
    };
    let cannot = |e: std::io::Error| bad(format!("cannot read the password file: {e}"));
    let mut f = std::fs::File::open(path).map_err(cannot)?;
    let mut buf = Zeroizing::new(vec![0u8; MAX_LINE + 1]);
    let mut filled = 0;
    let end = loop {
        if let Some(i) = buf[..filled].iter().position(|&b| b == b'\n') {
            break i;
        }
        if filled == buf.len() {
            return Err(bad(format!(
                "the password file's first line is longer than {} KiB (is this the right file?)",
                MAX_LINE >> 10
            )));
        }
        match f.read(&mut buf[filled..]) {
            Ok(0) => break filled,
            Ok(n) => filled += n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(cannot(e)),
        }
    };
    let line = &buf[..end];
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    Ok(Zeroizing::new(line.to_vec()))
}
