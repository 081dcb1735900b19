//! The vault's error type: every message names the thing and what is wrong.

use std::path::PathBuf;

/// What can go wrong in a vault operation.
#[derive(Debug, thiserror::Error)]
pub enum VaultError {
    /// The folder (or backend location) holds no guwah vault.
    #[error("{0}: not a guwah vault (no guwah.vault file); create one with `guwah init`")]
    NotAVault(String),
    /// `init` on a folder (or backend) that already holds something.
    #[error("{0}: already exists and is not empty; choose a new folder for the vault")]
    AlreadyExists(String),
    /// The passphrase does not open the key file.
    #[error("wrong passphrase for {0} (or its key file was altered)")]
    WrongPassphrase(String),
    /// Another guwah process is writing to this vault.
    #[error("{0}: another guwah process is writing to this vault; wait for it to finish")]
    Locked(String),
    /// An input path cannot be added.
    #[error("{path}: {why}")]
    BadInput {
        /// The offending path.
        path: PathBuf,
        /// What is wrong with it.
        why: String,
    },
    /// A user-supplied value is not acceptable.
    #[error("{what}: {why}")]
    BadArgument {
        /// Which argument.
        what: String,
        /// What is wrong.
        why: String,
    },
    /// No item matches, or several do.
    #[error("{0}")]
    UnknownItem(String),
    /// Something stored in the vault is damaged or altered.
    #[error("{thing}: {what}")]
    Damaged {
        /// The damaged file, item or object.
        thing: String,
        /// What is wrong with it.
        what: String,
    },
    /// An I/O error on a named file.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A storage backend error; it names the object.
    #[error(transparent)]
    Store(#[from] guwah_store::StoreError),
}

impl VaultError {
    pub(crate) fn damaged(thing: impl Into<String>, what: impl Into<String>) -> Self {
        VaultError::Damaged {
            thing: thing.into(),
            what: what.into(),
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> VaultError {
        let path = path.into();
        move |source| VaultError::Io { path, source }
    }
}
