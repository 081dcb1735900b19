//! Where the passphrase comes from: GUWAH_PASSPHRASE, --passphrase-file, or
//! a prompt on the terminal. It is kept in a zeroizing buffer and never
//! printed.
//!
//! The two non-interactive sources differ on purpose: `GUWAH_PASSPHRASE` is
//! used exactly as set, every byte; a passphrase file contributes its first
//! line without the line ending (`\n` or `\r\n`), and only the first
//! [`MAX_LINE`] bytes are ever read. So a file holding `secret\n` and
//! `GUWAH_PASSPHRASE=secret` open the same vault, while
//! `GUWAH_PASSPHRASE=$'secret\n'` is another passphrase — which is why `init`
//! and `passwd` refuse a new passphrase holding a line break.

use std::io::{IsTerminal, Read};
use std::path::Path;

use zeroize::Zeroizing;

use crate::exit::{Exit, Failure};

/// The longest passphrase line read from a file (64 KiB): a passphrase is a
/// line of text, and a file without a line break (`/dev/zero`, a video) must
/// not be read into memory whole.
pub const MAX_LINE: usize = 64 << 10;

/// The lowest zxcvbn score (0–4) accepted for a new passphrase: 3 is
/// "safely unguessable" under an offline attack on a slow hash, which is
/// what a seized key file faces (Argon2id).
const MIN_SCORE: u8 = 3;

fn fail(message: impl Into<String>) -> Failure {
    Failure {
        exit: Exit::Passphrase,
        message: message.into(),
    }
}

fn missing(env: &str) -> Failure {
    fail(format!(
        "no passphrase: set {env}, pass a passphrase file, or run in a terminal to be asked"
    ))
}

/// Get the vault's passphrase; `confirm` asks twice on a terminal (for `init`).
pub fn get(file: Option<&Path>, confirm: bool) -> Result<Zeroizing<Vec<u8>>, Failure> {
    get_from(file, "GUWAH_PASSPHRASE", "Vault passphrase: ", confirm)
}

/// Get a new passphrase (for `passwd`): `--new-passphrase-file`,
/// `GUWAH_NEW_PASSPHRASE`, or asked twice on a terminal.
pub fn get_new(file: Option<&Path>) -> Result<Zeroizing<Vec<u8>>, Failure> {
    get_from(file, "GUWAH_NEW_PASSPHRASE", "New passphrase: ", true)
}

fn get_from(
    file: Option<&Path>,
    env: &str,
    prompt: &str,
    confirm: bool,
) -> Result<Zeroizing<Vec<u8>>, Failure> {
    if let Some(path) = file {
        return read_first_line(path);
    }
    if let Some(p) = std::env::var_os(env) {
        let p = Zeroizing::new(p.into_encoded_bytes());
        if p.is_empty() {
            return Err(fail(format!("{env} is set but empty")));
        }
        return Ok(p);
    }
    if !std::io::stdin().is_terminal() && !std::io::stderr().is_terminal() {
        return Err(missing(env));
    }
    let first = Zeroizing::new(rpassword::prompt_password(prompt).map_err(|_| missing(env))?);
    if first.is_empty() {
        return Err(fail("the passphrase is empty"));
    }
    if confirm {
        let again = Zeroizing::new(
            rpassword::prompt_password("Again, to be sure: ").map_err(|_| missing(env))?,
        );
        if *again != *first {
            return Err(fail("the two passphrases differ; nothing was changed"));
        }
    }
    Ok(Zeroizing::new(first.as_bytes().to_vec()))
}

