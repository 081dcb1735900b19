//! Where the passphrase comes from: GUWAH_PASSPHRASE, --passphrase-file, or
//! a prompt on the terminal. It is kept in a zeroizing buffer and never
//! printed.

use std::io::IsTerminal;
use std::path::Path;

use zeroize::Zeroizing;

use crate::Failure;

fn missing() -> Failure {
    Failure {
        code: 4,
        message: "no passphrase: set GUWAH_PASSPHRASE, pass --passphrase-file FILE, or run in a terminal to be asked".into(),
    }
}

/// Get the passphrase; `confirm` asks twice on a terminal (for `init`).
pub fn get(file: Option<&Path>, confirm: bool) -> Result<Zeroizing<Vec<u8>>, Failure> {
    if let Some(path) = file {
        let text = Zeroizing::new(std::fs::read(path).map_err(|e| Failure {
            code: 4,
            message: format!("{}: cannot read the passphrase file: {e}", path.display()),
        })?);
        let first = text.split(|&b| b == b'\n').next().unwrap_or_default();
        let first = first.strip_suffix(b"\r").unwrap_or(first);
        if first.is_empty() {
            return Err(Failure {
                code: 4,
                message: format!(
                    "{}: the passphrase file's first line is empty",
                    path.display()
                ),
            });
        }
        return Ok(Zeroizing::new(first.to_vec()));
    }
    if let Some(p) = std::env::var_os("GUWAH_PASSPHRASE") {
        let p = Zeroizing::new(p.into_encoded_bytes());
        if p.is_empty() {
            return Err(Failure {
                code: 4,
                message: "GUWAH_PASSPHRASE is set but empty".into(),
            });
        }
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() && !std::io::stderr().is_terminal() {
        return Err(missing());
    }
    let first =
        Zeroizing::new(rpassword::prompt_password("Vault passphrase: ").map_err(|_| missing())?);
    if first.is_empty() {
        return Err(Failure {
            code: 4,
            message: "the passphrase is empty".into(),
        });
    }
    if confirm {
        let again = Zeroizing::new(
            rpassword::prompt_password("Again, to be sure: ").map_err(|_| missing())?,
        );
        if *again != *first {
            return Err(Failure {
                code: 4,
                message: "the two passphrases differ; nothing was created".into(),
            });
        }
    }
    Ok(Zeroizing::new(first.as_bytes().to_vec()))
}
