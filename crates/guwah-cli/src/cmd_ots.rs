//! `guwah ots ...`: OpenTimestamps proofs, read and replayed by
//! `guwah_core::ots`. Checking the Bitcoin block header itself is out of scope:
//! each attestation's commitment is printed, to compare with the merkle root of
//! the block at the attested height.

use std::io::Read;
use std::path::{Path, PathBuf};

use clap::Subcommand;
use guwah_core::ots::{self, DetachedTimestamp, Timestamp};
use serde_json::{Value, json};

use crate::context::{Ctx, Exit, Failure, Outcome, print_json, write_stdout};

/// `guwah ots` subcommands.
#[derive(Debug, Subcommand)]
pub enum OtsCommand {
    /// Read an .ots proof, replay its operations and report its attestations.
    #[command(
        after_help = "Prints the tree of operations and attestations, and for each \
attestation the message it commits to: for a Bitcoin attestation, the merkle root that the block \
at that height must have (as stored in the header, and byte-reversed as Bitcoin tools display \
it). The block header itself is not checked.\n\n\
Exit 0 when the proof parses and (with --file) the original's digest matches; 1 when the \
original does not match; 3 when the proof is unreadable or invalid."
    )]
    Verify {
        /// The .ots file.
        path: PathBuf,
        /// The original file: its digest must be the one the proof timestamps.
        #[arg(long, value_name = "ORIGINAL")]
        file: Option<PathBuf>,
    },
}

/// Run `guwah ots ...`.
pub fn run(ctx: &Ctx, cmd: &OtsCommand) -> Outcome {
    match cmd {
        OtsCommand::Verify { path, file } => verify(ctx, path, file.as_deref()),
    }
}

fn bad(path: &Path, e: impl std::fmt::Display) -> Failure {
    Failure {
        exit: Exit::BadInput,
        message: format!("{}: {e}", path.display()),
    }
}

/// Reads at most `limit` bytes of a file; larger files are refused.
fn read_limited(path: &Path, limit: usize) -> Result<Vec<u8>, Failure> {
    let f = std::fs::File::open(path).map_err(|e| bad(path, e))?;
    let mut bytes = Vec::new();
    f.take(limit as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| bad(path, e))?;
    if bytes.len() > limit {
        return Err(bad(
            path,
            format!("larger than {limit} bytes: not an .ots proof"),
        ));
    }
    Ok(bytes)
}

/// Streams a file through the proof's hash.
fn hash_file(path: &Path, op: ots::HashOp) -> Result<Vec<u8>, Failure> {
    let mut f = std::fs::File::open(path).map_err(|e| bad(path, e))?;
    let mut h = op.hasher();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        match f.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => h.update(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(bad(path, e)),
        }
    }
    Ok(h.finish())
}

fn verify(ctx: &Ctx, path: &Path, original: Option<&Path>) -> Outcome {
    let bytes = read_limited(path, ots::MAX_PROOF_SIZE)?;
    let proof = DetachedTimestamp::parse(&bytes).map_err(|e| bad(path, e))?;
    let digest = match original {
        Some(p) => Some((p, hash_file(p, proof.file_hash)?)),
        None => None,
    };
    let matches = digest.as_ref().map(|(_, d)| d == proof.file_digest());
    let reports = proof.attestations();
    if ctx.json {
        let atts: Vec<Value> = reports.iter().map(attestation_json).collect();
        let mut out = json!({
            "proof": path,
            "file_hash": proof.file_hash.name(),
            "file_digest": ots::hex(proof.file_digest()),
            "attestations": atts,
            "tree": tree_json(&proof.timestamp),
            "complete": reports.iter().any(|r| r.attestation.kind() != "pending" && r.attestation.kind() != "unknown"),
            "warnings": proof.warnings(),
        });
        if let Some((p, d)) = &digest {
            out["original"] = json!({ "path": p, "digest": ots::hex(d), "matches": matches });
        }
        print_json(&out)?;
    } else {
        let mut text = format!(
            "File {} hash: {}\n",
            proof.file_hash.name(),
            ots::hex(proof.file_digest())
        );
        tree_text(&proof.timestamp, 0, &mut text);
        text.push_str(&format!("\n{} attestation(s):\n", reports.len()));
        for r in &reports {
            text.push_str(&format!("  {}\n", r.attestation));
            match r.attestation {
                ots::Attestation::Bitcoin { .. } | ots::Attestation::Litecoin { .. } => {
                    text.push_str(&format!(
                        "    merkle root (as displayed)  {}\n    merkle root (header bytes)  {}\n",
                        r.commitment.reversed_hex(),
                        r.commitment.hex()
                    ));
                }
                _ => text.push_str(&format!("    commitment  {}\n", r.commitment.hex())),
            }
        }
        text.push_str(
            "The block headers are not checked here: compare each merkle root with the block's.\n",
        );
        for w in proof.warnings() {
            text.push_str(&format!("warning: {w}\n"));
        }
        if let Some((p, d)) = &digest {
            if matches == Some(true) {
                text.push_str(&format!("{}: digest matches the proof\n", p.display()));
            } else {
                text.push_str(&format!(
                    "{}: digest {} does NOT match the proof's {}\n",
                    p.display(),
                    ots::hex(d),
                    ots::hex(proof.file_digest())
                ));
            }
        }
        write_stdout(text.as_bytes())?;
    }
    if matches == Some(false) {
        if !ctx.json {
            eprintln!(
                "guwah: {}: not the file this proof timestamps",
                original
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
            );
        }
        return Ok(Exit::Broken);
    }
    Ok(Exit::Ok)
}