/// The first line of a passphrase file, without its line ending, reading at
/// most [`MAX_LINE`] + 1 bytes into one zeroizing buffer that never grows
/// (a growing `Vec` would leave copies of the passphrase behind).
fn read_first_line(path: &Path) -> Result<Zeroizing<Vec<u8>>, Failure> {
    let cannot = |e: std::io::Error| {
        fail(format!(
            "{}: cannot read the passphrase file: {e}",
            path.display()
        ))
    };
    let mut f = std::fs::File::open(path).map_err(cannot)?;
    let mut buf = Zeroizing::new(vec![0u8; MAX_LINE + 1]);
    let mut filled = 0;
    let end = loop {
        if let Some(i) = buf[..filled].iter().position(|&b| b == b'\n') {
            break i;
        }
        if filled == buf.len() {
            return Err(fail(format!(
                "{}: the passphrase file's first line is longer than {} KiB (is this the right file?)",
                path.display(),
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
    if line.is_empty() {
        return Err(fail(format!(
            "{}: the passphrase file's first line is empty",
            path.display()
        )));
    }
    Ok(Zeroizing::new(line.to_vec()))
}

/// Refuses a new passphrase that an attacker holding the key file could
/// guess (zxcvbn score below [`MIN_SCORE`]), or that holds a line break
/// (it could never be given through a passphrase file). `context` lists
/// words an attacker would try first (the vault's name, its origin).
/// Exit code 3: the passphrase is bad input, not a wrong one.
pub fn check_new(p: &[u8], context: &[&str], allow_weak: bool) -> Result<(), Failure> {
    let bad = |message: String| Failure {
        exit: Exit::BadInput,
        message,
    };
    if p.contains(&b'\n') || p.contains(&b'\r') {
        return Err(bad(
            "the new passphrase holds a line break: it could never be read from a passphrase file, which uses the first line only".into(),
        ));
    }
    if allow_weak {
        return Ok(());
    }
    let text = String::from_utf8_lossy(p);
    let mut inputs = vec!["guwah", "vault", "evidence", "passphrase"];
    inputs.extend_from_slice(context);
    let estimate = zxcvbn::zxcvbn(&text, &inputs);
    let score = u8::from(estimate.score());
    if score >= MIN_SCORE {
        return Ok(());
    }
    let mut msg = format!(
        "the new passphrase is too easy to guess (strength {score} of 4, at least {MIN_SCORE} needed)."
    );
    if let Some(feedback) = estimate.feedback() {
        if let Some(w) = feedback.warning() {
            msg.push_str(&format!(" {}.", w.to_string().trim_end_matches('.')));
        }
        for s in feedback.suggestions() {
            msg.push_str(&format!(" {s}"));
        }
    }
    msg.push_str(
        " A phrase of four or five unrelated words is strong and memorable; \
         --allow-weak-passphrase accepts a weak one anyway (for tests and demos).",
    );
    Err(bad(msg))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_line_only_and_bounded() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("p");
        std::fs::write(&p, b"correct horse\r\nsecond line").unwrap();
        assert_eq!(&read_first_line(&p).unwrap()[..], b"correct horse");
        std::fs::write(&p, b"no newline at all").unwrap();
        assert_eq!(&read_first_line(&p).unwrap()[..], b"no newline at all");
        std::fs::write(&p, vec![b'a'; MAX_LINE]).unwrap();
        assert_eq!(read_first_line(&p).unwrap().len(), MAX_LINE);
        std::fs::write(&p, vec![b'a'; MAX_LINE + 1]).unwrap();
        let e = read_first_line(&p).unwrap_err();
        assert!(e.message.contains("longer than 64 KiB"), "{}", e.message);
        std::fs::write(&p, b"\nsecret").unwrap();
        assert!(read_first_line(&p).unwrap_err().message.contains("empty"));
    }

    #[test]
    fn weak_passphrases_are_refused() {
        for weak in ["a", "password", "guwah2024", "letmein1", "qwertyuiop"] {
            let e = check_new(weak.as_bytes(), &[], false).unwrap_err();
            assert_eq!(e.exit, Exit::BadInput);
            assert!(
                e.message.contains("too easy to guess"),
                "{weak}: {}",
                e.message
            );
        }
        check_new(b"a", &[], true).unwrap();
        check_new(b"copper lantern drifts over quiet salt", &[], false).unwrap();
        assert!(
            check_new(b"copper lantern\ndrifts over quiet salt", &[], true)
                .unwrap_err()
                .message
                .contains("line break")
        );
    }
}
