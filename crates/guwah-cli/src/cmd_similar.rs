//! `guwah similar` and `guwah duplicates`: copies of the same picture or
//! video (re-encoded, resized, lightly cropped), found by PDQ perceptual
//! hashes kept encrypted in the index. Nothing here recognises people.

use clap::Args;
use guwah_vault::short_id;

use crate::Failure;
use crate::cli::Cli;
use crate::commands::{open, print_json, write_stdout};
use crate::term::outln;

/// `guwah similar` options.
#[derive(Debug, Args)]
pub struct SimilarArgs {
    /// The item (id or unique prefix of at least 6 hex digits).
    pub id: String,
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

fn label(filename: &Option<String>, media_type: &str) -> String {
    match filename {
        Some(f) => format!("{f} ({media_type})"),
        None => media_type.to_string(),
    }
}

/// `guwah similar ID`.
pub fn similar(cli: &Cli, args: &SimilarArgs) -> Result<u8, Failure> {
    let vault = open(cli, true)?;
    let report = vault.similar(&args.id, args.max_distance)?;
    if cli.json {
        print_json(&report)?;
        return Ok(0);
    }
    let mut out = String::new();
    if report.matches.is_empty() {
        outln!(
            out,
            "no item within {} bits of {}",
            report.max_distance,
            short_id(&report.id)
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
    Ok(0)
}

/// `guwah duplicates`.
pub fn duplicates(cli: &Cli, args: &DuplicatesArgs) -> Result<u8, Failure> {
    let vault = open(cli, true)?;
    let report = vault.duplicates(args.max_distance)?;
    if cli.json {
        print_json(&report)?;
        return Ok(0);
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
    Ok(0)
}