fn attestation_json(r: &ots::AttestationReport) -> Value {
    let mut v = json!({
        "kind": r.attestation.kind(),
        "commitment": r.commitment.hex(),
        "commitment_reversed": r.commitment.reversed_hex(),
        "ops": r.path.len(),
    });
    match &r.attestation {
        ots::Attestation::Bitcoin { height }
        | ots::Attestation::Litecoin { height }
        | ots::Attestation::Ethereum { height } => v["height"] = json!(height),
        ots::Attestation::Pending { uri } => v["uri"] = json!(uri),
        ots::Attestation::Unknown { tag, payload } => {
            v["tag"] = json!(ots::hex(tag));
            v["payload"] = json!(ots::hex(payload));
        }
    }
    v
}

/// The tree as JSON, nesting only at forks (a chain of operations is one `steps` list), so
/// that long proofs stay shallow: `{"steps": [{op, arg, result}], "attestations": [...],
/// "branches": [...]}`, where each branch starts with its own first step.
fn tree_json(t: &Timestamp) -> Value {
    chain_json(Vec::new(), t)
}

fn chain_json(mut steps: Vec<Value>, mut t: &Timestamp) -> Value {
    while t.attestations.is_empty() && t.ops.len() == 1 {
        let (op, child) = &t.ops[0];
        steps.push(step_json(op, child));
        t = child;
    }
    let atts: Vec<Value> = t
        .attestations
        .iter()
        .map(|a| json!({ "kind": a.kind(), "text": a.to_string() }))
        .collect();
    let branches: Vec<Value> = t
        .ops
        .iter()
        .map(|(op, child)| chain_json(vec![step_json(op, child)], child))
        .collect();
    json!({ "steps": steps, "attestations": atts, "branches": branches })
}

fn step_json(op: &ots::Op, child: &Timestamp) -> Value {
    json!({ "op": op.name(), "arg": op.arg().map(ots::hex), "result": ots::hex(&child.msg) })
}

/// The tree as the reference client's `ots info` draws it: a chain of operations stays at
/// one indent; a fork indents each branch under ` -> `.
fn tree_text(t: &Timestamp, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    for a in &t.attestations {
        out.push_str(&format!("{pad}verify {a}\n"));
        if matches!(a, ots::Attestation::Bitcoin { .. }) {
            let c = ots::Commitment(t.msg.clone());
            out.push_str(&format!(
                "{pad}# Bitcoin block merkle root {}\n",
                c.reversed_hex()
            ));
        }
    }
    if t.ops.len() > 1 {
        for (op, child) in &t.ops {
            out.push_str(&format!("{pad} -> {op}\n"));
            tree_text(child, indent + 4, out);
        }
    } else if let Some((op, child)) = t.ops.first() {
        out.push_str(&format!("{pad}{op}\n"));
        tree_text(child, indent, out);
    }
}
