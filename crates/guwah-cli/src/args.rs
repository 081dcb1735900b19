//! Argument types several commands share.

use clap::Args;

/// `--max-expansion RATIO`: the expansion budget of a .zip read from a stranger.
#[derive(Debug, Clone, Args)]
pub struct ExpansionArgs {
    /// A .zip's entries may declare at most 64 MiB plus RATIO times the zip's own size once
    /// decompressed (a zip-bomb guard). Raise it for a genuine archive that compresses extremely
    /// well; `unlimited` lifts it.
    #[arg(
        long,
        value_name = "RATIO",
        default_value = "100",
        value_parser = parse_max_expansion
    )]
    pub max_expansion: MaxExpansion,
}

/// A parsed `--max-expansion`: a ratio, or `None` for `unlimited`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MaxExpansion(pub Option<u64>);

/// Parse `--max-expansion`: a whole ratio of at least 1, or `unlimited`.
pub fn parse_max_expansion(s: &str) -> Result<MaxExpansion, String> {
    if s.eq_ignore_ascii_case("unlimited") {
        return Ok(MaxExpansion(None));
    }
    match s.parse::<u64>() {
        Ok(n) if n >= 1 => Ok(MaxExpansion(Some(n))),
        _ => Err(format!(
            "{s:?} is not a ratio: give a whole number of at least 1, or `unlimited`"
        )),
    }
}

impl ExpansionArgs {
    /// Zip limits for a bag or package with this budget.
    pub fn zip_limits(&self) -> guwah_package::zip::ZipLimits {
        guwah_package::zip::ZipLimits {
            max_expansion: self.max_expansion.0,
            ..guwah_package::zip::ZipLimits::default()
        }
    }
}
