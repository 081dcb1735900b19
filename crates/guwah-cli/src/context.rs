//! What every command shares: the global options, opening the vault, writing
//! to standard output, and the exit codes. Commands depend on this module
//! and never on the command-line syntax (`cli.rs`), so the syntax can name
//! each command's argument types without an import circle.

use std::io::Write;
use std::path::{Path, PathBuf};

use guwah_vault::Vault;
use serde::Serialize;

pub use crate::exit::{Exit, Failure};
use crate::passphrase;

/// What a command returns: how to exit, or why it failed.
pub type Outcome = Result<Exit, Failure>;

/// The global options every command sees.
#[derive(Debug, Clone, Default)]
pub struct Ctx {
    /// `--vault` / `GUWAH_VAULT`.
    pub vault: Option<PathBuf>,
    /// `--passphrase-file`.
    pub passphrase_file: Option<PathBuf>,
    /// `--json`: machine-readable output.
    pub json: bool,
    /// `--quiet`: no progress bars.
    pub quiet: bool,
}

impl Ctx {
    /// The vault folder, or the usage hint when none is given.
    pub fn vault_dir(&self) -> Result<PathBuf, Failure> {
        self.vault.clone().ok_or_else(|| {
            Failure::new(
                Exit::BadInput,
                "no vault given: pass --vault DIR or set GUWAH_VAULT",
            )
        })
    }

    /// Open the vault; with the passphrase (asked only once the folder is
    /// known to be a vault) when the command reads or writes sealed data.
    pub fn open(&self, with_passphrase: bool) -> Result<Vault, Failure> {
        let dir = self.vault_dir()?;
        if with_passphrase {
            Vault::open(&dir, None)?;
            let p = passphrase::get(self.passphrase_file.as_deref(), false)?;
            Ok(Vault::open(&dir, Some(&p))?)
        } else {
            Ok(Vault::open(&dir, None)?)
        }
    }
}

/// Print `value` as pretty JSON, one document and a line break.
pub fn print_json<T: Serialize>(value: &T) -> Result<(), Failure> {
    let mut text = serde_json::to_string_pretty(value)
        .map_err(|e| Failure::new(Exit::Damaged, e.to_string()))?;
    text.push('\n');
    write_stdout(text.as_bytes())
}

/// Write to standard output; a reader that went away (`| head`) ends the
/// program quietly, as in other Unix tools.
pub fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|_| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Failure::new(Exit::Damaged, format!("standard output: {e}"))),
    }
}

/// Replace `path` with `bytes` durably: temporary file beside it, `mode`,
/// fsync, rename, fsync of the folder. A crash leaves the old file or the
/// new one, never half of one.
pub fn replace_file(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    tmp.write_all(bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file()
            .set_permissions(std::fs::Permissions::from_mode(mode))?;
    }
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    if let Ok(d) = std::fs::File::open(dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// `println!` that survives a closed pipe, for one line of text: control
/// and bidi-override characters in it (from file names, fields, notes) are
/// escaped, so no value can hide or forge a line (see `term`).
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::context::write_stdout(
            format!("{}\n", $crate::term::safe(&format!($($arg)*))).as_bytes(),
        )?
    };
}
pub(crate) use say;
