//! Helpers shared by the package's text formats: strict lines, clipped
//! quotes, canonical base64, and their [`FormatError`].

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;

/// A malformed package tag file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {why}")]
pub struct FormatError {
    /// 1-based line (0: the whole file).
    pub line: usize,
    /// What is wrong.
    pub why: String,
}

pub(super) fn ferr(line: usize, why: impl Into<String>) -> FormatError {
    FormatError {
        line,
        why: why.into(),
    }
}

/// Split text into `\n`-terminated lines; refuses non-UTF-8, CR and a
/// missing final newline.
pub(super) fn lines_of(bytes: &[u8]) -> Result<Vec<&str>, FormatError> {
    let text = std::str::from_utf8(bytes).map_err(|_| ferr(0, "not UTF-8"))?;
    if text.contains('\r') {
        return Err(ferr(0, "contains a carriage return (lines end in LF only)"));
    }
    let body = text
        .strip_suffix('\n')
        .ok_or_else(|| ferr(0, "does not end in a newline"))?;
    Ok(body.split('\n').collect())
}

pub(super) fn clip(s: &str) -> String {
    let mut out: String = s.chars().take(80).collect();
    if out.len() < s.len() {
        out.push('…');
    }
    out
}

pub(super) fn b64_32(line: usize, what: &str, s: &str) -> Result<[u8; 32], FormatError> {
    B64.decode(s)
        .ok()
        .and_then(|b| <[u8; 32]>::try_from(b).ok())
        .ok_or_else(|| {
            ferr(
                line,
                format!("{what} {:?} is not 32 bytes of base64", clip(s)),
            )
        })
}

pub(super) fn b64_bytes(line: usize, what: &str, s: &str) -> Result<Vec<u8>, FormatError> {
    let v = B64
        .decode(s)
        .map_err(|_| ferr(line, format!("{what} is not standard base64")))?;
    if B64.encode(&v) != s {
        return Err(ferr(line, format!("{what} is not canonical base64")));
    }
    Ok(v)
}
