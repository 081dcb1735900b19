//! Exit codes, and the failure that carries one: a leaf module, so that
//! every other module (the passphrase prompt included) can fail with one.

use guwah_vault::VaultError;

/// The process exit codes, as `guwah --help` documents them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: success.
    Ok,
    /// 1: a check found something broken (each thing is named).
    Broken,
    /// 2: usage error.
    Usage,
    /// 3: bad input: a file, argument or item id that cannot be used.
    BadInput,
    /// 4: wrong or missing passphrase.
    Passphrase,
    /// 5: the vault is damaged, or an I/O error.
    Damaged,
    /// 6: the vault is busy: another guwah process is writing to it.
    Busy,
    /// 7: the thing cannot be checked (a bag with only unsupported manifests).
    CannotCheck,
}

impl Exit {
    /// The number the process exits with.
    pub fn code(self) -> u8 {
        match self {
            Exit::Ok => 0,
            Exit::Broken => 1,
            Exit::Usage => 2,
            Exit::BadInput => 3,
            Exit::Passphrase => 4,
            Exit::Damaged => 5,
            Exit::Busy => 6,
            Exit::CannotCheck => 7,
        }
    }

    /// `Ok` when `ok`, else `Broken`: the answer of every check.
    pub fn ok_or_broken(ok: bool) -> Exit {
        if ok { Exit::Ok } else { Exit::Broken }
    }
}

/// A failure with its exit code; printed as one line.
#[derive(Debug)]
pub struct Failure {
    /// How the process exits.
    pub exit: Exit,
    /// The one-line message.
    pub message: String,
}

impl Failure {
    /// A failure exiting with `exit`.
    pub fn new(exit: Exit, message: impl Into<String>) -> Failure {
        Failure {
            exit,
            message: message.into(),
        }
    }
}

impl From<VaultError> for Failure {
    fn from(e: VaultError) -> Self {
        let exit = match &e {
            VaultError::BadInput { .. }
            | VaultError::BadArgument { .. }
            | VaultError::UnknownItem(_)
            | VaultError::NotAVault(_)
            | VaultError::AlreadyExists(_) => Exit::BadInput,
            VaultError::WrongPassphrase(_) => Exit::Passphrase,
            VaultError::Locked(_) => Exit::Busy,
            _ => Exit::Damaged,
        };
        Failure::new(exit, e.to_string())
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        Failure::new(Exit::Damaged, format!("{e:#}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_the_documented_ones() {
        let all = [
            Exit::Ok,
            Exit::Broken,
            Exit::Usage,
            Exit::BadInput,
            Exit::Passphrase,
            Exit::Damaged,
            Exit::Busy,
            Exit::CannotCheck,
        ];
        let codes: Vec<u8> = all.iter().map(|e| e.code()).collect();
        assert_eq!(codes, [0, 1, 2, 3, 4, 5, 6, 7]);
        let help = include_str!("cli.rs");
        for code in 0..=7 {
            assert!(
                help.contains(&format!("\n  {code}  ")),
                "exit code {code} is not in --help"
            );
        }
    }

    #[test]
    fn locked_vault_is_busy_and_wrong_passphrase_is_four() {
        let f: Failure = VaultError::Locked("v".into()).into();
        assert_eq!(f.exit, Exit::Busy);
        let f: Failure = VaultError::WrongPassphrase("v".into()).into();
        assert_eq!(f.exit.code(), 4);
    }
}
