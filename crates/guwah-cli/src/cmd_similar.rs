//! `guwah similar` and `guwah duplicates`: copies of the same picture or
//! video (re-encoded, resized, lightly cropped), found by PDQ perceptual
//! hashes kept encrypted in the index. Nothing here recognises people.

use clap::Args;
use guwah_vault::short_id;

use crate::context::{Ctx, Exit, Outcome, print_json, write_stdout};
use crate::term::outln;

/// `guwah similar` options.
#[derive(Debug, Args)]
pub struct SimilarArgs {
    /// The item (id or unique prefix of at least 6 hex digits).
    #[arg(required_unless_present = "pdq", conflicts_with = "pdq")]
    pub id: Option<String>,
    /// Instead of an item, a PDQ hash (64 hex digits) that someone else
    /// computed — another organisation's `guwah show ID --json` gives its
    /// `perceptual_hash` — so two holders find shared evidence by exchanging
    /// hashes, never the pictures. A hash still lets its holder test for a
    /// known picture: share it only with whom you would tell that you hold it.
    #[arg(long, value_name = "HEX", value_parser = parse_pdq)]
    pub pdq: Option<guwah_pdq::Hash256>,
    /// Largest Hamming distance (of 256 bits) still listed; 31 is upstream's
    /// threshold for "the same picture".
    #[arg(long, value_name = "D", default_value_t = 31, value_parser = clap::value_parser!(u32).range(0..=256))]
    pub max_distance: u32,
}

/// `guwah duplicates` options.
#[derive(Debug, Args)]
pub struct DuplicatesArgs {
    /// Largest Hamming distance (of 256 bits) that links two items.
    #[arg(long, value_name = "D", default_value_t = 31, value_parser = clap::value_parser!(u32).range(0..=256))]
    pub max_distance: u32,
}

/// `--pdq HEX`: 64 hex digits.
fn parse_pdq(s: &str) -> Result<guwah_pdq::Hash256, String> {
    guwah_pdq::Hash256::from_hex(s.trim())
        .map_err(|_| format!("{s:?} is not a PDQ hash: give its 64 hex digits"))
}

fn label(filename: &Option<String>, media_type: &str) -> String {
    match filename {
        Some(f) => format!("{f} ({media_type})"),
        None => media_type.to_string(),
    }
}

/// `guwah similar ID`.
pub fn similar(ctx: &Ctx, args: &SimilarArgs) -> Outcome {
    let vault = ctx.open(true)?;
    let (report, query) = match (&args.id, &args.pdq) {
        (Some(id), _) => {
            let report = vault.similar(id, args.max_distance)?;
            let query = short_id(report.id.as_deref().unwrap_or(id)).to_string();
            (report, query)
        }
        (None, Some(h)) => (
            vault.similar_to_hash(h, args.max_distance)?,
            format!("PDQ {h}"),
        ),
        (None, None) => unreachable!("clap requires ID or --pdq"),
    };
    if ctx.json {
        print_json(&report)?;
        return Ok(Exit::Ok);
    }
    let mut out = String::new();
    if report.matches.is_empty() {
        outln!(
            out,
            "no item within {} bits of {query}",
            report.max_distance,
        );
    } else {
        outln!(out, "{:<16}  {:>8}  item", "id", "distance");
        for m in &report.matches {
            let frames = if m.matching_hashes > 1 {
                format!(", {} matching frames", m.matching_hashes)
            } else {
                String::new()
            };
            outln!(
                out,
                "{:<16}  {:>8}  {}{frames}",
                short_id(&m.id),
                m.distance,
                label(&m.filename, &m.media_type)
            );
        }
    }
    write_stdout(out.as_bytes())?;
    for n in &report.notes {
        eprintln!("{}", crate::term::safe(&format!("guwah: note: {n}")));
    }
    Ok(Exit::Ok)
}

/// `guwah duplicates`.
pub fn duplicates(ctx: &Ctx, args: &DuplicatesArgs) -> Outcome {
    let vault = ctx.open(true)?;
    let report = vault.duplicates(args.max_distance)?;
    if ctx.json {
        print_json(&report)?;
        return Ok(Exit::Ok);
    }
    let mut out = String::new();
    if report.clusters.is_empty() {
        outln!(
            out,
            "no near-duplicates within {} bits among {} hashed items",
            report.max_distance,
            report.hashed_items
        );
    }
    for (i, c) in report.clusters.iter().enumerate() {
        outln!(out, "cluster {} ({} items)", i + 1, c.len());
        for item in c {
            outln!(
                out,
                "  {:<16}  {:>3} bits  {}",
                short_id(&item.id),
                item.distance,
                label(&item.filename, &item.media_type)
            );
        }
    }
    write_stdout(out.as_bytes())?;
    for n in &report.notes {
        eprintln!("{}", crate::term::safe(&format!("guwah: note: {n}")));
    }
    Ok(Exit::Ok)
}
